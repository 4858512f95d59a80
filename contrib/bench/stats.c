/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Latency histogram, medians, and small helpers shared by the benchmark. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "contrib/bench/bench.h"

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    dst->max_ns = MAX(dst->max_ns, src->max_ns);
}

/* Inverse of bench_hist_index(): the lowest value and width of bucket i. */
static void bucket_range(unsigned i, double *lo, double *width)
{
    const unsigned sub = 1u << BENCH_HIST_SUB_BITS;
    if (i < 2 * sub) {
        *lo = i;
        *width = 1;
        return;
    }
    unsigned shift = i / sub - 1;
    unsigned mant = i - shift * sub;  /* in [sub, 2 * sub) */
    *lo = ldexp((double)mant, (int)shift);
    *width = ldexp(1.0, (int)shift);
}

double bench_hist_quantile(const struct bench_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            double lo, width;
            bucket_range(i, &lo, &width);
            double v = lo + width / 2;
            return MIN(v, (double)h->max_ns);
        }
    }
    return (double)h->max_ns;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, unsigned n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

long long bench_pattern_check(const void *buf, size_t len, uint64_t off, uint64_t seed)
{
    const uint64_t *w = buf;
    size_t n = len / 8;
    /* OR-reduce blocks so the common (good) case stays a tight loop; look
     * for the exact word only when a block is bad */
    for (size_t i = 0; i < n; i += 64) {
        size_t end = MIN(n, i + 64);
        uint64_t acc = 0;
        for (size_t k = i; k < end; k++)
            acc |= w[k] ^ ((off + 8 * k) ^ seed);
        if (acc) {
            for (size_t k = i; k < end; k++)
                if (w[k] != ((off + 8 * k) ^ seed))
                    return (long long)(k * 8);
        }
    }
    /* a tail shorter than a word cannot be checked against the pattern:
     * block sizes are multiples of 4 KiB, so there is none */
    return -1;
}

void bench_fail(struct bench_worker *w, int err, bool fatal, const char *fmt, ...)
{
    if (w->res.err)
        return; /* keep the first failure */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->res.msg, sizeof(w->res.msg), fmt, ap);
    va_end(ap);
    w->res.err = err ? err : -EIO;
    w->res.fatal = fatal;
    __atomic_store_n(&w->ctl->failed, 1, __ATOMIC_RELEASE);
}

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bench_cpu_track(struct bench_cpu_track *t, const struct bench_ctl *ctl,
                     struct bench_result *res)
{
    if (t->phase == 2)
        return;
    uint64_t now = clock_now_ns();
    if (t->phase == 0 && now >= __atomic_load_n(&ctl->t_start, __ATOMIC_ACQUIRE)) {
        t->t0 = thread_cpu_ns();
        t->phase = 1;
    }
    if (t->phase == 1 && now >= __atomic_load_n(&ctl->t_end, __ATOMIC_ACQUIRE)) {
        res->client_cpu_ns = thread_cpu_ns() - t->t0;
        t->phase = 2;
    }
}

bool bench_sleep_ms(unsigned ms, const int *stop_flag)
{
    uint64_t end = clock_now_ns() + (uint64_t)ms * 1000000ull;
    for (;;) {
        if (bench_interrupted || (stop_flag && __atomic_load_n(stop_flag, __ATOMIC_ACQUIRE)))
            return false;
        uint64_t now = clock_now_ns();
        if (now >= end)
            return true;
        uint64_t left = MIN(end - now, 20000000ull);
        struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)left };
        nanosleep(&ts, NULL);
    }
}

int bench_mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    if (strlen(path) >= sizeof(buf))
        return -ENAMETOOLONG;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return neg_errno();
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return neg_errno();
    return 0;
}

const char *bench_size_str(uint64_t v, char *buf, size_t size)
{
    static const char units[] = "kmgt";
    if (v == 0) {
        snprintf(buf, size, "0");
        return buf;
    }
    int u = -1;
    while (u < 3 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, size, "%llu", (unsigned long long)v);
    else
        snprintf(buf, size, "%llu%c", (unsigned long long)v, units[u]);
    return buf;
}

int bench_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'b' || *end == 'B')
        end++;
    if (*end)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = (uint64_t)v << shift;
    return 0;
}

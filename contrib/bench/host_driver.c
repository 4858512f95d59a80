/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host contender: the same operations on the same files, issued by the
 * benchmark itself. Depth 1 uses plain syscalls (pread, pwrite, fstatat,
 * fstat, openat/close/unlinkat, getdents64 + fstatat); deeper queues use
 * io_uring (read, write, statx, openat, close, unlinkat), kept full the way
 * the FUSE driver keeps its virtqueue full. readdirplus has no io_uring
 * form (no getdents there) and always runs synchronously, one listing at a
 * time per queue thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "contrib/bench/bench.h"

enum hstep { HS_READ, HS_WRITE, HS_STATX, HS_OPEN, HS_CLOSE, HS_UNLINK };

struct hslot {
    void *buf[2];
    int busy[2];           /* buffer queued for the checker thread (under its lock) */
    unsigned cur;
    enum hstep step;
    uint64_t t_op, off, seed;
    bool write_file;
    int fd;                /* getattr target, or the created file */
    char name[64];
    struct statx stx;
    unsigned index;
    uint64_t serial;
};

struct checker;

struct hdrv {
    struct bench_worker *w;
    const struct bench_cfg *cfg;
    const struct bench_job *job;
    const struct bench_handles *h;
    uint64_t rng;
    uint64_t seq_next, seq_lo, seq_hi;
    struct checker *chk;   /* NULL: reads are checked inline */
};

static uint64_t next_offset(struct hdrv *d, uint64_t file_size)
{
    uint32_t bs = d->job->bs;
    if (bench_wl_infos[d->job->g->wl].seq) {
        uint64_t off = d->seq_next;
        d->seq_next += bs;
        if (d->seq_next + bs > d->seq_hi)
            d->seq_next = d->seq_lo;
        return off;
    }
    return (bench_rng_next(&d->rng) % (file_size / bs)) * bs;
}

static void buf_wait(struct hdrv *d, struct hslot *s, unsigned b);

/* Sets up slot s for its next operation (same choices as the FUSE driver). */
static void start_op(struct hdrv *d, struct hslot *s, uint64_t now)
{
    const struct bench_job *job = d->job;
    enum bench_wl wl = job->g->wl;
    const struct bench_wl_info *info = &bench_wl_infos[wl];

    s->t_op = now;
    if (info->data) {
        buf_wait(d, s, s->cur);
        bool wfile = wl == WL_RANDRW || info->write_pct == 100;
        bool is_write = info->write_pct == 100 ||
                        (info->write_pct && bench_rng_next(&d->rng) % 100 < info->write_pct);
        s->off = next_offset(d, wfile ? job->write_size : job->read_size);
        s->seed = wfile ? d->w->c->write_seed : job->g->read_seed;
        s->write_file = wfile;
        s->step = is_write ? HS_WRITE : HS_READ;
        if (is_write)
            bench_pattern_fill(s->buf[s->cur], job->bs, s->off, s->seed);
        return;
    }
    switch (wl) {
    case WL_LOOKUP:
        bench_file_name((unsigned)(bench_rng_next(&d->rng) % d->cfg->nfiles), s->name,
                        sizeof(s->name));
        s->step = HS_STATX;
        s->fd = -1;
        break;
    case WL_GETATTR:
        s->fd = d->h->attr_fds[bench_rng_next(&d->rng) % d->h->nattr];
        s->name[0] = '\0';
        s->step = HS_STATX;
        break;
    default: /* create-unlink */
        snprintf(s->name, sizeof(s->name), "c%u-%u-%llu", d->w->qi + 1, s->index,
                 (unsigned long long)s->serial++);
        s->step = HS_OPEN;
        break;
    }
}

static int data_fd(const struct hdrv *d, const struct hslot *s)
{
    return s->write_file ? d->h->write_fd : d->h->read_fd;
}

static int check_buf(const struct hdrv *d, const void *buf, uint64_t off, uint64_t seed,
                     bool wfile, char *msg, size_t msglen)
{
    long long bad = bench_pattern_check(buf, d->job->bs, off, seed);
    if (bad < 0)
        return 0;
    uint64_t got;
    memcpy(&got, (const char *)buf + bad, sizeof(got));
    snprintf(msg, msglen,
             "DATA ERROR: read of %s at offset %llu returned wrong data at file offset %llu "
             "(got %016llx, expected %016llx)", wfile ? "its write file" : "read.dat",
             (unsigned long long)off, (unsigned long long)(off + (uint64_t)bad),
             (unsigned long long)got, (unsigned long long)((off + (uint64_t)bad) ^ seed));
    return -EILSEQ;
}

/*
 * Large reads are checked on a helper thread. A daemon contender's data is
 * checked by the benchmark thread while the daemon already copies the next
 * block, so copy and check run on two cores; done on the issuing thread,
 * the host would pay both on one and its "ceiling" would sit below the
 * daemons it is meant to bound. Small reads are checked inline: there the
 * hand-off would cost more than the check.
 */
#define ASYNC_CHECK_MIN (64u << 10)

struct check_job {
    const void *ptr;
    uint64_t off, seed;
    bool wfile;
    int *busy;
};

struct checker {
    struct hdrv *d;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t more, done;
    struct check_job *q;   /* ring of cap jobs, under lock */
    unsigned cap, head, tail;
    bool stop;
    int err;
    char msg[BENCH_NOTE];
};

static void *checker_main(void *arg)
{
    struct checker *k = arg;
    pthread_mutex_lock(&k->lock);
    for (;;) {
        while (k->head == k->tail && !k->stop)
            pthread_cond_wait(&k->more, &k->lock);
        if (k->head == k->tail)
            break;
        struct check_job job = k->q[k->tail % k->cap];
        pthread_mutex_unlock(&k->lock);
        char msg[BENCH_NOTE];
        int r = k->err ? 0 : check_buf(k->d, job.ptr, job.off, job.seed, job.wfile, msg, sizeof(msg));
        pthread_mutex_lock(&k->lock);
        if (r < 0 && !k->err) {
            k->err = r;
            snprintf(k->msg, sizeof(k->msg), "%s", msg);
            __atomic_store_n(&k->d->w->ctl->failed, 1, __ATOMIC_RELEASE);
        }
        *job.busy = 0;
        k->tail++;
        pthread_cond_broadcast(&k->done);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

static int checker_start(struct hdrv *d, struct checker *k, unsigned depth)
{
    memset(k, 0, sizeof(*k));
    k->d = d;
    k->cap = 2 * depth;
    k->q = calloc(k->cap, sizeof(*k->q));
    if (!k->q)
        return -ENOMEM;
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->more, NULL);
    pthread_cond_init(&k->done, NULL);
    if (pthread_create(&k->thread, NULL, checker_main, k) != 0) {
        free(k->q);
        return -EAGAIN;
    }
    d->chk = k;
    return 0;
}

/* Drains and ends the checker; its failure (if any) becomes the worker's. */
static void checker_stop(struct hdrv *d, struct checker *k)
{
    pthread_mutex_lock(&k->lock);
    k->stop = true;
    pthread_cond_signal(&k->more);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    if (k->err)
        bench_fail(d->w, k->err, true, "%s", k->msg);
    pthread_cond_destroy(&k->more);
    pthread_cond_destroy(&k->done);
    pthread_mutex_destroy(&k->lock);
    free(k->q);
    d->chk = NULL;
}

/* Waits until buffer b of slot s is no longer being checked. */
static void buf_wait(struct hdrv *d, struct hslot *s, unsigned b)
{
    struct checker *k = d->chk;
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    while (s->busy[b])
        pthread_cond_wait(&k->done, &k->lock);
    pthread_mutex_unlock(&k->lock);
}

/* A completed read: buffer b of slot s holds the block at off. */
struct done_read {
    struct hslot *s;
    unsigned b;
    uint64_t off, seed;
    bool wfile;
};

/* Checks a completed read now or hands it to the checker thread. */
static int check_read(struct hdrv *d, const struct done_read *x)
{
    struct checker *k = d->chk;
    if (!k) {
        char msg[BENCH_NOTE];
        int r = check_buf(d, x->s->buf[x->b], x->off, x->seed, x->wfile, msg, sizeof(msg));
        if (r < 0)
            bench_fail(d->w, r, true, "%s", msg);
        return r;
    }
    pthread_mutex_lock(&k->lock);
    x->s->busy[x->b] = 1;
    k->q[k->head % k->cap] = (struct check_job){
        .ptr = x->s->buf[x->b], .off = x->off, .seed = x->seed, .wfile = x->wfile,
        .busy = &x->s->busy[x->b],
    };
    k->head++;
    pthread_cond_signal(&k->more);
    pthread_mutex_unlock(&k->lock);
    return 0;
}

/* --- synchronous (depth 1, and readdirplus) ---------------------------------------- */

static int listing(struct hdrv *d, uint64_t *entries)
{
    char buf[32768];
    int fd = openat(d->h->big_dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return neg_errno();
    uint64_t n = 0;
    int r = 0;
    for (;;) {
        ssize_t got = getdents64(fd, buf, sizeof(buf));
        if (got < 0) {
            r = neg_errno();
            break;
        }
        if (got == 0)
            break;
        for (ssize_t pos = 0; pos < got;) {
            struct dirent64 *de = (struct dirent64 *)(buf + pos);
            pos += de->d_reclen;
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            struct stat st;
            if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = neg_errno();
                break;
            }
            n++;
        }
        if (r < 0)
            break;
    }
    close(fd);
    *entries = n;
    return r;
}

static int sync_op(struct hdrv *d, struct hslot *s, uint64_t *entries)
{
    uint32_t bs = d->job->bs;
    struct stat st;
    ssize_t n;

    *entries = 0;
    if (d->job->g->wl == WL_READDIRPLUS)
        return listing(d, entries);
    switch (s->step) {
    case HS_READ:
        n = pread(data_fd(d, s), s->buf[s->cur], bs, (off_t)s->off);
        if (n != (ssize_t)bs)
            return n < 0 ? neg_errno() : -EIO;
        return 0;
    case HS_WRITE:
        n = pwrite(d->h->write_fd, s->buf[s->cur], bs, (off_t)s->off);
        if (n != (ssize_t)bs)
            return n < 0 ? neg_errno() : -EIO;
        return 0;
    case HS_STATX:
        if (s->fd >= 0)
            return fstat(s->fd, &st) < 0 ? neg_errno() : 0;
        return fstatat(d->h->files_dirfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? neg_errno() : 0;
    default: {
        int fd = openat(d->h->cu_dirfd, s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            return neg_errno();
        close(fd);
        return unlinkat(d->h->cu_dirfd, s->name, 0) < 0 ? neg_errno() : 0;
    }
    }
}

static void run_sync(struct hdrv *d, struct hslot *s)
{
    struct bench_worker *w = d->w;
    const struct bench_job *job = d->job;
    bool data = bench_wl_infos[job->g->wl].data;
    struct bench_cpu_track cpu = { 0 };

    while (!bench_stopping(w->ctl)) {
        bench_cpu_track(&cpu, w->ctl, &w->res);
        uint64_t t0 = clock_now_ns();
        start_op(d, s, t0);
        uint64_t entries;
        int r = sync_op(d, s, &entries);
        uint64_t t1 = clock_now_ns();
        if (r < 0) {
            bench_fail(w, r, false, "%s at offset %llu failed: %s",
                       s->step == HS_WRITE ? "pwrite" : s->step == HS_READ ? "pread" : "syscall",
                       (unsigned long long)s->off, strerror(-r));
            return;
        }
        if (job->g->wl == WL_READDIRPLUS && entries != d->cfg->dir_entries) {
            bench_fail(w, -EIO, true, "listing found %llu entries of %u",
                       (unsigned long long)entries, d->cfg->dir_entries);
            return;
        }
        if (bench_in_window(w->ctl, t1)) {
            w->res.ops++;
            w->res.bytes += data ? job->bs : 0;
            w->res.entries += entries;
            bench_hist_add(&w->res.hist, t1 - t0);
        }
        if (s->step == HS_READ) {
            struct done_read x = {
                .s = s, .b = s->cur, .off = s->off, .seed = s->seed, .wfile = s->write_file,
            };
            s->cur ^= 1;
            if (check_read(d, &x) < 0)
                return;
        }
    }
    bench_cpu_track(&cpu, w->ctl, &w->res);
}

/* --- io_uring (depth > 1) ---------------------------------------------------------- */

static void prep(struct hdrv *d, struct io_uring_sqe *sqe, struct hslot *s)
{
    uint32_t bs = d->job->bs;
    switch (s->step) {
    case HS_READ:
        io_uring_prep_read(sqe, data_fd(d, s), s->buf[s->cur], bs, s->off);
        break;
    case HS_WRITE:
        io_uring_prep_write(sqe, d->h->write_fd, s->buf[s->cur], bs, s->off);
        break;
    case HS_STATX:
        if (s->fd >= 0)
            io_uring_prep_statx(sqe, s->fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &s->stx);
        else
            io_uring_prep_statx(sqe, d->h->files_dirfd, s->name, AT_SYMLINK_NOFOLLOW,
                                STATX_BASIC_STATS, &s->stx);
        break;
    case HS_OPEN:
        io_uring_prep_openat(sqe, d->h->cu_dirfd, s->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                             0644);
        break;
    case HS_CLOSE:
        io_uring_prep_close(sqe, s->fd);
        break;
    case HS_UNLINK:
        io_uring_prep_unlinkat(sqe, d->h->cu_dirfd, s->name, 0);
        break;
    }
    io_uring_sqe_set_data(sqe, s);
}

/* 1: operation done, 0: next step queued, < 0: failure (recorded). */
static int uring_step_done(struct hdrv *d, struct hslot *s, int res)
{
    uint32_t bs = d->job->bs;
    static const char *const names[] = {
        [HS_READ] = "read", [HS_WRITE] = "write", [HS_STATX] = "statx",
        [HS_OPEN] = "openat", [HS_CLOSE] = "close", [HS_UNLINK] = "unlinkat",
    };
    if (res < 0) {
        bench_fail(d->w, res, false, "io_uring %s at offset %llu failed: %s", names[s->step],
                   (unsigned long long)s->off, strerror(-res));
        return res;
    }
    switch (s->step) {
    case HS_READ:
    case HS_WRITE:
        if ((uint32_t)res != bs) {
            bench_fail(d->w, -EIO, false, "short io_uring %s at offset %llu: %d of %u bytes",
                       names[s->step], (unsigned long long)s->off, res, bs);
            return -EIO;
        }
        return 1;
    case HS_STATX:
        return 1;
    case HS_OPEN:
        s->fd = res;
        s->step = HS_CLOSE;
        return 0;
    case HS_CLOSE:
        s->step = HS_UNLINK;
        return 0;
    case HS_UNLINK:
        return 1;
    }
    return -EINVAL;
}

static void run_uring(struct hdrv *d, struct hslot *slots)
{
    struct bench_worker *w = d->w;
    const struct bench_job *job = d->job;
    unsigned depth = job->depth;
    bool data = bench_wl_infos[job->g->wl].data;
    struct bench_cpu_track cpu = { 0 };
    struct io_uring ring;
    unsigned inflight = 0;
    _cleanup_free_ struct done_read *checks = calloc(depth, sizeof(*checks));

    if (!checks) {
        bench_fail(w, -ENOMEM, false, "out of memory");
        return;
    }
    int r = io_uring_queue_init(depth, &ring, 0);
    if (r < 0) {
        bench_fail(w, r, false, "io_uring_queue_init(%u): %s", depth, strerror(-r));
        return;
    }
    /* blocking work (a FUSE backing file) is punted to io-wq, whose bounded
     * pool defaults to 4 workers per CPU: let it match the depth */
    unsigned workers[2] = { depth, depth };
    io_uring_register_iowq_max_workers(&ring, workers);

    uint64_t now = clock_now_ns();
    for (unsigned i = 0; i < depth; i++) {
        start_op(d, &slots[i], now);
        prep(d, io_uring_get_sqe(&ring), &slots[i]);
        inflight++;
    }
    io_uring_submit(&ring);

    while (inflight) {
        bench_cpu_track(&cpu, w->ctl, &w->res);
        struct io_uring_cqe *cqe;
        struct __kernel_timespec ts = {
            .tv_sec = d->cfg->timeout_ms / 1000,
            .tv_nsec = (long long)(d->cfg->timeout_ms % 1000) * 1000000,
        };
        r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
        if (r < 0) {
            bench_fail(w, r, false, "io_uring: %s with %u in flight",
                       r == -ETIME ? "no completion in time" : strerror(-r), inflight);
            break;
        }
        now = clock_now_ns();
        bool counted = bench_in_window(w->ctl, now);
        bool stopping = bench_stopping(w->ctl);
        unsigned head, seen = 0, nchecks = 0;
        bool failed = false;
        io_uring_for_each_cqe(&ring, head, cqe) {
            struct hslot *s = io_uring_cqe_get_data(cqe);
            seen++;
            inflight--;
            if (failed)
                continue;
            int sr = uring_step_done(d, s, cqe->res);
            if (sr < 0) {
                failed = true;
                continue;
            }
            if (sr == 1) {
                if (s->step == HS_READ) {
                    checks[nchecks++] = (struct done_read){
                        .s = s, .b = s->cur, .off = s->off, .seed = s->seed, .wfile = s->write_file,
                    };
                    s->cur ^= 1;
                }
                if (counted) {
                    w->res.ops++;
                    w->res.bytes += data ? job->bs : 0;
                    bench_hist_add(&w->res.hist, now - s->t_op);
                }
                if (stopping)
                    continue;
                start_op(d, s, now);
            }
            prep(d, io_uring_get_sqe(&ring), s);
            inflight++;
        }
        io_uring_cq_advance(&ring, seen);
        io_uring_submit(&ring);
        for (unsigned i = 0; i < nchecks; i++)
            if (check_read(d, &checks[i]) < 0)
                failed = true;
        if (failed)
            break;
    }
    bench_cpu_track(&cpu, w->ctl, &w->res);
    /* wait for what is still in flight: the buffers belong to it */
    while (inflight) {
        struct io_uring_cqe *cqe;
        struct __kernel_timespec ts = { .tv_sec = 5 };
        if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts) < 0)
            break;
        struct hslot *s = io_uring_cqe_get_data(cqe);
        if (s->step == HS_OPEN && cqe->res >= 0)
            close(cqe->res);
        io_uring_cqe_seen(&ring, cqe);
        inflight--;
    }
    io_uring_queue_exit(&ring);
}

void *bench_host_worker(void *arg)
{
    struct bench_worker *w = arg;
    const struct bench_job *job = w->job;
    const struct bench_wl_info *info = &bench_wl_infos[job->g->wl];
    struct hdrv d = { .w = w, .cfg = w->cfg, .job = job, .h = &w->c->h };
    unsigned depth = job->depth;

    d.rng = w->cfg->seed ^ ((uint64_t)job->round << 48) ^ ((uint64_t)w->qi << 32) ^ job->depth ^
            ((uint64_t)job->g->wl << 24);
    if (info->seq) {
        uint64_t size = info->write_pct ? job->write_size : job->read_size;
        uint64_t region = size / job->queues / job->bs * job->bs;
        d.seq_lo = d.seq_next = region * w->qi;
        d.seq_hi = d.seq_lo + region;
    }
    struct hslot *slots = calloc(depth, sizeof(*slots));
    if (!slots) {
        bench_fail(w, -ENOMEM, false, "out of memory");
        return NULL;
    }
    for (unsigned i = 0; i < depth; i++) {
        slots[i].index = i;
        slots[i].fd = -1;
        slots[i].serial = (uint64_t)job->round << 40 | (uint64_t)job->depth << 32;
        for (unsigned b = 0; b < 2 && info->data; b++) {
            if (posix_memalign(&slots[i].buf[b], 4096, job->bs)) {
                bench_fail(w, -ENOMEM, false, "out of memory");
                goto out_free;
            }
        }
    }
    struct checker chk;
    bool use_checker = info->data && job->bs >= ASYNC_CHECK_MIN;
    if (use_checker && checker_start(&d, &chk, depth) < 0) {
        bench_fail(w, -EAGAIN, false, "cannot start the checker thread");
        goto out_free;
    }
    if (depth == 1 || job->g->wl == WL_READDIRPLUS)
        run_sync(&d, &slots[0]);
    else
        run_uring(&d, slots);
    if (use_checker)
        checker_stop(&d, &chk);
out_free:
    for (unsigned i = 0; i < depth; i++) {
        free(slots[i].buf[0]);
        free(slots[i].buf[1]);
    }
    free(slots);
    return NULL;
}

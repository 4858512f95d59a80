/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threadpool/executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"
#include "threadpool/pool.h"
#include "threadpool/uring.h"

/* auto: how long the threshold stays at 1 after inline service was slow */
#define SLOW_HOLD_NS (50ull * 1000 * 1000)
/* auto: below this share of slow inline requests, a queue is "quick" */
#define SHARE_ONE 1024u
#define SHARE_QUICK (SHARE_ONE / 4)

struct exec {
    struct exec_config cfg;
    exec_handler_fn *fn;
    void *ctx;
    struct pool *pool;        /* pool and auto modes */

    pthread_mutex_t stats_lock; /* guards totals and the queue list */
    struct exec_stats totals;   /* of freed queues */
    struct exec_queue *queues;
};

struct exec_queue {
    struct exec *e;
    unsigned index;
    enum exec_mode mode;
    struct uring *uring;      /* uring mode */
    unsigned pool_inflight;   /* atomic: requests handed to the pool, not yet finished */
    uint64_t slow_until_ns;   /* atomic: auto uses a threshold of 1 until then */
    uint64_t deep_until_ns;   /* auto, queue thread: slow and two deep lately: threshold 0 */
    bool backlog;             /* auto, queue thread: requests queued up behind a slow inline one */
    unsigned slow_share;      /* auto, queue thread: share of recent inline requests that were
                               * slow, moving average in 1/SHARE_ONE */
    uint64_t pool_slow;       /* atomic, auto: requests that blocked for long on a worker */
    uint64_t pool_quick;      /* atomic, auto: the other ones the pool finished */
    uint64_t seen_slow;       /* auto, queue thread: pool_slow already in slow_share */
    uint64_t seen_quick;      /* auto, queue thread: pool_quick already in slow_share */
    long nivcsw;              /* auto, queue thread: involuntary switches seen at the last slow one */
    struct exec_stats stats;  /* written by the queue thread, read relaxed */
    struct exec_queue *next;  /* stats_lock */
};

const char *exec_mode_name(enum exec_mode mode)
{
    switch (mode) {
    case EXEC_INLINE: return "inline";
    case EXEC_POOL: return "pool";
    case EXEC_AUTO: return "auto";
    case EXEC_URING: return "uring";
    }
    return "?";
}

int exec_mode_parse(const char *s, enum exec_mode *out)
{
    for (enum exec_mode m = EXEC_INLINE; m <= EXEC_URING; m++)
        if (strcasecmp(s, exec_mode_name(m)) == 0) {
            *out = m;
            return 0;
        }
    return -EINVAL;
}

static inline void stat_inc(uint64_t *p, uint64_t v)
{
    /* single writer (the queue thread); relaxed atomics keep readers race-free */
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

/*
 * A pool worker finished a request: it no longer counts toward its queue's
 * depth. In auto mode it is also a sample of the storage: slow only if the
 * worker slept inside it, since on a busy machine a long service time is
 * mostly the worker waiting for a CPU. exec_queue_free() waits for
 * pool_inflight to reach 0, so q lives until the decrement; nothing touches
 * q after it.
 */
static void pool_done(void *owner, bool slow)
{
    struct exec_queue *q = owner;
    if (q->mode == EXEC_AUTO) {
        if (slow) {
            __atomic_add_fetch(&q->pool_slow, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&q->slow_until_ns, clock_now_ns() + SLOW_HOLD_NS, __ATOMIC_RELAXED);
        } else {
            __atomic_add_fetch(&q->pool_quick, 1, __ATOMIC_RELAXED);
        }
    }
    __atomic_sub_fetch(&q->pool_inflight, 1, __ATOMIC_RELEASE);
}

int exec_new(const struct exec_config *cfg, exec_handler_fn *fn, void *ctx, struct exec **out)
{
    struct exec *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cfg = *cfg;
    if (!e->cfg.auto_slow_us)
        e->cfg.auto_slow_us = 30;
    e->fn = fn;
    e->ctx = ctx;
    pthread_mutex_init(&e->stats_lock, NULL);
    if (cfg->mode == EXEC_POOL || cfg->mode == EXEC_AUTO) {
        if (cfg->pool_size == 0) {
            free(e);
            return -EINVAL;
        }
        int r = pool_new(cfg->pool_size, fn, ctx, pool_done,
                         cfg->mode == EXEC_AUTO ? (uint64_t)e->cfg.auto_slow_us * 1000 : 0,
                         &e->pool);
        if (r < 0) {
            free(e);
            return r;
        }
    }
    *out = e;
    return 0;
}

void exec_free(struct exec *e)
{
    if (!e)
        return;
    pool_free(e->pool);
    pthread_mutex_destroy(&e->stats_lock);
    free(e);
}

struct exec_queue *exec_queue_new(struct exec *e, unsigned index, bool inline_only)
{
    struct exec_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->e = e;
    q->index = index;
    q->mode = inline_only ? EXEC_INLINE : e->cfg.mode;
    if (q->mode == EXEC_URING) {
        int r = uring_new(e->cfg.queue_size ? e->cfg.queue_size : 256, &q->uring);
        if (r < 0) {
            log_warn("queue %u: no io_uring (%s); running requests inline", index,
                     strerror(-r));
            q->mode = EXEC_INLINE;
        }
    }
    pthread_mutex_lock(&e->stats_lock);
    q->next = e->queues;
    e->queues = q;
    pthread_mutex_unlock(&e->stats_lock);
    return q;
}

static void stats_add(struct exec_stats *to, const struct exec_stats *from)
{
    for (unsigned i = 0; i < EXEC_DEPTH_BUCKETS; i++)
        to->depth[i] += __atomic_load_n(&from->depth[i], __ATOMIC_RELAXED);
    to->inline_reqs += __atomic_load_n(&from->inline_reqs, __ATOMIC_RELAXED);
    to->pool_reqs += __atomic_load_n(&from->pool_reqs, __ATOMIC_RELAXED);
    to->uring_reqs += __atomic_load_n(&from->uring_reqs, __ATOMIC_RELAXED);
    to->slow_switches += __atomic_load_n(&from->slow_switches, __ATOMIC_RELAXED);
}

void exec_queue_free(struct exec_queue *q)
{
    if (!q)
        return;
    struct exec *e = q->e;
    /* The pool may still be finishing this queue's last requests' bookkeeping. */
    while (__atomic_load_n(&q->pool_inflight, __ATOMIC_ACQUIRE))
        sched_yield();
    uring_free(q->uring);
    pthread_mutex_lock(&e->stats_lock);
    for (struct exec_queue **p = &e->queues; *p; p = &(*p)->next)
        if (*p == q) {
            *p = q->next;
            break;
        }
    stats_add(&e->totals, &q->stats);
    pthread_mutex_unlock(&e->stats_lock);
    free(q);
}

unsigned exec_queue_pool_inflight(const struct exec_queue *q)
{
    return __atomic_load_n(&q->pool_inflight, __ATOMIC_ACQUIRE);
}

static unsigned depth_bucket(unsigned n)
{
    unsigned b = 0;
    while (b < EXEC_DEPTH_BUCKETS - 1 && n > (1u << b))
        b++;
    return b;
}

static void to_pool(struct exec_queue *q, struct req **reqs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        reqs[i]->exec_queue = q;
    __atomic_add_fetch(&q->pool_inflight, n, __ATOMIC_RELAXED);
    unsigned pushed = pool_push(q->e->pool, reqs, n);
    stat_inc(&q->stats.pool_reqs, pushed);
    if (pushed < n) {
        /* The ring is full: the rest runs here. */
        __atomic_sub_fetch(&q->pool_inflight, n - pushed, __ATOMIC_RELAXED);
        stat_inc(&q->stats.inline_reqs, n - pushed);
        for (unsigned i = pushed; i < n; i++)
            q->e->fn(q->e->ctx, reqs[i]);
    }
}

/* auto: one more sample in the moving average of slow requests, weight 1/8:
 * SHARE_ONE for a slow one, 0 for a quick one (or a share, for several). */
static void share_add(struct exec_queue *q, unsigned sample)
{
    q->slow_share = q->slow_share - q->slow_share / 8 + sample / 8;
}

/*
 * auto: the samples the pool took since the last batch join the average,
 * so a queue that runs on the pool still sees its storage turn quick (or
 * slow) without running anything here. Their order is lost: each counts
 * as the share of slow ones among them, and no more than 32 count.
 */
static void share_add_pool(struct exec_queue *q)
{
    uint64_t slow = __atomic_load_n(&q->pool_slow, __ATOMIC_RELAXED) - q->seen_slow;
    uint64_t quick = __atomic_load_n(&q->pool_quick, __ATOMIC_RELAXED) - q->seen_quick;
    q->seen_slow += slow;
    q->seen_quick += quick;
    uint64_t n = slow + quick;
    unsigned sample = n ? (unsigned)(slow * SHARE_ONE / n) : 0;
    for (uint64_t k = MIN(n, 32u); k > 0; k--)
        share_add(q, sample);
}

/*
 * auto: runs one request inline, timed. Slow: the threshold drops for a
 * while. Returns whether it was slow.
 */
static bool auto_inline(struct exec_queue *q, struct req *r)
{
    struct exec *e = q->e;
    uint64_t t0 = clock_now_ns();
    e->fn(e->ctx, r);
    stat_inc(&q->stats.inline_reqs, 1);
    uint64_t now = clock_now_ns();
    bool slow = now - t0 > (uint64_t)e->cfg.auto_slow_us * 1000;
    if (slow) {
        /* Slow, or was the thread preempted? On a machine with more busy
         * threads than CPUs (the pool's own workers among them) a quick
         * request often spans a time slice of someone else; counting that
         * as slow storage would hand everything to the pool, where the
         * contention only grows. Blocking on I/O is a voluntary switch. */
        struct rusage ru;
        if (getrusage(RUSAGE_THREAD, &ru) == 0 && ru.ru_nivcsw != q->nivcsw) {
            q->nivcsw = ru.ru_nivcsw;
            return false;
        }
    }
    share_add(q, slow ? SHARE_ONE : 0);
    if (slow)
        __atomic_store_n(&q->slow_until_ns, now + SLOW_HOLD_NS, __ATOMIC_RELAXED);
    return slow;
}

/* auto: inline while shallow and fast; see the header. */
static void submit_auto(struct exec_queue *q, struct req **reqs, unsigned n)
{
    struct exec *e = q->e;
    share_add_pool(q);
    uint64_t now = clock_now_ns();
    /* Requests that queued up in the ring while a slow one ran inline
     * count as one more: the guest had them in flight together. */
    unsigned depth = n + __atomic_load_n(&q->pool_inflight, __ATOMIC_RELAXED) + q->backlog;
    /* Most recent requests were quick (page-cache reads, attributes): they
     * cost less served one after the other here than handed off, however
     * many wait; the odd slow one still hands off what waits behind it. */
    bool quick = q->slow_share < SHARE_QUICK;
    bool slow = !quick && now < __atomic_load_n(&q->slow_until_ns, __ATOMIC_RELAXED);
    /* Slow storage and a guest keeping two or more in flight: even a lone
     * request goes to the pool, or the next one would wait behind it here.
     * At depth 1 the next request only comes after the completion. */
    if (slow && depth > 1)
        q->deep_until_ns = now + SLOW_HOLD_NS;
    unsigned threshold = !slow ? e->cfg.auto_threshold : now < q->deep_until_ns ? 0 : 1;

    q->backlog = false;
    if (depth > threshold && !quick) {
        to_pool(q, reqs, n);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        struct req *r = reqs[i];
        if (auto_inline(q, r)) {
            /* Storage is slow: what waits behind it runs in parallel instead. */
            if (i + 1 < n) {
                stat_inc(&q->stats.slow_switches, 1);
                to_pool(q, reqs + i + 1, n - i - 1);
                return;
            }
            /* The batch is done, but the guest may have sent more while
             * this one blocked the thread: those are not a new shallow
             * batch, and running them inline one by one would serialize
             * a queue that is two or more deep. */
            if (r->more_waiting && r->more_waiting(r))
                q->backlog = true;
        }
    }
}

void exec_queue_submit(struct exec_queue *q, struct req **reqs, unsigned n)
{
    struct exec *e = q->e;

    stat_inc(&q->stats.depth[depth_bucket(n)], 1);
    switch (q->mode) {
    case EXEC_POOL:
        to_pool(q, reqs, n);
        break;
    case EXEC_AUTO:
        submit_auto(q, reqs, n);
        break;
    case EXEC_URING: {
        const struct req_io_engine *eng = uring_engine(q->uring);
        unsigned before = uring_inflight(q->uring);
        for (unsigned i = 0; i < n; i++) {
            reqs[i]->io = eng;
            e->fn(e->ctx, reqs[i]);
        }
        stat_inc(&q->stats.uring_reqs, uring_inflight(q->uring) - before);
        stat_inc(&q->stats.inline_reqs, n);
        uring_flush(q->uring);
        break;
    }
    default:
        stat_inc(&q->stats.inline_reqs, n);
        for (unsigned i = 0; i < n; i++)
            e->fn(e->ctx, reqs[i]);
        break;
    }
}

int exec_queue_poll_fd(struct exec_queue *q)
{
    return q->uring ? uring_event_fd(q->uring) : -1;
}

void exec_queue_poll(struct exec_queue *q)
{
    if (q->uring)
        uring_reap(q->uring);
}

bool exec_queue_ready(struct exec_queue *q)
{
    return q->uring && uring_ready(q->uring);
}

bool exec_queue_pending(struct exec_queue *q)
{
    return q->uring && uring_inflight(q->uring) > 0;
}

void exec_queue_drain(struct exec_queue *q)
{
    if (q->uring)
        uring_drain(q->uring);
}

void exec_get_stats(struct exec *e, struct exec_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&e->stats_lock);
    stats_add(out, &e->totals);
    for (struct exec_queue *q = e->queues; q; q = q->next)
        stats_add(out, &q->stats);
    pthread_mutex_unlock(&e->stats_lock);
}

void exec_log_stats(struct exec *e)
{
    struct exec_stats st;
    char line[512];
    size_t off = 0;

    exec_get_stats(e, &st);
    for (unsigned i = 0; i < EXEC_DEPTH_BUCKETS; i++) {
        unsigned lo = i == 0 ? 1 : (1u << (i - 1)) + 1;
        int n;
        if (i == EXEC_DEPTH_BUCKETS - 1)
            n = snprintf(line + off, sizeof(line) - off, " >%u:%llu", 1u << (i - 1),
                         (unsigned long long)st.depth[i]);
        else if (lo == (1u << i))
            n = snprintf(line + off, sizeof(line) - off, " %u:%llu", lo,
                         (unsigned long long)st.depth[i]);
        else
            n = snprintf(line + off, sizeof(line) - off, " %u-%u:%llu", lo, 1u << i,
                         (unsigned long long)st.depth[i]);
        if (n < 0 || (size_t)n >= sizeof(line) - off)
            break;
        off += (size_t)n;
    }
    log_info("executor %s (pool %u, auto threshold %u, slow %u us): inline %llu pool %llu "
             "io_uring %llu requests, %llu slow hand-offs",
             exec_mode_name(e->cfg.mode), e->pool ? e->cfg.pool_size : 0, e->cfg.auto_threshold,
             e->cfg.auto_slow_us, (unsigned long long)st.inline_reqs,
             (unsigned long long)st.pool_reqs, (unsigned long long)st.uring_reqs,
             (unsigned long long)st.slow_switches);
    log_info("queue depth (requests per wakeup):%s", line);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threadpool/executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "threadpool/pool.h"

struct exec {
    struct exec_config cfg;
    exec_handler_fn *fn;
    void *ctx;
    struct pool *pool;        /* NULL in inline mode */

    pthread_mutex_t stats_lock; /* guards totals and the queue list */
    struct exec_stats totals;   /* of freed queues */
    struct exec_queue *queues;
};

struct exec_queue {
    struct exec *e;
    unsigned index;
    bool inline_only;
    struct exec_stats stats;  /* written by the queue thread, read relaxed */
    struct exec_queue *next;  /* stats_lock */
};

const char *exec_mode_name(enum exec_mode mode)
{
    switch (mode) {
    case EXEC_INLINE: return "inline";
    case EXEC_POOL: return "pool";
    case EXEC_AUTO: return "auto";
    }
    return "?";
}

int exec_mode_parse(const char *s, enum exec_mode *out)
{
    for (enum exec_mode m = EXEC_INLINE; m <= EXEC_AUTO; m++)
        if (strcasecmp(s, exec_mode_name(m)) == 0) {
            *out = m;
            return 0;
        }
    return -EINVAL;
}

int exec_new(const struct exec_config *cfg, exec_handler_fn *fn, void *ctx, struct exec **out)
{
    struct exec *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->cfg = *cfg;
    e->fn = fn;
    e->ctx = ctx;
    pthread_mutex_init(&e->stats_lock, NULL);
    if (cfg->mode != EXEC_INLINE) {
        if (cfg->pool_size == 0) {
            free(e);
            return -EINVAL;
        }
        int r = pool_new(cfg->pool_size, fn, ctx, &e->pool);
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
    q->inline_only = inline_only || e->cfg.mode == EXEC_INLINE;
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
}

void exec_queue_free(struct exec_queue *q)
{
    if (!q)
        return;
    struct exec *e = q->e;
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

static unsigned depth_bucket(unsigned n)
{
    unsigned b = 0;
    while (b < EXEC_DEPTH_BUCKETS - 1 && n > (1u << b))
        b++;
    return b;
}

static inline void stat_inc(uint64_t *p, uint64_t v)
{
    /* single writer (the queue thread); relaxed atomics keep readers race-free */
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

void exec_queue_submit(struct exec_queue *q, struct req **reqs, unsigned n)
{
    struct exec *e = q->e;
    bool run_inline;

    stat_inc(&q->stats.depth[depth_bucket(n)], 1);
    switch (q->inline_only ? EXEC_INLINE : e->cfg.mode) {
    case EXEC_AUTO:
        run_inline = n <= e->cfg.auto_threshold;
        break;
    case EXEC_POOL:
        run_inline = false;
        break;
    default:
        run_inline = true;
        break;
    }
    if (run_inline) {
        stat_inc(&q->stats.inline_reqs, n);
        for (unsigned i = 0; i < n; i++)
            e->fn(e->ctx, reqs[i]);
    } else {
        stat_inc(&q->stats.pool_reqs, n);
        pool_push(e->pool, reqs, n);
    }
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
    log_info("executor %s (pool %u, auto threshold %u): inline %llu pool %llu requests",
             exec_mode_name(e->cfg.mode), e->cfg.mode == EXEC_INLINE ? 0 : e->cfg.pool_size,
             e->cfg.auto_threshold, (unsigned long long)st.inline_reqs,
             (unsigned long long)st.pool_reqs);
    log_info("queue depth (requests per wakeup):%s", line);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfsd-handoff: what one hand-off from a queue thread to the executor's pool
 * costs, next to running the same request inline and next to a plain
 * mutex + condition variable queue (what a straightforward pool does).
 *
 * The "request" is empty work: the numbers are the hand-off alone.
 *   depth 1: push one request, wait for it, repeat (latency per hand-off);
 *   batch:   push 64 at once, wait for all (throughput per request).
 * Prints medians of several runs.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/request.h"
#include "threadpool/pool.h"

#define BATCH 64
#define RUNS 7

static unsigned done_count; /* atomic */

static void work(void *ctx, struct req *r)
{
    __atomic_add_fetch(&done_count, 1, __ATOMIC_RELEASE);
}

static void wait_done(unsigned want)
{
    while (__atomic_load_n(&done_count, __ATOMIC_ACQUIRE) < want)
        __builtin_ia32_pause();
}

/* --- the baseline: one mutex, one condition variable, a FIFO ----------- */

struct mq {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct req *head, *tail;
    bool stop;
    pthread_t threads[16];
    unsigned n;
};

static void *mq_worker(void *arg)
{
    struct mq *q = arg;
    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stop)
            pthread_cond_wait(&q->cond, &q->lock);
        struct req *r = q->head;
        if (!r)
            break;
        q->head = r->next;
        if (!q->head)
            q->tail = NULL;
        pthread_mutex_unlock(&q->lock);
        work(NULL, r);
        pthread_mutex_lock(&q->lock);
    }
    pthread_mutex_unlock(&q->lock);
    return NULL;
}

static void mq_push(struct mq *q, struct req **r, unsigned n)
{
    pthread_mutex_lock(&q->lock);
    for (unsigned i = 0; i < n; i++) {
        r[i]->next = NULL;
        if (q->tail)
            q->tail->next = r[i];
        else
            q->head = r[i];
        q->tail = r[i];
    }
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

/* --- measurements -------------------------------------------------------- */

enum kind { INLINE, POOL, MUTEX };

static double run(enum kind k, unsigned batch, unsigned iters, struct pool *p, struct mq *q)
{
    static struct req reqs[BATCH];
    struct req *ptrs[BATCH];
    for (unsigned i = 0; i < batch; i++)
        ptrs[i] = &reqs[i];
    __atomic_store_n(&done_count, 0, __ATOMIC_RELAXED);
    uint64_t t0 = clock_now_ns();
    for (unsigned it = 0; it < iters; it++) {
        if (k == INLINE)
            for (unsigned i = 0; i < batch; i++)
                work(NULL, ptrs[i]);
        else if (k == POOL)
            pool_push(p, ptrs, batch);
        else
            mq_push(q, ptrs, batch);
        wait_done((it + 1) * batch);
    }
    return (double)(clock_now_ns() - t0) / ((double)iters * batch);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned workers = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
    struct pool *p;
    struct mq q = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

    if (workers == 0 || workers > 16 || pool_new(workers, work, NULL, NULL, 0, &p) < 0) {
        fprintf(stderr, "usage: vfsd-handoff [WORKERS (1-16, default 4)]\n");
        return 1;
    }
    for (q.n = 0; q.n < workers; q.n++)
        pthread_create(&q.threads[q.n], NULL, mq_worker, &q);

    printf("hand-off cost, %u workers, ns per request (median of %d runs)\n", workers, RUNS);
    printf("%-10s %12s %12s %12s\n", "", "inline", "pool", "mutex+cond");
    for (unsigned batch = 1; batch <= BATCH; batch *= BATCH) {
        double res[3];
        for (enum kind k = INLINE; k <= MUTEX; k++) {
            double v[RUNS];
            for (int i = 0; i < RUNS; i++)
                v[i] = run(k, batch, batch == 1 ? 20000 : 2000, p, &q);
            qsort(v, RUNS, sizeof(v[0]), cmp);
            res[k] = v[RUNS / 2];
        }
        printf("%-10s %12.0f %12.0f %12.0f\n", batch == 1 ? "depth 1" : "batch 64", res[INLINE],
               res[POOL], res[MUTEX]);
    }

    pthread_mutex_lock(&q.lock);
    q.stop = true;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
    for (unsigned i = 0; i < q.n; i++)
        pthread_join(q.threads[i], NULL);
    pool_free(p);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threadpool/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"

#define WORKER_STACK (1u << 20)

struct pool {
    exec_handler_fn *fn;
    void *ctx;
    pthread_mutex_t lock;     /* guards the FIFO, idle and stop */
    pthread_cond_t cond;
    struct req *head, *tail;  /* linked through req->next */
    unsigned idle;
    bool stop;
    unsigned nthreads;
    pthread_t threads[];
};

static void *worker(void *arg)
{
    struct pool *p = arg;

    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stop) {
            p->idle++;
            pthread_cond_wait(&p->cond, &p->lock);
            p->idle--;
        }
        struct req *r = p->head;
        if (!r)
            break; /* stop and nothing left */
        p->head = r->next;
        if (!p->head)
            p->tail = NULL;
        pthread_mutex_unlock(&p->lock);
        p->fn(p->ctx, r);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int pool_new(unsigned nthreads, exec_handler_fn *fn, void *ctx, struct pool **out)
{
    struct pool *p = calloc(1, sizeof(*p) + nthreads * sizeof(pthread_t));
    pthread_attr_t attr;
    if (!p)
        return -ENOMEM;
    p->fn = fn;
    p->ctx = ctx;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    for (unsigned i = 0; i < nthreads; i++) {
        int r = pthread_create(&p->threads[i], &attr, worker, p);
        if (r) {
            log_error("cannot start worker thread: %s", strerror(r));
            pthread_attr_destroy(&attr);
            pool_free(p);
            return -r;
        }
        p->nthreads++;
    }
    pthread_attr_destroy(&attr);
    *out = p;
    return 0;
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p);
}

void pool_push(struct pool *p, struct req **reqs, unsigned n)
{
    if (!n)
        return;
    for (unsigned i = 0; i + 1 < n; i++)
        reqs[i]->next = reqs[i + 1];
    reqs[n - 1]->next = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->tail)
        p->tail->next = reqs[0];
    else
        p->head = reqs[0];
    p->tail = reqs[n - 1];
    unsigned wake = MIN(n, p->idle);
    pthread_mutex_unlock(&p->lock);
    /* Wake as many idle workers as there is work; signalling after unlock
     * keeps the woken thread from blocking on the lock we hold. */
    if (wake >= p->nthreads)
        pthread_cond_broadcast(&p->cond);
    else
        for (unsigned i = 0; i < wake; i++)
            pthread_cond_signal(&p->cond);
}

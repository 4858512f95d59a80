/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The ring is the bounded multi-producer multi-consumer queue where every
 * cell carries a sequence number: a producer may fill cell i when its
 * sequence equals the position it claimed, a consumer may take it when the
 * sequence is one past; positions are claimed with compare-and-swap. No
 * thread ever waits for another inside push or pop.
 */
#include "threadpool/pool.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"

#define RING_SIZE    65536u    /* more than every queue's requests together */
#define WORKER_STACK (1u << 20)
#define SPIN_NS      50000     /* how long the one spinning worker watches the ring */

struct cell {
    size_t seq;               /* atomic */
    struct req *req;
};

struct pool {
    exec_handler_fn *fn;
    void *ctx;
    pool_done_fn *done;
    uint64_t slow_ns;         /* 0: requests are not judged */

    /* Separate cache lines: producers and consumers do not share one. */
    size_t head __attribute__((aligned(64)));  /* atomic: next position to fill */
    size_t tail __attribute__((aligned(64)));  /* atomic: next position to take */
    uint32_t wake_seq __attribute__((aligned(64))); /* atomic: futex word */
    unsigned sleepers;        /* atomic: workers inside (or entering) futex_wait */
    unsigned spinner;         /* atomic: 1 while an idle worker spins on the ring */
    bool stop;                /* atomic */

    struct cell *ring;
    unsigned nthreads;
    pthread_t threads[];
};

static long futex(uint32_t *addr, int op, uint32_t val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static bool ring_push(struct pool *p, struct req *r)
{
    size_t pos = __atomic_load_n(&p->head, __ATOMIC_RELAXED);
    for (;;) {
        struct cell *c = &p->ring[pos & (RING_SIZE - 1)];
        size_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        intptr_t diff = (intptr_t)seq - (intptr_t)pos;
        if (diff == 0) {
            if (__atomic_compare_exchange_n(&p->head, &pos, pos + 1, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                c->req = r;
                /* release: the request is visible before the cell is */
                __atomic_store_n(&c->seq, pos + 1, __ATOMIC_RELEASE);
                return true;
            }
        } else if (diff < 0) {
            return false; /* full */
        } else {
            pos = __atomic_load_n(&p->head, __ATOMIC_RELAXED);
        }
    }
}

static struct req *ring_pop(struct pool *p)
{
    size_t pos = __atomic_load_n(&p->tail, __ATOMIC_RELAXED);
    for (;;) {
        struct cell *c = &p->ring[pos & (RING_SIZE - 1)];
        size_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
        intptr_t diff = (intptr_t)seq - (intptr_t)(pos + 1);
        if (diff == 0) {
            if (__atomic_compare_exchange_n(&p->tail, &pos, pos + 1, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
                struct req *r = c->req;
                /* release: our read of the cell before producers reuse it */
                __atomic_store_n(&c->seq, pos + RING_SIZE, __ATOMIC_RELEASE);
                return r;
            }
        } else if (diff < 0) {
            return NULL; /* empty */
        } else {
            pos = __atomic_load_n(&p->tail, __ATOMIC_RELAXED);
        }
    }
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Wakes up to n sleeping workers; a spinning one will see the work by itself. */
static void wake_workers(struct pool *p, unsigned n)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (n == 1 && __atomic_load_n(&p->spinner, __ATOMIC_RELAXED))
        return;
    unsigned sleeping = __atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST);
    if (sleeping) {
        __atomic_add_fetch(&p->wake_seq, 1, __ATOMIC_RELEASE);
        futex(&p->wake_seq, FUTEX_WAKE_PRIVATE, MIN(n, sleeping));
    }
}

/* Voluntary context switches of the calling thread so far, or -1. */
static long voluntary_switches(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : -1;
}

static void run_one(struct pool *p, struct req *r)
{
    void *owner = r->exec_queue;
    long sw = p->slow_ns ? voluntary_switches() : -1;
    uint64_t t0 = clock_now_ns();
    p->fn(p->ctx, r);
    bool slow = sw >= 0 && clock_now_ns() - t0 > p->slow_ns && voluntary_switches() > sw;
    if (p->done)
        p->done(owner, slow);
}

/*
 * At most one idle worker spins (for SPIN_NS) so that a hand-off at low
 * queue depth finds someone awake; the other idle workers sleep, so an idle
 * pool costs one core for 50 us at most, then nothing.
 */
static struct req *spin_for_work(struct pool *p)
{
    unsigned expected = 0;
    if (!__atomic_compare_exchange_n(&p->spinner, &expected, 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED))
        return NULL;
    struct req *r = NULL;
    uint64_t start = clock_now_ns();
    unsigned i = 0;
    while (!(r = ring_pop(p)) && !__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
        cpu_relax();
        if ((++i & 63) == 0 && clock_now_ns() - start > SPIN_NS)
            break;
    }
    __atomic_store_n(&p->spinner, 0, __ATOMIC_RELEASE);
    /* A producer that pushed between our pop and the store above saw a
     * spinner and woke nobody: what it queued would wait for a worker to
     * finish. Hand it on. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (r && __atomic_load_n(&p->head, __ATOMIC_RELAXED) != __atomic_load_n(&p->tail, __ATOMIC_RELAXED))
        wake_workers(p, 1);
    return r;
}

static void *worker(void *arg)
{
    struct pool *p = arg;

    for (;;) {
        struct req *r = ring_pop(p);
        if (!r)
            r = spin_for_work(p);
        if (r) {
            /* The producer woke as many sleepers as it queued requests. */
            run_one(p, r);
            continue;
        }
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
            break;
        /* Announce the sleep, then look once more: a producer that pushed
         * before seeing us in `sleepers` is caught by this second look, one
         * that pushes after sees us and bumps wake_seq (both fences are full). */
        uint32_t seq = __atomic_load_n(&p->wake_seq, __ATOMIC_ACQUIRE);
        __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        r = ring_pop(p);
        if (!r && !__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
            futex(&p->wake_seq, FUTEX_WAIT_PRIVATE, seq);
        __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
        if (r)
            run_one(p, r);
    }
    return NULL;
}

int pool_new(unsigned nthreads, exec_handler_fn *fn, void *ctx, pool_done_fn *done,
             uint64_t slow_ns, struct pool **out)
{
    struct pool *p = calloc(1, sizeof(*p) + nthreads * sizeof(pthread_t));
    pthread_attr_t attr;
    if (!p)
        return -ENOMEM;
    p->ring = calloc(RING_SIZE, sizeof(*p->ring));
    if (!p->ring) {
        free(p);
        return -ENOMEM;
    }
    for (size_t i = 0; i < RING_SIZE; i++)
        p->ring[i].seq = i;
    p->fn = fn;
    p->ctx = ctx;
    p->done = done;
    p->slow_ns = slow_ns;
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
    __atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
    wake_workers(p, UINT_MAX);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    /* Workers leave only with the ring empty; anything pushed after stop is ours. */
    for (struct req *r; (r = ring_pop(p));)
        run_one(p, r);
    free(p->ring);
    free(p);
}

unsigned pool_push(struct pool *p, struct req **reqs, unsigned n)
{
    unsigned i;
    for (i = 0; i < n; i++)
        if (!ring_push(p, reqs[i]))
            break;
    if (i)
        wake_workers(p, i);
    return i;
}

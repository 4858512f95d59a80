/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the executor runs requests: inline, pool and the auto-switch's
 * decisions (batch depth against the threshold, slow inline service, and
 * requests that queued up behind a slow inline one). A request records the
 * thread that ran it; "slow" requests sleep longer than --auto-slow-us.
 */
#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "threadpool/executor.h"

#define SLOW_US 20000          /* the handler's slow requests */
#define AUTO_SLOW_US 5000      /* what the executor calls slow */

struct treq {
    struct req req;            /* first: the callbacks cast back */
    bool slow;
    bool waiting;              /* what more_waiting() answers */
    pthread_t ran_on;
    int done;                  /* atomic */
};

static void on_done(struct req *r, uint32_t written)
{
    struct treq *t = (struct treq *)r;
    __atomic_add_fetch(&t->done, 1, __ATOMIC_RELEASE);
}

static bool more_waiting(const struct req *r)
{
    return ((const struct treq *)r)->waiting;
}

static void handle(void *ctx, struct req *r)
{
    struct treq *t = (struct treq *)r;
    t->ran_on = pthread_self();
    if (t->slow)
        g_usleep(SLOW_US);
    req_complete(r, 0);
}

static void treq_init(struct treq *t, bool slow, bool waiting)
{
    *t = (struct treq){ .slow = slow, .waiting = waiting };
    t->req.done = on_done;
    t->req.more_waiting = more_waiting;
}

static void wait_done(struct treq *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        for (int ms = 0; !__atomic_load_n(&t[i].done, __ATOMIC_ACQUIRE); ms++) {
            g_assert_cmpint(ms, <, 5000);
            g_usleep(1000);
        }
    for (unsigned i = 0; i < n; i++)
        g_assert_cmpint(t[i].done, ==, 1);
}

static bool ran_here(const struct treq *t)
{
    return pthread_equal(t->ran_on, pthread_self());
}

struct fixture {
    struct exec *e;
    struct exec_queue *q;
};

static void setup(struct fixture *f, enum exec_mode mode)
{
    struct exec_config cfg = {
        .mode = mode,
        .pool_size = 2,
        .auto_threshold = 3,
        .auto_slow_us = AUTO_SLOW_US,
    };
    g_assert_cmpint(exec_new(&cfg, handle, NULL, &f->e), ==, 0);
    f->q = exec_queue_new(f->e, 1, false);
    g_assert_nonnull(f->q);
}

static void teardown(struct fixture *f)
{
    exec_queue_drain(f->q);
    exec_queue_free(f->q);
    exec_free(f->e);
}

static void submit(struct fixture *f, struct treq *t, unsigned n)
{
    struct req *reqs[16];
    g_assert_cmpuint(n, <=, G_N_ELEMENTS(reqs));
    for (unsigned i = 0; i < n; i++)
        reqs[i] = &t[i].req;
    exec_queue_submit(f->q, reqs, n);
    wait_done(t, n);
    /* The pool's bookkeeping follows the completion: the next decision
     * must not see these as still in flight. */
    for (int ms = 0; exec_queue_pool_inflight(f->q); ms++) {
        g_assert_cmpint(ms, <, 5000);
        g_usleep(100);
    }
}

/*
 * Makes the queue one of slow requests: most recent ones slow (a slow
 * request right after the thread was preempted is not trusted, it may
 * have been the preemption, hence several; and enough that a few quick
 * ones on the pool later do not make the queue quick), then waits out the
 * hold.
 */
static void prime(struct fixture *f)
{
    struct treq t;
    for (unsigned i = 0; i < 8; i++) {
        treq_init(&t, true, false);
        submit(f, &t, 1);
    }
    g_usleep(60 * 1000); /* > the executor's 50 ms hold */
}

static void test_inline_and_pool(void)
{
    struct fixture f;
    struct treq t[4];

    setup(&f, EXEC_INLINE);
    for (unsigned i = 0; i < 4; i++)
        treq_init(&t[i], false, false);
    submit(&f, t, 4);
    for (unsigned i = 0; i < 4; i++)
        g_assert_true(ran_here(&t[i]));
    teardown(&f);

    setup(&f, EXEC_POOL);
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_false(ran_here(&t[0]));
    struct exec_stats st;
    exec_get_stats(f.e, &st);
    g_assert_cmpuint(st.pool_reqs, ==, 1);
    g_assert_cmpuint(st.inline_reqs, ==, 0);
    teardown(&f);
}

/*
 * While most requests are quick, even a deep batch runs inline: a hand-off
 * costs more than it saves. Once a good share of them were slow, a batch
 * deeper than the threshold goes to the pool and a shallow one stays.
 */
static void test_auto_depth(void)
{
    struct fixture f;
    struct treq t[4];

    setup(&f, EXEC_AUTO);
    for (unsigned i = 0; i < 4; i++)
        treq_init(&t[i], false, false);
    submit(&f, t, 4);
    for (unsigned i = 0; i < 4; i++)
        g_assert_true(ran_here(&t[i]));

    for (unsigned i = 0; i < 5; i++) {
        treq_init(&t[0], true, false);
        submit(&f, t, 1);
        g_assert_true(ran_here(&t[0]));
    }
    g_usleep(60 * 1000); /* past the hold: the threshold is back at 3 */
    for (unsigned i = 0; i < 4; i++)
        treq_init(&t[i], false, false);
    submit(&f, t, 4);
    for (unsigned i = 0; i < 4; i++)
        g_assert_false(ran_here(&t[i]));
    for (unsigned i = 0; i < 3; i++)
        treq_init(&t[i], false, false);
    submit(&f, t, 3);
    for (unsigned i = 0; i < 3; i++)
        g_assert_true(ran_here(&t[i]));
    teardown(&f);
}

/* A slow inline request hands the rest of its batch to the pool, and the
 * threshold drops to 1: a batch of 2 goes to the pool, a single one stays. */
static void test_auto_slow_batch(void)
{
    struct fixture f;
    struct treq t[3];

    setup(&f, EXEC_AUTO);
    prime(&f);
    treq_init(&t[0], true, false);
    treq_init(&t[1], false, false);
    treq_init(&t[2], false, false);
    submit(&f, t, 3);
    g_assert_true(ran_here(&t[0]));
    g_assert_false(ran_here(&t[1]));
    g_assert_false(ran_here(&t[2]));
    struct exec_stats st;
    exec_get_stats(f.e, &st);
    g_assert_cmpuint(st.slow_switches, ==, 1);

    treq_init(&t[0], false, false);
    treq_init(&t[1], false, false);
    submit(&f, t, 2);
    g_assert_false(ran_here(&t[0]));
    g_assert_false(ran_here(&t[1]));
    /* two deep a moment ago: a lone one goes to the pool as well */
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_false(ran_here(&t[0]));

    /* once the holds ran out, depth 1: inline */
    g_usleep(60 * 1000);
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_true(ran_here(&t[0]));
    teardown(&f);
}

/*
 * Depth 2 on slow storage: while one request blocks the queue thread, the
 * other waits in the ring. Without looking there, each would be popped
 * alone and run inline too, serializing the queue for good.
 */
static void test_auto_backlog(void)
{
    struct fixture f;
    struct treq t[1];

    setup(&f, EXEC_AUTO);
    prime(&f);
    /* slow, and the guest sent another meanwhile */
    treq_init(&t[0], true, true);
    submit(&f, t, 1);
    g_assert_true(ran_here(&t[0]));
    /* the one that waited is popped alone: it goes to the pool */
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_false(ran_here(&t[0]));
    /* the queue was two deep a moment ago: so does the next lone one */
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_false(ran_here(&t[0]));
    /* once the holds ran out, a lone one runs inline again */
    g_usleep(60 * 1000);
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_true(ran_here(&t[0]));

    /* slow with nothing behind it (depth 1): the next one stays inline */
    treq_init(&t[0], true, false);
    submit(&f, t, 1);
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_true(ran_here(&t[0]));

    /* a transport that cannot tell: as before, inline */
    treq_init(&t[0], true, false);
    t[0].req.more_waiting = NULL;
    submit(&f, t, 1);
    treq_init(&t[0], false, false);
    submit(&f, t, 1);
    g_assert_true(ran_here(&t[0]));
    teardown(&f);
}

/*
 * A queue that runs on the pool learns from what the pool sees: slow
 * requests there keep the slow hold, and once its storage turns quick the
 * queue comes back inline without running anything slow here.
 */
static void test_auto_learns_from_pool(void)
{
    struct fixture f;
    struct treq t[4];

    setup(&f, EXEC_AUTO);
    prime(&f);
    for (unsigned i = 0; i < 4; i++)
        treq_init(&t[i], true, false);
    submit(&f, t, 4);
    for (unsigned i = 0; i < 4; i++)
        g_assert_false(ran_here(&t[i]));
    /* prime's hold ran out long ago; the pool's slow requests renewed it,
     * so two in flight go to the pool rather than stay under threshold 3 */
    treq_init(&t[0], false, false);
    treq_init(&t[1], false, false);
    submit(&f, t, 2);
    g_assert_false(ran_here(&t[0]));
    g_assert_false(ran_here(&t[1]));

    /* quick from now on: deep batches go to the pool until the pool's
     * quick samples outweigh the slow ones, then they run here */
    bool back_inline = false;
    for (unsigned round = 0; round < 40 && !back_inline; round++) {
        for (unsigned i = 0; i < 4; i++)
            treq_init(&t[i], false, false);
        submit(&f, t, 4);
        back_inline = ran_here(&t[0]);
    }
    g_assert_true(back_inline);
    teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/executor/inline-and-pool", test_inline_and_pool);
    g_test_add_func("/executor/auto-depth", test_auto_depth);
    g_test_add_func("/executor/auto-slow-batch", test_auto_slow_batch);
    g_test_add_func("/executor/auto-learns-from-pool", test_auto_learns_from_pool);
    g_test_add_func("/executor/auto-backlog", test_auto_backlog);
    return g_test_run();
}

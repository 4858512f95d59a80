/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fixed set of worker threads fed through one lock-free bounded ring.
 * Producers (queue threads) push without a lock or an allocation; idle
 * workers spin briefly, then sleep on a futex that producers touch only
 * when someone sleeps.
 */
#ifndef THREADPOOL_POOL_H
#define THREADPOOL_POOL_H

#include <stdbool.h>

#include "common/request.h"
#include "threadpool/executor.h"

struct pool;

/*
 * Runs after each request on the same worker, with the request's exec_queue
 * as it was before the request ran (the request itself may be reused by then).
 * `slow`: the request took longer than the pool's slow_ns and the worker
 * slept inside it (waited for the device or a lock), as opposed to being
 * preempted; always false when slow_ns is 0.
 */
typedef void pool_done_fn(void *exec_queue, bool slow);

/* slow_ns: see pool_done_fn; judging costs a syscall per request, two per slow one. */
int pool_new(unsigned nthreads, exec_handler_fn *fn, void *ctx, pool_done_fn *done,
             uint64_t slow_ns, struct pool **out);
/* Finishes what is queued, then joins the workers. Accepts NULL. */
void pool_free(struct pool *p);
/*
 * Queues n requests (any thread). Returns how many were queued: fewer only
 * when the ring is full, and the caller runs the rest itself.
 */
unsigned pool_push(struct pool *p, struct req **reqs, unsigned n);

#endif

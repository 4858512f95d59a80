/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixed set of worker threads fed through one FIFO. */
#ifndef THREADPOOL_POOL_H
#define THREADPOOL_POOL_H

#include "common/request.h"
#include "threadpool/executor.h"

struct pool;

int pool_new(unsigned nthreads, exec_handler_fn *fn, void *ctx, struct pool **out);
/* Finishes what is queued, then joins the workers. Accepts NULL. */
void pool_free(struct pool *p);
/* Queues n requests (any thread); no allocation. */
void pool_push(struct pool *p, struct req **reqs, unsigned n);

#endif

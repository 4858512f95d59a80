/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The executor decides where a request runs: inline on the queue thread
 * that popped it, on a worker of the shared pool, or (auto) inline for small
 * batches and on the pool for large ones. It measures queue depth (requests
 * popped per wakeup) per queue.
 */
#ifndef THREADPOOL_EXECUTOR_H
#define THREADPOOL_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "common/request.h"

enum exec_mode {
    EXEC_INLINE,
    EXEC_POOL,
    EXEC_AUTO,
};

struct exec_config {
    enum exec_mode mode;
    unsigned pool_size;       /* worker threads (pool and auto) */
    unsigned auto_threshold;  /* auto: batches up to this size run inline */
};

/* Runs one request to its completion (or hands it to async I/O). Any thread. */
typedef void exec_handler_fn(void *ctx, struct req *req);

struct exec;
struct exec_queue;

/* Starts the workers. Owned by the caller; exec_free() joins them. */
int exec_new(const struct exec_config *cfg, exec_handler_fn *fn, void *ctx, struct exec **out);
void exec_free(struct exec *e);

/* Per-virtqueue state. `inline_only` forces inline (the hiprio queue). */
struct exec_queue *exec_queue_new(struct exec *e, unsigned index, bool inline_only);
/* After every request of the queue completed. Accepts NULL. */
void exec_queue_free(struct exec_queue *q);

/* A batch popped after one wakeup; called on the queue's thread. */
void exec_queue_submit(struct exec_queue *q, struct req **reqs, unsigned n);

const char *exec_mode_name(enum exec_mode mode);
int exec_mode_parse(const char *s, enum exec_mode *out);

/* Batch-size histogram buckets: 1, 2, 3-4, 5-8, ... , 513-1024, >1024 */
#define EXEC_DEPTH_BUCKETS 12
struct exec_stats {
    uint64_t depth[EXEC_DEPTH_BUCKETS];
    uint64_t inline_reqs;
    uint64_t pool_reqs;
};
/* Sums over every queue ever created. */
void exec_get_stats(struct exec *e, struct exec_stats *out);
void exec_log_stats(struct exec *e);

#endif

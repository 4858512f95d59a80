/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The executor decides where a request runs:
 *  - inline: on the queue thread that popped it;
 *  - pool: on a worker of the shared pool;
 *  - auto: inline while the queue is shallow, on the pool when it is deep
 *    (the batch just popped plus what the pool still holds for this queue
 *    exceeds a threshold) unless its recent requests were quick (fewer
 *    than a quarter of them slow: a hand-off would cost more than it
 *    saves), or when inline service is slow (a request that blocks the
 *    queue thread hands the rest of its batch, and what queued up in the
 *    ring meanwhile, to the pool, and the threshold drops to 1 for a
 *    while, to 0 while the guest keeps two or more in flight). Requests the pool runs are samples too: slow when
 *    the worker slept inside them for longer than --auto-slow-us, so a
 *    queue served by the pool follows its storage without running
 *    anything inline;
 *  - uring: inline, but READ/WRITE/FSYNC/FALLOCATE are submitted to an
 *    io_uring owned by the queue thread, one io_uring_enter() per batch,
 *    completions reaped by the same thread: no hand-off at all.
 * It measures queue depth (requests popped per wakeup) per queue.
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
    EXEC_URING,
};

struct exec_config {
    enum exec_mode mode;
    unsigned pool_size;       /* worker threads (pool and auto) */
    unsigned auto_threshold;  /* auto: queue depths up to this run inline */
    unsigned auto_slow_us;    /* auto: an inline request slower than this is "blocking" */
    unsigned queue_size;      /* uring: ring entries per queue (0: 256) */
};

/* Runs one request to its completion (or hands it to async I/O). Any thread. */
typedef void exec_handler_fn(void *ctx, struct req *req);

struct exec;
struct exec_queue;

/* Starts the workers. Owned by the caller; exec_free() joins them. */
int exec_new(const struct exec_config *cfg, exec_handler_fn *fn, void *ctx, struct exec **out);
void exec_free(struct exec *e);

/* Per-virtqueue state (queue thread). `inline_only` forces inline (the hiprio queue). */
struct exec_queue *exec_queue_new(struct exec *e, unsigned index, bool inline_only);
/* After every request of the queue completed (see exec_queue_drain). Accepts NULL. */
void exec_queue_free(struct exec_queue *q);

/* A batch popped after one wakeup; called on the queue's thread. */
void exec_queue_submit(struct exec_queue *q, struct req **reqs, unsigned n);
/* An fd the queue thread must also wait on (-1 if none), and what to do when it fires. */
int exec_queue_poll_fd(struct exec_queue *q);
void exec_queue_poll(struct exec_queue *q);
/* Would exec_queue_poll() find work? (no syscall, for polling) */
bool exec_queue_ready(struct exec_queue *q);
/* Is I/O this queue thread submitted still out (exec_queue_poll() will have work)? */
bool exec_queue_pending(struct exec_queue *q);
/* Requests of this queue handed to the pool and not finished yet. Any thread. */
unsigned exec_queue_pool_inflight(const struct exec_queue *q);
/* Queue thread, before it exits: finishes what this thread itself owes. */
void exec_queue_drain(struct exec_queue *q);

const char *exec_mode_name(enum exec_mode mode);
int exec_mode_parse(const char *s, enum exec_mode *out);

/* Batch-size histogram buckets: 1, 2, 3-4, 5-8, ... , 513-1024, >1024 */
#define EXEC_DEPTH_BUCKETS 12
struct exec_stats {
    uint64_t depth[EXEC_DEPTH_BUCKETS];
    uint64_t inline_reqs;
    uint64_t pool_reqs;
    uint64_t uring_reqs;      /* requests whose I/O went through io_uring */
    uint64_t slow_switches;   /* auto: batches handed off because inline was slow */
};
/* Sums over every queue ever created. */
void exec_get_stats(struct exec *e, struct exec_stats *out);
void exec_log_stats(struct exec *e);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The io_uring engine: one ring per queue thread. The FUSE engine submits
 * READ/WRITE/FSYNC/FALLOCATE through the request's req_io_engine straight on
 * the guest's iovecs; SQEs of one batch go to the kernel in one
 * io_uring_enter(), and completions are reaped by the same queue thread.
 * Not thread-safe: one thread owns a ring.
 */
#ifndef THREADPOOL_URING_H
#define THREADPOOL_URING_H

#include <stdbool.h>

#include "common/request.h"

struct uring;

/* A ring of `entries` SQEs. */
int uring_new(unsigned entries, struct uring **out);
/* Completes everything in flight first. Accepts NULL. */
void uring_free(struct uring *u);

/* The engine to attach to requests (req->io). */
const struct req_io_engine *uring_engine(struct uring *u);
/* Sends what was prepared since the last flush, then reaps what completed. */
void uring_flush(struct uring *u);
/* Readable when completions are waiting. */
int uring_event_fd(struct uring *u);
/* Reaps every completion there is. */
void uring_reap(struct uring *u);
/* Are completions waiting? (no syscall) */
bool uring_ready(struct uring *u);
/* Waits until nothing is in flight. */
void uring_drain(struct uring *u);
/* Operations submitted and not yet completed. */
unsigned uring_inflight(const struct uring *u);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vhost-user backend device: serves one frontend connection, owns guest
 * memory and the virtqueues, runs one thread per started queue and hands
 * popped requests to a queue handler (the executor).
 */
#ifndef VHOST_DEVICE_H
#define VHOST_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/request.h"

/*
 * What the device calls for each queue. start() and stop() run on the
 * message thread; handle() and poll() on that queue's thread. handle() must
 * eventually complete every request it is given (req_complete()).
 */
struct vhu_queue_handler {
    void *(*start)(void *opaque, unsigned queue_index);
    void (*handle)(void *qctx, struct req **reqs, unsigned n);
    /* Optional: an fd the queue thread also waits on; poll() runs when it is readable. */
    int (*poll_fd)(void *qctx);
    void (*poll)(void *qctx);
    /* Optional: on the queue thread as it exits; completes what only it can complete. */
    void (*drain)(void *qctx);
    /* Optional: true when poll() has work, checked without a syscall while polling. */
    bool (*ready)(void *qctx);
    /* Optional: true while I/O this queue thread submitted is still out
     * (poll() will have work soon): the thread may then poll longer. */
    bool (*pending)(void *qctx);
    /* After the queue thread has exited and every request completed. */
    void (*stop)(void *qctx);
    /*
     * Optional: while a queue stops (GET_VRING_BASE, reset, disconnect),
     * after its thread has exited and before waiting for its requests:
     * called on the message thread for each request still in flight, so a
     * request waiting on something outside the daemon (a lock another
     * owner holds) can end now instead of holding up the stop. Called again
     * every few milliseconds for whatever is still in flight.
     */
    void (*cancel)(void *opaque, struct req *req);
    void *opaque;
};

struct vhu_dev_config {
    unsigned max_queues;      /* answer to GET_QUEUE_NUM: hiprio + request queues */
    const char *tag;          /* enables the CONFIG protocol feature; NULL: off */
    unsigned num_request_queues; /* reported in the config space */
    unsigned poll_max_us;     /* longest a queue thread polls its ring before sleeping; 0: never */
    struct vhu_queue_handler handler;
};

struct vhu_dev;

/* Owned by the caller; free with vhu_dev_free(). */
int vhu_dev_new(const struct vhu_dev_config *cfg, struct vhu_dev **out);
void vhu_dev_free(struct vhu_dev *dev);

/*
 * Serves the connected socket `conn_fd` (consumed) until the frontend
 * disconnects (returns 0), a malformed message closes the connection
 * (returns -EPROTO), or `on_event` returns true for a readable `event_fd`
 * (returns 0). On return every queue is stopped and its requests completed.
 * Runs on the calling thread (the message thread).
 */
int vhu_dev_serve(struct vhu_dev *dev, int conn_fd, int event_fd,
                  bool (*on_event)(void *arg), void *arg);

/* Logs queue statistics (any thread). */
void vhu_dev_log_stats(struct vhu_dev *dev);

/*
 * Sends a request on the backend channel (SET_BACKEND_REQ_FD) and, when
 * REPLY_ACK is negotiated, waits for the frontend's answer. Any thread.
 * Returns the frontend's u64 answer as -EIO when non-zero, -ENOTCONN
 * without a channel.
 */
int vhu_dev_backend_request(struct vhu_dev *dev, uint32_t request, const void *payload,
                            uint32_t size, const int *fds, unsigned nfds);

#endif

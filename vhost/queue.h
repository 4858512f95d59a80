/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device queue: the virtqueue plus its kick eventfd and the thread that
 * waits on it, pops batches and hands them to the queue handler.
 * Configuration calls come from the message thread only.
 */
#ifndef VHOST_QUEUE_H
#define VHOST_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vhost/device.h"
#include "vhost/vring.h"

struct vhu_queue {
    struct vq vq;
    const struct vhu_queue_handler *handler;
    struct vhu_dev *dev;

    int kick_fd;              /* message thread; read by the queue thread while running */
    int wake_fd;              /* eventfd: stop, enable and memory changes */
    bool enable_on_start;     /* no PROTOCOL_FEATURES: the ring starts enabled */
    bool event_idx;           /* message thread: negotiated, for the next start */
    bool indirect;            /* message thread: negotiated, for the next start */
    bool enabled;             /* atomic */
    bool stop;                /* atomic: asks the queue thread to exit */
    bool running;             /* message thread: the thread exists */
    bool ring_started;        /* message thread: vq_start() done since the last stop */
    pthread_t thread;
    void *qctx;               /* handler's per-queue context */
    unsigned mem_gen;         /* queue thread: generation of vq.mem */
    uint64_t poll_max_ns;     /* set at init */
    uint64_t poll_ns;         /* the current adaptive polling window: written by the queue
                               * thread (atomic store), read by others atomically */
};

int vhu_queue_init(struct vhu_queue *q, unsigned index, const struct vhu_queue_handler *h,
                   unsigned poll_max_us);
void vhu_queue_done(struct vhu_queue *q);

void vhu_queue_set_features(struct vhu_queue *q, bool event_idx, bool indirect,
                            bool enable_on_start);
int vhu_queue_set_num(struct vhu_queue *q, uint32_t num);
int vhu_queue_set_addr(struct vhu_queue *q, uint64_t desc, uint64_t avail, uint64_t used);
int vhu_queue_set_base(struct vhu_queue *q, uint16_t base);
/* Takes ownership of fd and starts the queue when it is fully configured. */
int vhu_queue_set_kick(struct vhu_queue *q, int fd, struct vhu_dev *dev);
void vhu_queue_set_enabled(struct vhu_queue *q, bool on);
/* Stops the thread, waits for in-flight requests, returns the next avail index. */
uint16_t vhu_queue_stop(struct vhu_queue *q);
void vhu_queue_close_kick(struct vhu_queue *q);
/* Back to the initial state (RESET_DEVICE); must be stopped. */
void vhu_queue_reset(struct vhu_queue *q);
/* Makes the queue thread look at its state again (any thread). */
void vhu_queue_wake(struct vhu_queue *q);

/* Device memory access for queue threads (defined in device.c). */
struct vhu_memmap *vhu_dev_mem_get(struct vhu_dev *dev, unsigned *gen);
unsigned vhu_dev_mem_gen(struct vhu_dev *dev);

#endif

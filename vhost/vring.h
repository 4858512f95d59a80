/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A split virtqueue seen from the device side: pops descriptor chains from
 * the available ring as requests whose iovecs point into guest memory, and
 * returns them on the used ring with EVENT_IDX notification suppression.
 *
 * Threads: the queue thread pops (vq_pop_batch, vq_wait_prepare); any thread
 * may complete a request (vq_req_done, serialized by used_lock); the message
 * thread configures the ring only while the queue thread is stopped.
 */
#ifndef VHOST_VRING_H
#define VHOST_VRING_H

#include <linux/virtio_ring.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/request.h"
#include "vhost/memory.h"

#define VQ_MAX_SIZE     32768u /* virtio's largest split queue */
#define VQ_MAX_SEGS     1024u  /* iovecs in one request, after region splits */
#define VQ_INLINE_SEGS  8u

struct vq;

/* Per-head request state; the head index is the slot. */
struct vq_req {
    struct req req;
    struct vq *vq;
    struct vhu_memmap *mem;   /* reference held while in flight */
    bool inflight;            /* owned by the queue thread at pop, by the completer after */
    uint16_t avail_at_done;   /* atomic: the driver's avail index when it completed */
    unsigned seg_cap;
    struct iovec *segs;       /* readable segments, then writable ones; then as many
                               * again as the request's iov_scratch */
    struct iovec segs_inline[2 * VQ_INLINE_SEGS];
};

/* Counters are atomic (relaxed): the statistics dump reads them from the
 * message thread while the queue is running. */
struct vq_stats {
    uint64_t popped;          /* requests popped (queue thread) */
    uint64_t completed;
    uint64_t notifies;        /* call eventfd writes (under used_lock) */
    uint64_t suppressed;      /* notifications EVENT_IDX saved (under used_lock) */
    uint64_t kicks;           /* wakeups by the kick eventfd (queue thread) */
    uint64_t poll_hits;       /* work found by polling before sleeping (queue thread) */
    uint64_t sleeps;          /* times the queue thread slept in poll() (queue thread) */
};

static inline void vq_stat_add(uint64_t *counter, uint64_t n)
{
    __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

static inline uint64_t vq_stat_get(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

struct vq {
    unsigned index;

    /* Configuration: written by the message thread while stopped. */
    unsigned num;             /* 0 = not configured */
    bool event_idx;           /* completions read it too: vq_set_features() */
    bool indirect;
    uint64_t desc_uaddr, avail_uaddr, used_uaddr;
    bool addr_set;
    uint16_t base;            /* SET_VRING_BASE value */

    /* Running state. */
    struct vhu_memmap *mem;   /* map the ring pointers were translated with (ref) */
    /* Written by the queue thread, under used_lock while it runs; read by
     * completers (avail, used) under used_lock. */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint16_t last_avail;      /* queue thread */
    bool broken;              /* atomic: corrupt ring, waits for a reset */

    pthread_mutex_t used_lock; /* order: taken alone; nothing else held inside */
    pthread_cond_t idle_cond;  /* signalled when inflight drops to 0 */
    uint16_t used_idx;         /* used_lock */
    uint16_t signalled_used;   /* used_lock */
    bool signalled_used_valid; /* used_lock */
    int call_fd;               /* used_lock; -1 none */
    int err_fd;                /* used_lock (written by the message thread) */
    unsigned inflight;         /* used_lock (written), atomic reads */
    bool notify_owed;          /* used_lock: one was due while there was no call eventfd */

    struct vq_req *reqs;       /* [num], allocated at start */
    struct vq_stats stats;

    /*
     * Optional, set once before the first start; runs on the queue thread.
     * vq_pop_batch() calls it after it has seen new requests and before it
     * translates their descriptors, to switch to the newest guest memory
     * map (vq_remap()). A driver uses a memory region only once the map
     * holding it was acknowledged, so a check made after seeing the
     * request cannot be too early; one made before it may be.
     */
    void (*mem_sync)(void *arg);
    void *mem_sync_arg;
};

void vq_init(struct vq *vq, unsigned index);
/* Releases everything the queue owns (queue must be stopped). */
void vq_done(struct vq *vq);

/*
 * Translates the ring addresses with `mem` (taking a reference) and prepares
 * per-head state. Returns -EINVAL if the rings are not inside guest memory
 * or misaligned, -ENOMEM.
 */
int vq_start(struct vq *vq, struct vhu_memmap *mem);
/* Drops ring pointers and the map (no request may be in flight). */
void vq_stop(struct vq *vq);
/* Re-translates the ring pointers with a new map (queue thread, between batches). */
int vq_remap(struct vq *vq, struct vhu_memmap *mem);

/*
 * Pops up to `max` chains into `out`. Returns the number popped (0 when the
 * ring is empty) or -EIO when the ring is corrupt: the queue is then marked
 * broken, logged once, and pops nothing more until restarted.
 */
int vq_pop_batch(struct vq *vq, struct req **out, unsigned max);

/*
 * Before sleeping: re-enables notifications and returns true if more
 * requests arrived meanwhile (then do not sleep).
 */
bool vq_wait_prepare(struct vq *vq);
/* Is a new chain available? (queue thread; no side effects, kicks stay off) */
static inline bool vq_has_avail(struct vq *vq)
{
    return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

/* Suppresses kicks while the queue thread is busy (without EVENT_IDX). */
void vq_kicks_off(struct vq *vq);

/* Blocks until no request is in flight. */
void vq_wait_idle(struct vq *vq);
/* The same for at most `ms` milliseconds; returns whether it is idle. */
bool vq_wait_idle_for(struct vq *vq, unsigned ms);

/* Replaces the error eventfd (takes ownership of fd, -1 for none). Any thread. */
void vq_set_err_fd(struct vq *vq, int fd);
/*
 * Replaces the call eventfd (takes ownership of fd, -1 for none). A
 * notification that was due while the queue had none is sent to the new one.
 */
void vq_set_call_fd(struct vq *vq, int fd);

/*
 * Sets the negotiated ring features. The queue thread must not be running;
 * requests may still be completing on other threads.
 */
void vq_set_features(struct vq *vq, bool event_idx, bool indirect);

#endif

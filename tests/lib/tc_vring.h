/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The driver (guest) side of a split virtqueue, over test-client guest
 * memory: chains of readable and writable segments go into the descriptor
 * table (directly or through an indirect table), heads into the available
 * ring; completions come back through the used ring. Notifications follow
 * VIRTIO_RING_F_EVENT_IDX (avail_event / used_event) when negotiated and the
 * NO_NOTIFY / NO_INTERRUPT flags otherwise.
 *
 * The device under test is not trusted: all chain bookkeeping lives in
 * private memory, and a used entry naming a head that is not in flight, or
 * a used index that runs ahead, is reported (-EIO) and marks the queue
 * broken instead of corrupting the driver state.
 *
 * Threads: a queue is driven by one thread at a time.
 */
#ifndef TESTS_LIB_TC_VRING_H
#define TESTS_LIB_TC_VRING_H

#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

#include "tests/lib/tc_mem.h"

/* A device-readable (write = false) or device-writable piece of a chain. */
struct tc_seg {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

/* tc_vq_init() flags: the negotiated ring features. */
enum {
    TC_VQ_EVENT_IDX = 1 << 0,
    TC_VQ_INDIRECT  = 1 << 1, /* preallocate indirect tables */
};

/* tc_vq_add() flags */
enum {
    TC_VQ_ADD_INDIRECT = 1 << 0, /* put the chain in an indirect table */
};

/* Descriptors per preallocated indirect table; longer chains get a table
 * allocated from guest memory for the time they are in flight. */
#define TC_VQ_INDIRECT_PREALLOC 32

struct tc_vq_slot {
    void *token;
    uint16_t ndesc;     /* descriptors taken from the table */
    uint16_t last;      /* last descriptor of the chain in the table */
    bool busy;
    struct tc_buf ind;  /* indirect table allocated for this chain, if any */
};

struct tc_vq {
    struct tc_mem *mem;
    unsigned index;
    uint16_t num;
    bool event_idx;
    bool broken;          /* the device wrote an impossible used entry */

    /* shared with the device, in the linear view of guest memory */
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    struct tc_buf ring;
    struct tc_buf ind_pool; /* num * TC_VQ_INDIRECT_PREALLOC descriptors */

    int kick_fd;            /* eventfd: driver -> device */
    int call_fd;            /* eventfd: device -> driver */
    int watch_fd;           /* not owned: the device's socket, or -1; a hang-up
                               on it ends waits early */

    /* private driver state */
    uint16_t *next;          /* free-list / chain links, shadow of desc[].next */
    struct tc_vq_slot *slots; /* by head index */
    uint16_t free_head;
    uint16_t num_free;
    uint16_t avail_idx;      /* next free slot in the available ring */
    uint16_t published_idx;  /* avail->idx as last written */
    uint16_t notified_idx;   /* avail->idx at the last notification decision */
    uint16_t last_used;
    uint16_t inflight;
    bool cb_enabled;

    /* statistics */
    uint64_t kicks;
    uint64_t kicks_suppressed;
    uint64_t calls;
};

/*
 * Sets up an empty queue of `num` entries (a power of two, <= 32768) in
 * guest memory with two non-blocking eventfds. Ring memory comes from one
 * region (rings are declared with user addresses). Returns 0 or -errno;
 * on failure nothing is left to undo.
 */
int tc_vq_init(struct tc_vq *vq, struct tc_mem *mem, unsigned index, uint16_t num, unsigned flags);
/* Releases guest memory and eventfds; accepts a zeroed or done queue. */
void tc_vq_done(struct tc_vq *vq);
/* Back to the empty state (ring memory zeroed, nothing in flight), e.g.
 * before restarting the queue at base 0. Keeps the eventfds. */
void tc_vq_reset(struct tc_vq *vq);

/* Size in bytes of each part of a ring of `num` entries. */
static inline uint64_t tc_vring_desc_size(uint16_t num) { return 16ull * num; }
static inline uint64_t tc_vring_avail_size(uint16_t num) { return 6ull + 2ull * num; }
static inline uint64_t tc_vring_used_size(uint16_t num) { return 6ull + 8ull * num; }

/*
 * EVENT_IDX rule: a notification is due when the other side's event index
 * lies in the window of entries published since the last decision,
 * i.e. in [old, new) modulo 2^16.
 */
static inline bool tc_vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* used_event lives after the available ring, avail_event after the used
 * one. Both point into the shared ring, valid while the queue is. */
static inline uint16_t *tc_vq_used_event(struct tc_vq *vq)
{
    return &vq->avail->ring[vq->num];
}

static inline uint16_t *tc_vq_avail_event(struct tc_vq *vq)
{
    return (uint16_t *)&vq->used->ring[vq->num];
}

/*
 * Adds a chain (segs[0..n-1], readable ones first by virtio rules, though
 * this is not enforced so malformed orders can be tested) with `token` as
 * its completion cookie. Not visible to the device until tc_vq_publish()
 * or tc_vq_kick(). Returns the head index, -EINVAL (n == 0 or too long),
 * -ENOSPC (not enough free descriptors), -ENOMEM (indirect table) or -EIO
 * (queue broken).
 */
int tc_vq_add(struct tc_vq *vq, const struct tc_seg *segs, unsigned n, void *token, unsigned flags);
/* Makes added chains visible (stores avail->idx, release ordered). */
void tc_vq_publish(struct tc_vq *vq);
/*
 * Publishes and notifies the device if it asked for it (avail_event with
 * EVENT_IDX, else the used ring's NO_NOTIFY flag). Returns 1 if the kick
 * eventfd was written, 0 if suppressed, -errno if the write failed.
 */
int tc_vq_kick(struct tc_vq *vq);
/* Writes the kick eventfd unconditionally. Returns 0 or -errno. */
int tc_vq_notify(struct tc_vq *vq);

/* True when the device has used entries not reaped yet. */
bool tc_vq_has_used(const struct tc_vq *vq);
/*
 * Reaps one used entry without blocking: 1 with *token and *len filled,
 * 0 when there is none, -EIO when the device wrote an impossible entry
 * (the queue is then broken). With EVENT_IDX and interrupts enabled it
 * moves used_event along so the next completion is signalled.
 */
int tc_vq_get_used(struct tc_vq *vq, void **token, uint32_t *len);
/*
 * Waits until a used entry is pending, sleeping on the call eventfd with
 * interrupts enabled (used_event / NO_INTERRUPT) and re-checking after the
 * full barrier so no completion is missed. timeout_ms < 0 waits forever.
 * Returns 0, -ETIMEDOUT, -EIO (broken), -ECONNRESET (watch_fd hung up
 * with nothing pending) or -errno.
 */
int tc_vq_wait(struct tc_vq *vq, int timeout_ms);
/* Asks the device for (true) or against (false) used-buffer notifications. */
void tc_vq_set_interrupts(struct tc_vq *vq, bool enable);
/* Drains the call eventfd; returns the count read (0 if none). */
uint64_t tc_vq_drain_call(struct tc_vq *vq);

/* --- raw access for malformed-input tests --------------------------------
 * These bypass the chain bookkeeping; combine with care.
 */

/* Descriptor i of the table (i < num), in the shared ring. */
static inline struct vring_desc *tc_vq_raw_desc(struct tc_vq *vq, uint16_t i)
{
    return &vq->desc[i];
}

/*
 * Takes n descriptors off the free list for hand-written chains and stores
 * their indices in idx[]. They are owned by head idx[0] once submitted with
 * tc_vq_raw_submit(idx[0]) and come back when that head is reaped, or are
 * returned with tc_vq_raw_put(). Returns 0 or -ENOSPC.
 */
int tc_vq_raw_take(struct tc_vq *vq, unsigned n, uint16_t *idx);
/* Returns descriptors taken with tc_vq_raw_take() and never submitted. */
void tc_vq_raw_put(struct tc_vq *vq, const uint16_t *idx, unsigned n);
/*
 * Puts `head` into the next available-ring slot, whatever it is (even
 * >= num). If it is a head from tc_vq_raw_take(ids, n), pass n so the
 * descriptors are reclaimed on completion; the ids must then be linked
 * idx[0] -> idx[1] ... as taken. Not published until tc_vq_publish().
 */
void tc_vq_raw_submit(struct tc_vq *vq, uint16_t head, const uint16_t *ids, unsigned n, void *token);
/* Stores an arbitrary avail->idx (e.g. jumping past the ring size). */
void tc_vq_raw_set_avail_idx(struct tc_vq *vq, uint16_t idx);
/* Reaps the next used entry without validating it: 1, or 0 if none. */
int tc_vq_raw_get_used(struct tc_vq *vq, uint32_t *id, uint32_t *len);

#endif

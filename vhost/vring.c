/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vhost/vring.h"

#include <errno.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "virtio 1.0 rings are little endian; add conversions for this host");

static inline uint16_t *avail_event_ptr(struct vq *vq)
{
    return (uint16_t *)&vq->used->ring[vq->num];
}

static inline uint16_t used_event_read(struct vq *vq)
{
    return __atomic_load_n((uint16_t *)&vq->avail->ring[vq->num], __ATOMIC_RELAXED);
}

void vq_init(struct vq *vq, unsigned index)
{
    memset(vq, 0, sizeof(*vq));
    vq->index = index;
    vq->call_fd = -1;
    vq->err_fd = -1;
    pthread_mutex_init(&vq->used_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* vq_wait_idle_for() measures its timeout on this clock. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vq->idle_cond, &ca);
    pthread_condattr_destroy(&ca);
}

static void reqs_free(struct vq *vq)
{
    if (!vq->reqs)
        return;
    for (unsigned i = 0; i < vq->num; i++)
        if (vq->reqs[i].segs != vq->reqs[i].segs_inline)
            free(vq->reqs[i].segs);
    free(vq->reqs);
    vq->reqs = NULL;
}

void vq_done(struct vq *vq)
{
    vq_stop(vq);
    if (vq->call_fd >= 0)
        close(vq->call_fd);
    if (vq->err_fd >= 0)
        close(vq->err_fd);
    vq->call_fd = vq->err_fd = -1;
    pthread_mutex_destroy(&vq->used_lock);
    pthread_cond_destroy(&vq->idle_cond);
}

static void req_done_cb(struct req *r, uint32_t written);

/*
 * Were chains waiting to be popped when r completed? Asked on the queue
 * thread after r completed there: nothing was popped in between. What the
 * driver added after the completion (its answer to it) does not count.
 */
static bool req_more_waiting(const struct req *r)
{
    const struct vq_req *q = r->transport;
    /* atomic: a request that has not completed after all (it waits on
     * another thread) gives a stale answer, never a torn one */
    return __atomic_load_n(&q->avail_at_done, __ATOMIC_RELAXED) != q->vq->last_avail;
}

struct rings {
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
};

/* Ring sizes per the split-ring layout, EVENT_IDX fields included. */
static int translate_rings(const struct vq *vq, struct vhu_memmap *mem, struct rings *out)
{
    uint64_t n = vq->num;
    struct vring_desc *desc = vhu_memmap_uaddr_range(mem, vq->desc_uaddr, 16 * n);
    struct vring_avail *avail = vhu_memmap_uaddr_range(mem, vq->avail_uaddr, 6 + 2 * n);
    struct vring_used *used = vhu_memmap_uaddr_range(mem, vq->used_uaddr, 6 + 8 * n);

    if (!desc || !avail || !used)
        return -EINVAL;
    if (((uintptr_t)desc & 15) || ((uintptr_t)avail & 1) || ((uintptr_t)used & 3))
        return -EINVAL;
    *out = (struct rings){ .desc = desc, .avail = avail, .used = used };
    return 0;
}

int vq_start(struct vq *vq, struct vhu_memmap *mem)
{
    struct rings rings;
    if (!vq->num || !vq->addr_set)
        return -EINVAL;
    int r = translate_rings(vq, mem, &rings);
    if (r < 0)
        return r;
    /* Stopped: no completer can be looking at the rings. */
    vq->desc = rings.desc;
    vq->avail = rings.avail;
    vq->used = rings.used;

    reqs_free(vq);
    vq->reqs = calloc(vq->num, sizeof(*vq->reqs));
    if (!vq->reqs)
        return -ENOMEM;
    for (unsigned i = 0; i < vq->num; i++) {
        struct vq_req *q = &vq->reqs[i];
        q->vq = vq;
        q->segs = q->segs_inline;
        q->seg_cap = VQ_INLINE_SEGS;
        q->req.done = req_done_cb;
        q->req.more_waiting = req_more_waiting;
        q->req.transport = q;
        q->req.slot = i;
    }
    vq->mem = vhu_memmap_ref(mem);
    vq->last_avail = vq->base;
    /* The used index continues from what the driver last saw. */
    vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
    vq->signalled_used_valid = false;
    vq->notify_owed = false;
    __atomic_store_n(&vq->broken, false, __ATOMIC_RELAXED);
    vq->inflight = 0;
    return 0;
}

void vq_stop(struct vq *vq)
{
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
    vq->mem = vhu_memmap_unref(vq->mem);
    reqs_free(vq);
}

int vq_remap(struct vq *vq, struct vhu_memmap *mem)
{
    struct rings rings;
    int r = translate_rings(vq, mem, &rings);
    if (r < 0)
        return r;
    /* Completions on other threads read avail (used_event, flags) and used
     * under used_lock: switch the pointers there. */
    pthread_mutex_lock(&vq->used_lock);
    vq->desc = rings.desc;
    vq->avail = rings.avail;
    vq->used = rings.used;
    pthread_mutex_unlock(&vq->used_lock);
    vhu_memmap_unref(vq->mem);
    vq->mem = vhu_memmap_ref(mem);
    return 0;
}

static void mark_broken(struct vq *vq, const char *why, unsigned head)
{
    if (!__atomic_exchange_n(&vq->broken, true, __ATOMIC_RELAXED)) {
        log_error("queue %u: %s (head %u); the queue is stopped until the frontend resets it",
                  vq->index, why, head);
        /* used_lock: SET_VRING_ERR may replace (and close) the fd meanwhile */
        pthread_mutex_lock(&vq->used_lock);
        if (vq->err_fd >= 0) {
            uint64_t one = 1;
            if (write(vq->err_fd, &one, sizeof(one)) < 0)
                log_debug("queue %u: error eventfd write failed: %d", vq->index, errno);
        }
        pthread_mutex_unlock(&vq->used_lock);
    }
}

/* Appends the guest range [addr, addr+len) to q's segments, split at region ends. */
static int add_segs(struct vq_req *q, const struct vhu_memmap *mem, unsigned *nsegs,
                    uint64_t addr, uint32_t len)
{
    while (len > 0) {
        uint64_t contig;
        void *p = vhu_memmap_gpa(mem, addr, &contig);
        if (!p)
            return -EFAULT;
        if (*nsegs == q->seg_cap) {
            if (q->seg_cap >= VQ_MAX_SEGS)
                return -E2BIG;
            unsigned cap = MIN(q->seg_cap * 4, VQ_MAX_SEGS);
            struct iovec *n = malloc(2 * cap * sizeof(*n));
            if (!n)
                return -ENOMEM;
            memcpy(n, q->segs, *nsegs * sizeof(*n));
            if (q->segs != q->segs_inline)
                free(q->segs);
            q->segs = n;
            q->seg_cap = cap;
        }
        uint32_t take = (uint32_t)MIN((uint64_t)len, contig);
        q->segs[*nsegs].iov_base = p;
        q->segs[*nsegs].iov_len = take;
        (*nsegs)++;
        addr += take;
        len -= take;
    }
    return 0;
}

/*
 * Walks the chain starting at head into q's segments. Each descriptor is
 * copied once before use, so the guest cannot change it under the checks.
 */
static int walk_chain(struct vq *vq, struct vq_req *q, unsigned head, const char **why)
{
    const struct vring_desc *table = vq->desc;
    unsigned table_size = vq->num;
    unsigned idx = head;
    unsigned nsegs = 0, nin = 0, count = 0;
    bool in_indirect = false, seen_write = false;

    for (;;) {
        struct vring_desc d;
        memcpy(&d, (const void *)&table[idx], sizeof(d));

        if (d.flags & VRING_DESC_F_INDIRECT) {
            if (!vq->indirect) {
                *why = "indirect descriptor without the feature";
                return -EIO;
            }
            if (in_indirect) {
                *why = "nested indirect table";
                return -EIO;
            }
            if (d.flags & VRING_DESC_F_NEXT) {
                *why = "indirect descriptor with NEXT";
                return -EIO;
            }
            if (d.len == 0 || d.len % sizeof(struct vring_desc) ||
                d.len / sizeof(struct vring_desc) > VQ_MAX_SIZE) {
                *why = "bad indirect table length";
                return -EIO;
            }
            table = vhu_memmap_gpa_range(q->mem, d.addr, d.len);
            if (!table || ((uintptr_t)table & 15)) {
                *why = "indirect table outside guest memory";
                return -EIO;
            }
            table_size = d.len / sizeof(struct vring_desc);
            in_indirect = true;
            idx = 0;
            count = 0;
            continue;
        }

        if (++count > table_size) {
            *why = "descriptor chain loops or is too long";
            return -EIO;
        }
        if (d.flags & VRING_DESC_F_WRITE) {
            seen_write = true;
        } else if (seen_write) {
            *why = "readable descriptor after a writable one";
            return -EIO;
        }
        /* a buffer is one range of guest-physical addresses: not the top of
         * the space and then its bottom, even when both are mapped */
        if (d.len && d.addr + (d.len - 1) < d.addr) {
            *why = "descriptor address + length wraps around";
            return -EIO;
        }
        int r = add_segs(q, q->mem, &nsegs, d.addr, d.len);
        if (r == -EFAULT) {
            *why = "descriptor address outside guest memory";
            return -EIO;
        }
        if (r < 0) {
            *why = "too many segments in one chain";
            return -EIO;
        }
        if (!seen_write)
            nin = nsegs;
        if (!(d.flags & VRING_DESC_F_NEXT))
            break;
        idx = d.next;
        if (idx >= table_size) {
            *why = "next index out of range";
            return -EIO;
        }
    }
    q->req.in = q->segs;
    q->req.in_cnt = nin;
    q->req.out = q->segs + nin;
    q->req.out_cnt = nsegs - nin;
    q->req.iov_scratch = q->segs + q->seg_cap;
    q->req.iov_scratch_cap = q->seg_cap;
    return 0;
}

int vq_pop_batch(struct vq *vq, struct req **out, unsigned max)
{
    if (__atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
        return -EIO;

    /* acquire: the ring entries and descriptors written before idx are visible */
    uint16_t avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending > vq->num) {
        mark_broken(vq, "available index moved past the ring size", avail_idx);
        return -EIO;
    }
    if (pending && vq->mem_sync) {
        vq->mem_sync(vq->mem_sync_arg);
        if (__atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
            return -EIO;
    }
    unsigned n = MIN((unsigned)pending, max);
    uint64_t now = n ? clock_now_ns() : 0;
    unsigned got = 0;
    int err = 0;

    for (; got < n; got++) {
        unsigned head = __atomic_load_n(&vq->avail->ring[vq->last_avail % vq->num],
                                        __ATOMIC_RELAXED);
        const char *why = NULL;
        if (head >= vq->num) {
            mark_broken(vq, "head index out of range", head);
            err = -EIO;
            break;
        }
        struct vq_req *q = &vq->reqs[head];
        if (__atomic_load_n(&q->inflight, __ATOMIC_ACQUIRE)) {
            mark_broken(vq, "head already in flight", head);
            err = -EIO;
            break;
        }
        q->mem = vq->mem;
        if (walk_chain(vq, q, head, &why) < 0) {
            q->mem = NULL;
            mark_broken(vq, why, head);
            err = -EIO;
            break;
        }
        vhu_memmap_ref(q->mem);
        __atomic_store_n(&q->inflight, true, __ATOMIC_RELAXED);
        q->req.io = NULL;
        q->req.start_ns = now;
        vq->last_avail++;
        out[got] = &q->req;
    }
    if (got) {
        pthread_mutex_lock(&vq->used_lock);
        vq->inflight += got;
        pthread_mutex_unlock(&vq->used_lock);
        vq_stat_add(&vq->stats.popped, got);
        /* what was popped before a corrupt entry is still served */
        return (int)got;
    }
    return err;
}

/* Must hold used_lock. Decides whether the driver wants an interrupt now. */
static bool need_notify(struct vq *vq)
{
    uint16_t new_idx = vq->used_idx;

    /* full barrier: our used->idx store must be visible before we read the
     * driver's used_event/flags, or we could miss its request for a signal */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);

    uint16_t old = vq->signalled_used;
    bool valid = vq->signalled_used_valid;
    vq->signalled_used = new_idx;
    vq->signalled_used_valid = true;
    if (!valid)
        return true;
    return vring_need_event(used_event_read(vq), new_idx, old);
}

static void signal_locked(struct vq *vq)
{
    uint64_t one = 1;
    if (write(vq->call_fd, &one, sizeof(one)) < 0)
        log_debug("queue %u: call eventfd write failed: %d", vq->index, errno);
    vq_stat_add(&vq->stats.notifies, 1);
}

static void notify_locked(struct vq *vq)
{
    if (!need_notify(vq)) {
        vq_stat_add(&vq->stats.suppressed, 1);
    } else if (vq->call_fd < 0) {
        /* need_notify() has counted it as sent (EVENT_IDX will not ask
         * again for these entries): the next call eventfd gets it */
        vq->notify_owed = true;
    } else {
        signal_locked(vq);
    }
}

static void req_done_cb(struct req *r, uint32_t written)
{
    struct vq_req *q = r->transport;
    struct vq *vq = q->vq;
    struct vhu_memmap *mem = q->mem;
    uint32_t slot = r->slot;

    pthread_mutex_lock(&vq->used_lock);
    /* The head is free before the driver can see it used: from the index
     * store on, the driver may add it again and the queue thread (which
     * does not take used_lock) pop it. q is not touched after this. */
    q->mem = NULL;
    __atomic_store_n(&q->avail_at_done, __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE),
                     __ATOMIC_RELAXED);
    __atomic_store_n(&q->inflight, false, __ATOMIC_RELEASE);
    struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];
    e->id = slot;
    e->len = written;
    vq->used_idx++;
    /* release: the element (and the reply bytes) before the index */
    __atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
    /* At once, whichever thread completes: the driver reaps and refills
     * while the rest of a batch is served (EVENT_IDX keeps it from asking
     * more than once per look at the ring). */
    notify_locked(vq);
    vq_stat_add(&vq->stats.completed, 1);
    /* The last completion lets vq_wait_idle() return, and the queue (even
     * the device) may be freed from then on: vq is not touched after the
     * unlock. The map is our own reference. */
    if (--vq->inflight == 0)
        pthread_cond_broadcast(&vq->idle_cond);
    pthread_mutex_unlock(&vq->used_lock);
    vhu_memmap_unref(mem);
}

void vq_kicks_off(struct vq *vq)
{
    if (!vq->event_idx)
        __atomic_store_n(&vq->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool vq_wait_prepare(struct vq *vq)
{
    if (__atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
        return false;
    if (vq->event_idx)
        __atomic_store_n(avail_event_ptr(vq), vq->last_avail, __ATOMIC_RELAXED);
    else
        __atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
    /* full barrier: publish that we want kicks before looking for work, so a
     * request added right now either shows up below or kicks us */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

void vq_wait_idle(struct vq *vq)
{
    pthread_mutex_lock(&vq->used_lock);
    while (vq->inflight > 0)
        pthread_cond_wait(&vq->idle_cond, &vq->used_lock);
    pthread_mutex_unlock(&vq->used_lock);
}

bool vq_wait_idle_for(struct vq *vq, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&vq->used_lock);
    while (vq->inflight > 0 &&
           pthread_cond_timedwait(&vq->idle_cond, &vq->used_lock, &ts) != ETIMEDOUT)
        ;
    bool idle = vq->inflight == 0;
    pthread_mutex_unlock(&vq->used_lock);
    return idle;
}

void vq_set_err_fd(struct vq *vq, int fd)
{
    pthread_mutex_lock(&vq->used_lock);
    int old = vq->err_fd;
    vq->err_fd = fd;
    pthread_mutex_unlock(&vq->used_lock);
    if (old >= 0)
        close(old);
}

void vq_set_features(struct vq *vq, bool event_idx, bool indirect)
{
    /* used_lock: completions read event_idx in need_notify() */
    pthread_mutex_lock(&vq->used_lock);
    if (vq->event_idx != event_idx)
        vq->signalled_used_valid = false; /* the next completion notifies */
    vq->event_idx = event_idx;
    vq->indirect = indirect;
    pthread_mutex_unlock(&vq->used_lock);
}

void vq_set_call_fd(struct vq *vq, int fd)
{
    pthread_mutex_lock(&vq->used_lock);
    int old = vq->call_fd;
    vq->call_fd = fd;
    if (fd >= 0 && vq->notify_owed) {
        vq->notify_owed = false;
        signal_locked(vq);
    }
    pthread_mutex_unlock(&vq->used_lock);
    if (old >= 0)
        close(old);
}

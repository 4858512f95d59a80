/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tests/lib/tc_vring.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"

/*
 * Ordering: the device reads descriptors and avail->ring after it sees
 * avail->idx, so that store is a release. Deciding whether to kick reads
 * avail_event / used->flags, which must come after the idx store is visible:
 * a full fence, as the device does the mirror image (store used->idx, fence,
 * read used_event). Reading used entries happens after an acquire load of
 * used->idx.
 */
static inline void store_release16(uint16_t *p, uint16_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static inline uint16_t load_acquire16(const uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void full_fence(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static bool is_pow2(unsigned x)
{
    return x && !(x & (x - 1));
}

/* Ring layout inside one allocation: descriptors, then the available ring
 * (with used_event), then the used ring (with avail_event) on its own page
 * as a legacy driver would place it. */
static uint64_t used_offset(uint16_t num)
{
    uint64_t end = tc_vring_desc_size(num) + tc_vring_avail_size(num);
    return (end + 4095) & ~4095ull;
}

static void reset_state(struct tc_vq *vq)
{
    memset(vq->ring.ptr, 0, vq->ring.len);
    for (uint16_t i = 0; i < vq->num; i++) {
        vq->next[i] = (uint16_t)(i + 1);
        if (vq->slots[i].ind.len)
            tc_buf_free(vq->mem, &vq->slots[i].ind);
        vq->slots[i] = (struct tc_vq_slot){ 0 };
    }
    vq->free_head = 0;
    vq->num_free = vq->num;
    vq->avail_idx = 0;
    vq->published_idx = 0;
    vq->notified_idx = 0;
    vq->last_used = 0;
    vq->inflight = 0;
    vq->broken = false;
    vq->cb_enabled = true;
}

int tc_vq_init(struct tc_vq *vq, struct tc_mem *mem, unsigned index, uint16_t num, unsigned flags)
{
    int r;

    if (!is_pow2(num) || num > 32768)
        return -EINVAL;
    memset(vq, 0, sizeof(*vq));
    vq->mem = mem;
    vq->index = index;
    vq->num = num;
    vq->event_idx = flags & TC_VQ_EVENT_IDX;
    vq->kick_fd = -1;
    vq->call_fd = -1;
    vq->watch_fd = -1;

    r = tc_buf_alloc(mem, used_offset(num) + tc_vring_used_size(num), 4096,
                     TC_BUF_ONE_REGION | TC_BUF_ZERO, &vq->ring);
    if (r < 0)
        goto out_vq_done;
    vq->desc = vq->ring.ptr;
    vq->avail = (struct vring_avail *)((char *)vq->ring.ptr + tc_vring_desc_size(num));
    vq->used = (struct vring_used *)((char *)vq->ring.ptr + used_offset(num));
    vq->desc_gpa = vq->ring.gpa;
    vq->avail_gpa = vq->ring.gpa + tc_vring_desc_size(num);
    vq->used_gpa = vq->ring.gpa + used_offset(num);

    if (flags & TC_VQ_INDIRECT) {
        r = tc_buf_alloc(mem, (size_t)num * TC_VQ_INDIRECT_PREALLOC * sizeof(struct vring_desc), 16,
                         0, &vq->ind_pool);
        if (r < 0)
            goto out_vq_done;
    }

    vq->next = calloc(num, sizeof(*vq->next));
    vq->slots = calloc(num, sizeof(*vq->slots));
    if (!vq->next || !vq->slots) {
        r = -ENOMEM;
        goto out_vq_done;
    }
    vq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vq->kick_fd < 0)
        goto out_errno;
    vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vq->call_fd < 0)
        goto out_errno;
    reset_state(vq);
    return 0;

out_errno:
    r = neg_errno();
out_vq_done:
    tc_vq_done(vq);
    return r;
}

void tc_vq_done(struct tc_vq *vq)
{
    if (vq->slots)
        for (uint16_t i = 0; i < vq->num; i++)
            tc_buf_free(vq->mem, &vq->slots[i].ind);
    if (vq->mem) {
        tc_buf_free(vq->mem, &vq->ring);
        tc_buf_free(vq->mem, &vq->ind_pool);
    }
    if (vq->kick_fd >= 0)
        close(vq->kick_fd);
    if (vq->call_fd >= 0)
        close(vq->call_fd);
    free(vq->next);
    free(vq->slots);
    memset(vq, 0, sizeof(*vq));
    vq->kick_fd = -1;
    vq->call_fd = -1;
    vq->watch_fd = -1;
}

void tc_vq_reset(struct tc_vq *vq)
{
    reset_state(vq);
    tc_vq_drain_call(vq);
}

static void write_desc(struct vring_desc *d, const struct tc_seg *s, uint16_t flags, uint16_t next)
{
    d->addr = s->gpa;
    d->len = s->len;
    d->flags = (uint16_t)(flags | (s->write ? VRING_DESC_F_WRITE : 0));
    d->next = next;
}

/* Pops n descriptors off the private free list, linking them in order.
 * Returns the first; *last gets the last. Caller checked num_free. */
static uint16_t take_descs(struct tc_vq *vq, unsigned n, uint16_t *last)
{
    uint16_t head = vq->free_head;
    uint16_t i = head;

    for (unsigned k = 1; k < n; k++)
        i = vq->next[i];
    *last = i;
    vq->free_head = vq->next[i];
    vq->num_free = (uint16_t)(vq->num_free - n);
    return head;
}

static void put_avail(struct tc_vq *vq, uint16_t head)
{
    vq->avail->ring[vq->avail_idx & (vq->num - 1)] = head;
    vq->avail_idx++;
}

int tc_vq_add(struct tc_vq *vq, const struct tc_seg *segs, unsigned n, void *token, unsigned flags)
{
    bool indirect = flags & TC_VQ_ADD_INDIRECT;
    uint16_t head, last;

    if (vq->broken)
        return -EIO;
    if (n == 0)
        return -EINVAL;

    if (indirect) {
        struct tc_buf table = { 0 };
        struct vring_desc *ind;

        /* an indirect table may hold at most num descriptors (virtio 1.1 2.6.5.3.1) */
        if (n > vq->num)
            return -EINVAL;
        if (vq->num_free < 1)
            return -ENOSPC;
        if (n > TC_VQ_INDIRECT_PREALLOC || !vq->ind_pool.len) {
            int r = tc_buf_alloc(vq->mem, n * sizeof(struct vring_desc), 16, 0, &table);
            if (r < 0)
                return r;
        }
        head = take_descs(vq, 1, &last);
        if (table.len) {
            ind = table.ptr;
        } else {
            ind = (struct vring_desc *)vq->ind_pool.ptr + (size_t)head * TC_VQ_INDIRECT_PREALLOC;
        }
        for (unsigned k = 0; k < n; k++)
            write_desc(&ind[k], &segs[k], k + 1 < n ? VRING_DESC_F_NEXT : 0, (uint16_t)(k + 1));
        vq->desc[head] = (struct vring_desc){
            .addr = table.len ? table.gpa : tc_mem_gpa(vq->mem, ind),
            .len = n * (uint32_t)sizeof(struct vring_desc),
            .flags = VRING_DESC_F_INDIRECT,
            .next = 0,
        };
        vq->slots[head] = (struct tc_vq_slot){
            .token = token, .ndesc = 1, .last = head, .busy = true, .ind = table,
        };
    } else {
        if (n > vq->num)
            return -EINVAL;
        if (vq->num_free < n)
            return -ENOSPC;
        head = take_descs(vq, n, &last);
        uint16_t i = head;
        for (unsigned k = 0; k < n; k++) {
            bool more = k + 1 < n;
            write_desc(&vq->desc[i], &segs[k], more ? VRING_DESC_F_NEXT : 0,
                       more ? vq->next[i] : 0);
            i = vq->next[i];
        }
        vq->slots[head] = (struct tc_vq_slot){
            .token = token, .ndesc = (uint16_t)n, .last = last, .busy = true,
        };
    }
    put_avail(vq, head);
    vq->inflight++;
    return head;
}

void tc_vq_publish(struct tc_vq *vq)
{
    if (vq->published_idx == vq->avail_idx)
        return;
    store_release16(&vq->avail->idx, vq->avail_idx);
    vq->published_idx = vq->avail_idx;
}

int tc_vq_notify(struct tc_vq *vq)
{
    uint64_t one = 1;

    if (write(vq->kick_fd, &one, sizeof(one)) != sizeof(one))
        return neg_errno();
    vq->kicks++;
    return 0;
}

int tc_vq_kick(struct tc_vq *vq)
{
    uint16_t old = vq->notified_idx;
    uint16_t new_idx;
    bool need;

    tc_vq_publish(vq);
    new_idx = vq->published_idx;
    full_fence();
    if (vq->event_idx)
        need = tc_vring_need_event(__atomic_load_n(tc_vq_avail_event(vq), __ATOMIC_RELAXED),
                                   new_idx, old);
    else
        need = !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY);
    vq->notified_idx = new_idx;
    if (!need) {
        vq->kicks_suppressed++;
        return 0;
    }
    int r = tc_vq_notify(vq);
    return r < 0 ? r : 1;
}

bool tc_vq_has_used(const struct tc_vq *vq)
{
    return load_acquire16(&vq->used->idx) != vq->last_used;
}

static void release_chain(struct tc_vq *vq, uint16_t head)
{
    struct tc_vq_slot *s = &vq->slots[head];

    vq->next[s->last] = vq->free_head;
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
    if (s->ind.len)
        tc_buf_free(vq->mem, &s->ind);
    s->busy = false;
    s->token = NULL;
    vq->inflight--;
}

int tc_vq_get_used(struct tc_vq *vq, void **token, uint32_t *len)
{
    if (vq->broken)
        return -EIO;
    uint16_t used_idx = load_acquire16(&vq->used->idx);
    if (used_idx == vq->last_used)
        return 0;
    if ((uint16_t)(used_idx - vq->last_used) > vq->num) {
        vq->broken = true;
        return -EIO;
    }
    const struct vring_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
    uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
    uint32_t l = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
    if (id >= vq->num || !vq->slots[id].busy) {
        vq->broken = true;
        return -EIO;
    }
    *token = vq->slots[id].token;
    *len = l;
    release_chain(vq, (uint16_t)id);
    vq->last_used++;
    /* Ask to be told about the next completion; the fence that makes this
     * visible before we sleep is in tc_vq_wait(). */
    if (vq->event_idx && vq->cb_enabled)
        __atomic_store_n(tc_vq_used_event(vq), vq->last_used, __ATOMIC_RELAXED);
    return 1;
}

int tc_vq_raw_get_used(struct tc_vq *vq, uint32_t *id, uint32_t *len)
{
    uint16_t used_idx = load_acquire16(&vq->used->idx);
    if (used_idx == vq->last_used)
        return 0;
    const struct vring_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
    *id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
    *len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
    if (*id < vq->num && vq->slots[*id].busy)
        release_chain(vq, (uint16_t)*id);
    vq->last_used++;
    return 1;
}

void tc_vq_set_interrupts(struct tc_vq *vq, bool enable)
{
    vq->cb_enabled = enable;
    if (vq->event_idx) {
        /* "disabled" = an event index the device has just passed, so it
         * only fires again after 2^16 completions */
        uint16_t ev = enable ? vq->last_used : (uint16_t)(vq->last_used - 1);
        __atomic_store_n(tc_vq_used_event(vq), ev, __ATOMIC_RELAXED);
    } else {
        uint16_t f = enable ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
        __atomic_store_n(&vq->avail->flags, f, __ATOMIC_RELAXED);
    }
    full_fence();
}

uint64_t tc_vq_drain_call(struct tc_vq *vq)
{
    uint64_t v = 0;

    if (read(vq->call_fd, &v, sizeof(v)) != sizeof(v))
        return 0;
    return v;
}

int tc_vq_wait(struct tc_vq *vq, int timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? 0 : clock_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    bool was_enabled = vq->cb_enabled;
    int r = 0;

    for (;;) {
        if (vq->broken) {
            r = -EIO;
            break;
        }
        if (tc_vq_has_used(vq))
            break;
        vq->cb_enabled = true;
        if (vq->event_idx)
            __atomic_store_n(tc_vq_used_event(vq), vq->last_used, __ATOMIC_RELAXED);
        else
            __atomic_store_n(&vq->avail->flags, 0, __ATOMIC_RELAXED);
        /* interrupt request visible before the re-check (pairs with the
         * device's fence between its used->idx store and used_event load) */
        full_fence();
        if (tc_vq_has_used(vq))
            break;

        int wait_ms = -1;
        if (timeout_ms >= 0) {
            uint64_t now = clock_now_ns();
            if (now >= deadline) {
                r = -ETIMEDOUT;
                break;
            }
            wait_ms = (int)((deadline - now + 999999) / 1000000);
        }
        struct pollfd pfd[2] = {
            { .fd = vq->call_fd, .events = POLLIN },
            { .fd = vq->watch_fd, .events = POLLRDHUP },
        };
        int n = poll(pfd, vq->watch_fd >= 0 ? 2 : 1, wait_ms);
        if (n < 0 && errno != EINTR) {
            r = neg_errno();
            break;
        }
        if (n > 0 && tc_vq_drain_call(vq))
            vq->calls++;
        if (n > 0 && (pfd[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) && !tc_vq_has_used(vq)) {
            r = -ECONNRESET;
            break;
        }
    }
    if (!was_enabled)
        tc_vq_set_interrupts(vq, false);
    return r;
}

/* --- raw access ---------------------------------------------------------- */

int tc_vq_raw_take(struct tc_vq *vq, unsigned n, uint16_t *idx)
{
    if (n == 0 || vq->num_free < n)
        return -ENOSPC;
    uint16_t last;
    uint16_t i = take_descs(vq, n, &last);
    for (unsigned k = 0; k < n; k++) {
        idx[k] = i;
        i = vq->next[i];
    }
    return 0;
}

void tc_vq_raw_put(struct tc_vq *vq, const uint16_t *idx, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        vq->next[idx[k]] = vq->free_head;
        vq->free_head = idx[k];
        vq->num_free++;
    }
}

void tc_vq_raw_submit(struct tc_vq *vq, uint16_t head, const uint16_t *ids, unsigned n, void *token)
{
    if (ids && n && head == ids[0]) {
        vq->slots[head] = (struct tc_vq_slot){
            .token = token, .ndesc = (uint16_t)n, .last = ids[n - 1], .busy = true,
        };
        vq->inflight++;
    }
    put_avail(vq, head);
}

void tc_vq_raw_set_avail_idx(struct tc_vq *vq, uint16_t idx)
{
    store_release16(&vq->avail->idx, idx);
    vq->published_idx = idx;
    vq->avail_idx = idx;
}

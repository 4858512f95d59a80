/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vhost/queue.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

int vhu_queue_init(struct vhu_queue *q, unsigned index, const struct vhu_queue_handler *h)
{
    memset(q, 0, sizeof(*q));
    vq_init(&q->vq, index);
    q->handler = h;
    q->kick_fd = -1;
    q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (q->wake_fd < 0)
        return neg_errno();
    return 0;
}

void vhu_queue_done(struct vhu_queue *q)
{
    vhu_queue_stop(q);
    vhu_queue_close_kick(q);
    vq_done(&q->vq);
    if (q->wake_fd >= 0)
        close(q->wake_fd);
    q->wake_fd = -1;
}

void vhu_queue_wake(struct vhu_queue *q)
{
    uint64_t one = 1;
    if (q->wake_fd >= 0 && write(q->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_debug("queue %u: wake eventfd write failed: %d", q->vq.index, errno);
}

void vhu_queue_set_features(struct vhu_queue *q, bool event_idx, bool indirect,
                            bool enable_on_start)
{
    q->event_idx = event_idx;
    q->indirect = indirect;
    q->enable_on_start = enable_on_start;
    if (q->running) {
        /* The queue thread reads the ring's copy: queue_start() updates it. */
        log_warn("queue %u: features changed while running; applied at the next start",
                 q->vq.index);
        return;
    }
    vq_set_features(&q->vq, event_idx, indirect);
}

int vhu_queue_set_num(struct vhu_queue *q, uint32_t num)
{
    /* The per-head state and the ring translations are sized by num from
     * vq_start() to vq_stop(), thread or not: a restart that failed (rings
     * no longer in guest memory) leaves the ring started without one. */
    if (q->ring_started)
        return -EBUSY;
    q->vq.num = num;
    return 0;
}

int vhu_queue_set_addr(struct vhu_queue *q, uint64_t desc, uint64_t avail, uint64_t used)
{
    if (q->running) {
        /* Sent again while running (e.g. to toggle dirty logging): same rings expected. */
        if (desc == q->vq.desc_uaddr && avail == q->vq.avail_uaddr && used == q->vq.used_uaddr)
            return 0;
        return -EBUSY;
    }
    q->vq.desc_uaddr = desc;
    q->vq.avail_uaddr = avail;
    q->vq.used_uaddr = used;
    q->vq.addr_set = true;
    return 0;
}

int vhu_queue_set_base(struct vhu_queue *q, uint16_t base)
{
    if (q->running)
        return -EBUSY;
    q->vq.base = base;
    return 0;
}

void vhu_queue_set_enabled(struct vhu_queue *q, bool on)
{
    __atomic_store_n(&q->enabled, on, __ATOMIC_RELEASE);
    vhu_queue_wake(q);
}

/* Drains the eventfd; returns true if it had been signalled. */
static bool eventfd_drain(int fd)
{
    uint64_t v;
    return read(fd, &v, sizeof(v)) == sizeof(v);
}

/* Picks up a new memory map if the device has one. */
static void queue_check_mem(struct vhu_queue *q)
{
    if (vhu_dev_mem_gen(q->dev) == q->mem_gen)
        return;
    unsigned gen;
    struct vhu_memmap *m = vhu_dev_mem_get(q->dev, &gen);
    if (vq_remap(&q->vq, m) < 0) {
        log_error("queue %u: the rings are no longer inside guest memory", q->vq.index);
        __atomic_store_n(&q->vq.broken, true, __ATOMIC_RELAXED);
    }
    q->mem_gen = gen;
    vhu_memmap_unref(m);
}

static void run_batch(struct vhu_queue *q, struct req **batch, unsigned n)
{
    vq_batch_begin(&q->vq);
    q->handler->handle(q->qctx, batch, n);
    vq_batch_end(&q->vq);
}

static void *queue_thread(void *arg)
{
    struct vhu_queue *q = arg;
    struct vq *vq = &q->vq;
    unsigned batch_max = vq->num;
    struct req **batch = calloc(batch_max, sizeof(*batch));
    int extra_fd = q->handler->poll_fd ? q->handler->poll_fd(q->qctx) : -1;

    if (!batch) {
        log_error("queue %u: out of memory", vq->index);
        return NULL;
    }
    while (!__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE)) {
        queue_check_mem(q);
        if (__atomic_load_n(&q->enabled, __ATOMIC_ACQUIRE) &&
            !__atomic_load_n(&vq->broken, __ATOMIC_RELAXED)) {
            vq_kicks_off(vq);
            int n;
            while ((n = vq_pop_batch(vq, batch, batch_max)) > 0)
                run_batch(q, batch, (unsigned)n);
            if (vq_wait_prepare(vq))
                continue;
        }

        struct pollfd pfd[3] = {
            { .fd = q->kick_fd, .events = POLLIN },
            { .fd = q->wake_fd, .events = POLLIN },
            { .fd = extra_fd, .events = POLLIN },
        };
        int r = poll(pfd, extra_fd >= 0 ? 3 : 2, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_error("queue %u: poll failed: %s", vq->index, strerror(errno));
            break;
        }
        if (pfd[0].revents & POLLIN) {
            eventfd_drain(q->kick_fd);
            vq->stats.kicks++;
        }
        if (pfd[1].revents & POLLIN)
            eventfd_drain(q->wake_fd);
        if (extra_fd >= 0 && (pfd[2].revents & POLLIN)) {
            vq_batch_begin(vq);
            q->handler->poll(q->qctx);
            vq_batch_end(vq);
        }
    }
    free(batch);
    return NULL;
}

static int queue_start(struct vhu_queue *q)
{
    struct vq *vq = &q->vq;
    unsigned gen;
    struct vhu_memmap *m = vhu_dev_mem_get(q->dev, &gen);
    int r;

    /* No thread runs: features acked since it stopped apply now. */
    vq_set_features(vq, q->event_idx, q->indirect);
    if (!q->ring_started) {
        r = vq_start(vq, m);
        if (r < 0) {
            vhu_memmap_unref(m);
            log_error("queue %u: cannot start: rings not inside guest memory", vq->index);
            return r;
        }
        q->ring_started = true;
        q->qctx = q->handler->start ? q->handler->start(q->handler->opaque, vq->index) : NULL;
    } else if (vq_remap(vq, m) < 0) {
        vhu_memmap_unref(m);
        return -EINVAL;
    }
    q->mem_gen = gen;
    vhu_memmap_unref(m);
    if (q->enable_on_start)
        __atomic_store_n(&q->enabled, true, __ATOMIC_RELEASE);
    __atomic_store_n(&q->stop, false, __ATOMIC_RELEASE);
    eventfd_drain(q->wake_fd);
    r = pthread_create(&q->thread, NULL, queue_thread, q);
    if (r) {
        log_error("queue %u: cannot create its thread: %s", vq->index, strerror(r));
        return -r;
    }
    q->running = true;
    log_debug("queue %u started (size %u)", vq->index, vq->num);
    return 0;
}

/* Ends the thread but keeps the ring state: requests in flight go on. */
static void thread_stop(struct vhu_queue *q)
{
    if (!q->running)
        return;
    __atomic_store_n(&q->stop, true, __ATOMIC_RELEASE);
    vhu_queue_wake(q);
    pthread_join(q->thread, NULL);
    q->running = false;
}

int vhu_queue_set_kick(struct vhu_queue *q, int fd, struct vhu_dev *dev)
{
    thread_stop(q);
    /* After the stop: a running thread reads q->dev. */
    q->dev = dev;
    if (q->kick_fd >= 0)
        close(q->kick_fd);
    q->kick_fd = fd;
    if (!q->vq.num || !q->vq.addr_set) {
        log_warn("queue %u: kick eventfd before the ring is configured", q->vq.index);
        return -EINVAL;
    }
    return queue_start(q);
}

uint16_t vhu_queue_stop(struct vhu_queue *q)
{
    thread_stop(q);
    if (!q->ring_started)
        return q->vq.base;
    vq_wait_idle(&q->vq);
    if (q->handler->stop)
        q->handler->stop(q->qctx);
    q->qctx = NULL;
    uint16_t next = q->vq.last_avail;
    vq_stop(&q->vq);
    q->ring_started = false;
    q->vq.base = next;
    __atomic_store_n(&q->enabled, false, __ATOMIC_RELEASE);
    log_debug("queue %u stopped at %u", q->vq.index, next);
    return next;
}

void vhu_queue_close_kick(struct vhu_queue *q)
{
    if (q->kick_fd >= 0)
        close(q->kick_fd);
    q->kick_fd = -1;
}

void vhu_queue_reset(struct vhu_queue *q)
{
    vhu_queue_stop(q);
    vhu_queue_close_kick(q);
    vq_set_call_fd(&q->vq, -1);
    vq_set_err_fd(&q->vq, -1);
    q->vq.num = 0;
    q->vq.addr_set = false;
    q->vq.base = 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vhost/queue.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"

static void queue_mem_sync(void *arg);

int vhu_queue_init(struct vhu_queue *q, unsigned index, const struct vhu_queue_handler *h,
                   unsigned poll_max_us)
{
    memset(q, 0, sizeof(*q));
    vq_init(&q->vq, index);
    q->vq.mem_sync = queue_mem_sync;
    q->vq.mem_sync_arg = q;
    q->handler = h;
    q->poll_max_ns = (uint64_t)poll_max_us * 1000;
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

/* vq.mem_sync: requests just seen may use memory added since the last check. */
static void queue_mem_sync(void *arg)
{
    queue_check_mem(arg);
}

static void run_batch(struct vhu_queue *q, struct req **batch, unsigned n)
{
    q->handler->handle(q->qctx, batch, n);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/*
 * The longest polling window: poll_max_ns, or POLL_PENDING_FACTOR times that
 * while the thread's own I/O is out. A completion is then certain to come,
 * typically within a device's latency (tens to hundreds of us), and waking
 * from poll() costs a good part of that again.
 */
#define POLL_PENDING_FACTOR 4
static uint64_t queue_poll_cap(struct vhu_queue *q)
{
    bool pending = q->handler->pending && q->handler->pending(q->qctx);
    return pending ? q->poll_max_ns * POLL_PENDING_FACTOR : q->poll_max_ns;
}

/*
 * Before sleeping, watch the ring (and the handler's completions) for up to
 * poll_ns: a request that arrives meanwhile costs no kick, no wakeup and no
 * poll()/read() pair. Kicks stay suppressed while polling. Returns true when
 * there is work.
 */
static bool queue_poll_ring(struct vhu_queue *q)
{
    uint64_t window = MIN(q->poll_ns, queue_poll_cap(q));
    if (!window)
        return false;
    uint64_t start = clock_now_ns();
    do {
        if (vq_has_avail(&q->vq) || (q->handler->ready && q->handler->ready(q->qctx)) ||
            __atomic_load_n(&q->stop, __ATOMIC_RELAXED)) {
            vq_stat_add(&q->vq.stats.poll_hits, 1);
            return true;
        }
        cpu_relax();
    } while (clock_now_ns() - start < window);
    return false;
}

/*
 * Adapts the polling window to how long the queue actually waited: a wait
 * that polling a little longer would have caught grows it, a long idle
 * shrinks it, so an idle guest costs no CPU.
 */
static void queue_adapt_poll(struct vhu_queue *q, uint64_t waited_ns, uint64_t cap)
{
    if (!q->poll_max_ns)
        return;
    uint64_t ns = MIN(q->poll_ns, cap);
    if (waited_ns > cap)
        ns /= 2;
    else if (waited_ns > ns)
        ns = MIN(cap, ns ? ns * 2 : 4000u);
    if (ns < 1000)
        ns = 0;
    /* the statistics dump reads it from the message thread */
    __atomic_store_n(&q->poll_ns, ns, __ATOMIC_RELAXED);
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
            if (queue_poll_ring(q)) {
                if (q->handler->ready && q->handler->ready(q->qctx))
                    q->handler->poll(q->qctx);
                continue;
            }
            if (vq_wait_prepare(vq))
                continue;
        }

        struct pollfd pfd[3] = {
            { .fd = q->kick_fd, .events = POLLIN },
            { .fd = q->wake_fd, .events = POLLIN },
            { .fd = extra_fd, .events = POLLIN },
        };
        uint64_t cap = queue_poll_cap(q);
        uint64_t t0 = clock_now_ns();
        int r = poll(pfd, extra_fd >= 0 ? 3 : 2, -1);
        vq_stat_add(&vq->stats.sleeps, 1);
        queue_adapt_poll(q, clock_now_ns() - t0 + MIN(q->poll_ns, cap), cap);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            log_error("queue %u: poll failed: %s", vq->index, strerror(errno));
            break;
        }
        if (pfd[0].revents & POLLIN) {
            eventfd_drain(q->kick_fd);
            vq_stat_add(&vq->stats.kicks, 1);
        }
        if (pfd[1].revents & POLLIN)
            eventfd_drain(q->wake_fd);
        if (extra_fd >= 0 && (pfd[2].revents & POLLIN))
            q->handler->poll(q->qctx);
    }
    if (q->handler->drain)
        q->handler->drain(q->qctx);
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

/* How often a stopping queue asks its handler again to end what waits. */
#define CANCEL_RETRY_MS 20

/*
 * The queue thread is gone: nothing new is popped, so asking the handler to
 * end every request in flight, until none is, cannot miss one. A request
 * still on its way to where it would wait (queued for a pool worker) is
 * caught by a later round.
 */
static void queue_cancel_inflight(struct vhu_queue *q)
{
    if (!q->handler->cancel)
        return;
    for (unsigned wait_ms = 0; !vq_wait_idle_for(&q->vq, wait_ms); wait_ms = CANCEL_RETRY_MS) {
        for (unsigned i = 0; i < q->vq.num; i++) {
            struct vq_req *r = &q->vq.reqs[i];
            if (__atomic_load_n(&r->inflight, __ATOMIC_ACQUIRE))
                q->handler->cancel(q->handler->opaque, &r->req);
        }
    }
}

uint16_t vhu_queue_stop(struct vhu_queue *q)
{
    thread_stop(q);
    if (!q->ring_started)
        return q->vq.base;
    queue_cancel_inflight(q);
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

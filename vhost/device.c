/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user message handling. Every message is read whole (header, payload,
 * ancillary fds), checked against the table below for size and fd count,
 * and only then handled. A message that breaks the protocol closes the
 * connection; a well-formed request we cannot honour gets a failure answer
 * (with REPLY_ACK) and the connection goes on.
 */
#include "vhost/device.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "vhost/memory.h"
#include "vhost/protocol.h"
#include "vhost/queue.h"

#define OUR_FEATURES ((1ull << VHU_F_VERSION_1) | (1ull << VHU_F_RING_EVENT_IDX) | \
                      (1ull << VHU_F_RING_INDIRECT_DESC) | (1ull << VHU_F_PROTOCOL_FEATURES))

#define BASE_PROTOCOL_FEATURES ((1ull << VHU_PROTOCOL_F_MQ) | \
                                (1ull << VHU_PROTOCOL_F_REPLY_ACK) | \
                                (1ull << VHU_PROTOCOL_F_BACKEND_REQ) | \
                                (1ull << VHU_PROTOCOL_F_BACKEND_SEND_FD) | \
                                (1ull << VHU_PROTOCOL_F_RESET_DEVICE) | \
                                (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

struct vhu_msg {
    struct vhu_hdr hdr;
    union {
        uint64_t u64;
        struct vhu_vring_state state;
        struct vhu_vring_addr addr;
        struct vhu_mem_table table;
        struct vhu_mem_single single;
        struct vhu_config config;
        uint8_t raw[VHU_MAX_PAYLOAD];
    } p;
    int fds[VHU_MAX_FDS];
    unsigned nfds;
};

/* Closes the fds a handler did not take. */
static void msg_close_fds(struct vhu_msg *m)
{
    for (unsigned i = 0; i < m->nfds; i++)
        if (m->fds[i] >= 0)
            close(m->fds[i]);
    m->nfds = 0;
}

static int msg_take_fd(struct vhu_msg *m, unsigned i)
{
    int fd = m->fds[i];
    m->fds[i] = -1;
    return fd;
}

const char *vhu_request_name(uint32_t request)
{
    static const char *const names[VHU_REQUEST_MAX] = {
        [VHU_GET_FEATURES] = "GET_FEATURES", [VHU_SET_FEATURES] = "SET_FEATURES",
        [VHU_SET_OWNER] = "SET_OWNER", [VHU_RESET_OWNER] = "RESET_OWNER",
        [VHU_SET_MEM_TABLE] = "SET_MEM_TABLE", [VHU_SET_LOG_BASE] = "SET_LOG_BASE",
        [VHU_SET_LOG_FD] = "SET_LOG_FD", [VHU_SET_VRING_NUM] = "SET_VRING_NUM",
        [VHU_SET_VRING_ADDR] = "SET_VRING_ADDR", [VHU_SET_VRING_BASE] = "SET_VRING_BASE",
        [VHU_GET_VRING_BASE] = "GET_VRING_BASE", [VHU_SET_VRING_KICK] = "SET_VRING_KICK",
        [VHU_SET_VRING_CALL] = "SET_VRING_CALL", [VHU_SET_VRING_ERR] = "SET_VRING_ERR",
        [VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
        [VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
        [VHU_GET_QUEUE_NUM] = "GET_QUEUE_NUM", [VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
        [VHU_SEND_RARP] = "SEND_RARP", [VHU_NET_SET_MTU] = "NET_SET_MTU",
        [VHU_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD", [VHU_IOTLB_MSG] = "IOTLB_MSG",
        [VHU_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN", [VHU_GET_CONFIG] = "GET_CONFIG",
        [VHU_SET_CONFIG] = "SET_CONFIG", [VHU_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
        [VHU_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
        [VHU_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE", [VHU_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
        [VHU_POSTCOPY_END] = "POSTCOPY_END", [VHU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
        [VHU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD", [VHU_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
        [VHU_RESET_DEVICE] = "RESET_DEVICE", [VHU_VRING_KICK] = "VRING_KICK",
        [VHU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS", [VHU_ADD_MEM_REG] = "ADD_MEM_REG",
        [VHU_REM_MEM_REG] = "REM_MEM_REG", [VHU_SET_STATUS] = "SET_STATUS",
        [VHU_GET_STATUS] = "GET_STATUS",
    };
    if (request < VHU_REQUEST_MAX && names[request])
        return names[request];
    return "UNKNOWN";
}

/* ---- the device ------------------------------------------------------- */

struct vhu_dev {
    struct vhu_dev_config cfg;
    char *tag;

    int conn_fd;
    uint64_t features;            /* acked virtio features */
    uint64_t protocol_features;   /* acked protocol features */
    bool owner;

    pthread_mutex_t mem_lock;     /* guards mem for readers outside the message thread */
    struct vhu_memmap *mem;       /* current map (ref), swapped by the message thread */
    unsigned mem_gen;             /* atomic: bumped on every swap */

    unsigned nqueues;
    struct vhu_queue *queues;     /* [max_queues] */

    pthread_mutex_t backend_lock; /* serializes backend channel requests */
    int backend_fd;
};

int vhu_dev_new(const struct vhu_dev_config *cfg, struct vhu_dev **out)
{
    if (cfg->max_queues < 2 || cfg->max_queues > 256 || !cfg->handler.handle)
        return -EINVAL;
    struct vhu_dev *dev = calloc(1, sizeof(*dev));
    if (!dev)
        return -ENOMEM;
    dev->cfg = *cfg;
    if (cfg->tag) {
        if (strlen(cfg->tag) > VIRTIO_FS_TAG_LEN) {
            free(dev);
            return -ENAMETOOLONG;
        }
        dev->tag = strdup(cfg->tag);
        dev->cfg.tag = dev->tag;
    }
    dev->conn_fd = -1;
    dev->backend_fd = -1;
    pthread_mutex_init(&dev->mem_lock, NULL);
    pthread_mutex_init(&dev->backend_lock, NULL);
    dev->mem = vhu_memmap_new_empty();
    dev->nqueues = cfg->max_queues;
    dev->queues = calloc(dev->nqueues, sizeof(*dev->queues));
    if (!dev->mem || !dev->queues) {
        vhu_dev_free(dev);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < dev->nqueues; i++) {
        int r = vhu_queue_init(&dev->queues[i], i, &dev->cfg.handler, cfg->poll_max_us);
        if (r < 0) {
            dev->nqueues = i;
            vhu_dev_free(dev);
            return r;
        }
    }
    *out = dev;
    return 0;
}

void vhu_dev_free(struct vhu_dev *dev)
{
    if (!dev)
        return;
    for (unsigned i = 0; i < dev->nqueues; i++)
        vhu_queue_done(&dev->queues[i]);
    free(dev->queues);
    vhu_memmap_unref(dev->mem);
    if (dev->backend_fd >= 0)
        close(dev->backend_fd);
    if (dev->conn_fd >= 0)
        close(dev->conn_fd);
    pthread_mutex_destroy(&dev->mem_lock);
    pthread_mutex_destroy(&dev->backend_lock);
    free(dev->tag);
    free(dev);
}

struct vhu_memmap *vhu_dev_mem_get(struct vhu_dev *dev, unsigned *gen)
{
    pthread_mutex_lock(&dev->mem_lock);
    struct vhu_memmap *m = vhu_memmap_ref(dev->mem);
    *gen = __atomic_load_n(&dev->mem_gen, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&dev->mem_lock);
    return m;
}

unsigned vhu_dev_mem_gen(struct vhu_dev *dev)
{
    return __atomic_load_n(&dev->mem_gen, __ATOMIC_ACQUIRE);
}

static void mem_swap(struct vhu_dev *dev, struct vhu_memmap *m)
{
    pthread_mutex_lock(&dev->mem_lock);
    struct vhu_memmap *old = dev->mem;
    dev->mem = m;
    __atomic_add_fetch(&dev->mem_gen, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&dev->mem_lock);
    /* Old regions stay mapped while a queue or a request still refers to them. */
    vhu_memmap_unref(old);
    for (unsigned i = 0; i < dev->nqueues; i++)
        vhu_queue_wake(&dev->queues[i]);
}

static void stop_all_queues(struct vhu_dev *dev)
{
    for (unsigned i = 0; i < dev->nqueues; i++)
        vhu_queue_stop(&dev->queues[i]);
}

/* ---- message I/O --------------------------------------------------------- */

static int read_full(int fd, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = recv(fd, (char *)buf + done, len - done, 0);
        if (n == 0)
            return -ECONNRESET;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return neg_errno();
        }
        done += (size_t)n;
    }
    return 0;
}

/*
 * Reads one message. Returns 0, -EPROTO on garbage, -ECONNRESET when the
 * frontend hung up: between messages, or in the middle of one (a frontend
 * that dies while writing has still gone away; there is nothing left to
 * serve and nobody to blame the incomplete message on).
 */
static int msg_read(int fd, struct vhu_msg *m)
{
    char control[CMSG_SPACE(VHU_MAX_FDS * sizeof(int))];
    struct iovec iov = { &m->hdr, sizeof(m->hdr) };
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control, .msg_controllen = sizeof(control),
    };
    ssize_t n;

    m->nfds = 0;
    do {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        return -ECONNRESET;
    if (n < 0)
        return neg_errno();

    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < cnt; i++) {
            int f;
            memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (m->nfds < VHU_MAX_FDS)
                m->fds[m->nfds++] = f;
            else
                close(f);
        }
    }
    if (mh.msg_flags & MSG_CTRUNC) {
        log_error("vhost-user: too many file descriptors in one message");
        return -EPROTO;
    }
    if ((size_t)n < sizeof(m->hdr)) {
        int r = read_full(fd, (char *)&m->hdr + n, sizeof(m->hdr) - (size_t)n);
        if (r == -ECONNRESET)
            log_warn("vhost-user: frontend disconnected in the middle of a message header");
        if (r < 0)
            return r;
    }
    if ((m->hdr.flags & VHU_FLAG_VERSION_MASK) != VHU_VERSION) {
        log_error("vhost-user: bad protocol version in flags 0x%x", m->hdr.flags);
        return -EPROTO;
    }
    if (m->hdr.size > VHU_MAX_PAYLOAD) {
        log_error("vhost-user: %s payload of %u bytes is too large",
                  vhu_request_name(m->hdr.request), m->hdr.size);
        return -EPROTO;
    }
    if (m->hdr.size) {
        int r = read_full(fd, m->p.raw, m->hdr.size);
        if (r == -ECONNRESET)
            log_warn("vhost-user: frontend disconnected in the middle of a %s message "
                     "(%u-byte payload)", vhu_request_name(m->hdr.request), m->hdr.size);
        if (r < 0)
            return r;
    }
    return 0;
}

static int send_all(int fd, const void *buf, size_t len, const int *fds, unsigned nfds)
{
    char control[CMSG_SPACE(VHU_MAX_FDS * sizeof(int))];
    struct iovec iov = { (void *)buf, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (nfds) {
        memset(control, 0, sizeof(control));
        mh.msg_control = control;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    ssize_t n;
    do {
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return neg_errno();
    if ((size_t)n != len)
        return -EIO;
    return 0;
}

static int msg_reply(struct vhu_dev *dev, const struct vhu_msg *req, const void *payload,
                     uint32_t size)
{
    struct {
        struct vhu_hdr hdr;
        uint8_t payload[sizeof(struct vhu_config)];
    } out;
    if (size > sizeof(out.payload))
        return -EINVAL;
    out.hdr.request = req->hdr.request;
    out.hdr.flags = VHU_VERSION | VHU_FLAG_REPLY;
    out.hdr.size = size;
    memcpy(out.payload, payload, size);
    return send_all(dev->conn_fd, &out, sizeof(out.hdr) + size, NULL, 0);
}

static int reply_u64(struct vhu_dev *dev, const struct vhu_msg *req, uint64_t v)
{
    return msg_reply(dev, req, &v, sizeof(v));
}

/* ---- handlers -------------------------------------------------------------- */

/* What a handler returns besides -errno for "failed but well-formed". */
enum {
    H_OK = 0,         /* done; ack with success if asked */
    H_REPLIED = 1,    /* sent its own reply */
    H_PROTOCOL = 2,   /* protocol violation: close the connection */
};

static bool has_protocol_feature(const struct vhu_dev *dev, unsigned bit)
{
    return dev->protocol_features & (1ull << bit);
}

static uint64_t offered_protocol_features(const struct vhu_dev *dev)
{
    uint64_t f = BASE_PROTOCOL_FEATURES;
    if (dev->tag)
        f |= 1ull << VHU_PROTOCOL_F_CONFIG;
    return f;
}

static struct vhu_queue *msg_queue(struct vhu_dev *dev, uint32_t index)
{
    if (index >= dev->nqueues) {
        log_error("vhost-user: queue index %u out of range (%u queues)", index, dev->nqueues);
        return NULL;
    }
    return &dev->queues[index];
}

static int h_get_features(struct vhu_dev *dev, struct vhu_msg *m)
{
    return reply_u64(dev, m, OUR_FEATURES) < 0 ? -EIO : H_REPLIED;
}

static int h_set_features(struct vhu_dev *dev, struct vhu_msg *m)
{
    if (m->p.u64 & ~OUR_FEATURES) {
        log_error("vhost-user: frontend acked features 0x%llx we did not offer",
                  (unsigned long long)(m->p.u64 & ~OUR_FEATURES));
        return H_PROTOCOL;
    }
    dev->features = m->p.u64;
    for (unsigned i = 0; i < dev->nqueues; i++)
        vhu_queue_set_features(&dev->queues[i],
                               dev->features & (1ull << VHU_F_RING_EVENT_IDX),
                               dev->features & (1ull << VHU_F_RING_INDIRECT_DESC),
                               !(dev->features & (1ull << VHU_F_PROTOCOL_FEATURES)));
    return H_OK;
}

static int h_get_protocol_features(struct vhu_dev *dev, struct vhu_msg *m)
{
    return reply_u64(dev, m, offered_protocol_features(dev)) < 0 ? -EIO : H_REPLIED;
}

static int h_set_protocol_features(struct vhu_dev *dev, struct vhu_msg *m)
{
    uint64_t extra = m->p.u64 & ~offered_protocol_features(dev);
    if (extra) {
        log_error("vhost-user: frontend acked protocol features 0x%llx we did not offer",
                  (unsigned long long)extra);
        return H_PROTOCOL;
    }
    dev->protocol_features = m->p.u64;
    return H_OK;
}

static int h_set_owner(struct vhu_dev *dev, struct vhu_msg *m)
{
    dev->owner = true;
    return H_OK;
}

static int h_reset(struct vhu_dev *dev, struct vhu_msg *m)
{
    stop_all_queues(dev);
    for (unsigned i = 0; i < dev->nqueues; i++)
        vhu_queue_reset(&dev->queues[i]);
    dev->features = 0;
    return H_OK;
}

static int h_get_queue_num(struct vhu_dev *dev, struct vhu_msg *m)
{
    return reply_u64(dev, m, dev->nqueues) < 0 ? -EIO : H_REPLIED;
}

/* Says which regions a refused table had: the reason is in their numbers. */
static void log_regions(const struct vhu_mem_region *regs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        log_error("vhost-user:   region %u: guest 0x%llx size 0x%llx user 0x%llx "
                  "file offset 0x%llx", i, (unsigned long long)regs[i].guest_phys_addr,
                  (unsigned long long)regs[i].memory_size,
                  (unsigned long long)regs[i].userspace_addr,
                  (unsigned long long)regs[i].mmap_offset);
}

static int h_set_mem_table(struct vhu_dev *dev, struct vhu_msg *m)
{
    uint32_t n = m->p.table.nregions;
    if (n > VHU_MEM_TABLE_MAX || m->hdr.size != 8 + n * sizeof(struct vhu_mem_region) ||
        m->nfds != n) {
        log_error("vhost-user: SET_MEM_TABLE with %u regions, %u bytes, %u fds", n,
                  m->hdr.size, m->nfds);
        return H_PROTOCOL;
    }
    struct vhu_memmap *map;
    int fds[VHU_MEM_TABLE_MAX];
    for (unsigned i = 0; i < VHU_MEM_TABLE_MAX; i++)
        fds[i] = i < n ? msg_take_fd(m, i) : -1;
    int r = vhu_memmap_from_table(m->p.table.regions, fds, n, &map);
    if (r < 0) {
        log_error("vhost-user: cannot map guest memory: %s", strerror(-r));
        log_regions(m->p.table.regions, n);
        return r;
    }
    mem_swap(dev, map);
    log_info("guest memory: %u region(s)", n);
    return H_OK;
}

static int h_get_max_mem_slots(struct vhu_dev *dev, struct vhu_msg *m)
{
    return reply_u64(dev, m, VHU_MAX_MEM_SLOTS) < 0 ? -EIO : H_REPLIED;
}

static int h_add_mem_reg(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_memmap *map;
    int r = vhu_memmap_add(dev->mem, &m->p.single.region, msg_take_fd(m, 0),
                           VHU_MAX_MEM_SLOTS, &map);
    if (r < 0) {
        log_error("vhost-user: cannot add memory region at 0x%llx: %s",
                  (unsigned long long)m->p.single.region.guest_phys_addr, strerror(-r));
        return r;
    }
    mem_swap(dev, map);
    return H_OK;
}

static int h_rem_mem_reg(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_memmap *map;
    int r = vhu_memmap_remove(dev->mem, &m->p.single.region, &map);
    if (r < 0) {
        log_error("vhost-user: cannot remove memory region at 0x%llx: %s",
                  (unsigned long long)m->p.single.region.guest_phys_addr, strerror(-r));
        return r;
    }
    mem_swap(dev, map);
    return H_OK;
}

static int h_set_vring_num(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_queue *q = msg_queue(dev, m->p.state.index);
    if (!q)
        return H_PROTOCOL;
    uint32_t num = m->p.state.num;
    if (num == 0 || num > VQ_MAX_SIZE || (num & (num - 1))) {
        log_error("vhost-user: queue %u: bad size %u", q->vq.index, num);
        return H_PROTOCOL;
    }
    return vhu_queue_set_num(q, num);
}

static int h_set_vring_addr(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_queue *q = msg_queue(dev, m->p.addr.index);
    if (!q)
        return H_PROTOCOL;
    return vhu_queue_set_addr(q, m->p.addr.desc_user_addr, m->p.addr.avail_user_addr,
                              m->p.addr.used_user_addr);
}

static int h_set_vring_base(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_queue *q = msg_queue(dev, m->p.state.index);
    if (!q)
        return H_PROTOCOL;
    if (m->p.state.num > 0xffff) {
        log_error("vhost-user: queue %u: base %u out of range", q->vq.index, m->p.state.num);
        return H_PROTOCOL;
    }
    return vhu_queue_set_base(q, (uint16_t)m->p.state.num);
}

static int h_get_vring_base(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_queue *q = msg_queue(dev, m->p.state.index);
    if (!q)
        return H_PROTOCOL;
    struct vhu_vring_state st = { .index = m->p.state.index };
    st.num = vhu_queue_stop(q);
    vhu_queue_close_kick(q);
    return msg_reply(dev, m, &st, sizeof(st)) < 0 ? -EIO : H_REPLIED;
}

/* KICK/CALL/ERR: u64 = index | NOFD; one fd unless NOFD. */
static struct vhu_queue *vring_fd_msg(struct vhu_dev *dev, struct vhu_msg *m, int *fd)
{
    uint64_t v = m->p.u64;
    bool nofd = v & VHU_VRING_NOFD;
    if (v & ~(VHU_VRING_IDX_MASK | VHU_VRING_NOFD) || m->nfds != (nofd ? 0u : 1u)) {
        log_error("vhost-user: %s: payload 0x%llx with %u fds", vhu_request_name(m->hdr.request),
                  (unsigned long long)v, m->nfds);
        return NULL;
    }
    struct vhu_queue *q = msg_queue(dev, (uint32_t)(v & VHU_VRING_IDX_MASK));
    if (q)
        *fd = nofd ? -1 : msg_take_fd(m, 0);
    return q;
}

static int h_set_vring_kick(struct vhu_dev *dev, struct vhu_msg *m)
{
    int fd;
    struct vhu_queue *q = vring_fd_msg(dev, m, &fd);
    if (!q)
        return H_PROTOCOL;
    if (fd < 0) {
        log_warn("queue %u: polling without a kick eventfd is not supported", q->vq.index);
        return -ENOTSUP;
    }
    return vhu_queue_set_kick(q, fd, dev);
}

static int h_set_vring_call(struct vhu_dev *dev, struct vhu_msg *m)
{
    int fd;
    struct vhu_queue *q = vring_fd_msg(dev, m, &fd);
    if (!q)
        return H_PROTOCOL;
    vq_set_call_fd(&q->vq, fd);
    return H_OK;
}

static int h_set_vring_err(struct vhu_dev *dev, struct vhu_msg *m)
{
    int fd;
    struct vhu_queue *q = vring_fd_msg(dev, m, &fd);
    if (!q)
        return H_PROTOCOL;
    vq_set_err_fd(&q->vq, fd);
    return H_OK;
}

static int h_set_vring_enable(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_queue *q = msg_queue(dev, m->p.state.index);
    if (!q)
        return H_PROTOCOL;
    if (m->p.state.num > 1) {
        log_error("vhost-user: queue %u: enable value %u", q->vq.index, m->p.state.num);
        return H_PROTOCOL;
    }
    vhu_queue_set_enabled(q, m->p.state.num == 1);
    return H_OK;
}

static int h_set_backend_req_fd(struct vhu_dev *dev, struct vhu_msg *m)
{
    pthread_mutex_lock(&dev->backend_lock);
    if (dev->backend_fd >= 0)
        close(dev->backend_fd);
    dev->backend_fd = msg_take_fd(m, 0);
    pthread_mutex_unlock(&dev->backend_lock);
    return H_OK;
}

static int h_get_config(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct virtio_fs_config_space space;
    struct vhu_config *c = &m->p.config;

    if (m->hdr.size < 12 || c->size > VHU_CONFIG_SPACE_MAX || m->hdr.size != 12 + c->size) {
        log_error("vhost-user: GET_CONFIG of %u bytes with payload %u", c->size, m->hdr.size);
        return H_PROTOCOL;
    }
    struct vhu_config reply = { .offset = c->offset, .size = c->size, .flags = c->flags };
    if (!dev->tag || c->offset > sizeof(space) || c->size > sizeof(space) - c->offset) {
        log_warn("vhost-user: GET_CONFIG of %u bytes at offset %u is outside the %zu-byte "
                 "config space", c->size, c->offset, sizeof(space));
        /* GET_CONFIG has no ack: the frontend waits for this reply either
         * way, and a config of size 0 is how a backend says it failed. */
        reply.size = 0;
        return msg_reply(dev, m, &reply, 12) < 0 ? -EIO : H_REPLIED;
    }
    memset(&space, 0, sizeof(space));
    memcpy(space.tag, dev->tag, strnlen(dev->tag, sizeof(space.tag)));
    space.num_request_queues = dev->cfg.num_request_queues;
    memcpy(reply.region, (uint8_t *)&space + c->offset, c->size);
    return msg_reply(dev, m, &reply, 12 + c->size) < 0 ? -EIO : H_REPLIED;
}

static int h_set_config(struct vhu_dev *dev, struct vhu_msg *m)
{
    struct vhu_config *c = &m->p.config;
    if (m->hdr.size < 12 || c->size > VHU_CONFIG_SPACE_MAX || m->hdr.size != 12 + c->size)
        return H_PROTOCOL;
    log_warn("vhost-user: the virtio-fs configuration space is read-only");
    return -EPERM;
}

static int h_unsupported(struct vhu_dev *dev, struct vhu_msg *m)
{
    log_warn("vhost-user: %s is not supported", vhu_request_name(m->hdr.request));
    return -ENOTSUP;
}

enum size_rule { SZ_EXACT, SZ_MIN };

struct msg_rule {
    int (*handler)(struct vhu_dev *dev, struct vhu_msg *m);
    uint32_t size;
    enum size_rule size_rule;
    int fds;              /* exact count; -1: checked by the handler */
    int needs_pfeature;   /* protocol feature bit that must be negotiated, -1 none */
};

static const struct msg_rule rules[VHU_REQUEST_MAX] = {
    [VHU_GET_FEATURES] = { h_get_features, 0, SZ_EXACT, 0, -1 },
    [VHU_SET_FEATURES] = { h_set_features, 8, SZ_EXACT, 0, -1 },
    [VHU_SET_OWNER] = { h_set_owner, 0, SZ_EXACT, 0, -1 },
    [VHU_RESET_OWNER] = { h_reset, 0, SZ_MIN, 0, -1 },
    [VHU_RESET_DEVICE] = { h_reset, 0, SZ_MIN, 0, VHU_PROTOCOL_F_RESET_DEVICE },
    [VHU_SET_MEM_TABLE] = { h_set_mem_table, 8, SZ_MIN, -1, -1 },
    [VHU_GET_MAX_MEM_SLOTS] = { h_get_max_mem_slots, 0, SZ_EXACT, 0,
                                VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS },
    [VHU_ADD_MEM_REG] = { h_add_mem_reg, sizeof(struct vhu_mem_single), SZ_EXACT, 1,
                          VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS },
    [VHU_REM_MEM_REG] = { h_rem_mem_reg, sizeof(struct vhu_mem_single), SZ_EXACT, -1,
                          VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS },
    [VHU_SET_VRING_NUM] = { h_set_vring_num, 8, SZ_EXACT, 0, -1 },
    [VHU_SET_VRING_ADDR] = { h_set_vring_addr, sizeof(struct vhu_vring_addr), SZ_EXACT, 0, -1 },
    [VHU_SET_VRING_BASE] = { h_set_vring_base, 8, SZ_EXACT, 0, -1 },
    [VHU_GET_VRING_BASE] = { h_get_vring_base, 8, SZ_EXACT, 0, -1 },
    [VHU_SET_VRING_KICK] = { h_set_vring_kick, 8, SZ_EXACT, -1, -1 },
    [VHU_SET_VRING_CALL] = { h_set_vring_call, 8, SZ_EXACT, -1, -1 },
    [VHU_SET_VRING_ERR] = { h_set_vring_err, 8, SZ_EXACT, -1, -1 },
    [VHU_GET_PROTOCOL_FEATURES] = { h_get_protocol_features, 0, SZ_EXACT, 0, -1 },
    [VHU_SET_PROTOCOL_FEATURES] = { h_set_protocol_features, 8, SZ_EXACT, 0, -1 },
    [VHU_GET_QUEUE_NUM] = { h_get_queue_num, 0, SZ_EXACT, 0, VHU_PROTOCOL_F_MQ },
    [VHU_SET_VRING_ENABLE] = { h_set_vring_enable, 8, SZ_EXACT, 0, -1 },
    [VHU_SET_BACKEND_REQ_FD] = { h_set_backend_req_fd, 0, SZ_MIN, 1,
                                 VHU_PROTOCOL_F_BACKEND_REQ },
    [VHU_GET_CONFIG] = { h_get_config, 12, SZ_MIN, 0, VHU_PROTOCOL_F_CONFIG },
    [VHU_SET_CONFIG] = { h_set_config, 12, SZ_MIN, 0, VHU_PROTOCOL_F_CONFIG },
    [VHU_SET_LOG_BASE] = { h_unsupported, 0, SZ_MIN, -1, -1 },
    [VHU_SET_LOG_FD] = { h_unsupported, 0, SZ_MIN, -1, -1 },
    [VHU_SET_VRING_ENDIAN] = { h_unsupported, 8, SZ_EXACT, 0, -1 },
    [VHU_GET_INFLIGHT_FD] = { h_unsupported, 0, SZ_MIN, -1, -1 },
    [VHU_SET_INFLIGHT_FD] = { h_unsupported, 0, SZ_MIN, -1, -1 },
};

/* Does the request expect its own reply (so REPLY_ACK does not apply)? */
static bool has_own_reply(uint32_t request)
{
    switch (request) {
    case VHU_GET_FEATURES: case VHU_GET_PROTOCOL_FEATURES: case VHU_GET_VRING_BASE:
    case VHU_GET_QUEUE_NUM: case VHU_GET_CONFIG: case VHU_GET_MAX_MEM_SLOTS:
        return true;
    default:
        return false;
    }
}

/* Returns 0 to go on, -EPROTO to close the connection. */
static int msg_handle(struct vhu_dev *dev, struct vhu_msg *m)
{
    uint32_t req = m->hdr.request;
    const struct msg_rule *rule = req < VHU_REQUEST_MAX ? &rules[req] : NULL;
    int r;

    log_debug("vhost-user: %s size %u fds %u", vhu_request_name(req), m->hdr.size, m->nfds);
    if (!rule || !rule->handler) {
        log_error("vhost-user: unknown or unsupported request %u (%s)", req,
                  vhu_request_name(req));
        return -EPROTO;
    }
    if ((rule->size_rule == SZ_EXACT && m->hdr.size != rule->size) ||
        (rule->size_rule == SZ_MIN && m->hdr.size < rule->size)) {
        log_error("vhost-user: %s with a %u-byte payload (expected %s%u)",
                  vhu_request_name(req), m->hdr.size,
                  rule->size_rule == SZ_MIN ? "at least " : "", rule->size);
        return -EPROTO;
    }
    if (rule->fds >= 0 && m->nfds != (unsigned)rule->fds) {
        log_error("vhost-user: %s with %u file descriptors (expected %d)",
                  vhu_request_name(req), m->nfds, rule->fds);
        return -EPROTO;
    }
    if (rule->needs_pfeature >= 0 && !has_protocol_feature(dev, (unsigned)rule->needs_pfeature)) {
        log_error("vhost-user: %s without negotiating its protocol feature",
                  vhu_request_name(req));
        return -EPROTO;
    }

    r = rule->handler(dev, m);
    if (r == H_PROTOCOL)
        return -EPROTO;
    if (r < 0)
        log_warn("vhost-user: %s failed: %s", vhu_request_name(req), strerror(-r));
    if (r != H_REPLIED && (m->hdr.flags & VHU_FLAG_NEED_REPLY) &&
        has_protocol_feature(dev, VHU_PROTOCOL_F_REPLY_ACK) && !has_own_reply(req)) {
        if (reply_u64(dev, m, r < 0 ? 1 : 0) < 0)
            return -EPROTO;
    }
    return 0;
}

int vhu_dev_serve(struct vhu_dev *dev, int conn_fd, int event_fd,
                  bool (*on_event)(void *arg), void *arg)
{
    struct vhu_msg *m = malloc(sizeof(*m));
    int result = 0;

    if (!m) {
        close(conn_fd);
        return -ENOMEM;
    }
    dev->conn_fd = conn_fd;
    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = conn_fd, .events = POLLIN },
            { .fd = event_fd, .events = POLLIN },
        };
        int n = poll(pfd, event_fd >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            result = neg_errno();
            break;
        }
        if (event_fd >= 0 && (pfd[1].revents & POLLIN) && on_event(arg))
            break;
        if (!pfd[0].revents)
            continue;
        int r = msg_read(conn_fd, m);
        if (r == 0)
            r = msg_handle(dev, m);
        /* Also those of a message cut short by the hang-up. */
        msg_close_fds(m);
        if (r == -ECONNRESET) {
            log_info("vhost-user: frontend disconnected");
            break;
        }
        if (r < 0) {
            log_error("vhost-user: closing the connection after a malformed message");
            result = -EPROTO;
            break;
        }
    }
    stop_all_queues(dev);
    close(conn_fd);
    dev->conn_fd = -1;
    free(m);
    return result;
}

void vhu_dev_log_stats(struct vhu_dev *dev)
{
    for (unsigned i = 0; i < dev->nqueues; i++) {
        struct vq *vq = &dev->queues[i].vq;
        if (!vq_stat_get(&vq->stats.popped) && !dev->queues[i].running)
            continue;
        log_info("queue %u: popped %llu completed %llu kicks %llu sleeps %llu poll hits %llu "
                 "(window %llu us) notifies %llu suppressed %llu%s",
                 i, (unsigned long long)vq_stat_get(&vq->stats.popped),
                 (unsigned long long)vq_stat_get(&vq->stats.completed),
                 (unsigned long long)vq_stat_get(&vq->stats.kicks),
                 (unsigned long long)vq_stat_get(&vq->stats.sleeps),
                 (unsigned long long)vq_stat_get(&vq->stats.poll_hits),
                 (unsigned long long)__atomic_load_n(&dev->queues[i].poll_ns,
                                                     __ATOMIC_RELAXED) / 1000,
                 (unsigned long long)vq_stat_get(&vq->stats.notifies),
                 (unsigned long long)vq_stat_get(&vq->stats.suppressed),
                 __atomic_load_n(&vq->broken, __ATOMIC_RELAXED) ? " (broken)" : "");
    }
}

int vhu_dev_backend_request(struct vhu_dev *dev, uint32_t request, const void *payload,
                            uint32_t size, const int *fds, unsigned nfds)
{
    struct {
        struct vhu_hdr hdr;
        uint8_t payload[VHU_MAX_PAYLOAD];
    } msg;
    int r;

    if (size > sizeof(msg.payload) || nfds > VHU_MAX_FDS)
        return -EINVAL;
    pthread_mutex_lock(&dev->backend_lock);
    if (dev->backend_fd < 0) {
        pthread_mutex_unlock(&dev->backend_lock);
        return -ENOTCONN;
    }
    bool ack = has_protocol_feature(dev, VHU_PROTOCOL_F_REPLY_ACK);
    msg.hdr.request = request;
    msg.hdr.flags = VHU_VERSION | (ack ? VHU_FLAG_NEED_REPLY : 0);
    msg.hdr.size = size;
    memcpy(msg.payload, payload, size);
    r = send_all(dev->backend_fd, &msg, sizeof(msg.hdr) + size, fds, nfds);
    if (r == 0 && ack) {
        struct {
            struct vhu_hdr hdr;
            uint64_t v;
        } reply;
        r = read_full(dev->backend_fd, &reply, sizeof(reply));
        if (r == 0 && (reply.hdr.request != request || reply.hdr.size != 8))
            r = -EPROTO;
        if (r == 0 && reply.v != 0)
            r = -EIO;
    }
    pthread_mutex_unlock(&dev->backend_lock);
    return r;
}

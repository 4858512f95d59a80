/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tests/lib/tc_vhost.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_QUEUE_SIZE 1024

/* --- socket I/O ---------------------------------------------------------- */

int tc_vhu_send(int sock, const struct tc_vhu_hdr *hdr, const void *payload, size_t len,
                const int *fds, unsigned nfds)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)hdr, .iov_len = TC_VHU_HDR_SIZE },
        { .iov_base = (void *)payload, .iov_len = len },
    };
    union {
        char buf[CMSG_SPACE(TC_VHU_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

    if (nfds > TC_VHU_MAX_FDS)
        return -EINVAL;
    if (nfds) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }

    size_t total = TC_VHU_HDR_SIZE + len;
    size_t done = 0;
    while (done < total) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return neg_errno();
        }
        done += (size_t)n;
        /* fds went with the first bytes; continue with what is left */
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
        while (n > 0 && msg.msg_iovlen) {
            size_t take = MIN((size_t)n, msg.msg_iov->iov_len);
            msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + take;
            msg.msg_iov->iov_len -= take;
            n -= (ssize_t)take;
            if (msg.msg_iov->iov_len == 0) {
                msg.msg_iov++;
                msg.msg_iovlen--;
            }
        }
    }
    return 0;
}

static int wait_readable(int fd, uint64_t deadline)
{
    for (;;) {
        int wait_ms = -1;
        if (deadline) {
            uint64_t now = clock_now_ns();
            if (now >= deadline)
                return -ETIMEDOUT;
            wait_ms = (int)((deadline - now + 999999) / 1000000);
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int r = poll(&p, 1, wait_ms);
        if (r > 0)
            return 0;
        if (r == 0)
            return -ETIMEDOUT;
        if (errno != EINTR)
            return neg_errno();
    }
}

static void take_fds(struct msghdr *msg, int *fds, unsigned *nfds, unsigned *got)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int tmp[TC_VHU_MAX_FDS];
        size_t n = MIN((c->cmsg_len - CMSG_LEN(0)) / sizeof(int), ARRAY_SIZE(tmp));
        memcpy(tmp, CMSG_DATA(c), n * sizeof(int));
        for (size_t i = 0; i < n; i++) {
            if (fds && nfds && *got < *nfds)
                fds[(*got)++] = tmp[i];
            else
                close(tmp[i]);
        }
    }
}

/* Reads exactly len bytes (buf may be NULL to discard), collecting fds. */
static int recv_exact(int sock, void *buf, size_t len, int *fds, unsigned *nfds, unsigned *got,
                      uint64_t deadline)
{
    char discard[4096];
    size_t done = 0;

    while (done < len) {
        int r = wait_readable(sock, deadline);
        if (r < 0)
            return r;
        union {
            char buf[CMSG_SPACE(TC_VHU_MAX_FDS * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {
            .iov_base = buf ? (char *)buf + done : discard,
            .iov_len = buf ? len - done : MIN(len - done, sizeof(discard)),
        };
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
        };
        ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return neg_errno();
        }
        take_fds(&msg, fds, nfds, got);
        if (n == 0)
            return -ECONNRESET;
        done += (size_t)n;
    }
    return 0;
}

int tc_vhu_recv(int sock, struct tc_vhu_hdr *hdr, void *payload, size_t max,
                int *fds, unsigned *nfds, int timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? 0 : clock_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    unsigned got = 0;
    int r;

    r = recv_exact(sock, hdr, TC_VHU_HDR_SIZE, fds, nfds, &got, deadline);
    if (r == 0) {
        size_t keep = MIN((size_t)hdr->size, max);
        r = recv_exact(sock, payload, keep, fds, nfds, &got, deadline);
        if (r == 0 && hdr->size > keep)
            r = recv_exact(sock, NULL, hdr->size - keep, fds, nfds, &got, deadline);
    }
    if (r < 0) {
        for (unsigned i = 0; i < got; i++)
            close(fds[i]);
        if (nfds)
            *nfds = 0;
        return r;
    }
    if (nfds)
        *nfds = got;
    return (int)MIN(hdr->size, (uint32_t)INT32_MAX);
}

int tc_dev_send_raw(struct tc_dev *dev, uint32_t request, uint32_t flags, const void *payload,
                    uint32_t size, const int *fds, unsigned nfds)
{
    struct tc_vhu_hdr hdr = { .request = request, .flags = flags, .size = size };
    return tc_vhu_send(dev->sock, &hdr, payload, size, fds, nfds);
}

int tc_dev_recv_raw(struct tc_dev *dev, struct tc_vhu_hdr *hdr, void *payload, size_t max,
                    int timeout_ms)
{
    return tc_vhu_recv(dev->sock, hdr, payload, max, NULL, NULL, timeout_ms);
}

bool tc_dev_peer_closed(struct tc_dev *dev, int timeout_ms)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
    char buf[4096];

    for (;;) {
        int r = wait_readable(dev->sock, deadline);
        if (r == -ETIMEDOUT) {
            /* one last non-blocking look */
            ssize_t n = recv(dev->sock, buf, sizeof(buf), MSG_DONTWAIT);
            return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
        }
        if (r < 0)
            return true;
        ssize_t n = recv(dev->sock, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0)
            return true;
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return true; /* ECONNRESET and friends */
    }
}

/* --- requests ------------------------------------------------------------ */

static bool has_reply(uint32_t request)
{
    switch (request) {
    case TC_VHU_GET_FEATURES:
    case TC_VHU_GET_PROTOCOL_FEATURES:
    case TC_VHU_GET_VRING_BASE:
    case TC_VHU_GET_QUEUE_NUM:
    case TC_VHU_GET_CONFIG:
    case TC_VHU_GET_MAX_MEM_SLOTS:
    case TC_VHU_GET_INFLIGHT_FD:
    case TC_VHU_GET_STATUS:
    case TC_VHU_IOTLB_MSG:
        return true;
    default:
        return false;
    }
}

/* Receives the reply to `request`, checking the header. */
static int recv_reply(struct tc_dev *dev, uint32_t request, void *reply, uint32_t reply_size)
{
    struct tc_vhu_hdr hdr;
    int n = tc_vhu_recv(dev->sock, &hdr, reply, reply_size, NULL, NULL, dev->timeout_ms);

    if (n < 0)
        return n;
    if (hdr.request != request || (hdr.flags & 0x3) != TC_VHU_VERSION ||
        !(hdr.flags & TC_VHU_FLAG_REPLY))
        return -EPROTO;
    return n;
}

int tc_dev_request(struct tc_dev *dev, uint32_t request, const void *payload, uint32_t size,
                   const int *fds, unsigned nfds, void *reply, uint32_t reply_size)
{
    bool want_reply = has_reply(request);
    bool want_ack = !want_reply && dev->reply_ack;
    uint32_t flags = TC_VHU_VERSION | (want_ack ? TC_VHU_FLAG_NEED_REPLY : 0);
    int r;

    r = tc_dev_send_raw(dev, request, flags, payload, size, fds, nfds);
    if (r < 0)
        return r;
    if (want_reply)
        return recv_reply(dev, request, reply, reply_size);
    if (want_ack) {
        uint64_t ack = 0;
        r = recv_reply(dev, request, &ack, sizeof(ack));
        if (r < 0)
            return r;
        if (r != sizeof(ack))
            return -EPROTO;
        return ack ? -EIO : 0;
    }
    return 0;
}

static int request_u64(struct tc_dev *dev, uint32_t request, uint64_t *val)
{
    int r = tc_dev_request(dev, request, NULL, 0, NULL, 0, val, sizeof(*val));
    if (r < 0)
        return r;
    return r == sizeof(*val) ? 0 : -EPROTO;
}

static int send_u64(struct tc_dev *dev, uint32_t request, uint64_t val)
{
    return tc_dev_request(dev, request, &val, sizeof(val), NULL, 0, NULL, 0);
}

static int send_state(struct tc_dev *dev, uint32_t request, uint32_t index, uint32_t num)
{
    struct tc_vhu_vring_state s = { .index = index, .num = num };
    return tc_dev_request(dev, request, &s, sizeof(s), NULL, 0, NULL, 0);
}

/* --- handshake ----------------------------------------------------------- */

int tc_dev_negotiate(struct tc_dev *dev)
{
    unsigned cf = dev->cfg_flags;
    int r;

    r = request_u64(dev, TC_VHU_GET_FEATURES, &dev->dev_features);
    if (r < 0)
        return r;
    r = tc_dev_request(dev, TC_VHU_SET_OWNER, NULL, 0, NULL, 0, NULL, 0);
    if (r < 0)
        return r;

    bool use_protocol = (dev->dev_features & (1ull << TC_VHU_F_PROTOCOL_FEATURES)) &&
                        !(cf & TC_CFG_NO_PROTOCOL_FEATURES);
    if (use_protocol) {
        r = request_u64(dev, TC_VHU_GET_PROTOCOL_FEATURES, &dev->dev_protocol_features);
        if (r < 0)
            return r;
        uint64_t want = 0;
        if (!(cf & TC_CFG_NO_MQ))
            want |= 1ull << TC_VHU_PROTOCOL_F_MQ;
        if (!(cf & TC_CFG_NO_REPLY_ACK))
            want |= 1ull << TC_VHU_PROTOCOL_F_REPLY_ACK;
        if (!(cf & TC_CFG_NO_BACKEND_REQ))
            want |= 1ull << TC_VHU_PROTOCOL_F_BACKEND_REQ;
        if (!(cf & TC_CFG_NO_CONFIG))
            want |= 1ull << TC_VHU_PROTOCOL_F_CONFIG;
        want |= 1ull << TC_VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS;
        dev->protocol_features = dev->dev_protocol_features & want;
        r = send_u64(dev, TC_VHU_SET_PROTOCOL_FEATURES, dev->protocol_features);
        if (r < 0)
            return r;
        /* acks apply from the next message on */
        dev->reply_ack = tc_dev_has_protocol_feature(dev, TC_VHU_PROTOCOL_F_REPLY_ACK);

        if (tc_dev_has_protocol_feature(dev, TC_VHU_PROTOCOL_F_MQ)) {
            r = request_u64(dev, TC_VHU_GET_QUEUE_NUM, &dev->queue_num);
            if (r < 0)
                return r;
            if (dev->nqueues > dev->queue_num)
                return -EOPNOTSUPP;
        }
        if (tc_dev_has_protocol_feature(dev, TC_VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS)) {
            r = request_u64(dev, TC_VHU_GET_MAX_MEM_SLOTS, &dev->max_mem_slots);
            if (r < 0)
                return r;
        }
        if (tc_dev_has_protocol_feature(dev, TC_VHU_PROTOCOL_F_BACKEND_REQ)) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return neg_errno();
            r = tc_dev_request(dev, TC_VHU_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1, NULL, 0);
            close(sv[1]);
            if (r < 0) {
                close(sv[0]);
                return r;
            }
            dev->backend_fd = sv[0];
        }
    }

    uint64_t want = 0;
    if (!(cf & TC_CFG_NO_VERSION_1))
        want |= 1ull << VIRTIO_F_VERSION_1;
    if (!(cf & TC_CFG_NO_EVENT_IDX))
        want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
    if (!(cf & TC_CFG_NO_INDIRECT))
        want |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
    if (use_protocol)
        want |= 1ull << TC_VHU_F_PROTOCOL_FEATURES;
    dev->features = dev->dev_features & want;
    return send_u64(dev, TC_VHU_SET_FEATURES, dev->features);
}

static struct tc_vhu_mem_region region_desc(const struct tc_dev *dev, unsigned i)
{
    const struct tc_mem_region *m = tc_mem_region(dev->mem, i);
    return (struct tc_vhu_mem_region){
        .guest_phys_addr = m->gpa,
        .memory_size = m->size,
        .userspace_addr = m->uaddr,
        .mmap_offset = m->mmap_offset,
    };
}

int tc_dev_add_mem_reg(struct tc_dev *dev, unsigned region)
{
    if (region >= tc_mem_nregions(dev->mem))
        return -EINVAL;
    struct tc_vhu_mem_reg m = { .region = region_desc(dev, region) };
    int fd = tc_mem_fd(dev->mem);
    return tc_dev_request(dev, TC_VHU_ADD_MEM_REG, &m, sizeof(m), &fd, 1, NULL, 0);
}

int tc_dev_rem_mem_reg(struct tc_dev *dev, unsigned region)
{
    if (region >= tc_mem_nregions(dev->mem))
        return -EINVAL;
    struct tc_vhu_mem_reg m = { .region = region_desc(dev, region) };
    return tc_dev_request(dev, TC_VHU_REM_MEM_REG, &m, sizeof(m), NULL, 0, NULL, 0);
}

int tc_dev_set_mem(struct tc_dev *dev)
{
    unsigned n = tc_mem_nregions(dev->mem);

    if (dev->cfg_flags & TC_CFG_MEM_SLOTS) {
        if (!tc_dev_has_protocol_feature(dev, TC_VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) ||
            dev->max_mem_slots < n)
            return -EOPNOTSUPP;
        for (unsigned i = 0; i < n; i++) {
            int r = tc_dev_add_mem_reg(dev, i);
            if (r < 0)
                return r;
        }
        return 0;
    }

    struct tc_vhu_mem_table t = { .nregions = n };
    int fds[TC_VHU_MAX_FDS];
    for (unsigned i = 0; i < n; i++) {
        t.regions[i] = region_desc(dev, i);
        fds[i] = tc_mem_fd(dev->mem);
    }
    /* like QEMU: only the regions in use travel */
    uint32_t size = (uint32_t)(offsetof(struct tc_vhu_mem_table, regions) +
                               n * sizeof(struct tc_vhu_mem_region));
    return tc_dev_request(dev, TC_VHU_SET_MEM_TABLE, &t, size, fds, n, NULL, 0);
}

int tc_dev_queue_enable(struct tc_dev *dev, unsigned q, bool enable)
{
    if (q >= dev->nqueues)
        return -EINVAL;
    return send_state(dev, TC_VHU_SET_VRING_ENABLE, q, enable ? 1 : 0);
}

int tc_dev_queue_start(struct tc_dev *dev, unsigned q, bool reset, uint16_t base)
{
    int r;

    if (q >= dev->nqueues)
        return -EINVAL;
    struct tc_vq *vq = &dev->vqs[q];
    if (!vq->mem) {
        unsigned flags = 0;
        if (tc_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX))
            flags |= TC_VQ_EVENT_IDX;
        if (tc_dev_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC))
            flags |= TC_VQ_INDIRECT;
        r = tc_vq_init(vq, dev->mem, q, dev->queue_size, flags);
        if (r < 0)
            return r;
        vq->watch_fd = dev->sock;
    } else if (reset) {
        tc_vq_reset(vq);
    }
    if (reset)
        base = 0;

    r = send_state(dev, TC_VHU_SET_VRING_NUM, q, vq->num);
    if (r < 0)
        return r;
    r = send_state(dev, TC_VHU_SET_VRING_BASE, q, base);
    if (r < 0)
        return r;
    struct tc_vhu_vring_addr a = { .index = q, .log_guest_addr = vq->used_gpa };
    r = tc_mem_uaddr(dev->mem, vq->desc_gpa, tc_vring_desc_size(vq->num), &a.desc_user_addr);
    if (r == 0)
        r = tc_mem_uaddr(dev->mem, vq->avail_gpa, tc_vring_avail_size(vq->num), &a.avail_user_addr);
    if (r == 0)
        r = tc_mem_uaddr(dev->mem, vq->used_gpa, tc_vring_used_size(vq->num), &a.used_user_addr);
    if (r < 0)
        return r;
    r = tc_dev_request(dev, TC_VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL, 0);
    if (r < 0)
        return r;
    uint64_t idx = q;
    r = tc_dev_request(dev, TC_VHU_SET_VRING_KICK, &idx, sizeof(idx), &vq->kick_fd, 1, NULL, 0);
    if (r < 0)
        return r;
    r = tc_dev_request(dev, TC_VHU_SET_VRING_CALL, &idx, sizeof(idx), &vq->call_fd, 1, NULL, 0);
    if (r < 0)
        return r;
    if (tc_dev_has_feature(dev, TC_VHU_F_PROTOCOL_FEATURES)) {
        r = tc_dev_queue_enable(dev, q, true);
        if (r < 0)
            return r;
    }
    dev->started[q] = true;
    return 0;
}

int tc_dev_queue_stop(struct tc_dev *dev, unsigned q, uint32_t *base)
{
    struct tc_vhu_vring_state s = { .index = q };

    if (q >= dev->nqueues)
        return -EINVAL;
    int r = tc_dev_request(dev, TC_VHU_GET_VRING_BASE, &s, sizeof(s), NULL, 0, &s, sizeof(s));
    if (r < 0)
        return r;
    if (r != sizeof(s) || s.index != q)
        return -EPROTO;
    dev->started[q] = false;
    if (base)
        *base = s.num;
    return 0;
}

int tc_dev_get_config(struct tc_dev *dev, uint32_t offset, void *buf, uint32_t size)
{
    struct {
        struct tc_vhu_config_hdr h;
        uint8_t data[256];
    } msg = { .h = { .offset = offset, .size = size } };

    if (!tc_dev_has_protocol_feature(dev, TC_VHU_PROTOCOL_F_CONFIG))
        return -EOPNOTSUPP;
    if (size > sizeof(msg.data))
        return -EINVAL;
    uint32_t len = (uint32_t)sizeof(msg.h) + size;
    int r = tc_dev_request(dev, TC_VHU_GET_CONFIG, &msg, len, NULL, 0, &msg, sizeof(msg));
    if (r < 0)
        return r;
    if ((uint32_t)r < sizeof(msg.h) || msg.h.size == 0)
        return -EIO;
    if ((uint32_t)r != len || msg.h.size != size)
        return -EPROTO;
    memcpy(buf, msg.data, size);
    return (int)size;
}

/* --- lifetime ------------------------------------------------------------ */

static int connect_path(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return neg_errno();
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return neg_errno();
    return TAKE_FD(fd);
}

int tc_dev_connect(const struct tc_config *cfg, struct tc_dev **out)
{
    int r;

    struct tc_dev *dev = calloc(1, sizeof(*dev));
    if (!dev) {
        if (!cfg->socket_path && cfg->fd >= 0)
            close(cfg->fd);
        return -ENOMEM;
    }
    dev->backend_fd = -1;
    dev->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
    dev->cfg_flags = cfg->flags;
    dev->nqueues = 1 + (cfg->num_request_queues ? cfg->num_request_queues : 1);
    unsigned qsize = cfg->queue_size ? cfg->queue_size : DEFAULT_QUEUE_SIZE;
    dev->queue_size = (uint16_t)qsize;
    dev->fuse.next_unique = 1;
    if (cfg->socket_path) {
        dev->sock = connect_path(cfg->socket_path);
        if (dev->sock < 0) {
            r = dev->sock;
            goto out_free_dev;
        }
    } else {
        dev->sock = cfg->fd;
        if (dev->sock < 0) {
            r = -EBADF;
            goto out_free_dev;
        }
    }

    if (qsize > 32768 || (qsize & (qsize - 1))) {
        r = -EINVAL;
        goto out_free_dev;
    }
    r = tc_mem_new(cfg->mem_size, cfg->mem_regions, &dev->mem);
    if (r < 0)
        goto out_free_dev;
    dev->vqs = calloc(dev->nqueues, sizeof(*dev->vqs));
    dev->started = calloc(dev->nqueues, sizeof(*dev->started));
    dev->fuse.scratch = calloc(dev->nqueues, sizeof(*dev->fuse.scratch));
    if (!dev->vqs || !dev->started || !dev->fuse.scratch) {
        r = -ENOMEM;
        goto out_free_dev;
    }
    for (unsigned q = 0; q < dev->nqueues; q++) {
        dev->vqs[q].kick_fd = -1;
        dev->vqs[q].call_fd = -1;
    }
    if (cfg->flags & TC_CFG_CONNECT_ONLY) {
        *out = dev;
        return 0;
    }

    r = tc_dev_negotiate(dev);
    if (r < 0)
        goto out_free_dev;
    r = tc_dev_set_mem(dev);
    if (r < 0)
        goto out_free_dev;

    if (!(cfg->flags & TC_CFG_NO_QUEUES)) {
        for (unsigned q = 0; q < dev->nqueues; q++) {
            r = tc_dev_queue_start(dev, q, false, 0);
            if (r < 0)
                goto out_free_dev;
        }
    }
    *out = dev;
    return 0;

out_free_dev:
    tc_dev_free(dev);
    return r;
}

void tc_dev_free(struct tc_dev *dev)
{
    if (!dev)
        return;
    /* hang up first so the backend stops touching the rings */
    if (dev->sock >= 0)
        close(dev->sock);
    if (dev->backend_fd >= 0)
        close(dev->backend_fd);
    if (dev->fuse.scratch)
        for (unsigned q = 0; q < dev->nqueues; q++)
            tc_buf_free(dev->mem, &dev->fuse.scratch[q]);
    if (dev->vqs)
        for (unsigned q = 0; q < dev->nqueues; q++)
            if (dev->vqs[q].mem)
                tc_vq_done(&dev->vqs[q]);
    free(dev->fuse.scratch);
    free(dev->vqs);
    free(dev->started);
    tc_mem_free(dev->mem);
    free(dev);
}

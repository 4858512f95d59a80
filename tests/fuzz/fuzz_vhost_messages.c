/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the vhost-user message loop (vhost/device.c) with the guest
 * memory map and queue lifecycle behind it (memory.c, queue.c, vring.c).
 *
 * The input is the byte stream a frontend writes on the socket: vhost-user
 * messages (12-byte header, payload). The one liberty: bits 16-19 of a
 * header's flags (reserved by the protocol) are not sent but say how many
 * file descriptors to attach to that message (at most FDS_PER_INPUT per
 * input): memfds for the memory messages, sized to cover the regions the
 * payload names so that mapping them never faults, eventfds otherwise.
 * That lets an input map memory and start queues; the queue threads then
 * find zeroed rings and wait for kicks that never come.
 *
 * The whole stream is queued on a socketpair before the device reads it,
 * then our end is shut for writing; a thread drains the device's replies
 * so it never blocks. vhu_dev_serve() returns at the end of the stream or
 * at the first malformed message. Then the device is freed and no file
 * descriptor may be left open.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/request.h"
#include "tests/fuzz/fuzz.h"
#include "vhost/device.h"
#include "vhost/protocol.h"

#define MAX_INPUT (64u * 1024u)   /* fits in the socket buffer at once */
#define FDS_PER_INPUT 32u
#define FDS_SHIFT 16
#define FDS_MASK (0xfu << FDS_SHIFT)
#define HDR_SIZE sizeof(struct vhu_hdr)

/* Completes every request at once, with nothing written. */
static void handle(void *qctx, struct req **reqs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        req_complete(reqs[i], 0);
}

/* Reads the device's replies until it closes its end. */
static void *drain(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    return NULL;
}

/*
 * Size a memfd attached as fd `i` of a memory message must have, so that
 * the region the payload gives it is backed (0: nothing to cover).
 */
static uint64_t memfd_size(uint32_t request, const uint8_t *payload, size_t len, unsigned i)
{
    struct vhu_mem_region reg;
    size_t off;

    if (request == VHU_SET_MEM_TABLE)
        off = 8 + i * sizeof(reg);
    else if (request == VHU_ADD_MEM_REG && i == 0)
        off = offsetof(struct vhu_mem_single, region);
    else
        return 0;
    if (off + sizeof(reg) > len)
        return 0;
    memcpy(&reg, payload + off, sizeof(reg));
    uint64_t end;
    if (__builtin_add_overflow(reg.mmap_offset, reg.memory_size, &end) || end > INT64_MAX)
        return 0; /* the device refuses it, or cannot map that much */
    return end;
}

static int make_fd(uint32_t request, const uint8_t *payload, size_t len, unsigned i)
{
    if (request != VHU_SET_MEM_TABLE && request != VHU_ADD_MEM_REG &&
        request != VHU_REM_MEM_REG && request != VHU_SET_LOG_FD &&
        request != VHU_SET_INFLIGHT_FD)
        return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t size = memfd_size(request, payload, len, i);
    /* Sparse: only what the device touches (rings) gets pages. */
    if (ftruncate(fd, (off_t)(size ? size : 4096)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends one message (header + what is present of its payload) with fds. */
static void send_with_fds(int sock, uint8_t *msg, size_t len, unsigned nfds,
                          unsigned *fd_budget)
{
    struct vhu_hdr h;
    int fds[15];
    unsigned n = 0;
    char control[CMSG_SPACE(sizeof(fds))];
    struct iovec iov = { msg, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    memcpy(&h, msg, sizeof(h));
    if (nfds > *fd_budget)
        nfds = *fd_budget;
    for (; n < nfds; n++) {
        fds[n] = make_fd(h.request, msg + HDR_SIZE, len - HDR_SIZE, n);
        if (fds[n] < 0)
            break;
    }
    *fd_budget -= n;
    if (n) {
        memset(control, 0, sizeof(control));
        mh.msg_control = control;
        mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    ssize_t sent = sendmsg(sock, &mh, MSG_NOSIGNAL);
    FUZZ_CHECK(sent == (ssize_t)len, "sendmsg of %zu bytes: %zd (%s)", len, sent,
               strerror(errno));
    /* The socket holds its own references now. */
    for (unsigned i = 0; i < n; i++)
        close(fds[i]);
}

static void send_plain(int sock, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
        FUZZ_CHECK(n > 0, "send of %zu bytes: %s", len, strerror(errno));
        buf += n;
        len -= (size_t)n;
    }
}

/*
 * Queues the input on the socket: runs of messages without fds go in one
 * send() (fewer socket buffers), each message with fds in its own
 * sendmsg(), as a frontend does.
 */
static void queue_input(int sock, uint8_t *data, size_t size)
{
    size_t pos = 0, plain_start = 0;
    unsigned fd_budget = FDS_PER_INPUT;

    while (size - pos >= HDR_SIZE) {
        struct vhu_hdr h;
        memcpy(&h, data + pos, sizeof(h));
        unsigned nfds = (h.flags & FDS_MASK) >> FDS_SHIFT;
        h.flags &= ~FDS_MASK;
        memcpy(data + pos, &h, sizeof(h));
        size_t len = HDR_SIZE + (h.size < size - pos - HDR_SIZE ? h.size : size - pos - HDR_SIZE);
        if (nfds && fd_budget) {
            send_plain(sock, data + plain_start, pos - plain_start);
            send_with_fds(sock, data + pos, len, nfds, &fd_budget);
            plain_start = pos + len;
        }
        pos += len;
    }
    send_plain(sock, data + plain_start, size - plain_start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct vhu_dev_config cfg = {
        .max_queues = 3,
        .tag = "fuzz",
        .num_request_queues = 2,
        .handler = { .handle = handle },
    };
    struct vhu_dev *dev;
    int sv[2];
    pthread_t drainer;

    if (!ready) {
        fuzz_setup_logs();
        ready = true;
    }
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    int fds_before = fuzz_count_fds();

    /* Our copy: the fd-count bits are cleared before sending. */
    uint8_t *copy = malloc(size ? size : 1);
    FUZZ_CHECK(copy, "out of memory");
    if (size)
        memcpy(copy, data, size);

    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
               strerror(errno));
    int sndbuf = 4 * 1024 * 1024;
    /* Root may go past wmem_max; otherwise take what we get. */
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)) < 0)
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    queue_input(sv[0], copy, size);
    shutdown(sv[0], SHUT_WR);
    free(copy);

    FUZZ_CHECK(vhu_dev_new(&cfg, &dev) == 0, "vhu_dev_new");
    FUZZ_CHECK(pthread_create(&drainer, NULL, drain, &sv[0]) == 0, "pthread_create");
    int r = vhu_dev_serve(dev, sv[1], -1, NULL, NULL);
    FUZZ_CHECK(r == 0 || r == -EPROTO, "vhu_dev_serve returned %d", r);
    pthread_join(drainer, NULL);
    close(sv[0]);
    vhu_dev_free(dev);

    int fds_after = fuzz_count_fds();
    FUZZ_CHECK(fds_after == fds_before, "%d file descriptors before, %d after", fds_before,
               fds_after);
    return 0;
}

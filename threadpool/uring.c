/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "threadpool/uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

struct uring {
    struct io_uring ring;
    unsigned prepared;        /* SQEs not yet sent to the kernel */
    unsigned inflight;        /* sent and not reaped */
    struct req_io_engine iface;
};

static int uring_submit(void *engine, struct req *req, const struct req_io *io, req_io_cb *cb);

int uring_new(unsigned entries, struct uring **out)
{
    struct uring *u = calloc(1, sizeof(*u));
    if (!u)
        return -ENOMEM;
    int r = io_uring_queue_init(MAX(entries, 8u), &u->ring, 0);
    if (r < 0) {
        free(u);
        return r;
    }
    u->iface.submit = uring_submit;
    u->iface.engine = u;
    *out = u;
    return 0;
}

void uring_free(struct uring *u)
{
    if (!u)
        return;
    uring_drain(u);
    io_uring_queue_exit(&u->ring);
    free(u);
}

const struct req_io_engine *uring_engine(struct uring *u)
{
    return &u->iface;
}

int uring_event_fd(struct uring *u)
{
    /* The ring's own fd polls readable while completions wait: nothing to
     * clear but the completion queue itself, no syscall per reap. */
    return u->ring.ring_fd;
}

unsigned uring_inflight(const struct uring *u)
{
    return u->inflight + u->prepared;
}

static void send_prepared(struct uring *u)
{
    while (u->prepared) {
        int n = io_uring_submit(&u->ring);
        if (n >= 0) {
            u->inflight += (unsigned)n;
            u->prepared -= MIN((unsigned)n, u->prepared);
            if (n == 0)
                break;
        } else if (n != -EINTR && n != -EAGAIN && n != -EBUSY) {
            log_error("io_uring submit failed: %s", strerror(-n));
            break;
        }
    }
}

static int uring_submit(void *engine, struct req *req, const struct req_io *io, req_io_cb *cb)
{
    struct uring *u = engine;
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (!sqe) {
        /* The ring is full of prepared entries: send them and retry once. */
        send_prepared(u);
        sqe = io_uring_get_sqe(&u->ring);
        if (!sqe)
            return -EBUSY;
    }
    switch (io->op) {
    case REQ_IO_READV:
        io_uring_prep_readv2(sqe, io->fd, io->iov, io->iovcnt, io->offset, io->mode);
        break;
    case REQ_IO_WRITEV:
        io_uring_prep_writev2(sqe, io->fd, io->iov, io->iovcnt, io->offset, io->mode);
        break;
    case REQ_IO_FSYNC:
        io_uring_prep_fsync(sqe, io->fd, 0);
        break;
    case REQ_IO_FDATASYNC:
        io_uring_prep_fsync(sqe, io->fd, IORING_FSYNC_DATASYNC);
        break;
    case REQ_IO_FALLOCATE:
        io_uring_prep_fallocate(sqe, io->fd, io->mode, io->offset, io->len);
        break;
    default:
        /* give the SQE back as a no-op nobody waits for */
        io_uring_prep_nop(sqe);
        io_uring_sqe_set_data(sqe, NULL);
        u->prepared++;
        return -ENOTSUP;
    }
    req->io_cb = cb;
    io_uring_sqe_set_data(sqe, req);
    u->prepared++;
    return 0;
}

void uring_reap(struct uring *u)
{
    struct io_uring_cqe *cqe;

    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct req *req = io_uring_cqe_get_data(cqe);
        int64_t res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        u->inflight--;
        if (req)
            req->io_cb(req, res);
    }
}

bool uring_ready(struct uring *u)
{
    return io_uring_cq_ready(&u->ring) > 0;
}

void uring_flush(struct uring *u)
{
    send_prepared(u);
    /* Page-cache hits complete during the submit: answer them now. */
    if (u->inflight)
        uring_reap(u);
}

void uring_drain(struct uring *u)
{
    send_prepared(u);
    while (u->inflight) {
        struct io_uring_cqe *cqe;
        int r = io_uring_wait_cqe(&u->ring, &cqe);
        if (r < 0 && r != -EINTR) {
            log_error("io_uring wait failed: %s", strerror(-r));
            break;
        }
        uring_reap(u);
    }
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The request object: the seam between transports (virtqueue, /dev/fuse) and
 * the FUSE engine. A transport fills in the iovecs and the completion
 * callback; the engine parses the readable side, writes its reply into the
 * writable side and ends the request with req_complete(), exactly once.
 *
 * The iovecs point into guest memory (virtqueue transport) and are valid
 * until completion only. Everything read through them is untrusted.
 */
#ifndef COMMON_REQUEST_H
#define COMMON_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct req;

/*
 * Transport completion. `written` bytes of the writable side hold the reply
 * (0 for requests that get no reply). Called once per request, from whatever
 * thread finished it.
 */
typedef void req_done_fn(struct req *req, uint32_t written);

/*
 * An asynchronous I/O engine an executor may attach to a request so the FUSE
 * engine can submit READ/WRITE/FSYNC/FALLOCATE instead of blocking. When
 * submit() returns 0, the engine later calls `cb(req, result)` on the thread
 * that owns the engine with the syscall's result (>= 0 or -errno). Any other
 * return means "not submitted, do it synchronously".
 */
enum req_io_op {
    REQ_IO_READV,
    REQ_IO_WRITEV,
    REQ_IO_FSYNC,
    REQ_IO_FDATASYNC,
    REQ_IO_FALLOCATE,
};

struct req_io {
    enum req_io_op op;
    int fd;
    const struct iovec *iov;
    unsigned iovcnt;
    uint64_t offset;
    uint64_t len;  /* FALLOCATE: the range; READV: the iovecs' total */
    int mode;      /* FALLOCATE mode, RWF_* flags for READV/WRITEV */
};

typedef void req_io_cb(struct req *req, int64_t result);

struct req_io_engine {
    int (*submit)(void *engine, struct req *req, const struct req_io *io, req_io_cb *cb);
    void *engine;
};

struct req {
    const struct iovec *in;   /* readable by the daemon: guest -> host, untrusted */
    unsigned in_cnt;
    const struct iovec *out;  /* writable by the daemon: host -> guest */
    unsigned out_cnt;

    req_done_fn *done;        /* set by the transport */
    void *transport;          /* transport's own pointer (its queue) */
    uint32_t slot;            /* transport's own index (descriptor head) */
    /* Set by the transport: when this request completed, were more waiting
     * to be popped? Only on the thread that popped it, after it completed
     * there, before that thread pops again. NULL: unknown. */
    bool (*more_waiting)(const struct req *req);

    const struct req_io_engine *io; /* optional, set by the executor */
    req_io_cb *io_cb;         /* the engine's: whom to call when the I/O completes */
    void *exec_queue;         /* the executor's: which of its queues owns the request */
    struct req *next;         /* executor's link while the request waits in a queue */

    /* Transport-provided room to describe a payload slice that must outlive
     * the handler (asynchronous I/O): at least in_cnt + out_cnt entries. */
    struct iovec *iov_scratch;
    unsigned iov_scratch_cap;

    /* Filled by the FUSE engine while the request is in flight. */
    uint64_t unique;
    uint32_t opcode;
    uint64_t start_ns;        /* when the transport popped it */
    uint64_t op_state[6];     /* engine's per-request state across async I/O */
};

static inline void req_complete(struct req *req, uint32_t written)
{
    req->done(req, written);
}

#endif

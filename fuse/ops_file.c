/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Open files: open/create, READ and WRITE straight between guest memory and the file. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "fuse/internal.h"

int fp_op_open(struct fp_req *r)
{
    const struct fuse_open_in *in = fp_args_fixed(&r->args, sizeof(*in));
    uint64_t fh;
    uint32_t open_flags = 0;
    /* open_flags is 0 from guests older than 7.33, which never send it. */
    r->ctx.kill_suidgid = in->open_flags & FUSE_OPEN_KILL_SUIDGID;
    int ret = pt_open(r->s->fs, &r->ctx, r->in.nodeid, in->flags, &fh, &open_flags);
    if (ret < 0)
        return ret;
    return fp_reply_open(r, fh, open_flags);
}

int fp_op_create(struct fp_req *r)
{
    const struct fuse_create_in *in = fp_args_fixed(&r->args, sizeof(*in));
    const char *name = fp_args_name(&r->args, false);
    struct pt_secctx sc[FP_MAX_SECCTX];
    struct pt_entry e;
    uint64_t fh;
    uint32_t open_flags = 0;
    if (!name)
        return r->args.err;
    int ret = fp_decode_create_ext(r, sc, FP_MAX_SECCTX);
    if (ret < 0)
        return ret;
    r->ctx.kill_suidgid = in->open_flags & FUSE_OPEN_KILL_SUIDGID;
    ret = pt_create(r->s->fs, &r->ctx, r->in.nodeid, name, in->mode, in->flags, in->umask,
                        &e, &fh, &open_flags);
    if (ret < 0)
        return ret;
    return fp_reply_create(r, &e, fh, open_flags);
}

int fp_op_tmpfile(struct fp_req *r)
{
    const struct fuse_create_in *in = fp_args_fixed(&r->args, sizeof(*in));
    /* The guest's VFS names the unnamed file "/"; only its presence counts. */
    const char *name = fp_args_str(&r->args, NAME_MAX);
    struct pt_secctx sc[FP_MAX_SECCTX];
    struct pt_entry e;
    uint64_t fh;
    uint32_t open_flags = 0;
    if (!name)
        return r->args.err;
    int ret = fp_decode_create_ext(r, sc, FP_MAX_SECCTX);
    if (ret < 0)
        return ret;
    ret = pt_tmpfile(r->s->fs, &r->ctx, r->in.nodeid, in->mode, in->flags, in->umask, &e,
                         &fh, &open_flags);
    if (ret < 0)
        return ret;
    return fp_reply_create(r, &e, fh, open_flags);
}

/*
 * Asynchronous file I/O: when the executor attached an I/O engine to the
 * request, READ, WRITE, FSYNC and FALLOCATE are submitted to it and the
 * reply is written from the completion. The payload iovecs then live in the
 * request's own iov_scratch, which outlives the handler.
 */
struct aio_state {
    struct fp_session *s;
    struct pt_file *file;
};
_Static_assert(sizeof(struct aio_state) <= sizeof(((struct req *)0)->op_state),
               "async state must fit in the request");

static void aio_done(struct req *req, int64_t res)
{
    struct aio_state *st = (struct aio_state *)req->op_state;
    struct fp_req r = {
        .s = st->s, .req = req, .in = { .unique = req->unique, .opcode = req->opcode },
    };

    pt_file_put(st->s->fs, st->file);
    if (res < 0) {
        fp_reply_err(&r, (int)res);
    } else if (req->opcode == FUSE_READ) {
        fp_reply_payload_done(&r, (size_t)res);
    } else if (req->opcode == FUSE_WRITE) {
        struct fuse_write_out out = { .size = (uint32_t)res };
        fp_reply_ok(&r, &out, sizeof(out));
    } else {
        fp_reply_ok(&r, NULL, 0);
    }
}

/*
 * A buffered read whose data is all in the page cache, done now with one
 * preadv2(RWF_NOWAIT): the reply then leaves at once, as in inline mode,
 * instead of with the rest of its batch once the engine's submission
 * returns. -1 when any of it would need the device (or the file cannot say).
 */
static ssize_t read_cached(const struct req_io *io)
{
    ssize_t got = preadv2(io->fd, io->iov, (int)io->iovcnt, (off_t)io->offset,
                          RWF_NOWAIT | io->mode);
    return got >= 0 && (uint64_t)got == io->len ? got : -1;
}

/*
 * Hands the I/O to the request's engine. Returns FP_DONE when submitted (the
 * completion replies), a negative errno to reply now, or 1 when there is no
 * engine or it declined: then the caller does the I/O itself.
 */
static int aio_submit(struct fp_req *r, enum pt_io_kind kind, uint64_t fh, uint32_t flags,
                      struct req_io *io)
{
    const struct req_io_engine *eng = r->req->io;
    struct pt_file *file;

    if (!eng)
        return 1;
    int ret = pt_io_begin(r->s->fs, kind, fh, io->offset, flags, &file);
    if (ret < 0)
        return ret;
    io->fd = pt_file_fd(file);
    if (io->op == REQ_IO_READV && !pt_file_direct(file)) {
        ssize_t got = read_cached(io);
        if (got >= 0) {
            pt_file_put(r->s->fs, file);
            return fp_reply_payload_done(r, (size_t)got);
        }
    }
    struct aio_state *st = (struct aio_state *)r->req->op_state;
    st->s = r->s;
    st->file = file;
    if (eng->submit(eng->engine, r->req, io, aio_done) == 0)
        return FP_DONE;
    pt_file_put(r->s->fs, file);
    return 1;
}

int fp_op_read(struct fp_req *r)
{
    const struct fuse_read_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct iovec stack_iov[FP_MAX_IOV];
    struct iovec *iov = r->req->io ? r->req->iov_scratch : stack_iov;
    unsigned cap = r->req->io ? r->req->iov_scratch_cap : FP_MAX_IOV;
    size_t len;

    if (in->offset > (uint64_t)INT64_MAX)
        return fp_bad(r, -EINVAL, "an offset beyond 2^63 - 1");
    int n = fp_reply_space(r, MIN(in->size, FP_MAX_WRITE_LIMIT), iov, cap, &len);
    if (n < 0)
        return -EIO;
    struct req_io io = { .op = REQ_IO_READV, .iov = iov, .iovcnt = (unsigned)n,
                         .offset = in->offset, .len = len };
    int ret = aio_submit(r, PT_IO_READ, in->fh, 0, &io);
    if (ret <= 0)
        return ret;
    ssize_t got = pt_read(r->s->fs, &r->ctx, in->fh, in->offset, iov, (unsigned)n);
    if (got < 0)
        return (int)got;
    return fp_reply_payload_done(r, (size_t)got);
}

int fp_op_write(struct fp_req *r)
{
    const struct fuse_write_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct iovec stack_iov[FP_MAX_IOV];
    struct iovec *iov = r->req->io ? r->req->iov_scratch : stack_iov;
    unsigned cap = r->req->io ? r->req->iov_scratch_cap : FP_MAX_IOV;

    if (in->size > r->payload.remaining || in->size > r->s->max_write ||
        in->offset > (uint64_t)INT64_MAX) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (WRITE): %u bytes with %zu present, "
                        "max_write %u, offset %llu", (unsigned long long)r->in.unique, in->size,
                        r->payload.remaining, r->s->max_write, (unsigned long long)in->offset);
        return -EINVAL;
    }
    int n = iov_cursor_slice(&r->payload, in->size, iov, cap);
    if (n < 0)
        return fp_bad(r, -EINVAL, "WRITE data in more than 1024 pieces");
    /* in->flags are the guest file's current flags: an O_APPEND file's own
     * writes go to the host file's end, so that appends from elsewhere (the
     * host, another guest) are not overwritten; its cached pages written back
     * (FUSE_WRITE_CACHE) go where they belong. */
    uint32_t write_flags = in->write_flags & ~PT_WRITE_APPEND;
    if ((in->flags & O_APPEND) && !(in->write_flags & FUSE_WRITE_CACHE))
        write_flags |= PT_WRITE_APPEND;
    struct req_io io = { .op = REQ_IO_WRITEV, .iov = iov, .iovcnt = (unsigned)n,
                         .offset = in->offset,
                         .mode = (write_flags & PT_WRITE_APPEND) ? RWF_APPEND : 0 };
    int ret = aio_submit(r, PT_IO_WRITE, in->fh, write_flags, &io);
    if (ret <= 0)
        return ret;
    ssize_t done = pt_write(r->s->fs, &r->ctx, in->fh, in->offset, iov, (unsigned)n,
                            write_flags);
    if (done < 0)
        return (int)done;
    struct fuse_write_out out = { .size = (uint32_t)done };
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_op_flush(struct fp_req *r)
{
    const struct fuse_flush_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int ret = pt_flush(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->lock_owner);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_release(struct fp_req *r)
{
    const struct fuse_release_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int ret = pt_release(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->flags, in->release_flags,
                         in->lock_owner);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_fsync(struct fp_req *r)
{
    const struct fuse_fsync_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct req_io io = { .op = (in->fsync_flags & 1) ? REQ_IO_FDATASYNC : REQ_IO_FSYNC };
    int ret = aio_submit(r, PT_IO_SYNC, in->fh, 0, &io);
    if (ret <= 0)
        return ret;
    ret = pt_fsync(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->fsync_flags & 1);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_fallocate(struct fp_req *r)
{
    const struct fuse_fallocate_in *in = fp_args_fixed(&r->args, sizeof(*in));
    if (in->offset > (uint64_t)INT64_MAX || in->length > (uint64_t)INT64_MAX)
        return fp_bad(r, -EINVAL, "an offset or length beyond 2^63 - 1");
    struct req_io io = { .op = REQ_IO_FALLOCATE, .offset = in->offset, .len = in->length,
                         .mode = (int)in->mode };
    int ret = aio_submit(r, PT_IO_ALLOCATE, in->fh, 0, &io);
    if (ret <= 0)
        return ret;
    ret = pt_fallocate(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->mode, in->offset,
                           in->length);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_lseek(struct fp_req *r)
{
    const struct fuse_lseek_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct fuse_lseek_out out;
    int ret = pt_lseek(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->offset, in->whence,
                       &out.offset);
    return ret < 0 ? ret : fp_reply_ok(r, &out, sizeof(out));
}

int fp_op_copy_file_range(struct fp_req *r)
{
    const struct fuse_copy_file_range_in *in = fp_args_fixed(&r->args, sizeof(*in));
    ssize_t done = pt_copy_file_range(r->s->fs, &r->ctx, in->fh_in, in->off_in, in->fh_out,
                                      in->off_out, in->len, in->flags);
    if (done < 0)
        return (int)done;
    struct fuse_write_out out = { .size = (uint32_t)MIN((uint64_t)done, UINT32_MAX) };
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_op_ioctl(struct fp_req *r)
{
    const struct fuse_ioctl_in *in = fp_args_fixed(&r->args, sizeof(*in));
    size_t rest;
    fp_args_rest(&r->args, &rest);
    if (in->in_size > rest)
        return -EINVAL;
    /*
     * No ioctl reaches host files (a guest's FS_IOC_SETFLAGS could make
     * them immutable, a device ioctl could reach host hardware). Both peers
     * answer ENOSYS here (QEMU's C virtiofsd has no ioctl operation, the
     * Rust virtiofsd's filesystem keeps the default), and the guest kernel
     * turns ENOSYS into ENOTTY for the application.
     */
    return -ENOSYS;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replies: a fuse_out_header and the payload written into the request's
 * writable iovecs, then fp_finish(). Every request ends through here.
 */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "fuse/internal.h"

/* Writes header + parts. Returns 0, or -ENOSPC (nothing written) when it does not fit. */
static int write_reply(struct fp_req *r, int error, const struct iovec *parts, unsigned n)
{
    struct iov_cursor c;
    size_t len = sizeof(struct fuse_out_header);

    for (unsigned i = 0; i < n; i++)
        len += parts[i].iov_len;
    iov_cursor_init(&c, r->req->out, r->req->out_cnt);
    if (c.remaining < len)
        return -ENOSPC;

    struct fuse_out_header h = { .len = (uint32_t)len, .error = error, .unique = r->in.unique };
    iov_cursor_write(&c, &h, sizeof(h));
    for (unsigned i = 0; i < n; i++)
        iov_cursor_write(&c, parts[i].iov_base, parts[i].iov_len);
    fp_finish(r, (uint32_t)len, error);
    return 0;
}

int fp_reply_err(struct fp_req *r, int err)
{
    if (err >= 0 || err < -4095)
        err = -EIO;
    if (write_reply(r, err, NULL, 0) < 0) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): no room for a reply header",
                        (unsigned long long)r->in.unique, fp_opcode_name(r->in.opcode));
        fp_finish(r, 0, err);
    }
    return FP_DONE;
}

static void log_no_fit(const struct fp_req *r, size_t len)
{
    log_ratelimited(LOG_LVL_WARN, "request %llu (%s): reply of %zu bytes does not fit",
                    (unsigned long long)r->in.unique, fp_opcode_name(r->in.opcode), len);
}

int fp_reply_ok(struct fp_req *r, const void *data, size_t len)
{
    struct iovec part = { (void *)data, len };
    if (write_reply(r, 0, &part, len ? 1 : 0) < 0) {
        log_no_fit(r, len);
        return fp_reply_err(r, -EIO);
    }
    return FP_DONE;
}

int fp_reply_none(struct fp_req *r)
{
    fp_finish(r, 0, 0);
    return FP_DONE;
}

static void timeout_split(uint64_t ns, uint64_t *sec, uint32_t *nsec)
{
    *sec = ns / 1000000000ull;
    *nsec = (uint32_t)(ns % 1000000000ull);
}

void fp_fill_attr(struct fuse_attr *out, const struct pt_attr *a)
{
    const struct stat *st = &a->st;
    memset(out, 0, sizeof(*out));
    out->ino = st->st_ino;
    out->size = (uint64_t)st->st_size;
    out->blocks = (uint64_t)st->st_blocks;
    out->atime = (uint64_t)st->st_atim.tv_sec;
    out->mtime = (uint64_t)st->st_mtim.tv_sec;
    out->ctime = (uint64_t)st->st_ctim.tv_sec;
    out->atimensec = (uint32_t)st->st_atim.tv_nsec;
    out->mtimensec = (uint32_t)st->st_mtim.tv_nsec;
    out->ctimensec = (uint32_t)st->st_ctim.tv_nsec;
    out->mode = st->st_mode;
    out->nlink = (uint32_t)st->st_nlink;
    out->uid = st->st_uid;
    out->gid = st->st_gid;
    out->rdev = (uint32_t)st->st_rdev;
    out->blksize = (uint32_t)st->st_blksize;
    out->flags = (a->flags & PT_ATTR_SUBMOUNT) ? FUSE_ATTR_SUBMOUNT : 0;
}

void fp_fill_entry(struct fuse_entry_out *out, const struct pt_entry *e)
{
    memset(out, 0, sizeof(*out));
    out->nodeid = e->nodeid;
    out->generation = e->generation;
    timeout_split(e->entry_timeout_ns, &out->entry_valid, &out->entry_valid_nsec);
    timeout_split(e->attr.timeout_ns, &out->attr_valid, &out->attr_valid_nsec);
    fp_fill_attr(&out->attr, &e->attr);
}

int fp_reply_entry(struct fp_req *r, const struct pt_entry *e)
{
    struct fuse_entry_out out;
    struct iovec part = { &out, sizeof(out) };

    fp_fill_entry(&out, e);
    if (write_reply(r, 0, &part, 1) < 0) {
        log_no_fit(r, sizeof(out));
        if (e->nodeid)
            pt_forget(r->s->fs, e->nodeid, 1);
        return fp_reply_err(r, -EIO);
    }
    return FP_DONE;
}

int fp_reply_attr(struct fp_req *r, const struct pt_attr *a)
{
    struct fuse_attr_out out = { 0 };
    timeout_split(a->timeout_ns, &out.attr_valid, &out.attr_valid_nsec);
    fp_fill_attr(&out.attr, a);
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_reply_open(struct fp_req *r, uint64_t fh, uint32_t open_flags)
{
    struct fuse_open_out out = { .fh = fh, .open_flags = open_flags };
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_reply_create(struct fp_req *r, const struct pt_entry *e, uint64_t fh, uint32_t open_flags)
{
    struct fuse_entry_out entry;
    struct fuse_open_out open = { .fh = fh, .open_flags = open_flags };
    struct iovec parts[2] = { { &entry, sizeof(entry) }, { &open, sizeof(open) } };

    fp_fill_entry(&entry, e);
    if (write_reply(r, 0, parts, 2) < 0) {
        log_no_fit(r, sizeof(entry) + sizeof(open));
        pt_release(r->s->fs, &r->ctx, e->nodeid, fh, 0, 0, 0);
        pt_forget(r->s->fs, e->nodeid, 1);
        return fp_reply_err(r, -EIO);
    }
    return FP_DONE;
}

int fp_reply_space(struct fp_req *r, size_t max, struct iovec *iov, unsigned max_iov, size_t *len)
{
    struct iov_cursor c;
    iov_cursor_init(&c, r->req->out, r->req->out_cnt);
    if (iov_cursor_skip(&c, sizeof(struct fuse_out_header)) < 0)
        return -EIO;
    size_t n = MIN(max, c.remaining);
    /* Never more segments than the request has, so max_iov >= out_cnt always fits. */
    int cnt = iov_cursor_slice(&c, n, iov, max_iov);
    if (cnt < 0)
        return cnt;
    *len = n;
    return cnt;
}

int fp_reply_payload_done(struct fp_req *r, size_t len)
{
    struct iov_cursor c;
    struct fuse_out_header h = {
        .len = (uint32_t)(sizeof(h) + len), .error = 0, .unique = r->in.unique,
    };
    iov_cursor_init(&c, r->req->out, r->req->out_cnt);
    if (iov_cursor_write(&c, &h, sizeof(h)) < 0) {
        fp_finish(r, 0, -EIO);
        return FP_DONE;
    }
    fp_finish(r, h.len, 0);
    return FP_DONE;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directories: entries are encoded straight into the guest's reply buffers. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "fuse/internal.h"

int fp_op_opendir(struct fp_req *r)
{
    const struct fuse_open_in *in = fp_args_fixed(&r->args, sizeof(*in));
    uint64_t fh;
    uint32_t open_flags = 0;
    int ret = pt_opendir(r->s->fs, &r->ctx, r->in.nodeid, in->flags, &fh, &open_flags);
    if (ret < 0)
        return ret;
    return fp_reply_open(r, fh, open_flags);
}

struct dir_fill {
    struct iov_cursor out;    /* positioned after the reply header */
    size_t limit;             /* bytes the guest asked for and has room for */
    size_t used;
    bool plus;
};

static int dir_emit(void *cookie, const struct pt_dirent *d)
{
    struct dir_fill *f = cookie;
    uint8_t buf[sizeof(struct fuse_entry_out) + FUSE_NAME_OFFSET + NAME_MAX + 8];
    size_t head = f->plus ? sizeof(struct fuse_entry_out) : 0;
    size_t reclen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + d->namelen);

    if (d->namelen == 0 || d->namelen > NAME_MAX || f->used + head + reclen > f->limit)
        return 0;
    memset(buf, 0, head + reclen);
    if (f->plus) {
        if (d->entry)
            fp_fill_entry((struct fuse_entry_out *)buf, d->entry);
    }
    struct fuse_dirent *de = (struct fuse_dirent *)(buf + head);
    de->ino = d->ino;
    de->off = d->next_off;
    de->namelen = (uint32_t)d->namelen;
    de->type = d->type;
    memcpy(de->name, d->name, d->namelen);
    if (iov_cursor_write(&f->out, buf, head + reclen) < 0)
        return 0;
    f->used += head + reclen;
    return 1;
}

static int do_readdir(struct fp_req *r, bool plus)
{
    const struct fuse_read_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct dir_fill f = { .plus = plus };

    iov_cursor_init(&f.out, r->req->out, r->req->out_cnt);
    if (iov_cursor_skip(&f.out, sizeof(struct fuse_out_header)) < 0)
        return -EIO;
    f.limit = MIN((size_t)in->size, f.out.remaining);
    int ret = pt_readdir(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->offset, plus, dir_emit, &f);
    if (ret < 0 && f.used == 0)
        return ret;
    return fp_reply_payload_done(r, f.used);
}

int fp_op_readdir(struct fp_req *r)
{
    return do_readdir(r, false);
}

int fp_op_readdirplus(struct fp_req *r)
{
    return do_readdir(r, true);
}

int fp_op_releasedir(struct fp_req *r)
{
    const struct fuse_release_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int ret = pt_releasedir(r->s->fs, &r->ctx, r->in.nodeid, in->fh);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_fsyncdir(struct fp_req *r)
{
    const struct fuse_fsync_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int ret = pt_fsyncdir(r->s->fs, &r->ctx, r->in.nodeid, in->fh, in->fsync_flags & 1);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

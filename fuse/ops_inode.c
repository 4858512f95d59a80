/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names and inodes: lookup, forget, attributes, creating and removing names. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "fuse/internal.h"

int fp_op_lookup(struct fp_req *r)
{
    const char *name = fp_args_name(&r->args, true);
    struct pt_entry e;
    if (!name)
        return r->args.err;
    int ret = pt_lookup(r->s->fs, &r->ctx, r->in.nodeid, name, &e);
    if (ret < 0)
        return ret;
    return fp_reply_entry(r, &e);
}

/*
 * A guest's lookup counts never go wrong on their own: forgetting an id it
 * was never given, or more often than it was given, is a guest bug worth a
 * line (the filesystem ignores the one and clamps the other).
 */
int fp_op_forget(struct fp_req *r)
{
    const struct fuse_forget_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int ret = pt_forget(r->s->fs, r->in.nodeid, in->nlookup);
    if (ret == -EBADF)
        log_ratelimited(LOG_LVL_WARN, "request %llu (FORGET): unknown nodeid %llu",
                        (unsigned long long)r->in.unique, (unsigned long long)r->in.nodeid);
    else if (ret == -ERANGE)
        log_ratelimited(LOG_LVL_WARN, "request %llu (FORGET): nodeid %llu forgotten more often "
                        "than it was looked up", (unsigned long long)r->in.unique,
                        (unsigned long long)r->in.nodeid);
    return fp_reply_none(r);
}

int fp_op_batch_forget(struct fp_req *r)
{
    const struct fuse_batch_forget_in *in = fp_args_fixed(&r->args, sizeof(*in));
    size_t rest;
    const uint8_t *p = fp_args_rest(&r->args, &rest);
    uint32_t unknown = 0, over = 0;

    if (in->count > rest / sizeof(struct fuse_forget_one)) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (BATCH_FORGET): %u entries in %zu bytes",
                        (unsigned long long)r->in.unique, in->count, rest);
        return -EINVAL;
    }
    for (uint32_t i = 0; i < in->count; i++) {
        struct fuse_forget_one one;
        memcpy(&one, p + i * sizeof(one), sizeof(one));
        int ret = pt_forget(r->s->fs, one.nodeid, one.nlookup);
        unknown += ret == -EBADF;
        over += ret == -ERANGE;
    }
    if (unknown || over)
        log_ratelimited(LOG_LVL_WARN, "request %llu (BATCH_FORGET): %u unknown nodeids, %u "
                        "forgotten more often than looked up", (unsigned long long)r->in.unique,
                        unknown, over);
    return fp_reply_none(r);
}

int fp_op_getattr(struct fp_req *r)
{
    const struct fuse_getattr_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct pt_attr a;
    int ret = pt_getattr(r->s->fs, &r->ctx, r->in.nodeid, in->getattr_flags & FUSE_GETATTR_FH,
                         in->fh, &a);
    if (ret < 0)
        return ret;
    return fp_reply_attr(r, &a);
}

int fp_op_setattr(struct fp_req *r)
{
    const struct fuse_setattr_in *in = fp_args_fixed(&r->args, sizeof(*in));
    struct pt_setattr sa = {
        .valid = in->valid, .fh = in->fh, .mode = in->mode, .uid = in->uid, .gid = in->gid,
        .size = in->size,
        .atime = { .tv_sec = (time_t)in->atime, .tv_nsec = in->atimensec },
        .mtime = { .tv_sec = (time_t)in->mtime, .tv_nsec = in->mtimensec },
        .ctime = { .tv_sec = (time_t)in->ctime, .tv_nsec = in->ctimensec },
    };
    struct pt_attr a;

    if (((in->valid & FATTR_ATIME) && in->atimensec >= 1000000000u) ||
        ((in->valid & FATTR_MTIME) && in->mtimensec >= 1000000000u))
        return fp_bad(r, -EINVAL, "a time with 10^9 or more nanoseconds");
    if ((in->valid & FATTR_SIZE) && in->size > (uint64_t)INT64_MAX)
        return fp_bad(r, -EINVAL, "a size beyond 2^63 - 1");
    int ret = pt_setattr(r->s->fs, &r->ctx, r->in.nodeid, &sa, &a);
    if (ret < 0)
        return ret;
    return fp_reply_attr(r, &a);
}

int fp_op_readlink(struct fp_req *r)
{
    char buf[PATH_MAX];
    int ret = pt_readlink(r->s->fs, &r->ctx, r->in.nodeid, buf, sizeof(buf));
    if (ret < 0)
        return ret;
    return fp_reply_ok(r, buf, (size_t)ret);
}

int fp_op_symlink(struct fp_req *r)
{
    const char *name = fp_args_name(&r->args, false);
    struct pt_secctx sc[FP_MAX_SECCTX];
    struct pt_entry e;
    if (!name)
        return r->args.err;
    const char *target = fp_args_str(&r->args, PATH_MAX - 1);
    if (!target)
        return fp_bad(r, r->args.err, r->args.err == -ENAMETOOLONG
                                          ? "symlink target longer than 4095 bytes"
                                          : "symlink target without a terminating NUL");
    if (!target[0])
        return fp_bad(r, -EINVAL, "empty symlink target");
    int ret = fp_decode_create_ext(r, sc, FP_MAX_SECCTX);
    if (ret < 0)
        return ret;
    ret = pt_symlink(r->s->fs, &r->ctx, r->in.nodeid, name, target, &e);
    if (ret < 0)
        return ret;
    return fp_reply_entry(r, &e);
}

int fp_op_mknod(struct fp_req *r)
{
    const struct fuse_mknod_in *in = fp_args_fixed(&r->args, sizeof(*in));
    const char *name = fp_args_name(&r->args, false);
    struct pt_secctx sc[FP_MAX_SECCTX];
    struct pt_entry e;
    if (!name)
        return r->args.err;
    int ret = fp_decode_create_ext(r, sc, FP_MAX_SECCTX);
    if (ret < 0)
        return ret;
    ret = pt_mknod(r->s->fs, &r->ctx, r->in.nodeid, name, in->mode, in->rdev, in->umask, &e);
    if (ret < 0)
        return ret;
    return fp_reply_entry(r, &e);
}

int fp_op_mkdir(struct fp_req *r)
{
    const struct fuse_mkdir_in *in = fp_args_fixed(&r->args, sizeof(*in));
    const char *name = fp_args_name(&r->args, false);
    struct pt_secctx sc[FP_MAX_SECCTX];
    struct pt_entry e;
    if (!name)
        return r->args.err;
    int ret = fp_decode_create_ext(r, sc, FP_MAX_SECCTX);
    if (ret < 0)
        return ret;
    ret = pt_mkdir(r->s->fs, &r->ctx, r->in.nodeid, name, in->mode, in->umask, &e);
    if (ret < 0)
        return ret;
    return fp_reply_entry(r, &e);
}

int fp_op_unlink(struct fp_req *r)
{
    const char *name = fp_args_name(&r->args, false);
    if (!name)
        return r->args.err;
    int ret = pt_unlink(r->s->fs, &r->ctx, r->in.nodeid, name);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_rmdir(struct fp_req *r)
{
    const char *name = fp_args_name(&r->args, false);
    if (!name)
        return r->args.err;
    int ret = pt_rmdir(r->s->fs, &r->ctx, r->in.nodeid, name);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

static int do_rename(struct fp_req *r, uint64_t newdir, uint32_t flags)
{
    const char *oldname = fp_args_name(&r->args, false);
    const char *newname = oldname ? fp_args_name(&r->args, false) : NULL;
    if (!newname)
        return r->args.err;
    if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return fp_bad(r, -EINVAL, "unknown rename flags");
    int ret = pt_rename(r->s->fs, &r->ctx, r->in.nodeid, oldname, newdir, newname, flags);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_rename(struct fp_req *r)
{
    const struct fuse_rename_in *in = fp_args_fixed(&r->args, sizeof(*in));
    return do_rename(r, in->newdir, 0);
}

int fp_op_rename2(struct fp_req *r)
{
    const struct fuse_rename2_in *in = fp_args_fixed(&r->args, sizeof(*in));
    return do_rename(r, in->newdir, in->flags);
}

int fp_op_link(struct fp_req *r)
{
    const struct fuse_link_in *in = fp_args_fixed(&r->args, sizeof(*in));
    const char *name = fp_args_name(&r->args, false);
    struct pt_entry e;
    if (!name)
        return r->args.err;
    int ret = pt_link(r->s->fs, &r->ctx, in->oldnodeid, r->in.nodeid, name, &e);
    if (ret < 0)
        return ret;
    return fp_reply_entry(r, &e);
}

int fp_op_statfs(struct fp_req *r)
{
    struct statvfs sv;
    struct fuse_statfs_out out = { 0 };
    int ret = pt_statfs(r->s->fs, &r->ctx, r->in.nodeid, &sv);
    if (ret < 0)
        return ret;
    out.st.blocks = sv.f_blocks;
    out.st.bfree = sv.f_bfree;
    out.st.bavail = sv.f_bavail;
    out.st.files = sv.f_files;
    out.st.ffree = sv.f_ffree;
    out.st.bsize = (uint32_t)sv.f_bsize;
    out.st.namelen = (uint32_t)sv.f_namemax;
    out.st.frsize = (uint32_t)sv.f_frsize;
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_op_access(struct fp_req *r)
{
    const struct fuse_access_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int ret = pt_access(r->s->fs, &r->ctx, r->in.nodeid, in->mask);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_syncfs(struct fp_req *r)
{
    int ret = pt_syncfs(r->s->fs, &r->ctx, r->in.nodeid);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

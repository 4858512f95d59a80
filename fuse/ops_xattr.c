/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Extended attributes. */
#include <errno.h>
#include <linux/limits.h>
#include <linux/xattr.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "fuse/internal.h"

/* Replies with the value (size > 0) or its length (size == 0). */
/* An xattr name: the VFS answers ERANGE for one longer than XATTR_NAME_MAX. */
static const char *xattr_name(struct fp_req *r, int *err)
{
    const char *name = fp_args_str(&r->args, XATTR_NAME_MAX);
    if (!name && r->args.err == -ENAMETOOLONG)
        *err = fp_bad(r, -ERANGE, "xattr name longer than 255 bytes");
    else if (!name)
        *err = fp_bad(r, r->args.err, "xattr name without a terminating NUL");
    else if (!name[0])
        *err = fp_bad(r, -EINVAL, "empty xattr name");
    else
        return name;
    return NULL;
}

static int reply_xattr(struct fp_req *r, uint32_t size, const void *buf, ssize_t len)
{
    if (len < 0)
        return (int)len;
    if (size == 0) {
        struct fuse_getxattr_out out = { .size = (uint32_t)len };
        return fp_reply_ok(r, &out, sizeof(out));
    }
    return fp_reply_ok(r, buf, (size_t)len);
}

int fp_op_getxattr(struct fp_req *r)
{
    const struct fuse_getxattr_in *in = fp_args_fixed(&r->args, sizeof(*in));
    int err;
    const char *name = xattr_name(r, &err);
    if (!name)
        return err;
    size_t size = MIN(in->size, (uint32_t)XATTR_SIZE_MAX);
    _cleanup_free_ char *buf = size ? malloc(size) : NULL;
    if (size && !buf)
        return -ENOMEM;
    ssize_t len = pt_getxattr(r->s->fs, &r->ctx, r->in.nodeid, name, buf, size);
    return reply_xattr(r, in->size, buf, len);
}

int fp_op_listxattr(struct fp_req *r)
{
    const struct fuse_getxattr_in *in = fp_args_fixed(&r->args, sizeof(*in));
    size_t size = MIN(in->size, (uint32_t)XATTR_LIST_MAX);
    _cleanup_free_ char *buf = size ? malloc(size) : NULL;
    if (size && !buf)
        return -ENOMEM;
    ssize_t len = pt_listxattr(r->s->fs, &r->ctx, r->in.nodeid, buf, size);
    return reply_xattr(r, in->size, buf, len);
}

int fp_op_setxattr(struct fp_req *r)
{
    bool ext = r->s->flags & FUSE_SETXATTR_EXT;
    const struct fuse_setxattr_in *in = fp_args_fixed(&r->args, ext ? sizeof(*in) : 8);
    size_t rest;

    if (!in)
        return fp_bad(r, -EINVAL, "SETXATTR shorter than its extended header");
    uint32_t size = in->size, flags = in->flags;
    uint32_t setxattr_flags = ext ? in->setxattr_flags : 0;
    int err;
    const char *name = xattr_name(r, &err);
    if (!name)
        return err;
    if (size > XATTR_SIZE_MAX)
        return fp_bad(r, -E2BIG, "xattr value larger than 65536 bytes");
    const void *value = fp_args_rest(&r->args, &rest);
    if (rest < size)
        return fp_bad(r, -EINVAL, "xattr value shorter than its size");
    int ret = pt_setxattr(r->s->fs, &r->ctx, r->in.nodeid, name, value, size, flags,
                          setxattr_flags);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

int fp_op_removexattr(struct fp_req *r)
{
    int err;
    const char *name = xattr_name(r, &err);
    if (!name)
        return err;
    int ret = pt_removexattr(r->s->fs, &r->ctx, r->in.nodeid, name);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

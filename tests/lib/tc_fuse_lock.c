/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for GETLK, SETLK, SETLKW, RELEASE with lock owners, INTERRUPT, TMPFILE, IOCTL. */
#include <errno.h>
#include <string.h>

#include "tests/lib/tc_fuse.h"

#define IN(p, l)  ((struct tc_fuse_in_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define OUT(p, l) ((struct tc_fuse_out_arg){ .ptr = (p), .len = (uint32_t)(l) })

int tc_fuse_getlk(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t owner,
                  const struct fuse_file_lock *want, struct fuse_file_lock *out)
{
    struct fuse_lk_in in = { .fh = fh, .owner = owner, .lk = *want };
    struct fuse_lk_out o;
    memset(&o, 0, sizeof(o));
    struct tc_fuse_req req = {
        .opcode = FUSE_GETLK, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1, .out = { OUT(&o, sizeof(o)) },
    };
    int r = tc_fuse_call(dev, &req);
    if (r < 0)
        return r;
    if ((size_t)r < sizeof(o))
        return -EPROTO;
    *out = o.lk;
    return 0;
}

void tc_fuse_setlk_req(struct tc_fuse_req *req, uint64_t nodeid, const struct fuse_lk_in *in,
                       bool wait)
{
    req->opcode = wait ? FUSE_SETLKW : FUSE_SETLK;
    req->nodeid = nodeid;
    req->in[0] = IN(in, sizeof(*in));
    req->in_cnt = 1;
    req->out_cnt = 0;
    req->in_data = NULL;
    req->in_data_cnt = 0;
    req->out_data = NULL;
    req->out_data_cnt = 0;
}

int tc_fuse_setlk(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t owner,
                  const struct fuse_file_lock *lk, uint32_t lk_flags, bool wait)
{
    struct fuse_lk_in in = { .fh = fh, .owner = owner, .lk = *lk, .lk_flags = lk_flags };
    struct tc_fuse_req req = { 0 };
    tc_fuse_setlk_req(&req, nodeid, &in, wait);
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

int tc_fuse_release_owner(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t flags,
                          uint32_t release_flags, uint64_t lock_owner)
{
    struct fuse_release_in in = {
        .fh = fh, .flags = flags, .release_flags = release_flags, .lock_owner = lock_owner,
    };
    struct tc_fuse_req req = {
        .opcode = FUSE_RELEASE, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
    };
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

int tc_fuse_interrupt(struct tc_dev *dev, uint64_t unique)
{
    struct fuse_interrupt_in in = { .unique = unique };
    struct tc_fuse_req req = {
        .opcode = FUSE_INTERRUPT, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
    };
    return tc_fuse_call(dev, &req);
}

int tc_fuse_tmpfile(struct tc_dev *dev, uint64_t parent, uint32_t flags, uint32_t mode,
                    uint32_t umask, struct fuse_entry_out *entry, struct fuse_open_out *open)
{
    struct fuse_create_in in = { .flags = flags, .mode = mode, .umask = umask };
    struct fuse_entry_out e;
    struct fuse_open_out o;
    if (!entry)
        entry = &e;
    if (!open)
        open = &o;
    struct tc_fuse_req req = {
        .opcode = FUSE_TMPFILE, .nodeid = parent,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), IN("/", 2) },
        .out_cnt = 2, .out = { OUT(entry, sizeof(*entry)), OUT(open, sizeof(*open)) },
    };
    int r = tc_fuse_call(dev, &req);
    if (r < 0)
        return r;
    return (size_t)r < sizeof(*entry) + sizeof(*open) ? -EPROTO : 0;
}

int tc_fuse_ioctl(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t ioctl_flags,
                  uint32_t cmd, const void *data, uint32_t in_size, uint32_t out_size)
{
    struct fuse_ioctl_in in = {
        .fh = fh, .flags = ioctl_flags, .cmd = cmd, .in_size = in_size, .out_size = out_size,
    };
    struct fuse_ioctl_out o;
    struct tc_fuse_req req = {
        .opcode = FUSE_IOCTL, .nodeid = nodeid,
        .in_cnt = in_size ? 2 : 1, .in = { IN(&in, sizeof(in)), IN(data, in_size) },
        .out_cnt = 1, .out = { OUT(&o, sizeof(o)) },
    };
    return tc_fuse_call(dev, &req);
}

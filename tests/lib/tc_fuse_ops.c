/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One synchronous helper per FUSE opcode, and the directory record decoder. */
#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "tests/lib/tc_fuse.h"

#define IN(p, l)  ((struct tc_fuse_in_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define OUT(p, l) ((struct tc_fuse_out_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define NAME(s)   IN((s), strlen(s) + 1)

/* A fixed-size reply must be complete. */
static int expect(int r, size_t size)
{
    if (r < 0)
        return r;
    return (size_t)r < size ? -EPROTO : 0;
}

static int call_entry(struct tc_dev *dev, struct tc_fuse_req *req, struct fuse_entry_out *out)
{
    struct fuse_entry_out tmp;
    if (!out)
        out = &tmp;
    req->out[0] = OUT(out, sizeof(*out));
    req->out_cnt = 1;
    return expect(tc_fuse_call(dev, req), sizeof(*out));
}

int tc_fuse_init_session(struct tc_dev *dev, uint64_t flags, struct fuse_init_out *out)
{
    struct fuse_init_in in = {
        .major = FUSE_KERNEL_VERSION,
        .minor = FUSE_KERNEL_MINOR_VERSION,
        .max_readahead = 128u << 10,
        .flags = (uint32_t)flags | FUSE_INIT_EXT,
        .flags2 = (uint32_t)(flags >> 32),
    };
    struct fuse_init_out o;
    memset(&o, 0, sizeof(o));
    struct tc_fuse_req req = {
        .opcode = FUSE_INIT,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1, .out = { OUT(&o, sizeof(o)) },
    };
    int r = tc_fuse_call(dev, &req);
    if (r < 0)
        return r;
    if (r < FUSE_COMPAT_22_INIT_OUT_SIZE)
        return -EPROTO;
    dev->fuse.init = o;
    dev->fuse.initialized = true;
    if (out)
        *out = o;
    return 0;
}

int tc_fuse_destroy(struct tc_dev *dev)
{
    struct tc_fuse_req req = { .opcode = FUSE_DESTROY };
    int r = tc_fuse_call(dev, &req);
    if (r == 0)
        dev->fuse.initialized = false;
    return r < 0 ? r : 0;
}

int tc_fuse_lookup(struct tc_dev *dev, uint64_t parent, const char *name, struct fuse_entry_out *out)
{
    struct tc_fuse_req req = {
        .opcode = FUSE_LOOKUP, .nodeid = parent,
        .in_cnt = 1, .in = { NAME(name) },
    };
    return call_entry(dev, &req, out);
}

int tc_fuse_forget(struct tc_dev *dev, uint64_t nodeid, uint64_t nlookup)
{
    struct fuse_forget_in in = { .nlookup = nlookup };
    struct tc_fuse_req req = {
        .opcode = FUSE_FORGET, .nodeid = nodeid, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
    };
    return tc_fuse_call(dev, &req);
}

int tc_fuse_batch_forget(struct tc_dev *dev, const struct fuse_forget_one *items, uint32_t count)
{
    struct fuse_batch_forget_in in = { .count = count };
    struct tc_fuse_req req = {
        .opcode = FUSE_BATCH_FORGET, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), IN(items, (size_t)count * sizeof(*items)) },
    };
    return tc_fuse_call(dev, &req);
}

int tc_fuse_getattr(struct tc_dev *dev, uint64_t nodeid, uint32_t getattr_flags, uint64_t fh,
                    struct fuse_attr_out *out)
{
    struct fuse_getattr_in in = { .getattr_flags = getattr_flags, .fh = fh };
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1, .out = { OUT(out, sizeof(*out)) },
    };
    return expect(tc_fuse_call(dev, &req), sizeof(*out));
}

int tc_fuse_setattr(struct tc_dev *dev, uint64_t nodeid, const struct fuse_setattr_in *in,
                    struct fuse_attr_out *out)
{
    struct fuse_attr_out tmp;
    if (!out)
        out = &tmp;
    struct tc_fuse_req req = {
        .opcode = FUSE_SETATTR, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(in, sizeof(*in)) },
        .out_cnt = 1, .out = { OUT(out, sizeof(*out)) },
    };
    return expect(tc_fuse_call(dev, &req), sizeof(*out));
}

int tc_fuse_readlink(struct tc_dev *dev, uint64_t nodeid, char *buf, size_t size)
{
    if (size == 0)
        return -EINVAL;
    struct tc_fuse_req req = {
        .opcode = FUSE_READLINK, .nodeid = nodeid,
        .out_cnt = 1, .out = { OUT(buf, size - 1) },
    };
    int r = tc_fuse_call(dev, &req);
    if (r >= 0)
        buf[r] = '\0';
    return r;
}

int tc_fuse_symlink(struct tc_dev *dev, uint64_t parent, const char *name, const char *target,
                    struct fuse_entry_out *out)
{
    struct tc_fuse_req req = {
        .opcode = FUSE_SYMLINK, .nodeid = parent,
        .in_cnt = 2, .in = { NAME(name), NAME(target) },
    };
    return call_entry(dev, &req, out);
}

int tc_fuse_mknod(struct tc_dev *dev, uint64_t parent, const char *name, uint32_t mode,
                  uint32_t rdev, uint32_t umask, struct fuse_entry_out *out)
{
    struct fuse_mknod_in in = { .mode = mode, .rdev = rdev, .umask = umask };
    struct tc_fuse_req req = {
        .opcode = FUSE_MKNOD, .nodeid = parent,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), NAME(name) },
    };
    return call_entry(dev, &req, out);
}

int tc_fuse_mkdir(struct tc_dev *dev, uint64_t parent, const char *name, uint32_t mode,
                  uint32_t umask, struct fuse_entry_out *out)
{
    struct fuse_mkdir_in in = { .mode = mode, .umask = umask };
    struct tc_fuse_req req = {
        .opcode = FUSE_MKDIR, .nodeid = parent,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), NAME(name) },
    };
    return call_entry(dev, &req, out);
}

static int call_name(struct tc_dev *dev, uint32_t opcode, uint64_t nodeid, const char *name)
{
    struct tc_fuse_req req = {
        .opcode = opcode, .nodeid = nodeid,
        .in_cnt = 1, .in = { NAME(name) },
    };
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

int tc_fuse_unlink(struct tc_dev *dev, uint64_t parent, const char *name)
{
    return call_name(dev, FUSE_UNLINK, parent, name);
}

int tc_fuse_rmdir(struct tc_dev *dev, uint64_t parent, const char *name)
{
    return call_name(dev, FUSE_RMDIR, parent, name);
}

int tc_fuse_removexattr(struct tc_dev *dev, uint64_t nodeid, const char *name)
{
    return call_name(dev, FUSE_REMOVEXATTR, nodeid, name);
}

int tc_fuse_rename(struct tc_dev *dev, uint64_t olddir, const char *oldname, uint64_t newdir,
                   const char *newname)
{
    struct fuse_rename_in in = { .newdir = newdir };
    struct tc_fuse_req req = {
        .opcode = FUSE_RENAME, .nodeid = olddir,
        .in_cnt = 3, .in = { IN(&in, sizeof(in)), NAME(oldname), NAME(newname) },
    };
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

int tc_fuse_rename2(struct tc_dev *dev, uint64_t olddir, const char *oldname, uint64_t newdir,
                    const char *newname, uint32_t flags)
{
    struct fuse_rename2_in in = { .newdir = newdir, .flags = flags };
    struct tc_fuse_req req = {
        .opcode = FUSE_RENAME2, .nodeid = olddir,
        .in_cnt = 3, .in = { IN(&in, sizeof(in)), NAME(oldname), NAME(newname) },
    };
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

int tc_fuse_link(struct tc_dev *dev, uint64_t oldnodeid, uint64_t newparent, const char *newname,
                 struct fuse_entry_out *out)
{
    struct fuse_link_in in = { .oldnodeid = oldnodeid };
    struct tc_fuse_req req = {
        .opcode = FUSE_LINK, .nodeid = newparent,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), NAME(newname) },
    };
    return call_entry(dev, &req, out);
}

static int call_open(struct tc_dev *dev, uint32_t opcode, uint64_t nodeid, uint32_t flags,
                     struct fuse_open_out *out)
{
    struct fuse_open_in in = { .flags = flags };
    struct fuse_open_out tmp;
    if (!out)
        out = &tmp;
    struct tc_fuse_req req = {
        .opcode = opcode, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1, .out = { OUT(out, sizeof(*out)) },
    };
    return expect(tc_fuse_call(dev, &req), sizeof(*out));
}

int tc_fuse_open(struct tc_dev *dev, uint64_t nodeid, uint32_t flags, struct fuse_open_out *out)
{
    return call_open(dev, FUSE_OPEN, nodeid, flags, out);
}

int tc_fuse_opendir(struct tc_dev *dev, uint64_t nodeid, uint32_t flags, struct fuse_open_out *out)
{
    return call_open(dev, FUSE_OPENDIR, nodeid, flags, out);
}

int tc_fuse_create(struct tc_dev *dev, uint64_t parent, const char *name, uint32_t flags,
                   uint32_t mode, uint32_t umask, struct fuse_entry_out *entry,
                   struct fuse_open_out *open)
{
    struct fuse_create_in in = { .flags = flags, .mode = mode, .umask = umask };
    struct fuse_entry_out e;
    struct fuse_open_out o;
    if (!entry)
        entry = &e;
    if (!open)
        open = &o;
    struct tc_fuse_req req = {
        .opcode = FUSE_CREATE, .nodeid = parent,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), NAME(name) },
        .out_cnt = 2, .out = { OUT(entry, sizeof(*entry)), OUT(open, sizeof(*open)) },
    };
    return expect(tc_fuse_call(dev, &req), sizeof(*entry) + sizeof(*open));
}

static int call_read(struct tc_dev *dev, uint32_t opcode, uint64_t nodeid, uint64_t fh,
                     uint64_t offset, uint32_t size, void *buf, const struct tc_buf *bufs,
                     unsigned nbufs)
{
    struct fuse_read_in in = { .fh = fh, .offset = offset, .size = size };
    struct tc_fuse_req req = {
        .opcode = opcode, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_data = bufs, .out_data_cnt = nbufs,
    };
    if (buf) {
        req.out[0] = OUT(buf, size);
        req.out_cnt = 1;
    }
    int r = tc_fuse_call(dev, &req);
    if (r > (int)size)
        return -EPROTO;
    return r;
}

int tc_fuse_read(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset, void *buf,
                 uint32_t size)
{
    return call_read(dev, FUSE_READ, nodeid, fh, offset, size, buf, NULL, 0);
}

int tc_fuse_read_bufs(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                      const struct tc_buf *bufs, unsigned nbufs)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    if (total > UINT32_MAX)
        return -E2BIG;
    return call_read(dev, FUSE_READ, nodeid, fh, offset, (uint32_t)total, NULL, bufs, nbufs);
}

int tc_fuse_readdir(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset, void *buf,
                    uint32_t size)
{
    return call_read(dev, FUSE_READDIR, nodeid, fh, offset, size, buf, NULL, 0);
}

int tc_fuse_readdirplus(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                        void *buf, uint32_t size)
{
    return call_read(dev, FUSE_READDIRPLUS, nodeid, fh, offset, size, buf, NULL, 0);
}

static int call_write(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                      const void *data, uint32_t size, const struct tc_buf *bufs, unsigned nbufs)
{
    struct fuse_write_in in = { .fh = fh, .offset = offset, .size = size };
    struct fuse_write_out out;
    struct tc_fuse_req req = {
        .opcode = FUSE_WRITE, .nodeid = nodeid,
        .in_cnt = data ? 2 : 1, .in = { IN(&in, sizeof(in)), IN(data, data ? size : 0) },
        .in_data = bufs, .in_data_cnt = nbufs,
        .out_cnt = 1, .out = { OUT(&out, sizeof(out)) },
    };
    int r = expect(tc_fuse_call(dev, &req), sizeof(out));
    if (r < 0)
        return r;
    if (out.size > size || out.size > INT32_MAX)
        return -EPROTO;
    return (int)out.size;
}

int tc_fuse_write(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                  const void *data, uint32_t size)
{
    return call_write(dev, nodeid, fh, offset, data, size, NULL, 0);
}

int tc_fuse_write_bufs(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                       const struct tc_buf *bufs, unsigned nbufs)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < nbufs; i++)
        total += bufs[i].len;
    if (total > UINT32_MAX)
        return -E2BIG;
    return call_write(dev, nodeid, fh, offset, NULL, (uint32_t)total, bufs, nbufs);
}

/* A request with one fixed-size argument and no reply payload. */
static int call_in(struct tc_dev *dev, uint32_t opcode, uint64_t nodeid, const void *in, size_t len)
{
    struct tc_fuse_req req = {
        .opcode = opcode, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(in, len) },
    };
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

int tc_fuse_flush(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t lock_owner)
{
    struct fuse_flush_in in = { .fh = fh, .lock_owner = lock_owner };
    return call_in(dev, FUSE_FLUSH, nodeid, &in, sizeof(in));
}

int tc_fuse_release(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t flags)
{
    struct fuse_release_in in = { .fh = fh, .flags = flags };
    return call_in(dev, FUSE_RELEASE, nodeid, &in, sizeof(in));
}

int tc_fuse_releasedir(struct tc_dev *dev, uint64_t nodeid, uint64_t fh)
{
    struct fuse_release_in in = { .fh = fh };
    return call_in(dev, FUSE_RELEASEDIR, nodeid, &in, sizeof(in));
}

int tc_fuse_fsync(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t fsync_flags)
{
    struct fuse_fsync_in in = { .fh = fh, .fsync_flags = fsync_flags };
    return call_in(dev, FUSE_FSYNC, nodeid, &in, sizeof(in));
}

int tc_fuse_fsyncdir(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t fsync_flags)
{
    struct fuse_fsync_in in = { .fh = fh, .fsync_flags = fsync_flags };
    return call_in(dev, FUSE_FSYNCDIR, nodeid, &in, sizeof(in));
}

int tc_fuse_access(struct tc_dev *dev, uint64_t nodeid, uint32_t mask)
{
    struct fuse_access_in in = { .mask = mask };
    return call_in(dev, FUSE_ACCESS, nodeid, &in, sizeof(in));
}

int tc_fuse_fallocate(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                      uint64_t length, uint32_t mode)
{
    struct fuse_fallocate_in in = { .fh = fh, .offset = offset, .length = length, .mode = mode };
    return call_in(dev, FUSE_FALLOCATE, nodeid, &in, sizeof(in));
}

int tc_fuse_syncfs(struct tc_dev *dev, uint64_t nodeid)
{
    struct fuse_syncfs_in in = { 0 };
    return call_in(dev, FUSE_SYNCFS, nodeid, &in, sizeof(in));
}

int tc_fuse_statfs(struct tc_dev *dev, uint64_t nodeid, struct fuse_statfs_out *out)
{
    struct tc_fuse_req req = {
        .opcode = FUSE_STATFS, .nodeid = nodeid,
        .out_cnt = 1, .out = { OUT(out, sizeof(*out)) },
    };
    return expect(tc_fuse_call(dev, &req), sizeof(*out));
}

int tc_fuse_lseek(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                  uint32_t whence, uint64_t *result)
{
    struct fuse_lseek_in in = { .fh = fh, .offset = offset, .whence = whence };
    struct fuse_lseek_out out;
    struct tc_fuse_req req = {
        .opcode = FUSE_LSEEK, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1, .out = { OUT(&out, sizeof(out)) },
    };
    int r = expect(tc_fuse_call(dev, &req), sizeof(out));
    if (r == 0 && result)
        *result = out.offset;
    return r;
}

int tc_fuse_setxattr(struct tc_dev *dev, uint64_t nodeid, const char *name, const void *value,
                     uint32_t size, uint32_t flags)
{
    struct fuse_setxattr_in in = { .size = size, .flags = flags };
    bool ext = dev->fuse.init.flags & FUSE_SETXATTR_EXT;
    struct tc_fuse_req req = {
        .opcode = FUSE_SETXATTR, .nodeid = nodeid,
        .in_cnt = 3,
        .in = { IN(&in, ext ? sizeof(in) : FUSE_COMPAT_SETXATTR_IN_SIZE), NAME(name), IN(value, size) },
    };
    int r = tc_fuse_call(dev, &req);
    return r < 0 ? r : 0;
}

/* GETXATTR / LISTXATTR share their shape: size 0 asks for the size. */
static int call_xattr_get(struct tc_dev *dev, uint32_t opcode, uint64_t nodeid, const char *name,
                          void *buf, uint32_t size)
{
    struct fuse_getxattr_in in = { .size = size };
    struct fuse_getxattr_out out;
    struct tc_fuse_req req = {
        .opcode = opcode, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1,
        .out = { size ? OUT(buf, size) : OUT(&out, sizeof(out)) },
    };
    if (name) {
        req.in[1] = NAME(name);
        req.in_cnt = 2;
    }
    int r = tc_fuse_call(dev, &req);
    if (r < 0 || size)
        return r;
    r = expect(r, sizeof(out));
    if (r < 0)
        return r;
    return out.size > INT32_MAX ? -EPROTO : (int)out.size;
}

int tc_fuse_getxattr(struct tc_dev *dev, uint64_t nodeid, const char *name, void *value,
                     uint32_t size)
{
    return call_xattr_get(dev, FUSE_GETXATTR, nodeid, name, value, size);
}

int tc_fuse_listxattr(struct tc_dev *dev, uint64_t nodeid, char *list, uint32_t size)
{
    return call_xattr_get(dev, FUSE_LISTXATTR, nodeid, NULL, list, size);
}

/* --- directory records --------------------------------------------------- */

int tc_dirent_next(const void *buf, size_t len, size_t *pos, bool plus, struct tc_dirent *ent)
{
    const char *p = (const char *)buf + *pos;
    size_t left = len - *pos;
    size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
    struct fuse_dirent d;

    if (*pos > len)
        return -EPROTO;
    if (left == 0)
        return 0;
    if (left < hdr)
        return -EPROTO;
    if (plus)
        memcpy(&ent->entry, p, sizeof(ent->entry));
    else
        memset(&ent->entry, 0, sizeof(ent->entry));
    memcpy(&d, p + hdr - FUSE_NAME_OFFSET, sizeof(d));
    if (d.namelen == 0 || d.namelen > 255)
        return -EPROTO;
    size_t reclen = FUSE_DIRENT_ALIGN(hdr + d.namelen);
    if (reclen > left)
        return -EPROTO;
    const char *name = p + hdr;
    if (memchr(name, '/', d.namelen) || memchr(name, '\0', d.namelen))
        return -EPROTO;
    ent->ino = d.ino;
    ent->off = d.off;
    ent->type = d.type;
    ent->namelen = d.namelen;
    memcpy(ent->name, name, d.namelen);
    ent->name[d.namelen] = '\0';
    *pos += reclen;
    return 1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Attributes of an inode: GETATTR, SETATTR, READLINK and ACCESS.
 *
 * The inode's own fd is O_PATH, which most f*() calls refuse. Changes go
 * through, in order of preference: the open handle the guest named (FATTR_FH),
 * an *at() call with AT_EMPTY_PATH on the O_PATH fd, or the inode re-opened
 * through /proc/self/fd. None of them resolves a path in the shared directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"
#include "passthrough/xattrmap.h"

/* fstat of the handle when there is one, else of the inode. */
static int stat_inode(const struct pt_inode *inode, int fd, struct stat *st)
{
    if (fd >= 0)
        return fstat(fd, st) < 0 ? neg_errno() : 0;
    struct statx stx;
    int r = pt_inode_statx(inode, &stx);
    if (r < 0)
        return r;
    pt_statx_to_stat(&stx, st);
    return 0;
}

int pt_getattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
               bool has_fh, uint64_t fh, struct pt_attr *out)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    struct pt_file *f = NULL;
    int r = 0;
    if (has_fh) {
        f = pt_file_get(fs, fh);
        if (!f)
            r = -EBADF;
    }
    struct stat st;
    if (r == 0)
        r = stat_inode(inode, f ? f->fd : -1, &st);
    if (r == 0)
        pt_fill_attr(fs, inode, &st, out);
    pt_file_put(fs, f);
    pt_inode_unref(fs, inode);
    return r;
}

static int chmod_inode(const struct pt_fs *fs, const struct pt_inode *inode, int fd, mode_t mode)
{
    mode &= 07777;
    if (fd >= 0)
        return fchmod(fd, mode) < 0 ? neg_errno() : 0;
    /* Linux has no mode on symlinks (fchmodat(AT_SYMLINK_NOFOLLOW) says so too). */
    if (S_ISLNK(inode->type))
        return -EOPNOTSUPP;
    char name[PT_FD_NAME_MAX];
    pt_fd_name(inode->fd, name);
    return fchmodat(fs->proc_fd, name, mode, 0) < 0 ? neg_errno() : 0;
}

/*
 * FUSE_HANDLE_KILLPRIV_V2: the guest asks us to drop set-id bits the way the
 * kernel would for an unprivileged caller; we run privileged, so the host
 * kernel would not do it for us.
 */
mode_t pt_mode_without_suidgid(mode_t mode)
{
    mode_t kill = S_ISUID;
    if (mode & S_IXGRP)
        kill |= S_ISGID; /* S_ISGID without group exec marks mandatory locking */
    return mode & ~kill & 07777;
}

/*
 * FATTR_KILL_SUIDGID (FUSE_HANDLE_KILLPRIV_V2): the guest asks us to drop the
 * set-id bits the way the kernel would for an unprivileged caller; we run
 * privileged, so the host kernel would keep them.
 */
static int kill_suidgid(const struct pt_fs *fs, const struct pt_inode *inode, int fd)
{
    struct stat st;
    int r = stat_inode(inode, fd, &st);
    if (r < 0)
        return r;
    mode_t mode = st.st_mode & 07777;
    if (!S_ISREG(st.st_mode) || pt_mode_without_suidgid(mode) == mode)
        return 0;
    return chmod_inode(fs, inode, fd, pt_mode_without_suidgid(mode));
}

/* A renamed security.capability: the host kernel drops the real one on a
 * truncate or an owner change, but cannot know the renamed one. */
static int drop_capability(const struct pt_fs *fs, const struct pt_inode *inode, int fd)
{
    if (fd >= 0)
        return pt_kill_privs_fd(fs, fd, false);
    _cleanup_close_ int rfd = pt_inode_reopen(fs, inode, O_RDONLY | O_NONBLOCK);
    if (rfd < 0)
        return rfd;
    return pt_kill_privs_fd(fs, rfd, false);
}

static int truncate_inode(const struct pt_fs *fs, const struct pt_inode *inode, int fd,
                          uint64_t size)
{
    if (size > INT64_MAX)
        return -EINVAL;
    if (fd >= 0)
        return ftruncate(fd, (off_t)size) < 0 ? neg_errno() : 0;
    if (!S_ISREG(inode->type))
        return S_ISDIR(inode->type) ? -EISDIR : -EINVAL;
    _cleanup_close_ int wfd = pt_inode_reopen(fs, inode, O_WRONLY | O_NONBLOCK);
    if (wfd < 0)
        return wfd;
    return ftruncate(wfd, (off_t)size) < 0 ? neg_errno() : 0;
}

static bool timespec_ok(const struct timespec *ts)
{
    return ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

static int set_times(const struct pt_fs *fs, const struct pt_inode *inode, int fd,
                     const struct pt_setattr *in)
{
    struct timespec ts[2] = {
        { .tv_sec = 0, .tv_nsec = UTIME_OMIT },
        { .tv_sec = 0, .tv_nsec = UTIME_OMIT },
    };
    if (in->valid & FATTR_ATIME_NOW)
        ts[0].tv_nsec = UTIME_NOW;
    else if (in->valid & FATTR_ATIME)
        ts[0] = in->atime;
    if (in->valid & FATTR_MTIME_NOW)
        ts[1].tv_nsec = UTIME_NOW;
    else if (in->valid & FATTR_MTIME)
        ts[1] = in->mtime;
    /* Checked here so that EINVAL below can only mean "no AT_EMPTY_PATH". */
    if (((in->valid & (FATTR_ATIME | FATTR_ATIME_NOW)) == FATTR_ATIME && !timespec_ok(&ts[0])) ||
        ((in->valid & (FATTR_MTIME | FATTR_MTIME_NOW)) == FATTR_MTIME && !timespec_ok(&ts[1])))
        return -EINVAL;

    if (fd >= 0)
        return futimens(fd, ts) < 0 ? neg_errno() : 0;
    if (utimensat(inode->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    int r = neg_errno();
    /* Kernels before 5.8 refuse AT_EMPTY_PATH here; a symlink then has no
     * other way that keeps it unfollowed. */
    if (r != -EINVAL || S_ISLNK(inode->type))
        return r;
    char name[PT_FD_NAME_MAX];
    pt_fd_name(inode->fd, name);
    return utimensat(fs->proc_fd, name, ts, 0) < 0 ? neg_errno() : 0;
}

#define FATTR_CHANGES (FATTR_MODE | FATTR_UID | FATTR_GID | FATTR_SIZE | FATTR_ATIME | \
                       FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW | FATTR_CTIME | \
                       FATTR_KILL_SUIDGID)

static int setattr_inode(struct pt_fs *fs, struct pt_inode *inode, int fd,
                         const struct pt_setattr *in, struct pt_attr *out)
{
    uint32_t valid = in->valid;
    /* The guest only sets it when it negotiated FUSE_HANDLE_KILLPRIV_V2; an
     * explicit new mode wins. */
    bool kill = (valid & FATTR_KILL_SUIDGID) && !(valid & FATTR_MODE);
    int r;

    if ((valid & FATTR_CHANGES) && fs->readonly)
        return -EROFS;
    /* Owners are guest ids: translate (or refuse) before changing anything. */
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    uint32_t id;
    if (valid & FATTR_UID) {
        r = pt_uid_to_host(fs, in->uid, &id);
        if (r < 0)
            return r;
        uid = id;
    }
    if (valid & FATTR_GID) {
        r = pt_gid_to_host(fs, in->gid, &id);
        if (r < 0)
            return r;
        gid = id;
    }

    if (valid & FATTR_MODE) {
        r = chmod_inode(fs, inode, fd, in->mode);
        if (r < 0)
            return r;
    }
    if (valid & (FATTR_UID | FATTR_GID)) {
        /* On the O_PATH fd itself: works for symlinks too (the link is changed). */
        if (fchownat(inode->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
            return neg_errno();
    }
    if (valid & FATTR_SIZE) {
        r = truncate_inode(fs, inode, fd, in->size);
        if (r < 0)
            return r;
    }
    if (kill && (valid & (FATTR_SIZE | FATTR_UID | FATTR_GID))) {
        r = kill_suidgid(fs, inode, fd);
        if (r < 0)
            return r;
    }
    if ((valid & (FATTR_SIZE | FATTR_UID | FATTR_GID)) && S_ISREG(inode->type) &&
        fs->caps.killpriv_v2 && pt_xattrmap_capability_name(fs->xattrmap)) {
        r = drop_capability(fs, inode, fd);
        if (r < 0)
            return r;
    }
    if (valid & (FATTR_ATIME | FATTR_MTIME | FATTR_ATIME_NOW | FATTR_MTIME_NOW)) {
        r = set_times(fs, inode, fd, in);
        if (r < 0)
            return r;
    }

    struct stat st;
    r = stat_inode(inode, fd, &st);
    if (r < 0)
        return r;
    pt_fill_attr(fs, inode, &st, out);
    return 0;
}

int pt_setattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
               const struct pt_setattr *in, struct pt_attr *out)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    struct pt_file *f = NULL;
    int r;
    if (in->valid & FATTR_FH) {
        f = pt_file_get(fs, in->fh);
        if (!f) {
            r = -EBADF;
            goto out_unref;
        }
    }
    r = setattr_inode(fs, inode, f ? f->fd : -1, in, out);
    pt_file_put(fs, f);
out_unref:
    pt_inode_unref(fs, inode);
    return r;
}

int pt_readlink(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                char *buf, size_t size)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    int r;
    if (!S_ISLNK(inode->type)) {
        r = -EINVAL;
    } else if (size == 0) {
        r = 0;
    } else {
        ssize_t n = readlinkat(inode->fd, "", buf, MIN(size, (size_t)INT32_MAX));
        r = n < 0 ? neg_errno() : (int)n;
    }
    pt_inode_unref(fs, inode);
    return r;
}

static int access_inode(struct pt_fs *fs, const struct pt_ctx *ctx,
                        const struct pt_inode *inode, uint32_t mask)
{
    if (mask == F_OK)
        return 0;
    if ((mask & W_OK) && fs->readonly &&
        (S_ISREG(inode->type) || S_ISDIR(inode->type) || S_ISLNK(inode->type)))
        return -EROFS;

    /* The host kernel decides, with the caller's fs ids (and so without our
     * capabilities unless the caller is root): mode bits and ACLs alike. */
    struct pt_creds creds;
    int r = pt_creds_enter(fs, ctx, false, &creds);
    if (r < 0)
        return r;
    char name[PT_FD_NAME_MAX];
    pt_fd_name(inode->fd, name);
    r = faccessat(fs->proc_fd, name, (int)mask, AT_EACCESS) < 0 ? neg_errno() : 0;
    pt_creds_leave(&creds);
    return r;
}

int pt_access(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint32_t mask)
{
    if (mask & ~(uint32_t)(R_OK | W_OK | X_OK))
        return -EINVAL;
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    int r = access_inode(fs, ctx, inode, mask);
    pt_inode_unref(fs, inode);
    return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extended attributes: GETXATTR, LISTXATTR, SETXATTR, REMOVEXATTR.
 *
 * The f*xattr() calls refuse O_PATH fds. Regular files and directories are
 * re-opened through /proc/self/fd and served with f*xattr(). Anything else
 * (symlinks, devices, fifos, sockets) must not be opened: opening a device
 * or a fifo has side effects, and a symlink cannot be opened at all. Those
 * use the path form on "N" relative to /proc/self/fd: resolving that magic
 * link lands on the inode itself and goes no further, so a symlink's own
 * attributes are read and written (what the l*xattr() calls would do on its
 * name). There is no *xattrat() call, so the process cwd is moved to
 * /proc/self/fd for the call (under cwd_lock): absolute /proc paths do not
 * exist once the sandbox has pivoted into the shared directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"

#define PROC_FD_PATH_MAX 40

/* How to reach an inode's xattrs: an open fd, or else a /proc path. */
struct xattr_target {
    int fd;                       /* >= 0: use f*xattr() */
    char path[PROC_FD_PATH_MAX];  /* otherwise */
};

static int target_open(const struct pt_fs *fs, const struct pt_inode *inode,
                       struct xattr_target *t)
{
    t->fd = -1;
    if (S_ISREG(inode->type) || S_ISDIR(inode->type)) {
        int fd = pt_inode_reopen(fs, inode, O_RDONLY | O_NONBLOCK);
        if (fd < 0)
            return fd;
        t->fd = fd;
        return 0;
    }
    snprintf(t->path, sizeof(t->path), "%d", inode->fd);
    return 0;
}

/* Path-form calls run between these; the cwd goes back to the shared root. */
static int cwd_enter(struct pt_fs *fs)
{
    pthread_mutex_lock(&fs->cwd_lock);
    if (fchdir(fs->proc_fd) < 0) {
        int r = neg_errno();
        pthread_mutex_unlock(&fs->cwd_lock);
        return r;
    }
    return 0;
}

static void cwd_leave(struct pt_fs *fs)
{
    if (fchdir(fs->root->fd) < 0)
        (void)!chdir("/");
    pthread_mutex_unlock(&fs->cwd_lock);
}

#define PATH_CALL(fs, expr) ({ \
        __typeof__(expr) res__ = -1; \
        int e__ = cwd_enter(fs); \
        if (e__ < 0) { errno = -e__; } \
        else { res__ = (expr); e__ = errno; cwd_leave(fs); errno = e__; } \
        res__; })

static void target_close(struct xattr_target *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static int xattr_begin(struct pt_fs *fs, uint64_t nodeid, bool mutating,
                       struct pt_inode **inode, struct xattr_target *t)
{
    if (!fs->xattr)
        return -ENOSYS;
    if (mutating && fs->readonly)
        return -EROFS;
    *inode = pt_inode_get(fs, nodeid);
    if (!*inode)
        return -EBADF;
    int r = target_open(fs, *inode, t);
    if (r < 0) {
        pt_inode_unref(fs, *inode);
        *inode = NULL;
    }
    return r;
}

static void xattr_end(struct pt_fs *fs, struct pt_inode *inode, struct xattr_target *t)
{
    target_close(t);
    pt_inode_unref(fs, inode);
}

static bool name_ok(const char *name)
{
    return name && name[0] != '\0';
}

ssize_t pt_getxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                    const char *name, void *buf, size_t size)
{
    if (fs->xattr && !name_ok(name))
        return -EINVAL;
    struct pt_inode *inode;
    struct xattr_target t;
    int r = xattr_begin(fs, nodeid, false, &inode, &t);
    if (r < 0)
        return r;
    /* size 0 asks for the length; the kernel calls do the same. */
    ssize_t n = t.fd >= 0 ? fgetxattr(t.fd, name, size ? buf : NULL, size)
                          : PATH_CALL(fs, getxattr(t.path, name, size ? buf : NULL, size));
    if (n < 0)
        n = neg_errno();
    xattr_end(fs, inode, &t);
    return n;
}

ssize_t pt_listxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                     char *buf, size_t size)
{
    struct pt_inode *inode;
    struct xattr_target t;
    int r = xattr_begin(fs, nodeid, false, &inode, &t);
    if (r < 0)
        return r;
    ssize_t n = t.fd >= 0 ? flistxattr(t.fd, size ? buf : NULL, size)
                          : PATH_CALL(fs, listxattr(t.path, size ? buf : NULL, size));
    if (n < 0)
        n = neg_errno();
    xattr_end(fs, inode, &t);
    return n;
}

/*
 * FUSE_SETXATTR_ACL_KILL_SGID: the guest found that the caller may not keep
 * S_ISGID when it sets an access ACL; we run privileged, so the host kernel
 * would keep it.
 */
static int acl_kill_sgid(const struct xattr_target *t)
{
    struct stat st;
    if (t->fd < 0)
        return 0; /* only regular files and directories carry S_ISGID */
    if (fstat(t->fd, &st) < 0)
        return neg_errno();
    if (!(st.st_mode & S_ISGID))
        return 0;
    return fchmod(t->fd, st.st_mode & 07777 & ~S_ISGID) < 0 ? neg_errno() : 0;
}

int pt_setxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, const char *name,
                const void *value, size_t size, uint32_t flags, uint32_t setxattr_flags)
{
    if (fs->xattr && (!name_ok(name) || (flags & ~(uint32_t)(XATTR_CREATE | XATTR_REPLACE))))
        return -EINVAL;
    struct pt_inode *inode;
    struct xattr_target t;
    int r = xattr_begin(fs, nodeid, true, &inode, &t);
    if (r < 0)
        return r;
    if (t.fd >= 0)
        r = fsetxattr(t.fd, name, value, size, (int)flags);
    else
        r = PATH_CALL(fs, setxattr(t.path, name, value, size, (int)flags));
    r = r < 0 ? neg_errno() : 0;
    if (r == 0 && (setxattr_flags & FUSE_SETXATTR_ACL_KILL_SGID) &&
        strcmp(name, "system.posix_acl_access") == 0)
        r = acl_kill_sgid(&t);
    xattr_end(fs, inode, &t);
    return r;
}

int pt_removexattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, const char *name)
{
    if (fs->xattr && !name_ok(name))
        return -EINVAL;
    struct pt_inode *inode;
    struct xattr_target t;
    int r = xattr_begin(fs, nodeid, true, &inode, &t);
    if (r < 0)
        return r;
    if (t.fd >= 0)
        r = fremovexattr(t.fd, name);
    else
        r = PATH_CALL(fs, removexattr(t.path, name));
    r = r < 0 ? neg_errno() : 0;
    xattr_end(fs, inode, &t);
    return r;
}

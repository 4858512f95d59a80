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
 *
 * With an xattr map (--xattrmap) every name from the guest is mapped to its
 * host name before the call, and a listing is fetched whole from the host,
 * then filtered and renamed for the guest: its size is only known after
 * mapping, so the guest's buffer size is checked against the mapped list.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"
#include "passthrough/xattrmap.h"

#define PROC_FD_PATH_MAX 40

/* How to reach an inode's xattrs: an open fd, or else a /proc path. */
struct xattr_target {
    int fd;                       /* >= 0: use f*xattr() */
    char path[PROC_FD_PATH_MAX];  /* otherwise */
};

/* path_fd: an O_PATH fd of the object, whose file type is `type`. */
static int target_open_fd(const struct pt_fs *fs, int path_fd, mode_t type,
                          struct xattr_target *t)
{
    t->fd = -1;
    snprintf(t->path, sizeof(t->path), "%d", path_fd);
    if (S_ISREG(type) || S_ISDIR(type)) {
        /* The /proc magic link names the object itself. */
        int fd = openat(fs->proc_fd, t->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
            return neg_errno();
        t->fd = fd;
    }
    return 0;
}

static int target_open(const struct pt_fs *fs, const struct pt_inode *inode,
                       struct xattr_target *t)
{
    return target_open_fd(fs, inode->fd, inode->type, t);
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

/* The host name of a guest's xattr name: itself without a map, else
 * mapped into buf. */
static int host_name(const struct pt_fs *fs, const char *name, char buf[XATTR_NAME_MAX + 1],
                     const char **out)
{
    *out = name;
    if (!fs->xattr || !fs->xattrmap)
        return 0;
    int r = pt_xattrmap_to_host(fs->xattrmap, name, buf, XATTR_NAME_MAX + 1);
    if (r == 0)
        *out = buf;
    return r;
}

/* POSIX ACL names: only served when the guest enforces ACLs (FUSE_POSIX_ACL). */
static bool is_acl_name(const char *name)
{
    return strcmp(name, "system.posix_acl_access") == 0 ||
           strcmp(name, "system.posix_acl_default") == 0;
}

/*
 * Without FUSE_POSIX_ACL the guest treats ACLs as plain xattrs and checks
 * nothing: as root, the daemon would let any user set any ACL (and the mode
 * bits it carries). Refused as a filesystem without ACLs would.
 */
static int acl_refused(const struct pt_fs *fs, const char *name)
{
    return !fs->caps.posix_acl && is_acl_name(name) ? -EOPNOTSUPP : 0;
}

/* Drops the names a caller must not see from a NUL-separated list. */
static size_t hide_names(char *list, size_t len, bool trusted, bool acl)
{
    size_t out = 0;
    for (size_t off = 0; off < len;) {
        const char *name = list + off;
        size_t n = strnlen(name, len - off) + 1;
        bool hide = (trusted && strncmp(name, "trusted.", 8) == 0) || (acl && is_acl_name(name));
        if (!hide) {
            memmove(list + out, name, n);
            out += n;
        }
        off += n;
    }
    return out;
}

ssize_t pt_getxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                    const char *name, void *buf, size_t size)
{
    if (fs->xattr && !name_ok(name))
        return -EINVAL;
    if (fs->xattr && acl_refused(fs, name))
        return -EOPNOTSUPP;
    char hbuf[XATTR_NAME_MAX + 1];
    int r = host_name(fs, name, hbuf, &name);
    /* A name the map refuses reads as absent, as QEMU's virtiofsd says:
     * the guest kernel asks for security.capability and ACLs on its own. */
    if (r < 0)
        return r == -EPERM ? -ENODATA : r;
    struct pt_inode *inode;
    struct xattr_target t;
    r = xattr_begin(fs, nodeid, false, &inode, &t);
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

static ssize_t list_host(struct pt_fs *fs, const struct xattr_target *t, char *buf, size_t size)
{
    ssize_t n = t->fd >= 0 ? flistxattr(t->fd, size ? buf : NULL, size)
                           : PATH_CALL(fs, listxattr(t->path, size ? buf : NULL, size));
    return n < 0 ? neg_errno() : n;
}

/*
 * The whole host list, mapped for the guest, without what the caller may
 * not see (trusted.* unless the guest caller is root, as the host kernel
 * hides them from callers without CAP_SYS_ADMIN; ACLs unless enforced);
 * then sized as the guest asked.
 */
static ssize_t list_filtered(struct pt_fs *fs, const struct xattr_target *t, char *buf,
                             size_t size, bool hide_trusted, bool hide_acl)
{
    _cleanup_free_ char *all = NULL;
    ssize_t n = 0;

    /* The list can grow between the size query and the read: retry a few
     * times, as a listing program would. */
    for (int tries = 0; tries < 4; tries++) {
        n = list_host(fs, t, NULL, 0);
        if (n <= 0)
            return n;
        size_t cap = MIN((size_t)n + 256, (size_t)XATTR_LIST_MAX);
        free(all);
        all = malloc(cap);
        if (!all)
            return -ENOMEM;
        n = list_host(fs, t, all, cap);
        if (n != -ERANGE)
            break;
    }
    if (n < 0)
        return n;
    size_t len = fs->xattrmap ? pt_xattrmap_filter_list(fs->xattrmap, all, (size_t)n)
                              : (size_t)n;
    len = hide_names(all, len, hide_trusted, hide_acl);
    if (size == 0)
        return (ssize_t)len;
    if (len > size)
        return -ERANGE;
    memcpy(buf, all, len);
    return (ssize_t)len;
}

ssize_t pt_listxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                     char *buf, size_t size)
{
    struct pt_inode *inode;
    struct xattr_target t;
    int r = xattr_begin(fs, nodeid, false, &inode, &t);
    if (r < 0)
        return r;
    ssize_t n;
    bool hide_trusted = ctx->uid != 0, hide_acl = !fs->caps.posix_acl;
    if (fs->xattrmap || hide_trusted || hide_acl) {
        n = list_filtered(fs, &t, buf, size, hide_trusted, hide_acl);
    } else {
        n = t.fd >= 0 ? flistxattr(t.fd, size ? buf : NULL, size)
                      : PATH_CALL(fs, listxattr(t.path, size ? buf : NULL, size));
        if (n < 0)
            n = neg_errno();
    }
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
    if (fs->xattr && acl_refused(fs, name))
        return -EOPNOTSUPP;
    char hbuf[XATTR_NAME_MAX + 1];
    const char *hname;
    int r = host_name(fs, name, hbuf, &hname);
    if (r < 0)
        return r;
    struct pt_inode *inode;
    struct xattr_target t;
    r = xattr_begin(fs, nodeid, true, &inode, &t);
    if (r < 0)
        return r;
    if (t.fd >= 0)
        r = fsetxattr(t.fd, hname, value, size, (int)flags);
    else
        r = PATH_CALL(fs, setxattr(t.path, hname, value, size, (int)flags));
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
    if (fs->xattr && acl_refused(fs, name))
        return -EOPNOTSUPP;
    char hbuf[XATTR_NAME_MAX + 1];
    int r = host_name(fs, name, hbuf, &name);
    if (r < 0)
        return r;
    struct pt_inode *inode;
    struct xattr_target t;
    r = xattr_begin(fs, nodeid, true, &inode, &t);
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

int pt_xattr_set_fd(struct pt_fs *fs, int path_fd, mode_t type, const char *host_name,
                    const void *value, size_t size)
{
    struct xattr_target t;
    int r = target_open_fd(fs, path_fd, type, &t);
    if (r < 0)
        return r;
    if (t.fd >= 0)
        r = fsetxattr(t.fd, host_name, value, size, 0);
    else
        r = PATH_CALL(fs, setxattr(t.path, host_name, value, size, 0));
    r = r < 0 ? neg_errno() : 0;
    target_close(&t);
    return r;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Security attributes of inodes the daemon has to manage itself because it
 * runs privileged: the mode a new inode gets (the guest's umask against a
 * default ACL), the security contexts the guest's LSM gives a new inode
 * (FUSE_SECURITY_CTX), and the privileges a write or truncate must drop
 * (FUSE_HANDLE_KILLPRIV_V2).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"
#include "passthrough/xattrmap.h"

#define ACL_DEFAULT_XATTR "system.posix_acl_default"

/*
 * Whether the host directory has a default ACL. It is the host file system
 * that hands the ACL down, so the host's own attribute is asked, whatever
 * the xattr map says. When it cannot be told, the umask applies: the more
 * restrictive answer.
 */
static bool has_default_acl(const struct pt_fs *fs, const struct pt_inode *dir)
{
    _cleanup_close_ int fd = pt_inode_reopen(fs, dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
    if (fd < 0)
        return false;
    return fgetxattr(fd, ACL_DEFAULT_XATTR, NULL, 0) > 0;
}

mode_t pt_create_mode(const struct pt_fs *fs, const struct pt_inode *dir, uint32_t mode,
                      uint32_t umask)
{
    if (!fs->caps.dont_mask)
        return (mode_t)mode; /* the guest kernel applied its umask already */
    /* POSIX: with a default ACL on the parent the umask is not used; the
     * host file system applies the ACL to the mode we pass (the process
     * umask is 0, see pt_fs_new()). */
    if (fs->caps.posix_acl && has_default_acl(fs, dir))
        return (mode_t)mode;
    return (mode_t)(mode & ~(umask & 07777));
}

/* The host name of a context's guest xattr name. */
static int secctx_host_name(const struct pt_fs *fs, const struct pt_secctx *sc,
                            char buf[XATTR_NAME_MAX + 1], const char **out)
{
    if (!sc->name || !sc->name[0] || strlen(sc->name) > XATTR_NAME_MAX ||
        sc->size > XATTR_SIZE_MAX)
        return -EINVAL;
    *out = sc->name;
    if (!fs->xattrmap)
        return 0;
    int r = pt_xattrmap_to_host(fs->xattrmap, sc->name, buf, XATTR_NAME_MAX + 1);
    if (r == 0)
        *out = buf;
    return r;
}

int pt_secctx_check(const struct pt_fs *fs, const struct pt_ctx *ctx)
{
    char buf[XATTR_NAME_MAX + 1];
    const char *name;
    for (unsigned i = 0; i < ctx->nr_secctx; i++) {
        int r = secctx_host_name(fs, &ctx->secctx[i], buf, &name);
        if (r < 0)
            return r;
    }
    return 0;
}

int pt_secctx_apply(struct pt_fs *fs, const struct pt_ctx *ctx, const struct pt_inode *dir,
                    const char *name, int open_fd)
{
    char buf[XATTR_NAME_MAX + 1];
    const char *hname;
    struct stat st = { .st_mode = 0 };
    int r = 0;

    if (!ctx->nr_secctx)
        return 0;
    /* Set with the daemon's own credentials: security.* needs privileges
     * the caller's fs ids do not carry. */
    _cleanup_close_ int path_fd = -1;
    if (open_fd < 0) {
        path_fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (path_fd < 0 || fstat(path_fd, &st) < 0)
            r = neg_errno();
    }
    for (unsigned i = 0; r == 0 && i < ctx->nr_secctx; i++) {
        const struct pt_secctx *sc = &ctx->secctx[i];
        r = secctx_host_name(fs, sc, buf, &hname);
        if (r < 0)
            break;
        if (open_fd >= 0)
            r = fsetxattr(open_fd, hname, sc->value, sc->size, 0) < 0 ? neg_errno() : 0;
        else
            r = pt_xattr_set_fd(fs, path_fd, st.st_mode & S_IFMT, hname, sc->value, sc->size);
    }
    if (r < 0 && name) {
        /* The guest must not get an inode without the label it asked for
         * (an unnamed O_TMPFILE file goes with its fd). */
        bool is_dir = open_fd < 0 && path_fd >= 0 && S_ISDIR(st.st_mode);
        (void)!unlinkat(dir->fd, name, is_dir ? AT_REMOVEDIR : 0);
    }
    return r;
}

/* S_ISUID, and S_ISGID with group exec, as an unprivileged write drops them. */
static int kill_suidgid(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return neg_errno();
    mode_t mode = st.st_mode & 07777;
    if (!S_ISREG(st.st_mode) || pt_mode_without_suidgid(mode) == mode)
        return 0;
    return fchmod(fd, pt_mode_without_suidgid(mode)) < 0 ? neg_errno() : 0;
}

int pt_kill_privs_fd(const struct pt_fs *fs, int fd, bool kill_suidgid_bits)
{
    int r = kill_suidgid_bits ? kill_suidgid(fd) : 0;
    const char *cap = fs->caps.killpriv_v2 ? pt_xattrmap_capability_name(fs->xattrmap) : NULL;
    if (r == 0 && cap && fremovexattr(fd, cap) < 0 && errno != ENODATA && errno != ENOTSUP)
        r = neg_errno();
    return r;
}

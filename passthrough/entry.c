/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Operations on names in a directory: LOOKUP, the creating calls (MKNOD,
 * MKDIR, SYMLINK, LINK), UNLINK, RMDIR and RENAME.
 *
 * Every name is resolved by a single *at() call relative to the parent's
 * O_PATH fd, never followed if it is a symlink, so the guest cannot make us
 * walk outside the shared directory through a link.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"

static void fill_entry(const struct pt_fs *fs, const struct pt_inode *inode,
                       const struct statx *stx, struct pt_entry *out)
{
    struct stat st;
    pt_statx_to_stat(stx, &st);
    memset(out, 0, sizeof(*out));
    out->nodeid = pt_inode_id(inode);
    /* The nodeid itself carries the slot generation, so (nodeid, 0) is
     * never reused for another inode while we run. */
    out->generation = 0;
    out->entry_timeout_ns = fs->timeout_ns;
    pt_fill_attr(fs, inode, &st, &out->attr);
}

/* The entry for `inode` (a reference the caller gives up), one lookup added. */
static void entry_of_inode(struct pt_fs *fs, struct pt_inode *inode, const struct statx *stx,
                           struct pt_entry *out)
{
    fill_entry(fs, inode, stx, out);
    pt_inode_add_lookup(inode);
    pt_inode_put(fs, inode);
}

/*
 * The entry for the inode `path_fd` (O_PATH, consumed) reached from dir,
 * with one lookup added. dotdot: it is dir's parent, not a child.
 */
static int entry_of_path_fd(struct pt_fs *fs, struct pt_inode *dir, int path_fd, bool dotdot,
                            struct pt_entry *out)
{
    _cleanup_close_ int fd = path_fd;
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0)
        return neg_errno();

    uint64_t mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
    bool submount = mnt_id != dir->mnt_id;
    /* ".." is the parent, not a child: whether it is a mount point has
     * nothing to do with `dir`; the kernel can tell (Linux >= 5.8). */
    if (dotdot)
        submount = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                   (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
    struct pt_inode *inode;
    int r = pt_inode_find_or_add(fs, TAKE_FD(fd), &stx, submount, &inode);
    if (r < 0)
        return r;
    entry_of_inode(fs, inode, &stx, out);
    return 0;
}

int pt_lookup_in(struct pt_fs *fs, struct pt_inode *dir, const char *name,
                 struct pt_entry *out)
{
    struct statx stx;
    int r;

    if (!S_ISDIR(dir->type))
        return -ENOTDIR;

    /* "." is the directory; ".." of the shared root stays at the root. */
    if (strcmp(name, ".") == 0 || (strcmp(name, "..") == 0 && dir == fs->root)) {
        r = pt_inode_statx(dir, &stx);
        if (r < 0)
            return r;
        fill_entry(fs, dir, &stx, out);
        pt_inode_add_lookup(dir);
        return 0;
    }

    bool dotdot = strcmp(name, "..") == 0;
    if (!dotdot) {
        /* An inode the table already holds pinned (a name listed again,
         * another link of a known file) needs no open: a single statx of
         * the name tells which it is, and that number cannot have moved to
         * another inode while we pin it. A name the table does not know
         * costs this statx on top. */
        if (statx(dir->fd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
                  STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0)
            return neg_errno();
        struct pt_inode *inode = pt_inode_find_pinned(fs, &stx);
        if (inode) {
            entry_of_inode(fs, inode, &stx, out);
            return 0;
        }
    }
    int fd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return neg_errno();
    return entry_of_path_fd(fs, dir, fd, dotdot, out);
}

int pt_lookup_open_file(struct pt_fs *fs, struct pt_inode *dir, int fd, struct pt_entry *out)
{
    /* The /proc magic link names the open file itself, whatever its name
     * has become since it was opened. */
    char name[PT_FD_NAME_MAX];
    pt_fd_name(fd, name);
    int path_fd = openat(fs->proc_fd, name, O_PATH | O_CLOEXEC);
    if (path_fd < 0)
        return neg_errno();
    return entry_of_path_fd(fs, dir, path_fd, false, out);
}

int pt_lookup(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent,
              const char *name, struct pt_entry *out)
{
    if (!pt_name_ok(name, true))
        return -EINVAL;
    struct pt_inode *dir = pt_inode_get(fs, parent);
    if (!dir)
        return -EBADF;
    int r = pt_lookup_in(fs, dir, name, out);
    pt_inode_unref(fs, dir);
    return r;
}

/* What a creating call makes. */
enum node_kind { NODE_MKNOD, NODE_MKDIR, NODE_SYMLINK };

struct node_args {
    enum node_kind kind;
    uint32_t mode;            /* as the guest sent it */
    uint32_t umask;           /* the guest's, applied by pt_create_mode() */
    dev_t rdev;
    const char *target;
};

/* Runs with the caller's fs credentials. */
static int make_node(const struct pt_inode *dir, const char *name, const struct node_args *a,
                     mode_t mode)
{
    int r;
    switch (a->kind) {
    case NODE_MKNOD:
        r = mknodat(dir->fd, name, mode, a->rdev);
        break;
    case NODE_MKDIR:
        r = mkdirat(dir->fd, name, mode & 07777);
        break;
    case NODE_SYMLINK:
        r = symlinkat(a->target, dir->fd, name);
        break;
    default:
        return -EINVAL;
    }
    return r < 0 ? neg_errno() : 0;
}

static int create_node(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent,
                       const char *name, const struct node_args *a, struct pt_entry *out)
{
    if (fs->readonly)
        return -EROFS;
    if (!pt_name_ok(name, false))
        return -EINVAL;
    struct pt_inode *dir = pt_inode_get(fs, parent);
    if (!dir)
        return -EBADF;

    int r;
    struct pt_creds creds;
    if (!S_ISDIR(dir->type)) {
        r = -ENOTDIR;
        goto out_unref;
    }
    r = pt_secctx_check(fs, ctx);
    if (r < 0)
        goto out_unref;
    mode_t mode = a->kind == NODE_SYMLINK ? 0 : pt_create_mode(fs, dir, a->mode, a->umask);
    r = pt_creds_enter(fs, ctx, true, &creds);
    if (r < 0)
        goto out_unref;
    r = make_node(dir, name, a, mode);
    pt_creds_leave(&creds);
    if (r == 0)
        r = pt_secctx_apply(fs, ctx, dir, name, -1);
    if (r == 0)
        r = pt_lookup_in(fs, dir, name, out);
out_unref:
    pt_inode_unref(fs, dir);
    return r;
}

int pt_mknod(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
             uint32_t mode, uint32_t rdev, uint32_t umask, struct pt_entry *out)
{
    struct node_args a = {
        .kind = NODE_MKNOD,
        .mode = mode,
        .umask = umask,
        .rdev = (dev_t)rdev,
    };
    return create_node(fs, ctx, parent, name, &a, out);
}

int pt_mkdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
             uint32_t mode, uint32_t umask, struct pt_entry *out)
{
    struct node_args a = {
        .kind = NODE_MKDIR,
        .mode = mode,
        .umask = umask,
    };
    return create_node(fs, ctx, parent, name, &a, out);
}

int pt_symlink(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
               const char *target, struct pt_entry *out)
{
    if (!target || target[0] == '\0')
        return -EINVAL;
    struct node_args a = { .kind = NODE_SYMLINK, .target = target };
    return create_node(fs, ctx, parent, name, &a, out);
}

static int link_inode(struct pt_fs *fs, struct pt_inode *inode, struct pt_inode *newdir,
                      const char *newname, struct pt_entry *out)
{
    if (!S_ISDIR(newdir->type))
        return -ENOTDIR;
    if (S_ISDIR(inode->type))
        return -EPERM;
    if (linkat(inode->fd, "", newdir->fd, newname, AT_EMPTY_PATH) < 0) {
        int r = neg_errno();
        /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH and says ENOENT without
         * it; the /proc magic link needs no capability. */
        if (r != -ENOENT)
            return r;
        char name[PT_FD_NAME_MAX];
        pt_fd_name(inode->fd, name);
        if (linkat(fs->proc_fd, name, newdir->fd, newname, AT_SYMLINK_FOLLOW) < 0)
            return neg_errno();
    }
    return pt_lookup_in(fs, newdir, newname, out);
}

int pt_link(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t newparent,
            const char *newname, struct pt_entry *out)
{
    if (fs->readonly)
        return -EROFS;
    if (!pt_name_ok(newname, false))
        return -EINVAL;
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    struct pt_inode *newdir = pt_inode_get(fs, newparent);
    int r = newdir ? link_inode(fs, inode, newdir, newname, out) : -EBADF;
    pt_inode_unref(fs, newdir);
    pt_inode_unref(fs, inode);
    return r;
}

static int remove_name(struct pt_fs *fs, uint64_t parent, const char *name, int flags)
{
    if (fs->readonly)
        return -EROFS;
    if (!pt_name_ok(name, false))
        return -EINVAL;
    struct pt_inode *dir = pt_inode_get(fs, parent);
    if (!dir)
        return -EBADF;
    int r = unlinkat(dir->fd, name, flags) < 0 ? neg_errno() : 0;
    pt_inode_unref(fs, dir);
    return r;
}

int pt_unlink(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name)
{
    return remove_name(fs, parent, name, 0);
}

int pt_rmdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name)
{
    return remove_name(fs, parent, name, AT_REMOVEDIR);
}

int pt_rename(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t olddir, const char *oldname,
              uint64_t newdir, const char *newname, uint32_t flags)
{
    if (flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if (fs->readonly)
        return -EROFS;
    if (!pt_name_ok(oldname, false) || !pt_name_ok(newname, false))
        return -EINVAL;
    struct pt_inode *od = pt_inode_get(fs, olddir);
    if (!od)
        return -EBADF;
    struct pt_inode *nd = pt_inode_get(fs, newdir);
    int r;
    if (!nd)
        r = -EBADF;
    else if (renameat2(od->fd, oldname, nd->fd, newname, flags) < 0)
        r = neg_errno();
    else
        r = 0;
    pt_inode_unref(fs, nd);
    pt_inode_unref(fs, od);
    return r;
}

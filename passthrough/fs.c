/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The filesystem object: setup and teardown, INIT/DESTROY, statistics, the
 * operations that concern the whole filesystem (STATFS, SYNCFS), and the
 * small helpers every operation file shares.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/idmap.h"
#include "passthrough/internal.h"

#define NSEC_PER_SEC 1000000000ull
/* Longer than any cache needs, small enough not to overflow in the kernel. */
#define MAX_TIMEOUT_SEC (100.0 * 365 * 86400)

static uint64_t timeout_ns_for(const struct pt_config *cfg)
{
    double sec;
    if (cfg->timeout >= 0 && isfinite(cfg->timeout)) {
        sec = cfg->timeout;
    } else {
        switch (cfg->cache) {
        case PT_CACHE_NEVER:    sec = 0; break;
        case PT_CACHE_AUTO:     sec = 1; break;
        case PT_CACHE_METADATA:
        case PT_CACHE_ALWAYS:
        default:                sec = 86400; break;
        }
    }
    if (sec > MAX_TIMEOUT_SEC)
        sec = MAX_TIMEOUT_SEC;
    return (uint64_t)(sec * (double)NSEC_PER_SEC);
}

void pt_fd_name(int fd, char buf[PT_FD_NAME_MAX])
{
    snprintf(buf, PT_FD_NAME_MAX, "%d", fd);
}

int pt_inode_reopen(const struct pt_fs *fs, const struct pt_inode *inode, int flags)
{
    char name[PT_FD_NAME_MAX];
    pt_fd_name(inode->fd, name);
    /* The /proc magic link names the inode itself: O_NOFOLLOW would refuse
     * it, and nothing else is ever followed through it. */
    flags &= ~(O_NOFOLLOW | O_CREAT | O_EXCL | O_TMPFILE);
    int fd = openat(fs->proc_fd, name, flags | O_CLOEXEC);
    return fd < 0 ? neg_errno() : fd;
}

int pt_inode_statx(const struct pt_inode *inode, struct statx *stx)
{
    if (statx(inode->fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_BASIC_STATS | STATX_MNT_ID, stx) < 0)
        return neg_errno();
    return 0;
}

void pt_statx_to_stat(const struct statx *stx, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    st->st_ino = stx->stx_ino;
    st->st_mode = stx->stx_mode;
    st->st_nlink = stx->stx_nlink;
    st->st_uid = stx->stx_uid;
    st->st_gid = stx->stx_gid;
    st->st_rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor);
    st->st_size = (off_t)stx->stx_size;
    st->st_blksize = stx->stx_blksize;
    st->st_blocks = (blkcnt_t)stx->stx_blocks;
    st->st_atim.tv_sec = stx->stx_atime.tv_sec;
    st->st_atim.tv_nsec = stx->stx_atime.tv_nsec;
    st->st_mtim.tv_sec = stx->stx_mtime.tv_sec;
    st->st_mtim.tv_nsec = stx->stx_mtime.tv_nsec;
    st->st_ctim.tv_sec = stx->stx_ctime.tv_sec;
    st->st_ctim.tv_nsec = stx->stx_ctime.tv_nsec;
}

void pt_fill_attr(const struct pt_fs *fs, const struct pt_inode *inode,
                  const struct stat *st, struct pt_attr *out)
{
    out->st = *st;
    out->st.st_uid = pt_idmap_to_guest(fs->uid_map, st->st_uid);
    out->st.st_gid = pt_idmap_to_guest(fs->gid_map, st->st_gid);
    out->timeout_ns = fs->timeout_ns;
    out->flags = (fs->announce_submounts && inode->submount) ? PT_ATTR_SUBMOUNT : 0;
}

bool pt_name_ok(const char *name, bool allow_dots)
{
    if (!name || name[0] == '\0' || strchr(name, '/'))
        return false;
    if (!allow_dots && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
        return false;
    return true;
}

int pt_fs_new(const struct pt_config *cfg, struct pt_fs **out)
{
    if (!cfg || !cfg->shared_dir || !out)
        return -EINVAL;
    /* Before any thread exists: see pt_creds_drop_groups(). */
    if (geteuid() == 0) {
        int r = pt_creds_drop_groups();
        if (r < 0)
            return r;
    }

    struct pt_fs *fs = calloc(1, sizeof(*fs));
    if (!fs)
        return -ENOMEM;
    fs->cache = cfg->cache;
    fs->xattr = cfg->xattr;
    fs->allow_direct_io = cfg->allow_direct_io;
    fs->readonly = cfg->readonly;
    fs->announce_submounts = cfg->announce_submounts;
    fs->preserve_noatime = cfg->preserve_noatime;
    fs->timeout_ns = timeout_ns_for(cfg);
    fs->switch_creds = geteuid() == 0;
    fs->xattrmap = cfg->xattrmap;
    fs->uid_map = cfg->uid_map;
    fs->gid_map = cfg->gid_map;
    fs->proc_fd = -1;
    fs->inode_handles = PT_HANDLES_NEVER; /* the root keeps its fd: set below */
    pthread_mutex_init(&fs->cwd_lock, NULL);
    pthread_mutex_init(&fs->mounts_lock, NULL);

    int r;
    _cleanup_close_ int root_fd = open(cfg->shared_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        r = neg_errno();
        goto out_free;
    }
    if (cfg->proc_self_fd > 0)
        fs->proc_fd = fcntl(cfg->proc_self_fd, F_DUPFD_CLOEXEC, 3);
    else
        fs->proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fs->proc_fd < 0) {
        r = neg_errno();
        goto out_free;
    }
    struct statx stx;
    if (statx(root_fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0) {
        r = neg_errno();
        goto out_close_proc;
    }

    r = pt_inodes_init(fs);
    if (r < 0)
        goto out_close_proc;
    r = pt_files_init(fs);
    if (r < 0)
        goto out_inodes;
    /* The first inode is index 1, generation 0: nodeid 1. Its reference is
     * the fs's permanent one. */
    r = pt_inode_find_or_add(fs, TAKE_FD(root_fd), &stx, false, &fs->root);
    if (r < 0)
        goto out_files;
    if (pt_inode_id(fs->root) != PT_ROOT_ID) {
        r = -EIO;
        goto out_files;
    }
    if (cfg->inode_handles != PT_HANDLES_NEVER) {
        fs->inode_handles = cfg->inode_handles;
        r = pt_mounts_init(fs, fs->root->fd);
        if (r < 0 && cfg->inode_handles == PT_HANDLES_MANDATORY)
            goto out_files;
        if (r < 0) /* prefer: not here, so nowhere (the Rust virtiofsd's rule) */
            fs->inode_handles = PT_HANDLES_NEVER;
    }

    /* Creating calls pass the guest's mode (already masked by the guest,
     * or masked here with FUSE_DONT_MASK); the daemon's own umask must not
     * apply on top. umask is per process: there is no per-thread one. */
    umask(0);

    *out = fs;
    return 0;

out_files:
    pt_inode_unref(fs, fs->root);
    fs->root = NULL;
    pt_files_done(fs);
out_inodes:
    pt_inodes_done(fs);
out_close_proc:
    close(fs->proc_fd);
out_free:
    pt_mounts_done(fs);
    pthread_mutex_destroy(&fs->mounts_lock);
    pthread_mutex_destroy(&fs->cwd_lock);
    free(fs);
    return r;
}

void pt_fs_free(struct pt_fs *fs)
{
    if (!fs)
        return;
    pt_destroy(fs);
    pt_inode_unref(fs, fs->root);
    fs->root = NULL;
    pt_files_done(fs);
    pt_inodes_done(fs);
    pt_mounts_done(fs);
    pthread_mutex_destroy(&fs->mounts_lock);
    close(fs->proc_fd);
    pthread_mutex_destroy(&fs->cwd_lock);
    free(fs);
}

enum pt_inode_handles pt_fs_inode_handles(const struct pt_fs *fs)
{
    return fs->inode_handles;
}

void pt_init(struct pt_fs *fs, const struct pt_init_caps *caps)
{
    fs->caps = *caps;
}

void pt_destroy(struct pt_fs *fs)
{
    /* Handles first: nothing in them refers to inodes, but closing them
     * first matches what a guest unmount does. */
    pt_files_close_all(fs);
    pt_inodes_forget_all(fs);
    /* The root outlives the session; its locks do not. */
    pt_locks_drop_all(fs->root);
}

void pt_get_counts(struct pt_fs *fs, struct pt_counts *out)
{
    out->inodes = atomic_load_explicit(&fs->inodes.live, memory_order_relaxed);
    out->handles = atomic_load_explicit(&fs->files.live, memory_order_relaxed);
}

int pt_statfs(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, struct statvfs *out)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    int r = fstatvfs(inode->fd, out) < 0 ? neg_errno() : 0;
    pt_inode_unref(fs, inode);
    return r;
}

int pt_syncfs(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    /* syncfs() needs a real open file; opening a device or a fifo could
     * have side effects, so those sync through the root instead (the guest
     * sends SYNCFS for a superblock, i.e. normally for the root anyway). */
    const struct pt_inode *target =
        (S_ISREG(inode->type) || S_ISDIR(inode->type)) ? inode : fs->root;
    int r;
    _cleanup_close_ int fd = pt_inode_reopen(fs, target, O_RDONLY | O_NONBLOCK | O_NOATIME);
    if (fd == -EPERM) /* O_NOATIME needs ownership when not privileged */
        fd = pt_inode_reopen(fs, target, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        r = fd;
    else
        r = syncfs(fd) < 0 ? neg_errno() : 0;
    pt_inode_unref(fs, inode);
    return r;
}

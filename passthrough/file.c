/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Open files: OPEN, CREATE, READ, WRITE, FLUSH, RELEASE, FSYNC, FALLOCATE,
 * LSEEK, COPY_FILE_RANGE, and the cache-mode policy for opens.
 *
 * READ and WRITE go straight between the guest's buffers (the iovecs) and
 * the file: no bounce buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fuse.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"
#include "passthrough/xattrmap.h"

/* Flags a guest open may carry through to the host. O_CREAT/O_EXCL only for
 * CREATE; O_ASYNC would send us the guest's signals; O_PATH, O_TMPFILE,
 * O_NOFOLLOW (we never follow anyway) and O_CLOEXEC are ours to choose. */
#define OPEN_PASS_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECT | O_DSYNC | O_SYNC | \
                         O_NOATIME | O_NONBLOCK | O_LARGEFILE)

/* Host open flags for a guest's; -EINVAL/-EROFS when they cannot be served. */
static int host_open_flags(const struct pt_fs *fs, uint32_t guest_flags, bool creating)
{
    int flags = (int)(guest_flags & (uint32_t)(OPEN_PASS_FLAGS | (creating ? O_EXCL : 0)));
    int acc = flags & O_ACCMODE;

    if (acc == O_ACCMODE)
        return -EINVAL;
    if (fs->readonly && (acc != O_RDONLY || (flags & O_TRUNC) || creating))
        return -EROFS;
    if (!fs->allow_direct_io)
        flags &= ~O_DIRECT;
    /* Opening with O_NOATIME needs ownership or CAP_FOWNER on the host, which
     * the guest's kernel did not check for us (the Rust virtiofsd's rule). */
    if (!fs->preserve_noatime)
        flags &= ~O_NOATIME;
    /* Pages the guest wrote through a shared mapping (or with the writeback
     * cache) come back at their own offsets through whichever of the
     * inode's files the guest picks: an O_APPEND host fd would put them at
     * the end. Appending writes are asked for per WRITE instead. */
    flags &= ~O_APPEND;
    /* The guest page cache fills partial pages by reading, even through a
     * write-only open. */
    if (fs->caps.writeback && acc == O_WRONLY)
        flags = (flags & ~O_ACCMODE) | O_RDWR;
    return flags | O_CLOEXEC;
}

static uint32_t fopen_flags(const struct pt_fs *fs)
{
    switch (fs->cache) {
    case PT_CACHE_NEVER:
    case PT_CACHE_METADATA:
        return FOPEN_DIRECT_IO;
    case PT_CACHE_ALWAYS:
        return FOPEN_KEEP_CACHE;
    case PT_CACHE_AUTO:
    default:
        return 0;
    }
}

/*
 * The guest kernel sends OPEN for regular files only: directories get
 * OPENDIR, and device nodes, fifos and sockets are served by the guest's
 * own drivers. Anything else is a confused or hostile guest, and opening a
 * host fifo could block this thread for good, a device could reach host
 * hardware.
 */
static int open_check_type(const struct pt_inode *inode)
{
    if (S_ISREG(inode->type))
        return 0;
    if (S_ISDIR(inode->type))
        return -EISDIR;
    if (S_ISLNK(inode->type))
        return -ELOOP;
    return -ENXIO;
}

int pt_open(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint32_t flags,
            uint64_t *fh, uint32_t *open_flags)
{
    int hflags = host_open_flags(fs, flags, false);
    if (hflags < 0)
        return hflags;
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    int r = open_check_type(inode);
    if (r == 0)
        r = pt_inode_reopen(fs, inode, hflags);
    pt_inode_unref(fs, inode);
    if (r < 0)
        return r;
    if (ctx->kill_suidgid && (hflags & O_TRUNC)) {
        /* We truncated with CAP_FSETID; the caller would not have. */
        int k = pt_kill_privs_fd(fs, r, true);
        if (k < 0) {
            close(r);
            return k;
        }
    }
    r = pt_file_add(fs, r, NULL, fh);
    if (r < 0)
        return r;
    *open_flags = fopen_flags(fs);
    return 0;
}

/*
 * CREATE of a name that exists (no O_EXCL from the guest): opened as OPEN
 * would, through an O_PATH fd whose type is checked first. openat() with
 * O_CREAT alone would open whatever is there: a device node (the host's
 * disk or memory, when the share is not nodev), or a fifo (which may block
 * the thread for good).
 */
static int open_existing(const struct pt_fs *fs, const struct pt_inode *dir, const char *name,
                         int hflags)
{
    _cleanup_close_ int pfd = openat(dir->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0)
        return neg_errno();
    struct stat st;
    if (fstat(pfd, &st) < 0)
        return neg_errno();
    if (S_ISLNK(st.st_mode))
        return -ELOOP;  /* what O_CREAT | O_NOFOLLOW says of a symlink */
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return -ENXIO;  /* as OPEN: the guest serves special files itself */
    char pname[PT_FD_NAME_MAX];
    pt_fd_name(pfd, pname);
    int fd = openat(fs->proc_fd, pname, (hflags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
    return fd < 0 ? neg_errno() : fd;
}

/*
 * Opens `name` in dir for CREATE as the caller: creates it, or, unless the
 * guest asked for O_EXCL, opens the regular file that is already there
 * (*created false). Creating exclusively first tells the two apart, which
 * decides whether O_TRUNC truncated an existing file and whether security
 * contexts are due; it also means openat() itself only ever opens a file
 * made here.
 */
static int create_open(const struct pt_fs *fs, const struct pt_inode *dir, const char *name,
                       int hflags, mode_t mode, bool *created)
{
    for (int tries = 0; tries < 3; tries++) {
        int fd = openat(dir->fd, name, hflags | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
        if (fd >= 0) {
            *created = true;
            return fd;
        }
        if (errno != EEXIST || (hflags & O_EXCL))
            return neg_errno();
        fd = open_existing(fs, dir, name, hflags);
        if (fd >= 0) {
            *created = false;
            return fd;
        }
        if (fd != -ENOENT)
            return fd;
        /* Removed in between: create it after all. */
    }
    return -EAGAIN;
}

static int create_in(struct pt_fs *fs, const struct pt_ctx *ctx, struct pt_inode *dir,
                     const char *name, uint32_t mode, uint32_t umask, int hflags,
                     struct pt_entry *entry, uint64_t *fh)
{
    if (!S_ISDIR(dir->type))
        return -ENOTDIR;
    int r = pt_secctx_check(fs, ctx);
    if (r < 0)
        return r;
    mode_t hmode = pt_create_mode(fs, dir, mode, umask) & 07777;
    struct pt_creds creds;
    r = pt_creds_enter(fs, ctx, true, &creds);
    if (r < 0)
        return r;
    bool created = false;
    int fd = create_open(fs, dir, name, hflags, hmode, &created);
    pt_creds_leave(&creds);
    if (fd < 0)
        return fd;

    if (created)
        r = pt_secctx_apply(fs, ctx, dir, name, fd);
    else if (ctx->kill_suidgid && (hflags & O_TRUNC))
        r = pt_kill_privs_fd(fs, fd, true);
    /* The entry must be the file just opened: the name may already be
     * another file's (a RENAME onto it), and the guest would then write
     * through fh into one inode while it caches the data as another's. */
    if (r == 0)
        r = pt_lookup_open_file(fs, dir, fd, entry);
    if (r < 0) {
        close(fd);
        return r;
    }
    r = pt_file_add(fs, fd, NULL, fh);
    if (r < 0) {
        /* The guest will not see the entry: take its lookup back. */
        pt_forget(fs, entry->nodeid, 1);
        return r;
    }
    return 0;
}

int pt_create(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
              uint32_t mode, uint32_t flags, uint32_t umask, struct pt_entry *entry,
              uint64_t *fh, uint32_t *open_flags)
{
    if (fs->readonly)
        return -EROFS;
    if (!pt_name_ok(name, false))
        return -EINVAL;
    int hflags = host_open_flags(fs, flags, true);
    if (hflags < 0)
        return hflags;
    struct pt_inode *dir = pt_inode_get(fs, parent);
    if (!dir)
        return -EBADF;
    int r = create_in(fs, ctx, dir, name, mode, umask, hflags, entry, fh);
    pt_inode_unref(fs, dir);
    if (r < 0)
        return r;
    *open_flags = fopen_flags(fs);
    return 0;
}

/* An unnamed file in dir, as the caller; *fd gets it open. */
static int tmpfile_in(struct pt_fs *fs, const struct pt_ctx *ctx, struct pt_inode *dir,
                      mode_t mode, int hflags, int *fd)
{
    if (!S_ISDIR(dir->type))
        return -ENOTDIR;
    struct pt_creds creds;
    int r = pt_creds_enter(fs, ctx, true, &creds);
    if (r < 0)
        return r;
    *fd = openat(dir->fd, ".", hflags | O_TMPFILE, mode);
    r = *fd < 0 ? neg_errno() : 0;
    pt_creds_leave(&creds);
    return r;
}

int pt_tmpfile(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, uint32_t mode,
               uint32_t flags, uint32_t umask, struct pt_entry *entry, uint64_t *fh,
               uint32_t *open_flags)
{
    int hflags = host_open_flags(fs, flags, true);
    if (hflags < 0)
        return hflags;
    /* An unnamed file nobody can write is useless; the host refuses it too. */
    if ((hflags & O_ACCMODE) == O_RDONLY)
        return -EINVAL;
    struct pt_inode *dir = pt_inode_get(fs, parent);
    if (!dir)
        return -EBADF;
    _cleanup_close_ int fd = -1;
    int r = pt_secctx_check(fs, ctx);
    if (r == 0)
        r = tmpfile_in(fs, ctx, dir, pt_create_mode(fs, dir, mode, umask) & 07777, hflags, &fd);
    if (r == 0)
        r = pt_secctx_apply(fs, ctx, dir, NULL, fd);
    pt_inode_unref(fs, dir);
    if (r < 0)
        return r;

    /* The inode table keeps an O_PATH fd; the file has no name to open it
     * by, but its /proc/self/fd link leads to the inode itself. */
    char name[PT_FD_NAME_MAX];
    pt_fd_name(fd, name);
    int pathfd = openat(fs->proc_fd, name, O_PATH | O_CLOEXEC);
    if (pathfd < 0)
        return neg_errno();
    struct statx stx;
    if (statx(pathfd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
              STATX_BASIC_STATS | STATX_MNT_ID, &stx) < 0) {
        r = neg_errno();
        close(pathfd);
        return r;
    }
    struct pt_inode *inode;
    r = pt_inode_find_or_add(fs, pathfd, &stx, false, &inode);
    if (r < 0)
        return r;
    struct stat st;
    pt_statx_to_stat(&stx, &st);
    memset(entry, 0, sizeof(*entry));
    entry->nodeid = pt_inode_id(inode);
    entry->entry_timeout_ns = fs->timeout_ns;
    pt_fill_attr(fs, inode, &st, &entry->attr);
    pt_inode_add_lookup(inode);
    pt_inode_unref(fs, inode);

    r = pt_file_add(fs, TAKE_FD(fd), NULL, fh);
    if (r < 0) {
        pt_forget(fs, entry->nodeid, 1);
        return r;
    }
    *open_flags = fopen_flags(fs);
    return 0;
}

static bool io_args_ok(uint64_t offset, unsigned iovcnt)
{
    return offset <= INT64_MAX && iovcnt <= IOV_MAX;
}

int pt_io_begin(struct pt_fs *fs, enum pt_io_kind kind, uint64_t fh, uint64_t offset,
                uint32_t flags, struct pt_file **out)
{
    if ((kind == PT_IO_WRITE || kind == PT_IO_ALLOCATE) && fs->readonly)
        return -EROFS;
    if (offset > INT64_MAX)
        return -EINVAL;
    struct pt_file *f = pt_file_get(fs, fh);
    if (!f)
        return -EBADF;
    /* FUSE_WRITE_KILL_SUIDGID: see pt_mode_without_suidgid(); a renamed
     * security.capability goes on every write, as the real one would. */
    if (kind == PT_IO_WRITE &&
        ((flags & FUSE_WRITE_KILL_SUIDGID) || pt_xattrmap_capability_name(fs->xattrmap))) {
        int r = pt_kill_privs_fd(fs, f->fd, flags & FUSE_WRITE_KILL_SUIDGID);
        if (r < 0) {
            pt_file_put(fs, f);
            return r;
        }
    }
    *out = f;
    return 0;
}

ssize_t pt_read(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t fh, uint64_t offset,
                const struct iovec *iov, unsigned iovcnt)
{
    struct pt_file *f;
    if (!io_args_ok(offset, iovcnt))
        return -EINVAL;
    int r = pt_io_begin(fs, PT_IO_READ, fh, offset, 0, &f);
    if (r < 0)
        return r;
    ssize_t n = preadv(f->fd, iov, (int)iovcnt, (off_t)offset);
    if (n < 0)
        n = neg_errno();
    pt_file_put(fs, f);
    return n;
}

ssize_t pt_write(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t fh, uint64_t offset,
                 const struct iovec *iov, unsigned iovcnt, uint32_t write_flags)
{
    struct pt_file *f;
    if (!io_args_ok(offset, iovcnt))
        return fs->readonly ? -EROFS : -EINVAL;
    int r = pt_io_begin(fs, PT_IO_WRITE, fh, offset, write_flags, &f);
    if (r < 0)
        return r;
    ssize_t n = (write_flags & PT_WRITE_APPEND)
        ? pwritev2(f->fd, iov, (int)iovcnt, (off_t)offset, RWF_APPEND)
        : pwritev(f->fd, iov, (int)iovcnt, (off_t)offset);
    if (n < 0)
        n = neg_errno();
    pt_file_put(fs, f);
    return n;
}

int pt_flush(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t lock_owner)
{
    struct pt_file *f = pt_file_get(fs, fh);
    if (!f)
        return -EBADF;
    /* Closing any of its fds ends a process's record locks on the file. */
    pt_locks_drop_owner(fs, nodeid, lock_owner);
    /* The guest closed one of its fds: closing a duplicate of ours drops
     * the POSIX locks and reports errors the way close() would, while the
     * handle stays open until RELEASE. */
    int r = 0;
    int dupfd = fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0)
        r = neg_errno();
    else if (close(dupfd) < 0 && errno != EINTR)
        r = neg_errno();
    pt_file_put(fs, f);
    return r;
}

int pt_release(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
               uint32_t flags, uint32_t release_flags, uint64_t lock_owner)
{
    if (release_flags & FUSE_RELEASE_FLOCK_UNLOCK) {
        /* The fd may outlive this (a call still using the handle): the
         * guest's flock ends now. */
        struct pt_file *f = pt_file_get(fs, fh);
        if (f)
            flock(f->fd, LOCK_UN);
        pt_file_put(fs, f);
    }
    if (lock_owner)
        pt_locks_drop_owner(fs, nodeid, lock_owner);
    return pt_file_close(fs, fh);
}

int pt_fsync(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             bool datasync)
{
    struct pt_file *f;
    int r = pt_io_begin(fs, PT_IO_SYNC, fh, 0, 0, &f);
    if (r < 0)
        return r;
    r = (datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0 ? neg_errno() : 0;
    pt_file_put(fs, f);
    return r;
}

int pt_fallocate(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
                 uint32_t mode, uint64_t offset, uint64_t length)
{
    struct pt_file *f;
    if (length > INT64_MAX)
        return fs->readonly ? -EROFS : -EINVAL;
    int r = pt_io_begin(fs, PT_IO_ALLOCATE, fh, offset, 0, &f);
    if (r < 0)
        return r;
    r = fallocate(f->fd, (int)mode, (off_t)offset, (off_t)length) < 0 ? neg_errno() : 0;
    pt_file_put(fs, f);
    return r;
}

int pt_lseek(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t offset, uint32_t whence, uint64_t *result)
{
    if (offset > INT64_MAX)
        return -EINVAL;
    /* SEEK_CUR means nothing here: the fd's position is not the guest's. */
    if (whence != SEEK_SET && whence != SEEK_END && whence != SEEK_DATA && whence != SEEK_HOLE)
        return -EINVAL;
    struct pt_file *f = pt_file_get(fs, fh);
    if (!f)
        return -EBADF;
    int r = 0;
    if (f->dir) {
        r = -EINVAL; /* a directory's position belongs to its READDIR stream */
    } else {
        off_t pos = lseek(f->fd, (off_t)offset, (int)whence);
        if (pos < 0)
            r = neg_errno();
        else
            *result = (uint64_t)pos;
    }
    pt_file_put(fs, f);
    return r;
}

ssize_t pt_copy_file_range(struct pt_fs *fs, const struct pt_ctx *ctx,
                           uint64_t fh_in, uint64_t off_in, uint64_t fh_out, uint64_t off_out,
                           uint64_t len, uint64_t flags)
{
    if (fs->readonly)
        return -EROFS;
    if (off_in > INT64_MAX || off_out > INT64_MAX || flags > UINT_MAX)
        return -EINVAL;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    struct pt_file *in = pt_file_get(fs, fh_in);
    if (!in)
        return -EBADF;
    struct pt_file *out = pt_file_get(fs, fh_out);
    ssize_t n;
    if (!out) {
        n = -EBADF;
    } else {
        loff_t oi = (loff_t)off_in, oo = (loff_t)off_out;
        n = copy_file_range(in->fd, &oi, out->fd, &oo, (size_t)len, (unsigned)flags);
        if (n < 0)
            n = neg_errno();
    }
    pt_file_put(fs, out);
    pt_file_put(fs, in);
    return n;
}

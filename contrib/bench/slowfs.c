/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfsd-slowfs: a pass-through FUSE file system that adds a fixed delay to
 * every read and write, standing in for storage with ~1 ms latency (a
 * network file system, a remote block device) so that what a daemon gains
 * from keeping many requests in flight shows.
 *
 *   vfsd-slowfs --backing=DIR [--delay-us=N] [-f] [-o FUSE options] MOUNTPOINT
 *
 * Every open file is in direct-I/O mode, so each read and write reaches us
 * (no page cache of this mount in between); the backing files are opened
 * without O_DIRECT, so the delay is all that is added. Requests run on
 * libfuse's multi-threaded loop: give it enough threads (-o max_threads=N)
 * for the concurrency to be measured.
 */
#define FUSE_USE_VERSION 35

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

struct slowfs_opts {
    char *backing;
    unsigned delay_us;
    int show_help;
};

static struct slowfs_opts opts = { .delay_us = 1000 };
static int backing_fd = -1;

#define OPT(t, p) { t, offsetof(struct slowfs_opts, p), 1 }
static const struct fuse_opt opt_spec[] = {
    OPT("--backing=%s", backing),
    OPT("--delay-us=%u", delay_us),
    OPT("-h", show_help),
    OPT("--help", show_help),
    FUSE_OPT_END
};

/* Path relative to the backing directory. */
static const char *rel(const char *path)
{
    while (*path == '/')
        path++;
    return *path ? path : ".";
}

static void delay(void)
{
    struct timespec ts = {
        .tv_sec = opts.delay_us / 1000000,
        .tv_nsec = (long)(opts.delay_us % 1000000) * 1000,
    };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int neg(int r)
{
    return r < 0 ? -errno : r;
}

static void *sfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->use_ino = 1;
    cfg->nullpath_ok = 1;
    cfg->hard_remove = 1;   /* handles outlive unlink: no .fuse_hidden renames */
    cfg->direct_io = 1;
    cfg->kernel_cache = 0;
    cfg->entry_timeout = 1;
    cfg->attr_timeout = 1;
    cfg->negative_timeout = 0;
    /* asynchronous direct I/O (io_uring, AIO) is "background" work for the
     * kernel, throttled at max_background; let deep queues through */
    conn->max_background = 1024;
    conn->congestion_threshold = 768;
    return NULL;
}

static int sfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    if (fi)
        return neg(fstat((int)fi->fh, st));
    return neg(fstatat(backing_fd, rel(path), st, AT_SYMLINK_NOFOLLOW));
}

static int sfs_access(const char *path, int mask)
{
    return neg(faccessat(backing_fd, rel(path), mask, AT_SYMLINK_NOFOLLOW));
}

static int sfs_readlink(const char *path, char *buf, size_t size)
{
    ssize_t n = readlinkat(backing_fd, rel(path), buf, size - 1);
    if (n < 0)
        return -errno;
    buf[n] = '\0';
    return 0;
}

static int sfs_mknod(const char *path, mode_t mode, dev_t rdev)
{
    return neg(mknodat(backing_fd, rel(path), mode, rdev));
}

static int sfs_mkdir(const char *path, mode_t mode)
{
    return neg(mkdirat(backing_fd, rel(path), mode));
}

static int sfs_unlink(const char *path)
{
    return neg(unlinkat(backing_fd, rel(path), 0));
}

static int sfs_rmdir(const char *path)
{
    return neg(unlinkat(backing_fd, rel(path), AT_REMOVEDIR));
}

static int sfs_symlink(const char *target, const char *path)
{
    return neg(symlinkat(target, backing_fd, rel(path)));
}

static int sfs_rename(const char *from, const char *to, unsigned int flags)
{
    return neg(renameat2(backing_fd, rel(from), backing_fd, rel(to), flags));
}

static int sfs_link(const char *from, const char *to)
{
    return neg(linkat(backing_fd, rel(from), backing_fd, rel(to), 0));
}

static int sfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    if (fi)
        return neg(fchmod((int)fi->fh, mode));
    return neg(fchmodat(backing_fd, rel(path), mode, 0));
}

static int sfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    if (fi)
        return neg(fchown((int)fi->fh, uid, gid));
    return neg(fchownat(backing_fd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW));
}

static int sfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (fi)
        return neg(ftruncate((int)fi->fh, size));
    int fd = openat(backing_fd, rel(path), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = neg(ftruncate(fd, size));
    close(fd);
    return r;
}

static int sfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    if (fi)
        return neg(futimens((int)fi->fh, tv));
    return neg(utimensat(backing_fd, rel(path), tv, AT_SYMLINK_NOFOLLOW));
}

static void set_open_mode(struct fuse_file_info *fi)
{
    fi->direct_io = 1;
    fi->keep_cache = 0;
}

static int sfs_open(const char *path, struct fuse_file_info *fi)
{
    int fd = openat(backing_fd, rel(path), (fi->flags & ~(O_DIRECT | O_NOFOLLOW)) | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    set_open_mode(fi);
    return 0;
}

static int sfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int fd = openat(backing_fd, rel(path), (fi->flags & ~O_DIRECT) | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    set_open_mode(fi);
    return 0;
}

static int sfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    ssize_t n = pread((int)fi->fh, buf, size, off);
    if (n < 0)
        return -errno;
    delay();
    return (int)n;
}

static int sfs_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    ssize_t n = pwrite((int)fi->fh, buf, size, off);
    if (n < 0)
        return -errno;
    delay();
    return (int)n;
}

static int sfs_statfs(const char *path, struct statvfs *st)
{
    return neg(fstatvfs(backing_fd, st));
}

static int sfs_flush(const char *path, struct fuse_file_info *fi)
{
    return 0;
}

static int sfs_release(const char *path, struct fuse_file_info *fi)
{
    close((int)fi->fh);
    return 0;
}

static int sfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    return neg(datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh));
}

static int sfs_fallocate(const char *path, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
    return neg(fallocate((int)fi->fh, mode, off, len));
}

static int sfs_opendir(const char *path, struct fuse_file_info *fi)
{
    int fd = openat(backing_fd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    fi->fh = (uint64_t)(uintptr_t)d;
    return 0;
}

static int sfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
                       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    DIR *d = (DIR *)(uintptr_t)fi->fh;
    if (off == 0)
        rewinddir(d);
    else
        seekdir(d, off);
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de)
            return errno ? -errno : 0;
        struct stat st = { .st_ino = de->d_ino, .st_mode = (mode_t)DTTOIF(de->d_type) };
        if (fill(buf, de->d_name, &st, telldir(d), 0))
            return 0;
    }
}

static int sfs_releasedir(const char *path, struct fuse_file_info *fi)
{
    closedir((DIR *)(uintptr_t)fi->fh);
    return 0;
}

static const struct fuse_operations ops = {
    .init = sfs_init,
    .getattr = sfs_getattr,
    .access = sfs_access,
    .readlink = sfs_readlink,
    .mknod = sfs_mknod,
    .mkdir = sfs_mkdir,
    .unlink = sfs_unlink,
    .rmdir = sfs_rmdir,
    .symlink = sfs_symlink,
    .rename = sfs_rename,
    .link = sfs_link,
    .chmod = sfs_chmod,
    .chown = sfs_chown,
    .truncate = sfs_truncate,
    .utimens = sfs_utimens,
    .open = sfs_open,
    .create = sfs_create,
    .read = sfs_read,
    .write = sfs_write,
    .statfs = sfs_statfs,
    .flush = sfs_flush,
    .release = sfs_release,
    .fsync = sfs_fsync,
    .fallocate = sfs_fallocate,
    .opendir = sfs_opendir,
    .readdir = sfs_readdir,
    .releasedir = sfs_releasedir,
};

int main(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    if (fuse_opt_parse(&args, &opts, opt_spec, NULL) < 0)
        return 2;
    if (opts.show_help || !opts.backing) {
        fprintf(stderr, "usage: %s --backing=DIR [--delay-us=N] [-f] [-o OPTIONS] MOUNTPOINT\n"
                        "  adds N microseconds (default 1000) to every read and write\n",
                argv[0]);
        return opts.show_help ? 0 : 2;
    }
    backing_fd = open(opts.backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (backing_fd < 0) {
        fprintf(stderr, "vfsd-slowfs: %s: %s\n", opts.backing, strerror(errno));
        return 1;
    }
    /* sleep close to the asked delay: the default 50 µs timer slack would
     * add 5% at 1 ms (threads inherit this) */
    prctl(PR_SET_TIMERSLACK, 1000UL);
    umask(0);
    int r = fuse_main(args.argc, args.argv, &ops, NULL);
    fuse_opt_free_args(&args);
    return r;
}

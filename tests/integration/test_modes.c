/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's modes, seen over the vhost-user socket: what each cache mode
 * answers (timeouts, FOPEN_* flags), the INIT flags the options offer, how
 * open flags reach the host (O_DIRECT, O_APPEND, O_NOATIME, write-only opens
 * with the writeback cache), --readonly, inodes referenced by file handles
 * (--inode-file-handles) and a daemon that runs out of fds (--rlimit-nofile).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/fixture.h"

#define ROOT FUSE_ROOT_ID
#define DAY_NS (86400ull * 1000000000ull)

/* Protocol 7.39; older <linux/fuse.h> lack it. */
#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP (1ull << 36)
#endif

static uint64_t valid_ns(uint64_t sec, uint32_t nsec)
{
    return sec * 1000000000ull + nsec;
}

/* WRITE with the guest file's flags and FUSE_WRITE_* bits of our choosing. */
static int write_flags(struct fx *f, uint64_t nodeid, uint64_t fh, uint64_t offset,
                       const char *data, uint32_t open_flags, uint32_t wflags)
{
    struct fuse_write_in in = {
        .fh = fh, .offset = offset, .size = (uint32_t)strlen(data),
        .write_flags = wflags, .flags = open_flags,
    };
    struct fuse_write_out out = { 0 };
    struct tc_fuse_req req = {
        .opcode = FUSE_WRITE, .nodeid = nodeid,
        .in_cnt = 2, .in = { { &in, sizeof(in) }, { data, in.size } },
        .out_cnt = 1, .out = { { &out, sizeof(out) } },
    };
    int r = tc_fuse_call(f->dev, &req);
    return r < 0 ? r : (int)out.size;
}

static char *host_read(struct fx *f, const char *name)
{
    g_autofree char *p = fx_path(f, name);
    char *data = NULL;
    g_assert_true(g_file_get_contents(p, &data, NULL, NULL));
    return data;
}

/* --- cache modes ----------------------------------------------------------- */

struct mode_case {
    struct fx_variant v;
    uint64_t timeout_ns;
    uint32_t file_fopen;
    uint32_t dir_fopen;
    bool readdirplus;
};

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct mode_case mode_never = {
    .v.daemon_args = ARGS("--cache=never"), .timeout_ns = 0,
    .file_fopen = FOPEN_DIRECT_IO, .dir_fopen = 0, .readdirplus = false,
};
static const struct mode_case mode_metadata = {
    .v.daemon_args = ARGS("--cache=metadata"), .timeout_ns = DAY_NS,
    .file_fopen = FOPEN_DIRECT_IO, .dir_fopen = FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE,
    .readdirplus = true,
};
static const struct mode_case mode_auto = {
    .v.daemon_args = ARGS("--cache=auto"), .timeout_ns = 1000000000ull,
    .file_fopen = 0, .dir_fopen = 0, .readdirplus = true,
};
static const struct mode_case mode_always = {
    .v.daemon_args = ARGS("--cache=always"), .timeout_ns = DAY_NS,
    .file_fopen = FOPEN_KEEP_CACHE, .dir_fopen = FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE,
    .readdirplus = true,
};
/* QEMU's spelling, and its timeout= over the mode's */
static const struct mode_case mode_none_timeout = {
    .v.daemon_args = ARGS("-o", "cache=none,timeout=2.5"), .timeout_ns = 2500000000ull,
    .file_fopen = FOPEN_DIRECT_IO, .dir_fopen = 0, .readdirplus = false,
};
static const struct mode_case mode_always_timeout0 = {
    .v.daemon_args = ARGS("--cache=always", "-o", "timeout=0"), .timeout_ns = 0,
    .file_fopen = FOPEN_KEEP_CACHE, .dir_fopen = FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE,
    .readdirplus = true,
};

static void test_cache_mode(struct fx *f, gconstpointer data)
{
    const struct mode_case *m = data;
    struct fuse_entry_out e;
    struct fuse_attr_out a;
    struct fuse_open_out o;

    fx_write_file(f, "f", "data", 4, 0644);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);

    uint64_t n = fx_lookup(f, ROOT, "f", &e);
    g_assert_cmpuint(valid_ns(e.entry_valid, e.entry_valid_nsec), ==, m->timeout_ns);
    g_assert_cmpuint(valid_ns(e.attr_valid, e.attr_valid_nsec), ==, m->timeout_ns);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    g_assert_cmpuint(valid_ns(a.attr_valid, a.attr_valid_nsec), ==, m->timeout_ns);

    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmphex(o.open_flags, ==, m->file_fopen);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "c", O_CREAT | O_RDWR, 0644, 0, &e, &o), ==, 0);
    g_assert_cmphex(o.open_flags, ==, m->file_fopen);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);

    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    g_assert_cmpint(tc_fuse_opendir(f->dev, d, O_RDONLY, &o), ==, 0);
    g_assert_cmphex(o.open_flags, ==, m->dir_fopen);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, d, o.fh), ==, 0);

    /* READDIRPLUS is offered unless cache=never (nothing to cache it for) */
    g_assert_cmpint(!!(f->dev->fuse.init.flags & FUSE_DO_READDIRPLUS), ==, m->readdirplus);
    /* FUSE_AUTO_INVAL_DATA only where the guest caches file data */
    g_assert_cmpint(!!(f->dev->fuse.init.flags & FUSE_AUTO_INVAL_DATA), ==,
                    !(m->file_fopen & FOPEN_DIRECT_IO));
}

/* --- INIT flags ------------------------------------------------------------ */

#define ALL_INIT_FLAGS (TC_FUSE_INIT_FLAGS | FUSE_WRITEBACK_CACHE | FUSE_SUBMOUNTS | \
                        FUSE_DIRECT_IO_ALLOW_MMAP)

static const struct fx_variant init_default = { .init_flags = ALL_INIT_FLAGS };
static const struct fx_variant init_options = {
    .init_flags = ALL_INIT_FLAGS,
    .daemon_args = ARGS("--cache=never", "--writeback", "--announce-submounts", "--allow-mmap",
                        "-o", "readdirplus"),
};
static const struct fx_variant init_no_readdirplus = {
    .init_flags = ALL_INIT_FLAGS, .daemon_args = ARGS("--no-readdirplus"),
};

static uint64_t init_flags_of(struct fx *f)
{
    return f->dev->fuse.init.flags | ((uint64_t)f->dev->fuse.init.flags2 << 32);
}

static void test_init_default(struct fx *f, gconstpointer data)
{
    uint64_t fl = init_flags_of(f);
    g_assert_false(fl & FUSE_WRITEBACK_CACHE);
    g_assert_false(fl & FUSE_SUBMOUNTS);
    g_assert_false(fl & FUSE_DIRECT_IO_ALLOW_MMAP);
    g_assert_true(fl & FUSE_DO_READDIRPLUS);
    g_assert_true(fl & FUSE_READDIRPLUS_AUTO);
}

static void test_init_options(struct fx *f, gconstpointer data)
{
    uint64_t fl = init_flags_of(f);
    g_assert_true(fl & FUSE_WRITEBACK_CACHE);
    g_assert_true(fl & FUSE_SUBMOUNTS);
    g_assert_true(fl & FUSE_DIRECT_IO_ALLOW_MMAP);
    g_assert_true(fl & FUSE_DO_READDIRPLUS); /* asked for explicitly despite cache=never */
}

static void test_init_no_readdirplus(struct fx *f, gconstpointer data)
{
    uint64_t fl = init_flags_of(f);
    g_assert_false(fl & (FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO));
    /* the daemon still answers READDIR */
    struct fuse_open_out o;
    char buf[4096];
    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_readdir(f->dev, ROOT, o.fh, 0, buf, sizeof(buf)), >, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, o.fh), ==, 0);
}

/* --- open flags ------------------------------------------------------------ */

static const struct fx_variant dio_allowed = { .daemon_args = ARGS("--allow-direct-io") };
static const struct fx_variant dio_legacy = { .daemon_args = ARGS("-o", "allow_direct_io") };

/* An unaligned O_DIRECT write: EINVAL from the host only when the host file
 * was opened O_DIRECT. */
static void test_direct_io(struct fx *f, gconstpointer data)
{
    const struct fx_variant *v = data;
    bool honoured = v && v->daemon_args;
    struct fuse_entry_out e;
    struct fuse_open_out o;

    fx_write_file(f, "f", "", 0, 0644);
    /* Does the host filesystem do O_DIRECT at all? */
    g_autofree char *p = fx_path(f, "f");
    int probe = open(p, O_RDWR | O_DIRECT | O_CLOEXEC);
    if (probe < 0) {
        g_test_skip("the host's temporary filesystem has no O_DIRECT");
        return;
    }
    close(probe);

    uint64_t n = fx_lookup(f, ROOT, "f", &e);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDWR | O_DIRECT, &o), ==, 0);
    int r = tc_fuse_write(f->dev, n, o.fh, 1, "unaligned", 9);
    if (honoured) {
        g_assert_cmpint(r, ==, -EINVAL);
    } else {
        g_assert_cmpint(r, ==, 9);
    }
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDWR), ==, 0);
}

static const struct fx_variant append_uring = {
    .daemon_args = ARGS("--executor=uring"),
};

/*
 * O_APPEND: the guest's own writes of an O_APPEND file land at the host
 * file's end, wherever the guest thinks that is; pages written back from
 * its cache (FUSE_WRITE_CACHE: a shared mapping, the writeback cache) land
 * at their offsets, through the same handle.
 */
static void test_append(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;

    fx_write_file(f, "f", "0123456789", 10, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDWR | O_APPEND, &o), ==, 0);
    /* someone else appended meanwhile: the guest's offset 10 is stale */
    g_autofree char *p = fx_path(f, "f");
    FILE *other = fopen(p, "a");
    g_assert_nonnull(other);
    fputs("host", other);
    fclose(other);
    g_assert_cmpint(write_flags(f, n, o.fh, 10, "guest", O_RDWR | O_APPEND, 0), ==, 5);
    g_autofree char *c1 = host_read(f, "f");
    g_assert_cmpstr(c1, ==, "0123456789hostguest");
    /* a cached page written back: in place */
    g_assert_cmpint(write_flags(f, n, o.fh, 0, "AB", O_RDWR | O_APPEND, FUSE_WRITE_CACHE), ==, 2);
    g_autofree char *c2 = host_read(f, "f");
    g_assert_cmpstr(c2, ==, "AB23456789hostguest");
    /* the handle's own flags carry no O_APPEND: a non-append write is in place */
    g_assert_cmpint(write_flags(f, n, o.fh, 2, "cd", O_RDWR, 0), ==, 2);
    g_autofree char *c3 = host_read(f, "f");
    g_assert_cmpstr(c3, ==, "ABcd456789hostguest");
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDWR | O_APPEND), ==, 0);
}

/*
 * uring: a buffered READ first tries the page cache without blocking and
 * goes to the ring for what it lacks. Data that is cached, evicted, or
 * cached in part must read back the same, and a read across the end of
 * the file comes back short.
 */
static void test_uring_read_cold(struct fx *f, gconstpointer data)
{
    enum { SIZE = 256 * 1024, CHUNK = 64 * 1024 };
    g_autofree unsigned char *want = g_malloc(SIZE);
    g_autofree unsigned char *got = g_malloc(CHUNK);
    struct fuse_open_out o;

    for (size_t i = 0; i < SIZE; i++)
        want[i] = (unsigned char)(i * 7 + i / 4096);
    fx_write_file(f, "f", want, SIZE, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);

    g_autofree char *p = fx_path(f, "f");
    int hfd = open(p, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(hfd, >=, 0);
    for (unsigned pass = 0; pass < 3; pass++) {
        /* 0: as written (cached); 1: evicted; 2: only some pages cached */
        if (pass > 0) {
            g_assert_cmpint(fdatasync(hfd), ==, 0);
            g_assert_cmpint(posix_fadvise(hfd, 0, 0, POSIX_FADV_DONTNEED), ==, 0);
        }
        if (pass == 2) {
            char page[4096];
            for (off_t off = 0; off < SIZE; off += 3 * 4096)
                g_assert_cmpint(pread(hfd, page, sizeof(page), off), ==, sizeof(page));
        }
        for (size_t off = 0; off < SIZE; off += CHUNK) {
            memset(got, 0, CHUNK);
            g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, off, got, CHUNK), ==, CHUNK);
            g_assert_cmpmem(got, CHUNK, want + off, CHUNK);
        }
    }
    close(hfd);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, SIZE - 100, got, CHUNK), ==, 100);
    g_assert_cmpmem(got, 100, want + SIZE - 100, 100);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, SIZE, got, CHUNK), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
}

static const struct fx_variant writeback_on = {
    .init_flags = TC_FUSE_INIT_FLAGS | FUSE_WRITEBACK_CACHE,
    .daemon_args = ARGS("--writeback"),
};
static const struct fx_variant writeback_off = {
    .init_flags = TC_FUSE_INIT_FLAGS | FUSE_WRITEBACK_CACHE,
};

/* With the writeback cache the guest reads to fill partial pages, also
 * through files it opened write-only. */
static void test_writeback(struct fx *f, gconstpointer data)
{
    const struct fx_variant *v = data;
    bool wb = v->daemon_args != NULL;
    struct fuse_open_out o;
    char buf[16];

    g_assert_cmpint(!!(f->dev->fuse.init.flags & FUSE_WRITEBACK_CACHE), ==, wb);
    fx_write_file(f, "f", "0123456789", 10, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_WRONLY, &o), ==, 0);
    int r = tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf));
    if (wb) {
        g_assert_cmpint(r, ==, 10);
        g_assert_cmpmem(buf, 10, "0123456789", 10);
    } else {
        g_assert_cmpint(r, ==, -EBADF); /* write-only, as asked */
    }
    g_assert_cmpint(tc_fuse_write(f->dev, n, o.fh, 3, "AB", 2), ==, 2);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_WRONLY), ==, 0);
    g_autofree char *c = host_read(f, "f");
    g_assert_cmpstr(c, ==, "012AB56789");
}

static const struct fx_variant noatime_kept = { .daemon_args = ARGS("--preserve-noatime") };

/*
 * O_NOATIME: stripped by default, so reading the file moves its atime;
 * kept with --preserve-noatime, so it does not. The host mount must not be
 * noatime (relatime moves an atime older than the mtime).
 */
static void test_noatime(struct fx *f, gconstpointer data)
{
    const struct fx_variant *v = data;
    bool kept = v && v->daemon_args;
    struct fuse_open_out o;
    struct statvfs sv;
    struct stat st;
    char buf[8];

    g_assert_cmpint(fstatvfs(f->share_fd, &sv), ==, 0);
    if (sv.f_flag & ST_NOATIME) {
        g_test_skip("the host's temporary filesystem is mounted noatime");
        return;
    }
    fx_write_file(f, "f", "data", 4, 0644);
    const struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1100000000 } };
    g_assert_cmpint(utimensat(f->share_fd, "f", old, 0), ==, 0);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY | O_NOATIME, &o), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), ==, 4);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
    g_assert_cmpint(fstatat(f->share_fd, "f", &st, 0), ==, 0);
    if (kept)
        g_assert_cmpint(st.st_atim.tv_sec, ==, old[0].tv_sec);
    else
        g_assert_cmpint(st.st_atim.tv_sec, >, old[1].tv_sec);
}

/* --- readonly -------------------------------------------------------------- */

static const struct fx_variant readonly = { .daemon_args = ARGS("--readonly") };

static char *host_snapshot(struct fx *f)
{
    g_autofree char *cmd = g_strdup_printf(
        "cd '%s' && find . -printf '%%p %%M %%U:%%G %%s %%T@ %%l\\n' | sort && "
        "find . -type f -exec sha256sum {} + | sort", f->share);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    char *out = NULL;
    int status;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    return out;
}

/* Every operation that would change something is refused with EROFS, and
 * nothing changed; reading still works. */
static void test_readonly(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct fuse_attr_out a;
    char buf[16];

    fx_write_file(f, "f", "data", 4, 0644);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    g_assert_cmpint(symlinkat("f", f->share_fd, "l"), ==, 0);
    g_autofree char *before = host_snapshot(f);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);

    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "new", O_CREAT | O_RDWR, 0644, 0, &e, &o), ==,
                    -EROFS);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "newdir", 0755, 0, &e), ==, -EROFS);
    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "fifo", S_IFIFO | 0644, 0, 0, &e), ==, -EROFS);
    g_assert_cmpint(tc_fuse_symlink(f->dev, ROOT, "sl", "f", &e), ==, -EROFS);
    g_assert_cmpint(tc_fuse_link(f->dev, n, ROOT, "hl", &e), ==, -EROFS);
    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "f"), ==, -EROFS);
    g_assert_cmpint(tc_fuse_rmdir(f->dev, ROOT, "d"), ==, -EROFS);
    g_assert_cmpint(tc_fuse_rename(f->dev, ROOT, "f", d, "moved"), ==, -EROFS);
    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "f", ROOT, "d", RENAME_EXCHANGE), ==, -EROFS);
    static const uint32_t changes[] = { FATTR_MODE, FATTR_UID, FATTR_GID, FATTR_SIZE,
                                        FATTR_ATIME, FATTR_MTIME, FATTR_MTIME_NOW };
    for (size_t i = 0; i < G_N_ELEMENTS(changes); i++) {
        struct fuse_setattr_in in = { .valid = changes[i], .mode = 0600, .uid = 1, .gid = 1,
                                      .size = 0, .atime = 1, .mtime = 1 };
        g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, -EROFS);
    }
    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.x", "v", 1, 0), ==, -EROFS);
    g_assert_cmpint(tc_fuse_removexattr(f->dev, n, "user.x"), ==, -EROFS);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_WRONLY, &o), ==, -EROFS);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDWR, &o), ==, -EROFS);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY | O_TRUNC, &o), ==, -EROFS);
    g_assert_cmpint(tc_fuse_access(f->dev, n, W_OK), ==, -EROFS);
    /* a read-only handle can be read, not written, grown or punched */
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), ==, 4);
    g_assert_cmpint(tc_fuse_write(f->dev, n, o.fh, 0, "x", 1), ==, -EROFS);
    g_assert_cmpint(tc_fuse_fallocate(f->dev, n, o.fh, 0, 4096, 0), ==, -EROFS);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);

    g_autofree char *after = host_snapshot(f);
    g_assert_cmpstr(after, ==, before);
}

/* --- file handles ---------------------------------------------------------- */

#define MANY_FILES 10000

static const struct fx_variant handles_mandatory = {
    .daemon_args = ARGS("--inode-file-handles=mandatory"),
};
static const struct fx_variant handles_never = {
    .daemon_args = ARGS("--inode-file-handles=never"),
};

static void make_many(struct fx *f)
{
    g_assert_cmpint(mkdirat(f->share_fd, "many", 0755), ==, 0);
    int dfd = openat(f->share_fd, "many", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);
    for (unsigned i = 0; i < MANY_FILES; i++) {
        char name[32], data[32];
        snprintf(name, sizeof(name), "f%05u", i);
        int len = snprintf(data, sizeof(data), "file %u\n", i);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, data, (size_t)len), ==, len);
        close(fd);
    }
    close(dfd);
}

/*
 * Looking up 10,000 files: with file handles the daemon holds no fd for
 * any of them while they are idle; with O_PATH fds it holds one each.
 * Every file still answers GETATTR, OPEN and READ afterwards.
 */
static void test_handles_fd_count(struct fx *f, gconstpointer data)
{
    bool handles = data == &handles_mandatory;
    static uint64_t ids[MANY_FILES];
    struct fuse_entry_out e;

    make_many(f);
    uint64_t dir = fx_lookup(f, ROOT, "many", NULL);
    int base = fx_server_fd_count(f);
    for (unsigned i = 0; i < MANY_FILES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%05u", i);
        ids[i] = fx_lookup(f, dir, name, &e);
        g_assert_cmpuint(e.attr.size, ==, (uint64_t)snprintf(NULL, 0, "file %u\n", i));
    }
    int after = fx_server_fd_count(f);
    g_test_message("daemon fds: %d before, %d after %d lookups", base, after, MANY_FILES);
    if (handles)
        g_assert_cmpint(after, <=, base + 4);
    else
        g_assert_cmpint(after, >=, base + MANY_FILES);

    /* everything still works, on every 97th file */
    for (unsigned i = 0; i < MANY_FILES; i += 97) {
        struct fuse_attr_out a;
        struct fuse_open_out o;
        char buf[32], want[32];
        int len = snprintf(want, sizeof(want), "file %u\n", i);
        g_assert_cmpint(tc_fuse_getattr(f->dev, ids[i], 0, 0, &a), ==, 0);
        g_assert_cmpuint(a.attr.size, ==, (uint64_t)len);
        g_assert_cmpint(tc_fuse_open(f->dev, ids[i], O_RDONLY, &o), ==, 0);
        g_assert_cmpint(tc_fuse_read(f->dev, ids[i], o.fh, 0, buf, sizeof(buf)), ==, len);
        g_assert_cmpmem(buf, (size_t)len, want, (size_t)len);
        g_assert_cmpint(tc_fuse_release(f->dev, ids[i], o.fh, O_RDONLY), ==, 0);
    }
    /* the same inode keeps its nodeid */
    g_assert_cmpuint(fx_lookup(f, dir, "f00042", NULL), ==, ids[42]);
    /* names change under a handle: rename, link, unlink */
    g_assert_cmpint(tc_fuse_rename(f->dev, dir, "f00001", ROOT, "moved"), ==, 0);
    g_assert_cmpint(tc_fuse_link(f->dev, ids[1], dir, "again", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, ids[1]);
    g_assert_cmpuint(e.attr.nlink, ==, 2);
    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "moved"), ==, 0);
    struct fuse_attr_out a;
    g_assert_cmpint(tc_fuse_getattr(f->dev, ids[1], 0, 0, &a), ==, 0);
    g_assert_cmpuint(a.attr.nlink, ==, 1);
    if (handles)
        g_assert_cmpint(fx_server_fd_count(f), <=, base + 4);
    /* forgetting them all releases whatever they held */
    for (unsigned i = 0; i < MANY_FILES; i++)
        g_assert_cmpint(tc_fuse_forget(f->dev, ids[i], i == 1 ? 2 : (i == 42 ? 2 : 1)), ==, 0);
    g_assert_cmpint(fx_server_fd_count(f), <=, base + 4);
}

/*
 * A mount inside the share whose filesystem has no file handles (ramfs):
 * prefer gives its inodes O_PATH fds, mandatory refuses to look it up.
 */
static void mount_ramfs_sub(struct fx *f)
{
    fx_private_mounts();
    g_assert_cmpint(mkdirat(f->share_fd, "ram", 0755), ==, 0);
    g_autofree char *p = fx_path(f, "ram");
    if (mount("ramfs", p, "ramfs", 0, "mode=0755") < 0)
        g_error("cannot mount ramfs on %s: %s", p, strerror(errno));
    g_autofree char *file = fx_path(f, "ram/file");
    g_assert_true(g_file_set_contents(file, "in ramfs", -1, NULL));
}

static void umount_ramfs_sub(struct fx *f)
{
    g_autofree char *p = fx_path(f, "ram");
    umount2(p, MNT_DETACH);
}

static const struct fx_variant ramfs_prefer = {
    .daemon_args = ARGS("--inode-file-handles=prefer"),
    .before_start = mount_ramfs_sub, .after_stop = umount_ramfs_sub,
};
static const struct fx_variant ramfs_mandatory = {
    .daemon_args = ARGS("--inode-file-handles=mandatory"),
    .before_start = mount_ramfs_sub, .after_stop = umount_ramfs_sub,
};

static void test_handles_unsupported_submount(struct fx *f, gconstpointer data)
{
    bool mandatory = data == &ramfs_mandatory;
    struct fuse_entry_out e;
    struct fuse_open_out o;
    char buf[16];

    fx_write_file(f, "top", "on the share", 12, 0644);
    uint64_t top = fx_lookup(f, ROOT, "top", NULL);
    g_assert_cmpuint(top, !=, 0);
    int base = fx_server_fd_count(f);
    int r = tc_fuse_lookup(f->dev, ROOT, "ram", &e);
    if (mandatory) {
        g_assert_cmpint(r, ==, -EOPNOTSUPP);
        return;
    }
    g_assert_cmpint(r, ==, 0);
    uint64_t file = fx_lookup(f, e.nodeid, "file", NULL);
    /* two inodes there, each with its fd */
    g_assert_cmpint(fx_server_fd_count(f), ==, base + 2);
    g_assert_cmpint(tc_fuse_open(f->dev, file, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, file, o.fh, 0, buf, sizeof(buf)), ==, 8);
    g_assert_cmpmem(buf, 8, "in ramfs", 8);
    g_assert_cmpint(tc_fuse_release(f->dev, file, o.fh, O_RDONLY), ==, 0);
}

/* Startup with file handles on a share without them: prefer falls back,
 * mandatory refuses to start. */
static void test_handles_unsupported_share(void)
{
    g_autofree char *root = g_dir_make_tmp("vfsd-ramfs-XXXXXX", NULL);
    g_assert_nonnull(root);
    g_autofree char *share = g_build_filename(root, "share", NULL);
    g_autofree char *sock = g_build_filename(root, "sock", NULL);
    g_autofree char *log = g_build_filename(root, "log", NULL);
    g_assert_cmpint(mkdir(share, 0755), ==, 0);
    fx_private_mounts();
    if (mount("ramfs", share, "ramfs", 0, "mode=0755") < 0)
        g_error("cannot mount ramfs on %s: %s", share, strerror(errno));

    static const char *const modes[] = { "mandatory", "prefer" };
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
        char **dargv = fx_daemon_argv();
        g_ptr_array_add(args, g_strdup(dargv[0]));
        g_ptr_array_add(args, g_strdup_printf("--socket-path=%s", sock));
        g_ptr_array_add(args, g_strdup_printf("--shared-dir=%s", share));
        g_ptr_array_add(args, g_strdup_printf("--inode-file-handles=%s", modes[i]));
        g_ptr_array_add(args, NULL);
        pid_t pid;
        int fd = -1, st = 0;
        unlink(sock);
        g_assert_cmpint(tc_daemon_spawn((char *const *)args->pdata, log, &pid), ==, 0);
        int r = tc_daemon_wait_socket(sock, pid, 10000, &fd, &st);
        g_autofree char *text = NULL;
        if (i == 0) {
            /* the namespace sandbox's parent made the socket before its
             * child found out; then it exits with the child's status */
            if (r == 0) {
                close(fd);
                g_assert_cmpint(tc_daemon_wait_exit(pid, 10000, &st), ==, 0);
            } else {
                g_assert_cmpint(r, ==, -ECHILD);
            }
            g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
            g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
            g_assert_nonnull(strstr(text, "--inode-file-handles=mandatory"));
        } else {
            g_assert_cmpint(r, ==, 0);
            close(fd);
            g_assert_cmpint(tc_daemon_stop(pid, 5000, &st), ==, 0);
            g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
            g_assert_nonnull(strstr(text, "no file handles"));
        }
    }
    g_assert_cmpint(umount2(share, MNT_DETACH), ==, 0);
    unlink(log);
    rmdir(share);
    rmdir(root);
}

/* --- out of fds ------------------------------------------------------------ */

#define LOW_NOFILE 64

static const struct fx_variant low_nofile = { .daemon_args = ARGS("--rlimit-nofile=64") };
static const struct fx_variant low_nofile_handles = {
    .daemon_args = ARGS("--rlimit-nofile=64", "--inode-file-handles=mandatory"),
};

static unsigned server_nofile(struct fx *f)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/limits", fx_server_pid(f));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    const char *line = strstr(text, "Max open files");
    g_assert_nonnull(line);
    return (unsigned)strtoul(line + strlen("Max open files"), NULL, 10);
}

/*
 * With --rlimit-nofile low, lookups and opens past the limit are answered
 * with EMFILE, the daemon goes on serving, and once the guest lets go of
 * what it held, the same requests succeed again. With file handles, idle
 * inodes hold no fd and all the lookups succeed.
 */
static void test_out_of_fds(struct fx *f, gconstpointer data)
{
    bool handles = data == &low_nofile_handles;
    enum { N = 3 * LOW_NOFILE };
    uint64_t ids[N];
    uint64_t fhs[N];
    struct fuse_entry_out e;
    struct fuse_attr_out a;
    struct fuse_open_out o;
    unsigned found = 0, refused = 0, opened = 0;

    g_assert_cmpuint(server_nofile(f), ==, LOW_NOFILE);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    for (unsigned i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof(name), "d/f%03u", i);
        fx_write_file(f, name, "x", 1, 0644);
    }
    int base = fx_server_fd_count(f);
    g_test_message("daemon holds %d fds of %d before the lookups", base, LOW_NOFILE);
    g_assert_cmpint(base, <, LOW_NOFILE - 8);
    uint64_t dir = fx_lookup(f, ROOT, "d", NULL);

    for (unsigned i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%03u", i);
        int r = tc_fuse_lookup(f->dev, dir, name, &e);
        if (r == 0) {
            ids[found++] = e.nodeid;
        } else {
            g_assert_cmpint(r, ==, -EMFILE);
            refused++;
        }
    }
    if (handles) {
        g_assert_cmpuint(found, ==, N);
    } else {
        g_assert_cmpuint(refused, >, 0);
        g_assert_cmpuint(found, <, LOW_NOFILE);
    }
    /* still serving */
    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
    /* open everything found until the fds run out: EMFILE, not a crash */
    for (unsigned i = 0; i < found; i++) {
        int r = tc_fuse_open(f->dev, ids[i], O_RDONLY, &o);
        if (r < 0) {
            /* with handles, the inode's own fd may be what fails to open */
            if (handles)
                g_assert_true(r == -EMFILE || r == -EBADF);
            else
                g_assert_cmpint(r, ==, -EMFILE);
            break;
        }
        fhs[opened++] = o.fh;
    }
    g_assert_cmpuint(opened, <, found);
    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
    /* let go, and everything works again */
    for (unsigned i = 0; i < opened; i++)
        g_assert_cmpint(tc_fuse_release(f->dev, ids[i], fhs[i], O_RDONLY), ==, 0);
    for (unsigned i = 0; i < found; i++)
        g_assert_cmpint(tc_fuse_forget(f->dev, ids[i], 1), ==, 0);
    g_assert_cmpint(fx_server_fd_count(f), <=, base + 1);
    uint64_t again = fx_lookup(f, dir, "f000", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, again, O_RDONLY, &o), ==, 0);
    char buf[4];
    g_assert_cmpint(tc_fuse_read(f->dev, again, o.fh, 0, buf, sizeof(buf)), ==, 1);
    g_assert_cmpint(tc_fuse_release(f->dev, again, o.fh, O_RDONLY), ==, 0);
}

int main(int argc, char **argv)
{
    fx_require_daemon(argc, argv);
    g_test_init(&argc, &argv, NULL);

#define ADDV(path, v, fn) g_test_add("/modes/" path, struct fx, v, fx_setup, fn, fx_teardown)
    ADDV("cache/never", &mode_never, test_cache_mode);
    ADDV("cache/metadata", &mode_metadata, test_cache_mode);
    ADDV("cache/auto", &mode_auto, test_cache_mode);
    ADDV("cache/always", &mode_always, test_cache_mode);
    ADDV("cache/none-timeout", &mode_none_timeout, test_cache_mode);
    ADDV("cache/always-timeout0", &mode_always_timeout0, test_cache_mode);
    ADDV("init/default", &init_default, test_init_default);
    ADDV("init/options", &init_options, test_init_options);
    ADDV("init/no-readdirplus", &init_no_readdirplus, test_init_no_readdirplus);
    ADDV("direct-io/stripped", NULL, test_direct_io);
    ADDV("direct-io/honoured", &dio_allowed, test_direct_io);
    ADDV("direct-io/honoured-legacy", &dio_legacy, test_direct_io);
    ADDV("append", NULL, test_append);
    ADDV("append/uring", &append_uring, test_append);
    ADDV("uring-read-cold", &append_uring, test_uring_read_cold);
    ADDV("writeback/on", &writeback_on, test_writeback);
    ADDV("writeback/off", &writeback_off, test_writeback);
    ADDV("noatime/stripped", NULL, test_noatime);
    ADDV("noatime/preserved", &noatime_kept, test_noatime);
    ADDV("readonly", &readonly, test_readonly);
    ADDV("handles/fd-count", &handles_mandatory, test_handles_fd_count);
    ADDV("handles/fd-count-without", &handles_never, test_handles_fd_count);
    ADDV("handles/submount-prefer", &ramfs_prefer, test_handles_unsupported_submount);
    ADDV("handles/submount-mandatory", &ramfs_mandatory, test_handles_unsupported_submount);
    g_test_add_func("/modes/handles/share-without", test_handles_unsupported_share);
    ADDV("out-of-fds", &low_nofile, test_out_of_fds);
    ADDV("out-of-fds/handles", &low_nofile_handles, test_out_of_fds);
    return g_test_run();
}

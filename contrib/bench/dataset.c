/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The benchmark's files, below workdir/share/data:
 *
 *   read.dat          shared by all contenders, pattern seeded by --seed
 *   w-NAME.dat        one per contender, written only by that contender
 *   meta/files/f*     the lookup / getattr population (--nfiles)
 *   meta/big/e*       the readdirplus directory (--dir-entries)
 *   meta/cu-NAME/     where contender NAME creates and unlinks
 *
 * Every 8-byte word of a data file holds (its file offset) ^ (the file's
 * seed), so a read can be checked without a copy of the file and a block
 * that lands at the wrong offset is caught. Writes store the same pattern,
 * so a write file's content never changes and is checked completely once
 * its daemon is stopped (a write that is silently dropped goes unnoticed;
 * one that stores wrong data or lands at the wrong offset does not).
 *
 * The slow backend is vfsd-slowfs mounted at share/slow, passing through to
 * share/data: the same files, ~1 ms more per read or write.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "contrib/bench/bench.h"

#define IO_CHUNK (4u << 20)

char bench_slow_mnt[4096];
static pid_t slowfs_pid;

uint64_t bench_read_seed(const struct bench_cfg *cfg)
{
    return cfg->seed ^ 0x7265616444415441ull;
}

char *bench_write_file_name(const struct bench_contender *c)
{
    char *s = NULL;
    if (asprintf(&s, "w-%s.dat", c->name) < 0)
        return NULL;
    return s;
}

void bench_file_name(unsigned i, char *buf, size_t size)
{
    snprintf(buf, size, "f%06u", i);
}

void bench_entry_name(unsigned i, char *buf, size_t size)
{
    snprintf(buf, size, "e%06u", i);
}

static char *data_path(const struct bench_cfg *cfg, const char *rel)
{
    char *s = NULL;
    if (asprintf(&s, "%s/data/%s", cfg->share, rel) < 0)
        return NULL;
    return s;
}

/* True when the file at fd has the size and (at a few sample offsets) the
 * pattern: cheap enough to run on every start, and a file left half
 * written by an interrupted run fails it at its end. */
static bool pattern_file_ok(int fd, uint64_t size, uint64_t seed)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || (uint64_t)st.st_size != size)
        return false;
    uint64_t offs[10];
    uint64_t rng = seed;
    offs[0] = 0;
    offs[1] = size - 4096;
    for (unsigned i = 2; i < ARRAY_SIZE(offs); i++)
        offs[i] = (bench_rng_next(&rng) % (size / 4096)) * 4096;
    for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
        uint64_t buf[512];
        if (pread(fd, buf, sizeof(buf), (off_t)offs[i]) != (ssize_t)sizeof(buf))
            return false;
        if (bench_pattern_check(buf, sizeof(buf), offs[i], seed) >= 0)
            return false;
    }
    return true;
}

static int write_pattern_file(const char *path, uint64_t size, uint64_t seed, bool regen)
{
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int r = neg_errno();
        fprintf(stderr, "vfsd-bench: %s: %s\n", path, strerror(-r));
        return r;
    }
    if (!regen && pattern_file_ok(fd, size, seed))
        return 0;

    char sz[32];
    fprintf(stderr, "vfsd-bench: writing %s (%s)\n", path, bench_size_str(size, sz, sizeof(sz)));
    if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)
        return neg_errno();
    _cleanup_free_ void *buf = NULL;
    if (posix_memalign(&buf, 4096, IO_CHUNK))
        return -ENOMEM;
    for (uint64_t off = 0; off < size; off += IO_CHUNK) {
        if (bench_interrupted)
            return -EINTR;
        size_t n = (size_t)MIN((uint64_t)IO_CHUNK, size - off);
        bench_pattern_fill(buf, n, off, seed);
        if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
            return errno ? neg_errno() : -EIO;
    }
    if (fsync(fd) < 0)
        return neg_errno();
    return 0;
}

/* Makes dir hold exactly `count` empty files named by namefn (and nothing
 * else); recreated when it does not. */
static int make_population(const char *dir, unsigned count,
                           void (*namefn)(unsigned, char *, size_t), bool regen)
{
    int r = bench_mkdir_p(dir, 0755);
    if (r < 0)
        return r;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return neg_errno();

    unsigned have = 0;
    bool foreign = false;
    DIR *d = fdopendir(dup(dfd));
    if (!d)
        return neg_errno();
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        have++;
    }
    closedir(d);
    char name[64];
    if (count) {
        namefn(count - 1, name, sizeof(name));
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            foreign = true;
    }
    if (!regen && !foreign && have == count)
        return 0;

    fprintf(stderr, "vfsd-bench: populating %s with %u files\n", dir, count);
    d = fdopendir(dup(dfd));
    if (!d)
        return neg_errno();
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
            r = neg_errno();
            closedir(d);
            return r;
        }
    }
    closedir(d);
    for (unsigned i = 0; i < count; i++) {
        namefn(i, name, sizeof(name));
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return neg_errno();
        close(fd);
    }
    return 0;
}

/* Removes every entry of dir (create-unlink leftovers of a killed run). */
static int empty_dir(const char *dir)
{
    int r = bench_mkdir_p(dir, 0755);
    if (r < 0)
        return r;
    DIR *d = opendir(dir);
    if (!d)
        return neg_errno();
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        unlinkat(dirfd(d), de->d_name, 0);
    }
    closedir(d);
    return 0;
}

int bench_dataset_prepare(const struct bench_cfg *cfg)
{
    bool reads = false, writes = false, files = false, big = false, cu = false;
    for (unsigned i = 0; i < cfg->nwl; i++) {
        enum bench_wl wl = cfg->wl_order[i];
        const struct bench_wl_info *info = &bench_wl_infos[wl];
        if (info->data && info->write_pct < 100 && wl != WL_RANDRW)
            reads = true;
        if (info->data && info->write_pct > 0)
            writes = true;
        files |= wl == WL_LOOKUP || wl == WL_GETATTR;
        big |= wl == WL_READDIRPLUS;
        cu |= wl == WL_CREATE_UNLINK;
    }
    int r;
    _cleanup_free_ char *data = data_path(cfg, "");
    if ((r = bench_mkdir_p(data, 0755)) < 0 || (r = bench_mkdir_p(cfg->sockdir, 0700)) < 0)
        return r;
    char slow[4096];
    snprintf(slow, sizeof(slow), "%s/slow", cfg->share);
    if ((r = bench_mkdir_p(slow, 0755)) < 0)
        return r;

    if (reads) {
        _cleanup_free_ char *p = data_path(cfg, "read.dat");
        if ((r = write_pattern_file(p, cfg->file_size, bench_read_seed(cfg), cfg->regen)) < 0)
            return r;
    }
    if (writes) {
        for (unsigned i = 0; i < cfg->ncontenders; i++) {
            const struct bench_contender *c = cfg->contenders[i];
            _cleanup_free_ char *n = bench_write_file_name(c);
            _cleanup_free_ char *p = n ? data_path(cfg, n) : NULL;
            if (!p)
                return -ENOMEM;
            if ((r = write_pattern_file(p, cfg->write_size, c->write_seed, cfg->regen)) < 0)
                return r;
        }
    }
    if (files) {
        _cleanup_free_ char *p = data_path(cfg, "meta/files");
        if ((r = make_population(p, cfg->nfiles, bench_file_name, cfg->regen)) < 0)
            return r;
    }
    if (big) {
        _cleanup_free_ char *p = data_path(cfg, "meta/big");
        if ((r = make_population(p, cfg->dir_entries, bench_entry_name, cfg->regen)) < 0)
            return r;
    }
    if (cu) {
        for (unsigned i = 0; i < cfg->ncontenders; i++) {
            char rel[128];
            snprintf(rel, sizeof(rel), "meta/cu-%s", cfg->contenders[i]->name);
            _cleanup_free_ char *p = data_path(cfg, rel);
            if ((r = empty_dir(p)) < 0)
                return r;
        }
    }
    sync();
    return 0;
}

/* Reads the whole file (buffered) so it sits in the page cache. */
static int cache_in(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return neg_errno();
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    _cleanup_free_ char *buf = malloc(IO_CHUNK);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (bench_interrupted)
            return -EINTR;
        ssize_t n = read(fd, buf, IO_CHUNK);
        if (n < 0)
            return neg_errno();
        if (n == 0)
            return 0;
    }
}

static int cache_out(const char *path)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return neg_errno();
    /* dirty pages cannot be dropped: write them back first */
    fdatasync(fd);
    if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
        return -EIO;
    return 0;
}

int bench_dataset_cache(const struct bench_cfg *cfg, const struct bench_group *g, bool quiet)
{
    const struct bench_wl_info *info = &bench_wl_infos[g->wl];
    if (!info->data)
        return 0;
    /* randrw reads the contender's own write file */
    bool reads = info->write_pct < 100 && g->wl != WL_RANDRW;
    int r = 0;
    for (unsigned i = 0; i <= cfg->ncontenders; i++) {
        _cleanup_free_ char *p = NULL;
        if (i == cfg->ncontenders) {
            if (!reads)
                continue;
            p = data_path(cfg, "read.dat");
        } else {
            if (info->write_pct == 0)
                continue;
            _cleanup_free_ char *n = bench_write_file_name(cfg->contenders[i]);
            p = n ? data_path(cfg, n) : NULL;
        }
        if (!p)
            return -ENOMEM;
        /* slow: the backing files stay cached, the delay is the point */
        r = g->bk == BK_DIRECT ? cache_out(p) : cache_in(p);
        if (r < 0) {
            if (!quiet)
                fprintf(stderr, "vfsd-bench: caching %s: %s\n", p, strerror(-r));
            return r;
        }
    }
    return 0;
}

int bench_dataset_verify_write_file(const struct bench_cfg *cfg, const struct bench_contender *c)
{
    _cleanup_free_ char *n = bench_write_file_name(c);
    _cleanup_free_ char *p = n ? data_path(cfg, n) : NULL;
    if (!p)
        return -ENOMEM;
    _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return neg_errno();
    struct stat st;
    if (fstat(fd, &st) < 0)
        return neg_errno();
    if ((uint64_t)st.st_size != cfg->write_size) {
        fprintf(stderr, "vfsd-bench: DATA ERROR: %s: %s is %lld bytes, expected %llu\n", c->name,
                p, (long long)st.st_size, (unsigned long long)cfg->write_size);
        return -EILSEQ;
    }
    _cleanup_free_ char *buf = malloc(IO_CHUNK);
    if (!buf)
        return -ENOMEM;
    for (uint64_t off = 0; off < cfg->write_size; off += IO_CHUNK) {
        size_t len = (size_t)MIN((uint64_t)IO_CHUNK, cfg->write_size - off);
        ssize_t got = pread(fd, buf, len, (off_t)off);
        if (got != (ssize_t)len)
            return got < 0 ? neg_errno() : -EIO;
        long long bad = bench_pattern_check(buf, len, off, c->write_seed);
        if (bad >= 0) {
            fprintf(stderr,
                    "vfsd-bench: DATA ERROR: %s: its write file %s holds wrong data at offset %llu "
                    "after the run\n", c->name, p, (unsigned long long)(off + (uint64_t)bad));
            return -EILSEQ;
        }
    }
    return 0;
}

/* --- slowfs ---------------------------------------------------------------- */

static bool is_mounted(const char *path, const char *parent)
{
    struct stat a, b;
    if (stat(path, &a) < 0)
        return errno == ENOTCONN; /* a FUSE mount whose server died */
    if (stat(parent, &b) < 0)
        return false;
    return a.st_dev != b.st_dev;
}

void bench_slowfs_cleanup_stale(const struct bench_cfg *cfg)
{
    snprintf(bench_slow_mnt, sizeof(bench_slow_mnt), "%s/slow", cfg->share);
    if (is_mounted(bench_slow_mnt, cfg->share)) {
        fprintf(stderr, "vfsd-bench: unmounting %s left by an earlier run\n", bench_slow_mnt);
        if (umount2(bench_slow_mnt, 0) < 0)
            umount2(bench_slow_mnt, MNT_DETACH);
    }
}

int bench_slowfs_mount(const struct bench_cfg *cfg)
{
    char backing[4096], opt[256], delay[64], logp[4096];
    snprintf(bench_slow_mnt, sizeof(bench_slow_mnt), "%s/slow", cfg->share);
    snprintf(backing, sizeof(backing), "--backing=%s/data", cfg->share);
    snprintf(delay, sizeof(delay), "--delay-us=%u", cfg->slow_delay_us);
    snprintf(opt, sizeof(opt), "allow_other,auto_unmount,max_threads=%u,max_idle_threads=%u",
             2048u, 256u);
    snprintf(logp, sizeof(logp), "%s/slowfs.log", cfg->logdir);
    bench_slowfs_cleanup_stale(cfg);
    int r = bench_mkdir_p(bench_slow_mnt, 0755);
    if (r < 0)
        return r;

    char *argv[] = { cfg->slowfs_path, backing, delay, "-f", "-o", opt, bench_slow_mnt, NULL };
    r = tc_daemon_spawn(argv, logp, &slowfs_pid);
    if (r < 0) {
        fprintf(stderr, "vfsd-bench: cannot start %s: %s\n", cfg->slowfs_path, strerror(-r));
        return r;
    }
    uint64_t deadline = clock_now_ns() + 10000000000ull;
    while (!is_mounted(bench_slow_mnt, cfg->share)) {
        int st;
        if (waitpid(slowfs_pid, &st, WNOHANG) == slowfs_pid) {
            char buf[64];
            fprintf(stderr, "vfsd-bench: slowfs %s before mounting (see %s)\n",
                    tc_wstatus_str(st, buf, sizeof(buf)), logp);
            slowfs_pid = 0;
            return -ECHILD;
        }
        if (clock_now_ns() > deadline || !bench_sleep_ms(10, NULL)) {
            bench_slowfs_unmount(cfg);
            return bench_interrupted ? -EINTR : -ETIMEDOUT;
        }
    }
    return 0;
}

void bench_slowfs_unmount(const struct bench_cfg *cfg)
{
    if (bench_slow_mnt[0] && is_mounted(bench_slow_mnt, cfg->share)) {
        if (umount2(bench_slow_mnt, 0) < 0 && umount2(bench_slow_mnt, MNT_DETACH) < 0)
            fprintf(stderr, "vfsd-bench: cannot unmount %s: %s\n", bench_slow_mnt,
                    strerror(errno));
    }
    if (slowfs_pid > 0) {
        int st = 0;
        /* the file system ends its loop once unmounted */
        tc_daemon_stop(slowfs_pid, 5000, &st);
        slowfs_pid = 0;
    }
}

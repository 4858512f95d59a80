/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The passthrough filesystem on a temporary directory, checked against the
 * host with plain syscalls. Tests that need root (ownership, trusted.*
 * xattrs, mounts) skip themselves when not run as root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "passthrough/passthrough.h"

static const struct pt_ctx root_ctx = { .uid = 0, .gid = 0, .pid = 1 };

struct fx {
    char dir[64];
    int dfd;                  /* O_PATH on dir, for host-side checks */
    struct pt_config cfg;
    struct pt_fs *fs;
};

static void fx_open(struct fx *f)
{
    g_assert_cmpint(pt_fs_new(&f->cfg, &f->fs), ==, 0);
    struct pt_init_caps caps = { 0 };
    pt_init(f->fs, &caps);
}

static void fx_setup(struct fx *f, gconstpointer data)
{
    strcpy(f->dir, "/tmp/pt-test-XXXXXX");
    g_assert_nonnull(mkdtemp(f->dir));
    f->dfd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(f->dfd, >=, 0);
    f->cfg = (struct pt_config){
        .shared_dir = f->dir,
        .cache = PT_CACHE_AUTO,
        .timeout = -1,
        .xattr = true,
    };
    fx_open(f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void fx_teardown(struct fx *f, gconstpointer data)
{
    pt_fs_free(f->fs);
    close(f->dfd);
    nftw(f->dir, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

/* Reopens the fs with a changed configuration. */
static void fx_reopen(struct fx *f)
{
    pt_fs_free(f->fs);
    fx_open(f);
}

static void host_write(struct fx *f, const char *name, const char *data)
{
    int fd = openat(f->dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, data, strlen(data)), ==, (ssize_t)strlen(data));
    close(fd);
}

static void host_stat(struct fx *f, const char *name, struct stat *st)
{
    g_assert_cmpint(fstatat(f->dfd, name, st, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static uint64_t lookup_ok(struct fx *f, uint64_t parent, const char *name)
{
    struct pt_entry e;
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, parent, name, &e), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, 0);
    return e.nodeid;
}

static uint64_t counts_inodes(struct fx *f)
{
    struct pt_counts c;
    pt_get_counts(f->fs, &c);
    return c.inodes;
}

static uint64_t counts_handles(struct fx *f)
{
    struct pt_counts c;
    pt_get_counts(f->fs, &c);
    return c.handles;
}

static bool is_root(void)
{
    if (geteuid() == 0)
        return true;
    g_test_skip("needs root");
    return false;
}

/* ---- setup ------------------------------------------------------------ */

static void test_new_errors(void)
{
    struct pt_fs *fs = NULL;
    struct pt_config cfg = { .shared_dir = "/nonexistent/pt-test", .timeout = -1 };
    g_assert_cmpint(pt_fs_new(&cfg, &fs), ==, -ENOENT);
    cfg.shared_dir = "/proc/self/status";
    g_assert_cmpint(pt_fs_new(&cfg, &fs), ==, -ENOTDIR);
    g_assert_cmpint(pt_fs_new(NULL, &fs), ==, -EINVAL);
    g_assert_null(fs);
    pt_fs_free(NULL);
}

/* ---- lookups and counts ------------------------------------------------ */

static void test_lookup_forget(struct fx *f, gconstpointer data)
{
    struct pt_entry e, e2;
    struct stat st;

    host_write(f, "a", "hello");
    host_stat(f, "a", &st);
    g_assert_cmpuint(counts_inodes(f), ==, 1);

    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, 0);
    g_assert_cmpuint(e.nodeid, !=, PT_ROOT_ID);
    g_assert_cmpuint(e.attr.st.st_ino, ==, st.st_ino);
    g_assert_cmpuint(e.attr.st.st_size, ==, 5);
    g_assert_true(S_ISREG(e.attr.st.st_mode));
    g_assert_cmpuint(e.entry_timeout_ns, ==, 1000000000ull); /* auto */
    g_assert_cmpuint(counts_inodes(f), ==, 2);

    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a", &e2), ==, 0);
    g_assert_cmpuint(e2.nodeid, ==, e.nodeid);
    g_assert_cmpuint(counts_inodes(f), ==, 2);

    pt_forget(f->fs, e.nodeid, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 2); /* one lookup left */
    struct pt_attr a;
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, e.nodeid, false, 0, &a), ==, 0);
    g_assert_cmpuint(a.st.st_ino, ==, st.st_ino);
    pt_forget(f->fs, e.nodeid, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, e.nodeid, false, 0, &a), ==, -EBADF);

    /* Clamped: three lookups, one large forget. */
    for (int i = 0; i < 3; i++)
        g_assert_cmpuint(lookup_ok(f, PT_ROOT_ID, "a"), !=, e.nodeid); /* new generation */
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "a");
    pt_forget(f->fs, id, 1000);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    pt_forget(f->fs, id, 1);          /* stale: ignored */
    pt_forget(f->fs, 0, 1);           /* never valid: ignored */
    pt_forget(f->fs, 0xdeadbeef12345ull, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);

    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "missing", &e), ==, -ENOENT);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a/b", &e), ==, -EINVAL);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "", &e), ==, -EINVAL);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, 0, "a", &e), ==, -EBADF);
    id = lookup_ok(f, PT_ROOT_ID, "a");
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, id, "x", &e), ==, -ENOTDIR);
    pt_forget(f->fs, id, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
}

static void test_dot_dotdot(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    struct stat st;

    g_assert_cmpint(mkdirat(f->dfd, "sub", 0755), ==, 0);
    g_assert_cmpint(fstat(f->dfd, &st), ==, 0);

    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "..", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, PT_ROOT_ID);
    g_assert_cmpuint(e.attr.st.st_ino, ==, st.st_ino);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, ".", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, PT_ROOT_ID);

    uint64_t sub = lookup_ok(f, PT_ROOT_ID, "sub");
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, sub, ".", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, sub);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, sub, "..", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, PT_ROOT_ID);

    /* ".." twice from the root is still the root. */
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, e.nodeid, "..", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, PT_ROOT_ID);

    pt_forget(f->fs, sub, 2);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    pt_forget(f->fs, PT_ROOT_ID, 100); /* the root never goes */
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpuint(lookup_ok(f, PT_ROOT_ID, "."), ==, PT_ROOT_ID);
}

static void test_hard_links(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    struct stat st;

    host_write(f, "a", "x");
    g_assert_cmpint(linkat(f->dfd, "a", f->dfd, "b", 0), ==, 0);
    uint64_t a = lookup_ok(f, PT_ROOT_ID, "a");
    uint64_t b = lookup_ok(f, PT_ROOT_ID, "b");
    g_assert_cmpuint(a, ==, b);
    g_assert_cmpuint(counts_inodes(f), ==, 2);

    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");
    g_assert_cmpint(pt_link(f->fs, &root_ctx, a, d, "c", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, a);
    g_assert_cmpuint(e.attr.st.st_nlink, ==, 3);
    host_stat(f, "d/c", &st);
    g_assert_cmpuint(st.st_nlink, ==, 3);

    g_assert_cmpint(pt_link(f->fs, &root_ctx, a, d, "c", &e), ==, -EEXIST);
    g_assert_cmpint(pt_link(f->fs, &root_ctx, d, PT_ROOT_ID, "dl", &e), ==, -EPERM);
    g_assert_cmpint(pt_link(f->fs, &root_ctx, a, a, "x", &e), ==, -ENOTDIR);
    g_assert_cmpint(pt_link(f->fs, &root_ctx, a, d, "..", &e), ==, -EINVAL);

    /* Three lookups of the same inode (a, b, link) need three forgets. */
    pt_forget(f->fs, a, 2);
    g_assert_cmpuint(counts_inodes(f), ==, 3);
    pt_forget(f->fs, a, 1);
    pt_forget(f->fs, d, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
}

static void test_symlinks_not_followed(struct fx *f, gconstpointer data)
{
    char outside[] = "/tmp/pt-outside-XXXXXX";
    char path[128];
    struct pt_entry e;
    uint64_t fh;
    uint32_t oflags;
    struct stat st;

    g_assert_nonnull(mkdtemp(outside));
    snprintf(path, sizeof(path), "%s/secret", outside);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    close(fd);
    g_assert_cmpint(symlinkat(outside, f->dfd, "esc"), ==, 0);
    g_assert_cmpint(symlinkat(path, f->dfd, "file-link"), ==, 0);

    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "esc", &e), ==, 0);
    g_assert_true(S_ISLNK(e.attr.st.st_mode));
    uint64_t esc = e.nodeid;
    /* Not traversed: it is not a directory to us. */
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, esc, "secret", &e), ==, -ENOTDIR);
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, esc, O_RDONLY, &fh, &oflags), ==, -ENOTDIR);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, esc, "new", 0755, 0, &e), ==, -ENOTDIR);
    snprintf(path, sizeof(path), "%s/new", outside);
    g_assert_cmpint(access(path, F_OK), ==, -1);

    uint64_t fl = lookup_ok(f, PT_ROOT_ID, "file-link");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, fl, O_RDONLY, &fh, &oflags), <, 0);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, fl, O_WRONLY | O_TRUNC, &fh, &oflags), <, 0);
    g_assert_cmpuint(counts_handles(f), ==, 0);
    struct pt_attr a;
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, fl, false, 0, &a), ==, 0);
    g_assert_true(S_ISLNK(a.st.st_mode));

    char buf[256];
    int n = pt_readlink(f->fs, &root_ctx, esc, buf, sizeof(buf));
    g_assert_cmpint(n, ==, (int)strlen(outside));
    g_assert_cmpmem(buf, (size_t)n, outside, strlen(outside));
    g_assert_cmpint(pt_readlink(f->fs, &root_ctx, esc, buf, 4), ==, 4);
    g_assert_cmpint(pt_readlink(f->fs, &root_ctx, PT_ROOT_ID, buf, sizeof(buf)), ==, -EINVAL);

    /* O_CREAT over a symlink does not create its target. */
    snprintf(path, sizeof(path), "%s/made", outside);
    g_assert_cmpint(symlinkat(path, f->dfd, "dangling"), ==, 0);
    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "dangling", S_IFREG | 0644,
                              O_WRONLY, 0, &e, &fh, &oflags), <, 0);
    g_assert_cmpint(access(path, F_OK), ==, -1);

    /* SETATTR on a symlink works on the link itself. */
    if (geteuid() == 0) {
        struct stat target_before, target_after;
        g_assert_cmpint(stat(outside, &target_before), ==, 0);
        struct pt_setattr in = { .valid = FATTR_UID | FATTR_GID, .uid = 4321, .gid = 8765 };
        g_assert_cmpint(pt_setattr(f->fs, &root_ctx, esc, &in, &a), ==, 0);
        g_assert_cmpuint(a.st.st_uid, ==, 4321);
        host_stat(f, "esc", &st);
        g_assert_cmpuint(st.st_uid, ==, 4321);
        g_assert_cmpuint(st.st_gid, ==, 8765);
        g_assert_cmpint(stat(outside, &target_after), ==, 0);
        g_assert_cmpuint(target_after.st_uid, ==, target_before.st_uid);
    }

    pt_forget(f->fs, esc, 1);
    pt_forget(f->fs, fl, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    nftw(outside, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- creating calls -------------------------------------------------- */

static void test_create_ownership(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    const struct pt_ctx user = { .uid = 1234, .gid = 5678, .pid = 42 };
    struct pt_entry e;
    struct stat st;
    uint64_t fh;
    uint32_t oflags;

    g_assert_cmpint(mkdirat(f->dfd, "pub", 0777), ==, 0);
    g_assert_cmpint(fchmodat(f->dfd, "pub", 0777, 0), ==, 0);
    uint64_t pub = lookup_ok(f, PT_ROOT_ID, "pub");

    g_assert_cmpint(pt_mkdir(f->fs, &user, pub, "d", 0750, 0, &e), ==, 0);
    g_assert_true(S_ISDIR(e.attr.st.st_mode));
    g_assert_cmpuint(e.attr.st.st_uid, ==, 1234);
    host_stat(f, "pub/d", &st);
    g_assert_cmpuint(st.st_uid, ==, 1234);
    g_assert_cmpuint(st.st_gid, ==, 5678);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0750);

    g_assert_cmpint(pt_create(f->fs, &user, pub, "f", S_IFREG | 0640, O_RDWR, 0, &e, &fh,
                              &oflags), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, 0);
    host_stat(f, "pub/f", &st);
    g_assert_cmpuint(st.st_uid, ==, 1234);
    g_assert_cmpuint(st.st_gid, ==, 5678);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0640);
    g_assert_cmpint(pt_release(f->fs, &user, e.nodeid, fh, 0, 0, 0), ==, 0);

    g_assert_cmpint(pt_mknod(f->fs, &user, pub, "fifo", S_IFIFO | 0600, 0, 0, &e), ==, 0);
    host_stat(f, "pub/fifo", &st);
    g_assert_true(S_ISFIFO(st.st_mode));
    g_assert_cmpuint(st.st_uid, ==, 1234);
    g_assert_cmpuint(st.st_gid, ==, 5678);

    g_assert_cmpint(pt_symlink(f->fs, &user, pub, "sl", "somewhere", &e), ==, 0);
    host_stat(f, "pub/sl", &st);
    g_assert_true(S_ISLNK(st.st_mode));
    g_assert_cmpuint(st.st_uid, ==, 1234);
    g_assert_cmpuint(st.st_gid, ==, 5678);

    /* An unprivileged caller cannot make device nodes. */
    g_assert_cmpint(pt_mknod(f->fs, &user, pub, "dev", S_IFCHR | 0600, makedev(1, 3), 0, &e),
                    ==, -EPERM);
    /* Directory permissions are the guest kernel's to check (it knows the
     * caller's supplementary groups; the daemon does not): a create the guest
     * sent goes through, still owned by the caller. */
    g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
    g_assert_cmpint(pt_mkdir(f->fs, &user, PT_ROOT_ID, "grp", 0755, 0, &e), ==, 0);
    host_stat(f, "grp", &st);
    g_assert_cmpuint(st.st_uid, ==, 1234);
    g_assert_cmpuint(st.st_gid, ==, 5678);

    /* The thread's credentials are back: root creates as root. */
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, pub, "r", 0755, 0, &e), ==, 0);
    host_stat(f, "pub/r", &st);
    g_assert_cmpuint(st.st_uid, ==, 0);
    g_assert_cmpuint(st.st_gid, ==, 0);
    host_write(f, "plain", "x");
    host_stat(f, "plain", &st);
    g_assert_cmpuint(st.st_uid, ==, 0);
}

static void test_create_umask(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    struct stat st;
    uint64_t fh;
    uint32_t oflags;

    /* Without FUSE_DONT_MASK the guest already applied its umask. */
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, "d1", 0777, 022, &e), ==, 0);
    host_stat(f, "d1", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0777);

    struct pt_init_caps caps = { .dont_mask = true };
    pt_init(f->fs, &caps);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, "d2", 0777, 022, &e), ==, 0);
    host_stat(f, "d2", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "n", S_IFREG | 0666, 0, 027, &e), ==, 0);
    host_stat(f, "n", &st);
    g_assert_true(S_ISREG(st.st_mode));
    g_assert_cmpuint(st.st_mode & 07777, ==, 0640);
    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "c", S_IFREG | 0666, O_WRONLY, 077,
                              &e, &fh, &oflags), ==, 0);
    host_stat(f, "c", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);

    /* Errors: existing names, bad names, a parent that is no directory. */
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, "d1", 0777, 0, &e), ==, -EEXIST);
    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "c", 0644, O_WRONLY | O_EXCL, 0,
                              &e, &fh, &oflags), ==, -EEXIST);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, "x/y", 0777, 0, &e), ==, -EINVAL);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, "..", 0777, 0, &e), ==, -EINVAL);
    g_assert_cmpint(pt_symlink(f->fs, &root_ctx, PT_ROOT_ID, "s", "", &e), ==, -EINVAL);
    uint64_t n = lookup_ok(f, PT_ROOT_ID, "n");
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, n, "z", 0777, 0, &e), ==, -ENOTDIR);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, 12345, "z", 0777, 0, &e), ==, -EBADF);
}

/* ---- attributes -------------------------------------------------------- */

static void test_setattr(struct fx *f, gconstpointer data)
{
    struct pt_attr a;
    struct stat st;
    uint64_t fh;
    uint32_t oflags;

    host_write(f, "f", "0123456789");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");

    struct pt_setattr in = { .valid = FATTR_MODE, .mode = S_IFREG | 0604 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    g_assert_cmpuint(a.st.st_mode & 07777, ==, 0604);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0604);

    if (geteuid() == 0) {
        in = (struct pt_setattr){ .valid = FATTR_UID, .uid = 777 };
        g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
        host_stat(f, "f", &st);
        g_assert_cmpuint(st.st_uid, ==, 777);
        g_assert_cmpuint(st.st_gid, ==, 0); /* untouched */
        in = (struct pt_setattr){ .valid = FATTR_GID, .gid = 888 };
        g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
        host_stat(f, "f", &st);
        g_assert_cmpuint(st.st_uid, ==, 777);
        g_assert_cmpuint(st.st_gid, ==, 888);
        g_assert_cmpuint(a.st.st_gid, ==, 888);
    }

    /* Size without a handle, then through one. */
    in = (struct pt_setattr){ .valid = FATTR_SIZE, .size = 3 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    g_assert_cmpint(a.st.st_size, ==, 3);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 3);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDWR, &fh, &oflags), ==, 0);
    in = (struct pt_setattr){ .valid = FATTR_SIZE | FATTR_FH, .fh = fh, .size = 100 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 100);
    in.fh = fh + 1;
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, -EBADF);
    in = (struct pt_setattr){ .valid = FATTR_SIZE, .size = UINT64_MAX };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, -EINVAL);

    /* Explicit times; an unset one is left alone. */
    in = (struct pt_setattr){
        .valid = FATTR_ATIME | FATTR_MTIME,
        .atime = { .tv_sec = 1000000, .tv_nsec = 5 },
        .mtime = { .tv_sec = 2000000, .tv_nsec = 7 },
    };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, ==, 1000000);
    g_assert_cmpint(st.st_atim.tv_nsec, ==, 5);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 2000000);
    g_assert_cmpint(st.st_mtim.tv_nsec, ==, 7);
    in = (struct pt_setattr){ .valid = FATTR_MTIME, .mtime = { .tv_sec = 3000000 } };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, ==, 1000000);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 3000000);
    /* NOW, through the handle. */
    time_t before = time(NULL);
    in = (struct pt_setattr){ .valid = FATTR_ATIME | FATTR_ATIME_NOW | FATTR_FH, .fh = fh };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, >=, before - 1);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 3000000);
    in = (struct pt_setattr){ .valid = FATTR_MTIME | FATTR_MTIME_NOW };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_mtim.tv_sec, >=, before - 1);
    in = (struct pt_setattr){ .valid = FATTR_MTIME, .mtime = { .tv_sec = 1, .tv_nsec = 2000000000 } };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, -EINVAL);

    /* All at once, plus FATTR_CTIME (ignored). */
    in = (struct pt_setattr){
        .valid = FATTR_MODE | FATTR_SIZE | FATTR_ATIME | FATTR_MTIME | FATTR_CTIME,
        .mode = 0600, .size = 7,
        .atime = { .tv_sec = 11 }, .mtime = { .tv_sec = 22 }, .ctime = { .tv_sec = 33 },
    };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0600);
    g_assert_cmpint(st.st_size, ==, 7);
    g_assert_cmpint(st.st_atim.tv_sec, ==, 11);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 22);
    g_assert_cmpint(a.st.st_mtim.tv_sec, ==, 22);

    /* FATTR_KILL_SUIDGID drops set-id bits on truncate. */
    g_assert_cmpint(fchmodat(f->dfd, "f", 06755, 0), ==, 0);
    in = (struct pt_setattr){ .valid = FATTR_SIZE | FATTR_KILL_SUIDGID, .size = 1 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);

    /* GETATTR through the handle. */
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, id, true, fh, &a), ==, 0);
    g_assert_cmpint(a.st.st_size, ==, 1);
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, id, true, fh ^ (1ull << 32), &a), ==, -EBADF);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);

    /* Directories: no truncate, but mode and times. */
    g_assert_cmpint(mkdirat(f->dfd, "d", 0700), ==, 0);
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");
    in = (struct pt_setattr){ .valid = FATTR_SIZE, .size = 0 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, d, &in, &a), ==, -EISDIR);
    in = (struct pt_setattr){ .valid = FATTR_MODE | FATTR_MTIME, .mode = 0711,
                              .mtime = { .tv_sec = 4444 } };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, d, &in, &a), ==, 0);
    host_stat(f, "d", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0711);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 4444);

    /* Symlinks: times on the link itself; no mode on Linux. */
    g_assert_cmpint(symlinkat("f", f->dfd, "l"), ==, 0);
    uint64_t l = lookup_ok(f, PT_ROOT_ID, "l");
    in = (struct pt_setattr){ .valid = FATTR_MTIME, .mtime = { .tv_sec = 5555 } };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, l, &in, &a), ==, 0);
    host_stat(f, "l", &st);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 5555);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_mtim.tv_sec, !=, 5555);
    in = (struct pt_setattr){ .valid = FATTR_MODE, .mode = 0600 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, l, &in, &a), ==, -EOPNOTSUPP);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);
}

static void test_access(struct fx *f, gconstpointer data)
{
    host_write(f, "f", "x");
    g_assert_cmpint(fchmodat(f->dfd, "f", 0640, 0), ==, 0);
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");

    g_assert_cmpint(pt_access(f->fs, &root_ctx, id, F_OK), ==, 0);
    g_assert_cmpint(pt_access(f->fs, &root_ctx, id, R_OK | W_OK), ==, 0);
    g_assert_cmpint(pt_access(f->fs, &root_ctx, id, X_OK), ==, -EACCES);
    g_assert_cmpint(pt_access(f->fs, &root_ctx, id, 0x100), ==, -EINVAL);
    g_assert_cmpint(pt_access(f->fs, &root_ctx, 999, R_OK), ==, -EBADF);

    if (geteuid() == 0) {
        const struct pt_ctx other = { .uid = 1234, .gid = 5678 };
        const struct pt_ctx group = { .uid = 1234, .gid = 0 };
        g_assert_cmpint(pt_access(f->fs, &other, id, R_OK), ==, -EACCES);
        g_assert_cmpint(pt_access(f->fs, &group, id, R_OK), ==, 0);
        g_assert_cmpint(pt_access(f->fs, &group, id, W_OK), ==, -EACCES);
        g_assert_cmpint(fchmodat(f->dfd, "f", 0644, 0), ==, 0);
        g_assert_cmpint(pt_access(f->fs, &other, id, R_OK), ==, 0);
        g_assert_cmpint(pt_access(f->fs, &other, id, W_OK), ==, -EACCES);
        /* mkdtemp() made the share 0700. */
        g_assert_cmpint(pt_access(f->fs, &other, PT_ROOT_ID, X_OK), ==, -EACCES);
        g_assert_cmpint(pt_access(f->fs, &root_ctx, PT_ROOT_ID, X_OK), ==, 0);
    }
}

/* ---- names ------------------------------------------------------------ */

static void host_read(struct fx *f, const char *name, char *buf, size_t size)
{
    int fd = openat(f->dfd, name, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    ssize_t n = read(fd, buf, size - 1);
    g_assert_cmpint(n, >=, 0);
    buf[n] = '\0';
    close(fd);
}

static void test_rename(struct fx *f, gconstpointer data)
{
    char buf[32];
    struct stat st;
    struct pt_attr a;

    host_write(f, "a", "A");
    host_write(f, "b", "B");
    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    uint64_t a_id = lookup_ok(f, PT_ROOT_ID, "a");
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");

    g_assert_cmpint(pt_rename(f->fs, &root_ctx, PT_ROOT_ID, "a", d, "a2", 0), ==, 0);
    g_assert_cmpint(faccessat(f->dfd, "a", F_OK, AT_SYMLINK_NOFOLLOW), ==, -1);
    host_read(f, "d/a2", buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "A");
    /* The nodeid follows the file. */
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, a_id, false, 0, &a), ==, 0);
    g_assert_cmpuint(lookup_ok(f, d, "a2"), ==, a_id);

    g_assert_cmpint(pt_rename(f->fs, &root_ctx, d, "a2", PT_ROOT_ID, "b", RENAME_NOREPLACE),
                    ==, -EEXIST);
    host_read(f, "b", buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "B");

    g_assert_cmpint(pt_rename(f->fs, &root_ctx, d, "a2", PT_ROOT_ID, "b", RENAME_EXCHANGE),
                    ==, 0);
    host_read(f, "b", buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "A");
    host_read(f, "d/a2", buf, sizeof(buf));
    g_assert_cmpstr(buf, ==, "B");
    g_assert_cmpint(pt_rename(f->fs, &root_ctx, d, "none", PT_ROOT_ID, "c", RENAME_EXCHANGE),
                    ==, -ENOENT);

    int r = pt_rename(f->fs, &root_ctx, PT_ROOT_ID, "b", PT_ROOT_ID, "w", RENAME_WHITEOUT);
    if (r == 0) {
        host_stat(f, "b", &st);
        g_assert_true(S_ISCHR(st.st_mode));
        g_assert_cmpuint(st.st_rdev, ==, makedev(0, 0));
        host_read(f, "w", buf, sizeof(buf));
        g_assert_cmpstr(buf, ==, "A");
    } else {
        g_assert_true(r == -EINVAL || r == -EOPNOTSUPP || r == -EPERM);
    }

    g_assert_cmpint(pt_rename(f->fs, &root_ctx, d, "a2", d, "x", 0x80), ==, -EINVAL);
    g_assert_cmpint(pt_rename(f->fs, &root_ctx, d, "a2", d, "x/y", 0), ==, -EINVAL);
    g_assert_cmpint(pt_rename(f->fs, &root_ctx, d, "a2", 4242, "x", 0), ==, -EBADF);
}

static void test_unlink_rmdir(struct fx *f, gconstpointer data)
{
    struct pt_attr a;

    host_write(f, "f", "x");
    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    g_assert_cmpint(mkdirat(f->dfd, "e", 0755), ==, 0);
    host_write(f, "e/g", "x");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");

    g_assert_cmpint(pt_unlink(f->fs, &root_ctx, PT_ROOT_ID, "d"), ==, -EISDIR);
    g_assert_cmpint(pt_unlink(f->fs, &root_ctx, PT_ROOT_ID, "f"), ==, 0);
    g_assert_cmpint(faccessat(f->dfd, "f", F_OK, AT_SYMLINK_NOFOLLOW), ==, -1);
    g_assert_cmpint(pt_unlink(f->fs, &root_ctx, PT_ROOT_ID, "f"), ==, -ENOENT);
    /* The guest may still hold the inode. */
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, id, false, 0, &a), ==, 0);
    g_assert_cmpuint(a.st.st_nlink, ==, 0);

    g_assert_cmpint(pt_rmdir(f->fs, &root_ctx, PT_ROOT_ID, "e"), ==, -ENOTEMPTY);
    g_assert_cmpint(pt_rmdir(f->fs, &root_ctx, PT_ROOT_ID, "d"), ==, 0);
    g_assert_cmpint(faccessat(f->dfd, "d", F_OK, AT_SYMLINK_NOFOLLOW), ==, -1);
    g_assert_cmpint(pt_rmdir(f->fs, &root_ctx, PT_ROOT_ID, "."), ==, -EINVAL);
    g_assert_cmpint(pt_unlink(f->fs, &root_ctx, 77, "e"), ==, -EBADF);
}

/* ---- directories ------------------------------------------------------- */

#define MANY 10000

struct listing {
    struct fx *f;
    GHashTable *seen;        /* name -> count */
    GArray *nodeids;         /* nodeids the guest now holds (plus) */
    unsigned budget;         /* entries to accept before refusing */
    unsigned refused;
    uint64_t last_off;
    bool plus;
};

static int list_cb(void *cookie, const struct pt_dirent *d)
{
    struct listing *l = cookie;
    if (l->budget == 0) {
        l->refused++;
        return 0;
    }
    l->budget--;
    char *name = g_strndup(d->name, d->namelen);
    gpointer old = g_hash_table_lookup(l->seen, name);
    g_hash_table_insert(l->seen, name, GUINT_TO_POINTER(GPOINTER_TO_UINT(old) + 1));
    l->last_off = d->next_off;
    bool dots = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
    if (l->plus) {
        g_assert_nonnull(d->entry);
        if (dots) {
            g_assert_cmpuint(d->entry->nodeid, ==, 0);
        } else {
            g_assert_cmpuint(d->entry->nodeid, !=, 0);
            g_assert_cmpuint(d->entry->attr.st.st_ino, ==, d->ino);
            g_array_append_val(l->nodeids, d->entry->nodeid);
        }
    } else {
        g_assert_null(d->entry);
    }
    return 1;
}

static void list_all(struct listing *l, uint64_t dir, uint64_t fh, GRand *rnd)
{
    uint64_t off = 0;
    for (int calls = 0; calls < 10 * MANY; calls++) {
        l->budget = (unsigned)g_rand_int_range(rnd, 0, 300);
        unsigned before = g_hash_table_size(l->seen);
        unsigned refused = l->refused;
        l->last_off = off;
        g_assert_cmpint(pt_readdir(l->f->fs, &root_ctx, dir, fh, off, l->plus, list_cb, l), ==, 0);
        off = l->last_off;
        /* A call that neither filled its budget nor was refused hit the end. */
        if (l->refused == refused && g_hash_table_size(l->seen) == before &&
            l->budget > 0)
            return;
    }
    g_assert_not_reached();
}

static void check_listing(struct listing *l)
{
    g_assert_cmpuint(g_hash_table_size(l->seen), ==, MANY + 2);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, l->seen);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_assert_cmpuint(GPOINTER_TO_UINT(v), ==, 1);
    g_assert_true(g_hash_table_contains(l->seen, "."));
    g_assert_true(g_hash_table_contains(l->seen, "f9999"));
}

static void make_many(struct fx *f)
{
    char name[32];
    g_assert_cmpint(mkdirat(f->dfd, "big", 0755), ==, 0);
    int bfd = openat(f->dfd, "big", O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(bfd, >=, 0);
    for (int i = 0; i < MANY; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        int fd = openat(bfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
    }
    close(bfd);
}

static void test_readdir_many(struct fx *f, gconstpointer data)
{
    bool plus = GPOINTER_TO_INT(data);
    GRand *rnd = g_rand_new_with_seed(plus ? 7 : 3);
    uint64_t fh;
    uint32_t oflags;

    make_many(f);
    uint64_t big = lookup_ok(f, PT_ROOT_ID, "big");
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, big, 0, &fh, &oflags), ==, 0);
    g_assert_cmpuint(oflags, ==, 0); /* auto: no FOPEN_CACHE_DIR */
    g_assert_cmpuint(counts_handles(f), ==, 1);

    struct listing l = {
        .f = f, .plus = plus,
        .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .nodeids = g_array_new(FALSE, FALSE, sizeof(uint64_t)),
    };
    list_all(&l, big, fh, rnd);
    check_listing(&l);
    g_assert_cmpuint(l.refused, >, 10);

    if (plus) {
        /* Exactly one lookup per delivered entry: refused ones were undone. */
        g_assert_cmpuint(l.nodeids->len, ==, MANY);
        g_assert_cmpuint(counts_inodes(f), ==, 2 + MANY);
        for (guint i = 0; i < l.nodeids->len; i++)
            pt_forget(f->fs, g_array_index(l.nodeids, uint64_t, i), 1);
        g_assert_cmpuint(counts_inodes(f), ==, 2);
    } else {
        g_assert_cmpuint(counts_inodes(f), ==, 2);
    }

    /* From the start again (a rewind): everything once more. */
    g_hash_table_remove_all(l.seen);
    g_array_set_size(l.nodeids, 0);
    list_all(&l, big, fh, rnd);
    check_listing(&l);
    for (guint i = 0; i < l.nodeids->len; i++)
        pt_forget(f->fs, g_array_index(l.nodeids, uint64_t, i), 1);
    g_assert_cmpuint(counts_inodes(f), ==, 2);

    g_assert_cmpint(pt_fsyncdir(f->fs, &root_ctx, big, fh, false), ==, 0);
    g_assert_cmpint(pt_fsyncdir(f->fs, &root_ctx, big, fh, true), ==, 0);
    g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, big, fh), ==, 0);
    g_assert_cmpuint(counts_handles(f), ==, 0);
    g_assert_cmpint(pt_readdir(f->fs, &root_ctx, big, fh, 0, plus, list_cb, &l), ==, -EBADF);
    g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, big, fh), ==, -EBADF);

    g_hash_table_destroy(l.seen);
    g_array_free(l.nodeids, TRUE);
    g_rand_free(rnd);
}

static void test_readdir_misc(struct fx *f, gconstpointer data)
{
    uint64_t fh, ffh;
    uint32_t oflags;

    host_write(f, "file", "x");
    uint64_t file = lookup_ok(f, PT_ROOT_ID, "file");
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, file, 0, &fh, &oflags), ==, -ENOTDIR);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, file, O_RDONLY, &ffh, &oflags), ==, 0);
    struct listing l = {
        .f = f, .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .budget = 100,
    };
    g_assert_cmpint(pt_readdir(f->fs, &root_ctx, file, ffh, 0, false, list_cb, &l), ==, -ENOTDIR);
    g_assert_cmpint(pt_fsyncdir(f->fs, &root_ctx, file, ffh, false), ==, -ENOTDIR);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, file, ffh, 0, 0, 0), ==, 0);

    /* A listing survives an entry removed between two calls. */
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, PT_ROOT_ID, 0, &fh, &oflags), ==, 0);
    l.plus = true;
    l.nodeids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    host_write(f, "gone", "x");
    /* Refusing the first entry still fills the handle's buffer. */
    l.budget = 0;
    g_assert_cmpint(pt_readdir(f->fs, &root_ctx, PT_ROOT_ID, fh, 0, true, list_cb, &l), ==, 0);
    g_assert_cmpuint(g_hash_table_size(l.seen), ==, 0);
    g_assert_cmpuint(l.refused, ==, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 2); /* root and "file": the refused lookup undone */
    uint64_t off = 0;
    /* The first call buffered every name; "gone" went before its turn. */
    g_assert_cmpint(unlinkat(f->dfd, "gone", 0), ==, 0);
    l.budget = 100;
    g_assert_cmpint(pt_readdir(f->fs, &root_ctx, PT_ROOT_ID, fh, off, true, list_cb, &l), ==, 0);
    g_assert_cmpuint(g_hash_table_size(l.seen), ==, 3);
    g_assert_true(g_hash_table_contains(l.seen, "file"));
    g_assert_false(g_hash_table_contains(l.seen, "gone"));
    g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, PT_ROOT_ID, fh), ==, 0);
    for (guint i = 0; i < l.nodeids->len; i++)
        pt_forget(f->fs, g_array_index(l.nodeids, uint64_t, i), 1);
    pt_forget(f->fs, file, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_array_free(l.nodeids, TRUE);
    g_hash_table_destroy(l.seen);
}

/* ---- files ------------------------------------------------------------- */

static void test_read_write(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    uint64_t fh, rfh;
    uint32_t oflags;
    char buf[64];

    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "f", S_IFREG | 0644, O_RDWR, 0,
                              &e, &fh, &oflags), ==, 0);
    g_assert_cmpuint(counts_handles(f), ==, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 2);

    char p1[] = "hello, ", p2[] = "", p3[] = "multi", p4[] = "-iovec world";
    struct iovec wv[] = { { p1, 7 }, { p2, 0 }, { p3, 5 }, { p4, 12 } };
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 5, wv, 4, 0), ==, 24);

    int hfd = openat(f->dfd, "f", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(hfd, >=, 0);
    memset(buf, 'z', sizeof(buf));
    g_assert_cmpint(pread(hfd, buf, sizeof(buf), 0), ==, 29);
    g_assert_cmpmem(buf, 5, "\0\0\0\0\0", 5);
    g_assert_cmpmem(buf + 5, 24, "hello, multi-iovec world", 24);
    close(hfd);

    g_assert_cmpint(pt_open(f->fs, &root_ctx, e.nodeid, O_RDONLY, &rfh, &oflags), ==, 0);
    g_assert_cmpuint(rfh, !=, fh);
    char r1[3], r2[4], r3[100];
    struct iovec rv[] = { { r1, 3 }, { r2, 4 }, { r3, sizeof(r3) } };
    g_assert_cmpint(pt_read(f->fs, &root_ctx, rfh, 10, rv, 3), ==, 19);
    g_assert_cmpmem(r1, 3, ", m", 3);
    g_assert_cmpmem(r2, 4, "ulti", 4);
    g_assert_cmpmem(r3, 12, "-iovec world", 12);
    g_assert_cmpint(pt_read(f->fs, &root_ctx, rfh, 1000, rv, 3), ==, 0);
    g_assert_cmpint(pt_write(f->fs, &root_ctx, rfh, 0, wv, 1, 0), ==, -EBADF); /* read-only fd */
    g_assert_cmpint(pt_read(f->fs, &root_ctx, rfh, UINT64_MAX, rv, 3), ==, -EINVAL);

    /* FUSE_WRITE_KILL_SUIDGID clears the set-id bits. */
    struct stat st;
    g_assert_cmpint(fchmodat(f->dfd, "f", 06755, 0), ==, 0);
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, wv, 1, FUSE_WRITE_KILL_SUIDGID), ==, 7);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);

    g_assert_cmpint(pt_flush(f->fs, &root_ctx, e.nodeid, fh, 0), ==, 0);
    g_assert_cmpint(pt_fsync(f->fs, &root_ctx, e.nodeid, fh, false), ==, 0);
    g_assert_cmpint(pt_fsync(f->fs, &root_ctx, e.nodeid, fh, true), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, rfh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(counts_handles(f), ==, 0);

    /* Stale handles. */
    g_assert_cmpint(pt_read(f->fs, &root_ctx, rfh, 0, rv, 3), ==, -EBADF);
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, wv, 1, 0), ==, -EBADF);
    g_assert_cmpint(pt_flush(f->fs, &root_ctx, e.nodeid, fh, 0), ==, -EBADF);
    g_assert_cmpint(pt_fsync(f->fs, &root_ctx, e.nodeid, fh, false), ==, -EBADF);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, -EBADF);
    g_assert_cmpint(pt_read(f->fs, &root_ctx, 0, 0, rv, 3), ==, -EBADF);
    /* A slot reused by a new open gets a new generation. */
    uint64_t nfh;
    g_assert_cmpint(pt_open(f->fs, &root_ctx, e.nodeid, O_RDONLY, &nfh, &oflags), ==, 0);
    g_assert_cmpuint((uint32_t)nfh, ==, (uint32_t)rfh);
    g_assert_cmpuint(nfh, !=, rfh);
    g_assert_cmpint(pt_read(f->fs, &root_ctx, rfh, 0, rv, 3), ==, -EBADF);
    g_assert_cmpint(pt_read(f->fs, &root_ctx, nfh, 5, rv, 1), ==, 3);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, nfh, 0, 0, 0), ==, 0);

    /* Open by a stale nodeid. */
    pt_forget(f->fs, e.nodeid, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, e.nodeid, O_RDONLY, &nfh, &oflags), ==, -EBADF);
    uint64_t again = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpuint((uint32_t)again, ==, (uint32_t)e.nodeid);
    g_assert_cmpuint(again, !=, e.nodeid);
}

static void test_file_get_across_release(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    uint32_t oflags;
    char buf[8];

    host_write(f, "f", "payload");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &fh, &oflags), ==, 0);
    struct pt_file *file = pt_file_get(f->fs, fh);
    g_assert_nonnull(file);
    int fd = pt_file_fd(file);
    g_assert_cmpint(fd, >=, 0);

    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);
    g_assert_null(pt_file_get(f->fs, fh));
    g_assert_cmpuint(counts_handles(f), ==, 1); /* still referenced */
    g_assert_cmpint(pread(fd, buf, 7, 0), ==, 7);
    g_assert_cmpmem(buf, 7, "payload", 7);
    pt_file_put(f->fs, file);
    g_assert_cmpuint(counts_handles(f), ==, 0);
    g_assert_cmpint(fcntl(fd, F_GETFD), ==, -1); /* closed now */
    g_assert_null(pt_file_get(f->fs, 0));
    g_assert_null(pt_file_get(f->fs, ~0ull));
    pt_file_put(f->fs, NULL);
}

static void test_file_ops(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    uint64_t fh, fh2;
    uint32_t oflags;
    struct stat st;

    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "sparse", 0644, O_RDWR, 0,
                              &e, &fh, &oflags), ==, 0);
    char blk[4096];
    memset(blk, 'd', sizeof(blk));
    struct iovec v = { blk, sizeof(blk) };
    const uint64_t data_at = 1ull << 20;
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, data_at, &v, 1, 0), ==, 4096);

    uint64_t pos;
    g_assert_cmpint(pt_lseek(f->fs, &root_ctx, e.nodeid, fh, 0, SEEK_DATA, &pos), ==, 0);
    g_assert_cmpuint(pos, <=, data_at);
    g_assert_cmpint(pt_lseek(f->fs, &root_ctx, e.nodeid, fh, data_at, SEEK_HOLE, &pos), ==, 0);
    g_assert_cmpuint(pos, ==, data_at + 4096);
    g_assert_cmpint(pt_lseek(f->fs, &root_ctx, e.nodeid, fh, data_at + 4096, SEEK_DATA, &pos),
                    ==, -ENXIO);
    g_assert_cmpint(pt_lseek(f->fs, &root_ctx, e.nodeid, fh, 0, SEEK_END, &pos), ==, 0);
    g_assert_cmpuint(pos, ==, data_at + 4096);
    g_assert_cmpint(pt_lseek(f->fs, &root_ctx, e.nodeid, fh, 0, SEEK_CUR, &pos), ==, -EINVAL);

    /* FALLOCATE: extend, then punch the data out again. */
    g_assert_cmpint(pt_fallocate(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 3ull << 20), ==, 0);
    host_stat(f, "sparse", &st);
    g_assert_cmpint(st.st_size, ==, 3 << 20);
    g_assert_cmpint(pt_fallocate(f->fs, &root_ctx, e.nodeid, fh,
                                 FALLOC_FL_KEEP_SIZE, 0, 4ull << 20), ==, 0);
    host_stat(f, "sparse", &st);
    g_assert_cmpint(st.st_size, ==, 3 << 20);
    g_assert_cmpint(st.st_blocks, >=, (4 << 20) / 512);
    g_assert_cmpint(pt_fallocate(f->fs, &root_ctx, e.nodeid, fh,
                                 FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, data_at, 4096),
                    ==, 0);
    char back[4096];
    struct iovec rv = { back, sizeof(back) };
    g_assert_cmpint(pt_read(f->fs, &root_ctx, fh, data_at, &rv, 1), ==, 4096);
    g_assert_cmpint(back[0], ==, 0);
    g_assert_cmpint(back[4095], ==, 0);
    g_assert_cmpint(pt_fallocate(f->fs, &root_ctx, e.nodeid, fh, 0, UINT64_MAX, 1), ==, -EINVAL);

    /* COPY_FILE_RANGE between two handles. */
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &v, 1, 0), ==, 4096);
    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "copy", 0644, O_RDWR, 0,
                              &e, &fh2, &oflags), ==, 0);
    g_assert_cmpint(pt_copy_file_range(f->fs, &root_ctx, fh, 100, fh2, 10, 1000, 0), ==, 1000);
    host_stat(f, "copy", &st);
    g_assert_cmpint(st.st_size, ==, 1010);
    g_assert_cmpint(pt_read(f->fs, &root_ctx, fh2, 10, &rv, 1), ==, 1000);
    g_assert_cmpint(back[0], ==, 'd');
    g_assert_cmpint(back[999], ==, 'd');
    g_assert_cmpint(pt_copy_file_range(f->fs, &root_ctx, fh, 0, fh2 + 99, 0, 10, 0), ==, -EBADF);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh2, 0, 0, 0), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);

    /* STATFS and SYNCFS. */
    struct statvfs sv, hv;
    g_assert_cmpint(pt_statfs(f->fs, &root_ctx, PT_ROOT_ID, &sv), ==, 0);
    g_assert_cmpint(statvfs(f->dir, &hv), ==, 0);
    g_assert_cmpuint(sv.f_bsize, ==, hv.f_bsize);
    g_assert_cmpuint(sv.f_blocks, ==, hv.f_blocks);
    g_assert_cmpuint(sv.f_fsid, ==, hv.f_fsid);
    g_assert_cmpint(pt_statfs(f->fs, &root_ctx, 31337, &sv), ==, -EBADF);
    g_assert_cmpint(pt_syncfs(f->fs, &root_ctx, PT_ROOT_ID), ==, 0);
    g_assert_cmpint(pt_syncfs(f->fs, &root_ctx, e.nodeid), ==, 0);
    g_assert_cmpint(mkfifoat(f->dfd, "fifo", 0600), ==, 0);
    uint64_t fifo = lookup_ok(f, PT_ROOT_ID, "fifo");
    g_assert_cmpint(pt_syncfs(f->fs, &root_ctx, fifo), ==, 0);
    g_assert_cmpint(pt_syncfs(f->fs, &root_ctx, 0), ==, -EBADF);
}

static int open_flags_of(struct fx *f, uint64_t fh)
{
    struct pt_file *file = pt_file_get(f->fs, fh);
    g_assert_nonnull(file);
    int fl = fcntl(pt_file_fd(file), F_GETFL);
    pt_file_put(f->fs, file);
    return fl;
}

static void test_cache_modes(struct fx *f, gconstpointer data)
{
    static const struct {
        enum pt_cache cache;
        double timeout;
        uint64_t timeout_ns;
        uint32_t fopen;
        uint32_t dir_fopen;
    } modes[] = {
        { PT_CACHE_NEVER, -1, 0, FOPEN_DIRECT_IO, 0 },
        { PT_CACHE_METADATA, -1, 86400000000000ull, FOPEN_DIRECT_IO,
          FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE },
        { PT_CACHE_AUTO, -1, 1000000000ull, 0, 0 },
        { PT_CACHE_ALWAYS, -1, 86400000000000ull, FOPEN_KEEP_CACHE,
          FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE },
        { PT_CACHE_AUTO, 2.5, 2500000000ull, 0, 0 },
        { PT_CACHE_ALWAYS, 0, 0, FOPEN_KEEP_CACHE, FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE },
    };
    struct pt_entry e;
    uint64_t fh;
    uint32_t oflags;

    host_write(f, "f", "x");
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        f->cfg.cache = modes[i].cache;
        f->cfg.timeout = modes[i].timeout;
        fx_reopen(f);
        g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "f", &e), ==, 0);
        g_assert_cmpuint(e.entry_timeout_ns, ==, modes[i].timeout_ns);
        g_assert_cmpuint(e.attr.timeout_ns, ==, modes[i].timeout_ns);
        struct pt_attr a;
        g_assert_cmpint(pt_getattr(f->fs, &root_ctx, e.nodeid, false, 0, &a), ==, 0);
        g_assert_cmpuint(a.timeout_ns, ==, modes[i].timeout_ns);
        g_assert_cmpint(pt_open(f->fs, &root_ctx, e.nodeid, O_RDONLY, &fh, &oflags), ==, 0);
        g_assert_cmpuint(oflags, ==, modes[i].fopen);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
        g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "c", 0644, O_RDWR, 0,
                                  &e, &fh, &oflags), ==, 0);
        g_assert_cmpuint(oflags, ==, modes[i].fopen);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
        g_assert_cmpint(unlinkat(f->dfd, "c", 0), ==, 0);
        g_assert_cmpint(pt_opendir(f->fs, &root_ctx, PT_ROOT_ID, 0, &fh, &oflags), ==, 0);
        g_assert_cmpuint(oflags, ==, modes[i].dir_fopen);
        g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, PT_ROOT_ID, fh), ==, 0);
    }
}

static void test_open_flags(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    uint32_t oflags;

    host_write(f, "f", "x");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");

    /* O_APPEND never reaches the host fd: a page written back through a
     * shared mapping would land at the end. PT_WRITE_APPEND appends; a
     * cached page (FUSE_WRITE_CACHE) goes to its offset. */
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_WRONLY | O_APPEND, &fh, &oflags), ==, 0);
    int fl = open_flags_of(f, fh);
    g_assert_cmpint(fl & O_ACCMODE, ==, O_WRONLY);
    g_assert_false(fl & O_APPEND);
    struct iovec av = { .iov_base = (void *)"ab", .iov_len = 2 };
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &av, 1, PT_WRITE_APPEND), ==, 2);
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &av, 1, FUSE_WRITE_CACHE), ==, 2);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);
    char got[8] = { 0 };
    int hfd = openat(f->dfd, "f", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(hfd, >=, 0);
    g_assert_cmpint(read(hfd, got, sizeof(got)), ==, 3);
    close(hfd);
    g_assert_cmpstr(got, ==, "abb");

    /* O_NOATIME is stripped unless preserved. */
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY | O_NOATIME, &fh, &oflags), ==, 0);
    g_assert_false(open_flags_of(f, fh) & O_NOATIME);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);

    /* O_DIRECT is stripped unless allowed (tmpfs may not support it). */
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY | O_DIRECT, &fh, &oflags), ==, 0);
    g_assert_false(open_flags_of(f, fh) & O_DIRECT);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_ACCMODE, &fh, &oflags), ==, -EINVAL);

    /* Writeback caching: write-only becomes read-write, no append. */
    struct pt_init_caps caps = { .writeback = true };
    pt_init(f->fs, &caps);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_WRONLY | O_APPEND, &fh, &oflags), ==, 0);
    fl = open_flags_of(f, fh);
    g_assert_cmpint(fl & O_ACCMODE, ==, O_RDWR);
    g_assert_false(fl & O_APPEND);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);
    struct pt_entry e;
    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "c", 0644, O_WRONLY | O_APPEND, 0,
                              &e, &fh, &oflags), ==, 0);
    fl = open_flags_of(f, fh);
    g_assert_cmpint(fl & O_ACCMODE, ==, O_RDWR);
    g_assert_false(fl & O_APPEND);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);

    /* O_TRUNC truncates. */
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDWR | O_TRUNC, &fh, &oflags), ==, 0);
    struct stat st;
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);

    f->cfg.preserve_noatime = true;
    fx_reopen(f);
    id = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY | O_NOATIME, &fh, &oflags), ==, 0);
    g_assert_true(open_flags_of(f, fh) & O_NOATIME);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);

    f->cfg.allow_direct_io = true;
    fx_reopen(f);
    id = lookup_ok(f, PT_ROOT_ID, "f");
    int r = pt_open(f->fs, &root_ctx, id, O_RDONLY | O_DIRECT, &fh, &oflags);
    if (r == 0) {
        g_assert_true(open_flags_of(f, fh) & O_DIRECT);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);
    } else {
        g_assert_cmpint(r, ==, -EINVAL); /* the host fs has no O_DIRECT */
    }
}

static void test_open_types(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    uint32_t oflags;

    g_assert_cmpint(mkfifoat(f->dfd, "fifo", 0666), ==, 0);
    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    uint64_t fifo = lookup_ok(f, PT_ROOT_ID, "fifo");
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");
    /* Would block forever on the host if it were opened. */
    g_assert_cmpint(pt_open(f->fs, &root_ctx, fifo, O_RDONLY, &fh, &oflags), ==, -ENXIO);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, d, O_RDONLY, &fh, &oflags), ==, -EISDIR);
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, fifo, 0, &fh, &oflags), ==, -ENOTDIR);
    g_assert_cmpuint(counts_handles(f), ==, 0);
    if (geteuid() == 0) {
        struct pt_entry e;
        g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "null", S_IFCHR | 0666,
                                 makedev(1, 3), 0, &e), ==, 0);
        g_assert_true(S_ISCHR(e.attr.st.st_mode));
        g_assert_cmpuint(e.attr.st.st_rdev, ==, makedev(1, 3));
        g_assert_cmpint(pt_open(f->fs, &root_ctx, e.nodeid, O_RDWR, &fh, &oflags), ==, -ENXIO);
    }
}

/* LINK when the daemon lacks CAP_DAC_READ_SEARCH: capabilities are per
 * thread in the kernel, so one thread can drop it for the test. */
struct link_nocap {
    struct fx *f;
    uint64_t nodeid;
    int dropped;
    int result;
    struct pt_entry e;
};

static void *link_nocap_thread(void *arg)
{
    struct link_nocap *ln = arg;
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct data[2];
    ln->dropped = (int)syscall(SYS_capget, &hdr, data);
    if (ln->dropped == 0) {
        data[CAP_DAC_READ_SEARCH / 32].effective &= ~(1u << (CAP_DAC_READ_SEARCH % 32));
        ln->dropped = (int)syscall(SYS_capset, &hdr, data);
    }
    if (ln->dropped == 0)
        ln->result = pt_link(ln->f->fs, &root_ctx, ln->nodeid, PT_ROOT_ID, "nocap", &ln->e);
    return NULL;
}

static void test_link_without_cap(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    host_write(f, "a", "x");
    struct link_nocap ln = { .f = f, .nodeid = lookup_ok(f, PT_ROOT_ID, "a") };
    /* Check the premise: without the capability AT_EMPTY_PATH is refused. */
    pthread_t t;
    g_assert_cmpint(pthread_create(&t, NULL, link_nocap_thread, &ln), ==, 0);
    pthread_join(t, NULL);
    g_assert_cmpint(ln.dropped, ==, 0);
    g_assert_cmpint(ln.result, ==, 0);
    g_assert_cmpuint(ln.e.nodeid, ==, ln.nodeid);
    struct stat st;
    host_stat(f, "nocap", &st);
    g_assert_cmpuint(st.st_nlink, ==, 2);
    g_assert_false(S_ISLNK(st.st_mode));
}

/* ---- xattrs ------------------------------------------------------------ */

/* What a guest user may not see or do with xattrs: trusted.* names (hidden
 * from callers that are not root, as the host kernel hides them), and ACL
 * xattrs while the guest does not enforce ACLs. */
static void test_xattr_hidden(struct fx *f, gconstpointer data)
{
    char buf[256];
    const struct pt_ctx user = { .uid = 1000, .gid = 1000, .pid = 2 };

    host_write(f, "h", "x");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "h");
    g_autofree char *path = g_strdup_printf("%s/h", f->dir);
    if (setxattr(path, "trusted.secret", "1", 1, 0) < 0 ||
        setxattr(path, "user.open", "2", 1, 0) < 0) {
        g_test_skip("no trusted/user xattrs on this filesystem");
        return;
    }
    ssize_t n = pt_listxattr(f->fs, &root_ctx, id, buf, sizeof(buf));
    g_assert_cmpint(n, >, 0);
    g_assert_nonnull(memmem(buf, (size_t)n, "trusted.secret", 15));
    ssize_t need = pt_listxattr(f->fs, &user, id, NULL, 0);
    n = pt_listxattr(f->fs, &user, id, buf, sizeof(buf));
    g_assert_cmpint(n, ==, need);
    g_assert_null(memmem(buf, (size_t)n, "trusted.", 8));
    g_assert_nonnull(memmem(buf, (size_t)n, "user.open", 10));

    /* No FUSE_POSIX_ACL: ACL names are refused (a user could otherwise set
     * any ACL with the daemon's privileges), and not listed. */
    uint8_t acl[4] = { 2, 0, 0, 0 };
    g_assert_cmpint(pt_setxattr(f->fs, &user, id, "system.posix_acl_access", acl, sizeof(acl),
                                0, 0), ==, -EOPNOTSUPP);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "system.posix_acl_access", buf,
                                sizeof(buf)), ==, -EOPNOTSUPP);
    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, id, "system.posix_acl_default"),
                    ==, -EOPNOTSUPP);
}

static void test_xattr(struct fx *f, gconstpointer data)
{
    char buf[64];

    host_write(f, "f", "x");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    int r = pt_setxattr(f->fs, &root_ctx, id, "user.color", "blue", 4, 0, 0);
    if (r == -EOPNOTSUPP) {
        g_test_skip("no user xattrs on this filesystem");
        return;
    }
    g_assert_cmpint(r, ==, 0);
    char *fpath = g_strdup_printf("%s/f", f->dir);
    g_assert_cmpint(getxattr(fpath, "user.color", buf, sizeof(buf)), ==, 4);
    g_free(fpath);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "user.color", NULL, 0), ==, 4);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "user.color", buf, 2), ==, -ERANGE);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "user.color", buf, sizeof(buf)), ==, 4);
    g_assert_cmpmem(buf, 4, "blue", 4);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "user.none", buf, sizeof(buf)), ==, -ENODATA);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, id, "user.color", "red", 3, XATTR_CREATE, 0),
                    ==, -EEXIST);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, id, "user.new", "1", 1, XATTR_REPLACE, 0),
                    ==, -ENODATA);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, id, "user.size", "12345", 5, 0, 0), ==, 0);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, id, "user.x", "1", 1, 0x40, 0), ==, -EINVAL);

    ssize_t need = pt_listxattr(f->fs, &root_ctx, id, NULL, 0);
    g_assert_cmpint(need, >=, (ssize_t)sizeof("user.color") + (ssize_t)sizeof("user.size"));
    g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, id, buf, 3), ==, -ERANGE);
    ssize_t n = pt_listxattr(f->fs, &root_ctx, id, buf, sizeof(buf));
    g_assert_cmpint(n, ==, need);
    bool color = false, size = false;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
        color |= strcmp(buf + i, "user.color") == 0;
        size |= strcmp(buf + i, "user.size") == 0;
    }
    g_assert_true(color && size);

    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, id, "user.color"), ==, 0);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "user.color", buf, sizeof(buf)), ==, -ENODATA);
    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, id, "user.color"), ==, -ENODATA);

    /* Directories. */
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, PT_ROOT_ID, "user.d", "dir", 3, 0, 0), ==, 0);
    g_assert_cmpint(getxattr(f->dir, "user.d", buf, sizeof(buf)), ==, 3);

    /* A symlink's own attributes, not its target's. */
    if (geteuid() == 0) {
        g_assert_cmpint(symlinkat("f", f->dfd, "l"), ==, 0);
        uint64_t l = lookup_ok(f, PT_ROOT_ID, "l");
        char *lpath = g_strdup_printf("%s/l", f->dir);
        fpath = g_strdup_printf("%s/f", f->dir);
        g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, l, "trusted.pt", "link", 4, 0, 0), ==, 0);
        g_assert_cmpint(lgetxattr(lpath, "trusted.pt", buf, sizeof(buf)), ==, 4);
        g_assert_cmpint(getxattr(fpath, "trusted.pt", buf, sizeof(buf)), ==, -1);
        g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, l, "trusted.pt", buf, sizeof(buf)), ==, 4);
        g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, l, buf, sizeof(buf)), >=,
                        (ssize_t)sizeof("trusted.pt"));
        g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, l, "trusted.pt"), ==, 0);
        g_assert_cmpint(lgetxattr(lpath, "trusted.pt", buf, sizeof(buf)), ==, -1);
        /* user.* is not allowed on symlinks: the host says so. */
        g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, l, "user.x", "1", 1, 0, 0), ==, -EPERM);
        g_free(lpath);
        g_free(fpath);
    }

    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, 5555, "user.x", buf, sizeof(buf)), ==, -EBADF);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "", buf, sizeof(buf)), ==, -EINVAL);

    /* Off by configuration. */
    f->cfg.xattr = false;
    fx_reopen(f);
    id = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, id, "user.size", buf, sizeof(buf)), ==, -ENOSYS);
    g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, id, buf, sizeof(buf)), ==, -ENOSYS);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, id, "user.a", "1", 1, 0, 0), ==, -ENOSYS);
    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, id, "user.size"), ==, -ENOSYS);
}

/* ---- read-only ------------------------------------------------------- */

static void test_readonly(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    struct pt_attr a;
    uint64_t fh;
    uint32_t oflags;
    char buf[8];

    host_write(f, "f", "data");
    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    f->cfg.readonly = true;
    fx_reopen(f);
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");

    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, "x", 0755, 0, &e), ==, -EROFS);
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "x", S_IFIFO | 0644, 0, 0, &e), ==, -EROFS);
    g_assert_cmpint(pt_symlink(f->fs, &root_ctx, PT_ROOT_ID, "x", "f", &e), ==, -EROFS);
    g_assert_cmpint(pt_link(f->fs, &root_ctx, id, PT_ROOT_ID, "x", &e), ==, -EROFS);
    g_assert_cmpint(pt_create(f->fs, &root_ctx, PT_ROOT_ID, "x", 0644, O_RDWR, 0, &e, &fh, &oflags),
                    ==, -EROFS);
    g_assert_cmpint(pt_unlink(f->fs, &root_ctx, PT_ROOT_ID, "f"), ==, -EROFS);
    g_assert_cmpint(pt_rmdir(f->fs, &root_ctx, PT_ROOT_ID, "d"), ==, -EROFS);
    g_assert_cmpint(pt_rename(f->fs, &root_ctx, PT_ROOT_ID, "f", PT_ROOT_ID, "g", 0), ==, -EROFS);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_WRONLY, &fh, &oflags), ==, -EROFS);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDWR, &fh, &oflags), ==, -EROFS);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY | O_TRUNC, &fh, &oflags), ==, -EROFS);
    struct pt_setattr in = { .valid = FATTR_MODE, .mode = 0600 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, -EROFS);
    in = (struct pt_setattr){ .valid = FATTR_SIZE, .size = 0 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, id, &in, &a), ==, -EROFS);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, id, "user.a", "1", 1, 0, 0), ==, -EROFS);
    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, id, "user.a"), ==, -EROFS);
    g_assert_cmpint(pt_access(f->fs, &root_ctx, id, W_OK), ==, -EROFS);
    g_assert_cmpint(pt_access(f->fs, &root_ctx, id, R_OK), ==, 0);

    /* Reading still works. */
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &fh, &oflags), ==, 0);
    struct iovec v = { buf, sizeof(buf) };
    g_assert_cmpint(pt_read(f->fs, &root_ctx, fh, 0, &v, 1), ==, 4);
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &v, 1, 0), ==, -EROFS);
    g_assert_cmpint(pt_fallocate(f->fs, &root_ctx, id, fh, 0, 0, 10), ==, -EROFS);
    g_assert_cmpint(pt_copy_file_range(f->fs, &root_ctx, fh, 0, fh, 10, 1, 0), ==, -EROFS);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, d, 0, &fh, &oflags), ==, 0);
    g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, d, fh), ==, 0);

    /* The host is untouched. */
    struct stat st;
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 4);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
    g_assert_cmpint(faccessat(f->dfd, "x", F_OK, AT_SYMLINK_NOFOLLOW), ==, -1);
}

/* ---- lifecycle and limits -------------------------------------------- */

static void test_destroy(struct fx *f, gconstpointer data)
{
    uint64_t fh, dfh;
    uint32_t oflags;

    host_write(f, "a", "1");
    host_write(f, "b", "2");
    uint64_t a = lookup_ok(f, PT_ROOT_ID, "a");
    lookup_ok(f, PT_ROOT_ID, "a");
    uint64_t b = lookup_ok(f, PT_ROOT_ID, "b");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, a, O_RDONLY, &fh, &oflags), ==, 0);
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, PT_ROOT_ID, 0, &dfh, &oflags), ==, 0);
    g_assert_cmpuint(counts_inodes(f), ==, 3);
    g_assert_cmpuint(counts_handles(f), ==, 2);

    pt_destroy(f->fs);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpuint(counts_handles(f), ==, 0);
    struct pt_attr at;
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, a, false, 0, &at), ==, -EBADF);
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, b, false, 0, &at), ==, -EBADF);
    g_assert_null(pt_file_get(f->fs, fh));
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, PT_ROOT_ID, false, 0, &at), ==, 0);
    /* Usable after a new INIT. */
    struct pt_init_caps caps = { 0 };
    pt_init(f->fs, &caps);
    a = lookup_ok(f, PT_ROOT_ID, "a");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, a, O_RDONLY, &fh, &oflags), ==, 0);
    /* Left open on purpose: pt_fs_free() must clean it up. */
}

/*
 * A lookup of a name whose inode the table holds answers from the table;
 * once the host put another file under that name, the new one, with its
 * own attributes, and a hard link of a known file shares its entry.
 */
static void test_lookup_known(struct fx *f, gconstpointer data)
{
    struct pt_entry e;

    host_write(f, "a", "1");
    host_write(f, "c", "three");
    uint64_t a = lookup_ok(f, PT_ROOT_ID, "a");
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, a);
    g_assert_cmpuint(e.attr.st.st_size, ==, 1);

    g_assert_cmpint(linkat(f->dfd, "a", f->dfd, "a2", 0), ==, 0);
    g_assert_cmpuint(lookup_ok(f, PT_ROOT_ID, "a2"), ==, a);

    g_assert_cmpint(renameat(f->dfd, "c", f->dfd, "a"), ==, 0);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, a);
    g_assert_cmpuint(e.attr.st.st_size, ==, 5);
    g_assert_cmpint(unlinkat(f->dfd, "a", 0), ==, 0);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a", &e), ==, -ENOENT);
}

static void test_fd_exhaustion(struct fx *f, gconstpointer data)
{
    struct rlimit old, low;
    struct pt_entry e;
    uint64_t fh;
    uint32_t oflags;

    host_write(f, "a", "1");
    host_write(f, "b", "2");
    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");
    uint64_t a = lookup_ok(f, PT_ROOT_ID, "a");
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &old), ==, 0);
    low = old;
    low.rlim_cur = 64;
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);

    int fds[64];
    int n = 0;
    for (; n < 64; n++) {
        fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fds[n] < 0)
            break;
    }
    g_assert_cmpint(n, <, 64);

    /* A name the table does not know is opened first; one whose inode it
     * holds pinned needs no fd. */
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "b", &e), ==, -EMFILE);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "a", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, a);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, d, "..", &e), ==, -EMFILE);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, a, O_RDONLY, &fh, &oflags), ==, -EMFILE);
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, d, 0, &fh, &oflags), ==, -EMFILE);
    g_assert_cmpint(pt_create(f->fs, &root_ctx, d, "new", 0644, O_RDWR, 0, &e, &fh, &oflags),
                    ==, -EMFILE);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, d, "sub", 0755, 0, &e), ==, -EMFILE);
    g_assert_cmpint(pt_syncfs(f->fs, &root_ctx, PT_ROOT_ID), ==, -EMFILE);
    char buf[8];
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, a, "user.x", buf, sizeof(buf)), ==, -EMFILE);
    g_assert_cmpuint(counts_handles(f), ==, 0);
    g_assert_cmpuint(counts_inodes(f), ==, 3);

    for (int i = 0; i < n; i++)
        close(fds[i]);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &old), ==, 0);
    /* The half-made directory is there and works. */
    uint64_t sub = lookup_ok(f, d, "sub");
    g_assert_cmpuint(sub, !=, 0);
}

static void test_submounts(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    g_assert_cmpint(mkdirat(f->dfd, "mnt", 0755), ==, 0);
    g_assert_cmpint(mkdirat(f->dfd, "plain", 0755), ==, 0);
    char *mnt = g_strdup_printf("%s/mnt", f->dir);
    if (mount("pt-test", mnt, "tmpfs", 0, "size=1m") < 0) {
        g_test_skip("cannot mount tmpfs here");
        g_free(mnt);
        return;
    }
    f->cfg.announce_submounts = true;
    fx_reopen(f);

    struct pt_entry e;
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "mnt", &e), ==, 0);
    g_assert_cmpuint(e.attr.flags & PT_ATTR_SUBMOUNT, ==, PT_ATTR_SUBMOUNT);
    uint64_t m = e.nodeid;
    struct pt_attr a;
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, m, false, 0, &a), ==, 0);
    g_assert_cmpuint(a.flags & PT_ATTR_SUBMOUNT, ==, PT_ATTR_SUBMOUNT);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "plain", &e), ==, 0);
    g_assert_cmpuint(e.attr.flags, ==, 0);
    /* Inside the submount, relative to its root: not a mount point. */
    struct pt_entry c;
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, m, "inner", 0755, 0, &c), ==, 0);
    g_assert_cmpuint(c.attr.flags, ==, 0);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, m, "..", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, PT_ROOT_ID);
    /* Reached through "..", the mount point is still flagged. */
    pt_forget(f->fs, m, 2);
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, m, false, 0, &a), ==, -EBADF);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, c.nodeid, "..", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, m);
    g_assert_cmpuint(e.attr.flags & PT_ATTR_SUBMOUNT, ==, PT_ATTR_SUBMOUNT);

    f->cfg.announce_submounts = false;
    fx_reopen(f);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "mnt", &e), ==, 0);
    g_assert_cmpuint(e.attr.flags, ==, 0);
    pt_fs_free(f->fs);
    f->fs = NULL;
    g_assert_cmpint(umount2(mnt, MNT_DETACH), ==, 0);
    fx_open(f);
    g_free(mnt);
}

/* ---- concurrency ------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 2000

struct race {
    struct fx *f;
    unsigned seed;
    _Atomic int failures;
};

static void *race_thread(void *arg)
{
    struct race *rc = arg;
    struct pt_fs *fs = rc->f->fs;
    char name[8], buf[16];
    unsigned seed = rc->seed;

    for (int i = 0; i < ROUNDS; i++) {
        snprintf(name, sizeof(name), "f%u", (unsigned)(rand_r(&seed) % 4));
        struct pt_entry e;
        if (pt_lookup(fs, &root_ctx, PT_ROOT_ID, name, &e) != 0) {
            rc->failures++;
            continue;
        }
        struct pt_attr a;
        if (pt_getattr(fs, &root_ctx, e.nodeid, false, 0, &a) != 0 ||
            a.st.st_ino != e.attr.st.st_ino)
            rc->failures++;
        uint64_t fh;
        uint32_t oflags;
        if (pt_open(fs, &root_ctx, e.nodeid, O_RDONLY, &fh, &oflags) == 0) {
            struct iovec v = { buf, sizeof(buf) };
            if (pt_read(fs, &root_ctx, fh, 0, &v, 1) != 8 || memcmp(buf, "contents", 8) != 0)
                rc->failures++;
            if (pt_release(fs, &root_ctx, e.nodeid, fh, 0, 0, 0) != 0)
                rc->failures++;
        } else {
            rc->failures++;
        }
        if (i % 50 == 0)
            (void)pt_getattr(fs, &root_ctx, e.nodeid + (1ull << 32), false, 0, &a);
        pt_forget(fs, e.nodeid, 1);
    }
    return NULL;
}

static void test_concurrency(struct fx *f, gconstpointer data)
{
    pthread_t t[THREADS];
    struct race rc = { .f = f };

    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", i);
        host_write(f, name, "contents");
    }
    struct race per[THREADS];
    for (int i = 0; i < THREADS; i++) {
        per[i] = rc;
        per[i].seed = (unsigned)i + 1;
        g_assert_cmpint(pthread_create(&t[i], NULL, race_thread, &per[i]), ==, 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        g_assert_cmpint(per[i].failures, ==, 0);
    }
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpuint(counts_handles(f), ==, 0);
}

struct release_race {
    struct fx *f;
    uint64_t fh;
    _Atomic bool stop;
    _Atomic int bad;
    _Atomic int reads_ok;
};

static void *reader_thread(void *arg)
{
    struct release_race *rr = arg;
    char buf[8];
    while (!rr->stop) {
        struct iovec v = { buf, sizeof(buf) };
        ssize_t n = pt_read(rr->f->fs, &root_ctx, rr->fh, 0, &v, 1);
        if (n == 8 && memcmp(buf, "contents", 8) == 0)
            rr->reads_ok++;
        else if (n != -EBADF)
            rr->bad++;
        struct pt_file *file = pt_file_get(rr->f->fs, rr->fh);
        if (file) {
            if (pread(pt_file_fd(file), buf, 8, 0) != 8)
                rr->bad++;
            pt_file_put(rr->f->fs, file);
        }
    }
    return NULL;
}

static void test_release_races_read(struct fx *f, gconstpointer data)
{
    uint32_t oflags;
    host_write(f, "f", "contents");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    for (int round = 0; round < 50; round++) {
        struct release_race rr = { .f = f };
        g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &rr.fh, &oflags), ==, 0);
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            g_assert_cmpint(pthread_create(&t[i], NULL, reader_thread, &rr), ==, 0);
        g_usleep(200);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, id, rr.fh, 0, 0, 0), ==, 0);
        /* Open a few more so the released slot gets reused under the readers. */
        uint64_t other;
        g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &other, &oflags), ==, 0);
        g_usleep(200);
        rr.stop = true;
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        g_assert_cmpint(rr.bad, ==, 0);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, id, other, 0, 0, 0), ==, 0);
        g_assert_cmpuint(counts_handles(f), ==, 0);
    }
}

static void *readdirplus_thread(void *arg)
{
    struct fx *f = arg;
    uint64_t fh;
    uint32_t oflags;
    for (int round = 0; round < 20; round++) {
        if (pt_opendir(f->fs, &root_ctx, PT_ROOT_ID, 0, &fh, &oflags) != 0)
            return (void *)1;
        struct listing l = {
            .f = f, .plus = true, .budget = 1000,
            .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
            .nodeids = g_array_new(FALSE, FALSE, sizeof(uint64_t)),
        };
        int r = pt_readdir(f->fs, &root_ctx, PT_ROOT_ID, fh, 0, true, list_cb, &l);
        for (guint i = 0; i < l.nodeids->len; i++)
            pt_forget(f->fs, g_array_index(l.nodeids, uint64_t, i), 1);
        pt_releasedir(f->fs, &root_ctx, PT_ROOT_ID, fh);
        bool ok = r == 0 && g_hash_table_size(l.seen) == 6;
        g_hash_table_destroy(l.seen);
        g_array_free(l.nodeids, TRUE);
        if (!ok)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_lookup_readdirplus(struct fx *f, gconstpointer data)
{
    pthread_t t[THREADS];
    struct race per[2];
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof(name), "f%d", i);
        host_write(f, name, "contents");
    }
    for (int i = 0; i < 2; i++) {
        per[i] = (struct race){ .f = f, .seed = 100u + (unsigned)i };
        g_assert_cmpint(pthread_create(&t[i], NULL, race_thread, &per[i]), ==, 0);
    }
    for (int i = 2; i < THREADS; i++)
        g_assert_cmpint(pthread_create(&t[i], NULL, readdirplus_thread, f), ==, 0);
    for (int i = 0; i < THREADS; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        g_assert_null(ret);
    }
    g_assert_cmpint(per[0].failures + per[1].failures, ==, 0);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpuint(counts_handles(f), ==, 0);
}

static void test_creds_are_per_thread(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    /* While one thread creates as a user over and over, files made by the
     * others must stay root's. */
    g_assert_cmpint(chmod(f->dir, 0777), ==, 0);
    const struct pt_ctx user = { .uid = 1000, .gid = 1000 };
    struct pt_entry e;
    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof(name), "u%d", i);
        g_assert_cmpint(pt_mkdir(f->fs, &user, PT_ROOT_ID, name, 0755, 0, &e), ==, 0);
        pt_forget(f->fs, e.nodeid, 1);
        snprintf(name, sizeof(name), "r%d", i);
        g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, PT_ROOT_ID, name, 0755, 0, &e), ==, 0);
        g_assert_cmpuint(e.attr.st.st_uid, ==, 0);
        pt_forget(f->fs, e.nodeid, 1);
    }
    g_assert_cmpint((int)syscall(SYS_setfsuid, -1), ==, 0);
    g_assert_cmpint((int)syscall(SYS_setfsgid, -1), ==, 0);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
}

struct rename_over {
    struct fx *f;
    int stop;                 /* atomic */
};

/* Keeps renaming fresh files onto "target". */
static void *rename_over_thread(void *arg)
{
    struct rename_over *ro = arg;
    int dfd = openat(ro->f->dfd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);
    while (!__atomic_load_n(&ro->stop, __ATOMIC_ACQUIRE)) {
        int fd = openat(dfd, "fresh", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
            close(fd);
        renameat(dfd, "fresh", dfd, "target");
    }
    close(dfd);
    return NULL;
}

/* CREATE's entry is the file its handle is open on, even when another file
 * is renamed onto the name between the open and the lookup. */
static void test_create_entry_is_the_open_file(struct fx *f, gconstpointer data)
{
    struct rename_over ro = { .f = f };
    pthread_t t;
    g_assert_cmpint(pthread_create(&t, NULL, rename_over_thread, &ro), ==, 0);
    for (unsigned i = 0; i < 20000; i++) {
        struct pt_entry e;
        uint64_t fh;
        uint32_t oflags;
        if (pt_create(f->fs, &root_ctx, PT_ROOT_ID, "target", 0644, O_RDWR, 0, &e, &fh,
                      &oflags) < 0)
            continue;
        struct pt_file *file = pt_file_get(f->fs, fh);
        g_assert_nonnull(file);
        struct stat st;
        g_assert_cmpint(fstat(pt_file_fd(file), &st), ==, 0);
        pt_file_put(f->fs, file);
        g_assert_cmpuint(st.st_ino, ==, e.attr.st.st_ino);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
        pt_forget(f->fs, e.nodeid, 1);
    }
    __atomic_store_n(&ro.stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
}

/* ---- locks ------------------------------------------------------------- */

#define OWNER_A 0xaaaa0001ull
#define OWNER_B 0xbbbb0002ull

static struct pt_lock plk(uint32_t type, uint64_t start, uint64_t end, uint32_t pid)
{
    return (struct pt_lock){ .type = type, .start = start, .end = end, .pid = pid };
}

/* A host process's classic F_GETLK on a shared file. */
static short host_lock_type(struct fx *f, const char *name, short type, off_t start, off_t len)
{
    int fd = openat(f->dfd, name, O_RDWR | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    g_assert_cmpint(fcntl(fd, F_GETLK, &fl), ==, 0);
    close(fd);
    return fl.l_type;
}

static void test_locks(struct fx *f, gconstpointer data)
{
    uint64_t fa, fb;
    uint32_t oflags;
    struct pt_lock l, out;

    host_write(f, "f", "0123456789");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &fa, &oflags), ==, 0);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDWR, &fb, &oflags), ==, 0);

    /* A write lock through a read-only handle: the owner's own description
     * is what carries it. */
    l = plk(F_WRLCK, 0, 9, 100);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, 0), ==, 0);
    l = plk(F_RDLCK, 5, PT_LOCK_EOF, 200);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fb, OWNER_B, &l, 0), ==, -EAGAIN);
    l = plk(F_RDLCK, 10, PT_LOCK_EOF, 200);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fb, OWNER_B, &l, 0), ==, 0);
    g_assert_cmpint(host_lock_type(f, "f", F_RDLCK, 3, 1), ==, F_WRLCK);
    g_assert_cmpint(host_lock_type(f, "f", F_RDLCK, 1000, 1), ==, F_UNLCK);
    g_assert_cmpint(host_lock_type(f, "f", F_WRLCK, 1000, 1), ==, F_RDLCK);

    /* GETLK: the holder's range, type and pid */
    l = plk(F_RDLCK, 7, 7, 200);
    g_assert_cmpint(pt_getlk(f->fs, &root_ctx, id, fb, OWNER_B, &l, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_WRLCK);
    g_assert_cmpuint(out.start, ==, 0);
    g_assert_cmpuint(out.end, ==, 9);
    g_assert_cmpuint(out.pid, ==, 100);
    l = plk(F_WRLCK, 20, 30, 100);
    g_assert_cmpint(pt_getlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_RDLCK);
    g_assert_cmpuint(out.start, ==, 10);
    g_assert_cmpuint(out.end, ==, PT_LOCK_EOF);
    g_assert_cmpuint(out.pid, ==, 200);
    /* an owner that holds nothing asks too, and sees both */
    l = plk(F_WRLCK, 0, PT_LOCK_EOF, 300);
    g_assert_cmpint(pt_getlk(f->fs, &root_ctx, id, fa, 0x333, &l, &out), ==, 0);
    g_assert_cmpuint(out.type, !=, F_UNLCK);
    /* bad input */
    l = plk(F_WRLCK, 9, 8, 1);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, 0), ==, -EINVAL);
    l = plk(F_WRLCK, 0, (uint64_t)PT_LOCK_EOF + 1, 1);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, 0), ==, -EINVAL);
    l = plk(F_UNLCK, 0, 1, 1);
    g_assert_cmpint(pt_getlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, &out), ==, -EINVAL);
    l = plk(F_WRLCK, 0, 1, 1);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, 0xbad, OWNER_A, &l, 0), ==, -EBADF);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, 0xbad, fa, OWNER_A, &l, 0), ==, -EBADF);
    g_assert_cmpint(mkfifoat(f->dfd, "fifo", 0600), ==, 0);
    uint64_t fifo = lookup_ok(f, PT_ROOT_ID, "fifo");
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, fifo, fa, OWNER_A, &l, 0), ==, -ENOLCK);
    /* unlocking for an owner that never locked is a no-op */
    l = plk(F_UNLCK, 0, PT_LOCK_EOF, 1);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, 0x999, &l, 0), ==, 0);

    /* FLUSH of A: its locks go, B's stay */
    g_assert_cmpint(pt_flush(f->fs, &root_ctx, id, fb, OWNER_A), ==, 0);
    g_assert_cmpint(host_lock_type(f, "f", F_WRLCK, 0, 10), ==, F_UNLCK);
    g_assert_cmpint(host_lock_type(f, "f", F_WRLCK, 10, 0), ==, F_RDLCK);
    /* RELEASE with B's owner */
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fb, O_RDWR, 0, OWNER_B), ==, 0);
    g_assert_cmpint(host_lock_type(f, "f", F_WRLCK, 0, 0), ==, F_UNLCK);

    /* a host process's lock conflicts too, and is reported with pid 0: its
     * pid means nothing to the guest */
    int hfd = openat(f->dfd, "f", O_RDWR | O_CLOEXEC);
    g_assert_cmpint(hfd, >=, 0);
    struct flock hl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5000, .l_len = 10 };
    g_assert_cmpint(fcntl(hfd, F_OFD_SETLK, &hl), ==, 0);
    l = plk(F_RDLCK, 5005, 5005, 100);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, 0), ==, -EAGAIN);
    g_assert_cmpint(pt_getlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_WRLCK);
    g_assert_cmpuint(out.start, ==, 5000);
    g_assert_cmpuint(out.end, ==, 5009);
    g_assert_cmpuint(out.pid, ==, 0);
    close(hfd);

    /* Forgetting the inode drops what is left */
    l = plk(F_WRLCK, 0, PT_LOCK_EOF, 100);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, 0), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fa, O_RDONLY, 0, 0), ==, 0);
    g_assert_cmpint(host_lock_type(f, "f", F_RDLCK, 0, 0), ==, F_WRLCK);
    pt_forget(f->fs, id, 1);
    g_assert_cmpint(host_lock_type(f, "f", F_RDLCK, 0, 0), ==, F_UNLCK);
    g_assert_cmpuint(counts_inodes(f), ==, 2); /* the root and the fifo */

    /* and DESTROY drops the root directory's */
    uint64_t dh;
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, PT_ROOT_ID, 0, &dh, &oflags), ==, 0);
    l = plk(F_RDLCK, 0, PT_LOCK_EOF, 100);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, PT_ROOT_ID, dh, OWNER_A, &l, 0), ==, 0);
    int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);
    struct flock dl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    g_assert_cmpint(fcntl(dfd, F_OFD_GETLK, &dl), ==, 0);
    g_assert_cmpint(dl.l_type, ==, F_RDLCK);
    pt_destroy(f->fs);
    dl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
    g_assert_cmpint(fcntl(dfd, F_OFD_GETLK, &dl), ==, 0);
    g_assert_cmpint(dl.l_type, ==, F_UNLCK);
    close(dfd);
}

static void test_flock(struct fx *f, gconstpointer data)
{
    uint64_t fa, fb;
    uint32_t oflags;
    struct pt_lock ex = plk(F_WRLCK, 0, PT_LOCK_EOF, 1), sh = plk(F_RDLCK, 0, PT_LOCK_EOF, 1);
    struct pt_lock un = plk(F_UNLCK, 0, PT_LOCK_EOF, 1);

    host_write(f, "f", "x");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &fa, &oflags), ==, 0);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDONLY, &fb, &oflags), ==, 0);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, fa, &ex, PT_LOCK_FLOCK), ==, 0);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fb, fb, &sh, PT_LOCK_FLOCK), ==, -EAGAIN);
    int hfd = openat(f->dfd, "f", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(flock(hfd, LOCK_SH | LOCK_NB), ==, -1);
    /* the same open file takes its own lock again */
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, fa, &sh, PT_LOCK_FLOCK), ==, 0);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fb, fb, &sh, PT_LOCK_FLOCK), ==, 0);
    g_assert_cmpint(flock(hfd, LOCK_SH | LOCK_NB), ==, 0);
    g_assert_cmpint(flock(hfd, LOCK_UN), ==, 0);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, fa, &un, PT_LOCK_FLOCK), ==, 0);
    /* RELEASE with FUSE_RELEASE_FLOCK_UNLOCK ends fb's, even while the
     * handle is still in use */
    struct pt_file *held = pt_file_get(f->fs, fb);
    g_assert_nonnull(held);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fb, 0, FUSE_RELEASE_FLOCK_UNLOCK, fb), ==, 0);
    g_assert_cmpint(flock(hfd, LOCK_EX | LOCK_NB), ==, 0);
    pt_file_put(f->fs, held);
    close(hfd);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fa, 0, 0, 0), ==, 0);
}

struct lock_waiter {
    struct fx *f;
    uint64_t id, fh, owner;
    struct pt_lock lk;
    unsigned flags;
    pthread_t thread;
    int result;               /* atomic; 1 while waiting */
};

static void *lock_waiter_thread(void *arg)
{
    struct lock_waiter *w = arg;
    int r = pt_setlk(w->f->fs, &root_ctx, w->id, w->fh, w->owner, &w->lk, w->flags);
    __atomic_store_n(&w->result, r, __ATOMIC_RELEASE);
    return NULL;
}

static void noop_handler(int sig)
{
}

/* Waits up to ms for the waiter to return; its result, or 1. */
static int waiter_result(struct lock_waiter *w, int ms)
{
    for (int i = 0; i < ms && __atomic_load_n(&w->result, __ATOMIC_ACQUIRE) == 1; i++)
        g_usleep(1000);
    return __atomic_load_n(&w->result, __ATOMIC_ACQUIRE);
}

static void test_lock_wait(struct fx *f, gconstpointer data)
{
    uint64_t fa, fb;
    uint32_t oflags;
    struct sigaction sa = { .sa_handler = noop_handler }, old;
    sigemptyset(&sa.sa_mask);
    g_assert_cmpint(sigaction(SIGURG, &sa, &old), ==, 0);

    host_write(f, "f", "x");
    uint64_t id = lookup_ok(f, PT_ROOT_ID, "f");
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDWR, &fa, &oflags), ==, 0);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, id, O_RDWR, &fb, &oflags), ==, 0);
    struct pt_lock l = plk(F_WRLCK, 0, PT_LOCK_EOF, 100);
    g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, OWNER_A, &l, 0), ==, 0);

    for (unsigned flock_mode = 0; flock_mode < 2; flock_mode++) {
        if (flock_mode)
            g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, fa, &l, PT_LOCK_FLOCK), ==, 0);
        /* a signal to the waiting thread ends its wait with EINTR */
        struct lock_waiter w = {
            .f = f, .id = id, .fh = fb, .owner = flock_mode ? fb : OWNER_B,
            .lk = plk(F_RDLCK, 0, PT_LOCK_EOF, 200), .result = 1,
            .flags = PT_LOCK_WAIT | (flock_mode ? PT_LOCK_FLOCK : 0),
        };
        g_assert_cmpint(pthread_create(&w.thread, NULL, lock_waiter_thread, &w), ==, 0);
        g_assert_cmpint(waiter_result(&w, 100), ==, 1);
        while (waiter_result(&w, 5) == 1)
            pthread_kill(w.thread, SIGURG);
        pthread_join(w.thread, NULL);
        g_assert_cmpint(w.result, ==, -EINTR);

        /* unlocking grants the next one */
        w.result = 1;
        g_assert_cmpint(pthread_create(&w.thread, NULL, lock_waiter_thread, &w), ==, 0);
        g_assert_cmpint(waiter_result(&w, 100), ==, 1);
        struct pt_lock un = plk(F_UNLCK, 0, PT_LOCK_EOF, 100);
        g_assert_cmpint(pt_setlk(f->fs, &root_ctx, id, fa, flock_mode ? fa : OWNER_A, &un,
                                 flock_mode ? PT_LOCK_FLOCK : 0), ==, 0);
        g_assert_cmpint(waiter_result(&w, 5000), ==, 0);
        pthread_join(w.thread, NULL);
        if (!flock_mode) {
            g_assert_cmpint(host_lock_type(f, "f", F_WRLCK, 0, 0), ==, F_RDLCK);
            struct pt_lock q = plk(F_WRLCK, 0, 0, 100), out;
            g_assert_cmpint(pt_getlk(f->fs, &root_ctx, id, fa, OWNER_A, &q, &out), ==, 0);
            g_assert_cmpuint(out.pid, ==, 200);
            g_assert_cmpint(pt_flush(f->fs, &root_ctx, id, fb, OWNER_B), ==, 0);
        }
    }
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fa, 0, 0, 0), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, id, fb, 0, 0, 0), ==, 0);
    sigaction(SIGURG, &old, NULL);
}

/* ---- TMPFILE and MKNOD ------------------------------------------------- */

static void test_tmpfile(struct fx *f, gconstpointer data)
{
    struct pt_entry e, le;
    uint64_t fh;
    uint32_t oflags;
    struct stat st;

    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");
    g_assert_cmpint(pt_tmpfile(f->fs, &root_ctx, d, S_IFREG | 0640, O_RDWR, 0, &e, &fh,
                               &oflags), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, 0);
    g_assert_true(S_ISREG(e.attr.st.st_mode));
    g_assert_cmpuint(e.attr.st.st_mode & 07777, ==, 0640);
    g_assert_cmpuint(e.attr.st.st_nlink, ==, 0);
    g_assert_cmpuint(oflags, ==, 0); /* cache=auto, as CREATE */
    /* nothing shows in the directory */
    g_autofree char *dpath = g_strdup_printf("%s/d", f->dir);
    GDir *dir = g_dir_open(dpath, 0, NULL);
    g_assert_nonnull(dir);
    g_assert_null(g_dir_read_name(dir));
    g_dir_close(dir);

    char buf[16] = "unnamed data";
    struct iovec v = { buf, 12 };
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &v, 1, 0), ==, 12);
    /* LINK gives it a name, as linkat(fd, "", ..., AT_EMPTY_PATH) in the guest */
    g_assert_cmpint(pt_link(f->fs, &root_ctx, e.nodeid, d, "named", &le), ==, 0);
    g_assert_cmpuint(le.nodeid, ==, e.nodeid);
    g_assert_cmpuint(le.attr.st.st_nlink, ==, 1);
    host_stat(f, "d/named", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 0640);
    g_assert_cmpint(st.st_size, ==, 12);
    g_assert_cmpuint(st.st_ino, ==, e.attr.st.st_ino);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    pt_forget(f->fs, e.nodeid, 2);

    /* O_EXCL: never linkable, as on the host */
    g_assert_cmpint(pt_tmpfile(f->fs, &root_ctx, d, 0600, O_WRONLY | O_EXCL, 0, &e, &fh,
                               &oflags), ==, 0);
    g_assert_cmpint(pt_link(f->fs, &root_ctx, e.nodeid, d, "never", &le), ==, -ENOENT);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    pt_forget(f->fs, e.nodeid, 1);

    /* errors */
    g_assert_cmpint(pt_tmpfile(f->fs, &root_ctx, d, 0600, O_RDONLY, 0, &e, &fh, &oflags),
                    ==, -EINVAL);
    host_write(f, "file", "x");
    uint64_t file = lookup_ok(f, PT_ROOT_ID, "file");
    g_assert_cmpint(pt_tmpfile(f->fs, &root_ctx, file, 0600, O_RDWR, 0, &e, &fh, &oflags),
                    ==, -ENOTDIR);
    g_assert_cmpint(pt_tmpfile(f->fs, &root_ctx, 4242, 0600, O_RDWR, 0, &e, &fh, &oflags),
                    ==, -EBADF);
    pt_forget(f->fs, file, 1);
    pt_forget(f->fs, d, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_assert_cmpuint(counts_handles(f), ==, 0);

    /* as a guest user: the file is theirs */
    if (geteuid() == 0) {
        g_assert_cmpint(fchmodat(f->dfd, ".", 0777, 0), ==, 0);
        struct pt_ctx user = { .uid = 4321, .gid = 8765, .pid = 7 };
        g_assert_cmpint(pt_tmpfile(f->fs, &user, PT_ROOT_ID, 0600, O_RDWR, 0, &e, &fh,
                                   &oflags), ==, 0);
        g_assert_cmpuint(e.attr.st.st_uid, ==, 4321);
        g_assert_cmpuint(e.attr.st.st_gid, ==, 8765);
        g_assert_cmpint(pt_link(f->fs, &root_ctx, e.nodeid, PT_ROOT_ID, "theirs", &le), ==, 0);
        host_stat(f, "theirs", &st);
        g_assert_cmpuint(st.st_uid, ==, 4321);
        g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
        pt_forget(f->fs, e.nodeid, 2);
    }

    f->cfg.readonly = true;
    fx_reopen(f);
    g_assert_cmpint(pt_tmpfile(f->fs, &root_ctx, PT_ROOT_ID, 0600, O_RDWR, 0, &e, &fh, &oflags),
                    ==, -EROFS);
}

static void test_mknod_kinds(struct fx *f, gconstpointer data)
{
    struct pt_entry e;
    struct stat st;

    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "fifo", S_IFIFO | 0620, 0, 0, &e),
                    ==, 0);
    host_stat(f, "fifo", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFIFO | 0620);
    g_assert_true(S_ISFIFO(e.attr.st.st_mode));
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "sock", S_IFSOCK | 0755, 0, 0, &e),
                    ==, 0);
    host_stat(f, "sock", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFSOCK | 0755);
    g_assert_true(S_ISSOCK(e.attr.st.st_mode));
    if (geteuid() != 0) {
        g_test_skip("device nodes need root");
        return;
    }
    /* rdev as the guest encodes it (new_encode_dev): minors above 255 too */
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "chr", S_IFCHR | 0600,
                             (uint32_t)makedev(1, 3), 0, &e), ==, 0);
    host_stat(f, "chr", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFCHR | 0600);
    g_assert_cmpuint(major(st.st_rdev), ==, 1);
    g_assert_cmpuint(minor(st.st_rdev), ==, 3);
    g_assert_cmpuint(e.attr.st.st_rdev, ==, st.st_rdev);
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, PT_ROOT_ID, "blk", S_IFBLK | 0660,
                             (uint32_t)makedev(259, 300), 0, &e), ==, 0);
    host_stat(f, "blk", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFBLK | 0660);
    g_assert_cmpuint(major(st.st_rdev), ==, 259);
    g_assert_cmpuint(minor(st.st_rdev), ==, 300);
    /* a guest user other than root may not (the host says so, as the guest would) */
    struct pt_ctx user = { .uid = 1000, .gid = 1000, .pid = 7 };
    g_assert_cmpint(fchmodat(f->dfd, ".", 0777, 0), ==, 0);
    g_assert_cmpint(pt_mknod(f->fs, &user, PT_ROOT_ID, "chr2", S_IFCHR | 0600,
                             (uint32_t)makedev(1, 3), 0, &e), ==, -EPERM);
    g_assert_cmpint(pt_mknod(f->fs, &user, PT_ROOT_ID, "fifo2", S_IFIFO | 0600, 0, 0, &e), ==, 0);
    host_stat(f, "fifo2", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
}

/* ---- a directory that changes while it is read -------------------------- */

/* One READDIR call's entries, so a test can take back those a guest would
 * not have consumed. */
struct call_log {
    struct listing *l;
    GPtrArray *names;         /* accepted in this call, in order */
    GArray *offs;             /* their next_off */
};

static int log_cb(void *cookie, const struct pt_dirent *d)
{
    struct call_log *c = cookie;
    int r = list_cb(c->l, d);
    if (r) {
        g_ptr_array_add(c->names, g_strndup(d->name, d->namelen));
        g_array_append_val(c->offs, d->next_off);
    }
    return r;
}

static void test_readdir_changing(struct fx *f, gconstpointer data)
{
    bool plus = GPOINTER_TO_INT(data);
    char name[32];
    uint64_t fh;
    uint32_t oflags;

    g_assert_cmpint(mkdirat(f->dfd, "d", 0755), ==, 0);
    int dfd = openat(f->dfd, "d", O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);
    /* "keep-N" stay all along, "gone-N" are removed while the listing runs */
    for (int i = 0; i < 3000; i++) {
        snprintf(name, sizeof(name), i % 2 ? "gone-%d" : "keep-%d", i);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
    }
    uint64_t d = lookup_ok(f, PT_ROOT_ID, "d");
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, d, 0, &fh, &oflags), ==, 0);
    struct listing l = {
        .f = f, .plus = plus,
        .seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .nodeids = g_array_new(FALSE, FALSE, sizeof(uint64_t)),
    };
    GRand *rnd = g_rand_new_with_seed(11);
    uint64_t off = 0;
    int added = 0, removed = 0, calls = 0;
    for (;; calls++) {
        g_assert_cmpint(calls, <, 10000);
        l.budget = (unsigned)g_rand_int_range(rnd, 1, 60);
        unsigned before = g_hash_table_size(l.seen);
        struct call_log c = {
            .l = &l, .names = g_ptr_array_new_with_free_func(g_free),
            .offs = g_array_new(FALSE, FALSE, sizeof(uint64_t)),
        };
        g_assert_cmpint(pt_readdir(f->fs, &root_ctx, d, fh, off, plus, log_cb, &c), ==, 0);
        bool end = g_hash_table_size(l.seen) == before && l.budget > 0;
        /* Sometimes the application took only part of what came back (its
         * buffer was full): the guest asks again from the last entry it
         * consumed, and the rest is as if never read. */
        guint consumed = c.names->len;
        if (consumed && g_rand_int_range(rnd, 0, 4) == 0)
            consumed = (guint)g_rand_int_range(rnd, 0, (gint32)c.names->len);
        for (guint i = consumed; i < c.names->len; i++) {
            const char *nm = g_ptr_array_index(c.names, i);
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(l.seen, nm));
            if (n > 1)
                g_hash_table_insert(l.seen, g_strdup(nm), GUINT_TO_POINTER(n - 1));
            else
                g_hash_table_remove(l.seen, nm);
        }
        if (consumed)
            off = g_array_index(c.offs, uint64_t, consumed - 1);
        g_ptr_array_free(c.names, TRUE);
        g_array_free(c.offs, TRUE);
        if (end)
            break;
        /* between calls: add some, remove some not seen yet */
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof(name), "new-%d", added++);
            int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            g_assert_cmpint(fd, >=, 0);
            close(fd);
        }
        for (int k = 0; k < 40 && removed < 1500; k++) {
            snprintf(name, sizeof(name), "gone-%d", 2 * (removed++) + 1);
            unlinkat(dfd, name, 0);
        }
    }
    g_test_message("%d calls, %d added, %d removed", calls, added, removed);
    /* every name at most once */
    GHashTableIter it;
    gpointer k, v;
    unsigned kept = 0, gone = 0;
    g_hash_table_iter_init(&it, l.seen);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_assert_cmpuint(GPOINTER_TO_UINT(v), ==, 1);
        kept += g_str_has_prefix(k, "keep-");
        gone += g_str_has_prefix(k, "gone-");
    }
    /* what stayed all along is there, each once */
    g_assert_cmpuint(kept, ==, 1500);
    g_assert_true(g_hash_table_contains(l.seen, "."));
    g_assert_true(g_hash_table_contains(l.seen, ".."));
    g_assert_cmpuint(gone, <, 1500);
    if (plus)
        for (guint i = 0; i < l.nodeids->len; i++)
            pt_forget(f->fs, g_array_index(l.nodeids, uint64_t, i), 1);
    g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, d, fh), ==, 0);
    pt_forget(f->fs, d, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
    g_hash_table_destroy(l.seen);
    g_array_free(l.nodeids, TRUE);
    g_rand_free(rnd);
    close(dfd);
}

/* With file handles an inode the guest still knows is not pinned: when the
 * host removes it and gives its number to a new inode, a lookup of the new
 * one must not answer with the old nodeid. */
static void test_handles_inode_number_reused(struct fx *f, gconstpointer data)
{
    f->cfg.inode_handles = PT_HANDLES_MANDATORY;
    pt_fs_free(f->fs);
    if (pt_fs_new(&f->cfg, &f->fs) < 0) {
        f->cfg.inode_handles = PT_HANDLES_NEVER;
        fx_open(f);
        g_test_skip("the temporary directory's filesystem has no file handles");
        return;
    }
    struct pt_init_caps caps = { 0 };
    pt_init(f->fs, &caps);

    struct pt_entry old, e;
    struct stat st;
    g_assert_cmpint(mkdirat(f->dfd, "gone", 0755), ==, 0);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "gone", &old), ==, 0);
    g_assert_cmpint(unlinkat(f->dfd, "gone", AT_REMOVEDIR), ==, 0);

    /* The number comes back soon on most filesystems; try for a while. */
    char name[32];
    bool reused = false;
    for (unsigned i = 0; i < 5000 && !reused; i++) {
        snprintf(name, sizeof(name), "new%u", i);
        int fd = openat(f->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fstat(fd, &st), ==, 0);
        close(fd);
        reused = st.st_ino == old.attr.st.st_ino;
        if (!reused)
            g_assert_cmpint(unlinkat(f->dfd, name, 0), ==, 0);
    }
    if (!reused) {
        pt_forget(f->fs, old.nodeid, 1);
        g_test_skip("the filesystem did not reuse the inode number");
        return;
    }
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, name, &e), ==, 0);
    g_assert_cmpuint(e.nodeid, !=, old.nodeid);
    g_assert_true(S_ISREG(e.attr.st.st_mode));
    /* and the new nodeid is found again, the old one stays stale */
    struct pt_entry again;
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, name, &again), ==, 0);
    g_assert_cmpuint(again.nodeid, ==, e.nodeid);
    struct pt_attr a;
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, old.nodeid, false, 0, &a), ==, -EBADF);
    pt_forget(f->fs, e.nodeid, 2);
    pt_forget(f->fs, old.nodeid, 1);
    g_assert_cmpuint(counts_inodes(f), ==, 1);
}

#define ADD(name, fn) \
    g_test_add("/passthrough/" name, struct fx, NULL, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/passthrough/new-errors", test_new_errors);
    ADD("lookup-forget", test_lookup_forget);
    ADD("dot-dotdot", test_dot_dotdot);
    ADD("hard-links", test_hard_links);
    ADD("symlinks-not-followed", test_symlinks_not_followed);
    ADD("create-ownership", test_create_ownership);
    ADD("create-umask", test_create_umask);
    ADD("create-entry-is-the-open-file", test_create_entry_is_the_open_file);
    ADD("handles-inode-number-reused", test_handles_inode_number_reused);
    ADD("creds-restored", test_creds_are_per_thread);
    ADD("setattr", test_setattr);
    ADD("access", test_access);
    ADD("rename", test_rename);
    ADD("unlink-rmdir", test_unlink_rmdir);
    g_test_add("/passthrough/readdir-10000", struct fx, GINT_TO_POINTER(0),
               fx_setup, test_readdir_many, fx_teardown);
    g_test_add("/passthrough/readdirplus-10000", struct fx, GINT_TO_POINTER(1),
               fx_setup, test_readdir_many, fx_teardown);
    ADD("readdir-misc", test_readdir_misc);
    ADD("read-write", test_read_write);
    ADD("file-get-across-release", test_file_get_across_release);
    ADD("file-ops", test_file_ops);
    ADD("cache-modes", test_cache_modes);
    ADD("open-flags", test_open_flags);
    ADD("open-types", test_open_types);
    ADD("link-without-cap", test_link_without_cap);
    ADD("xattr", test_xattr);
    ADD("xattr-hidden", test_xattr_hidden);
    ADD("readonly", test_readonly);
    ADD("destroy", test_destroy);
    ADD("fd-exhaustion", test_fd_exhaustion);
    ADD("lookup-known", test_lookup_known);
    ADD("submounts", test_submounts);
    ADD("concurrency", test_concurrency);
    ADD("release-races-read", test_release_races_read);
    ADD("concurrent-lookup-readdirplus", test_concurrent_lookup_readdirplus);
    ADD("locks", test_locks);
    ADD("flock", test_flock);
    ADD("lock-wait", test_lock_wait);
    ADD("tmpfile", test_tmpfile);
    ADD("mknod-kinds", test_mknod_kinds);
    g_test_add("/passthrough/readdir-changing", struct fx, GINT_TO_POINTER(0),
               fx_setup, test_readdir_changing, fx_teardown);
    g_test_add("/passthrough/readdirplus-changing", struct fx, GINT_TO_POINTER(1),
               fx_setup, test_readdir_changing, fx_teardown);

    return g_test_run();
}

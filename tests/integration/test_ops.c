/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One case per FUSE operation, driven over the vhost-user socket against a
 * fresh shared directory and checked on the host with plain syscalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/fixture.h"

#define ROOT FUSE_ROOT_ID

static void host_stat(struct fx *f, const char *name, struct stat *st)
{
    g_assert_cmpint(fstatat(f->share_fd, name, st, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static bool host_exists(struct fx *f, const char *name)
{
    struct stat st;
    return fstatat(f->share_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void assert_attr_matches(const struct fuse_attr *a, const struct stat *st)
{
    g_assert_cmpuint(a->ino, ==, st->st_ino);
    g_assert_cmpuint(a->mode, ==, st->st_mode);
    g_assert_cmpuint(a->nlink, ==, st->st_nlink);
    g_assert_cmpuint(a->uid, ==, st->st_uid);
    g_assert_cmpuint(a->gid, ==, st->st_gid);
    g_assert_cmpuint(a->size, ==, (uint64_t)st->st_size);
}

static char *host_read(struct fx *f, const char *name, size_t *len)
{
    g_autofree char *p = fx_path(f, name);
    char *data = NULL;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_file_get_contents(p, &data, len, &err));
    return data;
}

/* Mode the daemon should create with: with FUSE_DONT_MASK negotiated the
 * request carries the full mode plus the umask and the daemon applies it;
 * without, the guest kernel has masked the mode already. */
static uint32_t mode_to_send(struct fx *f, uint32_t mode, uint32_t umask)
{
    return (f->dev->fuse.init.flags & FUSE_DONT_MASK) ? mode : (mode & ~umask);
}

static uint64_t create_file(struct fx *f, uint64_t parent, const char *name, uint32_t flags,
                            uint64_t *fh)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    g_assert_cmpint(tc_fuse_create(f->dev, parent, name, flags | O_CREAT, 0644, 0, &e, &o), ==, 0);
    if (fh)
        *fh = o.fh;
    return e.nodeid;
}

/* --- INIT / DESTROY ------------------------------------------------------ */

static const struct fx_variant no_init = { .no_init = true };

static void test_init(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;
    struct fuse_init_out o;

    /* nothing but INIT before INIT */
    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, -EIO);

    g_assert_cmpint(tc_fuse_init_session(f->dev, TC_FUSE_INIT_FLAGS, &o), ==, 0);
    g_assert_cmpuint(o.major, ==, FUSE_KERNEL_VERSION);
    g_assert_cmpuint(o.minor, >=, 31);
    g_assert_cmpuint(o.minor, <=, FUSE_KERNEL_MINOR_VERSION);
    g_assert_cmpuint(o.max_write, >=, 4096);
    /* a server may only accept what was offered */
    g_assert_cmpuint(o.flags & ~(uint32_t)(TC_FUSE_INIT_FLAGS | FUSE_INIT_EXT), ==, 0);
    if (o.flags & FUSE_INIT_EXT)
        g_assert_cmpuint(o.flags2 & ~(uint32_t)(TC_FUSE_INIT_FLAGS >> 32), ==, 0);
    if (o.flags & FUSE_MAX_PAGES)
        g_assert_cmpuint(o.max_pages, >=, 1);

    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
    g_assert_true(S_ISDIR(a.attr.mode));
}

static void test_destroy(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;

    fx_write_file(f, "f", "x", 1, 0644);
    g_assert_cmpint(tc_fuse_destroy(f->dev), ==, 0);
    /* an unmount and a new mount on the same device: INIT again */
    int r = tc_fuse_init_session(f->dev, TC_FUSE_INIT_FLAGS, NULL);
    if (QEMU_BUG(r == -EIO, "refuses a second FUSE_INIT after FUSE_DESTROY"))
        return;
    g_assert_cmpint(r, ==, 0);
    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, "f", &e), ==, 0);
}

/* --- names --------------------------------------------------------------- */

static void test_lookup(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e, e2;
    struct stat st;

    fx_write_file(f, "file", "hello", 5, 0640);
    g_assert_cmpint(mkdirat(f->share_fd, "dir", 0755), ==, 0);
    fx_write_file(f, "dir/inner", "", 0, 0600);

    uint64_t file = fx_lookup(f, ROOT, "file", &e);
    host_stat(f, "file", &st);
    assert_attr_matches(&e.attr, &st);
    g_assert_cmpuint(e.attr.mode, ==, S_IFREG | 0640);

    /* the same inode keeps its nodeid */
    g_assert_cmpuint(fx_lookup(f, ROOT, "file", &e2), ==, file);

    uint64_t dir = fx_lookup(f, ROOT, "dir", &e);
    g_assert_true(S_ISDIR(e.attr.mode));
    fx_lookup(f, dir, "inner", &e);
    host_stat(f, "dir/inner", &st);
    assert_attr_matches(&e.attr, &st);

    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, "missing", &e), ==, -ENOENT);
    g_assert_cmpint(tc_fuse_lookup(f->dev, file, "x", &e), ==, -ENOTDIR);
    char longname[300];
    memset(longname, 'a', 256);
    longname[256] = '\0';
    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, longname, &e), ==, -ENAMETOOLONG);
}

static void test_forget(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;

    fx_write_file(f, "f", "x", 1, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpuint(fx_lookup(f, ROOT, "f", NULL), ==, n);

    /* one of two lookups forgotten: still valid */
    g_assert_cmpint(tc_fuse_forget(f->dev, n, 1), ==, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    /* all forgotten: the nodeid is dead */
    g_assert_cmpint(tc_fuse_forget(f->dev, n, 1), ==, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), <, 0);
    /* and a new lookup brings the inode back */
    uint64_t again = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_getattr(f->dev, again, 0, 0, &a), ==, 0);
}

static void test_batch_forget(struct fx *f, gconstpointer data)
{
    struct fuse_forget_one items[3];
    struct fuse_attr_out a;
    const char *names[] = { "a", "b", "c" };

    for (unsigned i = 0; i < 3; i++) {
        fx_write_file(f, names[i], "x", 1, 0644);
        items[i].nodeid = fx_lookup(f, ROOT, names[i], NULL);
        items[i].nlookup = 1;
    }
    /* "c" looked up twice: it survives a forget of one */
    fx_lookup(f, ROOT, "c", NULL);
    g_assert_cmpint(tc_fuse_batch_forget(f->dev, items, 3), ==, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, items[0].nodeid, 0, 0, &a), <, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, items[1].nodeid, 0, 0, &a), <, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, items[2].nodeid, 0, 0, &a), ==, 0);
    fx_lookup(f, ROOT, "a", NULL);
}

/* --- attributes ---------------------------------------------------------- */

static void test_getattr(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;
    struct fuse_open_out o;
    struct stat st;

    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
    g_assert_cmpint(fstat(f->share_fd, &st), ==, 0);
    assert_attr_matches(&a.attr, &st);

    fx_write_file(f, "f", "abc", 3, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    /* changed behind the daemon's back: getattr sees it */
    fx_write_file(f, "f", "abcdefgh", 8, 0600);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    host_stat(f, "f", &st);
    assert_attr_matches(&a.attr, &st);
    g_assert_cmpuint(a.attr.size, ==, 8);
    g_assert_cmpuint(a.attr.mtime, ==, (uint64_t)st.st_mtim.tv_sec);
    g_assert_cmpuint(a.attr.mtimensec, ==, (uint32_t)st.st_mtim.tv_nsec);

    /* through a handle */
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, FUSE_GETATTR_FH, o.fh, &a), ==, 0);
    assert_attr_matches(&a.attr, &st);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);

    /* a nodeid the daemon never handed out */
    g_assert_cmpint(tc_fuse_getattr(f->dev, 0xdead0000beefull, 0, 0, &a), <, 0);
}

static uint64_t setattr_file(struct fx *f, const char *name)
{
    fx_write_file(f, name, "0123456789", 10, 0644);
    return fx_lookup(f, ROOT, name, NULL);
}

static void test_setattr_mode(struct fx *f, gconstpointer data)
{
    uint64_t n = setattr_file(f, "f");
    struct fuse_setattr_in in = { .valid = FATTR_MODE, .mode = 0600 };
    struct fuse_attr_out a;
    struct stat st;

    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 0600);
    assert_attr_matches(&a.attr, &st);

    in.mode = 04751;
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 04751);
}

static void test_setattr_owner(struct fx *f, gconstpointer data)
{
    uint64_t n = setattr_file(f, "f");
    struct fuse_setattr_in in = { .valid = FATTR_UID | FATTR_GID, .uid = 1234, .gid = 5678 };
    struct fuse_attr_out a;
    struct stat st;

    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_uid, ==, 1234);
    g_assert_cmpuint(st.st_gid, ==, 5678);
    assert_attr_matches(&a.attr, &st);

    in = (struct fuse_setattr_in){ .valid = FATTR_UID, .uid = 42 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_uid, ==, 42);
    g_assert_cmpuint(st.st_gid, ==, 5678);
}

static void test_setattr_size(struct fx *f, gconstpointer data)
{
    uint64_t n = setattr_file(f, "f");
    struct fuse_setattr_in in = { .valid = FATTR_SIZE, .size = 3 };
    struct fuse_attr_out a;
    struct stat st;
    size_t len;

    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    g_autofree char *d = host_read(f, "f", &len);
    g_assert_cmpmem(d, len, "012", 3);
    g_assert_cmpuint(a.attr.size, ==, 3);

    in.size = 1 << 20;
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 1 << 20);
    assert_attr_matches(&a.attr, &st);
}

static void test_setattr_times(struct fx *f, gconstpointer data)
{
    uint64_t n = setattr_file(f, "f");
    struct fuse_setattr_in in = {
        .valid = FATTR_ATIME | FATTR_MTIME,
        .atime = 1000000000, .atimensec = 123456789,
        .mtime = 1200000000, .mtimensec = 987654321,
    };
    struct fuse_attr_out a;
    struct stat st;

    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, ==, 1000000000);
    g_assert_cmpint(st.st_atim.tv_nsec, ==, 123456789);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 1200000000);
    g_assert_cmpint(st.st_mtim.tv_nsec, ==, 987654321);
    g_assert_cmpuint(a.attr.mtime, ==, 1200000000);
    g_assert_cmpuint(a.attr.mtimensec, ==, 987654321);

    /* only mtime: atime stays */
    in = (struct fuse_setattr_in){ .valid = FATTR_MTIME, .mtime = 1300000000 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, ==, 1000000000);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 1300000000);
}

static void test_setattr_times_now(struct fx *f, gconstpointer data)
{
    uint64_t n = setattr_file(f, "f");
    struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
    struct fuse_attr_out a;
    struct stat st;

    g_assert_cmpint(utimensat(f->share_fd, "f", old, 0), ==, 0);
    time_t before = time(NULL);

    struct fuse_setattr_in in = { .valid = FATTR_ATIME | FATTR_ATIME_NOW };
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, >=, before - 1);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 1000);

    g_assert_cmpint(utimensat(f->share_fd, "f", old, 0), ==, 0);
    in.valid = FATTR_MTIME | FATTR_MTIME_NOW;
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, ==, 1000);
    g_assert_cmpint(st.st_mtim.tv_sec, >=, before - 1);

    g_assert_cmpint(utimensat(f->share_fd, "f", old, 0), ==, 0);
    in.valid = FATTR_ATIME | FATTR_ATIME_NOW | FATTR_MTIME | FATTR_MTIME_NOW;
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_atim.tv_sec, >=, before - 1);
    g_assert_cmpint(st.st_mtim.tv_sec, >=, before - 1);
    g_assert_cmpuint(a.attr.mtime, ==, (uint64_t)st.st_mtim.tv_sec);
}

static void test_setattr_fh(struct fx *f, gconstpointer data)
{
    uint64_t n = setattr_file(f, "f");
    struct fuse_open_out o;
    struct fuse_attr_out a;
    struct stat st;

    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDWR, &o), ==, 0);
    /* read-only on the host: truncating through the open handle still works */
    g_assert_cmpint(fchmodat(f->share_fd, "f", 0444, 0), ==, 0);
    struct fuse_setattr_in in = { .valid = FATTR_SIZE | FATTR_FH, .fh = o.fh, .size = 4 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 4);
    g_assert_cmpuint(a.attr.size, ==, 4);

    in = (struct fuse_setattr_in){ .valid = FATTR_MODE | FATTR_FH, .fh = o.fh, .mode = 0640 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 0640);

    in = (struct fuse_setattr_in){ .valid = FATTR_MTIME | FATTR_FH, .fh = o.fh, .mtime = 12345 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, n, &in, &a), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_mtim.tv_sec, ==, 12345);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDWR), ==, 0);
}

/* --- creating and removing ----------------------------------------------- */

static void test_mkdir(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct stat st;

    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "d", 0750, 0, &e), ==, 0);
    host_stat(f, "d", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFDIR | 0750);
    assert_attr_matches(&e.attr, &st);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "d", 0750, 0, &e), ==, -EEXIST);

    g_assert_cmpint(tc_fuse_mkdir(f->dev, e.nodeid, "sub", mode_to_send(f, 0777, 022), 022, &e), ==, 0);
    host_stat(f, "d/sub", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFDIR | 0755);
}

static void test_mknod(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct stat st;

    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "fifo", S_IFIFO | 0640, 0, 0, &e), ==, 0);
    host_stat(f, "fifo", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFIFO | 0640);
    assert_attr_matches(&e.attr, &st);

    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "reg", S_IFREG | 0600, 0, 0, &e), ==, 0);
    host_stat(f, "reg", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 0600);
    g_assert_cmpint(st.st_size, ==, 0);

    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "null", S_IFCHR | 0666, makedev(1, 3), 0, &e), ==, 0);
    host_stat(f, "null", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFCHR | 0666);
    g_assert_cmpuint(st.st_rdev, ==, makedev(1, 3));
    g_assert_cmpuint(e.attr.rdev, ==, makedev(1, 3));

    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "fifo", S_IFIFO | 0640, 0, 0, &e), ==, -EEXIST);

    /* a unix socket's node (what bind() in the guest creates) */
    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "sock", S_IFSOCK | 0755, 0, 0, &e), ==, 0);
    host_stat(f, "sock", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFSOCK | 0755);
    assert_attr_matches(&e.attr, &st);
    /* a block device with a minor above 255, rdev as the guest encodes it */
    g_assert_cmpint(tc_fuse_mknod(f->dev, ROOT, "blk", S_IFBLK | 0660, makedev(259, 300), 0, &e),
                    ==, 0);
    host_stat(f, "blk", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFBLK | 0660);
    g_assert_cmpuint(major(st.st_rdev), ==, 259);
    g_assert_cmpuint(minor(st.st_rdev), ==, 300);
    g_assert_cmpuint(e.attr.rdev, ==, makedev(259, 300));
}

static void test_symlink(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct stat st;
    char buf[64];

    g_assert_cmpint(tc_fuse_symlink(f->dev, ROOT, "l", "target/x", &e), ==, 0);
    g_assert_cmpint(readlinkat(f->share_fd, "l", buf, sizeof(buf)), ==, 8);
    g_assert_cmpmem(buf, 8, "target/x", 8);
    host_stat(f, "l", &st);
    g_assert_true(S_ISLNK(st.st_mode));
    assert_attr_matches(&e.attr, &st);
    g_assert_cmpint(tc_fuse_symlink(f->dev, ROOT, "l", "other", &e), ==, -EEXIST);
}

static void test_readlink(struct fx *f, gconstpointer data)
{
    char buf[PATH_MAX];

    g_assert_cmpint(symlinkat("some/where/else", f->share_fd, "l"), ==, 0);
    uint64_t n = fx_lookup(f, ROOT, "l", NULL);
    g_assert_cmpint(tc_fuse_readlink(f->dev, n, buf, sizeof(buf)), ==, 15);
    g_assert_cmpstr(buf, ==, "some/where/else");

    /* a guest never asks this (it knows the type); any error will do,
     * readlink(2) would say EINVAL, readlinkat(fd, "") says ENOENT */
    fx_write_file(f, "f", "", 0, 0644);
    uint64_t file = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_readlink(f->dev, file, buf, sizeof(buf)), <, 0);
}

/*
 * A guest kernel looks a name up before it removes or renames it, so the
 * main checks do that too. The daemon must not depend on it, though: the
 * name is what the request carries, and a missing one is ENOENT.
 */
#define QEMU_NEEDS_LOOKUP(r) \
    QEMU_BUG((r) == -EIO, "UNLINK/RMDIR/RENAME on a name it has not looked up fail with EIO")

static void test_unlink(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;

    fx_write_file(f, "f", "x", 1, 0644);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    fx_lookup(f, ROOT, "d", NULL);

    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "f"), ==, 0);
    g_assert_false(host_exists(f, "f"));
    if (FX_HANDLES()) {
        /* a handle does not keep the host inode: gone once unlinked, unless
         * open somewhere (a guest unlinking a file drops its dentry anyway) */
        g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), <, 0);
    } else {
        /* the inode lives on while the guest holds it */
        g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
        g_assert_cmpuint(a.attr.nlink, ==, 0);
    }
    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "d"), ==, -EISDIR);
    g_assert_true(host_exists(f, "d"));

    fx_write_file(f, "g", "x", 1, 0644);
    int r = tc_fuse_unlink(f->dev, ROOT, "g");
    if (QEMU_NEEDS_LOOKUP(r))
        return;
    g_assert_cmpint(r, ==, 0);
    g_assert_false(host_exists(f, "g"));
    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "g"), ==, -ENOENT);
}

static void test_rmdir(struct fx *f, gconstpointer data)
{
    g_assert_cmpint(mkdirat(f->share_fd, "empty", 0755), ==, 0);
    g_assert_cmpint(mkdirat(f->share_fd, "full", 0755), ==, 0);
    fx_write_file(f, "full/x", "", 0, 0644);
    fx_write_file(f, "f", "", 0, 0644);
    fx_lookup(f, ROOT, "empty", NULL);
    fx_lookup(f, ROOT, "full", NULL);
    fx_lookup(f, ROOT, "f", NULL);

    g_assert_cmpint(tc_fuse_rmdir(f->dev, ROOT, "empty"), ==, 0);
    g_assert_false(host_exists(f, "empty"));
    g_assert_cmpint(tc_fuse_rmdir(f->dev, ROOT, "full"), ==, -ENOTEMPTY);
    g_assert_true(host_exists(f, "full/x"));
    g_assert_cmpint(tc_fuse_rmdir(f->dev, ROOT, "f"), ==, -ENOTDIR);

    g_assert_cmpint(mkdirat(f->share_fd, "other", 0755), ==, 0);
    int r = tc_fuse_rmdir(f->dev, ROOT, "other");
    if (QEMU_NEEDS_LOOKUP(r))
        return;
    g_assert_cmpint(r, ==, 0);
    g_assert_false(host_exists(f, "other"));
    g_assert_cmpint(tc_fuse_rmdir(f->dev, ROOT, "other"), ==, -ENOENT);
}

static void test_rename(struct fx *f, gconstpointer data)
{
    size_t len;

    fx_write_file(f, "a", "A", 1, 0644);
    fx_write_file(f, "b", "B", 1, 0644);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    uint64_t a = fx_lookup(f, ROOT, "a", NULL);
    fx_lookup(f, ROOT, "b", NULL);

    g_assert_cmpint(tc_fuse_rename(f->dev, ROOT, "a", d, "a2"), ==, 0);
    g_assert_false(host_exists(f, "a"));
    g_autofree char *c = host_read(f, "d/a2", &len);
    g_assert_cmpmem(c, len, "A", 1);
    /* the nodeid follows the inode to its new name */
    g_assert_cmpuint(fx_lookup(f, d, "a2", NULL), ==, a);

    /* plain rename replaces */
    g_assert_cmpint(tc_fuse_rename(f->dev, d, "a2", ROOT, "b"), ==, 0);
    g_autofree char *c2 = host_read(f, "b", &len);
    g_assert_cmpmem(c2, len, "A", 1);

    fx_write_file(f, "c", "C", 1, 0644);
    int r = tc_fuse_rename(f->dev, ROOT, "c", ROOT, "c2");
    if (QEMU_NEEDS_LOOKUP(r))
        return;
    g_assert_cmpint(r, ==, 0);
    g_assert_true(host_exists(f, "c2"));
    g_assert_cmpint(tc_fuse_rename(f->dev, ROOT, "missing", ROOT, "x"), ==, -ENOENT);
}

static void test_rename2_noreplace(struct fx *f, gconstpointer data)
{
    size_t len;

    fx_write_file(f, "a", "A", 1, 0644);
    fx_write_file(f, "b", "B", 1, 0644);
    fx_lookup(f, ROOT, "a", NULL);
    fx_lookup(f, ROOT, "b", NULL);
    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "a", ROOT, "b", RENAME_NOREPLACE), ==, -EEXIST);
    g_autofree char *a = host_read(f, "a", &len);
    g_assert_cmpmem(a, len, "A", 1);
    g_autofree char *b = host_read(f, "b", &len);
    g_assert_cmpmem(b, len, "B", 1);

    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "a", ROOT, "c", RENAME_NOREPLACE), ==, 0);
    g_assert_false(host_exists(f, "a"));
    g_autofree char *c = host_read(f, "c", &len);
    g_assert_cmpmem(c, len, "A", 1);

    /* flags 0 behaves like RENAME */
    fx_lookup(f, ROOT, "c", NULL);
    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "c", ROOT, "b", 0), ==, 0);
    g_autofree char *b2 = host_read(f, "b", &len);
    g_assert_cmpmem(b2, len, "A", 1);
}

static void test_rename2_exchange(struct fx *f, gconstpointer data)
{
    size_t len;
    struct stat st;

    fx_write_file(f, "a", "A", 1, 0644);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    fx_write_file(f, "d/b", "BB", 2, 0644);
    fx_lookup(f, ROOT, "a", NULL);
    fx_lookup(f, d, "b", NULL);

    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "a", d, "b", RENAME_EXCHANGE), ==, 0);
    g_autofree char *a = host_read(f, "a", &len);
    g_assert_cmpmem(a, len, "BB", 2);
    g_autofree char *b = host_read(f, "d/b", &len);
    g_assert_cmpmem(b, len, "A", 1);

    /* a file and a directory can trade places too */
    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "a", ROOT, "d", RENAME_EXCHANGE), ==, 0);
    host_stat(f, "a", &st);
    g_assert_true(S_ISDIR(st.st_mode));
    int r = tc_fuse_rename2(f->dev, ROOT, "a", ROOT, "missing", RENAME_EXCHANGE);
    if (QEMU_NEEDS_LOOKUP(r))
        return;
    g_assert_cmpint(r, ==, -ENOENT);
}

static void test_link(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_attr_out a;
    struct stat st;

    fx_write_file(f, "f", "x", 1, 0644);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    uint64_t n = fx_lookup(f, ROOT, "f", &e);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    g_assert_cmpuint(e.attr.nlink, ==, 1);

    g_assert_cmpint(tc_fuse_link(f->dev, n, ROOT, "g", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, n);
    g_assert_cmpuint(e.attr.nlink, ==, 2);
    host_stat(f, "g", &st);
    g_assert_cmpuint(st.st_nlink, ==, 2);
    g_assert_cmpuint(e.attr.ino, ==, st.st_ino);

    g_assert_cmpint(tc_fuse_link(f->dev, n, d, "h", &e), ==, 0);
    g_assert_cmpuint(e.attr.nlink, ==, 3);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    g_assert_cmpuint(a.attr.nlink, ==, 3);

    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "g"), ==, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    g_assert_cmpuint(a.attr.nlink, ==, 2);
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_nlink, ==, 2);

    g_assert_cmpint(tc_fuse_link(f->dev, n, ROOT, "f", &e), ==, -EEXIST);
    g_assert_cmpint(tc_fuse_link(f->dev, d, ROOT, "dirlink", &e), ==, -EPERM);
}

/* --- files --------------------------------------------------------------- */

static void test_open(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;
    char buf[16];
    struct stat st;

    fx_write_file(f, "f", "content", 7, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), ==, 7);
    g_assert_cmpmem(buf, 7, "content", 7);
    /* read-only handle */
    g_assert_cmpint(tc_fuse_write(f->dev, n, o.fh, 0, "x", 1), ==, -EBADF);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);

    if (f->dev->fuse.init.flags & FUSE_ATOMIC_O_TRUNC) {
        g_assert_cmpint(tc_fuse_open(f->dev, n, O_WRONLY | O_TRUNC, &o), ==, 0);
        host_stat(f, "f", &st);
        g_assert_cmpint(st.st_size, ==, 0);
        g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_WRONLY), ==, 0);
    }

    /* directories are OPENDIR's business */
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, d, O_RDWR, &o), ==, -EISDIR);
}

static void test_create(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct stat st;
    size_t len;

    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "c", O_CREAT | O_RDWR, 0640, 0, &e, &o), ==, 0);
    host_stat(f, "c", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 0640);
    g_assert_cmpuint(st.st_uid, ==, 0);
    assert_attr_matches(&e.attr, &st);
    g_assert_cmpint(tc_fuse_write(f->dev, e.nodeid, o.fh, 0, "new", 3), ==, 3);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
    g_autofree char *c = host_read(f, "c", &len);
    g_assert_cmpmem(c, len, "new", 3);

    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "c", O_CREAT | O_EXCL | O_RDWR, 0640, 0, &e, &o),
                    ==, -EEXIST);
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "m", O_CREAT | O_RDWR,
                                   mode_to_send(f, 0666, 027), 027, &e, &o), ==, 0);
    host_stat(f, "m", &st);
    g_assert_cmpuint(st.st_mode, ==, S_IFREG | 0640);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
}

static void test_create_nonroot(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct stat st;

    g_assert_cmpint(mkdirat(f->share_fd, "pub", 0777), ==, 0);
    g_assert_cmpint(fchmodat(f->share_fd, "pub", 0777, 0), ==, 0);
    uint64_t pub = fx_lookup(f, ROOT, "pub", NULL);

    tc_fuse_set_creds(f->dev, 1000, 1001, 1);
    g_assert_cmpint(tc_fuse_create(f->dev, pub, "mine", O_CREAT | O_RDWR, 0600, 0, &e, &o), ==, 0);
    host_stat(f, "pub/mine", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpuint(st.st_gid, ==, 1001);
    g_assert_cmpuint(e.attr.uid, ==, 1000);
    g_assert_cmpuint(e.attr.gid, ==, 1001);
    g_assert_cmpint(tc_fuse_write(f->dev, e.nodeid, o.fh, 0, "u", 1), ==, 1);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);

    g_assert_cmpint(tc_fuse_mkdir(f->dev, pub, "dir", 0700, 0, &e), ==, 0);
    host_stat(f, "pub/dir", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpuint(st.st_gid, ==, 1001);

    /* The root-owned 0755 top directory: the guest kernel checks directory
     * permissions with the caller's supplementary groups, which the daemon
     * never sees, so a create it sent is not refused here; it is still
     * made as the caller. */
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "grp", O_CREAT | O_RDWR, 0600, 0, &e, &o), ==, 0);
    host_stat(f, "grp", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpuint(st.st_gid, ==, 1001);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
    tc_fuse_set_creds(f->dev, 0, 0, 1);
}

static void fill_pattern(char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)((i * 31 + seed) ^ (i >> 8));
}

static void test_read(struct fx *f, gconstpointer data)
{
    enum { SIZE = 100 * 1024 };
    g_autofree char *pat = g_malloc(SIZE);
    g_autofree char *buf = g_malloc(SIZE);
    struct fuse_open_out o;

    fill_pattern(pat, SIZE, 7);
    fx_write_file(f, "f", pat, SIZE, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);

    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, 4096), ==, 4096);
    g_assert_cmpmem(buf, 4096, pat, 4096);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 12345, buf, 777), ==, 777);
    g_assert_cmpmem(buf, 777, pat + 12345, 777);
    /* short read at the end, empty past it */
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, SIZE - 1000, buf, 4096), ==, 1000);
    g_assert_cmpmem(buf, 1000, pat + SIZE - 1000, 1000);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, SIZE + 10, buf, 4096), ==, 0);

    /* several writable segments of odd sizes: the zero-copy path */
    static const size_t sizes[] = { 1000, 4096, 3, 8000, 65536 };
    struct tc_buf bufs[G_N_ELEMENTS(sizes)];
    size_t total = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_assert_cmpint(tc_buf_alloc(f->dev->mem, sizes[i], 1, TC_BUF_ZERO, &bufs[i]), ==, 0);
        total += sizes[i];
    }
    g_assert_cmpint(tc_fuse_read_bufs(f->dev, n, o.fh, 100, bufs, G_N_ELEMENTS(bufs)), ==, (int)total);
    size_t off = 100;
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_assert_cmpmem(bufs[i].ptr, sizes[i], pat + off, sizes[i]);
        off += sizes[i];
        tc_buf_free(f->dev->mem, &bufs[i]);
    }
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
}

static void test_write(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    size_t len;
    struct stat st;

    uint64_t n = create_file(f, ROOT, "f", O_RDWR, &fh);
    g_assert_cmpint(tc_fuse_write(f->dev, n, fh, 0, "hello", 5), ==, 5);
    g_assert_cmpint(tc_fuse_write(f->dev, n, fh, 10000, "tail", 4), ==, 4);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 10004);
    g_autofree char *c = host_read(f, "f", &len);
    g_assert_cmpmem(c, 5, "hello", 5);
    for (size_t i = 5; i < 10000; i++)
        g_assert_cmpint(c[i], ==, 0);
    g_assert_cmpmem(c + 10000, 4, "tail", 4);

    /* from several readable guest buffers */
    static const size_t sizes[] = { 7, 4096, 1, 30000 };
    struct tc_buf bufs[G_N_ELEMENTS(sizes)];
    g_autofree char *expect = g_malloc(40000);
    size_t total = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++) {
        g_assert_cmpint(tc_buf_alloc(f->dev->mem, sizes[i], 1, 0, &bufs[i]), ==, 0);
        fill_pattern(bufs[i].ptr, sizes[i], i);
        memcpy(expect + total, bufs[i].ptr, sizes[i]);
        total += sizes[i];
    }
    g_assert_cmpint(tc_fuse_write_bufs(f->dev, n, fh, 3, bufs, G_N_ELEMENTS(bufs)), ==, (int)total);
    for (unsigned i = 0; i < G_N_ELEMENTS(sizes); i++)
        tc_buf_free(f->dev->mem, &bufs[i]);
    g_autofree char *c2 = host_read(f, "f", &len);
    g_assert_cmpuint(len, ==, 3 + total);
    g_assert_cmpmem(c2 + 3, total, expect, total);
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDWR), ==, 0);
}

static void test_flush(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    uint64_t n = create_file(f, ROOT, "f", O_RDWR, &fh);
    g_assert_cmpint(tc_fuse_write(f->dev, n, fh, 0, "data", 4), ==, 4);
    g_assert_cmpint(tc_fuse_flush(f->dev, n, fh, 0x1234), ==, 0);
    g_assert_cmpint(tc_fuse_flush(f->dev, n, fh, 0x1234), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDWR), ==, 0);
    struct stat st;
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 4);
}

static void test_release(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;
    char buf[4];

    fx_write_file(f, "f", "abc", 3, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
    /* the handle is gone */
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), <, 0);
    /* many handles on one inode are independent */
    struct fuse_open_out h[8];
    for (unsigned i = 0; i < 8; i++)
        g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &h[i]), ==, 0);
    for (unsigned i = 0; i < 8; i += 2)
        g_assert_cmpint(tc_fuse_release(f->dev, n, h[i].fh, O_RDONLY), ==, 0);
    for (unsigned i = 1; i < 8; i += 2) {
        g_assert_cmpint(tc_fuse_read(f->dev, n, h[i].fh, 0, buf, 3), ==, 3);
        g_assert_cmpint(tc_fuse_release(f->dev, n, h[i].fh, O_RDONLY), ==, 0);
    }
}

static void test_fsync(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    uint64_t n = create_file(f, ROOT, "f", O_RDWR, &fh);
    g_assert_cmpint(tc_fuse_write(f->dev, n, fh, 0, "data", 4), ==, 4);
    g_assert_cmpint(tc_fuse_fsync(f->dev, n, fh, 0), ==, 0);
    g_assert_cmpint(tc_fuse_fsync(f->dev, n, fh, FUSE_FSYNC_FDATASYNC), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDWR), ==, 0);
}

static void test_fallocate(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    struct stat st;
    uint64_t n = create_file(f, ROOT, "f", O_RDWR, &fh);

    g_assert_cmpint(tc_fuse_fallocate(f->dev, n, fh, 0, 1 << 20, 0), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 1 << 20);
    g_assert_cmpint(st.st_blocks * 512, >=, 1 << 20);

    int r = tc_fuse_fallocate(f->dev, n, fh, 1 << 20, 1 << 20, FALLOC_FL_KEEP_SIZE);
    if (QEMU_BUG(r == -EOPNOTSUPP, "FUSE_FALLOCATE supports mode 0 only"))
        goto out;
    g_assert_cmpint(r, ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 1 << 20);
    g_assert_cmpint(st.st_blocks * 512, >=, 2 << 20);

    blkcnt_t before = st.st_blocks;
    g_assert_cmpint(tc_fuse_fallocate(f->dev, n, fh, 0, 512 << 10,
                                      FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), ==, 0);
    host_stat(f, "f", &st);
    g_assert_cmpint(st.st_size, ==, 1 << 20);
    g_assert_cmpint(st.st_blocks, <, before);
out:
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDWR), ==, 0);
}

static void test_lseek(struct fx *f, gconstpointer data)
{
    uint64_t fh, pos;
    char block[4096];
    memset(block, 'x', sizeof(block));

    int fd = openat(f->share_fd, "sparse", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, block, sizeof(block), 0), ==, sizeof(block));
    g_assert_cmpint(pwrite(fd, block, sizeof(block), 1 << 20), ==, sizeof(block));
    fsync(fd);
    close(fd);
    uint64_t n = fx_lookup(f, ROOT, "sparse", NULL);
    struct fuse_open_out o;
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    fh = o.fh;

    g_assert_cmpint(tc_fuse_lseek(f->dev, n, fh, 0, SEEK_HOLE, &pos), ==, 0);
    g_assert_cmpuint(pos, ==, 4096);
    g_assert_cmpint(tc_fuse_lseek(f->dev, n, fh, 4096, SEEK_DATA, &pos), ==, 0);
    g_assert_cmpuint(pos, ==, 1 << 20);
    g_assert_cmpint(tc_fuse_lseek(f->dev, n, fh, (1 << 20) + 4096, SEEK_DATA, &pos), ==, -ENXIO);
    g_assert_cmpint(tc_fuse_lseek(f->dev, n, fh, 100, SEEK_SET, &pos), ==, 0);
    g_assert_cmpuint(pos, ==, 100);
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDONLY), ==, 0);
}

/* --- directories --------------------------------------------------------- */

/* Reads a whole directory, READDIR or READDIRPLUS, buffer by buffer. */
static GHashTable *list_dir(struct fx *f, uint64_t dir, bool plus, uint32_t bufsize)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autofree char *buf = g_malloc(bufsize);
    struct fuse_open_out o;
    uint64_t off = 0;

    g_assert_cmpint(tc_fuse_opendir(f->dev, dir, O_RDONLY, &o), ==, 0);
    for (;;) {
        int r = plus ? tc_fuse_readdirplus(f->dev, dir, o.fh, off, buf, bufsize)
                     : tc_fuse_readdir(f->dev, dir, o.fh, off, buf, bufsize);
        g_assert_cmpint(r, >=, 0);
        if (r == 0)
            break;
        size_t pos = 0;
        struct tc_dirent ent;
        int got = 0;
        while ((got = tc_dirent_next(buf, (size_t)r, &pos, plus, &ent)) == 1) {
            g_assert_false(g_hash_table_contains(seen, ent.name));
            g_hash_table_insert(seen, g_strdup(ent.name), g_memdup2(&ent, sizeof(ent)));
            off = ent.off;
        }
        g_assert_cmpint(got, ==, 0);
        g_assert_cmpuint(pos, >, 0);
    }
    g_assert_cmpint(tc_fuse_releasedir(f->dev, dir, o.fh), ==, 0);
    return seen;
}

static void test_opendir(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;

    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    fx_write_file(f, "f", "", 0, 0644);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    uint64_t file = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_opendir(f->dev, d, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, d, o.fh), ==, 0);
    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, o.fh), ==, 0);
    g_assert_cmpint(tc_fuse_opendir(f->dev, file, O_RDONLY, &o), ==, -ENOTDIR);
}

static void test_readdir(struct fx *f, gconstpointer data)
{
    for (unsigned i = 0; i < 10; i++) {
        g_autofree char *name = g_strdup_printf("file%u", i);
        fx_write_file(f, name, "", 0, 0644);
    }
    g_assert_cmpint(mkdirat(f->share_fd, "sub", 0755), ==, 0);

    /* a small buffer forces many round trips with offsets */
    for (unsigned pass = 0; pass < 2; pass++) {
        g_autoptr(GHashTable) seen = list_dir(f, ROOT, false, pass ? 4096 : 96);
        for (unsigned i = 0; i < 10; i++) {
            g_autofree char *name = g_strdup_printf("file%u", i);
            struct tc_dirent *e = g_hash_table_lookup(seen, name);
            g_assert_nonnull(e);
            struct stat st;
            host_stat(f, name, &st);
            g_assert_cmpuint(e->ino, ==, st.st_ino);
            g_assert_cmpuint(e->type, ==, DT_REG);
        }
        struct tc_dirent *sub = g_hash_table_lookup(seen, "sub");
        g_assert_nonnull(sub);
        g_assert_cmpuint(sub->type, ==, DT_DIR);
        /* nothing else but . and .. */
        unsigned extra = g_hash_table_contains(seen, ".") + g_hash_table_contains(seen, "..");
        g_assert_cmpuint(g_hash_table_size(seen), ==, 11 + extra);
    }
}

static void test_readdirplus(struct fx *f, gconstpointer data)
{
    enum { N = 1000 };
    char content[64];
    memset(content, 'r', sizeof(content));

    for (unsigned i = 0; i < N; i++) {
        g_autofree char *name = g_strdup_printf("entry-with-a-longish-name-%04u", i);
        fx_write_file(f, name, content, i % sizeof(content), 0644);
    }
    g_autoptr(GHashTable) seen = list_dir(f, ROOT, true, 4096);
    g_autoptr(GArray) forget = g_array_new(FALSE, FALSE, sizeof(struct fuse_forget_one));
    for (unsigned i = 0; i < N; i++) {
        g_autofree char *name = g_strdup_printf("entry-with-a-longish-name-%04u", i);
        struct tc_dirent *e = g_hash_table_lookup(seen, name);
        g_assert_nonnull(e);
        struct stat st;
        host_stat(f, name, &st);
        g_assert_cmpuint(e->ino, ==, st.st_ino);
        g_assert_cmpuint(e->type, ==, DT_REG);
        /* a filled entry counts as a lookup and must describe the file */
        g_assert_cmpuint(e->entry.nodeid, !=, 0);
        assert_attr_matches(&e->entry.attr, &st);
        struct fuse_forget_one one = { .nodeid = e->entry.nodeid, .nlookup = 1 };
        g_array_append_val(forget, one);
    }
    unsigned extra = g_hash_table_contains(seen, ".") + g_hash_table_contains(seen, "..");
    g_assert_cmpuint(g_hash_table_size(seen), ==, N + extra);
    /* hand the lookups back in batches, as a guest evicting its dcache */
    for (guint i = 0; i < forget->len; i += 100)
        g_assert_cmpint(tc_fuse_batch_forget(f->dev, &g_array_index(forget, struct fuse_forget_one, i),
                                             MIN(100, forget->len - i)), ==, 0);
}

static void test_readdir_huge(struct fx *f, gconstpointer data)
{
    enum { N = 30000 };
    g_assert_cmpint(mkdirat(f->share_fd, "huge", 0755), ==, 0);
    int dfd = openat(f->share_fd, "huge", O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);
    char name[300];
    for (unsigned i = 0; i < N; i++) {
        /* names of every length up to NAME_MAX */
        int len = snprintf(name, sizeof(name), "%u-", i);
        memset(name + len, 'n', i % (256 - (unsigned)len));
        name[len + i % (256 - (unsigned)len)] = '\0';
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
    }
    close(dfd);
    uint64_t d = fx_lookup(f, ROOT, "huge", NULL);
    g_autoptr(GHashTable) seen = list_dir(f, d, false, 4096);
    unsigned extra = g_hash_table_contains(seen, ".") + g_hash_table_contains(seen, "..");
    g_assert_cmpuint(g_hash_table_size(seen), ==, N + extra);
    /* READDIRPLUS too, the guest forgetting each reply's entries as it
     * goes (as its dcache would under pressure): the daemon holds an fd
     * per inode the guest knows, and the open file limit may be below N. */
    struct fuse_open_out o;
    g_autofree char *buf = g_malloc(8192);
    g_autoptr(GHashTable) plus = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_assert_cmpint(tc_fuse_opendir(f->dev, d, O_RDONLY, &o), ==, 0);
    uint64_t off = 0;
    unsigned looked_up = 0;
    for (;;) {
        int r = tc_fuse_readdirplus(f->dev, d, o.fh, off, buf, 8192);
        g_assert_cmpint(r, >=, 0);
        if (r == 0)
            break;
        struct fuse_forget_one forget[64];
        uint32_t nforget = 0;
        size_t pos = 0;
        struct tc_dirent e;
        int got;
        while ((got = tc_dirent_next(buf, (size_t)r, &pos, true, &e)) == 1) {
            g_assert_true(g_hash_table_contains(seen, e.name));
            g_assert_false(g_hash_table_contains(plus, e.name));
            g_hash_table_add(plus, g_strdup(e.name));
            off = e.off;
            if (!e.entry.nodeid)
                continue;
            g_assert_cmpuint(e.entry.attr.ino, ==, e.ino);
            g_assert_cmpuint(nforget, <, G_N_ELEMENTS(forget));
            forget[nforget++] = (struct fuse_forget_one){ .nodeid = e.entry.nodeid, .nlookup = 1 };
            looked_up++;
        }
        g_assert_cmpint(got, ==, 0);
        g_assert_cmpint(tc_fuse_batch_forget(f->dev, forget, nforget), ==, 0);
    }
    g_assert_cmpint(tc_fuse_releasedir(f->dev, d, o.fh), ==, 0);
    g_assert_cmpuint(g_hash_table_size(plus), ==, N + extra);
    g_assert_cmpuint(looked_up, ==, N);
}

/* Entries added and removed between READDIR calls: none comes twice, and
 * every one that was there all along comes once. */
static void readdir_changing(struct fx *f, bool use_plus)
{
    enum { N = 2000 };
    char name[32], buf[512];
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    int dfd = openat(f->share_fd, "d", O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);
    for (unsigned i = 0; i < N; i++) {
        snprintf(name, sizeof(name), i % 2 ? "gone-%u" : "keep-%u", i);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        close(fd);
    }
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    struct fuse_open_out o;
    g_assert_cmpint(tc_fuse_opendir(f->dev, d, O_RDONLY, &o), ==, 0);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GArray) forget = g_array_new(FALSE, FALSE, sizeof(struct fuse_forget_one));
    uint64_t off = 0;
    unsigned added = 0, removed = 0, calls = 0, kept = 0;
    for (;; calls++) {
        g_assert_cmpuint(calls, <, 5000);
        int r = use_plus ? tc_fuse_readdirplus(f->dev, d, o.fh, off, buf, sizeof(buf))
                         : tc_fuse_readdir(f->dev, d, o.fh, off, buf, sizeof(buf));
        if (QEMU_BUG(r == -ENOENT, "fails READDIRPLUS when an entry goes between its listing "
                                   "and its lookup")) {
            close(dfd);
            return;
        }
        g_assert_cmpint(r, >=, 0);
        if (r == 0)
            break;
        size_t pos = 0;
        struct tc_dirent ent;
        int got;
        while ((got = tc_dirent_next(buf, (size_t)r, &pos, use_plus, &ent)) == 1) {
            g_assert_false(g_hash_table_contains(seen, ent.name));
            g_hash_table_add(seen, g_strdup(ent.name));
            kept += g_str_has_prefix(ent.name, "keep-");
            off = ent.off;
            if (ent.entry.nodeid) {
                struct fuse_forget_one one = { .nodeid = ent.entry.nodeid, .nlookup = 1 };
                g_array_append_val(forget, one);
            }
        }
        g_assert_cmpint(got, ==, 0);
        /* the directory changes between two calls */
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof(name), "new-%u", added++);
            int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
            g_assert_cmpint(fd, >=, 0);
            close(fd);
        }
        for (int k = 0; k < 25 && removed < N / 2; k++) {
            snprintf(name, sizeof(name), "gone-%u", 2 * removed++ + 1);
            g_assert_cmpint(unlinkat(dfd, name, 0), ==, 0);
        }
    }
    g_test_message("%u calls, %u added, %u removed", calls, added, removed);
    g_assert_cmpuint(kept, ==, N / 2);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, d, o.fh), ==, 0);
    for (guint i = 0; i < forget->len; i += 500)
        g_assert_cmpint(tc_fuse_batch_forget(f->dev, &g_array_index(forget, struct fuse_forget_one, i),
                                             MIN(500, forget->len - i)), ==, 0);
    close(dfd);
}

static void test_readdir_changing(struct fx *f, gconstpointer data)
{
    readdir_changing(f, false);
}

static void test_readdirplus_changing(struct fx *f, gconstpointer data)
{
    readdir_changing(f, true);
}

static void test_releasedir(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;
    char buf[4096];

    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_readdir(f->dev, ROOT, o.fh, 0, buf, sizeof(buf)), >, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, o.fh), ==, 0);
    g_assert_cmpint(tc_fuse_readdir(f->dev, ROOT, o.fh, 0, buf, sizeof(buf)), <, 0);
}

static void test_fsyncdir(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;

    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "d", 0755, 0, NULL), ==, 0);
    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_fsyncdir(f->dev, ROOT, o.fh, 0), ==, 0);
    g_assert_cmpint(tc_fuse_fsyncdir(f->dev, ROOT, o.fh, FUSE_FSYNC_FDATASYNC), ==, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, o.fh), ==, 0);
}

/* --- filesystem ---------------------------------------------------------- */

static void test_statfs(struct fx *f, gconstpointer data)
{
    struct fuse_statfs_out s;
    struct statvfs v;

    g_assert_cmpint(tc_fuse_statfs(f->dev, ROOT, &s), ==, 0);
    g_assert_cmpint(fstatvfs(f->share_fd, &v), ==, 0);
    g_assert_cmpuint(s.st.bsize, ==, v.f_bsize);
    g_assert_cmpuint(s.st.frsize, ==, v.f_frsize);
    g_assert_cmpuint(s.st.blocks, ==, v.f_blocks);
    g_assert_cmpuint(s.st.files, ==, v.f_files);
    g_assert_cmpuint(s.st.namelen, ==, v.f_namemax);
    g_assert_cmpuint(s.st.bfree, <=, s.st.blocks);
}

static void test_access(struct fx *f, gconstpointer data)
{
    fx_write_file(f, "f", "x", 1, 0640);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);

    int r = tc_fuse_access(f->dev, n, R_OK | W_OK);
    if (r == -ENOSYS) {
        /* allowed: virtio-fs guests mount with default_permissions and
         * check permissions themselves, so they never send ACCESS */
        g_test_skip("the daemon does not implement FUSE_ACCESS");
        return;
    }
    g_assert_cmpint(r, ==, 0);
    g_assert_cmpint(tc_fuse_access(f->dev, n, F_OK), ==, 0);
    g_assert_cmpint(tc_fuse_access(f->dev, n, X_OK), ==, -EACCES);
    tc_fuse_set_creds(f->dev, 1000, 1000, 1);
    g_assert_cmpint(tc_fuse_access(f->dev, n, R_OK), ==, -EACCES);
    g_assert_cmpint(tc_fuse_access(f->dev, ROOT, R_OK | X_OK), ==, 0);
    tc_fuse_set_creds(f->dev, 0, 0, 1);
}

static void test_syncfs(struct fx *f, gconstpointer data)
{
    uint64_t fh;
    uint64_t n = create_file(f, ROOT, "f", O_RDWR, &fh);
    g_assert_cmpint(tc_fuse_write(f->dev, n, fh, 0, "x", 1), ==, 1);
    g_assert_cmpint(tc_fuse_syncfs(f->dev, ROOT), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDWR), ==, 0);
}

/* xattrs are set on the host through the path: the shared directory is
 * on a filesystem with user.* xattrs */
static uint64_t xattr_file(struct fx *f, char **path)
{
    fx_write_file(f, "f", "", 0, 0644);
    *path = fx_path(f, "f");
    return fx_lookup(f, ROOT, "f", NULL);
}

static void test_setxattr(struct fx *f, gconstpointer data)
{
    g_autofree char *path = NULL;
    uint64_t n = xattr_file(f, &path);
    char buf[64];

    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.color", "blue", 4, 0), ==, 0);
    g_assert_cmpint(lgetxattr(path, "user.color", buf, sizeof(buf)), ==, 4);
    g_assert_cmpmem(buf, 4, "blue", 4);

    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.color", "red", 3, XATTR_CREATE), ==, -EEXIST);
    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.new", "v", 1, XATTR_REPLACE), ==, -ENODATA);
    g_assert_cmpint(lgetxattr(path, "user.new", buf, sizeof(buf)), ==, -1);
    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.color", "red", 3, XATTR_REPLACE), ==, 0);
    g_assert_cmpint(lgetxattr(path, "user.color", buf, sizeof(buf)), ==, 3);
    g_assert_cmpmem(buf, 3, "red", 3);
    /* an empty value is a value */
    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.empty", "", 0, 0), ==, 0);
    g_assert_cmpint(lgetxattr(path, "user.empty", buf, sizeof(buf)), ==, 0);

    /* directories carry xattrs too */
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "d", 0755, 0, NULL), ==, 0);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    g_assert_cmpint(tc_fuse_setxattr(f->dev, d, "user.dir", "1", 1, 0), ==, 0);
    g_autofree char *dpath = fx_path(f, "d");
    g_assert_cmpint(lgetxattr(dpath, "user.dir", buf, sizeof(buf)), ==, 1);
}

static void test_getxattr(struct fx *f, gconstpointer data)
{
    g_autofree char *path = NULL;
    uint64_t n = xattr_file(f, &path);
    char buf[64];

    g_assert_cmpint(lsetxattr(path, "user.color", "blue", 4, 0), ==, 0);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.color", NULL, 0), ==, 4);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.color", buf, sizeof(buf)), ==, 4);
    g_assert_cmpmem(buf, 4, "blue", 4);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.color", buf, 2), ==, -ERANGE);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.none", buf, sizeof(buf)), ==, -ENODATA);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.none", NULL, 0), ==, -ENODATA);

    /* on the directory itself */
    g_assert_cmpint(lsetxattr(f->share, "user.top", "t", 1, 0), ==, 0);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, ROOT, "user.top", buf, sizeof(buf)), ==, 1);
}

static void test_listxattr(struct fx *f, gconstpointer data)
{
    g_autofree char *path = NULL;
    uint64_t n = xattr_file(f, &path);
    char buf[256];

    g_assert_cmpint(lsetxattr(path, "user.color", "blue", 4, 0), ==, 0);
    g_assert_cmpint(lsetxattr(path, "user.shape", "round", 5, 0), ==, 0);
    int need = tc_fuse_listxattr(f->dev, n, NULL, 0);
    g_assert_cmpint(need, >=, (int)(sizeof("user.color") + sizeof("user.shape")));
    int got = tc_fuse_listxattr(f->dev, n, buf, sizeof(buf));
    g_assert_cmpint(got, ==, need);
    g_assert_cmpint(buf[got - 1], ==, '\0');
    bool color = false, shape = false;
    for (int i = 0; i < got; i += (int)strlen(buf + i) + 1) {
        color |= strcmp(buf + i, "user.color") == 0;
        shape |= strcmp(buf + i, "user.shape") == 0;
    }
    g_assert_true(color && shape);
    g_assert_cmpint(tc_fuse_listxattr(f->dev, n, buf, 3), ==, -ERANGE);
}

static void test_removexattr(struct fx *f, gconstpointer data)
{
    g_autofree char *path = NULL;
    uint64_t n = xattr_file(f, &path);
    char buf[64];

    g_assert_cmpint(lsetxattr(path, "user.color", "blue", 4, 0), ==, 0);
    g_assert_cmpint(lsetxattr(path, "user.keep", "k", 1, 0), ==, 0);
    g_assert_cmpint(tc_fuse_removexattr(f->dev, n, "user.color"), ==, 0);
    g_assert_cmpint(lgetxattr(path, "user.color", buf, sizeof(buf)), ==, -1);
    g_assert_cmpint(errno, ==, ENODATA);
    g_assert_cmpint(lgetxattr(path, "user.keep", buf, sizeof(buf)), ==, 1);
    g_assert_cmpint(tc_fuse_removexattr(f->dev, n, "user.color"), ==, -ENODATA);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.color", buf, sizeof(buf)), ==, -ENODATA);
}

/* --- TMPFILE, IOCTL and what has no implementation ------------------------ */

static void test_tmpfile(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e, le;
    struct fuse_open_out o;
    struct stat st;

    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    uint64_t d = fx_lookup(f, ROOT, "d", NULL);
    int r = tc_fuse_tmpfile(f->dev, d, O_RDWR, S_IFREG | 0600, 0, &e, &o);
    if (QEMU_BUG(r == -ENOSYS, "has no TMPFILE"))
        return;
    g_assert_cmpint(r, ==, 0);
    g_assert_cmpuint(e.nodeid, !=, 0);
    g_assert_cmpuint(e.attr.mode, ==, S_IFREG | 0600);
    g_assert_cmpuint(e.attr.nlink, ==, 0);
    /* the directory stays empty */
    g_autofree char *dpath = fx_path(f, "d");
    GDir *dir = g_dir_open(dpath, 0, NULL);
    g_assert_nonnull(dir);
    g_assert_null(g_dir_read_name(dir));
    g_dir_close(dir);

    g_assert_cmpint(tc_fuse_write(f->dev, e.nodeid, o.fh, 0, "no name yet", 11), ==, 11);
    struct fuse_attr_out a;
    g_assert_cmpint(tc_fuse_getattr(f->dev, e.nodeid, FUSE_GETATTR_FH, o.fh, &a), ==, 0);
    g_assert_cmpuint(a.attr.size, ==, 11);
    /* the guest's linkat() gives it a name */
    g_assert_cmpint(tc_fuse_link(f->dev, e.nodeid, d, "named", &le), ==, 0);
    g_assert_cmpuint(le.nodeid, ==, e.nodeid);
    g_assert_cmpuint(le.attr.nlink, ==, 1);
    host_stat(f, "d/named", &st);
    g_assert_cmpuint(st.st_ino, ==, e.attr.ino);
    size_t len;
    g_autofree char *content = host_read(f, "d/named", &len);
    g_assert_cmpmem(content, len, "no name yet", 11);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);

    /* unnamed files cannot be read-only, and need a directory */
    g_assert_cmpint(tc_fuse_tmpfile(f->dev, d, O_RDONLY, S_IFREG | 0600, 0, &e, &o), ==, -EINVAL);
    fx_write_file(f, "file", "", 0, 0644);
    uint64_t file = fx_lookup(f, ROOT, "file", NULL);
    g_assert_cmpint(tc_fuse_tmpfile(f->dev, file, O_RDWR, S_IFREG | 0600, 0, &e, &o), ==, -ENOTDIR);
    /* without a name it is malformed */
    struct fuse_create_in cin = { .flags = O_RDWR, .mode = S_IFREG | 0600 };
    struct tc_fuse_req req = {
        .opcode = FUSE_TMPFILE, .nodeid = d, .in_cnt = 1, .in = { { &cin, sizeof(cin) } },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &req), ==, -EINVAL);
}

static void test_ioctl(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;
    fx_write_file(f, "f", "x", 1, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    /* what the peers answer: ENOSYS, which the guest turns into ENOTTY */
    uint32_t flags = 0;
    g_assert_cmpint(tc_fuse_ioctl(f->dev, n, o.fh, 0, 0x80086601 /* FS_IOC_GETFLAGS */, NULL, 0,
                                  sizeof(flags)), ==, -ENOSYS);
    g_assert_cmpint(tc_fuse_ioctl(f->dev, n, o.fh, 0, 0x40086602 /* FS_IOC_SETFLAGS */, &flags,
                                  sizeof(flags), 0), ==, -ENOSYS);
    struct fuse_open_out od;
    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, O_RDONLY, &od), ==, 0);
    g_assert_cmpint(tc_fuse_ioctl(f->dev, ROOT, od.fh, FUSE_IOCTL_DIR, 0x80086601, NULL, 0, 4),
                    ==, -ENOSYS);
    /* in_size larger than what came */
    struct fuse_ioctl_in in = { .fh = o.fh, .cmd = 1, .in_size = 64 };
    struct tc_fuse_req req = {
        .opcode = FUSE_IOCTL, .nodeid = n, .in_cnt = 1, .in = { { &in, sizeof(in) } },
    };
    int r = tc_fuse_call(f->dev, &req);
    if (!QEMU_BUG(r == -ENOSYS, "does not check an IOCTL's in_size"))
        g_assert_cmpint(r, ==, -EINVAL);
    /* and nothing changed: the file still reads */
    char c;
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, &c, 1), ==, 1);
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, od.fh), ==, 0);
}

static void test_unimplemented(struct fx *f, gconstpointer data)
{
    fx_write_file(f, "f", "x", 1, 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    struct fuse_poll_in pin = { 0 };
    struct tc_fuse_req poll_req = {
        .opcode = FUSE_POLL, .nodeid = n, .in_cnt = 1, .in = { { &pin, sizeof(pin) } },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &poll_req), ==, -ENOSYS);
    struct fuse_bmap_in bin = { .block = 0, .blocksize = 4096 };
    struct tc_fuse_req bmap_req = {
        .opcode = FUSE_BMAP, .nodeid = n, .in_cnt = 1, .in = { { &bin, sizeof(bin) } },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &bmap_req), ==, -ENOSYS);
}

/* --- bulk I/O ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The test data: a function of the file offset (8-byte aligned). */
static void gen_data(char *buf, uint64_t off, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = splitmix((off + i) / 8);
        memcpy(buf + i, &v, MIN(8, len - i));
    }
}

#define IO_SIZE (64u << 20)
#define IO_DEPTH 8
#define IO_SEGS 4

struct io_slot {
    struct tc_fuse_req req;
    struct fuse_write_in win;
    struct fuse_read_in rin;
    struct fuse_write_out wout;
    struct tc_buf bufs[IO_SEGS];
    uint64_t off;
};

/* Runs a whole-file pass of WRITEs or READs with IO_DEPTH requests in
 * flight, each carrying its data in IO_SEGS guest buffers. */
static void io_pass(struct fx *f, uint64_t n, uint64_t fh, bool write, uint32_t chunk,
                    struct io_slot *slots, char *readback)
{
    struct tc_dev *dev = f->dev;
    unsigned q = tc_fuse_queue_of(dev, 0, 0);
    uint64_t next = 0, done = 0;
    unsigned inflight = 0;
    GQueue idle = G_QUEUE_INIT;

    for (unsigned i = 0; i < IO_DEPTH; i++)
        g_queue_push_tail(&idle, &slots[i]);
    while (done < IO_SIZE) {
        while (next < IO_SIZE && !g_queue_is_empty(&idle)) {
            struct io_slot *s = g_queue_pop_head(&idle);
            struct tc_fuse_req *req = &s->req;
            s->off = next;
            if (write) {
                for (unsigned k = 0; k < IO_SEGS; k++)
                    gen_data(s->bufs[k].ptr, next + (uint64_t)k * (chunk / IO_SEGS), chunk / IO_SEGS);
                s->win = (struct fuse_write_in){ .fh = fh, .offset = next, .size = chunk };
                req->opcode = FUSE_WRITE;
                req->in[0] = (struct tc_fuse_in_arg){ &s->win, sizeof(s->win) };
                req->in_cnt = 1;
                req->in_data = s->bufs;
                req->in_data_cnt = IO_SEGS;
                req->out[0] = (struct tc_fuse_out_arg){ &s->wout, sizeof(s->wout) };
                req->out_cnt = 1;
                req->out_data = NULL;
                req->out_data_cnt = 0;
            } else {
                s->rin = (struct fuse_read_in){ .fh = fh, .offset = next, .size = chunk };
                req->opcode = FUSE_READ;
                req->in[0] = (struct tc_fuse_in_arg){ &s->rin, sizeof(s->rin) };
                req->in_cnt = 1;
                req->in_data = NULL;
                req->in_data_cnt = 0;
                req->out_cnt = 0;
                req->out_data = s->bufs;
                req->out_data_cnt = IO_SEGS;
            }
            req->nodeid = n;
            req->user = s;
            g_assert_cmpint(tc_fuse_submit(dev, req), ==, 0);
            next += chunk;
            inflight++;
        }
        g_assert_cmpint(tc_fuse_kick(dev, q), >=, 0);
        struct tc_fuse_req *completed[IO_DEPTH];
        int got = tc_fuse_reap(dev, q, completed, IO_DEPTH, dev->timeout_ms);
        g_assert_cmpint(got, >, 0);
        for (int i = 0; i < got; i++) {
            struct io_slot *s = completed[i]->user;
            if (write) {
                g_assert_cmpint(completed[i]->result, ==, sizeof(s->wout));
                g_assert_cmpuint(s->wout.size, ==, chunk);
            } else {
                g_assert_cmpint(completed[i]->result, ==, (int)chunk);
                for (unsigned k = 0; k < IO_SEGS; k++)
                    memcpy(readback + s->off + (uint64_t)k * (chunk / IO_SEGS), s->bufs[k].ptr,
                           chunk / IO_SEGS);
            }
            done += chunk;
            inflight--;
            g_queue_push_tail(&idle, s);
        }
    }
    g_assert_cmpuint(inflight, ==, 0);
    g_queue_clear(&idle);
}

static void test_io_64m(struct fx *f, gconstpointer data)
{
    struct tc_dev *dev = f->dev;
    uint32_t chunk = MIN(dev->fuse.init.max_write, 1u << 20);
    uint64_t fh;
    chunk &= ~(uint32_t)(IO_SEGS * 8 - 1);
    g_assert_cmpuint(IO_SIZE % chunk, ==, 0);

    struct io_slot *slots = g_new0(struct io_slot, IO_DEPTH);
    for (unsigned i = 0; i < IO_DEPTH; i++) {
        g_assert_cmpint(tc_fuse_req_init(dev, &slots[i].req, 0), ==, 0);
        for (unsigned k = 0; k < IO_SEGS; k++)
            g_assert_cmpint(tc_buf_alloc(dev->mem, chunk / IO_SEGS, 8, 0, &slots[i].bufs[k]), ==, 0);
    }

    uint64_t n = create_file(f, ROOT, "big", O_RDWR, &fh);
    io_pass(f, n, fh, true, chunk, slots, NULL);
    g_assert_cmpint(tc_fuse_fsync(dev, n, fh, 0), ==, 0);

    /* the host sees exactly the generated stream */
    g_autoptr(GChecksum) expect = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree char *block = g_malloc(1 << 20);
    for (uint64_t off = 0; off < IO_SIZE; off += 1 << 20) {
        gen_data(block, off, 1 << 20);
        g_checksum_update(expect, (const guchar *)block, 1 << 20);
    }
    g_autoptr(GChecksum) host = g_checksum_new(G_CHECKSUM_SHA256);
    int fd = openat(f->share_fd, "big", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    uint64_t total = 0;
    ssize_t got;
    while ((got = read(fd, block, 1 << 20)) > 0) {
        g_checksum_update(host, (const guchar *)block, (gssize)got);
        total += (uint64_t)got;
    }
    close(fd);
    g_assert_cmpuint(total, ==, IO_SIZE);
    g_assert_cmpstr(g_checksum_get_string(host), ==, g_checksum_get_string(expect));

    /* and reading it back through the daemon gives the same */
    g_autofree char *readback = g_malloc(IO_SIZE);
    io_pass(f, n, fh, false, chunk, slots, readback);
    g_autoptr(GChecksum) back = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(back, (const guchar *)readback, IO_SIZE);
    g_assert_cmpstr(g_checksum_get_string(back), ==, g_checksum_get_string(expect));

    g_assert_cmpint(tc_fuse_release(dev, n, fh, O_RDWR), ==, 0);
    const struct tc_vq *vq = &dev->vqs[tc_fuse_queue_of(dev, 0, 0)];
    g_test_message("%u-byte requests in %u segments: %" G_GUINT64_FORMAT " kicks, %"
                   G_GUINT64_FORMAT " suppressed, %" G_GUINT64_FORMAT " interrupts",
                   chunk, IO_SEGS, vq->kicks, vq->kicks_suppressed, vq->calls);
    for (unsigned i = 0; i < IO_DEPTH; i++) {
        for (unsigned k = 0; k < IO_SEGS; k++)
            tc_buf_free(dev->mem, &slots[i].bufs[k]);
        tc_fuse_req_done(dev, &slots[i].req);
    }
    g_free(slots);
}

/* --- several request queues ---------------------------------------------- */

static const struct fx_variant four_queues = { .cfg = { .num_request_queues = 4 } };

static void test_multiqueue(struct fx *f, gconstpointer data)
{
    if (!f->dev) {
        g_test_skip("the daemon offers fewer than 5 virtqueues (hiprio + 4 request queues)");
        return;
    }
    struct tc_dev *dev = f->dev;
    g_assert_cmpuint(dev->nqueues, ==, 5);

    /* one CREATE in flight on each request queue at once */
    struct tc_fuse_req reqs[4];
    struct fuse_create_in cin = { .flags = O_CREAT | O_RDWR, .mode = 0644 };
    struct fuse_entry_out entries[4];
    struct fuse_open_out opens[4];
    char names[4][8];
    for (unsigned q = 1; q <= 4; q++) {
        struct tc_fuse_req *r = &reqs[q - 1];
        g_assert_cmpint(tc_fuse_req_init(dev, r, 0), ==, 0);
        snprintf(names[q - 1], sizeof(names[0]), "q%u", q);
        r->opcode = FUSE_CREATE;
        r->nodeid = ROOT;
        r->queue = q;
        r->in_cnt = 2;
        r->in[0] = (struct tc_fuse_in_arg){ &cin, sizeof(cin) };
        r->in[1] = (struct tc_fuse_in_arg){ names[q - 1], (uint32_t)strlen(names[q - 1]) + 1 };
        r->out_cnt = 2;
        r->out[0] = (struct tc_fuse_out_arg){ &entries[q - 1], sizeof(entries[0]) };
        r->out[1] = (struct tc_fuse_out_arg){ &opens[q - 1], sizeof(opens[0]) };
        g_assert_cmpint(tc_fuse_submit(dev, r), ==, 0);
    }
    for (unsigned q = 1; q <= 4; q++)
        g_assert_cmpint(tc_fuse_kick(dev, q), >=, 0);
    for (unsigned q = 1; q <= 4; q++) {
        struct tc_fuse_req *done;
        g_assert_cmpint(tc_fuse_reap(dev, q, &done, 1, dev->timeout_ms), ==, 1);
        g_assert_true(done == &reqs[q - 1]);
        g_assert_cmpint(done->result, ==, sizeof(entries[0]) + sizeof(opens[0]));
        g_assert_true(host_exists(f, names[q - 1]));
    }

    /* each queue then serves synchronous calls of its own */
    for (unsigned q = 1; q <= 4; q++) {
        char buf[8];
        dev->fuse.queue = q;
        g_assert_cmpint(tc_fuse_write(dev, entries[q - 1].nodeid, opens[q - 1].fh, 0, names[q - 1], 2), ==, 2);
        dev->fuse.queue = 5 - q;
        g_assert_cmpint(tc_fuse_read(dev, entries[q - 1].nodeid, opens[q - 1].fh, 0, buf, sizeof(buf)), ==, 2);
        g_assert_cmpmem(buf, 2, names[q - 1], 2);
        g_assert_cmpint(tc_fuse_release(dev, entries[q - 1].nodeid, opens[q - 1].fh, O_RDWR), ==, 0);
        tc_fuse_req_done(dev, &reqs[q - 1]);
    }
    dev->fuse.queue = 0;
}

int main(int argc, char **argv)
{
    fx_require_daemon(argc, argv);
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add("/ops/" path, struct fx, NULL, fx_setup, fn, fx_teardown)
#define ADDV(path, v, fn) g_test_add("/ops/" path, struct fx, v, fx_setup, fn, fx_teardown)
    ADDV("init", &no_init, test_init);
    ADD("destroy", test_destroy);
    ADD("lookup", test_lookup);
    ADD("forget", test_forget);
    ADD("batch_forget", test_batch_forget);
    ADD("getattr", test_getattr);
    ADD("setattr/mode", test_setattr_mode);
    ADD("setattr/owner", test_setattr_owner);
    ADD("setattr/size", test_setattr_size);
    ADD("setattr/times", test_setattr_times);
    ADD("setattr/times_now", test_setattr_times_now);
    ADD("setattr/fh", test_setattr_fh);
    ADD("mkdir", test_mkdir);
    ADD("mknod", test_mknod);
    ADD("symlink", test_symlink);
    ADD("readlink", test_readlink);
    ADD("unlink", test_unlink);
    ADD("rmdir", test_rmdir);
    ADD("rename", test_rename);
    ADD("rename2/noreplace", test_rename2_noreplace);
    ADD("rename2/exchange", test_rename2_exchange);
    ADD("link", test_link);
    ADD("open", test_open);
    ADD("create", test_create);
    ADD("create/nonroot", test_create_nonroot);
    ADD("read", test_read);
    ADD("write", test_write);
    ADD("flush", test_flush);
    ADD("release", test_release);
    ADD("fsync", test_fsync);
    ADD("fallocate", test_fallocate);
    ADD("lseek", test_lseek);
    ADD("opendir", test_opendir);
    ADD("readdir", test_readdir);
    ADD("readdirplus", test_readdirplus);
    ADD("readdir/huge", test_readdir_huge);
    ADD("readdir/changing", test_readdir_changing);
    ADD("readdirplus/changing", test_readdirplus_changing);
    ADD("releasedir", test_releasedir);
    ADD("fsyncdir", test_fsyncdir);
    ADD("statfs", test_statfs);
    ADD("access", test_access);
    ADD("syncfs", test_syncfs);
    ADD("setxattr", test_setxattr);
    ADD("getxattr", test_getxattr);
    ADD("listxattr", test_listxattr);
    ADD("removexattr", test_removexattr);
    ADD("tmpfile", test_tmpfile);
    ADD("ioctl", test_ioctl);
    ADD("poll-bmap", test_unimplemented);
    ADD("io/64m", test_io_64m);
    ADDV("multiqueue", &four_queues, test_multiqueue);
    return g_test_run();
}

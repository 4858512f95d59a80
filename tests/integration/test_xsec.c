/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The security options through a real virtqueue: --xattrmap, --posix-acl,
 * --security-label and the supplementary group extension, --killpriv-v2,
 * the set-group-id directory case of CVE-2022-0358, and --translate-uid/gid.
 * Each case starts the daemon with its options, sends what a guest kernel
 * would (extensions and flags included) and checks the host with plain
 * syscalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/integration/fixture.h"

#define ROOT FUSE_ROOT_ID
#define IN(p, l)  ((struct tc_fuse_in_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define OUT(p, l) ((struct tc_fuse_out_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define NAME(s)   IN((s), strlen(s) + 1)

/* Protocol 7.39, newer than some <linux/fuse.h>. */
#define T_CREATE_SUPP_GROUP (1ULL << 34)
#define T_EXT_GROUPS 32u

/* The group the test process (and so the daemon it starts) is a member of,
 * as a root daemon is of root's groups: see the CVE-2022-0358 case. */
#define DAEMON_GROUP 4343

/* ---- host side ---------------------------------------------------------- */

static void host_stat(struct fx *f, const char *name, struct stat *st)
{
    g_assert_cmpint(fstatat(f->share_fd, name, st, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static mode_t host_mode(struct fx *f, const char *name)
{
    struct stat st;
    host_stat(f, name, &st);
    return st.st_mode & 07777;
}

static bool host_exists(struct fx *f, const char *name)
{
    struct stat st;
    return fstatat(f->share_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void host_file(struct fx *f, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
    fx_write_file(f, name, "data", 4, 0600);
    g_assert_cmpint(fchownat(f->share_fd, name, uid, gid, 0), ==, 0);
    g_assert_cmpint(fchmodat(f->share_fd, name, mode, 0), ==, 0);
}

static void host_dir(struct fx *f, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
    g_assert_cmpint(mkdirat(f->share_fd, name, 0700), ==, 0);
    g_assert_cmpint(fchownat(f->share_fd, name, uid, gid, 0), ==, 0);
    g_assert_cmpint(fchmodat(f->share_fd, name, mode, 0), ==, 0);
}

/* Value length of a host xattr, or -errno. */
static ssize_t host_getxattr(struct fx *f, const char *name, const char *attr, char *buf,
                             size_t size)
{
    g_autofree char *p = fx_path(f, name);
    ssize_t n = lgetxattr(p, attr, buf, size);
    return n < 0 ? -errno : n;
}

/* ---- requests with what a newer guest kernel adds -------------------------- */

static size_t align8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

/* One security context as a fuse_secctx_header extension; returns its size. */
static uint32_t secctx_ext(uint8_t *buf, const char *name, const char *value)
{
    size_t namelen = strlen(name) + 1, vlen = strlen(value);
    size_t rec = align8(sizeof(struct fuse_secctx) + namelen + vlen);
    struct fuse_secctx_header h = { .size = (uint32_t)(sizeof(h) + rec), .nr_secctx = 1 };
    struct fuse_secctx c = { .size = (uint32_t)vlen };
    memset(buf, 0, h.size);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), &c, sizeof(c));
    memcpy(buf + sizeof(h) + sizeof(c), name, namelen);
    memcpy(buf + sizeof(h) + sizeof(c) + namelen, value, vlen);
    return h.size;
}

/* The caller's supplementary group as a FUSE_EXT_GROUPS extension. */
struct groups_ext {
    struct fuse_ext_header h;
    uint32_t nr_groups;
    uint32_t gid;
};

static struct groups_ext groups_ext(uint32_t gid)
{
    return (struct groups_ext){ { .size = sizeof(struct groups_ext), .type = T_EXT_GROUPS },
                                1, gid };
}

static int mkdir_ext(struct fx *f, uint64_t parent, const char *name, uint32_t mode,
                     const void *ext, uint32_t ext_len, struct fuse_entry_out *e)
{
    struct fuse_mkdir_in in = { .mode = mode };
    struct fuse_entry_out tmp;
    struct tc_fuse_req req = {
        .opcode = FUSE_MKDIR, .nodeid = parent,
        .in_cnt = ext_len ? 3 : 2, .in = { IN(&in, sizeof(in)), NAME(name), IN(ext, ext_len) },
        .total_extlen = (uint16_t)(ext_len / 8),
        .out_cnt = 1, .out = { OUT(e ? e : &tmp, sizeof(tmp)) },
    };
    int r = tc_fuse_call(f->dev, &req);
    return r < 0 ? r : 0;
}

static int mknod_ext(struct fx *f, uint64_t parent, const char *name, uint32_t mode,
                     const void *ext, uint32_t ext_len, struct fuse_entry_out *e)
{
    struct fuse_mknod_in in = { .mode = mode };
    struct fuse_entry_out tmp;
    struct tc_fuse_req req = {
        .opcode = FUSE_MKNOD, .nodeid = parent,
        .in_cnt = ext_len ? 3 : 2, .in = { IN(&in, sizeof(in)), NAME(name), IN(ext, ext_len) },
        .total_extlen = (uint16_t)(ext_len / 8),
        .out_cnt = 1, .out = { OUT(e ? e : &tmp, sizeof(tmp)) },
    };
    int r = tc_fuse_call(f->dev, &req);
    return r < 0 ? r : 0;
}

static int symlink_ext(struct fx *f, uint64_t parent, const char *name, const char *target,
                       const void *ext, uint32_t ext_len)
{
    struct fuse_entry_out e;
    struct tc_fuse_req req = {
        .opcode = FUSE_SYMLINK, .nodeid = parent,
        .in_cnt = ext_len ? 3 : 2, .in = { NAME(name), NAME(target), IN(ext, ext_len) },
        .total_extlen = (uint16_t)(ext_len / 8),
        .out_cnt = 1, .out = { OUT(&e, sizeof(e)) },
    };
    int r = tc_fuse_call(f->dev, &req);
    return r < 0 ? r : 0;
}

/* CREATE with FUSE_OPEN_* open_flags and extensions; the handle is released. */
static int create_ext(struct fx *f, uint64_t parent, const char *name, uint32_t flags,
                      uint32_t mode, uint32_t umask, uint32_t open_flags, const void *ext,
                      uint32_t ext_len, struct fuse_entry_out *e)
{
    struct fuse_create_in in = { .flags = flags | O_CREAT, .mode = mode, .umask = umask,
                                 .open_flags = open_flags };
    struct fuse_entry_out tmp;
    struct fuse_open_out o;
    if (!e)
        e = &tmp;
    struct tc_fuse_req req = {
        .opcode = FUSE_CREATE, .nodeid = parent,
        .in_cnt = ext_len ? 3 : 2, .in = { IN(&in, sizeof(in)), NAME(name), IN(ext, ext_len) },
        .total_extlen = (uint16_t)(ext_len / 8),
        .out_cnt = 2, .out = { OUT(e, sizeof(*e)), OUT(&o, sizeof(o)) },
    };
    int r = tc_fuse_call(f->dev, &req);
    if (r < 0)
        return r;
    g_assert_cmpint(tc_fuse_release(f->dev, e->nodeid, o.fh, 0), ==, 0);
    return 0;
}

/* OPEN with FUSE_OPEN_* open_flags; returns the handle. */
static uint64_t open_with(struct fx *f, uint64_t nodeid, uint32_t flags, uint32_t open_flags)
{
    struct fuse_open_in in = { .flags = flags, .open_flags = open_flags };
    struct fuse_open_out o;
    struct tc_fuse_req req = {
        .opcode = FUSE_OPEN, .nodeid = nodeid,
        .in_cnt = 1, .in = { IN(&in, sizeof(in)) },
        .out_cnt = 1, .out = { OUT(&o, sizeof(o)) },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &req), ==, sizeof(o));
    return o.fh;
}

static int write_with(struct fx *f, uint64_t nodeid, uint64_t fh, const char *data,
                      uint32_t write_flags)
{
    struct fuse_write_in in = { .fh = fh, .size = (uint32_t)strlen(data),
                                .write_flags = write_flags };
    struct fuse_write_out o;
    struct tc_fuse_req req = {
        .opcode = FUSE_WRITE, .nodeid = nodeid,
        .in_cnt = 2, .in = { IN(&in, sizeof(in)), IN(data, in.size) },
        .out_cnt = 1, .out = { OUT(&o, sizeof(o)) },
    };
    int r = tc_fuse_call(f->dev, &req);
    return r < 0 ? r : (int)o.size;
}

/* SETXATTR with the extended header (FUSE_SETXATTR_EXT) and its flags. */
static int setxattr_ext(struct fx *f, uint64_t nodeid, const char *name, const void *value,
                        uint32_t size, uint32_t setxattr_flags)
{
    struct fuse_setxattr_in in = { .size = size, .setxattr_flags = setxattr_flags };
    struct tc_fuse_req req = {
        .opcode = FUSE_SETXATTR, .nodeid = nodeid,
        .in_cnt = 3, .in = { IN(&in, sizeof(in)), NAME(name), IN(value, size) },
    };
    int r = tc_fuse_call(f->dev, &req);
    return r < 0 ? r : 0;
}

/* ---- --xattrmap ---------------------------------------------------------- */

static const char *const xattrmap_args[] = { "--xattrmap=:map:user.:user.virtiofs.:", NULL };
static const struct fx_variant xattrmap_v = { .daemon_args = xattrmap_args };
/* The same map in QEMU's spelling, with ',' as separator escaped in -o. */
static const char *const xattrmap_legacy_args[] = {
    "-o", "xattrmap=\\,map\\,user.\\,user.virtiofs.\\,", NULL,
};
static const struct fx_variant xattrmap_legacy_v = { .daemon_args = xattrmap_legacy_args };

static void test_xattrmap(struct fx *f, gconstpointer data)
{
    char buf[256];
    fx_write_file(f, "x", "x", 1, 0644);
    g_autofree char *p = fx_path(f, "x");
    g_assert_cmpint(setxattr(p, "user.hostonly", "h", 1, 0), ==, 0);
    g_assert_cmpint(setxattr(p, "user.virtiofs.user.fromhost", "hv", 2, 0), ==, 0);
    uint64_t x = fx_lookup(f, ROOT, "x", NULL);

    /* The guest's user.foo is stored under the prefix... */
    g_assert_cmpint(tc_fuse_setxattr(f->dev, x, "user.foo", "bar", 3, 0), ==, 0);
    g_assert_cmpint(host_getxattr(f, "x", "user.virtiofs.user.foo", buf, sizeof(buf)), ==, 3);
    g_assert_cmpint(host_getxattr(f, "x", "user.foo", buf, sizeof(buf)), ==, -ENODATA);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, x, "user.foo", buf, sizeof(buf)), ==, 3);
    g_assert_cmpmem(buf, 3, "bar", 3);
    /* ...listed back under its own name, with what the host prefixed; the
     * host's own user. names are neither listed nor readable. */
    static const char want[] = "user.fromhost\0user.foo";
    int n = tc_fuse_listxattr(f->dev, x, NULL, 0);
    g_assert_cmpint(n, ==, (int)sizeof(want));
    n = tc_fuse_listxattr(f->dev, x, buf, sizeof(buf));
    g_assert_cmpint(n, ==, (int)sizeof(want));
    /* the order is the host's: compare as sets */
    g_assert_true(memmem(buf, (size_t)n, "user.foo", 9) != NULL);
    g_assert_true(memmem(buf, (size_t)n, "user.fromhost", 14) != NULL);
    g_assert_null(memmem(buf, (size_t)n, "hostonly", 8));
    g_assert_cmpint(tc_fuse_getxattr(f->dev, x, "user.hostonly", buf, sizeof(buf)), ==,
                    -ENODATA);
    g_assert_cmpint(tc_fuse_removexattr(f->dev, x, "user.foo"), ==, 0);
    g_assert_cmpint(host_getxattr(f, "x", "user.virtiofs.user.foo", buf, sizeof(buf)), ==,
                    -ENODATA);
    g_assert_cmpint(host_getxattr(f, "x", "user.hostonly", buf, sizeof(buf)), ==, 1);
}

/* ---- --posix-acl --------------------------------------------------------- */

static const char *const acl_args[] = { "--posix-acl", NULL };
static const struct fx_variant acl_v = {
    .daemon_args = acl_args, .init_flags = TC_FUSE_INIT_FLAGS | FUSE_POSIX_ACL,
};
static const struct fx_variant acl_asked_v = { .init_flags = TC_FUSE_INIT_FLAGS | FUSE_POSIX_ACL };

static size_t acl_value(uint8_t *buf)
{
    /* user::rwx user:1000:rwx group::r-x mask::rwx other::r-x */
    struct { uint16_t tag, perm; uint32_t id; } e[] = {
        { 0x01, 7, UINT32_MAX }, { 0x02, 7, 1000 }, { 0x04, 5, UINT32_MAX },
        { 0x10, 7, UINT32_MAX }, { 0x20, 5, UINT32_MAX },
    };
    uint32_t version = 2;
    memcpy(buf, &version, 4);
    memcpy(buf + 4, e, sizeof(e));
    return 4 + sizeof(e);
}

static void test_posix_acl(struct fx *f, gconstpointer data)
{
    const struct fuse_init_out *init = &f->dev->fuse.init;
    uint64_t granted = init->flags | (uint64_t)init->flags2 << 32;
    g_assert_true(granted & FUSE_POSIX_ACL);
    g_assert_true(granted & FUSE_DONT_MASK);
    g_assert_true(granted & FUSE_SETXATTR_EXT);
    g_assert_false(granted & FUSE_HANDLE_KILLPRIV_V2); /* not asked of the daemon */

    uint8_t acl[64];
    size_t len = acl_value(acl);
    struct fuse_entry_out e;
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "acl", 0777, 0, &e), ==, 0);
    uint64_t dir = e.nodeid;
    int r = setxattr_ext(f, dir, "system.posix_acl_default", acl, (uint32_t)len, 0);
    if (r == -EOPNOTSUPP) {
        g_test_skip("no POSIX ACLs on the shared file system");
        return;
    }
    g_assert_cmpint(r, ==, 0);

    /* Under the default ACL the umask does not apply; elsewhere it does. */
    g_assert_cmpint(create_ext(f, dir, "f", O_WRONLY, S_IFREG | 0666, 022, 0, NULL, 0, &e), ==,
                    0);
    g_assert_cmpuint(e.attr.mode & 07777, ==, 0664);
    g_assert_cmpuint(host_mode(f, "acl/f"), ==, 0664);
    char buf[128];
    g_assert_cmpint(host_getxattr(f, "acl/f", "system.posix_acl_access", buf, sizeof(buf)), >,
                    0);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, dir, "d", 0777, 022, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "acl/d"), ==, 0775);
    g_assert_cmpint(create_ext(f, ROOT, "plain", O_WRONLY, S_IFREG | 0666, 022, 0, NULL, 0, &e),
                    ==, 0);
    g_assert_cmpuint(host_mode(f, "plain"), ==, 0644);

    /* The guest reads the inherited ACL through GETXATTR. */
    uint64_t fnode = fx_lookup(f, dir, "f", NULL);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, fnode, "system.posix_acl_access", buf,
                                     sizeof(buf)), ==, (int)len);

    /* Setting an access ACL drops S_ISGID when the guest says so. */
    host_file(f, "sg", 02775, 0, 0);
    host_file(f, "sg2", 02775, 0, 0);
    uint64_t sg = fx_lookup(f, ROOT, "sg", NULL);
    uint64_t sg2 = fx_lookup(f, ROOT, "sg2", NULL);
    g_assert_cmpint(setxattr_ext(f, sg, "system.posix_acl_access", acl, (uint32_t)len,
                                 FUSE_SETXATTR_ACL_KILL_SGID), ==, 0);
    g_assert_cmpuint(host_mode(f, "sg") & S_ISGID, ==, 0);
    g_assert_cmpint(setxattr_ext(f, sg2, "system.posix_acl_access", acl, (uint32_t)len, 0), ==,
                    0);
    g_assert_cmpuint(host_mode(f, "sg2") & S_ISGID, ==, S_ISGID);
}

static void test_posix_acl_off(struct fx *f, gconstpointer data)
{
    /* Asked by the guest, but the daemon was not started with --posix-acl. */
    const struct fuse_init_out *init = &f->dev->fuse.init;
    g_assert_false(init->flags & FUSE_POSIX_ACL);
    g_assert_false(init->flags & FUSE_DONT_MASK);
}

/* ---- --security-label and the supplementary group ------------------------- */

static const char *const label_args[] = {
    "--security-label", "--xattrmap=/prefix/all/security./user.virtiofs./ /ok/all///", NULL,
};
static const struct fx_variant label_v = {
    .daemon_args = label_args,
    .init_flags = TC_FUSE_INIT_FLAGS | FUSE_SECURITY_CTX | T_CREATE_SUPP_GROUP,
};
static const struct fx_variant label_off_v = {
    .init_flags = TC_FUSE_INIT_FLAGS | FUSE_SECURITY_CTX | T_CREATE_SUPP_GROUP,
};

static void test_security_label(struct fx *f, gconstpointer data)
{
    g_assert_true(f->dev->fuse.init.flags2 & (FUSE_SECURITY_CTX >> 32));
    uint8_t ext[256];
    char buf[64];
    struct fuse_entry_out e;
    tc_fuse_set_creds(f->dev, 1000, 1000, 1);
    g_assert_cmpint(fchmodat(f->share_fd, ".", 0777, 0), ==, 0);

    /* The SELinux context, stored under its mapped name. */
    uint32_t n = secctx_ext(ext, "security.selinux", "system_u:object_r:f_t:s0");
    g_assert_cmpint(create_ext(f, ROOT, "f", O_WRONLY, S_IFREG | 0600, 0, 0, ext, n, &e), ==, 0);
    g_assert_cmpint(host_getxattr(f, "f", "user.virtiofs.security.selinux", buf, sizeof(buf)),
                    ==, 24);
    g_assert_cmpmem(buf, 24, "system_u:object_r:f_t:s0", 24);
    g_assert_cmpint(e.attr.uid, ==, 1000);
    n = secctx_ext(ext, "user.label", "dir");
    g_assert_cmpint(mkdir_ext(f, ROOT, "d", 0700, ext, n, NULL), ==, 0);
    g_assert_cmpint(host_getxattr(f, "d", "user.label", buf, sizeof(buf)), ==, 3);
    g_assert_cmpint(mknod_ext(f, ROOT, "r", S_IFREG | 0600, ext, n, NULL), ==, 0);
    g_assert_cmpint(host_getxattr(f, "r", "user.label", buf, sizeof(buf)), ==, 3);

    /* A label the host refuses (user. on a fifo or a symlink) fails the
     * call and leaves no unlabelled inode behind. */
    g_assert_cmpint(mknod_ext(f, ROOT, "fifo", S_IFIFO | 0600, ext, n, NULL), ==, -EPERM);
    g_assert_false(host_exists(f, "fifo"));
    g_assert_cmpint(symlink_ext(f, ROOT, "l", "f", ext, n), ==, -EPERM);
    g_assert_false(host_exists(f, "l"));
    /* Without a context, those work. */
    g_assert_cmpint(symlink_ext(f, ROOT, "l", "f", NULL, 0), ==, 0);
}

static void test_security_label_off(struct fx *f, gconstpointer data)
{
    /* Not offered: contexts the guest sends anyway are ignored safely. */
    g_assert_false(f->dev->fuse.init.flags2 & (FUSE_SECURITY_CTX >> 32));
    uint8_t ext[256];
    char buf[64];
    uint32_t n = secctx_ext(ext, "user.label", "x");
    g_assert_cmpint(mkdir_ext(f, ROOT, "d", 0700, ext, n, NULL), ==, 0);
    g_assert_cmpint(host_getxattr(f, "d", "user.label", buf, sizeof(buf)), ==, -ENODATA);
}

static void test_supp_group(struct fx *f, gconstpointer data)
{
    g_assert_true(f->dev->fuse.init.flags2 & (T_CREATE_SUPP_GROUP >> 32));
    /* A set-group-id directory of group 4242: a new set-group-id file keeps
     * S_ISGID only for a member, and the guest names the membership. */
    host_dir(f, "team", 02777, 0, 4242);
    uint64_t team = fx_lookup(f, ROOT, "team", NULL);
    tc_fuse_set_creds(f->dev, 1000, 1000, 1);
    struct groups_ext g = groups_ext(4242);
    struct stat st;
    g_assert_cmpint(create_ext(f, team, "without", O_WRONLY, S_IFREG | 02755, 0, 0, NULL, 0,
                               NULL), ==, 0);
    host_stat(f, "team/without", &st);
    g_assert_false(st.st_mode & S_ISGID);
    g_assert_cmpint(create_ext(f, team, "with", O_WRONLY, S_IFREG | 02755, 0, 0, &g, sizeof(g),
                               NULL), ==, 0);
    host_stat(f, "team/with", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpuint(st.st_gid, ==, 4242);
    g_assert_true(st.st_mode & S_ISGID);
    /* The group was the request's only. */
    g_assert_cmpint(create_ext(f, team, "after", O_WRONLY, S_IFREG | 02755, 0, 0, NULL, 0,
                               NULL), ==, 0);
    host_stat(f, "team/after", &st);
    g_assert_false(st.st_mode & S_ISGID);
}

/* ---- --killpriv-v2 ------------------------------------------------------- */

static const char *const killpriv_args[] = { "--killpriv-v2", NULL };
static const struct fx_variant killpriv_v = { .daemon_args = killpriv_args };
static const char *const killpriv_map_args[] = {
    "--killpriv-v2", "--xattrmap=:map::user.virtiofs.:", NULL,
};
static const struct fx_variant killpriv_map_v = { .daemon_args = killpriv_map_args };

static void test_killpriv_v2(struct fx *f, gconstpointer data)
{
    g_assert_true(f->dev->fuse.init.flags & FUSE_HANDLE_KILLPRIV_V2);
    host_file(f, "w", 06755, 1000, 1000);
    host_file(f, "nogx", 02744, 1000, 1000);
    host_file(f, "t", 04755, 1000, 1000);
    host_file(f, "o", 06755, 1000, 1000);
    host_file(f, "c", 06755, 1000, 1000);
    tc_fuse_set_creds(f->dev, 1000, 1000, 1);

    /* WRITE by an unprivileged caller: both set-id bits go... */
    uint64_t w = fx_lookup(f, ROOT, "w", NULL);
    uint64_t fh = open_with(f, w, O_WRONLY, 0);
    g_assert_cmpint(write_with(f, w, fh, "abc", FUSE_WRITE_KILL_SUIDGID), ==, 3);
    g_assert_cmpint(tc_fuse_release(f->dev, w, fh, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "w"), ==, 0755);
    /* ...but S_ISGID without group exec (mandatory locking) stays. */
    uint64_t nogx = fx_lookup(f, ROOT, "nogx", NULL);
    fh = open_with(f, nogx, O_WRONLY, 0);
    g_assert_cmpint(write_with(f, nogx, fh, "abc", FUSE_WRITE_KILL_SUIDGID), ==, 3);
    g_assert_cmpint(tc_fuse_release(f->dev, nogx, fh, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "nogx"), ==, 02744);

    /* Truncate through SETATTR. */
    uint64_t t = fx_lookup(f, ROOT, "t", NULL);
    struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_KILL_SUIDGID, .size = 0 };
    struct fuse_attr_out a;
    g_assert_cmpint(tc_fuse_setattr(f->dev, t, &sa, &a), ==, 0);
    g_assert_cmpuint(a.attr.mode & 07777, ==, 0755);
    g_assert_cmpuint(host_mode(f, "t"), ==, 0755);

    /* O_TRUNC at OPEN and at CREATE of an existing file. */
    uint64_t o = fx_lookup(f, ROOT, "o", NULL);
    fh = open_with(f, o, O_WRONLY | O_TRUNC, FUSE_OPEN_KILL_SUIDGID);
    g_assert_cmpint(tc_fuse_release(f->dev, o, fh, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "o"), ==, 0755);
    g_assert_cmpint(create_ext(f, ROOT, "c", O_WRONLY | O_TRUNC, S_IFREG | 0644, 0,
                               FUSE_OPEN_KILL_SUIDGID, NULL, 0, NULL), ==, 0);
    g_assert_cmpuint(host_mode(f, "c"), ==, 0755);
}

static void test_killpriv_renamed_capability(struct fx *f, gconstpointer data)
{
    /* security.capability lives under another name: the host kernel does
     * not know to drop it, so the daemon does, on every write. */
    static const uint8_t cap[20] = { 0, 0, 0, 2 };
    char buf[64];
    fx_write_file(f, "bin", "x", 1, 0755);
    uint64_t bin = fx_lookup(f, ROOT, "bin", NULL);
    g_assert_cmpint(tc_fuse_setxattr(f->dev, bin, "security.capability", cap, sizeof(cap), 0),
                    ==, 0);
    g_assert_cmpint(host_getxattr(f, "bin", "user.virtiofs.security.capability", buf,
                                  sizeof(buf)), ==, (int)sizeof(cap));
    uint64_t fh = open_with(f, bin, O_WRONLY, 0);
    g_assert_cmpint(write_with(f, bin, fh, "y", 0), ==, 1);
    g_assert_cmpint(tc_fuse_release(f->dev, bin, fh, 0), ==, 0);
    g_assert_cmpint(host_getxattr(f, "bin", "user.virtiofs.security.capability", buf,
                                  sizeof(buf)), ==, -ENODATA);
    g_assert_cmpint(tc_fuse_getxattr(f->dev, bin, "security.capability", buf, sizeof(buf)), ==,
                    -ENODATA);
}

/* ---- CVE-2022-0358 --------------------------------------------------------- */

static void test_cve_2022_0358(struct fx *f, gconstpointer data)
{
    /* A set-group-id directory of the daemon's group, writable by all; a
     * guest user outside that group creates executables with S_ISGID (as an
     * old guest kernel passes them on). They must not keep it. */
    host_dir(f, "sgid", 03777, 0, DAEMON_GROUP);
    uint64_t dir = fx_lookup(f, ROOT, "sgid", NULL);
    tc_fuse_set_creds(f->dev, 1000, 1000, 1);
    struct fuse_entry_out e;
    struct stat st;

    g_assert_cmpint(create_ext(f, dir, "exe", O_WRONLY | O_EXCL, S_IFREG | 02755, 0, 0, NULL, 0,
                               &e), ==, 0);
    host_stat(f, "sgid/exe", &st);
    g_assert_cmpuint(st.st_gid, ==, DAEMON_GROUP);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);
    g_assert_cmpuint(e.attr.mode & S_ISGID, ==, 0);
    g_assert_cmpint(mknod_ext(f, dir, "node", S_IFREG | 02755, NULL, 0, NULL), ==, 0);
    g_assert_cmpuint(host_mode(f, "sgid/node"), ==, 0755);
    /* Directories do inherit S_ISGID. */
    g_assert_cmpint(mkdir_ext(f, dir, "sub", 0755, NULL, 0, NULL), ==, 0);
    g_assert_cmpuint(host_mode(f, "sgid/sub"), ==, 02755);
}

/* ---- --translate-uid / --translate-gid ------------------------------------- */

static const char *const idmap_args[] = {
    "--translate-uid=map:1000:3000:1", "--translate-gid=map:1000:3000:1",
    "--translate-uid=forbid-guest:1500:10", "--translate-uid=squash-host:5000:65534:100", NULL,
};
static const struct fx_variant idmap_v = { .daemon_args = idmap_args };

static void test_translate(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_attr_out a;
    struct stat st;
    g_assert_cmpint(fchmodat(f->share_fd, ".", 0777, 0), ==, 0);

    /* Guest 1000 creates as host 3000 and is told it owns the result. */
    tc_fuse_set_creds(f->dev, 1000, 1000, 1);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "mine", 0755, 0, &e), ==, 0);
    g_assert_cmpuint(e.attr.uid, ==, 1000);
    g_assert_cmpuint(e.attr.gid, ==, 1000);
    host_stat(f, "mine", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);
    g_assert_cmpuint(st.st_gid, ==, 3000);
    g_assert_cmpint(create_ext(f, e.nodeid, "f", O_WRONLY, S_IFREG | 0644, 0, 0, NULL, 0, &e),
                    ==, 0);
    g_assert_cmpuint(e.attr.uid, ==, 1000);
    host_stat(f, "mine/f", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);

    /* A forbidden guest uid creates nothing. */
    tc_fuse_set_creds(f->dev, 1505, 1000, 1);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "nope", 0755, 0, &e), ==, -EPERM);
    g_assert_false(host_exists(f, "nope"));
    tc_fuse_set_creds(f->dev, 0, 0, 1);

    /* Host owners come back as guest ids: LOOKUP, GETATTR, READDIRPLUS. */
    host_file(f, "h3000", 0644, 3000, 3000);
    host_file(f, "h5042", 0644, 5042, 3000);
    host_file(f, "h4000", 0644, 4000, 4000);
    uint64_t h = fx_lookup(f, ROOT, "h3000", &e);
    g_assert_cmpuint(e.attr.uid, ==, 1000);
    g_assert_cmpint(tc_fuse_getattr(f->dev, h, 0, 0, &a), ==, 0);
    g_assert_cmpuint(a.attr.uid, ==, 1000);
    g_assert_cmpuint(a.attr.gid, ==, 1000);
    fx_lookup(f, ROOT, "h5042", &e);
    g_assert_cmpuint(e.attr.uid, ==, 65534);
    fx_lookup(f, ROOT, "h4000", &e);
    g_assert_cmpuint(e.attr.uid, ==, 4000);

    struct fuse_open_out o;
    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, 0, &o), ==, 0);
    g_autofree uint8_t *buf = g_malloc(16384);
    int n = tc_fuse_readdirplus(f->dev, ROOT, o.fh, 0, buf, 16384);
    g_assert_cmpint(n, >, 0);
    size_t pos = 0;
    struct tc_dirent d;
    int seen = 0;
    while (tc_dirent_next(buf, (size_t)n, &pos, true, &d) == 1) {
        if (strcmp(d.name, "h3000") == 0) {
            g_assert_cmpuint(d.entry.attr.uid, ==, 1000);
            g_assert_cmpuint(d.entry.attr.gid, ==, 1000);
            seen++;
        } else if (strcmp(d.name, "h5042") == 0) {
            g_assert_cmpuint(d.entry.attr.uid, ==, 65534);
            seen++;
        }
    }
    g_assert_cmpint(seen, ==, 2);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, o.fh), ==, 0);

    /* SETATTR takes guest ids; a forbidden one changes nothing. */
    uint64_t h4 = fx_lookup(f, ROOT, "h4000", NULL);
    struct fuse_setattr_in sa = { .valid = FATTR_UID | FATTR_GID, .uid = 1000, .gid = 1000 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, h4, &sa, &a), ==, 0);
    g_assert_cmpuint(a.attr.uid, ==, 1000);
    host_stat(f, "h4000", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);
    g_assert_cmpuint(st.st_gid, ==, 3000);
    sa = (struct fuse_setattr_in){ .valid = FATTR_UID | FATTR_MODE, .uid = 1509, .mode = 0600 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, h4, &sa, &a), ==, -EPERM);
    host_stat(f, "h4000", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
}

#define ADDV(path, v, fn) g_test_add("/xsec/" path, struct fx, v, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
    fx_require_daemon(argc, argv);
    if (fx_daemon_is_qemu) {
        /* These are our options; QEMU's daemon has only some of them. */
        printf("1..0 # SKIP options of this daemon only\n");
        return 0;
    }
    /* Membership the daemons started below inherit: see DAEMON_GROUP. */
    const gid_t g = DAEMON_GROUP;
    if (setgroups(1, &g) < 0) {
        perror("setgroups");
        return 1;
    }
    g_test_init(&argc, &argv, NULL);
    ADDV("xattrmap", &xattrmap_v, test_xattrmap);
    ADDV("xattrmap/legacy-spelling", &xattrmap_legacy_v, test_xattrmap);
    ADDV("posix-acl", &acl_v, test_posix_acl);
    ADDV("posix-acl/not-enabled", &acl_asked_v, test_posix_acl_off);
    ADDV("security-label", &label_v, test_security_label);
    ADDV("security-label/not-enabled", &label_off_v, test_security_label_off);
    ADDV("supp-group", &label_off_v, test_supp_group);
    ADDV("killpriv-v2", &killpriv_v, test_killpriv_v2);
    ADDV("killpriv-v2/renamed-capability", &killpriv_map_v, test_killpriv_renamed_capability);
    ADDV("cve-2022-0358", NULL, test_cve_2022_0358);
    ADDV("translate-ids", &idmap_v, test_translate);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The passthrough filesystem's security features on a temporary directory:
 * POSIX ACL inheritance and the umask, killpriv, security contexts on new
 * inodes, supplementary groups, the set-group-id directory case of
 * CVE-2022-0358, uid/gid translation and xattr name mapping. Checked on the
 * host with plain syscalls. Most need root (ownership, credentials); they
 * skip themselves otherwise, and the ACL cases skip where the file system
 * has no ACLs.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <grp.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "passthrough/idmap.h"
#include "passthrough/passthrough.h"
#include "passthrough/xattrmap.h"

static const struct pt_ctx root_ctx = { .uid = 0, .gid = 0, .pid = 1 };
static const struct pt_ctx user_ctx = { .uid = 1000, .gid = 1000, .pid = 2 };

struct fx {
    char dir[64];
    int dfd;                  /* O_PATH on dir, for host-side checks */
    struct pt_config cfg;
    struct pt_fs *fs;
    struct pt_xattrmap *xattrmap;
    struct pt_idmap *uid_map, *gid_map;
};

static void fx_open(struct fx *f, const struct pt_init_caps *caps)
{
    static const struct pt_init_caps none;
    f->cfg.xattrmap = f->xattrmap;
    f->cfg.uid_map = f->uid_map;
    f->cfg.gid_map = f->gid_map;
    g_assert_cmpint(pt_fs_new(&f->cfg, &f->fs), ==, 0);
    pt_init(f->fs, caps ? caps : &none);
}

static void fx_setup(struct fx *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    strcpy(f->dir, "/tmp/pt-sec-XXXXXX");
    g_assert_nonnull(mkdtemp(f->dir));
    g_assert_cmpint(chmod(f->dir, 0777), ==, 0);
    f->dfd = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(f->dfd, >=, 0);
    f->cfg = (struct pt_config){
        .shared_dir = f->dir, .cache = PT_CACHE_AUTO, .timeout = -1, .xattr = true,
    };
    fx_open(f, NULL);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void fx_teardown(struct fx *f, gconstpointer data)
{
    pt_fs_free(f->fs);
    pt_xattrmap_free(f->xattrmap);
    pt_idmap_free(f->uid_map);
    pt_idmap_free(f->gid_map);
    close(f->dfd);
    nftw(f->dir, rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

/* Reopens the fs (after changing maps) with these negotiated caps. */
static void fx_reopen(struct fx *f, const struct pt_init_caps *caps)
{
    pt_fs_free(f->fs);
    fx_open(f, caps);
}

static void set_caps(struct fx *f, struct pt_init_caps caps)
{
    pt_init(f->fs, &caps);
}

static bool is_root(void)
{
    if (geteuid() == 0)
        return true;
    g_test_skip("needs root");
    return false;
}

static void host_stat(struct fx *f, const char *name, struct stat *st)
{
    g_assert_cmpint(fstatat(f->dfd, name, st, AT_SYMLINK_NOFOLLOW), ==, 0);
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
    return fstatat(f->dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static char *host_path(struct fx *f, const char *name)
{
    return g_strdup_printf("%s/%s", f->dir, name);
}

static void host_file(struct fx *f, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
    g_autofree char *p = host_path(f, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, "data", 4), ==, 4);
    g_assert_cmpint(fchown(fd, uid, gid), ==, 0);
    g_assert_cmpint(fchmod(fd, mode), ==, 0);
    close(fd);
}

static void host_dir(struct fx *f, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
    g_autofree char *p = host_path(f, name);
    g_assert_cmpint(mkdir(p, 0700), ==, 0);
    g_assert_cmpint(chown(p, uid, gid), ==, 0);
    g_assert_cmpint(chmod(p, mode), ==, 0);
}

/* Host xattr value length of name on a path, or -errno. */
static ssize_t host_getxattr(struct fx *f, const char *path, const char *name)
{
    g_autofree char *p = host_path(f, path);
    char buf[256];
    ssize_t n = lgetxattr(p, name, buf, sizeof(buf));
    return n < 0 ? -errno : n;
}

static uint64_t lookup_ok(struct fx *f, uint64_t parent, const char *name)
{
    struct pt_entry e;
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, parent, name, &e), ==, 0);
    return e.nodeid;
}

/* ---- POSIX ACLs --------------------------------------------------------- */

/* The xattr form of an ACL (see acl_ea_header in the kernel). */
enum { TAG_USER_OBJ = 1, TAG_USER = 2, TAG_GROUP_OBJ = 4, TAG_MASK = 0x10, TAG_OTHER = 0x20 };

static size_t acl_build(uint8_t *buf, uint32_t user, unsigned user_perm)
{
    struct { uint16_t tag, perm; uint32_t id; } e[] = {
        { TAG_USER_OBJ, 7, UINT32_MAX }, { TAG_USER, (uint16_t)user_perm, user },
        { TAG_GROUP_OBJ, 5, UINT32_MAX }, { TAG_MASK, 7, UINT32_MAX },
        { TAG_OTHER, 5, UINT32_MAX },
    };
    uint32_t version = 2;
    memcpy(buf, &version, 4);
    memcpy(buf + 4, e, sizeof(e));
    return 4 + sizeof(e);
}

/* Gives a host directory a default ACL; false (test skipped) where the
 * file system has no ACLs. */
static bool host_default_acl(struct fx *f, const char *name)
{
    uint8_t acl[64];
    size_t len = acl_build(acl, 1000, 7);
    g_autofree char *p = host_path(f, name);
    if (setxattr(p, "system.posix_acl_default", acl, len, 0) < 0) {
        g_assert_cmpint(errno, ==, EOPNOTSUPP);
        g_test_skip("no POSIX ACLs on this file system");
        return false;
    }
    return true;
}

static void test_acl_umask(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    struct pt_entry e;
    uint64_t fh;
    uint32_t of;

    host_dir(f, "acl", 0777, 0, 0);
    host_dir(f, "plain", 0777, 0, 0);
    if (!host_default_acl(f, "acl"))
        return;
    uint64_t acl = lookup_ok(f, PT_ROOT_ID, "acl");
    uint64_t plain = lookup_ok(f, PT_ROOT_ID, "plain");

    /* With ACLs negotiated the umask is ours to apply, but not where the
     * parent has a default ACL: the ACL's mask is then the group bits. */
    set_caps(f, (struct pt_init_caps){ .posix_acl = true, .dont_mask = true });
    g_assert_cmpint(pt_create(f->fs, &root_ctx, acl, "f", S_IFREG | 0666, O_WRONLY, 022, &e,
                              &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "acl/f"), ==, 0664);
    g_assert_cmpint(host_getxattr(f, "acl/f", "system.posix_acl_access"), >, 0);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, acl, "d", 0777, 022, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "acl/d"), ==, 0775);
    g_assert_cmpint(host_getxattr(f, "acl/d", "system.posix_acl_default"), >, 0);
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, acl, "n", S_IFREG | 0666, 0, 077, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "acl/n"), ==, 0664);
    /* Inherited further down: the new directory got the default ACL. */
    uint64_t d = e.nodeid;
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, acl, "d", &e), ==, 0);
    d = e.nodeid;
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, d, "dd", 0700, 077, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "acl/d/dd"), ==, 0700);
    g_assert_cmpint(host_getxattr(f, "acl/d/dd", "system.posix_acl_access"), >, 0);

    /* No default ACL: the umask applies. */
    g_assert_cmpint(pt_create(f->fs, &root_ctx, plain, "f", S_IFREG | 0666, O_WRONLY, 022, &e,
                              &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "plain/f"), ==, 0644);
    g_assert_cmpint(host_getxattr(f, "plain/f", "system.posix_acl_access"), ==, -ENODATA);
    g_assert_cmpint(pt_mkdir(f->fs, &root_ctx, plain, "d", 0777, 027, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "plain/d"), ==, 0750);

    /* Without ACLs negotiated the umask applies whatever the parent has,
     * which is what makes FUSE_POSIX_ACL need this check. */
    set_caps(f, (struct pt_init_caps){ .dont_mask = true });
    g_assert_cmpint(pt_mknod(f->fs, &root_ctx, acl, "n2", S_IFREG | 0666, 0, 022, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "acl/n2"), ==, 0644);
}

static void test_acl_kill_sgid(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    uint8_t acl[64];
    size_t len = acl_build(acl, 1000, 6);
    host_file(f, "g", 02775, 0, 0);
    host_file(f, "h", 02775, 0, 0);
    uint64_t g = lookup_ok(f, PT_ROOT_ID, "g");
    uint64_t h = lookup_ok(f, PT_ROOT_ID, "h");
    int r = pt_setxattr(f->fs, &root_ctx, g, "system.posix_acl_access", acl, len, 0,
                        FUSE_SETXATTR_ACL_KILL_SGID);
    if (r == -EOPNOTSUPP) {
        g_test_skip("no POSIX ACLs on this file system");
        return;
    }
    g_assert_cmpint(r, ==, 0);
    g_assert_cmpuint(host_mode(f, "g") & S_ISGID, ==, 0);
    /* Without the flag the caller may keep it. */
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, h, "system.posix_acl_access", acl, len, 0, 0),
                    ==, 0);
    g_assert_cmpuint(host_mode(f, "h") & S_ISGID, ==, S_ISGID);
}

/* ---- killpriv ---------------------------------------------------------- */

static void test_open_kill_suidgid(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    struct pt_ctx kill = root_ctx;
    struct pt_entry e;
    uint64_t fh;
    uint32_t of;
    kill.kill_suidgid = true;

    host_file(f, "a", 06755, 0, 0);
    host_file(f, "b", 06755, 0, 0);
    host_file(f, "c", 06755, 0, 0);
    uint64_t a = lookup_ok(f, PT_ROOT_ID, "a");
    uint64_t b = lookup_ok(f, PT_ROOT_ID, "b");

    /* FUSE_OPEN_KILL_SUIDGID with O_TRUNC: as an unprivileged truncate. */
    g_assert_cmpint(pt_open(f->fs, &kill, a, O_WRONLY | O_TRUNC, &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, a, fh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "a"), ==, 0755);
    /* Without O_TRUNC, or without the flag, nothing is dropped. */
    g_assert_cmpint(pt_open(f->fs, &kill, b, O_WRONLY, &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, b, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(pt_open(f->fs, &root_ctx, b, O_WRONLY | O_TRUNC, &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, b, fh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "b"), ==, 06755);

    /* CREATE that opens an existing file with O_TRUNC truncated it... */
    g_assert_cmpint(pt_create(f->fs, &kill, PT_ROOT_ID, "c", S_IFREG | 0644, O_WRONLY | O_TRUNC,
                              0, &e, &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "c"), ==, 0755);
    struct stat st;
    host_stat(f, "c", &st);
    g_assert_cmpint(st.st_size, ==, 0);
    /* ...a file it creates was not truncated and keeps what it was given. */
    g_assert_cmpint(pt_create(f->fs, &kill, PT_ROOT_ID, "new", S_IFREG | 04755,
                              O_WRONLY | O_TRUNC, 0, &e, &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpuint(host_mode(f, "new"), ==, 04755);
    /* O_EXCL on an existing name still fails. */
    g_assert_cmpint(pt_create(f->fs, &kill, PT_ROOT_ID, "c", S_IFREG | 0644,
                              O_WRONLY | O_EXCL, 0, &e, &fh, &of), ==, -EEXIST);
}

static void test_killpriv_renamed_capability(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    char err[128];
    g_assert_cmpint(pt_xattrmap_parse(":map::user.virtiofs.:", &f->xattrmap, err, sizeof(err)),
                    ==, 0);
    fx_reopen(f, &(struct pt_init_caps){ .killpriv_v2 = true });
    static const uint8_t cap[20] = { 0x00, 0x00, 0x00, 0x02 }; /* opaque to us */
    const char *renamed = "user.virtiofs.security.capability";

    host_file(f, "w", 0755, 0, 0);
    host_file(f, "t", 0755, 0, 0);
    host_file(f, "o", 0755, 0, 0);
    host_file(f, "keep", 0755, 0, 0);
    uint64_t w = lookup_ok(f, PT_ROOT_ID, "w");
    uint64_t t = lookup_ok(f, PT_ROOT_ID, "t");
    uint64_t o = lookup_ok(f, PT_ROOT_ID, "o");
    uint64_t keep = lookup_ok(f, PT_ROOT_ID, "keep");
    uint64_t ids[] = { w, t, o, keep };
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
        g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, ids[i], "security.capability", cap,
                                    sizeof(cap), 0, 0), ==, 0);
    g_assert_cmpint(host_getxattr(f, "w", renamed), ==, (ssize_t)sizeof(cap));

    /* A write drops it, as the host kernel drops the real one... */
    uint64_t fh;
    uint32_t of;
    g_assert_cmpint(pt_open(f->fs, &root_ctx, w, O_WRONLY, &fh, &of), ==, 0);
    struct iovec v = { (void *)"x", 1 };
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &v, 1, 0), ==, 1);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, w, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(host_getxattr(f, "w", renamed), ==, -ENODATA);
    /* ...and so do a truncate and an owner change. */
    struct pt_attr a;
    struct pt_setattr sa = { .valid = FATTR_SIZE, .size = 1 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, t, &sa, &a), ==, 0);
    g_assert_cmpint(host_getxattr(f, "t", renamed), ==, -ENODATA);
    sa = (struct pt_setattr){ .valid = FATTR_UID, .uid = 1000 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, o, &sa, &a), ==, 0);
    g_assert_cmpint(host_getxattr(f, "o", renamed), ==, -ENODATA);
    /* A mode change is none of those. */
    sa = (struct pt_setattr){ .valid = FATTR_MODE, .mode = 0700 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, keep, &sa, &a), ==, 0);
    g_assert_cmpint(host_getxattr(f, "keep", renamed), ==, (ssize_t)sizeof(cap));

    /* Without KILLPRIV_V2 the guest removes it itself: we leave it. */
    set_caps(f, (struct pt_init_caps){ 0 });
    g_assert_cmpint(pt_open(f->fs, &root_ctx, keep, O_WRONLY, &fh, &of), ==, 0);
    g_assert_cmpint(pt_write(f->fs, &root_ctx, fh, 0, &v, 1, 0), ==, 1);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, keep, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(host_getxattr(f, "keep", renamed), ==, (ssize_t)sizeof(cap));
}

/* ---- security contexts ------------------------------------------------- */

static void test_secctx(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    struct pt_secctx sc = { .name = "user.label", .value = "system_u:obj", .size = 12 };
    struct pt_ctx ctx = user_ctx;
    ctx.secctx = &sc;
    ctx.nr_secctx = 1;
    struct pt_entry e;
    uint64_t fh;
    uint32_t of;
    char buf[64];
    g_autofree char *pf = host_path(f, "f");
    g_autofree char *pd = host_path(f, "d");

    g_assert_cmpint(pt_create(f->fs, &ctx, PT_ROOT_ID, "f", S_IFREG | 0600, O_WRONLY, 0, &e,
                              &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(lgetxattr(pf, "user.label", buf, sizeof(buf)), ==, 12);
    g_assert_cmpmem(buf, 12, "system_u:obj", 12);
    /* Set although the file is the user's, mode 0600: the daemon sets it. */
    struct stat st;
    host_stat(f, "f", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpint(pt_mkdir(f->fs, &ctx, PT_ROOT_ID, "d", 0500, 0, &e), ==, 0);
    g_assert_cmpint(lgetxattr(pd, "user.label", buf, sizeof(buf)), ==, 12);

    /* A symlink carries it itself (trusted.: user. is not for symlinks). */
    struct pt_secctx tsc = { .name = "trusted.label", .value = "lnk", .size = 3 };
    ctx.secctx = &tsc;
    g_assert_cmpint(pt_symlink(f->fs, &ctx, PT_ROOT_ID, "l", "f", &e), ==, 0);
    g_autofree char *pl = host_path(f, "l");
    g_assert_cmpint(lgetxattr(pl, "trusted.label", buf, sizeof(buf)), ==, 3);
    g_assert_cmpint(lgetxattr(pf, "trusted.label", buf, sizeof(buf)), ==, -1);

    /* A context that cannot be set leaves nothing behind: no unlabelled
     * inode reaches the guest. */
    ctx.secctx = &sc;
    g_assert_cmpint(pt_mknod(f->fs, &ctx, PT_ROOT_ID, "fifo", S_IFIFO | 0600, 0, 0, &e), ==,
                    -EPERM);
    g_assert_false(host_exists(f, "fifo"));
    struct pt_secctx bad = { .name = "", .value = "", .size = 0 };
    ctx.secctx = &bad;
    g_assert_cmpint(pt_mkdir(f->fs, &ctx, PT_ROOT_ID, "d2", 0700, 0, &e), ==, -EINVAL);
    g_assert_false(host_exists(f, "d2"));

    /* With an xattr map the context is stored under its mapped name; a
     * refused name fails before anything is created. */
    char err[128];
    g_assert_cmpint(pt_xattrmap_parse(":prefix:all:security.:user.virtiofs.:"
                                      ":bad:all:trusted.:trusted.: :ok:all:::",
                                      &f->xattrmap, err, sizeof(err)), ==, 0);
    fx_reopen(f, NULL);
    struct pt_secctx se = { .name = "security.selinux", .value = "u:r:t:s0", .size = 8 };
    ctx.secctx = &se;
    g_assert_cmpint(pt_create(f->fs, &ctx, PT_ROOT_ID, "m", S_IFREG | 0600, O_WRONLY, 0, &e,
                              &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    g_assert_cmpint(host_getxattr(f, "m", "user.virtiofs.security.selinux"), ==, 8);
    g_assert_cmpint(host_getxattr(f, "m", "security.selinux"), <, 0);
    ctx.secctx = &tsc;
    g_assert_cmpint(pt_mkdir(f->fs, &ctx, PT_ROOT_ID, "refused", 0700, 0, &e), ==, -EPERM);
    g_assert_false(host_exists(f, "refused"));
}

/* ---- supplementary groups and CVE-2022-0358 ------------------------------ */

static void test_supp_group(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    struct pt_ctx ctx = user_ctx;
    struct pt_entry e;
    struct stat st;
    /* A set-group-id directory of group 4242; the user is in 4242 only as a
     * supplementary group, which the guest says with FUSE_EXT_GROUPS. The
     * guest checked the directory's permissions; what the group changes on
     * the host is whether a new set-group-id file keeps S_ISGID. */
    host_dir(f, "team", 02777, 0, 4242);
    uint64_t team = lookup_ok(f, PT_ROOT_ID, "team");
    g_assert_cmpint(pt_mknod(f->fs, &ctx, team, "no", S_IFREG | 02755, 0, 0, &e), ==, 0);
    host_stat(f, "team/no", &st);
    g_assert_cmpuint(st.st_gid, ==, 4242);
    g_assert_false(st.st_mode & S_ISGID);
    ctx.has_supp_gid = true;
    ctx.supp_gid = 4242;
    g_assert_cmpint(pt_mknod(f->fs, &ctx, team, "yes", S_IFREG | 02755, 0, 0, &e), ==, 0);
    host_stat(f, "team/yes", &st);
    g_assert_cmpuint(st.st_uid, ==, 1000);
    g_assert_cmpuint(st.st_gid, ==, 4242);
    g_assert_true(st.st_mode & S_ISGID);
    /* The group was the call's only: the thread has none again. */
    g_assert_cmpint(getgroups(0, NULL), ==, 0);
    ctx.has_supp_gid = false;
    g_assert_cmpint(pt_mknod(f->fs, &ctx, team, "again", S_IFREG | 02755, 0, 0, &e), ==, 0);
    host_stat(f, "team/again", &st);
    g_assert_false(st.st_mode & S_ISGID);
}

/*
 * CVE-2022-0358: a directory of group G is set-group-id and writable by
 * everyone; a guest user not in G creates an executable with S_ISGID in it.
 * The file's group is G (inherited), so S_ISGID must be dropped, or the
 * user gets a program that runs with group G. The host kernel drops it
 * unless the creator has CAP_FSETID or is in G, and a daemon that creates
 * with the user's fs ids but kept its own supplementary groups is "in G"
 * when it, the daemon, is.
 */
static int vulnerable_create(int dfd, const char *name, mode_t mode)
{
    /* fs ids switched, the process's supplementary groups kept. */
    syscall(SYS_setfsgid, 1000);
    syscall(SYS_setfsuid, 1000);
    int fd = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
    int e = errno;
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
    if (fd >= 0)
        close(fd);
    errno = e;
    return fd < 0 ? -e : 0;
}

static void test_cve_2022_0358(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    const gid_t g = 4343;
    host_dir(f, "sgid", 03777, 0, g);
    int dfd = openat(f->dfd, "sgid", O_PATH | O_DIRECTORY | O_CLOEXEC);
    g_assert_cmpint(dfd, >=, 0);

    /* The daemon is a member of G, as root often is of many groups. */
    g_assert_cmpint(setgroups(1, &g), ==, 0);

    /* The scenario reproduces on the vulnerable design: S_ISGID stays. */
    g_assert_cmpint(vulnerable_create(dfd, "vulnerable", 02755), ==, 0);
    struct stat st;
    host_stat(f, "sgid/vulnerable", &st);
    g_assert_cmpuint(st.st_gid, ==, g);
    g_assert_cmpuint(st.st_mode & 07777, ==, 02755);
    close(dfd);

    /* Ours: starting the filesystem drops the memberships, and the user's
     * file loses S_ISGID, whichever call creates it. */
    fx_reopen(f, NULL);
    uint64_t dir = lookup_ok(f, PT_ROOT_ID, "sgid");
    struct pt_entry e;
    uint64_t fh;
    uint32_t of;
    g_assert_cmpint(pt_create(f->fs, &user_ctx, dir, "created", S_IFREG | 02755, O_WRONLY, 0,
                              &e, &fh, &of), ==, 0);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    host_stat(f, "sgid/created", &st);
    g_assert_cmpuint(st.st_gid, ==, g);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);
    g_assert_cmpuint(e.attr.st.st_mode & S_ISGID, ==, 0);
    g_assert_cmpint(getgroups(0, NULL), ==, 0);
    g_assert_cmpint(pt_mknod(f->fs, &user_ctx, dir, "made", S_IFREG | 02755, 0, 0, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "sgid/made"), ==, 0755);
    /* A directory inherits S_ISGID from its parent, as it should. */
    g_assert_cmpint(pt_mkdir(f->fs, &user_ctx, dir, "sub", 0755, 0, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "sgid/sub"), ==, 02755);

    /* A caller the guest says is in G keeps it, as a member would. */
    struct pt_ctx member = user_ctx;
    member.has_supp_gid = true;
    member.supp_gid = g;
    g_assert_cmpint(pt_mknod(f->fs, &member, dir, "member", S_IFREG | 02755, 0, 0, &e), ==, 0);
    g_assert_cmpuint(host_mode(f, "sgid/member"), ==, 02755);
    g_assert_cmpint(getgroups(0, NULL), ==, 0);
}

/* ---- uid/gid translation ------------------------------------------------ */

struct plus_seen {
    uint32_t uid, gid;
    bool found;
};

static int plus_emit(void *cookie, const struct pt_dirent *d)
{
    struct plus_seen *s = cookie;
    if (d->entry && d->entry->nodeid && strcmp(d->name, "hostfile") == 0) {
        s->uid = d->entry->attr.st.st_uid;
        s->gid = d->entry->attr.st.st_gid;
        s->found = true;
    }
    return 1;
}

static void test_idmap(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    char err[128];
    g_assert_cmpint(pt_idmap_new(&f->uid_map), ==, 0);
    g_assert_cmpint(pt_idmap_new(&f->gid_map), ==, 0);
    g_assert_cmpint(pt_idmap_add(f->uid_map, "map:1000:3000:1", err, sizeof(err)), ==, 0);
    g_assert_cmpint(pt_idmap_add(f->uid_map, "forbid-guest:1500:10", err, sizeof(err)), ==, 0);
    g_assert_cmpint(pt_idmap_add(f->uid_map, "squash-host:5000:65534:100", err, sizeof(err)),
                    ==, 0);
    g_assert_cmpint(pt_idmap_add(f->gid_map, "map:1000:3000:1", err, sizeof(err)), ==, 0);
    g_assert_cmpint(pt_idmap_add(f->gid_map, "guest:4242:7000:1", err, sizeof(err)), ==, 0);
    g_assert_cmpint(pt_idmap_add(f->gid_map, "forbid-guest:4300:1", err, sizeof(err)), ==, 0);
    fx_reopen(f, NULL);

    /* Guest 1000 creates as host 3000 and sees itself as the owner. */
    struct pt_entry e;
    struct stat st;
    g_assert_cmpint(pt_mkdir(f->fs, &user_ctx, PT_ROOT_ID, "mine", 0755, 0, &e), ==, 0);
    host_stat(f, "mine", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);
    g_assert_cmpuint(st.st_gid, ==, 3000);
    g_assert_cmpuint(e.attr.st.st_uid, ==, 1000);
    g_assert_cmpuint(e.attr.st.st_gid, ==, 1000);
    uint64_t fh;
    uint32_t of;
    g_assert_cmpint(pt_create(f->fs, &user_ctx, e.nodeid, "f", S_IFREG | 0644, O_WRONLY, 0, &e,
                              &fh, &of), ==, 0);
    g_assert_cmpuint(e.attr.st.st_uid, ==, 1000);
    g_assert_cmpint(pt_release(f->fs, &root_ctx, e.nodeid, fh, 0, 0, 0), ==, 0);
    host_stat(f, "mine/f", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);

    /* Host owners come back translated: mapped, squashed, or as they are. */
    host_file(f, "hostfile", 0644, 3000, 3000);
    host_file(f, "squashed", 0644, 5042, 0);
    host_file(f, "other", 0644, 4000, 4000);
    struct pt_attr a;
    uint64_t hf = lookup_ok(f, PT_ROOT_ID, "hostfile");
    g_assert_cmpint(pt_getattr(f->fs, &root_ctx, hf, false, 0, &a), ==, 0);
    g_assert_cmpuint(a.st.st_uid, ==, 1000);
    g_assert_cmpuint(a.st.st_gid, ==, 1000);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "squashed", &e), ==, 0);
    g_assert_cmpuint(e.attr.st.st_uid, ==, 65534);
    g_assert_cmpint(pt_lookup(f->fs, &root_ctx, PT_ROOT_ID, "other", &e), ==, 0);
    g_assert_cmpuint(e.attr.st.st_uid, ==, 4000);
    g_assert_cmpuint(e.attr.st.st_gid, ==, 4000);
    /* READDIRPLUS too. */
    uint64_t dh;
    g_assert_cmpint(pt_opendir(f->fs, &root_ctx, PT_ROOT_ID, 0, &dh, &of), ==, 0);
    struct plus_seen seen = { 0 };
    g_assert_cmpint(pt_readdir(f->fs, &root_ctx, PT_ROOT_ID, dh, 0, true, plus_emit, &seen), ==,
                    0);
    g_assert_true(seen.found);
    g_assert_cmpuint(seen.uid, ==, 1000);
    g_assert_cmpuint(seen.gid, ==, 1000);
    g_assert_cmpint(pt_releasedir(f->fs, &root_ctx, PT_ROOT_ID, dh), ==, 0);

    /* SETATTR owners are guest ids. */
    uint64_t other = lookup_ok(f, PT_ROOT_ID, "other");
    struct pt_setattr sa = { .valid = FATTR_UID | FATTR_GID, .uid = 1000, .gid = 4242 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, other, &sa, &a), ==, 0);
    host_stat(f, "other", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);
    g_assert_cmpuint(st.st_gid, ==, 7000);
    g_assert_cmpuint(a.st.st_uid, ==, 1000);
    g_assert_cmpuint(a.st.st_gid, ==, 7000); /* guest: only, no way back */

    /* Forbidden guest ids: neither an owner nor a creator, nothing changes. */
    sa = (struct pt_setattr){ .valid = FATTR_MODE | FATTR_UID, .mode = 0600, .uid = 1505 };
    g_assert_cmpint(pt_setattr(f->fs, &root_ctx, other, &sa, &a), ==, -EPERM);
    host_stat(f, "other", &st);
    g_assert_cmpuint(st.st_uid, ==, 3000);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0644);
    struct pt_ctx forbidden = { .uid = 1509, .gid = 1000 };
    g_assert_cmpint(pt_mkdir(f->fs, &forbidden, PT_ROOT_ID, "nope", 0755, 0, &e), ==, -EPERM);
    g_assert_false(host_exists(f, "nope"));
    g_assert_cmpint(pt_access(f->fs, &forbidden, PT_ROOT_ID, R_OK), ==, -EPERM);

    /* The supplementary group is a guest id as well: guest 4242 is host
     * 7000, the only group that may write here. */
    host_dir(f, "team", 0770, 0, 7000);
    uint64_t team = lookup_ok(f, PT_ROOT_ID, "team");
    struct pt_ctx member = user_ctx;
    member.has_supp_gid = true;
    member.supp_gid = 4242;
    g_assert_cmpint(pt_mkdir(f->fs, &member, team, "in", 0755, 0, &e), ==, 0);
    member.supp_gid = 4300; /* forbidden */
    g_assert_cmpint(pt_mkdir(f->fs, &member, team, "out", 0755, 0, &e), ==, -EPERM);
    g_assert_false(host_exists(f, "team/out"));
}

/* ---- xattr name mapping ------------------------------------------------- */

static void test_xattrmap(struct fx *f, gconstpointer data)
{
    if (!is_root())
        return;
    char err[128];
    g_assert_cmpint(pt_xattrmap_parse("/prefix/all/user./user.virtiofs./"
                                      "/bad/server//user./"
                                      "/bad/client/trusted.//"
                                      "/unsupported/client/system.nfs4//"
                                      "/ok/all///", &f->xattrmap, err, sizeof(err)), ==, 0);
    fx_reopen(f, NULL);
    host_file(f, "x", 0644, 0, 0);
    g_autofree char *p = host_path(f, "x");
    g_assert_cmpint(setxattr(p, "user.hostonly", "h", 1, 0), ==, 0);
    uint64_t x = lookup_ok(f, PT_ROOT_ID, "x");
    char buf[256];

    /* Stored under the prefix, read back under the guest's name. */
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, x, "user.foo", "bar", 3, 0, 0), ==, 0);
    g_assert_cmpint(lgetxattr(p, "user.virtiofs.user.foo", buf, sizeof(buf)), ==, 3);
    g_assert_cmpint(lgetxattr(p, "user.foo", buf, sizeof(buf)), ==, -1);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, x, "user.foo", buf, sizeof(buf)), ==, 3);
    g_assert_cmpmem(buf, 3, "bar", 3);
    /* The host's own user. names are out of reach and out of sight. */
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, x, "user.hostonly", buf, sizeof(buf)), ==,
                    -ENODATA);
    static const char want[] = "user.foo";
    g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, x, NULL, 0), ==, (ssize_t)sizeof(want));
    g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, x, buf, sizeof(want)), ==,
                    (ssize_t)sizeof(want));
    g_assert_cmpmem(buf, sizeof(want), want, sizeof(want));
    /* The guest's buffer is measured against the mapped list, not the
     * host's longer one. */
    g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, x, buf, sizeof(want) - 1), ==, -ERANGE);

    /* Refused names: bad gives EPERM (ENODATA to GETXATTR), unsupported
     * ENOTSUP; the host attribute is untouched. */
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, x, "trusted.t", "v", 1, 0, 0), ==, -EPERM);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, x, "trusted.t", buf, sizeof(buf)), ==,
                    -ENODATA);
    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, x, "trusted.t"), ==, -EPERM);
    g_assert_cmpint(pt_setxattr(f->fs, &root_ctx, x, "system.nfs4_acl", "v", 1, 0, 0), ==,
                    -ENOTSUP);
    g_assert_cmpint(pt_getxattr(f->fs, &root_ctx, x, "system.nfs4_acl", buf, sizeof(buf)), ==,
                    -ENOTSUP);

    /* Remove through the mapped name. */
    g_assert_cmpint(pt_removexattr(f->fs, &root_ctx, x, "user.foo"), ==, 0);
    g_assert_cmpint(lgetxattr(p, "user.virtiofs.user.foo", buf, sizeof(buf)), ==, -1);
    g_assert_cmpint(pt_listxattr(f->fs, &root_ctx, x, NULL, 0), ==, 0);
    g_assert_cmpint(lgetxattr(p, "user.hostonly", buf, sizeof(buf)), ==, 1);
}

#define ADD(name, fn) \
    g_test_add("/passthrough-security/" name, struct fx, NULL, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD("acl/umask-and-default-acl", test_acl_umask);
    ADD("acl/kill-sgid", test_acl_kill_sgid);
    ADD("killpriv/open-create", test_open_kill_suidgid);
    ADD("killpriv/renamed-capability", test_killpriv_renamed_capability);
    ADD("secctx", test_secctx);
    ADD("supp-group", test_supp_group);
    ADD("cve-2022-0358", test_cve_2022_0358);
    ADD("idmap", test_idmap);
    ADD("xattrmap", test_xattrmap);
    return g_test_run();
}

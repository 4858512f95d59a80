/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest cannot reach outside the shared directory or gain privileges on
 * the host, whatever it asks: ".." from the root, symlinks pointing outside
 * used as path components or opened, a directory swapped for such a symlink
 * while lookups go through it, /proc names, LINK of nodeids when the share
 * is a bind mount of a directory that holds other files, device nodes and
 * fifos it creates, set-id files made by an unprivileged user.
 *
 * Each case checks the refusal and that the canary outside the share (a
 * directory with a file, an xattr and a subdirectory beside the share) is
 * exactly as it was: content, mode, owner, link count, times, xattrs.
 * meson runs the suite with the default namespace sandbox, with
 * --sandbox=none, and with file handles.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/fixture.h"

#define ROOT FUSE_ROOT_ID
#define SECRET "the canary outside the share\n"

/* --- the canary ------------------------------------------------------------ */

/* <root>/outside: secret (0640, user.canary xattr when the host has them)
 * and dir/inner. Beside <root>/share, so "../outside" from the share's root
 * names it. */
static char *outside_path(struct fx *f, const char *name)
{
    return g_build_filename(f->root, "outside", name, NULL);
}

static void make_canary(struct fx *f)
{
    g_autofree char *dir = outside_path(f, NULL);
    g_autofree char *secret = outside_path(f, "secret");
    g_autofree char *sub = outside_path(f, "dir");
    g_autofree char *inner = outside_path(f, "dir/inner");
    g_assert_cmpint(mkdir(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(secret, SECRET, -1, NULL));
    g_assert_cmpint(chmod(secret, 0640), ==, 0);
    setxattr(secret, "user.canary", "outside", 7, 0); /* best effort: tmpfs may lack user.* */
    g_assert_cmpint(mkdir(sub, 0700), ==, 0);
    g_assert_true(g_file_set_contents(inner, "inner\n", -1, NULL));
}

/* Everything about the canary that a write, chmod, chown, link, truncate,
 * utimes or xattr change through it would alter. */
static char *canary_state(struct fx *f)
{
    g_autofree char *dir = outside_path(f, NULL);
    g_autofree char *cmd = g_strdup_printf(
        "cd '%s' && find . -printf '%%p %%M %%U:%%G %%n %%s %%T@ %%C@ %%l\\n' | sort && "
        "find . -type f -exec sha256sum {} + | sort && "
        "(getfattr -R -d -m - --absolute-names . 2>/dev/null | sort || true)", dir);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    char *out = NULL;
    int status;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    return out;
}

struct canary {
    char *before;
};

static void canary_begin(struct fx *f, struct canary *c)
{
    c->before = canary_state(f);
}

static void canary_check(struct fx *f, struct canary *c)
{
    g_autofree char *after = canary_state(f);
    g_assert_cmpstr(after, ==, c->before);
    g_free(c->before);
    c->before = NULL;
}

static void host_stat(struct fx *f, const char *name, struct stat *st)
{
    g_assert_cmpint(fstatat(f->share_fd, name, st, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static ino_t outside_ino(struct fx *f, const char *name)
{
    g_autofree char *p = outside_path(f, name);
    struct stat st;
    g_assert_cmpint(lstat(p, &st), ==, 0);
    return st.st_ino;
}

/* --- ".." ------------------------------------------------------------------ */

static void test_dotdot(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct stat share_st;
    struct canary c;

    make_canary(f);
    g_assert_cmpint(mkdirat(f->share_fd, "sub", 0755), ==, 0);
    g_assert_cmpint(fstat(f->share_fd, &share_st), ==, 0);
    canary_begin(f, &c);

    /* ".." of the root is the root, as often as asked */
    uint64_t n = ROOT;
    for (int i = 0; i < 4; i++) {
        n = fx_lookup(f, n, "..", &e);
        g_assert_cmpuint(n, ==, ROOT);
        g_assert_cmpuint(e.attr.ino, ==, share_st.st_ino);
    }
    g_assert_cmpint(tc_fuse_lookup(f->dev, n, "outside", &e), ==, -ENOENT);
    /* ".." of a subdirectory is the root again */
    uint64_t sub = fx_lookup(f, ROOT, "sub", NULL);
    g_assert_cmpuint(fx_lookup(f, sub, "..", NULL), ==, ROOT);
    g_assert_cmpuint(fx_lookup(f, fx_lookup(f, sub, "..", NULL), "..", NULL), ==, ROOT);
    /* names are single components */
    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, "../outside", &e), ==, -EINVAL);
    g_assert_cmpint(tc_fuse_lookup(f->dev, sub, "../../outside/secret", &e), ==, -EINVAL);
    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, "/", &e), ==, -EINVAL);
    /* ".." cannot be created, removed or renamed to */
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "..", 0755, 0, &e), ==, -EINVAL);
    g_assert_cmpint(tc_fuse_rmdir(f->dev, sub, ".."), ==, -EINVAL);
    g_assert_cmpint(tc_fuse_rename(f->dev, ROOT, "sub", ROOT, ".."), ==, -EINVAL);
    struct fuse_open_out o;
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "../escape", O_CREAT | O_RDWR, 0644, 0, &e, &o),
                    ==, -EINVAL);
    g_assert_cmpint(tc_fuse_symlink(f->dev, ROOT, "x/..", "/", &e), ==, -EINVAL);

    /* READDIRPLUS gives no entry (nodeid) for "." and ".." */
    char buf[4096];
    g_assert_cmpint(tc_fuse_opendir(f->dev, ROOT, O_RDONLY, &o), ==, 0);
    int len = tc_fuse_readdirplus(f->dev, ROOT, o.fh, 0, buf, sizeof(buf));
    g_assert_cmpint(len, >, 0);
    size_t pos = 0;
    struct tc_dirent d;
    while (tc_dirent_next(buf, (size_t)len, &pos, true, &d) == 1)
        if (strcmp(d.name, "..") == 0 || strcmp(d.name, ".") == 0)
            g_assert_cmpuint(d.entry.nodeid, ==, 0);
    g_assert_cmpint(tc_fuse_releasedir(f->dev, ROOT, o.fh), ==, 0);
    canary_check(f, &c);
}

/* --- symlinks pointing outside --------------------------------------------- */

/* Links in the share to the canary, absolute and relative, to the directory
 * and to the file. */
static void make_links(struct fx *f)
{
    g_autofree char *dir = outside_path(f, NULL);
    g_autofree char *secret = outside_path(f, "secret");
    g_assert_cmpint(symlinkat(dir, f->share_fd, "absdir"), ==, 0);
    g_assert_cmpint(symlinkat("../outside", f->share_fd, "reldir"), ==, 0);
    g_assert_cmpint(symlinkat(secret, f->share_fd, "absfile"), ==, 0);
    g_assert_cmpint(symlinkat("../outside/secret", f->share_fd, "relfile"), ==, 0);
    g_assert_cmpint(mkdirat(f->share_fd, "deep", 0755), ==, 0);
    g_assert_cmpint(symlinkat("../../outside/secret", f->share_fd, "deep/relfile"), ==, 0);
}

static void test_symlink_components(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct canary c;
    static const char *const dirs[] = { "absdir", "reldir" };

    make_canary(f);
    make_links(f);
    canary_begin(f, &c);
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        uint64_t l = fx_lookup(f, ROOT, dirs[i], &e);
        g_assert_true(S_ISLNK(e.attr.mode));
        /* LOOKUP through the link does not follow it */
        g_assert_cmpint(tc_fuse_lookup(f->dev, l, "secret", &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_lookup(f->dev, l, "dir", &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_lookup(f->dev, l, "..", &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_lookup(f->dev, l, ".", &e), ==, -ENOTDIR);
        /* nor do the calls that take a directory */
        g_assert_cmpint(tc_fuse_opendir(f->dev, l, O_RDONLY, &o), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_create(f->dev, l, "new", O_CREAT | O_RDWR, 0644, 0, &e, &o), ==,
                        -ENOTDIR);
        g_assert_cmpint(tc_fuse_mkdir(f->dev, l, "new", 0755, 0, &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_mknod(f->dev, l, "new", S_IFREG | 0644, 0, 0, &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_symlink(f->dev, l, "new", "x", &e), ==, -ENOTDIR);
        int r = tc_fuse_unlink(f->dev, l, "secret");
        g_assert_true(r == -ENOTDIR || r == -EBADF);
        r = tc_fuse_rmdir(f->dev, l, "dir");
        g_assert_true(r == -ENOTDIR || r == -EBADF);
        r = tc_fuse_rename(f->dev, l, "secret", ROOT, "stolen");
        g_assert_true(r == -ENOTDIR || r == -EBADF);
        g_assert_false(fstatat(f->share_fd, "stolen", &(struct stat){ 0 }, AT_SYMLINK_NOFOLLOW) == 0);
        g_assert_cmpint(tc_fuse_link(f->dev, ROOT, l, "new", &e), ==, -ENOTDIR);
        char buf[512];
        g_assert_cmpint(tc_fuse_readdir(f->dev, l, 0, 0, buf, sizeof(buf)), <, 0);
    }
    canary_check(f, &c);
}

static void test_symlink_targets(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct fuse_attr_out a;
    struct canary c;
    static const char *const files[] = { "absfile", "relfile", "deep/relfile" };

    make_canary(f);
    make_links(f);
    canary_begin(f, &c);
    uint64_t deep = fx_lookup(f, ROOT, "deep", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        uint64_t parent = i == 2 ? deep : ROOT;
        const char *name = i == 2 ? "relfile" : files[i];
        uint64_t l = fx_lookup(f, parent, name, &e);
        struct stat st;
        host_stat(f, files[i], &st);
        /* the link's own attributes, never the target's */
        g_assert_true(S_ISLNK(e.attr.mode));
        g_assert_cmpuint(e.attr.ino, ==, st.st_ino);
        g_assert_cmpuint(e.attr.ino, !=, outside_ino(f, "secret"));
        g_assert_cmpint(tc_fuse_getattr(f->dev, l, 0, 0, &a), ==, 0);
        g_assert_true(S_ISLNK(a.attr.mode));
        /* READLINK says where it points; nothing reads what is there */
        char target[PATH_MAX];
        g_assert_cmpint(tc_fuse_readlink(f->dev, l, target, sizeof(target)), >, 0);
        char host_target[PATH_MAX];
        ssize_t tl = readlinkat(f->share_fd, files[i], host_target, sizeof(host_target) - 1);
        g_assert_cmpint(tl, >, 0);
        host_target[tl] = '\0';
        g_assert_cmpstr(target, ==, host_target);
        /* OPEN of a symlink: never its target, in any mode */
        static const uint32_t modes[] = { O_RDONLY, O_WRONLY, O_RDWR | O_TRUNC, O_RDWR | O_APPEND };
        for (size_t m = 0; m < G_N_ELEMENTS(modes); m++)
            g_assert_cmpint(tc_fuse_open(f->dev, l, modes[m], &o), ==, -ELOOP);
        /* the attribute calls change the link or refuse */
        struct fuse_setattr_in size = { .valid = FATTR_SIZE, .size = 0 };
        g_assert_cmpint(tc_fuse_setattr(f->dev, l, &size, &a), ==, -EINVAL);
        struct fuse_setattr_in mode = { .valid = FATTR_MODE, .mode = 0666 };
        g_assert_cmpint(tc_fuse_setattr(f->dev, l, &mode, &a), ==, -EOPNOTSUPP);
        struct fuse_setattr_in own = { .valid = FATTR_UID | FATTR_GID, .uid = 4242, .gid = 4242 };
        g_assert_cmpint(tc_fuse_setattr(f->dev, l, &own, &a), ==, 0);
        host_stat(f, files[i], &st);
        g_assert_cmpuint(st.st_uid, ==, 4242); /* the link itself */
        struct fuse_setattr_in times = { .valid = FATTR_ATIME | FATTR_MTIME, .atime = 1,
                                         .mtime = 1 };
        g_assert_cmpint(tc_fuse_setattr(f->dev, l, &times, &a), ==, 0);
        host_stat(f, files[i], &st);
        g_assert_cmpint(st.st_mtim.tv_sec, ==, 1);
        /* xattrs are the link's: the canary's are not read, none is set on it */
        char val[64];
        g_assert_cmpint(tc_fuse_getxattr(f->dev, l, "user.canary", val, sizeof(val)), <, 0);
        g_assert_cmpint(tc_fuse_setxattr(f->dev, l, "user.stolen", "x", 1, 0), <, 0);
        g_assert_cmpint(tc_fuse_removexattr(f->dev, l, "user.canary"), <, 0);
        /* creating over the name does not follow it */
        int r = tc_fuse_create(f->dev, parent, name, O_CREAT | O_RDWR | O_TRUNC, 0644, 0, &e, &o);
        g_assert_true(r == -ELOOP || r == -EEXIST);
        r = tc_fuse_create(f->dev, parent, name, O_CREAT | O_EXCL | O_RDWR, 0644, 0, &e, &o);
        g_assert_cmpint(r, ==, -EEXIST);
        g_assert_cmpint(tc_fuse_mknod(f->dev, parent, name, S_IFREG | 0644, 0, 0, &e), ==, -EEXIST);
        g_assert_cmpint(tc_fuse_mkdir(f->dev, parent, name, 0755, 0, &e), ==, -EEXIST);
        /* LINK links the symlink, not the canary */
        g_autofree char *hl = g_strdup_printf("hard-%zu", i);
        g_assert_cmpint(tc_fuse_link(f->dev, l, ROOT, hl, &e), ==, 0);
        host_stat(f, hl, &st);
        g_assert_true(S_ISLNK(st.st_mode));
        g_assert_cmpuint(st.st_ino, !=, outside_ino(f, "secret"));
        /* ACCESS and STATFS answer for the link, change nothing */
        tc_fuse_access(f->dev, l, R_OK | W_OK);
        struct fuse_statfs_out sf;
        g_assert_cmpint(tc_fuse_statfs(f->dev, l, &sf), ==, 0);
    }
    /* RENAME over a link and UNLINK of one: the link goes, the canary stays */
    fx_write_file(f, "plain", "plain", 5, 0644);
    g_assert_cmpint(tc_fuse_rename(f->dev, ROOT, "plain", ROOT, "absfile"), ==, 0);
    g_assert_cmpint(tc_fuse_unlink(f->dev, ROOT, "relfile"), ==, 0);
    canary_check(f, &c);
}

/* --- a directory swapped for a symlink during lookups ---------------------- */

#define SWAP_ROUNDS 3000

struct swapper {
    struct fx *f;
    bool guest;              /* RENAME2 from the guest (queue 2), else host renameat2 */
    bool stop;               /* atomic */
    unsigned swaps;
    int error;               /* atomic */
};

static void *swap_loop(void *arg)
{
    struct swapper *s = arg;
    struct fuse_rename2_in in = { .newdir = ROOT, .flags = RENAME_EXCHANGE };
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        int r;
        if (s->guest) {
            struct tc_fuse_req req = {
                .opcode = FUSE_RENAME2, .nodeid = ROOT, .queue = 2,
                .in_cnt = 3, .in = { { &in, sizeof(in) }, { "d", 2 }, { "s", 2 } },
            };
            r = tc_fuse_call(s->f->dev, &req);
        } else {
            r = renameat2(s->f->share_fd, "d", s->f->share_fd, "s", RENAME_EXCHANGE) < 0 ? -errno
                                                                                        : 0;
        }
        if (r < 0) {
            __atomic_store_n(&s->error, r, __ATOMIC_RELEASE);
            break;
        }
        s->swaps++;
    }
    return NULL;
}

static const struct fx_variant two_queues = { .cfg = { .num_request_queues = 2 } };

/*
 * "d" is a directory holding "secret" (inside); "s" a symlink to the
 * canary directory, which holds a "secret" too. One thread keeps exchanging
 * the two names (through the guest's RENAME2 or on the host) while lookups
 * go through "d": a lookup may find the directory or the link, but never
 * anything outside.
 */
static void test_swap_race(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct canary c;

    if (!f->dev) {
        g_test_skip("the daemon takes a single request queue");
        return;
    }
    make_canary(f);
    g_autofree char *dir = outside_path(f, NULL);
    g_assert_cmpint(mkdirat(f->share_fd, "d", 0755), ==, 0);
    fx_write_file(f, "d/secret", "inside\n", 7, 0644);
    g_assert_cmpint(symlinkat(dir, f->share_fd, "s"), ==, 0);
    struct stat inside;
    host_stat(f, "d/secret", &inside);
    ino_t out_secret = outside_ino(f, "secret"), out_dir = outside_ino(f, NULL);
    canary_begin(f, &c);

    for (int guest = 0; guest <= 1; guest++) {
        struct swapper s = { .f = f, .guest = guest };
        pthread_t t;
        unsigned found = 0, refused = 0;
        g_assert_cmpint(pthread_create(&t, NULL, swap_loop, &s), ==, 0);
        for (unsigned i = 0; i < SWAP_ROUNDS; i++) {
            if (__atomic_load_n(&s.error, __ATOMIC_ACQUIRE))
                break;
            const char *name = (i & 1) ? "s" : "d";
            int r = tc_fuse_lookup(f->dev, ROOT, name, &e);
            if (r == -ENOENT)
                continue; /* between the two halves of a host-side exchange: none */
            g_assert_cmpint(r, ==, 0);
            g_assert_cmpuint(e.attr.ino, !=, out_dir);
            uint64_t n = e.nodeid;
            r = tc_fuse_lookup(f->dev, n, "secret", &e);
            if (r == 0) {
                found++;
                g_assert_cmpuint(e.attr.ino, ==, inside.st_ino);
                g_assert_cmpuint(e.attr.ino, !=, out_secret);
                struct fuse_open_out o;
                char buf[64];
                g_assert_cmpint(tc_fuse_open(f->dev, e.nodeid, O_RDONLY, &o), ==, 0);
                g_assert_cmpint(tc_fuse_read(f->dev, e.nodeid, o.fh, 0, buf, sizeof(buf)), ==, 7);
                g_assert_cmpmem(buf, 7, "inside\n", 7);
                g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDONLY), ==, 0);
                g_assert_cmpint(tc_fuse_forget(f->dev, e.nodeid, 1), ==, 0);
            } else {
                g_assert_cmpint(r, ==, -ENOTDIR); /* found the link: not followed */
                refused++;
            }
            g_assert_cmpint(tc_fuse_forget(f->dev, n, 1), ==, 0);
        }
        __atomic_store_n(&s.stop, true, __ATOMIC_RELEASE);
        pthread_join(t, NULL);
        g_assert_cmpint(s.error, ==, 0);
        g_test_message("%s swaps: %u; lookups through it found the inside file %u times, "
                       "the link %u times", guest ? "guest" : "host", s.swaps, found, refused);
        g_assert_cmpuint(s.swaps, >, 0);
        g_assert_cmpuint(found, >, 0);
    }
    canary_check(f, &c);
}

/* --- /proc ----------------------------------------------------------------- */

static void test_proc(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct canary c;

    make_canary(f);
    g_assert_cmpint(symlinkat("/proc/self/root", f->share_fd, "root-link"), ==, 0);
    g_assert_cmpint(symlinkat("/proc/self/cwd", f->share_fd, "cwd-link"), ==, 0);
    g_assert_cmpint(symlinkat("/proc/1/root/etc/passwd", f->share_fd, "passwd-link"), ==, 0);
    g_assert_cmpint(symlinkat("/proc/self/fd/3", f->share_fd, "fd-link"), ==, 0);
    canary_begin(f, &c);

    /* the share has no "proc", whatever the daemon's own root holds */
    static const char *const names[] = { "proc", "self", "sys", "dev", "etc" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, names[i], &e), ==, -ENOENT);
    static const char *const links[] = { "root-link", "cwd-link", "passwd-link", "fd-link" };
    for (size_t i = 0; i < G_N_ELEMENTS(links); i++) {
        uint64_t l = fx_lookup(f, ROOT, links[i], &e);
        g_assert_true(S_ISLNK(e.attr.mode));
        g_assert_cmpint(tc_fuse_lookup(f->dev, l, "etc", &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_lookup(f->dev, l, "outside", &e), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_opendir(f->dev, l, O_RDONLY, &o), ==, -ENOTDIR);
        g_assert_cmpint(tc_fuse_open(f->dev, l, O_RDONLY, &o), ==, -ELOOP);
        char target[256];
        g_assert_cmpint(tc_fuse_readlink(f->dev, l, target, sizeof(target)), >, 0);
        g_assert_true(g_str_has_prefix(target, "/proc/"));
    }
    /* a "proc" the guest makes is a plain directory of the share */
    uint64_t p;
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "proc", 0755, 0, &e), ==, 0);
    p = e.nodeid;
    g_assert_cmpint(tc_fuse_lookup(f->dev, p, "self", &e), ==, -ENOENT);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, p, "self", 0755, 0, &e), ==, 0);
    g_assert_cmpint(tc_fuse_lookup(f->dev, e.nodeid, "root", &e), ==, -ENOENT);
    canary_check(f, &c);
}

/* --- LINK when the share is a bind mount ------------------------------------ */

/*
 * <root>/tree holds outside.txt and src/; src is bind-mounted on <root>/share,
 * so the share and the file outside it are on one filesystem (a hard link
 * between them would be possible for anyone holding the outside inode).
 */
static void bind_share(struct fx *f)
{
    g_autofree char *tree = g_build_filename(f->root, "tree", NULL);
    g_autofree char *src = g_build_filename(tree, "src", NULL);
    g_autofree char *out = g_build_filename(tree, "outside.txt", NULL);
    g_autofree char *in = g_build_filename(src, "inside.txt", NULL);
    g_assert_cmpint(mkdir(tree, 0755), ==, 0);
    g_assert_cmpint(mkdir(src, 0755), ==, 0);
    g_assert_true(g_file_set_contents(out, SECRET, -1, NULL));
    g_assert_true(g_file_set_contents(in, "inside\n", -1, NULL));
    fx_private_mounts();
    if (mount(src, f->share, NULL, MS_BIND, NULL) < 0)
        g_error("bind-mounting %s on %s: %s", src, f->share, strerror(errno));
}

static void unbind_share(struct fx *f)
{
    umount2(f->share, MNT_DETACH);
}

static const struct fx_variant bind_mounted = {
    .before_start = bind_share, .after_stop = unbind_share,
};

static void tree_stat(struct fx *f, const char *name, struct stat *st)
{
    g_autofree char *p = g_build_filename(f->root, "tree", name, NULL);
    g_assert_cmpint(lstat(p, st), ==, 0);
}

/* Every name in the share whose inode is ino. */
static unsigned names_of(struct fx *f, ino_t ino)
{
    g_autofree char *cmd = g_strdup_printf("find '%s' -xdev -inum %llu | wc -l", f->share,
                                           (unsigned long long)ino);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    g_autofree char *out = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               NULL, NULL, NULL));
    return (unsigned)strtoul(out, NULL, 10);
}

static void test_link_bind_mount(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct stat out_before, out_after, st;

    tree_stat(f, "outside.txt", &out_before);
    g_assert_cmpuint(out_before.st_nlink, ==, 1);
    g_assert_cmpuint(out_before.st_dev, ==, ({ host_stat(f, "inside.txt", &st); st.st_dev; }));

    /* ".." of the bind-mounted root stays in it */
    g_assert_cmpuint(fx_lookup(f, ROOT, "..", NULL), ==, ROOT);
    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, "outside.txt", &e), ==, -ENOENT);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, ROOT, "sub", 0755, 0, &e), ==, 0);
    uint64_t sub = e.nodeid;
    g_assert_cmpuint(fx_lookup(f, sub, "..", NULL), ==, ROOT);

    /* LINK only takes nodeids the guest was given: made-up, stale and
     * out-of-range ones name nothing */
    uint64_t in = fx_lookup(f, ROOT, "inside.txt", NULL);
    uint64_t tmp = fx_lookup(f, ROOT, "sub", NULL);
    g_assert_cmpint(tc_fuse_forget(f->dev, tmp, 2), ==, 0);
    const uint64_t bogus[] = { 0, tmp, in + 1, in + 1000, (uint64_t)out_before.st_ino,
                               (uint64_t)out_before.st_ino << 32 | 1, 1ull << 32 | in,
                               UINT64_MAX, UINT64_MAX - 1, 0x8000000000000001ull };
    for (size_t i = 0; i < G_N_ELEMENTS(bogus); i++) {
        g_autofree char *name = g_strdup_printf("link-%zu", i);
        int r = tc_fuse_link(f->dev, bogus[i], ROOT, name, &e);
        g_assert_cmpint(r, <, 0);
        g_assert_false(fstatat(f->share_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0);
    }
    /* the root is a directory: no hard link */
    g_assert_cmpint(tc_fuse_link(f->dev, ROOT, ROOT, "root-link", &e), ==, -EPERM);
    /* a real nodeid links what it names, inside */
    g_assert_cmpint(tc_fuse_link(f->dev, in, ROOT, "inside-2", &e), ==, 0);
    g_assert_cmpuint(e.nodeid, ==, in);
    host_stat(f, "inside-2", &st);
    struct stat in_st;
    host_stat(f, "inside.txt", &in_st);
    g_assert_cmpuint(st.st_ino, ==, in_st.st_ino);
    g_assert_cmpuint(st.st_nlink, ==, 2);

    tree_stat(f, "outside.txt", &out_after);
    g_assert_cmpuint(out_after.st_nlink, ==, 1);
    g_assert_cmpint(out_after.st_ctim.tv_sec, ==, out_before.st_ctim.tv_sec);
    g_assert_cmpint(out_after.st_ctim.tv_nsec, ==, out_before.st_ctim.tv_nsec);
    g_assert_cmpuint(names_of(f, out_before.st_ino), ==, 0);
}

/* --- device nodes and fifos ------------------------------------------------ */

static void test_device_nodes(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct fuse_attr_out a;
    struct stat root_st;
    struct canary c;

    make_canary(f);
    canary_begin(f, &c);
    g_assert_cmpint(stat("/", &root_st), ==, 0);
    const struct {
        const char *name;
        uint32_t mode;
        dev_t rdev;
    } nodes[] = {
        { "mem", S_IFCHR | 0666, makedev(1, 1) },       /* host memory */
        { "zero", S_IFCHR | 0666, makedev(1, 5) },
        { "disk", S_IFBLK | 0666, root_st.st_dev },     /* the host's root filesystem */
        { "fifo", S_IFIFO | 0666, 0 },                  /* opening would block a thread */
        { "sock", S_IFSOCK | 0666, 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++) {
        int r = tc_fuse_mknod(f->dev, ROOT, nodes[i].name, nodes[i].mode,
                              (uint32_t)nodes[i].rdev, 0, &e);
        g_assert_cmpint(r, ==, 0);
        uint64_t n = e.nodeid;
        g_assert_cmphex(e.attr.mode & S_IFMT, ==, nodes[i].mode & S_IFMT);
        /* no open of it ever reaches the host node */
        static const uint32_t modes[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDONLY | O_NONBLOCK };
        for (size_t m = 0; m < G_N_ELEMENTS(modes); m++)
            g_assert_cmpint(tc_fuse_open(f->dev, n, modes[m], &o), ==, -ENXIO);
        g_assert_cmpint(tc_fuse_opendir(f->dev, n, O_RDONLY, &o), ==, -ENOTDIR);
        /* truncating it would open it for writing */
        struct fuse_setattr_in size = { .valid = FATTR_SIZE, .size = 0 };
        g_assert_cmpint(tc_fuse_setattr(f->dev, n, &size, &a), ==, -EINVAL);
        /* CREATE over its name does not open it either */
        r = tc_fuse_create(f->dev, ROOT, nodes[i].name, O_CREAT | O_RDWR, 0644, 0, &e, &o);
        if (r == 0) {
            char leak[64];
            int got = tc_fuse_read(f->dev, e.nodeid, o.fh, 0, leak, sizeof(leak));
            g_test_message("CREATE over %s opened the host node; READ gave %d", nodes[i].name,
                           got);
        }
        g_assert_cmpint(r, ==, -ENXIO);
        /* xattrs, SYNCFS, FSYNC on it: answered without opening it */
        char v[16];
        tc_fuse_getxattr(f->dev, n, "user.x", v, sizeof(v));
        tc_fuse_listxattr(f->dev, n, (char *)v, sizeof(v));
        g_assert_cmpint(tc_fuse_syncfs(f->dev, n), ==, 0);
        g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0); /* still serving */
    }
    /* O_CREAT | O_EXCL through CREATE on a new name makes a regular file */
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "regular", O_CREAT | O_EXCL | O_RDWR, 0644, 0,
                                   &e, &o), ==, 0);
    g_assert_true(S_ISREG(e.attr.mode));
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
    canary_check(f, &c);
}

/* --- set-id files made by an unprivileged user ----------------------------- */

#define USER 1000u

/* The daemon inherits our groups: start it with group root among them, as
 * sudo and many service managers do. */
static void join_group_root(struct fx *f)
{
    const gid_t root_group[] = { 0 };
    g_assert_cmpint(setgroups(1, root_group), ==, 0);
}

static void leave_groups(struct fx *f)
{
    g_assert_cmpint(setgroups(0, NULL), ==, 0);
}

static const struct fx_variant with_group_root = {
    .before_start = join_group_root, .after_stop = leave_groups,
};

static void test_setid_unprivileged(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct fuse_attr_out a;
    struct stat st;

    /* a root-owned, group-root, world-writable setgid directory, and a
     * root-owned setuid file anyone may write */
    g_assert_cmpint(mkdirat(f->share_fd, "shared", 0777), ==, 0);
    g_assert_cmpint(fchmodat(f->share_fd, "shared", 02777, 0), ==, 0);
    fx_write_file(f, "suid-root", "#!/bin/sh\n", 10, 04777);
    g_assert_cmpint(fchownat(f->share_fd, "shared", 0, 0, 0), ==, 0);
    g_assert_cmpint(fchownat(f->share_fd, "suid-root", 0, 0, 0), ==, 0);
    g_assert_cmpint(fchmodat(f->share_fd, "suid-root", 04777, 0), ==, 0);
    g_assert_cmpint(mkdirat(f->share_fd, "home", 0755), ==, 0);
    g_assert_cmpint(fchownat(f->share_fd, "home", USER, USER, 0), ==, 0);
    uint64_t shared = fx_lookup(f, ROOT, "shared", NULL);
    uint64_t suid_root = fx_lookup(f, ROOT, "suid-root", NULL);
    uint64_t home = fx_lookup(f, ROOT, "home", NULL);

    tc_fuse_set_creds(f->dev, USER, USER, (uint32_t)getpid());

    /* set-id bits on new files: theirs, never root's */
    g_assert_cmpint(tc_fuse_create(f->dev, home, "mine", O_CREAT | O_EXCL | O_RDWR, 06755, 0, &e,
                                   &o), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
    host_stat(f, "home/mine", &st);
    g_assert_cmpuint(st.st_uid, ==, USER);
    g_assert_cmpuint(st.st_gid, ==, USER);
    g_assert_cmpint(tc_fuse_mknod(f->dev, home, "mine-node", S_IFREG | 04755, 0, 0, &e), ==, 0);
    host_stat(f, "home/mine-node", &st);
    g_assert_cmpuint(st.st_uid, ==, USER);
    g_assert_cmpint(tc_fuse_mkdir(f->dev, home, "mine-dir", 02755, 0, &e), ==, 0);
    host_stat(f, "home/mine-dir", &st);
    g_assert_cmpuint(st.st_uid, ==, USER);

    /* In the setgid root-group directory a new file takes group root; the
     * user is not in it, so it must not keep S_ISGID (a setgid-root program) */
    g_assert_cmpint(tc_fuse_create(f->dev, shared, "f", O_CREAT | O_EXCL | O_RDWR, 02755, 0, &e,
                                   &o), ==, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
    host_stat(f, "shared/f", &st);
    g_assert_cmpuint(st.st_uid, ==, USER);
    g_assert_cmpuint(st.st_gid, ==, 0);
    g_assert_cmphex(st.st_mode & (S_ISUID | S_ISGID), ==, 0);
    g_assert_cmpint(tc_fuse_mknod(f->dev, shared, "n", S_IFREG | 02755, 0, 0, &e), ==, 0);
    host_stat(f, "shared/n", &st);
    g_assert_cmpuint(st.st_gid, ==, 0);
    g_assert_cmphex(st.st_mode & (S_ISUID | S_ISGID), ==, 0);

    /* writing to someone else's set-id file as the user drops the bits */
    g_assert_cmpint(tc_fuse_open(f->dev, suid_root, O_WRONLY, &o), ==, 0);
    struct fuse_write_in in = { .fh = o.fh, .offset = 0, .size = 1,
                                .write_flags = FUSE_WRITE_KILL_SUIDGID, .flags = O_WRONLY };
    struct fuse_write_out out;
    struct tc_fuse_req req = {
        .opcode = FUSE_WRITE, .nodeid = suid_root,
        .in_cnt = 2, .in = { { &in, sizeof(in) }, { "#", 1 } },
        .out_cnt = 1, .out = { { &out, sizeof(out) } },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &req), >=, 0);
    g_assert_cmpint(tc_fuse_release(f->dev, suid_root, o.fh, O_WRONLY), ==, 0);
    host_stat(f, "suid-root", &st);
    g_assert_cmphex(st.st_mode & S_ISUID, ==, 0);
    /* ... and so does truncating it with FATTR_KILL_SUIDGID */
    g_assert_cmpint(fchmodat(f->share_fd, "suid-root", 04777, 0), ==, 0);
    struct fuse_setattr_in trunc = { .valid = FATTR_SIZE | FATTR_KILL_SUIDGID, .size = 1 };
    g_assert_cmpint(tc_fuse_setattr(f->dev, suid_root, &trunc, &a), ==, 0);
    host_stat(f, "suid-root", &st);
    g_assert_cmphex(st.st_mode & S_ISUID, ==, 0);
    tc_fuse_set_creds(f->dev, 0, 0, (uint32_t)getpid());
}

int main(int argc, char **argv)
{
    fx_require_daemon(argc, argv);
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add("/containment/" path, struct fx, NULL, fx_setup, fn, fx_teardown)
#define ADDV(path, v, fn) g_test_add("/containment/" path, struct fx, v, fx_setup, fn, fx_teardown)
    ADD("dotdot", test_dotdot);
    ADD("symlink/components", test_symlink_components);
    ADD("symlink/targets", test_symlink_targets);
    ADDV("symlink/swap-race", &two_queues, test_swap_race);
    ADD("proc", test_proc);
    ADDV("link/bind-mount", &bind_mounted, test_link_bind_mount);
    ADD("device-nodes", test_device_nodes);
    ADDV("setid/unprivileged", &with_group_root, test_setid_unprivileged);
    return g_test_run();
}

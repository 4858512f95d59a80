/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line in both styles, and the errors for bad input. */
#include <glib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/options.h"
#include "passthrough/idmap.h"
#include "passthrough/xattrmap.h"

static int parse_va(struct vfsd_options *o, char *err, const char *first, va_list ap)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = (char *)"virtiofsd";
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    argv[argc] = NULL;
    return vfsd_options_parse(argc, argv, o, err, 256);
}

static int parse(struct vfsd_options *o, char *err, const char *first, ...)
{
    va_list ap;
    va_start(ap, first);
    int r = parse_va(o, err, first, ap);
    va_end(ap);
    return r;
}

static void test_separate_style(void)
{
    struct vfsd_options o;
    char err[256];
    g_assert_cmpint(parse(&o, err, "--socket-path=/tmp/s", "--shared-dir", "/srv", "--cache",
                          "always", "--xattr", "--thread-pool-size=8", "--log-level", "debug",
                          "--tag", "myfs", "--announce-submounts", "--writeback",
                          "--allow-direct-io", "--readonly", "--sandbox", "none", NULL), ==, 0);
    g_assert_cmpstr(o.socket_path, ==, "/tmp/s");
    g_assert_cmpstr(o.shared_dir, ==, "/srv");
    g_assert_cmpint(o.cache, ==, PT_CACHE_ALWAYS);
    g_assert_true(o.xattr && o.announce_submounts && o.writeback && o.allow_direct_io &&
                  o.readonly);
    g_assert_cmpint(o.thread_pool_size, ==, 8);
    g_assert_cmpint(o.exec_mode, ==, EXEC_POOL); /* a pool size alone means the pool */
    g_assert_cmpint(o.log_level, ==, LOG_LVL_DEBUG);
    g_assert_cmpstr(o.tag, ==, "myfs");
    g_assert_cmpint(o.sandbox, ==, SBX_NONE);
    g_assert_true(o.readdirplus);
    vfsd_options_done(&o);
}

static void test_legacy_style(void)
{
    struct vfsd_options o;
    char err[256];
    g_assert_cmpint(parse(&o, err, "--socket-path=/tmp/s", "-o",
                          "source=/srv,cache=none,xattr,no_readdirplus,timeout=2.5",
                          "-o", "log_level=warn", "-f", "--thread-pool-size=0", NULL), ==, 0);
    g_assert_cmpstr(o.shared_dir, ==, "/srv");
    g_assert_cmpint(o.cache, ==, PT_CACHE_NEVER);
    g_assert_true(o.xattr);
    g_assert_false(o.readdirplus);
    g_assert_cmpfloat(o.timeout, ==, 2.5);
    g_assert_cmpint(o.log_level, ==, LOG_LVL_WARN);
    g_assert_cmpint(o.exec_mode, ==, EXEC_INLINE);
    vfsd_options_done(&o);
}

static void test_defaults(void)
{
    struct vfsd_options o;
    char err[256];
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", NULL), ==, 0);
    g_assert_cmpint(o.socket_fd, ==, 3);
    g_assert_cmpint(o.cache, ==, PT_CACHE_AUTO);
    g_assert_false(o.xattr);
    g_assert_true(o.readdirplus);
    g_assert_cmpint(o.thread_pool_size, ==, 0);
    g_assert_cmpint(o.exec_mode, ==, EXEC_INLINE);
    g_assert_cmpint(o.sandbox, ==, SBX_NAMESPACE);
    vfsd_options_done(&o);

    /* cache=never turns readdirplus off unless asked for */
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", "--cache=never", NULL), ==, 0);
    g_assert_false(o.readdirplus);
    vfsd_options_done(&o);
    g_assert_cmpint(parse(&o, err, "--fd=3", "-o", "source=/srv,cache=never,readdirplus",
                          NULL), ==, 0);
    g_assert_true(o.readdirplus);
    vfsd_options_done(&o);
}

static void test_locks(void)
{
    struct vfsd_options o;
    char err[256];
    /* off unless asked for */
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", NULL), ==, 0);
    g_assert_false(o.posix_lock);
    g_assert_false(o.flock);
    vfsd_options_done(&o);
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", "--posix-lock", "--flock",
                          NULL), ==, 0);
    g_assert_true(o.posix_lock);
    g_assert_true(o.flock);
    vfsd_options_done(&o);
    g_assert_cmpint(parse(&o, err, "--fd=3", "-o", "source=/srv,posix_lock", "-o", "flock",
                          NULL), ==, 0);
    g_assert_true(o.posix_lock);
    g_assert_true(o.flock);
    vfsd_options_done(&o);
    /* the last word wins */
    g_assert_cmpint(parse(&o, err, "--fd=3", "--posix-lock", "-o",
                          "source=/srv,flock,no_posix_lock,no_flock", NULL), ==, 0);
    g_assert_false(o.posix_lock);
    g_assert_false(o.flock);
    vfsd_options_done(&o);
}

/* The Rust virtiofsd's options for cache modes and open flags. */
static void test_mode_options(void)
{
    struct vfsd_options o;
    char err[256];
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", NULL), ==, 0);
    g_assert_false(o.allow_mmap || o.preserve_noatime || o.writeback || o.allow_direct_io);
    g_assert_cmpfloat(o.timeout, <, 0);
    vfsd_options_done(&o);
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", "--cache=metadata",
                          "--allow-mmap", "--preserve-noatime", "--no-readdirplus", NULL), ==, 0);
    g_assert_cmpint(o.cache, ==, PT_CACHE_METADATA);
    g_assert_true(o.allow_mmap && o.preserve_noatime);
    g_assert_false(o.readdirplus);
    vfsd_options_done(&o);
    /* QEMU's spellings; the last word wins */
    g_assert_cmpint(parse(&o, err, "--fd=3", "-o", "source=/srv,writeback,allow_direct_io",
                          "-o", "no_writeback,timeout=0", NULL), ==, 0);
    g_assert_false(o.writeback);
    g_assert_true(o.allow_direct_io);
    g_assert_cmpfloat(o.timeout, ==, 0);
    vfsd_options_done(&o);
}

static void test_info_only(void)
{
    struct vfsd_options o;
    char err[256];
    g_assert_cmpint(parse(&o, err, "--print-capabilities", NULL), ==, 0);
    g_assert_true(o.print_capabilities);
    vfsd_options_done(&o);
    g_assert_cmpint(parse(&o, err, "-V", NULL), ==, 0);
    g_assert_true(o.version);
    vfsd_options_done(&o);
}

/* The arguments after `needle` end with NULL. */
static void expect_error(const char *needle, const char *first, ...)
{
    struct vfsd_options o;
    char err[256];
    va_list ap;
    va_start(ap, first);
    int r = parse_va(&o, err, first, ap);
    va_end(ap);
    g_assert_cmpint(r, ==, -EINVAL);
    if (!strstr(err, needle))
        g_error("error '%s' does not mention '%s'", err, needle);
    g_assert_null(strchr(err, '\n')); /* one line */
    vfsd_options_done(&o);
}

static void test_errors(void)
{
    expect_error("no shared directory", "--socket-path=/s", NULL);
    expect_error("no socket", "--shared-dir=/srv", NULL);
    expect_error("unknown option '--bogus'", "--bogus", NULL);
    expect_error("unknown option -o frobnicate", "--socket-path=/s", "-o",
                 "source=/x,frobnicate", NULL);
    expect_error("bad --cache 'sometimes'", "--cache=sometimes", NULL);
    expect_error("bad cache mode 'x'", "-o", "cache=x", NULL);
    expect_error("bad --thread-pool-size '-1'", "--thread-pool-size=-1", NULL);
    expect_error("bad --thread-pool-size 'lots'", "--thread-pool-size=lots", NULL);
    expect_error("needs a value", "--socket-path", NULL);
    expect_error("-o source needs a value", "-o", "source", NULL);
    expect_error("--tag must be", "--tag=0123456789012345678901234567890123456", NULL);
    expect_error("exclude each other", "--socket-path=/s", "--fd=3", "--shared-dir=/x", NULL);
    expect_error("bad --log-level", "--log-level=loud", NULL);
    expect_error("bad --sandbox", "--sandbox=jail", NULL);
    expect_error("bad timeout '-1'", "-o", "timeout=-1", NULL);
    expect_error("-o allow_mmap", "-o", "allow_mmap", NULL); /* QEMU never had it */
    expect_error("needs --thread-pool-size", "--executor=pool", "--thread-pool-size=0",
                 "--socket-path=/s", "-o", "source=/x", NULL);
    expect_error("unexpected argument", "--socket-path=/s", "--shared-dir=/x", "extra", NULL);
    expect_error("-o flock takes no value", "-o", "flock=1", NULL);
    expect_error("unknown option '--posix-locks'", "--posix-locks", NULL);
}

static void test_security_options(void)
{
    struct vfsd_options o;
    char err[256];
    uint32_t h;

    /* Defaults: all off, killpriv v2 too (as the Rust virtiofsd). */
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", NULL), ==, 0);
    g_assert_false(o.posix_acl || o.security_label || o.killpriv_v2 || o.xattr);
    g_assert_null(o.xattrmap);
    g_assert_true(pt_idmap_empty(o.uid_map) && pt_idmap_empty(o.gid_map));
    vfsd_options_done(&o);

    /* Each of these needs xattrs and turns them on. */
    const char *implying[] = { "--posix-acl", "--security-label", "--xattrmap=:ok:all:::" };
    for (size_t i = 0; i < G_N_ELEMENTS(implying); i++) {
        g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", implying[i], NULL), ==,
                        0);
        g_assert_true(o.xattr);
        vfsd_options_done(&o);
    }

    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", "--killpriv-v2",
                          "--xattrmap", "/map/trusted./user.virtiofs./",
                          "--translate-uid=map:1000:3000:10", "--translate-uid",
                          "forbid-guest:0:1", "--translate-gid=squash-host:5000:65534:100",
                          NULL), ==, 0);
    g_assert_true(o.killpriv_v2);
    g_assert_nonnull(o.xattrmap);
    g_assert_cmpuint(pt_xattrmap_count(o.xattrmap), ==, 4);
    g_assert_cmpint(pt_idmap_to_host(o.uid_map, 1005, &h), ==, 0);
    g_assert_cmpuint(h, ==, 3005);
    g_assert_cmpint(pt_idmap_to_host(o.uid_map, 0, &h), ==, -EPERM);
    g_assert_cmpuint(pt_idmap_to_guest(o.gid_map, 5050), ==, 65534);
    vfsd_options_done(&o);

    /* The last of --killpriv-v2 / --no-killpriv-v2 wins. */
    g_assert_cmpint(parse(&o, err, "--fd=3", "--shared-dir=/srv", "--killpriv-v2",
                          "--no-killpriv-v2", NULL), ==, 0);
    g_assert_false(o.killpriv_v2);
    vfsd_options_done(&o);

    /* The legacy spellings; an xattr map separated by commas escapes them. */
    g_assert_cmpint(parse(&o, err, "--socket-path=/s", "-o",
                          "source=/srv,posix_acl,security_label,killpriv_v2,"
                          "xattrmap=\\,prefix\\,all\\,\\,user.vfs.\\, \\,bad\\,all\\,\\,\\,",
                          NULL), ==, 0);
    g_assert_true(o.posix_acl && o.security_label && o.killpriv_v2 && o.xattr);
    g_assert_cmpuint(pt_xattrmap_count(o.xattrmap), ==, 2);
    g_assert_cmpstr(pt_xattrmap_rule(o.xattrmap, 0)->prepend, ==, "user.vfs.");
    vfsd_options_done(&o);
    g_assert_cmpint(parse(&o, err, "--socket-path=/s", "-o",
                          "source=/srv,posix_acl,no_posix_acl,killpriv_v2,no_killpriv_v2,"
                          "security_label,no_security_label", NULL), ==, 0);
    g_assert_false(o.posix_acl || o.security_label || o.killpriv_v2 || o.xattr);
    vfsd_options_done(&o);
}

static void test_security_option_errors(void)
{
    expect_error("--posix-acl cannot be combined with --translate-uid", "--fd=3",
                 "--shared-dir=/x", "--posix-acl", "--translate-uid=map:0:1000:1", NULL);
    expect_error("--posix-acl cannot be combined", "--fd=3", "--shared-dir=/x",
                 "--translate-gid=guest:0:1000:1", "-o", "posix_acl", NULL);
    expect_error("xattrmap rule 1: unknown type 'maps'", "--xattrmap=:maps::x.:", NULL);
    expect_error("xattrmap: no rules", "--xattrmap=", NULL);
    expect_error("xattrmap rule 2: unknown scope 'every'", "-o",
                 "xattrmap=:ok:all::: :ok:every:::", NULL);
    expect_error("-o xattrmap needs a value", "-o", "xattrmap", NULL);
    expect_error("bad --translate-uid 'squash:0:1:2': unknown type 'squash'",
                 "--translate-uid=squash:0:1:2", NULL);
    expect_error("bad --translate-gid 'map:5:5:10': guest ids [5, 15) overlap",
                 "--translate-gid=map:0:0:10", "--translate-gid=map:5:5:10", NULL);
    expect_error("bad --translate-uid 'forbid-guest:1:2:3'", "--translate-uid",
                 "forbid-guest:1:2:3", NULL);
    expect_error("needs a value", "--translate-uid", NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/options/separate_style", test_separate_style);
    g_test_add_func("/options/legacy_style", test_legacy_style);
    g_test_add_func("/options/defaults", test_defaults);
    g_test_add_func("/options/mode_options", test_mode_options);
    g_test_add_func("/options/info_only", test_info_only);
    g_test_add_func("/options/locks", test_locks);
    g_test_add_func("/options/errors", test_errors);
    g_test_add_func("/options/security", test_security_options);
    g_test_add_func("/options/security_errors", test_security_option_errors);
    return g_test_run();
}

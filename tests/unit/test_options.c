/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line in both styles, and the errors for bad input. */
#include <glib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/options.h"

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
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/options/separate_style", test_separate_style);
    g_test_add_func("/options/legacy_style", test_legacy_style);
    g_test_add_func("/options/defaults", test_defaults);
    g_test_add_func("/options/mode_options", test_mode_options);
    g_test_add_func("/options/info_only", test_info_only);
    g_test_add_func("/options/errors", test_errors);
    return g_test_run();
}

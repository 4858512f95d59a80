/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tests/integration/fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SOCKET_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000

static char **daemon_argv;
bool fx_daemon_is_qemu;

static void skip_all(bool tap, const char *why)
{
    if (tap) {
        printf("1..0 # SKIP %s\n", why);
        exit(0);
    }
    fprintf(stderr, "SKIP: %s\n", why);
    exit(77);
}

void fx_require_daemon(int argc, char **argv)
{
    bool tap = false;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--tap") == 0)
            tap = true;

    /* VFSD_DAEMON from the user's environment wins over the build's own
     * daemon, which meson passes as VFSD_DAEMON_DEFAULT */
    const char *cmd = g_getenv("VFSD_DAEMON");
    g_autoptr(GError) err = NULL;
    if (!cmd || !*cmd)
        cmd = g_getenv("VFSD_DAEMON_DEFAULT");
    if (!cmd || !*cmd)
        skip_all(tap, "neither VFSD_DAEMON nor VFSD_DAEMON_DEFAULT is set");
    if (!g_shell_parse_argv(cmd, NULL, &daemon_argv, &err))
        skip_all(tap, "VFSD_DAEMON is not a valid command line");
    if (access(daemon_argv[0], X_OK) != 0) {
        g_autofree char *why = g_strdup_printf("daemon %s is not built", daemon_argv[0]);
        skip_all(tap, why);
    }
    if (geteuid() != 0)
        skip_all(tap, "needs root (the daemon sets up its sandbox)");

    const char *ver_argv[] = { daemon_argv[0], "--version", NULL };
    g_autofree char *out = NULL;
    if (g_spawn_sync(NULL, (char **)ver_argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                     NULL, NULL, NULL) && out)
        fx_daemon_is_qemu = strstr(out, "QEMU Project") != NULL;
    /* a dead daemon must not kill the test with SIGPIPE */
    signal(SIGPIPE, SIG_IGN);
}

char **fx_daemon_argv(void)
{
    return daemon_argv;
}

bool fx_daemon_has_arg(const char *prefix)
{
    for (char **a = daemon_argv ? daemon_argv + 1 : NULL; a && *a; a++)
        if (g_str_has_prefix(*a, prefix))
            return true;
    return false;
}

char *fx_path(struct fx *f, const char *name)
{
    return g_build_filename(f->share, name, NULL);
}

int fx_start_daemon(struct fx *f)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup(daemon_argv[0]));
    g_ptr_array_add(args, g_strdup_printf("--socket-path=%s", f->sock));
    g_ptr_array_add(args, g_strdup("-o"));
    g_ptr_array_add(args, g_strdup_printf("source=%s", f->share));
    g_ptr_array_add(args, g_strdup("-o"));
    g_ptr_array_add(args, g_strdup("cache=auto"));
    g_ptr_array_add(args, g_strdup("-o"));
    g_ptr_array_add(args, g_strdup("xattr"));
    g_ptr_array_add(args, g_strdup("--thread-pool-size=0"));
    /* the command's own options, then the case's, so they win over the defaults above */
    for (char **a = daemon_argv + 1; *a; a++)
        g_ptr_array_add(args, g_strdup(*a));
    if (f->variant && f->variant->daemon_args)
        for (const char *const *a = f->variant->daemon_args; *a; a++)
            g_ptr_array_add(args, g_strdup(*a));
    g_ptr_array_add(args, NULL);

    unlink(f->sock);
    int r = tc_daemon_spawn((char *const *)args->pdata, f->log, &f->pid);
    g_assert_cmpint(r, ==, 0);
    int fd = -1, st = 0;
    r = tc_daemon_wait_socket(f->sock, f->pid, SOCKET_TIMEOUT_MS, &fd, &st);
    if (r == -ECHILD) {
        char buf[64];
        g_autofree char *log = NULL;
        g_file_get_contents(f->log, &log, NULL, NULL);
        g_test_message("daemon %s before listening; log:\n%s", tc_wstatus_str(st, buf, sizeof(buf)),
                       log ? log : "");
        f->pid = 0;
    }
    g_assert_cmpint(r, ==, 0);
    return fd;
}

void fx_setup(struct fx *f, gconstpointer data)
{
    static const struct fx_variant defaults;
    const struct fx_variant *v = data ? data : &defaults;
    g_autoptr(GError) err = NULL;

    memset(f, 0, sizeof(*f));
    f->share_fd = -1;
    f->variant = v;
    f->root = g_dir_make_tmp("vfsd-test-XXXXXX", &err);
    g_assert_no_error(err);
    f->share = g_build_filename(f->root, "share", NULL);
    f->sock = g_build_filename(f->root, "vhost.sock", NULL);
    f->log = g_build_filename(f->root, "daemon.log", NULL);
    g_assert_cmpint(mkdir(f->share, 0755), ==, 0);
    f->share_fd = open(f->share, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(f->share_fd, >=, 0);
    if (v->before_start) {
        v->before_start(f);
        close(f->share_fd);
        f->share_fd = open(f->share, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(f->share_fd, >=, 0);
    }

    struct tc_config cfg = v->cfg;
    cfg.socket_path = NULL;
    cfg.fd = fx_start_daemon(f);
    int r = tc_dev_connect(&cfg, &f->dev);
    if (r == -EOPNOTSUPP && cfg.num_request_queues > 1) {
        f->connect_err = r;
        f->dev = NULL;
        return;
    }
    g_assert_cmpint(r, ==, 0);
    f->dev->fuse.flags = v->fuse_flags;
    tc_fuse_set_creds(f->dev, 0, 0, (uint32_t)getpid());
    if (!v->no_init)
        g_assert_cmpint(tc_fuse_init_session(f->dev, TC_FUSE_INIT_FLAGS | v->init_flags, NULL),
                        ==, 0);
}

void fx_private_mounts(void)
{
    static bool done;
    if (done)
        return;
    g_assert_cmpint(unshare(CLONE_NEWNS), ==, 0);
    g_assert_cmpint(mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL), ==, 0);
    done = true;
}

pid_t fx_server_pid(struct fx *f)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children", f->pid, f->pid);
    g_autofree char *children = NULL;
    if (g_file_get_contents(path, &children, NULL, NULL) && children[0])
        return (pid_t)strtol(children, NULL, 10);
    return f->pid;
}

int fx_server_fd_count(struct fx *f)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", fx_server_pid(f));
    GDir *dir = g_dir_open(path, 0, NULL);
    g_assert_nonnull(dir);
    int n = 0;
    while (g_dir_read_name(dir))
        n++;
    g_dir_close(dir);
    return n;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    remove(path);
    return 0;
}

/* What the sanitizer runtimes print when they find something. */
static const char *const sanitizer_reports[] = {
    "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
    "ThreadSanitizer: reported", "runtime error:",
};

static const char *sanitizer_report_in(const char *path)
{
    for (size_t i = 0; i < G_N_ELEMENTS(sanitizer_reports); i++)
        if (tc_file_contains(path, sanitizer_reports[i]))
            return sanitizer_reports[i];
    return NULL;
}

void fx_teardown(struct fx *f, gconstpointer data)
{
    int st = 0, r = 0;
    char buf[64];

    tc_dev_free(f->dev);
    f->dev = NULL;
    if (f->pid > 0)
        r = tc_daemon_stop(f->pid, STOP_TIMEOUT_MS, &st);
    /* A sanitizer report fails the test even when the daemon's exit status
     * does not show it: UBSan carries on by default, and whether a report
     * changes the status depends on options the caller may not have set. */
    const char *report = sanitizer_report_in(f->log);
    if (report || g_test_failed()) {
        g_autofree char *log = NULL;
        if (g_file_get_contents(f->log, &log, NULL, NULL))
            g_test_message("daemon log:\n%s", log);
    }
    if (f->share_fd >= 0)
        close(f->share_fd);
    if (f->variant && f->variant->after_stop)
        f->variant->after_stop(f);
    nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    g_free(f->root);
    g_free(f->share);
    g_free(f->sock);
    g_free(f->log);
    if (report)
        g_error("the daemon's log holds a sanitizer report (\"%s\")", report);
    if (f->pid > 0) {
        /* the daemon must end cleanly: by itself on disconnect or on SIGTERM */
        if (r != 0 || !((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
                        (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)))
            g_error("daemon did not stop cleanly: %s%s", tc_wstatus_str(st, buf, sizeof(buf)),
                    r == 1 ? " (needed SIGKILL)" : "");
    }
}

void fx_write_file(struct fx *f, const char *name, const void *data, size_t len, mode_t mode)
{
    int fd = openat(f->share_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fchmod(fd, mode), ==, 0);
    if (len)
        g_assert_cmpint(write(fd, data, len), ==, (ssize_t)len);
    close(fd);
}

uint64_t fx_lookup(struct fx *f, uint64_t parent, const char *name, struct fuse_entry_out *e)
{
    struct fuse_entry_out tmp;
    if (!e)
        e = &tmp;
    g_assert_cmpint(tc_fuse_lookup(f->dev, parent, name, e), ==, 0);
    g_assert_cmpuint(e->nodeid, !=, 0);
    return e->nodeid;
}

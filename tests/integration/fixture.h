/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared fixture of the integration suites: a fresh temporary directory
 * shared by a freshly started daemon, a test-client device connected to
 * it and FUSE_INIT done. The daemon command is a shell-style command line
 * from $VFSD_DAEMON, else $VFSD_DAEMON_DEFAULT (meson sets that to the
 * build's daemon); the fixture appends the options every supported daemon
 * accepts: --socket-path, -o source, -o cache=auto, -o xattr,
 * --thread-pool-size=0.
 */
#ifndef TESTS_INTEGRATION_FIXTURE_H
#define TESTS_INTEGRATION_FIXTURE_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "tests/lib/tc.h"

struct fx;

struct fx_variant {
    struct tc_config cfg;     /* socket/fd are filled in by the fixture */
    unsigned fuse_flags;      /* TC_FUSE_* defaults for every request */
    bool no_init;             /* leave FUSE_INIT to the test */
    const char *const *daemon_args; /* NULL-terminated, appended last; NULL: none */
    uint64_t init_flags;      /* FUSE_INIT flags asked for besides TC_FUSE_INIT_FLAGS */
    /* Run before the daemon starts, e.g. to fill or replace the shared
     * directory (f->share; f->share_fd is reopened afterwards). */
    void (*before_start)(struct fx *f);
    /* Run once the daemon stopped, before the directory is removed. */
    void (*after_stop)(struct fx *f);
};

struct fx {
    char *root;               /* temporary directory holding everything */
    char *share;              /* the shared directory */
    char *sock;
    char *log;
    int share_fd;             /* O_DIRECTORY fd of share, for host checks */
    pid_t pid;
    struct tc_dev *dev;
    int connect_err;          /* tc_dev_connect() result when it failed */
    const struct fx_variant *variant;
};

/*
 * Checks that the daemon can be run (command set, executable, root).
 * When it cannot, prints a TAP skip plan and exits (0 under --tap, where
 * meson's TAP parser reads the plan; 77 otherwise, the automake skip code).
 * Call before g_test_init(), which consumes --tap.
 */
void fx_require_daemon(int argc, char **argv);

/* Set by fx_require_daemon() when the daemon is QEMU's C virtiofsd. */
extern bool fx_daemon_is_qemu;

/* The daemon's command line (NULL-terminated, owned by the fixture). */
char **fx_daemon_argv(void);

/* Whether the daemon's command line (VFSD_DAEMON) has an argument that
 * starts with `prefix`, e.g. "--inode-file-handles=m". */
bool fx_daemon_has_arg(const char *prefix);

/* The daemon references inodes by file handles (--inode-file-handles=
 * prefer or mandatory): an idle inode holds no fd, so one the host no
 * longer has (unlinked and not open anywhere) cannot be reached. */
#define FX_HANDLES() \
    (fx_daemon_has_arg("--inode-file-handles=prefer") || \
     fx_daemon_has_arg("--inode-file-handles=mandatory"))

/*
 * For deviations from correct behaviour that QEMU's C virtiofsd is known
 * for: when the deviation `cond` shows while testing that daemon, the case
 * is reported as TODO (an expected failure) with `why` and evaluates true
 * so the test can return; otherwise false, and the test goes on to assert
 * the correct behaviour.
 */
#define QEMU_BUG(cond, why) \
    (fx_daemon_is_qemu && (cond) ? (g_test_incomplete("QEMU virtiofsd: " why), true) : false)

/* Fixture setup/teardown for g_test_add(); data is a struct fx_variant *
 * (NULL: defaults). A connect failure is left in f->connect_err with
 * f->dev NULL when the variant asks for something the daemon may lack
 * (more than one request queue); otherwise it fails the test. */
void fx_setup(struct fx *f, gconstpointer data);
void fx_teardown(struct fx *f, gconstpointer data);

/* Starts the daemon on f->share (with f->variant's extra options) and
 * returns the connected socket. */
int fx_start_daemon(struct fx *f);

/*
 * Moves this test program into a mount namespace of its own (once), whose
 * mounts the host does not see and which ends with the program: a test that
 * mounts something for its daemon leaves nothing behind, even when it
 * aborts. Daemons started afterwards are in it too.
 */
void fx_private_mounts(void);

/* The pid of the process serving requests: the daemon, or the child its
 * namespace sandbox forked (the only child it has). */
pid_t fx_server_pid(struct fx *f);
/* How many fds that process has open (/proc/PID/fd). */
int fx_server_fd_count(struct fx *f);

/* Host-side helpers relative to the shared directory. */
void fx_write_file(struct fx *f, const char *name, const void *data, size_t len, mode_t mode);
char *fx_path(struct fx *f, const char *name); /* g_free() it */

/* LOOKUP that must succeed; returns the nodeid. */
uint64_t fx_lookup(struct fx *f, uint64_t parent, const char *name, struct fuse_entry_out *e);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running the daemon under test as a child process: start it in its own
 * process group with stdout/stderr captured to a log file, wait for its
 * socket, stop it (SIGTERM, then SIGKILL for the whole group) and report
 * how it ended. Only the processes started here are ever signalled.
 *
 * A vhost-user backend usually serves one connection and exits when it
 * ends, so waiting for the socket hands back the connection used to probe
 * it instead of closing it.
 */
#ifndef TESTS_LIB_TC_DAEMON_H
#define TESTS_LIB_TC_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * fork()s and exec()s argv[0] (PATH is not searched) with argv, in a new
 * process group, stdin from /dev/null, stdout and stderr appended to
 * log_path (created, truncated; NULL: inherited), no other fds, and
 * SIGKILL as parent-death signal so it never outlives the calling thread
 * (an aborted test leaves no daemon behind). Returns 0
 * with *pid set, or -errno (also when exec fails: the child reports its
 * errno through a pipe before exiting 127).
 */
int tc_daemon_spawn(char *const argv[], const char *log_path, pid_t *pid);

/*
 * Waits up to timeout_ms until the unix socket at `path` accepts a
 * connection; the connected socket is returned in *conn_fd (caller owns
 * it) so a one-shot backend does not see a stray disconnect. When pid > 0
 * and that child exits meanwhile, returns -ECHILD (it is reaped, status in
 * *wstatus if non-NULL). Returns 0, -ETIMEDOUT or -errno.
 */
int tc_daemon_wait_socket(const char *path, pid_t pid, int timeout_ms, int *conn_fd, int *wstatus);

/*
 * Waits up to timeout_ms for child pid to exit on its own and reaps it.
 * Returns 0 with *wstatus set, -ETIMEDOUT, or -errno.
 */
int tc_daemon_wait_exit(pid_t pid, int timeout_ms, int *wstatus);

/*
 * Stops child pid: SIGTERM to it, up to timeout_ms for it to exit, then
 * SIGKILL to its process group. Any other member of its group still alive
 * after it exited is killed too. Returns 0 if it ended after SIGTERM (or
 * had already ended), 1 if SIGKILL was needed, or -errno; *wstatus (if
 * non-NULL) gets its wait status.
 */
int tc_daemon_stop(pid_t pid, int timeout_ms, int *wstatus);

/* Writes "exited 0", "killed by SIGSEGV (core dumped)", ... into buf and
 * returns buf. */
const char *tc_wstatus_str(int wstatus, char *buf, size_t size);

/* True when the file at path contains needle (e.g. a daemon log line). */
bool tc_file_contains(const char *path, const char *needle);

#endif

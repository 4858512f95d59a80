/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tests/lib/tc_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/clock.h"

/* Only async-signal-safe calls between fork() and exec(). */
static void child_exec(char *const argv[], const char *log_path, int err_pipe, pid_t parent)
{
    int e;

    if (setpgid(0, 0) < 0)
        goto out_report_errno;
    /* never outlive the test that started us, even when it aborts */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        goto out_report_errno;
    if (getppid() != parent)
        _exit(127);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0)
        goto out_report_errno;
    if (log_path) {
        int log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (log < 0 || dup2(log, STDOUT_FILENO) < 0 || dup2(log, STDERR_FILENO) < 0)
            goto out_report_errno;
    }
    /* Nothing of the test process (sockets, eventfds, memfds) may leak
     * into the daemon: it would keep connections alive. The error pipe is
     * already close-on-exec. */
    if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) < 0)
        for (int fd = 3; fd < 4096; fd++)
            if (fd != err_pipe)
                close(fd);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], argv);
out_report_errno:
    e = errno;
    if (write(err_pipe, &e, sizeof(e)) < 0) {
        /* nothing left to report to */
    }
    _exit(127);
}

int tc_daemon_spawn(char *const argv[], const char *log_path, pid_t *pid)
{
    int p[2];

    if (!argv || !argv[0])
        return -EINVAL;
    if (pipe2(p, O_CLOEXEC) < 0)
        return neg_errno();
    fflush(NULL);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int r = neg_errno();
        close(p[0]);
        close(p[1]);
        return r;
    }
    if (child == 0)
        child_exec(argv, log_path, p[1], parent);

    close(p[1]);
    /* Set the group from here too, so it exists whoever runs first. */
    setpgid(child, child);
    int e = 0;
    ssize_t n;
    do {
        n = read(p[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(p[0]);
    if (n == sizeof(e)) {
        waitpid(child, NULL, 0);
        return -(e ? e : EIO);
    }
    *pid = child;
    return 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Non-blocking reap: 1 reaped, 0 still running, -errno. */
static int try_reap(pid_t pid, int *wstatus)
{
    int st;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r < 0)
        return neg_errno();
    if (r == 0)
        return 0;
    if (wstatus)
        *wstatus = st;
    return 1;
}

int tc_daemon_wait_socket(const char *path, pid_t pid, int timeout_ms, int *conn_fd, int *wstatus)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000ull;
    unsigned delay = 1;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    for (;;) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                return neg_errno();
            if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
                *conn_fd = fd;
                return 0;
            }
            close(fd);
        }
        if (pid > 0) {
            int r = try_reap(pid, wstatus);
            if (r < 0)
                return r;
            if (r == 1)
                return -ECHILD;
        }
        if (clock_now_ns() >= deadline)
            return -ETIMEDOUT;
        sleep_ms(delay);
        delay = MIN(delay * 2, 50u);
    }
}

int tc_daemon_wait_exit(pid_t pid, int timeout_ms, int *wstatus)
{
    uint64_t deadline = clock_now_ns() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000ull;
    unsigned delay = 1;

    for (;;) {
        int r = try_reap(pid, wstatus);
        if (r < 0)
            return r;
        if (r == 1)
            return 0;
        if (clock_now_ns() >= deadline)
            return -ETIMEDOUT;
        sleep_ms(delay);
        delay = MIN(delay * 2, 20u);
    }
}

int tc_daemon_stop(pid_t pid, int timeout_ms, int *wstatus)
{
    int st = 0;
    int ret = 0;

    if (pid <= 0)
        return -EINVAL;
    int r = try_reap(pid, &st);
    if (r < 0)
        return r;
    if (r == 0) {
        if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
            return neg_errno();
        r = tc_daemon_wait_exit(pid, timeout_ms, &st);
        if (r == -ETIMEDOUT) {
            kill(-pid, SIGKILL);
            r = tc_daemon_wait_exit(pid, -1, &st);
            if (r == -ETIMEDOUT)
                r = waitpid(pid, &st, 0) < 0 ? neg_errno() : 0;
            ret = 1;
        }
        if (r < 0)
            return r;
    }
    /* Helpers the daemon forked (a sandbox child, say) share its group;
     * the group id cannot be reused while any of them lives. */
    if (kill(-pid, 0) == 0)
        kill(-pid, SIGKILL);
    if (wstatus)
        *wstatus = st;
    return ret;
}

const char *tc_wstatus_str(int wstatus, char *buf, size_t size)
{
    if (WIFEXITED(wstatus))
        snprintf(buf, size, "exited %d", WEXITSTATUS(wstatus));
    else if (WIFSIGNALED(wstatus))
        snprintf(buf, size, "killed by SIG%s%s", sigabbrev_np(WTERMSIG(wstatus)) ?: "?",
                 WCOREDUMP(wstatus) ? " (core dumped)" : "");
    else
        snprintf(buf, size, "status 0x%x", wstatus);
    return buf;
}

bool tc_file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        char *d = realloc(data, len + n);
        if (!d)
            break;
        data = d;
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(f);
    return data && memmem(data, len, needle, strlen(needle)) != NULL;
}

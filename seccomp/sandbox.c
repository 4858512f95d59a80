/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "seccomp/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

static int open_proc_self_fd(void)
{
    int fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd < 0 ? neg_errno() : fd;
}

/*
 * The namespace mode's parent: waits for the child, passing on the signals
 * main() blocked (so SIGTERM to the daemon's pid stops the server).
 */
static int parent_wait(pid_t child, struct sbx_result *res)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);

    for (;;) {
        int status;
        pid_t w = waitpid(child, &status, WNOHANG);
        if (w == child) {
            if (WIFEXITED(status))
                res->exit_status = WEXITSTATUS(status);
            else
                res->exit_status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
            if (WIFSIGNALED(status))
                log_error("the sandboxed server died of signal %d", WTERMSIG(status));
            return 1;
        }
        if (w < 0 && errno != EINTR)
            return neg_errno();
        siginfo_t si;
        int sig = sigwaitinfo(&set, &si);
        if (sig > 0 && sig != SIGCHLD)
            kill(child, sig);
    }
}

/* In the child: new mount and net namespaces, fresh /proc, pivot into dir. */
static int enter_namespaces(const char *dir, struct sbx_result *res)
{
    int r;

    if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
        r = neg_errno();
        log_error("sandbox: unshare: %s", strerror(-r));
        return r;
    }
    /* Nothing we mount from here on reaches the host's namespace. */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
        return neg_errno();
    /* A /proc of the new pid namespace, so /proc/self is us. */
    if (mount("proc", "/proc", "proc", MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME, NULL) < 0) {
        r = neg_errno();
        log_error("sandbox: mounting /proc: %s", strerror(-r));
        return r;
    }
    int proc_fd = open_proc_self_fd();
    if (proc_fd < 0)
        return proc_fd;
    /* pivot_root wants a mount point; the bind also keeps submounts. */
    if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0) {
        r = neg_errno();
        goto out_close;
    }
    /* The daemon never needs device nodes or set-id programs from the share:
     * whatever the guest creates there cannot be used against the host. */
    if (mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_NODEV | MS_NOSUID, NULL) < 0)
        log_debug("sandbox: remounting the share nodev,nosuid: %s", strerror(errno));
    if (chdir(dir) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
        r = neg_errno();
        log_error("sandbox: pivot_root into %s: %s", dir, strerror(-r));
        goto out_close;
    }
    /* The old root now sits on top of the new one: detach it. */
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
        r = neg_errno();
        goto out_close;
    }
    res->shared_dir = "/";
    res->proc_self_fd = proc_fd;
    return 0;

out_close:
    close(proc_fd);
    return r;
}

int sbx_enter(enum sbx_mode mode, const char *shared_dir, struct sbx_result *res)
{
    res->shared_dir = shared_dir;
    res->proc_self_fd = -1;
    res->exit_status = 0;

    if (mode == SBX_NONE)
        return 0;

    if (mode == SBX_CHROOT) {
        int proc_fd = open_proc_self_fd();
        if (proc_fd < 0)
            return proc_fd;
        if (chdir(shared_dir) < 0 || chroot(".") < 0 || chdir("/") < 0) {
            int r = neg_errno();
            log_error("sandbox: chroot into %s: %s", shared_dir, strerror(-r));
            close(proc_fd);
            return r;
        }
        res->shared_dir = "/";
        res->proc_self_fd = proc_fd;
        return 0;
    }

    /* The next child is pid 1 of a new pid namespace. */
    if (unshare(CLONE_NEWPID) < 0) {
        int r = neg_errno();
        log_error("sandbox: cannot create namespaces (%s); run as root, or use "
                  "--sandbox=chroot or none", strerror(-r));
        return r;
    }
    pid_t child = fork();
    if (child < 0)
        return neg_errno();
    if (child > 0)
        return parent_wait(child, res);

    /* The server must not outlive the parent that holds its pid (the parent
     * only returns from parent_wait() after we exited, so no race here). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int r = enter_namespaces(shared_dir, res);
    if (r < 0)
        _exit(1);
    return 0;
}

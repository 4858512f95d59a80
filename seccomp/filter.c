/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The syscall allow-list. Every syscall the daemon makes on its serving
 * path is here with the reason; tests run the daemon under the filter, so a
 * missing entry fails a test instead of a user's guest.
 */
#include <errno.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "seccomp/sandbox.h"

static const char *const allowed[] = {
    /* FUSE opcodes on the host filesystem */
    /* openat: also TMPFILE (O_TMPFILE) and the lock owners' own descriptions */
    "openat", "open", "close", "newfstatat", "fstat", "statx", "fstatfs", "statfs",
    "read", "readv", "pread64", "preadv", "preadv2",          /* READ */
    "write", "writev", "pwrite64", "pwritev", "pwritev2",     /* WRITE, eventfds, logging */
    "lseek", "getdents64",                                    /* LSEEK, READDIR */
    "readlinkat", "mkdirat", "mknodat", "symlinkat", "linkat", "unlinkat",
    "renameat", "renameat2",                                  /* RENAME, RENAME2 */
    "fchmod", "fchmodat", "fchown", "fchownat", "ftruncate", "utimensat", /* SETATTR */
    "fallocate", "fsync", "fdatasync", "syncfs", "copy_file_range",
    "faccessat", "faccessat2",                                /* ACCESS */
    "fgetxattr", "fsetxattr", "flistxattr", "fremovexattr",   /* xattrs on open files */
    "getxattr", "setxattr", "listxattr", "removexattr",       /* xattrs through /proc/self/fd */
    "fchdir", "chdir",                                        /* that path form's cwd */
    /* fcntl: GETLK/SETLK/SETLKW as F_OFD_* locks; flock: SETLK/SETLKW with FUSE_LK_FLOCK */
    "fcntl", "flock", "dup", "dup3",
    "name_to_handle_at", "open_by_handle_at",
    "setfsuid", "setfsgid", "setresuid", "setresgid", "setgroups", /* creating as the guest user */
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
    "capget", "capset", "umask",
    /* vhost-user: socket, eventfds, guest memory */
    "recvmsg", "sendmsg", "recvfrom", "sendto", "accept", "accept4", "getsockopt",
    "getsockname", "shutdown",
    "poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
    "eventfd2", "signalfd4",
    "mmap", "munmap", "mprotect", "madvise", "mremap", "brk",
    /* io_uring executor */
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    /* threads and the C library */
    "clone", "clone3", "futex", "set_robust_list", "rseq", "gettid", "getpid", "getppid",
    "exit", "exit_group", "sched_yield", "sched_getaffinity", "membarrier",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
    "tgkill", "tkill", "restart_syscall", /* tgkill: SIGURG ends a waiting SETLKW */
    "clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday", "getrandom",
    "getrusage", /* auto executor: was a slow inline request preempted? */
    "prctl", "prlimit64", "getrlimit", "uname", "sysinfo",
    /* syslog (reconnects after syslogd restarts) */
    "socket", "connect",
    /* removing the socket at exit when there is no sandbox to do it */
    "unlink",
};

static void sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "virtiofsd: seccomp blocked syscall %d\n", si->si_syscall);
    (void)!write(STDERR_FILENO, msg, (size_t)n);
    _exit(128 + SIGSYS);
}

int sbx_seccomp_apply(enum sbx_seccomp action)
{
    uint32_t act;
    switch (action) {
    case SBX_SECCOMP_NONE:
        return 0;
    case SBX_SECCOMP_LOG:
        act = SCMP_ACT_LOG;
        break;
    case SBX_SECCOMP_TRAP: {
        /* Names the missing syscall on stderr, then exits. */
        struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };
        sigaction(SIGSYS, &sa, NULL);
        act = SCMP_ACT_TRAP;
        break;
    }
    default:
        act = SCMP_ACT_KILL_PROCESS;
        break;
    }

    scmp_filter_ctx ctx = seccomp_init(act);
    if (!ctx)
        return -ENOMEM;
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(allowed); i++) {
        int nr = seccomp_syscall_resolve_name(allowed[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not a syscall on this architecture */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    }
    /* ioctl: only the C library's terminal probe on stderr. */
    if (r == 0)
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                             SCMP_A1(SCMP_CMP_EQ, TCGETS));
    if (r == 0)
        r = seccomp_load(ctx);
    seccomp_release(ctx);
    if (r < 0)
        log_error("cannot install the seccomp filter: %s", strerror(-r));
    return r;
}

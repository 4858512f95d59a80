/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Confinement of the daemon: a sandbox that makes the shared directory the
 * root (new mount, pid and net namespaces plus pivot_root, or chroot), the
 * capability set cut to what serving files needs, and a seccomp allow-list.
 * Called from main() before any thread exists.
 */
#ifndef SECCOMP_SANDBOX_H
#define SECCOMP_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

enum sbx_mode { SBX_NAMESPACE, SBX_CHROOT, SBX_NONE };

struct sbx_result {
    const char *shared_dir;   /* where the shared directory is now ("/" once pivoted) */
    int proc_self_fd;         /* O_PATH fd of /proc/self/fd, or -1 (not needed) */
    int exit_status;          /* parent side only: how the serving child ended */
};

/*
 * Enters the sandbox. Returns 0 in the process that goes on serving, 1 in
 * the namespace mode's parent once the serving child has exited (its exit
 * status in res->exit_status; signals the parent gets meanwhile are passed
 * on to the child), or -errno.
 */
int sbx_enter(enum sbx_mode mode, const char *shared_dir, struct sbx_result *res);

/*
 * Drops the supplementary groups and keeps only the capabilities the
 * filesystem needs (chown, dac_override, fowner, fsetid, setgid, setuid,
 * mknod, setfcap), modified by `modcaps` ("+cap:-cap:..." or NULL). No-op
 * when not running as root. Call it before any thread exists.
 */
int sbx_caps_drop(const char *modcaps);

/*
 * sbx_caps_drop() keeping the `nextra` capabilities in `extra` (CAP_*
 * numbers) beside the default set, before `modcaps` applies.
 */
int sbx_caps_drop_keep(const char *modcaps, const int *extra, size_t nextra);

/* Whether `modcaps` ("+cap:-cap:...", NULL) drops capability `cap` (its last
 * mention removes it). */
bool sbx_modcaps_drops(const char *modcaps, int cap);

enum sbx_seccomp { SBX_SECCOMP_KILL, SBX_SECCOMP_LOG, SBX_SECCOMP_TRAP, SBX_SECCOMP_NONE };

/* Installs the syscall allow-list for every thread; other syscalls get `action`. */
int sbx_seccomp_apply(enum sbx_seccomp action);

#endif

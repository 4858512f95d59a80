/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Result helpers for the guest checks, on top of tap.h: each prints one TAP
 * result and, when it fails, a "#" line saying what was got, so a check says
 * what it expects in one line. And running a piece of a check as another
 * user in a child process.
 */
#ifndef VFS_GUEST_CHECK_H
#define VFS_GUEST_CHECK_H

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

#include "tap.h"

bool chk_sys_(long ret, int err, const char *fmt, ...) TAP_PRINTF(3, 4);
bool chk_errno_(long ret, int err, int expected, const char *fmt, ...) TAP_PRINTF(4, 5);
bool chk_eq_(long long got, long long want, const char *fmt, ...) TAP_PRINTF(3, 4);

/* ok when expr (a syscall's result) is >= 0; else the errno is shown. */
#define CHK_SYS(expr, ...)						\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		chk_sys_(ret_, err_, __VA_ARGS__);			\
	})

/* ok when expr returned -1 with errno == expected. */
#define CHK_ERRNO(expr, expected, ...)					\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		chk_errno_(ret_, err_, expected, __VA_ARGS__);		\
	})

/* ok when got == want; numbers are shown in decimal and octal. */
#define CHK_EQ(got, want, ...) \
	chk_eq_((long long)(got), (long long)(want), __VA_ARGS__)

/*
 * Runs fn(arg) in a child process with uid/gid and no supplementary groups
 * (and the parent's umask). Returns what fn returned (0..255, e.g. an errno
 * or 0), or -1 when the child could not be started or did not exit.
 */
int run_as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg);

/*
 * dir/name in one of 8 rotating static buffers: a few may be used in one
 * call (a rename's two paths), none kept for long.
 */
const char *chk_join(const char *dir, const char *name);

/*
 * mount -t virtiofs tag mnt, retried every 100 ms (up to `tries` times)
 * while the device is not there yet (ENODEV, ENOENT). 0 or -1 with errno.
 */
int chk_mount_virtiofs(const char *tag, const char *mnt, int tries);

#endif

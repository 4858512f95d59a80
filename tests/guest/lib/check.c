/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "check.h"

#include <grp.h>
#include <limits.h>
#include <sys/mount.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(buf, size, fmt, ap);
}

bool chk_sys_(long ret, int err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vformat(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ret < 0)
		tap_diag("%s: failed: %s", what, strerror(err));
	return tap_ok(ret >= 0, "%s", what);
}

bool chk_errno_(long ret, int err, int expected, const char *fmt, ...)
{
	char what[512];
	bool pass = ret == -1 && err == expected;
	va_list ap;

	va_start(ap, fmt);
	vformat(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!pass && ret == -1)
		tap_diag("%s: expected %s, got %s", what, strerror(expected), strerror(err));
	else if (!pass)
		tap_diag("%s: expected %s, but the call succeeded (%ld)", what,
			 strerror(expected), ret);
	return tap_ok(pass, "%s", what);
}

bool chk_eq_(long long got, long long want, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vformat(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (got != want)
		tap_diag("%s: got %lld (0%llo), want %lld (0%llo)", what, got, got, want, want);
	return tap_ok(got == want, "%s", what);
}

int run_as_user(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	/* Nothing buffered may be printed twice. */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(254);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

const char *chk_join(const char *dir, const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned int next;
	char *buf = bufs[next++ % 8];

	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

int chk_mount_virtiofs(const char *tag, const char *mnt, int tries)
{
	for (int i = 0; i < tries; i++) {
		if (mount(tag, mnt, "virtiofs", 0, "") == 0)
			return 0;
		if (errno != ENODEV && errno != ENOENT)
			break;
		usleep(100 * 1000);
	}
	return -1;
}

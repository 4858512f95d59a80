/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the posix suite: the setuid helper (one call as another user in
 * a child that dropped root for good), file helpers, the POSIX ACL codec.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

const struct pc_cred owner_c = { U_OWNER, G_OWNER, 1, { G_OWNER }, "owner" };
const struct pc_cred other_c = { U_OTHER, G_OTHER, 1, { G_OTHER }, "other" };
const struct pc_cred member_c = { U_MEMBER, G_MEMBER, 2, { G_MEMBER, G_OWNER }, "member" };
const struct pc_cred primary_c = { U_PRIMARY, G_OWNER, 1, { G_OWNER }, "primary" };
const struct pc_cred g2000_c = { U_G2000, U_G2000, 2, { U_G2000, G_2000 }, "g2000" };

/* The child's exit status for "could not become the user". */
#define DROP_FAILED 255

int as_user(const struct pc_cred *cr, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int e;

		if (setgroups((size_t)cr->ngroups, cr->groups) < 0 ||
		    setgid(cr->gid) < 0 || setuid(cr->uid) < 0) {
			pc_note("setuid helper: cannot become %s (%u:%u): %m",
				cr->name, cr->uid, cr->gid);
			fflush(stdout);
			_exit(DROP_FAILED);
		}
		e = fn(arg);
		fflush(stdout);
		_exit(e > 0 && e < DROP_FAILED ? e : e == 0 ? 0 : EIO);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) != DROP_FAILED) {
		errno = WEXITSTATUS(status);
		return -1;
	}
	if (WIFSIGNALED(status))
		pc_note("setuid helper (%s) killed by signal %d", cr->name,
			WTERMSIG(status));
	errno = ENOTRECOVERABLE;
	return -1;
}

/* ---- one call as a user ---- */

enum uop_kind {
	UOP_OPEN, UOP_READ, UOP_WRITE, UOP_UNLINK, UOP_RMDIR, UOP_MKDIR,
	UOP_MKNOD, UOP_RENAME, UOP_LINK, UOP_SYMLINK, UOP_CHMOD, UOP_CHOWN,
	UOP_TRUNCATE, UOP_FTRUNCATE, UOP_ACCESS, UOP_STAT, UOP_READDIR,
	UOP_CHDIR, UOP_EXEC, UOP_UTIMENS, UOP_SETXATTR, UOP_GETXATTR,
};

struct uop {
	enum uop_kind kind;
	const char *a, *b, *data;
	int flags;
	mode_t mode;
	dev_t dev;
	off_t len;
	uid_t uid;
	gid_t gid;
	const struct timespec *ts;
};

static int err_of(long r)
{
	return r < 0 ? errno : 0;
}

static int uop_run(void *arg)
{
	const struct uop *op = arg;
	char buf[64];
	int fd, e, status;
	DIR *d;
	pid_t pid;

	switch (op->kind) {
	case UOP_OPEN:
		fd = open(op->a, op->flags, op->mode);
		if (fd < 0)
			return errno;
		close(fd);
		return 0;
	case UOP_READ:
		fd = open(op->a, O_RDONLY);
		if (fd < 0)
			return errno;
		e = err_of(read(fd, buf, sizeof(buf)));
		close(fd);
		return e;
	case UOP_WRITE:
		fd = open(op->a, O_WRONLY);
		if (fd < 0)
			return errno;
		e = err_of(write_all(fd, op->data, strlen(op->data)));
		if (close(fd) < 0 && !e)
			e = errno;
		return e;
	case UOP_UNLINK:
		return err_of(unlink(op->a));
	case UOP_RMDIR:
		return err_of(rmdir(op->a));
	case UOP_MKDIR:
		return err_of(mkdir(op->a, op->mode));
	case UOP_MKNOD:
		return err_of(mknod(op->a, op->mode, op->dev));
	case UOP_RENAME:
		return err_of(rename(op->a, op->b));
	case UOP_LINK:
		return err_of(link(op->a, op->b));
	case UOP_SYMLINK:
		return err_of(symlink(op->a, op->b));
	case UOP_CHMOD:
		return err_of(chmod(op->a, op->mode));
	case UOP_CHOWN:
		return err_of(lchown(op->a, op->uid, op->gid));
	case UOP_TRUNCATE:
		return err_of(truncate(op->a, op->len));
	case UOP_FTRUNCATE:
		fd = open(op->a, O_WRONLY);
		if (fd < 0)
			return errno;
		e = err_of(ftruncate(fd, op->len));
		close(fd);
		return e;
	case UOP_ACCESS:
		return err_of(access(op->a, op->flags));
	case UOP_STAT: {
		struct stat st;

		return err_of(stat(op->a, &st));
	}
	case UOP_READDIR:
		d = opendir(op->a);
		if (!d)
			return errno;
		errno = 0;
		while (readdir(d))
			;
		e = errno;
		closedir(d);
		return e;
	case UOP_CHDIR:
		return err_of(chdir(op->a));
	case UOP_EXEC:
		pid = fork();
		if (pid < 0)
			return errno;
		if (pid == 0) {
			char *const argv[] = { (char *)op->a, NULL };
			char *const envp[] = { "PATH=/bin:/usr/bin", NULL };

			execve(op->a, argv, envp);
			_exit(errno);
		}
		if (waitpid(pid, &status, 0) < 0)
			return errno;
		/* A script that ran exits 0; a failed execve exits with errno. */
		return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
	case UOP_UTIMENS:
		return err_of(utimensat(AT_FDCWD, op->a, op->ts, 0));
	case UOP_SETXATTR:
		return err_of(setxattr(op->a, op->b, op->data, strlen(op->data), op->flags));
	case UOP_GETXATTR:
		return err_of(getxattr(op->a, op->b, buf, sizeof(buf)));
	}
	return EINVAL;
}

#define UOP(cr, ...)							\
	({								\
		struct uop uop_ = { __VA_ARGS__ };			\
		as_user((cr), uop_run, &uop_);				\
	})

int u_open(const struct pc_cred *cr, const char *path, int flags, mode_t mode)
{
	return UOP(cr, .kind = UOP_OPEN, .a = path, .flags = flags, .mode = mode);
}

int u_read(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_READ, .a = path);
}

int u_write(const struct pc_cred *cr, const char *path, const char *data)
{
	return UOP(cr, .kind = UOP_WRITE, .a = path, .data = data);
}

int u_unlink(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_UNLINK, .a = path);
}

int u_rmdir(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_RMDIR, .a = path);
}

int u_mkdir(const struct pc_cred *cr, const char *path, mode_t mode)
{
	return UOP(cr, .kind = UOP_MKDIR, .a = path, .mode = mode);
}

int u_mknod(const struct pc_cred *cr, const char *path, mode_t mode, dev_t dev)
{
	return UOP(cr, .kind = UOP_MKNOD, .a = path, .mode = mode, .dev = dev);
}

int u_rename(const struct pc_cred *cr, const char *from, const char *to)
{
	return UOP(cr, .kind = UOP_RENAME, .a = from, .b = to);
}

int u_link(const struct pc_cred *cr, const char *from, const char *to)
{
	return UOP(cr, .kind = UOP_LINK, .a = from, .b = to);
}

int u_symlink(const struct pc_cred *cr, const char *target, const char *path)
{
	return UOP(cr, .kind = UOP_SYMLINK, .a = target, .b = path);
}

int u_chmod(const struct pc_cred *cr, const char *path, mode_t mode)
{
	return UOP(cr, .kind = UOP_CHMOD, .a = path, .mode = mode);
}

int u_chown(const struct pc_cred *cr, const char *path, uid_t uid, gid_t gid)
{
	return UOP(cr, .kind = UOP_CHOWN, .a = path, .uid = uid, .gid = gid);
}

int u_truncate(const struct pc_cred *cr, const char *path, off_t len)
{
	return UOP(cr, .kind = UOP_TRUNCATE, .a = path, .len = len);
}

int u_ftruncate(const struct pc_cred *cr, const char *path, off_t len)
{
	return UOP(cr, .kind = UOP_FTRUNCATE, .a = path, .len = len);
}

int u_access(const struct pc_cred *cr, const char *path, int mode)
{
	return UOP(cr, .kind = UOP_ACCESS, .a = path, .flags = mode);
}

int u_stat(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_STAT, .a = path);
}

int u_readdir(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_READDIR, .a = path);
}

int u_chdir(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_CHDIR, .a = path);
}

int u_exec(const struct pc_cred *cr, const char *path)
{
	return UOP(cr, .kind = UOP_EXEC, .a = path);
}

int u_utimens(const struct pc_cred *cr, const char *path, const struct timespec *ts)
{
	return UOP(cr, .kind = UOP_UTIMENS, .a = path, .ts = ts);
}

int u_setxattr(const struct pc_cred *cr, const char *path, const char *name,
	       const char *value, int flags)
{
	return UOP(cr, .kind = UOP_SETXATTR, .a = path, .b = name, .data = value,
		   .flags = flags);
}

int u_getxattr(const struct pc_cred *cr, const char *path, const char *name)
{
	return UOP(cr, .kind = UOP_GETXATTR, .a = path, .b = name);
}

/* ---- files ---- */

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int mkfile(const char *path, mode_t mode, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	int e;

	if (fd < 0)
		return -1;
	if (data && write_all(fd, data, strlen(data)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (close(fd) < 0)
		return -1;
	return chmod(path, mode);
}

int mkdirm(const char *path, mode_t mode)
{
	if (mkdir(path, 0700) < 0)
		return -1;
	return chmod(path, mode);
}

int mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, 0700) < 0 || lchown(path, uid, gid) < 0)
		return -1;
	return chmod(path, mode);
}

int mkfile_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, const char *data)
{
	if (mkfile(path, 0600, data) < 0 || lchown(path, uid, gid) < 0)
		return -1;
	return chmod(path, mode);
}

ssize_t slurp(const char *path, char *buf, size_t cap)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (got + 1 < cap) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);

		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return (ssize_t)got;
}

bool all_bytes(const void *p, size_t len, unsigned char c)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != c)
			return false;
	return true;
}

/* Removes @name under @dfd and everything below it; 0 or -1 (first error). */
static int rm_at(int dfd, const char *name, int depth)
{
	struct stat st;
	struct dirent *de;
	int fd, r = 0;
	DIR *d;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	/* Through dir fds, so trees deeper than PATH_MAX go too. */
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0 || depth > 200)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_at(dirfd(d), de->d_name, depth + 1) < 0)
			r = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;
	return r;
}

int rm_tree(const char *path)
{
	return rm_at(AT_FDCWD, path, 0);
}

void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int mkscript(const char *path, mode_t mode)
{
	return mkfile(path, mode, "#!/bin/sh\nexit 0\n");
}

const char *abs_path(const char *rel)
{
	static char bufs[8][PATH_MAX];
	static unsigned int next;
	char *buf = bufs[next++ % 8];

	snprintf(buf, PATH_MAX, "%s/%s", pc_case_dir, rel);
	return buf;
}

int ts_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	if (a->tv_nsec != b->tv_nsec)
		return a->tv_nsec < b->tv_nsec ? -1 : 1;
	return 0;
}

int set_times(const char *path, time_t atime_sec, time_t mtime_sec)
{
	struct timespec ts[2] = { { atime_sec, 0 }, { mtime_sec, 0 } };

	return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}

/* ---- POSIX ACLs: what the kernel's posix_acl_xattr format holds ---- */

#define ACL_XATTR_VERSION 2

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

size_t acl_encode(const struct acl_ent *ents, size_t n, void *buf, size_t cap)
{
	unsigned char *p = buf;
	size_t len = 4 + 8 * n;

	if (len > cap)
		return 0;
	/* Little endian: a u32 version, then (u16 tag, u16 perm, u32 id) each. */
	put32(p, ACL_XATTR_VERSION);
	for (size_t i = 0; i < n; i++) {
		put16(p + 4 + 8 * i, ents[i].tag);
		put16(p + 6 + 8 * i, ents[i].perm);
		put32(p + 8 + 8 * i, ents[i].id);
	}
	return len;
}

ssize_t acl_decode(const void *buf, size_t len, struct acl_ent *ents, size_t cap)
{
	const unsigned char *p = buf;
	size_t n;

	if (len < 4 || (len - 4) % 8 || get32(p) != ACL_XATTR_VERSION)
		return -1;
	n = (len - 4) / 8;
	if (n > cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		ents[i].tag = get16(p + 4 + 8 * i);
		ents[i].perm = get16(p + 6 + 8 * i);
		ents[i].id = get32(p + 8 + 8 * i);
	}
	return (ssize_t)n;
}

int acl_find(const struct acl_ent *ents, size_t n, uint16_t tag, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ents[i].tag == tag &&
		    ((tag != ACL_TAG_USER && tag != ACL_TAG_GROUP) || ents[i].id == id))
			return ents[i].perm;
	return -1;
}

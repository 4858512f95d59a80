/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * posix: a POSIX file system conformance suite, run as root in the test
 * guest on the virtio-fs mount and, as the reference, on a local directory
 * of the host (tests/guest/conformance.sh compares the two).
 *
 * A case is one function with a stable id and a one-line description. The
 * runner (main.c) gives each case a fresh directory of its own, forks, runs
 * the case in the child with that directory as cwd, umask 022 and its own
 * process group, and prints one TAP line from the child's exit status. A
 * case that crashes, hangs or leaves processes behind cannot touch the next
 * one: the group is killed and the directory removed after every case.
 *
 * A case returns PC_PASS, PC_FAIL (after saying why with pc_note() or one
 * of the check macros below) or pc_skip("reason"). It may return early on
 * failure without cleaning up: the runner removes what it left.
 */
#ifndef VFS_GUEST_POSIX_H
#define VFS_GUEST_POSIX_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#define PC_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum { PC_PASS = 0, PC_FAIL = 1, PC_SKIP = 2 };

struct pc_case {
	const char *id;		/* stable: area.subject[.detail] */
	const char *desc;	/* one line: what POSIX (or Linux) promises */
	int (*run)(void);
};

/* Each cases_*.c file exports one table ended by a { NULL } entry. */
extern const struct pc_case pc_cases_perm[];
extern const struct pc_case pc_cases_names[];
extern const struct pc_case pc_cases_io[];
extern const struct pc_case pc_cases_time[];
extern const struct pc_case pc_cases_lock[];
extern const struct pc_case pc_cases_dir[];
extern const struct pc_case pc_cases_xattr[];
extern const struct pc_case pc_cases_acl[];
extern const struct pc_case pc_cases_misc[];

/* Set by the runner for the case being run. */
extern const char *pc_case_dir;	/* absolute; the case's cwd */
extern const char *pc_other_fs;	/* a directory on another file system, or NULL */

/* Prints "# <text>" now (a TAP diagnostic). */
void pc_note(const char *fmt, ...) PC_PRINTF(1, 2);
/* Records the reason for the TAP line and returns PC_SKIP. */
int pc_skip(const char *fmt, ...) PC_PRINTF(1, 2);

/* Failure reports used by the macros; they print "# file:line: ...". */
void pc_fail_sys(const char *file, int line, const char *expr, int err);
void pc_fail_errno(const char *file, int line, const char *expr, long ret,
		   int err, int want1, int want2);
void pc_fail_cond(const char *file, int line, const char *cond,
		  const char *fmt, ...) PC_PRINTF(4, 5);

/* Evaluates to the call's result; fails the case when it is negative. */
#define SYS(expr)							\
	({								\
		long sys_r_ = (long)(expr);				\
		if (sys_r_ < 0) {					\
			pc_fail_sys(__FILE__, __LINE__, #expr, errno);	\
			return PC_FAIL;					\
		}							\
		sys_r_;							\
	})

/* Fails the case unless the call returned -1 with errno @e (or @e2). */
#define ERRNO2(expr, e, e2)						\
	do {								\
		errno = 0;						\
		long errno_r_ = (long)(expr);				\
		int errno_e_ = errno;					\
		if (errno_r_ != -1 ||					\
		    (errno_e_ != (e) && errno_e_ != (e2))) {		\
			pc_fail_errno(__FILE__, __LINE__, #expr,	\
				      errno_r_, errno_e_, (e), (e2));	\
			return PC_FAIL;					\
		}							\
	} while (0)
#define ERRNO(expr, e) ERRNO2(expr, e, e)

/* Fails the case when @cond is false, saying why in printf style. */
#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			pc_fail_cond(__FILE__, __LINE__, #cond,		\
				     __VA_ARGS__);			\
			return PC_FAIL;					\
		}							\
	} while (0)

#define CHECK_EQ(got, want)						\
	do {								\
		long long eq_g_ = (long long)(got);			\
		long long eq_w_ = (long long)(want);			\
		CHECK(eq_g_ == eq_w_, "%s is %lld (0%llo), want %lld (0%llo)", \
		      #got, eq_g_, eq_g_, eq_w_, eq_w_);		\
	} while (0)

/* Compares mode bits (permissions and set-id/sticky) of @path's lstat. */
#define CHECK_MODE(path, want)						\
	do {								\
		struct stat cm_st_;					\
		SYS(lstat((path), &cm_st_));				\
		CHECK((cm_st_.st_mode & 07777) == (unsigned)(want),	\
		      "mode of %s is 0%o, want 0%o", (path),		\
		      (unsigned)(cm_st_.st_mode & 07777), (unsigned)(want)); \
	} while (0)

/* ---- the users of the setuid helper ---- */

struct pc_cred {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[4];
	const char *name;
};

/*
 * OWNER 1000:1000 owns most test files; OTHER 1001:1001 shares nothing with
 * it; MEMBER 1002:1002 has 1000 as a supplementary group; PRIMARY
 * 1003:1000 has 1000 as its primary group; G2000 1004:1004 is in group 2000,
 * a group nobody else is in.
 */
#define U_OWNER 1000
#define U_OTHER 1001
#define U_MEMBER 1002
#define U_PRIMARY 1003
#define U_G2000 1004
#define G_OWNER 1000
#define G_OTHER 1001
#define G_MEMBER 1002
#define G_2000 2000
#define G_NOBODY 2001

extern const struct pc_cred owner_c, other_c, member_c, primary_c, g2000_c;
#define OWNER (&owner_c)
#define OTHER (&other_c)
#define MEMBER (&member_c)
#define PRIMARY (&primary_c)
#define G2000 (&g2000_c)

/*
 * Runs @fn(@arg) in a child that dropped to @cr (setgroups, setgid, setuid:
 * no way back). @fn returns 0 or an errno value. Returns 0, or -1 with
 * errno set to what @fn returned. A child that could not drop its
 * privileges or died reports -1 with errno ENOTRECOVERABLE after a note.
 */
int as_user(const struct pc_cred *cr, int (*fn)(void *), void *arg);

/*
 * One system call as a user; each returns 0 or -1 with errno (see as_user).
 * The file-descriptor ones open, act and close in the child.
 */
int u_open(const struct pc_cred *cr, const char *path, int flags, mode_t mode);
int u_read(const struct pc_cred *cr, const char *path);	/* open O_RDONLY + read */
int u_write(const struct pc_cred *cr, const char *path, const char *data); /* O_WRONLY, no trunc */
int u_unlink(const struct pc_cred *cr, const char *path);
int u_rmdir(const struct pc_cred *cr, const char *path);
int u_mkdir(const struct pc_cred *cr, const char *path, mode_t mode);
int u_mknod(const struct pc_cred *cr, const char *path, mode_t mode, dev_t dev);
int u_rename(const struct pc_cred *cr, const char *from, const char *to);
int u_link(const struct pc_cred *cr, const char *from, const char *to);
int u_symlink(const struct pc_cred *cr, const char *target, const char *path);
int u_chmod(const struct pc_cred *cr, const char *path, mode_t mode);
int u_chown(const struct pc_cred *cr, const char *path, uid_t uid, gid_t gid);
int u_truncate(const struct pc_cred *cr, const char *path, off_t len);
int u_ftruncate(const struct pc_cred *cr, const char *path, off_t len); /* O_WRONLY fd */
int u_access(const struct pc_cred *cr, const char *path, int mode);
int u_stat(const struct pc_cred *cr, const char *path);
int u_readdir(const struct pc_cred *cr, const char *path);
int u_chdir(const struct pc_cred *cr, const char *path);
int u_exec(const struct pc_cred *cr, const char *path);	/* 0 when it ran and exited 0 */
int u_utimens(const struct pc_cred *cr, const char *path, const struct timespec *ts);
int u_setxattr(const struct pc_cred *cr, const char *path, const char *name,
	       const char *value, int flags);
int u_getxattr(const struct pc_cred *cr, const char *path, const char *name);

/* ---- files ---- */

/* Creates @path (O_EXCL) holding @data, then sets exactly @mode. -1/errno. */
int mkfile(const char *path, mode_t mode, const char *data);
/* mkdir, then chmod to exactly @mode (no umask). -1/errno. */
int mkdirm(const char *path, mode_t mode);
/* mkdirm + lchown. */
int mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid);
/* mkfile + chown + chmod (chown clears set-id bits, so chmod comes last). */
int mkfile_owned(const char *path, mode_t mode, uid_t uid, gid_t gid, const char *data);
/* Whole file into @buf (NUL-terminated, at most @cap - 1 bytes); length or -1. */
ssize_t slurp(const char *path, char *buf, size_t cap);
/* Writes all of @len bytes; 0 or -1/errno. */
int write_all(int fd, const void *buf, size_t len);
/* pread()s exactly @len bytes at @off; 0, or -1 (EIO for a short read). */
int pread_all(int fd, void *buf, size_t len, off_t off);
/* True when @len bytes at @p are all @c. */
bool all_bytes(const void *p, size_t len, unsigned char c);
/* Removes @path and everything below it, best effort; 0 or -1. */
int rm_tree(const char *path);
/* Sleeps @ms milliseconds. */
void sleep_ms(long ms);
/* Writes a "#!/bin/sh\nexit 0" script with @mode. */
int mkscript(const char *path, mode_t mode);
/* "<case dir>/<rel>" in a rotating static buffer (8 slots). */
const char *abs_path(const char *rel);

/* timespec comparison: <0, 0, >0. */
int ts_cmp(const struct timespec *a, const struct timespec *b);
/* Sets atime and mtime of @path (no follow) to @sec seconds, 0 ns. */
int set_times(const char *path, time_t atime_sec, time_t mtime_sec);

/* A clearly past instant every "it moved forward" check starts from. */
#define OLD_TIME ((time_t)1000000000) /* 2001-09-09 */

/* ---- POSIX ACLs in the kernel's xattr format ---- */

#define ACL_TAG_USER_OBJ 0x01
#define ACL_TAG_USER 0x02
#define ACL_TAG_GROUP_OBJ 0x04
#define ACL_TAG_GROUP 0x08
#define ACL_TAG_MASK 0x10
#define ACL_TAG_OTHER 0x20
#define ACL_NO_ID 0xffffffffu

struct acl_ent {
	uint16_t tag;
	uint16_t perm;	/* 4 read, 2 write, 1 execute */
	uint32_t id;
};

/* Encodes @n entries into @buf (version 2 header + entries); its length. */
size_t acl_encode(const struct acl_ent *ents, size_t n, void *buf, size_t cap);
/* Decodes @len bytes; number of entries, or -1 when malformed. */
ssize_t acl_decode(const void *buf, size_t len, struct acl_ent *ents, size_t cap);
/* Finds the entry with @tag (and @id for USER/GROUP); its perm, or -1. */
int acl_find(const struct acl_ent *ents, size_t n, uint16_t tag, uint32_t id);

#endif

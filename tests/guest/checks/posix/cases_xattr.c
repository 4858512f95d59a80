/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extended attributes: user.* set/get/list/remove, the XATTR_CREATE and
 * XATTR_REPLACE errors, ERANGE, large values, other inode types, the
 * trusted.* and security.* namespaces, permissions of user.* for others.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "posix.h"

/* True when @list (listxattr output of @len bytes) holds @name. */
static bool listed(const char *list, ssize_t len, const char *name)
{
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(list + off) + 1)
		if (strcmp(list + off, name) == 0)
			return true;
	return false;
}

/* Skips the case when user xattrs are not there at all. */
static int need_user_xattr(const char *path)
{
	if (setxattr(path, "user.probe", "1", 1, 0) == 0)
		return removexattr(path, "user.probe") == 0 ? PC_PASS : PC_FAIL;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return pc_skip("no user xattrs here (%s)", strerrorname_np(errno));
	pc_fail_sys(__FILE__, __LINE__, "setxattr user.probe", errno);
	return PC_FAIL;
}

#define NEED_USER_XATTR(path)						\
	do {								\
		int nux_ = need_user_xattr(path);			\
		if (nux_ != PC_PASS)					\
			return nux_;					\
	} while (0)

static int set_get(void)
{
	char buf[64];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.colour", "blue", 4, 0));
	n = SYS(getxattr("f", "user.colour", buf, sizeof(buf)));
	CHECK(n == 4 && memcmp(buf, "blue", 4) == 0, "got %zd bytes \"%.*s\"", n, (int)n, buf);
	SYS(setxattr("f", "user.colour", "green!", 6, 0));
	n = SYS(getxattr("f", "user.colour", buf, sizeof(buf)));
	CHECK(n == 6 && memcmp(buf, "green!", 6) == 0, "after replace got \"%.*s\"", (int)n, buf);
	return PC_PASS;
}

static int binary_value(void)
{
	unsigned char v[256], buf[256];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	for (int i = 0; i < 256; i++)
		v[i] = (unsigned char)i;
	SYS(setxattr("f", "user.bin", v, sizeof(v), 0));
	n = SYS(getxattr("f", "user.bin", buf, sizeof(buf)));
	CHECK(n == 256 && memcmp(v, buf, 256) == 0, "binary value came back as %zd other bytes", n);
	return PC_PASS;
}

static int empty_value(void)
{
	char buf[8];

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.empty", "", 0, 0));
	CHECK_EQ(SYS(getxattr("f", "user.empty", buf, sizeof(buf))), 0);
	CHECK_EQ(SYS(getxattr("f", "user.empty", NULL, 0)), 0);
	return PC_PASS;
}

static int list(void)
{
	char buf[1024];
	ssize_t n, size;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.a", "1", 1, 0));
	SYS(setxattr("f", "user.second", "22", 2, 0));
	size = SYS(listxattr("f", NULL, 0));
	n = SYS(listxattr("f", buf, sizeof(buf)));
	CHECK(size == n, "size query %zd, list %zd", size, n);
	CHECK(listed(buf, n, "user.a") && listed(buf, n, "user.second"),
	      "a name is missing from the list");
	return PC_PASS;
}

static int remove_attr(void)
{
	char buf[1024];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.gone", "1", 1, 0));
	SYS(removexattr("f", "user.gone"));
	ERRNO(getxattr("f", "user.gone", buf, sizeof(buf)), ENODATA);
	n = SYS(listxattr("f", buf, sizeof(buf)));
	CHECK(!listed(buf, n, "user.gone"), "a removed name is still listed");
	ERRNO(removexattr("f", "user.gone"), ENODATA);
	return PC_PASS;
}

static int create_replace(void)
{
	char buf[8];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	ERRNO(setxattr("f", "user.x", "r", 1, XATTR_REPLACE), ENODATA);
	SYS(setxattr("f", "user.x", "c", 1, XATTR_CREATE));
	ERRNO(setxattr("f", "user.x", "c", 1, XATTR_CREATE), EEXIST);
	SYS(setxattr("f", "user.x", "R", 1, XATTR_REPLACE));
	n = SYS(getxattr("f", "user.x", buf, sizeof(buf)));
	CHECK(n == 1 && buf[0] == 'R', "value \"%.*s\"", (int)n, buf);
	ERRNO(setxattr("f", "user.x", "c", 1, 4), EINVAL);
	return PC_PASS;
}

static int erange(void)
{
	char buf[4];

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.long", "0123456789", 10, 0));
	CHECK_EQ(SYS(getxattr("f", "user.long", NULL, 0)), 10);
	ERRNO(getxattr("f", "user.long", buf, sizeof(buf)), ERANGE);
	ERRNO(listxattr("f", buf, sizeof(buf)), ERANGE);
	return PC_PASS;
}

static int missing(void)
{
	char buf[8];

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	ERRNO(getxattr("f", "user.none", buf, sizeof(buf)), ENODATA);
	ERRNO(getxattr("none", "user.none", buf, sizeof(buf)), ENOENT);
	return PC_PASS;
}

static int large_64k(void)
{
	size_t len = 65536;
	char *v = malloc(len), *buf = malloc(len);

	CHECK(v && buf, "out of memory");
	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	for (size_t i = 0; i < len; i++)
		v[i] = (char)('a' + i % 26);
	if (setxattr("f", "user.big", v, len, 0) < 0) {
		if (errno == ENOSPC || errno == E2BIG)
			return pc_skip("the file system takes no 64 KiB value (%s)",
				       strerrorname_np(errno));
		pc_fail_sys(__FILE__, __LINE__, "setxattr 64 KiB", errno);
		return PC_FAIL;
	}
	CHECK_EQ(SYS(getxattr("f", "user.big", NULL, 0)), (long long)len);
	CHECK_EQ(SYS(getxattr("f", "user.big", buf, len)), (long long)len);
	CHECK(memcmp(v, buf, len) == 0, "the 64 KiB value came back different");
	return PC_PASS;
}

static int large_max(void)
{
	size_t lo = 0, hi = 65536, len;
	char *v = malloc(hi), *buf = malloc(hi);

	CHECK(v && buf, "out of memory");
	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	for (size_t i = 0; i < hi; i++)
		v[i] = (char)('A' + i % 23);
	/* The largest size the file system takes, by bisection. */
	if (setxattr("f", "user.big", v, hi, 0) == 0) {
		lo = hi;
	} else {
		hi--;
		while (lo < hi) {
			size_t mid = (lo + hi + 1) / 2;

			if (setxattr("f", "user.big", v, mid, 0) == 0) {
				lo = mid;
			} else {
				CHECK(errno == ENOSPC || errno == E2BIG,
				      "setxattr of %zu bytes: %m", mid);
				hi = mid - 1;
			}
		}
	}
	len = lo;
	CHECK(len >= 1024, "the largest value taken is %zu bytes", len);
	pc_note("largest user xattr value taken: %zu bytes", len);
	SYS(setxattr("f", "user.big", v, len, 0));
	CHECK_EQ(SYS(getxattr("f", "user.big", buf, hi)), (long long)len);
	CHECK(memcmp(v, buf, len) == 0, "the %zu-byte value came back different", len);
	return PC_PASS;
}

static int too_big(void)
{
	char *v = calloc(1, 65537);

	CHECK(v != NULL, "out of memory");
	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	ERRNO(setxattr("f", "user.huge", v, 65537, 0), E2BIG);
	return PC_PASS;
}

static int name_errors(void)
{
	char name[300] = "user.";

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	memset(name + 5, 'n', 260);
	name[265] = '\0';
	ERRNO(setxattr("f", name, "v", 1, 0), ERANGE);
	ERRNO(setxattr("f", "nonsense.name", "v", 1, 0), EOPNOTSUPP);
	ERRNO(setxattr("f", "", "v", 1, 0), ERANGE);
	return PC_PASS;
}

static int many(void)
{
	char name[32], buf[4096];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "user.n%02d", i);
		SYS(setxattr("f", name, "v", 1, 0));
	}
	n = SYS(listxattr("f", buf, sizeof(buf)));
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "user.n%02d", i);
		CHECK(listed(buf, n, name), "%s is not listed", name);
	}
	return PC_PASS;
}

static int on_dir(void)
{
	char buf[16];
	ssize_t n;

	SYS(mkdirm("d", 0755));
	NEED_USER_XATTR("d");
	SYS(setxattr("d", "user.dir", "yes", 3, 0));
	n = SYS(getxattr("d", "user.dir", buf, sizeof(buf)));
	CHECK(n == 3 && memcmp(buf, "yes", 3) == 0, "got \"%.*s\"", (int)n, buf);
	SYS(removexattr("d", "user.dir"));
	return PC_PASS;
}

static int symlink_user(void)
{
	char buf[16];

	SYS(mkfile("t", 0644, NULL));
	NEED_USER_XATTR("t");
	SYS(symlink("t", "l"));
	/* Linux keeps user.* off symlinks (and off special files). */
	ERRNO(lsetxattr("l", "user.x", "v", 1, 0), EPERM);
	ERRNO(lgetxattr("l", "user.x", buf, sizeof(buf)), ENODATA);
	/* Without the l, the target is meant. */
	SYS(setxattr("l", "user.x", "v", 1, 0));
	CHECK_EQ(SYS(getxattr("t", "user.x", buf, sizeof(buf))), 1);
	return PC_PASS;
}

static int symlink_trusted(void)
{
	char buf[16];
	ssize_t n;

	SYS(symlink("t", "l"));
	if (lsetxattr("l", "trusted.link", "tv", 2, 0) < 0) {
		if (errno == EOPNOTSUPP)
			return pc_skip("no trusted.* xattrs on symlinks here");
		pc_fail_sys(__FILE__, __LINE__, "lsetxattr trusted.link", errno);
		return PC_FAIL;
	}
	n = SYS(lgetxattr("l", "trusted.link", buf, sizeof(buf)));
	CHECK(n == 2 && memcmp(buf, "tv", 2) == 0, "got \"%.*s\"", (int)n, buf);
	n = SYS(llistxattr("l", buf, sizeof(buf)));
	CHECK(listed(buf, n, "trusted.link"), "trusted.link is not listed on the link");
	return PC_PASS;
}

static int special_user(void)
{
	SYS(mkfile("t", 0644, NULL));
	NEED_USER_XATTR("t");
	SYS(mkfifo("p", 0666));
	ERRNO(lsetxattr("p", "user.x", "v", 1, 0), EPERM);
	return PC_PASS;
}

static int trusted_ns(void)
{
	char buf[16];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	SYS(setxattr("f", "trusted.t", "root", 4, 0));
	n = SYS(getxattr("f", "trusted.t", buf, sizeof(buf)));
	CHECK(n == 4 && memcmp(buf, "root", 4) == 0, "got \"%.*s\"", (int)n, buf);
	return PC_PASS;
}

static int trusted_read_fn(void *arg)
{
	char buf[16];

	(void)arg;
	if (getxattr("f", "trusted.t", buf, sizeof(buf)) >= 0)
		return EEXIST;
	return errno == ENODATA ? 0 : errno;
}

static int trusted_list_fn(void *arg)
{
	char buf[256];
	ssize_t n;

	(void)arg;
	n = listxattr("f", buf, sizeof(buf));
	if (n < 0)
		return errno;
	return listed(buf, n, "trusted.t") ? EEXIST : 0;
}

static int trusted_hidden(void)
{
	SYS(mkfile("f", 0644, NULL));
	SYS(setxattr("f", "trusted.t", "root", 4, 0));
	/* Unprivileged users neither read nor list trusted.*. */
	CHECK(as_user(OTHER, trusted_read_fn, NULL) == 0,
	      "getxattr trusted.t as a user: %s", errno == EEXIST ? "it read the value" : strerror(errno));
	CHECK(as_user(OTHER, trusted_list_fn, NULL) == 0,
	      "listxattr as a user: %s", errno == EEXIST ? "trusted.t is listed" : strerror(errno));
	ERRNO(u_setxattr(OTHER, "f", "trusted.u", "x", 0), EPERM);
	return PC_PASS;
}

static int security_ns(void)
{
	char buf[16];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	SYS(setxattr("f", "security.test", "sec", 3, 0));
	n = SYS(getxattr("f", "security.test", buf, sizeof(buf)));
	CHECK(n == 3 && memcmp(buf, "sec", 3) == 0, "got \"%.*s\"", (int)n, buf);
	return PC_PASS;
}

static int user_perm(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.x", "v", 1, 0));
	/* user.* follows the file's permission bits. */
	SYS(u_getxattr(OTHER, "f", "user.x"));
	ERRNO(u_setxattr(OTHER, "f", "user.y", "v", 0), EACCES);
	SYS(u_setxattr(OWNER, "f", "user.y", "v", 0));
	SYS(chmod("f", 0600));
	ERRNO(u_getxattr(OTHER, "f", "user.x"), EACCES);
	return PC_PASS;
}

static int fd_calls(void)
{
	char buf[16];
	ssize_t n;
	int fd;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	fd = SYS(open("f", O_RDONLY));
	SYS(fsetxattr(fd, "user.fd", "via fd", 6, 0));
	n = SYS(fgetxattr(fd, "user.fd", buf, sizeof(buf)));
	CHECK(n == 6 && memcmp(buf, "via fd", 6) == 0, "got \"%.*s\"", (int)n, buf);
	n = SYS(flistxattr(fd, buf, sizeof(buf)));
	CHECK(listed(buf, n, "user.fd"), "user.fd is not listed");
	SYS(fremovexattr(fd, "user.fd"));
	SYS(close(fd));
	return PC_PASS;
}

static int unlinked_fd(void)
{
	char buf[16];
	ssize_t n;
	int fd;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.u", "kept", 4, 0));
	fd = SYS(open("f", O_RDWR));
	SYS(unlink("f"));
	n = SYS(fgetxattr(fd, "user.u", buf, sizeof(buf)));
	CHECK(n == 4 && memcmp(buf, "kept", 4) == 0, "got \"%.*s\"", (int)n, buf);
	SYS(fsetxattr(fd, "user.v", "new", 3, 0));
	SYS(close(fd));
	return PC_PASS;
}

static int follows_inode(void)
{
	char buf[16];
	ssize_t n;

	SYS(mkfile("f", 0644, NULL));
	NEED_USER_XATTR("f");
	SYS(setxattr("f", "user.i", "inode", 5, 0));
	SYS(rename("f", "g"));
	SYS(link("g", "h"));
	n = SYS(getxattr("h", "user.i", buf, sizeof(buf)));
	CHECK(n == 5 && memcmp(buf, "inode", 5) == 0, "through the link: \"%.*s\"", (int)n, buf);
	SYS(setxattr("g", "user.j", "1", 1, 0));
	CHECK_EQ(SYS(getxattr("h", "user.j", buf, sizeof(buf))), 1);
	return PC_PASS;
}

const struct pc_case pc_cases_xattr[] = {
	{ "xattr.set_get", "user.* set, get, and set again replaces the value", set_get },
	{ "xattr.binary", "a value with every byte 0-255 round-trips", binary_value },
	{ "xattr.empty_value", "a zero-length value is stored and read as 0 bytes", empty_value },
	{ "xattr.list", "listxattr lists the names; its size query matches", list },
	{ "xattr.remove", "removexattr removes (ENODATA after); again gives ENODATA", remove_attr },
	{ "xattr.create_replace", "XATTR_CREATE on an existing name: EEXIST; XATTR_REPLACE on a missing one: ENODATA; unknown flag: EINVAL", create_replace },
	{ "xattr.erange", "getxattr and listxattr with a small buffer: ERANGE; size 0 gives the size", erange },
	{ "xattr.missing", "getxattr of a missing name: ENODATA; of a missing file: ENOENT", missing },
	{ "xattr.large_64k", "a 64 KiB value round-trips (skips where the file system takes none)", large_64k },
	{ "xattr.large_max", "the largest value the file system takes (probed up to 64 KiB) round-trips", large_max },
	{ "xattr.too_big", "a value over 64 KiB: E2BIG", too_big },
	{ "xattr.name_errors", "names over 255 bytes or empty: ERANGE; unknown namespace: EOPNOTSUPP", name_errors },
	{ "xattr.many", "40 names on one file are all listed", many },
	{ "xattr.dir", "user.* on a directory", on_dir },
	{ "xattr.symlink_user", "user.* on a symlink itself: EPERM; through it the target's", symlink_user },
	{ "xattr.symlink_trusted", "trusted.* on a symlink itself (root)", symlink_trusted },
	{ "xattr.special_user", "user.* on a fifo: EPERM", special_user },
	{ "xattr.trusted", "trusted.* set and get as root", trusted_ns },
	{ "xattr.trusted_hidden", "trusted.* is neither readable nor listed for users; setting it: EPERM", trusted_hidden },
	{ "xattr.security", "security.* set and get as root", security_ns },
	{ "xattr.user_perm", "user.* needs read/write permission on the file (EACCES)", user_perm },
	{ "xattr.fd_calls", "fsetxattr, fgetxattr, flistxattr, fremovexattr", fd_calls },
	{ "xattr.unlinked_fd", "xattrs of an unlinked open file through its fd", unlinked_fd },
	{ "xattr.follows_inode", "xattrs follow the inode through rename and hard links", follows_inode },
	{ NULL, NULL, NULL },
};

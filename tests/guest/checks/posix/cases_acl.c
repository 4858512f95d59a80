/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * POSIX ACLs, written and read as the system.posix_acl_access and
 * system.posix_acl_default xattrs in the kernel's binary format (encoded
 * here, see acl_encode()): access checks for named users and groups, the
 * mask, chmod's effect on the mask, default ACL inheritance and its
 * interplay with the umask and the create mode.
 *
 * Through virtio-fs these need the daemon to offer POSIX ACLs (FUSE_POSIX_ACL);
 * without that the calls fail with EOPNOTSUPP and the cases fail.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "posix.h"

#define XA_ACCESS "system.posix_acl_access"
#define XA_DEFAULT "system.posix_acl_default"

#define R 4
#define W 2
#define X 1

#define E(tag, perm, id) { ACL_TAG_##tag, (perm), (id) }

static int set_acl(const char *path, const char *name, const struct acl_ent *ents, size_t n)
{
	unsigned char buf[4 + 8 * 32];
	size_t len = acl_encode(ents, n, buf, sizeof(buf));

	return setxattr(path, name, buf, len, 0);
}

/* Reads an ACL; number of entries, or -1/errno (EPROTO when malformed). */
static ssize_t get_acl(const char *path, const char *name, struct acl_ent *ents, size_t cap)
{
	unsigned char buf[4 + 8 * 32];
	ssize_t len = getxattr(path, name, buf, sizeof(buf));
	ssize_t n;

	if (len < 0)
		return -1;
	n = acl_decode(buf, (size_t)len, ents, cap);
	if (n < 0)
		errno = EPROTO;
	return n;
}

#define SET_ACL(path, name, ...)					\
	do {								\
		static const struct acl_ent sa_e_[] = { __VA_ARGS__ };	\
		SYS(set_acl((path), (name), sa_e_, sizeof(sa_e_) / sizeof(sa_e_[0]))); \
	} while (0)

/* An access ACL granting @perm to user @uid, with the mask @mask. */
#define NAMED_USER_ACL(path, uid, perm, mask, other)			\
	SET_ACL((path), XA_ACCESS, E(USER_OBJ, R | W, ACL_NO_ID),	\
		E(USER, (perm), (uid)), E(GROUP_OBJ, 0, ACL_NO_ID),	\
		E(MASK, (mask), ACL_NO_ID), E(OTHER, (other), ACL_NO_ID))

static int set_get(void)
{
	struct acl_ent got[16];
	ssize_t n;

	SYS(mkfile("f", 0644, "data"));
	SET_ACL("f", XA_ACCESS, E(USER_OBJ, R | W, ACL_NO_ID), E(USER, R, U_OTHER),
		E(GROUP_OBJ, R, ACL_NO_ID), E(GROUP, R | W, G_2000), E(MASK, R | W, ACL_NO_ID),
		E(OTHER, 0, ACL_NO_ID));
	CHECK_EQ(SYS(getxattr("f", XA_ACCESS, NULL, 0)), 4 + 8 * 6);
	n = SYS(get_acl("f", XA_ACCESS, got, 16));
	CHECK_EQ(n, 6);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER, U_OTHER), R);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_GROUP, G_2000), R | W);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_MASK, 0), R | W);
	return PC_PASS;
}

static int mode_sync(void)
{
	SYS(mkfile("f", 0777, "data"));
	/* The mode's group bits show the mask; owner and other their entries. */
	NAMED_USER_ACL("f", U_OTHER, R | W, R, 0);
	CHECK_MODE("f", 0640);
	return PC_PASS;
}

static int user_grant(void)
{
	SYS(mkfile("f", 0600, "data"));
	NAMED_USER_ACL("f", U_OTHER, R, R, 0);
	SYS(u_read(OTHER, "f"));
	ERRNO(u_read(MEMBER, "f"), EACCES);
	ERRNO(u_write(OTHER, "f", "x"), EACCES);
	return PC_PASS;
}

static int user_deny(void)
{
	SYS(mkfile("f", 0644, "data"));
	/* A named entry wins over "other", even when it grants less. */
	NAMED_USER_ACL("f", U_OTHER, 0, R, R);
	ERRNO(u_read(OTHER, "f"), EACCES);
	SYS(u_read(MEMBER, "f"));
	return PC_PASS;
}

static int group_grant(void)
{
	SYS(mkfile("f", 0600, "data"));
	SET_ACL("f", XA_ACCESS, E(USER_OBJ, R | W, ACL_NO_ID), E(GROUP_OBJ, 0, ACL_NO_ID),
		E(GROUP, R | W, G_2000), E(MASK, R | W, ACL_NO_ID), E(OTHER, 0, ACL_NO_ID));
	SYS(u_write(G2000, "f", "x"));
	ERRNO(u_read(OTHER, "f"), EACCES);
	return PC_PASS;
}

static int mask_limits(void)
{
	SYS(mkfile("f", 0600, "data"));
	NAMED_USER_ACL("f", U_OTHER, R | W, R, 0);
	SYS(u_read(OTHER, "f"));
	ERRNO(u_write(OTHER, "f", "x"), EACCES);
	return PC_PASS;
}

static int chmod_updates_mask(void)
{
	struct acl_ent got[16];
	ssize_t n;

	SYS(mkfile("f", 0600, "data"));
	NAMED_USER_ACL("f", U_OTHER, R | W, R | W, 0);
	SYS(u_write(OTHER, "f", "x"));
	/* chmod's group bits set the mask, not the owning group's entry. */
	SYS(chmod("f", 0600));
	n = SYS(get_acl("f", XA_ACCESS, got, 16));
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_MASK, 0), 0);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER, U_OTHER), R | W);
	ERRNO(u_read(OTHER, "f"), EACCES);
	SYS(chmod("f", 0640));
	SYS(u_read(OTHER, "f"));
	return PC_PASS;
}

/* A directory whose default ACL gives user OTHER rw and the mask rwx. */
static int default_dir(void)
{
	SYS(mkdirm("d", 0755));
	SET_ACL("d", XA_DEFAULT, E(USER_OBJ, R | W | X, ACL_NO_ID), E(USER, R | W, U_OTHER),
		E(GROUP_OBJ, R | X, ACL_NO_ID), E(MASK, R | W | X, ACL_NO_ID),
		E(OTHER, 0, ACL_NO_ID));
	return PC_PASS;
}

#define DEFAULT_DIR()							\
	do {								\
		if (default_dir() != PC_PASS)				\
			return PC_FAIL;					\
	} while (0)

static int default_inherit_file(void)
{
	struct acl_ent got[16];
	ssize_t n;
	int fd;

	DEFAULT_DIR();
	fd = SYS(open("d/f", O_CREAT | O_WRONLY, 0666));
	SYS(close(fd));
	n = SYS(get_acl("d/f", XA_ACCESS, got, 16));
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER, U_OTHER), R | W);
	/* Mask: the default's (rwx) ANDed with the create mode's group bits (rw). */
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_MASK, 0), R | W);
	CHECK_MODE("d/f", 0660);
	SYS(u_write(OTHER, "d/f", "x"));
	ERRNO(getxattr("d/f", XA_DEFAULT, NULL, 0), ENODATA);
	return PC_PASS;
}

static int default_inherit_dir(void)
{
	struct acl_ent got[16];
	ssize_t n;

	DEFAULT_DIR();
	SYS(mkdir("d/sub", 0777));
	n = SYS(get_acl("d/sub", XA_DEFAULT, got, 16));
	CHECK_EQ(n, 5);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER, U_OTHER), R | W);
	n = SYS(get_acl("d/sub", XA_ACCESS, got, 16));
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER, U_OTHER), R | W);
	CHECK_MODE("d/sub", 0770);
	/* And on to the grandchildren. */
	SYS(mkfile("d/sub/g", 0644, NULL));
	n = SYS(get_acl("d/sub/g", XA_ACCESS, got, 16));
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER, U_OTHER), R | W);
	return PC_PASS;
}

static int default_ignores_umask(void)
{
	int fd;

	DEFAULT_DIR();
	umask(077);
	fd = SYS(open("d/f", O_CREAT | O_WRONLY, 0666));
	SYS(close(fd));
	SYS(mkdir("d/sub", 0777));
	CHECK_MODE("d/f", 0660);
	CHECK_MODE("d/sub", 0770);
	return PC_PASS;
}

static int default_mode_and(void)
{
	struct acl_ent got[16];
	ssize_t n;
	int fd;

	DEFAULT_DIR();
	fd = SYS(open("d/f", O_CREAT | O_WRONLY, 0640));
	SYS(close(fd));
	n = SYS(get_acl("d/f", XA_ACCESS, got, 16));
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_USER_OBJ, 0), R | W);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_MASK, 0), R);
	CHECK_EQ(acl_find(got, (size_t)n, ACL_TAG_OTHER, 0), 0);
	CHECK_MODE("d/f", 0640);
	SYS(u_read(OTHER, "d/f"));
	ERRNO(u_write(OTHER, "d/f", "x"), EACCES);
	return PC_PASS;
}

static int no_default_umask(void)
{
	int fd;

	SYS(mkdirm("d", 0777));
	umask(077);
	fd = SYS(open("d/f", O_CREAT | O_WRONLY, 0666));
	SYS(close(fd));
	CHECK_MODE("d/f", 0600);
	ERRNO(getxattr("d/f", XA_ACCESS, NULL, 0), ENODATA);
	return PC_PASS;
}

static int remove_acl(void)
{
	SYS(mkfile("f", 0600, "data"));
	NAMED_USER_ACL("f", U_OTHER, R, R, 0);
	SYS(removexattr("f", XA_ACCESS));
	ERRNO(getxattr("f", XA_ACCESS, NULL, 0), ENODATA);
	CHECK_MODE("f", 0640);
	ERRNO(u_read(OTHER, "f"), EACCES);
	return PC_PASS;
}

static int invalid(void)
{
	static const struct acl_ent no_user_obj[] = {
		E(GROUP_OBJ, R, ACL_NO_ID), E(OTHER, R, ACL_NO_ID),
	};
	static const struct acl_ent no_mask[] = {
		E(USER_OBJ, R, ACL_NO_ID), E(USER, R, U_OTHER), E(GROUP_OBJ, R, ACL_NO_ID),
		E(OTHER, R, ACL_NO_ID),
	};
	unsigned char bad[12] = { 1, 0, 0, 0 };

	SYS(mkfile("f", 0644, "data"));
	ERRNO(set_acl("f", XA_ACCESS, no_user_obj, 2), EINVAL);
	ERRNO(set_acl("f", XA_ACCESS, no_mask, 4), EINVAL);
	/* Version 1 is not the format: Linux says EOPNOTSUPP, others EINVAL. */
	ERRNO2(setxattr("f", XA_ACCESS, bad, sizeof(bad), 0), EINVAL, EOPNOTSUPP);
	/* The right version, but not a whole number of entries. */
	bad[0] = 2;
	ERRNO(setxattr("f", XA_ACCESS, bad, 7, 0), EINVAL);
	return PC_PASS;
}

static int minimal(void)
{
	SYS(mkfile("f", 0600, "data"));
	/* An ACL of the three base entries is just a mode. */
	SET_ACL("f", XA_ACCESS, E(USER_OBJ, R | W, ACL_NO_ID), E(GROUP_OBJ, R, ACL_NO_ID),
		E(OTHER, R, ACL_NO_ID));
	CHECK_MODE("f", 0644);
	ERRNO(getxattr("f", XA_ACCESS, NULL, 0), ENODATA);
	return PC_PASS;
}

static int default_on_file(void)
{
	SYS(mkfile("f", 0644, "data"));
	ERRNO(set_acl("f", XA_DEFAULT, (const struct acl_ent[]){
			      E(USER_OBJ, R, ACL_NO_ID), E(GROUP_OBJ, R, ACL_NO_ID),
			      E(OTHER, R, ACL_NO_ID) }, 3), EACCES);
	return PC_PASS;
}

static int set_as_user_fn(void *arg)
{
	static const struct acl_ent ents[] = {
		E(USER_OBJ, R | W, ACL_NO_ID), E(USER, R | W, U_OTHER), E(GROUP_OBJ, R, ACL_NO_ID),
		E(MASK, R | W, ACL_NO_ID), E(OTHER, 0, ACL_NO_ID),
	};

	return set_acl(arg, XA_ACCESS, ents, 5) < 0 ? errno : 0;
}

static int owner_sets(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	ERRNO(as_user(OTHER, set_as_user_fn, "f"), EPERM);
	SYS(as_user(OWNER, set_as_user_fn, "f"));
	SYS(u_write(OTHER, "f", "x"));
	return PC_PASS;
}

static int default_remove(void)
{
	int fd;

	DEFAULT_DIR();
	SYS(removexattr("d", XA_DEFAULT));
	fd = SYS(open("d/f", O_CREAT | O_WRONLY, 0666));
	SYS(close(fd));
	/* Back to the umask (022). */
	CHECK_MODE("d/f", 0644);
	ERRNO(getxattr("d/f", XA_ACCESS, NULL, 0), ENODATA);
	return PC_PASS;
}

const struct pc_case pc_cases_acl[] = {
	{ "acl.set_get", "an access ACL with named user and group entries reads back as written", set_get },
	{ "acl.mode_sync", "setting an access ACL sets the mode: group bits = mask", mode_sync },
	{ "acl.user_grant", "a named user entry grants read to that user only", user_grant },
	{ "acl.user_deny", "a named user entry with no rights denies what 'other' allows", user_deny },
	{ "acl.group_grant", "a named group entry grants write to its members", group_grant },
	{ "acl.mask_limits", "the mask limits a named user's rights", mask_limits },
	{ "acl.chmod_updates_mask", "chmod sets the ACL mask from the group bits", chmod_updates_mask },
	{ "acl.default_inherit_file", "a new file inherits the default ACL; mask = default mask & create mode", default_inherit_file },
	{ "acl.default_inherit_dir", "a new subdirectory gets the default ACL as default and access ACL", default_inherit_dir },
	{ "acl.default_ignores_umask", "with a default ACL the umask is not applied", default_ignores_umask },
	{ "acl.default_mode_and", "the create mode limits the inherited entries (0640: mask r)", default_mode_and },
	{ "acl.no_default_umask", "without a default ACL the umask applies and no ACL is made", no_default_umask },
	{ "acl.remove", "removing the access ACL leaves the mode and drops the named entries", remove_acl },
	{ "acl.invalid", "ACLs without USER_OBJ, without a needed MASK, truncated: EINVAL; another version refused", invalid },
	{ "acl.minimal", "an ACL of the three base entries becomes the mode, no xattr kept", minimal },
	{ "acl.default_on_file", "a default ACL on a regular file: EACCES", default_on_file },
	{ "acl.owner_sets", "only the owner sets an ACL (others: EPERM); it takes effect", owner_sets },
	{ "acl.default_remove", "after removing the default ACL new files follow the umask again", default_remove },
	{ NULL, NULL, NULL },
};

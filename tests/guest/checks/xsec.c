/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xsec: the security options as applications in the guest see them. The
 * daemon runs with
 *
 *     --xattrmap=:map:user.:user.virtiofs.: --posix-acl --killpriv-v2
 *     --security-label
 *
 * (tests/guest/meson.build). The check mounts the share and, as root and as
 * user 1000 (a child process), exercises:
 *
 *   - xattr mapping: user.foo set in the guest is stored on the host as
 *     user.virtiofs.user.foo and listed back as user.foo; the host's own
 *     user.* names are hidden, names the host prefixed are shown unprefixed;
 *   - POSIX ACLs: a default ACL is inherited and overrides the umask, which
 *     applies elsewhere; an ACL entry lets user 1000 read, write and create
 *     where the mode bits alone would not;
 *   - killpriv: user 1000 writing or truncating its set-id file clears the
 *     bits and drops security.capability; root writing keeps them;
 *   - CVE-2022-0358: user 1000 creating an executable with S_ISGID in a
 *     set-group-id directory of a group it is not in gets no S_ISGID.
 *
 * xsec.host.sh sets up host/ before boot and checks xsec/ after poweroff.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"
#include "tap.h"

#define USER_ID 1000

static const char *mnt;
static const char *tag;

static const char *path(const char *name)
{
	return chk_join(mnt, name);
}

static int mount_share(void)
{
	return chk_mount_virtiofs(tag, mnt, 50);
}

static int put_file(const char *p, const char *data, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

static mode_t mode_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

/* "name\0name\0..." holds name. */
static bool list_has(const char *list, ssize_t len, const char *name)
{
	for (ssize_t i = 0; i < len; i += (ssize_t)strlen(list + i) + 1)
		if (strcmp(list + i, name) == 0)
			return true;
	return false;
}

/* --- xattr mapping ------------------------------------------------------- */

static void check_xattrmap(void)
{
	const char *x = path("xsec/x");
	char buf[256];
	ssize_t n;

	tap_diag("xattr names mapped by :map:user.:user.virtiofs.:");
	CHK_SYS(put_file(x, "x\n", 0644), "create xsec/x");
	CHK_SYS(setxattr(x, "user.foo", "bar", 3, 0), "setxattr user.foo=bar on xsec/x");
	n = getxattr(x, "user.foo", buf, sizeof(buf));
	tap_ok(n == 3 && memcmp(buf, "bar", 3) == 0, "getxattr user.foo reads back 'bar'");
	n = listxattr(x, buf, sizeof(buf));
	CHK_EQ(n, sizeof("user.foo"), "listxattr of xsec/x lists exactly user.foo (%zd bytes)", n);
	tap_ok(n > 0 && list_has(buf, n, "user.foo"), "listxattr of xsec/x: user.foo is there");

	const char *h = path("host/attrs");
	n = listxattr(h, buf, sizeof(buf));
	tap_ok(n > 0 && list_has(buf, n, "user.fromhost"),
	       "host/attrs lists user.fromhost (host name user.virtiofs.user.fromhost)");
	tap_ok(n >= 0 && !list_has(buf, n, "user.hostonly"),
	       "host/attrs does not list the host's own user.hostonly");
	tap_ok(n >= 0 && !list_has(buf, n, "user.virtiofs.user.fromhost"),
	       "host/attrs does not list the prefixed host name");
	n = getxattr(h, "user.fromhost", buf, sizeof(buf));
	tap_ok(n == 2 && memcmp(buf, "hv", 2) == 0, "getxattr user.fromhost reads 'hv'");
	CHK_ERRNO(getxattr(h, "user.hostonly", buf, sizeof(buf)), ENODATA,
		  "getxattr user.hostonly: ENODATA (out of the guest's reach)");
}

/* --- POSIX ACLs ---------------------------------------------------------- */

enum { TAG_USER_OBJ = 1, TAG_USER = 2, TAG_GROUP_OBJ = 4, TAG_MASK = 0x10, TAG_OTHER = 0x20 };

/* An ACL in the xattr form: owner/group/other/mask perms, user 1000's. */
static size_t acl_build(uint8_t *buf, unsigned owner, unsigned user, unsigned group,
			unsigned mask, unsigned other)
{
	struct { uint16_t tag, perm; uint32_t id; } e[] = {
		{ TAG_USER_OBJ, (uint16_t)owner, UINT32_MAX },
		{ TAG_USER, (uint16_t)user, USER_ID },
		{ TAG_GROUP_OBJ, (uint16_t)group, UINT32_MAX },
		{ TAG_MASK, (uint16_t)mask, UINT32_MAX },
		{ TAG_OTHER, (uint16_t)other, UINT32_MAX },
	};
	uint32_t version = 2;

	memcpy(buf, &version, 4);
	memcpy(buf + 4, e, sizeof(e));
	return 4 + sizeof(e);
}

static int user_read_write(void *arg)
{
	char buf[64];
	int fd = open(arg, O_RDWR);
	if (fd < 0)
		return errno;
	ssize_t n = read(fd, buf, sizeof(buf));
	int r = n > 0 && write(fd, "+", 1) == 1 ? 0 : EIO;
	close(fd);
	return r;
}

static int user_create(void *arg)
{
	int fd = open(arg, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void check_acl(void)
{
	uint8_t acl[64];
	size_t len;
	struct stat st;
	int fd;

	tap_diag("POSIX ACLs (--posix-acl)");
	CHK_SYS(mkdir(path("xsec/acl"), 0755), "mkdir xsec/acl");
	len = acl_build(acl, 7, 7, 5, 7, 5);
	if (!CHK_SYS(setxattr(path("xsec/acl"), "system.posix_acl_default", acl, len, 0),
		     "set a default ACL (user:%d:rwx) on xsec/acl", USER_ID))
		return;

	/* A default ACL overrides the umask; without one, the umask applies. */
	umask(022);
	fd = open(path("xsec/acl/f"), O_WRONLY | O_CREAT | O_EXCL, 0666);
	CHK_SYS(fd, "create xsec/acl/f with mode 0666 under umask 022");
	if (fd >= 0)
		close(fd);
	CHK_EQ(mode_of(path("xsec/acl/f")), 0664,
	       "xsec/acl/f has mode 0664: inherited ACL, umask not applied");
	CHK_SYS(getxattr(path("xsec/acl/f"), "system.posix_acl_access", acl, sizeof(acl)),
		"xsec/acl/f has an access ACL inherited from its directory");
	CHK_SYS(mkdir(path("xsec/acl/d"), 0777), "mkdir xsec/acl/d 0777 under umask 022");
	CHK_EQ(mode_of(path("xsec/acl/d")), 0775, "xsec/acl/d has mode 0775");
	CHK_SYS(getxattr(path("xsec/acl/d"), "system.posix_acl_default", acl, sizeof(acl)),
		"xsec/acl/d inherited the default ACL too");
	fd = open(path("xsec/plain"), O_WRONLY | O_CREAT | O_EXCL, 0666);
	CHK_SYS(fd, "create xsec/plain with mode 0666 under umask 022");
	if (fd >= 0)
		close(fd);
	CHK_EQ(mode_of(path("xsec/plain")), 0644, "xsec/plain has mode 0644: the umask applies");
	umask(0);

	/* Access for a user who is neither owner nor in the group. */
	CHK_SYS(put_file(path("xsec/secret"), "secret\n", 0600), "create xsec/secret, 0600 root");
	CHK_SYS(put_file(path("xsec/nosecret"), "secret\n", 0600), "create xsec/nosecret, 0600 root");
	len = acl_build(acl, 6, 6, 0, 6, 0);
	CHK_SYS(setxattr(path("xsec/secret"), "system.posix_acl_access", acl, len, 0),
		"give user %d rw- on xsec/secret by an ACL entry", USER_ID);
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_read_write, (void *)path("xsec/secret")), 0,
	       "user %d reads and writes xsec/secret through the ACL", USER_ID);
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_read_write, (void *)path("xsec/nosecret")),
	       EACCES, "user %d may not open xsec/nosecret (no ACL entry): EACCES", USER_ID);

	CHK_SYS(mkdir(path("xsec/acldir"), 0755), "mkdir xsec/acldir 0755 root");
	CHK_SYS(mkdir(path("xsec/noacldir"), 0755), "mkdir xsec/noacldir 0755 root");
	len = acl_build(acl, 7, 7, 5, 7, 5);
	CHK_SYS(setxattr(path("xsec/acldir"), "system.posix_acl_access", acl, len, 0),
		"give user %d rwx on xsec/acldir by an ACL entry", USER_ID);
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_create, (void *)path("xsec/acldir/byuser")), 0,
	       "user %d creates xsec/acldir/byuser through the ACL", USER_ID);
	if (stat(path("xsec/acldir/byuser"), &st) == 0)
		CHK_EQ(st.st_uid, USER_ID, "xsec/acldir/byuser belongs to user %d", USER_ID);
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_create, (void *)path("xsec/noacldir/byuser")),
	       EACCES, "user %d may not create in xsec/noacldir: EACCES", USER_ID);
}

/* --- killpriv ------------------------------------------------------------- */

static int user_write(void *arg)
{
	int fd = open(arg, O_WRONLY);
	if (fd < 0)
		return errno;
	int r = write(fd, "more", 4) == 4 ? 0 : errno;
	close(fd);
	return r;
}

static int user_truncate(void *arg)
{
	return truncate(arg, 0) == 0 ? 0 : errno;
}

/* A set-id file of user 1000. */
static void user_file(const char *name, mode_t mode)
{
	const char *p = path(name);

	CHK_SYS(put_file(p, "data\n", 0644), "create %s", name);
	CHK_SYS(chown(p, USER_ID, USER_ID), "chown %s to %d:%d", name, USER_ID, USER_ID);
	CHK_SYS(chmod(p, mode), "chmod %s to 0%o", name, mode);
	CHK_EQ(mode_of(p), mode, "%s has mode 0%o", name, mode);
}

static void check_killpriv(void)
{
	/* struct vfs_cap_data, revision 2: cap_net_bind_service, effective. */
	static const uint32_t cap[5] = { 0x02000001, 1u << 10, 0, 0, 0 };
	uint8_t buf[64];

	tap_diag("set-id bits and capabilities on write and truncate (--killpriv-v2)");
	user_file("xsec/kp-write", 06755);
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_write, (void *)path("xsec/kp-write")), 0,
	       "user %d writes its set-id file xsec/kp-write", USER_ID);
	CHK_EQ(mode_of(path("xsec/kp-write")), 0755,
	       "after an unprivileged write, S_ISUID and S_ISGID are gone");

	user_file("xsec/kp-trunc", 04755);
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_truncate, (void *)path("xsec/kp-trunc")), 0,
	       "user %d truncates xsec/kp-trunc", USER_ID);
	CHK_EQ(mode_of(path("xsec/kp-trunc")), 0755, "after an unprivileged truncate, S_ISUID is gone");

	CHK_SYS(put_file(path("xsec/kp-root"), "data\n", 04755), "create xsec/kp-root");
	CHK_SYS(chmod(path("xsec/kp-root"), 04755), "chmod xsec/kp-root to 04755");
	CHK_EQ(user_write((void *)path("xsec/kp-root")), 0, "root writes xsec/kp-root");
	CHK_EQ(mode_of(path("xsec/kp-root")), 04755, "root (CAP_FSETID) keeps S_ISUID");

	user_file("xsec/kp-cap", 0755);
	if (!CHK_SYS(setxattr(path("xsec/kp-cap"), "security.capability", cap, sizeof(cap), 0),
		     "give xsec/kp-cap a file capability"))
		return;
	CHK_SYS(getxattr(path("xsec/kp-cap"), "security.capability", buf, sizeof(buf)),
		"xsec/kp-cap has security.capability");
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_write, (void *)path("xsec/kp-cap")), 0,
	       "user %d writes xsec/kp-cap", USER_ID);
	CHK_ERRNO(getxattr(path("xsec/kp-cap"), "security.capability", buf, sizeof(buf)), ENODATA,
		  "after the write, security.capability is gone");
}

/* --- CVE-2022-0358 ---------------------------------------------------------- */

static int user_create_sgid_exe(void *arg)
{
	int fd = open(arg, O_RDWR | O_CREAT | O_EXCL, 02755);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int user_mkdir(void *arg)
{
	return mkdir(arg, 0755) == 0 ? 0 : errno;
}

static void check_sgid_dir(void)
{
	struct stat st;

	tap_diag("CVE-2022-0358: a set-group-id directory of a group the user is not in");
	CHK_SYS(mkdir(path("xsec/cve"), 0755), "mkdir xsec/cve (root:root)");
	CHK_SYS(chmod(path("xsec/cve"), 03777), "chmod xsec/cve to 03777 (set-group-id, writable by all)");
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_create_sgid_exe, (void *)path("xsec/cve/exe")), 0,
	       "user %d creates xsec/cve/exe with mode 02755", USER_ID);
	if (CHK_SYS(stat(path("xsec/cve/exe"), &st), "stat xsec/cve/exe")) {
		CHK_EQ(st.st_gid, 0, "xsec/cve/exe has the directory's group, 0");
		CHK_EQ(st.st_mode & 07777, 0755,
		       "xsec/cve/exe has no S_ISGID: no way into group 0 for user %d", USER_ID);
	}
	CHK_EQ(run_as_user(USER_ID, USER_ID, user_mkdir, (void *)path("xsec/cve/sub")), 0,
	       "user %d creates the directory xsec/cve/sub", USER_ID);
	CHK_EQ(mode_of(path("xsec/cve/sub")), 02755,
	       "xsec/cve/sub inherits S_ISGID, as directories do");
}

int main(void)
{
	tap_init();
	umask(0);
	tag = getenv("VFS_GUEST_TAG");
	mnt = getenv("VFS_GUEST_MNT");
	if (!tag || !*tag)
		tag = "myfs";
	if (!mnt || !*mnt)
		mnt = "/mnt";
	tap_diag("security option checks on virtio-fs tag '%s' at %s", tag, mnt);

	mkdir(mnt, 0755);
	if (!CHK_SYS(mount_share(), "mount -t virtiofs %s %s", tag, mnt))
		tap_bail("the share could not be mounted");
	if (!CHK_SYS(mkdir(path("xsec"), 0755), "mkdir xsec for the guest's files"))
		tap_bail("cannot create the working directory");

	check_xattrmap();
	check_acl();
	check_killpriv();
	check_sgid_dir();

	sync();
	CHK_SYS(umount(mnt), "unmount");
	return tap_done();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * idmap: uid/gid translation as the guest sees it. The daemon runs with
 *
 *     --translate-uid=map:1000:3000:1 --translate-gid=map:1000:3000:1
 *     --translate-uid=forbid-guest:1500:10
 *     --translate-uid=squash-host:5000:65534:100
 *
 * (tests/guest/meson.build): guest uid/gid 1000 is host 3000 both ways, guest
 * uids 1500-1509 may not own or create anything, host uids 5000-5099 show as
 * 65534, every other id is itself. idmap.host.sh writes host/ before boot
 * and checks idmap/ on the host after poweroff.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "tap.h"

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

static int create(void *arg)
{
	int fd = open(arg, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void check_owner(const char *name, unsigned uid, unsigned gid, const char *why)
{
	struct stat st;

	if (CHK_SYS(stat(path(name), &st), "stat %s", name)) {
		CHK_EQ(st.st_uid, uid, "%s: uid %u (%s)", name, uid, why);
		CHK_EQ(st.st_gid, gid, "%s: gid %u (%s)", name, gid, why);
	}
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
	tap_diag("uid/gid translation on virtio-fs tag '%s' at %s", tag, mnt);

	mkdir(mnt, 0755);
	if (!CHK_SYS(mount_share(), "mount -t virtiofs %s %s", tag, mnt))
		tap_bail("the share could not be mounted");

	tap_diag("host owners as the guest sees them");
	check_owner("host/own-3000", 1000, 1000, "host 3000 is guest 1000");
	check_owner("host/own-5042", 65534, 4000, "uids 5000-5099 squashed to 65534, gid as it is");
	check_owner("host/own-4000", 4000, 4000, "not mapped: as it is");

	tap_diag("what the guest creates and chowns");
	if (!CHK_SYS(mkdir(path("idmap"), 0777), "mkdir idmap 0777"))
		tap_bail("cannot create the working directory");
	CHK_EQ(run_as_user(1000, 1000, create, (void *)path("idmap/by-1000")), 0,
	       "user 1000 creates idmap/by-1000");
	check_owner("idmap/by-1000", 1000, 1000, "its creator, guest 1000");
	CHK_EQ(run_as_user(1505, 1000, create, (void *)path("idmap/by-1505")), EPERM,
	       "user 1505 (forbidden) may not create idmap/by-1505: EPERM");
	CHK_ERRNO(access(path("idmap/by-1505"), F_OK), ENOENT, "idmap/by-1505 does not exist");
	CHK_SYS(create((void *)path("idmap/by-root")) == 0 ? 0 : -1, "root creates idmap/by-root");
	check_owner("idmap/by-root", 0, 0, "root, not mapped");

	CHK_SYS(create((void *)path("idmap/chowned")) == 0 ? 0 : -1, "root creates idmap/chowned");
	CHK_SYS(chown(path("idmap/chowned"), 1000, 1000), "chown idmap/chowned to 1000:1000");
	check_owner("idmap/chowned", 1000, 1000, "the new owner");
	CHK_ERRNO(chown(path("idmap/chowned"), 1505, -1), EPERM,
		  "chown idmap/chowned to 1505 (forbidden): EPERM");
	check_owner("idmap/chowned", 1000, 1000, "unchanged by the refused chown");

	sync();
	CHK_SYS(umount(mnt), "unmount");
	return tap_done();
}

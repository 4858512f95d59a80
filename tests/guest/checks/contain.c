/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * contain: from inside the guest, nothing reaches outside the shared
 * directory and an unprivileged guest user gains nothing on the host.
 *
 *   - ".." of the mount is the guest's own root, not the host's;
 *   - symlinks the host put in the share pointing outside it (absolute and
 *     relative) resolve in the guest, never to the host's files;
 *   - a directory exchanged with such a symlink while another process reads
 *     through the name: every read returns the share's file;
 *   - a fifo made in the share is the guest's own pipe;
 *   - as uid 1000 (fs ids): set-id files made are theirs (uid 1000), one made in the
 *     setgid root-group directory keeps no S_ISGID, chown/chmod of root's
 *     files fail, writing to root's set-id file clears its bits.
 *
 * contain.host.sh "verify" checks the canary beside the share and the
 * owners and modes on the host. The names are a contract with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tap.h"

#define USER 1000
#define CANARY "the canary outside the share\n"

static const char *mnt;

static const char *path(const char *name)
{
	return chk_join(mnt, name);
}

static bool check_sys(long ret, int err, const char *what)
{
	if (ret < 0)
		tap_diag("%s: %s", what, strerror(err));
	return tap_ok(ret >= 0, "%s", what);
}

#define CHECK_SYS(expr, what)						\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		check_sys(ret_, err_, what);				\
	})

static bool check_fails(long ret, int err, int expected, const char *what)
{
	bool pass = ret == -1 && err == expected;

	if (!pass)
		tap_diag("%s: expected %s, got %s", what, strerror(expected),
			 ret == -1 ? strerror(err) : "success");
	return tap_ok(pass, "%s", what);
}

#define CHECK_FAILS(expr, expected, what)				\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		check_fails(ret_, err_, expected, what);		\
	})

/* Reads a whole small file; "" when it cannot be read. */
static const char *slurp(const char *p)
{
	static char buf[256];
	int fd = open(p, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_dotdot(void)
{
	struct stat top, parent, guest_root;

	CHECK_SYS(stat(mnt, &top), "stat the share");
	CHECK_SYS(stat(path(".."), &parent), "stat the share's ..");
	CHECK_SYS(stat("/", &guest_root), "stat the guest's /");
	tap_ok(parent.st_dev == guest_root.st_dev && parent.st_ino == guest_root.st_ino,
	       "the share's .. is the guest's own root");
	tap_ok(access(path("../checks"), F_OK) == 0 && access(path("../outside"), F_OK) != 0,
	       "the share's .. holds the guest's files, not the host's");
}

static void test_symlinks(void)
{
	char target[PATH_MAX];
	static const char *const links[] = { "abs-dir", "rel-dir", "abs-file", "rel-file" };

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		char what[128];
		char via[64];
		ssize_t n = readlink(path(links[i]), target, sizeof(target) - 1);

		snprintf(what, sizeof(what), "readlink %s shows the host's text", links[i]);
		tap_ok(n > 0, "%s", what);
		snprintf(via, sizeof(via), i < 2 ? "%s/secret" : "%s", links[i]);
		const char *got = slurp(path(via));
		snprintf(what, sizeof(what), "%s does not read the host's canary", via);
		tap_ok(strcmp(got, CANARY) != 0, "%s", what);
		errno = 0;
		int fd = open(path(via), O_RDWR | O_TRUNC);
		snprintf(what, sizeof(what), "%s cannot be opened to truncate (resolved in the guest)",
			 via);
		tap_ok(fd < 0, "%s", what);
		if (fd >= 0)
			close(fd);
	}
	CHECK_SYS(symlink("/etc/passwd", path("guest-link")), "the guest makes a link to /etc");
	tap_ok(strcmp(slurp(path("guest-link")), slurp("/etc/passwd")) == 0,
	       "following it reads the guest's /etc/passwd");
}

static void test_swap_race(void)
{
	struct timespec end, now;
	unsigned reads = 0, inside = 0, outside = 0;
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			renameat2(AT_FDCWD, path("d"), AT_FDCWD, path("s"), RENAME_EXCHANGE);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += 3;
	do {
		const char *got = slurp(path("d/secret"));

		reads++;
		if (strcmp(got, "inside\n") == 0)
			inside++;
		else if (strcmp(got, CANARY) == 0)
			outside++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	tap_diag("%u reads of d/secret while d and s were exchanged: %u inside, %u outside",
		 reads, inside, outside);
	tap_ok(outside == 0, "no read through the swapped name reached the canary");
	tap_ok(inside > 0, "reads through the directory found the share's file");
}

static void test_fifo(void)
{
	char buf[8] = { 0 };

	if (!CHECK_SYS(mkfifo(path("fifo"), 0644), "mkfifo in the share"))
		return;
	int fd = open(path("fifo"), O_RDWR | O_NONBLOCK);
	if (!CHECK_SYS(fd, "open the fifo (the guest's own pipe)"))
		return;
	tap_ok(write(fd, "pipe", 4) == 4 && read(fd, buf, sizeof(buf)) == 4 &&
	       memcmp(buf, "pipe", 4) == 0, "bytes go through the fifo inside the guest");
	close(fd);
}

/*
 * As uid/gid 1000 for everything the kernel checks on files: the fs ids
 * (which also take CAP_CHOWN, CAP_FOWNER, CAP_MKNOD, ... out of the
 * effective set) and no supplementary groups, restored afterwards.
 */
static void test_unprivileged(void)
{
	struct stat st;
	int fd;

	if (setgroups(0, NULL) < 0) {
		tap_ok(false, "drop the supplementary groups: %s", strerror(errno));
		return;
	}
	setfsgid(USER);
	setfsuid(USER);
	if (!tap_ok((int)setfsuid(-1) == USER && (int)setfsgid(-1) == USER,
		    "the filesystem ids are 1000:1000"))
		return;
	umask(0);
	fd = open(path("home/suid"), O_WRONLY | O_CREAT | O_EXCL, 06755);
	if (CHECK_SYS(fd, "user 1000 creates home/suid with mode 6755"))
		close(fd);
	CHECK_SYS(chmod(path("home/suid"), 04755), "user 1000 sets S_ISUID on their own file");
	fd = open(path("sgid-dir/f"), O_WRONLY | O_CREAT | O_EXCL, 02755);
	if (CHECK_SYS(fd, "user 1000 creates sgid-dir/f with mode 2755"))
		close(fd);
	if (CHECK_SYS(stat(path("sgid-dir/f"), &st), "stat sgid-dir/f"))
		tap_ok(st.st_gid == 0 && !(st.st_mode & S_ISGID),
		       "sgid-dir/f has group root (inherited) and no S_ISGID");
	CHECK_FAILS(chown(path("home/suid"), 0, 0), EPERM, "user 1000 cannot chown to root");
	CHECK_FAILS(chmod(path("root-suid"), 06777), EPERM, "user 1000 cannot chmod root's file");
	fd = open(path("root-suid"), O_WRONLY);
	if (CHECK_SYS(fd, "user 1000 opens root's world-writable set-id file")) {
		tap_ok(write(fd, "#", 1) == 1, "user 1000 writes to it");
		close(fd);
	}
	CHECK_FAILS(mknod(path("home/node"), S_IFCHR | 0666, makedev(1, 5)), EPERM,
		    "user 1000 cannot make a device node");
	setfsuid(0);
	setfsgid(0);
	umask(022);
}

int main(void)
{
	const char *tag = getenv("VFS_GUEST_TAG");

	tap_init();
	mnt = getenv("VFS_GUEST_MNT");
	if (!mnt)
		mnt = "/mnt";
	if (!tag)
		tag = "myfs";
	if (!CHECK_SYS(mount(tag, mnt, "virtiofs", 0, NULL), "mount the share"))
		return tap_done();
	test_dotdot();
	test_symlinks();
	test_swap_race();
	test_fifo();
	test_unprivileged();
	CHECK_SYS(umount(mnt), "unmount the share");
	return tap_done();
}

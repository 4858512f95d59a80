/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * locks: what applications see of locks and special files on a virtio-fs
 * mount whose daemon runs with --posix-lock -o flock.
 *
 * Two guest processes contend for fcntl() record locks and for flock()
 * locks on files of the share: conflicts, F_GETLK naming the holder's pid,
 * a blocked F_SETLKW / flock() that is granted when the holder lets go
 * while the other process goes on using the mount, and the locks going
 * away with close() and exit(). Then O_TMPFILE (and naming the file with
 * linkat()), mkfifo() with data through the fifo, mknod() of device
 * nodes, a unix socket bound on the share, and a directory listed while it
 * changes. Everything is under <mnt>/locks; locks.host.sh checks on the
 * host, after poweroff, what the guest left there.
 *
 * Results from the child processes come back through a pipe and are
 * printed by the parent, so the TAP stream has one writer.
 *
 * Environment: VFS_GUEST_TAG (default "myfs"), VFS_GUEST_MNT ("/mnt");
 * VFS_GUEST_NO_MOUNT=1 uses VFS_GUEST_MNT as it is (any local directory,
 * to see how a native file system answers the same calls).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define FUSE_SUPER_MAGIC 0x65735546
/* Waits in the guest run under TCG: generous. */
#define WAIT_MS 20000
/* How long a blocked lock must stay blocked to count as waiting. */
#define BLOCKED_MS 500

static const char *mnt;
static char dir[256];
static bool no_mount;

static const char *lpath(const char *name)
{
	static char bufs[4][PATH_MAX];
	static unsigned int next;
	char *buf = bufs[next++ % 4];

	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

/* ---- a child process and its reports ------------------------------------ */

struct child {
	pid_t pid;
	int report;		/* parent reads: "R<0|1> text" and "S<tag>" lines */
	int go;			/* parent writes one byte per step */
	char buf[4096];
	size_t len;
};

static int child_report_fd = -1;
static int child_go_fd = -1;

/* In the child: one result for the parent to print. */
static bool cok(bool pass, const char *fmt, ...) TAP_PRINTF(2, 3);
static bool cok(bool pass, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n = snprintf(line, sizeof(line), "R%d ", pass ? 1 : 0);

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(child_report_fd, line, (size_t)n) < 0)
		_exit(3);
	return pass;
}

/* In the child: tells the parent it reached step `tag`. */
static void csignal(const char *tag)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "S%s\n", tag);

	if (write(child_report_fd, line, (size_t)n) < 0)
		_exit(3);
}

/* In the child: waits for the parent's go. */
static void cwait(void)
{
	char c;

	if (read(child_go_fd, &c, 1) != 1)
		_exit(4);
}

static void child_start(struct child *c, void (*fn)(void *), void *arg)
{
	int rep[2], go[2];

	if (pipe(rep) < 0 || pipe(go) < 0)
		tap_bail("pipe: %s", strerror(errno));
	fflush(stdout);
	c->pid = fork();
	if (c->pid < 0)
		tap_bail("fork: %s", strerror(errno));
	if (c->pid == 0) {
		close(rep[0]);
		close(go[1]);
		child_report_fd = rep[1];
		child_go_fd = go[0];
		fn(arg);
		_exit(0);
	}
	close(rep[1]);
	close(go[0]);
	c->report = rep[0];
	c->go = go[1];
	c->len = 0;
}

static void child_go(struct child *c)
{
	if (write(c->go, "g", 1) != 1)
		tap_diag("cannot reach the child: %s", strerror(errno));
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Prints the child's results until it signals `tag` (true) or ms pass
 * (false). With tag NULL, only prints what is there within ms.
 */
static bool child_until(struct child *c, const char *tag, int ms)
{
	long long end = now_ms() + ms;

	for (;;) {
		char *nl;

		while ((nl = memchr(c->buf, '\n', c->len))) {
			size_t n = (size_t)(nl - c->buf) + 1;
			bool hit = false;

			*nl = '\0';
			if (c->buf[0] == 'R')
				tap_ok(c->buf[1] == '1', "child: %s", c->buf + 3);
			else if (c->buf[0] == 'S' && tag && strcmp(c->buf + 1, tag) == 0)
				hit = true;
			memmove(c->buf, c->buf + n, c->len - n);
			c->len -= n;
			if (hit)
				return true;
		}
		long long left = end - now_ms();
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = c->report, .events = POLLIN };
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t got = read(c->report, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
		if (got <= 0)
			return false; /* the child is gone */
		c->len += (size_t)got;
	}
}

/* Reaps the child; true when it exited 0. */
static bool child_end(struct child *c)
{
	int st;

	child_until(c, NULL, 0);
	close(c->go);
	if (waitpid(c->pid, &st, 0) != c->pid)
		return false;
	child_until(c, NULL, 0);
	close(c->report);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The mount serves other requests: a file written, read back and listed. */
static bool mount_serves(const char *what)
{
	char name[64], back[32];
	const char *p;
	int fd;
	bool ok = false;

	snprintf(name, sizeof(name), "serving-%s", what);
	p = lpath(name);
	fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		ok = write(fd, "still serving", 13) == 13 &&
		     pread(fd, back, sizeof(back), 0) == 13 && memcmp(back, "still serving", 13) == 0;
		close(fd);
	}
	struct stat st;
	return ok && stat(p, &st) == 0 && st.st_size == 13 && unlink(p) == 0;
}

/* ---- fcntl() record locks ----------------------------------------------- */

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

static bool conflict_errno(int r, int e)
{
	return r == -1 && (e == EAGAIN || e == EACCES);
}

static void record_child(void *arg)
{
	pid_t parent = *(pid_t *)arg;
	int fd = open(lpath("record"), O_RDWR);
	struct flock fl;
	int r, e;

	if (!cok(fd >= 0, "opens the file the parent locked"))
		_exit(1);
	r = setlk(fd, F_SETLK, F_WRLCK, 50, 10);
	e = errno;
	cok(conflict_errno(r, e), "F_SETLK of a write lock inside the parent's fails with EAGAIN/EACCES (%s)",
	    r == 0 ? "granted" : strerror(e));
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
	r = fcntl(fd, F_GETLK, &fl);
	cok(r == 0 && fl.l_type == F_WRLCK && fl.l_start == 0 && fl.l_len == 100,
	    "F_GETLK reports the parent's write lock over [0, 100) (type %d, start %lld, len %lld)",
	    fl.l_type, (long long)fl.l_start, (long long)fl.l_len);
	cok(r == 0 && fl.l_pid == parent, "F_GETLK names the parent as the holder (pid %d, want %d)",
	    (int)fl.l_pid, (int)parent);
	cok(setlk(fd, F_SETLK, F_WRLCK, 200, 100) == 0, "F_SETLK of a write lock beside it is granted");
	cok(setlk(fd, F_SETLK, F_RDLCK, 1500, 100) == 0,
	    "F_SETLK of a read lock inside the parent's read lock is granted (read locks share)");
	r = setlk(fd, F_SETLK, F_WRLCK, 1500, 1);
	e = errno;
	cok(conflict_errno(r, e), "F_SETLK of a write lock inside the parent's read lock fails");
	csignal("waiting");
	r = setlk(fd, F_SETLKW, F_WRLCK, 0, 100);
	cok(r == 0, "F_SETLKW returns with the lock once the parent unlocked (%s)",
	    r == 0 ? "granted" : strerror(errno));
	csignal("granted");

	/* closing any fd of the file ends the process's locks on it */
	cwait();
	int fd2 = open(lpath("record"), O_RDONLY);
	cok(fd2 >= 0 && close(fd2) == 0, "opens and closes a second fd of the file");
	csignal("closed");

	/* and so does exiting */
	cwait();
	cok(setlk(fd, F_SETLK, F_WRLCK, 0, 10) == 0, "takes a write lock over [0, 10) again");
	csignal("relocked");
	cwait();
	_exit(0);
}

static void check_record_locks(void)
{
	pid_t self = getpid();
	struct child c;
	struct flock fl;
	int fd;

	tap_diag("fcntl() record locks between two processes");
	fd = open(lpath("record"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!tap_ok(fd >= 0, "create locks/record"))
		return;
	char data[4096];
	memset(data, 'r', sizeof(data));
	tap_ok(write(fd, data, sizeof(data)) == (ssize_t)sizeof(data), "write 4 KiB to it");
	tap_ok(setlk(fd, F_SETLK, F_WRLCK, 0, 100) == 0, "parent: F_SETLK write lock over [0, 100)");
	tap_ok(setlk(fd, F_SETLK, F_RDLCK, 1000, 1000) == 0, "parent: F_SETLK read lock over [1000, 2000)");

	child_start(&c, record_child, &self);
	if (!tap_ok(child_until(&c, "waiting", WAIT_MS), "child reached its F_SETLKW")) {
		kill(c.pid, SIGKILL);
		child_end(&c);
		close(fd);
		return;
	}
	/* the child is blocked in F_SETLKW; the mount must go on serving */
	usleep(BLOCKED_MS * 1000);
	tap_ok(!child_until(&c, "granted", 0), "child's F_SETLKW stays blocked while the parent holds the lock");
	tap_ok(mount_serves("record"), "parent: files are created, written, read and removed meanwhile");
	fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 250, .l_len = 1 };
	int r = fcntl(fd, F_GETLK, &fl);
	tap_ok(r == 0 && fl.l_type == F_WRLCK && fl.l_pid == c.pid,
	       "parent: F_GETLK meanwhile names the child as holder of [200, 300) (pid %d, want %d)",
	       (int)fl.l_pid, (int)c.pid);
	tap_ok(!child_until(&c, "granted", 0), "child's F_SETLKW is still blocked");
	tap_ok(setlk(fd, F_SETLK, F_UNLCK, 0, 100) == 0, "parent: unlocks [0, 100)");
	tap_ok(child_until(&c, "granted", WAIT_MS), "child's F_SETLKW is granted after the unlock");
	fl = (struct flock){ .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 1 };
	r = fcntl(fd, F_GETLK, &fl);
	tap_ok(r == 0 && fl.l_type == F_WRLCK && fl.l_pid == c.pid && fl.l_start == 0 && fl.l_len == 100,
	       "parent: F_GETLK names the child as holder of [0, 100) now (pid %d, start %lld, len %lld)",
	       (int)fl.l_pid, (long long)fl.l_start, (long long)fl.l_len);

	child_go(&c);
	tap_ok(child_until(&c, "closed", WAIT_MS), "child closed a second fd");
	tap_ok(setlk(fd, F_SETLK, F_WRLCK, 0, 300) == 0,
	       "parent: F_SETLK over [0, 300) is granted: the child's close() ended its locks");
	tap_ok(setlk(fd, F_SETLK, F_UNLCK, 0, 300) == 0, "parent: unlocks [0, 300)");

	child_go(&c);
	tap_ok(child_until(&c, "relocked", WAIT_MS), "child locked [0, 10) again");
	r = setlk(fd, F_SETLK, F_WRLCK, 0, 10);
	int e = errno;
	tap_ok(conflict_errno(r, e), "parent: F_SETLK over [0, 10) conflicts with it");
	child_go(&c);
	tap_ok(child_end(&c), "child exited");
	tap_ok(setlk(fd, F_SETLK, F_WRLCK, 0, 10) == 0, "parent: F_SETLK over [0, 10) is granted after the child's exit");
	close(fd);
}

/* ---- flock() ---------------------------------------------------------------- */

static void flock_child(void *arg)
{
	(void)arg;
	int fd = open(lpath("flock"), O_RDONLY);
	int r, e;

	if (!cok(fd >= 0, "opens the file the parent flock()ed"))
		_exit(1);
	r = flock(fd, LOCK_EX | LOCK_NB);
	e = errno;
	cok(r == -1 && e == EWOULDBLOCK, "flock(LOCK_EX | LOCK_NB) fails with EWOULDBLOCK (%s)",
	    r == 0 ? "granted" : strerror(e));
	r = flock(fd, LOCK_SH | LOCK_NB);
	e = errno;
	cok(r == -1 && e == EWOULDBLOCK, "flock(LOCK_SH | LOCK_NB) fails with EWOULDBLOCK too");
	csignal("waiting");
	r = flock(fd, LOCK_EX);
	cok(r == 0, "flock(LOCK_EX) returns with the lock once the parent unlocked (%s)",
	    r == 0 ? "granted" : strerror(errno));
	csignal("granted");
	cwait();
	cok(flock(fd, LOCK_SH) == 0, "turns its lock into a shared one");
	csignal("shared");
	cwait();
	_exit(0);
}

static void inherited_child(void *arg)
{
	int fd = *(int *)arg;

	/* the parent's open file, inherited: the same lock owner */
	cok(flock(fd, LOCK_EX | LOCK_NB) == 0,
	    "flock(LOCK_EX | LOCK_NB) on the inherited fd succeeds: same open file as the parent's");
	_exit(0);
}

static void check_flock(void)
{
	struct child c;
	int fd, r, e;

	tap_diag("flock() between two processes");
	fd = open(lpath("flock"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!tap_ok(fd >= 0, "create locks/flock"))
		return;
	tap_ok(flock(fd, LOCK_EX) == 0, "parent: flock(LOCK_EX)");
	child_start(&c, flock_child, NULL);
	if (!tap_ok(child_until(&c, "waiting", WAIT_MS), "child reached its blocking flock()")) {
		kill(c.pid, SIGKILL);
		child_end(&c);
		close(fd);
		return;
	}
	usleep(BLOCKED_MS * 1000);
	tap_ok(!child_until(&c, "granted", 0), "child's flock(LOCK_EX) stays blocked while the parent holds its lock");
	tap_ok(mount_serves("flock"), "parent: files are created, written, read and removed meanwhile");
	/* fcntl() locks and flock() locks do not meet */
	tap_ok(setlk(fd, F_SETLK, F_WRLCK, 0, 0) == 0 && setlk(fd, F_SETLK, F_UNLCK, 0, 0) == 0,
	       "parent: an fcntl() write lock on the same file is unaffected by flock()");
	tap_ok(flock(fd, LOCK_UN) == 0, "parent: flock(LOCK_UN)");
	tap_ok(child_until(&c, "granted", WAIT_MS), "child's flock(LOCK_EX) is granted after the unlock");
	r = flock(fd, LOCK_SH | LOCK_NB);
	e = errno;
	tap_ok(r == -1 && e == EWOULDBLOCK, "parent: flock(LOCK_SH | LOCK_NB) fails while the child holds LOCK_EX");
	child_go(&c);
	tap_ok(child_until(&c, "shared", WAIT_MS), "child holds a shared lock");
	tap_ok(flock(fd, LOCK_SH | LOCK_NB) == 0, "parent: flock(LOCK_SH | LOCK_NB) shares it");
	r = flock(fd, LOCK_EX | LOCK_NB);
	e = errno;
	tap_ok(r == -1 && e == EWOULDBLOCK, "parent: flock(LOCK_EX | LOCK_NB) fails while the child shares");
	child_go(&c);
	tap_ok(child_end(&c), "child exited");
	tap_ok(flock(fd, LOCK_EX | LOCK_NB) == 0, "parent: flock(LOCK_EX | LOCK_NB) succeeds after the child's exit");

	/* a lock belongs to the open file, which fork() shares */
	child_start(&c, inherited_child, &fd);
	tap_ok(child_end(&c), "child with the inherited fd exited");
	tap_ok(flock(fd, LOCK_UN) == 0, "parent: flock(LOCK_UN)");
	close(fd);
}

/* ---- O_TMPFILE ------------------------------------------------------------ */

static bool dir_has(const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, name, strlen(name)) == 0)
			found = true;
	if (d)
		closedir(d);
	return found;
}

static void check_tmpfile(void)
{
	static const char content[] = "written before it had a name\n";
	char back[64], proc[64];
	struct stat st;
	int fd;

	tap_diag("O_TMPFILE");
	fd = open(dir, O_TMPFILE | O_RDWR, 0640);
	if (!tap_ok(fd >= 0, "open(locks, O_TMPFILE | O_RDWR, 0640)")) {
		tap_diag("open: %s", strerror(errno));
		return;
	}
	tap_ok(write(fd, content, sizeof(content) - 1) == (ssize_t)sizeof(content) - 1,
	       "write to the unnamed file");
	memset(&st, 0, sizeof(st));
	int r = fstat(fd, &st);
	tap_ok(r == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0640 && st.st_nlink == 0,
	       "fstat: a regular file, mode 0640, no links (mode 0%o, nlink %lu)",
	       (unsigned)st.st_mode, (unsigned long)st.st_nlink);
	tap_ok(!dir_has("tmpfile"), "the directory does not list it");
	tap_ok(linkat(fd, "", AT_FDCWD, lpath("tmpfile-linked"), AT_EMPTY_PATH) == 0,
	       "linkat(fd, \"\", ..., AT_EMPTY_PATH) names it locks/tmpfile-linked");
	tap_ok(stat(lpath("tmpfile-linked"), &st) == 0 && st.st_nlink == 1 &&
	       st.st_size == (off_t)sizeof(content) - 1, "the name has one link and the data's size");
	int rfd = open(lpath("tmpfile-linked"), O_RDONLY);
	ssize_t n = rfd >= 0 ? read(rfd, back, sizeof(back)) : -1;
	tap_ok(n == (ssize_t)sizeof(content) - 1 && memcmp(back, content, (size_t)n) == 0,
	       "reading it by its name gives what was written");
	if (rfd >= 0)
		close(rfd);
	close(fd);

	/* the /proc/self/fd way, as the man page shows it */
	fd = open(dir, O_TMPFILE | O_WRONLY, 0600);
	if (tap_ok(fd >= 0, "open(locks, O_TMPFILE | O_WRONLY, 0600)")) {
		tap_ok(write(fd, "by proc\n", 8) == 8, "write to it");
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		tap_ok(linkat(AT_FDCWD, proc, AT_FDCWD, lpath("tmpfile-proc"), AT_SYMLINK_FOLLOW) == 0,
		       "linkat(/proc/self/fd/N, ..., AT_SYMLINK_FOLLOW) names it locks/tmpfile-proc");
		close(fd);
	}

	/* O_EXCL: it can never get a name */
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL, 0600);
	if (tap_ok(fd >= 0, "open(locks, O_TMPFILE | O_RDWR | O_EXCL)")) {
		r = linkat(fd, "", AT_FDCWD, lpath("tmpfile-excl"), AT_EMPTY_PATH);
		int e = errno;
		tap_ok(r == -1 && e == ENOENT, "linkat of an O_EXCL temporary file fails with ENOENT (%s)",
		       r == 0 ? "linked" : strerror(e));
		close(fd);
	}
	/* an unnamed file nobody may write is refused */
	fd = open(dir, O_TMPFILE | O_RDONLY, 0600);
	tap_ok(fd == -1 && errno == EINVAL, "open(O_TMPFILE | O_RDONLY) fails with EINVAL");
	if (fd >= 0)
		close(fd);
}

/* ---- special files ------------------------------------------------------- */

static void fifo_writer(void *arg)
{
	(void)arg;
	int fd = open(lpath("fifo"), O_WRONLY);

	cok(fd >= 0 && write(fd, "through the fifo\n", 17) == 17, "writes into the fifo");
	if (fd >= 0)
		close(fd);
	_exit(0);
}

static void check_special_files(void)
{
	struct stat st;
	struct child c;
	char buf[64];
	int fd;

	tap_diag("mkfifo, mknod, a unix socket");
	if (tap_ok(mkfifo(lpath("fifo"), 0620) == 0, "mkfifo locks/fifo 0620")) {
		tap_ok(stat(lpath("fifo"), &st) == 0 && S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0620,
		       "stat: a fifo with mode 0620");
		child_start(&c, fifo_writer, NULL);
		fd = open(lpath("fifo"), O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		tap_ok(n == 17 && memcmp(buf, "through the fifo\n", 17) == 0,
		       "the data a writer process puts in comes out");
		if (fd >= 0)
			close(fd);
		tap_ok(child_end(&c), "the writer exited");
	}

	if (tap_ok(mknod(lpath("null"), S_IFCHR | 0666, makedev(1, 3)) == 0,
		   "mknod locks/null c 1 3")) {
		memset(&st, 0, sizeof(st));
		int r = stat(lpath("null"), &st);
		tap_ok(r == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
		       "stat: a character device 1:3 (%u:%u)", major(st.st_rdev), minor(st.st_rdev));
		fd = open(lpath("null"), O_RDWR);
		tap_ok(fd >= 0 && write(fd, "gone", 4) == 4 && read(fd, buf, sizeof(buf)) == 0,
		       "it is the guest's null device: writes vanish, reads end at once");
		if (fd >= 0)
			close(fd);
	}
	if (tap_ok(mknod(lpath("blk"), S_IFBLK | 0660, makedev(7, 300)) == 0,
		   "mknod locks/blk b 7 300")) {
		memset(&st, 0, sizeof(st));
		int r = stat(lpath("blk"), &st);
		tap_ok(r == 0 && S_ISBLK(st.st_mode) && major(st.st_rdev) == 7 && minor(st.st_rdev) == 300,
		       "stat: a block device 7:300 (%u:%u)", major(st.st_rdev), minor(st.st_rdev));
	}

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", lpath("sock"));
	int srv = socket(AF_UNIX, SOCK_STREAM, 0);
	if (tap_ok(srv >= 0 && bind(srv, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		   listen(srv, 1) == 0, "bind() a unix socket to locks/sock")) {
		tap_ok(stat(lpath("sock"), &st) == 0 && S_ISSOCK(st.st_mode), "stat: a socket");
		int cl = socket(AF_UNIX, SOCK_STREAM, 0);
		bool ok = cl >= 0 && connect(cl, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		int acc = ok ? accept(srv, NULL, NULL) : -1;
		ok = ok && acc >= 0 && write(cl, "x", 1) == 1 && read(acc, buf, 1) == 1 && buf[0] == 'x';
		tap_ok(ok, "connect() by its path reaches it");
		if (acc >= 0)
			close(acc);
		if (cl >= 0)
			close(cl);
	}
	if (srv >= 0)
		close(srv);
}

/* ---- a directory listed while it changes ---------------------------------- */

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

#define CHANGING 400

static void check_changing_dir(void)
{
	char sub[PATH_MAX], path[PATH_MAX + 32], buf[512];
	static unsigned char seen_keep[CHANGING];
	unsigned twice = 0, keep = 0, calls = 0, added = 0, removed = 0;
	char (*names)[32] = calloc(4 * CHANGING, 32);
	unsigned nnames = 0;

	tap_diag("a directory listed while it changes");
	snprintf(sub, sizeof(sub), "%s/changing", dir);
	if (!tap_ok(mkdir(sub, 0755) == 0 && names, "mkdir locks/changing"))
		return;
	for (unsigned i = 0; i < CHANGING; i++) {
		snprintf(path, sizeof(path), "%s/%s-%u", sub, i % 2 ? "gone" : "keep", i);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
	}
	int dfd = open(sub, O_RDONLY | O_DIRECTORY);
	for (;;) {
		long n = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (n <= 0)
			break;
		calls++;
		for (long pos = 0; pos < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + pos);
			pos += d->d_reclen;
			for (unsigned i = 0; i < nnames; i++)
				if (strcmp(names[i], d->d_name) == 0)
					twice++;
			if (nnames < 4 * CHANGING)
				snprintf(names[nnames++], 32, "%s", d->d_name);
			unsigned idx;
			if (sscanf(d->d_name, "keep-%u", &idx) == 1 && idx < CHANGING && !seen_keep[idx]++)
				keep++;
		}
		/* between two reads: a new entry, and some not read yet go */
		snprintf(path, sizeof(path), "%s/new-%u", sub, added++);
		int fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (fd >= 0)
			close(fd);
		for (int k = 0; k < 10 && removed < CHANGING / 2; k++) {
			snprintf(path, sizeof(path), "%s/gone-%u", sub, 2 * removed++ + 1);
			unlink(path);
		}
	}
	if (dfd >= 0)
		close(dfd);
	tap_diag("%u getdents64 calls, %u entries added and %u removed meanwhile", calls, added, removed);
	tap_ok(twice == 0, "no entry came twice (%u did)", twice);
	tap_ok(keep == CHANGING / 2, "every entry there all along came (%u of %u)", keep, CHANGING / 2);
	free(names);
}

/* ---- main ------------------------------------------------------------------- */

int main(void)
{
	const char *tag = getenv("VFS_GUEST_TAG");
	struct statfs sfs;
	int tries;

	tap_init();
	umask(0);
	mnt = getenv("VFS_GUEST_MNT");
	if (!tag || !*tag)
		tag = "myfs";
	if (!mnt || !*mnt)
		mnt = "/mnt";
	no_mount = getenv("VFS_GUEST_NO_MOUNT") && strcmp(getenv("VFS_GUEST_NO_MOUNT"), "1") == 0;
	tap_diag("locks and special files on virtio-fs tag '%s' mounted at %s", tag, mnt);
	mkdir(mnt, 0755);
	for (tries = 0; !no_mount && tries < 20; tries++) {
		if (mount(tag, mnt, "virtiofs", 0, "") == 0)
			break;
		usleep(100 * 1000);
	}
	if (no_mount)
		tap_skip("VFS_GUEST_NO_MOUNT is set", "mount -t virtiofs %s %s", tag, mnt);
	else if (!tap_ok(tries < 20 && statfs(mnt, &sfs) == 0 && sfs.f_type == FUSE_SUPER_MAGIC,
			 "mount -t virtiofs %s %s", tag, mnt))
		tap_bail("the share could not be mounted");
	snprintf(dir, sizeof(dir), "%s/locks", mnt);
	if (!tap_ok(mkdir(dir, 0755) == 0, "mkdir %s", dir))
		tap_bail("cannot create the working directory");

	check_record_locks();
	check_flock();
	check_tmpfile();
	check_special_files();
	check_changing_dir();

	if (no_mount)
		tap_skip("VFS_GUEST_NO_MOUNT is set", "umount %s", mnt);
	else
		tap_ok(umount(mnt) == 0, "umount %s", mnt);
	return tap_done();
}

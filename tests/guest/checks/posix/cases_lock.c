/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Locks between two processes: POSIX record locks (fcntl F_SETLK, F_SETLKW,
 * F_GETLK), flock, open file description (OFD) locks and lockf.
 *
 * The case's process takes a lock, then a forked child (its own open of the
 * file, unless said otherwise) tries what POSIX says must conflict or not.
 * The child's exit status is the verdict: 0, or it printed why.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

static pid_t case_pid;

/* Runs @fn in a forked child; its result (0 = as expected). */
static int child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int r = fn(arg);

		fflush(stdout);
		_exit(r == PC_PASS ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		pc_note("child killed by signal %d", WTERMSIG(status));
	errno = ECHILD;
	return -1;
}

static int setlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

static int getlk(int fd, int cmd, short type, off_t start, off_t len, struct flock *out)
{
	*out = (struct flock){ .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, out);
}

static int setup_file(void)
{
	case_pid = getpid();
	return mkfile("f", 0644, "0123456789");
}

/* ---- POSIX record locks ---- */

static int conflict_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	ERRNO2(setlk(fd, F_SETLK, F_WRLCK, 50, 10), EAGAIN, EACCES);
	ERRNO2(setlk(fd, F_SETLK, F_RDLCK, 99, 1), EAGAIN, EACCES);
	SYS(setlk(fd, F_SETLK, F_WRLCK, 100, 10));
	return PC_PASS;
}

static int posix_conflict(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	SYS(child(conflict_fn, NULL));
	return PC_PASS;
}

static int getlk_fn(void *arg)
{
	struct flock fl;
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	SYS(getlk(fd, F_GETLK, F_WRLCK, 50, 10, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, case_pid);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 100);
	SYS(getlk(fd, F_GETLK, F_RDLCK, 200, 10, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	return PC_PASS;
}

static int posix_getlk_owner(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	SYS(child(getlk_fn, NULL));
	return PC_PASS;
}

static int shared_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	SYS(setlk(fd, F_SETLK, F_RDLCK, 0, 10));
	ERRNO2(setlk(fd, F_SETLK, F_WRLCK, 0, 10), EAGAIN, EACCES);
	return PC_PASS;
}

static int posix_shared(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDONLY));
	SYS(setlk(fd, F_SETLK, F_RDLCK, 0, 10));
	SYS(child(shared_fn, NULL));
	return PC_PASS;
}

static int can_lock_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	return PC_PASS;
}

static int cannot_lock_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	ERRNO2(setlk(fd, F_SETLK, F_WRLCK, 0, 0), EAGAIN, EACCES);
	return PC_PASS;
}

static int posix_close_releases(void)
{
	int fd, other;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	SYS(child(cannot_lock_fn, NULL));
	/* Closing any fd of the file drops the process's POSIX locks on it. */
	other = SYS(open("f", O_RDONLY));
	SYS(close(other));
	SYS(child(can_lock_fn, NULL));
	return PC_PASS;
}

static int hold_and_exit_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	return PC_PASS;
}

static int posix_exit_releases(void)
{
	int fd;

	SYS(setup_file());
	SYS(child(hold_and_exit_fn, NULL));
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 0));
	return PC_PASS;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int posix_setlkw_waits(void)
{
	int fd, ready[2], status;
	double t0;
	char c;
	pid_t pid;

	SYS(setup_file());
	SYS(pipe(ready));
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	pid = SYS(fork());
	if (pid == 0) {
		int cfd = open("f", O_RDWR);

		if (write(ready[1], "r", 1) != 1 || cfd < 0)
			_exit(2);
		t0 = now_s();
		if (setlk(cfd, F_SETLKW, F_WRLCK, 5, 1) < 0)
			_exit(3);
		/* It must have waited for the unlock, about 300 ms. */
		_exit(now_s() - t0 > 0.2 ? 0 : 4);
	}
	SYS(read(ready[0], &c, 1));
	sleep_ms(300);
	SYS(setlk(fd, F_SETLK, F_UNLCK, 0, 10));
	SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the waiting child ended with status 0x%x (3: F_SETLKW failed, 4: did not wait)",
	      status);
	return PC_PASS;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int setlkw_eintr_fn(void *arg)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	sigaction(SIGALRM, &sa, NULL);
	ualarm(200000, 0);
	ERRNO(setlk(fd, F_SETLKW, F_WRLCK, 0, 1), EINTR);
	return PC_PASS;
}

static int posix_setlkw_eintr(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	SYS(child(setlkw_eintr_fn, NULL));
	return PC_PASS;
}

static int split_fn(void *arg)
{
	struct flock fl;
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	SYS(getlk(fd, F_GETLK, F_WRLCK, 45, 5, &fl));
	CHECK_EQ(fl.l_type, F_UNLCK);
	SYS(getlk(fd, F_GETLK, F_WRLCK, 10, 5, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 0);
	CHECK_EQ(fl.l_len, 40);
	SYS(getlk(fd, F_GETLK, F_WRLCK, 70, 5, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_start, 60);
	CHECK_EQ(fl.l_len, 40);
	return PC_PASS;
}

static int posix_split(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 100));
	SYS(setlk(fd, F_SETLK, F_UNLCK, 40, 20));
	SYS(child(split_fn, NULL));
	return PC_PASS;
}

static int upgrade_fn(void *arg)
{
	struct flock fl;
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	SYS(getlk(fd, F_GETLK, F_RDLCK, 0, 10, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	return PC_PASS;
}

static int posix_upgrade(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_RDLCK, 0, 10));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 10));
	SYS(child(upgrade_fn, NULL));
	return PC_PASS;
}

/* Waits (up to 10 s) until @pid sleeps, e.g. in a blocking lock call. */
static void wait_sleeping(pid_t pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 1000; i++) {
		const char *p;
		ssize_t n = slurp(path, buf, sizeof(buf));

		p = n > 0 ? strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'S')
			break;
		sleep_ms(10);
	}
	/* Sleeping may still be on the way in; give it a moment more. */
	sleep_ms(100);
}

static int posix_deadlock(void)
{
	int fd, ready[2], status;
	char c;
	pid_t pid;

	SYS(setup_file());
	SYS(pipe(ready));
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_SETLK, F_WRLCK, 0, 1));
	pid = SYS(fork());
	if (pid == 0) {
		int cfd = open("f", O_RDWR);

		if (cfd < 0 || setlk(cfd, F_SETLK, F_WRLCK, 1, 1) < 0)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(2);
		/* Blocks until the case's process gives byte 0 up. */
		_exit(setlk(cfd, F_SETLKW, F_WRLCK, 0, 1) < 0 ? 3 : 0);
	}
	SYS(read(ready[0], &c, 1));
	wait_sleeping(pid);
	/* Waiting for byte 1 now would close the cycle: EDEADLK. */
	ERRNO(setlk(fd, F_SETLKW, F_WRLCK, 1, 1), EDEADLK);
	SYS(setlk(fd, F_SETLK, F_UNLCK, 0, 1));
	SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child ended with status 0x%x", status);
	return PC_PASS;
}

static int whole_file_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	ERRNO2(setlk(fd, F_SETLK, F_RDLCK, 1000000, 1), EAGAIN, EACCES);
	SYS(setlk(fd, F_SETLK, F_RDLCK, 0, 5));
	return PC_PASS;
}

static int posix_to_eof(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	/* l_len 0 reaches past the end of file, however it grows. */
	SYS(setlk(fd, F_SETLK, F_WRLCK, 5, 0));
	SYS(child(whole_file_fn, NULL));
	return PC_PASS;
}

static int posix_wrong_mode(void)
{
	int r, w;

	SYS(setup_file());
	r = SYS(open("f", O_RDONLY));
	w = SYS(open("f", O_WRONLY));
	ERRNO(setlk(r, F_SETLK, F_WRLCK, 0, 1), EBADF);
	ERRNO(setlk(w, F_SETLK, F_RDLCK, 0, 1), EBADF);
	return PC_PASS;
}

/* ---- flock ---- */

static int flock_ex_busy_fn(void *arg)
{
	int fd = SYS(open("f", O_RDONLY));

	(void)arg;
	ERRNO(flock(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	return PC_PASS;
}

static int flock_sh_busy_fn(void *arg)
{
	int fd = SYS(open("f", O_RDONLY));

	(void)arg;
	ERRNO(flock(fd, LOCK_SH | LOCK_NB), EWOULDBLOCK);
	return PC_PASS;
}

static int flock_sh_fn(void *arg)
{
	int fd = SYS(open("f", O_RDONLY));

	(void)arg;
	SYS(flock(fd, LOCK_SH | LOCK_NB));
	return PC_PASS;
}

static int flock_ex_fn(void *arg)
{
	int fd = SYS(open("f", O_RDONLY));

	(void)arg;
	SYS(flock(fd, LOCK_EX | LOCK_NB));
	return PC_PASS;
}

static int flock_conflict(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDONLY));
	SYS(flock(fd, LOCK_EX));
	SYS(child(flock_ex_busy_fn, NULL));
	SYS(child(flock_sh_busy_fn, NULL));
	return PC_PASS;
}

static int flock_shared(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDONLY));
	SYS(flock(fd, LOCK_SH));
	SYS(child(flock_sh_fn, NULL));
	SYS(child(flock_ex_busy_fn, NULL));
	return PC_PASS;
}

static int flock_close_releases(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDONLY));
	SYS(flock(fd, LOCK_EX));
	SYS(child(flock_ex_busy_fn, NULL));
	SYS(close(fd));
	SYS(child(flock_ex_fn, NULL));
	return PC_PASS;
}

static int flock_per_open(void)
{
	int a, b;

	SYS(setup_file());
	a = SYS(open("f", O_RDONLY));
	b = SYS(open("f", O_RDONLY));
	/* flock locks belong to the open file description, even in one process. */
	SYS(flock(a, LOCK_EX | LOCK_NB));
	ERRNO(flock(b, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	SYS(flock(a, LOCK_UN));
	SYS(flock(b, LOCK_EX | LOCK_NB));
	return PC_PASS;
}

static int flock_convert(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDONLY));
	SYS(flock(fd, LOCK_SH));
	SYS(flock(fd, LOCK_EX | LOCK_NB));
	SYS(child(flock_sh_busy_fn, NULL));
	SYS(flock(fd, LOCK_SH));
	SYS(child(flock_sh_fn, NULL));
	return PC_PASS;
}

static int flock_posix_independent(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(flock(fd, LOCK_EX));
	/* On Linux flock and fcntl locks do not see each other. */
	SYS(child(can_lock_fn, NULL));
	return PC_PASS;
}

/* ---- OFD locks ---- */

static int ofd_conflict(void)
{
	int a, b;

	SYS(setup_file());
	a = SYS(open("f", O_RDWR));
	b = SYS(open("f", O_RDWR));
	SYS(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	ERRNO2(setlk(b, F_OFD_SETLK, F_WRLCK, 5, 10), EAGAIN, EACCES);
	SYS(setlk(b, F_OFD_SETLK, F_WRLCK, 10, 10));
	return PC_PASS;
}

static int ofd_getlk(void)
{
	struct flock fl;
	int a, b;

	SYS(setup_file());
	a = SYS(open("f", O_RDWR));
	b = SYS(open("f", O_RDWR));
	SYS(setlk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	SYS(getlk(b, F_OFD_GETLK, F_RDLCK, 0, 1, &fl));
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, -1);
	CHECK_EQ(fl.l_len, 10);
	return PC_PASS;
}

static int ofd_vs_posix(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0));
	SYS(child(cannot_lock_fn, NULL));
	return PC_PASS;
}

static int ofd_close_other(void)
{
	int fd, other;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(setlk(fd, F_OFD_SETLK, F_WRLCK, 0, 0));
	other = SYS(open("f", O_RDONLY));
	SYS(close(other));
	/* Unlike a POSIX lock, closing another fd leaves it in place. */
	SYS(child(cannot_lock_fn, NULL));
	SYS(close(fd));
	SYS(child(can_lock_fn, NULL));
	return PC_PASS;
}

/* ---- lockf ---- */

static int lockf_fn(void *arg)
{
	int fd = SYS(open("f", O_RDWR));

	(void)arg;
	ERRNO2(lockf(fd, F_TEST, 5), EACCES, EAGAIN);
	ERRNO2(lockf(fd, F_TLOCK, 5), EACCES, EAGAIN);
	return PC_PASS;
}

static int lockf_calls(void)
{
	int fd;

	SYS(setup_file());
	fd = SYS(open("f", O_RDWR));
	SYS(lockf(fd, F_LOCK, 5));
	SYS(lockf(fd, F_TEST, 5));
	SYS(child(lockf_fn, NULL));
	return PC_PASS;
}

const struct pc_case pc_cases_lock[] = {
	{ "lock.posix.conflict", "F_SETLK write lock blocks overlapping read/write locks of another process", posix_conflict },
	{ "lock.posix.getlk_owner", "F_GETLK reports the holder's type, range and pid; F_UNLCK where free", posix_getlk_owner },
	{ "lock.posix.shared", "read locks are shared; a write lock over them conflicts", posix_shared },
	{ "lock.posix.close_releases", "closing any fd of the file releases the process's POSIX locks", posix_close_releases },
	{ "lock.posix.exit_releases", "a process's locks go when it exits", posix_exit_releases },
	{ "lock.posix.setlkw_waits", "F_SETLKW waits until the holder unlocks", posix_setlkw_waits },
	{ "lock.posix.setlkw_eintr", "F_SETLKW interrupted by a signal returns EINTR", posix_setlkw_eintr },
	{ "lock.posix.split", "unlocking the middle of a lock splits it in two", posix_split },
	{ "lock.posix.upgrade", "a read lock is upgraded to a write lock in place", posix_upgrade },
	{ "lock.posix.deadlock", "F_SETLKW that would deadlock two processes returns EDEADLK", posix_deadlock },
	{ "lock.posix.to_eof", "l_len 0 locks to the end of file and beyond", posix_to_eof },
	{ "lock.posix.wrong_mode", "a write lock on O_RDONLY or read lock on O_WRONLY: EBADF", posix_wrong_mode },
	{ "lock.flock.conflict", "flock LOCK_EX blocks another process's LOCK_EX and LOCK_SH (EWOULDBLOCK)", flock_conflict },
	{ "lock.flock.shared", "flock LOCK_SH is shared and blocks LOCK_EX", flock_shared },
	{ "lock.flock.close_releases", "closing the fd releases a flock lock", flock_close_releases },
	{ "lock.flock.per_open", "flock locks of two opens in one process conflict", flock_per_open },
	{ "lock.flock.convert", "flock converts shared to exclusive and back", flock_convert },
	{ "lock.flock.posix_independent", "flock and fcntl locks do not conflict (Linux)", flock_posix_independent },
	{ "lock.ofd.conflict", "OFD locks of two opens in one process conflict", ofd_conflict },
	{ "lock.ofd.getlk", "F_OFD_GETLK reports the lock with l_pid -1", ofd_getlk },
	{ "lock.ofd.vs_posix", "an OFD lock conflicts with another process's POSIX lock", ofd_vs_posix },
	{ "lock.ofd.close_other", "an OFD lock survives closing another fd, goes with its own", ofd_close_other },
	{ "lock.lockf", "lockf F_LOCK blocks another process's F_TEST and F_TLOCK", lockf_calls },
	{ NULL, NULL, NULL },
};

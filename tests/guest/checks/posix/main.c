/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The runner of the posix suite: options, the case table, one forked child
 * per case, TAP output.
 *
 * usage: posix --dir DIR [--other-fs DIR] [--mount TAG] [--timeout S]
 *              [--keep] [ID-PREFIX...]
 *        posix --list | --list-md
 *
 *   --dir DIR       where to work (made if missing): a fresh DIR/posix.XXXXXX is made (mode
 *                   0755, so that the unprivileged users reach it) and
 *                   removed at the end; DIR and its parents must be
 *                   searchable by uid 1000-1004
 *   --other-fs DIR  a directory on another file system (EXDEV cases)
 *   --mount TAG     first mount virtio-fs TAG on DIR (in the test guest)
 *   --timeout S     seconds one case may take (default 60)
 *   --keep          keep the work directory
 *   ID-PREFIX       run only the cases whose id starts with one of these
 *   --list          "id<TAB>description" for every case
 *   --list-md       the same as a Markdown table
 *
 * Output: "ok N - ID: DESCRIPTION" / "not ok N - ..." / "... # SKIP why",
 * notes as "# ..." lines before the result they belong to, the plan last.
 * Runs as root: the cases switch to uids 1000-1004 themselves.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"
#include "tap.h"

static const struct pc_case *const tables[] = {
	pc_cases_perm, pc_cases_names, pc_cases_io, pc_cases_time,
	pc_cases_lock, pc_cases_dir, pc_cases_xattr, pc_cases_acl,
	pc_cases_misc,
};

const char *pc_case_dir;
const char *pc_other_fs;

/* In the case's child: where pc_skip() sends its reason. */
static int reason_fd = -1;

void pc_note(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int pc_skip(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	ssize_t n;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (reason_fd >= 0)
		n = write(reason_fd, buf, strlen(buf));
	else
		n = printf("# skip: %s\n", buf);
	(void)n;
	return PC_SKIP;
}

static const char *base_name(const char *file)
{
	const char *s = strrchr(file, '/');

	return s ? s + 1 : file;
}

void pc_fail_sys(const char *file, int line, const char *expr, int err)
{
	pc_note("%s:%d: %s failed: %s (%s)", base_name(file), line, expr,
		strerrorname_np(err) ? strerrorname_np(err) : "?", strerror(err));
}

void pc_fail_errno(const char *file, int line, const char *expr, long ret,
		   int err, int want1, int want2)
{
	char want[64];

	if (want1 == want2)
		snprintf(want, sizeof(want), "%s", strerrorname_np(want1));
	else
		snprintf(want, sizeof(want), "%s or %s", strerrorname_np(want1),
			 strerrorname_np(want2));
	if (ret == -1)
		pc_note("%s:%d: %s: want %s, got %s (%s)", base_name(file), line,
			expr, want, strerrorname_np(err) ? strerrorname_np(err) : "?",
			strerror(err));
	else
		pc_note("%s:%d: %s: want %s, but it returned %ld", base_name(file),
			line, expr, want, ret);
}

void pc_fail_cond(const char *file, int line, const char *cond,
		  const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pc_note("%s:%d: %s: %s", base_name(file), line, cond, buf);
}

static void usage(void)
{
	fputs("usage: posix --dir DIR [--other-fs DIR] [--mount TAG] [--timeout S] [--keep] [ID-PREFIX...]\n"
	      "       posix --list | --list-md\n", stderr);
	exit(2);
}

static bool selected(const char *id, char **prefixes, int n)
{
	if (n == 0)
		return true;
	for (int i = 0; i < n; i++)
		if (strncmp(id, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void list_cases(bool markdown)
{
	int n = 0;

	if (markdown)
		puts("| # | id | what it checks |\n|---|---|---|");
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const struct pc_case *c = tables[t]; c->id; c++) {
			n++;
			if (markdown)
				printf("| %d | `%s` | %s |\n", n, c->id, c->desc);
			else
				printf("%s\t%s\n", c->id, c->desc);
		}
	}
}

/* Refuses duplicate ids: the comparison on the host matches cases by id. */
static void check_ids(void)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct pc_case *c = tables[t]; c->id; c++)
			for (size_t u = t; u < sizeof(tables) / sizeof(tables[0]); u++)
				for (const struct pc_case *d = u == t ? c + 1 : tables[u];
				     d->id; d++)
					if (strcmp(c->id, d->id) == 0)
						tap_bail("duplicate case id %s", c->id);
}

static void reap_strays(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Waits for @pid up to @timeout seconds; its wait status, or -1 on timeout. */
static int wait_case(pid_t pid, int timeout)
{
	struct timespec deadline, now, left;
	sigset_t set;
	int status;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		/* Orphans of the case reparent to us (subreaper): reap them. */
		reap_strays();
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline.tv_sec - now.tv_sec;
		left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000;
			left.tv_sec--;
		}
		if (left.tv_sec < 0)
			return -1;
		sigtimedwait(&set, NULL, &left);
	}
}

static void run_case(const struct pc_case *c, const char *work, int timeout,
		     bool keep)
{
	char dir[PATH_MAX], reason[256] = "";
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (snprintf(dir, sizeof(dir), "%s/%s", work, c->id) >= (int)sizeof(dir))
		tap_bail("the work directory's path is too long");
	if (mkdir(dir, 0755) < 0 || chmod(dir, 0755) < 0) {
		tap_diag("%s: cannot make its directory %s: %m", c->id, dir);
		tap_ok(false, "%s: %s", c->id, c->desc);
		return;
	}
	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		tap_bail("pipe: %m");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		tap_bail("fork: %m");
	if (pid == 0) {
		sigset_t set;
		int r;

		sigemptyset(&set);
		sigprocmask(SIG_SETMASK, &set, NULL);
		setpgid(0, 0);
		close(pipefd[0]);
		reason_fd = pipefd[1];
		if (chdir(dir) < 0) {
			pc_note("chdir %s: %m", dir);
			_exit(PC_FAIL);
		}
		umask(022);
		pc_case_dir = dir;
		/* Past the runner's limit, SIGALRM ends the case. */
		alarm((unsigned)timeout);
		r = c->run();
		fflush(stdout);
		_exit(r);
	}
	setpgid(pid, pid);
	close(pipefd[1]);
	status = wait_case(pid, timeout + 5);
	/* Whatever the case started (helpers, lock holders) goes now. */
	kill(-pid, SIGKILL);
	if (status == -1) {
		/* Also the case itself: it did not end in time. */
		status = wait_case(pid, 10);
		tap_diag("%s: did not finish within %d s%s", c->id, timeout,
			 status == -1 ? " and cannot be killed (stuck in the kernel?)" : "");
		status = -1;
	}
	n = read(pipefd[0], reason, sizeof(reason) - 1);
	reason[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	reap_strays();

	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == PC_PASS) {
		tap_ok(true, "%s: %s", c->id, c->desc);
	} else if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == PC_SKIP) {
		tap_skip(reason[0] ? reason : "no reason given", "%s: %s", c->id, c->desc);
	} else {
		if (status != -1 && WIFSIGNALED(status))
			tap_diag("%s: killed by signal %d (%s)", c->id,
				 WTERMSIG(status), strsignal(WTERMSIG(status)));
		else if (status != -1 && WEXITSTATUS(status) != PC_FAIL)
			tap_diag("%s: exit status %d", c->id, WEXITSTATUS(status));
		tap_ok(false, "%s: %s", c->id, c->desc);
	}
	if (!keep && rm_tree(dir) < 0)
		tap_diag("%s: could not remove all of %s: %m", c->id, dir);
}

static void describe_env(const char *work)
{
	static const char *const sysctls[] = {
		"protected_hardlinks", "protected_symlinks", "protected_regular",
		"protected_fifos",
	};
	struct utsname u;
	struct statfs sf;
	char line[1024], best[1024];
	size_t best_len = 0;
	FILE *f;

	if (uname(&u) == 0)
		tap_diag("kernel %s %s", u.release, u.machine);
	if (statfs(work, &sf) == 0)
		tap_diag("work directory %s: statfs f_type 0x%lx, f_bsize %ld",
			 work, (unsigned long)sf.f_type, (long)sf.f_bsize);
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
		char path[128];

		snprintf(path, sizeof(path), "/proc/sys/fs/%s", sysctls[i]);
		f = fopen(path, "r");
		if (f && fgets(line, sizeof(line), f))
			tap_diag("fs.%s = %s", sysctls[i], strtok(line, "\n"));
		if (f)
			fclose(f);
	}
	/* The mount's options (cache, atime rules) explain some results. */
	f = fopen("/proc/self/mountinfo", "r");
	best[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX];
		size_t len;

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		len = strlen(mnt);
		if (strncmp(work, mnt, len) == 0 && (len == 1 || work[len] == '/') &&
		    len >= best_len) {
			best_len = len;
			snprintf(best, sizeof(best), "%s", line);
		}
	}
	if (best[0])
		tap_diag("mount: %s", strtok(best, "\n"));
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *other = NULL, *tag = NULL;
	char work[PATH_MAX], real[PATH_MAX];
	char *prefixes[64];
	int nprefix = 0, timeout = 60;
	bool keep = false;
	struct stat st_work, st_other;
	sigset_t set;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--list") == 0) {
			list_cases(false);
			return 0;
		} else if (strcmp(argv[i], "--list-md") == 0) {
			list_cases(true);
			return 0;
		} else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--other-fs") == 0 && i + 1 < argc) {
			other = argv[++i];
		} else if (strcmp(argv[i], "--mount") == 0 && i + 1 < argc) {
			tag = argv[++i];
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
		} else if (argv[i][0] == '-') {
			usage();
		} else if (nprefix < 64) {
			prefixes[nprefix++] = argv[i];
		}
	}
	if (!dir || timeout <= 0)
		usage();

	tap_init();
	check_ids();
	if (geteuid() != 0)
		tap_bail("the posix suite runs as root (it switches to uids 1000-1004 itself)");
	/* A missing --dir is made (e.g. in the guest's tmpfs). */
	if (mkdir(dir, 0755) == 0)
		tap_diag("made %s", dir);
	if (tag) {
		if (mount(tag, dir, "virtiofs", 0, NULL) < 0)
			tap_bail("mount -t virtiofs %s %s: %m", tag, dir);
		tap_diag("mounted virtio-fs %s on %s", tag, dir);
	}
	if (!realpath(dir, real))
		tap_bail("--dir %s: %m", dir);
	if (snprintf(work, sizeof(work), "%s/posix.XXXXXX", real) >= (int)sizeof(work))
		tap_bail("--dir %s: path too long", real);
	if (!mkdtemp(work) || chmod(work, 0755) < 0)
		tap_bail("cannot make a work directory in %s: %m", real);
	describe_env(work);
	if (u_stat(OTHER, work) < 0)
		tap_diag("uid %d cannot reach %s (%m): every case as a user will fail; "
			 "make the parents of --dir searchable", U_OTHER, work);

	if (other) {
		if (stat(other, &st_other) < 0 || !S_ISDIR(st_other.st_mode)) {
			tap_diag("--other-fs %s is not a directory: EXDEV cases will skip", other);
		} else if (stat(work, &st_work) == 0 && st_work.st_dev == st_other.st_dev) {
			tap_diag("--other-fs %s is on the same file system: EXDEV cases will skip", other);
		} else {
			static char other_work[PATH_MAX];

			snprintf(other_work, sizeof(other_work), "%s/posix-other.XXXXXX", other);
			if (mkdtemp(other_work) && chmod(other_work, 0777) == 0)
				pc_other_fs = other_work;
			else
				tap_diag("cannot make a directory in %s: %m", other);
		}
	}

	/* Orphaned helpers come back to us, and SIGCHLD wakes the waits. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct pc_case *c = tables[t]; c->id; c++)
			if (selected(c->id, prefixes, nprefix))
				run_case(c, work, timeout, keep);

	if (!keep) {
		if (rm_tree(work) < 0)
			tap_diag("could not remove all of %s: %m", work);
		if (pc_other_fs)
			rm_tree(pc_other_fs);
	} else {
		tap_diag("kept %s", work);
	}
	tap_diag("%d cases failed", tap_failures());
	return tap_done();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * modes: what distinguishes the daemon's modes, seen by applications in the
 * guest. Each argument (vfs.args on the kernel command line, from
 * run-guest.sh --guest-args) names one group of checks and what the daemon's
 * options should make of it:
 *
 *   cache=never|metadata|auto|auto-long|always
 *            the host changes files the guest has open, cached, listed
 *            (modes.host.sh "during", on request): which changes the guest
 *            sees at once, after the 1 s auto timeout, after reopening;
 *            auto-long is auto with -o timeout=3600
 *   mmap=refused|ok|allow
 *            MAP_SHARED of a file: refused (ENODEV) with direct I/O, works
 *            with the page cache; allow: --allow-mmap, which works from
 *            guest kernel 6.6 and is refused before
 *   dio=on|off
 *            an unaligned O_DIRECT write fails (EINVAL from the host) only
 *            when the daemon honours O_DIRECT
 *   append   O_APPEND writes land at the host file's end, a page of the same
 *            file written through a shared mapping lands in place
 *   writeback
 *            write-only and append-only files work with the writeback cache
 *   rdp=on|off
 *            lists a directory of 50 files and asks the host to log the
 *            daemon's statistics; modes.host.sh "verify" counts READDIRPLUS
 *   submounts=on|off
 *            a tmpfs mounted on the host inside the share: a device of its
 *            own in the guest only when the daemon announces submounts
 *   readonly every call that would change the share fails with EROFS
 *
 * The files are a contract with modes.host.sh: change them together.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tap.h"

static const char *mnt;

static const char *path(const char *name)
{
	return chk_join(mnt, name);
}

static bool check_errno(long ret, int err, int expected, const char *what)
{
	bool pass = ret == -1 && err == expected;

	if (!pass) {
		if (ret == -1)
			tap_diag("%s: expected %s, got %s", what, strerror(expected), strerror(err));
		else
			tap_diag("%s: expected %s, but it succeeded", what, strerror(expected));
	}
	return tap_ok(pass, "%s", what);
}

#define CHECK_ERRNO(expr, expected, what)				\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		check_errno(ret_, err_, expected, what);		\
	})

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

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Asks modes.host.sh "during" to do `action` and waits until it is done:
 * creates sync/ACTION.req, waits for sync/ACTION.done. A name looked up for
 * the first time always reaches the daemon (FUSE caches no negative
 * entries the daemon did not give), whatever the cache mode.
 */
static bool host_do(const char *action)
{
	char req[PATH_MAX], done[PATH_MAX];
	struct stat st;

	snprintf(req, sizeof(req), "%s/sync/%s.req", mnt, action);
	snprintf(done, sizeof(done), "%s/sync/%s.done", mnt, action);
	int fd = open(req, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		tap_diag("cannot ask the host for '%s': %s", action, strerror(errno));
		return false;
	}
	close(fd);
	for (int i = 0; i < 600; i++) {
		if (stat(done, &st) == 0)
			return true;
		sleep_ms(50);
	}
	tap_diag("the host did not do '%s' within 30 s", action);
	return false;
}

static ssize_t pread_str(int fd, char *buf, size_t cap, off_t off)
{
	ssize_t n = pread(fd, buf, cap - 1, off);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static bool listing_has(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, name) == 0)
			found = true;
	closedir(d);
	return found;
}

/* --- cache modes ------------------------------------------------------------ */

enum seen { OLD, NEW, SKIP };

struct cache_expect {
	const char *mode;
	enum seen data_now;    /* re-read through the same fd right after the change */
	enum seen size_now;    /* stat right after */
	bool listed_now;       /* a new host file in a listed directory */
	enum seen size_later;  /* stat after 1.5 s */
	bool gone_later;       /* a file the host unlinked: ENOENT after 1.5 s */
	enum seen data_later;  /* same fd after 1.5 s */
	enum seen reopened;    /* after close and open again */
};

static const struct cache_expect cache_modes[] = {
	/* no caching at all */
	{ "never", NEW, NEW, true, NEW, true, NEW, NEW },
	/* data direct; attributes, entries and listings cached for a day */
	{ "metadata", NEW, OLD, false, OLD, false, NEW, NEW },
	/* 1 s: anything may be stale right after, nothing after 1.5 s;
	 * close-to-open for data */
	{ "auto", SKIP, SKIP, true, NEW, true, NEW, NEW },
	/* auto with -o timeout=3600: only reopening refreshes data */
	{ "auto-long", OLD, OLD, true, OLD, false, OLD, NEW },
	/* everything kept, across opens too */
	{ "always", OLD, OLD, false, OLD, false, OLD, OLD },
};

static const char *seen_name(enum seen s)
{
	return s == NEW ? "the host's change" : "the cached value";
}

static void check_seen(enum seen want, bool is_new, const char *what)
{
	if (want == SKIP) {
		tap_skip("depends on how fast the guest runs", "%s", what);
		return;
	}
	if ((want == NEW) != is_new)
		tap_diag("%s: saw %s", what, seen_name(is_new ? NEW : OLD));
	tap_ok((want == NEW) == is_new, "%s: %s", what, seen_name(want));
}

static void test_cache(const char *mode)
{
	const struct cache_expect *e = NULL;
	char buf[64];
	struct stat st;

	for (size_t i = 0; i < sizeof(cache_modes) / sizeof(cache_modes[0]); i++)
		if (strcmp(cache_modes[i].mode, mode) == 0)
			e = &cache_modes[i];
	if (!e) {
		tap_ok(false, "cache=%s: a mode this check knows", mode);
		return;
	}
	tap_diag("cache mode %s: the host changes data.txt, size.txt, list/ and gone.txt", mode);

	int fd = open(path("data.txt"), O_RDONLY);
	if (!CHECK_SYS(fd, "open data.txt"))
		return;
	pread_str(fd, buf, sizeof(buf), 0);
	tap_ok(strcmp(buf, "AAAAAAAA") == 0, "data.txt reads AAAAAAAA before the change");
	CHECK_SYS(stat(path("size.txt"), &st), "stat size.txt before the change");
	tap_ok(st.st_size == 4, "size.txt is 4 bytes before the change");
	CHECK_SYS(stat(path("gone.txt"), &st), "stat gone.txt before the change");
	tap_ok(listing_has(path("list"), "a1") && !listing_has(path("list"), "new"),
	       "list/ holds a1 and no 'new' before the change");

	if (!tap_ok(host_do("change"), "the host changed the files"))
		return;

	pread_str(fd, buf, sizeof(buf), 0);
	check_seen(e->data_now, strcmp(buf, "BBBBBBBB") == 0,
		   "data.txt through the open fd right after the change");
	if (stat(path("size.txt"), &st) == 0)
		check_seen(e->size_now, st.st_size == 8, "size.txt's size right after the change");
	else
		tap_ok(false, "stat size.txt right after the change: %s", strerror(errno));
	bool listed = listing_has(path("list"), "new");
	tap_ok(listed == e->listed_now, "list/ listed again right after the change %s 'new'",
	       e->listed_now ? "shows" : "does not show (cached listing)");
	CHECK_SYS(stat(path("list/new"), &st),
		  "list/new is found by name right after the change (lookups of new names "
		  "are never cached)");

	sleep_ms(1500);
	if (stat(path("size.txt"), &st) == 0)
		check_seen(e->size_later, st.st_size == 8, "size.txt's size 1.5 s after the change");
	else
		tap_ok(false, "stat size.txt 1.5 s after the change: %s", strerror(errno));
	int r = stat(path("gone.txt"), &st);
	if (e->gone_later)
		CHECK_ERRNO(r, ENOENT, "gone.txt (unlinked on the host) is gone 1.5 s after");
	else
		CHECK_SYS(r, "gone.txt (unlinked on the host) is still cached 1.5 s after");
	pread_str(fd, buf, sizeof(buf), 0);
	check_seen(e->data_later, strcmp(buf, "BBBBBBBB") == 0,
		   "data.txt through the open fd 1.5 s after the change");
	close(fd);

	fd = open(path("data.txt"), O_RDONLY);
	if (CHECK_SYS(fd, "open data.txt again")) {
		pread_str(fd, buf, sizeof(buf), 0);
		check_seen(e->reopened, strcmp(buf, "BBBBBBBB") == 0,
			   "data.txt after closing and opening it again");
		close(fd);
	}
}

/* --- mmap ------------------------------------------------------------------- */

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

static void test_mmap(const char *how)
{
	bool allow = strcmp(how, "allow") == 0;
	/* FUSE_DIRECT_IO_ALLOW_MMAP came with Linux 6.6 (FUSE 7.39) */
	bool shared_ok = strcmp(how, "ok") == 0 || (allow && kernel_at_least(6, 6));

	if (allow && !shared_ok)
		tap_diag("Linux before 6.6 refuses MAP_SHARED of FOPEN_DIRECT_IO files (ENODEV) and "
			 "has no FUSE_DIRECT_IO_ALLOW_MMAP to ask for: --allow-mmap cannot help it");
	int fd = open(path("mmap.txt"), O_RDWR);
	if (!CHECK_SYS(fd, "open mmap.txt"))
		return;
	char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (CHECK_SYS(p == MAP_FAILED ? -1 : 0, "MAP_PRIVATE of mmap.txt")) {
		tap_ok(p[0] == 'm' && p[4095] == 'm', "the private mapping reads the file");
		munmap(p, 4096);
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!shared_ok) {
		CHECK_ERRNO(p == MAP_FAILED ? -1 : 0, ENODEV, "MAP_SHARED of mmap.txt is refused");
		if (p != MAP_FAILED)
			munmap(p, 4096);
		close(fd);
		return;
	}
	if (CHECK_SYS(p == MAP_FAILED ? -1 : 0, "MAP_SHARED of mmap.txt")) {
		memcpy(p, "XY", 2);
		CHECK_SYS(msync(p, 4096, MS_SYNC), "msync of the shared mapping");
		munmap(p, 4096);
		/* tells modes.host.sh verify to look for XY in mmap.txt */
		int m = open(path("mmap-shared"), O_WRONLY | O_CREAT, 0644);
		if (m >= 0)
			close(m);
	}
	close(fd);
}

/* --- O_DIRECT --------------------------------------------------------------- */

static void test_dio(bool honoured)
{
	int fd = open(path("dio.bin"), O_RDWR | O_DIRECT);
	if (!CHECK_SYS(fd, "open dio.bin with O_DIRECT"))
		return;
	void *aligned = NULL;
	if (posix_memalign(&aligned, 4096, 8192) != 0) {
		tap_ok(false, "allocate an aligned buffer");
		close(fd);
		return;
	}
	memset(aligned, 'd', 8192);
	CHECK_SYS(pwrite(fd, aligned, 4096, 0) == 4096 ? 0 : -1,
		  "an aligned O_DIRECT write of 4096 bytes");
	ssize_t n = pwrite(fd, (char *)aligned + 1, 100, 1);
	if (honoured)
		CHECK_ERRNO(n, EINVAL, "an unaligned O_DIRECT write fails on the host (honoured)");
	else
		tap_ok(n == 100, "an unaligned O_DIRECT write succeeds (O_DIRECT stripped on the "
			"host)");
	free(aligned);
	close(fd);
}

/* --- O_APPEND --------------------------------------------------------------- */

static void test_append(void)
{
	struct stat st;
	int fd = open(path("append.txt"), O_RDWR | O_APPEND);

	if (!CHECK_SYS(fd, "open append.txt O_RDWR | O_APPEND"))
		return;
	if (!tap_ok(host_do("append"), "the host appended 'host' to append.txt"))
		return;
	sleep_ms(1500); /* past the attribute timeout: the guest knows the new size */
	CHECK_SYS(fstat(fd, &st), "fstat append.txt");
	tap_ok(st.st_size == 14, "append.txt is 14 bytes after the host's append");
	tap_ok(write(fd, "G", 1) == 1, "append 'G' to append.txt");
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (CHECK_SYS(p == MAP_FAILED ? -1 : 0, "MAP_SHARED of the O_APPEND file")) {
		p[0] = 'Z';
		CHECK_SYS(msync(p, 4096, MS_SYNC), "msync the page with byte 0 changed");
		munmap(p, 4096);
	}
	close(fd);
	/* modes.host.sh verify: append.txt is Z123456789hostG */
}

/* --- writeback cache -------------------------------------------------------- */

static void test_writeback(void)
{
	int fd = open(path("wb.txt"), O_WRONLY);

	if (CHECK_SYS(fd, "open wb.txt write-only")) {
		tap_ok(pwrite(fd, "AB", 2, 3) == 2, "write 2 bytes into the middle of wb.txt");
		CHECK_SYS(fsync(fd), "fsync wb.txt");
		CHECK_SYS(close(fd), "close wb.txt");
	}
	fd = open(path("wb-append.txt"), O_WRONLY | O_APPEND);
	if (CHECK_SYS(fd, "open wb-append.txt write-only, append-only")) {
		tap_ok(write(fd, "XY", 2) == 2, "append 2 bytes to wb-append.txt");
		CHECK_SYS(fsync(fd), "fsync wb-append.txt");
		CHECK_SYS(close(fd), "close wb-append.txt");
	}
	/* modes.host.sh verify: 012AB56789 and 0123456789XY */
}

/* --- READDIRPLUS ------------------------------------------------------------ */

static void test_readdirplus(void)
{
	DIR *d = opendir(path("rdp"));
	struct dirent *de;
	unsigned n = 0, stated = 0;

	if (!CHECK_SYS(d ? 0 : -1, "opendir rdp"))
		return;
	while ((de = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		n++;
		snprintf(p, sizeof(p), "%s/rdp/%s", mnt, de->d_name);
		if (lstat(p, &st) == 0)
			stated++;
	}
	closedir(d);
	tap_ok(n == 50 && stated == 50, "ls -l of rdp: 50 entries, each stat()ed (%u, %u)", n,
	       stated);
	tap_ok(host_do("stats"), "the host had the daemon log its statistics");
	/* modes.host.sh verify counts READDIR and READDIRPLUS in the daemon's log */
}

/* --- submounts -------------------------------------------------------------- */

static void test_submounts(bool announced)
{
	struct stat top, sub, inner;

	/* stat() does not trigger automounts: "sub/." goes through the mount
	 * point into whatever is mounted there */
	if (!CHECK_SYS(stat(mnt, &top), "stat the mount point") ||
	    !CHECK_SYS(stat(path("sub/."), &sub), "stat sub/. (sub is a tmpfs on the host)") ||
	    !CHECK_SYS(stat(path("sub/inner"), &inner), "stat sub/inner"))
		return;
	tap_diag("st_dev: share %u:%u, sub %u:%u, sub/inner %u:%u", major(top.st_dev),
		 minor(top.st_dev), major(sub.st_dev), minor(sub.st_dev), major(inner.st_dev),
		 minor(inner.st_dev));
	char line[512], want[PATH_MAX + 2];
	bool listed = false;
	FILE *m = fopen("/proc/self/mounts", "r");
	snprintf(want, sizeof(want), " %s/sub ", mnt);
	while (m && fgets(line, sizeof(line), m))
		if (strstr(line, want))
			listed = true;
	if (m)
		fclose(m);
	if (announced) {
		tap_ok(sub.st_dev != top.st_dev, "sub has a device of its own (announced submount)");
		tap_ok(inner.st_dev == sub.st_dev, "sub/inner is on sub's device");
		tap_ok(listed, "the guest mounted sub by itself (in /proc/self/mounts)");
	} else {
		tap_ok(!listed, "no mount of sub in the guest");
		tap_ok(sub.st_dev == top.st_dev && inner.st_dev == top.st_dev,
		       "sub and sub/inner share the share's device (submounts not announced)");
	}
}

/* --- readonly --------------------------------------------------------------- */

static void test_readonly(void)
{
	char buf[16];
	int fd;

	CHECK_ERRNO(open(path("new.txt"), O_WRONLY | O_CREAT, 0644), EROFS, "create new.txt");
	CHECK_ERRNO(mkdir(path("newdir"), 0755), EROFS, "mkdir newdir");
	CHECK_ERRNO(mknod(path("fifo"), S_IFIFO | 0644, 0), EROFS, "mknod a fifo");
	CHECK_ERRNO(symlink("data.txt", path("sl")), EROFS, "symlink");
	CHECK_ERRNO(link(path("data.txt"), path("hl")), EROFS, "link");
	CHECK_ERRNO(unlink(path("data.txt")), EROFS, "unlink data.txt");
	CHECK_ERRNO(rmdir(path("list")), EROFS, "rmdir list");
	CHECK_ERRNO(rename(path("data.txt"), path("moved.txt")), EROFS, "rename data.txt");
	CHECK_ERRNO(chmod(path("data.txt"), 0600), EROFS, "chmod data.txt");
	CHECK_ERRNO(chown(path("data.txt"), 1, 1), EROFS, "chown data.txt");
	CHECK_ERRNO(truncate(path("data.txt"), 0), EROFS, "truncate data.txt");
	CHECK_ERRNO(utimensat(AT_FDCWD, path("data.txt"), NULL, 0), EROFS, "utimensat data.txt");
	CHECK_ERRNO(setxattr(path("data.txt"), "user.x", "v", 1, 0), EROFS, "setxattr data.txt");
	CHECK_ERRNO(removexattr(path("data.txt"), "user.x"), EROFS, "removexattr data.txt");
	CHECK_ERRNO(open(path("data.txt"), O_WRONLY), EROFS, "open data.txt write-only");
	CHECK_ERRNO(open(path("data.txt"), O_RDWR), EROFS, "open data.txt read-write");
	CHECK_ERRNO(open(path("data.txt"), O_RDONLY | O_TRUNC), EROFS, "open data.txt O_TRUNC");
	fd = open(path("data.txt"), O_RDONLY);
	if (CHECK_SYS(fd, "open data.txt read-only")) {
		tap_ok(read(fd, buf, sizeof(buf)) == 8, "read data.txt");
		close(fd);
	}
	/* modes.host.sh verify: the share is exactly as the host wrote it */
}

int main(int argc, char **argv)
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

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		tap_diag("--- %s", a);
		if (strncmp(a, "cache=", 6) == 0)
			test_cache(a + 6);
		else if (strncmp(a, "mmap=", 5) == 0)
			test_mmap(a + 5);
		else if (strcmp(a, "dio=on") == 0 || strcmp(a, "dio=off") == 0)
			test_dio(strcmp(a, "dio=on") == 0);
		else if (strcmp(a, "append") == 0)
			test_append();
		else if (strcmp(a, "writeback") == 0)
			test_writeback();
		else if (strcmp(a, "rdp=on") == 0 || strcmp(a, "rdp=off") == 0)
			test_readdirplus();
		else if (strcmp(a, "submounts=on") == 0 || strcmp(a, "submounts=off") == 0)
			test_submounts(strcmp(a, "submounts=on") == 0);
		else if (strcmp(a, "readonly") == 0)
			test_readonly();
		else
			tap_ok(false, "argument '%s' names a check", a);
	}
	if (argc < 2)
		tap_ok(false, "arguments name the checks to run (vfs.args)");
	CHECK_SYS(umount(mnt), "unmount the share");
	return tap_done();
}

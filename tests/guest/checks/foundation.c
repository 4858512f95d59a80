/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * foundation: the basic file operations an application does, run inside the
 * test guest on a virtio-fs mount.
 *
 * It mounts the share, checks the files the host wrote before boot (see
 * foundation.host.sh, "setup"), does its own work under <mnt>/guest, checks
 * each result through the mount, remounts to see what persisted, and
 * unmounts. Everything it leaves under <mnt>/guest is checked again on the
 * host after the guest powered off ("verify" in foundation.host.sh): the two
 * files are one contract, change them together.
 *
 * Environment (set by the guest's /init from the kernel command line):
 *   VFS_GUEST_TAG  virtio-fs tag to mount (default "myfs")
 *   VFS_GUEST_MNT  mount point (default "/mnt")
 *   VFS_GUEST_NO_MOUNT=1  use VFS_GUEST_MNT as it is, without mounting or
 *                  unmounting: runs the same checks on any directory, e.g.
 *                  a local one on the host to see how a native file system
 *                  answers them
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "check.h"
#include "tap.h"

#define FUSE_SUPER_MAGIC 0x65735546

#define MANY_ENTRIES 1000
#define BIG_SIZE (64ull << 20)
#define BIG_CHUNK (1u << 20)

/* What foundation.host.sh "setup" writes under <mnt>/host. */
#define HOST_HELLO "hello from the host\n"
#define HOST_NESTED "nested two levels down\n"
#define HOST_HARDLINK "two names\n"
#define HOST_PRIVATE "only for root and group\n"
#define HOST_PRIVATE_UID 4321
#define HOST_PRIVATE_GID 8765
#define HOST_RANDOM_SIZE (3 * 1048576 + 123)
#define HOST_XATTR_VALUE "set on the host"

static const char *mnt;
static const char *tag;
static bool no_mount;

/*
 * Returns "<mnt>/<sub>/<name>" in one of a few rotating static buffers, so
 * a check can build two or three paths in one call.
 */
static const char *path_at(const char *sub, const char *name)
{
	static char bufs[8][PATH_MAX];
	static unsigned int next;
	char *buf = bufs[next++ % 8];

	if (name)
		snprintf(buf, PATH_MAX, "%s/%s/%s", mnt, sub, name);
	else
		snprintf(buf, PATH_MAX, "%s/%s", mnt, sub);
	return buf;
}

static const char *gpath(const char *name)
{
	return path_at("guest", name);
}

static const char *hpath(const char *name)
{
	return path_at("host", name);
}

/* ok when the call returned >= 0; otherwise the failing errno is shown. */
static bool check_sys_(long ret, int err, const char *fmt, ...)
	TAP_PRINTF(3, 4);
static bool check_sys_(long ret, int err, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ret < 0)
		tap_diag("%s: failed: %s", what, strerror(err));
	return tap_ok(ret >= 0, "%s", what);
}

#define CHECK_SYS(expr, ...)						\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		check_sys_(ret_, err_, __VA_ARGS__);			\
	})

/* ok when the call failed with exactly @expected. */
static bool check_errno_(long ret, int err, int expected, const char *fmt, ...)
	TAP_PRINTF(4, 5);
static bool check_errno_(long ret, int err, int expected, const char *fmt, ...)
{
	char what[512];
	bool pass = ret == -1 && err == expected;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!pass) {
		if (ret == -1)
			tap_diag("%s: expected %s, got %s", what,
				 strerror(expected), strerror(err));
		else
			tap_diag("%s: expected %s, but the call succeeded (%ld)",
				 what, strerror(expected), ret);
	}
	return tap_ok(pass, "%s", what);
}

#define CHECK_ERRNO(expr, expected, ...)				\
	({								\
		long ret_ = (long)(expr);				\
		int err_ = errno;					\
		check_errno_(ret_, err_, expected, __VA_ARGS__);	\
	})

static bool check_eq_(long long got, long long want, const char *fmt, ...)
	TAP_PRINTF(3, 4);
static bool check_eq_(long long got, long long want, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (got != want)
		tap_diag("%s: got %lld (0%llo), want %lld (0%llo)", what, got,
			 got, want, want);
	return tap_ok(got == want, "%s", what);
}

#define CHECK_EQ(got, want, ...) \
	check_eq_((long long)(got), (long long)(want), __VA_ARGS__)

/* Writes all of @len bytes; returns 0 or -errno. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to @cap bytes, looping over short reads; returns length or -errno. */
static ssize_t read_upto(int fd, void *buf, size_t cap)
{
	char *p = buf;
	size_t got = 0;

	while (got < cap) {
		ssize_t n = read(fd, p + got, cap - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Creates (or truncates) @path with @mode and writes @data; 0 or -errno. */
static int put_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int r;

	if (fd < 0)
		return -errno;
	r = write_all(fd, data, strlen(data));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* Checks that @path holds exactly @len bytes equal to @want. */
static bool check_content(const char *path, const void *want, size_t len,
			  const char *what)
{
	size_t cap = len + 64;
	char *buf = malloc(cap);
	ssize_t n = -ENOMEM;
	int fd = -1;
	bool pass;

	if (buf) {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -errno : read_upto(fd, buf, cap);
		if (fd >= 0)
			close(fd);
	}
	pass = n == (ssize_t)len && memcmp(buf, want, len) == 0;
	if (!pass) {
		if (n < 0) {
			tap_diag("reading %s: %s", path, strerror((int)-n));
		} else {
			size_t i = 0;

			while (i < (size_t)n && i < len &&
			       buf[i] == ((const char *)want)[i])
				i++;
			tap_diag("%s: %zd bytes read, %zu expected, first difference at byte %zu",
				 path, n, len, i);
		}
	}
	free(buf);
	return tap_ok(pass, "%s", what);
}

static bool check_text(const char *path, const char *want, const char *what)
{
	return check_content(path, want, strlen(want), what);
}

/*
 * Writes back and evicts the guest's page cache, dentries and inodes, so
 * the next read has to go to the daemon instead of being served from memory.
 */
static void drop_guest_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3\n", 2) != 2)
		tap_diag("could not drop the guest's caches (%s): reads may come from the page cache",
			 strerror(errno));
	if (fd >= 0)
		close(fd);
}

static bool is_fuse_mounted(const char *dir)
{
	struct statfs sfs;

	return statfs(dir, &sfs) == 0 && sfs.f_type == FUSE_SUPER_MAGIC;
}

/* Mounts the share; ENODEV/ENOENT right after insmod are retried briefly. */
static int mount_share(void)
{
	return chk_mount_virtiofs(tag, mnt, 20);
}

static void check_mount(void)
{
	struct statfs sfs;
	char line[512];
	bool listed = false;
	FILE *f;

	if (no_mount) {
		tap_skip("VFS_GUEST_NO_MOUNT is set", "mount -t virtiofs %s %s", tag, mnt);
		return;
	}
	mkdir(mnt, 0755);
	if (!CHECK_SYS(mount_share(), "mount -t virtiofs %s %s", tag, mnt))
		tap_bail("the share could not be mounted; nothing else can be checked");

	if (CHECK_SYS(statfs(mnt, &sfs), "statfs on the mount point")) {
		CHECK_EQ(sfs.f_type, FUSE_SUPER_MAGIC,
			 "statfs reports the FUSE magic 0x65735546");
		tap_ok(sfs.f_bsize > 0 && sfs.f_blocks > 0,
		       "statfs reports a block size and a size (bsize %ld, blocks %llu)",
		       (long)sfs.f_bsize, (unsigned long long)sfs.f_blocks);
	}

	f = fopen("/proc/mounts", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char src[256], dst[256], type[64];

		if (sscanf(line, "%255s %255s %63s", src, dst, type) == 3 &&
		    strcmp(src, tag) == 0 && strcmp(dst, mnt) == 0 &&
		    strcmp(type, "virtiofs") == 0)
			listed = true;
	}
	if (f)
		fclose(f);
	tap_ok(listed, "/proc/mounts lists \"%s %s virtiofs\"", tag, mnt);
}

/* Reads the hex digest at the start of a sha256sum-format file. */
static bool read_digest_file(const char *path, char hex[SHA256_HEX_SIZE])
{
	char buf[128];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read_upto(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < SHA256_HEX_SIZE - 1)
		return false;
	memcpy(hex, buf, SHA256_HEX_SIZE - 1);
	hex[SHA256_HEX_SIZE - 1] = '\0';
	return true;
}

/* SHA-256 of a whole file; returns its size or -errno. */
static long long sha256_file(const char *path, char hex[SHA256_HEX_SIZE])
{
	struct sha256 s;
	long long total = 0;
	char *buf = malloc(BIG_CHUNK);
	int fd = open(path, O_RDONLY);
	int err = 0;

	if (!buf || fd < 0) {
		err = !buf ? ENOMEM : errno;
		goto out;
	}
	sha256_init(&s);
	for (;;) {
		ssize_t n = read_upto(fd, buf, BIG_CHUNK);

		if (n < 0) {
			err = (int)-n;
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(&s, buf, (size_t)n);
		total += n;
	}
	sha256_final_hex(&s, hex);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err ? -err : total;
}

static void check_host_files(void)
{
	char want[SHA256_HEX_SIZE], got[SHA256_HEX_SIZE];
	char target[PATH_MAX];
	char value[128];
	struct stat st, st2;
	long long size;
	ssize_t n;

	tap_diag("files the host wrote before boot");
	check_text(hpath("hello.txt"), HOST_HELLO, "host file host/hello.txt reads back as written");
	check_text(hpath("sub/dir/nested.txt"), HOST_NESTED,
		   "host file two directories down (host/sub/dir/nested.txt) reads back");
	if (CHECK_SYS(stat(hpath("private.txt"), &st), "stat host/private.txt")) {
		CHECK_EQ(st.st_mode & 07777, 0640, "host/private.txt has mode 0640 as set on the host");
		tap_ok(st.st_uid == HOST_PRIVATE_UID && st.st_gid == HOST_PRIVATE_GID,
		       "host/private.txt is owned by %d:%d as set on the host (got %u:%u)",
		       HOST_PRIVATE_UID, HOST_PRIVATE_GID, st.st_uid, st.st_gid);
	}
	check_text(hpath("private.txt"), HOST_PRIVATE, "host/private.txt reads back as written");
	if (CHECK_SYS(stat(hpath("empty"), &st), "stat host/empty"))
		CHECK_EQ(st.st_size, 0, "host/empty has size 0");

	n = readlink(hpath("link-to-hello"), target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	tap_ok(n == 9 && strcmp(target, "hello.txt") == 0,
	       "host symlink host/link-to-hello points to \"hello.txt\"");
	check_text(hpath("link-to-hello"), HOST_HELLO, "reading through host/link-to-hello gives hello.txt's content");

	if (stat(hpath("hardlink-1"), &st) == 0 && stat(hpath("hardlink-2"), &st2) == 0) {
		tap_ok(st.st_nlink == 2 && st2.st_nlink == 2 && st.st_ino == st2.st_ino,
		       "host hard links host/hardlink-1 and -2: link count 2, same inode");
	} else {
		tap_ok(false, "host hard links host/hardlink-1 and -2: link count 2, same inode");
	}
	check_text(hpath("hardlink-2"), HOST_HARDLINK, "host/hardlink-2 reads back as written");

	if (!read_digest_file(hpath("random.bin.sha256"), want)) {
		tap_ok(false, "host/random.bin.sha256 (written by the host) is readable");
	} else {
		size = sha256_file(hpath("random.bin"), got);
		if (size < 0)
			tap_diag("reading host/random.bin: %s", strerror((int)-size));
		CHECK_EQ(size, HOST_RANDOM_SIZE, "host/random.bin has the size the host wrote");
		if (!tap_ok(size >= 0 && strcmp(got, want) == 0,
			    "host/random.bin (random data) has the SHA-256 the host computed"))
			tap_diag("guest %s, host %s", size >= 0 ? got : "-", want);
	}

	if (access(hpath("xattr-unsupported"), F_OK) == 0) {
		tap_skip("the host's filesystem has no user xattrs",
			 "xattr set on the host (user.host.note) is visible in the guest");
		return;
	}
	n = getxattr(hpath("xattr.txt"), "user.host.note", value, sizeof(value) - 1);
	if (n < 0 && (errno == ENOTSUP || errno == ENOSYS)) {
		tap_skip("the daemon does not support xattrs",
			 "xattr set on the host (user.host.note) is visible in the guest");
		return;
	}
	if (n >= 0)
		value[n] = '\0';
	tap_ok(n == (ssize_t)strlen(HOST_XATTR_VALUE) && strcmp(value, HOST_XATTR_VALUE) == 0,
	       "xattr set on the host (user.host.note) is visible in the guest");
}

static void check_create_write_read(void)
{
	static const char data[] = "hello, virtio-fs\n";
	const char *path = gpath("write.txt");
	struct stat st;
	int fd;

	tap_diag("create, write, read back");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!CHECK_SYS(fd, "create guest/write.txt with O_CREAT|O_EXCL, mode 0644"))
		return;
	if (CHECK_SYS(fstat(fd, &st), "fstat the new file")) {
		tap_ok(S_ISREG(st.st_mode) && st.st_size == 0,
		       "new file is a regular file of size 0");
		CHECK_EQ(st.st_mode & 07777, 0644, "new file has the mode given to open()");
		tap_ok(st.st_uid == 0 && st.st_gid == 0,
		       "new file is owned by the creating user, root (got %u:%u)",
		       st.st_uid, st.st_gid);
	}
	CHECK_EQ(write(fd, data, sizeof(data) - 1), (long)sizeof(data) - 1,
		 "write() of %zu bytes returns %zu", sizeof(data) - 1, sizeof(data) - 1);
	CHECK_SYS(fsync(fd), "fsync the written file");
	CHECK_SYS(close(fd), "close the written file");
	CHECK_ERRNO(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST,
		    "O_CREAT|O_EXCL on an existing file fails with EEXIST");
	check_text(path, data, "read back right after writing gives the same bytes");
	drop_guest_caches();
	check_text(path, data, "read back after dropping the guest's caches gives the same bytes");
	if (CHECK_SYS(stat(path, &st), "stat guest/write.txt"))
		CHECK_EQ(st.st_size, sizeof(data) - 1, "size is the number of bytes written");
}

static void check_append(void)
{
	const char *path = gpath("append.txt");
	struct stat st;
	int fd;

	tap_diag("append");
	CHECK_SYS(put_file(path, "first line\n", 0644), "write guest/append.txt");
	fd = open(path, O_WRONLY | O_APPEND);
	if (!CHECK_SYS(fd, "open guest/append.txt with O_APPEND"))
		return;
	CHECK_SYS(write_all(fd, "second line\n", 12), "append 12 bytes");
	close(fd);
	check_text(path, "first line\nsecond line\n", "appended data follows the original content");
	if (CHECK_SYS(stat(path, &st), "stat guest/append.txt"))
		CHECK_EQ(st.st_size, 23, "size grew by the appended bytes");
}

static void check_truncate(void)
{
	const char *path = gpath("truncate.txt");
	char *want;
	struct stat st;
	int fd;

	tap_diag("truncate: shrink and extend");
	CHECK_SYS(put_file(path, "0123456789abcdef", 0644), "write 16 bytes to guest/truncate.txt");
	if (CHECK_SYS(truncate(path, 10), "truncate() to 10 bytes") &&
	    CHECK_SYS(stat(path, &st), "stat after shrinking"))
		CHECK_EQ(st.st_size, 10, "size after shrinking is 10");
	check_text(path, "0123456789", "shrunk file keeps its first 10 bytes");

	fd = open(path, O_RDWR);
	if (!CHECK_SYS(fd, "open guest/truncate.txt read-write"))
		return;
	if (CHECK_SYS(ftruncate(fd, 8192), "ftruncate() to 8192 bytes") &&
	    CHECK_SYS(fstat(fd, &st), "fstat after extending"))
		CHECK_EQ(st.st_size, 8192, "size after extending is 8192");
	close(fd);
	want = calloc(1, 8192);
	if (!want)
		tap_bail("out of memory");
	memcpy(want, "0123456789", 10);
	drop_guest_caches();
	check_content(path, want, 8192, "extended file keeps its 10 bytes and reads zeros after them");
	free(want);
}

static void check_rename(void)
{
	struct stat before, after;

	tap_diag("rename");
	CHECK_SYS(put_file(gpath("rename-src.txt"), "rename me\n", 0644), "write guest/rename-src.txt");
	CHECK_SYS(stat(gpath("rename-src.txt"), &before), "stat guest/rename-src.txt");
	CHECK_SYS(rename(gpath("rename-src.txt"), gpath("renamed.txt")),
		  "rename guest/rename-src.txt to guest/renamed.txt");
	CHECK_ERRNO(stat(gpath("rename-src.txt"), &after), ENOENT, "the old name is gone (ENOENT)");
	if (CHECK_SYS(stat(gpath("renamed.txt"), &after), "stat the new name"))
		CHECK_EQ(after.st_ino, before.st_ino, "the new name is the same inode");
	check_text(gpath("renamed.txt"), "rename me\n", "renamed file keeps its content");

	CHECK_SYS(put_file(gpath("victim.txt"), "old content\n", 0644), "write guest/victim.txt");
	CHECK_SYS(put_file(gpath("replacement.txt"), "new content\n", 0644),
		  "write guest/replacement.txt");
	CHECK_SYS(stat(gpath("replacement.txt"), &before), "stat guest/replacement.txt");
	CHECK_SYS(rename(gpath("replacement.txt"), gpath("victim.txt")),
		  "rename guest/replacement.txt over the existing guest/victim.txt");
	CHECK_ERRNO(stat(gpath("replacement.txt"), &after), ENOENT,
		    "the replacement's old name is gone (ENOENT)");
	if (CHECK_SYS(stat(gpath("victim.txt"), &after), "stat guest/victim.txt"))
		CHECK_EQ(after.st_ino, before.st_ino, "guest/victim.txt is now the replacement's inode");
	check_text(gpath("victim.txt"), "new content\n", "guest/victim.txt has the replacement's content");

	CHECK_SYS(mkdir(gpath("dir-a"), 0755), "mkdir guest/dir-a");
	CHECK_SYS(put_file(gpath("dir-a/inside.txt"), "inside\n", 0644), "write guest/dir-a/inside.txt");
	CHECK_SYS(rename(gpath("dir-a"), gpath("dir-b")), "rename directory guest/dir-a to guest/dir-b");
	CHECK_ERRNO(stat(gpath("dir-a"), &after), ENOENT, "the old directory name is gone (ENOENT)");
	check_text(gpath("dir-b/inside.txt"), "inside\n", "a file in the renamed directory is reachable under the new name");
}

static void check_hard_links(void)
{
	struct stat a, b;
	int fd;

	tap_diag("hard links");
	CHECK_SYS(put_file(gpath("link-target.txt"), "linked\n", 0644), "write guest/link-target.txt");
	if (!CHECK_SYS(link(gpath("link-target.txt"), gpath("link-name.txt")),
		       "link guest/link-target.txt to guest/link-name.txt"))
		return;
	if (CHECK_SYS(stat(gpath("link-target.txt"), &a), "stat the first name") &&
	    CHECK_SYS(stat(gpath("link-name.txt"), &b), "stat the second name")) {
		CHECK_EQ(a.st_nlink, 2, "link count of the first name is 2");
		CHECK_EQ(b.st_nlink, 2, "link count of the second name is 2");
		CHECK_EQ(a.st_ino, b.st_ino, "both names are the same inode");
	}
	fd = open(gpath("link-name.txt"), O_WRONLY | O_APPEND);
	CHECK_SYS(fd >= 0 ? write_all(fd, "more\n", 5) : -1, "append through the second name");
	if (fd >= 0)
		close(fd);
	check_text(gpath("link-target.txt"), "linked\nmore\n",
		   "data written through one name is read through the other");
	CHECK_ERRNO(link(gpath("link-target.txt"), gpath("link-name.txt")), EEXIST,
		    "link to an existing name fails with EEXIST");

	CHECK_SYS(put_file(gpath("link-tmp-a"), "tmp\n", 0644), "write guest/link-tmp-a");
	CHECK_SYS(link(gpath("link-tmp-a"), gpath("link-tmp-b")), "link guest/link-tmp-a to guest/link-tmp-b");
	CHECK_SYS(unlink(gpath("link-tmp-b")), "unlink guest/link-tmp-b");
	if (CHECK_SYS(stat(gpath("link-tmp-a"), &a), "stat guest/link-tmp-a"))
		CHECK_EQ(a.st_nlink, 1, "unlinking one of two names drops the link count to 1");
}

static void check_symlinks(void)
{
	char target[PATH_MAX];
	struct stat st, via;
	ssize_t n;

	tap_diag("symbolic links");
	if (!CHECK_SYS(symlink("write.txt", gpath("symlink")), "symlink guest/symlink -> write.txt"))
		return;
	n = readlink(gpath("symlink"), target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	tap_ok(n == 9 && strcmp(target, "write.txt") == 0,
	       "readlink guest/symlink returns \"write.txt\"");
	if (CHECK_SYS(lstat(gpath("symlink"), &st), "lstat guest/symlink")) {
		tap_ok(S_ISLNK(st.st_mode), "lstat reports a symbolic link");
		CHECK_EQ(st.st_size, 9, "lstat size is the target's length");
	}
	if (CHECK_SYS(stat(gpath("symlink"), &via), "stat through guest/symlink") &&
	    stat(gpath("write.txt"), &st) == 0)
		CHECK_EQ(via.st_ino, st.st_ino, "stat through the link reaches guest/write.txt");
	check_text(gpath("symlink"), "hello, virtio-fs\n", "reading through the link gives the target's content");

	CHECK_SYS(symlink("does-not-exist", gpath("dangling")), "symlink guest/dangling -> does-not-exist");
	CHECK_ERRNO(stat(gpath("dangling"), &st), ENOENT, "stat through a dangling link fails with ENOENT");
	CHECK_SYS(lstat(gpath("dangling"), &st), "lstat of the dangling link itself works");
}

static void check_dirs(void)
{
	struct stat st;

	tap_diag("mkdir and rmdir");
	if (!CHECK_SYS(mkdir(gpath("tmp-dir"), 0755), "mkdir guest/tmp-dir"))
		return;
	if (CHECK_SYS(stat(gpath("tmp-dir"), &st), "stat guest/tmp-dir"))
		tap_ok(S_ISDIR(st.st_mode), "guest/tmp-dir is a directory");
	CHECK_ERRNO(mkdir(gpath("tmp-dir"), 0755), EEXIST, "mkdir of an existing name fails with EEXIST");
	CHECK_SYS(put_file(gpath("tmp-dir/file"), "x", 0644), "create a file in guest/tmp-dir");
	CHECK_ERRNO(rmdir(gpath("tmp-dir")), ENOTEMPTY, "rmdir of a non-empty directory fails with ENOTEMPTY");
	CHECK_ERRNO(unlink(gpath("tmp-dir")), EISDIR, "unlink of a directory fails with EISDIR");
	CHECK_SYS(unlink(gpath("tmp-dir/file")), "unlink the file in guest/tmp-dir");
	CHECK_SYS(rmdir(gpath("tmp-dir")), "rmdir the now empty guest/tmp-dir");
	CHECK_ERRNO(stat(gpath("tmp-dir"), &st), ENOENT, "the removed directory is gone (ENOENT)");
	CHECK_ERRNO(rmdir(gpath("write.txt")), ENOTDIR, "rmdir of a regular file fails with ENOTDIR");

	CHECK_SYS(mkdir(gpath("kept-dir"), 0750), "mkdir guest/kept-dir with mode 0750");
	CHECK_SYS(mkdir(gpath("kept-dir/sub"), 0700), "mkdir guest/kept-dir/sub with mode 0700");
	if (CHECK_SYS(stat(gpath("kept-dir"), &st), "stat guest/kept-dir"))
		CHECK_EQ(st.st_mode & 07777, 0750, "guest/kept-dir has mode 0750");
	if (CHECK_SYS(stat(gpath("kept-dir/sub"), &st), "stat guest/kept-dir/sub"))
		CHECK_EQ(st.st_mode & 07777, 0700, "guest/kept-dir/sub has mode 0700");
}

struct scan {
	unsigned char seen[MANY_ENTRIES];
	int dot, dotdot, duplicates, strangers, not_regular, total;
};

static void scan_name(struct scan *sc, const char *name, unsigned char type)
{
	char *end;
	long i;

	sc->total++;
	if (strcmp(name, ".") == 0) {
		sc->dot++;
		return;
	}
	if (strcmp(name, "..") == 0) {
		sc->dotdot++;
		return;
	}
	if (strncmp(name, "entry-", 6) != 0 || strlen(name) != 10) {
		sc->strangers++;
		return;
	}
	i = strtol(name + 6, &end, 10);
	if (*end || i < 0 || i >= MANY_ENTRIES) {
		sc->strangers++;
		return;
	}
	if (sc->seen[i]++)
		sc->duplicates++;
	if (type != DT_REG)
		sc->not_regular++;
}

static void report_scan(const struct scan *sc, const char *how)
{
	int missing = 0, i;

	for (i = 0; i < MANY_ENTRIES; i++)
		if (!sc->seen[i])
			missing++;
	if (missing || sc->duplicates || sc->strangers || sc->dot != 1 || sc->dotdot != 1)
		tap_diag("%s: %d names, %d missing, %d duplicated, %d unexpected, '.' %d times, '..' %d times",
			 how, sc->total, missing, sc->duplicates, sc->strangers, sc->dot, sc->dotdot);
	tap_ok(!missing && !sc->duplicates && !sc->strangers && sc->dot == 1 && sc->dotdot == 1,
	       "%s lists all %d entries exactly once, plus . and ..", how, MANY_ENTRIES);
}

/* Lists @dir with getdents64 and a small buffer, so one listing takes many calls. */
static void scan_getdents(const char *dir, size_t bufsize, struct scan *sc, int *calls)
{
	char *buf = malloc(bufsize);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	*calls = 0;
	if (!buf || fd < 0) {
		tap_diag("open %s: %s", dir, strerror(errno));
		goto out;
	}
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, bufsize);
		long pos;

		if (n < 0) {
			tap_diag("getdents64 on %s: %s", dir, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		++*calls;
		for (pos = 0; pos < n;) {
			/* struct linux_dirent64: ino, off, reclen, type, name */
			const char *rec = buf + pos;
			unsigned short reclen;

			memcpy(&reclen, rec + 16, sizeof(reclen));
			scan_name(sc, rec + 19, (unsigned char)rec[18]);
			pos += reclen;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

static void check_many_entries(void)
{
	const char *dir = gpath("many");
	struct scan sc;
	struct dirent *de;
	int created = 0, i, calls;
	DIR *d;

	tap_diag("a directory of %d entries", MANY_ENTRIES);
	if (!CHECK_SYS(mkdir(dir, 0755), "mkdir guest/many"))
		return;
	for (i = 0; i < MANY_ENTRIES; i++) {
		char name[PATH_MAX];
		int fd;

		snprintf(name, sizeof(name), "%s/entry-%04d", dir, i);
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0) {
			tap_diag("create %s: %s", name, strerror(errno));
			break;
		}
		close(fd);
		created++;
	}
	CHECK_EQ(created, MANY_ENTRIES, "created %d files guest/many/entry-0000 .. entry-%04d",
		 MANY_ENTRIES, MANY_ENTRIES - 1);

	drop_guest_caches();
	memset(&sc, 0, sizeof(sc));
	d = opendir(dir);
	while (d && (de = readdir(d)))
		scan_name(&sc, de->d_name, de->d_type);
	report_scan(&sc, "readdir()");
	tap_ok(sc.not_regular == 0,
	       "readdir() reports d_type DT_REG for every file (%d did not)", sc.not_regular);
	if (d) {
		memset(&sc, 0, sizeof(sc));
		rewinddir(d);
		while ((de = readdir(d)))
			scan_name(&sc, de->d_name, de->d_type);
		report_scan(&sc, "readdir() after rewinddir()");
		closedir(d);
	}

	memset(&sc, 0, sizeof(sc));
	scan_getdents(dir, 512, &sc, &calls);
	tap_diag("getdents64 with a 512-byte buffer took %d calls", calls);
	report_scan(&sc, "getdents64() with a 512-byte buffer (many continued reads)");
}

static void check_permissions(void)
{
	const char *path = gpath("perm.txt");
	struct stat st;
	int fd;

	tap_diag("chmod and chown");
	CHECK_SYS(put_file(path, "permissions\n", 0644), "write guest/perm.txt");
	CHECK_SYS(chmod(path, 0600), "chmod guest/perm.txt 0600");
	if (CHECK_SYS(stat(path, &st), "stat guest/perm.txt"))
		CHECK_EQ(st.st_mode & 07777, 0600, "mode is 0600 after chmod");
	fd = open(path, O_RDONLY);
	if (CHECK_SYS(fd, "open guest/perm.txt")) {
		CHECK_SYS(fchmod(fd, 0751), "fchmod 0751");
		if (CHECK_SYS(fstat(fd, &st), "fstat guest/perm.txt"))
			CHECK_EQ(st.st_mode & 07777, 0751, "mode is 0751 after fchmod");
	}
	CHECK_SYS(chown(path, 1234, 5678), "chown guest/perm.txt 1234:5678");
	if (CHECK_SYS(stat(path, &st), "stat guest/perm.txt"))
		tap_ok(st.st_uid == 1234 && st.st_gid == 5678,
		       "owner is 1234:5678 after chown (got %u:%u)", st.st_uid, st.st_gid);
	if (fd >= 0) {
		CHECK_SYS(fchown(fd, (uid_t)-1, 4321), "fchown group only, to 4321");
		if (CHECK_SYS(fstat(fd, &st), "fstat guest/perm.txt"))
			tap_ok(st.st_uid == 1234 && st.st_gid == 4321,
			       "owner is 1234:4321 after fchown (got %u:%u)", st.st_uid, st.st_gid);
		close(fd);
	}
	if (stat(path, &st) == 0)
		CHECK_EQ(st.st_mode & 07777, 0751, "mode is still 0751 after chown");

	CHECK_SYS(symlink("perm.txt", gpath("symlink-owned")), "symlink guest/symlink-owned -> perm.txt");
	CHECK_SYS(lchown(gpath("symlink-owned"), 1111, 2222), "lchown guest/symlink-owned 1111:2222");
	if (CHECK_SYS(lstat(gpath("symlink-owned"), &st), "lstat guest/symlink-owned"))
		tap_ok(st.st_uid == 1111 && st.st_gid == 2222,
		       "the link itself is owned by 1111:2222 (got %u:%u)", st.st_uid, st.st_gid);
	if (stat(path, &st) == 0)
		tap_ok(st.st_uid == 1234 && st.st_gid == 4321,
		       "lchown left the link's target alone (got %u:%u)", st.st_uid, st.st_gid);

	tap_diag("timestamps");
	CHECK_SYS(put_file(gpath("mtime.txt"), "old\n", 0644), "write guest/mtime.txt");
	{
		struct timespec ts[2] = {
			{ .tv_sec = 1000000000, .tv_nsec = 0 },
			{ .tv_sec = 1234567890, .tv_nsec = 0 },
		};

		CHECK_SYS(utimensat(AT_FDCWD, gpath("mtime.txt"), ts, 0),
			  "utimensat guest/mtime.txt: atime 1000000000, mtime 1234567890");
	}
	if (CHECK_SYS(stat(gpath("mtime.txt"), &st), "stat guest/mtime.txt")) {
		CHECK_EQ(st.st_mtime, 1234567890, "mtime is the one set");
		CHECK_EQ(st.st_atime, 1000000000, "atime is the one set");
	}
}

static bool list_has(const char *list, ssize_t len, const char *name)
{
	ssize_t pos = 0;

	while (pos < len) {
		if (strcmp(list + pos, name) == 0)
			return true;
		pos += (ssize_t)strlen(list + pos) + 1;
	}
	return false;
}

static void check_xattrs(void)
{
	static const char binary[] = { 0x00, 0x01, 0x02, (char)0xff };
	const char *path = gpath("xattr.txt");
	char value[256], list[4096];
	ssize_t n;
	int r, err;

	tap_diag("extended attributes (user.*)");
	CHECK_SYS(put_file(path, "xattrs\n", 0644), "write guest/xattr.txt");
	r = setxattr(path, "user.vfs.test", "value-1", 7, XATTR_CREATE);
	err = errno;
	if (r < 0 && (err == ENOTSUP || err == ENOSYS)) {
		tap_skip("the daemon does not support xattrs (setxattr: ENOTSUP)",
			 "xattrs: set, get, list, replace, remove user.* attributes");
		tap_diag("xattrs are not supported by this daemon; the host will skip them too");
		put_file(gpath("xattr-unsupported"), "setxattr failed with ENOTSUP\n", 0644);
		return;
	}
	if (!check_sys_(r, err, "setxattr user.vfs.test = \"value-1\" (XATTR_CREATE)"))
		return;
	n = getxattr(path, "user.vfs.test", NULL, 0);
	CHECK_EQ(n, 7, "getxattr with size 0 reports the value's length");
	n = getxattr(path, "user.vfs.test", value, sizeof(value));
	tap_ok(n == 7 && memcmp(value, "value-1", 7) == 0, "getxattr user.vfs.test returns \"value-1\"");
	CHECK_ERRNO(getxattr(path, "user.vfs.test", value, 3), ERANGE,
		    "getxattr into a too small buffer fails with ERANGE");
	n = listxattr(path, list, sizeof(list));
	tap_ok(n > 0 && list_has(list, n, "user.vfs.test"), "listxattr includes user.vfs.test");
	CHECK_ERRNO(setxattr(path, "user.vfs.test", "again", 5, XATTR_CREATE), EEXIST,
		    "setxattr XATTR_CREATE on an existing name fails with EEXIST");
	CHECK_SYS(setxattr(path, "user.vfs.test", "value-2", 7, XATTR_REPLACE),
		  "setxattr XATTR_REPLACE user.vfs.test = \"value-2\"");
	n = getxattr(path, "user.vfs.test", value, sizeof(value));
	tap_ok(n == 7 && memcmp(value, "value-2", 7) == 0, "getxattr returns the replaced value \"value-2\"");
	CHECK_SYS(removexattr(path, "user.vfs.test"), "removexattr user.vfs.test");
	CHECK_ERRNO(getxattr(path, "user.vfs.test", value, sizeof(value)), ENODATA,
		    "getxattr of the removed name fails with ENODATA");
	n = listxattr(path, list, sizeof(list));
	tap_ok(n >= 0 && !list_has(list, n, "user.vfs.test"), "listxattr no longer includes user.vfs.test");
	CHECK_ERRNO(setxattr(path, "user.vfs.none", "x", 1, XATTR_REPLACE), ENODATA,
		    "setxattr XATTR_REPLACE on a missing name fails with ENODATA");
	CHECK_SYS(setxattr(path, "user.vfs.kept", "kept-value", 10, 0),
		  "setxattr user.vfs.kept = \"kept-value\" (left for the host)");
	CHECK_SYS(setxattr(path, "user.vfs.binary", binary, sizeof(binary), 0),
		  "setxattr user.vfs.binary = 00 01 02 ff (left for the host)");
	n = getxattr(path, "user.vfs.binary", value, sizeof(value));
	tap_ok(n == 4 && memcmp(value, binary, 4) == 0, "a binary value with a NUL byte reads back exactly");
	n = listxattr(path, list, sizeof(list));
	tap_ok(n > 0 && list_has(list, n, "user.vfs.kept") && list_has(list, n, "user.vfs.binary"),
	       "listxattr includes user.vfs.kept and user.vfs.binary");
}

/* The big file's content: splitmix64 of each 8-byte word's index. */
static void fill_pattern(uint64_t *words, uint64_t first_index, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		uint64_t z = (first_index + i + 1) * 0x9e3779b97f4a7c15ull;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		words[i] = z ^ (z >> 31);
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_big_file(void)
{
	const char *path = gpath("big.bin");
	char written[SHA256_HEX_SIZE], readback[SHA256_HEX_SIZE], line[128];
	uint64_t *chunk = malloc(BIG_CHUNK), *expect = malloc(BIG_CHUNK);
	unsigned long long off, total = 0, first_bad = ~0ull;
	struct sha256 s;
	struct stat st;
	double t0, t1;
	int fd, r = 0;

	tap_diag("a %llu MiB file with known content", BIG_SIZE >> 20);
	if (!chunk || !expect)
		tap_bail("out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (!CHECK_SYS(fd, "create guest/big.bin"))
		goto out;
	sha256_init(&s);
	t0 = now();
	for (off = 0; off < BIG_SIZE && r == 0; off += BIG_CHUNK) {
		fill_pattern(chunk, off / 8, BIG_CHUNK / 8);
		sha256_update(&s, chunk, BIG_CHUNK);
		r = write_all(fd, chunk, BIG_CHUNK);
	}
	if (r < 0)
		tap_diag("write at offset %llu: %s", off - BIG_CHUNK, strerror(-r));
	CHECK_SYS(r, "write %llu MiB in 1 MiB writes", BIG_SIZE >> 20);
	CHECK_SYS(fsync(fd), "fsync guest/big.bin");
	CHECK_SYS(close(fd), "close guest/big.bin");
	t1 = now();
	sha256_final_hex(&s, written);
	tap_diag("wrote %llu MiB in %.1f s; SHA-256 of the data written: %s",
		 BIG_SIZE >> 20, t1 - t0, written);
	if (CHECK_SYS(stat(path, &st), "stat guest/big.bin"))
		CHECK_EQ(st.st_size, BIG_SIZE, "guest/big.bin has size %llu", BIG_SIZE);

	drop_guest_caches();
	fd = open(path, O_RDONLY);
	if (!CHECK_SYS(fd, "open guest/big.bin for reading"))
		goto out;
	sha256_init(&s);
	t0 = now();
	for (;;) {
		ssize_t n = read_upto(fd, chunk, BIG_CHUNK);

		if (n < 0) {
			tap_diag("read at offset %llu: %s", total, strerror((int)-n));
			break;
		}
		if (n == 0)
			break;
		sha256_update(&s, chunk, (size_t)n);
		if (first_bad == ~0ull && total < BIG_SIZE) {
			size_t i;

			fill_pattern(expect, total / 8, BIG_CHUNK / 8);
			for (i = 0; i < (size_t)n && total + i < BIG_SIZE; i++)
				if (((char *)chunk)[i] != ((char *)expect)[i]) {
					first_bad = total + i;
					break;
				}
		}
		total += (unsigned long long)n;
	}
	close(fd);
	t1 = now();
	sha256_final_hex(&s, readback);
	tap_diag("read back %llu MiB in %.1f s; SHA-256 of the data read: %s",
		 total >> 20, t1 - t0, readback);
	CHECK_EQ(total, BIG_SIZE, "read back %llu bytes", BIG_SIZE);
	if (first_bad != ~0ull)
		tap_diag("first byte that differs from the pattern: offset %llu", first_bad);
	tap_ok(first_bad == ~0ull, "every byte read back matches the pattern written");
	tap_ok(strcmp(written, readback) == 0, "SHA-256 of the data read equals that of the data written");

	/* For the host: `sha256sum -c big.bin.sha256` in the share's guest/ folder. */
	snprintf(line, sizeof(line), "%s  big.bin\n", written);
	CHECK_SYS(put_file(gpath("big.bin.sha256"), line, 0644),
		  "record the SHA-256 in guest/big.bin.sha256 for the host");
out:
	free(chunk);
	free(expect);
}

static void check_unmount(const char *what)
{
	sync();
	if (no_mount) {
		tap_skip("VFS_GUEST_NO_MOUNT is set", "%s", what);
		return;
	}
	if (CHECK_SYS(umount(mnt), "%s", what))
		tap_ok(!is_fuse_mounted(mnt), "after unmounting, %s is no longer a FUSE mount", mnt);
}

static void check_remount(void)
{
	struct stat st;
	struct dirent *de;
	int entries = 0;
	DIR *d;

	tap_diag("remount: what the guest wrote is there after a fresh mount");
	if (no_mount)
		tap_skip("VFS_GUEST_NO_MOUNT is set", "mount -t virtiofs %s %s again", tag, mnt);
	else if (!CHECK_SYS(mount_share(), "mount -t virtiofs %s %s again", tag, mnt))
		return;
	check_text(gpath("write.txt"), "hello, virtio-fs\n", "guest/write.txt has its content after remounting");
	check_text(gpath("victim.txt"), "new content\n", "guest/victim.txt has the renamed-over content after remounting");
	d = opendir(gpath("many"));
	while (d && (de = readdir(d)))
		if (strncmp(de->d_name, "entry-", 6) == 0)
			entries++;
	if (d)
		closedir(d);
	CHECK_EQ(entries, MANY_ENTRIES, "guest/many still lists %d entries after remounting", MANY_ENTRIES);
	if (CHECK_SYS(stat(gpath("big.bin"), &st), "stat guest/big.bin after remounting"))
		CHECK_EQ(st.st_size, BIG_SIZE, "guest/big.bin still has size %llu", BIG_SIZE);
	if (CHECK_SYS(stat(gpath("perm.txt"), &st), "stat guest/perm.txt after remounting"))
		tap_ok((st.st_mode & 07777) == 0751 && st.st_uid == 1234 && st.st_gid == 4321,
		       "guest/perm.txt keeps mode 0751 and owner 1234:4321 after remounting");
	check_unmount("unmount again");
}

static void sha256_self_test(void)
{
	struct sha256 s;
	char hex[SHA256_HEX_SIZE];

	sha256_init(&s);
	sha256_update(&s, "abc", 3);
	sha256_final_hex(&s, hex);
	tap_ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	       "the checker's SHA-256 gives the FIPS 180-4 result for \"abc\"");
}

int main(void)
{
	struct stat st;

	tap_init();
	umask(0);
	if (chdir("/") < 0)
		tap_bail("chdir /: %s", strerror(errno));
	tag = getenv("VFS_GUEST_TAG");
	mnt = getenv("VFS_GUEST_MNT");
	if (!tag || !*tag)
		tag = "myfs";
	if (!mnt || !*mnt)
		mnt = "/mnt";
	no_mount = getenv("VFS_GUEST_NO_MOUNT") && strcmp(getenv("VFS_GUEST_NO_MOUNT"), "1") == 0;
	tap_diag("foundation checks on virtio-fs tag '%s' mounted at %s", tag, mnt);

	sha256_self_test();
	check_mount();
	check_host_files();

	if (!CHECK_SYS(mkdir(gpath(NULL), 0755), "mkdir %s/guest for the guest's files", mnt))
		tap_bail("cannot create the guest's working directory");
	if (stat(gpath(NULL), &st) == 0)
		CHECK_EQ(st.st_mode & 07777, 0755, "guest/ has mode 0755");
	check_create_write_read();
	check_append();
	check_truncate();
	check_rename();
	check_hard_links();
	check_symlinks();
	check_dirs();
	check_many_entries();
	check_permissions();
	check_xattrs();
	check_big_file();

	tap_diag("unmount");
	check_unmount("unmount");
	check_remount();
	return tap_done();
}

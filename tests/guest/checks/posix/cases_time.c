/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Timestamps: which calls mark st_atime, st_mtime, st_ctime of the file and
 * of its parent directories, and utimensat's UTIME_NOW / UTIME_OMIT.
 *
 * "Moved to now" is checked against an old time set beforehand (2001), so
 * no case has to wait for the clock; only ctime, which cannot be set, needs
 * a short sleep between the snapshot and the call.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "posix.h"

/* Long enough for the coarse clocks of file systems to tick. */
#define TICK_MS 30

/* Anything after 2005 is "now" compared with OLD_TIME (2001). */
#define IS_NOW(ts) ((ts).tv_sec > OLD_TIME + 100000000)

#define CHECK_NOW(st, field)						\
	CHECK(IS_NOW((st).field), "%s is %lld: not moved to now", #field, \
	      (long long)(st).field.tv_sec)

#define CHECK_OLD(st, field, sec)					\
	CHECK((st).field.tv_sec == (sec) && (st).field.tv_nsec == 0,	\
	      "%s moved from %lld to %lld.%09ld", #field, (long long)(sec), \
	      (long long)(st).field.tv_sec, (st).field.tv_nsec)

#define CHECK_LATER(after, before, field)				\
	CHECK(ts_cmp(&(after).field, &(before).field) > 0,		\
	      "%s did not move forward (%lld.%09ld, before %lld.%09ld)", #field, \
	      (long long)(after).field.tv_sec, (after).field.tv_nsec,	\
	      (long long)(before).field.tv_sec, (before).field.tv_nsec)

#define CHECK_SAME(after, before, field)				\
	CHECK(ts_cmp(&(after).field, &(before).field) == 0,		\
	      "%s changed (%lld.%09ld, before %lld.%09ld)", #field,	\
	      (long long)(after).field.tv_sec, (after).field.tv_nsec,	\
	      (long long)(before).field.tv_sec, (before).field.tv_nsec)

/* Sets @path's times to OLD_TIME, snapshots it into @st, waits a tick. */
static int age(const char *path, struct stat *st)
{
	if (set_times(path, OLD_TIME, OLD_TIME) < 0 || lstat(path, st) < 0)
		return -1;
	sleep_ms(TICK_MS);
	return 0;
}

static int write_marks(void)
{
	struct stat a, b;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_WRONLY));
	SYS(age("f", &a));
	SYS(write(fd, "x", 1));
	SYS(close(fd));
	SYS(stat("f", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	CHECK_OLD(b, st_atim, OLD_TIME);
	return PC_PASS;
}

static int write_fstat(void)
{
	struct stat a, b;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDWR));
	SYS(age("f", &a));
	SYS(pwrite(fd, "x", 1, 10));
	/* The writer's own fstat, before close, sees the new times. */
	SYS(fstat(fd, &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	SYS(close(fd));
	return PC_PASS;
}

static int write_parent_untouched(void)
{
	struct stat a, b;
	int fd;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "data"));
	fd = SYS(open("d/f", O_WRONLY));
	SYS(age("d", &a));
	SYS(write(fd, "xy", 2));
	SYS(close(fd));
	SYS(stat("d", &b));
	CHECK_OLD(b, st_mtim, OLD_TIME);
	CHECK_SAME(b, a, st_ctim);
	return PC_PASS;
}

static int truncate_marks(void)
{
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	SYS(truncate("f", 2));
	SYS(stat("f", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int ftruncate_marks(void)
{
	struct stat a, b;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_WRONLY));
	SYS(age("f", &a));
	SYS(ftruncate(fd, 100));
	SYS(fstat(fd, &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	SYS(close(fd));
	return PC_PASS;
}

static int otrunc_marks(void)
{
	struct stat a, b;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	fd = SYS(open("f", O_WRONLY | O_TRUNC));
	SYS(close(fd));
	SYS(stat("f", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int otrunc_empty_marks(void)
{
	struct stat a, b;
	int fd;

	SYS(mkfile("f", 0644, NULL));
	SYS(age("f", &a));
	/* POSIX: O_TRUNC on an existing file marks both, even if it was empty. */
	fd = SYS(open("f", O_WRONLY | O_TRUNC));
	SYS(close(fd));
	SYS(stat("f", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int chmod_marks(void)
{
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	SYS(chmod("f", 0600));
	SYS(stat("f", &b));
	CHECK_LATER(b, a, st_ctim);
	CHECK_OLD(b, st_mtim, OLD_TIME);
	CHECK_OLD(b, st_atim, OLD_TIME);
	return PC_PASS;
}

static int chown_marks(void)
{
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	SYS(chown("f", U_OWNER, G_OWNER));
	SYS(stat("f", &b));
	CHECK_LATER(b, a, st_ctim);
	CHECK_OLD(b, st_mtim, OLD_TIME);
	return PC_PASS;
}

static int link_marks(void)
{
	struct stat fa, fb, da, db;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &fa));
	SYS(age("d", &da));
	SYS(link("f", "d/l"));
	SYS(stat("f", &fb));
	SYS(stat("d", &db));
	CHECK_LATER(fb, fa, st_ctim);
	CHECK_OLD(fb, st_mtim, OLD_TIME);
	CHECK_NOW(db, st_mtim);
	CHECK_LATER(db, da, st_ctim);
	return PC_PASS;
}

static int unlink_marks(void)
{
	struct stat fa, fb, da, db;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "data"));
	SYS(link("d/f", "g"));
	SYS(age("g", &fa));
	SYS(age("d", &da));
	SYS(unlink("d/f"));
	SYS(stat("g", &fb));
	SYS(stat("d", &db));
	CHECK_NOW(db, st_mtim);
	CHECK_LATER(db, da, st_ctim);
	CHECK_LATER(fb, fa, st_ctim);
	CHECK_OLD(fb, st_mtim, OLD_TIME);
	return PC_PASS;
}

static int create_marks(void)
{
	struct stat da, db, f;

	SYS(mkdirm("d", 0755));
	SYS(age("d", &da));
	SYS(mkfile("d/f", 0644, NULL));
	SYS(stat("d", &db));
	SYS(stat("d/f", &f));
	CHECK_NOW(db, st_mtim);
	CHECK_LATER(db, da, st_ctim);
	CHECK_NOW(f, st_mtim);
	CHECK_NOW(f, st_atim);
	CHECK_NOW(f, st_ctim);
	return PC_PASS;
}

static int new_file_times_equal(void)
{
	struct stat f;
	int fd;

	fd = SYS(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644));
	SYS(fstat(fd, &f));
	SYS(close(fd));
	/* One instant marks all three on creation. */
	CHECK(ts_cmp(&f.st_atim, &f.st_mtim) == 0 && ts_cmp(&f.st_ctim, &f.st_mtim) == 0,
	      "atime %lld.%09ld, mtime %lld.%09ld, ctime %lld.%09ld differ",
	      (long long)f.st_atim.tv_sec, f.st_atim.tv_nsec,
	      (long long)f.st_mtim.tv_sec, f.st_mtim.tv_nsec,
	      (long long)f.st_ctim.tv_sec, f.st_ctim.tv_nsec);
	return PC_PASS;
}

static int mkdir_rmdir_marks(void)
{
	struct stat a, b;

	SYS(mkdirm("d", 0755));
	SYS(age("d", &a));
	SYS(mkdir("d/sub", 0755));
	SYS(stat("d", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	SYS(age("d", &a));
	SYS(rmdir("d/sub"));
	SYS(stat("d", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int symlink_marks(void)
{
	struct stat a, b;

	SYS(mkdirm("d", 0755));
	SYS(age("d", &a));
	SYS(symlink("target", "d/l"));
	SYS(stat("d", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int rename_marks(void)
{
	struct stat p1a, p1b, p2a, p2b, fa, fb;

	SYS(mkdirm("p1", 0755));
	SYS(mkdirm("p2", 0755));
	SYS(mkfile("p1/f", 0644, "data"));
	SYS(age("p1/f", &fa));
	SYS(age("p1", &p1a));
	SYS(age("p2", &p2a));
	SYS(rename("p1/f", "p2/f"));
	SYS(stat("p1", &p1b));
	SYS(stat("p2", &p2b));
	SYS(stat("p2/f", &fb));
	CHECK_NOW(p1b, st_mtim);
	CHECK_LATER(p1b, p1a, st_ctim);
	CHECK_NOW(p2b, st_mtim);
	CHECK_LATER(p2b, p2a, st_ctim);
	CHECK_OLD(fb, st_mtim, OLD_TIME);
	return PC_PASS;
}

static int rename_ctime(void)
{
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	SYS(rename("f", "g"));
	SYS(stat("g", &b));
	/* Linux file systems mark the moved inode's ctime (POSIX allows it). */
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int rename_same_dir_marks(void)
{
	struct stat a, b;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "data"));
	SYS(age("d", &a));
	SYS(rename("d/f", "d/g"));
	SYS(stat("d", &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int read_atime(void)
{
	struct stat b;
	char c;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	/* atime before mtime: relatime updates it on the next read. */
	SYS(set_times("f", OLD_TIME, OLD_TIME + 10));
	fd = SYS(open("f", O_RDONLY));
	SYS(read(fd, &c, 1));
	SYS(close(fd));
	SYS(stat("f", &b));
	CHECK_NOW(b, st_atim);
	CHECK_OLD(b, st_mtim, OLD_TIME + 10);
	return PC_PASS;
}

static int read_atime_after_cached_read(void)
{
	struct stat b;
	char c;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDONLY));
	SYS(pread(fd, &c, 1, 0));
	/* The data is cached now; the next read must still mark atime. */
	SYS(set_times("f", OLD_TIME, OLD_TIME + 10));
	SYS(pread(fd, &c, 1, 0));
	SYS(close(fd));
	SYS(stat("f", &b));
	CHECK_NOW(b, st_atim);
	return PC_PASS;
}

static int readdir_atime(void)
{
	struct stat b;
	char buf[4096];
	int fd;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, NULL));
	SYS(set_times("d", OLD_TIME, OLD_TIME + 10));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	SYS(getdents64(fd, buf, sizeof(buf)));
	SYS(close(fd));
	SYS(stat("d", &b));
	CHECK_NOW(b, st_atim);
	return PC_PASS;
}

static int write_no_atime(void)
{
	struct stat b;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_WRONLY));
	SYS(set_times("f", OLD_TIME, OLD_TIME));
	SYS(write(fd, "x", 1));
	SYS(close(fd));
	SYS(stat("f", &b));
	CHECK_OLD(b, st_atim, OLD_TIME);
	return PC_PASS;
}

static int utimensat_now(void)
{
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct stat b;
	time_t now = time(NULL);

	SYS(mkfile("f", 0644, "data"));
	SYS(set_times("f", OLD_TIME, OLD_TIME));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	/* The host's clock sets them; allow for clocks a little apart. */
	CHECK(b.st_mtime >= now - 60 && b.st_mtime <= now + 60,
	      "mtime %lld, local clock %lld", (long long)b.st_mtime, (long long)now);
	CHECK(ts_cmp(&b.st_atim, &b.st_mtim) == 0, "UTIME_NOW gave atime != mtime");
	return PC_PASS;
}

static int utimensat_omit(void)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { OLD_TIME + 5, 500 } };
	struct stat b;

	SYS(mkfile("f", 0644, "data"));
	SYS(set_times("f", OLD_TIME, OLD_TIME));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK_OLD(b, st_atim, OLD_TIME);
	CHECK(b.st_mtim.tv_sec == OLD_TIME + 5 && b.st_mtim.tv_nsec == 500,
	      "mtime %lld.%09ld", (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
	return PC_PASS;
}

static int utimensat_omit_now(void)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	struct stat b;

	SYS(mkfile("f", 0644, "data"));
	SYS(set_times("f", OLD_TIME, OLD_TIME));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK_OLD(b, st_atim, OLD_TIME);
	CHECK_NOW(b, st_mtim);
	return PC_PASS;
}

static int utimensat_omit_both(void)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 0, UTIME_OMIT } };
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK_SAME(b, a, st_atim);
	CHECK_SAME(b, a, st_mtim);
	CHECK_SAME(b, a, st_ctim);
	return PC_PASS;
}

static int utimensat_nsec(void)
{
	struct timespec ts[2] = { { OLD_TIME + 1, 123456789 }, { OLD_TIME + 2, 987654321 } };
	struct stat b;

	SYS(mkfile("f", 0644, "data"));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK(ts_cmp(&b.st_atim, &ts[0]) == 0, "atime %lld.%09ld",
	      (long long)b.st_atim.tv_sec, b.st_atim.tv_nsec);
	CHECK(ts_cmp(&b.st_mtim, &ts[1]) == 0, "mtime %lld.%09ld",
	      (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
	return PC_PASS;
}

static int utimensat_ctime(void)
{
	struct timespec ts[2] = { { OLD_TIME, 0 }, { OLD_TIME, 0 } };
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(stat("f", &a));
	sleep_ms(TICK_MS);
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK_LATER(b, a, st_ctim);
	return PC_PASS;
}

static int utimensat_invalid(void)
{
	struct timespec ts[2] = { { 0, 1000000000 }, { 0, 0 } };

	SYS(mkfile("f", 0644, "data"));
	ERRNO(utimensat(AT_FDCWD, "f", ts, 0), EINVAL);
	ERRNO(utimensat(AT_FDCWD, "f", NULL, 0x4000), EINVAL);
	return PC_PASS;
}

static int utimensat_symlink(void)
{
	struct timespec ts[2] = { { OLD_TIME + 3, 0 }, { OLD_TIME + 4, 0 } };
	struct stat l, t;

	SYS(mkfile("t", 0644, "data"));
	SYS(symlink("t", "l"));
	SYS(utimensat(AT_FDCWD, "l", ts, AT_SYMLINK_NOFOLLOW));
	SYS(lstat("l", &l));
	SYS(stat("t", &t));
	CHECK_EQ(l.st_mtime, OLD_TIME + 4);
	CHECK(t.st_mtime != OLD_TIME + 4, "the target's mtime changed too");
	return PC_PASS;
}

static int futimens_fd(void)
{
	struct timespec ts[2] = { { OLD_TIME + 7, 0 }, { OLD_TIME + 8, 0 } };
	struct stat b;
	int fd;

	SYS(mkfile("f", 0444, "data"));
	fd = SYS(open("f", O_RDONLY));
	SYS(futimens(fd, ts));
	SYS(fstat(fd, &b));
	CHECK_EQ(b.st_atime, OLD_TIME + 7);
	CHECK_EQ(b.st_mtime, OLD_TIME + 8);
	SYS(close(fd));
	return PC_PASS;
}

static int times_pre_epoch(void)
{
	struct timespec ts[2] = { { -1000000, 0 }, { -86400 * 365, 5 } };
	struct stat b;

	SYS(mkfile("f", 0644, "data"));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK_EQ(b.st_atime, -1000000);
	CHECK_EQ(b.st_mtime, -86400 * 365);
	return PC_PASS;
}

static int times_y2038(void)
{
	struct timespec ts[2] = { { (time_t)1 << 32, 0 }, { ((time_t)1 << 31) + 100, 42 } };
	struct stat b;

	SYS(mkfile("f", 0644, "data"));
	SYS(utimensat(AT_FDCWD, "f", ts, 0));
	SYS(stat("f", &b));
	CHECK_EQ(b.st_atime, (time_t)1 << 32);
	CHECK_EQ(b.st_mtime, ((time_t)1 << 31) + 100);
	return PC_PASS;
}

static int xattr_ctime(void)
{
	struct stat a, b;

	SYS(mkfile("f", 0644, "data"));
	SYS(age("f", &a));
	if (setxattr("f", "user.t", "v", 1, 0) < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
		return pc_skip("no user xattrs here (%s)", strerrorname_np(errno));
	SYS(getxattr("f", "user.t", NULL, 0));
	SYS(stat("f", &b));
	CHECK_LATER(b, a, st_ctim);
	CHECK_OLD(b, st_mtim, OLD_TIME);
	return PC_PASS;
}

static int mmap_mtime(void)
{
	struct stat a, b;
	char *m;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDWR));
	SYS(age("f", &a));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	m[0] = 'D';
	SYS(msync(m, 4096, MS_SYNC));
	SYS(munmap(m, 4096));
	SYS(fstat(fd, &b));
	CHECK_NOW(b, st_mtim);
	CHECK_LATER(b, a, st_ctim);
	SYS(close(fd));
	return PC_PASS;
}

const struct pc_case pc_cases_time[] = {
	{ "time.write", "write marks mtime and ctime, not atime", write_marks },
	{ "time.write_fstat", "the writer's fstat sees the new mtime and ctime before close", write_fstat },
	{ "time.write_parent", "writing a file leaves its directory's times alone", write_parent_untouched },
	{ "time.truncate", "truncate marks mtime and ctime", truncate_marks },
	{ "time.ftruncate", "ftruncate marks mtime and ctime", ftruncate_marks },
	{ "time.otrunc", "O_TRUNC of a non-empty file marks mtime and ctime", otrunc_marks },
	{ "time.otrunc_empty", "O_TRUNC of an empty file marks mtime and ctime", otrunc_empty_marks },
	{ "time.chmod", "chmod marks ctime only", chmod_marks },
	{ "time.chown", "chown marks ctime only", chown_marks },
	{ "time.link", "link marks the file's ctime and the directory's mtime and ctime", link_marks },
	{ "time.unlink", "unlink marks the directory's mtime/ctime and the other link's ctime", unlink_marks },
	{ "time.create", "creating marks the directory; the new file's times are now", create_marks },
	{ "time.create_equal", "a new file's atime, mtime and ctime are equal", new_file_times_equal },
	{ "time.mkdir_rmdir", "mkdir and rmdir mark the parent's mtime and ctime", mkdir_rmdir_marks },
	{ "time.symlink", "symlink marks the directory's mtime and ctime", symlink_marks },
	{ "time.rename", "rename marks both parents; the file's mtime stays", rename_marks },
	{ "time.rename_ctime", "rename marks the moved file's ctime (Linux)", rename_ctime },
	{ "time.rename_same_dir", "rename within a directory marks it", rename_same_dir_marks },
	{ "time.read_atime", "read marks atime when it is older than mtime (relatime)", read_atime },
	{ "time.read_atime_cached", "a read served from cache still marks an old atime (relatime)", read_atime_after_cached_read },
	{ "time.readdir_atime", "reading a directory marks its old atime (relatime)", readdir_atime },
	{ "time.write_no_atime", "write does not mark atime", write_no_atime },
	{ "time.utimensat_now", "UTIME_NOW sets atime = mtime = the current time", utimensat_now },
	{ "time.utimensat_omit", "UTIME_OMIT leaves atime while mtime is set exactly", utimensat_omit },
	{ "time.utimensat_omit_now", "UTIME_OMIT atime with UTIME_NOW mtime", utimensat_omit_now },
	{ "time.utimensat_omit_both", "UTIME_OMIT for both changes nothing, not even ctime", utimensat_omit_both },
	{ "time.utimensat_nsec", "explicit times keep their nanoseconds", utimensat_nsec },
	{ "time.utimensat_ctime", "setting times marks ctime", utimensat_ctime },
	{ "time.utimensat_invalid", "tv_nsec out of range or unknown flags: EINVAL", utimensat_invalid },
	{ "time.utimensat_symlink", "AT_SYMLINK_NOFOLLOW sets the link's own times", utimensat_symlink },
	{ "time.futimens", "futimens on a read-only fd of the owner", futimens_fd },
	{ "time.pre_epoch", "times before 1970 round-trip", times_pre_epoch },
	{ "time.y2038", "times after 2038 round-trip", times_y2038 },
	{ "time.xattr_ctime", "setxattr marks ctime, not mtime", xattr_ctime },
	{ "time.mmap", "a store through a shared mapping marks mtime and ctime by msync", mmap_mtime },
	{ NULL, NULL, NULL },
};

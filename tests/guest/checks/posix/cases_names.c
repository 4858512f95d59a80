/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The name space: rename (over files and directories, into itself, same
 * inode, renameat2 flags, across file systems), link counts, the errors of
 * path resolution (ENAMETOOLONG, ELOOP, ENOTDIR, EISDIR, ENOTEMPTY, EEXIST),
 * unlinking open files and directories.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int check_text(const char *path, const char *want)
{
	char buf[256];

	SYS(slurp(path, buf, sizeof(buf)));
	CHECK(strcmp(buf, want) == 0, "%s holds \"%s\", want \"%s\"", path, buf, want);
	return PC_PASS;
}

#define CHECK_TEXT(path, want)						\
	do {								\
		if (check_text((path), (want)) != PC_PASS)		\
			return PC_FAIL;					\
	} while (0)

/* open(@flags, 0644) and close; 0 or -1/errno. */
static int open_close(const char *path, int flags)
{
	int fd = open(path, flags, 0644);

	return fd < 0 ? -1 : close(fd);
}

static nlink_t nlink_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) < 0 ? (nlink_t)-1 : st.st_nlink;
}

/* ---- rename ---- */

static int rename_file_over_file(void)
{
	struct stat a, b;

	SYS(mkfile("a", 0644, "from a"));
	SYS(mkfile("b", 0644, "old b"));
	SYS(stat("a", &a));
	SYS(rename("a", "b"));
	ERRNO(access("a", F_OK), ENOENT);
	SYS(stat("b", &b));
	CHECK_EQ(b.st_ino, a.st_ino);
	CHECK_TEXT("b", "from a");
	return PC_PASS;
}

static int rename_over_linked(void)
{
	SYS(mkfile("a", 0644, "a"));
	SYS(mkfile("b", 0644, "b"));
	SYS(link("b", "c"));
	CHECK_EQ(nlink_of("c"), 2);
	SYS(rename("a", "b"));
	CHECK_EQ(nlink_of("c"), 1);
	CHECK_TEXT("c", "b");
	return PC_PASS;
}

static int rename_dir_over_empty_dir(void)
{
	struct stat a, b;

	SYS(mkdirm("a", 0755));
	SYS(mkfile("a/f", 0644, "x"));
	SYS(mkdirm("b", 0755));
	SYS(stat("a", &a));
	SYS(rename("a", "b"));
	SYS(stat("b", &b));
	CHECK_EQ(b.st_ino, a.st_ino);
	CHECK_TEXT("b/f", "x");
	ERRNO(access("a", F_OK), ENOENT);
	return PC_PASS;
}

static int rename_dir_over_nonempty(void)
{
	SYS(mkdirm("a", 0755));
	SYS(mkdirm("b", 0755));
	SYS(mkfile("b/f", 0644, "x"));
	ERRNO2(rename("a", "b"), ENOTEMPTY, EEXIST);
	SYS(access("a", F_OK));
	SYS(access("b/f", F_OK));
	return PC_PASS;
}

static int rename_file_over_dir(void)
{
	SYS(mkfile("f", 0644, "x"));
	SYS(mkdirm("d", 0755));
	ERRNO(rename("f", "d"), EISDIR);
	return PC_PASS;
}

static int rename_dir_over_file(void)
{
	SYS(mkfile("f", 0644, "x"));
	SYS(mkdirm("d", 0755));
	ERRNO(rename("d", "f"), ENOTDIR);
	return PC_PASS;
}

static int rename_into_own_subdir(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkdirm("d/sub", 0755));
	ERRNO(rename("d", "d/sub/x"), EINVAL);
	ERRNO(rename("d", "d/x"), EINVAL);
	SYS(access("d/sub", F_OK));
	return PC_PASS;
}

static int rename_ancestor_over_descendant(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkdirm("d/sub", 0755));
	/* The target is inside the source: EINVAL; the other way ENOTEMPTY. */
	ERRNO2(rename("d/sub", "d"), ENOTEMPTY, EEXIST);
	return PC_PASS;
}

static int rename_same_name(void)
{
	SYS(mkfile("f", 0644, "x"));
	SYS(mkdirm("d", 0755));
	SYS(rename("f", "f"));
	SYS(rename("d", "d"));
	CHECK_TEXT("f", "x");
	SYS(access("d", F_OK));
	return PC_PASS;
}

static int rename_hardlinks(void)
{
	SYS(mkfile("a", 0644, "x"));
	SYS(link("a", "b"));
	/* Same inode: POSIX says rename does nothing and succeeds. */
	SYS(rename("a", "b"));
	SYS(access("a", F_OK));
	SYS(access("b", F_OK));
	CHECK_EQ(nlink_of("a"), 2);
	return PC_PASS;
}

static int rename_parent_nlink(void)
{
	SYS(mkdirm("p1", 0755));
	SYS(mkdirm("p2", 0755));
	SYS(mkdirm("p1/d", 0755));
	CHECK_EQ(nlink_of("p1"), 3);
	CHECK_EQ(nlink_of("p2"), 2);
	SYS(rename("p1/d", "p2/d"));
	CHECK_EQ(nlink_of("p1"), 2);
	CHECK_EQ(nlink_of("p2"), 3);
	return PC_PASS;
}

static int rename_dotdot(void)
{
	struct stat dd, p2;

	SYS(mkdirm("p1", 0755));
	SYS(mkdirm("p2", 0755));
	SYS(mkdirm("p1/d", 0755));
	SYS(rename("p1/d", "p2/d"));
	SYS(stat("p2/d/..", &dd));
	SYS(stat("p2", &p2));
	CHECK_EQ(dd.st_ino, p2.st_ino);
	return PC_PASS;
}

static int rename_exdev(void)
{
	char target[PATH_MAX];

	if (!pc_other_fs)
		return pc_skip("no --other-fs on another file system");
	snprintf(target, sizeof(target), "%s/%d", pc_other_fs, (int)getpid());
	SYS(mkfile("f", 0644, "x"));
	ERRNO(rename("f", target), EXDEV);
	ERRNO(link("f", target), EXDEV);
	return PC_PASS;
}

static int rename_noreplace(void)
{
	SYS(mkfile("a", 0644, "a"));
	SYS(mkfile("b", 0644, "b"));
	ERRNO(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE), EEXIST);
	CHECK_TEXT("b", "b");
	SYS(renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE));
	CHECK_TEXT("c", "a");
	return PC_PASS;
}

static int rename_exchange_files(void)
{
	SYS(mkfile("a", 0644, "a"));
	SYS(mkfile("b", 0600, "b"));
	SYS(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE));
	CHECK_TEXT("a", "b");
	CHECK_TEXT("b", "a");
	CHECK_MODE("a", 0600);
	return PC_PASS;
}

static int rename_exchange_file_dir(void)
{
	struct stat st;

	SYS(mkfile("f", 0644, "f"));
	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/inner", 0644, "i"));
	SYS(renameat2(AT_FDCWD, "f", AT_FDCWD, "d", RENAME_EXCHANGE));
	SYS(lstat("f", &st));
	CHECK(S_ISDIR(st.st_mode), "f is not a directory after the exchange");
	CHECK_TEXT("f/inner", "i");
	CHECK_TEXT("d", "f");
	return PC_PASS;
}

static int rename_exchange_missing(void)
{
	SYS(mkfile("a", 0644, "a"));
	ERRNO(renameat2(AT_FDCWD, "a", AT_FDCWD, "none", RENAME_EXCHANGE), ENOENT);
	ERRNO(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
	return PC_PASS;
}

static int rename_open_fd(void)
{
	struct stat before, after;
	char buf[8] = "";
	int fd;

	SYS(mkfile("a", 0644, "data"));
	fd = SYS(open("a", O_RDWR));
	SYS(fstat(fd, &before));
	SYS(rename("a", "b"));
	SYS(fstat(fd, &after));
	CHECK_EQ(after.st_ino, before.st_ino);
	SYS(pwrite(fd, "D", 1, 0));
	SYS(pread(fd, buf, 4, 0));
	CHECK(memcmp(buf, "Data", 4) == 0, "read \"%.4s\"", buf);
	CHECK_TEXT("b", "Data");
	return PC_PASS;
}

static int rename_over_open_target(void)
{
	struct stat st;
	char buf[8] = "";
	int fd;

	SYS(mkfile("a", 0644, "new"));
	SYS(mkfile("b", 0644, "old"));
	fd = SYS(open("b", O_RDONLY));
	SYS(rename("a", "b"));
	SYS(pread(fd, buf, 3, 0));
	CHECK(memcmp(buf, "old", 3) == 0, "the replaced file reads \"%.3s\"", buf);
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_TEXT("b", "new");
	return PC_PASS;
}

static int rename_trailing_slash(void)
{
	SYS(mkfile("f", 0644, "x"));
	SYS(mkdirm("d", 0755));
	ERRNO(rename("f/", "g"), ENOTDIR);
	ERRNO(rename("f", "g/"), ENOTDIR);
	SYS(rename("d/", "e/"));
	SYS(access("e", F_OK));
	return PC_PASS;
}

static int rename_dot(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkdirm("d/s", 0755));
	ERRNO2(rename("d/s/.", "d/t"), EINVAL, EBUSY);
	ERRNO2(rename("d/s/..", "d/t"), EINVAL, EBUSY);
	ERRNO2(rename("d/s", "d/."), EINVAL, EBUSY);
	return PC_PASS;
}

static int rename_symlink(void)
{
	char buf[64];
	ssize_t n;

	SYS(mkfile("target", 0644, "x"));
	SYS(symlink("target", "l"));
	SYS(rename("l", "m"));
	n = SYS(readlink("m", buf, sizeof(buf)));
	CHECK(n == 6 && memcmp(buf, "target", 6) == 0, "link reads %.*s", (int)n, buf);
	SYS(access("target", F_OK));
	return PC_PASS;
}

static int rename_over_symlink(void)
{
	struct stat st;

	SYS(mkfile("target", 0644, "t"));
	SYS(symlink("target", "l"));
	SYS(mkfile("f", 0644, "f"));
	SYS(rename("f", "l"));
	SYS(lstat("l", &st));
	CHECK(S_ISREG(st.st_mode), "l is not a regular file");
	CHECK_TEXT("target", "t");
	return PC_PASS;
}

static int rename_many_times(void)
{
	char from[32], to[32];

	SYS(mkfile("n0", 0644, "x"));
	for (int i = 0; i < 50; i++) {
		snprintf(from, sizeof(from), "n%d", i);
		snprintf(to, sizeof(to), "n%d", i + 1);
		SYS(rename(from, to));
	}
	CHECK_TEXT("n50", "x");
	ERRNO(access("n49", F_OK), ENOENT);
	return PC_PASS;
}

/* ---- link counts ---- */

static int nlink_new_file(void)
{
	SYS(mkfile("f", 0644, NULL));
	CHECK_EQ(nlink_of("f"), 1);
	return PC_PASS;
}

static int nlink_hardlinks(void)
{
	struct stat a, b;

	SYS(mkfile("a", 0644, "x"));
	SYS(link("a", "b"));
	SYS(link("a", "c"));
	CHECK_EQ(nlink_of("a"), 3);
	SYS(stat("a", &a));
	SYS(stat("b", &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	SYS(unlink("c"));
	CHECK_EQ(nlink_of("b"), 2);
	SYS(unlink("a"));
	CHECK_EQ(nlink_of("b"), 1);
	return PC_PASS;
}

static int nlink_fstat_after_link(void)
{
	struct stat st;
	int fd;

	SYS(mkfile("a", 0644, "x"));
	fd = SYS(open("a", O_RDONLY));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	SYS(link("a", "b"));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 2);
	SYS(unlink("b"));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	return PC_PASS;
}

static int nlink_new_dir(void)
{
	SYS(mkdirm("d", 0755));
	CHECK_EQ(nlink_of("d"), 2);
	return PC_PASS;
}

static int nlink_dir_subdirs(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkdirm("d/a", 0755));
	SYS(mkdirm("d/b", 0755));
	SYS(mkdirm("d/c", 0755));
	SYS(mkfile("d/f", 0644, NULL));
	SYS(symlink("a", "d/l"));
	CHECK_EQ(nlink_of("d"), 5);
	SYS(rmdir("d/b"));
	CHECK_EQ(nlink_of("d"), 4);
	return PC_PASS;
}

static int nlink_many(void)
{
	char name[32];

	SYS(mkfile("f", 0644, "x"));
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		SYS(link("f", name));
	}
	CHECK_EQ(nlink_of("f"), 101);
	CHECK_EQ(nlink_of("l99"), 101);
	return PC_PASS;
}

static int link_dir(void)
{
	SYS(mkdirm("d", 0755));
	ERRNO(link("d", "e"), EPERM);
	return PC_PASS;
}

static int link_existing(void)
{
	SYS(mkfile("a", 0644, "a"));
	SYS(mkfile("b", 0644, "b"));
	ERRNO(link("a", "b"), EEXIST);
	ERRNO(link("none", "c"), ENOENT);
	return PC_PASS;
}

static int link_symlink(void)
{
	struct stat st;

	SYS(mkfile("target", 0644, "x"));
	SYS(symlink("target", "l"));
	/* link() does not follow (Linux); AT_SYMLINK_FOLLOW does. */
	SYS(link("l", "hl"));
	SYS(lstat("hl", &st));
	CHECK(S_ISLNK(st.st_mode), "hl is not a symlink");
	CHECK_EQ(st.st_nlink, 2);
	SYS(linkat(AT_FDCWD, "l", AT_FDCWD, "ht", AT_SYMLINK_FOLLOW));
	SYS(lstat("ht", &st));
	CHECK(S_ISREG(st.st_mode), "ht is not a regular file");
	CHECK_EQ(nlink_of("target"), 2);
	return PC_PASS;
}

/* ---- names and resolution errors ---- */

static void fill_name(char *buf, size_t len)
{
	memset(buf, 'n', len);
	buf[len] = '\0';
}

static int name_max_ok(void)
{
	char name[256];

	fill_name(name, 255);
	SYS(mkfile(name, 0644, "x"));
	SYS(access(name, F_OK));
	SYS(unlink(name));
	SYS(mkdirm(name, 0755));
	SYS(rmdir(name));
	return PC_PASS;
}

static int name_too_long(void)
{
	char name[300];

	fill_name(name, 256);
	ERRNO(open(name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	ERRNO(mkdir(name, 0755), ENAMETOOLONG);
	ERRNO(access(name, F_OK), ENAMETOOLONG);
	ERRNO(symlink("x", name), ENAMETOOLONG);
	SYS(mkfile("f", 0644, NULL));
	ERRNO(rename("f", name), ENAMETOOLONG);
	ERRNO(link("f", name), ENAMETOOLONG);
	return PC_PASS;
}

static int name_path_too_long(void)
{
	char *path = malloc(PATH_MAX + 16);
	size_t len = 0;

	CHECK(path != NULL, "out of memory");
	/* "./" repeated past PATH_MAX: no component is long, the path is. */
	while (len < PATH_MAX + 4) {
		memcpy(path + len, "./", 2);
		len += 2;
	}
	memcpy(path + len, "f", 2);
	ERRNO(access(path, F_OK), ENAMETOOLONG);
	ERRNO(open(path, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	free(path);
	return PC_PASS;
}

static int loop_two(void)
{
	SYS(symlink("b", "a"));
	SYS(symlink("a", "b"));
	ERRNO(open("a", O_RDONLY), ELOOP);
	ERRNO(access("a/x", F_OK), ELOOP);
	return PC_PASS;
}

static int loop_self(void)
{
	struct stat st;

	SYS(symlink("s", "s"));
	ERRNO(stat("s", &st), ELOOP);
	SYS(lstat("s", &st));
	CHECK(S_ISLNK(st.st_mode), "s is not a symlink");
	return PC_PASS;
}

static int loop_nofollow(void)
{
	SYS(mkfile("target", 0644, "x"));
	SYS(symlink("target", "l"));
	ERRNO(open("l", O_RDONLY | O_NOFOLLOW), ELOOP);
	ERRNO(open("l", O_WRONLY | O_CREAT | O_NOFOLLOW, 0644), ELOOP);
	SYS(open_close("target", O_RDONLY | O_NOFOLLOW));
	return PC_PASS;
}

static int loop_nofollow_middle(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "x"));
	SYS(symlink("d", "l"));
	/* O_NOFOLLOW is about the last component only. */
	SYS(open_close("l/f", O_RDONLY | O_NOFOLLOW));
	return PC_PASS;
}

static int loop_chain(void)
{
	char from[16], to[16];

	SYS(mkfile("t0", 0644, "x"));
	/* Linux follows 40 links in one resolution; 41 is ELOOP. */
	for (int i = 1; i <= 41; i++) {
		snprintf(from, sizeof(from), "t%d", i - 1);
		snprintf(to, sizeof(to), "t%d", i);
		SYS(symlink(from, to));
	}
	SYS(access("t40", F_OK));
	ERRNO(access("t41", F_OK), ELOOP);
	return PC_PASS;
}

static int notdir_component(void)
{
	struct stat st;

	SYS(mkfile("f", 0644, "x"));
	ERRNO(stat("f/x", &st), ENOTDIR);
	ERRNO(open("f/x", O_CREAT | O_WRONLY, 0644), ENOTDIR);
	ERRNO(mkdir("f/d", 0755), ENOTDIR);
	return PC_PASS;
}

static int notdir_trailing_slash(void)
{
	struct stat st;

	SYS(mkfile("f", 0644, "x"));
	SYS(symlink("f", "l"));
	ERRNO(open("f/", O_RDONLY), ENOTDIR);
	ERRNO(stat("f/", &st), ENOTDIR);
	ERRNO(stat("l/", &st), ENOTDIR);
	ERRNO(unlink("f/"), ENOTDIR);
	return PC_PASS;
}

static int notdir_rmdir_file(void)
{
	SYS(mkfile("f", 0644, "x"));
	ERRNO(rmdir("f"), ENOTDIR);
	return PC_PASS;
}

static int notdir_o_directory(void)
{
	SYS(mkfile("f", 0644, "x"));
	ERRNO(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	CHECK(opendir("f") == NULL && errno == ENOTDIR, "opendir of a file: %m");
	return PC_PASS;
}

static int isdir_open_write(void)
{
	SYS(mkdirm("d", 0755));
	ERRNO(open("d", O_WRONLY), EISDIR);
	ERRNO(open("d", O_RDWR), EISDIR);
	ERRNO(open("d", O_CREAT | O_RDONLY, 0644), EISDIR);
	return PC_PASS;
}

static int isdir_unlink(void)
{
	SYS(mkdirm("d", 0755));
	ERRNO(unlink("d"), EISDIR);
	return PC_PASS;
}

static int isdir_read(void)
{
	char buf[16];
	int fd;

	SYS(mkdirm("d", 0755));
	fd = SYS(open("d", O_RDONLY));
	ERRNO(read(fd, buf, sizeof(buf)), EISDIR);
	SYS(close(fd));
	return PC_PASS;
}

static int notempty_rmdir(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, NULL));
	ERRNO2(rmdir("d"), ENOTEMPTY, EEXIST);
	SYS(mkdirm("e", 0755));
	SYS(mkdirm("e/sub", 0755));
	ERRNO2(rmdir("e"), ENOTEMPTY, EEXIST);
	return PC_PASS;
}

static int rmdir_dot(void)
{
	SYS(mkdirm("d", 0755));
	ERRNO(rmdir("d/."), EINVAL);
	ERRNO2(rmdir("d/.."), ENOTEMPTY, EEXIST);
	SYS(access("d", F_OK));
	return PC_PASS;
}

static int exist_excl(void)
{
	SYS(mkfile("f", 0644, "x"));
	SYS(mkdirm("d", 0755));
	ERRNO(open("f", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	ERRNO(open("d", O_CREAT | O_EXCL | O_RDONLY, 0644), EEXIST);
	return PC_PASS;
}

static int exist_excl_dangling(void)
{
	SYS(symlink("missing", "l"));
	ERRNO(open("l", O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
	ERRNO(access("missing", F_OK), ENOENT);
	return PC_PASS;
}

static int exist_creat_dangling(void)
{
	struct stat st;

	SYS(symlink("made", "l"));
	/* Without O_EXCL the link is followed and its target created. */
	SYS(open_close("l", O_CREAT | O_WRONLY));
	SYS(lstat("made", &st));
	CHECK(S_ISREG(st.st_mode), "the target is not a regular file");
	return PC_PASS;
}

static int exist_other_calls(void)
{
	SYS(mkfile("f", 0644, NULL));
	SYS(mkdirm("d", 0755));
	SYS(symlink("missing", "l"));
	ERRNO(mkdir("f", 0755), EEXIST);
	ERRNO(mkdir("d", 0755), EEXIST);
	ERRNO(mkdir("l", 0755), EEXIST);
	ERRNO(symlink("x", "f"), EEXIST);
	ERRNO(symlink("x", "l"), EEXIST);
	ERRNO(mkfifo("f", 0644), EEXIST);
	ERRNO(mknod("d", S_IFREG | 0644, 0), EEXIST);
	return PC_PASS;
}

static int noent(void)
{
	struct stat st;

	ERRNO(open("none", O_RDONLY), ENOENT);
	ERRNO(stat("none/f", &st), ENOENT);
	ERRNO(open("none/f", O_CREAT | O_WRONLY, 0644), ENOENT);
	ERRNO(unlink("none"), ENOENT);
	ERRNO(rmdir("none"), ENOENT);
	ERRNO(rename("none", "x"), ENOENT);
	ERRNO(open("", O_RDONLY), ENOENT);
	ERRNO(readlink("none", (char[8]){ 0 }, 8), ENOENT);
	return PC_PASS;
}

static int readlink_not_link(void)
{
	char buf[8];

	SYS(mkfile("f", 0644, NULL));
	ERRNO(readlink("f", buf, sizeof(buf)), EINVAL);
	return PC_PASS;
}

/* ---- unlinking what is open ---- */

static int unlink_open_read(void)
{
	char buf[8] = "";
	int fd;

	SYS(mkfile("f", 0644, "still here"));
	fd = SYS(open("f", O_RDONLY));
	SYS(unlink("f"));
	ERRNO(access("f", F_OK), ENOENT);
	CHECK_EQ(SYS(pread(fd, buf, 5, 0)), 5);
	CHECK(memcmp(buf, "still", 5) == 0, "read \"%.5s\"", buf);
	SYS(close(fd));
	return PC_PASS;
}

static int unlink_open_write(void)
{
	char buf[16] = "";
	int fd;

	SYS(mkfile("f", 0644, "abc"));
	fd = SYS(open("f", O_RDWR));
	SYS(unlink("f"));
	SYS(pwrite(fd, "0123456789", 10, 2));
	CHECK_EQ(SYS(pread(fd, buf, 12, 0)), 12);
	CHECK(memcmp(buf, "ab0123456789", 12) == 0, "read \"%.12s\"", buf);
	SYS(ftruncate(fd, 4));
	CHECK_EQ(SYS(pread(fd, buf, 12, 0)), 4);
	SYS(fsync(fd));
	SYS(close(fd));
	return PC_PASS;
}

static int unlink_fstat_nlink0(void)
{
	struct stat st;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDONLY));
	SYS(unlink("f"));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK_EQ(st.st_size, 4);
	return PC_PASS;
}

static int unlink_fchmod(void)
{
	struct stat st;
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDWR));
	SYS(unlink("f"));
	SYS(fchmod(fd, 0600));
	SYS(fchown(fd, U_OWNER, G_OWNER));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_uid, U_OWNER);
	return PC_PASS;
}

static int unlink_one_of_two(void)
{
	struct stat st;
	int fd;

	SYS(mkfile("a", 0644, "data"));
	SYS(link("a", "b"));
	fd = SYS(open("a", O_RDONLY));
	SYS(unlink("a"));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	CHECK_TEXT("b", "data");
	return PC_PASS;
}

static int unlink_open_dir(void)
{
	struct stat st;
	struct dirent *de;
	int fd, n = 0;
	DIR *d;

	SYS(mkdirm("d", 0755));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	SYS(rmdir("d"));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	ERRNO(openat(fd, "new", O_CREAT | O_WRONLY, 0644), ENOENT);
	ERRNO(mkdirat(fd, "sub", 0755), ENOENT);
	d = fdopendir(fd);
	CHECK(d != NULL, "fdopendir: %m");
	errno = 0;
	while ((de = readdir(d)))
		n++;
	/* Linux reports ENOENT for a removed directory; POSIX allows no entries. */
	CHECK(errno == 0 || errno == ENOENT, "readdir: %m");
	CHECK(n == 0, "readdir of a removed directory returned %d entries", n);
	closedir(d);
	return PC_PASS;
}

static int rmdir_cwd(void)
{
	char buf[PATH_MAX];
	struct stat st;

	SYS(mkdirm("d", 0755));
	SYS(chdir("d"));
	SYS(rmdir(abs_path("d")));
	SYS(stat(".", &st));
	CHECK_EQ(st.st_nlink, 0);
	CHECK(getcwd(buf, sizeof(buf)) == NULL && errno == ENOENT,
	      "getcwd in a removed directory: %s", errno == ENOENT ? buf : strerror(errno));
	ERRNO(open("f", O_CREAT | O_WRONLY, 0644), ENOENT);
	SYS(chdir(".."));
	ERRNO(access("d", F_OK), ENOENT);
	return PC_PASS;
}

static int rmdir_then_recreate(void)
{
	struct stat a, b;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "1"));
	SYS(stat("d/f", &a));
	SYS(unlink("d/f"));
	SYS(rmdir("d"));
	SYS(mkdirm("d", 0700));
	ERRNO(access("d/f", F_OK), ENOENT);
	SYS(mkfile("d/f", 0600, "22"));
	SYS(stat("d/f", &b));
	CHECK_EQ(b.st_size, 2);
	CHECK_MODE("d", 0700);
	return PC_PASS;
}

const struct pc_case pc_cases_names[] = {
	{ "rename.file_over_file", "rename over a file replaces it atomically (same inode under the new name)", rename_file_over_file },
	{ "rename.over_linked", "renaming over a name of a 2-link file leaves the other link with nlink 1", rename_over_linked },
	{ "rename.dir_over_empty_dir", "a directory renamed over an empty directory replaces it", rename_dir_over_empty_dir },
	{ "rename.dir_over_nonempty", "a directory renamed over a non-empty one: ENOTEMPTY (or EEXIST)", rename_dir_over_nonempty },
	{ "rename.file_over_dir", "a file renamed over a directory: EISDIR", rename_file_over_dir },
	{ "rename.dir_over_file", "a directory renamed over a file: ENOTDIR", rename_dir_over_file },
	{ "rename.into_own_subdir", "a directory renamed into its own subtree: EINVAL", rename_into_own_subdir },
	{ "rename.ancestor_over_descendant", "a subdirectory renamed over its non-empty parent: ENOTEMPTY", rename_ancestor_over_descendant },
	{ "rename.same_name", "rename(a, a) succeeds and changes nothing, for files and directories", rename_same_name },
	{ "rename.hardlinks", "rename between two links of one inode succeeds and keeps both names", rename_hardlinks },
	{ "rename.parent_nlink", "moving a directory moves one link from the old parent to the new", rename_parent_nlink },
	{ "rename.dotdot", "a moved directory's .. is its new parent", rename_dotdot },
	{ "rename.exdev", "rename and link to another file system: EXDEV", rename_exdev },
	{ "rename.noreplace", "renameat2 RENAME_NOREPLACE: EEXIST over a file, works to a new name", rename_noreplace },
	{ "rename.exchange_files", "renameat2 RENAME_EXCHANGE swaps two files", rename_exchange_files },
	{ "rename.exchange_file_dir", "renameat2 RENAME_EXCHANGE swaps a file and a directory", rename_exchange_file_dir },
	{ "rename.exchange_errors", "RENAME_EXCHANGE with a missing target: ENOENT; with NOREPLACE: EINVAL", rename_exchange_missing },
	{ "rename.open_fd", "an open fd follows its file through a rename", rename_open_fd },
	{ "rename.over_open_target", "a replaced file stays readable through its fd, with nlink 0", rename_over_open_target },
	{ "rename.trailing_slash", "a trailing slash on a file name gives ENOTDIR; on directories it is fine", rename_trailing_slash },
	{ "rename.dot", "renaming . or .. or onto .: EINVAL or EBUSY", rename_dot },
	{ "rename.symlink", "rename moves a symlink, not its target", rename_symlink },
	{ "rename.over_symlink", "rename over a symlink replaces the link, not its target", rename_over_symlink },
	{ "rename.chain", "50 renames in a row leave one name", rename_many_times },
	{ "nlink.new_file", "a new file has one link", nlink_new_file },
	{ "nlink.hardlinks", "link/unlink move st_nlink; links share st_ino", nlink_hardlinks },
	{ "nlink.fstat_after_link", "fstat of an open file sees link count changes", nlink_fstat_after_link },
	{ "nlink.new_dir", "a new directory has two links", nlink_new_dir },
	{ "nlink.dir_subdirs", "a directory's link count is 2 + its subdirectories", nlink_dir_subdirs },
	{ "nlink.many", "100 hard links give st_nlink 101 on every name", nlink_many },
	{ "link.dir", "link() of a directory: EPERM", link_dir },
	{ "link.errors", "link() onto an existing name: EEXIST; from a missing one: ENOENT", link_existing },
	{ "link.symlink", "link() links a symlink itself; AT_SYMLINK_FOLLOW links its target", link_symlink },
	{ "name.max_ok", "a 255-byte name works for files and directories", name_max_ok },
	{ "name.too_long", "a 256-byte component: ENAMETOOLONG for every call", name_too_long },
	{ "name.path_too_long", "a path longer than PATH_MAX: ENAMETOOLONG", name_path_too_long },
	{ "loop.two", "two symlinks pointing at each other: ELOOP", loop_two },
	{ "loop.self", "a symlink to itself: ELOOP for stat, lstat works", loop_self },
	{ "loop.nofollow", "O_NOFOLLOW on a symlink: ELOOP (also with O_CREAT)", loop_nofollow },
	{ "loop.nofollow_middle", "O_NOFOLLOW does not apply to earlier components", loop_nofollow_middle },
	{ "loop.chain", "a chain of 40 symlinks resolves, 41 gives ELOOP", loop_chain },
	{ "notdir.component", "a file used as a directory component: ENOTDIR", notdir_component },
	{ "notdir.trailing_slash", "a trailing slash after a file or a link to one: ENOTDIR", notdir_trailing_slash },
	{ "notdir.rmdir_file", "rmdir of a file: ENOTDIR", notdir_rmdir_file },
	{ "notdir.o_directory", "O_DIRECTORY and opendir on a file: ENOTDIR", notdir_o_directory },
	{ "isdir.open_write", "opening a directory for writing: EISDIR", isdir_open_write },
	{ "isdir.unlink", "unlink of a directory: EISDIR (Linux)", isdir_unlink },
	{ "isdir.read", "read() on a directory fd: EISDIR", isdir_read },
	{ "notempty.rmdir", "rmdir of a non-empty directory: ENOTEMPTY (or EEXIST)", notempty_rmdir },
	{ "notempty.rmdir_dot", "rmdir of d/. is EINVAL, of d/.. ENOTEMPTY", rmdir_dot },
	{ "exist.excl", "O_CREAT|O_EXCL on an existing file or directory: EEXIST", exist_excl },
	{ "exist.excl_dangling", "O_CREAT|O_EXCL on a dangling symlink: EEXIST, target not created", exist_excl_dangling },
	{ "exist.creat_dangling", "O_CREAT on a dangling symlink creates its target", exist_creat_dangling },
	{ "exist.other_calls", "mkdir, symlink, mkfifo, mknod onto existing names: EEXIST", exist_other_calls },
	{ "noent.calls", "missing names and the empty path: ENOENT", noent },
	{ "noent.readlink_file", "readlink of a regular file: EINVAL", readlink_not_link },
	{ "unlink.open_read", "an unlinked file's data stays readable through its fd", unlink_open_read },
	{ "unlink.open_write", "an unlinked file stays writable, truncatable, syncable through its fd", unlink_open_write },
	{ "unlink.fstat_nlink0", "fstat of an unlinked open file shows nlink 0 and its size", unlink_fstat_nlink0 },
	{ "unlink.fchmod", "fchmod and fchown work on an unlinked open file", unlink_fchmod },
	{ "unlink.one_of_two", "unlinking one of two links leaves the fd with nlink 1", unlink_one_of_two },
	{ "unlink.open_dir", "a removed open directory: nlink 0, empty listing, no creation (ENOENT)", unlink_open_dir },
	{ "unlink.rmdir_cwd", "rmdir of the cwd works; getcwd and create in it give ENOENT", rmdir_cwd },
	{ "unlink.recreate", "a name removed and created again is a new, empty object", rmdir_then_recreate },
	{ NULL, NULL, NULL },
};

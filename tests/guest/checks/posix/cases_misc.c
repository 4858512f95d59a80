/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Special files (fifos, sockets, device nodes), statvfs, paths (realpath,
 * getcwd, deep and long paths through openat, symlink targets, chdir and
 * fchdir), the umask, and the owner of what users create.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posix.h"

/* ---- fifos, sockets, device nodes ---- */

static int fifo_make(void)
{
	struct stat st;

	SYS(mkfifo("p", 0640));
	SYS(lstat("p", &st));
	CHECK(S_ISFIFO(st.st_mode), "not a fifo: mode 0%o", st.st_mode);
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_size, 0);
	SYS(mknod("q", S_IFIFO | 0600, 0));
	SYS(lstat("q", &st));
	CHECK(S_ISFIFO(st.st_mode), "mknod S_IFIFO made mode 0%o", st.st_mode);
	return PC_PASS;
}

static int fifo_rw(void)
{
	char buf[16] = "";
	int r, w;

	SYS(mkfifo("p", 0600));
	r = SYS(open("p", O_RDONLY | O_NONBLOCK));
	w = SYS(open("p", O_WRONLY | O_NONBLOCK));
	CHECK_EQ(SYS(write(w, "through", 7)), 7);
	CHECK_EQ(SYS(read(r, buf, sizeof(buf))), 7);
	CHECK(memcmp(buf, "through", 7) == 0, "read \"%.7s\"", buf);
	ERRNO(read(r, buf, sizeof(buf)), EAGAIN);
	SYS(close(w));
	CHECK_EQ(SYS(read(r, buf, sizeof(buf))), 0);
	SYS(close(r));
	return PC_PASS;
}

static int fifo_blocking_open(void)
{
	char buf[16] = "";
	int fd, status;
	pid_t pid;

	SYS(mkfifo("p", 0600));
	pid = SYS(fork());
	if (pid == 0) {
		/* Blocks until the parent opens the other end. */
		int w = open("p", O_WRONLY);

		_exit(w >= 0 && write(w, "hello", 5) == 5 ? 0 : 1);
	}
	fd = SYS(open("p", O_RDONLY));
	CHECK_EQ(SYS(read(fd, buf, 5)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0, "read \"%.5s\"", buf);
	SYS(waitpid(pid, &status, 0));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer status 0x%x", status);
	SYS(close(fd));
	return PC_PASS;
}

static int fifo_enxio(void)
{
	int fd;

	SYS(mkfifo("p", 0600));
	ERRNO(open("p", O_WRONLY | O_NONBLOCK), ENXIO);
	/* O_RDWR never blocks on Linux. */
	fd = SYS(open("p", O_RDWR));
	SYS(close(fd));
	return PC_PASS;
}

static int fifo_two_names(void)
{
	char buf[8] = "";
	int r, w;

	SYS(mkfifo("p", 0600));
	SYS(link("p", "q"));
	/* One fifo, two names: one pipe. */
	r = SYS(open("p", O_RDONLY | O_NONBLOCK));
	w = SYS(open("q", O_WRONLY | O_NONBLOCK));
	SYS(write(w, "x", 1));
	CHECK_EQ(SYS(read(r, buf, 1)), 1);
	SYS(close(r));
	SYS(close(w));
	return PC_PASS;
}

static int socket_bind(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	char buf[8] = "";
	int srv, cli, acc;

	if (strlen(pc_case_dir) + 6 >= sizeof(addr.sun_path))
		return pc_skip("the case directory's path is too long for a socket address");
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/sock", pc_case_dir);
	srv = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(bind(srv, (struct sockaddr *)&addr, sizeof(addr)));
	SYS(listen(srv, 1));
	SYS(lstat("sock", &st));
	CHECK(S_ISSOCK(st.st_mode), "bind made mode 0%o", st.st_mode);
	cli = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(cli, (struct sockaddr *)&addr, sizeof(addr)));
	acc = SYS(accept(srv, NULL, NULL));
	SYS(write(cli, "sock", 4));
	CHECK_EQ(SYS(read(acc, buf, 4)), 4);
	CHECK(memcmp(buf, "sock", 4) == 0, "read \"%.4s\"", buf);
	SYS(close(acc));
	SYS(close(cli));
	SYS(close(srv));
	ERRNO(bind(SYS(socket(AF_UNIX, SOCK_STREAM, 0)), (struct sockaddr *)&addr, sizeof(addr)),
	      EADDRINUSE);
	return PC_PASS;
}

static int mknod_socket(void)
{
	struct stat st;

	SYS(mknod("s", S_IFSOCK | 0644, 0));
	SYS(lstat("s", &st));
	CHECK(S_ISSOCK(st.st_mode), "mknod S_IFSOCK made mode 0%o", st.st_mode);
	return PC_PASS;
}

static int mknod_devices(void)
{
	struct stat st;

	SYS(mknod("c", S_IFCHR | 0666, makedev(1, 3)));
	SYS(mknod("b", S_IFBLK | 0600, makedev(7, 200)));
	SYS(lstat("c", &st));
	CHECK(S_ISCHR(st.st_mode), "mode 0%o is not a char device", st.st_mode);
	CHECK(major(st.st_rdev) == 1 && minor(st.st_rdev) == 3, "rdev %u:%u",
	      major(st.st_rdev), minor(st.st_rdev));
	SYS(lstat("b", &st));
	CHECK(S_ISBLK(st.st_mode), "mode 0%o is not a block device", st.st_mode);
	CHECK(major(st.st_rdev) == 7 && minor(st.st_rdev) == 200, "rdev %u:%u",
	      major(st.st_rdev), minor(st.st_rdev));
	return PC_PASS;
}

static int device_node_opens(void)
{
	char buf[8];
	int fd;

	/* 1:3 and 1:5 are /dev/null and /dev/zero in the kernel that opens them. */
	SYS(mknod("null", S_IFCHR | 0666, makedev(1, 3)));
	SYS(mknod("zero", S_IFCHR | 0666, makedev(1, 5)));
	fd = SYS(open("null", O_WRONLY));
	CHECK_EQ(SYS(write(fd, "gone", 4)), 4);
	SYS(close(fd));
	fd = SYS(open("zero", O_RDONLY));
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(SYS(read(fd, buf, sizeof(buf))), (long long)sizeof(buf));
	CHECK(all_bytes(buf, sizeof(buf), 0), "the zero device read non-zero");
	SYS(close(fd));
	return PC_PASS;
}

static int mknod_nonroot(void)
{
	SYS(mkdirm("d", 0777));
	ERRNO(u_mknod(OTHER, "d/c", S_IFCHR | 0666, makedev(1, 3)), EPERM);
	ERRNO(u_mknod(OTHER, "d/b", S_IFBLK | 0666, makedev(7, 0)), EPERM);
	SYS(u_mknod(OTHER, "d/p", S_IFIFO | 0666, 0));
	SYS(u_mknod(OTHER, "d/f", S_IFREG | 0666, 0));
	return PC_PASS;
}

/* ---- statvfs ---- */

static int statvfs_sane(void)
{
	struct statvfs sv;

	SYS(statvfs(".", &sv));
	CHECK(sv.f_bsize > 0 && sv.f_frsize > 0, "f_bsize %lu f_frsize %lu",
	      sv.f_bsize, sv.f_frsize);
	CHECK(sv.f_blocks > 0, "f_blocks is 0");
	CHECK(sv.f_bfree <= sv.f_blocks && sv.f_bavail <= sv.f_bfree,
	      "blocks %llu, free %llu, avail %llu", (unsigned long long)sv.f_blocks,
	      (unsigned long long)sv.f_bfree, (unsigned long long)sv.f_bavail);
	CHECK(sv.f_ffree <= sv.f_files, "files %llu, free %llu",
	      (unsigned long long)sv.f_files, (unsigned long long)sv.f_ffree);
	CHECK_EQ(sv.f_namemax, 255);
	return PC_PASS;
}

static int fstatvfs_same(void)
{
	struct statvfs a, b;
	int fd;

	SYS(mkfile("f", 0644, NULL));
	fd = SYS(open("f", O_RDONLY));
	SYS(statvfs("f", &a));
	SYS(fstatvfs(fd, &b));
	CHECK(a.f_bsize == b.f_bsize && a.f_blocks == b.f_blocks && a.f_fsid == b.f_fsid &&
	      a.f_namemax == b.f_namemax, "statvfs and fstatvfs describe different file systems");
	SYS(close(fd));
	return PC_PASS;
}

static int statvfs_counts_space(void)
{
	size_t len = 32 << 20;
	struct statvfs a, b;
	char *buf = malloc(1 << 20);
	long long used = 0;
	int fd;

	CHECK(buf != NULL, "out of memory");
	memset(buf, 's', 1 << 20);
	/* Other work may share the file system: up to 3 tries, and only the
	 * order of magnitude counts. */
	for (int attempt = 0; attempt < 3 && used <= (long long)len / 2; attempt++) {
		unlink("f");
		fd = SYS(open(".", O_RDONLY | O_DIRECTORY));
		/* Freed blocks of the last try count once they are committed. */
		SYS(syncfs(fd));
		SYS(close(fd));
		SYS(statvfs(".", &a));
		fd = SYS(open("f", O_CREAT | O_WRONLY | O_TRUNC, 0644));
		for (size_t off = 0; off < len; off += 1 << 20)
			SYS(write_all(fd, buf, 1 << 20));
		SYS(fsync(fd));
		SYS(close(fd));
		SYS(statvfs(".", &b));
		used = ((long long)a.f_bfree - (long long)b.f_bfree) * (long long)a.f_frsize;
	}
	CHECK(used > (long long)len / 2, "32 MiB written, f_bfree dropped by %lld bytes", used);
	free(buf);
	return PC_PASS;
}

/* ---- paths ---- */

static int realpath_deep(void)
{
	char path[PATH_MAX], want[2 * PATH_MAX], got[PATH_MAX];
	size_t len = 0;

	/* 30 levels, a symlink and .. along the way. */
	for (int i = 0; i < 30; i++) {
		len += (size_t)snprintf(path + len, sizeof(path) - len, "%slevel%02d",
					i ? "/" : "", i);
		SYS(mkdir(path, 0755));
	}
	SYS(symlink("level00/level01/level02", "short"));
	snprintf(want, sizeof(want), "%s/%s", pc_case_dir, path);
	CHECK(realpath(path, got) != NULL, "realpath: %m");
	CHECK(strcmp(got, want) == 0, "realpath gives %s", got);
	CHECK(realpath("short/level03/../level03/./level04", got) != NULL, "realpath: %m");
	snprintf(want, sizeof(want), "%s/level00/level01/level02/level03/level04", pc_case_dir);
	CHECK(strcmp(got, want) == 0, "realpath through a symlink gives %s", got);
	return PC_PASS;
}

static int getcwd_deep(void)
{
	char want[PATH_MAX], got[PATH_MAX];
	size_t len;

	len = (size_t)snprintf(want, sizeof(want), "%s", pc_case_dir);
	for (int i = 0; i < 40; i++) {
		char name[32];

		snprintf(name, sizeof(name), "dir-%02d", i);
		SYS(mkdir(name, 0755));
		SYS(chdir(name));
		len += (size_t)snprintf(want + len, sizeof(want) - len, "/%s", name);
	}
	CHECK(getcwd(got, sizeof(got)) != NULL, "getcwd: %m");
	CHECK(strcmp(got, want) == 0, "getcwd gives %s", got);
	return PC_PASS;
}

static int long_path_openat(void)
{
	char name[201], *path;
	struct stat st;
	size_t plen = 0;
	int dfd, fd, levels = 25;

	/* 25 levels of 200-byte names: about 5 KiB, longer than PATH_MAX. */
	memset(name, 'L', 200);
	name[200] = '\0';
	path = malloc((size_t)levels * 201 + 16);
	CHECK(path != NULL, "out of memory");
	dfd = SYS(open(".", O_RDONLY | O_DIRECTORY));
	for (int i = 0; i < levels; i++) {
		int next;

		SYS(mkdirat(dfd, name, 0755));
		next = SYS(openat(dfd, name, O_RDONLY | O_DIRECTORY));
		SYS(close(dfd));
		dfd = next;
		plen += (size_t)sprintf(path + plen, "%s%s", i ? "/" : "", name);
	}
	fd = SYS(openat(dfd, "deep", O_CREAT | O_RDWR, 0644));
	SYS(write(fd, "bottom", 6));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 6);
	SYS(close(fd));
	strcpy(path + plen, "/deep");
	ERRNO(access(path, F_OK), ENAMETOOLONG);
	/* From the bottom, fchdir and relative names work as anywhere. */
	SYS(fchdir(dfd));
	SYS(access("deep", R_OK));
	SYS(faccessat(dfd, "..", F_OK, 0));
	SYS(close(dfd));
	free(path);
	return PC_PASS;
}

static int path_near_max(void)
{
	char *path = malloc(PATH_MAX);
	char name[101];
	size_t len = 0;
	int fd;

	CHECK(path != NULL, "out of memory");
	memset(name, 'm', 100);
	name[100] = '\0';
	/* A relative path of about 4000 bytes, opened in one call. */
	while (len + 101 + 8 < PATH_MAX - 96) {
		len += (size_t)sprintf(path + len, "%s%s", len ? "/" : "", name);
		SYS(mkdir(path, 0755));
	}
	sprintf(path + len, "/f");
	fd = SYS(open(path, O_CREAT | O_WRONLY, 0644));
	SYS(close(fd));
	pc_note("opened a %zu-byte relative path", strlen(path));
	SYS(access(path, F_OK));
	return PC_PASS;
}

static int symlink_absolute(void)
{
	char target[PATH_MAX], buf[16];

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "abs"));
	snprintf(target, sizeof(target), "%s/d/f", pc_case_dir);
	SYS(symlink(target, "l"));
	SYS(slurp("l", buf, sizeof(buf)));
	CHECK(strcmp(buf, "abs") == 0, "read \"%s\" through the link", buf);
	return PC_PASS;
}

static int symlink_relative(void)
{
	char buf[16];

	SYS(mkdirm("a", 0755));
	SYS(mkdirm("b", 0755));
	SYS(mkfile("a/f", 0644, "rel"));
	SYS(symlink("../a/f", "b/l"));
	SYS(slurp("b/l", buf, sizeof(buf)));
	CHECK(strcmp(buf, "rel") == 0, "read \"%s\" through the link", buf);
	/* Relative to the link's directory, not the cwd. */
	SYS(chdir("a"));
	SYS(slurp("../b/l", buf, sizeof(buf)));
	CHECK(strcmp(buf, "rel") == 0, "read \"%s\" from another cwd", buf);
	return PC_PASS;
}

static int symlink_dotdot(void)
{
	struct stat via, real;

	SYS(mkdirm("x", 0755));
	SYS(mkdirm("x/y", 0755));
	SYS(mkdirm("x/y/z", 0755));
	SYS(symlink("x/y/z", "l"));
	/* ".." after a symlink is the target's parent, not the link's. */
	SYS(stat("l/..", &via));
	SYS(stat("x/y", &real));
	CHECK_EQ(via.st_ino, real.st_ino);
	return PC_PASS;
}

static int symlink_readlink(void)
{
	char target[PATH_MAX], buf[PATH_MAX];
	struct stat st;
	ssize_t n;

	SYS(symlink("some/where/else", "l"));
	SYS(lstat("l", &st));
	CHECK_EQ(st.st_size, 15);
	n = SYS(readlink("l", buf, 4));
	CHECK(n == 4 && memcmp(buf, "some", 4) == 0, "truncated readlink gave %zd", n);
	memset(target, 't', PATH_MAX - 1);
	target[PATH_MAX - 1] = '\0';
	/* The longest target: PATH_MAX - 1 bytes. */
	SYS(symlink(target, "long"));
	n = SYS(readlink("long", buf, sizeof(buf)));
	CHECK_EQ(n, PATH_MAX - 1);
	CHECK(memcmp(buf, target, (size_t)n) == 0, "the long target came back different");
	SYS(lstat("long", &st));
	CHECK_EQ(st.st_size, PATH_MAX - 1);
	return PC_PASS;
}

static int symlink_mode_owner(void)
{
	struct stat st;

	SYS(mkdir_owned("d", 0777, 0, 0));
	SYS(u_symlink(OWNER, "t", "d/l"));
	SYS(lstat("d/l", &st));
	CHECK_EQ(st.st_mode & 07777, 0777);
	CHECK_EQ(st.st_uid, U_OWNER);
	SYS(lchown("d/l", U_OTHER, G_OTHER));
	SYS(lstat("d/l", &st));
	CHECK_EQ(st.st_uid, U_OTHER);
	return PC_PASS;
}

static int chdir_fchdir(void)
{
	char buf[8];
	int fd, home;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "fchdir"));
	home = SYS(open(".", O_RDONLY | O_DIRECTORY));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	SYS(fchdir(fd));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "fchdir") == 0, "read \"%s\"", buf);
	SYS(fchdir(home));
	SYS(access("d/f", F_OK));
	SYS(chdir("d"));
	SYS(access("f", F_OK));
	ERRNO(chdir("f"), ENOTDIR);
	return PC_PASS;
}

static int chdir_noperm(void)
{
	SYS(mkdirm("d", 0700));
	ERRNO(u_chdir(OTHER, "d"), EACCES);
	SYS(chmod("d", 0711));
	SYS(u_chdir(OTHER, "d"));
	return PC_PASS;
}

static int openat_moved_dir(void)
{
	int dfd, fd;

	SYS(mkdirm("d", 0755));
	dfd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	SYS(rename("d", "e"));
	/* The fd names the directory, wherever it went. */
	fd = SYS(openat(dfd, "f", O_CREAT | O_WRONLY, 0644));
	SYS(close(fd));
	SYS(access("e/f", F_OK));
	return PC_PASS;
}

static int empty_path_and_opath(void)
{
	struct stat a, b;
	int fd, pfd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDONLY));
	SYS(fstatat(fd, "", &a, AT_EMPTY_PATH));
	SYS(stat("f", &b));
	CHECK_EQ(a.st_ino, b.st_ino);
	pfd = SYS(open("f", O_PATH));
	SYS(fstat(pfd, &a));
	CHECK_EQ(a.st_ino, b.st_ino);
	ERRNO(read(pfd, (char[4]){ 0 }, 4), EBADF);
	SYS(close(pfd));
	SYS(close(fd));
	return PC_PASS;
}

/* ---- umask and owners ---- */

static int umask_file(void)
{
	int fd;

	umask(027);
	fd = SYS(open("f", O_CREAT | O_WRONLY, 0666));
	SYS(close(fd));
	CHECK_MODE("f", 0640);
	umask(0);
	fd = SYS(open("g", O_CREAT | O_WRONLY, 0777));
	SYS(close(fd));
	CHECK_MODE("g", 0777);
	return PC_PASS;
}

static int umask_dir(void)
{
	umask(022);
	SYS(mkdir("d", 0777));
	CHECK_MODE("d", 0755);
	umask(077);
	SYS(mkdir("e", 0777));
	CHECK_MODE("e", 0700);
	return PC_PASS;
}

static int umask_special(void)
{
	umask(037);
	SYS(mkfifo("p", 0666));
	CHECK_MODE("p", 0640);
	SYS(mknod("n", S_IFREG | 0666, 0));
	CHECK_MODE("n", 0640);
	SYS(symlink("t", "l"));
	CHECK_MODE("l", 0777);
	return PC_PASS;
}

static int umask_existing(void)
{
	int fd;

	SYS(mkfile("f", 0666, NULL));
	umask(077);
	fd = SYS(open("f", O_CREAT | O_WRONLY, 0600));
	SYS(close(fd));
	CHECK_MODE("f", 0666);
	return PC_PASS;
}

static int owner_of_new(void)
{
	struct stat st;

	SYS(mkdir_owned("d", 0777, 0, 0));
	SYS(u_open(OWNER, "d/f", O_CREAT | O_WRONLY, 0644));
	SYS(u_mkdir(OWNER, "d/sub", 0755));
	SYS(u_mknod(OWNER, "d/p", S_IFIFO | 0644, 0));
	SYS(stat("d/f", &st));
	CHECK(st.st_uid == U_OWNER && st.st_gid == G_OWNER, "file owner %u:%u", st.st_uid, st.st_gid);
	SYS(stat("d/sub", &st));
	CHECK(st.st_uid == U_OWNER && st.st_gid == G_OWNER, "dir owner %u:%u", st.st_uid, st.st_gid);
	SYS(lstat("d/p", &st));
	CHECK(st.st_uid == U_OWNER && st.st_gid == G_OWNER, "fifo owner %u:%u", st.st_uid, st.st_gid);
	return PC_PASS;
}

static int owner_of_link(void)
{
	struct stat st;

	SYS(mkdir_owned("d", 0777, 0, 0));
	SYS(mkfile("d/f", 0644, NULL));
	SYS(mkfile_owned("d/o", 0644, U_OWNER, G_OWNER, NULL));
	/* A hard link keeps the inode's owner, whoever makes it. */
	SYS(u_link(OWNER, "d/o", "d/l"));
	SYS(stat("d/l", &st));
	CHECK_EQ(st.st_uid, U_OWNER);
	SYS(u_rename(OWNER, "d/f", "d/g"));
	SYS(stat("d/g", &st));
	CHECK_EQ(st.st_uid, 0);
	return PC_PASS;
}

static int inode_stable(void)
{
	struct stat a, b, c;

	SYS(mkfile("f", 0644, "data"));
	SYS(stat("f", &a));
	SYS(stat("f", &b));
	SYS(rename("f", "g"));
	SYS(stat("g", &c));
	CHECK(a.st_ino == b.st_ino && b.st_ino == c.st_ino && a.st_dev == c.st_dev,
	      "st_ino %llu, %llu, %llu", (unsigned long long)a.st_ino,
	      (unsigned long long)b.st_ino, (unsigned long long)c.st_ino);
	SYS(stat(".", &b));
	CHECK_EQ(b.st_dev, a.st_dev);
	return PC_PASS;
}

static int blocks_and_blksize(void)
{
	char buf[65536];
	struct stat st;
	int fd;

	memset(buf, 'b', sizeof(buf));
	fd = SYS(open("f", O_CREAT | O_WRONLY, 0644));
	SYS(write_all(fd, buf, sizeof(buf)));
	SYS(fsync(fd));
	SYS(fstat(fd, &st));
	CHECK(st.st_blksize > 0, "st_blksize %ld", (long)st.st_blksize);
	CHECK(st.st_blocks * 512 >= (blkcnt_t)sizeof(buf), "st_blocks %lld for 64 KiB",
	      (long long)st.st_blocks);
	SYS(close(fd));
	return PC_PASS;
}

const struct pc_case pc_cases_misc[] = {
	{ "special.fifo_make", "mkfifo and mknod S_IFIFO make fifos with the mode asked", fifo_make },
	{ "special.fifo_rw", "a fifo carries data from a writer to a reader; EOF after the writer closes", fifo_rw },
	{ "special.fifo_blocking_open", "blocking opens of both ends of a fifo meet", fifo_blocking_open },
	{ "special.fifo_enxio", "O_WRONLY|O_NONBLOCK without a reader: ENXIO; O_RDWR opens", fifo_enxio },
	{ "special.fifo_two_names", "two hard links to a fifo are one pipe", fifo_two_names },
	{ "special.socket_bind", "bind makes a socket node that connect reaches; bind again: EADDRINUSE", socket_bind },
	{ "special.mknod_socket", "mknod S_IFSOCK makes a socket node", mknod_socket },
	{ "special.mknod_devices", "root makes char and block nodes with their st_rdev", mknod_devices },
	{ "special.device_node_opens", "device nodes open the devices of the kernel opening them", device_node_opens },
	{ "special.mknod_nonroot", "users cannot make device nodes (EPERM) but fifos and files", mknod_nonroot },
	{ "statvfs.sane", "statvfs: sizes positive, free <= total, f_namemax 255", statvfs_sane },
	{ "statvfs.fstatvfs", "fstatvfs and statvfs agree", fstatvfs_same },
	{ "statvfs.counts_space", "writing 32 MiB lowers f_bfree accordingly", statvfs_counts_space },
	{ "path.realpath_deep", "realpath through 30 levels, a symlink, . and ..", realpath_deep },
	{ "path.getcwd_deep", "getcwd 40 levels down", getcwd_deep },
	{ "path.long_openat", "a 5 KiB deep tree through openat; the full path: ENAMETOOLONG", long_path_openat },
	{ "path.near_max", "a relative path of almost PATH_MAX bytes opens in one call", path_near_max },
	{ "path.symlink_absolute", "an absolute symlink into the tree resolves", symlink_absolute },
	{ "path.symlink_relative", "a relative symlink resolves from its own directory", symlink_relative },
	{ "path.symlink_dotdot", "link/.. is the target's parent", symlink_dotdot },
	{ "path.readlink", "readlink truncates to the buffer; a PATH_MAX-1 target round-trips", symlink_readlink },
	{ "path.symlink_owner", "a symlink is mode 0777, owned by its creator; lchown changes it", symlink_mode_owner },
	{ "path.chdir_fchdir", "chdir and fchdir change where relative names start; chdir to a file: ENOTDIR", chdir_fchdir },
	{ "path.chdir_noperm", "chdir needs search permission (EACCES)", chdir_noperm },
	{ "path.openat_moved_dir", "openat through a dir fd works after the directory is renamed", openat_moved_dir },
	{ "path.empty_and_opath", "AT_EMPTY_PATH and O_PATH fds stat the file; read on O_PATH: EBADF", empty_path_and_opath },
	{ "umask.file", "the umask clears bits of new files (027 -> 0640, 0 -> 0777)", umask_file },
	{ "umask.dir", "the umask clears bits of new directories", umask_dir },
	{ "umask.special", "the umask applies to fifos and mknod files, not to symlinks", umask_special },
	{ "umask.existing", "O_CREAT of an existing file leaves its mode", umask_existing },
	{ "owner.new", "files, directories and fifos made by a user belong to its uid/gid", owner_of_new },
	{ "owner.link_rename", "link and rename by a user keep the inode's owner", owner_of_link },
	{ "misc.inode_stable", "st_ino and st_dev stay the same across stats and a rename", inode_stable },
	{ "misc.blocks", "st_blksize > 0, st_blocks covers written data", blocks_and_blksize },
	{ NULL, NULL, NULL },
};

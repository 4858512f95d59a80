/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Permissions as seen by unprivileged users: the file mode classes, search
 * and write permission on directories, chmod/chown rules, sticky and setgid
 * directories, and the clearing of set-user-ID / set-group-ID bits.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

static const struct pc_cred root_c = { 0, 0, 1, { 0 }, "root" };

/* ---- read, write, execute on files ---- */

static int read_owner(void)
{
	SYS(mkfile_owned("f", 0400, U_OWNER, G_OWNER, "data"));
	SYS(u_read(OWNER, "f"));
	return PC_PASS;
}

static int read_owner_class_only(void)
{
	SYS(mkfile_owned("f", 0077, U_OWNER, G_OWNER, "data"));
	ERRNO(u_read(OWNER, "f"), EACCES);
	return PC_PASS;
}

static int read_group_supplementary(void)
{
	SYS(mkfile_owned("f", 0040, U_OWNER, G_OWNER, "data"));
	SYS(u_read(MEMBER, "f"));
	return PC_PASS;
}

static int read_group_primary(void)
{
	SYS(mkfile_owned("f", 0040, U_OWNER, G_OWNER, "data"));
	SYS(u_read(PRIMARY, "f"));
	return PC_PASS;
}

static int read_group_class_only(void)
{
	SYS(mkfile_owned("f", 0707, U_OWNER, G_OWNER, "data"));
	ERRNO(u_read(MEMBER, "f"), EACCES);
	SYS(u_read(OTHER, "f"));
	return PC_PASS;
}

static int read_other_denied(void)
{
	SYS(mkfile_owned("f", 0660, U_OWNER, G_OWNER, "data"));
	ERRNO(u_read(OTHER, "f"), EACCES);
	return PC_PASS;
}

static int read_other_allowed(void)
{
	SYS(mkfile_owned("f", 0604, U_OWNER, G_OWNER, "data"));
	SYS(u_read(OTHER, "f"));
	return PC_PASS;
}

static int write_owner_denied(void)
{
	SYS(mkfile_owned("f", 0577, U_OWNER, G_OWNER, "data"));
	ERRNO(u_open(OWNER, "f", O_WRONLY, 0), EACCES);
	ERRNO(u_open(OWNER, "f", O_RDWR, 0), EACCES);
	return PC_PASS;
}

static int write_group(void)
{
	char buf[16];

	SYS(mkfile_owned("f", 0620, U_OWNER, G_OWNER, "data"));
	SYS(u_write(MEMBER, "f", "DA"));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "DAta") == 0, "content is \"%s\"", buf);
	return PC_PASS;
}

static int write_other_denied(void)
{
	SYS(mkfile_owned("f", 0664, U_OWNER, G_OWNER, "data"));
	ERRNO(u_write(OTHER, "f", "x"), EACCES);
	return PC_PASS;
}

static int write_truncate_denied(void)
{
	struct stat st;

	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	ERRNO(u_truncate(OTHER, "f", 0), EACCES);
	ERRNO(u_open(OTHER, "f", O_RDONLY | O_TRUNC, 0), EACCES);
	SYS(stat("f", &st));
	CHECK_EQ(st.st_size, 4);
	return PC_PASS;
}

static int exec_other_denied(void)
{
	SYS(mkscript("s", 0754));
	SYS(lchown("s", U_OWNER, G_OWNER));
	SYS(chmod("s", 0754));
	ERRNO(u_exec(OTHER, "./s"), EACCES);
	SYS(u_exec(OWNER, "./s"));
	return PC_PASS;
}

static int exec_other_allowed(void)
{
	SYS(mkscript("s", 0755));
	SYS(lchown("s", U_OWNER, G_OWNER));
	SYS(chmod("s", 0755));
	SYS(u_exec(OTHER, "./s"));
	return PC_PASS;
}

static int exec_root_needs_x(void)
{
	SYS(mkscript("s", 0644));
	SYS(mkscript("t", 0604));
	SYS(chmod("t", 0614));
	ERRNO(u_exec(&root_c, "./s"), EACCES);
	SYS(u_exec(&root_c, "./t"));
	return PC_PASS;
}

static int exec_dir_denied(void)
{
	SYS(mkdirm("d", 0755));
	ERRNO(u_exec(OTHER, "./d"), EACCES);
	return PC_PASS;
}

/* ---- directories ---- */

static int dir_search_denied(void)
{
	SYS(mkdirm("d", 0776));
	SYS(mkfile("d/f", 0644, "data"));
	ERRNO(u_stat(OTHER, "d/f"), EACCES);
	ERRNO(u_read(OTHER, "d/f"), EACCES);
	return PC_PASS;
}

static int dir_search_only(void)
{
	SYS(mkdirm("d", 0711));
	SYS(mkfile("d/f", 0644, "data"));
	SYS(u_stat(OTHER, "d/f"));
	SYS(u_read(OTHER, "d/f"));
	ERRNO(u_readdir(OTHER, "d"), EACCES);
	return PC_PASS;
}

static int dir_list_no_search(void)
{
	SYS(mkdirm("d", 0744));
	SYS(mkfile("d/f", 0644, "data"));
	SYS(u_readdir(OTHER, "d"));
	ERRNO(u_stat(OTHER, "d/f"), EACCES);
	return PC_PASS;
}

static int dir_create_denied(void)
{
	SYS(mkdirm("d", 0755));
	ERRNO(u_open(OTHER, "d/new", O_CREAT | O_WRONLY, 0644), EACCES);
	ERRNO(u_mkdir(OTHER, "d/sub", 0755), EACCES);
	ERRNO(u_symlink(OTHER, "x", "d/l"), EACCES);
	ERRNO(access("d/new", F_OK), ENOENT);
	return PC_PASS;
}

static int dir_create_needs_search(void)
{
	SYS(mkdirm("d", 0776));
	ERRNO(u_open(OTHER, "d/new", O_CREAT | O_WRONLY, 0644), EACCES);
	ERRNO(u_mkdir(OTHER, "d/sub", 0755), EACCES);
	return PC_PASS;
}

static int dir_create_group(void)
{
	struct stat st;

	SYS(mkdir_owned("d", 0770, 0, G_OWNER));
	SYS(u_open(MEMBER, "d/new", O_CREAT | O_WRONLY, 0644));
	SYS(stat("d/new", &st));
	CHECK_EQ(st.st_uid, U_MEMBER);
	CHECK_EQ(st.st_gid, G_MEMBER);
	return PC_PASS;
}

static int dir_unlink_denied(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkfile_owned("d/f", 0666, U_OTHER, G_OTHER, "data"));
	ERRNO(u_unlink(OTHER, "d/f"), EACCES);
	ERRNO(u_rename(OTHER, "d/f", "d/g"), EACCES);
	SYS(access("d/f", F_OK));
	return PC_PASS;
}

static int dir_unlink_any_file(void)
{
	SYS(mkdirm("d", 0777));
	SYS(mkfile("d/f", 0000, "data"));
	SYS(u_unlink(OTHER, "d/f"));
	ERRNO(access("d/f", F_OK), ENOENT);
	return PC_PASS;
}

static int dir_move_needs_write(void)
{
	SYS(mkdirm("p1", 0777));
	SYS(mkdirm("p2", 0777));
	SYS(mkdirm("p1/d", 0755));
	SYS(mkfile("p1/f", 0644, "data"));
	/* A directory changing parent has its ".." rewritten: it needs w. */
	ERRNO(u_rename(OTHER, "p1/d", "p2/d"), EACCES);
	/* Within the same parent it does not. */
	SYS(u_rename(OTHER, "p1/d", "p1/e"));
	/* A file needs write permission on the two parents only. */
	SYS(u_rename(OTHER, "p1/f", "p2/f"));
	return PC_PASS;
}

static int access_other(void)
{
	SYS(mkfile_owned("f", 0604, U_OWNER, G_OWNER, "data"));
	SYS(u_access(OTHER, "f", F_OK));
	SYS(u_access(OTHER, "f", R_OK));
	ERRNO(u_access(OTHER, "f", W_OK), EACCES);
	ERRNO(u_access(OTHER, "f", X_OK), EACCES);
	SYS(u_access(OWNER, "f", R_OK | W_OK));
	return PC_PASS;
}

static int access_root(void)
{
	SYS(mkfile("f", 0000, "data"));
	SYS(mkfile("x", 0010, "data"));
	SYS(access("f", R_OK | W_OK));
	ERRNO(access("f", X_OK), EACCES);
	SYS(access("x", X_OK));
	return PC_PASS;
}

static int access_search(void)
{
	SYS(mkdirm("d", 0700));
	SYS(mkfile("d/f", 0644, "data"));
	ERRNO(u_access(OTHER, "d/f", F_OK), EACCES);
	return PC_PASS;
}

static int root_override(void)
{
	char buf[16];
	int fd;

	SYS(mkfile_owned("f", 0000, U_OWNER, G_OWNER, "data"));
	SYS(mkdir_owned("d", 0000, U_OWNER, G_OWNER));
	fd = SYS(open("f", O_RDWR));
	SYS(pwrite(fd, "D", 1, 0));
	SYS(close(fd));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "Data") == 0, "content is \"%s\"", buf);
	SYS(mkfile("d/g", 0644, "x"));
	return PC_PASS;
}

/* ---- chmod and chown ---- */

static int chmod_owner(void)
{
	SYS(mkfile_owned("f", 0600, U_OWNER, G_OWNER, "data"));
	SYS(u_chmod(OWNER, "f", 0640));
	CHECK_MODE("f", 0640);
	return PC_PASS;
}

static int chmod_nonowner(void)
{
	SYS(mkfile_owned("f", 0666, U_OWNER, G_OWNER, "data"));
	ERRNO(u_chmod(OTHER, "f", 0777), EPERM);
	ERRNO(u_chmod(MEMBER, "f", 0777), EPERM);
	CHECK_MODE("f", 0666);
	return PC_PASS;
}

static int chmod_sgid_nonmember(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_2000, "data"));
	/* Not in group 2000: the call succeeds, the set-group-ID bit is dropped. */
	SYS(u_chmod(OWNER, "f", 02755));
	CHECK_MODE("f", 0755);
	return PC_PASS;
}

static int chmod_sgid_member(void)
{
	SYS(mkfile_owned("f", 0644, U_G2000, G_2000, "data"));
	SYS(u_chmod(G2000, "f", 02755));
	CHECK_MODE("f", 02755);
	return PC_PASS;
}

static int chmod_suid_owner(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	SYS(u_chmod(OWNER, "f", 04755));
	CHECK_MODE("f", 04755);
	return PC_PASS;
}

static int chown_give_away(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	ERRNO(u_chown(OWNER, "f", U_OTHER, (gid_t)-1), EPERM);
	return PC_PASS;
}

static int chown_group_member(void)
{
	struct stat st;

	SYS(mkfile_owned("f", 0644, U_MEMBER, G_MEMBER, "data"));
	SYS(u_chown(MEMBER, "f", (uid_t)-1, G_OWNER));
	SYS(stat("f", &st));
	CHECK_EQ(st.st_uid, U_MEMBER);
	CHECK_EQ(st.st_gid, G_OWNER);
	return PC_PASS;
}

static int chown_group_nonmember(void)
{
	struct stat st;

	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	ERRNO(u_chown(OWNER, "f", (uid_t)-1, G_2000), EPERM);
	SYS(stat("f", &st));
	CHECK_EQ(st.st_gid, G_OWNER);
	return PC_PASS;
}

static int chown_nonowner(void)
{
	SYS(mkfile_owned("f", 0666, U_OWNER, G_OWNER, "data"));
	ERRNO(u_chown(OTHER, "f", (uid_t)-1, G_OTHER), EPERM);
	ERRNO(u_chown(MEMBER, "f", (uid_t)-1, G_OWNER), EPERM);
	return PC_PASS;
}

static int chown_noop(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	SYS(u_chown(OWNER, "f", (uid_t)-1, (gid_t)-1));
	SYS(u_chown(OWNER, "f", U_OWNER, G_OWNER));
	return PC_PASS;
}

static int chown_root(void)
{
	struct stat st;

	SYS(mkfile("f", 0644, "data"));
	SYS(chown("f", U_OTHER, G_2000));
	SYS(stat("f", &st));
	CHECK_EQ(st.st_uid, U_OTHER);
	CHECK_EQ(st.st_gid, G_2000);
	SYS(lchown("f", (uid_t)-1, G_OWNER));
	SYS(stat("f", &st));
	CHECK_EQ(st.st_uid, U_OTHER);
	CHECK_EQ(st.st_gid, G_OWNER);
	return PC_PASS;
}

static int utime_now_writer(void)
{
	SYS(mkfile_owned("f", 0666, U_OWNER, G_OWNER, "data"));
	SYS(u_utimens(OTHER, "f", NULL));
	return PC_PASS;
}

static int utime_explicit_nonowner(void)
{
	struct timespec ts[2] = { { OLD_TIME, 0 }, { OLD_TIME, 0 } };

	SYS(mkfile_owned("f", 0666, U_OWNER, G_OWNER, "data"));
	ERRNO(u_utimens(OTHER, "f", ts), EPERM);
	return PC_PASS;
}

static int utime_now_nowrite(void)
{
	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	ERRNO(u_utimens(OTHER, "f", NULL), EACCES);
	return PC_PASS;
}

static int utime_owner_explicit(void)
{
	struct timespec ts[2] = { { OLD_TIME, 0 }, { OLD_TIME + 1, 0 } };
	struct stat st;

	SYS(mkfile_owned("f", 0444, U_OWNER, G_OWNER, "data"));
	SYS(u_utimens(OWNER, "f", ts));
	SYS(stat("f", &st));
	CHECK_EQ(st.st_mtime, OLD_TIME + 1);
	return PC_PASS;
}

static int open_creat_existing_denied(void)
{
	SYS(mkdirm("d", 0777));
	SYS(mkfile("d/f", 0644, "data"));
	ERRNO(u_open(OTHER, "d/f", O_CREAT | O_WRONLY, 0666), EACCES);
	/* O_CREAT for reading an existing readable file is fine. */
	SYS(u_open(OTHER, "d/f", O_CREAT | O_RDONLY, 0666));
	return PC_PASS;
}

static int create_readonly_fn(void *arg)
{
	char buf[8] = "";
	int fd;

	(void)arg;
	/* The mode applies to later opens, not to the one that created it. */
	fd = open("d/f", O_CREAT | O_EXCL | O_RDWR, 0444);
	if (fd < 0)
		return errno;
	if (write(fd, "abc", 3) != 3 || pread(fd, buf, 3, 0) != 3 ||
	    memcmp(buf, "abc", 3) != 0 || ftruncate(fd, 2) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		return e;
	}
	close(fd);
	return open("d/f", O_WRONLY) < 0 ? 0 : EEXIST;
}

static int open_create_readonly_mode(void)
{
	struct stat st;

	SYS(mkdir_owned("d", 0755, U_OWNER, G_OWNER));
	SYS(as_user(OWNER, create_readonly_fn, NULL));
	SYS(stat("d/f", &st));
	CHECK_EQ(st.st_mode & 07777, 0444);
	CHECK_EQ(st.st_size, 2);
	return PC_PASS;
}

static int fd_after_chmod_fn(void *arg)
{
	int fd;

	(void)arg;
	fd = open("f", O_WRONLY);
	if (fd < 0)
		return errno;
	/* Permission is checked at open: the fd keeps working. */
	if (fchmod(fd, 0) < 0 || write(fd, "XY", 2) != 2) {
		int e = errno ? errno : EIO;

		close(fd);
		return e;
	}
	return close(fd) < 0 ? errno : 0;
}

static int fd_after_chmod(void)
{
	char buf[16];

	SYS(mkfile_owned("f", 0644, U_OWNER, G_OWNER, "data"));
	SYS(as_user(OWNER, fd_after_chmod_fn, NULL));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "XYta") == 0, "content is \"%s\"", buf);
	CHECK_MODE("f", 0);
	return PC_PASS;
}

/* ---- sticky directories ---- */

static int sticky_setup(uid_t dir_uid)
{
	if (mkdir_owned("t", 01777, dir_uid, 0) < 0 ||
	    mkfile_owned("t/f", 0666, U_OWNER, G_OWNER, "data") < 0)
		return -1;
	return 0;
}

static int sticky_unlink_other(void)
{
	SYS(sticky_setup(0));
	ERRNO2(u_unlink(OTHER, "t/f"), EPERM, EACCES);
	SYS(access("t/f", F_OK));
	return PC_PASS;
}

static int sticky_unlink_file_owner(void)
{
	SYS(sticky_setup(0));
	SYS(u_unlink(OWNER, "t/f"));
	return PC_PASS;
}

static int sticky_unlink_dir_owner(void)
{
	SYS(sticky_setup(U_OTHER));
	SYS(u_unlink(OTHER, "t/f"));
	return PC_PASS;
}

static int sticky_unlink_root(void)
{
	SYS(sticky_setup(U_OTHER));
	SYS(unlink("t/f"));
	return PC_PASS;
}

static int sticky_rename_other(void)
{
	SYS(sticky_setup(0));
	ERRNO2(u_rename(OTHER, "t/f", "t/g"), EPERM, EACCES);
	return PC_PASS;
}

static int sticky_rename_over_other(void)
{
	SYS(sticky_setup(0));
	SYS(mkfile_owned("t/mine", 0644, U_OTHER, G_OTHER, "mine"));
	ERRNO2(u_rename(OTHER, "t/mine", "t/f"), EPERM, EACCES);
	SYS(access("t/mine", F_OK));
	return PC_PASS;
}

static int sticky_rename_owner(void)
{
	SYS(sticky_setup(0));
	SYS(u_rename(OWNER, "t/f", "t/g"));
	SYS(access("t/g", F_OK));
	return PC_PASS;
}

static int sticky_rmdir_other(void)
{
	SYS(mkdir_owned("t", 01777, 0, 0));
	SYS(mkdir_owned("t/d", 0777, U_OWNER, G_OWNER));
	ERRNO2(u_rmdir(OTHER, "t/d"), EPERM, EACCES);
	SYS(u_rmdir(OWNER, "t/d"));
	return PC_PASS;
}

static int sticky_without_bit(void)
{
	SYS(mkdir_owned("t", 0777, 0, 0));
	SYS(mkfile_owned("t/f", 0644, U_OWNER, G_OWNER, "data"));
	SYS(u_unlink(OTHER, "t/f"));
	return PC_PASS;
}

static int sticky_write_other_file(void)
{
	SYS(sticky_setup(0));
	SYS(u_write(OTHER, "t/f", "DA"));
	return PC_PASS;
}

/* ---- setgid directories ---- */

static int sgid_setup(void)
{
	return mkdir_owned("s", 02777, 0, G_2000);
}

static int sgid_file_gid(void)
{
	struct stat st;

	SYS(sgid_setup());
	SYS(u_open(OWNER, "s/f", O_CREAT | O_WRONLY, 0644));
	SYS(stat("s/f", &st));
	CHECK_EQ(st.st_uid, U_OWNER);
	CHECK_EQ(st.st_gid, G_2000);
	return PC_PASS;
}

static int sgid_mkdir_inherits(void)
{
	struct stat st;

	SYS(sgid_setup());
	SYS(u_mkdir(OWNER, "s/d", 0755));
	SYS(stat("s/d", &st));
	CHECK_EQ(st.st_gid, G_2000);
	CHECK(st.st_mode & S_ISGID, "mode 0%o has no S_ISGID", st.st_mode & 07777);
	return PC_PASS;
}

static int sgid_plain_dir_gid(void)
{
	struct stat st;

	SYS(mkdir_owned("p", 0777, 0, G_2000));
	SYS(u_open(OWNER, "p/f", O_CREAT | O_WRONLY, 0644));
	SYS(stat("p/f", &st));
	CHECK_EQ(st.st_gid, G_OWNER);
	return PC_PASS;
}

static int sgid_root_create(void)
{
	struct stat st;

	SYS(sgid_setup());
	SYS(mkfile("s/f", 0644, NULL));
	SYS(stat("s/f", &st));
	CHECK_EQ(st.st_gid, G_2000);
	return PC_PASS;
}

static int sgid_other_types(void)
{
	struct stat st;

	SYS(sgid_setup());
	SYS(u_symlink(OWNER, "target", "s/l"));
	SYS(u_mknod(OWNER, "s/p", S_IFIFO | 0644, 0));
	SYS(lstat("s/l", &st));
	CHECK_EQ(st.st_gid, G_2000);
	SYS(lstat("s/p", &st));
	CHECK_EQ(st.st_gid, G_2000);
	return PC_PASS;
}

static int sgid_new_file_nonmember(void)
{
	SYS(sgid_setup());
	/* The creator is not in the group the file gets: no S_ISGID for it. */
	SYS(u_open(OWNER, "s/f", O_CREAT | O_WRONLY, 02755));
	CHECK_MODE("s/f", 0755);
	return PC_PASS;
}

static int sgid_new_file_member(void)
{
	SYS(sgid_setup());
	SYS(u_open(G2000, "s/f", O_CREAT | O_WRONLY, 02755));
	CHECK_MODE("s/f", 02755);
	return PC_PASS;
}

static int sgid_mkdir_mode(void)
{
	SYS(sgid_setup());
	SYS(u_mkdir(OWNER, "s/d", 0750));
	CHECK_MODE("s/d", 02750);
	return PC_PASS;
}

static int sgid_chmod_nonmember(void)
{
	SYS(mkdir_owned("d", 0775, U_OWNER, G_2000));
	SYS(u_chmod(OWNER, "d", 02775));
	CHECK_MODE("d", 0775);
	return PC_PASS;
}

static int sgid_chmod_member(void)
{
	SYS(mkdir_owned("d", 0775, U_G2000, G_2000));
	SYS(u_chmod(G2000, "d", 02775));
	CHECK_MODE("d", 02775);
	return PC_PASS;
}

static int sgid_rename_keeps_gid(void)
{
	struct stat st;

	SYS(sgid_setup());
	SYS(mkdir_owned("o", 0777, U_OWNER, G_OWNER));
	SYS(u_open(OWNER, "o/f", O_CREAT | O_WRONLY, 0644));
	SYS(u_rename(OWNER, "o/f", "s/f"));
	SYS(stat("s/f", &st));
	CHECK_EQ(st.st_gid, G_OWNER);
	return PC_PASS;
}

/* ---- set-user-ID / set-group-ID clearing ---- */

static int privs_write_clears_suid(void)
{
	SYS(mkfile_owned("f", 04755, U_OWNER, G_OWNER, "data"));
	SYS(u_write(OWNER, "f", "x"));
	CHECK_MODE("f", 0755);
	return PC_PASS;
}

static int privs_write_clears_sgid(void)
{
	SYS(mkfile_owned("f", 02775, U_OWNER, G_OWNER, "data"));
	SYS(u_write(OWNER, "f", "x"));
	CHECK_MODE("f", 0775);
	return PC_PASS;
}

static int privs_write_keeps_sgid_nogx(void)
{
	SYS(mkfile_owned("f", 02745, U_OWNER, G_OWNER, "data"));
	SYS(u_write(OWNER, "f", "x"));
	CHECK_MODE("f", 02745);
	return PC_PASS;
}

static int privs_write_root_keeps(void)
{
	int fd;

	SYS(mkfile_owned("f", 06755, U_OWNER, G_OWNER, "data"));
	fd = SYS(open("f", O_WRONLY));
	SYS(write(fd, "x", 1));
	SYS(close(fd));
	CHECK_MODE("f", 06755);
	return PC_PASS;
}

static int privs_truncate_clears(void)
{
	struct stat st;

	SYS(mkfile_owned("f", 04755, U_OWNER, G_OWNER, "data"));
	SYS(u_truncate(OWNER, "f", 2));
	CHECK_MODE("f", 0755);
	SYS(stat("f", &st));
	CHECK_EQ(st.st_size, 2);
	return PC_PASS;
}

static int privs_ftruncate_clears(void)
{
	SYS(mkfile_owned("f", 06775, U_OWNER, G_OWNER, "data"));
	SYS(u_ftruncate(OWNER, "f", 1));
	CHECK_MODE("f", 0775);
	return PC_PASS;
}

static int privs_group_writer_clears(void)
{
	SYS(mkfile_owned("f", 04775, U_OWNER, G_OWNER, "data"));
	SYS(u_write(MEMBER, "f", "x"));
	CHECK_MODE("f", 0775);
	return PC_PASS;
}

static int privs_chown_nonroot_clears(void)
{
	struct stat st;

	SYS(mkfile_owned("f", 06755, U_MEMBER, G_MEMBER, "data"));
	SYS(u_chown(MEMBER, "f", (uid_t)-1, G_OWNER));
	SYS(stat("f", &st));
	CHECK_EQ(st.st_gid, G_OWNER);
	CHECK_MODE("f", 0755);
	return PC_PASS;
}

static int privs_chown_root_clears_suid(void)
{
	struct stat st;

	SYS(mkfile("f", 04755, "data"));
	SYS(chown("f", U_OTHER, (gid_t)-1));
	SYS(stat("f", &st));
	CHECK_EQ(st.st_uid, U_OTHER);
	CHECK_MODE("f", 0755);
	return PC_PASS;
}

static int privs_chown_dir_keeps(void)
{
	SYS(mkdirm("d", 02755));
	SYS(chown("d", U_OWNER, G_2000));
	CHECK_MODE("d", 02755);
	return PC_PASS;
}

static int privs_fstat_sees_clear_fn(void *arg)
{
	struct stat st;
	int fd;

	(void)arg;
	fd = open("f", O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, "x", 1) != 1 || fstat(fd, &st) < 0) {
		close(fd);
		return EIO;
	}
	close(fd);
	/* The writer itself must see the bit gone, through its own fd. */
	return (st.st_mode & S_ISUID) ? EEXIST : 0;
}

static int privs_fstat_sees_clear(void)
{
	SYS(mkfile_owned("f", 04755, U_OWNER, G_OWNER, "data"));
	SYS(as_user(OWNER, privs_fstat_sees_clear_fn, NULL));
	return PC_PASS;
}

const struct pc_case pc_cases_perm[] = {
	{ "perm.read.owner", "owner reads a 0400 file", read_owner },
	{ "perm.read.owner_class_only", "owner of a 0077 file is denied (EACCES): only the owner class applies", read_owner_class_only },
	{ "perm.read.group_supplementary", "a supplementary-group member reads a 0040 file", read_group_supplementary },
	{ "perm.read.group_primary", "a primary-group member reads a 0040 file", read_group_primary },
	{ "perm.read.group_class_only", "a group member is denied a 0707 file that others may read", read_group_class_only },
	{ "perm.read.other_denied", "others get EACCES reading a 0660 file", read_other_denied },
	{ "perm.read.other_allowed", "others read a 0604 file", read_other_allowed },
	{ "perm.write.owner_denied", "owner without w (0577) gets EACCES for O_WRONLY and O_RDWR", write_owner_denied },
	{ "perm.write.group", "a group member writes a 0620 file in place", write_group },
	{ "perm.write.other_denied", "others get EACCES writing a 0664 file", write_other_denied },
	{ "perm.write.truncate_denied", "truncate() and O_TRUNC need write permission (EACCES)", write_truncate_denied },
	{ "perm.exec.other_denied", "others cannot execute a 0754 script (EACCES), the owner can", exec_other_denied },
	{ "perm.exec.other_allowed", "others execute a 0755 script", exec_other_allowed },
	{ "perm.exec.root_needs_x", "root cannot execute a file with no x bit (EACCES), can with one", exec_root_needs_x },
	{ "perm.exec.dir", "execve of a directory fails with EACCES", exec_dir_denied },
	{ "perm.dir.search_denied", "no x on a directory (0776): stat and open inside give EACCES", dir_search_denied },
	{ "perm.dir.search_only", "x without r (0711): names inside resolve, listing gives EACCES", dir_search_only },
	{ "perm.dir.list_no_search", "r without x (0744): listing works, stat inside gives EACCES", dir_list_no_search },
	{ "perm.dir.create_denied", "no w on the directory: create, mkdir, symlink give EACCES", dir_create_denied },
	{ "perm.dir.create_needs_search", "w without x (0776) on the directory: create gives EACCES", dir_create_needs_search },
	{ "perm.dir.create_group", "group w on the directory lets a member create; file gets its uid/gid", dir_create_group },
	{ "perm.dir.unlink_denied", "unlink/rename need w on the directory, whoever owns the file", dir_unlink_denied },
	{ "perm.dir.unlink_any_file", "w+x on a non-sticky directory unlinks anyone's 0000 file", dir_unlink_any_file },
	{ "perm.dir.move_needs_write", "moving a directory to a new parent needs w on it (EACCES)", dir_move_needs_write },
	{ "perm.access.other", "access() as others: F_OK, R_OK pass; W_OK, X_OK give EACCES", access_other },
	{ "perm.access.root", "access() as root: R/W always, X_OK needs an x bit", access_root },
	{ "perm.access.search", "access() through a 0700 directory gives EACCES", access_search },
	{ "perm.root.override", "root reads/writes a 0000 file and creates in a 0000 directory", root_override },
	{ "perm.chmod.owner", "the owner changes the mode", chmod_owner },
	{ "perm.chmod.nonowner", "a non-owner (even a group member) gets EPERM from chmod", chmod_nonowner },
	{ "perm.chmod.sgid_nonmember", "chmod g+s by an owner outside the file's group drops S_ISGID", chmod_sgid_nonmember },
	{ "perm.chmod.sgid_member", "chmod g+s by an owner in the file's group keeps S_ISGID", chmod_sgid_member },
	{ "perm.chmod.suid_owner", "the owner sets S_ISUID", chmod_suid_owner },
	{ "perm.chown.give_away", "a non-root owner cannot give a file away (EPERM)", chown_give_away },
	{ "perm.chown.group_member", "the owner changes the group to one it is in", chown_group_member },
	{ "perm.chown.group_nonmember", "the owner cannot change the group to one it is not in (EPERM)", chown_group_nonmember },
	{ "perm.chown.nonowner", "a non-owner cannot change the group (EPERM)", chown_nonowner },
	{ "perm.chown.noop", "the owner may chown to its own uid/gid and to -1/-1", chown_noop },
	{ "perm.chown.root", "root changes owner and group; -1 leaves one unchanged", chown_root },
	{ "perm.utime.now_writer", "utimensat(NULL) by a non-owner with write permission works", utime_now_writer },
	{ "perm.utime.explicit_nonowner", "explicit times by a non-owner give EPERM even with write permission", utime_explicit_nonowner },
	{ "perm.utime.now_nowrite", "utimensat(NULL) by a non-owner without write permission gives EACCES", utime_now_nowrite },
	{ "perm.utime.owner_explicit", "the owner sets explicit times on its read-only file", utime_owner_explicit },
	{ "perm.open.creat_existing_denied", "O_CREAT|O_WRONLY on an existing unwritable file gives EACCES", open_creat_existing_denied },
	{ "perm.open.create_readonly_mode", "O_CREAT|O_RDWR with mode 0444 returns a writable fd; later opens are refused", open_create_readonly_mode },
	{ "perm.open.fd_after_chmod", "an open fd keeps writing after fchmod 0", fd_after_chmod },
	{ "sticky.unlink.other", "sticky directory: others cannot unlink a file (EPERM)", sticky_unlink_other },
	{ "sticky.unlink.file_owner", "sticky directory: the file's owner unlinks it", sticky_unlink_file_owner },
	{ "sticky.unlink.dir_owner", "sticky directory: the directory's owner unlinks others' files", sticky_unlink_dir_owner },
	{ "sticky.unlink.root", "sticky directory: root unlinks anything", sticky_unlink_root },
	{ "sticky.rename.other", "sticky directory: others cannot rename a file away (EPERM)", sticky_rename_other },
	{ "sticky.rename.over_other", "sticky directory: others cannot rename their file over it (EPERM)", sticky_rename_over_other },
	{ "sticky.rename.owner", "sticky directory: the file's owner renames it", sticky_rename_owner },
	{ "sticky.rmdir.other", "sticky directory: others cannot rmdir a subdirectory; its owner can", sticky_rmdir_other },
	{ "sticky.without_bit", "without the sticky bit anyone with w+x unlinks others' files", sticky_without_bit },
	{ "sticky.write_other_file", "the sticky bit does not stop writing a world-writable file", sticky_write_other_file },
	{ "sgid.file_gid", "new file in a setgid directory gets the directory's group", sgid_file_gid },
	{ "sgid.mkdir_inherits", "new subdirectory gets the group and the setgid bit", sgid_mkdir_inherits },
	{ "sgid.plain_dir_gid", "without setgid the new file gets the creator's gid", sgid_plain_dir_gid },
	{ "sgid.root_create", "root's new file in a setgid directory gets its group", sgid_root_create },
	{ "sgid.other_types", "symlinks and fifos in a setgid directory get its group", sgid_other_types },
	{ "sgid.new_file_nonmember", "a non-member's new 02755 file in a setgid directory loses S_ISGID", sgid_new_file_nonmember },
	{ "sgid.new_file_member", "a member's new 02755 file in a setgid directory keeps S_ISGID", sgid_new_file_member },
	{ "sgid.mkdir_mode", "mkdir 0750 in a setgid directory gives 02750", sgid_mkdir_mode },
	{ "sgid.chmod_nonmember", "chmod g+s of a directory by an owner outside its group drops S_ISGID", sgid_chmod_nonmember },
	{ "sgid.chmod_member", "chmod g+s of a directory by an owner in its group keeps S_ISGID", sgid_chmod_member },
	{ "sgid.rename_keeps_gid", "renaming a file into a setgid directory keeps its group", sgid_rename_keeps_gid },
	{ "privs.write_clears_suid", "a non-root write clears S_ISUID", privs_write_clears_suid },
	{ "privs.write_clears_sgid", "a non-root write clears S_ISGID of a group-executable file", privs_write_clears_sgid },
	{ "privs.write_keeps_sgid_nogx", "a write by a group member keeps S_ISGID without group x", privs_write_keeps_sgid_nogx },
	{ "privs.write_root_keeps", "a write by root keeps S_ISUID and S_ISGID", privs_write_root_keeps },
	{ "privs.truncate_clears", "truncate() by the owner clears S_ISUID", privs_truncate_clears },
	{ "privs.ftruncate_clears", "ftruncate() by the owner clears S_ISUID and S_ISGID", privs_ftruncate_clears },
	{ "privs.group_writer_clears", "a write by a group member (not the owner) clears S_ISUID", privs_group_writer_clears },
	{ "privs.fstat_sees_clear", "the writer's fstat shows S_ISUID cleared right after its write", privs_fstat_sees_clear },
	{ "privs.chown_nonroot_clears", "chown by the non-root owner clears S_ISUID and S_ISGID", privs_chown_nonroot_clears },
	{ "privs.chown_root_clears_suid", "chown by root clears S_ISUID of a regular file", privs_chown_root_clears_suid },
	{ "privs.chown_dir_keeps", "chown of a directory keeps its S_ISGID", privs_chown_dir_keeps },
	{ NULL, NULL, NULL },
};

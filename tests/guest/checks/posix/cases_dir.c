/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading directories: large directories listed exactly once (also while
 * already-seen entries are unlinked, and through getdents64 with a small
 * buffer), telldir/seekdir, rewinddir, ".", "..", d_ino and d_type.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "posix.h"

#define MANY 5000
#define NAME_FMT "entry-%05d-with-a-longer-name"

static void entry_name(char *buf, size_t cap, int i)
{
	snprintf(buf, cap, NAME_FMT, i);
}

/* Index of an entry name made by entry_name(), or -1. */
static int entry_index(const char *name)
{
	int i, end = 0;

	if (sscanf(name, "entry-%5d-with-a-longer-name%n", &i, &end) != 1 ||
	    name[end] != '\0' || i < 0 || i >= MANY)
		return -1;
	return i;
}

static int make_many(const char *dir, int n)
{
	char name[64];
	int dfd;

	if (mkdirm(dir, 0755) < 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		entry_name(name, sizeof(name), i);
		/* mknod makes a regular file in one request, without an open. */
		if (mknodat(dfd, name, S_IFREG | 0644, 0) < 0) {
			int e = errno;

			close(dfd);
			errno = e;
			return -1;
		}
	}
	return close(dfd);
}

/* Checks that every seen[i] is 1; notes the first few that are not. */
static int check_once(const unsigned char *seen, int n, int extra)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		if (seen[i] != 1) {
			if (bad < 5)
				pc_note("entry %d seen %d times", i, seen[i]);
			bad++;
		}
	}
	CHECK(bad == 0 && extra == 0, "%d entries not seen exactly once, %d unexpected names",
	      bad, extra);
	return PC_PASS;
}

static int large_exactly_once(void)
{
	unsigned char *seen = calloc(MANY, 1);
	struct dirent *de;
	int extra = 0, dots = 0;
	DIR *d;

	CHECK(seen != NULL, "out of memory");
	SYS(make_many("d", MANY));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	errno = 0;
	while ((de = readdir(d))) {
		int i = entry_index(de->d_name);

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			dots++;
		else if (i < 0)
			extra++;
		else if (seen[i] < 255)
			seen[i]++;
	}
	CHECK(errno == 0, "readdir: %m");
	closedir(d);
	CHECK_EQ(dots, 2);
	if (check_once(seen, MANY, extra) != PC_PASS)
		return PC_FAIL;
	free(seen);
	return PC_PASS;
}

static int large_unlink_seen(void)
{
	unsigned char *seen = calloc(MANY, 1);
	unsigned char *gone = calloc(MANY, 1);
	char name[64];
	struct dirent *de;
	int extra = 0, count = 0, left = 0, twice = 0, dfd;
	DIR *d;

	CHECK(seen && gone, "out of memory");
	SYS(make_many("d", MANY));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	dfd = dirfd(d);
	errno = 0;
	while ((de = readdir(d))) {
		int i = entry_index(de->d_name);

		if (i < 0) {
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				extra++;
			continue;
		}
		if (seen[i] && !twice++)
			pc_note("entry %d returned again", i);
		if (seen[i] < 255)
			seen[i]++;
		/* Remove what was just returned, and an older one now and then. */
		SYS(unlinkat(dfd, de->d_name, 0));
		gone[i] = 1;
		if (++count % 7 == 0 && i >= 3 && seen[i - 3] && !gone[i - 3]) {
			entry_name(name, sizeof(name), i - 3);
			SYS(unlinkat(dfd, name, 0));
			gone[i - 3] = 1;
		}
		errno = 0;
	}
	CHECK(errno == 0, "readdir: %m");
	closedir(d);
	/* Entries that were never removed before being reached: exactly once. */
	if (check_once(seen, MANY, extra) != PC_PASS)
		return PC_FAIL;
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			left++;
	closedir(d);
	CHECK(left == 0, "%d entries left after unlinking them all", left);
	free(seen);
	free(gone);
	return PC_PASS;
}

static int large_getdents_small(void)
{
	unsigned char *seen = calloc(MANY, 1);
	char buf[256];
	int fd, extra = 0, calls = 0;
	ssize_t n;

	CHECK(seen != NULL, "out of memory");
	SYS(make_many("d", MANY));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	while ((n = SYS(getdents64(fd, buf, sizeof(buf)))) > 0) {
		calls++;
		for (ssize_t off = 0; off < n;) {
			/* Records are packed in the buffer: read the fields in place. */
			const char *name = buf + off + offsetof(struct dirent64, d_name);
			unsigned short reclen;
			int i = entry_index(name);

			memcpy(&reclen, buf + off + offsetof(struct dirent64, d_reclen),
			       sizeof(reclen));
			if (i >= 0 && seen[i] < 255)
				seen[i]++;
			else if (i < 0 && strcmp(name, ".") && strcmp(name, ".."))
				extra++;
			CHECK(reclen > 0, "a zero d_reclen");
			off += reclen;
		}
	}
	SYS(close(fd));
	CHECK(calls > MANY / 8, "only %d getdents64 calls", calls);
	if (check_once(seen, MANY, extra) != PC_PASS)
		return PC_FAIL;
	free(seen);
	return PC_PASS;
}

static int getdents_too_small(void)
{
	char buf[8];
	int fd;

	SYS(mkdirm("d", 0755));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	ERRNO(getdents64(fd, buf, sizeof(buf)), EINVAL);
	SYS(close(fd));
	return PC_PASS;
}

static int telldir_seekdir(void)
{
	char first[50][64];
	struct dirent *de;
	long pos;
	int k = 0;
	DIR *d;

	SYS(make_many("d", 300));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	for (int i = 0; i < 100; i++)
		CHECK(readdir(d) != NULL, "directory ended after %d entries", i);
	pos = telldir(d);
	CHECK(pos != -1, "telldir: %m");
	for (k = 0; k < 50; k++) {
		de = readdir(d);
		CHECK(de != NULL, "directory ended early");
		snprintf(first[k], sizeof(first[k]), "%.63s", de->d_name);
	}
	/* Read on, then go back: the same names in the same order. */
	while (readdir(d))
		;
	seekdir(d, pos);
	for (k = 0; k < 50; k++) {
		de = readdir(d);
		CHECK(de != NULL, "directory ended after seekdir");
		CHECK(strcmp(de->d_name, first[k]) == 0, "after seekdir entry %d is %s, was %s",
		      k, de->d_name, first[k]);
	}
	closedir(d);
	return PC_PASS;
}

static int rewinddir_sees_new(void)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	SYS(make_many("d", 20));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	while (readdir(d))
		;
	SYS(mkfile("d/late", 0644, NULL));
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, "late") == 0)
			found = true;
	closedir(d);
	CHECK(found, "a file created before rewinddir is not listed after it");
	return PC_PASS;
}

static int lseek_dir_zero(void)
{
	/* Zeroed: the padding after each name is not written by the kernel. */
	char a[4096] = { 0 }, b[4096] = { 0 };
	ssize_t n, m;
	int fd;

	SYS(make_many("d", 50));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	n = SYS(getdents64(fd, a, sizeof(a)));
	SYS(lseek(fd, 0, SEEK_SET));
	m = SYS(getdents64(fd, b, sizeof(b)));
	CHECK(n == m && memcmp(a, b, (size_t)n) == 0, "the listing after lseek(0) differs (%zd and %zd bytes)", n, m);
	SYS(close(fd));
	return PC_PASS;
}

static int dots(void)
{
	struct stat self, parent;
	struct dirent *de;
	int n = 0, seen = 0;
	DIR *d;

	SYS(mkdirm("d", 0755));
	SYS(stat("d", &self));
	SYS(stat(".", &parent));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	while ((de = readdir(d))) {
		n++;
		if (strcmp(de->d_name, ".") == 0) {
			seen |= 1;
			CHECK_EQ(de->d_ino, self.st_ino);
		} else if (strcmp(de->d_name, "..") == 0) {
			seen |= 2;
			CHECK_EQ(de->d_ino, parent.st_ino);
		}
	}
	closedir(d);
	CHECK(n == 2 && seen == 3, "an empty directory lists %d entries (dots 0x%x)", n, seen);
	return PC_PASS;
}

static int ino_matches(void)
{
	struct dirent *de;
	struct stat st;
	int n = 0;
	DIR *d;

	SYS(make_many("d", 100));
	SYS(mkdirm("d/sub", 0755));
	SYS(symlink("x", "d/link"));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		SYS(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW));
		CHECK(de->d_ino == st.st_ino, "%s: d_ino %llu, st_ino %llu", de->d_name,
		      (unsigned long long)de->d_ino, (unsigned long long)st.st_ino);
		n++;
	}
	closedir(d);
	CHECK_EQ(n, 102);
	return PC_PASS;
}

static int dtype(void)
{
	static const struct {
		const char *name;
		unsigned char type;
	} want[] = {
		{ "reg", DT_REG }, { "dir", DT_DIR }, { "lnk", DT_LNK },
		{ "fifo", DT_FIFO }, { "sock", DT_SOCK }, { "chr", DT_CHR },
		{ "blk", DT_BLK },
	};
	struct dirent *de;
	int found = 0;
	DIR *d;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/reg", 0644, NULL));
	SYS(mkdirm("d/dir", 0755));
	SYS(symlink("reg", "d/lnk"));
	SYS(mkfifo("d/fifo", 0644));
	SYS(mknod("d/sock", S_IFSOCK | 0644, 0));
	SYS(mknod("d/chr", S_IFCHR | 0644, makedev(1, 3)));
	SYS(mknod("d/blk", S_IFBLK | 0644, makedev(7, 0)));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	while ((de = readdir(d))) {
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			if (strcmp(de->d_name, want[i].name) == 0) {
				CHECK(de->d_type == want[i].type, "%s has d_type %d, want %d",
				      de->d_name, de->d_type, want[i].type);
				found++;
			}
		}
	}
	closedir(d);
	CHECK_EQ(found, 7);
	return PC_PASS;
}

static int readdir_after_changes(void)
{
	struct dirent *de;
	int n = 0, late = 0;
	DIR *d;

	SYS(make_many("d", 30));
	SYS(unlink("d/entry-00003-with-a-longer-name"));
	SYS(rename("d/entry-00004-with-a-longer-name", "d/renamed"));
	d = opendir("d");
	CHECK(d != NULL, "opendir: %m");
	while ((de = readdir(d))) {
		CHECK(strcmp(de->d_name, "entry-00003-with-a-longer-name") != 0, "an unlinked name is listed");
		CHECK(strcmp(de->d_name, "entry-00004-with-a-longer-name") != 0, "a renamed-away name is listed");
		if (strcmp(de->d_name, "renamed") == 0)
			late++;
		n++;
	}
	closedir(d);
	CHECK_EQ(late, 1);
	CHECK_EQ(n, 31);
	return PC_PASS;
}

const struct pc_case pc_cases_dir[] = {
	{ "dir.large.exactly_once", "readdir of 5000 entries returns each exactly once, plus . and ..", large_exactly_once },
	{ "dir.large.unlink_seen", "unlinking entries already returned while reading: the rest come exactly once", large_unlink_seen },
	{ "dir.large.getdents_small", "getdents64 with a 256-byte buffer over 5000 entries: each exactly once", large_getdents_small },
	{ "dir.getdents_too_small", "getdents64 with a buffer too small for one entry: EINVAL", getdents_too_small },
	{ "dir.telldir_seekdir", "seekdir to a telldir position replays the same entries", telldir_seekdir },
	{ "dir.rewinddir", "rewinddir shows a file created since opendir", rewinddir_sees_new },
	{ "dir.lseek_zero", "lseek(dirfd, 0, SEEK_SET) restarts the listing identically", lseek_dir_zero },
	{ "dir.dots", "an empty directory lists . and .. with the right d_ino", dots },
	{ "dir.ino_matches", "d_ino equals lstat's st_ino for every entry", ino_matches },
	{ "dir.dtype", "d_type is right for regular, dir, symlink, fifo, socket, char and block", dtype },
	{ "dir.after_changes", "a listing after unlink and rename shows exactly the current names", readdir_after_changes },
	{ NULL, NULL, NULL },
};

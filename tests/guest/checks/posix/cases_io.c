/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * File data: truncate, O_APPEND, O_TRUNC, reads and writes past the end
 * (holes), hole punching, SEEK_DATA/SEEK_HOLE, fallocate, the sync calls,
 * shared mappings, O_DIRECT, copy_file_range, vectored and large I/O.
 */
#include <fcntl.h>
#include <linux/falloc.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "posix.h"

#define MIB (1024 * 1024)

static char *filled(size_t len, unsigned char c)
{
	char *p = malloc(len);

	if (p)
		memset(p, c, len);
	return p;
}

/* Checks that [off, off + len) of @fd reads as @c. */
static int check_range(int fd, off_t off, size_t len, unsigned char c)
{
	char *buf = malloc(len);

	CHECK(buf != NULL, "out of memory");
	SYS(pread_all(fd, buf, len, off));
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)buf[i] == c, "byte %lld is 0x%02x, want 0x%02x",
		      (long long)off + (long long)i, (unsigned char)buf[i], c);
	free(buf);
	return PC_PASS;
}

#define CHECK_RANGE(fd, off, len, c)					\
	do {								\
		if (check_range((fd), (off), (len), (c)) != PC_PASS)	\
			return PC_FAIL;					\
	} while (0)

static off_t size_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) < 0 ? -1 : st.st_size;
}

/* ---- truncate ---- */

static int trunc_extend(void)
{
	int fd;

	SYS(mkfile("f", 0644, "abc"));
	SYS(truncate("f", 100000));
	fd = SYS(open("f", O_RDONLY));
	CHECK_EQ(size_of(fd), 100000);
	CHECK_RANGE(fd, 3, 100000 - 3, 0);
	SYS(close(fd));
	return PC_PASS;
}

static int trunc_shrink_zero_fill(void)
{
	char *data = filled(8192, 'x');
	int fd;

	CHECK(data != NULL, "out of memory");
	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(write_all(fd, data, 8192));
	SYS(ftruncate(fd, 100));
	CHECK_EQ(size_of(fd), 100);
	SYS(ftruncate(fd, 8192));
	/* What was cut off must not come back. */
	CHECK_RANGE(fd, 0, 100, 'x');
	CHECK_RANGE(fd, 100, 8192 - 100, 0);
	SYS(close(fd));
	free(data);
	return PC_PASS;
}

static int trunc_page_cache(void)
{
	char buf[16] = "";
	int fd, fd2;

	SYS(mkfile("f", 0644, "0123456789"));
	fd = SYS(open("f", O_RDONLY));
	SYS(pread(fd, buf, 10, 0));
	/* A truncate through another path is seen by an already open fd. */
	SYS(truncate("f", 4));
	CHECK_EQ(SYS(pread(fd, buf, 10, 0)), 4);
	fd2 = SYS(open("f", O_WRONLY));
	SYS(ftruncate(fd2, 0));
	CHECK_EQ(SYS(pread(fd, buf, 10, 0)), 0);
	SYS(close(fd2));
	SYS(close(fd));
	return PC_PASS;
}

static int ftrunc_rdonly(void)
{
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDONLY));
	ERRNO2(ftruncate(fd, 0), EINVAL, EBADF);
	CHECK_EQ(size_of(fd), 4);
	SYS(close(fd));
	return PC_PASS;
}

static int trunc_errors(void)
{
	SYS(mkdirm("d", 0755));
	SYS(mkfile("f", 0644, "data"));
	ERRNO(truncate("d", 0), EISDIR);
	ERRNO(truncate("f", -1), EINVAL);
	ERRNO(truncate("none", 0), ENOENT);
	return PC_PASS;
}

/* ---- O_APPEND, O_TRUNC ---- */

static int append_after_seek(void)
{
	char buf[16];
	int fd;

	SYS(mkfile("f", 0644, "abc"));
	fd = SYS(open("f", O_WRONLY | O_APPEND));
	SYS(lseek(fd, 0, SEEK_SET));
	CHECK_EQ(SYS(write(fd, "de", 2)), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 5);
	SYS(close(fd));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "abcde") == 0, "content \"%s\"", buf);
	return PC_PASS;
}

static int append_two_fds(void)
{
	char buf[64];
	int a, b;

	SYS(mkfile("f", 0644, ""));
	a = SYS(open("f", O_WRONLY | O_APPEND));
	b = SYS(open("f", O_WRONLY | O_APPEND));
	for (int i = 0; i < 5; i++) {
		SYS(write(a, "A", 1));
		SYS(write(b, "BB", 2));
	}
	SYS(close(a));
	SYS(close(b));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "ABBABBABBABBABB") == 0, "content \"%s\"", buf);
	return PC_PASS;
}

static int append_other_writer(void)
{
	char buf[64];
	int a, w;

	SYS(mkfile("f", 0644, "12345"));
	a = SYS(open("f", O_WRONLY | O_APPEND));
	w = SYS(open("f", O_WRONLY));
	/* Another fd extends the file; the append fd must find the new end. */
	SYS(pwrite(w, "67890", 5, 5));
	SYS(write(a, "X", 1));
	SYS(close(a));
	SYS(close(w));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "1234567890X") == 0, "content \"%s\"", buf);
	return PC_PASS;
}

static int append_pwrite(void)
{
	char buf[16];
	int fd;

	SYS(mkfile("f", 0644, "abc"));
	fd = SYS(open("f", O_WRONLY | O_APPEND));
	/* Linux appends pwrite()s on O_APPEND fds (documented in pwrite(2)). */
	SYS(pwrite(fd, "Z", 1, 0));
	SYS(close(fd));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "abcZ") == 0, "content \"%s\"", buf);
	return PC_PASS;
}

static int o_trunc(void)
{
	char buf[8];
	int fd;

	SYS(mkfile("f", 0644, "long content"));
	fd = SYS(open("f", O_WRONLY | O_TRUNC));
	CHECK_EQ(size_of(fd), 0);
	SYS(write(fd, "ab", 2));
	SYS(close(fd));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "ab") == 0, "content \"%s\"", buf);
	return PC_PASS;
}

static int o_trunc_open_reader(void)
{
	char buf[16];
	int r, w;

	SYS(mkfile("f", 0644, "0123456789"));
	r = SYS(open("f", O_RDONLY));
	SYS(pread(r, buf, 10, 0));
	w = SYS(open("f", O_WRONLY | O_TRUNC));
	CHECK_EQ(SYS(pread(r, buf, 10, 0)), 0);
	SYS(write(w, "xy", 2));
	CHECK_EQ(SYS(pread(r, buf, 10, 0)), 2);
	SYS(close(w));
	SYS(close(r));
	return PC_PASS;
}

/* ---- reads and writes at offsets ---- */

static int pwrite_beyond_eof(void)
{
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(write(fd, "head", 4));
	SYS(pwrite(fd, "tail", 4, MIB));
	CHECK_EQ(size_of(fd), MIB + 4);
	CHECK_RANGE(fd, 4, MIB - 4, 0);
	/* The file offset is not moved by pwrite. */
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 4);
	SYS(close(fd));
	return PC_PASS;
}

static int pread_beyond_eof(void)
{
	char buf[16];
	int fd;

	SYS(mkfile("f", 0644, "0123456789"));
	fd = SYS(open("f", O_RDONLY));
	CHECK_EQ(SYS(pread(fd, buf, sizeof(buf), 100)), 0);
	CHECK_EQ(SYS(pread(fd, buf, sizeof(buf), 10)), 0);
	CHECK_EQ(SYS(pread(fd, buf, sizeof(buf), 7)), 3);
	CHECK(memcmp(buf, "789", 3) == 0, "read \"%.3s\"", buf);
	ERRNO(pread(fd, buf, 1, -1), EINVAL);
	SYS(close(fd));
	return PC_PASS;
}

static int write_lseek_hole(void)
{
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(lseek(fd, 10000, SEEK_SET));
	CHECK_EQ(size_of(fd), 0);
	SYS(write(fd, "x", 1));
	CHECK_EQ(size_of(fd), 10001);
	CHECK_RANGE(fd, 0, 10000, 0);
	CHECK_EQ(lseek(fd, 0, SEEK_END), 10001);
	CHECK_EQ(lseek(fd, -1, SEEK_CUR), 10000);
	ERRNO(lseek(fd, -20000, SEEK_CUR), EINVAL);
	SYS(close(fd));
	return PC_PASS;
}

static int bad_fd_modes(void)
{
	char c;
	int r, w;

	SYS(mkfile("f", 0644, "data"));
	r = SYS(open("f", O_RDONLY));
	w = SYS(open("f", O_WRONLY));
	ERRNO(write(r, "x", 1), EBADF);
	ERRNO(read(w, &c, 1), EBADF);
	SYS(close(r));
	SYS(close(w));
	return PC_PASS;
}

static int readv_writev(void)
{
	char a[3], b[5], c[2];
	struct iovec wv[3] = { { "abc", 3 }, { "defgh", 5 }, { "ij", 2 } };
	struct iovec rv[3] = { { c, 2 }, { a, 3 }, { b, 5 } };
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	CHECK_EQ(SYS(writev(fd, wv, 3)), 10);
	CHECK_EQ(SYS(preadv(fd, rv, 3, 0)), 10);
	CHECK(memcmp(c, "ab", 2) == 0 && memcmp(a, "cde", 3) == 0 &&
	      memcmp(b, "fghij", 5) == 0, "preadv scattered the wrong bytes");
	SYS(close(fd));
	return PC_PASS;
}

static int large_io(void)
{
	size_t len = 8 * MIB;
	unsigned char *w = malloc(len), *r = malloc(len);
	int fd;

	CHECK(w && r, "out of memory");
	for (size_t i = 0; i < len; i++)
		w[i] = (unsigned char)(i * 7 + i / 4096);
	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	/* One call each way: the transport splits it, the data must not care. */
	CHECK_EQ(SYS(pwrite(fd, w, len, 0)), (long long)len);
	SYS(pread_all(fd, r, len, 0));
	CHECK(memcmp(w, r, len) == 0, "8 MiB read back differently");
	SYS(close(fd));
	free(w);
	free(r);
	return PC_PASS;
}

static int two_fds_coherent(void)
{
	char buf[8] = "";
	int a, b;

	SYS(mkfile("f", 0644, "aaaa"));
	a = SYS(open("f", O_RDWR));
	b = SYS(open("f", O_RDONLY));
	SYS(pread(b, buf, 4, 0));
	SYS(pwrite(a, "bb", 2, 1));
	SYS(pread(b, buf, 4, 0));
	CHECK(memcmp(buf, "abba", 4) == 0, "second fd reads \"%.4s\"", buf);
	SYS(close(a));
	SYS(close(b));
	return PC_PASS;
}

static int large_offset(void)
{
	off_t off = (off_t)1 << 40;
	char buf[4] = "";
	struct stat st;
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(pwrite(fd, "big", 3, off));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, off + 3);
	CHECK(st.st_blocks < 1024, "a 1 TiB sparse file uses %lld blocks",
	      (long long)st.st_blocks);
	SYS(pread(fd, buf, 3, off));
	CHECK(memcmp(buf, "big", 3) == 0, "read \"%.3s\"", buf);
	SYS(close(fd));
	return PC_PASS;
}

static int efbig(void)
{
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	ERRNO2(pwrite(fd, "x", 1, (off_t)0x7ffffffffffff000LL), EFBIG, EINVAL);
	ERRNO2(ftruncate(fd, (off_t)0x7ffffffffffff000LL), EFBIG, EINVAL);
	CHECK_EQ(size_of(fd), 0);
	SYS(close(fd));
	return PC_PASS;
}

/* ---- holes, fallocate, SEEK_DATA / SEEK_HOLE ---- */

static int punch_hole(void)
{
	char *data = filled(MIB, 'p');
	struct stat before, after;
	int fd;

	CHECK(data != NULL, "out of memory");
	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(write_all(fd, data, MIB));
	SYS(fsync(fd));
	SYS(fstat(fd, &before));
	SYS(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 65536, 262144));
	SYS(fstat(fd, &after));
	CHECK_EQ(after.st_size, MIB);
	CHECK(after.st_blocks < before.st_blocks, "st_blocks %lld, before %lld",
	      (long long)after.st_blocks, (long long)before.st_blocks);
	CHECK_RANGE(fd, 0, 65536, 'p');
	CHECK_RANGE(fd, 65536, 262144, 0);
	CHECK_RANGE(fd, 65536 + 262144, MIB - 65536 - 262144, 'p');
	SYS(close(fd));
	free(data);
	return PC_PASS;
}

static int punch_needs_keep_size(void)
{
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDWR));
	ERRNO(fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 2), EOPNOTSUPP);
	SYS(close(fd));
	return PC_PASS;
}

static int punch_cached(void)
{
	char buf[8192];
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	memset(buf, 'c', sizeof(buf));
	SYS(write_all(fd, buf, sizeof(buf)));
	/* Read it so it is cached, then punch: the cache must not win. */
	SYS(pread_all(fd, buf, sizeof(buf), 0));
	SYS(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	CHECK_RANGE(fd, 0, 4096, 0);
	CHECK_RANGE(fd, 4096, 4096, 'c');
	SYS(close(fd));
	return PC_PASS;
}

static int seek_data_hole(void)
{
	char *data = filled(65536, 'd');
	off_t size = 4 * MIB + 65536;
	off_t r;
	int fd;

	CHECK(data != NULL, "out of memory");
	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(pwrite(fd, data, 65536, 0));
	SYS(pwrite(fd, data, 65536, 4 * MIB));
	SYS(fsync(fd));
	CHECK_EQ(SYS(lseek(fd, 0, SEEK_DATA)), 0);
	r = SYS(lseek(fd, 0, SEEK_HOLE));
	CHECK(r >= 65536 && r <= 4 * MIB, "SEEK_HOLE from 0 gives %lld", (long long)r);
	/* Without hole reporting a file system may call it all data. */
	r = SYS(lseek(fd, 2 * MIB, SEEK_DATA));
	CHECK(r == 2 * MIB || r == 4 * MIB, "SEEK_DATA from the hole gives %lld", (long long)r);
	CHECK_EQ(SYS(lseek(fd, 4 * MIB + 100, SEEK_HOLE)), size);
	ERRNO(lseek(fd, size, SEEK_DATA), ENXIO);
	ERRNO(lseek(fd, size + 10, SEEK_HOLE), ENXIO);
	SYS(close(fd));
	free(data);
	return PC_PASS;
}

static int seek_hole_finds_hole(void)
{
	char *data = filled(65536, 'd');
	int fd;

	CHECK(data != NULL, "out of memory");
	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(pwrite(fd, data, 65536, 0));
	SYS(pwrite(fd, data, 65536, 4 * MIB));
	SYS(fsync(fd));
	/* The real hole, as a file system that tracks holes reports it. */
	CHECK_EQ(SYS(lseek(fd, 0, SEEK_HOLE)), 65536);
	CHECK_EQ(SYS(lseek(fd, 65536, SEEK_DATA)), 4 * MIB);
	SYS(close(fd));
	free(data);
	return PC_PASS;
}

static int seek_data_empty(void)
{
	int fd;

	SYS(mkfile("f", 0644, NULL));
	fd = SYS(open("f", O_RDONLY));
	ERRNO(lseek(fd, 0, SEEK_DATA), ENXIO);
	ERRNO(lseek(fd, 0, SEEK_HOLE), ENXIO);
	SYS(close(fd));
	return PC_PASS;
}

static int fallocate_extend(void)
{
	struct stat st;
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(write(fd, "abc", 3));
	SYS(fallocate(fd, 0, 0, MIB));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, MIB);
	CHECK(st.st_blocks * 512 >= MIB, "st_blocks %lld for 1 MiB allocated",
	      (long long)st.st_blocks);
	CHECK_RANGE(fd, 3, MIB - 3, 0);
	SYS(close(fd));
	return PC_PASS;
}

static int fallocate_keep_size(void)
{
	struct stat st;
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(write(fd, "abc", 3));
	SYS(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, MIB));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 3);
	CHECK(st.st_blocks * 512 >= MIB, "st_blocks %lld for 1 MiB allocated",
	      (long long)st.st_blocks);
	SYS(close(fd));
	return PC_PASS;
}

static int posix_fallocate_extends(void)
{
	int fd, r;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	r = posix_fallocate(fd, 4096, 8192);
	CHECK(r == 0, "posix_fallocate: %s", strerror(r));
	CHECK_EQ(size_of(fd), 12288);
	CHECK_RANGE(fd, 0, 12288, 0);
	SYS(close(fd));
	return PC_PASS;
}

static int zero_range(void)
{
	char buf[16384];
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	memset(buf, 'z', sizeof(buf));
	SYS(write_all(fd, buf, sizeof(buf)));
	SYS(fallocate(fd, FALLOC_FL_ZERO_RANGE, 4096, 8192));
	CHECK_RANGE(fd, 0, 4096, 'z');
	CHECK_RANGE(fd, 4096, 8192, 0);
	CHECK_RANGE(fd, 12288, 4096, 'z');
	CHECK_EQ(size_of(fd), 16384);
	SYS(close(fd));
	return PC_PASS;
}

static int sparse_blocks(void)
{
	struct stat st;
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(ftruncate(fd, 64 * MIB));
	SYS(fsync(fd));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 64 * MIB);
	CHECK(st.st_blocks < 1024, "a truncated-up 64 MiB file uses %lld blocks",
	      (long long)st.st_blocks);
	SYS(close(fd));
	return PC_PASS;
}

/* ---- syncing ---- */

static int sync_calls(void)
{
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(write(fd, "data", 4));
	SYS(fsync(fd));
	SYS(write(fd, "more", 4));
	SYS(fdatasync(fd));
	SYS(syncfs(fd));
	SYS(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
	SYS(close(fd));
	return PC_PASS;
}

static int sync_dir(void)
{
	int fd;

	SYS(mkdirm("d", 0755));
	SYS(mkfile("d/f", 0644, "x"));
	fd = SYS(open("d", O_RDONLY | O_DIRECTORY));
	SYS(fsync(fd));
	SYS(fdatasync(fd));
	SYS(syncfs(fd));
	SYS(close(fd));
	return PC_PASS;
}

static int sync_rdonly_fd(void)
{
	int fd;

	SYS(mkfile("f", 0644, "data"));
	fd = SYS(open("f", O_RDONLY));
	SYS(fsync(fd));
	SYS(fdatasync(fd));
	SYS(close(fd));
	return PC_PASS;
}

/* ---- mmap ---- */

static int mmap_shared_write(void)
{
	char buf[16] = "";
	char *m;
	int fd;

	SYS(mkfile("f", 0644, "aaaaaaaaaa"));
	fd = SYS(open("f", O_RDWR));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	memcpy(m + 2, "MAP", 3);
	/* read() sees a shared mapping's store without msync (same page cache). */
	SYS(pread(fd, buf, 10, 0));
	CHECK(memcmp(buf, "aaMAPaaaaa", 10) == 0, "read \"%.10s\" before msync", buf);
	SYS(msync(m, 4096, MS_SYNC));
	SYS(munmap(m, 4096));
	SYS(close(fd));
	SYS(slurp("f", buf, sizeof(buf)));
	CHECK(strcmp(buf, "aaMAPaaaaa") == 0, "read \"%s\" after msync", buf);
	return PC_PASS;
}

static int mmap_sees_write(void)
{
	char *m;
	int fd;

	SYS(mkfile("f", 0644, "aaaaaaaaaa"));
	fd = SYS(open("f", O_RDWR));
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	CHECK(m[0] == 'a', "mapping starts with %c", m[0]);
	SYS(pwrite(fd, "WRITE", 5, 3));
	CHECK(memcmp(m, "aaaWRITEaa", 10) == 0, "mapping shows \"%.10s\"", m);
	SYS(munmap(m, 4096));
	SYS(close(fd));
	return PC_PASS;
}

static int mmap_private(void)
{
	char buf[16] = "";
	char *m;
	int fd;

	SYS(mkfile("f", 0644, "aaaaaaaaaa"));
	fd = SYS(open("f", O_RDONLY));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	memcpy(m, "PRIV", 4);
	SYS(pread(fd, buf, 10, 0));
	CHECK(memcmp(buf, "aaaaaaaaaa", 10) == 0, "a private store reached the file: \"%.10s\"", buf);
	SYS(munmap(m, 4096));
	SYS(close(fd));
	return PC_PASS;
}

static sigjmp_buf bus_jump;

static void on_sigbus(int sig)
{
	siglongjmp(bus_jump, sig);
}

static int mmap_beyond_eof(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus };
	volatile char *m;
	volatile char c = 0;
	int fd;

	SYS(mkfile("f", 0644, "short"));
	fd = SYS(open("f", O_RDONLY));
	m = mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	/* The rest of the last page reads as zeros. */
	CHECK(m[4] == 't' && m[5] == 0 && m[4095] == 0, "tail of the page is not zero");
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(bus_jump, 1) == 0) {
		c = m[2 * 4096];
		CHECK(false, "reading a page past EOF gave %d, not SIGBUS", c);
	}
	munmap((void *)m, 3 * 4096);
	SYS(close(fd));
	return PC_PASS;
}

static int mmap_extend_then_map(void)
{
	char *m;
	int fd;

	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	SYS(ftruncate(fd, 8192));
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED, "mmap: %m");
	CHECK(all_bytes(m, 8192, 0), "a truncated-up file maps as non-zero");
	memset(m + 4096, 'q', 4096);
	SYS(msync(m, 8192, MS_SYNC));
	SYS(munmap(m, 8192));
	CHECK_RANGE(fd, 4096, 4096, 'q');
	SYS(close(fd));
	return PC_PASS;
}

/* ---- O_DIRECT, copy_file_range, O_TMPFILE ---- */

static int odirect(void)
{
	void *w, *r;
	int fd;

	CHECK(posix_memalign(&w, 4096, 65536) == 0 && posix_memalign(&r, 4096, 65536) == 0,
	      "out of memory");
	memset(w, 'D', 65536);
	memset(r, 0, 65536);
	fd = open("f", O_CREAT | O_RDWR | O_DIRECT, 0644);
	if (fd < 0 && errno == EINVAL)
		return pc_skip("the file system refuses O_DIRECT (EINVAL)");
	CHECK(fd >= 0, "open O_DIRECT: %m");
	CHECK_EQ(SYS(pwrite(fd, w, 65536, 0)), 65536);
	CHECK_EQ(SYS(pwrite(fd, w, 4096, 65536)), 4096);
	CHECK_EQ(SYS(pread(fd, r, 65536, 4096)), 65536);
	CHECK(all_bytes(r, 65536, 'D'), "O_DIRECT read back other data");
	SYS(close(fd));
	fd = SYS(open("f", O_RDONLY));
	CHECK_EQ(size_of(fd), 65536 + 4096);
	CHECK_RANGE(fd, 0, 65536 + 4096, 'D');
	SYS(close(fd));
	free(w);
	free(r);
	return PC_PASS;
}

static int odirect_mixed(void)
{
	void *buf;
	int dfd, fd;

	CHECK(posix_memalign(&buf, 4096, 4096) == 0, "out of memory");
	fd = SYS(open("f", O_CREAT | O_RDWR, 0644));
	memset(buf, 'b', 4096);
	SYS(pwrite(fd, buf, 4096, 0));
	dfd = open("f", O_RDWR | O_DIRECT);
	if (dfd < 0 && errno == EINVAL)
		return pc_skip("the file system refuses O_DIRECT (EINVAL)");
	CHECK(dfd >= 0, "open O_DIRECT: %m");
	/* A buffered write is visible to a direct read, and the other way. */
	CHECK_EQ(SYS(pread(dfd, buf, 4096, 0)), 4096);
	CHECK(all_bytes(buf, 4096, 'b'), "direct read misses the buffered write");
	memset(buf, 'c', 4096);
	SYS(pwrite(dfd, buf, 4096, 0));
	CHECK_RANGE(fd, 0, 4096, 'c');
	SYS(close(dfd));
	SYS(close(fd));
	free(buf);
	return PC_PASS;
}

static int copy_range(void)
{
	char *data = filled(300000, 'k');
	loff_t in_off = 1000, out_off = 5;
	ssize_t n;
	int in, out;

	CHECK(data != NULL, "out of memory");
	in = SYS(open("in", O_CREAT | O_RDWR, 0644));
	SYS(write_all(in, data, 300000));
	out = SYS(open("out", O_CREAT | O_RDWR, 0644));
	SYS(write(out, "hello", 5));
	n = SYS(copy_file_range(in, &in_off, out, &out_off, 200000, 0));
	CHECK(n > 0, "copy_file_range copied nothing");
	while (n < 200000) {
		ssize_t m = SYS(copy_file_range(in, &in_off, out, &out_off, (size_t)(200000 - n), 0));

		CHECK(m > 0, "copy_file_range stopped at %zd", n);
		n += m;
	}
	CHECK_EQ(size_of(out), 200005);
	CHECK_RANGE(out, 5, 200000, 'k');
	CHECK_EQ(in_off, 201000);
	SYS(close(in));
	SYS(close(out));
	free(data);
	return PC_PASS;
}

static int o_tmpfile(void)
{
	char path[64];
	struct stat st;
	int fd;

	fd = open(".", O_TMPFILE | O_RDWR, 0600);
	CHECK(fd >= 0, "open O_TMPFILE: %m");
	SYS(write(fd, "tmp", 3));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	SYS(linkat(AT_FDCWD, path, AT_FDCWD, "named", AT_SYMLINK_FOLLOW));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 1);
	SYS(close(fd));
	return PC_PASS;
}

const struct pc_case pc_cases_io[] = {
	{ "io.trunc.extend", "truncate() up reads zeros past the old end", trunc_extend },
	{ "io.trunc.shrink_zero_fill", "shrink then extend: the cut bytes come back as zeros", trunc_shrink_zero_fill },
	{ "io.trunc.seen_by_open_fd", "truncation by another path and fd is seen by an open fd", trunc_page_cache },
	{ "io.trunc.ftruncate_rdonly", "ftruncate on an O_RDONLY fd: EINVAL (or EBADF)", ftrunc_rdonly },
	{ "io.trunc.errors", "truncate of a directory: EISDIR; negative length: EINVAL", trunc_errors },
	{ "io.append.after_seek", "O_APPEND writes at the end whatever the offset; offset ends there", append_after_seek },
	{ "io.append.two_fds", "two O_APPEND fds interleave without overwriting", append_two_fds },
	{ "io.append.other_writer", "O_APPEND finds an end moved by another fd", append_other_writer },
	{ "io.append.pwrite", "pwrite on an O_APPEND fd appends (Linux)", append_pwrite },
	{ "io.otrunc.basic", "O_TRUNC empties an existing file", o_trunc },
	{ "io.otrunc.open_reader", "O_TRUNC is seen by an fd opened before", o_trunc_open_reader },
	{ "io.pwrite.beyond_eof", "pwrite past EOF extends, the gap reads as zeros, offset unmoved", pwrite_beyond_eof },
	{ "io.pread.beyond_eof", "pread at/after EOF returns 0, across EOF a short count; negative: EINVAL", pread_beyond_eof },
	{ "io.lseek.hole_write", "lseek past EOF then write leaves a zero gap; lseek before 0: EINVAL", write_lseek_hole },
	{ "io.badf.modes", "write on O_RDONLY and read on O_WRONLY fds: EBADF", bad_fd_modes },
	{ "io.vector", "writev and preadv move the right bytes", readv_writev },
	{ "io.large", "one 8 MiB pwrite and pread round-trip", large_io },
	{ "io.coherent_fds", "a write through one fd is read through another at once", two_fds_coherent },
	{ "io.large_offset", "a write at 1 TiB makes a sparse file of that size", large_offset },
	{ "io.efbig", "a write or truncate near 2^63: EFBIG (or EINVAL), nothing changes", efbig },
	{ "io.punch_hole", "fallocate PUNCH_HOLE|KEEP_SIZE zeroes the range, frees blocks, keeps the size", punch_hole },
	{ "io.punch_needs_keep_size", "PUNCH_HOLE without KEEP_SIZE: EOPNOTSUPP", punch_needs_keep_size },
	{ "io.punch_cached", "a punched range of cached data reads as zeros", punch_cached },
	{ "io.seek.data_hole", "SEEK_DATA/SEEK_HOLE give consistent answers; ENXIO at EOF", seek_data_hole },
	{ "io.seek.finds_hole", "SEEK_HOLE finds a real hole between two data extents", seek_hole_finds_hole },
	{ "io.seek.empty", "SEEK_DATA/SEEK_HOLE on an empty file: ENXIO", seek_data_empty },
	{ "io.fallocate.extend", "fallocate mode 0 extends the size and allocates blocks of zeros", fallocate_extend },
	{ "io.fallocate.keep_size", "fallocate KEEP_SIZE allocates without changing the size", fallocate_keep_size },
	{ "io.fallocate.posix", "posix_fallocate extends a file with zeros", posix_fallocate_extends },
	{ "io.fallocate.zero_range", "fallocate ZERO_RANGE zeroes a range in place", zero_range },
	{ "io.sparse_blocks", "a file truncated up to 64 MiB allocates (almost) nothing", sparse_blocks },
	{ "io.sync.file", "fsync, fdatasync, syncfs, sync_file_range succeed on a file", sync_calls },
	{ "io.sync.dir", "fsync, fdatasync, syncfs succeed on a directory fd", sync_dir },
	{ "io.sync.rdonly", "fsync and fdatasync succeed on an O_RDONLY fd", sync_rdonly_fd },
	{ "io.mmap.shared_write", "a store to a MAP_SHARED mapping is seen by read(), also after msync", mmap_shared_write },
	{ "io.mmap.sees_write", "a MAP_SHARED mapping sees a later write()", mmap_sees_write },
	{ "io.mmap.private", "MAP_PRIVATE stores do not reach the file", mmap_private },
	{ "io.mmap.beyond_eof", "mapping past EOF: zeros to the page end, SIGBUS beyond", mmap_beyond_eof },
	{ "io.mmap.extend", "a file extended by ftruncate maps as zeros and takes stores", mmap_extend_then_map },
	{ "io.odirect.aligned", "O_DIRECT aligned writes and reads round-trip", odirect },
	{ "io.odirect.mixed", "O_DIRECT and buffered I/O see each other's data", odirect_mixed },
	{ "io.copy_file_range", "copy_file_range copies at the given offsets and advances them", copy_range },
	{ "io.o_tmpfile", "O_TMPFILE makes an unnamed file that linkat can name", o_tmpfile },
	{ NULL, NULL, NULL },
};

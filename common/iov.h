/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounded cursors over iovec arrays: the reader copies out what the daemon
 * interprets, the writer fills replies, and slices hand a byte range of the
 * array to preadv()/pwritev() without copying. A cursor is used by one
 * thread at a time.
 */
#ifndef COMMON_IOV_H
#define COMMON_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct iov_cursor {
    const struct iovec *iov;
    unsigned cnt;
    unsigned idx;     /* current element */
    size_t off;       /* offset inside iov[idx] */
    size_t remaining; /* bytes left from the cursor to the end */
};

/* Total length of an iovec array (saturates at SIZE_MAX). */
size_t iov_length(const struct iovec *iov, unsigned cnt);

void iov_cursor_init(struct iov_cursor *c, const struct iovec *iov, unsigned cnt);

/* Limits the cursor to at most `len` further bytes. */
void iov_cursor_limit(struct iov_cursor *c, size_t len);

/* Copies exactly n bytes out (0) or nothing (-EIO if fewer remain). */
int iov_cursor_read(struct iov_cursor *c, void *dst, size_t n);

/* Copies exactly n bytes in (0) or nothing (-ENOSPC if fewer remain). */
int iov_cursor_write(struct iov_cursor *c, const void *src, size_t n);

/* Advances by n bytes (0) or returns -EIO if fewer remain. */
int iov_cursor_skip(struct iov_cursor *c, size_t n);

/*
 * Describes the next `n` bytes as at most `max` iovecs in `out` (pointing into
 * the same memory) and advances past them. Returns the number of iovecs, or
 * -EIO if fewer than n bytes remain, -E2BIG if more than max iovecs are needed.
 */
int iov_cursor_slice(struct iov_cursor *c, size_t n, struct iovec *out, unsigned max);

#endif

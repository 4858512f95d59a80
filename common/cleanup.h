/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Scope-bound cleanup helpers for fds and heap memory. */
#ifndef COMMON_CLEANUP_H
#define COMMON_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cleanup_freep(void *p)
{
    free(*(void **)p);
}

static inline void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

#define _cleanup_free_  __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))

/* Hands ownership out of a cleanup-managed variable. */
#define TAKE_FD(fd) ({ int fd__ = (fd); (fd) = -1; fd__; })
#define TAKE_PTR(p) ({ __typeof__(p) p__ = (p); (p) = NULL; p__; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Checked arithmetic: true when the result overflowed. */
#define add_overflows(a, b, res) __builtin_add_overflow(a, b, res)
#define mul_overflows(a, b, res) __builtin_mul_overflow(a, b, res)

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Returns -errno of the last libc call, never 0. */
static inline int neg_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/iov.h"

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"

size_t iov_length(const struct iovec *iov, unsigned cnt)
{
    size_t total = 0;
    for (unsigned i = 0; i < cnt; i++)
        if (add_overflows(total, iov[i].iov_len, &total))
            return SIZE_MAX;
    return total;
}

void iov_cursor_init(struct iov_cursor *c, const struct iovec *iov, unsigned cnt)
{
    c->iov = iov;
    c->cnt = cnt;
    c->idx = 0;
    c->off = 0;
    c->remaining = iov_length(iov, cnt);
}

void iov_cursor_limit(struct iov_cursor *c, size_t len)
{
    if (len < c->remaining)
        c->remaining = len;
}

/* Walks n bytes (n <= remaining), calling fn on each contiguous piece. */
static inline void cursor_walk(struct iov_cursor *c, size_t n,
                               void (*fn)(void *base, size_t len, void *arg, size_t done),
                               void *arg)
{
    size_t done = 0;
    while (done < n) {
        /* skip empty / fully consumed elements */
        while (c->off >= c->iov[c->idx].iov_len) {
            c->idx++;
            c->off = 0;
        }
        size_t avail = c->iov[c->idx].iov_len - c->off;
        size_t take = MIN(avail, n - done);
        if (fn)
            fn((char *)c->iov[c->idx].iov_base + c->off, take, arg, done);
        c->off += take;
        done += take;
    }
    c->remaining -= n;
}

static void copy_out(void *base, size_t len, void *arg, size_t done)
{
    memcpy((char *)arg + done, base, len);
}

static void copy_in(void *base, size_t len, void *arg, size_t done)
{
    memcpy(base, (const char *)arg + done, len);
}

int iov_cursor_read(struct iov_cursor *c, void *dst, size_t n)
{
    if (n > c->remaining)
        return -EIO;
    cursor_walk(c, n, copy_out, dst);
    return 0;
}

int iov_cursor_write(struct iov_cursor *c, const void *src, size_t n)
{
    if (n > c->remaining)
        return -ENOSPC;
    cursor_walk(c, n, copy_in, (void *)src);
    return 0;
}

int iov_cursor_skip(struct iov_cursor *c, size_t n)
{
    if (n > c->remaining)
        return -EIO;
    cursor_walk(c, n, NULL, NULL);
    return 0;
}

int iov_cursor_slice(struct iov_cursor *c, size_t n, struct iovec *out, unsigned max)
{
    unsigned cnt = 0;
    size_t done = 0;

    if (n > c->remaining)
        return -EIO;
    /* Dry run on a copy so a failed slice leaves the cursor untouched. */
    struct iov_cursor t = *c;
    while (done < n) {
        while (t.off >= t.iov[t.idx].iov_len) {
            t.idx++;
            t.off = 0;
        }
        size_t take = MIN(t.iov[t.idx].iov_len - t.off, n - done);
        if (cnt == max)
            return -E2BIG;
        out[cnt].iov_base = (char *)t.iov[t.idx].iov_base + t.off;
        out[cnt].iov_len = take;
        cnt++;
        t.off += take;
        done += take;
    }
    t.remaining -= n;
    *c = t;
    return (int)cnt;
}

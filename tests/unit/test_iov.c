/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "common/iov.h"

static char a[5] = "abcde", b[3] = "fgh", c[4] = "ijkl";

static void test_read_across(void)
{
    struct iovec v[] = { { a, 5 }, { NULL, 0 }, { b, 3 }, { c, 4 } };
    struct iov_cursor cur;
    char out[12];

    iov_cursor_init(&cur, v, 4);
    g_assert_cmpuint(cur.remaining, ==, 12);
    g_assert_cmpint(iov_cursor_read(&cur, out, 7), ==, 0);
    g_assert_cmpmem(out, 7, "abcdefg", 7);
    g_assert_cmpint(iov_cursor_read(&cur, out, 6), ==, -EIO); /* short: nothing consumed */
    g_assert_cmpuint(cur.remaining, ==, 5);
    g_assert_cmpint(iov_cursor_read(&cur, out, 5), ==, 0);
    g_assert_cmpmem(out, 5, "hijkl", 5);
    g_assert_cmpuint(cur.remaining, ==, 0);
}

static void test_write_and_limit(void)
{
    char x[4] = { 0 }, y[4] = { 0 };
    struct iovec v[] = { { x, 4 }, { y, 4 } };
    struct iov_cursor cur;

    iov_cursor_init(&cur, v, 2);
    iov_cursor_limit(&cur, 6);
    g_assert_cmpint(iov_cursor_write(&cur, "1234567", 7), ==, -ENOSPC);
    g_assert_cmpint(iov_cursor_write(&cur, "123456", 6), ==, 0);
    g_assert_cmpmem(x, 4, "1234", 4);
    g_assert_cmpmem(y, 2, "56", 2);
    g_assert_cmpint(y[2], ==, 0);
}

static void test_slice(void)
{
    struct iovec v[] = { { a, 5 }, { b, 3 }, { c, 4 } };
    struct iovec out[3];
    struct iov_cursor cur;

    iov_cursor_init(&cur, v, 3);
    g_assert_cmpint(iov_cursor_skip(&cur, 2), ==, 0);
    g_assert_cmpint(iov_cursor_slice(&cur, 8, out, 2), ==, -E2BIG);
    g_assert_cmpuint(cur.remaining, ==, 10); /* failed slice leaves cursor alone */
    int n = iov_cursor_slice(&cur, 8, out, 3);
    g_assert_cmpint(n, ==, 3);
    g_assert_true(out[0].iov_base == a + 2 && out[0].iov_len == 3);
    g_assert_true(out[1].iov_base == b && out[1].iov_len == 3);
    g_assert_true(out[2].iov_base == c && out[2].iov_len == 2);
    g_assert_cmpint(iov_cursor_slice(&cur, 3, out, 3), ==, -EIO);
    g_assert_cmpint(iov_cursor_slice(&cur, 2, out, 3), ==, 1);
    g_assert_true(out[0].iov_base == c + 2);
}

static void test_length_saturates(void)
{
    struct iovec v[] = { { a, SIZE_MAX - 1 }, { b, 5 } };
    g_assert_cmpuint(iov_length(v, 2), ==, SIZE_MAX);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iov/read_across", test_read_across);
    g_test_add_func("/iov/write_and_limit", test_write_and_limit);
    g_test_add_func("/iov/slice", test_slice);
    g_test_add_func("/iov/length_saturates", test_length_saturates);
    return g_test_run();
}

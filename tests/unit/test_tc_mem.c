/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The test client's guest memory: layout, translation and the allocator. */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/tc_mem.h"

#define MiB (1ull << 20)

static void test_layout(void)
{
    struct tc_mem *mem;

    g_assert_cmpint(tc_mem_new(3 * MiB + 4096, 2, &mem), ==, -EINVAL); /* half a page each */
    g_assert_cmpint(tc_mem_new(16 * MiB, 9, &mem), ==, -EINVAL); /* too many regions */
    g_assert_cmpint(tc_mem_new(16 * MiB, 4, &mem), ==, 0);
    g_assert_cmpuint(tc_mem_nregions(mem), ==, 4);
    g_assert_null(tc_mem_region(mem, 4));

    for (unsigned i = 0; i < 4; i++) {
        const struct tc_mem_region *r = tc_mem_region(mem, i);
        g_assert_cmpuint(r->gpa, ==, TC_GPA_BASE + i * 4 * MiB);
        g_assert_cmpuint(r->size, ==, 4 * MiB);
        g_assert_cmpuint(r->mmap_offset, ==, i * 4 * MiB);
        g_assert_cmpuint(r->uaddr, !=, r->gpa);
        /* the region's own mapping and the linear view share pages */
        char *linear = tc_mem_ptr(mem, r->gpa + 100, 1);
        *linear = (char)('a' + i);
        g_assert_cmpint(((char *)(uintptr_t)r->uaddr)[100], ==, 'a' + i);
        g_assert_cmpuint(tc_mem_gpa(mem, linear), ==, r->gpa + 100);
    }

    /* translation bounds */
    g_assert_null(tc_mem_ptr(mem, 0, 1));
    g_assert_null(tc_mem_ptr(mem, TC_GPA_BASE - 1, 2));
    g_assert_nonnull(tc_mem_ptr(mem, TC_GPA_BASE + 16 * MiB - 1, 1));
    g_assert_null(tc_mem_ptr(mem, TC_GPA_BASE + 16 * MiB - 1, 2));
    g_assert_null(tc_mem_ptr(mem, UINT64_MAX - 1, 4));
    g_assert_true(tc_mem_contains(mem, TC_GPA_BASE, 16 * MiB));

    /* user addresses exist only within one region */
    uint64_t ua;
    const struct tc_mem_region *r1 = tc_mem_region(mem, 1);
    g_assert_cmpint(tc_mem_uaddr(mem, r1->gpa + 8, 16, &ua), ==, 0);
    g_assert_cmpuint(ua, ==, r1->uaddr + 8);
    g_assert_cmpint(tc_mem_uaddr(mem, r1->gpa - 8, 16, &ua), ==, -EFAULT);
    g_assert_cmpint(tc_mem_uaddr(mem, 0, 16, &ua), ==, -EFAULT);

    /* the backend gets one fd covering everything */
    g_assert_cmpint(lseek(tc_mem_fd(mem), 0, SEEK_END), ==, 16 * MiB);
    tc_mem_free(mem);
}

static void test_alloc_free(void)
{
    struct tc_mem *mem;
    struct tc_buf a, b, c, d;

    g_assert_cmpint(tc_mem_new(4 * MiB, 1, &mem), ==, 0);
    g_assert_cmpint(tc_buf_alloc(mem, 0, 0, 0, &a), ==, -EINVAL);
    g_assert_cmpint(tc_buf_alloc(mem, 8, 3, 0, &a), ==, -EINVAL);

    g_assert_cmpint(tc_buf_alloc(mem, 100, 0, 0, &a), ==, 0);
    g_assert_cmpint(tc_buf_alloc(mem, 5000, 4096, TC_BUF_ZERO, &b), ==, 0);
    g_assert_cmpuint(b.gpa % 4096, ==, 0);
    g_assert_cmpuint(b.gpa, >=, a.gpa + 100);
    for (size_t i = 0; i < b.len; i++)
        g_assert_cmpint(((char *)b.ptr)[i], ==, 0);
    g_assert_cmpint(tc_buf_alloc(mem, 100, 0, 0, &c), ==, 0);
    g_assert_cmpuint(tc_mem_free_bytes(mem), ==, 4 * MiB - 5200);

    /* free in the middle, then around it: everything coalesces */
    tc_buf_free(mem, &b);
    g_assert_cmpuint(b.len, ==, 0);
    tc_buf_free(mem, &b); /* a cleared buffer is ignored */
    tc_buf_free(mem, &a);
    tc_buf_free(mem, &c);
    g_assert_cmpuint(tc_mem_free_bytes(mem), ==, 4 * MiB);
    g_assert_cmpint(tc_buf_alloc(mem, 4 * MiB, 0, 0, &d), ==, 0);
    g_assert_cmpuint(d.gpa, ==, TC_GPA_BASE);
    g_assert_cmpint(tc_buf_alloc(mem, 1, 0, 0, &a), ==, -ENOMEM);
    tc_buf_free(mem, &d);

    /* reserving a chosen range */
    g_assert_cmpint(tc_buf_alloc_at(mem, TC_GPA_BASE + 8192, 100, 0, &a), ==, 0);
    g_assert_cmpuint(a.gpa, ==, TC_GPA_BASE + 8192);
    g_assert_cmpint(tc_buf_alloc_at(mem, TC_GPA_BASE + 8000, 300, 0, &b), ==, -EBUSY);
    g_assert_cmpint(tc_buf_alloc_at(mem, TC_GPA_BASE + 4 * MiB - 10, 20, 0, &b), ==, -EFAULT);
    g_assert_cmpint(tc_buf_alloc_at(mem, TC_GPA_BASE, 8192, 0, &b), ==, 0);
    tc_buf_free(mem, &a);
    tc_buf_free(mem, &b);
    g_assert_cmpuint(tc_mem_free_bytes(mem), ==, 4 * MiB);
    tc_mem_free(mem);
}

static void test_one_region(void)
{
    struct tc_mem *mem;
    struct tc_buf pad, a, b;

    g_assert_cmpint(tc_mem_new(4 * MiB, 2, &mem), ==, 0);
    const struct tc_mem_region *r1 = tc_mem_region(mem, 1);
    /* leave 1000 bytes before the boundary */
    g_assert_cmpint(tc_buf_alloc(mem, 2 * MiB - 1000, 0, 0, &pad), ==, 0);
    /* a plain allocation straddles the boundary ... */
    g_assert_cmpint(tc_buf_alloc(mem, 4000, 0, 0, &a), ==, 0);
    g_assert_cmpuint(a.gpa, <, r1->gpa);
    g_assert_cmpuint(a.gpa + a.len, >, r1->gpa);
    /* ... and is contiguous in the linear view, visible through both
     * region mappings */
    memset(a.ptr, 'x', a.len);
    g_assert_cmpint(((char *)(uintptr_t)r1->uaddr)[0], ==, 'x');
    tc_buf_free(mem, &a);
    /* TC_BUF_ONE_REGION skips to the next region instead */
    g_assert_cmpint(tc_buf_alloc(mem, 4000, 0, TC_BUF_ONE_REGION, &b), ==, 0);
    g_assert_cmpuint(b.gpa, ==, r1->gpa);
    g_assert_cmpint(tc_buf_alloc(mem, 3 * MiB, 0, TC_BUF_ONE_REGION, &a), ==, -ENOMEM);
    tc_buf_free(mem, &b);
    tc_buf_free(mem, &pad);
    tc_mem_free(mem);
}

static void test_many(void)
{
    struct tc_mem *mem;
    struct tc_buf bufs[512];

    g_assert_cmpint(tc_mem_new(8 * MiB, 1, &mem), ==, 0);
    GRand *rand = g_rand_new_with_seed(42);
    for (unsigned round = 0; round < 20; round++) {
        for (unsigned i = 0; i < G_N_ELEMENTS(bufs); i++) {
            size_t len = (size_t)g_rand_int_range(rand, 1, 8000);
            g_assert_cmpint(tc_buf_alloc(mem, len, 1u << g_rand_int_range(rand, 0, 7), 0, &bufs[i]), ==, 0);
            memset(bufs[i].ptr, (int)i, len);
        }
        /* no two buffers overlap: each still holds its own byte */
        for (unsigned i = 0; i < G_N_ELEMENTS(bufs); i++)
            for (size_t k = 0; k < bufs[i].len; k += 97)
                g_assert_cmpint(((unsigned char *)bufs[i].ptr)[k], ==, i & 0xff);
        /* free in a random order */
        for (unsigned i = G_N_ELEMENTS(bufs); i > 0; i--) {
            unsigned j = (unsigned)g_rand_int_range(rand, 0, (gint32)i);
            struct tc_buf t = bufs[j];
            bufs[j] = bufs[i - 1];
            tc_buf_free(mem, &t);
        }
        g_assert_cmpuint(tc_mem_free_bytes(mem), ==, 8 * MiB);
    }
    g_rand_free(rand);
    tc_mem_free(mem);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tc_mem/layout", test_layout);
    g_test_add_func("/tc_mem/alloc_free", test_alloc_free);
    g_test_add_func("/tc_mem/one_region", test_one_region);
    g_test_add_func("/tc_mem/many", test_many);
    return g_test_run();
}

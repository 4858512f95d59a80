/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory for the test client: a memfd cut into regions that the
 * backend maps (SET_MEM_TABLE / ADD_MEM_REG), an allocator over it and
 * guest-physical address (GPA) translation.
 *
 * Layout. The memfd is mapped twice in this process:
 *  - one contiguous "linear view" of the whole file, which is where every
 *    pointer handed out here points (so a buffer may straddle two regions
 *    and still be one C object);
 *  - one mapping per region, whose address is the region's userspace_addr
 *    as declared to the backend (ring addresses are given in this space).
 * Guest-physical addresses start at TC_GPA_BASE and are contiguous across
 * regions, so one descriptor can cover the end of one region and the start
 * of the next; region i lives at memfd offset i * region_size, which is its
 * mmap_offset. GPA, user address and file offset therefore all differ.
 *
 * Thread safety: the allocator takes an internal lock, so any thread may
 * allocate and free; translation functions are lock-free and read-only.
 */
#ifndef TESTS_LIB_TC_MEM_H
#define TESTS_LIB_TC_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TC_MEM_MAX_REGIONS 8
#define TC_MEM_DEFAULT_SIZE (64ull << 20)
/* Guest-physical address of the first byte of guest memory. GPA 0 and
 * everything below this is unmapped, handy for out-of-range tests. */
#define TC_GPA_BASE 0x40000000ull

struct tc_mem;

struct tc_mem_region {
    uint64_t gpa;         /* guest-physical start */
    uint64_t size;
    uint64_t uaddr;       /* userspace_addr declared to the backend */
    uint64_t mmap_offset; /* offset of the region in the memfd */
};

/* A piece of guest memory: `ptr` is its address in the linear view. */
struct tc_buf {
    uint64_t gpa;
    void *ptr;
    size_t len;
};

/* tc_buf_alloc() flags */
enum {
    TC_BUF_ONE_REGION = 1 << 0, /* never straddle a region boundary */
    TC_BUF_ZERO       = 1 << 1, /* zero the contents */
};

/*
 * Creates `size` bytes of guest memory (0: TC_MEM_DEFAULT_SIZE) in
 * `nregions` equal regions (0: 1). size must be a multiple of
 * nregions * page size. The caller owns *out and frees it with tc_mem_free().
 * Returns 0 or -errno (-EINVAL for a bad geometry).
 */
int tc_mem_new(uint64_t size, unsigned nregions, struct tc_mem **out);
void tc_mem_free(struct tc_mem *mem);

/* The memfd backing all regions (owned by mem). */
int tc_mem_fd(const struct tc_mem *mem);
uint64_t tc_mem_size(const struct tc_mem *mem);
unsigned tc_mem_nregions(const struct tc_mem *mem);
/* Region i, or NULL when i is out of range; owned by mem. */
const struct tc_mem_region *tc_mem_region(const struct tc_mem *mem, unsigned i);

/* Linear-view pointer for [gpa, gpa + len), or NULL when any byte of the
 * range is outside guest memory. Points into mem, valid until tc_mem_free(). */
void *tc_mem_ptr(const struct tc_mem *mem, uint64_t gpa, uint64_t len);
/* GPA of a linear-view pointer; ptr must point into guest memory. */
uint64_t tc_mem_gpa(const struct tc_mem *mem, const void *ptr);
/* True when [gpa, gpa + len) lies in guest memory. */
bool tc_mem_contains(const struct tc_mem *mem, uint64_t gpa, uint64_t len);
/*
 * Backend-visible user address of [gpa, gpa + len), which must lie inside a
 * single region. Returns 0 and fills *uaddr, or -EFAULT.
 */
int tc_mem_uaddr(const struct tc_mem *mem, uint64_t gpa, uint64_t len, uint64_t *uaddr);

/*
 * Allocates len bytes (len > 0) aligned to `align` (a power of two, 0: 8)
 * from the free space, first fit. Fills *buf; the caller returns it with
 * tc_buf_free(). Returns 0, -EINVAL or -ENOMEM.
 */
int tc_buf_alloc(struct tc_mem *mem, size_t len, size_t align, unsigned flags, struct tc_buf *buf);
/* Reserves exactly [gpa, gpa + len); -EBUSY if any byte is taken,
 * -EFAULT if outside guest memory. */
int tc_buf_alloc_at(struct tc_mem *mem, uint64_t gpa, size_t len, unsigned flags, struct tc_buf *buf);
/* Returns a buffer to the allocator and clears *buf; a cleared buffer
 * (len 0) is accepted and ignored. */
void tc_buf_free(struct tc_mem *mem, struct tc_buf *buf);
/* Bytes currently free (for leak checks in tests). */
uint64_t tc_mem_free_bytes(struct tc_mem *mem);

#endif

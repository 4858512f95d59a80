/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tests/lib/tc_mem.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"

/* A free extent, as an offset into guest memory (GPA - TC_GPA_BASE). */
struct extent {
    uint64_t off;
    uint64_t len;
};

struct tc_mem {
    int fd;
    uint64_t size;
    uint64_t region_size;
    unsigned nregions;
    char *linear;                        /* whole memfd, contiguous */
    void *region_map[TC_MEM_MAX_REGIONS]; /* per-region mappings */
    struct tc_mem_region regions[TC_MEM_MAX_REGIONS];

    pthread_mutex_t lock;  /* protects the free list below */
    struct extent *free;   /* sorted by offset, never adjacent */
    size_t nfree;
    size_t cap;
    uint64_t free_bytes;
};

static bool is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

int tc_mem_new(uint64_t size, unsigned nregions, struct tc_mem **out)
{
    long page = sysconf(_SC_PAGESIZE);
    int r;

    if (size == 0)
        size = TC_MEM_DEFAULT_SIZE;
    if (nregions == 0)
        nregions = 1;
    if (nregions > TC_MEM_MAX_REGIONS || size % ((uint64_t)nregions * (uint64_t)page) != 0)
        return -EINVAL;

    struct tc_mem *mem = calloc(1, sizeof(*mem));
    if (!mem)
        return -ENOMEM;
    mem->fd = -1;
    mem->linear = MAP_FAILED;
    for (unsigned i = 0; i < TC_MEM_MAX_REGIONS; i++)
        mem->region_map[i] = MAP_FAILED;
    pthread_mutex_init(&mem->lock, NULL);
    mem->size = size;
    mem->nregions = nregions;
    mem->region_size = size / nregions;

    mem->fd = memfd_create("tc-guest-ram", MFD_CLOEXEC);
    if (mem->fd < 0)
        goto out_errno;
    if (ftruncate(mem->fd, (off_t)size) < 0)
        goto out_errno;
    mem->linear = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mem->fd, 0);
    if (mem->linear == MAP_FAILED)
        goto out_errno;
    for (unsigned i = 0; i < nregions; i++) {
        uint64_t off = (uint64_t)i * mem->region_size;
        mem->region_map[i] = mmap(NULL, mem->region_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                                  mem->fd, (off_t)off);
        if (mem->region_map[i] == MAP_FAILED)
            goto out_errno;
        mem->regions[i] = (struct tc_mem_region){
            .gpa = TC_GPA_BASE + off,
            .size = mem->region_size,
            .uaddr = (uint64_t)(uintptr_t)mem->region_map[i],
            .mmap_offset = off,
        };
    }

    mem->free = malloc(16 * sizeof(*mem->free));
    if (!mem->free) {
        r = -ENOMEM;
        goto out_free_mem;
    }
    mem->cap = 16;
    mem->free[0] = (struct extent){ 0, size };
    mem->nfree = 1;
    mem->free_bytes = size;
    *out = mem;
    return 0;

out_errno:
    r = neg_errno();
out_free_mem:
    tc_mem_free(mem);
    return r;
}

void tc_mem_free(struct tc_mem *mem)
{
    if (!mem)
        return;
    for (unsigned i = 0; i < TC_MEM_MAX_REGIONS; i++)
        if (mem->region_map[i] != MAP_FAILED)
            munmap(mem->region_map[i], mem->region_size);
    if (mem->linear != MAP_FAILED)
        munmap(mem->linear, mem->size);
    if (mem->fd >= 0)
        close(mem->fd);
    pthread_mutex_destroy(&mem->lock);
    free(mem->free);
    free(mem);
}

int tc_mem_fd(const struct tc_mem *mem)
{
    return mem->fd;
}

uint64_t tc_mem_size(const struct tc_mem *mem)
{
    return mem->size;
}

unsigned tc_mem_nregions(const struct tc_mem *mem)
{
    return mem->nregions;
}

const struct tc_mem_region *tc_mem_region(const struct tc_mem *mem, unsigned i)
{
    return i < mem->nregions ? &mem->regions[i] : NULL;
}

bool tc_mem_contains(const struct tc_mem *mem, uint64_t gpa, uint64_t len)
{
    uint64_t end;

    if (gpa < TC_GPA_BASE || add_overflows(gpa, len, &end))
        return false;
    return end - TC_GPA_BASE <= mem->size;
}

void *tc_mem_ptr(const struct tc_mem *mem, uint64_t gpa, uint64_t len)
{
    if (!tc_mem_contains(mem, gpa, len))
        return NULL;
    return mem->linear + (gpa - TC_GPA_BASE);
}

uint64_t tc_mem_gpa(const struct tc_mem *mem, const void *ptr)
{
    const char *p = ptr;

    assert(p >= mem->linear && p <= mem->linear + mem->size);
    return TC_GPA_BASE + (uint64_t)(p - mem->linear);
}

int tc_mem_uaddr(const struct tc_mem *mem, uint64_t gpa, uint64_t len, uint64_t *uaddr)
{
    if (!tc_mem_contains(mem, gpa, len))
        return -EFAULT;
    uint64_t off = gpa - TC_GPA_BASE;
    uint64_t i = off / mem->region_size;
    uint64_t in_region = off - i * mem->region_size;
    if (i >= mem->nregions || len > mem->region_size - in_region)
        return -EFAULT;
    *uaddr = mem->regions[i].uaddr + in_region;
    return 0;
}

/* --- allocator ----------------------------------------------------------- */

static int free_list_reserve(struct tc_mem *mem, size_t n)
{
    if (n <= mem->cap)
        return 0;
    size_t cap = mem->cap * 2;
    while (cap < n)
        cap *= 2;
    struct extent *e = realloc(mem->free, cap * sizeof(*e));
    if (!e)
        return -ENOMEM;
    mem->free = e;
    mem->cap = cap;
    return 0;
}

/*
 * Carves [off, off + len) out of free extent i, which must contain it.
 * Called with the lock held.
 */
static int carve(struct tc_mem *mem, size_t i, uint64_t off, uint64_t len)
{
    struct extent *e = &mem->free[i];
    uint64_t left = off - e->off;
    uint64_t right = e->off + e->len - (off + len);

    if (left && right) {
        int r = free_list_reserve(mem, mem->nfree + 1);
        if (r < 0)
            return r;
        e = &mem->free[i];
        memmove(&mem->free[i + 2], &mem->free[i + 1], (mem->nfree - i - 1) * sizeof(*e));
        mem->free[i + 1] = (struct extent){ off + len, right };
        e->len = left;
        mem->nfree++;
    } else if (left) {
        e->len = left;
    } else if (right) {
        e->off = off + len;
        e->len = right;
    } else {
        memmove(&mem->free[i], &mem->free[i + 1], (mem->nfree - i - 1) * sizeof(*e));
        mem->nfree--;
    }
    mem->free_bytes -= len;
    return 0;
}

static void fill_buf(struct tc_mem *mem, uint64_t off, size_t len, unsigned flags, struct tc_buf *buf)
{
    buf->gpa = TC_GPA_BASE + off;
    buf->ptr = mem->linear + off;
    buf->len = len;
    if (flags & TC_BUF_ZERO)
        memset(buf->ptr, 0, len);
}

/* First offset >= start, aligned, where len bytes fit in [start, limit) and,
 * with TC_BUF_ONE_REGION, in one region. UINT64_MAX if none. */
static uint64_t fit(const struct tc_mem *mem, uint64_t start, uint64_t limit, uint64_t len,
                    uint64_t align, unsigned flags)
{
    uint64_t off = (start + align - 1) & ~(align - 1);

    if (off < start || off > limit || limit - off < len)
        return UINT64_MAX;
    if (flags & TC_BUF_ONE_REGION) {
        if (len > mem->region_size)
            return UINT64_MAX;
        uint64_t region_end = (off / mem->region_size + 1) * mem->region_size;
        if (off + len > region_end) {
            /* region sizes are page multiples, so the boundary is aligned
             * for any alignment up to a page; realign for larger ones */
            off = (region_end + align - 1) & ~(align - 1);
            if (off > limit || limit - off < len || len > mem->region_size - off % mem->region_size)
                return UINT64_MAX;
        }
    }
    return off;
}

int tc_buf_alloc(struct tc_mem *mem, size_t len, size_t align, unsigned flags, struct tc_buf *buf)
{
    int r = -ENOMEM;

    if (align == 0)
        align = 8;
    if (len == 0 || !is_pow2(align))
        return -EINVAL;
    pthread_mutex_lock(&mem->lock);
    for (size_t i = 0; i < mem->nfree; i++) {
        const struct extent *e = &mem->free[i];
        uint64_t off = fit(mem, e->off, e->off + e->len, len, align, flags);
        if (off == UINT64_MAX)
            continue;
        r = carve(mem, i, off, len);
        if (r == 0)
            fill_buf(mem, off, len, flags, buf);
        break;
    }
    pthread_mutex_unlock(&mem->lock);
    return r;
}

int tc_buf_alloc_at(struct tc_mem *mem, uint64_t gpa, size_t len, unsigned flags, struct tc_buf *buf)
{
    int r = -EBUSY;

    if (len == 0)
        return -EINVAL;
    if (!tc_mem_contains(mem, gpa, len))
        return -EFAULT;
    uint64_t off = gpa - TC_GPA_BASE;
    pthread_mutex_lock(&mem->lock);
    for (size_t i = 0; i < mem->nfree; i++) {
        const struct extent *e = &mem->free[i];
        if (e->off > off)
            break;
        if (off + len <= e->off + e->len) {
            r = carve(mem, i, off, len);
            if (r == 0)
                fill_buf(mem, off, len, flags, buf);
            break;
        }
    }
    pthread_mutex_unlock(&mem->lock);
    return r;
}

void tc_buf_free(struct tc_mem *mem, struct tc_buf *buf)
{
    if (!buf || buf->len == 0)
        return;
    uint64_t off = buf->gpa - TC_GPA_BASE;
    uint64_t len = buf->len;

    pthread_mutex_lock(&mem->lock);
    /* i = first extent after the freed range */
    size_t i = 0;
    while (i < mem->nfree && mem->free[i].off < off)
        i++;
    /* freeing memory that is already free is a bug in the caller */
    assert(i == mem->nfree || off + len <= mem->free[i].off);
    assert(i == 0 || mem->free[i - 1].off + mem->free[i - 1].len <= off);

    bool merge_prev = i > 0 && mem->free[i - 1].off + mem->free[i - 1].len == off;
    bool merge_next = i < mem->nfree && off + len == mem->free[i].off;
    if (merge_prev && merge_next) {
        mem->free[i - 1].len += len + mem->free[i].len;
        memmove(&mem->free[i], &mem->free[i + 1], (mem->nfree - i - 1) * sizeof(struct extent));
        mem->nfree--;
    } else if (merge_prev) {
        mem->free[i - 1].len += len;
    } else if (merge_next) {
        mem->free[i].off = off;
        mem->free[i].len += len;
    } else {
        /* Growing can only fail under memory pressure; leaking the range
         * then is better than corrupting the list. */
        if (free_list_reserve(mem, mem->nfree + 1) < 0) {
            pthread_mutex_unlock(&mem->lock);
            *buf = (struct tc_buf){ 0 };
            return;
        }
        memmove(&mem->free[i + 1], &mem->free[i], (mem->nfree - i) * sizeof(struct extent));
        mem->free[i] = (struct extent){ off, len };
        mem->nfree++;
    }
    mem->free_bytes += len;
    pthread_mutex_unlock(&mem->lock);
    *buf = (struct tc_buf){ 0 };
}

uint64_t tc_mem_free_bytes(struct tc_mem *mem)
{
    pthread_mutex_lock(&mem->lock);
    uint64_t n = mem->free_bytes;
    pthread_mutex_unlock(&mem->lock);
    return n;
}

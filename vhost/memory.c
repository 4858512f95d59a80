/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "vhost/memory.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

/* One mmap of a region's fd, shared by every map that contains the region. */
struct vhu_mapping {
    unsigned refcount;        /* atomic */
    void *addr;
    size_t len;
};

static void mapping_unref(struct vhu_mapping *mp)
{
    if (mp && __atomic_sub_fetch(&mp->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        munmap(mp->addr, mp->len);
        free(mp);
    }
}

static struct vhu_memmap *memmap_alloc(unsigned n)
{
    struct vhu_memmap *m = calloc(1, sizeof(*m) + (size_t)n * sizeof(struct vhu_region));
    if (m)
        m->refcount = 1;
    return m;
}

struct vhu_memmap *vhu_memmap_new_empty(void)
{
    return memmap_alloc(0);
}

struct vhu_memmap *vhu_memmap_ref(struct vhu_memmap *m)
{
    if (m)
        __atomic_add_fetch(&m->refcount, 1, __ATOMIC_RELAXED);
    return m;
}

struct vhu_memmap *vhu_memmap_unref(struct vhu_memmap *m)
{
    /* acq_rel: every use of the regions happens-before the unmap */
    if (m && __atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        for (unsigned i = 0; i < m->nregions; i++)
            mapping_unref(m->regions[i].mapping);
        free(m);
    }
    return NULL;
}

static bool region_valid(const struct vhu_mem_region *r)
{
    uint64_t end;
    if (r->memory_size == 0)
        return false;
    if (add_overflows(r->guest_phys_addr, r->memory_size - 1, &end) ||
        add_overflows(r->userspace_addr, r->memory_size - 1, &end) ||
        add_overflows(r->mmap_offset, r->memory_size, &end))
        return false;
    /* The mapping must fit in our address space. */
    return r->memory_size <= (uint64_t)SIZE_MAX / 2;
}

/* Maps one region; consumes fd. */
static int region_map(const struct vhu_mem_region *r, int fd_in, struct vhu_region *out)
{
    _cleanup_close_ int fd = fd_in;
    struct stat st;
    uint64_t align = (uint64_t)sysconf(_SC_PAGESIZE);

    if (fd < 0 || !region_valid(r))
        return -EINVAL;
    if (fstat(fd, &st) < 0)
        return neg_errno();
    /* mmap() takes a range past the end of a file, but touching it raises
     * SIGBUS: the whole region must be backed (mmap_offset + memory_size
     * cannot overflow, region_valid() checked) */
    if (S_ISREG(st.st_mode) && r->mmap_offset + r->memory_size > (uint64_t)st.st_size) {
        log_debug("memory region of %llu bytes at file offset %llu is past the file's %lld bytes",
                  (unsigned long long)r->memory_size, (unsigned long long)r->mmap_offset,
                  (long long)st.st_size);
        return -EINVAL;
    }
    /* hugetlbfs reports its page size here and needs offsets aligned to it */
    if (st.st_blksize > 0 && (uint64_t)st.st_blksize > align &&
        ((uint64_t)st.st_blksize & ((uint64_t)st.st_blksize - 1)) == 0)
        align = (uint64_t)st.st_blksize;

    uint64_t map_off = r->mmap_offset & ~(align - 1);
    uint64_t lead = r->mmap_offset - map_off;
    size_t len = (size_t)(r->memory_size + lead);

    void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd,
                      (off_t)map_off);
    if (addr == MAP_FAILED)
        return neg_errno();
    /* Guest memory must not end up in our core dumps. */
    madvise(addr, len, MADV_DONTDUMP);

    struct vhu_mapping *mp = malloc(sizeof(*mp));
    if (!mp) {
        munmap(addr, len);
        return -ENOMEM;
    }
    mp->refcount = 1;
    mp->addr = addr;
    mp->len = len;

    out->gpa = r->guest_phys_addr;
    out->size = r->memory_size;
    out->uaddr = r->userspace_addr;
    out->host = (uint8_t *)addr + lead;
    out->mapping = mp;
    return 0;
}

static int region_cmp(const void *a, const void *b)
{
    const struct vhu_region *x = a, *y = b;
    return x->gpa < y->gpa ? -1 : x->gpa > y->gpa;
}

/*
 * Sorts and checks that neither guest nor user ranges overlap. Compares
 * last bytes, not ends: a region may reach the top of the address space,
 * where start + size wraps to 0 (region_valid() made sure start + size - 1
 * does not).
 */
static int memmap_finish(struct vhu_memmap *m)
{
    qsort(m->regions, m->nregions, sizeof(m->regions[0]), region_cmp);
    for (unsigned i = 1; i < m->nregions; i++)
        if (m->regions[i - 1].gpa + (m->regions[i - 1].size - 1) >= m->regions[i].gpa)
            return -EINVAL;
    for (unsigned i = 0; i < m->nregions; i++)
        for (unsigned j = i + 1; j < m->nregions; j++) {
            const struct vhu_region *a = &m->regions[i], *b = &m->regions[j];
            if (a->uaddr <= b->uaddr + (b->size - 1) && b->uaddr <= a->uaddr + (a->size - 1))
                return -EINVAL;
        }
    return 0;
}

int vhu_memmap_from_table(const struct vhu_mem_region *regs, const int *fds, unsigned n,
                          struct vhu_memmap **out)
{
    struct vhu_memmap *m = memmap_alloc(n);
    int r = 0;
    unsigned i;

    if (!m) {
        for (i = 0; i < n; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        r = region_map(&regs[i], fds[i], &m->regions[m->nregions]);
        if (r < 0)
            break;
        m->nregions++;
    }
    /* region_map consumed fds[0..i]; close the rest */
    for (i = i + 1; r < 0 && i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (r == 0)
        r = memmap_finish(m);
    if (r < 0) {
        vhu_memmap_unref(m);
        return r;
    }
    *out = m;
    return 0;
}

int vhu_memmap_add(const struct vhu_memmap *old, const struct vhu_mem_region *reg, int fd,
                   unsigned max_regions, struct vhu_memmap **out)
{
    if (old->nregions >= max_regions) {
        if (fd >= 0)
            close(fd);
        return -E2BIG;
    }
    struct vhu_memmap *m = memmap_alloc(old->nregions + 1);
    if (!m) {
        if (fd >= 0)
            close(fd);
        return -ENOMEM;
    }
    int r = region_map(reg, fd, &m->regions[0]);
    if (r < 0) {
        free(m);
        return r;
    }
    m->nregions = 1;
    for (unsigned i = 0; i < old->nregions; i++) {
        m->regions[m->nregions] = old->regions[i];
        __atomic_add_fetch(&old->regions[i].mapping->refcount, 1, __ATOMIC_RELAXED);
        m->nregions++;
    }
    if (memmap_finish(m) < 0) {
        vhu_memmap_unref(m);
        return -EEXIST;
    }
    *out = m;
    return 0;
}

int vhu_memmap_remove(const struct vhu_memmap *old, const struct vhu_mem_region *reg,
                      struct vhu_memmap **out)
{
    unsigned found = old->nregions;
    for (unsigned i = 0; i < old->nregions; i++) {
        const struct vhu_region *r = &old->regions[i];
        if (r->gpa == reg->guest_phys_addr && r->size == reg->memory_size &&
            r->uaddr == reg->userspace_addr) {
            found = i;
            break;
        }
    }
    if (found == old->nregions)
        return -ENOENT;
    struct vhu_memmap *m = memmap_alloc(old->nregions - 1);
    if (!m)
        return -ENOMEM;
    for (unsigned i = 0; i < old->nregions; i++) {
        if (i == found)
            continue;
        m->regions[m->nregions++] = old->regions[i];
        __atomic_add_fetch(&old->regions[i].mapping->refcount, 1, __ATOMIC_RELAXED);
    }
    *out = m;
    return 0;
}

static const struct vhu_region *find_gpa(const struct vhu_memmap *m, uint64_t gpa)
{
    unsigned lo = 0, hi = m->nregions;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        const struct vhu_region *r = &m->regions[mid];
        if (gpa < r->gpa)
            hi = mid;
        else if (gpa - r->gpa >= r->size)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

void *vhu_memmap_gpa(const struct vhu_memmap *m, uint64_t gpa, uint64_t *contig)
{
    const struct vhu_region *r = find_gpa(m, gpa);
    if (!r)
        return NULL;
    *contig = r->size - (gpa - r->gpa);
    return r->host + (gpa - r->gpa);
}

void *vhu_memmap_gpa_range(const struct vhu_memmap *m, uint64_t gpa, uint64_t len)
{
    uint64_t contig;
    void *p = vhu_memmap_gpa(m, gpa, &contig);
    return p && len <= contig ? p : NULL;
}

void *vhu_memmap_uaddr_range(const struct vhu_memmap *m, uint64_t uaddr, uint64_t len)
{
    for (unsigned i = 0; i < m->nregions; i++) {
        const struct vhu_region *r = &m->regions[i];
        if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size &&
            len <= r->size - (uaddr - r->uaddr))
            return r->host + (uaddr - r->uaddr);
    }
    return NULL;
}

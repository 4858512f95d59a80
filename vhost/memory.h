/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory: the regions the frontend shares (SET_MEM_TABLE, ADD_MEM_REG),
 * mapped once, and translation of guest-physical and frontend user addresses
 * into our pointers with bounds checks.
 *
 * A map is immutable once built and reference counted: a new table makes a
 * new map, and a mapping is unmapped only when no map (and so no request
 * that holds a map) refers to it. Translation needs no lock.
 */
#ifndef VHOST_MEMORY_H
#define VHOST_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/protocol.h"

struct vhu_mapping;

struct vhu_region {
    uint64_t gpa;
    uint64_t size;
    uint64_t uaddr;
    uint8_t *host;            /* our address of gpa */
    struct vhu_mapping *mapping;
};

struct vhu_memmap {
    unsigned refcount;        /* atomic */
    unsigned nregions;
    struct vhu_region regions[]; /* sorted by gpa, non-overlapping */
};

/* An empty map (no regions). Owned by the caller. */
struct vhu_memmap *vhu_memmap_new_empty(void);

/*
 * Builds a map from `n` regions and their fds (which are consumed: closed on
 * success and failure). Returns 0 and *out, or -EINVAL for bad regions
 * (zero size, overflow, overlap, past the end of a regular file),
 * -ENOMEM/-errno for mmap failures.
 */
int vhu_memmap_from_table(const struct vhu_mem_region *regs, const int *fds, unsigned n,
                          struct vhu_memmap **out);

/* A copy of `old` plus one region (fd consumed). -EEXIST on overlap, -E2BIG when full. */
int vhu_memmap_add(const struct vhu_memmap *old, const struct vhu_mem_region *reg, int fd,
                   unsigned max_regions, struct vhu_memmap **out);

/* A copy of `old` minus the region matching gpa+size+uaddr; -ENOENT if absent. */
int vhu_memmap_remove(const struct vhu_memmap *old, const struct vhu_mem_region *reg,
                      struct vhu_memmap **out);

struct vhu_memmap *vhu_memmap_ref(struct vhu_memmap *m);
/* Drops a reference; the last one unmaps what nothing else uses. Accepts and returns NULL. */
struct vhu_memmap *vhu_memmap_unref(struct vhu_memmap *m);

/*
 * Guest-physical address to our pointer. Returns NULL when gpa is outside
 * every region; otherwise *contig is how many bytes from gpa stay inside
 * the region (never 0).
 */
void *vhu_memmap_gpa(const struct vhu_memmap *m, uint64_t gpa, uint64_t *contig);

/* Guest-physical range that must be contiguous in one region (ring tables). */
void *vhu_memmap_gpa_range(const struct vhu_memmap *m, uint64_t gpa, uint64_t len);

/* Frontend user address range (SET_VRING_ADDR) to our pointer, NULL if not inside one region. */
void *vhu_memmap_uaddr_range(const struct vhu_memmap *m, uint64_t uaddr, uint64_t len);

#endif

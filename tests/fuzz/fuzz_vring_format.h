/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Input format of fuzz_vring, shared with the corpus generator.
 *
 *   input := struct vfz_setup, then rounds
 *   round := struct vfz_round, then `len` bytes written over the window
 *
 * Guest memory is one memfd; a guest-physical address is its offset in the
 * file, and the frontend's user address is VFZ_UADDR + the GPA:
 *
 *   [0, 0x10000)        one region: descriptor table at VFZ_DESC_GPA, avail
 *                       ring at VFZ_AVAIL_GPA, used ring at VFZ_USED_GPA
 *   [0x10000, 0x20000)  16 regions of 4 KiB back to back, so one buffer can
 *                       need many segments
 *   0x20000 and up      not guest memory
 *
 * The window a round writes, from its start: the descriptor table
 * (16 * num bytes), the avail ring (flags, idx, ring[num], used_event),
 * then VFZ_AREA_SIZE bytes at VFZ_AREA_GPA for indirect tables (it spans
 * the end of the big region and the first small one). Bytes a round does
 * not reach keep their values; the used ring is the device's.
 */
#ifndef TESTS_FUZZ_FUZZ_VRING_FORMAT_H
#define TESTS_FUZZ_FUZZ_VRING_FORMAT_H

#include <stdint.h>

#define VFZ_UADDR       0x7f0000000000ull
#define VFZ_MEM_SIZE    0x20000u
#define VFZ_BIG_SIZE    0x10000u
#define VFZ_SMALL_SIZE  0x1000u
#define VFZ_DESC_GPA    0x0u
#define VFZ_AVAIL_GPA   0x1000u
#define VFZ_USED_GPA    0x2000u
#define VFZ_AREA_GPA    0xf000u
#define VFZ_AREA_SIZE   0x2000u
#define VFZ_MAX_LOG2    8u       /* queue sizes 1 to 256 */

struct vfz_setup {
    uint8_t size_log2;        /* queue size 1 << (size_log2 % (VFZ_MAX_LOG2 + 1)) */
    uint8_t features;         /* VFZ_F_* */
    uint8_t base[2];          /* SET_VRING_BASE value, little endian */
    uint8_t used_idx[2];      /* used->idx the driver left, little endian */
} __attribute__((packed));

#define VFZ_F_EVENT_IDX (1u << 0)
#define VFZ_F_INDIRECT  (1u << 1)
#define VFZ_F_NO_CALL   (1u << 2) /* no call eventfd */
#define VFZ_F_ERR_FD    (1u << 3) /* an error eventfd */

struct vfz_round {
    uint8_t action;           /* VFZ_A_* */
    uint8_t batch;            /* requests per pop; 0: the queue size */
    uint8_t len[2];           /* window bytes that follow, little endian */
} __attribute__((packed));

#define VFZ_A_RESET     (1u << 0) /* first complete everything, stop and restart
                                   * the queue (the frontend's reset) */
#define VFZ_A_REVERSE   (1u << 1) /* complete in reverse pop order */
#define VFZ_A_INLINE    (1u << 2) /* reserved: inline completions once deferred their notification */
#define VFZ_A_KEEP_HALF (1u << 3) /* keep every other request in flight */
#define VFZ_A_WAIT      (1u << 4) /* vq_kicks_off before, vq_wait_prepare after */
#define VFZ_A_WRITE_ALL (1u << 5) /* report every writable byte as written */

#endif

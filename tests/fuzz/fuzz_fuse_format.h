/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Input format of fuzz_fuse_dispatch, shared with the corpus generator.
 *
 *   input  := setup record*
 *   record := struct ffz_record, then `arglen` argument bytes
 *
 * The target builds each request's fuse_in_header itself (length, opcode,
 * unique, nodeid, caller) so that mutations land in the arguments, where
 * the decoders are. Ids the guest only learns from replies (nodeids, file
 * handles) are chosen by selectors among the ids this input's earlier
 * replies returned. Inputs shorter than a setup use the defaults.
 */
#ifndef TESTS_FUZZ_FUZZ_FUSE_FORMAT_H
#define TESTS_FUZZ_FUZZ_FUSE_FORMAT_H

#include <stdint.h>

/* How the session is set up; then the target sends a valid INIT. */
struct ffz_setup {
    uint8_t config;           /* FFZ_CFG_* */
    uint8_t init_flags[4];    /* INIT flags the guest offers, little endian */
} __attribute__((packed));

#define FFZ_CFG_XATTR        (1u << 0)  /* pt_config.xattr */
#define FFZ_CFG_READONLY     (1u << 1)  /* pt_config.readonly */
#define FFZ_CFG_CACHE_SHIFT  2          /* 2 bits: enum pt_cache */
#define FFZ_CFG_WRITEBACK    (1u << 4)  /* fp_config.writeback */
#define FFZ_CFG_READDIRPLUS  (1u << 5)  /* fp_config.readdirplus */
#define FFZ_CFG_SUBMOUNTS    (1u << 6)  /* announce_submounts */
#define FFZ_CFG_DIRECT_IO    (1u << 7)  /* pt_config.allow_direct_io */

struct ffz_record {
    uint8_t opcode;           /* FUSE opcode (0-255; see FFZ_REC_OPCODE_HIGH) */
    uint8_t node;             /* selector for the header's nodeid */
    uint8_t fh;               /* selector for the argument's file handle field */
    uint8_t aux;              /* selector for a second id in the arguments:
                               * LINK oldnodeid, RENAME(2) newdir,
                               * COPY_FILE_RANGE fh_out */
    uint8_t shape;            /* FFZ_SHAPE_*: how the request sits in memory */
    uint8_t flags;            /* FFZ_REC_* */
    uint8_t arglen[2];        /* argument bytes that follow, little endian */
} __attribute__((packed));

/*
 * Selectors. The known-id lists start with the root (nodeid 1) and no file
 * handle; each successful entry, open or READDIRPLUS reply adds to them.
 */
#define FFZ_SEL_RAW      0xffu /* keep what the argument bytes say (node: nodeid 0) */
#define FFZ_SEL_ALL_ONES 0xfeu /* UINT64_MAX */
#define FFZ_SEL_STALE    0xfdu /* the first known id with its generation moved on */
#define FFZ_SEL_FAR      0xfcu /* an index far beyond any table */
/* Any other value v picks known[v % count]. */

/* shape bits 0-1: how the readable side is cut into iovecs */
#define FFZ_IN_WHOLE     0u  /* one iovec */
#define FFZ_IN_HEADER    1u  /* the header, then the arguments */
#define FFZ_IN_BYTES     2u  /* the first 64 bytes one by one, then the rest */
#define FFZ_IN_FIVES     3u  /* pieces of 5 bytes (at most 32), then the rest */
/* shape bits 2-4: writable bytes, an index into FFZ_OUT_SIZES */
#define FFZ_OUT_SIZES { 0u, 12u, 16u, 40u, 144u, 160u, 4096u + 16u, 65536u + 16u }
/* shape bits 5-6: how the writable side is cut */
#define FFZ_OUT_WHOLE    0u
#define FFZ_OUT_HEADER   1u  /* 16 bytes, then the rest */
#define FFZ_OUT_BYTES    2u  /* the first 48 bytes one by one, then the rest */
#define FFZ_OUT_CHUNKS   3u  /* pieces of 24 bytes (at most 32), then the rest */
/* shape bit 7: a zero-length iovec after every piece, on both sides */
#define FFZ_SHAPE_EMPTIES (1u << 7)

#define FFZ_SHAPE(in, out_size_idx, out, empties) \
    ((uint8_t)((in) | (out_size_idx) << 2 | (out) << 5 | ((empties) ? FFZ_SHAPE_EMPTIES : 0u)))

/* Index into FFZ_OUT_SIZES of the default 4 KiB reply space. */
#define FFZ_OUT_4K 6u
#define FFZ_OUT_64K 7u

/* flags */
#define FFZ_REC_USER        (1u << 0) /* caller uid/gid 1000 instead of 0 */
#define FFZ_REC_RAW_LEN     (1u << 1) /* the first 4 argument bytes are the
                                       * header's len field, not arguments */
#define FFZ_REC_OPCODE_HIGH (1u << 2) /* opcode | 0x80000000 */
#define FFZ_REC_TRUNCATE    (1u << 3) /* the readable side is only the first
                                       * `arglen` bytes of header + arguments
                                       * (shorter than a header if < 40) */

#endif

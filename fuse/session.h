/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE engine: parses a request from its readable iovecs, validates it,
 * dispatches it to the filesystem and writes exactly one reply into its
 * writable iovecs. Transport-agnostic: it sees only struct req.
 */
#ifndef FUSE_SESSION_H
#define FUSE_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/request.h"
#include "passthrough/passthrough.h"

struct fp_config {
    uint32_t max_write;       /* bytes; clamped to [4 KiB, 1 MiB] */
    uint32_t max_background;  /* background requests the guest may queue */
    bool readdirplus;         /* offer READDIRPLUS */
    bool writeback;           /* offer the writeback cache */
    bool announce_submounts;  /* offer FUSE_SUBMOUNTS */
    bool allow_mmap;          /* offer FUSE_DIRECT_IO_ALLOW_MMAP: shared mappings of
                               * FOPEN_DIRECT_IO files (guests from Linux 6.6) */
    enum pt_cache cache;
};

struct fp_session;

/* The session keeps `fs` (not owned). Owned by the caller; free with fp_session_free(). */
int fp_session_new(const struct fp_config *cfg, struct pt_fs *fs, struct fp_session **out);
void fp_session_free(struct fp_session *s);

/*
 * Handles one request and ends it with exactly one req_complete(), now or,
 * when the request's io engine took its I/O, later. Any thread.
 */
void fp_dispatch(struct fp_session *s, struct req *req);

/* Name of an opcode for logs ("UNKNOWN" when out of range). */
const char *fp_opcode_name(uint32_t opcode);

/* Per-opcode statistics. */
#define FP_OPCODE_MAX 64
struct fp_op_stats {
    uint64_t count;
    uint64_t errors;
    uint64_t total_ns;
    uint64_t max_ns;
};
void fp_session_stats(struct fp_session *s, struct fp_op_stats out[FP_OPCODE_MAX]);
void fp_session_log_stats(struct fp_session *s);

#endif

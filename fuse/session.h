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
    bool posix_acl;           /* offer FUSE_POSIX_ACL (with FUSE_DONT_MASK, FUSE_SETXATTR_EXT) */
    bool killpriv_v2;         /* offer FUSE_HANDLE_KILLPRIV_V2 */
    bool security_label;      /* offer FUSE_SECURITY_CTX */
    bool posix_lock;          /* offer FUSE_POSIX_LOCKS: GETLK/SETLK/SETLKW record locks */
    bool flock;               /* offer FUSE_FLOCK_LOCKS: SETLK/SETLKW with FUSE_LK_FLOCK */
    bool allow_mmap;          /* offer FUSE_DIRECT_IO_ALLOW_MMAP: shared mappings of
                               * FOPEN_DIRECT_IO files (guests from Linux 6.6) */
    enum pt_cache cache;
};

struct fp_session;

/*
 * The session keeps `fs` (not owned). Owned by the caller; free with
 * fp_session_free(), which first ends every request still waiting for a
 * lock (EIO) and waits for their threads. The first session installs a
 * handler for SIGURG (it interrupts those waits); nothing else in the
 * process may use SIGURG.
 */
int fp_session_new(const struct fp_config *cfg, struct pt_fs *fs, struct fp_session **out);
void fp_session_free(struct fp_session *s);

/*
 * Handles one request and ends it with exactly one req_complete(), now or,
 * when the request's io engine took its I/O, later. Any thread.
 */
void fp_dispatch(struct fp_session *s, struct req *req);

/*
 * A SETLKW that cannot be granted at once leaves the thread that
 * dispatched it and waits on a thread of its own; an INTERRUPT whose target
 * has not arrived waits a little for it the same way. Both still count as in
 * flight for their transport. This ends such a request early: a waiting
 * lock is answered with `err` (-errno) unless it was granted meanwhile, a
 * waiting INTERRUPT gets no answer. Other requests are left alone. The
 * answer comes from the waiting thread, possibly after this returns (within
 * milliseconds). Any thread; a transport calls it before it waits for its
 * requests to finish, e.g. when a queue stops.
 */
void fp_session_cancel(struct fp_session *s, struct req *req, int err);

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

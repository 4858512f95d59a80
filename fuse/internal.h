/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to fuse/: the decoder, the reply helpers and the opcode handlers. */
#ifndef FUSE_INTERNAL_H
#define FUSE_INTERNAL_H

#include <linux/fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/iov.h"
#include "common/request.h"
#include "fuse/session.h"
#include "passthrough/passthrough.h"

/* Oldest minor version we serve: virtio-fs arrived with 7.31. */
#define FP_MIN_MINOR 31
#define FP_MAX_WRITE_LIMIT (1u << 20)
/* Copied argument bytes of one request (SETXATTR's 64 KiB value is the largest). */
#define FP_MAX_ARGS (128u * 1024u)
/* Segments of one READ/WRITE payload. */
#define FP_MAX_IOV 1024u
/* Security contexts accepted on one creating request (the kernel sends one). */
#define FP_MAX_SECCTX 8u

/* Protocol 7.39, newer than some <linux/fuse.h>: the caller's supplementary
 * group on creating requests. */
#define FP_CREATE_SUPP_GROUP (1ULL << 34)
#define FP_EXT_GROUPS 32u
struct fp_supp_groups {
    uint32_t nr_groups;
    /* uint32_t groups[nr_groups] follow */
};

struct fp_waiter;

struct fp_session {
    struct fp_config cfg;
    struct pt_fs *fs;

    bool initialized;         /* atomic: INIT done, not destroyed */
    uint32_t proto_minor;     /* negotiated */
    uint64_t flags;           /* negotiated INIT flags (flags | flags2 << 32) */
    uint32_t max_write;

    struct fp_op_stats stats[FP_OPCODE_MAX]; /* atomic counters */

    /* Requests waiting on threads of their own (lock.c). */
    pthread_mutex_t wait_lock;   /* taken alone; never held across a reply */
    pthread_cond_t wait_cond;    /* CLOCK_MONOTONIC; a waiter left the list or ended */
    struct fp_waiter *waiters;   /* wait_lock: waiting, not yet answering */
    unsigned nwaiters;           /* wait_lock: waiter threads alive, answering included */
};

/*
 * Decoder over a request's copied argument bytes (never guest memory, so
 * checks stay true). Every getter returns NULL when the input is short or
 * malformed.
 */
struct fp_args {
    const uint8_t *buf;
    size_t len;
    size_t off;
    int err;                  /* why the last getter returned NULL (-errno) */
    const char *why;          /* what was malformed, for the dispatcher's log line */
};

static inline const void *fp_args_fixed(struct fp_args *a, size_t size)
{
    if (a->len - a->off < size)
        return NULL;
    const void *p = a->buf + a->off;
    a->off += size;
    return p;
}

/*
 * A NUL-terminated string of at most max bytes before the NUL. On NULL,
 * a->err is -EINVAL (no NUL) or -ENAMETOOLONG (longer than max), and a->why
 * says which.
 */
const char *fp_args_str(struct fp_args *a, size_t max);
/*
 * A file name: non-empty, no '/', "." and ".." only if allow_dots (else
 * -EINVAL), at most NAME_MAX bytes (else -ENAMETOOLONG, as the host would say).
 */
const char *fp_args_name(struct fp_args *a, bool allow_dots);
/* The rest of the arguments. */
static inline const void *fp_args_rest(struct fp_args *a, size_t *len)
{
    *len = a->len - a->off;
    const void *p = a->buf + a->off;
    a->off = a->len;
    return p;
}

/* What a handler returns when it replied (or will reply from an I/O completion). */
#define FP_DONE 0

/*
 * Per-request context handed to handlers. `payload` is a cursor over the
 * readable bytes that were not copied (WRITE data).
 */
struct fp_req {
    struct fp_session *s;
    struct req *req;
    struct fuse_in_header in;
    struct pt_ctx ctx;
    struct fp_args args;
    struct fp_args ext;       /* the request's extensions (total_extlen), cut
                               * off the end of args; len 0 when none */
    struct iov_cursor payload;
};

typedef int fp_handler(struct fp_req *r);

/*
 * For a handler rejecting malformed arguments: records why (a string
 * constant) for the dispatcher's log line and returns err.
 */
static inline int fp_bad(struct fp_req *r, int err, const char *why)
{
    r->args.why = why;
    return err;
}

#define FP_NO_REPLY     (1u << 0) /* FORGET, BATCH_FORGET: the guest expects no answer */
#define FP_BEFORE_INIT  (1u << 1) /* allowed before INIT */
#define FP_PAYLOAD      (1u << 2) /* copy only min_in bytes; the rest stays in guest memory */

struct fp_opcode {
    const char *name;
    fp_handler *handler;
    uint32_t min_in;          /* fixed argument bytes */
    uint32_t flags;
};

const struct fp_opcode *fp_opcode_get(uint32_t opcode);

/* --- replies: each ends the request; handlers return what they return --- */

/* Error reply; err is -errno. */
int fp_reply_err(struct fp_req *r, int err);
/* Header plus `len` bytes. */
int fp_reply_ok(struct fp_req *r, const void *data, size_t len);
/* Ends a request that gets no reply (FORGET). */
int fp_reply_none(struct fp_req *r);
/* Entry reply; undoes the lookup if it cannot be delivered. */
int fp_reply_entry(struct fp_req *r, const struct pt_entry *e);
int fp_reply_attr(struct fp_req *r, const struct pt_attr *a);
int fp_reply_open(struct fp_req *r, uint64_t fh, uint32_t open_flags);
/* CREATE: entry + open. */
int fp_reply_create(struct fp_req *r, const struct pt_entry *e, uint64_t fh, uint32_t open_flags);

/*
 * Writable space for a payload that follows the reply header: describes up
 * to `max` bytes as iovecs (into guest memory) in iov. Returns the number of
 * iovecs and sets *len; -EIO when the request has no room for a header.
 */
int fp_reply_space(struct fp_req *r, size_t max, struct iovec *iov, unsigned max_iov, size_t *len);
/* Ends a request whose payload of `len` bytes is already in place after the header. */
int fp_reply_payload_done(struct fp_req *r, size_t len);

void fp_fill_attr(struct fuse_attr *out, const struct pt_attr *a);
void fp_fill_entry(struct fuse_entry_out *out, const struct pt_entry *e);

/*
 * For CREATE, MKNOD, MKDIR and SYMLINK, after their names are decoded:
 * reads the security contexts (FUSE_SECURITY_CTX; trailing the names up to
 * protocol 7.37, an extension from 7.38) and the supplementary group
 * extension (FUSE_CREATE_SUPP_GROUP) into r->ctx. What was not negotiated is
 * ignored. sc (max entries) holds the contexts; they point into the
 * request's copied arguments. -EINVAL for a malformed one, -E2BIG for more
 * than max contexts.
 */
int fp_decode_create_ext(struct fp_req *r, struct pt_secctx *sc, unsigned max);

/* Records statistics and completes; the only place a request ends. */
void fp_finish(struct fp_req *r, uint32_t written, int error);

/* Waiting requests (lock.c): set up and torn down with the session. The
 * teardown ends every waiting request with EIO and waits for its thread. */
void fp_waiters_init(struct fp_session *s);
void fp_waiters_done(struct fp_session *s);
/* Ends every waiting request (DESTROY, a new INIT): locks get `err`. */
void fp_waiters_cancel_all(struct fp_session *s, int err);

/* Handlers (one per opcode, grouped by file). */
fp_handler fp_op_init, fp_op_destroy, fp_op_interrupt;
fp_handler fp_op_lookup, fp_op_forget, fp_op_batch_forget, fp_op_getattr, fp_op_setattr;
fp_handler fp_op_readlink, fp_op_symlink, fp_op_mknod, fp_op_mkdir, fp_op_unlink, fp_op_rmdir;
fp_handler fp_op_rename, fp_op_rename2, fp_op_link;
fp_handler fp_op_open, fp_op_create, fp_op_tmpfile, fp_op_read, fp_op_write, fp_op_flush;
fp_handler fp_op_release;
fp_handler fp_op_fsync, fp_op_fallocate, fp_op_lseek, fp_op_copy_file_range;
fp_handler fp_op_opendir, fp_op_readdir, fp_op_readdirplus, fp_op_releasedir, fp_op_fsyncdir;
fp_handler fp_op_statfs, fp_op_access, fp_op_syncfs, fp_op_ioctl;
fp_handler fp_op_getxattr, fp_op_setxattr, fp_op_listxattr, fp_op_removexattr;
fp_handler fp_op_getlk, fp_op_setlk, fp_op_setlkw;

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FUSE over the test client's virtqueues, as the guest's virtio-fs driver
 * sends it: a request is a fuse_in_header plus argument structs (readable
 * segments) and room for a fuse_out_header plus reply structs (writable
 * segments); bulk data may sit in separate guest buffers so READ and WRITE
 * use several segments, exercising a backend's zero-copy path.
 *
 * Synchronous calls (tc_fuse_call() and the per-opcode helpers) use a
 * per-queue scratch area; asynchronous ones (tc_fuse_submit() /
 * tc_fuse_kick() / tc_fuse_reap()) use the request object's own scratch,
 * set up once with tc_fuse_req_init(), so a benchmark can keep many
 * requests in flight without allocating per request.
 *
 * Every completion is checked: used length == out.len, out.unique matches,
 * out.len fits in the writable space, out.error is 0 or a negated errno
 * with no payload. A violation is reported as -EPROTO.
 *
 * Threads: one thread per queue; don't mix synchronous calls and
 * asynchronous requests on the same queue. Helpers run on the device's
 * default request queue (dev->fuse.queue, normally 1).
 */
#ifndef TESTS_LIB_TC_FUSE_H
#define TESTS_LIB_TC_FUSE_H

#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/lib/tc_vhost.h"

#define TC_FUSE_MAX_ARGS 4

/* struct tc_fuse_req.flags, and defaults in dev->fuse.flags */
enum {
    TC_FUSE_HIPRIO   = 1 << 0, /* send on queue 0 */
    TC_FUSE_NOREPLY  = 1 << 1, /* no writable segments, expect used len 0 */
    TC_FUSE_INDIRECT = 1 << 2, /* chain through an indirect table */
    TC_FUSE_PACK_IN  = 1 << 3, /* header and in args as one readable segment */
    TC_FUSE_PACK_OUT = 1 << 4, /* out header and out args as one writable segment */
};

struct tc_fuse_in_arg {
    const void *ptr;
    uint32_t len;
};

struct tc_fuse_out_arg {
    void *ptr;
    uint32_t len;
};

struct tc_fuse_req {
    /* set by the caller */
    uint32_t opcode;
    uint64_t nodeid;
    unsigned flags;           /* TC_FUSE_* */
    unsigned queue;           /* request queue, 0: dev->fuse.queue; ignored with HIPRIO */
    unsigned in_cnt;
    struct tc_fuse_in_arg in[TC_FUSE_MAX_ARGS];    /* copied into guest memory */
    const struct tc_buf *in_data;                  /* payload, one readable segment each */
    unsigned in_data_cnt;
    unsigned out_cnt;
    struct tc_fuse_out_arg out[TC_FUSE_MAX_ARGS];  /* copied out of guest memory */
    const struct tc_buf *out_data;                 /* reply payload targets, one writable segment each */
    unsigned out_data_cnt;
    uint16_t total_extlen;    /* fuse_in_header.total_extlen: the last in
                               * args are extensions of this many 8-byte units */
    void *user;               /* caller's cookie */

    /* results, valid after completion */
    int result;               /* reply payload length (out.len - header) or -errno */
    struct fuse_out_header out_hdr;
    uint32_t used_len;
    bool done;

    /* private */
    uint64_t unique;
    unsigned vq;              /* virtqueue it went to */
    struct tc_buf scratch;    /* owned when set up by tc_fuse_req_init() */
    struct tc_buf tmp;        /* per-call overflow scratch */
    uint32_t out_off;         /* offset of the out header in the scratch */
};

/* --- core ---------------------------------------------------------------- */

/*
 * Clears *req and gives it its own guest scratch of `scratch_size` bytes
 * (0: 8 KiB) for headers and in/out args; larger requests borrow a
 * temporary buffer per submission. The object can then be submitted any
 * number of times. Returns 0 or -ENOMEM; release with tc_fuse_req_done().
 */
int tc_fuse_req_init(struct tc_dev *dev, struct tc_fuse_req *req, size_t scratch_size);
void tc_fuse_req_done(struct tc_dev *dev, struct tc_fuse_req *req);

/*
 * Queues req (not kicked). Needs a scratch from tc_fuse_req_init(), or
 * borrows the queue's synchronous scratch when it has none (then only one
 * such request may be in flight per queue). Returns 0, -ENOSPC (ring full:
 * reap first), -EINVAL, -E2BIG (too many segments) or -ENOMEM.
 */
int tc_fuse_submit(struct tc_dev *dev, struct tc_fuse_req *req);
/* Publishes and notifies the queue req-less submissions went to; returns
 * like tc_vq_kick(). `queue` is a virtqueue index (0 = hiprio). */
int tc_fuse_kick(struct tc_dev *dev, unsigned queue);
/*
 * Reaps up to max completed requests of virtqueue `queue` into done[],
 * waiting up to timeout_ms (0: don't wait, < 0: forever) when none is
 * ready. Each gets result/out_hdr/used_len/done set. Returns the count,
 * -ETIMEDOUT when nothing completed in time, -EIO when the device broke
 * the ring.
 */
int tc_fuse_reap(struct tc_dev *dev, unsigned queue, struct tc_fuse_req **done, unsigned max,
                 int timeout_ms);
/*
 * Submits, kicks and waits for req (dev->timeout_ms). Returns req->result:
 * the reply payload length (>= 0) or a negative errno from the daemon
 * (-out.error), or -EPROTO / -ETIMEDOUT / -EIO / -ECONNRESET (the daemon
 * hung up) for transport failures; after those the queue is broken.
 */
int tc_fuse_call(struct tc_dev *dev, struct tc_fuse_req *req);

/* Credentials put into every following request's fuse_in_header. */
void tc_fuse_set_creds(struct tc_dev *dev, uint32_t uid, uint32_t gid, uint32_t pid);

/* The virtqueue a request with these flags/queue goes to. */
unsigned tc_fuse_queue_of(const struct tc_dev *dev, unsigned flags, unsigned queue);

/* --- per-opcode helpers ----------------------------------------------------
 * Synchronous; each returns 0 (or the documented length) or -errno. Reply
 * structs shorter than the helper needs are -EPROTO.
 */

/* FUSE_INIT flags the helpers ask for by default (what a current Linux
 * guest asks that does not change file semantics). */
#define TC_FUSE_INIT_FLAGS \
    ((uint64_t)(FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_EXPORT_SUPPORT | FUSE_BIG_WRITES | \
                FUSE_DONT_MASK | FUSE_AUTO_INVAL_DATA | FUSE_DO_READDIRPLUS | \
                FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS | \
                FUSE_HANDLE_KILLPRIV | FUSE_ABORT_ERROR | FUSE_MAX_PAGES | \
                FUSE_CACHE_SYMLINKS | FUSE_NO_OPENDIR_SUPPORT | FUSE_EXPLICIT_INVAL_DATA | \
                FUSE_HANDLE_KILLPRIV_V2 | FUSE_SETXATTR_EXT | FUSE_INIT_EXT))

/* FUSE_INIT 7.38 asking for `flags` (low 32 bits in flags, high in flags2).
 * Stores the reply (zero-extended) in dev->fuse.init and *out if non-NULL. */
int tc_fuse_init_session(struct tc_dev *dev, uint64_t flags, struct fuse_init_out *out);
int tc_fuse_destroy(struct tc_dev *dev);

int tc_fuse_lookup(struct tc_dev *dev, uint64_t parent, const char *name, struct fuse_entry_out *out);
/* FORGET / BATCH_FORGET go to the hiprio queue and get no reply; these
 * return once the daemon has used the buffer. */
int tc_fuse_forget(struct tc_dev *dev, uint64_t nodeid, uint64_t nlookup);
int tc_fuse_batch_forget(struct tc_dev *dev, const struct fuse_forget_one *items, uint32_t count);

/* GETATTR; with FUSE_GETATTR_FH in getattr_flags, through handle fh. */
int tc_fuse_getattr(struct tc_dev *dev, uint64_t nodeid, uint32_t getattr_flags, uint64_t fh,
                    struct fuse_attr_out *out);
int tc_fuse_setattr(struct tc_dev *dev, uint64_t nodeid, const struct fuse_setattr_in *in,
                    struct fuse_attr_out *out);
/* Returns the target length; buf gets it NUL-terminated (truncated to size - 1). */
int tc_fuse_readlink(struct tc_dev *dev, uint64_t nodeid, char *buf, size_t size);
int tc_fuse_symlink(struct tc_dev *dev, uint64_t parent, const char *name, const char *target,
                    struct fuse_entry_out *out);
int tc_fuse_mknod(struct tc_dev *dev, uint64_t parent, const char *name, uint32_t mode,
                  uint32_t rdev, uint32_t umask, struct fuse_entry_out *out);
int tc_fuse_mkdir(struct tc_dev *dev, uint64_t parent, const char *name, uint32_t mode,
                  uint32_t umask, struct fuse_entry_out *out);
int tc_fuse_unlink(struct tc_dev *dev, uint64_t parent, const char *name);
int tc_fuse_rmdir(struct tc_dev *dev, uint64_t parent, const char *name);
int tc_fuse_rename(struct tc_dev *dev, uint64_t olddir, const char *oldname, uint64_t newdir,
                   const char *newname);
/* RENAME2 with RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT flags. */
int tc_fuse_rename2(struct tc_dev *dev, uint64_t olddir, const char *oldname, uint64_t newdir,
                    const char *newname, uint32_t flags);
int tc_fuse_link(struct tc_dev *dev, uint64_t oldnodeid, uint64_t newparent, const char *newname,
                 struct fuse_entry_out *out);

int tc_fuse_open(struct tc_dev *dev, uint64_t nodeid, uint32_t flags, struct fuse_open_out *out);
int tc_fuse_create(struct tc_dev *dev, uint64_t parent, const char *name, uint32_t flags,
                   uint32_t mode, uint32_t umask, struct fuse_entry_out *entry,
                   struct fuse_open_out *open);
/* READ into a host buffer; returns the bytes read. */
int tc_fuse_read(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset, void *buf,
                 uint32_t size);
/* READ of the buffers' total size straight into guest buffers, one
 * writable segment each. Returns the bytes read. */
int tc_fuse_read_bufs(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                      const struct tc_buf *bufs, unsigned nbufs);
/* WRITE from a host buffer; returns the bytes written (fuse_write_out.size). */
int tc_fuse_write(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                  const void *data, uint32_t size);
/* WRITE of the buffers' contents, one readable segment each. */
int tc_fuse_write_bufs(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                       const struct tc_buf *bufs, unsigned nbufs);
int tc_fuse_flush(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t lock_owner);
int tc_fuse_release(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t flags);
int tc_fuse_fsync(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t fsync_flags);

int tc_fuse_opendir(struct tc_dev *dev, uint64_t nodeid, uint32_t flags, struct fuse_open_out *out);
/* READDIR / READDIRPLUS into buf (raw records); return the bytes filled. */
int tc_fuse_readdir(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset, void *buf,
                    uint32_t size);
int tc_fuse_readdirplus(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                        void *buf, uint32_t size);
int tc_fuse_releasedir(struct tc_dev *dev, uint64_t nodeid, uint64_t fh);
int tc_fuse_fsyncdir(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t fsync_flags);

int tc_fuse_statfs(struct tc_dev *dev, uint64_t nodeid, struct fuse_statfs_out *out);
int tc_fuse_access(struct tc_dev *dev, uint64_t nodeid, uint32_t mask);
int tc_fuse_fallocate(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                      uint64_t length, uint32_t mode);
int tc_fuse_lseek(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t offset,
                  uint32_t whence, uint64_t *result);
int tc_fuse_syncfs(struct tc_dev *dev, uint64_t nodeid);

/* SETXATTR sends the extended fuse_setxattr_in when FUSE_SETXATTR_EXT was
 * negotiated, the compat one otherwise. */
int tc_fuse_setxattr(struct tc_dev *dev, uint64_t nodeid, const char *name, const void *value,
                     uint32_t size, uint32_t flags);
/* GETXATTR / LISTXATTR: with size 0 they return the size needed, else the
 * length stored in value/list. */
int tc_fuse_getxattr(struct tc_dev *dev, uint64_t nodeid, const char *name, void *value,
                     uint32_t size);
int tc_fuse_listxattr(struct tc_dev *dev, uint64_t nodeid, char *list, uint32_t size);
int tc_fuse_removexattr(struct tc_dev *dev, uint64_t nodeid, const char *name);

/* --- locks, TMPFILE, IOCTL, INTERRUPT (tc_fuse_lock.c) ----------------------
 * A lock is a struct fuse_file_lock: start, end (inclusive; OFFSET_MAX =
 * INT64_MAX for "to the end"), type F_RDLCK / F_WRLCK / F_UNLCK, pid.
 */

/* GETLK for `owner`: *out gets the conflicting lock (type F_UNLCK: none). */
int tc_fuse_getlk(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t owner,
                  const struct fuse_file_lock *want, struct fuse_file_lock *out);
/* SETLK, or SETLKW when `wait`, synchronously; lk_flags: FUSE_LK_FLOCK. */
int tc_fuse_setlk(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint64_t owner,
                  const struct fuse_file_lock *lk, uint32_t lk_flags, bool wait);
/*
 * Fills req's opcode, nodeid and arguments for an asynchronous SETLK /
 * SETLKW of `in` (copied into guest memory at tc_fuse_submit(), so `in`
 * need only live until then). req keeps its scratch, queue and flags.
 */
void tc_fuse_setlk_req(struct tc_fuse_req *req, uint64_t nodeid, const struct fuse_lk_in *in,
                       bool wait);
/* RELEASE with release_flags (FUSE_RELEASE_FLOCK_UNLOCK) and lock_owner. */
int tc_fuse_release_owner(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t flags,
                          uint32_t release_flags, uint64_t lock_owner);
/* INTERRUPT of request `unique` on the hiprio queue, without room for a
 * reply: returns 0 once the daemon has used it. */
int tc_fuse_interrupt(struct tc_dev *dev, uint64_t unique);
/* TMPFILE in parent (CREATE's arguments with the name "/", as the guest's
 * VFS sends it); the reply is CREATE's. */
int tc_fuse_tmpfile(struct tc_dev *dev, uint64_t parent, uint32_t flags, uint32_t mode,
                    uint32_t umask, struct fuse_entry_out *entry, struct fuse_open_out *open);
/* IOCTL with in_size bytes of `data`; returns the reply length or -errno. */
int tc_fuse_ioctl(struct tc_dev *dev, uint64_t nodeid, uint64_t fh, uint32_t ioctl_flags,
                  uint32_t cmd, const void *data, uint32_t in_size, uint32_t out_size);

/* --- directory records --------------------------------------------------- */

struct tc_dirent {
    uint64_t ino;
    uint64_t off;
    uint32_t type;
    uint32_t namelen;
    char name[256];                /* NUL-terminated copy */
    struct fuse_entry_out entry;   /* READDIRPLUS only */
};

/*
 * Decodes the record at *pos of a READDIR (plus = false) or READDIRPLUS
 * reply of len bytes and advances *pos. Returns 1, 0 at the end, or
 * -EPROTO for a truncated record, a bad name length or a name holding
 * '/' or NUL.
 */
int tc_dirent_next(const void *buf, size_t len, size_t *pos, bool plus, struct tc_dirent *ent);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The passthrough filesystem: serves FUSE semantics from a host directory.
 *
 * It knows nothing of transports. Callers are the FUSE engine (fuse/) and
 * tests. Every function may be called from any thread, concurrently.
 *
 * Identifiers from the guest (nodeid, fh) are validated through tables and
 * never cast to pointers: an unknown or stale nodeid or fh gives -EBADF.
 *
 * Return convention: >= 0 on success, -errno on failure.
 *
 * Lookup counts: every successful call that fills a `struct pt_entry` with a
 * non-zero nodeid adds one to that inode's lookup count (the guest's
 * reference). pt_forget() drops counts; an inode is freed when its lookup
 * count is zero and no request is using it. If the caller cannot deliver an
 * entry to the guest it must call pt_forget(fs, entry.nodeid, 1).
 *
 * Symlinks are never followed on the host side; ".." from the shared
 * directory's root stays at the root.
 *
 * Host requirements: /proc must be mounted at /proc (inodes are re-opened
 * through /proc/self/fd; xattrs of symlinks and special files go through
 * "/proc/self/fd/N" paths). Creating calls switch the thread's fs uid/gid
 * only when the daemon runs as root; otherwise files belong to the daemon.
 * A root daemon drops the process's supplementary groups at pt_fs_new(): a
 * creating call runs with the caller's uid/gid and, at most, the one
 * supplementary group the request names, never with the daemon's own
 * memberships (which would let a new file keep S_ISGID in a set-group-id
 * directory whose group the caller is not in: CVE-2022-0358).
 */
#ifndef PASSTHROUGH_PASSTHROUGH_H
#define PASSTHROUGH_PASSTHROUGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>

#define PT_ROOT_ID 1ull /* nodeid of the shared directory (FUSE_ROOT_ID) */

/*
 * What the guest may cache, as the Rust and QEMU virtiofsd define the modes:
 *
 *   mode      entry/attr timeout   files                    directories
 *   never     0                    FOPEN_DIRECT_IO          -
 *   metadata  1 day                FOPEN_DIRECT_IO          FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE
 *   auto      1 s                  - (close-to-open)        -
 *   always    1 day                FOPEN_KEEP_CACHE         FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE
 *
 * cfg.timeout replaces the mode's timeout when set.
 */
enum pt_cache {
    PT_CACHE_NEVER,    /* no caching: timeouts 0, direct I/O on every open */
    PT_CACHE_METADATA, /* metadata and listings cached (timeouts long), data direct */
    PT_CACHE_AUTO,     /* short timeouts (1 s), page cache dropped at each open */
    PT_CACHE_ALWAYS,   /* long timeouts, page cache and listings kept across opens */
};

/* How inodes are referenced while the guest knows them. */
enum pt_inode_handles {
    PT_HANDLES_NEVER,     /* an O_PATH fd per inode */
    PT_HANDLES_PREFER,    /* a file handle (no fd while idle) where the inode's filesystem
                           * supports them, an O_PATH fd elsewhere */
    PT_HANDLES_MANDATORY, /* file handles only: pt_fs_new() fails when the shared directory
                           * does not support them, a lookup elsewhere fails */
};

struct pt_xattrmap;
struct pt_idmap;

struct pt_config {
    const char *shared_dir;   /* must exist; resolved at pt_fs_new() */
    enum pt_cache cache;
    double timeout;           /* entry/attr timeout in seconds; < 0: the cache mode's default */
    bool xattr;               /* serve xattr ops; otherwise they return -ENOSYS */
    bool allow_direct_io;     /* honour O_DIRECT on open; otherwise strip it */
    bool readonly;            /* every mutating op returns -EROFS */
    bool announce_submounts;  /* flag mount points with PT_ATTR_SUBMOUNT */
    bool preserve_noatime;    /* pass O_NOATIME on to the host; otherwise strip it */
    enum pt_inode_handles inode_handles; /* file handles need CAP_DAC_READ_SEARCH */
    int proc_self_fd;         /* > 0: an O_PATH fd of /proc/self/fd to use (duplicated);
                               * 0 or -1: open /proc/self/fd now. A sandbox that hides
                               * /proc opens it before pivoting. */
    /* Optional, not owned; must outlive the fs (see xattrmap.h, idmap.h): */
    const struct pt_xattrmap *xattrmap; /* xattr names: guest <-> host */
    const struct pt_idmap *uid_map;     /* uids: guest <-> host */
    const struct pt_idmap *gid_map;     /* gids: guest <-> host */
};

/* Negotiated at FUSE INIT and handed to pt_init(). */
struct pt_init_caps {
    bool writeback;           /* FUSE_WRITEBACK_CACHE in effect */
    bool posix_acl;           /* FUSE_POSIX_ACL in effect */
    bool killpriv_v2;         /* FUSE_HANDLE_KILLPRIV_V2 in effect */
    bool dont_mask;           /* FUSE_DONT_MASK: umask arrives separately */
};

/* A security context to give a new inode (FUSE_SECURITY_CTX): an xattr. */
struct pt_secctx {
    const char *name;         /* guest xattr name, e.g. "security.selinux" */
    const void *value;
    size_t size;
};

/*
 * Who is asking (from the FUSE header), and what the request adds to a
 * creating or opening call. The pointers live as long as the request.
 */
struct pt_ctx {
    uint32_t uid;             /* guest ids: translated by the uid/gid maps */
    uint32_t gid;
    uint32_t pid;
    bool has_supp_gid;        /* FUSE_EXT_GROUPS: the caller is in supp_gid, */
    uint32_t supp_gid;        /* which a creating call then runs with */
    const struct pt_secctx *secctx; /* contexts for a created inode, or NULL */
    unsigned nr_secctx;
    bool kill_suidgid;        /* FUSE_OPEN_KILL_SUIDGID with O_TRUNC on OPEN/CREATE */
};

#define PT_ATTR_SUBMOUNT (1u << 0) /* the inode is a mount point (announce_submounts) */

struct pt_attr {
    struct stat st;
    uint64_t timeout_ns;      /* how long the guest may cache it */
    uint32_t flags;           /* PT_ATTR_* */
};

struct pt_entry {
    uint64_t nodeid;          /* 0: negative entry (only where documented) */
    uint64_t generation;      /* always 0: the nodeid itself is never reused */
    uint64_t entry_timeout_ns;
    struct pt_attr attr;
};

struct pt_fs;

/*
 * Opens the shared directory and sets up the tables. *out is owned by the
 * caller and released with pt_fs_free(). Fails with -ENOENT/-ENOTDIR/-EACCES
 * when the directory is unusable, -EINVAL without a config or shared_dir,
 * and with cfg.inode_handles mandatory, -EOPNOTSUPP/-EPERM/... when a file
 * handle of the shared directory cannot be made or opened again (its
 * filesystem has none, or no CAP_DAC_READ_SEARCH).
 * Sets the process umask to 0: the guest's umask is the one that applies
 * (there is no per-thread umask).
 */
int pt_fs_new(const struct pt_config *cfg, struct pt_fs **out);
/* Frees everything; no request may be in flight. Accepts NULL. */
void pt_fs_free(struct pt_fs *fs);
/* Whether inodes use file handles: cfg.inode_handles, or PT_HANDLES_NEVER
 * when prefer found the shared directory's filesystem without them. */
enum pt_inode_handles pt_fs_inode_handles(const struct pt_fs *fs);

/* FUSE INIT: records the negotiated capabilities. Call it while no other
 * request is in flight (INIT is the first request of a session). */
void pt_init(struct pt_fs *fs, const struct pt_init_caps *caps);
/* FUSE DESTROY (or a new INIT): drops every inode but the root, closes every
 * handle. A handle still held through pt_file_get() keeps its fd until
 * pt_file_put(). */
void pt_destroy(struct pt_fs *fs);

/* Attribute replies carry guest ids: every `struct pt_attr` (and the one in a
 * `struct pt_entry`) has st_uid/st_gid translated by the uid/gid maps. */

/* Statistics for tests and the live statistics dump. */
struct pt_counts {
    uint64_t inodes;          /* inodes in the table, root included */
    uint64_t handles;         /* open file and directory handles (including
                               * released ones still held by pt_file_get()) */
};
void pt_get_counts(struct pt_fs *fs, struct pt_counts *out);

/* --- inodes and names ------------------------------------------------- */

/* LOOKUP: name may be "." or ".."; -ENOENT when absent. */
int pt_lookup(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent,
              const char *name, struct pt_entry *out);
/*
 * FORGET: drops nlookup references. Returns 0; -EBADF for an unknown or
 * stale id (ignored); -ERANGE when nlookup exceeded the count, which is
 * clamped (the inode is forgotten entirely).
 */
int pt_forget(struct pt_fs *fs, uint64_t nodeid, uint64_t nlookup);

/* GETATTR: fh is used when has_fh (FUSE_GETATTR_FH). */
int pt_getattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
               bool has_fh, uint64_t fh, struct pt_attr *out);

/*
 * SETATTR: `valid` holds FATTR_* bits from <linux/fuse.h>; FATTR_FH selects fh.
 * Applied in the order mode, uid/gid, size, times; an error stops there.
 * uid/gid are guest ids, translated by the maps (-EPERM when forbidden).
 * FATTR_KILL_SUIDGID clears S_ISUID (and S_ISGID with group exec) after a
 * size or owner change; with caps.killpriv_v2 such a change also drops a
 * renamed security.capability (see xattrmap.h). On a symlink, uid/gid and
 * times change the link itself and a mode gives -EOPNOTSUPP. On success *out
 * holds the new attrs.
 */
struct pt_setattr {
    uint32_t valid;
    uint64_t fh;
    uint32_t mode;
    uint32_t uid;
    uint32_t gid;
    uint64_t size;
    struct timespec atime;    /* used with FATTR_ATIME (and not FATTR_ATIME_NOW) */
    struct timespec mtime;    /* used with FATTR_MTIME (and not FATTR_MTIME_NOW) */
    struct timespec ctime;    /* FATTR_CTIME: ignored by the host (cannot be set) */
};
int pt_setattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
               const struct pt_setattr *in, struct pt_attr *out);

/* READLINK: copies at most size bytes (no NUL), returns the length.
 * -EINVAL when the inode is not a symlink. */
int pt_readlink(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                char *buf, size_t size);

/*
 * Creating calls run with the caller's uid/gid as the host fs credentials
 * (translated by the uid/gid maps; a forbidden id gives -EPERM), plus
 * ctx->supp_gid as the only supplementary group when present.
 * With caps.dont_mask, umask is applied to mode here; otherwise it is
 * ignored (the guest kernel already applied it). With caps.posix_acl, a
 * parent with a default ACL makes the umask not apply (the host inherits
 * the ACL instead). ctx->secctx contexts are set on the new inode before
 * it is returned; if that fails, the new name is removed again and the call
 * fails. On success `out` has one lookup; LINK's entry is the existing
 * inode (same nodeid) with one more.
 */
int pt_mknod(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
             uint32_t mode, uint32_t rdev, uint32_t umask, struct pt_entry *out);
int pt_mkdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
             uint32_t mode, uint32_t umask, struct pt_entry *out);
int pt_symlink(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
               const char *target, struct pt_entry *out);
int pt_link(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t newparent,
            const char *newname, struct pt_entry *out);
int pt_unlink(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name);
int pt_rmdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name);
/* RENAME/RENAME2: flags are RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT. */
int pt_rename(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t olddir, const char *oldname,
              uint64_t newdir, const char *newname, uint32_t flags);

/* --- open files --------------------------------------------------------- */

/*
 * OPEN/CREATE: *open_flags gets the FOPEN_* bits (from <linux/fuse.h>) chosen
 * by the cache mode. OPEN serves regular files only (-EISDIR, -ELOOP for a
 * symlink, -ENXIO for special files: the guest serves those itself). O_CREAT,
 * O_EXCL (except for CREATE), O_NOCTTY, O_ASYNC, O_PATH, O_TMPFILE and
 * O_DIRECTORY are dropped from flags; O_DIRECT too unless
 * cfg.allow_direct_io, O_NOATIME unless cfg.preserve_noatime. O_APPEND is
 * always dropped: the guest's page cache writes back at explicit offsets
 * (WRITE with FUSE_WRITE_CACHE), and other writes of an O_APPEND file say so
 * with PT_WRITE_APPEND. With caps.writeback, O_WRONLY becomes O_RDWR (the
 * guest reads to fill partial pages). CREATE's entry has one lookup; if its
 * reply cannot be delivered the caller forgets it and releases fh.
 * ctx->kill_suidgid with O_TRUNC clears the set-id bits of a truncated
 * existing file as an unprivileged truncate would (FUSE_OPEN_KILL_SUIDGID).
 */
int pt_open(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint32_t flags,
            uint64_t *fh, uint32_t *open_flags);
int pt_create(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, const char *name,
              uint32_t mode, uint32_t flags, uint32_t umask, struct pt_entry *entry,
              uint64_t *fh, uint32_t *open_flags);

/* pt_write()/pt_io_begin() flag beside the FUSE_WRITE_* bits: the guest's file
 * is O_APPEND and this is not a write-back of cached pages, so the data goes
 * to the host file's end (RWF_APPEND), whatever the offset says. */
#define PT_WRITE_APPEND (1u << 31)

/* preadv()/pwritev() on the handle straight from/to the given iovecs.
 * write_flags: FUSE_WRITE_* bits and PT_WRITE_APPEND. Return bytes transferred. */
ssize_t pt_read(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t fh, uint64_t offset,
                const struct iovec *iov, unsigned iovcnt);
ssize_t pt_write(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t fh, uint64_t offset,
                 const struct iovec *iov, unsigned iovcnt, uint32_t write_flags);

/*
 * For executors that submit I/O asynchronously: takes a reference on an open
 * file (or directory) handle, NULL if fh is unknown or already released, so
 * its fd stays valid until pt_file_put(), even if RELEASE arrives meanwhile.
 * The handle is owned by the fs; pt_file_fd()'s fd must not be closed.
 * pt_file_put() accepts NULL.
 */
struct pt_file;
struct pt_file *pt_file_get(struct pt_fs *fs, uint64_t fh);
int pt_file_fd(const struct pt_file *file);
/* Was the handle opened with O_DIRECT (its reads always reach the device)? */
bool pt_file_direct(const struct pt_file *file);
void pt_file_put(struct pt_fs *fs, struct pt_file *file);

enum pt_io_kind { PT_IO_READ, PT_IO_WRITE, PT_IO_SYNC, PT_IO_ALLOCATE };
/*
 * The checks and the preparation pt_read/pt_write/pt_fsync/pt_fallocate make
 * (read-only share, offset range, the handle; a WRITE's FUSE_WRITE_KILL_SUIDGID
 * in `flags`), without the I/O itself: on success *out holds the handle with a
 * reference, its fd (pt_file_fd) usable until pt_file_put().
 */
int pt_io_begin(struct pt_fs *fs, enum pt_io_kind kind, uint64_t fh, uint64_t offset,
                uint32_t flags, struct pt_file **out);

/* FLUSH drops lock_owner's record locks on nodeid; RELEASE does too (for a
 * non-zero lock_owner) and unlocks the handle's flock with
 * FUSE_RELEASE_FLOCK_UNLOCK in release_flags. */
int pt_flush(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t lock_owner);
int pt_release(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
               uint32_t flags, uint32_t release_flags, uint64_t lock_owner);
int pt_fsync(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             bool datasync);
int pt_fallocate(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
                 uint32_t mode, uint64_t offset, uint64_t length);
/* LSEEK: SEEK_SET, SEEK_END, SEEK_DATA, SEEK_HOLE on a file handle (SEEK_CUR
 * and directory handles give -EINVAL). */
int pt_lseek(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t offset, uint32_t whence, uint64_t *result);
ssize_t pt_copy_file_range(struct pt_fs *fs, const struct pt_ctx *ctx,
                           uint64_t fh_in, uint64_t off_in, uint64_t fh_out, uint64_t off_out,
                           uint64_t len, uint64_t flags);

/*
 * TMPFILE: an unnamed regular file in directory `parent` (O_TMPFILE), open
 * as CREATE's file is, with the caller's fs credentials. flags as for
 * pt_create (O_EXCL makes it unlinkable, as on the host); mode's type bits
 * are ignored. On success `entry` has one lookup (its nlink is 0 until a
 * LINK names it) and *fh is open; if the reply cannot be delivered the
 * caller forgets the entry and releases fh. -EROFS when readonly,
 * -ENOTDIR, -EOPNOTSUPP when the host file system has no O_TMPFILE.
 */
int pt_tmpfile(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t parent, uint32_t mode,
               uint32_t flags, uint32_t umask, struct pt_entry *entry, uint64_t *fh,
               uint32_t *open_flags);

/* --- locks --------------------------------------------------------------- */

/*
 * Record locks keep POSIX semantics between guest lock owners: every
 * (inode, owner) pair gets an open file description of its own on the host
 * and its locks are open-file-description locks on it, so two owners
 * conflict with each other (and with host processes) while one owner's
 * locks merge and split as a process's do. An owner's locks go when the
 * guest flushes or releases with that owner (pt_flush, pt_release), and
 * with the inode when it is forgotten. flock locks (PT_LOCK_FLOCK) are
 * flock() on the handle's own fd: they belong to the guest's open file.
 */
#define PT_LOCK_EOF INT64_MAX  /* pt_lock.end of a lock that runs to the end of the file */

struct pt_lock {
    uint32_t type;            /* F_RDLCK, F_WRLCK, F_UNLCK */
    uint64_t start;           /* first byte */
    uint64_t end;             /* last byte, inclusive; PT_LOCK_EOF: to the end */
    uint32_t pid;             /* in: the guest pid taking it; GETLK out: the guest pid
                               * holding it, 0 when not known (a host process) */
};

#define PT_LOCK_FLOCK (1u << 0) /* whole-file flock() on fh instead of a record lock */
#define PT_LOCK_WAIT  (1u << 1) /* block until granted */

/*
 * GETLK: the first lock that would conflict with `want` for `owner`, or
 * type F_UNLCK in *out when none would. fh names an open handle of nodeid
 * (-EBADF otherwise). -EINVAL for a bad type or range, -ENOLCK for inodes
 * that are neither regular files nor directories.
 */
int pt_getlk(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t owner, const struct pt_lock *want, struct pt_lock *out);
/*
 * SETLK / SETLKW: sets (or with F_UNLCK removes) lk for `owner`. Without
 * PT_LOCK_WAIT a conflicting lock gives -EAGAIN at once. With it the call
 * blocks the calling thread until the lock is granted; a signal delivered
 * to that thread (with a handler installed without SA_RESTART) ends the
 * wait with -EINTR and nothing changed. -ENOLCK when too many owners hold
 * locks on one inode. Errors otherwise as pt_getlk.
 */
int pt_setlk(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t owner, const struct pt_lock *lk, unsigned flags);

/* --- directories ------------------------------------------------------- */

int pt_opendir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint32_t flags,
               uint64_t *fh, uint32_t *open_flags);
int pt_releasedir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh);
int pt_fsyncdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
                bool datasync);

struct pt_dirent {
    const char *name;
    size_t namelen;
    uint64_t ino;
    uint32_t type;            /* DT_* */
    uint64_t next_off;        /* offset to resume after this entry */
    const struct pt_entry *entry; /* READDIRPLUS only; nodeid 0 for "." and ".." */
};
/* Returns 1 when the entry was stored, 0 when the reply is full (stop).
 * Called with the directory handle's lock held: it must not call
 * pt_readdir() on the same fh. */
typedef int pt_dirent_fn(void *cookie, const struct pt_dirent *d);
/*
 * READDIR / READDIRPLUS from `offset` (0 = start, else a next_off seen
 * before). For plus, each emitted entry with a nodeid gained one lookup; an
 * entry the callback refused did not. Errors after the first entry end the
 * listing early and are not reported. Returns 0 with nothing emitted at the
 * end of the directory. An entry removed between the host listing and its
 * READDIRPLUS lookup is left out.
 */
int pt_readdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
               uint64_t offset, bool plus, pt_dirent_fn *emit, void *cookie);

/* --- everything else --------------------------------------------------- */

int pt_statfs(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, struct statvfs *out);
/* ACCESS: the host kernel checks mask (R_OK|W_OK|X_OK, 0 = exists) with the
 * caller's uid/gid as fs ids (mode bits and ACLs); -EROFS for W_OK when
 * readonly. */
int pt_access(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint32_t mask);
/* SYNCFS: syncs the filesystem holding nodeid (the root's for special files). */
int pt_syncfs(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid);

/* Xattr ops return -ENOSYS unless cfg.xattr. size 0 asks for the needed size;
 * a non-zero size that is too small gives -ERANGE. A symlink's own xattrs are
 * used, never its target's. setxattr_flags: FUSE_SETXATTR_ACL_KILL_SGID.
 * Names are the guest's: with cfg.xattrmap they are mapped to host names
 * (a refused name gives -EPERM, -ENODATA for GETXATTR, or -ENOTSUP) and
 * LISTXATTR shows only the names the map lets through, renamed. */
ssize_t pt_getxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                    const char *name, void *buf, size_t size);
ssize_t pt_listxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid,
                     char *buf, size_t size);
int pt_setxattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, const char *name,
                const void *value, size_t size, uint32_t flags, uint32_t setxattr_flags);
int pt_removexattr(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, const char *name);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private declarations of the passthrough filesystem, shared by its files.
 *
 * Lock order (outer first); every lock is taken for a short, bounded time:
 *
 *   pt_dir.lock            (one directory handle's stream, held across a
 *                           READDIR, including the lookups of READDIRPLUS)
 *     -> pt_fs.inode_lock  (the inode hash; write side also for an inode's
 *                           last unref, so a hash find never sees a dying
 *                           inode)
 *       -> pt_idtable.lock (a table's free list and growth)
 *
 *   pt_lock_table.lock     (one inode's record-lock owners; taken alone,
 *                           never across a blocking lock wait)
 *
 * Nothing is called back into with a table lock held. The hot path
 * (nodeid -> inode, fh -> handle) takes no lock at all: see idtable.c.
 */
#ifndef PASSTHROUGH_INTERNAL_H
#define PASSTHROUGH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "passthrough/passthrough.h"

/* ---- generation-tagged slot tables (idtable.c) ------------------------- */

/*
 * An id is (generation << 32 | index). Index 0 is never handed out, so id 0
 * is always invalid; the first slot allocated from a table is index 1 with
 * generation 0, i.e. id 1 (the root in the inode table).
 *
 * Slots live in chunks that are never moved or freed before the table is,
 * so a slot may be read at any time; whether it holds a live object is told
 * by its state word alone.
 */
#define PT_ID_CHUNK_SHIFT 10u
#define PT_ID_CHUNK_SLOTS (1u << PT_ID_CHUNK_SHIFT)
#define PT_ID_MAX_CHUNKS  16384u /* 16M slots per table */

struct pt_slot {
    /* generation << 32 | refcount; atomic. refcount 0 means free or dying:
     * no new reference can be taken, by id or otherwise. */
    _Atomic uint64_t state;
    uint32_t index;     /* immutable once the chunk exists */
    uint32_t next_free; /* pt_idtable.lock; meaningful only while free */
};

struct pt_idtable {
    size_t elem_size;           /* immutable; elements begin with struct pt_slot */
    _Atomic(char *) *chunks;    /* PT_ID_MAX_CHUNKS entries, each published once
                                 * (release) under lock, read without it */
    pthread_mutex_t lock;       /* free list and growth; innermost lock */
    _Atomic uint32_t nslots;    /* slots created so far (index 0 included);
                                 * written under lock, read without it */
    uint32_t free_head;         /* lock: first free index, 0 for none */
    _Atomic uint64_t live;      /* allocated and not yet freed; atomic */
};

int pt_idtable_init(struct pt_idtable *t, size_t elem_size);
/* Frees the chunks; the caller has torn down every element. */
void pt_idtable_done(struct pt_idtable *t);
/*
 * Takes a free slot. It comes back with refcount 0, unreachable by id until
 * pt_slot_publish(). Returns -ENFILE when the table is full, -ENOMEM.
 * The slot is owned by the table; the caller has it until pt_idtable_free().
 */
int pt_idtable_alloc(struct pt_idtable *t, struct pt_slot **out);
/* Makes an initialised slot reachable by id, holding one reference. */
void pt_slot_publish(struct pt_slot *s);
/* Returns a slot that has dropped its last reference to the free list and
 * bumps its generation so every id that named it goes stale. */
void pt_idtable_free(struct pt_idtable *t, struct pt_slot *s);
/* The slot named by id with one more reference, or NULL (unknown, stale,
 * dying). Lock-free. The slot is owned by the table; drop the reference. */
struct pt_slot *pt_idtable_get(struct pt_idtable *t, uint64_t id);
/* The slot at index whatever its state, or NULL beyond the table: for walks. */
struct pt_slot *pt_idtable_at(struct pt_idtable *t, uint32_t index);
uint32_t pt_idtable_size(struct pt_idtable *t);

uint64_t pt_slot_id(const struct pt_slot *s);
/* Adds a reference if the slot is live (refcount > 0). */
bool pt_slot_tryref(struct pt_slot *s);
/* Adds a reference; the caller already holds one. */
void pt_slot_ref(struct pt_slot *s);
/* Drops a reference unless it is the last one; false (and nothing done)
 * when it is. */
bool pt_slot_unref_unless_last(struct pt_slot *s);
/* Drops a reference; true when it was the last one. */
bool pt_slot_unref(struct pt_slot *s);

/* ---- inodes (inode.c) --------------------------------------------------- */

struct pt_lock_table;
struct file_handle;

struct pt_inode {
    struct pt_slot slot;      /* first: the table's element header */
    /* Set before publish, immutable while the inode is live: */
    struct file_handle *handle; /* non-NULL: referenced by this handle (owned) */
    int mount_fd;             /* with a handle: an fd on its mount (fs->mounts owns it) */
    /* O_PATH | O_NOFOLLOW. Without a handle: set before publish, immutable
     * while live. With one: open only while in use, i.e. while someone holds
     * a reference from pt_inode_get(); read it only then. */
    int fd;
    pthread_mutex_t fd_lock;  /* with a handle: guards fd's opening and closing */
    uint32_t fd_users;        /* fd_lock: references from pt_inode_get() */
    mode_t type;              /* S_IFMT bits */
    dev_t dev;
    ino_t ino;
    uint64_t mnt_id;
    bool submount;            /* mount id differs from the parent's at first lookup */
    _Atomic uint64_t nlookup; /* the guest's references; atomic */
    uint32_t hash_next;       /* pt_fs.inode_lock: next index in the bucket, 0 ends */
    /* Record-lock owners (lock.c), created at the first lock; published
     * once (release), freed with the inode. */
    _Atomic(struct pt_lock_table *) locks;
};

/* ---- open files and directories (handle.c, dir.c) ---------------------- */

struct pt_dir {
    pthread_mutex_t lock;     /* serialises READDIR on this handle */
    char *buf;                /* lock: getdents64 buffer, PT_DIR_BUF_SIZE */
    size_t len;               /* lock: valid bytes in buf */
    size_t pos;               /* lock: next entry in buf */
    uint64_t offset;          /* lock: d_off cookie of the entry at pos */
};

struct pt_file {
    struct pt_slot slot;      /* first: the table's element header; the table
                               * holds one reference from open to RELEASE */
    int fd;                   /* set before publish, closed at the last unref */
    bool direct;              /* fd is O_DIRECT; set before publish */
    _Atomic bool open;        /* cleared by RELEASE (exactly once); atomic */
    struct pt_dir *dir;       /* directory state, NULL for files; immutable while live */
};

/* ---- the filesystem ----------------------------------------------------- */

/* The mounts inodes with handles live on: one fd each for open_by_handle_at(). */
struct pt_mount {
    uint64_t mnt_id;
    int fd;                   /* O_PATH, owned; -1: handles do not work there */
};

struct pt_fs {
    /* Immutable after pt_fs_new(): */
    enum pt_cache cache;
    enum pt_inode_handles inode_handles;
    bool xattr;
    bool allow_direct_io;
    bool readonly;
    bool announce_submounts;
    bool preserve_noatime;
    uint64_t timeout_ns;
    int proc_fd;              /* /proc/self/fd, O_PATH */
    pthread_mutex_t cwd_lock; /* held while the process cwd is moved to proc_fd */
    bool switch_creds;        /* we may change fs credentials (root) */
    struct pt_inode *root;    /* permanent reference held by the fs */
    const struct pt_xattrmap *xattrmap; /* not owned; NULL: names pass unchanged */
    const struct pt_idmap *uid_map;     /* not owned; NULL: identity */
    const struct pt_idmap *gid_map;     /* not owned; NULL: identity */

    /* Written by pt_init() while no request is in flight. */
    struct pt_init_caps caps;

    /* Inode hash keyed by (dev, ino, mnt_id): chains of table indices. */
    pthread_rwlock_t inode_lock;
    uint32_t *buckets;        /* inode_lock */
    uint32_t nbuckets;        /* inode_lock; a power of two */
    uint32_t nhashed;         /* inode_lock */

    struct pt_idtable inodes;
    struct pt_idtable files;

    /* With inode_handles: the mounts seen so far. Entries are only added, and
     * their fds stay open until pt_fs_free(). */
    pthread_mutex_t mounts_lock;
    struct pt_mount *mounts;  /* mounts_lock */
    size_t nmounts;           /* mounts_lock */
};

int pt_inodes_init(struct pt_fs *fs);
void pt_inodes_done(struct pt_fs *fs);
/* The inode named by nodeid with a reference, or NULL (unknown, stale, or
 * its file handle could not be opened). Its fd is usable until the
 * reference is dropped with pt_inode_unref(). Lock-free for inodes without
 * a handle. The inode belongs to the table. */
struct pt_inode *pt_inode_get(struct pt_fs *fs, uint64_t nodeid);
/* Another reference like pt_inode_get()'s; the caller holds one already. */
void pt_inode_ref(struct pt_inode *inode);
/* Drops a reference from pt_inode_get() or pt_inode_ref(); the last one
 * removes the inode and closes its fd. Accepts NULL. */
void pt_inode_unref(struct pt_fs *fs, struct pt_inode *inode);
/*
 * Finds the inode for (stx dev, ino, mnt id) or adds one from `fd` (an
 * O_PATH fd of it). Consumes fd either way: a new inode keeps it, or with
 * file handles in use makes a handle from it and closes it. *out belongs to
 * the table and comes with a reference that does not include the fd (not a
 * lookup either) for the caller to drop with pt_inode_put().
 */
int pt_inode_find_or_add(struct pt_fs *fs, int fd, const struct statx *stx,
                         bool submount, struct pt_inode **out);
/*
 * The inode for (stx dev, ino, mnt id) if the table holds it pinned (by its
 * O_PATH fd, not by a handle: its number cannot belong to another inode),
 * with a reference as pt_inode_find_or_add() gives; NULL otherwise.
 */
struct pt_inode *pt_inode_find_pinned(struct pt_fs *fs, const struct statx *stx);
/* Drops a reference from pt_inode_find_or_add(). Accepts NULL. */
void pt_inode_put(struct pt_fs *fs, struct pt_inode *inode);
/*
 * With file handles: checks that the shared directory's mount serves them
 * (root_fd is on it: a handle of it opens again) and records the mount.
 * Returns 0, or -errno when handles cannot be used there.
 */
int pt_mounts_init(struct pt_fs *fs, int root_fd);
void pt_mounts_done(struct pt_fs *fs);
uint64_t pt_inode_id(const struct pt_inode *inode);
/* The guest gained one reference (a successful entry reply). */
void pt_inode_add_lookup(struct pt_inode *inode);
/* The guest dropped n references (clamped). */
/* Drops n lookups; -ERANGE when there were fewer (clamped at zero), else 0. */
int pt_inode_forget(struct pt_fs *fs, struct pt_inode *inode, uint64_t n);
/* Forgets every lookup of every inode but the root. */
void pt_inodes_forget_all(struct pt_fs *fs);

/* ---- handles (handle.c) ------------------------------------------------- */

int pt_files_init(struct pt_fs *fs);
void pt_files_done(struct pt_fs *fs);
/* Adds a handle owning fd (and dir, when not NULL). Consumes both on
 * failure too. *fh is its id. */
int pt_file_add(struct pt_fs *fs, int fd, struct pt_dir *dir, uint64_t *fh);
/* Closes a handle's table reference; -EBADF when fh is not open. */
int pt_file_close(struct pt_fs *fs, uint64_t fh);
/* Closes every open handle. */
void pt_files_close_all(struct pt_fs *fs);
void pt_dir_free(struct pt_dir *dir);

/* ---- credentials (creds.c) ---------------------------------------------- */

struct pt_creds {
    bool switched;            /* fs ids were changed and must be restored */
    bool groups_set;          /* the thread's supplementary groups were set */
};

/*
 * Makes this thread's fs uid/gid the caller's for a creating call, with
 * ctx->supp_gid as its only supplementary group when given. Ids are
 * translated by the fs's maps first. Only the calling thread is affected.
 * -EPERM when an id is forbidden or the switch did not take.
 */
/*
 * Switches the calling thread's fs uid/gid to the caller's. `creating`: the
 * guest already checked the caller's permission (creating calls), so
 * CAP_DAC_OVERRIDE stays effective; otherwise (ACCESS) the host decides.
 */
int pt_creds_enter(const struct pt_fs *fs, const struct pt_ctx *ctx, bool creating,
                   struct pt_creds *saved);
void pt_creds_leave(struct pt_creds *saved);
/* Guest uid/gid -> host (the maps); -EPERM when forbidden. */
int pt_uid_to_host(const struct pt_fs *fs, uint32_t guest, uint32_t *host);
int pt_gid_to_host(const struct pt_fs *fs, uint32_t guest, uint32_t *host);
/*
 * Empties the process's supplementary group list (all threads: call it
 * before any thread is started). A privileged daemon's memberships must
 * never count for a guest's creating call. -EPERM when it cannot.
 */
int pt_creds_drop_groups(void);

/* ---- helpers (fs.c) ----------------------------------------------------- */

/* "N" for an fd, for openat(proc_fd, ...): buf holds at least 16 bytes. */
#define PT_FD_NAME_MAX 16
void pt_fd_name(int fd, char buf[PT_FD_NAME_MAX]);
/* Opens the inode for I/O through /proc/self/fd (never a path of the share). */
int pt_inode_reopen(const struct pt_fs *fs, const struct pt_inode *inode, int flags);
/* statx on the inode's fd, without following it. */
int pt_inode_statx(const struct pt_inode *inode, struct statx *stx);
void pt_statx_to_stat(const struct statx *stx, struct stat *st);
void pt_fill_attr(const struct pt_fs *fs, const struct pt_inode *inode,
                  const struct stat *st, struct pt_attr *out);
/* Valid FUSE name: not empty, no '/'. Not "." or ".." unless allow_dots. */
bool pt_name_ok(const char *name, bool allow_dots);

/* ---- attributes (attr.c) ---------------------------------------------- */

/* mode & 07777 without the set-id bits an unprivileged write would clear. */
mode_t pt_mode_without_suidgid(mode_t mode);

/* ---- xattrs (xattr.c) --------------------------------------------------- */

/* Sets the host xattr `host_name` on the object behind the O_PATH fd
 * `path_fd` of file type `type` (S_IFMT bits), with the daemon's own
 * credentials; a symlink's own attribute, never its target's. */
int pt_xattr_set_fd(struct pt_fs *fs, int path_fd, mode_t type, const char *host_name,
                    const void *value, size_t size);

/* ---- security attributes of inodes (security.c) ------------------------ */

/*
 * The mode a creating call passes to the host: the guest's umask applies
 * when it arrives apart from the mode (caps.dont_mask), except that with
 * caps.posix_acl a parent with a default ACL hands its ACL down instead.
 */
mode_t pt_create_mode(const struct pt_fs *fs, const struct pt_inode *dir, uint32_t mode,
                      uint32_t umask);
/*
 * Gives the entry `name` just created in dir (through open_fd when it is
 * >= 0, else found by name) the security contexts of ctx. On failure the
 * entry is removed again and the error returned.
 */
int pt_secctx_apply(struct pt_fs *fs, const struct pt_ctx *ctx, const struct pt_inode *dir,
                    const char *name, int open_fd);
/* The host names of ctx's contexts are valid (mapped); checked before creating. */
int pt_secctx_check(const struct pt_fs *fs, const struct pt_ctx *ctx);
/*
 * The privileges an unprivileged write or truncate drops, on an open fd:
 * S_ISUID, and S_ISGID with group exec, when kill_suidgid; a renamed
 * security.capability when caps.killpriv_v2 (the host kernel drops the
 * real one itself).
 */
int pt_kill_privs_fd(const struct pt_fs *fs, int fd, bool kill_suidgid);
/* ---- record locks (lock.c) -------------------------------------------- */

/* The inode is going away (its last reference): closes every lock owner's
 * fd, which drops their locks. Accepts an inode without a table. */
void pt_locks_free(struct pt_inode *inode);
/* Drops every lock of every owner that no call is using (DESTROY for inodes
 * that outlive it, such as the root). */
void pt_locks_drop_all(struct pt_inode *inode);
/* FLUSH / RELEASE: the guest closed a file of this lock owner; its record
 * locks on nodeid go. */
void pt_locks_drop_owner(struct pt_fs *fs, uint64_t nodeid, uint64_t owner);

/* ---- lookups (entry.c) -------------------------------------------------- */

/* LOOKUP of name in dir; fills out and adds one guest lookup on success. */
int pt_lookup_in(struct pt_fs *fs, struct pt_inode *dir, const char *name,
                 struct pt_entry *out);
/* The entry of the file `fd` (any open file, not consumed) was opened as,
 * by name in dir; fills out and adds one guest lookup. Unlike a LOOKUP of
 * the name, it cannot give another inode renamed there meanwhile. */
int pt_lookup_open_file(struct pt_fs *fs, struct pt_inode *dir, int fd, struct pt_entry *out);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Record locks (GETLK, SETLK, SETLKW) and flock.
 *
 * The guest names a lock owner (its kernel's files_struct for POSIX locks)
 * with every request. Classic fcntl locks would all belong to this one
 * daemon process, so two guest processes could never conflict; instead
 * every (inode, owner) pair gets an open file description of its own and
 * its locks are open-file-description (OFD) locks on it. An OFD's locks
 * conflict with every other OFD's and merge with its own, which is exactly
 * how a process's POSIX locks behave. The owner's description is dropped
 * when the guest says the owner closed the file (FLUSH, RELEASE) and when
 * the inode is forgotten.
 *
 * For GETLK the host reports a conflicting OFD lock without saying whose it
 * is; each owner keeps a bounded record of the ranges it was granted and the
 * guest pid that asked, so the answer can name the guest process that holds
 * the lock. The record is only ever used for that pid: the host's answer is
 * the authority on whether a lock conflicts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"

/* Owners with a description on one inode: more is a guest gone wild. */
#define LOCK_OWNERS_MAX 1024u
/* Ranges recorded per owner for GETLK's pid; beyond, the pid reads as 0. */
#define LOCK_RANGES_MAX 256u

struct lock_range {
    uint64_t start, end;      /* inclusive */
    uint32_t type;
};

struct lock_owner {
    uint64_t id;              /* the guest's lock owner; immutable */
    int fd;                   /* the owner's open file description; immutable */
    uint32_t pid;             /* table lock: guest pid of its last granted lock */
    unsigned refs;            /* table lock: one for the table, one per call using it */
    struct lock_range *ranges; /* table lock */
    unsigned nranges;         /* table lock */
    bool overflow;            /* table lock: ranges is incomplete */
    struct lock_owner *next;  /* table lock */
};

struct pt_lock_table {
    pthread_mutex_t lock;     /* innermost: taken alone, never across a wait */
    struct lock_owner *owners;
    unsigned nowners;
};

static void owner_free(struct lock_owner *o)
{
    if (o->fd >= 0)
        close(o->fd);
    free(o->ranges);
    free(o);
}

/* table lock held; the caller's reference goes. */
static void owner_put_locked(struct lock_owner *o)
{
    if (--o->refs == 0)
        owner_free(o);
}

static void owner_put(struct pt_lock_table *t, struct lock_owner *o)
{
    if (!o)
        return;
    pthread_mutex_lock(&t->lock);
    owner_put_locked(o);
    pthread_mutex_unlock(&t->lock);
}

/* The inode's table, created when `create`; NULL without one (or memory).
 * It belongs to the inode and lives as long as the caller's reference. */
static struct pt_lock_table *table_of(struct pt_inode *inode, bool create)
{
    /* Acquire pairs with the release that published it: its mutex is set up. */
    struct pt_lock_table *t = atomic_load_explicit(&inode->locks, memory_order_acquire);
    if (t || !create)
        return t;
    t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    struct pt_lock_table *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&inode->locks, &none, t, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        /* Another call published one first. */
        pthread_mutex_destroy(&t->lock);
        free(t);
        return none;
    }
    return t;
}

/* Unlinks o from the table (table lock held) and drops the table's reference. */
static void owner_unlist_locked(struct pt_lock_table *t, struct lock_owner *o)
{
    for (struct lock_owner **p = &t->owners; *p; p = &(*p)->next) {
        if (*p == o) {
            *p = o->next;
            t->nowners--;
            owner_put_locked(o);
            return;
        }
    }
}

/* Drops all of o's locks (table lock held); the description stays. */
static void owner_unlock_all_locked(struct lock_owner *o)
{
    struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    /* Cannot fail for a valid OFD; nothing to report to anyone if it did. */
    (void)fcntl(o->fd, F_OFD_SETLK, &fl);
    o->nranges = 0;
    o->overflow = false;
}

/*
 * Drops o's locks and, unless a call still uses it (a waiting SETLKW that
 * may yet be granted must find the same description), its entry.
 */
static void owner_drop_locked(struct pt_lock_table *t, struct lock_owner *o)
{
    owner_unlock_all_locked(o);
    if (o->refs == 1)
        owner_unlist_locked(t, o);
}

void pt_locks_free(struct pt_inode *inode)
{
    struct pt_lock_table *t = atomic_exchange_explicit(&inode->locks, NULL, memory_order_acquire);
    if (!t)
        return;
    /* Last reference to the inode: no call is using an owner any more. */
    while (t->owners) {
        struct lock_owner *o = t->owners;
        t->owners = o->next;
        owner_free(o);
    }
    pthread_mutex_destroy(&t->lock);
    free(t);
}

void pt_locks_drop_all(struct pt_inode *inode)
{
    struct pt_lock_table *t = table_of(inode, false);
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    for (struct lock_owner *o = t->owners, *next; o; o = next) {
        next = o->next;
        owner_drop_locked(t, o);
    }
    pthread_mutex_unlock(&t->lock);
}

/* Opens a new description of the inode for an owner's locks. */
static int owner_open(const struct pt_fs *fs, const struct pt_inode *inode, int handle_fd)
{
    if (S_ISDIR(inode->type))
        return pt_inode_reopen(fs, inode, O_RDONLY | O_DIRECTORY);
    /* Read and write locks both need a description open for them; the
     * guest's handle may be either, and one owner may lock through both. */
    int fd = pt_inode_reopen(fs, inode, O_RDWR);
    if (fd >= 0 || handle_fd < 0)
        return fd;
    /* Read-only file system, busy executable, ...: the handle's own mode
     * serves the locks the guest can take through it. */
    int fl = fcntl(handle_fd, F_GETFL);
    if (fl < 0)
        return fd;
    return pt_inode_reopen(fs, inode, fl & O_ACCMODE);
}

/*
 * The owner `id` of the inode with a reference for the caller (drop it with
 * owner_put()), created when absent if `create` (else NULL with 0). The
 * owner belongs to the table. Returns 0 or -errno.
 */
static int owner_get(const struct pt_fs *fs, struct pt_inode *inode, struct pt_lock_table *t,
                     uint64_t id, bool create, int handle_fd, struct lock_owner **out)
{
    int r = 0;
    *out = NULL;
    pthread_mutex_lock(&t->lock);
    for (struct lock_owner *o = t->owners; o; o = o->next) {
        if (o->id == id) {
            o->refs++;
            *out = o;
            goto out_unlock;
        }
    }
    if (!create)
        goto out_unlock;
    if (t->nowners >= LOCK_OWNERS_MAX) {
        r = -ENOLCK;
        goto out_unlock;
    }
    struct lock_owner *o = calloc(1, sizeof(*o));
    if (!o) {
        r = -ENOMEM;
        goto out_unlock;
    }
    /* Opening a regular file or a directory does not block; it is done
     * under the lock so that two first locks of one owner share it. */
    o->fd = owner_open(fs, inode, handle_fd);
    if (o->fd < 0) {
        r = o->fd;
        free(o);
        goto out_unlock;
    }
    o->id = id;
    o->refs = 2;
    o->next = t->owners;
    t->owners = o;
    t->nowners++;
    *out = o;
out_unlock:
    pthread_mutex_unlock(&t->lock);
    return r;
}

/* Records that o now holds [start, end] as `type` (F_UNLCK: holds nothing there). */
static void owner_record_locked(struct lock_owner *o, uint32_t type, uint64_t start,
                                uint64_t end)
{
    struct lock_range keep[LOCK_RANGES_MAX + 2];
    unsigned n = 0;
    bool overflow = o->overflow;

    for (unsigned i = 0; i < o->nranges; i++) {
        struct lock_range r = o->ranges[i];
        if (r.end < start || r.start > end) {
            keep[n++] = r;
        } else {
            /* The parts of r outside [start, end] survive. */
            if (r.start < start)
                keep[n++] = (struct lock_range){ r.start, start - 1, r.type };
            if (r.end > end)
                keep[n++] = (struct lock_range){ end + 1, r.end, r.type };
        }
        if (n > LOCK_RANGES_MAX) {
            n = LOCK_RANGES_MAX;
            overflow = true;
        }
    }
    if (type != F_UNLCK) {
        if (n < LOCK_RANGES_MAX)
            keep[n++] = (struct lock_range){ start, end, type };
        else
            overflow = true;
    }
    if (n > 0 && !o->ranges) {
        o->ranges = calloc(LOCK_RANGES_MAX, sizeof(*o->ranges));
        if (!o->ranges) {
            o->nranges = 0;
            o->overflow = true;
            return;
        }
    }
    if (n)
        memcpy(o->ranges, keep, n * sizeof(*keep));
    o->nranges = n;
    o->overflow = overflow;
}

/* The guest pid of an owner other than `self` recorded holding `type` over
 * part of [start, end]; 0 when none is. Table lock held. */
static uint32_t holder_pid_locked(struct pt_lock_table *t, const struct lock_owner *self,
                                  uint32_t type, uint64_t start, uint64_t end)
{
    for (const struct lock_owner *o = t->owners; o; o = o->next) {
        if (o == self)
            continue;
        for (unsigned i = 0; i < o->nranges; i++) {
            const struct lock_range *r = &o->ranges[i];
            if (r->type == type && r->start <= end && r->end >= start)
                return o->pid;
        }
    }
    return 0;
}

static bool lock_ok(const struct pt_lock *lk)
{
    if (lk->type != F_RDLCK && lk->type != F_WRLCK && lk->type != F_UNLCK)
        return false;
    return lk->start <= lk->end && lk->end <= PT_LOCK_EOF;
}

static void lock_to_flock(const struct pt_lock *lk, short type, struct flock *fl)
{
    memset(fl, 0, sizeof(*fl)); /* l_pid must be 0 for OFD locks */
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = (off_t)lk->start;
    fl->l_len = lk->end == PT_LOCK_EOF ? 0 : (off_t)(lk->end - lk->start + 1);
}

/* A conflict is EAGAIN or EACCES depending on the caller; the guest gets one. */
static int lock_errno(void)
{
    return (errno == EACCES || errno == EWOULDBLOCK) ? -EAGAIN : neg_errno();
}

/* What every lock call needs: the inode (a regular file or directory) and
 * the guest's handle, each with a reference. */
struct lock_target {
    struct pt_inode *inode;
    struct pt_file *file;
};

static int target_get(struct pt_fs *fs, uint64_t nodeid, uint64_t fh, struct lock_target *t)
{
    t->inode = pt_inode_get(fs, nodeid);
    if (!t->inode)
        return -EBADF;
    t->file = pt_file_get(fs, fh);
    if (!t->file) {
        pt_inode_unref(fs, t->inode);
        return -EBADF;
    }
    if (!S_ISREG(t->inode->type) && !S_ISDIR(t->inode->type)) {
        pt_file_put(fs, t->file);
        pt_inode_unref(fs, t->inode);
        return -ENOLCK;
    }
    return 0;
}

static void target_put(struct pt_fs *fs, struct lock_target *t)
{
    pt_file_put(fs, t->file);
    pt_inode_unref(fs, t->inode);
}

int pt_getlk(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t owner, const struct pt_lock *want, struct pt_lock *out)
{
    struct lock_target tg;
    struct lock_owner *o = NULL;
    _cleanup_close_ int probe = -1;
    if (!lock_ok(want) || want->type == F_UNLCK)
        return -EINVAL;
    int r = target_get(fs, nodeid, fh, &tg);
    if (r < 0)
        return r;
    struct pt_lock_table *t = table_of(tg.inode, true);
    if (!t) {
        r = -ENOMEM;
        goto out_put;
    }
    r = owner_get(fs, tg.inode, t, owner, false, tg.file->fd, &o);
    if (r < 0)
        goto out_put;
    /* An owner without locks asks from a description of its own, which
     * sees every other lock as a conflict, as the owner's would. */
    if (!o) {
        probe = owner_open(fs, tg.inode, tg.file->fd);
        if (probe < 0) {
            r = probe;
            goto out_put;
        }
    }
    struct flock fl;
    lock_to_flock(want, (short)want->type, &fl);
    if (fcntl(o ? o->fd : probe, F_OFD_GETLK, &fl) < 0) {
        r = neg_errno();
        goto out_put;
    }
    memset(out, 0, sizeof(*out));
    out->type = (uint32_t)fl.l_type;
    if (fl.l_type == F_UNLCK)
        goto out_put;
    out->start = (uint64_t)fl.l_start;
    out->end = fl.l_len == 0 ? PT_LOCK_EOF : (uint64_t)(fl.l_start + fl.l_len - 1);
    /* l_pid is -1 for an OFD lock, a host pid for a host process's classic
     * lock: neither means anything in the guest. */
    pthread_mutex_lock(&t->lock);
    out->pid = holder_pid_locked(t, o, out->type, out->start, out->end);
    pthread_mutex_unlock(&t->lock);
out_put:
    owner_put(t, o);
    target_put(fs, &tg);
    return r;
}

static int do_flock(int fd, uint32_t type, bool wait)
{
    int op = type == F_RDLCK ? LOCK_SH : type == F_WRLCK ? LOCK_EX : LOCK_UN;
    if (!wait && op != LOCK_UN)
        op |= LOCK_NB;
    return flock(fd, op) < 0 ? lock_errno() : 0;
}

int pt_setlk(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
             uint64_t owner, const struct pt_lock *lk, unsigned flags)
{
    struct lock_target tg;
    struct lock_owner *o = NULL;
    bool wait = flags & PT_LOCK_WAIT;
    if (!lock_ok(lk))
        return -EINVAL;
    int r = target_get(fs, nodeid, fh, &tg);
    if (r < 0)
        return r;
    if (flags & PT_LOCK_FLOCK) {
        /* The guest's open file is the owner: its handle's fd carries it. */
        r = do_flock(tg.file->fd, lk->type, wait);
        target_put(fs, &tg);
        return r;
    }

    struct pt_lock_table *t = table_of(tg.inode, true);
    if (!t) {
        r = -ENOMEM;
        goto out_put;
    }
    r = owner_get(fs, tg.inode, t, owner, lk->type != F_UNLCK, tg.file->fd, &o);
    if (r < 0 || !o)
        goto out_put; /* unlocking what an unknown owner holds: nothing */

    struct flock fl;
    lock_to_flock(lk, (short)lk->type, &fl);
    if (!wait || lk->type == F_UNLCK) {
        /* Under the table lock, so the record follows the host's order. */
        pthread_mutex_lock(&t->lock);
        if (fcntl(o->fd, F_OFD_SETLK, &fl) < 0) {
            r = lock_errno();
        } else {
            owner_record_locked(o, lk->type, lk->start, lk->end);
            if (lk->type != F_UNLCK)
                o->pid = lk->pid;
        }
        pthread_mutex_unlock(&t->lock);
        goto out_put;
    }
    /* Blocks for as long as the holder keeps its lock; only a signal to
     * this thread ends the wait early. */
    if (fcntl(o->fd, F_OFD_SETLKW, &fl) < 0) {
        r = neg_errno();
        goto out_put;
    }
    pthread_mutex_lock(&t->lock);
    owner_record_locked(o, lk->type, lk->start, lk->end);
    o->pid = lk->pid;
    pthread_mutex_unlock(&t->lock);
out_put:
    owner_put(t, o);
    target_put(fs, &tg);
    return r;
}

void pt_locks_drop_owner(struct pt_fs *fs, uint64_t nodeid, uint64_t owner)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return;
    struct pt_lock_table *t = table_of(inode, false);
    if (t) {
        pthread_mutex_lock(&t->lock);
        for (struct lock_owner *o = t->owners; o; o = o->next) {
            if (o->id == owner) {
                owner_drop_locked(t, o);
                break;
            }
        }
        pthread_mutex_unlock(&t->lock);
    }
    pt_inode_unref(fs, inode);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inode table: one entry per host inode the guest knows, keyed by
 * (st_dev, st_ino, mount id), so hard links share an entry and the same
 * inode seen through two mounts does not.
 *
 * An entry holds an O_PATH fd that pins the host inode (its number cannot be
 * reused while we hold it). Two counters govern its life:
 *   nlookup  - the guest's references, moved by entry replies and FORGET;
 *   refcount - in the slot state: one for nlookup > 0, one per operation
 *              using the inode, one permanent for the root.
 * Only the last refcount drop frees the entry; it happens under the write
 * side of inode_lock together with the removal from the hash, so a reader
 * of the hash (read side) never finds an entry it cannot take a reference on.
 *
 * With file handles (cfg.inode_handles) an entry holds a handle instead,
 * and an fd only while requests use it: pt_inode_get() opens one with
 * open_by_handle_at() for the first user, the last pt_inode_unref() closes
 * it. References that need no fd (the guest's lookups, the one
 * pt_inode_find_or_add() returns) never open one, so an idle inode costs no
 * fd. Inodes of a mount where handles do not work keep an fd (prefer mode).
 * Such an entry does not pin its host inode: once the host removes it, its
 * number may be given to a new inode, and only the handle (which carries
 * the inode's generation) tells the two apart; a lookup that finds the key
 * with another handle takes the stale entry out of the hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "passthrough/internal.h"

#define HASH_MIN_BUCKETS 1024u
#define HASH_MAX_BUCKETS (PT_ID_MAX_CHUNKS * PT_ID_CHUNK_SLOTS)

static struct pt_inode *inode_at(struct pt_fs *fs, uint32_t index)
{
    return (struct pt_inode *)pt_idtable_at(&fs->inodes, index);
}

static uint32_t key_hash(dev_t dev, ino_t ino, uint64_t mnt_id)
{
    uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)dev + (mnt_id << 20)) * 0xc2b2ae3d27d4eb4full;
    h ^= h >> 29;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 32;
    return (uint32_t)h;
}

int pt_inodes_init(struct pt_fs *fs)
{
    int r = pt_idtable_init(&fs->inodes, sizeof(struct pt_inode));
    if (r < 0)
        return r;
    fs->buckets = calloc(HASH_MIN_BUCKETS, sizeof(*fs->buckets));
    if (!fs->buckets) {
        pt_idtable_done(&fs->inodes);
        return -ENOMEM;
    }
    fs->nbuckets = HASH_MIN_BUCKETS;
    fs->nhashed = 0;
    pthread_rwlock_init(&fs->inode_lock, NULL);
    return 0;
}

void pt_inodes_done(struct pt_fs *fs)
{
    /* No request is in flight: close whatever is left (the root, and
     * anything a caller leaked a reference to). */
    uint32_t n = pt_idtable_size(&fs->inodes);
    for (uint32_t i = 1; i < n; i++) {
        struct pt_inode *inode = inode_at(fs, i);
        uint64_t st = atomic_load_explicit(&inode->slot.state, memory_order_relaxed);
        if ((uint32_t)st != 0) {
            pt_locks_free(inode);
            if (inode->fd >= 0)
                close(inode->fd);
            inode->fd = -1;
            free(inode->handle);
            inode->handle = NULL;
            pthread_mutex_destroy(&inode->fd_lock);
        }
    }
    pt_idtable_done(&fs->inodes);
    free(fs->buckets);
    fs->buckets = NULL;
    pthread_rwlock_destroy(&fs->inode_lock);
}

/* inode_lock held (either side). */
static struct pt_inode *hash_find(struct pt_fs *fs, dev_t dev, ino_t ino, uint64_t mnt_id)
{
    uint32_t b = key_hash(dev, ino, mnt_id) & (fs->nbuckets - 1);
    for (uint32_t i = fs->buckets[b]; i; ) {
        struct pt_inode *inode = inode_at(fs, i);
        if (inode->ino == ino && inode->dev == dev && inode->mnt_id == mnt_id)
            return inode;
        i = inode->hash_next;
    }
    return NULL;
}

/* inode_lock write side. Doubling fails softly: chains just get longer. */
static void hash_grow(struct pt_fs *fs)
{
    if (fs->nbuckets >= HASH_MAX_BUCKETS)
        return;
    uint32_t nb = fs->nbuckets * 2;
    uint32_t *nbk = calloc(nb, sizeof(*nbk));
    if (!nbk)
        return;
    for (uint32_t b = 0; b < fs->nbuckets; b++) {
        for (uint32_t i = fs->buckets[b]; i; ) {
            struct pt_inode *inode = inode_at(fs, i);
            uint32_t next = inode->hash_next;
            uint32_t nbkt = key_hash(inode->dev, inode->ino, inode->mnt_id) & (nb - 1);
            inode->hash_next = nbk[nbkt];
            nbk[nbkt] = i;
            i = next;
        }
    }
    free(fs->buckets);
    fs->buckets = nbk;
    fs->nbuckets = nb;
}

/* inode_lock write side. */
static void hash_insert(struct pt_fs *fs, struct pt_inode *inode)
{
    if (fs->nhashed >= fs->nbuckets)
        hash_grow(fs);
    uint32_t b = key_hash(inode->dev, inode->ino, inode->mnt_id) & (fs->nbuckets - 1);
    inode->hash_next = fs->buckets[b];
    fs->buckets[b] = inode->slot.index;
    fs->nhashed++;
}

/* inode_lock write side. */
static void hash_remove(struct pt_fs *fs, struct pt_inode *inode)
{
    uint32_t b = key_hash(inode->dev, inode->ino, inode->mnt_id) & (fs->nbuckets - 1);
    for (uint32_t *link = &fs->buckets[b]; *link; link = &inode_at(fs, *link)->hash_next) {
        if (*link == inode->slot.index) {
            *link = inode->hash_next;
            inode->hash_next = 0;
            fs->nhashed--;
            return;
        }
    }
}

/* ---- file handles ------------------------------------------------------ */

/* Errors that say nothing about whether handles work, only that this
 * attempt could not be made now. */
static bool transient_error(int r)
{
    return r == -EMFILE || r == -ENFILE || r == -ENOMEM || r == -EINTR;
}

/* mounts_lock held. */
static struct pt_mount *mount_find(struct pt_fs *fs, uint64_t mnt_id)
{
    for (size_t i = 0; i < fs->nmounts; i++)
        if (fs->mounts[i].mnt_id == mnt_id)
            return &fs->mounts[i];
    return NULL;
}

/*
 * The fd to open handles on mount mnt_id with. At the mount's first sight,
 * `fd` (an O_PATH fd on it, normally its root: lookups enter a mount through
 * its mount point) is opened again for reading, as open_by_handle_at()
 * refuses O_PATH fds, and kept once `fh` (fd's handle) opens through it.
 * Only a directory is opened that way (opening anything else may have side
 * effects): a mount first seen through something else serves no handles.
 * Returns the fd (owned by fs), -EOPNOTSUPP when handles do not work on
 * that mount, or a transient -errno (nothing recorded).
 */
static int mount_fd_for(struct pt_fs *fs, uint64_t mnt_id, int fd, struct file_handle *fh)
{
    int r;
    pthread_mutex_lock(&fs->mounts_lock);
    struct pt_mount *m = mount_find(fs, mnt_id);
    if (m) {
        r = m->fd >= 0 ? m->fd : -EOPNOTSUPP;
        goto out_unlock;
    }
    struct pt_mount *grown = realloc(fs->mounts, (fs->nmounts + 1) * sizeof(*grown));
    if (!grown) {
        r = -ENOMEM;
        goto out_unlock;
    }
    fs->mounts = grown;
    char name[PT_FD_NAME_MAX];
    pt_fd_name(fd, name);
    int mfd = openat(fs->proc_fd, name, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
    if (mfd < 0) {
        r = neg_errno();
        if (transient_error(r))
            goto out_unlock;
        fs->mounts[fs->nmounts++] = (struct pt_mount){ .mnt_id = mnt_id, .fd = -1 };
        r = -EOPNOTSUPP;
        goto out_unlock;
    }
    int probe = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
    if (probe < 0) {
        r = neg_errno();
        close(mfd);
        if (transient_error(r))
            goto out_unlock;
        mfd = -1; /* EPERM without CAP_DAC_READ_SEARCH, EOPNOTSUPP, ESTALE, ... */
    } else {
        close(probe);
    }
    fs->mounts[fs->nmounts++] = (struct pt_mount){ .mnt_id = mnt_id, .fd = mfd };
    r = mfd >= 0 ? mfd : -EOPNOTSUPP;
out_unlock:
    pthread_mutex_unlock(&fs->mounts_lock);
    return r;
}

/*
 * A handle for the inode `fd` is open on, and the mount fd to open it with.
 * *out stays NULL (use the fd) when handles are off, or in prefer mode when
 * the inode's filesystem has none; mandatory mode fails then.
 */
static int make_handle(struct pt_fs *fs, int fd, struct file_handle **out, int *mount_fd)
{
    *out = NULL;
    *mount_fd = -1;
    if (fs->inode_handles == PT_HANDLES_NEVER)
        return 0;
    struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
    if (!fh)
        return -ENOMEM;
    fh->handle_bytes = MAX_HANDLE_SZ;
    int mnt_id, r;
    if (name_to_handle_at(fd, "", fh, &mnt_id, AT_EMPTY_PATH) < 0) {
        r = neg_errno();
        goto out_free;
    }
    r = mount_fd_for(fs, (uint64_t)(unsigned)mnt_id, fd, fh);
    if (r < 0)
        goto out_free;
    struct file_handle *small = realloc(fh, sizeof(*fh) + fh->handle_bytes);
    *out = small ? small : fh;
    *mount_fd = r;
    return 0;

out_free:
    free(fh);
    if (transient_error(r) || fs->inode_handles == PT_HANDLES_MANDATORY)
        return r;
    return 0;
}

int pt_mounts_init(struct pt_fs *fs, int root_fd)
{
    struct file_handle *fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
    if (!fh)
        return -ENOMEM;
    fh->handle_bytes = MAX_HANDLE_SZ;
    int mnt_id;
    int r = name_to_handle_at(root_fd, "", fh, &mnt_id, AT_EMPTY_PATH) < 0
                ? neg_errno()
                : mount_fd_for(fs, (uint64_t)(unsigned)mnt_id, root_fd, fh);
    free(fh);
    return r < 0 ? r : 0;
}

void pt_mounts_done(struct pt_fs *fs)
{
    for (size_t i = 0; i < fs->nmounts; i++)
        if (fs->mounts[i].fd >= 0)
            close(fs->mounts[i].fd);
    free(fs->mounts);
    fs->mounts = NULL;
    fs->nmounts = 0;
}

/* An inode with a handle gets an fd for its first user. */
static int fd_acquire(struct pt_inode *inode)
{
    int r = 0;
    pthread_mutex_lock(&inode->fd_lock);
    if (inode->fd_users == 0) {
        int fd = open_by_handle_at(inode->mount_fd, inode->handle, O_PATH | O_CLOEXEC);
        if (fd < 0)
            r = neg_errno();
        else
            inode->fd = fd;
    }
    if (r == 0)
        inode->fd_users++;
    pthread_mutex_unlock(&inode->fd_lock);
    return r;
}

/* ... and closes it after its last. */
static void fd_release(struct pt_inode *inode)
{
    pthread_mutex_lock(&inode->fd_lock);
    if (--inode->fd_users == 0) {
        close(inode->fd);
        inode->fd = -1;
    }
    pthread_mutex_unlock(&inode->fd_lock);
}

static void inode_put(struct pt_fs *fs, struct pt_inode *inode);

struct pt_inode *pt_inode_get(struct pt_fs *fs, uint64_t nodeid)
{
    struct pt_inode *inode = (struct pt_inode *)pt_idtable_get(&fs->inodes, nodeid);
    if (inode && inode->handle) {
        int r = fd_acquire(inode);
        if (r < 0) {
            /* Gone on the host (ESTALE) or out of fds: the callers' error
             * for an unusable nodeid. */
            log_debug("nodeid %llu: cannot open its file handle: %s",
                      (unsigned long long)nodeid, strerror(-r));
            inode_put(fs, inode);
            return NULL;
        }
    }
    return inode;
}

void pt_inode_ref(struct pt_inode *inode)
{
    pt_slot_ref(&inode->slot);
    if (inode->handle) {
        pthread_mutex_lock(&inode->fd_lock);
        inode->fd_users++; /* the caller's reference keeps the fd open */
        pthread_mutex_unlock(&inode->fd_lock);
    }
}

uint64_t pt_inode_id(const struct pt_inode *inode)
{
    return pt_slot_id(&inode->slot);
}

/* Tears down an inode whose refcount reached zero and that is out of the hash. */
static void inode_free(struct pt_fs *fs, struct pt_inode *inode)
{
    /* A forgotten inode takes its guest lock owners' locks with it. */
    pt_locks_free(inode);
    if (inode->fd >= 0)
        close(inode->fd);
    inode->fd = -1;
    free(inode->handle);
    inode->handle = NULL;
    pthread_mutex_destroy(&inode->fd_lock);
    pt_idtable_free(&fs->inodes, &inode->slot);
}

void pt_inode_unref(struct pt_fs *fs, struct pt_inode *inode)
{
    if (!inode)
        return;
    if (inode->handle)
        fd_release(inode);
    inode_put(fs, inode);
}

void pt_inode_put(struct pt_fs *fs, struct pt_inode *inode)
{
    if (inode)
        inode_put(fs, inode);
}

static void inode_put(struct pt_fs *fs, struct pt_inode *inode)
{
    if (pt_slot_unref_unless_last(&inode->slot))
        return;
    /* Possibly the last reference: decide under the write lock, where no
     * hash reader can be taking a new one. */
    pthread_rwlock_wrlock(&fs->inode_lock);
    bool last = pt_slot_unref(&inode->slot);
    if (last)
        hash_remove(fs, inode);
    pthread_rwlock_unlock(&fs->inode_lock);
    if (last)
        inode_free(fs, inode);
}

/* Whether a hash entry is the host inode `handle` (NULL: none made) names.
 * inode_lock held. An entry without a handle pins its inode, so its number
 * cannot belong to another one. */
static bool same_host_inode(const struct pt_inode *inode, const struct file_handle *handle)
{
    if (!inode->handle || !handle)
        return true;
    return inode->handle->handle_type == handle->handle_type &&
           inode->handle->handle_bytes == handle->handle_bytes &&
           memcmp(inode->handle->f_handle, handle->f_handle, handle->handle_bytes) == 0;
}

struct pt_inode *pt_inode_find_pinned(struct pt_fs *fs, const struct statx *stx)
{
    if (!(stx->stx_mask & STATX_MNT_ID))
        return NULL;
    pthread_rwlock_rdlock(&fs->inode_lock);
    struct pt_inode *inode = hash_find(fs, makedev(stx->stx_dev_major, stx->stx_dev_minor),
                                       stx->stx_ino, stx->stx_mnt_id);
    if (inode && (inode->handle || !pt_slot_tryref(&inode->slot)))
        inode = NULL;
    pthread_rwlock_unlock(&fs->inode_lock);
    return inode;
}

int pt_inode_find_or_add(struct pt_fs *fs, int fd, const struct statx *stx,
                         bool submount, struct pt_inode **out)
{
    _cleanup_close_ int owned_fd = fd;
    _cleanup_free_ struct file_handle *handle = NULL;
    dev_t dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    ino_t ino = stx->stx_ino;
    uint64_t mnt_id = (stx->stx_mask & STATX_MNT_ID) ? stx->stx_mnt_id : 0;
    struct pt_inode *inode;
    int mount_fd = -1;

    /* The handle comes first: it tells whether an entry with this key is
     * still this inode (see the file comment). */
    int r = make_handle(fs, owned_fd, &handle, &mount_fd);
    if (r < 0)
        return r;

    pthread_rwlock_rdlock(&fs->inode_lock);
    inode = hash_find(fs, dev, ino, mnt_id);
    /* Entries in the hash are live (see the file comment): tryref only
     * fails if that invariant is broken, and then we add a fresh one. */
    if (inode && (!same_host_inode(inode, handle) || !pt_slot_tryref(&inode->slot)))
        inode = NULL;
    pthread_rwlock_unlock(&fs->inode_lock);
    if (inode) {
        *out = inode;
        return 0;
    }

    /* A file without a name (O_TMPFILE, or unlinked while open) cannot be
     * opened by handle again: it keeps its fd (the handle still serves to
     * compare). */
    bool keep_fd = !handle || ((stx->stx_mask & STATX_NLINK) && stx->stx_nlink == 0);
    struct pt_slot *slot;
    r = pt_idtable_alloc(&fs->inodes, &slot);
    if (r < 0)
        return r;
    struct pt_inode *fresh = (struct pt_inode *)slot;
    fresh->handle = keep_fd ? NULL : TAKE_PTR(handle);
    fresh->mount_fd = keep_fd ? -1 : mount_fd;
    pthread_mutex_init(&fresh->fd_lock, NULL);
    fresh->fd_users = 0;
    if (keep_fd)
        fresh->fd = TAKE_FD(owned_fd);
    else
        fresh->fd = -1; /* owned_fd is closed on return */
    fresh->type = stx->stx_mode & S_IFMT;
    fresh->dev = dev;
    fresh->ino = ino;
    fresh->mnt_id = mnt_id;
    fresh->submount = submount;
    atomic_store_explicit(&fresh->nlookup, 0, memory_order_relaxed);
    atomic_store_explicit(&fresh->locks, NULL, memory_order_relaxed);
    fresh->hash_next = 0;

    /* Published (reachable by its nodeid) only once it has won: a guest
     * guessing the next id must never reach an inode about to be freed. */
    pthread_rwlock_wrlock(&fs->inode_lock);
    inode = hash_find(fs, dev, ino, mnt_id);
    if (inode && same_host_inode(inode, keep_fd ? handle : fresh->handle) &&
        pt_slot_tryref(&inode->slot)) {
        /* Lost a race with another lookup of the same inode. */
        pthread_rwlock_unlock(&fs->inode_lock);
        inode_free(fs, fresh); /* never published: nobody else saw it */
        *out = inode;
        return 0;
    }
    /* An entry left with the key is of a removed inode whose number was
     * reused: it lives on for the guest's nodeid, no longer findable. */
    if (inode)
        hash_remove(fs, inode);
    pt_slot_publish(&fresh->slot); /* the caller's reference */
    hash_insert(fs, fresh);
    pthread_rwlock_unlock(&fs->inode_lock);
    *out = fresh;
    return 0;
}

void pt_inode_add_lookup(struct pt_inode *inode)
{
    /* The caller holds a reference, so taking the nlookup one cannot race
     * with the inode's teardown. */
    if (atomic_fetch_add_explicit(&inode->nlookup, 1, memory_order_relaxed) == 0)
        pt_slot_ref(&inode->slot);
}

int pt_inode_forget(struct pt_fs *fs, struct pt_inode *inode, uint64_t n)
{
    uint64_t old = atomic_load_explicit(&inode->nlookup, memory_order_relaxed);
    uint64_t now;
    do {
        if (old == 0)
            return n ? -ERANGE : 0;
        now = old > n ? old - n : 0;
    } while (!atomic_compare_exchange_weak_explicit(&inode->nlookup, &old, now,
                                                    memory_order_relaxed,
                                                    memory_order_relaxed));
    if (now == 0)
        inode_put(fs, inode);
    return n > old ? -ERANGE : 0;
}

void pt_inodes_forget_all(struct pt_fs *fs)
{
    uint32_t n = pt_idtable_size(&fs->inodes);
    for (uint32_t i = 1; i < n; i++) {
        struct pt_inode *inode = inode_at(fs, i);
        /* The root survives on the fs's permanent reference. */
        if (!pt_slot_tryref(&inode->slot))
            continue;
        if (atomic_exchange_explicit(&inode->nlookup, 0, memory_order_relaxed) > 0)
            inode_put(fs, inode);
        inode_put(fs, inode);
    }
}

int pt_forget(struct pt_fs *fs, uint64_t nodeid, uint64_t nlookup)
{
    /* No fd needed: not pt_inode_get(). */
    struct pt_inode *inode = (struct pt_inode *)pt_idtable_get(&fs->inodes, nodeid);
    if (!inode)
        return -EBADF;
    int r = pt_inode_forget(fs, inode, nlookup);
    inode_put(fs, inode);
    return r;
}

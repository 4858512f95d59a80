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
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
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
        if ((uint32_t)st != 0 && inode->fd >= 0) {
            pt_locks_free(inode);
            close(inode->fd);
            inode->fd = -1;
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

struct pt_inode *pt_inode_get(struct pt_fs *fs, uint64_t nodeid)
{
    return (struct pt_inode *)pt_idtable_get(&fs->inodes, nodeid);
}

void pt_inode_ref(struct pt_inode *inode)
{
    pt_slot_ref(&inode->slot);
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
    pt_idtable_free(&fs->inodes, &inode->slot);
}

void pt_inode_unref(struct pt_fs *fs, struct pt_inode *inode)
{
    if (!inode)
        return;
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

int pt_inode_find_or_add(struct pt_fs *fs, int fd, const struct statx *stx,
                         bool submount, struct pt_inode **out)
{
    _cleanup_close_ int owned_fd = fd;
    dev_t dev = makedev(stx->stx_dev_major, stx->stx_dev_minor);
    ino_t ino = stx->stx_ino;
    uint64_t mnt_id = (stx->stx_mask & STATX_MNT_ID) ? stx->stx_mnt_id : 0;
    struct pt_inode *inode;

    pthread_rwlock_rdlock(&fs->inode_lock);
    inode = hash_find(fs, dev, ino, mnt_id);
    /* Entries in the hash are live (see the file comment): tryref only
     * fails if that invariant is broken, and then we add a fresh one. */
    if (inode && !pt_slot_tryref(&inode->slot))
        inode = NULL;
    pthread_rwlock_unlock(&fs->inode_lock);
    if (inode) {
        *out = inode;
        return 0;
    }

    struct pt_slot *slot;
    int r = pt_idtable_alloc(&fs->inodes, &slot);
    if (r < 0)
        return r;
    struct pt_inode *fresh = (struct pt_inode *)slot;
    fresh->fd = TAKE_FD(owned_fd);
    fresh->type = stx->stx_mode & S_IFMT;
    fresh->dev = dev;
    fresh->ino = ino;
    fresh->mnt_id = mnt_id;
    fresh->submount = submount;
    atomic_store_explicit(&fresh->nlookup, 0, memory_order_relaxed);
    atomic_store_explicit(&fresh->locks, NULL, memory_order_relaxed);
    fresh->hash_next = 0;
    pt_slot_publish(&fresh->slot);

    pthread_rwlock_wrlock(&fs->inode_lock);
    inode = hash_find(fs, dev, ino, mnt_id);
    if (inode && pt_slot_tryref(&inode->slot)) {
        /* Lost a race with another lookup of the same inode. */
        pthread_rwlock_unlock(&fs->inode_lock);
        pt_slot_unref(&fresh->slot);
        inode_free(fs, fresh);
        *out = inode;
        return 0;
    }
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
        pt_inode_unref(fs, inode);
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
            pt_inode_unref(fs, inode);
        pt_inode_unref(fs, inode);
    }
}

int pt_forget(struct pt_fs *fs, uint64_t nodeid, uint64_t nlookup)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    int r = pt_inode_forget(fs, inode, nlookup);
    pt_inode_unref(fs, inode);
    return r;
}

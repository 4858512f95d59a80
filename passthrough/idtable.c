/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generation-tagged slot tables: the map from guest ids (nodeid, fh) to our
 * objects, without ever trusting an id as a pointer.
 *
 * Why lock-free reads are safe: slots are stored in chunks that stay put
 * until the table is freed, so reading a slot that was freed (or never used)
 * is harmless. A slot's state word packs its generation with its refcount;
 * a reference is taken by compare-and-swap only if the generation matches
 * the id and the refcount is not zero. A slot whose refcount reached zero
 * can therefore never be revived by a late reader, and once it is freed its
 * generation moves on, so every id that named it goes stale.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"

#define STATE_REFS(s) ((uint32_t)(s))
#define STATE_GEN(s)  ((uint32_t)((s) >> 32))
#define ID_INDEX(id)  ((uint32_t)(id))
#define ID_GEN(id)    ((uint32_t)((id) >> 32))

int pt_idtable_init(struct pt_idtable *t, size_t elem_size)
{
    t->elem_size = elem_size;
    t->chunks = calloc(PT_ID_MAX_CHUNKS, sizeof(*t->chunks));
    if (!t->chunks)
        return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->nslots, 1); /* index 0 is never handed out */
    t->free_head = 0;
    atomic_init(&t->live, 0);
    return 0;
}

void pt_idtable_done(struct pt_idtable *t)
{
    if (!t->chunks)
        return;
    for (uint32_t i = 0; i < PT_ID_MAX_CHUNKS; i++)
        free(atomic_load_explicit(&t->chunks[i], memory_order_relaxed));
    free(t->chunks);
    t->chunks = NULL;
    pthread_mutex_destroy(&t->lock);
}

static struct pt_slot *slot_at(struct pt_idtable *t, uint32_t index)
{
    uint32_t c = index >> PT_ID_CHUNK_SHIFT;
    if (c >= PT_ID_MAX_CHUNKS)
        return NULL;
    /* Acquire pairs with the release that published the chunk, so its
     * slot headers (index, zeroed state) are seen initialised. */
    char *chunk = atomic_load_explicit(&t->chunks[c], memory_order_acquire);
    if (!chunk)
        return NULL;
    return (struct pt_slot *)(chunk + (size_t)(index & (PT_ID_CHUNK_SLOTS - 1)) * t->elem_size);
}

/* Called with t->lock: makes the chunk that holds `index` exist. */
static int ensure_chunk(struct pt_idtable *t, uint32_t index)
{
    uint32_t c = index >> PT_ID_CHUNK_SHIFT;
    if (c >= PT_ID_MAX_CHUNKS)
        return -ENFILE;
    if (atomic_load_explicit(&t->chunks[c], memory_order_relaxed))
        return 0;
    char *chunk = calloc(PT_ID_CHUNK_SLOTS, t->elem_size);
    if (!chunk)
        return -ENOMEM;
    for (uint32_t i = 0; i < PT_ID_CHUNK_SLOTS; i++) {
        struct pt_slot *s = (struct pt_slot *)(chunk + (size_t)i * t->elem_size);
        s->index = (c << PT_ID_CHUNK_SHIFT) | i;
        atomic_init(&s->state, 0);
    }
    /* Release: readers that see the pointer see the initialised slots. */
    atomic_store_explicit(&t->chunks[c], chunk, memory_order_release);
    return 0;
}

int pt_idtable_alloc(struct pt_idtable *t, struct pt_slot **out)
{
    struct pt_slot *s;

    pthread_mutex_lock(&t->lock);
    if (t->free_head) {
        s = slot_at(t, t->free_head);
        t->free_head = s->next_free;
    } else {
        uint32_t index = atomic_load_explicit(&t->nslots, memory_order_relaxed);
        int r = ensure_chunk(t, index);
        if (r < 0) {
            pthread_mutex_unlock(&t->lock);
            return r;
        }
        s = slot_at(t, index);
        atomic_store_explicit(&t->nslots, index + 1, memory_order_release);
    }
    pthread_mutex_unlock(&t->lock);

    s->next_free = 0;
    atomic_fetch_add_explicit(&t->live, 1, memory_order_relaxed);
    *out = s;
    return 0;
}

void pt_slot_publish(struct pt_slot *s)
{
    uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
    /* Release: whoever takes a reference by id sees the object initialised. */
    atomic_store_explicit(&s->state, (uint64_t)STATE_GEN(st) << 32 | 1u, memory_order_release);
}

void pt_idtable_free(struct pt_idtable *t, struct pt_slot *s)
{
    uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
    atomic_store_explicit(&s->state, (uint64_t)(STATE_GEN(st) + 1u) << 32, memory_order_release);

    pthread_mutex_lock(&t->lock);
    s->next_free = t->free_head;
    t->free_head = s->index;
    pthread_mutex_unlock(&t->lock);
    atomic_fetch_sub_explicit(&t->live, 1, memory_order_relaxed);
}

uint64_t pt_slot_id(const struct pt_slot *s)
{
    uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
    return (uint64_t)STATE_GEN(st) << 32 | s->index;
}

/* Takes a reference if the slot is live and, when check_gen, of generation gen. */
static bool slot_tryref_gen(struct pt_slot *s, bool check_gen, uint32_t gen)
{
    uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
    for (;;) {
        if (STATE_REFS(st) == 0 || (check_gen && STATE_GEN(st) != gen))
            return false;
        if (unlikely(STATE_REFS(st) == UINT32_MAX))
            return false; /* cannot happen with bounded threads; refuse rather than wrap */
        /* Acquire on success: the object's fields written before publish
         * are visible. */
        if (atomic_compare_exchange_weak_explicit(&s->state, &st, st + 1,
                                                  memory_order_acquire,
                                                  memory_order_relaxed))
            return true;
    }
}

struct pt_slot *pt_idtable_get(struct pt_idtable *t, uint64_t id)
{
    uint32_t index = ID_INDEX(id);
    if (index == 0)
        return NULL;
    struct pt_slot *s = slot_at(t, index);
    if (!s || !slot_tryref_gen(s, true, ID_GEN(id)))
        return NULL;
    return s;
}

struct pt_slot *pt_idtable_at(struct pt_idtable *t, uint32_t index)
{
    if (index == 0 || index >= pt_idtable_size(t))
        return NULL;
    return slot_at(t, index);
}

uint32_t pt_idtable_size(struct pt_idtable *t)
{
    return atomic_load_explicit(&t->nslots, memory_order_acquire);
}

bool pt_slot_tryref(struct pt_slot *s)
{
    return slot_tryref_gen(s, false, 0);
}

void pt_slot_ref(struct pt_slot *s)
{
    atomic_fetch_add_explicit(&s->state, 1, memory_order_relaxed);
}

bool pt_slot_unref_unless_last(struct pt_slot *s)
{
    uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
    for (;;) {
        if (STATE_REFS(st) <= 1)
            return false;
        /* Release: our use of the object happens before its teardown. */
        if (atomic_compare_exchange_weak_explicit(&s->state, &st, st - 1,
                                                  memory_order_release,
                                                  memory_order_relaxed))
            return true;
    }
}

bool pt_slot_unref(struct pt_slot *s)
{
    /* acq_rel: the last dropper sees every other user's writes before it
     * tears the object down. */
    uint64_t st = atomic_fetch_sub_explicit(&s->state, 1, memory_order_acq_rel);
    assert(STATE_REFS(st) != 0); /* our own refcounting, never guest input */
    return STATE_REFS(st) == 1;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Concurrency stress: four request queues, each driven by its own thread
 * that keeps many requests in flight with a random mix of operations on a
 * shared tree, plus a thread that sends FORGET / BATCH_FORGET on the hiprio
 * queue for nodeids the others were granted, while they still use them.
 *
 * What is checked:
 *  - every reply (unique, length, errno range: tc_fuse), its size for the
 *    opcode, and its errno against what the operation may legitimately
 *    get in this workload;
 *  - file data: every byte written at offset o of the file with inode i is
 *    pat(i, o), never 0, so a READ must return for each byte either that
 *    or 0 (holes, truncation), whichever handle or queue it goes through;
 *  - lookup counts: the exact count each nodeid was granted by replies is
 *    kept, FORGETs take random parts of it back. A nodeid whose count was
 *    above 0 when a request was sent and did not drop to 0 since must not
 *    give EBADF; a nodeid always names the same inode, and two nodeids
 *    with a count above 0 never name the same inode;
 *  - handles shared between the threads are RELEASEd (mostly by the last
 *    queue's thread) while the others READ them: those READs return
 *    correct data or EBADF, and a handle whose RELEASE was answered gives
 *    EBADF from then on;
 *  - each request queue is stopped once with GET_VRING_BASE while it has
 *    requests in flight: the base returned equals the used index (every
 *    popped request got exactly one used entry, and they were all there
 *    when the stop returned), requests not popped yet stay pending and are
 *    served after the restart; nothing is lost or answered twice over the
 *    whole run (tc_vring refuses a used entry for a head not in flight);
 *  - one guest memory region is removed and added again every 300 ms while
 *    the queues are busy, and a request whose descriptors lie in it is
 *    sent as soon as the daemon acknowledged it: it must be served;
 *  - at the end every lookup is forgotten and every handle released: the
 *    daemon's statistics (SIGUSR1) must show 1 inode and 0 open handles,
 *    and it must exit 0 when the frontend disconnects.
 *
 * VFSD_STRESS_SECONDS sets the duration (default 12). VFSD_STRESS_STALE_OK=1
 * is for a daemon that keeps inodes as file handles instead of open fds: it
 * cannot reopen one the host has removed (EBADF/ESTALE on any nodeid), and
 * the removed inode's number may name a new inode under a new nodeid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "tests/integration/fixture.h"

#define NQ            4           /* request queues, one thread each */
#define SLOTS         48          /* requests in flight per request queue */
#define FORGET_SLOTS  16
#define BATCH_MAX     16
#define NDIRS         8           /* d0..d7 under the root, never removed */
#define NFILES        24          /* names f0..f23 in any directory: always files */
#define NSUBDIRS      4           /* names s0..s3 in any directory: always directories */
#define BLOCK         512u
#define IO_MAX        (64u << 10)
#define FILE_MAX      (256u << 10)
#define READDIR_SIZE  (16u << 10)
#define MAX_PRIVATE   12          /* open file handles per thread */
#define MAX_DIRH      3           /* open directory handles per thread */
#define NSHARED       32          /* file handles shared between the threads */
#define NDEAD         64          /* released handles remembered */
#define NREGIONS      4           /* guest memory regions (32 MiB each) */
#define CHURN_REGION  3           /* removed and added again while requests run */
#define CHURN_QUEUE   3           /* the thread doing it; its slot 0 lives there */
#define CHURN_NS      (300ull * 1000000ull)
#define STALL_NS      (30ull * 1000000000ull)
#define NS_PER_SEC    1000000000ull

/* --- the data pattern ------------------------------------------------------ */

static inline uint64_t pat_word(uint64_t ino, uint64_t word)
{
    uint64_t x = ino * 0x9e3779b97f4a7c15ull ^ (word + 1) * 0xc2b2ae3d27d4eb4full;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return x;
}

static inline uint8_t pat_byte(uint64_t word, unsigned i)
{
    uint8_t b = (uint8_t)(word >> (i * 8));
    return b ? b : 0xa5;
}

static inline uint8_t pat(uint64_t ino, uint64_t off)
{
    return pat_byte(pat_word(ino, off >> 3), off & 7);
}

static void pat_fill(uint8_t *p, uint64_t ino, uint64_t off, size_t len)
{
    uint64_t w = pat_word(ino, off >> 3);
    for (size_t i = 0; i < len; i++) {
        if (((off + i) & 7) == 0)
            w = pat_word(ino, (off + i) >> 3);
        p[i] = pat_byte(w, (off + i) & 7);
    }
}

/* Returns the index of the first byte that is neither 0 nor the pattern, or len. */
static size_t pat_check(const uint8_t *p, uint64_t ino, uint64_t off, size_t len)
{
    uint64_t w = pat_word(ino, off >> 3);
    for (size_t i = 0; i < len; i++) {
        if (((off + i) & 7) == 0)
            w = pat_word(ino, (off + i) >> 3);
        if (p[i] != 0 && p[i] != pat_byte(w, (off + i) & 7))
            return i;
    }
    return len;
}

/* --- randomness ------------------------------------------------------------ */

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static uint32_t rnd_below(struct rng *r, uint32_t n)
{
    return n ? (uint32_t)(rnd(r) % n) : 0;
}

static bool one_in(struct rng *r, uint32_t n)
{
    return rnd_below(r, n) == 0;
}

/* --- shared state ---------------------------------------------------------- */

enum kind { K_ANY, K_FILE, K_DIR };

struct node {
    uint64_t nodeid;
    uint64_t ino;
    bool dir;
    uint64_t count;           /* lookups granted by replies, not forgotten yet */
    uint64_t zero_epoch;      /* times count dropped to 0 */
    int live;                 /* index in stress.live, -1 when count is 0 */
};

/* A nodeid as it was when a request naming it was sent. */
struct node_ref {
    uint64_t nodeid;
    uint64_t ino;
    bool dir;
    bool counted;             /* count > 0 (or the root) when sent */
    uint64_t epoch;
};

enum { SH_FREE, SH_OPEN, SH_RELEASING };

struct shandle {
    int state;
    uint64_t fh;
    uint64_t ino;
    uint64_t seq;             /* bumped whenever the slot changes hands */
};

enum op_kind {
    OP_LOOKUP, OP_GETATTR, OP_SETATTR, OP_CREATE, OP_OPEN, OP_READ, OP_WRITE,
    OP_READ_SHARED, OP_READ_DEAD, OP_RELEASE, OP_RELEASE_SHARED, OP_FLUSH, OP_FSYNC,
    OP_FALLOCATE, OP_UNLINK, OP_RENAME, OP_MKDIR, OP_RMDIR, OP_OPENDIR, OP_READDIRPLUS,
    OP_RELEASEDIR, OP_COUNT
};

static const struct {
    const char *name;
    unsigned weight;
} op_info[OP_COUNT] = {
    [OP_LOOKUP] = { "LOOKUP", 16 },
    [OP_GETATTR] = { "GETATTR", 8 },
    [OP_SETATTR] = { "SETATTR", 4 },
    [OP_CREATE] = { "CREATE", 5 },
    [OP_OPEN] = { "OPEN", 7 },
    [OP_READ] = { "READ", 12 },
    [OP_WRITE] = { "WRITE", 10 },
    [OP_READ_SHARED] = { "READ(shared fh)", 10 },
    [OP_READ_DEAD] = { "READ(released fh)", 1 },
    [OP_RELEASE] = { "RELEASE", 5 },
    [OP_RELEASE_SHARED] = { "RELEASE(shared fh)", 3 },
    [OP_FLUSH] = { "FLUSH", 1 },
    [OP_FSYNC] = { "FSYNC", 2 },
    [OP_FALLOCATE] = { "FALLOCATE", 2 },
    [OP_UNLINK] = { "UNLINK", 3 },
    [OP_RENAME] = { "RENAME", 3 },
    [OP_MKDIR] = { "MKDIR", 2 },
    [OP_RMDIR] = { "RMDIR", 2 },
    [OP_OPENDIR] = { "OPENDIR", 2 },
    [OP_READDIRPLUS] = { "READDIRPLUS", 4 },
    [OP_RELEASEDIR] = { "RELEASEDIR", 1 },
};

struct stress;

struct handle {
    bool used;
    bool opened;              /* the OPEN/CREATE reply is in */
    bool closing;             /* RELEASE sent */
    unsigned busy;            /* requests in flight on it */
    uint64_t fh;
    uint64_t ino;
};

struct dirh {
    bool used;
    bool opened;
    bool closing;
    bool busy;
    uint64_t fh;
    uint64_t nodeid;
    uint64_t off;
};

struct op {
    struct tc_fuse_req req;
    bool busy;
    enum op_kind kind;
    union {
        struct fuse_getattr_in getattr;
        struct fuse_setattr_in setattr;
        struct fuse_create_in create;
        struct fuse_open_in open;
        struct fuse_read_in read;
        struct fuse_write_in write;
        struct fuse_release_in release;
        struct fuse_flush_in flush;
        struct fuse_fsync_in fsync;
        struct fuse_fallocate_in fallocate;
        struct fuse_rename2_in rename;
        struct fuse_mkdir_in mkdir;
    } in;
    char name[16];
    char name2[16];
    struct fuse_entry_out entry;
    struct fuse_open_out open;
    struct fuse_attr_out attr;
    struct fuse_write_out wout;
    struct tc_buf data;       /* READ/WRITE payload, READDIRPLUS reply */
    struct tc_buf segs[3];    /* slices of data, one descriptor each */

    /* what the request was about, for checking its reply */
    struct node_ref a, b;
    enum kind want;           /* kind of the entry a reply should hold */
    bool excl, dir_rename, noreplace;
    struct handle *h;
    struct dirh *d;
    int sh;
    uint64_t sh_seq;
    uint64_t fh, ino, off;
    uint32_t len;
};

struct worker {
    struct stress *st;
    unsigned q;
    struct rng rng;
    pthread_t thread;
    struct op ops[SLOTS];
    unsigned inflight;
    struct handle handles[MAX_PRIVATE];
    struct dirh dirs[MAX_DIRH];
    uint64_t stop_at_ns;      /* when to stop and restart the queue */
    bool stopped;
    uint64_t last_progress_ns;
    uint64_t max_gap_ns;      /* longest wait for a completion */
    uint64_t next_churn_ns;   /* CHURN_QUEUE: when to remove and add the region again */
    unsigned churns;
    uint64_t late_wakeups;    /* completions found only when a wait timed out */

    /* statistics */
    uint64_t done[OP_COUNT];
    uint64_t errors[OP_COUNT];
    uint64_t ebadf[OP_COUNT];
    uint64_t ebadf_races;     /* EBADF that a FORGET or RELEASE in flight explains */
    uint64_t bytes_read, bytes_written;
    unsigned stop_inflight;   /* requests in flight when the queue was stopped */
    unsigned stop_pending;    /* of which not popped yet */
    unsigned stop_completed;  /* completed by the stop */
    uint16_t stop_base;
};

struct fop {
    struct tc_fuse_req req;
    bool busy;
    struct fuse_forget_in one;
    struct fuse_batch_forget_in batch;
    struct fuse_forget_one items[BATCH_MAX];
};

struct forgetter {
    struct stress *st;
    struct rng rng;
    pthread_t thread;
    struct fop ops[FORGET_SLOTS];
    unsigned inflight;
    uint64_t forgets, batches, nlookups;
};

struct stress {
    struct fx *f;
    struct tc_dev *dev;

    pthread_mutex_t nodes_lock;  /* nodes, inos, live, every node's fields */
    GHashTable *nodes;           /* nodeid -> struct node */
    GHashTable *inos;            /* ino -> the node last granted for it */
    GPtrArray *live;             /* nodes with count > 0 */
    uint64_t grants;

    pthread_mutex_t sh_lock;     /* shared and dead */
    struct shandle shared[NSHARED];
    uint64_t dead[NDEAD];
    unsigned ndead, dead_next;

    pthread_mutex_t ctl_lock;    /* vhost-user control messages */

    bool stale_ok;               /* VFSD_STRESS_STALE_OK: see the top */
    int stop;                    /* atomic: workers end */
    int forget_stop;             /* atomic: the FORGET thread ends */
    int failed;                  /* atomic */
    pthread_mutex_t fail_lock;
    char fail_msg[1024];

    struct worker workers[NQ];
    struct forgetter forgetter;
};

static void fail(struct stress *st, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void fail(struct stress *st, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&st->fail_lock);
    if (!st->failed) {
        va_start(ap, fmt);
        vsnprintf(st->fail_msg, sizeof(st->fail_msg), fmt, ap);
        va_end(ap);
        __atomic_store_n(&st->failed, 1, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&st->fail_lock);
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&st->forget_stop, 1, __ATOMIC_RELEASE);
}

static bool failed(struct stress *st)
{
    return __atomic_load_n(&st->failed, __ATOMIC_ACQUIRE);
}

/* --- lookup counts --------------------------------------------------------- */

/* nodes_lock held */
static void live_add(struct stress *st, struct node *n)
{
    n->live = (int)st->live->len;
    g_ptr_array_add(st->live, n);
}

/* nodes_lock held */
static void live_remove(struct stress *st, struct node *n)
{
    guint i = (guint)n->live;
    struct node *last = g_ptr_array_index(st->live, st->live->len - 1);
    st->live->pdata[i] = last;
    last->live = (int)i;
    g_ptr_array_set_size(st->live, st->live->len - 1);
    n->live = -1;
}

static bool kind_ok(enum kind want, bool dir)
{
    return want == K_ANY || (want == K_DIR) == dir;
}

/*
 * Records one lookup granted by a reply's entry, after checking it: a
 * nodeid, an inode, the expected type, a nodeid that keeps naming the same
 * inode, and no other nodeid with lookups left for that inode.
 */
static bool grant(struct stress *st, const struct fuse_entry_out *e, enum kind want,
                  const char *what)
{
    bool dir = S_ISDIR(e->attr.mode);
    if (e->nodeid == 0 || e->attr.ino == 0 || !(dir || S_ISREG(e->attr.mode)) ||
        !kind_ok(want, dir)) {
        fail(st, "%s: entry nodeid %#llx ino %llu mode %o is not the %s asked for", what,
             (unsigned long long)e->nodeid, (unsigned long long)e->attr.ino, e->attr.mode,
             want == K_DIR ? "directory" : "file");
        return false;
    }
    if (e->nodeid == FUSE_ROOT_ID) {
        fail(st, "%s: entry for the root", what);
        return false;
    }
    pthread_mutex_lock(&st->nodes_lock);
    struct node *n = g_hash_table_lookup(st->nodes, &e->nodeid);
    if (!n) {
        n = g_new0(struct node, 1);
        n->nodeid = e->nodeid;
        n->ino = e->attr.ino;
        n->dir = dir;
        n->live = -1;
        g_hash_table_insert(st->nodes, &n->nodeid, n);
    } else if (n->ino != e->attr.ino || n->dir != dir) {
        pthread_mutex_unlock(&st->nodes_lock);
        fail(st, "%s: nodeid %#llx was inode %llu, now names inode %llu", what,
             (unsigned long long)e->nodeid, (unsigned long long)n->ino,
             (unsigned long long)e->attr.ino);
        return false;
    }
    /* (Without pinned inodes the number of a removed one is reused: then an
     * old nodeid keeps it while a new one names the new inode.) */
    struct node *other = g_hash_table_lookup(st->inos, &n->ino);
    if (other && other != n && other->count > 0 && !st->stale_ok) {
        uint64_t o = other->nodeid;
        pthread_mutex_unlock(&st->nodes_lock);
        fail(st, "%s: inode %llu has two nodeids with lookups: %#llx and %#llx", what,
             (unsigned long long)e->attr.ino, (unsigned long long)o,
             (unsigned long long)e->nodeid);
        return false;
    }
    g_hash_table_insert(st->inos, &n->ino, n);
    if (n->count++ == 0)
        live_add(st, n);
    st->grants++;
    pthread_mutex_unlock(&st->nodes_lock);
    return true;
}

/* nodes_lock held */
static void ref_of(const struct node *n, struct node_ref *ref)
{
    ref->nodeid = n->nodeid;
    ref->ino = n->ino;
    ref->dir = n->dir;
    ref->counted = n->count > 0 || n->nodeid == FUSE_ROOT_ID;
    ref->epoch = n->zero_epoch;
}

/*
 * A random nodeid with lookups left, of the wanted kind (the root too with
 * probability 1/root_one_in when root_one_in > 0). False when there is none.
 */
static bool pick_node(struct stress *st, struct rng *r, enum kind want, unsigned root_one_in,
                      struct node_ref *ref)
{
    uint64_t root = FUSE_ROOT_ID;
    bool found = false;
    pthread_mutex_lock(&st->nodes_lock);
    if (root_one_in && one_in(r, root_one_in)) {
        ref_of(g_hash_table_lookup(st->nodes, &root), ref);
        found = true;
    }
    for (unsigned i = 0; !found && i < 16 && st->live->len; i++) {
        struct node *n = g_ptr_array_index(st->live, rnd_below(r, st->live->len));
        if (kind_ok(want, n->dir)) {
            ref_of(n, ref);
            found = true;
        }
    }
    pthread_mutex_unlock(&st->nodes_lock);
    return found;
}

/* Whether EBADF for a request on ref is explained by a FORGET that took its last lookup. */
static bool ebadf_ok(struct stress *st, const struct node_ref *ref)
{
    if (!ref->counted || st->stale_ok)
        return true;
    pthread_mutex_lock(&st->nodes_lock);
    struct node *n = g_hash_table_lookup(st->nodes, &ref->nodeid);
    bool ok = n && n->zero_epoch != ref->epoch;
    pthread_mutex_unlock(&st->nodes_lock);
    return ok;
}

/* The current state of a nodeid (for a request on a handle's directory). */
static void ref_now(struct stress *st, uint64_t nodeid, struct node_ref *ref)
{
    pthread_mutex_lock(&st->nodes_lock);
    struct node *n = g_hash_table_lookup(st->nodes, &nodeid);
    ref_of(n, ref);
    pthread_mutex_unlock(&st->nodes_lock);
}

/* --- shared and released handles ----------------------------------------- */

static bool share_handle(struct stress *st, struct rng *r, uint64_t fh, uint64_t ino)
{
    bool done = false;
    pthread_mutex_lock(&st->sh_lock);
    unsigned start = rnd_below(r, NSHARED);
    for (unsigned i = 0; i < NSHARED && !done; i++) {
        struct shandle *s = &st->shared[(start + i) % NSHARED];
        if (s->state == SH_FREE) {
            s->state = SH_OPEN;
            s->fh = fh;
            s->ino = ino;
            s->seq++;
            done = true;
        }
    }
    pthread_mutex_unlock(&st->sh_lock);
    return done;
}

/* sh_lock held */
static void dead_add(struct stress *st, uint64_t fh)
{
    st->dead[st->dead_next] = fh;
    st->dead_next = (st->dead_next + 1) % NDEAD;
    if (st->ndead < NDEAD)
        st->ndead++;
}

/* --- building requests ----------------------------------------------------- */

#define IN(p, l)  ((struct tc_fuse_in_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define OUT(p, l) ((struct tc_fuse_out_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define NAME(s)   IN((s), strlen(s) + 1)

/* Clears the request for a new use, keeping its guest scratch. */
static void req_reset(struct tc_fuse_req *req, uint32_t opcode, uint64_t nodeid, unsigned queue)
{
    struct tc_buf scratch = req->scratch;
    memset(req, 0, sizeof(*req));
    req->scratch = scratch;
    req->opcode = opcode;
    req->nodeid = nodeid;
    req->queue = queue;
}

/* Chains take different shapes: indirect or not, headers packed or not. */
static unsigned random_shape(struct rng *r)
{
    unsigned flags = 0;
    if (one_in(r, 4))
        flags |= TC_FUSE_INDIRECT;
    if (one_in(r, 4))
        flags |= TC_FUSE_PACK_IN;
    if (one_in(r, 4))
        flags |= TC_FUSE_PACK_OUT;
    return flags;
}

/* Splits the first len bytes of op->data into 1..3 segments. */
static unsigned split_data(struct rng *r, struct op *op, uint32_t len)
{
    unsigned n = 1 + rnd_below(r, 3);
    if (len < n * BLOCK)
        n = 1;
    uint32_t off = 0;
    for (unsigned i = 0; i < n; i++) {
        uint32_t take = i + 1 == n ? len - off
                                   : BLOCK * (1 + rnd_below(r, (len - off) / BLOCK - (n - i - 1)));
        op->segs[i] = (struct tc_buf){
            .gpa = op->data.gpa + off, .ptr = (char *)op->data.ptr + off, .len = take,
        };
        off += take;
    }
    return n;
}

static void random_io(struct rng *r, uint64_t *off, uint32_t *len)
{
    *len = BLOCK * (1 + rnd_below(r, IO_MAX / BLOCK));
    *off = (uint64_t)BLOCK * rnd_below(r, (FILE_MAX - *len) / BLOCK + 1);
}

static struct handle *pick_handle(struct worker *w, bool idle)
{
    unsigned start = rnd_below(&w->rng, MAX_PRIVATE);
    for (unsigned i = 0; i < MAX_PRIVATE; i++) {
        struct handle *h = &w->handles[(start + i) % MAX_PRIVATE];
        if (h->used && h->opened && !h->closing && (!idle || h->busy == 0))
            return h;
    }
    return NULL;
}

static struct handle *free_handle(struct worker *w)
{
    for (unsigned i = 0; i < MAX_PRIVATE; i++)
        if (!w->handles[i].used)
            return &w->handles[i];
    return NULL;
}

static struct dirh *pick_dirh(struct worker *w, bool opened)
{
    unsigned start = rnd_below(&w->rng, MAX_DIRH);
    for (unsigned i = 0; i < MAX_DIRH; i++) {
        struct dirh *d = &w->dirs[(start + i) % MAX_DIRH];
        if (opened ? (d->used && d->opened && !d->closing && !d->busy) : !d->used)
            return d;
    }
    return NULL;
}

static void random_child(struct rng *r, char *buf, size_t size, bool dir)
{
    if (dir)
        snprintf(buf, size, "s%u", rnd_below(r, NSUBDIRS));
    else
        snprintf(buf, size, "f%u", rnd_below(r, NFILES));
}

/* Fills op for `kind`; false when the current state offers no target for it. */
static bool build_op(struct worker *w, struct op *op, enum op_kind kind)
{
    struct stress *st = w->st;
    struct rng *r = &w->rng;
    struct tc_fuse_req *req = &op->req;
    struct handle *h;
    struct dirh *d;

    op->kind = kind;
    op->h = NULL;
    op->d = NULL;
    op->sh = -1;
    op->a.counted = op->b.counted = false;
    op->want = K_ANY;

    switch (kind) {
    case OP_LOOKUP:
        if (!pick_node(st, r, K_DIR, 6, &op->a))
            return false;
        req_reset(req, FUSE_LOOKUP, op->a.nodeid, w->q);
        if (op->a.nodeid == FUSE_ROOT_ID) {
            snprintf(op->name, sizeof(op->name), "d%u", rnd_below(r, NDIRS));
            op->want = K_DIR;
        } else {
            op->want = one_in(r, 4) ? K_DIR : K_FILE;
            random_child(r, op->name, sizeof(op->name), op->want == K_DIR);
        }
        req->in_cnt = 1;
        req->in[0] = NAME(op->name);
        req->out_cnt = 1;
        req->out[0] = OUT(&op->entry, sizeof(op->entry));
        break;

    case OP_GETATTR:
        if (!pick_node(st, r, K_ANY, 20, &op->a))
            return false;
        req_reset(req, FUSE_GETATTR, op->a.nodeid, w->q);
        memset(&op->in.getattr, 0, sizeof(op->in.getattr));
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.getattr, sizeof(op->in.getattr));
        req->out_cnt = 1;
        req->out[0] = OUT(&op->attr, sizeof(op->attr));
        break;

    case OP_SETATTR: {
        if (!pick_node(st, r, K_ANY, 0, &op->a))
            return false;
        req_reset(req, FUSE_SETATTR, op->a.nodeid, w->q);
        struct fuse_setattr_in *in = &op->in.setattr;
        memset(in, 0, sizeof(*in));
        in->valid = FATTR_ATIME_NOW | FATTR_MTIME_NOW | FATTR_ATIME | FATTR_MTIME;
        if (one_in(r, 2)) {
            in->valid |= FATTR_MODE;
            in->mode = op->a.dir ? 0755 : (one_in(r, 2) ? 0644 : 0600);
        }
        if (!op->a.dir && one_in(r, 2)) {
            in->valid |= FATTR_SIZE;
            in->size = (uint64_t)BLOCK * rnd_below(r, FILE_MAX / BLOCK + 1);
        }
        req->in_cnt = 1;
        req->in[0] = IN(in, sizeof(*in));
        req->out_cnt = 1;
        req->out[0] = OUT(&op->attr, sizeof(op->attr));
        break;
    }

    case OP_CREATE:
        if (!(h = free_handle(w)) || !pick_node(st, r, K_DIR, 0, &op->a))
            return false;
        req_reset(req, FUSE_CREATE, op->a.nodeid, w->q);
        random_child(r, op->name, sizeof(op->name), false);
        op->excl = one_in(r, 4);
        op->in.create = (struct fuse_create_in){
            .flags = O_RDWR | O_CREAT | (op->excl ? O_EXCL : 0) | (one_in(r, 8) ? O_TRUNC : 0),
            .mode = S_IFREG | 0644,
        };
        req->in_cnt = 2;
        req->in[0] = IN(&op->in.create, sizeof(op->in.create));
        req->in[1] = NAME(op->name);
        req->out_cnt = 2;
        req->out[0] = OUT(&op->entry, sizeof(op->entry));
        req->out[1] = OUT(&op->open, sizeof(op->open));
        *h = (struct handle){ .used = true };
        op->h = h;
        op->want = K_FILE;
        break;

    case OP_OPEN:
        if (!(h = free_handle(w)) || !pick_node(st, r, K_FILE, 0, &op->a))
            return false;
        req_reset(req, FUSE_OPEN, op->a.nodeid, w->q);
        op->in.open = (struct fuse_open_in){ .flags = O_RDWR };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.open, sizeof(op->in.open));
        req->out_cnt = 1;
        req->out[0] = OUT(&op->open, sizeof(op->open));
        *h = (struct handle){ .used = true, .ino = op->a.ino };
        op->h = h;
        break;

    case OP_READ:
    case OP_READ_SHARED:
    case OP_READ_DEAD:
        if (kind == OP_READ) {
            if (!(h = pick_handle(w, false)))
                return false;
            h->busy++;
            op->h = h;
            op->fh = h->fh;
            op->ino = h->ino;
        } else {
            bool found = false;
            pthread_mutex_lock(&st->sh_lock);
            if (kind == OP_READ_SHARED) {
                unsigned start = rnd_below(r, NSHARED);
                for (unsigned i = 0; i < NSHARED && !found; i++) {
                    struct shandle *s = &st->shared[(start + i) % NSHARED];
                    if (s->state == SH_OPEN) {
                        op->sh = (int)((start + i) % NSHARED);
                        op->sh_seq = s->seq;
                        op->fh = s->fh;
                        op->ino = s->ino;
                        found = true;
                    }
                }
            } else if (st->ndead) {
                op->fh = st->dead[rnd_below(r, st->ndead)];
                op->ino = 0;
                found = true;
            }
            pthread_mutex_unlock(&st->sh_lock);
            if (!found)
                return false;
        }
        req_reset(req, FUSE_READ, 0, w->q);
        random_io(r, &op->off, &op->len);
        op->in.read = (struct fuse_read_in){ .fh = op->fh, .offset = op->off, .size = op->len };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.read, sizeof(op->in.read));
        req->out_data = op->segs;
        req->out_data_cnt = split_data(r, op, op->len);
        break;

    case OP_WRITE:
        if (!(h = pick_handle(w, false)))
            return false;
        h->busy++;
        op->h = h;
        op->fh = h->fh;
        op->ino = h->ino;
        req_reset(req, FUSE_WRITE, 0, w->q);
        random_io(r, &op->off, &op->len);
        pat_fill(op->data.ptr, op->ino, op->off, op->len);
        op->in.write = (struct fuse_write_in){ .fh = op->fh, .offset = op->off, .size = op->len };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.write, sizeof(op->in.write));
        req->in_data = op->segs;
        req->in_data_cnt = split_data(r, op, op->len);
        req->out_cnt = 1;
        req->out[0] = OUT(&op->wout, sizeof(op->wout));
        break;

    case OP_RELEASE:
    case OP_RELEASE_SHARED:
        if (kind == OP_RELEASE) {
            if (!(h = pick_handle(w, true)))
                return false;
            h->closing = true;
            op->h = h;
            op->fh = h->fh;
        } else {
            bool found = false;
            pthread_mutex_lock(&st->sh_lock);
            unsigned start = rnd_below(r, NSHARED);
            for (unsigned i = 0; i < NSHARED && !found; i++) {
                struct shandle *s = &st->shared[(start + i) % NSHARED];
                if (s->state == SH_OPEN) {
                    s->state = SH_RELEASING;
                    op->sh = (int)((start + i) % NSHARED);
                    op->fh = s->fh;
                    found = true;
                }
            }
            pthread_mutex_unlock(&st->sh_lock);
            if (!found)
                return false;
        }
        req_reset(req, FUSE_RELEASE, 0, w->q);
        op->in.release = (struct fuse_release_in){ .fh = op->fh, .flags = O_RDWR };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.release, sizeof(op->in.release));
        break;

    case OP_FLUSH:
    case OP_FSYNC:
    case OP_FALLOCATE:
        if (!(h = pick_handle(w, false)))
            return false;
        h->busy++;
        op->h = h;
        op->fh = h->fh;
        if (kind == OP_FLUSH) {
            req_reset(req, FUSE_FLUSH, 0, w->q);
            op->in.flush = (struct fuse_flush_in){ .fh = op->fh, .lock_owner = w->q };
            req->in[0] = IN(&op->in.flush, sizeof(op->in.flush));
        } else if (kind == OP_FSYNC) {
            req_reset(req, FUSE_FSYNC, 0, w->q);
            op->in.fsync = (struct fuse_fsync_in){ .fh = op->fh, .fsync_flags = rnd_below(r, 2) };
            req->in[0] = IN(&op->in.fsync, sizeof(op->in.fsync));
        } else {
            req_reset(req, FUSE_FALLOCATE, 0, w->q);
            random_io(r, &op->off, &op->len);
            op->in.fallocate = (struct fuse_fallocate_in){
                .fh = op->fh, .offset = op->off, .length = op->len,
                .mode = one_in(r, 2) ? 0 : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
            };
            req->in[0] = IN(&op->in.fallocate, sizeof(op->in.fallocate));
        }
        req->in_cnt = 1;
        break;

    case OP_UNLINK:
    case OP_RMDIR:
        if (!pick_node(st, r, K_DIR, 0, &op->a))
            return false;
        req_reset(req, kind == OP_UNLINK ? FUSE_UNLINK : FUSE_RMDIR, op->a.nodeid, w->q);
        random_child(r, op->name, sizeof(op->name), kind == OP_RMDIR);
        req->in_cnt = 1;
        req->in[0] = NAME(op->name);
        break;

    case OP_RENAME:
        if (!pick_node(st, r, K_DIR, 0, &op->a) || !pick_node(st, r, K_DIR, 0, &op->b))
            return false;
        op->dir_rename = one_in(r, 5);
        op->noreplace = one_in(r, 3);
        random_child(r, op->name, sizeof(op->name), op->dir_rename);
        random_child(r, op->name2, sizeof(op->name2), op->dir_rename);
        req_reset(req, FUSE_RENAME2, op->a.nodeid, w->q);
        op->in.rename = (struct fuse_rename2_in){
            .newdir = op->b.nodeid, .flags = op->noreplace ? RENAME_NOREPLACE : 0,
        };
        req->in_cnt = 3;
        req->in[0] = IN(&op->in.rename, sizeof(op->in.rename));
        req->in[1] = NAME(op->name);
        req->in[2] = NAME(op->name2);
        break;

    case OP_MKDIR:
        if (!pick_node(st, r, K_DIR, 0, &op->a))
            return false;
        req_reset(req, FUSE_MKDIR, op->a.nodeid, w->q);
        random_child(r, op->name, sizeof(op->name), true);
        op->in.mkdir = (struct fuse_mkdir_in){ .mode = 0755 };
        req->in_cnt = 2;
        req->in[0] = IN(&op->in.mkdir, sizeof(op->in.mkdir));
        req->in[1] = NAME(op->name);
        req->out_cnt = 1;
        req->out[0] = OUT(&op->entry, sizeof(op->entry));
        op->want = K_DIR;
        break;

    case OP_OPENDIR:
        if (!(d = pick_dirh(w, false)) || !pick_node(st, r, K_DIR, 4, &op->a))
            return false;
        req_reset(req, FUSE_OPENDIR, op->a.nodeid, w->q);
        op->in.open = (struct fuse_open_in){ .flags = O_RDONLY };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.open, sizeof(op->in.open));
        req->out_cnt = 1;
        req->out[0] = OUT(&op->open, sizeof(op->open));
        *d = (struct dirh){ .used = true, .nodeid = op->a.nodeid };
        op->d = d;
        break;

    case OP_READDIRPLUS:
        if (!(d = pick_dirh(w, true)))
            return false;
        d->busy = true;
        op->d = d;
        ref_now(st, d->nodeid, &op->a);
        req_reset(req, FUSE_READDIRPLUS, d->nodeid, w->q);
        op->in.read = (struct fuse_read_in){ .fh = d->fh, .offset = d->off, .size = READDIR_SIZE };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.read, sizeof(op->in.read));
        op->segs[0] = (struct tc_buf){ .gpa = op->data.gpa, .ptr = op->data.ptr,
                                       .len = READDIR_SIZE };
        req->out_data = op->segs;
        req->out_data_cnt = 1;
        break;

    case OP_RELEASEDIR:
        if (!(d = pick_dirh(w, true)))
            return false;
        d->closing = true;
        op->d = d;
        req_reset(req, FUSE_RELEASEDIR, d->nodeid, w->q);
        op->in.release = (struct fuse_release_in){ .fh = d->fh };
        req->in_cnt = 1;
        req->in[0] = IN(&op->in.release, sizeof(op->in.release));
        break;

    case OP_COUNT:
        return false;
    }
    req->flags = random_shape(r);
    req->user = op;
    return true;
}

/* --- checking replies ------------------------------------------------------ */

static bool err_in(int err, const int *allowed)
{
    for (; *allowed; allowed++)
        if (err == -*allowed)
            return true;
    return false;
}

static void bad_reply(struct worker *w, struct op *op, const char *what)
{
    fail(w->st, "queue %u: %s (nodeid %#llx '%s' '%s' fh %#llx off %llu len %u): %s: %d (%s)",
         w->q, op_info[op->kind].name, (unsigned long long)op->req.nodeid, op->name, op->name2,
         (unsigned long long)op->fh, (unsigned long long)op->off, op->len, what,
         op->req.result, op->req.result < 0 ? g_strerror(-op->req.result) : "bytes");
}

static bool attr_matches(const struct fuse_attr *a, const struct node_ref *ref)
{
    return a->ino == ref->ino && S_ISDIR(a->mode) == ref->dir;
}

/* The READDIRPLUS reply in op->data: every entry is checked and granted. */
static bool check_readdirplus(struct worker *w, struct op *op, int len)
{
    struct tc_dirent ent;
    size_t pos = 0;
    int r;
    bool any = false;

    while ((r = tc_dirent_next(op->data.ptr, (size_t)len, &pos, true, &ent)) == 1) {
        any = true;
        op->d->off = ent.off;
        if (strcmp(ent.name, ".") == 0 || strcmp(ent.name, "..") == 0) {
            if (ent.entry.nodeid && !grant(w->st, &ent.entry, K_DIR, "READDIRPLUS"))
                return false;
            continue;
        }
        enum kind want;
        unsigned idx;
        if (sscanf(ent.name, "f%u", &idx) == 1 && idx < NFILES)
            want = K_FILE;
        else if ((sscanf(ent.name, "s%u", &idx) == 1 && idx < NSUBDIRS) ||
                 (sscanf(ent.name, "d%u", &idx) == 1 && idx < NDIRS))
            want = K_DIR;
        else {
            fail(w->st, "READDIRPLUS: unexpected name '%s'", ent.name);
            return false;
        }
        /* ent.ino may differ from the entry's: the name can be renamed over
         * between the directory listing and the lookup the entry comes from. */
        if (!grant(w->st, &ent.entry, want, "READDIRPLUS"))
            return false;
    }
    if (r < 0) {
        fail(w->st, "READDIRPLUS: malformed record at %zu of %d bytes", pos, len);
        return false;
    }
    if (!any)
        op->d->off = 0; /* at the end: start over next time */
    return true;
}

/* Whose data is it? The inode (of those seen) whose pattern the 8 bytes at off match. */
static uint64_t data_owner(struct stress *st, const uint8_t *p, uint64_t off)
{
    GHashTableIter it;
    gpointer key, value;
    uint64_t owner = 0;
    pthread_mutex_lock(&st->nodes_lock);
    g_hash_table_iter_init(&it, st->nodes);
    while (!owner && g_hash_table_iter_next(&it, &key, &value)) {
        const struct node *n = value;
        if (pat_check(p, n->ino, off, 8) == 8 && pat(n->ino, off) == p[0])
            owner = n->ino;
    }
    pthread_mutex_unlock(&st->nodes_lock);
    return owner;
}

static bool check_data(struct worker *w, struct op *op, int got)
{
    const uint8_t *p = op->data.ptr;
    size_t bad = pat_check(p, op->ino, op->off, (size_t)got);
    if (bad < (size_t)got) {
        size_t word = bad & ~(size_t)7;
        uint64_t owner = word + 8 <= (size_t)got ? data_owner(w->st, p + word, op->off + word) : 0;
        fail(w->st, "queue %u: %s fh %#llx (inode %llu) at %llu, %d of %u bytes in %u "
             "segments: byte %zu is %#x, expected 0 or %#x (inode %llu's data there)", w->q,
             op_info[op->kind].name, (unsigned long long)op->fh, (unsigned long long)op->ino,
             (unsigned long long)op->off, got, op->len, op->req.out_data_cnt, bad, p[bad],
             pat(op->ino, op->off + bad), (unsigned long long)owner);
        return false;
    }
    w->bytes_read += (uint64_t)got;
    return true;
}

/* Checks a completed request and applies its effects. */
static void finish_op(struct worker *w, struct op *op)
{
    static const int lookup_errs[] = { ENOENT, 0 };
    static const int create_errs[] = { ENOENT, 0 };
    static const int create_excl_errs[] = { ENOENT, EEXIST, 0 };
    static const int unlink_errs[] = { ENOENT, 0 };
    static const int rename_errs[] = { ENOENT, 0 };
    static const int rename_nr_errs[] = { ENOENT, EEXIST, 0 };
    static const int rename_dir_errs[] = { ENOENT, EEXIST, ENOTEMPTY, EINVAL, 0 };
    static const int mkdir_errs[] = { ENOENT, EEXIST, 0 };
    static const int rmdir_errs[] = { ENOENT, ENOTEMPTY, EEXIST, 0 };
    static const int fallocate_errs[] = { EOPNOTSUPP, 0 };
    static const int readdir_errs[] = { ENOENT, 0 };
    struct stress *st = w->st;
    int res = op->req.result;
    const int *allowed = NULL;       /* errors the operation may get besides EBADF */
    bool ebadf = false;              /* EBADF explained by a FORGET */

    op->busy = false;
    w->inflight--;
    w->done[op->kind]++;
    if (res < 0)
        w->errors[op->kind]++;
    if (res == -EBADF)
        w->ebadf[op->kind]++;
    if (res == -EPROTO || res == -ETIMEDOUT || res == -EIO) {
        bad_reply(w, op, "malformed reply");
        return;
    }
    if (res == -ESTALE && st->stale_ok && op->a.nodeid)
        res = -EBADF; /* a file handle that no longer opens: same as a forgotten nodeid */

    switch (op->kind) {
    case OP_LOOKUP:
        if (res == (int)sizeof(op->entry)) {
            grant(st, &op->entry, op->want, "LOOKUP");
            return;
        }
        allowed = op->a.nodeid == FUSE_ROOT_ID ? NULL : lookup_errs;
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;

    case OP_GETATTR:
    case OP_SETATTR:
        if (res == (int)sizeof(op->attr)) {
            if (!attr_matches(&op->attr.attr, &op->a))
                fail(st, "%s of nodeid %#llx (inode %llu): attributes of inode %llu mode %o",
                     op_info[op->kind].name, (unsigned long long)op->a.nodeid,
                     (unsigned long long)op->a.ino, (unsigned long long)op->attr.attr.ino,
                     op->attr.attr.mode);
            return;
        }
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;

    case OP_CREATE:
    case OP_OPEN: {
        struct handle *h = op->h;
        size_t want = op->kind == OP_CREATE ? sizeof(op->entry) + sizeof(op->open)
                                            : sizeof(op->open);
        if (res == (int)want) {
            if (op->kind == OP_CREATE) {
                if (!grant(st, &op->entry, K_FILE, "CREATE"))
                    return;
                h->ino = op->entry.attr.ino;
            }
            h->fh = op->open.fh;
            if (one_in(&w->rng, 3) && share_handle(st, &w->rng, h->fh, h->ino)) {
                h->used = false;
            } else {
                h->opened = true;
            }
            return;
        }
        h->used = false;
        if (op->kind == OP_CREATE)
            allowed = op->excl ? create_excl_errs : create_errs;
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;
    }

    case OP_READ:
        op->h->busy--;
        if (res >= 0 && res <= (int)op->len) {
            check_data(w, op, res);
            return;
        }
        break;

    case OP_READ_SHARED:
        if (res >= 0 && res <= (int)op->len) {
            check_data(w, op, res);
            return;
        }
        if (res == -EBADF) {
            /* fine once its RELEASE was sent */
            pthread_mutex_lock(&st->sh_lock);
            const struct shandle *s = &st->shared[op->sh];
            ebadf = s->seq != op->sh_seq || s->state != SH_OPEN;
            pthread_mutex_unlock(&st->sh_lock);
            if (ebadf) {
                w->ebadf_races++;
                return;
            }
        }
        break;

    case OP_READ_DEAD:
        if (res == -EBADF)
            return;
        bad_reply(w, op, "a released handle must give EBADF");
        return;

    case OP_WRITE:
        op->h->busy--;
        if (res == (int)sizeof(op->wout) && op->wout.size == op->len) {
            w->bytes_written += op->len;
            return;
        }
        break;

    case OP_RELEASE:
        if (res == 0) {
            op->h->used = false;
            pthread_mutex_lock(&st->sh_lock);
            dead_add(st, op->fh);
            pthread_mutex_unlock(&st->sh_lock);
            return;
        }
        break;

    case OP_RELEASE_SHARED:
        if (res == 0) {
            pthread_mutex_lock(&st->sh_lock);
            st->shared[op->sh].state = SH_FREE;
            st->shared[op->sh].seq++;
            dead_add(st, op->fh);
            pthread_mutex_unlock(&st->sh_lock);
            return;
        }
        break;

    case OP_FLUSH:
    case OP_FSYNC:
    case OP_FALLOCATE:
        op->h->busy--;
        if (res == 0)
            return;
        if (op->kind == OP_FALLOCATE)
            allowed = fallocate_errs;
        break;

    case OP_UNLINK:
    case OP_RMDIR:
        if (res == 0)
            return;
        allowed = op->kind == OP_UNLINK ? unlink_errs : rmdir_errs;
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;

    case OP_RENAME:
        if (res == 0)
            return;
        allowed = op->dir_rename ? rename_dir_errs : op->noreplace ? rename_nr_errs : rename_errs;
        ebadf = res == -EBADF && (ebadf_ok(st, &op->a) || ebadf_ok(st, &op->b));
        break;

    case OP_MKDIR:
        if (res == (int)sizeof(op->entry)) {
            grant(st, &op->entry, K_DIR, "MKDIR");
            return;
        }
        allowed = mkdir_errs;
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;

    case OP_OPENDIR:
        if (res == (int)sizeof(op->open)) {
            op->d->fh = op->open.fh;
            op->d->opened = true;
            return;
        }
        op->d->used = false;
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;

    case OP_READDIRPLUS:
        op->d->busy = false;
        if (res >= 0 && res <= (int)READDIR_SIZE) {
            check_readdirplus(w, op, res);
            return;
        }
        /* ENOENT: the directory was removed (the host lists a removed
         * directory that way too). EBADF: its inode is looked up by nodeid
         * for the entries. */
        allowed = readdir_errs;
        ebadf = res == -EBADF && ebadf_ok(st, &op->a);
        break;

    case OP_RELEASEDIR:
        if (res == 0) {
            op->d->used = false;
            return;
        }
        break;

    case OP_COUNT:
        break;
    }

    if (ebadf) {
        w->ebadf_races++;
        return;
    }
    if (res < 0 && allowed && err_in(res, allowed))
        return;
    bad_reply(w, op, res < 0 ? "unexpected error" : "unexpected reply size");
}

/* --- request queue threads ------------------------------------------------- */

static enum op_kind random_kind(struct rng *r)
{
    static unsigned total;
    if (!__atomic_load_n(&total, __ATOMIC_RELAXED)) {
        unsigned t = 0;
        for (unsigned k = 0; k < OP_COUNT; k++)
            t += op_info[k].weight;
        __atomic_store_n(&total, t, __ATOMIC_RELAXED);
    }
    unsigned x = rnd_below(r, __atomic_load_n(&total, __ATOMIC_RELAXED));
    for (unsigned k = 0; k < OP_COUNT; k++) {
        if (x < op_info[k].weight)
            return (enum op_kind)k;
        x -= op_info[k].weight;
    }
    return OP_LOOKUP;
}

static struct op *free_op(struct worker *w)
{
    for (unsigned i = 0; i < SLOTS; i++)
        if (!w->ops[i].busy)
            return &w->ops[i];
    return NULL;
}

/* Submits one random request; false when nothing could be built or sent. */
static bool submit_random(struct worker *w)
{
    struct op *op = free_op(w);
    if (!op)
        return false;
    for (unsigned tries = 0; tries < 8; tries++) {
        /* The last queue's thread is the main releaser of shared handles:
         * its RELEASEs race the READs the other threads send on them. */
        enum op_kind kind = w->q == NQ && one_in(&w->rng, 6) ? OP_RELEASE_SHARED
                                                             : random_kind(&w->rng);
        if (!build_op(w, op, kind))
            continue;
        int r = tc_fuse_submit(w->st->dev, &op->req);
        if (r < 0) {
            fail(w->st, "queue %u: submitting %s: %s", w->q, op_info[op->kind].name,
                 g_strerror(-r));
            return false;
        }
        op->busy = true;
        w->inflight++;
        return true;
    }
    return false;
}

/* Submits the release of an idle handle; used to close everything at the end. */
static bool submit_kind(struct worker *w, enum op_kind kind)
{
    struct op *op = free_op(w);
    if (!op || !build_op(w, op, kind))
        return false;
    int r = tc_fuse_submit(w->st->dev, &op->req);
    if (r < 0) {
        fail(w->st, "queue %u: submitting %s: %s", w->q, op_info[op->kind].name, g_strerror(-r));
        return false;
    }
    op->busy = true;
    w->inflight++;
    return true;
}

static int kick(struct worker *w)
{
    int r = tc_fuse_kick(w->st->dev, w->q);
    if (r < 0)
        fail(w->st, "queue %u: kick: %s", w->q, g_strerror(-r));
    return r;
}

/* Reaps what completed (waiting up to timeout_ms); false on a transport failure. */
static bool reap(struct worker *w, int timeout_ms)
{
    struct tc_fuse_req *done[SLOTS];
    uint64_t t0 = clock_now_ns();
    int n = tc_fuse_reap(w->st->dev, w->q, done, SLOTS, timeout_ms);
    uint64_t now = clock_now_ns();
    /* The wait ran out, yet completions were there: no notification came. */
    if (n > 0 && timeout_ms > 0 && now - t0 >= (uint64_t)timeout_ms * 1000000ull)
        w->late_wakeups++;
    if (n == -ETIMEDOUT || n == 0) {
        if (w->inflight && now - w->last_progress_ns > STALL_NS) {
            const struct tc_vq *vq = &w->st->dev->vqs[w->q];
            fail(w->st, "queue %u: %u requests without a reply for %llu s (published %u, "
                 "avail_event %u, used %u, reaped %u, kicks %llu, suppressed %llu)", w->q,
                 w->inflight, (unsigned long long)(STALL_NS / NS_PER_SEC), vq->published_idx,
                 __atomic_load_n(tc_vq_avail_event((struct tc_vq *)vq), __ATOMIC_RELAXED),
                 __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE), vq->last_used,
                 (unsigned long long)vq->kicks, (unsigned long long)vq->kicks_suppressed);
            return false;
        }
        return true;
    }
    if (w->inflight && now - w->last_progress_ns > w->max_gap_ns)
        w->max_gap_ns = now - w->last_progress_ns;
    if (n < 0) {
        fail(w->st, "queue %u: reaping: %s (used ring broken?)", w->q, g_strerror(-n));
        return false;
    }
    w->last_progress_ns = now;
    for (int i = 0; i < n; i++) {
        struct op *op = done[i]->user;
        if (!op->busy) {
            fail(w->st, "queue %u: completion for a request not in flight", w->q);
            return false;
        }
        finish_op(w, op);
    }
    return true;
}

/*
 * Stops the queue with GET_VRING_BASE while requests are in flight, checks
 * that the stop completed exactly the popped requests, leaves new requests
 * in the ring while it is stopped, and restarts it where it stopped.
 */
static void stop_and_restart(struct worker *w)
{
    struct stress *st = w->st;
    struct tc_vq *vq = &st->dev->vqs[w->q];
    uint32_t base = 0;

    for (unsigned tries = 0; w->inflight < SLOTS && tries < 1000; tries++)
        submit_random(w);
    if (kick(w) < 0)
        return;
    if (one_in(&w->rng, 2))
        g_usleep(rnd_below(&w->rng, 300));

    pthread_mutex_lock(&st->ctl_lock);
    uint16_t published = vq->published_idx;
    uint16_t used_before = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
    unsigned inflight = w->inflight;
    int r = tc_dev_queue_stop(st->dev, w->q, &base);
    if (r < 0) {
        pthread_mutex_unlock(&st->ctl_lock);
        fail(st, "queue %u: GET_VRING_BASE: %s", w->q, g_strerror(-r));
        return;
    }
    uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
    uint16_t pending = (uint16_t)(published - base);
    if (base > 0xffff || base != used || pending > inflight) {
        pthread_mutex_unlock(&st->ctl_lock);
        fail(st, "queue %u: stopped at base %u with used index %u (%u published, %u in flight)",
             w->q, base, used, published, inflight);
        return;
    }
    w->stop_inflight = inflight;
    w->stop_pending = pending;
    w->stop_completed = (uint16_t)(used - used_before);
    w->stop_base = (uint16_t)base;

    /* Every popped request is answered; the others wait in the ring. */
    for (unsigned before = ~0u; w->inflight > pending && w->inflight != before && !failed(st);) {
        before = w->inflight;
        if (!reap(w, 0))
            break;
    }
    if (w->inflight != pending) {
        pthread_mutex_unlock(&st->ctl_lock);
        fail(st, "queue %u: after the stop at %u, %u requests in flight, %u not popped", w->q,
             base, w->inflight, pending);
        return;
    }
    /* Nothing may complete while the queue is stopped, including what is added now. */
    for (unsigned i = 0; i < 4; i++)
        submit_random(w);
    tc_vq_publish(vq);
    g_usleep(20000);
    if (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != used) {
        pthread_mutex_unlock(&st->ctl_lock);
        fail(st, "queue %u: used entries appeared while it was stopped", w->q);
        return;
    }
    r = tc_dev_queue_start(st->dev, w->q, false, (uint16_t)base);
    pthread_mutex_unlock(&st->ctl_lock);
    if (r < 0)
        fail(st, "queue %u: restarting at %u: %s", w->q, base, g_strerror(-r));
    w->last_progress_ns = clock_now_ns();
}

/*
 * Removes the guest memory region only slot 0 of this thread uses and adds
 * it again (REM_MEM_REG / ADD_MEM_REG) while requests run, then sends a
 * request from slot 0 at once: its descriptors lie in the region the
 * daemon has just acknowledged, and it must be served. In between, the
 * daemon's queue thread is given time to switch to the map without the
 * region, and then work to be busy with when the region comes back, so it
 * is in the middle of serving requests when it meets the new one.
 */
static void churn_memory(struct worker *w)
{
    struct stress *st = w->st;
    struct op *slot0 = &w->ops[0];

    pthread_mutex_lock(&st->ctl_lock);
    int r = tc_dev_rem_mem_reg(st->dev, CHURN_REGION);
    if (r == 0) {
        g_usleep(20000);
        slot0->busy = true; /* keep it for the request in the region */
        for (unsigned i = 0; i < 16; i++)
            submit_random(w);
        slot0->busy = false;
        kick(w);
        r = tc_dev_add_mem_reg(st->dev, CHURN_REGION);
    }
    pthread_mutex_unlock(&st->ctl_lock);
    if (r < 0) {
        fail(st, "queue %u: removing and adding memory region %u: %s", w->q, CHURN_REGION,
             g_strerror(-r));
        return;
    }
    w->churns++;
    if (!submit_random(w) || kick(w) < 0)
        return;
    uint64_t t0 = clock_now_ns();
    while (slot0->busy && !failed(st) && reap(w, 100)) {
        if (clock_now_ns() - t0 > 10 * NS_PER_SEC) {
            fail(st, "queue %u: no reply in 10 s to a request in memory region %u, added "
                 "again just before it was sent", w->q, CHURN_REGION);
            return;
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct stress *st = w->st;

    w->last_progress_ns = clock_now_ns();
    while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
        if (!w->stopped && clock_now_ns() >= w->stop_at_ns) {
            w->stopped = true;
            stop_and_restart(w);
            continue;
        }
        /* keep a random, mostly high, number of requests in flight */
        unsigned target = SLOTS / 2 + rnd_below(&w->rng, SLOTS / 2 + 1);
        while (w->inflight < target && submit_random(w))
            ;
        if (kick(w) < 0 || !reap(w, 100))
            break;
        if (w->q == CHURN_QUEUE && !w->ops[0].busy && clock_now_ns() >= w->next_churn_ns) {
            churn_memory(w);
            w->next_churn_ns = clock_now_ns() + CHURN_NS;
        }
    }

    /* Drain, then close what this thread still has open. */
    for (int round = 0; round < 2 && !failed(st); round++) {
        while (w->inflight && reap(w, 100))
            ;
        if (round == 0) {
            for (unsigned i = 0; i < MAX_PRIVATE; i++)
                submit_kind(w, OP_RELEASE);
            for (unsigned i = 0; i < MAX_DIRH; i++)
                submit_kind(w, OP_RELEASEDIR);
            kick(w);
        }
    }
    if (!failed(st)) {
        for (unsigned i = 0; i < MAX_PRIVATE; i++)
            if (w->handles[i].used)
                fail(st, "queue %u: handle %#llx still open at the end", w->q,
                     (unsigned long long)w->handles[i].fh);
        for (unsigned i = 0; i < MAX_DIRH; i++)
            if (w->dirs[i].used)
                fail(st, "queue %u: directory handle still open at the end", w->q);
    }
    return NULL;
}

/* --- the FORGET thread ----------------------------------------------------- */

static bool forget_submit(struct forgetter *fg, struct fop *op)
{
    struct stress *st = fg->st;
    struct rng *r = &fg->rng;
    unsigned want = one_in(r, 2) ? 1 : 2 + rnd_below(r, BATCH_MAX / 2);
    unsigned n = 0;

    pthread_mutex_lock(&st->nodes_lock);
    while (n < want && st->live->len) {
        struct node *node = g_ptr_array_index(st->live, rnd_below(r, st->live->len));
        /* a third of the time everything, else a random part */
        uint64_t take = one_in(r, 3) ? node->count : 1 + rnd(r) % node->count;
        node->count -= take;
        if (node->count == 0) {
            node->zero_epoch++;
            live_remove(st, node);
        }
        op->items[n++] = (struct fuse_forget_one){ .nodeid = node->nodeid, .nlookup = take };
        fg->nlookups += take;
    }
    pthread_mutex_unlock(&st->nodes_lock);
    if (n == 0)
        return false;

    struct tc_fuse_req *req = &op->req;
    if (n == 1) {
        req_reset(req, FUSE_FORGET, op->items[0].nodeid, 0);
        op->one.nlookup = op->items[0].nlookup;
        req->in_cnt = 1;
        req->in[0] = IN(&op->one, sizeof(op->one));
        fg->forgets++;
    } else {
        req_reset(req, FUSE_BATCH_FORGET, 0, 0);
        op->batch = (struct fuse_batch_forget_in){ .count = n };
        req->in_cnt = 2;
        req->in[0] = IN(&op->batch, sizeof(op->batch));
        req->in[1] = IN(op->items, n * sizeof(op->items[0]));
        fg->batches++;
    }
    req->flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY | (one_in(r, 4) ? TC_FUSE_INDIRECT : 0);
    req->user = op;
    int e = tc_fuse_submit(st->dev, req);
    if (e < 0) {
        fail(st, "hiprio queue: submitting a FORGET: %s", g_strerror(-e));
        return false;
    }
    op->busy = true;
    fg->inflight++;
    return true;
}

/* Reaps completed FORGETs; returns how many, or -1 after a failure. */
static int forget_reap(struct forgetter *fg, int timeout_ms)
{
    struct tc_fuse_req *done[FORGET_SLOTS];
    int n = tc_fuse_reap(fg->st->dev, 0, done, FORGET_SLOTS, timeout_ms);
    if (n == -ETIMEDOUT)
        return 0;
    if (n < 0) {
        fail(fg->st, "hiprio queue: reaping: %s", g_strerror(-n));
        return -1;
    }
    for (int i = 0; i < n; i++) {
        struct fop *op = done[i]->user;
        if (op->req.result != 0) {
            fail(fg->st, "hiprio queue: %s got a reply (used length %u)",
                 op->req.opcode == FUSE_FORGET ? "FORGET" : "BATCH_FORGET", op->req.used_len);
            return -1;
        }
        op->busy = false;
        fg->inflight--;
    }
    return n;
}

static void *forgetter_main(void *arg)
{
    struct forgetter *fg = arg;
    struct stress *st = fg->st;
    uint64_t progress = clock_now_ns();
    bool draining = false;

    for (;;) {
        draining = draining || __atomic_load_n(&st->forget_stop, __ATOMIC_ACQUIRE);
        if (draining && (!fg->inflight || failed(st)))
            break;
        unsigned burst = draining ? 0 : 1 + rnd_below(&fg->rng, 4);
        for (unsigned i = 0; i < FORGET_SLOTS && burst; i++)
            if (!fg->ops[i].busy && forget_submit(fg, &fg->ops[i]))
                burst--;
        if (tc_fuse_kick(st->dev, 0) < 0) {
            fail(st, "hiprio queue: kick failed");
            break;
        }
        int n = forget_reap(fg, draining || fg->inflight == FORGET_SLOTS ? 100 : 0);
        if (n < 0)
            break;
        uint64_t now = clock_now_ns();
        if (n > 0 || !fg->inflight) {
            progress = now;
        } else if (now - progress > STALL_NS) {
            fail(st, "hiprio queue: %u FORGETs without a used entry for %llu s", fg->inflight,
                 (unsigned long long)(STALL_NS / NS_PER_SEC));
            break;
        }
        if (!draining)
            g_usleep(100 + rnd_below(&fg->rng, 1500));
    }
    return NULL;
}

/* --- setup and the final checks ------------------------------------------- */

static void make_tree(struct fx *f, struct rng *r)
{
    for (unsigned d = 0; d < NDIRS; d++) {
        char dname[16];
        snprintf(dname, sizeof(dname), "d%u", d);
        g_assert_cmpint(mkdirat(f->share_fd, dname, 0755), ==, 0);
        int dfd = openat(f->share_fd, dname, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(dfd, >=, 0);
        for (unsigned i = 0; i < NFILES; i += 2) {
            char fname[16];
            snprintf(fname, sizeof(fname), "f%u", i);
            int fd = openat(dfd, fname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            g_assert_cmpint(fd, >=, 0);
            struct stat sb;
            g_assert_cmpint(fstat(fd, &sb), ==, 0);
            size_t len = BLOCK * rnd_below(r, FILE_MAX / BLOCK + 1);
            g_autofree uint8_t *buf = g_malloc(len + 1);
            pat_fill(buf, sb.st_ino, 0, len);
            g_assert_cmpint(pwrite(fd, buf, len, 0), ==, (ssize_t)len);
            close(fd);
        }
        g_assert_cmpint(mkdirat(dfd, "s0", 0755), ==, 0);
        close(dfd);
    }
}

/* Every regular file in the share holds its own pattern or zeros. */
static void check_tree(int parent_fd, const char *path, unsigned *files)
{
    int fd = openat(parent_fd, path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    DIR *dir = fdopendir(fd);
    g_assert_nonnull(dir);
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat sb;
        g_assert_cmpint(fstatat(dirfd(dir), de->d_name, &sb, AT_SYMLINK_NOFOLLOW), ==, 0);
        if (S_ISDIR(sb.st_mode)) {
            check_tree(dirfd(dir), de->d_name, files);
            continue;
        }
        g_assert_true(S_ISREG(sb.st_mode));
        int ffd = openat(dirfd(dir), de->d_name, O_RDONLY | O_CLOEXEC);
        g_assert_cmpint(ffd, >=, 0);
        g_autofree uint8_t *buf = g_malloc((size_t)sb.st_size + 1);
        g_assert_cmpint(pread(ffd, buf, (size_t)sb.st_size, 0), ==, sb.st_size);
        close(ffd);
        size_t bad = pat_check(buf, sb.st_ino, 0, (size_t)sb.st_size);
        if (bad < (size_t)sb.st_size)
            g_error("host file %s/%s (inode %llu): byte %zu is %#x, expected 0 or %#x", path,
                    de->d_name, (unsigned long long)sb.st_ino, bad, buf[bad],
                    pat(sb.st_ino, bad));
        (*files)++;
    }
    closedir(dir);
}

static unsigned count_lines(const char *path, const char *needle)
{
    g_autofree char *log = NULL;
    unsigned n = 0;
    if (!g_file_get_contents(path, &log, NULL, NULL))
        return 0;
    for (const char *p = log; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Asks for statistics and returns the inode and handle counts of the new line. */
static void daemon_counts(struct fx *f, unsigned long long *inodes, unsigned long long *handles)
{
    static const char needle[] = "filesystem: ";
    unsigned before = count_lines(f->log, needle);
    g_assert_cmpint(kill(f->pid, SIGUSR1), ==, 0);
    uint64_t deadline = clock_now_ns() + 10 * NS_PER_SEC;
    while (count_lines(f->log, needle) <= before) {
        g_assert_cmpuint(clock_now_ns(), <, deadline);
        g_usleep(20000);
    }
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(f->log, &log, NULL, NULL));
    const char *last = NULL;
    for (const char *p = log; (p = strstr(p, needle)); p++)
        last = p;
    g_assert_cmpint(sscanf(last, "filesystem: %llu inodes, %llu open handles", inodes, handles),
                    ==, 2);
}

static unsigned stress_seconds(void)
{
    const char *s = g_getenv("VFSD_STRESS_SECONDS");
    unsigned v = s ? (unsigned)atoi(s) : 0;
    return v ? v : 12;
}

static void test_stress(struct fx *f, gconstpointer data)
{
    if (!f->dev) {
        g_test_skip("the daemon does not offer 4 request queues");
        return;
    }
    struct stress *st = g_new0(struct stress, 1);
    struct rng rng = { .s = ((uint64_t)g_test_rand_int() << 32 | g_test_rand_int()) | 1 };
    unsigned seconds = stress_seconds();

    st->f = f;
    st->dev = f->dev;
    st->stale_ok = g_strcmp0(g_getenv("VFSD_STRESS_STALE_OK"), "1") == 0;
    pthread_mutex_init(&st->nodes_lock, NULL);
    pthread_mutex_init(&st->sh_lock, NULL);
    pthread_mutex_init(&st->ctl_lock, NULL);
    pthread_mutex_init(&st->fail_lock, NULL);
    st->nodes = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    st->inos = g_hash_table_new(g_int64_hash, g_int64_equal);
    st->live = g_ptr_array_new();
    struct node *root = g_new0(struct node, 1);
    root->nodeid = FUSE_ROOT_ID;
    root->dir = true;
    root->live = -1;
    struct fuse_attr_out ra;
    g_assert_cmpint(tc_fuse_getattr(f->dev, FUSE_ROOT_ID, 0, 0, &ra), ==, 0);
    root->ino = ra.attr.ino;
    g_hash_table_insert(st->nodes, &root->nodeid, root);

    make_tree(f, &rng);
    for (unsigned d = 0; d < NDIRS; d++) {
        char name[16];
        struct fuse_entry_out e;
        snprintf(name, sizeof(name), "d%u", d);
        g_assert_cmpint(tc_fuse_lookup(f->dev, FUSE_ROOT_ID, name, &e), ==, 0);
        g_assert_true(grant(st, &e, K_DIR, "LOOKUP"));
    }

    uint64_t start = clock_now_ns();
    uint64_t end = start + seconds * NS_PER_SEC;
    /* Slot 0 of CHURN_QUEUE's thread lives in CHURN_REGION, alone. */
    const struct tc_mem_region *churn = tc_mem_region(f->dev->mem, CHURN_REGION);
    g_assert_nonnull(churn);
    struct op *churn_op = &st->workers[CHURN_QUEUE - 1].ops[0];
    g_assert_cmpint(tc_buf_alloc_at(f->dev->mem, churn->gpa, 8192, 0, &churn_op->req.scratch),
                    ==, 0);
    g_assert_cmpint(tc_buf_alloc_at(f->dev->mem, churn->gpa + 8192, IO_MAX, 0, &churn_op->data),
                    ==, 0);
    for (unsigned i = 0; i < NQ; i++) {
        struct worker *w = &st->workers[i];
        w->st = st;
        w->q = 1 + i;
        w->rng.s = rnd(&rng) | 1;
        /* the queues stop one after the other, spread over the run */
        w->stop_at_ns = start + (i + 1) * (end - start) / (NQ + 1);
        for (unsigned k = 0; k < SLOTS; k++) {
            if (&w->ops[k] == churn_op)
                continue;
            g_assert_cmpint(tc_fuse_req_init(f->dev, &w->ops[k].req, 0), ==, 0);
            g_assert_cmpint(tc_buf_alloc(f->dev->mem, IO_MAX, 64, 0, &w->ops[k].data), ==, 0);
            g_assert_cmpuint(w->ops[k].data.gpa + IO_MAX, <=, churn->gpa);
        }
    }
    st->forgetter.st = st;
    st->forgetter.rng.s = rnd(&rng) | 1;
    for (unsigned k = 0; k < FORGET_SLOTS; k++) {
        g_assert_cmpint(tc_fuse_req_init(f->dev, &st->forgetter.ops[k].req, 0), ==, 0);
        g_assert_cmpuint(st->forgetter.ops[k].req.scratch.gpa, <, churn->gpa);
    }

    g_test_message("%u s, seed %#llx", seconds, (unsigned long long)rng.s);
    g_assert_cmpint(pthread_create(&st->forgetter.thread, NULL, forgetter_main, &st->forgetter),
                    ==, 0);
    for (unsigned i = 0; i < NQ; i++)
        g_assert_cmpint(pthread_create(&st->workers[i].thread, NULL, worker_main,
                                       &st->workers[i]), ==, 0);

    /* Statistics while the queues are busy: they are read from other threads. */
    unsigned stats_sent = 0;
    while (!failed(st) && clock_now_ns() < end) {
        g_usleep(50000);
        if (stats_sent < 2 && clock_now_ns() > start + (stats_sent + 1) * (end - start) / 3) {
            kill(f->pid, SIGUSR1);
            stats_sent++;
        }
    }
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < NQ; i++)
        pthread_join(st->workers[i].thread, NULL);
    __atomic_store_n(&st->forget_stop, 1, __ATOMIC_RELEASE);
    pthread_join(st->forgetter.thread, NULL);
    double elapsed = (double)(clock_now_ns() - start) / 1e9;

    /* What ran. */
    uint64_t total = 0, errors = 0, races = 0, rbytes = 0, wbytes = 0;
    GString *ops = g_string_new(NULL);
    for (unsigned k = 0; k < OP_COUNT; k++) {
        uint64_t n = 0, e = 0, b = 0;
        for (unsigned i = 0; i < NQ; i++) {
            n += st->workers[i].done[k];
            e += st->workers[i].errors[k];
            b += st->workers[i].ebadf[k];
        }
        total += n;
        errors += e;
        g_string_append_printf(ops, " %s %llu/%llu/%llu", op_info[k].name, (unsigned long long)n,
                               (unsigned long long)e, (unsigned long long)b);
    }
    for (unsigned i = 0; i < NQ; i++) {
        struct worker *w = &st->workers[i];
        races += w->ebadf_races;
        rbytes += w->bytes_read;
        wbytes += w->bytes_written;
        uint64_t n = 0;
        for (unsigned k = 0; k < OP_COUNT; k++)
            n += w->done[k];
        g_test_message("queue %u: %llu requests, longest wait %llu ms, %llu wakeups by timeout "
                       "with completions pending; stopped at base %u with %u in flight: %u "
                       "completed while stopping, %u not popped yet", w->q,
                       (unsigned long long)n, (unsigned long long)(w->max_gap_ns / 1000000),
                       (unsigned long long)w->late_wakeups, w->stop_base, w->stop_inflight,
                       w->stop_completed, w->stop_pending);
    }
    g_test_message("%llu requests in %.1f s (%.0f/s), %llu errors, %llu EBADF from FORGET or "
                   "RELEASE races; %.1f MiB read, %.1f MiB written",
                   (unsigned long long)total, elapsed, (double)total / elapsed,
                   (unsigned long long)errors, (unsigned long long)races,
                   (double)rbytes / 1048576.0, (double)wbytes / 1048576.0);
    g_test_message("requests/errors/EBADF:%s", ops->str);
    g_test_message("memory region %u removed and added again %u times, each followed at once "
                   "by a request using it", CHURN_REGION, st->workers[CHURN_QUEUE - 1].churns);
    g_test_message("hiprio: %llu FORGET, %llu BATCH_FORGET, %llu lookups forgotten of %llu granted",
                   (unsigned long long)st->forgetter.forgets,
                   (unsigned long long)st->forgetter.batches,
                   (unsigned long long)st->forgetter.nlookups, (unsigned long long)st->grants);
    g_string_free(ops, TRUE);

    if (failed(st)) {
        g_test_message("FAILED: %s", st->fail_msg);
        g_test_fail();
        return; /* the fixture stops the daemon and shows its log */
    }
    for (unsigned i = 0; i < NQ; i++) {
        struct worker *w = &st->workers[i];
        g_assert_true(w->stopped);
        g_assert_cmpuint(w->inflight, ==, 0);
        g_assert_cmpuint(st->dev->vqs[w->q].inflight, ==, 0);
    }
    g_assert_cmpuint(total, >, 1000);

    /* Release the shared handles left, forget every lookup left. */
    for (unsigned i = 0; i < NSHARED; i++) {
        struct shandle *s = &st->shared[i];
        g_assert_cmpint(s->state, !=, SH_RELEASING);
        if (s->state == SH_OPEN)
            g_assert_cmpint(tc_fuse_release(f->dev, 0, s->fh, O_RDWR), ==, 0);
    }
    GArray *items = g_array_new(FALSE, FALSE, sizeof(struct fuse_forget_one));
    while (st->live->len) {
        struct node *n = g_ptr_array_index(st->live, st->live->len - 1);
        struct fuse_forget_one one = { .nodeid = n->nodeid, .nlookup = n->count };
        g_array_append_val(items, one);
        n->count = 0;
        live_remove(st, n);
    }
    for (guint i = 0; i < items->len; i += 256) {
        guint cnt = MIN(256u, items->len - i);
        g_assert_cmpint(tc_fuse_batch_forget(f->dev, &g_array_index(items, struct fuse_forget_one, i),
                                             cnt), ==, 0);
    }
    g_test_message("%u nodeids forgotten at the end", items->len);
    g_array_free(items, TRUE);

    unsigned long long inodes = 0, handles = 0;
    daemon_counts(f, &inodes, &handles);
    g_test_message("daemon: %llu inodes, %llu open handles", inodes, handles);
    g_assert_cmpuint(inodes, ==, 1);
    g_assert_cmpuint(handles, ==, 0);

    unsigned files = 0;
    check_tree(f->share_fd, ".", &files);
    g_test_message("%u host files hold only their pattern and zeros", files);

    /* Disconnecting ends the daemon, successfully. */
    for (unsigned i = 0; i < NQ; i++)
        for (unsigned k = 0; k < SLOTS; k++) {
            tc_fuse_req_done(f->dev, &st->workers[i].ops[k].req);
            tc_buf_free(f->dev->mem, &st->workers[i].ops[k].data);
        }
    for (unsigned k = 0; k < FORGET_SLOTS; k++)
        tc_fuse_req_done(f->dev, &st->forgetter.ops[k].req);
    tc_dev_free(f->dev);
    f->dev = NULL;
    int status = 0;
    char buf[64];
    g_assert_cmpint(tc_daemon_wait_exit(f->pid, 30000, &status), ==, 0);
    f->pid = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_test_message("daemon %s after the disconnect", tc_wstatus_str(status, buf, sizeof(buf)));
        g_test_fail(); /* the fixture shows its log */
    }

    g_ptr_array_free(st->live, TRUE);
    g_hash_table_destroy(st->inos);
    g_hash_table_destroy(st->nodes);
    pthread_mutex_destroy(&st->nodes_lock);
    pthread_mutex_destroy(&st->sh_lock);
    pthread_mutex_destroy(&st->ctl_lock);
    pthread_mutex_destroy(&st->fail_lock);
    g_free(st);
}

static const struct fx_variant four_queues = {
    .cfg = {
        .num_request_queues = NQ,
        .queue_size = 1024,
        .mem_size = 128ull << 20,
        .mem_regions = NREGIONS,
        .flags = TC_CFG_MEM_SLOTS, /* regions come and go with ADD/REM_MEM_REG */
        .timeout_ms = 30000,
    },
};

int main(int argc, char **argv)
{
    fx_require_daemon(argc, argv);
    g_test_init(&argc, &argv, NULL);
    g_test_add("/stress/queues-forget-release", struct fx, &four_queues, fx_setup, test_stress,
               fx_teardown);
    return g_test_run();
}

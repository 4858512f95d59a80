/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A queue thread driving one request queue of a daemon contender: `depth`
 * request slots kept in flight, submitted in batches with one kick, reaped
 * and resubmitted. Nothing is allocated per request: each slot owns its
 * request object (with its guest scratch) and its guest data buffers.
 *
 * A read slot alternates between two data buffers, so the next READ is
 * already in flight while the previous one's data is being checked: the
 * check costs the benchmark's CPU, not the daemon's latency.
 *
 * Multi-request operations (create-unlink, readdirplus) walk a small state
 * machine per slot; their latency spans the whole chain. After the window
 * closes no new operation starts, but chains in flight finish, so nothing
 * is left open or created.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "contrib/bench/bench.h"

enum step {
    ST_READ, ST_WRITE, ST_LOOKUP, ST_GETATTR,
    ST_CREATE, ST_RELEASE, ST_UNLINK, ST_FORGET,
    ST_OPENDIR, ST_READDIR, ST_RELEASEDIR,
};

struct slot {
    struct tc_fuse_req req;
    struct tc_buf buf[2];
    unsigned cur;             /* buffer of the request in flight */
    enum step step;
    uint64_t t_op;            /* start of the operation (first request) */
    uint64_t off;             /* READ / WRITE offset */
    uint64_t seed;            /* pattern seed of the file it reads */
    bool is_write;
    union {
        struct fuse_read_in read;
        struct fuse_write_in write;
        struct fuse_getattr_in getattr;
        struct fuse_create_in create;
        struct fuse_release_in release;
        struct fuse_open_in open;
        struct fuse_forget_in forget;
    } in;                     /* copied into guest memory at submission */
    struct fuse_write_out wout;
    struct fuse_entry_out entry;
    struct fuse_open_out oout;
    struct fuse_attr_out attr; /* out args: copied here at completion */
    char name[64];
    uint64_t nodeid, fh, dir_off, entries;
    unsigned index;
    uint64_t serial;
};

/* A READ whose data is checked after the next batch went out. */
struct pending_check {
    const void *ptr;
    uint32_t len;
    uint64_t off, seed;
    bool write_file;
};

/*
 * Lookup counts the daemon holds for us (LOOKUP, READDIRPLUS entries),
 * returned with BATCH_FORGET once the table is half full or a million
 * lookups are pending: counts stay bounded, while the daemon keeps its
 * inodes across operations as it does for a guest whose dentry cache holds
 * them (forgetting after every listing would measure re-creating 10,000
 * inodes instead).
 */
#define FORGET_CAP 32768u
#define FORGET_BATCH 256u
#define FORGET_MAX_TOTAL (1u << 20)

struct forget_tab {
    uint64_t key[FORGET_CAP];
    uint64_t cnt[FORGET_CAP];
    unsigned used;
    uint64_t total;
};

struct fdrv {
    struct bench_worker *w;
    const struct bench_cfg *cfg;
    const struct bench_job *job;
    struct bench_contender *c;
    struct tc_dev *dev;
    unsigned vq;
    uint32_t open_flags;
    uint64_t rng;
    uint64_t seq_next, seq_lo, seq_hi;
    uint64_t serial;
    struct slot *slots;
    struct pending_check *checks;
    unsigned nchecks;
    struct forget_tab *forgets;
};

#define IN(p, l)  ((struct tc_fuse_in_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define OUT(p, l) ((struct tc_fuse_out_arg){ .ptr = (p), .len = (uint32_t)(l) })

/* --- forgets ------------------------------------------------------------------ */

static void forget_add(struct fdrv *d, uint64_t nodeid)
{
    struct forget_tab *t = d->forgets;
    uint64_t h = nodeid * 0x9e3779b97f4a7c15ull;
    for (unsigned i = 0;; i++) {
        unsigned k = (unsigned)((h >> 40) + i) & (FORGET_CAP - 1);
        if (t->key[k] == nodeid) {
            t->cnt[k]++;
            break;
        }
        if (t->key[k] == 0) {
            t->key[k] = nodeid;
            t->cnt[k] = 1;
            t->used++;
            break;
        }
    }
    t->total++;
}

static bool forget_due(const struct fdrv *d)
{
    return d->forgets->used >= FORGET_CAP / 2 || d->forgets->total >= FORGET_MAX_TOTAL;
}

/* Sends what the table holds on the hiprio queue (shared by the queue
 * threads, hence the lock), as a guest would when it drops inodes. */
static int forget_flush(struct fdrv *d)
{
    struct forget_tab *t = d->forgets;
    struct fuse_forget_one items[FORGET_BATCH];
    unsigned n = 0;
    int r = 0;

    for (unsigned k = 0; k < FORGET_CAP && r >= 0; k++) {
        if (t->key[k]) {
            items[n++] = (struct fuse_forget_one){ .nodeid = t->key[k], .nlookup = t->cnt[k] };
            t->key[k] = 0;
            t->cnt[k] = 0;
        }
        if (n == FORGET_BATCH || (n && k == FORGET_CAP - 1)) {
            pthread_mutex_lock(&d->c->hiprio_lock);
            r = tc_fuse_batch_forget(d->dev, items, n);
            pthread_mutex_unlock(&d->c->hiprio_lock);
            n = 0;
        }
    }
    t->used = 0;
    t->total = 0;
    if (r < 0)
        bench_fail(d->w, r, false, "BATCH_FORGET on the hiprio queue failed: %s", strerror(-r));
    return r;
}

/* --- building requests --------------------------------------------------- */

static void req_clear(struct slot *s)
{
    struct tc_fuse_req *r = &s->req;
    r->in_cnt = 0;
    r->out_cnt = 0;
    r->in_data = NULL;
    r->in_data_cnt = 0;
    r->out_data = NULL;
    r->out_data_cnt = 0;
    r->flags = 0;
}

static uint64_t next_offset(struct fdrv *d, uint64_t file_size)
{
    uint32_t bs = d->job->bs;
    if (bench_wl_infos[d->job->g->wl].seq) {
        uint64_t off = d->seq_next;
        d->seq_next += bs;
        if (d->seq_next + bs > d->seq_hi)
            d->seq_next = d->seq_lo;
        return off;
    }
    return (bench_rng_next(&d->rng) % (file_size / bs)) * bs;
}

static void build_step(struct fdrv *d, struct slot *s)
{
    const struct bench_handles *h = &d->c->h;
    struct tc_fuse_req *r = &s->req;
    uint32_t bs = d->job->bs;

    req_clear(s);
    switch (s->step) {
    case ST_READ: {
        bool wfile = d->job->g->wl == WL_RANDRW;
        r->opcode = FUSE_READ;
        r->nodeid = wfile ? h->write_node : h->read_node;
        s->in.read = (struct fuse_read_in){
            .fh = wfile ? h->write_fh : h->read_fh, .offset = s->off, .size = bs,
            .flags = (wfile ? O_RDWR : O_RDONLY) | d->open_flags,
        };
        r->in[0] = IN(&s->in.read, sizeof(s->in.read));
        r->in_cnt = 1;
        r->out_data = &s->buf[s->cur];
        r->out_data_cnt = 1;
        break;
    }
    case ST_WRITE:
        r->opcode = FUSE_WRITE;
        r->nodeid = h->write_node;
        s->in.write = (struct fuse_write_in){
            .fh = h->write_fh, .offset = s->off, .size = bs, .flags = O_RDWR | d->open_flags,
        };
        bench_pattern_fill(s->buf[s->cur].ptr, bs, s->off, d->c->write_seed);
        r->in[0] = IN(&s->in.write, sizeof(s->in.write));
        r->in_cnt = 1;
        r->in_data = &s->buf[s->cur];
        r->in_data_cnt = 1;
        r->out[0] = OUT(&s->wout, sizeof(s->wout));
        r->out_cnt = 1;
        break;
    case ST_LOOKUP:
        r->opcode = FUSE_LOOKUP;
        r->nodeid = h->files_dir;
        r->in[0] = IN(s->name, strlen(s->name) + 1);
        r->in_cnt = 1;
        r->out[0] = OUT(&s->entry, sizeof(s->entry));
        r->out_cnt = 1;
        break;
    case ST_GETATTR:
        r->opcode = FUSE_GETATTR;
        r->nodeid = s->nodeid;
        s->in.getattr = (struct fuse_getattr_in){ 0 };
        r->in[0] = IN(&s->in.getattr, sizeof(s->in.getattr));
        r->in_cnt = 1;
        r->out[0] = OUT(&s->attr, sizeof(s->attr));
        r->out_cnt = 1;
        break;
    case ST_CREATE:
        r->opcode = FUSE_CREATE;
        r->nodeid = h->cu_dir;
        s->in.create = (struct fuse_create_in){
            .flags = O_RDWR | O_CREAT | O_EXCL, .mode = S_IFREG | 0644, .umask = 022,
        };
        r->in[0] = IN(&s->in.create, sizeof(s->in.create));
        r->in[1] = IN(s->name, strlen(s->name) + 1);
        r->in_cnt = 2;
        r->out[0] = OUT(&s->entry, sizeof(s->entry));
        r->out[1] = OUT(&s->oout, sizeof(s->oout));
        r->out_cnt = 2;
        break;
    case ST_RELEASE:
        r->opcode = FUSE_RELEASE;
        r->nodeid = s->nodeid;
        s->in.release = (struct fuse_release_in){ .fh = s->fh, .flags = O_RDWR };
        r->in[0] = IN(&s->in.release, sizeof(s->in.release));
        r->in_cnt = 1;
        break;
    case ST_UNLINK:
        r->opcode = FUSE_UNLINK;
        r->nodeid = h->cu_dir;
        r->in[0] = IN(s->name, strlen(s->name) + 1);
        r->in_cnt = 1;
        break;
    case ST_FORGET:
        /* Linux sends it on the hiprio queue once the close dropped the
         * unlinked inode; here it stays on this thread's queue so each
         * thread owns its ring. Either way the daemon's share of the
         * deletion (the last close of its reference) is part of the op. */
        r->opcode = FUSE_FORGET;
        r->nodeid = s->nodeid;
        r->flags = TC_FUSE_NOREPLY;
        s->in.forget = (struct fuse_forget_in){ .nlookup = 1 };
        r->in[0] = IN(&s->in.forget, sizeof(s->in.forget));
        r->in_cnt = 1;
        break;
    case ST_OPENDIR:
        r->opcode = FUSE_OPENDIR;
        r->nodeid = h->big_dir;
        s->in.open = (struct fuse_open_in){ .flags = O_RDONLY | O_DIRECTORY };
        r->in[0] = IN(&s->in.open, sizeof(s->in.open));
        r->in_cnt = 1;
        r->out[0] = OUT(&s->oout, sizeof(s->oout));
        r->out_cnt = 1;
        break;
    case ST_READDIR:
        r->opcode = FUSE_READDIRPLUS;
        r->nodeid = h->big_dir;
        s->in.read = (struct fuse_read_in){
            .fh = s->fh, .offset = s->dir_off, .size = d->cfg->readdir_size,
            .flags = O_RDONLY | O_DIRECTORY,
        };
        r->in[0] = IN(&s->in.read, sizeof(s->in.read));
        r->in_cnt = 1;
        r->out_data = &s->buf[0];
        r->out_data_cnt = 1;
        break;
    case ST_RELEASEDIR:
        r->opcode = FUSE_RELEASEDIR;
        r->nodeid = h->big_dir;
        s->in.release = (struct fuse_release_in){ .fh = s->fh, .flags = O_RDONLY | O_DIRECTORY };
        r->in[0] = IN(&s->in.release, sizeof(s->in.release));
        r->in_cnt = 1;
        break;
    }
}

/* Picks the next operation for slot s and sets its first step. */
static void start_op(struct fdrv *d, struct slot *s, uint64_t now)
{
    const struct bench_job *job = d->job;
    enum bench_wl wl = job->g->wl;
    const struct bench_wl_info *info = &bench_wl_infos[wl];

    s->t_op = now;
    if (info->data) {
        bool wfile = wl == WL_RANDRW || info->write_pct == 100;
        s->is_write = info->write_pct == 100 ||
                      (info->write_pct && bench_rng_next(&d->rng) % 100 < info->write_pct);
        s->off = next_offset(d, wfile ? job->write_size : job->read_size);
        s->seed = wfile ? d->c->write_seed : job->g->read_seed;
        s->step = s->is_write ? ST_WRITE : ST_READ;
        return;
    }
    switch (wl) {
    case WL_LOOKUP:
        bench_file_name((unsigned)(bench_rng_next(&d->rng) % d->cfg->nfiles), s->name,
                        sizeof(s->name));
        s->step = ST_LOOKUP;
        break;
    case WL_GETATTR:
        s->nodeid = d->c->h.attr_nodes[bench_rng_next(&d->rng) % d->c->h.nattr];
        s->step = ST_GETATTR;
        break;
    case WL_CREATE_UNLINK:
        snprintf(s->name, sizeof(s->name), "c%u-%u-%llu", d->vq, s->index,
                 (unsigned long long)s->serial++);
        s->step = ST_CREATE;
        break;
    default:
        s->entries = 0;
        s->dir_off = 0;
        s->step = ST_OPENDIR;
        break;
    }
}

static int submit(struct fdrv *d, struct slot *s)
{
    build_step(d, s);
    int r = tc_fuse_submit(d->dev, &s->req);
    if (r < 0)
        bench_fail(d->w, r, false, "submitting on queue %u failed: %s", d->vq, strerror(-r));
    return r;
}

static const char *opname(enum step st)
{
    static const char *const n[] = {
        [ST_READ] = "READ", [ST_WRITE] = "WRITE", [ST_LOOKUP] = "LOOKUP",
        [ST_GETATTR] = "GETATTR", [ST_CREATE] = "CREATE", [ST_RELEASE] = "RELEASE",
        [ST_UNLINK] = "UNLINK", [ST_FORGET] = "FORGET", [ST_OPENDIR] = "OPENDIR", [ST_READDIR] = "READDIRPLUS",
        [ST_RELEASEDIR] = "RELEASEDIR",
    };
    return n[st];
}

/* Consumes a READDIRPLUS reply of len bytes. Entries count towards the
 * window as they arrive (a listing takes long enough that counting whole
 * listings would quantize the rate). */
static int take_dirents(struct fdrv *d, struct slot *s, uint32_t len, bool counted)
{
    size_t pos = 0;
    struct tc_dirent ent;
    int r;
    while ((r = tc_dirent_next(s->buf[0].ptr, len, &pos, true, &ent)) == 1) {
        s->dir_off = ent.off;
        if (!strcmp(ent.name, ".") || !strcmp(ent.name, ".."))
            continue;
        s->entries++;
        if (counted)
            d->w->res.entries++;
        if (ent.entry.nodeid)
            forget_add(d, ent.entry.nodeid);
    }
    return r;
}

/*
 * A request of slot s completed. Returns 1 when the operation is done, 0
 * when its next request is to be submitted, -errno on failure (recorded).
 */
static int step_done(struct fdrv *d, struct slot *s, bool counted)
{
    const struct tc_fuse_req *r = &s->req;
    int res = r->result;
    uint32_t bs = d->job->bs;

    if (res < 0) {
        if (s->step == ST_READ || s->step == ST_WRITE)
            bench_fail(d->w, res, false, "%s of %u bytes at offset %llu failed: %s",
                       opname(s->step), bs, (unsigned long long)s->off, strerror(-res));
        else
            bench_fail(d->w, res, false, "%s failed: %s", opname(s->step), strerror(-res));
        return res;
    }
    switch (s->step) {
    case ST_READ:
        if ((uint32_t)res != bs) {
            bench_fail(d->w, -EIO, false, "short READ at offset %llu: %d of %u bytes",
                       (unsigned long long)s->off, res, bs);
            return -EIO;
        }
        d->checks[d->nchecks++] = (struct pending_check){
            .ptr = s->buf[s->cur].ptr, .len = bs, .off = s->off, .seed = s->seed,
            .write_file = d->job->g->wl == WL_RANDRW,
        };
        s->cur ^= 1;
        return 1;
    case ST_WRITE:
        if ((size_t)res < sizeof(s->wout) || s->wout.size != bs) {
            bench_fail(d->w, -EIO, false, "short WRITE at offset %llu: %u of %u bytes",
                       (unsigned long long)s->off, s->wout.size, bs);
            return -EIO;
        }
        return 1;
    case ST_LOOKUP:
        if ((size_t)res < sizeof(s->entry) || !s->entry.nodeid) {
            bench_fail(d->w, -EPROTO, false, "LOOKUP of %s: bad reply", s->name);
            return -EPROTO;
        }
        forget_add(d, s->entry.nodeid);
        return 1;
    case ST_GETATTR:
        if ((size_t)res < sizeof(s->attr)) {
            bench_fail(d->w, -EPROTO, false, "GETATTR: short reply");
            return -EPROTO;
        }
        return 1;
    case ST_CREATE:
        if ((size_t)res < sizeof(s->entry) + sizeof(s->oout) || !s->entry.nodeid) {
            bench_fail(d->w, -EPROTO, false, "CREATE of %s: bad reply", s->name);
            return -EPROTO;
        }
        s->nodeid = s->entry.nodeid;
        s->fh = s->oout.fh;
        s->step = ST_RELEASE;
        return 0;
    case ST_RELEASE:
        s->step = ST_UNLINK;
        return 0;
    case ST_UNLINK:
        s->step = ST_FORGET;
        return 0;
    case ST_FORGET:
        return 1;
    case ST_OPENDIR:
        if ((size_t)res < sizeof(s->oout)) {
            bench_fail(d->w, -EPROTO, false, "OPENDIR: short reply");
            return -EPROTO;
        }
        s->fh = s->oout.fh;
        s->step = ST_READDIR;
        return 0;
    case ST_READDIR:
        if (res == 0) {
            if (s->entries != d->cfg->dir_entries) {
                bench_fail(d->w, -EIO, true,
                           "READDIRPLUS listed %llu entries of a directory holding %u",
                           (unsigned long long)s->entries, d->cfg->dir_entries);
                return -EIO;
            }
            s->step = ST_RELEASEDIR;
            return 0;
        }
        if (take_dirents(d, s, (uint32_t)res, counted) < 0) {
            bench_fail(d->w, -EPROTO, false, "READDIRPLUS: malformed records");
            return -EPROTO;
        }
        return 0;
    case ST_RELEASEDIR:
        return 1;
    }
    return -EINVAL;
}

static int run_checks(struct fdrv *d)
{
    for (unsigned i = 0; i < d->nchecks; i++) {
        const struct pending_check *k = &d->checks[i];
        long long bad = bench_pattern_check(k->ptr, k->len, k->off, k->seed);
        if (bad >= 0) {
            uint64_t got, want = (k->off + (uint64_t)bad) ^ k->seed;
            memcpy(&got, (const char *)k->ptr + bad, sizeof(got));
            bench_fail(d->w, -EILSEQ, true,
                       "DATA ERROR: READ of %s at offset %llu returned wrong data at file offset "
                       "%llu (got %016llx, expected %016llx)",
                       k->write_file ? "its write file" : "read.dat", (unsigned long long)k->off,
                       (unsigned long long)(k->off + (uint64_t)bad), (unsigned long long)got,
                       (unsigned long long)want);
            d->nchecks = 0;
            return -EILSEQ;
        }
    }
    d->nchecks = 0;
    return 0;
}

static const char *reap_error(int r)
{
    switch (r) {
    case -ETIMEDOUT: return "no completion in time";
    case -ECONNRESET: return "the daemon hung up";
    case -EIO: return "the daemon broke the used ring";
    default: return strerror(-r);
    }
}

void *bench_fuse_worker(void *arg)
{
    struct bench_worker *w = arg;
    const struct bench_job *job = w->job;
    const struct bench_cfg *cfg = w->cfg;
    const struct bench_wl_info *info = &bench_wl_infos[job->g->wl];
    struct fdrv d = {
        .w = w, .cfg = cfg, .job = job, .c = w->c, .dev = w->c->dev, .vq = w->qi + 1,
        .open_flags = (uint32_t)job->g->open_flags,
    };
    unsigned depth = job->depth;
    unsigned inflight = 0;
    bool buffers_busy = false;
    struct bench_cpu_track cpu = { 0 };
    _cleanup_free_ struct tc_fuse_req **done = calloc(depth, sizeof(*done));
    d.slots = calloc(depth, sizeof(*d.slots));
    d.checks = calloc(depth, sizeof(*d.checks));
    d.forgets = calloc(1, sizeof(*d.forgets));
    if (!done || !d.slots || !d.checks || !d.forgets) {
        bench_fail(w, -ENOMEM, false, "out of memory");
        goto out_free;
    }

    /* the same operation sequence for every contender of a round */
    d.rng = cfg->seed ^ ((uint64_t)job->round << 48) ^ ((uint64_t)w->qi << 32) ^ job->depth ^
            ((uint64_t)job->g->wl << 24);
    if (info->seq) {
        uint64_t size = info->write_pct ? job->write_size : job->read_size;
        uint64_t region = size / job->queues / job->bs * job->bs;
        d.seq_lo = d.seq_next = region * w->qi;
        d.seq_hi = d.seq_lo + region;
    }

    for (unsigned i = 0; i < depth; i++) {
        struct slot *s = &d.slots[i];
        int r = tc_fuse_req_init(d.dev, &s->req, 0);
        if (r == 0 && info->data)
            for (unsigned b = 0; b < 2 && r == 0; b++)
                r = tc_buf_alloc(d.dev->mem, job->bs, 4096, 0, &s->buf[b]);
        if (r == 0 && job->g->wl == WL_READDIRPLUS)
            r = tc_buf_alloc(d.dev->mem, cfg->readdir_size, 4096, 0, &s->buf[0]);
        if (r < 0) {
            bench_fail(w, r, false, "guest memory for %u slots: %s", depth, strerror(-r));
            goto out_free;
        }
        s->req.user = s;
        s->req.queue = d.vq;
        s->index = i;
        s->serial = (uint64_t)job->round << 40 | (uint64_t)job->depth << 32;
    }

    uint64_t now = clock_now_ns();
    for (unsigned i = 0; i < depth; i++) {
        start_op(&d, &d.slots[i], now);
        if (submit(&d, &d.slots[i]) < 0)
            goto out_drain;
        inflight++;
    }
    tc_fuse_kick(d.dev, d.vq);

    while (inflight) {
        bench_cpu_track(&cpu, w->ctl, &w->res);
        int n = tc_fuse_reap(d.dev, d.vq, done, depth, cfg->timeout_ms);
        if (n < 0) {
            bench_fail(w, n, false, "queue %u: %s (%u requests in flight)", d.vq, reap_error(n),
                       inflight);
            buffers_busy = true;
            goto out_free;
        }
        now = clock_now_ns();
        bool counted = bench_in_window(w->ctl, now);
        bool stopping = bench_stopping(w->ctl);
        unsigned submitted = 0;
        for (int i = 0; i < n; i++) {
            struct slot *s = done[i]->user;
            inflight--;
            int r = step_done(&d, s, counted);
            if (r < 0)
                goto out_drain;
            if (r == 1) {
                if (counted) {
                    w->res.ops++;
                    if (info->data)
                        w->res.bytes += job->bs;
                    bench_hist_add(&w->res.hist, now - s->t_op);
                }
                if (stopping)
                    continue;
                start_op(&d, s, now);
            }
            if (submit(&d, s) < 0)
                goto out_drain;
            inflight++;
            submitted++;
        }
        if (submitted)
            tc_fuse_kick(d.dev, d.vq);
        if (run_checks(&d) < 0)
            goto out_drain;
        if (forget_due(&d) && forget_flush(&d) < 0)
            goto out_drain;
    }
    bench_cpu_track(&cpu, w->ctl, &w->res);
    /* return what is left outside the window: the daemon's tables end as
     * they started */
    if (!w->res.err && (d.forgets->used))
        forget_flush(&d);

out_drain:
    /* after a failure, give requests in flight a short while to come back
     * so their buffers can be reused; a dead daemon answers at once */
    while (inflight && !buffers_busy) {
        int n = tc_fuse_reap(d.dev, d.vq, done, depth, 1000);
        if (n <= 0) {
            buffers_busy = true;
            break;
        }
        inflight -= (unsigned)n;
    }
out_free:
    if (d.slots) {
        /* buffers a request may still reference stay allocated until the
         * device is freed with the failed contender */
        for (unsigned i = 0; i < depth && !buffers_busy; i++) {
            tc_fuse_req_done(d.dev, &d.slots[i].req);
            tc_buf_free(d.dev->mem, &d.slots[i].buf[0]);
            tc_buf_free(d.dev->mem, &d.slots[i].buf[1]);
        }
    }
    free(d.slots);
    free(d.checks);
    free(d.forgets);
    return NULL;
}

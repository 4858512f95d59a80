/* SPDX-License-Identifier: GPL-2.0-or-later */
/* FUSE request building, submission and completion checking. */
#include "tests/lib/tc_fuse.h"

#include <errno.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/clock.h"

#define DEFAULT_REQ_SCRATCH (8u << 10)
/* Segments per request: bounded so the segment list can live on the stack. */
#define MAX_SEGS 1024u

static uint32_t align8(uint32_t x)
{
    return (x + 7u) & ~7u;
}

void tc_fuse_set_creds(struct tc_dev *dev, uint32_t uid, uint32_t gid, uint32_t pid)
{
    dev->fuse.uid = uid;
    dev->fuse.gid = gid;
    dev->fuse.pid = pid;
}

unsigned tc_fuse_queue_of(const struct tc_dev *dev, unsigned flags, unsigned queue)
{
    if (flags & TC_FUSE_HIPRIO)
        return 0;
    if (queue)
        return queue;
    return dev->fuse.queue ? dev->fuse.queue : 1;
}

int tc_fuse_req_init(struct tc_dev *dev, struct tc_fuse_req *req, size_t scratch_size)
{
    memset(req, 0, sizeof(*req));
    return tc_buf_alloc(dev->mem, scratch_size ? scratch_size : DEFAULT_REQ_SCRATCH, 64, 0,
                        &req->scratch);
}

void tc_fuse_req_done(struct tc_dev *dev, struct tc_fuse_req *req)
{
    tc_buf_free(dev->mem, &req->scratch);
    tc_buf_free(dev->mem, &req->tmp);
}

/* Sum of buffer lengths; false on overflow past UINT32_MAX. */
static bool sum_bufs(const struct tc_buf *b, unsigned n, uint64_t *total)
{
    for (unsigned i = 0; i < n; i++)
        *total += b[i].len;
    return *total <= UINT32_MAX;
}

static void add_seg(struct tc_seg *segs, unsigned *n, uint64_t gpa, uint64_t len, bool write)
{
    if (len == 0)
        return;
    segs[(*n)++] = (struct tc_seg){ .gpa = gpa, .len = (uint32_t)len, .write = write };
}

int tc_fuse_submit(struct tc_dev *dev, struct tc_fuse_req *req)
{
    unsigned flags = req->flags | dev->fuse.flags;
    unsigned q = tc_fuse_queue_of(dev, flags, req->queue);
    struct tc_seg segs[MAX_SEGS];
    unsigned nseg = 0;
    uint64_t in_len = sizeof(struct fuse_in_header);
    uint64_t out_len = sizeof(struct fuse_out_header);
    int r;

    if (q >= dev->nqueues || !dev->vqs[q].mem)
        return -EINVAL;
    if (req->in_cnt > TC_FUSE_MAX_ARGS || req->out_cnt > TC_FUSE_MAX_ARGS)
        return -EINVAL;
    if (req->in_data_cnt > MAX_SEGS || req->out_data_cnt > MAX_SEGS ||
        2u + 2u * TC_FUSE_MAX_ARGS + req->in_data_cnt + req->out_data_cnt > MAX_SEGS)
        return -E2BIG;

    uint64_t in_args = 0, out_args = 0;
    for (unsigned i = 0; i < req->in_cnt; i++)
        in_args += req->in[i].len;
    for (unsigned i = 0; i < req->out_cnt; i++)
        out_args += req->out[i].len;
    in_len += in_args;
    out_len += out_args;
    if (!sum_bufs(req->in_data, req->in_data_cnt, &in_len) ||
        !sum_bufs(req->out_data, req->out_data_cnt, &out_len))
        return -E2BIG;

    /* scratch: in header + in args, then (8-aligned) out header + out args */
    uint64_t out_off = align8((uint32_t)(sizeof(struct fuse_in_header) + in_args));
    uint64_t need = out_off + sizeof(struct fuse_out_header) + out_args;
    struct tc_buf *scratch = &req->scratch;
    if (!scratch->len) {
        scratch = &dev->fuse.scratch[q];
        if (!scratch->len) {
            r = tc_buf_alloc(dev->mem, TC_FUSE_DEFAULT_SCRATCH, 64, 0, scratch);
            if (r < 0)
                return r;
        }
    }
    tc_buf_free(dev->mem, &req->tmp);
    if (need > scratch->len) {
        r = tc_buf_alloc(dev->mem, need, 64, 0, &req->tmp);
        if (r < 0)
            return r;
        scratch = &req->tmp;
    }

    req->unique = __atomic_fetch_add(&dev->fuse.next_unique, 1, __ATOMIC_RELAXED);
    req->vq = q;
    req->out_off = (uint32_t)out_off;
    req->done = false;
    req->result = 0;
    req->used_len = 0;
    memset(&req->out_hdr, 0, sizeof(req->out_hdr));

    char *base = scratch->ptr;
    struct fuse_in_header ih = {
        .len = (uint32_t)in_len,
        .opcode = req->opcode,
        .unique = req->unique,
        .nodeid = req->nodeid,
        .uid = dev->fuse.uid,
        .gid = dev->fuse.gid,
        .pid = dev->fuse.pid,
        .total_extlen = req->total_extlen,
    };
    memcpy(base, &ih, sizeof(ih));
    uint64_t off = sizeof(ih);
    for (unsigned i = 0; i < req->in_cnt; i++) {
        if (req->in[i].len)
            memcpy(base + off, req->in[i].ptr, req->in[i].len);
        off += req->in[i].len;
    }
    /* a stale header must not pass for a reply */
    memset(base + out_off, 0, sizeof(struct fuse_out_header));

    if (flags & TC_FUSE_PACK_IN) {
        add_seg(segs, &nseg, scratch->gpa, sizeof(ih) + in_args, false);
    } else {
        add_seg(segs, &nseg, scratch->gpa, sizeof(ih), false);
        off = sizeof(ih);
        for (unsigned i = 0; i < req->in_cnt; i++) {
            add_seg(segs, &nseg, scratch->gpa + off, req->in[i].len, false);
            off += req->in[i].len;
        }
    }
    for (unsigned i = 0; i < req->in_data_cnt; i++)
        add_seg(segs, &nseg, req->in_data[i].gpa, req->in_data[i].len, false);

    if (!(flags & TC_FUSE_NOREPLY)) {
        uint64_t o = scratch->gpa + out_off;
        if (flags & TC_FUSE_PACK_OUT) {
            add_seg(segs, &nseg, o, sizeof(struct fuse_out_header) + out_args, true);
        } else {
            add_seg(segs, &nseg, o, sizeof(struct fuse_out_header), true);
            o += sizeof(struct fuse_out_header);
            for (unsigned i = 0; i < req->out_cnt; i++) {
                add_seg(segs, &nseg, o, req->out[i].len, true);
                o += req->out[i].len;
            }
        }
        for (unsigned i = 0; i < req->out_data_cnt; i++)
            add_seg(segs, &nseg, req->out_data[i].gpa, req->out_data[i].len, true);
    }

    r = tc_vq_add(&dev->vqs[q], segs, nseg, req, (flags & TC_FUSE_INDIRECT) ? TC_VQ_ADD_INDIRECT : 0);
    if (r < 0) {
        tc_buf_free(dev->mem, &req->tmp);
        return r;
    }
    return 0;
}

int tc_fuse_kick(struct tc_dev *dev, unsigned queue)
{
    if (queue >= dev->nqueues || !dev->vqs[queue].mem)
        return -EINVAL;
    return tc_vq_kick(&dev->vqs[queue]);
}

/* Checks the reply of a completed request and copies out its args. */
static void complete(struct tc_dev *dev, struct tc_fuse_req *req, uint32_t used_len)
{
    unsigned flags = req->flags | dev->fuse.flags;
    const struct tc_buf *scratch = req->tmp.len ? &req->tmp
                                 : req->scratch.len ? &req->scratch
                                 : &dev->fuse.scratch[req->vq];
    const char *out = (const char *)scratch->ptr + req->out_off;

    req->used_len = used_len;
    req->done = true;
    if (flags & TC_FUSE_NOREPLY) {
        req->result = used_len == 0 ? 0 : -EPROTO;
        goto out_free_tmp;
    }

    uint64_t cap = sizeof(struct fuse_out_header);
    for (unsigned i = 0; i < req->out_cnt; i++)
        cap += req->out[i].len;
    for (unsigned i = 0; i < req->out_data_cnt; i++)
        cap += req->out_data[i].len;

    memcpy(&req->out_hdr, out, sizeof(req->out_hdr));
    const struct fuse_out_header *oh = &req->out_hdr;
    if (used_len < sizeof(*oh) || oh->len != used_len || oh->len > cap ||
        oh->unique != req->unique) {
        req->result = -EPROTO;
        goto out_free_tmp;
    }
    if (oh->error) {
        if (oh->error > 0 || oh->error < -4095 || oh->len != sizeof(*oh))
            req->result = -EPROTO;
        else
            req->result = oh->error;
        goto out_free_tmp;
    }
    uint32_t payload = oh->len - (uint32_t)sizeof(*oh);
    uint32_t left = payload;
    out += sizeof(*oh);
    for (unsigned i = 0; i < req->out_cnt && left; i++) {
        uint32_t n = MIN(left, req->out[i].len);
        memcpy(req->out[i].ptr, out, n);
        out += req->out[i].len;
        left -= n;
    }
    req->result = (int)MIN(payload, (uint32_t)INT32_MAX);
out_free_tmp:
    tc_buf_free(dev->mem, &req->tmp);
}

/* Reaps what is there; returns the count or -EIO. */
static int reap_ready(struct tc_dev *dev, struct tc_vq *vq, struct tc_fuse_req **done, unsigned max)
{
    unsigned n = 0;

    while (n < max) {
        void *token;
        uint32_t len;
        int r = tc_vq_get_used(vq, &token, &len);
        if (r < 0)
            return n ? (int)n : r;
        if (r == 0)
            break;
        struct tc_fuse_req *req = token;
        complete(dev, req, len);
        if (done)
            done[n] = req;
        n++;
    }
    return (int)n;
}

int tc_fuse_reap(struct tc_dev *dev, unsigned queue, struct tc_fuse_req **done, unsigned max,
                 int timeout_ms)
{
    if (queue >= dev->nqueues || !dev->vqs[queue].mem)
        return -EINVAL;
    struct tc_vq *vq = &dev->vqs[queue];
    int n = reap_ready(dev, vq, done, max);
    if (n != 0 || timeout_ms == 0 || max == 0)
        return n;
    int r = tc_vq_wait(vq, timeout_ms);
    if (r < 0)
        return r;
    return reap_ready(dev, vq, done, max);
}

int tc_fuse_call(struct tc_dev *dev, struct tc_fuse_req *req)
{
    int r = tc_fuse_submit(dev, req);
    if (r < 0)
        return r;
    struct tc_vq *vq = &dev->vqs[req->vq];
    r = tc_vq_kick(vq);
    if (r < 0)
        return r;

    uint64_t deadline = clock_now_ns() + (uint64_t)dev->timeout_ms * 1000000ull;
    while (!req->done) {
        uint64_t now = clock_now_ns();
        int left = now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
        r = left ? tc_vq_wait(vq, left) : -ETIMEDOUT;
        if (r == 0) {
            /* other requests completing here are marked done for their owner */
            struct tc_fuse_req *dummy[16];
            r = reap_ready(dev, vq, dummy, ARRAY_SIZE(dummy));
        }
        if (r < 0) {
            /* req stays referenced by the ring: retire the queue rather
             * than let a late completion touch a dead request */
            vq->broken = true;
            return r;
        }
    }
    return req->result;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: split virtqueue walking (vhost/vring.c) and guest address
 * translation (vhost/memory.c).
 *
 * The input plays the guest driver: it writes the descriptor table, the
 * avail ring and indirect tables (fuzz_vring_format.h), and the target
 * plays the queue thread: it pops, touches every byte of every segment
 * (reading the readable ones, filling the writable ones), completes, and
 * restarts the queue when the input asks, as the frontend does after a
 * queue broke. Checked on the way: every segment lies inside one mapped
 * region, a head is never handed out twice, the used ring gets exactly one
 * element per completion, and nothing stays in flight or open at the end.
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_vring_format.h"
#include "vhost/memory.h"
#include "vhost/vring.h"

#define MAX_NUM (1u << VFZ_MAX_LOG2)
#define NREGIONS (1u + (VFZ_MEM_SIZE - VFZ_BIG_SIZE) / VFZ_SMALL_SIZE)

static uint8_t *guest;              /* our view of guest memory (the driver's) */
static bool trace;                  /* VFSD_FUZZ_TRACE: one line per pop */
static struct vhu_memmap *map;      /* the device's view */

struct state {
    struct vq vq;
    unsigned num;
    struct req *inflight[MAX_NUM];  /* popped, not completed, in pop order */
    unsigned ninflight;
    bool slot_busy[MAX_NUM];
    uint16_t used_idx;              /* what used->idx must say */
};

static void setup_once(void)
{
    struct vhu_mem_region regs[NREGIONS];
    int fds[NREGIONS];

    fuzz_setup_logs();
    trace = getenv("VFSD_FUZZ_TRACE") != NULL;
    int fd = memfd_create("fuzz-guest", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0, "memfd_create: %s", strerror(errno));
    FUZZ_CHECK(ftruncate(fd, VFZ_MEM_SIZE) == 0, "ftruncate: %s", strerror(errno));
    guest = mmap(NULL, VFZ_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    FUZZ_CHECK(guest != MAP_FAILED, "mmap: %s", strerror(errno));
    for (unsigned i = 0; i < NREGIONS; i++) {
        uint64_t gpa = i ? VFZ_BIG_SIZE + (i - 1) * VFZ_SMALL_SIZE : 0;
        regs[i] = (struct vhu_mem_region){
            .guest_phys_addr = gpa,
            .memory_size = i ? VFZ_SMALL_SIZE : VFZ_BIG_SIZE,
            .userspace_addr = VFZ_UADDR + gpa,
            .mmap_offset = gpa,
        };
        fds[i] = dup(fd);
    }
    close(fd);
    FUZZ_CHECK(vhu_memmap_from_table(regs, fds, NREGIONS, &map) == 0, "guest memory map");
}

/* Every segment must lie inside one region of the device's map. */
static void check_segment(const struct iovec *iov)
{
    const uint8_t *p = iov->iov_base;
    FUZZ_CHECK(iov->iov_len > 0, "empty segment");
    for (unsigned i = 0; i < map->nregions; i++) {
        const struct vhu_region *r = &map->regions[i];
        if (p >= r->host && p < r->host + r->size) {
            FUZZ_CHECK(iov->iov_len <= (size_t)(r->host + r->size - p),
                       "segment of %zu bytes runs off region %u", iov->iov_len, i);
            return;
        }
    }
    fuzz_fail(__FILE__, __LINE__, "segment inside guest memory", "segment %p+%zu", iov->iov_base,
              iov->iov_len);
}

static uint32_t use_request(struct state *st, struct req *r)
{
    volatile uint8_t sink = 0;
    size_t out = 0;

    FUZZ_CHECK(r->slot < st->num, "slot %u of %u", r->slot, st->num);
    FUZZ_CHECK(!st->slot_busy[r->slot], "head %u handed out twice", r->slot);
    FUZZ_CHECK(r->in_cnt + r->out_cnt <= VQ_MAX_SEGS, "%u + %u segments", r->in_cnt,
               r->out_cnt);
    FUZZ_CHECK(r->in_cnt == 0 || r->out == r->in + r->in_cnt, "segments not contiguous");
    if (trace)
        fprintf(stderr, "  head %u: %u readable, %u writable segments\n", r->slot, r->in_cnt,
                r->out_cnt);
    st->slot_busy[r->slot] = true;
    for (unsigned i = 0; i < r->in_cnt; i++) {
        check_segment(&r->in[i]);
        const uint8_t *p = r->in[i].iov_base;
        for (size_t j = 0; j < r->in[i].iov_len; j++)
            sink ^= p[j];
    }
    for (unsigned i = 0; i < r->out_cnt; i++) {
        check_segment(&r->out[i]);
        memset(r->out[i].iov_base, 0xa5, r->out[i].iov_len);
        out += r->out[i].iov_len;
    }
    (void)sink;
    return out > UINT32_MAX ? UINT32_MAX : (uint32_t)out;
}

static void complete(struct state *st, struct req *r, uint32_t written)
{
    unsigned slot = r->slot;
    st->slot_busy[slot] = false;
    req_complete(r, written);
    st->used_idx++;
    FUZZ_CHECK(st->vq.used_idx == st->used_idx, "used index %u, expected %u",
               st->vq.used_idx, st->used_idx);
    const struct vring_used *used = (const struct vring_used *)(guest + VFZ_USED_GPA);
    FUZZ_CHECK(used->idx == st->used_idx, "used->idx %u, expected %u", used->idx, st->used_idx);
    const struct vring_used_elem *e = &used->ring[(uint16_t)(st->used_idx - 1) % st->num];
    FUZZ_CHECK(e->id == slot, "used element names head %u, completed %u", e->id, slot);
}

/* Completes what is in flight: all, or (keep_half) every other one. */
static void complete_inflight(struct state *st, uint8_t action)
{
    struct req *keep[MAX_NUM];
    unsigned nkeep = 0;
    bool reverse = action & VFZ_A_REVERSE;
    for (unsigned k = 0; k < st->ninflight; k++) {
        unsigned i = reverse ? st->ninflight - 1 - k : k;
        struct req *r = st->inflight[i];
        if ((action & VFZ_A_KEEP_HALF) && (k & 1)) {
            keep[nkeep++] = r;
            continue;
        }
        uint32_t written = 0;
        if (action & VFZ_A_WRITE_ALL)
            for (unsigned j = 0; j < r->out_cnt; j++)
                written += (uint32_t)r->out[j].iov_len;
        complete(st, r, written);
    }
    memcpy(st->inflight, keep, nkeep * sizeof(keep[0]));
    st->ninflight = nkeep;
}

static void restart(struct state *st)
{
    complete_inflight(st, 0);
    vq_wait_idle(&st->vq);
    vq_stop(&st->vq);
    FUZZ_CHECK(vq_start(&st->vq, map) == 0, "restart");
    FUZZ_CHECK(!st->vq.broken, "still broken after a restart");
    st->used_idx = st->vq.used_idx;
}

static void pop_all(struct state *st, unsigned batch)
{
    struct req *got[MAX_NUM];

    for (;;) {
        unsigned room = st->num - st->ninflight;
        unsigned max = batch < room ? batch : room;
        if (max == 0)
            return;
        int n = vq_pop_batch(&st->vq, got, max);
        if (trace)
            fprintf(stderr, "pop up to %u: %d%s\n", max, n, st->vq.broken ? " (broken)" : "");
        if (n < 0) {
            FUZZ_CHECK(n == -EIO && st->vq.broken, "pop returned %d", n);
            FUZZ_CHECK(vq_pop_batch(&st->vq, got, max) == -EIO, "broken queue popped");
            return;
        }
        if (n == 0)
            return;
        FUZZ_CHECK((unsigned)n <= max, "popped %d of at most %u", n, max);
        for (int i = 0; i < n; i++) {
            use_request(st, got[i]);
            st->inflight[st->ninflight++] = got[i];
        }
    }
}

static void run_round(struct state *st, const struct vfz_round *rd, const uint8_t *data,
                      size_t len)
{
    unsigned batch = rd->batch && rd->batch < st->num ? rd->batch : st->num;

    if (rd->action & VFZ_A_RESET)
        restart(st);
    /* The window: descriptor table, avail ring, indirect area. */
    size_t parts[3][2] = {
        { VFZ_DESC_GPA, 16u * st->num },
        { VFZ_AVAIL_GPA, 6u + 2u * st->num },
        { VFZ_AREA_GPA, VFZ_AREA_SIZE },
    };
    for (unsigned i = 0; i < 3 && len; i++) {
        size_t n = len < parts[i][1] ? len : parts[i][1];
        memcpy(guest + parts[i][0], data, n);
        data += n;
        len -= n;
    }
    if (rd->action & VFZ_A_WAIT)
        vq_kicks_off(&st->vq);
    pop_all(st, batch);
    if (rd->action & VFZ_A_WAIT)
        vq_wait_prepare(&st->vq);
    complete_inflight(st, rd->action);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static struct state st;
    struct vfz_setup setup = { .size_log2 = 4 };

    if (!ready) {
        setup_once();
        ready = true;
    }
    int fds_before = fuzz_count_fds();
    memset(guest, 0, VFZ_MEM_SIZE);
    if (size >= sizeof(setup)) {
        memcpy(&setup, data, sizeof(setup));
        data += sizeof(setup);
        size -= sizeof(setup);
    }

    memset(&st, 0, sizeof(st));
    st.num = 1u << (setup.size_log2 % (VFZ_MAX_LOG2 + 1));
    vq_init(&st.vq, 1);
    st.vq.num = st.num;
    st.vq.event_idx = setup.features & VFZ_F_EVENT_IDX;
    st.vq.indirect = setup.features & VFZ_F_INDIRECT;
    st.vq.desc_uaddr = VFZ_UADDR + VFZ_DESC_GPA;
    st.vq.avail_uaddr = VFZ_UADDR + VFZ_AVAIL_GPA;
    st.vq.used_uaddr = VFZ_UADDR + VFZ_USED_GPA;
    st.vq.addr_set = true;
    st.vq.base = fuzz_le16(setup.base);
    ((struct vring_used *)(guest + VFZ_USED_GPA))->idx = fuzz_le16(setup.used_idx);
    if (!(setup.features & VFZ_F_NO_CALL))
        vq_set_call_fd(&st.vq, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (setup.features & VFZ_F_ERR_FD)
        vq_set_err_fd(&st.vq, eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    FUZZ_CHECK(vq_start(&st.vq, map) == 0, "vq_start");
    st.used_idx = st.vq.used_idx;
    FUZZ_CHECK(st.used_idx == fuzz_le16(setup.used_idx), "used index not taken from the ring");

    while (size >= sizeof(struct vfz_round)) {
        struct vfz_round rd;
        memcpy(&rd, data, sizeof(rd));
        data += sizeof(rd);
        size -= sizeof(rd);
        size_t len = fuzz_le16(rd.len);
        if (len > size)
            len = size;
        run_round(&st, &rd, data, len);
        data += len;
        size -= len;
    }

    complete_inflight(&st, 0);
    vq_wait_idle(&st.vq);
    FUZZ_CHECK(st.vq.inflight == 0, "%u requests still in flight", st.vq.inflight);
    vq_done(&st.vq);
    int fds_after = fuzz_count_fds();
    FUZZ_CHECK(fds_after == fds_before, "%d file descriptors before, %d after", fds_before,
               fds_after);
    return 0;
}

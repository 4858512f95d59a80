/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest memory translation and split-ring walking on a fake guest: two
 * memfd regions with a gap between them, rings and buffers written by hand,
 * including every malformed shape the device must refuse.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/memory.h"
#include "vhost/vring.h"

#define REG_SIZE (1u << 20)
#define GPA0 0x100000ull            /* region 0: [1 MiB, 2 MiB) */
#define GPA1 (GPA0 + REG_SIZE)      /* region 1 follows at once: chains may cross */
#define GPA_HOLE 0x10000000ull      /* nothing mapped here */
#define QSIZE 16u

struct fake_guest {
    int fd[2];
    uint8_t *mem[2];            /* our view, as the "guest" */
    struct vhu_memmap *map;
    struct vq vq;
    struct vring_desc *desc;
    struct vring_avail *avail;
    struct vring_used *used;
    int call_fd;
};

static uint8_t *g2h(struct fake_guest *g, uint64_t gpa)
{
    if (gpa >= GPA0 && gpa < GPA0 + REG_SIZE)
        return g->mem[0] + (gpa - GPA0);
    if (gpa >= GPA1 && gpa < GPA1 + REG_SIZE)
        return g->mem[1] + (gpa - GPA1);
    g_assert_not_reached();
}

static void guest_setup(struct fake_guest *g, bool event_idx, bool indirect)
{
    struct vhu_mem_region regs[2];
    int fds[2];

    memset(g, 0, sizeof(*g));
    for (int i = 0; i < 2; i++) {
        g->fd[i] = memfd_create("guest", MFD_CLOEXEC);
        g_assert_cmpint(g->fd[i], >=, 0);
        g_assert_cmpint(ftruncate(g->fd[i], REG_SIZE), ==, 0);
        g->mem[i] = mmap(NULL, REG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, g->fd[i], 0);
        g_assert_true(g->mem[i] != MAP_FAILED);
        regs[i] = (struct vhu_mem_region){
            .guest_phys_addr = i ? GPA1 : GPA0, .memory_size = REG_SIZE,
            /* user addresses are the frontend's; any non-overlapping values do */
            .userspace_addr = 0x7f0000000000ull + (uint64_t)i * 0x10000000ull,
            .mmap_offset = 0,
        };
        fds[i] = dup(g->fd[i]);
    }
    g_assert_cmpint(vhu_memmap_from_table(regs, fds, 2, &g->map), ==, 0);

    /* rings at the start of region 0 */
    g->desc = (struct vring_desc *)g2h(g, GPA0);
    g->avail = (struct vring_avail *)g2h(g, GPA0 + 0x1000);
    g->used = (struct vring_used *)g2h(g, GPA0 + 0x2000);
    vq_init(&g->vq, 1);
    g->vq.num = QSIZE;
    g->vq.event_idx = event_idx;
    g->vq.indirect = indirect;
    g->vq.desc_uaddr = 0x7f0000000000ull;
    g->vq.avail_uaddr = 0x7f0000000000ull + 0x1000;
    g->vq.used_uaddr = 0x7f0000000000ull + 0x2000;
    g->vq.addr_set = true;
    g_assert_cmpint(vq_start(&g->vq, g->map), ==, 0);
    g->call_fd = eventfd(0, EFD_NONBLOCK);
    vq_set_call_fd(&g->vq, dup(g->call_fd));
}

static void guest_teardown(struct fake_guest *g)
{
    vq_done(&g->vq);
    vhu_memmap_unref(g->map);
    for (int i = 0; i < 2; i++) {
        munmap(g->mem[i], REG_SIZE);
        close(g->fd[i]);
    }
    close(g->call_fd);
}

static void set_desc(struct fake_guest *g, struct vring_desc *table, unsigned i, uint64_t addr,
                     uint32_t len, uint16_t flags, uint16_t next)
{
    table[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void make_avail(struct fake_guest *g, uint16_t head)
{
    g->avail->ring[g->avail->idx % QSIZE] = head;
    __atomic_store_n(&g->avail->idx, (uint16_t)(g->avail->idx + 1), __ATOMIC_RELEASE);
}

static bool call_signalled(struct fake_guest *g)
{
    uint64_t v;
    return read(g->call_fd, &v, sizeof(v)) == sizeof(v);
}

static void test_translate(void)
{
    struct fake_guest g;
    uint64_t contig;
    guest_setup(&g, false, false);

    g_assert_true(vhu_memmap_gpa(g.map, GPA0, &contig) == g.vq.mem->regions[0].host);
    g_assert_cmpuint(contig, ==, REG_SIZE);
    g_assert_nonnull(vhu_memmap_gpa(g.map, GPA1 + REG_SIZE - 1, &contig));
    g_assert_cmpuint(contig, ==, 1);
    g_assert_null(vhu_memmap_gpa(g.map, GPA1 + REG_SIZE, &contig));
    g_assert_null(vhu_memmap_gpa(g.map, GPA0 - 1, &contig));
    g_assert_null(vhu_memmap_gpa(g.map, UINT64_MAX, &contig));
    /* a range must be inside one region */
    g_assert_null(vhu_memmap_gpa_range(g.map, GPA1 - 8, 16));
    g_assert_nonnull(vhu_memmap_gpa_range(g.map, GPA1 - 16, 16));
    g_assert_null(vhu_memmap_uaddr_range(g.map, 0x7f0000000000ull + REG_SIZE - 4, 8));
    g_assert_null(vhu_memmap_uaddr_range(g.map, 0x7f0000000000ull, UINT64_MAX));
    guest_teardown(&g);
}

static void test_bad_regions(void)
{
    struct vhu_memmap *m;
    int fd = memfd_create("r", MFD_CLOEXEC);
    g_assert_cmpint(ftruncate(fd, 0x10000), ==, 0);

    struct vhu_mem_region zero = { .guest_phys_addr = 0, .memory_size = 0 };
    int f1 = dup(fd);
    g_assert_cmpint(vhu_memmap_from_table(&zero, &f1, 1, &m), ==, -EINVAL);

    struct vhu_mem_region wrap = { .guest_phys_addr = UINT64_MAX - 10, .memory_size = 4096,
                                   .userspace_addr = 0x1000 };
    f1 = dup(fd);
    g_assert_cmpint(vhu_memmap_from_table(&wrap, &f1, 1, &m), ==, -EINVAL);

    struct vhu_mem_region two[2] = {
        { .guest_phys_addr = 0, .memory_size = 4096, .userspace_addr = 0x10000 },
        { .guest_phys_addr = 2048, .memory_size = 4096, .userspace_addr = 0x20000 },
    };
    int fds[2] = { dup(fd), dup(fd) };
    g_assert_cmpint(vhu_memmap_from_table(two, fds, 2, &m), ==, -EINVAL);

    /* overlaps at the top of the address space, where start + size wraps */
    struct vhu_mem_region top[2] = {
        { .guest_phys_addr = UINT64_MAX - 0xffff, .memory_size = 0x10000,
          .userspace_addr = 0x10000 },
        { .guest_phys_addr = UINT64_MAX - 0x7fff, .memory_size = 4096,
          .userspace_addr = 0x40000 },
    };
    fds[0] = dup(fd);
    fds[1] = dup(fd);
    g_assert_cmpint(vhu_memmap_from_table(top, fds, 2, &m), ==, -EINVAL);
    struct vhu_mem_region utop[2] = {
        { .guest_phys_addr = 0, .memory_size = 0x10000, .userspace_addr = UINT64_MAX - 0xffff },
        { .guest_phys_addr = 0x100000, .memory_size = 4096,
          .userspace_addr = UINT64_MAX - 0x7fff },
    };
    fds[0] = dup(fd);
    fds[1] = dup(fd);
    g_assert_cmpint(vhu_memmap_from_table(utop, fds, 2, &m), ==, -EINVAL);
    /* touching the top without overlapping is fine */
    top[1].guest_phys_addr = UINT64_MAX - 0x1ffff;
    fds[0] = dup(fd);
    fds[1] = dup(fd);
    g_assert_cmpint(vhu_memmap_from_table(top, fds, 2, &m), ==, 0);
    vhu_memmap_unref(m);

    /* a bad fd fails cleanly */
    int bad = -1;
    struct vhu_mem_region ok = { .guest_phys_addr = 0, .memory_size = 4096, .userspace_addr = 1 };
    g_assert_cmpint(vhu_memmap_from_table(&ok, &bad, 1, &m), ==, -EINVAL);

    /* add and remove */
    f1 = dup(fd);
    g_assert_cmpint(vhu_memmap_from_table(&ok, &f1, 1, &m), ==, 0);
    struct vhu_memmap *m2, *m3;
    struct vhu_mem_region more = { .guest_phys_addr = 0x10000, .memory_size = 4096,
                                   .userspace_addr = 0x90000 };
    g_assert_cmpint(vhu_memmap_add(m, &more, dup(fd), 8, &m2), ==, 0);
    g_assert_cmpuint(m2->nregions, ==, 2);
    g_assert_cmpint(vhu_memmap_add(m2, &more, dup(fd), 8, &m3), ==, -EEXIST);
    g_assert_cmpint(vhu_memmap_add(m2, &more, dup(fd), 2, &m3), ==, -E2BIG);
    g_assert_cmpint(vhu_memmap_remove(m2, &ok, &m3), ==, 0);
    g_assert_cmpuint(m3->nregions, ==, 1);
    g_assert_cmpuint(m3->regions[0].gpa, ==, 0x10000);
    struct vhu_memmap *m4 = NULL;
    g_assert_cmpint(vhu_memmap_remove(m3, &ok, &m4), ==, -ENOENT); /* already gone */
    g_assert_null(m4);
    vhu_memmap_unref(m);
    vhu_memmap_unref(m2);
    vhu_memmap_unref(m3);
    close(fd);
}

static void test_direct_chain_crossing_regions(void)
{
    struct fake_guest g;
    struct req *reqs[4];
    guest_setup(&g, false, false);

    /* readable 64 bytes at the end of region 0 running into region 1, then writable */
    set_desc(&g, g.desc, 3, GPA1 - 32, 64, VRING_DESC_F_NEXT, 7);
    set_desc(&g, g.desc, 7, GPA0 + 0x8000, 100, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    set_desc(&g, g.desc, 2, GPA0 + 0x9000, 0, VRING_DESC_F_WRITE, 0); /* empty one is skipped */
    make_avail(&g, 3);

    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 4), ==, 1);
    struct req *r = reqs[0];
    g_assert_cmpuint(r->in_cnt, ==, 2);
    g_assert_true(r->in[0].iov_base == g.vq.mem->regions[0].host + REG_SIZE - 32);
    g_assert_cmpuint(r->in[0].iov_len, ==, 32);
    g_assert_true(r->in[1].iov_base == g.vq.mem->regions[1].host);
    g_assert_cmpuint(r->in[1].iov_len, ==, 32);
    g_assert_cmpuint(r->out_cnt, ==, 1);
    g_assert_cmpuint(r->out[0].iov_len, ==, 100);
    g_assert_cmpuint(r->slot, ==, 3);

    /* ring empty now */
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 4), ==, 0);

    req_complete(r, 42);
    g_assert_cmpuint(g.used->idx, ==, 1);
    g_assert_cmpuint(g.used->ring[0].id, ==, 3);
    g_assert_cmpuint(g.used->ring[0].len, ==, 42);
    g_assert_true(call_signalled(&g));
    guest_teardown(&g);
}

static void test_indirect(void)
{
    struct fake_guest g;
    struct req *reqs[2];
    guest_setup(&g, false, true);

    struct vring_desc *table = (struct vring_desc *)g2h(&g, GPA1 + 0x4000);
    set_desc(&g, table, 0, GPA1 + 0x5000, 40, VRING_DESC_F_NEXT, 2);
    set_desc(&g, table, 2, GPA1 + 0x6000, 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    set_desc(&g, table, 1, GPA1 + 0x8000, 16, VRING_DESC_F_WRITE, 0);
    set_desc(&g, g.desc, 0, GPA1 + 0x4000, 3 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
    make_avail(&g, 0);

    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 2), ==, 1);
    g_assert_cmpuint(reqs[0]->in_cnt, ==, 1);
    g_assert_cmpuint(reqs[0]->out_cnt, ==, 2);
    g_assert_cmpuint(reqs[0]->out[0].iov_len, ==, 4096);
    req_complete(reqs[0], 0);
    guest_teardown(&g);
}

/* One malformed shape: set up by `build`, expect the ring to be marked broken. */
typedef void build_fn(struct fake_guest *g);

static void expect_broken(build_fn *build, bool indirect)
{
    struct fake_guest g;
    struct req *reqs[4];
    guest_setup(&g, false, indirect);
    build(&g);
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 4), ==, -EIO);
    g_assert_true(g.vq.broken);
    /* stays broken: nothing more is popped, nothing was used */
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 4), ==, -EIO);
    g_assert_cmpuint(g.used->idx, ==, 0);
    /* a restart (what the frontend's reset does) clears it */
    vq_stop(&g.vq);
    g.avail->idx = 0;
    g.vq.base = 0;
    g_assert_cmpint(vq_start(&g.vq, g.map), ==, 0);
    g_assert_false(g.vq.broken);
    guest_teardown(&g);
}

static void build_loop(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA0 + 0x8000, 8, VRING_DESC_F_NEXT, 1);
    set_desc(g, g->desc, 1, GPA0 + 0x8000, 8, VRING_DESC_F_NEXT, 0);
    make_avail(g, 0);
}

static void build_out_of_range_addr(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA_HOLE, 8, 0, 0);
    make_avail(g, 0);
}

static void build_addr_overflow(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA1 + REG_SIZE - 8, 0xffffffffu, 0, 0);
    make_avail(g, 0);
}

static void build_next_out_of_range(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA0 + 0x8000, 8, VRING_DESC_F_NEXT, QSIZE + 5);
    make_avail(g, 0);
}

static void build_head_out_of_range(struct fake_guest *g)
{
    make_avail(g, QSIZE);
}

static void build_avail_jump(struct fake_guest *g)
{
    g->avail->idx = QSIZE + 1;
}

static void build_read_after_write(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA0 + 0x8000, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    set_desc(g, g->desc, 1, GPA0 + 0x9000, 8, 0, 0);
    make_avail(g, 0);
}

static void build_indirect_without_feature(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA1, 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(g, 0);
}

static void build_indirect_bad_len(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA1, 17, VRING_DESC_F_INDIRECT, 0);
    make_avail(g, 0);
}

static void build_indirect_nested(struct fake_guest *g)
{
    struct vring_desc *table = (struct vring_desc *)g2h(g, GPA1);
    set_desc(g, table, 0, GPA1 + 0x100, 16, VRING_DESC_F_INDIRECT, 0);
    set_desc(g, g->desc, 0, GPA1, 16, VRING_DESC_F_INDIRECT, 0);
    make_avail(g, 0);
}

static void build_indirect_loop(struct fake_guest *g)
{
    struct vring_desc *table = (struct vring_desc *)g2h(g, GPA1);
    set_desc(g, table, 0, GPA1 + 0x1000, 8, VRING_DESC_F_NEXT, 1);
    set_desc(g, table, 1, GPA1 + 0x1000, 8, VRING_DESC_F_NEXT, 0);
    set_desc(g, g->desc, 0, GPA1, 32, VRING_DESC_F_INDIRECT, 0);
    make_avail(g, 0);
}

static void build_indirect_outside(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA1 + REG_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
    make_avail(g, 0);
}

static void build_indirect_with_next(struct fake_guest *g)
{
    set_desc(g, g->desc, 0, GPA1, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
    make_avail(g, 0);
}

static void build_too_many_segments(struct fake_guest *g)
{
    /* an indirect table of 2048 one-byte descriptors alternating regions */
    struct vring_desc *table = (struct vring_desc *)g2h(g, GPA1);
    for (unsigned i = 0; i < 2048; i++)
        set_desc(g, table, i, GPA0 + 0x10000 + i, 1, i + 1 < 2048 ? VRING_DESC_F_NEXT : 0,
                 (uint16_t)(i + 1));
    set_desc(g, g->desc, 0, GPA1, 2048 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
    make_avail(g, 0);
}

#define BROKEN_CASE(name, indirect) \
    static void test_##name(void) { expect_broken(build_##name, indirect); }
BROKEN_CASE(loop, false)
BROKEN_CASE(out_of_range_addr, false)
BROKEN_CASE(addr_overflow, false)
BROKEN_CASE(next_out_of_range, false)
BROKEN_CASE(head_out_of_range, false)
BROKEN_CASE(avail_jump, false)
BROKEN_CASE(read_after_write, false)
BROKEN_CASE(indirect_without_feature, false)
BROKEN_CASE(indirect_bad_len, true)
BROKEN_CASE(indirect_nested, true)
BROKEN_CASE(indirect_loop, true)
BROKEN_CASE(indirect_outside, true)
BROKEN_CASE(indirect_with_next, true)
BROKEN_CASE(too_many_segments, true)

static void test_head_in_flight_twice(void)
{
    struct fake_guest g;
    struct req *reqs[4];
    guest_setup(&g, false, false);
    set_desc(&g, g.desc, 5, GPA0 + 0x8000, 8, 0, 0);
    make_avail(&g, 5);
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 4), ==, 1);
    make_avail(&g, 5); /* the guest reuses a head we still own */
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs + 1, 3), ==, -EIO);
    g_assert_true(g.vq.broken);
    req_complete(reqs[0], 0);
    guest_teardown(&g);
}

static void test_batch_and_partial_broken(void)
{
    struct fake_guest g;
    struct req *reqs[8];
    guest_setup(&g, false, false);
    for (unsigned i = 0; i < 3; i++) {
        set_desc(&g, g.desc, i, GPA0 + 0x8000 + i * 64, 64, 0, 0);
        make_avail(&g, (uint16_t)i);
    }
    make_avail(&g, QSIZE + 1); /* corrupt fourth entry */
    /* the three good ones are still served */
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 8), ==, 3);
    g_assert_true(g.vq.broken);
    for (unsigned i = 0; i < 3; i++)
        req_complete(reqs[i], 0);
    g_assert_cmpuint(g.used->idx, ==, 3);
    vq_wait_idle(&g.vq);
    guest_teardown(&g);
}

static void test_event_idx(void)
{
    struct fake_guest g;
    struct req *reqs[8];
    guest_setup(&g, true, false);
    uint16_t *used_event = (uint16_t *)&g.avail->ring[QSIZE];
    uint16_t *avail_event = (uint16_t *)&g.used->ring[QSIZE];

    for (unsigned i = 0; i < 4; i++) {
        set_desc(&g, g.desc, i, GPA0 + 0x8000 + i * 64, 64, VRING_DESC_F_WRITE, 0);
        make_avail(&g, (uint16_t)i);
    }
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 8), ==, 4);
    /* the driver wants an interrupt only once used idx passes 2 */
    *used_event = 2;
    req_complete(reqs[0], 1); /* first completion always signals (no history) */
    g_assert_true(call_signalled(&g));
    req_complete(reqs[1], 1); /* used idx 1 -> 2: the driver asked for entry 2 onward */
    g_assert_false(call_signalled(&g));
    req_complete(reqs[2], 1); /* used idx 2 -> 3: entry 2 is now used, signal */
    g_assert_true(call_signalled(&g));
    req_complete(reqs[3], 1);
    g_assert_false(call_signalled(&g));

    /* before sleeping, the device publishes avail_event and sees no more work */
    g_assert_false(vq_wait_prepare(&g.vq));
    g_assert_cmpuint(*avail_event, ==, 4);
    make_avail(&g, 0);
    g_assert_true(vq_wait_prepare(&g.vq));
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 8), ==, 1);

    /* a completion the driver asked for signals at once, also from the
     * queue thread in the middle of a batch */
    *used_event = 4;
    req_complete(reqs[0], 1);
    g_assert_true(call_signalled(&g));
    guest_teardown(&g);
}

static void test_no_interrupt_flag(void)
{
    struct fake_guest g;
    struct req *reqs[2];
    guest_setup(&g, false, false);
    set_desc(&g, g.desc, 0, GPA0 + 0x8000, 8, 0, 0);
    make_avail(&g, 0);
    g.avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 2), ==, 1);
    req_complete(reqs[0], 0);
    g_assert_false(call_signalled(&g));
    g_assert_cmpuint(g.vq.stats.suppressed, ==, 1);
    guest_teardown(&g);
}

/* What the executor asks after a request completed on the queue thread. */
static void test_more_waiting(void)
{
    struct fake_guest g;
    struct req *reqs[2];
    guest_setup(&g, false, false);
    set_desc(&g, g.desc, 0, GPA0 + 0x8000, 8, 0, 0);
    set_desc(&g, g.desc, 1, GPA0 + 0x9000, 8, 0, 0);
    make_avail(&g, 0);
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 2), ==, 1);
    g_assert_nonnull(reqs[0]->more_waiting);
    /* the driver adds one while the first is served */
    make_avail(&g, 1);
    req_complete(reqs[0], 0);
    g_assert_true(reqs[0]->more_waiting(reqs[0]));

    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 2), ==, 1);
    req_complete(reqs[0], 0);
    g_assert_false(reqs[0]->more_waiting(reqs[0]));
    /* one added after the completion is the driver's answer to it */
    make_avail(&g, 0);
    g_assert_false(reqs[0]->more_waiting(reqs[0]));
    g_assert_cmpint(vq_pop_batch(&g.vq, reqs, 2), ==, 1);
    req_complete(reqs[0], 0);
    guest_teardown(&g);
}

static void test_rings_outside_memory(void)
{
    struct fake_guest g;
    guest_setup(&g, false, false);
    vq_stop(&g.vq);
    g.vq.used_uaddr = 0x7f0000000000ull + REG_SIZE - 8; /* used ring runs off the region */
    g_assert_cmpint(vq_start(&g.vq, g.map), ==, -EINVAL);
    g.vq.used_uaddr = 0x7f0000000000ull + 0x2001; /* misaligned */
    g_assert_cmpint(vq_start(&g.vq, g.map), ==, -EINVAL);
    guest_teardown(&g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/translate", test_translate);
    g_test_add_func("/memory/bad_regions", test_bad_regions);
    g_test_add_func("/vring/direct_chain_crossing_regions", test_direct_chain_crossing_regions);
    g_test_add_func("/vring/indirect", test_indirect);
    g_test_add_func("/vring/event_idx", test_event_idx);
    g_test_add_func("/vring/no_interrupt_flag", test_no_interrupt_flag);
    g_test_add_func("/vring/rings_outside_memory", test_rings_outside_memory);
    g_test_add_func("/vring/batch_and_partial_broken", test_batch_and_partial_broken);
    g_test_add_func("/vring/malformed/head_in_flight_twice", test_head_in_flight_twice);
    g_test_add_func("/vring/malformed/loop", test_loop);
    g_test_add_func("/vring/malformed/out_of_range_addr", test_out_of_range_addr);
    g_test_add_func("/vring/malformed/addr_overflow", test_addr_overflow);
    g_test_add_func("/vring/malformed/next_out_of_range", test_next_out_of_range);
    g_test_add_func("/vring/malformed/head_out_of_range", test_head_out_of_range);
    g_test_add_func("/vring/malformed/avail_jump", test_avail_jump);
    g_test_add_func("/vring/malformed/read_after_write", test_read_after_write);
    g_test_add_func("/vring/malformed/indirect_without_feature", test_indirect_without_feature);
    g_test_add_func("/vring/malformed/indirect_bad_len", test_indirect_bad_len);
    g_test_add_func("/vring/malformed/indirect_nested", test_indirect_nested);
    g_test_add_func("/vring/malformed/indirect_loop", test_indirect_loop);
    g_test_add_func("/vring/malformed/indirect_outside", test_indirect_outside);
    g_test_add_func("/vring/malformed/indirect_with_next", test_indirect_with_next);
    g_test_add_func("/vring/malformed/too_many_segments", test_too_many_segments);
    g_test_add_func("/vring/more_waiting", test_more_waiting);
    return g_test_run();
}

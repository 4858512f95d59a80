/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test client's vhost-user frontend against a scripted backend on the
 * other end of a socketpair: message order and contents of the handshake,
 * REPLY_ACK use, memory tables, queue control and the failure paths.
 */
#include <errno.h>
#include <glib.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/tc_vhost.h"

#define DEV_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) | \
                      (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << TC_VHU_F_PROTOCOL_FEATURES) | \
                      (1ull << VIRTIO_F_NOTIFY_ON_EMPTY))
#define PROTO(b) (1ull << TC_VHU_PROTOCOL_F_##b)
#define DEV_PROTOCOL (PROTO(MQ) | PROTO(LOG_SHMFD) | PROTO(REPLY_ACK) | PROTO(BACKEND_REQ) | \
                      PROTO(CONFIG) | PROTO(CONFIGURE_MEM_SLOTS) | PROTO(INBAND_NOTIFICATIONS))
#define QUEUE_SIZE 256

struct backend {
    int sock;
    /* script knobs */
    unsigned nqueues;       /* queues the client starts */
    uint64_t queue_num;     /* GET_QUEUE_NUM answer */
    bool mem_slots;         /* expect ADD_MEM_REG */
    bool no_protocol;       /* the client does not use protocol features */
    uint32_t fail_ack_on;   /* ack this request with 1 */
    uint32_t hang_up_on;    /* close on receiving this request */
    uint32_t bad_reply_to;  /* answer this request under a wrong id */
    bool after;             /* serve the post-handshake requests of test_after */
    /* learned */
    int backend_peer;
    struct tc_vhu_mem_region regions[TC_VHU_MAX_FDS];
    unsigned nregions;
};

struct msg {
    struct tc_vhu_hdr hdr;
    union {
        uint64_t u64;
        struct tc_vhu_vring_state state;
        struct tc_vhu_vring_addr addr;
        struct tc_vhu_mem_table table;
        struct tc_vhu_mem_reg reg;
        struct tc_vhu_config_hdr config;
        uint8_t bytes[512];
    };
    int len;
    int fds[TC_VHU_MAX_FDS];
    unsigned nfds;
};

/* Receives the next message, which must be `request`; false when the
 * script hangs up here. */
static bool expect(struct backend *b, uint32_t request, struct msg *m)
{
    m->nfds = TC_VHU_MAX_FDS;
    m->len = tc_vhu_recv(b->sock, &m->hdr, m->bytes, sizeof(m->bytes), m->fds, &m->nfds, 5000);
    g_assert_cmpint(m->len, >=, 0);
    g_assert_cmpuint(m->hdr.request, ==, request);
    g_assert_cmpuint(m->hdr.flags & 3, ==, TC_VHU_VERSION);
    g_assert_false(m->hdr.flags & TC_VHU_FLAG_REPLY);
    if (b->hang_up_on == request) {
        for (unsigned i = 0; i < m->nfds; i++)
            close(m->fds[i]);
        close(b->sock);
        b->sock = -1;
        return false;
    }
    return true;
}

static void reply(struct backend *b, const struct msg *m, const void *payload, uint32_t len)
{
    struct tc_vhu_hdr h = {
        .request = m->hdr.request == b->bad_reply_to ? m->hdr.request + 1 : m->hdr.request,
        .flags = TC_VHU_VERSION | TC_VHU_FLAG_REPLY,
        .size = len,
    };
    g_assert_cmpint(tc_vhu_send(b->sock, &h, payload, len, NULL, 0), ==, 0);
}

static void reply_u64(struct backend *b, const struct msg *m, uint64_t v)
{
    reply(b, m, &v, sizeof(v));
}

/* With REPLY_ACK in use every message without a reply of its own asks for
 * an ack; without it none may. False when the ack said failure. */
static bool ack(struct backend *b, const struct msg *m, bool acks)
{
    g_assert_cmpuint(!!(m->hdr.flags & TC_VHU_FLAG_NEED_REPLY), ==, acks);
    bool fail = m->hdr.request == b->fail_ack_on;
    if (acks)
        reply_u64(b, m, fail ? 1 : 0);
    return !fail;
}

static void close_fds(struct msg *m)
{
    for (unsigned i = 0; i < m->nfds; i++)
        close(m->fds[i]);
    m->nfds = 0;
}

/* A region as the client must declare it: GPAs contiguous from
 * TC_GPA_BASE, file offsets matching, user addresses of its own. */
static void check_region(struct backend *b, const struct tc_vhu_mem_region *r)
{
    uint64_t expect_gpa = TC_GPA_BASE;
    for (unsigned i = 0; i < b->nregions; i++)
        expect_gpa += b->regions[i].memory_size;
    g_assert_cmpuint(r->guest_phys_addr, ==, expect_gpa);
    g_assert_cmpuint(r->mmap_offset, ==, expect_gpa - TC_GPA_BASE);
    g_assert_cmpuint(r->memory_size, >, 0);
    g_assert_cmpuint(r->userspace_addr, !=, r->guest_phys_addr);
    g_assert_cmpuint(b->nregions, <, TC_VHU_MAX_FDS);
    b->regions[b->nregions++] = *r;
}

static bool in_regions(const struct backend *b, uint64_t uaddr)
{
    for (unsigned i = 0; i < b->nregions; i++)
        if (uaddr >= b->regions[i].userspace_addr &&
            uaddr < b->regions[i].userspace_addr + b->regions[i].memory_size)
            return true;
    return false;
}

static void serve_after(struct backend *b, bool acks);

/* QEMU 7.2 vhost-user-fs's sequence, checked message by message. */
static gpointer backend_thread(gpointer data)
{
    struct backend *b = data;
    struct msg m;
    bool acks = false;

    if (!expect(b, TC_VHU_GET_FEATURES, &m))
        return NULL;
    g_assert_cmpint(m.len, ==, 0);
    reply_u64(b, &m, DEV_FEATURES);
    if (!expect(b, TC_VHU_SET_OWNER, &m))
        return NULL;
    ack(b, &m, false);

    if (!b->no_protocol) {
        if (!expect(b, TC_VHU_GET_PROTOCOL_FEATURES, &m))
            return NULL;
        reply_u64(b, &m, DEV_PROTOCOL);
        if (!expect(b, TC_VHU_SET_PROTOCOL_FEATURES, &m))
            return NULL;
        g_assert_cmpint(m.len, ==, 8);
        /* what the client wants of what is offered, nothing else */
        g_assert_cmpuint(m.u64, ==, PROTO(MQ) | PROTO(REPLY_ACK) | PROTO(BACKEND_REQ) |
                                     PROTO(CONFIG) | PROTO(CONFIGURE_MEM_SLOTS));
        ack(b, &m, false);
        acks = true;

        if (!expect(b, TC_VHU_GET_QUEUE_NUM, &m))
            return NULL;
        reply_u64(b, &m, b->queue_num);
        if (b->queue_num < b->nqueues || b->bad_reply_to == TC_VHU_GET_QUEUE_NUM)
            return NULL; /* the client gives up here */
        if (!expect(b, TC_VHU_GET_MAX_MEM_SLOTS, &m))
            return NULL;
        reply_u64(b, &m, 8);
        if (!expect(b, TC_VHU_SET_BACKEND_REQ_FD, &m))
            return NULL;
        g_assert_cmpuint(m.nfds, ==, 1);
        b->backend_peer = m.fds[0];
        m.nfds = 0;
        ack(b, &m, true);
    }

    if (!expect(b, TC_VHU_SET_FEATURES, &m))
        return NULL;
    uint64_t want = DEV_FEATURES & ~(1ull << VIRTIO_F_NOTIFY_ON_EMPTY);
    if (b->no_protocol)
        want &= ~(1ull << TC_VHU_F_PROTOCOL_FEATURES);
    g_assert_cmpuint(m.u64, ==, want);
    if (!ack(b, &m, acks))
        return NULL;

    if (b->mem_slots) {
        for (unsigned i = 0; i < 3; i++) {
            if (!expect(b, TC_VHU_ADD_MEM_REG, &m))
                return NULL;
            g_assert_cmpint(m.len, ==, sizeof(struct tc_vhu_mem_reg));
            g_assert_cmpuint(m.nfds, ==, 1);
            check_region(b, &m.reg.region);
            close_fds(&m);
            ack(b, &m, acks);
        }
    } else {
        if (!expect(b, TC_VHU_SET_MEM_TABLE, &m))
            return NULL;
        /* only the regions in use travel, one fd each */
        g_assert_cmpint(m.len, ==, 8 + m.table.nregions * sizeof(struct tc_vhu_mem_region));
        g_assert_cmpuint(m.nfds, ==, m.table.nregions);
        for (unsigned i = 0; i < m.table.nregions; i++)
            check_region(b, &m.table.regions[i]);
        close_fds(&m);
        ack(b, &m, acks);
    }

    for (unsigned q = 0; q < b->nqueues; q++) {
        if (!expect(b, TC_VHU_SET_VRING_NUM, &m))
            return NULL;
        g_assert_cmpuint(m.state.index, ==, q);
        g_assert_cmpuint(m.state.num, ==, QUEUE_SIZE);
        ack(b, &m, acks);
        if (!expect(b, TC_VHU_SET_VRING_BASE, &m))
            return NULL;
        g_assert_cmpuint(m.state.index, ==, q);
        g_assert_cmpuint(m.state.num, ==, 0);
        ack(b, &m, acks);
        if (!expect(b, TC_VHU_SET_VRING_ADDR, &m))
            return NULL;
        g_assert_cmpuint(m.addr.index, ==, q);
        g_assert_cmpuint(m.addr.flags, ==, 0);
        /* ring addresses are user addresses inside a declared region */
        g_assert_true(in_regions(b, m.addr.desc_user_addr));
        g_assert_true(in_regions(b, m.addr.avail_user_addr));
        g_assert_true(in_regions(b, m.addr.used_user_addr));
        g_assert_cmpuint(m.addr.desc_user_addr % 16, ==, 0);
        g_assert_cmpuint(m.addr.avail_user_addr % 2, ==, 0);
        g_assert_cmpuint(m.addr.used_user_addr % 4, ==, 0);
        g_assert_cmpuint(m.addr.avail_user_addr, >=, m.addr.desc_user_addr + 16 * QUEUE_SIZE);
        ack(b, &m, acks);
        if (!expect(b, TC_VHU_SET_VRING_KICK, &m))
            return NULL;
        g_assert_cmpuint(m.u64, ==, q);
        g_assert_cmpuint(m.nfds, ==, 1);
        close_fds(&m);
        ack(b, &m, acks);
        if (!expect(b, TC_VHU_SET_VRING_CALL, &m))
            return NULL;
        g_assert_cmpuint(m.u64, ==, q);
        g_assert_cmpuint(m.nfds, ==, 1);
        close_fds(&m);
        ack(b, &m, acks);
        if (!b->no_protocol) {
            if (!expect(b, TC_VHU_SET_VRING_ENABLE, &m))
                return NULL;
            g_assert_cmpuint(m.state.index, ==, q);
            g_assert_cmpuint(m.state.num, ==, 1);
            ack(b, &m, acks);
        }
    }
    if (b->after)
        serve_after(b, acks);
    return NULL;
}

/* Counterpart of the requests test_after() makes once connected. */
static void serve_after(struct backend *b, bool acks)
{
    struct msg m;

    /* GET_CONFIG: answered with the virtio-fs config */
    g_assert_true(expect(b, TC_VHU_GET_CONFIG, &m));
    g_assert_cmpint(m.len, ==, sizeof(struct tc_vhu_config_hdr) + 40);
    g_assert_cmpuint(m.config.offset, ==, 0);
    g_assert_cmpuint(m.config.size, ==, 40);
    memcpy(m.bytes + sizeof(m.config), "myfs", 5);
    uint32_t nq = 1;
    memcpy(m.bytes + sizeof(m.config) + 36, &nq, 4);
    reply(b, &m, m.bytes, (uint32_t)m.len);
    /* and the error form: an empty config */
    g_assert_true(expect(b, TC_VHU_GET_CONFIG, &m));
    struct tc_vhu_config_hdr empty = m.config;
    empty.size = 0;
    reply(b, &m, &empty, sizeof(empty));

    /* GET_VRING_BASE stops the queue and tells where it was */
    g_assert_true(expect(b, TC_VHU_GET_VRING_BASE, &m));
    g_assert_cmpuint(m.state.index, ==, 1);
    g_assert_false(m.hdr.flags & TC_VHU_FLAG_NEED_REPLY);
    m.state.num = 42;
    reply(b, &m, &m.state, sizeof(m.state));

    /* restart resumes at the given base */
    g_assert_true(expect(b, TC_VHU_SET_VRING_NUM, &m));
    ack(b, &m, acks);
    g_assert_true(expect(b, TC_VHU_SET_VRING_BASE, &m));
    g_assert_cmpuint(m.state.index, ==, 1);
    g_assert_cmpuint(m.state.num, ==, 42);
    ack(b, &m, acks);
    for (uint32_t r = TC_VHU_SET_VRING_ADDR; r <= TC_VHU_SET_VRING_CALL; r++) {
        if (r == TC_VHU_SET_VRING_BASE || r == TC_VHU_GET_VRING_BASE)
            continue;
        g_assert_true(expect(b, r, &m));
        close_fds(&m);
        ack(b, &m, acks);
    }
    g_assert_true(expect(b, TC_VHU_SET_VRING_ENABLE, &m));
    ack(b, &m, acks);

    /* REM_MEM_REG names a declared region and carries no fd */
    g_assert_true(expect(b, TC_VHU_REM_MEM_REG, &m));
    g_assert_cmpuint(m.nfds, ==, 0);
    g_assert_cmpmem(&m.reg.region, sizeof(m.reg.region), &b->regions[1], sizeof(b->regions[1]));
    ack(b, &m, acks);

    /* a raw message arrives exactly as written, size field and all */
    g_assert_true(expect(b, 0xabcd, &m));
    g_assert_cmpuint(m.hdr.flags, ==, TC_VHU_VERSION | TC_VHU_FLAG_NEED_REPLY | 0x80);
    g_assert_cmpuint(m.hdr.size, ==, 3);
    g_assert_cmpint(m.len, ==, 3);
    g_assert_cmpmem(m.bytes, 3, "abc", 3);
    g_assert_cmpuint(m.nfds, ==, 1);
    close_fds(&m);
    reply_u64(b, &m, 7);
    close(b->sock);
    b->sock = -1;
}

struct run {
    struct backend b;
    struct tc_dev *dev;
    GThread *thread;
};

static int run_connect(struct run *r, unsigned flags, unsigned mem_regions)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    r->b.sock = sv[1];
    r->b.backend_peer = -1;
    if (!r->b.nqueues)
        r->b.nqueues = 2;
    r->thread = g_thread_new("backend", backend_thread, &r->b);
    struct tc_config cfg = {
        .fd = sv[0], .mem_size = 6 << 20, .mem_regions = mem_regions,
        .queue_size = QUEUE_SIZE, .flags = flags, .timeout_ms = 2000,
        .num_request_queues = r->b.nqueues - 1,
    };
    return tc_dev_connect(&cfg, &r->dev);
}

static void run_done(struct run *r)
{
    if (r->thread)
        g_thread_join(r->thread);
    tc_dev_free(r->dev);
    if (r->b.sock >= 0)
        close(r->b.sock);
    if (r->b.backend_peer >= 0)
        close(r->b.backend_peer);
}

static void test_handshake(gconstpointer data)
{
    bool mem_slots = GPOINTER_TO_INT(data);
    struct run r = { .b = { .queue_num = 2, .mem_slots = mem_slots } };

    g_assert_cmpint(run_connect(&r, mem_slots ? TC_CFG_MEM_SLOTS : 0, 3), ==, 0);
    struct tc_dev *dev = r.dev;
    g_assert_true(dev->reply_ack);
    g_assert_cmpuint(dev->queue_num, ==, 2);
    g_assert_cmpuint(dev->max_mem_slots, ==, 8);
    g_assert_cmpuint(dev->features, ==, DEV_FEATURES & ~(1ull << VIRTIO_F_NOTIFY_ON_EMPTY));
    g_assert_true(dev->started[0] && dev->started[1]);
    g_assert_true(dev->vqs[1].event_idx);
    g_assert_cmpuint(dev->vqs[1].ind_pool.len, >, 0);
    g_thread_join(r.thread);
    r.thread = NULL;

    /* the backend channel works both ways */
    g_assert_cmpint(dev->backend_fd, >=, 0);
    g_assert_cmpint(write(r.b.backend_peer, "x", 1), ==, 1);
    char c;
    g_assert_cmpint(read(dev->backend_fd, &c, 1), ==, 1);
    run_done(&r);
}

static void test_after(void)
{
    struct run r = { .b = { .queue_num = 2, .after = true } };
    char cfg[40];
    uint32_t base;

    g_assert_cmpint(run_connect(&r, 0, 2), ==, 0);
    struct tc_dev *dev = r.dev;
    g_assert_cmpint(tc_dev_get_config(dev, 0, cfg, sizeof(cfg)), ==, 40);
    g_assert_cmpstr(cfg, ==, "myfs");
    g_assert_cmpint(tc_dev_get_config(dev, 0, cfg, sizeof(cfg)), ==, -EIO);
    g_assert_cmpint(tc_dev_queue_stop(dev, 1, &base), ==, 0);
    g_assert_cmpuint(base, ==, 42);
    g_assert_false(dev->started[1]);
    g_assert_cmpint(tc_dev_queue_start(dev, 1, false, (uint16_t)base), ==, 0);
    g_assert_cmpint(tc_dev_rem_mem_reg(dev, 1), ==, 0);

    int fd = dup(dev->backend_fd);
    g_assert_cmpint(tc_dev_send_raw(dev, 0xabcd, TC_VHU_VERSION | TC_VHU_FLAG_NEED_REPLY | 0x80,
                                    "abc", 3, &fd, 1), ==, 0);
    close(fd);
    struct tc_vhu_hdr h;
    uint64_t v = 0;
    g_assert_cmpint(tc_dev_recv_raw(dev, &h, &v, sizeof(v), 2000), ==, 8);
    g_assert_cmpuint(h.request, ==, 0xabcd);
    g_assert_cmpuint(v, ==, 7);
    /* then the backend hangs up */
    g_assert_true(tc_dev_peer_closed(dev, 2000));
    g_assert_cmpint(tc_dev_recv_raw(dev, &h, &v, sizeof(v), 100), ==, -ECONNRESET);
    run_done(&r);
}

static void test_no_protocol_features(void)
{
    struct run r = { .b = { .no_protocol = true } };
    char cfg[8];

    g_assert_cmpint(run_connect(&r, TC_CFG_NO_PROTOCOL_FEATURES, 1), ==, 0);
    g_assert_false(r.dev->reply_ack);
    g_assert_cmpuint(r.dev->dev_protocol_features, ==, 0);
    g_assert_cmpint(r.dev->backend_fd, ==, -1);
    g_assert_cmpint(tc_dev_get_config(r.dev, 0, cfg, sizeof(cfg)), ==, -EOPNOTSUPP);
    run_done(&r);
}

static void test_too_few_queues(void)
{
    struct run r = { .b = { .nqueues = 3, .queue_num = 2 } };
    g_assert_cmpint(run_connect(&r, 0, 1), ==, -EOPNOTSUPP);
    g_assert_null(r.dev);
    run_done(&r);
}

static void test_nack(void)
{
    struct run r = { .b = { .queue_num = 2, .fail_ack_on = TC_VHU_SET_FEATURES } };
    g_assert_cmpint(run_connect(&r, 0, 1), ==, -EIO);
    run_done(&r);
}

static void test_hang_up(void)
{
    struct run r = { .b = { .queue_num = 2, .hang_up_on = TC_VHU_SET_MEM_TABLE } };
    int res = run_connect(&r, 0, 1);
    /* the loss shows when the ack does not come */
    g_assert_cmpint(res, ==, -ECONNRESET);
    run_done(&r);
}

static void test_bad_reply(void)
{
    struct run r = { .b = { .queue_num = 2, .bad_reply_to = TC_VHU_GET_QUEUE_NUM } };
    g_assert_cmpint(run_connect(&r, 0, 1), ==, -EPROTO);
    g_assert_null(r.dev);
    run_done(&r);
}

static void test_mem_slots_unsupported(void)
{
    int sv[2];
    struct tc_dev *dev;

    /* no protocol features, so no CONFIGURE_MEM_SLOTS: refuse before sending */
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    struct tc_config cfg = { .fd = sv[0], .mem_size = 2 << 20, .flags = TC_CFG_CONNECT_ONLY | TC_CFG_MEM_SLOTS };
    g_assert_cmpint(tc_dev_connect(&cfg, &dev), ==, 0);
    g_assert_cmpint(tc_dev_set_mem(dev), ==, -EOPNOTSUPP);
    tc_dev_free(dev);
    close(sv[1]);

    /* bad configurations */
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    cfg = (struct tc_config){ .fd = sv[0], .queue_size = 1000 };
    g_assert_cmpint(tc_dev_connect(&cfg, &dev), ==, -EINVAL);
    close(sv[1]);
    cfg = (struct tc_config){ .socket_path = "/nonexistent/socket" };
    g_assert_cmpint(tc_dev_connect(&cfg, &dev), ==, -ENOENT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/tc_vhost/handshake/mem_table", GINT_TO_POINTER(0), test_handshake);
    g_test_add_data_func("/tc_vhost/handshake/mem_slots", GINT_TO_POINTER(1), test_handshake);
    g_test_add_func("/tc_vhost/after_handshake", test_after);
    g_test_add_func("/tc_vhost/no_protocol_features", test_no_protocol_features);
    g_test_add_func("/tc_vhost/too_few_queues", test_too_few_queues);
    g_test_add_func("/tc_vhost/nack", test_nack);
    g_test_add_func("/tc_vhost/hang_up", test_hang_up);
    g_test_add_func("/tc_vhost/bad_reply", test_bad_reply);
    g_test_add_func("/tc_vhost/config_errors", test_mem_slots_unsupported);
    return g_test_run();
}

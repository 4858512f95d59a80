/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Deliberately malformed input against a real daemon: vhost-user messages
 * that break the protocol, FUSE requests that break their format, and
 * corrupt descriptor rings.
 *
 * Every case starts its own daemon on a fresh directory, does one bad thing
 * and checks what must happen:
 *  - the reaction: the connection closed (exit status 1), a failure ack
 *    (REPLY_ACK), an error reply with the exact errno, no reply, or the
 *    queue stopped;
 *  - that the daemon's log names the problem in a readable line;
 *  - that it did not crash: it always ends with the exact exit status
 *    expected, never by a signal (cases that keep the connection hang up at
 *    the end and expect the 0 of an orderly disconnect; a sandboxed child
 *    that crashes shows as 128 + signal, which no case accepts);
 *  - where it keeps serving, that a valid request afterwards still works.
 *
 * The expected log lines and exit statuses are this project's daemon's, so
 * the suite is skipped when VFSD_DAEMON names another one.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <linux/virtio_config.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/integration/fixture.h"

#define ROOT FUSE_ROOT_ID
#define EXIT_TIMEOUT_MS 5000
#define CLOSE_TIMEOUT_MS 2000
/* How long to wait for something that must not happen. */
#define SILENCE_MS 100

#define ARG(p, l) ((struct tc_fuse_in_arg){ .ptr = (p), .len = (uint32_t)(l) })
#define STR(s)    ARG((s), strlen(s) + 1)

/* ---- daemon life and log ------------------------------------------------- */

/* The log of the running case, shown when a failure ends the program. */
static const char *current_log;

static void show_log_on_abort(int sig)
{
    static const char head[] = "# daemon log of the failing case:\n";
    char buf[4096];
    ssize_t n;

    if (current_log) {
        int fd = open(current_log, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && write(STDERR_FILENO, head, sizeof(head) - 1) > 0)
            while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (write(STDERR_FILENO, buf, (size_t)n) < 0)
                    break;
        if (fd >= 0)
            close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void mf_setup(struct fx *f, gconstpointer data)
{
    fx_setup(f, data);
    current_log = f->log;
}

static char *read_log(struct fx *f)
{
    char *s = NULL;
    if (!g_file_get_contents(f->log, &s, NULL, NULL))
        return g_strdup("");
    return s;
}

static unsigned count_occurrences(const char *text, const char *needle)
{
    unsigned n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* How long a log line may take to show up, in 10 ms steps. */
#define LOG_WAIT_STEPS 300

/* The daemon log says `needle` (waiting for it to be written). */
static void assert_log(struct fx *f, const char *needle)
{
    for (int i = 0; i < LOG_WAIT_STEPS; i++) {
        if (tc_file_contains(f->log, needle))
            return;
        g_usleep(10000);
    }
    g_error("the daemon log does not say \"%s\"", needle);
}

static void assert_log_once(struct fx *f, const char *needle)
{
    assert_log(f, needle);
    g_autofree char *log = read_log(f);
    if (count_occurrences(log, needle) != 1)
        g_error("the daemon log says \"%s\" %u times, not once", needle,
                count_occurrences(log, needle));
}

/* A log line about request `unique` (opcode `op`) says `why`. */
static void assert_req_log(struct fx *f, uint64_t unique, const char *op, const char *why)
{
    g_autofree char *prefix = g_strdup_printf("request %" G_GUINT64_FORMAT " (%s): ", unique, op);
    for (int i = 0; i < LOG_WAIT_STEPS; i++) {
        g_autofree char *log = read_log(f);
        g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
        for (char **l = lines; *l; l++) {
            const char *p = strstr(*l, prefix);
            if (p && strstr(p + strlen(prefix), why))
                return;
        }
        g_usleep(10000);
    }
    g_error("the daemon log has no line \"%s...%s\"", prefix, why);
}

/* Waits for the daemon to end by itself with exit status `status`. */
static void expect_exit(struct fx *f, int status)
{
    char buf[64];
    int st = 0;
    int r = tc_daemon_wait_exit(f->pid, EXIT_TIMEOUT_MS, &st);

    if (r == -ETIMEDOUT) {
        tc_daemon_stop(f->pid, 1000, &st);
        f->pid = 0;
        g_error("the daemon did not exit by itself");
    }
    g_assert_cmpint(r, ==, 0);
    f->pid = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != status)
        g_error("the daemon %s; expected exit status %d", tc_wstatus_str(st, buf, sizeof(buf)),
                status);
}

/* The daemon closed the connection over what was just sent and said why. */
static void expect_closed(struct fx *f, const char *why)
{
    g_assert_true(tc_dev_peer_closed(f->dev, CLOSE_TIMEOUT_MS));
    expect_exit(f, 1);
    assert_log(f, why);
    assert_log(f, "closing the connection after a malformed message");
}

static void mf_teardown(struct fx *f, gconstpointer data)
{
    if (f->pid > 0) {
        /* still serving: hanging up is an orderly disconnect */
        tc_dev_free(f->dev);
        f->dev = NULL;
        expect_exit(f, 0);
        assert_log(f, "frontend disconnected");
    }
    current_log = NULL;
    fx_teardown(f, data);
}

/* ---- FUSE helpers -------------------------------------------------------- */

static uint8_t reply_buf[8192];

/* Sends req on its queue with room for a reply (unless NOREPLY); returns
 * tc_fuse_call()'s result. req->unique is its id afterwards. */
static int call(struct fx *f, struct tc_fuse_req *req)
{
    if (!req->out_cnt && !((req->flags | f->dev->fuse.flags) & TC_FUSE_NOREPLY)) {
        req->out[0] = (struct tc_fuse_out_arg){ reply_buf, sizeof(reply_buf) };
        req->out_cnt = 1;
    }
    return tc_fuse_call(f->dev, req);
}

/* A valid GETATTR of the root on request queue q works, and nothing else
 * is pending on that queue: every earlier request got exactly one answer. */
static void assert_root_ok(struct fx *f, unsigned q)
{
    struct fuse_getattr_in in = { 0 };
    struct fuse_attr_out out;
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = ROOT, .queue = q,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
        .out_cnt = 1, .out = { { &out, sizeof(out) } },
    };
    if (q == 0)
        req.flags = TC_FUSE_HIPRIO;
    g_assert_cmpint(tc_fuse_call(f->dev, &req), ==, sizeof(out));
    g_assert_true(S_ISDIR(out.attr.mode));
    g_assert_false(tc_vq_has_used(&f->dev->vqs[q]));
    g_assert_cmpuint(f->dev->vqs[q].inflight, ==, 0);
}

/* The shared directory is still empty: nothing was created by a rejected request. */
static void assert_share_empty(struct fx *f)
{
    g_autoptr(GDir) d = g_dir_open(f->share, 0, NULL);
    g_assert_nonnull(d);
    const char *name = g_dir_read_name(d);
    if (name)
        g_error("a rejected request left \"%s\" in the shared directory", name);
}

/*
 * A hand-made chain on queue q: one readable descriptor with in[0..in_len)
 * (none when in_len is 0) and one writable descriptor of out_len bytes (none
 * when 0). Waits up to wait_ms for its used entry: returns 1 with *used and
 * the reply header in *oh, 0 when nothing came back.
 */
static int raw_request(struct fx *f, unsigned q, const void *in, size_t in_len, size_t out_len,
                       int wait_ms, uint32_t *used, struct fuse_out_header *oh)
{
    struct tc_vq *vq = &f->dev->vqs[q];
    struct tc_buf buf;
    uint16_t ids[2];
    unsigned n = (in_len ? 1 : 0) + (out_len ? 1 : 0);
    unsigned k = 0;
    uint32_t id;

    g_assert_cmpuint(n, >, 0);
    g_assert_cmpint(tc_buf_alloc(f->dev->mem, in_len + out_len + 64, 64, TC_BUF_ZERO, &buf), ==, 0);
    if (in_len)
        memcpy(buf.ptr, in, in_len);
    g_assert_cmpint(tc_vq_raw_take(vq, n, ids), ==, 0);
    if (in_len)
        *tc_vq_raw_desc(vq, ids[k++]) = (struct vring_desc){
            .addr = buf.gpa, .len = (uint32_t)in_len,
            .flags = out_len ? VRING_DESC_F_NEXT : 0, .next = n > 1 ? ids[1] : 0,
        };
    if (out_len)
        *tc_vq_raw_desc(vq, ids[k++]) = (struct vring_desc){
            .addr = buf.gpa + in_len, .len = (uint32_t)out_len, .flags = VRING_DESC_F_WRITE,
        };
    tc_vq_raw_submit(vq, ids[0], ids, n, NULL);
    g_assert_cmpint(tc_vq_kick(vq), >=, 0);
    if (tc_vq_wait(vq, wait_ms) != 0)
        return 0; /* the buffer stays with the ring */
    g_assert_cmpint(tc_vq_raw_get_used(vq, &id, used), ==, 1);
    g_assert_cmpuint(id, ==, ids[0]);
    memset(oh, 0, sizeof(*oh));
    if (*used >= sizeof(*oh))
        memcpy(oh, (char *)buf.ptr + in_len, sizeof(*oh));
    tc_buf_free(f->dev->mem, &buf);
    return 1;
}

/* A GETATTR of the root as raw bytes. */
struct getattr_bytes {
    struct fuse_in_header h;
    struct fuse_getattr_in a;
};

static struct getattr_bytes getattr_bytes(uint64_t unique)
{
    return (struct getattr_bytes){
        .h = { .len = sizeof(struct getattr_bytes), .opcode = FUSE_GETATTR, .unique = unique,
               .nodeid = ROOT },
    };
}

/* ======================================================================== */
/* vhost-user messages                                                      */
/* ======================================================================== */

static const char *const tag_args[] = { "--tag=malformed", NULL };

static const struct fx_variant v_tag = { .daemon_args = tag_args };
static const struct fx_variant v_two_queues = { .cfg = { .num_request_queues = 2 } };

/* Sends a message with `nfds` eventfds attached (any number, unlike
 * tc_vhu_send()) and `len` of its payload bytes. */
static void send_msg(struct fx *f, uint32_t request, uint32_t flags, uint32_t size,
                     const void *payload, size_t len, unsigned nfds)
{
    struct tc_vhu_hdr hdr = { .request = request, .flags = flags, .size = size };
    struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { (void *)payload, len } };
    int fds[16];
    union {
        char buf[CMSG_SPACE(sizeof(fds))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

    g_assert_cmpuint(nfds, <=, G_N_ELEMENTS(fds));
    for (unsigned i = 0; i < nfds; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC);
        g_assert_cmpint(fds[i], >=, 0);
    }
    if (nfds) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    }
    ssize_t n = sendmsg(f->dev->sock, &mh, MSG_NOSIGNAL);
    g_assert_cmpint(n, ==, (ssize_t)(sizeof(hdr) + len));
    for (unsigned i = 0; i < nfds; i++)
        close(fds[i]);
}

#define STATE(index, num) ((uint64_t)(uint32_t)(num) << 32 | (uint32_t)(index))

/* A message that breaks the protocol: the daemon must close the connection. */
struct msg_case {
    struct fx_variant v;      /* first: what fx_setup() reads */
    const char *path;
    const char *doc;
    uint32_t request;
    uint32_t flags;           /* header flags; 0: TC_VHU_VERSION */
    uint32_t size;            /* header size; as many payload bytes are sent (none past 8 KiB) */
    uint64_t payload[6];      /* the first bytes of the payload, zeros after */
    unsigned nfds;            /* eventfds attached */
    const char *log;          /* what the daemon log must say */
};

static void test_msg_closes(struct fx *f, gconstpointer data)
{
    const struct msg_case *c = data;
    static uint8_t payload[8192];

    g_test_summary(c->doc);
    memset(payload, 0, sizeof(payload));
    memcpy(payload, c->payload, sizeof(c->payload));
    send_msg(f, c->request, c->flags ? c->flags : TC_VHU_VERSION, c->size, payload,
             c->size <= sizeof(payload) ? c->size : 0, c->nfds);
    expect_closed(f, c->log);
}

#define TABLE_HDR(n) ((uint64_t)(n))
#define Q_OUT 17u /* first queue index past the default 1 + 16 queues */

static const struct msg_case msg_cases[] = {
    /* requests nobody knows */
    { .path = "unknown_request/0", .doc = "request number 0",
      .request = 0, .log = "unknown or unsupported request 0 (UNKNOWN)" },
    { .path = "unknown_request/41", .doc = "request number 41, one past the last known",
      .request = 41, .log = "unknown or unsupported request 41 (UNKNOWN)" },
    { .path = "unknown_request/0x7fffffff", .doc = "request number 0x7fffffff",
      .request = 0x7fffffff, .log = "unknown or unsupported request 2147483647 (UNKNOWN)" },
    { .path = "unknown_request/SET_STATUS", .doc = "SET_STATUS, known but not implemented",
      .request = TC_VHU_SET_STATUS, .size = 8, .log = "unknown or unsupported request 39" },
    /* sizes */
    { .path = "size/payload_4097", .doc = "GET_FEATURES announcing and sending 4097 payload bytes",
      .request = TC_VHU_GET_FEATURES, .size = 4097,
      .log = "GET_FEATURES payload of 4097 bytes is too large" },
    { .path = "size/payload_4GiB", .doc = "a header announcing a payload of 0xffffffff bytes",
      .request = TC_VHU_SET_FEATURES, .size = 0xffffffffu,
      .log = "SET_FEATURES payload of 4294967295 bytes is too large" },
    { .path = "size/SET_FEATURES_short", .doc = "SET_FEATURES with a 4-byte payload",
      .request = TC_VHU_SET_FEATURES, .size = 4,
      .log = "SET_FEATURES with a 4-byte payload (expected 8)" },
    { .path = "size/SET_FEATURES_long", .doc = "SET_FEATURES with a 16-byte payload",
      .request = TC_VHU_SET_FEATURES, .size = 16,
      .log = "SET_FEATURES with a 16-byte payload (expected 8)" },
    { .path = "size/GET_FEATURES_long", .doc = "GET_FEATURES with an 8-byte payload",
      .request = TC_VHU_GET_FEATURES, .size = 8,
      .log = "GET_FEATURES with a 8-byte payload (expected 0)" },
    { .path = "size/SET_VRING_NUM_short", .doc = "SET_VRING_NUM with 4 of its 8 bytes",
      .request = TC_VHU_SET_VRING_NUM, .size = 4, .payload = { 1 },
      .log = "SET_VRING_NUM with a 4-byte payload (expected 8)" },
    { .path = "size/SET_VRING_ADDR_short", .doc = "SET_VRING_ADDR with 39 of its 40 bytes",
      .request = TC_VHU_SET_VRING_ADDR, .size = 39, .payload = { 1 },
      .log = "SET_VRING_ADDR with a 39-byte payload (expected 40)" },
    { .path = "size/SET_VRING_ADDR_long", .doc = "SET_VRING_ADDR with 48 bytes",
      .request = TC_VHU_SET_VRING_ADDR, .size = 48, .payload = { 1 },
      .log = "SET_VRING_ADDR with a 48-byte payload (expected 40)" },
    { .path = "size/ADD_MEM_REG_short", .doc = "ADD_MEM_REG with 32 of its 40 bytes",
      .request = TC_VHU_ADD_MEM_REG, .size = 32, .nfds = 1,
      .log = "ADD_MEM_REG with a 32-byte payload (expected 40)" },
    { .path = "size/SET_MEM_TABLE_short", .doc = "SET_MEM_TABLE with a 4-byte payload",
      .request = TC_VHU_SET_MEM_TABLE, .size = 4,
      .log = "SET_MEM_TABLE with a 4-byte payload (expected at least 8)" },
    /* the version in the flags */
    { .path = "version/0", .doc = "header flags with version 0",
      .request = TC_VHU_GET_FEATURES, .flags = 0x100,
      .log = "bad protocol version in flags 0x100" },
    { .path = "version/2", .doc = "header flags with version 2",
      .request = TC_VHU_GET_FEATURES, .flags = 2, .log = "bad protocol version in flags 0x2" },
    { .path = "version/3", .doc = "header flags with version 3",
      .request = TC_VHU_GET_FEATURES, .flags = 3 | TC_VHU_FLAG_NEED_REPLY,
      .log = "bad protocol version in flags 0xb" },
    /* ring fds */
    { .path = "vring_fd/KICK_no_fd_no_NOFD", .doc = "SET_VRING_KICK with neither an fd nor NOFD",
      .request = TC_VHU_SET_VRING_KICK, .size = 8, .payload = { 1 },
      .log = "SET_VRING_KICK: payload 0x1 with 0 fds" },
    { .path = "vring_fd/CALL_no_fd_no_NOFD", .doc = "SET_VRING_CALL with neither an fd nor NOFD",
      .request = TC_VHU_SET_VRING_CALL, .size = 8, .payload = { 1 },
      .log = "SET_VRING_CALL: payload 0x1 with 0 fds" },
    { .path = "vring_fd/ERR_no_fd_no_NOFD", .doc = "SET_VRING_ERR with neither an fd nor NOFD",
      .request = TC_VHU_SET_VRING_ERR, .size = 8, .payload = { 1 },
      .log = "SET_VRING_ERR: payload 0x1 with 0 fds" },
    { .path = "vring_fd/KICK_fd_junk_bits", .doc = "SET_VRING_KICK with an fd and bit 16 set",
      .request = TC_VHU_SET_VRING_KICK, .size = 8, .payload = { 0x10001 }, .nfds = 1,
      .log = "SET_VRING_KICK: payload 0x10001 with 1 fds" },
    { .path = "vring_fd/CALL_fd_junk_bits", .doc = "SET_VRING_CALL with an fd and bit 63 set",
      .request = TC_VHU_SET_VRING_CALL, .size = 8, .payload = { 0x8000000000000001ull },
      .nfds = 1, .log = "SET_VRING_CALL: payload 0x8000000000000001 with 1 fds" },
    { .path = "vring_fd/KICK_NOFD_with_fd", .doc = "SET_VRING_KICK with NOFD and an fd anyway",
      .request = TC_VHU_SET_VRING_KICK, .size = 8, .payload = { 0x101 }, .nfds = 1,
      .log = "SET_VRING_KICK: payload 0x101 with 1 fds" },
    /* file descriptor counts */
    { .path = "fds/nine", .doc = "GET_FEATURES carrying 9 file descriptors (the limit is 8)",
      .request = TC_VHU_GET_FEATURES, .nfds = 9,
      .log = "too many file descriptors in one message" },
    { .path = "fds/sixteen", .doc = "SET_MEM_TABLE carrying 16 file descriptors",
      .request = TC_VHU_SET_MEM_TABLE, .size = 8, .nfds = 16,
      .log = "too many file descriptors in one message" },
    { .path = "fds/GET_FEATURES_with_fd", .doc = "GET_FEATURES carrying a file descriptor",
      .request = TC_VHU_GET_FEATURES, .nfds = 1,
      .log = "GET_FEATURES with 1 file descriptors (expected 0)" },
    { .path = "fds/ADD_MEM_REG_without_fd", .doc = "ADD_MEM_REG without its file descriptor",
      .request = TC_VHU_ADD_MEM_REG, .size = 40,
      .log = "ADD_MEM_REG with 0 file descriptors (expected 1)" },
    { .path = "fds/SET_BACKEND_REQ_FD_without_fd", .doc = "SET_BACKEND_REQ_FD without its socket",
      .request = TC_VHU_SET_BACKEND_REQ_FD,
      .log = "SET_BACKEND_REQ_FD with 0 file descriptors (expected 1)" },
    /* SET_MEM_TABLE framing */
    { .path = "mem_table/nregions_9", .doc = "SET_MEM_TABLE with nregions 9 and 8 fds",
      .request = TC_VHU_SET_MEM_TABLE, .size = 8 + 9 * 32, .payload = { TABLE_HDR(9) },
      .nfds = 8, .log = "SET_MEM_TABLE with 9 regions, 296 bytes, 8 fds" },
    { .path = "mem_table/nregions_huge", .doc = "SET_MEM_TABLE with nregions 0x80000000",
      .request = TC_VHU_SET_MEM_TABLE, .size = 8 + 32, .payload = { TABLE_HDR(0x80000000u) },
      .nfds = 1, .log = "SET_MEM_TABLE with 2147483648 regions, 40 bytes, 1 fds" },
    { .path = "mem_table/nregions_vs_fds", .doc = "SET_MEM_TABLE with 2 regions but 1 fd",
      .request = TC_VHU_SET_MEM_TABLE, .size = 8 + 2 * 32, .payload = { TABLE_HDR(2) },
      .nfds = 1, .log = "SET_MEM_TABLE with 2 regions, 72 bytes, 1 fds" },
    { .path = "mem_table/nregions_vs_size", .doc = "SET_MEM_TABLE with 1 region in 72 bytes",
      .request = TC_VHU_SET_MEM_TABLE, .size = 8 + 2 * 32, .payload = { TABLE_HDR(1) },
      .nfds = 1, .log = "SET_MEM_TABLE with 1 regions, 72 bytes, 1 fds" },
    { .v = { .cfg = { .flags = TC_CFG_NO_PROTOCOL_FEATURES } },
      .path = "mem_slots/ADD_MEM_REG_not_negotiated",
      .doc = "ADD_MEM_REG without CONFIGURE_MEM_SLOTS negotiated",
      .request = TC_VHU_ADD_MEM_REG, .size = 40, .nfds = 1,
      .log = "ADD_MEM_REG without negotiating its protocol feature" },
    { .v = { .cfg = { .flags = TC_CFG_NO_PROTOCOL_FEATURES } },
      .path = "mem_slots/REM_MEM_REG_not_negotiated",
      .doc = "REM_MEM_REG without CONFIGURE_MEM_SLOTS negotiated",
      .request = TC_VHU_REM_MEM_REG, .size = 40,
      .log = "REM_MEM_REG without negotiating its protocol feature" },
    /* ring sizes and bases */
    { .path = "vring_num/0", .doc = "SET_VRING_NUM 0",
      .request = TC_VHU_SET_VRING_NUM, .size = 8, .payload = { STATE(1, 0) },
      .log = "queue 1: bad size 0" },
    { .path = "vring_num/3", .doc = "SET_VRING_NUM 3 (not a power of two)",
      .request = TC_VHU_SET_VRING_NUM, .size = 8, .payload = { STATE(1, 3) },
      .log = "queue 1: bad size 3" },
    { .path = "vring_num/65536", .doc = "SET_VRING_NUM 65536 (larger than 32768)",
      .request = TC_VHU_SET_VRING_NUM, .size = 8, .payload = { STATE(1, 65536) },
      .log = "queue 1: bad size 65536" },
    { .path = "vring_base/65536", .doc = "SET_VRING_BASE 0x10000",
      .request = TC_VHU_SET_VRING_BASE, .size = 8, .payload = { STATE(1, 0x10000) },
      .log = "queue 1: base 65536 out of range" },
    { .path = "vring_enable/2", .doc = "SET_VRING_ENABLE with the value 2",
      .request = TC_VHU_SET_VRING_ENABLE, .size = 8, .payload = { STATE(1, 2) },
      .log = "queue 1: enable value 2" },
    /* queue index out of range, in each ring message */
    { .path = "queue_index/SET_VRING_NUM", .doc = "SET_VRING_NUM for queue 17 of 17",
      .request = TC_VHU_SET_VRING_NUM, .size = 8, .payload = { STATE(Q_OUT, 256) },
      .log = "queue index 17 out of range (17 queues)" },
    { .path = "queue_index/SET_VRING_ADDR", .doc = "SET_VRING_ADDR for queue 17 of 17",
      .request = TC_VHU_SET_VRING_ADDR, .size = 40, .payload = { Q_OUT },
      .log = "queue index 17 out of range (17 queues)" },
    { .path = "queue_index/SET_VRING_BASE", .doc = "SET_VRING_BASE for queue 0xffffffff",
      .request = TC_VHU_SET_VRING_BASE, .size = 8, .payload = { STATE(0xffffffffu, 0) },
      .log = "queue index 4294967295 out of range (17 queues)" },
    { .path = "queue_index/GET_VRING_BASE", .doc = "GET_VRING_BASE for queue 17 of 17",
      .request = TC_VHU_GET_VRING_BASE, .size = 8, .payload = { STATE(Q_OUT, 0) },
      .log = "queue index 17 out of range (17 queues)" },
    { .path = "queue_index/SET_VRING_KICK", .doc = "SET_VRING_KICK for queue 17, with an fd",
      .request = TC_VHU_SET_VRING_KICK, .size = 8, .payload = { Q_OUT }, .nfds = 1,
      .log = "queue index 17 out of range (17 queues)" },
    { .path = "queue_index/SET_VRING_CALL", .doc = "SET_VRING_CALL for queue 255, with an fd",
      .request = TC_VHU_SET_VRING_CALL, .size = 8, .payload = { 0xff }, .nfds = 1,
      .log = "queue index 255 out of range (17 queues)" },
    { .path = "queue_index/SET_VRING_ERR", .doc = "SET_VRING_ERR for queue 17, NOFD",
      .request = TC_VHU_SET_VRING_ERR, .size = 8, .payload = { Q_OUT | TC_VHU_VRING_NOFD },
      .log = "queue index 17 out of range (17 queues)" },
    { .path = "queue_index/SET_VRING_ENABLE", .doc = "SET_VRING_ENABLE for queue 17 of 17",
      .request = TC_VHU_SET_VRING_ENABLE, .size = 8, .payload = { STATE(Q_OUT, 1) },
      .log = "queue index 17 out of range (17 queues)" },
    /* features */
    { .path = "features/not_offered", .doc = "SET_FEATURES acking bit 0, never offered",
      .request = TC_VHU_SET_FEATURES, .size = 8,
      .payload = { 1ull | 1ull << VIRTIO_F_VERSION_1 },
      .log = "frontend acked features 0x1 we did not offer" },
    { .path = "protocol_features/not_offered",
      .doc = "SET_PROTOCOL_FEATURES acking LOG_SHMFD, never offered",
      .request = TC_VHU_SET_PROTOCOL_FEATURES, .size = 8,
      .payload = { 1ull << TC_VHU_PROTOCOL_F_LOG_SHMFD | 1ull << TC_VHU_PROTOCOL_F_REPLY_ACK },
      .log = "frontend acked protocol features 0x2 we did not offer" },
    { .path = "protocol_features/CONFIG_without_tag",
      .doc = "SET_PROTOCOL_FEATURES acking CONFIG from a daemon started without --tag",
      .request = TC_VHU_SET_PROTOCOL_FEATURES, .size = 8,
      .payload = { 1ull << TC_VHU_PROTOCOL_F_CONFIG },
      .log = "frontend acked protocol features 0x200 we did not offer" },
    { .path = "protocol_features/RESET_DEVICE_not_negotiated",
      .doc = "RESET_DEVICE without RESET_DEVICE negotiated",
      .request = TC_VHU_RESET_DEVICE, .log = "RESET_DEVICE without negotiating its protocol feature" },
    /* the config space */
    { .path = "config/GET_CONFIG_not_negotiated",
      .doc = "GET_CONFIG without CONFIG negotiated (daemon without --tag)",
      .request = TC_VHU_GET_CONFIG, .size = 12 + 8, .payload = { STATE(0, 8) },
      .log = "GET_CONFIG without negotiating its protocol feature" },
    { .v = { .daemon_args = tag_args }, .path = "config/GET_CONFIG_size_300",
      .doc = "GET_CONFIG of 300 bytes (more than a config space can have)",
      .request = TC_VHU_GET_CONFIG, .size = 12 + 300, .payload = { STATE(0, 300) },
      .log = "GET_CONFIG of 300 bytes with payload 312" },
    { .v = { .daemon_args = tag_args }, .path = "config/GET_CONFIG_size_vs_payload",
      .doc = "GET_CONFIG of 8 bytes in a 12-byte payload",
      .request = TC_VHU_GET_CONFIG, .size = 12, .payload = { STATE(0, 8) },
      .log = "GET_CONFIG of 8 bytes with payload 12" },
};

/* ---- well-formed requests the daemon cannot honour: failure ack ----------- */

static struct tc_vhu_mem_region region_of(struct fx *f, unsigned i)
{
    const struct tc_mem_region *m = tc_mem_region(f->dev->mem, i);
    return (struct tc_vhu_mem_region){
        .guest_phys_addr = m->gpa, .memory_size = m->size,
        .userspace_addr = m->uaddr, .mmap_offset = m->mmap_offset,
    };
}

/* SET_MEM_TABLE of regs (all backed by fd) must get a failure ack; the old
 * memory stays in use and the daemon goes on serving. */
static void expect_mem_table_refused(struct fx *f, const struct tc_vhu_mem_region *regs,
                                     unsigned n, int fd, const char *why)
{
    struct tc_vhu_mem_table t = { .nregions = n };
    int fds[TC_VHU_MAX_FDS];

    g_assert_true(f->dev->reply_ack);
    for (unsigned i = 0; i < n; i++) {
        t.regions[i] = regs[i];
        fds[i] = fd;
    }
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_SET_MEM_TABLE, &t,
                                   (uint32_t)(8 + n * sizeof(regs[0])), fds, n, NULL, 0), ==, -EIO);
    assert_log(f, why);
    assert_log(f, "SET_MEM_TABLE failed");
    assert_root_ok(f, 1);
}

static void test_mem_zero_size(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with a region of size 0");
    struct tc_vhu_mem_region r = region_of(f, 0);
    r.memory_size = 0;
    expect_mem_table_refused(f, &r, 1, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_gpa_overflow(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with guest_phys_addr + memory_size past 2^64");
    struct tc_vhu_mem_region r = region_of(f, 0);
    r.guest_phys_addr = UINT64_MAX - 4095;
    expect_mem_table_refused(f, &r, 1, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_uaddr_overflow(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with userspace_addr + memory_size past 2^64");
    struct tc_vhu_mem_region r = region_of(f, 0);
    r.userspace_addr = UINT64_MAX - 4095;
    expect_mem_table_refused(f, &r, 1, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_offset_overflow(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with mmap_offset + memory_size past 2^64");
    struct tc_vhu_mem_region r = region_of(f, 0);
    r.mmap_offset = UINT64_MAX - 4095;
    expect_mem_table_refused(f, &r, 1, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_overlap_gpa(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with two regions overlapping in guest-physical space");
    struct tc_vhu_mem_region r[2] = { region_of(f, 0), region_of(f, 0) };
    r[1].guest_phys_addr += 4096;
    r[1].memory_size = 1 << 20;
    r[1].userspace_addr += r[0].memory_size;
    expect_mem_table_refused(f, r, 2, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_overlap_uaddr(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with two regions overlapping in the frontend's address space");
    struct tc_vhu_mem_region r[2] = { region_of(f, 0), region_of(f, 0) };
    r[1].guest_phys_addr += r[0].memory_size;
    r[1].memory_size = 1 << 20;
    r[1].userspace_addr += 8192;
    expect_mem_table_refused(f, r, 2, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_offset_beyond_file(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with mmap_offset at the end of the memory file");
    struct tc_vhu_mem_region r = region_of(f, 0);
    r.mmap_offset = tc_mem_size(f->dev->mem);
    expect_mem_table_refused(f, &r, 1, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_tail_beyond_file(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with a region whose last page is past the end of its file");
    struct tc_vhu_mem_region r = region_of(f, 0);
    r.mmap_offset = 4096;
    expect_mem_table_refused(f, &r, 1, tc_mem_fd(f->dev->mem),
                             "cannot map guest memory: Invalid argument");
}

static void test_mem_unmappable_fd(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_MEM_TABLE with an eventfd as the region's file");
    struct tc_vhu_mem_region r = region_of(f, 0);
    int efd = eventfd(0, EFD_CLOEXEC);
    g_assert_cmpint(efd, >=, 0);
    expect_mem_table_refused(f, &r, 1, efd, "cannot map guest memory: No such device");
    close(efd);
}

static void test_rem_mem_reg_unknown(struct fx *f, gconstpointer data)
{
    g_test_summary("REM_MEM_REG of a region that was never added");
    struct tc_vhu_mem_reg m = { .region = { .guest_phys_addr = 0x1000, .memory_size = 0x1000,
                                            .userspace_addr = 0x7000, .mmap_offset = 0 } };
    g_assert_true(tc_dev_has_protocol_feature(f->dev, TC_VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS));
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_REM_MEM_REG, &m, sizeof(m), NULL, 0, NULL, 0),
                    ==, -EIO);
    assert_log(f, "cannot remove memory region at 0x1000: No such file or directory");
    /* one that does exist but with another size is not it either */
    m.region = region_of(f, 0);
    m.region.memory_size -= 4096;
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_REM_MEM_REG, &m, sizeof(m), NULL, 0, NULL, 0),
                    ==, -EIO);
    assert_log(f, "cannot remove memory region at 0x40000000: No such file or directory");
    assert_root_ok(f, 1);
}

static void test_add_mem_reg_overlap(struct fx *f, gconstpointer data)
{
    g_test_summary("ADD_MEM_REG of a region overlapping one already mapped");
    struct tc_vhu_mem_reg m = { .region = region_of(f, 0) };
    int fd = tc_mem_fd(f->dev->mem);
    m.region.userspace_addr += m.region.memory_size;
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_ADD_MEM_REG, &m, sizeof(m), &fd, 1, NULL, 0),
                    ==, -EIO);
    assert_log(f, "cannot add memory region at 0x40000000: File exists");
    assert_root_ok(f, 1);
}

static const struct fx_variant v_two_slots = {
    .cfg = { .mem_regions = 2, .num_request_queues = 2, .flags = TC_CFG_MEM_SLOTS },
};

static void restart_queue(struct fx *f, unsigned q);

static void test_rem_mem_reg_rings(struct fx *f, gconstpointer data)
{
    struct tc_dev *dev = f->dev;
    struct getattr_bytes g = getattr_bytes(5150);
    struct fuse_out_header oh;
    uint32_t used, base;

    g_test_summary("REM_MEM_REG of the region holding the rings while the queues run");
    g_assert_cmpuint(dev->vqs[1].ring.gpa, <, tc_mem_region(dev->mem, 1)->gpa);
    g_assert_cmpint(tc_dev_rem_mem_reg(dev, 0), ==, 0);
    assert_log(f, "queue 1: the rings are no longer inside guest memory");
    assert_log(f, "queue 2: the rings are no longer inside guest memory");
    /* the memory coming back does not revive a queue that lost its rings */
    g_assert_cmpint(tc_dev_add_mem_reg(dev, 0), ==, 0);
    g_assert_cmpint(raw_request(f, 1, &g, sizeof(g), 256, SILENCE_MS, &used, &oh), ==, 0);
    g_assert_cmpint(tc_dev_queue_stop(dev, 1, &base), ==, 0);
    g_assert_false(tc_vq_has_used(&dev->vqs[1]));
    restart_queue(f, 1);
    g_assert_cmpint(tc_dev_queue_stop(dev, 2, &base), ==, 0);
    restart_queue(f, 2);
}

/* Stops queue q and restarts it on an emptied ring; it must serve again. */
static void restart_queue(struct fx *f, unsigned q)
{
    g_assert_cmpint(tc_dev_queue_start(f->dev, q, true, 0), ==, 0);
    assert_root_ok(f, q);
}

static void test_vring_addr_outside(struct fx *f, gconstpointer data)
{
    struct tc_dev *dev = f->dev;
    struct tc_vq *vq = &dev->vqs[1];
    uint32_t base, base2, used;
    struct fuse_out_header oh;

    g_test_summary("SET_VRING_ADDR with rings outside guest memory, then SET_VRING_KICK");
    g_assert_cmpint(tc_dev_queue_stop(dev, 1, &base), ==, 0);
    struct tc_vhu_vring_addr a = {
        .index = 1, .desc_user_addr = 0x1000, .used_user_addr = 0x9000,
        .avail_user_addr = 0x5000,
    };
    /* accepted as such: it is only an address until the queue starts */
    g_assert_cmpint(tc_dev_request(dev, TC_VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL, 0),
                    ==, 0);
    uint64_t idx = 1;
    g_assert_cmpint(tc_dev_request(dev, TC_VHU_SET_VRING_KICK, &idx, sizeof(idx), &vq->kick_fd, 1,
                                   NULL, 0), ==, -EIO);
    assert_log(f, "queue 1: cannot start: rings not inside guest memory");
    assert_log(f, "SET_VRING_KICK failed: Invalid argument");

    /* the queue did not start: a request on it is not served */
    struct getattr_bytes g = getattr_bytes(4242);
    g_assert_cmpint(raw_request(f, 1, &g, sizeof(g), 256, SILENCE_MS, &used, &oh), ==, 0);
    /* the other queue is fine, and so is this one once set up properly */
    assert_root_ok(f, 2);
    g_assert_cmpint(tc_dev_queue_stop(dev, 1, &base2), ==, 0);
    g_assert_cmpuint(base2, ==, base);
    restart_queue(f, 1);
}

static void test_vring_kick_nofd(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_VRING_KICK with NOFD: polling is not supported");
    uint64_t v = 1 | TC_VHU_VRING_NOFD;
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_SET_VRING_KICK, &v, sizeof(v), NULL, 0, NULL, 0),
                    ==, -EIO);
    assert_log(f, "queue 1: polling without a kick eventfd is not supported");
    assert_root_ok(f, 1);
}

static void test_vring_call_late(struct fx *f, gconstpointer data)
{
    struct tc_dev *dev = f->dev;
    struct tc_vq *vq = &dev->vqs[1];
    struct fuse_getattr_in in = { 0 };
    struct fuse_attr_out out;

    g_test_summary("a request completed while its queue had no call eventfd (CALL with NOFD) "
                   "is signalled on the call eventfd that comes next");
    uint64_t v = 1 | TC_VHU_VRING_NOFD;
    g_assert_cmpint(tc_dev_request(dev, TC_VHU_SET_VRING_CALL, &v, sizeof(v), NULL, 0, NULL, 0),
                    ==, 0);
    tc_vq_drain_call(vq);
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = ROOT,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
        .out_cnt = 1, .out = { { &out, sizeof(out) } },
    };
    g_assert_cmpint(tc_fuse_submit(dev, &req), ==, 0);
    g_assert_cmpint(tc_fuse_kick(dev, 1), >=, 0);
    for (int i = 0; i < 2000 && !tc_vq_has_used(vq); i++)
        g_usleep(1000);
    g_assert_true(tc_vq_has_used(vq));
    g_assert_cmpuint(tc_vq_drain_call(vq), ==, 0);

    uint64_t idx = 1;
    g_assert_cmpint(tc_dev_request(dev, TC_VHU_SET_VRING_CALL, &idx, sizeof(idx), &vq->call_fd, 1,
                                   NULL, 0), ==, 0);
    struct pollfd p = { .fd = vq->call_fd, .events = POLLIN };
    g_assert_cmpint(poll(&p, 1, 2000), ==, 1);
    g_assert_cmpint(tc_fuse_reap(dev, 1, NULL, 1, 0), ==, 1);
    g_assert_cmpint(req.result, ==, sizeof(out));
    assert_root_ok(f, 1);
}

static void test_vring_num_running(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_VRING_NUM on a running queue");
    struct tc_vhu_vring_state s = { .index = 1, .num = 256 };
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_SET_VRING_NUM, &s, sizeof(s), NULL, 0, NULL, 0),
                    ==, -EIO);
    assert_log(f, "SET_VRING_NUM failed: Device or resource busy");
    assert_root_ok(f, 1);
}

static void test_set_log_base(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_LOG_BASE (dirty logging was never offered)");
    uint64_t v[2] = { 4096, 0 };
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_SET_LOG_BASE, v, sizeof(v), NULL, 0, NULL, 0),
                    ==, -EIO);
    assert_log(f, "SET_LOG_BASE is not supported");
    assert_root_ok(f, 1);
}

static void test_get_config_out_of_range(struct fx *f, gconstpointer data)
{
    char buf[64];

    g_test_summary("GET_CONFIG of bytes past the 40-byte virtio-fs config space (with --tag)");
    g_assert_true(tc_dev_has_protocol_feature(f->dev, TC_VHU_PROTOCOL_F_CONFIG));
    /* the failure answer is an empty config */
    g_assert_cmpint(tc_dev_get_config(f->dev, 36, buf, 8), ==, -EIO);
    g_assert_cmpint(tc_dev_get_config(f->dev, 41, buf, 1), ==, -EIO);
    g_assert_cmpint(tc_dev_get_config(f->dev, 0xffffffffu, buf, 4), ==, -EIO);
    assert_log(f, "GET_CONFIG of 8 bytes at offset 36");
    /* the connection goes on: the real config is still there */
    g_assert_cmpint(tc_dev_get_config(f->dev, 0, buf, 40), ==, 40);
    g_assert_cmpstr(buf, ==, "malformed");
    assert_root_ok(f, 1);
}

static void test_set_config(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_CONFIG of the read-only config space (with --tag)");
    struct {
        struct tc_vhu_config_hdr h;
        char tag[8];
    } m = { .h = { .offset = 0, .size = 8 }, .tag = "changed" };
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_SET_CONFIG, &m, sizeof(m), NULL, 0, NULL, 0),
                    ==, -EIO);
    assert_log(f, "the virtio-fs configuration space is read-only");
    char buf[40];
    g_assert_cmpint(tc_dev_get_config(f->dev, 0, buf, 40), ==, 40);
    g_assert_cmpstr(buf, ==, "malformed");
    assert_root_ok(f, 1);
}

/* ---- the byte stream ------------------------------------------------------ */

/* Writes len bytes on the device socket, with fd attached when >= 0. */
static void send_bytes(struct fx *f, const void *data, size_t len, int fd)
{
    struct iovec iov = { (void *)data, len };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    g_assert_cmpint(sendmsg(f->dev->sock, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

static void expect_ack(struct fx *f, uint32_t request, uint64_t value)
{
    struct tc_vhu_hdr h;
    uint64_t ack = ~value;
    g_assert_cmpint(tc_dev_recv_raw(f->dev, &h, &ack, sizeof(ack), 2000), ==, 8);
    g_assert_cmpuint(h.request, ==, request);
    g_assert_cmpuint(h.flags, ==, TC_VHU_VERSION | TC_VHU_FLAG_REPLY);
    g_assert_cmpuint(ack, ==, value);
}

static void test_split_header(struct fx *f, gconstpointer data)
{
    struct tc_dev *dev = f->dev;
    struct tc_vhu_hdr h;
    uint64_t features = 0;

    g_test_summary("headers and payloads split across writes with pauses in between");
    /* GET_FEATURES: 5 header bytes, a pause, the other 7 */
    struct tc_vhu_hdr get = { .request = TC_VHU_GET_FEATURES, .flags = TC_VHU_VERSION };
    send_bytes(f, &get, 5, -1);
    g_usleep(50000);
    send_bytes(f, (char *)&get + 5, sizeof(get) - 5, -1);
    g_assert_cmpint(tc_dev_recv_raw(dev, &h, &features, sizeof(features), 2000), ==, 8);
    g_assert_cmpuint(h.request, ==, TC_VHU_GET_FEATURES);
    g_assert_cmpuint(features, ==, dev->dev_features);

    /* SET_VRING_CALL with its fd: 3 header bytes carrying the fd, then the rest */
    struct {
        struct tc_vhu_hdr h;
        uint64_t index;
    } __attribute__((packed)) call_msg = {
        .h = { .request = TC_VHU_SET_VRING_CALL,
               .flags = TC_VHU_VERSION | TC_VHU_FLAG_NEED_REPLY, .size = 8 },
        .index = 1,
    };
    send_bytes(f, &call_msg, 3, dev->vqs[1].call_fd);
    g_usleep(50000);
    send_bytes(f, (char *)&call_msg + 3, sizeof(call_msg) - 3, -1);
    expect_ack(f, TC_VHU_SET_VRING_CALL, 0);

    /* SET_VRING_ENABLE: the whole header, then its payload in two pieces */
    struct {
        struct tc_vhu_hdr h;
        struct tc_vhu_vring_state s;
    } __attribute__((packed)) enable = {
        .h = { .request = TC_VHU_SET_VRING_ENABLE,
               .flags = TC_VHU_VERSION | TC_VHU_FLAG_NEED_REPLY, .size = 8 },
        .s = { .index = 1, .num = 1 },
    };
    send_bytes(f, &enable, sizeof(enable.h) + 3, -1);
    g_usleep(50000);
    send_bytes(f, (char *)&enable + sizeof(enable.h) + 3, 5, -1);
    expect_ack(f, TC_VHU_SET_VRING_ENABLE, 0);

    assert_root_ok(f, 1);
    g_autofree char *log = read_log(f);
    g_assert_cmpuint(count_occurrences(log, "[error]"), ==, 0);
}

static void test_cut_payload(struct fx *f, gconstpointer data)
{
    g_test_summary("SET_VRING_ADDR announcing 40 bytes, 20 sent, then the frontend hangs up");
    struct tc_vhu_hdr h = { .request = TC_VHU_SET_VRING_ADDR, .flags = TC_VHU_VERSION, .size = 40 };
    uint8_t part[20] = { 1 };
    send_bytes(f, &h, sizeof(h), -1);
    send_bytes(f, part, sizeof(part), -1);
    g_usleep(20000);
    g_assert_cmpint(shutdown(f->dev->sock, SHUT_WR), ==, 0);
    g_assert_true(tc_dev_peer_closed(f->dev, CLOSE_TIMEOUT_MS));
    /* the frontend went away: that is a disconnect, not an error of ours */
    expect_exit(f, 0);
    assert_log(f, "frontend disconnected in the middle of a SET_VRING_ADDR message");
}

static void test_cut_header(struct fx *f, gconstpointer data)
{
    g_test_summary("6 of a header's 12 bytes, then the frontend hangs up");
    struct tc_vhu_hdr h = { .request = TC_VHU_GET_FEATURES, .flags = TC_VHU_VERSION };
    send_bytes(f, &h, 6, -1);
    g_usleep(20000);
    g_assert_cmpint(shutdown(f->dev->sock, SHUT_WR), ==, 0);
    g_assert_true(tc_dev_peer_closed(f->dev, CLOSE_TIMEOUT_MS));
    expect_exit(f, 0);
    assert_log(f, "frontend disconnected in the middle of a message header");
}

static const char *const pool_args[] = { "--thread-pool-size=4", NULL };
static const struct fx_variant v_pool_two_queues = {
    .cfg = { .num_request_queues = 2 }, .daemon_args = pool_args,
};

static void test_disconnect_in_flight(struct fx *f, gconstpointer data)
{
    enum { PER_QUEUE = 96, READ_SIZE = 128 << 10 };
    struct tc_dev *dev = f->dev;
    struct tc_fuse_req *reqs = g_new0(struct tc_fuse_req, 2 * PER_QUEUE);
    struct tc_buf *bufs = g_new0(struct tc_buf, 2 * PER_QUEUE);
    struct fuse_read_in rin = { .size = READ_SIZE };
    struct fuse_getattr_in gin = { 0 };
    struct fuse_open_out o;

    g_test_summary("the frontend hangs up with requests in flight on two queues");
    g_autofree char *data_buf = g_malloc0(1 << 20);
    fx_write_file(f, "big", data_buf, 1 << 20, 0644);
    uint64_t n = fx_lookup(f, ROOT, "big", NULL);
    g_assert_cmpint(tc_fuse_open(dev, n, O_RDONLY, &o), ==, 0);
    rin.fh = o.fh;
    for (unsigned i = 0; i < 2 * PER_QUEUE; i++) {
        struct tc_fuse_req *r = &reqs[i];
        g_assert_cmpint(tc_fuse_req_init(dev, r, 0), ==, 0);
        r->queue = 1 + i % 2;
        if (i % 3) {
            r->opcode = FUSE_GETATTR;
            r->nodeid = ROOT;
            r->in[0] = ARG(&gin, sizeof(gin));
        } else {
            r->opcode = FUSE_READ;
            r->nodeid = n;
            r->in[0] = ARG(&rin, sizeof(rin));
            rin.offset = (uint64_t)(i % 8) * READ_SIZE;
            g_assert_cmpint(tc_buf_alloc(dev->mem, READ_SIZE, 64, 0, &bufs[i]), ==, 0);
            r->out_data = &bufs[i];
            r->out_data_cnt = 1;
        }
        r->in_cnt = 1;
        r->out[0] = (struct tc_fuse_out_arg){ reply_buf, 128 };
        r->out_cnt = 1;
        g_assert_cmpint(tc_fuse_submit(dev, r), ==, 0);
    }
    g_assert_cmpint(tc_fuse_kick(dev, 1), >=, 0);
    g_assert_cmpint(tc_fuse_kick(dev, 2), >=, 0);
    /* hang up at once, without waiting for anything */
    g_assert_cmpint(shutdown(dev->sock, SHUT_RDWR), ==, 0);
    expect_exit(f, 0);
    assert_log(f, "frontend disconnected");
    for (unsigned i = 0; i < 2 * PER_QUEUE; i++) {
        tc_fuse_req_done(dev, &reqs[i]);
        tc_buf_free(dev->mem, &bufs[i]);
    }
    g_free(reqs);
    g_free(bufs);
}

/* ======================================================================== */
/* FUSE requests on a real virtqueue, after the handshake and INIT          */
/* ======================================================================== */

static const char *const debug_args[] = { "-o", "log_level=debug", NULL };
static const struct fx_variant v_debug = { .daemon_args = debug_args };
static const struct fx_variant v_no_init = { .no_init = true };

static void test_chain_short(struct fx *f, gconstpointer data)
{
    uint8_t junk[20];
    uint32_t used = 1;
    struct fuse_out_header oh;

    g_test_summary("chains shorter than a fuse_in_header: 20 readable bytes, then none at all");
    memset(junk, 0x5a, sizeof(junk));
    g_assert_cmpint(raw_request(f, 1, junk, sizeof(junk), 256, 2000, &used, &oh), ==, 1);
    g_assert_cmpuint(used, ==, 0);
    assert_log(f, "request of 20 bytes has no FUSE header");
    assert_root_ok(f, 1);
    used = 1;
    g_assert_cmpint(raw_request(f, 1, NULL, 0, 256, 2000, &used, &oh), ==, 1);
    g_assert_cmpuint(used, ==, 0);
    assert_log(f, "request of 0 bytes has no FUSE header");
    assert_root_ok(f, 1);
}

/* A GETATTR whose header says `len`: EINVAL, logged. */
static void expect_bad_len(struct fx *f, uint64_t unique, uint32_t len)
{
    struct getattr_bytes g = getattr_bytes(unique);
    struct fuse_out_header oh;
    uint32_t used;

    g.h.len = len;
    g_assert_cmpint(raw_request(f, 1, &g, sizeof(g), 256, 2000, &used, &oh), ==, 1);
    g_assert_cmpuint(used, ==, sizeof(oh));
    g_assert_cmpuint(oh.len, ==, sizeof(oh));
    g_assert_cmpuint(oh.unique, ==, unique);
    g_assert_cmpint(oh.error, ==, -EINVAL);
    g_autofree char *why = g_strdup_printf("request %" G_GUINT64_FORMAT " (GETATTR): length %u "
                                           "does not match its %zu bytes", unique, len, sizeof(g));
    assert_log(f, why);
    assert_root_ok(f, 1);
}

static void test_header_len_past_chain(struct fx *f, gconstpointer data)
{
    g_test_summary("fuse_in_header.len larger than the chain's readable bytes");
    expect_bad_len(f, 901, sizeof(struct getattr_bytes) + 1);
    expect_bad_len(f, 902, 0xffffffffu);
}

static void test_header_len_below_header(struct fx *f, gconstpointer data)
{
    g_test_summary("fuse_in_header.len smaller than the header itself");
    expect_bad_len(f, 903, sizeof(struct fuse_in_header) - 1);
    expect_bad_len(f, 904, 0);
}

static void test_opcode_unknown(struct fx *f, gconstpointer data)
{
    static const uint32_t unknown[] = { 0, 60, 63, 64, 4096 /* CUSE_INIT */, 0xffffffffu };
    static const uint32_t unimplemented[] = { FUSE_GETLK, FUSE_SETLK, FUSE_BMAP, FUSE_POLL,
                                              FUSE_SETUPMAPPING };
    uint8_t arg[64] = { 0 };

    g_test_summary("opcodes the daemon does not know (and ones it does not serve: locks not negotiated, BMAP, POLL, DAX)");
    for (size_t i = 0; i < G_N_ELEMENTS(unknown); i++) {
        struct tc_fuse_req req = { .opcode = unknown[i], .nodeid = ROOT,
                                   .in_cnt = 1, .in = { ARG(arg, sizeof(arg)) } };
        g_assert_cmpint(call(f, &req), ==, -ENOSYS);
        g_autofree char *why = g_strdup_printf("request %" G_GUINT64_FORMAT ": unknown opcode %u",
                                               req.unique, unknown[i]);
        assert_log(f, why);
        assert_root_ok(f, 1);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(unimplemented); i++) {
        struct tc_fuse_req req = { .opcode = unimplemented[i], .nodeid = ROOT,
                                   .in_cnt = 1, .in = { ARG(arg, sizeof(arg)) } };
        g_assert_cmpint(call(f, &req), ==, -ENOSYS);
    }
    assert_root_ok(f, 1);
}

/* Each opcode with its fixed argument one byte short. */
struct short_case {
    struct fx_variant v;
    const char *op;
    uint32_t opcode;
    uint32_t size;            /* the fixed argument's size */
    bool no_reply;            /* FORGET and the like: no answer, used length 0 */
};

#define SHORT(OP, type) { .op = #OP, .opcode = FUSE_##OP, .size = sizeof(struct type) }
#define SHORT_NO_REPLY(OP, type) \
    { .op = #OP, .opcode = FUSE_##OP, .size = sizeof(struct type), .no_reply = true }

static const struct short_case short_cases[] = {
    SHORT_NO_REPLY(FORGET, fuse_forget_in),
    SHORT(GETATTR, fuse_getattr_in),
    SHORT(SETATTR, fuse_setattr_in),
    SHORT(MKNOD, fuse_mknod_in),
    SHORT(MKDIR, fuse_mkdir_in),
    SHORT(RENAME, fuse_rename_in),
    SHORT(LINK, fuse_link_in),
    SHORT(OPEN, fuse_open_in),
    SHORT(READ, fuse_read_in),
    SHORT(WRITE, fuse_write_in),
    SHORT(RELEASE, fuse_release_in),
    SHORT(FSYNC, fuse_fsync_in),
    { .op = "SETXATTR", .opcode = FUSE_SETXATTR, .size = FUSE_COMPAT_SETXATTR_IN_SIZE },
    SHORT(GETXATTR, fuse_getxattr_in),
    SHORT(LISTXATTR, fuse_getxattr_in),
    SHORT(FLUSH, fuse_flush_in),
    /* the compat INIT: major, minor, max_readahead, flags */
    { .op = "INIT", .opcode = FUSE_INIT, .size = 16 },
    SHORT(OPENDIR, fuse_open_in),
    SHORT(READDIR, fuse_read_in),
    SHORT(RELEASEDIR, fuse_release_in),
    SHORT(FSYNCDIR, fuse_fsync_in),
    SHORT(ACCESS, fuse_access_in),
    SHORT(CREATE, fuse_create_in),
    SHORT_NO_REPLY(INTERRUPT, fuse_interrupt_in),
    SHORT(IOCTL, fuse_ioctl_in),
    SHORT_NO_REPLY(BATCH_FORGET, fuse_batch_forget_in),
    SHORT(FALLOCATE, fuse_fallocate_in),
    SHORT(READDIRPLUS, fuse_read_in),
    SHORT(RENAME2, fuse_rename2_in),
    SHORT(LSEEK, fuse_lseek_in),
    SHORT(COPY_FILE_RANGE, fuse_copy_file_range_in),
    SHORT(SYNCFS, fuse_syncfs_in),
};

static void test_short_arg(struct fx *f, gconstpointer data)
{
    const struct short_case *c = data;
    uint8_t arg[128];

    g_autofree char *doc = g_strdup_printf("%s with %u of its %u fixed argument bytes%s", c->op,
                                           c->size - 1, c->size, c->no_reply ? " (no reply)" : "");
    g_test_summary(doc);
    g_assert_cmpuint(c->size, <=, sizeof(arg));
    memset(arg, 0, sizeof(arg));
    struct tc_fuse_req req = {
        .opcode = c->opcode, .nodeid = ROOT, .flags = c->no_reply ? TC_FUSE_NOREPLY : 0,
        .in_cnt = 1, .in = { ARG(arg, c->size - 1) },
    };
    int r = call(f, &req);
    if (c->no_reply) {
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpuint(req.used_len, ==, 0);
    } else {
        g_assert_cmpint(r, ==, -EINVAL);
    }
    g_autofree char *why = g_strdup_printf("%u argument bytes, needs %u", c->size - 1, c->size);
    assert_req_log(f, req.unique, c->op, why);
    assert_root_ok(f, 1);
}

/* Names: one case per opcode, each defect in turn. */
struct name_case {
    struct fx_variant v;
    const char *path;
    const char *op;
    uint32_t opcode;
    unsigned position;        /* which of the request's names is the bad one */
    bool dots_ok;             /* "." and ".." are fine (LOOKUP) */
    bool xattr;               /* an xattr name: '/' and dots are fine, too long is ERANGE */
};

union fixed_args {
    struct fuse_mkdir_in mkdir;
    struct fuse_mknod_in mknod;
    struct fuse_create_in create;
    struct fuse_link_in link;
    struct fuse_rename_in rename;
    struct fuse_rename2_in rename2;
    struct fuse_getxattr_in getxattr;
    struct fuse_setxattr_in setxattr;
};

/* Fills req for c's opcode with the `len` bytes at `bad` in place of its name. */
static void build_named(const struct name_case *c, struct tc_fuse_req *req, union fixed_args *fa,
                        const char *bad, size_t len)
{
    static const char other[] = "other";
    struct tc_fuse_in_arg name = ARG(bad, len);
    unsigned n = 0;

    memset(fa, 0, sizeof(*fa));
    memset(req, 0, sizeof(*req));
    req->opcode = c->opcode;
    req->nodeid = ROOT;
    switch (c->opcode) {
    case FUSE_MKDIR:
        fa->mkdir.mode = S_IFDIR | 0755;
        req->in[n++] = ARG(&fa->mkdir, sizeof(fa->mkdir));
        break;
    case FUSE_MKNOD:
        fa->mknod.mode = S_IFREG | 0644;
        req->in[n++] = ARG(&fa->mknod, sizeof(fa->mknod));
        break;
    case FUSE_CREATE:
        fa->create.flags = O_CREAT | O_RDWR;
        fa->create.mode = S_IFREG | 0644;
        req->in[n++] = ARG(&fa->create, sizeof(fa->create));
        break;
    case FUSE_LINK:
        fa->link.oldnodeid = ROOT;
        req->in[n++] = ARG(&fa->link, sizeof(fa->link));
        break;
    case FUSE_RENAME:
        fa->rename.newdir = ROOT;
        req->in[n++] = ARG(&fa->rename, sizeof(fa->rename));
        break;
    case FUSE_RENAME2:
        fa->rename2.newdir = ROOT;
        req->in[n++] = ARG(&fa->rename2, sizeof(fa->rename2));
        break;
    case FUSE_GETXATTR:
        req->in[n++] = ARG(&fa->getxattr, sizeof(fa->getxattr));
        break;
    case FUSE_SETXATTR:
        fa->setxattr.size = 1;
        req->in[n++] = ARG(&fa->setxattr, FUSE_COMPAT_SETXATTR_IN_SIZE);
        break;
    default:
        break;
    }
    if (c->position == 1)
        req->in[n++] = STR(other);
    req->in[n++] = name;
    if (c->opcode == FUSE_SYMLINK)
        req->in[n++] = STR("target");
    else if (c->opcode == FUSE_SETXATTR)
        req->in[n++] = ARG("v", 1);
    else if ((c->opcode == FUSE_RENAME || c->opcode == FUSE_RENAME2) && c->position == 0)
        req->in[n++] = STR(other);
    req->in_cnt = n;
}

static void expect_name_rejected(struct fx *f, const struct name_case *c, const char *bad,
                                 size_t len, int err, const char *why)
{
    struct tc_fuse_req req;
    union fixed_args fa;

    build_named(c, &req, &fa, bad, len);
    g_assert_cmpint(call(f, &req), ==, err);
    assert_req_log(f, req.unique, c->op, why);
    assert_root_ok(f, 1);
}

static void test_names(struct fx *f, gconstpointer data)
{
    const struct name_case *c = data;
    char long_name[NAME_MAX + 2];

    g_autofree char *doc = g_strdup_printf("%s with its %s name unterminated, empty, %s"
                                           "one byte over the limit", c->op,
                                           c->position ? "second" : "first",
                                           c->xattr ? "" : c->dots_ok ? "containing '/', "
                                           : "containing '/', \".\", \"..\", ");
    g_test_summary(doc);
    memset(long_name, 'n', NAME_MAX + 1);
    long_name[NAME_MAX + 1] = '\0';

    expect_name_rejected(f, c, "abc", 3, -EINVAL, "without a terminating NUL");
    expect_name_rejected(f, c, "", 1, -EINVAL, c->xattr ? "empty xattr name" : "empty name");
    if (!c->xattr) {
        expect_name_rejected(f, c, "a/b", 4, -EINVAL, "name containing '/'");
        expect_name_rejected(f, c, "/", 2, -EINVAL, "name containing '/'");
    }
    if (!c->xattr && !c->dots_ok) {
        expect_name_rejected(f, c, ".", 2, -EINVAL, "'.' or '..' as a name");
        expect_name_rejected(f, c, "..", 3, -EINVAL, "'.' or '..' as a name");
    }
    if (c->xattr)
        expect_name_rejected(f, c, long_name, sizeof(long_name), -ERANGE,
                             "xattr name longer than 255 bytes");
    else
        expect_name_rejected(f, c, long_name, sizeof(long_name), -ENAMETOOLONG,
                             "name longer than 255 bytes");
    if (c->opcode == FUSE_LOOKUP) {
        /* the limit itself is a valid name */
        long_name[NAME_MAX] = '\0';
        struct fuse_entry_out e;
        g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, long_name, &e), ==, -ENOENT);
    }
    assert_share_empty(f);
    assert_root_ok(f, 1);
}

#define NAMES(OP, pos, ...) \
    { .v = { .daemon_args = debug_args }, .op = #OP, .opcode = FUSE_##OP, .position = pos, \
      __VA_ARGS__ }

static const struct name_case name_cases[] = {
    NAMES(LOOKUP, 0, .path = "LOOKUP", .dots_ok = true),
    NAMES(MKDIR, 0, .path = "MKDIR"),
    NAMES(MKNOD, 0, .path = "MKNOD"),
    NAMES(CREATE, 0, .path = "CREATE"),
    NAMES(SYMLINK, 0, .path = "SYMLINK"),
    NAMES(UNLINK, 0, .path = "UNLINK"),
    NAMES(RMDIR, 0, .path = "RMDIR"),
    NAMES(LINK, 0, .path = "LINK"),
    NAMES(RENAME, 0, .path = "RENAME/oldname"),
    NAMES(RENAME, 1, .path = "RENAME/newname"),
    NAMES(RENAME2, 0, .path = "RENAME2/oldname"),
    NAMES(RENAME2, 1, .path = "RENAME2/newname"),
    NAMES(GETXATTR, 0, .path = "GETXATTR", .xattr = true),
    NAMES(SETXATTR, 0, .path = "SETXATTR", .xattr = true),
    NAMES(REMOVEXATTR, 0, .path = "REMOVEXATTR", .xattr = true),
};

static int symlink_to(struct fx *f, const char *name, const void *target, size_t len,
                      uint64_t *unique)
{
    struct tc_fuse_req req = {
        .opcode = FUSE_SYMLINK, .nodeid = ROOT,
        .in_cnt = 2, .in = { STR(name), ARG(target, len) },
    };
    int r = call(f, &req);
    *unique = req.unique;
    return r;
}

static void test_symlink_target(struct fx *f, gconstpointer data)
{
    g_autofree char *target = g_malloc(PATH_MAX + 1);
    uint64_t u;

    g_test_summary("SYMLINK with its target unterminated, empty, and 4096 bytes long");
    g_assert_cmpint(symlink_to(f, "l", "abc", 3, &u), ==, -EINVAL);
    assert_req_log(f, u, "SYMLINK", "symlink target without a terminating NUL");
    g_assert_cmpint(symlink_to(f, "l", "", 1, &u), ==, -EINVAL);
    assert_req_log(f, u, "SYMLINK", "empty symlink target");
    memset(target, 't', PATH_MAX);
    target[PATH_MAX] = '\0';
    g_assert_cmpint(symlink_to(f, "l", target, PATH_MAX + 1, &u), ==, -ENAMETOOLONG);
    assert_req_log(f, u, "SYMLINK", "symlink target longer than 4095 bytes");
    assert_share_empty(f);
    /* one byte less is what the host takes */
    target[PATH_MAX - 1] = '\0';
    g_assert_cmpint(symlink_to(f, "l", target, PATH_MAX, &u), ==, sizeof(struct fuse_entry_out));
    char host[PATH_MAX + 1];
    g_assert_cmpint(readlinkat(f->share_fd, "l", host, sizeof(host)), ==, PATH_MAX - 1);
    assert_root_ok(f, 1);
}

static void test_rename2_flags(struct fx *f, gconstpointer data)
{
    static const uint32_t bad[] = { 1u << 3, 1u << 31 };
    struct stat st;

    g_test_summary("RENAME2 with flags beyond NOREPLACE, EXCHANGE and WHITEOUT");
    fx_write_file(f, "a", "x", 1, 0644);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct fuse_rename2_in in = { .newdir = ROOT, .flags = bad[i] };
        struct tc_fuse_req req = {
            .opcode = FUSE_RENAME2, .nodeid = ROOT,
            .in_cnt = 3, .in = { ARG(&in, sizeof(in)), STR("a"), STR("b") },
        };
        g_assert_cmpint(call(f, &req), ==, -EINVAL);
        assert_req_log(f, req.unique, "RENAME2", "unknown rename flags");
    }
    g_assert_cmpint(fstatat(f->share_fd, "a", &st, 0), ==, 0);
    g_assert_cmpint(fstatat(f->share_fd, "b", &st, 0), ==, -1);
    g_assert_cmpint(tc_fuse_rename2(f->dev, ROOT, "a", ROOT, "b", RENAME_NOREPLACE), ==, 0);
    assert_root_ok(f, 1);
}

static int write_req(struct fx *f, uint64_t nodeid, uint64_t fh, uint32_t size, const void *data,
                     size_t len, uint64_t *unique)
{
    struct fuse_write_in in = { .fh = fh, .size = size };
    struct tc_fuse_req req = {
        .opcode = FUSE_WRITE, .nodeid = nodeid,
        .in_cnt = 2, .in = { ARG(&in, sizeof(in)), ARG(data, len) },
    };
    int r = call(f, &req);
    *unique = req.unique;
    return r;
}

static void test_write_size(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct stat st;
    uint64_t u;
    uint32_t max_write = f->dev->fuse.init.max_write;

    g_test_summary("WRITE whose size exceeds its data, and WRITE of max_write + 1 bytes");
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "w", O_CREAT | O_RDWR, 0644, 0, &e, &o), ==, 0);
    g_autofree char *buf = g_malloc0((size_t)max_write + 1);
    g_assert_cmpint(write_req(f, e.nodeid, o.fh, 100, buf, 50, &u), ==, -EINVAL);
    g_autofree char *why = g_strdup_printf("request %" G_GUINT64_FORMAT " (WRITE): 100 bytes "
                                           "with 50 present", u);
    assert_log(f, why);
    g_assert_cmpint(write_req(f, e.nodeid, o.fh, max_write + 1, buf, (size_t)max_write + 1, &u),
                    ==, -EINVAL);
    g_autofree char *why2 = g_strdup_printf("request %" G_GUINT64_FORMAT " (WRITE): %u bytes with "
                                            "%u present, max_write %u", u, max_write + 1,
                                            max_write + 1, max_write);
    assert_log(f, why2);
    g_assert_cmpint(fstatat(f->share_fd, "w", &st, 0), ==, 0);
    g_assert_cmpint(st.st_size, ==, 0);
    g_assert_cmpint(tc_fuse_write(f->dev, e.nodeid, o.fh, 0, "ok", 2), ==, 2);
    assert_root_ok(f, 1);
}

static void test_setxattr_size(struct fx *f, gconstpointer data)
{
    char value[64] = "12345";
    uint64_t n;

    g_test_summary("SETXATTR whose value is shorter than its size, and one over 64 KiB");
    fx_write_file(f, "x", "", 0, 0644);
    n = fx_lookup(f, ROOT, "x", NULL);
    struct fuse_setxattr_in in = { .size = 10 };
    struct tc_fuse_req req = {
        .opcode = FUSE_SETXATTR, .nodeid = n,
        .in_cnt = 3,
        .in = { ARG(&in, FUSE_COMPAT_SETXATTR_IN_SIZE), STR("user.a"), ARG(value, 5) },
    };
    g_assert_cmpint(call(f, &req), ==, -EINVAL);
    assert_req_log(f, req.unique, "SETXATTR", "xattr value shorter than its size");

    g_autofree char *big = g_malloc0(65537);
    in.size = 65537;
    req.in[2] = ARG(big, 65537);
    g_assert_cmpint(call(f, &req), ==, -E2BIG);
    assert_req_log(f, req.unique, "SETXATTR", "xattr value larger than 65536 bytes");

    char got[8];
    g_assert_cmpint(tc_fuse_getxattr(f->dev, n, "user.a", got, sizeof(got)), ==, -ENODATA);
    g_assert_cmpint(tc_fuse_setxattr(f->dev, n, "user.a", value, 5, 0), ==, 0);
    assert_root_ok(f, 1);
}

static void test_batch_forget_count(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;

    g_test_summary("BATCH_FORGET whose count exceeds its entries: no reply, nothing forgotten");
    fx_write_file(f, "x", "", 0, 0644);
    uint64_t n = fx_lookup(f, ROOT, "x", NULL);
    static const uint32_t counts[] = { 2, 0x7fffffffu, 0xffffffffu };
    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
        struct fuse_batch_forget_in in = { .count = counts[i] };
        struct fuse_forget_one one = { .nodeid = n, .nlookup = 1 };
        struct tc_fuse_req req = {
            .opcode = FUSE_BATCH_FORGET, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
            .in_cnt = 2, .in = { ARG(&in, sizeof(in)), ARG(&one, sizeof(one)) },
        };
        g_assert_cmpint(call(f, &req), ==, 0);
        g_assert_cmpuint(req.used_len, ==, 0);
        g_autofree char *why = g_strdup_printf("%u entries in 16 bytes", counts[i]);
        assert_req_log(f, req.unique, "BATCH_FORGET", why);
        assert_root_ok(f, 0);
    }
    /* the one entry that was there was not applied */
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    assert_root_ok(f, 1);
}

static void test_args_too_big(struct fx *f, gconstpointer data)
{
    size_t len = 128 * 1024 + 1;
    g_autofree char *name = g_malloc(len);

    g_test_summary("LOOKUP and SETXATTR with more than 128 KiB of arguments");
    memset(name, 'a', len - 1);
    name[len - 1] = '\0';
    struct tc_fuse_req req = { .opcode = FUSE_LOOKUP, .nodeid = ROOT,
                               .in_cnt = 1, .in = { ARG(name, len) } };
    g_assert_cmpint(call(f, &req), ==, -E2BIG);
    g_autofree char *why = g_strdup_printf("%zu argument bytes is too many", len);
    assert_req_log(f, req.unique, "LOOKUP", why);

    struct fuse_setxattr_in in = { .size = (uint32_t)len };
    struct tc_fuse_req sx = {
        .opcode = FUSE_SETXATTR, .nodeid = ROOT,
        .in_cnt = 3,
        .in = { ARG(&in, FUSE_COMPAT_SETXATTR_IN_SIZE), STR("user.big"), ARG(name, len) },
    };
    g_assert_cmpint(call(f, &sx), ==, -E2BIG);
    g_autofree char *why2 = g_strdup_printf("%zu argument bytes is too many",
                                            FUSE_COMPAT_SETXATTR_IN_SIZE + sizeof("user.big") + len);
    assert_req_log(f, sx.unique, "SETXATTR", why2);
    assert_root_ok(f, 1);
}

static void test_no_writable(struct fx *f, gconstpointer data)
{
    struct fuse_getattr_in in = { 0 };
    struct getattr_bytes g = getattr_bytes(333);
    struct fuse_out_header oh;
    uint32_t used = 1;

    g_test_summary("GETATTR without any writable buffer, and with 8 writable bytes");
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = ROOT, .flags = TC_FUSE_NOREPLY,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
    };
    g_assert_cmpint(call(f, &req), ==, 0);
    g_assert_cmpuint(req.used_len, ==, 0);
    assert_req_log(f, req.unique, "GETATTR", "no room for a reply header");
    assert_root_ok(f, 1);

    g_assert_cmpint(raw_request(f, 1, &g, sizeof(g), 8, 2000, &used, &oh), ==, 1);
    g_assert_cmpuint(used, ==, 0);
    assert_req_log(f, 333, "GETATTR", "no room for a reply header");
    assert_root_ok(f, 1);
}

static void test_reply_too_small(struct fx *f, gconstpointer data)
{
    struct fuse_getattr_in in = { 0 };

    g_test_summary("GETATTR and LOOKUP with room for the reply header only");
    /* no out args: the writable part is exactly one fuse_out_header */
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = ROOT,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &req), ==, -EIO);
    g_autofree char *why = g_strdup_printf("reply of %zu bytes does not fit",
                                           sizeof(struct fuse_attr_out));
    assert_req_log(f, req.unique, "GETATTR", why);

    fx_write_file(f, "x", "", 0, 0644);
    struct tc_fuse_req lk = { .opcode = FUSE_LOOKUP, .nodeid = ROOT,
                              .in_cnt = 1, .in = { STR("x") } };
    g_assert_cmpint(tc_fuse_call(f->dev, &lk), ==, -EIO);
    assert_req_log(f, lk.unique, "LOOKUP", "does not fit");
    assert_root_ok(f, 1);
    fx_lookup(f, ROOT, "x", NULL);
}

static void assert_before_init_log(struct fx *f, uint64_t unique, const char *op)
{
    g_autofree char *s = g_strdup_printf("request %" G_GUINT64_FORMAT " (%s) before INIT", unique, op);
    assert_log(f, s);
}

static void test_before_init(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;
    struct fuse_getattr_in in = { 0 };

    g_test_summary("GETATTR, LOOKUP and FORGET before FUSE_INIT");
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = ROOT,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
    };
    g_assert_cmpint(call(f, &req), ==, -EIO);
    assert_before_init_log(f, req.unique, "GETATTR");
    struct tc_fuse_req lk = { .opcode = FUSE_LOOKUP, .nodeid = ROOT,
                              .in_cnt = 1, .in = { STR("x") } };
    g_assert_cmpint(call(f, &lk), ==, -EIO);
    assert_before_init_log(f, lk.unique, "LOOKUP");
    struct fuse_forget_in fin = { .nlookup = 1 };
    struct tc_fuse_req fg = {
        .opcode = FUSE_FORGET, .nodeid = ROOT, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
        .in_cnt = 1, .in = { ARG(&fin, sizeof(fin)) },
    };
    g_assert_cmpint(call(f, &fg), ==, 0);
    g_assert_cmpuint(fg.used_len, ==, 0);
    assert_before_init_log(f, fg.unique, "FORGET");

    g_assert_cmpint(tc_fuse_init_session(f->dev, TC_FUSE_INIT_FLAGS, NULL), ==, 0);
    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
    assert_root_ok(f, 1);
    assert_root_ok(f, 0);
}

static void expect_bad_node(struct fx *f, uint64_t nodeid)
{
    struct fuse_getattr_in in = { 0 };
    struct tc_fuse_req req = {
        .opcode = FUSE_GETATTR, .nodeid = nodeid,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
    };
    g_assert_cmpint(call(f, &req), ==, -EBADF);
    g_autofree char *why = g_strdup_printf("unknown or stale nodeid %" G_GUINT64_FORMAT, nodeid);
    assert_req_log(f, req.unique, "GETATTR", why);
}

static void test_unknown_nodeid(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_mkdir_in mi = { .mode = S_IFDIR | 0755 };

    g_test_summary("requests naming nodeids that never existed or were forgotten");
    expect_bad_node(f, 0);
    expect_bad_node(f, 0xdeadbeef12345ull);
    expect_bad_node(f, 2);
    /* a nodeid forgotten by the guest is stale, even if the file is still there */
    fx_write_file(f, "x", "", 0, 0644);
    uint64_t n = fx_lookup(f, ROOT, "x", NULL);
    g_assert_cmpint(tc_fuse_forget(f->dev, n, 1), ==, 0);
    expect_bad_node(f, n);
    /* as a parent */
    g_assert_cmpint(tc_fuse_lookup(f->dev, n, "y", &e), ==, -EBADF);
    struct tc_fuse_req req = {
        .opcode = FUSE_MKDIR, .nodeid = 0xdeadbeef12345ull,
        .in_cnt = 2, .in = { ARG(&mi, sizeof(mi)), STR("d") },
    };
    g_assert_cmpint(call(f, &req), ==, -EBADF);
    g_assert_cmpint(unlinkat(f->share_fd, "x", 0), ==, 0);
    assert_share_empty(f);
    assert_root_ok(f, 1);
}

static void test_unknown_fh(struct fx *f, gconstpointer data)
{
    struct fuse_entry_out e;
    struct fuse_open_out o;
    struct fuse_attr_out a;
    char buf[16];

    g_test_summary("READ, WRITE, GETATTR, READDIR and RELEASE with unknown and released handles");
    g_assert_cmpint(tc_fuse_create(f->dev, ROOT, "x", O_CREAT | O_RDWR, 0644, 0, &e, &o), ==, 0);
    uint64_t bad = o.fh ^ 0x5a5a0000ull;
    g_assert_cmpint(tc_fuse_read(f->dev, e.nodeid, bad, 0, buf, sizeof(buf)), ==, -EBADF);
    g_assert_cmpint(tc_fuse_write(f->dev, e.nodeid, bad, 0, "x", 1), ==, -EBADF);
    g_assert_cmpint(tc_fuse_getattr(f->dev, e.nodeid, FUSE_GETATTR_FH, bad, &a), ==, -EBADF);
    g_assert_cmpint(tc_fuse_readdir(f->dev, ROOT, bad, 0, buf, sizeof(buf)), ==, -EBADF);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, bad, O_RDWR), ==, -EBADF);
    assert_log(f, "(READ): unknown or stale nodeid");
    /* a released handle is stale */
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, e.nodeid, o.fh, 0, buf, sizeof(buf)), ==, -EBADF);
    g_assert_cmpint(tc_fuse_release(f->dev, e.nodeid, o.fh, O_RDWR), ==, -EBADF);
    assert_root_ok(f, 1);
}

static void forget_on(struct fx *f, uint64_t nodeid, uint64_t nlookup, uint64_t *unique)
{
    struct fuse_forget_in in = { .nlookup = nlookup };
    struct tc_fuse_req req = {
        .opcode = FUSE_FORGET, .nodeid = nodeid, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
        .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
    };
    g_assert_cmpint(call(f, &req), ==, 0);
    g_assert_cmpuint(req.used_len, ==, 0);
    *unique = req.unique;
}

static void test_forget_bad(struct fx *f, gconstpointer data)
{
    struct fuse_attr_out a;
    uint64_t u;

    g_test_summary("FORGET and BATCH_FORGET of unknown nodeids and with huge counts");
    forget_on(f, 0xdeadbeef12345ull, 1, &u);
    g_autofree char *why = g_strdup_printf("unknown nodeid %llu", 0xdeadbeef12345ull);
    assert_req_log(f, u, "FORGET", why);
    forget_on(f, 0, UINT64_MAX, &u);
    assert_req_log(f, u, "FORGET", "unknown nodeid 0");
    assert_root_ok(f, 0);

    struct fuse_forget_one items[3] = {
        { .nodeid = 77, .nlookup = 1 }, { .nodeid = 0, .nlookup = 5 },
        { .nodeid = UINT64_MAX, .nlookup = UINT64_MAX },
    };
    struct fuse_batch_forget_in bin = { .count = 3 };
    struct tc_fuse_req req = {
        .opcode = FUSE_BATCH_FORGET, .flags = TC_FUSE_HIPRIO | TC_FUSE_NOREPLY,
        .in_cnt = 2, .in = { ARG(&bin, sizeof(bin)), ARG(items, sizeof(items)) },
    };
    g_assert_cmpint(call(f, &req), ==, 0);
    g_assert_cmpuint(req.used_len, ==, 0);
    assert_req_log(f, req.unique, "BATCH_FORGET", "3 unknown nodeids");
    assert_root_ok(f, 0);

    /* more than it was looked up: forgotten entirely, the count clamped */
    fx_write_file(f, "x", "", 0, 0644);
    uint64_t n = fx_lookup(f, ROOT, "x", NULL);
    forget_on(f, n, UINT64_MAX, &u);
    g_autofree char *why2 = g_strdup_printf("nodeid %" G_GUINT64_FORMAT " forgotten more often "
                                            "than it was looked up", n);
    assert_req_log(f, u, "FORGET", why2);
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, -EBADF);
    /* the root is not going anywhere */
    forget_on(f, ROOT, UINT64_MAX, &u);
    assert_root_ok(f, 0);
    assert_root_ok(f, 1);
    g_assert_cmpuint(fx_lookup(f, ROOT, "x", NULL), !=, 0);
}

static void test_second_init(struct fx *f, gconstpointer data)
{
    struct fuse_open_out o;
    struct fuse_attr_out a;
    char buf[4];

    g_test_summary("a second FUSE_INIT on a live session: accepted, the session starts over");
    fx_write_file(f, "x", "abc", 3, 0644);
    uint64_t n = fx_lookup(f, ROOT, "x", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_init_session(f->dev, TC_FUSE_INIT_FLAGS, NULL), ==, 0);
    assert_log(f, "FUSE INIT on a live session: dropping the previous session's state");
    /* what the old session had is gone */
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, -EBADF);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), ==, -EBADF);
    assert_root_ok(f, 1);
    n = fx_lookup(f, ROOT, "x", NULL);
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), ==, 3);
}

static void test_init_old_minor(struct fx *f, gconstpointer data)
{
    struct fuse_init_in in = { .major = 7, .minor = 20 };
    struct fuse_init_out out;

    g_test_summary("a FUSE_INIT of protocol 7.20 on a live session: refused, session kept");
    struct tc_fuse_req req = {
        .opcode = FUSE_INIT, .in_cnt = 1, .in = { ARG(&in, sizeof(in)) },
        .out_cnt = 1, .out = { { &out, sizeof(out) } },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &req), ==, -EPROTO);
    assert_log(f, "FUSE INIT: guest protocol 7.20 is too old");
    assert_root_ok(f, 1);
}

/* ======================================================================== */
/* Descriptor-level corruption                                              */
/* ======================================================================== */

/* Layout of the case's guest buffer. */
#define REPLY_OFF  4096u
#define TABLE_OFF  1024u
#define TABLE2_OFF 2048u
#define GA_LEN     ((uint32_t)sizeof(struct getattr_bytes))

struct ring_case {
    struct fx_variant v;
    const char *path;
    const char *doc;
    const char *why;          /* the daemon's reason, after "queue N: " */
    void (*corrupt)(struct fx *f, struct tc_vq *vq, const struct tc_buf *buf);
    bool hiprio;              /* corrupt queue 0 instead of 1 */
    bool first_served;        /* the first entry made available is valid and answered */
};

/*
 * Takes n descriptors, fills them from d[] with NEXT linking each to the
 * following one (the last keeps its own flags and next) and makes the head
 * available. ids[] gets the descriptor indices.
 */
static void add_chain(struct tc_vq *vq, const struct vring_desc *d, unsigned n, uint16_t *ids)
{
    g_assert_cmpint(tc_vq_raw_take(vq, n, ids), ==, 0);
    for (unsigned i = 0; i < n; i++) {
        struct vring_desc x = d[i];
        if (i + 1 < n) {
            x.flags |= VRING_DESC_F_NEXT;
            x.next = ids[i + 1];
        }
        *tc_vq_raw_desc(vq, ids[i]) = x;
    }
    tc_vq_raw_submit(vq, ids[0], ids, n, NULL);
}

static struct vring_desc d_header(const struct tc_buf *b)
{
    return (struct vring_desc){ .addr = b->gpa, .len = GA_LEN };
}

static struct vring_desc d_reply(const struct tc_buf *b)
{
    return (struct vring_desc){ .addr = b->gpa + REPLY_OFF, .len = 256, .flags = VRING_DESC_F_WRITE };
}

static struct vring_desc *table_at(const struct tc_buf *b, unsigned off)
{
    return (struct vring_desc *)((char *)b->ptr + off);
}

/* A valid indirect table for the GETATTR at TABLE_OFF. */
static void fill_table(const struct tc_buf *b, unsigned off)
{
    struct vring_desc *t = table_at(b, off);
    t[0] = d_header(b);
    t[0].flags = VRING_DESC_F_NEXT;
    t[0].next = 1;
    t[1] = d_reply(b);
}

static void add_indirect(struct tc_vq *vq, uint64_t addr, uint32_t len, uint16_t flags)
{
    struct vring_desc d = { .addr = addr, .len = len, .flags = VRING_DESC_F_INDIRECT | flags };
    uint16_t id;
    add_chain(vq, &d, 1, &id);
}

static void c_loop(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = { d_header(b), d_header(b) };
    uint16_t ids[2];
    d[0].len = 40;
    d[1].addr += 40;
    d[1].len = GA_LEN - 40;
    add_chain(vq, d, 2, ids);
    tc_vq_raw_desc(vq, ids[1])->flags |= VRING_DESC_F_NEXT;
    tc_vq_raw_desc(vq, ids[1])->next = ids[0];
}

static void c_self_loop(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d = d_header(b);
    uint16_t id;
    add_chain(vq, &d, 1, &id);
    tc_vq_raw_desc(vq, id)->flags |= VRING_DESC_F_NEXT;
    tc_vq_raw_desc(vq, id)->next = id;
}

static void c_addr_outside(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = { d_header(b), d_reply(b) };
    uint16_t ids[2];
    d[0].addr = 0x1000;
    add_chain(vq, d, 2, ids);
}

static void c_addr_wraps(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = { d_header(b), d_reply(b) };
    uint16_t ids[2];

    /* guest memory at both ends of the guest-physical space (the memfd's
     * first MiB twice more), so that both ends of the range are mapped and
     * only the wrap is wrong */
    struct tc_vhu_mem_region r[3] = { region_of(f, 0), region_of(f, 0), region_of(f, 0) };
    uint64_t mib = 1 << 20;
    r[1].guest_phys_addr = 0;
    r[1].memory_size = mib;
    r[1].userspace_addr = r[0].userspace_addr + r[0].memory_size;
    r[2].guest_phys_addr = UINT64_MAX - (mib - 1);
    r[2].memory_size = mib;
    r[2].userspace_addr = r[1].userspace_addr + mib;
    struct tc_vhu_mem_table t = { .nregions = 3, .regions = { r[0], r[1], r[2] } };
    int fd = tc_mem_fd(f->dev->mem), fds[3] = { fd, fd, fd };
    g_assert_cmpint(tc_dev_request(f->dev, TC_VHU_SET_MEM_TABLE, &t, 8 + sizeof(r), fds, 3,
                                   NULL, 0), ==, 0);

    d[0].addr = UINT64_MAX - 15;
    d[0].len = 64;
    add_chain(vq, d, 2, ids);
}

static void c_len_past_end(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = { d_header(b), d_reply(b) };
    uint16_t ids[2];
    d[1].addr = TC_GPA_BASE + tc_mem_size(f->dev->mem) - 16;
    d[1].len = 4096;
    add_chain(vq, d, 2, ids);
}

static void c_next_out_of_range(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d = d_header(b);
    uint16_t id;
    d.flags = VRING_DESC_F_NEXT;
    d.next = vq->num;
    add_chain(vq, &d, 1, &id);
}

static void c_head_out_of_range(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    tc_vq_raw_submit(vq, vq->num, NULL, 0, NULL);
}

static void c_avail_jump(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    tc_vq_raw_set_avail_idx(vq, (uint16_t)(vq->avail_idx + vq->num + 1));
}

static void c_avail_backwards(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    tc_vq_raw_set_avail_idx(vq, (uint16_t)(vq->avail_idx - 1));
}

static void c_read_after_write(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = { d_reply(b), d_header(b) };
    uint16_t ids[2];
    add_chain(vq, d, 2, ids);
}

static void c_head_twice(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = { d_header(b), d_reply(b) };
    uint16_t ids[2];
    add_chain(vq, d, 2, ids);
    tc_vq_raw_submit(vq, ids[0], NULL, 0, NULL);
}

static void c_indirect_bad_len(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    fill_table(b, TABLE_OFF);
    add_indirect(vq, b->gpa + TABLE_OFF, 24, 0);
}

static void c_indirect_zero_len(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    fill_table(b, TABLE_OFF);
    add_indirect(vq, b->gpa + TABLE_OFF, 0, 0);
}

static void c_indirect_nested(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    fill_table(b, TABLE2_OFF);
    *table_at(b, TABLE_OFF) = (struct vring_desc){
        .addr = b->gpa + TABLE2_OFF, .len = 32, .flags = VRING_DESC_F_INDIRECT,
    };
    add_indirect(vq, b->gpa + TABLE_OFF, 16, 0);
}

static void c_indirect_outside(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    add_indirect(vq, 0x1000, 32, 0);
}

static void c_indirect_past_end(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    add_indirect(vq, TC_GPA_BASE + tc_mem_size(f->dev->mem) - 16, 32, 0);
}

static void c_indirect_with_next(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc d[2] = {
        { .addr = b->gpa + TABLE_OFF, .len = 32, .flags = VRING_DESC_F_INDIRECT },
        d_reply(b),
    };
    uint16_t ids[2];
    fill_table(b, TABLE_OFF);
    add_chain(vq, d, 2, ids);
}

static void c_indirect_loop(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    struct vring_desc *t = table_at(b, TABLE_OFF);
    t[0] = (struct vring_desc){ .addr = b->gpa, .len = 40, .flags = VRING_DESC_F_NEXT, .next = 1 };
    t[1] = (struct vring_desc){ .addr = b->gpa + 40, .len = GA_LEN - 40,
                                .flags = VRING_DESC_F_NEXT, .next = 0 };
    add_indirect(vq, b->gpa + TABLE_OFF, 32, 0);
}

static void c_indirect_next_out_of_range(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    fill_table(b, TABLE_OFF);
    table_at(b, TABLE_OFF)[0].next = 2;
    add_indirect(vq, b->gpa + TABLE_OFF, 32, 0);
}

static void c_indirect_too_long(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    enum { N = 1100 }; /* more than the queue's 1024, and than a request's segments */
    struct tc_buf table; /* stays with the ring */
    g_assert_cmpint(tc_buf_alloc(f->dev->mem, N * sizeof(struct vring_desc), 16, 0, &table), ==, 0);
    struct vring_desc *t = table.ptr;
    for (unsigned i = 0; i < N; i++)
        t[i] = (struct vring_desc){ .addr = b->gpa + i % GA_LEN, .len = 1,
                                    .flags = i + 1 < N ? VRING_DESC_F_NEXT : 0, .next = i + 1 };
    add_indirect(vq, table.gpa, N * sizeof(struct vring_desc), 0);
}

static void c_indirect_valid(struct fx *f, struct tc_vq *vq, const struct tc_buf *b)
{
    fill_table(b, TABLE_OFF);
    add_indirect(vq, b->gpa + TABLE_OFF, 32, 0);
}

static void test_ring(struct fx *f, gconstpointer data)
{
    const struct ring_case *c = data;
    struct tc_dev *dev = f->dev;
    unsigned q = c->hiprio ? 0 : 1, other = c->hiprio ? 1 : 2;
    struct tc_vq *vq = &dev->vqs[q];
    struct fuse_out_header oh;
    struct tc_buf buf;
    uint32_t base, id, used;

    g_test_summary(c->doc);
    g_assert_nonnull(dev);
    assert_root_ok(f, q);
    /* the frontend's way to hear of a broken queue */
    int err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    g_assert_cmpint(err_fd, >=, 0);
    uint64_t idx = q, count = 0;
    g_assert_cmpint(tc_dev_request(dev, TC_VHU_SET_VRING_ERR, &idx, sizeof(idx), &err_fd, 1,
                                   NULL, 0), ==, 0);
    g_assert_cmpint(tc_buf_alloc(dev->mem, 8192, 4096, TC_BUF_ZERO, &buf), ==, 0);
    struct getattr_bytes g = getattr_bytes(7000);
    memcpy(buf.ptr, &g, sizeof(g));

    uint16_t stop_at = vq->avail_idx;
    c->corrupt(f, vq, &buf);
    tc_vq_publish(vq);
    g_assert_cmpint(tc_vq_notify(vq), ==, 0);

    g_autofree char *why = g_strdup_printf("queue %u: %s", q, c->why);
    assert_log(f, why);
    struct pollfd p = { .fd = err_fd, .events = POLLIN };
    g_assert_cmpint(poll(&p, 1, 2000), ==, 1);
    g_assert_cmpint(read(err_fd, &count, sizeof(count)), ==, sizeof(count));
    g_assert_cmpuint(count, ==, 1);
    if (c->first_served) {
        g_assert_cmpint(tc_vq_wait(vq, 2000), ==, 0);
        g_assert_cmpint(tc_vq_raw_get_used(vq, &id, &used), ==, 1);
        g_assert_cmpuint(used, ==, sizeof(oh) + sizeof(struct fuse_attr_out));
        stop_at++;
    }
    /* the corrupt chain gets no used entry, nor does a valid request behind it */
    struct getattr_bytes later = getattr_bytes(7001);
    g_assert_cmpint(raw_request(f, q, &later, sizeof(later), 256, SILENCE_MS, &used, &oh), ==, 0);
    /* another request queue keeps serving */
    assert_root_ok(f, other);
    /* GET_VRING_BASE still answers, with where the queue stopped */
    g_assert_cmpint(tc_dev_queue_stop(dev, q, &base), ==, 0);
    g_assert_cmpuint(base, ==, stop_at);
    g_assert_false(tc_vq_has_used(vq));
    assert_log_once(f, why);
    /* restarted by the frontend, it serves again */
    restart_queue(f, q);
    assert_log_once(f, why);
    g_assert_cmpint(read(err_fd, &count, sizeof(count)), ==, -1);
    close(err_fd);
    tc_buf_free(dev->mem, &buf);
}

#define RING(p, d, w, fn, ...) \
    { .v = { .cfg = { .num_request_queues = 2 } }, .path = p, .doc = d, .why = w, \
      .corrupt = fn, __VA_ARGS__ }

static const struct ring_case ring_cases[] = {
    RING("loop", "a chain whose second descriptor points back at the first",
         "descriptor chain loops or is too long", c_loop),
    RING("self_loop", "a descriptor whose next is itself",
         "descriptor chain loops or is too long", c_self_loop),
    RING("addr_outside", "a descriptor at guest-physical 0x1000, outside guest memory",
         "descriptor address outside guest memory", c_addr_outside),
    RING("addr_len_wraps", "a descriptor at 2^64 - 16 of 64 bytes, memory mapped at both ends: "
         "address + length wraps", "descriptor address + length wraps around", c_addr_wraps),
    RING("len_past_end", "a writable descriptor running 4080 bytes past the end of guest memory",
         "descriptor address outside guest memory", c_len_past_end),
    RING("next_out_of_range", "a descriptor whose next is the queue size",
         "next index out of range", c_next_out_of_range),
    RING("head_out_of_range", "an available-ring entry naming head 1024 of 1024",
         "head index out of range", c_head_out_of_range),
    RING("avail_idx_jump", "the available index moving 1025 entries at once",
         "available index moved past the ring size", c_avail_jump),
    RING("avail_idx_backwards", "the available index moving back by one",
         "available index moved past the ring size", c_avail_backwards),
    RING("read_after_write", "a readable descriptor after a writable one",
         "readable descriptor after a writable one", c_read_after_write),
    RING("head_twice", "the same head made available twice in a row (the first is served)",
         "head already in flight", c_head_twice, .first_served = true),
    RING("indirect/bad_len", "an indirect table of 24 bytes (not a multiple of 16)",
         "bad indirect table length", c_indirect_bad_len),
    RING("indirect/zero_len", "an indirect table of 0 bytes",
         "bad indirect table length", c_indirect_zero_len),
    RING("indirect/nested", "an indirect table whose entry is itself indirect",
         "nested indirect table", c_indirect_nested),
    RING("indirect/outside", "an indirect table at guest-physical 0x1000",
         "indirect table outside guest memory", c_indirect_outside),
    RING("indirect/past_end", "an indirect table running past the end of guest memory",
         "indirect table outside guest memory", c_indirect_past_end),
    RING("indirect/with_next", "an indirect descriptor with NEXT set",
         "indirect descriptor with NEXT", c_indirect_with_next),
    RING("indirect/loop", "an indirect table whose entries point at each other",
         "descriptor chain loops or is too long", c_indirect_loop),
    RING("indirect/next_out_of_range", "an indirect table entry whose next is past the table",
         "next index out of range", c_indirect_next_out_of_range),
    RING("indirect/too_long", "an indirect chain of 1100 descriptors on a queue of 1024",
         "too many segments in one chain", c_indirect_too_long),
    { .v = { .cfg = { .num_request_queues = 2, .flags = TC_CFG_NO_INDIRECT } },
      .path = "indirect/not_negotiated", .doc = "an indirect descriptor without INDIRECT_DESC",
      .why = "indirect descriptor without the feature", .corrupt = c_indirect_valid },
    RING("hiprio/loop", "a descriptor loop on the hiprio queue",
         "descriptor chain loops or is too long", c_self_loop, .hiprio = true),
};

/* ======================================================================== */

static void skip_if_other_daemon(int argc, char **argv)
{
    const char *other = g_getenv("VFSD_DAEMON");
    if (!other || !*other)
        return;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--tap") == 0) {
            printf("1..0 # SKIP expects this daemon's log lines and exit statuses\n");
            exit(0);
        }
    }
    fprintf(stderr, "SKIP: expects this daemon's log lines and exit statuses\n");
    exit(77);
}

int main(int argc, char **argv)
{
    skip_if_other_daemon(argc, argv);
    fx_require_daemon(argc, argv);
    g_test_init(&argc, &argv, NULL);
    /* failed assertions abort, g_error() traps */
    signal(SIGABRT, show_log_on_abort);
    signal(SIGTRAP, show_log_on_abort);

#define ADD(path, v, fn) g_test_add("/malformed/" path, struct fx, v, mf_setup, fn, mf_teardown)
#define ADD_TABLE(prefix, table, fn) \
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) { \
        g_autofree char *p = g_strdup_printf("/malformed/" prefix "/%s", table[i].path); \
        g_test_add(p, struct fx, &table[i], mf_setup, fn, mf_teardown); \
    }

    /* vhost-user messages the daemon must close the connection over */
    ADD_TABLE("vhost", msg_cases, test_msg_closes);
    /* well-formed ones it cannot honour: failure ack, the connection goes on */
    ADD("vhost/mem_table/zero_size", NULL, test_mem_zero_size);
    ADD("vhost/mem_table/gpa_overflow", NULL, test_mem_gpa_overflow);
    ADD("vhost/mem_table/uaddr_overflow", NULL, test_mem_uaddr_overflow);
    ADD("vhost/mem_table/offset_overflow", NULL, test_mem_offset_overflow);
    ADD("vhost/mem_table/overlap_gpa", NULL, test_mem_overlap_gpa);
    ADD("vhost/mem_table/overlap_uaddr", NULL, test_mem_overlap_uaddr);
    ADD("vhost/mem_table/offset_beyond_file", NULL, test_mem_offset_beyond_file);
    ADD("vhost/mem_table/tail_beyond_file", NULL, test_mem_tail_beyond_file);
    ADD("vhost/mem_table/unmappable_fd", NULL, test_mem_unmappable_fd);
    ADD("vhost/mem_slots/REM_MEM_REG_unknown", NULL, test_rem_mem_reg_unknown);
    ADD("vhost/mem_slots/ADD_MEM_REG_overlap", NULL, test_add_mem_reg_overlap);
    ADD("vhost/mem_slots/REM_MEM_REG_of_the_rings", &v_two_slots, test_rem_mem_reg_rings);
    ADD("vhost/vring_addr/outside_memory", &v_two_queues, test_vring_addr_outside);
    ADD("vhost/vring_fd/KICK_NOFD", NULL, test_vring_kick_nofd);
    ADD("vhost/vring_fd/CALL_NOFD_then_fd", NULL, test_vring_call_late);
    ADD("vhost/vring_num/while_running", NULL, test_vring_num_running);
    ADD("vhost/unsupported/SET_LOG_BASE", NULL, test_set_log_base);
    ADD("vhost/config/GET_CONFIG_out_of_range", &v_tag, test_get_config_out_of_range);
    ADD("vhost/config/SET_CONFIG", &v_tag, test_set_config);
    /* the byte stream */
    ADD("vhost/stream/split_header", NULL, test_split_header);
    ADD("vhost/stream/cut_in_payload", NULL, test_cut_payload);
    ADD("vhost/stream/cut_in_header", NULL, test_cut_header);
    ADD("vhost/stream/disconnect_in_flight", &v_two_queues, test_disconnect_in_flight);
    ADD("vhost/stream/disconnect_in_flight_pool", &v_pool_two_queues, test_disconnect_in_flight);

    /* FUSE */
    ADD("fuse/chain_shorter_than_header", NULL, test_chain_short);
    ADD("fuse/header_len/past_chain", NULL, test_header_len_past_chain);
    ADD("fuse/header_len/below_header", NULL, test_header_len_below_header);
    ADD("fuse/opcode/unknown", NULL, test_opcode_unknown);
    for (size_t i = 0; i < G_N_ELEMENTS(short_cases); i++) {
        g_autofree char *p = g_strdup_printf("/malformed/fuse/short_arg/%s", short_cases[i].op);
        g_test_add(p, struct fx, &short_cases[i], mf_setup, test_short_arg, mf_teardown);
    }
    ADD_TABLE("fuse/names", name_cases, test_names);
    ADD("fuse/symlink_target", &v_debug, test_symlink_target);
    ADD("fuse/rename2_flags", NULL, test_rename2_flags);
    ADD("fuse/write_size", NULL, test_write_size);
    ADD("fuse/setxattr_size", NULL, test_setxattr_size);
    ADD("fuse/batch_forget_count", NULL, test_batch_forget_count);
    ADD("fuse/args_over_128k", NULL, test_args_too_big);
    ADD("fuse/reply/no_writable_buffer", NULL, test_no_writable);
    ADD("fuse/reply/too_small", NULL, test_reply_too_small);
    ADD("fuse/before_init", &v_no_init, test_before_init);
    ADD("fuse/unknown_nodeid", NULL, test_unknown_nodeid);
    ADD("fuse/unknown_fh", NULL, test_unknown_fh);
    ADD("fuse/forget_unknown_and_huge", NULL, test_forget_bad);
    ADD("fuse/second_init", NULL, test_second_init);
    ADD("fuse/init_too_old", NULL, test_init_old_minor);

    /* descriptor rings */
    ADD_TABLE("ring", ring_cases, test_ring);
    return g_test_run();
}

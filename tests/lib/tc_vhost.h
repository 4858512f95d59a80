/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test client's vhost-user frontend: it connects to a virtio-fs
 * backend's socket and plays QEMU's vhost-user-fs (feature and protocol
 * negotiation, guest memory, the backend channel, queue setup), and gives
 * raw access to the socket for malformed-input tests.
 *
 * A struct tc_dev is one connection plus its guest memory and virtqueues:
 * queue 0 is the hiprio queue, 1..N are request queues. The FUSE layer
 * (tc_fuse.h) drives requests over it.
 *
 * Threads: control-plane calls (everything here) from one thread at a time;
 * each virtqueue may then be driven by its own thread.
 */
#ifndef TESTS_LIB_TC_VHOST_H
#define TESTS_LIB_TC_VHOST_H

#include <linux/fuse.h>
#include <stdbool.h>
#include <stdint.h>

#include "tests/lib/tc_mem.h"
#include "tests/lib/tc_vring.h"

/* Front-end request ids (vhost-user.rst). */
enum tc_vhu_request {
    TC_VHU_GET_FEATURES = 1,
    TC_VHU_SET_FEATURES = 2,
    TC_VHU_SET_OWNER = 3,
    TC_VHU_RESET_OWNER = 4,
    TC_VHU_SET_MEM_TABLE = 5,
    TC_VHU_SET_LOG_BASE = 6,
    TC_VHU_SET_LOG_FD = 7,
    TC_VHU_SET_VRING_NUM = 8,
    TC_VHU_SET_VRING_ADDR = 9,
    TC_VHU_SET_VRING_BASE = 10,
    TC_VHU_GET_VRING_BASE = 11,
    TC_VHU_SET_VRING_KICK = 12,
    TC_VHU_SET_VRING_CALL = 13,
    TC_VHU_SET_VRING_ERR = 14,
    TC_VHU_GET_PROTOCOL_FEATURES = 15,
    TC_VHU_SET_PROTOCOL_FEATURES = 16,
    TC_VHU_GET_QUEUE_NUM = 17,
    TC_VHU_SET_VRING_ENABLE = 18,
    TC_VHU_SEND_RARP = 19,
    TC_VHU_NET_SET_MTU = 20,
    TC_VHU_SET_BACKEND_REQ_FD = 21,
    TC_VHU_IOTLB_MSG = 22,
    TC_VHU_SET_VRING_ENDIAN = 23,
    TC_VHU_GET_CONFIG = 24,
    TC_VHU_SET_CONFIG = 25,
    TC_VHU_GET_INFLIGHT_FD = 31,
    TC_VHU_SET_INFLIGHT_FD = 32,
    TC_VHU_RESET_DEVICE = 34,
    TC_VHU_VRING_KICK = 35,
    TC_VHU_GET_MAX_MEM_SLOTS = 36,
    TC_VHU_ADD_MEM_REG = 37,
    TC_VHU_REM_MEM_REG = 38,
    TC_VHU_SET_STATUS = 39,
    TC_VHU_GET_STATUS = 40,
};

/* Header flags */
#define TC_VHU_VERSION     0x1u
#define TC_VHU_FLAG_REPLY  (1u << 2)
#define TC_VHU_FLAG_NEED_REPLY (1u << 3)

/* Protocol feature bits */
#define TC_VHU_PROTOCOL_F_MQ                 0
#define TC_VHU_PROTOCOL_F_LOG_SHMFD          1
#define TC_VHU_PROTOCOL_F_REPLY_ACK          3
#define TC_VHU_PROTOCOL_F_BACKEND_REQ        5
#define TC_VHU_PROTOCOL_F_CONFIG             9
#define TC_VHU_PROTOCOL_F_BACKEND_SEND_FD    10
#define TC_VHU_PROTOCOL_F_INBAND_NOTIFICATIONS 14
#define TC_VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15

/* Device feature bit that announces the protocol-feature messages. */
#define TC_VHU_F_PROTOCOL_FEATURES 30

/* SET_VRING_KICK / CALL / ERR payload: no fd attached. */
#define TC_VHU_VRING_NOFD (1ull << 8)

#define TC_VHU_MAX_FDS 8
#define TC_VHU_HDR_SIZE 12

struct tc_vhu_hdr {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
};

struct tc_vhu_vring_state {
    uint32_t index;
    uint32_t num;
};

struct tc_vhu_vring_addr {
    uint32_t index;
    uint32_t flags;
    uint64_t desc_user_addr;
    uint64_t used_user_addr;
    uint64_t avail_user_addr;
    uint64_t log_guest_addr;
};

struct tc_vhu_mem_region {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t mmap_offset;
};

struct tc_vhu_mem_table {
    uint32_t nregions;
    uint32_t padding;
    struct tc_vhu_mem_region regions[TC_VHU_MAX_FDS];
};

struct tc_vhu_mem_reg {
    uint64_t padding;
    struct tc_vhu_mem_region region;
};

struct tc_vhu_config_hdr {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
};

/* tc_config.flags */
enum {
    TC_CFG_NO_VERSION_1         = 1 << 0,
    TC_CFG_NO_EVENT_IDX         = 1 << 1,
    TC_CFG_NO_INDIRECT          = 1 << 2,
    TC_CFG_NO_PROTOCOL_FEATURES = 1 << 3,
    TC_CFG_NO_REPLY_ACK         = 1 << 4,
    TC_CFG_NO_BACKEND_REQ       = 1 << 5,
    TC_CFG_NO_MQ                = 1 << 6,
    TC_CFG_NO_CONFIG            = 1 << 7,
    TC_CFG_MEM_SLOTS            = 1 << 8,  /* ADD_MEM_REG instead of SET_MEM_TABLE */
    TC_CFG_CONNECT_ONLY         = 1 << 9,  /* connect and create memory, send nothing */
    TC_CFG_NO_QUEUES            = 1 << 10, /* negotiate and set memory, start no queue */
};

struct tc_config {
    const char *socket_path;     /* connect to this path; NULL: use fd */
    int fd;                      /* a connected socket, used when socket_path is NULL;
                                    tc_dev_connect() takes it over, even on failure */
    uint64_t mem_size;           /* 0: TC_MEM_DEFAULT_SIZE (64 MiB) */
    unsigned mem_regions;        /* 0: 1 */
    unsigned num_request_queues; /* 0: 1 */
    unsigned queue_size;         /* 0: 1024 */
    unsigned flags;              /* TC_CFG_* */
    int timeout_ms;              /* reply / completion timeout, 0: 5000 */
};

#define TC_FUSE_DEFAULT_SCRATCH (256u << 10)

/* FUSE session state (tc_fuse.h), kept per device. */
struct tc_fuse_state {
    uint64_t next_unique;        /* atomic */
    uint32_t uid, gid, pid;      /* credentials put in each request */
    unsigned flags;              /* TC_FUSE_* defaults OR'ed into each request */
    unsigned queue;              /* request queue of helpers and of requests
                                    with queue 0; 0 means 1 */
    struct fuse_init_out init;   /* as negotiated by tc_fuse_init_session() */
    bool initialized;
    struct tc_buf *scratch;      /* per queue, for synchronous calls */
};

/* Fields are read-only for users unless noted. */
struct tc_dev {
    int sock;
    int backend_fd;              /* our end of the backend channel, or -1 */
    int timeout_ms;
    unsigned cfg_flags;

    uint64_t dev_features;       /* GET_FEATURES */
    uint64_t features;           /* sent with SET_FEATURES */
    uint64_t dev_protocol_features; /* GET_PROTOCOL_FEATURES, 0 if not offered */
    uint64_t protocol_features;  /* sent with SET_PROTOCOL_FEATURES */
    uint64_t queue_num;          /* GET_QUEUE_NUM, 0 if not asked */
    uint64_t max_mem_slots;      /* GET_MAX_MEM_SLOTS, 0 if not asked */
    bool reply_ack;              /* REPLY_ACK negotiated and in use */

    struct tc_mem *mem;
    unsigned nqueues;            /* 1 + request queues */
    uint16_t queue_size;
    struct tc_vq *vqs;           /* [nqueues]; vqs[0] = hiprio; set up on first start */
    bool *started;               /* [nqueues] */

    struct tc_fuse_state fuse;   /* users may set uid/gid/pid/flags */
};

/*
 * Connects (or adopts cfg->fd), creates guest memory and its virtqueues and,
 * unless told otherwise by cfg->flags, runs QEMU vhost-user-fs's handshake
 * and starts every queue. The caller owns *out (tc_dev_free()).
 * Returns 0 or -errno: -EOPNOTSUPP when the backend lacks something asked
 * for (more queues than GET_QUEUE_NUM, mem slots without
 * CONFIGURE_MEM_SLOTS), -EPROTO on a malformed reply, -ETIMEDOUT,
 * -ECONNRESET when the backend hung up.
 */
int tc_dev_connect(const struct tc_config *cfg, struct tc_dev **out);
/* Disconnects and frees everything; accepts NULL. */
void tc_dev_free(struct tc_dev *dev);

/*
 * Sends one request and collects its answer: a reply payload for the
 * requests that have one (copied to reply, at most reply_size bytes, the
 * payload length is returned), otherwise the REPLY_ACK ack when negotiated
 * (0, or -EIO for a non-zero ack), otherwise 0 once sent.
 */
int tc_dev_request(struct tc_dev *dev, uint32_t request, const void *payload, uint32_t size,
                   const int *fds, unsigned nfds, void *reply, uint32_t reply_size);

/* The steps of the handshake, for tests that take it apart. */
int tc_dev_negotiate(struct tc_dev *dev);   /* features ... SET_FEATURES */
int tc_dev_set_mem(struct tc_dev *dev);     /* SET_MEM_TABLE or ADD_MEM_REGs */
int tc_dev_add_mem_reg(struct tc_dev *dev, unsigned region);
int tc_dev_rem_mem_reg(struct tc_dev *dev, unsigned region);

/*
 * Starts queue q: SET_VRING_NUM, _BASE, _ADDR, _KICK, _CALL, _ENABLE 1.
 * With reset the ring is emptied first and the base is 0; otherwise the
 * device resumes at `base` (from tc_dev_queue_stop()).
 */
int tc_dev_queue_start(struct tc_dev *dev, unsigned q, bool reset, uint16_t base);
/* Stops queue q with GET_VRING_BASE; *base gets the device's next avail index. */
int tc_dev_queue_stop(struct tc_dev *dev, unsigned q, uint32_t *base);
/* SET_VRING_ENABLE. */
int tc_dev_queue_enable(struct tc_dev *dev, unsigned q, bool enable);

/* GET_CONFIG of [offset, offset + size): returns size, or -EIO for the
 * empty "error" reply, -EOPNOTSUPP without the CONFIG protocol feature. */
int tc_dev_get_config(struct tc_dev *dev, uint32_t offset, void *buf, uint32_t size);

/* --- raw messages -------------------------------------------------------- */

/*
 * Sends a header exactly as given followed by `len` payload bytes (which
 * need not match hdr->size) and up to TC_VHU_MAX_FDS fds, in one sendmsg.
 * Returns 0, -EPIPE / -ECONNRESET when the peer is gone, or -errno.
 */
int tc_vhu_send(int sock, const struct tc_vhu_hdr *hdr, const void *payload, size_t len,
                const int *fds, unsigned nfds);
/*
 * Receives one message: header, then hdr->size payload bytes of which at
 * most `max` are stored (the rest is discarded). Received fds go to fds[]
 * (up to *nfds, which is updated; extra ones are closed; pass NULL to close
 * them all). Returns the payload size, -ETIMEDOUT, -ECONNRESET on EOF or
 * -errno.
 */
int tc_vhu_recv(int sock, struct tc_vhu_hdr *hdr, void *payload, size_t max,
                int *fds, unsigned *nfds, int timeout_ms);

/* tc_vhu_send() on the device socket with a consistent header. */
int tc_dev_send_raw(struct tc_dev *dev, uint32_t request, uint32_t flags, const void *payload,
                    uint32_t size, const int *fds, unsigned nfds);
int tc_dev_recv_raw(struct tc_dev *dev, struct tc_vhu_hdr *hdr, void *payload, size_t max,
                    int timeout_ms);
/*
 * True when the backend has closed the connection, waiting up to timeout_ms
 * for it. Data still queued from the backend is read and discarded.
 */
bool tc_dev_peer_closed(struct tc_dev *dev, int timeout_ms);

/* Feature helpers */
static inline bool tc_dev_has_feature(const struct tc_dev *dev, unsigned bit)
{
    return dev->features & (1ull << bit);
}

static inline bool tc_dev_has_protocol_feature(const struct tc_dev *dev, unsigned bit)
{
    return dev->protocol_features & (1ull << bit);
}

#endif

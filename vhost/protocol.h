/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst). Everything in a
 * message comes from the frontend and is validated before use.
 */
#ifndef VHOST_PROTOCOL_H
#define VHOST_PROTOCOL_H

#include <stdint.h>

enum vhu_request {
    VHU_GET_FEATURES = 1,
    VHU_SET_FEATURES = 2,
    VHU_SET_OWNER = 3,
    VHU_RESET_OWNER = 4,
    VHU_SET_MEM_TABLE = 5,
    VHU_SET_LOG_BASE = 6,
    VHU_SET_LOG_FD = 7,
    VHU_SET_VRING_NUM = 8,
    VHU_SET_VRING_ADDR = 9,
    VHU_SET_VRING_BASE = 10,
    VHU_GET_VRING_BASE = 11,
    VHU_SET_VRING_KICK = 12,
    VHU_SET_VRING_CALL = 13,
    VHU_SET_VRING_ERR = 14,
    VHU_GET_PROTOCOL_FEATURES = 15,
    VHU_SET_PROTOCOL_FEATURES = 16,
    VHU_GET_QUEUE_NUM = 17,
    VHU_SET_VRING_ENABLE = 18,
    VHU_SEND_RARP = 19,
    VHU_NET_SET_MTU = 20,
    VHU_SET_BACKEND_REQ_FD = 21,
    VHU_IOTLB_MSG = 22,
    VHU_SET_VRING_ENDIAN = 23,
    VHU_GET_CONFIG = 24,
    VHU_SET_CONFIG = 25,
    VHU_CREATE_CRYPTO_SESSION = 26,
    VHU_CLOSE_CRYPTO_SESSION = 27,
    VHU_POSTCOPY_ADVISE = 28,
    VHU_POSTCOPY_LISTEN = 29,
    VHU_POSTCOPY_END = 30,
    VHU_GET_INFLIGHT_FD = 31,
    VHU_SET_INFLIGHT_FD = 32,
    VHU_GPU_SET_SOCKET = 33,
    VHU_RESET_DEVICE = 34,
    VHU_VRING_KICK = 35,
    VHU_GET_MAX_MEM_SLOTS = 36,
    VHU_ADD_MEM_REG = 37,
    VHU_REM_MEM_REG = 38,
    VHU_SET_STATUS = 39,
    VHU_GET_STATUS = 40,
    VHU_REQUEST_MAX
};

/* Backend -> frontend requests on the backend channel. */
enum vhu_backend_request {
    VHU_BACKEND_IOTLB_MSG = 1,
    VHU_BACKEND_CONFIG_CHANGE_MSG = 2,
    VHU_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
};

/* Virtio feature bits we deal with. */
#define VHU_F_RING_INDIRECT_DESC   28
#define VHU_F_RING_EVENT_IDX       29
#define VHU_F_PROTOCOL_FEATURES    30
#define VHU_F_VERSION_1            32

/* Protocol feature bits. */
#define VHU_PROTOCOL_F_MQ                  0
#define VHU_PROTOCOL_F_LOG_SHMFD           1
#define VHU_PROTOCOL_F_REPLY_ACK           3
#define VHU_PROTOCOL_F_BACKEND_REQ         5
#define VHU_PROTOCOL_F_CONFIG              9
#define VHU_PROTOCOL_F_BACKEND_SEND_FD     10
#define VHU_PROTOCOL_F_RESET_DEVICE        13
#define VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS 15

#define VHU_VERSION           0x1u
#define VHU_FLAG_VERSION_MASK 0x3u
#define VHU_FLAG_REPLY        (1u << 2)
#define VHU_FLAG_NEED_REPLY   (1u << 3)

#define VHU_VRING_IDX_MASK    0xffu
#define VHU_VRING_NOFD        (1ull << 8)

#define VHU_MAX_FDS           8
#define VHU_MEM_TABLE_MAX     8    /* regions in one SET_MEM_TABLE */
#define VHU_MAX_MEM_SLOTS     509  /* regions via ADD_MEM_REG */
#define VHU_MAX_PAYLOAD       4096 /* larger than any message we accept */
#define VHU_CONFIG_SPACE_MAX  256

struct vhu_hdr {
    uint32_t request;
    uint32_t flags;
    uint32_t size;            /* payload bytes after the header */
} __attribute__((packed));

struct vhu_vring_state {
    uint32_t index;
    uint32_t num;
};

struct vhu_vring_addr {
    uint32_t index;
    uint32_t flags;
    uint64_t desc_user_addr;
    uint64_t used_user_addr;
    uint64_t avail_user_addr;
    uint64_t log_guest_addr;
};

struct vhu_mem_region {
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t mmap_offset;
};

struct vhu_mem_table {
    uint32_t nregions;
    uint32_t padding;
    struct vhu_mem_region regions[VHU_MEM_TABLE_MAX];
};

struct vhu_mem_single {
    uint64_t padding;
    struct vhu_mem_region region;
};

struct vhu_config {
    uint32_t offset;
    uint32_t size;
    uint32_t flags;
    uint8_t region[VHU_CONFIG_SPACE_MAX];
};

/* The virtio-fs device configuration space (virtio spec 5.11.4). */
#define VIRTIO_FS_TAG_LEN 36
struct virtio_fs_config_space {
    char tag[VIRTIO_FS_TAG_LEN];
    uint32_t num_request_queues; /* little endian */
} __attribute__((packed));

/* Name of a request for log messages ("UNKNOWN" when out of range). */
const char *vhu_request_name(uint32_t request);

#endif

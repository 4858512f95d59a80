/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The test client: plays QEMU's vhost-user-fs frontend and the guest's
 * virtio-fs driver against a backend's socket, without a VM.
 *
 *   tc_mem.h     guest memory (memfd regions), allocator, GPA translation
 *   tc_vring.h   split-virtqueue driver side, raw descriptor access
 *   tc_vhost.h   connection, handshake, queue control, raw messages
 *   tc_fuse.h    FUSE requests: sync/async core and per-opcode helpers
 *   tc_daemon.h  starting, waiting for and stopping the daemon process
 *
 * Synchronous use:
 *
 *   struct tc_config cfg = { .socket_path = "/run/vfsd.sock" };
 *   struct tc_dev *dev;
 *   struct fuse_entry_out e;
 *   if (tc_dev_connect(&cfg, &dev) == 0 &&
 *       tc_fuse_init_session(dev, TC_FUSE_INIT_FLAGS, NULL) == 0)
 *       r = tc_fuse_lookup(dev, FUSE_ROOT_ID, "name", &e);  // 0 or -errno
 *   tc_dev_free(dev);
 *
 * Asynchronous use, nothing allocated per request: give each request
 * object its scratch once (tc_fuse_req_init()) and its data buffers
 * (tc_buf_alloc()), then loop: fill opcode/args, tc_fuse_submit() a batch,
 * tc_fuse_kick() once, tc_fuse_reap() the completions (each carries
 * result and the caller's `user` cookie) and submit them again.
 */
#ifndef TESTS_LIB_TC_H
#define TESTS_LIB_TC_H

#include "tests/lib/tc_daemon.h"
#include "tests/lib/tc_fuse.h"
#include "tests/lib/tc_mem.h"
#include "tests/lib/tc_vhost.h"
#include "tests/lib/tc_vring.h"

#endif

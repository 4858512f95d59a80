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
 */
#ifndef TESTS_LIB_TC_H
#define TESTS_LIB_TC_H

#include "tests/lib/tc_daemon.h"
#include "tests/lib/tc_fuse.h"
#include "tests/lib/tc_mem.h"
#include "tests/lib/tc_vhost.h"
#include "tests/lib/tc_vring.h"

#endif

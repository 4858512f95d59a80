/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-thread fs credentials for creating calls, so that new files belong to
 * the guest's uid/gid and the host kernel checks the caller's permissions.
 *
 * glibc's setfsuid()/setresuid() wrappers broadcast the change to every
 * thread of the process (POSIX semantics), which would change the
 * credentials of requests running concurrently; the raw syscalls change the
 * calling thread only. setfsgid first: once fsuid is not 0, the thread has
 * lost the capabilities that make the order irrelevant. Restoring goes the
 * other way round.
 *
 * Supplementary groups follow the same per-thread rule: the process has
 * none (pt_creds_drop_groups() at startup), and a creating call that names
 * one group the caller is in (FUSE_EXT_GROUPS) gets exactly that group for
 * the call, through the raw setgroups syscall, which also affects only the
 * calling thread. A daemon that kept root's memberships while creating as a
 * guest user let the host kernel believe the user was in the group of a
 * set-group-id directory, so new files kept S_ISGID (CVE-2022-0358).
 *
 * Changing fsuid away from 0 also drops the fs capabilities from the
 * thread's effective set. For creating calls CAP_DAC_OVERRIDE is raised
 * again: the guest kernel has already checked the caller's permission
 * (virtio-fs mounts use default_permissions) with all the caller's
 * supplementary groups, which the daemon never learns; a host check with
 * fsuid/fsgid alone would refuse what a group membership allows. CAP_FSETID
 * stays off, so the host still strips the setgid bit of a file the caller
 * may not own by group.
 */
#include <errno.h>
#include <linux/capability.h>
#include <grp.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "passthrough/idmap.h"
#include "passthrough/internal.h"

/* setfs[ug]id return the previous id and cannot report failure; passing an
 * invalid id (-1) reads the current one. */
static uint32_t get_fsuid(void)
{
    return (uint32_t)syscall(SYS_setfsuid, -1);
}

static uint32_t get_fsgid(void)
{
    return (uint32_t)syscall(SYS_setfsgid, -1);
}

int pt_uid_to_host(const struct pt_fs *fs, uint32_t guest, uint32_t *host)
{
    return pt_idmap_to_host(fs->uid_map, guest, host);
}

int pt_gid_to_host(const struct pt_fs *fs, uint32_t guest, uint32_t *host)
{
    return pt_idmap_to_host(fs->gid_map, guest, host);
}

/* This thread's supplementary groups: none, or just `gid`. */
static int set_thread_groups(const gid_t *gid)
{
    return syscall(SYS_setgroups, gid ? 1 : 0, gid) < 0 ? neg_errno() : 0;
}

/* Per-thread capset (the raw syscall; pid 0 is the calling thread). */
static void raise_dac_override(void)
{
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &h, d) < 0 || !(d[0].permitted & (1u << CAP_DAC_OVERRIDE)))
        return;
    d[0].effective |= 1u << CAP_DAC_OVERRIDE;
    syscall(SYS_capset, &h, d);
}

int pt_creds_enter(const struct pt_fs *fs, const struct pt_ctx *ctx, bool creating,
                   struct pt_creds *saved)
{
    uint32_t uid, gid, supp = 0;
    int r;

    saved->switched = false;
    saved->groups_set = false;
    r = pt_uid_to_host(fs, ctx->uid, &uid);
    if (r == 0)
        r = pt_gid_to_host(fs, ctx->gid, &gid);
    if (r == 0 && ctx->has_supp_gid)
        r = pt_gid_to_host(fs, ctx->supp_gid, &supp);
    if (r < 0)
        return r;
    if (!fs->switch_creds)
        return 0;
    /* -1 is not an id the kernel accepts, and would read as "no change". */
    if (uid == UINT32_MAX || gid == UINT32_MAX ||
        (ctx->has_supp_gid && supp == UINT32_MAX))
        return -EINVAL;
    if (uid == 0 && gid == 0)
        return 0;

    if (ctx->has_supp_gid && supp != gid) {
        gid_t g = supp;
        r = set_thread_groups(&g);
        if (r < 0)
            return r == -EPERM ? r : -EPERM;
        saved->groups_set = true;
    }
    syscall(SYS_setfsgid, gid);
    if (get_fsgid() != gid) {
        syscall(SYS_setfsgid, 0);
        r = -EPERM;
        goto out_groups;
    }
    syscall(SYS_setfsuid, uid);
    if (get_fsuid() != uid) {
        syscall(SYS_setfsuid, 0);
        syscall(SYS_setfsgid, 0);
        r = -EPERM;
        goto out_groups;
    }
    if (creating && uid != 0)
        raise_dac_override();
    saved->switched = true;
    return 0;

out_groups:
    if (saved->groups_set)
        set_thread_groups(NULL);
    saved->groups_set = false;
    return r;
}

void pt_creds_leave(struct pt_creds *saved)
{
    if (!saved->switched && !saved->groups_set)
        return;
    int e = errno;
    if (saved->switched) {
        syscall(SYS_setfsuid, 0);
        syscall(SYS_setfsgid, 0);
    }
    /* After fsuid is 0 again: setgroups needs CAP_SETGID, which a non-zero
     * fsuid does not take away, but keep the order of the way in. */
    if (saved->groups_set && set_thread_groups(NULL) < 0)
        log_error("cannot drop a request's supplementary group: %s", strerror(errno));
    errno = e;
    saved->switched = false;
    saved->groups_set = false;
}

int pt_creds_drop_groups(void)
{
    int n = getgroups(0, NULL);
    if (n == 0)
        return 0;
    /* glibc's setgroups() applies to every thread of the process. */
    if (n < 0 || setgroups(0, NULL) < 0)
        return neg_errno();
    return 0;
}

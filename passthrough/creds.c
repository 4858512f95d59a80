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
 * Changing fsuid away from 0 also drops the fs capabilities from the
 * thread's effective set. CAP_DAC_OVERRIDE is raised again: the guest
 * kernel has already checked the caller's permission (virtio-fs mounts use
 * default_permissions) with the caller's supplementary groups, which the
 * daemon never learns; a host check with fsuid/fsgid alone would refuse
 * what a group membership allows. CAP_FSETID stays off, so the host still
 * strips the setgid bit of a file the caller may not own by group.
 */
#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

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
    saved->switched = false;
    if (!fs->switch_creds)
        return 0;
    /* -1 is not an id the kernel accepts, and would read as "no change". */
    if (ctx->uid == UINT32_MAX || ctx->gid == UINT32_MAX)
        return -EINVAL;
    if (ctx->uid == 0 && ctx->gid == 0)
        return 0;

    syscall(SYS_setfsgid, ctx->gid);
    if (get_fsgid() != ctx->gid) {
        syscall(SYS_setfsgid, 0);
        return -EPERM;
    }
    syscall(SYS_setfsuid, ctx->uid);
    if (get_fsuid() != ctx->uid) {
        syscall(SYS_setfsuid, 0);
        syscall(SYS_setfsgid, 0);
        return -EPERM;
    }
    if (creating && ctx->uid != 0)
        raise_dac_override();
    saved->switched = true;
    return 0;
}

void pt_creds_leave(struct pt_creds *saved)
{
    if (!saved->switched)
        return;
    int e = errno;
    syscall(SYS_setfsuid, 0);
    syscall(SYS_setfsgid, 0);
    errno = e;
    saved->switched = false;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/* INIT negotiation and DESTROY. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "fuse/internal.h"

/* Protocol 7.39 (Linux 6.6); older <linux/fuse.h> lack it. */
#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP (1ull << 36)
#endif

/* What this engine can do, before the options narrow it. */
static uint64_t wanted_flags(const struct fp_session *s)
{
    uint64_t f = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_ASYNC_DIO |
                 FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES | FUSE_INIT_EXT;
    if (s->cfg.cache == PT_CACHE_AUTO || s->cfg.cache == PT_CACHE_ALWAYS)
        f |= FUSE_AUTO_INVAL_DATA;
    if (s->cfg.readdirplus)
        f |= FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO;
    if (s->cfg.writeback)
        f |= FUSE_WRITEBACK_CACHE;
    if (s->cfg.announce_submounts)
        f |= FUSE_SUBMOUNTS;
    /* ACLs: the guest enforces them (default_permissions) and reads and
     * writes them as xattrs; it must leave the umask to us, since a default
     * ACL on the parent overrides it, and tell us when setting an ACL
     * drops S_ISGID. */
    if (s->cfg.posix_acl)
        f |= FUSE_POSIX_ACL | FUSE_DONT_MASK | FUSE_SETXATTR_EXT;
    if (s->cfg.killpriv_v2)
        f |= FUSE_HANDLE_KILLPRIV_V2;
    if (s->cfg.security_label)
        f |= FUSE_SECURITY_CTX;
    /* Lets a caller create where only a supplementary group gives access. */
    f |= FP_CREATE_SUPP_GROUP;
    if (s->cfg.posix_lock)
        f |= FUSE_POSIX_LOCKS;
    if (s->cfg.flock)
        f |= FUSE_FLOCK_LOCKS;
    if (s->cfg.allow_mmap)
        f |= FUSE_DIRECT_IO_ALLOW_MMAP;
    return f;
}

int fp_op_init(struct fp_req *r)
{
    struct fp_session *s = r->s;
    struct fuse_init_in in = { 0 };
    struct fuse_init_out out = { 0 };

    memcpy(&in, r->args.buf, MIN(r->args.len, sizeof(in)));
    out.major = FUSE_KERNEL_VERSION;
    out.minor = FUSE_KERNEL_MINOR_VERSION;
    if (in.major > FUSE_KERNEL_VERSION) {
        /* The guest retries with our major version. */
        log_info("FUSE INIT: guest speaks %u.%u; offering %u.%u", in.major, in.minor,
                 out.major, out.minor);
        return fp_reply_ok(r, &out, sizeof(out));
    }
    if (in.major < FUSE_KERNEL_VERSION || in.minor < FP_MIN_MINOR) {
        log_error("FUSE INIT: guest protocol %u.%u is too old (need %u.%u)", in.major,
                  in.minor, FUSE_KERNEL_VERSION, FP_MIN_MINOR);
        return -EPROTO;
    }
    if (__atomic_load_n(&s->initialized, __ATOMIC_ACQUIRE)) {
        /* A rebooted guest starts over without DESTROY: forget the old session. */
        log_info("FUSE INIT on a live session: dropping the previous session's state");
        fp_waiters_cancel_all(s, -EIO);
        pt_destroy(s->fs);
    }

    uint64_t guest = in.flags;
    if ((in.flags & FUSE_INIT_EXT) && r->args.len >= offsetof(struct fuse_init_in, unused))
        guest |= (uint64_t)in.flags2 << 32;
    uint64_t flags = guest & wanted_flags(s);
    long page = sysconf(_SC_PAGESIZE);
    if (s->cfg.posix_acl && !(flags & FUSE_POSIX_ACL))
        log_warn("FUSE INIT: the guest does not support POSIX ACLs; they stay off");
    if (s->cfg.killpriv_v2 && !(flags & FUSE_HANDLE_KILLPRIV_V2))
        log_warn("FUSE INIT: the guest does not support FUSE_HANDLE_KILLPRIV_V2");
    if (s->cfg.security_label && !(flags & FUSE_SECURITY_CTX))
        log_warn("FUSE INIT: the guest does not send security labels");
    log_debug("FUSE INIT: guest offers protocol %u.%u, flags 0x%llx", in.major, in.minor,
              (unsigned long long)guest);
    /* Without the flag, a 6.5 or older guest refuses every MAP_SHARED mapping
     * of a FOPEN_DIRECT_IO file (ENODEV); nothing else the server can say
     * changes that short of dropping direct I/O. */
    if (s->cfg.allow_mmap && !(guest & FUSE_DIRECT_IO_ALLOW_MMAP) &&
        (s->cfg.cache == PT_CACHE_NEVER || s->cfg.cache == PT_CACHE_METADATA))
        log_warn("FUSE INIT: the guest kernel cannot map direct I/O files shared "
                 "(no FUSE_DIRECT_IO_ALLOW_MMAP before Linux 6.6): --allow-mmap has no effect");

    s->proto_minor = MIN(in.minor, (uint32_t)FUSE_KERNEL_MINOR_VERSION);
    s->flags = flags;
    s->max_write = s->cfg.max_write;

    out.minor = s->proto_minor;
    out.max_readahead = in.max_readahead;
    out.flags = (uint32_t)flags;
    out.flags2 = (uint32_t)(flags >> 32);
    out.max_background = (uint16_t)MIN(s->cfg.max_background, 65535u);
    out.congestion_threshold = (uint16_t)(out.max_background * 3 / 4);
    out.max_write = s->max_write;
    out.time_gran = 1;
    out.max_pages = (uint16_t)(s->max_write / (uint32_t)page);

    struct pt_init_caps caps = {
        .writeback = flags & FUSE_WRITEBACK_CACHE,
        .posix_acl = flags & FUSE_POSIX_ACL,
        .killpriv_v2 = flags & FUSE_HANDLE_KILLPRIV_V2,
        .dont_mask = flags & FUSE_DONT_MASK,
    };
    pt_init(s->fs, &caps);
    __atomic_store_n(&s->initialized, true, __ATOMIC_RELEASE);
    log_info("FUSE session started: protocol 7.%u, flags 0x%llx, max_write %u", out.minor,
             (unsigned long long)flags, out.max_write);
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_op_destroy(struct fp_req *r)
{
    __atomic_store_n(&r->s->initialized, false, __ATOMIC_RELEASE);
    /* Nobody is left to want the locks it waits for. */
    fp_waiters_cancel_all(r->s, -EIO);
    pt_destroy(r->s->fs);
    log_info("FUSE session destroyed by the guest");
    return fp_reply_ok(r, NULL, 0);
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the guest appends to a creating request (CREATE, MKNOD, MKDIR,
 * SYMLINK): the security contexts its LSM gives the new inode
 * (FUSE_SECURITY_CTX) and the caller's supplementary group
 * (FUSE_CREATE_SUPP_GROUP).
 *
 * Up to protocol 7.37 the contexts follow the names as one more argument.
 * From 7.38 on they travel as an extension: the last total_extlen * 8 bytes
 * of the request (dispatch.c cuts them off into r->ext) are a sequence of
 * records, each starting with a fuse_ext_header {size, type}; a type up to
 * FUSE_MAX_NR_SECCTX is a fuse_secctx_header whose second word counts the
 * contexts. Every length is checked against what is left; names and values
 * point into the copied arguments and live as long as the request.
 */
#include <errno.h>
#include <linux/limits.h>
#include <string.h>

#include "common/cleanup.h"
#include "fuse/internal.h"

static size_t align8(size_t x)
{
    return (x + 7u) & ~(size_t)7u;
}

/* One fuse_secctx_header and its contexts, `len` bytes at p. */
static int parse_secctx(struct fp_req *r, const uint8_t *p, size_t len, struct pt_secctx *sc,
                        unsigned max)
{
    struct fuse_secctx_header h;
    if (len < sizeof(h))
        return -EINVAL;
    memcpy(&h, p, sizeof(h));
    if (h.size < sizeof(h) || h.size > len || h.nr_secctx > FUSE_MAX_NR_SECCTX)
        return -EINVAL;
    if (r->ctx.nr_secctx + h.nr_secctx > max)
        return -E2BIG;

    size_t off = sizeof(h), end = h.size;
    for (uint32_t i = 0; i < h.nr_secctx; i++) {
        struct fuse_secctx c;
        if (end - off < sizeof(c))
            return -EINVAL;
        memcpy(&c, p + off, sizeof(c));
        const char *name = (const char *)p + off + sizeof(c);
        size_t room = end - off - sizeof(c);
        const char *nul = memchr(name, '\0', room);
        if (!nul || nul == name || (size_t)(nul - name) > XATTR_NAME_MAX)
            return -EINVAL;
        size_t used = sizeof(c) + (size_t)(nul - name) + 1;
        if (c.size > XATTR_SIZE_MAX || c.size > end - off - used)
            return -EINVAL;
        sc[r->ctx.nr_secctx++] = (struct pt_secctx){
            .name = name, .value = nul + 1, .size = c.size,
        };
        /* Each context record is padded to 8 bytes. */
        off = MIN(end, off + align8(used + c.size));
    }
    r->ctx.secctx = sc;
    return 0;
}

/* A fuse_supp_groups record after its fuse_ext_header; `len` bytes at p. */
static int parse_groups(struct fp_req *r, const uint8_t *p, size_t len)
{
    struct fp_supp_groups g;
    uint32_t gid;
    if (len < sizeof(g))
        return -EINVAL;
    memcpy(&g, p, sizeof(g));
    if (g.nr_groups == 0 || g.nr_groups > (len - sizeof(g)) / sizeof(gid))
        return -EINVAL;
    /* The kernel names the one group that matters: the parent's. */
    memcpy(&gid, p + sizeof(g), sizeof(gid));
    r->ctx.has_supp_gid = true;
    r->ctx.supp_gid = gid;
    return 0;
}

int fp_decode_create_ext(struct fp_req *r, struct pt_secctx *sc, unsigned max)
{
    bool secctx = r->s->flags & FUSE_SECURITY_CTX;
    int ret;

    r->ctx.secctx = NULL;
    r->ctx.nr_secctx = 0;
    r->ctx.has_supp_gid = false;
    if (secctx && r->s->proto_minor < 38) {
        size_t len;
        const uint8_t *p = fp_args_rest(&r->args, &len);
        if (len) {
            ret = parse_secctx(r, p, len, sc, max);
            if (ret < 0)
                return ret;
        }
    }

    const uint8_t *p = r->ext.buf;
    size_t len = r->ext.len;
    while (len > 0) {
        struct fuse_ext_header h;
        if (len < sizeof(h))
            return -EINVAL;
        memcpy(&h, p, sizeof(h));
        if (h.size < sizeof(h) || h.size > len || h.size % 8)
            return -EINVAL;
        if (h.type <= FUSE_MAX_NR_SECCTX) {
            if (secctx) {
                ret = parse_secctx(r, p, h.size, sc, max);
                if (ret < 0)
                    return ret;
            }
        } else if (h.type == FP_EXT_GROUPS) {
            if (r->s->flags & FP_CREATE_SUPP_GROUP) {
                ret = parse_groups(r, p + sizeof(h), h.size - sizeof(h));
                if (ret < 0)
                    return ret;
            }
        }
        /* Other types come from a newer guest and ask for nothing we offered. */
        p += h.size;
        len -= h.size;
    }
    return 0;
}

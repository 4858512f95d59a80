/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the seed corpus of the fuzz targets: valid inputs that reach deep
 * on their first run (real FUSE requests for the common opcodes, a full
 * vhost-user handshake that maps memory and starts queues, well-formed
 * rings), plus a few malformed ones. Built from the same structs the
 * targets read, so the seeds follow any format change.
 *
 *   gen_corpus DIR   writes DIR/<target>/<seed name>, and DIR/<target>.dict:
 *                    libFuzzer dictionaries of the tokens the input formats
 *                    are made of (record and message headers, names)
 *
 * Files it does not know (regression inputs found by fuzzing) are left
 * alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_fuse_format.h"
#include "tests/fuzz/fuzz_vring_format.h"
#include "vhost/protocol.h"

struct buf {
    uint8_t data[65536];
    size_t len;
};

static const char *out_dir;

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > sizeof(b->data)) {
        fprintf(stderr, "seed too large\n");
        exit(1);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void save(const char *target, const char *name, const struct buf *b)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    printf("%s (%zu bytes)\n", path, b->len);
}

/* libFuzzer dictionaries: DIR/<target>.dict, one quoted token a line. */
static FILE *dict_open(const char *target)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s.dict", out_dir, target);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fprintf(f, "# Tokens for %s, written by gen_corpus.\n", target);
    return f;
}

static void dict_add(FILE *f, const char *name, const void *p, size_t n)
{
    const uint8_t *b = p;
    fprintf(f, "%s=\"", name);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "\\x%02x", b[i]);
    fprintf(f, "\"\n");
}

static void dict_close(FILE *f, const char *target)
{
    if (fclose(f) != 0) {
        perror(target);
        exit(1);
    }
    printf("%s/%s.dict\n", out_dir, target);
}

/* ---- fuzz_fuse_dispatch ---------------------------------------------------- */

/* Known-id selectors: index k of the list the target keeps (root is node 0). */
enum { ROOT = 0 };
#define SHAPE_4K FFZ_SHAPE(FFZ_IN_WHOLE, FFZ_OUT_4K, FFZ_OUT_WHOLE, false)

static void fuse_setup(struct buf *b, uint8_t config, uint32_t init_flags)
{
    struct ffz_setup s = { .config = config };
    for (int i = 0; i < 4; i++)
        s.init_flags[i] = (uint8_t)(init_flags >> (8 * i));
    b->len = 0;
    put(b, &s, sizeof(s));
}

static void fuse_rec_full(struct buf *b, uint32_t opcode, uint8_t node, uint8_t fh, uint8_t aux,
                          uint8_t shape, uint8_t flags, const void *args, size_t len)
{
    struct ffz_record r = {
        .opcode = (uint8_t)opcode, .node = node, .fh = fh, .aux = aux, .shape = shape,
        .flags = flags, .arglen = { (uint8_t)len, (uint8_t)(len >> 8) },
    };
    put(b, &r, sizeof(r));
    put(b, args, len);
}

static void fuse_rec(struct buf *b, uint32_t opcode, uint8_t node, uint8_t fh,
                     const void *args, size_t len)
{
    fuse_rec_full(b, opcode, node, fh, FFZ_SEL_RAW, SHAPE_4K, 0, args, len);
}

/* A fixed argument struct followed by NUL-terminated names. */
static size_t with_names(uint8_t *dst, const void *fixed, size_t fixed_len, const char *a,
                         const char *b2)
{
    size_t n = fixed_len;
    if (fixed_len)
        memcpy(dst, fixed, fixed_len);
    if (a) {
        memcpy(dst + n, a, strlen(a) + 1);
        n += strlen(a) + 1;
    }
    if (b2) {
        memcpy(dst + n, b2, strlen(b2) + 1);
        n += strlen(b2) + 1;
    }
    return n;
}

static void fuse_name(struct buf *b, uint32_t opcode, uint8_t node, const char *name)
{
    fuse_rec(b, opcode, node, FFZ_SEL_RAW, name, strlen(name) + 1);
}

#define DEFAULT_CFG (FFZ_CFG_XATTR | FFZ_CFG_READDIRPLUS | (2u << FFZ_CFG_CACHE_SHIFT))
#define GUEST_FLAGS (FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | \
                     FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO | FUSE_PARALLEL_DIROPS | \
                     FUSE_MAX_PAGES | FUSE_INIT_EXT | FUSE_WRITEBACK_CACHE | FUSE_POSIX_ACL)

static void fuse_seeds(void)
{
    struct buf *b = calloc(1, sizeof(*b));
    uint8_t a[1024];
    size_t n;

    /* Names and attributes of what the share starts with. nodes: root, file, dir, link */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    fuse_name(b, FUSE_LOOKUP, ROOT, "file");
    struct fuse_getattr_in ga = { 0 };
    fuse_rec(b, FUSE_GETATTR, 1, FFZ_SEL_RAW, &ga, sizeof(ga));
    fuse_name(b, FUSE_LOOKUP, ROOT, "dir");
    fuse_name(b, FUSE_LOOKUP, 2, "inner");
    fuse_name(b, FUSE_LOOKUP, ROOT, "link");
    fuse_rec(b, FUSE_READLINK, 4, FFZ_SEL_RAW, NULL, 0);
    fuse_name(b, FUSE_LOOKUP, 2, "..");
    fuse_rec(b, FUSE_STATFS, ROOT, FFZ_SEL_RAW, NULL, 0);
    struct fuse_access_in ac = { .mask = 4 };
    fuse_rec(b, FUSE_ACCESS, 1, FFZ_SEL_RAW, &ac, sizeof(ac));
    struct fuse_syncfs_in sf = { 0 };
    fuse_rec(b, FUSE_SYNCFS, ROOT, FFZ_SEL_RAW, &sf, sizeof(sf));
    save("fuzz_fuse_dispatch", "lookup-getattr", b);

    /* A file's life. nodes: root, new; fhs: new's */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    struct fuse_create_in cr = { .flags = O_RDWR, .mode = S_IFREG | 0644, .umask = 022 };
    n = with_names(a, &cr, sizeof(cr), "new", NULL);
    fuse_rec(b, FUSE_CREATE, ROOT, FFZ_SEL_RAW, a, n);
    struct fuse_write_in wr = { .offset = 0, .size = 12 };
    n = with_names(a, &wr, sizeof(wr), NULL, NULL);
    memcpy(a + n, "hello, world", 12);
    fuse_rec(b, FUSE_WRITE, 1, 0, a, n + 12);
    struct fuse_read_in rd = { .offset = 7, .size = 4096 };
    fuse_rec(b, FUSE_READ, 1, 0, &rd, sizeof(rd));
    fuse_rec_full(b, FUSE_READ, 1, 0, FFZ_SEL_RAW,
                  FFZ_SHAPE(FFZ_IN_BYTES, FFZ_OUT_4K, FFZ_OUT_BYTES, true), 0, &rd, sizeof(rd));
    struct fuse_flush_in fl = { 0 };
    fuse_rec(b, FUSE_FLUSH, 1, 0, &fl, sizeof(fl));
    struct fuse_fsync_in fs = { .fsync_flags = 1 };
    fuse_rec(b, FUSE_FSYNC, 1, 0, &fs, sizeof(fs));
    struct fuse_lseek_in ls = { .offset = 0, .whence = 3 /* SEEK_DATA */ };
    fuse_rec(b, FUSE_LSEEK, 1, 0, &ls, sizeof(ls));
    struct fuse_fallocate_in fa = { .offset = 0, .length = 8192, .mode = 0 };
    fuse_rec(b, FUSE_FALLOCATE, 1, 0, &fa, sizeof(fa));
    struct fuse_setattr_in sa = { .valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME,
                                  .size = 5, .mode = S_IFREG | 0600, .mtime = 1000000000 };
    fuse_rec(b, FUSE_SETATTR, 1, 0, &sa, sizeof(sa));
    struct fuse_getattr_in gfh = { .getattr_flags = FUSE_GETATTR_FH };
    fuse_rec(b, FUSE_GETATTR, 1, 0, &gfh, sizeof(gfh));
    struct fuse_release_in rl = { .flags = O_RDWR };
    fuse_rec(b, FUSE_RELEASE, 1, 0, &rl, sizeof(rl));
    struct fuse_forget_in fg = { .nlookup = 1 };
    fuse_rec(b, FUSE_FORGET, 1, FFZ_SEL_RAW, &fg, sizeof(fg));
    save("fuzz_fuse_dispatch", "create-write-read", b);

    /* Directories. nodes: root, d; fhs: root's dir handle */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    struct fuse_mkdir_in mk = { .mode = 0755, .umask = 022 };
    n = with_names(a, &mk, sizeof(mk), "d", NULL);
    fuse_rec(b, FUSE_MKDIR, ROOT, FFZ_SEL_RAW, a, n);
    struct fuse_open_in od = { .flags = O_RDONLY };
    fuse_rec(b, FUSE_OPENDIR, ROOT, FFZ_SEL_RAW, &od, sizeof(od));
    struct fuse_read_in rdd = { .size = 4096 };
    fuse_rec(b, FUSE_READDIR, ROOT, 0, &rdd, sizeof(rdd));
    fuse_rec(b, FUSE_READDIRPLUS, ROOT, 0, &rdd, sizeof(rdd));
    /* a small reply: one entry per request, resumed from an offset */
    struct fuse_read_in rds = { .size = 200 };
    fuse_rec_full(b, FUSE_READDIRPLUS, ROOT, 0, FFZ_SEL_RAW,
                  FFZ_SHAPE(FFZ_IN_WHOLE, 4, FFZ_OUT_CHUNKS, false), 0, &rds, sizeof(rds));
    struct fuse_fsync_in fsd = { 0 };
    fuse_rec(b, FUSE_FSYNCDIR, ROOT, 0, &fsd, sizeof(fsd));
    struct fuse_release_in rld = { 0 };
    fuse_rec(b, FUSE_RELEASEDIR, ROOT, 0, &rld, sizeof(rld));
    fuse_name(b, FUSE_RMDIR, ROOT, "d");
    save("fuzz_fuse_dispatch", "dirs", b);

    /* Making and moving names. nodes: root, s, file, h, fifo2 */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    n = with_names(a, NULL, 0, "s", "file");
    fuse_rec(b, FUSE_SYMLINK, ROOT, FFZ_SEL_RAW, a, n);
    fuse_name(b, FUSE_LOOKUP, ROOT, "file");
    struct fuse_link_in ln = { 0 };
    n = with_names(a, &ln, sizeof(ln), "h", NULL);
    fuse_rec_full(b, FUSE_LINK, ROOT, FFZ_SEL_RAW, 2, SHAPE_4K, 0, a, n);
    struct fuse_rename_in rn = { 0 };
    n = with_names(a, &rn, sizeof(rn), "s", "s2");
    fuse_rec_full(b, FUSE_RENAME, ROOT, FFZ_SEL_RAW, ROOT, SHAPE_4K, 0, a, n);
    struct fuse_rename2_in rn2 = { .flags = RENAME_NOREPLACE };
    n = with_names(a, &rn2, sizeof(rn2), "h", "file");
    fuse_rec_full(b, FUSE_RENAME2, ROOT, FFZ_SEL_RAW, ROOT, SHAPE_4K, 0, a, n);
    struct fuse_mknod_in mn = { .mode = S_IFIFO | 0600, .umask = 022 };
    n = with_names(a, &mn, sizeof(mn), "fifo2", NULL);
    fuse_rec(b, FUSE_MKNOD, ROOT, FFZ_SEL_RAW, a, n);
    fuse_name(b, FUSE_UNLINK, ROOT, "s2");
    fuse_name(b, FUSE_UNLINK, ROOT, "fifo2");
    save("fuzz_fuse_dispatch", "names", b);

    /* Extended attributes. nodes: root, file */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    fuse_name(b, FUSE_LOOKUP, ROOT, "file");
    struct fuse_setxattr_in sx = { .size = 5, .flags = 0 };
    n = with_names(a, &sx, 8, "user.seed", NULL);
    memcpy(a + n, "value", 5);
    fuse_rec(b, FUSE_SETXATTR, 1, FFZ_SEL_RAW, a, n + 5);
    struct fuse_getxattr_in gx = { .size = 0 };
    n = with_names(a, &gx, sizeof(gx), "user.seed", NULL);
    fuse_rec(b, FUSE_GETXATTR, 1, FFZ_SEL_RAW, a, n);
    gx.size = 64;
    n = with_names(a, &gx, sizeof(gx), "user.seed", NULL);
    fuse_rec(b, FUSE_GETXATTR, 1, FFZ_SEL_RAW, a, n);
    struct fuse_getxattr_in lx = { .size = 0 };
    fuse_rec(b, FUSE_LISTXATTR, 1, FFZ_SEL_RAW, &lx, sizeof(lx));
    lx.size = 256;
    fuse_rec(b, FUSE_LISTXATTR, 1, FFZ_SEL_RAW, &lx, sizeof(lx));
    fuse_name(b, FUSE_REMOVEXATTR, 1, "user.seed");
    fuse_name(b, FUSE_REMOVEXATTR, 1, "user.fuzz");
    save("fuzz_fuse_dispatch", "xattr", b);

    /* Open, copy between two files, forget. nodes: root, file, copy; fhs: file's, copy's */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    fuse_name(b, FUSE_LOOKUP, ROOT, "file");
    struct fuse_open_in op = { .flags = O_RDONLY };
    fuse_rec(b, FUSE_OPEN, 1, FFZ_SEL_RAW, &op, sizeof(op));
    struct fuse_create_in cc = { .flags = O_WRONLY, .mode = S_IFREG | 0600 };
    n = with_names(a, &cc, sizeof(cc), "copy", NULL);
    fuse_rec(b, FUSE_CREATE, ROOT, FFZ_SEL_RAW, a, n);
    struct fuse_copy_file_range_in cf = { .len = 13 };
    fuse_rec_full(b, FUSE_COPY_FILE_RANGE, 1, 0, 1, SHAPE_4K, 0, &cf, sizeof(cf));
    struct fuse_batch_forget_in bf = { .count = 2 };
    struct fuse_forget_one ones[2] = { { .nodeid = 0, .nlookup = 1 }, { .nodeid = 0, .nlookup = 1 } };
    memcpy(a, &bf, sizeof(bf));
    memcpy(a + sizeof(bf), ones, sizeof(ones));
    fuse_rec(b, FUSE_BATCH_FORGET, ROOT, FFZ_SEL_RAW, a, sizeof(bf) + sizeof(ones));
    struct fuse_interrupt_in in = { .unique = 3 };
    fuse_rec(b, FUSE_INTERRUPT, ROOT, FFZ_SEL_RAW, &in, sizeof(in));
    save("fuzz_fuse_dispatch", "open-copy-forget", b);

    /* DESTROY, then requests before INIT, then INIT again from the guest. */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    fuse_name(b, FUSE_LOOKUP, ROOT, "dir");
    fuse_rec(b, FUSE_DESTROY, ROOT, FFZ_SEL_RAW, NULL, 0);
    fuse_name(b, FUSE_LOOKUP, ROOT, "dir");
    struct fuse_init_in init = { .major = 7, .minor = 36, .max_readahead = 65536,
                                 .flags = FUSE_INIT_EXT | FUSE_MAX_PAGES | FUSE_SETXATTR_EXT,
                                 .flags2 = (uint32_t)(FUSE_SECURITY_CTX >> 32) };
    fuse_rec(b, FUSE_INIT, ROOT, FFZ_SEL_RAW, &init, sizeof(init));
    fuse_name(b, FUSE_LOOKUP, ROOT, "dir");
    struct fuse_setxattr_in sxe = { .size = 1 };
    n = with_names(a, &sxe, sizeof(sxe), "user.x", NULL);
    a[n] = 'y';
    fuse_rec(b, FUSE_SETXATTR, ROOT, FFZ_SEL_RAW, a, n + 1);
    save("fuzz_fuse_dispatch", "destroy-reinit", b);

    /* Malformed: lengths, shapes, unknown opcodes, a non-root caller. */
    fuse_setup(b, DEFAULT_CFG, GUEST_FLAGS);
    uint8_t lenfield[4 + 5] = { 200, 0, 0, 0, 'f', 'i', 'l', 'e', 0 };
    fuse_rec_full(b, FUSE_LOOKUP, ROOT, FFZ_SEL_RAW, FFZ_SEL_RAW, SHAPE_4K, FFZ_REC_RAW_LEN,
                  lenfield, sizeof(lenfield));
    fuse_rec_full(b, FUSE_LOOKUP, ROOT, FFZ_SEL_RAW, FFZ_SEL_RAW,
                  FFZ_SHAPE(FFZ_IN_FIVES, 2, FFZ_OUT_HEADER, true), 0, "file", 5);
    fuse_rec_full(b, FUSE_LOOKUP, ROOT, FFZ_SEL_RAW, FFZ_SEL_RAW,
                  FFZ_SHAPE(FFZ_IN_HEADER, 3, FFZ_OUT_WHOLE, false), 0, "file", 5);
    fuse_rec_full(b, 60, ROOT, FFZ_SEL_RAW, FFZ_SEL_RAW, SHAPE_4K, FFZ_REC_OPCODE_HIGH, NULL, 0);
    fuse_rec(b, FUSE_GETLK, ROOT, FFZ_SEL_RAW, a, sizeof(struct fuse_lk_in));
    fuse_rec(b, FUSE_GETATTR, FFZ_SEL_STALE, FFZ_SEL_RAW, &ga, sizeof(ga));
    fuse_rec(b, FUSE_GETATTR, FFZ_SEL_FAR, FFZ_SEL_RAW, &ga, sizeof(ga));
    fuse_rec(b, FUSE_GETATTR, ROOT, FFZ_SEL_RAW, &ga, 4);
    n = with_names(a, &mk, sizeof(mk), "u", NULL);
    fuse_rec_full(b, FUSE_MKDIR, ROOT, FFZ_SEL_RAW, FFZ_SEL_RAW, SHAPE_4K, FFZ_REC_USER, a, n);
    struct fuse_write_in wbad = { .size = 100 };
    fuse_rec(b, FUSE_WRITE, ROOT, FFZ_SEL_ALL_ONES, &wbad, sizeof(wbad));
    fuse_rec(b, FUSE_IOCTL, ROOT, FFZ_SEL_RAW, a, sizeof(struct fuse_ioctl_in));
    /* only 20 bytes reach the engine: no header at all */
    fuse_rec_full(b, FUSE_GETATTR, ROOT, FFZ_SEL_RAW, FFZ_SEL_RAW, SHAPE_4K, FFZ_REC_TRUNCATE,
                  a, 20);
    save("fuzz_fuse_dispatch", "malformed", b);

    /* Read-only share, no xattrs, cache=never, direct I/O allowed. */
    fuse_setup(b, FFZ_CFG_READONLY | FFZ_CFG_DIRECT_IO | FFZ_CFG_SUBMOUNTS, FUSE_ASYNC_READ);
    fuse_name(b, FUSE_LOOKUP, ROOT, "file");
    struct fuse_open_in ow = { .flags = O_RDWR | O_DIRECT };
    fuse_rec(b, FUSE_OPEN, 1, FFZ_SEL_RAW, &ow, sizeof(ow));
    ow.flags = O_RDONLY;
    fuse_rec(b, FUSE_OPEN, 1, FFZ_SEL_RAW, &ow, sizeof(ow));
    fuse_rec(b, FUSE_READ, 1, 0, &rd, sizeof(rd));
    n = with_names(a, &mk, sizeof(mk), "ro", NULL);
    fuse_rec(b, FUSE_MKDIR, ROOT, FFZ_SEL_RAW, a, n);
    n = with_names(a, &gx, sizeof(gx), "user.fuzz", NULL);
    fuse_rec(b, FUSE_GETXATTR, 1, FFZ_SEL_RAW, a, n);
    save("fuzz_fuse_dispatch", "readonly", b);
    free(b);
}

/* Record headers with the fixed argument size of each opcode, and names. */
static void fuse_dict(void)
{
    static const struct { uint32_t opcode; uint16_t size; } ops[] = {
        { FUSE_LOOKUP, 5 }, { FUSE_FORGET, sizeof(struct fuse_forget_in) },
        { FUSE_GETATTR, sizeof(struct fuse_getattr_in) },
        { FUSE_SETATTR, sizeof(struct fuse_setattr_in) }, { FUSE_READLINK, 0 },
        { FUSE_SYMLINK, 10 }, { FUSE_MKNOD, sizeof(struct fuse_mknod_in) + 2 },
        { FUSE_MKDIR, sizeof(struct fuse_mkdir_in) + 2 }, { FUSE_UNLINK, 2 }, { FUSE_RMDIR, 2 },
        { FUSE_RENAME, sizeof(struct fuse_rename_in) + 4 },
        { FUSE_LINK, sizeof(struct fuse_link_in) + 2 },
        { FUSE_OPEN, sizeof(struct fuse_open_in) }, { FUSE_READ, sizeof(struct fuse_read_in) },
        { FUSE_WRITE, sizeof(struct fuse_write_in) + 8 }, { FUSE_STATFS, 0 },
        { FUSE_RELEASE, sizeof(struct fuse_release_in) },
        { FUSE_FSYNC, sizeof(struct fuse_fsync_in) }, { FUSE_SETXATTR, 8 + 10 + 4 },
        { FUSE_GETXATTR, sizeof(struct fuse_getxattr_in) + 10 },
        { FUSE_LISTXATTR, sizeof(struct fuse_getxattr_in) }, { FUSE_REMOVEXATTR, 10 },
        { FUSE_FLUSH, sizeof(struct fuse_flush_in) }, { FUSE_INIT, sizeof(struct fuse_init_in) },
        { FUSE_OPENDIR, sizeof(struct fuse_open_in) },
        { FUSE_READDIR, sizeof(struct fuse_read_in) },
        { FUSE_RELEASEDIR, sizeof(struct fuse_release_in) },
        { FUSE_FSYNCDIR, sizeof(struct fuse_fsync_in) },
        { FUSE_ACCESS, sizeof(struct fuse_access_in) },
        { FUSE_CREATE, sizeof(struct fuse_create_in) + 2 },
        { FUSE_INTERRUPT, sizeof(struct fuse_interrupt_in) }, { FUSE_DESTROY, 0 },
        { FUSE_BATCH_FORGET, sizeof(struct fuse_batch_forget_in) + sizeof(struct fuse_forget_one) },
        { FUSE_FALLOCATE, sizeof(struct fuse_fallocate_in) },
        { FUSE_READDIRPLUS, sizeof(struct fuse_read_in) },
        { FUSE_RENAME2, sizeof(struct fuse_rename2_in) + 4 },
        { FUSE_LSEEK, sizeof(struct fuse_lseek_in) },
        { FUSE_COPY_FILE_RANGE, sizeof(struct fuse_copy_file_range_in) },
        { FUSE_SYNCFS, sizeof(struct fuse_syncfs_in) },
    };
    static const char *const names[] = {
        "file", "dir", "inner", "sub", "link", "fifo", "..", ".", "user.fuzz",
        "system.posix_acl_access", "system.posix_acl_default", "trusted.t", "security.s",
    };
    FILE *f = dict_open("fuzz_fuse_dispatch");
    char name[32];
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        struct ffz_record r = {
            .opcode = (uint8_t)ops[i].opcode, .node = 1, .fh = 0, .aux = 0, .shape = SHAPE_4K,
            .arglen = { (uint8_t)ops[i].size, (uint8_t)(ops[i].size >> 8) },
        };
        snprintf(name, sizeof(name), "op%u", ops[i].opcode);
        dict_add(f, name, &r, sizeof(r));
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(name, sizeof(name), "name%zu", i);
        dict_add(f, name, names[i], strlen(names[i]) + 1);
    }
    dict_close(f, "fuzz_fuse_dispatch");
}

/* ---- fuzz_vhost_messages ----------------------------------------------------- */

#define VQ_UADDR 0x7f0000000000ull
#define VQ_MEM 0x40000ull

static void vhu_msg(struct buf *b, uint32_t request, uint32_t flags, unsigned nfds,
                    const void *payload, uint32_t size)
{
    struct vhu_hdr h = { .request = request, .flags = VHU_VERSION | flags | nfds << 16,
                         .size = size };
    put(b, &h, sizeof(h));
    put(b, payload, size);
}

static void vhu_u64(struct buf *b, uint32_t request, uint32_t flags, unsigned nfds, uint64_t v)
{
    vhu_msg(b, request, flags, nfds, &v, sizeof(v));
}

static void vhu_state(struct buf *b, uint32_t request, uint32_t flags, uint32_t index,
                      uint32_t num)
{
    struct vhu_vring_state s = { .index = index, .num = num };
    vhu_msg(b, request, flags, 0, &s, sizeof(s));
}

static void vhu_mem_table(struct buf *b, uint32_t flags)
{
    struct {
        uint32_t nregions, padding;
        struct vhu_mem_region r;
    } t = { 1, 0, { .guest_phys_addr = 0, .memory_size = VQ_MEM, .userspace_addr = VQ_UADDR } };
    vhu_msg(b, VHU_SET_MEM_TABLE, flags, 1, &t, sizeof(t));
}

/* Queue `q` of 128 entries with its rings in the q-th 64 KiB of memory. */
static void vhu_ring(struct buf *b, uint32_t flags, uint32_t q, bool kick)
{
    uint64_t base = VQ_UADDR + q * 0x10000ull;
    vhu_state(b, VHU_SET_VRING_NUM, flags, q, 128);
    vhu_state(b, VHU_SET_VRING_BASE, flags, q, 0);
    struct vhu_vring_addr ad = { .index = q, .desc_user_addr = base,
                                 .avail_user_addr = base + 0x1000,
                                 .used_user_addr = base + 0x2000 };
    vhu_msg(b, VHU_SET_VRING_ADDR, flags, 0, &ad, sizeof(ad));
    vhu_u64(b, VHU_SET_VRING_CALL, flags, 1, q);
    vhu_u64(b, VHU_SET_VRING_ERR, flags, 1, q);
    if (kick)
        vhu_u64(b, VHU_SET_VRING_KICK, flags, 1, q);
}

#define ALL_FEATURES ((1ull << VHU_F_VERSION_1) | (1ull << VHU_F_RING_EVENT_IDX) | \
                      (1ull << VHU_F_RING_INDIRECT_DESC) | (1ull << VHU_F_PROTOCOL_FEATURES))
#define ALL_PROTOCOL ((1ull << VHU_PROTOCOL_F_MQ) | (1ull << VHU_PROTOCOL_F_REPLY_ACK) | \
                      (1ull << VHU_PROTOCOL_F_BACKEND_REQ) | \
                      (1ull << VHU_PROTOCOL_F_BACKEND_SEND_FD) | \
                      (1ull << VHU_PROTOCOL_F_RESET_DEVICE) | \
                      (1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS) | \
                      (1ull << VHU_PROTOCOL_F_CONFIG))

static void vhu_handshake(struct buf *b, uint32_t flags)
{
    vhu_msg(b, VHU_GET_FEATURES, 0, 0, NULL, 0);
    vhu_msg(b, VHU_GET_PROTOCOL_FEATURES, 0, 0, NULL, 0);
    vhu_u64(b, VHU_SET_PROTOCOL_FEATURES, 0, 0, ALL_PROTOCOL);
    vhu_msg(b, VHU_SET_OWNER, flags, 0, NULL, 0);
    vhu_msg(b, VHU_GET_QUEUE_NUM, 0, 0, NULL, 0);
    vhu_msg(b, VHU_GET_MAX_MEM_SLOTS, 0, 0, NULL, 0);
    vhu_msg(b, VHU_SET_BACKEND_REQ_FD, flags, 1, NULL, 0);
    vhu_u64(b, VHU_SET_FEATURES, flags, 0, ALL_FEATURES);
}

static void vhu_get_config(struct buf *b, uint32_t offset, uint32_t size)
{
    struct vhu_config c = { .offset = offset, .size = size };
    vhu_msg(b, VHU_GET_CONFIG, 0, 0, &c, 12 + size);
}

static void vhost_seeds(void)
{
    struct buf *b = calloc(1, sizeof(*b));

    /* What QEMU sends to boot a guest, then a stop. */
    vhu_handshake(b, 0);
    vhu_mem_table(b, 0);
    vhu_ring(b, 0, 0, true);
    vhu_state(b, VHU_SET_VRING_ENABLE, 0, 0, 1);
    vhu_ring(b, 0, 1, true);
    vhu_state(b, VHU_SET_VRING_ENABLE, 0, 1, 1);
    vhu_get_config(b, 0, sizeof(struct virtio_fs_config_space));
    vhu_state(b, VHU_GET_VRING_BASE, 0, 0, 0);
    vhu_state(b, VHU_GET_VRING_BASE, 0, 1, 0);
    save("fuzz_vhost_messages", "handshake", b);

    /* The same with REPLY_ACK on every set, memory hot-plug, a restart and a reset. */
    b->len = 0;
    vhu_handshake(b, VHU_FLAG_NEED_REPLY);
    vhu_mem_table(b, VHU_FLAG_NEED_REPLY);
    vhu_ring(b, VHU_FLAG_NEED_REPLY, 1, true);
    vhu_state(b, VHU_SET_VRING_ENABLE, VHU_FLAG_NEED_REPLY, 1, 1);
    struct vhu_mem_single add = { .region = { .guest_phys_addr = 0x100000,
                                              .memory_size = 0x10000,
                                              .userspace_addr = VQ_UADDR + 0x100000 } };
    vhu_msg(b, VHU_ADD_MEM_REG, VHU_FLAG_NEED_REPLY, 1, &add, sizeof(add));
    vhu_get_config(b, 36, 4);
    struct vhu_config sc = { .offset = 0, .size = 4 };
    vhu_msg(b, VHU_SET_CONFIG, VHU_FLAG_NEED_REPLY, 0, &sc, 16);
    vhu_u64(b, VHU_SET_VRING_KICK, VHU_FLAG_NEED_REPLY, 1, 1);
    vhu_msg(b, VHU_REM_MEM_REG, VHU_FLAG_NEED_REPLY, 1, &add, sizeof(add));
    vhu_msg(b, VHU_RESET_DEVICE, VHU_FLAG_NEED_REPLY, 0, NULL, 0);
    vhu_u64(b, VHU_SET_VRING_ENDIAN, VHU_FLAG_NEED_REPLY, 0, 0);
    vhu_msg(b, VHU_SET_LOG_BASE, VHU_FLAG_NEED_REPLY, 0, NULL, 0);
    save("fuzz_vhost_messages", "reply-ack-hotplug-reset", b);

    /* A frontend without protocol features: queues start enabled. */
    b->len = 0;
    vhu_msg(b, VHU_GET_FEATURES, 0, 0, NULL, 0);
    vhu_u64(b, VHU_SET_FEATURES, 0, 0, (1ull << VHU_F_VERSION_1) | (1ull << VHU_F_RING_EVENT_IDX));
    vhu_msg(b, VHU_SET_OWNER, 0, 0, NULL, 0);
    vhu_mem_table(b, 0);
    vhu_ring(b, 0, 0, true);
    vhu_state(b, VHU_GET_VRING_BASE, 0, 0, 0);
    vhu_msg(b, VHU_RESET_OWNER, 0, 0, NULL, 0);
    save("fuzz_vhost_messages", "legacy", b);

    /* Malformed: a kick without an fd (NOFD), a bad ring size, then garbage. */
    b->len = 0;
    vhu_handshake(b, 0);
    vhu_u64(b, VHU_SET_VRING_KICK, VHU_FLAG_NEED_REPLY, 0, VHU_VRING_NOFD | 0);
    vhu_state(b, VHU_SET_VRING_NUM, 0, 0, 100);
    vhu_msg(b, VHU_GET_FEATURES, 0, 0, NULL, 0);
    save("fuzz_vhost_messages", "malformed", b);
    free(b);
}

/* Message headers with the payload size and fd count each request takes. */
static void vhost_dict(void)
{
    static const struct { uint32_t request, size, nfds; } msgs[] = {
        { VHU_GET_FEATURES, 0, 0 }, { VHU_SET_FEATURES, 8, 0 }, { VHU_SET_OWNER, 0, 0 },
        { VHU_RESET_OWNER, 0, 0 }, { VHU_SET_MEM_TABLE, 8 + 32, 1 },
        { VHU_SET_MEM_TABLE, 8 + 64, 2 }, { VHU_SET_MEM_TABLE, 8, 0 },
        { VHU_SET_LOG_BASE, 16, 1 }, { VHU_SET_LOG_FD, 0, 1 }, { VHU_SET_VRING_NUM, 8, 0 },
        { VHU_SET_VRING_ADDR, 40, 0 }, { VHU_SET_VRING_BASE, 8, 0 },
        { VHU_GET_VRING_BASE, 8, 0 }, { VHU_SET_VRING_KICK, 8, 1 },
        { VHU_SET_VRING_CALL, 8, 1 }, { VHU_SET_VRING_ERR, 8, 1 },
        { VHU_GET_PROTOCOL_FEATURES, 0, 0 }, { VHU_SET_PROTOCOL_FEATURES, 8, 0 },
        { VHU_GET_QUEUE_NUM, 0, 0 }, { VHU_SET_VRING_ENABLE, 8, 0 },
        { VHU_SET_BACKEND_REQ_FD, 0, 1 }, { VHU_SET_VRING_ENDIAN, 8, 0 },
        { VHU_GET_CONFIG, 12 + 40, 0 }, { VHU_SET_CONFIG, 12 + 4, 0 },
        { VHU_GET_INFLIGHT_FD, 16, 0 }, { VHU_SET_INFLIGHT_FD, 16, 1 },
        { VHU_RESET_DEVICE, 0, 0 }, { VHU_GET_MAX_MEM_SLOTS, 0, 0 },
        { VHU_ADD_MEM_REG, 40, 1 }, { VHU_REM_MEM_REG, 40, 1 }, { VHU_GET_STATUS, 0, 0 },
    };
    FILE *f = dict_open("fuzz_vhost_messages");
    char name[32];
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        for (uint32_t ack = 0; ack < 2; ack++) {
            struct vhu_hdr h = { .request = msgs[i].request,
                                 .flags = VHU_VERSION | (ack ? VHU_FLAG_NEED_REPLY : 0) |
                                          msgs[i].nfds << 16,
                                 .size = msgs[i].size };
            snprintf(name, sizeof(name), "msg%u_%u%s", msgs[i].request, msgs[i].size,
                     ack ? "_ack" : "");
            dict_add(f, name, &h, sizeof(h));
        }
    }
    struct vhu_mem_region reg = { .guest_phys_addr = 0, .memory_size = VQ_MEM,
                                  .userspace_addr = VQ_UADDR };
    dict_add(f, "region", &reg, sizeof(reg));
    uint64_t v = VQ_UADDR;
    dict_add(f, "uaddr", &v, sizeof(v));
    v = ALL_FEATURES;
    dict_add(f, "features", &v, sizeof(v));
    v = ALL_PROTOCOL;
    dict_add(f, "protocol_features", &v, sizeof(v));
    dict_close(f, "fuzz_vhost_messages");
}

/* ---- fuzz_vring ----------------------------------------------------------------- */

struct ring {
    unsigned num;
    struct vring_desc desc[1u << VFZ_MAX_LOG2];
    uint16_t avail_flags, avail_idx;
    uint16_t avail_ring[1u << VFZ_MAX_LOG2];
    uint16_t used_event;
    uint8_t area[VFZ_AREA_SIZE];
};

static void ring_desc(struct vring_desc *t, unsigned i, uint64_t addr, uint32_t len,
                      uint16_t flags, uint16_t next)
{
    t[i] = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static void ring_avail(struct ring *r, uint16_t head)
{
    r->avail_ring[r->avail_idx % r->num] = head;
    r->avail_idx++;
}

static void vring_setup(struct buf *b, unsigned log2, uint8_t features, uint16_t base)
{
    struct vfz_setup s = { .size_log2 = (uint8_t)log2, .features = features,
                           .base = { (uint8_t)base, (uint8_t)(base >> 8) } };
    b->len = 0;
    put(b, &s, sizeof(s));
}

/* A round writing the descriptor table, the avail ring and (area) the indirect area. */
static void vring_round(struct buf *b, const struct ring *r, uint8_t action, uint8_t batch,
                        bool area)
{
    size_t len = 16u * r->num + 6u + 2u * r->num + (area ? VFZ_AREA_SIZE : 0);
    struct vfz_round rd = { .action = action, .batch = batch,
                            .len = { (uint8_t)len, (uint8_t)(len >> 8) } };
    put(b, &rd, sizeof(rd));
    put(b, r->desc, 16u * r->num);
    put(b, &r->avail_flags, 2);
    put(b, &r->avail_idx, 2);
    put(b, r->avail_ring, 2u * r->num);
    put(b, &r->used_event, 2);
    if (area)
        put(b, r->area, VFZ_AREA_SIZE);
}

static void vring_seeds(void)
{
    struct buf *b = calloc(1, sizeof(*b));
    struct ring *r = calloc(1, sizeof(*r));

    /* A request: header readable, reply writable. */
    vring_setup(b, 4, 0, 0);
    r->num = 16;
    ring_desc(r->desc, 0, 0x4000, 64, VRING_DESC_F_NEXT, 1);
    ring_desc(r->desc, 1, 0x5000, 256, VRING_DESC_F_WRITE, 0);
    ring_avail(r, 0);
    vring_round(b, r, VFZ_A_WRITE_ALL, 0, false);
    save("fuzz_vring", "direct", b);

    /* Indirect table in the area, EVENT_IDX, two chains, one crossing into the small regions. */
    memset(r, 0, sizeof(*r));
    vring_setup(b, 3, VFZ_F_EVENT_IDX | VFZ_F_INDIRECT | VFZ_F_ERR_FD, 0);
    r->num = 8;
    struct vring_desc ind[4];
    ring_desc(ind, 0, 0x6000, 40, VRING_DESC_F_NEXT, 1);
    ring_desc(ind, 1, 0x6100, 16, VRING_DESC_F_NEXT, 2);
    ring_desc(ind, 2, 0xfff0, 0x2020, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
    ring_desc(ind, 3, 0x7000, 8, VRING_DESC_F_WRITE, 0);
    memcpy(r->area, ind, sizeof(ind));
    ring_desc(r->desc, 2, VFZ_AREA_GPA, sizeof(ind), VRING_DESC_F_INDIRECT, 0);
    ring_desc(r->desc, 5, 0x8000, 128, 0, 0);
    ring_avail(r, 2);
    ring_avail(r, 5);
    r->used_event = 1;
    vring_round(b, r, VFZ_A_INLINE | VFZ_A_WAIT | VFZ_A_WRITE_ALL, 0, true);
    save("fuzz_vring", "indirect-event-idx", b);

    /* Several rounds: batches of 2, requests kept in flight, completion in reverse. */
    memset(r, 0, sizeof(*r));
    vring_setup(b, 2, VFZ_F_EVENT_IDX, 0);
    r->num = 4;
    for (unsigned i = 0; i < 4; i++)
        ring_desc(r->desc, i, 0x4000 + i * 0x100, 32, VRING_DESC_F_WRITE, 0);
    ring_avail(r, 0);
    ring_avail(r, 1);
    ring_avail(r, 2);
    vring_round(b, r, VFZ_A_KEEP_HALF, 2, false);
    ring_avail(r, 3);
    vring_round(b, r, VFZ_A_REVERSE | VFZ_A_WAIT, 0, false);
    save("fuzz_vring", "rounds", b);

    /* A loop breaks the queue; the frontend resets it and the next chain is served. */
    memset(r, 0, sizeof(*r));
    vring_setup(b, 4, 0, 0);
    r->num = 16;
    ring_desc(r->desc, 0, 0x4000, 8, VRING_DESC_F_NEXT, 1);
    ring_desc(r->desc, 1, 0x4000, 8, VRING_DESC_F_NEXT, 0);
    ring_avail(r, 0);
    vring_round(b, r, 0, 0, false);
    r->avail_idx = 0;
    ring_desc(r->desc, 1, 0x4100, 8, 0, 0);
    ring_avail(r, 1);
    vring_round(b, r, VFZ_A_RESET, 0, false);
    save("fuzz_vring", "broken-reset", b);

    /* A large queue whose used index wraps. */
    memset(r, 0, sizeof(*r));
    vring_setup(b, 8, 0, 0xfffe);
    b->data[4] = 0xfe;
    b->data[5] = 0xff;
    r->num = 256;
    r->avail_idx = 0xfffe;
    for (unsigned i = 0; i < 4; i++) {
        ring_desc(r->desc, 100 + i, 0x8000 + i * 64, 64, VRING_DESC_F_WRITE, 0);
        ring_avail(r, (uint16_t)(100 + i));
    }
    vring_round(b, r, VFZ_A_WRITE_ALL, 3, false);
    save("fuzz_vring", "wrap", b);
    free(r);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0755) < 0 && errno != EEXIST) {
        perror(out_dir);
        return 1;
    }
    fuse_seeds();
    fuse_dict();
    vhost_seeds();
    vhost_dict();
    vring_seeds();
    return 0;
}

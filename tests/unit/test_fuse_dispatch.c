/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE engine fed with hand-built requests: good ones, and every
 * malformed shape (short, unterminated, oversized, bad names, bad lengths).
 * Each must get exactly one answer and leave the session serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fuse/session.h"
#include "passthrough/passthrough.h"

struct fixture {
    char dir[64];
    struct pt_fs *fs;
    struct fp_session *s;
    uint64_t unique;
};

/* One request in flight: what the transport would hand over. */
struct call {
    struct req req;
    uint8_t in[4096 * 2];
    size_t in_len;
    struct iovec in_iov[8];
    uint8_t out[8192];
    struct iovec out_iov[64];
    unsigned out_cnt;
    int done_count;
    uint32_t written;
};

static void on_done(struct req *req, uint32_t written)
{
    struct call *c = (struct call *)req;
    /* A waiting request is answered from a thread of its own. */
    __atomic_store_n(&c->written, written, __ATOMIC_RELAXED);
    __atomic_add_fetch(&c->done_count, 1, __ATOMIC_RELEASE);
}

static void fixture_setup(struct fixture *f)
{
    strcpy(f->dir, "/tmp/vfsd-fuse-XXXXXX");
    g_assert_nonnull(mkdtemp(f->dir));
    struct pt_config cfg = { .shared_dir = f->dir, .cache = PT_CACHE_AUTO, .timeout = -1,
                             .xattr = true };
    g_assert_cmpint(pt_fs_new(&cfg, &f->fs), ==, 0);
    struct fp_config fcfg = { .max_write = 1 << 20, .readdirplus = true, .cache = PT_CACHE_AUTO };
    g_assert_cmpint(fp_session_new(&fcfg, f->fs, &f->s), ==, 0);
    f->unique = 1;
}

static void fixture_teardown(struct fixture *f)
{
    fp_session_free(f->s);
    pt_fs_free(f->fs);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_cmpint(system(cmd), ==, 0);
}

/* Builds header + args into c->in; hdr_len overrides the header's len field when nonzero. */
static void call_build(struct fixture *f, struct call *c, uint32_t opcode, uint64_t nodeid,
                       const void *args, size_t args_len)
{
    memset(c, 0, sizeof(*c));
    struct fuse_in_header h = {
        .len = (uint32_t)(sizeof(h) + args_len), .opcode = opcode, .unique = f->unique++,
        .nodeid = nodeid, .uid = 0, .gid = 0, .pid = 1,
    };
    g_assert_cmpuint(sizeof(h) + args_len, <=, sizeof(c->in));
    memcpy(c->in, &h, sizeof(h));
    if (args_len)
        memcpy(c->in + sizeof(h), args, args_len);
    c->in_len = sizeof(h) + args_len;
    c->in_iov[0] = (struct iovec){ c->in, c->in_len };
    c->req.in = c->in_iov;
    c->req.in_cnt = 1;
    c->out_iov[0] = (struct iovec){ c->out, sizeof(c->out) };
    c->out_cnt = 1;
    c->req.out = c->out_iov;
    c->req.out_cnt = 1;
    c->req.done = on_done;
}

static void call_run(struct fixture *f, struct call *c)
{
    fp_dispatch(f->s, &c->req);
    g_assert_cmpint(c->done_count, ==, 1); /* exactly one answer */
}

/* The reply's error (0 or -errno); asserts the header is sane. */
static int reply_error(struct call *c)
{
    struct fuse_out_header h;
    g_assert_cmpuint(c->written, >=, sizeof(h));
    memcpy(&h, c->out, sizeof(h));
    g_assert_cmpuint(h.len, ==, c->written);
    return h.error;
}

static int simple(struct fixture *f, uint32_t opcode, uint64_t nodeid, const void *args,
                  size_t len)
{
    struct call c;
    call_build(f, &c, opcode, nodeid, args, len);
    call_run(f, &c);
    return reply_error(&c);
}

static void do_init(struct fixture *f)
{
    struct fuse_init_in in = { .major = 7, .minor = 38, .max_readahead = 65536,
                               .flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES |
                                        FUSE_INIT_EXT | FUSE_WRITEBACK_CACHE };
    struct call c;
    call_build(f, &c, FUSE_INIT, 0, &in, sizeof(in));
    call_run(f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_init_out out;
    memcpy(&out, c.out + sizeof(struct fuse_out_header), sizeof(out));
    g_assert_cmpuint(out.major, ==, 7);
    g_assert_cmpuint(out.minor, ==, 38);
    g_assert_cmpuint(out.max_write, ==, 1 << 20);
    g_assert_cmpuint(out.max_pages, ==, 256);
    g_assert_true(out.flags & FUSE_DO_READDIRPLUS);
    g_assert_true(out.flags & FUSE_ASYNC_READ);
    /* not offered without the option, even though the guest asked */
    g_assert_false(out.flags & FUSE_WRITEBACK_CACHE);
}

static void test_init(void)
{
    struct fixture f;
    fixture_setup(&f);

    /* before INIT everything else fails with EIO */
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "a", 2), ==, -EIO);

    /* a newer major gets our version back and no session */
    struct fuse_init_in in = { .major = 8, .minor = 0 };
    struct call c;
    call_build(&f, &c, FUSE_INIT, 0, &in, sizeof(in));
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_init_out out;
    memcpy(&out, c.out + sizeof(struct fuse_out_header), sizeof(out));
    g_assert_cmpuint(out.major, ==, 7);
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "a", 2), ==, -EIO);

    /* too old a minor */
    in = (struct fuse_init_in){ .major = 7, .minor = 30 };
    g_assert_cmpint(simple(&f, FUSE_INIT, 0, &in, sizeof(in)), ==, -EPROTO);
    /* an INIT shorter than its fixed part */
    g_assert_cmpint(simple(&f, FUSE_INIT, 0, &in, 8), ==, -EINVAL);

    do_init(&f);
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "a", 2), ==, -ENOENT);
    /* a second INIT (guest reboot) starts over and works */
    do_init(&f);
    g_assert_cmpint(simple(&f, FUSE_DESTROY, 0, NULL, 0), ==, 0);
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "a", 2), ==, -EIO);
    fixture_teardown(&f);
}

static void test_header_errors(void)
{
    struct fixture f;
    struct call c;
    fixture_setup(&f);
    do_init(&f);

    /* shorter than a header: nothing can be answered, the chain is returned empty */
    call_build(&f, &c, FUSE_GETATTR, 1, NULL, 0);
    c.in_iov[0].iov_len = 20;
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);

    /* len claims more bytes than the request has */
    struct fuse_getattr_in ga = { 0 };
    call_build(&f, &c, FUSE_GETATTR, 1, &ga, sizeof(ga));
    ((struct fuse_in_header *)c.in)->len = 4000;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -EINVAL);

    /* len smaller than a header */
    call_build(&f, &c, FUSE_GETATTR, 1, &ga, sizeof(ga));
    ((struct fuse_in_header *)c.in)->len = 8;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -EINVAL);

    /* unknown and unimplemented opcodes */
    g_assert_cmpint(simple(&f, 99, 1, NULL, 0), ==, -ENOSYS);
    g_assert_cmpint(simple(&f, 0xffffffffu, 1, NULL, 0), ==, -ENOSYS);
    g_assert_cmpint(simple(&f, 0, 1, NULL, 0), ==, -ENOSYS);
    struct fuse_bmap_in bm = { 0 };
    g_assert_cmpint(simple(&f, FUSE_BMAP, 1, &bm, sizeof(bm)), ==, -ENOSYS);

    /* fixed argument too short */
    g_assert_cmpint(simple(&f, FUSE_GETATTR, 1, &ga, 4), ==, -EINVAL);

    /* no room for a reply header */
    call_build(&f, &c, FUSE_GETATTR, 1, &ga, sizeof(ga));
    c.out_iov[0].iov_len = 10;
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);

    /* room for a header but not the attributes */
    call_build(&f, &c, FUSE_GETATTR, 1, &ga, sizeof(ga));
    c.out_iov[0].iov_len = 40;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -EIO);

    /* unknown nodeid */
    g_assert_cmpint(simple(&f, FUSE_GETATTR, 123456789, &ga, sizeof(ga)), ==, -EBADF);
    /* and the session still serves */
    g_assert_cmpint(simple(&f, FUSE_GETATTR, 1, &ga, sizeof(ga)), ==, 0);
    fixture_teardown(&f);
}

static void test_name_validation(void)
{
    struct fixture f;
    fixture_setup(&f);
    do_init(&f);
    char buf[600];

    /* unterminated */
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "abc", 3), ==, -EINVAL);
    /* empty */
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "", 1), ==, -EINVAL);
    /* a slash */
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "a/b", 4), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "/", 2), ==, -EINVAL);
    /* longer than NAME_MAX: what the host filesystem would answer */
    memset(buf, 'x', 256);
    buf[256] = '\0';
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, buf, 257), ==, -ENAMETOOLONG);
    /* and no NUL anywhere, however long */
    memset(buf, 'x', sizeof(buf));
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, buf, sizeof(buf)), ==, -EINVAL);
    buf[255] = '\0';
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, buf, 256), ==, -ENOENT);
    /* ".." at the root is the root */
    g_assert_cmpint(simple(&f, FUSE_LOOKUP, 1, "..", 3), ==, 0);

    /* "." and ".." cannot be created or removed */
    struct { struct fuse_mkdir_in in; char name[8]; } mk = { { .mode = 0755 }, ".." };
    g_assert_cmpint(simple(&f, FUSE_MKDIR, 1, &mk, sizeof(mk.in) + 3), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_UNLINK, 1, ".", 2), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_RMDIR, 1, "..", 3), ==, -EINVAL);
    /* a good mkdir works, and shows on the host */
    strcpy(mk.name, "d1");
    g_assert_cmpint(simple(&f, FUSE_MKDIR, 1, &mk, sizeof(mk.in) + 3), ==, 0);
    g_autofree char *p = g_strdup_printf("%s/d1", f.dir);
    struct stat st;
    g_assert_cmpint(stat(p, &st), ==, 0);
    g_assert_true(S_ISDIR(st.st_mode));

    /* symlink: needs two strings, the target non-empty and below PATH_MAX */
    g_assert_cmpint(simple(&f, FUSE_SYMLINK, 1, "ln\0", 3), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_SYMLINK, 1, "ln\0\0", 4), ==, -EINVAL);
    g_autofree char *longt = g_malloc(4200);
    memcpy(longt, "ln\0", 3);
    memset(longt + 3, 'a', 4100);
    longt[4103] = '\0';
    g_assert_cmpint(simple(&f, FUSE_SYMLINK, 1, longt, 4104), ==, -ENAMETOOLONG);
    g_assert_cmpint(simple(&f, FUSE_SYMLINK, 1, "ln\0target", 10), ==, 0);

    /* rename: both names, known flags only */
    struct { struct fuse_rename2_in in; char names[16]; } rn = { { .newdir = 1 }, "d1\0d2" };
    g_assert_cmpint(simple(&f, FUSE_RENAME2, 1, &rn, sizeof(rn.in) + 3), ==, -EINVAL);
    rn.in.flags = 1u << 7;
    g_assert_cmpint(simple(&f, FUSE_RENAME2, 1, &rn, sizeof(rn.in) + 6), ==, -EINVAL);
    rn.in.flags = RENAME_NOREPLACE;
    g_assert_cmpint(simple(&f, FUSE_RENAME2, 1, &rn, sizeof(rn.in) + 6), ==, 0);
    g_autofree char *p2 = g_strdup_printf("%s/d2", f.dir);
    g_assert_cmpint(stat(p2, &st), ==, 0);
    fixture_teardown(&f);
}

static void test_write_read_and_payload_checks(void)
{
    struct fixture f;
    struct call c;
    fixture_setup(&f);
    do_init(&f);

    /* create a file */
    struct { struct fuse_create_in in; char name[8]; } cr = {
        { .flags = O_RDWR, .mode = S_IFREG | 0644 }, "f" };
    call_build(&f, &c, FUSE_CREATE, 1, &cr, sizeof(cr.in) + 2);
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_entry_out eo;
    struct fuse_open_out oo;
    memcpy(&eo, c.out + 16, sizeof(eo));
    memcpy(&oo, c.out + 16 + sizeof(eo), sizeof(oo));

    /* write with the payload in three pieces of the readable side */
    struct { struct fuse_write_in in; char data[12]; } wr = {
        { .fh = oo.fh, .offset = 0, .size = 12 }, "hello, world" };
    call_build(&f, &c, FUSE_WRITE, eo.nodeid, &wr, sizeof(wr.in) + 12);
    size_t hdr = sizeof(struct fuse_in_header) + sizeof(wr.in);
    c.in_iov[0].iov_len = hdr + 5;
    c.in_iov[1] = (struct iovec){ c.in + hdr + 5, 1 };
    c.in_iov[2] = (struct iovec){ c.in + hdr + 6, 6 };
    c.req.in_cnt = 3;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_write_out wo;
    memcpy(&wo, c.out + 16, sizeof(wo));
    g_assert_cmpuint(wo.size, ==, 12);

    /* size claims more than the payload */
    wr.in.size = 13;
    g_assert_cmpint(simple(&f, FUSE_WRITE, eo.nodeid, &wr, sizeof(wr.in) + 12), ==, -EINVAL);
    wr.in.size = 0xffffffffu;
    g_assert_cmpint(simple(&f, FUSE_WRITE, eo.nodeid, &wr, sizeof(wr.in) + 12), ==, -EINVAL);
    /* unknown handle */
    wr.in.size = 12;
    wr.in.fh = 0xdeadbeef;
    g_assert_cmpint(simple(&f, FUSE_WRITE, eo.nodeid, &wr, sizeof(wr.in) + 12), ==, -EBADF);

    /* read into a reply scattered over many small writable pieces */
    struct fuse_read_in rd = { .fh = oo.fh, .offset = 7, .size = 100 };
    call_build(&f, &c, FUSE_READ, eo.nodeid, &rd, sizeof(rd));
    c.out_iov[0] = (struct iovec){ c.out, 10 };
    for (unsigned i = 1; i < 20; i++)
        c.out_iov[i] = (struct iovec){ c.out + 10 * i, 1 };
    c.req.out_cnt = 20;
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 16 + 5);
    /* gather what was written across the pieces */
    char flat[64];
    size_t n = 0;
    for (unsigned i = 0; i < c.req.out_cnt && n < c.written; i++)
        for (size_t j = 0; j < c.out_iov[i].iov_len && n < c.written; j++)
            flat[n++] = ((char *)c.out_iov[i].iov_base)[j];
    g_assert_cmpmem(flat + 16, 5, "world", 5);

    /* the file on the host */
    g_autofree char *p = g_strdup_printf("%s/f", f.dir);
    g_autofree char *content = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(p, &content, &len, NULL));
    g_assert_cmpmem(content, len, "hello, world", 12);

    struct fuse_release_in rl = { .fh = oo.fh };
    g_assert_cmpint(simple(&f, FUSE_RELEASE, eo.nodeid, &rl, sizeof(rl)), ==, 0);
    /* released twice: the handle is gone */
    g_assert_cmpint(simple(&f, FUSE_RELEASE, eo.nodeid, &rl, sizeof(rl)), ==, -EBADF);
    fixture_teardown(&f);
}

static void test_entry_reply_too_small_forgets(void)
{
    struct fixture f;
    struct call c;
    struct pt_counts before, after;
    fixture_setup(&f);
    do_init(&f);
    g_autofree char *p = g_strdup_printf("%s/x", f.dir);
    g_assert_true(g_file_set_contents(p, "x", 1, NULL));

    pt_get_counts(f.fs, &before);
    call_build(&f, &c, FUSE_LOOKUP, 1, "x", 2);
    c.out_iov[0].iov_len = 64; /* entry needs 16 + 128 */
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -EIO);
    pt_get_counts(f.fs, &after);
    /* the lookup that could not be delivered was undone */
    g_assert_cmpuint(after.inodes, ==, before.inodes);
    fixture_teardown(&f);
}

static void test_forget_and_xattr_checks(void)
{
    struct fixture f;
    struct call c;
    fixture_setup(&f);
    do_init(&f);

    /* FORGET never gets a reply, even when malformed */
    call_build(&f, &c, FUSE_FORGET, 1, "x", 1);
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);
    struct { struct fuse_batch_forget_in in; struct fuse_forget_one one; } bf = {
        { .count = 1000 }, { 1, 1 } };
    call_build(&f, &c, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf));
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);
    bf.in.count = 1;
    bf.one.nodeid = 999999; /* unknown ids are ignored */
    call_build(&f, &c, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf));
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);

    /* SETXATTR value shorter than its size */
    struct { struct fuse_setxattr_in in; char rest[32]; } sx = { { .size = 20 }, "user.a\0val" };
    g_assert_cmpint(simple(&f, FUSE_SETXATTR, 1, &sx, 8 + 10), ==, -EINVAL);
    /* name unterminated */
    g_assert_cmpint(simple(&f, FUSE_SETXATTR, 1, &sx, 8 + 6), ==, -EINVAL);
    /* GETXATTR of a name with no NUL */
    struct { struct fuse_getxattr_in in; char name[8]; } gx = { { .size = 0 }, "user.aa" };
    g_assert_cmpint(simple(&f, FUSE_GETXATTR, 1, &gx, sizeof(gx.in) + 7), ==, -EINVAL);
    fixture_teardown(&f);
}

static void test_oversized_args(void)
{
    struct fixture f;
    fixture_setup(&f);
    do_init(&f);
    /* arguments bigger than any request may carry */
    size_t big = 200 * 1024;
    g_autofree uint8_t *in = g_malloc0(sizeof(struct fuse_in_header) + big);
    struct fuse_in_header h = { .len = (uint32_t)(sizeof(h) + big), .opcode = FUSE_SETXATTR,
                                .unique = 77, .nodeid = 1 };
    memcpy(in, &h, sizeof(h));
    struct call c;
    memset(&c, 0, sizeof(c));
    c.in_iov[0] = (struct iovec){ in, sizeof(h) + big };
    c.req.in = c.in_iov;
    c.req.in_cnt = 1;
    c.out_iov[0] = (struct iovec){ c.out, sizeof(c.out) };
    c.req.out = c.out_iov;
    c.req.out_cnt = 1;
    c.req.done = on_done;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -E2BIG);
    fixture_teardown(&f);
}


/* ---- INIT flags of the security options, and creating-request extensions */

/* Protocol 7.39, newer than some <linux/fuse.h>. */
#define T_CREATE_SUPP_GROUP (1ULL << 34)
#define T_EXT_GROUPS 32u

static void fixture_setup_with(struct fixture *f, const struct fp_config *fcfg)
{
    strcpy(f->dir, "/tmp/vfsd-fuse-XXXXXX");
    g_assert_nonnull(mkdtemp(f->dir));
    g_assert_cmpint(chmod(f->dir, 0777), ==, 0);
    struct pt_config cfg = { .shared_dir = f->dir, .cache = PT_CACHE_AUTO, .timeout = -1,
                             .xattr = true };
    g_assert_cmpint(pt_fs_new(&cfg, &f->fs), ==, 0);
    g_assert_cmpint(fp_session_new(fcfg, f->fs, &f->s), ==, 0);
    f->unique = 1;
}

/* INIT at protocol 7.minor asking for `flags`; returns what was granted. */
static uint64_t init_with(struct fixture *f, uint32_t minor, uint64_t flags)
{
    struct fuse_init_in in = { .major = 7, .minor = minor, .max_readahead = 65536,
                               .flags = (uint32_t)flags | FUSE_INIT_EXT,
                               .flags2 = (uint32_t)(flags >> 32) };
    struct call c;
    call_build(f, &c, FUSE_INIT, 0, &in, sizeof(in));
    call_run(f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_init_out out;
    memcpy(&out, c.out + sizeof(struct fuse_out_header), sizeof(out));
    g_assert_cmpuint(out.minor, ==, minor);
    return out.flags | (uint64_t)out.flags2 << 32;
}

#define SECURITY_FLAGS (FUSE_POSIX_ACL | FUSE_DONT_MASK | FUSE_SETXATTR_EXT | \
                        FUSE_HANDLE_KILLPRIV_V2 | FUSE_SECURITY_CTX | T_CREATE_SUPP_GROUP)

static void test_init_security_flags(void)
{
    struct fixture f;
    struct fp_config plain = { .max_write = 1 << 20, .cache = PT_CACHE_AUTO };
    fixture_setup_with(&f, &plain);
    /* Nothing the options did not ask for, except the supplementary group,
     * which costs nothing. */
    uint64_t got = init_with(&f, 38, SECURITY_FLAGS);
    g_assert_cmphex(got & SECURITY_FLAGS, ==, T_CREATE_SUPP_GROUP);
    fixture_teardown(&f);

    struct fp_config all = { .max_write = 1 << 20, .cache = PT_CACHE_AUTO, .posix_acl = true,
                             .killpriv_v2 = true, .security_label = true };
    fixture_setup_with(&f, &all);
    got = init_with(&f, 38, SECURITY_FLAGS);
    g_assert_cmphex(got & SECURITY_FLAGS, ==, SECURITY_FLAGS);
    /* ...and never what the guest did not ask for. */
    got = init_with(&f, 38, FUSE_HANDLE_KILLPRIV_V2);
    g_assert_cmphex(got & SECURITY_FLAGS, ==, FUSE_HANDLE_KILLPRIV_V2);
    fixture_teardown(&f);
}

static size_t align8(size_t x)
{
    return (x + 7) & ~(size_t)7;
}

/* A fuse_secctx_header holding one context; returns its length. */
static size_t secctx_block(uint8_t *buf, const char *name, const void *value, uint32_t size)
{
    size_t namelen = strlen(name) + 1;
    size_t rec = align8(sizeof(struct fuse_secctx) + namelen + size);
    struct fuse_secctx_header h = { .size = (uint32_t)(sizeof(h) + rec), .nr_secctx = 1 };
    struct fuse_secctx c = { .size = size };
    memset(buf, 0, h.size);
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), &c, sizeof(c));
    memcpy(buf + sizeof(h) + sizeof(c), name, namelen);
    memcpy(buf + sizeof(h) + sizeof(c) + namelen, value, size);
    return h.size;
}

/* MKDIR of `name` with `ext` (ext_len bytes, a multiple of 8) as the
 * request's extensions, or as trailing bytes when trailing is set. */
static int mkdir_ext(struct fixture *f, const char *name, uint32_t uid, uint32_t gid,
                     const void *ext, size_t ext_len, bool trailing)
{
    uint8_t args[1024];
    struct fuse_mkdir_in in = { .mode = 0755 };
    size_t len = 0;
    memcpy(args, &in, sizeof(in));
    len += sizeof(in);
    memcpy(args + len, name, strlen(name) + 1);
    len += strlen(name) + 1;
    g_assert_cmpuint(len + ext_len, <=, sizeof(args));
    if (ext_len)
        memcpy(args + len, ext, ext_len);
    struct call c;
    call_build(f, &c, FUSE_MKDIR, 1, args, len + ext_len);
    struct fuse_in_header *h = (struct fuse_in_header *)c.in;
    h->uid = uid;
    h->gid = gid;
    if (!trailing)
        h->total_extlen = (uint16_t)(ext_len / 8);
    call_run(f, &c);
    return reply_error(&c);
}

static ssize_t host_label(struct fixture *f, const char *name, char *buf, size_t size)
{
    g_autofree char *p = g_strdup_printf("%s/%s", f->dir, name);
    ssize_t n = lgetxattr(p, "user.label", buf, size);
    return n < 0 ? -errno : n;
}

static void test_security_context_extension(void)
{
    struct fixture f;
    struct fp_config cfg = { .max_write = 1 << 20, .cache = PT_CACHE_AUTO,
                             .security_label = true };
    uint8_t ext[512];
    char buf[64];
    fixture_setup_with(&f, &cfg);
    init_with(&f, 38, FUSE_SECURITY_CTX | T_CREATE_SUPP_GROUP);

    /* 7.38: the context is an extension at the end of the request. */
    size_t n = secctx_block(ext, "user.label", "ctx-a", 5);
    g_assert_cmpint(mkdir_ext(&f, "a", 0, 0, ext, n, false), ==, 0);
    g_assert_cmpint(host_label(&f, "a", buf, sizeof(buf)), ==, 5);
    g_assert_cmpmem(buf, 5, "ctx-a", 5);
    /* No context at all (nr_secctx 0), and an extension of an unknown type
     * after it: fine, nothing set. */
    struct { struct fuse_secctx_header h; struct fuse_ext_header x; uint64_t data; } none = {
        { .size = 8, .nr_secctx = 0 }, { .size = 16, .type = 200 }, 0 };
    g_assert_cmpint(mkdir_ext(&f, "b", 0, 0, &none, sizeof(none), false), ==, 0);
    g_assert_cmpint(host_label(&f, "b", buf, sizeof(buf)), ==, -ENODATA);

    /* Malformed extensions: the request fails, nothing is created. */
    n = secctx_block(ext, "user.label", "v", 1);
    ((struct fuse_secctx_header *)ext)->size = (uint32_t)n + 8; /* past its extension */
    g_assert_cmpint(mkdir_ext(&f, "c1", 0, 0, ext, n, false), ==, -EINVAL);
    n = secctx_block(ext, "user.label", "v", 1);
    ((struct fuse_secctx_header *)ext)->nr_secctx = 2; /* more than it holds */
    g_assert_cmpint(mkdir_ext(&f, "c2", 0, 0, ext, n, false), ==, -EINVAL);
    n = secctx_block(ext, "user.label", "v", 1);
    ((struct fuse_secctx *)(ext + 8))->size = 4000; /* value past the end */
    g_assert_cmpint(mkdir_ext(&f, "c3", 0, 0, ext, n, false), ==, -EINVAL);
    n = secctx_block(ext, "user.label", "", 0);
    memset(ext + 16, 'x', n - 16); /* name without NUL */
    g_assert_cmpint(mkdir_ext(&f, "c4", 0, 0, ext, n, false), ==, -EINVAL);
    struct fuse_ext_header bad = { .size = 12, .type = 200 }; /* not 8-aligned */
    uint8_t two[16] = { 0 };
    memcpy(two, &bad, sizeof(bad));
    g_assert_cmpint(mkdir_ext(&f, "c5", 0, 0, two, sizeof(two), false), ==, -EINVAL);
    bad.size = 0;
    memcpy(two, &bad, sizeof(bad));
    g_assert_cmpint(mkdir_ext(&f, "c6", 0, 0, two, sizeof(two), false), ==, -EINVAL);
    /* Nine contexts: more than we take. */
    struct fuse_secctx_header nine = { .size = 8 + 9 * 16, .nr_secctx = 9 };
    memset(ext, 0, sizeof(ext));
    memcpy(ext, &nine, sizeof(nine));
    for (int i = 0; i < 9; i++)
        memcpy(ext + 8 + i * 16 + 8, "user.l", 7);
    g_assert_cmpint(mkdir_ext(&f, "c7", 0, 0, ext, nine.size, false), ==, -E2BIG);
    /* total_extlen claiming more than the request holds. */
    n = secctx_block(ext, "user.label", "v", 1);
    struct call c;
    uint8_t args[64] = { 0 };
    memcpy(args + sizeof(struct fuse_mkdir_in), "c8", 3);
    call_build(&f, &c, FUSE_MKDIR, 1, args, sizeof(struct fuse_mkdir_in) + 3);
    ((struct fuse_in_header *)c.in)->total_extlen = 2;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -EINVAL);
    for (int i = 1; i <= 8; i++) {
        char name[8];
        snprintf(name, sizeof(name), "c%d", i);
        g_autofree char *p = g_strdup_printf("%s/%s", f.dir, name);
        g_assert_cmpint(access(p, F_OK), ==, -1);
    }
    /* A GETATTR with stray extensions: cut off and ignored. */
    struct { struct fuse_getattr_in in; uint64_t stray; } ga = { { 0 }, 0 };
    call_build(&f, &c, FUSE_GETATTR, 1, &ga, sizeof(ga));
    ((struct fuse_in_header *)c.in)->total_extlen = 1;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    fixture_teardown(&f);

    /* 7.37: the context follows the name, no extension length. */
    fixture_setup_with(&f, &cfg);
    init_with(&f, 37, FUSE_SECURITY_CTX);
    n = secctx_block(ext, "user.label", "old", 3);
    g_assert_cmpint(mkdir_ext(&f, "old", 0, 0, ext, n, true), ==, 0);
    g_assert_cmpint(host_label(&f, "old", buf, sizeof(buf)), ==, 3);
    fixture_teardown(&f);

    /* Not negotiated: a context is never read, whatever the guest sends. */
    cfg.security_label = false;
    fixture_setup_with(&f, &cfg);
    init_with(&f, 38, FUSE_SECURITY_CTX);
    n = secctx_block(ext, "user.label", "ctx", 3);
    g_assert_cmpint(mkdir_ext(&f, "ignored", 0, 0, ext, n, false), ==, 0);
    g_assert_cmpint(host_label(&f, "ignored", buf, sizeof(buf)), ==, -ENODATA);
    fixture_teardown(&f);
}

static void test_supp_group_extension(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root");
        return;
    }
    struct fixture f;
    struct fp_config cfg = { .max_write = 1 << 20, .cache = PT_CACHE_AUTO };
    fixture_setup_with(&f, &cfg);
    init_with(&f, 38, T_CREATE_SUPP_GROUP);
    g_autofree char *team = g_strdup_printf("%s/team", f.dir);
    g_assert_cmpint(mkdir(team, 0777), ==, 0);
    g_assert_cmpint(chown(team, 0, 4242), ==, 0);
    g_assert_cmpint(chmod(team, 02777), ==, 0);
    uint8_t args[64];
    struct fuse_entry_out e;

    struct { struct fuse_ext_header h; struct { uint32_t nr, gid; } g; } grp = {
        { .size = 16, .type = T_EXT_GROUPS }, { 1, 4242 } };
    /* LOOKUP team (set-group-id, group 4242), then MKNOD a set-group-id file
     * in it as user 1000 with and without 4242 as supplementary group: only
     * a member keeps S_ISGID. */
    struct call c;
    call_build(&f, &c, FUSE_LOOKUP, 1, "team", 5);
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    memcpy(&e, c.out + sizeof(struct fuse_out_header), sizeof(e));
    for (int with = 0; with < 2; with++) {
        struct fuse_mknod_in in = { .mode = S_IFREG | 02755 };
        memcpy(args, &in, sizeof(in));
        /* names padded to 8 bytes: the extension starts 8-aligned */
        memcpy(args + sizeof(in), with ? "in\0\0\0\0\0" : "out\0\0\0\0", 8);
        size_t len = sizeof(in) + 8;
        memcpy(args + len, &grp, sizeof(grp));
        call_build(&f, &c, FUSE_MKNOD, e.nodeid, args, len + (with ? sizeof(grp) : 0));
        struct fuse_in_header *h = (struct fuse_in_header *)c.in;
        h->uid = 1000;
        h->gid = 1000;
        h->total_extlen = with ? sizeof(grp) / 8 : 0;
        call_run(&f, &c);
        g_assert_cmpint(reply_error(&c), ==, 0);
        struct stat st;
        g_autofree char *p = g_strdup_printf("%s/%s", team, with ? "in" : "out");
        g_assert_cmpint(stat(p, &st), ==, 0);
        g_assert_cmpuint(st.st_gid, ==, 4242);
        g_assert_cmpint(!!(st.st_mode & S_ISGID), ==, with);
    }
    /* A groups record that lists none is malformed. */
    grp.g.nr = 0;
    memcpy(args, &(struct fuse_mkdir_in){ .mode = 0755 }, sizeof(struct fuse_mkdir_in));
    memcpy(args + 8, "bad", 4);
    memcpy(args + 12, &grp, sizeof(grp));
    call_build(&f, &c, FUSE_MKDIR, e.nodeid, args, 12 + sizeof(grp));
    ((struct fuse_in_header *)c.in)->total_extlen = sizeof(grp) / 8;
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, -EINVAL);
    fixture_teardown(&f);
}

static void test_open_kill_suidgid(void)
{
    /* Unprivileged, the host truncate drops the bits by itself. */
    if (geteuid() != 0) {
        g_test_skip("needs root");
        return;
    }
    struct fixture f;
    struct fp_config cfg = { .max_write = 1 << 20, .cache = PT_CACHE_AUTO,
                             .killpriv_v2 = true };
    fixture_setup_with(&f, &cfg);
    init_with(&f, 38, FUSE_HANDLE_KILLPRIV_V2);
    g_autofree char *p = g_strdup_printf("%s/s", f.dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fchmod(fd, 06755), ==, 0);
    close(fd);
    struct call c;
    call_build(&f, &c, FUSE_LOOKUP, 1, "s", 2);
    call_run(&f, &c);
    struct fuse_entry_out e;
    memcpy(&e, c.out + sizeof(struct fuse_out_header), sizeof(e));
    struct stat st;
    for (int kill = 0; kill < 2; kill++) {
        struct fuse_open_in in = { .flags = O_WRONLY | O_TRUNC,
                                   .open_flags = kill ? FUSE_OPEN_KILL_SUIDGID : 0 };
        g_assert_cmpint(simple(&f, FUSE_OPEN, e.nodeid, &in, sizeof(in)), ==, 0);
        g_assert_cmpint(stat(p, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, kill ? 0755 : 06755);
    }
    fixture_teardown(&f);
}

/* ---- locks, TMPFILE, IOCTL --------------------------------------------- */

/* Waits up to ms for a request answered from another thread; its count. */
static int call_wait(struct call *c, int ms)
{
    for (int i = 0; i < ms && !__atomic_load_n(&c->done_count, __ATOMIC_ACQUIRE); i++)
        g_usleep(1000);
    return __atomic_load_n(&c->done_count, __ATOMIC_ACQUIRE);
}

static uint64_t init_flags(struct fixture *f, uint32_t flags)
{
    struct fuse_init_in in = { .major = 7, .minor = 38, .max_readahead = 65536,
                               .flags = flags | FUSE_INIT_EXT };
    struct call c;
    call_build(f, &c, FUSE_INIT, 0, &in, sizeof(in));
    call_run(f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_init_out out;
    memcpy(&out, c.out + sizeof(struct fuse_out_header), sizeof(out));
    return out.flags;
}

/* CREATE of `name` in the root, open O_RDWR; returns the nodeid, *fh the handle. */
static uint64_t create(struct fixture *f, const char *name, uint64_t *fh)
{
    struct { struct fuse_create_in in; char name[16]; } cr = {
        { .flags = O_RDWR, .mode = S_IFREG | 0644 }, "" };
    strcpy(cr.name, name);
    struct call c;
    call_build(f, &c, FUSE_CREATE, 1, &cr, sizeof(cr.in) + strlen(name) + 1);
    call_run(f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    struct fuse_entry_out eo;
    struct fuse_open_out oo;
    memcpy(&eo, c.out + 16, sizeof(eo));
    memcpy(&oo, c.out + 16 + sizeof(eo), sizeof(oo));
    *fh = oo.fh;
    return eo.nodeid;
}

static struct fuse_lk_in lk_in(uint64_t fh, uint64_t owner, uint32_t type, uint64_t start,
                               uint64_t end, uint32_t pid, uint32_t lk_flags)
{
    return (struct fuse_lk_in){
        .fh = fh, .owner = owner, .lk_flags = lk_flags,
        .lk = { .start = start, .end = end, .type = type, .pid = pid },
    };
}

static void test_lock_decode(void)
{
    struct fixture f;
    struct fp_config fcfg = { .max_write = 1 << 20, .cache = PT_CACHE_AUTO, .posix_lock = true,
                              .flock = true };
    fixture_setup_with(&f, &fcfg);
    uint64_t got = init_flags(&f, FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS | FUSE_ASYNC_READ);
    g_assert_true(got & FUSE_POSIX_LOCKS);
    g_assert_true(got & FUSE_FLOCK_LOCKS);
    uint64_t fh;
    uint64_t n = create(&f, "f", &fh);
    struct fuse_lk_in in;
    struct call c;

    /* short: one byte less than fuse_lk_in */
    in = lk_in(fh, 1, F_WRLCK, 0, 9, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_GETLK, n, &in, sizeof(in) - 1), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in) - 1), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_SETLKW, n, &in, sizeof(in) - 1), ==, -EINVAL);
    /* bad type, bad range, flock has no GETLK */
    in = lk_in(fh, 1, 9, 0, 9, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, -EINVAL);
    in = lk_in(fh, 1, F_WRLCK, 9, 0, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_SETLKW, n, &in, sizeof(in)), ==, -EINVAL);
    in = lk_in(fh, 1, F_WRLCK, 0, INT64_MAX, 100, FUSE_LK_FLOCK);
    g_assert_cmpint(simple(&f, FUSE_GETLK, n, &in, sizeof(in)), ==, -EINVAL);

    /* good: owner 1 locks, owner 2 sees it and conflicts */
    in = lk_in(fh, 1, F_WRLCK, 0, 9, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, 0);
    in = lk_in(fh, 2, F_RDLCK, 5, 5, 200, 0);
    call_build(&f, &c, FUSE_GETLK, n, &in, sizeof(in));
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    g_assert_cmpuint(c.written, ==, sizeof(struct fuse_out_header) + sizeof(struct fuse_lk_out));
    struct fuse_lk_out lo;
    memcpy(&lo, c.out + sizeof(struct fuse_out_header), sizeof(lo));
    g_assert_cmpuint(lo.lk.type, ==, F_WRLCK);
    g_assert_cmpuint(lo.lk.start, ==, 0);
    g_assert_cmpuint(lo.lk.end, ==, 9);
    g_assert_cmpuint(lo.lk.pid, ==, 100);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, -EAGAIN);

    /* SETLKW that must wait: no answer yet, the session serves others */
    struct call *w = g_new0(struct call, 1);
    call_build(&f, w, FUSE_SETLKW, n, &in, sizeof(in));
    fp_dispatch(f.s, &w->req);
    uint64_t w_unique = f.unique - 1;
    struct fuse_getattr_in ga = { 0 };
    g_assert_cmpint(simple(&f, FUSE_GETATTR, n, &ga, sizeof(ga)), ==, 0);
    g_assert_cmpint(call_wait(w, 50), ==, 0);
    /* INTERRUPT: it gets no answer, the waiting one gets EINTR */
    struct fuse_interrupt_in ii = { .unique = w_unique };
    call_build(&f, &c, FUSE_INTERRUPT, 0, &ii, sizeof(ii));
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);
    g_assert_cmpint(call_wait(w, 5000), ==, 1);
    g_assert_cmpint(reply_error(w), ==, -EINTR);
    /* a short INTERRUPT: no answer either */
    call_build(&f, &c, FUSE_INTERRUPT, 0, &ii, 4);
    call_run(&f, &c);
    g_assert_cmpuint(c.written, ==, 0);

    /* waiting again; the holder unlocks: granted */
    call_build(&f, w, FUSE_SETLKW, n, &in, sizeof(in));
    fp_dispatch(f.s, &w->req);
    g_assert_cmpint(call_wait(w, 50), ==, 0);
    struct fuse_lk_in un = lk_in(fh, 1, F_UNLCK, 0, INT64_MAX, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &un, sizeof(un)), ==, 0);
    g_assert_cmpint(call_wait(w, 5000), ==, 1);
    g_assert_cmpint(reply_error(w), ==, 0);
    g_assert_cmpuint(w->written, ==, sizeof(struct fuse_out_header));

    /* flock: the handle is the owner */
    struct fuse_lk_in fl = lk_in(fh, fh, F_WRLCK, 0, INT64_MAX, 100, FUSE_LK_FLOCK);
    g_assert_cmpint(simple(&f, FUSE_SETLKW, n, &fl, sizeof(fl)), ==, 0);

    /* DESTROY ends a wait with EIO (owner 2 holds [5, 5] now) */
    in = lk_in(fh, 1, F_WRLCK, 0, 9, 100, 0);
    call_build(&f, w, FUSE_SETLKW, n, &in, sizeof(in));
    fp_dispatch(f.s, &w->req);
    g_assert_cmpint(call_wait(w, 50), ==, 0);
    g_assert_cmpint(simple(&f, FUSE_DESTROY, 0, NULL, 0), ==, 0);
    g_assert_cmpint(call_wait(w, 5000), ==, 1);
    g_assert_cmpint(reply_error(w), ==, -EIO);

    /* a new INIT on a live session (the guest rebooted) ends it with EIO */
    init_flags(&f, FUSE_POSIX_LOCKS);
    n = create(&f, "h", &fh);
    in = lk_in(fh, 1, F_WRLCK, 0, 0, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, 0);
    in.owner = 2;
    call_build(&f, w, FUSE_SETLKW, n, &in, sizeof(in));
    fp_dispatch(f.s, &w->req);
    g_assert_cmpint(call_wait(w, 50), ==, 0);
    init_flags(&f, FUSE_POSIX_LOCKS);
    g_assert_cmpint(call_wait(w, 5000), ==, 1);
    g_assert_cmpint(reply_error(w), ==, -EIO);

    /* and so does the end of the session */
    n = create(&f, "g", &fh);
    in = lk_in(fh, 1, F_WRLCK, 0, 0, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, 0);
    in.owner = 2;
    call_build(&f, w, FUSE_SETLKW, n, &in, sizeof(in));
    fp_dispatch(f.s, &w->req);
    g_assert_cmpint(call_wait(w, 50), ==, 0);
    fixture_teardown(&f);
    g_assert_cmpint(__atomic_load_n(&w->done_count, __ATOMIC_ACQUIRE), ==, 1);
    g_assert_cmpint(reply_error(w), ==, -EIO);
    g_free(w);
}

static void test_lock_not_offered(void)
{
    struct fixture f;
    fixture_setup(&f);
    uint64_t got = init_flags(&f, FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS);
    g_assert_false(got & (FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS));
    uint64_t fh;
    uint64_t n = create(&f, "f", &fh);
    struct fuse_lk_in in = lk_in(fh, 1, F_WRLCK, 0, 9, 100, 0);
    g_assert_cmpint(simple(&f, FUSE_GETLK, n, &in, sizeof(in)), ==, -ENOSYS);
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, -ENOSYS);
    g_assert_cmpint(simple(&f, FUSE_SETLKW, n, &in, sizeof(in)), ==, -ENOSYS);
    in.lk_flags = FUSE_LK_FLOCK;
    g_assert_cmpint(simple(&f, FUSE_SETLK, n, &in, sizeof(in)), ==, -ENOSYS);
    fixture_teardown(&f);
}

static void test_interrupt_unknown(void)
{
    struct fixture f;
    fixture_setup(&f);
    do_init(&f);
    /* not found: after a while, EAGAIN so the kernel may send it again */
    struct fuse_interrupt_in ii = { .unique = 12345 };
    struct call *c = g_new0(struct call, 1);
    call_build(&f, c, FUSE_INTERRUPT, 0, &ii, sizeof(ii));
    fp_dispatch(f.s, &c->req);
    g_assert_cmpint(call_wait(c, 5000), ==, 1);
    g_assert_cmpint(reply_error(c), ==, -EAGAIN);
    struct fuse_out_header h;
    memcpy(&h, c->out, sizeof(h));
    g_assert_cmpuint(h.unique, ==, f.unique - 1); /* the INTERRUPT's own unique */
    g_free(c);
    fixture_teardown(&f);
}

static void test_tmpfile_decode(void)
{
    struct fixture f;
    struct call c;
    fixture_setup(&f);
    do_init(&f);
    struct { struct fuse_create_in in; char name[300]; } tf = {
        { .flags = O_RDWR, .mode = S_IFREG | 0600 }, "/" };

    /* short, unterminated, too long */
    g_assert_cmpint(simple(&f, FUSE_TMPFILE, 1, &tf, sizeof(tf.in) - 1), ==, -EINVAL);
    g_assert_cmpint(simple(&f, FUSE_TMPFILE, 1, &tf, sizeof(tf.in) + 1), ==, -EINVAL);
    memset(tf.name, 'x', 260);
    tf.name[260] = '\0';
    g_assert_cmpint(simple(&f, FUSE_TMPFILE, 1, &tf, sizeof(tf.in) + 261), ==, -ENAMETOOLONG);
    /* good: the reply is CREATE's, an unnamed file */
    strcpy(tf.name, "/");
    call_build(&f, &c, FUSE_TMPFILE, 1, &tf, sizeof(tf.in) + 2);
    call_run(&f, &c);
    g_assert_cmpint(reply_error(&c), ==, 0);
    g_assert_cmpuint(c.written, ==, sizeof(struct fuse_out_header) + sizeof(struct fuse_entry_out) +
                                        sizeof(struct fuse_open_out));
    struct fuse_entry_out eo;
    memcpy(&eo, c.out + 16, sizeof(eo));
    g_assert_cmpuint(eo.attr.nlink, ==, 0);
    g_assert_cmpuint(eo.attr.mode, ==, S_IFREG | 0600);
    /* which LINK then names */
    struct { struct fuse_link_in in; char name[8]; } ln = { { .oldnodeid = eo.nodeid }, "t" };
    g_assert_cmpint(simple(&f, FUSE_LINK, 1, &ln, sizeof(ln.in) + 2), ==, 0);
    g_autofree char *p = g_strdup_printf("%s/t", f.dir);
    struct stat st;
    g_assert_cmpint(stat(p, &st), ==, 0);
    g_assert_cmpuint(st.st_ino, ==, eo.attr.ino);
    fixture_teardown(&f);
}

static void test_ioctl_decode(void)
{
    struct fixture f;
    fixture_setup(&f);
    do_init(&f);
    uint64_t fh;
    uint64_t n = create(&f, "f", &fh);
    struct { struct fuse_ioctl_in in; uint32_t data; } io = {
        { .fh = fh, .cmd = 0x40086602, .in_size = 4 }, 0 };
    g_assert_cmpint(simple(&f, FUSE_IOCTL, n, &io, sizeof(io)), ==, -ENOSYS);
    g_assert_cmpint(simple(&f, FUSE_IOCTL, n, &io, sizeof(io.in) - 1), ==, -EINVAL);
    /* in_size claims more than came */
    g_assert_cmpint(simple(&f, FUSE_IOCTL, n, &io, sizeof(io.in) + 2), ==, -EINVAL);
    /* POLL and BMAP have no implementation */
    struct fuse_poll_in pl = { .fh = fh };
    g_assert_cmpint(simple(&f, FUSE_POLL, n, &pl, sizeof(pl)), ==, -ENOSYS);
    struct fuse_bmap_in bm = { .blocksize = 4096 };
    g_assert_cmpint(simple(&f, FUSE_BMAP, n, &bm, sizeof(bm)), ==, -ENOSYS);
    fixture_teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fuse/init", test_init);
    g_test_add_func("/fuse/header_errors", test_header_errors);
    g_test_add_func("/fuse/name_validation", test_name_validation);
    g_test_add_func("/fuse/write_read_and_payload_checks", test_write_read_and_payload_checks);
    g_test_add_func("/fuse/entry_reply_too_small_forgets", test_entry_reply_too_small_forgets);
    g_test_add_func("/fuse/forget_and_xattr_checks", test_forget_and_xattr_checks);
    g_test_add_func("/fuse/oversized_args", test_oversized_args);
    g_test_add_func("/fuse/init_security_flags", test_init_security_flags);
    g_test_add_func("/fuse/security_context_extension", test_security_context_extension);
    g_test_add_func("/fuse/supp_group_extension", test_supp_group_extension);
    g_test_add_func("/fuse/open_kill_suidgid", test_open_kill_suidgid);
    g_test_add_func("/fuse/lock_decode", test_lock_decode);
    g_test_add_func("/fuse/lock_not_offered", test_lock_not_offered);
    g_test_add_func("/fuse/interrupt_unknown", test_interrupt_unknown);
    g_test_add_func("/fuse/tmpfile_decode", test_tmpfile_decode);
    g_test_add_func("/fuse/ioctl_decode", test_ioctl_decode);
    return g_test_run();
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz target: the FUSE engine (fuse/) on a real passthrough filesystem.
 *
 * Each input gets a fresh filesystem object and session over a shared
 * directory that is emptied and refilled with the same few entries first,
 * so a run depends on its input only. The input chooses the configuration
 * and the INIT flags, then a sequence of requests (fuzz_fuse_format.h).
 *
 * Every request is laid out the way a transport could hand it over: the
 * readable and writable sides cut into separately allocated iovecs of the
 * exact size, so any read or write past a piece is an ASan report. After
 * each request the target checks what the engine promises: exactly one
 * completion, a reply header that matches what was written, the reply
 * size each opcode defines, and the caller's credentials restored. At the
 * end it checks that DESTROY leaves only the root inode and no handle, and
 * that no file descriptor leaked.
 *
 * Sizes that would only cost the host disk or memory are bounded here, not
 * in the engine: files are limited to FILE_LIMIT (RLIMIT_FSIZE) and
 * FALLOCATE and COPY_FILE_RANGE lengths are clamped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fuse/session.h"
#include "passthrough/passthrough.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_fuse_format.h"

#define FILE_LIMIT (1u << 20)     /* bytes per file (RLIMIT_FSIZE) */
#define FALLOCATE_SPAN (1u << 20) /* offsets are taken modulo this */
#define LENGTH_LIMIT (1u << 16)   /* FALLOCATE / COPY_FILE_RANGE lengths */
#define KNOWN_MAX 32
#define MAX_PIECES 160
#define IN_HEADER_LEN ((uint32_t)sizeof(struct fuse_in_header))
#define OUT_HEADER_LEN ((uint32_t)sizeof(struct fuse_out_header))

/* Ids learnt from replies during one input. */
struct known {
    uint64_t ids[KNOWN_MAX];
    unsigned count;
    unsigned next;            /* slot replaced once full */
};

struct state {
    struct pt_fs *fs;
    struct fp_session *s;
    struct known nodes;
    struct known fhs;
    uint64_t unique;
};

/* One request as the transport hands it over. */
struct call {
    struct req req;           /* first: on_done() casts back */
    _Atomic unsigned done;    /* may complete on another thread (INTERRUPT) */
    _Atomic uint32_t written;
};

struct pieces {
    struct iovec iov[MAX_PIECES];
    unsigned cnt;
    size_t total;
};

static char share_path[PATH_MAX];
static int share_fd = -1;
static bool trace;                /* VFSD_FUZZ_TRACE: one line per request */

/* ---- the shared directory ------------------------------------------------ */

/* Deeper directories are moved up to the top, so removal needs few fds. */
#define WIPE_MAX_DEPTH 16

/* Removes the entries of directory fd; returns whether it saw any. */
static bool empty_dir(int fd, unsigned depth)
{
    static unsigned moved;
    /* A new open file, not a dup: a dup would share the directory offset. */
    int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    bool any = false;
    struct dirent *e;

    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return false;
    }
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        any = true;
        if (unlinkat(fd, e->d_name, 0) == 0 || errno != EISDIR)
            continue;
        if (depth >= WIPE_MAX_DEPTH) {
            char name[32];
            snprintf(name, sizeof(name), ".deep%u", moved++);
            renameat(fd, e->d_name, share_fd, name);
            continue;
        }
        /* A directory the guest made unreadable (matters when not root). */
        fchmodat(fd, e->d_name, 0700, 0);
        int sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
            while (empty_dir(sub, depth + 1))
                ;
            close(sub);
        }
        unlinkat(fd, e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
    return any;
}

/* Back to the same state before every input: empty, then a few entries. */
static void reset_share(void)
{
    char names[4096];

    for (unsigned pass = 0; pass < 1000 && empty_dir(share_fd, 0); pass++)
        ;
    fchmod(share_fd, 0755);
    if (fchown(share_fd, geteuid(), getegid()) < 0) {
        /* not root: nothing a request could have changed either */
    }
    ssize_t n = flistxattr(share_fd, names, sizeof(names));
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1)
        fremovexattr(share_fd, names + off);

    int f = openat(share_fd, "file", O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    if (f >= 0) {
        static const char text[] = "hello, world\n";
        if (write(f, text, sizeof(text) - 1) < 0) {
            /* the entry exists; its content matters little */
        }
        fsetxattr(f, "user.fuzz", "1", 1, 0);
        close(f);
    }
    mkdirat(share_fd, "dir", 0755);
    int d = openat(share_fd, "dir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d >= 0) {
        f = openat(d, "inner", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (f >= 0)
            close(f);
        mkdirat(d, "sub", 0700);
        close(d);
    }
    symlinkat("file", share_fd, "link");
    mknodat(share_fd, "fifo", S_IFIFO | 0644, 0);
}

static void remove_share(void)
{
    if (share_fd < 0)
        return;
    for (unsigned pass = 0; pass < 1000 && empty_dir(share_fd, 0); pass++)
        ;
    close(share_fd);
    share_fd = -1;
    rmdir(share_path);
}

/* Where libFuzzer's relative paths point: xattr calls move the cwd. */
static int start_cwd = -1;

static void setup_once(void)
{
    const char *base = getenv("VFSD_FUZZ_DIR");
    struct rlimit rl;

    start_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    FUZZ_CHECK(start_cwd >= 0, "open .: %s", strerror(errno));

    fuzz_setup_logs();
    trace = getenv("VFSD_FUZZ_TRACE") != NULL;
    /* Writes past FILE_LIMIT fail with EFBIG instead of killing us. */
    signal(SIGXFSZ, SIG_IGN);
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur > FILE_LIMIT) {
        rl.rlim_cur = FILE_LIMIT;
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    /* tmpfs preferred: SYNCFS and FSYNC stay cheap and touch no disk. */
    if (!base)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    if (!base)
        base = "/tmp";
    snprintf(share_path, sizeof(share_path), "%s/vfsd-fuzz-XXXXXX", base);
    FUZZ_CHECK(mkdtemp(share_path) != NULL, "mkdtemp %s: %s", share_path, strerror(errno));
    share_fd = open(share_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    FUZZ_CHECK(share_fd >= 0, "open %s: %s", share_path, strerror(errno));
    atexit(remove_share);
}

/* ---- ids ------------------------------------------------------------------- */

static void known_add(struct known *k, uint64_t id)
{
    for (unsigned i = 0; i < k->count; i++)
        if (k->ids[i] == id)
            return;
    if (k->count < KNOWN_MAX)
        k->ids[k->count++] = id;
    else
        k->ids[k->next++ % KNOWN_MAX] = id;
}

static uint64_t known_pick(const struct known *k, uint8_t sel, uint64_t raw)
{
    switch (sel) {
    case FFZ_SEL_RAW:
        return raw;
    case FFZ_SEL_ALL_ONES:
        return UINT64_MAX;
    case FFZ_SEL_STALE:
        return (k->count ? k->ids[0] : 1) + (1ull << 32);
    case FFZ_SEL_FAR:
        return 0x7fffffffull;
    default:
        return k->count ? k->ids[sel % k->count] : raw;
    }
}

static void patch_id(uint8_t *args, size_t len, size_t off, const struct known *k, uint8_t sel)
{
    uint64_t v;
    if (off + sizeof(v) > len)
        return;
    memcpy(&v, args + off, sizeof(v));
    v = known_pick(k, sel, v);
    memcpy(args + off, &v, sizeof(v));
}

/* Offset of the file handle in an opcode's fixed arguments, or -1. */
static long fh_offset(uint32_t opcode)
{
    switch (opcode) {
    case FUSE_GETATTR: return (long)offsetof(struct fuse_getattr_in, fh);
    case FUSE_SETATTR: return (long)offsetof(struct fuse_setattr_in, fh);
    case FUSE_READ: case FUSE_READDIR: case FUSE_READDIRPLUS:
        return (long)offsetof(struct fuse_read_in, fh);
    case FUSE_WRITE: return (long)offsetof(struct fuse_write_in, fh);
    case FUSE_RELEASE: case FUSE_RELEASEDIR: return (long)offsetof(struct fuse_release_in, fh);
    case FUSE_FLUSH: return (long)offsetof(struct fuse_flush_in, fh);
    case FUSE_FSYNC: case FUSE_FSYNCDIR: return (long)offsetof(struct fuse_fsync_in, fh);
    case FUSE_FALLOCATE: return (long)offsetof(struct fuse_fallocate_in, fh);
    case FUSE_LSEEK: return (long)offsetof(struct fuse_lseek_in, fh);
    case FUSE_COPY_FILE_RANGE: return (long)offsetof(struct fuse_copy_file_range_in, fh_in);
    default: return -1;
    }
}

static void patch_ids(struct state *st, uint32_t opcode, const struct ffz_record *rec,
                      uint8_t *args, size_t len)
{
    long off = fh_offset(opcode);
    if (off >= 0 && st->fhs.count)
        patch_id(args, len, (size_t)off, &st->fhs, rec->fh);
    switch (opcode) {
    case FUSE_LINK:
        patch_id(args, len, offsetof(struct fuse_link_in, oldnodeid), &st->nodes, rec->aux);
        break;
    case FUSE_RENAME:
        patch_id(args, len, offsetof(struct fuse_rename_in, newdir), &st->nodes, rec->aux);
        break;
    case FUSE_RENAME2:
        patch_id(args, len, offsetof(struct fuse_rename2_in, newdir), &st->nodes, rec->aux);
        break;
    case FUSE_COPY_FILE_RANGE:
        if (st->fhs.count)
            patch_id(args, len, offsetof(struct fuse_copy_file_range_in, fh_out), &st->fhs,
                     rec->aux);
        break;
    default:
        break;
    }
}

/* Bounds what would only cost host disk or memory (see the file comment). */
static void clamp_sizes(uint32_t opcode, uint8_t *args, size_t len)
{
    if (opcode == FUSE_FALLOCATE && len >= sizeof(struct fuse_fallocate_in)) {
        struct fuse_fallocate_in in;
        memcpy(&in, args, sizeof(in));
        /* Out-of-range values stay: the engine must refuse them itself. */
        if (in.offset <= (uint64_t)INT64_MAX && in.length <= (uint64_t)INT64_MAX) {
            in.offset %= FALLOCATE_SPAN;
            in.length %= LENGTH_LIMIT + 1u;
        }
        memcpy(args, &in, sizeof(in));
    } else if (opcode == FUSE_COPY_FILE_RANGE && len >= sizeof(struct fuse_copy_file_range_in)) {
        struct fuse_copy_file_range_in in;
        memcpy(&in, args, sizeof(in));
        in.len %= LENGTH_LIMIT + 1u;
        memcpy(args, &in, sizeof(in));
    }
}

/* ---- laying out a request --------------------------------------------------- */

static void pieces_add(struct pieces *p, const uint8_t *src, size_t len)
{
    FUZZ_CHECK(p->cnt < MAX_PIECES, "too many pieces");
    /* Exact size (malloc(0) for an empty piece): ASan sees any overrun. */
    void *buf = malloc(len);
    FUZZ_CHECK(buf || !len, "out of memory");
    if (src && len)
        memcpy(buf, src, len);
    else if (len)
        memset(buf, 0xa5, len);
    p->iov[p->cnt++] = (struct iovec){ buf, len };
    p->total += len;
}

/*
 * Cuts len bytes (copied from src, or filled with a pattern for the
 * writable side) into pieces: `first` bytes as one piece (header mode),
 * or the first `count` pieces of `step` bytes, then the rest.
 */
static void pieces_cut(struct pieces *p, const uint8_t *src, size_t len, size_t step,
                       unsigned count, bool empties)
{
    size_t off = 0;
    p->cnt = 0;
    p->total = 0;
    for (unsigned i = 0; i < count && off < len; i++) {
        size_t n = len - off < step ? len - off : step;
        pieces_add(p, src ? src + off : NULL, n);
        if (empties)
            pieces_add(p, NULL, 0);
        off += n;
    }
    if (off < len) {
        pieces_add(p, src ? src + off : NULL, len - off);
        if (empties)
            pieces_add(p, NULL, 0);
    }
}

static void pieces_layout(struct pieces *p, const uint8_t *src, size_t len, unsigned mode,
                          bool out, bool empties)
{
    switch (mode) {
    case FFZ_IN_HEADER: /* == FFZ_OUT_HEADER */
        pieces_cut(p, src, len, out ? OUT_HEADER_LEN : IN_HEADER_LEN, 1, empties);
        break;
    case FFZ_IN_BYTES: /* == FFZ_OUT_BYTES */
        pieces_cut(p, src, len, 1, out ? 48 : 64, empties);
        break;
    case FFZ_IN_FIVES: /* == FFZ_OUT_CHUNKS */
        pieces_cut(p, src, len, out ? 24 : 5, 32, empties);
        break;
    default:
        pieces_cut(p, src, len, len, 1, empties);
        break;
    }
}

static void pieces_free(struct pieces *p)
{
    for (unsigned i = 0; i < p->cnt; i++)
        free(p->iov[i].iov_base);
    p->cnt = 0;
}

/* Copies the first len bytes of the writable side out. */
static void pieces_gather(const struct pieces *p, uint8_t *dst, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < p->cnt && done < len; i++) {
        size_t n = p->iov[i].iov_len < len - done ? p->iov[i].iov_len : len - done;
        memcpy(dst + done, p->iov[i].iov_base, n);
        done += n;
    }
}

static void on_done(struct req *req, uint32_t written)
{
    struct call *c = (struct call *)req;
    c->written = written;
    c->done++;
}

/* ---- checking a reply -------------------------------------------------------- */

static bool gets_no_reply(uint32_t opcode)
{
    return opcode == FUSE_FORGET || opcode == FUSE_BATCH_FORGET;
}

/*
 * An INTERRUPT whose target is not waiting parks for a moment on its own
 * thread and then answers EAGAIN (the kernel may send it again); one that
 * found its target gets no answer. Either way it completes exactly once.
 */
static void wait_done(struct call *c, uint32_t opcode)
{
    if (opcode != FUSE_INTERRUPT)
        return;
    for (int ms = 0; ms < 5000 && c->done == 0; ms++)
        usleep(1000);
}

/* The `size` field a READ/READDIR/GETXATTR request asked for, 0 if absent. */
static uint32_t asked_size(uint32_t opcode, const uint8_t *args, size_t len)
{
    uint32_t v = 0;
    size_t off;
    switch (opcode) {
    case FUSE_READ: case FUSE_READDIR: case FUSE_READDIRPLUS:
        off = offsetof(struct fuse_read_in, size);
        break;
    case FUSE_GETXATTR: case FUSE_LISTXATTR:
        off = offsetof(struct fuse_getxattr_in, size);
        break;
    default:
        return 0;
    }
    if (off + sizeof(v) <= len)
        memcpy(&v, args + off, sizeof(v));
    return v;
}

/* Walks a READDIR(PLUS) payload; learns the nodeids READDIRPLUS looked up. */
static void check_dirents(struct state *st, const uint8_t *p, size_t len, bool plus)
{
    size_t off = 0;
    size_t head = plus ? sizeof(struct fuse_entry_out) : 0;
    while (off < len) {
        struct fuse_dirent de;
        FUZZ_CHECK(len - off >= head + FUSE_NAME_OFFSET, "dirent header cut at %zu of %zu",
                   off, len);
        memcpy(&de, p + off + head, FUSE_NAME_OFFSET);
        FUZZ_CHECK(de.namelen >= 1 && de.namelen <= NAME_MAX, "dirent namelen %u",
                   de.namelen);
        size_t rec = head + FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + de.namelen);
        FUZZ_CHECK(len - off >= rec, "dirent of %zu bytes at %zu of %zu", rec, off, len);
        FUZZ_CHECK(memchr(p + off + head + FUSE_NAME_OFFSET, '/', de.namelen) == NULL,
                   "dirent name with a slash");
        if (plus) {
            struct fuse_entry_out e;
            memcpy(&e, p + off, sizeof(e));
            if (e.nodeid)
                known_add(&st->nodes, e.nodeid);
        }
        off += rec;
    }
}

static void check_reply(struct state *st, uint32_t opcode, uint64_t unique, size_t in_len,
                        const uint8_t *args, size_t arglen, const struct pieces *out,
                        const struct call *c)
{
    uint32_t written = c->written;

    FUZZ_CHECK(c->done == 1, "opcode %u completed %u times", opcode, c->done);
    FUZZ_CHECK(written <= out->total, "opcode %u wrote %u of %zu bytes", opcode, written,
               out->total);
    if (gets_no_reply(opcode) || in_len < IN_HEADER_LEN)
        FUZZ_CHECK(written == 0, "opcode %u got a %u-byte reply", opcode, written);
    if (written == 0) {
        if (trace)
            fprintf(stderr, "  -> no reply\n");
        /* Only requests without a header or without room go unanswered. */
        FUZZ_CHECK(gets_no_reply(opcode) || opcode == FUSE_INTERRUPT || in_len < IN_HEADER_LEN ||
                   out->total < OUT_HEADER_LEN,
                   "opcode %u got no reply with %zu bytes of room", opcode, out->total);
        return;
    }
    FUZZ_CHECK(written >= OUT_HEADER_LEN, "opcode %u: %u-byte reply", opcode, written);

    uint8_t *reply = malloc(written);
    FUZZ_CHECK(reply, "out of memory");
    pieces_gather(out, reply, written);
    struct fuse_out_header oh;
    memcpy(&oh, reply, sizeof(oh));
    FUZZ_CHECK(oh.len == written, "opcode %u: header len %u, completed with %u", opcode,
               oh.len, written);
    FUZZ_CHECK(oh.unique == unique, "opcode %u: unique %llu for %llu", opcode,
               (unsigned long long)oh.unique, (unsigned long long)unique);
    FUZZ_CHECK(oh.error <= 0 && oh.error >= -4095, "opcode %u: error %d", opcode, oh.error);
    if (trace)
        fprintf(stderr, "  -> error %d, %u bytes\n", oh.error, written);
    if (oh.error) {
        FUZZ_CHECK(written == OUT_HEADER_LEN, "opcode %u: error %d with a payload", opcode,
                   oh.error);
        free(reply);
        return;
    }

    const uint8_t *p = reply + OUT_HEADER_LEN;
    size_t n = written - OUT_HEADER_LEN;
    size_t want = SIZE_MAX;
    uint32_t asked = asked_size(opcode, args, arglen);
    switch (opcode) {
    case FUSE_LOOKUP: case FUSE_MKNOD: case FUSE_MKDIR: case FUSE_SYMLINK: case FUSE_LINK: {
        struct fuse_entry_out e;
        want = sizeof(e);
        if (n == sizeof(e)) {
            memcpy(&e, p, sizeof(e));
            if (e.nodeid)
                known_add(&st->nodes, e.nodeid);
        }
        break;
    }
    case FUSE_CREATE: case FUSE_TMPFILE: {
        struct fuse_entry_out e;
        struct fuse_open_out o;
        want = sizeof(e) + sizeof(o);
        if (n == want) {
            memcpy(&e, p, sizeof(e));
            memcpy(&o, p + sizeof(e), sizeof(o));
            FUZZ_CHECK(e.nodeid != 0, "opcode %u without a nodeid", opcode);
            known_add(&st->nodes, e.nodeid);
            known_add(&st->fhs, o.fh);
        }
        break;
    }
    case FUSE_OPEN: case FUSE_OPENDIR: {
        struct fuse_open_out o;
        want = sizeof(o);
        if (n == want) {
            memcpy(&o, p, sizeof(o));
            known_add(&st->fhs, o.fh);
        }
        break;
    }
    case FUSE_GETATTR: case FUSE_SETATTR: want = sizeof(struct fuse_attr_out); break;
    case FUSE_INIT: want = sizeof(struct fuse_init_out); break;
    case FUSE_STATFS: want = sizeof(struct fuse_statfs_out); break;
    case FUSE_WRITE: case FUSE_COPY_FILE_RANGE: want = sizeof(struct fuse_write_out); break;
    case FUSE_LSEEK: want = sizeof(struct fuse_lseek_out); break;
    case FUSE_GETXATTR: case FUSE_LISTXATTR:
        if (asked == 0)
            want = sizeof(struct fuse_getxattr_out);
        else
            FUZZ_CHECK(n <= asked, "opcode %u: %zu bytes for %u asked", opcode, n, asked);
        break;
    case FUSE_READ:
        FUZZ_CHECK(n <= asked, "READ: %zu bytes for %u asked", n, asked);
        break;
    case FUSE_READDIR: case FUSE_READDIRPLUS:
        FUZZ_CHECK(n <= asked, "opcode %u: %zu bytes for %u asked", opcode, n, asked);
        check_dirents(st, p, n, opcode == FUSE_READDIRPLUS);
        break;
    case FUSE_READLINK:
        FUZZ_CHECK(n > 0 && n < PATH_MAX, "READLINK of %zu bytes", n);
        break;
    default:
        want = 0; /* everything else answers with the header alone */
        break;
    }
    if (want != SIZE_MAX)
        FUZZ_CHECK(n == want, "opcode %u: %zu-byte payload, expected %zu", opcode, n, want);
    free(reply);
}

/* ---- running a request ---------------------------------------------------------- */

static void run_request(struct state *st, uint32_t opcode, uint64_t nodeid, uint32_t flags,
                        const uint8_t *args, size_t arglen, uint8_t shape, bool raw_len,
                        uint32_t len_field)
{
    static const uint32_t out_sizes[] = FFZ_OUT_SIZES;
    size_t in_len = IN_HEADER_LEN + arglen;
    uint8_t *in = malloc(in_len);
    struct fuse_in_header h = {
        .len = raw_len ? len_field : (uint32_t)in_len,
        .opcode = opcode,
        .unique = ++st->unique,
        .nodeid = nodeid,
        .uid = (flags & FFZ_REC_USER) ? 1000 : 0,
        .gid = (flags & FFZ_REC_USER) ? 1000 : 0,
        .pid = 4242,
    };
    struct pieces pin, pout;
    struct call c;

    FUZZ_CHECK(in, "out of memory");
    memcpy(in, &h, sizeof(h));
    if (arglen)
        memcpy(in + IN_HEADER_LEN, args, arglen);
    bool empties = shape & FFZ_SHAPE_EMPTIES;
    /* What the transport delivers may end before the header does. */
    size_t in_sent = (flags & FFZ_REC_TRUNCATE) ? arglen : in_len;
    pieces_layout(&pin, in, in_sent, shape & 3u, false, empties);
    pieces_layout(&pout, NULL, out_sizes[(shape >> 2) & 7u], (shape >> 5) & 3u, true, empties);

    memset(&c, 0, sizeof(c));
    c.req.in = pin.iov;
    c.req.in_cnt = pin.cnt;
    c.req.out = pout.iov;
    c.req.out_cnt = pout.cnt;
    c.req.done = on_done;
    if (trace)
        fprintf(stderr, "request %llu: opcode %u nodeid %llu, %zu argument bytes\n",
                (unsigned long long)h.unique, opcode, (unsigned long long)nodeid, arglen);
    fp_dispatch(st->s, &c.req);
    wait_done(&c, opcode);

    check_reply(st, opcode, h.unique, in_sent, in + IN_HEADER_LEN, arglen, &pout, &c);
    /* Creating calls switch the thread's fs ids; they must be back. */
    FUZZ_CHECK(setfsuid((uid_t)-1) == (int)geteuid(), "fs uid left switched");
    FUZZ_CHECK(setfsgid((gid_t)-1) == (int)getegid(), "fs gid left switched");
    pieces_free(&pin);
    pieces_free(&pout);
    free(in);
}

static void run_record(struct state *st, const struct ffz_record *rec, const uint8_t *data,
                       size_t len)
{
    uint32_t opcode = rec->opcode | ((rec->flags & FFZ_REC_OPCODE_HIGH) ? 0x80000000u : 0);
    bool raw_len = (rec->flags & FFZ_REC_RAW_LEN) && len >= 4;
    uint32_t len_field = 0;

    if (raw_len) {
        len_field = fuzz_le32(data);
        data += 4;
        len -= 4;
    }
    /* A private copy: ids are patched in and sizes clamped. */
    uint8_t *args = malloc(len ? len : 1);
    FUZZ_CHECK(args, "out of memory");
    if (len)
        memcpy(args, data, len);
    patch_ids(st, opcode, rec, args, len);
    clamp_sizes(opcode, args, len);
    uint64_t nodeid = rec->node == FFZ_SEL_RAW ? 0 : known_pick(&st->nodes, rec->node, 0);
    run_request(st, opcode, nodeid, rec->flags, args, len, rec->shape, raw_len, len_field);
    free(args);
}

static void send_init(struct state *st, uint32_t guest_flags)
{
    struct fuse_init_in in = {
        .major = FUSE_KERNEL_VERSION,
        .minor = FUSE_KERNEL_MINOR_VERSION,
        .max_readahead = 128 * 1024,
        .flags = guest_flags,
    };
    run_request(st, FUSE_INIT, 0, 0, (const uint8_t *)&in, sizeof(in),
                FFZ_SHAPE(FFZ_IN_WHOLE, FFZ_OUT_4K, FFZ_OUT_WHOLE, false), false, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct ffz_setup setup = {
        .config = FFZ_CFG_XATTR | FFZ_CFG_READDIRPLUS | (PT_CACHE_AUTO << FFZ_CFG_CACHE_SHIFT),
        .init_flags = { 0xff, 0xff, 0xff, 0xff },
    };
    struct state st;
    struct pt_counts counts;

    if (!ready) {
        setup_once();
        ready = true;
    }
    int fds_before = fuzz_count_fds();
    reset_share();

    if (size >= sizeof(setup)) {
        memcpy(&setup, data, sizeof(setup));
        data += sizeof(setup);
        size -= sizeof(setup);
    }
    enum pt_cache cache = (enum pt_cache)((setup.config >> FFZ_CFG_CACHE_SHIFT) & 3u);
    struct pt_config cfg = {
        .shared_dir = share_path,
        .cache = cache,
        .timeout = -1,
        .xattr = setup.config & FFZ_CFG_XATTR,
        .allow_direct_io = setup.config & FFZ_CFG_DIRECT_IO,
        .readonly = setup.config & FFZ_CFG_READONLY,
        .announce_submounts = setup.config & FFZ_CFG_SUBMOUNTS,
    };
    struct fp_config fcfg = {
        .max_write = 1u << 20,
        .readdirplus = setup.config & FFZ_CFG_READDIRPLUS,
        .writeback = setup.config & FFZ_CFG_WRITEBACK,
        .announce_submounts = setup.config & FFZ_CFG_SUBMOUNTS,
        .cache = cache,
    };

    memset(&st, 0, sizeof(st));
    FUZZ_CHECK(pt_fs_new(&cfg, &st.fs) == 0, "pt_fs_new %s", share_path);
    FUZZ_CHECK(fp_session_new(&fcfg, st.fs, &st.s) == 0, "fp_session_new");
    known_add(&st.nodes, PT_ROOT_ID);
    send_init(&st, fuzz_le32(setup.init_flags));

    while (size >= sizeof(struct ffz_record)) {
        struct ffz_record rec;
        memcpy(&rec, data, sizeof(rec));
        data += sizeof(rec);
        size -= sizeof(rec);
        size_t arglen = fuzz_le16(rec.arglen);
        if (arglen > size)
            arglen = size;
        run_record(&st, &rec, data, arglen);
        data += arglen;
        size -= arglen;
    }

    /* What DESTROY promises: nothing but the root survives. */
    pt_destroy(st.fs);
    pt_get_counts(st.fs, &counts);
    FUZZ_CHECK(counts.inodes == 1 && counts.handles == 0,
               "after DESTROY: %llu inodes, %llu handles", (unsigned long long)counts.inodes,
               (unsigned long long)counts.handles);
    fp_session_free(st.s);
    pt_fs_free(st.fs);
    /* The daemon parks its cwd at the shared root between path-form calls. */
    FUZZ_CHECK(fchdir(start_cwd) == 0, "fchdir: %s", strerror(errno));
    int fds_after = fuzz_count_fds();
    FUZZ_CHECK(fds_after == fds_before, "%d file descriptors before, %d after", fds_before,
               fds_after);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Record locks, flock and INTERRUPT through a real virtqueue: conflicts
 * between lock owners, GETLK naming the holder, a SETLKW that waits while
 * its queue goes on serving, and everything that must end such a wait
 * (the holder unlocking, INTERRUPT, a queue stop, DESTROY). The host's own
 * view of the locks is checked with fcntl() and flock() on the shared file.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "tests/integration/fixture.h"

#define ROOT FUSE_ROOT_ID
#define EOF_ INT64_MAX  /* OFFSET_MAX: a lock to the end of the file */

/* Two guest processes: their lock owners and pids. */
#define OWNER_A 0xa11ce0000001ull
#define OWNER_B 0xb0b000000002ull
#define OWNER_C 0xc0c000000003ull
#define PID_A 1111
#define PID_B 2222

static const char *const lock_args[] = { "-o", "posix_lock", "-o", "flock", NULL };
static const struct fx_variant locks = {
    .daemon_args = lock_args,
    .init_flags = FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS,
};
static const struct fx_variant locks_off = {
    .init_flags = FUSE_POSIX_LOCKS | FUSE_FLOCK_LOCKS,
};

/*
 * QEMU's C virtiofsd, when it runs these as a reference, fails every GETLK
 * with EINVAL (it hands the guest's pid to F_OFD_GETLK, which wants 0),
 * refuses a lock that must wait with EOPNOTSUPP, and never answers an
 * INTERRUPT: there is nothing to compare.
 */
static bool skip_reference(void)
{
    if (!fx_daemon_is_qemu)
        return false;
    g_test_skip("QEMU's C virtiofsd has no usable GETLK, SETLKW or INTERRUPT");
    return true;
}

static struct fuse_file_lock lk(uint32_t type, uint64_t start, uint64_t end, uint32_t pid)
{
    return (struct fuse_file_lock){ .start = start, .end = end, .type = type, .pid = pid };
}

/* A file "f" with 4 KiB of data, and one handle on it per owner. */
static uint64_t setup_file(struct fx *f, uint64_t *fh, unsigned nfh)
{
    char data[4096];
    memset(data, 'x', sizeof(data));
    fx_write_file(f, "f", data, sizeof(data), 0644);
    uint64_t n = fx_lookup(f, ROOT, "f", NULL);
    for (unsigned i = 0; i < nfh; i++) {
        struct fuse_open_out o;
        g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDWR, &o), ==, 0);
        fh[i] = o.fh;
    }
    return n;
}

static int setlk(struct fx *f, uint64_t n, uint64_t fh, uint64_t owner, struct fuse_file_lock l)
{
    return tc_fuse_setlk(f->dev, n, fh, owner, &l, 0, false);
}

/* The host's view: a classic F_GETLK from this test process. */
static short host_getlk(struct fx *f, short type, off_t start, off_t len, pid_t *pid)
{
    int fd = openat(f->share_fd, "f", O_RDWR | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len };
    g_assert_cmpint(fcntl(fd, F_GETLK, &fl), ==, 0);
    close(fd);
    if (pid)
        *pid = fl.l_pid;
    return fl.l_type;
}

/* Whether a host flock(2) on the file would be granted now. */
static bool host_flock_free(struct fx *f, int op)
{
    int fd = openat(f->share_fd, "f", O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    int r = flock(fd, op | LOCK_NB);
    int e = errno;
    close(fd);
    if (r < 0)
        g_assert_cmpint(e, ==, EWOULDBLOCK);
    return r == 0;
}

/* An asynchronous SETLKW (or SETLK) with a scratch of its own. */
struct pending {
    struct tc_fuse_req req;
    struct fuse_lk_in in;
};

static void pending_submit(struct fx *f, struct pending *p, uint64_t n, uint64_t fh,
                           uint64_t owner, struct fuse_file_lock l, uint32_t lk_flags)
{
    g_assert_cmpint(tc_fuse_req_init(f->dev, &p->req, 0), ==, 0);
    p->in = (struct fuse_lk_in){ .fh = fh, .owner = owner, .lk = l, .lk_flags = lk_flags };
    tc_fuse_setlk_req(&p->req, n, &p->in, true);
    g_assert_cmpint(tc_fuse_submit(f->dev, &p->req), ==, 0);
    g_assert_cmpint(tc_fuse_kick(f->dev, p->req.vq), >=, 0);
}

/* Reaps req's queue until req completed or ms passed; returns req->done. */
static bool wait_done(struct fx *f, struct tc_fuse_req *req, int ms)
{
    uint64_t end = clock_now_ns() + (uint64_t)ms * 1000000ull;
    while (!req->done && clock_now_ns() < end) {
        struct tc_fuse_req *got[16];
        int r = tc_fuse_reap(f->dev, req->vq, got, G_N_ELEMENTS(got), 50);
        if (r < 0 && r != -ETIMEDOUT)
            g_assert_cmpint(r, ==, 0);
    }
    return req->done;
}

/* A request served on the same queue as a waiting one: proves that queue
 * is not held up by the wait. */
static void served_meanwhile(struct fx *f, struct pending *waiting, uint64_t n)
{
    struct fuse_attr_out a;
    char buf[16];
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    g_assert_cmpuint(a.attr.size, ==, 4096);
    g_assert_cmpint(tc_fuse_lookup(f->dev, ROOT, "f", NULL), ==, 0);
    struct fuse_open_out o;
    g_assert_cmpint(tc_fuse_open(f->dev, n, O_RDONLY, &o), ==, 0);
    g_assert_cmpint(tc_fuse_read(f->dev, n, o.fh, 0, buf, sizeof(buf)), ==, sizeof(buf));
    g_assert_cmpint(tc_fuse_release(f->dev, n, o.fh, O_RDONLY), ==, 0);
    g_assert_false(waiting->req.done);
}

/* --- negotiation ----------------------------------------------------------- */

static void test_negotiated(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh;
    struct fuse_file_lock out;
    g_assert_true(f->dev->fuse.init.flags & FUSE_POSIX_LOCKS);
    g_assert_true(f->dev->fuse.init.flags & FUSE_FLOCK_LOCKS);
    uint64_t n = setup_file(f, &fh, 1);
    struct fuse_file_lock w = lk(F_WRLCK, 0, EOF_, PID_A);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh, OWNER_A, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_UNLCK);
}

static void test_not_offered(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh;
    struct fuse_file_lock out;
    /* asked for, but the daemon was not told to offer them */
    g_assert_false(f->dev->fuse.init.flags & FUSE_POSIX_LOCKS);
    g_assert_false(f->dev->fuse.init.flags & FUSE_FLOCK_LOCKS);
    uint64_t n = setup_file(f, &fh, 1);
    struct fuse_file_lock w = lk(F_WRLCK, 0, EOF_, PID_A);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh, OWNER_A, &w, &out), ==, -ENOSYS);
    g_assert_cmpint(setlk(f, n, fh, OWNER_A, w), ==, -ENOSYS);
    g_assert_cmpint(tc_fuse_setlk(f->dev, n, fh, OWNER_A, &w, FUSE_LK_FLOCK, false), ==, -ENOSYS);
    g_assert_cmpint(host_getlk(f, F_WRLCK, 0, 0, NULL), ==, F_UNLCK);
}

/* --- record locks ---------------------------------------------------------- */

static void test_conflict(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct fuse_file_lock out;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, 99, PID_A)), ==, 0);
    /* the other owner conflicts, through its own handle or through A's */
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_WRLCK, 50, 149, PID_B)), ==, -EAGAIN);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_B, lk(F_RDLCK, 99, 99, PID_B)), ==, -EAGAIN);
    /* but not beside it */
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_RDLCK, 100, 199, PID_B)), ==, 0);
    /* read locks share */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_RDLCK, 150, 160, PID_A)), ==, 0);
    /* one owner's locks never conflict with each other: A turns part of its
     * write lock into a read lock and takes it back */
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_A, lk(F_RDLCK, 0, 9, PID_A)), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, 9, PID_A)), ==, 0);

    /* GETLK names the holder, its range and the guest pid that took it */
    struct fuse_file_lock w = lk(F_WRLCK, 0, 0, PID_B);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[1], OWNER_B, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_WRLCK);
    g_assert_cmpuint(out.start, ==, 0);
    g_assert_cmpuint(out.end, ==, 99);
    g_assert_cmpuint(out.pid, ==, PID_A);
    w = lk(F_WRLCK, 180, 190, PID_A);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[0], OWNER_A, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_RDLCK);
    g_assert_cmpuint(out.start, ==, 100);
    g_assert_cmpuint(out.end, ==, 199);
    g_assert_cmpuint(out.pid, ==, PID_B);
    /* a read lock next to B's read lock is free for A */
    w = lk(F_RDLCK, 180, 190, PID_A);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[0], OWNER_A, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_UNLCK);
    /* an owner never sees its own locks */
    w = lk(F_WRLCK, 0, 99, PID_A);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[0], OWNER_A, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_UNLCK);

    /* the locks are real on the host: a host process conflicts with them */
    pid_t pid;
    g_assert_cmpint(host_getlk(f, F_RDLCK, 10, 1, &pid), ==, F_WRLCK);
    g_assert_cmpint(host_getlk(f, F_RDLCK, 300, 1, NULL), ==, F_UNLCK);

    /* bad requests */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(7, 0, 1, PID_A)), ==, -EINVAL);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 10, 5, PID_A)), ==, -EINVAL);
    g_assert_cmpint(setlk(f, n, 0xdead, OWNER_A, lk(F_WRLCK, 0, 1, PID_A)), ==, -EBADF);

    /* unlocking gives way */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_UNLCK, 0, EOF_, PID_A)), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_WRLCK, 50, 99, PID_B)), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_UNLCK, 0, EOF_, PID_B)), ==, 0);
    g_assert_cmpint(host_getlk(f, F_WRLCK, 0, 0, NULL), ==, F_UNLCK);
}

static void test_setlkw_waits_queue_serves(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct fuse_file_lock out;
    struct pending b;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    /* a SETLKW that can be granted at once is */
    g_assert_cmpint(tc_fuse_setlk(f->dev, n, fh[0], OWNER_A, &(struct fuse_file_lock){
                        .start = 0, .end = 10, .type = F_RDLCK, .pid = PID_A }, 0, true), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);

    /* B waits for A's lock, on the same queue everything below uses */
    pending_submit(f, &b, n, fh[1], OWNER_B, lk(F_WRLCK, 0, 99, PID_B), 0);
    served_meanwhile(f, &b, n);
    g_usleep(100 * 1000);
    served_meanwhile(f, &b, n);
    struct fuse_file_lock w = lk(F_WRLCK, 0, 0, 0);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[1], OWNER_C, &w, &out), ==, 0);
    g_assert_cmpuint(out.pid, ==, PID_A);

    /* A unlocks part of the range: still blocked; all of it: granted */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_UNLCK, 0, 49, PID_A)), ==, 0);
    g_assert_false(wait_done(f, &b.req, 100));
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_UNLCK, 0, EOF_, PID_A)), ==, 0);
    g_assert_true(wait_done(f, &b.req, 5000));
    g_assert_cmpint(b.req.result, ==, 0);

    /* B holds it now, as the host and A see it */
    w = lk(F_RDLCK, 20, 30, PID_A);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[0], OWNER_A, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_WRLCK);
    g_assert_cmpuint(out.start, ==, 0);
    g_assert_cmpuint(out.end, ==, 99);
    g_assert_cmpuint(out.pid, ==, PID_B);
    g_assert_cmpint(host_getlk(f, F_RDLCK, 0, 100, NULL), ==, F_WRLCK);
    g_assert_cmpint(host_getlk(f, F_RDLCK, 100, 0, NULL), ==, F_UNLCK);
    tc_fuse_req_done(f->dev, &b.req);
}

static void test_interrupt(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct fuse_file_lock out;
    struct pending b;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    pending_submit(f, &b, n, fh[1], OWNER_B, lk(F_RDLCK, 0, EOF_, PID_B), 0);
    served_meanwhile(f, &b, n);

    /* the interrupted request is answered EINTR, the INTERRUPT not at all */
    g_assert_cmpint(tc_fuse_interrupt(f->dev, b.req.unique), ==, 0);
    g_assert_true(wait_done(f, &b.req, 5000));
    g_assert_cmpint(b.req.result, ==, -EINTR);

    /* and B got nothing: once A is gone, nobody holds a lock */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_UNLCK, 0, EOF_, PID_A)), ==, 0);
    struct fuse_file_lock w = lk(F_WRLCK, 0, EOF_, 0);
    g_assert_cmpint(tc_fuse_getlk(f->dev, n, fh[0], OWNER_C, &w, &out), ==, 0);
    g_assert_cmpuint(out.type, ==, F_UNLCK);
    g_assert_cmpint(host_getlk(f, F_WRLCK, 0, 0, NULL), ==, F_UNLCK);
    tc_fuse_req_done(f->dev, &b.req);
}

static void test_interrupt_unknown(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    /* An INTERRUPT whose target never shows up is answered EAGAIN (after a
     * while), so the kernel can send it again if the target is pending. */
    struct fuse_interrupt_in in = { .unique = 0x123456789ull };
    struct tc_fuse_req req = {
        .opcode = FUSE_INTERRUPT, .flags = TC_FUSE_HIPRIO,
        .in_cnt = 1, .in = { { &in, sizeof(in) } },
    };
    uint64_t t0 = clock_now_ns();
    g_assert_cmpint(tc_fuse_call(f->dev, &req), ==, -EAGAIN);
    g_assert_cmpuint(clock_now_ns() - t0, >=, 10ull * 1000 * 1000);
    /* a malformed one gets no answer either way */
    struct tc_fuse_req bad = {
        .opcode = FUSE_INTERRUPT, .flags = TC_FUSE_HIPRIO,
        .in_cnt = 1, .in = { { &in, 4 } },
    };
    g_assert_cmpint(tc_fuse_call(f->dev, &bad), ==, -EPROTO);
    g_assert_cmpuint(bad.used_len, ==, 0);
    struct fuse_attr_out a;
    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
}

static void test_interrupt_first(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct pending b;
    struct fuse_interrupt_in iin;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    /* The INTERRUPT overtakes its target: it goes out first, on the hiprio
     * queue, naming the unique the SETLKW will get. Whichever the daemon
     * sees first, the SETLKW ends with EINTR and the INTERRUPT unanswered;
     * an INTERRUPT answered EAGAIN is sent again, as the kernel does. */
    struct tc_fuse_req intr;
    g_assert_cmpint(tc_fuse_req_init(f->dev, &intr, 0), ==, 0);
    iin.unique = __atomic_load_n(&f->dev->fuse.next_unique, __ATOMIC_RELAXED) + 1;
    intr.opcode = FUSE_INTERRUPT;
    intr.flags = TC_FUSE_HIPRIO;
    intr.in[0] = (struct tc_fuse_in_arg){ &iin, sizeof(iin) };
    intr.in_cnt = 1;
    g_assert_cmpint(tc_fuse_submit(f->dev, &intr), ==, 0);
    g_assert_cmpint(tc_fuse_kick(f->dev, 0), >=, 0);
    pending_submit(f, &b, n, fh[1], OWNER_B, lk(F_WRLCK, 0, 0, PID_B), 0);
    g_assert_cmpuint(b.req.unique, ==, iin.unique);

    int resent = 0;
    uint64_t end = clock_now_ns() + 10ull * 1000 * 1000 * 1000;
    while ((!b.req.done || !intr.done) && clock_now_ns() < end) {
        wait_done(f, &b.req, 20);
        if (!intr.done)
            wait_done(f, &intr, 20);
        if (intr.done && intr.used_len && !b.req.done) {
            g_assert_cmpint(intr.result, ==, -EAGAIN);
            g_assert_cmpint(tc_fuse_submit(f->dev, &intr), ==, 0);
            g_assert_cmpint(tc_fuse_kick(f->dev, 0), >=, 0);
            resent++;
        }
    }
    g_test_message("INTERRUPT sent again %d times", resent);
    g_assert_true(b.req.done);
    g_assert_cmpint(b.req.result, ==, -EINTR);
    g_assert_true(intr.done);
    g_assert_cmpuint(intr.used_len, ==, 0);
    tc_fuse_req_done(f->dev, &intr);
    tc_fuse_req_done(f->dev, &b.req);
}

static void test_flush_release_unlock(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[3];
    uint64_t n = setup_file(f, fh, 3);

    /* FLUSH with A's owner: a process closed one of its fds of the file */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, 10, PID_A)), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_RDLCK, 100, 110, PID_A)), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B)), ==, -EAGAIN);
    /* another owner's close changes nothing */
    g_assert_cmpint(tc_fuse_flush(f->dev, n, fh[1], OWNER_B), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_WRLCK, 5, 5, PID_B)), ==, -EAGAIN);
    g_assert_cmpint(tc_fuse_flush(f->dev, n, fh[2], OWNER_A), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B)), ==, 0);

    /* RELEASE with B's owner */
    g_assert_cmpint(host_getlk(f, F_RDLCK, 0, 0, NULL), ==, F_WRLCK);
    g_assert_cmpint(tc_fuse_release_owner(f->dev, n, fh[1], O_RDWR, 0, OWNER_B), ==, 0);
    g_assert_cmpint(host_getlk(f, F_RDLCK, 0, 0, NULL), ==, F_UNLCK);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);

    /* RELEASE of a handle that held a flock */
    g_assert_cmpint(tc_fuse_setlk(f->dev, n, fh[2], fh[2], &(struct fuse_file_lock){
                        .end = EOF_, .type = F_WRLCK }, FUSE_LK_FLOCK, false), ==, 0);
    g_assert_false(host_flock_free(f, LOCK_SH));
    g_assert_cmpint(tc_fuse_release_owner(f->dev, n, fh[2], O_RDWR, FUSE_RELEASE_FLOCK_UNLOCK,
                                          fh[2]), ==, 0);
    g_assert_true(host_flock_free(f, LOCK_EX));
}

static void test_forget_drops(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh;
    uint64_t n = setup_file(f, &fh, 1);
    g_assert_cmpint(setlk(f, n, fh, OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    /* handle released without a lock owner: the lock stays with the inode */
    g_assert_cmpint(tc_fuse_release(f->dev, n, fh, O_RDWR), ==, 0);
    g_assert_cmpint(host_getlk(f, F_RDLCK, 0, 0, NULL), ==, F_WRLCK);
    /* until the guest forgets the inode (lookups of setup_file and none else) */
    g_assert_cmpint(tc_fuse_forget(f->dev, n, 1), ==, 0);
    struct fuse_attr_out a;
    g_assert_cmpint(tc_fuse_getattr(f->dev, ROOT, 0, 0, &a), ==, 0);
    g_assert_cmpint(host_getlk(f, F_RDLCK, 0, 0, NULL), ==, F_UNLCK);
}

/* --- flock ----------------------------------------------------------------- */

static int flk(struct fx *f, uint64_t n, uint64_t fh, uint32_t type, bool wait)
{
    struct fuse_file_lock l = lk(type, 0, EOF_, PID_A);
    /* the guest names the open file as the owner of a flock */
    return tc_fuse_setlk(f->dev, n, fh, fh, &l, FUSE_LK_FLOCK, wait);
}

static void test_flock(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[3];
    struct pending p;
    uint64_t n = setup_file(f, fh, 3);

    g_assert_cmpint(flk(f, n, fh[0], F_WRLCK, false), ==, 0);
    g_assert_cmpint(flk(f, n, fh[1], F_WRLCK, false), ==, -EAGAIN);
    g_assert_cmpint(flk(f, n, fh[1], F_RDLCK, false), ==, -EAGAIN);
    g_assert_false(host_flock_free(f, LOCK_SH));
    /* record locks and flock do not meet, as on Linux */
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B)), ==, 0);
    g_assert_cmpint(setlk(f, n, fh[1], OWNER_B, lk(F_UNLCK, 0, EOF_, PID_B)), ==, 0);
    /* shared locks share */
    g_assert_cmpint(flk(f, n, fh[0], F_UNLCK, false), ==, 0);
    g_assert_cmpint(flk(f, n, fh[1], F_RDLCK, false), ==, 0);
    g_assert_cmpint(flk(f, n, fh[2], F_RDLCK, false), ==, 0);
    g_assert_true(host_flock_free(f, LOCK_SH));
    g_assert_false(host_flock_free(f, LOCK_EX));
    g_assert_cmpint(flk(f, n, fh[0], F_WRLCK, false), ==, -EAGAIN);

    /* a waiting flock leaves the queue serving, and is granted in the end */
    g_assert_cmpint(tc_fuse_req_init(f->dev, &p.req, 0), ==, 0);
    p.in = (struct fuse_lk_in){ .fh = fh[0], .owner = fh[0], .lk = lk(F_WRLCK, 0, EOF_, PID_A),
                                .lk_flags = FUSE_LK_FLOCK };
    tc_fuse_setlk_req(&p.req, n, &p.in, true);
    g_assert_cmpint(tc_fuse_submit(f->dev, &p.req), ==, 0);
    g_assert_cmpint(tc_fuse_kick(f->dev, p.req.vq), >=, 0);
    served_meanwhile(f, &p, n);
    g_assert_cmpint(flk(f, n, fh[1], F_UNLCK, false), ==, 0);
    g_assert_false(wait_done(f, &p.req, 100));
    g_assert_cmpint(flk(f, n, fh[2], F_UNLCK, false), ==, 0);
    g_assert_true(wait_done(f, &p.req, 5000));
    g_assert_cmpint(p.req.result, ==, 0);
    g_assert_false(host_flock_free(f, LOCK_SH));
    g_assert_cmpint(flk(f, n, fh[1], F_RDLCK, false), ==, -EAGAIN);

    /* and an interrupted one is not */
    struct pending q;
    g_assert_cmpint(tc_fuse_req_init(f->dev, &q.req, 0), ==, 0);
    q.in = (struct fuse_lk_in){ .fh = fh[1], .owner = fh[1], .lk = lk(F_RDLCK, 0, EOF_, PID_B),
                                .lk_flags = FUSE_LK_FLOCK };
    tc_fuse_setlk_req(&q.req, n, &q.in, true);
    g_assert_cmpint(tc_fuse_submit(f->dev, &q.req), ==, 0);
    g_assert_cmpint(tc_fuse_kick(f->dev, q.req.vq), >=, 0);
    served_meanwhile(f, &q, n);
    g_assert_cmpint(tc_fuse_interrupt(f->dev, q.req.unique), ==, 0);
    g_assert_true(wait_done(f, &q.req, 5000));
    g_assert_cmpint(q.req.result, ==, -EINTR);
    g_assert_cmpint(flk(f, n, fh[0], F_UNLCK, false), ==, 0);
    g_assert_true(host_flock_free(f, LOCK_EX));
    tc_fuse_req_done(f->dev, &p.req);
    tc_fuse_req_done(f->dev, &q.req);
}

/* --- what else ends a wait ------------------------------------------------- */

static void test_queue_stop(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct pending b;
    uint32_t base;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    pending_submit(f, &b, n, fh[1], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B), 0);
    served_meanwhile(f, &b, n);

    /* GET_VRING_BASE waits for the queue's requests: the waiting one ends */
    uint64_t t0 = clock_now_ns();
    g_assert_cmpint(tc_dev_queue_stop(f->dev, 1, &base), ==, 0);
    g_test_message("queue stopped in %.1f ms", (double)(clock_now_ns() - t0) / 1e6);
    struct tc_fuse_req *got[4];
    int r = tc_fuse_reap(f->dev, 1, got, G_N_ELEMENTS(got), 1000);
    g_assert_cmpint(r, ==, 1);
    g_assert_true(got[0] == &b.req);
    g_assert_cmpint(b.req.result, ==, -EINTR);

    /* the queue starts again where it stopped and serves */
    g_assert_cmpint(tc_dev_queue_start(f->dev, 1, false, (uint16_t)base), ==, 0);
    struct fuse_attr_out a;
    g_assert_cmpint(tc_fuse_getattr(f->dev, n, 0, 0, &a), ==, 0);
    /* B did not get the lock: A's is the only one */
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_UNLCK, 0, EOF_, PID_A)), ==, 0);
    g_assert_cmpint(host_getlk(f, F_WRLCK, 0, 0, NULL), ==, F_UNLCK);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_C, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    tc_fuse_req_done(f->dev, &b.req);
}

static void test_destroy(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct pending b;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    pending_submit(f, &b, n, fh[1], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B), 0);
    served_meanwhile(f, &b, n);
    /* the session ends: the waiting lock fails, every lock goes */
    g_assert_cmpint(tc_fuse_destroy(f->dev), ==, 0);
    g_assert_true(wait_done(f, &b.req, 5000));
    g_assert_cmpint(b.req.result, ==, -EIO);
    g_assert_cmpint(host_getlk(f, F_WRLCK, 0, 0, NULL), ==, F_UNLCK);
    /* and a new one starts clean */
    g_assert_cmpint(tc_fuse_init_session(f->dev, TC_FUSE_INIT_FLAGS | locks.init_flags, NULL), ==, 0);
    n = setup_file(f, fh, 1);
    g_assert_cmpint(setlk(f, n, fh[0], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B)), ==, 0);
    tc_fuse_req_done(f->dev, &b.req);
}

static void test_disconnect(struct fx *f, gconstpointer data)
{
    if (skip_reference())
        return;
    uint64_t fh[2];
    struct pending b;
    uint64_t n = setup_file(f, fh, 2);

    g_assert_cmpint(setlk(f, n, fh[0], OWNER_A, lk(F_WRLCK, 0, EOF_, PID_A)), ==, 0);
    pending_submit(f, &b, n, fh[1], OWNER_B, lk(F_WRLCK, 0, EOF_, PID_B), 0);
    served_meanwhile(f, &b, n);
    /* the frontend goes away with a lock still waited for: the daemon
     * must not hang on it but exit as it always does */
    tc_dev_free(f->dev);
    f->dev = NULL;
    int st;
    g_assert_cmpint(tc_daemon_wait_exit(f->pid, 5000, &st), ==, 0);
    f->pid = 0;
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    g_assert_cmpint(host_getlk(f, F_WRLCK, 0, 0, NULL), ==, F_UNLCK);
}

int main(int argc, char **argv)
{
    fx_require_daemon(argc, argv);
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn) g_test_add("/locks/" path, struct fx, &locks, fx_setup, fn, fx_teardown)
    ADD("negotiated", test_negotiated);
    g_test_add("/locks/not-offered", struct fx, &locks_off, fx_setup, test_not_offered,
               fx_teardown);
    ADD("conflict", test_conflict);
    ADD("setlkw-waits-queue-serves", test_setlkw_waits_queue_serves);
    ADD("interrupt", test_interrupt);
    ADD("interrupt-unknown", test_interrupt_unknown);
    ADD("interrupt-first", test_interrupt_first);
    ADD("flush-release-unlock", test_flush_release_unlock);
    ADD("forget-drops", test_forget_drops);
    ADD("flock", test_flock);
    ADD("queue-stop", test_queue_stop);
    ADD("destroy", test_destroy);
    ADD("disconnect", test_disconnect);
    return g_test_run();
}

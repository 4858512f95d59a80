/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Locks (GETLK, SETLK, SETLKW) and INTERRUPT.
 *
 * A SETLKW may wait for as long as another owner holds its lock, and the
 * thread that dispatched it serves a whole queue (inline and io_uring
 * executors) or is one of a few pool workers. So SETLKW first tries the
 * lock without waiting; only when that would block does the request leave
 * for a thread of its own, which blocks in the host's lock call and
 * answers when it returns. The dispatching thread goes on at once, in every
 * executor mode alike, and the request stays in flight for its transport
 * until that thread answers.
 *
 * Such a waiter ends early when it is cancelled: by an INTERRUPT naming its
 * unique (answered EINTR, as the FUSE protocol has it), by its transport
 * stopping the queue (fp_session_cancel), by DESTROY or a new INIT (EIO).
 * The canceller marks it and sends its thread SIGURG, whose empty handler
 * makes the blocking call return EINTR; since the signal may land just
 * before the thread enters that call, the canceller repeats it every few
 * milliseconds until the waiter has left the list. A lock granted in that
 * window is kept and answered as granted: the guest must not be told it
 * has no lock that the host gives it.
 *
 * An INTERRUPT may overtake its target (it travels on the hiprio queue).
 * One that finds no waiter with that unique waits, also on a thread of its
 * own, for FP_INTERRUPT_PARK_MS: a SETLKW arriving meanwhile is answered
 * EINTR at once and the INTERRUPT gets no answer; otherwise the INTERRUPT
 * is answered EAGAIN, after which the kernel sends it again if its target
 * is still pending (Documentation/filesystems/fuse.rst).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "fuse/internal.h"

/* Waiter threads of one session; more waiting locks get ENOLCK. */
#define FP_MAX_WAITERS 1024u
/* How long an INTERRUPT waits for a target it did not find. */
#define FP_INTERRUPT_PARK_MS 50
/* How often a canceller repeats its wakeup signal. */
#define FP_CANCEL_RETRY_MS 2
/* A waiter calls into the filesystem and the reply helpers only. */
#define FP_WAITER_STACK (256u * 1024u)
#define FP_WAKE_SIGNAL SIGURG

enum waiter_kind {
    WAIT_LOCK,                /* a SETLKW waiting for its lock */
    WAIT_INTERRUPT,           /* an INTERRUPT waiting for its target */
};

struct fp_waiter {
    /* Immutable once started: */
    struct fp_session *s;
    struct req *req;          /* the waiting request, in flight until answered */
    struct fuse_in_header in;
    struct pt_ctx ctx;
    enum waiter_kind kind;
    struct fuse_lk_in lk;     /* WAIT_LOCK */
    uint64_t target;          /* WAIT_INTERRUPT: unique of the request to interrupt */
    pthread_t thread;         /* set before the list lock is dropped */

    int cancel;               /* wait_lock: -errno to end with; 0 while it may wait */
    bool matched;             /* wait_lock: WAIT_INTERRUPT found its target */
    struct fp_waiter *next;   /* wait_lock */
};

static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

static void wake_handler(int sig)
{
    /* Only here to make a blocking call return EINTR. */
}

static void wake_install(void)
{
    /* No SA_RESTART: the interrupted lock call must return. */
    struct sigaction sa = { .sa_handler = wake_handler };
    sigemptyset(&sa.sa_mask);
    if (sigaction(FP_WAKE_SIGNAL, &sa, NULL) < 0)
        log_error("cannot install the lock wakeup signal handler: %s", strerror(errno));
}

void fp_waiters_init(struct fp_session *s)
{
    pthread_once(&wake_once, wake_install);
    pthread_mutex_init(&s->wait_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wait_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->waiters = NULL;
    s->nwaiters = 0;
}

/* wait_lock held: waits on wait_cond until signalled or `ms` pass. */
static void wait_ms_locked(struct fp_session *s, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&s->wait_cond, &s->wait_lock, &ts);
}

typedef bool waiter_match_fn(const struct fp_waiter *w, const void *arg);

/*
 * wait_lock held. Marks the matching waiters to end with err (a mark set
 * before wins) and wakes them until every one has left the list. Returns
 * whether there was one.
 */
static bool cancel_locked(struct fp_session *s, waiter_match_fn *match, const void *arg, int err)
{
    bool any = false;
    for (struct fp_waiter *w = s->waiters; w; w = w->next) {
        if (match(w, arg)) {
            if (!w->cancel)
                w->cancel = err;
            any = true;
        }
    }
    for (;;) {
        bool left = true;
        /* Listed means its thread has not started to answer: it is alive
         * (it leaves the list before it exits), so it can be signalled. */
        for (struct fp_waiter *w = s->waiters; w; w = w->next) {
            if (w->cancel && match(w, arg)) {
                left = false;
                if (w->kind == WAIT_LOCK)
                    pthread_kill(w->thread, FP_WAKE_SIGNAL);
            }
        }
        if (left)
            return any;
        pthread_cond_broadcast(&s->wait_cond); /* waiting INTERRUPTs sleep on it */
        wait_ms_locked(s, FP_CANCEL_RETRY_MS);
    }
}

static bool match_all(const struct fp_waiter *w, const void *arg)
{
    return true;
}

static bool match_req(const struct fp_waiter *w, const void *arg)
{
    return w->req == arg;
}

static bool match_lock_unique(const struct fp_waiter *w, const void *arg)
{
    return w->kind == WAIT_LOCK && w->in.unique == *(const uint64_t *)arg;
}

void fp_waiters_cancel_all(struct fp_session *s, int err)
{
    pthread_mutex_lock(&s->wait_lock);
    cancel_locked(s, match_all, NULL, err);
    pthread_mutex_unlock(&s->wait_lock);
}

void fp_session_cancel(struct fp_session *s, struct req *req, int err)
{
    pthread_mutex_lock(&s->wait_lock);
    cancel_locked(s, match_req, req, err);
    pthread_mutex_unlock(&s->wait_lock);
}

void fp_waiters_done(struct fp_session *s)
{
    pthread_mutex_lock(&s->wait_lock);
    cancel_locked(s, match_all, NULL, -EIO);
    /* Their answers are on the way; the threads touch the session until
     * they say they are gone. */
    while (s->nwaiters)
        pthread_cond_wait(&s->wait_cond, &s->wait_lock);
    pthread_mutex_unlock(&s->wait_lock);
    pthread_cond_destroy(&s->wait_cond);
    pthread_mutex_destroy(&s->wait_lock);
}

/* The waiter's thread, wait_lock held: leaves the list, so no canceller
 * reaches it any more. */
static void waiter_leave_locked(struct fp_waiter *w)
{
    struct fp_session *s = w->s;
    for (struct fp_waiter **p = &s->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    pthread_cond_broadcast(&s->wait_cond);
}

/* The waiter's thread, last: it answered and touches nothing after this. */
static void waiter_end(struct fp_session *s)
{
    pthread_mutex_lock(&s->wait_lock);
    s->nwaiters--;
    pthread_cond_broadcast(&s->wait_cond);
    pthread_mutex_unlock(&s->wait_lock);
}

static void pt_lock_from(const struct fuse_lk_in *in, struct pt_lock *lk, unsigned *flags)
{
    lk->type = in->lk.type;
    lk->start = in->lk.start;
    lk->end = in->lk.end;
    lk->pid = in->lk.pid;
    *flags = (in->lk_flags & FUSE_LK_FLOCK) ? PT_LOCK_FLOCK : 0;
}

static void *lock_waiter_main(void *arg)
{
    struct fp_waiter *w = arg;
    struct fp_session *s = w->s;
    struct pt_lock lk;
    unsigned flags;
    sigset_t set;
    int ret;

    /* Threads inherit the mask of whoever started them. */
    sigemptyset(&set);
    sigaddset(&set, FP_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    pt_lock_from(&w->lk, &lk, &flags);
    for (;;) {
        pthread_mutex_lock(&s->wait_lock);
        int cancel = w->cancel;
        pthread_mutex_unlock(&s->wait_lock);
        if (cancel) {
            ret = cancel;
            break;
        }
        ret = pt_setlk(s->fs, &w->ctx, w->in.nodeid, w->lk.fh, w->lk.owner, &lk,
                       flags | PT_LOCK_WAIT);
        if (ret != -EINTR)
            break; /* granted (kept even if cancelled meanwhile) or failed */
    }
    pthread_mutex_lock(&s->wait_lock);
    waiter_leave_locked(w);
    pthread_mutex_unlock(&s->wait_lock);

    struct fp_req r = { .s = s, .req = w->req, .in = w->in };
    log_debug("request %llu (SETLKW): %s after waiting", (unsigned long long)w->in.unique,
              ret == 0 ? "granted" : strerror(-ret));
    if (ret < 0)
        fp_reply_err(&r, ret);
    else
        fp_reply_ok(&r, NULL, 0);
    free(w);
    waiter_end(s);
    return NULL;
}

static void *interrupt_waiter_main(void *arg)
{
    struct fp_waiter *w = arg;
    struct fp_session *s = w->s;
    struct timespec deadline;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += FP_INTERRUPT_PARK_MS * 1000000L;
    deadline.tv_sec += deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;

    pthread_mutex_lock(&s->wait_lock);
    while (!w->cancel && !w->matched &&
           pthread_cond_timedwait(&s->wait_cond, &s->wait_lock, &deadline) != ETIMEDOUT)
        ;
    bool again = !w->cancel && !w->matched;
    waiter_leave_locked(w);
    pthread_mutex_unlock(&s->wait_lock);

    struct fp_req r = { .s = s, .req = w->req, .in = w->in };
    if (again)
        fp_reply_err(&r, -EAGAIN); /* not found: the kernel may send it again */
    else
        fp_reply_none(&r);
    free(w);
    waiter_end(s);
    return NULL;
}

/*
 * wait_lock held. Lists w and starts its thread; w is the thread's from
 * then on. -ENOLCK (w not taken) when there are too many or no thread.
 */
static int waiter_start_locked(struct fp_session *s, struct fp_waiter *w)
{
    if (s->nwaiters >= FP_MAX_WAITERS) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): %u requests wait already",
                        (unsigned long long)w->in.unique, fp_opcode_name(w->in.opcode),
                        s->nwaiters);
        return -ENOLCK;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, FP_WAITER_STACK);
    w->next = s->waiters;
    s->waiters = w;
    s->nwaiters++;
    /* The thread cannot look at the list (or be signalled through it)
     * before the lock is dropped, by which time w->thread is set. */
    int r = pthread_create(&w->thread, &attr, w->kind == WAIT_LOCK ? lock_waiter_main
                                                                   : interrupt_waiter_main, w);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        s->waiters = w->next;
        s->nwaiters--;
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): no thread to wait on: %s",
                        (unsigned long long)w->in.unique, fp_opcode_name(w->in.opcode),
                        strerror(r));
        return -ENOLCK;
    }
    return 0;
}

/* A waiter for r, owned by the caller until waiter_start_locked() took it. */
static struct fp_waiter *waiter_new(struct fp_req *r, enum waiter_kind kind)
{
    struct fp_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->s = r->s;
    w->req = r->req;
    w->in = r->in;
    w->ctx = r->ctx;
    w->kind = kind;
    return w;
}

/*
 * Copies the lock request out and checks the guest negotiated what it
 * uses: record locks with FUSE_POSIX_LOCKS, flock with FUSE_FLOCK_LOCKS.
 */
static int lk_decode(struct fp_req *r, struct fuse_lk_in *in)
{
    const struct fuse_lk_in *p = fp_args_fixed(&r->args, sizeof(*p));
    memcpy(in, p, sizeof(*in));
    uint64_t need = (in->lk_flags & FUSE_LK_FLOCK) ? FUSE_FLOCK_LOCKS : FUSE_POSIX_LOCKS;
    return (r->s->flags & need) ? 0 : -ENOSYS;
}

int fp_op_getlk(struct fp_req *r)
{
    struct fuse_lk_in in;
    struct pt_lock want, got;
    unsigned flags;
    int ret = lk_decode(r, &in);
    if (ret < 0)
        return ret;
    pt_lock_from(&in, &want, &flags);
    if (flags & PT_LOCK_FLOCK)
        return -EINVAL; /* flock has no F_GETLK */
    ret = pt_getlk(r->s->fs, &r->ctx, r->in.nodeid, in.fh, in.owner, &want, &got);
    if (ret < 0)
        return ret;
    struct fuse_lk_out out = {
        .lk = { .start = got.start, .end = got.end, .type = got.type, .pid = got.pid },
    };
    return fp_reply_ok(r, &out, sizeof(out));
}

int fp_op_setlk(struct fp_req *r)
{
    struct fuse_lk_in in;
    struct pt_lock lk;
    unsigned flags;
    int ret = lk_decode(r, &in);
    if (ret < 0)
        return ret;
    pt_lock_from(&in, &lk, &flags);
    ret = pt_setlk(r->s->fs, &r->ctx, r->in.nodeid, in.fh, in.owner, &lk, flags);
    return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);
}

static bool match_parked_interrupt(const struct fp_waiter *w, uint64_t unique)
{
    return w->kind == WAIT_INTERRUPT && w->target == unique && !w->matched && !w->cancel;
}

int fp_op_setlkw(struct fp_req *r)
{
    struct fp_session *s = r->s;
    struct fuse_lk_in in;
    struct pt_lock lk;
    unsigned flags;
    int ret = lk_decode(r, &in);
    if (ret < 0)
        return ret;
    pt_lock_from(&in, &lk, &flags);
    ret = pt_setlk(s->fs, &r->ctx, r->in.nodeid, in.fh, in.owner, &lk, flags);
    if (ret != -EAGAIN)
        return ret < 0 ? ret : fp_reply_ok(r, NULL, 0);

    /* It would block: wait elsewhere, unless an INTERRUPT came first. The
     * INTERRUPT side looks for waiters and parks under the same lock, so
     * one of the two always sees the other. */
    struct fp_waiter *w = waiter_new(r, WAIT_LOCK);
    if (!w)
        return -ENOMEM;
    w->lk = in;
    pthread_mutex_lock(&s->wait_lock);
    for (struct fp_waiter *p = s->waiters; p; p = p->next) {
        if (match_parked_interrupt(p, r->in.unique)) {
            p->matched = true;
            pthread_cond_broadcast(&s->wait_cond);
            pthread_mutex_unlock(&s->wait_lock);
            free(w);
            return -EINTR;
        }
    }
    ret = waiter_start_locked(s, w);
    pthread_mutex_unlock(&s->wait_lock);
    if (ret < 0) {
        free(w);
        return ret;
    }
    log_debug("request %llu (SETLKW): waits for its lock on nodeid %llu",
              (unsigned long long)r->in.unique, (unsigned long long)r->in.nodeid);
    return FP_DONE;
}

int fp_op_interrupt(struct fp_req *r)
{
    struct fp_session *s = r->s;
    const struct fuse_interrupt_in *in = fp_args_fixed(&r->args, sizeof(*in));
    uint64_t target = in->unique;

    pthread_mutex_lock(&s->wait_lock);
    if (cancel_locked(s, match_lock_unique, &target, -EINTR)) {
        pthread_mutex_unlock(&s->wait_lock);
        log_debug("request %llu (INTERRUPT): request %llu interrupted",
                  (unsigned long long)r->in.unique, (unsigned long long)target);
        return fp_reply_none(r);
    }
    /* Not (yet) waiting: the target may still be on its way. */
    struct fp_waiter *w = waiter_new(r, WAIT_INTERRUPT);
    int ret = w ? 0 : -ENOMEM;
    if (w) {
        w->target = target;
        ret = waiter_start_locked(s, w);
    }
    pthread_mutex_unlock(&s->wait_lock);
    if (ret < 0) {
        free(w);
        return fp_reply_err(r, -EAGAIN);
    }
    return FP_DONE;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a request's bytes to a handler call: header, length checks, opcode
 * table, argument copy. Everything a handler interprets is copied out of
 * guest memory first into a per-thread buffer.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/clock.h"
#include "common/log.h"
#include "fuse/internal.h"

static pthread_key_t args_key;
static pthread_once_t args_once = PTHREAD_ONCE_INIT;
static __thread uint8_t *tls_args;

static void args_key_create(void)
{
    pthread_key_create(&args_key, free);
}

/* The calling thread's argument buffer (FP_MAX_ARGS bytes), NULL when out of memory. */
static uint8_t *args_buffer(void)
{
    if (likely(tls_args != NULL))
        return tls_args;
    pthread_once(&args_once, args_key_create);
    tls_args = malloc(FP_MAX_ARGS);
    if (tls_args)
        pthread_setspecific(args_key, tls_args);
    return tls_args;
}

const char *fp_args_str(struct fp_args *a, size_t max)
{
    size_t avail = a->len - a->off;
    const char *s = (const char *)a->buf + a->off;
    const char *nul = memchr(s, '\0', avail);
    if (!nul) {
        a->err = -EINVAL;
        a->why = "string without a terminating NUL";
        return NULL;
    }
    if ((size_t)(nul - s) > max) {
        a->err = -ENAMETOOLONG;
        a->why = "string too long";
        return NULL;
    }
    a->off += (size_t)(nul - s) + 1;
    return s;
}

const char *fp_args_name(struct fp_args *a, bool allow_dots)
{
    const char *name = fp_args_str(a, NAME_MAX);
    if (!name) {
        a->why = a->err == -ENAMETOOLONG ? "name longer than 255 bytes"
                                         : "name without a terminating NUL";
        return NULL;
    }
    if (name[0] == '\0')
        a->why = "empty name";
    else if (strchr(name, '/'))
        a->why = "name containing '/'";
    else if (!allow_dots && (strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
        a->why = "'.' or '..' as a name";
    else
        return name;
    a->err = -EINVAL;
    return NULL;
}

int fp_session_new(const struct fp_config *cfg, struct pt_fs *fs, struct fp_session **out)
{
    struct fp_session *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    uint32_t mw = cfg->max_write ? cfg->max_write : FP_MAX_WRITE_LIMIT;
    s->cfg.max_write = MAX(4096u, MIN(mw, FP_MAX_WRITE_LIMIT));
    if (!s->cfg.max_background)
        s->cfg.max_background = 256;
    s->fs = fs;
    fp_waiters_init(s);
    *out = s;
    return 0;
}

void fp_session_free(struct fp_session *s)
{
    if (!s)
        return;
    fp_waiters_done(s);
    free(s);
}

void fp_finish(struct fp_req *r, uint32_t written, int error)
{
    struct fp_op_stats *st = &r->s->stats[r->in.opcode < FP_OPCODE_MAX ? r->in.opcode : 0];
    uint64_t ns = r->req->start_ns ? clock_now_ns() - r->req->start_ns : 0;

    __atomic_add_fetch(&st->count, 1, __ATOMIC_RELAXED);
    if (error)
        __atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&st->total_ns, ns, __ATOMIC_RELAXED);
    uint64_t max = __atomic_load_n(&st->max_ns, __ATOMIC_RELAXED);
    while (ns > max && !__atomic_compare_exchange_n(&st->max_ns, &max, ns, true,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    req_complete(r->req, written);
}

void fp_dispatch(struct fp_session *s, struct req *req)
{
    struct fp_req r = { .s = s, .req = req };
    struct iov_cursor cin;
    const struct fp_opcode *op;
    int ret;

    iov_cursor_init(&cin, req->in, req->in_cnt);
    if (iov_cursor_read(&cin, &r.in, sizeof(r.in)) < 0) {
        log_ratelimited(LOG_LVL_WARN, "request of %zu bytes has no FUSE header; dropped",
                        cin.remaining);
        r.in.opcode = 0;
        fp_finish(&r, 0, -EINVAL);
        return;
    }
    req->unique = r.in.unique;
    req->opcode = r.in.opcode;
    op = fp_opcode_get(r.in.opcode);

    if (r.in.len < sizeof(r.in) || r.in.len - sizeof(r.in) > cin.remaining) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): length %u does not match its %zu bytes",
                        (unsigned long long)r.in.unique, fp_opcode_name(r.in.opcode), r.in.len,
                        cin.remaining + sizeof(r.in));
        ret = -EINVAL;
        goto out_error;
    }
    iov_cursor_limit(&cin, r.in.len - sizeof(r.in));

    if (!op) {
        log_ratelimited(LOG_LVL_WARN, "request %llu: unknown opcode %u",
                        (unsigned long long)r.in.unique, r.in.opcode);
        ret = -ENOSYS;
        goto out_error;
    }
    if (!op->handler) {
        /* known, and asked for by guests that go on without it */
        log_debug("request %llu: opcode %u (%s) not implemented",
                  (unsigned long long)r.in.unique, r.in.opcode, op->name);
        ret = -ENOSYS;
        goto out_error;
    }
    if (!(op->flags & FP_BEFORE_INIT) && !__atomic_load_n(&s->initialized, __ATOMIC_ACQUIRE)) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s) before INIT",
                        (unsigned long long)r.in.unique, op->name);
        ret = -EIO;
        goto out_error;
    }
    if (cin.remaining < op->min_in) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): %zu argument bytes, needs %u",
                        (unsigned long long)r.in.unique, op->name, cin.remaining, op->min_in);
        ret = -EINVAL;
        goto out_error;
    }

    size_t copy = (op->flags & FP_PAYLOAD) ? op->min_in : cin.remaining;
    if (copy > FP_MAX_ARGS) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): %zu argument bytes is too many",
                        (unsigned long long)r.in.unique, op->name, copy);
        ret = -E2BIG;
        goto out_error;
    }
    uint8_t *buf = args_buffer();
    if (!buf) {
        ret = -ENOMEM;
        goto out_error;
    }
    /* cannot fail: copy <= remaining */
    iov_cursor_read(&cin, buf, copy);
    r.args = (struct fp_args){ .buf = buf, .len = copy };
    /* Extensions (7.38) close the request; a handler that knows them reads
     * them from r.ext, every other one never sees them. The payload of a
     * FP_PAYLOAD opcode is not copied, and no extension comes with those. */
    if (r.in.total_extlen && !(op->flags & FP_PAYLOAD)) {
        size_t ext = (size_t)r.in.total_extlen * 8;
        if (ext > copy || copy - ext < op->min_in) {
            log_ratelimited(LOG_LVL_WARN, "request %llu (%s): %zu bytes of extensions in %zu",
                            (unsigned long long)r.in.unique, op->name, ext, copy);
            ret = -EINVAL;
            goto out_error;
        }
        r.args.len = copy - ext;
        r.ext = (struct fp_args){ .buf = buf + copy - ext, .len = ext };
    }
    r.payload = cin;
    r.ctx = (struct pt_ctx){ .uid = r.in.uid, .gid = r.in.gid, .pid = r.in.pid };

    log_debug("request %llu: %s nodeid %llu len %u", (unsigned long long)r.in.unique, op->name,
              (unsigned long long)r.in.nodeid, r.in.len);
    ret = op->handler(&r);
    if (ret >= 0)
        return;
    if (r.args.why) {
        /* a guest application can send names up to the kernel's 1024 bytes:
         * too long is the answer the host would give, not a guest bug */
        log_ratelimited(ret == -ENAMETOOLONG ? LOG_LVL_DEBUG : LOG_LVL_WARN,
                        "request %llu (%s): %s", (unsigned long long)r.in.unique, op->name,
                        r.args.why);
    } else if (ret == -EBADF) {
        log_ratelimited(LOG_LVL_WARN, "request %llu (%s): unknown or stale nodeid %llu or file "
                        "handle", (unsigned long long)r.in.unique, op->name,
                        (unsigned long long)r.in.nodeid);
    }

out_error:
    if (op && (op->flags & FP_NO_REPLY))
        fp_reply_none(&r);
    else
        fp_reply_err(&r, ret);
}

void fp_session_stats(struct fp_session *s, struct fp_op_stats out[FP_OPCODE_MAX])
{
    for (unsigned i = 0; i < FP_OPCODE_MAX; i++) {
        out[i].count = __atomic_load_n(&s->stats[i].count, __ATOMIC_RELAXED);
        out[i].errors = __atomic_load_n(&s->stats[i].errors, __ATOMIC_RELAXED);
        out[i].total_ns = __atomic_load_n(&s->stats[i].total_ns, __ATOMIC_RELAXED);
        out[i].max_ns = __atomic_load_n(&s->stats[i].max_ns, __ATOMIC_RELAXED);
    }
}

void fp_session_log_stats(struct fp_session *s)
{
    struct fp_op_stats st[FP_OPCODE_MAX];
    fp_session_stats(s, st);
    for (unsigned i = 0; i < FP_OPCODE_MAX; i++) {
        if (!st[i].count)
            continue;
        log_info("op %-15s count %10llu errors %8llu avg %8.1f us max %9.1f us",
                 i ? fp_opcode_name(i) : "(malformed)", (unsigned long long)st[i].count,
                 (unsigned long long)st[i].errors,
                 (double)st[i].total_ns / (double)st[i].count / 1000.0,
                 (double)st[i].max_ns / 1000.0);
    }
}

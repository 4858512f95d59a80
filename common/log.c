/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

enum log_level log_max_level = LOG_LVL_INFO;
static bool use_syslog;

int log_level_parse(const char *name)
{
    static const struct { const char *name; enum log_level level; } names[] = {
        { "error", LOG_LVL_ERROR }, { "err", LOG_LVL_ERROR }, { "off", LOG_LVL_ERROR },
        { "warn", LOG_LVL_WARN }, { "warning", LOG_LVL_WARN },
        { "info", LOG_LVL_INFO },
        { "debug", LOG_LVL_DEBUG }, { "trace", LOG_LVL_DEBUG },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].level;
    return -EINVAL;
}

void log_set_level(enum log_level level)
{
    log_max_level = level;
}

void log_use_syslog(const char *ident)
{
    openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON); /* connected now: /dev/log is gone after the sandbox pivots */
    use_syslog = true;
}

void log_write(enum log_level level, const char *fmt, ...)
{
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    static const char *const tag[] = { "error", "warn", "info", "debug" };
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    if (use_syslog) {
        vsyslog(prio[level], fmt, ap);
    } else {
        char buf[1024];
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int n = snprintf(buf, sizeof(buf), "[%lld.%06ld] [virtiofsd] [%s] ",
                         (long long)ts.tv_sec, ts.tv_nsec / 1000, tag[level]);
        if (n < 0)
            n = 0;
        vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
        /* One fputs per line keeps lines from different threads whole. */
        size_t len = strlen(buf);
        if (len + 1 < sizeof(buf)) {
            buf[len] = '\n';
            buf[len + 1] = '\0';
        }
        fputs(buf, stderr);
    }
    va_end(ap);
    errno = saved;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst, unsigned interval_ms)
{
    uint64_t now = now_ms();
    uint64_t start = __atomic_load_n(&rl->window_start_ms, __ATOMIC_RELAXED);

    if (now - start >= interval_ms &&
        __atomic_compare_exchange_n(&rl->window_start_ms, &start, now, false,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        uint32_t missed = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&rl->printed, 0, __ATOMIC_RELAXED);
        if (missed)
            log_write(LOG_LVL_WARN, "%u similar messages suppressed", missed);
    }
    if (__atomic_add_fetch(&rl->printed, 1, __ATOMIC_RELAXED) <= burst)
        return true;
    __atomic_add_fetch(&rl->suppressed, 1, __ATOMIC_RELAXED);
    return false;
}

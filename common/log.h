/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one logging API. Messages go to stderr or syslog; the level check is a
 * single branch so disabled debug logging costs nothing on the hot path.
 * Any thread may log.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
    LOG_LVL_ERROR = 0,
    LOG_LVL_WARN  = 1,
    LOG_LVL_INFO  = 2,
    LOG_LVL_DEBUG = 3,
};

extern enum log_level log_max_level;

/* Parses "error"/"err", "warn"/"warning", "info", "debug" (also "trace",
 * "off"); returns the level or -EINVAL. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
/* Sends messages to syslog from now on (ident is the program name). */
void log_use_syslog(const char *ident);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline bool log_enabled(enum log_level level)
{
    return __builtin_expect(level <= log_max_level, 0);
}

#define LOG(level, ...) \
    do { if (log_enabled(level)) log_write(level, __VA_ARGS__); } while (0)
#define log_error(...) LOG(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  LOG(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  LOG(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) LOG(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Rate limit for messages the guest can trigger: at most `burst` messages per
 * `interval_ms`, then one line saying how many were suppressed.
 */
struct log_ratelimit {
    uint64_t window_start_ms; /* atomic */
    uint32_t printed;         /* atomic */
    uint32_t suppressed;      /* atomic */
};

bool log_ratelimit_ok(struct log_ratelimit *rl, unsigned burst, unsigned interval_ms);

#define log_ratelimited(level, ...) \
    do { \
        static struct log_ratelimit rl__; \
        if (log_enabled(level) && log_ratelimit_ok(&rl__, 10, 5000)) \
            log_write(level, __VA_ARGS__); \
    } while (0)

#endif

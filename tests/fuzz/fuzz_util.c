/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/fuzz/fuzz.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

int fuzz_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    char target[64];
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        /* Pipes are the sanitizers' (to their symbolizer); the code under
         * test makes none. */
        ssize_t len = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
        if (len >= 5 && memcmp(target, "pipe:", 5) == 0)
            continue;
        n++;
    }
    closedir(d);
    return n - 1; /* the directory's own fd */
}

void fuzz_setup_logs(void)
{
    log_set_level(getenv("VFSD_FUZZ_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
}

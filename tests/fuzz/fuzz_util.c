/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    /* ".", ".." and the directory's own fd */
    return n - 3;
}

void fuzz_setup_logs(void)
{
    log_set_level(getenv("VFSD_FUZZ_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
}

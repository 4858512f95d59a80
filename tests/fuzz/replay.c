/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays inputs through a fuzz target without libFuzzer: every file named
 * on the command line, and every regular file of every directory named
 * there (in name order). A crash or a broken invariant fails the run; the
 * unit test suite uses this to run the committed corpus in every build.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static int replay_file(int dirfd, const char *name, const char *shown)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "%s: %s\n", shown, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    /* An exact-size buffer, so reading past the input is caught by ASan. */
    uint8_t *buf = malloc(size ? size : 1);
    size_t got = 0;
    while (buf && got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!buf || got != size) {
        fprintf(stderr, "%s: short read\n", shown);
        free(buf);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, size);
    free(buf);
    return 0;
}

static int not_hidden(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            failed = 1;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (replay_file(AT_FDCWD, argv[i], argv[i]) < 0)
                failed = 1;
            else
                count++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, not_hidden, alphasort);
        int dirfd = open(argv[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (n < 0 || dirfd < 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            failed = 1;
            if (n >= 0) {
                for (int j = 0; j < n; j++)
                    free(names[j]);
                free(names);
            }
            if (dirfd >= 0)
                close(dirfd);
            continue;
        }
        for (int j = 0; j < n; j++) {
            struct stat fst;
            if (fstatat(dirfd, names[j]->d_name, &fst, 0) == 0 && S_ISREG(fst.st_mode)) {
                printf("replaying %s/%s\n", argv[i], names[j]->d_name);
                fflush(stdout);
                if (replay_file(dirfd, names[j]->d_name, names[j]->d_name) < 0)
                    failed = 1;
                else
                    count++;
            }
            free(names[j]);
        }
        free(names);
        close(dirfd);
    }
    printf("%u input(s) replayed%s\n", count, failed ? ", some unreadable" : "");
    return failed ? 1 : 0;
}

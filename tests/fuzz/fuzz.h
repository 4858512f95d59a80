/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared by the fuzz targets and their corpus replayer. A target is a
 * libFuzzer entry point; the same source also links into a replayer with
 * its own main() for builds without libFuzzer.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point every target defines. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A broken invariant in the code under test: prints what and where, then
 * aborts so the fuzzer records the input. Never returns.
 */
#define FUZZ_CHECK(cond, ...) \
    do { if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); } while (0)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

/* Open file descriptors of this process (from /proc/self/fd), pipes not
 * counted; -1 if unknown. */
int fuzz_count_fds(void);

/* The daemon logs errors only, or everything when VFSD_FUZZ_LOG is set in
 * the environment: malformed input logs on nearly every run. */
void fuzz_setup_logs(void);

/* Little-endian loads from unaligned input bytes. */
static inline uint16_t fuzz_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fuzz_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif

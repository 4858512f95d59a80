/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TAP output for the programs that run inside the test guest.
 *
 * Every result is one "ok N - what" / "not ok N - what" line on stdout,
 * diagnostics are "# ..." lines, and the plan is printed last by tap_done().
 * The host runner renumbers these lines and merges them with its own, so a
 * checker only has to say what it checked. Single-threaded use only.
 */
#ifndef VFS_GUEST_TAP_H
#define VFS_GUEST_TAP_H

#include <stdbool.h>

#define TAP_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Line-buffers stdout and stderr so results reach the serial port in order. */
void tap_init(void);

/* Prints one result; returns @pass so callers can stop a dependent sequence. */
bool tap_ok(bool pass, const char *fmt, ...) TAP_PRINTF(2, 3);

/* Prints one skipped result: "ok N - what # SKIP reason". */
void tap_skip(const char *reason, const char *fmt, ...) TAP_PRINTF(2, 3);

/* Prints "# ..." */
void tap_diag(const char *fmt, ...) TAP_PRINTF(1, 2);

/* Prints "Bail out! ..." and exits with status 2: nothing after it can run. */
void tap_bail(const char *fmt, ...) TAP_PRINTF(1, 2) __attribute__((noreturn));

/* Number of failed results so far. */
int tap_failures(void);

/* Prints the plan; returns the exit status (0 when every result passed). */
int tap_done(void);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_count;
static int tap_failed;

void tap_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	setvbuf(stderr, NULL, _IOLBF, 0);
}

static void tap_vline(const char *status, const char *fmt, va_list ap,
		      const char *directive)
{
	tap_count++;
	/* stderr carries perror-style notes; keep them ahead of the result. */
	fflush(stderr);
	printf("%s %d - ", status, tap_count);
	vprintf(fmt, ap);
	if (directive)
		printf(" # SKIP %s", directive);
	putchar('\n');
	fflush(stdout);
}

bool tap_ok(bool pass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline(pass ? "ok" : "not ok", fmt, ap, NULL);
	va_end(ap);
	if (!pass)
		tap_failed++;
	return pass;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vline("ok", fmt, ap, reason);
	va_end(ap);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fflush(stderr);
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;

	fflush(stderr);
	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(2);
}

int tap_failures(void)
{
	return tap_failed;
}

int tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

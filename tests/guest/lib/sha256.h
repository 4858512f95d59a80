/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4), so a checker can compare what it wrote and read
 * with `sha256sum` on the host without any library in the guest.
 */
#ifndef VFS_GUEST_SHA256_H
#define VFS_GUEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE (2 * SHA256_DIGEST_SIZE + 1)

struct sha256 {
	uint32_t h[8];
	uint64_t length;	/* bytes hashed so far */
	uint8_t block[64];
	size_t used;		/* bytes waiting in block[] */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Finishes @s and writes the lower-case hex digest (NUL-terminated) to @hex. */
void sha256_final_hex(struct sha256 *s, char hex[SHA256_HEX_SIZE]);

#endif

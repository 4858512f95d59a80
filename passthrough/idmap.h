/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UID or GID translation between guest and host (--translate-uid,
 * --translate-gid), done by the daemon itself (no user namespace needed).
 * One map translates one kind of id; the two directions are independent:
 *
 *     guest:<guest base>:<host base>:<count>          guest -> host, 1:1
 *     host:<host base>:<guest base>:<count>           host -> guest, 1:1
 *     squash-guest:<guest base>:<host id>:<count>     guest range -> one host id
 *     squash-host:<host base>:<guest id>:<count>      host range -> one guest id
 *     forbid-guest:<guest base>:<count>               guest ids refused (EPERM)
 *     map:<guest base>:<host base>:<count>            both directions, 1:1
 *
 * The type name may be in any case; the separator is the first character
 * after it that is not a letter, digit, '-' or '_', and must be the same for
 * every field. Ids no rule covers map to themselves. Two rules whose source
 * ranges in the same direction overlap are an error.
 *
 * Guest -> host applies to the credentials creating calls run with and to
 * the owner a SETATTR sets; host -> guest to every attribute reply.
 */
#ifndef PASSTHROUGH_IDMAP_H
#define PASSTHROUGH_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_idmap;

/* An empty map (everything maps to itself); owned by the caller. */
int pt_idmap_new(struct pt_idmap **out);
/* Accepts NULL. */
void pt_idmap_free(struct pt_idmap *map);

/*
 * Adds one rule. Returns 0, or -EINVAL after writing one line saying what is
 * wrong into err (errlen bytes): unknown type, wrong number of fields, a
 * field that is not a number, a range past 4294967295, an empty range, or an
 * overlap with an earlier rule. -ENOMEM.
 */
int pt_idmap_add(struct pt_idmap *map, const char *spec, char *err, size_t errlen);

/* True for NULL or a map without rules. */
bool pt_idmap_empty(const struct pt_idmap *map);

/*
 * Guest id -> host id: 0 with *host set, or -EPERM for a forbidden guest id.
 * map may be NULL (identity). Any thread.
 */
int pt_idmap_to_host(const struct pt_idmap *map, uint32_t guest, uint32_t *host);
/* Host id -> guest id. map may be NULL (identity). Any thread. */
uint32_t pt_idmap_to_guest(const struct pt_idmap *map, uint32_t host);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extended attribute name mapping (--xattrmap): which xattr names the guest
 * may use, under which name each is stored on the host, and which host names
 * a listing shows back to the guest.
 *
 * The rule syntax is the one of QEMU's C virtiofsd and the Rust virtiofsd.
 * A map is a list of rules, optionally separated by white space; the first
 * character of a rule is its separator, used for the whole rule:
 *
 *     :type:scope:key:prepend:
 *
 * type    prefix       a guest name starting with `key` is stored as
 *                      `prepend` + name; a host name starting with
 *                      `prepend` is listed without it
 *         ok           the name passes unchanged
 *         bad          a guest name is refused with EPERM (GETXATTR says
 *                      ENODATA), a host name is hidden from listings
 *         unsupported  a guest name is refused with ENOTSUP, a host name is
 *                      hidden
 * scope   client       the rule matches guest names against `key`
 *         server       the rule matches host names against `prepend`
 *         all          both
 *
 * The first rule whose scope and prefix match decides. A name no rule
 * matches is treated as by a final ":bad:all:::": refused from the guest,
 * hidden from listings.
 *
 *     :map:key:prepend:
 *
 * is shorthand for the rules that store every name starting with `key`
 * (every name, when `key` is empty) under `prepend`, hide host names under
 * `key` that are not prefixed, keep the guest out of `prepend` itself and let
 * everything else through. It must be the last rule, so there is at most one.
 */
#ifndef PASSTHROUGH_XATTRMAP_H
#define PASSTHROUGH_XATTRMAP_H

#include <stdbool.h>
#include <stddef.h>

enum pt_xattrmap_type {
    PT_XATTRMAP_PREFIX,
    PT_XATTRMAP_OK,
    PT_XATTRMAP_BAD,
    PT_XATTRMAP_UNSUPPORTED,
};

#define PT_XATTRMAP_CLIENT (1u << 0)
#define PT_XATTRMAP_SERVER (1u << 1)
#define PT_XATTRMAP_ALL    (PT_XATTRMAP_CLIENT | PT_XATTRMAP_SERVER)

/* One rule after parsing (a `map` rule appears as the rules it stands for). */
struct pt_xattrmap_rule {
    enum pt_xattrmap_type type;
    unsigned scope;           /* PT_XATTRMAP_CLIENT and/or PT_XATTRMAP_SERVER */
    char *key;                /* prefix of guest names; never NULL */
    char *prepend;            /* prefix of host names; never NULL */
};

struct pt_xattrmap;

/*
 * Parses a rule list. On success *out is owned by the caller (free with
 * pt_xattrmap_free()). On failure returns -EINVAL and writes one line saying
 * which rule is wrong and why into err (errlen bytes), or -ENOMEM.
 */
int pt_xattrmap_parse(const char *text, struct pt_xattrmap **out, char *err, size_t errlen);
/* Accepts NULL. */
void pt_xattrmap_free(struct pt_xattrmap *map);

/* The parsed rules, in order (for tests and logs). The rule belongs to map. */
size_t pt_xattrmap_count(const struct pt_xattrmap *map);
const struct pt_xattrmap_rule *pt_xattrmap_rule(const struct pt_xattrmap *map, size_t index);

/*
 * A guest name's host name, written to buf (size bytes, NUL-terminated).
 * Returns 0; -EPERM when a `bad` rule or no rule matches; -ENOTSUP for an
 * `unsupported` rule; -ERANGE when the host name would be longer than
 * XATTR_NAME_MAX or does not fit in buf.
 */
int pt_xattrmap_to_host(const struct pt_xattrmap *map, const char *guest_name, char *buf,
                        size_t size);
/*
 * The name a host xattr is listed under for the guest: a pointer into
 * host_name (the name itself, or what follows a stripped prefix), or NULL
 * when the name is hidden (also when stripping leaves nothing).
 */
const char *pt_xattrmap_to_guest(const struct pt_xattrmap *map, const char *host_name);
/*
 * Maps a LISTXATTR result ("name\0name\0...", len bytes) in place: hidden
 * names are dropped, prefixed ones shortened. Returns the new length (never
 * more than len). A trailing name without NUL is dropped.
 */
size_t pt_xattrmap_filter_list(const struct pt_xattrmap *map, char *list, size_t len);
/*
 * The host name "security.capability" is stored under when the map renames
 * it, else NULL (kept as it is, or refused). The host kernel drops the real
 * one on write, truncate and chown; a renamed one must be dropped by us.
 */
const char *pt_xattrmap_capability_name(const struct pt_xattrmap *map);

#endif

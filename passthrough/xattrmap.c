/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The --xattrmap rule list: parser and the two directions of mapping. The
 * syntax and its meaning are described in xattrmap.h.
 *
 * Rules are few and names short, so a linear walk over the rules is all the
 * lookup there is; the map is immutable after parsing and shared by every
 * thread without a lock.
 */
#include "passthrough/xattrmap.h"

#include <ctype.h>
#include <errno.h>
#include <linux/limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

struct pt_xattrmap {
    struct pt_xattrmap_rule *rules;
    size_t count;
    size_t cap;
    char *capability_name;    /* host name of "security.capability" if renamed */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int add_rule(struct pt_xattrmap *m, enum pt_xattrmap_type type, unsigned scope,
                    const char *key, size_t keylen, const char *prepend, size_t prependlen)
{
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct pt_xattrmap_rule *r = realloc(m->rules, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        m->rules = r;
        m->cap = cap;
    }
    struct pt_xattrmap_rule *r = &m->rules[m->count];
    r->type = type;
    r->scope = scope;
    r->key = strndup(key, keylen);
    r->prepend = strndup(prepend, prependlen);
    if (!r->key || !r->prepend) {
        free(r->key);
        free(r->prepend);
        return -ENOMEM;
    }
    m->count++;
    return 0;
}

/* A field of a rule: from *p up to the next separator, which is consumed. */
struct field {
    const char *s;
    size_t len;
};

static bool next_field(const char **p, char sep, struct field *f)
{
    const char *end = strchr(*p, sep);
    if (!end)
        return false;
    f->s = *p;
    f->len = (size_t)(end - *p);
    *p = end + 1;
    return true;
}

static bool field_is(const struct field *f, const char *word)
{
    return f->len == strlen(word) && memcmp(f->s, word, f->len) == 0;
}

/* `:map:key:prepend:` stands for these rules. */
static int add_map_rules(struct pt_xattrmap *m, const struct field *key,
                         const struct field *prepend)
{
    int r = add_rule(m, PT_XATTRMAP_PREFIX, PT_XATTRMAP_ALL, key->s, key->len, prepend->s,
                     prepend->len);
    if (r < 0)
        return r;
    if (key->len == 0) {
        /* Everything is prefixed: whatever the host has without the
         * prefix is not the guest's. */
        return add_rule(m, PT_XATTRMAP_BAD, PT_XATTRMAP_ALL, "", 0, "", 0);
    }
    /* Host names under `key` that are not prefixed are the host's own. */
    r = add_rule(m, PT_XATTRMAP_BAD, PT_XATTRMAP_SERVER, "", 0, key->s, key->len);
    /* The guest must not reach the prefixed names directly: that would
     * bypass whatever protects `key` in the guest. */
    if (r == 0)
        r = add_rule(m, PT_XATTRMAP_BAD, PT_XATTRMAP_CLIENT, prepend->s, prepend->len, "", 0);
    if (r == 0)
        r = add_rule(m, PT_XATTRMAP_OK, PT_XATTRMAP_ALL, "", 0, "", 0);
    return r;
}

static const char *field_name(unsigned i)
{
    static const char *const names[] = { "type", "scope", "key", "prepend" };
    return names[i];
}

/* Parses the rule starting at *p (its separator); advances past it. */
static int parse_rule(struct pt_xattrmap *m, const char **p, unsigned n, bool *was_map,
                      char *err, size_t errlen)
{
    char sep = **p;
    struct field f[4];
    const char *s = *p + 1;

    if (!next_field(&s, sep, &f[0]))
        return fail(err, errlen, "xattrmap rule %u: missing '%c' after the type", n, sep);
    bool is_map = field_is(&f[0], "map");
    enum pt_xattrmap_type type;
    if (is_map)
        type = PT_XATTRMAP_PREFIX;
    else if (field_is(&f[0], "prefix"))
        type = PT_XATTRMAP_PREFIX;
    else if (field_is(&f[0], "ok"))
        type = PT_XATTRMAP_OK;
    else if (field_is(&f[0], "bad"))
        type = PT_XATTRMAP_BAD;
    else if (field_is(&f[0], "unsupported"))
        type = PT_XATTRMAP_UNSUPPORTED;
    else
        return fail(err, errlen,
                    "xattrmap rule %u: unknown type '%.*s' (prefix, ok, bad, unsupported, map)",
                    n, (int)MIN(f[0].len, 32u), f[0].s);

    /* map has no scope: key and prepend follow the type. */
    unsigned first = is_map ? 2 : 1;
    for (unsigned i = first; i < 4; i++) {
        if (!next_field(&s, sep, &f[i]))
            return fail(err, errlen, "xattrmap rule %u: missing '%c' at the end of the %s field",
                        n, sep, field_name(i));
        if (i >= 2 && f[i].len > XATTR_NAME_MAX)
            return fail(err, errlen, "xattrmap rule %u: the %s field is longer than %d bytes",
                        n, field_name(i), XATTR_NAME_MAX);
    }
    *p = s;
    *was_map = is_map;
    if (is_map)
        return add_map_rules(m, &f[2], &f[3]);

    unsigned scope;
    if (field_is(&f[1], "client"))
        scope = PT_XATTRMAP_CLIENT;
    else if (field_is(&f[1], "server"))
        scope = PT_XATTRMAP_SERVER;
    else if (field_is(&f[1], "all"))
        scope = PT_XATTRMAP_ALL;
    else
        return fail(err, errlen, "xattrmap rule %u: unknown scope '%.*s' (client, server, all)",
                    n, (int)MIN(f[1].len, 32u), f[1].s);
    return add_rule(m, type, scope, f[2].s, f[2].len, f[3].s, f[3].len);
}

void pt_xattrmap_free(struct pt_xattrmap *map)
{
    if (!map)
        return;
    for (size_t i = 0; i < map->count; i++) {
        free(map->rules[i].key);
        free(map->rules[i].prepend);
    }
    free(map->rules);
    free(map->capability_name);
    free(map);
}

int pt_xattrmap_parse(const char *text, struct pt_xattrmap **out, char *err, size_t errlen)
{
    struct pt_xattrmap *m = calloc(1, sizeof(*m));
    const char *p = text ? text : "";
    unsigned n = 0;
    bool seen_map = false;
    int r = 0;

    if (!m)
        return -ENOMEM;
    err[0] = '\0';
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        n++;
        if (seen_map) {
            r = fail(err, errlen, "xattrmap rule %u: nothing may follow the map rule "
                     "(it must be the last)", n);
            goto out_free;
        }
        r = parse_rule(m, &p, n, &seen_map, err, errlen);
        if (r < 0)
            goto out_free;
    }
    if (n == 0) {
        r = fail(err, errlen, "xattrmap: no rules");
        goto out_free;
    }

    char name[XATTR_NAME_MAX + 1];
    if (pt_xattrmap_to_host(m, "security.capability", name, sizeof(name)) == 0 &&
        strcmp(name, "security.capability") != 0) {
        m->capability_name = strdup(name);
        if (!m->capability_name) {
            r = -ENOMEM;
            goto out_free;
        }
    }
    *out = m;
    return 0;

out_free:
    pt_xattrmap_free(m);
    return r;
}

size_t pt_xattrmap_count(const struct pt_xattrmap *map)
{
    return map->count;
}

const struct pt_xattrmap_rule *pt_xattrmap_rule(const struct pt_xattrmap *map, size_t index)
{
    return index < map->count ? &map->rules[index] : NULL;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int pt_xattrmap_to_host(const struct pt_xattrmap *map, const char *guest_name, char *buf,
                        size_t size)
{
    for (size_t i = 0; i < map->count; i++) {
        const struct pt_xattrmap_rule *r = &map->rules[i];
        if (!(r->scope & PT_XATTRMAP_CLIENT) || !starts_with(guest_name, r->key))
            continue;
        switch (r->type) {
        case PT_XATTRMAP_BAD:
            return -EPERM;
        case PT_XATTRMAP_UNSUPPORTED:
            return -ENOTSUP;
        case PT_XATTRMAP_OK:
        case PT_XATTRMAP_PREFIX: {
            const char *pre = r->type == PT_XATTRMAP_PREFIX ? r->prepend : "";
            size_t len = strlen(pre) + strlen(guest_name);
            if (len > XATTR_NAME_MAX || len >= size)
                return -ERANGE;
            snprintf(buf, size, "%s%s", pre, guest_name);
            return 0;
        }
        }
    }
    return -EPERM; /* the implicit final ":bad:all:::" */
}

const char *pt_xattrmap_to_guest(const struct pt_xattrmap *map, const char *host_name)
{
    for (size_t i = 0; i < map->count; i++) {
        const struct pt_xattrmap_rule *r = &map->rules[i];
        if (!(r->scope & PT_XATTRMAP_SERVER) || !starts_with(host_name, r->prepend))
            continue;
        switch (r->type) {
        case PT_XATTRMAP_OK:
            return host_name;
        case PT_XATTRMAP_PREFIX: {
            /* A name that is nothing but the prefix has no guest name. */
            const char *rest = host_name + strlen(r->prepend);
            return *rest ? rest : NULL;
        }
        case PT_XATTRMAP_BAD:
        case PT_XATTRMAP_UNSUPPORTED:
            return NULL;
        }
    }
    return NULL;
}

size_t pt_xattrmap_filter_list(const struct pt_xattrmap *map, char *list, size_t len)
{
    size_t in = 0, out = 0;

    while (in < len) {
        char *name = list + in;
        char *nul = memchr(name, '\0', len - in);
        if (!nul)
            break;
        size_t namelen = (size_t)(nul - name);
        in += namelen + 1;
        const char *guest = pt_xattrmap_to_guest(map, name);
        if (!guest)
            continue;
        size_t glen = strlen(guest);
        /* out <= start of this name, and guest lies within it: moving left
         * never overwrites a name not yet read. */
        memmove(list + out, guest, glen + 1);
        out += glen + 1;
    }
    return out;
}

const char *pt_xattrmap_capability_name(const struct pt_xattrmap *map)
{
    return map ? map->capability_name : NULL;
}

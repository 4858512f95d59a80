/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --translate-uid / --translate-gid: rule parser and lookups (see idmap.h).
 *
 * Each direction is a short array of non-overlapping source ranges, walked
 * linearly: a command line holds a handful of rules, and the walk runs once
 * per attribute reply. The map is immutable once the daemon serves.
 */
#include "passthrough/idmap.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

enum entry_kind {
    ENTRY_RANGE,  /* 1:1 onto [target, target + count) */
    ENTRY_SQUASH, /* all onto target */
    ENTRY_FAIL,   /* refused */
};

struct entry {
    uint32_t start;
    uint64_t end;             /* exclusive; <= UINT32_MAX */
    enum entry_kind kind;
    uint32_t target;
    char *spec;               /* the rule as given, for error messages */
};

struct direction {
    struct entry *e;
    size_t n;
};

struct pt_idmap {
    struct direction to_host;
    struct direction to_guest;
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

int pt_idmap_new(struct pt_idmap **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : -ENOMEM;
}

static void direction_done(struct direction *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].spec);
    free(d->e);
}

void pt_idmap_free(struct pt_idmap *map)
{
    if (!map)
        return;
    direction_done(&map->to_host);
    direction_done(&map->to_guest);
    free(map);
}

bool pt_idmap_empty(const struct pt_idmap *map)
{
    return !map || (map->to_host.n == 0 && map->to_guest.n == 0);
}

static const struct entry *find(const struct direction *d, uint32_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (id >= d->e[i].start && id < d->e[i].end)
            return &d->e[i];
    return NULL;
}

static uint32_t apply(const struct entry *e, uint32_t id)
{
    return e->kind == ENTRY_SQUASH ? e->target : e->target + (id - e->start);
}

int pt_idmap_to_host(const struct pt_idmap *map, uint32_t guest, uint32_t *host)
{
    const struct entry *e = map ? find(&map->to_host, guest) : NULL;
    if (!e) {
        *host = guest;
        return 0;
    }
    if (e->kind == ENTRY_FAIL)
        return -EPERM;
    *host = apply(e, guest);
    return 0;
}

uint32_t pt_idmap_to_guest(const struct pt_idmap *map, uint32_t host)
{
    const struct entry *e = map ? find(&map->to_guest, host) : NULL;
    return e ? apply(e, host) : host;
}

/* A decimal u32: digits only. */
static bool parse_u32(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* -EINVAL (with the message) when e's source range overlaps one in d. */
static int check_overlap(const struct direction *d, const char *dir_name,
                         const struct entry *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < d->n; i++) {
        if (e->start < d->e[i].end && d->e[i].start < e->end)
            return fail(err, errlen, "'%s': %s ids [%u, %llu) overlap those of '%s'", e->spec,
                        dir_name, e->start, (unsigned long long)e->end, d->e[i].spec);
    }
    return 0;
}

static int push(struct direction *d, const char *dir_name, struct entry *e, char *err,
                size_t errlen)
{
    int r = check_overlap(d, dir_name, e, err, errlen);
    if (r < 0)
        return r;
    struct entry *n = realloc(d->e, (d->n + 1) * sizeof(*n));
    if (!n)
        return -ENOMEM;
    d->e = n;
    e->spec = strdup(e->spec);
    if (!e->spec)
        return -ENOMEM;
    d->e[d->n++] = *e;
    return 0;
}

static const struct {
    const char *name;
    unsigned nfields;
} types[] = {
    { "guest", 3 }, { "host", 3 }, { "squash-guest", 3 }, { "squash-host", 3 },
    { "forbid-guest", 2 }, { "map", 3 },
};

int pt_idmap_add(struct pt_idmap *map, const char *spec, char *err, size_t errlen)
{
    char type[16];
    size_t tlen = 0;
    const char *p = spec;

    err[0] = '\0';
    while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '_')) {
        if (tlen + 1 < sizeof(type))
            type[tlen] = (char)tolower((unsigned char)*p);
        tlen++;
        p++;
    }
    if (tlen >= sizeof(type))
        tlen = sizeof(type) - 1; /* too long to be a type: reported below */
    type[tlen] = '\0';

    size_t t;
    for (t = 0; t < ARRAY_SIZE(types); t++)
        if (strcmp(type, types[t].name) == 0)
            break;
    if (t == ARRAY_SIZE(types))
        return fail(err, errlen, "'%s': unknown type '%s' (guest, host, squash-guest, "
                    "squash-host, forbid-guest, map)", spec, type);
    if (!*p)
        return fail(err, errlen, "'%s': expected %u numbers after '%s'", spec,
                    types[t].nfields, types[t].name);

    /* The separator is whatever follows the type; every field uses it. */
    char sep = *p++;
    uint32_t v[3];
    unsigned n = 0;
    for (;;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == types[t].nfields)
            return fail(err, errlen, "'%s': expected %u numbers after '%s', got more", spec,
                        types[t].nfields, types[t].name);
        if (!parse_u32(p, len, &v[n]))
            return fail(err, errlen, "'%s': '%.*s' is not a number from 0 to 4294967295",
                        spec, (int)MIN(len, 32u), p);
        n++;
        if (!end)
            break;
        p = end + 1;
    }
    if (n != types[t].nfields)
        return fail(err, errlen, "'%s': expected %u numbers after '%s', got %u", spec,
                    types[t].nfields, types[t].name, n);

    uint32_t base = v[0];
    uint32_t count = v[n - 1];
    uint32_t target = n == 3 ? v[1] : 0;
    if (count == 0)
        return fail(err, errlen, "'%s': the count must be at least 1", spec);
    if ((uint64_t)base + count > UINT32_MAX)
        return fail(err, errlen, "'%s': the range [%u, %u + %u) goes past 4294967295", spec,
                    base, base, count);
    bool squash = strncmp(types[t].name, "squash", 6) == 0;
    bool ranged = n == 3 && !squash;
    if (ranged && (uint64_t)target + count > UINT32_MAX)
        return fail(err, errlen, "'%s': the target range [%u, %u + %u) goes past 4294967295",
                    spec, target, target, count);
    if (squash && target == UINT32_MAX)
        return fail(err, errlen, "'%s': 4294967295 is not a valid id", spec);

    struct entry e = {
        .start = base, .end = (uint64_t)base + count, .target = target,
        .kind = squash ? ENTRY_SQUASH : ENTRY_RANGE, .spec = (char *)spec,
    };
    const char *name = types[t].name;
    if (strcmp(name, "forbid-guest") == 0) {
        e.kind = ENTRY_FAIL;
        return push(&map->to_host, "guest", &e, err, errlen);
    }
    if (strcmp(name, "guest") == 0 || strcmp(name, "squash-guest") == 0)
        return push(&map->to_host, "guest", &e, err, errlen);
    if (strcmp(name, "host") == 0 || strcmp(name, "squash-host") == 0)
        return push(&map->to_guest, "host", &e, err, errlen);

    /* map: both directions, each checked for overlaps before either is added. */
    struct entry back = {
        .start = target, .end = (uint64_t)target + count, .target = base,
        .kind = ENTRY_RANGE, .spec = (char *)spec,
    };
    int r = check_overlap(&map->to_host, "guest", &e, err, errlen);
    if (r == 0)
        r = check_overlap(&map->to_guest, "host", &back, err, errlen);
    if (r == 0)
        r = push(&map->to_host, "guest", &e, err, errlen);
    if (r == 0)
        r = push(&map->to_guest, "host", &back, err, errlen);
    return r;
}

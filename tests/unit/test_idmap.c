/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --translate-uid / --translate-gid rules: parser and both directions. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "passthrough/idmap.h"

static struct pt_idmap *map_of(const char *const *rules)
{
    struct pt_idmap *m;
    char err[256];
    g_assert_cmpint(pt_idmap_new(&m), ==, 0);
    for (; *rules; rules++) {
        int r = pt_idmap_add(m, *rules, err, sizeof(err));
        if (r != 0)
            g_test_message("'%s': %s", *rules, err);
        g_assert_cmpint(r, ==, 0);
    }
    return m;
}

/* Adding `rule` to a map of `before` fails; err mentions `needle`. */
static void add_bad(const char *const *before, const char *rule, const char *needle)
{
    static const char *const none[] = { NULL };
    struct pt_idmap *m = map_of(before ? before : none);
    char err[256];
    g_assert_cmpint(pt_idmap_add(m, rule, err, sizeof(err)), ==, -EINVAL);
    if (!strstr(err, needle))
        g_test_message("'%s' gave '%s', expected to mention '%s'", rule, err, needle);
    g_assert_nonnull(strstr(err, needle));
    pt_idmap_free(m);
}

static uint32_t host_of(const struct pt_idmap *m, uint32_t guest)
{
    uint32_t h = 0xdeadbeef;
    g_assert_cmpint(pt_idmap_to_host(m, guest, &h), ==, 0);
    return h;
}

static void test_empty_is_identity(void)
{
    struct pt_idmap *m;
    g_assert_cmpint(pt_idmap_new(&m), ==, 0);
    g_assert_true(pt_idmap_empty(m));
    g_assert_true(pt_idmap_empty(NULL));
    g_assert_cmpuint(host_of(m, 0), ==, 0);
    g_assert_cmpuint(host_of(m, 1000), ==, 1000);
    g_assert_cmpuint(host_of(NULL, 4242), ==, 4242);
    g_assert_cmpuint(pt_idmap_to_guest(m, 77), ==, 77);
    g_assert_cmpuint(pt_idmap_to_guest(NULL, 77), ==, 77);
    pt_idmap_free(m);
    pt_idmap_free(NULL);
}

static void test_every_type(void)
{
    static const char *const rules[] = {
        "guest:100:10100:10",         /* guest [100,110) -> host [10100,10110) */
        "host:20000:200:5",           /* host [20000,20005) -> guest [200,205) */
        "squash-guest:300:65534:100", /* guest [300,400) -> host 65534 */
        "squash-host:40000:65533:50", /* host [40000,40050) -> guest 65533 */
        "forbid-guest:500:10",        /* guest [500,510) refused */
        "map:1000:3000:2",            /* guest [1000,1002) <-> host [3000,3002) */
        NULL,
    };
    struct pt_idmap *m = map_of(rules);
    uint32_t h;
    g_assert_false(pt_idmap_empty(m));

    /* guest -> host */
    g_assert_cmpuint(host_of(m, 100), ==, 10100);
    g_assert_cmpuint(host_of(m, 109), ==, 10109);
    g_assert_cmpuint(host_of(m, 110), ==, 110);   /* just past the range */
    g_assert_cmpuint(host_of(m, 99), ==, 99);
    g_assert_cmpuint(host_of(m, 300), ==, 65534);
    g_assert_cmpuint(host_of(m, 399), ==, 65534);
    g_assert_cmpuint(host_of(m, 1000), ==, 3000);
    g_assert_cmpuint(host_of(m, 1001), ==, 3001);
    g_assert_cmpuint(host_of(m, 1002), ==, 1002);
    g_assert_cmpint(pt_idmap_to_host(m, 500, &h), ==, -EPERM);
    g_assert_cmpint(pt_idmap_to_host(m, 509, &h), ==, -EPERM);
    g_assert_cmpuint(host_of(m, 510), ==, 510);
    /* host-only rules do not act on guest ids */
    g_assert_cmpuint(host_of(m, 20000), ==, 20000);
    g_assert_cmpuint(host_of(m, 40000), ==, 40000);

    /* host -> guest */
    g_assert_cmpuint(pt_idmap_to_guest(m, 20000), ==, 200);
    g_assert_cmpuint(pt_idmap_to_guest(m, 20004), ==, 204);
    g_assert_cmpuint(pt_idmap_to_guest(m, 20005), ==, 20005);
    g_assert_cmpuint(pt_idmap_to_guest(m, 40049), ==, 65533);
    g_assert_cmpuint(pt_idmap_to_guest(m, 3000), ==, 1000);
    g_assert_cmpuint(pt_idmap_to_guest(m, 3001), ==, 1001);
    /* guest-only rules do not act on host ids */
    g_assert_cmpuint(pt_idmap_to_guest(m, 10100), ==, 10100);
    g_assert_cmpuint(pt_idmap_to_guest(m, 65534), ==, 65534);
    g_assert_cmpuint(pt_idmap_to_guest(m, 500), ==, 500);
    pt_idmap_free(m);
}

static void test_syntax_variants(void)
{
    /* Any case for the type, any separator that is not part of a name. */
    static const char *const rules[] = {
        "MAP:1:2:1", "Squash-Guest/10/20/5", "forbid-guest;30;2", "host.100.7.1", NULL,
    };
    struct pt_idmap *m = map_of(rules);
    uint32_t h;
    g_assert_cmpuint(host_of(m, 1), ==, 2);
    g_assert_cmpuint(pt_idmap_to_guest(m, 2), ==, 1);
    g_assert_cmpuint(host_of(m, 14), ==, 20);
    g_assert_cmpint(pt_idmap_to_host(m, 31, &h), ==, -EPERM);
    g_assert_cmpuint(pt_idmap_to_guest(m, 100), ==, 7);
    pt_idmap_free(m);

    /* The whole id space. */
    static const char *const wide[] = { "squash-guest:0:1000:4294967295", NULL };
    m = map_of(wide);
    g_assert_cmpuint(host_of(m, 0), ==, 1000);
    g_assert_cmpuint(host_of(m, 4294967294u), ==, 1000);
    pt_idmap_free(m);
}

static void test_bad_rules(void)
{
    add_bad(NULL, "squash:0:1:1", "unknown type 'squash'");
    add_bad(NULL, "", "unknown type ''");
    add_bad(NULL, ":1:2:3", "unknown type ''");
    add_bad(NULL, "map", "expected 3 numbers");
    add_bad(NULL, "map:1:2", "expected 3 numbers after 'map', got 2");
    add_bad(NULL, "map:1:2:3:4", "got more");
    add_bad(NULL, "forbid-guest:1:2:3", "expected 2 numbers after 'forbid-guest', got more");
    add_bad(NULL, "guest:1:2:", "'' is not a number");
    add_bad(NULL, "guest:1:-2:3", "'-2' is not a number");
    add_bad(NULL, "guest:1:0x10:3", "'0x10' is not a number");
    add_bad(NULL, "guest:1:4294967296:1", "'4294967296' is not a number");
    add_bad(NULL, "guest:1/2/3", "'1/2/3' is not a number"); /* one separator per rule */
    add_bad(NULL, "guest:1:2:0", "count must be at least 1");
    add_bad(NULL, "guest:4294967295:0:1", "goes past 4294967295");
    add_bad(NULL, "guest:10:4294967290:10", "target range");
    add_bad(NULL, "squash-host:0:4294967295:1", "not a valid id");
}

static void test_overlaps(void)
{
    /* Overlapping source ranges in one direction are an error... */
    static const char *const g[] = { "guest:100:1000:10", NULL };
    add_bad(g, "forbid-guest:109:5", "guest ids [109, 114) overlap those of 'guest:100:1000:10'");
    add_bad(g, "squash-guest:50:0:51", "overlap");
    add_bad(g, "map:105:5000:1", "overlap");
    static const char *const h[] = { "host:7000:1:10", NULL };
    add_bad(h, "squash-host:7009:2:1", "host ids [7009, 7010) overlap");
    add_bad(h, "map:1:7005:2", "host ids [7005, 7007) overlap");

    /* ...across directions, or merely adjacent, they are not (the example of
     * a guest allowed only ids 1000 and 2000). */
    static const char *const ok[] = {
        "forbid-guest:0:1000", "map:1000:1000:1", "forbid-guest:1001:999", "map:2000:2000:1",
        "forbid-guest:2001:4294965294", "host:100:1000:10", NULL,
    };
    struct pt_idmap *m = map_of(ok);
    uint32_t x;
    g_assert_cmpuint(host_of(m, 1000), ==, 1000);
    g_assert_cmpuint(host_of(m, 2000), ==, 2000);
    g_assert_cmpint(pt_idmap_to_host(m, 999, &x), ==, -EPERM);
    g_assert_cmpint(pt_idmap_to_host(m, 1500, &x), ==, -EPERM);
    g_assert_cmpint(pt_idmap_to_host(m, 4294967294u, &x), ==, -EPERM);
    pt_idmap_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/idmap/empty-is-identity", test_empty_is_identity);
    g_test_add_func("/idmap/every-type", test_every_type);
    g_test_add_func("/idmap/syntax-variants", test_syntax_variants);
    g_test_add_func("/idmap/bad-rules", test_bad_rules);
    g_test_add_func("/idmap/overlaps", test_overlaps);
    return g_test_run();
}

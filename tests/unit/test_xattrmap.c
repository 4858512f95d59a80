/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The --xattrmap parser and both directions of the mapping. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "passthrough/xattrmap.h"

static struct pt_xattrmap *parse_ok(const char *text)
{
    struct pt_xattrmap *m = NULL;
    char err[256];
    int r = pt_xattrmap_parse(text, &m, err, sizeof(err));
    if (r != 0)
        g_test_message("'%s': %s", text, err);
    g_assert_cmpint(r, ==, 0);
    g_assert_nonnull(m);
    return m;
}

/* Parses text, which must fail; err must mention `needle`. */
static void parse_bad(const char *text, const char *needle)
{
    struct pt_xattrmap *m = NULL;
    char err[256];
    g_assert_cmpint(pt_xattrmap_parse(text, &m, err, sizeof(err)), ==, -EINVAL);
    g_assert_null(m);
    if (!strstr(err, needle))
        g_test_message("'%s' gave '%s', expected to mention '%s'", text, err, needle);
    g_assert_nonnull(strstr(err, needle));
}

static void assert_rule(const struct pt_xattrmap *m, size_t i, enum pt_xattrmap_type type,
                        unsigned scope, const char *key, const char *prepend)
{
    const struct pt_xattrmap_rule *r = pt_xattrmap_rule(m, i);
    g_assert_nonnull(r);
    g_assert_cmpint(r->type, ==, type);
    g_assert_cmpuint(r->scope, ==, scope);
    g_assert_cmpstr(r->key, ==, key);
    g_assert_cmpstr(r->prepend, ==, prepend);
}

/* The host name of a guest name, or the error. */
static int to_host(const struct pt_xattrmap *m, const char *guest, char buf[256])
{
    return pt_xattrmap_to_host(m, guest, buf, 256);
}

static void test_every_type_and_scope(void)
{
    struct pt_xattrmap *m = parse_ok(":prefix:client:trusted.:user.virtiofs.:"
                                     ":ok:server::security.:"
                                     ":bad:all:secret.:hidden.:"
                                     ":unsupported:client:system.::"
                                     ":ok:all:::");
    g_assert_cmpuint(pt_xattrmap_count(m), ==, 5);
    assert_rule(m, 0, PT_XATTRMAP_PREFIX, PT_XATTRMAP_CLIENT, "trusted.", "user.virtiofs.");
    assert_rule(m, 1, PT_XATTRMAP_OK, PT_XATTRMAP_SERVER, "", "security.");
    assert_rule(m, 2, PT_XATTRMAP_BAD, PT_XATTRMAP_ALL, "secret.", "hidden.");
    assert_rule(m, 3, PT_XATTRMAP_UNSUPPORTED, PT_XATTRMAP_CLIENT, "system.", "");
    assert_rule(m, 4, PT_XATTRMAP_OK, PT_XATTRMAP_ALL, "", "");
    g_assert_null(pt_xattrmap_rule(m, 5));
    pt_xattrmap_free(m);
}

static void test_separators_and_space(void)
{
    /* Each rule picks its own separator; white space (newlines too) may
     * surround rules; ':' is an ordinary character under another separator. */
    struct pt_xattrmap *m = parse_ok("  /prefix/all/trusted./user.virtiofs./\n"
                                     "\t|bad|server||trusted.|  \n"
                                     ",ok,client,a:b.,,"
                                     " :ok:all::: ");
    g_assert_cmpuint(pt_xattrmap_count(m), ==, 4);
    assert_rule(m, 0, PT_XATTRMAP_PREFIX, PT_XATTRMAP_ALL, "trusted.", "user.virtiofs.");
    assert_rule(m, 1, PT_XATTRMAP_BAD, PT_XATTRMAP_SERVER, "", "trusted.");
    assert_rule(m, 2, PT_XATTRMAP_OK, PT_XATTRMAP_CLIENT, "a:b.", "");
    assert_rule(m, 3, PT_XATTRMAP_OK, PT_XATTRMAP_ALL, "", "");
    pt_xattrmap_free(m);
}

static void test_map_expansion(void)
{
    /* Everything prefixed: prefix all, then hide whatever is not. */
    struct pt_xattrmap *m = parse_ok(":map::user.virtiofs.:");
    g_assert_cmpuint(pt_xattrmap_count(m), ==, 2);
    assert_rule(m, 0, PT_XATTRMAP_PREFIX, PT_XATTRMAP_ALL, "", "user.virtiofs.");
    assert_rule(m, 1, PT_XATTRMAP_BAD, PT_XATTRMAP_ALL, "", "");
    pt_xattrmap_free(m);

    /* Some names prefixed: the four rules of QEMU's example 2. */
    m = parse_ok("/ok/client/user.//  /map/trusted./user.virtiofs./\n");
    g_assert_cmpuint(pt_xattrmap_count(m), ==, 5);
    assert_rule(m, 0, PT_XATTRMAP_OK, PT_XATTRMAP_CLIENT, "user.", "");
    assert_rule(m, 1, PT_XATTRMAP_PREFIX, PT_XATTRMAP_ALL, "trusted.", "user.virtiofs.");
    assert_rule(m, 2, PT_XATTRMAP_BAD, PT_XATTRMAP_SERVER, "", "trusted.");
    assert_rule(m, 3, PT_XATTRMAP_BAD, PT_XATTRMAP_CLIENT, "user.virtiofs.", "");
    assert_rule(m, 4, PT_XATTRMAP_OK, PT_XATTRMAP_ALL, "", "");
    pt_xattrmap_free(m);
}

static void test_bad_input(void)
{
    parse_bad("", "no rules");
    parse_bad("   \n\t ", "no rules");
    parse_bad(":prefix:client:trusted.:user.virtiofs.", "rule 1: missing ':' at the end of the prepend");
    parse_bad(":prefix:client:trusted.", "missing ':' at the end of the key");
    parse_bad(":prefix:client", "missing ':' at the end of the scope");
    parse_bad(":prefix", "missing ':' after the type");
    parse_bad(":ok:all::::prefx:all:::", "rule 2: unknown type 'prefx'");
    parse_bad(":okay:all:::", "unknown type 'okay'");
    parse_bad(":ok:both:::", "unknown scope 'both'");
    parse_bad(":ok:Client:::", "unknown scope 'Client'");
    parse_bad(":ok::::", "unknown scope ''");
    /* map: last rule, at most one, fields present. */
    parse_bad(":map::user.virtiofs.::ok:all:::", "rule 2: nothing may follow the map rule");
    parse_bad(":map:a.:b.::map:c.:d.:", "nothing may follow the map rule");
    parse_bad(":map:trusted.:", "missing ':' at the end of the prepend");
    parse_bad(":map:", "missing ':' at the end of the key");
    /* A field longer than any xattr name. */
    char longrule[400];
    memset(longrule, 'k', sizeof(longrule));
    memcpy(longrule, ":ok:client:", 11);
    strcpy(longrule + 11 + 300, ":x:");
    parse_bad(longrule, "key field is longer than 255");
}

static void test_client_names(void)
{
    char buf[256];
    struct pt_xattrmap *m = parse_ok(":prefix:client:trusted.:user.virtiofs.:"
                                     ":bad:client:user.virtiofs.::"
                                     ":unsupported:client:system.nfs4::"
                                     ":ok:client:user.::"
                                     ":ok:client:security.::");

    g_assert_cmpint(to_host(m, "trusted.overlay", buf), ==, 0);
    g_assert_cmpstr(buf, ==, "user.virtiofs.trusted.overlay");
    g_assert_cmpint(to_host(m, "user.foo", buf), ==, 0);
    g_assert_cmpstr(buf, ==, "user.foo");
    g_assert_cmpint(to_host(m, "security.selinux", buf), ==, 0);
    g_assert_cmpstr(buf, ==, "security.selinux");
    /* The first matching rule decides: user.virtiofs. is refused before
     * the ok rule for user. is reached. */
    g_assert_cmpint(to_host(m, "user.virtiofs.trusted.x", buf), ==, -EPERM);
    g_assert_cmpint(to_host(m, "system.nfs4_acl", buf), ==, -ENOTSUP);
    /* No rule matches: the implicit final bad rule. */
    g_assert_cmpint(to_host(m, "system.posix_acl_access", buf), ==, -EPERM);
    /* A mapped name longer than XATTR_NAME_MAX, or than the buffer. */
    char name[256];
    memset(name, 'n', sizeof(name));
    memcpy(name, "trusted.", 8);
    name[250] = '\0';
    g_assert_cmpint(to_host(m, name, buf), ==, -ERANGE);
    g_assert_cmpint(pt_xattrmap_to_host(m, "trusted.a", buf, 10), ==, -ERANGE);
    g_assert_cmpint(pt_xattrmap_to_host(m, "trusted.a", buf, 24), ==, 0);
    g_assert_cmpstr(buf, ==, "user.virtiofs.trusted.a");
    pt_xattrmap_free(m);
}

static void test_server_names(void)
{
    struct pt_xattrmap *m = parse_ok("/map/trusted./user.virtiofs./");
    g_assert_cmpstr(pt_xattrmap_to_guest(m, "user.virtiofs.trusted.a"), ==, "trusted.a");
    /* Stripping is what the prefix rule does, whatever follows. */
    g_assert_cmpstr(pt_xattrmap_to_guest(m, "user.virtiofs.other"), ==, "other");
    /* The host's own trusted. names are hidden, everything else passes. */
    g_assert_null(pt_xattrmap_to_guest(m, "trusted.host"));
    g_assert_cmpstr(pt_xattrmap_to_guest(m, "user.plain"), ==, "user.plain");
    g_assert_cmpstr(pt_xattrmap_to_guest(m, "security.selinux"), ==, "security.selinux");
    /* A name that is just the prefix has nothing to show. */
    g_assert_null(pt_xattrmap_to_guest(m, "user.virtiofs."));
    pt_xattrmap_free(m);

    /* Client-only rules never match host names: the implicit end hides them. */
    m = parse_ok(":ok:client:::");
    g_assert_null(pt_xattrmap_to_guest(m, "user.x"));
    pt_xattrmap_free(m);
    m = parse_ok(":unsupported:server::system.:  :ok:server:::");
    g_assert_null(pt_xattrmap_to_guest(m, "system.posix_acl_access"));
    g_assert_cmpstr(pt_xattrmap_to_guest(m, "user.x"), ==, "user.x");
    pt_xattrmap_free(m);
}

static void test_round_trip(void)
{
    /* What the guest sets under a name is listed back under that name. */
    const char *guest[] = { "user.foo", "trusted.overlay.opaque", "security.selinux" };
    struct pt_xattrmap *m = parse_ok(":map::user.virtiofs.:");
    char buf[256];
    for (size_t i = 0; i < G_N_ELEMENTS(guest); i++) {
        g_assert_cmpint(to_host(m, guest[i], buf), ==, 0);
        g_assert_true(g_str_has_prefix(buf, "user.virtiofs."));
        g_assert_cmpstr(pt_xattrmap_to_guest(m, buf), ==, guest[i]);
    }
    pt_xattrmap_free(m);
}

static void test_filter_list(void)
{
    struct pt_xattrmap *m = parse_ok(":map:user.:user.virtiofs.:");
    static const char host[] = "user.virtiofs.user.foo\0user.hostonly\0security.capability\0"
                               "user.virtiofs.user.bar\0system.posix_acl_access\0"
                               "user.virtiofs.\0";
    static const char want[] = "user.foo\0security.capability\0user.bar\0"
                               "system.posix_acl_access\0";
    char list[sizeof(host)];
    memcpy(list, host, sizeof(host));
    size_t len = pt_xattrmap_filter_list(m, list, sizeof(host) - 1);
    g_assert_cmpuint(len, ==, sizeof(want) - 1);
    g_assert_cmpmem(list, len, want, sizeof(want) - 1);

    /* Everything hidden, an empty list, and a name missing its NUL. */
    memcpy(list, "user.hostonly\0", 14);
    g_assert_cmpuint(pt_xattrmap_filter_list(m, list, 14), ==, 0);
    g_assert_cmpuint(pt_xattrmap_filter_list(m, list, 0), ==, 0);
    memcpy(list, "user.plain", 10);
    g_assert_cmpuint(pt_xattrmap_filter_list(m, list, 10), ==, 0);
    pt_xattrmap_free(m);
}

static void test_capability_name(void)
{
    struct pt_xattrmap *m = parse_ok(":map::user.virtiofs.:");
    g_assert_cmpstr(pt_xattrmap_capability_name(m), ==, "user.virtiofs.security.capability");
    pt_xattrmap_free(m);
    /* Kept under its own name, or refused: nothing for us to drop. */
    m = parse_ok(":map:trusted.:user.virtiofs.:");
    g_assert_null(pt_xattrmap_capability_name(m));
    pt_xattrmap_free(m);
    m = parse_ok(":bad:all:security.:security.: :ok:all:::");
    g_assert_null(pt_xattrmap_capability_name(m));
    pt_xattrmap_free(m);
    g_assert_null(pt_xattrmap_capability_name(NULL));
    pt_xattrmap_free(NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/xattrmap/parse/every-type-and-scope", test_every_type_and_scope);
    g_test_add_func("/xattrmap/parse/separators-and-space", test_separators_and_space);
    g_test_add_func("/xattrmap/parse/map-expansion", test_map_expansion);
    g_test_add_func("/xattrmap/parse/bad-input", test_bad_input);
    g_test_add_func("/xattrmap/client-names", test_client_names);
    g_test_add_func("/xattrmap/server-names", test_server_names);
    g_test_add_func("/xattrmap/round-trip", test_round_trip);
    g_test_add_func("/xattrmap/filter-list", test_filter_list);
    g_test_add_func("/xattrmap/capability-name", test_capability_name);
    return g_test_run();
}

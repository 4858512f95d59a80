/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The test client's directory record decoder. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "tests/lib/tc_fuse.h"

/* Appends one record the way a daemon lays it out. */
static size_t put(char *buf, size_t pos, bool plus, uint64_t ino, uint64_t off, const char *name)
{
    size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
    size_t namelen = strlen(name);
    size_t rec = FUSE_DIRENT_ALIGN(hdr + namelen);
    memset(buf + pos, 0, rec);
    if (plus) {
        struct fuse_entry_out e = { .nodeid = ino + 100 };
        e.attr.ino = ino;
        memcpy(buf + pos, &e, sizeof(e));
    }
    struct fuse_dirent d = { .ino = ino, .off = off, .namelen = (uint32_t)namelen, .type = DT_REG };
    memcpy(buf + pos + hdr - FUSE_NAME_OFFSET, &d, sizeof(d));
    memcpy(buf + pos + hdr, name, namelen);
    return pos + rec;
}

static void test_decode(gconstpointer data)
{
    bool plus = GPOINTER_TO_INT(data);
    char buf[1024] __attribute__((aligned(8)));
    size_t len = 0;
    const char *names[] = { ".", "a", "eight888", "a-longer-name-than-that" };

    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++)
        len = put(buf, len, plus, 10 + i, i + 1, names[i]);

    size_t pos = 0;
    struct tc_dirent e;
    for (unsigned i = 0; i < G_N_ELEMENTS(names); i++) {
        g_assert_cmpint(tc_dirent_next(buf, len, &pos, plus, &e), ==, 1);
        g_assert_cmpstr(e.name, ==, names[i]);
        g_assert_cmpuint(e.ino, ==, 10 + i);
        g_assert_cmpuint(e.off, ==, i + 1);
        g_assert_cmpuint(e.type, ==, DT_REG);
        g_assert_cmpuint(e.entry.nodeid, ==, plus ? 110 + i : 0);
        g_assert_cmpuint(pos % 8, ==, 0);
    }
    g_assert_cmpint(tc_dirent_next(buf, len, &pos, plus, &e), ==, 0);
    g_assert_cmpuint(pos, ==, len);
}

static void test_malformed(gconstpointer data)
{
    bool plus = GPOINTER_TO_INT(data);
    char buf[1024] __attribute__((aligned(8)));
    size_t hdr = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
    struct tc_dirent e;
    size_t pos, len;

    len = put(buf, 0, plus, 1, 1, "abc");
    /* truncated header, truncated name, missing padding */
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, hdr - 1, &pos, plus, &e), ==, -EPROTO);
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, hdr + 2, &pos, plus, &e), ==, -EPROTO);
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, len - 1, &pos, plus, &e), ==, -EPROTO);
    g_assert_cmpuint(pos, ==, 0);

    /* names that cannot be */
    put(buf, 0, plus, 1, 1, "a/b");
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, len, &pos, plus, &e), ==, -EPROTO);
    put(buf, 0, plus, 1, 1, "abc");
    buf[hdr + 1] = '\0';
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, len, &pos, plus, &e), ==, -EPROTO);

    struct fuse_dirent d = { .ino = 1, .namelen = 0 };
    memcpy(buf + hdr - FUSE_NAME_OFFSET, &d, sizeof(d));
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, len, &pos, plus, &e), ==, -EPROTO);
    d.namelen = 256;
    memcpy(buf + hdr - FUSE_NAME_OFFSET, &d, sizeof(d));
    pos = 0;
    g_assert_cmpint(tc_dirent_next(buf, sizeof(buf), &pos, plus, &e), ==, -EPROTO);
    /* a position past the end */
    pos = len + 8;
    g_assert_cmpint(tc_dirent_next(buf, len, &pos, plus, &e), ==, -EPROTO);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/tc_fuse/dirent/decode", GINT_TO_POINTER(0), test_decode);
    g_test_add_data_func("/tc_fuse/direntplus/decode", GINT_TO_POINTER(1), test_decode);
    g_test_add_data_func("/tc_fuse/dirent/malformed", GINT_TO_POINTER(0), test_malformed);
    g_test_add_data_func("/tc_fuse/direntplus/malformed", GINT_TO_POINTER(1), test_malformed);
    return g_test_run();
}

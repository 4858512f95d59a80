/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory handles: OPENDIR, READDIR, READDIRPLUS, FSYNCDIR, RELEASEDIR.
 *
 * Each handle keeps its own getdents64() stream and buffer. An offset is the
 * host's d_off cookie of the entry to resume at; the handle remembers the
 * cookie of the next buffered entry, so a listing that goes on where the
 * last call stopped continues from the buffer, and any other offset seeks
 * the stream there and starts afresh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "passthrough/internal.h"

#define PT_DIR_BUF_SIZE (32u * 1024u)

int pt_opendir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint32_t flags,
               uint64_t *fh, uint32_t *open_flags)
{
    struct pt_inode *inode = pt_inode_get(fs, nodeid);
    if (!inode)
        return -EBADF;
    int fd = S_ISDIR(inode->type)
        ? pt_inode_reopen(fs, inode, O_RDONLY | O_DIRECTORY)
        : -ENOTDIR;
    pt_inode_unref(fs, inode);
    if (fd < 0)
        return fd;

    struct pt_dir *dir = calloc(1, sizeof(*dir));
    if (!dir) {
        close(fd);
        return -ENOMEM;
    }
    pthread_mutex_init(&dir->lock, NULL);
    int r = pt_file_add(fs, fd, dir, fh);
    if (r < 0)
        return r;
    /* A cached listing only outlives the open with KEEP_CACHE: without it the
     * guest drops it at every OPENDIR. */
    *open_flags = (fs->cache == PT_CACHE_ALWAYS || fs->cache == PT_CACHE_METADATA)
                      ? FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE : 0;
    return 0;
}

int pt_releasedir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh)
{
    return pt_file_close(fs, fh);
}

int pt_fsyncdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
                bool datasync)
{
    struct pt_file *f = pt_file_get(fs, fh);
    if (!f)
        return -EBADF;
    int r;
    if (!f->dir)
        r = -ENOTDIR;
    else
        r = (datasync ? fdatasync(f->fd) : fsync(f->fd)) < 0 ? neg_errno() : 0;
    pt_file_put(fs, f);
    return r;
}

static bool is_dot_or_dotdot(const char *name)
{
    return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* d->lock held. Errors only count before the first emitted entry. */
static int readdir_locked(struct pt_fs *fs, int fd, struct pt_dir *d, struct pt_inode *dirinode,
                          uint64_t offset, pt_dirent_fn *emit, void *cookie)
{
    bool emitted = false;

    if (!d->buf) {
        d->buf = malloc(PT_DIR_BUF_SIZE);
        if (!d->buf)
            return -ENOMEM;
    }
    if (offset != d->offset) {
        if (offset > INT64_MAX)
            return -EINVAL;
        if (lseek(fd, (off_t)offset, SEEK_SET) < 0)
            return neg_errno();
        d->len = d->pos = 0;
        d->offset = offset;
    }

    for (;;) {
        if (d->pos >= d->len) {
            ssize_t n = getdents64(fd, d->buf, PT_DIR_BUF_SIZE);
            if (n < 0)
                return emitted ? 0 : neg_errno();
            if (n == 0)
                return 0; /* end of directory */
            d->len = (size_t)n;
            d->pos = 0;
        }

        struct dirent64 *de = (struct dirent64 *)(d->buf + d->pos);
        size_t reclen = de->d_reclen;
        size_t name_off = offsetof(struct dirent64, d_name);
        if (reclen <= name_off || reclen > d->len - d->pos) {
            /* A record we cannot parse: drop the buffer and stop. */
            d->len = d->pos = 0;
            return emitted ? 0 : -EIO;
        }
        struct pt_dirent ent = {
            .name = de->d_name,
            .namelen = strnlen(de->d_name, reclen - name_off),
            .ino = de->d_ino,
            .type = de->d_type,
            .next_off = (uint64_t)de->d_off,
            .entry = NULL,
        };
        struct pt_entry e;
        uint64_t looked_up = 0; /* nodeid that gained a lookup for this entry */

        if (dirinode) {
            if (is_dot_or_dotdot(de->d_name)) {
                memset(&e, 0, sizeof(e));
                e.attr.st.st_ino = de->d_ino;
                e.attr.st.st_mode = DTTOIF(de->d_type);
            } else {
                int r = pt_lookup_in(fs, dirinode, de->d_name, &e);
                if (r == -ENOENT) {
                    /* Removed since getdents64: it no longer exists. */
                    d->pos += reclen;
                    d->offset = (uint64_t)de->d_off;
                    continue;
                }
                if (r < 0)
                    return emitted ? 0 : r;
                looked_up = e.nodeid;
                /* The name may have been replaced since getdents64: the
                 * record describes what the lookup found. */
                ent.ino = e.attr.st.st_ino;
                ent.type = IFTODT(e.attr.st.st_mode);
            }
            ent.entry = &e;
        }

        if (!emit(cookie, &ent)) {
            /* The reply is full; the guest never sees this entry. */
            if (looked_up)
                pt_forget(fs, looked_up, 1);
            return 0;
        }
        emitted = true;
        d->pos += reclen;
        d->offset = (uint64_t)de->d_off;
    }
}

int pt_readdir(struct pt_fs *fs, const struct pt_ctx *ctx, uint64_t nodeid, uint64_t fh,
               uint64_t offset, bool plus, pt_dirent_fn *emit, void *cookie)
{
    struct pt_file *f = pt_file_get(fs, fh);
    if (!f)
        return -EBADF;
    struct pt_inode *dirinode = NULL;
    int r;
    if (!f->dir) {
        r = -ENOTDIR;
        goto out_put;
    }
    if (plus) {
        dirinode = pt_inode_get(fs, nodeid);
        if (!dirinode) {
            r = -EBADF;
            goto out_put;
        }
    }
    pthread_mutex_lock(&f->dir->lock);
    r = readdir_locked(fs, f->fd, f->dir, dirinode, offset, emit, cookie);
    pthread_mutex_unlock(&f->dir->lock);
    pt_inode_unref(fs, dirinode);
out_put:
    pt_file_put(fs, f);
    return r;
}

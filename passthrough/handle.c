/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The handle table: open files and directories, named by fh.
 *
 * The table holds one reference on a handle from OPEN until RELEASE; every
 * operation using it holds one more. RELEASE only drops the table's
 * reference (once, guarded by the `open` flag), so a READ racing with
 * RELEASE on the same fh keeps a valid fd until it is done, and the fd is
 * closed by whoever drops the last reference.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "passthrough/internal.h"

int pt_files_init(struct pt_fs *fs)
{
    return pt_idtable_init(&fs->files, sizeof(struct pt_file));
}

void pt_dir_free(struct pt_dir *dir)
{
    if (!dir)
        return;
    pthread_mutex_destroy(&dir->lock);
    free(dir->buf);
    free(dir);
}

/* Tears down a handle whose last reference is gone. */
static void file_free(struct pt_fs *fs, struct pt_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    pt_dir_free(f->dir);
    f->dir = NULL;
    pt_idtable_free(&fs->files, &f->slot);
}

static void file_unref(struct pt_fs *fs, struct pt_file *f)
{
    if (pt_slot_unref(&f->slot))
        file_free(fs, f);
}

void pt_files_done(struct pt_fs *fs)
{
    pt_files_close_all(fs);
    /* Handles a caller still holds with pt_file_get() (a leak on its side):
     * close them anyway, nothing may be in flight now. */
    uint32_t n = pt_idtable_size(&fs->files);
    for (uint32_t i = 1; i < n; i++) {
        struct pt_file *f = (struct pt_file *)pt_idtable_at(&fs->files, i);
        uint64_t st = atomic_load_explicit(&f->slot.state, memory_order_relaxed);
        if ((uint32_t)st != 0) {
            if (f->fd >= 0)
                close(f->fd);
            f->fd = -1;
            pt_dir_free(f->dir);
            f->dir = NULL;
        }
    }
    pt_idtable_done(&fs->files);
}

int pt_file_add(struct pt_fs *fs, int fd, struct pt_dir *dir, uint64_t *fh)
{
    struct pt_slot *slot;
    int r = pt_idtable_alloc(&fs->files, &slot);
    if (r < 0) {
        close(fd);
        pt_dir_free(dir);
        return r;
    }
    struct pt_file *f = (struct pt_file *)slot;
    f->fd = fd;
    int fl = dir ? -1 : fcntl(fd, F_GETFL);
    f->direct = fl >= 0 && (fl & O_DIRECT);
    f->dir = dir;
    atomic_store_explicit(&f->open, true, memory_order_relaxed);
    pt_slot_publish(&f->slot);
    *fh = pt_slot_id(&f->slot);
    return 0;
}

struct pt_file *pt_file_get(struct pt_fs *fs, uint64_t fh)
{
    struct pt_file *f = (struct pt_file *)pt_idtable_get(&fs->files, fh);
    if (!f)
        return NULL;
    /* Released but still in use by someone else: closed for new users. */
    if (!atomic_load_explicit(&f->open, memory_order_relaxed)) {
        file_unref(fs, f);
        return NULL;
    }
    return f;
}

int pt_file_fd(const struct pt_file *file)
{
    return file->fd;
}

bool pt_file_direct(const struct pt_file *file)
{
    return file->direct;
}

void pt_file_put(struct pt_fs *fs, struct pt_file *file)
{
    if (file)
        file_unref(fs, file);
}

int pt_file_close(struct pt_fs *fs, uint64_t fh)
{
    struct pt_file *f = (struct pt_file *)pt_idtable_get(&fs->files, fh);
    if (!f)
        return -EBADF;
    int r = 0;
    if (atomic_exchange_explicit(&f->open, false, memory_order_relaxed))
        file_unref(fs, f); /* the table's reference; ours keeps it alive */
    else
        r = -EBADF;
    file_unref(fs, f);
    return r;
}

void pt_files_close_all(struct pt_fs *fs)
{
    uint32_t n = pt_idtable_size(&fs->files);
    for (uint32_t i = 1; i < n; i++) {
        struct pt_slot *s = pt_idtable_at(&fs->files, i);
        if (!s || !pt_slot_tryref(s))
            continue;
        struct pt_file *f = (struct pt_file *)s;
        if (atomic_exchange_explicit(&f->open, false, memory_order_relaxed))
            file_unref(fs, f);
        file_unref(fs, f);
    }
}

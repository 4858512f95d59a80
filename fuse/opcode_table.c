/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One row per opcode: name, handler, fixed argument size, flags. Variable
 * parts (names, values, payload) are checked by the handlers' decoders.
 */
#include "fuse/internal.h"

#define OP(code, n, h, size, fl) [code] = { .name = n, .handler = h, .min_in = size, .flags = fl }

static const struct fp_opcode table[FP_OPCODE_MAX] = {
    OP(FUSE_LOOKUP, "LOOKUP", fp_op_lookup, 0, 0),
    OP(FUSE_FORGET, "FORGET", fp_op_forget, sizeof(struct fuse_forget_in), FP_NO_REPLY),
    OP(FUSE_GETATTR, "GETATTR", fp_op_getattr, sizeof(struct fuse_getattr_in), 0),
    OP(FUSE_SETATTR, "SETATTR", fp_op_setattr, sizeof(struct fuse_setattr_in), 0),
    OP(FUSE_READLINK, "READLINK", fp_op_readlink, 0, 0),
    OP(FUSE_SYMLINK, "SYMLINK", fp_op_symlink, 0, 0),
    OP(FUSE_MKNOD, "MKNOD", fp_op_mknod, sizeof(struct fuse_mknod_in), 0),
    OP(FUSE_MKDIR, "MKDIR", fp_op_mkdir, sizeof(struct fuse_mkdir_in), 0),
    OP(FUSE_UNLINK, "UNLINK", fp_op_unlink, 0, 0),
    OP(FUSE_RMDIR, "RMDIR", fp_op_rmdir, 0, 0),
    OP(FUSE_RENAME, "RENAME", fp_op_rename, sizeof(struct fuse_rename_in), 0),
    OP(FUSE_LINK, "LINK", fp_op_link, sizeof(struct fuse_link_in), 0),
    OP(FUSE_OPEN, "OPEN", fp_op_open, sizeof(struct fuse_open_in), 0),
    OP(FUSE_READ, "READ", fp_op_read, sizeof(struct fuse_read_in), 0),
    OP(FUSE_WRITE, "WRITE", fp_op_write, sizeof(struct fuse_write_in), FP_PAYLOAD),
    OP(FUSE_STATFS, "STATFS", fp_op_statfs, 0, 0),
    OP(FUSE_RELEASE, "RELEASE", fp_op_release, sizeof(struct fuse_release_in), 0),
    OP(FUSE_FSYNC, "FSYNC", fp_op_fsync, sizeof(struct fuse_fsync_in), 0),
    OP(FUSE_SETXATTR, "SETXATTR", fp_op_setxattr, 8, 0),
    OP(FUSE_GETXATTR, "GETXATTR", fp_op_getxattr, sizeof(struct fuse_getxattr_in), 0),
    OP(FUSE_LISTXATTR, "LISTXATTR", fp_op_listxattr, sizeof(struct fuse_getxattr_in), 0),
    OP(FUSE_REMOVEXATTR, "REMOVEXATTR", fp_op_removexattr, 0, 0),
    OP(FUSE_FLUSH, "FLUSH", fp_op_flush, sizeof(struct fuse_flush_in), 0),
    OP(FUSE_INIT, "INIT", fp_op_init, 16, FP_BEFORE_INIT),
    OP(FUSE_OPENDIR, "OPENDIR", fp_op_opendir, sizeof(struct fuse_open_in), 0),
    OP(FUSE_READDIR, "READDIR", fp_op_readdir, sizeof(struct fuse_read_in), 0),
    OP(FUSE_RELEASEDIR, "RELEASEDIR", fp_op_releasedir, sizeof(struct fuse_release_in), 0),
    OP(FUSE_FSYNCDIR, "FSYNCDIR", fp_op_fsyncdir, sizeof(struct fuse_fsync_in), 0),
    OP(FUSE_GETLK, "GETLK", fp_op_getlk, sizeof(struct fuse_lk_in), 0),
    OP(FUSE_SETLK, "SETLK", fp_op_setlk, sizeof(struct fuse_lk_in), 0),
    /* May wait for a lock: it does so on a thread of its own (lock.c). */
    OP(FUSE_SETLKW, "SETLKW", fp_op_setlkw, sizeof(struct fuse_lk_in), 0),
    OP(FUSE_ACCESS, "ACCESS", fp_op_access, sizeof(struct fuse_access_in), 0),
    OP(FUSE_CREATE, "CREATE", fp_op_create, sizeof(struct fuse_create_in), 0),
    OP(FUSE_INTERRUPT, "INTERRUPT", fp_op_interrupt, sizeof(struct fuse_interrupt_in),
       FP_NO_REPLY),
    OP(FUSE_BMAP, "BMAP", NULL, sizeof(struct fuse_bmap_in), 0),
    OP(FUSE_DESTROY, "DESTROY", fp_op_destroy, 0, 0),
    OP(FUSE_IOCTL, "IOCTL", fp_op_ioctl, sizeof(struct fuse_ioctl_in), 0),
    OP(FUSE_POLL, "POLL", NULL, sizeof(struct fuse_poll_in), 0),
    OP(FUSE_BATCH_FORGET, "BATCH_FORGET", fp_op_batch_forget,
       sizeof(struct fuse_batch_forget_in), FP_NO_REPLY),
    OP(FUSE_FALLOCATE, "FALLOCATE", fp_op_fallocate, sizeof(struct fuse_fallocate_in), 0),
    OP(FUSE_READDIRPLUS, "READDIRPLUS", fp_op_readdirplus, sizeof(struct fuse_read_in), 0),
    OP(FUSE_RENAME2, "RENAME2", fp_op_rename2, sizeof(struct fuse_rename2_in), 0),
    OP(FUSE_LSEEK, "LSEEK", fp_op_lseek, sizeof(struct fuse_lseek_in), 0),
    OP(FUSE_COPY_FILE_RANGE, "COPY_FILE_RANGE", fp_op_copy_file_range,
       sizeof(struct fuse_copy_file_range_in), 0),
    OP(FUSE_SETUPMAPPING, "SETUPMAPPING", NULL, sizeof(struct fuse_setupmapping_in), 0),
    OP(FUSE_REMOVEMAPPING, "REMOVEMAPPING", NULL, sizeof(struct fuse_removemapping_in), 0),
    OP(FUSE_SYNCFS, "SYNCFS", fp_op_syncfs, sizeof(struct fuse_syncfs_in), 0),
    OP(FUSE_TMPFILE, "TMPFILE", fp_op_tmpfile, sizeof(struct fuse_create_in), 0),
};

const struct fp_opcode *fp_opcode_get(uint32_t opcode)
{
    if (opcode >= FP_OPCODE_MAX || !table[opcode].name)
        return NULL;
    return &table[opcode];
}

const char *fp_opcode_name(uint32_t opcode)
{
    const struct fp_opcode *op = fp_opcode_get(opcode);
    return op ? op->name : "UNKNOWN";
}

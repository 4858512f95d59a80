/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line, in both peer styles: separate options
 * (`--shared-dir DIR --cache auto --xattr`) and the legacy `-o` list
 * (`-o source=DIR,cache=auto,xattr`).
 */
#ifndef DAEMON_OPTIONS_H
#define DAEMON_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "passthrough/passthrough.h"
#include "seccomp/sandbox.h"
#include "threadpool/executor.h"

struct vfsd_options {
    char *shared_dir;
    char *socket_path;
    int socket_fd;            /* --fd: a listening socket, -1 if unset */
    char *socket_group;
    char *tag;
    enum pt_cache cache;
    double timeout;           /* -o timeout=; < 0: cache mode default */
    bool xattr;
    bool readdirplus;
    bool readdirplus_set;     /* given explicitly (else depends on the cache mode) */
    bool writeback;
    bool allow_direct_io;
    bool announce_submounts;
    bool readonly;
    bool posix_acl;           /* --posix-acl (implies xattr) */
    bool security_label;      /* --security-label (implies xattr) */
    bool killpriv_v2;         /* --killpriv-v2; --no-killpriv-v2 is the default */
    struct pt_xattrmap *xattrmap; /* --xattrmap (implies xattr), owned; NULL: none */
    struct pt_idmap *uid_map; /* --translate-uid rules, owned; NULL: none */
    struct pt_idmap *gid_map; /* --translate-gid rules, owned; NULL: none */
    bool posix_lock;          /* --posix-lock, -o posix_lock: guest record locks on the host */
    bool flock;               /* --flock, -o flock: guest flock() on the host */
    bool allow_mmap;          /* --allow-mmap: shared mappings with cache never/metadata */
    bool preserve_noatime;    /* --preserve-noatime: keep the guest's O_NOATIME */
    enum pt_inode_handles inode_handles; /* --inode-file-handles */
    int log_level;            /* enum log_level */
    bool syslog;
    enum sbx_mode sandbox;
    enum sbx_seccomp seccomp;
    char *modcaps;            /* "+cap:-cap", NULL: unchanged */
    int thread_pool_size;     /* -1: unset */
    enum exec_mode exec_mode;
    bool exec_mode_set;
    unsigned auto_threshold;
    unsigned auto_slow_us;
    unsigned poll_max_us;     /* adaptive ring polling before sleeping; 0: off */
    unsigned num_request_queues; /* most request queues served */
    uint64_t rlimit_nofile;   /* 0: leave alone; UINT64_MAX: the default */
    bool print_capabilities;
    bool help;
    bool version;
};

/*
 * Parses argv into *o (defaults first). Returns 0, or -EINVAL after writing
 * one line saying what is wrong into err (size errlen). Strings in *o are
 * owned by it; free with vfsd_options_done().
 */
int vfsd_options_parse(int argc, char **argv, struct vfsd_options *o, char *err, size_t errlen);
void vfsd_options_done(struct vfsd_options *o);
void vfsd_options_usage(const char *prog);

#endif

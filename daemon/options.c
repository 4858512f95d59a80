/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "daemon/options.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "passthrough/idmap.h"
#include "passthrough/xattrmap.h"

#define DEFAULT_AUTO_THRESHOLD 3
#define DEFAULT_REQUEST_QUEUES 16
#define DEFAULT_AUTO_SLOW_US 30
#define DEFAULT_POLL_MAX_US 100

enum {
    OPT_SHARED_DIR = 1000, OPT_SOCKET_PATH, OPT_FD, OPT_SOCKET_GROUP, OPT_TAG, OPT_CACHE,
    OPT_THREAD_POOL_SIZE, OPT_XATTR, OPT_LOG_LEVEL, OPT_SYSLOG, OPT_SANDBOX,
    OPT_PRINT_CAPS, OPT_NO_READDIRPLUS, OPT_WRITEBACK, OPT_ALLOW_DIRECT_IO,
    OPT_ANNOUNCE_SUBMOUNTS, OPT_READONLY, OPT_RLIMIT_NOFILE, OPT_EXECUTOR, OPT_AUTO_THRESHOLD,
    OPT_REQUEST_QUEUES, OPT_DAEMONIZE, OPT_SECCOMP, OPT_MODCAPS, OPT_AUTO_SLOW_US, OPT_POLL_MAX_US,
    OPT_XATTRMAP, OPT_POSIX_ACL, OPT_SECURITY_LABEL, OPT_KILLPRIV_V2, OPT_NO_KILLPRIV_V2,
    OPT_TRANSLATE_UID, OPT_TRANSLATE_GID,
    OPT_POSIX_LOCK, OPT_FLOCK,
    OPT_ALLOW_MMAP, OPT_PRESERVE_NOATIME, OPT_INODE_FILE_HANDLES,
};

static const struct option long_opts[] = {
    { "shared-dir", required_argument, NULL, OPT_SHARED_DIR },
    { "socket-path", required_argument, NULL, OPT_SOCKET_PATH },
    { "fd", required_argument, NULL, OPT_FD },
    { "socket-group", required_argument, NULL, OPT_SOCKET_GROUP },
    { "tag", required_argument, NULL, OPT_TAG },
    { "cache", required_argument, NULL, OPT_CACHE },
    { "thread-pool-size", required_argument, NULL, OPT_THREAD_POOL_SIZE },
    { "xattr", no_argument, NULL, OPT_XATTR },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "syslog", no_argument, NULL, OPT_SYSLOG },
    { "sandbox", required_argument, NULL, OPT_SANDBOX },
    { "print-capabilities", no_argument, NULL, OPT_PRINT_CAPS },
    { "no-readdirplus", no_argument, NULL, OPT_NO_READDIRPLUS },
    { "writeback", no_argument, NULL, OPT_WRITEBACK },
    { "allow-direct-io", no_argument, NULL, OPT_ALLOW_DIRECT_IO },
    { "announce-submounts", no_argument, NULL, OPT_ANNOUNCE_SUBMOUNTS },
    { "readonly", no_argument, NULL, OPT_READONLY },
    { "posix-lock", no_argument, NULL, OPT_POSIX_LOCK },
    { "flock", no_argument, NULL, OPT_FLOCK },
    { "allow-mmap", no_argument, NULL, OPT_ALLOW_MMAP },
    { "preserve-noatime", no_argument, NULL, OPT_PRESERVE_NOATIME },
    { "inode-file-handles", optional_argument, NULL, OPT_INODE_FILE_HANDLES },
    { "rlimit-nofile", required_argument, NULL, OPT_RLIMIT_NOFILE },
    { "executor", required_argument, NULL, OPT_EXECUTOR },
    { "auto-threshold", required_argument, NULL, OPT_AUTO_THRESHOLD },
    { "auto-slow-us", required_argument, NULL, OPT_AUTO_SLOW_US },
    { "poll-max-us", required_argument, NULL, OPT_POLL_MAX_US },
    { "request-queues", required_argument, NULL, OPT_REQUEST_QUEUES },
    { "daemonize", no_argument, NULL, OPT_DAEMONIZE },
    { "seccomp", required_argument, NULL, OPT_SECCOMP },
    { "modcaps", required_argument, NULL, OPT_MODCAPS },
    { "xattrmap", required_argument, NULL, OPT_XATTRMAP },
    { "posix-acl", no_argument, NULL, OPT_POSIX_ACL },
    { "security-label", no_argument, NULL, OPT_SECURITY_LABEL },
    { "killpriv-v2", no_argument, NULL, OPT_KILLPRIV_V2 },
    { "no-killpriv-v2", no_argument, NULL, OPT_NO_KILLPRIV_V2 },
    { "translate-uid", required_argument, NULL, OPT_TRANSLATE_UID },
    { "translate-gid", required_argument, NULL, OPT_TRANSLATE_GID },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { "debug", no_argument, NULL, 'd' },
    { NULL, 0, NULL, 0 },
};

void vfsd_options_usage(const char *prog)
{
    printf("Usage: %s [OPTIONS] --socket-path PATH|--fd FD --shared-dir DIR\n"
           "       %s [OPTIONS] --socket-path PATH -o source=DIR[,OPTION...]\n"
           "\n"
           "Serves DIR to a virtual machine over a vhost-user-fs socket.\n"
           "\n"
           "  --shared-dir DIR            directory to share (-o source=DIR)\n"
           "  --socket-path PATH          vhost-user socket to create and listen on\n"
           "  --fd FD                     already listening socket to accept on\n"
           "  --socket-group GROUP        group owning the socket (mode 0660)\n"
           "  --tag TAG                   mount tag reported in the device config space\n"
           "  --cache never|metadata|auto|always\n"
           "                              guest caching (-o cache=; default auto; none = never)\n"
           "  --thread-pool-size N        worker threads; 0 runs requests on the queue threads\n"
           "  --executor inline|pool|auto|uring\n"
           "                              how requests run: on the queue thread, on the pool, inline\n"
           "                              while the queue is shallow and fast (auto), or with file\n"
           "                              I/O submitted to io_uring (default: inline when the pool\n"
           "                              size is 0, else pool)\n"
           "  --auto-threshold N          auto: queue depths up to N run inline, deeper ones too\n"
           "                              while requests are quick (default %d)\n"
           "  --auto-slow-us N            auto: a request slower than this (inline, or on the pool\n"
           "                              and asleep) marks the storage slow: what waits behind\n"
           "                              it goes to the pool (default %d)\n"
           "  --request-queues N          most request queues accepted (default %d)\n"
           "  --poll-max-us N             a queue thread polls its ring up to N us before sleeping,\n"
           "                              adapting to the load, up to 4 N while its io_uring I/O\n"
           "                              is out (default %d; 0: never poll)\n"
           "  --xattr                     extended attributes (-o xattr)\n"
           "  --xattrmap RULES            map xattr names between guest and host, e.g.\n"
           "                              ':map::user.virtiofs.:' (-o xattrmap=; implies --xattr)\n"
           "  --posix-acl                 POSIX ACLs, enforced by the guest, inherited on the host\n"
           "                              (-o posix_acl; implies --xattr)\n"
           "  --security-label            give new files the guest's security label\n"
           "                              (-o security_label; implies --xattr)\n"
           "  --killpriv-v2               clear set-id bits and capabilities on write, truncate\n"
           "                              and chown ourselves (-o killpriv_v2)\n"
           "  --no-killpriv-v2            leave that to the guest (default; -o no_killpriv_v2)\n"
           "  --translate-uid TYPE:A:B:N  translate uids between guest and host; TYPE is guest,\n"
           "                              host, squash-guest, squash-host, map (A guest, B host\n"
           "                              base for map), or forbid-guest:A:N; repeatable\n"
           "  --translate-gid TYPE:A:B:N  the same for gids (neither goes with --posix-acl)\n"
           "  --no-readdirplus            no READDIRPLUS (-o no_readdirplus)\n"
           "  --writeback                 writeback cache in the guest (-o writeback)\n"
           "  --allow-direct-io           honour O_DIRECT (-o allow_direct_io)\n"
           "  --allow-mmap                with --cache never|metadata, let the guest map files\n"
           "                              shared (guest kernels from Linux 6.6)\n"
           "  --preserve-noatime          keep O_NOATIME on opens (default: strip it)\n"
           "  --inode-file-handles[=never|prefer|mandatory]\n"
           "                              reference inodes by file handles instead of O_PATH fds\n"
           "                              (default never; without a value: prefer)\n"
           "  --announce-submounts        report mount points inside DIR to the guest\n"
           "  --readonly                  refuse every change\n"
           "  --posix-lock                guest fcntl() record locks hold on the host too\n"
           "                              (-o posix_lock)\n"
           "  --flock                     guest flock() locks hold on the host too (-o flock)\n"
           "  --rlimit-nofile N           open file limit (0: unchanged)\n"
           "  --sandbox namespace|chroot|none\n"
           "                              confinement (-o sandbox=; default namespace)\n"
           "  --seccomp kill|log|trap|none\n"
           "                              what a syscall outside the allow-list gets (default kill)\n"
           "  --modcaps +CAP:-CAP         capabilities to keep beyond / drop from the default set\n"
           "  --log-level error|warn|info|debug\n"
           "                              (-o log_level=; -d for debug)\n"
           "  --syslog                    log to syslog\n"
           "  --print-capabilities        print the vhost-user backend capabilities (JSON)\n"
           "  -h, --help                  this text\n"
           "  -V, --version               version\n"
           "\n"
           "Legacy -o options: source=DIR, cache=, timeout=SECONDS, xattr|no_xattr,\n"
           "readdirplus|no_readdirplus, writeback|no_writeback, allow_direct_io|no_allow_direct_io,\n"
           "announce_submounts, log_level=, sandbox=, xattrmap=, posix_acl|no_posix_acl,\n"
           "security_label|no_security_label, killpriv_v2|no_killpriv_v2, posix_lock|no_posix_lock,\n"
           "flock|no_flock ('\\,' is a comma inside a value). -f (foreground) is accepted and is\n"
           "the default. SIGUSR1 logs statistics.\n",
           prog, prog, DEFAULT_AUTO_THRESHOLD, DEFAULT_AUTO_SLOW_US, DEFAULT_REQUEST_QUEUES,
           DEFAULT_POLL_MAX_US);
}

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

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_cache(const char *s, enum pt_cache *out)
{
    static const struct { const char *name; enum pt_cache mode; } modes[] = {
        { "never", PT_CACHE_NEVER }, { "none", PT_CACHE_NEVER },
        { "metadata", PT_CACHE_METADATA }, { "auto", PT_CACHE_AUTO },
        { "always", PT_CACHE_ALWAYS },
    };
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
        if (strcasecmp(s, modes[i].name) == 0) {
            *out = modes[i].mode;
            return 0;
        }
    return -EINVAL;
}

static int parse_inode_handles(const char *s, enum pt_inode_handles *out)
{
    if (!s || strcmp(s, "prefer") == 0)
        *out = PT_HANDLES_PREFER;
    else if (strcmp(s, "never") == 0)
        *out = PT_HANDLES_NEVER;
    else if (strcmp(s, "mandatory") == 0)
        *out = PT_HANDLES_MANDATORY;
    else
        return -EINVAL;
    return 0;
}

static int parse_sandbox(const char *s, enum sbx_mode *out)
{
    if (strcmp(s, "namespace") == 0)
        *out = SBX_NAMESPACE;
    else if (strcmp(s, "chroot") == 0)
        *out = SBX_CHROOT;
    else if (strcmp(s, "none") == 0)
        *out = SBX_NONE;
    else
        return -EINVAL;
    return 0;
}

static int parse_seccomp(const char *s, enum sbx_seccomp *out)
{
    static const char *const names[] = {
        [SBX_SECCOMP_KILL] = "kill", [SBX_SECCOMP_LOG] = "log", [SBX_SECCOMP_TRAP] = "trap",
        [SBX_SECCOMP_NONE] = "none",
    };
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum sbx_seccomp)i;
            return 0;
        }
    return -EINVAL;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v);
}

static int set_xattrmap(struct vfsd_options *o, const char *rules, char *err, size_t errlen)
{
    struct pt_xattrmap *map;
    int r = pt_xattrmap_parse(rules, &map, err, errlen);
    if (r == -ENOMEM)
        return fail(err, errlen, "out of memory");
    if (r < 0)
        return r;
    pt_xattrmap_free(o->xattrmap);
    o->xattrmap = map;
    return 0;
}

static int add_idmap_rule(struct pt_idmap **map, const char *opt, const char *spec, char *err,
                          size_t errlen)
{
    char why[200];
    if (!*map && pt_idmap_new(map) < 0)
        return fail(err, errlen, "out of memory");
    int r = pt_idmap_add(*map, spec, why, sizeof(why));
    if (r == -ENOMEM)
        return fail(err, errlen, "out of memory");
    if (r < 0)
        return fail(err, errlen, "bad %s %s", opt, why);
    return 0;
}

/* One item of a -o list: "key" or "key=value". */
static int parse_o_item(struct vfsd_options *o, char *item, char *err, size_t errlen)
{
    char *val = strchr(item, '=');
    if (val)
        *val++ = '\0';
    struct {
        const char *name;
        bool *flag;
        bool value;
    } bools[] = {
        { "xattr", &o->xattr, true }, { "no_xattr", &o->xattr, false },
        { "writeback", &o->writeback, true }, { "no_writeback", &o->writeback, false },
        { "allow_direct_io", &o->allow_direct_io, true },
        { "no_allow_direct_io", &o->allow_direct_io, false },
        { "announce_submounts", &o->announce_submounts, true },
        { "readonly", &o->readonly, true },
        { "posix_acl", &o->posix_acl, true }, { "no_posix_acl", &o->posix_acl, false },
        { "security_label", &o->security_label, true },
        { "no_security_label", &o->security_label, false },
        { "killpriv_v2", &o->killpriv_v2, true }, { "no_killpriv_v2", &o->killpriv_v2, false },
        { "posix_lock", &o->posix_lock, true }, { "no_posix_lock", &o->posix_lock, false },
        { "flock", &o->flock, true }, { "no_flock", &o->flock, false },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bools); i++) {
        if (strcmp(item, bools[i].name) == 0) {
            if (val)
                return fail(err, errlen, "-o %s takes no value", item);
            *bools[i].flag = bools[i].value;
            return 0;
        }
    }
    if (strcmp(item, "readdirplus") == 0 || strcmp(item, "no_readdirplus") == 0) {
        o->readdirplus = item[0] == 'r';
        o->readdirplus_set = true;
        return 0;
    }
    if (!val || !*val) {
        if (strcmp(item, "source") == 0 || strcmp(item, "cache") == 0 ||
            strcmp(item, "timeout") == 0 || strcmp(item, "log_level") == 0 ||
            strcmp(item, "sandbox") == 0 || strcmp(item, "modcaps") == 0 ||
            strcmp(item, "xattrmap") == 0)
            return fail(err, errlen, "-o %s needs a value", item);
        return fail(err, errlen, "unknown option -o %s", item);
    }
    if (strcmp(item, "source") == 0) {
        set_str(&o->shared_dir, val);
    } else if (strcmp(item, "cache") == 0) {
        if (parse_cache(val, &o->cache) < 0)
            return fail(err, errlen, "bad cache mode '%s' (never, metadata, auto, always)", val);
    } else if (strcmp(item, "timeout") == 0) {
        char *end;
        double t = strtod(val, &end);
        if (*end || t < 0 || t > 1e9)
            return fail(err, errlen, "bad timeout '%s'", val);
        o->timeout = t;
    } else if (strcmp(item, "log_level") == 0) {
        int l = log_level_parse(val);
        if (l < 0)
            return fail(err, errlen, "bad log level '%s'", val);
        o->log_level = l;
    } else if (strcmp(item, "sandbox") == 0) {
        if (parse_sandbox(val, &o->sandbox) < 0)
            return fail(err, errlen, "bad sandbox '%s' (namespace, chroot, none)", val);
    } else if (strcmp(item, "modcaps") == 0) {
        set_str(&o->modcaps, val);
    } else if (strcmp(item, "xattrmap") == 0) {
        return set_xattrmap(o, val, err, errlen);
    } else {
        return fail(err, errlen, "unknown option -o %s", item);
    }
    return 0;
}

/*
 * Items are separated by commas; as in QEMU's virtiofsd (libfuse's option
 * parser), "\," is a comma inside an item (an xattr map may use ',' as its
 * separator) and "\\" a backslash. Empty items are skipped.
 */
static int parse_o_list(struct vfsd_options *o, const char *list, char *err, size_t errlen)
{
    _cleanup_free_ char *item = malloc(strlen(list) + 1);
    if (!item)
        return -ENOMEM;
    const char *p = list;
    for (;;) {
        size_t n = 0;
        while (*p && *p != ',') {
            if (*p == '\\' && (p[1] == ',' || p[1] == '\\'))
                p++;
            item[n++] = *p++;
        }
        item[n] = '\0';
        if (n) {
            int r = parse_o_item(o, item, err, errlen);
            if (r < 0)
                return r;
        }
        if (!*p)
            return 0;
        p++;
    }
}

int vfsd_options_parse(int argc, char **argv, struct vfsd_options *o, char *err, size_t errlen)
{
    uint64_t v;
    int c;

    memset(o, 0, sizeof(*o));
    o->socket_fd = -1;
    o->cache = PT_CACHE_AUTO;
    o->timeout = -1;
    o->readdirplus = true;
    o->log_level = LOG_LVL_INFO;
    o->sandbox = SBX_NAMESPACE;
    o->seccomp = SBX_SECCOMP_KILL;
    o->thread_pool_size = -1;
    o->auto_threshold = DEFAULT_AUTO_THRESHOLD;
    o->auto_slow_us = DEFAULT_AUTO_SLOW_US;
    o->poll_max_us = DEFAULT_POLL_MAX_US;
    o->num_request_queues = DEFAULT_REQUEST_QUEUES;
    o->rlimit_nofile = UINT64_MAX;
    err[0] = '\0';

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":ho:dfV", long_opts, NULL)) != -1) {
        int r = 0;
        switch (c) {
        case OPT_SHARED_DIR: set_str(&o->shared_dir, optarg); break;
        case OPT_SOCKET_PATH: set_str(&o->socket_path, optarg); break;
        case OPT_FD:
            if (parse_uint(optarg, INT_MAX, &v) < 0)
                return fail(err, errlen, "bad --fd '%s'", optarg);
            o->socket_fd = (int)v;
            break;
        case OPT_SOCKET_GROUP: set_str(&o->socket_group, optarg); break;
        case OPT_TAG:
            if (!*optarg || strlen(optarg) > 36)
                return fail(err, errlen, "--tag must be 1 to 36 bytes");
            set_str(&o->tag, optarg);
            break;
        case OPT_CACHE:
            if (parse_cache(optarg, &o->cache) < 0)
                return fail(err, errlen, "bad --cache '%s' (never, metadata, auto, always)",
                            optarg);
            break;
        case OPT_THREAD_POOL_SIZE:
            if (parse_uint(optarg, 1024, &v) < 0)
                return fail(err, errlen, "bad --thread-pool-size '%s' (0 to 1024)", optarg);
            o->thread_pool_size = (int)v;
            break;
        case OPT_EXECUTOR:
            if (exec_mode_parse(optarg, &o->exec_mode) < 0)
                return fail(err, errlen, "bad --executor '%s' (inline, pool, auto, uring)",
                            optarg);
            o->exec_mode_set = true;
            break;
        case OPT_AUTO_THRESHOLD:
            if (parse_uint(optarg, 65536, &v) < 0)
                return fail(err, errlen, "bad --auto-threshold '%s'", optarg);
            o->auto_threshold = (unsigned)v;
            break;
        case OPT_AUTO_SLOW_US:
            if (parse_uint(optarg, 10000000, &v) < 0 || v == 0)
                return fail(err, errlen, "bad --auto-slow-us '%s'", optarg);
            o->auto_slow_us = (unsigned)v;
            break;
        case OPT_POLL_MAX_US:
            if (parse_uint(optarg, 1000000, &v) < 0)
                return fail(err, errlen, "bad --poll-max-us '%s'", optarg);
            o->poll_max_us = (unsigned)v;
            break;
        case OPT_REQUEST_QUEUES:
            if (parse_uint(optarg, 255, &v) < 0 || v == 0)
                return fail(err, errlen, "bad --request-queues '%s' (1 to 255)", optarg);
            o->num_request_queues = (unsigned)v;
            break;
        case OPT_XATTR: o->xattr = true; break;
        case OPT_LOG_LEVEL:
            if ((r = log_level_parse(optarg)) < 0)
                return fail(err, errlen, "bad --log-level '%s' (error, warn, info, debug)",
                            optarg);
            o->log_level = r;
            break;
        case 'd': o->log_level = LOG_LVL_DEBUG; break;
        case OPT_SYSLOG: o->syslog = true; break;
        case OPT_SANDBOX:
            if (parse_sandbox(optarg, &o->sandbox) < 0)
                return fail(err, errlen, "bad --sandbox '%s' (namespace, chroot, none)", optarg);
            break;
        case OPT_SECCOMP:
            if (parse_seccomp(optarg, &o->seccomp) < 0)
                return fail(err, errlen, "bad --seccomp '%s' (kill, log, trap, none)", optarg);
            break;
        case OPT_MODCAPS: set_str(&o->modcaps, optarg); break;
        case OPT_XATTRMAP:
            if ((r = set_xattrmap(o, optarg, err, errlen)) < 0)
                return r;
            break;
        case OPT_POSIX_ACL: o->posix_acl = true; break;
        case OPT_SECURITY_LABEL: o->security_label = true; break;
        case OPT_KILLPRIV_V2: o->killpriv_v2 = true; break;
        case OPT_NO_KILLPRIV_V2: o->killpriv_v2 = false; break;
        case OPT_TRANSLATE_UID:
            if ((r = add_idmap_rule(&o->uid_map, "--translate-uid", optarg, err, errlen)) < 0)
                return r;
            break;
        case OPT_TRANSLATE_GID:
            if ((r = add_idmap_rule(&o->gid_map, "--translate-gid", optarg, err, errlen)) < 0)
                return r;
            break;
        case OPT_PRINT_CAPS: o->print_capabilities = true; break;
        case OPT_NO_READDIRPLUS: o->readdirplus = false; o->readdirplus_set = true; break;
        case OPT_WRITEBACK: o->writeback = true; break;
        case OPT_ALLOW_DIRECT_IO: o->allow_direct_io = true; break;
        case OPT_ANNOUNCE_SUBMOUNTS: o->announce_submounts = true; break;
        case OPT_READONLY: o->readonly = true; break;
        case OPT_POSIX_LOCK: o->posix_lock = true; break;
        case OPT_FLOCK: o->flock = true; break;
        case OPT_ALLOW_MMAP: o->allow_mmap = true; break;
        case OPT_PRESERVE_NOATIME: o->preserve_noatime = true; break;
        case OPT_INODE_FILE_HANDLES:
            if (parse_inode_handles(optarg, &o->inode_handles) < 0)
                return fail(err, errlen,
                            "bad --inode-file-handles '%s' (never, prefer, mandatory)", optarg);
            break;
        case OPT_RLIMIT_NOFILE:
            if (parse_uint(optarg, UINT32_MAX, &v) < 0)
                return fail(err, errlen, "bad --rlimit-nofile '%s'", optarg);
            o->rlimit_nofile = v;
            break;
        case OPT_DAEMONIZE:
            return fail(err, errlen, "--daemonize is not supported; run under a supervisor");
        case 'o':
            if ((r = parse_o_list(o, optarg, err, errlen)) < 0)
                return r;
            break;
        case 'f': break; /* always in the foreground */
        case 'h': o->help = true; break;
        case 'V': o->version = true; break;
        case ':':
            return fail(err, errlen, "option '%s' needs a value", argv[optind - 1]);
        default:
            return fail(err, errlen, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
    if (o->help || o->version || o->print_capabilities)
        return 0;

    if (!o->shared_dir)
        return fail(err, errlen, "no shared directory: give --shared-dir DIR or -o source=DIR");
    if (!o->socket_path && o->socket_fd < 0)
        return fail(err, errlen, "no socket: give --socket-path PATH or --fd FD");
    if (o->socket_path && o->socket_fd >= 0)
        return fail(err, errlen, "--socket-path and --fd exclude each other");
    if (o->posix_acl && !(pt_idmap_empty(o->uid_map) && pt_idmap_empty(o->gid_map)))
        return fail(err, errlen, "--posix-acl cannot be combined with --translate-uid or "
                    "--translate-gid: ACL entries hold ids that would not be translated");
    /* Each of these works through xattrs. */
    if (o->xattrmap || o->posix_acl || o->security_label)
        o->xattr = true;
    if (!o->readdirplus_set && o->cache == PT_CACHE_NEVER)
        o->readdirplus = false; /* nothing to cache, so no point reading attributes ahead */
    if (!o->exec_mode_set)
        o->exec_mode = o->thread_pool_size > 0 ? EXEC_POOL : EXEC_INLINE;
    if (o->thread_pool_size < 0)
        o->thread_pool_size = (o->exec_mode == EXEC_POOL || o->exec_mode == EXEC_AUTO) ? 4 : 0;
    if ((o->exec_mode == EXEC_POOL || o->exec_mode == EXEC_AUTO) && o->thread_pool_size == 0)
        return fail(err, errlen, "--executor %s needs --thread-pool-size > 0",
                    exec_mode_name(o->exec_mode));
    return 0;
}

void vfsd_options_done(struct vfsd_options *o)
{
    free(o->shared_dir);
    free(o->socket_path);
    free(o->socket_group);
    free(o->tag);
    free(o->modcaps);
    pt_xattrmap_free(o->xattrmap);
    pt_idmap_free(o->uid_map);
    pt_idmap_free(o->gid_map);
    memset(o, 0, sizeof(*o));
}

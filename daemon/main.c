/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtiofsd: serves a host directory to a guest over vhost-user-fs.
 * main() parses the command line, opens the shared directory and the
 * socket, wires filesystem, FUSE engine, executor and vhost device
 * together, and serves one frontend connection.
 */
#include <errno.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "config.h"
#include "daemon/options.h"
#include "daemon/socket.h"
#include "fuse/session.h"
#include "passthrough/passthrough.h"
#include "seccomp/sandbox.h"
#include "threadpool/executor.h"
#include "vhost/device.h"

struct daemon {
    struct vfsd_options opt;
    struct pt_fs *fs;
    struct fp_session *session;
    struct exec *exec;
    struct vhu_dev *dev;
    int sig_fd;
};

static void print_capabilities(void)
{
    /* What libvirt reads: a filesystem backend that takes separate options. */
    printf("{\n  \"type\": \"fs\",\n  \"features\": [\n    \"separate-options\"\n  ]\n}\n");
}

static void log_all_stats(struct daemon *d)
{
    struct pt_counts c;
    if (d->dev)
        vhu_dev_log_stats(d->dev);
    if (d->exec)
        exec_log_stats(d->exec);
    if (d->session)
        fp_session_log_stats(d->session);
    pt_get_counts(d->fs, &c);
    log_info("filesystem: %llu inodes, %llu open handles", (unsigned long long)c.inodes,
             (unsigned long long)c.handles);
}

/* Reads pending signals; returns true when asked to exit. */
static bool on_signal(void *arg)
{
    struct daemon *d = arg;
    struct signalfd_siginfo si;
    bool quit = false;

    while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGUSR1) {
            log_all_stats(d);
        } else {
            log_info("received signal %u, exiting", si.ssi_signo);
            quit = true;
        }
    }
    return quit;
}

static int setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    /* Blocked before any thread starts, so every thread inherits the mask. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -EINVAL;
    signal(SIGPIPE, SIG_IGN);
    int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return fd < 0 ? neg_errno() : fd;
}

static void raise_nofile(uint64_t want)
{
    struct rlimit rl;
    if (want == 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (want == UINT64_MAX) {
        /* Default: a million, or what the kernel allows. */
        want = 1000000;
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");
        unsigned long long nr;
        if (f) {
            if (fscanf(f, "%llu", &nr) == 1 && nr < want)
                want = nr;
            fclose(f);
        }
        if (rl.rlim_cur >= want)
            return;
    }
    struct rlimit nrl = { .rlim_cur = want, .rlim_max = MAX(rl.rlim_max, want) };
    if (setrlimit(RLIMIT_NOFILE, &nrl) == 0)
        return;
    /* Without CAP_SYS_RESOURCE the hard limit is as far as we go. */
    nrl.rlim_cur = nrl.rlim_max = rl.rlim_max;
    if (rl.rlim_cur < rl.rlim_max && setrlimit(RLIMIT_NOFILE, &nrl) < 0)
        log_warn("cannot raise the open file limit: %s", strerror(errno));
    log_info("open file limit: %llu (wanted %llu)", (unsigned long long)rl.rlim_max,
             (unsigned long long)want);
}

/* Waits for the frontend; returns the connected fd, -EINTR when asked to exit. */
static int wait_connection(struct daemon *d, int listen_fd)
{
    for (;;) {
        struct pollfd pfd[2] = {
            { .fd = listen_fd, .events = POLLIN },
            { .fd = d->sig_fd, .events = POLLIN },
        };
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return neg_errno();
        }
        if ((pfd[1].revents & POLLIN) && on_signal(d))
            return -EINTR;
        if (pfd[0].revents & POLLIN) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                return fd;
            if (errno != EINTR && errno != ECONNABORTED)
                return neg_errno();
        }
    }
}

static void exec_handle(void *ctx, struct req *req)
{
    fp_dispatch(ctx, req);
}

static void *queue_start(void *opaque, unsigned index)
{
    struct daemon *d = opaque;
    /* Queue 0 carries FORGET and INTERRUPT: cheap, never worth a hand-off. */
    return exec_queue_new(d->exec, index, index == 0);
}

static void queue_handle(void *qctx, struct req **reqs, unsigned n)
{
    exec_queue_submit(qctx, reqs, n);
}

static int queue_poll_fd(void *qctx)
{
    return exec_queue_poll_fd(qctx);
}

static void queue_poll(void *qctx)
{
    exec_queue_poll(qctx);
}

static bool queue_ready(void *qctx)
{
    return exec_queue_ready(qctx);
}

static bool queue_pending(void *qctx)
{
    return exec_queue_pending(qctx);
}

static void queue_drain(void *qctx)
{
    exec_queue_drain(qctx);
}

static void queue_stop(void *qctx)
{
    exec_queue_free(qctx);
}

static void queue_cancel(void *opaque, struct req *req)
{
    struct daemon *d = opaque;
    /* A lock still waited for when its queue stops is not granted. */
    fp_session_cancel(d->session, req, -EINTR);
}

static int serve(struct daemon *d, int conn_fd)
{
    struct fp_config fcfg = {
        .max_write = 1u << 20,
        .readdirplus = d->opt.readdirplus,
        .writeback = d->opt.writeback,
        .announce_submounts = d->opt.announce_submounts,
        .posix_acl = d->opt.posix_acl,
        .killpriv_v2 = d->opt.killpriv_v2,
        .security_label = d->opt.security_label,
        .posix_lock = d->opt.posix_lock,
        .flock = d->opt.flock,
        .allow_mmap = d->opt.allow_mmap,
        .cache = d->opt.cache,
    };
    struct vhu_dev_config vcfg = {
        .max_queues = 1 + d->opt.num_request_queues,
        .num_request_queues = d->opt.num_request_queues,
        .poll_max_us = d->opt.poll_max_us,
        .tag = d->opt.tag,
        .handler = {
            .start = queue_start, .handle = queue_handle, .poll_fd = queue_poll_fd,
            .poll = queue_poll, .drain = queue_drain, .ready = queue_ready,
            .pending = queue_pending,
            .stop = queue_stop, .cancel = queue_cancel, .opaque = d,
        },
    };
    int r = fp_session_new(&fcfg, d->fs, &d->session);
    if (r < 0) {
        close(conn_fd);
        return r;
    }
    struct exec_config ecfg = {
        .mode = d->opt.exec_mode,
        .pool_size = (unsigned)d->opt.thread_pool_size,
        .auto_threshold = d->opt.auto_threshold,
        .auto_slow_us = d->opt.auto_slow_us,
        .queue_size = 1024,
    };
    r = exec_new(&ecfg, exec_handle, d->session, &d->exec);
    if (r == 0)
        r = vhu_dev_new(&vcfg, &d->dev);
    if (r < 0) {
        log_error("cannot set up the device: %s", strerror(-r));
        close(conn_fd);
    } else {
        log_info("frontend connected");
        r = vhu_dev_serve(d->dev, conn_fd, d->sig_fd, on_signal, d);
    }
    vhu_dev_free(d->dev);
    d->dev = NULL;
    exec_free(d->exec);
    d->exec = NULL;
    fp_session_free(d->session);
    d->session = NULL;
    pt_destroy(d->fs);
    return r;
}

int main(int argc, char **argv)
{
    struct daemon d = { .sig_fd = -1 };
    bool socket_created = false;
    char err[256];
    int ret = EXIT_FAILURE;

    if (vfsd_options_parse(argc, argv, &d.opt, err, sizeof(err)) < 0) {
        fprintf(stderr, "virtiofsd: %s (see --help)\n", err);
        vfsd_options_done(&d.opt);
        return EXIT_FAILURE;
    }
    if (d.opt.help) {
        vfsd_options_usage(argv[0]);
        ret = EXIT_SUCCESS;
        goto out;
    }
    if (d.opt.version) {
        printf("virtiofsd %s\n", VFSD_VERSION);
        ret = EXIT_SUCCESS;
        goto out;
    }
    if (d.opt.print_capabilities) {
        print_capabilities();
        ret = EXIT_SUCCESS;
        goto out;
    }

    log_set_level((enum log_level)d.opt.log_level);
    if (d.opt.syslog)
        log_use_syslog("virtiofsd");

    d.sig_fd = setup_signals();
    if (d.sig_fd < 0) {
        fprintf(stderr, "virtiofsd: cannot set up signal handling\n");
        goto out;
    }
    raise_nofile(d.opt.rlimit_nofile);

    /* The socket first: its path is outside the shared directory. */
    int listen_fd, r;
    if (d.opt.socket_path) {
        listen_fd = vfsd_socket_listen(d.opt.socket_path, d.opt.socket_group);
        if (listen_fd < 0) {
            fprintf(stderr, "virtiofsd: cannot listen on '%s': %s\n", d.opt.socket_path,
                    strerror(-listen_fd));
            goto out;
        }
        socket_created = true;
    } else {
        listen_fd = d.opt.socket_fd;
        r = vfsd_socket_check_fd(listen_fd);
        if (r < 0) {
            fprintf(stderr, "virtiofsd: --fd %d is not a listening unix socket: %s\n",
                    listen_fd, strerror(-r));
            goto out;
        }
    }

    struct sbx_result sbx;
    r = sbx_enter(d.opt.sandbox, d.opt.shared_dir, &sbx);
    if (r == 1) {
        /* namespace mode: the child served and is gone */
        close(listen_fd);
        ret = sbx.exit_status;
        goto out;
    }
    if (r < 0) {
        fprintf(stderr, "virtiofsd: cannot set up the sandbox: %s\n", strerror(-r));
        goto out;
    }
    /* Inside the sandbox the socket path is out of reach: the parent (or
     * nobody, for chroot) removes it. */
    if (d.opt.sandbox != SBX_NONE)
        socket_created = false;

    struct pt_config pcfg = {
        .shared_dir = sbx.shared_dir,
        .cache = d.opt.cache,
        .timeout = d.opt.timeout,
        .xattr = d.opt.xattr,
        .allow_direct_io = d.opt.allow_direct_io,
        .readonly = d.opt.readonly,
        .announce_submounts = d.opt.announce_submounts,
        .preserve_noatime = d.opt.preserve_noatime,
        .inode_handles = d.opt.inode_handles,
        .proc_self_fd = sbx.proc_self_fd,
        .xattrmap = d.opt.xattrmap,
        .uid_map = d.opt.uid_map,
        .gid_map = d.opt.gid_map,
    };
    /* open_by_handle_at() needs CAP_DAC_READ_SEARCH: kept below unless the
     * user drops it, and then file handles cannot work. */
    if (pcfg.inode_handles != PT_HANDLES_NEVER &&
        sbx_modcaps_drops(d.opt.modcaps, CAP_DAC_READ_SEARCH)) {
        if (pcfg.inode_handles == PT_HANDLES_MANDATORY) {
            fprintf(stderr, "virtiofsd: --inode-file-handles=mandatory needs "
                            "CAP_DAC_READ_SEARCH, which --modcaps drops\n");
            goto out;
        }
        log_warn("--modcaps drops CAP_DAC_READ_SEARCH: inodes keep O_PATH fds");
        pcfg.inode_handles = PT_HANDLES_NEVER;
    }
    r = pt_fs_new(&pcfg, &d.fs);
    if (sbx.proc_self_fd >= 0)
        close(sbx.proc_self_fd);
    if (r < 0) {
        fprintf(stderr, "virtiofsd: cannot share '%s': %s%s\n", d.opt.shared_dir, strerror(-r),
                pcfg.inode_handles == PT_HANDLES_MANDATORY
                    ? " (--inode-file-handles=mandatory: its file handles cannot be used)" : "");
        goto out;
    }
    static const int handle_caps[] = { CAP_DAC_READ_SEARCH };
    bool handles = pt_fs_inode_handles(d.fs) != PT_HANDLES_NEVER;
    if (pcfg.inode_handles != PT_HANDLES_NEVER && !handles)
        log_info("no file handles on '%s': inodes keep O_PATH fds", d.opt.shared_dir);
    if (sbx_caps_drop_keep(d.opt.modcaps, handle_caps, handles ? ARRAY_SIZE(handle_caps) : 0) < 0 ||
        sbx_seccomp_apply(d.opt.seccomp) < 0) {
        fprintf(stderr, "virtiofsd: cannot confine the daemon\n");
        goto out;
    }

    log_info("serving '%s' on %s (cache %s, executor %s, %d worker threads)", d.opt.shared_dir,
             d.opt.socket_path ? d.opt.socket_path : "an inherited socket",
             (const char *[]){ "never", "metadata", "auto", "always" }[d.opt.cache],
             exec_mode_name(d.opt.exec_mode), d.opt.thread_pool_size);

    int conn_fd = wait_connection(&d, listen_fd);
    /* One frontend per daemon: stop listening once it is here. */
    close(listen_fd);
    if (conn_fd == -EINTR) {
        ret = EXIT_SUCCESS;
        goto out;
    }
    if (conn_fd < 0) {
        log_error("accept failed: %s", strerror(-conn_fd));
        goto out;
    }
    r = serve(&d, conn_fd);
    ret = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

out:
    if (socket_created)
        unlink(d.opt.socket_path);
    pt_fs_free(d.fs);
    if (d.sig_fd >= 0)
        close(d.sig_fd);
    vfsd_options_done(&d.opt);
    return ret;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Contenders: a name and a command template ({socket}, {dir}, {daemon},
 * {qemu}, {pool}, {queues} substituted), or the built-in host contender.
 * A daemon contender is started once per (workload, backend) group,
 * connected once, and kept for all its points and rounds.
 */
/* before glib.h, which redefines MIN and MAX the same way after an #undef */
#include "common/cleanup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "contrib/bench/bench.h"

#define OUR_DAEMON "{daemon} --socket-path={socket} --shared-dir={dir} --cache=auto --allow-direct-io"
#define QEMU_DAEMON "{qemu} --socket-path={socket} -o source={dir} -o cache=auto -o allow_direct_io"

static const struct {
    const char *name;
    const char *tmpl;   /* NULL: the host contender */
    const char *what;
} presets[] = {
    { "inline", OUR_DAEMON " --executor=inline", "our daemon, requests on the queue thread" },
    { "pool", OUR_DAEMON " --executor=pool --thread-pool-size={pool}", "our daemon, worker pool" },
    { "auto", OUR_DAEMON " --executor=auto --thread-pool-size={pool}",
      "our daemon, inline for small batches, pool for large ones" },
    { "uring", OUR_DAEMON " --executor=uring", "our daemon, io_uring executor" },
    { "qemu", QEMU_DAEMON " --thread-pool-size=0", "QEMU's C virtiofsd, no pool" },
    { "qemu-pool", QEMU_DAEMON " --thread-pool-size={pool}",
      "QEMU's C virtiofsd with its pool (its seccomp filter kills it on Debian 12)" },
    { "host", NULL, "the same I/O issued by the benchmark: pread/pwrite at depth 1, io_uring above" },
};

const char *bench_preset_template(const char *name)
{
    for (unsigned i = 0; i < ARRAY_SIZE(presets); i++)
        if (!strcmp(presets[i].name, name))
            return presets[i].tmpl ? presets[i].tmpl : "";
    return NULL;
}

void bench_presets_print(void)
{
    for (unsigned i = 0; i < ARRAY_SIZE(presets); i++)
        printf("%-10s %s\n           %s\n", presets[i].name, presets[i].what,
               presets[i].tmpl ? presets[i].tmpl : "(built in)");
}

bool bench_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && !strchr("_.+-", name[i]))
            return false;
    return name[0] != '.';
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

struct bench_contender *bench_contender_new(const char *name, const char *tmpl)
{
    struct bench_contender *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->name = strdup(name);
    c->is_host = !tmpl || !*tmpl;
    c->tmpl = c->is_host ? NULL : strdup(tmpl);
    c->write_seed = fnv1a(name) | 1;
    pthread_mutex_init(&c->hiprio_lock, NULL);
    c->h.read_fd = c->h.write_fd = c->h.files_dirfd = c->h.big_dirfd = c->h.cu_dirfd = -1;
    return c;
}

void bench_contender_free(struct bench_contender *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->hiprio_lock);
    free(c->name);
    free(c->tmpl);
    free(c->sock);
    free(c->log);
    free(c);
}

/* --- CPU time from /proc --------------------------------------------------- */

/* utime + stime of one process (all its threads, living or gone), in ticks. */
static int64_t proc_ticks(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* the command name may hold spaces and parentheses: start after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    /* fields 3.. follow; utime and stime are fields 14 and 15 */
    unsigned long long ut = 0, st = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        if (field == 14)
            ut = strtoull(p, NULL, 10);
        if (field == 15)
            st = strtoull(p, NULL, 10);
        while (*p && *p != ' ')
            p++;
    }
    return (int64_t)(ut + st);
}

/* Run time of one thread in ns (schedstat), -1 if gone. */
static int64_t task_run_ns(pid_t pid, const char *tid)
{
    char path[320], buf[128];
    snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid, tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    return (int64_t)strtoull(buf, NULL, 10);
}

/* Adds pid's and its descendants' CPU time to *cpu (depth-bounded). */
static void tree_cpu(pid_t pid, struct bench_cpu *cpu, int depth)
{
    int64_t t = proc_ticks(pid);
    if (t < 0)
        return;
    cpu->ticks += t;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        int64_t ns = task_run_ns(pid, de->d_name);
        if (ns > 0)
            cpu->run_ns += ns;
        if (depth > 16)
            continue;
        char cpath[320], buf[4096];
        snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid, de->d_name);
        int fd = open(cpath, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = '\0';
        for (char *p = buf; *p;) {
            char *end;
            long child = strtol(p, &end, 10);
            if (end == p)
                break;
            if (child > 0)
                tree_cpu((pid_t)child, cpu, depth + 1);
            p = end;
            while (*p == ' ')
                p++;
        }
    }
    closedir(d);
}

int bench_proc_tree_cpu(pid_t pid, struct bench_cpu *cpu)
{
    memset(cpu, 0, sizeof(*cpu));
    if (pid <= 0 || proc_ticks(pid) < 0)
        return -ESRCH;
    tree_cpu(pid, cpu, 0);
    return 0;
}

double bench_cpu_delta_us(const struct bench_cpu *a, const struct bench_cpu *b)
{
    long hz = sysconf(_SC_CLK_TCK);
    double tick_us = 1e6 / (double)(hz > 0 ? hz : 100);
    double ticks_us = (double)(b->ticks - a->ticks) * tick_us;
    double run_us = (double)(b->run_ns - a->run_ns) / 1000;
    /* per-thread run times are exact but forget threads that ended in
     * between (io-wq workers, pool threads); the process counters keep
     * those but tick at 10 ms: trust the exact sum unless it misses more
     * than the ticks' rounding can explain */
    if (ticks_us > run_us + 2 * tick_us)
        return ticks_us;
    return run_us;
}

/* --- starting ---------------------------------------------------------------- */

static char *expand(const char *arg, const struct bench_cfg *cfg, const struct bench_contender *c)
{
    char pool[16], queues[16];
    snprintf(pool, sizeof(pool), "%u", cfg->pool_size);
    snprintf(queues, sizeof(queues), "%u", cfg->queues);
    const struct { const char *key, *val; } subst[] = {
        { "{socket}", c->sock }, { "{dir}", cfg->share }, { "{daemon}", cfg->daemon_path },
        { "{qemu}", cfg->qemu_path }, { "{pool}", pool }, { "{queues}", queues },
    };
    GString *s = g_string_new(NULL);
    for (const char *p = arg; *p;) {
        bool done = false;
        for (unsigned i = 0; i < ARRAY_SIZE(subst) && !done; i++) {
            size_t kl = strlen(subst[i].key);
            if (!strncmp(p, subst[i].key, kl)) {
                g_string_append(s, subst[i].val);
                p += kl;
                done = true;
            }
        }
        if (!done)
            g_string_append_c(s, *p++);
    }
    return g_string_free(s, FALSE);
}

/* Last non-empty line of the log, for failure notes. */
static void log_tail(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!path || !g_file_get_contents(path, &text, &len, NULL) || len == 0)
        return;
    char *end = text + len;
    while (end > text && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    *end = '\0';
    char *start = strrchr(text, '\n');
    start = start ? start + 1 : text;
    snprintf(out, size, "%s", start);
}

static void set_failed(struct bench_contender *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_failed(struct bench_contender *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    c->state = CS_FAILED;
}

static void close_handles(struct bench_contender *c)
{
    struct bench_handles *h = &c->h;
    int *fds[] = { &h->read_fd, &h->write_fd, &h->files_dirfd, &h->big_dirfd, &h->cu_dirfd };
    for (unsigned i = 0; i < ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    if (h->attr_fds) {
        for (unsigned i = 0; i < h->nattr; i++)
            if (h->attr_fds[i] >= 0)
                close(h->attr_fds[i]);
    }
    free(h->attr_fds);
    free(h->attr_nodes);
    h->attr_fds = NULL;
    h->attr_nodes = NULL;
    h->nattr = 0;
}

static const char *status_hint(int st)
{
    int sig = WIFSIGNALED(st) ? WTERMSIG(st)
            : (WIFEXITED(st) && WEXITSTATUS(st) > 128) ? WEXITSTATUS(st) - 128 : 0;
    if (sig == SIGSYS)
        return " (SIGSYS: a seccomp filter refused a syscall)";
    return "";
}

void bench_contender_diagnose(const struct bench_cfg *cfg, struct bench_contender *c,
                              const char *what)
{
    char st_buf[64], tail[160];
    int st = 0;

    if (c->is_host || c->pid <= 0) {
        if (c->state != CS_FAILED)
            set_failed(c, "%s", what);
        close_handles(c);
        return;
    }
    /* A dead daemon's connection drops before its parent is reaped: give
     * the sandbox parent a moment to collect its child. */
    int r = tc_daemon_wait_exit(c->pid, 2000, &st);
    log_tail(c->log, tail, sizeof(tail));
    if (r == 0) {
        set_failed(c, "%s: daemon %s%s; log: %s", what, tc_wstatus_str(st, st_buf, sizeof(st_buf)),
                   status_hint(st), tail[0] ? tail : "(empty)");
        /* helpers left in its process group go too */
        kill(-c->pid, SIGKILL);
        c->pid = 0;
    } else {
        r = tc_daemon_stop(c->pid, 1000, &st);
        set_failed(c, "%s: daemon still running (%s), stopped it; log: %s", what,
                   r == 1 ? "needed SIGKILL" : "ended on SIGTERM", tail[0] ? tail : "(empty)");
        c->pid = 0;
    }
    tc_dev_free(c->dev);
    c->dev = NULL;
    close_handles(c);
    (void)cfg;
}

/* LOOKUP along a relative path ("data/meta/files"). */
static int lookup_path(struct tc_dev *dev, const char *rel, uint64_t *node)
{
    g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
    uint64_t n = FUSE_ROOT_ID;
    for (char **p = parts; *p; p++) {
        if (!**p)
            continue;
        struct fuse_entry_out e;
        int r = tc_fuse_lookup(dev, n, *p, &e);
        if (r < 0)
            return r;
        n = e.nodeid;
    }
    *node = n;
    return 0;
}

static int open_node(struct tc_dev *dev, const char *rel, uint32_t flags, uint64_t *node,
                     uint64_t *fh)
{
    int r = lookup_path(dev, rel, node);
    if (r < 0)
        return r;
    struct fuse_open_out o;
    r = tc_fuse_open(dev, *node, flags, &o);
    if (r < 0)
        return r;
    *fh = o.fh;
    return 0;
}

static bool wl_reads_shared(enum bench_wl wl)
{
    const struct bench_wl_info *i = &bench_wl_infos[wl];
    return i->data && i->write_pct < 100 && wl != WL_RANDRW;
}

static bool wl_writes(enum bench_wl wl)
{
    return bench_wl_infos[wl].data && bench_wl_infos[wl].write_pct > 0;
}

/* Guest memory for a session: data buffers (two per slot, see fuse_driver.c),
 * request scratch, readdir buffers, rings and the client's own scratch. */
static uint64_t mem_size_for(const struct bench_cfg *cfg, const struct bench_group *g)
{
    uint64_t per_slot = 2 * (uint64_t)((g->max_bs + 4095) & ~4095u) + 16384 +
                        (uint64_t)cfg->readdir_size + 4096;
    uint64_t size = (uint64_t)cfg->queues * g->max_depth * per_slot +
                    (uint64_t)(cfg->queues + 1) * (2u << 20) + (16u << 20);
    return (size + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
}

static int start_host(const struct bench_cfg *cfg, struct bench_contender *c,
                      const struct bench_group *g)
{
    struct bench_handles *h = &c->h;
    char p[4096];
    int r;

    _cleanup_close_ int base = open(g->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (base < 0) {
        r = neg_errno();
        set_failed(c, "cannot open %s: %s", g->base, strerror(-r));
        return r;
    }
    if (wl_reads_shared(g->wl)) {
        h->read_fd = openat(base, "read.dat", O_RDONLY | O_CLOEXEC | g->open_flags);
        if (h->read_fd < 0)
            goto out_errno;
    }
    if (wl_writes(g->wl)) {
        _cleanup_free_ char *n = bench_write_file_name(c);
        h->write_fd = openat(base, n, O_RDWR | O_CLOEXEC | g->open_flags);
        if (h->write_fd < 0)
            goto out_errno;
    }
    if (g->wl == WL_LOOKUP || g->wl == WL_GETATTR) {
        h->files_dirfd = openat(base, "meta/files", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h->files_dirfd < 0)
            goto out_errno;
    }
    if (g->wl == WL_GETATTR) {
        h->attr_fds = calloc(cfg->nfiles, sizeof(int));
        if (!h->attr_fds)
            goto out_errno;
        for (unsigned i = 0; i < cfg->nfiles; i++) {
            bench_file_name(i, p, sizeof(p));
            h->attr_fds[i] = openat(h->files_dirfd, p, O_PATH | O_CLOEXEC);
            h->nattr = i + 1;
            if (h->attr_fds[i] < 0)
                goto out_errno;
        }
    }
    if (g->wl == WL_CREATE_UNLINK) {
        snprintf(p, sizeof(p), "meta/cu-%s", c->name);
        h->cu_dirfd = openat(base, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h->cu_dirfd < 0)
            goto out_errno;
    }
    if (g->wl == WL_READDIRPLUS) {
        h->big_dirfd = openat(base, "meta/big", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h->big_dirfd < 0)
            goto out_errno;
    }
    c->state = CS_READY;
    return 0;

out_errno:
    r = neg_errno();
    set_failed(c, "host: opening the files below %s: %s", g->base, strerror(-r));
    close_handles(c);
    return r;
}

/* Lookups and opens a daemon contender needs for its group. */
static int open_fuse_handles(const struct bench_cfg *cfg, struct bench_contender *c,
                             const struct bench_group *g, const char **step)
{
    struct bench_handles *h = &c->h;
    char rel[512];
    int r = 0;
    uint32_t ofl = (uint32_t)g->open_flags;

    if (wl_reads_shared(g->wl)) {
        *step = "LOOKUP/OPEN of read.dat";
        snprintf(rel, sizeof(rel), "%s/read.dat", g->base_rel);
        if ((r = open_node(c->dev, rel, O_RDONLY | ofl, &h->read_node, &h->read_fh)) < 0)
            return r;
    }
    if (wl_writes(g->wl)) {
        *step = "LOOKUP/OPEN of its write file";
        _cleanup_free_ char *n = bench_write_file_name(c);
        snprintf(rel, sizeof(rel), "%s/%s", g->base_rel, n);
        if ((r = open_node(c->dev, rel, O_RDWR | ofl, &h->write_node, &h->write_fh)) < 0)
            return r;
    }
    if (g->wl == WL_LOOKUP || g->wl == WL_GETATTR) {
        *step = "LOOKUP of meta/files";
        snprintf(rel, sizeof(rel), "%s/meta/files", g->base_rel);
        if ((r = lookup_path(c->dev, rel, &h->files_dir)) < 0)
            return r;
    }
    if (g->wl == WL_GETATTR) {
        *step = "LOOKUP of the getattr population";
        h->attr_nodes = calloc(cfg->nfiles, sizeof(uint64_t));
        if (!h->attr_nodes)
            return -ENOMEM;
        for (unsigned i = 0; i < cfg->nfiles; i++) {
            char name[32];
            struct fuse_entry_out e;
            bench_file_name(i, name, sizeof(name));
            if ((r = tc_fuse_lookup(c->dev, h->files_dir, name, &e)) < 0)
                return r;
            h->attr_nodes[i] = e.nodeid;
            h->nattr = i + 1;
        }
    }
    if (g->wl == WL_CREATE_UNLINK) {
        *step = "LOOKUP of its create-unlink directory";
        snprintf(rel, sizeof(rel), "%s/meta/cu-%s", g->base_rel, c->name);
        if ((r = lookup_path(c->dev, rel, &h->cu_dir)) < 0)
            return r;
    }
    if (g->wl == WL_READDIRPLUS) {
        *step = "LOOKUP of meta/big";
        snprintf(rel, sizeof(rel), "%s/meta/big", g->base_rel);
        if ((r = lookup_path(c->dev, rel, &h->big_dir)) < 0)
            return r;
    }
    return 0;
}

int bench_contender_start(const struct bench_cfg *cfg, struct bench_contender *c,
                          const struct bench_group *g)
{
    char st_buf[64], tail[160];
    int r, st = 0;

    c->why[0] = '\0';
    c->state = CS_IDLE;
    c->wrote = false;
    memset(&c->h, 0, sizeof(c->h));
    c->h.read_fd = c->h.write_fd = c->h.files_dirfd = c->h.big_dirfd = c->h.cu_dirfd = -1;
    if (c->is_host)
        return start_host(cfg, c, g);

    free(c->sock);
    free(c->log);
    c->sock = g_strdup_printf("%s/%s.sock", cfg->sockdir, c->name);
    c->log = g_strdup_printf("%s/%s-%s-%s.log", cfg->logdir, bench_wl_infos[g->wl].name,
                             bench_backend_names[g->bk], c->name);
    unlink(c->sock);

    g_auto(GStrv) words = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_shell_parse_argv(c->tmpl, NULL, &words, &err)) {
        set_failed(c, "bad command template: %s", err->message);
        return -EINVAL;
    }
    guint n = g_strv_length(words);
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(argv, expand(words[i], cfg, c));
    g_ptr_array_add(argv, NULL);
    if (access(argv->pdata[0], X_OK) != 0) {
        set_failed(c, "cannot run %s: %s", (char *)argv->pdata[0], strerror(errno));
        return -ENOENT;
    }

    r = tc_daemon_spawn((char *const *)argv->pdata, c->log, &c->pid);
    if (r < 0) {
        set_failed(c, "cannot start %s: %s", (char *)argv->pdata[0], strerror(-r));
        c->pid = 0;
        return r;
    }
    int fd = -1;
    r = tc_daemon_wait_socket(c->sock, c->pid, cfg->timeout_ms, &fd, &st);
    if (r < 0) {
        log_tail(c->log, tail, sizeof(tail));
        if (r == -ECHILD) {
            set_failed(c, "daemon %s before listening%s; log: %s",
                       tc_wstatus_str(st, st_buf, sizeof(st_buf)), status_hint(st),
                       tail[0] ? tail : "(empty)");
            c->pid = 0;
        } else {
            tc_daemon_stop(c->pid, 1000, NULL);
            c->pid = 0;
            set_failed(c, "no socket after %d ms (%s); log: %s", cfg->timeout_ms, strerror(-r),
                       tail[0] ? tail : "(empty)");
        }
        return r;
    }

    struct tc_config tcfg = {
        .fd = fd,
        .mem_size = mem_size_for(cfg, g),
        .num_request_queues = cfg->queues,
        .queue_size = 1024,
        .timeout_ms = cfg->timeout_ms,
    };
    r = tc_dev_connect(&tcfg, &c->dev);
    if (r < 0) {
        c->dev = NULL;
        char what[160];
        if (r == -EOPNOTSUPP && cfg->queues > 1)
            snprintf(what, sizeof(what), "the daemon does not offer %u request queues",
                     cfg->queues);
        else
            snprintf(what, sizeof(what), "vhost-user handshake with %u request queue%s failed (%s)",
                     cfg->queues, cfg->queues == 1 ? "" : "s", strerror(-r));
        bench_contender_diagnose(cfg, c, what);
        return r;
    }
    tc_fuse_set_creds(c->dev, 0, 0, (uint32_t)getpid());
    /* as the Linux driver does when the device offers it */
    if (tc_dev_has_feature(c->dev, VIRTIO_RING_F_INDIRECT_DESC))
        c->dev->fuse.flags |= TC_FUSE_INDIRECT;

    struct fuse_init_out init;
    r = tc_fuse_init_session(c->dev, TC_FUSE_INIT_FLAGS, &init);
    if (r < 0) {
        char what[128];
        snprintf(what, sizeof(what), "FUSE INIT failed (%s)", strerror(-r));
        bench_contender_diagnose(cfg, c, what);
        return r;
    }
    if (bench_wl_infos[g->wl].data && init.max_write < g->max_bs) {
        char what[128];
        snprintf(what, sizeof(what), "max_write %u is below the block size %u", init.max_write,
                 g->max_bs);
        bench_contender_stop(cfg, c);
        set_failed(c, "%s", what);
        return -E2BIG;
    }
    const char *step = "setup";
    r = open_fuse_handles(cfg, c, g, &step);
    if (r < 0) {
        char what[160];
        snprintf(what, sizeof(what), "%s failed (%s)", step, strerror(-r));
        if (r == -ETIMEDOUT || r == -ECONNRESET || r == -EIO || r == -EPROTO) {
            bench_contender_diagnose(cfg, c, what);
        } else {
            /* the daemon answered with an error: it is alive but unusable */
            bench_contender_stop(cfg, c);
            set_failed(c, "%s", what);
        }
        return r;
    }
    c->state = CS_READY;
    return 0;
}

void bench_contender_stop(const struct bench_cfg *cfg, struct bench_contender *c)
{
    char st_buf[64];
    close_handles(c);
    if (c->is_host) {
        if (c->state == CS_READY)
            c->state = CS_IDLE;
        return;
    }
    /* a one-connection backend exits when its frontend goes away */
    tc_dev_free(c->dev);
    c->dev = NULL;
    if (c->pid > 0) {
        int st = 0;
        int r = tc_daemon_wait_exit(c->pid, 2000, &st);
        if (r == -ETIMEDOUT)
            r = tc_daemon_stop(c->pid, cfg->timeout_ms, &st);
        bool clean = (WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
                     (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
        if (r >= 0 && !clean && c->state == CS_READY)
            fprintf(stderr, "vfsd-bench: note: %s ended with %s at disconnect (log: %s)\n",
                    c->name, tc_wstatus_str(st, st_buf, sizeof(st_buf)), c->log);
        c->pid = 0;
    }
    if (c->sock)
        unlink(c->sock);
    if (c->state == CS_READY)
        c->state = CS_IDLE;
}

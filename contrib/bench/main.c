/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfsd-bench: the command line and the run.
 *
 * For each (workload, backend) group every contender is started and
 * connected once; then for each block size and queue depth the contenders
 * are measured in turn, round after round (A B C A B C ...), so slow drifts
 * of a shared machine hit them alike; medians over the rounds are reported.
 * A measurement is a warmup followed by a fixed-length window; only
 * operations completing inside the window count.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "contrib/bench/bench.h"

const struct bench_wl_info bench_wl_infos[WL_COUNT] = {
    [WL_RANDREAD] = { "randread", true, false, 0 },
    [WL_RANDWRITE] = { "randwrite", true, false, 100 },
    [WL_RANDRW] = { "randrw", true, false, 30 },
    [WL_SEQREAD] = { "seqread", true, true, 0 },
    [WL_SEQWRITE] = { "seqwrite", true, true, 100 },
    [WL_LOOKUP] = { "lookup", false, false, 0 },
    [WL_GETATTR] = { "getattr", false, false, 0 },
    [WL_CREATE_UNLINK] = { "create-unlink", false, false, 0 },
    [WL_READDIRPLUS] = { "readdirplus", false, false, 0 },
};

const char *const bench_backend_names[BK_COUNT] = {
    [BK_PAGECACHE] = "pagecache", [BK_DIRECT] = "direct", [BK_SLOW] = "slow",
};

volatile sig_atomic_t bench_interrupted;
static volatile sig_atomic_t slow_mounted;
static bool fatal_error;

static void on_signal(int sig)
{
    if (bench_interrupted) {
        /* second signal: leave now; daemons die with us (parent-death
         * signal), the slowfs mount must not outlive us either */
        if (slow_mounted)
            umount2(bench_slow_mnt, MNT_DETACH);
        _exit(128 + sig);
    }
    bench_interrupted = 1;
}

static void setup_signals(void)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* --- command line ------------------------------------------------------------- */

static int parse_list(const char *arg, const char *what, bool (*one)(const char *, void *),
                      void *ctx)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    for (char **p = parts; *p; p++) {
        g_strstrip(*p);
        if (!**p)
            continue;
        if (!one(*p, ctx)) {
            fprintf(stderr, "vfsd-bench: bad %s '%s'\n", what, *p);
            return -EINVAL;
        }
    }
    return 0;
}

static bool add_wl(const char *s, void *ctx)
{
    struct bench_cfg *cfg = ctx;
    for (unsigned i = 0; i < WL_COUNT; i++) {
        if (!strcmp(s, bench_wl_infos[i].name)) {
            if (!cfg->wl[i]) {
                cfg->wl[i] = true;
                cfg->wl_order[cfg->nwl++] = i;
            }
            return true;
        }
    }
    return false;
}

static bool add_bk(const char *s, void *ctx)
{
    struct bench_cfg *cfg = ctx;
    for (unsigned i = 0; i < BK_COUNT; i++) {
        if (!strcmp(s, bench_backend_names[i])) {
            for (unsigned k = 0; k < cfg->nbk; k++)
                if (cfg->bk_order[k] == i)
                    return true;
            cfg->bk_order[cfg->nbk++] = i;
            return true;
        }
    }
    return false;
}

static bool add_bs(const char *s, void *ctx)
{
    struct bench_cfg *cfg = ctx;
    uint64_t v;
    if (bench_parse_size(s, &v) < 0 || v == 0 || v % 4096 || v > (1u << 20) ||
        cfg->nbs == BENCH_MAX_BS)
        return false;
    cfg->bs[cfg->nbs++] = (uint32_t)v;
    return true;
}

static bool add_depth(const char *s, void *ctx)
{
    struct bench_cfg *cfg = ctx;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v == 0 || v > BENCH_MAX_DEPTH || cfg->ndepths == BENCH_MAX_DEPTHS)
        return false;
    cfg->depths[cfg->ndepths++] = (unsigned)v;
    return true;
}

struct contender_ctx {
    struct bench_cfg *cfg;
    char **defs;  /* NAME=TEMPLATE from --contender */
};

static bool add_contender(const char *name, void *ctx)
{
    struct contender_ctx *cc = ctx;
    struct bench_cfg *cfg = cc->cfg;
    const char *tmpl = NULL;
    size_t nl = strlen(name);

    if (!bench_name_ok(name) || cfg->ncontenders == BENCH_MAX_CONTENDERS)
        return false;
    for (unsigned i = 0; i < cfg->ncontenders; i++)
        if (!strcmp(cfg->contenders[i]->name, name))
            return true;
    for (char **d = cc->defs; d && *d; d++)
        if (!strncmp(*d, name, nl) && (*d)[nl] == '=')
            tmpl = *d + nl + 1;
    if (!tmpl)
        tmpl = bench_preset_template(name);
    if (!tmpl) {
        fprintf(stderr, "vfsd-bench: unknown contender '%s': define it with --contender %s=CMD "
                        "(see --list-contenders)\n", name, name);
        return false;
    }
    struct bench_contender *c = bench_contender_new(name, tmpl);
    if (!c)
        return false;
    if (c->is_host)
        cfg->host = (int)cfg->ncontenders;
    cfg->contenders[cfg->ncontenders++] = c;
    return true;
}

static char *exe_relative(const char *rel)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return g_strdup(rel);
    self[n] = '\0';
    g_autofree char *dir = g_path_get_dirname(self);
    g_autofree char *joined = g_build_filename(dir, rel, NULL);
    char real[PATH_MAX];
    return g_strdup(realpath(joined, real) ? real : joined);
}

/* --- the run --------------------------------------------------------------------- */

/* Runs one measurement of contender c; fills *s. */
static void measure(const struct bench_cfg *cfg, struct bench_contender *c,
                    const struct bench_job *job, struct bench_sample *s, char *why, size_t whylen)
{
    struct bench_ctl ctl = { .t_start = UINT64_MAX, .t_end = UINT64_MAX };
    struct bench_worker w[BENCH_MAX_QUEUES];
    unsigned started = 0;
    sigset_t all, old;

    memset(s, 0, sizeof(*s));
    memset(w, 0, sizeof(w));
    /* queue threads take no signals: the main thread handles them */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned q = 0; q < job->queues; q++) {
        w[q] = (struct bench_worker){ .cfg = cfg, .c = c, .job = job, .ctl = &ctl, .qi = q };
        if (pthread_create(&w[q].thread, NULL, c->is_host ? bench_host_worker : bench_fuse_worker,
                           &w[q]) != 0) {
            __atomic_store_n(&ctl.failed, 1, __ATOMIC_RELEASE);
            snprintf(w[q].res.msg, sizeof(w[q].res.msg), "cannot start a queue thread");
            w[q].res.err = -EAGAIN;
            break;
        }
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    uint64_t t0 = 0, t1 = 0;
    struct bench_cpu cpu0, cpu1;
    int cpu_ok = -1;
    if (bench_sleep_ms((unsigned)(cfg->warmup_s * 1000), &ctl.failed)) {
        cpu_ok = bench_proc_tree_cpu(c->pid, &cpu0);
        t0 = clock_now_ns();
        __atomic_store_n(&ctl.t_start, t0, __ATOMIC_RELEASE);
        bench_sleep_ms((unsigned)(cfg->runtime_s * 1000), &ctl.failed);
        t1 = clock_now_ns();
        /* close the window before the (slow-ish) /proc walk */
        __atomic_store_n(&ctl.t_end, t1, __ATOMIC_RELEASE);
        if (cpu_ok == 0)
            cpu_ok = bench_proc_tree_cpu(c->pid, &cpu1);
    }
    __atomic_store_n(&ctl.stop, 1, __ATOMIC_RELEASE);
    for (unsigned q = 0; q < started; q++)
        pthread_join(w[q].thread, NULL);

    struct bench_hist *hist = calloc(1, sizeof(*hist));
    uint64_t ops = 0, bytes = 0, entries = 0, client_ns = 0;
    const struct bench_result *bad = NULL;
    for (unsigned q = 0; q < job->queues; q++) {
        const struct bench_result *res = &w[q].res;
        if (res->err && (!bad || res->fatal))
            bad = res;
        ops += res->ops;
        bytes += res->bytes;
        entries += res->entries;
        client_ns += res->client_cpu_ns;
        if (hist)
            bench_hist_merge(hist, &res->hist);
    }
    if (bad) {
        snprintf(why, whylen, "%s", bad->msg);
        if (bad->fatal) {
            fatal_error = true;
            fprintf(stderr, "\nvfsd-bench: FATAL: contender %s: %s\n", c->name, bad->msg);
            snprintf(c->why, sizeof(c->why), "%s", bad->msg);
            c->state = CS_FAILED;
        } else {
            bench_contender_diagnose(cfg, c, bad->msg);
            snprintf(why, whylen, "%s", c->why);
        }
    } else if (bench_interrupted || t1 == 0) {
        snprintf(why, whylen, "interrupted");
    } else if (ops == 0) {
        snprintf(why, whylen, "no operation completed in the window");
    } else {
        double secs = (double)(t1 - t0) / 1e9;
        s->ok = true;
        s->ops = ops;
        s->secs = secs;
        s->iops = (double)ops / secs;
        s->mbps = (double)bytes / secs / 1e6;
        s->entries_s = (double)entries / secs;
        s->p50_us = bench_hist_quantile(hist, 0.50) / 1000;
        s->p99_us = bench_hist_quantile(hist, 0.99) / 1000;
        s->mean_us = hist && hist->count ? (double)hist->sum_ns / (double)hist->count / 1000 : NAN;
        s->client_cpu_us = (double)client_ns / 1000 / (double)ops;
        if (c->is_host)
            s->cpu_us = s->client_cpu_us;
        else
            s->cpu_us = cpu_ok == 0 ? bench_cpu_delta_us(&cpu0, &cpu1) / (double)ops : NAN;
        why[0] = '\0';
    }
    free(hist);
}

static void stop_all(const struct bench_cfg *cfg, const struct bench_group *g)
{
    for (unsigned i = 0; i < cfg->ncontenders; i++) {
        bench_contender_stop(cfg, cfg->contenders[i]);
    }
    /* now that nothing writes any more, check every byte the writers left */
    if (bench_wl_infos[g->wl].data && bench_wl_infos[g->wl].write_pct) {
        for (unsigned i = 0; i < cfg->ncontenders; i++) {
            struct bench_contender *c = cfg->contenders[i];
            if (!c->wrote)
                continue;
            if (bench_dataset_verify_write_file(cfg, c) == -EILSEQ)
                fatal_error = true;
        }
    }
}

static int run_main(struct bench_cfg *cfg, struct bench_report *rep)
{
    unsigned nc = cfg->ncontenders;
    int ret = 0;
    struct bench_sample *samples = calloc((size_t)nc * cfg->rounds, sizeof(*samples));
    char (*why)[BENCH_NOTE] = calloc(nc, sizeof(*why));
    if (!samples || !why) {
        free(samples);
        free(why);
        return -ENOMEM;
    }

    for (unsigned wi = 0; wi < cfg->nwl && !bench_interrupted && !fatal_error; wi++) {
        enum bench_wl wl = cfg->wl_order[wi];
        const struct bench_wl_info *info = &bench_wl_infos[wl];
        for (unsigned bi = 0; bi < cfg->nbk && !bench_interrupted && !fatal_error; bi++) {
            enum bench_backend bk = cfg->bk_order[bi];
            struct bench_group g = {
                .wl = wl, .bk = bk,
                .base_rel = bk == BK_SLOW ? "slow" : "data",
                .open_flags = bk == BK_PAGECACHE ? 0 : O_DIRECT,
                .read_seed = bench_read_seed(cfg),
            };
            g.base = g_strdup_printf("%s/%s", cfg->share, g.base_rel);
            for (unsigned i = 0; i < cfg->ndepths; i++)
                g.max_depth = MAX(g.max_depth, cfg->depths[i]);
            for (unsigned i = 0; i < cfg->nbs && info->data; i++)
                g.max_bs = MAX(g.max_bs, cfg->bs[i]);

            fprintf(stderr, "\n== %s on %s ==\n", info->name, bench_backend_names[bk]);
            if (bk == BK_SLOW) {
                if (bench_slowfs_mount(cfg) < 0) {
                    fprintf(stderr, "vfsd-bench: skipping the slow backend\n");
                    g_free(g.base);
                    ret = -EIO;
                    continue;
                }
                slow_mounted = 1;
            }
            bench_dataset_cache(cfg, &g, false);
            for (unsigned i = 0; i < nc && !bench_interrupted; i++) {
                struct bench_contender *c = cfg->contenders[i];
                fprintf(stderr, "starting %-12s ", c->name);
                if (bench_contender_start(cfg, c, &g) < 0)
                    fprintf(stderr, "FAILED: %s\n", c->why);
                else
                    fprintf(stderr, "ok%s%s\n", c->pid ? ", log " : "", c->pid ? c->log : "");
            }

            for (unsigned si = 0; si < (info->data ? cfg->nbs : 1); si++) {
                for (unsigned di = 0; di < cfg->ndepths; di++) {
                    if (bench_interrupted || fatal_error)
                        break;
                    struct bench_job job = {
                        .g = &g, .bs = info->data ? cfg->bs[si] : 0, .depth = cfg->depths[di],
                        .queues = cfg->queues, .read_size = cfg->file_size,
                        .write_size = cfg->write_size,
                    };
                    memset(samples, 0, (size_t)nc * cfg->rounds * sizeof(*samples));
                    memset(why, 0, nc * sizeof(*why));
                    for (unsigned rd = 0; rd < cfg->rounds; rd++) {
                        job.round = rd;
                        for (unsigned i = 0; i < nc; i++) {
                            struct bench_contender *c = cfg->contenders[i];
                            struct bench_sample *s = &samples[i * cfg->rounds + rd];
                            if (bench_interrupted || fatal_error)
                                break;
                            if (c->state != CS_READY) {
                                snprintf(why[i], sizeof(why[i]), "%s", c->why);
                                continue;
                            }
                            if (bk == BK_DIRECT)
                                bench_dataset_cache(cfg, &g, true);
                            char note[BENCH_NOTE];
                            char bsb[16];
                            fprintf(stderr, "  %s %s %s d=%u r%u %-12s ", info->name,
                                    job.bs ? bench_size_str(job.bs, bsb, sizeof(bsb)) : "-",
                                    bench_backend_names[bk], job.depth, rd + 1, c->name);
                            measure(cfg, c, &job, s, note, sizeof(note));
                            if (info->data && info->write_pct)
                                c->wrote = true;
                            if (s->ok) {
                                fprintf(stderr, "%10.0f ops/s  p99 %8.1f us\n", s->iops, s->p99_us);
                            } else {
                                fprintf(stderr, "FAILED: %s\n", note);
                                snprintf(why[i], sizeof(why[i]), "%s", note);
                            }
                        }
                    }
                    struct bench_point p = {
                        .wl = wl, .bk = bk, .bs = job.bs, .depth = job.depth, .queues = cfg->queues,
                        .ncont = nc, .rounds = cfg->rounds, .s = samples, .why = why,
                    };
                    bench_report_add(rep, &p);
                    bench_report_print_point(rep, &p);
                }
            }
            stop_all(cfg, &g);
            if (bk == BK_SLOW) {
                bench_slowfs_unmount(cfg);
                slow_mounted = 0;
            }
            g_free(g.base);
        }
    }
    free(samples);
    free(why);
    return ret;
}

static const char usage_text[] =
    "Drives virtio-fs daemons over their vhost-user socket, playing QEMU and the\n"
    "guest driver, and compares them with each other and with the same I/O issued\n"
    "directly on the host.\n"
    "\n"
    "Contenders: presets inline, pool, auto, uring (our daemon's executors), qemu,\n"
    "qemu-pool (QEMU's C virtiofsd), host (the ceiling); or NAME=COMMAND with\n"
    "{socket} {dir} {daemon} {qemu} {pool} {queues} substituted.\n"
    "Workloads: randread randwrite randrw seqread seqwrite (data, --bs), lookup\n"
    "getattr create-unlink readdirplus (metadata).\n"
    "Backends: pagecache, direct (O_DIRECT on the root disk), slow (O_DIRECT\n"
    "through vfsd-slowfs, ~1 ms per read/write).";

int main(int argc, char **argv)
{
    g_autofree char *contenders = NULL, *reference = NULL, *workloads = NULL, *bss = NULL;
    g_autofree char *backends = NULL, *depths = NULL, *workdir = NULL, *outdir = NULL;
    g_autofree char *file_size = NULL, *write_size = NULL, *daemon = NULL, *qemu = NULL;
    g_autofree char *slowfs = NULL;
    g_auto(GStrv) defs = NULL;
    gint queues = 1, rounds = 3, pool = 4, nfiles = 1000, dir_entries = 10000;
    gint readdir_size = 4096, slow_delay = 1000, timeout_s = 10;
    gdouble runtime = 3, warmup = 1;
    gint64 seed = 0x5eed;
    gboolean no_plots = FALSE, regen = FALSE, list = FALSE;

    GOptionEntry entries[] = {
        { "contenders", 'c', 0, G_OPTION_ARG_STRING, &contenders,
          "contenders, comma-separated (default inline,pool,auto,qemu,host)", "LIST" },
        { "contender", 'C', 0, G_OPTION_ARG_STRING_ARRAY, &defs,
          "define or override a contender (repeatable)", "NAME=COMMAND" },
        { "reference", 'r', 0, G_OPTION_ARG_STRING, &reference,
          "contender the ratios are taken against (default: the first that is not host; "
          "'none')", "NAME" },
        { "workloads", 'w', 0, G_OPTION_ARG_STRING, &workloads,
          "workloads, comma-separated (default randread)", "LIST" },
        { "bs", 'b', 0, G_OPTION_ARG_STRING, &bss, "block sizes of data workloads (default 4k)",
          "LIST" },
        { "backends", 'B', 0, G_OPTION_ARG_STRING, &backends,
          "pagecache, direct, slow (default pagecache)", "LIST" },
        { "depth", 'd', 0, G_OPTION_ARG_STRING, &depths,
          "requests in flight per queue (default 1,2,4,8,16,32,64)", "LIST" },
        { "queues", 'q', 0, G_OPTION_ARG_INT, &queues, "request queues, a thread each (default 1)",
          "N" },
        { "runtime", 't', 0, G_OPTION_ARG_DOUBLE, &runtime, "measured seconds per point (default 3)",
          "SEC" },
        { "warmup", 0, 0, G_OPTION_ARG_DOUBLE, &warmup, "seconds before each measurement (default 1)",
          "SEC" },
        { "rounds", 'R', 0, G_OPTION_ARG_INT, &rounds, "rounds per point (default 3)", "N" },
        { "pool-size", 'p', 0, G_OPTION_ARG_INT, &pool, "{pool}: worker threads (default 4)", "N" },
        { "workdir", 0, 0, G_OPTION_ARG_FILENAME, &workdir,
          "files and sockets (default /var/tmp/vfsd-bench)", "DIR" },
        { "out", 'o', 0, G_OPTION_ARG_FILENAME, &outdir,
          "results (default bench-results/DATE-TIME)", "DIR" },
        { "file-size", 0, 0, G_OPTION_ARG_STRING, &file_size, "read file size (default 1g)",
          "SIZE" },
        { "write-size", 0, 0, G_OPTION_ARG_STRING, &write_size,
          "each contender's write file (default 256m)", "SIZE" },
        { "nfiles", 0, 0, G_OPTION_ARG_INT, &nfiles, "lookup/getattr population (default 1000)",
          "N" },
        { "dir-entries", 0, 0, G_OPTION_ARG_INT, &dir_entries,
          "readdirplus directory size (default 10000)", "N" },
        { "readdir-size", 0, 0, G_OPTION_ARG_INT, &readdir_size,
          "READDIRPLUS reply buffer (default 4096, as a 6.1 guest)", "BYTES" },
        { "slow-delay-us", 0, 0, G_OPTION_ARG_INT, &slow_delay,
          "slow backend: delay per read/write (default 1000)", "US" },
        { "daemon", 0, 0, G_OPTION_ARG_FILENAME, &daemon, "{daemon}: our virtiofsd", "PATH" },
        { "qemu", 0, 0, G_OPTION_ARG_FILENAME, &qemu,
          "{qemu}: QEMU's C virtiofsd (default /usr/lib/qemu/virtiofsd)", "PATH" },
        { "slowfs", 0, 0, G_OPTION_ARG_FILENAME, &slowfs, "vfsd-slowfs binary", "PATH" },
        { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "data pattern and offset seed", "N" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
          "longest wait for a completion or a daemon (default 10)", "SEC" },
        { "no-plots", 0, 0, G_OPTION_ARG_NONE, &no_plots, "skip gnuplot", NULL },
        { "regen", 0, 0, G_OPTION_ARG_NONE, &regen, "rewrite the data files", NULL },
        { "list-contenders", 0, 0, G_OPTION_ARG_NONE, &list, "show the presets and exit", NULL },
        { NULL },
    };

    static struct bench_cfg cfg_storage;
    struct bench_cfg *cfg = &cfg_storage;
    cfg->reference = -1;
    cfg->host = -1;
    {
        GString *cl = g_string_new(NULL);
        for (int i = 0; i < argc; i++) {
            g_autofree char *q = g_shell_quote(argv[i]);
            if (i)
                g_string_append_c(cl, ' ');
            /* keep plain words readable */
            bool plain = strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789-_=,./:+") == strlen(argv[i]) && argv[i][0];
            g_string_append(cl, plain ? argv[i] : q);
        }
        cfg->cmdline = g_string_free(cl, FALSE);
    }

    g_autoptr(GOptionContext) ctx = g_option_context_new("- benchmark virtio-fs daemons");
    g_option_context_set_summary(ctx, usage_text);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "vfsd-bench: %s\n", err->message);
        return 2;
    }
    if (list) {
        bench_presets_print();
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "vfsd-bench: unexpected argument '%s'\n", argv[1]);
        return 2;
    }

    struct contender_ctx cc = { cfg, defs };
    if (parse_list(contenders ? contenders : "inline,pool,auto,qemu,host", "contender",
                   add_contender, &cc) < 0 ||
        parse_list(workloads ? workloads : "randread", "workload", add_wl, cfg) < 0 ||
        parse_list(bss ? bss : "4k", "block size", add_bs, cfg) < 0 ||
        parse_list(backends ? backends : "pagecache", "backend", add_bk, cfg) < 0 ||
        parse_list(depths ? depths : "1,2,4,8,16,32,64", "depth", add_depth, cfg) < 0)
        return 2;
    if (!cfg->ncontenders || !cfg->nwl || !cfg->nbs || !cfg->nbk || !cfg->ndepths) {
        fprintf(stderr, "vfsd-bench: nothing to run\n");
        return 2;
    }
    if (reference && strcmp(reference, "none")) {
        for (unsigned i = 0; i < cfg->ncontenders; i++)
            if (!strcmp(cfg->contenders[i]->name, reference))
                cfg->reference = (int)i;
        if (cfg->reference < 0) {
            fprintf(stderr, "vfsd-bench: --reference %s is not among the contenders\n", reference);
            return 2;
        }
    } else if (!reference) {
        for (unsigned i = 0; i < cfg->ncontenders && cfg->reference < 0; i++)
            if (!cfg->contenders[i]->is_host)
                cfg->reference = (int)i;
    }

    if (queues < 1 || queues > BENCH_MAX_QUEUES || rounds < 1 || rounds > 256 || pool < 1 ||
        runtime <= 0 || warmup < 0 || nfiles < 1 || dir_entries < 1 || readdir_size < 512 ||
        readdir_size > (1 << 20) || slow_delay < 0 || timeout_s < 1) {
        fprintf(stderr, "vfsd-bench: a numeric option is out of range\n");
        return 2;
    }
    cfg->queues = (unsigned)queues;
    cfg->rounds = (unsigned)rounds;
    cfg->pool_size = (unsigned)pool;
    cfg->runtime_s = runtime;
    cfg->warmup_s = warmup;
    cfg->nfiles = (unsigned)nfiles;
    cfg->dir_entries = (unsigned)dir_entries;
    cfg->readdir_size = (unsigned)readdir_size;
    cfg->slow_delay_us = (unsigned)slow_delay;
    cfg->timeout_ms = timeout_s * 1000;
    cfg->seed = (uint64_t)seed;
    cfg->plots = !no_plots;
    cfg->regen = regen;
    cfg->file_size = 1ull << 30;
    cfg->write_size = 256ull << 20;
    if ((file_size && bench_parse_size(file_size, &cfg->file_size) < 0) ||
        (write_size && bench_parse_size(write_size, &cfg->write_size) < 0)) {
        fprintf(stderr, "vfsd-bench: bad size\n");
        return 2;
    }
    for (unsigned i = 0; i < cfg->nbs; i++) {
        if (cfg->file_size % cfg->bs[i] || cfg->write_size % cfg->bs[i] ||
            cfg->file_size < (uint64_t)cfg->bs[i] * cfg->queues ||
            cfg->write_size < (uint64_t)cfg->bs[i] * cfg->queues) {
            fprintf(stderr, "vfsd-bench: --file-size and --write-size must be multiples of each "
                            "block size and hold a block per queue\n");
            return 2;
        }
    }

    cfg->workdir = g_strdup(workdir ? workdir : "/var/tmp/vfsd-bench");
    cfg->share = g_strdup_printf("%s/share", cfg->workdir);
    cfg->sockdir = g_strdup_printf("%s/sock", cfg->workdir);
    if (outdir) {
        cfg->outdir = g_strdup(outdir);
    } else {
        char stamp[64];
        time_t now = time(NULL);
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
        cfg->outdir = g_strdup_printf("bench-results/%s", stamp);
    }
    cfg->logdir = g_strdup_printf("%s/logs", cfg->outdir);
    cfg->daemon_path = daemon ? g_strdup(daemon) : exe_relative("../../daemon/virtiofsd");
    cfg->qemu_path = g_strdup(qemu ? qemu : "/usr/lib/qemu/virtiofsd");
    cfg->slowfs_path = slowfs ? g_strdup(slowfs) : exe_relative("vfsd-slowfs");

    if (geteuid() != 0)
        fprintf(stderr, "vfsd-bench: warning: not root; daemons with a namespace sandbox and the "
                        "slowfs mount need root\n");
    setup_signals();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int r;
    if ((r = bench_mkdir_p(cfg->logdir, 0755)) < 0 || (r = bench_mkdir_p(cfg->share, 0755)) < 0) {
        fprintf(stderr, "vfsd-bench: creating directories: %s\n", strerror(-r));
        return 1;
    }
    bench_slowfs_cleanup_stale(cfg);
    if ((r = bench_dataset_prepare(cfg)) < 0) {
        fprintf(stderr, "vfsd-bench: preparing the data set: %s\n", strerror(-r));
        return 1;
    }

    struct bench_report *rep = bench_report_new(cfg);
    if (!rep)
        return 1;
    r = run_main(cfg, rep);
    bench_report_finish(rep);
    printf("\nresults in %s\n", cfg->outdir);
    for (unsigned i = 0; i < cfg->ncontenders; i++)
        bench_contender_free(cfg->contenders[i]);
    if (fatal_error)
        return 3;
    if (bench_interrupted)
        return 130;
    return r < 0 ? 1 : 0;
}

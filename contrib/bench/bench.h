/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfsd-bench: drives virtio-fs daemons over their vhost-user socket, without
 * a VM, and compares them with each other and with the same I/O issued by
 * the benchmark itself on the host ("host", the ceiling).
 *
 *   main.c         command line, the (workload, backend) loop, signals
 *   contender.c    contender presets and templates, daemon start/stop, CPU time
 *   dataset.c      test files (offset-derived pattern), cache control, slowfs
 *   fuse_driver.c  per-queue threads speaking FUSE over the test client
 *   host_driver.c  per-queue threads issuing the same I/O with syscalls/io_uring
 *   stats.c        latency histogram, medians
 *   report.c       stdout table, CSV, JSON, markdown, gnuplot
 *
 * Threads: the main thread spawns and stops daemons (their parent-death
 * signal is tied to it) and runs the measurements; each measurement runs one
 * thread per request queue. Everything in struct bench_cfg is read-only once
 * the run starts.
 */
#ifndef CONTRIB_BENCH_BENCH_H
#define CONTRIB_BENCH_BENCH_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tests/lib/tc.h"

/* --- workloads and backends ---------------------------------------------- */

enum bench_wl {
    WL_RANDREAD,
    WL_RANDWRITE,
    WL_RANDRW,
    WL_SEQREAD,
    WL_SEQWRITE,
    WL_LOOKUP,
    WL_GETATTR,
    WL_CREATE_UNLINK,
    WL_READDIRPLUS,
    WL_COUNT
};

struct bench_wl_info {
    const char *name;
    bool data;          /* READ/WRITE on a file, uses --bs */
    bool seq;           /* sequential offsets */
    unsigned write_pct; /* share of writes among data ops, 0..100 */
};

extern const struct bench_wl_info bench_wl_infos[WL_COUNT];

enum bench_backend {
    BK_PAGECACHE, /* files in the host page cache, opened without O_DIRECT */
    BK_DIRECT,    /* O_DIRECT on the root disk, caches evicted */
    BK_SLOW,      /* O_DIRECT through vfsd-slowfs (~1 ms per read/write) */
    BK_COUNT
};

extern const char *const bench_backend_names[BK_COUNT];

/* --- configuration (command line) ---------------------------------------- */

#define BENCH_MAX_CONTENDERS 32
#define BENCH_MAX_DEPTHS 16
#define BENCH_MAX_BS 8
#define BENCH_MAX_QUEUES 64
#define BENCH_MAX_DEPTH 1024
#define BENCH_NOTE 512  /* failure notes */

struct bench_contender;

struct bench_cfg {
    char *workdir;      /* data files, sockets */
    char *share;        /* workdir/share: the directory daemons serve */
    char *sockdir;      /* workdir/sock */
    char *outdir;
    char *logdir;       /* outdir/logs */
    char *daemon_path;  /* our virtiofsd */
    char *qemu_path;    /* QEMU's C virtiofsd */
    char *slowfs_path;

    bool wl[WL_COUNT];
    enum bench_wl wl_order[WL_COUNT];
    unsigned nwl;
    enum bench_backend bk_order[BK_COUNT];
    unsigned nbk;
    uint32_t bs[BENCH_MAX_BS];
    unsigned nbs;
    unsigned depths[BENCH_MAX_DEPTHS];
    unsigned ndepths;

    struct bench_contender *contenders[BENCH_MAX_CONTENDERS];
    unsigned ncontenders;
    int reference;      /* index into contenders, -1: none */
    int host;           /* index of the host contender, -1: none */

    unsigned queues;
    unsigned rounds;
    unsigned pool_size;
    double runtime_s;
    double warmup_s;
    int timeout_ms;     /* longest wait for one completion / a daemon */
    uint64_t file_size; /* the shared read file */
    uint64_t write_size; /* each contender's write file */
    unsigned nfiles;    /* lookup / getattr population */
    unsigned dir_entries; /* readdirplus directory */
    unsigned readdir_size; /* READDIRPLUS buffer per request */
    unsigned slow_delay_us;
    uint64_t seed;
    bool plots;
    bool regen;
    char *cmdline;      /* as run, for the reports */
};

/* --- contenders ----------------------------------------------------------- */

enum bench_state {
    CS_IDLE,    /* not started for this group */
    CS_READY,   /* connected, handles open */
    CS_FAILED,  /* died, hung, or could not start: see why */
};

/* Handles one contender uses during one (workload, backend) group. */
struct bench_handles {
    /* FUSE contenders: nodeids and file handles */
    uint64_t read_node, read_fh;
    uint64_t write_node, write_fh;
    uint64_t files_dir, big_dir, cu_dir;
    uint64_t *attr_nodes;   /* [nfiles], looked up once, for getattr */
    /* host contender: descriptors (-1 when unused) */
    int read_fd, write_fd;
    int files_dirfd, big_dirfd, cu_dirfd;
    int *attr_fds;          /* [nfiles], O_PATH */
    unsigned nattr;
};

struct bench_contender {
    char *name;
    char *tmpl;          /* command template; NULL for the host contender */
    bool is_host;
    uint64_t write_seed; /* pattern seed of its write file */

    /* per group */
    enum bench_state state;
    char why[BENCH_NOTE]; /* reason for CS_FAILED */
    pid_t pid;
    char *sock, *log;
    struct tc_dev *dev;
    pthread_mutex_t hiprio_lock; /* serializes the hiprio queue among queue threads */
    struct bench_handles h;
    bool wrote;          /* its write file was written in this group */
};

/* Presets: "inline", "pool", ... Returns the template or NULL. */
const char *bench_preset_template(const char *name);
/* Prints the presets with their templates. */
void bench_presets_print(void);
/* Allocates a contender; tmpl NULL means the built-in host contender. */
struct bench_contender *bench_contender_new(const char *name, const char *tmpl);
void bench_contender_free(struct bench_contender *c);
/* True for names usable in file names and reports: [A-Za-z0-9_.+-]{1,32}. */
bool bench_name_ok(const char *name);

/* A (workload, backend) group: what a contender's session needs. */
struct bench_group {
    enum bench_wl wl;
    enum bench_backend bk;
    char *base;          /* host path of the files: share/data or share/slow */
    const char *base_rel; /* the same, relative to the share: "data" / "slow" */
    int open_flags;      /* O_DIRECT or 0 */
    uint32_t max_bs;     /* largest block size of the group */
    unsigned max_depth;
    uint64_t read_seed;
};

/*
 * Starts contender c for group g: spawns the daemon from its template,
 * connects with cfg->queues request queues, FUSE INIT, looks up and opens
 * what the workload needs (or, for host, opens the files). On failure the
 * contender is CS_FAILED with c->why set and nothing left running.
 * Main thread only. Returns 0 or -errno.
 */
int bench_contender_start(const struct bench_cfg *cfg, struct bench_contender *c,
                          const struct bench_group *g);
/*
 * Ends contender c's session: closes handles, disconnects, stops the daemon
 * (SIGTERM, SIGKILL after a timeout). Records an unexpected exit in c->why
 * if it had not failed already. Main thread only.
 */
void bench_contender_stop(const struct bench_cfg *cfg, struct bench_contender *c);
/*
 * After a failed measurement: finds out whether the daemon died (reaping
 * it and describing how) or hung (then kills it). Sets CS_FAILED and why.
 */
void bench_contender_diagnose(const struct bench_cfg *cfg, struct bench_contender *c,
                              const char *what);
/* CPU time of a process tree: process counters (ticks, including threads
 * that ended) and the sum of its live threads' exact run times. */
struct bench_cpu {
    int64_t ticks;
    int64_t run_ns;
};
/* Samples pid and all its descendants; 0 or -ESRCH. */
int bench_proc_tree_cpu(pid_t pid, struct bench_cpu *cpu);
/* CPU µs spent between samples a and b. */
double bench_cpu_delta_us(const struct bench_cpu *a, const struct bench_cpu *b);

/* --- data set -------------------------------------------------------------- */

/* Word i of a pattern file is (offset of the word) ^ seed. */
static inline void bench_pattern_fill(void *buf, size_t len, uint64_t off, uint64_t seed)
{
    uint64_t *w = buf;
    size_t n = len / 8;
    for (size_t i = 0; i < n; i++)
        w[i] = (off + 8 * i) ^ seed;
}

/* Returns the byte offset (relative to buf) of the first word that does not
 * hold the pattern, or -1 when all of [buf, buf + len) is right. */
long long bench_pattern_check(const void *buf, size_t len, uint64_t off, uint64_t seed);

/* Seed of the shared read file. */
uint64_t bench_read_seed(const struct bench_cfg *cfg);

/* Creates the work directory tree and whatever files the selected
 * workloads need (reused when present and well-formed). */
int bench_dataset_prepare(const struct bench_cfg *cfg);
/* Puts a group's files into the page cache (pagecache, slow's backing) or
 * evicts them (direct). */
int bench_dataset_cache(const struct bench_cfg *cfg, const struct bench_group *g, bool quiet);
/* Checks every byte of contender c's write file (after its daemon stopped).
 * Returns 0, or -EILSEQ with a message printed naming the offset. */
int bench_dataset_verify_write_file(const struct bench_cfg *cfg, const struct bench_contender *c);
/* Host path of contender c's write file below base. Caller frees. */
char *bench_write_file_name(const struct bench_contender *c);
/* Name of file i of the lookup population and entry i of the big directory. */
void bench_file_name(unsigned i, char *buf, size_t size);
void bench_entry_name(unsigned i, char *buf, size_t size);

/* Mounts vfsd-slowfs at share/slow over share/data; unmounts it. */
int bench_slowfs_mount(const struct bench_cfg *cfg);
void bench_slowfs_unmount(const struct bench_cfg *cfg);
/* Unmounts a slowfs left mounted by an earlier, killed run. */
void bench_slowfs_cleanup_stale(const struct bench_cfg *cfg);
/* Path of the slowfs mount point, for the signal handler (static storage). */
extern char bench_slow_mnt[4096];

/* --- measurement ---------------------------------------------------------- */

/* Log-linear latency histogram in ns: 32 sub-buckets per power of two. */
#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_BUCKETS (64 * (1 << BENCH_HIST_SUB_BITS))

struct bench_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t max_ns;
    uint64_t b[BENCH_HIST_BUCKETS];
};

static inline unsigned bench_hist_index(uint64_t v)
{
    const unsigned sub = 1u << BENCH_HIST_SUB_BITS;
    if (v < 2 * sub)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = e - BENCH_HIST_SUB_BITS;
    return shift * sub + (unsigned)(v >> shift);
}

static inline void bench_hist_add(struct bench_hist *h, uint64_t ns)
{
    unsigned i = bench_hist_index(ns);
    if (i >= BENCH_HIST_BUCKETS)
        i = BENCH_HIST_BUCKETS - 1;
    h->b[i]++;
    h->count++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/* Value (ns) at quantile q (0..1), the middle of its bucket; 0 if empty. */
double bench_hist_quantile(const struct bench_hist *h, double q);
double bench_median(double *v, unsigned n); /* sorts v; NaN for n == 0 */

/* One measurement: shared between the main thread and the queue threads. */
struct bench_ctl {
    uint64_t t_start;    /* atomic; UINT64_MAX until the measured window opens */
    uint64_t t_end;      /* atomic; UINT64_MAX until it closes */
    int stop;            /* atomic; no new operations after it is set */
    int failed;          /* atomic; a queue thread hit an error */
};

/* What one measurement runs. */
struct bench_job {
    const struct bench_group *g;
    uint32_t bs;
    unsigned depth;
    unsigned queues;
    unsigned round;
    uint64_t read_size;   /* size of the read file */
    uint64_t write_size;  /* size of each write file */
};

/* What a queue thread measured inside the window. */
struct bench_result {
    uint64_t ops;
    uint64_t bytes;
    uint64_t entries;     /* readdirplus: directory entries listed */
    uint64_t client_cpu_ns; /* CPU time of this thread inside the window */
    struct bench_hist hist;
    int err;              /* 0 or -errno of the failure */
    bool fatal;           /* data corruption: the whole run stops */
    char msg[BENCH_NOTE];
};

struct bench_worker {
    const struct bench_cfg *cfg;
    struct bench_contender *c;
    const struct bench_job *job;
    struct bench_ctl *ctl;
    unsigned qi;          /* 0-based queue index; virtqueue qi + 1 */
    pthread_t thread;
    struct bench_result res;
};

/* Queue-thread bodies; each returns NULL and leaves its outcome in w->res. */
void *bench_fuse_worker(void *arg);
void *bench_host_worker(void *arg);

/* Helpers shared by both drivers. */
static inline uint64_t bench_rng_next(uint64_t *s)
{
    /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Measured-window bookkeeping: returns true when an operation that
 * completed at `now` counts. */
static inline bool bench_in_window(const struct bench_ctl *ctl, uint64_t now)
{
    uint64_t s = __atomic_load_n(&ctl->t_start, __ATOMIC_ACQUIRE);
    uint64_t e = __atomic_load_n(&ctl->t_end, __ATOMIC_ACQUIRE);
    return now >= s && now < e;
}

static inline bool bench_stopping(const struct bench_ctl *ctl)
{
    return __atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&ctl->failed, __ATOMIC_ACQUIRE);
}

void bench_fail(struct bench_worker *w, int err, bool fatal, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Client-thread CPU accounting across the window (called each loop turn). */
struct bench_cpu_track {
    int phase;            /* 0 before the window, 1 inside, 2 after */
    uint64_t t0;
};
void bench_cpu_track(struct bench_cpu_track *t, const struct bench_ctl *ctl,
                     struct bench_result *res);

/* --- results --------------------------------------------------------------- */

struct bench_sample {
    double iops, mbps, p50_us, p99_us, mean_us, entries_s;
    double cpu_us;        /* daemon CPU per op; host: the issuing threads' */
    double client_cpu_us; /* benchmark threads' CPU per op */
    double secs;
    uint64_t ops;
    bool ok;
};

struct bench_point {
    enum bench_wl wl;
    enum bench_backend bk;
    uint32_t bs;
    unsigned depth;
    unsigned queues;
    unsigned ncont;
    unsigned rounds;
    /* [contender][round] */
    struct bench_sample *s;
    char (*why)[BENCH_NOTE]; /* [contender]: failure note, "" if none */
};

struct bench_report;

struct bench_report *bench_report_new(const struct bench_cfg *cfg);
/* Files under outdir are written as points arrive, so an interrupted run
 * keeps what it measured. */
int bench_report_add(struct bench_report *r, const struct bench_point *p);
void bench_report_print_point(const struct bench_report *r, const struct bench_point *p);
/* Writes summary CSV / JSON / markdown and the plots; frees r. */
int bench_report_finish(struct bench_report *r);

/* --- misc -------------------------------------------------------------------- */

extern volatile sig_atomic_t bench_interrupted;

/* Sleeps ms, returning early (false) on interrupt or when *stop_flag is set. */
bool bench_sleep_ms(unsigned ms, const int *stop_flag);
int bench_mkdir_p(const char *path, mode_t mode);
const char *bench_size_str(uint64_t v, char *buf, size_t size); /* 4k, 1m, 1g */
int bench_parse_size(const char *s, uint64_t *out);

#endif

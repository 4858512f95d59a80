/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Results: a table per point on stdout (medians over rounds, ratios to the
 * reference contender and to host), and under --out:
 *
 *   rounds.csv     every measurement (one row per contender and round)
 *   summary.csv    medians per point and contender
 *   results.json   both of the above
 *   summary.md     markdown tables per (workload, bs, backend, queues)
 *   plots/NAME-iops.png, plots/NAME-p99.png: IOPS and p99 latency against queue depth (gnuplot)
 *
 * rounds.csv and summary.csv are written as points complete, so an
 * interrupted run keeps what it measured.
 */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "contrib/bench/bench.h"

struct med {
    double iops, mbps, p50_us, p99_us, cpu_us, client_cpu_us, entries_s;
    unsigned ok;   /* rounds that succeeded */
};

struct stored_point {
    struct bench_point p;
    struct med *m;  /* [ncont] */
};

struct bench_report {
    const struct bench_cfg *cfg;
    FILE *rounds_csv;
    FILE *summary_csv;
    GPtrArray *points;   /* struct stored_point * */
    char started[64];
};

static void medians(const struct bench_point *p, unsigned c, struct med *m)
{
    double v[7][256];
    unsigned n = 0;
    for (unsigned r = 0; r < p->rounds && n < 256; r++) {
        const struct bench_sample *s = &p->s[c * p->rounds + r];
        if (!s->ok)
            continue;
        v[0][n] = s->iops;
        v[1][n] = s->mbps;
        v[2][n] = s->p50_us;
        v[3][n] = s->p99_us;
        v[4][n] = s->cpu_us;
        v[5][n] = s->client_cpu_us;
        v[6][n] = s->entries_s;
        n++;
    }
    m->ok = n;
    m->iops = bench_median(v[0], n);
    m->mbps = bench_median(v[1], n);
    m->p50_us = bench_median(v[2], n);
    m->p99_us = bench_median(v[3], n);
    m->cpu_us = bench_median(v[4], n);
    m->client_cpu_us = bench_median(v[5], n);
    m->entries_s = bench_median(v[6], n);
}

static const char *bs_str(uint32_t bs, char *buf, size_t size)
{
    if (!bs)
        return "-";
    return bench_size_str(bs, buf, size);
}

struct bench_report *bench_report_new(const struct bench_cfg *cfg)
{
    struct bench_report *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cfg = cfg;
    r->points = g_ptr_array_new();
    time_t now = time(NULL);
    strftime(r->started, sizeof(r->started), "%Y-%m-%d %H:%M:%S %z", localtime(&now));

    g_autofree char *rp = g_strdup_printf("%s/rounds.csv", cfg->outdir);
    g_autofree char *sp = g_strdup_printf("%s/summary.csv", cfg->outdir);
    r->rounds_csv = fopen(rp, "w");
    r->summary_csv = fopen(sp, "w");
    if (!r->rounds_csv || !r->summary_csv) {
        fprintf(stderr, "vfsd-bench: cannot write into %s: %s\n", cfg->outdir, strerror(errno));
        if (r->rounds_csv)
            fclose(r->rounds_csv);
        if (r->summary_csv)
            fclose(r->summary_csv);
        g_ptr_array_free(r->points, TRUE);
        free(r);
        return NULL;
    }
    fprintf(r->rounds_csv, "workload,bs,backend,queues,depth,contender,round,status,ops,secs,iops,"
                           "mbps,p50_us,p99_us,mean_us,cpu_us_per_op,client_cpu_us_per_op,"
                           "entries_per_s,note\n");
    fprintf(r->summary_csv, "workload,bs,backend,queues,depth,contender,rounds_ok,iops,mbps,"
                            "p50_us,p99_us,cpu_us_per_op,client_cpu_us_per_op,entries_per_s,"
                            "iops_vs_reference,iops_vs_host,note\n");
    return r;
}

static void csv_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static double ratio(double a, double b)
{
    return (b > 0 && !isnan(a) && !isnan(b)) ? a / b : NAN;
}

int bench_report_add(struct bench_report *r, const struct bench_point *p)
{
    const struct bench_cfg *cfg = r->cfg;
    char bsb[16];
    struct stored_point *sp = calloc(1, sizeof(*sp));
    if (!sp)
        return -ENOMEM;
    sp->p = *p;
    size_t ns = (size_t)p->ncont * p->rounds;
    sp->p.s = calloc(ns, sizeof(*p->s));
    sp->p.why = calloc(p->ncont, sizeof(*p->why));
    sp->m = calloc(p->ncont, sizeof(*sp->m));
    if (!sp->p.s || !sp->p.why || !sp->m) {
        free(sp->p.s);
        free(sp->p.why);
        free(sp->m);
        free(sp);
        return -ENOMEM;
    }
    memcpy(sp->p.s, p->s, ns * sizeof(*p->s));
    memcpy(sp->p.why, p->why, p->ncont * sizeof(*p->why));
    for (unsigned c = 0; c < p->ncont; c++)
        medians(p, c, &sp->m[c]);
    g_ptr_array_add(r->points, sp);

    const char *wl = bench_wl_infos[p->wl].name, *bk = bench_backend_names[p->bk];
    bs_str(p->bs, bsb, sizeof(bsb));
    for (unsigned c = 0; c < p->ncont; c++) {
        for (unsigned k = 0; k < p->rounds; k++) {
            const struct bench_sample *s = &p->s[c * p->rounds + k];
            fprintf(r->rounds_csv, "%s,%s,%s,%u,%u,%s,%u,%s,%llu,%.3f,%.1f,%.2f,%.2f,%.2f,%.2f,"
                    "%.3f,%.3f,%.1f,", wl, bsb, bk, p->queues, p->depth, cfg->contenders[c]->name,
                    k + 1, s->ok ? "ok" : "failed", (unsigned long long)s->ops, s->secs, s->iops,
                    s->mbps, s->p50_us, s->p99_us, s->mean_us, s->cpu_us, s->client_cpu_us,
                    s->entries_s);
            csv_str(r->rounds_csv, s->ok ? "" : p->why[c]);
            fputc('\n', r->rounds_csv);
        }
        const struct med *m = &sp->m[c];
        double ref = cfg->reference >= 0 ? sp->m[cfg->reference].iops : NAN;
        double host = cfg->host >= 0 ? sp->m[cfg->host].iops : NAN;
        fprintf(r->summary_csv, "%s,%s,%s,%u,%u,%s,%u,%.1f,%.2f,%.2f,%.2f,%.3f,%.3f,%.1f,%.3f,%.3f,",
                wl, bsb, bk, p->queues, p->depth, cfg->contenders[c]->name, m->ok, m->iops, m->mbps,
                m->p50_us, m->p99_us, m->cpu_us, m->client_cpu_us, m->entries_s,
                ratio(m->iops, ref), ratio(m->iops, host));
        csv_str(r->summary_csv, p->why[c]);
        fputc('\n', r->summary_csv);
    }
    fflush(r->rounds_csv);
    fflush(r->summary_csv);
    return 0;
}

static const char *human(double v, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else if (v >= 1e7)
        snprintf(buf, size, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else if (v >= 100)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.1f", v);
    return buf;
}

/* v with `decimals` digits after the point, "-" when unknown. */
static const char *fixed(double v, int decimals, char *buf, size_t size)
{
    if (isnan(v))
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%.*f", decimals, v);
    return buf;
}

void bench_report_print_point(const struct bench_report *r, const struct bench_point *p)
{
    const struct bench_cfg *cfg = r->cfg;
    const struct stored_point *sp = NULL;
    for (guint i = r->points->len; i-- > 0;) {
        const struct stored_point *x = g_ptr_array_index(r->points, i);
        if (x->p.wl == p->wl && x->p.bk == p->bk && x->p.bs == p->bs && x->p.depth == p->depth) {
            sp = x;
            break;
        }
    }
    if (!sp)
        return;
    char bsb[16], b[8][32];
    bool data = bench_wl_infos[p->wl].data;
    bool rdp = p->wl == WL_READDIRPLUS;
    const char *ref = cfg->reference >= 0 ? cfg->contenders[cfg->reference]->name : NULL;

    printf("\n%s bs=%s backend=%s queues=%u depth=%u (median of %u round%s)\n",
           bench_wl_infos[p->wl].name, bs_str(p->bs, bsb, sizeof(bsb)), bench_backend_names[p->bk],
           p->queues, p->depth, p->rounds, p->rounds == 1 ? "" : "s");
    printf("  %-12s %9s %9s %9s %9s %10s", "contender", "IOPS", data ? "MB/s" : rdp ? "entries/s" : "",
           "p50 us", "p99 us", "cpu us/op");
    if (ref)
        printf(" %9s", "vs ref");
    if (cfg->host >= 0)
        printf(" %9s", "vs host");
    printf("\n");
    for (unsigned c = 0; c < p->ncont; c++) {
        const struct med *m = &sp->m[c];
        const char *name = cfg->contenders[c]->name;
        if (!m->ok) {
            printf("  %-12s FAILED: %s\n", name, p->why[c]);
            continue;
        }
        printf("  %-12s %9s %9s %9s %9s %10s", name, human(m->iops, b[0], sizeof(b[0])),
               data ? fixed(m->mbps, 1, b[1], sizeof(b[1]))
                    : rdp ? human(m->entries_s, b[1], sizeof(b[1])) : "",
               fixed(m->p50_us, 1, b[2], sizeof(b[2])),
               fixed(m->p99_us, 1, b[3], sizeof(b[3])),
               fixed(m->cpu_us, 2, b[4], sizeof(b[4])));
        if (ref)
            printf(" %9s", fixed(ratio(m->iops, sp->m[cfg->reference].iops), 2, b[5],
                                 sizeof(b[5])));
        if (cfg->host >= 0)
            printf(" %9s", fixed(ratio(m->iops, sp->m[cfg->host].iops), 2, b[6],
                                 sizeof(b[6])));
        if (m->ok < p->rounds)
            printf("  (%u of %u rounds%s%s)", m->ok, p->rounds, p->why[c][0] ? "; " : "",
                   p->why[c]);
        printf("\n");
    }
    fflush(stdout);
}

/* --- summary files ------------------------------------------------------------ */

static void json_num(FILE *f, double v)
{
    if (isnan(v) || isinf(v))
        fputs("null", f);
    else
        fprintf(f, "%.4g", v);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_med(FILE *f, const struct med *m)
{
    fputs("{\"iops\": ", f);
    json_num(f, m->iops);
    fputs(", \"mbps\": ", f);
    json_num(f, m->mbps);
    fputs(", \"p50_us\": ", f);
    json_num(f, m->p50_us);
    fputs(", \"p99_us\": ", f);
    json_num(f, m->p99_us);
    fputs(", \"cpu_us_per_op\": ", f);
    json_num(f, m->cpu_us);
    fputs(", \"client_cpu_us_per_op\": ", f);
    json_num(f, m->client_cpu_us);
    fputs(", \"entries_per_s\": ", f);
    json_num(f, m->entries_s);
    fputs("}", f);
}

static int write_json(const struct bench_report *r)
{
    const struct bench_cfg *cfg = r->cfg;
    g_autofree char *path = g_strdup_printf("%s/results.json", cfg->outdir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    char bsb[16];
    fputs("{\n  \"started\": ", f);
    json_str(f, r->started);
    fputs(",\n  \"command\": ", f);
    json_str(f, cfg->cmdline);
    fprintf(f, ",\n  \"config\": {\"queues\": %u, \"rounds\": %u, \"runtime_s\": %g, "
               "\"warmup_s\": %g, \"pool_size\": %u, \"file_size\": %llu, \"write_size\": %llu, "
               "\"nfiles\": %u, \"dir_entries\": %u, \"readdir_size\": %u, "
               "\"slow_delay_us\": %u, \"reference\": ",
            cfg->queues, cfg->rounds, cfg->runtime_s, cfg->warmup_s, cfg->pool_size,
            (unsigned long long)cfg->file_size, (unsigned long long)cfg->write_size, cfg->nfiles,
            cfg->dir_entries, cfg->readdir_size, cfg->slow_delay_us);
    if (cfg->reference >= 0)
        json_str(f, cfg->contenders[cfg->reference]->name);
    else
        fputs("null", f);
    fputs(", \"contenders\": [", f);
    for (unsigned c = 0; c < cfg->ncontenders; c++) {
        fputs(c ? ", {\"name\": " : "{\"name\": ", f);
        json_str(f, cfg->contenders[c]->name);
        fputs(", \"command\": ", f);
        if (cfg->contenders[c]->tmpl)
            json_str(f, cfg->contenders[c]->tmpl);
        else
            fputs("null", f);
        fputs("}", f);
    }
    fputs("]},\n  \"points\": [", f);
    for (guint i = 0; i < r->points->len; i++) {
        const struct stored_point *sp = g_ptr_array_index(r->points, i);
        const struct bench_point *p = &sp->p;
        fprintf(f, "%s\n    {\"workload\": \"%s\", \"bs\": \"%s\", \"backend\": \"%s\", "
                   "\"queues\": %u, \"depth\": %u, \"contenders\": [",
                i ? "," : "", bench_wl_infos[p->wl].name, bs_str(p->bs, bsb, sizeof(bsb)),
                bench_backend_names[p->bk], p->queues, p->depth);
        for (unsigned c = 0; c < p->ncont; c++) {
            fprintf(f, "%s\n      {\"name\": ", c ? "," : "");
            json_str(f, cfg->contenders[c]->name);
            fprintf(f, ", \"status\": \"%s\", \"note\": ", sp->m[c].ok ? "ok" : "failed");
            json_str(f, p->why[c]);
            fputs(", \"median\": ", f);
            json_med(f, &sp->m[c]);
            fputs(", \"rounds\": [", f);
            for (unsigned k = 0; k < p->rounds; k++) {
                const struct bench_sample *s = &p->s[c * p->rounds + k];
                struct med m = {
                    .iops = s->iops, .mbps = s->mbps, .p50_us = s->p50_us, .p99_us = s->p99_us,
                    .cpu_us = s->cpu_us, .client_cpu_us = s->client_cpu_us,
                    .entries_s = s->entries_s,
                };
                if (!s->ok) {
                    fputs(k ? ", null" : "null", f);
                    continue;
                }
                if (k)
                    fputs(", ", f);
                json_med(f, &m);
            }
            fputs("]}", f);
        }
        fputs("]}", f);
    }
    fputs("\n  ]\n}\n", f);
    return fclose(f) ? -errno : 0;
}

/* Points of one (workload, bs, backend, queues) series, in depth order. */
static GPtrArray *series(const struct bench_report *r, const struct stored_point *first)
{
    GPtrArray *a = g_ptr_array_new();
    for (guint i = 0; i < r->points->len; i++) {
        const struct stored_point *sp = g_ptr_array_index(r->points, i);
        if (sp->p.wl == first->p.wl && sp->p.bk == first->p.bk && sp->p.bs == first->p.bs &&
            sp->p.queues == first->p.queues)
            g_ptr_array_add(a, (gpointer)sp);
    }
    return a;
}

static bool series_seen(const struct bench_report *r, guint upto, const struct stored_point *sp)
{
    for (guint i = 0; i < upto; i++) {
        const struct stored_point *x = g_ptr_array_index(r->points, i);
        if (x->p.wl == sp->p.wl && x->p.bk == sp->p.bk && x->p.bs == sp->p.bs &&
            x->p.queues == sp->p.queues)
            return true;
    }
    return false;
}

static char *series_key(const struct bench_point *p)
{
    char bsb[16];
    return g_strdup_printf("%s-%s%s%s-q%u", bench_wl_infos[p->wl].name,
                           p->bs ? bs_str(p->bs, bsb, sizeof(bsb)) : "", p->bs ? "-" : "",
                           bench_backend_names[p->bk], p->queues);
}

enum md_metric { MD_IOPS, MD_VS_HOST, MD_P99, MD_CPU, MD_ENTRIES };

static void md_table(FILE *f, const struct bench_cfg *cfg, GPtrArray *s, enum md_metric metric)
{
    char b[64], b2[32];
    fputs("| contender |", f);
    for (guint i = 0; i < s->len; i++)
        fprintf(f, " depth %u |", ((const struct stored_point *)g_ptr_array_index(s, i))->p.depth);
    fputs("\n|---|", f);
    for (guint i = 0; i < s->len; i++)
        fputs("---:|", f);
    fputc('\n', f);
    for (unsigned c = 0; c < cfg->ncontenders; c++) {
        if (metric == MD_VS_HOST && (int)c == cfg->host)
            continue;
        fprintf(f, "| %s |", cfg->contenders[c]->name);
        for (guint i = 0; i < s->len; i++) {
            const struct stored_point *sp = g_ptr_array_index(s, i);
            const struct med *m = &sp->m[c];
            if (!m->ok) {
                fputs(" failed |", f);
                continue;
            }
            switch (metric) {
            case MD_IOPS:
                human(m->iops, b, sizeof(b));
                if (cfg->reference >= 0 && (int)c != cfg->reference)
                    fprintf(f, " %s (%s) |", b,
                            fixed(ratio(m->iops, sp->m[cfg->reference].iops), 2, b2,
                                  sizeof(b2)));
                else
                    fprintf(f, " %s |", b);
                break;
            case MD_VS_HOST:
                fprintf(f, " %s |", fixed(ratio(m->iops, sp->m[cfg->host].iops), 2, b,
                                          sizeof(b)));
                break;
            case MD_P99:
                fprintf(f, " %s |", fixed(m->p99_us, 0, b, sizeof(b)));
                break;
            case MD_CPU:
                fprintf(f, " %s |", fixed(m->cpu_us, 1, b, sizeof(b)));
                break;
            case MD_ENTRIES:
                fprintf(f, " %s |", human(m->entries_s, b, sizeof(b)));
                break;
            }
        }
        fputc('\n', f);
    }
    fputc('\n', f);
}

static int write_markdown(const struct bench_report *r)
{
    const struct bench_cfg *cfg = r->cfg;
    g_autofree char *path = g_strdup_printf("%s/summary.md", cfg->outdir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    char bsb[16];
    const char *ref = cfg->reference >= 0 ? cfg->contenders[cfg->reference]->name : NULL;

    fprintf(f, "Command: `%s`  \nStarted %s; %u round%s of %gs (after %gs warmup) per point, "
               "contenders alternating; medians shown.\n\n",
            cfg->cmdline, r->started, cfg->rounds, cfg->rounds == 1 ? "" : "s", cfg->runtime_s,
            cfg->warmup_s);
    for (guint i = 0; i < r->points->len; i++) {
        const struct stored_point *sp = g_ptr_array_index(r->points, i);
        if (series_seen(r, i, sp))
            continue;
        g_autoptr(GPtrArray) s = series(r, sp);
        const struct bench_point *p = &sp->p;
        fprintf(f, "#### %s", bench_wl_infos[p->wl].name);
        if (p->bs)
            fprintf(f, ", %s blocks", bs_str(p->bs, bsb, sizeof(bsb)));
        fprintf(f, ", %s backend, %u request queue%s\n\n", bench_backend_names[p->bk], p->queues,
                p->queues == 1 ? "" : "s");
        if (ref)
            fprintf(f, "Operations/s (in parentheses: ratio to %s)\n\n", ref);
        else
            fputs("Operations/s\n\n", f);
        md_table(f, cfg, s, MD_IOPS);
        if (cfg->host >= 0) {
            fputs("Ratio to host (the same I/O issued directly)\n\n", f);
            md_table(f, cfg, s, MD_VS_HOST);
        }
        if (p->wl == WL_READDIRPLUS) {
            fputs("Directory entries/s\n\n", f);
            md_table(f, cfg, s, MD_ENTRIES);
        }
        fputs("p99 latency (µs)\n\n", f);
        md_table(f, cfg, s, MD_P99);
        fputs("Daemon CPU per operation (µs; host: the issuing threads)\n\n", f);
        md_table(f, cfg, s, MD_CPU);
        /* one line per distinct failure note */
        for (unsigned c = 0; c < cfg->ncontenders; c++) {
            const char *last = NULL;
            for (guint k = 0; k < s->len; k++) {
                const struct stored_point *x = g_ptr_array_index(s, k);
                const char *w = x->p.why[c];
                if (!w[0] || (last && !strcmp(last, w)))
                    continue;
                fprintf(f, "- **%s** (depth %u): %s\n", cfg->contenders[c]->name, x->p.depth, w);
                last = w;
            }
        }
        g_autofree char *key = series_key(p);
        if (cfg->plots)
            fprintf(f, "\nPlots: `plots/%s-iops.png`, `plots/%s-p99.png`\n", key, key);
        fputc('\n', f);
    }
    return fclose(f) ? -errno : 0;
}

static int write_plots(const struct bench_report *r)
{
    const struct bench_cfg *cfg = r->cfg;
    g_autofree char *dir = g_strdup_printf("%s/plots", cfg->outdir);
    int ret = bench_mkdir_p(dir, 0755);
    if (ret < 0)
        return ret;
    g_autofree char *gp = g_strdup_printf("%s/plots.gp", dir);
    FILE *f = fopen(gp, "w");
    if (!f)
        return -errno;
    char bsb[16];
    fputs("# gnuplot script written by vfsd-bench; run from this directory\n"
          "set datafile missing '?'\nset key outside right top\nset grid\n"
          "set logscale x 2\nset xlabel 'queue depth (requests in flight per queue)'\n", f);
    fputs("set terminal pngcairo size 1000,600 noenhanced font ',10'\n", f);
    for (guint i = 0; i < r->points->len; i++) {
        const struct stored_point *sp = g_ptr_array_index(r->points, i);
        if (series_seen(r, i, sp))
            continue;
        g_autoptr(GPtrArray) s = series(r, sp);
        g_autofree char *key = series_key(&sp->p);
        g_autofree char *datp = g_strdup_printf("%s/%s.dat", dir, key);
        FILE *d = fopen(datp, "w");
        if (!d) {
            fclose(f);
            return -errno;
        }
        fputs("# depth", d);
        for (unsigned c = 0; c < cfg->ncontenders; c++)
            fprintf(d, " %s_iops %s_p99_us", cfg->contenders[c]->name, cfg->contenders[c]->name);
        fputc('\n', d);
        for (guint k = 0; k < s->len; k++) {
            const struct stored_point *x = g_ptr_array_index(s, k);
            fprintf(d, "%u", x->p.depth);
            for (unsigned c = 0; c < cfg->ncontenders; c++) {
                if (x->m[c].ok)
                    fprintf(d, " %.1f %.2f", x->m[c].iops, x->m[c].p99_us);
                else
                    fputs(" ? ?", d);
            }
            fputc('\n', d);
        }
        fclose(d);

        const struct bench_point *p = &sp->p;
        g_autofree char *title = g_strdup_printf(
            "%s%s%s, %s backend, %u queue%s", bench_wl_infos[p->wl].name, p->bs ? " " : "",
            p->bs ? bs_str(p->bs, bsb, sizeof(bsb)) : "", bench_backend_names[p->bk], p->queues,
            p->queues == 1 ? "" : "s");
        const char *what[2] = { "IOPS", "p99 latency (us)" };
        const char *suffix[2] = { "iops", "p99" };
        for (unsigned m = 0; m < 2; m++) {
            fprintf(f, "\nset output '%s-%s.png'\nset title '%s: %s'\nset ylabel '%s'\n", key,
                    suffix[m], title, what[m], what[m]);
            fputs(m ? "set logscale y\nset yrange [*:*]\n" : "unset logscale y\nset yrange [0:*]\n", f);
            fputs("plot", f);
            for (unsigned c = 0; c < cfg->ncontenders; c++)
                fprintf(f, "%s '%s.dat' using 1:%u with linespoints lw 2 title '%s'",
                        c ? "," : "", key, 2 + 2 * c + m, cfg->contenders[c]->name);
            fputc('\n', f);
        }
    }
    fclose(f);

    /* gnuplot is optional: without it the .dat files and script remain */
    if (access("/usr/bin/gnuplot", X_OK) != 0) {
        fprintf(stderr, "vfsd-bench: gnuplot not found (apt-get install gnuplot-nox); plot data "
                        "left in %s\n", dir);
        return 0;
    }
    g_autofree char *cmd = g_strdup_printf("cd '%s' && /usr/bin/gnuplot plots.gp", dir);
    int st = system(cmd);
    if (st != 0) {
        fprintf(stderr, "vfsd-bench: gnuplot failed (status %d); plot data left in %s\n", st, dir);
        return -EIO;
    }
    return 0;
}

int bench_report_finish(struct bench_report *r)
{
    int ret = 0;
    if (!r)
        return 0;
    fclose(r->rounds_csv);
    fclose(r->summary_csv);
    if (r->points->len) {
        if ((ret = write_json(r)) < 0)
            fprintf(stderr, "vfsd-bench: results.json: %s\n", strerror(-ret));
        if ((ret = write_markdown(r)) < 0)
            fprintf(stderr, "vfsd-bench: summary.md: %s\n", strerror(-ret));
        if (r->cfg->plots && (ret = write_plots(r)) < 0)
            fprintf(stderr, "vfsd-bench: plots: %s\n", strerror(-ret));
    }
    for (guint i = 0; i < r->points->len; i++) {
        struct stored_point *sp = g_ptr_array_index(r->points, i);
        free(sp->p.s);
        free(sp->p.why);
        free(sp->m);
        free(sp);
    }
    g_ptr_array_free(r->points, TRUE);
    free(r);
    return ret;
}

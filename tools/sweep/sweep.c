/* tsrelu-sweep — grids of exact population GD runs through the batch API,
 * one CSV row per run, resumable; on one machine (threads), under MPI
 * (build with -DTSRELU_SWEEP_MPI), or as shards of a job array followed by
 * --merge. All modes give the same CSV, row for row, but for the wall-time
 * column. See docs/sweeps.md and --help. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "grid.h"
#include "job.h"
#include "merge.h"
#include "options.h"
#include "progress.h"
#include "say.h"
#include "strbuf.h"
#include "table.h"
#include "traj.h"
#ifdef TSRELU_SWEEP_MPI
#include "sweep_mpi.h"
#endif

#include <tsrelu.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RC_ABORT 99 /* a rank-local failure under MPI: abort every rank */

static int rank = 0; /* MPI rank; 0 without MPI */
#ifdef TSRELU_SWEEP_MPI
static int nranks = 1;
#endif

/* Keep OpenBLAS single-threaded unless the user chose otherwise: the batch
 * threads already use the cores (include/tsrelu.h, batches). */
static void pin_blas(void)
{
    if (getenv("OPENBLAS_NUM_THREADS"))
        return;
    void *sym = dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    void (*set)(int);
    if (!sym)
        return;
    memcpy(&set, &sym, sizeof set);
    set(1);
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    strbuf sb = {0};
    char buf[4096];
    size_t n;
    if (!f)
        return NULL;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (sb_append(&sb, buf, n) != 0) {
            fclose(f);
            sb_free(&sb);
            return NULL;
        }
    int bad = ferror(f);
    fclose(f);
    if (bad || sb_append(&sb, "", 0) != 0) {
        sb_free(&sb);
        return NULL;
    }
    return sb.s;
}

/* The grid from rank 0's grid file and the axis flags. @return 0, or the
 * exit status. */
static int build_grid(const options *o, sweep_grid *g)
{
    char err[1024], *text = NULL;
    memset(g, 0, sizeof *g);
    if (o->grid_file && rank == 0 && !(text = read_file(o->grid_file))) {
        say("%s: %s", o->grid_file, strerror(errno ? errno : EIO));
#ifndef TSRELU_SWEEP_MPI
        return 1;
#endif
    }
#ifdef TSRELU_SWEEP_MPI
    if (o->grid_file && !(text = smpi_bcast_text(text)))
        return 1;
#endif
    int rc = text ? grid_parse_text(g, text, o->grid_file, err, sizeof err) : 0;
    free(text);
    for (size_t i = 0; rc == 0 && i < o->naxes; i++)
        rc = grid_set(g, o->axis_id[i], o->axis_spec[i], err, sizeof err);
    if (rc == 0)
        rc = grid_finish(g, err, sizeof err);
    if (rc != 0) {
        say("%s", err);
        grid_free(g);
        return 2;
    }
#ifdef TSRELU_SWEEP_MPI
    if (!smpi_same(grid_fingerprint(g))) {
        say("the ranks expanded different grids (different builds or inputs?)");
        grid_free(g);
        return 1;
    }
#endif
    return 0;
}

/* The runs of this process: all of them, or those dealt to shard I of N. */
typedef struct {
    size_t *order;       /* every run index, in hand-out order (grid_order) */
    unsigned char *mine; /* mine[index]: the run belongs to this shard */
    size_t count;        /* how many do */
    char label[64];      /* "I/N" for messages */
} shard_plan;

static void shard_free(shard_plan *s)
{
    free(s->order);
    free(s->mine);
}

/* Position p of grid_order() goes to shard p mod N. @return 0 or 1. */
static int shard_make(const options *o, const sweep_grid *g, shard_plan *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->label, sizeof s->label, "%zu/%zu", o->shard_i, o->shard_n);
    s->order = grid_order(g);
    s->mine = calloc(g->total, 1);
    if (!s->order || !s->mine) {
        say("out of memory for a grid of %zu runs", g->total);
        shard_free(s);
        return 1;
    }
    for (size_t p = o->shard_i; p < g->total; p += o->shard_n) {
        s->mine[s->order[p]] = 1;
        s->count++;
    }
    return 0;
}

static int list_runs(const sweep_grid *g, const shard_plan *s)
{
    strbuf sb = {0};
    const char *h = table_header;
    for (int c = 0; c < TABLE_PREFIX_COLS; h++)
        c += *h == ',';
    printf("%.*s\n", (int)(h - table_header - 1), table_header);
    for (size_t i = 0; i < g->total; i++) {
        sweep_config c;
        if (!s->mine[i])
            continue;
        grid_config(g, i, &c);
        sb_clear(&sb);
        if (table_prefix(&sb, &c) != 0)
            return 1;
        puts(sb.s);
    }
    sb_free(&sb);
    fprintf(stderr, "tsrelu-sweep: %zu runs (grid of %zu)\n", s->count, g->total);
    return 0;
}

/* After the last chunk: re-read the output, check it against the grid, and
 * rewrite it sorted by run index if it is not already. */
static int finish_output(const options *o, const sweep_grid *g, const shard_plan *s)
{
    table t;
    char err[2048];
    int rc = table_load(&t, o->out, err, sizeof err);
    if (rc == 0)
        rc = table_check_grid(&t, g, s->mine, s->label, o->out, err, sizeof err);
    int sorted = 1;
    for (size_t i = 1; rc == 0 && i < t.n; i++)
        sorted &= t.row[i].index > t.row[i - 1].index;
    if (rc == 0)
        rc = table_sort(&t, err, sizeof err);
    if (rc == 0 && t.n != s->count) {
        snprintf(err, sizeof err, "%s: %zu of %zu runs recorded after the sweep", o->out, t.n, s->count);
        rc = -1;
    }
    if (rc == 0 && !sorted)
        rc = table_write(&t, o->out, err, sizeof err);
    if (rc != 0)
        say("%s", err);
    table_free(&t);
    return rc == 0 ? 0 : 1;
}

/* Open the output and list the runs of the shard not recorded yet, in
 * hand-out order (rank 0). */
static int plan(const options *o, const sweep_grid *g, const shard_plan *s, table_out *out, size_t **todo,
                size_t *ntodo, size_t *before)
{
    table t;
    char err[2048];
    if (table_out_open(out, o->out, &t, err, sizeof err) != 0) {
        say("%s", err);
        return 1;
    }
    if (out->dropped)
        say("%s: ignored a partial last line (%zu bytes) left by an interrupted sweep", o->out, out->dropped);
    unsigned char *done = calloc(g->total, 1);
    *todo = malloc((s->count ? s->count : 1) * sizeof **todo);
    int rc = 1;
    if (!done || !*todo)
        say("out of memory");
    else if (table_check_grid(&t, g, s->mine, s->label, o->out, err, sizeof err) != 0 ||
             table_sort(&t, err, sizeof err) != 0)
        say("%s", err);
    else
        rc = 0;
    if (rc == 0) {
        for (size_t r = 0; r < t.n; r++)
            done[t.row[r].index] = 1;
        *before = t.n;
        *ntodo = 0;
        for (size_t p = 0; p < g->total; p++)
            if (s->mine[s->order[p]] && !done[s->order[p]])
                (*todo)[(*ntodo)++] = s->order[p];
    }
    free(done);
    table_free(&t);
    if (rc != 0)
        table_out_close(out);
    return rc;
}

static int run_sweep(const options *o, const sweep_grid *g, const shard_plan *s)
{
    table_out out = {-1, NULL, 0};
    size_t *todo = NULL, ntodo = 0, before = 0;
    progress prog;
    sweep_job j;
    sweep_traj traj = {o->traj_dir, o->per_decade ? o->per_decade : TRAJ_DEFAULT_PER_DECADE};
    int rc = rank == 0 ? plan(o, g, s, &out, &todo, &ntodo, &before) : 0;
    if (rc == 0 && rank == 0 && traj.dir) {
        char err[4200];
        if (traj_prepare(traj.dir, err, sizeof err) != 0) {
            say("%s", err);
            table_out_close(&out);
            rc = 1;
        }
    }
    unsigned threads = o->threads;
    if (threads == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
#ifdef TSRELU_SWEEP_MPI
    if ((rc = smpi_bcast_int(rc)) != 0)
        goto done;
    if (rank != 0) {
        char err[1024];
        if (smpi_work(g, threads, o->chunk ? o->chunk : threads, &traj, err, sizeof err) != 0) {
            fprintf(stderr, "tsrelu-sweep (rank %d): %s\n", rank, err);
            rc = RC_ABORT;
        }
        goto done;
    }
#endif
    if (rc != 0)
        goto done;
    memset(&j, 0, sizeof j);
    j.grid = g;
    j.threads = threads;
    j.chunk = o->chunk ? o->chunk : threads;
    j.traj = &traj;
    j.out = &out;
    j.prog = &prog;
    j.todo = todo;
    j.ntodo = ntodo;
    pthread_mutex_init(&j.lock, NULL);
    double cost = 0;
    for (size_t i = 0; i < ntodo; i++) {
        sweep_config c;
        grid_config(g, todo[i], &c);
        cost += grid_cost(&c);
    }
    progress_start(&prog, o->progress, s->count, before, cost);
#ifdef TSRELU_SWEEP_MPI
    if (nranks > 1)
        rc = smpi_coordinate(&j, nranks);
    else
#endif
        rc = job_run_local(&j);
    pthread_mutex_destroy(&j.lock);
    if (rc != 0 || j.failed) {
        progress_end(&prog, o->out);
        say("%s (the runs recorded so far are kept: run the same command again to resume)", j.err);
        rc = 1; /* under MPI the other ranks were told to stop: no abort needed */
        goto done;
    }
    rc = finish_output(o, g, s);
    progress_end(&prog, o->out);
done:
    table_out_close(&out);
    free(todo);
    return rc;
}

static int sweep_main(int argc, char **argv)
{
    options o;
    sweep_grid g;
    say_quiet(rank != 0);
    int rc = options_parse(argc, argv, &o);
    if (rc != 0) {
        if (rc == 2)
            say("see --help for the usage");
        options_free(&o);
        return rc == 1 ? 0 : rc;
    }
    pin_blas();
    int want_grid = !o.merge_out || o.grid_file || o.naxes > 0;
    if (want_grid && (rc = build_grid(&o, &g)) != 0) {
        options_free(&o);
        return rc;
    }
    shard_plan s = {0};
    if (o.merge_out)
        rc = rank == 0 ? sweep_merge(&o, want_grid ? &g : NULL) : 0;
    else if ((rc = shard_make(&o, &g, &s)) == 0)
        rc = o.list ? (rank == 0 ? list_runs(&g, &s) : 0) : run_sweep(&o, &g, &s);
    shard_free(&s);
    if (want_grid)
        grid_free(&g);
    options_free(&o);
    return rc;
}

int main(int argc, char **argv)
{
#ifdef TSRELU_SWEEP_MPI
    if (smpi_init(&argc, &argv, &rank, &nranks) != 0)
        return 1;
    int rc = sweep_main(argc, argv);
    if (rc == RC_ABORT)
        smpi_abort(1);
    smpi_finalize();
    return rc;
#else
    return sweep_main(argc, argv);
#endif
}

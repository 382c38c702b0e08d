/* One chunk of the sweep = one tsrelu batch (see runner.h). The summary
 * fields come from tsrelu_batch_summary(); the group sizes are read from the
 * final state with tsrelu_balance() and from the initial grouping with
 * tsrelu_gd_groups(). */
#include "runner.h"
#include "say.h"

#include "table.h"
#include "traj.h"

#include <tsrelu.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Group sizes as "5/4/5/6". */
static int sizes(strbuf *sb, const int *size, size_t k)
{
    for (size_t j = 0; j < k; j++)
        if (sb_printf(sb, "%s%d", j ? "/" : "", size[j]) != 0)
            return -1;
    return 0;
}

static int add_run(tsrelu_batch *b, const sweep_config *c, char *err, size_t errlen)
{
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    size_t i;
    tsrelu_status st;
    const char *what = "teacher";
    if ((st = tsrelu_teacher_create_orthogonal(c->k, c->d, c->norm, c->seed, &t)) == TSRELU_OK &&
        (what = "student", st = tsrelu_student_create_gaussian(c->m, c->d, c->sigma, c->seed, &s)) == TSRELU_OK &&
        (what = "batch", st = tsrelu_batch_add(b, t, s, c->eta, c->steps, &i)) == TSRELU_OK)
        (what = "phase thresholds",
         st = tsrelu_gd_set_phase_thresholds(tsrelu_batch_state(b, i), c->eps_align, c->eps_deficit));
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    if (st != TSRELU_OK)
        return say_err(err, errlen, "run %zu: %s: %s (%s)", c->index, what, tsrelu_status_name(st),
                    tsrelu_last_error());
    return 0;
}

/* The row of run i of the batch (grid configuration c). */
static int format_row(tsrelu_batch *b, size_t i, const sweep_config *c, strbuf *out, int *ok, char *err,
                      size_t errlen)
{
    double s[TSRELU_SUMMARY_LEN];
    size_t k = c->k, m = c->m;
    int *size = malloc(k * sizeof *size), *init = calloc(k, sizeof *init), *tau = malloc(m * sizeof *tau);
    double *mem = malloc(3 * k * sizeof *mem);
    tsrelu_gd *gd = tsrelu_batch_state(b, i);
    tsrelu_status st = TSRELU_ENOMEM;
    int rc = -1;
    if (!size || !init || !tau || !mem ||
        (st = tsrelu_batch_summary(b, i, s, TSRELU_SUMMARY_LEN)) != TSRELU_OK ||
        (st = tsrelu_balance(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), NULL, 0, size, mem, mem + k,
                             mem + 2 * k, k)) != TSRELU_OK ||
        (st = tsrelu_gd_groups(gd, 1, tau, m)) != TSRELU_OK) {
        say_err(err, errlen, "run %zu: summary: %s (%s)", c->index, tsrelu_status_name(st), tsrelu_last_error());
        goto done;
    }
    for (size_t j = 0; j < m; j++)
        if (tau[j] >= 0 && (size_t)tau[j] < k)
            init[tau[j]]++;
    tsrelu_status run_st = (tsrelu_status)s[TSRELU_SUMMARY_STATUS];
    *ok = run_st == TSRELU_OK || run_st == TSRELU_CONVERGED;
    char loss[32], gn[32], slope[32], rmin[32], rmax[32];
    table_fmt_double(loss, sizeof loss, s[TSRELU_SUMMARY_LOSS]);
    table_fmt_double(gn, sizeof gn, s[TSRELU_SUMMARY_GRAD_NORM]);
    table_fmt_double(slope, sizeof slope, s[TSRELU_SUMMARY_SLOPE]);
    table_fmt_double(rmin, sizeof rmin, s[TSRELU_SUMMARY_RATIO_MIN]);
    table_fmt_double(rmax, sizeof rmax, s[TSRELU_SUMMARY_RATIO_MAX]);
    if (table_prefix(out, c) != 0 ||
        sb_printf(out, ",%s,%lld,%s,%s,%lld,%lld,%d,%lld,%s,%s,%s,", tsrelu_status_name(run_st),
                  (long long)s[TSRELU_SUMMARY_ITERATION], loss, gn, (long long)s[TSRELU_SUMMARY_T1],
                  (long long)s[TSRELU_SUMMARY_T2], (int)s[TSRELU_SUMMARY_PHASE],
                  (long long)s[TSRELU_SUMMARY_SWITCHES], slope, rmin, rmax) != 0 ||
        sizes(out, init, k) != 0 || sb_append(out, ",", 1) != 0 || sizes(out, size, k) != 0 ||
        sb_printf(out, ",%.3f\n", s[TSRELU_SUMMARY_SECONDS]) != 0) {
        say_err(err, errlen, "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(size);
    free(init);
    free(tau);
    free(mem);
    return rc;
}

/* The monitor of a running batch: steps done, four times a second. */
typedef struct {
    tsrelu_batch *b;
    progress *prog;
    atomic_int stop;
} monitor;

static void *watch(void *arg)
{
    monitor *mo = arg;
    struct timespec ts = {0, 250 * 1000 * 1000};
    while (!atomic_load(&mo->stop)) {
        uint64_t done, all;
        if (tsrelu_batch_progress(mo->b, &done, &all) == TSRELU_OK)
            progress_steps(mo->prog, done, all);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* tsrelu_batch_run, watched by a monitor thread when a live line is shown
 * (without one, or without a thread, it just runs). */
static tsrelu_status run_watched(tsrelu_batch *b, progress *prog)
{
    monitor mo = {b, prog, 0};
    pthread_t th;
    int watching = prog && progress_live(prog) && pthread_create(&th, NULL, watch, &mo) == 0;
    tsrelu_status st = tsrelu_batch_run(b);
    if (watching) {
        atomic_store(&mo.stop, 1);
        pthread_join(th, NULL);
    }
    return st;
}

int runner_run(const sweep_grid *g, const size_t *idx, size_t n, unsigned threads, const sweep_traj *traj,
               progress *prog, strbuf *out, size_t *not_ok, char *err, size_t errlen)
{
    tsrelu_batch *b = NULL;
    sweep_config *cfg = malloc(n * sizeof *cfg);
    int tracing = traj && traj->dir;
    tsrelu_record **rec = tracing ? calloc(n, sizeof *rec) : NULL;
    tsrelu_status st;
    int rc = -1;
    size_t bad = 0, start = out->len;
    if (!cfg || (tracing && !rec) || (st = tsrelu_batch_create(&b)) != TSRELU_OK) {
        say_err(err, errlen, "out of memory");
        goto done;
    }
    if ((st = tsrelu_batch_set_threads(b, threads)) != TSRELU_OK) {
        say_err(err, errlen, "threads: %s", tsrelu_last_error());
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        grid_config(g, idx[r], &cfg[r]);
        if (add_run(b, &cfg[r], err, errlen) != 0 ||
            (tracing && traj_attach(traj, tsrelu_batch_state(b, r), cfg[r].steps, cfg[r].index, &rec[r], err,
                                    errlen) != 0))
            goto done;
    }
    /* A run's own failure (say TSRELU_EDIVERGED) is a result, recorded in its
     * row; only a failure of the batch itself loses the chunk. */
    st = run_watched(b, prog);
    if (st == TSRELU_EINVAL || st == TSRELU_ENOMEM) {
        say_err(err, errlen, "batch: %s (%s)", tsrelu_status_name(st), tsrelu_last_error());
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        int ok;
        if (format_row(b, r, &cfg[r], out, &ok, err, errlen) != 0)
            goto done;
        bad += !ok;
    }
    /* the files before the rows: a recorded run has its trajectory */
    for (size_t r = 0; tracing && r < n; r++)
        if (traj_write(traj, rec[r], cfg[r].index, err, errlen) != 0)
            goto done;
    rc = 0;
done:
    if (rc != 0 && out->s) { /* no partial chunk */
        out->len = start;
        out->s[start] = '\0';
    }
    if (not_ok)
        *not_ok = bad;
    tsrelu_batch_free(b);
    for (size_t r = 0; rec && r < n; r++)
        tsrelu_record_free(rec[r]);
    free(rec);
    free(cfg);
    return rc;
}

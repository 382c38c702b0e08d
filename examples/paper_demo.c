/* paper_demo — reproduce the setting of Figure 1 of "How Gradient descent
 * balances features" (Zhu, Liu, Cevher, ICLR 2025) with exact population GD.
 *
 * Default runs: unit-norm orthogonal teachers, students w_i ~ N(0, sigma^2 I)
 * with sigma = 1e-6, output weights fixed to 1, d = 16, eta = 0.1, 10^6 steps:
 *   k = 2, m = 20;  k = 4, m = 12, 20, 40;  and a contrast run m = k = 4.
 * For each run it prints one table row (phase times t1, t2, final loss, late
 * slope of log L against log t, group sizes, balance ratio range, number of
 * students that changed teacher) and writes a log-spaced CSV trajectory to
 * the output directory; examples/plot_demo.py turns them into figure.png.
 *
 * Flags: see --help. `make demo` runs it and the plot script. */
#include <tsrelu.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Loss below which an iterate sits at the rounding floor of its weights
 * (|v| = 1: weights known to ~1e-16 give L ~ 1e-32 to 1e-28). */
#define FLOOR 1e-26

/* Points per decade of the recorders' log schedule. */
#define PER_DECADE 20

/* Rows a log schedule with PER_DECADE points per decade takes over `steps`
 * steps: iteration 0, at most PER_DECADE per decade, the final iterate. */
static size_t record_capacity(uint64_t steps)
{
    size_t decades = 1;
    for (uint64_t s = steps; s >= 10; s /= 10)
        decades++;
    return PER_DECADE * decades + 2;
}

typedef struct {
    size_t m, k, d;
    double sigma, eta;
    uint64_t steps, seed;
    int contrast; /* pick a seed whose initial groups are one student per teacher */
} run_config;

typedef struct {
    FILE *csv;
    const run_config *cfg;
    int run_index, runs;
    int tty;
    double *t, *L;     /* observed steps and accurate losses for the rate fit */
    size_t n, cap;
    double *theta;     /* m*k scratch */
    int *size;
    double *rmin, *rmax, *excess, *H;
} observer_state;

static int fail(const char *what, tsrelu_status st)
{
    fprintf(stderr, "paper_demo: %s: %s (%s)\n", what, tsrelu_status_string(st), tsrelu_last_error());
    return 1;
}

static void progress(const observer_state *o, uint64_t t)
{
    if (!o->tty)
        return;
    double f = (double)t / (double)o->cfg->steps;
    int w = 40, filled = (int)(f * w + 0.5);
    fprintf(stderr, "\r  run %d/%d (k=%zu, m=%zu) [", o->run_index + 1, o->runs, o->cfg->k, o->cfg->m);
    for (int i = 0; i < w; i++)
        fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %5.1f%% ", 100.0 * f);
    fflush(stderr);
}

/* Observer: one CSV row per log-spaced iterate. */
static int observe(const tsrelu_gd *gd, void *ud)
{
    observer_state *o = ud;
    const tsrelu_student *s = tsrelu_gd_student(gd);
    const tsrelu_teacher *t = tsrelu_gd_teacher(gd);
    size_t m = o->cfg->m, k = o->cfg->k;
    uint64_t it = tsrelu_gd_iteration(gd);
    double L, La, gn;
    if (tsrelu_gd_loss(gd, &L) || tsrelu_loss_accurate(s, t, &La) ||
        tsrelu_gd_gradient_norm(gd, &gn) || tsrelu_angles(s, t, o->theta, m * k) ||
        tsrelu_balance(s, t, NULL, 0, o->size, o->rmin, o->rmax, o->excess, k) ||
        tsrelu_deficit(s, t, NULL, 0, o->H, k))
        return -1;
    double maxang = 0.0, rmin = INFINITY, rmax = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        double best = INFINITY;
        for (size_t j = 0; j < k; j++)
            if (o->theta[i * k + j] < best)
                best = o->theta[i * k + j];
        if (isfinite(best) && best > maxang)
            maxang = best;
    }
    for (size_t j = 0; j < k; j++)
        if (o->size[j] > 0) {
            rmin = fmin(rmin, o->rmin[j]);
            rmax = fmax(rmax, o->rmax[j]);
        }
    fprintf(o->csv, "%llu,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%d", (unsigned long long)it, La, L, gn,
            maxang, rmin, rmax, tsrelu_gd_phase(gd));
    for (size_t j = 0; j < k; j++)
        fprintf(o->csv, ",%.17g", o->H[j]);
    fputc('\n', o->csv);
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 256;
        double *nt = realloc(o->t, cap * sizeof(double)), *nl;
        if (!nt)
            return -1;
        o->t = nt;
        if (!(nl = realloc(o->L, cap * sizeof(double))))
            return -1;
        o->L = nl;
        o->cap = cap;
    }
    o->t[o->n] = (double)it;
    o->L[o->n] = La;
    o->n++;
    progress(o, it);
    return 0;
}

/* For m = k the dynamics only reach zero loss when every teacher starts with
 * exactly one student; take the first seed from cfg->seed on that does. */
static int one_per_teacher(const run_config *c, tsrelu_teacher *t, uint64_t *seed)
{
    int *tau = malloc(c->m * sizeof(int)), *cnt = calloc(c->k, sizeof(int));
    int found = 0;
    for (uint64_t s = c->seed; tau && cnt && s < c->seed + 1000 && !found; s++) {
        tsrelu_student *st;
        if (tsrelu_student_create_gaussian(c->m, c->d, c->sigma, s, &st) != TSRELU_OK)
            break;
        tsrelu_status rc = tsrelu_nearest_teacher(st, t, tau, c->m);
        tsrelu_student_free(st);
        if (rc != TSRELU_OK)
            break;
        memset(cnt, 0, c->k * sizeof(int));
        found = 1;
        for (size_t i = 0; i < c->m; i++)
            if (tau[i] < 0 || ++cnt[tau[i]] > 1)
                found = 0;
        if (found)
            *seed = s;
    }
    free(tau);
    free(cnt);
    return found;
}

static int run_one(const run_config *c, int index, int runs, const char *outdir, FILE *summary)
{
    tsrelu_teacher *t = NULL;
    tsrelu_student *s0 = NULL;
    tsrelu_gd *gd = NULL;
    tsrelu_record *rec = NULL;
    observer_state o = {0};
    int rc = 1;
    tsrelu_status st;
    uint64_t seed = c->seed;
    if ((st = tsrelu_teacher_create_orthogonal(c->k, c->d, 1.0, c->seed, &t)) != TSRELU_OK)
        return fail("teacher", st);
    if (c->contrast && !one_per_teacher(c, t, &seed)) {
        fprintf(stderr, "paper_demo: no seed with one student per teacher found\n");
        goto done;
    }
    if ((st = tsrelu_student_create_gaussian(c->m, c->d, c->sigma, seed, &s0)) != TSRELU_OK ||
        (st = tsrelu_gd_create(t, s0, c->eta, &gd)) != TSRELU_OK) {
        rc = fail("setup", st);
        goto done;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/run_k%zu_m%zu%s.csv", outdir, c->k, c->m, c->contrast ? "_contrast" : "");
    o.csv = fopen(path, "w");
    o.cfg = c;
    o.run_index = index;
    o.runs = runs;
    o.tty = isatty(2);
    o.theta = malloc(c->m * c->k * sizeof(double));
    o.size = malloc(c->k * sizeof(int));
    o.rmin = malloc(c->k * sizeof(double));
    o.rmax = malloc(c->k * sizeof(double));
    o.excess = malloc(c->k * sizeof(double));
    o.H = malloc(c->k * sizeof(double));
    if (!o.csv || !o.theta || !o.size || !o.rmin || !o.rmax || !o.excess || !o.H) {
        fprintf(stderr, "paper_demo: cannot open %s or allocate: %s\n", path, strerror(errno));
        goto done;
    }
    fprintf(o.csv, "step,loss,loss_double,grad_norm,max_angle,ratio_min,ratio_max,phase");
    for (size_t j = 0; j < c->k; j++)
        fprintf(o.csv, ",H%zu", j);
    fputc('\n', o.csv);
    if ((st = tsrelu_gd_set_observer(gd, observe, &o, TSRELU_SCHEDULE_LOG, 20)) != TSRELU_OK) {
        rc = fail("observer", st);
        goto done;
    }
    /* The per-student trajectory (norms, angles) for the figure's panel (f). */
    if ((st = tsrelu_record_create(gd, record_capacity(c->steps), 0, &rec)) != TSRELU_OK ||
        (st = tsrelu_gd_set_recorder(gd, rec, TSRELU_SCHEDULE_LOG, PER_DECADE)) != TSRELU_OK) {
        rc = fail("recorder", st);
        goto done;
    }
    st = tsrelu_gd_run(gd, c->steps);
    if (o.tty)
        fputc('\n', stderr);
    if (st != TSRELU_OK && st != TSRELU_CONVERGED) {
        rc = fail("run", st);
        goto done;
    }
    int64_t t1, t2;
    double slope = NAN, La = o.n ? o.L[o.n - 1] : NAN;
    if ((st = tsrelu_gd_phase_times(gd, &t1, &t2)) != TSRELU_OK) {
        rc = fail("phase times", st);
        goto done;
    }
    if (o.n < 2) { /* at least steps 0 and the last are observed */
        fprintf(stderr, "paper_demo: too few observations\n");
        goto done;
    }
    /* Late slope: the last decade of the run. A run that has converged to
     * the rounding floor of its weights (L below FLOOR, as the m = k contrast
     * does) is fitted over [t2, T] on the points above the floor instead. */
    size_t nfit = 0;
    for (size_t i = 0; i < o.n; i++)
        if (o.L[i] > FLOOR) {
            o.t[nfit] = o.t[i];
            o.L[nfit++] = o.L[i];
        }
    if (tsrelu_rate_fit(o.t, o.L, nfit, (double)c->steps / 10.0, (double)c->steps, &slope, NULL) != TSRELU_OK &&
        tsrelu_rate_fit(o.t, o.L, nfit, t2 > 0 ? (double)t2 : 1.0, (double)c->steps, &slope, NULL) != TSRELU_OK)
        slope = NAN;
    const tsrelu_student *s = tsrelu_gd_student(gd);
    if ((st = tsrelu_balance(s, t, NULL, 0, o.size, o.rmin, o.rmax, o.excess, c->k)) != TSRELU_OK) {
        rc = fail("balance", st);
        goto done;
    }
    double rmin = INFINITY, rmax = -INFINITY;
    char groups[256] = "", buf[32];
    for (size_t j = 0; j < c->k; j++) {
        snprintf(buf, sizeof buf, "%s%d", j ? "/" : "", o.size[j]);
        strncat(groups, buf, sizeof groups - strlen(groups) - 1);
        if (o.size[j] > 0) {
            rmin = fmin(rmin, o.rmin[j]);
            rmax = fmax(rmax, o.rmax[j]);
        }
    }
    snprintf(path, sizeof path, "%s/record_k%zu_m%zu%s.csv", outdir, c->k, c->m, c->contrast ? "_contrast" : "");
    if ((st = tsrelu_record_write_csv(rec, path)) != TSRELU_OK) {
        rc = fail("record", st);
        goto done;
    }
    size_t sw = tsrelu_gd_group_switches(gd);
    printf("%4zu %3zu %4zu %9lld %9lld %12.4e %7.3f %-12s [%.3f, %.3f] %4zu%s\n", c->m, c->k, c->d,
           (long long)t1, (long long)t2, La, slope, groups, rmin, rmax, sw,
           c->contrast ? "  (contrast m = k)" : "");
    fprintf(summary, "%zu,%zu,%zu,%g,%g,%llu,%llu,%lld,%lld,%.17g,%.6f,%s,%.6f,%.6f,%zu,%d\n", c->m, c->k,
            c->d, c->sigma, c->eta, (unsigned long long)c->steps, (unsigned long long)seed,
            (long long)t1, (long long)t2, La, slope, groups, rmin, rmax, sw, c->contrast);
    fflush(stdout);
    rc = 0;
done:
    if (o.csv)
        fclose(o.csv);
    free(o.t);
    free(o.L);
    free(o.theta);
    free(o.size);
    free(o.rmin);
    free(o.rmax);
    free(o.excess);
    free(o.H);
    tsrelu_gd_free(gd);
    tsrelu_record_free(rec);
    tsrelu_student_free(s0);
    tsrelu_teacher_free(t);
    return rc;
}

/* ---------------- events over seeds ----------------
 * Each configuration is run again for seeds seed .. seed + nseeds - 1 over
 * event_steps steps at step size event_eta (default 0.01: 100x finer in
 * gradient-flow time than eta = 0.1, whose first step already takes every
 * norm to half its final value) with a recorder, and the independent events
 * (docs/events.md) are read from the record: each with its own threshold,
 * none gated on another. Times are gradient-flow times eta * T. */

#define EPS_ALIGN 0.05   /* rad, angle to the final teacher: below and staying below */
#define EPS_DEFICIT 0.05 /* |H_l| <= EPS_DEFICIT |v_l|, and staying there */
#define EPS_MEAN 0.5     /* rad: "condensed" = within this of the mean teacher direction (at
                          * eta = 0.01 the k = 4 students come to 0.3-0.55 rad of it; the
                          * 0.25 rad of docs/events.md is reached at eta <= 0.001 only) */
#define Q_NORM 0.5       /* norm reaching this fraction of its final value */
#define DELTA_RATE 0.1   /* local slope of log L within this of the final fitted slope */

enum { EV_NORM, EV_MEAN, EV_SPLIT, EV_DEFICIT, EV_ALIGN_MED, EV_ALIGN_MAX, EV_RATE, EV_SWITCHES, EV_T1, NEV };
static const char *const ev_name[NEV] = {"norm_half", "condense", "split", "deficit", "align_median",
                                         "align_max", "rate_onset", "switches", "tracker_t1"};

/* The p-quantile of the n event times of one kind and mode. */
static tsrelu_status event_quantile(const tsrelu_record *r, int kind, int mode, double thr, double *buf,
                                    size_t n, double p, double *out)
{
    tsrelu_status st = tsrelu_record_event_times(r, kind, mode, thr, buf, n);
    return st != TSRELU_OK ? st : tsrelu_event_quantile(buf, n, p, out);
}

/* One run of configuration c with `seed` over c->steps steps: its events
 * into ev (times in eta * T; switches a count); its record written to
 * `path` unless NULL. */
static int event_run(const run_config *c, uint64_t seed, const char *path, double ev[NEV])
{
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    tsrelu_gd *gd = NULL;
    tsrelu_record *r = NULL;
    double *buf = malloc((c->m > c->k ? c->m : c->k) * sizeof(double));
    int rc = 1;
    tsrelu_status st;
    const char *what = "setup";
    if (!buf)
        goto done;
    if ((st = tsrelu_teacher_create_orthogonal(c->k, c->d, 1.0, seed, &t)) != TSRELU_OK ||
        (st = tsrelu_student_create_gaussian(c->m, c->d, c->sigma, seed, &s)) != TSRELU_OK ||
        (st = tsrelu_gd_create(t, s, c->eta, &gd)) != TSRELU_OK ||
        (what = "recorder",
         st = tsrelu_record_create(gd, record_capacity(c->steps), TSRELU_RECORD_ACCURATE_LOSS, &r)) != TSRELU_OK ||
        (st = tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, PER_DECADE)) != TSRELU_OK) {
        rc = fail(what, st);
        goto done;
    }
    st = tsrelu_gd_run(gd, c->steps);
    if (st != TSRELU_OK && st != TSRELU_CONVERGED) {
        rc = fail("run", st);
        goto done;
    }
    if (path && (st = tsrelu_record_write_csv(r, path)) != TSRELU_OK) {
        rc = fail("record", st);
        goto done;
    }
    size_t m = c->m, k = c->k, sw = 0;
    int64_t t1;
    double slope;
    what = "events";
    if ((st = event_quantile(r, TSRELU_EVENT_NORM, TSRELU_EVENT_FIRST, Q_NORM, buf, m, 0.5, &ev[EV_NORM])) ||
        (st = event_quantile(r, TSRELU_EVENT_MEAN, TSRELU_EVENT_FIRST, EPS_MEAN, buf, m, 0.5, &ev[EV_MEAN])) ||
        (st = event_quantile(r, TSRELU_EVENT_MEAN, TSRELU_EVENT_LEAVE, EPS_MEAN, buf, m, 0.5, &ev[EV_SPLIT])) ||
        (st = event_quantile(r, TSRELU_EVENT_DEFICIT, TSRELU_EVENT_SETTLE, EPS_DEFICIT, buf, k, 1.0,
                             &ev[EV_DEFICIT])) ||
        (st = event_quantile(r, TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, EPS_ALIGN, buf, m, 0.5,
                             &ev[EV_ALIGN_MED])) ||
        (st = tsrelu_event_quantile(buf, m, 1.0, &ev[EV_ALIGN_MAX])) ||
        (st = tsrelu_record_rate_onset(r, DELTA_RATE, &ev[EV_RATE], &slope)) ||
        (st = tsrelu_record_switches(r, NULL, 0, &sw)) || (st = tsrelu_gd_phase_times(gd, &t1, NULL))) {
        rc = fail(what, st);
        goto done;
    }
    for (int e = 0; e < EV_SWITCHES; e++)
        ev[e] *= c->eta;
    ev[EV_SWITCHES] = (double)sw;
    ev[EV_T1] = t1 >= 0 ? c->eta * (double)t1 : NAN;
    rc = 0;
done:
    free(buf);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return rc;
}

/* The events of configuration c over nseeds seeds: one line of medians
 * (tsrelu_event_quantile: the lower median, a never counting as latest) on
 * stdout, one row per seed and event in `events` (k,m,seed,event,time). */
static int event_table(const run_config *c, uint64_t nseeds, const char *outdir, FILE *events)
{
    double *all = malloc(nseeds * NEV * sizeof(double)), col[64];
    char path[4096];
    if (!all)
        return 1;
    /* the first seed's record: the figure's per-student panel */
    snprintf(path, sizeof path, "%s/record_events_k%zu_m%zu.csv", outdir, c->k, c->m);
    for (uint64_t i = 0; i < nseeds; i++) {
        if (event_run(c, c->seed + i, i == 0 ? path : NULL, all + i * NEV)) {
            free(all);
            return 1;
        }
        for (int e = 0; e < NEV; e++)
            fprintf(events, "%zu,%zu,%g,%llu,%s,%.6g\n", c->k, c->m, c->eta, (unsigned long long)(c->seed + i),
                    ev_name[e], all[i * NEV + e]);
    }
    printf("%4zu %3zu", c->m, c->k);
    for (int e = 0; e < NEV; e++) {
        size_t n = 0;
        for (uint64_t i = 0; i < nseeds && n < 64; i++)
            col[n++] = all[i * NEV + e];
        double med;
        tsrelu_status st = tsrelu_event_quantile(col, n, 0.5, &med);
        if (st != TSRELU_OK) {
            free(all);
            return fail("quantile", st);
        }
        printf(e == EV_SWITCHES ? " %8.1f" : " %12.3g", med);
    }
    putchar('\n');
    fflush(stdout);
    free(all);
    return 0;
}

/* DIR/name opened for writing, or NULL with a message on stderr. */
static FILE *open_csv(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "paper_demo: cannot open %s: %s\n", path, strerror(errno));
    return f;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: paper_demo [--out DIR] [--steps N] [--d D] [--sigma S] [--eta E] [--seed N]\n"
            "                  [--m M --k K] [--seeds N] [--event-eta E]\n"
            "                  [--event-steps N] [--quick] [--help]\n"
            "Runs exact population GD for the paper's Figure 1 setting and writes\n"
            "DIR/run_k*_m*.csv and DIR/summary.csv (default DIR: demo-output).\n"
            "  --m M --k K   a single run with these widths instead of the default set\n"
            "  --steps N     GD steps per run (default 1000000)\n"
            "  --d D         input dimension (default 16)\n"
            "  --sigma S     student initialisation scale (default 1e-6)\n"
            "  --eta E       step size (default 0.1)\n"
            "  --seed N      seed for teacher and students (default 1)\n"
            "  --seeds N     seeds of the event table, from --seed on (default 5; 0: no table)\n"
            "  --event-eta E    step size of the event runs (default 0.01)\n"
            "  --event-steps N  GD steps of each event run (default 100000: eta*T = 1000)\n"
            "  --quick       short runs (20000 steps, 2 event seeds) for tests\n");
}

int main(int argc, char **argv)
{
    const char *out = "demo-output";
    run_config base = {0, 0, 16, 1e-6, 0.1, 1000000, 1, 0};
    size_t one_m = 0, one_k = 0;
    uint64_t nseeds = 5, event_steps = 100000;
    double event_eta = 0.01;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            base.steps = 20000;
            nseeds = 2;
            event_steps = 20000;
            if (!strcmp(out, "demo-output"))
                out = "build/demo-quick";
        } else if (v && !strcmp(a, "--out")) {
            out = v, i++;
        } else if (v && !strcmp(a, "--steps")) {
            base.steps = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--d")) {
            base.d = strtoul(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--sigma")) {
            base.sigma = strtod(v, NULL), i++;
        } else if (v && !strcmp(a, "--eta")) {
            base.eta = strtod(v, NULL), i++;
        } else if (v && !strcmp(a, "--seed")) {
            base.seed = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--seeds")) {
            nseeds = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--event-eta")) {
            event_eta = strtod(v, NULL), i++;
        } else if (v && !strcmp(a, "--event-steps")) {
            event_steps = strtoull(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--m")) {
            one_m = strtoul(v, NULL, 10), i++;
        } else if (v && !strcmp(a, "--k")) {
            one_k = strtoul(v, NULL, 10), i++;
        } else {
            fprintf(stderr, "paper_demo: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if ((one_m == 0) != (one_k == 0) || base.steps == 0 || base.d == 0 || event_steps == 0 || nseeds > 64 ||
        !(event_eta > 0.0)) {
        fprintf(stderr, "paper_demo: give both --m and --k (>= 1); --steps, --event-steps and --d must be >= 1, "
                        "--seeds at most 64, --event-eta > 0\n");
        return 2;
    }
    run_config runs[5];
    int nruns = 0;
    if (one_m) {
        runs[nruns] = base;
        runs[nruns].m = one_m;
        runs[nruns].k = one_k;
        runs[nruns].contrast = one_m == one_k;
        nruns++;
    } else {
        static const size_t mk[5][2] = {{20, 2}, {12, 4}, {20, 4}, {40, 4}, {4, 4}};
        for (int r = 0; r < 5; r++) {
            runs[r] = base;
            runs[r].m = mk[r][0];
            runs[r].k = mk[r][1];
            runs[r].contrast = mk[r][0] == mk[r][1];
        }
        nruns = 5;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "paper_demo: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    FILE *summary = open_csv(out, "summary.csv");
    if (!summary)
        return 1;
    fprintf(summary, "m,k,d,sigma,eta,steps,seed,t1,t2,final_loss,late_slope,group_sizes,ratio_min,ratio_max,switches,contrast\n");
    printf("libtsrelu %s — exact population GD, d=%zu, sigma=%g, eta=%g, %llu steps, seed %llu\n",
           tsrelu_version_string(), base.d, base.sigma, base.eta, (unsigned long long)base.steps,
           (unsigned long long)base.seed);
    printf("%4s %3s %4s %9s %9s %12s %7s %-12s %-16s %4s\n", "m", "k", "d", "t1", "t2", "final loss",
           "slope", "groups", "ratio range", "sw");
    int rc = 0;
    for (int r = 0; r < nruns && rc == 0; r++)
        rc = run_one(&runs[r], r, nruns, out, summary);
    fclose(summary);
    if (rc == 0 && nseeds > 0) {
        FILE *events = open_csv(out, "events.csv");
        if (!events)
            return 1;
        fprintf(events, "k,m,eta,seed,event,time\n");
        printf("\nEvents (docs/events.md), gradient-flow time eta*T, median over seeds %llu-%llu, eta = %g, %llu steps:\n"
               "  norm_half: |w_i| >= %g |w_i(final)| (median student); condense / split: enters / leaves for\n"
               "  good the %g rad cone around the mean teacher direction (median student); deficit: every\n"
               "  |H_l| <= %g |v_l| for good (last teacher); align: angle to the final teacher <= %g for good\n"
               "  (median, last student); rate_onset: local slope of log L within %g of the last decade's fit;\n"
               "  switches: group switches between recorded rows (a count); tracker_t1: tsrelu_gd_phase_times.\n",
               (unsigned long long)base.seed, (unsigned long long)(base.seed + nseeds - 1),
               event_eta, (unsigned long long)event_steps, Q_NORM, EPS_MEAN, EPS_DEFICIT, EPS_ALIGN, DELTA_RATE);
        printf("%4s %3s", "m", "k");
        for (int e = 0; e < NEV; e++)
            printf(e == EV_SWITCHES ? " %8s" : " %12s", ev_name[e]);
        putchar('\n');
        for (int r = 0; r < nruns && rc == 0; r++) {
            if (runs[r].contrast)
                continue;
            run_config c = runs[r];
            c.steps = event_steps;
            c.eta = event_eta;
            rc = event_table(&c, nseeds, out, events);
        }
        fclose(events);
    }
    if (rc == 0)
        printf("CSV trajectories, records, summary.csv and events.csv written to %s/\n", out);
    return rc;
}

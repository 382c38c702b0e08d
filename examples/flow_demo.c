/* flow_demo — the gradient-flow panel of `make demo`: the Figure-1
 * configurations of "How Gradient descent balances features" (Zhu, Liu,
 * Cevher, ICLR 2025) as the continuous-time flow dW/dt = -grad L, out to
 * flow time t = 1e10 (1e11 GD steps at eta = 0.1), and the Hessian spectrum
 * where each run ends.
 *
 * Runs: unit-norm orthogonal teachers, w_i ~ N(0, sigma^2 I) with
 * sigma = 1e-6, output weights 1, d = 16, the same teacher and student seeds
 * as paper_demo: k = 2, m = 20; k = 4, m = 12, 20, 40. The flow runs with
 * the double gradient at rtol 1e-10 to t = 1e6, then with the quad-precision
 * gradient (TSRELU_FLOW_ACCURATE) at rtol 1e-12: past t ~ 1e8 the double
 * gradient's rounding floor exceeds the true gradient (docs/flow.md).
 *
 * Writes, into the output directory:
 *   flow_k{k}_m{m}.csv      t, loss (quad precision), L t^3 (5 per decade)
 *   spectrum_k{k}_m{m}.csv  the Hessian's eigenvalues in W at t_end, sorted
 * and prints one line per run: wall time, integrator statistics, L t^3 at
 * each of the last three decades, and the spectrum's counts (flat: |lambda|
 * <= 1e-9 max|lambda|; the global minimum has exactly k d non-flat
 * directions, docs/secondorder.md).
 *
 *   flow_demo [--out DIR] [--t-end T] [--seed N]   (defaults demo-output, 1e10, 1)
 *   flow_demo --quick                              (t = 1e3 into build/demo-quick) */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
    FILE *csv;
    double last[3][2]; /* (t, L t^3) at the last three decades */
} trace;

static int observe(const tsrelu_flow *fl, void *user_data)
{
    trace *tr = user_data;
    double t = tsrelu_flow_time(fl), L;
    if (tsrelu_loss_accurate(tsrelu_flow_student(fl), tsrelu_flow_teacher(fl), &L) != TSRELU_OK)
        return 1;
    fprintf(tr->csv, "%.17g,%.17g,%.17g\n", t, L, L * t * t * t);
    double lg = log10(t);
    if (t > 0 && fabs(lg - nearbyint(lg)) < 1e-9) { /* a decade: keep the last three */
        memmove(tr->last[0], tr->last[1], 2 * sizeof tr->last[0]);
        tr->last[2][0] = t;
        tr->last[2][1] = L * t * t * t;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(const char *what)
{
    fprintf(stderr, "flow_demo: %s: %s\n", what, tsrelu_last_error());
    return 1;
}

static int run_one(const char *dir, size_t k, size_t m, size_t d, double t_end, uint64_t seed)
{
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    tsrelu_flow *fl = NULL;
    if (tsrelu_teacher_create_orthogonal(k, d, 1.0, seed, &t) != TSRELU_OK ||
        tsrelu_student_create_gaussian(m, d, 1e-6, seed, &s) != TSRELU_OK)
        return fail("teacher or student");
    /* two legs: the double gradient at rtol 1e-10 to t = 1e6 (through the
     * three phases), then the quad gradient at rtol 1e-12 */
    if (tsrelu_flow_create(t, s, 1e-10, 1e-18, &fl) != TSRELU_OK)
        return fail("flow");
    char path[4096];
    snprintf(path, sizeof path, "%s/flow_k%zu_m%zu.csv", dir, k, m);
    trace tr = {fopen(path, "w"), {{NAN, NAN}, {NAN, NAN}, {NAN, NAN}}};
    if (!tr.csv) {
        fprintf(stderr, "flow_demo: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(tr.csv, "t,loss,loss_t3\n");
    if (tsrelu_flow_set_observer(fl, observe, &tr, TSRELU_SCHEDULE_LOG, 5) != TSRELU_OK)
        return fail("observer");
    double t0 = now(), t_mid = fmin(t_end, 1e6);
    tsrelu_status st = tsrelu_flow_run(fl, t_mid);
    if (st == TSRELU_OK && t_end > t_mid) {
        if (tsrelu_flow_set_flags(fl, TSRELU_FLOW_ACCURATE) != TSRELU_OK ||
            tsrelu_flow_set_accuracy(fl, 1e-12, 1e-20) != TSRELU_OK)
            return fail("late leg");
        st = tsrelu_flow_run(fl, t_end);
    }
    double wall = now() - t0;
    fclose(tr.csv);
    if (st != TSRELU_OK && st != TSRELU_CONVERGED)
        return fail("run");
    uint64_t c[TSRELU_FLOW_NSTATS];
    if (tsrelu_flow_statistics(fl, c, TSRELU_FLOW_NSTATS) != TSRELU_OK)
        return fail("statistics");

    /* the Hessian spectrum (in W) where the run ends */
    size_t n = m * d;
    double *ev = malloc(n * sizeof *ev);
    size_t counts[3];
    if (!ev)
        return fail("out of memory");
    if (tsrelu_spectrum(tsrelu_flow_student(fl), t, 0, 1e-9, ev, n, NULL, 0, counts, 3) != TSRELU_OK)
        return fail("spectrum");
    snprintf(path, sizeof path, "%s/spectrum_k%zu_m%zu.csv", dir, k, m);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "flow_demo: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(f, "index,eigenvalue\n");
    for (size_t j = 0; j < n; j++)
        fprintf(f, "%zu,%.17g\n", j, ev[j]);
    fclose(f);
    printf("%2zu %3zu %7.1f s %6llu steps  ", k, m, wall, (unsigned long long)c[TSRELU_FLOW_STAT_STEPS]);
    for (int j = 0; j < 3; j++)
        printf(" %9.3g", tr.last[j][1]);
    printf("   %4zu %4zu %4zu  (k d = %zu)\n", counts[0], counts[1], counts[2], k * d);
    free(ev);
    tsrelu_flow_free(fl);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = "demo-output";
    double t_end = 1e10;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(argv[i], "--out"))
            dir = v, i++;
        else if (v && !strcmp(argv[i], "--t-end"))
            t_end = strtod(v, NULL), i++;
        else if (!strcmp(argv[i], "--quick")) /* make check: short, into build/demo-quick */
            dir = "build/demo-quick", t_end = 1e3;
        else if (v && !strcmp(argv[i], "--seed"))
            seed = strtoull(v, NULL, 10), i++;
        else {
            fprintf(stderr, "usage: flow_demo [--out DIR] [--t-end T] [--seed N] | --quick\n");
            return 2;
        }
    }
    if (!(t_end >= 1.0)) {
        fprintf(stderr, "flow_demo: --t-end must be >= 1\n");
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "flow_demo: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    static const size_t runs[][2] = {{2, 20}, {4, 12}, {4, 20}, {4, 40}};
    printf("gradient flow to t = %g (d = 16, sigma = 1e-6; rtol 1e-10 to t = 1e6, then 1e-12 with the quad-precision gradient)\n", t_end);
    printf(" k   m     wall   integrator  L t^3 at the last three decades   spectrum: neg flat pos\n");
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++)
        if (run_one(dir, runs[r][0], runs[r][1], 16, t_end, seed) != 0)
            return 1;
    return 0;
}

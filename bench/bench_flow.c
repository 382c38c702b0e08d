/* bench_flow — gradient flow (CVODE) against GD from the Figure-1
 * initialisation: k = 4 orthogonal unit teachers, m = 20, d = 16, students
 * N(0, sigma^2 I) with sigma = 1e-6, output weights 1.
 *
 *   bench_flow [--rtol R] [--atol A] [--gd-steps N] [--t-end T]
 *              [--late-rtol R] [--late-atol A] [--flags F] [--seed S]
 *
 * Times the flow (rtol R = 1e-8, atol A = 1e-14) to t = 1e6 (GD at
 * eta = 0.1 needs 1e7 steps for it) and GD on N steps (default 1e6),
 * extrapolated linearly to 1e7 steps (a GD step costs the same at every
 * iterate). Then a second flow from t = 0 to T (default 1e10) with flags F
 * (default TSRELU_FLOW_ACCURATE: the quad gradient, needed past t ~ 1e8)
 * and late-rtol/atol (default 1e-12, 1e-20: docs/flow.md), printing t, L(t)
 * (tsrelu_loss_accurate) and L(t) t^3 at every decade, and the
 * integrator's statistics. Machine-readable lines:
 * "flow_seconds_1e6", "gd_seconds_1e7", "speedup_1e6", "flow_seconds_end". */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include "bench_time.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int decade(const tsrelu_flow *fl, void *ud)
{
    double t = tsrelu_flow_time(fl), L = 0.0;
    if (t < 1.0)
        return 0;
    if (tsrelu_loss_accurate(tsrelu_flow_student(fl), tsrelu_flow_teacher(fl), &L) != TSRELU_OK)
        return 1;
    uint64_t c[2] = {0, 0};
    if (tsrelu_flow_statistics(fl, c, 2) != TSRELU_OK)
        return 1;
    printf("t %-8.0e L %.6e L*t^3 %.6e  (%.3f s, %llu steps, %llu gradients)\n", t, L, L * t * t * t,
           now() - *(const double *)ud, (unsigned long long)c[0], (unsigned long long)c[1]);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    double rtol = 1e-8, atol = 1e-14, t_end = 1e10;
    long gd_steps = 1000000;
    uint64_t seed = 1;
    unsigned flags = TSRELU_FLOW_ACCURATE;
    double late_rtol = 1e-12, late_atol = 1e-20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rtol"))
            rtol = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--atol"))
            atol = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--gd-steps"))
            gd_steps = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--t-end"))
            t_end = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--late-rtol"))
            late_rtol = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--late-atol"))
            late_atol = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--flags"))
            flags = (unsigned)strtoul(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: bench_flow [--rtol R] [--atol A] [--gd-steps N] [--t-end T] [--late-rtol R] "
                            "[--late-atol A] [--flags F] [--seed S]\n");
            return 2;
        }
    }
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    tsrelu_flow *fl = NULL;
    tsrelu_gd *gd = NULL;
    if (tsrelu_teacher_create_orthogonal(4, 16, 1.0, seed, &t) ||
        tsrelu_student_create_gaussian(20, 16, 1e-6, seed + 1, &s) || tsrelu_flow_create(t, s, rtol, atol, &fl) ||
        tsrelu_gd_create(t, s, 0.1, &gd)) {
        fprintf(stderr, "bench_flow: setup failed: %s\n", tsrelu_last_error());
        return 1;
    }
    printf("Figure-1 initialisation: k=4, m=20, d=16, sigma=1e-6; flow rtol=%g atol=%g (%s solver)\n", rtol, atol,
           tsrelu_flow_solver(fl) == TSRELU_FLOW_DENSE ? "dense" : "Krylov");
    double t0 = now();
    tsrelu_status st = tsrelu_flow_run(fl, 1e6);
    double flow6 = now() - t0;
    if (st != TSRELU_OK) {
        fprintf(stderr, "bench_flow: flow to 1e6: %s\n", tsrelu_last_error());
        return 1;
    }
    double Lf;
    if (tsrelu_flow_loss(fl, &Lf))
        return 1;
    t0 = now();
    if (tsrelu_gd_run(gd, (uint64_t)gd_steps) != TSRELU_OK) {
        fprintf(stderr, "bench_flow: gd: %s\n", tsrelu_last_error());
        return 1;
    }
    double gd_time = now() - t0, gd7 = gd_time * (1e7 / (double)gd_steps);
    printf("flow to t=1e6: L=%.6e\n", Lf);
    printf("flow_seconds_1e6 %.6f\n", flow6);
    printf("gd_seconds_1e7 %.3f (measured %.3f s for %ld steps at eta=0.1, extrapolated linearly)\n", gd7, gd_time,
           gd_steps);
    printf("speedup_1e6 %.0f\n", gd7 / flow6);

    tsrelu_flow_free(fl);
    fl = NULL;
    printf("to t=%g: flags %u, rtol=%g atol=%g\n", t_end, flags, late_rtol, late_atol);
    if (tsrelu_flow_create(t, s, late_rtol, late_atol, &fl) || tsrelu_flow_set_flags(fl, flags) ||
        tsrelu_flow_set_observer(fl, decade, &t0, TSRELU_SCHEDULE_LOG, 1)) {
        fprintf(stderr, "bench_flow: %s\n", tsrelu_last_error());
        return 1;
    }
    t0 = now();
    st = tsrelu_flow_run(fl, t_end);
    double flow_end = now() - t0;
    if (st != TSRELU_OK) {
        fprintf(stderr, "bench_flow: flow to %g: %s\n", t_end, tsrelu_last_error());
        return 1;
    }
    uint64_t c[TSRELU_FLOW_NSTATS];
    if (tsrelu_flow_statistics(fl, c, TSRELU_FLOW_NSTATS))
        return 1;
    printf("flow_seconds_end %.3f (t=%g)\n", flow_end, t_end);
    printf("statistics: steps %llu, rhs %llu (+%llu for Jacobians), jacobians %llu, jv %llu, linear iterations %llu, "
           "error-test failures %llu, Newton failures %llu\n",
           (unsigned long long)c[TSRELU_FLOW_STAT_STEPS], (unsigned long long)c[TSRELU_FLOW_STAT_RHS],
           (unsigned long long)c[TSRELU_FLOW_STAT_LIN_RHS], (unsigned long long)c[TSRELU_FLOW_STAT_JAC],
           (unsigned long long)c[TSRELU_FLOW_STAT_JTIMES], (unsigned long long)c[TSRELU_FLOW_STAT_LIN_ITERS],
           (unsigned long long)c[TSRELU_FLOW_STAT_ERR_FAILS], (unsigned long long)c[TSRELU_FLOW_STAT_CONV_FAILS]);
    tsrelu_flow_free(fl);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}

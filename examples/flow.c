/* flow — gradient flow with SUNDIALS CVODE: late times in a few thousand
 * integrator steps.
 *
 * The quickstart's setting (k = 2 orthogonal unit teachers, m = 6 students
 * in d = 8, sigma = 1e-3) as the continuous-time flow dW/dt = -grad L. An
 * observer on a log schedule (2 points per decade of flow time) prints t,
 * the accurate loss and L t^3, which levels off in the late phase; GD at
 * step eta would need t / eta steps for the same time.
 *
 * Build:  cc flow.c $(pkg-config --cflags --libs libtsrelu) -lm
 * Run:    ./flow           to t = 1e8
 *         ./flow --quick   to t = 1e4 (used by `make check`) */
#include <tsrelu.h>

#include <stdio.h>
#include <string.h>

static int show(const tsrelu_flow *fl, void *user_data)
{
    double t = tsrelu_flow_time(fl), L;
    (void)user_data;
    if (tsrelu_loss_accurate(tsrelu_flow_student(fl), tsrelu_flow_teacher(fl), &L) != TSRELU_OK)
        return 1; /* stops the run: TSRELU_STOPPED */
    printf("%12.4g  %14.6e  %12.6f\n", t, L, L * t * t * t);
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "flow: %s: %s\n", what, tsrelu_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    double t_end = argc > 1 && !strcmp(argv[1], "--quick") ? 1e4 : 1e8;
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    tsrelu_flow *fl = NULL;
    if (tsrelu_teacher_create_orthogonal(2, 8, 1.0, 1, &t) != TSRELU_OK)
        return fail("teacher");
    if (tsrelu_student_create_gaussian(6, 8, 1e-3, 2, &s) != TSRELU_OK)
        return fail("student");
    /* rtol 1e-10: the late-phase angles are far below rtol |w| (docs/flow.md) */
    if (tsrelu_flow_create(t, s, 1e-10, 1e-16, &fl) != TSRELU_OK)
        return fail("flow");
    if (tsrelu_flow_set_observer(fl, show, NULL, TSRELU_SCHEDULE_LOG, 2) != TSRELU_OK)
        return fail("observer");
    printf("%12s  %14s  %12s\n", "t", "L (accurate)", "L t^3");
    if (tsrelu_flow_run(fl, t_end) != TSRELU_OK)
        return fail("run");
    uint64_t c[TSRELU_FLOW_NSTATS];
    if (tsrelu_flow_statistics(fl, c, TSRELU_FLOW_NSTATS) != TSRELU_OK)
        return fail("statistics");
    printf("%llu integrator steps, %llu gradients (+%llu for %llu Jacobians), %s solver\n",
           (unsigned long long)c[TSRELU_FLOW_STAT_STEPS], (unsigned long long)c[TSRELU_FLOW_STAT_RHS],
           (unsigned long long)c[TSRELU_FLOW_STAT_LIN_RHS], (unsigned long long)c[TSRELU_FLOW_STAT_JAC],
           tsrelu_flow_solver(fl) == TSRELU_FLOW_DENSE ? "dense" : "Krylov");
    tsrelu_flow_free(fl);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}

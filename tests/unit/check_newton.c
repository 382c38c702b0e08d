/* Check suite for src/newton.c: quadratic convergence to a strict minimum
 * (an order test on |grad L|), convergence to a saddle with its Morse
 * index, a singular Hessian (the flat manifold of an over-parameterised
 * minimum), and the validation of every argument. */
#include "suites.h"

#include "tsrelu.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846

/* Newton from (W, a) on the teacher V (b = 1) for max_iter steps. */
static tsrelu_status newton_from(size_t m, size_t k, size_t d, const double *W, const double *a,
                                 const double *V, unsigned flags, double rel_tol,
                                 size_t max_iter, double info[TSRELU_NEWTON_LEN], double *W_out)
{
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_student_create(m, d, W, a, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(k, d, V, NULL, &t), TSRELU_OK);
    tsrelu_status st = tsrelu_newton(s, t, flags, 1e-13, rel_tol, max_iter, info, TSRELU_NEWTON_LEN);
    if (W_out)
        ck_assert_int_eq(tsrelu_student_weights(s, W_out, m * d), TSRELU_OK);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return st;
}

/* W = V + 1e-2 E for two orthonormal teachers in d = 3: the global minimum
 * W = V is strict, with smallest eigenvalue 1/4 - 1/2pi (the Gauss-Newton
 * matrix, see the spectrum suite). The gradient norms g_n of the iterates
 * must satisfy log g_{n+1} = 2 log g_n + c: the order estimate
 * log(g_{n+1}/g_n) / log(g_n/g_{n-1}) of the last steps above the rounding
 * floor lies in [1.8, 2.3]. */
START_TEST(test_quadratic_convergence)
{
    double V[6] = {1, 0, 0, 0, 1, 0}, a[2] = {1, 1}, W[6], info[TSRELU_NEWTON_LEN], g[8];
    const double E[6] = {0.3, -0.5, 0.8, -0.2, 0.4, 0.6};
    for (int i = 0; i < 6; i++)
        W[i] = V[i] + 3e-2 * E[i];
    int n = 0;
    for (size_t it = 0; it < 8; it++) {
        tsrelu_status st = newton_from(2, 2, 3, W, a, V, 0, 1e-9, it, info, NULL);
        ck_assert(st == TSRELU_OK || st == TSRELU_CONVERGED);
        ck_assert_double_eq(info[TSRELU_NEWTON_ITERATIONS], (double)it < 4 ? (double)it : info[0]);
        g[n++] = info[TSRELU_NEWTON_GRAD_NORM];
        printf("newton: iteration %zu |grad| = %.3e\n", it, g[n - 1]);
        if (st == TSRELU_CONVERGED)
            break;
    }
    ck_assert_double_le(g[n - 1], 1e-13 * info[TSRELU_NEWTON_GRAD_SCALE]);
    ck_assert_int_ge(n, 4);
    /* the order estimates whose three norms are all above 1e-12 */
    int checked = 0;
    for (int j = 2; j < n; j++) {
        if (g[j] < 1e-12)
            continue;
        double p = log(g[j] / g[j - 1]) / log(g[j - 1] / g[j - 2]);
        printf("newton: order estimate at step %d: %.3f\n", j, p);
        ck_assert_msg(p >= 1.8 && p <= 2.3, "order %.3f at step %d", p, j);
        checked++;
    }
    ck_assert_int_ge(checked, 1);
    ck_assert_double_eq(info[TSRELU_NEWTON_NEGATIVE], 0);
    ck_assert_double_eq(info[TSRELU_NEWTON_FLAT], 0);
    ck_assert_double_eq(info[TSRELU_NEWTON_POSITIVE], 6);
    ck_assert_double_eq_tol(info[TSRELU_NEWTON_MIN_POSITIVE], 0.25 - 0.5 / PI, 1e-12);
    /* the double loss's rounding floor, 1e-15 S_L (S_L = 16 here) */
    ck_assert_double_le(info[TSRELU_NEWTON_LOSS], 1.6e-14);
}
END_TEST

/* Two students on the bisector of two orthogonal teachers stay together
 * (by symmetry): Newton converges to the saddle where both sit at the best
 * single-neuron fit, with Morse index 1 (splitting them lowers L) and one
 * flat direction (moving norm from one to the other). */
START_TEST(test_converges_to_saddle)
{
    double V[4] = {1, 0, 0, 1}, W[4] = {0.35, 0.36, 0.35, 0.36}, a[2] = {1, 1};
    double info[TSRELU_NEWTON_LEN], Wo[4];
    ck_assert_int_eq(newton_from(2, 2, 2, W, a, V, 0, 1e-9, 50, info, Wo), TSRELU_CONVERGED);
    ck_assert_double_le(info[TSRELU_NEWTON_GRAD_NORM], 1e-13 * info[TSRELU_NEWTON_GRAD_SCALE]);
    ck_assert_double_eq(info[TSRELU_NEWTON_NEGATIVE], 1);
    ck_assert_double_eq(info[TSRELU_NEWTON_FLAT], 1);
    ck_assert_double_eq(info[TSRELU_NEWTON_POSITIVE], 2);
    ck_assert_double_lt(info[TSRELU_NEWTON_MIN_EIG], -0.1);
    /* the students sum to the best single neuron along (1, 1): the same
     * point as one student fitted alone */
    double W1[2] = {0.7, 0.72}, a1[1] = {1}, info1[TSRELU_NEWTON_LEN], Wo1[2];
    ck_assert_int_eq(newton_from(1, 2, 2, W1, a1, V, 0, 1e-9, 50, info1, Wo1), TSRELU_CONVERGED);
    ck_assert_double_eq(info1[TSRELU_NEWTON_NEGATIVE], 0);
    ck_assert_double_eq_tol(Wo[0] + Wo[2], Wo1[0], 1e-13);
    ck_assert_double_eq_tol(Wo[1] + Wo[3], Wo1[1], 1e-13);
    ck_assert_double_eq_tol(info[TSRELU_NEWTON_LOSS], info1[TSRELU_NEWTON_LOSS], 1e-15);
}
END_TEST

/* One teacher, two students with unequal norms. The minima form a manifold
 * (any split w_1 + w_2 = v with both aligned) on which the Hessian is
 * singular, with d flat directions (docs/secondorder.md). From exactly
 * aligned students (0.25 v, 0.5 v) the Hessian is exactly singular at
 * every iterate: the pseudo-inverse step must not blow up, and Newton lands
 * on the manifold with exactly d flat eigenvalues. From a perturbed start
 * it reaches the gradient floor on the manifold too, but not at an exactly
 * aligned point (it moves freely along near-flat directions; this run ends
 * with one student of norm 2e-10 at 0.04 rad): the d soft eigenvalues are
 * then small but not 0 (below 0.02 here, the other d above 0.98). */
START_TEST(test_singular_hessian)
{
    enum { d = 4 };
    double V[d] = {0.5, -0.5, 0.5, 0.5}, a[2] = {1, 1}, W[2 * d], Wo[2 * d];
    double info[TSRELU_NEWTON_LEN];
    for (int c = 0; c < d; c++) {
        W[c] = 0.25 * V[c];
        W[d + c] = 0.5 * V[c];
    }
    ck_assert_int_eq(newton_from(2, 1, d, W, a, V, 0, 1e-9, 100, info, Wo), TSRELU_CONVERGED);
    ck_assert(info[TSRELU_NEWTON_NEGATIVE] == 0 && info[TSRELU_NEWTON_FLAT] == d &&
              info[TSRELU_NEWTON_POSITIVE] == d);
    ck_assert_double_eq_tol(info[TSRELU_NEWTON_MIN_POSITIVE], 1.0, 1e-14);
    /* the pseudo-inverse step is the least-norm one: it shares the missing
     * 0.25 v equally, 0.375 v + 0.625 v */
    for (int c = 0; c < d; c++) {
        ck_assert_double_eq_tol(Wo[c], 0.375 * V[c], 1e-15);
        ck_assert_double_eq_tol(Wo[d + c], 0.625 * V[c], 1e-15);
    }

    const double E[2 * d] = {0.1, 0.2, -0.3, 0.05, -0.1, 0.15, 0.2, -0.25};
    for (int c = 0; c < d; c++) {
        W[c] = 0.3 * V[c] + 1e-2 * E[c];
        W[d + c] = 0.6 * V[c] + 1e-2 * E[d + c];
    }
    ck_assert_int_eq(newton_from(2, 1, d, W, a, V, 0, 1e-9, 100, info, Wo), TSRELU_CONVERGED);
    ck_assert_double_eq(info[TSRELU_NEWTON_NEGATIVE], 0);
    ck_assert_double_le(info[TSRELU_NEWTON_LOSS], 1e-20);
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    double ev[2 * d];
    size_t cnt[3];
    ck_assert_int_eq(tsrelu_student_create(2, d, Wo, a, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(1, d, V, NULL, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, 0.05, ev, 2 * d, NULL, 0, cnt, 3), TSRELU_OK);
    ck_assert(cnt[0] == 0 && cnt[1] == d && cnt[2] == d);
    ck_assert_double_gt(ev[d], 0.95);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    for (int c = 0; c < d; c++)
        ck_assert_double_eq_tol(Wo[c] + Wo[d + c], V[c], 1e-10);
}
END_TEST

START_TEST(test_limits)
{
    double V[2] = {1, 0}, W[4] = {1, 1, 0.5, -1}, info[TSRELU_NEWTON_LEN + 1];
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL, *t3 = NULL;
    tsrelu_gd *gd = NULL;
    ck_assert_int_eq(tsrelu_student_create(2, 2, W, NULL, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(1, 2, V, NULL, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(1, 3, 1.0, 1, &t3), TSRELU_OK);
    ck_assert_int_eq(tsrelu_newton(NULL, t, 0, 1e-13, 1e-9, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, NULL, 0, 1e-13, 1e-9, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, t, 4, 1e-13, 1e-9, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, t, 0, -1.0, 1e-9, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, t, 0, INFINITY, 1e-9, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, t, 0, 1e-13, 1.0, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, t, 0, 1e-13, NAN, 5, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_newton(s, t3, 0, 1e-13, 1e-9, 5, NULL, 0), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_newton(s, t, 0, 1e-13, 1e-9, 5, info, 0), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_newton(s, t, 0, 1e-13, 1e-9, 5, info, TSRELU_NEWTON_LEN + 1),
                     TSRELU_ELENGTH);
    /* max_iter 0: no step, the info of the starting point (prefix only) */
    info[1] = -7.0;
    ck_assert_int_eq(tsrelu_newton(s, t, 0, 1e-13, 1e-9, 0, info, 1), TSRELU_OK);
    ck_assert_double_eq(info[0], 0.0);
    ck_assert_double_eq(info[1], -7.0);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_newton((tsrelu_student *)tsrelu_gd_student(gd), t, 0, 1e-13, 1e-9, 5,
                                   NULL, 0),
                     TSRELU_EINVAL);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "view"));
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    tsrelu_teacher_free(t3);
}
END_TEST

Suite *newton_suite(void)
{
    Suite *s = suite_create("newton");
    TCase *tc_core = tcase_create("core");
    tcase_add_test(tc_core, test_quadratic_convergence);
    tcase_add_test(tc_core, test_converges_to_saddle);
    tcase_add_test(tc_core, test_singular_hessian);
    suite_add_tcase(s, tc_core);
    TCase *tc_limits = tcase_create("limits");
    tcase_add_test(tc_limits, test_limits);
    suite_add_tcase(s, tc_limits);
    return s;
}

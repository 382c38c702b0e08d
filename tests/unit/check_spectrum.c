/* Check suite for src/spectrum.c: spectra of hand-solvable cases (m = k = 1;
 * the global minimum W = V, where the Hessian is the Gauss-Newton matrix
 * E[grad f grad f^T]), the flat directions of an over-parameterised
 * global minimum, and the validation of every argument. */
#include "suites.h"

#include "tsrelu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static void spectrum_of(size_t m, size_t k, size_t d, const double *W, const double *a,
                        const double *V, unsigned flags, double *eval, double *evec,
                        size_t counts[3])
{
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_student_create(m, d, W, a, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(k, d, V, NULL, &t), TSRELU_OK);
    size_t N = m * d + (flags ? m : 0);
    ck_assert_msg(tsrelu_spectrum(s, t, flags, 1e-9, eval, N, evec, N * N, counts, 3) == TSRELU_OK,
                  "%s", tsrelu_last_error());
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}

/* m = k = 1, d = 2, w = (1, 0), v = (0, 2): with t^ = e2 the unit tangent,
 * H = 1/2 I - |v| sin(theta) / (pi |w|) t^ t^T, eigenvalues 1/2 - 2/pi
 * (along e2, a saddle direction) and 1/2 (along e1). At w = v = e1 with a:
 * H = [[I/2, v/2], [v^T/2, 1/2]], eigenvalues 0 (the rescaling
 * (w, a) -> (c w, a / c)), 1/2 and 1. */
START_TEST(test_one_student_one_teacher)
{
    double W[2] = {1.0, 0.0}, V[2] = {0.0, 2.0}, a[1] = {1.0}, ev[9], Z[9];
    size_t cnt[3];
    spectrum_of(1, 1, 2, W, a, V, 0, ev, Z, cnt);
    ck_assert_double_eq_tol(ev[0], 0.5 - 2.0 / PI, 1e-15);
    ck_assert_double_eq_tol(ev[1], 0.5, 1e-15);
    ck_assert_double_eq_tol(fabs(Z[1]), 1.0, 1e-15); /* eigenvector 0 is +-e2 */
    ck_assert_double_eq_tol(fabs(Z[2]), 1.0, 1e-15); /* eigenvector 1 is +-e1 */
    ck_assert(cnt[0] == 1 && cnt[1] == 0 && cnt[2] == 1);
    double V2[2] = {1.0, 0.0};
    spectrum_of(1, 1, 2, W, a, V2, TSRELU_HESSIAN_OUTPUT, ev, Z, cnt);
    ck_assert_double_eq_tol(ev[0], 0.0, 1e-15);
    ck_assert_double_eq_tol(ev[1], 0.5, 1e-15);
    ck_assert_double_eq_tol(ev[2], 1.0, 1e-15);
    ck_assert_double_eq_tol(fabs(Z[0]), sqrt(0.5), 1e-15); /* (e1, -1) / sqrt 2 */
    ck_assert_double_eq_tol(Z[0], -Z[2], 1e-15);
    ck_assert(cnt[0] == 0 && cnt[1] == 1 && cnt[2] == 2);
}
END_TEST

/* W = V, m = k orthonormal teachers, a = b = 1: at zero residual the Hessian
 * is E[grad f grad f^T] with blocks E[1(w_i x > 0) 1(w_l x > 0) x x^T] =
 * 1/2 I (i = l) and 1/4 I + (v_l v_i^T + v_i v_l^T) / 2pi (orthogonal i, l).
 * For k = 2, d = 2: eigenvalues 1/4 +- 1/2pi and 3/4 +- 1/2pi. For k = 3 in
 * rotated axes, the Gauss-Newton matrix is built here and compared through
 * its first two spectral moments. */
START_TEST(test_global_minimum_w_equals_v)
{
    double V[4] = {1, 0, 0, 1}, a[2] = {1, 1}, ev[4];
    size_t cnt[3];
    spectrum_of(2, 2, 2, V, a, V, 0, ev, NULL, cnt);
    double want[4] = {0.25 - 0.5 / PI, 0.25 + 0.5 / PI, 0.75 - 0.5 / PI, 0.75 + 0.5 / PI};
    for (int j = 0; j < 4; j++)
        ck_assert_double_eq_tol(ev[j], want[j], 1e-15);
    ck_assert(cnt[0] == 0 && cnt[1] == 0 && cnt[2] == 4);

    /* k = 3 rotated orthonormal teachers in d = 3: the Gauss-Newton matrix
     * built here, then its eigenvalues through the public spectrum of the
     * same point must agree (the sum and the sum of squares of the
     * eigenvalues are the trace of G and of G^2). */
    double c = cos(0.7), s = sin(0.7);
    double R[9] = {c, -s, 0, s * c, c * c, -s, s * s, c * s, c};
    double G[81] = {0}, ev3[9];
    for (int i = 0; i < 3; i++)
        for (int l = 0; l < 3; l++)
            for (int r = 0; r < 3; r++)
                for (int q = 0; q < 3; q++) {
                    double x = (i == l) ? 0.5 * (r == q)
                                        : 0.25 * (r == q) + (R[l * 3 + r] * R[i * 3 + q] +
                                                             R[i * 3 + r] * R[l * 3 + q]) / (2 * PI);
                    G[(i * 3 + r) * 9 + l * 3 + q] = x;
                }
    double a3[3] = {1, 1, 1};
    spectrum_of(3, 3, 3, R, a3, R, 0, ev3, NULL, cnt);
    double tr = 0, tr2 = 0, e1 = 0, e2 = 0;
    for (int j = 0; j < 9; j++) {
        tr += G[j * 9 + j];
        e1 += ev3[j];
        e2 += ev3[j] * ev3[j];
        for (int q = 0; q < 9; q++)
            tr2 += G[j * 9 + q] * G[q * 9 + j];
    }
    ck_assert_double_eq_tol(e1, tr, 1e-14);
    ck_assert_double_eq_tol(e2, tr2, 1e-14);
    ck_assert(ev3[0] > 0.05 && cnt[2] == 9);
}
END_TEST

/* Over-parameterised global minimum: one teacher v, two co-aligned
 * students w_1 = 0.3 v, w_2 = 0.7 v. Moving w_1 by +delta and w_2 by -delta
 * changes no output to first order, so the d directions (delta, -delta)
 * are flat; the other d eigenvalues are 1 (H = [[I/2, I/2], [I/2, I/2]]).
 * The flat eigenvectors span the norm transfer (v^, -v^) / sqrt 2. */
START_TEST(test_flat_norm_transfer)
{
    enum { d = 3, N = 2 * d };
    double V[d] = {0.6, -0.8, 0.0}, W[2 * d], a[2] = {1, 1}, ev[N], Z[N * N];
    for (int c = 0; c < d; c++) {
        W[c] = 0.3 * V[c];
        W[d + c] = 0.7 * V[c];
    }
    size_t cnt[3];
    spectrum_of(2, 1, d, W, a, V, 0, ev, Z, cnt);
    ck_assert(cnt[0] == 0 && cnt[1] == d && cnt[2] == d);
    for (int j = 0; j < d; j++) {
        ck_assert_double_eq_tol(ev[j], 0.0, 1e-15);
        ck_assert_double_eq_tol(ev[d + j], 1.0, 1e-15);
    }
    /* the projection of (v^, -v^) / sqrt 2 on the flat eigenvectors is all of it */
    double x[N], proj = 0.0;
    for (int c = 0; c < d; c++) {
        x[c] = V[c] / sqrt(2.0);
        x[d + c] = -V[c] / sqrt(2.0);
    }
    for (int j = 0; j < d; j++) {
        double p = 0.0;
        for (int r = 0; r < N; r++)
            p += Z[j * N + r] * x[r];
        proj += p * p;
    }
    ck_assert_double_eq_tol(proj, 1.0, 1e-14);

    /* With the output weights the gradient of f, [1(v x > 0) x; same;
     * relu(w_1 x); relu(w_2 x)], still spans d dimensions (relu(w_i x) =
     * |w_i|/|v| (v x) 1(v x > 0)), so 2d + 2 - d = d + 2 directions are
     * flat: the d transfers and the two rescalings (w_i, a_i) ->
     * (c w_i, a_i / c), each of which must lie in the flat space. */
    double ev2[N + 2], Z2[(N + 2) * (N + 2)];
    spectrum_of(2, 1, d, W, a, V, TSRELU_HESSIAN_OUTPUT, ev2, Z2, cnt);
    ck_assert(cnt[0] == 0 && cnt[1] == d + 2 && cnt[2] == d);
    for (int i = 0; i < 2; i++) { /* (w_i, -a_i) is in the flat space */
        double y[N + 2] = {0}, nrm = 0.0, pr = 0.0;
        for (int c = 0; c < d; c++)
            y[i * d + c] = W[i * d + c];
        y[N + i] = -a[i];
        for (int r = 0; r < N + 2; r++)
            nrm += y[r] * y[r];
        for (size_t j = 0; j < cnt[1]; j++) {
            double p = 0.0;
            for (int r = 0; r < N + 2; r++)
                p += Z2[j * (N + 2) + r] * y[r];
            pr += p * p;
        }
        ck_assert_double_eq_tol(pr / nrm, 1.0, 1e-14);
    }
}
END_TEST

START_TEST(test_limits)
{
    double W[4] = {1, 0, 0, 1}, V[2] = {1, 1}, ev[6], Z[36];
    size_t cnt[3];
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL, *t3 = NULL;
    ck_assert_int_eq(tsrelu_student_create(2, 2, W, NULL, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(1, 2, V, NULL, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(1, 3, 1.0, 1, &t3), TSRELU_OK);
    ck_assert_int_eq(tsrelu_spectrum(NULL, t, 0, 0.0, ev, 4, NULL, 0, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_spectrum(s, NULL, 0, 0.0, ev, 4, NULL, 0, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, 0.0, NULL, 4, NULL, 0, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 8, 0.0, ev, 4, NULL, 0, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, -1.0, ev, 4, NULL, 0, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, NAN, ev, 4, NULL, 0, NULL, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_spectrum(s, t3, 0, 0.0, ev, 4, NULL, 0, NULL, 0), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, 0.0, ev, 5, NULL, 0, NULL, 0), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, 0.0, ev, 4, Z, 15, NULL, 0), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 0, 0.0, ev, 4, NULL, 0, cnt, 2), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 1, 0.0, ev, 4, NULL, 0, NULL, 0), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_spectrum(s, t, 1, 0.0, ev, 6, Z, 36, cnt, 3), TSRELU_OK);
    ck_assert_int_eq(cnt[0] + cnt[1] + cnt[2], 6);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    tsrelu_teacher_free(t3);
}
END_TEST

Suite *spectrum_suite(void)
{
    Suite *s = suite_create("spectrum");
    TCase *tc_core = tcase_create("core");
    tcase_add_test(tc_core, test_one_student_one_teacher);
    tcase_add_test(tc_core, test_global_minimum_w_equals_v);
    tcase_add_test(tc_core, test_flat_norm_transfer);
    suite_add_tcase(s, tc_core);
    TCase *tc_limits = tcase_create("limits");
    tcase_add_test(tc_limits, test_limits);
    suite_add_tcase(s, tc_limits);
    return s;
}

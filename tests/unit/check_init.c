/* Check suite for src/init.c: weak-recovery students (exact angle and norm,
 * assignment by counts or round-robin, uniform orthogonal part), teachers
 * with a Gram matrix (V V^T = G, angles, output weights), determinism and
 * known values. Every bad argument is a row of docs/errors.md (WR-*, TG-*),
 * tested with its exact status and message in check_errors.c. */
#include "suites.h"

#include "tsrelu.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HALF_PI 1.57079632679489661923 /* the largest double below pi/2 */
#define PI 3.14159265358979323846

/* Known values (seed 2026), recorded from the first build; see the tests. */
#define WEAK_HASH 0x77f618de968c2effULL
#define WEAK_W0 0x1.993f42cdaeb9dp-12
#define WEAK_W1 -0x1.791871adfc904p-12
#define GRAM_HASH 0x9f0cf7ca24c04e0dULL
#define GRAM_V0 0x1.5f6171c77af8fp-1
#define GRAM_V1 0x1.1ae097baf3c49p-3

static double *student_W(const tsrelu_student *s)
{
    size_t n = tsrelu_student_width(s) * tsrelu_student_dim(s);
    double *W = malloc(n * sizeof(double));
    ck_assert_ptr_nonnull(W);
    ck_assert_int_eq(tsrelu_student_weights(s, W, n), TSRELU_OK);
    return W;
}

static double *teacher_V(const tsrelu_teacher *t)
{
    size_t n = tsrelu_teacher_width(t) * tsrelu_teacher_dim(t);
    double *V = malloc(n * sizeof(double));
    ck_assert_ptr_nonnull(V);
    ck_assert_int_eq(tsrelu_teacher_weights(t, V, n), TSRELU_OK);
    return V;
}

static double norm(const double *x, size_t d)
{
    double s = 0.0;
    for (size_t c = 0; c < d; c++)
        s += x[c] * x[c];
    return sqrt(s);
}

/* FNV-1a over the IEEE bit patterns, byte order fixed (little-endian) so
 * that the known values hold on every platform. */
static uint64_t hash_doubles(const double *x, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        uint64_t b;
        memcpy(&b, &x[i], sizeof b);
        for (int byte = 0; byte < 8; byte++) {
            h ^= (b >> (8 * byte)) & 0xffu;
            h *= 0x100000001b3ULL;
        }
    }
    return h;
}

/* Weak-recovery student for an orthogonal teacher (k, d, seed 7); checks
 * every angle to the assigned teacher against zeta and every norm against
 * sigma, and that the assigned teacher is the nearest one. */
static void check_weak(size_t k, size_t d, size_t m, const size_t *counts, double zeta,
                       double sigma, uint64_t seed, int *tau)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(k, d, 1.0, 7, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_weak_recovery(t, m, counts, counts ? k : 0, zeta, sigma,
                                                         seed, tau, m, &s),
                     TSRELU_OK);
    ck_assert_uint_eq(tsrelu_student_width(s), m);
    ck_assert_uint_eq(tsrelu_student_dim(s), d);
    double *W = student_W(s), *theta = malloc(m * k * sizeof(double)), *a = malloc(m * sizeof(double));
    int *near = malloc(m * sizeof(int));
    ck_assert_int_eq(tsrelu_angles(s, t, theta, m * k), TSRELU_OK);
    ck_assert_int_eq(tsrelu_nearest_teacher(s, t, near, m), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(s, a, m), TSRELU_OK);
    for (size_t i = 0; i < m; i++) {
        ck_assert_int_ge(tau[i], 0);
        ck_assert_int_lt(tau[i], (int)k);
        double th = theta[i * k + (size_t)tau[i]];
        ck_assert_msg(fabs(th - zeta) <= 1e-12, "student %zu: angle %.17g, zeta %.17g", i, th, zeta);
        double n = norm(W + i * d, d);
        ck_assert_msg(fabs(n - sigma) <= 1e-14 * sigma, "student %zu: norm %.17g, sigma %.17g", i, n,
                      sigma);
        if (zeta < 0.25 * PI) /* half the teachers' pairwise angle */
            ck_assert_int_eq(near[i], tau[i]);
        ck_assert(a[i] == 1.0);
    }
    free(W);
    free(theta);
    free(a);
    free(near);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}

START_TEST(test_weak_angles_and_norms)
{
    static const double zetas[] = {1e-9, 0.05, 0.3, 1.0, 1.5, HALF_PI};
    static const double sigmas[] = {1e-150, 1e-6, 1.0, 2.5, 1e150};
    int tau[12];
    for (size_t z = 0; z < sizeof zetas / sizeof zetas[0]; z++)
        for (size_t g = 0; g < sizeof sigmas / sizeof sigmas[0]; g++) {
            check_weak(3, 10, 12, NULL, zetas[z], sigmas[g], 1 + z + 10 * g, tau);
            check_weak(2, 2, 5, NULL, zetas[z], sigmas[g], 99, tau); /* d = 2: one free direction */
        }
}
END_TEST

START_TEST(test_weak_counts_honoured)
{
    const size_t counts[] = {1, 0, 4, 2};
    int tau[7];
    check_weak(4, 6, 7, counts, 0.2, 1e-3, 3, tau);
    static const int want[] = {0, 2, 2, 2, 2, 3, 3};
    for (size_t i = 0; i < 7; i++)
        ck_assert_int_eq(tau[i], want[i]);
}
END_TEST

START_TEST(test_weak_balanced_default)
{
    int tau[11];
    check_weak(4, 8, 11, NULL, 0.4, 1.0, 5, tau);
    size_t size[4] = {0};
    for (size_t i = 0; i < 11; i++) {
        ck_assert_int_eq(tau[i], (int)(i % 4)); /* round-robin */
        size[tau[i]]++;
    }
    ck_assert_uint_eq(size[0], 3);
    ck_assert_uint_eq(size[1], 3);
    ck_assert_uint_eq(size[2], 3);
    ck_assert_uint_eq(size[3], 2);
    /* m < k: some teachers get no student */
    int tau2[2];
    check_weak(3, 5, 2, NULL, 0.4, 1.0, 5, tau2);
    ck_assert_int_eq(tau2[0], 0);
    ck_assert_int_eq(tau2[1], 1);
}
END_TEST

/* The direction orthogonal to the teacher is uniform: its mean is 0 and its
 * second moment (I - v^ v^T)/(d - 1). N = 20000 students on one teacher in
 * d = 4; u_c has variance <= 1/3, so SE(mean) <= 0.0041 and SE(second
 * moment) <= sqrt(E u^4 / N) <= 0.0071; all checks within 5 SE. */
START_TEST(test_weak_direction_uniform)
{
    enum { N = 20000, D = 4 };
    const double zeta = 0.7;
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(1, D, 2.0, 11, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_weak_recovery(t, N, NULL, 0, zeta, 1.0, 12, NULL, 0, &s),
                     TSRELU_OK);
    double *W = student_W(s), *V = teacher_V(t), vhat[D], mean[D] = {0}, mom[D][D] = {{0}};
    for (size_t c = 0; c < D; c++)
        vhat[c] = V[c] / 2.0;
    for (size_t i = 0; i < N; i++) {
        double u[D];
        for (size_t c = 0; c < D; c++)
            u[c] = (W[i * D + c] - cos(zeta) * vhat[c]) / sin(zeta);
        for (size_t c = 0; c < D; c++) {
            mean[c] += u[c] / N;
            for (size_t e = 0; e < D; e++)
                mom[c][e] += u[c] * u[e] / N;
        }
    }
    for (size_t c = 0; c < D; c++) {
        ck_assert_double_eq_tol(mean[c], 0.0, 5 * 0.0041);
        for (size_t e = 0; e < D; e++) {
            double want = ((c == e) - vhat[c] * vhat[e]) / (D - 1);
            ck_assert_double_eq_tol(mom[c][e], want, 5 * 0.0071);
        }
    }
    free(W);
    free(V);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

static double *weak_weights(uint64_t seed, double sigma)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(3, 5, 1.0, 1, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_weak_recovery(t, 6, NULL, 0, 0.5, sigma, seed, NULL, 0, &s),
                     TSRELU_OK);
    double *W = student_W(s);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return W;
}

START_TEST(test_weak_deterministic)
{
    double *W1 = weak_weights(42, 0.1), *W2 = weak_weights(42, 0.1), *W3 = weak_weights(43, 0.1);
    ck_assert_msg(memcmp(W1, W2, 30 * sizeof(double)) == 0, "same seed gave different weights");
    size_t equal = 0;
    for (size_t i = 0; i < 30; i++)
        equal += W1[i] == W3[i];
    ck_assert_msg(equal == 0, "seeds 42 and 43 share %zu of 30 weights", equal);
    /* a weak-recovery and a Gaussian student of one seed are not the same draws */
    tsrelu_student *g;
    ck_assert_int_eq(tsrelu_student_create_gaussian(6, 5, 0.1, 42, &g), TSRELU_OK);
    double *Wg = student_W(g);
    equal = 0;
    for (size_t i = 0; i < 30; i++)
        equal += W1[i] == Wg[i];
    ck_assert_uint_eq(equal, 0);
    free(W1);
    free(W2);
    free(W3);
    free(Wg);
    tsrelu_student_free(g);
}
END_TEST

/* Known values: a change to the stream, the helpers or the arithmetic order
 * changes these bits (they must be the same on every IEEE-754 build). */
START_TEST(test_weak_known_values)
{
    double *W = weak_weights(2026, 1e-3);
    ck_assert_msg(hash_doubles(W, 30) == WEAK_HASH, "hash %#llx",
                  (unsigned long long)hash_doubles(W, 30));
    ck_assert(W[0] == WEAK_W0);
    ck_assert(W[1] == WEAK_W1);
    free(W);
}
END_TEST

/* ---------------- Gram teachers ---------------- */

/* max |V V^T - G| over the entries, and checks |v_j| against sqrt(G_jj). */
static double gram_error(const double *V, size_t k, size_t d, const double *G)
{
    double err = 0.0;
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double x = 0.0;
            for (size_t c = 0; c < d; c++)
                x += V[i * d + c] * V[j * d + c];
            err = fmax(err, fabs(x - G[i * k + j]));
        }
    return err;
}

static double max_abs(const double *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

START_TEST(test_gram_reproduced)
{
    enum { K = 4, D = 7 };
    /* G = A A^T for a fixed A (exactly symmetric: both triangles are the
     * same sums), with unequal norms and non-trivial angles */
    static const double A[K][K] = {{2.0, 0.3, -0.1, 0.0}, {0.5, 1.0, 0.2, 0.4},
                                   {-0.7, 0.1, 0.25, 0.05}, {1.5, -1.2, 0.8, 3.0}};
    double G[K * K], b[K] = {1.0, -0.5, 2.0, 0.25}, bb[K];
    for (size_t i = 0; i < K; i++)
        for (size_t j = 0; j < K; j++) {
            double x = 0.0;
            for (size_t p = 0; p < K; p++)
                x += A[i][p] * A[j][p];
            G[i * K + j] = x;
        }
    static const double scales[] = {1e-140, 1.0, 1e140};
    for (size_t r = 0; r < 3; r++) {
        double Gs[K * K];
        for (size_t i = 0; i < K * K; i++)
            Gs[i] = G[i] * scales[r];
        tsrelu_teacher *t;
        ck_assert_int_eq(tsrelu_teacher_create_gram(K, D, Gs, K * K, b, K, 9, &t), TSRELU_OK);
        ck_assert_uint_eq(tsrelu_teacher_width(t), K);
        ck_assert_uint_eq(tsrelu_teacher_dim(t), D);
        double *V = teacher_V(t);
        double err = gram_error(V, K, D, Gs);
        ck_assert_msg(err <= 1e-14 * max_abs(Gs, K * K), "|VV^T - G| = %g, |G| = %g", err,
                      max_abs(Gs, K * K));
        for (size_t j = 0; j < K; j++) {
            double n = norm(V + j * D, D), want = sqrt(Gs[j * K + j]);
            ck_assert_msg(fabs(n - want) <= 1e-14 * want, "|v_%zu| = %.17g, want %.17g", j, n, want);
        }
        ck_assert_int_eq(tsrelu_teacher_output_weights(t, bb, K), TSRELU_OK);
        ck_assert(memcmp(b, bb, sizeof b) == 0);
        free(V);
        tsrelu_teacher_free(t);
    }
}
END_TEST

/* All pairwise angles alpha, norms n_j: G_ij = n_i n_j cos(alpha). The
 * angles measured on V by the library's stable angle agree to 1e-12. */
START_TEST(test_gram_equiangular)
{
    enum { K = 4, D = 6 };
    static const double alphas[] = {1e-3, 0.5, PI / 2, 1.8}; /* cos(1.8) > -1/3 */
    const double n[K] = {1.0, 2.0, 0.5, 3.0};
    for (size_t r = 0; r < sizeof alphas / sizeof alphas[0]; r++) {
        double G[K * K];
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++)
                G[i * K + j] = i == j ? n[i] * n[i] : n[i] * n[j] * cos(alphas[r]);
        tsrelu_teacher *t;
        tsrelu_student *s;
        ck_assert_int_eq(tsrelu_teacher_create_gram(K, D, G, K * K, NULL, 0, 4, &t), TSRELU_OK);
        double *V = teacher_V(t), theta[K * K], b[K];
        ck_assert_int_eq(tsrelu_student_create(K, D, V, NULL, &s), TSRELU_OK);
        ck_assert_int_eq(tsrelu_angles(s, t, theta, K * K), TSRELU_OK);
        for (size_t i = 0; i < K; i++)
            for (size_t j = 0; j < K; j++)
                if (i != j)
                    ck_assert_msg(fabs(theta[i * K + j] - alphas[r]) <= 1e-12 * fmax(1.0, 1.0 / alphas[r]),
                                  "alpha %g: angle(%zu,%zu) = %.17g", alphas[r], i, j, theta[i * K + j]);
        ck_assert_int_eq(tsrelu_teacher_output_weights(t, b, K), TSRELU_OK);
        for (size_t j = 0; j < K; j++)
            ck_assert(b[j] == 1.0);
        free(V);
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
}
END_TEST

/* G = c^2 I with sqrt(c^2) = c is the orthogonal teacher of norm c: the
 * same random frame, bit for bit. */
START_TEST(test_gram_identity_is_orthogonal)
{
    enum { K = 3, D = 6 };
    static const double norms[] = {1.0, 2.0, 0.5};
    for (size_t r = 0; r < 3; r++) {
        double G[K * K] = {0};
        for (size_t j = 0; j < K; j++)
            G[j * K + j] = norms[r] * norms[r];
        tsrelu_teacher *tg, *to;
        ck_assert_int_eq(tsrelu_teacher_create_gram(K, D, G, K * K, NULL, 0, 5, &tg), TSRELU_OK);
        ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, norms[r], 5, &to), TSRELU_OK);
        double *Vg = teacher_V(tg), *Vo = teacher_V(to);
        ck_assert_msg(memcmp(Vg, Vo, K * D * sizeof(double)) == 0, "norm %g: frames differ", norms[r]);
        free(Vg);
        free(Vo);
        tsrelu_teacher_free(tg);
        tsrelu_teacher_free(to);
    }
}
END_TEST

static double *gram_weights(uint64_t seed)
{
    const double G[9] = {1.0, 0.5, -0.25, 0.5, 4.0, 0.1, -0.25, 0.1, 0.3};
    tsrelu_teacher *t;
    ck_assert_int_eq(tsrelu_teacher_create_gram(3, 5, G, 9, NULL, 0, seed, &t), TSRELU_OK);
    double *V = teacher_V(t);
    tsrelu_teacher_free(t);
    return V;
}

START_TEST(test_gram_deterministic)
{
    double *V1 = gram_weights(42), *V2 = gram_weights(42), *V3 = gram_weights(43);
    ck_assert(memcmp(V1, V2, 15 * sizeof(double)) == 0);
    size_t equal = 0;
    for (size_t i = 0; i < 15; i++)
        equal += V1[i] == V3[i];
    ck_assert_msg(equal == 0, "seeds 42 and 43 share %zu of 15 weights", equal);
    free(V1);
    free(V2);
    free(V3);
}
END_TEST

START_TEST(test_gram_known_values)
{
    double *V = gram_weights(2026);
    ck_assert_msg(hash_doubles(V, 15) == GRAM_HASH, "hash %#llx",
                  (unsigned long long)hash_doubles(V, 15));
    ck_assert(V[0] == GRAM_V0);
    ck_assert(V[1] == GRAM_V1);
    free(V);
}
END_TEST

Suite *init_suite(void)
{
    Suite *s = suite_create("init");
    TCase *tc_core = tcase_create("core");
    tcase_set_timeout(tc_core, 30);
    tcase_add_test(tc_core, test_weak_angles_and_norms);
    tcase_add_test(tc_core, test_weak_counts_honoured);
    tcase_add_test(tc_core, test_weak_balanced_default);
    tcase_add_test(tc_core, test_weak_direction_uniform);
    tcase_add_test(tc_core, test_weak_deterministic);
    tcase_add_test(tc_core, test_weak_known_values);
    tcase_add_test(tc_core, test_gram_reproduced);
    tcase_add_test(tc_core, test_gram_equiangular);
    tcase_add_test(tc_core, test_gram_identity_is_orthogonal);
    tcase_add_test(tc_core, test_gram_deterministic);
    tcase_add_test(tc_core, test_gram_known_values);
    suite_add_tcase(s, tc_core);
    return s;
}

/* Check suite for src/network.c: teacher and student handles (copies,
 * getters, setters), seeded Gaussian students, orthogonal teachers, and the
 * validation of every argument. */
#include "suites.h"

#include <float.h>

#include "tsrelu.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double dot(const double *x, const double *y, size_t d)
{
    double s = 0.0;
    for (size_t c = 0; c < d; c++)
        s += x[c] * y[c];
    return s;
}

static int same_bits(const double *x, const double *y, size_t n)
{
    return memcmp(x, y, n * sizeof(double)) == 0;
}

/* Fill x with distinct, non-trivial values. */
static void fill(double *x, size_t n, double offset)
{
    for (size_t i = 0; i < n; i++)
        x[i] = offset + 0.37 * (double)i - 0.011 * (double)(i * i) + 1.0 / 3.0;
}

/* Fixture: a 3 x 4 student and a 2 x 4 teacher with known weights. */
enum { FM = 3, FK = 2, FD = 4 };
static double fW[FM * FD], fa[FM], fV[FK * FD], fb[FK];
static tsrelu_student *fs;
static tsrelu_teacher *ft;

static void setup(void)
{
    fill(fW, FM * FD, -1.0);
    fill(fV, FK * FD, 0.5);
    fa[0] = 1.5;
    fa[1] = -0.25;
    fa[2] = 2.0;
    fb[0] = -3.0;
    fb[1] = 0.75;
    ck_assert_int_eq(tsrelu_student_create(FM, FD, fW, fa, &fs), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, fV, fb, &ft), TSRELU_OK);
}

static void teardown(void)
{
    tsrelu_student_free(fs);
    tsrelu_teacher_free(ft);
    fs = NULL;
    ft = NULL;
}

/* ------------------------------------------------------------------ core */

START_TEST(test_roundtrip)
{
    double W[FM * FD], a[FM], V[FK * FD], b[FK];
    ck_assert_uint_eq(tsrelu_student_width(fs), FM);
    ck_assert_uint_eq(tsrelu_student_dim(fs), FD);
    ck_assert_uint_eq(tsrelu_teacher_width(ft), FK);
    ck_assert_uint_eq(tsrelu_teacher_dim(ft), FD);
    ck_assert_int_eq(tsrelu_student_weights(fs, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, a, FM), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(ft, V, FK * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_output_weights(ft, b, FK), TSRELU_OK);
    ck_assert_msg(same_bits(W, fW, FM * FD), "student W not returned bit-exactly");
    ck_assert_msg(same_bits(a, fa, FM), "student a not returned bit-exactly");
    ck_assert_msg(same_bits(V, fV, FK * FD), "teacher V not returned bit-exactly");
    ck_assert_msg(same_bits(b, fb, FK), "teacher b not returned bit-exactly");
}
END_TEST

START_TEST(test_inputs_are_copied)
{
    /* changing the caller's arrays after creation changes nothing */
    double W[FM * FD], V[FK * FD];
    fW[0] = 99.0;
    fa[1] = 99.0;
    fV[3] = 99.0;
    fb[0] = 99.0;
    ck_assert_int_eq(tsrelu_student_weights(fs, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(ft, V, FK * FD), TSRELU_OK);
    ck_assert_double_ne(W[0], 99.0);
    ck_assert_double_ne(V[3], 99.0);
    double a[FM], b[FK];
    ck_assert_int_eq(tsrelu_student_output_weights(fs, a, FM), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_output_weights(ft, b, FK), TSRELU_OK);
    ck_assert_double_eq(a[1], -0.25);
    ck_assert_double_eq(b[0], -3.0);
}
END_TEST

START_TEST(test_default_output_weights)
{
    tsrelu_student *s;
    tsrelu_teacher *t;
    ck_assert_int_eq(tsrelu_student_create(FM, FD, fW, NULL, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, fV, NULL, &t), TSRELU_OK);
    double a[FM], b[FK];
    ck_assert_int_eq(tsrelu_student_output_weights(s, a, FM), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_output_weights(t, b, FK), TSRELU_OK);
    for (int i = 0; i < FM; i++)
        ck_assert_double_eq(a[i], 1.0);
    for (int j = 0; j < FK; j++)
        ck_assert_double_eq(b[j], 1.0);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);

    /* the generated networks too */
    ck_assert_int_eq(tsrelu_student_create_gaussian(5, 3, 0.1, 1, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(3, 3, 2.0, 1, &t), TSRELU_OK);
    double a5[5], b3[3];
    ck_assert_int_eq(tsrelu_student_output_weights(s, a5, 5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_output_weights(t, b3, 3), TSRELU_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_double_eq(a5[i], 1.0);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq(b3[j], 1.0);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_copy_is_deep)
{
    tsrelu_student *c;
    ck_assert_int_eq(tsrelu_student_copy(fs, &c), TSRELU_OK);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(c, fs);
    ck_assert_uint_eq(tsrelu_student_width(c), FM);
    ck_assert_uint_eq(tsrelu_student_dim(c), FD);
    double W[FM * FD], a[FM];
    ck_assert_int_eq(tsrelu_student_weights(c, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(c, a, FM), TSRELU_OK);
    ck_assert_msg(same_bits(W, fW, FM * FD) && same_bits(a, fa, FM), "copy differs");

    /* modifying the copy leaves the original alone, and vice versa */
    double W2[FM * FD], a2[FM] = {4, 5, 6};
    fill(W2, FM * FD, 10.0);
    ck_assert_int_eq(tsrelu_student_set_weights(c, W2, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_set_output_weights(c, a2, FM), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(fs, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, a, FM), TSRELU_OK);
    ck_assert_msg(same_bits(W, fW, FM * FD) && same_bits(a, fa, FM),
                  "setting the copy changed the original");
    ck_assert_int_eq(tsrelu_student_set_weights(fs, fW, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(c, W, FM * FD), TSRELU_OK);
    ck_assert_msg(same_bits(W, W2, FM * FD), "the copy shares memory with the original");
    tsrelu_student_free(c);
}
END_TEST

START_TEST(test_setters_roundtrip)
{
    double W2[FM * FD], a2[FM] = {-1.0, 0.0, 1e-300}, W[FM * FD], a[FM];
    fill(W2, FM * FD, 7.0);
    W2[5] = 0.0;
    W2[6] = -1e300;
    ck_assert_int_eq(tsrelu_student_set_weights(fs, W2, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_set_output_weights(fs, a2, FM), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(fs, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, a, FM), TSRELU_OK);
    ck_assert_msg(same_bits(W, W2, FM * FD), "set_weights did not round-trip");
    ck_assert_msg(same_bits(a, a2, FM), "set_output_weights did not round-trip");
}
END_TEST

START_TEST(test_zero_student_rows_allowed)
{
    double W[6] = {0, 0, 0, 1, 2, 3};
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_student_create(2, 3, W, NULL, &s), TSRELU_OK);
    tsrelu_student_free(s);
    /* sigma = 0 is allowed and gives zero weights */
    ck_assert_int_eq(tsrelu_student_create_gaussian(4, 3, 0.0, 5, &s), TSRELU_OK);
    double Z[12];
    ck_assert_int_eq(tsrelu_student_weights(s, Z, 12), TSRELU_OK);
    for (int i = 0; i < 12; i++)
        ck_assert_double_eq(Z[i], 0.0);
    tsrelu_student_free(s);
}
END_TEST

/* ------------------------------------------------------- Gaussian student */

static double *gaussian_weights(size_t m, size_t d, double sigma, uint64_t seed)
{
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_student_create_gaussian(m, d, sigma, seed, &s), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_student_width(s), m);
    ck_assert_uint_eq(tsrelu_student_dim(s), d);
    double *W = malloc(m * d * sizeof(double));
    ck_assert_ptr_nonnull(W);
    ck_assert_int_eq(tsrelu_student_weights(s, W, m * d), TSRELU_OK);
    tsrelu_student_free(s);
    return W;
}

START_TEST(test_gaussian_deterministic)
{
    double *W1 = gaussian_weights(7, 5, 0.3, 42);
    double *W2 = gaussian_weights(7, 5, 0.3, 42);
    double *W3 = gaussian_weights(7, 5, 0.3, 43);
    ck_assert_msg(same_bits(W1, W2, 35), "same seed gave different weights");
    size_t equal = 0;
    for (size_t i = 0; i < 35; i++)
        equal += W1[i] == W3[i];
    ck_assert_msg(equal == 0, "seeds 42 and 43 share %zu of 35 weights", equal);
    /* sigma is a pure scale of the same draws */
    double *W4 = gaussian_weights(7, 5, 0.6, 42);
    for (size_t i = 0; i < 35; i++)
        ck_assert_double_eq_tol(W4[i], 2.0 * W1[i], 1e-15 * fabs(W4[i]) + 1e-300);
    free(W1);
    free(W2);
    free(W3);
    free(W4);
}
END_TEST

START_TEST(test_gaussian_moments)
{
    /* N = m*d = 1e5 draws of N(0, sigma^2). Mean: SE = sigma/sqrt(N).
     * Variance: SE = sigma^2 sqrt(2/(N-1)). Fourth moment / sigma^4 = 3,
     * SE = sqrt(96/N). All within 5 SE; P(fail) < 1e-5 per check. */
    const size_t m = 1000, d = 100, N = m * d;
    const double sigma = 2.5;
    static const uint64_t seeds[] = {1, 2025, UINT64_MAX};
    for (size_t r = 0; r < sizeof seeds / sizeof seeds[0]; r++) {
        double *W = gaussian_weights(m, d, sigma, seeds[r]);
        double mean = 0.0;
        for (size_t i = 0; i < N; i++)
            mean += W[i];
        mean /= (double)N;
        double var = 0.0, m4 = 0.0;
        size_t above = 0;
        for (size_t i = 0; i < N; i++) {
            double z = W[i] - mean;
            var += z * z;
            m4 += z * z * z * z;
            above += W[i] > sigma;
        }
        var /= (double)(N - 1);
        m4 /= (double)N;
        double se_mean = sigma / sqrt((double)N);
        double se_var = sigma * sigma * sqrt(2.0 / (double)(N - 1));
        double kurt = m4 / (sigma * sigma * sigma * sigma), se_kurt = sqrt(96.0 / (double)N);
        ck_assert_msg(fabs(mean) <= 5 * se_mean, "seed %llu: mean %g, 5 SE = %g",
                      (unsigned long long)seeds[r], mean, 5 * se_mean);
        ck_assert_msg(fabs(var - sigma * sigma) <= 5 * se_var,
                      "seed %llu: variance %g, want %g +- %g", (unsigned long long)seeds[r],
                      var, sigma * sigma, 5 * se_var);
        ck_assert_msg(fabs(kurt - 3.0) <= 5 * se_kurt, "seed %llu: kurtosis %g, want 3 +- %g",
                      (unsigned long long)seeds[r], kurt, 5 * se_kurt);
        /* P(X > sigma) = 0.158655; binomial SE */
        double p = 0.15865525393145705, frac = (double)above / (double)N;
        double se_p = sqrt(p * (1 - p) / (double)N);
        ck_assert_msg(fabs(frac - p) <= 5 * se_p, "seed %llu: P(X > sigma) = %g, want %g +- %g",
                      (unsigned long long)seeds[r], frac, p, 5 * se_p);
        free(W);
    }
}
END_TEST

/* ------------------------------------------------------ orthogonal teacher */

static double *teacher_weights(size_t k, size_t d, double norm, uint64_t seed)
{
    tsrelu_teacher *t;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(k, d, norm, seed, &t), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_teacher_width(t), k);
    ck_assert_uint_eq(tsrelu_teacher_dim(t), d);
    double *V = malloc(k * d * sizeof(double));
    ck_assert_ptr_nonnull(V);
    ck_assert_int_eq(tsrelu_teacher_weights(t, V, k * d), TSRELU_OK);
    tsrelu_teacher_free(t);
    return V;
}

static void check_orthogonal(const double *V, size_t k, size_t d, double norm)
{
    for (size_t j = 0; j < k; j++) {
        double n = sqrt(dot(V + j * d, V + j * d, d));
        ck_assert_msg(fabs(n - norm) <= 1e-14 * norm, "k=%zu d=%zu: |v_%zu| = %.17g, want %g", k,
                      d, j, n, norm);
        for (size_t l = 0; l < j; l++) {
            double c = dot(V + j * d, V + l * d, d) / (norm * norm);
            ck_assert_msg(fabs(c) <= 1e-14, "k=%zu d=%zu: cos(v_%zu, v_%zu) = %g", k, d, j, l, c);
        }
    }
}

START_TEST(test_orthogonal_teacher)
{
    static const size_t kd[][2] = {{1, 1}, {1, 5}, {2, 2}, {3, 8}, {4, 16}, {16, 16}, {10, 40}};
    static const double norms[] = {1.0, 3.5, 1e-150, 1e150};
    for (size_t i = 0; i < sizeof kd / sizeof kd[0]; i++)
        for (size_t r = 0; r < sizeof norms / sizeof norms[0]; r++) {
            double *V = teacher_weights(kd[i][0], kd[i][1], norms[r], 17 + i);
            check_orthogonal(V, kd[i][0], kd[i][1], norms[r]);
            free(V);
        }
}
END_TEST

START_TEST(test_orthogonal_deterministic)
{
    double *V1 = teacher_weights(4, 9, 2.0, 123);
    double *V2 = teacher_weights(4, 9, 2.0, 123);
    double *V3 = teacher_weights(4, 9, 2.0, 124);
    ck_assert_msg(same_bits(V1, V2, 36), "same seed gave different teachers");
    /* another seed: other directions (no row within 0.999 of the old ones) */
    for (size_t j = 0; j < 4; j++)
        for (size_t l = 0; l < 4; l++) {
            double c = dot(V1 + j * 9, V3 + l * 9, 9) / 4.0;
            ck_assert_msg(fabs(c) < 0.999, "seeds 123/124: rows %zu/%zu have cos %g", j, l, c);
        }
    free(V1);
    free(V2);
    free(V3);
}
END_TEST

START_TEST(test_same_seed_teacher_student_not_aligned)
{
    const size_t k = 3, d = 10, m = 6;
    for (uint64_t seed = 0; seed < 5; seed++) {
        double *V = teacher_weights(k, d, 1.0, seed);
        double *W = gaussian_weights(m, d, 1e-3, seed);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < k; j++) {
                double nw = sqrt(dot(W + i * d, W + i * d, d));
                double c = dot(W + i * d, V + j * d, d) / nw;
                ck_assert_msg(fabs(c) < 0.99, "seed %llu: student %zu and teacher %zu have cos %g",
                              (unsigned long long)seed, i, j, c);
            }
        free(V);
        free(W);
    }
}
END_TEST

START_TEST(test_free_any_order)
{
    tsrelu_student *c1, *c2;
    ck_assert_int_eq(tsrelu_student_copy(fs, &c1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_copy(c1, &c2), TSRELU_OK);
    double L0, L1;
    ck_assert_int_eq(tsrelu_loss(fs, ft, &L0), TSRELU_OK);
    /* free the original first, then the middle copy: the last one lives on */
    tsrelu_student_free(fs);
    fs = NULL;
    tsrelu_student_free(c1);
    ck_assert_int_eq(tsrelu_loss(c2, ft, &L1), TSRELU_OK);
    ck_assert_double_eq(L1, L0);
    double W[FM * FD];
    ck_assert_int_eq(tsrelu_student_weights(c2, W, FM * FD), TSRELU_OK);
    ck_assert_msg(same_bits(W, fW, FM * FD), "copy corrupted after freeing its source");
    /* teacher freed before the student */
    tsrelu_teacher_free(ft);
    ft = NULL;
    tsrelu_student_free(c2);
}
END_TEST

START_TEST(test_free_null)
{
    tsrelu_student_free(NULL);
    tsrelu_teacher_free(NULL);
    ck_assert_uint_eq(tsrelu_student_width(NULL), 0);
    ck_assert_uint_eq(tsrelu_student_dim(NULL), 0);
    ck_assert_uint_eq(tsrelu_teacher_width(NULL), 0);
    ck_assert_uint_eq(tsrelu_teacher_dim(NULL), 0);
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_null_arguments)
{
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    double buf[FM * FD];
    ck_assert_int_eq(tsrelu_student_create(FM, FD, fW, fa, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_create(FM, FD, NULL, fa, &s), TSRELU_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, fV, fb, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, NULL, fb, &t), TSRELU_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(tsrelu_student_create_gaussian(2, 2, 1.0, 1, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 2, 1.0, 1, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_copy(NULL, &s), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_copy(fs, NULL), TSRELU_EINVAL);

    ck_assert_int_eq(tsrelu_student_weights(NULL, buf, FM * FD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_weights(fs, NULL, FM * FD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_output_weights(NULL, buf, FM), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, NULL, FM), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_set_weights(NULL, buf, FM * FD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_set_weights(fs, NULL, FM * FD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_set_output_weights(NULL, buf, FM), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_set_output_weights(fs, NULL, FM), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_weights(NULL, buf, FK * FD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_weights(ft, NULL, FK * FD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_output_weights(NULL, buf, FK), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_output_weights(ft, NULL, FK), TSRELU_EINVAL);
}
END_TEST

START_TEST(test_zero_sizes)
{
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_student_create(0, FD, fW, NULL, &s), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_create(FM, 0, fW, NULL, &s), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create(0, FD, fV, NULL, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create(FK, 0, fV, NULL, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_create_gaussian(0, 3, 1.0, 1, &s), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_create_gaussian(3, 0, 1.0, 1, &s), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(0, 3, 1.0, 1, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(1, 0, 1.0, 1, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(0, 0, 1.0, 1, &t), TSRELU_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_orthogonal_bad_arguments)
{
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(4, 3, 1.0, 1, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(SIZE_MAX, 3, 1.0, 1, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 3, 0.0, 1, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 3, -1.0, 1, &t), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 3, -0.0, 1, &t), TSRELU_EINVAL);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_nonfinite_scalars)
{
    /* A NaN or Inf norm or sigma: TSRELU_ENONFINITE; a negative one (or a
     * zero norm): TSRELU_EINVAL. */
    static const double bad[] = {NAN, INFINITY, -INFINITY};
    tsrelu_teacher *t = NULL;
    tsrelu_student *s = NULL;
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 3, bad[i], 1, &t),
                         TSRELU_ENONFINITE);
        ck_assert_int_eq(tsrelu_student_create_gaussian(2, 3, bad[i], 1, &s),
                         TSRELU_ENONFINITE);
    }
    ck_assert_int_eq(tsrelu_student_create_gaussian(2, 3, -1.0, 1, &s), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_create_gaussian(2, 3, -1e-300, 1, &s), TSRELU_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_nonfinite_arrays)
{
    static const double bad[] = {NAN, INFINITY, -INFINITY};
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    for (size_t i = 0; i < 3; i++) {
        for (size_t pos = 0; pos < FM * FD; pos += 5) {
            double W[FM * FD];
            memcpy(W, fW, sizeof W);
            W[pos] = bad[i];
            ck_assert_int_eq(tsrelu_student_create(FM, FD, W, fa, &s), TSRELU_ENONFINITE);
        }
        double a[FM];
        memcpy(a, fa, sizeof a);
        a[FM - 1] = bad[i];
        ck_assert_int_eq(tsrelu_student_create(FM, FD, fW, a, &s), TSRELU_ENONFINITE);
        double V[FK * FD];
        memcpy(V, fV, sizeof V);
        V[FK * FD - 1] = bad[i];
        ck_assert_int_eq(tsrelu_teacher_create(FK, FD, V, fb, &t), TSRELU_ENONFINITE);
        double b[FK];
        memcpy(b, fb, sizeof b);
        b[1] = bad[i];
        ck_assert_int_eq(tsrelu_teacher_create(FK, FD, fV, b, &t), TSRELU_ENONFINITE);
    }
    ck_assert_ptr_null(s);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_zero_teacher_row)
{
    tsrelu_teacher *t = NULL;
    double V[FK * FD];
    memcpy(V, fV, sizeof V);
    for (int c = 0; c < FD; c++)
        V[FD + c] = 0.0;
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, V, fb, &t), TSRELU_EINVAL);
    /* -0.0 is zero too */
    for (int c = 0; c < FD; c++)
        V[FD + c] = -0.0;
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, V, fb, &t), TSRELU_EINVAL);
    ck_assert_ptr_null(t);
    /* a tiny but non-zero row is a valid neuron */
    V[FD + 2] = 1e-300;
    ck_assert_int_eq(tsrelu_teacher_create(FK, FD, V, fb, &t), TSRELU_OK);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_size_overflow)
{
    /* m*d overflows size_t: rejected before any allocation or read */
    tsrelu_student *s = NULL;
    tsrelu_teacher *t = NULL;
    double W[4] = {1, 2, 3, 4};
    ck_assert_int_eq(tsrelu_student_create(SIZE_MAX / 2, 4, W, NULL, &s), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_student_create(4, SIZE_MAX / 2, W, NULL, &s), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_student_create_gaussian(SIZE_MAX / 2, 4, 1.0, 1, &s),
                     TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_teacher_create(SIZE_MAX / 2, 4, W, NULL, &t), TSRELU_ENOMEM);
    /* m*d wraps around to a small number: 4 (2^62 + 1) = 2^64 + 4 */
    size_t wrap = SIZE_MAX / 4 + 2;
    ck_assert_int_eq(tsrelu_student_create(wrap, 4, W, NULL, &s), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_student_create_gaussian(wrap, 4, 1.0, 1, &s), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_teacher_create(wrap, 4, W, NULL, &t), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_teacher_create(4, wrap, W, NULL, &t), TSRELU_ENOMEM);
    /* m*d fits but m*d*sizeof(double) does not */
    ck_assert_int_eq(tsrelu_student_create(SIZE_MAX / 16, 4, W, NULL, &s), TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_student_create_gaussian(SIZE_MAX / 16, 4, 1.0, 1, &s),
                     TSRELU_ENOMEM);
    ck_assert_int_eq(tsrelu_teacher_create(SIZE_MAX / 16, 4, W, NULL, &t), TSRELU_ENOMEM);
    ck_assert_ptr_null(s);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_wrong_lengths)
{
    static const int delta[] = {-1, 1};
    double buf[FM * FD + 1];
    for (size_t i = 0; i < 2; i++) {
        int dl = delta[i];
        ck_assert_int_eq(tsrelu_student_weights(fs, buf, (size_t)(FM * FD + dl)), TSRELU_ELENGTH);
        ck_assert_int_eq(tsrelu_student_output_weights(fs, buf, (size_t)(FM + dl)),
                         TSRELU_ELENGTH);
        ck_assert_int_eq(tsrelu_teacher_weights(ft, buf, (size_t)(FK * FD + dl)),
                         TSRELU_ELENGTH);
        ck_assert_int_eq(tsrelu_teacher_output_weights(ft, buf, (size_t)(FK + dl)),
                         TSRELU_ELENGTH);
        fill(buf, FM * FD + 1, 3.0);
        ck_assert_int_eq(tsrelu_student_set_weights(fs, buf, (size_t)(FM * FD + dl)),
                         TSRELU_ELENGTH);
        ck_assert_int_eq(tsrelu_student_set_output_weights(fs, buf, (size_t)(FM + dl)),
                         TSRELU_ELENGTH);
    }
    /* lengths that would be right for the transposed or the other network */
    ck_assert_int_eq(tsrelu_student_weights(fs, buf, 0), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, buf, FD), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_teacher_output_weights(ft, buf, FD), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_student_set_weights(fs, buf, SIZE_MAX), TSRELU_ELENGTH);

    /* the failed setters left the student unchanged */
    double W[FM * FD], a[FM];
    ck_assert_int_eq(tsrelu_student_weights(fs, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, a, FM), TSRELU_OK);
    ck_assert_msg(same_bits(W, fW, FM * FD), "a rejected set_weights changed W");
    ck_assert_msg(same_bits(a, fa, FM), "a rejected set_output_weights changed a");
}
END_TEST

START_TEST(test_setters_nonfinite_leave_unchanged)
{
    static const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        double W2[FM * FD], a2[FM] = {9.0, 8.0, 7.0};
        fill(W2, FM * FD, 5.0);
        W2[FM * FD - 1] = bad[i]; /* the good prefix must not be written either */
        a2[2] = bad[i];
        ck_assert_int_eq(tsrelu_student_set_weights(fs, W2, FM * FD), TSRELU_ENONFINITE);
        ck_assert_int_eq(tsrelu_student_set_output_weights(fs, a2, FM), TSRELU_ENONFINITE);
    }
    double W[FM * FD], a[FM];
    ck_assert_int_eq(tsrelu_student_weights(fs, W, FM * FD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(fs, a, FM), TSRELU_OK);
    ck_assert_msg(same_bits(W, fW, FM * FD), "a rejected set_weights changed W");
    ck_assert_msg(same_bits(a, fa, FM), "a rejected set_output_weights changed a");
}
END_TEST


START_TEST(test_gaussian_sigma_overflow)
{
    tsrelu_student *s = (tsrelu_student *)1;
    ck_assert_int_eq(tsrelu_student_create_gaussian(2, 3, DBL_MAX, 7, &s), TSRELU_ENONFINITE);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "overflow"));
    /* a large sigma whose draws stay finite is accepted */
    ck_assert_int_eq(tsrelu_student_create_gaussian(2, 3, 1e300, 7, &s), TSRELU_OK);
    tsrelu_student_free(s);
}
END_TEST


/* Rows of finite entries whose norm overflows are refused at creation, as
 * tsrelu_student_create refuses them (issue 11, item 9); the message names
 * sigma and the first such row. */
START_TEST(test_gaussian_row_norm_overflow)
{
    tsrelu_student *s = (tsrelu_student *)1;
    ck_assert_int_eq(tsrelu_student_create_gaussian(4, 400, 2e307, 3, &s), TSRELU_ENONFINITE);
    ck_assert_ptr_null(s);
    ck_assert_str_eq(tsrelu_last_error(),
                     "tsrelu_student_create_gaussian: sigma=2e+307: the norm of row 0 overflows");

    /* W = sigma z with the same z for every sigma: put the overflow
     * threshold between the largest and second largest row norm of z. */
    enum { M = 4, D = 4 };
    double z[M * D], n[M];
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1.0, 1, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(s, z, M * D), TSRELU_OK);
    tsrelu_student_free(s);
    size_t big = 0, second = 0;
    for (size_t i = 0; i < M; i++) {
        n[i] = sqrt(dot(z + i * D, z + i * D, D));
        if (n[i] > n[big])
            big = i;
    }
    second = big == 0 ? 1 : 0;
    for (size_t i = 0; i < M; i++)
        if (i != big && n[i] > n[second])
            second = i;
    ck_assert_uint_gt(big, 0); /* the row named is not simply the first */
    ck_assert_double_gt(n[big], 1.01 * n[second]);
    double sigma = DBL_MAX / sqrt(n[big] * n[second]);
    for (size_t c = 0; c < M * D; c++) /* entries stay finite: not SG-7 */
        ck_assert_double_lt(fabs(z[c]), DBL_MAX / sigma);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, sigma, 1, &s), TSRELU_ENONFINITE);
    ck_assert_ptr_null(s);
    char want[128];
    snprintf(want, sizeof want,
             "tsrelu_student_create_gaussian: sigma=%g: the norm of row %zu overflows", sigma, big);
    ck_assert_str_eq(tsrelu_last_error(), want);
    /* just below the threshold every row norm is finite */
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 0.999 * DBL_MAX / n[big], 1, &s),
                     TSRELU_OK);
    tsrelu_student_free(s);
}
END_TEST

START_TEST(test_row_norm_overflow)
{
    /* finite entries whose row norm overflows: every angle would be wrong */
    const double big[4] = {DBL_MAX, DBL_MAX, 1.0, 0.0};
    tsrelu_teacher *t = (tsrelu_teacher *)1;
    tsrelu_student *s = (tsrelu_student *)1;
    ck_assert_int_eq(tsrelu_teacher_create(2, 2, big, NULL, &t), TSRELU_ENONFINITE);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "neuron 0"));
    ck_assert_int_eq(tsrelu_student_create(2, 2, big, NULL, &s), TSRELU_ENONFINITE);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "row 0"));
    const double ok[4] = {1.0, 0.0, 0.0, 1.0};
    ck_assert_int_eq(tsrelu_student_create(2, 2, ok, NULL, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_set_weights(s, big, 4), TSRELU_ENONFINITE);
    double W[4];
    ck_assert_int_eq(tsrelu_student_weights(s, W, 4), TSRELU_OK);
    ck_assert(memcmp(W, ok, sizeof W) == 0); /* unchanged */
    tsrelu_student_free(s);
}
END_TEST

Suite *network_suite(void)
{
    Suite *s = suite_create("network");

    TCase *tc_core = tcase_create("core");
    tcase_add_checked_fixture(tc_core, setup, teardown);
    tcase_add_test(tc_core, test_roundtrip);
    tcase_add_test(tc_core, test_inputs_are_copied);
    tcase_add_test(tc_core, test_default_output_weights);
    tcase_add_test(tc_core, test_copy_is_deep);
    tcase_add_test(tc_core, test_setters_roundtrip);
    tcase_add_test(tc_core, test_zero_student_rows_allowed);
    tcase_add_test(tc_core, test_gaussian_deterministic);
    tcase_add_test(tc_core, test_gaussian_moments);
    tcase_add_test(tc_core, test_orthogonal_teacher);
    tcase_add_test(tc_core, test_orthogonal_deterministic);
    tcase_add_test(tc_core, test_same_seed_teacher_student_not_aligned);
    tcase_add_test(tc_core, test_free_any_order);
    tcase_add_test(tc_core, test_free_null);
    suite_add_tcase(s, tc_core);

    TCase *tc_limits = tcase_create("limits");
    tcase_add_checked_fixture(tc_limits, setup, teardown);
    tcase_add_test(tc_limits, test_null_arguments);
    tcase_add_test(tc_limits, test_gaussian_sigma_overflow);
    tcase_add_test(tc_limits, test_row_norm_overflow);
    tcase_add_test(tc_limits, test_gaussian_row_norm_overflow);
    tcase_add_test(tc_limits, test_zero_sizes);
    tcase_add_test(tc_limits, test_orthogonal_bad_arguments);
    tcase_add_test(tc_limits, test_nonfinite_scalars);
    tcase_add_test(tc_limits, test_nonfinite_arrays);
    tcase_add_test(tc_limits, test_zero_teacher_row);
    tcase_add_test(tc_limits, test_size_overflow);
    tcase_add_test(tc_limits, test_wrong_lengths);
    tcase_add_test(tc_limits, test_setters_nonfinite_leave_unchanged);
    suite_add_tcase(s, tc_limits);

    return s;
}

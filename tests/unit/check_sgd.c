/* Check suite for src/sgd.c: the sampled gradient is unbiased (Monte Carlo
 * against the closed form, 5 standard errors), a huge batch tracks exact GD
 * within its measured noise, finite-set loss and gradient equal a plain
 * loop, streams are bit-identical across thread counts and across a
 * save/load resume, old (format 1) checkpoints load, bad input gets the
 * exact status. */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include "suites.h"
#include "fixtures.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsrelu.h"
#include "rng.h"

#define M 5
#define K 2
#define D 6
#define MD (M * D)
#define P (MD + M) /* gradient components with the output weights trained */

static tsrelu_gd *make_gd(double sigma, double eta, int train_a)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 3, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, sigma, 4, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, eta, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, train_a), TSRELU_OK);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    return gd;
}

static void weights(const tsrelu_gd *gd, double *W)
{
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W, MD), TSRELU_OK);
}

/* ---------------- the normal generator ---------------- */

/* 4e6 ziggurat variates: mean, variance, fourth moment and the two tails
 * P(|x| > 3), P(|x| > 4) each within 5 standard errors of N(0, 1) (each
 * statistic is a mean of 4e6 i.i.d. terms: standardised errors close to
 * N(0,1); 5 SE fail with probability 6e-7 each). The tables are those of
 * Marsaglia and Tsang: k[0] = 1991057938 in their paper's RNOR. */
START_TEST(ziggurat_is_standard_normal)
{
    enum { N = 4000000 };
    tsrelu__zig z;
    tsrelu__rng r;
    tsrelu__zig_init(&z);
    tsrelu__rng_seed(&r, 99);
    ck_assert_uint_eq(z.k[0], 1991057938u);
    ck_assert_uint_eq(z.k[1], 0);
    double s1 = 0, s2 = 0, s4 = 0, t3 = 0, t4 = 0;
    for (long i = 0; i < N; i++) {
        double x = tsrelu__rng_normal_zig(&r, &z), x2 = x * x;
        s1 += x;
        s2 += x2;
        s4 += x2 * x2;
        t3 += fabs(x) > 3.0;
        t4 += fabs(x) > 4.0;
    }
    const double p3 = 2.6997960632601913e-3, p4 = 6.334248366623993e-5; /* erfc(3/sqrt2), erfc(4/sqrt2) */
    ck_assert_msg(fabs(s1 / N) <= 5.0 * sqrt(1.0 / N), "mean %g", s1 / N);
    ck_assert_msg(fabs(s2 / N - 1.0) <= 5.0 * sqrt(2.0 / N), "variance %g", s2 / N);
    ck_assert_msg(fabs(s4 / N - 3.0) <= 5.0 * sqrt(96.0 / N), "fourth moment %g", s4 / N);
    ck_assert_msg(fabs(t3 / N - p3) <= 5.0 * sqrt(p3 * (1 - p3) / N), "P(|x|>3) %g", t3 / N);
    ck_assert_msg(fabs(t4 / N - p4) <= 5.0 * sqrt(p4 * (1 - p4) / N), "P(|x|>4) %g", t4 / N);
}
END_TEST

/* ---------------- unbiasedness ---------------- */

/* A step rule that records the sampled gradient and keeps the iterate, so
 * that consecutive steps draw independent batches at one point. */
typedef struct {
    double sum[P], sumsq[P];
    double last[P];
    long n;
} moments;

static int accumulate(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga, void *ud)
{
    moments *mo = ud;
    (void)gd;
    (void)W;
    (void)a;
    for (int i = 0; i < P; i++) {
        double g = i < MD ? gW[i] : ga[i - MD];
        mo->last[i] = g;
        mo->sum[i] += g;
        mo->sumsq[i] += g * g;
    }
    mo->n++;
    return 0;
}

/* 4000 batches of 16: each component's mean is within 5 standard errors of
 * the closed form. Under the null the standardised error is close to
 * N(0,1) (t with 3999 degrees of freedom), so one component fails with
 * probability 5.7e-7 and one of the 35 with at most 2e-5 (union bound). */
START_TEST(gradient_is_unbiased)
{
    enum { N = 4000, B = 16 };
    tsrelu_gd *gd = make_gd(0.7, 0.1, 1);
    double g[P];
    ck_assert_int_eq(tsrelu_gradient(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), g, MD, g + MD, M), TSRELU_OK);
    moments mo = {{0}, {0}, {0}, 0};
    ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, 0, 11, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, accumulate, &mo), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, N), TSRELU_OK);
    ck_assert_int_eq(mo.n, N);
    double gnorm = 0.0, se_max = 0.0;
    for (int i = 0; i < P; i++) {
        double mean = mo.sum[i] / N, var = (mo.sumsq[i] - N * mean * mean) / (N - 1), se = sqrt(var / N);
        ck_assert_msg(fabs(mean - g[i]) <= 5.0 * se, "component %d: mean %.6g, closed form %.6g, se %.3g", i,
                      mean, g[i], se);
        gnorm += g[i] * g[i];
        se_max = fmax(se_max, se);
    }
    /* the test has power: a gradient off by 5% would be seen */
    ck_assert_msg(5.0 * se_max < 0.05 * sqrt(gnorm), "se %g too large for |g| %g", se_max, sqrt(gnorm));
    tsrelu_gd_free(gd);
}
END_TEST

/* The batch loss is unbiased for the population loss (same 5-SE rule). */
typedef struct {
    double sum, sumsq;
    long n;
} scalar_moments;

static int loss_observer(const tsrelu_gd *gd, void *ud)
{
    scalar_moments *mo = ud;
    double L;
    if (tsrelu_gd_sample_loss(gd, &L) == TSRELU_OK) {
        mo->sum += L;
        mo->sumsq += L * L;
        mo->n++;
    }
    return 0;
}

static int keep(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga, void *ud)
{
    (void)gd, (void)W, (void)gW, (void)a, (void)ga, (void)ud;
    return 0;
}

START_TEST(batch_loss_is_unbiased)
{
    enum { N = 4000, B = 8 };
    tsrelu_gd *gd = make_gd(0.7, 0.1, 0);
    double L;
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L), TSRELU_OK);
    scalar_moments mo = {0, 0, 0};
    ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, 0, 12, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_sample_loss(gd, &L), TSRELU_EINVAL); /* no step yet */
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, keep, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, loss_observer, &mo, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, N), TSRELU_OK);
    ck_assert_int_eq(mo.n, N);
    double mean = mo.sum / N, se = sqrt((mo.sumsq - N * mean * mean) / (N - 1) / N);
    ck_assert_msg(fabs(mean - L) <= 5.0 * se, "mean batch loss %.6g, population %.6g, se %.3g", mean, L, se);
    ck_assert(5.0 * se < 0.1 * L);
    tsrelu_gd_free(gd);
}
END_TEST

/* ---------------- a huge batch tracks exact GD ---------------- */

/* R runs of T steps with B = 2048 from one start. With S the unbiased
 * estimate of the runs' spread (sum |W_r - mean W|^2 / (R - 1)), the mean
 * run's squared deviation from exact GD, |mean W - W_gd|^2, is S/R times
 * about an F(30, 330) variate when the noise is unbiased (second-order
 * drift of the noise is far below it at this batch), which exceeds 25
 * with probability below 1e-40. A biased gradient moves every run the same
 * way: the deviation grows, the spread does not. The noise itself must be
 * small: every run within 2% of the distance GD travelled. */
START_TEST(huge_batch_tracks_exact)
{
    enum { R = 12, T = 150, B = 2048 };
    tsrelu_gd *ref = make_gd(0.3, 0.1, 0);
    double W0[MD], Wg[MD], Wr[R][MD], mean[MD] = {0}, spread = 0.0, travel = 0.0;
    weights(ref, W0);
    ck_assert_int_eq(tsrelu_gd_run(ref, T), TSRELU_OK);
    weights(ref, Wg);
    for (int i = 0; i < MD; i++)
        travel += (Wg[i] - W0[i]) * (Wg[i] - W0[i]);
    for (int r = 0; r < R; r++) {
        tsrelu_gd *gd = make_gd(0.3, 0.1, 0);
        double Dr = 0.0;
        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, 0, 1000 + (uint64_t)r, 0), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(gd, T), TSRELU_OK);
        weights(gd, Wr[r]);
        for (int i = 0; i < MD; i++) {
            mean[i] += Wr[r][i] / R;
            Dr += (Wr[r][i] - Wg[i]) * (Wr[r][i] - Wg[i]);
        }
        ck_assert_msg(sqrt(Dr) < 0.02 * sqrt(travel), "run %d: deviation %g, GD travelled %g", r, sqrt(Dr),
                      sqrt(travel));
        tsrelu_gd_free(gd);
    }
    double dev = 0.0;
    for (int r = 0; r < R; r++)
        for (int i = 0; i < MD; i++)
            spread += (Wr[r][i] - mean[i]) * (Wr[r][i] - mean[i]) / (R - 1);
    for (int i = 0; i < MD; i++)
        dev += (mean[i] - Wg[i]) * (mean[i] - Wg[i]);
    ck_assert_msg(dev <= 25.0 * spread / R, "mean-run deviation^2 %g, spread/R %g", dev, spread / R);
    tsrelu_gd_free(ref);
}
END_TEST

/* ---------------- finite sets against a plain loop ---------------- */

static double relu(double x)
{
    return x > 0.0 ? x : 0.0;
}

/* Loss and gradient (W and a) of the rows `rows` of X, by the definition. */
static double plain(const tsrelu_gd *gd, const double *X, size_t n, double *gW, double *ga)
{
    double W[MD], a[M], V[K * D], b[K], loss = 0.0;
    weights(gd, W);
    ck_assert_int_eq(tsrelu_student_output_weights(tsrelu_gd_student(gd), a, M), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(tsrelu_gd_teacher(gd), V, K * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_output_weights(tsrelu_gd_teacher(gd), b, K), TSRELU_OK);
    memset(gW, 0, MD * sizeof(double));
    memset(ga, 0, M * sizeof(double));
    for (size_t s = 0; s < n; s++) {
        const double *x = X + s * D;
        double z[M], f = 0.0, y = 0.0;
        for (int i = 0; i < M; i++) {
            z[i] = 0.0;
            for (int c = 0; c < D; c++)
                z[i] += W[i * D + c] * x[c];
            f += a[i] * relu(z[i]);
        }
        for (int j = 0; j < K; j++) {
            double u = 0.0;
            for (int c = 0; c < D; c++)
                u += V[j * D + c] * x[c];
            y += b[j] * relu(u);
        }
        double r = f - y;
        loss += r * r / (2.0 * n);
        for (int i = 0; i < M; i++) {
            ga[i] += r * relu(z[i]) / n;
            if (z[i] > 0.0)
                for (int c = 0; c < D; c++)
                    gW[i * D + c] += r * a[i] * x[c] / n;
        }
    }
    return loss;
}

static void gaussian_rows(double *X, size_t n, unsigned seed)
{
    /* any fixed inputs will do: a small LCG, Box-Muller */
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (size_t i = 0; i < n * D; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double u = ((x >> 11) + 0.5) * 0x1.0p-53;
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        double v = ((x >> 11) + 0.5) * 0x1.0p-53;
        X[i] = sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
    }
}

START_TEST(finite_set_matches_plain_loop)
{
    enum { N = 57 };
    double X[N * D], gW[MD], ga[M];
    gaussian_rows(X, N, 1);
    tsrelu_gd *gd = make_gd(0.5, 0.1, 1);
    ck_assert_int_eq(tsrelu_gd_set_training_set(gd, X, N * D, N, 9, 0), TSRELU_OK);
    size_t bs, nt;
    ck_assert_int_eq(tsrelu_gd_sampling(gd, &bs, &nt), TSRELU_OK);
    ck_assert_uint_eq(bs, N);
    ck_assert_uint_eq(nt, N);
    double want = plain(gd, X, N, gW, ga), L, Lb;
    ck_assert_int_eq(tsrelu_gd_training_loss(gd, &L), TSRELU_OK);
    ck_assert_double_eq_tol(L, want, 1e-13 * want);
    moments mo = {{0}, {0}, {0}, 0};
    ck_assert_int_eq(tsrelu_gd_set_step(gd, accumulate, &mo), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_sample_loss(gd, &Lb), TSRELU_OK);
    ck_assert_double_eq_tol(Lb, want, 1e-13 * want);
    double gmax = 0.0;
    for (int i = 0; i < P; i++)
        gmax = fmax(gmax, fabs(i < MD ? gW[i] : ga[i - MD]));
    for (int i = 0; i < P; i++)
        ck_assert_double_eq_tol(mo.last[i], i < MD ? gW[i] : ga[i - MD], 1e-13 * gmax);
    /* full batch is deterministic: the same step twice gives the same gradient */
    double first[P];
    memcpy(first, mo.last, sizeof first);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert(memcmp(first, mo.last, sizeof first) == 0);
    tsrelu_gd_free(gd);
}
END_TEST

/* Minibatches without replacement from a finite set average to the
 * training-set gradient (5 SE per component, as above). */
START_TEST(minibatches_average_to_full_batch)
{
    enum { N = 40, B = 7, STEPS = 6000 };
    double X[N * D], gW[MD], ga[M];
    gaussian_rows(X, N, 2);
    tsrelu_gd *gd = make_gd(0.5, 0.1, 1);
    ck_assert_int_eq(tsrelu_gd_set_training_set(gd, X, N * D, B, 5, 0), TSRELU_OK);
    plain(gd, X, N, gW, ga);
    moments mo = {{0}, {0}, {0}, 0};
    ck_assert_int_eq(tsrelu_gd_set_step(gd, accumulate, &mo), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, STEPS), TSRELU_OK);
    for (int i = 0; i < P; i++) {
        double mean = mo.sum[i] / STEPS, se = sqrt((mo.sumsq[i] - STEPS * mean * mean) / (STEPS - 1) / STEPS);
        double want = i < MD ? gW[i] : ga[i - MD];
        ck_assert_msg(fabs(mean - want) <= 5.0 * se + 1e-14, "component %d: %g vs %g (se %g)", i, mean, want, se);
    }
    tsrelu_gd_free(gd);
}
END_TEST

/* ---------------- determinism: threads and resume ---------------- */

/* Sampler c of the three kinds: online (B = 3: a batch of 18 normals), a
 * generated set with minibatches, the caller's set. */
static void set_kind(tsrelu_gd *gd, int c)
{
    static double X[30 * D];
    gaussian_rows(X, 30, 3);
    if (c == 0)
        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, 3, 0, 21, 0), TSRELU_OK);
    else if (c == 1)
        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, 9, 100, 22, 0), TSRELU_OK);
    else
        ck_assert_int_eq(tsrelu_gd_set_training_set(gd, X, 30 * D, 4, 23, 0), TSRELU_OK);
}

START_TEST(threads_match_lone_runs)
{
    enum { RUNS = 6, STEPS = 400 };
    tsrelu_batch *b[2];
    for (int h = 0; h < 2; h++) {
        ck_assert_int_eq(tsrelu_batch_create(&b[h]), TSRELU_OK);
        for (int r = 0; r < RUNS; r++) {
            tsrelu_gd *gd = make_gd(0.3, 0.05, r % 2);
            ck_assert_int_eq(tsrelu_batch_add(b[h], tsrelu_gd_teacher(gd), tsrelu_gd_student(gd), 0.05, STEPS, NULL),
                             TSRELU_OK);
            ck_assert_int_eq(tsrelu_gd_set_train_output(tsrelu_batch_state(b[h], r), r % 2), TSRELU_OK);
            set_kind(tsrelu_batch_state(b[h], r), r % 3);
            tsrelu_gd_free(gd);
        }
        ck_assert_int_eq(tsrelu_batch_set_threads(b[h], h + 1), TSRELU_OK);
        ck_assert_int_eq(tsrelu_batch_run(b[h]), TSRELU_OK);
    }
    for (int r = 0; r < RUNS; r++) {
        tsrelu_gd *gd = make_gd(0.3, 0.05, r % 2);
        set_kind(gd, r % 3);
        ck_assert_int_eq(tsrelu_gd_run(gd, STEPS), TSRELU_OK);
        double W[MD], W1[MD], W2[MD];
        weights(gd, W);
        weights(tsrelu_batch_state(b[0], r), W1);
        weights(tsrelu_batch_state(b[1], r), W2);
        ck_assert_msg(memcmp(W, W1, sizeof W) == 0, "run %d: 1-thread batch differs", r);
        ck_assert_msg(memcmp(W, W2, sizeof W) == 0, "run %d: 2-thread batch differs", r);
        tsrelu_gd_free(gd);
    }
    tsrelu_batch_free(b[0]);
    tsrelu_batch_free(b[1]);
}
END_TEST

static uint64_t file_version(const char *path)
{
    unsigned char h[16];
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fread(h, 1, 16, f), 16);
    fclose(f);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)h[8 + i] << (8 * i);
    return v;
}

START_TEST(resume_is_bit_identical)
{
    enum { STEPS = 300, CUT = 137 };
    char dir[128], path[192];
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_sgd");
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    for (int c = 0; c < 3; c++) {
        tsrelu_gd *full = make_gd(0.3, 0.05, 1), *half = make_gd(0.3, 0.05, 1), *loaded;
        set_kind(full, c);
        set_kind(half, c);
        ck_assert_int_eq(tsrelu_gd_run(full, STEPS), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(half, CUT), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_save(half, path), TSRELU_OK);
        ck_assert_uint_eq(file_version(path), 2);
        tsrelu_gd_free(half);
        ck_assert_int_eq(tsrelu_gd_load(path, &loaded), TSRELU_OK);
        size_t bs, nt;
        ck_assert_int_eq(tsrelu_gd_sampling(loaded, &bs, &nt), TSRELU_OK);
        ck_assert_uint_eq(bs, c == 0 ? 3 : c == 1 ? 9 : 4);
        ck_assert_uint_eq(nt, c == 0 ? 0 : c == 1 ? 100 : 30);
        ck_assert_int_eq(tsrelu_gd_run(loaded, STEPS - CUT), TSRELU_OK);
        double W[MD], Wl[MD], Lf, Ll;
        weights(full, W);
        weights(loaded, Wl);
        ck_assert_msg(memcmp(W, Wl, sizeof W) == 0, "kind %d: the resumed run differs", c);
        ck_assert_int_eq(tsrelu_gd_sample_loss(full, &Lf), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_sample_loss(loaded, &Ll), TSRELU_OK);
        ck_assert(Lf == Ll);
        tsrelu_gd_free(full);
        tsrelu_gd_free(loaded);
    }
    /* an exact state still writes format 1 */
    tsrelu_gd *gd = make_gd(0.3, 0.05, 0);
    ck_assert_int_eq(tsrelu_gd_save(gd, path), TSRELU_OK);
    ck_assert_uint_eq(file_version(path), 1);
    set_kind(gd, 0);
    ck_assert_int_eq(tsrelu_gd_set_sampling(gd, 0, 0, 0, 0), TSRELU_OK); /* back to exact */
    ck_assert_int_eq(tsrelu_gd_save(gd, path), TSRELU_OK);
    ck_assert_uint_eq(file_version(path), 1);
    tsrelu_gd_free(gd);
    fixture_rmtree(dir);
}
END_TEST

/* tests/data/checkpoints/v1_exact_k2m3d4.ckpt was written by libtsrelu
 * 1.1.0: orthogonal teacher (k=2, d=4, seed 1), Gaussian student (m=3,
 * sigma=0.1, seed 2), eta=0.1, a linear observer every 10, 50 steps. It
 * loads, saves back to the same bytes, and runs on as the uninterrupted run
 * (to rounding: it was written by another build). */
START_TEST(format1_checkpoint_loads)
{
    const char *data = getenv("TSRELU_TEST_DATA");
    char path[512], dir[128], again[192];
    snprintf(path, sizeof path, "%s/../checkpoints/v1_exact_k2m3d4.ckpt", data ? data : "tests/data/reference");
    tsrelu_gd *gd, *ref;
    ck_assert_int_eq(tsrelu_gd_load(path, &gd), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 50);
    size_t bs = 9;
    ck_assert_int_eq(tsrelu_gd_sampling(gd, &bs, NULL), TSRELU_OK);
    ck_assert_uint_eq(bs, 0);
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_sgd");
    snprintf(again, sizeof again, "%s/again.ckpt", dir);
    ck_assert_int_eq(tsrelu_gd_save(gd, again), TSRELU_OK);
    FILE *f1 = fopen(path, "rb"), *f2 = fopen(again, "rb");
    ck_assert_ptr_nonnull(f1);
    ck_assert_ptr_nonnull(f2);
    unsigned char b1[4096], b2[4096];
    size_t n1 = fread(b1, 1, sizeof b1, f1), n2 = fread(b2, 1, sizeof b2, f2);
    fclose(f1);
    fclose(f2);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(b1, b2, n1) == 0);
    fixture_rmtree(dir);
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 4, 1.0, 1, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(3, 4, 0.1, 2, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &ref), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(ref, 100), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_OK);
    double W[12], Wr[12];
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W, 12), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(ref), Wr, 12), TSRELU_OK);
    /* the same trajectory up to the rounding of the build that wrote the
     * file (1.2's kernels may round differently from 1.1.0's): bit-identity
     * is promised for one build only (docs/checkpoints.md) */
    for (int i = 0; i < 12; i++)
        ck_assert_double_eq_tol(W[i], Wr[i], 1e-12);
    tsrelu_gd_free(gd);
    tsrelu_gd_free(ref);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

/* ---------------- the exact loss is what the run reports ---------------- */

static int exact_observer(const tsrelu_gd *gd, void *ud)
{
    double L, Lp;
    int *bad = ud;
    if (tsrelu_gd_loss(gd, &L) != TSRELU_OK || tsrelu_loss(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &Lp) != TSRELU_OK ||
        L != Lp)
        (*bad)++;
    return 0;
}

START_TEST(observers_see_the_population_loss)
{
    tsrelu_gd *gd = make_gd(0.3, 0.05, 0);
    int bad = 0;
    set_kind(gd, 0);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, exact_observer, &bad, TSRELU_SCHEDULE_LOG, 5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 500), TSRELU_OK);
    ck_assert_int_eq(bad, 0);
    /* the loss tolerance is tested on the population loss */
    double L;
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.999 * L, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100000), TSRELU_CONVERGED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_LOSS_TOL);
    double L2;
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L2), TSRELU_OK);
    ck_assert(L2 <= 0.999 * L);
    tsrelu_gd_free(gd);
}
END_TEST

/* ---------------- limits ---------------- */

static void expect(tsrelu_status got, tsrelu_status want, const char *words)
{
    ck_assert_int_eq(got, want);
    ck_assert_msg(strstr(tsrelu_last_error(), words) != NULL, "message '%s' lacks '%s'", tsrelu_last_error(), words);
}

static int try_set(const tsrelu_gd *gd, void *ud)
{
    *(tsrelu_status *)ud = tsrelu_gd_set_sampling((tsrelu_gd *)gd, 4, 0, 1, 0);
    return 0;
}

static int refuse(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga, void *ud)
{
    (void)gd, (void)W, (void)gW, (void)a, (void)ga, (void)ud;
    return 1;
}

START_TEST(limits)
{
    tsrelu_gd *gd = make_gd(0.3, 0.05, 0);
    double X[10 * D], L;
    gaussian_rows(X, 10, 4);
    size_t bs;
    expect(tsrelu_gd_set_sampling(NULL, 4, 0, 1, 0), TSRELU_EINVAL, "gd is NULL");
    expect(tsrelu_gd_set_sampling(gd, 4, 0, 1, 2), TSRELU_EINVAL, "flags=2");
    expect(tsrelu_gd_set_sampling(gd, 5, 4, 1, 0), TSRELU_EINVAL, "batch=5 exceeds n_train=4");
    expect(tsrelu_gd_set_sampling(gd, 0, 4, 1, 0), TSRELU_EINVAL, "batch=0");
    expect(tsrelu_gd_set_sampling(gd, (size_t)1 << 40, 0, 1, 0), TSRELU_EINVAL, "BLAS int range");
    expect(tsrelu_gd_set_sampling(gd, 1, (size_t)1 << 62, 1, 0), TSRELU_ENOMEM, "rows*d");
    ck_assert_int_eq(tsrelu_gd_sampling(gd, &bs, NULL), TSRELU_OK);
    ck_assert_uint_eq(bs, 0); /* failures changed nothing */
    expect(tsrelu_gd_set_training_set(gd, NULL, 10 * D, 2, 1, 0), TSRELU_EINVAL, "X is NULL");
    expect(tsrelu_gd_set_training_set(gd, X, 10 * D - 1, 2, 1, 0), TSRELU_ELENGTH, "X_len=59");
    expect(tsrelu_gd_set_training_set(gd, X, 0, 2, 1, 0), TSRELU_ELENGTH, "X_len=0");
    expect(tsrelu_gd_set_training_set(gd, X, 10 * D, 11, 1, 0), TSRELU_EINVAL, "batch=11 must be in 1..n=10");
    expect(tsrelu_gd_set_training_set(gd, X, 10 * D, 0, 1, 0), TSRELU_EINVAL, "batch=0");
    expect(tsrelu_gd_set_training_set(gd, X, 10 * D, 2, 1, 1), TSRELU_EINVAL, "flags=1");
    X[17] = NAN;
    expect(tsrelu_gd_set_training_set(gd, X, 10 * D, 2, 1, 0), TSRELU_ENONFINITE, "17");
    X[17] = 0.0;
    expect(tsrelu_gd_sampling(NULL, &bs, NULL), TSRELU_EINVAL, "gd is NULL");
    expect(tsrelu_gd_sample_loss(gd, &L), TSRELU_EINVAL, "not sampling");
    expect(tsrelu_gd_sample_loss(gd, NULL), TSRELU_EINVAL, "loss is NULL");
    expect(tsrelu_gd_training_loss(gd, &L), TSRELU_EINVAL, "exact GD");
    expect(tsrelu_gd_training_loss(NULL, &L), TSRELU_EINVAL, "gd is NULL");
    ck_assert_int_eq(tsrelu_gd_set_sampling(gd, 4, 0, 1, 0), TSRELU_OK);
    expect(tsrelu_gd_training_loss(gd, &L), TSRELU_EINVAL, "online sampling");
    /* from the state's own callback: refused */
    tsrelu_status inner = TSRELU_OK;
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, try_set, &inner, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 2), TSRELU_OK);
    ck_assert_int_eq(inner, TSRELU_EBUSY);
    /* a refused sampled step leaves the stream where it was: the next step
     * draws the batch a twin without the refusal draws */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, NULL, NULL, 0, 0), TSRELU_OK);
    tsrelu_gd *twin = make_gd(0.3, 0.05, 0);
    ck_assert_int_eq(tsrelu_gd_set_sampling(twin, 4, 0, 1, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(twin, 2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, refuse, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, NULL, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(twin), TSRELU_OK);
    double W0[MD], W1[MD];
    weights(gd, W0);
    weights(twin, W1);
    ck_assert(memcmp(W0, W1, sizeof W0) == 0);
    tsrelu_gd_free(twin);
    /* a divergent sampled step leaves the state unchanged */
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 1e308), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    weights(gd, W0);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_EDIVERGED);
    weights(gd, W1);
    ck_assert(memcmp(W0, W1, sizeof W0) == 0);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 4);
    tsrelu_gd_free(gd);
}
END_TEST

/* A sampled checkpoint whose sampler words no state can hold is refused. */
static void load_altered(const char *path, unsigned char *p, size_t n, const char *words)
{
    tsrelu_gd *out = (tsrelu_gd *)1;
    fixture_reseal(p, n);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
    expect(tsrelu_gd_load(path, &out), TSRELU_EFORMAT, words);
    ck_assert_ptr_null(out);
}

START_TEST(bad_sampler_in_checkpoint)
{
    char dir[128], path[192];
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_sgd");
    snprintf(path, sizeof path, "%s/s.ckpt", dir);
    tsrelu_gd *gd = make_gd(0.3, 0.05, 0);
    set_kind(gd, 2); /* the caller's set: 13 words, X_len, 30*D doubles at the end */
    ck_assert_int_eq(tsrelu_gd_save(gd, path), TSRELU_OK);
    tsrelu_gd_free(gd);
    FILE *f = fopen(path, "rb");
    static unsigned char buf[8192], bad[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t words = n - 8 * (30 * D + 1 + 13); /* offset of the sampler's first word */
    static const size_t field[] = {0, 1, 12}, value[] = {9, 31, 1}; /* kind, B above n = 30, a flag */
    for (int c = 0; c < 3; c++) {
        memcpy(bad, buf, n);
        fixture_put64(bad + words + 8 * field[c], value[c]);
        load_altered(path, bad, n, "invalid sampling state");
    }
    /* a training-set length that disagrees with the file */
    fixture_put64(buf + words + 8 * 13, 255);
    load_altered(path, buf, n, "inconsistent lengths");
    fixture_rmtree(dir);
}
END_TEST

/* A sampler larger than the machine's memory is refused before anything is
 * allocated, from the setter and from a checkpoint whose words claim it
 * (online, B = INT_MAX: about 2^31 (d + m + k + 1) doubles, 240 GB here). */
START_TEST(sampler_beyond_memory_is_refused)
{
    double need = 8.0 * ((double)INT_MAX * (D + 1 + M + K) + MD + M);
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    ck_assert_msg(need > phys, "this test needs a machine with less than %.3g bytes of memory", need);
    tsrelu_gd *gd = make_gd(0.3, 0.05, 0);
    expect(tsrelu_gd_set_sampling(gd, INT_MAX, 0, 5, 0), TSRELU_ENOMEM, "more than this machine's");
    expect(tsrelu_gd_set_sampling(gd, 4, (size_t)INT_MAX, 5, 0), TSRELU_ENOMEM, "more than this machine's");
    char dir[128], path[192];
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_sgd");
    snprintf(path, sizeof path, "%s/s.ckpt", dir);
    set_kind(gd, 0); /* online, B = 3: 13 sampler words and X_len = 0 at the end */
    ck_assert_int_eq(tsrelu_gd_save(gd, path), TSRELU_OK);
    tsrelu_gd_free(gd);
    FILE *f = fopen(path, "rb");
    static unsigned char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t words = n - 8 * (1 + 13);
    uint64_t batch = 0; /* the batch word, little-endian as fixture_put64 writes it */
    for (int i = 0; i < 8; i++)
        batch |= (uint64_t)buf[words + 8 + i] << (8 * i);
    ck_assert_uint_eq(batch, 3);
    fixture_put64(buf + words + 8, (uint64_t)INT_MAX);
    fixture_reseal(buf, n);
    f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
    tsrelu_gd *out = (tsrelu_gd *)1;
    expect(tsrelu_gd_load(path, &out), TSRELU_ENOMEM, "more than this machine's");
    ck_assert_ptr_null(out);
    fixture_rmtree(dir);
}
END_TEST

Suite *sgd_suite(void)
{
    Suite *s = suite_create("sgd");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, ziggurat_is_standard_normal);
    tcase_add_test(core, gradient_is_unbiased);
    tcase_add_test(core, batch_loss_is_unbiased);
    tcase_add_test(core, huge_batch_tracks_exact);
    tcase_add_test(core, finite_set_matches_plain_loop);
    tcase_add_test(core, minibatches_average_to_full_batch);
    tcase_add_test(core, threads_match_lone_runs);
    tcase_add_test(core, resume_is_bit_identical);
    tcase_add_test(core, format1_checkpoint_loads);
    tcase_add_test(core, observers_see_the_population_loss);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("limits");
    tcase_add_test(lim, limits);
    tcase_add_test(lim, bad_sampler_in_checkpoint);
    tcase_add_test(lim, sampler_beyond_memory_is_refused);
    suite_add_tcase(s, lim);
    return s;
}

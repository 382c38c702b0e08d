/* Initial conditions from the theory (1.1): weak-recovery students (each
 * student at an exact angle from an assigned teacher) and teachers with a
 * prescribed Gram matrix. Both draw from the library's seeded stream
 * (rng.c) and the one random frame / Gram-Schmidt of network.c, and use
 * only +, -, *, / and sqrt on that stream, so that the weights are
 * bit-identical on every IEEE-754 platform for one seed. */
#include "model.h"
#include "kernel.h"
#include "rng.h"
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Its own stream, so that a Gaussian and a weak-recovery student drawn with
 * one seed are not correlated (the teacher stream is network.c's). */
#define WEAK_STREAM 0x7765616b72656321ULL /* "weakrec!" */

/* The largest double below pi/2 (pi/2 itself is not a double), so that
 * (0, pi/2) is exactly 0 < zeta <= HALF_PI. */
#define HALF_PI 1.57079632679489661923

/* cos x and sin x for 0 < x < pi/2 from their Taylor series in nested form:
 * only +, -, *, / in a fixed order, hence the same bits everywhere (libm's
 * sin and cos may differ in the last bit between systems). x^2 <= 2.47, so
 * 13 terms leave a truncation below 1e-20; the rounding error is a few
 * ulps. */
static void portable_cos_sin(double x, double *c, double *s)
{
    double x2 = x * x, cs = 1.0, sn = 1.0;
    for (int n = 13; n >= 1; n--) {
        cs = 1.0 - x2 / (double)((2 * n - 1) * (2 * n)) * cs;
        sn = 1.0 - x2 / (double)((2 * n) * (2 * n + 1)) * sn;
    }
    *c = cs;
    *s = x * sn;
}

/* The assignment: counts[j] consecutive students for teacher j, or, for
 * counts == NULL, student i to teacher i mod k (round-robin, group sizes
 * differing by at most one). */
static tsrelu_status check_counts(const char *fn, size_t m, size_t k, const size_t *counts,
                                  size_t counts_len)
{
    if (!counts)
        return TSRELU_OK;
    if (counts_len != k)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: counts: length %zu given, %zu (the teacher's k) required",
                            fn, counts_len, k);
    size_t sum = 0;
    for (size_t j = 0; j < k; j++) {
        if (counts[j] > m - sum)
            return tsrelu__fail(TSRELU_EINVAL, "%s: counts[0..%zu] add up to more than m=%zu", fn, j, m);
        sum += counts[j];
    }
    if (sum != m)
        return tsrelu__fail(TSRELU_EINVAL, "%s: counts add up to %zu, m=%zu required", fn, sum, m);
    return TSRELU_OK;
}

static void assign(size_t m, size_t k, const size_t *counts, int *tau)
{
    if (!counts) {
        for (size_t i = 0; i < m; i++)
            tau[i] = (int)(i % k);
        return;
    }
    size_t i = 0;
    for (size_t j = 0; j < k; j++)
        for (size_t c = 0; c < counts[j]; c++)
            tau[i++] = (int)j;
}

static tsrelu_status check_weak_args(const char *fn, const tsrelu_teacher *t, size_t m,
                                     const size_t *counts, size_t counts_len, double zeta,
                                     double sigma, const int *tau, size_t tau_len)
{
    if (!t)
        return tsrelu__fail(TSRELU_EINVAL, "%s: teacher is NULL", fn);
    if (m == 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: m=0 must be >= 1", fn);
    if (t->d < 2)
        return tsrelu__fail(TSRELU_EINVAL, "%s: the teacher's d=%zu leaves no direction orthogonal "
                            "to a teacher neuron; d >= 2 required", fn, t->d);
    tsrelu_status st = tsrelu__check_blas(fn, m, t->k, t->d); /* tau holds ints */
    if (st != TSRELU_OK)
        return st;
    if ((st = check_counts(fn, m, t->k, counts, counts_len)) != TSRELU_OK)
        return st;
    if (!isfinite(zeta))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: zeta is %g", fn, zeta);
    if (!(zeta > 0.0 && zeta <= HALF_PI))
        return tsrelu__fail(TSRELU_EINVAL, "%s: zeta=%g must lie in (0, pi/2)", fn, zeta);
    if (!isfinite(sigma))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: sigma is %g", fn, sigma);
    if (!(sigma > 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: sigma=%g must be > 0", fn, sigma);
    if (tau && tau_len != m)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: tau: length %zu given, %zu (m) required", fn,
                            tau_len, m);
    return TSRELU_OK;
}

/* Row i of W: sigma (cos zeta v^_j + sin zeta u), u a unit vector drawn
 * uniformly among those orthogonal to v^_j (a Gaussian draw with its v^_j
 * part removed by the Gram-Schmidt of network.c). `scratch` is 2d doubles. */
static void weak_row(const tsrelu_teacher *t, size_t j, double cz, double sz, double sigma,
                     tsrelu__rng *rng, double *scratch, double *w)
{
    size_t d = t->d;
    const double *vhat = t->unit + j * d;
    double *u = scratch + d, n;
    memcpy(scratch, vhat, d * sizeof(double));
    do { /* a draw parallel to v^_j has probability 0 (d >= 2) */
        for (size_t c = 0; c < d; c++)
            u[c] = tsrelu__rng_normal(rng);
        n = tsrelu__orthogonalise_row(scratch, 1, d);
    } while (!(n > 1e-6));
    for (size_t c = 0; c < d; c++)
        w[c] = sigma * (cz * vhat[c] + sz * (u[c] / n));
}

TSRELU_API tsrelu_status tsrelu_student_create_weak_recovery(const tsrelu_teacher *t, size_t m,
                                                             const size_t *counts, size_t counts_len,
                                                             double zeta, double sigma, uint64_t seed,
                                                             int *tau, size_t tau_len,
                                                             tsrelu_student **out)
{
    static const char fn[] = "tsrelu_student_create_weak_recovery";
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    tsrelu_status st = check_weak_args(fn, t, m, counts, counts_len, zeta, sigma, tau, tau_len);
    if (st != TSRELU_OK)
        return st;
    size_t d = t->d;
    tsrelu_student *s;
    if ((st = tsrelu__student_alloc(m, d, &s)) != TSRELU_OK)
        return st;
    int *group = malloc(m * sizeof(int));
    double *scratch = malloc(2 * d * sizeof(double));
    if (!group || !scratch) {
        free(group);
        free(scratch);
        tsrelu_student_free(s);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for m=%zu, d=%zu", fn, m, d);
    }
    assign(m, t->k, counts, group);
    double cz, sz;
    portable_cos_sin(zeta, &cz, &sz);
    tsrelu__rng rng;
    tsrelu__rng_seed(&rng, seed ^ WEAK_STREAM);
    for (size_t i = 0; i < m; i++)
        weak_row(t, (size_t)group[i], cz, sz, sigma, &rng, scratch, s->W + i * d);
    for (size_t i = 0; i < m; i++)
        s->a[i] = 1.0;
    free(scratch);
    char what[96];
    snprintf(what, sizeof what, "%s: sigma=%g", fn, sigma);
    if ((st = tsrelu__check_row_norms(s->W, m, d, what)) != TSRELU_OK) { /* sigma ~ DBL_MAX */
        free(group);
        tsrelu_student_free(s);
        return st;
    }
    if (tau)
        memcpy(tau, group, m * sizeof(int));
    free(group);
    *out = s;
    return TSRELU_OK;
}

/* ---------------- teachers with a Gram matrix ---------------- */

static tsrelu_status check_gram(const char *fn, size_t k, const double *G)
{
    tsrelu_status st = tsrelu__check_finite(G, k * k, "tsrelu_teacher_create_gram: G");
    if (st != TSRELU_OK)
        return st;
    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++)
            if (G[i * k + j] != G[j * k + i])
                return tsrelu__fail(TSRELU_EINVAL, "%s: G is not symmetric: G[%zu]=%.17g but G[%zu]=%.17g "
                                    "(entries (%zu,%zu) and (%zu,%zu); symmetrise with (G + G^T)/2)",
                                    fn, i * k + j, G[i * k + j], j * k + i, G[j * k + i], i, j, j, i);
    return TSRELU_OK;
}

/* G = L L^T, L lower triangular (k*k, row-major, upper part zero).
 * Hand-written: the library links no LAPACK today, k is small (k <= d,
 * O(k^3/6) flops once per teacher), and a fixed loop order keeps V
 * bit-identical across platforms, which a LAPACK build would not promise. */
static tsrelu_status cholesky(const char *fn, size_t k, const double *G, double *L)
{
    memset(L, 0, k * k * sizeof(double));
    for (size_t j = 0; j < k; j++) {
        for (size_t i = 0; i < j; i++) {
            double x = G[j * k + i];
            for (size_t p = 0; p < i; p++)
                x -= L[j * k + p] * L[i * k + p];
            L[j * k + i] = x / L[i * k + i];
        }
        double piv = G[j * k + j];
        for (size_t p = 0; p < j; p++)
            piv -= L[j * k + p] * L[j * k + p];
        if (!(piv > 0.0))
            return tsrelu__fail(TSRELU_EINVAL, "%s: G is not positive definite (Cholesky pivot %zu is %g)",
                                fn, j, piv);
        L[j * k + j] = sqrt(piv);
    }
    return TSRELU_OK;
}

static tsrelu_status check_gram_args(const char *fn, size_t k, size_t d, const double *G,
                                     size_t G_len, const double *b, size_t b_len)
{
    if (!G)
        return tsrelu__fail(TSRELU_EINVAL, "%s: G is NULL", fn);
    if (k == 0 || d == 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: k=%zu and d=%zu must be >= 1", fn, k, d);
    if (k > d)
        return tsrelu__fail(TSRELU_EINVAL, "%s: k=%zu linearly independent neurons do not fit in d=%zu",
                            fn, k, d);
    size_t kk;
    tsrelu_status st = tsrelu__mul_size(k, k, "tsrelu_teacher_create_gram: k*k", &kk);
    if (st != TSRELU_OK)
        return st;
    if (G_len != kk)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: G: length %zu given, %zu (k*k) required", fn, G_len, kk);
    if (b && b_len != k)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: b: length %zu given, %zu (k) required", fn, b_len, k);
    if ((st = check_gram(fn, k, G)) != TSRELU_OK)
        return st;
    if (b && (st = tsrelu__check_finite(b, k, "tsrelu_teacher_create_gram: b")) != TSRELU_OK)
        return st;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_teacher_create_gram(size_t k, size_t d, const double *G, size_t G_len,
                                                    const double *b, size_t b_len, uint64_t seed,
                                                    tsrelu_teacher **out)
{
    static const char fn[] = "tsrelu_teacher_create_gram";
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    tsrelu_status st = check_gram_args(fn, k, d, G, G_len, b, b_len);
    if (st != TSRELU_OK)
        return st;
    tsrelu_teacher *t;
    if ((st = tsrelu__teacher_alloc(k, d, &t)) != TSRELU_OK)
        return st;
    double *L = malloc(k * k * sizeof(double));
    double *Q = malloc(k * d * sizeof(double));
    if (!L || !Q) {
        st = tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for k=%zu, d=%zu", fn, k, d);
        goto done;
    }
    if ((st = cholesky(fn, k, G, L)) != TSRELU_OK)
        goto done;
    /* V = L Q with Q orthonormal: V V^T = L L^T = G. With G = c^2 I and
     * sqrt(c^2) = c this is tsrelu_teacher_create_orthogonal(k, d, c, seed). */
    tsrelu__random_frame(k, d, seed, Q);
    for (size_t j = 0; j < k; j++)
        for (size_t c = 0; c < d; c++) {
            double x = 0.0;
            for (size_t l = 0; l <= j; l++)
                x += L[j * k + l] * Q[l * d + c];
            t->V[j * d + c] = x;
        }
    for (size_t j = 0; j < k; j++)
        t->b[j] = b ? b[j] : 1.0;
    st = tsrelu__teacher_finish(t);
done:
    free(L);
    free(Q);
    if (st != TSRELU_OK) {
        tsrelu__teacher_destroy(t);
        return st;
    }
    *out = t;
    return TSRELU_OK;
}

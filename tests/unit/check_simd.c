/* Check suite for src/simd/: the dispatched kernels (cosines, distances,
 * the branch-free angle kernel, the P U product, the pair-pass rows, the
 * Hessian's block update, the finiteness test and the row normalisation)
 * on every path this CPU supports, against quadruple-precision references
 * computed here (the normalisation against the scalar functions it
 * replaces, bit for bit), and the paths of a family (fused or not:
 * kernels_impl.h) against each other bit for bit. */
#include "suites.h"

#include "kernel.h"
#include "simd/asin_rational.h"
#include "simd/simd.h"

#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern tsrelu_quad sqrtq(tsrelu_quad);
extern tsrelu_quad sinq(tsrelu_quad);
extern tsrelu_quad cosq(tsrelu_quad);
extern tsrelu_quad atan2q(tsrelu_quad, tsrelu_quad);

static const double ULP1 = 2.220446049250313e-16;

static uint64_t rng_state;

static double uniform_pm1(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return 2.0 * ((double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53) - 1.0;
}

static double ulp(double x)
{
    x = fabs(x);
    return nextafter(x, INFINITY) - x;
}

static void unit(double *x, size_t d)
{
    double n = tsrelu__norm(x, d);
    for (size_t c = 0; c < d; c++)
        x[c] /= n;
}

/* n random unit rows of d entries. */
static void random_units(double *X, size_t n, size_t d)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < d; c++)
            X[i * d + c] = uniform_pm1();
        unit(X + i * d, d);
    }
}

/* The per-pair arrays for n pairs, in one allocation. */
static tsrelu__pairs pairs_new(size_t n)
{
    double *p = calloc(6 * n + 6, sizeof(double));
    ck_assert_ptr_nonnull(p);
    tsrelu__pairs r = {p, p + n, p + 2 * n, p + 3 * n, p + 4 * n, p + 5 * n};
    return r;
}

/* m students at prescribed angles t[i] from one teacher (row of T), in
 * d dimensions: cos t p + sin t e, rounded and renormalised in double. */
static void students_at_angles(const double *t, size_t m, size_t d, double *U, double *T)
{
    double *e = malloc(d * sizeof(double));
    ck_assert_ptr_nonnull(e);
    for (size_t c = 0; c < d; c++)
        T[c] = uniform_pm1();
    unit(T, d);
    for (size_t i = 0; i < m; i++) {
        for (size_t c = 0; c < d; c++)
            e[c] = uniform_pm1();
        double pe = 0.0;
        for (size_t c = 0; c < d; c++)
            pe += e[c] * T[c];
        for (size_t c = 0; c < d; c++)
            e[c] -= pe * T[c];
        unit(e, d);
        for (size_t c = 0; c < d; c++)
            U[i * d + c] = cos(t[i]) * T[c] + sin(t[i]) * e[c];
        unit(U + i * d, d);
    }
    free(e);
}

/* The exact angle of two double vectors (quad). */
static tsrelu_quad angle_q(const double *p, const double *q, size_t d)
{
    tsrelu_quad dm = 0, dp = 0;
    for (size_t c = 0; c < d; c++) {
        tsrelu_quad a = (tsrelu_quad)p[c] - q[c], b = (tsrelu_quad)p[c] + q[c];
        dm += a * a;
        dp += b * b;
    }
    return 2 * atan2q(sqrtq(dm), sqrtq(dp));
}

/* kappa = sin - theta cos, by its series below 1 (no cancellation) */
static tsrelu_quad kappa_q(tsrelu_quad t)
{
    if (t >= 1)
        return sinq(t) - t * cosq(t);
    tsrelu_quad term = t, sum = 0; /* term = t^(2n+1) / (2n+1)! */
    for (int n = 1; n < 30; n++) {
        term *= -t * t / ((2 * n) * (2 * n + 1));
        sum -= 2 * n * term;
    }
    return sum;
}

/* Angles spread over [0, pi], with the switch points of the kernel
 * (|cos| = 0.5, 0.7) and near-(anti)parallel pairs down to 1e-12 rad. */
static size_t test_angles(double *t, size_t cap)
{
    static const double fixed[] = {0.0, 1e-12, 1e-8, 3e-6, 1e-4, 0.01, 0.3, 0.7953988301841436,
                                   0.7953988301841437, 1.0471975511965976, 1.0471975511965979,
                                   1.5707963267948966, 2.0943951023931953, 2.0943951023931957,
                                   2.3461938234056494, 2.3461938234056496, 3.0, 3.141592653589793 - 1e-4,
                                   3.141592653589793 - 1e-8, 3.141592653589793 - 1e-12};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && n < cap; i++)
        t[n++] = fixed[i];
    while (n < cap) { /* uniform in angle, and log-uniform near 0 and pi */
        double u = uniform_pm1();
        double x = n % 3 == 0 ? 1.5707963267948966 * (1.0 + u) : pow(10.0, -10.0 * fabs(u));
        t[n] = n % 3 == 2 ? 3.141592653589793 - x : x;
        n++;
    }
    return n;
}

#if defined(TSRELU_TEST_FMA2)
/* The portable template (2-lane vectors) compiled with FMA, as the portable
 * path is on targets that have the instruction (aarch64, POWER, ...):
 * tests/unit/kernels_fma2.c, x86-64 only, run where the CPU has FMA. */
extern const tsrelu__simd_ops tsrelu__simd_fma2;
#endif
#define MAX_PATHS 4

/* The paths this CPU supports, best first, then (x86-64 with FMA) the
 * test-only fma2 before the portable path, which is last. */
static size_t paths(const tsrelu__simd_ops **ops)
{
    size_t n = tsrelu__simd_supported(ops);
    ck_assert_uint_ge(n, 1);
    ck_assert_str_eq(ops[n - 1]->name, "portable");
#if defined(TSRELU_TEST_FMA2)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("fma")) {
        ops[n] = ops[n - 1];
        ops[n - 1] = &tsrelu__simd_fma2;
        n++;
    }
#endif
    return n;
}

/* The path whose bits path p must equal: the last one of the same family
 * (fused or not; kernels_impl.h), p itself when it is alone in it. */
static size_t same_family(const tsrelu__simd_ops **ops, size_t np, size_t p)
{
    size_t r = p;
    for (size_t q = p + 1; q < np; q++)
        if (ops[q]->fused == ops[p]->fused)
            r = q;
    return r;
}

/* The whole chain (cosines, distances, angles) on students at known angles
 * from a teacher, against the exact angle of the same double vectors:
 * theta and sin within 4 ulp of themselves for the near-(anti)parallel
 * pairs (|cos| > 0.7) and 4 (ulp + ulp(1)) elsewhere (the cosine's
 * rounding, amplified at most 1.4 times), kappa within 8 ulp + the error
 * theta's carries (kappa' = theta sin theta). Measured worst over these
 * 2800 pairs: 2.0, 2.0 and 0.67 of the bounds' units
 * (TSRELU_TEST_VERBOSE=1 prints them). */
START_TEST(test_angles_vs_quad)
{
    static const size_t dims[] = {2, 3, 8, 16, 17, 64, 100};
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    for (size_t p = 0; p < np; p++)
        for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++) {
            size_t d = dims[di], m = 400;
            double t[400], *U = malloc(m * d * sizeof(double)), *T = malloc(d * sizeof(double));
            double *scratch = calloc(TSRELU_SIMD_SCRATCH(m + 1, d), sizeof(double)); /* zero padding */
            ck_assert(U && T && scratch);
            rng_state = 0x9E3779B97F4A7C15ull + d;
            test_angles(t, m);
            students_at_angles(t, m, d, U, T);
            tsrelu__pairs pr = pairs_new(m);
            ops[p]->cosines(m, 1, d, U, T, 0, scratch, &pr);
            ops[p]->distances(m, 1, d, U, T, 0, &pr);
            ops[p]->angles(m, 1, &pr);
            double worst_t = 0.0, worst_s = 0.0, worst_k = 0.0;
            for (size_t i = 0; i < m; i++) {
                tsrelu_quad ref = angle_q(U + i * d, T, d);
                double th = pr.theta[i], rt = (double)ref;
                double rs = (double)sinq(ref), rc = (double)cosq(ref);
                double rk = (double)kappa_q(ref);
                /* near (anti)parallel pairs relative to theta and sin alone:
                 * they come from the vectors, not from a rounded cosine */
                double slack = fabs(rc) > 0.71 ? 0.0 : ULP1;
                double et = fabs(th - rt) / (ulp(rt) + slack);
                double es = fabs(pr.sn[i] - rs) / (ulp(rs) + slack + 1e-300);
                double ek = fabs(pr.kappa[i] - rk) /
                            (8 * ulp(rk) + 1.5 * rt * rs * fabs(th - rt) + 1e-300);
                ck_assert_msg(et <= 4.0, "%s d=%zu theta %.17g: %.17g, want %.17g (%.2f)",
                              ops[p]->name, d, t[i], th, rt, et);
                ck_assert_msg(es <= 4.0, "%s d=%zu theta %.17g: sin %.17g, want %.17g (%.2f)",
                              ops[p]->name, d, t[i], pr.sn[i], rs, es);
                ck_assert_msg(fabs(pr.cs[i] - rc) <= 4 * ULP1, "%s d=%zu cos %.17g, want %.17g",
                              ops[p]->name, d, pr.cs[i], rc);
                ck_assert_msg(ek <= 1.0, "%s d=%zu theta %.17g: kappa %.17g, want %.17g",
                              ops[p]->name, d, t[i], pr.kappa[i], rk);
                worst_t = fmax(worst_t, et);
                worst_s = fmax(worst_s, es);
                worst_k = fmax(worst_k, ek);
            }
            if (getenv("TSRELU_TEST_VERBOSE"))
                fprintf(stderr, "simd %s d=%zu worst theta %.2f sin %.2f kappa %.2f\n",
                        ops[p]->name, d, worst_t, worst_s, worst_k);
            free(pr.c);
            free(U);
            free(T);
            free(scratch);
        }
}
END_TEST

/* Cosines of the packed pairs within (d + 2) ulp(1) of the exact dot
 * products of the same vectors; the teacher cosines are the same numbers
 * with or without the student pairs (one nearest-teacher rule). */
START_TEST(test_cosines_vs_quad)
{
    static const size_t shapes[][3] = {{6, 2, 8}, {20, 4, 16}, {7, 3, 13}, {33, 5, 70}, {1, 1, 1}};
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    for (size_t p = 0; p < np; p++)
        for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
            size_t m = shapes[z][0], k = shapes[z][1], d = shapes[z][2], n = m + k;
            double *U = malloc(m * d * sizeof(double)), *T = malloc(k * d * sizeof(double));
            double *scratch = calloc(TSRELU_SIMD_SCRATCH(n, d), sizeof(double)); /* zero padding */
            ck_assert(U && T && scratch);
            rng_state = 77 + z;
            random_units(U, m, d);
            random_units(T, k, d);
            tsrelu__pairs all = pairs_new(tsrelu__pair_count(m, k, 1));
            tsrelu__pairs tch = pairs_new(tsrelu__pair_count(m, k, 0));
            ops[p]->cosines(m, k, d, U, T, 1, scratch, &all);
            ops[p]->cosines(m, k, d, U, T, 0, scratch, &tch);
            for (size_t i = 0; i < m; i++) {
                size_t q = tsrelu__pair_row(m, k, 1, i);
                ck_assert_uint_eq(q + (n - i - 1), i + 1 < m ? tsrelu__pair_row(m, k, 1, i + 1)
                                                             : tsrelu__pair_count(m, k, 1));
                for (size_t l = i + 1; l < n; l++, q++) {
                    const double *v = l < m ? U + l * d : T + (l - m) * d;
                    tsrelu_quad dot = 0;
                    for (size_t c = 0; c < d; c++)
                        dot += (tsrelu_quad)U[i * d + c] * v[c];
                    ck_assert_msg(fabs(all.c[q] - (double)dot) <= (d + 2) * ULP1,
                                  "%s (%zu,%zu,%zu) cos(%zu,%zu) %.17g, want %.17g", ops[p]->name,
                                  m, k, d, i, l, all.c[q], (double)dot);
                    if (l >= m) /* bit for bit, as the nearest rule needs */
                        ck_assert(memcmp(&all.c[q], &tch.c[i * k + l - m], sizeof(double)) == 0);
                }
            }
            free(all.c);
            free(tch.c);
            free(U);
            free(T);
            free(scratch);
        }
}
END_TEST

/* G = P^T W + Q^T V within (m + k + 2) ulp of sum |terms| of the exact
 * value, at shapes that exercise every block case (full, half, remainder
 * columns; partial row blocks). */
START_TEST(test_product_vs_quad)
{
    static const size_t shapes[][3] = {{6, 2, 8}, {20, 4, 16}, {40, 4, 64}, {7, 3, 13}, {5, 1, 27}, {1, 1, 1}};
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    for (size_t p = 0; p < np; p++)
        for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
            size_t m = shapes[z][0], k = shapes[z][1], d = shapes[z][2], n = m + k;
            double *Pt = malloc(n * m * sizeof(double)), *W = malloc(m * d * sizeof(double));
            double *V = malloc(k * d * sizeof(double)), *G = malloc(m * d * sizeof(double));
            ck_assert(Pt && W && V && G);
            rng_state = 991 + z;
            for (size_t i = 0; i < n * m; i++)
                Pt[i] = uniform_pm1();
            for (size_t i = 0; i < m * d; i++)
                W[i] = uniform_pm1();
            for (size_t i = 0; i < k * d; i++)
                V[i] = uniform_pm1();
            ops[p]->product(m, k, d, Pt, W, V, G);
            for (size_t i = 0; i < m; i++)
                for (size_t c = 0; c < d; c++) {
                    tsrelu_quad g = 0, mag = 0;
                    for (size_t l = 0; l < n; l++) {
                        tsrelu_quad x = (tsrelu_quad)Pt[l * m + i] * (l < m ? W[l * d + c] : V[(l - m) * d + c]);
                        g += x;
                        mag += x < 0 ? -x : x;
                    }
                    ck_assert_msg(fabs(G[i * d + c] - (double)g) <= (n + 2) * ULP1 * (double)mag,
                                  "%s (%zu,%zu,%zu) G[%zu,%zu] %.17g, want %.17g", ops[p]->name, m,
                                  k, d, i, c, G[i * d + c], (double)g);
                }
            free(Pt);
            free(W);
            free(V);
            free(G);
        }
}
END_TEST

/* Every supported path gives the same bits as the others of its family,
 * for every kernel: the fused paths (AVX-512, AVX2, and the portable
 * template with FMA) the same as each other, whatever their vector width;
 * the unfused x86-64 portable path stands alone (its accuracy is tested
 * against quad precision like every path's, above). */
START_TEST(test_paths_bit_identical)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    size_t m = 37, k = 5, d = 45, n = m + k, np_all = tsrelu__pair_count(m, k, 1);
    double *U = malloc(m * d * sizeof(double)), *T = malloc(k * d * sizeof(double));
    double *Pt = malloc(n * m * sizeof(double)), *scratch = calloc(TSRELU_SIMD_SCRATCH(n, d), sizeof(double));
    double *G[MAX_PATHS];
    tsrelu__pairs pr[MAX_PATHS];
    ck_assert(U && T && Pt && scratch);
    rng_state = 4242;
    random_units(T, k, d);
    for (size_t i = 0; i < m; i++) { /* a third near a teacher, some exactly on it */
        for (size_t c = 0; c < d; c++)
            U[i * d + c] = i % 3 ? uniform_pm1() : T[(i % k) * d + c] + (i % 2 ? 1e-7 * uniform_pm1() : 0.0);
        unit(U + i * d, d);
    }
    for (size_t i = 0; i < n * m; i++)
        Pt[i] = uniform_pm1();
    for (size_t p = 0; p < np; p++) {
        pr[p] = pairs_new(np_all);
        G[p] = malloc(m * d * sizeof(double));
        ck_assert_ptr_nonnull(G[p]);
        ops[p]->cosines(m, k, d, U, T, 1, scratch, &pr[p]);
        ops[p]->distances(m, k, d, U, T, 1, &pr[p]);
        ops[p]->angles(np_all, 1, &pr[p]);
        ops[p]->product(m, k, d, Pt, U, T, G[p]);
    }
    /* one pair-pass row over all those pairs, some students zero */
    double a[64], norm[64], rows[MAX_PATHS][3 * 64 + 3];
    for (size_t l = 0; l < 64; l++) {
        a[l] = 0.5 + uniform_pm1();
        norm[l] = l % 7 == 3 ? 0.0 : 1.0 + uniform_pm1();
    }
    for (size_t p = 0; p < np; p++) {
        memset(rows[p], 0, sizeof rows[p]);
        for (size_t l = 0; l < 64; l++)
            rows[p][64 + l] = rows[p][128 + l] = 0.25 * (double)l;
        ops[p]->pair_row(61, pr[p].theta, pr[p].sn, pr[p].kappa, a, norm, 0.7, -1.3, rows[p],
                         rows[p] + 64, rows[p] + 128, rows[p] + 192);
        ck_assert(rows[p][3] == 0.0 && rows[p][64 + 3] == 0.75); /* a zero student: skipped */
        for (size_t l = 61; l < 64; l++) /* nothing past the row (masked tails) */
            ck_assert(rows[p][l] == 0.0 && rows[p][64 + l] == 0.25 * (double)l &&
                      rows[p][128 + l] == 0.25 * (double)l);
        double want[3] = {0.0, 0.0, 0.0}, mag = 0.0;
        for (size_t l = 0; l < 61; l++) {
            if (norm[l] == 0.0)
                continue;
            double wl = a[l] * norm[l];
            ck_assert(rows[p][l] == 0.7 * a[l] * ((TSRELU_PI - pr[p].theta[l]) * TSRELU_INV_2PI));
            ck_assert(rows[p][64 + l] == 0.25 * (double)l + -1.3 * pr[p].sn[l]);
            ck_assert(rows[p][128 + l] == 0.25 * (double)l + -1.3 * pr[p].kappa[l]);
            want[0] += wl * pr[p].sn[l];
            want[1] += wl * pr[p].kappa[l];
            want[2] += -1.3 * wl * pr[p].kappa[l];
            mag += fabs(wl) * (1.0 + 1.3 * pr[p].kappa[l]) + fabs(wl * pr[p].sn[l]);
        }
        for (int r = 0; r < 3; r++) /* another summation order: 61 ulp of the magnitudes */
            ck_assert_msg(fabs(rows[p][192 + r] - want[r]) <= 61 * ULP1 * mag, "%s sum %d: %.17g, want %.17g",
                          ops[p]->name, r, rows[p][192 + r], want[r]);
    }
    size_t compared = 0;
    for (size_t p = 0; p < np; p++) {
        size_t r = same_family(ops, np, p);
        if (r == p)
            continue;
        compared++;
        ck_assert_msg(memcmp(rows[p], rows[r], sizeof rows[p]) == 0, "pair_row: %s differs from %s",
                      ops[p]->name, ops[r]->name);
        ck_assert_msg(memcmp(pr[p].c, pr[r].c, 6 * np_all * sizeof(double)) == 0,
                      "pairs: %s differs from %s", ops[p]->name, ops[r]->name);
        ck_assert_msg(memcmp(G[p], G[r], m * d * sizeof(double)) == 0, "product: %s differs from %s",
                      ops[p]->name, ops[r]->name);
    }
    if (getenv("TSRELU_TEST_VERBOSE"))
        fprintf(stderr, "simd: %zu of %zu paths compared bit for bit within their family\n", compared, np);
    for (size_t p = 0; p < np; p++) {
        free(pr[p].c);
        free(G[p]);
    }
    free(U);
    free(T);
    free(Pt);
    free(scratch);
}
END_TEST

/* Identical, opposite, orthogonal vectors and cosines a rounding past +-1
 * or exactly on the switch points: exact or within an ulp, never NaN. */
START_TEST(test_angle_limits)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    static const double c[] = {1.0, -1.0, 0.0, -0.0, 0.5, -0.5, 0.7, -0.7, 1.0 + 2 * 2.220446049250313e-16, -1.0 - 2 * 2.220446049250313e-16};
    static const double h2[] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    static const double want[] = {0.0, 3.141592653589793, 1.5707963267948966, 1.5707963267948966,
                                  1.0471975511965979, 2.0943951023931957, 0.79539883018414359,
                                  2.3461938234056494, 0.0, 3.141592653589793};
    size_t n = sizeof c / sizeof c[0];
    for (size_t p = 0; p < np; p++) {
        tsrelu__pairs pr = pairs_new(n);
        memcpy(pr.c, c, sizeof c);
        memcpy(pr.h2, h2, sizeof h2);
        ops[p]->angles(n, 1, &pr);
        for (size_t i = 0; i < n; i++) {
            ck_assert_msg(isfinite(pr.theta[i]) && isfinite(pr.sn[i]) && isfinite(pr.cs[i]) &&
                              isfinite(pr.kappa[i]),
                          "%s c=%g: theta %g sin %g cos %g kappa %g", ops[p]->name, c[i],
                          pr.theta[i], pr.sn[i], pr.cs[i], pr.kappa[i]);
            ck_assert_msg(fabs(pr.theta[i] - want[i]) <= ulp(want[i]) + 1e-300,
                          "%s c=%.17g: theta %.17g, want %.17g", ops[p]->name, c[i], pr.theta[i], want[i]);
            ck_assert(pr.sn[i] >= 0.0);
        }
        ck_assert(pr.theta[0] == 0.0 && pr.sn[0] == 0.0 && pr.kappa[0] == 0.0 && pr.cs[0] == 1.0);
        ck_assert(pr.sn[1] == 0.0 && pr.cs[1] == -1.0);
        free(pr.c);
    }
}
END_TEST

/* Near pairs: sin theta = 0.5 sqrt(d-) sqrt(d+) bit for bit (d-, d+ the
 * two squared half-distances), also where |u -+ v|^2 is so small that a
 * quarter of it rounds (subnormal, and the switch at 2^-1020). */
START_TEST(test_near_sine_tiny_distances)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    static const double h2[] = {0.0,       0x1p-1074, 0x3p-1074,          0x1.0000000000003p-1022,
                                0x1.fffffffffffffp-1021, 0x1p-1020,  0x1.0000000000001p-1020,
                                0x1.8p-700, 1e-30,     3e-3,          0.5};
    size_t nh = sizeof h2 / sizeof h2[0], n = 2 * nh;
    for (size_t p = 0; p < np; p++) {
        tsrelu__pairs pr = pairs_new(n);
        for (size_t i = 0; i < nh; i++) { /* the same distance as + and - pair */
            pr.c[2 * i] = 1.0 - 0.5 * h2[i] > 0.71 ? 1.0 - 0.5 * h2[i] : 0.71;
            pr.c[2 * i + 1] = -pr.c[2 * i];
            pr.h2[2 * i] = pr.h2[2 * i + 1] = h2[i];
        }
        ops[p]->angles(n, 1, &pr);
        for (size_t j = 0; j < n; j++) {
            double small = pr.h2[j], large = 4.0 - small;
            double dm = pr.c[j] > 0.0 ? small : large, dp = pr.c[j] > 0.0 ? large : small;
            double want = 0.5 * (sqrt(dm) * sqrt(dp));
            ck_assert_msg(pr.sn[j] == want, "%s h2=%a c=%g: sin %a, want %a", ops[p]->name, small,
                          pr.c[j], pr.sn[j], want);
        }
        free(pr.c);
    }
}
END_TEST

/* The angle kernel's plain formula (four square roots a pair: sqrt(z),
 * sqrt(d-) and sqrt(d+) for a near pair's sine, sqrt((1 - c)(1 + c)) for a
 * far pair's), written out here one pair at a time, with the kernel's
 * constants and fused multiply-adds where the path fuses. The kernel takes
 * two square roots on selected arguments instead (kernels_impl.h); this is
 * what says that they give the same bits. */
static double ref_fmad(int fused, double a, double b, double c)
{
    return fused ? fma(a, b, c) : a * b + c;
}

static void angle_plain(int fused, double cj, double small, double out[4])
{
    double ac = fabs(cj);
    int near = ac > TSRELU_EXACT_COS, mid = ac > 0.5;
    double z = near ? 0.25 * small : 0.5 * (1.0 - ac);
    z = mid ? z : 0.0;
    double s = sqrt(z), t = mid ? z : cj * cj;
    double pp = t * ref_fmad(fused, t, ref_fmad(fused, t, ref_fmad(fused, t, ref_fmad(fused, t,
                    ref_fmad(fused, t, PS5, PS4), PS3), PS2), PS1), PS0);
    double qq = ref_fmad(fused, t, ref_fmad(fused, t, ref_fmad(fused, t,
                    ref_fmad(fused, t, QS4, QS3), QS2), QS1), 1.0);
    double r = pp / qq;
    uint64_t bits;
    memcpy(&bits, &s, sizeof bits);
    bits &= 0xffffffff00000000u;
    double df;
    memcpy(&df, &bits, sizeof df);
    double den = s + df, corr = den > 0.0 ? (z - df * df) / den : 0.0;
    double th;
    if (!mid)
        th = PIO2_HI - (cj - ref_fmad(fused, -cj, r, PIO2_LO));
    else if (cj > 0.0)
        th = 2.0 * (df + ref_fmad(fused, r, s, corr));
    else
        th = PI_HI - 2.0 * (s + ref_fmad(fused, r, s, -PIO2_LO));
    double large = 4.0 - small;
    double dm = cj > 0.0 ? small : large, dp = cj > 0.0 ? large : small;
    double sn = near ? 0.5 * (sqrt(dm) * sqrt(dp)) : sqrt((1.0 - cj) * (1.0 + cj));
    double cs = near ? 0.25 * (dp - dm) : cj;
    double kap;
    if (th < TSRELU_KAPPA_SERIES_MAX) {
        static const double kc[] = {TSRELU_KAPPA_C9, TSRELU_KAPPA_C8, TSRELU_KAPPA_C7,
                                    TSRELU_KAPPA_C6, TSRELU_KAPPA_C5, TSRELU_KAPPA_C4,
                                    TSRELU_KAPPA_C3, TSRELU_KAPPA_C2, TSRELU_KAPPA_C1};
        double t2 = th * th, k = TSRELU_KAPPA_C10;
        for (size_t i = 0; i < sizeof kc / sizeof kc[0]; i++)
            k = ref_fmad(fused, k, t2, kc[i]);
        kap = k * t2 * th;
    } else {
        kap = ref_fmad(fused, -th, cs, sn);
    }
    out[0] = th;
    out[1] = sn;
    out[2] = cs;
    out[3] = kap;
}

/* The angle kernel against angle_plain bit for bit, on every path: random
 * cosines (a third of them within 1e-6 of +-1) with squared distances
 * near 2 - 2|c| for the near pairs, the switch points 0.5 and 0.7 and
 * their neighbours, and near pairs whose squared distance is tiny (a
 * quarter of it subnormal and rounded by up to several bits, at and
 * around the switch at 2^-1020, and 0);
 * counts of pairs that leave every tail of the vector loop. */
START_TEST(test_angles_plain_formula)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    static const double tiny[] = {0.0,       0x1p-1074,  0x3p-1074,   0x1.0000000000003p-1022,
                                  0x1.fffffffffffffp-1021, 0x1p-1020, 0x1.0000000000001p-1020,
                                  0x1.ffffffffffffdp-1020, 0x1.23456789abcdfp-1026,
                                  0x1.5555555555555p-1029, 0x1.fffffffffffffp-1025,
                                  0x1.8p-700, 1e-30, 3e-3};
    static const double edge[] = {0.5, 0.7, 1.0, 0.0};
    enum { N = 2003 };
    for (size_t p = 0; p < np; p++) {
        tsrelu__pairs pr = pairs_new(N);
        rng_state = 0x5DEECE66Dull;
        size_t nt = sizeof tiny / sizeof tiny[0], ne = sizeof edge / sizeof edge[0];
        for (size_t i = 0; i < N; i++) {
            double u = uniform_pm1(), c;
            if (i % 3 == 0)
                c = copysign(1.0 - 1e-6 * fabs(uniform_pm1()), u);
            else
                c = u;
            if (i % 17 == 0) { /* a switch point, or a double beside it */
                double e = edge[(i / 17) % ne];
                int side = (int)((i / 17 / ne) % 3);
                c = copysign(side == 1 ? e : nextafter(e, side == 0 ? -INFINITY : INFINITY), u);
            }
            double g = 2.0 - 2.0 * fabs(c); /* |c| past 1 by rounding: distance 0 */
            double h2 = fabs(c) > TSRELU_EXACT_COS && g > 0.0 ? g * (1.0 + 1e-3 * u) : 0.0;
            if (i % 5 == 0 && fabs(c) > TSRELU_EXACT_COS)
                h2 = tiny[(i / 5) % nt];
            pr.c[i] = c;
            pr.h2[i] = h2;
        }
        static const size_t counts[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 27, N};
        for (size_t ci = 0; ci < 2 * (sizeof counts / sizeof counts[0]); ci++) {
            size_t n = counts[ci / 2];
            int with_kappa = ci % 2; /* without: the same angles, kappa not written */
            for (size_t i = 0; i < N; i++)
                pr.kappa[i] = -7.0;
            ops[p]->angles(n, with_kappa, &pr);
            for (size_t i = 0; i < n; i++) {
                double want[4];
                angle_plain(ops[p]->fused, pr.c[i], pr.h2[i], want);
                if (!with_kappa)
                    want[3] = -7.0;
                double got[4] = {pr.theta[i], pr.sn[i], pr.cs[i], pr.kappa[i]};
                for (int o = 0; o < 4; o++)
                    ck_assert_msg(memcmp(&got[o], &want[o], sizeof got[o]) == 0,
                                  "%s n=%zu kappa %d pair %zu c=%a h2=%a: output %d %a, want %a",
                                  ops[p]->name, n, with_kappa, i, pr.c[i], pr.h2[i], o, got[o],
                                  want[o]);
            }
        }
        free(pr.c);
    }
}
END_TEST

/* The update: x - eta g exactly, and not finite as soon as one entry
 * (at any position, including the vector tails) is NaN or +-Inf, also by
 * overflow; the largest finite values and subnormals pass. */
START_TEST(test_update_class_test)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    enum { N = 37 };
    double x[N], g[N], out[N];
    for (size_t p = 0; p < np; p++) {
        rng_state = 5;
        for (size_t i = 0; i < N; i++) {
            x[i] = uniform_pm1();
            g[i] = uniform_pm1();
        }
        x[3] = 1.7976931348623157e308;
        g[3] = 0.0;
        x[4] = 4.9406564584124654e-324;
        ck_assert_int_eq(ops[p]->update(x, g, 0.1, out, N), 1);
        for (size_t i = 0; i < N; i++)
            ck_assert(out[i] == x[i] - 0.1 * g[i]);
        static const double bad[] = {NAN, INFINITY, -INFINITY};
        for (size_t at = 0; at < N; at += 6)
            for (size_t b = 0; b < 3; b++) {
                double keep = x[at];
                x[at] = bad[b];
                ck_assert_msg(ops[p]->update(x, g, 0.1, out, N) == 0, "%s: %g at %zu passed",
                              ops[p]->name, bad[b], at);
                x[at] = keep;
            }
        x[N - 1] = 1.7976931348623157e308; /* overflows to Inf */
        g[N - 1] = -1e300;
        ck_assert_int_eq(ops[p]->update(x, g, 1e10, out, N), 0);
        ck_assert_int_eq(ops[p]->update(x, g, 0.1, out, 0), 1);
    }
}
END_TEST

/* The block update of the Hessian: every entry within (n + 2) ulp of its
 * quad value (from 0 plus a diagonal, and added to H's entries), the paths
 * bit-identical,
 * and swapping A and B gives the transposed block bit for bit, at shapes
 * that exercise the rank-2 case, full vectors and remainder columns. */
START_TEST(test_outer_vs_quad)
{
    static const size_t shapes[][2] = {{2, 16}, {2, 13}, {23, 16}, {7, 13}, {1, 3}, {2, 1}, {5, 27}};
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    for (size_t z = 0; z < sizeof shapes / sizeof shapes[0]; z++) {
        size_t n = shapes[z][0], d = shapes[z][1], ld = d + 3;
        double A[23 * 27], B[23 * 27], H0[27 * 30], H[MAX_PATHS][2][27 * 30], T[27 * 30];
        rng_state = 77 + z;
        for (size_t i = 0; i < n * d; i++) {
            A[i] = uniform_pm1();
            B[i] = uniform_pm1();
        }
        for (size_t i = 0; i < d * ld; i++)
            H0[i] = uniform_pm1();
        for (size_t p = 0; p < np; p++)
            for (int acc = 0; acc < 2; acc++) {
                double dg = acc ? 0.0 : -0.375;
                memcpy(H[p][acc], H0, d * ld * sizeof(double));
                ops[p]->outer(n, d, A, B, H[p][acc], ld, acc, dg);
                memcpy(T, H0, d * ld * sizeof(double));
                ops[p]->outer(n, d, B, A, T, ld, acc, dg);
                for (size_t r = 0; r < d; r++)
                    for (size_t c = 0; c < d; c++) {
                        tsrelu_quad g = acc ? (tsrelu_quad)H0[r * ld + c] : 0, mag = g < 0 ? -g : g;
                        for (size_t l = 0; l < n; l++) {
                            tsrelu_quad x = (tsrelu_quad)A[l * d + r] * B[l * d + c];
                            g += x;
                            mag += x < 0 ? -x : x;
                        }
                        if (r == c) {
                            g += dg;
                            mag += -dg;
                        }
                        double got = H[p][acc][r * ld + c];
                        ck_assert_msg(fabs(got - (double)g) <= (n + 2) * ULP1 * (double)mag,
                                      "%s n=%zu d=%zu acc=%d H[%zu,%zu] %.17g, want %.17g",
                                      ops[p]->name, n, d, acc, r, c, got, (double)g);
                        if (!acc)
                            ck_assert_msg(memcmp(&got, &T[c * ld + r], sizeof got) == 0,
                                          "%s n=%zu d=%zu: swapped factors not the transpose at %zu,%zu",
                                          ops[p]->name, n, d, r, c);
                    }
                for (size_t r = 0; r < d; r++) /* the padding columns untouched */
                    for (size_t c = d; c < ld; c++)
                        ck_assert(H[p][acc][r * ld + c] == H0[r * ld + c]);
            }
        for (size_t p = 0; p + 1 < np; p++)
            for (int acc = 0; acc < 2; acc++)
                ck_assert_msg(memcmp(H[p][acc], H[np - 1][acc], d * ld * sizeof(double)) == 0,
                              "outer: %s differs from portable (n=%zu d=%zu acc=%d)", ops[p]->name, n, d, acc);
    }
}
END_TEST

/* The finiteness test: 1 for finite values (the largest, subnormals, -0),
 * 0 as soon as one entry (at any position, including the vector tails) is
 * NaN or +-Inf; 1 for no entries. */
START_TEST(test_finite_class_test)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    enum { N = 37 };
    double x[N];
    static const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    for (size_t p = 0; p < np; p++) {
        rng_state = 9;
        for (size_t i = 0; i < N; i++)
            x[i] = uniform_pm1();
        x[3] = 1.7976931348623157e308;
        x[4] = -1.7976931348623157e308;
        x[5] = 4.9406564584124654e-324;
        x[6] = -0.0;
        ck_assert_int_eq(ops[p]->finite(x, N), 1);
        ck_assert_int_eq(ops[p]->finite(x, 0), 1);
        for (size_t at = 0; at < N; at++)
            for (size_t b = 0; b < 4; b++) {
                double keep = x[at];
                x[at] = bad[b];
                ck_assert_msg(ops[p]->finite(x, N) == 0, "%s: %g at %zu passed", ops[p]->name,
                              bad[b], at);
                ck_assert_int_eq(ops[p]->finite(x, at), 1); /* before it: still finite */
                x[at] = keep;
            }
    }
}
END_TEST

/* The report: one of the three names, possibly with a fallback note. */
/* The cosines' and the product's summation orders, pinned: every entry a
 * chain of multiply-adds from +0 in index order (the product's W terms,
 * then its V terms), one rounding each on a fused path, two on the others.
 * Bit for bit on every path for m 1..9, k 1..3, d 1..40 (every block
 * shape: full, half and narrow widths, 1..4 rows). */
START_TEST(test_cosines_product_order)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops), checked = 0;
    enum { MM = 9, KM = 3, DM = 40 };
    static double U[MM * DM], T[KM * DM], Pt[(MM + KM) * MM], G[MM * DM];
    double *scratch = calloc(TSRELU_SIMD_SCRATCH(MM + KM, DM), sizeof(double));
    tsrelu__pairs pr = pairs_new(tsrelu__pair_count(MM, KM, 1));
    ck_assert_ptr_nonnull(scratch);
    rng_state = 2718;
    for (size_t m = 1; m <= MM; m++)
        for (size_t k = 1; k <= KM; k++)
            for (size_t d = 1; d <= DM; d += (d < 18 ? 1 : 7)) {
                for (size_t e = 0; e < m * d; e++)
                    U[e] = uniform_pm1();
                for (size_t e = 0; e < k * d; e++)
                    T[e] = uniform_pm1();
                for (size_t e = 0; e < (m + k) * m; e++)
                    Pt[e] = uniform_pm1();
                for (size_t p = 0; p < np; p++) {
                    int fused = ops[p]->fused;
                    memset(scratch, 0, TSRELU_SIMD_SCRATCH(MM + KM, DM) * sizeof(double));
                    for (int st = 0; st < 2; st++) {
                        ops[p]->cosines(m, k, d, U, T, st, scratch, &pr);
                        for (size_t q = 0, i = 0; i < m; i++)
                            for (size_t l = st ? i + 1 : m; l < m + k; l++, q++) {
                                const double *v = l < m ? U + l * d : T + (l - m) * d;
                                double want = 0.0;
                                for (size_t c = 0; c < d; c++)
                                    want = fused ? fma(U[i * d + c], v[c], want) : U[i * d + c] * v[c] + want;
                                ck_assert_msg(memcmp(&want, &pr.c[q], sizeof want) == 0,
                                              "%s cosine (m %zu k %zu d %zu) pair (%zu, %zu)",
                                              ops[p]->name, m, k, d, i, l);
                            }
                    }
                    ops[p]->product(m, k, d, Pt, U, T, G);
                    for (size_t i = 0; i < m; i++)
                        for (size_t c = 0; c < d; c++) {
                            double want = 0.0;
                            for (size_t l = 0; l < m + k; l++) {
                                double x = Pt[l * m + i], y = l < m ? U[l * d + c] : T[(l - m) * d + c];
                                want = fused ? fma(x, y, want) : x * y + want;
                            }
                            ck_assert_msg(memcmp(&want, &G[i * d + c], sizeof want) == 0,
                                          "%s product (m %zu k %zu d %zu) entry (%zu, %zu)",
                                          ops[p]->name, m, k, d, i, c);
                        }
                    checked++;
                }
            }
    ck_assert_uint_eq(checked, (size_t)MM * KM * 21 * np);
    free(scratch);
    free(pr.c);
}
END_TEST

/* pair_block against pair_row called row after row as the pair pass did
 * (radial and kap summed in place, zero students' rows skipped), bit for
 * bit on every path: m = 1..TSRELU_SIMD_BLOCK_MAX, with and without kappa,
 * some students zero. */
START_TEST(test_pair_block_equals_rows)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    enum { MB = TSRELU_SIMD_BLOCK_MAX, K = 3 };
    size_t npair = tsrelu__pair_count(MB, K, 1);
    tsrelu__pairs pr = pairs_new(npair);
    double a[MB], norm[MB];
    size_t cases = 0;
    rng_state = 31337;
    for (size_t q = 0; q < npair; q++) {
        pr.theta[q] = 1.5 * (1.0 + uniform_pm1());
        pr.sn[q] = sin(pr.theta[q]);
        pr.kappa[q] = 0.3 * (1.0 + uniform_pm1());
    }
    for (size_t m = 1; m <= MB; m++)
        for (int zeros = 0; zeros < 3; zeros++)
            for (int want_kappa = 0; want_kappa < 2; want_kappa++) {
                for (size_t i = 0; i < m; i++) {
                    a[i] = uniform_pm1();
                    norm[i] = zeros && (i * 7 + (size_t)zeros) % 4 == 1 ? 0.0 : 0.5 + uniform_pm1();
                }
                const double *kp = want_kappa ? pr.kappa : NULL;
                for (size_t p = 0; p < np; p++) {
                    double P1[MB * MB], P2[MB * MB], r1[MB] = {0.0}, k1[MB] = {0.0}, r2[MB], k2[MB];
                    double s1[3 * MB] = {0.0}, s2[3 * MB];
                    for (size_t e = 0; e < MB * MB; e++)
                        P1[e] = P2[e] = -7.0; /* what a zero student's row leaves */
                    for (size_t i = 0; i < m; i++) {
                        size_t q = tsrelu__pair_row(m, K, 1, i);
                        if (norm[i] != 0.0)
                            ops[p]->pair_row(m - i - 1, pr.theta + q, pr.sn + q, kp ? kp + q : NULL,
                                             a + i + 1, norm + i + 1, a[i], a[i] * norm[i],
                                             P1 + i * m + i + 1, r1 + i + 1, k1 + i + 1, s1 + 3 * i);
                    }
                    ops[p]->pair_block(m, K, pr.theta, pr.sn, kp, a, norm, P2, r2, k2, s2);
                    ck_assert_msg(memcmp(P1, P2, sizeof P1) == 0 &&
                                      memcmp(r1, r2, m * sizeof(double)) == 0 &&
                                      memcmp(k1, k2, m * sizeof(double)) == 0 &&
                                      memcmp(s1, s2, 3 * m * sizeof(double)) == 0,
                                  "%s pair_block (m %zu, zeros %d, kappa %d) differs from pair_row",
                                  ops[p]->name, m, zeros, want_kappa);
                    cases++;
                }
            }
    ck_assert_uint_eq(cases, (size_t)MB * 3 * 2 * np);
    free(pr.c);
}
END_TEST

/* The distances kernel's summation order, pinned: for every pair with
 * |c| > TSRELU_EXACT_COS, h2 = |u -+ v|^2 in eight partial sums (lane q
 * takes the entries c = q mod 8 in index order, each square added with one
 * rounding on a fused path, two on the others) combined as
 * ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)); every other pair 0.
 * Bit for bit on every path, widths 1..40 and rows with 0..9 near pairs
 * (the kernel sums them four at a time). Committed data depend on these
 * bits (docs/data). */
START_TEST(test_distances_order)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    enum { M = 11, K = 3, DMAX = 40 };
    double U[M * DMAX], T[K * DMAX];
    size_t nall = tsrelu__pair_count(M, K, 1), near_seen = 0;
    rng_state = 99;
    for (size_t d = 1; d <= DMAX; d++) {
        random_units(T, K, d);
        for (size_t i = 0; i < M; i++) { /* near a teacher (or its opposite) or not */
            double sg = i % 4 == 1 ? -1.0 : 1.0, eps = i % 3 == 2 ? 1.0 : 1e-3;
            for (size_t c = 0; c < d; c++)
                U[i * d + c] = sg * T[(i % K) * d + c] + eps * uniform_pm1();
            unit(U + i * d, d);
        }
        for (size_t p = 0; p < np; p++) {
            tsrelu__pairs pr = pairs_new(nall);
            for (size_t q = 0, i = 0; i < M; i++)
                for (size_t l = i + 1; l < M + K; l++, q++) {
                    const double *v = l < M ? U + l * d : T + (l - M) * d;
                    pr.c[q] = tsrelu__dot(U + i * d, v, d);
                    pr.h2[q] = 1.5; /* every entry must be written */
                }
            ops[p]->distances(M, K, d, U, T, 1, &pr);
            for (size_t q = 0, i = 0; i < M; i++)
                for (size_t l = i + 1; l < M + K; l++, q++) {
                    const double *v = l < M ? U + l * d : T + (l - M) * d;
                    double c = pr.c[q], sg = c > 0.0 ? -1.0 : 1.0, lane[8] = {0.0}, want = 0.0;
                    if (c > TSRELU_EXACT_COS || c < -TSRELU_EXACT_COS) {
                        for (size_t e = 0; e < d; e++) {
                            double x = U[i * d + e] + sg * v[e];
                            lane[e % 8] = ops[p]->fused ? fma(x, x, lane[e % 8]) : x * x + lane[e % 8];
                        }
                        want = ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
                               ((lane[1] + lane[5]) + (lane[3] + lane[7]));
                        near_seen++;
                    }
                    ck_assert_msg(memcmp(&pr.h2[q], &want, sizeof want) == 0,
                                  "%s distances d %zu pair (%zu, %zu): %a, want %a", ops[p]->name, d, i,
                                  l, pr.h2[q], want);
                }
            free(pr.c);
        }
    }
    ck_assert_msg(near_seen > 800 * np, "%zu near pairs", near_seen); /* 953 a path */
}
END_TEST

/* The normalise kernel on every path against the scalar functions it
 * replaces, bit for bit (the sum, sqrt and reciprocal are the same
 * operations in every path): tsrelu__norm, the multiply by 1 / norm in the
 * fast range, tsrelu__unit outside it. Rows of every width 1..21 and counts
 * 1..9 (the groups of four and the rows after them), with zero, subnormal,
 * tiny (squares underflow), huge (squares overflow), Inf and NaN rows, and
 * rows whose sum of squares lies just inside tsrelu__norm's fast range
 * (about 1e295 and 1e-296, where its two paths may differ in a bit). */
START_TEST(test_normalise_bits)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    size_t np = paths(ops);
    enum { MMAX = 9, DMAX = 21 };
    double W[MMAX * DMAX], U[MMAX * DMAX], want_u[MMAX * DMAX], norm[MMAX], want_n[MMAX];
    const double scale[10] = {1.0, 0.0, 0x1p-1060, 1e-160, 1e200, 1e-3, INFINITY, NAN, 3e147, 1e-148};
    size_t checked = 0, outside = 0;
    rng_state = 777;
    for (size_t d = 1; d <= DMAX; d++)
        for (size_t m = 1; m <= MMAX; m++) {
            for (size_t i = 0; i < m; i++) {
                double sc = scale[(i * 3 + m + d) % 10];
                for (size_t c = 0; c < d; c++)
                    W[i * d + c] = sc == INFINITY || sc != sc ? (c == d / 2 ? sc : uniform_pm1())
                                                              : sc * uniform_pm1();
            }
            for (size_t i = 0; i < m; i++) {
                const double *x = W + i * d;
                double n = want_n[i] = tsrelu__norm(x, d);
                if (tsrelu__norm_fast(n))
                    for (size_t c = 0; c < d; c++)
                        want_u[i * d + c] = x[c] * (1.0 / n);
                else {
                    tsrelu__unit(x, d, want_u + i * d);
                    outside++;
                }
            }
            for (size_t p = 0; p < np; p++) {
                memset(U, 0x5a, sizeof U); /* garbage: every entry must be written */
                ops[p]->normalise(m, d, W, norm, U);
                ck_assert_msg(memcmp(norm, want_n, m * sizeof(double)) == 0 &&
                                  memcmp(U, want_u, m * d * sizeof(double)) == 0,
                              "%s normalise (m %zu, d %zu) differs from the scalar functions",
                              ops[p]->name, m, d);
                if (m * d < MMAX * DMAX) /* nothing past the rows */
                    ck_assert(((unsigned char *)U)[m * d * sizeof(double)] == 0x5a);
                checked++;
            }
        }
    ck_assert_uint_eq(checked, (size_t)DMAX * MMAX * np);
    ck_assert(outside > 100); /* the rows outside the fast range were reached */
}
END_TEST

START_TEST(test_isa_report)
{
    const tsrelu__simd_ops *ops[MAX_PATHS];
    paths(ops);
    const char *r = tsrelu_isa();
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(strncmp(r, tsrelu__simd()->name, strlen(tsrelu__simd()->name)) == 0,
                  "tsrelu_isa() '%s' does not start with the chosen path %s", r, tsrelu__simd()->name);
    const char *env = getenv("TSRELU_ISA");
    if (!env || !*env)
        ck_assert_str_eq(r, ops[0]->name); /* the best supported path */
}
END_TEST

Suite *simd_suite(void)
{
    Suite *s = suite_create("simd");
    TCase *tc_core = tcase_create("core");
    tcase_set_timeout(tc_core, 60);
    tcase_add_test(tc_core, test_angles_vs_quad);
    tcase_add_test(tc_core, test_cosines_vs_quad);
    tcase_add_test(tc_core, test_product_vs_quad);
    tcase_add_test(tc_core, test_paths_bit_identical);
    tcase_add_test(tc_core, test_outer_vs_quad);
    tcase_add_test(tc_core, test_normalise_bits);
    tcase_add_test(tc_core, test_distances_order);
    tcase_add_test(tc_core, test_pair_block_equals_rows);
    tcase_add_test(tc_core, test_cosines_product_order);
    suite_add_tcase(s, tc_core);
    TCase *tc_limits = tcase_create("limits");
    tcase_add_test(tc_limits, test_angle_limits);
    tcase_add_test(tc_limits, test_near_sine_tiny_distances);
    tcase_add_test(tc_limits, test_angles_plain_formula);
    tcase_add_test(tc_limits, test_isa_report);
    tcase_add_test(tc_limits, test_update_class_test);
    tcase_add_test(tc_limits, test_finite_class_test);
    suite_add_tcase(s, tc_limits);
    return s;
}

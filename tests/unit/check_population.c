/* Check suite for src/population.c and src/accurate.c: the closed-form
 * population loss and gradient against central finite differences, against
 * Monte Carlo with a stated standard-error bound (own Gaussian generator),
 * invariances (rotation, permutation, scale), values computed by hand from
 * g(u, v) = |u||v|/(2 pi) (sin t + (pi - t) cos t), zero neurons, the
 * quadruple-precision loss, and the validation of every argument. */
#include "suites.h"
#include "fixtures.h"

#include "tsrelu.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* libquadmath, for references that need more than double precision. */
__extension__ typedef __float128 quad;
extern quad sqrtq(quad);
extern quad sinq(quad);
extern quad cosq(quad);
extern quad acosq(quad);
extern quad atan2q(quad, quad);
extern quad frexpq(quad, int *);
extern quad ldexpq(quad, int);

/* sqrtq with the argument scaled into [0.5, 2) by an even power of two:
 * libquadmath's first estimate goes through the x87 unit, which valgrind
 * emulates in double precision, so arguments outside the double range
 * (squares of subnormal or huge rows) would come back wrong under memcheck. */
static quad qsqrt(quad x)
{
    if (!(x > 0) || x - x != 0)
        return sqrtq(x);
    int e;
    quad f = frexpq(x, &e);
    if (e & 1) {
        f *= 2;
        e -= 1;
    }
    return ldexpq(sqrtq(f), e / 2);
}

/* ------------------------------------------------- own random numbers */

/* xorshift64* and Box-Muller: independent of the library's generator. */
typedef struct {
    uint64_t s;
    double spare;
    int has_spare;
} test_rng;

static void rng_init(test_rng *r, uint64_t seed)
{
    r->s = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (r->s == 0)
        r->s = 1;
    r->has_spare = 0;
}

/* uniform on (0, 1) */
static double rng_uniform(test_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t x = r->s * 0x2545F4914F6CDD1DULL;
    return ((double)(x >> 11) + 0.5) * 0x1.0p-53;
}

static double rng_normal(test_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1)), ang = 2.0 * PI * u2;
    r->spare = rad * sin(ang);
    r->has_spare = 1;
    return rad * cos(ang);
}

/* ------------------------------------------------------- configurations */

enum { MAXN = 8, MAXD = 8 };

typedef struct {
    size_t m, k, d;
    double W[MAXN * MAXD], a[MAXN];
    double V[MAXN * MAXD], b[MAXN];
} config;

/* Gaussian weights; output weights of random sign and magnitude in
 * [0.3, 2] when `signed_out`, else 1. */
static void random_config(config *c, size_t m, size_t k, size_t d, uint64_t seed,
                          int signed_out)
{
    test_rng r;
    rng_init(&r, seed);
    c->m = m;
    c->k = k;
    c->d = d;
    for (size_t i = 0; i < m * d; i++)
        c->W[i] = rng_normal(&r);
    for (size_t i = 0; i < k * d; i++)
        c->V[i] = rng_normal(&r);
    for (size_t i = 0; i < m; i++) {
        double mag = 0.3 + 1.7 * rng_uniform(&r);
        c->a[i] = signed_out ? (rng_uniform(&r) < 0.3 ? -mag : mag) : 1.0;
    }
    for (size_t j = 0; j < k; j++) {
        double mag = 0.3 + 1.7 * rng_uniform(&r);
        c->b[j] = signed_out ? (rng_uniform(&r) < 0.3 ? -mag : mag) : 1.0;
    }
}

static tsrelu_student *make_student(size_t m, size_t d, const double *W, const double *a)
{
    tsrelu_student *s = NULL;
    tsrelu_status st = tsrelu_student_create(m, d, W, a, &s);
    ck_assert_msg(st == TSRELU_OK, "student_create: %s", tsrelu_last_error());
    return s;
}

static tsrelu_teacher *make_teacher(size_t k, size_t d, const double *V, const double *b)
{
    tsrelu_teacher *t = NULL;
    tsrelu_status st = tsrelu_teacher_create(k, d, V, b, &t);
    ck_assert_msg(st == TSRELU_OK, "teacher_create: %s", tsrelu_last_error());
    return t;
}

typedef struct {
    double L, La;                 /* tsrelu_loss, tsrelu_loss_accurate */
    double gW[MAXN * MAXD], ga[MAXN];
} result;

static void evaluate(const config *c, result *res)
{
    tsrelu_student *s = make_student(c->m, c->d, c->W, c->a);
    tsrelu_teacher *t = make_teacher(c->k, c->d, c->V, c->b);
    ck_assert_int_eq(tsrelu_loss(s, t, &res->L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &res->La), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gradient(s, t, res->gW, c->m * c->d, res->ga, c->m), TSRELU_OK);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}

static double loss_accurate(const config *c)
{
    tsrelu_student *s = make_student(c->m, c->d, c->W, c->a);
    tsrelu_teacher *t = make_teacher(c->k, c->d, c->V, c->b);
    double L;
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &L), TSRELU_OK);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return L;
}

static double row_norm(const double *x, size_t d)
{
    double s = 0.0;
    for (size_t c = 0; c < d; c++)
        s += x[c] * x[c];
    return sqrt(s);
}

/* S = sum_n |c_n||u_n|: the natural scale of the loss (L <= S^2 / 2). */
static double scale_S(const config *c)
{
    double S = 0.0;
    for (size_t i = 0; i < c->m; i++)
        S += fabs(c->a[i]) * row_norm(c->W + i * c->d, c->d);
    for (size_t j = 0; j < c->k; j++)
        S += fabs(c->b[j]) * row_norm(c->V + j * c->d, c->d);
    return S;
}

static double max_abs(const double *x, size_t n)
{
    double mx = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(x[i]) > mx)
            mx = fabs(x[i]);
    return mx;
}

/* ---------------------------------------------- quad textbook reference */

/* g(u, v) = |u||v|/(2 pi) (sin t + (pi - t) cos t) in quad; 0 for a zero
 * vector. */
static quad g_quad(const double *u, const double *v, size_t d)
{
    quad uu = 0, vv = 0;
    for (size_t c = 0; c < d; c++) {
        uu += (quad)u[c] * u[c];
        vv += (quad)v[c] * v[c];
    }
    if (uu == 0 || vv == 0)
        return 0;
    quad nu = qsqrt(uu), nv = qsqrt(vv), pi = atan2q(0, -1);
    /* angle by the half-angle form, exact near 0 and pi */
    quad dm = 0, dp = 0;
    for (size_t c = 0; c < d; c++) {
        quad x = (quad)u[c] / nu, y = (quad)v[c] / nv;
        dm += (x - y) * (x - y);
        dp += (x + y) * (x + y);
    }
    quad t = 2 * atan2q(qsqrt(dm), qsqrt(dp));
    return nu * nv / (2 * pi) * (sinq(t) + (pi - t) * cosq(t));
}

/* L = 1/2 sum_{n,n'} c_n c_n' g(u_n, u_n') in quad. */
static quad loss_quad(const config *c)
{
    size_t n = c->m + c->k, d = c->d;
    quad L = 0;
    for (size_t p = 0; p < n; p++)
        for (size_t q = 0; q < n; q++) {
            const double *up = p < c->m ? c->W + p * d : c->V + (p - c->m) * d;
            const double *uq = q < c->m ? c->W + q * d : c->V + (q - c->m) * d;
            quad cp = p < c->m ? c->a[p] : -c->b[p - c->m];
            quad cq = q < c->m ? c->a[q] : -c->b[q - c->m];
            L += cp * cq * g_quad(up, uq, d) / 2;
        }
    return L;
}

/* grad_u g(u, v) = ((pi - t) v + |v| sin t u/|u|) / (2 pi) in quad, added
 * with weight `wgt` into out; nothing for a zero vector. */
static void add_grad_g_quad(const double *u, const double *v, size_t d, quad wgt, quad *out)
{
    quad uu = 0, vv = 0;
    for (size_t c = 0; c < d; c++) {
        uu += (quad)u[c] * u[c];
        vv += (quad)v[c] * v[c];
    }
    if (uu == 0 || vv == 0)
        return;
    quad nu = qsqrt(uu), nv = qsqrt(vv), pi = atan2q(0, -1), dm = 0, dp = 0;
    for (size_t c = 0; c < d; c++) {
        quad x = (quad)u[c] / nu, y = (quad)v[c] / nv;
        dm += (x - y) * (x - y);
        dp += (x + y) * (x + y);
    }
    quad t = 2 * atan2q(qsqrt(dm), qsqrt(dp));
    for (size_t c = 0; c < d; c++)
        out[c] += wgt * ((pi - t) * v[c] + nv * sinq(t) * u[c] / nu) / (2 * pi);
}

/* dL/dw_i = a_i sum_n c_n grad_1 g(w_i, u_n), the n = i term being w_i/2
 * (which is grad_1 g(w, w') at w' = w); dL/da_i = sum_n c_n g(w_i, u_n). */
static void gradient_quad(const config *c, double *gW, double *ga)
{
    size_t m = c->m, d = c->d;
    for (size_t i = 0; i < m; i++) {
        quad acc[MAXD] = {0}, da = 0;
        const double *wi = c->W + i * d;
        for (size_t n = 0; n < m + c->k; n++) {
            const double *un = n < m ? c->W + n * d : c->V + (n - m) * d;
            quad cn = n < m ? c->a[n] : -c->b[n - m];
            if (n == i) {
                for (size_t q = 0; q < d; q++)
                    acc[q] += cn * (quad)wi[q] / 2;
            } else {
                add_grad_g_quad(wi, un, d, cn, acc);
            }
            da += cn * g_quad(wi, un, d);
        }
        for (size_t q = 0; q < d; q++)
            gW[i * d + q] = (double)((quad)c->a[i] * acc[q]);
        ga[i] = (double)da;
    }
}

/* --------------------------------------------------- finite differences */

/* Central differences of tsrelu_loss_accurate, h = 1e-5 |w_i| for row i and
 * h = 1e-5 max(|a_i|, 1) for a_i. Truncation ~ h^2 L''' ~ 1e-10 |a| S,
 * rounding of L ~ 1e-16 S^2 / h ~ 1e-11 S^2 / |w|; tolerance 1e-9 |a|max S
 * for dL/dW and 1e-9 |w|max S for dL/da (observed: below 1e-11). */
static void check_fd(const config *c0, const char *label)
{
    result res;
    evaluate(c0, &res);
    size_t m = c0->m, d = c0->d;
    double S = scale_S(c0), amax = max_abs(c0->a, m), wmax = 0.0;
    for (size_t i = 0; i < m; i++)
        if (row_norm(c0->W + i * d, d) > wmax)
            wmax = row_norm(c0->W + i * d, d);
    config c = *c0;
    for (size_t i = 0; i < m; i++) {
        double h = 1e-5 * row_norm(c0->W + i * d, d);
        for (size_t q = 0; q < d; q++) {
            c.W[i * d + q] = c0->W[i * d + q] + h;
            double Lp = loss_accurate(&c);
            c.W[i * d + q] = c0->W[i * d + q] - h;
            double Lm = loss_accurate(&c);
            c.W[i * d + q] = c0->W[i * d + q];
            double fd = (Lp - Lm) / (2 * h), got = res.gW[i * d + q];
            ck_assert_msg(fabs(got - fd) <= 1e-9 * amax * S,
                          "%s: dL/dW[%zu][%zu] = %.12g, finite difference %.12g (tol %.3g)",
                          label, i, q, got, fd, 1e-9 * amax * S);
        }
        double h_a = 1e-5 * fmax(fabs(c0->a[i]), 1.0);
        c.a[i] = c0->a[i] + h_a;
        double Lp = loss_accurate(&c);
        c.a[i] = c0->a[i] - h_a;
        double Lm = loss_accurate(&c);
        c.a[i] = c0->a[i];
        double fd = (Lp - Lm) / (2 * h_a);
        ck_assert_msg(fabs(res.ga[i] - fd) <= 1e-9 * wmax * S,
                      "%s: dL/da[%zu] = %.12g, finite difference %.12g", label, i, res.ga[i], fd);
    }
}

/* ------------------------------------------------------------------ core */

START_TEST(test_gradient_vs_finite_differences)
{
    static const size_t shapes[][3] = {
        /* m, k, d */
        {1, 1, 1}, {3, 2, 1}, {1, 1, 2}, {1, 3, 4}, {4, 1, 3},
        {2, 2, 2}, {5, 3, 6}, {6, 2, 8}, {3, 4, 5}, {8, 8, 8},
    };
    char label[96];
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int signed_out = 0; signed_out <= 1; signed_out++) {
            config c;
            random_config(&c, shapes[i][0], shapes[i][1], shapes[i][2], 100 + i, signed_out);
            snprintf(label, sizeof label, "m=%zu k=%zu d=%zu %s", c.m, c.k, c.d,
                     signed_out ? "signed a,b" : "a=b=1");
            check_fd(&c, label);
        }
}
END_TEST

/* Monte Carlo over x ~ N(0, I_d) with our own generator: the loss, dL/dW
 * = E[(f - f*) a_i 1{w_i.x > 0} x] and dL/da_i = E[(f - f*) relu(w_i.x)],
 * each within 5 standard errors estimated from the same samples. */
static void check_mc(const config *c, size_t N, uint64_t seed)
{
    /* TSRELU_TEST_QUICK (valgrind): 1/10 of the samples; the bound is in
     * standard errors, so it stays as strict */
    if (fixture_quick())
        N /= 10;
    result res;
    evaluate(c, &res);
    size_t m = c->m, k = c->k, d = c->d, nW = m * d;
    double sum_l = 0, sum_l2 = 0;
    double *sg = calloc(nW + m, sizeof(double)), *sg2 = calloc(nW + m, sizeof(double));
    ck_assert_ptr_nonnull(sg);
    ck_assert_ptr_nonnull(sg2);
    test_rng r;
    rng_init(&r, seed);
    double x[MAXD], pre[MAXN];
    for (size_t s = 0; s < N; s++) {
        for (size_t q = 0; q < d; q++)
            x[q] = rng_normal(&r);
        double e = 0.0;
        for (size_t i = 0; i < m; i++) {
            double z = 0.0;
            for (size_t q = 0; q < d; q++)
                z += c->W[i * d + q] * x[q];
            pre[i] = z;
            if (z > 0)
                e += c->a[i] * z;
        }
        for (size_t j = 0; j < k; j++) {
            double z = 0.0;
            for (size_t q = 0; q < d; q++)
                z += c->V[j * d + q] * x[q];
            if (z > 0)
                e -= c->b[j] * z;
        }
        double l = 0.5 * e * e;
        sum_l += l;
        sum_l2 += l * l;
        for (size_t i = 0; i < m; i++) {
            if (pre[i] <= 0)
                continue;
            for (size_t q = 0; q < d; q++) {
                double gq = e * c->a[i] * x[q];
                sg[i * d + q] += gq;
                sg2[i * d + q] += gq * gq;
            }
            double gai = e * pre[i];
            sg[nW + i] += gai;
            sg2[nW + i] += gai * gai;
        }
    }
    double Nd = (double)N;
    double mean = sum_l / Nd, se = sqrt((sum_l2 / Nd - mean * mean) / (Nd - 1));
    ck_assert_msg(fabs(res.L - mean) <= 5 * se,
                  "m=%zu k=%zu d=%zu: closed-form L = %.10g, Monte Carlo %.10g +- %.3g (SE)", m,
                  k, d, res.L, mean, se);
    ck_assert_msg(se < 1e-2 * mean, "Monte Carlo too noisy to test anything: SE %g", se);
    for (size_t p = 0; p < nW + m; p++) {
        double gm = sg[p] / Nd, gse = sqrt((sg2[p] / Nd - gm * gm) / (Nd - 1));
        double got = p < nW ? res.gW[p] : res.ga[p - nW];
        ck_assert_msg(fabs(got - gm) <= 5 * gse,
                      "m=%zu k=%zu d=%zu: %s[%zu] = %.10g, Monte Carlo %.10g +- %.3g (SE)", m, k,
                      d, p < nW ? "dL/dW" : "dL/da", p < nW ? p : p - nW, got, gm, gse);
    }
    free(sg);
    free(sg2);
}

START_TEST(test_loss_and_gradient_vs_monte_carlo)
{
    config c;
    random_config(&c, 3, 2, 3, 7, 0);
    check_mc(&c, 4000000, 11);
    random_config(&c, 2, 3, 4, 8, 1);
    check_mc(&c, 4000000, 12);
    random_config(&c, 2, 1, 1, 9, 1);
    check_mc(&c, 1000000, 13);
}
END_TEST

/* Random rotation by modified Gram-Schmidt on a Gaussian matrix (rows of Q
 * orthonormal). */
static void random_rotation(double *Q, size_t d, uint64_t seed)
{
    test_rng r;
    rng_init(&r, seed);
    for (size_t i = 0; i < d * d; i++)
        Q[i] = rng_normal(&r);
    for (size_t i = 0; i < d; i++) {
        for (int pass = 0; pass < 2; pass++)
            for (size_t l = 0; l < i; l++) {
                double dt = 0.0;
                for (size_t c = 0; c < d; c++)
                    dt += Q[i * d + c] * Q[l * d + c];
                for (size_t c = 0; c < d; c++)
                    Q[i * d + c] -= dt * Q[l * d + c];
            }
        double n = row_norm(Q + i * d, d);
        for (size_t c = 0; c < d; c++)
            Q[i * d + c] /= n;
    }
}

/* Y = X Q^T for an n x d row-major X: row i of Y is Q x_i. */
static void rotate_rows(const double *X, const double *Q, size_t n, size_t d, double *Y)
{
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < d; r++) {
            double s = 0.0;
            for (size_t c = 0; c < d; c++)
                s += Q[r * d + c] * X[i * d + c];
            Y[i * d + r] = s;
        }
}

START_TEST(test_rotation_invariance)
{
    static const size_t shapes[][3] = {{3, 2, 3}, {5, 3, 6}, {4, 4, 8}, {2, 1, 2}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        config c, cr;
        random_config(&c, shapes[i][0], shapes[i][1], shapes[i][2], 200 + i, 1);
        double Q[MAXD * MAXD], G[MAXN * MAXD];
        random_rotation(Q, c.d, 300 + i);
        cr = c;
        rotate_rows(c.W, Q, c.m, c.d, cr.W);
        rotate_rows(c.V, Q, c.k, c.d, cr.V);
        result r0, r1;
        evaluate(&c, &r0);
        evaluate(&cr, &r1);
        ck_assert_msg(fabs(r1.L - r0.L) <= 1e-13 * r0.L, "shape %zu: L = %.17g, rotated %.17g",
                      i, r0.L, r1.L);
        ck_assert_msg(fabs(r1.La - r0.La) <= 1e-13 * r0.La,
                      "shape %zu: accurate L = %.17g, rotated %.17g", i, r0.La, r1.La);
        rotate_rows(r0.gW, Q, c.m, c.d, G);
        double gs = 1e-13 * scale_S(&c) * max_abs(c.a, c.m);
        for (size_t p = 0; p < c.m * c.d; p++)
            ck_assert_msg(fabs(r1.gW[p] - G[p]) <= gs,
                          "shape %zu: gW(QW)[%zu] = %.17g, (gW(W) Q^T)[%zu] = %.17g", i, p,
                          r1.gW[p], p, G[p]);
        for (size_t p = 0; p < c.m; p++)
            ck_assert_msg(fabs(r1.ga[p] - r0.ga[p]) <= 1e-13 * scale_S(&c) * scale_S(&c),
                          "shape %zu: ga[%zu] = %.17g, rotated %.17g", i, p, r0.ga[p],
                          r1.ga[p]);
    }
}
END_TEST

START_TEST(test_permutation_invariance)
{
    config c, cp;
    random_config(&c, 6, 3, 5, 400, 1);
    static const size_t perm[6] = {3, 0, 5, 1, 4, 2}; /* student i of cp is perm[i] of c */
    cp = c;
    for (size_t i = 0; i < c.m; i++) {
        memcpy(cp.W + i * c.d, c.W + perm[i] * c.d, c.d * sizeof(double));
        cp.a[i] = c.a[perm[i]];
    }
    /* teachers permuted as well */
    for (size_t j = 0; j < c.k; j++) {
        memcpy(cp.V + j * c.d, c.V + ((j + 1) % c.k) * c.d, c.d * sizeof(double));
        cp.b[j] = c.b[(j + 1) % c.k];
    }
    result r0, r1;
    evaluate(&c, &r0);
    evaluate(&cp, &r1);
    double S = scale_S(&c);
    ck_assert_msg(fabs(r1.L - r0.L) <= 1e-14 * r0.L, "L = %.17g, permuted %.17g", r0.L, r1.L);
    ck_assert_msg(fabs(r1.La - r0.La) <= 1e-15 * r0.La, "accurate L = %.17g, permuted %.17g",
                  r0.La, r1.La);
    for (size_t i = 0; i < c.m; i++) {
        for (size_t q = 0; q < c.d; q++)
            ck_assert_msg(fabs(r1.gW[i * c.d + q] - r0.gW[perm[i] * c.d + q]) <=
                              1e-14 * S * max_abs(c.a, c.m),
                          "gW row %zu of the permuted student differs from row %zu", i, perm[i]);
        ck_assert_msg(fabs(r1.ga[i] - r0.ga[perm[i]]) <= 1e-14 * S * S,
                      "ga[%zu] of the permuted student differs from ga[%zu]", i, perm[i]);
    }
}
END_TEST

/* ------------------------------------------------------------ hand values */

/* One student, one teacher. */
static void eval_pair(const double *w, double a, const double *v, double b, size_t d,
                      result *res)
{
    config c;
    memset(&c, 0, sizeof c);
    c.m = c.k = 1;
    c.d = d;
    memcpy(c.W, w, d * sizeof(double));
    memcpy(c.V, v, d * sizeof(double));
    c.a[0] = a;
    c.b[0] = b;
    evaluate(&c, res);
}

START_TEST(test_hand_parallel)
{
    /* w = 2v, |v| = 3: L = (a|w| - b|v|)^2 / 4; dL/dw = a (a w - b v) / 2;
     * dL/da = w.(a w - b v) / 2 (every angle is 0, kappa(0) = 0). */
    static const double ab[][2] = {{1.0, 1.0}, {1.5, 0.7}, {-0.5, 2.0}, {1.0, -1.0}};
    double v[3] = {1.0, 2.0, 2.0}, w[3] = {2.0, 4.0, 4.0};
    for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
        double a = ab[i][0], b = ab[i][1];
        result r;
        eval_pair(w, a, v, b, 3, &r);
        double L = (a * 6.0 - b * 3.0) * (a * 6.0 - b * 3.0) / 4.0;
        ck_assert_msg(fabs(r.L - L) <= 1e-15 * L, "a=%g b=%g: L = %.17g, want %.17g", a, b, r.L,
                      L);
        ck_assert_msg(fabs(r.La - L) <= 1e-15 * L, "a=%g b=%g: accurate L = %.17g, want %.17g",
                      a, b, r.La, L);
        for (int q = 0; q < 3; q++) {
            double g = a * (a * w[q] - b * v[q]) / 2.0;
            ck_assert_msg(fabs(r.gW[q] - g) <= 1e-15 * fabs(a) * 9.0,
                          "a=%g b=%g: gW[%d] = %.17g, want %.17g", a, b, q, r.gW[q], g);
        }
        double ga = (a * 36.0 - b * 18.0) / 2.0;
        ck_assert_msg(fabs(r.ga[0] - ga) <= 1e-15 * 54.0, "a=%g b=%g: ga = %.17g, want %.17g", a,
                      b, r.ga[0], ga);
    }
}
END_TEST

START_TEST(test_hand_antiparallel)
{
    /* w = -s v: g(w, v) = 0 and grad_w g(w, v) = 0 at theta = pi, so
     * L = (a^2 |w|^2 + b^2 |v|^2) / 4, dL/dw = a^2 w / 2, dL/da = a |w|^2 / 2. */
    double v[3] = {1.0, 2.0, 2.0}, w[3] = {-0.5, -1.0, -1.0};
    double a = 1.25, b = -0.75, nw2 = 2.25, nv2 = 9.0;
    result r;
    eval_pair(w, a, v, b, 3, &r);
    double L = (a * a * nw2 + b * b * nv2) / 4.0;
    ck_assert_msg(fabs(r.L - L) <= 1e-15 * L, "L = %.17g, want %.17g", r.L, L);
    ck_assert_msg(fabs(r.La - L) <= 1e-15 * L, "accurate L = %.17g, want %.17g", r.La, L);
    for (int q = 0; q < 3; q++)
        ck_assert_msg(fabs(r.gW[q] - a * a * w[q] / 2.0) <= 1e-15 * 3.0,
                      "gW[%d] = %.17g, want %.17g", q, r.gW[q], a * a * w[q] / 2.0);
    ck_assert_msg(fabs(r.ga[0] - a * nw2 / 2.0) <= 1e-15 * 3.0, "ga = %.17g, want %.17g", r.ga[0],
                  a * nw2 / 2.0);
}
END_TEST

START_TEST(test_hand_orthogonal)
{
    /* w = p e1, v = q e2: g(w, w) = p^2/2, g(v, v) = q^2/2, g(w, v) = p q/(2 pi)
     * (t = pi/2). L = a^2 p^2/4 + b^2 q^2/4 - a b p q/(2 pi);
     * dL/dw = a (a w/2 - b (v/4 + q e1/(2 pi))); dL/da = a p^2/2 - b p q/(2 pi). */
    static const double cases[][4] = {
        /* a, b, p, q */
        {1.0, 1.0, 1.0, 1.0}, {2.0, -1.0, 1.0, 1.0}, {0.5, 1.5, 3.0, 0.25},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double a = cases[i][0], b = cases[i][1], p = cases[i][2], q = cases[i][3];
        double w[2] = {p, 0.0}, v[2] = {0.0, q};
        result r;
        eval_pair(w, a, v, b, 2, &r);
        double L = a * a * p * p / 4 + b * b * q * q / 4 - a * b * p * q / (2 * PI);
        ck_assert_msg(fabs(r.L - L) <= 1e-15 * L, "case %zu: L = %.17g, want %.17g", i, r.L, L);
        ck_assert_msg(fabs(r.La - L) <= 1e-15 * L, "case %zu: accurate L = %.17g, want %.17g", i,
                      r.La, L);
        double g0 = a * (a * p / 2 - b * q / (2 * PI)), g1 = -a * b * q / 4;
        double tol = 1e-15 * fabs(a) * (fabs(a) * p + fabs(b) * q);
        ck_assert_msg(fabs(r.gW[0] - g0) <= tol && fabs(r.gW[1] - g1) <= tol,
                      "case %zu: gW = (%.17g, %.17g), want (%.17g, %.17g)", i, r.gW[0], r.gW[1],
                      g0, g1);
        double ga = a * p * p / 2 - b * p * q / (2 * PI);
        ck_assert_msg(fabs(r.ga[0] - ga) <= 1e-15 * p * (fabs(a) * p + fabs(b) * q),
                      "case %zu: ga = %.17g, want %.17g", i, r.ga[0], ga);
    }
    /* a = b = 1, unit: L = 1/2 - 1/(2 pi) */
    double w[2] = {1.0, 0.0}, v[2] = {0.0, 1.0};
    result r;
    eval_pair(w, 1.0, v, 1.0, 2, &r);
    ck_assert_double_eq_tol(r.L, 0.5 - 1.0 / (2 * PI), 2e-16);
}
END_TEST

START_TEST(test_hand_zero_student)
{
    /* An all-zero student: L = 1/2 E[f*^2]. For k orthogonal teachers of
     * norm s and b = 1: L = 1/2 (k s^2/2 + k (k-1) s^2/(2 pi)). */
    tsrelu_teacher *t;
    const size_t k = 3, d = 5, m = 4;
    const double s = 1.7;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(k, d, s, 3, &t), TSRELU_OK);
    double W[4 * 5] = {0}, gW[4 * 5], ga[4], L, La;
    for (size_t i = 0; i < m * d; i++)
        gW[i] = NAN;
    tsrelu_student *st = make_student(m, d, W, NULL);
    ck_assert_int_eq(tsrelu_loss(st, t, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss_accurate(st, t, &La), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gradient(st, t, gW, m * d, ga, m), TSRELU_OK);
    double want = 0.5 * ((double)k * s * s / 2 + (double)(k * (k - 1)) * s * s / (2 * PI));
    ck_assert_msg(fabs(L - want) <= 1e-15 * want, "L = %.17g, want %.17g", L, want);
    ck_assert_msg(fabs(La - want) <= 1e-15 * want, "accurate L = %.17g, want %.17g", La, want);
    for (size_t i = 0; i < m * d; i++)
        ck_assert_msg(gW[i] == 0.0, "gW[%zu] = %g for a zero student, want 0", i, gW[i]);
    for (size_t i = 0; i < m; i++)
        ck_assert_msg(ga[i] == 0.0, "ga[%zu] = %g for a zero student, want 0", i, ga[i]);
    tsrelu_student_free(st);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_student_equals_teacher)
{
    /* orthogonal unit teacher, W = V, a = b = 1 */
    tsrelu_teacher *t;
    const size_t k = 3, d = 5;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(k, d, 1.0, 99, &t), TSRELU_OK);
    double V[15], gW[15], ga[3], L, La;
    ck_assert_int_eq(tsrelu_teacher_weights(t, V, k * d), TSRELU_OK);
    tsrelu_student *s = make_student(k, d, V, NULL);
    ck_assert_int_eq(tsrelu_loss(s, t, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &La), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gradient(s, t, gW, k * d, ga, k), TSRELU_OK);
    ck_assert_msg(fabs(L) <= 1e-16, "L = %g at the teacher, want 0", L);
    ck_assert_msg(fabs(La) <= 1e-30, "accurate L = %g at the teacher, want 0", La);
    for (size_t i = 0; i < k * d; i++)
        ck_assert_msg(fabs(gW[i]) <= 1e-15, "gW[%zu] = %g at the teacher", i, gW[i]);
    for (size_t i = 0; i < k; i++)
        ck_assert_msg(fabs(ga[i]) <= 1e-15, "ga[%zu] = %g at the teacher", i, ga[i]);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);

    /* a general teacher (signed b, oblique rows), copied into the student */
    config c;
    random_config(&c, 4, 4, 6, 500, 1);
    memcpy(c.W, c.V, sizeof c.W);
    memcpy(c.a, c.b, sizeof c.a);
    result r;
    evaluate(&c, &r);
    double S = scale_S(&c);
    ck_assert_msg(fabs(r.L) <= 1e-16 * S * S, "L = %g at a general teacher (S = %g)", r.L, S);
    ck_assert_msg(fabs(r.La) <= 1e-30 * S * S, "accurate L = %g at a general teacher", r.La);
    for (size_t i = 0; i < c.m * c.d; i++)
        ck_assert_msg(fabs(r.gW[i]) <= 1e-15 * S * max_abs(c.a, c.m), "gW[%zu] = %g", i, r.gW[i]);
    for (size_t i = 0; i < c.m; i++)
        ck_assert_msg(fabs(r.ga[i]) <= 1e-15 * S * S, "ga[%zu] = %g", i, r.ga[i]);
}
END_TEST

START_TEST(test_split_student_zero_loss)
{
    /* Two students on one teacher direction with norms 0.25|v| and 0.75|v|
     * (exact in binary): a zero-loss point, gradient 0. */
    double v[4] = {0.5, -1.0, 2.0, 0.25}, W[8], gW[8], ga[2], L, La;
    for (int q = 0; q < 4; q++) {
        W[q] = 0.25 * v[q];
        W[4 + q] = 0.75 * v[q];
    }
    tsrelu_student *s = make_student(2, 4, W, NULL);
    tsrelu_teacher *t = make_teacher(1, 4, v, NULL);
    ck_assert_int_eq(tsrelu_loss(s, t, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &La), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gradient(s, t, gW, 8, ga, 2), TSRELU_OK);
    ck_assert_msg(fabs(L) <= 1e-16 * 21.0, "L = %g", L);
    ck_assert_msg(fabs(La) <= 1e-30, "accurate L = %g", La);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(fabs(gW[i]) <= 1e-15 * 5.0, "gW[%d] = %g", i, gW[i]);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(fabs(ga[i]) <= 1e-15 * 21.0, "ga[%d] = %g", i, ga[i]);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_zero_student_rows)
{
    /* Rows 1 and 3 of W are zero: their gradient rows and dL/da are exactly 0
     * and the rest equals the student without them. */
    config c, cr;
    random_config(&c, 5, 3, 4, 600, 1);
    for (size_t q = 0; q < c.d; q++)
        c.W[1 * c.d + q] = c.W[3 * c.d + q] = 0.0;
    static const size_t keep[3] = {0, 2, 4};
    cr = c;
    cr.m = 3;
    for (size_t i = 0; i < 3; i++) {
        memcpy(cr.W + i * c.d, c.W + keep[i] * c.d, c.d * sizeof(double));
        cr.a[i] = c.a[keep[i]];
    }
    result r, rr;
    evaluate(&c, &r);
    evaluate(&cr, &rr);
    double S = scale_S(&c);
    for (size_t q = 0; q < c.d; q++) {
        ck_assert_msg(r.gW[1 * c.d + q] == 0.0 && r.gW[3 * c.d + q] == 0.0,
                      "zero rows: gW = %g, %g, want 0", r.gW[c.d + q], r.gW[3 * c.d + q]);
    }
    ck_assert_msg(r.ga[1] == 0.0 && r.ga[3] == 0.0, "zero rows: ga = %g, %g, want 0", r.ga[1],
                  r.ga[3]);
    ck_assert_msg(fabs(r.L - rr.L) <= 1e-15 * rr.L, "L = %.17g, without zero rows %.17g", r.L,
                  rr.L);
    ck_assert_msg(fabs(r.La - rr.La) <= 1e-15 * rr.La, "accurate L = %.17g, without %.17g", r.La,
                  rr.La);
    for (size_t i = 0; i < 3; i++) {
        for (size_t q = 0; q < c.d; q++)
            ck_assert_msg(fabs(r.gW[keep[i] * c.d + q] - rr.gW[i * c.d + q]) <=
                              1e-15 * S * max_abs(c.a, c.m),
                          "gW row %zu changed by the zero rows", keep[i]);
        ck_assert_msg(fabs(r.ga[keep[i]] - rr.ga[i]) <= 1e-15 * S * S,
                      "ga[%zu] changed by the zero rows", keep[i]);
    }
    /* a single zero student with a single teacher, d = 1 */
    double w0 = 0.0, v1 = -2.0, gW1 = NAN, ga1 = NAN, L;
    tsrelu_student *s = make_student(1, 1, &w0, NULL);
    tsrelu_teacher *t = make_teacher(1, 1, &v1, NULL);
    ck_assert_int_eq(tsrelu_loss(s, t, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gradient(s, t, &gW1, 1, &ga1, 1), TSRELU_OK);
    ck_assert_double_eq_tol(L, 1.0, 1e-15); /* 1/2 * 4/2 */
    ck_assert_msg(gW1 == 0.0 && ga1 == 0.0, "zero student, d=1: gW %g ga %g", gW1, ga1);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_closed_form_vs_quad_textbook)
{
    /* Random configurations against the quad textbook sums
     * L = 1/2 sum c c' g and its gradient; tsrelu_loss_accurate agrees with
     * tsrelu_loss to 1e-14 relative. */
    char label[64];
    for (uint64_t seed = 0; seed < 40; seed++) {
        config c;
        size_t m = 1 + seed % 7, k = 1 + (seed / 3) % 5, d = 1 + (seed * 7) % 8;
        random_config(&c, m, k, d, 700 + seed, (int)(seed & 1));
        result r;
        evaluate(&c, &r);
        double Lq = (double)loss_quad(&c), gW[MAXN * MAXD], ga[MAXN];
        gradient_quad(&c, gW, ga);
        double S = scale_S(&c), amax = max_abs(c.a, m);
        snprintf(label, sizeof label, "m=%zu k=%zu d=%zu", m, k, d);
        ck_assert_msg(fabs(r.La - r.L) <= 1e-14 * r.La, "%s: loss %.17g, accurate %.17g", label,
                      r.L, r.La);
        ck_assert_msg(fabs(r.La - Lq) <= 1e-15 * Lq, "%s: accurate %.17g, quad textbook %.17g",
                      label, r.La, Lq);
        ck_assert_msg(fabs(r.L - Lq) <= 1e-14 * Lq, "%s: loss %.17g, quad textbook %.17g", label,
                      r.L, Lq);
        for (size_t p = 0; p < m * d; p++)
            ck_assert_msg(fabs(r.gW[p] - gW[p]) <= 1e-14 * amax * S,
                          "%s: gW[%zu] = %.17g, quad textbook %.17g", label, p, r.gW[p], gW[p]);
        for (size_t p = 0; p < m; p++)
            ck_assert_msg(fabs(r.ga[p] - ga[p]) <= 1e-14 * S * S,
                          "%s: ga[%zu] = %.17g, quad textbook %.17g", label, p, r.ga[p], ga[p]);
    }
}
END_TEST

START_TEST(test_tiny_excess_risk)
{
    /* Students a small angle delta off their teacher: L ~ delta^2 |v|^2 / 4.
     * tsrelu_loss has an absolute error ~ 1e-16 S^2; tsrelu_loss_accurate keeps
     * ~8 digits down to 1e-24 S^2 (the header's promise). Reference: the quad
     * textbook sum (34 digits less the cancellation from S^2 = 16 down to L:
     * at least 9 digits left at delta = 1e-11). */
    static const double delta[] = {1e-3, 1e-5, 1e-7, 1e-9, 1e-11};
    for (size_t i = 0; i < sizeof delta / sizeof delta[0]; i++) {
        config c;
        memset(&c, 0, sizeof c);
        c.m = 3;
        c.k = 2;
        c.d = 3;
        double e = delta[i];
        /* teachers e1 and e2 (norm 1); students 0.5 e1 rotated by +-e in the
         * e1-e3 plane, and e2 rotated by e towards e3 */
        c.V[0] = 1.0;
        c.V[4] = 1.0;
        c.b[0] = c.b[1] = 1.0;
        c.W[0] = 0.5 * cos(e);
        c.W[2] = 0.5 * sin(e);
        c.W[3] = 0.5 * cos(e);
        c.W[5] = -0.5 * sin(e);
        c.W[7] = cos(e);
        c.W[8] = sin(e);
        c.a[0] = c.a[1] = c.a[2] = 1.0;
        result r;
        evaluate(&c, &r);
        double S = scale_S(&c), Lq = (double)loss_quad(&c);
        ck_assert_msg(fabs(r.La - Lq) <= 1e-8 * Lq,
                      "delta %g: accurate %.17g, quad textbook %.17g (rel %.2g)", e, r.La, Lq,
                      fabs(r.La - Lq) / Lq);
        ck_assert_msg(fabs(r.L - Lq) <= 1e-16 * S * S + 1e-12 * Lq,
                      "delta %g: loss %.17g, quad textbook %.17g (abs err %.3g, S^2 = %g)", e,
                      r.L, Lq, fabs(r.L - Lq), S * S);
        /* the gradient needs the angles to ~1e-16 absolute: acos of the
         * cosine would be off by ~1e-16/delta */
        double gW[MAXN * MAXD], ga[MAXN];
        gradient_quad(&c, gW, ga);
        for (size_t p = 0; p < c.m * c.d; p++)
            ck_assert_msg(fabs(r.gW[p] - gW[p]) <= 1e-15 * S,
                          "delta %g: gW[%zu] = %.17g, quad textbook %.17g", e, p, r.gW[p], gW[p]);
        for (size_t p = 0; p < c.m; p++)
            ck_assert_msg(fabs(r.ga[p] - ga[p]) <= 1e-15 * S * S,
                          "delta %g: ga[%zu] = %.17g, quad textbook %.17g", e, p, r.ga[p], ga[p]);
    }
}
END_TEST

/* |x| in quad (exact squares; subnormal entries are normal in quad). */
static double norm_quad(const double *x, size_t d)
{
    quad ss = 0;
    for (size_t c = 0; c < d; c++)
        ss += (quad)x[c] * x[c];
    return (double)qsqrt(ss);
}

/* x (d entries) rescaled to norm `target`, rounded to doubles (the rounded
 * row is the input). */
static void set_norm(double *x, size_t d, double target)
{
    double n = norm_quad(x, d);
    for (size_t c = 0; c < d; c++)
        x[c] = (double)((quad)x[c] * target / n);
}

/* The loss and gradient of `c` against the quad textbook sums, with the
 * bounds of the reference suite (T = sum_n |c_n||u_n|): dL/dW within
 * 1e-14 max|a| T, dL/da_i within 1e-14 |w_i| T, L within 1e-15 T^2; each
 * plus (m + k + d) 2^-1074 for the results that are themselves subnormal
 * (each of their roundings can err by half the subnormal spacing). */
static void check_against_quad(const config *c, const char *label)
{
    result r;
    evaluate(c, &r);
    size_t m = c->m, k = c->k, d = c->d;
    double gW[MAXN * MAXD], ga[MAXN], T = 0.0;
    gradient_quad(c, gW, ga);
    for (size_t i = 0; i < m; i++)
        T += fabs(c->a[i]) * norm_quad(c->W + i * d, d);
    for (size_t j = 0; j < k; j++)
        T += fabs(c->b[j]) * norm_quad(c->V + j * d, d);
    double floor = (double)(m + k + d) * 0x1p-1074, L = (double)loss_quad(c);
    ck_assert_msg(isfinite(r.L) && fabs(r.L - L) <= 1e-15 * T * T + floor,
                  "%s: L = %.17g, quad textbook %.17g", label, r.L, L);
    ck_assert_msg(fabs(r.La - L) <= 1e-15 * L + floor, "%s: accurate L = %.17g, quad %.17g",
                  label, r.La, L);
    for (size_t i = 0; i < m; i++) {
        for (size_t q = 0; q < d; q++)
            ck_assert_msg(fabs(r.gW[i * d + q] - gW[i * d + q]) <=
                              1e-14 * max_abs(c->a, m) * T + floor,
                          "%s: gW[%zu][%zu] = %.17g, quad textbook %.17g", label, i, q,
                          r.gW[i * d + q], gW[i * d + q]);
        double nw = norm_quad(c->W + i * d, d);
        ck_assert_msg(fabs(r.ga[i] - ga[i]) <= 1e-14 * nw * T + floor,
                      "%s: ga[%zu] = %.17g, quad textbook %.17g (|w| = %g)", label, i, r.ga[i],
                      ga[i], nw);
    }
}

START_TEST(test_tiny_and_subnormal_rows)
{
    /* Rows of norm 1e-300 (1/|w| = 1e300), 1e-309 and 1e-320 (subnormal:
     * 1/|w| overflows) and a row of smallest subnormals, among normal
     * rows: finite results, as accurate as for normal rows. The gradient
     * row of a tiny student is of order T: it needs the direction of w_i to
     * full precision although |w_i| itself keeps only a few bits. */
    static const double norms[] = {1e-300, 1e-309, 1e-320};
    config c;
    random_config(&c, 6, 2, 5, 1200, 1);
    for (size_t i = 0; i < 3; i++)
        set_norm(c.W + (i + 1) * c.d, c.d, norms[i]);
    static const double smallest[5] = {0x1p-1074, -0x1p-1074, 0x1p-1074, 0.0, 0.0};
    memcpy(c.W + 4 * c.d, smallest, sizeof smallest);
    check_against_quad(&c, "tiny students");

    /* a tiny teacher next to a normal one, and every neuron tiny */
    config ct = c;
    set_norm(ct.V + ct.d, ct.d, 1e-310);
    check_against_quad(&ct, "tiny teacher");
    config all = c;
    for (size_t i = 0; i < all.m; i++)
        set_norm(all.W + i * all.d, all.d, i == 4 ? 3e-323 : 1e-309 * (double)(i + 1));
    for (size_t j = 0; j < all.k; j++)
        set_norm(all.V + j * all.d, all.d, 2e-309);
    check_against_quad(&all, "all tiny");
}
END_TEST

START_TEST(test_huge_row_gradient)
{
    /* A student of norm 1.5 2^1022, whose 1/|w| is subnormal, next to rows of
     * norm ~2^1020: L overflows, dL/dW (of order T < 2^1024) must not, and
     * must be as accurate as elsewhere against the quad textbook sums. */
    config c;
    random_config(&c, 2, 1, 3, 1300, 0);
    set_norm(c.W, c.d, 1.5 * 0x1p1022);
    set_norm(c.W + c.d, c.d, 0x1p1020);
    set_norm(c.V, c.d, 0x1p1020);
    tsrelu_student *s = make_student(c.m, c.d, c.W, c.a);
    tsrelu_teacher *t = make_teacher(c.k, c.d, c.V, c.b);
    double gW[MAXN * MAXD], qW[MAXN * MAXD], qa[MAXN], T = 0.0;
    ck_assert_int_eq(tsrelu_gradient(s, t, gW, c.m * c.d, NULL, 0), TSRELU_OK);
    gradient_quad(&c, qW, qa);
    for (size_t i = 0; i < c.m; i++)
        T += norm_quad(c.W + i * c.d, c.d);
    T += norm_quad(c.V, c.d);
    for (size_t p = 0; p < c.m * c.d; p++)
        ck_assert_msg(fabs(gW[p] - qW[p]) <= 1e-14 * T, "gW[%zu] = %.17g, quad textbook %.17g",
                      p, gW[p], qW[p]);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_extreme_scales)
{
    /* L(sW, sV) = s^2 L(W, V), dL/dW scales like s, dL/da like s^2; no
     * spurious overflow or underflow for s = 1e-150 .. 1e150. */
    config c;
    random_config(&c, 4, 3, 5, 800, 1);
    result r0;
    evaluate(&c, &r0);
    static const double sc[] = {1e-150, 1e-100, 1e100, 1e150};
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        double s = sc[i];
        config cs = c;
        for (size_t p = 0; p < c.m * c.d; p++)
            cs.W[p] = s * c.W[p];
        for (size_t p = 0; p < c.k * c.d; p++)
            cs.V[p] = s * c.V[p];
        result r;
        evaluate(&cs, &r);
        double want = r0.L * s * s;
        ck_assert_msg(isfinite(r.L) && r.L > 0 && fabs(r.L - want) <= 1e-13 * want,
                      "s=%g: L = %.17g, want s^2 L = %.17g", s, r.L, want);
        want = r0.La * s * s;
        ck_assert_msg(isfinite(r.La) && fabs(r.La - want) <= 1e-13 * want,
                      "s=%g: accurate L = %.17g, want %.17g", s, r.La, want);
        double gs = 1e-13 * scale_S(&c) * max_abs(c.a, c.m);
        for (size_t p = 0; p < c.m * c.d; p++)
            ck_assert_msg(fabs(r.gW[p] / s - r0.gW[p]) <= gs,
                          "s=%g: gW[%zu]/s = %.17g, want %.17g", s, p, r.gW[p] / s, r0.gW[p]);
        for (size_t p = 0; p < c.m; p++)
            ck_assert_msg(fabs(r.ga[p] / (s * s) - r0.ga[p]) <= 1e-13 * scale_S(&c) * scale_S(&c),
                          "s=%g: ga[%zu]/s^2 = %.17g, want %.17g", s, p, r.ga[p] / (s * s),
                          r0.ga[p]);
    }
}
END_TEST

START_TEST(test_deterministic)
{
    config c;
    random_config(&c, 6, 3, 7, 900, 1);
    result r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    evaluate(&c, &r1);
    evaluate(&c, &r2);
    ck_assert_msg(memcmp(&r1, &r2, sizeof r1) == 0, "two evaluations differ");
}
END_TEST

/* ---------------------------------------------------------------- limits */

/* Fixture: a 3 x 4 student and a 2 x 4 teacher, and a 2 x 3 teacher. */
static tsrelu_student *fs;
static tsrelu_teacher *ft, *ft3;

static void setup(void)
{
    config c;
    random_config(&c, 3, 2, 4, 1000, 1);
    fs = make_student(3, 4, c.W, c.a);
    ft = make_teacher(2, 4, c.V, c.b);
    ft3 = make_teacher(2, 3, c.V, c.b);
}

static void teardown(void)
{
    tsrelu_student_free(fs);
    tsrelu_teacher_free(ft);
    tsrelu_teacher_free(ft3);
}

START_TEST(test_null_arguments)
{
    double L, gW[12], ga[3];
    ck_assert_int_eq(tsrelu_loss(NULL, ft, &L), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_loss(fs, NULL, &L), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_loss(fs, ft, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_loss_accurate(NULL, ft, &L), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_loss_accurate(fs, NULL, &L), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_loss_accurate(fs, ft, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gradient(NULL, ft, gW, 12, ga, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gradient(fs, NULL, gW, 12, ga, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, NULL, 12, ga, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gradient(NULL, NULL, NULL, 0, NULL, 0), TSRELU_EINVAL);
}
END_TEST

START_TEST(test_dimension_mismatch)
{
    double L, gW[12], ga[3];
    ck_assert_int_eq(tsrelu_loss(fs, ft3, &L), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_loss_accurate(fs, ft3, &L), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_gradient(fs, ft3, gW, 12, ga, 3), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_gradient(fs, ft3, gW, 12, NULL, 0), TSRELU_EDIM);
}
END_TEST

START_TEST(test_wrong_lengths)
{
    double gW[13], ga[4];
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 11, ga, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 13, ga, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 0, ga, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 3, ga, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 12, ga, 2), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 12, ga, 4), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 12, ga, 0), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 12, ga, 12), TSRELU_ELENGTH);
}
END_TEST

START_TEST(test_ga_null_any_length)
{
    double gW_ref[12], ga[3], gW[12];
    ck_assert_int_eq(tsrelu_gradient(fs, ft, gW_ref, 12, ga, 3), TSRELU_OK);
    static const size_t lens[] = {0, 3, 7, SIZE_MAX};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        for (int p = 0; p < 12; p++)
            gW[p] = NAN;
        ck_assert_int_eq(tsrelu_gradient(fs, ft, gW, 12, NULL, lens[i]), TSRELU_OK);
        for (int p = 0; p < 12; p++)
            ck_assert_msg(fabs(gW[p] - gW_ref[p]) <= 1e-15 * fabs(gW_ref[p]),
                          "ga_len %zu: gW[%d] = %.17g, with ga %.17g", lens[i], p, gW[p],
                          gW_ref[p]);
    }
}
END_TEST

START_TEST(test_overflowing_result)
{
    /* Norms of 1e200: L ~ 1e400 and dL/da ~ 1e400 overflow, which is
     * reported as TSRELU_ENONFINITE, never returned as Inf. dL/dW ~ 1e200 is
     * still representable. */
    config c;
    random_config(&c, 2, 2, 3, 1100, 0);
    for (size_t p = 0; p < 6; p++) {
        c.W[p] *= 1e200;
        c.V[p] *= 1e200;
    }
    tsrelu_student *s = make_student(2, 3, c.W, c.a);
    tsrelu_teacher *t = make_teacher(2, 3, c.V, c.b);
    double L = 0, gW[6], ga[2];
    ck_assert_int_eq(tsrelu_loss(s, t, &L), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &L), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_gradient(s, t, gW, 6, ga, 2), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_gradient(s, t, gW, 6, NULL, 0), TSRELU_OK);
    for (int p = 0; p < 6; p++)
        ck_assert_msg(isfinite(gW[p]), "gW[%d] = %g", p, gW[p]);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

Suite *population_suite(void)
{
    Suite *s = suite_create("population");

    TCase *tc_core = tcase_create("core");
    tcase_set_timeout(tc_core, 60);
    tcase_add_test(tc_core, test_gradient_vs_finite_differences);
    tcase_add_test(tc_core, test_loss_and_gradient_vs_monte_carlo);
    tcase_add_test(tc_core, test_rotation_invariance);
    tcase_add_test(tc_core, test_permutation_invariance);
    tcase_add_test(tc_core, test_hand_parallel);
    tcase_add_test(tc_core, test_hand_antiparallel);
    tcase_add_test(tc_core, test_hand_orthogonal);
    tcase_add_test(tc_core, test_hand_zero_student);
    tcase_add_test(tc_core, test_student_equals_teacher);
    tcase_add_test(tc_core, test_split_student_zero_loss);
    tcase_add_test(tc_core, test_zero_student_rows);
    tcase_add_test(tc_core, test_closed_form_vs_quad_textbook);
    tcase_add_test(tc_core, test_tiny_excess_risk);
    tcase_add_test(tc_core, test_extreme_scales);
    tcase_add_test(tc_core, test_tiny_and_subnormal_rows);
    tcase_add_test(tc_core, test_huge_row_gradient);
    tcase_add_test(tc_core, test_deterministic);
    suite_add_tcase(s, tc_core);

    TCase *tc_limits = tcase_create("limits");
    tcase_add_checked_fixture(tc_limits, setup, teardown);
    tcase_add_test(tc_limits, test_null_arguments);
    tcase_add_test(tc_limits, test_dimension_mismatch);
    tcase_add_test(tc_limits, test_wrong_lengths);
    tcase_add_test(tc_limits, test_ga_null_any_length);
    tcase_add_test(tc_limits, test_overflowing_result);
    suite_add_tcase(s, tc_limits);

    return s;
}

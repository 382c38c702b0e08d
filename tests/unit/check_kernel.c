/* Check suite for src/kernel.c: kappa, stable angles, the safe norm, the pair
 * kernel g(u, v) and its gradient, and their quadruple-precision versions.
 * References are computed here in quadruple precision (libquadmath) from
 * the textbook formulas, never taken from the library. */
#include "suites.h"

#include "kernel.h"

#include <cblas.h>
#include <stdlib.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* libquadmath, declared here as src/kernel.c does. */
extern tsrelu_quad sqrtq(tsrelu_quad);
extern tsrelu_quad sinq(tsrelu_quad);
extern tsrelu_quad cosq(tsrelu_quad);
extern tsrelu_quad acosq(tsrelu_quad);
extern tsrelu_quad atan2q(tsrelu_quad, tsrelu_quad);

static tsrelu_quad pi_q(void)
{
    return atan2q(0, -1);
}

static tsrelu_quad fabs_q(tsrelu_quad x)
{
    return x < 0 ? -x : x;
}

/* kappa(theta) = sin(theta) - theta cos(theta) in quad: the cancellation
 * costs about log10(3 / theta^2) of quad's 34 digits, i.e. at most 13 digits
 * for theta >= 1e-6. */
static tsrelu_quad kappa_ref(double theta)
{
    tsrelu_quad t = theta;
    return sinq(t) - t * cosq(t);
}

/* Small deterministic generator for test vectors (xorshift64*). */
static uint64_t rng_state;

static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

static double uniform_pm1(void)
{
    return 2.0 * uniform01() - 1.0;
}

/* Exact angle of the vector (x, y) against (1, 0), from the double inputs. */
static double angle_ref_2d(double x, double y)
{
    return (double)atan2q((tsrelu_quad)y, (tsrelu_quad)x);
}

/* ulp of a positive double */
static double ulp(double x)
{
    return nextafter(x, INFINITY) - x;
}

/* Angles at which the stable formula must be accurate, as exact doubles. */
static const double test_angles[] = {
    1e-12, 1e-8, 1e-4, 1.5707963267948966 /* fl(pi/2) */,
    3.141592653589793 - 1e-8, 3.141592653589793 - 1e-12,
};
#define N_ANGLES (sizeof test_angles / sizeof test_angles[0])

/* ------------------------------------------------------------------ kappa */

START_TEST(test_kappa_vs_direct)
{
    static const double th[] = {1e-6, 1e-3, 0.5, 0.99, 1.01, 2.0, 3.141592653589793};
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
        double want = (double)kappa_ref(th[i]);
        double got = tsrelu__kappa(th[i]);
        ck_assert_msg(fabs(got - want) <= 1e-15 * want,
                      "kappa(%.17g) = %.17g, want %.17g (rel err %.3g)", th[i], got, want,
                      fabs(got - want) / want);
    }
}
END_TEST

START_TEST(test_kappa_vs_taylor)
{
    /* theta^3/3 - theta^5/30 is exact to theta^4/280 relative (< 4e-23 at
     * theta = 1e-5); evaluated in quad. */
    static const double th[] = {1e-6, 3e-6, 1e-5, 1e-100};
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
        tsrelu_quad t = th[i];
        double want = (double)(t * t * t / 3 - t * t * t * t * t / 30);
        double got = tsrelu__kappa(th[i]);
        ck_assert_msg(fabs(got - want) <= 1e-15 * want,
                      "kappa(%.17g) = %.17g, Taylor %.17g (rel err %.3g)", th[i], got, want,
                      fabs(got - want) / want);
    }
    ck_assert_double_eq(tsrelu__kappa(0.0), 0.0);
}
END_TEST

START_TEST(test_kappa_continuous_at_switch)
{
    /* Both sides of every plausible switch between series and direct form
     * must match the reference. */
    static const double sw[] = {0.25, 0.5, 0.7, 1.0, 1.5};
    for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++) {
        double th[3] = {nextafter(sw[i], 0.0), sw[i], nextafter(sw[i], 4.0)};
        for (int j = 0; j < 3; j++) {
            double want = (double)kappa_ref(th[j]);
            double got = tsrelu__kappa(th[j]);
            ck_assert_msg(fabs(got - want) <= 1e-15 * want,
                          "kappa(%.17g) = %.17g, want %.17g", th[j], got, want);
        }
    }
}
END_TEST

START_TEST(test_kappa_sc_matches_kappa)
{
    static const double th[] = {1e-6, 1e-3, 0.5, 0.99, 1.01, 2.0, 3.0};
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
        double want = (double)kappa_ref(th[i]);
        double got = tsrelu__kappa_sc(th[i], sin(th[i]), cos(th[i]));
        ck_assert_msg(fabs(got - want) <= 1e-15 * want,
                      "kappa_sc(%.17g) = %.17g, want %.17g", th[i], got, want);
    }
}
END_TEST

/* ------------------------------------------------------------------ angles */

START_TEST(test_angle_exact_construction)
{
    for (size_t i = 0; i < N_ANGLES; i++) {
        double t = test_angles[i];
        double u[2] = {1.0, 0.0}, v[2] = {cos(t), sin(t)};
        double want = angle_ref_2d(v[0], v[1]);
        /* the rounded vector is within a fraction of an ulp of angle t */
        ck_assert_msg(fabs(want - t) <= ulp(t), "test set-up: angle %.17g vs t %.17g", want, t);
        double got = tsrelu__angle(u, v, 2);
        ck_assert_msg(fabs(got - want) <= 4 * ulp(want),
                      "angle(t=%.17g) = %.17g, want %.17g (%.2f ulp)", t, got, want,
                      fabs(got - want) / ulp(want));
        /* scaled and swapped arguments, embedded in d = 5 */
        double U[5] = {0, 3.5, 0, 0, 0}, Vv[5] = {0, 0.25 * v[0], 0, 0.25 * v[1], 0};
        got = tsrelu__angle(Vv, U, 5);
        ck_assert_msg(fabs(got - want) <= 4 * ulp(want),
                      "angle d=5 (t=%.17g) = %.17g, want %.17g", t, got, want);
    }
}
END_TEST

START_TEST(test_angle_unit_exact_construction)
{
    for (size_t i = 0; i < N_ANGLES; i++) {
        double t = test_angles[i];
        double p[2] = {1.0, 0.0}, q[2] = {cos(t), sin(t)};
        double nq = hypot(q[0], q[1]);
        q[0] /= nq;
        q[1] /= nq;
        double want = angle_ref_2d(q[0], q[1]);
        double c = p[0] * q[0] + p[1] * q[1];
        double s_out = -9.0, c_out = -9.0;
        double got = tsrelu__angle_unit(p, q, 2, c, &s_out, &c_out);
        ck_assert_msg(fabs(got - want) <= 4 * ulp(want),
                      "angle_unit(t=%.17g) = %.17g, want %.17g (%.2f ulp)", t, got, want,
                      fabs(got - want) / ulp(want));
        double sw = (double)sinq((tsrelu_quad)want), cw = (double)cosq((tsrelu_quad)want);
        ck_assert_msg(fabs(s_out - sw) <= 4 * ulp(fabs(sw)) + 1e-300,
                      "sin out %.17g, want %.17g (t=%.17g)", s_out, sw, t);
        ck_assert_msg(fabs(c_out - cw) <= 2.3e-16,
                      "cos out %.17g, want %.17g (t=%.17g)", c_out, cw, t);
    }
}
END_TEST

START_TEST(test_angle_paths_agree_near_switch)
{
    /* cos theta = +-0.7 (1 +- delta): both the acos path and the exact path
     * of angle_unit, and the always-exact tsrelu__angle, against quad. */
    static const double delta[] = {-1e-6, -1e-12, 0.0, 1e-12, 1e-6};
    for (int sign = -1; sign <= 1; sign += 2)
        for (size_t i = 0; i < sizeof delta / sizeof delta[0]; i++) {
            double c0 = sign * 0.7 * (1.0 + delta[i]);
            double p[2] = {1.0, 0.0}, q[2] = {c0, sqrt((1.0 - c0) * (1.0 + c0))};
            double want = angle_ref_2d(q[0], q[1]);
            double c = q[0];
            double so, co;
            double a_unit = tsrelu__angle_unit(p, q, 2, c, &so, &co);
            double a_acos = acos(c);
            double a_exact = tsrelu__angle(p, q, 2);
            ck_assert_msg(fabs(a_unit - want) <= 1e-15,
                          "angle_unit at cos %.17g: %.17g, want %.17g", c, a_unit, want);
            ck_assert_msg(fabs(a_exact - want) <= 1e-15,
                          "angle at cos %.17g: %.17g, want %.17g", c, a_exact, want);
            ck_assert_msg(fabs(a_unit - a_exact) <= 1e-15 && fabs(a_unit - a_acos) <= 1e-15,
                          "paths disagree at cos %.17g: unit %.17g exact %.17g acos %.17g",
                          c, a_unit, a_exact, a_acos);
            ck_assert_double_eq_tol(so, (double)sinq((tsrelu_quad)want), 1e-15);
            ck_assert_double_eq_tol(co, (double)cosq((tsrelu_quad)want), 1e-15);
        }
}
END_TEST

START_TEST(test_angle_random_vs_quad)
{
    rng_state = 0x1234567u;
    for (int rep = 0; rep < 200; rep++) {
        size_t d = 1 + (size_t)rep % 7;
        double u[7], v[7];
        tsrelu_quad uu = 0, vv = 0, uv = 0;
        for (size_t c = 0; c < d; c++) {
            u[c] = uniform_pm1();
            v[c] = uniform_pm1();
            uu += (tsrelu_quad)u[c] * u[c];
            vv += (tsrelu_quad)v[c] * v[c];
            uv += (tsrelu_quad)u[c] * v[c];
        }
        double want = (double)acosq(uv / sqrtq(uu * vv));
        double got = tsrelu__angle(u, v, d);
        /* rounding the unit vectors moves them by ~1e-16 rad */
        ck_assert_msg(fabs(got - want) <= 1e-15, "d=%zu angle %.17g, want %.17g", d, got,
                      want);
    }
}
END_TEST

/* -------------------------------------------------------------------- norm */

START_TEST(test_norm_scales)
{
    static const double scale[] = {1e-200, 1e-160, 1.0, 1e160, 1e200};
    for (size_t i = 0; i < sizeof scale / sizeof scale[0]; i++) {
        double x[2] = {3.0 * scale[i], -4.0 * scale[i]};
        double want = 5.0 * scale[i];
        double got = tsrelu__norm(x, 2);
        ck_assert_msg(isfinite(got) && fabs(got - want) <= 4e-16 * want,
                      "norm(3s, -4s) = %.17g, want %.17g", got, want);
        double y[100];
        for (int c = 0; c < 100; c++)
            y[c] = scale[i];
        got = tsrelu__norm(y, 100);
        want = 10.0 * scale[i];
        ck_assert_msg(isfinite(got) && fabs(got - want) <= 4e-15 * want,
                      "norm(100 x s) = %.17g, want %.17g", got, want);
    }
}
END_TEST

START_TEST(test_norm_mixed_and_random)
{
    double x[3] = {1e200, 1e-200, -1e180};
    double got = tsrelu__norm(x, 3);
    ck_assert_msg(fabs(got - 1e200) <= 4e-16 * 1e200, "norm = %.17g", got);

    rng_state = 0xfeedu;
    for (int rep = 0; rep < 100; rep++) {
        double y[9];
        tsrelu_quad ss = 0;
        for (int c = 0; c < 9; c++) {
            y[c] = uniform_pm1() * 1e3;
            ss += (tsrelu_quad)y[c] * y[c];
        }
        double want = (double)sqrtq(ss);
        got = tsrelu__norm(y, 9);
        ck_assert_msg(fabs(got - want) <= 4e-16 * want, "norm = %.17g, want %.17g", got, want);
    }
}
END_TEST

/* ------------------------------------------------------ pair g and grad */

/* Textbook g and grad in quad: |u||v|/(2 pi) (sin t + (pi - t) cos t) and
 * 1/(2 pi) ((pi - t) v + |v| sin t u^). */
static double g_textbook(const double *u, const double *v, size_t d, double *grad)
{
    tsrelu_quad uu = 0, vv = 0, uv = 0;
    for (size_t c = 0; c < d; c++) {
        uu += (tsrelu_quad)u[c] * u[c];
        vv += (tsrelu_quad)v[c] * v[c];
        uv += (tsrelu_quad)u[c] * v[c];
    }
    tsrelu_quad nu = sqrtq(uu), nv = sqrtq(vv), cs = uv / (nu * nv);
    if (cs > 1)
        cs = 1;
    if (cs < -1)
        cs = -1;
    tsrelu_quad t = acosq(cs), pi = pi_q();
    for (size_t c = 0; c < d; c++)
        grad[c] = (double)(((pi - t) * v[c] + nv * sinq(t) * u[c] / nu) / (2 * pi));
    return (double)(nu * nv / (2 * pi) * (sinq(t) + (pi - t) * cs));
}

/* A pair at angle `t` in a random plane of R^d, norms nu and nv. */
static void pair_at_angle(size_t d, double t, double nu, double nv, double *u, double *v)
{
    double e1[8], e2[8];
    for (size_t c = 0; c < d; c++) {
        e1[c] = uniform_pm1();
        e2[c] = uniform_pm1();
    }
    double n1 = 0, dot = 0, n2 = 0;
    for (size_t c = 0; c < d; c++)
        n1 += e1[c] * e1[c];
    n1 = sqrt(n1);
    for (size_t c = 0; c < d; c++) {
        e1[c] /= n1;
        dot += e1[c] * e2[c];
    }
    for (size_t c = 0; c < d; c++)
        e2[c] -= dot * e1[c];
    for (size_t c = 0; c < d; c++)
        n2 += e2[c] * e2[c];
    n2 = sqrt(n2);
    for (size_t c = 0; c < d; c++) {
        e2[c] /= n2;
        u[c] = nu * e1[c];
        v[c] = nv * (cos(t) * e1[c] + sin(t) * e2[c]);
    }
}

START_TEST(test_pair_g_textbook)
{
    rng_state = 0xabcdefu;
    static const double th[] = {1e-9, 1e-5, 0.3, 1.0, 1.5707963267948966, 2.5,
                                3.141592653589793 - 1e-5, 3.141592653589793 - 1e-9};
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++)
        for (size_t d = 2; d <= 6; d += 2) {
            double u[8], v[8], gr[8], gr_ref[8];
            double nu = 0.5 + uniform01() * 2.0, nv = 0.5 + uniform01() * 2.0;
            pair_at_angle(d, th[i], nu, nv, u, v);
            double want = g_textbook(u, v, d, gr_ref);
            double got = tsrelu__pair_g(u, v, d);
            ck_assert_msg(fabs(got - want) <= 1e-14 * nu * nv,
                          "g at theta %.3g, d=%zu: %.17g, want %.17g", th[i], d, got, want);
            ck_assert_msg(fabs(tsrelu__pair_g(v, u, d) - want) <= 1e-14 * nu * nv,
                          "g(v,u) != g(u,v) at theta %.3g", th[i]);
            tsrelu__pair_grad(u, v, d, gr);
            for (size_t c = 0; c < d; c++)
                ck_assert_msg(fabs(gr[c] - gr_ref[c]) <= 1e-14 * nv,
                              "grad[%zu] at theta %.3g, d=%zu: %.17g, want %.17g", c, th[i],
                              d, gr[c], gr_ref[c]);
        }
}
END_TEST

START_TEST(test_pair_g_random_and_d1)
{
    rng_state = 0x5151u;
    for (int rep = 0; rep < 300; rep++) {
        size_t d = 1 + (size_t)rep % 6;
        double u[8], v[8], gr[8], gr_ref[8];
        for (size_t c = 0; c < d; c++) {
            u[c] = 3.0 * uniform_pm1();
            v[c] = 3.0 * uniform_pm1();
        }
        double nu = tsrelu__norm(u, d), nv = tsrelu__norm(v, d);
        double want = g_textbook(u, v, d, gr_ref);
        double got = tsrelu__pair_g(u, v, d);
        ck_assert_msg(fabs(got - want) <= 1e-14 * nu * nv, "d=%zu g %.17g, want %.17g", d,
                      got, want);
        tsrelu__pair_grad(u, v, d, gr);
        for (size_t c = 0; c < d; c++)
            ck_assert_msg(fabs(gr[c] - gr_ref[c]) <= 1e-14 * nv,
                          "d=%zu grad[%zu] %.17g, want %.17g", d, c, gr[c], gr_ref[c]);
    }
    /* d = 1 by hand: E[relu(ux) relu(vx)] = uv/2 for equal signs, else 0 */
    double a = 1.5, b = -0.5, c = 2.0;
    ck_assert_double_eq_tol(tsrelu__pair_g(&a, &c, 1), 1.5, 1e-15);
    ck_assert_double_eq_tol(tsrelu__pair_g(&b, &c, 1), 0.0, 1e-16);
    ck_assert_double_eq_tol(tsrelu__pair_g(&b, &b, 1), 0.125, 1e-16);
}
END_TEST

START_TEST(test_pair_grad_vs_finite_differences)
{
    /* Central differences, h = 1e-5 |u|: truncation ~ h^2 |g'''| ~ 1e-10 |v|,
     * rounding ~ 1e-16 |u||v| / h ~ 1e-11 |v|; tolerance 1e-8 |v|. */
    rng_state = 0x77u;
    for (int rep = 0; rep < 60; rep++) {
        size_t d = 1 + (size_t)rep % 5;
        double u[8], v[8], gr[8];
        do {
            for (size_t c = 0; c < d; c++) {
                u[c] = 2.0 * uniform_pm1();
                v[c] = 2.0 * uniform_pm1();
            }
        } while (tsrelu__norm(u, d) < 0.2 || tsrelu__norm(v, d) < 0.2);
        double nu = tsrelu__norm(u, d), nv = tsrelu__norm(v, d), h = 1e-5 * nu;
        tsrelu__pair_grad(u, v, d, gr);
        for (size_t c = 0; c < d; c++) {
            double up[8], um[8];
            memcpy(up, u, sizeof up);
            memcpy(um, u, sizeof um);
            up[c] += h;
            um[c] -= h;
            double fd = (tsrelu__pair_g(up, v, d) - tsrelu__pair_g(um, v, d)) / (2 * h);
            ck_assert_msg(fabs(fd - gr[c]) <= 1e-8 * nv,
                          "d=%zu grad[%zu] = %.12g, finite difference %.12g", d, c, gr[c], fd);
        }
    }
}
END_TEST

START_TEST(test_pair_g_scaling)
{
    /* g is bilinear in the norms: g(s u, t v) = s t g(u, v), also at extreme
     * scales whose product is representable. */
    rng_state = 0x999u;
    double u[4], v[4], us[4], vs[4];
    for (int c = 0; c < 4; c++) {
        u[c] = uniform_pm1();
        v[c] = uniform_pm1();
    }
    double g1 = tsrelu__pair_g(u, v, 4);
    static const double sc[][2] = {{1e-150, 1e-150}, {1e150, 1e150}, {1e-200, 1e200},
                                   {2.0, 0.125}};
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        for (int c = 0; c < 4; c++) {
            us[c] = sc[i][0] * u[c];
            vs[c] = sc[i][1] * v[c];
        }
        double want = sc[i][0] * sc[i][1] * g1;
        double got = tsrelu__pair_g(us, vs, 4);
        ck_assert_msg(isfinite(got) && fabs(got - want) <= 1e-14 * fabs(want),
                      "g(%g u, %g v) = %.17g, want %.17g", sc[i][0], sc[i][1], got, want);
    }
}
END_TEST

/* ------------------------------------------------------------------ quad */

START_TEST(test_kappa_q)
{
    static const double th[] = {1e-6, 1e-3, 0.1, 0.2, 0.2499999, 0.25, 0.5, 1.01, 2.0,
                                3.141592653589793};
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
        double want = tsrelu__kappa(th[i]);
        tsrelu_quad kq = tsrelu__kappa_q((tsrelu_quad)th[i]);
        double got = (double)kq;
        ck_assert_msg(fabs(got - want) <= 1e-15 * want,
                      "kappa_q(%.17g) = %.17g, double kappa %.17g", th[i], got, want);
        /* against the quad reference: the direct form where it keeps >= 29
         * digits (theta >= 0.01), else four Taylor terms (the fifth is
         * below 1e-30 relative for theta <= 1e-3) */
        tsrelu_quad t = th[i], t2 = t * t, ref;
        if (th[i] >= 0.01)
            ref = sinq(t) - t * cosq(t);
        else
            ref = t * t2 * (1 / (tsrelu_quad)3 - t2 / 30 + t2 * t2 / 840 - t2 * t2 * t2 / 45360);
        ck_assert_msg(fabs_q(kq - ref) <= (tsrelu_quad)1e-28 * ref,
                      "kappa_q(%.17g) rel err %.3g vs quad reference", th[i],
                      (double)(fabs_q(kq - ref) / ref));
    }
}
END_TEST

/* Angle of unit vectors in double and in quad from the same raw vectors. */
static void angle_both(const double *u, const double *v, size_t d, double *ad, double *aq)
{
    double p[8], q[8], c = 0, so, co;
    tsrelu_quad pq[8], qq[8], su = 0, sv = 0;
    double nu = tsrelu__norm(u, d), nv = tsrelu__norm(v, d);
    for (size_t k = 0; k < d; k++) {
        p[k] = u[k] / nu;
        q[k] = v[k] / nv;
        c += p[k] * q[k];
        su += (tsrelu_quad)u[k] * u[k];
        sv += (tsrelu_quad)v[k] * v[k];
    }
    su = sqrtq(su);
    sv = sqrtq(sv);
    for (size_t k = 0; k < d; k++) {
        pq[k] = u[k] / su;
        qq[k] = v[k] / sv;
    }
    *ad = tsrelu__angle_unit(p, q, d, c, &so, &co);
    *aq = (double)tsrelu__angle_unit_q(pq, qq, d);
}

START_TEST(test_angle_unit_q)
{
    /* exact construction (axis-aligned): both agree to a few ulps */
    for (size_t i = 0; i < N_ANGLES; i++) {
        double t = test_angles[i];
        double u[5] = {2.0, 0, 0, 0, 0}, v[5] = {cos(t), 0, 0, sin(t), 0}, ad, aq;
        angle_both(u, v, 5, &ad, &aq);
        ck_assert_msg(fabs(ad - aq) <= 1e-15 * aq, "angle %.17g: double %.17g, quad %.17g", t,
                      ad, aq);
    }
    /* random pairs: rounding the unit vectors in double moves them ~1e-16 */
    rng_state = 0x4242u;
    for (int rep = 0; rep < 100; rep++) {
        size_t d = 1 + (size_t)rep % 6;
        double u[8], v[8], ad, aq;
        for (size_t k = 0; k < d; k++) {
            u[k] = uniform_pm1();
            v[k] = uniform_pm1();
        }
        angle_both(u, v, d, &ad, &aq);
        ck_assert_msg(fabs(ad - aq) <= 1e-15, "d=%zu: double %.17g, quad %.17g", d, ad, aq);
    }
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_zero_vector_conventions)
{
    double z[3] = {0, 0, 0}, v[3] = {1.0, -2.0, 0.5}, gr[3] = {7, 7, 7};
    ck_assert_double_eq(tsrelu__pair_g(z, v, 3), 0.0);
    ck_assert_double_eq(tsrelu__pair_g(v, z, 3), 0.0);
    ck_assert_double_eq(tsrelu__pair_g(z, z, 3), 0.0);
    tsrelu__pair_grad(z, v, 3, gr);
    for (int c = 0; c < 3; c++)
        ck_assert_msg(gr[c] == 0.0, "grad_u g(0, v)[%d] = %g, want 0", c, gr[c]);
    gr[0] = gr[1] = gr[2] = 7;
    tsrelu__pair_grad(v, z, 3, gr);
    for (int c = 0; c < 3; c++)
        ck_assert_msg(gr[c] == 0.0, "grad_u g(u, 0)[%d] = %g, want 0", c, gr[c]);
    gr[0] = gr[1] = gr[2] = 7;
    tsrelu__pair_grad(z, z, 3, gr);
    for (int c = 0; c < 3; c++)
        ck_assert_msg(gr[c] == 0.0, "grad_u g(0, 0)[%d] = %g, want 0", c, gr[c]);
}
END_TEST

START_TEST(test_norm_limits)
{
    double z[4] = {0, 0, 0, 0};
    ck_assert_double_eq(tsrelu__norm(z, 4), 0.0);
    ck_assert_double_eq(tsrelu__norm(z, 0), 0.0);
    /* subnormal inputs: (3, 4) * 2^-1074 has norm exactly 5 * 2^-1074 */
    double sub[2] = {3 * 0x1p-1074, 4 * 0x1p-1074};
    ck_assert_double_eq(tsrelu__norm(sub, 2), 5 * 0x1p-1074);
    /* near the top of the range: no spurious overflow */
    double big[2] = {DBL_MAX / 4, DBL_MAX / 4};
    double want = DBL_MAX / 4 * sqrt(2.0);
    ck_assert_msg(fabs(tsrelu__norm(big, 2) - want) <= 4e-16 * want, "norm = %g",
                  tsrelu__norm(big, 2));
    /* non-finite entries propagate, never look like a zero vector */
    double inf[2] = {INFINITY, 1.0};
    ck_assert_msg(isinf(tsrelu__norm(inf, 2)), "norm(Inf, 1) = %g", tsrelu__norm(inf, 2));
    double nan1[1] = {NAN};
    ck_assert_msg(isnan(tsrelu__norm(nan1, 1)), "norm(NaN) = %g, want NaN",
                  tsrelu__norm(nan1, 1));
    double nan2[2] = {1.0, NAN};
    ck_assert_msg(isnan(tsrelu__norm(nan2, 2)), "norm(1, NaN) = %g, want NaN",
                  tsrelu__norm(nan2, 2));
}
END_TEST

START_TEST(test_angle_limits)
{
    /* identical and opposite vectors: exactly 0 and pi within an ulp */
    double u[3] = {0.3, -1.7, 2.2}, w[3] = {-0.3, 1.7, -2.2};
    ck_assert_double_eq(tsrelu__angle(u, u, 3), 0.0);
    ck_assert_double_eq_tol(tsrelu__angle(u, w, 3), 3.141592653589793, 4.5e-16);
    double so, co;
    double p[1] = {1.0}, q[1] = {-1.0};
    ck_assert_double_eq_tol(tsrelu__angle_unit(p, q, 1, -1.0, &so, &co), 3.141592653589793,
                            4.5e-16);
    ck_assert_double_eq_tol(so, 0.0, 1e-16);
    ck_assert_double_eq(co, -1.0);
    ck_assert_double_eq(tsrelu__angle_unit(p, p, 1, 1.0, &so, &co), 0.0);
    ck_assert_double_eq(so, 0.0);
    ck_assert_double_eq(co, 1.0);
    /* kappa at the ends of [0, pi] */
    ck_assert_double_eq_tol(tsrelu__kappa(3.141592653589793), 3.141592653589793, 4.5e-16);
    ck_assert_double_eq(tsrelu__kappa(0.0), 0.0);
}
END_TEST


/* The angles of the gradient pass come from the BLAS Gram cosine where
 * |cos| <= 0.7 and from the half-angle form elsewhere. Against the exact
 * angle of the same unit vectors (quad precision), both stay within a few
 * ulp(1) up to d = 4096 (measured worst: 5.5 ulp at d = 256). */
START_TEST(test_angle_gram_path_few_ulps)
{
    static const int dims[] = {16, 256, 4096};
    const double ulp1 = 2.220446049250313e-16;
    uint64_t x = 12345;
    for (int di = 0; di < 3; di++) {
        int d = dims[di], n = 24;
        double *U = malloc(sizeof(double) * (size_t)(n * d)), *G = malloc(sizeof(double) * (size_t)(n * n));
        ck_assert_ptr_nonnull(U);
        ck_assert_ptr_nonnull(G);
        for (int i = 0; i < n * d; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            U[i] = (double)(x >> 11) * 0x1.0p-53 - 0.5;
        }
        for (int i = 0; i < n; i++) { /* rows drawn towards row 0: cosines over [-1, 1] */
            double w = (i % 9) / 4.0 - 1.0;
            for (int c = 0; c < d && i > 0; c++)
                U[i * d + c] += w * U[c];
            double inv = 1.0 / tsrelu__norm(U + i * d, (size_t)d);
            for (int c = 0; c < d; c++)
                U[i * d + c] *= inv;
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d, 1.0, U, d, U, d, 0.0, G, n);
        double worst = 0.0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                tsrelu_quad pq[2];
                pq[0] = pq[1] = 0;
                for (int c = 0; c < d; c++) {
                    tsrelu_quad a = (tsrelu_quad)U[i * d + c] - U[j * d + c];
                    tsrelu_quad b = (tsrelu_quad)U[i * d + c] + U[j * d + c];
                    pq[0] += a * a;
                    pq[1] += b * b;
                }
                double ref = (double)(2 * atan2q(tsrelu__sqrt_q(pq[0]), tsrelu__sqrt_q(pq[1])));
                double sn, cs;
                double th = tsrelu__angle_unit(U + i * d, U + j * d, (size_t)d, G[i * n + j], &sn, &cs);
                double e = fabs(th - ref) / ulp1;
                if (e > worst)
                    worst = e;
            }
        ck_assert_msg(worst <= 8.0, "d = %d: angle error %.1f ulp(1)", d, worst);
        free(U);
        free(G);
    }
}
END_TEST

Suite *kernel_suite(void)
{
    Suite *s = suite_create("kernel");

    TCase *tc_core = tcase_create("core");
    tcase_add_test(tc_core, test_kappa_vs_direct);
    tcase_add_test(tc_core, test_kappa_vs_taylor);
    tcase_add_test(tc_core, test_kappa_continuous_at_switch);
    tcase_add_test(tc_core, test_kappa_sc_matches_kappa);
    tcase_add_test(tc_core, test_angle_exact_construction);
    tcase_add_test(tc_core, test_angle_unit_exact_construction);
    tcase_add_test(tc_core, test_angle_paths_agree_near_switch);
    tcase_add_test(tc_core, test_angle_random_vs_quad);
    tcase_add_test(tc_core, test_angle_gram_path_few_ulps);
    tcase_add_test(tc_core, test_norm_scales);
    tcase_add_test(tc_core, test_norm_mixed_and_random);
    tcase_add_test(tc_core, test_pair_g_textbook);
    tcase_add_test(tc_core, test_pair_g_random_and_d1);
    tcase_add_test(tc_core, test_pair_grad_vs_finite_differences);
    tcase_add_test(tc_core, test_pair_g_scaling);
    tcase_add_test(tc_core, test_kappa_q);
    tcase_add_test(tc_core, test_angle_unit_q);
    suite_add_tcase(s, tc_core);

    TCase *tc_limits = tcase_create("limits");
    tcase_add_test(tc_limits, test_zero_vector_conventions);
    tcase_add_test(tc_limits, test_norm_limits);
    tcase_add_test(tc_limits, test_angle_limits);
    suite_add_tcase(s, tc_limits);

    return s;
}

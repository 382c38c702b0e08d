/* Pair kernel of the arc-cosine (degree 1) expectation: angles, kappa, g and
 * its gradient, in double and quadruple precision. Pure mathematics: this
 * file knows no handles. See docs/numerics.md for the error analysis. */
#include "kernel.h"

#include <math.h>

/* libquadmath, declared here so that no compiler-private header is needed. */
extern tsrelu_quad sqrtq(tsrelu_quad);
extern tsrelu_quad frexpq(tsrelu_quad, int *);
extern tsrelu_quad ldexpq(tsrelu_quad, int);
extern tsrelu_quad atan2q(tsrelu_quad, tsrelu_quad);
extern tsrelu_quad sinq(tsrelu_quad);
extern tsrelu_quad cosq(tsrelu_quad);

double tsrelu__norm(const double *x, size_t d)
{
    double ss = tsrelu__sumsq(x, d);
    /* Fast path unless the squares may have overflowed or underflowed. */
    if (ss < 1e290 && ss > 1e-290)
        return sqrt(ss);
    if (isnan(ss))
        return ss;
    double scale = 0.0;
    for (size_t c = 0; c < d; c++) {
        double ax = fabs(x[c]);
        if (ax > scale)
            scale = ax;
    }
    if (scale == 0.0 || !isfinite(scale))
        return scale;
    ss = 0.0;
    for (size_t c = 0; c < d; c++) {
        double y = x[c] / scale;
        ss += y * y;
    }
    return scale * sqrt(ss);
}

tsrelu__dir tsrelu__direction(const double *x, size_t d)
{
    tsrelu__dir r;
    r.norm = r.scaled = tsrelu__norm(x, d);
    r.e = 0;
    if (tsrelu__norm_fast(r.norm) || r.norm == 0.0 || !isfinite(r.norm))
        return r;
    /* x 2^-e is exact wherever it matters: scaling up is exact, and an
     * entry that scaling down makes subnormal is below 2^-1022 |x| */
    r.e = ilogb(r.norm);
    double ss = 0.0;
    for (size_t c = 0; c < d; c++) {
        double y = ldexp(x[c], -r.e);
        ss += y * y;
    }
    r.scaled = sqrt(ss);
    return r;
}

double tsrelu__unit(const double *x, size_t d, double *u)
{
    tsrelu__dir r = tsrelu__direction(x, d);
    int zero = r.norm == 0.0 || !isfinite(r.norm);
    for (size_t c = 0; c < d; c++)
        u[c] = zero ? 0.0 : tsrelu__dir_comp(&r, x[c]);
    return r.norm;
}

double tsrelu__kappa(double theta)
{
    if (theta < TSRELU_KAPPA_SERIES_MAX)
        return tsrelu__kappa_series(theta);
    return sin(theta) - theta * cos(theta);
}

double tsrelu__angle_unit(const double *p, const double *q, size_t d, double c,
                          double *sin_out, double *cos_out)
{
    return tsrelu__angle_unit_inline(p, q, d, c, sin_out, cos_out);
}

double tsrelu__angle(const double *u, const double *v, size_t d)
{
    tsrelu__dir ru = tsrelu__direction(u, d), rv = tsrelu__direction(v, d);
    if (ru.norm == 0.0 || rv.norm == 0.0)
        return 0.5 * TSRELU_PI;
    double dm = 0.0, dp = 0.0;
    for (size_t i = 0; i < d; i++) {
        double x = tsrelu__dir_comp(&ru, u[i]), y = tsrelu__dir_comp(&rv, v[i]);
        dm += (x - y) * (x - y);
        dp += (x + y) * (x + y);
    }
    return 2.0 * atan2(sqrt(dm), sqrt(dp));
}

double tsrelu__pair_g(const double *u, const double *v, size_t d)
{
    tsrelu__dir ru = tsrelu__direction(u, d), rv = tsrelu__direction(v, d);
    if (ru.norm == 0.0 || rv.norm == 0.0)
        return 0.0;
    double theta = tsrelu__angle(u, v, d);
    double dot = 0.0;
    for (size_t i = 0; i < d; i++)
        dot += tsrelu__dir_comp(&ru, u[i]) * tsrelu__dir_comp(&rv, v[i]);
    /* split form: 1/2 u.v + |u||v| kappa / 2pi */
    return ru.norm * rv.norm * (0.5 * dot + tsrelu__kappa(theta) * TSRELU_INV_2PI);
}

void tsrelu__pair_grad(const double *u, const double *v, size_t d, double *grad)
{
    tsrelu__dir ru = tsrelu__direction(u, d);
    double nv = tsrelu__norm(v, d);
    if (ru.norm == 0.0 || nv == 0.0) {
        for (size_t i = 0; i < d; i++)
            grad[i] = 0.0;
        return;
    }
    double theta = tsrelu__angle(u, v, d);
    double w1 = (TSRELU_PI - theta) * TSRELU_INV_2PI;
    double w2 = nv * sin(theta) * TSRELU_INV_2PI;
    for (size_t i = 0; i < d; i++)
        grad[i] = w1 * v[i] + w2 * tsrelu__dir_comp(&ru, u[i]);
}

void tsrelu__pair_hess(const double *u, const double *v, size_t d, double *Huu, double *Huv)
{
    size_t dd = d * d;
    for (size_t i = 0; Huu && i < dd; i++)
        Huu[i] = 0.0;
    for (size_t i = 0; Huv && i < dd; i++)
        Huv[i] = 0.0;
    double p[d > 0 ? d : 1], q[d > 0 ? d : 1], e[d > 0 ? d : 1], f[d > 0 ? d : 1];
    double nu = tsrelu__unit(u, d, p), nv = tsrelu__unit(v, d, q);
    if (nu == 0.0 || nv == 0.0)
        return;
    double dot = 0.0;
    for (size_t i = 0; i < d; i++)
        dot += p[i] * q[i];
    double s, c, theta = tsrelu__angle_unit(p, q, d, dot, &s, &c);
    tsrelu__pair_tangent(p, q, d, s, c, e);
    tsrelu__pair_tangent(q, p, d, s, c, f);
    double inv_s = s > 0.0 ? 1.0 / s : 0.0, r = nv / nu * TSRELU_INV_2PI;
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
            if (Huu)
                Huu[i * d + j] = r * (s * ((i == j) - p[i] * p[j]) + e[i] * e[j] * inv_s);
            if (Huv)
                Huv[i * d + j] = TSRELU_INV_2PI * ((i == j) * (TSRELU_PI - theta) +
                                                   e[i] * f[j] * inv_s + s * p[i] * q[j]);
        }
}

/* ---------------- quadruple precision ---------------- */

/* (-1)^(n+1) 2n/(2n+1)! for n = 1..13, folded at compile time (the
 * factorials are exact in quad precision, 27! < 2^113). */
static const tsrelu_quad KAPPA_Q[13] = {
        (tsrelu_quad)2 / (__extension__ 6.0Q),
        -(tsrelu_quad)4 / (__extension__ 120.0Q),
        (tsrelu_quad)6 / (__extension__ 5040.0Q),
        -(tsrelu_quad)8 / (__extension__ 362880.0Q),
        (tsrelu_quad)10 / (__extension__ 39916800.0Q),
        -(tsrelu_quad)12 / (__extension__ 6227020800.0Q),
        (tsrelu_quad)14 / (__extension__ 1307674368000.0Q),
        -(tsrelu_quad)16 / (__extension__ 355687428096000.0Q),
        (tsrelu_quad)18 / (__extension__ 121645100408832000.0Q),
        -(tsrelu_quad)20 / (__extension__ 51090942171709440000.0Q),
        (tsrelu_quad)22 / (__extension__ 25852016738884976640000.0Q),
        -(tsrelu_quad)24 / (__extension__ 15511210043330985984000000.0Q),
        (tsrelu_quad)26 / (__extension__ 10888869450418352160768000000.0Q),
};

tsrelu_quad tsrelu__kappa_q(tsrelu_quad theta)
{
    if (theta < (tsrelu_quad)0.25) {
        /* the 14th term is below 1e-40 theta^3 */
        tsrelu_quad t2 = theta * theta, p = KAPPA_Q[12];
        for (int n = 11; n >= 0; n--)
            p = p * t2 + KAPPA_Q[n];
        return p * t2 * theta;
    }
    return sinq(theta) - theta * cosq(theta);
}

tsrelu_quad tsrelu__angle_unit_q(const tsrelu_quad *p, const tsrelu_quad *q, size_t d)
{
    tsrelu_quad dm = 0, dp = 0;
    for (size_t i = 0; i < d; i++) {
        tsrelu_quad x = p[i] - q[i], y = p[i] + q[i];
        dm += x * x;
        dp += y * y;
    }
    return 2 * atan2q(tsrelu__sqrt_q(dm), tsrelu__sqrt_q(dp));
}

tsrelu_quad tsrelu__angle_sin_unit_q(const tsrelu_quad *p, const tsrelu_quad *q, size_t d, tsrelu_quad *sin_theta)
{
    tsrelu_quad dm = 0, dp = 0;
    for (size_t i = 0; i < d; i++) {
        tsrelu_quad x = p[i] - q[i], y = p[i] + q[i];
        dm += x * x;
        dp += y * y;
    }
    tsrelu_quad a = tsrelu__sqrt_q(dm), b = tsrelu__sqrt_q(dp);
    *sin_theta = a * b / 2; /* |p - q| = 2 sin(theta/2), |p + q| = 2 cos(theta/2) */
    return 2 * atan2q(a, b);
}

/* sqrtq of x = f 2^(2e) as sqrtq(f) 2^e, f in [0.5, 2): the same correctly
 * rounded result, but libquadmath's first estimate (through the x87 unit)
 * then never sees an argument outside the double range, where valgrind's
 * double-precision x87 emulation returns nonsense (squares of subnormal or
 * huge rows are such arguments). */
tsrelu_quad tsrelu__sqrt_q(tsrelu_quad x)
{
    if (!(x > 0) || x - x != 0) /* 0, negative, NaN, Inf */
        return sqrtq(x);
    int e;
    tsrelu_quad f = frexpq(x, &e);
    if (e & 1) {
        f *= 2;
        e -= 1;
    }
    return ldexpq(sqrtq(f), e / 2);
}

/* Inline pair-kernel primitives: the angle of two unit vectors from their
 * computed cosine, sin and cos of it, and kappa. They sit in a header so
 * that the O(m (m + k)) pair pass of population.c inlines them; kernel.c
 * builds the callable versions on top. Pure mathematics, no handles. */
#ifndef TSRELU_KERNEL_H
#define TSRELU_KERNEL_H

#include <math.h>
#include <stddef.h>

/* Quadruple precision for the accurate loss (GCC/Clang on x86-64). */
__extension__ typedef __float128 tsrelu_quad;

#define TSRELU_PI 3.14159265358979323846
#define TSRELU_INV_2PI 0.15915494309189533577

/* Above this |cos|, acos(cos) loses digits (d theta = d cos / sin theta), so
 * the angle is recomputed from the vectors. At 0.7, sin theta >= 0.71 and
 * acos amplifies the cosine's error by at most 1.4. */
#define TSRELU_EXACT_COS 0.7

/* Below this angle kappa is summed from its Taylor series; above it the
 * cancellation in sin - theta cos costs at most a factor 3 in absolute
 * error, which is harmless. */
#define TSRELU_KAPPA_SERIES_MAX 1.0

/* Below this ratio, atan is summed from its Taylor series (x^17/17 < 1e-17 x
 * relative at x = 0.1 needs 8 terms). */
#define TSRELU_ATAN_SERIES_MAX 0.1

/* Norms in [TSRELU_NORM_FAST_MIN, TSRELU_NORM_FAST_MAX] are normal numbers
 * with a normal reciprocal, so x / |x| and x * (1 / |x|) are unit vectors to
 * an ulp. Below, a subnormal |x| keeps only the bits above 2^-1074 (all but
 * one at |x| = 2^-1074 sqrt 2) and 1 / |x| overflows below 2^-1024; above,
 * 1 / |x| is subnormal. There the direction is taken after an exact
 * power-of-two rescaling of x (tsrelu__direction). */
#define TSRELU_NORM_FAST_MIN 0x1p-1022
#define TSRELU_NORM_FAST_MAX 0x1p+1022

static inline int tsrelu__norm_fast(double n)
{
    return n >= TSRELU_NORM_FAST_MIN && n <= TSRELU_NORM_FAST_MAX;
}

/* The direction of a vector x: x / |x| = (x 2^-e) / scaled, with e = 0 and
 * scaled = norm when norm is in the fast range (or 0 or not finite), else
 * e = ilogb(norm) and scaled = |x 2^-e| in [1/2, 4) computed from the
 * exactly rescaled entries. norm is tsrelu__norm(x). */
typedef struct {
    double norm, scaled;
    int e;
} tsrelu__dir;

tsrelu__dir tsrelu__direction(const double *x, size_t d);

/* Component x_c / |x| of the direction r of x. */
static inline double tsrelu__dir_comp(const tsrelu__dir *r, double x_c)
{
    return (r->e != 0 ? ldexp(x_c, -r->e) : x_c) / r->scaled;
}

/* u = x / |x| (0 for x = 0) for any finite x; returns |x| (tsrelu__norm). */
double tsrelu__unit(const double *x, size_t d, double *u);

/* sum_i (p_i + sign q_i)^2 with four partial sums: independent chains that
 * pipeline (and pair into SIMD lanes) instead of one serial dependency.
 * The order is fixed, so results are still deterministic. */
static inline double tsrelu__sumsq_combo(const double *p, const double *q, double sign, size_t d)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        double x0 = p[i] + sign * q[i], x1 = p[i + 1] + sign * q[i + 1];
        double x2 = p[i + 2] + sign * q[i + 2], x3 = p[i + 3] + sign * q[i + 3];
        s0 += x0 * x0;
        s1 += x1 * x1;
        s2 += x2 * x2;
        s3 += x3 * x3;
    }
    for (; i < d; i++) {
        double x = p[i] + sign * q[i];
        s0 += x * x;
    }
    return (s0 + s1) + (s2 + s3);
}

/* x . y with the same four partial sums. */
static inline double tsrelu__dot(const double *x, const double *y, size_t d)
{
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < d; i++)
        s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

/* sum_i x_i^2, with the same four partial sums. */
static inline double tsrelu__sumsq(const double *x, size_t d)
{
    return tsrelu__dot(x, x, d);
}

/* kappa(theta) = sum_{n>=1} (-1)^(n+1) 2n/(2n+1)! theta^(2n+1). Ten terms
 * reach double precision for theta <= 1 (the 11th is below 3e-21 theta^3).
 * The coefficients of theta^(2n+1), n = 1..10, in one place (also read by
 * the fused series of src/simd/kernels_impl.h). */
#define TSRELU_KAPPA_C1 (1.0 / 3.0)
#define TSRELU_KAPPA_C2 (-1.0 / 30.0)
#define TSRELU_KAPPA_C3 (1.0 / 840.0)
#define TSRELU_KAPPA_C4 (-1.0 / 45360.0)
#define TSRELU_KAPPA_C5 (1.0 / 3991680.0)
#define TSRELU_KAPPA_C6 (-1.0 / 518918400.0)
#define TSRELU_KAPPA_C7 (1.0 / 93405312000.0)
#define TSRELU_KAPPA_C8 (-1.0 / 22230464256000.0)
#define TSRELU_KAPPA_C9 (1.0 / 6758061133824000.0)
#define TSRELU_KAPPA_C10 (-1.0 / 2554547108585472000.0)
static inline double tsrelu__kappa_series(double theta)
{
    static const double coef[10] = {TSRELU_KAPPA_C1, TSRELU_KAPPA_C2, TSRELU_KAPPA_C3,
                                    TSRELU_KAPPA_C4, TSRELU_KAPPA_C5, TSRELU_KAPPA_C6,
                                    TSRELU_KAPPA_C7, TSRELU_KAPPA_C8, TSRELU_KAPPA_C9,
                                    TSRELU_KAPPA_C10};
    double t2 = theta * theta;
    double p = coef[9];
    for (int n = 8; n >= 0; n--)
        p = p * t2 + coef[n];
    return p * t2 * theta;
}

/* kappa when sin(theta) and cos(theta) are known. */
static inline double tsrelu__kappa_sc(double theta, double s, double c)
{
    if (theta < TSRELU_KAPPA_SERIES_MAX)
        return tsrelu__kappa_series(theta);
    return s - theta * c;
}

/* atan(x) for 0 <= x <= TSRELU_ATAN_SERIES_MAX. */
static inline double tsrelu__atan_small(double x)
{
    double x2 = x * x, p = -1.0 / 15.0;
    p = p * x2 + 1.0 / 13.0;
    p = p * x2 - 1.0 / 11.0;
    p = p * x2 + 1.0 / 9.0;
    p = p * x2 - 1.0 / 7.0;
    p = p * x2 + 1.0 / 5.0;
    p = p * x2 - 1.0 / 3.0;
    return x + x * x2 * p;
}

/* 2 atan2(a, b) for a, b >= 0, not both 0, with the series where a/b or b/a
 * is small (the common near-parallel and near-antiparallel cases). */
static inline double tsrelu__half_angle(double a, double b)
{
    if (a <= TSRELU_ATAN_SERIES_MAX * b)
        return 2.0 * tsrelu__atan_small(a / b);
    if (b <= TSRELU_ATAN_SERIES_MAX * a)
        return TSRELU_PI - 2.0 * tsrelu__atan_small(b / a);
    return 2.0 * atan2(a, b);
}

/* Angle between unit vectors p and q (d entries) whose computed cosine is c,
 * with its sine and cosine. acos(c) where that is accurate; otherwise the
 * exact 2 atan2(|p - q|, |p + q|): |p - q| = 2 sin(theta/2) and
 * |p + q| = 2 cos(theta/2) are both accurate to a few ulps at every angle.
 * Only the small one of the two needs the O(d) sum: |p - q|^2 + |p + q|^2 =
 * 4 up to rounding of the unit vectors, which is an absolute error of a few
 * ulps in the large one. */
static inline double tsrelu__angle_unit_inline(const double *p, const double *q, size_t d,
                                               double c, double *sin_out, double *cos_out)
{
    if (c >= -TSRELU_EXACT_COS && c <= TSRELU_EXACT_COS) {
        *sin_out = sqrt((1.0 - c) * (1.0 + c));
        *cos_out = c;
        return acos(c);
    }
    double small = tsrelu__sumsq_combo(p, q, c > 0.0 ? -1.0 : 1.0, d);
    double large = 4.0 - small;
    double dm = c > 0.0 ? small : large, dp = c > 0.0 ? large : small;
    double a = sqrt(dm), b = sqrt(dp);
    *sin_out = 0.5 * a * b;
    *cos_out = 0.25 * (dp - dm);
    return tsrelu__half_angle(a, b);
}

/* ---- kernel.c: the callable versions ---- */
/* Euclidean norm without spurious overflow or underflow. */
double tsrelu__norm(const double *x, size_t d);
/* kappa(theta) = sin(theta) - theta cos(theta), series near 0. */
double tsrelu__kappa(double theta);
/* Angle between unit vectors p and q given their computed cosine c:
 * acos(c) when |c| is small enough for it to be accurate, else the exact
 * 2 atan2(|p - q|, |p + q|). Also returns sin(theta) and cos(theta). */
double tsrelu__angle_unit(const double *p, const double *q, size_t d, double c,
                          double *sin_out, double *cos_out);
/* Angle between arbitrary non-zero vectors (normalises internally). */
double tsrelu__angle(const double *u, const double *v, size_t d);
/* Pair kernel g(u, v) and its gradient in u (pure maths, for tests and
 * metrics); g = 0 and grad = 0 when u or v is zero. */
double tsrelu__pair_g(const double *u, const double *v, size_t d);
void tsrelu__pair_grad(const double *u, const double *v, size_t d, double *grad);

/* Second order. For unit vectors p = u^ and q = v^ at angle theta (sine s,
 * cosine c), e = q - c p is the component of q orthogonal to p, |e| = s
 * (e = s t^, t^ the unit tangent at p towards q). It is formed as
 * (q - p) + (1 - c) p for c > 0 and (q + p) - (1 + c) p otherwise, with
 * 1 -/+ c = s^2 / (1 +/- c): no cancellation near theta = 0 or pi, so e has
 * an absolute error of a few ulps. Then
 *   d2g/du2  = |v| / (2 pi |u|) (s (I - p p^T) + e e^T / s)
 *   d2g/dudv = 1/(2 pi) ((pi - theta) I + e f^T / s + s p q^T),  f = p - c q,
 * and the terms with 1/s are bounded (|e e^T / s| = s): they and the s terms
 * are 0 when s = 0 (theta = 0 or pi), where g is twice differentiable with
 * these limits (docs/numerics.md, section 6). */
static inline void tsrelu__pair_tangent(const double *p, const double *q, size_t d, double s,
                                        double c, double *e)
{
    if (c > 0.0) {
        double omc = s * s / (1.0 + c); /* 1 - c */
        for (size_t i = 0; i < d; i++)
            e[i] = (q[i] - p[i]) + omc * p[i];
    } else {
        double opc = s * s / (1.0 - c); /* 1 + c */
        for (size_t i = 0; i < d; i++)
            e[i] = (q[i] + p[i]) - opc * p[i];
    }
}
/* The two d x d blocks above for arbitrary non-zero u, v (row-major; Huu =
 * d2g/du2, Huv = d2g/dudv, either may be NULL), all 0 if u or v is 0 (the
 * relu'(0) = 0 convention). Pure maths, for tests; hessian.c assembles the
 * network from tsrelu__pair_tangent. */
void tsrelu__pair_hess(const double *u, const double *v, size_t d, double *Huu, double *Huv);

/* Quadruple-precision versions for the accurate loss. */
tsrelu_quad tsrelu__kappa_q(tsrelu_quad theta);
/* Angle between unit vectors (quad, d entries each). */
tsrelu_quad tsrelu__angle_unit_q(const tsrelu_quad *p, const tsrelu_quad *q, size_t d);
/* The same angle, and its sine into *sin_theta (|p - q| |p + q| / 2). */
tsrelu_quad tsrelu__angle_sin_unit_q(const tsrelu_quad *p, const tsrelu_quad *q, size_t d, tsrelu_quad *sin_theta);
tsrelu_quad tsrelu__sqrt_q(tsrelu_quad x);

#endif

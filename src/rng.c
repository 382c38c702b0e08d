/* Seeded pseudo-random numbers that are identical on every IEEE-754
 * platform: xoshiro256** (Blackman and Vigna) seeded through splitmix64, and
 * Marsaglia's polar Gaussian transform with a logarithm built from basic
 * arithmetic only (libm's log may differ in the last bit between systems). */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void tsrelu__rng_seed(tsrelu__rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0.0;
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t tsrelu__rng_next(tsrelu__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform on (-1, 1), a multiple of 2^-52. */
static double uniform_pm1(tsrelu__rng *r)
{
    return (double)(tsrelu__rng_next(r) >> 11) * 0x1.0p-52 - 1.0;
}

/* Natural logarithm of x > 0 (finite, normal) with only +, -, *, / and the
 * exact frexp: x = f 2^e with f in [sqrt(1/2), sqrt(2)), then
 * log f = 2 atanh(t), t = (f - 1)/(f + 1), |t| <= 0.1716. */
static double portable_log(double x)
{
    int e;
    double f = frexp(x, &e);
    if (f < 0.70710678118654752440) {
        f *= 2.0;
        e -= 1;
    }
    double t = (f - 1.0) / (f + 1.0), t2 = t * t;
    double sum = 0.0;
    for (int n = 12; n >= 0; n--) /* t2^13 < 1e-19 */
        sum = sum * t2 + 1.0 / (double)(2 * n + 1);
    static const double ln2_hi = 6.93147180369123816490e-01;
    static const double ln2_lo = 1.90821492927058770002e-10;
    return (double)e * ln2_hi + ((double)e * ln2_lo + 2.0 * t * sum);
}

double tsrelu__rng_normal(tsrelu__rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u, v, s;
    do {
        u = uniform_pm1(r);
        v = uniform_pm1(r);
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    double f = sqrt(-2.0 * portable_log(s) / s);
    r->spare = v * f;
    r->has_spare = 1;
    return u * f;
}

/* exp(y) for y <= 0 (a finite double) with basic arithmetic only: y = k ln2
 * + f, |f| <= ln2/2, the series of exp(f) to degree 17 (f^18/18! < 1e-24),
 * scaled by the exact ldexp. */
static double portable_exp(double y)
{
    static const double ln2_hi = 6.93147180369123816490e-01; /* k * ln2_hi is exact */
    static const double ln2_lo = 1.90821492927058770002e-10;
    if (y < -745.0)
        return 0.0;
    double k = floor(y / 0.69314718055994530942 + 0.5);
    double f = (y - k * ln2_hi) - k * ln2_lo, sum = 1.0;
    for (int n = 17; n >= 1; n--)
        sum = 1.0 + f * sum / (double)n;
    return ldexp(sum, (int)k);
}

#define ZIG_R 3.442619855899    /* start of the tail */
#define ZIG_V 9.91256303526217e-3 /* area of each layer */
#define ZIG_M 2147483648.0      /* 2^31 */

/* Marsaglia and Tsang (2000), zigset() for 128 layers: w[i] = x_i / 2^31,
 * f[i] = exp(-x_i^2 / 2), k[i] = 2^31 x_{i-1} / x_i (k[0] for the base
 * strip, k[1] = 0: the top layer always takes the wedge test). */
void tsrelu__zig_init(tsrelu__zig *z)
{
    double dn = ZIG_R, tn = dn, q = ZIG_V / portable_exp(-0.5 * dn * dn);
    z->k[0] = (uint32_t)(dn / q * ZIG_M);
    z->k[1] = 0;
    z->w[0] = q / ZIG_M;
    z->w[127] = dn / ZIG_M;
    z->f[0] = 1.0;
    z->f[127] = portable_exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * portable_log(ZIG_V / dn + portable_exp(-0.5 * dn * dn)));
        z->k[i + 1] = (uint32_t)(dn / tn * ZIG_M);
        tn = dn;
        z->f[i] = portable_exp(-0.5 * dn * dn);
        z->w[i] = dn / ZIG_M;
    }
}

/* Uniform on (0, 1), never 0 (it is fed to the logarithm). */
static double uniform_open(tsrelu__rng *r)
{
    return ((double)(tsrelu__rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* One 64-bit draw gives the layer (low 7 bits) and a signed 32-bit
 * abscissa (high 32 bits): independent bits, unlike the 32-bit original. */
double tsrelu__rng_normal_zig(tsrelu__rng *r, const tsrelu__zig *z)
{
    for (;;) {
        uint64_t u = tsrelu__rng_next(r);
        int iz = (int)(u & 127);
        int64_t hz = (int64_t)(u >> 32) - 2147483648LL;
        uint64_t ahz = (uint64_t)(hz < 0 ? -hz : hz);
        double x = (double)hz * z->w[iz];
        if (ahz < z->k[iz])
            return x; /* inside the layer's rectangle: 98.8% of draws */
        if (iz == 0) { /* the tail beyond ZIG_R (Marsaglia 1964) */
            double xx, yy;
            do {
                xx = -portable_log(uniform_open(r)) / ZIG_R;
                yy = -portable_log(uniform_open(r));
            } while (yy + yy < xx * xx);
            return hz > 0 ? ZIG_R + xx : -ZIG_R - xx;
        }
        if (z->f[iz] + uniform_open(r) * (z->f[iz - 1] - z->f[iz]) < portable_exp(-0.5 * x * x))
            return x; /* in the wedge under the density */
    }
}

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

/* Seeded random streams, bit-identical on every IEEE-754 platform (rng.c). */
#ifndef TSRELU_RNG_H
#define TSRELU_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; double spare; int has_spare; } tsrelu__rng;
void tsrelu__rng_seed(tsrelu__rng *r, uint64_t seed);
uint64_t tsrelu__rng_next(tsrelu__rng *r);
/* Standard normal variate; identical on every IEEE-754 platform. */
double tsrelu__rng_normal(tsrelu__rng *r);

/* Marsaglia and Tsang's ziggurat (128 layers): a standard normal for about
 * half the cost of tsrelu__rng_normal, for the sampled batches of
 * sgd.c. Its tables are computed by tsrelu__zig_init with +, -, *, /, sqrt,
 * floor, frexp and ldexp only, so that they, and the variates, are the same
 * on every IEEE-754 platform. */
typedef struct { double w[128], f[128]; uint32_t k[128]; } tsrelu__zig;
void tsrelu__zig_init(tsrelu__zig *z);
double tsrelu__rng_normal_zig(tsrelu__rng *r, const tsrelu__zig *z);

#endif

/* Seeded random streams, bit-identical on every IEEE-754 platform (rng.c). */
#ifndef TSRELU_RNG_H
#define TSRELU_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; double spare; int has_spare; } tsrelu__rng;
void tsrelu__rng_seed(tsrelu__rng *r, uint64_t seed);
uint64_t tsrelu__rng_next(tsrelu__rng *r);
/* Standard normal variate; identical on every IEEE-754 platform. */
double tsrelu__rng_normal(tsrelu__rng *r);

#endif

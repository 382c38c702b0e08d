/* Test-only (check_simd.c): the portable kernel template, 2-lane vectors,
 * compiled with -mfma, so x86-64 runs the code the portable path is on
 * targets with an FMA instruction (aarch64, POWER, ...), and the tests can
 * hold it to the bits of the AVX paths. */
#define TSRELU_SIMD_NAME fma2
#define VW 2
#include "simd/kernels_impl.h"

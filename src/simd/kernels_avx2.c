/* The AVX2 path (compiled with -mavx2 -mfma; -ffp-contract=off leaves the
 * fusing to the explicit multiply-adds of kernels_impl.h, so the results
 * equal the AVX-512 path's). */
#define TSRELU_SIMD_NAME avx2
#define VW 4 /* doubles per vector register */
#include "kernels_impl.h"

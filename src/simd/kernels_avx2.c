/* The AVX2 path (compiled with -mavx2 -mfma; -ffp-contract=off keeps the
 * FMA unit out of the arithmetic, so the results equal the portable path's). */
#define TSRELU_SIMD_NAME avx2
#define VW 4 /* doubles per vector register */
#include "kernels_impl.h"

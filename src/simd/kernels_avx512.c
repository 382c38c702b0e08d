/* The AVX-512 path (compiled with -mavx512f -mavx512dq -mavx512vl and
 * 512-bit vectors preferred; same arithmetic as the portable path). */
#define TSRELU_SIMD_NAME avx512
#define VW 8 /* doubles per vector register */
#include "kernels_impl.h"

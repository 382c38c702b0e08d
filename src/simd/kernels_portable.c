/* The portable path: baseline code for any target. */
#define TSRELU_SIMD_NAME portable
#define VW 2 /* doubles per vector register */
#include "kernels_impl.h"

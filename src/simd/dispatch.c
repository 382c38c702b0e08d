/* The choice of the kernel path, once per process: the best path the CPU
 * (and the operating system, which must save the wide registers) supports,
 * or the one TSRELU_ISA names (portable, avx2, avx512) when the CPU
 * supports it. An unknown or unsupported request falls back to the best
 * supported path, and tsrelu_isa() says so. */
#include "simd.h"
#include "tsrelu.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const tsrelu__simd_ops *chosen = &tsrelu__simd_portable;
static char report[128];
static pthread_once_t once = PTHREAD_ONCE_INIT;

size_t tsrelu__simd_supported(const tsrelu__simd_ops **out)
{
    size_t n = 0;
#if defined(TSRELU_SIMD_X86)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        out[n++] = &tsrelu__simd_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        out[n++] = &tsrelu__simd_avx2;
#endif
    out[n++] = &tsrelu__simd_portable;
    return n;
}

static void choose(void)
{
    const tsrelu__simd_ops *paths[3];
    size_t n = tsrelu__simd_supported(paths);
    const char *want = getenv("TSRELU_ISA");
    chosen = paths[0];
    if (!want || !*want) {
        snprintf(report, sizeof report, "%s", chosen->name);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(want, paths[i]->name) == 0) {
            chosen = paths[i];
            snprintf(report, sizeof report, "%s", chosen->name);
            return;
        }
    int known = strcmp(want, "portable") == 0 || strcmp(want, "avx2") == 0 ||
                strcmp(want, "avx512") == 0;
    snprintf(report, sizeof report, "%s (TSRELU_ISA=%.40s %s)", chosen->name, want,
             known ? "is not supported by this CPU" : "is unknown");
}

const tsrelu__simd_ops *tsrelu__simd(void)
{
    pthread_once(&once, choose);
    return chosen;
}

TSRELU_API const char *tsrelu_isa(void)
{
    pthread_once(&once, choose);
    return report;
}

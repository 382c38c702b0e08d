/* bench_kernels — the two costs behind the estimated limit of a step, on
 * the dispatch path TSRELU_ISA selects (docs/performance.md):
 *   peak   multiply-adds per second of the P U product kernel on an
 *          in-cache block (fused on the paths with FMA, a multiply and an
 *          add each on the x86-64 portable path: src/simd/kernels_impl.h)
 *   angle  nanoseconds per pair of the angle kernel (a third of the pairs
 *          near-parallel, as late in a run), with kappa (the loss, dL/da)
 *          and without (a GD step with the output layer fixed)
 * and prints "path NAME peak_gmadd_per_s X angle_ns_per_pair Y fused F
 * angle_nokappa_ns_per_pair Z" (F = 1 on a path with FMA). Links the
 * static library: the kernels are internal. */
#define _POSIX_C_SOURCE 200809L
#include "simd/simd.h"

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double best_of(double (*fn)(void *), void *arg, int reps)
{
    double best = 1e300;
    for (int r = 0; r < reps; r++) {
        double t = fn(arg);
        if (t < best)
            best = t;
    }
    return best;
}

typedef struct {
    const tsrelu__simd_ops *ops;
    size_t m, k, d, n;
    int with_kappa;
    double *Pt, *W, *V, *G;
    tsrelu__pairs pr;
} job;

static double time_product(void *p)
{
    job *j = p;
    double t0 = now();
    for (int i = 0; i < 200; i++)
        j->ops->product(j->m, j->k, j->d, j->Pt, j->W, j->V, j->G);
    return (now() - t0) / 200;
}

static double time_angles(void *p)
{
    job *j = p;
    double t0 = now();
    for (int i = 0; i < 200; i++)
        j->ops->angles(j->n, j->with_kappa, &j->pr);
    return (now() - t0) / 200;
}

int main(void)
{
    job j = {tsrelu__simd(), 32, 8, 64, 4096, 1, NULL, NULL, NULL, NULL, {0}};
    size_t m = j.m, k = j.k, d = j.d, n = j.n;
    j.Pt = malloc((m + k) * m * sizeof(double));
    j.W = malloc(m * d * sizeof(double));
    j.V = malloc(k * d * sizeof(double));
    j.G = malloc(m * d * sizeof(double));
    double *pairs = malloc(6 * n * sizeof(double));
    if (!j.Pt || !j.W || !j.V || !j.G || !pairs)
        return 1;
    for (size_t i = 0; i < (m + k) * m; i++)
        j.Pt[i] = (double)(i % 17) / 17.0;
    for (size_t i = 0; i < m * d; i++)
        j.W[i] = (double)(i % 13) / 13.0;
    for (size_t i = 0; i < k * d; i++)
        j.V[i] = (double)(i % 11) / 11.0;
    tsrelu__pairs pr = {pairs, pairs + n, pairs + 2 * n, pairs + 3 * n, pairs + 4 * n, pairs + 5 * n};
    for (size_t i = 0; i < n; i++) { /* near pairs: small |u - v|^2; the others spread */
        int near = i % 3 == 0;
        pr.h2[i] = near ? 1e-8 * (double)(i % 101) : 0.0;
        pr.c[i] = near ? 1.0 - 0.5 * pr.h2[i] : -0.69 + 1.38 * (double)(i % 97) / 97.0;
    }
    j.pr = pr;
    double tp = best_of(time_product, &j, 25), ta = best_of(time_angles, &j, 25);
    j.with_kappa = 0;
    double tn = best_of(time_angles, &j, 25);
    printf("path %s peak_gmadd_per_s %.3f angle_ns_per_pair %.4f fused %d "
           "angle_nokappa_ns_per_pair %.4f\n",
           j.ops->name, (double)(m * (m + k) * d) / tp * 1e-9, ta / (double)n * 1e9, j.ops->fused,
           tn / (double)n * 1e9);
    return 0;
}

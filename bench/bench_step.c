/* bench_step — microseconds per GD step of libtsrelu, or of the dense BLAS
 * products alone (the floor), at one size.
 *
 *   bench_step M K D [--warm N] [--steps N] [--repeats R] [--eta E]
 *              [--blas-floor] [--dump FILE]
 *
 * Teacher: tsrelu_teacher_create_orthogonal(K, D, 1, seed 1); student:
 * tsrelu_student_create_gaussian(M, D, 1e-3, seed 2); eta = 0.1 unless
 * --eta (GD is stable for eta below about 4/M). After
 * --warm steps (default 10000: timing in the late phase, where the exact
 * angle path is busiest) it times R repeats of N steps and prints
 * "median_us_per_step <value>" and the min and max. --dump writes the
 * warmed-up W and V (%a hex floats, one neuron per line) for the peers.
 * --blas-floor times only the two dgemm products a step needs (Gram matrix
 * of unit rows and the P*U combination) on buffers of the same sizes. */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include "bench_time.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int dump(const char *path, const tsrelu_gd *gd)
{
    const tsrelu_student *s = tsrelu_gd_student(gd);
    const tsrelu_teacher *t = tsrelu_gd_teacher(gd);
    size_t m = tsrelu_student_width(s), k = tsrelu_teacher_width(t), d = tsrelu_student_dim(s);
    double *W = malloc(m * d * sizeof(double)), *V = malloc(k * d * sizeof(double));
    FILE *f = fopen(path, "w");
    if (!W || !V || !f || tsrelu_student_weights(s, W, m * d) || tsrelu_teacher_weights(t, V, k * d))
        return 1;
    fprintf(f, "%zu %zu %zu %a\n", m, k, d, tsrelu_gd_eta(gd));
    for (size_t r = 0; r < m + k; r++) {
        const double *row = r < m ? W + r * d : V + (r - m) * d;
        for (size_t c = 0; c < d; c++)
            fprintf(f, "%a%c", row[c], c + 1 < d ? ' ' : '\n');
    }
    fclose(f);
    free(W);
    free(V);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_step M K D [--warm N] [--steps N] [--repeats R] [--blas-floor] [--dump FILE]\n");
        return 2;
    }
    size_t m = strtoul(argv[1], NULL, 10), k = strtoul(argv[2], NULL, 10), d = strtoul(argv[3], NULL, 10);
    long warm = 10000, steps = 2000, repeats = 7;
    double eta = 0.1;
    int floor_only = 0;
    const char *dump_path = NULL;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--warm") && i + 1 < argc)
            warm = atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atol(argv[++i]);
        else if (!strcmp(argv[i], "--eta") && i + 1 < argc)
            eta = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--blas-floor"))
            floor_only = 1;
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump_path = argv[++i];
        else {
            fprintf(stderr, "bench_step: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (repeats < 1 || repeats > 1000 || steps < 1) {
        fprintf(stderr, "bench_step: need 1 <= repeats <= 1000 and steps >= 1\n");
        return 2;
    }
    double times[1000];
    if (floor_only) {
        size_t n = m + k;
        double *U = calloc(n * d, sizeof(double)), *G = calloc(m * n, sizeof(double)),
               *P = calloc(m * n, sizeof(double)), *out = calloc(m * d, sizeof(double));
        if (!U || !G || !P || !out)
            return 1;
        for (size_t i = 0; i < n * d; i++)
            U[i] = (double)((i * 7919) % 101) / 101.0 - 0.5;
        for (size_t i = 0; i < m * n; i++)
            P[i] = (double)((i * 104729) % 97) / 97.0 - 0.5;
        for (long r = -1; r < repeats; r++) { /* r = -1 warms up */
            double t0 = now();
            for (long s = 0; s < steps; s++) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d, 1.0, U,
                            (int)d, U, (int)d, 0.0, G, (int)n);
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)d, (int)n, 1.0, P,
                            (int)n, U, (int)d, 0.0, out, (int)d);
            }
            if (r >= 0)
                times[r] = (now() - t0) / (double)steps * 1e6;
        }
        free(U);
        free(G);
        free(P);
        free(out);
    } else {
        tsrelu_teacher *t;
        tsrelu_student *s;
        tsrelu_gd *gd;
        if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) || tsrelu_student_create_gaussian(m, d, 1e-3, 2, &s) ||
            tsrelu_gd_create(t, s, eta, &gd) || tsrelu_gd_run(gd, (uint64_t)warm) != TSRELU_OK) {
            fprintf(stderr, "bench_step: %s\n", tsrelu_last_error());
            return 1;
        }
        if (dump_path && dump(dump_path, gd))
            return 1;
        for (long r = 0; r < repeats; r++) {
            double t0 = now();
            if (tsrelu_gd_run(gd, (uint64_t)steps) != TSRELU_OK)
                return 1;
            times[r] = (now() - t0) / (double)steps * 1e6;
        }
        tsrelu_gd_free(gd);
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
    qsort(times, (size_t)repeats, sizeof(double), cmp);
    printf("median_us_per_step %.4f min %.4f max %.4f\n", times[repeats / 2], times[0], times[repeats - 1]);
    return 0;
}

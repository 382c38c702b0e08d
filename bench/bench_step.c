/* bench_step — microseconds per GD step of libtsrelu, or of the dense BLAS
 * products alone (the floor), at one size.
 *
 *   bench_step M K D [--warm N] [--steps N] [--repeats R] [--eta E]
 *              [--blas-floor | --vs-floor] [--dump FILE]
 *
 * Teacher: tsrelu_teacher_create_orthogonal(K, D, 1, seed 1); student:
 * tsrelu_student_create_gaussian(M, D, 1e-3, seed 2); eta = 0.1 unless
 * --eta (GD is stable for eta below about 4/M). After
 * --warm steps (default 10000: timing in the late phase, where the exact
 * angle path is busiest) it times R repeats of N steps and prints
 * "median_us_per_step <value>" and the min and max. --dump writes the
 * warmed-up W and V (%a hex floats, one neuron per line) for the peers.
 * --blas-floor times only the two dgemm products a step needs (Gram matrix
 * of unit rows and the P*U combination) on buffers of the same sizes.
 * --vs-floor times the library's N steps and then N floor steps in each
 * repeat, alternately in one process, and also prints the floor's median
 * and the median (and quartiles) of the per-repeat ratios library/floor:
 * on a shared machine two separate runs may see different speeds. */
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

/* The dense products a step needs at this size (the floor): the Gram
 * matrix of the unit rows and the P U combination, on fixed buffers. */
typedef struct {
    size_t m, n, d;
    double *U, *G, *P, *out;
} floor_bufs;

static int floor_init(floor_bufs *f, size_t m, size_t k, size_t d)
{
    size_t n = m + k;
    f->m = m;
    f->n = n;
    f->d = d;
    f->U = calloc(n * d, sizeof(double));
    f->G = calloc(m * n, sizeof(double));
    f->P = calloc(m * n, sizeof(double));
    f->out = calloc(m * d, sizeof(double));
    if (!f->U || !f->G || !f->P || !f->out)
        return 1;
    for (size_t i = 0; i < n * d; i++)
        f->U[i] = (double)((i * 7919) % 101) / 101.0 - 0.5;
    for (size_t i = 0; i < m * n; i++)
        f->P[i] = (double)((i * 104729) % 97) / 97.0 - 0.5;
    return 0;
}

static void floor_free(floor_bufs *f)
{
    free(f->U);
    free(f->G);
    free(f->P);
    free(f->out);
}

/* Microseconds per floor step over `steps` steps. */
static double floor_time(const floor_bufs *f, long steps)
{
    int m = (int)f->m, n = (int)f->n, d = (int)f->d;
    double t0 = now();
    for (long s = 0; s < steps; s++) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0, f->U, d, f->U, d, 0.0,
                    f->G, n);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, n, 1.0, f->P, n, f->U, d, 0.0,
                    f->out, d);
    }
    return (now() - t0) / (double)steps * 1e6;
}

/* Microseconds per GD step over `steps` steps, or a negative value on error. */
static double step_time(tsrelu_gd *gd, long steps)
{
    double t0 = now();
    if (tsrelu_gd_run(gd, (uint64_t)steps) != TSRELU_OK)
        return -1.0;
    return (now() - t0) / (double)steps * 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_step M K D [--warm N] [--steps N] [--repeats R] [--eta E] "
                        "[--blas-floor | --vs-floor] [--dump FILE]\n");
        return 2;
    }
    size_t m = strtoul(argv[1], NULL, 10), k = strtoul(argv[2], NULL, 10), d = strtoul(argv[3], NULL, 10);
    long warm = 10000, steps = 2000, repeats = 7;
    double eta = 0.1;
    int floor_only = 0, vs_floor = 0;
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
        else if (!strcmp(argv[i], "--vs-floor"))
            vs_floor = 1;
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump_path = argv[++i];
        else {
            fprintf(stderr, "bench_step: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (repeats < 1 || repeats > 1000 || steps < 1 || (floor_only && vs_floor)) {
        fprintf(stderr, "bench_step: need 1 <= repeats <= 1000, steps >= 1, and at most one of "
                        "--blas-floor and --vs-floor\n");
        return 2;
    }
    double times[1000], floors[1000], ratios[1000];
    floor_bufs fb;
    if ((floor_only || vs_floor) && floor_init(&fb, m, k, d)) {
        fprintf(stderr, "bench_step: out of memory\n");
        return 1;
    }
    if (floor_only) {
        (void)floor_time(&fb, steps); /* warms up */
        for (long r = 0; r < repeats; r++)
            times[r] = floor_time(&fb, steps);
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
        if (vs_floor)
            (void)floor_time(&fb, steps); /* warms up */
        for (long r = 0; r < repeats; r++) { /* with --vs-floor, the floor right after */
            if ((times[r] = step_time(gd, steps)) < 0.0) {
                fprintf(stderr, "bench_step: %s\n", tsrelu_last_error());
                return 1;
            }
            if (vs_floor) {
                floors[r] = floor_time(&fb, steps);
                ratios[r] = times[r] / floors[r];
            }
        }
        tsrelu_gd_free(gd);
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
    if (floor_only || vs_floor)
        floor_free(&fb);
    size_t R = (size_t)repeats;
    qsort(times, R, sizeof(double), cmp);
    printf("median_us_per_step %.4f min %.4f max %.4f\n", times[R / 2], times[0], times[R - 1]);
    if (vs_floor) {
        qsort(floors, R, sizeof(double), cmp);
        qsort(ratios, R, sizeof(double), cmp);
        printf("floor_median_us %.4f ratio_median %.4f quartiles %.4f %.4f\n", floors[R / 2],
               ratios[R / 2], ratios[R / 4], ratios[(3 * R) / 4]);
    }
    return 0;
}

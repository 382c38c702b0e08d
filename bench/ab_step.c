/* ab_step — two builds of libtsrelu in one process, GD steps timed
 * alternately: the ratio of a change's speed that this shared, noisy VM
 * does not bury (its speed moves by up to 1.6x within minutes, the same
 * for both builds inside one block).
 *
 *   ab_step LIB_A LIB_B M K D [--warm N] [--steps N] [--blocks B] [--eta E]
 *
 * Each library (a path to a libtsrelu.so, loaded with dlopen RTLD_LOCAL,
 * only through the public ABI) runs the bench_step problem: teacher
 * tsrelu_teacher_create_orthogonal(K, D, 1, seed 1), student
 * tsrelu_student_create_gaussian(M, D, 1e-3, seed 2), eta 0.1 unless
 * --eta, --warm steps first (default 10000). Then B blocks (default 41)
 * of N steps each (default 2000), A then B in even blocks and B then A in
 * odd ones; prints each build's median microseconds a step, the median
 * and the quartiles of the per-block ratios A/B, and whether the two
 * iterates are bit-identical at the end (a change of speed only should
 * say "same"). bench/ab_step.sh builds a git revision for LIB_A. */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include "bench_time.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    void *handle;
    tsrelu_status (*teacher)(size_t, size_t, double, uint64_t, tsrelu_teacher **);
    tsrelu_status (*student)(size_t, size_t, double, uint64_t, tsrelu_student **);
    tsrelu_status (*gd_create)(const tsrelu_teacher *, const tsrelu_student *, double, tsrelu_gd **);
    tsrelu_status (*gd_run)(tsrelu_gd *, uint64_t);
    const tsrelu_student *(*gd_student)(const tsrelu_gd *);
    tsrelu_status (*weights)(const tsrelu_student *, double *, size_t);
    const char *(*isa)(void);
    const char *(*last_error)(void);
    tsrelu_gd *gd;
} build;

static int sym(build *b, void *out, const char *name)
{
    void *p = dlsym(b->handle, name);
    if (!p) {
        fprintf(stderr, "ab_step: %s: no symbol %s\n", b->path, name);
        return 1;
    }
    memcpy(out, &p, sizeof p); /* object pointer to function pointer (POSIX) */
    return 0;
}

static int load(build *b, size_t m, size_t k, size_t d, double eta, long warm)
{
    b->handle = dlopen(b->path, RTLD_NOW | RTLD_LOCAL);
    if (!b->handle) {
        fprintf(stderr, "ab_step: %s\n", dlerror());
        return 1;
    }
    if (sym(b, &b->teacher, "tsrelu_teacher_create_orthogonal") ||
        sym(b, &b->student, "tsrelu_student_create_gaussian") ||
        sym(b, &b->gd_create, "tsrelu_gd_create") || sym(b, &b->gd_run, "tsrelu_gd_run") ||
        sym(b, &b->gd_student, "tsrelu_gd_student") ||
        sym(b, &b->weights, "tsrelu_student_weights") || sym(b, &b->isa, "tsrelu_isa") ||
        sym(b, &b->last_error, "tsrelu_last_error"))
        return 1;
    tsrelu_teacher *t;
    tsrelu_student *s;
    if (b->teacher(k, d, 1.0, 1, &t) || b->student(m, d, 1e-3, 2, &s) ||
        b->gd_create(t, s, eta, &b->gd) || b->gd_run(b->gd, (uint64_t)warm) != TSRELU_OK) {
        fprintf(stderr, "ab_step: %s: %s\n", b->path, b->last_error());
        return 1;
    }
    return 0; /* t and s stay alive with the process (the GD state keeps its own copies) */
}

static double timed(build *b, long steps)
{
    double t0 = now();
    if (b->gd_run(b->gd, (uint64_t)steps) != TSRELU_OK) {
        fprintf(stderr, "ab_step: %s: %s\n", b->path, b->last_error());
        exit(1);
    }
    return (now() - t0) / (double)steps * 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: ab_step LIB_A LIB_B M K D [--warm N] [--steps N] [--blocks B] [--eta E]\n");
        return 2;
    }
    build ab[2] = {{.path = argv[1]}, {.path = argv[2]}};
    size_t m = strtoul(argv[3], NULL, 10), k = strtoul(argv[4], NULL, 10), d = strtoul(argv[5], NULL, 10);
    long warm = 10000, steps = 2000, blocks = 41;
    double eta = 0.1;
    for (int i = 6; i < argc; i++) {
        if (!strcmp(argv[i], "--warm") && i + 1 < argc)
            warm = atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--blocks") && i + 1 < argc)
            blocks = atol(argv[++i]);
        else if (!strcmp(argv[i], "--eta") && i + 1 < argc)
            eta = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "ab_step: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (blocks < 1 || blocks > 10000 || steps < 1 || warm < 0) {
        fprintf(stderr, "ab_step: need 1 <= blocks <= 10000, steps >= 1, warm >= 0\n");
        return 2;
    }
    for (int j = 0; j < 2; j++)
        if (load(&ab[j], m, k, d, eta, warm))
            return 1;
    double *ta = malloc((size_t)blocks * sizeof(double)), *tb = malloc((size_t)blocks * sizeof(double)),
           *ratio = malloc((size_t)blocks * sizeof(double));
    if (!ta || !tb || !ratio)
        return 1;
    for (long r = 0; r < blocks; r++) {
        if (r % 2 == 0) {
            ta[r] = timed(&ab[0], steps);
            tb[r] = timed(&ab[1], steps);
        } else {
            tb[r] = timed(&ab[1], steps);
            ta[r] = timed(&ab[0], steps);
        }
        ratio[r] = ta[r] / tb[r];
    }
    double *w[2] = {malloc(m * d * sizeof(double)), malloc(m * d * sizeof(double))};
    if (!w[0] || !w[1])
        return 1;
    for (int j = 0; j < 2; j++)
        if (ab[j].weights(ab[j].gd_student(ab[j].gd), w[j], m * d))
            return 1;
    int same = memcmp(w[0], w[1], m * d * sizeof(double)) == 0;
    size_t nb = (size_t)blocks;
    qsort(ta, nb, sizeof(double), cmp);
    qsort(tb, nb, sizeof(double), cmp);
    qsort(ratio, nb, sizeof(double), cmp);
    printf("(%zu, %zu, %zu) A %s [%s]: %.4f us/step; B %s [%s]: %.4f us/step; A/B median %.3f "
           "(quartiles %.3f..%.3f, %ld blocks of %ld steps); iterates %s\n",
           m, k, d, ab[0].path, ab[0].isa(), ta[nb / 2], ab[1].path, ab[1].isa(), tb[nb / 2],
           ratio[nb / 2], ratio[nb / 4], ratio[(3 * nb) / 4], blocks, steps,
           same ? "bit-identical" : "DIFFER");
    return 0;
}

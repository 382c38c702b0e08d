/* bench_sgd — microseconds per online SGD step of libtsrelu at one size and
 * batch, and the memory a step uses.
 *
 *   bench_sgd M K D [--batch B] [--warm N] [--steps N] [--repeats R] [--eta E]
 *
 * Teacher: tsrelu_teacher_create_orthogonal(K, D, 1, seed 1); student:
 * tsrelu_student_create_gaussian(M, D, 1e-3, seed 2); eta = 0.1 unless
 * --eta; tsrelu_gd_set_sampling(gd, B, 0, seed 3, 0), B = 512 by default.
 * After --warm steps it times R repeats of N steps (tsrelu_gd_run, no
 * observer: the exact loss is never evaluated) and prints
 *   median_us_per_step <v> min <v> max <v>
 *   sampler_bytes <n> rss_growth_kib <n>
 * sampler_bytes is what tsrelu_gd_set_sampling allocates (docs/api.md
 * section 20), rss_growth_kib the growth of the peak resident set over the
 * timed steps (0: a step allocates nothing; tests/integration/test_noalloc.c
 * counts the calls). */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static long maxrss_kib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_sgd M K D [--batch B] [--warm N] [--steps N] [--repeats R] [--eta E]\n");
        return 2;
    }
    size_t m = strtoul(argv[1], NULL, 10), k = strtoul(argv[2], NULL, 10), d = strtoul(argv[3], NULL, 10);
    size_t batch = 512;
    long warm = 1000, steps = 1000, repeats = 7;
    double eta = 0.1;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--warm") && i + 1 < argc)
            warm = atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atol(argv[++i]);
        else if (!strcmp(argv[i], "--eta") && i + 1 < argc)
            eta = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "bench_sgd: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (repeats < 1 || repeats > 1000 || steps < 1 || warm < 0) {
        fprintf(stderr, "bench_sgd: need 1 <= repeats <= 1000, steps >= 1, warm >= 0\n");
        return 2;
    }
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) || tsrelu_student_create_gaussian(m, d, 1e-3, 2, &s) ||
        tsrelu_gd_create(t, s, eta, &gd) || tsrelu_gd_set_sampling(gd, batch, 0, 3, 0) ||
        (warm > 0 && tsrelu_gd_run(gd, (uint64_t)warm) != TSRELU_OK)) {
        fprintf(stderr, "bench_sgd: setup failed: %s\n", tsrelu_last_error());
        return 1;
    }
    double *per = malloc((size_t)repeats * sizeof(double));
    if (!per)
        return 1;
    long rss0 = maxrss_kib();
    for (long r = 0; r < repeats; r++) {
        double t0 = now();
        if (tsrelu_gd_run(gd, (uint64_t)steps) != TSRELU_OK) {
            fprintf(stderr, "bench_sgd: run failed: %s\n", tsrelu_last_error());
            return 1;
        }
        per[r] = (now() - t0) / (double)steps * 1e6;
    }
    long rss1 = maxrss_kib();
    qsort(per, (size_t)repeats, sizeof(double), cmp);
    /* n_train*d + B*(d + m + k) + m*d + m doubles (n_train = 0 online) */
    size_t bytes = (batch * (d + m + k + 1) + m * d + m) * sizeof(double);
    printf("median_us_per_step %.4f min %.4f max %.4f\n", per[repeats / 2], per[0], per[repeats - 1]);
    printf("sampler_bytes %zu rss_growth_kib %ld\n", bytes, rss1 - rss0);
    free(per);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}

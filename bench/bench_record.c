/* bench_record — the cost of a trajectory recorder per GD step.
 *
 *   bench_record M K D [--steps N] [--repeats R] [--per-decade P] [--eta E]
 *
 * Each repetition runs N steps from iteration 0 (fresh states on the same
 * teacher and student: tsrelu_teacher_create_orthogonal(K, D, 1, seed 1),
 * tsrelu_student_create_gaussian(M, D, 1e-3, seed 2), eta 0.1) three ways:
 * no recorder, a recorder at P records per decade, and the same with
 * TSRELU_RECORD_ACCURATE_LOSS. The three are interleaved, in an order
 * rotated each repetition, so that drifts of the machine hit them alike.
 * Prints the median microseconds per step of each and the ratios of the
 * medians to the run without a recorder. With --per-decade 1000000 every
 * step up to 10^6 is recorded: the difference per step is then the cost
 * of one row, which is robust to a noisy machine. */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NONE, RECORD, ACCURATE, MODES };
static const char *const names[MODES] = {"none", "record", "record+accurate"};

/* Microseconds per step of one run of `steps` steps from iteration 0;
 * *rows gets the number of rows recorded. Negative on failure. */
static double one_run(const tsrelu_teacher *t, const tsrelu_student *s, double eta, int mode, long steps,
                      uint64_t per_decade, size_t *rows)
{
    tsrelu_gd *gd;
    tsrelu_record *r = NULL;
    if (tsrelu_gd_create(t, s, eta, &gd))
        return -1;
    /* room for every row up to 10^5 (--per-decade 1000000 records every step) */
    size_t capacity = steps < 100000 ? (size_t)steps + 2 : 100000;
    if (mode != NONE && (tsrelu_record_create(gd, capacity, mode == ACCURATE ? TSRELU_RECORD_ACCURATE_LOSS : 0, &r) ||
                         tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, per_decade)))
        return -1;
    double t0 = now();
    tsrelu_status st = tsrelu_gd_run(gd, (uint64_t)steps);
    double us = (now() - t0) / (double)steps * 1e6;
    *rows = tsrelu_record_size(r);
    if (r && tsrelu_record_missed(r) != 0)
        st = TSRELU_EINVAL;
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
    return st == TSRELU_OK ? us : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_record M K D [--steps N] [--repeats R] [--per-decade P] [--eta E]\n");
        return 2;
    }
    size_t m = strtoul(argv[1], NULL, 10), k = strtoul(argv[2], NULL, 10), d = strtoul(argv[3], NULL, 10);
    long steps = 100000, repeats = 9;
    uint64_t per_decade = 10;
    double eta = 0.1;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atol(argv[++i]);
        else if (!strcmp(argv[i], "--per-decade") && i + 1 < argc)
            per_decade = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--eta") && i + 1 < argc)
            eta = strtod(argv[++i], NULL);
        else {
            fprintf(stderr, "bench_record: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (repeats < 1 || repeats > 1000 || steps < 1 || per_decade < 1) {
        fprintf(stderr, "bench_record: need 1 <= repeats <= 1000, steps >= 1, per-decade >= 1\n");
        return 2;
    }
    tsrelu_teacher *t;
    tsrelu_student *s;
    if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) || tsrelu_student_create_gaussian(m, d, 1e-3, 2, &s)) {
        fprintf(stderr, "bench_record: %s\n", tsrelu_last_error());
        return 1;
    }
    static double times[MODES][1000];
    size_t rows[MODES] = {0};
    for (long r = -1; r < repeats; r++) /* r = -1 warms up */
        for (int j = 0; j < MODES; j++) {
            int mode = (int)((j + (r < 0 ? 0 : r)) % MODES);
            double us = one_run(t, s, eta, mode, steps, per_decade, &rows[mode]);
            if (us < 0) {
                fprintf(stderr, "bench_record: run failed: %s\n", tsrelu_last_error());
                return 1;
            }
            if (r >= 0)
                times[mode][r] = us;
        }
    double med[MODES];
    for (int j = 0; j < MODES; j++) {
        qsort(times[j], (size_t)repeats, sizeof(double), cmp);
        med[j] = times[j][repeats / 2];
    }
    printf("(m,k,d)=(%zu,%zu,%zu) steps=%ld from iteration 0, %llu records per decade, %ld repetitions\n", m, k,
           d, steps, (unsigned long long)per_decade, repeats);
    for (int j = 0; j < MODES; j++)
        printf("%-16s rows %4zu  median_us_per_step %.4f  min %.4f  max %.4f  ratio %.4f\n", names[j], rows[j],
               med[j], times[j][0], times[j][repeats - 1], med[j] / med[NONE]);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return 0;
}

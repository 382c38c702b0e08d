/* bench_batch — wall time of a batch of independent runs, to measure how
 * the batch API scales with threads.
 *
 *   bench_batch RUNS M K D STEPS THREADS
 *
 * Runs RUNS students (seeds 1..RUNS, sigma 1e-3) on one orthogonal teacher
 * (seed 1), eta 0.1, STEPS steps each, with THREADS threads (0 = all CPUs),
 * and prints "seconds <wall time>". */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include "bench_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: bench_batch RUNS M K D STEPS THREADS\n");
        return 2;
    }
    size_t runs = strtoul(argv[1], NULL, 10), m = strtoul(argv[2], NULL, 10), k = strtoul(argv[3], NULL, 10),
           d = strtoul(argv[4], NULL, 10);
    uint64_t steps = strtoull(argv[5], NULL, 10);
    unsigned threads = (unsigned)strtoul(argv[6], NULL, 10);
    tsrelu_teacher *t;
    tsrelu_batch *b;
    if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) || tsrelu_batch_create(&b) ||
        tsrelu_batch_set_threads(b, threads))
        return 1;
    for (size_t r = 0; r < runs; r++) {
        tsrelu_student *s;
        if (tsrelu_student_create_gaussian(m, d, 1e-3, r + 1, &s) || tsrelu_batch_add(b, t, s, 0.1, steps, NULL))
            return 1;
        tsrelu_student_free(s);
    }
    double t0 = now();
    tsrelu_status st = tsrelu_batch_run(b);
    double t1 = now();
    if (st != TSRELU_OK) {
        fprintf(stderr, "bench_batch: %s\n", tsrelu_last_error());
        return 1;
    }
    printf("seconds %.4f\n", t1 - t0);
    tsrelu_batch_free(b);
    tsrelu_teacher_free(t);
    return 0;
}

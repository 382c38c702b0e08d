/* bench_accurate: the cost of tsrelu_loss_accurate (quadruple precision)
 * against tsrelu_loss, per call, at the sizes of docs/numerics.md: each call
 * repeated for about one second on an orthogonal teacher (seed 1) and a
 * Gaussian student (sigma 0.1, seed 2). Prints one table row per size.
 *
 *   make build/bench_accurate && OPENBLAS_NUM_THREADS=1 build/bench_accurate
 */
#define _POSIX_C_SOURCE 200809L
#include <tsrelu.h>

#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Mean seconds per call of the loss (accurate != 0: the quad one). */
static double per_call(const tsrelu_student *s, const tsrelu_teacher *t, int accurate)
{
    double L, t0 = now(), t1;
    long n = 0;
    do {
        tsrelu_status st = accurate ? tsrelu_loss_accurate(s, t, &L) : tsrelu_loss(s, t, &L);
        if (st != TSRELU_OK) {
            fprintf(stderr, "bench_accurate: %s\n", tsrelu_last_error());
            return -1.0;
        }
        n++;
        t1 = now();
    } while (t1 - t0 < 1.0);
    return (t1 - t0) / (double)n;
}

int main(void)
{
    static const size_t sizes[][3] = {{3, 1, 4}, {20, 4, 16}, {40, 4, 64}, {100, 10, 100}, {20, 2, 1024}};
    printf("| m | k | d | tsrelu_loss | tsrelu_loss_accurate | ratio |\n|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t m = sizes[i][0], k = sizes[i][1], d = sizes[i][2];
        tsrelu_teacher *t;
        tsrelu_student *s;
        if (tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t) != TSRELU_OK ||
            tsrelu_student_create_gaussian(m, d, 0.1, 2, &s) != TSRELU_OK) {
            fprintf(stderr, "bench_accurate: %s\n", tsrelu_last_error());
            return 1;
        }
        double fast = per_call(s, t, 0), slow = per_call(s, t, 1);
        if (fast < 0 || slow < 0)
            return 1;
        printf("| %zu | %zu | %zu | %.3g µs | %.3g µs | %.0f |\n", m, k, d, 1e6 * fast, 1e6 * slow,
               slow / fast);
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
    return 0;
}

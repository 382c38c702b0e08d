/* Cost of the closed-form Hessian at (m, k, d) (default (20, 4, 16)) from a
 * late-phase GD state: the dense Hessian against the central-difference
 * Hessian built from our own gradient (2N gradient calls), and one
 * Hessian-vector product against one gradient. The four timings are
 * interleaved within each repeat, and the medians over repeats are
 * reported; every call goes through the public API (each allocates its
 * workspace, as a user's call does).
 *
 * usage: bench_hessian [m k d] [--repeats R] [--warm STEPS]
 * prints: "hessian <dense us> <fd us> <fd/dense> <hvp us> <grad us> <hvp/grad>" */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <tsrelu.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_time.h"

static void check(tsrelu_status st, const char *what)
{
    if (st < 0) {
        fprintf(stderr, "bench_hessian: %s: %s\n", what, tsrelu_last_error());
        exit(1);
    }
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof(double), cmp);
    return x[n / 2];
}

int main(int argc, char **argv)
{
    size_t m = 20, k = 4, d = 16;
    int reps = 15, warm = 10000, pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--warm") == 0 && i + 1 < argc)
            warm = atoi(argv[++i]);
        else if (pos < 3) {
            size_t v = strtoul(argv[i], NULL, 10);
            *(pos == 0 ? &m : pos == 1 ? &k : &d) = v;
            pos++;
        }
    }
    if (reps < 1 || reps > 1000) {
        fprintf(stderr, "bench_hessian: --repeats in 1..1000\n");
        return 2;
    }
    tsrelu_teacher *t;
    tsrelu_student *s0, *s;
    tsrelu_gd *gd;
    check(tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &t), "teacher");
    check(tsrelu_student_create_gaussian(m, d, 1e-3, 2, &s0), "student");
    check(tsrelu_gd_create(t, s0, 0.1, &gd), "gd");
    check(tsrelu_gd_run(gd, (uint64_t)warm), "run");
    check(tsrelu_student_copy(tsrelu_gd_student(gd), &s), "copy");
    size_t md = m * d, N = md;
    double *H = malloc(N * N * sizeof(double)), *Hfd = malloc(N * N * sizeof(double));
    double *W = malloc(md * sizeof(double)), *gp = malloc(md * sizeof(double));
    double *gm = malloc(md * sizeof(double)), *x = malloc(N * sizeof(double));
    double *y = malloc(N * sizeof(double));
    double *td = malloc((size_t)reps * 4 * sizeof(double));
    if (!H || !Hfd || !W || !gp || !gm || !x || !y || !td)
        return 1;
    check(tsrelu_student_weights(s, W, md), "weights");
    for (size_t i = 0; i < N; i++)
        x[i] = (double)((i * 7919) % 17) / 17.0 - 0.5;
    int inner_h = 20, inner_v = 2000;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int j = 0; j < inner_h; j++)
            check(tsrelu_hessian(s, t, 0, H, N * N), "hessian");
        double t1 = now();
        for (size_t v = 0; v < N; v++) { /* central differences, step 1e-6 |x| */
            double x0 = W[v], h = 1e-6 * (x0 != 0.0 ? (x0 > 0 ? x0 : -x0) : 1.0);
            W[v] = x0 + h;
            check(tsrelu_student_set_weights(s, W, md), "set");
            check(tsrelu_gradient(s, t, gp, md, NULL, 0), "gradient");
            W[v] = x0 - h;
            check(tsrelu_student_set_weights(s, W, md), "set");
            check(tsrelu_gradient(s, t, gm, md, NULL, 0), "gradient");
            W[v] = x0;
            for (size_t q = 0; q < N; q++)
                Hfd[q * N + v] = (gp[q] - gm[q]) / (2.0 * h);
        }
        check(tsrelu_student_set_weights(s, W, md), "set");
        double t2 = now();
        for (int j = 0; j < inner_v; j++)
            check(tsrelu_hessian_vector(s, t, 0, x, N, y, N), "hvp");
        double t3 = now();
        for (int j = 0; j < inner_v; j++)
            check(tsrelu_gradient(s, t, gp, md, NULL, 0), "gradient");
        double t4 = now();
        td[0 * reps + r] = (t1 - t0) / inner_h * 1e6;
        td[1 * reps + r] = (t2 - t1) * 1e6;
        td[2 * reps + r] = (t3 - t2) / inner_v * 1e6;
        td[3 * reps + r] = (t4 - t3) / inner_v * 1e6;
    }
    double err = 0.0, scale = 0.0;
    for (size_t i = 0; i < N * N; i++) {
        double e = H[i] - Hfd[i];
        err = e * e > err ? e * e : err;
        scale = H[i] * H[i] > scale ? H[i] * H[i] : scale;
    }
    double dense = median(td, reps), fd = median(td + reps, reps);
    double hvp = median(td + 2 * reps, reps), grad = median(td + 3 * reps, reps);
    printf("hessian %.3f %.3f %.2f %.3f %.3f %.3f\n", dense, fd, fd / dense, hvp, grad, hvp / grad);
    fprintf(stderr, "(m, k, d) = (%zu, %zu, %zu), N = %zu: max |H - H_fd| = %.1e of max |H|\n", m, k, d,
            N, err > 0 ? __builtin_sqrt(err / scale) : 0.0);
    free(H);
    free(Hfd);
    free(W);
    free(gp);
    free(gm);
    free(x);
    free(y);
    free(td);
    tsrelu_student_free(s);
    tsrelu_student_free(s0);
    tsrelu_gd_free(gd);
    tsrelu_teacher_free(t);
    return 0;
}

/* spurious_minima — certify the spurious local minima of Safran & Shamir
 * (ICML 2018) with the library's second-order tools.
 *
 * Setting: k = m teachers and students in d = k, orthonormal teachers
 * (tsrelu_teacher_create_orthogonal), output weights 1, students from
 * tsrelu_student_create_gaussian with sigma = 1/sqrt(d). Each seed runs GD
 * (eta = 0.05, through the batch API, stopped at |grad L| <= 1e-7 or 10^5
 * steps); its end state is polished by tsrelu_newton (pseudo-inverse steps,
 * to |grad L| <= 1e-13 S) and classified:
 *   global    L <= 1e-20 at the end (tsrelu_loss_accurate: the global
 *             minimum W = V up to the order of the students)
 *   spurious  a certified local minimum with L > 1e-20: Newton converged
 *             (gradient at the floor), Morse index 0, no flat eigenvalue
 *             (rel_tol 1e-9) and the smallest eigenvalue positive
 *   other     anything else (a saddle, no convergence), listed
 * Prints, per k, the fraction of runs in each class and the distinct
 * spurious loss values (clustered at relative 1e-6) with their counts.
 *
 * Build:  make build/examples/spurious_minima
 * Run:    build/examples/spurious_minima                k = 6..10, 100 seeds each
 *         build/examples/spurious_minima --seeds 200 --kmin 6 --kmax 8
 *         build/examples/spurious_minima --quick        k = 6, 8 seeds (make check)
 * docs/secondorder.md quotes the output of the default run. */
#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETA 0.05
#define GD_STEPS 100000
#define GD_GRAD_TOL 1e-7
#define GLOBAL_LOSS 1e-20

static int failed(tsrelu_status st, const char *what)
{
    if (st >= 0)
        return 0;
    fprintf(stderr, "spurious_minima: %s: %s (%s)\n", what, tsrelu_status_string(st),
            tsrelu_last_error());
    return 1;
}

static int cmp_double(const void *x, const void *y)
{
    double p = *(const double *)x, q = *(const double *)y;
    return (p > q) - (p < q);
}

/* Print the distinct values of sorted x (relative gap 1e-6) with counts. */
static void print_clusters(const double *x, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && x[j] - x[i] <= 1e-6 * x[i])
            j++;
        printf("    L = %.10e  (%zu run%s)\n", x[i], j - i, j - i > 1 ? "s" : "");
        i = j;
    }
}

/* One k: returns 0, or 1 on a library error. */
static int run_k(size_t k, size_t seeds, unsigned threads)
{
    size_t d = k, m = k;
    tsrelu_teacher *t = NULL;
    tsrelu_batch *b = NULL;
    double *spurious = malloc(seeds * sizeof(double));
    size_t n_global = 0, n_spurious = 0, n_other = 0, newton_its = 0;
    double worst_grad = 0.0, min_eig = INFINITY;
    int err = spurious == NULL;
    err = err || failed(tsrelu_teacher_create_orthogonal(k, d, 1.0, 1000 + k, &t), "teacher") ||
          failed(tsrelu_batch_create(&b), "batch") ||
          failed(tsrelu_batch_set_threads(b, threads), "threads");
    for (size_t i = 0; !err && i < seeds; i++) {
        tsrelu_student *s0 = NULL;
        err = failed(tsrelu_student_create_gaussian(m, d, 1.0 / sqrt((double)d), i, &s0), "student") ||
              failed(tsrelu_batch_add(b, t, s0, ETA, GD_STEPS, NULL), "batch_add") ||
              failed(tsrelu_gd_set_tolerances(tsrelu_batch_state(b, i), 0.0, GD_GRAD_TOL), "tol");
        tsrelu_student_free(s0);
    }
    if (!err)
        err = failed(tsrelu_batch_run(b), "batch_run");
    for (size_t i = 0; !err && i < seeds; i++) {
        tsrelu_student *s = NULL;
        double info[TSRELU_NEWTON_LEN];
        err = failed(tsrelu_student_copy(tsrelu_gd_student(tsrelu_batch_state(b, i)), &s), "copy");
        if (err)
            break;
        tsrelu_status st = tsrelu_newton(s, t, 0, 1e-13, 1e-9, 50, info, TSRELU_NEWTON_LEN);
        double L = 0.0;
        err = failed(st, "newton") || failed(tsrelu_loss_accurate(s, t, &L), "loss");
        tsrelu_student_free(s);
        if (err)
            break;
        newton_its += (size_t)info[TSRELU_NEWTON_ITERATIONS];
        int certified = st == TSRELU_CONVERGED && info[TSRELU_NEWTON_NEGATIVE] == 0 &&
                        info[TSRELU_NEWTON_FLAT] == 0 && info[TSRELU_NEWTON_MIN_EIG] > 0.0;
        if (st == TSRELU_CONVERGED)
            worst_grad = fmax(worst_grad, info[TSRELU_NEWTON_GRAD_NORM] /
                                              info[TSRELU_NEWTON_GRAD_SCALE]);
        if (L <= GLOBAL_LOSS && st == TSRELU_CONVERGED) {
            n_global++;
        } else if (certified) {
            spurious[n_spurious++] = L;
            min_eig = fmin(min_eig, info[TSRELU_NEWTON_MIN_EIG]);
        } else {
            n_other++;
            printf("  seed %zu: status %s, L = %.3e, |grad|/S = %.1e, index %.0f, flat %.0f\n", i,
                   tsrelu_status_name(st), L,
                   info[TSRELU_NEWTON_GRAD_NORM] / info[TSRELU_NEWTON_GRAD_SCALE],
                   info[TSRELU_NEWTON_NEGATIVE], info[TSRELU_NEWTON_FLAT]);
        }
    }
    if (!err) {
        printf("k = m = d = %zu: %zu runs: %zu global (%.1f%%), %zu spurious minima (%.1f%%), "
               "%zu other; Newton steps %.1f per run, largest final |grad|/S %.1e\n",
               k, seeds, n_global, 100.0 * n_global / seeds, n_spurious,
               100.0 * n_spurious / seeds, n_other, (double)newton_its / seeds, worst_grad);
        if (n_spurious) {
            qsort(spurious, n_spurious, sizeof(double), cmp_double);
            printf("  spurious minima (smallest Hessian eigenvalue among them %.3e):\n", min_eig);
            print_clusters(spurious, n_spurious);
        }
    }
    free(spurious);
    tsrelu_batch_free(b);
    tsrelu_teacher_free(t);
    return err;
}

int main(int argc, char **argv)
{
    size_t kmin = 6, kmax = 10, seeds = 100;
    unsigned threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            kmax = kmin = 6;
            seeds = 8;
        } else if (i + 1 < argc && strcmp(argv[i], "--seeds") == 0) {
            seeds = strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--kmin") == 0) {
            kmin = strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--kmax") == 0) {
            kmax = strtoul(argv[++i], NULL, 10);
        } else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            threads = (unsigned)strtoul(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: %s [--quick] [--seeds N] [--kmin K] [--kmax K] [--threads T]\n",
                    argv[0]);
            return 2;
        }
    }
    if (seeds == 0 || kmin < 1 || kmax < kmin) {
        fprintf(stderr, "spurious_minima: need seeds >= 1 and 1 <= kmin <= kmax\n");
        return 2;
    }
    printf("GD: eta = %g, sigma = 1/sqrt(d), at most %d steps, stop at |grad| <= %g; "
           "then tsrelu_newton to |grad| <= 1e-13 S\n", ETA, GD_STEPS, GD_GRAD_TOL);
    for (size_t k = kmin; k <= kmax; k++)
        if (run_k(k, seeds, threads))
            return 1;
    return 0;
}

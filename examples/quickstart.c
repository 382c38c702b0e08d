/* quickstart — the smallest complete use of libtsrelu.
 *
 * A student of m = 6 ReLU neurons, initialised tiny (sigma = 1e-3), learns a
 * teacher of k = 2 orthogonal unit-norm ReLU neurons in d = 8 by gradient
 * descent on the exact population loss (eta = 0.1). An observer on a
 * logarithmic schedule prints the iteration and the loss, both in double
 * precision and in the accurate (quad-precision) evaluation, which stays
 * meaningful when the loss falls below ~1e-16.
 *
 * Build:  cc quickstart.c $(pkg-config --cflags --libs libtsrelu) -lm
 * Run:    ./quickstart           200000 steps (well under a second)
 *         ./quickstart --quick   2000 steps (used by `make check`)
 *
 * Every library call returns a tsrelu_status: 0 is success, positive values
 * are non-error outcomes (stopped, converged), negative values are errors,
 * explained by tsrelu_status_string() and, in detail, tsrelu_last_error(). */
#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { K = 2, D = 8, M = 6 }; /* sizes, as constants for the arrays below */

static double dot(const double *x, const double *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

/* Report a failed call and tell the caller whether it failed. */
static int failed(tsrelu_status st, const char *what)
{
    if (st >= 0)
        return 0;
    fprintf(stderr, "quickstart: %s: %s (%s)\n", what, tsrelu_status_string(st),
            tsrelu_last_error());
    return 1;
}

/* What the observer needs besides the GD state: somewhere to leave the
 * status of a failed call, because an observer can only return an int. */
typedef struct {
    tsrelu_status error;
} observer_data;

/* Called by tsrelu_gd_run() at iterations 0, 1, 2, 3, ... (10 points per
 * decade) and at the last iterate. The state is read through the getters.
 * Returning non-zero would stop the run (TSRELU_STOPPED). */
static int print_progress(const tsrelu_gd *gd, void *user_data)
{
    observer_data *od = user_data;
    double loss, loss_acc;
    tsrelu_status st = tsrelu_gd_loss(gd, &loss);
    if (st == TSRELU_OK)
        st = tsrelu_loss_accurate(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &loss_acc);
    if (st != TSRELU_OK) {
        od->error = st;
        return 1; /* stop the run; main() reports the error */
    }
    printf("%10llu  %-12.6e  %-12.6e\n", (unsigned long long)tsrelu_gd_iteration(gd), loss,
           loss_acc);
    return 0;
}

int main(int argc, char **argv)
{
    const size_t k = K, d = D, m = M;
    const double eta = 0.1, sigma = 1e-3;
    uint64_t steps = 200000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            steps = 2000;
        } else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }

    printf("libtsrelu %s: k=%zu teachers, m=%zu students, d=%zu, sigma=%g, eta=%g, %llu steps\n",
           tsrelu_version_string(), k, m, d, sigma, eta, (unsigned long long)steps);

    tsrelu_teacher *teacher = NULL;
    tsrelu_student *student = NULL;
    tsrelu_gd *gd = NULL;
    observer_data od = {TSRELU_OK};
    int status = 1;

    /* Teacher: k random orthonormal directions of norm 1, output weights 1.
     * Student: w_i ~ N(0, sigma^2 I), output weights 1. Fixed seeds make the
     * run reproducible bit for bit. */
    if (failed(tsrelu_teacher_create_orthogonal(k, d, 1.0, 1, &teacher), "teacher") ||
        failed(tsrelu_student_create_gaussian(m, d, sigma, 2, &student), "student"))
        goto done;

    /* The GD state copies both networks, so they could be freed right now. */
    if (failed(tsrelu_gd_create(teacher, student, eta, &gd), "gd_create"))
        goto done;

    if (failed(tsrelu_gd_set_observer(gd, print_progress, &od, TSRELU_SCHEDULE_LOG, 10),
               "set_observer"))
        goto done;

    printf("%10s  %-12s  %-12s\n", "iteration", "loss", "loss (accurate)");
    tsrelu_status st = tsrelu_gd_run(gd, steps);
    if (st == TSRELU_STOPPED && od.error != TSRELU_OK) {
        failed(od.error, "observer");
        goto done;
    }
    if (failed(st, "gd_run"))
        goto done;

    /* The final student, read through the (read-only) view of the state:
     * each student's nearest teacher and norm. The norms within a group
     * add up to about |v| = 1 (the students have aligned with their
     * teacher); each lies within a factor 4 of |v| / (group size), the
     * paper's balance bound. */
    int tau[M];
    double W[M * D];
    if (failed(tsrelu_nearest_teacher(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), tau, m),
               "nearest_teacher") ||
        failed(tsrelu_student_weights(tsrelu_gd_student(gd), W, m * d), "student_weights"))
        goto done;
    for (size_t i = 0; i < m; i++)
        printf("student %zu: teacher %d, |w| = %.6f\n", i, tau[i], sqrt(dot(W + i * d, W + i * d, d)));
    status = 0;

done:
    /* Free in any order; freeing NULL is harmless. */
    tsrelu_gd_free(gd);
    tsrelu_student_free(student);
    tsrelu_teacher_free(teacher);
    return status;
}

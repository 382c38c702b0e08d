/* momentum — a custom update rule through tsrelu_gd_set_step().
 *
 * Same setting as quickstart.c (k = 2 orthogonal unit teachers, m = 6
 * students, d = 8, sigma = 1e-3, eta = 0.1). One GD state uses the default
 * update W <- W - eta gW; a second one, started from the same student,
 * replaces it with Polyak's heavy ball
 *
 *     v <- beta v - eta gW,    W <- W + v        (v = 0 at the start)
 *
 * and the two losses are compared after the same numbers of steps (beta = 0
 * gives back plain GD bit for bit). Late on, the heavy ball acts like GD
 * with the step eta / (1 - beta); with the paper's L ~ 1 / (eta T)^3 the
 * loss ratio should then settle near (1 - beta)^3, which is printed for
 * comparison. The
 * library still evaluates the exact gradient, keeps the iteration count,
 * calls observers and rejects non-finite iterates; the rule only decides
 * where the next iterate goes.
 *
 * Run:  ./momentum [--quick] [beta]     (default beta = 0.9; --quick: 2000
 *                                        steps instead of 20000) */
#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { K = 2, D = 8, M = 6, MD = M * D };

static int failed(tsrelu_status st, const char *what)
{
    if (st >= 0)
        return 0;
    fprintf(stderr, "momentum: %s: %s (%s)\n", what, tsrelu_status_string(st), tsrelu_last_error());
    return 1;
}

/* The rule's own state travels in user_data. The velocity is only
 * committed once the step is known to be finite: if it were not, the
 * library would discard the new W, and a velocity already overwritten would
 * no longer match the kept iterate. The scratch buffer is allocated once,
 * so a step allocates nothing. */
typedef struct {
    double beta;
    double v[MD];     /* velocity */
    double v_new[MD]; /* scratch */
} heavy_ball;

static int heavy_ball_step(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                           const double *ga, void *user_data)
{
    heavy_ball *hb = user_data;
    double eta = tsrelu_gd_eta(gd);
    (void)a; /* output weights are not trained here: a and ga are NULL */
    (void)ga;
    for (size_t i = 0; i < MD; i++) {
        hb->v_new[i] = hb->beta * hb->v[i] - eta * gW[i];
        if (!isfinite(W[i] + hb->v_new[i]))
            return 1; /* refuse: the run stops with TSRELU_STOPPED, state unchanged */
    }
    for (size_t i = 0; i < MD; i++) {
        hb->v[i] = hb->v_new[i];
        W[i] += hb->v[i];
    }
    return 0;
}

static int loss_of(const tsrelu_gd *gd, double *loss)
{
    /* accurate: the heavy ball drives the loss far below 1e-16 */
    return failed(tsrelu_loss_accurate(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), loss),
                  "loss_accurate");
}

int main(int argc, char **argv)
{
    uint64_t steps = 20000;
    double beta = 0.9;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--quick") == 0) {
            steps = 2000;
        } else if ((beta = strtod(argv[i], &end), *end != '\0' || end == argv[i]) ||
                   !(beta >= 0.0 && beta < 1.0)) {
            fprintf(stderr, "usage: %s [--quick] [beta in [0, 1)]\n", argv[0]);
            return 2;
        }
    }
    const double eta = 0.1, sigma = 1e-3;

    tsrelu_teacher *teacher = NULL;
    tsrelu_student *student = NULL;
    tsrelu_gd *plain = NULL, *ball = NULL;
    heavy_ball *hb = calloc(1, sizeof *hb); /* v = 0 */
    int status = 1;
    if (!hb) {
        fprintf(stderr, "momentum: out of memory\n");
        return 1;
    }
    hb->beta = beta;

    if (failed(tsrelu_teacher_create_orthogonal(K, D, 1.0, 1, &teacher), "teacher") ||
        failed(tsrelu_student_create_gaussian(M, D, sigma, 2, &student), "student") ||
        failed(tsrelu_gd_create(teacher, student, eta, &plain), "gd_create") ||
        failed(tsrelu_gd_create(teacher, student, eta, &ball), "gd_create") ||
        failed(tsrelu_gd_set_step(ball, heavy_ball_step, hb), "set_step"))
        goto done;

    printf("plain GD vs heavy ball (beta = %g), eta = %g, k=%d, m=%d, d=%d, sigma=%g\n", beta, eta,
           K, M, D, sigma);
    printf("%10s  %-12s  %-12s  %s\n", "iteration", "L plain", "L momentum", "ratio");
    /* Advance both states to each checkpoint and compare. */
    for (uint64_t target = 10; ; target *= 10) {
        uint64_t stop = target < steps ? target : steps;
        for (int c = 0; c < 2; c++) {
            tsrelu_gd *gd = c ? ball : plain;
            tsrelu_status st = tsrelu_gd_run(gd, stop - tsrelu_gd_iteration(gd));
            if (st == TSRELU_STOPPED) {
                fprintf(stderr, "momentum: the heavy ball produced a non-finite step at iteration %llu\n",
                        (unsigned long long)tsrelu_gd_iteration(gd));
                goto done;
            }
            if (failed(st, c ? "gd_run (heavy ball)" : "gd_run (plain)"))
                goto done;
        }
        double Lp, Lm;
        if (loss_of(plain, &Lp) || loss_of(ball, &Lm))
            goto done;
        printf("%10llu  %-12.6e  %-12.6e  %.3g\n", (unsigned long long)stop, Lp, Lm, Lm / Lp);
        if (stop == steps)
            break;
    }
    printf("late-time ratio expected from L ~ (eta T)^-3 with step eta/(1-beta): %.3g\n",
           pow(1.0 - beta, 3));
    status = 0;

done:
    tsrelu_gd_free(ball);
    tsrelu_gd_free(plain);
    tsrelu_student_free(student);
    tsrelu_teacher_free(teacher);
    free(hb);
    return status;
}

/* resume — a long GD run that survives being killed.
 *
 * It checkpoints its state every --every steps from inside the observer and,
 * when started again with the same --checkpoint file, resumes from the last
 * checkpoint and continues bit for bit as if it had never stopped. The step
 * rule is heavy-ball momentum, whose velocity is declared as step state so
 * that it is saved and restored with the rest. Ctrl-C (SIGINT) or SIGTERM
 * interrupts the run at its last completed step (tsrelu_gd_interrupt from
 * the signal handler), saves that step and exits with status 130: nothing
 * since the last periodic checkpoint is lost.
 *
 *   resume [--checkpoint FILE] [--steps N] [--every E] [--quick]
 *
 * At the end it prints the final iteration, the loss and the final weights
 * as hex floats (exact), so that two runs can be compared with diff. */
#define _POSIX_C_SOURCE 200809L /* sigaction */
#include <tsrelu.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M 6
#define K 2
#define D 8
#define BETA 0.5

typedef struct {
    double v[M * D]; /* velocity: the step state */
} momentum;

static int heavy_ball(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga,
                      void *ud)
{
    momentum *mo = ud;
    double eta = tsrelu_gd_eta(gd);
    (void)a;
    (void)ga;
    for (size_t i = 0; i < M * D; i++) {
        mo->v[i] = BETA * mo->v[i] - eta * gW[i];
        W[i] += mo->v[i];
    }
    return 0;
}

typedef struct {
    const char *path;
    uint64_t every;
} saver;

static int checkpoint(const tsrelu_gd *gd, void *ud)
{
    const saver *sv = ud;
    if (tsrelu_gd_iteration(gd) % sv->every != 0)
        return 0; /* the final iterate is observed too: save only on the grid */
    tsrelu_status st = tsrelu_gd_save(gd, sv->path);
    if (st != TSRELU_OK) {
        fprintf(stderr, "resume: %s\n", tsrelu_last_error());
        return 1;
    }
    return 0;
}

static tsrelu_gd *volatile running; /* the state the signal handler interrupts */

static void on_signal(int sig)
{
    (void)sig;
    (void)tsrelu_gd_interrupt(running); /* async-signal-safe */
}

static int fail(const char *what, tsrelu_status st)
{
    fprintf(stderr, "resume: %s: %s (%s)\n", what, tsrelu_status_string(st), tsrelu_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = "resume.ckpt";
    uint64_t steps = 2000000, every = 10000;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--checkpoint") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--every") && i + 1 < argc)
            every = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else {
            fprintf(stderr, "usage: resume [--checkpoint FILE] [--steps N] [--every E] [--quick]\n");
            return 2;
        }
    }
    if (quick) {
        path = "build/resume-quick.ckpt";
        remove(path);
        steps = 20000;
        every = 1000;
    }
    if (every == 0) {
        fprintf(stderr, "resume: --every must be >= 1\n");
        return 2;
    }
    static momentum mo; /* zero velocity for a fresh start */
    tsrelu_gd *gd = NULL;
    tsrelu_status st;
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        if ((st = tsrelu_gd_load(path, &gd)) != TSRELU_OK)
            return fail("load", st);
        fprintf(stderr, "resume: continuing from iteration %llu\n",
                (unsigned long long)tsrelu_gd_iteration(gd));
    } else {
        tsrelu_teacher *t;
        tsrelu_student *s;
        if ((st = tsrelu_teacher_create_orthogonal(K, D, 1.0, 7, &t)) != TSRELU_OK ||
            (st = tsrelu_student_create_gaussian(M, D, 1e-3, 8, &s)) != TSRELU_OK ||
            (st = tsrelu_gd_create(t, s, 0.05, &gd)) != TSRELU_OK)
            return fail("setup", st);
        tsrelu_teacher_free(t);
        tsrelu_student_free(s);
    }
    saver sv = {path, every};
    /* On a loaded state, set_step_state copies the saved velocity into mo.v. */
    if ((st = tsrelu_gd_set_step(gd, heavy_ball, &mo)) != TSRELU_OK ||
        (st = tsrelu_gd_set_step_state(gd, mo.v, M * D)) != TSRELU_OK ||
        (st = tsrelu_gd_set_observer(gd, checkpoint, &sv, TSRELU_SCHEDULE_LINEAR, every)) != TSRELU_OK)
        return fail("callbacks", st);
    running = gd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    uint64_t done = tsrelu_gd_iteration(gd);
    st = done < steps ? tsrelu_gd_run(gd, steps - done) : TSRELU_OK;
    if (st == TSRELU_INTERRUPTED) {
        if ((st = tsrelu_gd_save(gd, path)) != TSRELU_OK)
            return fail("save after interrupt", st);
        fprintf(stderr, "resume: interrupted at iteration %llu, saved to %s\n",
                (unsigned long long)tsrelu_gd_iteration(gd), path);
        tsrelu_gd_free(gd);
        return 130;
    }
    if (st != TSRELU_OK)
        return fail("run", st);
    double L, W[M * D];
    if ((st = tsrelu_loss_accurate(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &L)) != TSRELU_OK ||
        (st = tsrelu_student_weights(tsrelu_gd_student(gd), W, M * D)) != TSRELU_OK)
        return fail("result", st);
    printf("iteration %llu loss %.17g\n", (unsigned long long)tsrelu_gd_iteration(gd), L);
    for (size_t i = 0; i < M * D; i++)
        printf("%a%c", W[i], (i + 1) % D ? ' ' : '\n');
    tsrelu_gd_free(gd);
    return 0;
}

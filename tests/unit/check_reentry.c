/* Check suite for re-entrancy and cancellation: what a callback may do to
 * the state that called it (read, save: yes; step, run, set, free: refused
 * or deferred), views that are never freeable, and tsrelu_gd_interrupt() /
 * tsrelu_batch_interrupt() from an observer, another thread and a real
 * SIGINT. Run under ASan, valgrind and TSan by CI. */
#define _DEFAULT_SOURCE
#include "suites.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tsrelu.h"

#define M 4
#define K 2
#define D 5

static tsrelu_gd *make(double eta)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 21, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-2, 22, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, eta, &gd), TSRELU_OK);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    return gd;
}

static int nop_step(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga, void *ud)
{
    (void)gd, (void)W, (void)gW, (void)a, (void)ga, (void)ud;
    return 0;
}

static int nop_obs(const tsrelu_gd *gd, void *ud)
{
    (void)gd, (void)ud;
    return 0;
}

/* Every mutating call on the calling state; each must be EBUSY. */
static int try_mutations(tsrelu_gd *g)
{
    double st[1];
    int busy = 0;
    busy += tsrelu_gd_step(g) == TSRELU_EBUSY;
    busy += tsrelu_gd_run(g, 5) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_eta(g, 0.5) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_train_output(g, 1) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_tolerances(g, 1.0, 1.0) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_observer(g, nop_obs, NULL, TSRELU_SCHEDULE_LINEAR, 1) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_step(g, nop_step, NULL) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_step_state(g, st, 1) == TSRELU_EBUSY;
    busy += tsrelu_gd_set_phase_thresholds(g, 0.1, 0.1) == TSRELU_EBUSY;
    return busy;
}
#define N_MUTATIONS 9

typedef struct {
    int calls, busy;
    uint64_t iter[8];
    double loss[8];
    const char *save_to;
    int save_status;
} probe;

static int mutating_observer(const tsrelu_gd *gd, void *ud)
{
    probe *p = ud;
    tsrelu_gd *g = (tsrelu_gd *)gd; /* what a careless user does */
    p->busy += try_mutations(g);
    if (p->calls < 8) {
        p->iter[p->calls] = tsrelu_gd_iteration(gd);
        ck_assert_int_eq(tsrelu_gd_loss(gd, &p->loss[p->calls]), TSRELU_OK);
    }
    if (p->save_to)
        p->save_status = tsrelu_gd_save(gd, p->save_to);
    p->calls++;
    return 0;
}

START_TEST(callbacks_cannot_mutate_their_state)
{
    tsrelu_gd *gd = make(0.05);
    probe p = {0};
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, mutating_observer, &p, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 30), TSRELU_OK);
    ck_assert_int_eq(p.calls, 4); /* 0, 10, 20, 30 */
    ck_assert_int_eq(p.busy, 4 * N_MUTATIONS);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 30); /* the run ended where asked */
    ck_assert_double_eq(tsrelu_gd_eta(gd), 0.05);
    ck_assert_int_eq(tsrelu_gd_train_output(gd), 0);
    /* the observer saw committed iterates: its losses are those of a twin */
    tsrelu_gd *twin = make(0.05);
    for (int c = 0; c < 4; c++) {
        double L;
        ck_assert_int_eq(tsrelu_gd_run(twin, p.iter[c] - tsrelu_gd_iteration(twin)), TSRELU_OK);
        ck_assert_int_eq(tsrelu_loss(tsrelu_gd_student(twin), tsrelu_gd_teacher(twin), &L), TSRELU_OK);
        ck_assert_double_eq(L, p.loss[c]);
    }
    /* outside a run every mutation works again */
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 0.5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    tsrelu_gd_free(twin);
    tsrelu_gd_free(gd);
}
END_TEST

typedef struct {
    int busy, calls;
} step_probe;

static int mutating_step(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                         const double *ga, void *ud)
{
    step_probe *p = ud;
    p->busy += try_mutations((tsrelu_gd *)gd);
    p->calls++;
    return nop_step(gd, W, gW, a, ga, NULL);
}

START_TEST(step_rules_cannot_mutate_their_state)
{
    tsrelu_gd *gd = make(0.05);
    step_probe p = {0, 0};
    ck_assert_int_eq(tsrelu_gd_set_step(gd, mutating_step, &p), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 3), TSRELU_OK);
    ck_assert_int_eq(p.calls, 4);
    ck_assert_int_eq(p.busy, 4 * N_MUTATIONS);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 4);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(observer_saves_the_committed_iterate)
{
    char dir[] = "/tmp/tsrelu_reentry_XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/obs.ckpt", dir);
    tsrelu_gd *gd = make(0.05), *g2;
    probe p = {0};
    p.save_to = path;
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, mutating_observer, &p, TSRELU_SCHEDULE_LINEAR, 7), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_OK); /* observed at 0, 7, 10 */
    ck_assert_int_eq(p.save_status, TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_load(path, &g2), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(g2), 10);
    double W1[M * D], W2[M * D];
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W1, M * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(g2), W2, M * D), TSRELU_OK);
    ck_assert_mem_eq(W1, W2, sizeof W1);
    tsrelu_gd_free(g2);
    tsrelu_gd_free(gd);
    unlink(path);
    rmdir(dir);
}
END_TEST

static int freeing_observer(const tsrelu_gd *gd, void *ud)
{
    int *calls = ud;
    if (++*calls == 2) {
        tsrelu_gd_free((tsrelu_gd *)gd);
        tsrelu_gd_free((tsrelu_gd *)gd); /* twice: still deferred once */
        return 0;                        /* even returning 0, the run ends */
    }
    return 0;
}

static int freeing_step(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                        const double *ga, void *ud)
{
    (void)W, (void)gW, (void)a, (void)ga, (void)ud;
    tsrelu_gd_free((tsrelu_gd *)gd);
    return 0;
}

/* Under ASan/valgrind a use after free here is an error. */
START_TEST(free_from_a_callback_is_deferred)
{
    int calls = 0;
    tsrelu_gd *gd = make(0.05);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, freeing_observer, &calls, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_STOPPED);
    ck_assert_int_eq(calls, 2);
    gd = make(0.05);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, freeing_step, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_STOPPED);
    gd = make(0.05);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, freeing_step, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_STOPPED);
}
END_TEST

START_TEST(views_are_never_freed)
{
    tsrelu_gd *gd = make(0.05);
    double L0, L1;
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L0), TSRELU_OK);
    tsrelu_teacher_free((tsrelu_teacher *)tsrelu_gd_teacher(gd));
    tsrelu_student_free((tsrelu_student *)tsrelu_gd_student(gd));
    ck_assert_int_eq(tsrelu_loss(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &L1), TSRELU_OK);
    ck_assert_double_eq(L0, L1);
    ck_assert_int_eq(tsrelu_gd_run(gd, 5), TSRELU_OK);
    tsrelu_gd_free(gd);
    /* a batch's states belong to the batch */
    tsrelu_batch *b;
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 1, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-2, 2, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.05, 20, NULL), TSRELU_OK);
    tsrelu_gd_free(tsrelu_batch_state(b, 0));
    tsrelu_teacher_free((tsrelu_teacher *)tsrelu_gd_teacher(tsrelu_batch_state(b, 0)));
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(tsrelu_batch_state(b, 0)), 20);
    tsrelu_batch_free(b);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

/* ------------------------------------------------------------ batches */

typedef struct {
    tsrelu_batch *b;
    int other_busy;
    int interrupt_at_call;
    int calls;
} batch_probe;

static int batch_observer(const tsrelu_gd *gd, void *ud)
{
    batch_probe *p = ud;
    tsrelu_gd *other = tsrelu_batch_state(p->b, 1);
    p->other_busy += tsrelu_gd_step(other) == TSRELU_EBUSY;
    p->other_busy += tsrelu_gd_set_eta(other, 1.0) == TSRELU_EBUSY;
    p->other_busy += tsrelu_gd_step((tsrelu_gd *)gd) == TSRELU_EBUSY;
    if (++p->calls == p->interrupt_at_call)
        ck_assert_int_eq(tsrelu_batch_interrupt(p->b), TSRELU_OK);
    return 0;
}

static tsrelu_batch *two_runs(batch_probe *p, uint64_t steps)
{
    tsrelu_batch *b;
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_set_threads(b, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 1, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-2, 2, &s), TSRELU_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.05, steps, NULL), TSRELU_OK);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    p->b = b;
    ck_assert_int_eq(tsrelu_gd_set_observer(tsrelu_batch_state(b, 0), batch_observer, p,
                                            TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    return b;
}

START_TEST(batch_states_are_busy_while_the_batch_runs)
{
    batch_probe p = {0};
    tsrelu_batch *b = two_runs(&p, 50);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_OK);
    ck_assert_int_gt(p.calls, 0);
    ck_assert_int_eq(p.other_busy, 3 * p.calls);
    double sm[TSRELU_SUMMARY_LEN];
    ck_assert_int_eq(tsrelu_batch_summary(b, 1, sm, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_double_eq(sm[TSRELU_SUMMARY_ITERATION], 50.0); /* not stepped by the observer */
    /* after the run they are free again */
    ck_assert_int_eq(tsrelu_gd_step(tsrelu_batch_state(b, 1)), TSRELU_OK);
    tsrelu_batch_free(b);
}
END_TEST

START_TEST(batch_interrupt_stops_runs_and_skips_the_rest)
{
    batch_probe p = {0};
    p.interrupt_at_call = 3; /* at iteration 20 of run 0 */
    tsrelu_batch *b = two_runs(&p, 1000);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_INTERRUPTED);
    double s0[TSRELU_SUMMARY_LEN], s1[TSRELU_SUMMARY_LEN];
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, s0, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_summary(b, 1, s1, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_double_eq(s0[TSRELU_SUMMARY_STATUS], TSRELU_INTERRUPTED);
    ck_assert_double_eq(s0[TSRELU_SUMMARY_ITERATION], 20.0);
    ck_assert_double_eq(s1[TSRELU_SUMMARY_STATUS], TSRELU_INTERRUPTED);
    ck_assert_double_eq(s1[TSRELU_SUMMARY_ITERATION], 0.0);
    ck_assert_int_eq(tsrelu_batch_interrupt(NULL), TSRELU_EINVAL);
    tsrelu_batch_free(b);
}
END_TEST

/* ------------------------------------------------------------ interrupts */

static int self_interrupt(const tsrelu_gd *gd, void *ud)
{
    (void)ud;
    if (tsrelu_gd_iteration(gd) == 30)
        ck_assert_int_eq(tsrelu_gd_interrupt((tsrelu_gd *)gd), TSRELU_OK);
    return 0;
}

START_TEST(interrupt_stops_at_the_last_completed_step)
{
    tsrelu_gd *gd = make(0.05);
    /* a request made while no run is in progress does not reach later runs */
    ck_assert_int_eq(tsrelu_gd_interrupt(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 10);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, self_interrupt, NULL, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 1000), TSRELU_INTERRUPTED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 30);
    /* the state is valid: it runs on exactly like a twin that never stopped */
    ck_assert_int_eq(tsrelu_gd_run(gd, 20), TSRELU_OK);
    tsrelu_gd *twin = make(0.05);
    ck_assert_int_eq(tsrelu_gd_run(twin, 50), TSRELU_OK);
    double W1[M * D], W2[M * D];
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W1, M * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(twin), W2, M * D), TSRELU_OK);
    ck_assert_mem_eq(W1, W2, sizeof W1);
    ck_assert_int_eq(tsrelu_gd_interrupt(NULL), TSRELU_EINVAL);
    tsrelu_gd_free(twin);
    tsrelu_gd_free(gd);
}
END_TEST

typedef struct {
    tsrelu_gd *gd;
    tsrelu_status st;
    volatile int done;
} runner;

static void *run_long(void *arg)
{
    runner *r = arg;
    r->st = tsrelu_gd_run(r->gd, (uint64_t)1 << 40);
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

START_TEST(interrupt_from_another_thread)
{
    runner r = {make(0.05), TSRELU_OK, 0};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, run_long, &r), 0);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    /* repeat until the run has returned: a request before it starts is lost */
    ts.tv_nsec = 1000 * 1000;
    for (int i = 0; i < 100000 && !__atomic_load_n(&r.done, __ATOMIC_ACQUIRE); i++) {
        ck_assert_int_eq(tsrelu_gd_interrupt(r.gd), TSRELU_OK);
        nanosleep(&ts, NULL);
    }
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(r.st, TSRELU_INTERRUPTED);
    uint64_t it = tsrelu_gd_iteration(r.gd);
    ck_assert_uint_gt(it, 0);
    ck_assert_uint_lt(it, (uint64_t)1 << 40);
    ck_assert_int_eq(tsrelu_gd_run(r.gd, 3), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(r.gd), it + 3);
    tsrelu_gd_free(r.gd);
}
END_TEST

static tsrelu_gd *volatile sig_gd;

static void on_sigint(int sig)
{
    (void)sig;
    (void)tsrelu_gd_interrupt(sig_gd);
}

static int ready_observer(const tsrelu_gd *gd, void *ud)
{
    int fd = *(int *)ud;
    if (tsrelu_gd_iteration(gd) == 0 && write(fd, "r", 1) != 1)
        return 1;
    return 0;
}

/* A child runs 2^40 steps with a SIGINT handler that calls
 * tsrelu_gd_interrupt(); the parent sends a real SIGINT. */
START_TEST(sigint_interrupts_a_child_run)
{
    int fds[2], res[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(pipe(res), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        close(res[0]);
        sig_gd = make(0.05);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGINT, &sa, NULL) != 0)
            _exit(3);
        if (tsrelu_gd_set_observer(sig_gd, ready_observer, &fds[1], TSRELU_SCHEDULE_LOG, 1) != TSRELU_OK)
            _exit(4);
        tsrelu_status st = tsrelu_gd_run(sig_gd, (uint64_t)1 << 40);
        uint64_t out[2] = {(uint64_t)(int64_t)st, tsrelu_gd_iteration(sig_gd)};
        if (write(res[1], out, sizeof out) != (ssize_t)sizeof out)
            _exit(5);
        _exit(0);
    }
    close(fds[1]);
    close(res[1]);
    char c;
    ck_assert_int_eq(read(fds[0], &c, 1), 1); /* the run has started */
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    uint64_t out[2] = {0, 0};
    ck_assert_int_eq(read(res[0], out, sizeof out), (ssize_t)sizeof out);
    int wst;
    ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
    ck_assert(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    ck_assert_int_eq((int)(int64_t)out[0], TSRELU_INTERRUPTED);
    ck_assert_uint_gt(out[1], 0);
    close(fds[0]);
    close(res[0]);
}
END_TEST

static int stop_at_seven(const tsrelu_gd *gd, void *ud)
{
    (void)ud;
    return tsrelu_gd_iteration(gd) == 7 ? 7 : 0;
}

static int refuse_step(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga, void *ud)
{
    (void)gd, (void)W, (void)gW, (void)a, (void)ga, (void)ud;
    return 3;
}

START_TEST(stop_reason_names_the_cause)
{
    tsrelu_gd *gd = make(0.05);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_NONE);
    ck_assert_int_eq(tsrelu_gd_stop_reason(NULL), TSRELU_STOP_NONE);
    ck_assert_int_eq(tsrelu_gd_run(gd, 5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_STEPS);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, INFINITY), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 5), TSRELU_CONVERGED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_GRAD_TOL);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, INFINITY, INFINITY), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 5), TSRELU_CONVERGED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_LOSS_TOL); /* the loss is tested first */
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_STEPS);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, stop_at_seven, NULL, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_OBSERVER);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 7);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, self_interrupt, NULL, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_INTERRUPTED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_INTERRUPT);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, NULL, NULL, 0, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, refuse_step, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_STEP_RULE);
    ck_assert_int_eq(tsrelu_gd_set_step(gd, NULL, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 1e300), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_EDIVERGED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_ERROR);
    /* a refused call leaves the reason alone */
    ck_assert_int_eq(tsrelu_gd_run(NULL, 1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_ERROR);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(progress_counts_steps)
{
    tsrelu_gd *gd = make(0.05);
    ck_assert_uint_eq(tsrelu_gd_progress(gd), 0);
    ck_assert_int_eq(tsrelu_gd_run(gd, 25), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_progress(gd), 25);
    ck_assert_uint_eq(tsrelu_gd_progress(NULL), 0);
    tsrelu_gd_free(gd);
    batch_probe p = {0};
    tsrelu_batch *b = two_runs(&p, 40);
    uint64_t done = 1, total = 0;
    ck_assert_int_eq(tsrelu_batch_progress(b, &done, &total), TSRELU_OK);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(total, 80);
    /* a run that converges at once counts as done */
    ck_assert_int_eq(tsrelu_gd_set_tolerances(tsrelu_batch_state(b, 1), INFINITY, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_progress(b, &done, &total), TSRELU_OK);
    ck_assert_uint_eq(done, 80);
    ck_assert_uint_eq(tsrelu_gd_progress(tsrelu_batch_state(b, 1)), 0);
    ck_assert_int_eq(tsrelu_batch_progress(NULL, &done, &total), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_progress(b, NULL, &total), TSRELU_EINVAL);
    tsrelu_batch_free(b);
}
END_TEST

Suite *reentry_suite(void)
{
    Suite *s = suite_create("reentry");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 30);
    tcase_add_test(core, callbacks_cannot_mutate_their_state);
    tcase_add_test(core, step_rules_cannot_mutate_their_state);
    tcase_add_test(core, observer_saves_the_committed_iterate);
    tcase_add_test(core, free_from_a_callback_is_deferred);
    tcase_add_test(core, views_are_never_freed);
    tcase_add_test(core, batch_states_are_busy_while_the_batch_runs);
    tcase_add_test(core, batch_interrupt_stops_runs_and_skips_the_rest);
    tcase_add_test(core, interrupt_stops_at_the_last_completed_step);
    tcase_add_test(core, interrupt_from_another_thread);
    tcase_add_test(core, sigint_interrupts_a_child_run);
    tcase_add_test(core, stop_reason_names_the_cause);
    tcase_add_test(core, progress_counts_steps);
    suite_add_tcase(s, core);
    return s;
}

/* Thread-safety test of libtsrelu (plain C + pthreads, public API only).
 *
 *  1. Independent GD states run concurrently on several threads (created
 *     concurrently from the same shared teacher and student handles) give
 *     trajectories bit-identical (memcmp) to the same runs done serially.
 *  2. The const functions (tsrelu_loss, tsrelu_loss_accurate,
 *     tsrelu_gradient, the metrics, tsrelu_gd_loss and
 *     tsrelu_gd_gradient_norm on a shared GD state and its views) called
 *     concurrently on shared handles give the serial results, bit for bit.
 *  3. tsrelu_last_error() is thread-local: a new thread starts with "", a
 *     thread's failures never show in another thread's message.
 *  4. A batch run on several threads matches lone runs bit for bit.
 *
 * Built and run under ThreadSanitizer by scripts/tsan.sh (with the library
 * sources compiled in); it also links against lib/libtsrelu.so or .a:
 *   cc -std=c11 -Iinclude tests/integration/thread_test.c -Llib -ltsrelu -lpthread -lm
 * Prints "thread_test: N passed, 0 failed" and exits 0 on success. */
#define _POSIX_C_SOURCE 200809L
#include "tsrelu.h"

#include <math.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCONF 4      /* independent GD configurations */
#define NTHREADS 4   /* concurrent threads */
#define STEPS 600    /* GD steps per run */
#define EVERY 50     /* observer period */
#define NOBS (STEPS / EVERY + 1)
#define REPEAT 40    /* rounds of const calls per thread */
#define D 8
#define MMAX 10
#define KMAX 3

static int passed, failed;

static void check(int ok, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "thread_test: FAILED: %s\n", what);
    }
}

/* ------------------------------------------------------------ problems */

typedef struct {
    size_t m, k;
    double eta;
    int train;
    tsrelu_teacher *t;
    tsrelu_student *s;
} config;

static config conf[NCONF];

/* What a run produces: the final iterate and the observed losses. */
typedef struct {
    double W[MMAX * D], a[MMAX];
    double obs_loss[NOBS];
    uint64_t obs_it[NOBS];
    int nobs;
    tsrelu_status st;
    uint64_t iter;
    int64_t t1, t2;
} run_result;

static int observer(const tsrelu_gd *gd, void *ud)
{
    run_result *r = ud;
    double L;
    if (r->nobs >= NOBS || tsrelu_gd_loss(gd, &L) != TSRELU_OK)
        return 1;
    r->obs_loss[r->nobs] = L;
    r->obs_it[r->nobs] = tsrelu_gd_iteration(gd);
    r->nobs++;
    return 0;
}

/* A momentum step rule with its state in user data, to exercise callbacks
 * running on several threads at once. */
typedef struct {
    double v[MMAX * D];
} momentum;

static int heavy_ball(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                      const double *ga, void *ud)
{
    momentum *mo = ud;
    const tsrelu_student *s = tsrelu_gd_student(gd);
    size_t md = tsrelu_student_width(s) * tsrelu_student_dim(s);
    double eta = tsrelu_gd_eta(gd);
    for (size_t i = 0; i < md; i++) {
        mo->v[i] = 0.5 * mo->v[i] - eta * gW[i];
        W[i] += mo->v[i];
    }
    if (a)
        for (size_t i = 0; i < tsrelu_student_width(s); i++)
            a[i] -= eta * ga[i];
    return 0;
}

static void run_config(int c, run_result *r)
{
    config *cf = &conf[c];
    tsrelu_gd *gd = NULL;
    momentum mo;
    memset(r, 0, sizeof *r);
    memset(&mo, 0, sizeof mo);
    r->st = tsrelu_gd_create(cf->t, cf->s, cf->eta, &gd);
    if (r->st != TSRELU_OK)
        return;
    if (tsrelu_gd_set_observer(gd, observer, r, TSRELU_SCHEDULE_LINEAR, EVERY) != TSRELU_OK ||
        tsrelu_gd_set_train_output(gd, cf->train) != TSRELU_OK ||
        (c % 2 == 1 && tsrelu_gd_set_step(gd, heavy_ball, &mo) != TSRELU_OK))
        r->st = TSRELU_EINVAL;
    else
        r->st = tsrelu_gd_run(gd, STEPS);
    const tsrelu_student *v = tsrelu_gd_student(gd);
    if (tsrelu_student_weights(v, r->W, cf->m * D) != TSRELU_OK ||
        tsrelu_student_output_weights(v, r->a, cf->m) != TSRELU_OK ||
        tsrelu_gd_phase_times(gd, &r->t1, &r->t2) != TSRELU_OK)
        r->st = TSRELU_EINVAL;
    r->iter = tsrelu_gd_iteration(gd);
    tsrelu_gd_free(gd);
}

static int same_run(const run_result *x, const run_result *y)
{
    return x->st == y->st && x->iter == y->iter && x->nobs == y->nobs && x->t1 == y->t1 &&
           x->t2 == y->t2 && memcmp(x->W, y->W, sizeof x->W) == 0 &&
           memcmp(x->a, y->a, sizeof x->a) == 0 &&
           memcmp(x->obs_loss, y->obs_loss, sizeof x->obs_loss) == 0 &&
           memcmp(x->obs_it, y->obs_it, sizeof x->obs_it) == 0;
}

/* ------------------------------------------------------- const functions */

/* Everything the const functions return on one (student, teacher) pair. */
typedef struct {
    double L, La, gW[MMAX * D], ga[MMAX], theta[MMAX * KMAX], rad[MMAX], tan_[MMAX];
    double H[KMAX], rmin[KMAX], rmax[KMAX], ex[KMAX], gdL, gdG;
    int tau[MMAX], size[KMAX];
    tsrelu_status st[10];
} const_result;

static tsrelu_gd *shared_gd; /* evaluated at creation; only const calls on it */

static void const_calls(const tsrelu_student *s, const tsrelu_teacher *t, const_result *r)
{
    size_t m = tsrelu_student_width(s), k = tsrelu_teacher_width(t), d = tsrelu_student_dim(s);
    memset(r, 0, sizeof *r);
    r->st[0] = tsrelu_loss(s, t, &r->L);
    r->st[1] = tsrelu_loss_accurate(s, t, &r->La);
    r->st[2] = tsrelu_gradient(s, t, r->gW, m * d, r->ga, m);
    r->st[3] = tsrelu_angles(s, t, r->theta, m * k);
    r->st[4] = tsrelu_nearest_teacher(s, t, r->tau, m);
    r->st[5] = tsrelu_components(s, t, NULL, 0, r->rad, r->tan_, m);
    r->st[6] = tsrelu_deficit(s, t, r->tau, m, r->H, k);
    r->st[7] = tsrelu_balance(s, t, NULL, 0, r->size, r->rmin, r->rmax, r->ex, k);
    r->st[8] = tsrelu_gd_loss(shared_gd, &r->gdL);
    r->st[9] = tsrelu_gd_gradient_norm(shared_gd, &r->gdG);
}

static int same_const(const const_result *x, const const_result *y)
{
    return memcmp(x, y, sizeof *x) == 0; /* memset first: padding is zero */
}

/* ------------------------------------------------------------ threads */

static pthread_barrier_t barrier;
static run_result serial_run[NCONF];
static const_result serial_const[3];

typedef struct {
    int id;
    int ok_runs, ok_const, ok_error, first_empty;
    char own_msg[512];
} worker_arg;

static const tsrelu_student *pair_student(int p)
{
    return p == 0 ? conf[0].s : p == 1 ? conf[1].s : tsrelu_gd_student(shared_gd);
}

static const tsrelu_teacher *pair_teacher(int p)
{
    return p == 0 ? conf[0].t : p == 1 ? conf[1].t : tsrelu_gd_teacher(shared_gd);
}

static void *worker(void *p)
{
    worker_arg *w = p;
    double buf[1];
    w->first_empty = tsrelu_last_error()[0] == '\0';
    /* a failure of our own, with our id in the message */
    size_t len = 1000 + (size_t)w->id;
    tsrelu_status est = tsrelu_teacher_weights(conf[0].t, buf, len);
    snprintf(w->own_msg, sizeof w->own_msg, "%s", tsrelu_last_error());
    char want[64];
    snprintf(want, sizeof want, "length %zu given", len);
    w->ok_error = est == TSRELU_ELENGTH && strstr(w->own_msg, want) != NULL;
    pthread_barrier_wait(&barrier);

    /* GD runs: thread id runs configs id, id+1, ... (mod NCONF) */
    w->ok_runs = 1;
    for (int j = 0; j < NCONF; j++) {
        int c = (w->id + j) % NCONF;
        run_result r;
        run_config(c, &r);
        if (!same_run(&r, &serial_run[c]))
            w->ok_runs = 0;
    }
    pthread_barrier_wait(&barrier);

    /* const calls on shared handles, all threads at once */
    w->ok_const = 1;
    for (int rep = 0; rep < REPEAT; rep++) {
        int pr = (w->id + rep) % 3;
        const_result r;
        const_calls(pair_student(pr), pair_teacher(pr), &r);
        if (!same_const(&r, &serial_const[pr]))
            w->ok_const = 0;
        /* other threads fail too, with their own ids, meanwhile */
        if (rep % 5 == 0 && tsrelu_student_weights(conf[1].s, buf, 5000 + (size_t)rep) == TSRELU_OK)
            w->ok_const = 0;
    }
    /* the last message is the latest failure of this thread only */
    snprintf(want, sizeof want, "length %d given", 5000 + (REPEAT - 1) / 5 * 5);
    if (!strstr(tsrelu_last_error(), want) || !strstr(tsrelu_last_error(), "tsrelu_student_weights"))
        w->ok_error = 0;
    pthread_barrier_wait(&barrier);
    return NULL;
}

/* ------------------------------------------------------------ batch */

static void batch_check(void)
{
    enum { NRUN = 6 };
    tsrelu_batch *b = NULL;
    check(tsrelu_batch_create(&b) == TSRELU_OK, "batch_create");
    if (!b)
        return;
    for (int i = 0; i < NRUN; i++) {
        config *cf = &conf[i % NCONF];
        size_t idx;
        check(tsrelu_batch_add(b, cf->t, cf->s, cf->eta * (1.0 + 0.1 * i), 300 + 50 * (uint64_t)i,
                               &idx) == TSRELU_OK && idx == (size_t)i, "batch_add");
    }
    check(tsrelu_batch_set_threads(b, 3) == TSRELU_OK, "batch_set_threads");
    /* a recorder on every run, filled on the worker threads */
    tsrelu_record *rec[NRUN] = {NULL};
    for (int i = 0; i < NRUN; i++)
        check(tsrelu_record_create(tsrelu_batch_state(b, (size_t)i), 64,
                                   i % 2 ? TSRELU_RECORD_ACCURATE_LOSS : 0u, &rec[i]) == TSRELU_OK &&
                  tsrelu_gd_set_recorder(tsrelu_batch_state(b, (size_t)i), rec[i], TSRELU_SCHEDULE_LINEAR,
                                         25) == TSRELU_OK,
              "recorder on a batch state");
    check(tsrelu_batch_run(b) == TSRELU_OK, "batch_run");
    for (int i = 0; i < NRUN; i++)
        check(tsrelu_record_size(rec[i]) >= (300 + 50 * (size_t)i) / 25 + 1 && tsrelu_record_missed(rec[i]) == 0,
              "recorder filled on a worker thread");
    for (int i = 0; i < NRUN; i++) {
        config *cf = &conf[i % NCONF];
        tsrelu_gd *gd = NULL;
        double Wl[MMAX * D], Wb[MMAX * D], sum[TSRELU_SUMMARY_LEN];
        memset(Wl, 0, sizeof Wl);
        memset(Wb, 0, sizeof Wb);
        int ok = tsrelu_gd_create(cf->t, cf->s, cf->eta * (1.0 + 0.1 * i), &gd) == TSRELU_OK &&
                 tsrelu_gd_run(gd, 300 + 50 * (uint64_t)i) == TSRELU_OK &&
                 tsrelu_student_weights(tsrelu_gd_student(gd), Wl, cf->m * D) == TSRELU_OK &&
                 tsrelu_student_weights(tsrelu_gd_student(tsrelu_batch_state(b, (size_t)i)), Wb,
                                        cf->m * D) == TSRELU_OK &&
                 tsrelu_batch_summary(b, (size_t)i, sum, TSRELU_SUMMARY_LEN) == TSRELU_OK &&
                 memcmp(Wl, Wb, sizeof Wl) == 0 &&
                 sum[TSRELU_SUMMARY_ITERATION] == (double)tsrelu_gd_iteration(gd);
        check(ok, "batch run bit-identical to a lone run");
        tsrelu_gd_free(gd);
    }
    tsrelu_batch_free(b); /* detaches the recorders, which stay readable */
    for (int i = 0; i < NRUN; i++) {
        check(tsrelu_record_size(rec[i]) > 0, "recorder readable after its batch is freed");
        tsrelu_record_free(rec[i]);
    }
}

/* Interrupts from another thread: a long run and a batch, each stopped by
 * requests repeated until it has returned; a state stepped from another
 * thread while its batch runs is refused, never raced. */
typedef struct {
    tsrelu_gd *gd;
    tsrelu_batch *b;
    tsrelu_status st;
    atomic_int done;
} long_run;

static void *run_long(void *p)
{
    long_run *r = p;
    r->st = r->b ? tsrelu_batch_run(r->b) : tsrelu_gd_run(r->gd, (uint64_t)1 << 40);
    atomic_store(&r->done, 1);
    return NULL;
}

static atomic_int batch_started;

static int mark_started(const tsrelu_gd *gd, void *ud)
{
    (void)gd, (void)ud;
    atomic_store(&batch_started, 1);
    return 0;
}

static void interrupt_check(void)
{
    long_run r;
    memset(&r, 0, sizeof r);
    check(tsrelu_gd_create(conf[0].t, conf[0].s, 0.05, &r.gd) == TSRELU_OK, "create for interrupt");
    pthread_t th;
    check(pthread_create(&th, NULL, run_long, &r) == 0, "pthread_create (interrupt)");
    struct timespec ts = {0, 2000000};
    uint64_t seen = 0;
    while (!atomic_load(&r.done)) {
        nanosleep(&ts, NULL);
        uint64_t now_at = tsrelu_gd_progress(r.gd); /* safe while it runs */
        if (now_at >= seen)
            seen = now_at;
        else
            seen = UINT64_MAX;
        (void)tsrelu_gd_interrupt(r.gd);
    }
    pthread_join(th, NULL);
    check(r.st == TSRELU_INTERRUPTED && tsrelu_gd_iteration(r.gd) > 0, "interrupt from another thread");
    check(seen != UINT64_MAX && tsrelu_gd_progress(r.gd) == tsrelu_gd_iteration(r.gd),
          "tsrelu_gd_progress from another thread: monotone, the iteration once the run returned");
    check(tsrelu_gd_run(r.gd, 2) == TSRELU_OK, "the interrupted state runs on");
    tsrelu_gd_free(r.gd);

    memset(&r, 0, sizeof r);
    check(tsrelu_batch_create(&r.b) == TSRELU_OK, "batch for interrupt");
    check(tsrelu_batch_set_threads(r.b, 2) == TSRELU_OK, "batch threads");
    for (int i = 0; i < 4; i++)
        check(tsrelu_batch_add(r.b, conf[0].t, conf[0].s, 0.05, (uint64_t)1 << 40, NULL) == TSRELU_OK,
              "batch add");
    check(tsrelu_gd_set_observer(tsrelu_batch_state(r.b, 0), mark_started, NULL, TSRELU_SCHEDULE_LINEAR,
                                 1000) == TSRELU_OK, "batch observer");
    check(pthread_create(&th, NULL, run_long, &r) == 0, "pthread_create (batch interrupt)");
    while (!atomic_load(&batch_started)) /* every state is held once a run has begun */
        nanosleep(&ts, NULL);
    int busy = 0, tries = 0, monotone = 1;
    uint64_t last = 0, done = 0, total = 0;
    while (!atomic_load(&r.done)) {
        nanosleep(&ts, NULL);
        /* progress may be read from this thread while the batch runs */
        if (tsrelu_batch_progress(r.b, &done, &total) != TSRELU_OK || done < last || done > total)
            monotone = 0;
        last = done;
        busy += tsrelu_gd_step(tsrelu_batch_state(r.b, 3)) == TSRELU_EBUSY;
        tries++;
        if (tries > 10)
            (void)tsrelu_batch_interrupt(r.b);
    }
    pthread_join(th, NULL);
    check(r.st == TSRELU_INTERRUPTED, "batch interrupt from another thread");
    check(busy >= 10, "a batch's state is busy while the batch runs");
    check(monotone && last > 0 && total == 4 * ((uint64_t)1 << 40),
          "tsrelu_batch_progress from another thread: monotone, within the total");
    tsrelu_batch_free(r.b);
}

int main(void)
{
    static const size_t ms[NCONF] = {6, 8, 10, 7}, ks[NCONF] = {2, 3, 2, 3};
    for (int c = 0; c < NCONF; c++) {
        conf[c].m = ms[c];
        conf[c].k = ks[c];
        conf[c].eta = 0.05 + 0.02 * c;
        conf[c].train = c >= 2;
        check(tsrelu_teacher_create_orthogonal(ks[c], D, 1.0, 100 + (uint64_t)c, &conf[c].t) ==
                  TSRELU_OK, "teacher");
        check(tsrelu_student_create_gaussian(ms[c], D, 0.1, 200 + (uint64_t)c, &conf[c].s) ==
                  TSRELU_OK, "student");
        if (!conf[c].t || !conf[c].s)
            return 1;
    }
    check(tsrelu_gd_create(conf[2].t, conf[2].s, 0.1, &shared_gd) == TSRELU_OK, "shared gd");
    if (!shared_gd)
        return 1;

    /* the main thread's own message, which no worker may change */
    double buf[1];
    check(tsrelu_student_weights(conf[0].s, buf, 777) == TSRELU_ELENGTH, "main error");
    char main_msg[512];
    snprintf(main_msg, sizeof main_msg, "%s", tsrelu_last_error());

    /* serial reference */
    for (int c = 0; c < NCONF; c++) {
        run_config(c, &serial_run[c]);
        check(serial_run[c].st == TSRELU_OK && serial_run[c].iter == STEPS &&
                  serial_run[c].nobs == NOBS, "serial run");
    }
    for (int p = 0; p < 3; p++)
        const_calls(pair_student(p), pair_teacher(p), &serial_const[p]);
    for (int i = 0; i < 10; i++)
        check(serial_const[0].st[i] == TSRELU_OK && serial_const[2].st[i] == TSRELU_OK,
              "serial const calls");

    /* concurrent */
    pthread_t th[NTHREADS];
    worker_arg w[NTHREADS];
    pthread_barrier_init(&barrier, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        check(pthread_create(&th[i], NULL, worker, &w[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < NTHREADS; i++) {
        check(w[i].first_empty, "a new thread starts with an empty last_error");
        check(w[i].ok_error, "a thread's last_error is its own");
        check(w[i].ok_runs, "concurrent GD runs bit-identical to serial runs");
        check(w[i].ok_const, "concurrent const calls bit-identical to serial calls");
    }
    check(strcmp(tsrelu_last_error(), main_msg) == 0, "the main thread's last_error is unchanged");

    batch_check();
    interrupt_check();

    tsrelu_gd_free(shared_gd);
    for (int c = 0; c < NCONF; c++) {
        tsrelu_teacher_free(conf[c].t);
        tsrelu_student_free(conf[c].s);
    }
    printf("thread_test: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* Batches of independent GD runs on a pool of POSIX threads. Each run is a
 * GD state of its own, run start to end by one worker; workers take the next
 * run from an atomic counter, so which thread runs what never changes a
 * result. The summary samples the last decade of each run with the
 * quadruple-precision loss for the rate fit. */
#define _POSIX_C_SOURCE 200809L
#include "gd.h"
#include "status.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES_PER_DECADE 10
#define MAX_SAMPLES 64

typedef struct {
    tsrelu_gd *gd;
    uint64_t steps;
    double summary[TSRELU_SUMMARY_LEN];
    atomic_uint_fast64_t start; /* iteration when the batch started it */
    atomic_int finished;        /* its summary is written */
} batch_run;

struct tsrelu_batch {
    batch_run *runs;
    size_t n, cap;
    unsigned threads;
    int ran;
    atomic_size_t next;
    atomic_int cancel;        /* tsrelu_batch_interrupt() */
};

TSRELU_API tsrelu_status tsrelu_batch_create(tsrelu_batch **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_create: out is NULL");
    *out = calloc(1, sizeof **out);
    if (!*out)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_batch_create: out of memory");
    atomic_init(&(*out)->next, 0);
    atomic_init(&(*out)->cancel, 0);
    return TSRELU_OK;
}

TSRELU_API void tsrelu_batch_free(tsrelu_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        tsrelu__gd_destroy(b->runs[i].gd);
    free(b->runs);
    free(b);
}

TSRELU_API tsrelu_status tsrelu_batch_add(tsrelu_batch *b, const tsrelu_teacher *t,
                                          const tsrelu_student *s0, double eta, uint64_t steps,
                                          size_t *index)
{
    if (!b)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_add: batch is NULL");
    if (b->ran)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_add: the batch has already run");
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        batch_run *r = cap > SIZE_MAX / sizeof *r ? NULL : realloc(b->runs, cap * sizeof *r);
        if (!r)
            return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_batch_add: out of memory");
        b->runs = r;
        b->cap = cap;
    }
    tsrelu_gd *gd;
    tsrelu_status st = tsrelu_gd_create(t, s0, eta, &gd);
    if (st != TSRELU_OK)
        return st;
    tsrelu__gd_set_batch_owned(gd);
    batch_run *r = &b->runs[b->n];
    memset(r, 0, sizeof *r);
    r->gd = gd;
    r->steps = steps;
    atomic_init(&r->start, 0);
    atomic_init(&r->finished, 0);
    if (index)
        *index = b->n;
    b->n++;
    return TSRELU_OK;
}

TSRELU_API size_t tsrelu_batch_size(const tsrelu_batch *b)
{
    return b ? b->n : 0;
}

TSRELU_API tsrelu_gd *tsrelu_batch_state(tsrelu_batch *b, size_t i)
{
    return b && i < b->n ? b->runs[i].gd : NULL;
}

TSRELU_API tsrelu_status tsrelu_batch_set_threads(tsrelu_batch *b, unsigned threads)
{
    if (!b)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_set_threads: batch is NULL");
    b->threads = threads;
    return TSRELU_OK;
}

TSRELU_API size_t tsrelu_summary_len(void)
{
    return TSRELU_SUMMARY_LEN;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Sample points ceil(10^(j/P)) within [end/10, end], and end itself. */
static size_t sample_points(uint64_t start, uint64_t end, uint64_t *pts)
{
    size_t n = 0;
    double lo = (double)end / 10.0;
    for (uint64_t j = 0; n < MAX_SAMPLES - 1; j++) {
        uint64_t x = tsrelu__log_point(j, SAMPLES_PER_DECADE);
        if (x > end || x == UINT64_MAX) /* saturated: end itself is added below */
            break;
        if ((double)x >= lo && x > start && (n == 0 || x > pts[n - 1]))
            pts[n++] = x;
    }
    if (n == 0 || pts[n - 1] != end)
        pts[n++] = end;
    return n;
}

static void balance_range(const tsrelu_gd *gd, double *lo, double *hi)
{
    const tsrelu_teacher *t = tsrelu_gd_teacher(gd);
    size_t k = tsrelu_teacher_width(t);
    *lo = *hi = NAN;
    int *size = malloc(k * sizeof(int));
    double *mem = malloc(3 * k * sizeof(double));
    if (size && mem &&
        tsrelu_balance(tsrelu_gd_student(gd), t, NULL, 0, size, mem, mem + k, mem + 2 * k, k) == TSRELU_OK) {
        for (size_t l = 0; l < k; l++) {
            /* empty groups and undefined ratios (NaN) do not count */
            if (size[l] == 0 || isnan(mem[l]) || isnan(mem[k + l]))
                continue;
            if (isnan(*lo) || mem[l] < *lo)
                *lo = mem[l];
            if (isnan(*hi) || mem[k + l] > *hi)
                *hi = mem[k + l];
        }
    }
    free(size);
    free(mem);
}

static void run_one(batch_run *r, atomic_int *cancel)
{
    double t0 = seconds();
    tsrelu_gd *gd = r->gd;
    const tsrelu_student *s = tsrelu_gd_student(gd);
    const tsrelu_teacher *t = tsrelu_gd_teacher(gd);
    uint64_t start = tsrelu_gd_iteration(gd), end = start + r->steps < start ? UINT64_MAX : start + r->steps;
    uint64_t pts[MAX_SAMPLES];
    double ts[MAX_SAMPLES], Ls[MAX_SAMPLES];
    size_t np = sample_points(start, end, pts), ns = 0;
    tsrelu_status st = atomic_load(cancel) ? TSRELU_INTERRUPTED : TSRELU_OK;
    for (size_t p = 0; p < np && st == TSRELU_OK; p++) {
        st = tsrelu__gd_run_held(gd, pts[p] - tsrelu_gd_iteration(gd), cancel);
        if ((st == TSRELU_OK || st == TSRELU_CONVERGED) && tsrelu_loss_accurate(s, t, &Ls[ns]) == TSRELU_OK)
            ts[ns++] = (double)tsrelu_gd_iteration(gd);
    }
    double *sm = r->summary, slope = NAN, gn = NAN, L = NAN;
    int64_t t1 = -1, t2 = -1;
    if (tsrelu_rate_fit(ts, Ls, ns, 0.0, INFINITY, &slope, NULL) != TSRELU_OK)
        slope = NAN;
    if (tsrelu_gd_gradient_norm(gd, &gn) != TSRELU_OK)
        gn = NAN;
    /* the last sample is the final iterate unless the run failed: its
     * accurate loss is known (at (6, 2, 8) and 3000 steps, the eleven
     * accurate losses of a run took a quarter of its time) */
    if (ns > 0 && ts[ns - 1] == (double)tsrelu_gd_iteration(gd))
        L = Ls[ns - 1];
    else if (tsrelu_loss_accurate(s, t, &L) != TSRELU_OK)
        L = NAN;
    if (tsrelu_gd_phase_times(gd, &t1, &t2) != TSRELU_OK)
        t1 = t2 = -1;
    sm[TSRELU_SUMMARY_STATUS] = (double)st;
    sm[TSRELU_SUMMARY_ITERATION] = (double)tsrelu_gd_iteration(gd);
    sm[TSRELU_SUMMARY_LOSS] = L;
    sm[TSRELU_SUMMARY_GRAD_NORM] = gn;
    sm[TSRELU_SUMMARY_T1] = (double)t1;
    sm[TSRELU_SUMMARY_T2] = (double)t2;
    sm[TSRELU_SUMMARY_PHASE] = (double)tsrelu_gd_phase(gd);
    sm[TSRELU_SUMMARY_SWITCHES] = (double)tsrelu_gd_group_switches(gd);
    sm[TSRELU_SUMMARY_SLOPE] = slope;
    balance_range(gd, &sm[TSRELU_SUMMARY_RATIO_MIN], &sm[TSRELU_SUMMARY_RATIO_MAX]);
    sm[TSRELU_SUMMARY_SECONDS] = seconds() - t0;
    atomic_store(&r->finished, 1);
}

static void *worker(void *arg)
{
    tsrelu_batch *b = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->n)
            return NULL;
        run_one(&b->runs[i], &b->cancel);
    }
}

TSRELU_API tsrelu_status tsrelu_batch_run(tsrelu_batch *b)
{
    if (!b)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_run: batch is NULL");
    if (b->ran)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_run: the batch has already run");
    unsigned nt = b->threads;
    if (nt == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nt = c > 0 ? (unsigned)c : 1;
    }
    if (nt > b->n)
        nt = b->n ? (unsigned)b->n : 1;
    /* hold every state for the whole batch: a step from another thread, or
     * a state's callback stepping another state of the batch, gets EBUSY */
    for (size_t i = 0; i < b->n; i++) {
        tsrelu_status st = tsrelu__gd_hold(b->runs[i].gd, "tsrelu_batch_run");
        if (st != TSRELU_OK) {
            while (i-- > 0)
                tsrelu__gd_release(b->runs[i].gd);
            return tsrelu__context(st, "tsrelu_batch_run: run %zu", i);
        }
    }
    for (size_t i = 0; i < b->n; i++)
        atomic_store(&b->runs[i].start, tsrelu_gd_iteration(b->runs[i].gd));
    b->ran = 1;
    atomic_store(&b->next, 0);
    atomic_store(&b->cancel, 0);
    /* without memory for thread handles, or threads, the calling thread
     * does every run: slower, same results */
    pthread_t *tid = nt > 1 ? malloc((nt - 1) * sizeof *tid) : NULL;
    unsigned started = 0;
    if (!tid)
        nt = 1;
    for (; started + 1 < nt; started++)
        if (pthread_create(&tid[started], NULL, worker, b) != 0)
            break; /* fewer threads: the runs still all get done */
    worker(b);     /* the calling thread works too */
    for (unsigned i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    free(tid);
    for (size_t i = 0; i < b->n; i++)
        tsrelu__gd_release(b->runs[i].gd);
    int interrupted = 0;
    for (size_t i = 0; i < b->n; i++) {
        tsrelu_status st = (tsrelu_status)b->runs[i].summary[TSRELU_SUMMARY_STATUS];
        if (st == TSRELU_INTERRUPTED)
            interrupted = 1;
        else if (st != TSRELU_OK && st != TSRELU_CONVERGED)
            return tsrelu__fail(st, "tsrelu_batch_run: run %zu ended with %s", i, tsrelu_status_name(st));
    }
    return interrupted ? TSRELU_INTERRUPTED : TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_batch_progress(const tsrelu_batch *b, uint64_t *done, uint64_t *total)
{
    if (!b || !done || !total) /* no message: may be called while the batch runs */
        return TSRELU_EINVAL;
    uint64_t d = 0, t = 0;
    for (size_t i = 0; i < b->n; i++) {
        batch_run *r = &b->runs[i];
        uint64_t at = tsrelu_gd_progress(r->gd), s0 = atomic_load(&r->start);
        uint64_t k = atomic_load(&r->finished) ? r->steps : at > s0 ? at - s0 : 0;
        d += k < r->steps ? k : r->steps;
        t += r->steps;
    }
    *done = d;
    *total = t;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_batch_interrupt(tsrelu_batch *b)
{
    if (!b) /* async-signal-safe: no message */
        return TSRELU_EINVAL;
    atomic_store_explicit(&b->cancel, 1, memory_order_relaxed);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_batch_summary(const tsrelu_batch *b, size_t i, double *out, size_t len)
{
    if (!b || !out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_summary: %s is NULL", b ? "out" : "batch");
    if (i >= b->n)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_summary: run %zu of %zu does not exist", i, b->n);
    if (!b->ran)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_batch_summary: the batch has not run yet");
    if (len == 0 || len > TSRELU_SUMMARY_LEN)
        return tsrelu__fail(TSRELU_ELENGTH, "tsrelu_batch_summary: out: length %zu given, 1 to %d allowed",
                            len, TSRELU_SUMMARY_LEN);
    memcpy(out, b->runs[i].summary, len * sizeof(double));
    return TSRELU_OK;
}

/* Gradient descent state: copies of the teacher and student, a workspace
 * allocated once, the update (default or user step rule), observer schedule,
 * stopping tests and divergence roll-back. A step never allocates.
 *
 * Re-entrancy: a run or step holds the state's guard; callbacks may read the
 * state (getters, metrics, save) but every mutating call on it is refused
 * with TSRELU_EBUSY, and tsrelu_gd_free() from a callback is deferred to the
 * end of the run. tsrelu_gd_interrupt() sets a lock-free flag that the run
 * tests before every step. */
#include "gd.h"
#include "model.h"
#include "phases.h"
#include "record.h"
#include "sgd.h"
#include "kernel.h"
#include "status.h"
#include "simd/simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(TSRELU__SGD_WORDS == sizeof ((tsrelu__gd_image *)0)->sgd_words / sizeof(uint64_t),
               "the checkpoint image holds every word of the sampler");

#if ATOMIC_INT_LOCK_FREE != 2
#error "tsrelu_gd_interrupt() needs a lock-free atomic int to be async-signal-safe"
#endif

enum { GUARD_BUSY = 1, GUARD_FREE_PENDING = 2 };

struct tsrelu_gd {
    tsrelu_teacher *teacher;  /* owned copy; a view for callers */
    tsrelu_student view;      /* current iterate; W and a point into the buffers */
    double *W_buf[2], *a_buf[2];
    int cur;                  /* which buffer holds the current iterate */
    double eta;
    int train_a;
    double tol_loss, tol_grad;

    tsrelu_observer_fn obs;
    void *obs_ud;
    tsrelu__schedule sched;   /* the observer's */
    uint64_t last_observed;
    int observed_any;
    int resumed;              /* loaded: the next observer continues the saved record */

    tsrelu_step_fn step_fn;
    void *step_ud;
    double *step_state;       /* caller-owned state of the step rule, saved in checkpoints */
    size_t step_state_len;
    double *loaded_state;     /* step state read from a checkpoint, until claimed */
    size_t loaded_len;

    uint64_t iter;
    int stop_value;
    int stop_reason;          /* TSRELU_STOP_* of the latest run or step */

    tsrelu__ws ws;
    double *gW, *ga;
    double loss;
    int evaluated;            /* gW (and ga when trained) belong to the current iterate */
    int have_loss;            /* ... and so does loss (computed only when needed) */
    tsrelu__phases ph;

    atomic_uint_fast64_t published; /* iter, for tsrelu_gd_progress() from other threads */

    tsrelu_record *rec;       /* attached recorder (record.c), not owned */
    tsrelu__schedule rec_sched;

    atomic_int guard;         /* GUARD_* bits: a run or step is in progress */
    atomic_int interrupt;     /* tsrelu_gd_interrupt() asked the run to stop */
    atomic_int *cancel;       /* the same flag of the batch running this state */
    int batch_owned;          /* tsrelu_gd_free() does nothing: the batch frees it */
    tsrelu__sgd *sgd;         /* sampled training (sgd.c), NULL for exact GD */
};

void tsrelu__gd_destroy(tsrelu_gd *gd)
{
    if (!gd)
        return;
    if (gd->rec)
        tsrelu__record_detached(gd->rec);
    tsrelu__teacher_destroy(gd->teacher);
    for (int b = 0; b < 2; b++) {
        free(gd->W_buf[b]);
        free(gd->a_buf[b]);
    }
    free(gd->gW);
    free(gd->ga);
    free(gd->loaded_state);
    tsrelu__ws_free(&gd->ws);
    tsrelu__phases_free(&gd->ph);
    tsrelu__sgd_free(gd->sgd);
    free(gd);
}

TSRELU_API void tsrelu_gd_free(tsrelu_gd *gd)
{
    if (!gd || gd->batch_owned)
        return;
    /* inside the state's own run (a callback freeing it): the run frees it
     * when it returns */
    if (!(atomic_fetch_or(&gd->guard, GUARD_FREE_PENDING) & GUARD_BUSY))
        tsrelu__gd_destroy(gd);
}

void tsrelu__gd_set_batch_owned(tsrelu_gd *gd)
{
    gd->batch_owned = 1;
}

static tsrelu_status busy(const char *fn)
{
    return tsrelu__fail(TSRELU_EBUSY,
                        "%s: the state is in a run or step (a call from its own callback, or while "
                        "its batch runs)", fn);
}

tsrelu_status tsrelu__gd_hold(tsrelu_gd *gd, const char *fn)
{
    int idle = 0;
    if (!atomic_compare_exchange_strong(&gd->guard, &idle, GUARD_BUSY))
        return busy(fn);
    atomic_store_explicit(&gd->interrupt, 0, memory_order_relaxed);
    return TSRELU_OK;
}

/* Release the guard; a free requested meanwhile happens now. */
void tsrelu__gd_release(tsrelu_gd *gd)
{
    if (atomic_exchange(&gd->guard, 0) & GUARD_FREE_PENDING)
        tsrelu__gd_destroy(gd);
}

static int free_pending(tsrelu_gd *gd)
{
    return (atomic_load_explicit(&gd->guard, memory_order_relaxed) & GUARD_FREE_PENDING) != 0;
}

static int interrupted(tsrelu_gd *gd)
{
    return atomic_load_explicit(&gd->interrupt, memory_order_relaxed) ||
           (gd->cancel && atomic_load_explicit(gd->cancel, memory_order_relaxed));
}

TSRELU_API tsrelu_status tsrelu_gd_interrupt(tsrelu_gd *gd)
{
    if (!gd) /* async-signal-safe: no message */
        return TSRELU_EINVAL;
    atomic_store_explicit(&gd->interrupt, 1, memory_order_relaxed);
    return TSRELU_OK;
}

/* What an evaluation of the current iterate is for. The default update tests
 * its own output, so the gradient itself is tested only where someone else
 * reads it: at creation, before a step rule or an observer, in the
 * gradient-norm getter. */
enum {
    GRADIENT = 0,     /* the gradient (and the tracker) only */
    WANT_LOSS = 1,    /* the loss as well */
    AT_CREATION = 2,  /* test the gradient too; a non-finite one is an input error */
};

static tsrelu_status evaluate(tsrelu_gd *gd, unsigned what);

static tsrelu_status check_eta(const char *fn, double eta)
{
    if (!isfinite(eta))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: eta is %g", fn, eta);
    if (!(eta > 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: eta=%g must be > 0", fn, eta);
    return TSRELU_OK;
}

/* A state for teacher t (copied) and an m x d iterate, every buffer
 * allocated, the iterate not yet set. */
static tsrelu_status gd_alloc(const char *fn, const tsrelu_teacher *t, size_t m, size_t d,
                              tsrelu_gd **out)
{
    tsrelu_status st = tsrelu__check_blas(fn, m, t->k, d);
    if (st != TSRELU_OK)
        return st;
    tsrelu_gd *gd = calloc(1, sizeof *gd);
    if (!gd)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    atomic_init(&gd->guard, 0);
    atomic_init(&gd->interrupt, 0);
    atomic_init(&gd->published, 0);
    size_t md = m * d; /* m*d checked when the student was made */
    if ((st = tsrelu__teacher_clone(t, &gd->teacher)) != TSRELU_OK ||
        (st = tsrelu__ws_alloc(&gd->ws, m, t->k, d)) != TSRELU_OK ||
        (st = tsrelu__phases_alloc(&gd->ph, m, t->k)) != TSRELU_OK) {
        tsrelu__gd_destroy(gd);
        return st;
    }
    for (int b = 0; b < 2; b++) { /* the rows the kernels read, 64-byte aligned (model.h) */
        gd->W_buf[b] = tsrelu__aligned_doubles(md);
        gd->a_buf[b] = malloc(m * sizeof(double));
    }
    gd->gW = tsrelu__aligned_doubles(md);
    gd->ga = malloc(m * sizeof(double));
    if (!gd->W_buf[0] || !gd->W_buf[1] || !gd->a_buf[0] || !gd->a_buf[1] || !gd->gW || !gd->ga) {
        tsrelu__gd_destroy(gd);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for m=%zu, d=%zu", fn, m, d);
    }
    gd->view.m = m;
    gd->view.d = d;
    gd->view.owns = 0;
    gd->view.W = gd->W_buf[0];
    gd->view.a = gd->a_buf[0];
    *out = gd;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_create(const tsrelu_teacher *t, const tsrelu_student *s0,
                                          double eta, tsrelu_gd **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_create: out is NULL");
    *out = NULL;
    tsrelu_status st = tsrelu__check_pair("tsrelu_gd_create", s0, t);
    if (st == TSRELU_OK)
        st = check_eta("tsrelu_gd_create", eta);
    tsrelu_gd *gd = NULL;
    if (st != TSRELU_OK || (st = gd_alloc("tsrelu_gd_create", t, s0->m, s0->d, &gd)) != TSRELU_OK)
        return st;
    memcpy(gd->view.W, s0->W, s0->m * s0->d * sizeof(double));
    memcpy(gd->view.a, s0->a, s0->m * sizeof(double));
    gd->eta = eta;
    /* iteration 0 fixes the initial groups of the phase tracker */
    if ((st = evaluate(gd, AT_CREATION)) != TSRELU_OK) {
        tsrelu__gd_destroy(gd);
        return tsrelu__context(st, "tsrelu_gd_create");
    }
    *out = gd;
    return TSRELU_OK;
}

#define NEED_GD(fn)                                                        \
    do {                                                                   \
        if (!gd)                                                           \
            return tsrelu__fail(TSRELU_EINVAL, "%s: gd is NULL", fn);      \
    } while (0)

/* A mutating call: refused while a run or step holds the state. */
#define NEED_IDLE_GD(fn)                                                   \
    do {                                                                   \
        tsrelu_status idle_ = tsrelu__gd_idle(gd, fn);                     \
        if (idle_ != TSRELU_OK)                                            \
            return idle_;                                                  \
    } while (0)

TSRELU_API tsrelu_status tsrelu_gd_set_eta(tsrelu_gd *gd, double eta)
{
    NEED_IDLE_GD("tsrelu_gd_set_eta");
    tsrelu_status st = check_eta("tsrelu_gd_set_eta", eta);
    if (st == TSRELU_OK)
        gd->eta = eta;
    return st;
}

TSRELU_API double tsrelu_gd_eta(const tsrelu_gd *gd)
{
    return gd ? gd->eta : 0.0;
}

TSRELU_API tsrelu_status tsrelu_gd_set_train_output(tsrelu_gd *gd, int on)
{
    NEED_IDLE_GD("tsrelu_gd_set_train_output");
    if ((on != 0) != gd->train_a)
        gd->evaluated = 0; /* ga and the gradient norm depend on it */
    gd->train_a = on != 0;
    return TSRELU_OK;
}

TSRELU_API int tsrelu_gd_train_output(const tsrelu_gd *gd)
{
    return gd ? gd->train_a : 0;
}

TSRELU_API tsrelu_status tsrelu_gd_tolerances(const tsrelu_gd *gd, double *loss_tol, double *grad_tol)
{
    NEED_GD("tsrelu_gd_tolerances");
    if (loss_tol)
        *loss_tol = gd->tol_loss;
    if (grad_tol)
        *grad_tol = gd->tol_grad;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_set_tolerances(tsrelu_gd *gd, double loss_tol, double grad_tol)
{
    NEED_IDLE_GD("tsrelu_gd_set_tolerances");
    if (!(loss_tol >= 0.0) || !(grad_tol >= 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_set_tolerances: loss_tol=%g and grad_tol=%g must be >= 0",
                            loss_tol, grad_tol);
    gd->tol_loss = loss_tol;
    gd->tol_grad = grad_tol;
    return TSRELU_OK;
}

/* ---------------- observer schedule ---------------- */

/* ceil(10^(j/P)); pow is exact at integer exponents, the only place where
 * the ceiling could be ambiguous. */
uint64_t tsrelu__log_point(uint64_t j, uint64_t P)
{
    double x = ceil(pow(10.0, (double)j / (double)P));
    return x >= 1.8e19 ? UINT64_MAX : (uint64_t)x;
}

/* Advance the log schedule to its first point >= t. Far behind (a run
 * resumed late, a new observer), jump to j = P log10(t - 1) less a margin
 * far above the rounding of that product (P <= TSRELU_LOG_MAX_PER_DECADE):
 * every point skipped is below t. Then step j by one. */
static void log_seek(tsrelu__schedule *sc, uint64_t t)
{
    if (sc->log_next < t && t > 2) {
        double j0 = floor((double)sc->param * log10((double)(t - 1))) - 2.0;
        if (j0 > (double)sc->log_j) {
            sc->log_j = (uint64_t)j0;
            sc->log_next = tsrelu__log_point(sc->log_j, sc->param);
        }
    }
    while (sc->log_next < t && sc->log_next != UINT64_MAX)
        sc->log_next = tsrelu__log_point(++sc->log_j, sc->param);
}

int tsrelu__scheduled(tsrelu__schedule *sc, uint64_t t)
{
    if (sc->kind == TSRELU_SCHEDULE_LINEAR)
        return t % sc->param == 0;
    if (t == 0)
        return 1;
    log_seek(sc, t);
    return sc->log_next == t;
}

tsrelu_status tsrelu__schedule_init(const char *fn, int schedule, uint64_t param, tsrelu__schedule *sc)
{
    if (schedule != TSRELU_SCHEDULE_LINEAR && schedule != TSRELU_SCHEDULE_LOG)
        return tsrelu__fail(TSRELU_EINVAL, "%s: unknown schedule %d", fn, schedule);
    if (param == 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: param must be >= 1", fn);
    if (schedule == TSRELU_SCHEDULE_LOG && param > TSRELU_LOG_MAX_PER_DECADE)
        return tsrelu__fail(TSRELU_EINVAL,
                            "%s: %llu points per decade; at most %d (every "
                            "iteration from 1 to 10^6 is then a point already)",
                            fn, (unsigned long long)param, TSRELU_LOG_MAX_PER_DECADE);
    sc->kind = schedule;
    sc->param = param;
    sc->log_j = 0;
    sc->log_next = 1;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_set_observer(tsrelu_gd *gd, tsrelu_observer_fn fn,
                                                void *user_data, int schedule, uint64_t param)
{
    NEED_IDLE_GD("tsrelu_gd_set_observer");
    tsrelu__schedule sc = {0, 0, 0, 1};
    if (fn) {
        tsrelu_status st = tsrelu__schedule_init("tsrelu_gd_set_observer", schedule, param, &sc);
        if (st != TSRELU_OK)
            return st;
    }
    gd->obs = fn;
    gd->obs_ud = user_data;
    gd->sched = sc;
    /* A new observer sees the current iterate too, except the first one
     * installed after tsrelu_gd_load(), which continues the saved run's
     * record (no iterate observed twice across a resume). */
    if (!gd->resumed)
        gd->observed_any = 0;
    gd->resumed = 0;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_set_step(tsrelu_gd *gd, tsrelu_step_fn fn, void *user_data)
{
    NEED_IDLE_GD("tsrelu_gd_set_step");
    gd->step_fn = fn;
    gd->step_ud = user_data;
    return TSRELU_OK;
}

/* ---------------- evaluation and update ---------------- */

static tsrelu_status evaluate(tsrelu_gd *gd, unsigned what)
{
    int need_loss = (what & WANT_LOSS) != 0;
    if (gd->evaluated && (gd->have_loss || !need_loss))
        return TSRELU_OK;
    tsrelu__eval req = {need_loss ? &gd->loss : NULL, gd->gW, gd->train_a ? gd->ga : NULL,
                        (what & AT_CREATION) ? TSRELU__CHECK_GRADIENT : 0u,
                        (what & AT_CREATION) ? TSRELU_ENONFINITE : TSRELU_EDIVERGED};
    tsrelu_status st = tsrelu__evaluate(&gd->ws, gd->teacher, gd->view.W, gd->view.a, &req);
    if (st != TSRELU_OK)
        return tsrelu__context(st, "iteration %llu", (unsigned long long)gd->iter);
    tsrelu__phases_update(&gd->ph, gd->teacher, gd->view.m, gd->view.a, &gd->ws, gd->iter);
    gd->evaluated = 1;
    gd->have_loss = need_loss;
    return TSRELU_OK;
}

/* TSRELU_EDIVERGED unless the gradient gW (and ga when trained) is finite. */
static tsrelu_status gradient_finite(const tsrelu_gd *gd, const double *gW, const double *ga)
{
    if (tsrelu__all_finite(gW, gd->view.m * gd->view.d) &&
        (!gd->train_a || tsrelu__all_finite(ga, gd->view.m)))
        return TSRELU_OK;
    return tsrelu__fail(TSRELU_EDIVERGED, "iteration %llu: the gradient is not finite",
                        (unsigned long long)gd->iter);
}

/* |grad L| over W (and a when trained) from the cached gradient. */
static double cached_grad_norm(const tsrelu_gd *gd)
{
    size_t m = gd->view.m;
    double gw = tsrelu__norm(gd->gW, m * gd->view.d);
    double gn = gd->train_a ? tsrelu__norm(gd->ga, m) : 0.0;
    return gn == 0.0 ? gw : hypot(gw, gn);
}

/* out = x - eta g; 1 if every entry is finite (the dispatched kernel, a
 * class test in the same pass). */
static int update_default(const double *x, const double *g, double eta, double *out, size_t n)
{
    return tsrelu__simd()->update(x, g, eta, out, n);
}

/* Compute the next iterate into the spare buffers; commit only if finite and
 * accepted. */
static tsrelu_status advance(tsrelu_gd *gd)
{
    /* sampled: the step moves on the batch gradient; the exact one is
     * evaluated only where it is read (run_body) */
    const double *gW = gd->gW, *ga = gd->ga;
    tsrelu_status st = TSRELU_OK;
    if (gd->sgd)
        tsrelu__sgd_gradient(gd->sgd, gd->teacher, gd->view.W, gd->view.a, gd->train_a, &gW, &ga);
    else if ((st = evaluate(gd, GRADIENT)) != TSRELU_OK)
        return st;
    size_t m = gd->view.m, md = m * gd->view.d;
    int nx = 1 - gd->cur, finite;
    double *Wn = gd->W_buf[nx], *an = gd->train_a ? gd->a_buf[nx] : NULL;
    if (gd->step_fn) {
        if ((st = gradient_finite(gd, gW, ga)) != TSRELU_OK)
            return st;
        memcpy(Wn, gd->view.W, md * sizeof(double));
        if (an)
            memcpy(an, gd->view.a, m * sizeof(double));
        int rv = gd->step_fn(gd, Wn, gW, an, an ? ga : NULL, gd->step_ud);
        if (rv != 0 || free_pending(gd)) {
            gd->stop_value = rv;
            gd->stop_reason = TSRELU_STOP_STEP_RULE;
            return TSRELU_STOPPED;
        }
        finite = tsrelu__all_finite(Wn, md) && (!an || tsrelu__all_finite(an, m));
    } else {
        finite = update_default(gd->view.W, gW, gd->eta, Wn, md);
        if (an)
            finite &= update_default(gd->view.a, ga, gd->eta, an, m);
    }
    if (!finite)
        return tsrelu__fail(TSRELU_EDIVERGED,
                            "the update at iteration %llu is not finite (eta=%g); the state keeps iteration %llu",
                            (unsigned long long)gd->iter, gd->eta, (unsigned long long)gd->iter);
    if (!an) /* a is not trained: carry it into the new buffer pair */
        memcpy(gd->a_buf[nx], gd->view.a, m * sizeof(double));
    if (gd->sgd)
        tsrelu__sgd_commit(gd->sgd);
    gd->cur = nx;
    gd->view.W = Wn;
    gd->view.a = gd->a_buf[nx];
    gd->iter++;
    atomic_store_explicit(&gd->published, gd->iter, memory_order_relaxed);
    gd->evaluated = gd->have_loss = 0;
    return TSRELU_OK;
}

/* TSRELU_STOP_LOSS_TOL or TSRELU_STOP_GRAD_TOL when a tolerance is met (the
 * loss is tested first), else 0. */
static int converged(const tsrelu_gd *gd)
{
    if (gd->tol_loss > 0.0 && gd->loss <= gd->tol_loss)
        return TSRELU_STOP_LOSS_TOL;
    if (gd->tol_grad > 0.0 && cached_grad_norm(gd) <= gd->tol_grad)
        return TSRELU_STOP_GRAD_TOL;
    return 0;
}

/* The stop reason of a run or step that returned st; STOPPED and CONVERGED
 * have recorded theirs where they happened. */
static tsrelu_status finish(tsrelu_gd *gd, tsrelu_status st)
{
    if (st == TSRELU_OK)
        gd->stop_reason = TSRELU_STOP_STEPS;
    else if (st == TSRELU_INTERRUPTED)
        gd->stop_reason = TSRELU_STOP_INTERRUPT;
    else if (st < 0)
        gd->stop_reason = TSRELU_STOP_ERROR;
    return st;
}

TSRELU_API tsrelu_status tsrelu_gd_step(tsrelu_gd *gd)
{
    NEED_GD("tsrelu_gd_step");
    tsrelu_status st = tsrelu__gd_hold(gd, "tsrelu_gd_step");
    if (st != TSRELU_OK)
        return st;
    gd->stop_value = 0;
    st = finish(gd, advance(gd));
    tsrelu__gd_release(gd);
    return st;
}

/* Hand the recorder what the evaluation of this iterate computed; its
 * event callback may stop the run. */
static tsrelu_status record(tsrelu_gd *gd)
{
    tsrelu_status st = evaluate(gd, WANT_LOSS);
    if (st != TSRELU_OK)
        return st;
    tsrelu__phases_deficits(&gd->ph, gd->teacher, gd->view.m, gd->view.a, &gd->ws);
    tsrelu__record_point pt = {gd->iter, gd->loss, cached_grad_norm(gd), &gd->view, gd->teacher,
                               &gd->ws, &gd->ph, gd->eta * (double)gd->iter};
    int rv = tsrelu__record_take(gd->rec, &pt);
    /* only the recorder's event callback runs in there */
    if (rv != 0 || free_pending(gd)) {
        gd->stop_value = rv;
        gd->stop_reason = TSRELU_STOP_EVENT;
        return TSRELU_STOPPED;
    }
    return TSRELU_OK;
}

static tsrelu_status run_body(tsrelu_gd *gd, uint64_t max_steps, atomic_int *cancel)
{
    gd->stop_value = 0;
    gd->cancel = cancel;
    uint64_t end = gd->iter + max_steps < gd->iter ? UINT64_MAX : gd->iter + max_steps;
    for (;;) {
        int sched = gd->obs && tsrelu__scheduled(&gd->sched, gd->iter);
        int rec = gd->rec && tsrelu__scheduled(&gd->rec_sched, gd->iter);
        /* the loss is computed only where it is read */
        int read_loss = gd->tol_loss > 0.0 || sched || rec || ((gd->obs || gd->rec) && gd->iter == end);
        /* a sampled step needs no exact gradient: evaluate where it is read */
        int exact = !gd->sgd || read_loss || gd->tol_grad > 0.0;
        tsrelu_status st = exact ? evaluate(gd, read_loss ? WANT_LOSS : GRADIENT) : TSRELU_OK;
        if (st != TSRELU_OK)
            return st;
        int done = exact ? converged(gd) : 0, last = done || gd->iter == end;
        /* the recorder's row is there before the observer looks */
        if (gd->rec && (rec || last) && (st = record(gd)) != TSRELU_OK)
            return st;
        if (gd->obs && (sched || last) && !(gd->observed_any && gd->last_observed == gd->iter)) {
            if ((st = evaluate(gd, WANT_LOSS)) != TSRELU_OK || (st = gradient_finite(gd, gd->gW, gd->ga)) != TSRELU_OK)
                return st;
            gd->observed_any = 1;
            gd->last_observed = gd->iter;
            int rv = gd->obs(gd, gd->obs_ud);
            if (rv != 0 || free_pending(gd)) {
                gd->stop_value = rv;
                gd->stop_reason = TSRELU_STOP_OBSERVER;
                return TSRELU_STOPPED;
            }
        }
        if (done) {
            gd->stop_reason = done;
            return TSRELU_CONVERGED;
        }
        if (last)
            return TSRELU_OK;
        if (interrupted(gd))
            return TSRELU_INTERRUPTED;
        if ((st = advance(gd)) != TSRELU_OK)
            return st;
    }
}

tsrelu_status tsrelu__gd_run_held(tsrelu_gd *gd, uint64_t max_steps, atomic_int *cancel)
{
    return finish(gd, run_body(gd, max_steps, cancel));
}

TSRELU_API tsrelu_status tsrelu_gd_run(tsrelu_gd *gd, uint64_t max_steps)
{
    NEED_GD("tsrelu_gd_run");
    tsrelu_status st = tsrelu__gd_hold(gd, "tsrelu_gd_run");
    if (st != TSRELU_OK)
        return st;
    st = tsrelu__gd_run_held(gd, max_steps, NULL);
    tsrelu__gd_release(gd);
    return st;
}

/* ---------------- getters ---------------- */

TSRELU_API uint64_t tsrelu_gd_iteration(const tsrelu_gd *gd)
{
    return gd ? gd->iter : 0;
}

TSRELU_API uint64_t tsrelu_gd_progress(const tsrelu_gd *gd)
{
    return gd ? (uint64_t)atomic_load_explicit(&((tsrelu_gd *)gd)->published, memory_order_relaxed) : 0;
}

TSRELU_API int tsrelu_gd_stop_value(const tsrelu_gd *gd)
{
    return gd ? gd->stop_value : 0;
}

TSRELU_API int tsrelu_gd_stop_reason(const tsrelu_gd *gd)
{
    return gd ? gd->stop_reason : TSRELU_STOP_NONE;
}

TSRELU_API const tsrelu_student *tsrelu_gd_student(const tsrelu_gd *gd)
{
    return gd ? &gd->view : NULL;
}

TSRELU_API const tsrelu_teacher *tsrelu_gd_teacher(const tsrelu_gd *gd)
{
    return gd ? gd->teacher : NULL;
}

TSRELU_API tsrelu_status tsrelu_gd_loss(const tsrelu_gd *gd, double *loss)
{
    NEED_GD("tsrelu_gd_loss");
    if (!loss)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_loss: loss is NULL");
    if (gd->evaluated && gd->have_loss) {
        *loss = gd->loss;
        return TSRELU_OK;
    }
    return tsrelu_loss(&gd->view, gd->teacher, loss);
}

TSRELU_API tsrelu_status tsrelu_gd_gradient_norm(const tsrelu_gd *gd, double *norm)
{
    NEED_GD("tsrelu_gd_gradient_norm");
    if (!norm)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_gradient_norm: norm is NULL");
    if (gd->evaluated) {
        double n = cached_grad_norm(gd);
        if (!isfinite(n))
            return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_gd_gradient_norm: the gradient is not finite (%g)", n);
        *norm = n;
        return TSRELU_OK;
    }
    return tsrelu__gradient_norm("tsrelu_gd_gradient_norm", &gd->view, gd->teacher, gd->train_a, norm);
}

/* ---------------- hook of the recorder (record.c) ---------------- */

tsrelu_record *tsrelu__gd_attach(tsrelu_gd *gd, tsrelu_record *r, const tsrelu__schedule *sc)
{
    tsrelu_record *old = gd->rec;
    gd->rec = r;
    if (r)
        gd->rec_sched = *sc;
    return old;
}

/* ---------------- hooks of the phase API (phases.c) ---------------- */

struct tsrelu__phases *tsrelu__gd_tracker(const tsrelu_gd *gd)
{
    return (struct tsrelu__phases *)&gd->ph;
}

tsrelu_status tsrelu__gd_idle(const tsrelu_gd *gd, const char *fn)
{
    if (!gd)
        return tsrelu__fail(TSRELU_EINVAL, "%s: gd is NULL", fn);
    if (atomic_load(&gd->guard) & GUARD_BUSY)
        return busy(fn);
    return TSRELU_OK;
}

void tsrelu__gd_retrack(tsrelu_gd *gd)
{
    /* the workspace still describes the current iterate: test it now */
    if (gd->evaluated)
        tsrelu__phases_update(&gd->ph, gd->teacher, gd->view.m, gd->view.a, &gd->ws, gd->iter);
}

/* ---------------- hook of the sampler (sgd.c) ---------------- */

struct tsrelu__sgd **tsrelu__gd_sampler(tsrelu_gd *gd)
{
    return &gd->sgd;
}

/* ---------------- checkpoint hooks ---------------- */

TSRELU_API tsrelu_status tsrelu_gd_set_step_state(tsrelu_gd *gd, double *state, size_t len)
{
    NEED_IDLE_GD("tsrelu_gd_set_step_state");
    if (!state && len > 0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_set_step_state: state is NULL but len=%zu", len);
    if (gd->loaded_state && state) {
        if (len != gd->loaded_len)
            return tsrelu__fail(TSRELU_ELENGTH,
                                "tsrelu_gd_set_step_state: the checkpoint holds a step state of length %zu, %zu given",
                                gd->loaded_len, len);
        memcpy(state, gd->loaded_state, len * sizeof(double));
        free(gd->loaded_state);
        gd->loaded_state = NULL;
        gd->loaded_len = 0;
    }
    gd->step_state = state;
    gd->step_state_len = state ? len : 0;
    return TSRELU_OK;
}

void tsrelu__gd_export(const tsrelu_gd *gd, tsrelu__gd_image *im)
{
    const tsrelu_teacher *t = gd->teacher;
    const tsrelu__phases *ph = &gd->ph;
    memset(im, 0, sizeof *im);
    im->m = gd->view.m;
    im->k = t->k;
    im->d = t->d;
    im->V = t->V;
    im->b = t->b;
    im->W = gd->view.W;
    im->a = gd->view.a;
    im->eta = gd->eta;
    im->tol_loss = gd->tol_loss;
    im->tol_grad = gd->tol_grad;
    im->train_a = gd->train_a;
    im->iter = gd->iter;
    im->schedule = gd->sched.kind;
    im->param = gd->sched.param;
    im->observed_any = gd->observed_any;
    im->last_observed = gd->last_observed;
    im->eps_align = ph->eps_align;
    im->eps_deficit = ph->eps_deficit;
    im->t1 = ph->t1;
    im->t2 = ph->t2;
    im->phase = ph->phase;
    im->have_tau0 = ph->have_tau0;
    im->switches = ph->switches;
    im->tau0 = ph->tau0;
    im->tau = ph->tau;
    /* a state loaded but not yet claimed is still the step rule's state */
    im->step_state = gd->step_state ? gd->step_state : gd->loaded_state;
    im->step_len = gd->step_state ? gd->step_state_len : gd->loaded_len;
    im->sampled = gd->sgd != NULL;
    if (gd->sgd)
        tsrelu__sgd_export(gd->sgd, im->sgd_words, &im->sgd_X, &im->sgd_X_len);
}

/* The invariants every state made through the API keeps (what the setters
 * and the commit-on-success step guarantee), and nothing more: a state that
 * saved must load, whatever its gradient or loss. */
static const char *image_invalid(const tsrelu__gd_image *im)
{
    if (!(isfinite(im->eta) && im->eta > 0.0))
        return "invalid settings (eta)";
    if (!(im->tol_loss >= 0.0) || !(im->tol_grad >= 0.0)) /* +inf is a valid tolerance */
        return "invalid settings (tolerances)";
    if (im->train_a != 0 && im->train_a != 1)
        return "invalid settings (output training flag)";
    if (!(im->schedule == 0 && im->param == 0) &&
        !(im->schedule == TSRELU_SCHEDULE_LINEAR && im->param >= 1) &&
        !(im->schedule == TSRELU_SCHEDULE_LOG && im->param >= 1 && im->param <= TSRELU_LOG_MAX_PER_DECADE))
        return "invalid settings (observer schedule)";
    if ((im->observed_any != 0 && im->observed_any != 1) || (im->observed_any && im->last_observed > im->iter))
        return "invalid settings (observer record)";
    if (!(im->eps_align > 0.0 && im->eps_align < TSRELU_PI) ||
        !(isfinite(im->eps_deficit) && im->eps_deficit > 0.0))
        return "invalid settings (phase thresholds)";
    if (im->t1 < -1 || im->t2 < -1 || (im->t2 >= 0 && im->t1 < 0) ||
        (im->t1 >= 0 && (uint64_t)im->t1 > im->iter) || (im->t2 >= 0 && (uint64_t)im->t2 > im->iter) ||
        im->phase != (im->t2 >= 0 ? 3 : im->t1 >= 0 ? 2 : 1))
        return "invalid settings (phase times)";
    if ((im->have_tau0 != 0 && im->have_tau0 != 1) || im->switches > im->m)
        return "invalid settings (phase tracker)";
    for (size_t i = 0; i < im->m; i++)
        if (im->tau0[i] < -1 || im->tau0[i] >= (int64_t)im->k || im->tau[i] < -1 ||
            im->tau[i] >= (int64_t)im->k)
            return "an invalid group index";
    if (!tsrelu__all_finite(im->W, im->m * im->d) || !tsrelu__all_finite(im->a, im->m))
        return "invalid weights (a student weight is not finite)";
    if (!tsrelu__all_finite(im->V, im->k * im->d) || !tsrelu__all_finite(im->b, im->k))
        return "invalid weights (a teacher weight is not finite)";
    for (size_t j = 0; j < im->k; j++) {
        double n = tsrelu__norm(im->V + j * im->d, im->d);
        if (!(n > 0.0) || !isfinite(n))
            return "invalid weights (a teacher row is zero or its norm overflows)";
    }
    if (im->step_len > 0 && !im->step_state)
        return "an invalid step state";
    return NULL;
}

tsrelu_status tsrelu__gd_restore(const tsrelu__gd_image *im, const char *what, tsrelu_gd **out)
{
    *out = NULL;
    const char *bad = image_invalid(im);
    if (bad)
        return tsrelu__fail(TSRELU_EFORMAT, "%s holds %s", what, bad);
    tsrelu_teacher *t = NULL;
    tsrelu_gd *gd = NULL;
    /* valid rows (checked above): only memory can fail here */
    tsrelu_status st = tsrelu_teacher_create(im->k, im->d, im->V, im->b, &t);
    if (st != TSRELU_OK)
        return tsrelu__context(st, "%s", what);
    st = gd_alloc(what, t, im->m, im->d, &gd);
    tsrelu_teacher_free(t);
    if (st != TSRELU_OK)
        return st;
    if (im->step_len > 0 && !(gd->loaded_state = malloc(im->step_len * sizeof(double)))) {
        tsrelu__gd_destroy(gd);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for the step state", what);
    }
    memcpy(gd->view.W, im->W, im->m * im->d * sizeof(double));
    memcpy(gd->view.a, im->a, im->m * sizeof(double));
    if (im->sampled && (st = tsrelu__sgd_restore(what, gd->teacher, im->m, im->sgd_words, im->sgd_X,
                                                 im->sgd_X_len, &gd->sgd)) != TSRELU_OK) {
        tsrelu__gd_destroy(gd);
        return st;
    }
    if (im->step_len > 0)
        memcpy(gd->loaded_state, im->step_state, im->step_len * sizeof(double));
    gd->loaded_len = im->step_len;
    gd->eta = im->eta;
    gd->tol_loss = im->tol_loss;
    gd->tol_grad = im->tol_grad;
    gd->train_a = im->train_a;
    gd->iter = im->iter;
    atomic_store_explicit(&gd->published, gd->iter, memory_order_relaxed);
    gd->sched.kind = im->schedule;
    gd->sched.param = im->param;
    gd->sched.log_j = 0;
    gd->sched.log_next = 1; /* the schedule seeks its next point from iter on */
    gd->observed_any = im->observed_any;
    gd->last_observed = im->last_observed;
    gd->resumed = 1;
    tsrelu__phases *ph = &gd->ph;
    ph->eps_align = im->eps_align;
    ph->eps_deficit = im->eps_deficit;
    ph->t1 = im->t1;
    ph->t2 = im->t2;
    ph->phase = im->phase;
    ph->have_tau0 = im->have_tau0;
    ph->switches = im->switches;
    memcpy(ph->tau0, im->tau0, im->m * sizeof(int));
    memcpy(ph->tau, im->tau, im->m * sizeof(int));
    /* not evaluated: the next run evaluates the iterate exactly as the saved
     * state would have (evaluation is a pure function of the iterate) */
    *out = gd;
    return TSRELU_OK;
}

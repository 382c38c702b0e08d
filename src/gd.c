/* Gradient descent state: copies of the teacher and student, a workspace
 * allocated once, the update (default or user step rule), observer schedule,
 * stopping tests and divergence roll-back. A step never allocates. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

TSRELU_API void tsrelu_gd_free(tsrelu_gd *gd)
{
    if (!gd)
        return;
    tsrelu_teacher_free(gd->teacher);
    for (int b = 0; b < 2; b++) {
        free(gd->W_buf[b]);
        free(gd->a_buf[b]);
    }
    free(gd->gW);
    free(gd->ga);
    free(gd->loaded_state);
    tsrelu__ws_free(&gd->ws);
    tsrelu__phases_free(&gd->ph);
    free(gd);
}

static tsrelu_status evaluate(tsrelu_gd *gd, int need_loss, int check);

static tsrelu_status check_eta(const char *fn, double eta)
{
    if (!isfinite(eta))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: eta is %g", fn, eta);
    if (!(eta > 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: eta=%g must be > 0", fn, eta);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_create(const tsrelu_teacher *t, const tsrelu_student *s0,
                                          double eta, tsrelu_gd **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_create: out is NULL");
    *out = NULL;
    if (!t || !s0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_create: %s is NULL", t ? "student" : "teacher");
    if (s0->d != t->d)
        return tsrelu__fail(TSRELU_EDIM, "tsrelu_gd_create: student d=%zu but teacher d=%zu",
                            s0->d, t->d);
    if (s0->m > INT32_MAX || t->k > INT32_MAX || t->d > INT32_MAX || s0->m + t->k > INT32_MAX)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_create: sizes exceed the BLAS int range");
    tsrelu_status st = check_eta("tsrelu_gd_create", eta);
    if (st != TSRELU_OK)
        return st;
    tsrelu_gd *gd = calloc(1, sizeof *gd);
    if (!gd)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_create: out of memory");
    size_t m = s0->m, d = s0->d, md = m * d; /* m*d checked when s0 was made */
    if ((st = tsrelu__teacher_clone(t, &gd->teacher)) != TSRELU_OK ||
        (st = tsrelu__ws_alloc(&gd->ws, m, t->k, d)) != TSRELU_OK ||
        (st = tsrelu__phases_alloc(&gd->ph, m, t->k)) != TSRELU_OK) {
        tsrelu_gd_free(gd);
        return st;
    }
    for (int b = 0; b < 2; b++) {
        gd->W_buf[b] = malloc(md * sizeof(double));
        gd->a_buf[b] = malloc(m * sizeof(double));
    }
    gd->gW = malloc(md * sizeof(double));
    gd->ga = malloc(m * sizeof(double));
    if (!gd->W_buf[0] || !gd->W_buf[1] || !gd->a_buf[0] || !gd->a_buf[1] || !gd->gW || !gd->ga) {
        tsrelu_gd_free(gd);
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_create: out of memory for m=%zu, d=%zu", m, d);
    }
    memcpy(gd->W_buf[0], s0->W, md * sizeof(double));
    memcpy(gd->a_buf[0], s0->a, m * sizeof(double));
    gd->view.m = m;
    gd->view.d = d;
    gd->view.owns = 0;
    gd->view.W = gd->W_buf[0];
    gd->view.a = gd->a_buf[0];
    gd->eta = eta;
    /* iteration 0 fixes the initial groups of the phase tracker */
    if (evaluate(gd, 0, 1) != TSRELU_OK) {
        tsrelu_gd_free(gd);
        return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_gd_create: %s", tsrelu_last_error());
    }
    *out = gd;
    return TSRELU_OK;
}

#define NEED_GD(fn)                                                        \
    do {                                                                   \
        if (!gd)                                                           \
            return tsrelu__fail(TSRELU_EINVAL, "%s: gd is NULL", fn);      \
    } while (0)

TSRELU_API tsrelu_status tsrelu_gd_set_eta(tsrelu_gd *gd, double eta)
{
    NEED_GD("tsrelu_gd_set_eta");
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
    NEED_GD("tsrelu_gd_set_train_output");
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
    NEED_GD("tsrelu_gd_set_tolerances");
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
static uint64_t log_point(uint64_t j, uint64_t P)
{
    double x = ceil(pow(10.0, (double)j / (double)P));
    return x >= 1.8e19 ? UINT64_MAX : (uint64_t)x;
}

/* Advance the log schedule to its first point >= t. Far behind (a run
 * resumed late, a new observer), jump to j = P log10(t - 1) less a margin
 * far above the rounding of that product (P <= TSRELU_LOG_MAX_PER_DECADE):
 * every point skipped is below t. Then step j by one. */
static void log_seek(tsrelu_gd *gd, uint64_t t)
{
    if (gd->log_next < t && t > 2) {
        double j0 = floor((double)gd->param * log10((double)(t - 1))) - 2.0;
        if (j0 > (double)gd->log_j) {
            gd->log_j = (uint64_t)j0;
            gd->log_next = log_point(gd->log_j, gd->param);
        }
    }
    while (gd->log_next < t && gd->log_next != UINT64_MAX)
        gd->log_next = log_point(++gd->log_j, gd->param);
}

static int scheduled(tsrelu_gd *gd, uint64_t t)
{
    if (gd->schedule == TSRELU_SCHEDULE_LINEAR)
        return t % gd->param == 0;
    if (t == 0)
        return 1;
    log_seek(gd, t);
    return gd->log_next == t;
}

TSRELU_API tsrelu_status tsrelu_gd_set_observer(tsrelu_gd *gd, tsrelu_observer_fn fn,
                                                void *user_data, int schedule, uint64_t param)
{
    NEED_GD("tsrelu_gd_set_observer");
    if (fn) {
        if (schedule != TSRELU_SCHEDULE_LINEAR && schedule != TSRELU_SCHEDULE_LOG)
            return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_set_observer: unknown schedule %d", schedule);
        if (param == 0)
            return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_set_observer: param must be >= 1");
        if (schedule == TSRELU_SCHEDULE_LOG && param > TSRELU_LOG_MAX_PER_DECADE)
            return tsrelu__fail(TSRELU_EINVAL,
                                "tsrelu_gd_set_observer: %llu points per decade; at most %d (every "
                                "iteration from 1 to 10^6 is then a point already)",
                                (unsigned long long)param, TSRELU_LOG_MAX_PER_DECADE);
    }
    gd->obs = fn;
    gd->obs_ud = user_data;
    gd->schedule = fn ? schedule : 0;
    gd->param = fn ? param : 0;
    gd->log_j = 0;
    gd->log_next = 1;
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
    NEED_GD("tsrelu_gd_set_step");
    gd->step_fn = fn;
    gd->step_ud = user_data;
    return TSRELU_OK;
}

/* ---------------- evaluation and update ---------------- */

/* The default update tests its own output, so the gradient itself is tested
 * (check) only where someone else reads it: at creation, before a step
 * rule, before an observer, in the gradient-norm getter. */
static tsrelu_status evaluate(tsrelu_gd *gd, int need_loss, int check)
{
    if (gd->evaluated && (gd->have_loss || !need_loss))
        return TSRELU_OK;
    size_t m = gd->view.m;
    tsrelu_status st = tsrelu__evaluate(gd->teacher, m, gd->view.W, gd->view.a, &gd->ws,
                                        need_loss ? &gd->loss : NULL, gd->gW,
                                        gd->train_a ? gd->ga : NULL, check);
    if (st != TSRELU_OK)
        return tsrelu__fail(TSRELU_EDIVERGED, "iteration %llu: %s",
                            (unsigned long long)gd->iter, tsrelu_last_error());
    tsrelu__phases_update(&gd->ph, gd->teacher, m, gd->view.a, &gd->ws, gd->iter);
    gd->evaluated = 1;
    gd->have_loss = need_loss;
    return TSRELU_OK;
}

/* TSRELU_EDIVERGED unless the cached gradient is finite. */
static tsrelu_status gradient_finite(const tsrelu_gd *gd)
{
    if (tsrelu__all_finite(gd->gW, gd->view.m * gd->view.d) &&
        (!gd->train_a || tsrelu__all_finite(gd->ga, gd->view.m)))
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

/* out = x - eta g; 1 if every entry is finite (tested in the same pass:
 * y * 0 is NaN exactly when y is not). */
static int update_default(const double *x, const double *g, double eta, double *out, size_t n)
{
    double bad0 = 0.0, bad1 = 0.0;
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        out[i] = x[i] - eta * g[i];
        out[i + 1] = x[i + 1] - eta * g[i + 1];
        bad0 += out[i] * 0.0;
        bad1 += out[i + 1] * 0.0;
    }
    if (i < n) {
        out[i] = x[i] - eta * g[i];
        bad0 += out[i] * 0.0;
    }
    return bad0 + bad1 == 0.0;
}

/* Compute the next iterate into the spare buffers; commit only if finite and
 * accepted. */
static tsrelu_status advance(tsrelu_gd *gd)
{
    tsrelu_status st = evaluate(gd, 0, 0);
    if (st != TSRELU_OK)
        return st;
    size_t m = gd->view.m, md = m * gd->view.d;
    int nx = 1 - gd->cur, finite;
    double *Wn = gd->W_buf[nx], *an = gd->train_a ? gd->a_buf[nx] : NULL;
    if (gd->step_fn) {
        if ((st = gradient_finite(gd)) != TSRELU_OK)
            return st;
        memcpy(Wn, gd->view.W, md * sizeof(double));
        if (an)
            memcpy(an, gd->view.a, m * sizeof(double));
        int rv = gd->step_fn(gd, Wn, gd->gW, an, an ? gd->ga : NULL, gd->step_ud);
        if (rv != 0) {
            gd->stop_value = rv;
            return TSRELU_STOPPED;
        }
        finite = tsrelu__all_finite(Wn, md) && (!an || tsrelu__all_finite(an, m));
    } else {
        finite = update_default(gd->view.W, gd->gW, gd->eta, Wn, md);
        if (an)
            finite &= update_default(gd->view.a, gd->ga, gd->eta, an, m);
    }
    if (!finite)
        return tsrelu__fail(TSRELU_EDIVERGED,
                            "the update at iteration %llu is not finite (eta=%g); the state keeps iteration %llu",
                            (unsigned long long)gd->iter, gd->eta, (unsigned long long)gd->iter);
    if (!an) /* a is not trained: carry it into the new buffer pair */
        memcpy(gd->a_buf[nx], gd->view.a, m * sizeof(double));
    gd->cur = nx;
    gd->view.W = Wn;
    gd->view.a = gd->a_buf[nx];
    gd->iter++;
    gd->evaluated = gd->have_loss = 0;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_step(tsrelu_gd *gd)
{
    NEED_GD("tsrelu_gd_step");
    gd->stop_value = 0;
    return advance(gd);
}

static int converged(const tsrelu_gd *gd)
{
    return (gd->tol_loss > 0.0 && gd->loss <= gd->tol_loss) ||
           (gd->tol_grad > 0.0 && cached_grad_norm(gd) <= gd->tol_grad);
}

TSRELU_API tsrelu_status tsrelu_gd_run(tsrelu_gd *gd, uint64_t max_steps)
{
    NEED_GD("tsrelu_gd_run");
    gd->stop_value = 0;
    uint64_t end = gd->iter + max_steps < gd->iter ? UINT64_MAX : gd->iter + max_steps;
    for (;;) {
        int sched = gd->obs && scheduled(gd, gd->iter);
        /* the loss is computed only where it is read */
        tsrelu_status st = evaluate(gd, gd->tol_loss > 0.0 || sched || (gd->obs && gd->iter == end), 0);
        if (st != TSRELU_OK)
            return st;
        int done = converged(gd), last = done || gd->iter == end;
        if (gd->obs && (sched || last) && !(gd->observed_any && gd->last_observed == gd->iter)) {
            if ((st = evaluate(gd, 1, 0)) != TSRELU_OK || (st = gradient_finite(gd)) != TSRELU_OK)
                return st;
            gd->observed_any = 1;
            gd->last_observed = gd->iter;
            int rv = gd->obs(gd, gd->obs_ud);
            if (rv != 0) {
                gd->stop_value = rv;
                return TSRELU_STOPPED;
            }
        }
        if (done)
            return TSRELU_CONVERGED;
        if (last)
            return TSRELU_OK;
        if ((st = advance(gd)) != TSRELU_OK)
            return st;
    }
}

/* ---------------- getters ---------------- */

TSRELU_API uint64_t tsrelu_gd_iteration(const tsrelu_gd *gd)
{
    return gd ? gd->iter : 0;
}

TSRELU_API int tsrelu_gd_stop_value(const tsrelu_gd *gd)
{
    return gd ? gd->stop_value : 0;
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
    size_t m = gd->view.m, md = m * gd->view.d;
    double *g = malloc((md + m) * sizeof(double));
    if (!g)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_gd_gradient_norm: out of memory");
    tsrelu_status st = tsrelu_gradient(&gd->view, gd->teacher, g, md,
                                       gd->train_a ? g + md : NULL, m);
    if (st == TSRELU_OK) {
        double gw = tsrelu__norm(g, md), gn = gd->train_a ? tsrelu__norm(g + md, m) : 0.0;
        *norm = gn == 0.0 ? gw : hypot(gw, gn);
    }
    free(g);
    return st;
}

/* ---------------- phases ---------------- */

TSRELU_API tsrelu_status tsrelu_gd_set_phase_thresholds(tsrelu_gd *gd, double eps_align,
                                                        double eps_deficit)
{
    NEED_GD("tsrelu_gd_set_phase_thresholds");
    if (!isfinite(eps_align) || !isfinite(eps_deficit))
        return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_gd_set_phase_thresholds: eps_align=%g, eps_deficit=%g",
                            eps_align, eps_deficit);
    if (!(eps_align > 0.0 && eps_align < TSRELU_PI) || !(eps_deficit > 0.0))
        return tsrelu__fail(TSRELU_EINVAL,
                            "tsrelu_gd_set_phase_thresholds: need 0 < eps_align=%g < pi and eps_deficit=%g > 0",
                            eps_align, eps_deficit);
    gd->ph.eps_align = eps_align;
    gd->ph.eps_deficit = eps_deficit;
    tsrelu__phases_reset(&gd->ph);
    /* the workspace still describes the current iterate: test it now */
    if (gd->evaluated)
        tsrelu__phases_update(&gd->ph, gd->teacher, gd->view.m, gd->view.a, &gd->ws, gd->iter);
    return TSRELU_OK;
}

TSRELU_API int tsrelu_gd_phase(const tsrelu_gd *gd)
{
    return gd ? gd->ph.phase : 0;
}

TSRELU_API tsrelu_status tsrelu_gd_phase_times(const tsrelu_gd *gd, int64_t *t1, int64_t *t2)
{
    NEED_GD("tsrelu_gd_phase_times");
    if (t1)
        *t1 = gd->ph.t1;
    if (t2)
        *t2 = gd->ph.t2;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_groups(const tsrelu_gd *gd, int initial, int *tau, size_t len)
{
    NEED_GD("tsrelu_gd_groups");
    if (!tau)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_groups: tau is NULL");
    tsrelu_status st = tsrelu__check_len(len, gd->view.m, "tsrelu_gd_groups: tau");
    if (st != TSRELU_OK)
        return st;
    memcpy(tau, initial ? gd->ph.tau0 : gd->ph.tau, len * sizeof(int));
    return TSRELU_OK;
}

TSRELU_API size_t tsrelu_gd_group_switches(const tsrelu_gd *gd)
{
    return gd ? gd->ph.switches : 0;
}

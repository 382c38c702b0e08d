/* Gradient flow dW/dt = -grad L (and da/dt = -dL/da when the output weights
 * train), integrated by SUNDIALS CVODE (BDF, variable order and step). The
 * right-hand side is tsrelu__evaluate, the same evaluation as a GD step;
 * the Jacobian is minus the closed-form Hessian (hessian.c).
 *
 * The integrator is driven one internal step at a time (CV_ONE_STEP) with a
 * stop time at the run's end: schedule points inside a step are read from
 * CVODE's interpolant (CVodeGetDky, to the integration's accuracy), the
 * stopping tolerances and the interrupt flag are tested after every step.
 * A run stopped at an interpolated time moves the state there, and the next
 * run restarts CVODE from it (CVodeReInit allocates nothing).
 *
 * Every CVODE object (context, vectors, matrix, linear solver) is made at
 * creation or when a setting changes the system's size or solver: a run
 * allocates nothing. CVODE's error handler is replaced by one that keeps the
 * message for tsrelu_last_error(); the library never prints.
 *
 * Re-entrancy as for a GD state (gd.c): a run holds the guard; callbacks
 * may read, mutating calls get TSRELU_EBUSY, a free is deferred. */
#include "flow.h"
#include "hessian.h"
#include "model.h"
#include "phases.h"
#include "record.h"
#include "kernel.h"
#include "lapack_ls.h"
#include "status.h"

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_spgmr.h>
#include <sunmatrix/sunmatrix_dense.h>

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { GUARD_BUSY = 1, GUARD_FREE_PENDING = 2 };

/* Systems up to this size (m*d, plus m when a trains) use the dense direct
 * solver, larger ones matrix-free SPGMR. A choice, not a measured crossover
 * (8 MB of Jacobian; unpreconditioned GMRES is slow late, docs/flow.md). */
#define DENSE_MAX 1024

/* A schedule over time: point 0 is t = 0, then j*N (linear) or 10^(j/P)
 * (log, j >= 0 for point j + 1). */
typedef struct {
    int kind;
    uint64_t param;
    int64_t idx;  /* the next point */
    double next;  /* its time (INFINITY without a schedule) */
} tschedule;

struct tsrelu_flow {
    tsrelu_teacher *teacher;   /* owned copy */
    tsrelu_student view;       /* the state at time t; W, a point into y or obs */
    size_t m, d, n;            /* n: length of the ODE system */
    double t;                  /* time of the state */
    unsigned flags;
    double rtol, atol;
    double tol_loss, tol_grad;
    double *a_fixed;           /* m: output weights when they do not train */

    SUNContext ctx;
    void *cv;
    N_Vector y;                /* the state (CVODE's output of the latest step) */
    N_Vector obs;              /* an interpolated state */
    SUNMatrix J;               /* dense solver only */
    SUNLinearSolver ls;
    int solver;                /* TSRELU_FLOW_DENSE or TSRELU_FLOW_KRYLOV */
    int initialised;           /* CVodeInit done */
    int restart;               /* CVODE's internal time is not the state's: reinit */
    uint64_t base[TSRELU_FLOW_NSTATS]; /* counters of earlier CVODE starts */
    char cv_msg[200];          /* CVODE's latest error message */

    tsrelu__ws ws;
    tsrelu__hess_ws hws;       /* the analytic Jacobian's (Hessian) workspace */
    void *quad;                /* scratch of the quad-precision gradient */
    double *gW, *ga;           /* the gradient at the state (ga: m) */
    double loss, gnorm;
    int evaluated;             /* loss and gnorm belong to the state */
    int rhs_failed;            /* the latest RHS evaluation was not finite */
    uint64_t dq_rhs;           /* gradients of dq_jacobian, over the flow's life */
    unsigned hflags;           /* the Hessian's variables (TSRELU_HESSIAN_OUTPUT) */

    tsrelu_flow_observer_fn obs_fn;
    void *obs_ud;
    tschedule sched;
    int observed_any;
    double last_observed;

    tsrelu_record *rec;        /* attached recorder (record.c), not owned */
    tschedule rec_sched;
    tsrelu__phases ph;         /* deficits and group sizes of recorded points */
    uint64_t recorded;         /* points handed to the recorder */
    int recorded_any;
    double last_recorded;      /* time of the latest */

    int stop_value, stop_reason;
    atomic_int guard;
    atomic_int interrupt;
};

/* ---------------- CVODE plumbing ---------------- */

static void silent_handler(int code, const char *module, const char *function, char *msg, void *ud)
{
    tsrelu_flow *fl = ud;
    snprintf(fl->cv_msg, sizeof fl->cv_msg, "%s %s (%d): %s", module ? module : "CVODE",
             function ? function : "", code, msg ? msg : "");
}

static int rhs(realtype t, N_Vector y, N_Vector ydot, void *ud)
{
    tsrelu_flow *fl = ud;
    (void)t;
    const double *W = N_VGetArrayPointer(y);
    double *out = N_VGetArrayPointer(ydot);
    size_t md = fl->m * fl->d;
    int train = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) != 0;
    const double *a = train ? W + md : fl->a_fixed;
    if (fl->flags & TSRELU_FLOW_ACCURATE) {
        tsrelu__gradient_accurate_in(fl->m, W, a, fl->teacher, fl->quad, out, train ? out + md : NULL);
        if (!tsrelu__all_finite(out, fl->n)) {
            fl->rhs_failed = 1;
            return 1;
        }
        for (size_t i = 0; i < fl->n; i++)
            out[i] = -out[i];
        return 0;
    }
    tsrelu__eval req = {NULL, out, train ? out + md : NULL, TSRELU__CHECK_GRADIENT, TSRELU_EDIVERGED};
    if (tsrelu__evaluate(&fl->ws, fl->teacher, W, a, &req) != TSRELU_OK) {
        fl->rhs_failed = 1;
        return 1; /* recoverable: CVODE tries a smaller step */
    }
    for (size_t i = 0; i < fl->n; i++)
        out[i] = -out[i];
    return 0;
}

/* The dense Jacobian -Hessian by forward differences of the gradient, one
 * column per gradient, with CVODE's increments (cvLsDenseDQJac); written
 * here because CVODE's own allocates a vector header at every call and a
 * run must not allocate. */
static int dq_jacobian(realtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *ud, N_Vector tmp1, N_Vector tmp2,
                       N_Vector tmp3)
{
    tsrelu_flow *fl = ud;
    (void)tmp3;
    double h = 0.0, *yd = N_VGetArrayPointer(y), *f1 = N_VGetArrayPointer(tmp1);
    const double *f0 = N_VGetArrayPointer(fy), *ewt = N_VGetArrayPointer(tmp2);
    size_t n = fl->n;
    if (CVodeGetErrWeights(fl->cv, tmp2) != CV_SUCCESS || CVodeGetCurrentStep(fl->cv, &h) != CV_SUCCESS)
        return -1;
    const double uround = 2.220446049250313e-16, srur = sqrt(uround);
    double fnorm = N_VWrmsNorm(fy, tmp2);
    double min_inc = fnorm != 0.0 ? 1000.0 * fabs(h) * uround * (double)n * fnorm : 1.0;
    for (size_t j = 0; j < n; j++) {
        double yj = yd[j], inc = fmax(srur * fabs(yj), min_inc / ewt[j]);
        yd[j] += inc;
        int rv = rhs(t, y, tmp1, fl);
        fl->dq_rhs++;
        yd[j] = yj;
        if (rv != 0)
            return rv;
        double *col = SUNDenseMatrix_Column(J, (sunindextype)j), inv = 1.0 / inc;
        for (size_t i = 0; i < n; i++)
            col[i] = (f1[i] - f0[i]) * inv;
    }
    return 0;
}

/* The closed-form Hessian (hessian.c) prepared at y: J = -H. */
static unsigned prepare_hessian(tsrelu_flow *fl, N_Vector y)
{
    const double *W = N_VGetArrayPointer(y);
    int train = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) != 0;
    tsrelu__hess_prepare(&fl->hws, W, train ? W + fl->m * fl->d : fl->a_fixed, fl->teacher);
    return train ? TSRELU_HESSIAN_OUTPUT : 0u;
}

/* J = -H, dense: H is exactly symmetric, so its row-major layout is the
 * column-major one SUNDenseMatrix stores. */
static int hessian_jacobian(realtype t, N_Vector y, N_Vector fy, SUNMatrix J, void *ud, N_Vector tmp1,
                            N_Vector tmp2, N_Vector tmp3)
{
    tsrelu_flow *fl = ud;
    (void)t, (void)fy, (void)tmp1, (void)tmp2, (void)tmp3;
    double *H = SUNDenseMatrix_Data(J);
    size_t nn = fl->n * fl->n;
    tsrelu__hess_dense(&fl->hws, prepare_hessian(fl, y), H, fl->n);
    for (size_t i = 0; i < nn; i++)
        H[i] = -H[i];
    return tsrelu__all_finite(H, nn) ? 0 : 1;
}

static int hessian_setup(realtype t, N_Vector y, N_Vector fy, void *ud)
{
    tsrelu_flow *fl = ud;
    (void)t, (void)fy;
    fl->hflags = prepare_hessian(fl, y);
    return 0;
}

/* Jv = -H v at the point of the latest hessian_setup. */
static int hessian_times(N_Vector v, N_Vector Jv, realtype t, N_Vector y, N_Vector fy, void *ud, N_Vector tmp)
{
    tsrelu_flow *fl = ud;
    (void)t, (void)y, (void)fy, (void)tmp;
    double *out = N_VGetArrayPointer(Jv);
    tsrelu__hess_vector(&fl->hws, fl->hflags, N_VGetArrayPointer(v), out);
    for (size_t i = 0; i < fl->n; i++)
        out[i] = -out[i];
    return tsrelu__all_finite(out, fl->n) ? 0 : 1;
}

/* The linear solver of the Newton iterations and its Jacobian: the
 * closed-form Hessian (dense J, or J v for SPGMR), or with
 * TSRELU_FLOW_DQ_JACOBIAN difference quotients of the gradient. */
static int attach_linear_solver(tsrelu_flow *fl)
{
    int dq = (fl->flags & TSRELU_FLOW_DQ_JACOBIAN) != 0;
    if (fl->solver == TSRELU_FLOW_DENSE) {
        if (CVodeSetLinearSolver(fl->cv, fl->ls, fl->J) != CV_SUCCESS)
            return -1;
        return CVodeSetJacFn(fl->cv, dq ? dq_jacobian : hessian_jacobian) == CV_SUCCESS ? 0 : -1;
    }
    if (CVodeSetLinearSolver(fl->cv, fl->ls, NULL) != CV_SUCCESS)
        return -1;
    return CVodeSetJacTimes(fl->cv, dq ? NULL : hessian_setup, dq ? NULL : hessian_times) == CV_SUCCESS ? 0 : -1;
}

static void release_cvode(tsrelu_flow *fl)
{
    if (fl->cv)
        CVodeFree(&fl->cv);
    if (fl->ls)
        SUNLinSolFree(fl->ls);
    if (fl->J)
        SUNMatDestroy(fl->J);
    if (fl->y)
        N_VDestroy(fl->y);
    if (fl->obs)
        N_VDestroy(fl->obs);
    fl->ls = NULL;
    fl->J = NULL;
    fl->y = fl->obs = NULL;
    fl->initialised = 0;
}

static int solver_of(unsigned flags, size_t n)
{
    if (flags & TSRELU_FLOW_DENSE)
        return TSRELU_FLOW_DENSE;
    if (flags & TSRELU_FLOW_KRYLOV)
        return TSRELU_FLOW_KRYLOV;
    return n <= DENSE_MAX ? TSRELU_FLOW_DENSE : TSRELU_FLOW_KRYLOV;
}

static tsrelu_status cv_fail(tsrelu_flow *fl, tsrelu_status st, const char *fn, const char *what, int flag)
{
    return tsrelu__fail(st, "%s: %s failed (CVODE flag %d%s%s)", fn, what, flag, fl->cv_msg[0] ? ": " : "",
                        fl->cv_msg);
}

/* Build the CVODE objects for the system given by fl->flags, starting from
 * (W, a) at time fl->t. */
static tsrelu_status build_cvode(tsrelu_flow *fl, const char *fn, const double *W, const double *a)
{
    size_t m = fl->m, md = m * fl->d;
    int train = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) != 0;
    size_t n = md + (train ? m : 0);
    release_cvode(fl);
    fl->n = n;
    fl->solver = solver_of(fl->flags, n);
    fl->cv_msg[0] = 0;
    if (fl->solver == TSRELU_FLOW_DENSE && n > (size_t)1 << 30)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: a dense Jacobian of %zu unknowns does not fit", fn, n);
    fl->y = N_VNew_Serial((sunindextype)n, fl->ctx);
    fl->obs = N_VNew_Serial((sunindextype)n, fl->ctx);
    fl->cv = CVodeCreate(CV_BDF, fl->ctx);
    if (!fl->y || !fl->obs || !fl->cv) {
        release_cvode(fl);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for CVODE (n=%zu)", fn, n);
    }
    CVodeSetErrHandlerFn(fl->cv, silent_handler, fl);
    double *y = N_VGetArrayPointer(fl->y);
    memcpy(y, W, md * sizeof(double));
    if (train)
        memcpy(y + md, a, m * sizeof(double));
    if (a != fl->a_fixed)
        memcpy(fl->a_fixed, a, m * sizeof(double));
    int flag = CVodeInit(fl->cv, rhs, fl->t, fl->y);
    if (flag != CV_SUCCESS) {
        release_cvode(fl);
        return cv_fail(fl, flag == CV_MEM_FAIL ? TSRELU_ENOMEM : TSRELU_EINVAL, fn, "CVodeInit", flag);
    }
    if (fl->solver == TSRELU_FLOW_DENSE) {
        fl->J = SUNDenseMatrix((sunindextype)n, (sunindextype)n, fl->ctx);
        fl->ls = fl->J ? tsrelu__lapack_dense(n, fl->ctx) : NULL;
    } else {
        fl->ls = SUNLinSol_SPGMR(fl->y, SUN_PREC_NONE, 0, fl->ctx);
    }
    if (!fl->ls || CVodeSetUserData(fl->cv, fl) != CV_SUCCESS ||
        CVodeSStolerances(fl->cv, fl->rtol, fl->atol) != CV_SUCCESS || attach_linear_solver(fl) != 0 ||
        CVodeSetMaxNumSteps(fl->cv, -1) != CV_SUCCESS) {
        release_cvode(fl);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for CVODE's linear solver (n=%zu)", fn, n);
    }
    fl->initialised = 1;
    fl->restart = 0;
    memset(fl->base, 0, sizeof fl->base);
    fl->view.W = y;
    fl->view.a = train ? y + md : fl->a_fixed;
    fl->evaluated = 0;
    return TSRELU_OK;
}

/* CVODE's counters since its latest (re)start, in TSRELU_FLOW_STAT_* order. */
static void counters(const tsrelu_flow *fl, uint64_t *c)
{
    long v[TSRELU_FLOW_NSTATS] = {0};
    if (fl->initialised) {
        CVodeGetNumSteps(fl->cv, &v[TSRELU_FLOW_STAT_STEPS]);
        CVodeGetNumRhsEvals(fl->cv, &v[TSRELU_FLOW_STAT_RHS]);
        CVodeGetNumLinRhsEvals(fl->cv, &v[TSRELU_FLOW_STAT_LIN_RHS]);
        CVodeGetNumJacEvals(fl->cv, &v[TSRELU_FLOW_STAT_JAC]);
        CVodeGetNumJtimesEvals(fl->cv, &v[TSRELU_FLOW_STAT_JTIMES]);
        CVodeGetNumLinIters(fl->cv, &v[TSRELU_FLOW_STAT_LIN_ITERS]);
        CVodeGetNumErrTestFails(fl->cv, &v[TSRELU_FLOW_STAT_ERR_FAILS]);
        CVodeGetNumNonlinSolvConvFails(fl->cv, &v[TSRELU_FLOW_STAT_CONV_FAILS]);
    }
    for (int i = 0; i < TSRELU_FLOW_NSTATS; i++)
        c[i] = v[i] > 0 ? (uint64_t)v[i] : 0;
}

/* Restart CVODE from the state (its internal time is elsewhere, or a
 * setting changed); the counters so far are kept. */
static tsrelu_status restart(tsrelu_flow *fl, const char *fn)
{
    uint64_t c[TSRELU_FLOW_NSTATS];
    counters(fl, c);
    double *y = N_VGetArrayPointer(fl->y);
    size_t md = fl->m * fl->d;
    if (fl->view.W != y) {
        memcpy(y, fl->view.W, md * sizeof(double));
        if (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT)
            memcpy(y + md, fl->view.a, fl->m * sizeof(double));
        fl->view.W = y;
        fl->view.a = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) ? y + md : fl->a_fixed;
    }
    int flag = CVodeReInit(fl->cv, fl->t, fl->y);
    if (flag == CV_SUCCESS)
        flag = CVodeSStolerances(fl->cv, fl->rtol, fl->atol);
    if (flag != CV_SUCCESS)
        return cv_fail(fl, TSRELU_EINVAL, fn, "CVodeReInit", flag);
    for (int i = 0; i < TSRELU_FLOW_NSTATS; i++)
        fl->base[i] += c[i];
    fl->restart = 0;
    return TSRELU_OK;
}

/* ---------------- schedules over time ---------------- */

static double point_time(const tschedule *s, int64_t idx)
{
    if (idx <= 0)
        return 0.0;
    if (s->kind == TSRELU_SCHEDULE_LINEAR)
        return (double)idx * (double)s->param;
    return pow(10.0, (double)(idx - 1) / (double)s->param);
}

/* Point the schedule at its first point >= t (> t when `after`). */
static void seek(tschedule *s, double t, int after)
{
    if (!s->kind) {
        s->next = INFINITY;
        return;
    }
    int64_t idx = 0;
    if (t > 0.0) { /* start a little below, then step */
        double j = s->kind == TSRELU_SCHEDULE_LINEAR ? floor(t / (double)s->param)
                                                      : floor((double)s->param * log10(t)) + 1.0;
        idx = j > 2.0 ? (int64_t)(j - 2.0) : 0;
    }
    while (point_time(s, idx) < t || (after && point_time(s, idx) == t))
        idx++;
    s->idx = idx;
    s->next = point_time(s, idx);
}

static void advance_sched(tschedule *s)
{
    s->idx++;
    s->next = point_time(s, s->idx);
}

static tsrelu_status sched_init(const char *fn, int schedule, uint64_t param, double t, tschedule *s)
{
    tsrelu__schedule check;
    tsrelu_status st = tsrelu__schedule_init(fn, schedule, param, &check);
    if (st != TSRELU_OK)
        return st;
    s->kind = schedule;
    s->param = param;
    seek(s, t, 0);
    return TSRELU_OK;
}

/* ---------------- creation and settings ---------------- */

static void flow_destroy(tsrelu_flow *fl)
{
    if (!fl)
        return;
    if (fl->rec)
        tsrelu__record_detached(fl->rec);
    release_cvode(fl);
    if (fl->ctx)
        SUNContext_Free(&fl->ctx);
    tsrelu__teacher_destroy(fl->teacher);
    free(fl->a_fixed);
    free(fl->gW);
    free(fl->ga);
    tsrelu__ws_free(&fl->ws);
    tsrelu__hess_free(&fl->hws);
    free(fl->quad);
    tsrelu__phases_free(&fl->ph);
    free(fl);
}

TSRELU_API void tsrelu_flow_free(tsrelu_flow *fl)
{
    if (fl && !(atomic_fetch_or(&fl->guard, GUARD_FREE_PENDING) & GUARD_BUSY))
        flow_destroy(fl);
}

static tsrelu_status check_accuracy(const char *fn, double rtol, double atol)
{
    if (!isfinite(rtol) || !isfinite(atol))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: rtol=%g, atol=%g must be finite", fn, rtol, atol);
    if (!(rtol >= 0.0) || !(atol >= 0.0) || (rtol == 0.0 && atol == 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: rtol=%g and atol=%g must be >= 0, not both 0", fn, rtol, atol);
    return TSRELU_OK;
}

static tsrelu_status busy(const char *fn);

#define KNOWN_FLAGS                                                                                     \
    (TSRELU_FLOW_TRAIN_OUTPUT | TSRELU_FLOW_DENSE | TSRELU_FLOW_KRYLOV | TSRELU_FLOW_DQ_JACOBIAN |         \
     TSRELU_FLOW_ACCURATE)

static tsrelu_status check_flags(const char *fn, unsigned flags)
{
    if (flags & ~KNOWN_FLAGS)
        return tsrelu__fail(TSRELU_EINVAL, "%s: unknown flags 0x%x", fn, flags & ~KNOWN_FLAGS);
    if ((flags & TSRELU_FLOW_DENSE) && (flags & TSRELU_FLOW_KRYLOV))
        return tsrelu__fail(TSRELU_EINVAL, "%s: TSRELU_FLOW_DENSE and TSRELU_FLOW_KRYLOV exclude each other", fn);
    return TSRELU_OK;
}

static tsrelu_status evaluate_state(tsrelu_flow *fl, tsrelu_status nonfinite);

TSRELU_API tsrelu_status tsrelu_flow_create(const tsrelu_teacher *t, const tsrelu_student *s0, double rtol,
                                            double atol, tsrelu_flow **out)
{
    const char *fn = "tsrelu_flow_create";
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    tsrelu_status st = tsrelu__check_pair(fn, s0, t);
    if (st == TSRELU_OK)
        st = check_accuracy(fn, rtol, atol);
    if (st == TSRELU_OK)
        st = tsrelu__check_blas(fn, s0->m, t->k, t->d);
    if (st != TSRELU_OK)
        return st;
    size_t m = s0->m, md = m * s0->d;
    tsrelu_flow *fl = calloc(1, sizeof *fl);
    if (!fl)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    atomic_init(&fl->guard, 0);
    atomic_init(&fl->interrupt, 0);
    fl->m = m;
    fl->d = s0->d;
    fl->rtol = rtol;
    fl->atol = atol;
    fl->view.m = m;
    fl->view.d = s0->d;
    fl->a_fixed = malloc(m * sizeof(double));
    fl->gW = malloc(md * sizeof(double));
    fl->ga = malloc(m * sizeof(double));
    size_t nq = tsrelu__gradient_accurate_len(m, t->k, t->d); /* m*d checked: no overflow */
    fl->quad = malloc(nq * sizeof(tsrelu_quad));
    if (!fl->a_fixed || !fl->gW || !fl->ga || !fl->quad) {
        flow_destroy(fl);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for m=%zu, d=%zu", fn, m, s0->d);
    }
    if ((st = tsrelu__teacher_clone(t, &fl->teacher)) != TSRELU_OK ||
        (st = tsrelu__ws_alloc(&fl->ws, m, t->k, t->d)) != TSRELU_OK ||
        (st = tsrelu__hess_alloc(&fl->hws, m, t->k, t->d, 1)) != TSRELU_OK ||
        (st = tsrelu__phases_alloc(&fl->ph, m, t->k)) != TSRELU_OK) {
        flow_destroy(fl);
        return st;
    }
    if (SUNContext_Create(NULL, &fl->ctx) != 0) {
        flow_destroy(fl);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: SUNContext_Create failed", fn);
    }
    if ((st = build_cvode(fl, fn, s0->W, s0->a)) != TSRELU_OK ||
        (st = evaluate_state(fl, TSRELU_ENONFINITE)) != TSRELU_OK) {
        flow_destroy(fl);
        return tsrelu__context(st, "%s", fn);
    }
    fl->sched.next = fl->rec_sched.next = INFINITY;
    *out = fl;
    return TSRELU_OK;
}

static tsrelu_status busy(const char *fn)
{
    return tsrelu__fail(TSRELU_EBUSY, "%s: the flow is in a run (a call from its own callback)", fn);
}

/* A mutating call: the flow exists and no run holds it. */
tsrelu_status tsrelu__flow_idle(const tsrelu_flow *fl, const char *fn)
{
    if (!fl)
        return tsrelu__fail(TSRELU_EINVAL, "%s: fl is NULL", fn);
    if (atomic_load(&fl->guard) & GUARD_BUSY)
        return busy(fn);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_flow_set_flags(tsrelu_flow *fl, unsigned flags)
{
    const char *fn = "tsrelu_flow_set_flags";
    tsrelu_status st = tsrelu__flow_idle(fl, fn);
    if (st == TSRELU_OK)
        st = check_flags(fn, flags);
    if (st != TSRELU_OK || flags == fl->flags)
        return st;
    unsigned old = fl->flags;
    uint64_t c[TSRELU_FLOW_NSTATS];
    counters(fl, c);
    /* the state moves into the new system's vector */
    size_t md = fl->m * fl->d;
    double *W = malloc((md + fl->m) * sizeof(double));
    if (!W)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    memcpy(W, fl->view.W, md * sizeof(double));
    memcpy(W + md, fl->view.a, fl->m * sizeof(double));
    fl->flags = flags;
    st = build_cvode(fl, fn, W, W + md);
    if (st == TSRELU_OK)
        st = evaluate_state(fl, TSRELU_ENONFINITE);
    if (st != TSRELU_OK) { /* back to the old system */
        fl->flags = old;
        if (build_cvode(fl, fn, W, W + md) != TSRELU_OK)
            fl->initialised = 0;
    }
    free(W);
    for (int i = 0; i < TSRELU_FLOW_NSTATS; i++)
        fl->base[i] += c[i];
    return st;
}

TSRELU_API unsigned tsrelu_flow_flags(const tsrelu_flow *fl)
{
    return fl ? fl->flags : 0u;
}

TSRELU_API int tsrelu_flow_solver(const tsrelu_flow *fl)
{
    return fl ? fl->solver : 0;
}

TSRELU_API tsrelu_status tsrelu_flow_set_accuracy(tsrelu_flow *fl, double rtol, double atol)
{
    const char *fn = "tsrelu_flow_set_accuracy";
    tsrelu_status st = tsrelu__flow_idle(fl, fn);
    if (st == TSRELU_OK)
        st = check_accuracy(fn, rtol, atol);
    if (st == TSRELU_OK) {
        fl->rtol = rtol;
        fl->atol = atol;
        fl->restart = 1;
    }
    return st;
}

TSRELU_API tsrelu_status tsrelu_flow_accuracy(const tsrelu_flow *fl, double *rtol, double *atol)
{
    if (!fl)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_flow_accuracy: fl is NULL");
    if (rtol)
        *rtol = fl->rtol;
    if (atol)
        *atol = fl->atol;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_flow_set_tolerances(tsrelu_flow *fl, double loss_tol, double grad_tol)
{
    const char *fn = "tsrelu_flow_set_tolerances";
    tsrelu_status st = tsrelu__flow_idle(fl, fn);
    if (st != TSRELU_OK)
        return st;
    if (!(loss_tol >= 0.0) || !(grad_tol >= 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: loss_tol=%g and grad_tol=%g must be >= 0", fn, loss_tol,
                            grad_tol);
    fl->tol_loss = loss_tol;
    fl->tol_grad = grad_tol;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_flow_tolerances(const tsrelu_flow *fl, double *loss_tol, double *grad_tol)
{
    if (!fl)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_flow_tolerances: fl is NULL");
    if (loss_tol)
        *loss_tol = fl->tol_loss;
    if (grad_tol)
        *grad_tol = fl->tol_grad;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_flow_set_observer(tsrelu_flow *fl, tsrelu_flow_observer_fn fn, void *user_data,
                                                  int schedule, uint64_t param)
{
    const char *name = "tsrelu_flow_set_observer";
    tsrelu_status st = tsrelu__flow_idle(fl, name);
    if (st != TSRELU_OK)
        return st;
    tschedule s = {0, 0, 0, INFINITY};
    if (fn && (st = sched_init(name, schedule, param, fl->t, &s)) != TSRELU_OK)
        return st;
    fl->obs_fn = fn;
    fl->obs_ud = fn ? user_data : NULL;
    fl->sched = s;
    fl->observed_any = 0;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_flow_interrupt(tsrelu_flow *fl)
{
    if (!fl) /* async-signal-safe: no message */
        return TSRELU_EINVAL;
    atomic_store_explicit(&fl->interrupt, 1, memory_order_relaxed);
    return TSRELU_OK;
}

/* ---------------- the run ---------------- */

/* Loss, gradient and its norm at the state (the view). */
static tsrelu_status evaluate_state(tsrelu_flow *fl, tsrelu_status nonfinite)
{
    if (fl->evaluated)
        return TSRELU_OK;
    int train = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) != 0;
    tsrelu__eval req = {&fl->loss, fl->gW, train ? fl->ga : NULL, TSRELU__CHECK_GRADIENT, nonfinite};
    tsrelu_status st = tsrelu__evaluate(&fl->ws, fl->teacher, fl->view.W, fl->view.a, &req);
    if (st != TSRELU_OK)
        return tsrelu__context(st, "time %g", fl->t);
    double gw = tsrelu__norm(fl->gW, fl->m * fl->d), ga = train ? tsrelu__norm(fl->ga, fl->m) : 0.0;
    fl->gnorm = ga == 0.0 ? gw : hypot(gw, ga);
    fl->evaluated = 1;
    return TSRELU_OK;
}

static int converged(const tsrelu_flow *fl)
{
    if (fl->tol_loss > 0.0 && fl->loss <= fl->tol_loss)
        return TSRELU_STOP_LOSS_TOL;
    if (fl->tol_grad > 0.0 && fl->gnorm <= fl->tol_grad)
        return TSRELU_STOP_GRAD_TOL;
    return 0;
}

/* Move the state to the interpolated time tq (inside the latest step). */
static tsrelu_status interpolate(tsrelu_flow *fl, double tq)
{
    int flag = CVodeGetDky(fl->cv, tq, 0, fl->obs);
    if (flag != CV_SUCCESS)
        return cv_fail(fl, TSRELU_EDIVERGED, "tsrelu_flow_run", "CVodeGetDky", flag);
    double *o = N_VGetArrayPointer(fl->obs);
    fl->view.W = o;
    fl->view.a = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) ? o + fl->m * fl->d : fl->a_fixed;
    fl->t = tq;
    fl->evaluated = 0;
    fl->restart = 1;
    return TSRELU_OK;
}

/* Back to the integrator's own state at time tc. */
static void to_step(tsrelu_flow *fl, double tc)
{
    double *y = N_VGetArrayPointer(fl->y);
    if (fl->view.W != y || fl->t != tc) {
        fl->view.W = y;
        fl->view.a = (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) ? y + fl->m * fl->d : fl->a_fixed;
        fl->evaluated = 0;
    }
    fl->t = tc;
    fl->restart = 0;
}

/* The recorder's row and the observer's call at the state, as due. */
static tsrelu_status visit(tsrelu_flow *fl, int obs_due, int rec_due)
{
    tsrelu_status st = evaluate_state(fl, TSRELU_EDIVERGED);
    if (st != TSRELU_OK)
        return st;
    if (fl->rec && rec_due && !(fl->recorded_any && fl->last_recorded == fl->t)) {
        fl->recorded_any = 1;
        fl->last_recorded = fl->t;
        tsrelu__phases_update(&fl->ph, fl->teacher, fl->m, fl->view.a, &fl->ws, fl->recorded);
        tsrelu__phases_deficits(&fl->ph, fl->teacher, fl->m, fl->view.a, &fl->ws);
        tsrelu__record_point pt = {fl->recorded, fl->loss, fl->gnorm, &fl->view, fl->teacher, &fl->ws, &fl->ph,
                                   fl->t};
        fl->recorded++;
        int rv = tsrelu__record_take(fl->rec, &pt); /* only the event callback runs in there */
        if (rv != 0 || (atomic_load_explicit(&fl->guard, memory_order_relaxed) & GUARD_FREE_PENDING)) {
            fl->stop_value = rv;
            fl->stop_reason = TSRELU_STOP_EVENT;
            return TSRELU_STOPPED;
        }
    }
    if (fl->obs_fn && obs_due && !(fl->observed_any && fl->last_observed == fl->t)) {
        fl->observed_any = 1;
        fl->last_observed = fl->t;
        int rv = fl->obs_fn(fl, fl->obs_ud);
        if (rv != 0 || (atomic_load_explicit(&fl->guard, memory_order_relaxed) & GUARD_FREE_PENDING)) {
            fl->stop_value = rv;
            fl->stop_reason = TSRELU_STOP_OBSERVER;
            return TSRELU_STOPPED;
        }
    }
    return TSRELU_OK;
}

/* Every schedule point up to time tc (inclusive), in order. */
static tsrelu_status visit_points(tsrelu_flow *fl, double tc)
{
    while (fl->sched.next <= tc || fl->rec_sched.next <= tc) {
        double tq = fmin(fl->sched.next, fl->rec_sched.next);
        int o = fl->sched.next == tq, r = fl->rec_sched.next == tq;
        if (o)
            advance_sched(&fl->sched);
        if (r)
            advance_sched(&fl->rec_sched);
        tsrelu_status st = tq == fl->t ? TSRELU_OK : interpolate(fl, tq);
        if (st == TSRELU_OK)
            st = visit(fl, o, r);
        if (st != TSRELU_OK)
            return st;
    }
    return TSRELU_OK;
}

static tsrelu_status step_failed(tsrelu_flow *fl, int flag)
{
    fl->restart = 1;
    if (flag == CV_MEM_FAIL)
        return cv_fail(fl, TSRELU_ENOMEM, "tsrelu_flow_run", "CVode", flag);
    if (fl->rhs_failed || flag == CV_RHSFUNC_FAIL || flag == CV_FIRST_RHSFUNC_ERR ||
        flag == CV_REPTD_RHSFUNC_ERR || flag == CV_UNREC_RHSFUNC_ERR)
        return tsrelu__fail(TSRELU_EDIVERGED,
                            "tsrelu_flow_run: the gradient is not finite near time %g; the state keeps time %g "
                            "(CVODE flag %d)", fl->t, fl->t, flag);
    return tsrelu__fail(TSRELU_EDIVERGED,
                        "tsrelu_flow_run: CVODE failed after time %g (flag %d: %s); the state keeps time %g; "
                        "loosen rtol/atol or check the input", fl->t, flag, fl->cv_msg, fl->t);
}

static tsrelu_status run_body(tsrelu_flow *fl, double t_end)
{
    tsrelu_status st;
    if (fl->restart && (st = restart(fl, "tsrelu_flow_run")) != TSRELU_OK)
        return st;
    /* the state itself, when it is a schedule point */
    if ((st = visit_points(fl, fl->t)) != TSRELU_OK)
        return st;
    for (;;) {
        int done = 0;
        if (fl->tol_loss > 0.0 || fl->tol_grad > 0.0) {
            if ((st = evaluate_state(fl, TSRELU_EDIVERGED)) != TSRELU_OK)
                return st;
            done = converged(fl);
        }
        int last = done || fl->t >= t_end;
        if (last) {
            if ((st = visit(fl, 1, fl->rec != NULL)) != TSRELU_OK)
                return st;
            if (done) {
                fl->stop_reason = done;
                return TSRELU_CONVERGED;
            }
            return TSRELU_OK;
        }
        if (atomic_load_explicit(&fl->interrupt, memory_order_relaxed))
            return (st = evaluate_state(fl, TSRELU_EDIVERGED)) != TSRELU_OK ? st : TSRELU_INTERRUPTED;
        if (CVodeSetStopTime(fl->cv, t_end) != CV_SUCCESS)
            return cv_fail(fl, TSRELU_EINVAL, "tsrelu_flow_run", "CVodeSetStopTime", -1);
        double tc = fl->t;
        fl->rhs_failed = 0;
        int flag = CVode(fl->cv, t_end, fl->y, &tc, CV_ONE_STEP);
        if (flag < 0)
            return step_failed(fl, flag);
        if (flag == CV_TSTOP_RETURN)
            tc = t_end;
        /* the points inside the step, then the step's own end */
        if ((st = visit_points(fl, tc)) != TSRELU_OK)
            return st;
        to_step(fl, tc);
    }
}

TSRELU_API tsrelu_status tsrelu_flow_run(tsrelu_flow *fl, double t_end)
{
    const char *fn = "tsrelu_flow_run";
    if (!fl)
        return tsrelu__fail(TSRELU_EINVAL, "%s: fl is NULL", fn);
    if (!isfinite(t_end))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: t_end is %g", fn, t_end);
    int free_ = 0;
    if (!atomic_compare_exchange_strong(&fl->guard, &free_, GUARD_BUSY))
        return busy(fn);
    tsrelu_status st;
    if (t_end < fl->t) {
        st = tsrelu__fail(TSRELU_EINVAL, "%s: t_end=%g is before the flow's time %g", fn, t_end, fl->t);
    } else if (!fl->initialised) {
        st = tsrelu__fail(TSRELU_ENOMEM, "%s: the integrator could not be rebuilt after a failed setting", fn);
    } else {
        atomic_store_explicit(&fl->interrupt, 0, memory_order_relaxed);
        fl->stop_value = 0;
        st = run_body(fl, t_end);
        if (st == TSRELU_OK)
            fl->stop_reason = TSRELU_STOP_STEPS;
        else if (st == TSRELU_INTERRUPTED)
            fl->stop_reason = TSRELU_STOP_INTERRUPT;
        else if (st < 0)
            fl->stop_reason = TSRELU_STOP_ERROR;
    }
    if (atomic_exchange(&fl->guard, 0) & GUARD_FREE_PENDING)
        flow_destroy(fl);
    return st;
}

/* ---------------- getters ---------------- */

TSRELU_API double tsrelu_flow_time(const tsrelu_flow *fl)
{
    return fl ? fl->t : 0.0;
}

TSRELU_API const tsrelu_student *tsrelu_flow_student(const tsrelu_flow *fl)
{
    return fl ? &fl->view : NULL;
}

TSRELU_API const tsrelu_teacher *tsrelu_flow_teacher(const tsrelu_flow *fl)
{
    return fl ? fl->teacher : NULL;
}

TSRELU_API int tsrelu_flow_stop_value(const tsrelu_flow *fl)
{
    return fl ? fl->stop_value : 0;
}

TSRELU_API int tsrelu_flow_stop_reason(const tsrelu_flow *fl)
{
    return fl ? fl->stop_reason : TSRELU_STOP_NONE;
}

TSRELU_API tsrelu_status tsrelu_flow_loss(const tsrelu_flow *fl, double *loss)
{
    if (!fl || !loss)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_flow_loss: %s is NULL", fl ? "loss" : "fl");
    if (fl->evaluated) {
        *loss = fl->loss;
        return TSRELU_OK;
    }
    return tsrelu_loss(&fl->view, fl->teacher, loss);
}

TSRELU_API tsrelu_status tsrelu_flow_gradient_norm(const tsrelu_flow *fl, double *norm)
{
    if (!fl || !norm)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_flow_gradient_norm: %s is NULL", fl ? "norm" : "fl");
    if (fl->evaluated) {
        *norm = fl->gnorm;
        return TSRELU_OK;
    }
    return tsrelu__gradient_norm("tsrelu_flow_gradient_norm", &fl->view, fl->teacher,
                                 (fl->flags & TSRELU_FLOW_TRAIN_OUTPUT) != 0, norm);
}

TSRELU_API tsrelu_status tsrelu_flow_statistics(const tsrelu_flow *fl, uint64_t *stats, size_t len)
{
    if (!fl || !stats)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_flow_statistics: %s is NULL", fl ? "stats" : "fl");
    if (len == 0 || len > TSRELU_FLOW_NSTATS)
        return tsrelu__fail(TSRELU_ELENGTH, "tsrelu_flow_statistics: len=%zu must be in 1..%d", len,
                            TSRELU_FLOW_NSTATS);
    uint64_t c[TSRELU_FLOW_NSTATS];
    counters(fl, c);
    c[TSRELU_FLOW_STAT_LIN_RHS] += fl->dq_rhs;
    for (size_t i = 0; i < len; i++)
        stats[i] = fl->base[i] + c[i];
    return TSRELU_OK;
}

/* ---------------- hook of the recorder (record.c) ---------------- */

tsrelu_record *tsrelu__flow_attach(tsrelu_flow *fl, tsrelu_record *r, const tsrelu__schedule *sc)
{
    tsrelu_record *old = fl->rec;
    fl->rec = r;
    fl->rec_sched.kind = 0;
    fl->rec_sched.next = INFINITY;
    if (r) {
        fl->rec_sched.kind = sc->kind;
        fl->rec_sched.param = sc->param;
        seek(&fl->rec_sched, fl->t, 0);
        tsrelu__phases_reset(&fl->ph);
        fl->recorded_any = 0;
    }
    return old;
}

/* Private structures and helpers of libtsrelu. Not installed. */
#ifndef TSRELU_INTERNAL_H
#define TSRELU_INTERNAL_H

#include "tsrelu.h"

#include <stdint.h>
#include <stdatomic.h>
#include <stddef.h>

#include "kernel.h"

/* Quadruple precision for the accurate loss (GCC/Clang on x86-64). */
__extension__ typedef __float128 tsrelu_quad;

struct tsrelu_teacher {
    size_t k, d;
    double *V;        /* k*d */
    double *b;        /* k */
    double *norm;     /* k, |v_j| */
    double *unit;     /* k*d, v_j / |v_j| */
    double kappa_tt;  /* (1/2pi) sum_{j<j'} b_j b_j' |v_j||v_j'| kappa(theta_jj') */
    int owns;         /* 0 for the copy inside a GD state (a view for callers) */
};

struct tsrelu_student {
    size_t m, d;
    double *W;        /* m*d */
    double *a;        /* m */
    int owns;         /* 0 for the views inside a GD state */
};

/* ---- status.c ---- */
/* Record a detailed message for the calling thread and return `s`. */
tsrelu_status tsrelu__fail(tsrelu_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- checks (status.c) ---- */
/* a*b into *out, TSRELU_ENOMEM if it overflows size_t. */
tsrelu_status tsrelu__mul_size(size_t a, size_t b, const char *what, size_t *out);
/* 1 if no entry is NaN or Inf. */
int tsrelu__all_finite(const double *x, size_t n);
/* TSRELU_ENONFINITE naming `what` and the first bad index, else TSRELU_OK. */
tsrelu_status tsrelu__check_finite(const double *x, size_t n, const char *what);
tsrelu_status tsrelu__check_len(size_t got, size_t want, const char *what);
/* The one handle check of every function taking a student and a teacher:
 * TSRELU_EINVAL (NULL), TSRELU_EDIM (d differs), messages prefixed with fn. */
tsrelu_status tsrelu__check_pair(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t);
/* TSRELU_ENOMEM when m, k, d or m + k exceed the BLAS int range. */
tsrelu_status tsrelu__check_blas(const char *fn, size_t m, size_t k, size_t d);

/* ---- rng.c ---- */
typedef struct { uint64_t s[4]; double spare; int has_spare; } tsrelu__rng;
void tsrelu__rng_seed(tsrelu__rng *r, uint64_t seed);
uint64_t tsrelu__rng_next(tsrelu__rng *r);
/* Standard normal variate; identical on every IEEE-754 platform. */
double tsrelu__rng_normal(tsrelu__rng *r);

/* ---- kernel.c: pure mathematics on vectors, no handles ---- */
/* Euclidean norm without spurious overflow or underflow. */
double tsrelu__norm(const double *x, size_t d);
/* kappa(theta) = sin(theta) - theta cos(theta), series near 0. */
double tsrelu__kappa(double theta);
/* Angle between unit vectors p and q given their computed cosine c:
 * acos(c) when |c| is small enough for it to be accurate, else the exact
 * 2 atan2(|p - q|, |p + q|). Also returns sin(theta) and cos(theta). */
double tsrelu__angle_unit(const double *p, const double *q, size_t d, double c,
                          double *sin_out, double *cos_out);
/* Angle between arbitrary non-zero vectors (normalises internally). */
double tsrelu__angle(const double *u, const double *v, size_t d);
/* Pair kernel g(u, v) and its gradient in u (pure maths, for tests and
 * metrics); g = 0 and grad = 0 when u or v is zero. */
double tsrelu__pair_g(const double *u, const double *v, size_t d);
void tsrelu__pair_grad(const double *u, const double *v, size_t d, double *grad);

/* Quadruple-precision versions for the accurate loss. */
tsrelu_quad tsrelu__kappa_q(tsrelu_quad theta);
/* Angle between unit vectors (quad, d entries each). */
tsrelu_quad tsrelu__angle_unit_q(const tsrelu_quad *p, const tsrelu_quad *q, size_t d);
tsrelu_quad tsrelu__sqrt_q(tsrelu_quad x);

/* ---- population.c ---- */
/* Workspace for one evaluation of loss and gradient: everything a step
 * needs, allocated once. */
typedef struct {
    size_t m, k, d;
    double *unit_w;   /* m*d: w_i / |w_i| (0 row for a zero student) */
    double *norm_w;   /* m */
    double *gram;     /* m*(m+k): cos between w_i and u_n */
    double *coef;     /* (m+k)*m, transposed: P_in = a_i c_n (pi - theta_in) / 2pi at [n*m + i] */
    double *radial;   /* m: s_i = a_i sum_n c_n |u_n| sin(theta_in) / 2pi */
    double *kap;      /* m: sum_n c_n |u_n| kappa(theta_in), n != i */
    double *resid;    /* d: r = sum_n c_n u_n */
    int *near;        /* m: nearest teacher (ties: lowest j), -1 if w_i = 0 */
    double *near_theta; /* m: angle to it */
    double *near_cos;   /* m: its cosine */
} tsrelu__ws;

tsrelu_status tsrelu__ws_alloc(tsrelu__ws *ws, size_t m, size_t k, size_t d);
void tsrelu__ws_free(tsrelu__ws *ws);

/* Loss (if loss != NULL), dL/dW (if gW != NULL, m*d) and dL/da (if ga !=
 * NULL, m) at (W, a) for teacher t. No allocation. Returns TSRELU_OK or
 * TSRELU_ENONFINITE when the loss is not finite, or (if check) when a
 * gradient entry is not (a GD step tests its update instead). */
tsrelu_status tsrelu__evaluate(const tsrelu_teacher *t, size_t m, const double *W,
                               const double *a, tsrelu__ws *ws, double *loss,
                               double *gW, double *ga, int check);

/* The nearest teacher of every student of s into tau (m ints, -1 for a zero
 * student): the rule and the computation of the pair pass, so that
 * tsrelu_nearest_teacher, the metrics' groups and the GD state's tracker
 * always agree. Allocates a workspace. */
tsrelu_status tsrelu__nearest(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t, int *tau);

/* ---- metrics.c ---- */
/* H_l = b_l |v_l| - sum over group l of a_i radial_i, with count[l] the
 * group sizes (count may be NULL): the one deficit of the metrics and the
 * phase tracker. */
void tsrelu__deficits(const tsrelu_teacher *t, size_t m, const int *group, const double *a,
                      const double *radial, double *H, size_t *count);

/* ---- phases.c: the GD state's phase tracker ---- */
typedef struct {
    double eps_align, eps_deficit;
    int *tau0, *tau;      /* m: groups at iteration 0 and at the latest */
    double *H;            /* k: projection deficits at the latest */
    double *radial;       /* m: |w_i| cos theta to the nearest teacher, at the latest */
    size_t *count;        /* k: group sizes at the latest */
    int64_t t1, t2;
    int phase;
    int have_tau0;
    size_t switches;
} tsrelu__phases;

tsrelu_status tsrelu__phases_alloc(tsrelu__phases *ph, size_t m, size_t k);
void tsrelu__phases_free(tsrelu__phases *ph);
void tsrelu__phases_reset(tsrelu__phases *ph);
/* Update from the workspace of an evaluation at iteration `iter`. */
void tsrelu__phases_update(tsrelu__phases *ph, const tsrelu_teacher *t, size_t m,
                           const double *a, const tsrelu__ws *ws, uint64_t iter);

/* ---- gd.c: the GD state (struct private to gd.c) ---- */
/* Point j of the log schedule with P points per decade, ceil(10^(j/P)),
 * UINT64_MAX past the uint64 range: the one definition of the observer
 * schedule and of the batch summaries' sample points. */
uint64_t tsrelu__log_point(uint64_t j, uint64_t P);

/* Everything a checkpoint holds, as a flat description: tsrelu__gd_export()
 * fills it with pointers into a live state, tsrelu__gd_restore() builds a
 * state from it without re-validating it as a creation would (a state that
 * could be saved must load). */
typedef struct {
    size_t m, k, d;
    const double *V, *b;          /* teacher, k*d and k */
    const double *W, *a;          /* current iterate, m*d and m */
    double eta, tol_loss, tol_grad;
    int train_a;
    uint64_t iter;
    int schedule;                 /* 0 when no observer is installed */
    uint64_t param;
    int observed_any;
    uint64_t last_observed;
    double eps_align, eps_deficit;
    int64_t t1, t2;
    int phase, have_tau0;
    size_t switches;
    const int *tau0, *tau;        /* m each */
    const double *step_state;     /* the declared (or loaded, unclaimed) step state */
    size_t step_len;
} tsrelu__gd_image;

void tsrelu__gd_export(const tsrelu_gd *gd, tsrelu__gd_image *im);
/* TSRELU_ENOMEM, or TSRELU_EFORMAT naming `what` when the image breaks an
 * invariant that every state the API produces keeps. */
tsrelu_status tsrelu__gd_restore(const tsrelu__gd_image *im, const char *what, tsrelu_gd **out);

/* For batch.c: run a state whose guard the batch already holds
 * (tsrelu__gd_hold), and release it; `cancel` (may be NULL) is a flag that
 * interrupts the run as tsrelu_gd_interrupt() does. */
tsrelu_status tsrelu__gd_hold(tsrelu_gd *gd, const char *fn);
void tsrelu__gd_release(tsrelu_gd *gd);
tsrelu_status tsrelu__gd_run_held(tsrelu_gd *gd, uint64_t max_steps, atomic_int *cancel);
/* Mark a state as owned by a batch: tsrelu_gd_free() on it does nothing;
 * tsrelu__gd_destroy() frees it. */
void tsrelu__gd_set_batch_owned(tsrelu_gd *gd);
void tsrelu__gd_destroy(tsrelu_gd *gd);

/* ---- metrics.c ---- */
/* Validate tau (or fill it with the nearest assignment when NULL) into
 * `out` (m ints). */
tsrelu_status tsrelu__groups(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t,
                             const int *tau, size_t tau_len, int *out);

/* ---- network.c ---- */
tsrelu_status tsrelu__student_alloc(size_t m, size_t d, tsrelu_student **out);
/* A copy owned by a GD state: tsrelu_teacher_free() on it does nothing;
 * tsrelu__teacher_destroy() frees it. */
tsrelu_status tsrelu__teacher_clone(const tsrelu_teacher *t, tsrelu_teacher **out);
void tsrelu__teacher_destroy(tsrelu_teacher *t);

#endif

/* The model: teacher and student handles (network.c), the evaluation
 * workspace and the closed-form loss and gradient (population.c), the
 * nearest-teacher rule, and the metrics' group helpers (metrics.c). */
#ifndef TSRELU_MODEL_H
#define TSRELU_MODEL_H

#include "tsrelu.h"
#include "simd/simd.h"

#include <stddef.h>
#include <stdint.h>

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

/* ---- network.c ---- */
tsrelu_status tsrelu__student_alloc(size_t m, size_t d, tsrelu_student **out);
/* A copy owned by a GD state: tsrelu_teacher_free() on it does nothing;
 * tsrelu__teacher_destroy() frees it. */
tsrelu_status tsrelu__teacher_clone(const tsrelu_teacher *t, tsrelu_teacher **out);
void tsrelu__teacher_destroy(tsrelu_teacher *t);
/* A teacher with uninitialised V and b (k*d checked for overflow); fill
 * them, then tsrelu__teacher_finish() sets norms, unit rows and kappa_tt. */
tsrelu_status tsrelu__teacher_alloc(size_t k, size_t d, tsrelu_teacher **out);
tsrelu_status tsrelu__teacher_finish(tsrelu_teacher *t);
/* Two passes of modified Gram-Schmidt of row j of V (rows of length d)
 * against the orthonormal rows 0..j-1; returns the remaining norm of row j. */
double tsrelu__orthogonalise_row(double *V, size_t j, size_t d);
/* k <= d orthonormal rows (k*d doubles) in random directions: Gaussian draws
 * of the teacher stream of `seed`, orthonormalised. The one random frame of
 * tsrelu_teacher_create_orthogonal() and tsrelu_teacher_create_gram(). */
void tsrelu__random_frame(size_t k, size_t d, uint64_t seed, double *Q);
/* TSRELU_ENONFINITE naming `what` and the row if the norm of a row of W
 * (m rows of d finite entries) overflows. */
tsrelu_status tsrelu__check_row_norms(const double *W, size_t m, size_t d, const char *what);
/* The one handle check of every function taking a student and a teacher:
 * TSRELU_EINVAL (NULL), TSRELU_EDIM (d differs), messages prefixed with fn. */
tsrelu_status tsrelu__check_pair(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t);
/* TSRELU_ENOMEM when m, k, d or m + k exceed the BLAS int range. */
tsrelu_status tsrelu__check_blas(const char *fn, size_t m, size_t k, size_t d);

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
    double *pairs;      /* 6 arrays of m*(m+k) (tsrelu__ws_pair_stride apart): cosines,
                           distances, angles, sines, cosines, kappas of the packed
                           pairs (simd/simd.h) */
    double *unit_t;     /* TSRELU_SIMD_SCRATCH(m+k, d): the BLAS-free cosines' scratch, small
                           sizes only (its padding zeroed by tsrelu__ws_place, kept zero) */
    double *block;      /* the one allocation holding every array; NULL when placed */
} tsrelu__ws;

/* The step's arrays are 64-byte aligned (a cache line, an AVX-512
 * vector): every workspace slot starts at a multiple of TSRELU_WS_ALIGN
 * doubles of a block from tsrelu__aligned_doubles. Placed by malloc alone,
 * rows straddled cache lines wherever it put the block, and the same
 * build's step measured up to 5 % faster or slower from one allocation to
 * another (docs/performance.md). */
#define TSRELU_WS_ALIGN 8

/* n rounded up to a multiple of TSRELU_WS_ALIGN (n far below SIZE_MAX). */
static inline size_t tsrelu__ws_round(size_t n)
{
    return (n + TSRELU_WS_ALIGN - 1) / TSRELU_WS_ALIGN * TSRELU_WS_ALIGN;
}

/* *total = the sum of len[0..n), each rounded up to TSRELU_WS_ALIGN (the
 * slots of one block, each aligned); 0, or 1 if the block's size in bytes
 * would overflow size_t. */
int tsrelu__ws_slots_total(const size_t *len, size_t n, size_t *total);

/* A block of n doubles (at least one), aligned to TSRELU_WS_ALIGN doubles;
 * NULL when out of memory or n overflows. free() releases it. */
double *tsrelu__aligned_doubles(size_t n);

/* The distance between two of the six packed pair arrays, in doubles. */
static inline size_t tsrelu__ws_pair_stride(size_t m, size_t k)
{
    return tsrelu__ws_round(m * (m + k));
}

/* One block for every array (TSRELU_ENOMEM on overflow or allocation
 * failure, message set); free with tsrelu__ws_free. */
tsrelu_status tsrelu__ws_alloc(tsrelu__ws *ws, size_t m, size_t k, size_t d);
void tsrelu__ws_free(tsrelu__ws *ws);
/* For a caller that puts the workspace inside its own block (hessian.c):
 * its size in doubles (TSRELU_ENOMEM on overflow), and the arrays laid out
 * from block (not owned: tsrelu__ws_free then frees nothing). */
tsrelu_status tsrelu__ws_doubles(size_t m, size_t k, size_t d, size_t *total);
void tsrelu__ws_place(tsrelu__ws *ws, size_t m, size_t k, size_t d, double *block);

/* The geometry of an evaluation alone, for the Hessian (hessian.c): unit
 * rows and norms of W (unit_w, norm_w) and the cosines, near-pair
 * distances, angles, sines and cosines of every pair (students l > i, then
 * teachers) in ws->pairs, packed as simd/simd.h says: the numbers the
 * gradient uses, bit for bit (not the kappas: the Hessian takes kappa from
 * theta, sin and cos). */
void tsrelu__geometry(tsrelu__ws *ws, const tsrelu_teacher *t, const double *W);

/* The packed pair arrays of ws->pairs (simd/simd.h). */
static inline tsrelu__pairs tsrelu__ws_pairs(const tsrelu__ws *ws)
{
    size_t st = tsrelu__ws_pair_stride(ws->m, ws->k);
    double *p = ws->pairs;
    tsrelu__pairs r = {p, p + st, p + 2 * st, p + 3 * st, p + 4 * st, p + 5 * st};
    return r;
}

/* An evaluation request: the outputs wanted (NULL: not wanted) and the
 * status of a non-finite result, which the evaluation sets once, where it
 * finds it (callers only add context to the message). */
#define TSRELU__CHECK_GRADIENT 1u /* fail on a non-finite gradient entry too (else the
                                     loss only: a GD step tests its update instead) */
typedef struct {
    double *loss;            /* the loss */
    double *gW;              /* dL/dW, m*d */
    double *ga;              /* dL/da, m */
    unsigned flags;          /* TSRELU__CHECK_GRADIENT */
    tsrelu_status nonfinite; /* e.g. TSRELU_ENONFINITE, or TSRELU_EDIVERGED in a GD run */
} tsrelu__eval;

/* Evaluate at (W, a) (ws->m rows) for teacher t what `req` asks for. No
 * allocation. TSRELU_OK, or req->nonfinite with a message. */
tsrelu_status tsrelu__evaluate(tsrelu__ws *ws, const tsrelu_teacher *t, const double *W,
                               const double *a, const tsrelu__eval *req);

/* |grad L|_2 at s (over W, and a when train_a) into *norm, computed with
 * a workspace allocated here: the on-demand path of the GD and flow
 * getters. TSRELU_ENOMEM (naming fn) or tsrelu_gradient's status. */
tsrelu_status tsrelu__gradient_norm(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t, int train_a,
                                    double *norm);

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
/* Validate tau (or fill it with the nearest assignment when NULL) into
 * `out` (m ints). */
tsrelu_status tsrelu__groups(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t,
                             const int *tau, size_t tau_len, int *out);

/* ---- accurate.c ---- */
/* The length in quads (__float128, kernel.h) of the scratch of tsrelu__loss_accurate_in for an
 * m x d student and k teachers (TSRELU_ENOMEM naming fn if it overflows). */
tsrelu_status tsrelu__accurate_scratch_len(const char *fn, size_t m, size_t k, size_t d, size_t *len);
/* tsrelu_loss_accurate's value (not checked for finiteness) in a
 * caller-provided scratch: no allocation, for the recorder. */
double tsrelu__loss_accurate_in(const tsrelu_student *s, const tsrelu_teacher *t, void *scratch);
/* The length in quads of the scratch of tsrelu__gradient_accurate_in. */
size_t tsrelu__gradient_accurate_len(size_t m, size_t k, size_t d);
/* dL/dW (m*d) and, if ga is not NULL, dL/da (m) at (W, a) (m rows of s->d)
 * in quadruple precision, rounded once to double: the split form
 *   dL/dw_i = a_i (r/2 + 1/2pi (S_i w^_i - sum_n c_n theta_in u_n)),
 *   S_i = sum_n c_n |u_n| sin theta_in,   r = sum_n c_n u_n,
 * whose terms cancel exactly where the double-precision P U form loses
 * everything (late phase). No allocation: scratch holds
 * tsrelu__gradient_accurate_len quads. Not checked for finiteness. */
void tsrelu__gradient_accurate_in(size_t m, const double *W, const double *a, const tsrelu_teacher *t,
                                  void *scratch, double *gW, double *ga);

#endif

/* Closed-form Hessian of the population loss (hessian.c), on raw arrays so
 * that other engines (gradient flow's Jacobian, Newton) can call it on their
 * own iterates without handles. Pure evaluation: no allocation after
 * tsrelu__hess_alloc, no status other than the allocation's.
 *
 * Variables, in this order: vec(W) row-major (x[i*d + c] = W[i][c], m*d
 * entries), then, with TSRELU_HESSIAN_OUTPUT, a (m entries). */
#ifndef TSRELU_HESSIAN_H
#define TSRELU_HESSIAN_H

#include "model.h"
#include "tsrelu.h"

#include <stddef.h>

typedef struct {
    size_t m, k, d, n; /* n = m + k neurons: students then teachers */
    double *unit;      /* n*d: u_n / |u_n| (0 row for a zero student) */
    double *norm;      /* n: |u_n| */
    double *c;         /* n: a then -b */
    double *theta;     /* m*n: angle of student i with neuron n */
    double *sn;        /* m*n: its sine */
    double *cs;        /* m*n: its cosine */
    double *tang;      /* m*n*d: e_in = u^_n - cos(theta_in) w^_i, |e_in| = sin
                        * (dense workspaces only; formed by tsrelu__hess_dense) */
    double *rho;       /* m: a_i / (2 pi |w_i|) sum_n c_n |u_n| sin(theta_in) */
    double *rad;       /* m: a_i |w_i| + sum_n c_n |u_n| sin(theta_in) / 2pi, the part of
                        * d2L/dw_i da_i along w^_i (0 for a zero row) */
    double *col;       /* d: scratch for one column of d2L/dW da */
    double *zx;        /* m: scratch, w^_q . x_q of the Hessian-vector product */
    double *tx, *co;   /* m*n each: its scratch, x_i . u^_q then e_iq . x_i, and the coefficients
                        * (co transposed, n x m) */
    double *fa, *fb;   /* max(n, 2)*d each: the factors of a block's rank-n update (dense only) */
    double *inv_s;     /* m*n: 1 / sin(theta_in), 0 where the sine is 0 */
    double *inv_norm;  /* n: 1 / |u_n|, 0 for a zero row */
    double *block;     /* the one allocation: every array above and pop's */
    tsrelu__ws pop;    /* the gradient's workspace: its geometry (tsrelu__geometry) */
} tsrelu__hess_ws;

/* Workspace for m students, k teachers, dimension d (TSRELU_ENOMEM on
 * overflow or allocation failure, message set). With dense = 0 it serves
 * tsrelu__hess_vector only (no tangents: O(m (m + k) d) less memory);
 * tsrelu__hess_dense needs dense = 1. */
tsrelu_status tsrelu__hess_alloc(tsrelu__hess_ws *ws, size_t m, size_t k, size_t d, int dense);
void tsrelu__hess_free(tsrelu__hess_ws *ws);

/* The geometry of (W, a) (m x d, m) against the teacher t: angles (the
 * gradient's, tsrelu__geometry) and radial terms. Call once per point;
 * then any number of tsrelu__hess_dense / tsrelu__hess_vector at that
 * point. */
void tsrelu__hess_prepare(tsrelu__hess_ws *ws, const double *W, const double *a,
                          const tsrelu_teacher *t);

/* The number of variables: m*d, plus m with TSRELU_HESSIAN_OUTPUT. */
size_t tsrelu__hess_dim(const tsrelu__hess_ws *ws, unsigned flags);

/* H (N x N row-major, N = tsrelu__hess_dim, leading dimension ld >= N) at
 * the prepared point; exactly symmetric. Returns 1 if every entry is
 * finite (checked block row by block row, while in cache), else 0. */
int tsrelu__hess_dense(tsrelu__hess_ws *ws, unsigned flags, double *H, size_t ld);

/* y = H x (N entries each, x and y distinct) without forming H: O(m (m + k) d)
 * work. ws->col is its only scratch (one thread per workspace). */
void tsrelu__hess_vector(tsrelu__hess_ws *ws, unsigned flags, const double *x, double *y);

/* The argument checks of every public second-order entry point: the pair
 * (tsrelu__check_pair), flags (only TSRELU_HESSIAN_OUTPUT), and N, the
 * number of variables, into *N (TSRELU_ENOMEM on overflow). */
tsrelu_status tsrelu__hess_check(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t,
                                 unsigned flags, size_t *N);

/* Allocate ws for s and t (dense as in tsrelu__hess_alloc) and prepare it
 * at s (messages prefixed with fn). For the public entry points
 * (hessian.c, spectrum.c); free with tsrelu__hess_free. */
tsrelu_status tsrelu__hess_at(const char *fn, tsrelu__hess_ws *ws, const tsrelu_student *s,
                              const tsrelu_teacher *t, int dense);

#endif

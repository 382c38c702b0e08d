/* Newton's method to stationary points of the population loss (its own
 * file: an iteration driver over population.c's gradient, hessian.c's
 * Hessian and spectrum.c's eigen-decomposition, as gd.c drives the
 * gradient; spectrum.c stays a pure linear-algebra wrapper).
 *
 * Each iteration eigen-decomposes the dense Hessian H = Z diag(lambda) Z^T
 * and steps delta = -sum_j (z_j . g) / lambda_j z_j over the eigenvalues
 * outside the flat band |lambda| <= rel_tol max |lambda| (a pseudo-inverse
 * step: flat directions, e.g. the manifolds of equivalent minima, are left
 * alone instead of blowing up). With TSRELU_NEWTON_DESCENT, |lambda_j|
 * replaces lambda_j ("saddle-free" Newton), which moves downhill along
 * negative curvature and so heads for minima. The step is halved until the
 * merit decreases: |grad L| by default, L with TSRELU_NEWTON_DESCENT. Near
 * a stationary point with a non-singular transverse Hessian the full step
 * is taken and convergence is quadratic. */
#include "hessian.h"
#include "kernel.h"
#include "model.h"
#include "spectrum.h"
#include "status.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NEWTON_FLAGS (TSRELU_HESSIAN_OUTPUT | TSRELU_NEWTON_DESCENT)
#define NEWTON_HALVINGS 40

typedef struct {
    size_t m, k, d, md, N;
    unsigned flags;
    tsrelu__ws pop;
    tsrelu__hess_ws hess;
    double *H, *Z, *lam, *g, *step, *W, *a; /* W, a: the trial point */
} newton;

static void newton_free(newton *nw)
{
    tsrelu__ws_free(&nw->pop);
    tsrelu__hess_free(&nw->hess);
    free(nw->H);
    free(nw->Z);
    free(nw->lam);
    free(nw->g);
    free(nw->step);
    free(nw->W);
    free(nw->a);
}

static tsrelu_status newton_alloc(newton *nw, const tsrelu_student *s, const tsrelu_teacher *t,
                                  unsigned flags)
{
    const char *fn = "tsrelu_newton";
    memset(nw, 0, sizeof *nw);
    nw->m = s->m;
    nw->k = t->k;
    nw->d = t->d;
    nw->md = s->m * s->d;
    nw->flags = flags;
    nw->N = nw->md + ((flags & TSRELU_HESSIAN_OUTPUT) ? s->m : 0);
    size_t NN;
    tsrelu_status st = tsrelu__mul_size(nw->N, nw->N, "tsrelu_newton: N*N", &NN);
    if (st != TSRELU_OK)
        return st;
    if (NN > SIZE_MAX / sizeof(double))
        return tsrelu__fail(TSRELU_ENOMEM, "%s: N*N doubles overflow size_t", fn);
    if ((st = tsrelu__check_blas(fn, s->m, t->k, t->d)) != TSRELU_OK ||
        (st = tsrelu__ws_alloc(&nw->pop, s->m, t->k, t->d)) != TSRELU_OK)
        return tsrelu__context(st, "%s", fn);
    if ((st = tsrelu__hess_alloc(&nw->hess, s->m, t->k, t->d, 1)) != TSRELU_OK) {
        newton_free(nw);
        return tsrelu__context(st, "%s", fn);
    }
    nw->H = malloc(NN * sizeof(double));
    nw->Z = malloc(NN * sizeof(double));
    nw->lam = malloc(nw->N * sizeof(double));
    nw->g = malloc((nw->md + nw->m) * sizeof(double));
    nw->step = malloc(nw->N * sizeof(double));
    nw->W = malloc(nw->md * sizeof(double));
    nw->a = malloc(nw->m * sizeof(double));
    if (!nw->H || !nw->Z || !nw->lam || !nw->g || !nw->step || !nw->W || !nw->a) {
        newton_free(nw);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for N = %zu", fn, nw->N);
    }
    return TSRELU_OK;
}

/* Loss and gradient at (W, a); returns |grad| over the N variables. */
static tsrelu_status evaluate(newton *nw, const tsrelu_teacher *t, const double *W,
                              const double *a, double *loss, double *gnorm)
{
    tsrelu__eval req = {loss, nw->g, nw->g + nw->md, TSRELU__CHECK_GRADIENT, TSRELU_ENONFINITE};
    tsrelu_status st = tsrelu__evaluate(&nw->pop, t, W, a, &req);
    if (st != TSRELU_OK)
        return tsrelu__context(st, "tsrelu_newton");
    double ss = 0.0;
    for (size_t v = 0; v < nw->N; v++)
        ss += nw->g[v] * nw->g[v];
    *gnorm = sqrt(ss);
    return TSRELU_OK;
}

/* The Hessian at (W, a), eigen-decomposed into lam and Z. */
static tsrelu_status decompose(newton *nw, const tsrelu_teacher *t, const double *W,
                               const double *a, int vectors)
{
    tsrelu__hess_prepare(&nw->hess, W, a, t);
    tsrelu__hess_dense(&nw->hess, nw->flags, nw->H, nw->N);
    tsrelu_status st = tsrelu__check_finite(nw->H, nw->N * nw->N, "tsrelu_newton: Hessian");
    if (st == TSRELU_OK)
        st = tsrelu__eigen("tsrelu_newton", nw->N, nw->H, nw->lam, vectors ? nw->Z : NULL);
    return st;
}

/* step = -(pseudo-)inverse of H (or |H|) times g. */
static void newton_step(newton *nw, double rel_tol)
{
    size_t N = nw->N;
    double big = fmax(fabs(nw->lam[0]), fabs(nw->lam[N - 1])), tol = rel_tol * big;
    memset(nw->step, 0, N * sizeof(double));
    for (size_t j = 0; j < N; j++) {
        double l = nw->lam[j];
        if (fabs(l) <= tol)
            continue;
        if (nw->flags & TSRELU_NEWTON_DESCENT)
            l = fabs(l);
        const double *z = nw->Z + j * N;
        double zg = 0.0;
        for (size_t r = 0; r < N; r++)
            zg += z[r] * nw->g[r];
        double c = -zg / l;
        for (size_t r = 0; r < N; r++)
            nw->step[r] += c * z[r];
    }
}

/* S of docs/numerics.md (max_i |a_i| sum_n |c_n||u_n|), and with the
 * output weights also max_i |w_i| times that sum. */
static double grad_scale(const tsrelu_student *s, const tsrelu_teacher *t, unsigned flags)
{
    double T = 0.0, amax = 0.0, wmax = 0.0;
    for (size_t i = 0; i < s->m; i++) {
        double nw = tsrelu__norm(s->W + i * s->d, s->d);
        T += fabs(s->a[i]) * nw;
        amax = fmax(amax, fabs(s->a[i]));
        wmax = fmax(wmax, nw);
    }
    for (size_t j = 0; j < t->k; j++)
        T += fabs(t->b[j]) * t->norm[j];
    return ((flags & TSRELU_HESSIAN_OUTPUT) ? fmax(amax, wmax) : amax) * T;
}

static tsrelu_status check_args(const tsrelu_student *s, const tsrelu_teacher *t, unsigned flags,
                                double grad_tol, double rel_tol, double *info, size_t info_len)
{
    const char *fn = "tsrelu_newton";
    tsrelu_status st = tsrelu__check_pair(fn, s, t);
    if (st != TSRELU_OK)
        return st;
    if (!s->owns)
        return tsrelu__fail(TSRELU_EINVAL, "%s: the student is a read-only view of a GD state", fn);
    if (flags & ~NEWTON_FLAGS)
        return tsrelu__fail(TSRELU_EINVAL, "%s: unknown flags 0x%x", fn, flags & ~NEWTON_FLAGS);
    if (!(grad_tol >= 0.0) || !isfinite(grad_tol))
        return tsrelu__fail(TSRELU_EINVAL, "%s: grad_tol = %g (must be finite and >= 0)", fn,
                            grad_tol);
    if (!(rel_tol >= 0.0 && rel_tol < 1.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: rel_tol = %g (must be in [0, 1))", fn, rel_tol);
    if (info && (info_len == 0 || info_len > TSRELU_NEWTON_LEN))
        return tsrelu__fail(TSRELU_ELENGTH, "%s: info_len = %zu (must be 1 to %d)", fn, info_len,
                            TSRELU_NEWTON_LEN);
    return TSRELU_OK;
}

/* One damped step from s; 0 if no halving decreased the merit. */
static int line_search(newton *nw, tsrelu_student *s, const tsrelu_teacher *t, double *loss,
                       double *gnorm, tsrelu_status *st)
{
    int descent = (nw->flags & TSRELU_NEWTON_DESCENT) != 0;
    double alpha = 1.0, L0 = *loss, g0 = *gnorm;
    for (int h = 0; h < NEWTON_HALVINGS; h++, alpha *= 0.5) {
        for (size_t v = 0; v < nw->md; v++)
            nw->W[v] = s->W[v] + alpha * nw->step[v];
        for (size_t i = 0; i < nw->m; i++)
            nw->a[i] = s->a[i] + ((nw->flags & TSRELU_HESSIAN_OUTPUT) ? alpha * nw->step[nw->md + i] : 0.0);
        double L = 0.0, gn = 0.0;
        if (!tsrelu__all_finite(nw->W, nw->md) || !tsrelu__all_finite(nw->a, nw->m))
            continue;
        *st = evaluate(nw, t, nw->W, nw->a, &L, &gn);
        if (*st != TSRELU_OK)
            return 0;
        if (descent ? L < L0 : gn < g0) {
            memcpy(s->W, nw->W, nw->md * sizeof(double));
            memcpy(s->a, nw->a, nw->m * sizeof(double));
            *loss = L;
            *gnorm = gn;
            return 1;
        }
    }
    /* leave nw->g at s's gradient */
    *st = evaluate(nw, t, s->W, s->a, loss, gnorm);
    return 0;
}

TSRELU_API tsrelu_status tsrelu_newton(tsrelu_student *s, const tsrelu_teacher *t, unsigned flags,
                                       double grad_tol, double rel_tol, size_t max_iter,
                                       double *info, size_t info_len)
{
    tsrelu_status st = check_args(s, t, flags, grad_tol, rel_tol, info, info_len);
    if (st != TSRELU_OK)
        return st;
    newton nw;
    if ((st = newton_alloc(&nw, s, t, flags)) != TSRELU_OK)
        return st;
    double loss = 0.0, gnorm = 0.0, S = grad_scale(s, t, flags);
    size_t it = 0;
    int converged = 0;
    st = evaluate(&nw, t, s->W, s->a, &loss, &gnorm);
    while (st == TSRELU_OK) {
        converged = gnorm <= grad_tol * S;
        if (converged || it >= max_iter)
            break;
        if ((st = decompose(&nw, t, s->W, s->a, 1)) != TSRELU_OK)
            break;
        newton_step(&nw, rel_tol);
        it++;
        if (!line_search(&nw, s, t, &loss, &gnorm, &st))
            break; /* at the floor of the merit: no step helps */
        S = grad_scale(s, t, flags);
    }
    if (st == TSRELU_OK)
        st = decompose(&nw, t, s->W, s->a, 0);
    if (st == TSRELU_OK && info) {
        size_t cnt[3], N = nw.N;
        tsrelu__eigen_counts(nw.lam, N, rel_tol, cnt);
        double minpos = NAN, tol = rel_tol * fmax(fabs(nw.lam[0]), fabs(nw.lam[N - 1]));
        for (size_t j = 0; j < N && isnan(minpos); j++)
            if (nw.lam[j] > tol)
                minpos = nw.lam[j];
        double out[TSRELU_NEWTON_LEN] = {(double)it, gnorm, S, loss, (double)cnt[0],
                                         (double)cnt[1], (double)cnt[2], minpos, nw.lam[0],
                                         nw.lam[N - 1]};
        memcpy(info, out, info_len * sizeof(double));
    }
    newton_free(&nw);
    if (st != TSRELU_OK)
        return st;
    return converged ? TSRELU_CONVERGED : TSRELU_OK;
}

/* Whole-network population loss and gradient in closed form.
 *
 * With U = [W; V] ((m+k) x d) and c = [a; -b]:
 *   L      = 1/4 |r|^2 + 1/(2 pi) sum_{n<n'} c_n c_n' |u_n||u_n'| kappa(theta_nn'),
 *            r = sum_n c_n u_n                             (split form)
 *   dL/dW  = P U + diag(s) W^,  P_in = a_i c_n (pi - theta_in) / 2pi (stored as P^T),
 *                               s_i  = a_i / 2pi sum_n c_n |u_n| sin theta_in
 *   dL/da_i = 1/2 w_i . r + |w_i| / 2pi sum_{n != i} c_n |u_n| kappa(theta_in)
 * The cosines come from one Gram product of unit rows (BLAS level 3); the
 * angles of nearly (anti-)parallel pairs are recomputed exactly by
 * tsrelu__angle_unit. Zero students have P and s rows of 0. */
#include "model.h"
#include "kernel.h"
#include "status.h"
#include "simd/simd.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The workspace's arrays, in doubles, in the order of their slots: one
 * block, so that a public call allocates once (and frees once: many small
 * frees at the top of the heap would have glibc return the pages each
 * time, and the next call fault them back in). */
enum { WS_SLOTS = 12 };

static tsrelu_status ws_sizes(size_t m, size_t k, size_t d, size_t len[WS_SLOTS], size_t *total)
{
    size_t n = m + k, md, mn;
    tsrelu_status st;
    if (n < m)
        return tsrelu__fail(TSRELU_ENOMEM, "workspace: m + k overflows size_t");
    if ((st = tsrelu__mul_size(m, d, "workspace m*d", &md)) != TSRELU_OK ||
        (st = tsrelu__mul_size(m, n, "workspace m*(m+k)", &mn)) != TSRELU_OK)
        return st;
    if (mn > SIZE_MAX / sizeof(double) / 6 - TSRELU_WS_ALIGN)
        return tsrelu__fail(TSRELU_ENOMEM, "workspace: size overflows size_t");
    /* small sizes: d*(n+20) doubles are a few MB, no overflow */
    size_t l[WS_SLOTS] = {md, m, mn, mn, m, m, d, m, m, 6 * tsrelu__ws_pair_stride(m, k),
                          tsrelu__simd_small(m, k, d) ? TSRELU_SIMD_SCRATCH(n, d) : 0,
                          m /* near: m ints in m doubles' room, last */};
    if (tsrelu__ws_slots_total(l, WS_SLOTS, total))
        return tsrelu__fail(TSRELU_ENOMEM, "workspace: size overflows size_t");
    memcpy(len, l, sizeof l);
    return TSRELU_OK;
}

int tsrelu__ws_slots_total(const size_t *len, size_t n, size_t *total)
{
    size_t sum = 0;
    for (size_t j = 0; j < n; j++) {
        if (len[j] > SIZE_MAX / sizeof(double) - TSRELU_WS_ALIGN)
            return 1;
        size_t r = tsrelu__ws_round(len[j]);
        if (r > SIZE_MAX / sizeof(double) - sum)
            return 1;
        sum += r;
    }
    *total = sum;
    return 0;
}

tsrelu_status tsrelu__ws_doubles(size_t m, size_t k, size_t d, size_t *total)
{
    size_t len[WS_SLOTS];
    return ws_sizes(m, k, d, len, total);
}

void tsrelu__ws_place(tsrelu__ws *ws, size_t m, size_t k, size_t d, double *block)
{
    size_t len[WS_SLOTS] = {0}, total = 0;
    memset(ws, 0, sizeof *ws);
    (void)ws_sizes(m, k, d, len, &total); /* checked by the caller (tsrelu__ws_doubles) */
    ws->m = m;
    ws->k = k;
    ws->d = d;
    double *at = block;
    double **slot[WS_SLOTS - 1] = {&ws->unit_w, &ws->norm_w,     &ws->gram,     &ws->coef,
                                   &ws->radial, &ws->kap,        &ws->resid,    &ws->near_theta,
                                   &ws->near_cos, &ws->pairs,    &ws->unit_t};
    for (int j = 0; j < WS_SLOTS - 1; at += tsrelu__ws_round(len[j]), j++)
        *slot[j] = len[j] > 0 ? at : NULL; /* unit_t: NULL above the BLAS-free sizes */
    if (ws->unit_t) /* the cosines kernel's padding: zero once, kept zero (simd/simd.h) */
        memset(ws->unit_t, 0, len[WS_SLOTS - 2] * sizeof(double));
    ws->near = (int *)(void *)at; /* malloc'd memory has no declared type */
}

double *tsrelu__aligned_doubles(size_t n)
{
    size_t align = TSRELU_WS_ALIGN * sizeof(double);
    if (n > (SIZE_MAX - align) / sizeof(double))
        return NULL;
    size_t bytes = (n > 0 ? n : 1) * sizeof(double);
    return aligned_alloc(align, (bytes + align - 1) / align * align); /* C11: a multiple */
}

tsrelu_status tsrelu__ws_alloc(tsrelu__ws *ws, size_t m, size_t k, size_t d)
{
    size_t total = 0;
    memset(ws, 0, sizeof *ws);
    tsrelu_status st = tsrelu__ws_doubles(m, k, d, &total);
    if (st != TSRELU_OK)
        return st;
    double *block = tsrelu__aligned_doubles(total);
    if (!block)
        return tsrelu__fail(TSRELU_ENOMEM, "workspace: out of memory for m=%zu, k=%zu, d=%zu",
                            m, k, d);
    tsrelu__ws_place(ws, m, k, d, block);
    ws->block = block;
    return TSRELU_OK;
}

void tsrelu__ws_free(tsrelu__ws *ws)
{
    free(ws->block); /* NULL for a workspace placed in another's block */
    memset(ws, 0, sizeof *ws);
}

static void normalise_rows(size_t m, size_t d, const double *W, tsrelu__ws *ws)
{
    tsrelu__simd()->normalise(m, d, W, ws->norm_w, ws->unit_w);
}

/* Cosines of the packed pairs: every student against the later students
 * (if students_too) and every teacher. Small sizes by the own kernels, the
 * others by one Gram product (BLAS level 3). The teacher cosines of a
 * student are the same numbers with or without the students (the nearest
 * teacher of tsrelu__nearest is that of a step). */
static void pair_cosines(const tsrelu_teacher *t, tsrelu__ws *ws, int students_too,
                         const tsrelu__pairs *p)
{
    size_t m = ws->m, k = ws->k, d = ws->d, n = m + k;
    if (tsrelu__simd_small(m, k, d)) {
        tsrelu__simd()->cosines(m, k, d, ws->unit_w, t->unit, students_too, ws->unit_t, p);
        return;
    }
    if (students_too) /* the pairs need only l > i of the student block: half of it */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)d, 1.0, ws->unit_w,
                    (int)d, 0.0, ws->gram, (int)n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)d, 1.0,
                ws->unit_w, (int)d, t->unit, (int)d, 0.0, ws->gram + m, (int)n);
    for (size_t i = 0; i < m; i++) {
        size_t first = students_too ? i + 1 : m;
        memcpy(p->c + tsrelu__pair_row(m, k, students_too, i), ws->gram + i * n + first,
               (n - first) * sizeof(double));
    }
}

/* Angles, sines, cosines and (with_kappa) kappas of the packed pairs: kappa
 * only for the loss and dL/da. The angle kernel
 * runs over the pair count rounded up to TSRELU_WS_ALIGN, within each
 * array's room (tsrelu__ws_pair_stride), on pairs of cosine and distance
 * 0 past the last: whole vectors instead of the vectoriser's scalar
 * epilogue (at (6, 2, 8), 27 pairs, 32 took 0.87 times as long as 27);
 * nothing reads the angles past the count. */
static void pair_angles(const tsrelu_teacher *t, tsrelu__ws *ws, int students_too,
                        int with_kappa, const tsrelu__pairs *p)
{
    const tsrelu__simd_ops *ops = tsrelu__simd();
    size_t m = ws->m, k = ws->k, n = tsrelu__pair_count(m, k, students_too);
    size_t padded = tsrelu__ws_round(n);
    pair_cosines(t, ws, students_too, p);
    ops->distances(m, k, ws->d, ws->unit_w, t->unit, students_too, p);
    for (size_t q = n; q < padded; q++)
        p->c[q] = p->h2[q] = 0.0;
    ops->angles(padded, with_kappa, p);
}

void tsrelu__geometry(tsrelu__ws *ws, const tsrelu_teacher *t, const double *W)
{
    normalise_rows(ws->m, ws->d, W, ws);
    const tsrelu__pairs pr = tsrelu__ws_pairs(ws);
    pair_angles(t, ws, 1, 0, &pr); /* the Hessian takes kappa from theta, sin and cos */
}

typedef struct {
    double theta, cs;
} pair_angle;

/* The nearest-teacher rule, in one place: the smallest angle of the pair
 * pass, ties to the lower teacher index (teachers are visited in order). */
static inline void note_nearest(tsrelu__ws *ws, size_t i, size_t j, const pair_angle *p)
{
    if (ws->near[i] < 0 || p->theta < ws->near_theta[i]) {
        ws->near[i] = (int)j;
        ws->near_theta[i] = p->theta;
        ws->near_cos[i] = p->cs;
    }
}

/* Fills coef, radial, the nearest teachers and, if want_kappa, kap; returns
 * the sum over pairs n < n' (not both teachers) of
 * c_n c_n' |u_n||u_n'| kappa(theta_nn'), or 0 without want_kappa (kappa is
 * needed only for the loss and dL/da, not for dL/dW). */
static inline double pair_pass(const tsrelu_teacher *t, const double *a, tsrelu__ws *ws,
                               int want_kappa)
{
    size_t m = ws->m, k = ws->k, n = m + k, q = 0;
    double ksum = 0.0;
    const tsrelu__pairs pr = tsrelu__ws_pairs(ws);
    const tsrelu__simd_ops *ops = tsrelu__simd();
    pair_angles(t, ws, 1, want_kappa, &pr);
    double *P = ws->coef; /* transposed: P_in at P[n*m + i] */
    /* a small student block in one call (its running sums in registers),
     * else row by row below, the same bits */
    double block_sums[3 * TSRELU_SIMD_BLOCK_MAX];
    int in_block = m <= TSRELU_SIMD_BLOCK_MAX;
    if (in_block) {
        ops->pair_block(m, k, pr.theta, pr.sn, want_kappa ? pr.kappa : NULL, a, ws->norm_w, P,
                        ws->radial, ws->kap, block_sums);
    } else {
        memset(ws->radial, 0, m * sizeof(double));
        memset(ws->kap, 0, m * sizeof(double));
    }
    for (size_t i = 0; i < m; i++) {
        double ni = ws->norm_w[i];
        ws->near[i] = -1;
        if (ni == 0.0) { /* P's entries of a zero student are 0: those its row does not set */
            for (size_t l = i; l < m; l++)
                P[i * m + l] = P[l * m + i] = 0.0;
            for (size_t j = 0; j < k; j++)
                P[(m + j) * m + i] = 0.0;
            q += n - i - 1;
            continue;
        }
        /* every entry of P is set once, without clearing P first: the row
         * (l > i) here, its mirror (l < i) by the earlier rows, a zero
         * student's by the branch above */
        double ai = a[i], wi = ai * ni; /* c_i |u_i| */
        double ri = ws->radial[i], ki = ws->kap[i]; /* row i's own sums */
        P[i * m + i] = 0.5 * ai * ai; /* self term: theta = 0 */
        double row_sums[3], *sums = in_block ? block_sums + 3 * i : row_sums;
        if (!in_block)
            ops->pair_row(m - i - 1, pr.theta + q, pr.sn + q, want_kappa ? pr.kappa + q : NULL,
                          a + i + 1, ws->norm_w + i + 1, ai, wi, P + i * m + i + 1,
                          ws->radial + i + 1, ws->kap + i + 1, sums);
        for (size_t l = i + 1; l < m; l++) /* the student block of P is symmetric */
            P[l * m + i] = P[i * m + l];
        q += m - i - 1;
        ri += sums[0];
        ki += sums[1];
        ksum += sums[2];
        for (size_t j = 0; j < k; j++, q++) {
            double sn = pr.sn[q], kappa = want_kappa ? pr.kappa[q] : 0.0;
            double vj = -t->b[j] * t->norm[j];
            P[(m + j) * m + i] = -ai * t->b[j] * (TSRELU_PI - pr.theta[q]) * TSRELU_INV_2PI;
            ri += vj * sn;
            ki += vj * kappa;
            ksum += wi * vj * kappa;
            pair_angle p = {pr.theta[q], pr.cs[q]};
            note_nearest(ws, i, j, &p);
        }
        ws->radial[i] = ri;
        ws->kap[i] = ki;
    }
    for (size_t i = 0; i < m; i++)
        ws->radial[i] *= a[i] * TSRELU_INV_2PI;
    return ksum;
}

/* gW_i += s_i w^_i for the non-zero rows whose norm is outside the fast
 * range (the others have it in P's diagonal). */
static void add_radial_outside_fast_range(const tsrelu__ws *ws, double *gW)
{
    size_t m = ws->m, d = ws->d;
    for (size_t i = 0; i < m; i++)
        if (ws->norm_w[i] > 0.0 && !tsrelu__norm_fast(ws->norm_w[i]))
            for (size_t c = 0; c < d; c++)
                gW[i * d + c] += ws->radial[i] * ws->unit_w[i * d + c];
}

/* r = W^T a - V^T b: small sizes summed over the neurons in index order
 * (vectorised across the d entries), the others by the BLAS. */
static void residual(const tsrelu_teacher *t, const double *W, const double *a, tsrelu__ws *ws)
{
    size_t m = ws->m, k = ws->k, d = ws->d;
    if (!tsrelu__simd_small(m, k, d)) {
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)m, (int)d, 1.0, W, (int)d, a, 1, 0.0,
                    ws->resid, 1);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)k, (int)d, -1.0, t->V, (int)d, t->b, 1,
                    1.0, ws->resid, 1);
        return;
    }
    double *r = ws->resid;
    for (size_t c = 0; c < d; c++)
        r[c] = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < d; c++)
            r[c] += a[i] * W[i * d + c];
    for (size_t j = 0; j < k; j++)
        for (size_t c = 0; c < d; c++)
            r[c] -= t->b[j] * t->V[j * d + c];
}

tsrelu_status tsrelu__evaluate(tsrelu__ws *ws, const tsrelu_teacher *t, const double *W,
                               const double *a, const tsrelu__eval *req)
{
    size_t m = ws->m, k = ws->k, d = ws->d;
    double *loss = req->loss, *gW = req->gW, *ga = req->ga;
    int check = (req->flags & TSRELU__CHECK_GRADIENT) != 0;
    int small = tsrelu__simd_small(m, k, d); /* no BLAS call at all */
    normalise_rows(m, d, W, ws);
    double ksum = (loss || ga) ? pair_pass(t, a, ws, 1) : pair_pass(t, a, ws, 0);

    if (loss || ga)
        residual(t, W, a, ws);
    if (loss) {
        double rn = tsrelu__norm(ws->resid, d);
        *loss = 0.25 * rn * rn + ksum * TSRELU_INV_2PI + t->kappa_tt;
        if (!isfinite(*loss))
            return tsrelu__fail(req->nonfinite, "loss is not finite (%g)", *loss);
    }
    if (gW) {
        /* the radial term s_i w^_i = (s_i / |w_i|) w_i joins P's diagonal, so
         * the product adds it (in parallel, when the BLAS is threaded);
         * outside the fast range s_i / |w_i| overflows or |w_i| has lost
         * bits, so the term is added along the unit row after the product */
        for (size_t i = 0; i < m; i++)
            if (tsrelu__norm_fast(ws->norm_w[i]))
                ws->coef[i * m + i] += ws->radial[i] / ws->norm_w[i];
        /* P is stored transposed: OpenBLAS 0.3.21's NoTrans x NoTrans small
         * kernel mallocs on every call, and a step must not allocate */
        if (small) {
            tsrelu__simd()->product(m, k, d, ws->coef, W, t->V, gW);
        } else {
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)d, (int)m, 1.0,
                        ws->coef, (int)m, W, (int)d, 0.0, gW, (int)d);
            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)d, (int)k, 1.0,
                        ws->coef + m * m, (int)m, t->V, (int)d, 1.0, gW, (int)d);
        }
        add_radial_outside_fast_range(ws, gW);
        if (check && !tsrelu__all_finite(gW, m * d))
            return tsrelu__fail(req->nonfinite, "gradient dL/dW is not finite");
    }
    if (ga) {
        if (small) /* 1/2 w_i . r, summed in index order */
            for (size_t i = 0; i < m; i++) {
                double s = 0.0;
                for (size_t c = 0; c < d; c++)
                    s += W[i * d + c] * ws->resid[c];
                ga[i] = 0.5 * s;
            }
        else
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)d, 0.5, W, (int)d, ws->resid,
                        1, 0.0, ga, 1);
        for (size_t i = 0; i < m; i++)
            ga[i] += ws->norm_w[i] * ws->kap[i] * TSRELU_INV_2PI;
        if (check && !tsrelu__all_finite(ga, m))
            return tsrelu__fail(req->nonfinite, "gradient dL/da is not finite");
    }
    return TSRELU_OK;
}

/* ---------------- public entry points ---------------- */

TSRELU_API tsrelu_status tsrelu_loss(const tsrelu_student *s, const tsrelu_teacher *t, double *loss)
{
    tsrelu_status st = tsrelu__check_pair("tsrelu_loss", s, t);
    if (st == TSRELU_OK)
        st = tsrelu__check_blas("tsrelu_loss", s->m, t->k, t->d);
    if (st != TSRELU_OK)
        return st;
    if (!loss)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_loss: loss is NULL");
    tsrelu__ws ws;
    if ((st = tsrelu__ws_alloc(&ws, s->m, t->k, t->d)) != TSRELU_OK)
        return st;
    tsrelu__eval req = {loss, NULL, NULL, TSRELU__CHECK_GRADIENT, TSRELU_ENONFINITE};
    st = tsrelu__evaluate(&ws, t, s->W, s->a, &req);
    tsrelu__ws_free(&ws);
    return st;
}

TSRELU_API tsrelu_status tsrelu_gradient(const tsrelu_student *s, const tsrelu_teacher *t,
                                         double *gW, size_t gW_len, double *ga, size_t ga_len)
{
    tsrelu_status st = tsrelu__check_pair("tsrelu_gradient", s, t);
    if (st == TSRELU_OK)
        st = tsrelu__check_blas("tsrelu_gradient", s->m, t->k, t->d);
    if (st != TSRELU_OK)
        return st;
    if (!gW)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gradient: gW is NULL");
    if ((st = tsrelu__check_len(gW_len, s->m * s->d, "tsrelu_gradient: gW")) != TSRELU_OK)
        return st;
    if (ga && (st = tsrelu__check_len(ga_len, s->m, "tsrelu_gradient: ga")) != TSRELU_OK)
        return st;
    tsrelu__ws ws;
    if ((st = tsrelu__ws_alloc(&ws, s->m, t->k, t->d)) != TSRELU_OK)
        return st;
    tsrelu__eval req = {NULL, gW, ga, TSRELU__CHECK_GRADIENT, TSRELU_ENONFINITE};
    st = tsrelu__evaluate(&ws, t, s->W, s->a, &req);
    tsrelu__ws_free(&ws);
    return st;
}

tsrelu_status tsrelu__gradient_norm(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t, int train_a,
                                    double *norm)
{
    size_t m = s->m, md = m * s->d;
    double *g = malloc((md + m) * sizeof(double));
    if (!g)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    tsrelu_status st = tsrelu_gradient(s, t, g, md, train_a ? g + md : NULL, m);
    if (st == TSRELU_OK) {
        double gw = tsrelu__norm(g, md), gn = train_a ? tsrelu__norm(g + md, m) : 0.0;
        *norm = gn == 0.0 ? gw : hypot(gw, gn);
    }
    free(g);
    return st;
}

tsrelu_status tsrelu__nearest(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t, int *tau)
{
    tsrelu__ws ws;
    tsrelu_status st = tsrelu__check_blas(fn, s->m, t->k, t->d);
    if (st != TSRELU_OK)
        return st;
    if ((st = tsrelu__ws_alloc(&ws, s->m, t->k, t->d)) != TSRELU_OK)
        return tsrelu__context(st, "%s", fn);
    size_t m = s->m, k = t->k, d = t->d;
    normalise_rows(m, d, s->W, &ws);
    const tsrelu__pairs pr = tsrelu__ws_pairs(&ws);
    pair_angles(t, &ws, 0, 0, &pr); /* the teacher pairs of a step, the same numbers */
    for (size_t i = 0; i < m; i++) {
        ws.near[i] = -1;
        if (ws.norm_w[i] == 0.0)
            continue;
        for (size_t j = 0; j < k; j++) {
            pair_angle p = {pr.theta[i * k + j], pr.cs[i * k + j]};
            note_nearest(&ws, i, j, &p);
        }
    }
    memcpy(tau, ws.near, m * sizeof(int));
    tsrelu__ws_free(&ws);
    return TSRELU_OK;
}

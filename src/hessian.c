/* Closed-form Hessian of the population loss in (W, a): dense, and as a
 * Hessian-vector product that never forms it. With U = [W; V], c = [a; -b]
 * and the pair blocks of kernel.h (p = w^_i, e_in = u^_n - cos w^_i, s = sin):
 *   d2L/dw_i2     = a_i^2/2 I + rho_i (I - p p^T)
 *                   + sum_{n != i} a_i c_n |u_n| / (2 pi |w_i|) e_in e_in^T / s_in,
 *                   rho_i = a_i / (2 pi |w_i|) sum_{n != i} c_n |u_n| s_in
 *   d2L/dw_i dw_l = a_i a_l / 2pi ((pi - theta) I + e_il e_li^T / s + s w^_i w^_l^T)
 *   d2L/dw_i da_i = sum_{n != i} c_n |u_n| / 2pi ((pi - theta_in) u^_n + s_in w^_i) + a_i w_i
 *   d2L/dw_i da_l = a_i |w_l| / 2pi ((pi - theta_il) w^_l + s_il w^_i)
 *   d2L/da_i da_l = g(w_i, w_l),  d2L/da_i2 = |w_i|^2 / 2
 * A zero student (|w_i| = 0) has every second derivative involving w_i or
 * a_i equal to 0: the relu'(0) = 0 convention of the gradient, under which
 * a zero neuron is dead (docs/numerics.md, section 6). */
#include "hessian.h"
#include "kernel.h"
#include "model.h"
#include "simd/simd.h"
#include "status.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

tsrelu_status tsrelu__hess_alloc(tsrelu__hess_ws *ws, size_t m, size_t k, size_t d, int dense)
{
    memset(ws, 0, sizeof *ws);
    size_t n = m + k, nd, mn, mnd;
    tsrelu_status st;
    if (n < m)
        return tsrelu__fail(TSRELU_ENOMEM, "hessian workspace: m + k overflows size_t");
    if ((st = tsrelu__mul_size(n, d, "hessian workspace (m+k)*d", &nd)) != TSRELU_OK ||
        (st = tsrelu__mul_size(m, n, "hessian workspace m*(m+k)", &mn)) != TSRELU_OK ||
        (st = tsrelu__mul_size(mn, d, "hessian workspace m*(m+k)*d", &mnd)) != TSRELU_OK)
        return st;
    if (mnd > SIZE_MAX / sizeof(double))
        return tsrelu__fail(TSRELU_ENOMEM, "hessian workspace: size overflows size_t");
    ws->m = m;
    ws->k = k;
    ws->d = d;
    ws->n = n;
    /* one block for every array (a public call allocates a workspace each
     * time: one malloc, not nineteen); the base in ws->block. The
     * tangents and the factors of the rank updates only for the dense
     * Hessian (the product needs neither: m (m + k) d doubles less); fa
     * and fb hold max(n, 2) d: 2 d fits, as d <= m n d < SIZE_MAX / 8 */
    size_t one = 1, nf = dense ? (n > 1 ? nd : 2 * d) : 0;
    double **slot[] = {&ws->unit, &ws->norm, &ws->c,   &ws->theta, &ws->sn, &ws->cs,
                       &ws->tang, &ws->rho,  &ws->rad, &ws->col,   &ws->zx, &ws->tx,
                       &ws->co,   &ws->fa,   &ws->fb,  &ws->inv_s, &ws->inv_norm};
    size_t len[] = {nd, n, n, mn, mn, mn, dense ? mnd : 0, m, m, d > 0 ? d : one, m > 0 ? m : one,
                    mn, mn, nf, nf, mn, n};
    size_t total = 0, nslot = sizeof len / sizeof len[0], pop;
    if (tsrelu__ws_slots_total(len, nslot, &total)) /* each slot (and the gradient's) aligned */
        return tsrelu__fail(TSRELU_ENOMEM, "hessian workspace: size overflows size_t");
    /* the gradient's workspace (its geometry) in the same block, after ours */
    if ((st = tsrelu__ws_doubles(m, k, d, &pop)) != TSRELU_OK)
        return tsrelu__context(st, "hessian workspace");
    if (pop > SIZE_MAX / sizeof(double) - total)
        return tsrelu__fail(TSRELU_ENOMEM, "hessian workspace: size overflows size_t");
    double *block = tsrelu__aligned_doubles(total + pop);
    if (!block)
        return tsrelu__fail(TSRELU_ENOMEM,
                            "hessian workspace: out of memory for m=%zu, k=%zu, d=%zu", m, k, d);
    for (size_t j = 0, at = 0; j < nslot; at += tsrelu__ws_round(len[j]), j++)
        *slot[j] = len[j] > 0 ? block + at : NULL;
    ws->block = block;
    tsrelu__ws_place(&ws->pop, m, k, d, block + total);
    return TSRELU_OK;
}

void tsrelu__hess_free(tsrelu__hess_ws *ws)
{
    free(ws->block); /* the gradient's workspace included */
    memset(ws, 0, sizeof *ws);
}

size_t tsrelu__hess_dim(const tsrelu__hess_ws *ws, unsigned flags)
{
    return ws->m * ws->d + ((flags & TSRELU_HESSIAN_OUTPUT) ? ws->m : 0);
}

/* 1 if student i and neuron q form a pair: distinct and both non-zero. */
static int is_pair(const tsrelu__hess_ws *ws, size_t i, size_t q)
{
    return q != i && ws->norm[i] != 0.0 && ws->norm[q] != 0.0;
}

/* The angles of the pairs from the gradient's own geometry
 * (tsrelu__geometry: the same unit rows, cosines and dispatched angle
 * kernel, bit for bit), unpacked from its packed pairs (students l > i,
 * then teachers) into m x n arrays, the pair (q, i) of two students from
 * the same numbers. The entries of no pair (self, zero rows) are 0. */
static void pair_geometry(tsrelu__hess_ws *ws)
{
    size_t m = ws->m, n = ws->n, j = 0;
    const tsrelu__pairs pr = tsrelu__ws_pairs(&ws->pop);
    for (size_t i = 0; i < m; i++) {
        size_t ii = i * n + i;
        ws->theta[ii] = ws->sn[ii] = ws->cs[ii] = 0.0;
        for (size_t q = i + 1; q < n; q++, j++) {
            size_t iq = i * n + q, qi = q * n + i;
            int pair = is_pair(ws, i, q);
            ws->theta[iq] = pair ? pr.theta[j] : 0.0;
            ws->sn[iq] = pair ? pr.sn[j] : 0.0;
            ws->cs[iq] = pair ? pr.cs[j] : 0.0;
            if (q < m) {
                ws->theta[qi] = ws->theta[iq];
                ws->sn[qi] = ws->sn[iq];
                ws->cs[qi] = ws->cs[iq];
            }
        }
    }
}

/* The tangents e_iq of every pair (kernel.h), 0 for no pair: the dense
 * Hessian's rank updates multiply them; the product never forms them. */
static void pair_tangents(tsrelu__hess_ws *ws)
{
    size_t m = ws->m, d = ws->d, n = ws->n;
    for (size_t i = 0; i < m; i++)
        for (size_t q = 0; q < n; q++) {
            size_t iq = i * n + q;
            if (!is_pair(ws, i, q))
                memset(ws->tang + iq * d, 0, d * sizeof(double));
            else
                tsrelu__pair_tangent(ws->unit + i * d, ws->unit + q * d, d, ws->sn[iq], ws->cs[iq],
                                     ws->tang + iq * d);
        }
}

void tsrelu__hess_prepare(tsrelu__hess_ws *ws, const double *W, const double *a,
                          const tsrelu_teacher *t)
{
    size_t m = ws->m, d = ws->d, n = ws->n;
    tsrelu__geometry(&ws->pop, t, W);
    memcpy(ws->unit, ws->pop.unit_w, m * d * sizeof(double));
    memcpy(ws->unit + m * d, t->unit, (n - m) * d * sizeof(double));
    for (size_t q = 0; q < n; q++) {
        ws->norm[q] = q < m ? ws->pop.norm_w[q] : t->norm[q - m];
        ws->c[q] = q < m ? a[q] : -t->b[q - m];
    }
    pair_geometry(ws);
    /* the reciprocals once, in loops of independent divisions (the
     * coefficients then multiply: one division per pair, not three) */
    for (size_t q = 0; q < n; q++)
        ws->inv_norm[q] = ws->norm[q] != 0.0 ? 1.0 / ws->norm[q] : 0.0;
    for (size_t j = 0; j < m * n; j++)
        ws->inv_s[j] = ws->sn[j] != 0.0 ? 1.0 / ws->sn[j] : 0.0;
    for (size_t i = 0; i < m; i++) {
        ws->rho[i] = ws->rad[i] = 0.0;
        if (ws->norm[i] == 0.0)
            continue;
        double r = 0.0, rad = ws->c[i] * ws->norm[i]; /* a_i w_i = a_i |w_i| w^_i */
        for (size_t q = 0; q < n; q++)
            if (q != i && ws->norm[q] != 0.0) {
                r += ws->c[q] * (ws->norm[q] * ws->inv_norm[i]) * ws->sn[i * n + q];
                rad += ws->c[q] * ws->norm[q] * ws->sn[i * n + q] * TSRELU_INV_2PI;
            }
        ws->rho[i] = a[i] * r * TSRELU_INV_2PI;
        ws->rad[i] = rad;
    }
}

/* The coefficient of e_iq e_iq^T in d2L/dw_i2: a_i c_q |u_q| / (2 pi |w_i| s). */
static double uu_coef(const tsrelu__hess_ws *ws, size_t i, size_t q)
{
    double inv_s = ws->inv_s[i * ws->n + q];
    if (inv_s == 0.0)
        return 0.0;
    return ws->c[i] * ws->c[q] * (ws->norm[q] * ws->inv_norm[i]) * TSRELU_INV_2PI * inv_s;
}

/* The coefficient of e_il e_li^T in d2L/dw_i dw_l: a_i a_l / (2 pi s). */
static double uv_coef(const tsrelu__hess_ws *ws, size_t i, size_t l)
{
    double inv_s = ws->inv_s[i * ws->n + l];
    if (inv_s == 0.0)
        return 0.0;
    return ws->c[i] * ws->c[l] * TSRELU_INV_2PI * inv_s;
}

/* d2L/dw_i da_q for q a student (the column of a_q), into col (d entries). */
static void wa_column(const tsrelu__hess_ws *ws, size_t i, size_t q, double *col)
{
    size_t d = ws->d, n = ws->n;
    const double *p = ws->unit + i * d;
    if (q != i) {
        size_t iq = i * n + q;
        double w1 = ws->c[i] * ws->norm[q] * (TSRELU_PI - ws->theta[iq]) * TSRELU_INV_2PI;
        double w2 = ws->c[i] * ws->norm[q] * ws->sn[iq] * TSRELU_INV_2PI;
        const double *uq = ws->unit + q * d;
        for (size_t c = 0; c < d; c++)
            col[c] = w1 * uq[c] + w2 * p[c];
        return;
    }
    for (size_t c = 0; c < d; c++)
        col[c] = 0.0;
    for (size_t r = 0; r < n; r++) {
        size_t ir = i * n + r;
        if (r == i || ws->norm[r] == 0.0)
            continue;
        double w1 = ws->c[r] * ws->norm[r] * (TSRELU_PI - ws->theta[ir]) * TSRELU_INV_2PI;
        const double *ur = ws->unit + r * d;
        for (size_t c = 0; c < d; c++)
            col[c] += w1 * ur[c];
    }
    for (size_t c = 0; c < d; c++)
        col[c] += ws->rad[i] * p[c];
}

/* d2L/da_i da_l = g(w_i, w_l) in the split form (1/2 cos + kappa / 2pi). */
static double aa_entry(const tsrelu__hess_ws *ws, size_t i, size_t l)
{
    if (ws->norm[i] == 0.0 || ws->norm[l] == 0.0)
        return 0.0;
    if (i == l)
        return 0.5 * ws->norm[i] * ws->norm[i];
    size_t il = i * ws->n + l;
    double th = ws->theta[il];
    double kap = tsrelu__kappa_sc(th, ws->sn[il], ws->cs[il]);
    return ws->norm[i] * ws->norm[l] * (0.5 * ws->cs[il] + kap * TSRELU_INV_2PI);
}

/* The diagonal block (i, i) into H at (i d, i d): the terms along I and
 * p p^T, then sum_q beta_q e_iq e_iq^T as one rank-n update (the products
 * (beta e_r) e_c summed in the order of q), then its upper triangle
 * mirrored (exactly symmetric). */
static void diag_block(const tsrelu__hess_ws *ws, const tsrelu__simd_ops *ops, size_t i,
                       double *H, size_t ld)
{
    size_t d = ws->d, n = ws->n, j = 0;
    const double *p = ws->unit + i * d;
    double half = 0.5 * ws->c[i] * ws->c[i], rho = ws->rho[i];
    for (size_t r = 0; r < d; r++) {
        double *row = H + r * ld, pr = rho * p[r];
        for (size_t c = 0; c < d; c++)
            row[c] = -pr * p[c];
        row[r] += half + rho;
    }
    for (size_t q = 0; q < n; q++) {
        if (q == i || ws->norm[q] == 0.0)
            continue;
        double beta = uu_coef(ws, i, q);
        const double *e = ws->tang + (i * n + q) * d;
        if (beta == 0.0)
            continue;
        for (size_t c = 0; c < d; c++) {
            ws->fa[j * d + c] = beta * e[c];
            ws->fb[j * d + c] = e[c];
        }
        j++;
    }
    ops->outer(j, d, ws->fa, ws->fb, H, ld, 1, 0.0);
    for (size_t r = 1; r < d; r++)
        for (size_t c = 0; c < r; c++)
            H[r * ld + c] = H[c * ld + r];
}

/* The block (i, l), i < l, at (i d, l d): beta e f^T + gam p q^T as one
 * rank-2 product, plus the diagonal; and its transpose at (l d, i d) from
 * the same products with the factors swapped (exactly symmetric). */
static void pair_blocks(const tsrelu__hess_ws *ws, const tsrelu__simd_ops *ops, size_t i,
                        size_t l, double *H, size_t ld)
{
    size_t d = ws->d, n = ws->n, il = i * n + l;
    double *Hil = H + i * d * ld + l * d, *Hli = H + l * d * ld + i * d;
    const double *p = ws->unit + i * d, *q = ws->unit + l * d;
    const double *e = ws->tang + il * d, *f = ws->tang + (l * n + i) * d;
    double aa = ws->c[i] * ws->c[l] * TSRELU_INV_2PI;
    double diag = aa * (TSRELU_PI - ws->theta[il]), beta = uv_coef(ws, i, l), gam = aa * ws->sn[il];
    double *fa = ws->fa, *fb = ws->fb;
    for (size_t c = 0; c < d; c++) {
        fa[c] = beta * e[c];
        fa[d + c] = gam * p[c];
        fb[c] = f[c];
        fb[d + c] = q[c];
    }
    ops->outer(2, d, fa, fb, Hil, ld, 0, diag);
    ops->outer(2, d, fb, fa, Hli, ld, 0, diag);
}

static void zero_block(double *H, size_t ld, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++)
        memset(H + r * ld, 0, cols * sizeof(double));
}

/* 1 if every entry of the W block is surely finite: each is a sum of
 * terms (coefficient) x (components of unit vectors and tangents, at most
 * 1 + a few ulps in size, |e| = sin), and the sum of all the coefficients'
 * sizes bounds every partial sum; NaN in any coefficient fails the test.
 * O(m (m + k)) scalars instead of a read pass over the N^2 entries. */
static int surely_finite(const tsrelu__hess_ws *ws)
{
    size_t m = ws->m, n = ws->n;
    double bound = 0.0;
    for (size_t i = 0; i < m; i++) {
        if (ws->norm[i] == 0.0)
            continue;
        bound += fabs(0.5 * ws->c[i] * ws->c[i]) + 2.0 * fabs(ws->rho[i]);
        for (size_t q = 0; q < n; q++) {
            if (!is_pair(ws, i, q))
                continue;
            double s = ws->sn[i * n + q];
            bound += fabs(uu_coef(ws, i, q)) * s * s;
            if (q < m)
                bound += fabs(ws->c[i] * ws->c[q]) * (TSRELU_PI + 1.0) * TSRELU_INV_2PI +
                         fabs(uv_coef(ws, i, q)) * s * s;
        }
    }
    return bound <= 0x1p1000;
}

int tsrelu__hess_dense(tsrelu__hess_ws *ws, unsigned flags, double *H, size_t ld)
{
    size_t m = ws->m, d = ws->d, md = m * d;
    const tsrelu__simd_ops *ops = tsrelu__simd();
    int out = (flags & TSRELU_HESSIAN_OUTPUT) != 0, finite = 1, check = !out && !surely_finite(ws);
    pair_tangents(ws);
    for (size_t i = 0; i < m; i++) {
        double *Hii = H + i * d * ld + i * d;
        if (ws->norm[i] == 0.0)
            zero_block(Hii, ld, d, d);
        else
            diag_block(ws, ops, i, Hii, ld);
        for (size_t l = i + 1; l < m; l++) {
            if (ws->norm[i] == 0.0 || ws->norm[l] == 0.0) {
                zero_block(H + i * d * ld + l * d, ld, d, d);
                zero_block(H + l * d * ld + i * d, ld, d, d);
            } else {
                pair_blocks(ws, ops, i, l, H, ld);
            }
        }
        /* rows i d .. i d + d - 1 are complete (blocks (i, l < i) came
         * from earlier rows): checked while in cache, not in a pass over
         * the whole matrix after, and only when the coefficients do not
         * bound them */
        for (size_t r = 0; check && r < d; r++)
            finite &= ops->finite(H + (i * d + r) * ld, md);
    }
    if (!out)
        return finite;
    double *col = ws->col;
    for (size_t i = 0; i < m; i++) {
        for (size_t q = 0; q < m; q++) {
            int zero = ws->norm[i] == 0.0 || ws->norm[q] == 0.0;
            if (!zero)
                wa_column(ws, i, q, col);
            for (size_t c = 0; c < d; c++)
                H[(i * d + c) * ld + md + q] = H[(md + q) * ld + i * d + c] = zero ? 0.0 : col[c];
            if (q >= i)
                H[(md + i) * ld + md + q] = H[(md + q) * ld + md + i] = aa_entry(ws, i, q);
        }
    }
    for (size_t r = 0; r < md + m; r++)
        finite &= ops->finite(H + r * ld, md + m);
    return finite;
}

/* The a part of y = H x (with TSRELU_HESSIAN_OUTPUT) from G = X U^T
 * (tx, before the tangent components replace it) and zx: for each student
 * i, H[a_q, w_i] x_i = wa_column(i, q) . x_i, read from G[i][q] and
 * w^_i . x_i, and H[a_i, a_q] x_{a_q}. O(m (m + k)) scalars. */
static void output_rows(const tsrelu__hess_ws *ws, const double *x, double *y)
{
    size_t m = ws->m, n = ws->n, md = m * ws->d;
    const double *G = ws->tx, *zx = ws->zx, *xa = x + md;
    double *ya = y + md;
    for (size_t i = 0; i < m; i++) {
        if (ws->norm[i] == 0.0)
            continue;
        double acc = 0.0;
        for (size_t q = 0; q < n; q++) {
            if (q == i || ws->norm[q] == 0.0)
                continue;
            size_t iq = i * n + q;
            double pt = (TSRELU_PI - ws->theta[iq]) * TSRELU_INV_2PI;
            acc += ws->c[q] * ws->norm[q] * pt * G[iq]; /* column (i, i) */
            if (q < m) {
                double w = ws->c[i] * ws->norm[q];
                ya[q] += w * pt * G[iq] + w * ws->sn[iq] * TSRELU_INV_2PI * zx[i];
                acc += aa_entry(ws, i, q) * xa[q];
            }
        }
        ya[i] += acc + ws->rad[i] * zx[i] + aa_entry(ws, i, i) * xa[i];
    }
}

/* The W part of y = H x in three matrix products and O(m (m + k)) scalar
 * work, without the tangents: G = X U^T (G[i][q] = x_i . u^_q, m x n)
 * gives e_iq . x_i = G[i][q] - cos_iq w^_i . x_i (w^_i . x_i = G[i][i]),
 * from which both the e e^T terms of the diagonal blocks and the e f^T
 * terms of the off-diagonal ones (f . x_q = e_qi . x_q) are read; then
 * y_i = sum_q co[i][q] e_iq = (co U)_i - (sum_q co[i][q] cos_iq) w^_i, plus
 * the (pi - theta) x_q terms (a product by the m x m matrix, stored in
 * co's first m columns after use) and the radial terms along w^_i. co is
 * stored transposed (n x m) and multiplied as such: OpenBLAS 0.3.21's
 * NoTrans x NoTrans small-matrix kernel (its AVX-512 kernels, chosen when
 * OPENBLAS_CORETYPE is unset) allocates on every call. The
 * differences G - cos w^.x have an absolute error of a few ulps of |x|, as
 * the dot products with the formed tangents (kernel.h) had: the error
 * bound is the same (docs/numerics.md, section 6). */
void tsrelu__hess_vector(tsrelu__hess_ws *ws, unsigned flags, const double *x, double *y)
{
    size_t m = ws->m, d = ws->d, n = ws->n, md = m * d;
    int out = (flags & TSRELU_HESSIAN_OUTPUT) != 0;
    double *tx = ws->tx, *co = ws->co, *zx = ws->zx;
    memset(y, 0, tsrelu__hess_dim(ws, flags) * sizeof(double));
    if (m == 0 || d == 0)
        return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d, 1.0, x, (int)d,
                ws->unit, (int)d, 0.0, tx, (int)n);
    for (size_t i = 0; i < m; i++)
        zx[i] = ws->norm[i] != 0.0 ? tx[i * n + i] : 0.0;
    if (out)
        output_rows(ws, x, y);
    for (size_t i = 0; i < m; i++)
        for (size_t q = 0; q < n; q++) {
            size_t iq = i * n + q;
            tx[iq] = is_pair(ws, i, q) ? tx[iq] - ws->cs[iq] * zx[i] : 0.0;
        }
    const double *xa = x + md;
    memset(co, 0, n * m * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        double *ci = co + i, along = 0.0; /* column i of co^T: ci[q * m] */
        if (ws->norm[i] == 0.0)
            continue;
        for (size_t q = 0; q < n; q++) {
            if (q == i || ws->norm[q] == 0.0)
                continue;
            size_t iq = i * n + q;
            double coef = uu_coef(ws, i, q) * tx[iq];
            if (q < m) {
                double aa = ws->c[i] * ws->c[q] * TSRELU_INV_2PI;
                along += aa * ws->sn[iq] * zx[q];
                coef += uv_coef(ws, i, q) * tx[q * n + i];
            }
            ci[q * m] = coef;
            along -= coef * ws->cs[iq];
            if (out) { /* the columns of a (wa_column): plain u^_q terms, and along w^_i */
                double cu = ws->c[q] * ws->norm[q], pt = (TSRELU_PI - ws->theta[iq]) * TSRELU_INV_2PI;
                ci[q * m] += xa[i] * cu * pt;
                if (q < m) {
                    double w = ws->c[i] * ws->norm[q] * TSRELU_INV_2PI;
                    ci[q * m] += xa[q] * w * (TSRELU_PI - ws->theta[iq]);
                    along += xa[q] * w * ws->sn[iq];
                }
            }
        }
        if (out)
            along += xa[i] * ws->rad[i];
        /* the coefficient along w^_i, in the slot (i, i) of tx (0: no
         * pair), as zx[i] is still read by the rows after this one */
        tx[i * n + i] = along - ws->rho[i] * zx[i];
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)d, (int)n, 1.0, co, (int)m,
                ws->unit, (int)d, 0.0, y, (int)d);
    for (size_t i = 0; i < m; i++) {
        if (ws->norm[i] == 0.0)
            continue;
        const double *p = ws->unit + i * d, *xi = x + i * d;
        double *yi = y + i * d, diag = 0.5 * ws->c[i] * ws->c[i] + ws->rho[i];
        double along_p = tx[i * n + i];
        for (size_t c = 0; c < d; c++)
            yi[c] += diag * xi[c] + along_p * p[c];
    }
    /* the (pi - theta) x_q terms: co^T[q][i] = a_i a_q (pi - theta_iq) / 2pi */
    for (size_t q = 0; q < m; q++)
        for (size_t i = 0; i < m; i++)
            co[q * m + i] = (q == i || ws->norm[i] == 0.0 || ws->norm[q] == 0.0)
                                ? 0.0
                                : ws->c[i] * ws->c[q] * TSRELU_INV_2PI *
                                      (TSRELU_PI - ws->theta[i * n + q]);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)d, (int)m, 1.0, co, (int)m,
                x, (int)d, 1.0, y, (int)d);
}

/* ---------------- public entry points ---------------- */

tsrelu_status tsrelu__hess_check(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t,
                                unsigned flags, size_t *N)
{
    tsrelu_status st = tsrelu__check_pair(fn, s, t);
    if (st != TSRELU_OK)
        return st;
    if (flags & ~TSRELU_HESSIAN_OUTPUT)
        return tsrelu__fail(TSRELU_EINVAL, "%s: unknown flags 0x%x", fn,
                            flags & ~TSRELU_HESSIAN_OUTPUT);
    size_t md;
    if ((st = tsrelu__mul_size(s->m, s->d, fn, &md)) != TSRELU_OK)
        return st;
    *N = md + ((flags & TSRELU_HESSIAN_OUTPUT) ? s->m : 0);
    if (*N < md)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: N overflows size_t", fn);
    return TSRELU_OK;
}

tsrelu_status tsrelu__hess_at(const char *fn, tsrelu__hess_ws *ws, const tsrelu_student *s,
                              const tsrelu_teacher *t, int dense)
{
    tsrelu_status st = tsrelu__hess_alloc(ws, s->m, t->k, t->d, dense);
    if (st != TSRELU_OK)
        return tsrelu__context(st, "%s", fn);
    tsrelu__hess_prepare(ws, s->W, s->a, t);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_hessian(const tsrelu_student *s, const tsrelu_teacher *t,
                                        unsigned flags, double *H, size_t H_len)
{
    size_t N = 0, NN;
    tsrelu_status st = tsrelu__hess_check("tsrelu_hessian", s, t, flags, &N);
    if (st != TSRELU_OK)
        return st;
    if (!H)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_hessian: H is NULL");
    if ((st = tsrelu__mul_size(N, N, "tsrelu_hessian: N*N", &NN)) != TSRELU_OK ||
        (st = tsrelu__check_len(H_len, NN, "tsrelu_hessian: H")) != TSRELU_OK)
        return st;
    tsrelu__hess_ws ws;
    if ((st = tsrelu__hess_at("tsrelu_hessian", &ws, s, t, 1)) != TSRELU_OK)
        return st;
    int finite = tsrelu__hess_dense(&ws, flags, H, N);
    tsrelu__hess_free(&ws);
    /* the full check only to name the first entry that is not finite */
    return finite ? TSRELU_OK : tsrelu__check_finite(H, NN, "tsrelu_hessian: H");
}

TSRELU_API tsrelu_status tsrelu_hessian_vector(const tsrelu_student *s, const tsrelu_teacher *t,
                                               unsigned flags, const double *x, size_t x_len,
                                               double *y, size_t y_len)
{
    const char *fn = "tsrelu_hessian_vector";
    size_t N = 0;
    tsrelu_status st = tsrelu__hess_check(fn, s, t, flags, &N);
    if (st != TSRELU_OK)
        return st;
    if (!x || !y)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, !x ? "x" : "y");
    if (x == y)
        return tsrelu__fail(TSRELU_EINVAL, "%s: x and y are the same buffer", fn);
    if ((st = tsrelu__check_len(x_len, N, "tsrelu_hessian_vector: x")) != TSRELU_OK ||
        (st = tsrelu__check_len(y_len, N, "tsrelu_hessian_vector: y")) != TSRELU_OK ||
        (st = tsrelu__check_finite(x, N, "tsrelu_hessian_vector: x")) != TSRELU_OK)
        return st;
    tsrelu__hess_ws ws;
    if ((st = tsrelu__hess_at(fn, &ws, s, t, 0)) != TSRELU_OK)
        return st;
    tsrelu__hess_vector(&ws, flags, x, y);
    tsrelu__hess_free(&ws);
    return tsrelu__check_finite(y, N, "tsrelu_hessian_vector: y");
}

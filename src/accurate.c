/* The population loss in quadruple precision, for excess risks far below the
 * double-precision floor of tsrelu_loss(). Same split form:
 *   L = 1/4 |r|^2 + 1/(2 pi) sum_{n<n'} c_n c_n' |u_n||u_n'| kappa(theta_nn').
 * Products of two doubles are exact in quad (106 <= 113 bits), so r is exact
 * to the final rounding of its sums; angles use the exact 2 atan2 form for
 * every pair; the pair sum is compensated (Kahan) so that its error stays at
 * a few quad ulps of sum |terms| <= (sum_n |c_n||u_n|)^2. */
#include "model.h"
#include "kernel.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>

static const tsrelu_quad INV_2PI_Q =
    __extension__ 0.1591549430918953357688837633725143620345Q;

typedef struct {
    tsrelu_quad sum, comp;
} kahan;

static void kahan_add(kahan *k, tsrelu_quad x)
{
    tsrelu_quad y = x - k->comp;
    tsrelu_quad t = k->sum + y;
    k->comp = (t - k->sum) - y;
    k->sum = t;
}

/* Unit rows (0 for zero rows) and norms of U = [W; V] in quad. The quad
 * exponent range (1e+-4932) holds every square of a double, so no scaling. */
static void unit_rows_q(const tsrelu_student *s, const tsrelu_teacher *t,
                        tsrelu_quad *unit, tsrelu_quad *norm)
{
    size_t m = s->m, k = t->k, d = s->d;
    for (size_t n = 0; n < m + k; n++) {
        const double *u = n < m ? s->W + n * d : t->V + (n - m) * d;
        tsrelu_quad *p = unit + n * d, ss = 0;
        for (size_t c = 0; c < d; c++) {
            p[c] = (tsrelu_quad)u[c];
            ss += p[c] * p[c];
        }
        norm[n] = tsrelu__sqrt_q(ss);
        if (ss == 0)
            continue;
        for (size_t c = 0; c < d; c++)
            p[c] /= norm[n];
    }
}

tsrelu_status tsrelu__accurate_scratch_len(const char *fn, size_t m, size_t k, size_t d, size_t *len)
{
    size_t n = m + k, nd;
    tsrelu_status st = tsrelu__mul_size(n, d, "(m+k)*d", &nd);
    if (st != TSRELU_OK)
        return tsrelu__context(st, "%s", fn);
    if (n > SIZE_MAX / sizeof(tsrelu_quad) || nd > SIZE_MAX / sizeof(tsrelu_quad) - n)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: workspace overflows size_t", fn);
    *len = nd + n;
    return TSRELU_OK;
}

double tsrelu__loss_accurate_in(const tsrelu_student *s, const tsrelu_teacher *t, void *scratch)
{
    size_t m = s->m, k = t->k, d = s->d, n = m + k;
    tsrelu_quad *unit = scratch, *norm = unit + n * d;
    unit_rows_q(s, t, unit, norm);

    /* 1/4 |r|^2, r = sum_n c_n u_n with exact products */
    tsrelu_quad r2 = 0;
    for (size_t c = 0; c < d; c++) {
        tsrelu_quad rc = 0;
        for (size_t i = 0; i < m; i++)
            rc += (tsrelu_quad)s->a[i] * (tsrelu_quad)s->W[i * d + c];
        for (size_t j = 0; j < k; j++)
            rc -= (tsrelu_quad)t->b[j] * (tsrelu_quad)t->V[j * d + c];
        r2 += rc * rc;
    }

    kahan ks = {0, 0};
    for (size_t p = 0; p < n; p++) {
        if (norm[p] == 0)
            continue;
        tsrelu_quad cp = (p < m ? (tsrelu_quad)s->a[p] : -(tsrelu_quad)t->b[p - m]) * norm[p];
        for (size_t q = p + 1; q < n; q++) {
            if (norm[q] == 0)
                continue;
            tsrelu_quad cq = (q < m ? (tsrelu_quad)s->a[q] : -(tsrelu_quad)t->b[q - m]) * norm[q];
            tsrelu_quad th = tsrelu__angle_unit_q(unit + p * d, unit + q * d, d);
            kahan_add(&ks, cp * cq * tsrelu__kappa_q(th));
        }
    }
    tsrelu_quad L = r2 / 4 + (ks.sum - ks.comp) * INV_2PI_Q;
    return (double)L;
}

size_t tsrelu__gradient_accurate_len(size_t m, size_t k, size_t d)
{
    return (m + k) * (d + 1) + 2 * d; /* unit rows and norms, r, one accumulator */
}

void tsrelu__gradient_accurate_in(size_t m, const double *W, const double *a, const tsrelu_teacher *t,
                                  void *scratch, double *gW, double *ga)
{
    size_t k = t->k, d = t->d, n = m + k;
    tsrelu_quad *unit = scratch, *norm = unit + n * d, *r = norm + n, *acc = r + d;
    tsrelu_student s = {m, d, (double *)W, (double *)a, 0};
    unit_rows_q(&s, t, unit, norm);
    for (size_t c = 0; c < d; c++) {
        tsrelu_quad rc = 0;
        for (size_t i = 0; i < m; i++)
            rc += (tsrelu_quad)a[i] * (tsrelu_quad)W[i * d + c];
        for (size_t j = 0; j < k; j++)
            rc -= (tsrelu_quad)t->b[j] * (tsrelu_quad)t->V[j * d + c];
        r[c] = rc;
    }
    for (size_t i = 0; i < m; i++) {
        double *g = gW + i * d;
        if (norm[i] == 0) { /* relu'(0) = 0: a zero student gets no gradient */
            for (size_t c = 0; c < d; c++)
                g[c] = 0.0;
            if (ga)
                ga[i] = 0.0;
            continue;
        }
        tsrelu_quad S = 0, K = 0;
        for (size_t c = 0; c < d; c++)
            acc[c] = 0;
        for (size_t q = 0; q < n; q++) {
            if (q == i || norm[q] == 0)
                continue;
            const double *u = q < m ? W + q * d : t->V + (q - m) * d;
            tsrelu_quad cq = q < m ? (tsrelu_quad)a[q] : -(tsrelu_quad)t->b[q - m], sn;
            tsrelu_quad th = tsrelu__angle_sin_unit_q(unit + i * d, unit + q * d, d, &sn);
            S += cq * norm[q] * sn;
            if (ga)
                K += cq * norm[q] * tsrelu__kappa_q(th);
            tsrelu_quad f = cq * th;
            for (size_t c = 0; c < d; c++)
                acc[c] += f * (tsrelu_quad)u[c];
        }
        tsrelu_quad ai = (tsrelu_quad)a[i], wr = 0;
        for (size_t c = 0; c < d; c++) {
            g[c] = (double)(ai * (r[c] / 2 + (S * unit[i * d + c] - acc[c]) * INV_2PI_Q));
            wr += (tsrelu_quad)W[i * d + c] * r[c];
        }
        if (ga)
            ga[i] = (double)(wr / 2 + norm[i] * K * INV_2PI_Q);
    }
}

TSRELU_API tsrelu_status tsrelu_loss_accurate(const tsrelu_student *s, const tsrelu_teacher *t,
                                              double *loss)
{
    tsrelu_status st = tsrelu__check_pair("tsrelu_loss_accurate", s, t);
    if (st != TSRELU_OK)
        return st;
    if (!loss)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_loss_accurate: loss is NULL");
    size_t len = 0;
    if ((st = tsrelu__accurate_scratch_len("tsrelu_loss_accurate", s->m, t->k, s->d, &len)) != TSRELU_OK)
        return st;
    tsrelu_quad *scratch = malloc(len * sizeof(tsrelu_quad));
    if (!scratch)
        return tsrelu__fail(TSRELU_ENOMEM, "tsrelu_loss_accurate: out of memory");
    *loss = tsrelu__loss_accurate_in(s, t, scratch);
    free(scratch);
    if (!isfinite(*loss))
        return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_loss_accurate: loss is not finite (%g)", *loss);
    return TSRELU_OK;
}

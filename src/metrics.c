/* Metrics of the dynamics read from handles: student-teacher angles, the
 * nearest-teacher grouping, radial and tangential components, projection
 * deficits, balance of the groups, and the power-law rate fit. Angles come
 * from kernel.c's exact form; nothing here re-derives the kernel. */
#include "model.h"
#include "kernel.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>

/* Angle of student i to teacher j (NaN for a zero student). */
static double angle_ij(const tsrelu_student *s, const tsrelu_teacher *t, size_t i, size_t j)
{
    const double *w = s->W + i * s->d;
    if (tsrelu__norm(w, s->d) == 0.0)
        return NAN;
    return tsrelu__angle(w, t->V + j * t->d, s->d);
}

TSRELU_API tsrelu_status tsrelu_angles(const tsrelu_student *s, const tsrelu_teacher *t,
                                       double *theta, size_t len)
{
    tsrelu_status st = tsrelu__check_pair("tsrelu_angles", s, t);
    if (st != TSRELU_OK)
        return st;
    if (!theta)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_angles: theta is NULL");
    size_t mk;
    if ((st = tsrelu__mul_size(s->m, t->k, "tsrelu_angles: m*k", &mk)) != TSRELU_OK ||
        (st = tsrelu__check_len(len, mk, "tsrelu_angles: theta")) != TSRELU_OK)
        return st;
    for (size_t i = 0; i < s->m; i++)
        for (size_t j = 0; j < t->k; j++)
            theta[i * t->k + j] = angle_ij(s, t, i, j);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_nearest_teacher(const tsrelu_student *s, const tsrelu_teacher *t,
                                                int *tau, size_t len)
{
    tsrelu_status st = tsrelu__check_pair("tsrelu_nearest_teacher", s, t);
    if (st != TSRELU_OK)
        return st;
    if (!tau)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_nearest_teacher: tau is NULL");
    if ((st = tsrelu__check_len(len, s->m, "tsrelu_nearest_teacher: tau")) != TSRELU_OK)
        return st;
    return tsrelu__nearest("tsrelu_nearest_teacher", s, t, tau);
}

tsrelu_status tsrelu__groups(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t,
                             const int *tau, size_t tau_len, int *out)
{
    if (!tau)
        return tsrelu__nearest(fn, s, t, out);
    if (tau_len != s->m)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: tau has length %zu, %zu (m) required", fn,
                            tau_len, s->m);
    for (size_t i = 0; i < s->m; i++) {
        if (tau[i] < -1 || (tau[i] >= 0 && (size_t)tau[i] >= t->k))
            return tsrelu__fail(TSRELU_EINVAL, "%s: tau[%zu]=%d is not in [-1, %zu]",
                                fn, i, tau[i], t->k - 1);
        /* a zero student belongs to no group */
        out[i] = tsrelu__norm(s->W + i * s->d, s->d) == 0.0 ? -1 : tau[i];
    }
    return TSRELU_OK;
}

/* Shared prologue of the group metrics: handles, the output length (m per
 * student or k per teacher), and the groups in a fresh array. */
static tsrelu_status group_setup(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t,
                                 const int *tau, size_t tau_len, size_t len, int per_teacher,
                                 int **groups)
{
    tsrelu_status st = tsrelu__check_pair(fn, s, t);
    if (st != TSRELU_OK)
        return st;
    size_t want = per_teacher ? t->k : s->m;
    if (len != want)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: output length %zu given, %zu (%s) required", fn, len,
                            want, per_teacher ? "k" : "m");
    *groups = malloc((s->m ? s->m : 1) * sizeof(int));
    if (!*groups)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    if ((st = tsrelu__groups(fn, s, t, tau, tau_len, *groups)) != TSRELU_OK) {
        free(*groups);
        *groups = NULL;
    }
    return st;
}

/* |w_i| cos and |w_i| sin of the exact angle to teacher l. */
static void radial_tangential(const tsrelu_student *s, const tsrelu_teacher *t, size_t i, int l,
                              double *rad, double *tan_)
{
    if (l < 0) {
        *rad = *tan_ = 0.0;
        return;
    }
    /* |w_i| = scaled 2^e: one rounding when the result is subnormal */
    tsrelu__dir dw = tsrelu__direction(s->W + i * s->d, s->d);
    double th = tsrelu__angle(s->W + i * s->d, t->V + (size_t)l * t->d, s->d);
    *rad = ldexp(dw.scaled * cos(th), dw.e);
    *tan_ = ldexp(dw.scaled * sin(th), dw.e);
}

TSRELU_API tsrelu_status tsrelu_components(const tsrelu_student *s, const tsrelu_teacher *t,
                                           const int *tau, size_t tau_len, double *radial,
                                           double *tangential, size_t len)
{
    const char *fn = "tsrelu_components";
    if (!radial || !tangential)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, radial ? "tangential" : "radial");
    int *g;
    tsrelu_status st = group_setup(fn, s, t, tau, tau_len, len, 0, &g);
    if (st != TSRELU_OK)
        return st;
    for (size_t i = 0; i < s->m; i++)
        radial_tangential(s, t, i, g[i], &radial[i], &tangential[i]);
    free(g);
    return TSRELU_OK;
}

void tsrelu__deficits(const tsrelu_teacher *t, size_t m, const int *group, const double *a,
                      const double *radial, double *H, size_t *count)
{
    for (size_t l = 0; l < t->k; l++) {
        H[l] = t->b[l] * t->norm[l];
        if (count)
            count[l] = 0;
    }
    for (size_t i = 0; i < m; i++)
        if (group[i] >= 0) {
            H[group[i]] -= a[i] * radial[i];
            if (count)
                count[group[i]]++;
        }
}

TSRELU_API tsrelu_status tsrelu_deficit(const tsrelu_student *s, const tsrelu_teacher *t,
                                        const int *tau, size_t tau_len, double *H, size_t len)
{
    const char *fn = "tsrelu_deficit";
    if (!H)
        return tsrelu__fail(TSRELU_EINVAL, "%s: H is NULL", fn);
    int *g;
    tsrelu_status st = group_setup(fn, s, t, tau, tau_len, len, 1, &g);
    if (st != TSRELU_OK)
        return st;
    double *rad = malloc((s->m ? s->m : 1) * sizeof(double));
    if (!rad) {
        free(g);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    }
    for (size_t i = 0; i < s->m; i++) {
        double tan_;
        radial_tangential(s, t, i, g[i], &rad[i], &tan_);
    }
    tsrelu__deficits(t, s->m, g, s->a, rad, H, NULL);
    free(rad);
    free(g);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_balance(const tsrelu_student *s, const tsrelu_teacher *t,
                                        const int *tau, size_t tau_len, int *size,
                                        double *ratio_min, double *ratio_max, double *excess,
                                        size_t len)
{
    const char *fn = "tsrelu_balance";
    if (!size || !ratio_min || !ratio_max || !excess)
        return tsrelu__fail(TSRELU_EINVAL, "%s: an output buffer is NULL", fn);
    int *g;
    tsrelu_status st = group_setup(fn, s, t, tau, tau_len, len, 1, &g);
    if (st != TSRELU_OK)
        return st;
    size_t k = t->k;
    for (size_t l = 0; l < k; l++) {
        size[l] = 0;
        excess[l] = 0.0;
        ratio_min[l] = INFINITY;
        ratio_max[l] = -INFINITY;
    }
    for (size_t i = 0; i < s->m; i++)
        if (g[i] >= 0)
            size[g[i]]++;
    for (size_t i = 0; i < s->m; i++) {
        /* b_l = 0: the balanced split b_l v_l / m_l is 0, no ratio exists */
        if (g[i] < 0 || t->b[g[i]] == 0.0)
            continue;
        size_t l = (size_t)g[i];
        /* ratio = a_i |w_i| / (b_l |v_l| / m_l), from the rescaled norms:
         * a subnormal norm has lost the digits the ratio needs */
        tsrelu__dir dw = tsrelu__direction(s->W + i * s->d, s->d);
        tsrelu__dir dv = tsrelu__direction(t->V + l * t->d, t->d);
        double r = ldexp((double)size[l] * (s->a[i] * dw.scaled) / (t->b[l] * dv.scaled),
                         dw.e - dv.e);
        if (r < ratio_min[l])
            ratio_min[l] = r;
        if (r > ratio_max[l])
            ratio_max[l] = r;
        excess[l] += r * r / (double)size[l];
    }
    for (size_t l = 0; l < k; l++) {
        if (size[l] == 0 || t->b[l] == 0.0)
            ratio_min[l] = ratio_max[l] = excess[l] = NAN;
        else
            excess[l] -= 1.0;
    }
    free(g);
    return TSRELU_OK;
}

static int usable(double t, double L, double t_lo, double t_hi)
{
    return t >= t_lo && t <= t_hi && t > 0.0 && L > 0.0 && isfinite(t) && isfinite(L);
}

TSRELU_API tsrelu_status tsrelu_rate_fit(const double *t, const double *L, size_t n, double t_lo,
                                         double t_hi, double *slope, double *intercept)
{
    if (!t || !L || !slope)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_rate_fit: %s is NULL", !t ? "t" : !L ? "L" : "slope");
    /* two passes (means, then centred sums) for a well-conditioned fit */
    double sx = 0.0, sy = 0.0;
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        if (usable(t[i], L[i], t_lo, t_hi)) {
            sx += log(t[i]);
            sy += log(L[i]);
            cnt++;
        }
    if (cnt < 2)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_rate_fit: %zu usable points in [%g, %g], need 2",
                            cnt, t_lo, t_hi);
    double mx = sx / (double)cnt, my = sy / (double)cnt, sxx = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++)
        if (usable(t[i], L[i], t_lo, t_hi)) {
            double dx = log(t[i]) - mx;
            sxx += dx * dx;
            sxy += dx * (log(L[i]) - my);
        }
    if (sxx == 0.0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_rate_fit: all usable t are equal");
    *slope = sxy / sxx;
    if (intercept)
        *intercept = my - *slope * mx;
    return TSRELU_OK;
}

/* The GD state's phase tracker and the public phase API: groups at iteration 0 and now, t1 (end of
 * alignment), t2 (end of tangential growth), the current phase and the
 * number of group switches. It reads the nearest teachers and angles that
 * population.c's pair pass already computed, so tracking costs O(m + k) per
 * iterate (the deficits only in phase 2, or for a recorded row) and no
 * allocation. */
#include "phases.h"
#include "gd.h"
#include "kernel.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_EPS_ALIGN 0.05
#define DEFAULT_EPS_DEFICIT 0.05

tsrelu_status tsrelu__phases_alloc(tsrelu__phases *ph, size_t m, size_t k)
{
    memset(ph, 0, sizeof *ph);
    ph->tau0 = malloc(m * sizeof(int));
    ph->tau = malloc(m * sizeof(int));
    ph->H = malloc(k * sizeof(double));
    ph->radial = malloc(m * sizeof(double));
    ph->count = malloc(k * sizeof(size_t));
    if (!ph->tau0 || !ph->tau || !ph->H || !ph->radial || !ph->count) {
        tsrelu__phases_free(ph);
        return tsrelu__fail(TSRELU_ENOMEM, "phase tracker: out of memory");
    }
    ph->m = m;
    ph->eps_align = DEFAULT_EPS_ALIGN;
    ph->eps_deficit = DEFAULT_EPS_DEFICIT;
    tsrelu__phases_reset(ph);
    return TSRELU_OK;
}

void tsrelu__phases_free(tsrelu__phases *ph)
{
    free(ph->tau0);
    free(ph->tau);
    free(ph->H);
    free(ph->radial);
    free(ph->count);
    memset(ph, 0, sizeof *ph);
}

void tsrelu__phases_reset(tsrelu__phases *ph)
{
    ph->t1 = ph->t2 = -1;
    ph->phase = 1;
}

/* Every non-zero student within eps_align of its nearest teacher (and at
 * least one non-zero student: an all-zero student never aligns). */
static int aligned(const tsrelu__phases *ph, size_t m, const tsrelu__ws *ws)
{
    int any = 0;
    for (size_t i = 0; i < m; i++) {
        if (ws->near[i] < 0)
            continue;
        if (!(ws->near_theta[i] <= ph->eps_align))
            return 0;
        any = 1;
    }
    return any;
}

void tsrelu__phases_deficits(tsrelu__phases *ph, const tsrelu_teacher *t, size_t m,
                             const double *a, const tsrelu__ws *ws)
{
    for (size_t i = 0; i < m; i++)
        ph->radial[i] = ws->near[i] >= 0 ? ws->norm_w[i] * ws->near_cos[i] : 0.0;
    tsrelu__deficits(t, m, ws->near, a, ph->radial, ph->H, ph->count);
}

/* The deficits H_l (metrics.c's one definition) of the nearest groups; 1 if
 * every non-empty group is within eps_deficit of its teacher. */
static int grown(tsrelu__phases *ph, const tsrelu_teacher *t, size_t m, const double *a,
                 const tsrelu__ws *ws)
{
    tsrelu__phases_deficits(ph, t, m, a, ws);
    for (size_t l = 0; l < t->k; l++)
        if (ph->count[l] > 0 && !(fabs(ph->H[l]) <= ph->eps_deficit * fabs(t->b[l]) * t->norm[l]))
            return 0;
    return 1;
}

void tsrelu__phases_update(tsrelu__phases *ph, const tsrelu_teacher *t, size_t m,
                           const double *a, const tsrelu__ws *ws, uint64_t iter)
{
    memcpy(ph->tau, ws->near, m * sizeof(int));
    if (iter == 0 || !ph->have_tau0) {
        memcpy(ph->tau0, ws->near, m * sizeof(int));
        ph->have_tau0 = 1;
    }
    ph->switches = 0;
    for (size_t i = 0; i < m; i++)
        ph->switches += ph->tau[i] != ph->tau0[i];
    /* the tests in phase order, each only while its time is unknown (the
     * deficits only in phase 2: O(m + k) a step saved in the others) */
    if (ph->t1 < 0 && aligned(ph, m, ws))
        ph->t1 = (int64_t)iter;
    if (ph->t1 >= 0 && ph->t2 < 0 && grown(ph, t, m, a, ws))
        ph->t2 = (int64_t)iter;
    ph->phase = ph->t2 >= 0 ? 3 : ph->t1 >= 0 ? 2 : 1;
}

/* ---------------- the public phase API ---------------- */

TSRELU_API tsrelu_status tsrelu_gd_set_phase_thresholds(tsrelu_gd *gd, double eps_align,
                                                        double eps_deficit)
{
    tsrelu_status st = tsrelu__gd_idle(gd, "tsrelu_gd_set_phase_thresholds");
    if (st != TSRELU_OK)
        return st;
    tsrelu__phases *ph = tsrelu__gd_tracker(gd);
    if (!isfinite(eps_align) || !isfinite(eps_deficit))
        return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_gd_set_phase_thresholds: eps_align=%g, eps_deficit=%g",
                            eps_align, eps_deficit);
    if (!(eps_align > 0.0 && eps_align < TSRELU_PI) || !(eps_deficit > 0.0))
        return tsrelu__fail(TSRELU_EINVAL,
                            "tsrelu_gd_set_phase_thresholds: need 0 < eps_align=%g < pi and eps_deficit=%g > 0",
                            eps_align, eps_deficit);
    ph->eps_align = eps_align;
    ph->eps_deficit = eps_deficit;
    tsrelu__phases_reset(ph);
    tsrelu__gd_retrack(gd);
    return TSRELU_OK;
}

TSRELU_API int tsrelu_gd_phase(const tsrelu_gd *gd)
{
    return gd ? tsrelu__gd_tracker(gd)->phase : 0;
}

TSRELU_API tsrelu_status tsrelu_gd_phase_times(const tsrelu_gd *gd, int64_t *t1, int64_t *t2)
{
    if (!gd)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_phase_times: gd is NULL");
    const tsrelu__phases *ph = tsrelu__gd_tracker(gd);
    if (t1)
        *t1 = ph->t1;
    if (t2)
        *t2 = ph->t2;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_groups(const tsrelu_gd *gd, int initial, int *tau, size_t len)
{
    if (!gd)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_groups: gd is NULL");
    const tsrelu__phases *ph = tsrelu__gd_tracker(gd);
    if (!tau)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_groups: tau is NULL");
    tsrelu_status st = tsrelu__check_len(len, ph->m, "tsrelu_gd_groups: tau");
    if (st != TSRELU_OK)
        return st;
    memcpy(tau, initial ? ph->tau0 : ph->tau, len * sizeof(int));
    return TSRELU_OK;
}

TSRELU_API size_t tsrelu_gd_group_switches(const tsrelu_gd *gd)
{
    return gd ? tsrelu__gd_tracker(gd)->switches : 0;
}

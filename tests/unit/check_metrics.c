/* Check suite for src/metrics.c and src/phases.c: every metric against values
 * computed by hand, the phase tracker against the metric functions on a run,
 * and the rate fit on synthetic power laws and exponentials. */
#include "suites.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tsrelu.h"

#define PI 3.14159265358979323846

/* Teacher v0 = (1,0,0), v1 = (0,2,0), b = (1, 0.5).
 * Students w0 = (1,1,0)  [pi/4 to both: tie -> 0]
 *          w1 = (0,3,4)  [pi/2 to v0, acos(3/5) to v1 -> 1]
 *          w2 = 0        [-1]
 *          w3 = (-1,0,0) [pi to v0, pi/2 to v1 -> 1]
 * a = (1, 2, 1, 0.5). */
static tsrelu_teacher *T;
static tsrelu_student *S;

static void setup(void)
{
    const double V[6] = {1, 0, 0, 0, 2, 0}, b[2] = {1, 0.5};
    const double W[12] = {1, 1, 0, 0, 3, 4, 0, 0, 0, -1, 0, 0}, a[4] = {1, 2, 1, 0.5};
    ck_assert_int_eq(tsrelu_teacher_create(2, 3, V, b, &T), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(4, 3, W, a, &S), TSRELU_OK);
}

static void teardown(void)
{
    tsrelu_student_free(S);
    tsrelu_teacher_free(T);
}

START_TEST(angles_by_hand)
{
    double th[8];
    ck_assert_int_eq(tsrelu_angles(S, T, th, 8), TSRELU_OK);
    const double want[8] = {PI / 4, PI / 4, PI / 2, acos(0.6), NAN, NAN, PI, PI / 2};
    for (int i = 0; i < 8; i++) {
        if (isnan(want[i]))
            ck_assert_msg(isnan(th[i]), "theta[%d] = %g, want NaN (zero student)", i, th[i]);
        else
            ck_assert_double_eq_tol(th[i], want[i], 4e-16);
    }
}
END_TEST

START_TEST(angles_tiny_and_near_pi)
{
    const double V[2] = {1, 0};
    const double W[4] = {1, 1e-10, -1, 3e-12};
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create(1, 2, V, NULL, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(2, 2, W, NULL, &s), TSRELU_OK);
    double th[2];
    ck_assert_int_eq(tsrelu_angles(s, t, th, 2), TSRELU_OK);
    /* atan(1e-10) = 1e-10 - 3.3e-31; pi - atan(3e-12) */
    ck_assert_msg(fabs(th[0] - 1e-10) <= 2e-26, "theta = %.17g, want 1e-10", th[0]);
    ck_assert_msg(fabs(th[1] - (PI - 3e-12)) <= 1e-15, "theta = %.17g, want pi - 3e-12", th[1]);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(nearest_by_hand)
{
    int tau[4];
    ck_assert_int_eq(tsrelu_nearest_teacher(S, T, tau, 4), TSRELU_OK);
    ck_assert_int_eq(tau[0], 0); /* tie goes to the lowest index */
    ck_assert_int_eq(tau[1], 1);
    ck_assert_int_eq(tau[2], -1);
    ck_assert_int_eq(tau[3], 1);
}
END_TEST

START_TEST(components_by_hand)
{
    double r[4], tg[4];
    ck_assert_int_eq(tsrelu_components(S, T, NULL, 0, r, tg, 4), TSRELU_OK);
    const double wr[4] = {1, 3, 0, 0}, wt[4] = {1, 4, 0, 1};
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq_tol(r[i], wr[i], 1e-15);
        ck_assert_double_eq_tol(tg[i], wt[i], 1e-15);
    }
    /* an explicit assignment: w0 -> v1, w1 left out, w2 (zero) -> ignored, w3 -> v0 */
    const int tau[4] = {1, -1, 0, 0};
    ck_assert_int_eq(tsrelu_components(S, T, tau, 4, r, tg, 4), TSRELU_OK);
    const double er[4] = {1, 0, 0, -1}, et[4] = {1, 0, 0, 0};
    for (int i = 0; i < 4; i++) {
        ck_assert_double_eq_tol(r[i], er[i], 1e-15);
        ck_assert_double_eq_tol(tg[i], et[i], 1e-15);
    }
}
END_TEST

START_TEST(deficit_by_hand)
{
    double H[2];
    ck_assert_int_eq(tsrelu_deficit(S, T, NULL, 0, H, 2), TSRELU_OK);
    /* H0 = 1*1 - 1*1 = 0; H1 = 0.5*2 - (2*3 + 0.5*0) = -5 */
    ck_assert_double_eq_tol(H[0], 0.0, 1e-15);
    ck_assert_double_eq_tol(H[1], -5.0, 1e-14);
    const int tau[4] = {1, -1, 0, 0};
    ck_assert_int_eq(tsrelu_deficit(S, T, tau, 4, H, 2), TSRELU_OK);
    /* H0 = 1 - 0.5*(-1) = 1.5; H1 = 1 - 1*1 = 0 */
    ck_assert_double_eq_tol(H[0], 1.5, 1e-15);
    ck_assert_double_eq_tol(H[1], 0.0, 1e-15);
}
END_TEST

/* Every metric of the fixture, for comparison across scales. */
typedef struct {
    double th[8], rad[4], tg[4], H[2], lo[2], hi[2], ex[2];
    int tau[4], size[2];
} fixture_metrics;

static void all_metrics(const tsrelu_student *s, const tsrelu_teacher *t, fixture_metrics *f)
{
    ck_assert_int_eq(tsrelu_angles(s, t, f->th, 8), TSRELU_OK);
    ck_assert_int_eq(tsrelu_nearest_teacher(s, t, f->tau, 4), TSRELU_OK);
    ck_assert_int_eq(tsrelu_components(s, t, NULL, 0, f->rad, f->tg, 4), TSRELU_OK);
    ck_assert_int_eq(tsrelu_deficit(s, t, NULL, 0, f->H, 2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_balance(s, t, NULL, 0, f->size, f->lo, f->hi, f->ex, 2), TSRELU_OK);
}

/* x (a scale-free metric) equals want to 2 ulps, or both are NaN. */
static void same_value(double x, double want, const char *what, int e, int i)
{
    ck_assert_msg((isnan(x) && isnan(want)) || fabs(x - want) <= 4.5e-16 * fabs(want),
                  "scale 2^%d: %s[%d] = %.17g, want %.17g", e, what, i, x, want);
}

/* x (in units of the weights) equals want 2^e up to the rounding of a
 * result that is subnormal at that scale (2^-1074 per operation). */
static void same_scaled(double x, double want, int e, const char *what, int i)
{
    double w = ldexp(want, e);
    ck_assert_msg(fabs(x - w) <= 4.5e-16 * fabs(w) + 4 * 0x1p-1074,
                  "scale 2^%d: %s[%d] = %.17g, want %.17g", e, what, i, x, w);
}

START_TEST(metrics_at_tiny_and_huge_scales)
{
    /* The fixture times 2^e (exact: its entries are small integers): the
     * angles, groups and balance are scale-free and must not change, also
     * where the norms are subnormal (|w0| = sqrt2 2^-1074 rounds to
     * 2^-1074) or have a subnormal reciprocal (|w1| = 5 2^1020); components
     * and deficits scale with 2^e. */
    const double V[6] = {1, 0, 0, 0, 2, 0}, b[2] = {1, 0.5};
    const double W[12] = {1, 1, 0, 0, 3, 4, 0, 0, 0, -1, 0, 0}, a[4] = {1, 2, 1, 0.5};
    fixture_metrics ref, got;
    all_metrics(S, T, &ref);
    static const int scales[] = {-1074, -1071, -1060, -1000, 1000, 1020};
    for (size_t q = 0; q < sizeof scales / sizeof scales[0]; q++) {
        int e = scales[q];
        double Vs[6], Ws[12];
        for (int i = 0; i < 6; i++)
            Vs[i] = ldexp(V[i], e);
        for (int i = 0; i < 12; i++)
            Ws[i] = ldexp(W[i], e);
        tsrelu_teacher *t;
        tsrelu_student *s;
        ck_assert_int_eq(tsrelu_teacher_create(2, 3, Vs, b, &t), TSRELU_OK);
        ck_assert_int_eq(tsrelu_student_create(4, 3, Ws, a, &s), TSRELU_OK);
        all_metrics(s, t, &got);
        for (int i = 0; i < 8; i++)
            same_value(got.th[i], ref.th[i], "theta", e, i);
        for (int i = 0; i < 4; i++) {
            ck_assert_int_eq(got.tau[i], ref.tau[i]);
            same_scaled(got.rad[i], ref.rad[i], e, "radial", i);
            same_scaled(got.tg[i], ref.tg[i], e, "tangential", i);
        }
        for (int l = 0; l < 2; l++) {
            ck_assert_int_eq(got.size[l], ref.size[l]);
            same_scaled(got.H[l], ref.H[l], e, "deficit", l);
            same_value(got.lo[l], ref.lo[l], "ratio_min", e, l);
            same_value(got.hi[l], ref.hi[l], "ratio_max", e, l);
            same_value(got.ex[l], ref.ex[l], "excess", e, l);
        }
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
}
END_TEST

START_TEST(balance_by_hand)
{
    int size[2];
    double lo[2], hi[2], ex[2];
    ck_assert_int_eq(tsrelu_balance(S, T, NULL, 0, size, lo, hi, ex, 2), TSRELU_OK);
    /* group 0 = {w0}: ratio 1*1*sqrt2/(1*1) = sqrt2, excess 2 - 1 = 1
     * group 1 = {w1, w3}: ratios 2*2*5/(0.5*2) = 20 and 2*0.5*1/1 = 1,
     * excess ((2*5)^2 + (0.5*1)^2) / ((0.5*2)^2 / 2) - 1 = 199.5 */
    ck_assert_int_eq(size[0], 1);
    ck_assert_int_eq(size[1], 2);
    ck_assert_double_eq_tol(lo[0], sqrt(2.0), 1e-15);
    ck_assert_double_eq_tol(hi[0], sqrt(2.0), 1e-15);
    ck_assert_double_eq_tol(ex[0], 1.0, 1e-14);
    ck_assert_double_eq_tol(lo[1], 1.0, 1e-15);
    ck_assert_double_eq_tol(hi[1], 20.0, 1e-14);
    ck_assert_double_eq_tol(ex[1], 199.5, 1e-12);
}
END_TEST

START_TEST(balance_at_min_norm_split)
{
    /* w_i = v/m_l in every group: all ratios 1, excess 0; empty group NaN */
    const double V[6] = {0, 3, 0, 0, 0, 1};
    const double W[9] = {0, 1, 0, 0, 1, 0, 0, 1, 0};
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create(2, 3, V, NULL, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(3, 3, W, NULL, &s), TSRELU_OK);
    int size[2];
    double lo[2], hi[2], ex[2], H[2], L;
    ck_assert_int_eq(tsrelu_balance(s, t, NULL, 0, size, lo, hi, ex, 2), TSRELU_OK);
    ck_assert_int_eq(size[0], 3);
    ck_assert_int_eq(size[1], 0);
    ck_assert_double_eq_tol(lo[0], 1.0, 1e-15);
    ck_assert_double_eq_tol(hi[0], 1.0, 1e-15);
    ck_assert_double_eq_tol(ex[0], 0.0, 1e-15);
    ck_assert(isnan(lo[1]) && isnan(hi[1]) && isnan(ex[1]));
    ck_assert_int_eq(tsrelu_deficit(s, t, NULL, 0, H, 2), TSRELU_OK);
    ck_assert_double_eq_tol(H[0], 0.0, 1e-15);
    ck_assert_double_eq_tol(H[1], 1.0, 1e-15); /* nobody serves v1 */
    /* the loss is then exactly the missing teacher's: 1/2 E relu(v1.x)^2 = |v1|^2/4 */
    ck_assert_int_eq(tsrelu_loss_accurate(s, t, &L), TSRELU_OK);
    ck_assert_double_eq_tol(L, 0.25, 1e-15);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(balance_zero_output_weight)
{
    /* b_0 = 0 (allowed by tsrelu_teacher_create): the balanced split
     * b_0 v_0 / m_0 is the zero vector, so group 0 has no ratio: NaN ratios
     * and excess, while size[0] counts its students (one with a = 0) and
     * group 1 is unaffected. */
    const double V[6] = {1, 0, 0, 0, 2, 0}, b[2] = {0.0, 0.5};
    const double W[9] = {1, 0.1, 0, 2, -0.3, 0, 0.1, 1, 0}, a[3] = {1, 0, 2};
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create(2, 3, V, b, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(3, 3, W, a, &s), TSRELU_OK);
    int size[2];
    double lo[2], hi[2], ex[2];
    ck_assert_int_eq(tsrelu_balance(s, t, NULL, 0, size, lo, hi, ex, 2), TSRELU_OK);
    ck_assert_int_eq(size[0], 2);
    ck_assert_int_eq(size[1], 1);
    ck_assert_msg(isnan(lo[0]) && isnan(hi[0]) && isnan(ex[0]),
                  "b_0 = 0: ratios %g, %g and excess %g, want NaN", lo[0], hi[0], ex[0]);
    /* group 1 = {w2}: ratio 1 * 2 * |w2| / (0.5 * 2), excess ratio^2 - 1 */
    double r = 2.0 * sqrt(1.01);
    ck_assert_double_eq_tol(lo[1], r, 1e-15);
    ck_assert_double_eq_tol(hi[1], r, 1e-15);
    ck_assert_double_eq_tol(ex[1], r * r - 1.0, 1e-14);
    /* the same with an explicit assignment that puts w2 in group 0 too */
    const int tau[3] = {0, 0, 0};
    ck_assert_int_eq(tsrelu_balance(s, t, tau, 3, size, lo, hi, ex, 2), TSRELU_OK);
    ck_assert_int_eq(size[0], 3);
    ck_assert_int_eq(size[1], 0);
    for (int l = 0; l < 2; l++)
        ck_assert_msg(isnan(lo[l]) && isnan(hi[l]) && isnan(ex[l]), "group %d: want NaN", l);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(rate_fit_power_law)
{
    double t[60], L[60], slope, icpt;
    for (int i = 0; i < 60; i++) {
        t[i] = pow(10.0, i / 10.0);
        L[i] = 5.0 * pow(t[i], -3.0);
    }
    ck_assert_int_eq(tsrelu_rate_fit(t, L, 60, 0.0, INFINITY, &slope, &icpt), TSRELU_OK);
    ck_assert_double_eq_tol(slope, -3.0, 1e-12);
    ck_assert_double_eq_tol(icpt, log(5.0), 1e-10);
    /* points outside the window are ignored, whatever they hold */
    for (int i = 0; i < 20; i++)
        L[i] = 1e300;
    ck_assert_int_eq(tsrelu_rate_fit(t, L, 60, t[20], t[59], &slope, NULL), TSRELU_OK);
    ck_assert_double_eq_tol(slope, -3.0, 1e-12);
    /* non-positive losses and t = 0 are skipped */
    L[30] = 0.0;
    L[31] = -1.0;
    t[0] = 0.0;
    ck_assert_int_eq(tsrelu_rate_fit(t, L, 60, t[20], t[59], &slope, NULL), TSRELU_OK);
    ck_assert_double_eq_tol(slope, -3.0, 1e-12);
}
END_TEST

START_TEST(rate_fit_exponential_is_steep)
{
    /* L = exp(-t/100): d log L / d log t = -t/100, between -1 and -10 on [100, 1000] */
    double t[50], L[50], slope;
    for (int i = 0; i < 50; i++) {
        t[i] = 100.0 * pow(10.0, i / 49.0);
        L[i] = exp(-t[i] / 100.0);
    }
    ck_assert_int_eq(tsrelu_rate_fit(t, L, 50, 0, INFINITY, &slope, NULL), TSRELU_OK);
    ck_assert_msg(slope < -3.5 && slope > -10.0, "slope %g", slope);
}
END_TEST

/* Run GD step by step and find t1 and t2 from the metric functions; the
 * tracker must agree. */
START_TEST(tracker_matches_metrics)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 4, 1.0, 3, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(6, 4, 1e-3, 4, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_OK);
    const double ea = 0.1, ed = 0.02;
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, ea, ed), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_phase(gd), 1);
    int64_t want1 = -1, want2 = -1;
    int tau[6], tau0[6];
    ck_assert_int_eq(tsrelu_nearest_teacher(s, t, tau0, 6), TSRELU_OK);
    for (int it = 0; it <= 3000; it++) {
        const tsrelu_student *cur = tsrelu_gd_student(gd);
        double th[12], H[2];
        int size[2];
        double lo[2], hi[2], ex[2];
        ck_assert_int_eq(tsrelu_angles(cur, t, th, 12), TSRELU_OK);
        ck_assert_int_eq(tsrelu_nearest_teacher(cur, t, tau, 6), TSRELU_OK);
        ck_assert_int_eq(tsrelu_deficit(cur, t, NULL, 0, H, 2), TSRELU_OK);
        ck_assert_int_eq(tsrelu_balance(cur, t, NULL, 0, size, lo, hi, ex, 2), TSRELU_OK);
        int al = 1, gr = 1;
        for (int i = 0; i < 6; i++)
            al &= th[i * 2 + tau[i]] <= ea;
        for (int l = 0; l < 2; l++)
            gr &= size[l] == 0 || fabs(H[l]) <= ed;
        if (want1 < 0 && al)
            want1 = it;
        if (want1 >= 0 && want2 < 0 && gr)
            want2 = it;
        /* the tracker has seen this iterate (evaluated by the previous step
         * or by create) */
        int64_t g1, g2;
        ck_assert_int_eq(tsrelu_gd_phase_times(gd, &g1, &g2), TSRELU_OK);
        ck_assert_msg(g1 == want1 && g2 == want2, "iteration %d: tracker (%lld, %lld), metrics (%lld, %lld)",
                      it, (long long)g1, (long long)g2, (long long)want1, (long long)want2);
        ck_assert_int_eq(tsrelu_gd_phase(gd), want2 >= 0 ? 3 : want1 >= 0 ? 2 : 1);
        int cur_tau[6], init_tau[6];
        ck_assert_int_eq(tsrelu_gd_groups(gd, 0, cur_tau, 6), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_groups(gd, 1, init_tau, 6), TSRELU_OK);
        size_t sw = 0;
        for (int i = 0; i < 6; i++) {
            ck_assert_int_eq(cur_tau[i], tau[i]);
            ck_assert_int_eq(init_tau[i], tau0[i]);
            sw += tau[i] != tau0[i];
        }
        ck_assert_uint_eq(tsrelu_gd_group_switches(gd), sw);
        ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(gd, 0), TSRELU_OK); /* evaluates the new iterate */
    }
    ck_assert_msg(want1 > 0 && want2 >= want1, "phases not reached: t1=%lld t2=%lld",
                  (long long)want1, (long long)want2);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(tracker_counts_a_switch)
{
    /* v1 has output weight 0, so it pulls nobody: a student starting closer to
     * v1 is drawn to v0 and switches group. */
    const double V[4] = {1, 0, 0, 1}, b[2] = {1, 0};
    const double W[2] = {0.05, 0.06};
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_teacher_create(2, 2, V, b, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(1, 2, W, NULL, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_OK);
    int tau;
    ck_assert_int_eq(tsrelu_gd_groups(gd, 1, &tau, 1), TSRELU_OK);
    ck_assert_int_eq(tau, 1);
    ck_assert_uint_eq(tsrelu_gd_group_switches(gd), 0);
    ck_assert_int_eq(tsrelu_gd_run(gd, 2000), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 0, &tau, 1), TSRELU_OK);
    ck_assert_int_eq(tau, 0);
    ck_assert_uint_eq(tsrelu_gd_group_switches(gd), 1);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 1, &tau, 1), TSRELU_OK);
    ck_assert_int_eq(tau, 1);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

/* One nearest-teacher rule: tsrelu_nearest_teacher, the groups of the
 * metrics (tau = NULL) and the GD state's tracker (tsrelu_gd_groups) agree
 * exactly, on random students and on the adversarial ones: bisectors of two
 * teachers perturbed by 1e-15, duplicate teachers, antiparallel and zero
 * students, at scales from 1e-300 to 1e300. */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return (double)(mix(s) >> 11) * 0x1p-53 * 2.0 - 1.0;
}

START_TEST(nearest_is_one_rule_everywhere)
{
    enum { KMAX = 4, MMAX = 8, DMAX = 6 };
    static const double scales[] = {1.0, 1e-300, 1e300, 3e-7};
    uint64_t seed = 2024;
    int disagree = 0, bisectors = 0;
    for (int trial = 0; trial < 4000; trial++) {
        size_t k = 2 + mix(&seed) % (KMAX - 1), d = k + mix(&seed) % (DMAX - k + 1), m = 1 + mix(&seed) % MMAX;
        double V[KMAX * DMAX], W[MMAX * DMAX];
        for (size_t i = 0; i < k * d; i++)
            V[i] = unif(&seed);
        if (mix(&seed) % 4 == 0) /* duplicate teachers */
            memcpy(V + d, V, d * sizeof(double));
        if (mix(&seed) % 4 == 0) /* orthonormal axes */
            for (size_t j = 0; j < k; j++)
                for (size_t c = 0; c < d; c++)
                    V[j * d + c] = c == j ? 1.0 : 0.0;
        double sc = scales[mix(&seed) % 4];
        for (size_t i = 0; i < m; i++) {
            double *w = W + i * d;
            size_t j1 = mix(&seed) % k, j2 = (j1 + 1 + mix(&seed) % (k - 1)) % k;
            switch (mix(&seed) % 5) {
            case 0: /* random */
                for (size_t c = 0; c < d; c++)
                    w[c] = unif(&seed);
                break;
            case 1: /* the bisector of two unit teachers, nudged by 1e-15 */
            case 2: {
                double n1 = 0, n2 = 0;
                for (size_t c = 0; c < d; c++) {
                    n1 += V[j1 * d + c] * V[j1 * d + c];
                    n2 += V[j2 * d + c] * V[j2 * d + c];
                }
                for (size_t c = 0; c < d; c++)
                    w[c] = V[j1 * d + c] / sqrt(n1) + V[j2 * d + c] / sqrt(n2) + 1e-15 * unif(&seed);
                bisectors++;
                break;
            }
            case 3: /* antiparallel to a teacher */
                for (size_t c = 0; c < d; c++)
                    w[c] = -V[j1 * d + c] * (1.0 + 1e-15 * unif(&seed));
                break;
            default: /* zero */
                memset(w, 0, d * sizeof(double));
            }
            for (size_t c = 0; c < d; c++)
                w[c] *= sc;
        }
        tsrelu_teacher *t;
        tsrelu_student *st;
        tsrelu_gd *gd;
        ck_assert_int_eq(tsrelu_teacher_create(k, d, V, NULL, &t), TSRELU_OK);
        ck_assert_int_eq(tsrelu_student_create(m, d, W, NULL, &st), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_create(t, st, 0.1, &gd), TSRELU_OK);
        int g1[MMAX], g2[MMAX], g3[MMAX];
        double H1[KMAX], H2[KMAX];
        ck_assert_int_eq(tsrelu_gd_groups(gd, 0, g1, m), TSRELU_OK);
        ck_assert_int_eq(tsrelu_nearest_teacher(st, t, g2, m), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_groups(gd, 1, g3, m), TSRELU_OK);
        disagree += memcmp(g1, g2, m * sizeof(int)) != 0 || memcmp(g1, g3, m * sizeof(int)) != 0;
        /* the metrics' own grouping is the same rule */
        ck_assert_int_eq(tsrelu_deficit(st, t, NULL, 0, H1, k), TSRELU_OK);
        ck_assert_int_eq(tsrelu_deficit(st, t, g2, m, H2, k), TSRELU_OK);
        ck_assert_mem_eq(H1, H2, k * sizeof(double));
        tsrelu_gd_free(gd);
        tsrelu_student_free(st);
        tsrelu_teacher_free(t);
    }
    ck_assert_int_gt(bisectors, 1000);
    ck_assert_msg(disagree == 0, "%d of 4000 cases disagree", disagree);
}
END_TEST

START_TEST(limits)
{
    double buf[8], r[4], tg[4], H[2], lo[2], hi[2], ex[2], slope;
    int tau[4], size[2];
    tsrelu_student *s5;
    double W5[20] = {0};
    ck_assert_int_eq(tsrelu_angles(NULL, T, buf, 8), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_angles(S, NULL, buf, 8), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_angles(S, T, NULL, 8), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_angles(S, T, buf, 7), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_nearest_teacher(S, T, tau, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_nearest_teacher(S, T, NULL, 4), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_create(4, 5, W5, NULL, &s5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_angles(s5, T, buf, 8), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_deficit(s5, T, NULL, 0, H, 2), TSRELU_EDIM);
    tsrelu_student_free(s5);
    const int bad_hi[4] = {0, 2, 0, 0}, bad_lo[4] = {0, -2, 0, 0}, ok[4] = {0, 1, -1, 1};
    ck_assert_int_eq(tsrelu_components(S, T, bad_hi, 4, r, tg, 4), TSRELU_EINVAL);
    ck_assert_msg(strstr(tsrelu_last_error(), "tau[1]") != NULL, "message: %s", tsrelu_last_error());
    ck_assert_int_eq(tsrelu_components(S, T, bad_lo, 4, r, tg, 4), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_components(S, T, ok, 3, r, tg, 4), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_components(S, T, ok, 4, r, tg, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_components(S, T, ok, 4, NULL, tg, 4), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_deficit(S, T, ok, 4, H, 1), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_deficit(S, T, bad_hi, 4, H, 2), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_deficit(S, T, ok, 4, NULL, 2), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_balance(S, T, ok, 4, size, lo, hi, ex, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_balance(S, T, ok, 4, NULL, lo, hi, ex, 2), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_balance(NULL, T, ok, 4, size, lo, hi, ex, 2), TSRELU_EINVAL);
    double t2[2] = {1, 2}, L2[2] = {1, 0.5}, t1[2] = {3, 3};
    ck_assert_int_eq(tsrelu_rate_fit(NULL, L2, 2, 0, 10, &slope, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_rate_fit(t2, L2, 2, 0, 10, NULL, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_rate_fit(t2, L2, 1, 0, 10, &slope, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_rate_fit(t2, L2, 2, 1.5, 10, &slope, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_rate_fit(t1, L2, 2, 0, 10, &slope, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_rate_fit(t2, L2, 2, 0, 10, &slope, NULL), TSRELU_OK);
    ck_assert_double_eq_tol(slope, -1.0, 1e-15);
}
END_TEST

START_TEST(gd_phase_limits)
{
    tsrelu_gd *gd;
    int tau[4];
    ck_assert_int_eq(tsrelu_gd_create(T, S, 0.1, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(NULL, 0.1, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.0, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 4.0, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.1, -1.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, NAN, 0.1), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.1, INFINITY), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_gd_phase_times(NULL, NULL, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_phase_times(gd, NULL, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 0, tau, 3), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 0, NULL, 4), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_groups(NULL, 0, tau, 4), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 1, tau, 4), TSRELU_OK);
    ck_assert_int_eq(tau[2], -1);
    ck_assert_int_eq(tsrelu_gd_phase(NULL), 0);
    ck_assert_uint_eq(tsrelu_gd_group_switches(NULL), 0);
    tsrelu_gd_free(gd);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, angles_by_hand);
    tcase_add_test(core, angles_tiny_and_near_pi);
    tcase_add_test(core, nearest_by_hand);
    tcase_add_test(core, components_by_hand);
    tcase_add_test(core, deficit_by_hand);
    tcase_add_test(core, balance_by_hand);
    tcase_add_test(core, balance_at_min_norm_split);
    tcase_add_test(core, metrics_at_tiny_and_huge_scales);
    tcase_add_test(core, balance_zero_output_weight);
    tcase_add_test(core, nearest_is_one_rule_everywhere);
    tcase_add_test(core, rate_fit_power_law);
    tcase_add_test(core, rate_fit_exponential_is_steep);
    tcase_add_test(core, tracker_matches_metrics);
    tcase_add_test(core, tracker_counts_a_switch);
    tcase_set_timeout(core, 60);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("limits");
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_add_test(lim, limits);
    tcase_add_test(lim, gd_phase_limits);
    suite_add_tcase(s, lim);
    return s;
}

/* Check suite for src/events.c: every event kind and mode on a trajectory
 * built by hand (the internal tsrelu__traj view the record functions read,
 * so the answers are known exactly), the rate onset on an exact power law,
 * on-line transitions reduced to the post-hoc answers on real runs at
 * several thresholds, the post-hoc answers recomputed from the record's
 * public columns, stopping and re-entrancy from the event callback, the
 * quantiles, and bad input with the exact status. */
#include "suites.h"
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "tsrelu.h"

#define NaN NAN

static int same(double x, double y)
{
    return (isnan(x) && isnan(y)) || x == y;
}

static void assert_times(const double *got, const double *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(same(got[i], want[i]), "%s: item %zu: got %g, want %g", what, i, got[i], want[i]);
}

/* ---------------- a hand-built trajectory: 6 rows, m = 3, k = 2 ---------------- */

#define HN 6
#define HM 3
#define HK 2
static const uint64_t h_iter[HN] = {0, 1, 2, 5, 10, 20};
/* rows n, students i: [n * HM + i] */
static const double h_near[HN * HM] = {0, 1, 0, /**/ 0, 1, 1, /**/ 1, 1, 1, /**/ 1, -1, 0, /**/ 1, 1, 0, /**/ 1, 1, 0};
static const double h_angle[HN * HM] = {0.5, 0.01, 0.3, /**/ 0.04, 0.02, 0.01, /**/ 0.03, 0.5, 0.04,
                                        /**/ 0.01, NaN, 0.04, /**/ 0.2, 0.04, 0.03, /**/ 0.01, 0.03, 0.02};
static const double h_mean[HN * HM] = {1.5, 1.5, 1.5, /**/ 0.1, 0.03, 1.0, /**/ 0.02, 0.2, 0.9,
                                       /**/ 0.04, NaN, 0.8, /**/ 0.3, 0.01, 0.7, /**/ 0.5, 0.02, 0.6};
static const double h_norm[HN * HM] = {0.01, 0.01, 0.01, /**/ 0.2, 0.1, 0.7, /**/ 0.6, 0.2, 0.6,
                                       /**/ 0.5, 0.0, 0.3, /**/ 0.45, 0.3, 0.2, /**/ 0.5, 0.4, 0.2};
static const double h_a[HN * HM] = {2, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1};
/* rows n, teachers l: [n * HK + l] */
static const double h_deficit[HN * HK] = {1.0, 2.0, /**/ 0.5, 0.5, /**/ -0.04, 0.2,
                                          /**/ 0.06, 0.09, /**/ 0.03, 0.11, /**/ -0.01, 0.08};
static const double h_size[HN * HK] = {2, 1, 1, 2, 0, 3, 1, 1, 1, 2, 1, 2};
static const double h_scale[HK] = {1.0, 2.0};

static tsrelu__traj hand(void)
{
    return (tsrelu__traj){HN, HM, HK, h_iter, NULL, NULL, h_norm, h_a, h_near, h_angle, h_mean,
                          h_deficit, h_size, h_scale};
}

/* kind, threshold, and the expected FIRST, SETTLE, LEAVE per item
 * (derived by hand in the comments of each line). */
typedef struct {
    int kind;
    double thr;
    double want[3][HM];
} hand_case;

static const hand_case cases[] = {
    /* GROUP, final 1, 1, 0: s0 in 1 from t=2; s1 out of 1 at t=5 (zero), back at 10; s2 in 0 at 0, 5.. */
    {TSRELU_EVENT_GROUP, 0.0, {{2, 0, 0}, {2, 10, 5}, {NaN, NaN, NaN}}},
    /* ALIGN eps 0.05: s0 aligned with its final teacher 1 at rows 2,3,5; s1 with 1 at 0,1,4,5;
     * s2 with 1 at rows 1,2 (not its final teacher), with 0 at 3,4,5 */
    {TSRELU_EVENT_ALIGN, 0.05, {{2, 0, 5}, {20, 10, 5}, {NaN, NaN, NaN}}},
    /* ALIGN eps 0.035: s1's 0.04 at row 4 and s2's 0.04 at row 3 are out */
    {TSRELU_EVENT_ALIGN, 0.035, {{2, 0, 10}, {20, 20, 10}, {NaN, NaN, NaN}}},
    /* MEAN eps 0.05: s0 in at rows 2,3 then leaves at 10 (the split); s1 at 1 and 4,5; s2 never */
    {TSRELU_EVENT_MEAN, 0.05, {{2, 1, NaN}, {NaN, 10, NaN}, {10, NaN, NaN}}},
    /* NORM q 0.8: levels 0.4, 0.32, 0.16 */
    {TSRELU_EVENT_NORM, 0.8, {{2, 20, 1}, {2, 20, 1}, {NaN, NaN, NaN}}},
    /* NORM q 2: levels 1.0, 0.8 (never), 0.4: s2 overshoots at 1,2 and leaves at 5 */
    {TSRELU_EVENT_NORM, 2.0, {{NaN, NaN, 1}, {NaN, NaN, NaN}, {NaN, NaN, 5}}},
    /* NORM_SHARE q 0.3: shares |b_l||v_l|/m_l = 2/2 (group 1) and 1/1 (group 0), levels 0.3;
     * s0 counts |a| = 2 */
    {TSRELU_EVENT_NORM_SHARE, 0.3, {{1, 10, 1}, {1, 10, NaN}, {NaN, NaN, 10}}},
};

START_TEST(hand_built_students)
{
    tsrelu__traj tr = hand();
    static const int modes[3] = {TSRELU_EVENT_FIRST, TSRELU_EVENT_SETTLE, TSRELU_EVENT_LEAVE};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int k = 0; k < 3; k++) {
            double got[HM];
            ck_assert_int_eq(tsrelu__event_times("test", &tr, cases[c].kind, modes[k], cases[c].thr, got, HM),
                             TSRELU_OK);
            char what[64];
            snprintf(what, sizeof what, "case %zu mode %d", c, modes[k]);
            assert_times(got, cases[c].want[k], HM, what);
        }
}
END_TEST

START_TEST(hand_built_deficits)
{
    tsrelu__traj tr = hand();
    double got[HK];
    /* eps 0.05: |H_0| <= 0.05 at rows 2, 4, 5; |H_1| <= 0.1 at rows 3, 5 */
    static const double first[HK] = {2, 5}, settle[HK] = {10, 20}, leave[HK] = {NaN, NaN};
    ck_assert_int_eq(tsrelu__event_times("t", &tr, TSRELU_EVENT_DEFICIT, TSRELU_EVENT_FIRST, 0.05, got, HK), 0);
    assert_times(got, first, HK, "deficit first");
    ck_assert_int_eq(tsrelu__event_times("t", &tr, TSRELU_EVENT_DEFICIT, TSRELU_EVENT_SETTLE, 0.05, got, HK), 0);
    assert_times(got, settle, HK, "deficit settle");
    ck_assert_int_eq(tsrelu__event_times("t", &tr, TSRELU_EVENT_DEFICIT, TSRELU_EVENT_LEAVE, 0.05, got, HK), 0);
    assert_times(got, leave, HK, "deficit leave");
    /* eps 0.06: |H_0| = 0.06 at row 3 is in (<=): settles at 2; |H_1| <= 0.12 from row 3 */
    ck_assert_int_eq(tsrelu__event_times("t", &tr, TSRELU_EVENT_DEFICIT, TSRELU_EVENT_SETTLE, 0.06, got, HK), 0);
    ck_assert(got[0] == 2 && got[1] == 5);
}
END_TEST

START_TEST(hand_built_switches)
{
    tsrelu__traj tr = hand();
    static const double want[] = {1, 2, 0, 1, /**/ 2, 0, 0, 1, /**/ 5, 1, 1, -1, /**/ 5, 2, 1, 0, /**/ 10, 1, -1, 1};
    ck_assert_uint_eq(tsrelu__switches(&tr, NULL), 5);
    double out[20];
    ck_assert_uint_eq(tsrelu__switches(&tr, out), 5);
    assert_times(out, want, 20, "switches");
}
END_TEST

/* On-line transitions, collected. */
#define MAXEV 200000
typedef struct {
    size_t n;
    int kind[MAXEV], tr[MAXEV], teacher[MAXEV];
    size_t index[MAXEV];
    double time[MAXEV];
    int stop_at;    /* return 7 at this event number (-1: never) */
    int observed;   /* observer calls */
} events;

static int collect(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time,
                   void *ud)
{
    (void)gd;
    events *e = ud;
    ck_assert_uint_lt(e->n, MAXEV);
    e->kind[e->n] = kind;
    e->tr[e->n] = transition;
    e->index[e->n] = index;
    e->teacher[e->n] = teacher;
    e->time[e->n] = time;
    e->n++;
    return (int)e->n - 1 == e->stop_at ? 7 : 0;
}

/* The post-hoc answer of (kind, mode) for item x from the transitions:
 * FIRST the first entry (for ALIGN and GROUP into `final`), SETTLE the last
 * entry with no exit after it, LEAVE the last exit with no entry after it. */
static double online_answer(const events *e, int kind, int mode, size_t x, int final)
{
    double first = NaN, last_in = NaN, last_out = NaN;
    int inside = 0;
    for (size_t j = 0; j < e->n; j++) {
        if (e->kind[j] != kind || e->index[j] != x)
            continue;
        if (e->tr[j] == TSRELU_EVENT_ENTERED) {
            int match = (kind != TSRELU_EVENT_GROUP && kind != TSRELU_EVENT_ALIGN) || e->teacher[j] == final;
            if (match && isnan(first))
                first = e->time[j];
            inside = 1;
            last_in = e->time[j];
        } else {
            inside = 0;
            last_out = e->time[j];
        }
    }
    if (mode == TSRELU_EVENT_FIRST)
        return first;
    if (mode == TSRELU_EVENT_SETTLE)
        return inside ? last_in : NaN;
    return inside ? NaN : last_out;
}

static events *new_events(void)
{
    events *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    e->stop_at = -1;
    return e;
}

/* Every transition of tr's rows, as a record's on-line callback sees them. */
static void replay(const tsrelu__traj *tr, const tsrelu__watch *w)
{
    for (size_t n = 0; n < tr->n; n++)
        ck_assert_int_eq(tsrelu__events_row(tr, n, w, NULL), 0);
}

/* The on-line reduction equals the post-hoc times for every on-line kind
 * and mode; final[i] is student i's teacher in the last row. */
static void online_equals_posthoc(const tsrelu__traj *tr, const events *e, const double *eps, const int *final)
{
    static const int modes[3] = {TSRELU_EVENT_FIRST, TSRELU_EVENT_SETTLE, TSRELU_EVENT_LEAVE};
    for (int kind = TSRELU_EVENT_GROUP; kind <= TSRELU_EVENT_DEFICIT; kind++) {
        size_t n = kind == TSRELU_EVENT_DEFICIT ? tr->k : tr->m;
        double *got = malloc(n * sizeof(double));
        for (int k = 0; k < 3; k++) {
            ck_assert_int_eq(tsrelu__event_times("t", tr, kind, modes[k], eps[kind], got, n), TSRELU_OK);
            for (size_t x = 0; x < n; x++) {
                double on = online_answer(e, kind, modes[k], x, kind == TSRELU_EVENT_DEFICIT ? 0 : final[x]);
                ck_assert_msg(same(on, got[x]), "kind %d mode %d item %zu: on line %g, post hoc %g", kind,
                              modes[k], x, on, got[x]);
            }
        }
        free(got);
    }
    /* the group switches are the GROUP transitions after the first row */
    size_t ns = tsrelu__switches(tr, NULL);
    double *sw = malloc((4 * ns + 1) * sizeof(double));
    tsrelu__switches(tr, sw);
    size_t s = 0;
    for (size_t j = 0; j < e->n; j++) {
        if (e->kind[j] != TSRELU_EVENT_GROUP || e->time[j] == (double)(tr->iter ? tr->iter[0] : 0))
            continue;
        ck_assert_uint_lt(s, ns);
        ck_assert(e->time[j] == sw[4 * s] && (double)e->index[j] == sw[4 * s + 1]);
        if (e->tr[j] == TSRELU_EVENT_LEFT) {
            ck_assert(e->teacher[j] == sw[4 * s + 2]);
            if (sw[4 * s + 3] < 0)
                s++;
        } else {
            ck_assert(e->teacher[j] == sw[4 * s + 3]);
            s++;
        }
    }
    ck_assert_uint_eq(s, ns);
    free(sw);
}

START_TEST(hand_built_online)
{
    tsrelu__traj tr = hand();
    static const int final[HM] = {1, 1, 0};
    static const double thresholds[][TSRELU_EVENT_DEFICIT + 1] = {
        {0, 0, 0.05, 0.05, 0.05}, {0, 0, 0.035, 0.5, 0.06}, {0, 0, 0.3, 1.0, 0.2}};
    for (size_t c = 0; c < 3; c++) {
        events *e = new_events();
        tsrelu__watch w;
        tsrelu__watch_init(&w);
        w.fn = collect;
        w.user_data = e;
        w.mask = TSRELU_EVENT_ALL_ONLINE;
        memcpy(w.eps, thresholds[c], sizeof w.eps);
        replay(&tr, &w);
        online_equals_posthoc(&tr, e, w.eps, final);
        free(e);
    }
    /* s2 under ALIGN 0.05: entered teacher 1 at t=1, then at t=5 left 1 and entered 0 */
    events *e = new_events();
    tsrelu__watch w;
    tsrelu__watch_init(&w);
    w.fn = collect;
    w.user_data = e;
    w.mask = TSRELU_EVENT_BIT(TSRELU_EVENT_ALIGN);
    replay(&tr, &w);
    int seq[3][3] = {{0}}, got = 0;
    for (size_t j = 0; j < e->n; j++)
        if (e->index[j] == 2 && got < 3) {
            seq[got][0] = (int)e->time[j];
            seq[got][1] = e->tr[j];
            seq[got++][2] = e->teacher[j];
        }
    ck_assert_int_eq(got, 3);
    ck_assert(seq[0][0] == 1 && seq[0][1] == TSRELU_EVENT_ENTERED && seq[0][2] == 1);
    ck_assert(seq[1][0] == 5 && seq[1][1] == TSRELU_EVENT_LEFT && seq[1][2] == 1);
    ck_assert(seq[2][0] == 5 && seq[2][1] == TSRELU_EVENT_ENTERED && seq[2][2] == 0);
    free(e);
}
END_TEST

START_TEST(rate_onset_power_law)
{
    /* L = 1/t up to t = 4, then t^-3 (times 4^-2 ... ): slopes -1, -1, -7, then exactly -3 */
    static const double t[8] = {1, 2, 4, 8, 16, 32, 64, 128};
    double L[8];
    for (int n = 0; n < 8; n++)
        L[n] = t[n] <= 4 ? 1.0 / t[n] : pow(t[n], -3.0);
    tsrelu__traj tr = {8, 0, 0, NULL, t, L, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    double onset, slope;
    ck_assert_int_eq(tsrelu__rate_onset("t", &tr, 0.1, &onset, &slope), TSRELU_OK);
    ck_assert_double_eq_tol(slope, -3.0, 1e-12);
    ck_assert(onset == 8); /* the pair (4, 8) has slope -7 */
    ck_assert_int_eq(tsrelu__rate_onset("t", &tr, 4.5, &onset, NULL), TSRELU_OK);
    ck_assert(onset == 1); /* |-7 - (-3)| = 4 and |-1 - (-3)| = 2 are within 4.5 */
    ck_assert_int_eq(tsrelu__rate_onset("t", &tr, 3.5, &onset, NULL), TSRELU_OK);
    ck_assert(onset == 8); /* the pair (4, 8) is out: the in-band pairs before it do not count */
    /* a last pair out of the band: never */
    L[7] = L[6];
    ck_assert_int_eq(tsrelu__rate_onset("t", &tr, 0.1, &onset, &slope), TSRELU_OK);
    ck_assert(isnan(onset) && !isnan(slope));
    /* fewer than 2 usable rows in the last decade: both NaN */
    tr.n = 1;
    ck_assert_int_eq(tsrelu__rate_onset("t", &tr, 0.1, &onset, &slope), TSRELU_OK);
    ck_assert(isnan(onset) && isnan(slope));
    tr.n = 0;
    ck_assert_int_eq(tsrelu__rate_onset("t", &tr, 0.1, &onset, &slope), TSRELU_OK);
    ck_assert(isnan(onset) && isnan(slope));
}
END_TEST

/* ---------------- real runs ---------------- */

#define M 20
#define K 4
#define D 16
#define STEPS 20000

static tsrelu_teacher *T;
static tsrelu_student *S;

static void setup(void)
{
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 11, &T), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-3, 12, &S), TSRELU_OK);
}

static void teardown(void)
{
    tsrelu_student_free(S);
    tsrelu_teacher_free(T);
}

static tsrelu_gd *make_run(tsrelu_record **r, unsigned flags)
{
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_gd_create(T, S, 0.05, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_create(gd, 4096, flags, r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(gd, *r, TSRELU_SCHEDULE_LOG, 20), TSRELU_OK);
    return gd;
}

/* The record's columns as a trajectory (through the public getters). */
typedef struct {
    size_t n;
    uint64_t *iter;
    double *loss, *norm, *a, *near, *angle, *mean, *deficit, *size, scale[K];
} columns;

static void read_columns(const tsrelu_record *r, columns *c)
{
    size_t n = c->n = tsrelu_record_size(r);
    c->iter = malloc(n * sizeof(uint64_t));
    c->loss = malloc(n * sizeof(double));
    double **f[] = {&c->norm, &c->a, &c->near, &c->angle, &c->mean};
    static const int field[] = {TSRELU_RECORD_NORM, TSRELU_RECORD_OUTPUT_WEIGHT, TSRELU_RECORD_NEAREST,
                                TSRELU_RECORD_ANGLE, TSRELU_RECORD_ANGLE_MEAN};
    for (int j = 0; j < 5; j++) {
        *f[j] = malloc(n * M * sizeof(double));
        ck_assert_int_eq(tsrelu_record_student(r, field[j], *f[j], n * M), TSRELU_OK);
    }
    c->deficit = malloc(n * K * sizeof(double));
    c->size = malloc(n * K * sizeof(double));
    ck_assert_int_eq(tsrelu_record_iterations(r, c->iter, n), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_global(r, TSRELU_RECORD_LOSS, c->loss, n), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_DEFICIT, c->deficit, n * K), TSRELU_OK);
    ck_assert_int_eq(tsrelu_record_teacher(r, TSRELU_RECORD_GROUP_SIZE, c->size, n * K), TSRELU_OK);
    for (int l = 0; l < K; l++)
        c->scale[l] = 1.0; /* unit orthogonal teachers, b = 1 */
}

static void free_columns(columns *c)
{
    free(c->iter);
    free(c->loss);
    free(c->norm);
    free(c->a);
    free(c->near);
    free(c->angle);
    free(c->mean);
    free(c->deficit);
    free(c->size);
}

/* A record's events, straight from its columns with loops written here. */
static double settle_align(const columns *c, size_t i, double eps)
{
    size_t last = c->n - 1;
    double L = c->near[last * M + i];
    size_t n = c->n;
    while (n > 0 && c->near[(n - 1) * M + i] == L && c->angle[(n - 1) * M + i] <= eps)
        n--;
    return n == c->n || L < 0 ? NaN : (double)c->iter[n];
}

START_TEST(posthoc_from_columns)
{
    tsrelu_record *r;
    tsrelu_gd *gd = make_run(&r, 0);
    ck_assert_int_eq(tsrelu_gd_run(gd, STEPS), TSRELU_OK);
    columns c;
    read_columns(r, &c);
    static const double eps[] = {0.01, 0.05, 0.2};
    double got[M];
    int aligned_some = 0;
    for (int e = 0; e < 3; e++) {
        ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, eps[e], got, M),
                         TSRELU_OK);
        for (size_t i = 0; i < M; i++) {
            ck_assert_msg(same(got[i], settle_align(&c, i, eps[e])), "eps %g student %zu: %g vs %g", eps[e], i,
                          got[i], settle_align(&c, i, eps[e]));
            aligned_some += !isnan(got[i]);
        }
        /* first condensation: the first row with angle_mean <= eps */
        ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_MEAN, TSRELU_EVENT_FIRST, eps[e], got, M),
                         TSRELU_OK);
        for (size_t i = 0; i < M; i++) {
            double want = NaN;
            for (size_t n = 0; n < c.n && isnan(want); n++)
                if (c.mean[n * M + i] <= eps[e])
                    want = (double)c.iter[n];
            ck_assert(same(got[i], want));
        }
    }
    ck_assert_int_gt(aligned_some, 0); /* the run does align: the test can fail */
    /* switches, counted from the nearest column */
    size_t count = 0, want = 0;
    for (size_t n = 1; n < c.n; n++)
        for (size_t i = 0; i < M; i++)
            want += c.near[n * M + i] != c.near[(n - 1) * M + i];
    ck_assert_int_eq(tsrelu_record_switches(r, NULL, 0, &count), TSRELU_OK);
    ck_assert_uint_eq(count, want);
    double *sw = malloc((4 * count + 1) * sizeof(double));
    ck_assert_int_eq(tsrelu_record_switches(r, sw, 4 * count, &count), TSRELU_OK);
    for (size_t s = 0; s < count; s++) {
        size_t i = (size_t)sw[4 * s + 1], n = 0;
        while (c.iter[n] != (uint64_t)sw[4 * s])
            n++;
        ck_assert(c.near[(n - 1) * M + i] == sw[4 * s + 2] && c.near[n * M + i] == sw[4 * s + 3]);
    }
    free(sw);
    free_columns(&c);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(online_equals_posthoc_real)
{
    /* thresholds per kind, three sets; each a fresh run of the same trajectory */
    static const double thresholds[][TSRELU_EVENT_DEFICIT + 1] = {
        {0, 0, 0.05, 0.05, 0.05}, {0, 0, 0.01, 0.2, 0.01}, {0, 0, 0.3, 0.5, 0.3}};
    /* under valgrind (fixture_quick) the first set only: the same code */
    for (size_t c = 0; c < (fixture_quick() ? 1u : 3u); c++) {
        tsrelu_record *r;
        tsrelu_gd *gd = make_run(&r, 0);
        events *e = new_events();
        ck_assert_int_eq(tsrelu_record_set_event_callback(r, TSRELU_EVENT_ALL_ONLINE, collect, e), TSRELU_OK);
        for (int kind = TSRELU_EVENT_ALIGN; kind <= TSRELU_EVENT_DEFICIT; kind++)
            ck_assert_int_eq(tsrelu_record_set_event_threshold(r, kind, thresholds[c][kind]), TSRELU_OK);
        /* two runs: the second continues the first's rows */
        ck_assert_int_eq(tsrelu_gd_run(gd, STEPS / 4), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(gd, STEPS - STEPS / 4), TSRELU_OK);
        ck_assert_int_gt(e->n, M); /* at least the first row's groups */
        columns col;
        read_columns(r, &col);
        tsrelu__traj tr = {col.n, M, K, col.iter, NULL, col.loss, col.norm, col.a, col.near, col.angle,
                           col.mean, col.deficit, col.size, col.scale};
        int final[M];
        for (size_t i = 0; i < M; i++)
            final[i] = (int)col.near[(col.n - 1) * M + i];
        online_equals_posthoc(&tr, e, thresholds[c], final);
        /* and through the public functions */
        double got[M], again[M];
        ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, thresholds[c][2],
                                                   got, M), TSRELU_OK);
        ck_assert_int_eq(tsrelu__event_times("t", &tr, TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, thresholds[c][2],
                                             again, M), TSRELU_OK);
        assert_times(got, again, M, "public vs internal");
        free_columns(&col);
        free(e);
        tsrelu_record_free(r);
        tsrelu_gd_free(gd);
    }
}
END_TEST

START_TEST(rate_onset_real)
{
    tsrelu_record *r;
    tsrelu_gd *gd = make_run(&r, TSRELU_RECORD_ACCURATE_LOSS);
    /* under valgrind (fixture_quick: 170 s for the long run) a tenth of
     * the run, whose last decade already has the slope (measured -3.15)
     * but whose last local slopes still stray by more than 0.1 from it */
    int quick = fixture_quick();
    uint64_t steps = quick ? 20000 : 200000;
    double delta = quick ? 0.3 : 0.1;
    ck_assert_int_eq(tsrelu_gd_run(gd, steps), TSRELU_OK);
    double onset, slope, onset_wide;
    ck_assert_int_eq(tsrelu_record_rate_onset(r, delta, &onset, &slope), TSRELU_OK);
    /* the late rate of an over-parameterised student is T^-3 */
    ck_assert_msg(slope < -2.8 && slope > -3.2, "final slope %g", slope);
    ck_assert_msg(onset > 1 && onset < (double)steps, "onset %g", onset);
    ck_assert_int_eq(tsrelu_record_rate_onset(r, 1.0, &onset_wide, NULL), TSRELU_OK);
    ck_assert_msg(onset_wide <= onset, "a wider band starts no later: %g > %g", onset_wide, onset);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

/* ---------------- stopping and re-entrancy ---------------- */

static int count_obs(const tsrelu_gd *gd, void *ud)
{
    (void)gd;
    ((events *)ud)->observed++;
    return 0;
}

START_TEST(callback_stops_run)
{
    tsrelu_record *r;
    tsrelu_gd *gd = make_run(&r, 0);
    events *e = new_events();
    e->stop_at = M + 3; /* after the first row's M group entries */
    ck_assert_int_eq(tsrelu_record_set_event_callback(r, TSRELU_EVENT_ALL_ONLINE, collect, e), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, count_obs, e, TSRELU_SCHEDULE_LOG, 20), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, STEPS), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_reason(gd), TSRELU_STOP_EVENT);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 7);
    ck_assert_uint_eq(e->n, (size_t)M + 4); /* nothing of the row is reported after the stop */
    /* the row is stored; the observer of that iterate was not called */
    uint64_t it[4096];
    size_t size = tsrelu_record_size(r);
    ck_assert_int_eq(tsrelu_record_iterations(r, it, size), TSRELU_OK);
    ck_assert(it[size - 1] == tsrelu_gd_iteration(gd) && (double)it[size - 1] == e->time[e->n - 1]);
    ck_assert_int_eq(e->observed, (int)size - 1);
    /* resuming continues from the stored rows */
    e->stop_at = -1;
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_OK);
    free(e);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

typedef struct {
    tsrelu_record *r;
    int calls, freed;
    tsrelu_status busy_eta, busy_cb, busy_thr, read, detach;
} reentry;

static int poke(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time, void *ud)
{
    (void)kind, (void)transition, (void)index, (void)teacher, (void)time;
    reentry *x = ud;
    if (x->calls++ > 0)
        return 0;
    double t[M];
    x->busy_eta = tsrelu_gd_set_eta((tsrelu_gd *)gd, 0.1);
    x->busy_cb = tsrelu_record_set_event_callback(x->r, 0, NULL, NULL);
    x->busy_thr = tsrelu_record_set_event_threshold(x->r, TSRELU_EVENT_ALIGN, 0.1);
    x->read = tsrelu_record_event_times(x->r, TSRELU_EVENT_NORM, TSRELU_EVENT_FIRST, 0.5, t, M);
    x->detach = tsrelu_gd_set_recorder((tsrelu_gd *)gd, NULL, 0, 0);
    return 0;
}

static int free_it(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time,
                   void *ud)
{
    (void)gd, (void)kind, (void)transition, (void)index, (void)teacher, (void)time;
    reentry *x = ud;
    x->calls++;
    if (!x->freed) {
        x->freed = 1;
        tsrelu_record_free(x->r); /* deferred to the end of the callback's row */
    }
    return 0;
}

START_TEST(reentry_rules)
{
    tsrelu_record *r;
    tsrelu_gd *gd = make_run(&r, 0);
    reentry x = {r, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(tsrelu_record_set_event_callback(r, TSRELU_EVENT_BIT(TSRELU_EVENT_GROUP), poke, &x),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_OK);
    ck_assert_int_eq(x.busy_eta, TSRELU_EBUSY);
    ck_assert_int_eq(x.busy_cb, TSRELU_EBUSY);
    ck_assert_int_eq(x.busy_thr, TSRELU_EBUSY);
    ck_assert_int_eq(x.read, TSRELU_OK);
    ck_assert_int_eq(x.detach, TSRELU_EBUSY);
    ck_assert_int_ge(x.calls, M); /* GROUP only: M entries at row 0, then the switches */
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);

    /* freeing the recorder from its own callback: the run goes on unrecorded */
    gd = make_run(&r, 0);
    reentry y = {r, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(tsrelu_record_set_event_callback(r, TSRELU_EVENT_BIT(TSRELU_EVENT_GROUP), free_it, &y),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_OK);
    ck_assert_int_eq(y.calls, M); /* the rest of row 0 is reported, then nothing */
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 100);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(quantiles)
{
    static const double t[] = {5, NaN, 1, 3, 2, 4};
    double q;
    ck_assert_int_eq(tsrelu_event_quantile(t, 6, 0.0, &q), TSRELU_OK);
    ck_assert(q == 1);
    ck_assert_int_eq(tsrelu_event_quantile(t, 6, 0.5, &q), TSRELU_OK);
    ck_assert(q == 3); /* index floor(2.5) of 1 2 3 4 5 never */
    ck_assert_int_eq(tsrelu_event_quantile(t, 5, 0.5, &q), TSRELU_OK);
    ck_assert(q == 3); /* of 5 never 1 3 2, sorted 1 2 3 5 never: index 2 */
    ck_assert_int_eq(tsrelu_event_quantile(t, 6, 0.8, &q), TSRELU_OK);
    ck_assert(q == 5); /* index 4 */
    ck_assert_int_eq(tsrelu_event_quantile(t, 6, 1.0, &q), TSRELU_OK);
    ck_assert(isnan(q)); /* the max: one student never */
    ck_assert_int_eq(tsrelu_event_quantile(t + 2, 4, 1.0, &q), TSRELU_OK);
    ck_assert(q == 4);
    ck_assert_int_eq(tsrelu_event_quantile(NULL, 0, 0.5, &q), TSRELU_OK);
    ck_assert(isnan(q));
}
END_TEST

/* ---------------- limits ---------------- */

START_TEST(bad_input)
{
    tsrelu_record *r;
    tsrelu_gd *gd = make_run(&r, 0);
    double t[M], q;
    size_t count = 99;
    /* empty record: all never */
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, 0.1, t, M), TSRELU_OK);
    for (size_t i = 0; i < M; i++)
        ck_assert(isnan(t[i]));
    ck_assert_int_eq(tsrelu_record_switches(r, NULL, 0, &count), TSRELU_OK);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_OK);

    ck_assert_int_eq(tsrelu_record_event_times(NULL, TSRELU_EVENT_ALIGN, TSRELU_EVENT_SETTLE, 0.1, t, M),
                     TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, 0, TSRELU_EVENT_SETTLE, 0.1, t, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, 7, TSRELU_EVENT_SETTLE, 0.1, t, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 0, 0.1, t, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 4, 0.1, t, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 1, 0.0, t, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_NORM, 1, -1.0, t, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_MEAN, 1, NAN, t, M), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_DEFICIT, 1, INFINITY, t, K), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_DEFICIT, 1, 0.1, t, M), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 1, 0.1, t, K), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 1, 0.1, NULL, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_event_times(r, TSRELU_EVENT_GROUP, 1, NAN, t, M), TSRELU_OK); /* ignored */

    ck_assert_int_eq(tsrelu_record_switches(NULL, NULL, 0, &count), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_switches(r, NULL, 0, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_switches(r, NULL, 4, &count), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_switches(r, t, 3, &count), TSRELU_ELENGTH);

    ck_assert_int_eq(tsrelu_record_rate_onset(NULL, 0.1, &q, &q), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_rate_onset(r, 0.0, &q, &q), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_rate_onset(r, NAN, &q, &q), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_record_rate_onset(r, 0.1, NULL, NULL), TSRELU_OK);

    ck_assert_int_eq(tsrelu_record_set_event_callback(NULL, 0, collect, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_callback(r, 1u, collect, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_callback(r, TSRELU_EVENT_BIT(TSRELU_EVENT_NORM), collect, NULL),
                     TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_callback(r, 0xffffffffu, NULL, NULL), TSRELU_OK); /* removes */
    ck_assert_int_eq(tsrelu_record_set_event_threshold(NULL, TSRELU_EVENT_ALIGN, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_threshold(r, TSRELU_EVENT_GROUP, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_threshold(r, TSRELU_EVENT_NORM, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_threshold(r, TSRELU_EVENT_ALIGN, -0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_record_set_event_threshold(r, TSRELU_EVENT_MEAN, NAN), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_record_set_event_threshold(r, TSRELU_EVENT_DEFICIT, 0.2), TSRELU_OK);

    ck_assert_int_eq(tsrelu_event_quantile(t, 2, 0.5, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_event_quantile(NULL, 2, 0.5, &q), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_event_quantile(t, 2, 1.5, &q), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_event_quantile(t, 2, -0.1, &q), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_event_quantile(t, 2, NAN, &q), TSRELU_ENONFINITE);
    tsrelu_record_free(r);
    tsrelu_gd_free(gd);
}
END_TEST

Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 120);
    tcase_add_test(core, hand_built_students);
    tcase_add_test(core, hand_built_deficits);
    tcase_add_test(core, hand_built_switches);
    tcase_add_test(core, hand_built_online);
    tcase_add_test(core, rate_onset_power_law);
    tcase_add_test(core, posthoc_from_columns);
    tcase_add_test(core, online_equals_posthoc_real);
    tcase_add_test(core, rate_onset_real);
    tcase_add_test(core, callback_stops_run);
    tcase_add_test(core, reentry_rules);
    tcase_add_test(core, quantiles);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(limits, bad_input);
    suite_add_tcase(s, limits);
    return s;
}

/* Check suite for src/gd.c: the run loop, observer schedules, step
 * callbacks, output-weight training, tolerances, divergence roll-back, the
 * copies made by tsrelu_gd_create, determinism ("core"), and every entry
 * point against bad input ("limits").
 *
 * Black-box: only the public header is used. Expected values (observation
 * lists, reference trajectories, hand-made updates) are computed here
 * independently of the library's own bookkeeping. */
#include "suites.h"
#include "tsrelu.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The sample problem: orthogonal teacher k = 2, d = 8, |v| = 1; Gaussian
 * student m = 6, sigma = 0.1; eta = 0.05. */
#define K 2
#define D 8
#define M 6
#define MD (M * D)
#define SIGMA 0.1
#define ETA 0.05
#define TEACHER_SEED 11
#define STUDENT_SEED 12

static tsrelu_teacher *T;
static tsrelu_student *S0;

static void setup(void)
{
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, TEACHER_SEED, &T), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, SIGMA, STUDENT_SEED, &S0), TSRELU_OK);
}

static void teardown(void)
{
    tsrelu_student_free(S0);
    tsrelu_teacher_free(T);
    S0 = NULL;
    T = NULL;
}

static tsrelu_gd *new_gd(double eta)
{
    tsrelu_gd *gd = NULL;
    ck_assert_int_eq(tsrelu_gd_create(T, S0, eta, &gd), TSRELU_OK);
    ck_assert_ptr_nonnull(gd);
    return gd;
}

static void get_W(const tsrelu_gd *gd, double *W)
{
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W, MD), TSRELU_OK);
}

static void get_a(const tsrelu_gd *gd, double *a)
{
    ck_assert_int_eq(tsrelu_student_output_weights(tsrelu_gd_student(gd), a, M), TSRELU_OK);
}

static double gd_loss(const tsrelu_gd *gd)
{
    double L = NAN;
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L), TSRELU_OK);
    return L;
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------------
 * Observer that records what it sees
 * --------------------------------------------------------------------- */

#define REC_CAP 20000

typedef struct {
    size_t n;
    uint64_t it[REC_CAP];
    double loss[REC_CAP];
    double gnorm[REC_CAP];
    int bad_status;       /* a getter failed inside the observer */
    int loss_mismatch;    /* tsrelu_gd_loss != tsrelu_loss(view, teacher) */
    int stop_enabled;
    uint64_t stop_iter;   /* return stop_ret when this iterate is observed */
    int stop_ret;
} recorder;

static recorder *rec_new(void)
{
    recorder *r = calloc(1, sizeof *r);
    ck_assert_ptr_nonnull(r);
    return r;
}

static int record(const tsrelu_gd *gd, void *ud)
{
    recorder *r = ud;
    if (r->n >= REC_CAP)
        return 99;
    double L = NAN, L2 = NAN, g = NAN;
    if (tsrelu_gd_loss(gd, &L) != TSRELU_OK || tsrelu_gd_gradient_norm(gd, &g) != TSRELU_OK ||
        tsrelu_loss(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &L2) != TSRELU_OK)
        r->bad_status = 1;
    if (memcmp(&L, &L2, sizeof L) != 0)
        r->loss_mismatch = 1;
    uint64_t t = tsrelu_gd_iteration(gd);
    r->it[r->n] = t;
    r->loss[r->n] = L;
    r->gnorm[r->n] = g;
    r->n++;
    if (r->stop_enabled && t == r->stop_iter)
        return r->stop_ret;
    return 0;
}

static void rec_check_clean(const recorder *r)
{
    ck_assert_msg(!r->bad_status, "a getter failed inside the observer");
    ck_assert_msg(!r->loss_mismatch, "tsrelu_gd_loss differs from tsrelu_loss at an observation");
}

/* ---------------------------------------------------------------------
 * Expected observation lists, computed independently
 * --------------------------------------------------------------------- */

typedef struct {
    size_t n;
    uint64_t it[REC_CAP];
    int have_last;
    uint64_t last;
} expect_list;

static void expect_push(expect_list *e, uint64_t t)
{
    if (e->have_last && e->last == t)
        return; /* the same iterate is never observed twice */
    ck_assert_uint_lt(e->n, REC_CAP);
    e->it[e->n++] = t;
    e->have_last = 1;
    e->last = t;
}

/* A run from `start` to `end` observes every scheduled t in [start, end]
 * and the final iterate `end`. */
static void expect_run(expect_list *e, uint64_t start, uint64_t end, int (*sched)(uint64_t, uint64_t),
                       uint64_t param)
{
    for (uint64_t t = start; t <= end; t++)
        if (sched(t, param) || t == end)
            expect_push(e, t);
}

static int linear_sched(uint64_t t, uint64_t N)
{
    return t % N == 0;
}

/* ceil(10^(j/P)) is the least integer n >= 1 with n^P >= 10^j: exact
 * integer arithmetic, no pow(). */
__extension__ typedef unsigned __int128 u128;

static u128 ipow(u128 x, uint64_t p)
{
    u128 r = 1;
    while (p--)
        r *= x;
    return r;
}

static int log_sched(uint64_t t, uint64_t P)
{
    if (t == 0)
        return 1;
    /* t is a point iff t = ceil(10^(j/P)) for some j, i.e. (t-1)^P < 10^j
     * <= t^P for some j. */
    u128 lo = ipow(t - 1, P), hi = ipow(t, P), ten = 1;
    for (int j = 0; j <= 38 && ten <= hi; j++, ten *= 10)
        if (ten > lo)
            return 1;
    return 0;
}

static void assert_observed(const recorder *r, const expect_list *e)
{
    ck_assert_msg(r->n == e->n, "observed %zu iterates, expected %zu", r->n, e->n);
    for (size_t i = 0; i < e->n; i++)
        ck_assert_msg(r->it[i] == e->it[i], "observation %zu at iteration %llu, expected %llu", i,
                      (unsigned long long)r->it[i], (unsigned long long)e->it[i]);
}

/* ---------------------------------------------------------------------
 * Step callbacks
 * --------------------------------------------------------------------- */

typedef struct {
    int calls;
    int saw_a;            /* a/ga were non-NULL on some call */
    int a_mismatch;       /* a non-NULL but ga NULL or vice versa */
    /* refusal / poisoning at call number `at` (1-based; 0 = never) */
    int at;
    int ret;              /* return value at that call (0 with poison) */
    int poison;           /* write NaN into W at that call */
    uint64_t iter_seen;   /* iteration and weights of the state at that call */
    double W_seen[MD];
    double a_seen[M];
} step_ctx;

/* Plain GD written by hand: W <- W - eta gW (and a <- a - eta ga). */
static int plain_step(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                      const double *ga, void *ud)
{
    step_ctx *c = ud;
    double eta = tsrelu_gd_eta(gd);
    const tsrelu_student *s = tsrelu_gd_student(gd);
    size_t n = tsrelu_student_width(s) * tsrelu_student_dim(s);
    c->calls++;
    for (size_t i = 0; i < n; i++)
        W[i] -= eta * gW[i];
    if ((a == NULL) != (ga == NULL))
        c->a_mismatch = 1;
    if (a && ga) {
        c->saw_a = 1;
        for (size_t i = 0; i < tsrelu_student_width(s); i++)
            a[i] -= eta * ga[i];
    }
    if (c->at && c->calls == c->at) {
        c->iter_seen = tsrelu_gd_iteration(gd);
        if (tsrelu_student_weights(s, c->W_seen, MD) != TSRELU_OK ||
            tsrelu_student_output_weights(s, c->a_seen, M) != TSRELU_OK)
            c->a_mismatch = 1;
        if (c->poison)
            W[n / 2] = NAN;
        else
            W[0] = 12345.0; /* scribble: a refused update must be discarded */
        return c->ret;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * core
 * --------------------------------------------------------------------- */

START_TEST(test_loss_decreases)
{
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 3000), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 3000);
    rec_check_clean(r);
    ck_assert_uint_eq(r->n, 3001);
    for (size_t i = 0; i < r->n; i++) {
        ck_assert_uint_eq(r->it[i], i);
        ck_assert(isfinite(r->loss[i]) && r->loss[i] > 0.0);
        if (i > 0)
            ck_assert_msg(r->loss[i] < r->loss[i - 1], "loss rose at step %zu: %.17g -> %.17g", i,
                          r->loss[i - 1], r->loss[i]);
    }
    /* it does not merely creep: with |v| = 1 and a small student, L(0) is
     * near 1/2 E[f*^2] = (1 + 1/pi) / 2 ~ 0.66, and it falls far below */
    ck_assert_double_gt(r->loss[0], 0.3);
    ck_assert_double_lt(r->loss[3000], 0.01 * r->loss[0]);
    /* the cached loss is the loss of the view */
    double L;
    ck_assert_int_eq(tsrelu_loss(tsrelu_gd_student(gd), T, &L), TSRELU_OK);
    ck_assert(memcmp(&L, &r->loss[3000], sizeof L) == 0);
    free(r);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_linear_schedule)
{
    const uint64_t N = 7;
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    expect_list *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, N), TSRELU_OK);
    /* runs ending off-schedule (50), on-schedule (56), with zero steps, and
     * a long one: iterations are absolute and no iterate is seen twice */
    const uint64_t lens[] = {50, 6, 0, 0, 1, 137, 3};
    uint64_t at = 0;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        ck_assert_int_eq(tsrelu_gd_run(gd, lens[i]), TSRELU_OK);
        expect_run(e, at, at + lens[i], linear_sched, N);
        at += lens[i];
        ck_assert_uint_eq(tsrelu_gd_iteration(gd), at);
    }
    rec_check_clean(r);
    assert_observed(r, e);
    /* spot values of the hand-computed list */
    ck_assert_uint_eq(e->it[0], 0);
    ck_assert_uint_eq(e->it[1], 7);
    ck_assert_uint_eq(e->it[7], 49);
    ck_assert_uint_eq(e->it[8], 50);
    ck_assert_uint_eq(e->it[9], 56);
    ck_assert_uint_eq(e->it[10], 57);
    ck_assert_uint_eq(e->it[e->n - 1], 197);

    /* tsrelu_gd_step never calls the observer */
    size_t before = r->n;
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_uint_eq(r->n, before);
    /* removing the observer stops the calls */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, NULL, NULL, 0, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 30), TSRELU_OK);
    ck_assert_uint_eq(r->n, before);
    free(e);
    free(r);
    tsrelu_gd_free(gd);
}
END_TEST

static void check_log_schedule(uint64_t P, const uint64_t *lens, size_t nlens)
{
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    expect_list *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LOG, P), TSRELU_OK);
    uint64_t at = 0;
    for (size_t i = 0; i < nlens; i++) {
        ck_assert_int_eq(tsrelu_gd_run(gd, lens[i]), TSRELU_OK);
        expect_run(e, at, at + lens[i], log_sched, P);
        at += lens[i];
    }
    rec_check_clean(r);
    assert_observed(r, e);
    free(e);
    free(r);
    tsrelu_gd_free(gd);
}

START_TEST(test_log_schedule)
{
    /* the expected points themselves, for P = 4 (no duplicates) and P = 10
     * (duplicates 2, 2, 2 collapse) */
    const uint64_t p4[] = {1, 2, 4, 6, 10, 18, 32, 57, 100, 178, 317, 563, 1000};
    uint64_t n = 0;
    for (uint64_t t = 1; t <= 1000; t++)
        if (log_sched(t, 4)) {
            ck_assert_uint_lt(n, sizeof p4 / sizeof p4[0]);
            ck_assert_uint_eq(t, p4[n]);
            n++;
        }
    ck_assert_uint_eq(n, sizeof p4 / sizeof p4[0]);
    const uint64_t p10[] = {1, 2, 3, 4, 6, 7, 8, 10, 13, 16, 20, 26, 32, 40, 51, 64, 80, 100};
    n = 0;
    for (uint64_t t = 1; t <= 100; t++)
        if (log_sched(t, 10)) {
            ck_assert_uint_lt(n, sizeof p10 / sizeof p10[0]);
            ck_assert_uint_eq(t, p10[n]);
            n++;
        }
    ck_assert_uint_eq(n, sizeof p10 / sizeof p10[0]);

    const uint64_t one[] = {1000};
    check_log_schedule(1, one, 1);
    check_log_schedule(4, one, 1);
    /* split runs: off-schedule end (37), on-schedule end (57), zero steps */
    const uint64_t split[] = {37, 20, 0, 443, 1, 1499};
    check_log_schedule(3, split, sizeof split / sizeof split[0]);
    check_log_schedule(10, split, sizeof split / sizeof split[0]);
}
END_TEST

START_TEST(test_observer_reinstalled_midway)
{
    /* installing the log observer after 500 steps continues from there */
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    expect_list *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(tsrelu_gd_run(gd, 500), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LOG, 5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 2000), TSRELU_OK);
    expect_run(e, 500, 2500, log_sched, 5);
    rec_check_clean(r);
    assert_observed(r, e);
    /* 500 itself is neither scheduled nor final: the first point is
     * ceil(10^(14/5)) = 631 */
    ck_assert_uint_eq(e->it[0], 631);
    free(e);
    free(r);
    tsrelu_gd_free(gd);
}
END_TEST

static void check_step_reproduces(int train)
{
    tsrelu_gd *ref = new_gd(ETA), *cb = new_gd(ETA);
    step_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(tsrelu_gd_set_train_output(ref, train), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_train_output(cb, train), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(cb, plain_step, c), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(ref, 1500), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(cb, 1500), TSRELU_OK);
    ck_assert_int_eq(c->calls, 1500);
    ck_assert_int_eq(c->a_mismatch, 0);
    ck_assert_int_eq(c->saw_a, train);
    ck_assert_uint_eq(tsrelu_gd_iteration(cb), 1500);
    double W1[MD], W2[MD], a1[M], a2[M];
    get_W(ref, W1);
    get_W(cb, W2);
    get_a(ref, a1);
    get_a(cb, a2);
    ck_assert_msg(memcmp(W1, W2, sizeof W1) == 0, "custom plain step differs from the default (train=%d)", train);
    ck_assert(memcmp(a1, a2, sizeof a1) == 0);
    ck_assert(gd_loss(ref) == gd_loss(cb));
    /* and tsrelu_gd_step goes through the same rule */
    ck_assert_int_eq(tsrelu_gd_step(ref), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(cb), TSRELU_OK);
    ck_assert_int_eq(c->calls, 1501);
    get_W(ref, W1);
    get_W(cb, W2);
    ck_assert(memcmp(W1, W2, sizeof W1) == 0);
    /* removing the rule restores the default */
    ck_assert_int_eq(tsrelu_gd_set_step(cb, NULL, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(ref, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(cb, 10), TSRELU_OK);
    ck_assert_int_eq(c->calls, 1501);
    get_W(ref, W1);
    get_W(cb, W2);
    ck_assert(memcmp(W1, W2, sizeof W1) == 0);
    free(c);
    tsrelu_gd_free(ref);
    tsrelu_gd_free(cb);
}

START_TEST(test_step_callback_reproduces_default)
{
    check_step_reproduces(0);
    check_step_reproduces(1);
}
END_TEST

START_TEST(test_train_output)
{
    /* b = (2, 1): with a fixed at 1 the student must carry b in the norms
     * of w alone; training a as well reaches a lower loss in the same
     * number of steps (about 0.6 times the fixed-a loss here, at every
     * horizon from 500 to 4000 steps). */
    double V[K * D], b[K] = {2.0, 1.0};
    ck_assert_int_eq(tsrelu_teacher_weights(T, V, K * D), TSRELU_OK);
    tsrelu_teacher *Tb;
    ck_assert_int_eq(tsrelu_teacher_create(K, D, V, b, &Tb), TSRELU_OK);
    tsrelu_gd *fixed, *trained;
    ck_assert_int_eq(tsrelu_gd_create(Tb, S0, ETA, &fixed), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(Tb, S0, ETA, &trained), TSRELU_OK);
    tsrelu_teacher_free(Tb);
    ck_assert_int_eq(tsrelu_gd_set_train_output(trained, 1), TSRELU_OK);
    double L0 = gd_loss(fixed);
    ck_assert(gd_loss(trained) == L0);
    ck_assert_int_eq(tsrelu_gd_run(fixed, 2000), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(trained, 2000), TSRELU_OK);
    double Lf = gd_loss(fixed), Lt = gd_loss(trained);
    ck_assert_double_lt(Lf, L0);
    ck_assert_msg(Lt < 0.75 * Lf, "trained a: L = %g, fixed a: L = %g", Lt, Lf);
    double af[M], at[M];
    get_a(fixed, af);
    get_a(trained, at);
    size_t moved = 0;
    for (size_t i = 0; i < M; i++) {
        ck_assert(af[i] == 1.0);
        moved += fabs(at[i] - 1.0) > 1e-3;
    }
    ck_assert_uint_gt(moved, 0);

    /* the gradient norm covers a when it is trained */
    double gW[MD], ga[M], g;
    ck_assert_int_eq(tsrelu_gradient(tsrelu_gd_student(trained), tsrelu_gd_teacher(trained), gW, MD, ga, M),
                     TSRELU_OK);
    double ss = 0.0;
    for (size_t i = 0; i < MD; i++)
        ss += gW[i] * gW[i];
    double ssW = ss;
    for (size_t i = 0; i < M; i++)
        ss += ga[i] * ga[i];
    ck_assert_int_eq(tsrelu_gd_gradient_norm(trained, &g), TSRELU_OK);
    ck_assert_double_eq_tol(g, sqrt(ss), 1e-13 * sqrt(ss));
    /* switching training off changes the norm to |gW| at once */
    ck_assert_int_eq(tsrelu_gd_set_train_output(trained, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_gradient_norm(trained, &g), TSRELU_OK);
    ck_assert_double_eq_tol(g, sqrt(ssW), 1e-13 * sqrt(ssW));
    tsrelu_gd_free(fixed);
    tsrelu_gd_free(trained);
}
END_TEST

START_TEST(test_observer_stops)
{
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    r->stop_enabled = 1;
    r->stop_iter = 30;
    r->stop_ret = 7;
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 7);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 30);
    ck_assert_uint_eq(r->n, 4);
    ck_assert_uint_eq(r->it[3], 30);
    /* resuming continues from 30 without observing it again */
    ck_assert_int_eq(tsrelu_gd_run(gd, 20), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 0);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 50);
    ck_assert_uint_eq(r->n, 6);
    ck_assert_uint_eq(r->it[4], 40);
    ck_assert_uint_eq(r->it[5], 50);
    /* a negative value stops as well */
    r->stop_iter = 60;
    r->stop_ret = -2;
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), -2);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 60);
    /* max_steps = UINT64_MAX (the end saturates) runs until stopped */
    r->stop_iter = 90;
    r->stop_ret = 1;
    ck_assert_int_eq(tsrelu_gd_run(gd, UINT64_MAX), TSRELU_STOPPED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 90);
    ck_assert_uint_eq(r->it[r->n - 1], 90);
    rec_check_clean(r);
    free(r);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_step_callback_stops)
{
    tsrelu_gd *gd = new_gd(ETA);
    step_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->at = 5;
    c->ret = 3;
    ck_assert_int_eq(tsrelu_gd_set_step(gd, plain_step, c), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 3);
    ck_assert_int_eq(c->calls, 5);
    ck_assert_uint_eq(c->iter_seen, 4);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 4);
    double W[MD], a[M];
    get_W(gd, W);
    get_a(gd, a);
    ck_assert(memcmp(W, c->W_seen, sizeof W) == 0);
    ck_assert(memcmp(a, c->a_seen, sizeof a) == 0);
    /* the state is that of 4 default steps */
    tsrelu_gd *ref = new_gd(ETA);
    ck_assert_int_eq(tsrelu_gd_run(ref, 4), TSRELU_OK);
    double Wr[MD];
    get_W(ref, Wr);
    ck_assert(memcmp(W, Wr, sizeof W) == 0);
    ck_assert(gd_loss(gd) == gd_loss(ref));

    /* tsrelu_gd_step: refused with the state unchanged, also with a trained */
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, 1), TSRELU_OK);
    c->calls = 0;
    c->at = 1;
    c->ret = -9;
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_STOPPED);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), -9);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 4);
    get_W(gd, W);
    get_a(gd, a);
    ck_assert(memcmp(W, Wr, sizeof W) == 0);
    ck_assert(memcmp(a, c->a_seen, sizeof a) == 0);
    /* an accepted step clears the stop value */
    c->at = 0;
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 0);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 5);
    free(c);
    tsrelu_gd_free(ref);
    tsrelu_gd_free(gd);
}
END_TEST

/* A reference trajectory of `steps` default steps with observations at
 * every iterate. */
static recorder *reference_run(uint64_t steps)
{
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, steps), TSRELU_OK);
    rec_check_clean(r);
    ck_assert_uint_eq(r->n, steps + 1);
    tsrelu_gd_free(gd);
    return r;
}

static void check_tolerance(const recorder *ref, int which, double tol)
{
    const double *v = which == 0 ? ref->loss : ref->gnorm;
    size_t first = ref->n;
    for (size_t i = 0; i < ref->n; i++)
        if (v[i] <= tol) {
            first = i;
            break;
        }
    ck_assert_msg(first > 0 && first < ref->n, "tolerance %g not crossed in the reference run", tol);
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, which == 0 ? tol : 0.0, which == 1 ? tol : 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100000), TSRELU_CONVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), first);
    double x;
    if (which == 0)
        ck_assert_int_eq(tsrelu_gd_loss(gd, &x), TSRELU_OK);
    else
        ck_assert_int_eq(tsrelu_gd_gradient_norm(gd, &x), TSRELU_OK);
    ck_assert_double_le(x, tol);
    /* observed every iterate, the converged one once, and the one before it
     * was above the tolerance */
    rec_check_clean(r);
    ck_assert_uint_eq(r->n, first + 1);
    ck_assert_uint_eq(r->it[first], first);
    const double *w = which == 0 ? r->loss : r->gnorm;
    ck_assert_double_le(w[first], tol);
    ck_assert_double_gt(w[first - 1], tol);
    ck_assert(w[first] == v[first]);
    /* with a sparse schedule the converged iterate is still observed, as
     * the final one */
    tsrelu_gd *sparse = new_gd(ETA);
    recorder *r2 = rec_new();
    ck_assert_int_eq(tsrelu_gd_set_observer(sparse, record, r2, TSRELU_SCHEDULE_LINEAR, 1000000),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(sparse, which == 0 ? tol : 0.0, which == 1 ? tol : 0.0),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(sparse, 100000), TSRELU_CONVERGED);
    rec_check_clean(r2);
    ck_assert_uint_eq(r2->n, 2);
    ck_assert_uint_eq(r2->it[0], 0);
    ck_assert_uint_eq(r2->it[1], first);
    free(r2);
    tsrelu_gd_free(sparse);
    /* a further run converges at once, without a step */
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_CONVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), first);
    ck_assert_uint_eq(r->n, first + 1);
    /* disabling the tolerance lets it go on */
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), first + 10);
    free(r);
    tsrelu_gd_free(gd);
}

START_TEST(test_tolerances)
{
    recorder *ref = reference_run(2000);
    /* tolerances crossed mid-run: exactly between two iterates, and an
     * arbitrary value */
    check_tolerance(ref, 0, 0.5 * (ref->loss[700] + ref->loss[701]));
    check_tolerance(ref, 0, 0.3 * ref->loss[0]);
    check_tolerance(ref, 0, ref->loss[900]); /* L <= tol, not L < tol */
    check_tolerance(ref, 1, 0.5 * ref->gnorm[0]);
    check_tolerance(ref, 1, ref->gnorm[1200]);
    /* a tolerance met at iteration 0: converged without a step */
    tsrelu_gd *gd = new_gd(ETA);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 2.0 * ref->loss[0], 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_CONVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 0);
    /* a tolerance not reached: max_steps done */
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 1e-300, 1e-300), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 50);
    tsrelu_gd_free(gd);
    free(ref);
}
END_TEST

START_TEST(test_diverges_huge_eta)
{
    const double eta = 1e200;
    tsrelu_gd *gd = new_gd(eta);
    recorder *r = rec_new();
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_EDIVERGED);
    ck_assert_str_ne(tsrelu_last_error(), "");
    uint64_t it = tsrelu_gd_iteration(gd);
    double W[MD];
    get_W(gd, W);
    ck_assert(all_finite(W, MD));
    /* W1 = W0 - eta gW(W0) is finite (|W1| ~ 1e200) but its loss ~ 1e400
     * is not: the run stops there, holding W1 and iteration 1 */
    double W0[MD], g0[MD], W1[MD];
    ck_assert_int_eq(tsrelu_student_weights(S0, W0, MD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gradient(S0, T, g0, MD, NULL, 0), TSRELU_OK);
    for (size_t i = 0; i < MD; i++)
        W1[i] = W0[i] - eta * g0[i];
    ck_assert(all_finite(W1, MD));
    ck_assert_uint_eq(it, 1);
    ck_assert(memcmp(W, W1, sizeof W) == 0);
    /* and it is the iterate a replay by single steps reaches */
    tsrelu_gd *replay = new_gd(eta);
    for (uint64_t s = 0; s < it; s++)
        ck_assert_int_eq(tsrelu_gd_step(replay), TSRELU_OK);
    double Wr[MD];
    get_W(replay, Wr);
    ck_assert(memcmp(W, Wr, sizeof W) == 0);
    ck_assert_uint_eq(r->n, 1); /* iteration 0 only: iteration 1 never evaluated */
    /* running or stepping again reports the same divergence, still
     * holding W1 */
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_EDIVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 1);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_EDIVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 1);
    get_W(gd, W);
    ck_assert(memcmp(W, W1, sizeof W) == 0);
    rec_check_clean(r);
    /* without an observer (the loss is then not needed at each iterate) the
     * run ends at the same place */
    tsrelu_gd *quiet = new_gd(eta);
    ck_assert_int_eq(tsrelu_gd_run(quiet, 100), TSRELU_EDIVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(quiet), 1);
    get_W(quiet, W);
    ck_assert(memcmp(W, W1, sizeof W) == 0);
    tsrelu_gd_free(quiet);
    free(r);
    tsrelu_gd_free(replay);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_diverges_in_update)
{
    /* norms ~1e150 (loss ~1e300, finite) and eta = 1e200: the update
     * itself overflows, so the run keeps iteration 0 */
    tsrelu_student *big;
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e150, STUDENT_SEED, &big), TSRELU_OK);
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_gd_create(T, big, 1e200, &gd), TSRELU_OK);
    double W0[MD], W[MD];
    ck_assert_int_eq(tsrelu_student_weights(big, W0, MD), TSRELU_OK);
    tsrelu_student_free(big);
    ck_assert(isfinite(gd_loss(gd)));
    ck_assert_int_eq(tsrelu_gd_run(gd, 10), TSRELU_EDIVERGED);
    ck_assert_str_ne(tsrelu_last_error(), "");
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 0);
    get_W(gd, W);
    ck_assert(memcmp(W, W0, sizeof W) == 0);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_EDIVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 0);
    get_W(gd, W);
    ck_assert(memcmp(W, W0, sizeof W) == 0);
    /* with a sane step size the same state proceeds */
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 1e-3), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 1);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_diverges_nan_step)
{
    tsrelu_gd *gd = new_gd(ETA);
    step_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->at = 3;
    c->poison = 1;
    ck_assert_int_eq(tsrelu_gd_set_step(gd, plain_step, c), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_EDIVERGED);
    ck_assert_str_ne(tsrelu_last_error(), "");
    ck_assert_int_eq(c->calls, 3);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 2);
    ck_assert_uint_eq(c->iter_seen, 2);
    double W[MD];
    get_W(gd, W);
    ck_assert(all_finite(W, MD));
    ck_assert(memcmp(W, c->W_seen, sizeof W) == 0);
    double L;
    ck_assert_int_eq(tsrelu_loss(tsrelu_gd_student(gd), T, &L), TSRELU_OK);
    ck_assert(gd_loss(gd) == L);

    /* through tsrelu_gd_step, with a trained and NaN written into W */
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, 1), TSRELU_OK);
    c->calls = 0;
    c->at = 1;
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_EDIVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 2);
    get_W(gd, W);
    ck_assert(memcmp(W, c->W_seen, sizeof W) == 0);
    /* a well-behaved step afterwards proceeds from the kept iterate */
    c->at = 0;
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 3);
    free(c);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_create_copies)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, TEACHER_SEED, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, SIGMA, STUDENT_SEED, &s), TSRELU_OK);
    tsrelu_gd *orphan;
    ck_assert_int_eq(tsrelu_gd_create(t, s, ETA, &orphan), TSRELU_OK);
    /* free in the "wrong" order, before any use */
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    tsrelu_gd *alive = new_gd(ETA);
    ck_assert_int_eq(tsrelu_gd_run(orphan, 700), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(alive, 700), TSRELU_OK);
    double W1[MD], W2[MD];
    get_W(orphan, W1);
    get_W(alive, W2);
    ck_assert(memcmp(W1, W2, sizeof W1) == 0);
    ck_assert(gd_loss(orphan) == gd_loss(alive));
    /* the teacher copy holds the same weights */
    double V1[K * D], V2[K * D];
    ck_assert_int_eq(tsrelu_teacher_weights(tsrelu_gd_teacher(orphan), V1, K * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(T, V2, K * D), TSRELU_OK);
    ck_assert(memcmp(V1, V2, sizeof V1) == 0);
    ck_assert_uint_eq(tsrelu_teacher_width(tsrelu_gd_teacher(orphan)), K);
    ck_assert_uint_eq(tsrelu_student_width(tsrelu_gd_student(orphan)), M);
    ck_assert_uint_eq(tsrelu_student_dim(tsrelu_gd_student(orphan)), D);
    /* the caller's student is not touched by the run */
    double W0[MD], Wc[MD];
    ck_assert_int_eq(tsrelu_student_weights(S0, W0, MD), TSRELU_OK);
    tsrelu_student *fresh;
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, SIGMA, STUDENT_SEED, &fresh), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(fresh, Wc, MD), TSRELU_OK);
    ck_assert(memcmp(W0, Wc, sizeof W0) == 0);
    tsrelu_student_free(fresh);
    tsrelu_gd_free(orphan);
    tsrelu_gd_free(alive);
}
END_TEST

START_TEST(test_student_view)
{
    tsrelu_gd *gd = new_gd(ETA);
    const tsrelu_student *view = tsrelu_gd_student(gd);
    ck_assert_ptr_nonnull(view);
    double L;
    /* loss of the view, exactly: at creation, after a run, after a step
     * (not cached by the run) */
    ck_assert_int_eq(tsrelu_loss(view, tsrelu_gd_teacher(gd), &L), TSRELU_OK);
    ck_assert(gd_loss(gd) == L);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &L), TSRELU_OK);
    ck_assert(gd_loss(gd) == L);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), &L), TSRELU_OK);
    ck_assert(gd_loss(gd) == L);

    /* read-only: setters refuse with EINVAL and change nothing */
    double W[MD], Wafter[MD], a[M];
    get_W(gd, W);
    double junk[MD];
    for (size_t i = 0; i < MD; i++)
        junk[i] = 1.0;
    tsrelu_student *rw = (tsrelu_student *)tsrelu_gd_student(gd);
    ck_assert_int_eq(tsrelu_student_set_weights(rw, junk, MD), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_student_set_output_weights(rw, junk, M), TSRELU_EINVAL);
    get_W(gd, Wafter);
    ck_assert(memcmp(W, Wafter, sizeof W) == 0);
    get_a(gd, a);
    for (size_t i = 0; i < M; i++)
        ck_assert(a[i] == 1.0);
    /* freeing the view is a no-op: the state stays usable */
    tsrelu_student_free(rw);
    get_W(gd, Wafter);
    ck_assert(memcmp(W, Wafter, sizeof W) == 0);
    /* a copy of the view is an independent, writable student */
    tsrelu_student *copy;
    ck_assert_int_eq(tsrelu_student_copy(tsrelu_gd_student(gd), &copy), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_set_weights(copy, junk, MD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 151);
    get_W(gd, Wafter);
    ck_assert(memcmp(W, Wafter, sizeof W) != 0);
    ck_assert_int_eq(tsrelu_student_weights(copy, W, MD), TSRELU_OK);
    ck_assert(memcmp(W, junk, sizeof W) == 0);
    tsrelu_student_free(copy);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_new_observer_sees_current_iterate)
{
    /* observer A sees the end of a run at 100; a different observer B
     * installed afterwards has never seen iterate 100, which is on its
     * schedule: the next run starts by observing it */
    tsrelu_gd *gd = new_gd(ETA);
    recorder *ra = rec_new(), *rb = rec_new();
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, ra, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_OK);
    ck_assert_uint_eq(ra->n, 11);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, rb, TSRELU_SCHEDULE_LINEAR, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 20), TSRELU_OK);
    ck_assert_uint_eq(ra->n, 11);
    ck_assert_msg(rb->n == 3 && rb->it[0] == 100,
                  "a newly installed observer saw %zu iterates, the first at %llu; expected 100, 110, 120",
                  rb->n, rb->n ? (unsigned long long)rb->it[0] : 0ULL);
    ck_assert_uint_eq(rb->it[1], 110);
    ck_assert_uint_eq(rb->it[2], 120);
    free(ra);
    free(rb);
    tsrelu_gd_free(gd);
}
END_TEST

typedef struct {
    int calls;
    int w_mismatch;  /* W on entry differs from the current iterate */
    int g_mismatch;  /* gW (or ga) differs from tsrelu_gradient at it */
    int size_mismatch;
} inspect_ctx;

/* Checks what a step callback receives, then does plain GD. */
static int inspect_step(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                        const double *ga, void *ud)
{
    inspect_ctx *c = ud;
    const tsrelu_student *s = tsrelu_gd_student(gd);
    double Wv[MD], av[M], g[MD], gaa[M];
    c->calls++;
    if (tsrelu_student_width(s) != M || tsrelu_student_dim(s) != D) {
        c->size_mismatch = 1;
        return 1;
    }
    if (tsrelu_student_weights(s, Wv, MD) != TSRELU_OK ||
        tsrelu_student_output_weights(s, av, M) != TSRELU_OK ||
        tsrelu_gradient(s, tsrelu_gd_teacher(gd), g, MD, gaa, M) != TSRELU_OK) {
        c->size_mismatch = 1;
        return 1;
    }
    if (memcmp(W, Wv, sizeof Wv) != 0 || (a && memcmp(a, av, sizeof av) != 0))
        c->w_mismatch = 1;
    if (memcmp(gW, g, sizeof g) != 0 || (ga && memcmp(ga, gaa, sizeof gaa) != 0))
        c->g_mismatch = 1;
    double eta = tsrelu_gd_eta(gd);
    for (size_t i = 0; i < MD; i++)
        W[i] -= eta * gW[i];
    if (a)
        for (size_t i = 0; i < M; i++)
            a[i] -= eta * ga[i];
    return 0;
}

START_TEST(test_step_callback_arguments)
{
    /* W is the current iterate, gW the exact gradient at it (the same
     * evaluation tsrelu_gradient performs, bit for bit); also a and ga */
    for (int train = 0; train < 2; train++) {
        tsrelu_gd *gd = new_gd(ETA);
        inspect_ctx c = {0, 0, 0, 0};
        ck_assert_int_eq(tsrelu_gd_set_train_output(gd, train), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_set_step(gd, inspect_step, &c), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(gd, 200), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
        ck_assert_int_eq(c.calls, 201);
        ck_assert_int_eq(c.size_mismatch, 0);
        ck_assert_int_eq(c.w_mismatch, 0);
        ck_assert_int_eq(c.g_mismatch, 0);
        tsrelu_gd_free(gd);
    }
}
END_TEST

START_TEST(test_zero_neuron_stays)
{
    /* a zero student neuron gets a zero gradient and stays exactly 0 */
    double W[MD];
    ck_assert_int_eq(tsrelu_student_weights(S0, W, MD), TSRELU_OK);
    for (size_t c = 0; c < D; c++)
        W[2 * D + c] = 0.0;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_student_create(M, D, W, NULL, &s), TSRELU_OK);
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_gd_create(T, s, ETA, &gd), TSRELU_OK);
    tsrelu_student_free(s);
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 500), TSRELU_OK);
    double W1[MD], a1[M];
    get_W(gd, W1);
    get_a(gd, a1);
    ck_assert(all_finite(W1, MD));
    for (size_t c = 0; c < D; c++)
        ck_assert(W1[2 * D + c] == 0.0);
    ck_assert(a1[2] == 1.0); /* dL/da_2 = 0 too */
    ck_assert(W1[0] != W[0]);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_deterministic)
{
    double W[2][MD], a[2][M], L[2];
    for (int rep = 0; rep < 2; rep++) {
        tsrelu_teacher *t;
        tsrelu_student *s;
        tsrelu_gd *gd;
        ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 77, &t), TSRELU_OK);
        ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-3, 78, &s), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_set_train_output(gd, 1), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(gd, 2000), TSRELU_OK);
        get_W(gd, W[rep]);
        get_a(gd, a[rep]);
        L[rep] = gd_loss(gd);
        tsrelu_gd_free(gd);
        tsrelu_student_free(s);
        tsrelu_teacher_free(t);
    }
    ck_assert(memcmp(W[0], W[1], sizeof W[0]) == 0);
    ck_assert(memcmp(a[0], a[1], sizeof a[0]) == 0);
    ck_assert(memcmp(&L[0], &L[1], sizeof L[0]) == 0);
}
END_TEST

START_TEST(test_same_path_however_driven)
{
    /* one run of 600 steps, 600 single steps, runs split with an observer
     * and tolerances that never trigger: all bit-identical */
    tsrelu_gd *one = new_gd(ETA), *steps = new_gd(ETA), *split = new_gd(ETA);
    recorder *r = rec_new();
    ck_assert_int_eq(tsrelu_gd_run(one, 600), TSRELU_OK);
    for (int i = 0; i < 600; i++)
        ck_assert_int_eq(tsrelu_gd_step(steps), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(split, record, r, TSRELU_SCHEDULE_LOG, 7), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(split, 1e-300, 1e-300), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(split, 123), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(split), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(split, 476), TSRELU_OK);
    rec_check_clean(r);
    double W1[MD], W2[MD], W3[MD];
    get_W(one, W1);
    get_W(steps, W2);
    get_W(split, W3);
    ck_assert_uint_eq(tsrelu_gd_iteration(steps), 600);
    ck_assert_uint_eq(tsrelu_gd_iteration(split), 600);
    ck_assert(memcmp(W1, W2, sizeof W1) == 0);
    ck_assert(memcmp(W1, W3, sizeof W1) == 0);
    ck_assert(gd_loss(one) == gd_loss(steps));
    ck_assert(gd_loss(one) == gd_loss(split));
    free(r);
    tsrelu_gd_free(one);
    tsrelu_gd_free(steps);
    tsrelu_gd_free(split);
}
END_TEST

START_TEST(test_set_eta)
{
    tsrelu_gd *gd = new_gd(ETA);
    ck_assert(tsrelu_gd_eta(gd) == ETA);
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 0.01), TSRELU_OK);
    ck_assert(tsrelu_gd_eta(gd) == 0.01);
    /* the new step size is used: one step equals W - 0.01 gW */
    double W0[MD], g0[MD], W1[MD];
    get_W(gd, W0);
    ck_assert_int_eq(tsrelu_gradient(tsrelu_gd_student(gd), T, g0, MD, NULL, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    get_W(gd, W1);
    for (size_t i = 0; i < MD; i++)
        ck_assert(W1[i] == W0[i] - 0.01 * g0[i]);
    tsrelu_gd_free(gd);
}
END_TEST

/* ---------------------------------------------------------------------
 * limits
 * --------------------------------------------------------------------- */

static int noop_observer(const tsrelu_gd *gd, void *ud)
{
    (void)gd;
    (void)ud;
    return 0;
}

START_TEST(test_null_arguments)
{
    tsrelu_gd *gd = (tsrelu_gd *)&gd; /* must be overwritten with NULL */
    ck_assert_int_eq(tsrelu_gd_create(NULL, S0, ETA, &gd), TSRELU_EINVAL);
    ck_assert_ptr_null(gd);
    ck_assert_str_ne(tsrelu_last_error(), "");
    ck_assert_int_eq(tsrelu_gd_create(T, NULL, ETA, &gd), TSRELU_EINVAL);
    ck_assert_ptr_null(gd);
    ck_assert_int_eq(tsrelu_gd_create(T, S0, ETA, NULL), TSRELU_EINVAL);
    tsrelu_gd_free(NULL);

    ck_assert_int_eq(tsrelu_gd_set_eta(NULL, 0.1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_train_output(NULL, 1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(NULL, 0.0, 0.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_observer(NULL, noop_observer, NULL, TSRELU_SCHEDULE_LINEAR, 1),
                     TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_step(NULL, plain_step, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_step(NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_run(NULL, 10), TSRELU_EINVAL);
    double x = 5.0;
    ck_assert_int_eq(tsrelu_gd_loss(NULL, &x), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_gradient_norm(NULL, &x), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(NULL, 0.05, 0.05), TSRELU_EINVAL);
    int64_t t1, t2;
    ck_assert_int_eq(tsrelu_gd_phase_times(NULL, &t1, &t2), TSRELU_EINVAL);
    int tau[M];
    ck_assert_int_eq(tsrelu_gd_groups(NULL, 0, tau, M), TSRELU_EINVAL);

    /* NULL outputs on a valid state */
    gd = new_gd(ETA);
    ck_assert_int_eq(tsrelu_gd_loss(gd, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_gradient_norm(gd, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 0, NULL, M), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_groups(gd, 1, tau, M + 1), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gd_phase_times(gd, NULL, NULL), TSRELU_OK);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_getters_on_null)
{
    ck_assert_uint_eq(tsrelu_gd_iteration(NULL), 0);
    ck_assert_int_eq(tsrelu_gd_stop_value(NULL), 0);
    ck_assert_ptr_null(tsrelu_gd_student(NULL));
    ck_assert_ptr_null(tsrelu_gd_teacher(NULL));
    ck_assert(tsrelu_gd_eta(NULL) == 0.0);
    ck_assert_int_eq(tsrelu_gd_phase(NULL), 0);
    ck_assert_uint_eq(tsrelu_gd_group_switches(NULL), 0);
    /* and on a fresh state */
    tsrelu_gd *gd = new_gd(ETA);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 0);
    ck_assert_int_eq(tsrelu_gd_stop_value(gd), 0);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_bad_eta)
{
    const double einval[] = {0.0, -0.0, -1e-300, -0.1, -1e300};
    const double enonfinite[] = {NAN, -NAN, INFINITY, -INFINITY};
    tsrelu_gd *gd;
    for (size_t i = 0; i < sizeof einval / sizeof einval[0]; i++) {
        gd = (tsrelu_gd *)&gd;
        ck_assert_int_eq(tsrelu_gd_create(T, S0, einval[i], &gd), TSRELU_EINVAL);
        ck_assert_ptr_null(gd);
        ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "eta"));
    }
    for (size_t i = 0; i < sizeof enonfinite / sizeof enonfinite[0]; i++) {
        gd = (tsrelu_gd *)&gd;
        ck_assert_int_eq(tsrelu_gd_create(T, S0, enonfinite[i], &gd), TSRELU_ENONFINITE);
        ck_assert_ptr_null(gd);
        ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "eta"));
    }
    gd = new_gd(ETA);
    for (size_t i = 0; i < sizeof einval / sizeof einval[0]; i++)
        ck_assert_int_eq(tsrelu_gd_set_eta(gd, einval[i]), TSRELU_EINVAL);
    for (size_t i = 0; i < sizeof enonfinite / sizeof enonfinite[0]; i++)
        ck_assert_int_eq(tsrelu_gd_set_eta(gd, enonfinite[i]), TSRELU_ENONFINITE);
    ck_assert(tsrelu_gd_eta(gd) == ETA); /* unchanged by the failures */
    /* the smallest positive and the largest finite eta are accepted */
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 4.9406564584124654e-324), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 1.7976931348623157e308), TSRELU_OK);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_dim_mismatch)
{
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D + 1, SIGMA, 1, &s), TSRELU_OK);
    tsrelu_gd *gd = (tsrelu_gd *)&gd;
    ck_assert_int_eq(tsrelu_gd_create(T, s, ETA, &gd), TSRELU_EDIM);
    ck_assert_ptr_null(gd);
    ck_assert_str_ne(tsrelu_last_error(), "");
    tsrelu_student_free(s);
    /* a different width m is fine */
    ck_assert_int_eq(tsrelu_student_create_gaussian(1, D, SIGMA, 1, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(T, s, ETA, &gd), TSRELU_OK);
    tsrelu_student_free(s);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_bad_schedule)
{
    tsrelu_gd *gd = new_gd(ETA);
    recorder *r = rec_new();
    const int bad[] = {0, -1, 3, 42};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, bad[i], 5), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LOG, 0), TSRELU_EINVAL);
    /* none of the failures installed an observer */
    ck_assert_int_eq(tsrelu_gd_run(gd, 5), TSRELU_OK);
    ck_assert_uint_eq(r->n, 0);
    /* a failure keeps the observer already installed */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LINEAR, 2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, noop_observer, NULL, 99, 1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_run(gd, 5), TSRELU_OK); /* 5 .. 10: 6, 8, 10 */
    ck_assert_uint_eq(r->n, 3);
    ck_assert_uint_eq(r->it[0], 6);
    ck_assert_uint_eq(r->it[2], 10);
    /* removing with fn NULL accepts any schedule */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, NULL, NULL, 0, 0), TSRELU_OK);
    /* a huge linear period and P = 1 are valid */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, noop_observer, NULL, TSRELU_SCHEDULE_LINEAR, UINT64_MAX),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 3), TSRELU_OK);
    free(r);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_bad_tolerances)
{
    tsrelu_gd *gd = new_gd(ETA);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, -1e-10, 0.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, -1.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, NAN, 0.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, NAN), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, -INFINITY, 0.0), TSRELU_EINVAL);
    ck_assert_str_ne(tsrelu_last_error(), "");
    /* the failures installed nothing: the run does all its steps */
    ck_assert_int_eq(tsrelu_gd_run(gd, 20), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 20);
    /* 0 disables; +Inf is a tolerance always met */
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, INFINITY, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 20), TSRELU_CONVERGED);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 20);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(test_bad_phase_thresholds)
{
    tsrelu_gd *gd = new_gd(ETA);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, NAN, 0.05), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.05, INFINITY), TSRELU_ENONFINITE);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.0, 0.05), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 3.2, 0.05), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.05, 0.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.05, -1.0), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 0.1, 0.1), TSRELU_OK);
    tsrelu_gd_free(gd);
}
END_TEST


/* A log observer installed at iteration 50000 seeks its schedule by a jump,
 * not point by point, and still observes exactly the right iterates. */
START_TEST(test_log_schedule_jump)
{
    tsrelu_gd *gd = new_gd(0.05);
    recorder *r = rec_new();
    expect_list e = {0};
    ck_assert_int_eq(tsrelu_gd_run(gd, 50000), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LOG, 3), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(gd, 100000), TSRELU_OK);
    expect_run(&e, 50000, 150000, log_sched, 3); /* 50000 is no point: not observed */
    assert_observed(r, &e);
    /* the largest allowed density is served quickly too */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LOG, TSRELU_LOG_MAX_PER_DECADE),
                     TSRELU_OK);
    r->n = 0;
    ck_assert_int_eq(tsrelu_gd_run(gd, 3), TSRELU_OK);
    ck_assert_uint_eq(r->n, 4); /* every iterate is a point at this density */
    ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, r, TSRELU_SCHEDULE_LOG,
                                            (uint64_t)TSRELU_LOG_MAX_PER_DECADE + 1),
                     TSRELU_EINVAL);
    free(r);
    tsrelu_gd_free(gd);
}
END_TEST

static int calls;

static int write_huge(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga,
                      void *ud)
{
    (void)gd, (void)gW, (void)a, (void)ga, (void)ud;
    for (size_t i = 0; i < MD; i++)
        W[i] = i % 3 == 0 ? 1e308 : 0.0; /* finite, but its gradient overflows */
    return 0;
}

static int count_calls(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga,
                       void *ud)
{
    (void)gd, (void)W, (void)gW, (void)a, (void)ga, (void)ud;
    calls++;
    return 0;
}

/* A gradient that overflows reaches neither a step rule nor a caller of the
 * gradient norm as a number. */
START_TEST(test_overflowing_gradient_is_reported)
{
    tsrelu_gd *gd = new_gd(0.1);
    double W[MD], n;
    ck_assert_int_eq(tsrelu_gd_set_step(gd, write_huge, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_OK);
    get_W(gd, W);
    ck_assert(all_finite(W, MD) && W[0] == 1e308);
    calls = 0;
    ck_assert_int_eq(tsrelu_gd_set_step(gd, count_calls, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(gd), TSRELU_EDIVERGED);
    ck_assert_int_eq(calls, 0);
    ck_assert_uint_eq(tsrelu_gd_iteration(gd), 1);
    ck_assert_int_eq(tsrelu_gd_gradient_norm(gd, &n), TSRELU_ENONFINITE);
    tsrelu_gd_free(gd);
    /* a student whose initial gradient overflows is refused at creation */
    tsrelu_teacher *t;
    tsrelu_student *s;
    const double V[3] = {1, 0, 0}, Wh[6] = {1e308, 0, 0, 1e308, 0, 0}, a[2] = {4, -4};
    ck_assert_int_eq(tsrelu_teacher_create(1, 3, V, NULL, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(2, 3, Wh, a, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_ENONFINITE);
    ck_assert_ptr_null(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

Suite *gd_suite(void)
{
    Suite *s = suite_create("gd");

    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_loss_decreases);
    tcase_add_test(core, test_linear_schedule);
    tcase_add_test(core, test_log_schedule);
    tcase_add_test(core, test_log_schedule_jump);
    tcase_add_test(core, test_overflowing_gradient_is_reported);
    tcase_add_test(core, test_observer_reinstalled_midway);
    tcase_add_test(core, test_step_callback_reproduces_default);
    tcase_add_test(core, test_train_output);
    tcase_add_test(core, test_observer_stops);
    tcase_add_test(core, test_step_callback_stops);
    tcase_add_test(core, test_tolerances);
    tcase_add_test(core, test_diverges_huge_eta);
    tcase_add_test(core, test_diverges_in_update);
    tcase_add_test(core, test_diverges_nan_step);
    tcase_add_test(core, test_create_copies);
    tcase_add_test(core, test_student_view);
    tcase_add_test(core, test_new_observer_sees_current_iterate);
    tcase_add_test(core, test_step_callback_arguments);
    tcase_add_test(core, test_zero_neuron_stays);
    tcase_add_test(core, test_deterministic);
    tcase_add_test(core, test_same_path_however_driven);
    tcase_add_test(core, test_set_eta);
    suite_add_tcase(s, core);

    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_add_test(limits, test_null_arguments);
    tcase_add_test(limits, test_getters_on_null);
    tcase_add_test(limits, test_bad_eta);
    tcase_add_test(limits, test_dim_mismatch);
    tcase_add_test(limits, test_bad_schedule);
    tcase_add_test(limits, test_bad_tolerances);
    tcase_add_test(limits, test_bad_phase_thresholds);
    suite_add_tcase(s, limits);
    return s;
}

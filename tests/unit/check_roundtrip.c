/* Check suite for the checkpoint promise "save returned OK => load returns
 * OK and the loaded state is bit-identical", as a property over random,
 * diverged and extreme states, and for the files a hostile or careless user
 * hands to save and load: sparse giants, FIFOs, directories, names of
 * NAME_MAX bytes, file modes. */
#define _DEFAULT_SOURCE
#include "suites.h"
#include "fixtures.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tsrelu.h"

static char dir[64];
static char p1[128], p2[128];

static void setup(void)
{
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_rt");
    snprintf(p1, sizeof p1, "%s/a.ckpt", dir);
    snprintf(p2, sizeof p2, "%s/b.ckpt", dir);
}

static void teardown(void)
{
    fixture_rmtree(dir);
}

static int entries(void)
{
    return fixture_entries(dir);
}

static unsigned char *slurp(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    ck_assert_int_ge(len, 0);
    rewind(f);
    unsigned char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    *n = fread(b, 1, (size_t)len, f);
    ck_assert_uint_eq(*n, (size_t)len);
    fclose(f);
    return b;
}

/* ------------------------------------------------------------ random states */

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double pick(uint64_t *s, const double *v, size_t n)
{
    return v[rnd(s) % n];
}

#define MAXV 256

/* What a run's callbacks need: the heavy-ball velocity (the declared step
 * state) and the iterations the observer saw. */
typedef struct {
    double velocity[MAXV];
    uint64_t seen[4096];
    size_t nseen;
} run_ctx;

static int heavy_ball(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                      const double *ga, void *ud)
{
    run_ctx *c = ud;
    size_t md = tsrelu_student_width(tsrelu_gd_student(gd)) * tsrelu_student_dim(tsrelu_gd_student(gd));
    double eta = tsrelu_gd_eta(gd);
    for (size_t i = 0; i < md; i++) {
        c->velocity[i] = 0.9 * c->velocity[i] - eta * gW[i];
        W[i] += c->velocity[i];
    }
    if (a)
        for (size_t i = 0; i < tsrelu_student_width(tsrelu_gd_student(gd)); i++)
            a[i] -= eta * ga[i];
    return 0;
}

static int record(const tsrelu_gd *gd, void *ud)
{
    run_ctx *c = ud;
    if (c->nseen < sizeof c->seen / sizeof c->seen[0])
        c->seen[c->nseen++] = tsrelu_gd_iteration(gd);
    return 0;
}

typedef struct {
    int schedule;
    uint64_t param;
    int stepper;
    size_t md;
} callbacks;

static void install(tsrelu_gd *gd, const callbacks *cb, run_ctx *c)
{
    if (cb->schedule)
        ck_assert_int_eq(tsrelu_gd_set_observer(gd, record, c, cb->schedule, cb->param), TSRELU_OK);
    if (cb->stepper) {
        ck_assert_int_eq(tsrelu_gd_set_step(gd, heavy_ball, c), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_set_step_state(gd, c->velocity, cb->md), TSRELU_OK);
    }
}

/* Sampling drawn at random (docs/sgd.md): exact GD (a quarter of the
 * states), online SGD with B from 1 to 512, a training set generated from
 * a seed (n from B to B + 40, full batch included), or the caller's X (n
 * rows of scaled normals-ish values, any B <= n); seeds at random. */
static void random_sampling(uint64_t *s, tsrelu_gd *gd, size_t d)
{
    static const size_t batches[] = {1, 2, 3, 7, 16, 33, 512};
    static const double scales[] = {1.0, 1e-3, 1e3, 0.25};
    uint64_t seed = rnd(s);
    size_t B = batches[rnd(s) % 7];
    int kind = (int)(rnd(s) % 4);
    if (kind == 0)
        return;
    if (kind == 1) {
        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, 0, seed, 0), TSRELU_OK);
        return;
    }
    B = B > 64 ? 64 : B; /* a finite set: n from B to B + 40 */
    size_t n = rnd(s) % 3 ? B + rnd(s) % 41 : B;
    if (kind == 2) {
        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, n, seed, 0), TSRELU_OK);
        return;
    }
    double *X = malloc(n * d * sizeof(double)), scale = pick(s, scales, 4);
    ck_assert_ptr_nonnull(X);
    for (size_t i = 0; i < n * d; i++) /* in (-scale, scale), zeros included */
        X[i] = scale * ((double)(rnd(s) % 2001) - 1000.0) / 1000.0;
    ck_assert_int_eq(tsrelu_gd_set_training_set(gd, X, n * d, B, seed, 0), TSRELU_OK);
    free(X);
}

/* A state somewhere in the space the API reaches: sizes, scales, signed and
 * zero output weights, step sizes that diverge, infinite tolerances, phase
 * thresholds, observers, a step rule with state, and any number of steps. */
static tsrelu_gd *random_state(uint64_t *s, callbacks *cb, run_ctx *c)
{
    static const double norms[] = {1.0, 1e-3, 1e3, 1e-150, 1e150};
    static const double sigmas[] = {1e-6, 1e-2, 0.5, 3.0};
    static const double etas[] = {1e-3, 0.1, 1.0, 50.0, 1e6};
    static const double tols[] = {0.0, 0.0, 1e-12, 1e-3, INFINITY};
    size_t k = 1 + rnd(s) % 3, d = k + rnd(s) % 5, m = 1 + rnd(s) % 8;
    tsrelu_teacher *t0, *t;
    tsrelu_student *st;
    tsrelu_gd *gd = NULL;
    double V[MAXV], b[8];
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(k, d, pick(s, norms, 5), rnd(s), &t0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(t0, V, k * d), TSRELU_OK);
    tsrelu_teacher_free(t0);
    for (size_t j = 0; j < k; j++)
        b[j] = (double)((int)(rnd(s) % 5) - 2) / 2.0; /* -1 ... 1, zeros included */
    ck_assert_int_eq(tsrelu_teacher_create(k, d, V, b, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(m, d, pick(s, sigmas, 4), rnd(s), &st), TSRELU_OK);
    tsrelu_status cs = tsrelu_gd_create(t, st, pick(s, etas, 5), &gd);
    tsrelu_teacher_free(t);
    tsrelu_student_free(st);
    ck_assert_int_eq(cs, TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, (int)(rnd(s) % 2)), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, pick(s, tols, 5), pick(s, tols, 5)), TSRELU_OK);
    if (rnd(s) % 2)
        ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(gd, 1e-3 + 1.5 * (double)(rnd(s) % 1000) / 1000.0,
                                                        1e-4 + (double)(rnd(s) % 1000) / 100.0),
                         TSRELU_OK);
    memset(cb, 0, sizeof *cb);
    cb->md = m * d;
    uint64_t r = rnd(s) % 3;
    cb->schedule = r == 0 ? 0 : r == 1 ? TSRELU_SCHEDULE_LINEAR : TSRELU_SCHEDULE_LOG;
    cb->param = cb->schedule ? 1 + rnd(s) % 13 : 0;
    cb->stepper = (int)(rnd(s) % 2);
    memset(c, 0, sizeof *c);
    install(gd, cb, c);
    /* a sampler, set before the run or after some steps, so that the
     * checkpoint is taken at a random point of its stream */
    if (rnd(s) % 2) {
        tsrelu_status rs = tsrelu_gd_run(gd, rnd(s) % 20);
        ck_assert_msg(rs == TSRELU_OK || rs == TSRELU_CONVERGED || rs == TSRELU_EDIVERGED,
                      "run: %s (%s)", tsrelu_status_name(rs), tsrelu_last_error());
    }
    random_sampling(s, gd, d);
    uint64_t steps = rnd(s) % 120;
    tsrelu_status rs = rnd(s) % 4 ? tsrelu_gd_run(gd, steps) : tsrelu_gd_step(gd);
    ck_assert_msg(rs == TSRELU_OK || rs == TSRELU_CONVERGED || rs == TSRELU_EDIVERGED,
                  "run: %s (%s)", tsrelu_status_name(rs), tsrelu_last_error());
    return gd;
}

static void assert_identical(const tsrelu_gd *x, const tsrelu_gd *y, const char *when)
{
    const tsrelu_student *sx = tsrelu_gd_student(x), *sy = tsrelu_gd_student(y);
    size_t m = tsrelu_student_width(sx), d = tsrelu_student_dim(sx);
    ck_assert_uint_eq(m, tsrelu_student_width(sy));
    double *Wx = malloc(2 * (m * d + m) * sizeof(double)), *Wy = Wx + m * d, *ax = Wy + m * d, *ay = ax + m;
    int *gx = malloc(2 * m * sizeof(int)), *gy = gx + m;
    ck_assert_ptr_nonnull(Wx);
    ck_assert_ptr_nonnull(gx);
    ck_assert_int_eq(tsrelu_student_weights(sx, Wx, m * d), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_weights(sy, Wy, m * d), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(sx, ax, m), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(sy, ay, m), TSRELU_OK);
    ck_assert_msg(memcmp(Wx, Wy, m * d * sizeof(double)) == 0, "%s: W differs", when);
    ck_assert_msg(memcmp(ax, ay, m * sizeof(double)) == 0, "%s: a differs", when);
    ck_assert_uint_eq(tsrelu_gd_iteration(x), tsrelu_gd_iteration(y));
    ck_assert_int_eq(tsrelu_gd_phase(x), tsrelu_gd_phase(y));
    int64_t a1, a2, b1, b2;
    ck_assert_int_eq(tsrelu_gd_phase_times(x, &a1, &a2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_phase_times(y, &b1, &b2), TSRELU_OK);
    ck_assert_int_eq(a1, b1);
    ck_assert_int_eq(a2, b2);
    for (int initial = 0; initial < 2; initial++) {
        ck_assert_int_eq(tsrelu_gd_groups(x, initial, gx, m), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_groups(y, initial, gy, m), TSRELU_OK);
        ck_assert_msg(memcmp(gx, gy, m * sizeof(int)) == 0, "%s: groups differ", when);
    }
    free(Wx);
    free(gx);
    ck_assert_uint_eq(tsrelu_gd_group_switches(x), tsrelu_gd_group_switches(y));
    ck_assert_int_eq(tsrelu_gd_train_output(x), tsrelu_gd_train_output(y));
    double lx, gx_, ly, gy_;
    ck_assert_int_eq(tsrelu_gd_tolerances(x, &lx, &gx_), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_tolerances(y, &ly, &gy_), TSRELU_OK);
    ck_assert_msg(memcmp(&lx, &ly, sizeof lx) == 0 && memcmp(&gx_, &gy_, sizeof gx_) == 0,
                  "%s: tolerances differ", when);
    double ex = tsrelu_gd_eta(x), ey = tsrelu_gd_eta(y);
    ck_assert_msg(memcmp(&ex, &ey, sizeof ex) == 0, "%s: eta differs", when);
    /* the sampler: its sizes, the last batch loss, the training loss */
    size_t bx, by, nx, ny;
    ck_assert_int_eq(tsrelu_gd_sampling(x, &bx, &nx), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_sampling(y, &by, &ny), TSRELU_OK);
    ck_assert_uint_eq(bx, by);
    ck_assert_uint_eq(nx, ny);
    double lsx = 0.0, lsy = 0.0;
    tsrelu_status qx = tsrelu_gd_sample_loss(x, &lsx), qy = tsrelu_gd_sample_loss(y, &lsy);
    ck_assert_int_eq(qx, qy);
    ck_assert_int_eq(qx == TSRELU_OK || qx == TSRELU_EINVAL, 1);
    ck_assert_msg(memcmp(&lsx, &lsy, sizeof lsx) == 0, "%s: batch loss differs (%.17g, %.17g)", when, lsx, lsy);
    if (nx > 0) {
        qx = tsrelu_gd_training_loss(x, &lsx);
        qy = tsrelu_gd_training_loss(y, &lsy);
        ck_assert_int_eq(qx, qy);
        if (qx == TSRELU_OK)
            ck_assert_msg(memcmp(&lsx, &lsy, sizeof lsx) == 0, "%s: training loss differs", when);
    }
}

/* save OK => load OK; the loaded state saves to the same bytes and runs on
 * exactly as the original: same statuses, iterates, observations. */
static void check_round_trip(tsrelu_gd *gd, const callbacks *cb, run_ctx *c, uint64_t more)
{
    ck_assert_int_eq(tsrelu_gd_save(gd, p1), TSRELU_OK);
    tsrelu_gd *g2 = NULL;
    tsrelu_status ls = tsrelu_gd_load(p1, &g2);
    ck_assert_msg(ls == TSRELU_OK, "save returned OK but load: %s (%s)", tsrelu_status_name(ls),
                  tsrelu_last_error());
    assert_identical(gd, g2, "after load");
    ck_assert_int_eq(tsrelu_gd_save(g2, p2), TSRELU_OK);
    size_t n1, n2;
    unsigned char *f1 = slurp(p1, &n1), *f2 = slurp(p2, &n2);
    ck_assert_msg(n1 == n2 && memcmp(f1, f2, n1) == 0, "save(load(file)) differs from file");
    free(f1);
    free(f2);
    /* continue both: the original keeps its callbacks, the copy gets the
     * same ones again (the velocity comes back from the file) */
    run_ctx *c2 = calloc(1, sizeof *c2);
    ck_assert_ptr_nonnull(c2);
    install(g2, cb, c2);
    if (cb->stepper)
        ck_assert_msg(memcmp(c->velocity, c2->velocity, cb->md * sizeof(double)) == 0, "step state differs");
    c->nseen = 0;
    for (int round = 0; round < 2; round++) {
        tsrelu_status s1 = tsrelu_gd_run(gd, more), s2 = tsrelu_gd_run(g2, more);
        ck_assert_int_eq(s1, s2);
        assert_identical(gd, g2, "after running on");
    }
    ck_assert_uint_eq(c->nseen, c2->nseen);
    ck_assert_msg(memcmp(c->seen, c2->seen, c->nseen * sizeof(uint64_t)) == 0, "observations differ");
    tsrelu_gd_free(g2);
    free(c2);
}

START_TEST(save_ok_implies_load_identical)
{
    uint64_t s = 0x5eed0000u + (uint64_t)_i;
    run_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    callbacks cb;
    tsrelu_gd *gd = random_state(&s, &cb, c);
    check_round_trip(gd, &cb, c, rnd(&s) % 60);
    tsrelu_gd_free(gd);
    free(c);
}
END_TEST

/* The report: (k, d) = (3, 40), m = 40, sigma = 0.5, eta = 0.1, output
 * training; 7 steps leave a finite iterate whose gradient overflows. */
START_TEST(reported_state_with_overflowing_gradient)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd, *g2;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(3, 40, 1.0, 1, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(40, 40, 0.5, 2, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_train_output(gd, 1), TSRELU_OK);
    tsrelu_status st = tsrelu_gd_run(gd, 7);
    ck_assert_msg(st == TSRELU_OK || st == TSRELU_EDIVERGED, "%s", tsrelu_status_name(st));
    /* whatever happened, the state saves and loads */
    ck_assert_int_eq(tsrelu_gd_save(gd, p1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_load(p1, &g2), TSRELU_OK);
    assert_identical(gd, g2, "reported state");
    /* and it keeps failing the same way */
    ck_assert_int_eq(tsrelu_gd_run(gd, 50), tsrelu_gd_run(g2, 50));
    assert_identical(gd, g2, "reported state run on");
    tsrelu_gd_free(g2);
    tsrelu_gd_free(gd);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

START_TEST(diverged_and_infinite_tolerances)
{
    uint64_t s = 77;
    run_ctx *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    callbacks cb = {0, 0, 0, 0};
    tsrelu_teacher *t;
    tsrelu_student *st;
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 5, 1.0, 3, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(6, 5, 1.0, 4, &st), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, st, 1e300, &gd), TSRELU_OK);
    cb.md = 30;
    ck_assert_int_eq(tsrelu_gd_run(gd, 100), TSRELU_EDIVERGED);
    check_round_trip(gd, &cb, c, 3);
    ck_assert_int_eq(tsrelu_gd_set_eta(gd, 0.01), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, INFINITY, 0.0), TSRELU_OK);
    check_round_trip(gd, &cb, c, 3);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, 0.0, INFINITY), TSRELU_OK);
    check_round_trip(gd, &cb, c, 3);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(gd, INFINITY, INFINITY), TSRELU_OK);
    check_round_trip(gd, &cb, c, 3);
    (void)s;
    tsrelu_gd_free(gd);
    tsrelu_teacher_free(t);
    tsrelu_student_free(st);
    free(c);
}
END_TEST

/* Each sampler, several batch sizes and seeds, checkpointed at several
 * points of its stream: the loaded state continues the stream bit for bit
 * (check_round_trip runs both on and compares iterates, batch losses and
 * training losses). The runs differ from seed to seed, so the comparison
 * is not between two states that ignore the stream. */
static tsrelu_gd *small_state(void);

START_TEST(sampling_states_resume_bit_identical)
{
    static const size_t batches[] = {1, 5, 64};
    static const uint64_t at[] = {0, 1, 7, 33};
    double X[40 * 4];
    uint64_t s = 99;
    for (size_t i = 0; i < 40 * 4; i++)
        X[i] = ((double)(rnd(&s) % 2001) - 1000.0) / 500.0;
    for (int sampler = 0; sampler < 4; sampler++)
        for (size_t bi = 0; bi < 3; bi++)
            for (uint64_t seed = 1; seed <= 2; seed++) {
                double W[2][3 * 4];
                for (size_t ai = 0; ai < 4; ai++) {
                    tsrelu_gd *gd = small_state();
                    size_t B = batches[bi];
                    switch (sampler) {
                    case 0: /* online */
                        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, 0, seed, 0), TSRELU_OK);
                        break;
                    case 1: /* generated training set, minibatches */
                        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, B + 17, seed, 0), TSRELU_OK);
                        break;
                    case 2: /* generated, full batch */
                        ck_assert_int_eq(tsrelu_gd_set_sampling(gd, B, B, seed, 0), TSRELU_OK);
                        break;
                    default: /* the caller's 40 inputs (B = 64: all 40, full batch) */
                        B = B > 40 ? 40 : B;
                        ck_assert_int_eq(tsrelu_gd_set_training_set(gd, X, 40 * 4, B, seed, 0), TSRELU_OK);
                        break;
                    }
                    ck_assert_int_eq(tsrelu_gd_run(gd, at[ai]), TSRELU_OK);
                    run_ctx *c = calloc(1, sizeof *c);
                    ck_assert_ptr_nonnull(c);
                    callbacks cb = {0, 0, 0, 12};
                    check_round_trip(gd, &cb, c, 25);
                    /* both states now at at[ai] + 50: the same for every at[] */
                    ck_assert_uint_eq(tsrelu_gd_iteration(gd), at[ai] + 50);
                    free(c);
                    if (ai == 0)
                        ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W[seed - 1], 12),
                                         TSRELU_OK);
                    tsrelu_gd_free(gd);
                }
                /* every sampler here depends on the seed (a generated full
                 * batch through its set), except the caller's full batch */
                if (seed == 2 && !(sampler == 3 && batches[bi] > 40))
                    ck_assert_msg(memcmp(W[0], W[1], sizeof W[0]) != 0,
                                  "sampler %d, B = %zu: seeds 1 and 2 give the same run", sampler,
                                  batches[bi]);
            }
}
END_TEST

/* ------------------------------------------------------------ files */

static tsrelu_gd *small_state(void)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 4, 1.0, 5, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(3, 4, 1e-2, 6, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.05, &gd), TSRELU_OK);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    return gd;
}


/* A sparse file of `size` bytes whose header is valid (magic, version,
 * payload = size - 32) and whose payload starts with m, k, d. */
static void sparse_file(const char *p, uint64_t size, uint64_t m, uint64_t k, uint64_t d)
{
    unsigned char h[56] = "TSRELUCK";
    fixture_put64(h + 8, 1);
    fixture_put64(h + 16, size - 32);
    fixture_put64(h + 24, 0x1234);
    fixture_put64(h + 32, m);
    fixture_put64(h + 40, k);
    fixture_put64(h + 48, d);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, h, sizeof h), (ssize_t)sizeof h);
    ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
    close(fd);
}

/* Load in a child whose address space is capped at its current size plus
 * `extra` bytes; returns the status the child got (or 99 on a crash). */
static tsrelu_status load_capped(const char *p, size_t extra, char *msg, size_t msglen)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        long pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1)
            _exit(98);
        fclose(f);
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + extra;
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(97);
        tsrelu_gd *g = NULL;
        int st = tsrelu_gd_load(p, &g);
        char out[600];
        int n = snprintf(out, sizeof out, "%d %s", st, tsrelu_last_error());
        if (write(fds[1], out, (size_t)(n < 600 ? n : 599)) < 0)
            _exit(96);
        _exit(0);
    }
    close(fds[1]);
    char buf[600] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    int wst;
    ck_assert_int_eq(waitpid(pid, &wst, 0), pid);
    ck_assert_msg(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "child died (%d)", wst);
    int st = 99;
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(sscanf(buf, "%d", &st), 1);
    snprintf(msg, msglen, "%s", strchr(buf, ' ') ? strchr(buf, ' ') + 1 : "");
    return st;
}

START_TEST(sparse_giants_are_refused_without_allocating)
{
    char msg[600];
    /* 8 GiB whose sizes are zero (all holes): refused from the header */
    sparse_file(p1, (uint64_t)8 << 30, 0, 0, 0);
    ck_assert_int_eq(load_capped(p1, 16u << 20, msg, sizeof msg), TSRELU_EFORMAT);
    ck_assert_msg(strstr(msg, "impossible sizes") != NULL, "%s", msg);
    /* 8 GiB declaring sizes the file could never hold, and sizes whose
     * product overflows */
    sparse_file(p1, (uint64_t)8 << 30, (uint64_t)1 << 40, 3, 7);
    ck_assert_int_eq(load_capped(p1, 16u << 20, msg, sizeof msg), TSRELU_EFORMAT);
    sparse_file(p1, (uint64_t)8 << 30, (uint64_t)1 << 33, (uint64_t)1 << 33, (uint64_t)1 << 33);
    ck_assert_int_eq(load_capped(p1, 16u << 20, msg, sizeof msg), TSRELU_EFORMAT);
    /* 256 MiB whose sizes agree with its length (m = k = 1, d = 2^24 - 2,
     * step state filling the rest): the checksum refuses it after a read,
     * with no allocation of the file's size */
    uint64_t d = ((uint64_t)1 << 24) - 2;
    uint64_t fixed = 8 * (19 + 2 + d + 1 + d + 1 + 1);
    uint64_t size = 32 + fixed;
    sparse_file(p1, size, 1, 1, d);
    ck_assert_int_eq(load_capped(p1, 16u << 20, msg, sizeof msg), TSRELU_EFORMAT);
    ck_assert_msg(strstr(msg, "checksum") != NULL, "%s", msg);
}
END_TEST

START_TEST(non_regular_files_are_refused_at_once)
{
    tsrelu_gd *g = (tsrelu_gd *)1;
    /* a FIFO with no writer: a plain open would block forever */
    ck_assert_int_eq(mkfifo(p1, 0600), 0);
    ck_assert_int_eq(tsrelu_gd_load(p1, &g), TSRELU_EIO);
    ck_assert_ptr_null(g);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), p1));
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "FIFO"));
    /* a directory: named as such, with the system's text */
    ck_assert_int_eq(tsrelu_gd_load(dir, &g), TSRELU_EIO);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "is a directory"));
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), strerror(EISDIR)));
    /* /dev/null is a device */
    ck_assert_int_eq(tsrelu_gd_load("/dev/null", &g), TSRELU_EIO);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "device"));
    /* saving over a directory fails cleanly and leaves no temporary file */
    tsrelu_gd *gd = small_state();
    char sub[160];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    ck_assert_int_eq(tsrelu_gd_save(gd, sub), TSRELU_EIO);
    ck_assert_int_eq(entries(), 2); /* the FIFO and sub */
    ck_assert_int_eq(tsrelu_gd_save(gd, ""), TSRELU_EINVAL);
    tsrelu_gd_free(gd);
}
END_TEST

START_TEST(names_up_to_name_max)
{
    tsrelu_gd *gd = small_state(), *g2;
    char name[NAME_MAX + 1], p[sizeof dir + NAME_MAX + 2];
    for (size_t len = 240; len <= NAME_MAX; len += 5) {
        memset(name, 'n', len);
        name[len] = '\0';
        snprintf(p, sizeof p, "%s/%s", dir, name);
        ck_assert_msg(tsrelu_gd_save(gd, p) == TSRELU_OK, "name of %zu bytes: %s", len, tsrelu_last_error());
        ck_assert_int_eq(tsrelu_gd_load(p, &g2), TSRELU_OK);
        tsrelu_gd_free(g2);
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(entries(), 0); /* no temporary file left */
    }
    /* a relative name with no directory part */
    char cwd[PATH_MAX];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(dir), 0);
    ck_assert_int_eq(tsrelu_gd_save(gd, "rel.ckpt"), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_load("rel.ckpt", &g2), TSRELU_OK);
    tsrelu_gd_free(g2);
    ck_assert_int_eq(chdir(cwd), 0);
    ck_assert_int_eq(entries(), 1);
    tsrelu_gd_free(gd);
}
END_TEST

static mode_t mode_of(const char *p)
{
    struct stat sb;
    ck_assert_int_eq(stat(p, &sb), 0);
    return sb.st_mode & 07777;
}

START_TEST(modes_follow_umask_and_are_kept)
{
    tsrelu_gd *gd = small_state();
    mode_t old = umask(022);
    ck_assert_int_eq(tsrelu_gd_save(gd, p1), TSRELU_OK);
    ck_assert_int_eq(mode_of(p1), 0644);
    umask(077);
    ck_assert_int_eq(tsrelu_gd_save(gd, p2), TSRELU_OK);
    ck_assert_int_eq(mode_of(p2), 0600);
    /* a replaced file keeps its mode, whatever the umask */
    ck_assert_int_eq(chmod(p1, 0640), 0);
    ck_assert_int_eq(tsrelu_gd_save(gd, p1), TSRELU_OK);
    ck_assert_int_eq(mode_of(p1), 0640);
    umask(0);
    ck_assert_int_eq(chmod(p2, 0604), 0);
    ck_assert_int_eq(tsrelu_gd_save(gd, p2), TSRELU_OK);
    ck_assert_int_eq(mode_of(p2), 0604);
    umask(old);
    tsrelu_gd_free(gd);
}
END_TEST

Suite *roundtrip_suite(void)
{
    Suite *s = suite_create("roundtrip");
    TCase *prop = tcase_create("property");
    tcase_add_checked_fixture(prop, setup, teardown);
    tcase_set_timeout(prop, 60);
    tcase_add_loop_test(prop, save_ok_implies_load_identical, 0, 300);
    tcase_add_test(prop, reported_state_with_overflowing_gradient);
    tcase_add_test(prop, diverged_and_infinite_tolerances);
    tcase_add_test(prop, sampling_states_resume_bit_identical);
    suite_add_tcase(s, prop);
    TCase *files = tcase_create("files");
    tcase_add_checked_fixture(files, setup, teardown);
    tcase_set_timeout(files, 30);
    tcase_add_test(files, sparse_giants_are_refused_without_allocating);
    tcase_add_test(files, non_regular_files_are_refused_at_once);
    tcase_add_test(files, names_up_to_name_max);
    tcase_add_test(files, modes_follow_umask_and_are_kept);
    suite_add_tcase(s, files);
    return s;
}

/* Check suite for src/checkpoint.c: save/load round trips that continue bit
 * for bit, step state, observer continuity, and every kind of bad file. */
#define _POSIX_C_SOURCE 200809L
#include "suites.h"
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tsrelu.h"

#define M 5
#define K 2
#define D 6

static char dir[64];
static char path[128];

static void setup(void)
{
    fixture_mkdtemp(dir, sizeof dir, "tsrelu_ckpt");
    snprintf(path, sizeof path, "%s/state.ckpt", dir);
}

static void teardown(void)
{
    fixture_rmtree(dir);
}

static tsrelu_gd *fresh(void)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    const double b[K] = {1.5, 0.75};
    double V[K * D];
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 11, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(t, V, K * D), TSRELU_OK);
    tsrelu_teacher_free(t);
    ck_assert_int_eq(tsrelu_teacher_create(K, D, V, b, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-2, 12, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s, 0.05, &gd), TSRELU_OK);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
    return gd;
}

static void weights(const tsrelu_gd *gd, double *W, double *a)
{
    ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W, M * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(tsrelu_gd_student(gd), a, M), TSRELU_OK);
}

static void assert_same_state(const tsrelu_gd *x, const tsrelu_gd *y)
{
    double W1[M * D], W2[M * D], a1[M], a2[M];
    weights(x, W1, a1);
    weights(y, W2, a2);
    ck_assert_msg(memcmp(W1, W2, sizeof W1) == 0, "W differs");
    ck_assert_msg(memcmp(a1, a2, sizeof a1) == 0, "a differs");
    ck_assert_uint_eq(tsrelu_gd_iteration(x), tsrelu_gd_iteration(y));
    int64_t p1, p2, q1, q2;
    ck_assert_int_eq(tsrelu_gd_phase_times(x, &p1, &p2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_phase_times(y, &q1, &q2), TSRELU_OK);
    ck_assert_int_eq(p1, q1);
    ck_assert_int_eq(p2, q2);
    ck_assert_int_eq(tsrelu_gd_phase(x), tsrelu_gd_phase(y));
    ck_assert_uint_eq(tsrelu_gd_group_switches(x), tsrelu_gd_group_switches(y));
    int g1[M], g2[M];
    ck_assert_int_eq(tsrelu_gd_groups(x, 1, g1, M), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_groups(y, 1, g2, M), TSRELU_OK);
    ck_assert(memcmp(g1, g2, sizeof g1) == 0);
    double Lx, Ly;
    ck_assert_int_eq(tsrelu_gd_loss(x, &Lx), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_loss(y, &Ly), TSRELU_OK);
    ck_assert_msg(memcmp(&Lx, &Ly, sizeof Lx) == 0, "loss %a vs %a", Lx, Ly);
}

START_TEST(round_trip_continues_bit_for_bit)
{
    tsrelu_gd *a = fresh(), *b;
    ck_assert_int_eq(tsrelu_gd_set_train_output(a, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(a, 1e-30, 0.0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_phase_thresholds(a, 0.2, 0.1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(a, 700), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_save(a, path), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_load(path, &b), TSRELU_OK);
    assert_same_state(a, b);
    ck_assert(tsrelu_gd_eta(a) == tsrelu_gd_eta(b));
    ck_assert_int_eq(tsrelu_gd_run(a, 1300), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(b, 1300), TSRELU_OK);
    assert_same_state(a, b);
    double V1[K * D], V2[K * D];
    ck_assert_int_eq(tsrelu_teacher_weights(tsrelu_gd_teacher(a), V1, K * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_teacher_weights(tsrelu_gd_teacher(b), V2, K * D), TSRELU_OK);
    ck_assert(memcmp(V1, V2, sizeof V1) == 0);
    tsrelu_gd_free(a);
    tsrelu_gd_free(b);
}
END_TEST

typedef struct {
    double v[M * D];
} velocity;

static int heavy_ball(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga,
                      void *ud)
{
    velocity *vel = ud;
    (void)a;
    (void)ga;
    for (int i = 0; i < M * D; i++) {
        vel->v[i] = 0.8 * vel->v[i] - tsrelu_gd_eta(gd) * gW[i];
        W[i] += vel->v[i];
    }
    return 0;
}

typedef struct {
    uint64_t its[512];
    int n;
} record;

static int observe(const tsrelu_gd *gd, void *ud)
{
    record *r = ud;
    if (r->n < 512)
        r->its[r->n++] = tsrelu_gd_iteration(gd);
    return 0;
}

START_TEST(step_state_and_observer_resume)
{
    /* uninterrupted: 3000 steps of momentum with a log observer */
    velocity v1 = {{0}}, v2 = {{0}}, v3;
    record r1 = {{0}, 0}, r2 = {{0}, 0};
    tsrelu_gd *a = fresh(), *b;
    ck_assert_int_eq(tsrelu_gd_set_step(a, heavy_ball, &v1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step_state(a, v1.v, M * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(a, observe, &r1, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(a, 3000), TSRELU_OK);

    /* interrupted: 1234 steps, save, forget everything, load, go on */
    tsrelu_gd *c = fresh();
    ck_assert_int_eq(tsrelu_gd_set_step(c, heavy_ball, &v2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step_state(c, v2.v, M * D), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(c, observe, &r2, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(c, 1234), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_save(c, path), TSRELU_OK);
    tsrelu_gd_free(c);
    memset(&v3, 0xff, sizeof v3); /* garbage: must be overwritten by the load */
    ck_assert_int_eq(tsrelu_gd_load(path, &b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(b, heavy_ball, &v3), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step_state(b, v3.v, M * D + 1), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_gd_set_step_state(b, v3.v, M * D), TSRELU_OK);
    ck_assert(memcmp(v3.v, v2.v, sizeof v3.v) == 0);
    ck_assert_int_eq(tsrelu_gd_set_observer(b, observe, &r2, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(b, 3000 - 1234), TSRELU_OK);
    assert_same_state(a, b);
    ck_assert(memcmp(v1.v, v3.v, sizeof v1.v) == 0);
    /* the observer saw the same iterates, plus the final iterate 1234 of the
     * first part (where that run ended), and nothing twice */
    int j = 0;
    for (int i = 0; i < r2.n; i++) {
        if (r2.its[i] == 1234 && (j >= r1.n || r1.its[j] != 1234))
            continue;
        ck_assert_msg(j < r1.n && r1.its[j] == r2.its[i], "observation %d: %llu", i,
                      (unsigned long long)r2.its[i]);
        j++;
    }
    ck_assert_int_eq(j, r1.n);
    for (int i = 1; i < r2.n; i++)
        ck_assert_msg(r2.its[i] > r2.its[i - 1], "iterate %llu observed twice", (unsigned long long)r2.its[i]);
    tsrelu_gd_free(a);
    tsrelu_gd_free(b);
}
END_TEST

START_TEST(save_replaces_atomically)
{
    tsrelu_gd *a = fresh(), *b;
    ck_assert_int_eq(tsrelu_gd_save(a, path), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(a, 10), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_save(a, path), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_load(path, &b), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_gd_iteration(b), 10);
    tsrelu_gd_free(b);
    /* no temporary file (.tsrelu-*.tmp) is left behind */
    ck_assert_int_eq(fixture_entries(dir), 1);
    /* a failing save (no such directory) reports EIO and names the path */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/missing/x.ckpt", dir);
    ck_assert_int_eq(tsrelu_gd_save(a, bad), TSRELU_EIO);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "missing/x.ckpt"));
    tsrelu_gd_free(a);
}
END_TEST

static unsigned char *slurp(size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char *p = malloc(1 << 16);
    *n = fread(p, 1, 1 << 16, f);
    fclose(f);
    return p;
}

static void spit(const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void expect_load(tsrelu_status want, const char *words)
{
    tsrelu_gd *g = (tsrelu_gd *)1;
    ck_assert_int_eq(tsrelu_gd_load(path, &g), want);
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(tsrelu_last_error(), words) != NULL, "message \"%s\" lacks \"%s\"",
                  tsrelu_last_error(), words);
}

START_TEST(bad_files)
{
    tsrelu_gd *a = fresh();
    ck_assert_int_eq(tsrelu_gd_run(a, 5), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_save(a, path), TSRELU_OK);
    tsrelu_gd_free(a);
    size_t n;
    unsigned char *orig = slurp(&n), *p = malloc(n);

    for (size_t cut = 0; cut < n; cut += (cut < 40 ? 1 : 97)) { /* every truncation */
        spit(orig, cut);
        tsrelu_gd *g;
        tsrelu_status st = tsrelu_gd_load(path, &g);
        ck_assert_msg(st == TSRELU_EFORMAT, "truncated to %zu bytes: status %d", cut, st);
    }
    spit(orig, n - 1);
    expect_load(TSRELU_EFORMAT, "truncated");

    memcpy(p, orig, n);
    p[n / 2] ^= 0x10; /* one flipped bit */
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "checksum");

    memcpy(p, orig, n);
    p[8] = 3; /* version 3: unknown (1.2 reads 1 and 2) */
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "version 3");

    memcpy(p, orig, n);
    p[8] = 2; /* an exact state relabelled as a sampling one: no sampler follows */
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "inconsistent lengths");

    memcpy(p, orig, n);
    p[0] = 'X';
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "not a libtsrelu checkpoint");

    memcpy(p, orig, n);
    fixture_put64(p + 32, (uint64_t)1 << 60); /* m: absurd, with a valid checksum */
    fixture_reseal(p, n);
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "impossible sizes");

    memcpy(p, orig, n);
    fixture_put64(p + 32 + 24, 0xfff8000000000000ULL); /* eta = NaN */
    fixture_reseal(p, n);
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "invalid settings");

    memcpy(p, orig, n);
    fixture_put64(p + n - 8 - 8 * M - 8 * M * D, 0x7ff0000000000000ULL); /* W[0] = Inf */
    fixture_reseal(p, n);
    spit(p, n);
    expect_load(TSRELU_EFORMAT, "invalid weights");

    unlink(path);
    expect_load(TSRELU_EIO, "cannot open");
    free(orig);
    free(p);
}
END_TEST

START_TEST(limits)
{
    tsrelu_gd *a = fresh(), *g;
    double buf[3];
    ck_assert_int_eq(tsrelu_gd_save(NULL, path), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_save(a, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_load(NULL, &g), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_load(path, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_step_state(NULL, buf, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_step_state(a, NULL, 3), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_gd_set_step_state(a, NULL, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step_state(a, buf, 3), TSRELU_OK);
    tsrelu_gd_free(a);
}
END_TEST

Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, round_trip_continues_bit_for_bit);
    tcase_add_test(core, step_state_and_observer_resume);
    tcase_add_test(core, save_replaces_atomically);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("limits");
    tcase_add_checked_fixture(lim, setup, teardown);
    tcase_add_test(lim, bad_files);
    tcase_add_test(lim, limits);
    suite_add_tcase(s, lim);
    return s;
}

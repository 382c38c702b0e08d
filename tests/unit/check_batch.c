/* Check suite for src/batch.c: runs on several threads are bit-identical to
 * the same runs alone, summaries hold what they document, bad input gets
 * the exact status. */
#include "suites.h"
#include "fixtures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tsrelu.h"

#define M 20
#define K 4
#define D 16
#define RUNS 12
#define STEPS 3000

/* TSRELU_TEST_QUICK (valgrind): 3 runs instead of RUNS */
static unsigned nruns(void)
{
    return fixture_quick() ? 3 : RUNS;
}

static void make_run(unsigned seed, tsrelu_teacher **t, tsrelu_student **s)
{
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(K, D, 1.0, 100 + seed % 3, t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(M, D, 1e-3, seed, s), TSRELU_OK);
}

static tsrelu_batch *make_batch(unsigned threads)
{
    tsrelu_batch *b;
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    for (unsigned r = 0; r < nruns(); r++) {
        tsrelu_teacher *t;
        tsrelu_student *s;
        size_t idx;
        make_run(r, &t, &s);
        ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.1, STEPS + 100 * r, &idx), TSRELU_OK);
        ck_assert_uint_eq(idx, r);
        tsrelu_teacher_free(t);
        tsrelu_student_free(s);
    }
    ck_assert_int_eq(tsrelu_batch_set_threads(b, threads), TSRELU_OK);
    return b;
}

START_TEST(threads_match_single_runs)
{
    tsrelu_batch *b2 = make_batch(2), *b1 = make_batch(1);
    ck_assert_uint_eq(tsrelu_batch_size(b2), nruns());
    ck_assert_int_eq(tsrelu_batch_run(b2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_run(b1), TSRELU_OK);
    for (unsigned r = 0; r < nruns(); r++) {
        /* the same run alone, in one tsrelu_gd_run call */
        tsrelu_teacher *t;
        tsrelu_student *s;
        tsrelu_gd *gd;
        make_run(r, &t, &s);
        ck_assert_int_eq(tsrelu_gd_create(t, s, 0.1, &gd), TSRELU_OK);
        ck_assert_int_eq(tsrelu_gd_run(gd, STEPS + 100 * r), TSRELU_OK);
        double W0[M * D], W1[M * D], W2[M * D];
        ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W0, M * D), TSRELU_OK);
        ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(tsrelu_batch_state(b1, r)), W1, M * D), TSRELU_OK);
        ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(tsrelu_batch_state(b2, r)), W2, M * D), TSRELU_OK);
        ck_assert_msg(memcmp(W0, W1, sizeof W0) == 0, "run %u: 1-thread batch differs from a lone run", r);
        ck_assert_msg(memcmp(W0, W2, sizeof W0) == 0, "run %u: 2-thread batch differs from a lone run", r);
        double s1[TSRELU_SUMMARY_LEN], s2[TSRELU_SUMMARY_LEN], L;
        ck_assert_int_eq(tsrelu_batch_summary(b1, r, s1, TSRELU_SUMMARY_LEN), TSRELU_OK);
        ck_assert_int_eq(tsrelu_batch_summary(b2, r, s2, TSRELU_SUMMARY_LEN), TSRELU_OK);
        ck_assert_msg(memcmp(s1, s2, TSRELU_SUMMARY_SECONDS * sizeof(double)) == 0,
                      "run %u: summaries differ between thread counts", r);
        ck_assert_int_eq((int)s1[TSRELU_SUMMARY_STATUS], TSRELU_OK);
        ck_assert(s1[TSRELU_SUMMARY_ITERATION] == STEPS + 100 * r);
        ck_assert_int_eq(tsrelu_loss_accurate(tsrelu_gd_student(gd), t, &L), TSRELU_OK);
        ck_assert(s1[TSRELU_SUMMARY_LOSS] == L);
        int64_t t1, t2;
        ck_assert_int_eq(tsrelu_gd_phase_times(gd, &t1, &t2), TSRELU_OK);
        ck_assert(s1[TSRELU_SUMMARY_T1] == (double)t1 && s1[TSRELU_SUMMARY_T2] == (double)t2);
        ck_assert(s1[TSRELU_SUMMARY_SWITCHES] == (double)tsrelu_gd_group_switches(gd));
        /* still in the transient at 3000 steps: only a steep decay */
        ck_assert_msg(isfinite(s1[TSRELU_SUMMARY_SLOPE]) && s1[TSRELU_SUMMARY_SLOPE] < -2.0,
                      "run %u: slope %g", r, s1[TSRELU_SUMMARY_SLOPE]);
        ck_assert(s1[TSRELU_SUMMARY_RATIO_MIN] > 0.0 && s1[TSRELU_SUMMARY_RATIO_MIN] <= 1.0);
        ck_assert(s1[TSRELU_SUMMARY_RATIO_MAX] >= 1.0);
        ck_assert(s2[TSRELU_SUMMARY_SECONDS] >= 0.0);
        tsrelu_gd_free(gd);
        tsrelu_teacher_free(t);
        tsrelu_student_free(s);
    }
    tsrelu_batch_free(b1);
    tsrelu_batch_free(b2);
}
END_TEST

START_TEST(late_slope_is_minus_three)
{
    /* 200000 steps: too slow under valgrind (TSRELU_TEST_QUICK) */
    if (fixture_quick())
        return;
    /* one teacher, three students: the paper's (and Xu & Du's) T^-3 */
    tsrelu_batch *b;
    tsrelu_teacher *t;
    tsrelu_student *s;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(1, 4, 1.0, 5, &t), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(3, 4, 1e-3, 6, &s), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.2, 200000, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_OK);
    double sm[TSRELU_SUMMARY_LEN];
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, sm, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_msg(fabs(sm[TSRELU_SUMMARY_SLOPE] + 3.0) < 0.15, "slope %g", sm[TSRELU_SUMMARY_SLOPE]);
    ck_assert(sm[TSRELU_SUMMARY_PHASE] == 3.0);
    tsrelu_batch_free(b);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

START_TEST(run_status_reported)
{
    /* run 1 diverges; runs 0 and 2 are fine and still complete */
    tsrelu_batch *b;
    tsrelu_teacher *t;
    tsrelu_student *s;
    make_run(0, &t, &s);
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.1, 100, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 1e300, 100, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.1, 100, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_EDIVERGED);
    double sm[TSRELU_SUMMARY_LEN];
    ck_assert_int_eq(tsrelu_batch_summary(b, 1, sm, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_int_eq((int)sm[TSRELU_SUMMARY_STATUS], TSRELU_EDIVERGED);
    ck_assert_int_eq(tsrelu_batch_summary(b, 2, sm, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_int_eq((int)sm[TSRELU_SUMMARY_STATUS], TSRELU_OK);
    ck_assert(sm[TSRELU_SUMMARY_ITERATION] == 100);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_EINVAL); /* once only */
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.1, 1, NULL), TSRELU_EINVAL);
    tsrelu_batch_free(b);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

START_TEST(limits)
{
    tsrelu_batch *b;
    tsrelu_teacher *t;
    tsrelu_student *s;
    double sm[TSRELU_SUMMARY_LEN];
    make_run(0, &t, &s);
    ck_assert_uint_eq(tsrelu_summary_len(), TSRELU_SUMMARY_LEN);
    ck_assert_int_eq(tsrelu_batch_create(NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_add(NULL, t, s, 0.1, 1, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_add(b, NULL, s, 0.1, 1, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, -1.0, 1, NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, NAN, 1, NULL), TSRELU_ENONFINITE);
    ck_assert_uint_eq(tsrelu_batch_size(b), 0);
    ck_assert_int_eq(tsrelu_batch_add(b, t, s, 0.1, 10, NULL), TSRELU_OK);
    ck_assert_ptr_null(tsrelu_batch_state(b, 1));
    ck_assert_ptr_null(tsrelu_batch_state(NULL, 0));
    ck_assert_ptr_nonnull(tsrelu_batch_state(b, 0));
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, sm, TSRELU_SUMMARY_LEN), TSRELU_EINVAL); /* not run */
    ck_assert_int_eq(tsrelu_batch_set_threads(NULL, 1), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_set_threads(b, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_run(NULL), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_run(b), TSRELU_OK);
    ck_assert_int_eq(tsrelu_batch_summary(b, 1, sm, TSRELU_SUMMARY_LEN), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, sm, TSRELU_SUMMARY_LEN + 1), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, sm, 0), TSRELU_ELENGTH);
    double first[2] = {-7, -7}, all[TSRELU_SUMMARY_LEN];
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, first, 1), TSRELU_OK); /* older callers: a prefix */
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, all, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert(first[0] == all[0] && first[1] == -7);
    ck_assert_int_eq(tsrelu_batch_summary(b, 0, NULL, TSRELU_SUMMARY_LEN), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_batch_summary(NULL, 0, sm, TSRELU_SUMMARY_LEN), TSRELU_EINVAL);
    ck_assert_uint_eq(tsrelu_batch_size(NULL), 0);
    tsrelu_batch_free(b);
    tsrelu_batch_free(NULL);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

Suite *batch_suite(void)
{
    Suite *s = suite_create("batch");
    TCase *core = tcase_create("core");
    tcase_add_test(core, threads_match_single_runs);
    tcase_add_test(core, late_slope_is_minus_three);
    tcase_add_test(core, run_status_reported);
    tcase_set_timeout(core, 120);
    suite_add_tcase(s, core);
    TCase *lim = tcase_create("limits");
    tcase_add_test(lim, limits);
    suite_add_tcase(s, lim);
    return s;
}

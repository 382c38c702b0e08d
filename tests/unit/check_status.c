/* Check suite for src/status.c: status strings and names, the runtime
 * version, and the thread-local detailed error message. */
#include "suites.h"

#include "tsrelu.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* Every status code of the header, with its macro name spelled by the
 * preprocessor (so the expected names are not copied from the library). */
#define STATUS_ENTRY(code) { code, #code }
static const struct {
    tsrelu_status code;
    const char *name;
} all_status[] = {
    STATUS_ENTRY(TSRELU_OK),
    STATUS_ENTRY(TSRELU_STOPPED),
    STATUS_ENTRY(TSRELU_CONVERGED),
    STATUS_ENTRY(TSRELU_INTERRUPTED),
    STATUS_ENTRY(TSRELU_EINVAL),
    STATUS_ENTRY(TSRELU_ENOMEM),
    STATUS_ENTRY(TSRELU_EDIM),
    STATUS_ENTRY(TSRELU_ENONFINITE),
    STATUS_ENTRY(TSRELU_EDIVERGED),
    STATUS_ENTRY(TSRELU_ELENGTH),
    STATUS_ENTRY(TSRELU_EIO),
    STATUS_ENTRY(TSRELU_EFORMAT),
    STATUS_ENTRY(TSRELU_EBUSY),
};
#define N_STATUS (sizeof all_status / sizeof all_status[0])

/* Codes that no version of the header may use for these meanings. */
static const tsrelu_status unknown_codes[] = {12345, -12345, INT_MAX, INT_MIN};
#define N_UNKNOWN (sizeof unknown_codes / sizeof unknown_codes[0])

/* ------------------------------------------------------------------ core */

START_TEST(test_status_values)
{
    /* The contract of the header: 0 = OK, positive = non-error outcome,
     * negative = error, numbers distinct. */
    ck_assert_int_eq(TSRELU_OK, 0);
    ck_assert_int_gt(TSRELU_STOPPED, 0);
    ck_assert_int_gt(TSRELU_CONVERGED, 0);
    ck_assert_int_gt(TSRELU_INTERRUPTED, 0);
    for (size_t i = 4; i < N_STATUS; i++)
        ck_assert_msg(all_status[i].code < 0, "%s = %d should be negative",
                      all_status[i].name, all_status[i].code);
    for (size_t i = 0; i < N_STATUS; i++)
        for (size_t j = i + 1; j < N_STATUS; j++)
            ck_assert_msg(all_status[i].code != all_status[j].code,
                          "%s and %s share the number %d", all_status[i].name,
                          all_status[j].name, all_status[i].code);
}
END_TEST

START_TEST(test_status_name_every_code)
{
    for (size_t i = 0; i < N_STATUS; i++) {
        const char *got = tsrelu_status_name(all_status[i].code);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(strcmp(got, all_status[i].name) == 0,
                      "tsrelu_status_name(%d) = \"%s\", want \"%s\"",
                      all_status[i].code, got, all_status[i].name);
    }
}
END_TEST

START_TEST(test_status_name_unknown)
{
    for (size_t i = 0; i < N_UNKNOWN; i++) {
        const char *got = tsrelu_status_name(unknown_codes[i]);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(strcmp(got, "TSRELU_UNKNOWN") == 0,
                      "tsrelu_status_name(%d) = \"%s\", want \"TSRELU_UNKNOWN\"",
                      unknown_codes[i], got);
    }
}
END_TEST

START_TEST(test_status_string_every_code)
{
    for (size_t i = 0; i < N_STATUS; i++) {
        const char *si = tsrelu_status_string(all_status[i].code);
        ck_assert_ptr_nonnull(si);
        ck_assert_msg(strlen(si) > 0, "empty text for %s", all_status[i].name);
        /* static text: the same storage on every call */
        ck_assert_msg(tsrelu_status_string(all_status[i].code) == si,
                      "text of %s is not static", all_status[i].name);
        /* one description per code */
        for (size_t j = 0; j < i; j++) {
            const char *sj = tsrelu_status_string(all_status[j].code);
            ck_assert_msg(strcmp(si, sj) != 0, "%s and %s share the text \"%s\"",
                          all_status[i].name, all_status[j].name, si);
        }
    }
}
END_TEST

START_TEST(test_status_string_unknown)
{
    const char *u0 = tsrelu_status_string(unknown_codes[0]);
    ck_assert_ptr_nonnull(u0);
    ck_assert_msg(strlen(u0) > 0, "empty text for an unknown code");
    for (size_t i = 0; i < N_UNKNOWN; i++) {
        const char *ui = tsrelu_status_string(unknown_codes[i]);
        ck_assert_ptr_nonnull(ui);
        ck_assert_msg(strcmp(ui, u0) == 0, "unknown codes %d and %d have different texts",
                      unknown_codes[0], unknown_codes[i]);
        for (size_t j = 0; j < N_STATUS; j++)
            ck_assert_msg(strcmp(ui, tsrelu_status_string(all_status[j].code)) != 0,
                          "unknown code %d described like %s (\"%s\")", unknown_codes[i],
                          all_status[j].name, ui);
    }
}
END_TEST

START_TEST(test_version)
{
    unsigned want = TSRELU_VERSION_MAJOR * 10000u + TSRELU_VERSION_MINOR * 100u +
                    TSRELU_VERSION_PATCH;
    ck_assert_uint_eq(TSRELU_VERSION_NUMBER, want);
    ck_assert_uint_eq(tsrelu_version_number(), want);

    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", TSRELU_VERSION_MAJOR, TSRELU_VERSION_MINOR,
             TSRELU_VERSION_PATCH);
    ck_assert_str_eq(TSRELU_VERSION_STRING, buf);
    ck_assert_ptr_nonnull(tsrelu_version_string());
    ck_assert_str_eq(tsrelu_version_string(), buf);
}
END_TEST

/* ---------------------------------------------- detailed error messages */

/* A student create call with one NaN at flat index `bad` of W (m*d = 15). */
static tsrelu_status fail_with_nan_at(size_t bad)
{
    double W[15];
    for (size_t i = 0; i < 15; i++)
        W[i] = 0.25 * (double)i - 1.0;
    W[bad] = NAN;
    tsrelu_student *s = NULL;
    tsrelu_status st = tsrelu_student_create(3, 5, W, NULL, &s);
    tsrelu_student_free(s);
    return st;
}

START_TEST(test_last_error_names_index)
{
    ck_assert_int_eq(fail_with_nan_at(7), TSRELU_ENONFINITE);
    const char *msg = tsrelu_last_error();
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "7") != NULL, "message \"%s\" does not name index 7", msg);
    ck_assert_msg(strstr(msg, "W") != NULL, "message \"%s\" does not name W", msg);

    ck_assert_int_eq(fail_with_nan_at(13), TSRELU_ENONFINITE);
    msg = tsrelu_last_error();
    ck_assert_msg(strstr(msg, "13") != NULL, "message \"%s\" does not name index 13", msg);
}
END_TEST

START_TEST(test_last_error_zero_teacher_row)
{
    /* k = 13, d = 2: row j is (j + 1, -j), except row 11 which is zero */
    double V[26];
    for (size_t j = 0; j < 13; j++) {
        V[2 * j] = (double)j + 1.0;
        V[2 * j + 1] = -(double)j;
    }
    V[22] = V[23] = 0.0;
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_teacher_create(13, 2, V, NULL, &t), TSRELU_EINVAL);
    tsrelu_teacher_free(t);
    const char *msg = tsrelu_last_error();
    ck_assert_msg(strstr(msg, "11") != NULL, "message \"%s\" does not name row 11", msg);
}
END_TEST

START_TEST(test_last_error_lengths_and_dims)
{
    double W[12] = {0};
    W[0] = 1.0;
    tsrelu_student *s = NULL;
    ck_assert_int_eq(tsrelu_student_create(3, 4, W, NULL, &s), TSRELU_OK);
    double buf[16];
    ck_assert_int_eq(tsrelu_student_weights(s, buf, 11), TSRELU_ELENGTH);
    const char *msg = tsrelu_last_error();
    ck_assert_msg(strstr(msg, "11") && strstr(msg, "12"),
                  "message \"%s\" should give the length 11 and the size 12", msg);

    double V[7] = {1, 2, 3, 4, 5, 6, 7};
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_teacher_create(1, 7, V, NULL, &t), TSRELU_OK);
    double L;
    ck_assert_int_eq(tsrelu_loss(s, t, &L), TSRELU_EDIM);
    msg = tsrelu_last_error();
    ck_assert_msg(strstr(msg, "4") && strstr(msg, "7"),
                  "message \"%s\" should give both dimensions 4 and 7", msg);
    tsrelu_teacher_free(t);
    tsrelu_student_free(s);
}
END_TEST

START_TEST(test_last_error_kept_by_success)
{
    ck_assert_int_eq(fail_with_nan_at(7), TSRELU_ENONFINITE);
    char saved[512];
    snprintf(saved, sizeof saved, "%s", tsrelu_last_error());
    ck_assert_msg(strlen(saved) > 0, "no message after a failure");

    double W[2] = {1.0, 2.0};
    tsrelu_student *s = NULL;
    ck_assert_int_eq(tsrelu_student_create(1, 2, W, NULL, &s), TSRELU_OK);
    tsrelu_student_free(s);
    ck_assert_str_eq(tsrelu_last_error(), saved);
}
END_TEST

/* A worker thread: its message starts empty, then names its own failure. */
typedef struct {
    char first[512];
    char after[512];
    tsrelu_status st;
} thread_result;

static void *worker(void *arg)
{
    thread_result *r = arg;
    snprintf(r->first, sizeof r->first, "%s", tsrelu_last_error());
    r->st = fail_with_nan_at(11);
    snprintf(r->after, sizeof r->after, "%s", tsrelu_last_error());
    return NULL;
}

START_TEST(test_last_error_thread_local)
{
    ck_assert_int_eq(fail_with_nan_at(7), TSRELU_ENONFINITE);
    char saved[512];
    snprintf(saved, sizeof saved, "%s", tsrelu_last_error());
    ck_assert_msg(strstr(saved, "7") != NULL, "main message \"%s\"", saved);

    thread_result r;
    memset(&r, 0, sizeof r);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, worker, &r), 0);
    ck_assert_int_eq(pthread_join(th, NULL), 0);

    ck_assert_int_eq(r.st, TSRELU_ENONFINITE);
    ck_assert_msg(r.first[0] == '\0', "a new thread starts with message \"%s\", want \"\"",
                  r.first);
    ck_assert_msg(strstr(r.after, "11") != NULL, "thread message \"%s\" does not name 11",
                  r.after);
    /* the worker's failure did not touch the main thread's message */
    ck_assert_str_eq(tsrelu_last_error(), saved);
}
END_TEST

/* ---------------------------------------------------------------- limits */

START_TEST(test_status_limits_unknown_near_known)
{
    /* Codes next to the known range are unknown, not aliases. */
    int lo = 0, hi = 0;
    for (size_t i = 0; i < N_STATUS; i++) {
        if (all_status[i].code < lo)
            lo = all_status[i].code;
        if (all_status[i].code > hi)
            hi = all_status[i].code;
    }
    ck_assert_str_eq(tsrelu_status_name(hi + 1000), "TSRELU_UNKNOWN");
    ck_assert_str_eq(tsrelu_status_name(lo - 1000), "TSRELU_UNKNOWN");
    ck_assert_str_eq(tsrelu_status_string(hi + 1000), tsrelu_status_string(unknown_codes[0]));
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");

    TCase *tc_core = tcase_create("core");
    tcase_add_test(tc_core, test_status_values);
    tcase_add_test(tc_core, test_status_name_every_code);
    tcase_add_test(tc_core, test_status_string_every_code);
    tcase_add_test(tc_core, test_version);
    tcase_add_test(tc_core, test_last_error_names_index);
    tcase_add_test(tc_core, test_last_error_zero_teacher_row);
    tcase_add_test(tc_core, test_last_error_lengths_and_dims);
    tcase_add_test(tc_core, test_last_error_kept_by_success);
    tcase_add_test(tc_core, test_last_error_thread_local);
    suite_add_tcase(s, tc_core);

    TCase *tc_limits = tcase_create("limits");
    tcase_add_test(tc_limits, test_status_name_unknown);
    tcase_add_test(tc_limits, test_status_string_unknown);
    tcase_add_test(tc_limits, test_status_limits_unknown_near_known);
    suite_add_tcase(s, tc_limits);

    return s;
}

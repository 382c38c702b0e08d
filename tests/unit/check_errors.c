/* Check suite for the error contract: every row of docs/errors.md, i.e.
 * every class of bad input of every public function (except the checkpoint
 * functions, documented with their own suite), gets the exact status and a
 * tsrelu_last_error() message that starts with the documented prefix and
 * contains the documented key words (argument name, index, value).
 *
 * Each ROW() names its docs/errors.md row id. To prove that the message was
 * written by the call under test (successful calls never clear it), a
 * different failing call first writes a sentinel message; the row fails if
 * the sentinel survives.
 *
 * Sizes that overflow size_t are passed to the real functions: they must
 * fail before reading the (small) buffers given with them. The rows whose
 * size checks can only be reached with a handle of more than 2^31 neurons
 * (the BLAS int range, workspace overflow) use a forged handle header from
 * src/internal.h whose weight pointers are never read before the check. */
#include "suites.h"

#include "model.h" /* forged handles only: struct tsrelu_student/teacher */
#include "tsrelu.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *errors_suite(void);

/* ------------------------------------------------------------ machinery */

static char sentinel_text[2][512];

/* Two different failing calls, each leaving its own message. */
static void sentinel(int which)
{
    if (which == 0) {
        double x;
        if (tsrelu_rate_fit(NULL, NULL, 0, 0.0, 0.0, &x, NULL) != TSRELU_EINVAL)
            ck_abort_msg("sentinel 0 did not fail");
    } else {
        if (tsrelu_gd_groups(NULL, 0, NULL, 0) != TSRELU_EINVAL)
            ck_abort_msg("sentinel 1 did not fail");
    }
    snprintf(sentinel_text[which], sizeof sentinel_text[which], "%s", tsrelu_last_error());
}

/* kw[0] is the required prefix of the message, kw[1..] substrings. */
static void row_check(const char *id, const char *call, tsrelu_status got, tsrelu_status want,
                      int rerun, const char *const *kw, int line)
{
    const char *msg = tsrelu_last_error();
    ck_assert_msg(got == want, "row %s (line %d): %s returned %s (%d), documented %s (%d); "
                  "last_error \"%s\"", id, line, call, tsrelu_status_name(got), got,
                  tsrelu_status_name(want), want, msg);
    if (want >= 0)
        return; /* not an error: no message promised */
    ck_assert_msg(msg[0] != '\0', "row %s (line %d): %s left tsrelu_last_error() empty", id, line,
                  call);
    ck_assert_msg(!(rerun && strcmp(msg, sentinel_text[1]) == 0),
                  "row %s (line %d): %s failed without writing tsrelu_last_error()", id, line, call);
    if (kw[0] && kw[0][0])
        ck_assert_msg(strncmp(msg, kw[0], strlen(kw[0])) == 0,
                      "row %s (line %d): message \"%s\" does not start with \"%s\"", id, line, msg,
                      kw[0]);
    for (size_t i = 1; kw[i]; i++)
        ck_assert_msg(strstr(msg, kw[i]) != NULL,
                      "row %s (line %d): message \"%s\" lacks \"%s\"", id, line, msg, kw[i]);
}

/* ROW(id, status, call, prefix, key words...): `call` is evaluated again
 * only when its first evaluation left the first sentinel in place. */
#define ROW(id, want, call, ...)                                                   \
    do {                                                                           \
        static const char *const kw_[] = {__VA_ARGS__, NULL};                      \
        int rerun_ = 0;                                                            \
        sentinel(0);                                                               \
        tsrelu_status st_ = (call);                                                \
        if (strcmp(tsrelu_last_error(), sentinel_text[0]) == 0) {                  \
            rerun_ = 1;                                                            \
            sentinel(1);                                                           \
            st_ = (call);                                                          \
        }                                                                          \
        row_check(id, #call, st_, want, rerun_, kw_, __LINE__);                    \
    } while (0)

/* Sizes: products that overflow size_t, products whose byte count
 * overflows, and sizes whose allocation must fail (2^48 bytes and more are
 * beyond the 47-bit user address space of x86-64 and AArch64 Linux, so
 * they fail even with memory overcommit). */
#define HALF_WORD ((size_t)1 << 32)             /* HALF_WORD^2 overflows */
#define BYTES_OVERFLOW ((size_t)1 << 61)        /* 2^61 doubles = 2^64 bytes */
#define NO_MEMORY ((size_t)1 << 45)             /* 2^45 doubles = 256 TiB */
#define BLAS_OVER ((size_t)INT32_MAX + 1)       /* one past the BLAS int range */
#define WS_OVER ((size_t)INT32_MAX - 1)         /* m (m + 1) doubles overflow */

/* The fixture: teacher k = 2, d = 3; students m = 3 with d = 3 and d = 4;
 * a GD state on the first pair. */
enum { K = 2, D = 3, M = 3, MD = M * D, KD = K * D };
static const double V0[KD] = {1.0, 0.0, 0.0, 0.0, 1.0, 0.0};
static const double W0[MD] = {0.9, 0.1, 0.0, 0.2, 0.8, 0.1, 0.1, -0.3, 0.5};
static const double W4[M * 4] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
static tsrelu_teacher *T;
static tsrelu_student *S, *S4;
static tsrelu_gd *G;
static double buf[64]; /* a scratch buffer larger than any fixture size */
static int ibuf[64];

static void setup(void)
{
    ck_assert_int_eq(tsrelu_teacher_create(K, D, V0, NULL, &T), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(M, D, W0, NULL, &S), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create(M, 4, W4, NULL, &S4), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(T, S, 0.1, &G), TSRELU_OK);
}

static void teardown(void)
{
    tsrelu_gd_free(G);
    tsrelu_student_free(S4);
    tsrelu_student_free(S);
    tsrelu_teacher_free(T);
    G = NULL;
    S = S4 = NULL;
    T = NULL;
}

/* A forged student header of m neurons in dimension d; W and a point to a
 * small buffer that the library must not read before rejecting the size. */
static struct tsrelu_student forged_student(size_t m, size_t d)
{
    struct tsrelu_student s;
    memset(&s, 0, sizeof s);
    s.m = m;
    s.d = d;
    s.W = buf;
    s.a = buf;
    s.owns = 1;
    return s;
}

/* A one-neuron teacher in dimension d (d <= 8), v = e_0. */
static tsrelu_teacher *teacher_dim(size_t d)
{
    double v[8] = {1.0};
    tsrelu_teacher *t = NULL;
    ck_assert_uint_le(d, 8);
    ck_assert_int_eq(tsrelu_teacher_create(1, d, v, NULL, &t), TSRELU_OK);
    return t;
}

/* A student m = 1 in dimension 3 with w = (x, x, 0). */
static tsrelu_student *student_of(double x)
{
    double w[3] = {x, x, 0.0};
    tsrelu_student *s = NULL;
    ck_assert_int_eq(tsrelu_student_create(1, 3, w, NULL, &s), TSRELU_OK);
    return s;
}

/* A student m = 1 in dimension 3 with w = (x, 0, 0) and a = (a). */
static tsrelu_student *student_scaled(double x, double a)
{
    double w[3] = {x, 0.0, 0.0};
    tsrelu_student *s = NULL;
    ck_assert_int_eq(tsrelu_student_create(1, 3, w, &a, &s), TSRELU_OK);
    return s;
}

static void expect_student(const tsrelu_student *s, const double *W, const double *a)
{
    double w[MD], av[M];
    ck_assert_int_eq(tsrelu_student_weights(s, w, MD), TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_output_weights(s, av, M), TSRELU_OK);
    ck_assert_msg(memcmp(w, W, sizeof w) == 0, "student weights changed by a failing setter");
    ck_assert_msg(memcmp(av, a, sizeof av) == 0, "output weights changed by a failing setter");
}

/* ------------------------------------------------------------- teachers */

START_TEST(test_teacher_create)
{
    tsrelu_teacher *t = (tsrelu_teacher *)&t;
    double V[KD], b[K] = {1.0, 1.0};
    memcpy(V, V0, sizeof V);
    ROW("TC-1", TSRELU_EINVAL, tsrelu_teacher_create(K, D, V, NULL, NULL),
        "tsrelu_teacher_create: out is NULL");
    ROW("TC-2", TSRELU_EINVAL, tsrelu_teacher_create(K, D, NULL, NULL, &t),
        "tsrelu_teacher_create: V is NULL");
    ck_assert_ptr_null(t);
    t = (tsrelu_teacher *)&t;
    ROW("TC-3", TSRELU_EINVAL, tsrelu_teacher_create(0, D, V, NULL, &t),
        "tsrelu_teacher_create: ", "k=0", "d=3", ">= 1");
    ck_assert_ptr_null(t);
    ROW("TC-3", TSRELU_EINVAL, tsrelu_teacher_create(K, 0, V, NULL, &t),
        "tsrelu_teacher_create: ", "k=2", "d=0", ">= 1");
    ROW("TC-4", TSRELU_ENOMEM, tsrelu_teacher_create(HALF_WORD, HALF_WORD, V, NULL, &t),
        "teacher k*d: ", "4294967296 x 4294967296", "overflows size_t");
    ROW("TC-4", TSRELU_ENOMEM, tsrelu_teacher_create(SIZE_MAX, 2, V, NULL, &t),
        "teacher k*d: ", "overflows size_t");
    ROW("TC-5", TSRELU_ENOMEM, tsrelu_teacher_create(BYTES_OVERFLOW, 1, V, NULL, &t),
        "teacher: k*d = ", "2305843009213693952", "overflows size_t");
    t = (tsrelu_teacher *)&t;
    ROW("TC-6", TSRELU_ENOMEM, tsrelu_teacher_create(NO_MEMORY, 1, V, NULL, &t),
        "teacher: out of memory", "k=35184372088832", "d=1");
    ck_assert_ptr_null(t);
    V[4] = NAN;
    ROW("TC-7", TSRELU_ENONFINITE, tsrelu_teacher_create(K, D, V, NULL, &t),
        "teacher V[4] is ", "nan", "not finite");
    V[4] = 1.0;
    V[5] = -INFINITY;
    ROW("TC-7", TSRELU_ENONFINITE, tsrelu_teacher_create(K, D, V, NULL, &t),
        "teacher V[5] is ", "-inf", "not finite");
    memcpy(V, V0, sizeof V);
    b[1] = INFINITY;
    ROW("TC-8", TSRELU_ENONFINITE, tsrelu_teacher_create(K, D, V, b, &t),
        "teacher b[1] is ", "inf", "not finite");
    b[1] = 1.0;
    V[3] = V[4] = V[5] = 0.0;
    ROW("TC-9", TSRELU_EINVAL, tsrelu_teacher_create(K, D, V, b, &t),
        "teacher neuron 1 is zero");
    V[3] = NAN; /* a non-finite entry is reported before a zero row */
    V[0] = V[1] = V[2] = 0.0;
    ROW("TC-9", TSRELU_ENONFINITE, tsrelu_teacher_create(K, D, V, b, &t), "teacher V[3]");
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_teacher_create_orthogonal)
{
    tsrelu_teacher *t = (tsrelu_teacher *)&t;
    ROW("TO-1", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(2, 3, 1.0, 1, NULL),
        "tsrelu_teacher_create_orthogonal: out is NULL");
    ROW("TO-2", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(0, 3, 1.0, 1, &t),
        "tsrelu_teacher_create_orthogonal: ", "k=0", "d=3", ">= 1");
    ck_assert_ptr_null(t);
    ROW("TO-2", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(1, 0, 1.0, 1, &t),
        "tsrelu_teacher_create_orthogonal: ", "k=1", "d=0");
    ROW("TO-3", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(4, 3, 1.0, 1, &t),
        "tsrelu_teacher_create_orthogonal: ", "k=4", "do not fit", "d=3");
    ROW("TO-3", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(SIZE_MAX, 3, 1.0, 1, &t),
        "tsrelu_teacher_create_orthogonal: ", "do not fit", "d=3");
    ROW("TO-4", TSRELU_ENONFINITE, tsrelu_teacher_create_orthogonal(2, 3, NAN, 1, &t),
        "tsrelu_teacher_create_orthogonal: norm is ", "nan");
    ROW("TO-4", TSRELU_ENONFINITE, tsrelu_teacher_create_orthogonal(2, 3, INFINITY, 1, &t),
        "tsrelu_teacher_create_orthogonal: norm is ", "inf");
    ROW("TO-4", TSRELU_ENONFINITE, tsrelu_teacher_create_orthogonal(2, 3, -INFINITY, 1, &t),
        "tsrelu_teacher_create_orthogonal: norm is ", "-inf");
    ROW("TO-5", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(2, 3, 0.0, 1, &t),
        "tsrelu_teacher_create_orthogonal: norm=0 ", "must be > 0");
    ROW("TO-5", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(2, 3, -0.0, 1, &t),
        "tsrelu_teacher_create_orthogonal: norm=-0 ", "must be > 0");
    ROW("TO-5", TSRELU_EINVAL, tsrelu_teacher_create_orthogonal(2, 3, -2.5, 1, &t),
        "tsrelu_teacher_create_orthogonal: norm=-2.5 ", "must be > 0");
    ROW("TO-6", TSRELU_ENOMEM, tsrelu_teacher_create_orthogonal(HALF_WORD, HALF_WORD, 1.0, 1, &t),
        "teacher k*d: ", "overflows size_t");
    ROW("TO-7", TSRELU_ENOMEM, tsrelu_teacher_create_orthogonal(1, NO_MEMORY, 1.0, 1, &t),
        "teacher: out of memory");
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(test_teacher_getters)
{
    ROW("TW-1", TSRELU_EINVAL, tsrelu_teacher_weights(NULL, buf, KD),
        "tsrelu_teacher_weights: teacher is NULL");
    ROW("TW-2", TSRELU_EINVAL, tsrelu_teacher_weights(T, NULL, KD),
        "tsrelu_teacher_weights: V is NULL");
    ROW("TW-3", TSRELU_ELENGTH, tsrelu_teacher_weights(T, buf, KD - 1),
        "tsrelu_teacher_weights: V: length 5 given, 6 required");
    ROW("TW-3", TSRELU_ELENGTH, tsrelu_teacher_weights(T, buf, KD + 1),
        "tsrelu_teacher_weights: V: length 7 given, 6 required");
    ROW("TW-3", TSRELU_ELENGTH, tsrelu_teacher_weights(T, buf, SIZE_MAX),
        "tsrelu_teacher_weights: V: length 18446744073709551615 given, 6 required");
    ROW("TW-3", TSRELU_ELENGTH, tsrelu_teacher_weights(T, buf, 0),
        "tsrelu_teacher_weights: V: length 0 given");
    ROW("TB-1", TSRELU_EINVAL, tsrelu_teacher_output_weights(NULL, buf, K),
        "tsrelu_teacher_output_weights: teacher is NULL");
    ROW("TB-2", TSRELU_EINVAL, tsrelu_teacher_output_weights(T, NULL, K),
        "tsrelu_teacher_output_weights: b is NULL");
    ROW("TB-3", TSRELU_ELENGTH, tsrelu_teacher_output_weights(T, buf, K + 1),
        "tsrelu_teacher_output_weights: b: length 3 given, 2 required");
    /* NULL handles in the size getters: 0, no status */
    ck_assert_uint_eq(tsrelu_teacher_width(NULL), 0);
    ck_assert_uint_eq(tsrelu_teacher_dim(NULL), 0);
    tsrelu_teacher_free(NULL);
}
END_TEST

/* ------------------------------------------------------------- students */

START_TEST(test_student_create)
{
    tsrelu_student *s = (tsrelu_student *)&s;
    double W[MD], a[M] = {1.0, 1.0, 1.0};
    memcpy(W, W0, sizeof W);
    ROW("SC-1", TSRELU_EINVAL, tsrelu_student_create(M, D, W, NULL, NULL),
        "tsrelu_student_create: out is NULL");
    ROW("SC-2", TSRELU_EINVAL, tsrelu_student_create(M, D, NULL, a, &s),
        "tsrelu_student_create: W is NULL");
    ck_assert_ptr_null(s);
    ROW("SC-3", TSRELU_EINVAL, tsrelu_student_create(0, D, W, a, &s),
        "tsrelu_student_create: ", "m=0", "d=3", ">= 1");
    ROW("SC-3", TSRELU_EINVAL, tsrelu_student_create(M, 0, W, a, &s),
        "tsrelu_student_create: ", "m=3", "d=0");
    ROW("SC-4", TSRELU_ENOMEM, tsrelu_student_create(HALF_WORD, HALF_WORD, W, a, &s),
        "student m*d: ", "4294967296 x 4294967296", "overflows size_t");
    ROW("SC-5", TSRELU_ENOMEM, tsrelu_student_create(BYTES_OVERFLOW, 1, W, a, &s),
        "student: m*d = ", "2305843009213693952", "overflows size_t");
    s = (tsrelu_student *)&s;
    ROW("SC-6", TSRELU_ENOMEM, tsrelu_student_create(NO_MEMORY, 1, W, a, &s),
        "student: out of memory", "m=35184372088832", "d=1");
    ck_assert_ptr_null(s);
    W[7] = NAN;
    ROW("SC-7", TSRELU_ENONFINITE, tsrelu_student_create(M, D, W, a, &s),
        "student W[7] is ", "nan", "not finite");
    W[7] = INFINITY;
    ROW("SC-7", TSRELU_ENONFINITE, tsrelu_student_create(M, D, W, a, &s),
        "student W[7] is ", "inf");
    W[7] = 0.0;
    a[2] = -INFINITY;
    ROW("SC-8", TSRELU_ENONFINITE, tsrelu_student_create(M, D, W, a, &s),
        "student a[2] is ", "-inf", "not finite");
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_student_create_gaussian)
{
    tsrelu_student *s = (tsrelu_student *)&s;
    ROW("SG-1", TSRELU_EINVAL, tsrelu_student_create_gaussian(2, 3, 1.0, 1, NULL),
        "tsrelu_student_create_gaussian: out is NULL");
    ROW("SG-2", TSRELU_EINVAL, tsrelu_student_create_gaussian(0, 3, 1.0, 1, &s),
        "tsrelu_student_create_gaussian: ", "m=0", "d=3", ">= 1");
    ck_assert_ptr_null(s);
    ROW("SG-2", TSRELU_EINVAL, tsrelu_student_create_gaussian(2, 0, NAN, 1, &s),
        "tsrelu_student_create_gaussian: ", "m=2", "d=0");
    ROW("SG-3", TSRELU_ENONFINITE, tsrelu_student_create_gaussian(2, 3, NAN, 1, &s),
        "tsrelu_student_create_gaussian: sigma is ", "nan");
    ROW("SG-3", TSRELU_ENONFINITE, tsrelu_student_create_gaussian(2, 3, INFINITY, 1, &s),
        "tsrelu_student_create_gaussian: sigma is ", "inf");
    ROW("SG-4", TSRELU_EINVAL, tsrelu_student_create_gaussian(2, 3, -1.0, 1, &s),
        "tsrelu_student_create_gaussian: sigma=-1 ", "must be >= 0");
    ROW("SG-4", TSRELU_EINVAL, tsrelu_student_create_gaussian(2, 3, -1e-300, 1, &s),
        "tsrelu_student_create_gaussian: sigma=-1e-300 ", "must be >= 0");
    ROW("SG-5", TSRELU_ENOMEM, tsrelu_student_create_gaussian(SIZE_MAX, SIZE_MAX, 1.0, 1, &s),
        "student m*d: ", "overflows size_t");
    ROW("SG-5", TSRELU_ENOMEM, tsrelu_student_create_gaussian(BYTES_OVERFLOW, 1, 1.0, 1, &s),
        "student: m*d = ", "overflows size_t");
    ROW("SG-6", TSRELU_ENOMEM, tsrelu_student_create_gaussian(NO_MEMORY, 1, 1.0, 1, &s),
        "student: out of memory");
    ROW("SG-7", TSRELU_ENONFINITE, tsrelu_student_create_gaussian(2, 3, DBL_MAX, 1, &s),
        "tsrelu_student_create_gaussian: sigma=1.79769e+308 makes the weights overflow");
    ROW("SG-8", TSRELU_ENONFINITE, tsrelu_student_create_gaussian(4, 400, 2e307, 3, &s),
        "tsrelu_student_create_gaussian: sigma=2e+307: the norm of row 0 overflows");
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_student_copy_and_getters)
{
    tsrelu_student *s = (tsrelu_student *)&s;
    ROW("SK-1", TSRELU_EINVAL, tsrelu_student_copy(S, NULL), "tsrelu_student_copy: out is NULL");
    ROW("SK-2", TSRELU_EINVAL, tsrelu_student_copy(NULL, &s),
        "tsrelu_student_copy: student is NULL");
    ck_assert_ptr_null(s);

    ROW("SW-1", TSRELU_EINVAL, tsrelu_student_weights(NULL, buf, MD),
        "tsrelu_student_weights: student is NULL");
    ROW("SW-2", TSRELU_EINVAL, tsrelu_student_weights(S, NULL, MD),
        "tsrelu_student_weights: W is NULL");
    ROW("SW-3", TSRELU_ELENGTH, tsrelu_student_weights(S, buf, MD - 1),
        "tsrelu_student_weights: W: length 8 given, 9 required");
    ROW("SW-3", TSRELU_ELENGTH, tsrelu_student_weights(S, buf, SIZE_MAX),
        "tsrelu_student_weights: W: length 18446744073709551615 given, 9 required");
    ROW("SA-1", TSRELU_EINVAL, tsrelu_student_output_weights(NULL, buf, M),
        "tsrelu_student_output_weights: student is NULL");
    ROW("SA-2", TSRELU_EINVAL, tsrelu_student_output_weights(S, NULL, M),
        "tsrelu_student_output_weights: a is NULL");
    ROW("SA-3", TSRELU_ELENGTH, tsrelu_student_output_weights(S, buf, MD),
        "tsrelu_student_output_weights: a: length 9 given, 3 required");
    ck_assert_uint_eq(tsrelu_student_width(NULL), 0);
    ck_assert_uint_eq(tsrelu_student_dim(NULL), 0);
    tsrelu_student_free(NULL);
    tsrelu_student_free((tsrelu_student *)tsrelu_gd_student(G)); /* a view: ignored */
    ck_assert_uint_eq(tsrelu_student_width(tsrelu_gd_student(G)), M);
}
END_TEST

START_TEST(test_student_setters)
{
    static const double a1[M] = {1.0, 1.0, 1.0};
    double W[MD], a[M] = {0.5, 0.5, 0.5};
    tsrelu_student *view = (tsrelu_student *)tsrelu_gd_student(G);
    memcpy(W, W0, sizeof W);
    W[0] = 7.0;
    ROW("SS-1", TSRELU_EINVAL, tsrelu_student_set_weights(NULL, W, MD),
        "tsrelu_student_set_weights: student is NULL");
    ROW("SS-2", TSRELU_EINVAL, tsrelu_student_set_weights(S, NULL, MD),
        "tsrelu_student_set_weights: W is NULL");
    ROW("SS-3", TSRELU_EINVAL, tsrelu_student_set_weights(view, W, MD),
        "tsrelu_student_set_weights: the student is a read-only view of a GD state");
    ROW("SS-4", TSRELU_ELENGTH, tsrelu_student_set_weights(S, W, MD + 1),
        "tsrelu_student_set_weights: W: length 10 given, 9 required");
    W[4] = NAN;
    ROW("SS-5", TSRELU_ENONFINITE, tsrelu_student_set_weights(S, W, MD),
        "tsrelu_student_set_weights: W[4] is ", "nan", "not finite");
    W[4] = -INFINITY;
    ROW("SS-5", TSRELU_ENONFINITE, tsrelu_student_set_weights(S, W, MD),
        "tsrelu_student_set_weights: W[4] is ", "-inf");
    expect_student(S, W0, a1); /* W[0] = 7 was not committed */

    ROW("SO-1", TSRELU_EINVAL, tsrelu_student_set_output_weights(NULL, a, M),
        "tsrelu_student_set_output_weights: student is NULL");
    ROW("SO-2", TSRELU_EINVAL, tsrelu_student_set_output_weights(S, NULL, M),
        "tsrelu_student_set_output_weights: a is NULL");
    ROW("SO-3", TSRELU_EINVAL, tsrelu_student_set_output_weights(view, a, M),
        "tsrelu_student_set_output_weights: the student is a read-only view of a GD state");
    ROW("SO-4", TSRELU_ELENGTH, tsrelu_student_set_output_weights(S, a, M - 1),
        "tsrelu_student_set_output_weights: a: length 2 given, 3 required");
    a[2] = NAN;
    ROW("SO-5", TSRELU_ENONFINITE, tsrelu_student_set_output_weights(S, a, M),
        "tsrelu_student_set_output_weights: a[2] is ", "nan", "not finite");
    expect_student(S, W0, a1);
}
END_TEST

/* --------------------------------------------------- loss and gradient */

/* A forged teacher header of k neurons in dimension d; its arrays point to
 * a small buffer that the library must not read before rejecting the size. */
static struct tsrelu_teacher forged_teacher(size_t k, size_t d)
{
    struct tsrelu_teacher t;
    memset(&t, 0, sizeof t);
    t.k = k;
    t.d = d;
    t.V = t.unit = t.b = t.norm = buf;
    t.owns = 1;
    return t;
}

START_TEST(test_student_create_weak_recovery)
{
    tsrelu_student *s = (tsrelu_student *)&s;
    const size_t c3[3] = {1, 1, 1}, over[2] = {2, 2}, under[2] = {1, 1}, huge[2] = {SIZE_MAX, 1};
    tsrelu_teacher *t1 = teacher_dim(1);
    struct tsrelu_teacher blas = forged_teacher(1, BLAS_OVER), bytes = forged_teacher(1, INT32_MAX),
                          nomem = forged_teacher(1, (size_t)1 << 24);
    ROW("WR-1", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 0.3, 1.0, 1, NULL, 0, NULL),
        "tsrelu_student_create_weak_recovery: out is NULL");
    ROW("WR-2", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(NULL, 3, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: teacher is NULL");
    ck_assert_ptr_null(s);
    ROW("WR-3", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 0, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: m=0 must be >= 1");
    ROW("WR-4", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(t1, 3, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: the teacher's d=1 ", "d >= 2 required");
    ROW("WR-5", TSRELU_ENOMEM, tsrelu_student_create_weak_recovery(T, BLAS_OVER, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: sizes m=2147483648", "BLAS int range");
    ROW("WR-5", TSRELU_ENOMEM, tsrelu_student_create_weak_recovery(&blas, 3, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: sizes ", "d=2147483648", "BLAS int range");
    ROW("WR-6", TSRELU_ELENGTH, tsrelu_student_create_weak_recovery(T, 3, c3, 3, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: counts: length 3 given, 2 ");
    ROW("WR-7", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, over, 2, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: counts[0..1] add up to more than m=3");
    ROW("WR-7", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, huge, 2, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: counts[0..0] add up to more than m=3");
    ROW("WR-8", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, under, 2, 0.3, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: counts add up to 2, m=3 required");
    ROW("WR-9", TSRELU_ENONFINITE, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, NAN, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: zeta is ", "nan");
    ROW("WR-9", TSRELU_ENONFINITE, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, -INFINITY, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: zeta is ", "-inf");
    ROW("WR-10", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 0.0, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: zeta=0 must lie in (0, pi/2)");
    ROW("WR-10", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, -0.5, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: zeta=-0.5 must lie in (0, pi/2)");
    ROW("WR-10", TSRELU_EINVAL,
        tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 1.5707963267948968, 1.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: zeta=1.5708 must lie in (0, pi/2)");
    ROW("WR-11", TSRELU_ENONFINITE, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 0.3, INFINITY, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: sigma is ", "inf");
    ROW("WR-12", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 0.3, -0.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: sigma=-0 must be > 0");
    ROW("WR-12", TSRELU_EINVAL, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 0.3, -2.0, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: sigma=-2 must be > 0");
    ROW("WR-13", TSRELU_ELENGTH, tsrelu_student_create_weak_recovery(T, 3, NULL, 0, 0.3, 1.0, 1, ibuf, 4, &s),
        "tsrelu_student_create_weak_recovery: tau: length 4 given, 3 (m) required");
    ROW("WR-14", TSRELU_ENOMEM,
        tsrelu_student_create_weak_recovery(&bytes, INT32_MAX - 1, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "student: m*d = ", "overflows size_t");
    ROW("WR-15", TSRELU_ENOMEM,
        /* 2^48 doubles of W cannot be had; a (2^24 doubles) stays small, so
         * that ASan does not spend seconds poisoning a huge block */
        tsrelu_student_create_weak_recovery(&nomem, (size_t)1 << 24, NULL, 0, 0.3, 1.0, 1, NULL, 0, &s),
        "student: out of memory");
    tsrelu_teacher *t2;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(2, 2, 1.0, 1, &t2), TSRELU_OK);
    ROW("WR-16", TSRELU_ENONFINITE, tsrelu_student_create_weak_recovery(t2, 4, NULL, 0, 0.5, DBL_MAX, 1, NULL, 0, &s),
        "tsrelu_student_create_weak_recovery: sigma=1.79769e+308: the norm of row 0 overflows");
    ck_assert_ptr_null(s);
    /* ignored arguments (not through ROW, which would call it twice) */
    ck_assert_int_eq(tsrelu_student_create_weak_recovery(T, 3, NULL, 99, 0.3, 1.0, 1, NULL, 99, &s),
                     TSRELU_OK);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t2);
    tsrelu_teacher_free(t1);
}
END_TEST

START_TEST(test_teacher_create_gram)
{
    tsrelu_teacher *t = (tsrelu_teacher *)&t;
    static const double I2[4] = {1.0, 0.0, 0.0, 1.0}, one[1] = {1.0}, b2[2] = {1.0, 2.0};
    static const double nanG[4] = {1.0, 0.0, 0.0, NAN}, asym[4] = {1.0, 0.5, 0.25, 1.0};
    static const double infb[2] = {1.0, -INFINITY}, indef[4] = {1.0, 2.0, 2.0, 1.0};
    static const double sing[4] = {1.0, 1.0, 1.0, 1.0}, negd[4] = {-1.0, 0.0, 0.0, 1.0};
    ROW("TG-1", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 3, I2, 4, NULL, 0, 1, NULL),
        "tsrelu_teacher_create_gram: out is NULL");
    ROW("TG-2", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 3, NULL, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G is NULL");
    ck_assert_ptr_null(t);
    ROW("TG-3", TSRELU_EINVAL, tsrelu_teacher_create_gram(0, 3, I2, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: ", "k=0", "d=3", ">= 1");
    ROW("TG-3", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 0, I2, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: ", "k=2", "d=0", ">= 1");
    ROW("TG-4", TSRELU_EINVAL, tsrelu_teacher_create_gram(3, 2, I2, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: k=3 linearly independent neurons do not fit in d=2");
    ROW("TG-5", TSRELU_ENOMEM, tsrelu_teacher_create_gram(HALF_WORD, HALF_WORD, I2, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: k*k: size ", "overflows size_t");
    ROW("TG-6", TSRELU_ELENGTH, tsrelu_teacher_create_gram(2, 3, I2, 3, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G: length 3 given, 4 (k*k) required");
    ROW("TG-7", TSRELU_ELENGTH, tsrelu_teacher_create_gram(2, 3, I2, 4, b2, 3, 1, &t),
        "tsrelu_teacher_create_gram: b: length 3 given, 2 (k) required");
    ROW("TG-8", TSRELU_ENONFINITE, tsrelu_teacher_create_gram(2, 3, nanG, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G[3] is ", "nan", "(not finite)");
    ROW("TG-9", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 3, asym, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G is not symmetric: G[1]=0.5 but G[2]=0.25", "(0,1)", "(G + G^T)/2");
    ROW("TG-10", TSRELU_ENONFINITE, tsrelu_teacher_create_gram(2, 3, I2, 4, infb, 2, 1, &t),
        "tsrelu_teacher_create_gram: b[1] is ", "-inf", "(not finite)");
    ROW("TG-11", TSRELU_ENOMEM, tsrelu_teacher_create_gram(2, SIZE_MAX, I2, 4, NULL, 0, 1, &t),
        "teacher k*d: ", "overflows size_t");
    ROW("TG-12", TSRELU_ENOMEM, tsrelu_teacher_create_gram(1, BYTES_OVERFLOW, one, 1, NULL, 0, 1, &t),
        "teacher: k*d = ", "overflows size_t");
    ROW("TG-13", TSRELU_ENOMEM, tsrelu_teacher_create_gram(1, NO_MEMORY, one, 1, NULL, 0, 1, &t),
        "teacher: out of memory");
    ROW("TG-14", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 3, indef, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G is not positive definite (Cholesky pivot 1 is -3)");
    ROW("TG-14", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 3, sing, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G is not positive definite (Cholesky pivot 1 is 0)");
    ROW("TG-14", TSRELU_EINVAL, tsrelu_teacher_create_gram(2, 3, negd, 4, NULL, 0, 1, &t),
        "tsrelu_teacher_create_gram: G is not positive definite (Cholesky pivot 0 is -1)");
    ck_assert_ptr_null(t);
    /* ignored b_len (not through ROW, which would call it twice) */
    ck_assert_int_eq(tsrelu_teacher_create_gram(2, 3, I2, 4, NULL, 99, 1, &t), TSRELU_OK);
    tsrelu_teacher_free(t);
}
END_TEST

START_TEST(test_loss)
{
    double L;
    ROW("L-1", TSRELU_EINVAL, tsrelu_loss(NULL, T, &L), "tsrelu_loss: student is NULL");
    ROW("L-2", TSRELU_EINVAL, tsrelu_loss(S, NULL, &L), "tsrelu_loss: teacher is NULL");
    ROW("L-3", TSRELU_EDIM, tsrelu_loss(S4, T, &L), "tsrelu_loss: student d=4 but teacher d=3");
    ROW("L-4", TSRELU_EINVAL, tsrelu_loss(S, T, NULL), "tsrelu_loss: loss is NULL");
    struct tsrelu_student big = forged_student(BLAS_OVER, D);
    ROW("L-5", TSRELU_ENOMEM, tsrelu_loss(&big, T, &L),
        "tsrelu_loss: sizes m=2147483648, k=2, d=3 exceed the BLAS int range");
    tsrelu_teacher *t1 = teacher_dim(1);
    struct tsrelu_student ws = forged_student(WS_OVER, 1);
    ROW("L-6", TSRELU_ENOMEM, tsrelu_loss(&ws, t1, &L), "workspace: size overflows size_t");
    tsrelu_teacher_free(t1);
    tsrelu_student *huge = student_of(1e200);
    tsrelu_teacher *t3 = teacher_dim(3);
    ROW("L-7", TSRELU_ENONFINITE, tsrelu_loss(huge, t3, &L), "loss is not finite", "inf");
    tsrelu_student_free(huge);
    tsrelu_teacher_free(t3);
}
END_TEST

START_TEST(test_loss_accurate)
{
    double L;
    ROW("LA-1", TSRELU_EINVAL, tsrelu_loss_accurate(NULL, T, &L),
        "tsrelu_loss_accurate: student is NULL");
    ROW("LA-2", TSRELU_EINVAL, tsrelu_loss_accurate(S, NULL, &L),
        "tsrelu_loss_accurate: teacher is NULL");
    ROW("LA-3", TSRELU_EINVAL, tsrelu_loss_accurate(S, T, NULL),
        "tsrelu_loss_accurate: loss is NULL");
    ROW("LA-4", TSRELU_EDIM, tsrelu_loss_accurate(S4, T, &L),
        "tsrelu_loss_accurate: student d=4 but teacher d=3");
    tsrelu_teacher *t8 = teacher_dim(8), *t1 = teacher_dim(1);
    struct tsrelu_student a = forged_student((size_t)1 << 62, 8);
    ROW("LA-5", TSRELU_ENOMEM, tsrelu_loss_accurate(&a, t8, &L),
        "tsrelu_loss_accurate: (m+k)*d: size ", "overflows size_t");
    struct tsrelu_student b = forged_student((size_t)1 << 58, 4);
    tsrelu_teacher *t4 = teacher_dim(4);
    ROW("LA-6", TSRELU_ENOMEM, tsrelu_loss_accurate(&b, t4, &L),
        "tsrelu_loss_accurate: workspace overflows size_t");
    struct tsrelu_student c = forged_student((size_t)1 << 44, 1); /* 2^48 bytes */
    ROW("LA-7", TSRELU_ENOMEM, tsrelu_loss_accurate(&c, t1, &L),
        "tsrelu_loss_accurate: out of memory");
    tsrelu_teacher_free(t8);
    tsrelu_teacher_free(t4);
    tsrelu_teacher_free(t1);
    tsrelu_student *huge = student_of(1e200);
    tsrelu_teacher *t3 = teacher_dim(3);
    /* (the value printed is inf natively; valgrind's emulation of the quad
     * to double conversion gives -nan, so only the prefix is checked) */
    ROW("LA-8", TSRELU_ENONFINITE, tsrelu_loss_accurate(huge, t3, &L),
        "tsrelu_loss_accurate: loss is not finite");
    tsrelu_student_free(huge);
    tsrelu_teacher_free(t3);
}
END_TEST

START_TEST(test_gradient)
{
    double gW[MD], ga[M];
    ROW("GR-1", TSRELU_EINVAL, tsrelu_gradient(NULL, T, gW, MD, ga, M),
        "tsrelu_gradient: student is NULL");
    ROW("GR-2", TSRELU_EINVAL, tsrelu_gradient(S, NULL, gW, MD, ga, M),
        "tsrelu_gradient: teacher is NULL");
    ROW("GR-3", TSRELU_EDIM, tsrelu_gradient(S4, T, gW, MD, ga, M),
        "tsrelu_gradient: student d=4 but teacher d=3");
    ROW("GR-4", TSRELU_EINVAL, tsrelu_gradient(S, T, NULL, MD, ga, M),
        "tsrelu_gradient: gW is NULL");
    ROW("GR-5", TSRELU_ELENGTH, tsrelu_gradient(S, T, gW, MD - 1, ga, M),
        "tsrelu_gradient: gW: length 8 given, 9 required");
    ROW("GR-5", TSRELU_ELENGTH, tsrelu_gradient(S, T, gW, SIZE_MAX, NULL, 0),
        "tsrelu_gradient: gW: length 18446744073709551615 given, 9 required");
    ROW("GR-6", TSRELU_ELENGTH, tsrelu_gradient(S, T, gW, MD, ga, M + 1),
        "tsrelu_gradient: ga: length 4 given, 3 required");
    ROW("GR-7", TSRELU_OK, tsrelu_gradient(S, T, gW, MD, NULL, 12345), "");
    struct tsrelu_student big = forged_student(BLAS_OVER, D);
    ROW("GR-8", TSRELU_ENOMEM, tsrelu_gradient(&big, T, gW, BLAS_OVER * D, NULL, 0),
        "tsrelu_gradient: sizes m=2147483648", "BLAS int range");
    tsrelu_teacher *t1 = teacher_dim(1);
    struct tsrelu_student ws = forged_student(WS_OVER, 1);
    ROW("GR-9", TSRELU_ENOMEM, tsrelu_gradient(&ws, t1, gW, WS_OVER, NULL, 0),
        "workspace: size overflows size_t");
    tsrelu_teacher_free(t1);
    tsrelu_teacher *t3 = teacher_dim(3);
    tsrelu_student *huge = student_of(1e200);
    ROW("GR-10", TSRELU_ENONFINITE, tsrelu_gradient(huge, t3, gW, 3, ga, 1),
        "gradient dL/da is not finite");
    tsrelu_student_free(huge);
    huge = student_scaled(1e308, 4.0); /* dL/dw = a^2 w / 2 + ... = 8e308 */
    ROW("GR-10", TSRELU_ENONFINITE, tsrelu_gradient(huge, t3, gW, 3, NULL, 0),
        "gradient dL/dW is not finite");
    tsrelu_student_free(huge);
    tsrelu_teacher_free(t3);
}
END_TEST

/* -------------------------------------------------------------- metrics */

START_TEST(test_angles_nearest)
{
    ROW("MA-1", TSRELU_EINVAL, tsrelu_angles(NULL, T, buf, M * K), "tsrelu_angles: student is NULL");
    ROW("MA-2", TSRELU_EINVAL, tsrelu_angles(S, NULL, buf, M * K), "tsrelu_angles: teacher is NULL");
    ROW("MA-3", TSRELU_EDIM, tsrelu_angles(S4, T, buf, M * K),
        "tsrelu_angles: student d=4 but teacher d=3");
    ROW("MA-4", TSRELU_EINVAL, tsrelu_angles(S, T, NULL, M * K), "tsrelu_angles: theta is NULL");
    ROW("MA-5", TSRELU_ELENGTH, tsrelu_angles(S, T, buf, M * K - 1),
        "tsrelu_angles: theta: length 5 given, 6 required");
    ROW("MN-1", TSRELU_EINVAL, tsrelu_nearest_teacher(NULL, T, ibuf, M),
        "tsrelu_nearest_teacher: student is NULL");
    ROW("MN-2", TSRELU_EINVAL, tsrelu_nearest_teacher(S, NULL, ibuf, M),
        "tsrelu_nearest_teacher: teacher is NULL");
    ROW("MN-3", TSRELU_EDIM, tsrelu_nearest_teacher(S4, T, ibuf, M),
        "tsrelu_nearest_teacher: student d=4 but teacher d=3");
    ROW("MN-4", TSRELU_EINVAL, tsrelu_nearest_teacher(S, T, NULL, M),
        "tsrelu_nearest_teacher: tau is NULL");
    ROW("MN-5", TSRELU_ELENGTH, tsrelu_nearest_teacher(S, T, ibuf, K),
        "tsrelu_nearest_teacher: tau: length 2 given, 3 required");
}
END_TEST

START_TEST(test_components)
{
    double *r = buf, *tg = buf + 16;
    int tau[M] = {0, 1, 0};
    ROW("MC-1", TSRELU_EINVAL, tsrelu_components(S, T, NULL, 0, NULL, tg, M),
        "tsrelu_components: radial is NULL");
    ROW("MC-1", TSRELU_EINVAL, tsrelu_components(S, T, NULL, 0, r, NULL, M),
        "tsrelu_components: tangential is NULL");
    ROW("MC-2", TSRELU_EINVAL, tsrelu_components(NULL, T, NULL, 0, r, tg, 99),
        "tsrelu_components: student is NULL");
    ROW("MC-2", TSRELU_EINVAL, tsrelu_components(S, NULL, NULL, 0, r, tg, M),
        "tsrelu_components: teacher is NULL");
    ROW("MC-3", TSRELU_EDIM, tsrelu_components(S4, T, NULL, 0, r, tg, 99),
        "tsrelu_components: student d=4 but teacher d=3");
    ROW("MC-4", TSRELU_ELENGTH, tsrelu_components(S, T, NULL, 0, r, tg, M - 1),
        "tsrelu_components: output length 2 given, 3 (m) required");
    ROW("MC-5", TSRELU_ELENGTH, tsrelu_components(S, T, tau, M - 1, r, tg, M),
        "tsrelu_components: tau has length 2, 3 (m) required");
    tau[1] = -2;
    ROW("MC-6", TSRELU_EINVAL, tsrelu_components(S, T, tau, M, r, tg, M),
        "tsrelu_components: tau[1]=-2 is not in [-1, 1]");
    tau[1] = 1;
    tau[2] = K;
    ROW("MC-6", TSRELU_EINVAL, tsrelu_components(S, T, tau, M, r, tg, M),
        "tsrelu_components: tau[2]=2 is not in [-1, 1]");
    ROW("MC-7", TSRELU_OK, tsrelu_components(S, T, NULL, 999, r, tg, M), "");
}
END_TEST

START_TEST(test_deficit)
{
    int tau[M] = {0, 1, 0};
    ROW("MD-1", TSRELU_EINVAL, tsrelu_deficit(S, T, NULL, 0, NULL, K), "tsrelu_deficit: H is NULL");
    ROW("MD-2", TSRELU_EINVAL, tsrelu_deficit(NULL, T, NULL, 0, buf, 77),
        "tsrelu_deficit: student is NULL");
    ROW("MD-2", TSRELU_EINVAL, tsrelu_deficit(S, NULL, NULL, 0, buf, 77),
        "tsrelu_deficit: teacher is NULL");
    ROW("MD-3", TSRELU_EDIM, tsrelu_deficit(S4, T, NULL, 0, buf, 77),
        "tsrelu_deficit: student d=4 but teacher d=3");
    ROW("MD-4", TSRELU_ELENGTH, tsrelu_deficit(S, T, NULL, 0, buf, M),
        "tsrelu_deficit: output length 3 given, 2 (k) required");
    ROW("MD-5", TSRELU_ELENGTH, tsrelu_deficit(S, T, tau, M + 1, buf, K),
        "tsrelu_deficit: tau has length 4, 3 (m) required");
    tau[0] = INT32_MIN;
    ROW("MD-6", TSRELU_EINVAL, tsrelu_deficit(S, T, tau, M, buf, K),
        "tsrelu_deficit: tau[0]=-2147483648 is not in [-1, 1]");
}
END_TEST

START_TEST(test_balance)
{
    int size[K], tau[M] = {0, 1, 0};
    double *lo = buf, *hi = buf + 8, *ex = buf + 16;
    ROW("MB-1", TSRELU_EINVAL, tsrelu_balance(S, T, NULL, 0, NULL, lo, hi, ex, K),
        "tsrelu_balance: an output buffer is NULL");
    ROW("MB-1", TSRELU_EINVAL, tsrelu_balance(S, T, NULL, 0, size, NULL, hi, ex, K),
        "tsrelu_balance: an output buffer is NULL");
    ROW("MB-1", TSRELU_EINVAL, tsrelu_balance(S, T, NULL, 0, size, lo, NULL, ex, K),
        "tsrelu_balance: an output buffer is NULL");
    ROW("MB-1", TSRELU_EINVAL, tsrelu_balance(S, T, NULL, 0, size, lo, hi, NULL, K),
        "tsrelu_balance: an output buffer is NULL");
    ROW("MB-2", TSRELU_EINVAL, tsrelu_balance(NULL, T, NULL, 0, size, lo, hi, ex, 77),
        "tsrelu_balance: student is NULL");
    ROW("MB-2", TSRELU_EINVAL, tsrelu_balance(S, NULL, NULL, 0, size, lo, hi, ex, K),
        "tsrelu_balance: teacher is NULL");
    ROW("MB-3", TSRELU_EDIM, tsrelu_balance(S4, T, NULL, 0, size, lo, hi, ex, 77),
        "tsrelu_balance: student d=4 but teacher d=3");
    ROW("MB-4", TSRELU_ELENGTH, tsrelu_balance(S, T, NULL, 0, size, lo, hi, ex, K + 1),
        "tsrelu_balance: output length 3 given, 2 (k) required");
    ROW("MB-5", TSRELU_ELENGTH, tsrelu_balance(S, T, tau, 0, size, lo, hi, ex, K),
        "tsrelu_balance: tau has length 0, 3 (m) required");
    tau[2] = 7;
    ROW("MB-6", TSRELU_EINVAL, tsrelu_balance(S, T, tau, M, size, lo, hi, ex, K),
        "tsrelu_balance: tau[2]=7 is not in [-1, 1]");
}
END_TEST

START_TEST(test_rate_fit)
{
    double t[4] = {1, 2, 4, 8}, L[4] = {1, 0.125, 0.015625, 0.001953125}, p, c;
    ROW("RF-1", TSRELU_EINVAL, tsrelu_rate_fit(NULL, L, 4, 0, 10, &p, &c), "tsrelu_rate_fit: t is NULL");
    ROW("RF-1", TSRELU_EINVAL, tsrelu_rate_fit(t, NULL, 4, 0, 10, &p, &c), "tsrelu_rate_fit: L is NULL");
    ROW("RF-1", TSRELU_EINVAL, tsrelu_rate_fit(t, L, 4, 0, 10, NULL, &c),
        "tsrelu_rate_fit: slope is NULL");
    ROW("RF-2", TSRELU_EINVAL, tsrelu_rate_fit(t, L, 0, 0, 10, &p, &c),
        "tsrelu_rate_fit: 0 usable points in [0, 10], need 2");
    ROW("RF-2", TSRELU_EINVAL, tsrelu_rate_fit(t, L, 4, 3, 5, &p, &c),
        "tsrelu_rate_fit: 1 usable points in [3, 5], need 2");
    ROW("RF-2", TSRELU_EINVAL, tsrelu_rate_fit(t, L, 4, NAN, 10, &p, &c),
        "tsrelu_rate_fit: 0 usable points in [nan, 10]");
    double tz[4] = {0, -1, NAN, 2}, Lz[4] = {1, 1, 1, 1};
    ROW("RF-2", TSRELU_EINVAL, tsrelu_rate_fit(tz, Lz, 4, -INFINITY, INFINITY, &p, &c),
        "tsrelu_rate_fit: 1 usable points");
    double Ln[4] = {0, -1, INFINITY, NAN};
    ROW("RF-2", TSRELU_EINVAL, tsrelu_rate_fit(t, Ln, 4, 0, INFINITY, &p, &c),
        "tsrelu_rate_fit: 0 usable points");
    double te[3] = {5, 5, 5};
    ROW("RF-3", TSRELU_EINVAL, tsrelu_rate_fit(te, L, 3, 0, 10, &p, &c),
        "tsrelu_rate_fit: all usable t are equal");
    ROW("RF-4", TSRELU_OK, tsrelu_rate_fit(t, L, 4, 0, 10, &p, NULL), "");
    ck_assert_double_eq_tol(p, -3.0, 1e-12);
}
END_TEST

/* ------------------------------------------------------------ GD state */

static int noop_observer(const tsrelu_gd *gd, void *ud)
{
    (void)gd;
    (void)ud;
    return 0;
}

static int nan_step(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga,
                    void *ud)
{
    (void)gd;
    (void)gW;
    (void)a;
    (void)ga;
    (void)ud;
    W[1] = NAN;
    return 0;
}

/* Multiplies the iterate by 1e7 (finite from 1e301: 1e308). */
static int blow_up_step(const tsrelu_gd *gd, double *W, const double *gW, double *a,
                        const double *ga, void *ud)
{
    size_t n = tsrelu_student_width(tsrelu_gd_student(gd)) * tsrelu_student_dim(tsrelu_gd_student(gd));
    (void)gW;
    (void)a;
    (void)ga;
    (void)ud;
    for (size_t i = 0; i < n; i++)
        W[i] *= 1e7;
    return 0;
}

START_TEST(test_gd_create)
{
    tsrelu_gd *g = (tsrelu_gd *)&g;
    ROW("GC-1", TSRELU_EINVAL, tsrelu_gd_create(T, S, 0.1, NULL), "tsrelu_gd_create: out is NULL");
    ROW("GC-2", TSRELU_EINVAL, tsrelu_gd_create(NULL, S, 0.1, &g),
        "tsrelu_gd_create: teacher is NULL");
    ck_assert_ptr_null(g);
    ROW("GC-2", TSRELU_EINVAL, tsrelu_gd_create(T, NULL, 0.1, &g),
        "tsrelu_gd_create: student is NULL");
    ROW("GC-3", TSRELU_EDIM, tsrelu_gd_create(T, S4, 0.1, &g),
        "tsrelu_gd_create: student d=4 but teacher d=3");
    struct tsrelu_student big = forged_student(BLAS_OVER, D);
    ROW("GC-4", TSRELU_ENOMEM, tsrelu_gd_create(T, &big, 0.1, &g),
        "tsrelu_gd_create: sizes m=2147483648, k=", "exceed the BLAS int range");
    ROW("GC-5", TSRELU_ENONFINITE, tsrelu_gd_create(T, S, NAN, &g), "tsrelu_gd_create: eta is ",
        "nan");
    ROW("GC-5", TSRELU_ENONFINITE, tsrelu_gd_create(T, S, INFINITY, &g),
        "tsrelu_gd_create: eta is ", "inf");
    ROW("GC-6", TSRELU_EINVAL, tsrelu_gd_create(T, S, 0.0, &g), "tsrelu_gd_create: eta=0 ",
        "must be > 0");
    ROW("GC-6", TSRELU_EINVAL, tsrelu_gd_create(T, S, -0.5, &g), "tsrelu_gd_create: eta=-0.5 ",
        "must be > 0");
    tsrelu_teacher *t1 = teacher_dim(1);
    struct tsrelu_student ws = forged_student(WS_OVER, 1);
    g = (tsrelu_gd *)&g;
    ROW("GC-7", TSRELU_ENOMEM, tsrelu_gd_create(t1, &ws, 0.1, &g),
        "workspace: size overflows size_t");
    ck_assert_ptr_null(g);
    tsrelu_teacher_free(t1);
    tsrelu_teacher *t3 = teacher_dim(3);
    tsrelu_student *huge = student_scaled(1e308, 4.0);
    ROW("GC-8", TSRELU_ENONFINITE, tsrelu_gd_create(t3, huge, 0.1, &g),
        "tsrelu_gd_create: iteration 0: gradient dL/dW is not finite");
    ck_assert_ptr_null(g);
    tsrelu_student_free(huge);
    tsrelu_teacher_free(t3);
}
END_TEST

START_TEST(test_gd_setters)
{
    ROW("GE-1", TSRELU_EINVAL, tsrelu_gd_set_eta(NULL, 0.1), "tsrelu_gd_set_eta: gd is NULL");
    ROW("GE-2", TSRELU_ENONFINITE, tsrelu_gd_set_eta(G, NAN), "tsrelu_gd_set_eta: eta is ", "nan");
    ROW("GE-2", TSRELU_ENONFINITE, tsrelu_gd_set_eta(G, -INFINITY), "tsrelu_gd_set_eta: eta is ",
        "-inf");
    ROW("GE-3", TSRELU_EINVAL, tsrelu_gd_set_eta(G, 0.0), "tsrelu_gd_set_eta: eta=0 ", "must be > 0");
    ROW("GE-3", TSRELU_EINVAL, tsrelu_gd_set_eta(G, -1e-300), "tsrelu_gd_set_eta: eta=-1e-300 ");
    ck_assert_double_eq(tsrelu_gd_eta(G), 0.1); /* unchanged */

    ROW("GT-1", TSRELU_EINVAL, tsrelu_gd_set_train_output(NULL, 1),
        "tsrelu_gd_set_train_output: gd is NULL");

    ROW("GO-1", TSRELU_EINVAL, tsrelu_gd_set_tolerances(NULL, 0.0, 0.0),
        "tsrelu_gd_set_tolerances: gd is NULL");
    ROW("GO-2", TSRELU_EINVAL, tsrelu_gd_set_tolerances(G, -1.0, 0.0),
        "tsrelu_gd_set_tolerances: loss_tol=-1 and grad_tol=0 must be >= 0");
    ROW("GO-2", TSRELU_EINVAL, tsrelu_gd_set_tolerances(G, 0.0, NAN),
        "tsrelu_gd_set_tolerances: ", "grad_tol=nan");
    ROW("GO-2", TSRELU_EINVAL, tsrelu_gd_set_tolerances(G, -INFINITY, 1.0),
        "tsrelu_gd_set_tolerances: loss_tol=-inf");
    ROW("GO-3", TSRELU_OK, tsrelu_gd_set_tolerances(G, INFINITY, 0.0), "");
    ROW("GO-3", TSRELU_OK, tsrelu_gd_set_tolerances(G, 0.0, 0.0), "");

    ROW("GB-1", TSRELU_EINVAL,
        tsrelu_gd_set_observer(NULL, noop_observer, NULL, TSRELU_SCHEDULE_LINEAR, 1),
        "tsrelu_gd_set_observer: gd is NULL");
    ROW("GB-2", TSRELU_EINVAL, tsrelu_gd_set_observer(G, noop_observer, NULL, 0, 1),
        "tsrelu_gd_set_observer: unknown schedule 0");
    ROW("GB-2", TSRELU_EINVAL, tsrelu_gd_set_observer(G, noop_observer, NULL, 3, 1),
        "tsrelu_gd_set_observer: unknown schedule 3");
    ROW("GB-2", TSRELU_EINVAL, tsrelu_gd_set_observer(G, noop_observer, NULL, -1, 1),
        "tsrelu_gd_set_observer: unknown schedule -1");
    ROW("GB-3", TSRELU_EINVAL,
        tsrelu_gd_set_observer(G, noop_observer, NULL, TSRELU_SCHEDULE_LOG, 0),
        "tsrelu_gd_set_observer: param must be >= 1");
    ROW("GB-4", TSRELU_OK, tsrelu_gd_set_observer(G, NULL, NULL, 99, 0), "");
    ROW("GB-5", TSRELU_EINVAL,
        tsrelu_gd_set_observer(G, noop_observer, NULL, TSRELU_SCHEDULE_LOG,
                               (uint64_t)TSRELU_LOG_MAX_PER_DECADE + 1),
        "tsrelu_gd_set_observer: 1000001 points per decade; at most 1000000");
    ROW("GB-5", TSRELU_EINVAL,
        tsrelu_gd_set_observer(G, noop_observer, NULL, TSRELU_SCHEDULE_LOG, UINT64_MAX),
        "tsrelu_gd_set_observer: 18446744073709551615 points per decade");
    ROW("GB-6", TSRELU_OK,
        tsrelu_gd_set_observer(G, noop_observer, NULL, TSRELU_SCHEDULE_LINEAR, UINT64_MAX), "");

    ROW("GS-1", TSRELU_EINVAL, tsrelu_gd_set_step(NULL, nan_step, NULL),
        "tsrelu_gd_set_step: gd is NULL");

    ROW("GP-1", TSRELU_EINVAL, tsrelu_gd_set_phase_thresholds(NULL, 0.05, 0.05),
        "tsrelu_gd_set_phase_thresholds: gd is NULL");
    ROW("GP-2", TSRELU_ENONFINITE, tsrelu_gd_set_phase_thresholds(G, NAN, 0.05),
        "tsrelu_gd_set_phase_thresholds: eps_align=nan, eps_deficit=0.05");
    ROW("GP-2", TSRELU_ENONFINITE, tsrelu_gd_set_phase_thresholds(G, 0.05, INFINITY),
        "tsrelu_gd_set_phase_thresholds: eps_align=0.05, eps_deficit=inf");
    ROW("GP-3", TSRELU_EINVAL, tsrelu_gd_set_phase_thresholds(G, 0.0, 0.05),
        "tsrelu_gd_set_phase_thresholds: need 0 < eps_align=0 < pi and eps_deficit=0.05 > 0");
    ROW("GP-3", TSRELU_EINVAL, tsrelu_gd_set_phase_thresholds(G, 3.2, 0.05),
        "tsrelu_gd_set_phase_thresholds: need 0 < eps_align=3.2 < pi");
    ROW("GP-3", TSRELU_EINVAL, tsrelu_gd_set_phase_thresholds(G, 0.05, 0.0),
        "tsrelu_gd_set_phase_thresholds: ", "eps_deficit=0 > 0");
    ROW("GP-3", TSRELU_EINVAL, tsrelu_gd_set_phase_thresholds(G, 0.05, -1.0),
        "tsrelu_gd_set_phase_thresholds: ", "eps_deficit=-1 > 0");
}
END_TEST

START_TEST(test_gd_step_run)
{
    ROW("GX-1", TSRELU_EINVAL, tsrelu_gd_step(NULL), "tsrelu_gd_step: gd is NULL");
    ROW("GR-R1", TSRELU_EINVAL, tsrelu_gd_run(NULL, 5), "tsrelu_gd_run: gd is NULL");

    /* a non-finite update (|dL/dw| = 50, eta = 1e307): the state keeps
     * its iterate */
    tsrelu_teacher *t3 = teacher_dim(3);
    tsrelu_student *s100 = student_scaled(100.0, 1.0);
    tsrelu_gd *g = NULL;
    ck_assert_int_eq(tsrelu_gd_create(t3, s100, 1e307, &g), TSRELU_OK);
    ROW("GX-2", TSRELU_EDIVERGED, tsrelu_gd_step(g),
        "the update at iteration 0 is not finite (eta=1e+307); the state keeps iteration 0");
    ck_assert_uint_eq(tsrelu_gd_iteration(g), 0);
    ROW("GR-R2", TSRELU_EDIVERGED, tsrelu_gd_run(g, 10),
        "the update at iteration 0 is not finite", "eta=1e+307");
    ck_assert_uint_eq(tsrelu_gd_iteration(g), 0);
    tsrelu_gd_free(g);
    tsrelu_student_free(s100);
    ck_assert_int_eq(tsrelu_gd_set_step(G, nan_step, NULL), TSRELU_OK);
    ROW("GX-3", TSRELU_EDIVERGED, tsrelu_gd_step(G), "the update at iteration 0 is not finite");
    ck_assert_int_eq(tsrelu_gd_run(G, 0), TSRELU_OK); /* no update: nothing to diverge */
    ROW("GR-R2", TSRELU_EDIVERGED, tsrelu_gd_run(G, 3), "the update at iteration 0 is not finite");
    ck_assert_uint_eq(tsrelu_gd_iteration(G), 0);

    /* an iterate whose loss overflows (the gradient does not): gd_create
     * accepts it, the run fails where the loss is read */
    tsrelu_student *huge = student_of(1e160);
    ck_assert_int_eq(tsrelu_gd_create(t3, huge, 0.1, &g), TSRELU_OK);
    double L;
    ROW("GL-3", TSRELU_ENONFINITE, tsrelu_gd_loss(g, &L), "loss is not finite", "inf");
    ck_assert_int_eq(tsrelu_gd_set_observer(g, noop_observer, NULL, TSRELU_SCHEDULE_LINEAR, 1),
                     TSRELU_OK);
    ROW("GR-R3", TSRELU_EDIVERGED, tsrelu_gd_run(g, 2), "iteration 0: loss is not finite");
    ck_assert_uint_eq(tsrelu_gd_iteration(g), 0);
    ck_assert_int_eq(tsrelu_gd_set_observer(g, NULL, NULL, 0, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_tolerances(g, 1e-3, 0.0), TSRELU_OK);
    ROW("GR-R3", TSRELU_EDIVERGED, tsrelu_gd_run(g, 2), "iteration 0: loss is not finite");
    tsrelu_gd_free(g);
    tsrelu_student_free(huge);

    /* an iterate whose gradient overflows after a step that was finite:
     * w = 1e308 e_0 with a = 4 has dL/dw = 8 w + ... = inf */
    tsrelu_student *s4 = student_scaled(1e301, 4.0);
    double gn;
    ck_assert_int_eq(tsrelu_gd_create(t3, s4, 1.0, &g), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_train_output(g, 0), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_step(g, blow_up_step, NULL), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_step(g), TSRELU_OK); /* W <- W * 1e7 = 1e308: finite */
    tsrelu_status rs = tsrelu_gd_run(g, 0); /* evaluates (and caches) iterate 1 */
    ck_assert(rs == TSRELU_OK || rs == TSRELU_EDIVERGED);
    ROW("GN-3", TSRELU_ENONFINITE, tsrelu_gd_gradient_norm(g, &gn),
        "tsrelu_gd_gradient_norm: ", "not finite");
    ROW("GX-4", TSRELU_EDIVERGED, tsrelu_gd_step(g), "iteration 1: the gradient is not finite");
    ROW("GR-R4", TSRELU_EDIVERGED, tsrelu_gd_run(g, 3), "iteration 1: the gradient is not finite");
    ck_assert_uint_eq(tsrelu_gd_iteration(g), 1);
    tsrelu_gd_free(g);
    tsrelu_student_free(s4);
    tsrelu_teacher_free(t3);
}
END_TEST

START_TEST(test_gd_getters)
{
    double x;
    int64_t t1, t2;
    ROW("GL-1", TSRELU_EINVAL, tsrelu_gd_loss(NULL, &x), "tsrelu_gd_loss: gd is NULL");
    ROW("GL-2", TSRELU_EINVAL, tsrelu_gd_loss(G, NULL), "tsrelu_gd_loss: loss is NULL");
    ROW("GN-1", TSRELU_EINVAL, tsrelu_gd_gradient_norm(NULL, &x),
        "tsrelu_gd_gradient_norm: gd is NULL");
    ROW("GN-2", TSRELU_EINVAL, tsrelu_gd_gradient_norm(G, NULL),
        "tsrelu_gd_gradient_norm: norm is NULL");
    ROW("GM-1", TSRELU_EINVAL, tsrelu_gd_phase_times(NULL, &t1, &t2),
        "tsrelu_gd_phase_times: gd is NULL");
    ROW("GM-2", TSRELU_OK, tsrelu_gd_phase_times(G, NULL, NULL), "");
    ROW("GK-1", TSRELU_EINVAL, tsrelu_gd_tolerances(NULL, &x, &x),
        "tsrelu_gd_tolerances: gd is NULL");
    ROW("GK-2", TSRELU_OK, tsrelu_gd_tolerances(G, NULL, NULL), "");
    ROW("GG-1", TSRELU_EINVAL, tsrelu_gd_groups(NULL, 1, ibuf, M), "tsrelu_gd_groups: gd is NULL");
    ROW("GG-2", TSRELU_EINVAL, tsrelu_gd_groups(G, 0, NULL, M), "tsrelu_gd_groups: tau is NULL");
    ROW("GG-3", TSRELU_ELENGTH, tsrelu_gd_groups(G, 1, ibuf, M - 1),
        "tsrelu_gd_groups: tau: length 2 given, 3 required");
    /* value getters on NULL: 0 (NULL for the views), no status */
    ck_assert_double_eq(tsrelu_gd_eta(NULL), 0.0);
    ck_assert_uint_eq(tsrelu_gd_iteration(NULL), 0);
    ck_assert_int_eq(tsrelu_gd_stop_value(NULL), 0);
    ck_assert_ptr_null(tsrelu_gd_student(NULL));
    ck_assert_ptr_null(tsrelu_gd_teacher(NULL));
    ck_assert_int_eq(tsrelu_gd_phase(NULL), 0);
    ck_assert_int_eq(tsrelu_gd_train_output(NULL), 0);
    ck_assert_uint_eq(tsrelu_gd_group_switches(NULL), 0);
    tsrelu_gd_free(NULL);
}
END_TEST

/* --------------------------------------------------------------- batches */

START_TEST(test_batch)
{
    tsrelu_batch *b = NULL;
    double sum[TSRELU_SUMMARY_LEN];
    size_t idx;
    ROW("BC-1", TSRELU_EINVAL, tsrelu_batch_create(NULL), "tsrelu_batch_create: out is NULL");
    ck_assert_int_eq(tsrelu_batch_create(&b), TSRELU_OK);
    ROW("BA-1", TSRELU_EINVAL, tsrelu_batch_add(NULL, T, S, 0.1, 5, &idx),
        "tsrelu_batch_add: batch is NULL");
    ROW("BA-2", TSRELU_EINVAL, tsrelu_batch_add(b, NULL, S, 0.1, 5, &idx),
        "tsrelu_gd_create: teacher is NULL");
    ROW("BA-2", TSRELU_EDIM, tsrelu_batch_add(b, T, S4, 0.1, 5, &idx),
        "tsrelu_gd_create: student d=4 but teacher d=3");
    ROW("BA-2", TSRELU_ENONFINITE, tsrelu_batch_add(b, T, S, NAN, 5, &idx),
        "tsrelu_gd_create: eta is ");
    ROW("BA-2", TSRELU_EINVAL, tsrelu_batch_add(b, T, S, -1.0, 5, &idx),
        "tsrelu_gd_create: eta=-1 ");
    ck_assert_uint_eq(tsrelu_batch_size(b), 0);
    ROW("BT-1", TSRELU_EINVAL, tsrelu_batch_set_threads(NULL, 2),
        "tsrelu_batch_set_threads: batch is NULL");
    ROW("BS-1", TSRELU_EINVAL, tsrelu_batch_summary(NULL, 0, sum, TSRELU_SUMMARY_LEN),
        "tsrelu_batch_summary: batch is NULL");
    ROW("BS-2", TSRELU_EINVAL, tsrelu_batch_summary(b, 0, NULL, TSRELU_SUMMARY_LEN),
        "tsrelu_batch_summary: out is NULL");
    ROW("BS-3", TSRELU_EINVAL, tsrelu_batch_summary(b, 0, sum, TSRELU_SUMMARY_LEN),
        "tsrelu_batch_summary: run 0 of 0 does not exist");
    ck_assert_int_eq(tsrelu_batch_add(b, T, S, 0.1, 5, &idx), TSRELU_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(tsrelu_batch_add(b, T, S, 1e306, 5, &idx), TSRELU_OK); /* diverges */
    ROW("BS-4", TSRELU_EINVAL, tsrelu_batch_summary(b, 1, sum, TSRELU_SUMMARY_LEN),
        "tsrelu_batch_summary: the batch has not run yet");
    ck_assert_ptr_null(tsrelu_batch_state(b, 2));
    ck_assert_ptr_null(tsrelu_batch_state(NULL, 0));
    ck_assert_uint_eq(tsrelu_batch_size(NULL), 0);
    ROW("BR-1", TSRELU_EINVAL, tsrelu_batch_run(NULL), "tsrelu_batch_run: batch is NULL");
    ck_assert_int_eq(tsrelu_batch_set_threads(b, 2), TSRELU_OK);
    ROW("BR-3", TSRELU_EDIVERGED, tsrelu_batch_run(b),
        "tsrelu_batch_run: run 1 ended with TSRELU_EDIVERGED");
    ROW("BR-2", TSRELU_EINVAL, tsrelu_batch_run(b), "tsrelu_batch_run: the batch has already run");
    ROW("BA-3", TSRELU_EINVAL, tsrelu_batch_add(b, T, S, 0.1, 5, &idx),
        "tsrelu_batch_add: the batch has already run");
    ROW("BS-3", TSRELU_EINVAL, tsrelu_batch_summary(b, 2, sum, TSRELU_SUMMARY_LEN),
        "tsrelu_batch_summary: run 2 of 2 does not exist");
    ROW("BS-5", TSRELU_ELENGTH, tsrelu_batch_summary(b, 1, sum, 0),
        "tsrelu_batch_summary: out: length 0 given, 1 to 12 allowed");
    ROW("BS-5", TSRELU_ELENGTH, tsrelu_batch_summary(b, 1, sum, TSRELU_SUMMARY_LEN + 1),
        "tsrelu_batch_summary: out: length 13 given, 1 to 12 allowed");
    ROW("BS-6", TSRELU_OK, tsrelu_batch_summary(b, 1, sum, 1), "");
    ck_assert_int_eq(tsrelu_batch_summary(b, 1, sum, TSRELU_SUMMARY_LEN), TSRELU_OK);
    ck_assert_double_eq(sum[TSRELU_SUMMARY_STATUS], (double)TSRELU_EDIVERGED);
    tsrelu_batch_free(b);
    tsrelu_batch_free(NULL);
}
END_TEST

/* --------------------------------------------------------------- status */

/* rows ST-1 and ST-2: text, never NULL, for unknown codes */
START_TEST(test_status_text)
{
    static const tsrelu_status unknown[] = {4, 100, -10, -100, INT32_MIN, INT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ck_assert_str_eq(tsrelu_status_string(unknown[i]), "unknown status");
        ck_assert_str_eq(tsrelu_status_name(unknown[i]), "TSRELU_UNKNOWN");
    }
}
END_TEST

/* ------------------------------------------------- trajectory recorder */

static int set_recorder_from_observer(const tsrelu_gd *gd, void *ud)
{
    ROW("RA-2", TSRELU_EBUSY, tsrelu_gd_set_recorder((tsrelu_gd *)gd, ud, TSRELU_SCHEDULE_LOG, 10),
        "tsrelu_gd_set_recorder: the state is in a run or step");
    return 0;
}

START_TEST(test_record)
{
    tsrelu_record *r = (tsrelu_record *)&r;
    ROW("RC-1", TSRELU_EINVAL, tsrelu_record_create(G, 10, 0, NULL), "tsrelu_record_create: out is NULL");
    ROW("RC-2", TSRELU_EINVAL, tsrelu_record_create(NULL, 10, 0, &r), "tsrelu_record_create: gd is NULL");
    ck_assert_ptr_null(r);
    ROW("RC-3", TSRELU_EINVAL, tsrelu_record_create(G, 0, 0, &r), "tsrelu_record_create: capacity must be >= 1");
    ROW("RC-4", TSRELU_EINVAL, tsrelu_record_create(G, 10, 6u, &r), "tsrelu_record_create: unknown flags 0x", "0x6");
    ROW("RC-5", TSRELU_ENOMEM, tsrelu_record_create(G, SIZE_MAX / 2, 0, &r),
        "tsrelu_record_create: out of memory for ", "m=3", "k=2");
    ROW("RC-5", TSRELU_ENOMEM, tsrelu_record_create(G, NO_MEMORY, TSRELU_RECORD_ACCURATE_LOSS, &r),
        "tsrelu_record_create: out of memory for ", "35184372088832 iterates");
    ck_assert_ptr_null(r);
    ck_assert_int_eq(tsrelu_record_create(G, 4, 0, &r), TSRELU_OK);

    ROW("RA-1", TSRELU_EINVAL, tsrelu_gd_set_recorder(NULL, r, TSRELU_SCHEDULE_LOG, 10),
        "tsrelu_gd_set_recorder: gd is NULL");
    ck_assert_int_eq(tsrelu_gd_set_observer(G, set_recorder_from_observer, r, TSRELU_SCHEDULE_LINEAR, 1),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(G, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_observer(G, NULL, NULL, 0, 0), TSRELU_OK);
    ROW("RA-3", TSRELU_EINVAL, tsrelu_gd_set_recorder(G, r, 3, 10), "tsrelu_gd_set_recorder: unknown schedule 3");
    ROW("RA-4", TSRELU_EINVAL, tsrelu_gd_set_recorder(G, r, TSRELU_SCHEDULE_LINEAR, 0),
        "tsrelu_gd_set_recorder: param must be >= 1");
    ROW("RA-5", TSRELU_EINVAL, tsrelu_gd_set_recorder(G, r, TSRELU_SCHEDULE_LOG, TSRELU_LOG_MAX_PER_DECADE + 1),
        "tsrelu_gd_set_recorder: 1000001 points per decade; at most 1000000");
    tsrelu_gd *other;
    ck_assert_int_eq(tsrelu_gd_create(T, S, 0.1, &other), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(other, r, TSRELU_SCHEDULE_LOG, 10), TSRELU_OK);
    ROW("RA-6", TSRELU_EINVAL, tsrelu_gd_set_recorder(G, r, TSRELU_SCHEDULE_LOG, 10),
        "tsrelu_gd_set_recorder: the recorder is attached to another state");
    ck_assert_int_eq(tsrelu_gd_set_recorder(other, NULL, 0, 0), TSRELU_OK);
    tsrelu_gd_free(other);
    tsrelu_student *s2;
    ck_assert_int_eq(tsrelu_student_create(2, D, W0, NULL, &s2), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(T, s2, 0.1, &other), TSRELU_OK);
    ROW("RA-7", TSRELU_EDIM, tsrelu_gd_set_recorder(other, r, TSRELU_SCHEDULE_LOG, 10),
        "tsrelu_gd_set_recorder: the recorder is for m=3, k=2, d=3; the state has m=2, k=2, d=3");
    tsrelu_gd_free(other);
    tsrelu_student_free(s2);
    ROW("RA-8", TSRELU_OK, tsrelu_gd_set_recorder(G, NULL, 99, 0), "");

    /* an empty record first (RG-6), then two rows */
    uint64_t it[4];
    ROW("RG-6", TSRELU_OK, tsrelu_record_iterations(r, NULL, 0), "");
    ROW("RG-6", TSRELU_OK, tsrelu_record_student(r, TSRELU_RECORD_NORM, NULL, 0), "");
    ck_assert_int_eq(tsrelu_gd_set_recorder(G, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(G, 1), TSRELU_OK);
    ck_assert_uint_eq(tsrelu_record_size(r), 2);
    ROW("RG-1", TSRELU_EINVAL, tsrelu_record_iterations(NULL, it, 2), "tsrelu_record_iterations: r is NULL");
    ROW("RG-1", TSRELU_EINVAL, tsrelu_record_global(NULL, TSRELU_RECORD_LOSS, buf, 2), "tsrelu_record_global: r is NULL");
    ROW("RG-1", TSRELU_EINVAL, tsrelu_record_student(NULL, TSRELU_RECORD_NORM, buf, 6),
        "tsrelu_record_student: r is NULL");
    ROW("RG-1", TSRELU_EINVAL, tsrelu_record_teacher(NULL, TSRELU_RECORD_DEFICIT, buf, 4),
        "tsrelu_record_teacher: r is NULL");
    ROW("RG-2", TSRELU_EINVAL, tsrelu_record_global(r, TSRELU_RECORD_NORM, buf, 2),
        "tsrelu_record_global: 10 is not a global field");
    ROW("RG-2", TSRELU_EINVAL, tsrelu_record_student(r, TSRELU_RECORD_LOSS, buf, 6),
        "tsrelu_record_student: 1 is not a student field");
    ROW("RG-2", TSRELU_EINVAL, tsrelu_record_teacher(r, TSRELU_RECORD_ANGLE_MEAN, buf, 4),
        "tsrelu_record_teacher: 16 is not a teacher field");
    ROW("RG-3", TSRELU_EINVAL, tsrelu_record_global(r, TSRELU_RECORD_LOSS_ACCURATE, buf, 2),
        "tsrelu_record_global: the recorder was made without TSRELU_RECORD_ACCURATE_LOSS");
    ROW("RG-4", TSRELU_ELENGTH, tsrelu_record_iterations(r, it, 3),
        "tsrelu_record_iterations: iter: length 3 given, 2 required");
    ROW("RG-4", TSRELU_ELENGTH, tsrelu_record_student(r, TSRELU_RECORD_NORM, buf, 2),
        "tsrelu_record_student: out: length 2 given, 6 required");
    ROW("RG-4", TSRELU_ELENGTH, tsrelu_record_teacher(r, TSRELU_RECORD_DEFICIT, buf, 6),
        "tsrelu_record_teacher: out: length 6 given, 4 required");
    ROW("RG-5", TSRELU_EINVAL, tsrelu_record_iterations(r, NULL, 2), "tsrelu_record_iterations: iter is NULL");
    ROW("RG-5", TSRELU_EINVAL, tsrelu_record_global(r, TSRELU_RECORD_LOSS, NULL, 2), "tsrelu_record_global: out is NULL");

    ROW("RW-1", TSRELU_EINVAL, tsrelu_record_write_csv(NULL, "/tmp/r.csv"), "tsrelu_record_write_csv: r is NULL");
    ROW("RW-2", TSRELU_EINVAL, tsrelu_record_write_csv(r, NULL), "tsrelu_record_write_csv: path is NULL");
    ROW("RW-3", TSRELU_EIO, tsrelu_record_write_csv(r, "/nonexistent-tsrelu/r.csv"),
        "tsrelu_record_write_csv: cannot open /nonexistent-tsrelu/r.csv: ", "No such file");
    FILE *full = fopen("/dev/full", "w");
    if (full) { /* Linux: every write fails with ENOSPC */
        fclose(full);
        ROW("RW-4", TSRELU_EIO, tsrelu_record_write_csv(r, "/dev/full"),
            "tsrelu_record_write_csv: writing /dev/full: ", "No space left");
    }
    ck_assert_uint_eq(tsrelu_record_size(NULL) + tsrelu_record_capacity(NULL) + tsrelu_record_missed(NULL), 0);
    tsrelu_record_free(NULL);
    tsrelu_record_free(r);
}
END_TEST

/* ------------------------------------------------------------- events */

static int event_setters_from_observer(const tsrelu_gd *gd, void *ud)
{
    (void)gd;
    ROW("EC-2", TSRELU_EBUSY, tsrelu_record_set_event_callback(ud, 0, NULL, NULL),
        "tsrelu_record_set_event_callback: the state is in a run or step");
    ROW("EH-2", TSRELU_EBUSY, tsrelu_record_set_event_threshold(ud, TSRELU_EVENT_ALIGN, 0.1),
        "tsrelu_record_set_event_threshold: the state is in a run or step");
    return 0;
}

static int no_event(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time,
                    void *ud)
{
    (void)gd, (void)kind, (void)transition, (void)index, (void)teacher, (void)time, (void)ud;
    return 0;
}

START_TEST(test_events)
{
    double t[8], q;
    size_t count;
    tsrelu_record *r;
    ck_assert_int_eq(tsrelu_record_create(G, 8, 0, &r), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_set_recorder(G, r, TSRELU_SCHEDULE_LINEAR, 1), TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(G, 2), TSRELU_OK);

#define ET "tsrelu_record_event_times: "
    ROW("ET-1", TSRELU_EINVAL, tsrelu_record_event_times(NULL, TSRELU_EVENT_ALIGN, 1, 0.1, t, 3),
        "tsrelu_record_event_times: r is NULL");
    ROW("ET-2", TSRELU_EINVAL, tsrelu_record_event_times(r, 7, 1, 0.1, t, 3), ET, "kind=7");
    ROW("ET-2", TSRELU_EINVAL, tsrelu_record_event_times(r, 0, 1, 0.1, t, 3), ET, "kind=0");
    ROW("ET-3", TSRELU_EINVAL, tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 4, 0.1, t, 3), ET,
        "mode=4 is not FIRST, SETTLE or LEAVE");
    ROW("ET-4", TSRELU_ENONFINITE, tsrelu_record_event_times(r, TSRELU_EVENT_MEAN, 1, NAN, t, 3), ET,
        "threshold=", "is not finite");
    ROW("ET-4", TSRELU_ENONFINITE, tsrelu_record_event_times(r, TSRELU_EVENT_NORM, 1, INFINITY, t, 3), ET,
        "threshold=inf");
    ROW("ET-5", TSRELU_EINVAL, tsrelu_record_event_times(r, TSRELU_EVENT_DEFICIT, 2, -0.5, t, 2), ET,
        "threshold=-0.5 must be > 0");
    ROW("ET-5", TSRELU_EINVAL, tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 2, 0.0, t, 3), ET,
        "threshold=0 must be > 0");
    ROW("ET-6", TSRELU_EINVAL, tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 2, 0.1, NULL, 3),
        "tsrelu_record_event_times: times is NULL");
    ROW("ET-7", TSRELU_ELENGTH, tsrelu_record_event_times(r, TSRELU_EVENT_ALIGN, 2, 0.1, t, 2), ET,
        "times has length 2, 3 (m) required");
    ROW("ET-7", TSRELU_ELENGTH, tsrelu_record_event_times(r, TSRELU_EVENT_DEFICIT, 2, 0.1, t, 3), ET,
        "times has length 3, 2 (k) required");
    ROW("ET-7", TSRELU_ELENGTH, tsrelu_record_event_times(r, TSRELU_EVENT_DEFICIT, 2, 0.1, t, SIZE_MAX), ET,
        "(k) required");
    ROW("ET-8", TSRELU_OK, tsrelu_record_event_times(r, TSRELU_EVENT_GROUP, 2, NAN, t, 3), "");

    ROW("ES-1", TSRELU_EINVAL, tsrelu_record_switches(NULL, NULL, 0, &count), "tsrelu_record_switches: r is NULL");
    ROW("ES-2", TSRELU_EINVAL, tsrelu_record_switches(r, NULL, 0, NULL), "tsrelu_record_switches: count is NULL");
    ROW("ES-3", TSRELU_EINVAL, tsrelu_record_switches(r, NULL, 4, &count), "tsrelu_record_switches: out is NULL");
    count = 99;
    ROW("ES-4", TSRELU_ELENGTH, tsrelu_record_switches(r, t, 5, &count),
        "tsrelu_record_switches: out has length 5, 0 or 4 * ", "(switches) required");
    ck_assert_uint_ne(count, 99);

    double onset = 7.0;
    ROW("EO-1", TSRELU_EINVAL, tsrelu_record_rate_onset(NULL, 0.1, &onset, NULL), "tsrelu_record_rate_onset: r is NULL");
    ROW("EO-2", TSRELU_ENONFINITE, tsrelu_record_rate_onset(r, -INFINITY, &onset, NULL),
        "tsrelu_record_rate_onset: delta=-inf is not finite");
    ROW("EO-3", TSRELU_EINVAL, tsrelu_record_rate_onset(r, 0.0, &onset, NULL),
        "tsrelu_record_rate_onset: delta=0 must be > 0");
    ROW("EO-5", TSRELU_OK, tsrelu_record_rate_onset(r, 0.1, NULL, NULL), "");
    ck_assert(onset == 7.0);

    ROW("EQ-1", TSRELU_EINVAL, tsrelu_event_quantile(t, 2, 0.5, NULL), "tsrelu_event_quantile: out is NULL");
    ROW("EQ-2", TSRELU_EINVAL, tsrelu_event_quantile(NULL, 2, 0.5, &q), "tsrelu_event_quantile: times is NULL");
    ROW("EQ-3", TSRELU_ENONFINITE, tsrelu_event_quantile(t, 2, NAN, &q), "tsrelu_event_quantile: p is NaN");
    ROW("EQ-4", TSRELU_EINVAL, tsrelu_event_quantile(t, 2, 1.5, &q), "tsrelu_event_quantile: p=1.5 is not in [0, 1]");
    ROW("EQ-4", TSRELU_EINVAL, tsrelu_event_quantile(t, 2, -INFINITY, &q), "tsrelu_event_quantile: p=-inf");
    ROW("EQ-5", TSRELU_ENOMEM, tsrelu_event_quantile(t, SIZE_MAX, 0.5, &q), "tsrelu_event_quantile: n=",
        "overflows");
    ROW("EQ-6", TSRELU_OK, tsrelu_event_quantile(NULL, 0, 0.5, &q), "");
    ck_assert(isnan(q));

    ROW("EC-1", TSRELU_EINVAL, tsrelu_record_set_event_callback(NULL, 0, no_event, NULL),
        "tsrelu_record_set_event_callback: r is NULL");
    ROW("EC-3", TSRELU_EINVAL, tsrelu_record_set_event_callback(r, 0x21u, no_event, NULL),
        "tsrelu_record_set_event_callback: kinds=0x21 has bits outside the on-line kinds (0x1e)");
    ROW("EC-4", TSRELU_OK, tsrelu_record_set_event_callback(r, 0xffu, NULL, NULL), "");
    ROW("EH-1", TSRELU_EINVAL, tsrelu_record_set_event_threshold(NULL, TSRELU_EVENT_ALIGN, 0.1),
        "tsrelu_record_set_event_threshold: r is NULL");
    ROW("EH-3", TSRELU_EINVAL, tsrelu_record_set_event_threshold(r, TSRELU_EVENT_NORM, 0.1),
        "tsrelu_record_set_event_threshold: kind=5 has no threshold (ALIGN, MEAN or DEFICIT)");
    ROW("EH-4", TSRELU_ENONFINITE, tsrelu_record_set_event_threshold(r, TSRELU_EVENT_MEAN, INFINITY),
        "tsrelu_record_set_event_threshold: threshold=inf is not finite");
    ROW("EH-5", TSRELU_EINVAL, tsrelu_record_set_event_threshold(r, TSRELU_EVENT_DEFICIT, -1.0),
        "tsrelu_record_set_event_threshold: threshold=-1 must be > 0");
    ck_assert_int_eq(tsrelu_gd_set_observer(G, event_setters_from_observer, r, TSRELU_SCHEDULE_LINEAR, 1),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_run(G, 1), TSRELU_OK);
    tsrelu_record_free(r);
#undef ET
}
END_TEST

Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_teacher_create);
    tcase_add_test(tc, test_teacher_create_orthogonal);
    tcase_add_test(tc, test_teacher_getters);
    tcase_add_test(tc, test_student_create);
    tcase_add_test(tc, test_student_create_gaussian);
    tcase_add_test(tc, test_student_copy_and_getters);
    tcase_add_test(tc, test_student_setters);
    tcase_add_test(tc, test_student_create_weak_recovery);
    tcase_add_test(tc, test_teacher_create_gram);
    tcase_add_test(tc, test_loss);
    tcase_add_test(tc, test_loss_accurate);
    tcase_add_test(tc, test_gradient);
    tcase_add_test(tc, test_angles_nearest);
    tcase_add_test(tc, test_components);
    tcase_add_test(tc, test_deficit);
    tcase_add_test(tc, test_balance);
    tcase_add_test(tc, test_rate_fit);
    tcase_add_test(tc, test_gd_create);
    tcase_add_test(tc, test_gd_setters);
    tcase_add_test(tc, test_gd_step_run);
    tcase_add_test(tc, test_gd_getters);
    tcase_add_test(tc, test_batch);
    tcase_add_test(tc, test_record);
    tcase_add_test(tc, test_events);
    tcase_add_test(tc, test_status_text);
    suite_add_tcase(s, tc);
    return s;
}

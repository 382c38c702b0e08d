/* libFuzzer harness for the public API of libtsrelu.
 *
 * The input is a little program: a sequence of operations on a few handle
 * slots (two teachers, three students, two GD states, one batch), each
 * operation reading its arguments (sizes, values, buffer lengths, callback
 * behaviour) from the input bytes. Sizes are kept small so that one input
 * runs in milliseconds; deliberately huge sizes are used only where the
 * product in bytes overflows size_t, so the library must refuse them
 * (TSRELU_ENOMEM, or the error of an argument checked earlier) before
 * allocating or reading anything.
 *
 * Beyond the sanitizers, the harness aborts on every contract violation it
 * can see (FUZZ_CHECK): a status outside the set documented for the
 * function; an error that leaves tsrelu_last_error() empty or unchanged; a
 * NaN or failed loss from finite inputs within the documented norm range
 * (rows of norm 0 or in [1e-150, 1e150], |a|, |b| <= 16), or a loss further
 * than 1e-12 (sum |c||u|)^2 from the accurate one; a non-finite iterate
 * after TSRELU_EDIVERGED; a wrong iteration count or stop value after a run;
 * an observer called twice on one iterate, off its schedule, or with
 * non-finite data; a step callback given a non-finite gradient; a handle
 * holding a non-finite weight; a failing setter or step that changed the
 * state; a constructor error without *out = NULL; an accepted buffer length
 * other than the documented one; an accepted huge size. At the end of every
 * input, each live GD state (batch states included) must keep the
 * checkpoint promise: tsrelu_gd_save() returned OK => tsrelu_gd_load()
 * returns OK and the loaded state saves to the same bytes (files under
 * /dev/shm when it exists, so that fsync costs nothing). The theory
 * initialisers and the recorder (selector bytes 240..255) keep the bounds
 * stated above op_weak_recovery, op_gram and check_record (docs/fuzzing.md).
 *
 * Build: scripts/fuzz.sh (libFuzzer), or with -DFUZZ_STANDALONE for a plain
 * main() that replays the files named on its command line (valgrind). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, access, rmdir */
#include "tsrelu.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* scripts/fuzz.sh --explore builds with -DFUZZ_AVOID_KNOWN=0xff: inputs
 * that would hit a library bug already reported (and kept in
 * tests/fuzz/regressions/, see its README.md) are steered away from it, so
 * that a long run can find the next one. Each bug has a bit, so that a
 * reproducer of one can be minimised without drifting to another. The
 * normal build exercises everything. */
#ifndef FUZZ_AVOID_KNOWN
#define FUZZ_AVOID_KNOWN 0
#endif
/* No bug is open at the moment. The bits used so far, all fixed in
 * d2a649f and kept as regressions: 1 gaussian-sigma-overflow.bin,
 * 2 log-schedule-huge-param.bin, 4 step-nonfinite-gradient.bin and
 * gradient-norm-nan.bin. Give the next one bit 8:
 *   #define KNOWN_SOMETHING 8
 *   if (AVOID(KNOWN_SOMETHING) && <input that hits it>) <steer around it>; */
#define AVOID(bug) ((FUZZ_AVOID_KNOWN & (bug)) != 0)

#define FUZZ_CHECK(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_api.c:%d: contract violated: %s\n  ", __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fprintf(stderr, "\n  last_error: \"%s\"\n", tsrelu_last_error());        \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* ------------------------------------------------------------ the input */

typedef struct {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t u8(input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static uint64_t u64(input *in)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = x << 8 | u8(in);
    return x;
}

static unsigned pick(input *in, unsigned n)
{
    return u8(in) % n;
}

/* ----------------------------------------------------------- statuses */

#define B(s) (1u << ((s) + 8)) /* statuses -8 .. 2 as bits */
#define S_OK B(TSRELU_OK)
#define S_STOPPED B(TSRELU_STOPPED)
#define S_CONVERGED B(TSRELU_CONVERGED)
#define S_EINVAL B(TSRELU_EINVAL)
#define S_ENOMEM B(TSRELU_ENOMEM)
#define S_EDIM B(TSRELU_EDIM)
#define S_ENONFINITE B(TSRELU_ENONFINITE)
#define S_EDIVERGED B(TSRELU_EDIVERGED)
#define S_ELENGTH B(TSRELU_ELENGTH)
#define S_EIO B(TSRELU_EIO)

/* The documented sets (include/tsrelu.h, docs/api.md, docs/errors.md). */
#define SET_CREATE (S_OK | S_EINVAL | S_ENONFINITE | S_ENOMEM)
#define SET_COPY (S_OK | S_EINVAL | S_ENOMEM)
#define SET_GET (S_OK | S_EINVAL | S_ELENGTH)
#define SET_SET (S_OK | S_EINVAL | S_ELENGTH | S_ENONFINITE)
#define SET_LOSS (S_OK | S_EINVAL | S_EDIM | S_ENOMEM | S_ENONFINITE)
#define SET_GRAD (SET_LOSS | S_ELENGTH)
#define SET_ANGLES (S_OK | S_EINVAL | S_EDIM | S_ELENGTH)
#define SET_GROUPED (SET_ANGLES | S_ENOMEM)
#define SET_FIT (S_OK | S_EINVAL)
#define SET_GD_CREATE (S_OK | S_EINVAL | S_ENONFINITE | S_EDIM | S_ENOMEM)
#define SET_SET_FINITE (S_OK | S_EINVAL | S_ENONFINITE)
#define SET_PLAIN (S_OK | S_EINVAL)
#define SET_STEP (S_OK | S_STOPPED | S_EDIVERGED | S_EINVAL)
#define SET_RUN (SET_STEP | S_CONVERGED)
#define SET_GD_EVAL (S_OK | S_EINVAL | S_ENOMEM | S_ENONFINITE)
#define SET_BATCH_RUN (S_OK | S_STOPPED | S_EDIVERGED | S_EINVAL)
#define SET_SUMMARY (S_OK | S_EINVAL | S_ELENGTH)
#define SET_INIT (S_OK | S_EINVAL | S_ELENGTH | S_ENONFINITE | S_ENOMEM)
#define SET_REC_CREATE (S_OK | S_EINVAL | S_ENOMEM)
#define SET_REC_ATTACH (S_OK | S_EINVAL | S_EDIM)
#define SET_REC_CSV (S_OK | S_EINVAL | S_EIO)
#define SET_SAMPLING (S_OK | S_EINVAL | S_ENOMEM)
#define SET_TRAINING_SET (SET_SAMPLING | S_ELENGTH | S_ENONFINITE)

static int in_set(tsrelu_status s, unsigned set)
{
    return s >= -8 && s <= 2 && (set & B(s)) != 0;
}

/* A failing call with a message no fuzzed call can produce (no fuzzed
 * length is 987654321): after an error, the message must differ from it. */
static tsrelu_teacher *sentinel_teacher;
static char sentinel_msg[512];

static void sentinel(void)
{
    double x[1];
    if (tsrelu_teacher_weights(sentinel_teacher, x, 987654321) != TSRELU_ELENGTH)
        abort();
}

static tsrelu_status api_check(const char *call, int line, unsigned set, tsrelu_status st)
{
    FUZZ_CHECK(in_set(st, set), "line %d: %s returned %d (%s), not a documented status", line,
               call, st, tsrelu_status_name(st));
    if (st < 0) {
        const char *msg = tsrelu_last_error();
        FUZZ_CHECK(msg[0] != '\0', "line %d: %s failed with %s and an empty last_error", line,
                   call, tsrelu_status_name(st));
        FUZZ_CHECK(strcmp(msg, sentinel_msg) != 0,
                   "line %d: %s failed with %s without writing last_error", line, call,
                   tsrelu_status_name(st));
    }
    return st;
}

/* API(set, call): call with the sentinel in place, then check. */
#define API(set, call) api_check(#call, __LINE__, (set), (sentinel(), (call)))

/* ------------------------------------------------------------- values */

static double nice(input *in)
{
    return ((double)u8(in) - 128.0) / 32.0 + (double)u8(in) / 8192.0;
}

static double special(input *in)
{
    switch (pick(in, 20)) {
    case 0: return 0.0;
    case 1: return -0.0;
    case 2: return NAN;
    case 3: return -NAN;
    case 4: return INFINITY;
    case 5: return -INFINITY;
    case 6: return DBL_MAX;
    case 7: return -DBL_MAX;
    case 8: return DBL_MIN;
    case 9: return 4.9406564584124654e-324 * (double)(1 + u8(in)); /* subnormal */
    case 10: return 1e150;
    case 11: return -1e-150;
    case 12: return 1e300;
    case 13: return -1e-300;
    case 14: {
        uint64_t bits = u64(in);
        double x;
        memcpy(&x, &bits, sizeof x);
        return x;
    }
    case 15: return ldexp(nice(in), (int)(u8(in) % 221) * 10 - 1100);
    default: return nice(in);
    }
}

/* Fill x (rows of d) according to a mode byte. */
static void fill(input *in, double *x, size_t n, size_t d)
{
    unsigned mode = pick(in, 16);
    double scale = 1.0;
    if (mode == 7)
        scale = pow(10.0, (double)pick(in, 31) * 10.0 - 150.0); /* 1e-150 .. 1e150 */
    if (mode == 8)
        scale = pow(10.0, (double)(int)(u8(in) % 65) * 10.0 - 320.0);
    for (size_t i = 0; i < n; i++) {
        if (mode == 6)
            x[i] = 0.0;
        else if (mode == 9)
            x[i] = special(in);
        else
            x[i] = nice(in) * scale;
    }
    if (mode == 10 && n > 0)
        x[u8(in) % n] = special(in);
    if (mode == 11 && d > 0 && n >= d) /* zero a row */
        memset(x + (size_t)(u8(in) % (n / d)) * d, 0, d * sizeof(double));
    if ((mode == 12 || mode == 13) && d > 0 && n >= 2 * d) {
        /* (anti)parallel rows: row r = +-2^e row 0, optionally perturbed */
        for (size_t r = 1; r < n / d; r++) {
            double f = ldexp(mode == 12 ? 1.0 : -1.0, (int)pick(in, 9) - 4);
            double eps = pick(in, 2) ? pow(10.0, -(double)pick(in, 17)) : 0.0;
            for (size_t c = 0; c < d; c++)
                x[r * d + c] = f * x[c] + (c == 0 ? eps : 0.0);
        }
    }
}

/* ------------------------------------------------------------- sizes */

static const size_t huge_sizes[] = {
    SIZE_MAX, SIZE_MAX / 2 + 1, (size_t)1 << 62, (size_t)1 << 61,
    (size_t)1 << 32, ((size_t)1 << 32) + 1, SIZE_MAX / 3,
};

/* a * b * sizeof(double) overflows size_t (so a constructor must refuse it
 * without allocating). */
static int bytes_overflow(size_t a, size_t b)
{
    return a != 0 && b != 0 && (b > SIZE_MAX / a || a * b > SIZE_MAX / sizeof(double));
}

/* A pair of constructor sizes: usually small, sometimes 0 or huge. */
static void two_sizes(input *in, size_t *a, size_t *b, size_t max_a, size_t max_b)
{
    unsigned c = pick(in, 24);
    *a = 1 + pick(in, (unsigned)max_a);
    *b = 1 + pick(in, (unsigned)max_b);
    if (c == 0)
        *a = 0;
    else if (c == 1)
        *b = 0;
    else if (c == 2 || c == 3) {
        *a = huge_sizes[pick(in, 7)];
        if (c == 3)
            *b = huge_sizes[pick(in, 7)];
        if (!bytes_overflow(*a, *b))
            *b = SIZE_MAX; /* never ask for a real huge allocation */
    }
}

/* A buffer length: usually the right one. */
static size_t choose_len(input *in, size_t want)
{
    switch (pick(in, 16)) {
    case 0: return want ? want - 1 : 0;
    case 1: return want + 1;
    case 2: return 0;
    case 3: return SIZE_MAX;
    case 4: return 2 * want;
    default: return want;
    }
}

static double *alloc_doubles(size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    if (!x)
        abort();
    return x;
}

static int all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

/* -------------------------------------------------- handle invariants */

static void check_student_finite(const tsrelu_student *s, const char *what)
{
    size_t m = tsrelu_student_width(s), d = tsrelu_student_dim(s);
    double *W = alloc_doubles(m * d), *a = alloc_doubles(m);
    FUZZ_CHECK(tsrelu_student_weights(s, W, m * d) == TSRELU_OK, "%s: weights", what);
    FUZZ_CHECK(tsrelu_student_output_weights(s, a, m) == TSRELU_OK, "%s: output weights", what);
    for (size_t i = 0; i < m * d; i++)
        FUZZ_CHECK(isfinite(W[i]), "%s: the student holds W[%zu] = %g", what, i, W[i]);
    for (size_t i = 0; i < m; i++)
        FUZZ_CHECK(isfinite(a[i]), "%s: the student holds a[%zu] = %g", what, i, a[i]);
    free(W);
    free(a);
}

static void check_teacher_finite(const tsrelu_teacher *t, const char *what)
{
    size_t k = tsrelu_teacher_width(t), d = tsrelu_teacher_dim(t);
    double *V = alloc_doubles(k * d), *b = alloc_doubles(k);
    FUZZ_CHECK(tsrelu_teacher_weights(t, V, k * d) == TSRELU_OK, "%s: weights", what);
    FUZZ_CHECK(tsrelu_teacher_output_weights(t, b, k) == TSRELU_OK, "%s: output weights", what);
    for (size_t i = 0; i < k * d; i++)
        FUZZ_CHECK(isfinite(V[i]), "%s: the teacher holds V[%zu] = %g", what, i, V[i]);
    for (size_t j = 0; j < k; j++) {
        FUZZ_CHECK(isfinite(b[j]), "%s: the teacher holds b[%zu] = %g", what, j, b[j]);
        int nonzero = 0;
        for (size_t c = 0; c < d; c++)
            nonzero |= V[j * d + c] != 0.0;
        FUZZ_CHECK(nonzero, "%s: teacher neuron %zu is zero", what, j);
    }
    free(V);
    free(b);
}

/* Euclidean norm scaled by the largest entry (no spurious overflow or
 * underflow; no long double, which valgrind computes in double). Inf when
 * the norm exceeds DBL_MAX. */
static double norm_of(const double *x, size_t d)
{
    double scale = 0.0, ss = 0.0;
    for (size_t i = 0; i < d; i++)
        if (fabs(x[i]) > scale)
            scale = fabs(x[i]);
    if (scale == 0.0)
        return 0.0;
    for (size_t i = 0; i < d; i++)
        ss += (x[i] / scale) * (x[i] / scale);
    return scale * sqrt(ss);
}

/* The documented range: student rows 0 or of norm in [1e-150, 1e150],
 * teacher rows in that range, |a|, |b| <= 16. *S receives sum |c_n| |u_n|. */
static int rows_in_range(const double *X, const double *c, size_t n, size_t d, int zero_ok,
                         double *S)
{
    for (size_t r = 0; r < n; r++) {
        double nr = norm_of(X + r * d, d);
        if (!(fabs(c[r]) <= 16.0))
            return 0;
        if (nr == 0.0 && zero_ok)
            continue;
        if (!(nr >= 1e-150 && nr <= 1e150))
            return 0;
        *S += fabs(c[r]) * nr;
    }
    return 1;
}

static int pair_in_range(const tsrelu_student *s, const tsrelu_teacher *t, double *S)
{
    size_t m = tsrelu_student_width(s), k = tsrelu_teacher_width(t), d = tsrelu_student_dim(s);
    if (!s || !t || d != tsrelu_teacher_dim(t))
        return 0;
    double *W = alloc_doubles(m * d), *a = alloc_doubles(m);
    double *V = alloc_doubles(k * d), *b = alloc_doubles(k);
    double sum = 0.0;
    int ok = tsrelu_student_weights(s, W, m * d) == TSRELU_OK &&
             tsrelu_student_output_weights(s, a, m) == TSRELU_OK &&
             tsrelu_teacher_weights(t, V, k * d) == TSRELU_OK &&
             tsrelu_teacher_output_weights(t, b, k) == TSRELU_OK && all_finite(W, m * d) &&
             all_finite(a, m) && rows_in_range(W, a, m, d, 1, &sum) &&
             rows_in_range(V, b, k, d, 0, &sum);
    free(W);
    free(a);
    free(V);
    free(b);
    *S = sum;
    return ok;
}

/* Loss contract on a pair: deterministic, and within the documented norm
 * range finite, OK and close to the accurate loss. */
static void check_loss_pair(const tsrelu_student *s, const tsrelu_teacher *t)
{
    double L1 = NAN, L2 = NAN, La = NAN, S = 0.0;
    tsrelu_status st1 = API(SET_LOSS, tsrelu_loss(s, t, &L1));
    tsrelu_status st2 = API(SET_LOSS, tsrelu_loss(s, t, &L2));
    FUZZ_CHECK(st1 == st2, "tsrelu_loss: two calls returned %d and %d", st1, st2);
    if (st1 == TSRELU_OK) {
        FUZZ_CHECK(!isnan(L1), "tsrelu_loss returned OK with a NaN loss");
        FUZZ_CHECK(memcmp(&L1, &L2, sizeof L1) == 0, "tsrelu_loss is not deterministic: %a %a",
                   L1, L2);
    }
    tsrelu_status sta = API(SET_LOSS, tsrelu_loss_accurate(s, t, &La));
    if (sta == TSRELU_OK)
        FUZZ_CHECK(!isnan(La), "tsrelu_loss_accurate returned OK with a NaN loss");
    if (!pair_in_range(s, t, &S))
        return;
    FUZZ_CHECK(st1 == TSRELU_OK && isfinite(L1),
               "tsrelu_loss on finite inputs in the documented range: %s, L = %g",
               tsrelu_status_name(st1), L1);
    FUZZ_CHECK(sta == TSRELU_OK && isfinite(La),
               "tsrelu_loss_accurate on finite inputs in the documented range: %s, L = %g",
               tsrelu_status_name(sta), La);
    double tol = 1e-12 * S * S + 1e-300;
    FUZZ_CHECK(fabs(L1 - La) <= tol, "tsrelu_loss %.17g vs accurate %.17g: |diff| %.3g > %.3g "
               "(S = %.3g)", L1, La, fabs(L1 - La), tol, S);
    FUZZ_CHECK(La >= -tol, "accurate loss %.17g < 0", La);
}

/* ------------------------------------------------------------ state */

enum { NT = 2, NS = 3, NG = 2, NB = 3, NR = 2 };

typedef struct {
    int installed, sched, check_schedule, observed, calls, stop_at, stop_value, returned;
    uint64_t param, last, run_end;
    double loss_tol, grad_tol;
} obs_ctx;

typedef struct {
    int mode, at, value, calls, returned, train;
    size_t idx;
    double special;
    double *mom;
    size_t mom_len;
} step_ctx;

typedef struct {
    tsrelu_gd *gd;
    obs_ctx obs;
    step_ctx step;
} gd_slot;

static struct {
    tsrelu_teacher *t[NT];
    tsrelu_student *s[NS];
    gd_slot g[NG];
    tsrelu_batch *batch;
    gd_slot bslot[NB]; /* callback contexts of the batch's states (gd not owned) */
    tsrelu_record *rec[NR];
} F;

/* ------------------------------------------------------------ callbacks */

#define OBSERVER_BUDGET 64
#define STEP_BUDGET 256

static int is_log_point(uint64_t t, uint64_t P)
{
    if (t == 0)
        return 1;
    for (uint64_t j = 0; j < 64 * P; j++) {
        double x = ceil(pow(10.0, (double)j / (double)P));
        if (x >= (double)t)
            return x == (double)t;
    }
    return 0;
}

static int fz_observer(const tsrelu_gd *gd, void *ud)
{
    obs_ctx *c = ud;
    uint64_t it = tsrelu_gd_iteration(gd);
    FUZZ_CHECK(!(c->observed && it <= c->last), "observer: iterate %llu after %llu",
               (unsigned long long)it, (unsigned long long)c->last);
    c->observed = 1;
    c->last = it;
    c->calls++;
    double L = NAN, gn = NAN;
    FUZZ_CHECK(tsrelu_gd_loss(gd, &L) == TSRELU_OK && isfinite(L),
               "observer at %llu: loss %g not available or not finite", (unsigned long long)it, L);
    FUZZ_CHECK(tsrelu_gd_gradient_norm(gd, &gn) == TSRELU_OK && isfinite(gn),
               "observer at %llu: gradient norm %g", (unsigned long long)it, gn);
    check_student_finite(tsrelu_gd_student(gd), "observer view");
    if (c->check_schedule) {
        int sched = c->sched == TSRELU_SCHEDULE_LINEAR ? it % c->param == 0
                    : c->param <= 16                   ? is_log_point(it, c->param)
                                                       : 1;
        int done = (c->loss_tol > 0.0 && L <= c->loss_tol) ||
                   (c->grad_tol > 0.0 && gn <= c->grad_tol);
        FUZZ_CHECK(sched || it == c->run_end || done,
                   "observer at %llu: not scheduled (schedule %d, param %llu), not final (%llu), "
                   "not converged", (unsigned long long)it, c->sched,
                   (unsigned long long)c->param, (unsigned long long)c->run_end);
    }
    if (c->calls % 4 == 1) /* const functions on the views, as the docs allow */
        check_loss_pair(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd));
    int rv = 0;
    if (c->stop_at > 0 && c->calls >= c->stop_at)
        rv = c->stop_value;
    if (c->calls >= OBSERVER_BUDGET)
        rv = 99;
    c->returned = rv;
    return rv;
}

static int fz_step(const tsrelu_gd *gd, double *W, const double *gW, double *a, const double *ga,
                   void *ud)
{
    step_ctx *c = ud;
    const tsrelu_student *v = tsrelu_gd_student(gd);
    size_t m = tsrelu_student_width(v), d = tsrelu_student_dim(v), md = m * d;
    c->calls++;
    FUZZ_CHECK(all_finite(gW, md), "step callback got a non-finite gradient");
    FUZZ_CHECK((a == NULL) == (ga == NULL), "step callback: a and ga disagree");
    FUZZ_CHECK((a != NULL) == (tsrelu_gd_train_output(gd) != 0),
               "step callback: a given iff output training");
    if (ga)
        FUZZ_CHECK(all_finite(ga, m), "step callback got a non-finite dL/da");
    double *cur = alloc_doubles(md);
    FUZZ_CHECK(tsrelu_student_weights(v, cur, md) == TSRELU_OK, "step: view weights");
    FUZZ_CHECK(cur != W && memcmp(cur, W, md * sizeof(double)) == 0,
               "step callback: W is not a copy of the current iterate");
    free(cur);
    int rv = 0;
    double eta = tsrelu_gd_eta(gd);
    int now = c->calls == c->at;
    switch (c->mode) {
    case 0: /* plain gradient descent */
        for (size_t i = 0; i < md; i++)
            W[i] -= eta * gW[i];
        if (a)
            for (size_t i = 0; i < m; i++)
                a[i] -= eta * ga[i];
        break;
    case 1: /* refuse at call `at` */
        if (now)
            rv = c->value;
        break;
    case 2: /* write a special value */
        if (now && md > 0)
            W[c->idx % md] = c->special;
        if (now && a && c->idx & 1)
            a[c->idx % m] = c->special;
        break;
    case 3: /* blow the iterate up */
        if (now)
            for (size_t i = 0; i < md; i++)
                W[i] *= 1e300;
        break;
    case 4: /* heavy ball */
        if (c->mom_len != md) {
            free(c->mom);
            c->mom = calloc(md ? md : 1, sizeof(double));
            if (!c->mom)
                abort();
            c->mom_len = md;
        }
        for (size_t i = 0; i < md; i++) {
            c->mom[i] = 0.9 * c->mom[i] - eta * gW[i];
            W[i] += c->mom[i];
        }
        break;
    default: /* accept the iterate unchanged */
        break;
    }
    if (c->calls >= STEP_BUDGET)
        rv = 98;
    c->returned = rv;
    return rv;
}

/* ------------------------------------------------------------ helpers */

static tsrelu_student *any_student(input *in, const gd_slot **owner)
{
    unsigned c = pick(in, NS + NG + 1);
    *owner = NULL;
    if (c < NS)
        return F.s[c];
    if (c < NS + NG) {
        *owner = &F.g[c - NS];
        return (tsrelu_student *)tsrelu_gd_student(F.g[c - NS].gd);
    }
    return NULL;
}

static const tsrelu_teacher *any_teacher(input *in)
{
    unsigned c = pick(in, NT + NG + 1);
    if (c < NT)
        return F.t[c];
    if (c < NT + NG)
        return tsrelu_gd_teacher(F.g[c - NT].gd);
    return NULL;
}

static void free_gd_slot(gd_slot *g)
{
    tsrelu_gd_free(g->gd);
    free(g->step.mom);
    memset(g, 0, sizeof *g);
    g->step.mode = -1; /* no step callback */
}

/* ------------------------------------------------------------ checkpoints */

static char ck_dir[64];

static unsigned char *read_all(const char *p, size_t *n)
{
    FILE *f = fopen(p, "rb");
    FUZZ_CHECK(f != NULL, "cannot reopen %s", p);
    static unsigned char buf[2][1 << 20];
    static int which;
    unsigned char *b = buf[which ^= 1];
    *n = fread(b, 1, sizeof buf[0], f);
    FUZZ_CHECK(feof(f), "checkpoint %s larger than the harness buffer", p);
    fclose(f);
    return b;
}

/* save returned OK => load returns OK and saves to the same bytes.
 * Returns the loaded copy (the caller frees it), or NULL when save or load
 * ran out of memory. */
static tsrelu_gd *check_checkpoint(const tsrelu_gd *gd)
{
    if (!gd)
        return NULL;
    char p1[96], p2[96];
    snprintf(p1, sizeof p1, "%s/a", ck_dir);
    snprintf(p2, sizeof p2, "%s/b", ck_dir);
    tsrelu_status st = tsrelu_gd_save(gd, p1);
    FUZZ_CHECK(st == TSRELU_OK || st == TSRELU_ENOMEM, "save: %s", tsrelu_status_name(st));
    if (st != TSRELU_OK)
        return NULL;
    tsrelu_gd *g2 = NULL;
    st = tsrelu_gd_load(p1, &g2);
    FUZZ_CHECK(st == TSRELU_OK || st == TSRELU_ENOMEM, "save returned OK but load: %s",
               tsrelu_status_name(st));
    if (st != TSRELU_OK)
        return NULL;
    FUZZ_CHECK(tsrelu_gd_iteration(g2) == tsrelu_gd_iteration(gd), "loaded iteration");
    st = tsrelu_gd_save(g2, p2);
    FUZZ_CHECK(st == TSRELU_OK || st == TSRELU_ENOMEM, "save of the loaded state: %s",
               tsrelu_status_name(st));
    if (st == TSRELU_OK) {
        size_t n1, n2;
        const unsigned char *f1 = read_all(p1, &n1), *f2 = read_all(p2, &n2);
        FUZZ_CHECK(n1 == n2 && memcmp(f1, f2, n1) == 0, "save(load(file)) differs from file");
    }
    return g2;
}

/* For a sampling state (docs/sgd.md): g2, its copy loaded by
 * check_checkpoint (callbacks and recorder are not part of a checkpoint),
 * continues the stream bit for bit. Both run on with the plain update
 * (the original's callbacks and recorder removed: the copy has none, and
 * a sampled run evaluates the exact loss, which may find a diverged
 * iterate, only where an observer or a recorder reads it) and must end
 * with the same status, iterate, output weights and batch loss. */
static unsigned long resumed; /* sampling states checked (the replayer prints it) */

static void check_resume(tsrelu_gd *gd, tsrelu_gd *g2)
{
    size_t B = 0, n = 0;
    if (!gd || !g2 || tsrelu_gd_sampling(gd, &B, &n) != TSRELU_OK || B == 0)
        return;
    FUZZ_CHECK(tsrelu_gd_set_observer(gd, NULL, NULL, TSRELU_SCHEDULE_LINEAR, 1) == TSRELU_OK &&
               tsrelu_gd_set_step(gd, NULL, NULL) == TSRELU_OK &&
               tsrelu_gd_set_recorder(gd, NULL, TSRELU_SCHEDULE_LINEAR, 1) == TSRELU_OK,
               "removing the callbacks and the recorder");
    size_t B2 = 0, n2 = 0;
    FUZZ_CHECK(tsrelu_gd_sampling(g2, &B2, &n2) == TSRELU_OK && B2 == B && n2 == n,
               "loaded sampling (%zu, %zu), saved (%zu, %zu)", B2, n2, B, n);
    const tsrelu_student *v1 = tsrelu_gd_student(gd), *v2 = tsrelu_gd_student(g2);
    size_t m = tsrelu_student_width(v1), d = tsrelu_student_dim(v1);
    double *x = alloc_doubles(2 * (m * d + m)), *y = x + m * d + m;
    for (int round = 0; round < 2; round++) {
        tsrelu_status s1 = tsrelu_gd_run(gd, 3), s2 = tsrelu_gd_run(g2, 3);
        FUZZ_CHECK(s1 == s2, "resumed run: %s, uninterrupted: %s", tsrelu_status_name(s2),
                   tsrelu_status_name(s1));
        FUZZ_CHECK(tsrelu_gd_iteration(gd) == tsrelu_gd_iteration(g2), "resumed iteration");
        FUZZ_CHECK(tsrelu_student_weights(v1, x, m * d) == TSRELU_OK &&
                   tsrelu_student_weights(v2, y, m * d) == TSRELU_OK &&
                   tsrelu_student_output_weights(v1, x + m * d, m) == TSRELU_OK &&
                   tsrelu_student_output_weights(v2, y + m * d, m) == TSRELU_OK,
                   "weights of the resumed states");
        FUZZ_CHECK(memcmp(x, y, (m * d + m) * sizeof(double)) == 0,
                   "resumed sampling run (B = %zu, n = %zu) left the uninterrupted one", B, n);
        double l1 = 0.0, l2 = 0.0;
        tsrelu_status q1 = tsrelu_gd_sample_loss(gd, &l1), q2 = tsrelu_gd_sample_loss(g2, &l2);
        FUZZ_CHECK(q1 == q2 && memcmp(&l1, &l2, sizeof l1) == 0, "batch loss after resume: %g, %g",
                   l1, l2);
    }
    free(x);
    resumed++;
}

static void check_checkpoints(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(ck_dir, sizeof ck_dir, "%s/tsrelu_fuzz_XXXXXX", base);
    FUZZ_CHECK(mkdtemp(ck_dir) != NULL, "mkdtemp %s", ck_dir);
    for (int i = 0; i < NG; i++) {
        tsrelu_gd *g2 = check_checkpoint(F.g[i].gd);
        check_resume(F.g[i].gd, g2);
        tsrelu_gd_free(g2);
    }
    for (size_t i = 0; F.batch && i < tsrelu_batch_size(F.batch); i++)
        tsrelu_gd_free(check_checkpoint(tsrelu_batch_state(F.batch, i)));
    char p[96];
    snprintf(p, sizeof p, "%s/a", ck_dir);
    remove(p);
    snprintf(p, sizeof p, "%s/b", ck_dir);
    remove(p);
    rmdir(ck_dir);
}

static void reset_all(void)
{
    tsrelu_record_free(F.rec[0]); /* before its state; F.rec[1] after (both orders detach) */
    for (int i = 0; i < NG; i++)
        free_gd_slot(&F.g[i]);
    tsrelu_record_free(F.rec[1]);
    tsrelu_batch_free(F.batch);
    for (int i = 0; i < NB; i++) {
        free(F.bslot[i].step.mom);
        memset(&F.bslot[i], 0, sizeof F.bslot[i]);
        F.bslot[i].step.mode = -1;
    }
    for (int i = 0; i < NT; i++)
        tsrelu_teacher_free(F.t[i]);
    for (int i = 0; i < NS; i++)
        tsrelu_student_free(F.s[i]);
    memset(&F, 0, sizeof F);
}

/* ------------------------------------------------------------ operations */

static void op_teacher(input *in)
{
    int slot = pick(in, NT);
    tsrelu_teacher *t = (tsrelu_teacher *)&t;
    tsrelu_status st;
    size_t k, d;
    if (pick(in, 3) == 0) {
        two_sizes(in, &k, &d, 6, 16);
        if (pick(in, 4) == 0 && d < 64) /* k > d: EINVAL */
            k = d + 1 + pick(in, 3);
        double norm = pick(in, 4) ? nice(in) : special(in);
        st = API(SET_CREATE, tsrelu_teacher_create_orthogonal(k, d, norm, u64(in), &t));
    } else {
        two_sizes(in, &k, &d, 6, 16);
        int huge = k > 64 || d > 64;
        size_t n = huge ? 4 : k * d;
        double *V = alloc_doubles(n), *b = alloc_doubles(huge ? 1 : k);
        fill(in, V, n, huge ? 1 : d);
        int with_b = pick(in, 2);
        if (with_b)
            fill(in, b, huge ? 1 : k, 1);
        st = API(SET_CREATE, tsrelu_teacher_create(k, d, pick(in, 32) ? V : NULL,
                                                   with_b ? b : NULL, &t));
        free(V);
        free(b);
    }
    if (bytes_overflow(k, d)) /* refused before allocating (ENOMEM, or an earlier check) */
        FUZZ_CHECK(st != TSRELU_OK, "teacher of %zu x %zu accepted", k, d);
    if (st != TSRELU_OK) {
        FUZZ_CHECK(t == NULL, "teacher constructor failed without setting *out = NULL");
        return;
    }
    check_teacher_finite(t, "new teacher");
    tsrelu_teacher_free(F.t[slot]);
    F.t[slot] = t;
}

static void op_student(input *in)
{
    int slot = pick(in, NS);
    tsrelu_student *s = (tsrelu_student *)&s;
    tsrelu_status st;
    size_t m = 1, d = 1;
    unsigned how = pick(in, 4);
    if (how == 0) {
        two_sizes(in, &m, &d, 8, 16);
        double sigma = pick(in, 4) ? fabs(nice(in)) : special(in);
        st = API(SET_CREATE, tsrelu_student_create_gaussian(m, d, sigma, u64(in), &s));
    } else if (how == 1) {
        const gd_slot *owner;
        tsrelu_student *src = any_student(in, &owner);
        if (pick(in, 32) == 0) {
            (void)API(SET_COPY, tsrelu_student_copy(src, NULL));
            return;
        }
        st = API(SET_COPY, tsrelu_student_copy(src, &s));
    } else {
        two_sizes(in, &m, &d, 8, 16);
        int huge = m > 64 || d > 64;
        size_t n = huge ? 4 : m * d;
        double *W = alloc_doubles(n), *a = alloc_doubles(huge ? 1 : m);
        fill(in, W, n, huge ? 1 : d);
        int with_a = pick(in, 2);
        if (with_a)
            fill(in, a, huge ? 1 : m, 1);
        st = API(SET_CREATE, tsrelu_student_create(m, d, pick(in, 32) ? W : NULL,
                                                   with_a ? a : NULL, &s));
        free(W);
        free(a);
    }
    if (bytes_overflow(m, d)) /* refused before allocating (ENOMEM, or an earlier check) */
        FUZZ_CHECK(st != TSRELU_OK, "student of %zu x %zu accepted", m, d);
    if (st != TSRELU_OK) {
        FUZZ_CHECK(s == NULL, "student constructor failed without setting *out = NULL");
        return;
    }
    check_student_finite(s, "new student");
    tsrelu_student_free(F.s[slot]);
    F.s[slot] = s;
}

static void op_student_set(input *in)
{
    const gd_slot *owner;
    tsrelu_student *s = any_student(in, &owner);
    size_t m = tsrelu_student_width(s), d = tsrelu_student_dim(s);
    int which = pick(in, 2);
    size_t want = which ? m : m * d;
    size_t len = choose_len(in, want);
    double *x = alloc_doubles(want);
    fill(in, x, want, which ? 1 : d);
    double *before = alloc_doubles(m * d + m), *after = alloc_doubles(m * d + m);
    if (s) {
        FUZZ_CHECK(tsrelu_student_weights(s, before, m * d) == TSRELU_OK, "weights");
        FUZZ_CHECK(tsrelu_student_output_weights(s, before + m * d, m) == TSRELU_OK, "a");
    }
    double *arg = pick(in, 32) ? x : NULL;
    tsrelu_status st = which ? API(SET_SET, tsrelu_student_set_output_weights(s, arg, len))
                             : API(SET_SET, tsrelu_student_set_weights(s, arg, len));
    if (s && owner)
        FUZZ_CHECK(st == TSRELU_EINVAL, "a setter accepted the read-only view of a GD state");
    if (st == TSRELU_OK)
        FUZZ_CHECK(len == want && all_finite(x, want), "a setter accepted length %zu (want %zu) "
                   "or non-finite values", len, want);
    if (s) {
        FUZZ_CHECK(tsrelu_student_weights(s, after, m * d) == TSRELU_OK, "weights");
        FUZZ_CHECK(tsrelu_student_output_weights(s, after + m * d, m) == TSRELU_OK, "a");
        if (st != TSRELU_OK)
            FUZZ_CHECK(memcmp(before, after, (m * d + m) * sizeof(double)) == 0,
                       "a failing setter changed the student");
        else
            FUZZ_CHECK(memcmp(which ? after + m * d : after, x, want * sizeof(double)) == 0,
                       "a setter did not store the values");
    }
    free(x);
    free(before);
    free(after);
}

static void op_getters(input *in)
{
    if (pick(in, 2)) {
        const tsrelu_teacher *t = any_teacher(in);
        size_t k = tsrelu_teacher_width(t), d = tsrelu_teacher_dim(t);
        int which = pick(in, 2);
        size_t want = which ? k : k * d, len = choose_len(in, want);
        double *x = alloc_doubles(want);
        double *arg = pick(in, 32) ? x : NULL;
        tsrelu_status st = which ? API(SET_GET, tsrelu_teacher_output_weights(t, arg, len))
                                 : API(SET_GET, tsrelu_teacher_weights(t, arg, len));
        if (st == TSRELU_OK)
            FUZZ_CHECK(len == want, "teacher getter accepted length %zu, want %zu", len, want);
        free(x);
    } else {
        const gd_slot *owner;
        const tsrelu_student *s = any_student(in, &owner);
        size_t m = tsrelu_student_width(s), d = tsrelu_student_dim(s);
        int which = pick(in, 2);
        size_t want = which ? m : m * d, len = choose_len(in, want);
        double *x = alloc_doubles(want);
        double *arg = pick(in, 32) ? x : NULL;
        tsrelu_status st = which ? API(SET_GET, tsrelu_student_output_weights(s, arg, len))
                                 : API(SET_GET, tsrelu_student_weights(s, arg, len));
        if (st == TSRELU_OK)
            FUZZ_CHECK(len == want, "student getter accepted length %zu, want %zu", len, want);
        free(x);
    }
}

static void op_loss(input *in)
{
    const gd_slot *owner;
    const tsrelu_student *s = any_student(in, &owner);
    const tsrelu_teacher *t = any_teacher(in);
    unsigned what = pick(in, 3);
    if (what == 0) {
        check_loss_pair(s, t);
        return;
    }
    if (what == 1) {
        double L;
        (void)API(SET_LOSS, tsrelu_loss(s, t, pick(in, 16) ? &L : NULL));
        (void)API(SET_LOSS, tsrelu_loss_accurate(s, t, pick(in, 16) ? &L : NULL));
        return;
    }
    size_t m = tsrelu_student_width(s), d = tsrelu_student_dim(s);
    size_t gl = choose_len(in, m * d), al = choose_len(in, m);
    double *gW = alloc_doubles(m * d), *ga = alloc_doubles(m);
    int with_ga = pick(in, 2);
    double *gWarg = pick(in, 32) ? gW : NULL;
    tsrelu_status st = API(SET_GRAD, tsrelu_gradient(s, t, gWarg, gl, with_ga ? ga : NULL, al));
    if (st == TSRELU_OK) {
        FUZZ_CHECK(gl == m * d && (!with_ga || al == m), "tsrelu_gradient accepted lengths "
                   "%zu, %zu (want %zu, %zu)", gl, al, m * d, m);
        FUZZ_CHECK(all_finite(gW, m * d) && (!with_ga || all_finite(ga, m)),
                   "tsrelu_gradient returned OK with a non-finite entry");
    }
    double S;
    if (gWarg && gl == m * d && (!with_ga || al == m) && pair_in_range(s, t, &S))
        FUZZ_CHECK(st == TSRELU_OK, "tsrelu_gradient on finite inputs in the documented range: %s",
                   tsrelu_status_name(st));
    free(gW);
    free(ga);
}

static void fill_tau(input *in, int *tau, size_t m, size_t k)
{
    unsigned mode = pick(in, 4);
    for (size_t i = 0; i < m; i++) {
        if (mode == 0)
            tau[i] = (int)(u8(in) % (k + 1)) - 1; /* valid */
        else if (mode == 1)
            tau[i] = (int)(u8(in) % (k + 4)) - 2; /* sometimes out of range */
        else if (mode == 2)
            tau[i] = pick(in, 2) ? INT32_MIN : INT32_MAX;
        else
            tau[i] = -1;
    }
}

static void op_metrics(input *in)
{
    const gd_slot *owner;
    const tsrelu_student *s = any_student(in, &owner);
    const tsrelu_teacher *t = any_teacher(in);
    size_t m = tsrelu_student_width(s), k = tsrelu_teacher_width(t);
    int *tau = malloc((m ? m : 1) * sizeof(int)), *size = malloc((k ? k : 1) * sizeof(int));
    double *x = alloc_doubles(m * k), *y = alloc_doubles(m), *z = alloc_doubles(m);
    double *h = alloc_doubles(k), *p = alloc_doubles(k), *q = alloc_doubles(k);
    if (!tau || !size)
        abort();
    fill_tau(in, tau, m, k);
    const int *targ = pick(in, 3) ? tau : NULL;
    size_t tlen = choose_len(in, m);
    tsrelu_status st;
    size_t len;
    unsigned what = pick(in, 5);
    int grouped = what >= 2;
    switch (what) {
    case 0:
        len = choose_len(in, m * k);
        st = API(SET_ANGLES, tsrelu_angles(s, t, pick(in, 32) ? x : NULL, len));
        if (st == TSRELU_OK) {
            FUZZ_CHECK(len == m * k, "tsrelu_angles accepted length %zu", len);
            for (size_t i = 0; i < m * k; i++)
                FUZZ_CHECK(isnan(x[i]) || (x[i] >= 0.0 && x[i] <= 3.1415926535897936),
                           "angle %g outside [0, pi]", x[i]);
        }
        break;
    case 1:
        len = choose_len(in, m);
        st = API(SET_ANGLES, tsrelu_nearest_teacher(s, t, pick(in, 32) ? tau : NULL, len));
        if (st == TSRELU_OK) {
            FUZZ_CHECK(len == m, "tsrelu_nearest_teacher accepted length %zu", len);
            for (size_t i = 0; i < m; i++)
                FUZZ_CHECK(tau[i] >= -1 && tau[i] < (int)k, "nearest teacher %d", tau[i]);
        }
        break;
    case 2:
        len = choose_len(in, m);
        st = API(SET_GROUPED, tsrelu_components(s, t, targ, tlen, pick(in, 32) ? y : NULL,
                                                pick(in, 32) ? z : NULL, len));
        if (st == TSRELU_OK)
            FUZZ_CHECK(len == m && (!targ || tlen == m), "tsrelu_components accepted lengths");
        break;
    case 3:
        len = choose_len(in, k);
        st = API(SET_GROUPED, tsrelu_deficit(s, t, targ, tlen, pick(in, 32) ? h : NULL, len));
        if (st == TSRELU_OK)
            FUZZ_CHECK(len == k && (!targ || tlen == m), "tsrelu_deficit accepted lengths");
        break;
    default:
        len = choose_len(in, k);
        st = API(SET_GROUPED, tsrelu_balance(s, t, targ, tlen, pick(in, 32) ? size : NULL, h,
                                             pick(in, 32) ? p : NULL, q, len));
        if (st == TSRELU_OK) {
            FUZZ_CHECK(len == k && (!targ || tlen == m), "tsrelu_balance accepted lengths");
            size_t total = 0;
            for (size_t l = 0; l < k; l++)
                total += (size_t)size[l];
            FUZZ_CHECK(total <= m, "balance: group sizes add up to %zu > m = %zu", total, m);
        }
        break;
    }
    if (st == TSRELU_OK && targ && grouped) /* the given groups were validated */
        for (size_t i = 0; i < m; i++)
            FUZZ_CHECK(tau[i] >= -1 && tau[i] < (int)k, "accepted tau[%zu] = %d", i, tau[i]);
    free(tau);
    free(size);
    free(x);
    free(y);
    free(z);
    free(h);
    free(p);
    free(q);
}

static void op_rate_fit(input *in)
{
    size_t n = pick(in, 12);
    double *t = alloc_doubles(n), *L = alloc_doubles(n);
    for (size_t i = 0; i < n; i++) {
        t[i] = pick(in, 6) ? (double)(1 + u8(in)) : special(in);
        L[i] = pick(in, 6) ? pow(t[i], -3.0) * (1.0 + nice(in) / 64.0) : special(in);
    }
    double lo = pick(in, 4) ? 0.0 : special(in), hi = pick(in, 4) ? INFINITY : special(in);
    double slope, icpt;
    (void)API(SET_FIT, tsrelu_rate_fit(pick(in, 32) ? t : NULL, pick(in, 32) ? L : NULL, n, lo,
                                       hi, pick(in, 32) ? &slope : NULL,
                                       pick(in, 2) ? &icpt : NULL));
    free(t);
    free(L);
}

static void op_gd_create(input *in)
{
    gd_slot *g = &F.g[pick(in, NG)];
    const gd_slot *owner;
    const tsrelu_teacher *t = any_teacher(in);
    const tsrelu_student *s = any_student(in, &owner);
    double eta = pick(in, 4) ? fabs(nice(in)) / 16.0 : special(in);
    tsrelu_gd *gd = (tsrelu_gd *)&gd;
    if (pick(in, 32) == 0) {
        (void)API(SET_GD_CREATE, tsrelu_gd_create(t, s, eta, NULL));
        return;
    }
    tsrelu_status st = API(SET_GD_CREATE, tsrelu_gd_create(t, s, eta, &gd));
    if (st != TSRELU_OK) {
        FUZZ_CHECK(gd == NULL, "tsrelu_gd_create failed without setting *out = NULL");
        return;
    }
    FUZZ_CHECK(tsrelu_gd_iteration(gd) == 0 && tsrelu_gd_eta(gd) == eta, "fresh GD state");
    free_gd_slot(g); /* s may have been its view: gd holds a copy */
    g->gd = gd;
}

static void op_gd_set(input *in)
{
    gd_slot *g = &F.g[pick(in, NG)];
    tsrelu_gd *gd = pick(in, 16) ? g->gd : NULL;
    switch (pick(in, 4)) {
    case 0: {
        double old = tsrelu_gd_eta(gd), eta = pick(in, 3) ? fabs(nice(in)) / 8.0 : special(in);
        tsrelu_status st = API(SET_SET_FINITE, tsrelu_gd_set_eta(gd, eta));
        FUZZ_CHECK(tsrelu_gd_eta(gd) == (st == TSRELU_OK ? eta : old), "eta after set_eta");
        break;
    }
    case 1: {
        int on = pick(in, 3) ? (int)pick(in, 2) : (int)u64(in);
        if (API(SET_PLAIN, tsrelu_gd_set_train_output(gd, on)) == TSRELU_OK)
            FUZZ_CHECK(tsrelu_gd_train_output(gd) == (on != 0), "train_output getter");
        break;
    }
    case 2: {
        double lt = pick(in, 3) ? (pick(in, 2) ? 0.0 : pow(10.0, -(double)pick(in, 20)))
                                : special(in);
        double gt = pick(in, 3) ? (pick(in, 2) ? 0.0 : pow(10.0, -(double)pick(in, 20)))
                                : special(in);
        if (API(SET_PLAIN, tsrelu_gd_set_tolerances(gd, lt, gt)) == TSRELU_OK) {
            double a, b;
            FUZZ_CHECK(tsrelu_gd_tolerances(gd, &a, &b) == TSRELU_OK && a == lt && b == gt,
                       "tolerances getter");
            g->obs.loss_tol = lt;
            g->obs.grad_tol = gt;
        }
        break;
    }
    default: {
        double ea = pick(in, 3) ? nice(in) : special(in);
        double ed = pick(in, 3) ? nice(in) : special(in);
        (void)API(SET_SET_FINITE, tsrelu_gd_set_phase_thresholds(gd, ea, ed));
        break;
    }
    }
}

/* Sampling (docs/sgd.md): online SGD, a training set generated from a
 * seed, the caller's training set, or back to exact GD; batch sizes and
 * training-set sizes small, sometimes 0, larger than each other, beyond
 * INT_MAX or so large that their bytes overflow (refused before
 * allocating); nonzero flags refused. On success the getter reports the
 * sizes set, on failure the sampling is unchanged. */
static size_t sampling_size(input *in, size_t small)
{
    switch (pick(in, 16)) {
    case 0: return 0;
    case 1: return (size_t)INT32_MAX + 1 + pick(in, 2); /* beyond the BLAS int */
    case 2: return huge_sizes[pick(in, 7)];
    default: return 1 + pick(in, (unsigned)small);
    }
}

static void op_gd_sampling(input *in)
{
    gd_slot *g = &F.g[pick(in, NG)];
    tsrelu_gd *gd = pick(in, 16) ? g->gd : NULL;
    size_t B0 = 0, n0 = 0, B = sampling_size(in, 64), n = 0, d = 0;
    if (gd) {
        FUZZ_CHECK(tsrelu_gd_sampling(gd, &B0, &n0) == TSRELU_OK, "tsrelu_gd_sampling");
        d = tsrelu_student_dim(tsrelu_gd_student(gd));
    }
    uint64_t seed = pick(in, 4) ? u8(in) : u64(in);
    unsigned flags = pick(in, 16) ? 0u : 1u << pick(in, 32);
    tsrelu_status st;
    switch (pick(in, 4)) {
    case 0: /* online */
        st = API(SET_SAMPLING, tsrelu_gd_set_sampling(gd, B, 0, seed, flags));
        break;
    case 1: /* generated training set: usually n >= B */
        n = pick(in, 6) ? B + (B < 4096 ? pick(in, 65) : 0) : sampling_size(in, 64);
        if (n > 4096 && !bytes_overflow(n, d ? d : 1))
            n = 4096; /* never a real large allocation */
        st = API(SET_SAMPLING, tsrelu_gd_set_sampling(gd, B, n, seed, flags));
        break;
    case 2: { /* the caller's inputs */
        size_t rows = 1 + pick(in, 64), want = rows * (d ? d : 1);
        if (B > rows && pick(in, 4))
            B = 1 + B % rows;
        double *X = alloc_doubles(want);
        fill(in, X, want, d);
        size_t len = choose_len(in, want);
        if (len > want) /* X holds `want` doubles: shorter lengths only */
            len = want;
        n = d ? len / d : 0;
        st = API(SET_TRAINING_SET, tsrelu_gd_set_training_set(gd, pick(in, 32) ? X : NULL, len, B, seed, flags));
        free(X);
        break;
    }
    default: /* back to exact GD */
        B = 0;
        st = API(SET_SAMPLING, tsrelu_gd_set_sampling(gd, 0, 0, seed, flags));
        break;
    }
    if (!gd)
        return;
    size_t B1 = 0, n1 = 0;
    FUZZ_CHECK(tsrelu_gd_sampling(gd, &B1, &n1) == TSRELU_OK, "tsrelu_gd_sampling");
    if (st == TSRELU_OK)
        FUZZ_CHECK(B1 == B && n1 == n, "sampling set to (%zu, %zu), getter (%zu, %zu)", B, n, B1, n1);
    else
        FUZZ_CHECK(B1 == B0 && n1 == n0, "failed set_sampling changed (%zu, %zu) to (%zu, %zu)", B0, n0,
                   B1, n1);
}

static const uint64_t params[] = {1, 2, 3, 5, 7, 10, 16, TSRELU_LOG_MAX_PER_DECADE, 1000,
                                  1000000000ULL, UINT64_MAX, 0};

static void setup_observer(input *in, tsrelu_gd *gd, obs_ctx *c, int check_schedule)
{
    tsrelu_observer_fn fn = pick(in, 6) ? fz_observer : NULL;
    int sched = pick(in, 8) ? 1 + (int)pick(in, 2) : (int)u8(in) - 128;
    uint64_t param = params[pick(in, 12)];
    obs_ctx nc;
    memset(&nc, 0, sizeof nc);
    nc.sched = sched;
    nc.param = param;
    nc.check_schedule = check_schedule;
    nc.stop_at = pick(in, 2) ? 1 + pick(in, 8) : 0;
    nc.stop_value = pick(in, 2) ? 1 + (int)pick(in, 100) : (int)(u64(in) | 1);
    nc.loss_tol = c->loss_tol;
    nc.grad_tol = c->grad_tol;
    tsrelu_status st = API(SET_PLAIN, tsrelu_gd_set_observer(gd, fn, c, sched, param));
    if (gd && !fn)
        FUZZ_CHECK(st == TSRELU_OK, "removing the observer failed");
    if (st == TSRELU_OK) {
        nc.installed = fn != NULL;
        *c = nc;
    }
}

static void setup_step(input *in, tsrelu_gd *gd, step_ctx *c)
{
    tsrelu_step_fn fn = pick(in, 5) ? fz_step : NULL;
    if (API(SET_PLAIN, tsrelu_gd_set_step(gd, fn, c)) != TSRELU_OK)
        return;
    c->mode = fn ? (int)pick(in, 6) : -1;
    c->at = 1 + pick(in, 6);
    c->value = pick(in, 2) ? -1 - (int)pick(in, 50) : (int)(u64(in) | 1);
    c->idx = u8(in);
    c->special = special(in);
    c->calls = 0;
}

/* GD-state snapshot for "unchanged" checks. */
typedef struct {
    uint64_t it;
    double *W;
    size_t n;
} snapshot;

static snapshot snap(const tsrelu_gd *gd)
{
    const tsrelu_student *v = tsrelu_gd_student(gd);
    size_t m = tsrelu_student_width(v), d = tsrelu_student_dim(v);
    snapshot s = {tsrelu_gd_iteration(gd), alloc_doubles(m * d + m), m * d + m};
    FUZZ_CHECK(tsrelu_student_weights(v, s.W, m * d) == TSRELU_OK, "snapshot");
    FUZZ_CHECK(tsrelu_student_output_weights(v, s.W + m * d, m) == TSRELU_OK, "snapshot a");
    return s;
}

static int same_state(const tsrelu_gd *gd, const snapshot *s)
{
    snapshot now = snap(gd);
    int same = now.it == s->it && memcmp(now.W, s->W, s->n * sizeof(double)) == 0;
    free(now.W);
    return same;
}

static void check_after_run(const tsrelu_gd *gd, tsrelu_status st, const snapshot *before,
                            uint64_t end, const gd_slot *g, int is_step)
{
    uint64_t it = tsrelu_gd_iteration(gd);
    int stopper = g->obs.installed ? g->obs.returned : 0;
    if (stopper == 0 && g->step.mode >= 0)
        stopper = g->step.returned;
    if (st == TSRELU_EDIVERGED)
        check_student_finite(tsrelu_gd_student(gd), "state after TSRELU_EDIVERGED");
    if (is_step) {
        if (st == TSRELU_OK)
            FUZZ_CHECK(it == before->it + 1, "step: iteration %llu after %llu",
                       (unsigned long long)it, (unsigned long long)before->it);
        else
            FUZZ_CHECK(same_state(gd, before), "a failed or refused step changed the state");
    } else {
        FUZZ_CHECK(it >= before->it && it <= end, "run: iteration %llu outside [%llu, %llu]",
                   (unsigned long long)it, (unsigned long long)before->it,
                   (unsigned long long)end);
        if (st == TSRELU_OK)
            FUZZ_CHECK(it == end, "run returned OK at %llu, end %llu", (unsigned long long)it,
                       (unsigned long long)end);
    }
    if (st == TSRELU_STOPPED) {
        FUZZ_CHECK(tsrelu_gd_stop_value(gd) != 0 && tsrelu_gd_stop_value(gd) == stopper,
                   "stop value %d, callback returned %d", tsrelu_gd_stop_value(gd), stopper);
    } else {
        FUZZ_CHECK(tsrelu_gd_stop_value(gd) == 0, "stop value %d after %s",
                   tsrelu_gd_stop_value(gd), tsrelu_status_name(st));
    }
}

static void op_gd_callbacks(input *in)
{
    gd_slot *g = &F.g[pick(in, NG)];
    tsrelu_gd *gd = pick(in, 16) ? g->gd : NULL;
    if (pick(in, 2))
        setup_observer(in, gd, &g->obs, 1);
    else
        setup_step(in, gd, &g->step);
}

static void op_gd_advance(input *in)
{
    gd_slot *g = &F.g[pick(in, NG)];
    tsrelu_gd *gd = pick(in, 32) ? g->gd : NULL;
    if (!gd) {
        (void)API(SET_STEP, tsrelu_gd_step(NULL));
        (void)API(SET_RUN, tsrelu_gd_run(NULL, 3));
        return;
    }
    g->obs.returned = 0;
    g->step.returned = 0;
    snapshot before = snap(gd);
    if (pick(in, 3) == 0) {
        tsrelu_status st = API(SET_STEP, tsrelu_gd_step(gd));
        check_after_run(gd, st, &before, before.it + 1, g, 1);
    } else {
        uint64_t steps;
        switch (pick(in, 8)) {
        case 0: steps = 0; break;
        case 1: steps = UINT64_MAX - pick(in, 2); break;
        case 2: steps = (uint64_t)1 << 40; break;
        default: steps = pick(in, 40); break;
        }
        /* unbounded runs only where a callback is certain to stop them */
        int bounded = g->step.mode >= 0 || /* STEP_BUDGET */
                      (g->obs.installed && g->obs.sched == TSRELU_SCHEDULE_LINEAR &&
                       g->obs.param <= 16); /* OBSERVER_BUDGET */
        if (steps > 64 && !bounded)
            steps %= 64;
        uint64_t end = before.it + steps < before.it ? UINT64_MAX : before.it + steps;
        g->obs.run_end = end;
        tsrelu_status st = API(SET_RUN, tsrelu_gd_run(gd, steps));
        check_after_run(gd, st, &before, end, g, 0);
        if (st == TSRELU_OK || st == TSRELU_CONVERGED) {
            double L;
            FUZZ_CHECK(tsrelu_gd_loss(gd, &L) != TSRELU_OK || !isnan(L), "NaN loss after run");
        }
    }
    free(before.W);
}

/* Events (1.2) on a fresh state from gd's iterate: a recorder, an event
 * callback that checks its arguments (and may stop the run), then the
 * post-hoc functions with fuzzed kinds, modes, thresholds and lengths. */
typedef struct {
    size_t m, k;
    int stop_at, calls;
} event_ctx;

static int fuzz_event(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher, double time,
                      void *ud)
{
    event_ctx *c = ud;
    FUZZ_CHECK(kind >= TSRELU_EVENT_GROUP && kind <= TSRELU_EVENT_DEFICIT &&
                   (transition == TSRELU_EVENT_ENTERED || transition == TSRELU_EVENT_LEFT) &&
                   index < (kind == TSRELU_EVENT_DEFICIT ? c->k : c->m) && teacher >= -1 &&
                   teacher < (int)c->k && time == (double)tsrelu_gd_iteration(gd),
               "event kind %d transition %d index %zu teacher %d time %g", kind, transition, index, teacher,
               time);
    return c->calls++ == c->stop_at ? 3 : 0;
}

static void events_of(input *in, const tsrelu_gd *src)
{
    tsrelu_gd *gd;
    if (!src || tsrelu_gd_create(tsrelu_gd_teacher(src), tsrelu_gd_student(src), tsrelu_gd_eta(src), &gd) !=
                    TSRELU_OK)
        return;
    event_ctx c = {tsrelu_student_width(tsrelu_gd_student(gd)), tsrelu_teacher_width(tsrelu_gd_teacher(gd)),
                   pick(in, 4) ? -1 : (int)pick(in, 64), 0};
    tsrelu_record *r = NULL;
    if (API(S_OK | S_ENOMEM, tsrelu_record_create(gd, 1 + pick(in, 24), pick(in, 2), &r)) != TSRELU_OK) {
        tsrelu_gd_free(gd);
        return;
    }
    (void)API(SET_PLAIN, tsrelu_gd_set_recorder(gd, r, TSRELU_SCHEDULE_LOG, 1 + pick(in, 20)));
    (void)API(SET_PLAIN, tsrelu_record_set_event_callback(r, pick(in, 8) ? TSRELU_EVENT_ALL_ONLINE : u8(in),
                                                          fuzz_event, &c));
    for (int kind = TSRELU_EVENT_ALIGN; kind <= TSRELU_EVENT_DEFICIT; kind++)
        if (pick(in, 2))
            (void)API(SET_SET_FINITE, tsrelu_record_set_event_threshold(r, kind, pick(in, 2) ? nice(in) : special(in)));
    tsrelu_status st = API(SET_RUN, tsrelu_gd_run(gd, pick(in, 64)));
    FUZZ_CHECK(st != TSRELU_STOPPED || tsrelu_gd_stop_reason(gd) == TSRELU_STOP_EVENT, "stopped by %d",
               tsrelu_gd_stop_reason(gd));
    size_t n = tsrelu_record_size(r);
    uint64_t *it = malloc((n ? n : 1) * sizeof(uint64_t));
    if (!it)
        abort();
    FUZZ_CHECK(tsrelu_record_iterations(r, it, n) == TSRELU_OK, "iterations");
    for (int q = 0; q < 4; q++) {
        int kind = pick(in, 8), mode = pick(in, 5);
        size_t want = kind == TSRELU_EVENT_DEFICIT ? c.k : c.m, len = choose_len(in, want);
        double thr = pick(in, 2) ? fabs(nice(in)) : special(in), *t = alloc_doubles(want);
        if (API(S_OK | S_EINVAL | S_ENONFINITE | S_ELENGTH,
                tsrelu_record_event_times(pick(in, 32) ? r : NULL, kind, mode, thr, pick(in, 32) ? t : NULL,
                                          len)) == TSRELU_OK)
            for (size_t x = 0; x < want; x++) {
                int found = isnan(t[x]);
                for (size_t j = 0; j < n && !found; j++)
                    found = t[x] == (double)it[j];
                FUZZ_CHECK(found, "event time %g of item %zu is not a recorded iteration", t[x], x);
            }
        free(t);
    }
    size_t count = 0;
    if (API(S_OK | S_EINVAL, tsrelu_record_switches(r, NULL, 0, &count)) == TSRELU_OK) {
        size_t len = choose_len(in, 4 * count);
        double *sw = alloc_doubles(4 * count);
        (void)API(S_OK | S_EINVAL | S_ELENGTH, tsrelu_record_switches(r, sw, len, &count));
        free(sw);
    }
    double onset, slope;
    if (API(S_OK | S_EINVAL | S_ENONFINITE | S_ENOMEM,
            tsrelu_record_rate_onset(r, pick(in, 2) ? fabs(nice(in)) : special(in), &onset, &slope)) ==
            TSRELU_OK)
        FUZZ_CHECK(isnan(onset) || (onset >= 0 && onset <= (double)it[n ? n - 1 : 0]), "onset %g", onset);
    double ts[8], qv;
    for (int j = 0; j < 8; j++)
        ts[j] = pick(in, 2) ? nice(in) : special(in);
    (void)API(S_OK | S_EINVAL | S_ENONFINITE | S_ENOMEM,
              tsrelu_event_quantile(ts, pick(in, 9), pick(in, 2) ? nice(in) : special(in), &qv));
    free(it);
    if (pick(in, 2)) {
        tsrelu_record_free(r); /* before the state: detaches */
        tsrelu_gd_free(gd);
    } else {
        tsrelu_gd_free(gd);   /* the state first: the record stays readable */
        (void)API(S_OK | S_EINVAL, tsrelu_record_switches(r, NULL, 0, &count));
        tsrelu_record_free(r);
    }
}

static void op_gd_getters(input *in)
{
    gd_slot *g = &F.g[pick(in, NG)];
    const tsrelu_gd *gd = pick(in, 16) ? g->gd : NULL;
    double x;
    int64_t t1, t2;
    switch (pick(in, 6)) {
    case 0:
        if (API(SET_GD_EVAL, tsrelu_gd_loss(gd, pick(in, 16) ? &x : NULL)) == TSRELU_OK)
            FUZZ_CHECK(!isnan(x), "tsrelu_gd_loss: NaN");
        break;
    case 1:
        if (API(SET_GD_EVAL, tsrelu_gd_gradient_norm(gd, pick(in, 16) ? &x : NULL)) == TSRELU_OK)
            FUZZ_CHECK(!isnan(x), "tsrelu_gd_gradient_norm: NaN");
        break;
    case 2:
        if (API(SET_PLAIN, tsrelu_gd_phase_times(gd, pick(in, 2) ? &t1 : NULL,
                                                 pick(in, 2) ? &t2 : NULL)) == TSRELU_OK) {
            int ph = tsrelu_gd_phase(gd);
            FUZZ_CHECK(ph >= 1 && ph <= 3, "phase %d", ph);
        }
        break;
    case 3: {
        size_t m = tsrelu_student_width(tsrelu_gd_student(gd));
        size_t len = choose_len(in, m);
        int *tau = malloc((m ? m : 1) * sizeof(int));
        if (!tau)
            abort();
        tsrelu_status st = API(SET_GET, tsrelu_gd_groups(gd, pick(in, 2), pick(in, 32) ? tau : NULL,
                                                         len));
        if (st == TSRELU_OK)
            FUZZ_CHECK(len == m, "tsrelu_gd_groups accepted length %zu, want %zu", len, m);
        free(tau);
        FUZZ_CHECK(tsrelu_gd_group_switches(gd) <= m, "more switches than students");
        break;
    }
    case 4:
        events_of(in, gd);
        break;
    default: {
        double a, b;
        (void)API(SET_PLAIN, tsrelu_gd_tolerances(gd, pick(in, 2) ? &a : NULL,
                                                  pick(in, 2) ? &b : NULL));
        if (gd)
            check_loss_pair(tsrelu_gd_student(gd), tsrelu_gd_teacher(gd));
        break;
    }
    }
}

static void op_free(input *in)
{
    switch (pick(in, 4)) {
    case 0: {
        int i = pick(in, NT);
        tsrelu_teacher_free(F.t[i]);
        F.t[i] = NULL;
        break;
    }
    case 1: {
        int i = pick(in, NS);
        tsrelu_student_free(F.s[i]);
        F.s[i] = NULL;
        break;
    }
    case 2: /* a view: must be ignored */
        tsrelu_student_free((tsrelu_student *)tsrelu_gd_student(F.g[pick(in, NG)].gd));
        break;
    default:
        free_gd_slot(&F.g[pick(in, NG)]);
        break;
    }
}

static void op_batch(input *in)
{
    if (!F.batch || pick(in, 8) == 0) {
        tsrelu_batch_free(F.batch);
        F.batch = NULL;
        for (int i = 0; i < NB; i++) {
            free(F.bslot[i].step.mom);
            memset(&F.bslot[i], 0, sizeof F.bslot[i]);
            F.bslot[i].step.mode = -1;
        }
        tsrelu_batch *b = (tsrelu_batch *)&b;
        if (API(S_OK | S_EINVAL | S_ENOMEM, tsrelu_batch_create(pick(in, 32) ? &b : NULL)) !=
            TSRELU_OK)
            return;
        F.batch = b;
    }
    tsrelu_batch *b = pick(in, 32) ? F.batch : NULL;
    size_t n = tsrelu_batch_size(b);
    switch (pick(in, 4)) {
    case 0: {
        const gd_slot *owner;
        const tsrelu_teacher *t = any_teacher(in);
        const tsrelu_student *s = any_student(in, &owner);
        double eta = pick(in, 4) ? fabs(nice(in)) / 16.0 : special(in);
        uint64_t steps = pick(in, 64);
        size_t idx = 12345;
        if (n >= NB)
            return;
        tsrelu_status st = API(SET_GD_CREATE, tsrelu_batch_add(b, t, s, eta, steps,
                                                               pick(in, 2) ? &idx : NULL));
        if (st == TSRELU_OK) {
            FUZZ_CHECK(tsrelu_batch_size(b) == n + 1 && (idx == 12345 || idx == n),
                       "batch_add: size %zu, index %zu", tsrelu_batch_size(b), idx);
            gd_slot *bs = &F.bslot[n];
            bs->step.mode = -1;
            tsrelu_gd *gd = tsrelu_batch_state(b, n);
            FUZZ_CHECK(gd != NULL, "batch_state of a new run");
            if (pick(in, 2))
                setup_observer(in, gd, &bs->obs, 0);
            if (pick(in, 2))
                setup_step(in, gd, &bs->step);
            if (pick(in, 2))
                (void)API(SET_PLAIN, tsrelu_gd_set_train_output(gd, 1));
            if (pick(in, 4) == 0)
                (void)API(SET_PLAIN, tsrelu_gd_set_tolerances(gd, 1e-3, 0.0));
        }
        break;
    }
    case 1:
        (void)API(SET_PLAIN, tsrelu_batch_set_threads(b, pick(in, 4)));
        break;
    case 2: {
        tsrelu_status st = API(SET_BATCH_RUN, tsrelu_batch_run(b));
        if (st == TSRELU_EINVAL || !b)
            break;
        tsrelu_status first = TSRELU_OK;
        for (size_t i = 0; i < n; i++) {
            double sum[TSRELU_SUMMARY_LEN];
            FUZZ_CHECK(tsrelu_batch_summary(b, i, sum, TSRELU_SUMMARY_LEN) == TSRELU_OK,
                       "summary of run %zu", i);
            tsrelu_status rs = (tsrelu_status)sum[TSRELU_SUMMARY_STATUS];
            FUZZ_CHECK(in_set(rs, SET_RUN) && rs != TSRELU_EINVAL, "run %zu status %d", i, rs);
            tsrelu_gd *gd = tsrelu_batch_state(b, i);
            FUZZ_CHECK(sum[TSRELU_SUMMARY_ITERATION] == (double)tsrelu_gd_iteration(gd),
                       "summary iteration %g, state %llu", sum[TSRELU_SUMMARY_ITERATION],
                       (unsigned long long)tsrelu_gd_iteration(gd));
            if (rs == TSRELU_EDIVERGED)
                check_student_finite(tsrelu_gd_student(gd), "batch run after EDIVERGED");
            if (first == TSRELU_OK && rs != TSRELU_OK && rs != TSRELU_CONVERGED)
                first = rs;
        }
        FUZZ_CHECK(st == first, "batch_run returned %d, first failing run %d", st, first);
        break;
    }
    default: {
        size_t i = pick(in, 4);
        size_t len = pick(in, 4) ? TSRELU_SUMMARY_LEN - pick(in, 3) : choose_len(in, 12);
        double *sum = alloc_doubles(len <= 64 ? len : 1);
        tsrelu_status st = API(SET_SUMMARY, tsrelu_batch_summary(b, i, pick(in, 32) ? sum : NULL,
                                                                 len <= 64 ? len : SIZE_MAX));
        if (st == TSRELU_OK)
            FUZZ_CHECK(len >= 1 && len <= TSRELU_SUMMARY_LEN, "summary accepted length %zu", len);
        free(sum);
        break;
    }
    }
}

static void op_status(input *in)
{
    tsrelu_status s = pick(in, 2) ? (int)pick(in, 16) - 10 : (int)u64(in);
    const char *a = tsrelu_status_string(s), *b = tsrelu_status_name(s);
    FUZZ_CHECK(a && b && a[0] && strncmp(b, "TSRELU_", 7) == 0, "status text for %d", s);
    FUZZ_CHECK(tsrelu_version_number() == TSRELU_VERSION_NUMBER &&
               strcmp(tsrelu_version_string(), TSRELU_VERSION_STRING) == 0 &&
               tsrelu_summary_len() == TSRELU_SUMMARY_LEN, "version and constants");
}


/* ------------------------------------- theory initialisers and recorder
 * (selector bytes 240..255 of the main loop; docs/fuzzing.md "Byte layout") */

/* The angle between rows x and y of length d, stable near 0 and pi:
 * 2 atan2(|x^ - y^|, |x^ + y^|). */
static double angle_of(const double *x, const double *y, size_t d)
{
    double nx = norm_of(x, d), ny = norm_of(y, d), dm = 0.0, dp = 0.0;
    for (size_t c = 0; c < d; c++) {
        double u = x[c] / nx, v = y[c] / ny;
        dm += (u - v) * (u - v);
        dp += (u + v) * (u + v);
    }
    return 2.0 * atan2(sqrt(dm), sqrt(dp));
}

/* tsrelu_student_create_weak_recovery: on success every row has norm sigma
 * (relative error <= 1e-13) and angle zeta to its assigned teacher (error <=
 * 1e-12), a_i = 1, and the assignment follows counts (or i mod k), when
 * sigma and the teacher rows are in the documented range [1e-150, 1e150]. */
static void op_weak_recovery(input *in)
{
    int slot = pick(in, NS);
    const tsrelu_teacher *t = any_teacher(in);
    size_t k = t ? tsrelu_teacher_width(t) : 1, d = t ? tsrelu_teacher_dim(t) : 1;
    size_t m = 1 + pick(in, 8);
    switch (pick(in, 16)) {
    case 0: m = 0; break;
    case 1: /* huge: refused before allocating (never ask for a real huge allocation) */
        m = huge_sizes[pick(in, 7)];
        if (!bytes_overflow(m, d))
            m = SIZE_MAX;
        break;
    default: break;
    }
    size_t counts[8], *cp = NULL, counts_len = 0;
    if (pick(in, 2) && k <= 8) {
        size_t left = m > 64 ? 64 : m;
        for (size_t j = 0; j < k; j++) {
            counts[j] = j + 1 < k ? (left ? pick(in, (unsigned)left + 1) : 0) : left;
            left -= counts[j];
        }
        if (pick(in, 8) == 0)
            counts[pick(in, (unsigned)k)] += 1 + pick(in, 3); /* sum != m: EINVAL */
        cp = counts;
        counts_len = choose_len(in, k);
    }
    double zeta;
    switch (pick(in, 8)) {
    case 0: zeta = special(in); break;
    case 1: /* the ends: 0 and the first double above pi/2 are refused; M_PI / 2,
             * the largest double below pi/2, is in (0, pi/2) */
        zeta = (double[]){0.0, M_PI / 2, nextafter(M_PI / 2, 4.0)}[pick(in, 3)];
        break;
    case 2: zeta = ldexp(1.0, -(int)pick(in, 200)); break;  /* tiny angles */
    default: zeta = (1.0 + u8(in)) / 257.0 * (M_PI / 2); break;
    }
    double sigma = pick(in, 4) ? fabs(nice(in)) : special(in);
    if (pick(in, 4) == 0)
        sigma = pow(10.0, (double)pick(in, 31) * 10.0 - 150.0);
    int tau[64], *tp = pick(in, 2) ? tau : NULL; /* the library writes m <= 64 entries at most */
    size_t tau_len = tp ? choose_len(in, m) : 0;
    tsrelu_student *s = (tsrelu_student *)&s;
    tsrelu_status st = API(SET_INIT, tsrelu_student_create_weak_recovery(
                                         t, m, cp, counts_len, zeta, sigma, u64(in), tp, tau_len, &s));
    if (st != TSRELU_OK) {
        FUZZ_CHECK(s == NULL, "weak recovery failed without setting *out = NULL");
        return;
    }
    FUZZ_CHECK(t && m >= 1 && m <= 64 && d >= 2 && zeta > 0 && zeta <= M_PI / 2 && sigma > 0,
               "weak recovery accepted m=%zu d=%zu zeta=%a sigma=%g", m, d, zeta, sigma);
    FUZZ_CHECK(tsrelu_student_width(s) == m && tsrelu_student_dim(s) == d, "weak recovery shape");
    check_student_finite(s, "weak-recovery student");
    double *W = alloc_doubles(m * d), *a = alloc_doubles(m), *V = alloc_doubles(k * d);
    FUZZ_CHECK(tsrelu_student_weights(s, W, m * d) == TSRELU_OK &&
               tsrelu_student_output_weights(s, a, m) == TSRELU_OK &&
               tsrelu_teacher_weights(t, V, k * d) == TSRELU_OK, "weak recovery: read back");
    double one = 1.0, unused = 0.0;
    int teacher_ok = 1;
    for (size_t j = 0; j < k; j++)
        teacher_ok &= rows_in_range(V + j * d, &one, 1, d, 0, &unused);
    for (size_t i = 0, g = 0, in_g = 0; i < m; i++) {
        size_t l = i % k;
        if (cp) { /* consecutive groups; skip empty ones */
            while (in_g == counts[g]) {
                g++;
                in_g = 0;
            }
            l = g;
            in_g++;
        }
        FUZZ_CHECK(a[i] == 1.0, "weak recovery: a[%zu] = %g", i, a[i]);
        if (tp && tau_len == m)
            FUZZ_CHECK(tau[i] == (int)l, "weak recovery: tau[%zu] = %d, expected %zu", i, tau[i], l);
        if (!teacher_ok || !(sigma >= 1e-150 && sigma <= 1e150))
            continue;
        double nr = norm_of(W + i * d, d), th = angle_of(W + i * d, V + l * d, d);
        FUZZ_CHECK(fabs(nr / sigma - 1.0) <= 1e-13, "weak recovery: |w_%zu| = %.17g, sigma %.17g",
                   i, nr, sigma);
        FUZZ_CHECK(fabs(th - zeta) <= 1e-12, "weak recovery: angle(w_%zu, v_%zu) = %.17g, zeta "
                   "%.17g", i, l, th, zeta);
    }
    free(W);
    free(a);
    free(V);
    tsrelu_student_free(F.s[slot]);
    F.s[slot] = s;
}

/* tsrelu_teacher_create_gram: on success V V^T = G within
 * 64 (k + d) eps sqrt(G_ii G_jj) (G's diagonal in [1e-290, 1e290]), b as
 * given (1 when NULL), G = I gives the orthogonal teacher of the same seed
 * bit for bit, and an equiangular G with a margin is never refused. */
static void op_gram(input *in)
{
    int slot = pick(in, NT);
    size_t k = 1 + pick(in, 5), d = k + pick(in, 6);
    unsigned mode = pick(in, 8);
    if (pick(in, 16) == 0)
        d = k - 1; /* k > d (or d = 0): EINVAL */
    else if (pick(in, 32) == 0)
        k = huge_sizes[pick(in, 7)];
    size_t kk = k <= 8 ? k * k : 1;
    double G[64], b[8], n[8];
    int valid = 0; /* certainly symmetric positive definite, well inside the range */
    if (k <= 8) {
        if (mode <= 2) { /* equiangular: G_ij = n_i n_j cos(alpha) */
            double lo = k > 1 ? -1.0 / (double)(k - 1) : -1.0;
            double c = lo + (1.0 - lo) * (0.05 + 0.9 * u8(in) / 255.0);
            for (size_t i = 0; i < k; i++)
                n[i] = pow(10.0, (double)pick(in, 61) / 10.0 - 3.0); /* 1e-3 .. 1e3 */
            for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < k; j++)
                    G[i * k + j] = i == j ? n[i] * n[i] : n[i] * n[j] * c;
            valid = 1;
        } else if (mode == 3) { /* the identity */
            for (size_t i = 0; i < kk; i++)
                G[i] = i % (k + 1) == 0 ? 1.0 : 0.0;
            valid = 2;
        } else if (mode == 4) { /* A A^T, possibly singular or scaled to the extremes */
            double A[64];
            fill(in, A, k * k, k);
            for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < k; j++) {
                    double x = 0.0;
                    for (size_t c = 0; c < k; c++)
                        x += A[i * k + c] * A[j * k + c];
                    G[i * k + j] = x;
                }
            for (size_t i = 0; i < k; i++) /* exactly symmetric */
                for (size_t j = 0; j < i; j++)
                    G[i * k + j] = G[j * k + i];
        } else {
            fill(in, G, kk, k); /* anything: asymmetric, indefinite, special values */
        }
        if (mode <= 1 && pick(in, 8) == 0 && k > 1) /* break the symmetry by one ulp */
            G[1] = nextafter(G[1], INFINITY);
    }
    int with_b = pick(in, 2);
    if (with_b)
        fill(in, b, k <= 8 ? k : 1, 1);
    size_t G_len = choose_len(in, kk), b_len = with_b ? choose_len(in, k) : 0;
    uint64_t seed = u64(in);
    tsrelu_teacher *t = (tsrelu_teacher *)&t;
    tsrelu_status st = API(SET_INIT, tsrelu_teacher_create_gram(k, d, G, G_len, with_b ? b : NULL,
                                                                b_len, seed, &t));
    int exact_args = k <= 8 && d >= k && G_len == kk && (!with_b || (b_len == k && all_finite(b, k)));
    if (valid && exact_args && !(mode <= 1 && k > 1 && G[1] != G[k]))
        FUZZ_CHECK(st == TSRELU_OK, "a valid Gram matrix (mode %u, k=%zu, d=%zu) refused: %s", mode,
                   k, d, tsrelu_status_name(st));
    if (st != TSRELU_OK) {
        FUZZ_CHECK(t == NULL, "gram teacher failed without setting *out = NULL");
        return;
    }
    FUZZ_CHECK(exact_args, "gram teacher accepted k=%zu d=%zu G_len=%zu b_len=%zu", k, d, G_len,
               b_len);
    check_teacher_finite(t, "gram teacher");
    double V[8 * 16], bb[8];
    FUZZ_CHECK(tsrelu_teacher_weights(t, V, k * d) == TSRELU_OK &&
               tsrelu_teacher_output_weights(t, bb, k) == TSRELU_OK, "gram teacher: read back");
    for (size_t j = 0; j < k; j++)
        FUZZ_CHECK(bb[j] == (with_b ? b[j] : 1.0), "gram teacher: b[%zu] = %g", j, bb[j]);
    int in_range = 1;
    for (size_t i = 0; i < k; i++)
        in_range &= G[i * k + i] >= 1e-290 && G[i * k + i] <= 1e290;
    for (size_t i = 0; in_range && i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double x = 0.0;
            for (size_t c = 0; c < d; c++)
                x += V[i * d + c] * V[j * d + c];
            double tol = 64.0 * (double)(k + d) * DBL_EPSILON * sqrt(G[i * k + i]) * sqrt(G[j * k + j]);
            FUZZ_CHECK(fabs(x - G[i * k + j]) <= tol, "gram teacher: (V V^T)[%zu,%zu] = %.17g, G = "
                       "%.17g (tol %.3g)", i, j, x, G[i * k + j], tol);
        }
    if (valid == 2) {
        tsrelu_teacher *o = NULL;
        double Vo[8 * 16];
        FUZZ_CHECK(tsrelu_teacher_create_orthogonal(k, d, 1.0, seed, &o) == TSRELU_OK &&
                   tsrelu_teacher_weights(o, Vo, k * d) == TSRELU_OK &&
                   memcmp(V, Vo, k * d * sizeof(double)) == 0,
                   "gram teacher with G = I differs from the orthogonal teacher of seed %llu",
                   (unsigned long long)seed);
        tsrelu_teacher_free(o);
    }
    tsrelu_teacher_free(F.t[slot]);
    F.t[slot] = t;
}

static tsrelu_gd *any_gd(input *in)
{
    unsigned c = pick(in, NG + 2);
    if (c < NG)
        return F.g[c].gd;
    if (c == NG && F.batch && tsrelu_batch_size(F.batch) > 0)
        return tsrelu_batch_state(F.batch, u8(in) % tsrelu_batch_size(F.batch));
    return NULL;
}

/* Recorded rows: size <= capacity (== capacity when any were missed);
 * nearest in [-1, k), NaN angle and zero parts exactly for zero students,
 * angles in [0, pi], radial = |w| cos(angle), tangential = |w| sin(angle)
 * (within 1e-12 |w|), group sizes adding up to the non-zero students. */
static void check_record(const tsrelu_record *r, size_t m, size_t k, unsigned flags)
{
    size_t n = tsrelu_record_size(r), cap = tsrelu_record_capacity(r);
    FUZZ_CHECK(n <= cap && (tsrelu_record_missed(r) == 0 || n == cap),
               "record: size %zu, capacity %zu, missed %llu", n, cap,
               (unsigned long long)tsrelu_record_missed(r));
    if (n == 0 || n > 4096 || m * k > 4096)
        return;
    uint64_t *it = malloc(n * sizeof *it);
    double *L = alloc_doubles(n), *nr = alloc_doubles(n * m), *near = alloc_doubles(n * m);
    double *ang = alloc_doubles(n * m), *rad = alloc_doubles(n * m), *tan_ = alloc_doubles(n * m);
    double *gs = alloc_doubles(n * k);
    FUZZ_CHECK(it && tsrelu_record_iterations(r, it, n) == TSRELU_OK &&
               tsrelu_record_global(r, TSRELU_RECORD_LOSS, L, n) == TSRELU_OK &&
               tsrelu_record_student(r, TSRELU_RECORD_NORM, nr, n * m) == TSRELU_OK &&
               tsrelu_record_student(r, TSRELU_RECORD_NEAREST, near, n * m) == TSRELU_OK &&
               tsrelu_record_student(r, TSRELU_RECORD_ANGLE, ang, n * m) == TSRELU_OK &&
               tsrelu_record_student(r, TSRELU_RECORD_RADIAL, rad, n * m) == TSRELU_OK &&
               tsrelu_record_student(r, TSRELU_RECORD_TANGENTIAL, tan_, n * m) == TSRELU_OK &&
               tsrelu_record_teacher(r, TSRELU_RECORD_GROUP_SIZE, gs, n * k) == TSRELU_OK,
               "record: reading %zu rows", n);
    double *La = alloc_doubles(n);
    tsrelu_status sta = tsrelu_record_global(r, TSRELU_RECORD_LOSS_ACCURATE, La, n);
    free(La);
    FUZZ_CHECK(sta == ((flags & TSRELU_RECORD_ACCURATE_LOSS) ? TSRELU_OK : TSRELU_EINVAL),
               "record: the accurate loss with flags %#x: %s", flags, tsrelu_status_name(sta));
    for (size_t row = 0; row < n; row++) {
        FUZZ_CHECK(!isnan(L[row]), "record: row %zu (iteration %llu) has a NaN loss", row,
                   (unsigned long long)it[row]);
        double groups = 0.0, nonzero = 0.0;
        for (size_t l = 0; l < k; l++)
            groups += gs[row * k + l];
        for (size_t i = 0; i < m; i++) {
            size_t x = row * m + i;
            double w = nr[x], th = ang[x];
            FUZZ_CHECK(near[x] == floor(near[x]) && near[x] >= -1 && near[x] < (double)k,
                       "record: nearest %g", near[x]);
            nonzero += near[x] >= 0;
            if (!isfinite(w))
                continue; /* a diverging iterate: only its bookkeeping is checked */
            FUZZ_CHECK(w >= 0, "record: norm %g", w);
            if (near[x] < 0) {
                FUZZ_CHECK(w == 0 && isnan(th) && rad[x] == 0 && tan_[x] == 0,
                           "record: student %zu without a teacher: |w| %g angle %g", i, w, th);
                continue;
            }
            FUZZ_CHECK(th >= 0 && th <= M_PI, "record: angle %g", th);
            double tol = 1e-12 * w + 1e-300;
            FUZZ_CHECK(fabs(rad[x] - w * cos(th)) <= tol && fabs(tan_[x] - w * sin(th)) <= tol &&
                       tan_[x] >= 0, "record: radial %.17g tangential %.17g for |w| %.17g angle %.17g",
                       rad[x], tan_[x], w, th);
        }
        FUZZ_CHECK(groups == nonzero, "record: group sizes add up to %g, %g non-zero students",
                   groups, nonzero);
    }
    free(it);
    free(L);
    free(nr);
    free(near);
    free(ang);
    free(rad);
    free(tan_);
    free(gs);
}

static unsigned rec_flags[NR];

/* The m and k of a recorder (not exported): the one length its getters
 * accept (0 when it has no rows or they exceed the probe). */
static void rec_shape(const tsrelu_record *r, size_t *m, size_t *k)
{
    static double probe[64 * 64];
    size_t n = tsrelu_record_size(r);
    *m = *k = 0;
    for (size_t x = 1; n && x <= 64 && n * x <= 64 * 64; x++) {
        if (!*m && tsrelu_record_student(r, TSRELU_RECORD_NORM, probe, n * x) == TSRELU_OK)
            *m = x;
        if (!*k && tsrelu_record_teacher(r, TSRELU_RECORD_GROUP_SIZE, probe, n * x) == TSRELU_OK)
            *k = x;
    }
}

/* tsrelu_record_*: create, attach/detach, read with fuzzed lengths and
 * fields, write_csv (its line count), free; the runs are op_gd_advance's. */
static void op_record(input *in)
{
    int slot = pick(in, NR);
    tsrelu_record *r = F.rec[slot];
    switch (pick(in, 6)) {
    case 0: { /* create */
        tsrelu_gd *gd = any_gd(in);
        size_t cap = 1 + pick(in, 64);
        switch (pick(in, 8)) {
        case 0: cap = 0; break;
        case 1: cap = huge_sizes[pick(in, 7)]; break;
        default: break;
        }
        unsigned flags = pick(in, 2) ? TSRELU_RECORD_ACCURATE_LOSS : 0;
        if (pick(in, 16) == 0)
            flags = 1u << pick(in, 32);
        tsrelu_record *nr = (tsrelu_record *)&nr;
        tsrelu_status st = API(SET_REC_CREATE, tsrelu_record_create(gd, cap, flags, &nr));
        if (st != TSRELU_OK) {
            FUZZ_CHECK(nr == NULL, "record_create failed without setting *out = NULL");
            return;
        }
        FUZZ_CHECK(gd && cap >= 1 && cap <= 64 && (flags & ~TSRELU_RECORD_ACCURATE_LOSS) == 0,
                   "record_create accepted capacity %zu flags %#x", cap, flags);
        FUZZ_CHECK(tsrelu_record_size(nr) == 0 && tsrelu_record_capacity(nr) == cap &&
                   tsrelu_record_missed(nr) == 0, "a new recorder");
        tsrelu_record_free(r);
        F.rec[slot] = nr;
        rec_flags[slot] = flags;
        return;
    }
    case 1: { /* attach or detach */
        tsrelu_gd *gd = any_gd(in);
        int sched = pick(in, 8) ? 1 + (int)pick(in, 2) : (int)pick(in, 8) - 2;
        uint64_t param = pick(in, 8) ? 1 + pick(in, 20) : (pick(in, 2) ? 0 : UINT64_MAX);
        if (param == UINT64_MAX && sched == TSRELU_SCHEDULE_LINEAR)
            param = 0; /* a linear schedule that never fires is valid but useless */
        (void)API(SET_REC_ATTACH, tsrelu_gd_set_recorder(gd, pick(in, 4) ? r : NULL, sched, param));
        return;
    }
    case 2: { /* getters with fuzzed lengths and fields */
        size_t n = tsrelu_record_size(r), len;
        double buf[64 * 16];
        int field = (int)pick(in, 24);
        len = choose_len(in, n * (pick(in, 2) ? 1 : 8));
        if (len > 64 * 16)
            len = 0;
        (void)API(SET_GET, tsrelu_record_global(r, field, buf, len));
        (void)API(SET_GET, tsrelu_record_student(r, field, buf, len));
        (void)API(SET_GET, tsrelu_record_teacher(r, field, buf, len));
        uint64_t its[64];
        len = choose_len(in, n);
        (void)API(SET_GET, tsrelu_record_iterations(r, len <= 64 ? its : NULL, len <= 64 ? len : 0));
        return;
    }
    case 3: { /* the invariants of the stored rows */
        size_t m, k;
        rec_shape(r, &m, &k);
        if (m && k)
            check_record(r, m, k, rec_flags[slot]);
        return;
    }
    case 4: { /* write_csv: a header and size * m lines, or EIO */
        char path[128];
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        unsigned how = pick(in, 8);
        if (how == 0)
            snprintf(path, sizeof path, "%s/tsrelu_fuzz_no_such_dir/x/r.csv", base);
        else
            snprintf(path, sizeof path, "%s/tsrelu_fuzz_rec_%ld.csv", base, (long)getpid());
        tsrelu_status st = API(SET_REC_CSV, tsrelu_record_write_csv(r, how == 1 ? NULL : path));
        if (st == TSRELU_OK) {
            FUZZ_CHECK(r && how > 1, "write_csv accepted NULL or an impossible path");
            FILE *f = fopen(path, "r");
            FUZZ_CHECK(f != NULL, "write_csv: %s missing", path);
            size_t lines = 0;
            int c;
            while ((c = fgetc(f)) != EOF)
                lines += c == '\n';
            fclose(f);
            remove(path);
            size_t m, k, n = tsrelu_record_size(r);
            rec_shape(r, &m, &k);
            if (n == 0 || m)
                FUZZ_CHECK(n == 0 ? lines == 1 : lines == 1 + n * m,
                           "write_csv: %zu lines for %zu rows of %zu students", lines, n, m);
        }
        return;
    }
    default: /* free (possibly while attached) */
        tsrelu_record_free(r);
        F.rec[slot] = NULL;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sentinel_teacher) {
        double v[1] = {1.0};
        if (tsrelu_teacher_create(1, 1, v, NULL, &sentinel_teacher) != TSRELU_OK)
            abort();
        sentinel();
        snprintf(sentinel_msg, sizeof sentinel_msg, "%s", tsrelu_last_error());
    }
    input in = {data, size};
    memset(&F, 0, sizeof F);
    for (int i = 0; i < NG; i++)
        F.g[i].step.mode = -1;
    for (int ops = 0; ops < 48 && in.n > 0; ops++) {
        unsigned op = u8(&in);
        if (op >= 240) { /* added in 1.2; below 240 the decoding of older inputs is unchanged */
            if (op < 245)
                op_weak_recovery(&in);
            else if (op < 250)
                op_gram(&in);
            else if (op < 253)
                op_record(&in);
            else
                op_gd_sampling(&in);
            continue;
        }
        switch (op % 15) {
        case 0: op_teacher(&in); break;
        case 1: op_student(&in); break;
        case 2: op_student_set(&in); break;
        case 3: op_getters(&in); break;
        case 4: op_loss(&in); break;
        case 5: op_metrics(&in); break;
        case 6: op_rate_fit(&in); break;
        case 7: op_gd_create(&in); break;
        case 8: op_gd_set(&in); break;
        case 9: op_gd_callbacks(&in); break;
        case 10: case 11: op_gd_advance(&in); break;
        case 12: op_gd_getters(&in); break;
        case 13: pick(&in, 4) ? op_batch(&in) : op_free(&in); break;
        default: op_status(&in); break;
        }
    }
    check_checkpoints();
    reset_all();
    return 0;
}

#ifdef FUZZ_STANDALONE
/* Replay the files named on the command line (no libFuzzer). */
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        static uint8_t buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("replayed %d inputs (%lu sampling states resumed from a checkpoint)\n", argc - 1, resumed);
    return 0;
}
#endif

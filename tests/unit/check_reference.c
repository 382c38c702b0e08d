/* Check suite: the library against high-precision reference values.
 *
 * tests/data/reference/configs.txt, subnormal.txt and late_gd.txt hold inputs
 * (exact doubles) and the loss, dL/dW and dL/da computed by mpmath at 80 digits
 * (tests/data/reference/generate.py; format in tests/data/reference/README.md). The data
 * folder is $TSRELU_TEST_DATA, else tests/data/reference (run from the repo root).
 *
 * Bounds, with U = [W; V], c = [a; -b] and T = sum_n |c_n| |u_n|:
 *   dL/dW    max abs error <= 1e-14 S,       S = max_i |a_i| T
 *   dL/da_i  abs error     <= 1e-14 S_a,i,   S_a,i = |w_i| T
 *   loss     abs error     <= 1e-15 S_L,     S_L = T^2
 *   accurate loss: relative error <= 1e-8 when L >= 1e-24 S_L, else abs
 *            error <= 1e-32 S_L (the same bound at L = 1e-24 S_L).
 * Every absolute bound also allows F = (m + k + d + 1) 2^-1074, the
 * underflow floor: a result that is itself subnormal (subnormal.txt: the
 * dL/da_i of a tiny row, every value of an all-tiny network) is rounded to
 * multiples of 2^-1074 whatever its scale, and an entry comes from at most
 * 2 (m + k + d + 1) operations, each off by at most half of that spacing.
 * In configs.txt and late_gd.txt F is at most 1e-8 of every bound but one:
 * 1e-32 S_L of ext-zero-loss-1e-150 underflows to 0 (S_L ~ 1e-300), so the
 * accurate loss there, exactly 0 as before, may now be off by F.
 * Zero student neurons must get exactly zero gradient rows and dL/da_i.
 * The "core" test prints a per-class table of the largest error in units of
 * each bound (docs/numerics.md quotes it). */
#include "suites.h"
#include "fixtures.h"

#include "tsrelu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GRAD_BOUND 1e-14
#define LOSS_BOUND 1e-15
#define ACC_REL_BOUND 1e-8
#define ACC_REL_FLOOR 1e-24 /* relative bound applies when L >= this * S_L */
#define ACC_ABS_BOUND (ACC_REL_BOUND * ACC_REL_FLOOR)
#define GD_ANGLE 1e-6

/* ------------------------------------------------------------ data files */

typedef struct {
    char name[96], cls[32];
    size_t m, k, d;
    double *W, *a, *V, *b; /* inputs */
    double loss, *gW, *ga; /* reference values */
} ref_config;

typedef struct {
    ref_config *c;
    size_t n, cap;
    int has_gd;
    size_t gd_k, gd_m, gd_d;
    double gd_vnorm, gd_sigma, gd_eta;
    unsigned long long gd_tseed, gd_sseed, gd_max;
    char err[1400];
} ref_set;

static void ref_set_free(ref_set *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        ref_config *c = &rs->c[i];
        free(c->W);
        free(c->a);
        free(c->V);
        free(c->b);
        free(c->gW);
        free(c->ga);
    }
    free(rs->c);
    memset(rs, 0, sizeof *rs);
}

/* Next whitespace-separated token, skipping '#' comments to end of line. */
static int next_token(FILE *f, char *buf, size_t len)
{
    int ch;
    for (;;) {
        do
            ch = fgetc(f);
        while (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r');
        if (ch == EOF)
            return 0;
        if (ch != '#')
            break;
        while (ch != '\n' && ch != EOF)
            ch = fgetc(f);
    }
    size_t n = 0;
    while (ch != EOF && ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r') {
        if (n + 1 < len)
            buf[n++] = (char)ch;
        ch = fgetc(f);
    }
    buf[n] = '\0';
    return 1;
}

static int expect(FILE *f, const char *word, ref_set *rs)
{
    char tok[128];
    if (!next_token(f, tok, sizeof tok) || strcmp(tok, word) != 0) {
        snprintf(rs->err, sizeof rs->err, "expected '%s' in config #%zu", word, rs->n);
        return 0;
    }
    return 1;
}

static int read_doubles(FILE *f, double *x, size_t n, ref_set *rs)
{
    char tok[128];
    for (size_t i = 0; i < n; i++) {
        char *end;
        if (!next_token(f, tok, sizeof tok)) {
            snprintf(rs->err, sizeof rs->err, "end of file in config #%zu", rs->n);
            return 0;
        }
        x[i] = strtod(tok, &end);
        if (end == tok || *end != '\0') {
            snprintf(rs->err, sizeof rs->err, "bad number '%s' in config #%zu", tok, rs->n);
            return 0;
        }
    }
    return 1;
}

static int read_size(FILE *f, size_t *out, ref_set *rs)
{
    double x;
    if (!read_doubles(f, &x, 1, rs))
        return 0;
    if (!(x >= 0 && x < 1e9) || x != floor(x)) {
        snprintf(rs->err, sizeof rs->err, "bad size %g in config #%zu", x, rs->n);
        return 0;
    }
    *out = (size_t)x;
    return 1;
}

static double *alloc_doubles(size_t n)
{
    return malloc((n ? n : 1) * sizeof(double));
}

static int read_config(FILE *f, ref_config *c, ref_set *rs)
{
    char tok[128];
    if (!next_token(f, c->name, sizeof c->name) || !next_token(f, c->cls, sizeof c->cls) ||
        !read_size(f, &c->m, rs) || !read_size(f, &c->k, rs) || !read_size(f, &c->d, rs))
        return 0;
    size_t m = c->m, k = c->k, d = c->d;
    c->W = alloc_doubles(m * d);
    c->a = alloc_doubles(m);
    c->V = alloc_doubles(k * d);
    c->b = alloc_doubles(k);
    c->gW = alloc_doubles(m * d);
    c->ga = alloc_doubles(m);
    if (!c->W || !c->a || !c->V || !c->b || !c->gW || !c->ga) {
        snprintf(rs->err, sizeof rs->err, "out of memory");
        return 0;
    }
    if (!expect(f, "W", rs) || !read_doubles(f, c->W, m * d, rs) || !expect(f, "a", rs) ||
        !read_doubles(f, c->a, m, rs) || !expect(f, "V", rs) ||
        !read_doubles(f, c->V, k * d, rs) || !expect(f, "b", rs) ||
        !read_doubles(f, c->b, k, rs) || !expect(f, "loss", rs) ||
        !read_doubles(f, &c->loss, 1, rs) || !expect(f, "gW", rs) ||
        !read_doubles(f, c->gW, m * d, rs) || !expect(f, "ga", rs) ||
        !read_doubles(f, c->ga, m, rs))
        return 0;
    if (!next_token(f, tok, sizeof tok) || strcmp(tok, "end") != 0) {
        snprintf(rs->err, sizeof rs->err, "config %s does not end with 'end'", c->name);
        return 0;
    }
    return 1;
}

static int read_gd(FILE *f, ref_set *rs)
{
    double x[9];
    if (!read_doubles(f, x, 9, rs))
        return 0;
    rs->has_gd = 1;
    rs->gd_k = (size_t)x[0];
    rs->gd_m = (size_t)x[1];
    rs->gd_d = (size_t)x[2];
    rs->gd_vnorm = x[3];
    rs->gd_tseed = (unsigned long long)x[4];
    rs->gd_sigma = x[5];
    rs->gd_sseed = (unsigned long long)x[6];
    rs->gd_eta = x[7];
    rs->gd_max = (unsigned long long)x[8];
    return 1;
}

/* Loads `file` from the data folder; on failure rs->err says why. */
static int ref_set_load(const char *file, ref_set *rs)
{
    memset(rs, 0, sizeof *rs);
    const char *dir = getenv("TSRELU_TEST_DATA");
    if (!dir || !*dir)
        dir = "tests/data/reference";
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(rs->err, sizeof rs->err, "cannot open %s (set TSRELU_TEST_DATA)", path);
        return 0;
    }
    char tok[128];
    int ok = 1;
    while (ok && next_token(f, tok, sizeof tok)) {
        if (strcmp(tok, "gd") == 0) {
            ok = read_gd(f, rs);
            continue;
        }
        if (strcmp(tok, "config") != 0) {
            snprintf(rs->err, sizeof rs->err, "%s: unexpected '%s' after config %zu", path, tok,
                     rs->n);
            ok = 0;
            break;
        }
        if (rs->n == rs->cap) {
            size_t cap = rs->cap ? 2 * rs->cap : 64;
            ref_config *c = realloc(rs->c, cap * sizeof *c);
            if (!c) {
                snprintf(rs->err, sizeof rs->err, "out of memory");
                ok = 0;
                break;
            }
            rs->c = c;
            rs->cap = cap;
        }
        memset(&rs->c[rs->n], 0, sizeof rs->c[rs->n]);
        rs->n++; /* counted even on failure, so that it is freed */
        ok = read_config(f, &rs->c[rs->n - 1], rs);
    }
    fclose(f);
    if (ok && rs->n == 0) {
        snprintf(rs->err, sizeof rs->err, "%s holds no configuration", path);
        ok = 0;
    }
    return ok;
}

/* ------------------------------------------------------------ evaluation */

/* Euclidean norm with scaling (components range over 1e-150 .. 1e150). */
static double norm_scaled(const double *x, size_t d)
{
    double scale = 0.0;
    for (size_t i = 0; i < d; i++)
        if (fabs(x[i]) > scale)
            scale = fabs(x[i]);
    if (scale == 0.0)
        return 0.0;
    long double ss = 0.0L;
    for (size_t i = 0; i < d; i++) {
        long double y = (long double)x[i] / scale;
        ss += y * y;
    }
    return scale * (double)sqrtl(ss);
}

/* Angle between two non-zero vectors, 2 atan2(|u^ - v^|, |u^ + v^|). */
static double angle(const double *u, const double *v, size_t d)
{
    double nu = norm_scaled(u, d), nv = norm_scaled(v, d);
    long double dm = 0.0L, dp = 0.0L;
    for (size_t i = 0; i < d; i++) {
        long double x = (long double)u[i] / nu, y = (long double)v[i] / nv;
        dm += (x - y) * (x - y);
        dp += (x + y) * (x + y);
    }
    return (double)(2.0L * atan2l(sqrtl(dm), sqrtl(dp)));
}

/* E_LOSS_REL (relative error of the double loss where L >= 1e-24 S_L) is
 * information for docs/numerics.md, not a requirement. */
enum { E_GW, E_GA, E_LOSS, E_ACC_REL, E_ACC_ABS, E_LOSS_REL, E_COUNT };

static const char *const err_label[E_COUNT] = {
    "dL/dW 1e-14 S", "dL/da 1e-14 S_a", "loss 1e-15 S_L", "acc rel 1e-8", "acc abs 1e-32 S_L",
    "(loss rel)",
};

typedef struct {
    char cls[32];
    size_t n;
    double worst[E_COUNT]; /* largest error in units of the bound; -1 = none */
    char worst_name[E_COUNT][96];
} class_stats;

typedef struct {
    class_stats cls[32];
    size_t ncls;
    size_t nfail;
    char fails[1536];
    double seconds;
} ref_report;

static class_stats *stats_for(ref_report *r, const char *cls)
{
    for (size_t i = 0; i < r->ncls; i++)
        if (strcmp(r->cls[i].cls, cls) == 0)
            return &r->cls[i];
    if (r->ncls == sizeof r->cls / sizeof r->cls[0])
        return &r->cls[r->ncls - 1];
    class_stats *s = &r->cls[r->ncls++];
    memset(s, 0, sizeof *s);
    snprintf(s->cls, sizeof s->cls, "%s", cls);
    for (int e = 0; e < E_COUNT; e++)
        s->worst[e] = -1.0;
    return s;
}

/* Records `ratio` (error / bound; > 1 fails) for error kind e. */
static void record(ref_report *r, class_stats *s, int e, const char *name, double ratio)
{
    if (!(ratio <= s->worst[e])) {
        s->worst[e] = ratio;
        snprintf(s->worst_name[e], sizeof s->worst_name[e], "%s", name);
    }
    if (ratio <= 1.0 || e == E_LOSS_REL)
        return;
    size_t len = strlen(r->fails);
    if (r->nfail < 8 && len < sizeof r->fails - 1)
        snprintf(r->fails + len, sizeof r->fails - len, "[%s: %s error = %.3g x bound] ", name,
                 err_label[e], ratio);
    r->nfail++;
}

/* error / (unit * scale + floor); an exact 0 is required when both are 0. */
static double ratio_of(double err, double scale, double unit, double floor)
{
    double bound = unit * scale + floor;
    if (bound == 0.0)
        return err == 0.0 ? 0.0 : INFINITY;
    return err / bound;
}

static void evaluate_config(const ref_config *c, ref_report *r)
{
    size_t m = c->m, k = c->k, d = c->d;
    class_stats *s = stats_for(r, c->cls);
    s->n++;
    tsrelu_teacher *t = NULL;
    tsrelu_student *st = NULL;
    double *gW = alloc_doubles(m * d), *ga = alloc_doubles(m);
    ck_assert_msg(gW && ga, "out of memory");
    ck_assert_msg(tsrelu_teacher_create(k, d, c->V, c->b, &t) == TSRELU_OK, "%s: teacher: %s",
                  c->name, tsrelu_last_error());
    ck_assert_msg(tsrelu_student_create(m, d, c->W, c->a, &st) == TSRELU_OK, "%s: student: %s",
                  c->name, tsrelu_last_error());
    double L, La;
    ck_assert_msg(tsrelu_loss(st, t, &L) == TSRELU_OK, "%s: loss: %s", c->name,
                  tsrelu_last_error());
    ck_assert_msg(tsrelu_loss_accurate(st, t, &La) == TSRELU_OK, "%s: accurate loss: %s",
                  c->name, tsrelu_last_error());
    ck_assert_msg(tsrelu_gradient(st, t, gW, m * d, ga, m) == TSRELU_OK, "%s: gradient: %s",
                  c->name, tsrelu_last_error());

    double tot = 0.0, amax = 0.0;
    for (size_t i = 0; i < m; i++) {
        tot += fabs(c->a[i]) * norm_scaled(c->W + i * d, d);
        if (fabs(c->a[i]) > amax)
            amax = fabs(c->a[i]);
    }
    for (size_t j = 0; j < k; j++)
        tot += fabs(c->b[j]) * norm_scaled(c->V + j * d, d);
    double S = amax * tot, SL = tot * tot, F = (double)(m + k + d + 1) * 0x1p-1074;

    double eW = 0.0, ea = 0.0;
    for (size_t i = 0; i < m; i++) {
        double nw = norm_scaled(c->W + i * d, d);
        for (size_t col = 0; col < d; col++) {
            double diff = fabs(gW[i * d + col] - c->gW[i * d + col]);
            double q = nw == 0.0 ? (gW[i * d + col] == 0.0 ? 0.0 : INFINITY)
                                 : ratio_of(diff, S, GRAD_BOUND, F);
            if (!(q <= eW))
                eW = q;
        }
        double q = nw == 0.0 ? (ga[i] == 0.0 ? 0.0 : INFINITY)
                             : ratio_of(fabs(ga[i] - c->ga[i]), nw * tot, GRAD_BOUND, F);
        if (!(q <= ea))
            ea = q;
    }
    record(r, s, E_GW, c->name, eW);
    record(r, s, E_GA, c->name, ea);
    record(r, s, E_LOSS, c->name, ratio_of(fabs(L - c->loss), SL, LOSS_BOUND, F));
    if (c->loss >= ACC_REL_FLOOR * SL && c->loss > 0.0) {
        record(r, s, E_ACC_REL, c->name, fabs(La - c->loss) / c->loss / ACC_REL_BOUND);
        record(r, s, E_LOSS_REL, c->name, fabs(L - c->loss) / c->loss);
    } else
        record(r, s, E_ACC_ABS, c->name, ratio_of(fabs(La - c->loss), SL, ACC_ABS_BOUND, F));

    tsrelu_student_free(st);
    tsrelu_teacher_free(t);
    free(gW);
    free(ga);
}

static void evaluate_file(const char *file, ref_report *r)
{
    ref_set rs;
    int ok = ref_set_load(file, &rs);
    if (!ok) {
        char msg[sizeof rs.err];
        snprintf(msg, sizeof msg, "%s", rs.err);
        ref_set_free(&rs);
        ck_abort_msg("reference data: %s", msg);
    }
    clock_t t0 = clock();
    for (size_t i = 0; i < rs.n; i++)
        evaluate_config(&rs.c[i], r);
    r->seconds += (double)(clock() - t0) / CLOCKS_PER_SEC;
    ref_set_free(&rs);
}

static void print_cell(double v)
{
    if (v < 0.0)
        fprintf(stderr, " %17s", "-");
    else
        fprintf(stderr, " %17.3g", v);
}

static void print_report(const ref_report *r)
{
    fprintf(stderr, "\nreference: largest error per class, in units of the bound (<= 1 passes);\n"
            "(loss rel) is the plain relative error of tsrelu_loss where L >= 1e-24 S_L\n");
    fprintf(stderr, "%-13s %4s", "class", "n");
    for (int e = 0; e < E_COUNT; e++)
        fprintf(stderr, " %17s", err_label[e]);
    fprintf(stderr, "\n");
    for (size_t i = 0; i < r->ncls; i++) {
        const class_stats *s = &r->cls[i];
        fprintf(stderr, "%-13s %4zu", s->cls, s->n);
        for (int e = 0; e < E_COUNT; e++)
            print_cell(s->worst[e]);
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "worst configurations:\n");
    for (size_t i = 0; i < r->ncls; i++) {
        const class_stats *s = &r->cls[i];
        fprintf(stderr, "  %-13s", s->cls);
        for (int e = 0; e < E_COUNT; e++)
            if (s->worst[e] >= 0.0)
                fprintf(stderr, " %s: %s;", err_label[e], s->worst_name[e]);
        fprintf(stderr, "\n");
    }
    fprintf(stderr, "(evaluated in %.2f s)\n\n", r->seconds);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_reference_core)
{
    static ref_report r; /* large: keep it off the stack */
    memset(&r, 0, sizeof r);
    evaluate_file("configs.txt", &r);
    evaluate_file("subnormal.txt", &r);
    evaluate_file("late_gd.txt", &r);
    print_report(&r);
    ck_assert_msg(r.nfail == 0, "%zu reference bounds violated: %s", r.nfail, r.fails);
}
END_TEST

START_TEST(test_late_iterates)
{
    static ref_report r;
    memset(&r, 0, sizeof r);
    evaluate_file("late_gd.txt", &r);
    ck_assert_uint_ge(r.cls[0].n, 5);
    ck_assert_msg(r.nfail == 0, "%zu reference bounds violated at late GD iterates: %s",
                  r.nfail, r.fails);
}
END_TEST

/* Largest angle between a student neuron and its nearest teacher neuron. */
static double max_angle(const double *W, size_t m, const double *V, size_t k, size_t d)
{
    double worst = 0.0;
    for (size_t i = 0; i < m; i++) {
        double best = INFINITY;
        for (size_t j = 0; j < k; j++) {
            double th = angle(W + i * d, V + j * d, d);
            if (th < best)
                best = th;
        }
        if (best > worst)
            worst = best;
    }
    return worst;
}

/* The GD run behind late_gd.txt reaches every student within GD_ANGLE of
 * the teacher, and there the double loss agrees with the accurate one. */
START_TEST(test_late_gd_reaches_alignment)
{
    /* millions of GD steps: too slow under valgrind (TSRELU_TEST_QUICK) */
    if (fixture_quick())
        return;
    ref_set rs;
    int ok = ref_set_load("late_gd.txt", &rs);
    ck_assert_msg(ok, "reference data: %s", rs.err);
    ck_assert_msg(rs.has_gd, "late_gd.txt has no 'gd' line");
    size_t k = rs.gd_k, m = rs.gd_m, d = rs.gd_d;
    tsrelu_teacher *t = NULL;
    tsrelu_student *s0 = NULL;
    tsrelu_gd *gd = NULL;
    ck_assert_int_eq(tsrelu_teacher_create_orthogonal(k, d, rs.gd_vnorm, rs.gd_tseed, &t),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_student_create_gaussian(m, d, rs.gd_sigma, rs.gd_sseed, &s0),
                     TSRELU_OK);
    ck_assert_int_eq(tsrelu_gd_create(t, s0, rs.gd_eta, &gd), TSRELU_OK);
    double *W = alloc_doubles(m * d), *V = alloc_doubles(k * d);
    ck_assert_ptr_nonnull(W);
    ck_assert_ptr_nonnull(V);
    ck_assert_int_eq(tsrelu_teacher_weights(t, V, k * d), TSRELU_OK);
    double worst = INFINITY;
    while (tsrelu_gd_iteration(gd) < rs.gd_max) {
        ck_assert_int_eq(tsrelu_gd_run(gd, 1000), TSRELU_OK);
        ck_assert_int_eq(tsrelu_student_weights(tsrelu_gd_student(gd), W, m * d), TSRELU_OK);
        worst = max_angle(W, m, V, k, d);
        if (worst < GD_ANGLE)
            break;
    }
    ck_assert_msg(worst < GD_ANGLE, "GD: largest angle %.3g after %llu steps", worst,
                  (unsigned long long)tsrelu_gd_iteration(gd));
    double L, La, tot = rs.gd_vnorm;
    ck_assert_int_eq(tsrelu_gd_loss(gd, &L), TSRELU_OK);
    ck_assert_int_eq(tsrelu_loss_accurate(tsrelu_gd_student(gd), t, &La), TSRELU_OK);
    for (size_t i = 0; i < m; i++)
        tot += norm_scaled(W + i * d, d);
    ck_assert_msg(La > 0.0 && La < 1e-12 * tot * tot, "accurate loss %.3g at the end", La);
    ck_assert_msg(fabs(L - La) <= LOSS_BOUND * tot * tot, "double loss %.17g vs accurate %.17g",
                  L, La);
    free(W);
    free(V);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s0);
    tsrelu_teacher_free(t);
    ref_set_free(&rs);
}
END_TEST

Suite *reference_suite(void)
{
    Suite *s = suite_create("reference");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_reference_core);
    suite_add_tcase(s, core);
    TCase *late = tcase_create("late");
    tcase_set_timeout(late, 120);
    tcase_add_test(late, test_late_iterates);
    tcase_add_test(late, test_late_gd_reaches_alignment);
    suite_add_tcase(s, late);
    return s;
}

/* Check suite for src/hessian.c (and the second-order pair kernel of
 * src/kernel.c): the closed-form Hessian against central differences of the
 * analytic gradient, exact symmetry, the Hessian-vector product against H x,
 * aligned, opposite and zero rows, the mpmath reference values of
 * tests/data/reference/hessian.txt, and the validation of every argument. */
#include "suites.h"

#include "kernel.h"
#include "tsrelu.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64* and Box-Muller: independent of the library's generator. */
static uint64_t rng_state;
static double unif(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) * 0x1.0p-53;
}
static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(6.283185307179586 * unif());
}

enum { MAXM = 6, MAXK = 4, MAXD = 6, MAXN = MAXM * MAXD + MAXM };

typedef struct {
    size_t m, k, d;
    double W[MAXM * MAXD], a[MAXM], V[MAXK * MAXD], b[MAXK];
} net;

static void random_net(net *c, size_t m, size_t k, size_t d, uint64_t seed, int signed_out)
{
    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    c->m = m;
    c->k = k;
    c->d = d;
    for (size_t i = 0; i < m * d; i++)
        c->W[i] = gauss();
    for (size_t i = 0; i < k * d; i++)
        c->V[i] = gauss();
    for (size_t i = 0; i < m; i++)
        c->a[i] = signed_out ? (unif() < 0.3 ? -1.0 : 1.0) * (0.3 + 1.7 * unif()) : 1.0;
    for (size_t j = 0; j < k; j++)
        c->b[j] = signed_out ? (unif() < 0.3 ? -1.0 : 1.0) * (0.3 + 1.7 * unif()) : 1.0;
}

static tsrelu_student *student_of(const net *c)
{
    tsrelu_student *s = NULL;
    ck_assert_int_eq(tsrelu_student_create(c->m, c->d, c->W, c->a, &s), TSRELU_OK);
    return s;
}

static tsrelu_teacher *teacher_of(const net *c)
{
    tsrelu_teacher *t = NULL;
    ck_assert_int_eq(tsrelu_teacher_create(c->k, c->d, c->V, c->b, &t), TSRELU_OK);
    return t;
}

static size_t nvar(const net *c, unsigned flags)
{
    return c->m * c->d + ((flags & TSRELU_HESSIAN_OUTPUT) ? c->m : 0);
}

/* The gradient of c in the variable order of the Hessian. */
static void gradient_of(const net *c, const tsrelu_teacher *t, double *g)
{
    tsrelu_student *s = student_of(c);
    ck_assert_int_eq(tsrelu_gradient(s, t, g, c->m * c->d, g + c->m * c->d, c->m), TSRELU_OK);
    tsrelu_student_free(s);
}

static double *var_ptr(net *c, size_t v)
{
    return v < c->m * c->d ? &c->W[v] : &c->a[v - c->m * c->d];
}

static void hessian_of(const net *c, unsigned flags, double *H)
{
    tsrelu_student *s = student_of(c);
    tsrelu_teacher *t = teacher_of(c);
    size_t N = nvar(c, flags);
    ck_assert_msg(tsrelu_hessian(s, t, flags, H, N * N) == TSRELU_OK, "%s", tsrelu_last_error());
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}

static double max_abs(const double *x, size_t n)
{
    double r = 0.0;
    for (size_t i = 0; i < n; i++)
        r = fmax(r, fabs(x[i]));
    return r;
}

/* Central difference of the gradient in variable v, step h. */
static void central(net *c, const tsrelu_teacher *t, size_t v, double h, double *col)
{
    double gp[MAXN], gm[MAXN], *x = var_ptr(c, v), x0 = *x;
    *x = x0 + h;
    gradient_of(c, t, gp);
    *x = x0 - h;
    gradient_of(c, t, gm);
    *x = x0;
    for (size_t r = 0; r < c->m * c->d + c->m; r++)
        col[r] = (gp[r] - gm[r]) / (2.0 * h);
}

/* max |H - central differences of the gradient| / max |H| (step 1e-5 times
 * the variable's scale). At exactly aligned or opposite pairs the Hessian
 * is continuous but not differentiable (its kappa part grows like the
 * angle), so a central difference is off by O(h) there: `extrapolate` then
 * uses 2 D(h/2) - D(h) at h = 1e-4, which cancels that term. */
static double fd_error(const net *c0, unsigned flags, const double *H, int extrapolate)
{
    net c = *c0;
    tsrelu_teacher *t = teacher_of(&c);
    size_t N = nvar(&c, flags);
    double d1[MAXN], d2[MAXN], err = 0.0, scale = max_abs(H, N * N);
    for (size_t v = 0; v < N; v++) {
        double sc = fmax(1.0, fabs(*var_ptr(&c, v)));
        central(&c, t, v, (extrapolate ? 1e-4 : 1e-5) * sc, d1);
        if (extrapolate) {
            central(&c, t, v, 0.5e-4 * sc, d2);
            for (size_t r = 0; r < N; r++)
                d1[r] = 2.0 * d2[r] - d1[r];
        }
        for (size_t r = 0; r < N; r++)
            err = fmax(err, fabs(d1[r] - H[r * N + v]));
    }
    tsrelu_teacher_free(t);
    return err / scale;
}

static void check_symmetric(const double *H, size_t N)
{
    for (size_t r = 0; r < N; r++)
        for (size_t c = 0; c < r; c++)
            ck_assert_msg(memcmp(&H[r * N + c], &H[c * N + r], sizeof(double)) == 0,
                          "H[%zu][%zu] = %.17g != H[%zu][%zu] = %.17g", r, c, H[r * N + c], c, r,
                          H[c * N + r]);
}

START_TEST(test_hessian_vs_finite_differences)
{
    static const size_t shapes[][3] = {{1, 1, 1}, {1, 1, 3}, {2, 1, 2}, {3, 2, 4}, {4, 3, 5},
                                       {6, 4, 6}, {5, 2, 3}};
    double H[MAXN * MAXN], worst = 0.0;
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (unsigned flags = 0; flags <= TSRELU_HESSIAN_OUTPUT; flags++)
            for (int sgn = 0; sgn < 2; sgn++) {
                net c;
                random_net(&c, shapes[sh][0], shapes[sh][1], shapes[sh][2], 100 + sh, sgn);
                hessian_of(&c, flags, H);
                check_symmetric(H, nvar(&c, flags));
                double e = fd_error(&c, flags, H, 0);
                ck_assert_msg(e <= 1e-7, "shape %zu flags %u signed %d: FD error %.3g", sh, flags,
                              sgn, e);
                worst = fmax(worst, e);
            }
    printf("hessian vs central differences: largest error %.2g max|H|\n", worst);
}
END_TEST

/* y = H x against the dense product, in units of max|H| max|x|. */
static double hvp_error(const net *c, unsigned flags, const double *H, const double *x)
{
    tsrelu_student *s = student_of(c);
    tsrelu_teacher *t = teacher_of(c);
    size_t N = nvar(c, flags);
    double y[MAXN], err = 0.0;
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, flags, x, N, y, N), TSRELU_OK);
    for (size_t r = 0; r < N; r++) {
        double hx = 0.0;
        for (size_t v = 0; v < N; v++)
            hx += H[r * N + v] * x[v];
        err = fmax(err, fabs(hx - y[r]));
    }
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return err / (max_abs(H, N * N) * max_abs(x, N));
}

START_TEST(test_hvp_equals_dense_product)
{
    double H[MAXN * MAXN], x[MAXN], worst = 0.0;
    for (uint64_t seed = 0; seed < 24; seed++)
        for (unsigned flags = 0; flags <= TSRELU_HESSIAN_OUTPUT; flags++) {
            net c;
            random_net(&c, 1 + seed % MAXM, 1 + seed % MAXK, 1 + (seed * 7) % MAXD, 300 + seed,
                       (int)(seed & 1));
            if (seed % 3 == 0) { /* an aligned, an opposite and a zero row too */
                for (size_t j = 0; j < c.d; j++)
                    c.W[j] = 0.5 * c.V[j];
                if (c.m > 1)
                    for (size_t j = 0; j < c.d; j++)
                        c.W[c.d + j] = -2.0 * c.V[j];
                if (c.m > 2)
                    for (size_t j = 0; j < c.d; j++)
                        c.W[2 * c.d + j] = 0.0;
            } else if (seed % 3 == 1) {
                /* nearly aligned with a teacher, nearly opposite to it, and
                 * nearly aligned with another student, at angles of about
                 * 1e-5, 1e-9 and 1e-13 rad: the product reads the tangent
                 * components e . x from differences of dot products, the
                 * dense Hessian from formed tangents (both a few ulps) */
                double eps = seed == 1 ? 1e-5 : seed == 4 ? 1e-9 : seed == 7 ? 1e-13 : 1e-7;
                for (size_t j = 0; j < c.d; j++)
                    c.W[j] = 0.5 * (c.V[j] + eps * gauss());
                if (c.m > 1)
                    for (size_t j = 0; j < c.d; j++)
                        c.W[c.d + j] = -2.0 * (c.V[j] + eps * gauss());
                if (c.m > 2)
                    for (size_t j = 0; j < c.d; j++)
                        c.W[2 * c.d + j] = 3.0 * (c.W[j] + eps * gauss());
            }
            hessian_of(&c, flags, H);
            for (size_t v = 0; v < nvar(&c, flags); v++)
                x[v] = gauss();
            double e = hvp_error(&c, flags, H, x);
            ck_assert_msg(e <= 1e-14, "seed %u flags %u: |Hx - y| = %.3g", (unsigned)seed, flags, e);
            worst = fmax(worst, e);
        }
    printf("hessian-vector product vs H x: largest error %.2g max|H| max|x|\n", worst);
}
END_TEST

/* Students exactly aligned with a teacher, with each other, opposite to a
 * teacher, and equal to one: the Hessian is finite, symmetric, and agrees
 * with central differences (the loss is twice differentiable there). */
START_TEST(test_aligned_and_opposite)
{
    double H[MAXN * MAXN], worst = 0.0;
    for (int variant = 0; variant < 4; variant++)
        for (unsigned flags = 0; flags <= TSRELU_HESSIAN_OUTPUT; flags++) {
            net c;
            random_net(&c, 4, 2, 3, 500 + (uint64_t)variant, variant & 1);
            for (size_t j = 0; j < 3; j++) {
                c.W[j] = 0.25 * c.V[j];                               /* aligned */
                c.W[3 + j] = variant < 2 ? 0.75 * c.V[j] : c.V[j];     /* aligned, or equal */
                c.W[6 + j] = -0.5 * c.V[3 + j];                        /* opposite */
                c.W[9 + j] = variant % 2 ? -3.0 * c.W[j] : 2.0 * c.W[j]; /* to a student */
            }
            hessian_of(&c, flags, H);
            size_t N = nvar(&c, flags);
            for (size_t i = 0; i < N * N; i++)
                ck_assert(isfinite(H[i]));
            check_symmetric(H, N);
            double e = fd_error(&c, flags, H, 1);
            ck_assert_msg(e <= 1e-7, "variant %d flags %u: FD error %.3g", variant, flags, e);
            worst = fmax(worst, e);
        }
    printf("hessian at aligned/opposite rows vs extrapolated differences: largest error %.2g "
           "max|H|\n", worst);
}
END_TEST

/* The pair blocks are continuous through theta = 0 and theta = pi: at
 * 1e-9 rad they differ from the exact-alignment values by O(1e-9). */
START_TEST(test_pair_blocks_continuous)
{
    double u[3] = {0.3, -1.2, 0.7}, v[3], Huu0[9], Huv0[9], Huu[9], Huv[9];
    for (int opp = 0; opp < 2; opp++) {
        double sg = opp ? -1.0 : 1.0;
        for (int j = 0; j < 3; j++)
            v[j] = sg * 2.0 * u[j];
        tsrelu__pair_hess(u, v, 3, Huu0, Huv0);
        /* exact limits: Huu = 0; Huv = I/2 aligned, 0 opposite */
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++) {
                ck_assert_double_eq(Huu0[r * 3 + c], 0.0);
                ck_assert_double_eq_tol(Huv0[r * 3 + c], (!opp && r == c) ? 0.5 : 0.0, 1e-16);
            }
        double n[3] = {1.2, 0.3, 0.0}; /* orthogonal to u */
        for (int j = 0; j < 3; j++)
            v[j] = sg * 2.0 * (u[j] + 1e-9 * n[j]);
        tsrelu__pair_hess(u, v, 3, Huu, Huv);
        for (int i = 0; i < 9; i++) {
            ck_assert_double_eq_tol(Huu[i], Huu0[i], 1e-8);
            ck_assert_double_eq_tol(Huv[i], Huv0[i], 1e-8);
        }
    }
}
END_TEST

/* A zero student row: every entry of its variables (w_i and a_i) is 0, the
 * rest equals the Hessian of the network without that student. */
START_TEST(test_zero_row_convention)
{
    double H[MAXN * MAXN], H2[MAXN * MAXN];
    for (unsigned flags = 0; flags <= TSRELU_HESSIAN_OUTPUT; flags++) {
        net c, c2;
        random_net(&c, 3, 2, 4, 900, 1);
        for (size_t j = 0; j < 4; j++)
            c.W[4 + j] = (j == 1) ? -0.0 : 0.0;
        c2 = c; /* student 1 removed */
        c2.m = 2;
        memmove(c2.W + 4, c.W + 8, 4 * sizeof(double));
        c2.a[1] = c.a[2];
        hessian_of(&c, flags, H);
        hessian_of(&c2, flags, H2);
        size_t N = nvar(&c, flags), N2 = nvar(&c2, flags);
        /* variable v of c2 -> variable of c */
        size_t map[MAXN];
        for (size_t v = 0; v < N2; v++)
            map[v] = v < 4 ? v : v < 8 ? v + 4 : v == 8 ? 12 : 14;
        int is_zero_var[MAXN] = {0};
        for (size_t j = 4; j < 8; j++)
            is_zero_var[j] = 1;
        if (flags)
            is_zero_var[13] = 1;
        for (size_t r = 0; r < N; r++)
            for (size_t v = 0; v < N; v++)
                if (is_zero_var[r] || is_zero_var[v])
                    ck_assert_double_eq(H[r * N + v], 0.0);
        for (size_t r = 0; r < N2; r++)
            for (size_t v = 0; v < N2; v++)
                ck_assert_double_eq(H[map[r] * N + map[v]], H2[r * N2 + v]);
    }
}
END_TEST

/* m = k = 1, d = 1, w = v = 1, a = b = 1: L(w) = (w - 1)^2 / 4 for w > 0
 * (so d2L/dw2 = 1/2), d2L/da2 = w^2 / 2 = 1/2, d2L/dw da = dL/dw-part
 * a w - (1/2) v = 1/2: H = [[1/2, 1/2], [1/2, 1/2]]. */
START_TEST(test_hand_one_dimension)
{
    net c = {1, 1, 1, {1.0}, {1.0}, {1.0}, {1.0}};
    double H[4];
    hessian_of(&c, TSRELU_HESSIAN_OUTPUT, H);
    for (int i = 0; i < 4; i++)
        ck_assert_double_eq_tol(H[i], 0.5, 1e-16);
}
END_TEST

/* ------------------------------------------- the mpmath reference */

enum { REF_MAXN = 16 };

/* Next non-comment line of f into buf; 0 at end of file. */
static int ref_line(FILE *f, char *buf, size_t len)
{
    while (fgets(buf, (int)len, f))
        if (buf[0] != '#' && buf[0] != '\n')
            return 1;
    return 0;
}

/* n doubles from the line (after an optional leading word of `skip`
 * characters). */
static void ref_numbers(const char *line, size_t skip, double *x, size_t n)
{
    const char *p = line + skip;
    for (size_t i = 0; i < n; i++) {
        char *end;
        x[i] = strtod(p, &end);
        ck_assert_msg(end != p, "reference: number %zu missing in '%s'", i, line);
        p = end;
    }
}

/* Every configuration of hessian.txt: tsrelu_hessian with and without
 * TSRELU_HESSIAN_OUTPUT against the reference (whose leading m*d block is
 * the W part), within 1e-13 of the largest reference entry. */
START_TEST(test_mpmath_reference)
{
    const char *dir = getenv("TSRELU_TEST_DATA");
    char path[512], line[8192], name[128], cls[64];
    snprintf(path, sizeof path, "%s/hessian.txt", dir ? dir : "tests/data/reference");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s (set TSRELU_TEST_DATA)", path);
    int count = 0;
    double worst = 0.0;
    static double Href[REF_MAXN * REF_MAXN], H[REF_MAXN * REF_MAXN];
    while (ref_line(f, line, sizeof line)) {
        net c;
        unsigned m, k, d, N;
        ck_assert_int_eq(sscanf(line, "config %127s %63s %u %u %u", name, cls, &m, &k, &d), 5);
        ck_assert(m <= MAXM && k <= MAXK && d <= MAXD);
        c.m = m;
        c.k = k;
        c.d = d;
        ck_assert(ref_line(f, line, sizeof line) && strncmp(line, "W", 1) == 0);
        for (unsigned i = 0; i < m; i++) {
            ck_assert(ref_line(f, line, sizeof line));
            ref_numbers(line, 0, c.W + i * d, d);
        }
        ck_assert(ref_line(f, line, sizeof line));
        ref_numbers(line, 1, c.a, m);
        ck_assert(ref_line(f, line, sizeof line) && strncmp(line, "V", 1) == 0);
        for (unsigned j = 0; j < k; j++) {
            ck_assert(ref_line(f, line, sizeof line));
            ref_numbers(line, 0, c.V + j * d, d);
        }
        ck_assert(ref_line(f, line, sizeof line));
        ref_numbers(line, 1, c.b, k);
        ck_assert(ref_line(f, line, sizeof line) && sscanf(line, "H %u", &N) == 1);
        ck_assert(N == m * d + m && N <= REF_MAXN);
        for (unsigned r = 0; r < N; r++) {
            ck_assert(ref_line(f, line, sizeof line));
            ref_numbers(line, 0, Href + r * N, N);
        }
        ck_assert(ref_line(f, line, sizeof line) && strncmp(line, "end", 3) == 0);
        double scale = max_abs(Href, (size_t)N * N);
        for (unsigned flags = 0; flags <= TSRELU_HESSIAN_OUTPUT; flags++) {
            size_t n = nvar(&c, flags);
            hessian_of(&c, flags, H);
            double err = 0.0;
            for (size_t r = 0; r < n; r++)
                for (size_t v = 0; v < n; v++)
                    err = fmax(err, fabs(H[r * n + v] - Href[r * N + v]));
            err /= scale;
            ck_assert_msg(err <= 1e-13, "%s flags %u: error %.3g of max|H|", name, flags, err);
            worst = fmax(worst, err);
        }
        count++;
    }
    fclose(f);
    ck_assert_int_ge(count, 8);
    printf("hessian reference: %d configurations, largest error %.2g max|H|\n", count, worst);
}
END_TEST

START_TEST(test_limits)
{
    net c;
    random_net(&c, 2, 1, 3, 7, 0);
    tsrelu_student *s = student_of(&c);
    tsrelu_teacher *t = teacher_of(&c);
    double H[MAXN * MAXN], x[MAXN] = {0}, y[MAXN];
    ck_assert_int_eq(tsrelu_hessian(NULL, t, 0, H, 36), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian(s, NULL, 0, H, 36), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian(s, t, 0, NULL, 36), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian(s, t, 2, H, 36), TSRELU_EINVAL);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "0x2"));
    ck_assert_int_eq(tsrelu_hessian(s, t, 0, H, 35), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_hessian(s, t, TSRELU_HESSIAN_OUTPUT, H, 36), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_hessian(s, t, TSRELU_HESSIAN_OUTPUT, H, 64), TSRELU_OK);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, x, 6, y, 6), TSRELU_OK);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, NULL, 6, y, 6), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, x, 6, NULL, 6), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, x, 6, x, 6), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 4, x, 6, y, 6), TSRELU_EINVAL);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, x, 5, y, 6), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, x, 6, y, 8), TSRELU_ELENGTH);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 1, x, 8, y, 8), TSRELU_OK);
    x[4] = NAN;
    ck_assert_int_eq(tsrelu_hessian_vector(s, t, 0, x, 6, y, 6), TSRELU_ENONFINITE);
    ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "x[4]"));
    /* a_0^2 / 2 overflows: found by the block-row checks, named by index */
    net big = c;
    big.a[0] = 1e200;
    tsrelu_student *sb = student_of(&big);
    for (unsigned flags = 0; flags <= TSRELU_HESSIAN_OUTPUT; flags++) {
        size_t NN = flags ? 64 : 36;
        ck_assert_int_eq(tsrelu_hessian(sb, t, flags, H, NN), TSRELU_ENONFINITE);
        ck_assert_ptr_nonnull(strstr(tsrelu_last_error(), "tsrelu_hessian: H[0]"));
    }
    tsrelu_student_free(sb);
    net c4;
    random_net(&c4, 2, 1, 4, 7, 0);
    tsrelu_teacher *t4 = teacher_of(&c4);
    ck_assert_int_eq(tsrelu_hessian(s, t4, 0, H, 36), TSRELU_EDIM);
    ck_assert_int_eq(tsrelu_hessian_vector(s, t4, 0, x, 6, y, 6), TSRELU_EDIM);
    tsrelu_teacher_free(t4);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
}
END_TEST

Suite *hessian_suite(void)
{
    Suite *s = suite_create("hessian");
    TCase *tc_core = tcase_create("core");
    tcase_set_timeout(tc_core, 60);
    tcase_add_test(tc_core, test_hessian_vs_finite_differences);
    tcase_add_test(tc_core, test_hvp_equals_dense_product);
    tcase_add_test(tc_core, test_aligned_and_opposite);
    tcase_add_test(tc_core, test_pair_blocks_continuous);
    tcase_add_test(tc_core, test_zero_row_convention);
    tcase_add_test(tc_core, test_hand_one_dimension);
    tcase_add_test(tc_core, test_mpmath_reference);
    suite_add_tcase(s, tc_core);
    TCase *tc_limits = tcase_create("limits");
    tcase_add_test(tc_limits, test_limits);
    suite_add_tcase(s, tc_limits);
    return s;
}

/* Teacher and student handles: validated copies of the weights, and their
 * seeded initialisation (Gaussian students, orthogonal teachers). The
 * generators from the theory (init.c) build on the helpers exported here
 * through model.h. */
#include "model.h"
#include "kernel.h"
#include "rng.h"
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Domain separation: one seed used for both a teacher and a student must not
 * give correlated weights. */
#define TEACHER_STREAM 0x7465616368657221ULL /* "teacher!" */
#define STUDENT_STREAM 0x73747564656e7421ULL /* "student!" */

/* The four weight getters: NULL checks, exact length, copy. `owner` is the
 * handle (only tested for NULL); messages read "fn: buf: ...". */
static tsrelu_status copy_out(const char *fn, const void *owner, const char *owner_name,
                              const char *buf_name, double *dst, const double *src, size_t len,
                              size_t want)
{
    if (!owner || !dst)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, owner ? buf_name : owner_name);
    if (len != want)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: %s: length %zu given, %zu required", fn, buf_name,
                            len, want);
    memcpy(dst, src, len * sizeof(double));
    return TSRELU_OK;
}

/* ---------------- teacher ---------------- */

static void teacher_destroy(tsrelu_teacher *t)
{
    if (!t)
        return;
    free(t->V);
    free(t->b);
    free(t->norm);
    free(t->unit);
    free(t);
}

tsrelu_status tsrelu__teacher_alloc(size_t k, size_t d, tsrelu_teacher **out)
{
    size_t kd;
    tsrelu_status st = tsrelu__mul_size(k, d, "teacher k*d", &kd);
    if (st != TSRELU_OK)
        return st;
    if (kd > SIZE_MAX / sizeof(double))
        return tsrelu__fail(TSRELU_ENOMEM, "teacher: k*d = %zu doubles overflows size_t", kd);
    tsrelu_teacher *t = calloc(1, sizeof *t);
    if (!t)
        return tsrelu__fail(TSRELU_ENOMEM, "teacher: out of memory");
    t->k = k;
    t->d = d;
    t->owns = 1;
    t->V = tsrelu__aligned_doubles(kd); /* rows the kernels read: aligned (model.h) */
    t->unit = tsrelu__aligned_doubles(kd);
    t->b = malloc(k * sizeof(double));
    t->norm = malloc(k * sizeof(double));
    if (!t->V || !t->unit || !t->b || !t->norm) {
        teacher_destroy(t);
        return tsrelu__fail(TSRELU_ENOMEM, "teacher: out of memory for k=%zu, d=%zu", k, d);
    }
    *out = t;
    return TSRELU_OK;
}

/* Norms, unit rows and the constant teacher-teacher part of the loss. */
tsrelu_status tsrelu__teacher_finish(tsrelu_teacher *t)
{
    size_t k = t->k, d = t->d;
    for (size_t j = 0; j < k; j++) {
        double n = tsrelu__unit(t->V + j * d, d, t->unit + j * d);
        if (n == 0.0)
            return tsrelu__fail(TSRELU_EINVAL, "teacher neuron %zu is zero", j);
        if (!isfinite(n))
            return tsrelu__fail(TSRELU_ENONFINITE, "teacher neuron %zu: its norm overflows", j);
        t->norm[j] = n;
    }
    double sum = 0.0;
    for (size_t j = 0; j < k; j++)
        for (size_t l = j + 1; l < k; l++) {
            const double *p = t->unit + j * d, *q = t->unit + l * d;
            double cs = 0.0, sn, cn;
            for (size_t c = 0; c < d; c++)
                cs += p[c] * q[c];
            double th = tsrelu__angle_unit(p, q, d, cs, &sn, &cn);
            sum += (t->b[j] * t->norm[j]) * (t->b[l] * t->norm[l]) *
                   tsrelu__kappa_sc(th, sn, cn);
        }
    t->kappa_tt = sum * TSRELU_INV_2PI;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_teacher_create(size_t k, size_t d, const double *V,
                                               const double *b, tsrelu_teacher **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create: out is NULL");
    *out = NULL;
    if (!V)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create: V is NULL");
    if (k == 0 || d == 0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create: k=%zu and d=%zu must be >= 1", k, d);
    tsrelu_teacher *t;
    tsrelu_status st = tsrelu__teacher_alloc(k, d, &t);
    if (st != TSRELU_OK)
        return st;
    if ((st = tsrelu__check_finite(V, k * d, "teacher V")) != TSRELU_OK ||
        (b && (st = tsrelu__check_finite(b, k, "teacher b")) != TSRELU_OK)) {
        teacher_destroy(t);
        return st;
    }
    memcpy(t->V, V, k * d * sizeof(double));
    for (size_t j = 0; j < k; j++)
        t->b[j] = b ? b[j] : 1.0;
    if ((st = tsrelu__teacher_finish(t)) != TSRELU_OK) {
        teacher_destroy(t);
        return st;
    }
    *out = t;
    return TSRELU_OK;
}

/* Two passes of modified Gram-Schmidt against the previous rows; returns the
 * remaining norm of row j. */
double tsrelu__orthogonalise_row(double *V, size_t j, size_t d)
{
    double *x = V + j * d;
    for (int pass = 0; pass < 2; pass++)
        for (size_t l = 0; l < j; l++) {
            const double *q = V + l * d;
            double dot = 0.0;
            for (size_t c = 0; c < d; c++)
                dot += q[c] * x[c];
            for (size_t c = 0; c < d; c++)
                x[c] -= dot * q[c];
        }
    return tsrelu__norm(x, d);
}

void tsrelu__random_frame(size_t k, size_t d, uint64_t seed, double *Q)
{
    tsrelu__rng rng;
    tsrelu__rng_seed(&rng, seed ^ TEACHER_STREAM);
    for (size_t j = 0; j < k; j++) {
        double n;
        do { /* a draw in the span of the previous rows has probability 0 */
            for (size_t c = 0; c < d; c++)
                Q[j * d + c] = tsrelu__rng_normal(&rng);
            n = tsrelu__orthogonalise_row(Q, j, d);
        } while (!(n > 1e-6));
        for (size_t c = 0; c < d; c++)
            Q[j * d + c] /= n;
    }
}

TSRELU_API tsrelu_status tsrelu_teacher_create_orthogonal(size_t k, size_t d, double norm,
                                                          uint64_t seed, tsrelu_teacher **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create_orthogonal: out is NULL");
    *out = NULL;
    if (k == 0 || d == 0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create_orthogonal: k=%zu and d=%zu must be >= 1", k, d);
    if (k > d)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create_orthogonal: k=%zu orthogonal neurons do not fit in d=%zu", k, d);
    if (!isfinite(norm))
        return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_teacher_create_orthogonal: norm is %g", norm);
    if (!(norm > 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_teacher_create_orthogonal: norm=%g must be > 0", norm);
    tsrelu_teacher *t;
    tsrelu_status st = tsrelu__teacher_alloc(k, d, &t);
    if (st != TSRELU_OK)
        return st;
    tsrelu__random_frame(k, d, seed, t->V);
    for (size_t i = 0; i < k * d; i++)
        t->V[i] *= norm;
    for (size_t j = 0; j < k; j++)
        t->b[j] = 1.0;
    if ((st = tsrelu__teacher_finish(t)) != TSRELU_OK) {
        teacher_destroy(t);
        return st;
    }
    *out = t;
    return TSRELU_OK;
}

tsrelu_status tsrelu__teacher_clone(const tsrelu_teacher *t, tsrelu_teacher **out)
{
    tsrelu_teacher *c;
    tsrelu_status st = tsrelu__teacher_alloc(t->k, t->d, &c);
    if (st != TSRELU_OK)
        return st;
    memcpy(c->V, t->V, t->k * t->d * sizeof(double));
    memcpy(c->unit, t->unit, t->k * t->d * sizeof(double));
    memcpy(c->b, t->b, t->k * sizeof(double));
    memcpy(c->norm, t->norm, t->k * sizeof(double));
    c->kappa_tt = t->kappa_tt;
    c->owns = 0;
    *out = c;
    return TSRELU_OK;
}

TSRELU_API void tsrelu_teacher_free(tsrelu_teacher *t)
{
    if (t && t->owns) /* the copy inside a GD state is freed with it */
        teacher_destroy(t);
}

void tsrelu__teacher_destroy(tsrelu_teacher *t)
{
    teacher_destroy(t);
}

TSRELU_API size_t tsrelu_teacher_width(const tsrelu_teacher *t)
{
    return t ? t->k : 0;
}

TSRELU_API size_t tsrelu_teacher_dim(const tsrelu_teacher *t)
{
    return t ? t->d : 0;
}

TSRELU_API tsrelu_status tsrelu_teacher_weights(const tsrelu_teacher *t, double *V, size_t len)
{
    return copy_out("tsrelu_teacher_weights", t, "teacher", "V", V, t ? t->V : NULL, len,
                    t ? t->k * t->d : 0);
}

TSRELU_API tsrelu_status tsrelu_teacher_output_weights(const tsrelu_teacher *t, double *b, size_t len)
{
    return copy_out("tsrelu_teacher_output_weights", t, "teacher", "b", b, t ? t->b : NULL, len,
                    t ? t->k : 0);
}

/* ---------------- student ---------------- */

/* Rows whose norm is finite: finite entries near DBL_MAX can have an
 * overflowing norm, which would make every angle meaningless. The one row
 * check of every way a student's weights are made or replaced. */
tsrelu_status tsrelu__check_row_norms(const double *W, size_t m, size_t d, const char *what)
{
    for (size_t i = 0; i < m; i++)
        if (!isfinite(tsrelu__norm(W + i * d, d)))
            return tsrelu__fail(TSRELU_ENONFINITE, "%s: the norm of row %zu overflows", what, i);
    return TSRELU_OK;
}

/* Finite entries, and rows whose norm is finite. */
static tsrelu_status check_student_rows(const double *W, size_t m, size_t d, const char *what)
{
    tsrelu_status st = tsrelu__check_finite(W, m * d, what);
    return st != TSRELU_OK ? st : tsrelu__check_row_norms(W, m, d, what);
}

tsrelu_status tsrelu__student_alloc(size_t m, size_t d, tsrelu_student **out)
{
    size_t md;
    tsrelu_status st = tsrelu__mul_size(m, d, "student m*d", &md);
    if (st != TSRELU_OK)
        return st;
    if (md > SIZE_MAX / sizeof(double))
        return tsrelu__fail(TSRELU_ENOMEM, "student: m*d = %zu doubles overflows size_t", md);
    tsrelu_student *s = calloc(1, sizeof *s);
    if (!s)
        return tsrelu__fail(TSRELU_ENOMEM, "student: out of memory");
    s->m = m;
    s->d = d;
    s->owns = 1;
    s->W = tsrelu__aligned_doubles(md); /* rows the kernels read: aligned (model.h) */
    s->a = malloc(m * sizeof(double));
    if (!s->W || !s->a) {
        tsrelu_student_free(s);
        return tsrelu__fail(TSRELU_ENOMEM, "student: out of memory for m=%zu, d=%zu", m, d);
    }
    *out = s;
    return TSRELU_OK;
}

TSRELU_API void tsrelu_student_free(tsrelu_student *s)
{
    if (!s || !s->owns) /* views inside a GD state are freed with it */
        return;
    free(s->W);
    free(s->a);
    free(s);
}

TSRELU_API tsrelu_status tsrelu_student_create(size_t m, size_t d, const double *W,
                                               const double *a, tsrelu_student **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_create: out is NULL");
    *out = NULL;
    if (!W)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_create: W is NULL");
    if (m == 0 || d == 0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_create: m=%zu and d=%zu must be >= 1", m, d);
    tsrelu_student *s;
    tsrelu_status st = tsrelu__student_alloc(m, d, &s);
    if (st != TSRELU_OK)
        return st;
    if ((st = check_student_rows(W, m, d, "student W")) != TSRELU_OK ||
        (a && (st = tsrelu__check_finite(a, m, "student a")) != TSRELU_OK)) {
        tsrelu_student_free(s);
        return st;
    }
    memcpy(s->W, W, m * d * sizeof(double));
    for (size_t i = 0; i < m; i++)
        s->a[i] = a ? a[i] : 1.0;
    *out = s;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_student_create_gaussian(size_t m, size_t d, double sigma,
                                                        uint64_t seed, tsrelu_student **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_create_gaussian: out is NULL");
    *out = NULL;
    if (m == 0 || d == 0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_create_gaussian: m=%zu and d=%zu must be >= 1", m, d);
    if (!isfinite(sigma))
        return tsrelu__fail(TSRELU_ENONFINITE, "tsrelu_student_create_gaussian: sigma is %g", sigma);
    if (sigma < 0.0)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_create_gaussian: sigma=%g must be >= 0", sigma);
    tsrelu_student *s;
    tsrelu_status st = tsrelu__student_alloc(m, d, &s);
    if (st != TSRELU_OK)
        return st;
    tsrelu__rng rng;
    tsrelu__rng_seed(&rng, seed ^ STUDENT_STREAM);
    for (size_t i = 0; i < m * d; i++)
        s->W[i] = sigma * tsrelu__rng_normal(&rng);
    if (!tsrelu__all_finite(s->W, m * d)) { /* sigma near DBL_MAX */
        tsrelu_student_free(s);
        return tsrelu__fail(TSRELU_ENONFINITE,
                            "tsrelu_student_create_gaussian: sigma=%g makes the weights overflow", sigma);
    }
    /* finite draws can still have an overflowing row norm (sigma ~ 1e307) */
    char what[80];
    snprintf(what, sizeof what, "tsrelu_student_create_gaussian: sigma=%g", sigma);
    if ((st = tsrelu__check_row_norms(s->W, m, d, what)) != TSRELU_OK) {
        tsrelu_student_free(s);
        return st;
    }
    for (size_t i = 0; i < m; i++)
        s->a[i] = 1.0;
    *out = s;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_student_copy(const tsrelu_student *s, tsrelu_student **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_copy: out is NULL");
    *out = NULL;
    if (!s)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_copy: student is NULL");
    return tsrelu_student_create(s->m, s->d, s->W, s->a, out);
}

TSRELU_API size_t tsrelu_student_width(const tsrelu_student *s)
{
    return s ? s->m : 0;
}

TSRELU_API size_t tsrelu_student_dim(const tsrelu_student *s)
{
    return s ? s->d : 0;
}

TSRELU_API tsrelu_status tsrelu_student_weights(const tsrelu_student *s, double *W, size_t len)
{
    return copy_out("tsrelu_student_weights", s, "student", "W", W, s ? s->W : NULL, len,
                    s ? s->m * s->d : 0);
}

TSRELU_API tsrelu_status tsrelu_student_set_weights(tsrelu_student *s, const double *W, size_t len)
{
    if (!s || !W)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_set_weights: %s is NULL", s ? "W" : "student");
    if (!s->owns)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_set_weights: the student is a read-only view of a GD state");
    tsrelu_status st = tsrelu__check_len(len, s->m * s->d, "tsrelu_student_set_weights: W");
    if (st == TSRELU_OK)
        st = check_student_rows(W, s->m, s->d, "tsrelu_student_set_weights: W");
    if (st != TSRELU_OK)
        return st;
    memcpy(s->W, W, len * sizeof(double));
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_student_output_weights(const tsrelu_student *s, double *a, size_t len)
{
    return copy_out("tsrelu_student_output_weights", s, "student", "a", a, s ? s->a : NULL, len,
                    s ? s->m : 0);
}

TSRELU_API tsrelu_status tsrelu_student_set_output_weights(tsrelu_student *s, const double *a, size_t len)
{
    if (!s || !a)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_set_output_weights: %s is NULL", s ? "a" : "student");
    if (!s->owns)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_student_set_output_weights: the student is a read-only view of a GD state");
    tsrelu_status st = tsrelu__check_len(len, s->m, "tsrelu_student_set_output_weights: a");
    if (st == TSRELU_OK)
        st = tsrelu__check_finite(a, len, "tsrelu_student_set_output_weights: a");
    if (st != TSRELU_OK)
        return st;
    memcpy(s->a, a, len * sizeof(double));
    return TSRELU_OK;
}

/* ---------------- handle checks ---------------- */

tsrelu_status tsrelu__check_pair(const char *fn, const tsrelu_student *s, const tsrelu_teacher *t)
{
    if (!s || !t)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, s ? "teacher" : "student");
    if (s->d != t->d)
        return tsrelu__fail(TSRELU_EDIM, "%s: student d=%zu but teacher d=%zu", fn, s->d, t->d);
    return TSRELU_OK;
}

tsrelu_status tsrelu__check_blas(const char *fn, size_t m, size_t k, size_t d)
{
    if (m > INT32_MAX || k > INT32_MAX || d > INT32_MAX || m + k > INT32_MAX)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: sizes m=%zu, k=%zu, d=%zu exceed the BLAS int range",
                            fn, m, k, d);
    return TSRELU_OK;
}

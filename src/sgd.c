/* Sampled training: online SGD (a fresh batch of Gaussian inputs per step)
 * and finite training sets (generated from a seed or given by the caller;
 * minibatches drawn without replacement, or the full batch). The empirical
 * loss of a batch X (B x d) with labels y_s = sum_j b_j relu(v_j . x_s) is
 *
 *     L_B = 1/(2B) sum_s r_s^2,   r_s = sum_i a_i relu(w_i . x_s) - y_s,
 *     dL_B/dW = D^T X,  D_si = r_s a_i 1[w_i . x_s > 0] / B,
 *     dL_B/da_i = 1/B sum_s r_s relu(w_i . x_s),
 *
 * whose expectation over x ~ N(0, I) is the closed-form loss and gradient of
 * population.c (relu'(0) = 0 as there). Two dgemm per step (X W^T, D^T X),
 * a third for online labels (X V^T). Every buffer is allocated when the
 * sampler is made; a step allocates nothing. The streams are rng.c's (its
 * ziggurat for the normals), so a batch is the same on every platform and
 * thread count. */
#define _POSIX_C_SOURCE 200809L /* sysconf */
#include "sgd.h"
#include "gd.h"
#include "model.h"
#include "rng.h"
#include "status.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Domain separation from the initialisation streams of the same seed. */
#define ONLINE_STREAM 0x6f6e6c696e657821ULL /* "onlinex!" */
#define TRAIN_STREAM  0x747261696e736574ULL /* "trainset" */
#define BATCH_STREAM  0x6d696e6962617421ULL /* "minibat!" */

enum { ONLINE = 1, GENERATED = 2, GIVEN = 3 };

struct tsrelu__sgd {
    int kind;
    size_t m, k, d, B, n;     /* n = 0 online */
    uint64_t seed;
    tsrelu__rng rng;          /* committed stream position */
    tsrelu__rng next;         /* the position after the batch of the pending step */
    tsrelu__zig zig;          /* the normal generator's tables */
    double *X, *y;            /* the training set (n rows) or the online batch (B rows) */
    double *Xb, *yb;          /* a minibatch of a finite set (B < n) */
    size_t *pick;             /* B: the Fisher-Yates swaps, undone after each draw */
    size_t *perm;             /* n: the identity between draws */
    double *Zw;               /* B*m: X W^T, then D */
    double *Zv;               /* B*k: X V^T (online labels) */
    double *gW, *ga;          /* m*d, m */
    double loss, next_loss;
    int have_loss;
};

void tsrelu__sgd_free(tsrelu__sgd *s)
{
    if (!s)
        return;
    free(s->X);
    free(s->y);
    free(s->Xb);
    free(s->yb);
    free(s->pick);
    free(s->perm);
    free(s->Zw);
    free(s->Zv);
    free(s->gW);
    free(s->ga);
    free(s);
}

/* y_s = sum_j b_j relu(v_j . x_s) for rows of X, through Z (rows x k). */
static void labels(const tsrelu_teacher *t, const double *X, size_t rows, double *Z, double *y)
{
    size_t k = t->k, d = t->d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, (int)d, 1.0, X, (int)d,
                t->V, (int)d, 0.0, Z, (int)k);
    for (size_t s = 0; s < rows; s++) {
        double f = 0.0;
        for (size_t j = 0; j < k; j++)
            f += Z[s * k + j] > 0.0 ? t->b[j] * Z[s * k + j] : 0.0;
        y[s] = f;
    }
}

/* The ziggurat: B*d normals are half of an online step (4.7 ns each
 * against 9.8 ns for the polar method of the initialisation streams). */
static void fill_normal(tsrelu__rng *r, const tsrelu__zig *z, double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = tsrelu__rng_normal_zig(r, z);
}

/* Uniform on [0, n), n >= 1: rejection of the top partial range, so that
 * every value has the same probability (no modulo bias) on every platform. */
static size_t below(tsrelu__rng *r, size_t n)
{
    uint64_t N = (uint64_t)n, lim = UINT64_MAX - UINT64_MAX % N, x;
    do
        x = tsrelu__rng_next(r);
    while (x >= lim);
    return (size_t)(x % N);
}

/* B distinct rows of the finite set into Xb, yb: a partial Fisher-Yates
 * shuffle of perm, undone afterwards, so that the only state is the stream. */
static void draw_minibatch(tsrelu__sgd *s, tsrelu__rng *r)
{
    size_t B = s->B, d = s->d;
    for (size_t b = 0; b < B; b++) {
        size_t j = b + below(r, s->n - b), tmp = s->perm[b];
        s->perm[b] = s->perm[j];
        s->perm[j] = tmp;
        s->pick[b] = j;
        memcpy(s->Xb + b * d, s->X + s->perm[b] * d, d * sizeof(double));
        s->yb[b] = s->y[s->perm[b]];
    }
    for (size_t b = B; b-- > 0;) {
        size_t j = s->pick[b], tmp = s->perm[b];
        s->perm[b] = s->perm[j];
        s->perm[j] = tmp;
    }
}

/* Loss and gradient of rows X (B x d), labels y, at (W, a); gW, ga (may be
 * NULL) get the gradient. Returns the batch loss. */
static double batch_eval(tsrelu__sgd *s, const double *X, const double *y, size_t B, const double *W,
                         const double *a, double *gW, double *ga)
{
    size_t m = s->m, d = s->d;
    double *Z = s->Zw, loss = 0.0, inv = 1.0 / (double)B;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)m, (int)d, 1.0, X, (int)d, W,
                (int)d, 0.0, Z, (int)m);
    if (ga)
        memset(ga, 0, m * sizeof(double));
    for (size_t b = 0; b < B; b++) {
        double *z = Z + b * m, f = 0.0;
        for (size_t i = 0; i < m; i++)
            f += z[i] > 0.0 ? a[i] * z[i] : 0.0;
        double r = f - y[b], c = r * inv;
        loss += r * r;
        for (size_t i = 0; i < m; i++) {
            if (ga && z[i] > 0.0)
                ga[i] += c * z[i];
            z[i] = z[i] > 0.0 ? c * a[i] : 0.0;
        }
    }
    if (gW)
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)m, (int)d, (int)B, 1.0, Z, (int)m, X,
                    (int)d, 0.0, gW, (int)d);
    return 0.5 * loss * inv;
}

void tsrelu__sgd_gradient(tsrelu__sgd *s, const tsrelu_teacher *t, const double *W,
                          const double *a, int train_a, const double **gW, const double **ga)
{
    const double *X = s->X, *y = s->y;
    s->next = s->rng;
    if (s->kind == ONLINE) {
        fill_normal(&s->next, &s->zig, s->X, s->B * s->d);
        labels(t, s->X, s->B, s->Zv, s->y);
    } else if (s->B < s->n) {
        draw_minibatch(s, &s->next);
        X = s->Xb;
        y = s->yb;
    }
    s->next_loss = batch_eval(s, X, y, s->B, W, a, s->gW, train_a ? s->ga : NULL);
    *gW = s->gW;
    *ga = train_a ? s->ga : NULL;
}

void tsrelu__sgd_commit(tsrelu__sgd *s)
{
    s->rng = s->next;
    s->loss = s->next_loss;
    s->have_loss = 1;
}

/* A sampler of the given kind, every buffer allocated; X (n*d) copied for
 * GIVEN, generated for GENERATED; labels from t. */
static tsrelu_status sgd_make(const char *fn, const tsrelu_teacher *t, size_t m, int kind, size_t B,
                              size_t n, uint64_t seed, const double *X, tsrelu__sgd **out)
{
    size_t k = t->k, d = t->d, rows = kind == ONLINE ? B : n, xd, bm, bk, bd, md, rk;
    int minibatch = kind != ONLINE && B < n; /* a batch drawn from a finite set */
    tsrelu_status st;
    if ((st = tsrelu__mul_size(rows, d, "rows*d", &xd)) != TSRELU_OK ||
        (st = tsrelu__mul_size(B, m, "batch*m", &bm)) != TSRELU_OK ||
        (st = tsrelu__mul_size(B, d, "batch*d", &bd)) != TSRELU_OK ||
        (st = tsrelu__mul_size(B, k, "batch*k", &bk)) != TSRELU_OK ||
        (st = tsrelu__mul_size(rows, k, "rows*k", &rk)) != TSRELU_OK ||
        (st = tsrelu__mul_size(m, d, "m*d", &md)) != TSRELU_OK ||
        xd > SIZE_MAX / sizeof(double) || bm > SIZE_MAX / sizeof(double))
        return tsrelu__context(st != TSRELU_OK ? st : tsrelu__fail(TSRELU_ENOMEM, "sizes overflow"), "%s", fn);
    if (rows > INT_MAX)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: %zu samples exceed the BLAS int range", fn, rows);
    /* labels of a finite set go through a rows x k scratch, once */
    size_t zv = kind == ONLINE ? bk : rk;
    /* What the buffers below will hold (doubles and size_t, 8 bytes each);
     * more than this machine's memory is refused before anything is
     * allocated or generated (a checkpoint's sampler words could otherwise
     * claim any size). */
    double need = 8.0 * ((double)xd + (double)rows + (double)bm + (double)md + (double)m + (double)zv +
                         (minibatch ? (double)bd + 2.0 * (double)B + (double)n : 0.0));
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0 && need > (double)pages * (double)page)
        return tsrelu__fail(TSRELU_ENOMEM,
                            "%s: the sampler needs %.3g GiB (batch %zu, %zu samples of d=%zu), more than this "
                            "machine's %.3g GiB of memory",
                            fn, need / 1073741824.0, B, rows, d, (double)pages * (double)page / 1073741824.0);
    tsrelu__sgd *s = calloc(1, sizeof *s);
    if (!s)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    s->kind = kind;
    s->m = m;
    s->k = k;
    s->d = d;
    s->B = B;
    s->n = kind == ONLINE ? 0 : n;
    s->seed = seed;
    s->X = malloc(xd * sizeof(double));
    s->y = malloc(rows * sizeof(double));
    s->Zw = malloc(bm * sizeof(double));
    s->gW = malloc(md * sizeof(double));
    s->ga = malloc(m * sizeof(double));
    s->Zv = malloc(zv * sizeof(double));
    int ok = s->X && s->y && s->Zw && s->gW && s->ga && s->Zv;
    if (ok && minibatch) {
        s->Xb = malloc(bd * sizeof(double));
        s->yb = malloc(B * sizeof(double));
        s->pick = malloc(B * sizeof(size_t));
        s->perm = malloc(n * sizeof(size_t));
        ok = s->Xb && s->yb && s->pick && s->perm;
    }
    if (!ok) {
        tsrelu__sgd_free(s);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for a batch of %zu and %zu samples of d=%zu",
                            fn, B, rows, d);
    }
    if (s->perm)
        for (size_t i = 0; i < n; i++)
            s->perm[i] = i;
    tsrelu__zig_init(&s->zig);
    if (kind == ONLINE) {
        tsrelu__rng_seed(&s->rng, seed ^ ONLINE_STREAM);
    } else {
        if (kind == GIVEN) {
            memcpy(s->X, X, xd * sizeof(double));
        } else {
            tsrelu__rng gen;
            tsrelu__rng_seed(&gen, seed ^ TRAIN_STREAM);
            fill_normal(&gen, &s->zig, s->X, xd);
        }
        labels(t, s->X, n, s->Zv, s->y);
        free(s->Zv); /* online only past this point */
        s->Zv = NULL;
        tsrelu__rng_seed(&s->rng, seed ^ BATCH_STREAM);
    }
    s->next = s->rng;
    *out = s;
    return TSRELU_OK;
}

/* ---------------- checkpoint words ---------------- */

void tsrelu__sgd_export(const tsrelu__sgd *s, uint64_t *w, const double **X, size_t *X_len)
{
    w[0] = (uint64_t)s->kind;
    w[1] = s->B;
    w[2] = s->n;
    w[3] = s->seed;
    for (int i = 0; i < 4; i++)
        w[4 + i] = s->rng.s[i];
    w[8] = tsrelu__f64_bits(s->rng.spare);
    w[9] = (uint64_t)s->rng.has_spare;
    w[10] = tsrelu__f64_bits(s->loss);
    w[11] = (uint64_t)s->have_loss;
    w[12] = 0; /* flags: none yet */
    *X = s->kind == GIVEN ? s->X : NULL;
    *X_len = s->kind == GIVEN ? s->n * s->d : 0;
}

tsrelu_status tsrelu__sgd_restore(const char *what, const tsrelu_teacher *t, size_t m,
                                  const uint64_t *w, const double *X, size_t X_len,
                                  tsrelu__sgd **out)
{
    *out = NULL;
    uint64_t kind = w[0], B = w[1], n = w[2];
    int ok = kind >= ONLINE && kind <= GIVEN && B >= 1 && B <= INT_MAX && w[9] <= 1 && w[11] <= 1 &&
             w[12] == 0 && (kind == ONLINE ? n == 0 : n >= B && n <= INT_MAX) &&
             (w[4] | w[5] | w[6] | w[7]) != 0 && (w[9] == 0 || isfinite(tsrelu__bits_f64(w[8])));
    if (ok && kind == GIVEN)
        ok = n <= SIZE_MAX / t->d && X_len == (size_t)n * t->d && tsrelu__all_finite(X, X_len);
    else if (ok)
        ok = X_len == 0;
    if (!ok)
        return tsrelu__fail(TSRELU_EFORMAT, "%s holds an invalid sampling state", what);
    tsrelu__sgd *s = NULL;
    tsrelu_status st = sgd_make(what, t, m, (int)kind, (size_t)B, (size_t)n, w[3], X, &s);
    if (st != TSRELU_OK)
        return st;
    for (int i = 0; i < 4; i++)
        s->rng.s[i] = w[4 + i];
    s->rng.spare = tsrelu__bits_f64(w[8]);
    s->rng.has_spare = (int)w[9];
    s->next = s->rng;
    s->loss = tsrelu__bits_f64(w[10]);
    s->have_loss = (int)w[11];
    *out = s;
    return TSRELU_OK;
}

/* ---------------- public API ---------------- */

/* The checks common to both setters; *m, *d of the state. */
static tsrelu_status check_common(const char *fn, tsrelu_gd *gd, size_t batch, unsigned flags)
{
    tsrelu_status st = tsrelu__gd_idle(gd, fn);
    if (st != TSRELU_OK)
        return st;
    if (flags != 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: flags=%u: no flag is defined (pass 0)", fn, flags);
    if (batch > INT_MAX)
        return tsrelu__fail(TSRELU_EINVAL, "%s: batch=%zu exceeds the BLAS int range", fn, batch);
    return TSRELU_OK;
}

static void install(tsrelu_gd *gd, tsrelu__sgd *s)
{
    tsrelu__sgd **slot = tsrelu__gd_sampler(gd);
    tsrelu__sgd_free(*slot);
    *slot = s;
}

TSRELU_API tsrelu_status tsrelu_gd_set_sampling(tsrelu_gd *gd, size_t batch, size_t n_train,
                                                uint64_t seed, unsigned flags)
{
    static const char fn[] = "tsrelu_gd_set_sampling";
    tsrelu_status st = check_common(fn, gd, batch, flags);
    if (st != TSRELU_OK)
        return st;
    if (batch == 0) {
        if (n_train != 0)
            return tsrelu__fail(TSRELU_EINVAL, "%s: batch=0 (exact GD) with n_train=%zu", fn, n_train);
        install(gd, NULL);
        return TSRELU_OK;
    }
    if (n_train != 0 && n_train < batch)
        return tsrelu__fail(TSRELU_EINVAL, "%s: batch=%zu exceeds n_train=%zu", fn, batch, n_train);
    const tsrelu_student *s = tsrelu_gd_student(gd);
    tsrelu__sgd *smp = NULL;
    st = sgd_make(fn, tsrelu_gd_teacher(gd), s->m, n_train ? GENERATED : ONLINE, batch, n_train, seed,
                  NULL, &smp);
    if (st == TSRELU_OK)
        install(gd, smp);
    return st;
}

TSRELU_API tsrelu_status tsrelu_gd_set_training_set(tsrelu_gd *gd, const double *X, size_t X_len,
                                                    size_t batch, uint64_t seed, unsigned flags)
{
    static const char fn[] = "tsrelu_gd_set_training_set";
    tsrelu_status st = check_common(fn, gd, batch, flags);
    if (st != TSRELU_OK)
        return st;
    size_t d = tsrelu_gd_student(gd)->d;
    if (!X)
        return tsrelu__fail(TSRELU_EINVAL, "%s: X is NULL", fn);
    if (X_len == 0 || X_len % d != 0)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: X_len=%zu is not a positive multiple of d=%zu", fn, X_len, d);
    size_t n = X_len / d;
    if (batch == 0 || batch > n)
        return tsrelu__fail(TSRELU_EINVAL, "%s: batch=%zu must be in 1..n=%zu", fn, batch, n);
    if ((st = tsrelu__check_finite(X, X_len, "X")) != TSRELU_OK)
        return tsrelu__context(st, "%s", fn);
    tsrelu__sgd *smp = NULL;
    st = sgd_make(fn, tsrelu_gd_teacher(gd), tsrelu_gd_student(gd)->m, GIVEN, batch, n, seed, X, &smp);
    if (st == TSRELU_OK)
        install(gd, smp);
    return st;
}

TSRELU_API tsrelu_status tsrelu_gd_sampling(const tsrelu_gd *gd, size_t *batch, size_t *n_train)
{
    if (!gd)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_gd_sampling: gd is NULL");
    const tsrelu__sgd *s = *tsrelu__gd_sampler((tsrelu_gd *)gd);
    if (batch)
        *batch = s ? s->B : 0;
    if (n_train)
        *n_train = s ? s->n : 0;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_sample_loss(const tsrelu_gd *gd, double *loss)
{
    static const char fn[] = "tsrelu_gd_sample_loss";
    if (!gd || !loss)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, gd ? "loss" : "gd");
    const tsrelu__sgd *s = *tsrelu__gd_sampler((tsrelu_gd *)gd);
    if (!s)
        return tsrelu__fail(TSRELU_EINVAL, "%s: the state is not sampling (tsrelu_gd_set_sampling)", fn);
    if (!s->have_loss)
        return tsrelu__fail(TSRELU_EINVAL, "%s: no sampled step since the sampling was set", fn);
    *loss = s->loss;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_training_loss(const tsrelu_gd *gd, double *loss)
{
    static const char fn[] = "tsrelu_gd_training_loss";
    if (!gd || !loss)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, gd ? "loss" : "gd");
    const tsrelu__sgd *s = *tsrelu__gd_sampler((tsrelu_gd *)gd);
    if (!s || s->kind == ONLINE)
        return tsrelu__fail(TSRELU_EINVAL, "%s: the state has no training set (%s)", fn,
                            s ? "online sampling" : "exact GD");
    /* a scratch of its own: a getter never touches the step's workspace */
    tsrelu__sgd tmp = *s;
    size_t rows = s->n < 1024 ? s->n : 1024;
    tmp.Zw = malloc(rows * s->m * sizeof(double));
    if (!tmp.Zw)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    const tsrelu_student *st = tsrelu_gd_student(gd);
    double sum = 0.0;
    for (size_t r0 = 0; r0 < s->n; r0 += rows) {
        size_t nb = s->n - r0 < rows ? s->n - r0 : rows;
        sum += 2.0 * (double)nb * batch_eval(&tmp, s->X + r0 * s->d, s->y + r0, nb, st->W, st->a, NULL, NULL);
    }
    free(tmp.Zw);
    *loss = 0.5 * sum / (double)s->n;
    if (!isfinite(*loss))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: the training loss overflows (%g)", fn, *loss);
    return TSRELU_OK;
}

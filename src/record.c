/* The trajectory recorder: per-student, per-teacher and global metrics of
 * a GD run at the iterates of a schedule, stored in columns allocated when
 * the recorder is made. gd.c hands it each recorded iterate as its
 * evaluation left it (tsrelu__record_take): the nearest teachers, angles
 * and norms of the pair pass, and the tracker's deficits and group sizes
 * (tsrelu__deficits of those groups), so that the recorder agrees with
 * tsrelu_nearest_teacher and tsrelu_deficit by construction and costs
 * O(m d + k) per row, never a second evaluation. */
#include "record.h"
#include "flow.h"
#include "kernel.h"
#include "status.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Columns, each `capacity` rows of `width` doubles: global ones (width 1),
 * per student (m), per teacher (k). */
enum { G_LOSS, G_GRAD, G_ACC, G_TIME, N_GLOBAL };
enum { S_NORM, S_A, S_NEAR, S_ANGLE, S_RADIAL, S_TANGENTIAL, S_MEAN, N_STUDENT };
enum { T_DEFICIT, T_SIZE, N_TEACHER };

struct tsrelu_record {
    size_t m, k, d;
    size_t capacity, size;
    uint64_t missed;
    unsigned flags;
    uint64_t *iter;               /* capacity */
    double *global[N_GLOBAL];     /* capacity each (G_ACC only with the flag) */
    double *student[N_STUDENT];   /* capacity * m each */
    double *teacher[N_TEACHER];   /* capacity * k each */
    double *mean;                 /* d: unit mean teacher direction */
    double *scale;                /* k: |b_l| |v_l| of the teacher attached to */
    int mean_zero;                /* the unit teacher rows sum to 0 */
    void *scratch;                /* quads of the accurate loss, or NULL */
    tsrelu_gd *gd;                /* the state attached to, or NULL */
    tsrelu_flow *flow;            /* ... or the flow */
    tsrelu__watch watch;          /* the on-line event callback (events.c) */
    int in_event;                 /* the event callback is running */
    int free_pending;             /* ... and freed the recorder */
    int flow_time;                /* made for a flow: event times are flow times */
    int have_last;                /* an iterate was taken since attachment */
    uint64_t last;
};

TSRELU_API void tsrelu_record_free(tsrelu_record *r)
{
    if (!r)
        return;
    if (r->gd)
        tsrelu__gd_attach(r->gd, NULL, NULL);
    if (r->flow)
        tsrelu__flow_attach(r->flow, NULL, NULL);
    r->gd = NULL;
    r->flow = NULL;
    if (r->in_event) { /* from its own event callback: tsrelu__record_take frees it */
        r->free_pending = 1;
        return;
    }
    free(r->iter);
    for (int f = 0; f < N_GLOBAL; f++)
        free(r->global[f]);
    for (int f = 0; f < N_STUDENT; f++)
        free(r->student[f]);
    for (int f = 0; f < N_TEACHER; f++)
        free(r->teacher[f]);
    free(r->mean);
    free(r->scale);
    free(r->scratch);
    free(r);
}

/* n * width doubles, NULL (and *ok = 0) if it overflows or fails. */
static double *column(size_t n, size_t width, int *ok)
{
    size_t cells;
    if (tsrelu__mul_size(n, width ? width : 1, "record column", &cells) != TSRELU_OK ||
        cells > SIZE_MAX / sizeof(double)) {
        *ok = 0;
        return NULL;
    }
    double *p = malloc(cells * sizeof(double));
    if (!p)
        *ok = 0;
    return p;
}

/* |b_l| |v_l|, the scale of the deficit and norm-share events. */
static void teacher_scale(tsrelu_record *r, const tsrelu_teacher *t)
{
    for (size_t l = 0; l < t->k; l++)
        r->scale[l] = fabs(t->b[l]) * t->norm[l];
}

/* A recorder for the shape of s and t (s NULL: the state argument was NULL). */
static tsrelu_status create(const char *fn, const char *owner, const tsrelu_student *s, const tsrelu_teacher *t,
                            size_t capacity, unsigned flags, tsrelu_record **out)
{
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "%s: out is NULL", fn);
    *out = NULL;
    if (!s)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, owner);
    if (capacity == 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: capacity must be >= 1", fn);
    if (flags & ~TSRELU_RECORD_ACCURATE_LOSS)
        return tsrelu__fail(TSRELU_EINVAL, "%s: unknown flags 0x%x", fn,
                            flags & ~TSRELU_RECORD_ACCURATE_LOSS);
    tsrelu_record *r = calloc(1, sizeof *r);
    if (!r)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
    r->m = s->m;
    r->k = t->k;
    r->d = s->d;
    r->capacity = capacity;
    r->flags = flags;
    int ok = capacity <= SIZE_MAX / sizeof(uint64_t);
    r->iter = ok ? malloc(capacity * sizeof(uint64_t)) : NULL;
    ok = ok && r->iter;
    for (int f = 0; f < N_GLOBAL; f++)
        if (f != G_ACC || (flags & TSRELU_RECORD_ACCURATE_LOSS))
            r->global[f] = column(capacity, 1, &ok);
    for (int f = 0; f < N_STUDENT; f++)
        r->student[f] = column(capacity, r->m, &ok);
    for (int f = 0; f < N_TEACHER; f++)
        r->teacher[f] = column(capacity, r->k, &ok);
    r->mean = column(r->d, 1, &ok);
    r->scale = column(r->k, 1, &ok);
    tsrelu__watch_init(&r->watch);
    if (ok && (flags & TSRELU_RECORD_ACCURATE_LOSS)) {
        size_t len = 0;
        tsrelu_status st = tsrelu__accurate_scratch_len(fn, r->m, r->k, r->d, &len);
        if (st != TSRELU_OK) {
            tsrelu_record_free(r);
            return st;
        }
        ok = (r->scratch = malloc(len * sizeof(tsrelu_quad))) != NULL;
    }
    if (!ok) {
        tsrelu_record_free(r);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for %zu iterates of m=%zu, k=%zu", fn,
                            capacity, s->m, t->k);
    }
    teacher_scale(r, t);
    *out = r;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_record_create(const tsrelu_gd *gd, size_t capacity, unsigned flags,
                                              tsrelu_record **out)
{
    return create("tsrelu_record_create", "gd", tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), capacity, flags,
                  out);
}

TSRELU_API tsrelu_status tsrelu_record_create_flow(const tsrelu_flow *fl, size_t capacity, unsigned flags,
                                                   tsrelu_record **out)
{
    tsrelu_status st = create("tsrelu_record_create_flow", "fl", tsrelu_flow_student(fl), tsrelu_flow_teacher(fl),
                              capacity, flags, out);
    if (st == TSRELU_OK)
        (*out)->flow_time = 1;
    return st;
}

/* The unit mean teacher direction sum_j v_j/|v_j|, normalised. */
static void mean_direction(tsrelu_record *r, const tsrelu_teacher *t)
{
    memset(r->mean, 0, r->d * sizeof(double));
    for (size_t j = 0; j < t->k; j++)
        for (size_t c = 0; c < r->d; c++)
            r->mean[c] += t->unit[j * r->d + c];
    r->mean_zero = tsrelu__unit(r->mean, r->d, r->mean) == 0.0;
}

/* Checks and preparation of r (non-NULL) for the state or flow `owner` of
 * shape s, t; the schedule into sc. */
static tsrelu_status attachable(const char *fn, tsrelu_record *r, const void *owner, const tsrelu_student *s,
                                const tsrelu_teacher *t, int schedule, uint64_t param, tsrelu__schedule *sc)
{
    tsrelu_status st = tsrelu__schedule_init(fn, schedule, param, sc);
    if (st != TSRELU_OK)
        return st;
    if ((r->gd && (const void *)r->gd != owner) || (r->flow && (const void *)r->flow != owner))
        return tsrelu__fail(TSRELU_EINVAL, "%s: the recorder is attached to another state", fn);
    if (r->m != s->m || r->k != t->k || r->d != s->d)
        return tsrelu__fail(TSRELU_EDIM,
                            "%s: the recorder is for m=%zu, k=%zu, d=%zu; the state has m=%zu, k=%zu, d=%zu",
                            fn, r->m, r->k, r->d, s->m, t->k, s->d);
    mean_direction(r, t);
    teacher_scale(r, t);
    r->have_last = 0;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_gd_set_recorder(tsrelu_gd *gd, tsrelu_record *r, int schedule,
                                                uint64_t param)
{
    const char *fn = "tsrelu_gd_set_recorder";
    tsrelu_status st = tsrelu__gd_idle(gd, fn);
    if (st != TSRELU_OK)
        return st;
    tsrelu__schedule sc = {0, 0, 0, 1};
    if (r && (st = attachable(fn, r, gd, tsrelu_gd_student(gd), tsrelu_gd_teacher(gd), schedule, param, &sc)) !=
                 TSRELU_OK)
        return st;
    tsrelu_record *old = tsrelu__gd_attach(gd, r, &sc);
    if (old && old != r)
        old->gd = NULL;
    if (r)
        r->gd = gd;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_flow_set_recorder(tsrelu_flow *fl, tsrelu_record *r, int schedule,
                                                  uint64_t param)
{
    const char *fn = "tsrelu_flow_set_recorder";
    tsrelu_status st = tsrelu__flow_idle(fl, fn);
    if (st != TSRELU_OK)
        return st;
    tsrelu__schedule sc = {0, 0, 0, 1};
    if (r && (st = attachable(fn, r, fl, tsrelu_flow_student(fl), tsrelu_flow_teacher(fl), schedule, param, &sc)) !=
                 TSRELU_OK)
        return st;
    tsrelu_record *old = tsrelu__flow_attach(fl, r, &sc);
    if (old && old != r)
        old->flow = NULL;
    if (r)
        r->flow = fl;
    return TSRELU_OK;
}

void tsrelu__record_detached(tsrelu_record *r)
{
    r->gd = NULL;
    r->flow = NULL;
}

static void store(tsrelu_record *r, const tsrelu__record_point *pt);

int tsrelu__record_take(tsrelu_record *r, const tsrelu__record_point *pt)
{
    if (r->have_last && r->last == pt->iter)
        return 0;
    r->have_last = 1;
    r->last = pt->iter;
    if (r->size == r->capacity) {
        r->missed++;
        return 0;
    }
    store(r, pt);
    if (!r->watch.fn)
        return 0;
    tsrelu__traj tr;
    tsrelu__record_traj(r, &tr);
    r->in_event = 1;
    int rv = tsrelu__events_row(&tr, r->size - 1, &r->watch, r->gd);
    r->in_event = 0;
    if (r->free_pending) {
        r->free_pending = 0;
        tsrelu_record_free(r);
    }
    return rv;
}

void tsrelu__record_traj(const tsrelu_record *r, tsrelu__traj *tr)
{
    *tr = (tsrelu__traj){r->size, r->m, r->k, r->iter, r->flow_time ? r->global[G_TIME] : NULL,
                         r->global[G_ACC] ? r->global[G_ACC] : r->global[G_LOSS],
                         r->student[S_NORM], r->student[S_A], r->student[S_NEAR], r->student[S_ANGLE],
                         r->student[S_MEAN], r->teacher[T_DEFICIT], r->teacher[T_SIZE], r->scale};
}

tsrelu__watch *tsrelu__record_watch(tsrelu_record *r, const tsrelu_gd **gd)
{
    *gd = r->gd;
    return &r->watch;
}

tsrelu_status tsrelu__record_idle(const tsrelu_record *r, const char *fn)
{
    if (r->gd)
        return tsrelu__gd_idle(r->gd, fn);
    if (r->flow)
        return tsrelu__flow_idle(r->flow, fn);
    return TSRELU_OK;
}

/* Row r->size from pt. */
static void store(tsrelu_record *r, const tsrelu__record_point *pt)
{
    size_t n = r->size++, m = r->m, k = r->k, d = r->d;
    const tsrelu__ws *ws = pt->ws;
    r->iter[n] = pt->iter;
    r->global[G_LOSS][n] = pt->loss;
    r->global[G_GRAD][n] = pt->grad_norm;
    r->global[G_TIME][n] = pt->time;
    if (r->scratch)
        r->global[G_ACC][n] = tsrelu__loss_accurate_in(pt->s, pt->t, r->scratch);
    for (size_t i = 0; i < m; i++) {
        size_t c = n * m + i;
        int l = ws->near[i];
        double norm = ws->norm_w[i];
        r->student[S_NORM][c] = norm;
        r->student[S_A][c] = pt->s->a[i];
        r->student[S_NEAR][c] = l;
        if (l < 0) {
            r->student[S_ANGLE][c] = r->student[S_MEAN][c] = NAN;
            r->student[S_RADIAL][c] = r->student[S_TANGENTIAL][c] = 0.0;
            continue;
        }
        r->student[S_ANGLE][c] = ws->near_theta[i];
        r->student[S_RADIAL][c] = norm * ws->near_cos[i];
        r->student[S_TANGENTIAL][c] = norm * sin(ws->near_theta[i]);
        r->student[S_MEAN][c] = r->mean_zero ? NAN : tsrelu__angle(pt->s->W + i * d, r->mean, d);
    }
    for (size_t l = 0; l < k; l++) {
        r->teacher[T_DEFICIT][n * k + l] = pt->ph->H[l];
        r->teacher[T_SIZE][n * k + l] = (double)pt->ph->count[l];
    }
}

/* ---------------- getters ---------------- */

TSRELU_API size_t tsrelu_record_size(const tsrelu_record *r)
{
    return r ? r->size : 0;
}

TSRELU_API size_t tsrelu_record_capacity(const tsrelu_record *r)
{
    return r ? r->capacity : 0;
}

TSRELU_API uint64_t tsrelu_record_missed(const tsrelu_record *r)
{
    return r ? r->missed : 0;
}

/* Shared prologue of the column getters: r, the buffer `name` (NULL only
 * for an empty copy) and its length, size * width. */
static tsrelu_status check_out(const char *fn, const tsrelu_record *r, const char *name, const void *out,
                               size_t len, size_t width)
{
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "%s: r is NULL", fn);
    char what[64];
    snprintf(what, sizeof what, "%s: %s", fn, name);
    tsrelu_status st = tsrelu__check_len(len, r->size * width, what);
    if (st == TSRELU_OK && !out && len > 0)
        st = tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, name);
    return st;
}

TSRELU_API tsrelu_status tsrelu_record_iterations(const tsrelu_record *r, uint64_t *iter, size_t len)
{
    tsrelu_status st = check_out("tsrelu_record_iterations", r, "iter", iter, len, 1);
    if (st == TSRELU_OK && len > 0)
        memcpy(iter, r->iter, len * sizeof(uint64_t));
    return st;
}

/* Copy field `field` of one kind (fields first ... first + count - 1,
 * columns cols of width doubles per row) after the checks. */
static tsrelu_status copy_field(const char *fn, const tsrelu_record *r, int field, int first, int count,
                                const char *kind, double *const *cols, size_t width, double *out, size_t len)
{
    int f = field - first;
    if (f < 0 || f >= count)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %d is not a %s field", fn, field, kind);
    if (!cols[f])
        return tsrelu__fail(TSRELU_EINVAL, "%s: the recorder was made without TSRELU_RECORD_ACCURATE_LOSS", fn);
    tsrelu_status st = check_out(fn, r, "out", out, len, width);
    if (st == TSRELU_OK && len > 0)
        memcpy(out, cols[f], len * sizeof(double));
    return st;
}

TSRELU_API tsrelu_status tsrelu_record_global(const tsrelu_record *r, int field, double *out, size_t len)
{
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_record_global: r is NULL");
    return copy_field("tsrelu_record_global", r, field, TSRELU_RECORD_LOSS, N_GLOBAL, "global", r->global, 1,
                      out, len);
}

TSRELU_API tsrelu_status tsrelu_record_student(const tsrelu_record *r, int field, double *out, size_t len)
{
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_record_student: r is NULL");
    return copy_field("tsrelu_record_student", r, field, TSRELU_RECORD_NORM, N_STUDENT, "student", r->student,
                      r->m, out, len);
}

TSRELU_API tsrelu_status tsrelu_record_teacher(const tsrelu_record *r, int field, double *out, size_t len)
{
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_record_teacher: r is NULL");
    return copy_field("tsrelu_record_teacher", r, field, TSRELU_RECORD_DEFICIT, N_TEACHER, "teacher",
                      r->teacher, r->k, out, len);
}

/* ---------------- CSV ---------------- */

static void put_row(FILE *f, const tsrelu_record *r, size_t n, size_t i)
{
    size_t c = n * r->m + i;
    int l = (int)r->student[S_NEAR][c];
    double H = l >= 0 ? r->teacher[T_DEFICIT][n * r->k + (size_t)l] : NAN;
    double ml = l >= 0 ? r->teacher[T_SIZE][n * r->k + (size_t)l] : 0.0;
    fprintf(f, "%llu,%zu", (unsigned long long)r->iter[n], i);
    const double v[] = {r->student[S_NORM][c], r->student[S_A][c], r->student[S_NEAR][c],
                        r->student[S_ANGLE][c], r->student[S_RADIAL][c], r->student[S_TANGENTIAL][c],
                        r->student[S_MEAN][c], H, ml, r->global[G_LOSS][n], r->global[G_GRAD][n]};
    for (size_t j = 0; j < sizeof v / sizeof v[0]; j++)
        fprintf(f, ",%.17g", v[j]);
    if (r->global[G_ACC])
        fprintf(f, ",%.17g", r->global[G_ACC][n]);
    fputc('\n', f);
}

TSRELU_API tsrelu_status tsrelu_record_write_csv(const tsrelu_record *r, const char *path)
{
    const char *fn = "tsrelu_record_write_csv";
    if (!r || !path)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, r ? "path" : "r");
    FILE *f = fopen(path, "w");
    if (!f)
        return tsrelu__fail(TSRELU_EIO, "%s: cannot open %s: %s", fn, path, strerror(errno));
    fputs("iteration,student,norm,output_weight,nearest,angle,radial,tangential,angle_mean,"
          "deficit,group_size,loss,grad_norm", f);
    fputs(r->global[G_ACC] ? ",loss_accurate\n" : "\n", f);
    for (size_t n = 0; n < r->size; n++)
        for (size_t i = 0; i < r->m; i++)
            put_row(f, r, n, i);
    int bad = ferror(f), err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    if (bad)
        return tsrelu__fail(TSRELU_EIO, "%s: writing %s: %s", fn, path, strerror(err));
    return TSRELU_OK;
}

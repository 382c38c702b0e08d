/* Events of a trajectory: per row and item, membership of the set of each
 * event kind (member(), the one definition), reduced post hoc over all
 * rows (first entry, entry for good, exit for good) or reported on line as
 * transitions between consecutive rows. Both read the same columns with
 * the same member(), so an on-line run and a post-hoc pass over its record
 * agree by construction. Kept apart from phases.c, whose 1.0 tracker lives
 * in the GD state and must not change: these events live on a record. */
#include "events.h"
#include "gd.h"
#include "record.h"
#include "status.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define DEFAULT_EPS 0.05

void tsrelu__watch_init(tsrelu__watch *w)
{
    w->fn = NULL;
    w->user_data = NULL;
    w->mask = 0;
    for (int k = 0; k <= TSRELU_EVENT_DEFICIT; k++)
        w->eps[k] = DEFAULT_EPS;
}

static double time_of(const tsrelu__traj *tr, size_t n)
{
    return tr->time ? tr->time[n] : (double)tr->iter[n];
}

/* The set item x is in at row n for an on-line kind: its teacher (0 for
 * MEAN), or -1 for none. NaN angles (zero students) compare false. */
static int member(const tsrelu__traj *tr, int kind, size_t n, size_t x, double eps)
{
    size_t c = n * tr->m + x;
    switch (kind) {
    case TSRELU_EVENT_GROUP:
        return (int)tr->near[c];
    case TSRELU_EVENT_ALIGN:
        return tr->angle[c] <= eps ? (int)tr->near[c] : -1;
    case TSRELU_EVENT_MEAN:
        return tr->mean[c] <= eps ? 0 : -1;
    default: /* TSRELU_EVENT_DEFICIT */
        return fabs(tr->deficit[n * tr->k + x]) <= eps * tr->scale[x] ? (int)x : -1;
    }
}

static size_t items(const tsrelu__traj *tr, int kind)
{
    return kind == TSRELU_EVENT_DEFICIT ? tr->k : tr->m;
}

/* ---------------- on line ---------------- */

int tsrelu__events_row(const tsrelu__traj *tr, size_t n, const tsrelu__watch *w, const tsrelu_gd *gd)
{
    double t = time_of(tr, n);
    for (int kind = TSRELU_EVENT_GROUP; kind <= TSRELU_EVENT_DEFICIT; kind++) {
        if (!(w->mask & TSRELU_EVENT_BIT(kind)))
            continue;
        for (size_t x = 0; x < items(tr, kind); x++) {
            int cur = member(tr, kind, n, x, w->eps[kind]);
            int prev = n > 0 ? member(tr, kind, n - 1, x, w->eps[kind]) : -1;
            if (cur == prev)
                continue;
            int rv = 0;
            if (prev >= 0)
                rv = w->fn(gd, kind, TSRELU_EVENT_LEFT, x, kind == TSRELU_EVENT_MEAN ? -1 : prev, t,
                           w->user_data);
            if (rv == 0 && cur >= 0)
                rv = w->fn(gd, kind, TSRELU_EVENT_ENTERED, x, kind == TSRELU_EVENT_MEAN ? -1 : cur, t,
                           w->user_data);
            if (rv != 0)
                return rv;
        }
    }
    return 0;
}

/* ---------------- post hoc ---------------- */

/* Item x's event, with what its final row fixes: the teacher it must be
 * with (GROUP, ALIGN) or the level its norm must reach (NORM, _SHARE). */
typedef struct {
    int kind;
    double eps;
    size_t x;
    int final;     /* the final teacher */
    double level;  /* the norm level */
} event;

static int holds(const tsrelu__traj *tr, const event *e, size_t n)
{
    size_t c = n * tr->m + e->x;
    switch (e->kind) {
    case TSRELU_EVENT_GROUP:
    case TSRELU_EVENT_ALIGN:
        return member(tr, e->kind, n, e->x, e->eps) == e->final;
    case TSRELU_EVENT_NORM:
        return tr->norm[c] >= e->level;
    case TSRELU_EVENT_NORM_SHARE:
        return fabs(tr->a[c]) * tr->norm[c] >= e->level;
    default: /* MEAN, DEFICIT */
        return member(tr, e->kind, n, e->x, e->eps) >= 0;
    }
}

/* 0 if item x has no event to look for (no final teacher). */
static int prepare(const tsrelu__traj *tr, event *e)
{
    size_t last = (tr->n - 1) * tr->m + e->x;
    switch (e->kind) {
    case TSRELU_EVENT_GROUP:
    case TSRELU_EVENT_ALIGN:
        e->final = (int)tr->near[last];
        return e->final >= 0;
    case TSRELU_EVENT_NORM:
        e->level = e->eps * tr->norm[last];
        return 1;
    case TSRELU_EVENT_NORM_SHARE: {
        int l = (int)tr->near[last];
        if (l < 0)
            return 0;
        e->level = e->eps * tr->scale[l] / tr->size[(tr->n - 1) * tr->k + (size_t)l];
        return 1;
    }
    default:
        return 1;
    }
}

static double reduce(const tsrelu__traj *tr, const event *e, int mode)
{
    size_t last = tr->n - 1, n;
    switch (mode) {
    case TSRELU_EVENT_FIRST:
        for (n = 0; n <= last; n++)
            if (holds(tr, e, n))
                return time_of(tr, n);
        return NAN;
    case TSRELU_EVENT_SETTLE:
        if (!holds(tr, e, last))
            return NAN;
        for (n = last; n > 0 && holds(tr, e, n - 1); n--)
            ;
        return time_of(tr, n);
    default: /* TSRELU_EVENT_LEAVE */
        if (holds(tr, e, last))
            return NAN;
        for (n = last; n > 0 && !holds(tr, e, n - 1); n--)
            ;
        return n > 0 ? time_of(tr, n) : NAN;
    }
}

static tsrelu_status check_threshold(const char *fn, const char *name, double v)
{
    if (!isfinite(v))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: %s=%g is not finite", fn, name, v);
    if (!(v > 0.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s=%g must be > 0", fn, name, v);
    return TSRELU_OK;
}

tsrelu_status tsrelu__event_times(const char *fn, const tsrelu__traj *tr, int kind, int mode, double threshold,
                                  double *times, size_t len)
{
    if (kind < TSRELU_EVENT_GROUP || kind > TSRELU_EVENT_NORM_SHARE)
        return tsrelu__fail(TSRELU_EINVAL, "%s: kind=%d is not a TSRELU_EVENT_ kind", fn, kind);
    if (mode < TSRELU_EVENT_FIRST || mode > TSRELU_EVENT_LEAVE)
        return tsrelu__fail(TSRELU_EINVAL, "%s: mode=%d is not FIRST, SETTLE or LEAVE", fn, mode);
    tsrelu_status st;
    if (kind != TSRELU_EVENT_GROUP && (st = check_threshold(fn, "threshold", threshold)) != TSRELU_OK)
        return st;
    size_t want = items(tr, kind);
    if (!times && len > 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: times is NULL", fn);
    if (len != want)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: times has length %zu, %zu (%s) required", fn, len, want,
                            kind == TSRELU_EVENT_DEFICIT ? "k" : "m");
    for (size_t x = 0; x < want; x++) {
        event e = {kind, threshold, x, -1, 0.0};
        times[x] = tr->n > 0 && prepare(tr, &e) ? reduce(tr, &e, mode) : NAN;
    }
    return TSRELU_OK;
}

size_t tsrelu__switches(const tsrelu__traj *tr, double *out)
{
    size_t count = 0;
    for (size_t n = 1; n < tr->n; n++)
        for (size_t i = 0; i < tr->m; i++) {
            int from = member(tr, TSRELU_EVENT_GROUP, n - 1, i, 0.0);
            int to = member(tr, TSRELU_EVENT_GROUP, n, i, 0.0);
            if (from == to)
                continue;
            if (out) {
                double *row = out + 4 * count;
                row[0] = time_of(tr, n);
                row[1] = (double)i;
                row[2] = from;
                row[3] = to;
            }
            count++;
        }
    return count;
}

/* Local slope of log L on log T between rows n - 1 and n; NaN if undefined. */
static double local_slope(const tsrelu__traj *tr, size_t n)
{
    double t0 = time_of(tr, n - 1), t1 = time_of(tr, n), L0 = tr->loss[n - 1], L1 = tr->loss[n];
    if (!(t0 > 0.0 && L0 > 0.0 && L1 > 0.0 && t1 > t0 && isfinite(t1) && isfinite(L0) && isfinite(L1)))
        return NAN;
    return (log(L1) - log(L0)) / (log(t1) - log(t0));
}

tsrelu_status tsrelu__rate_onset(const char *fn, const tsrelu__traj *tr, double delta, double *onset,
                                 double *slope)
{
    tsrelu_status st = check_threshold(fn, "delta", delta);
    if (st != TSRELU_OK)
        return st;
    double fit = NAN, at = NAN;
    size_t usable = 0;
    if (tr->n > 0) {
        double t_hi = time_of(tr, tr->n - 1), t_lo = t_hi / 10.0;
        for (size_t n = 0; n < tr->n; n++) {
            double t = time_of(tr, n), L = tr->loss[n];
            usable += t >= t_lo && t <= t_hi && t > 0.0 && L > 0.0 && isfinite(t) && isfinite(L);
        }
        if (usable >= 2) {
            double *t = malloc(tr->n * sizeof(double));
            if (!t)
                return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory", fn);
            for (size_t n = 0; n < tr->n; n++)
                t[n] = time_of(tr, n);
            /* fails only on a window of equal times (rows of repeated iterations) */
            if (tsrelu_rate_fit(t, tr->loss, tr->n, t_lo, t_hi, &fit, NULL) != TSRELU_OK)
                fit = NAN;
            free(t);
        }
    }
    if (!isnan(fit) && tr->n >= 2) {
        size_t n = tr->n - 1;
        if (fabs(local_slope(tr, n) - fit) <= delta) {
            while (n > 1 && fabs(local_slope(tr, n - 1) - fit) <= delta)
                n--;
            at = time_of(tr, n - 1);
        }
    }
    if (onset)
        *onset = at;
    if (slope)
        *slope = fit;
    return TSRELU_OK;
}

/* ---------------- quantiles ---------------- */

/* NaN (never) after every number. */
static int cmp_time(const void *p, const void *q)
{
    double a = *(const double *)p, b = *(const double *)q;
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

TSRELU_API tsrelu_status tsrelu_event_quantile(const double *times, size_t n, double p, double *out)
{
    const char *fn = "tsrelu_event_quantile";
    if (!out)
        return tsrelu__fail(TSRELU_EINVAL, "%s: out is NULL", fn);
    if (!times && n > 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: times is NULL", fn);
    if (isnan(p))
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: p is NaN", fn);
    if (!(p >= 0.0 && p <= 1.0))
        return tsrelu__fail(TSRELU_EINVAL, "%s: p=%g is not in [0, 1]", fn, p);
    *out = NAN;
    if (n == 0)
        return TSRELU_OK;
    if (n > SIZE_MAX / sizeof(double))
        return tsrelu__fail(TSRELU_ENOMEM, "%s: n=%zu overflows", fn, n);
    double *s = malloc(n * sizeof(double));
    if (!s)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for %zu times", fn, n);
    for (size_t i = 0; i < n; i++)
        s[i] = times[i];
    qsort(s, n, sizeof(double), cmp_time);
    *out = s[(size_t)floor(p * (double)(n - 1))];
    free(s);
    return TSRELU_OK;
}

/* ---------------- the public API on a record ---------------- */

TSRELU_API tsrelu_status tsrelu_record_event_times(const tsrelu_record *r, int kind, int mode, double threshold,
                                                   double *times, size_t len)
{
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_record_event_times: r is NULL");
    tsrelu__traj tr;
    tsrelu__record_traj(r, &tr);
    return tsrelu__event_times("tsrelu_record_event_times", &tr, kind, mode, threshold, times, len);
}

TSRELU_API tsrelu_status tsrelu_record_switches(const tsrelu_record *r, double *out, size_t len, size_t *count)
{
    const char *fn = "tsrelu_record_switches";
    if (!r || !count)
        return tsrelu__fail(TSRELU_EINVAL, "%s: %s is NULL", fn, r ? "count" : "r");
    if (!out && len > 0)
        return tsrelu__fail(TSRELU_EINVAL, "%s: out is NULL", fn);
    tsrelu__traj tr;
    tsrelu__record_traj(r, &tr);
    size_t n = *count = tsrelu__switches(&tr, NULL);
    if (len == 0)
        return TSRELU_OK;
    if (n > SIZE_MAX / 4 || len != 4 * n)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: out has length %zu, 0 or 4 * %zu (switches) required", fn,
                            len, n);
    tsrelu__switches(&tr, out);
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_record_rate_onset(const tsrelu_record *r, double delta, double *onset,
                                                  double *slope)
{
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "tsrelu_record_rate_onset: r is NULL");
    tsrelu__traj tr;
    tsrelu__record_traj(r, &tr);
    return tsrelu__rate_onset("tsrelu_record_rate_onset", &tr, delta, onset, slope);
}

/* The watch of r if its settings may change now. */
static tsrelu_status watch_of(const char *fn, tsrelu_record *r, tsrelu__watch **w)
{
    *w = NULL;
    if (!r)
        return tsrelu__fail(TSRELU_EINVAL, "%s: r is NULL", fn);
    const tsrelu_gd *gd;
    *w = tsrelu__record_watch(r, &gd);
    return tsrelu__record_idle(r, fn);
}

TSRELU_API tsrelu_status tsrelu_record_set_event_callback(tsrelu_record *r, unsigned kinds, tsrelu_event_fn fn,
                                                          void *user_data)
{
    const char *name = "tsrelu_record_set_event_callback";
    tsrelu__watch *w = NULL;
    tsrelu_status st = watch_of(name, r, &w);
    if (st != TSRELU_OK)
        return st;
    if (fn && (kinds & ~(unsigned)TSRELU_EVENT_ALL_ONLINE))
        return tsrelu__fail(TSRELU_EINVAL, "%s: kinds=0x%x has bits outside the on-line kinds (0x%x)", name,
                            kinds, (unsigned)TSRELU_EVENT_ALL_ONLINE);
    w->fn = fn;
    w->user_data = fn ? user_data : NULL;
    w->mask = fn ? kinds : 0;
    return TSRELU_OK;
}

TSRELU_API tsrelu_status tsrelu_record_set_event_threshold(tsrelu_record *r, int kind, double threshold)
{
    const char *name = "tsrelu_record_set_event_threshold";
    tsrelu__watch *w = NULL;
    tsrelu_status st = watch_of(name, r, &w);
    if (st != TSRELU_OK)
        return st;
    if (kind != TSRELU_EVENT_ALIGN && kind != TSRELU_EVENT_MEAN && kind != TSRELU_EVENT_DEFICIT)
        return tsrelu__fail(TSRELU_EINVAL, "%s: kind=%d has no threshold (ALIGN, MEAN or DEFICIT)", name, kind);
    if ((st = check_threshold(name, "threshold", threshold)) != TSRELU_OK)
        return st;
    w->eps[kind] = threshold;
    return TSRELU_OK;
}

/* Events of a trajectory (events.c): the one definition of every event,
 * read from columns laid out as the recorder stores them, shared by the
 * post-hoc functions and the on-line callback. Nothing here knows the
 * recorder's struct, so a trajectory built by hand (the tests) or by
 * another integrator (gradient flow, with real times) is read the same way. */
#ifndef TSRELU_EVENTS_H
#define TSRELU_EVENTS_H

#include "tsrelu.h"

#include <stddef.h>
#include <stdint.h>

/* n rows of a trajectory of m students and k teachers. */
typedef struct {
    size_t n, m, k;
    const uint64_t *iter;   /* n: the times are these iteration numbers, or */
    const double *time;     /* n: these times (used when non-NULL) */
    const double *loss;     /* n: the loss the rate onset fits */
    const double *norm, *a, *near, *angle, *mean; /* n*m: |w_i|, a_i, l_i (-1), angles */
    const double *deficit, *size;                 /* n*k: H_l, m_l */
    const double *scale;    /* k: |b_l| |v_l| */
} tsrelu__traj;

/* What an on-line detector watches: a mask of TSRELU_EVENT_BIT(kind) and
 * the threshold of each kind (index = kind). */
typedef struct {
    tsrelu_event_fn fn;
    void *user_data;
    unsigned mask;
    double eps[TSRELU_EVENT_DEFICIT + 1];
} tsrelu__watch;

/* Default thresholds (those of the 1.0 tracker). */
void tsrelu__watch_init(tsrelu__watch *w);

/* Call w->fn for every transition of a watched kind between rows n - 1 and
 * n of tr (row 0: entries into every set the item is in), passing gd;
 * returns the first non-zero value fn returned (the rest of the row is not
 * reported), else 0. */
int tsrelu__events_row(const tsrelu__traj *tr, size_t n, const tsrelu__watch *w, const tsrelu_gd *gd);

/* The post-hoc functions on a trajectory (arguments checked as the public
 * ones, naming fn). */
tsrelu_status tsrelu__event_times(const char *fn, const tsrelu__traj *tr, int kind, int mode, double threshold,
                                  double *times, size_t len);
/* The number of group switches; rows (time, student, from, to) into out
 * when out is non-NULL (room for all of them). */
size_t tsrelu__switches(const tsrelu__traj *tr, double *out);
tsrelu_status tsrelu__rate_onset(const char *fn, const tsrelu__traj *tr, double delta, double *onset,
                                 double *slope);

#endif

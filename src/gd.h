/* The GD state's private interface (gd.c): the log schedule, the
 * checkpoint hooks (export, restore) and the batch hooks (hold, run,
 * release). The struct itself is private to gd.c. */
#ifndef TSRELU_GD_H
#define TSRELU_GD_H

#include "tsrelu.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Point j of the log schedule with P points per decade, ceil(10^(j/P)),
 * UINT64_MAX past the uint64 range: the one definition of the observer
 * schedule and of the batch summaries' sample points. */
uint64_t tsrelu__log_point(uint64_t j, uint64_t P);

/* A schedule of iterates (TSRELU_SCHEDULE_LINEAR or _LOG with its param)
 * and where the log schedule has got to: the observer's and the recorder's
 * share this one machinery. kind 0: none. */
typedef struct {
    int kind;
    uint64_t param;
    uint64_t log_j, log_next; /* next point of the log schedule */
} tsrelu__schedule;

/* Validate (TSRELU_EINVAL naming fn) and start a schedule at its first point. */
tsrelu_status tsrelu__schedule_init(const char *fn, int schedule, uint64_t param, tsrelu__schedule *sc);
/* 1 if iterate t is a point of the schedule; t never decreases between calls
 * (or the schedule is initialised again). */
int tsrelu__scheduled(tsrelu__schedule *sc, uint64_t t);

/* Everything a checkpoint holds, as a flat description: tsrelu__gd_export()
 * fills it with pointers into a live state, tsrelu__gd_restore() builds a
 * state from it without re-validating it as a creation would (a state that
 * could be saved must load). */
typedef struct {
    size_t m, k, d;
    const double *V, *b;          /* teacher, k*d and k */
    const double *W, *a;          /* current iterate, m*d and m */
    double eta, tol_loss, tol_grad;
    int train_a;
    uint64_t iter;
    int schedule;                 /* 0 when no observer is installed */
    uint64_t param;
    int observed_any;
    uint64_t last_observed;
    double eps_align, eps_deficit;
    int64_t t1, t2;
    int phase, have_tau0;
    size_t switches;
    const int *tau0, *tau;        /* m each */
    const double *step_state;     /* the declared (or loaded, unclaimed) step state */
    size_t step_len;
    int sampled;                  /* 1: a sampler (sgd.h), saved in format version 2 */
    uint64_t sgd_words[13];       /* TSRELU__SGD_WORDS */
    const double *sgd_X;          /* the caller's training set, sgd_X_len doubles */
    size_t sgd_X_len;
} tsrelu__gd_image;

void tsrelu__gd_export(const tsrelu_gd *gd, tsrelu__gd_image *im);
/* TSRELU_ENOMEM, or TSRELU_EFORMAT naming `what` when the image breaks an
 * invariant that every state the API produces keeps. */
tsrelu_status tsrelu__gd_restore(const tsrelu__gd_image *im, const char *what, tsrelu_gd **out);

/* For batch.c: run a state whose guard the batch already holds
 * (tsrelu__gd_hold), and release it; `cancel` (may be NULL) is a flag that
 * interrupts the run as tsrelu_gd_interrupt() does. */
tsrelu_status tsrelu__gd_hold(tsrelu_gd *gd, const char *fn);
void tsrelu__gd_release(tsrelu_gd *gd);
tsrelu_status tsrelu__gd_run_held(tsrelu_gd *gd, uint64_t max_steps, atomic_int *cancel);
/* Mark a state as owned by a batch: tsrelu_gd_free() on it does nothing;
 * tsrelu__gd_destroy() frees it. */
void tsrelu__gd_set_batch_owned(tsrelu_gd *gd);

/* For phases.c (the public phase API): the state's tracker, TSRELU_EBUSY
 * (or TSRELU_EINVAL for NULL) naming fn unless the state may be changed,
 * and a re-test of the current iterate after new thresholds. */
struct tsrelu__phases;
struct tsrelu__phases *tsrelu__gd_tracker(const tsrelu_gd *gd);
tsrelu_status tsrelu__gd_idle(const tsrelu_gd *gd, const char *fn);
void tsrelu__gd_retrack(tsrelu_gd *gd);
void tsrelu__gd_destroy(tsrelu_gd *gd);

/* For record.c: attach r (NULL detaches) with its schedule sc; returns the
 * recorder attached before (NULL if none). The state calls
 * tsrelu__record_detached() on its recorder when it is freed. */
tsrelu_record *tsrelu__gd_attach(tsrelu_gd *gd, tsrelu_record *r, const tsrelu__schedule *sc);

/* For sgd.c: the state's sampler slot (NULL: exact GD). */
struct tsrelu__sgd;
struct tsrelu__sgd **tsrelu__gd_sampler(tsrelu_gd *gd);

#endif

/* Progress on stderr. auto: a line redrawn in place, only when stderr is a
 * terminal, also while the runs of a chunk are in flight (the steps they
 * have done); always: the same on a terminal, else one plain line per
 * recorded chunk (for batch-job logs); never: none. A one-line summary is
 * printed at the end in every mode. */
#ifndef SWEEP_PROGRESS_H
#define SWEEP_PROGRESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

enum { PROGRESS_AUTO, PROGRESS_ALWAYS, PROGRESS_NEVER };

typedef struct {
    int mode, tty, shown;
    size_t total;  /* runs of this sweep (or shard) */
    size_t before; /* already recorded when it started */
    size_t done;   /* recorded since */
    size_t not_ok; /* recorded runs whose status is not OK */
    double cost_todo, cost_done; /* grid_cost() of the runs to do, of those done */
    double t0, drawn;              /* start, latest redraw */
    uint64_t steps_done, steps_all; /* inside the chunk in flight */
    pthread_mutex_t lock;          /* progress_steps() comes from a monitor thread */
} progress;

/* Parse "auto", "always" or "never". @return the mode or -1. */
int progress_mode(const char *s);

/* total runs, `before` of them already recorded; cost_todo: the summed
 * grid_cost() of the others (the time estimate is proportional to it). */
void progress_start(progress *p, int mode, size_t total, size_t before, double cost_todo);

/* `runs` more runs recorded, `not_ok` of them with a status other than OK,
 * of summed grid_cost() `cost`. */
void progress_add(progress *p, size_t runs, size_t not_ok, double cost);

/* 1 if a live line is shown (auto or always, on a terminal): only then is
 * progress inside runs worth measuring. */
int progress_live(const progress *p);

/* Inside the chunk in flight, `done` of its `all` steps are done
 * (tsrelu_batch_progress): redraws the live line at most four times a
 * second. Thread-safe. */
void progress_steps(progress *p, uint64_t done, uint64_t all);

/* The closing summary line, naming the output file. */
void progress_end(progress *p, const char *out);

#endif

/* The GD state's phase tracker (phases.c), updated from the workspace of
 * every evaluation. */
#ifndef TSRELU_PHASES_H
#define TSRELU_PHASES_H

#include "model.h"

typedef struct tsrelu__phases {
    size_t m;
    double eps_align, eps_deficit;
    int *tau0, *tau;      /* m: groups at iteration 0 and at the latest */
    double *H;            /* k: projection deficits at the latest */
    double *radial;       /* m: |w_i| cos theta to the nearest teacher, at the latest */
    size_t *count;        /* k: group sizes at the latest */
    int64_t t1, t2;
    int phase;
    int have_tau0;
    size_t switches;
} tsrelu__phases;

tsrelu_status tsrelu__phases_alloc(tsrelu__phases *ph, size_t m, size_t k);
void tsrelu__phases_free(tsrelu__phases *ph);
void tsrelu__phases_reset(tsrelu__phases *ph);
/* Update from the workspace of an evaluation at iteration `iter`. The
 * deficits are computed only while t2 is sought (phase 2). */
void tsrelu__phases_update(tsrelu__phases *ph, const tsrelu_teacher *t, size_t m,
                           const double *a, const tsrelu__ws *ws, uint64_t iter);
/* H and count of the nearest groups of the workspace's iterate (a its
 * output weights): the tracker's own test in phase 2, and a recorded row's
 * columns. */
void tsrelu__phases_deficits(tsrelu__phases *ph, const tsrelu_teacher *t, size_t m,
                             const double *a, const tsrelu__ws *ws);

#endif

/* The trajectory recorder's private interface (record.c): what gd.c hands
 * it at a recorded iterate, and the detach hook of a freed state. */
#ifndef TSRELU_RECORD_H
#define TSRELU_RECORD_H

#include "events.h"
#include "model.h"
#include "phases.h"

/* One evaluated iterate, as the evaluation left it: the workspace holds the
 * pair pass (norms, nearest teachers and angles), the tracker the deficits
 * and group sizes of those nearest groups. */
typedef struct {
    uint64_t iter;
    double loss, grad_norm;
    const tsrelu_student *s;
    const tsrelu_teacher *t;
    const tsrelu__ws *ws;
    const tsrelu__phases *ph;
    double time;          /* eta * iter for GD, the flow time for a flow */
} tsrelu__record_point;

/* Store pt (no allocation); a full recorder counts it as missed. An
 * iterate equal to the previous one taken since attachment is skipped.
 * A stored row is handed to the event callback (events.c); returns the
 * first non-zero value it returned, else 0. The recorder may have been
 * freed by the callback when this returns: do not touch it. */
int tsrelu__record_take(tsrelu_record *r, const tsrelu__record_point *pt);
/* The columns of r as a trajectory (events.c reads them). */
void tsrelu__record_traj(const tsrelu_record *r, tsrelu__traj *tr);
/* The on-line event settings of r, and the state it is attached to (NULL
 * if none) into *gd. */
tsrelu__watch *tsrelu__record_watch(tsrelu_record *r, const tsrelu_gd **gd);
/* TSRELU_OK unless the GD state or flow r is attached to is running
 * (TSRELU_EBUSY naming fn). */
tsrelu_status tsrelu__record_idle(const tsrelu_record *r, const char *fn);
/* The state r was attached to is being freed. */
void tsrelu__record_detached(tsrelu_record *r);

#endif

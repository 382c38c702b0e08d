/* The gradient-flow state's private interface (flow.c): the recorder hook. */
#ifndef TSRELU_FLOW_H
#define TSRELU_FLOW_H

#include "gd.h"

/* For record.c: attach r (NULL detaches) with its schedule sc over flow
 * time; returns the recorder attached before (NULL if none). The state
 * calls tsrelu__record_detached() on its recorder when it is freed. */
tsrelu_record *tsrelu__flow_attach(tsrelu_flow *fl, tsrelu_record *r, const tsrelu__schedule *sc);

/* TSRELU_EINVAL (NULL) or TSRELU_EBUSY (in a run) naming fn, else TSRELU_OK. */
tsrelu_status tsrelu__flow_idle(const tsrelu_flow *fl, const char *fn);

#endif

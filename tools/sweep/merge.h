/* --merge OUT IN...: join the outputs of shards (or of any sweeps of one
 * grid) into the canonical CSV. */
#ifndef SWEEP_MERGE_H
#define SWEEP_MERGE_H

#include "grid.h"
#include "options.h"

/* The rows of every input, sorted by run index, equal repeats kept once,
 * conflicting ones refused, checked for gaps (and against g, when not NULL),
 * written atomically to o->merge_out. @return the exit status (0 or 1). */
int sweep_merge(const options *o, const sweep_grid *g);

#endif

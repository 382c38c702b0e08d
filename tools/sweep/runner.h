/* Run a chunk of grid runs through the library's batch API and format their
 * CSV rows. */
#ifndef SWEEP_RUNNER_H
#define SWEEP_RUNNER_H

#include "grid.h"
#include "progress.h"
#include "strbuf.h"
#include "traj.h"

#include <stddef.h>

/* Run the grid runs idx[0..n) as one tsrelu batch on `threads` threads and
 * append one complete CSV line per run (in the order of idx) to out.
 * *not_ok (may be NULL) receives the number of runs whose own status was
 * neither TSRELU_OK nor TSRELU_CONVERGED (diverged runs are still rows).
 * With a live progress line (prog non-NULL), a monitor thread reports the
 * steps done inside the batch while it runs. With traj->dir set (traj may
 * be NULL), each run is recorded on traj's log schedule and written to
 * traj->dir/run_<index>.csv (traj.h) before its row is appended.
 * @return 0, or -1 with a message in err (setup or batch failure: no row). */
int runner_run(const sweep_grid *g, const size_t *idx, size_t n, unsigned threads, const sweep_traj *traj,
               progress *prog, strbuf *out, size_t *not_ok, char *err, size_t errlen);

#endif

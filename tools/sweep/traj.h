/* Per-run trajectories (--trajectories DIR): a recorder on each batch state,
 * written to DIR/run_<index>.csv after the batch. */
#ifndef SWEEP_TRAJ_H
#define SWEEP_TRAJ_H

#include <tsrelu.h>

#include <stddef.h>
#include <stdint.h>

#define TRAJ_DEFAULT_PER_DECADE 10
#define TRAJ_MAX_PER_DECADE 1000

typedef struct {
    const char *dir;       /* NULL: no trajectories */
    unsigned per_decade;   /* points per decade of the log schedule */
} sweep_traj;

/* Make dir if it does not exist (one level) and check that it is a
 * writable directory. @return 0, or -1 with a message naming dir. */
int traj_prepare(const char *dir, char *err, size_t errlen);

/* Attach a recorder, big enough for every iterate a run of `steps` steps
 * records, to gd; *out receives it (free with tsrelu_record_free).
 * @return 0, or -1 with a message in err. */
int traj_attach(const sweep_traj *t, tsrelu_gd *gd, uint64_t steps, size_t index, tsrelu_record **out,
                char *err, size_t errlen);

/* Write r to dir/run_<index>.csv through a temporary file renamed into
 * place, so the name never holds half a file. Fails when the record was
 * truncated. @return 0, or -1 with a message in err. */
int traj_write(const sweep_traj *t, const tsrelu_record *r, size_t index, char *err, size_t errlen);

#endif

/* Command-line options of tsrelu-sweep. */
#ifndef SWEEP_OPTIONS_H
#define SWEEP_OPTIONS_H

#include <stdio.h>
#include <stddef.h>

#define MAX_AXIS_FLAGS 64
#define MAX_CHUNK 100000

/* What the command line asks for (see --help and docs/sweeps.md). */
typedef struct {
    const char *grid_file, *out, *merge_out;
    const char **inputs;
    size_t ninputs;
    int axis_id[MAX_AXIS_FLAGS];
    const char *axis_spec[MAX_AXIS_FLAGS];
    size_t naxes;
    unsigned threads;
    size_t chunk, shard_i, shard_n;
    int progress;      /* PROGRESS_* */
    int list, allow_missing;
    const char *traj_dir; /* --trajectories DIR, or NULL */
    unsigned per_decade;  /* --per-decade P (0: not given) */
} options;

/* Parse argv into o (messages through say()). @return 0 to go on, 1 when
 * done (--help, --version), 2 on a usage error. Free with options_free(). */
int options_parse(int argc, char **argv, options *o);

void options_free(options *o);

#endif

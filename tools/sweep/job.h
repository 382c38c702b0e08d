/* The runs still to do and the output they go to, shared by the threads of
 * one process: the local loop (all modes) and, in the MPI build, rank 0's
 * coordinator, which hands chunks to the other ranks and records their rows. */
#ifndef SWEEP_JOB_H
#define SWEEP_JOB_H

#include "grid.h"
#include "progress.h"
#include "table.h"
#include "traj.h"

#include <pthread.h>
#include <stddef.h>

typedef struct {
    const sweep_grid *grid;
    unsigned threads; /* threads of each local batch (>= 1) */
    size_t chunk;     /* runs per local batch (>= 1) */
    const sweep_traj *traj; /* trajectories (NULL or dir NULL: none) */
    table_out *out;
    progress *prog;
    const size_t *todo; /* run indices not recorded yet, ascending */
    size_t ntodo, next;
    pthread_mutex_t lock;
    int failed;
    char err[2048];
} sweep_job;

/* Take up to max runs (fewer at the end; 0 when none is left or the job
 * failed) into idx. Thread-safe. */
size_t job_take(sweep_job *j, size_t max, size_t *idx);

/* Append finished rows (complete lines) to the output and count them.
 * Thread-safe. @return 0, or -1 (the job is then marked failed). */
int job_record(sweep_job *j, const char *text, size_t len, size_t runs, size_t not_ok);

/* Mark the job failed with a message (the first one is kept). Thread-safe. */
void job_fail(sweep_job *j, const char *msg);

/* Run chunks on this process until none is left. @return 0 or -1. */
int job_run_local(sweep_job *j);

#endif

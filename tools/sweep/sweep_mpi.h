/* MPI distribution (only in the build with -DTSRELU_SWEEP_MPI).
 *
 * Dynamic master/worker: rank 0 keeps the queue of unrecorded runs and the
 * output file. Every other rank asks for a chunk (as many runs as its
 * --chunk), runs it as one local batch and sends the finished rows back with
 * its next request; rank 0 appends them at once, so a killed job loses only
 * the runs in flight. Rank 0 also runs chunks itself, in a second thread;
 * only its main thread calls MPI (MPI_THREAD_FUNNELED). */
#ifndef SWEEP_MPI_H
#define SWEEP_MPI_H

#include "grid.h"
#include "job.h"

#include <stddef.h>
#include <stdint.h>

/* MPI_Init_thread; rank and size of MPI_COMM_WORLD. @return 0 or -1. */
int smpi_init(int *argc, char ***argv, int *rank, int *size);

void smpi_finalize(void);

/* Kill every rank (after a rank-local failure). */
void smpi_abort(int code);

/* Rank 0's v on every rank. */
int smpi_bcast_int(int v);

/* Rank 0's text (NUL-terminated, or NULL) on every rank: the grid file is
 * read once, by rank 0. Other ranks get a malloc'd copy (or NULL). */
char *smpi_bcast_text(char *text);

/* 1 when every rank computed the same fingerprint, else 0 (on every rank). */
int smpi_same(uint64_t fingerprint);

/* Rank 0: serve the other ranks until every run is handed out and every
 * row is recorded, while computing chunks in a thread of its own.
 * @return 0 or -1 (message in j->err). */
int smpi_coordinate(sweep_job *j, int size);

/* Ranks > 0: request chunks, run them, return rows, until told to stop.
 * Trajectories (traj->dir set) are written by the rank that runs them.
 * @return 0 or -1 (message in err). */
int smpi_work(const sweep_grid *g, unsigned threads, size_t chunk, const sweep_traj *traj, char *err,
              size_t errlen);

#endif

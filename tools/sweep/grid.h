/* The grid of a sweep: one list of values per axis, expanded as a
 * Cartesian product in a fixed order, so that a run index names the same
 * configuration on every machine and in every mode (local, MPI, shards).
 *
 * Axes, outermost first (seed varies fastest):
 *   teacher, k, m, d, sigma, eta, eps_align, eps_deficit, steps, seed
 * Grid file syntax and value lists: see docs/sweeps.md. */
#ifndef SWEEP_GRID_H
#define SWEEP_GRID_H

#include <stddef.h>
#include <stdint.h>

enum {
    AX_TEACHER,
    AX_K,
    AX_M,
    AX_D,
    AX_SIGMA,
    AX_ETA,
    AX_EPS_ALIGN,
    AX_EPS_DEFICIT,
    AX_STEPS,
    AX_SEED,
    AX_COUNT
};

/* Teacher constructions (the kind is stored per value of the teacher axis). */
enum { TEACHER_ORTHOGONAL = 0 };

typedef struct {
    size_t n;
    double *v;   /* values of a real axis; teacher norms */
    uint64_t *u; /* values of an integer axis; teacher kinds */
    int set;     /* given by the grid file or a flag */
} grid_axis;

typedef struct {
    grid_axis ax[AX_COUNT];
    size_t total; /* number of runs, after grid_finish() */
} sweep_grid;

/* One run of the grid. */
typedef struct {
    size_t index;
    int teacher;   /* TEACHER_* */
    double norm;   /* |v_j| of every teacher neuron */
    size_t k, m, d;
    double sigma, eta, eps_align, eps_deficit;
    uint64_t steps, seed; /* seed: teacher and student (the library separates the streams) */
} sweep_config;

/* The axis named `name` (grid-file spelling, e.g. "eps_align"; "seeds" is
 * accepted for "seed"), or -1. */
int grid_axis_id(const char *name);

/* The grid-file name of axis `id`. */
const char *grid_axis_name(int id);

/* Replace the values of axis `id` by the list `spec`. @return 0, or -1 with
 * a message in err. */
int grid_set(sweep_grid *g, int id, const char *spec, char *err, size_t errlen);

/* Read "name = list" lines (# comments) from text; `source` names it in
 * messages. @return 0 or -1 with a message in err. */
int grid_parse_text(sweep_grid *g, const char *text, const char *source, char *err, size_t errlen);

/* Fill unset axes with their defaults, validate every combination and
 * compute g->total. @return 0 or -1 with a message in err. */
int grid_finish(sweep_grid *g, char *err, size_t errlen);

/* The configuration of run `index` (< g->total). */
void grid_config(const sweep_grid *g, size_t index, sweep_config *c);

/* Relative cost of a run, for time estimates only: a step costs a constant
 * plus O(m (m + k)) pair terms and O(m (m + k) d) Gram products. */
double grid_cost(const sweep_config *c);

/* Every run index, sorted by grid_cost() descending, ties by index: the
 * order in which runs are handed out (largest first keeps the tail of a
 * sweep short) and dealt to shards (position mod N), so that every shard gets
 * the same mix of cheap and expensive runs. malloc'd; NULL when out of
 * memory. */
size_t *grid_order(const sweep_grid *g);

/* FNV-1a 64 of every axis value, to check that MPI ranks expanded the same
 * grid. */
uint64_t grid_fingerprint(const sweep_grid *g);

void grid_free(sweep_grid *g);

#endif

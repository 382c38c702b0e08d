/* The sweep's CSV: one row per finished run, the run index first, the
 * configuration, the summary, and the wall time as the last column (the only
 * non-deterministic one). Rows are appended as whole lines (one write, then
 * fsync) in completion order; the canonical file is sorted by run index and
 * rewritten atomically (temporary file, fsync, rename) once a sweep or a
 * merge is complete. */
#ifndef SWEEP_TABLE_H
#define SWEEP_TABLE_H

#include "grid.h"
#include "strbuf.h"

#include <stddef.h>
#include <sys/types.h>

#define TABLE_NCOLS 26       /* columns of a row */
#define TABLE_PREFIX_COLS 12 /* run index and configuration */

/* The header line, without its newline. */
extern const char table_header[];

/* x with the fewest of 15, 16 or 17 significant digits that reads back to
 * the same double ("nan", "inf", "-inf" for non-finite values). */
void table_fmt_double(char *buf, size_t len, double x);

/* Append "run,teacher,norm,k,m,d,sigma,eta,eps_align,eps_deficit,steps,seed"
 * of c (no trailing comma). @return 0 or -1 (out of memory). */
int table_prefix(strbuf *sb, const sweep_config *c);

typedef struct {
    size_t index;
    const char *line; /* points into the table's data; not NUL-terminated */
    size_t len;       /* without the newline */
} table_row;

typedef struct {
    char *data; /* file contents (owned) */
    size_t size;
    size_t valid;   /* bytes up to and including the last complete line */
    table_row *row;
    size_t n;
} table;

/* Parse a sweep CSV held in t->data (size bytes): the header must be
 * table_header, every complete line a row of TABLE_NCOLS fields with a run
 * index first. A trailing line without a newline is not a row (t->valid
 * stops before it). An empty file (or a partial header) has no rows and
 * valid = 0. @return 0 or -1 with a message naming `name` and the line. */
int table_parse(table *t, const char *name, char *err, size_t errlen);

/* Read the whole file into t and parse it. @return 0, 1 if the file does not
 * exist, -1 on error. */
int table_load(table *t, const char *path, char *err, size_t errlen);

/* Every row is a run of grid g (of this shard: mine[index] != 0, unless
 * mine is NULL) and carries g's configuration for its index. `shard` names
 * the shard in messages. @return 0 or -1. */
int table_check_grid(const table *t, const sweep_grid *g, const unsigned char *mine, const char *shard,
                     const char *name, char *err, size_t errlen);

/* Sort the rows by run index; drop repeated rows that agree on every column
 * but the wall time; conflicting repeats are an error. @return 0 or -1. */
int table_sort(table *t, char *err, size_t errlen);

/* Write header and rows to path atomically. @return 0 or -1. */
int table_write(const table *t, const char *path, char *err, size_t errlen);

void table_free(table *t);

/* --------------------------------------------------------------------
 * The output of a running sweep: opened once, locked against a second
 * writer, appended to by whole lines.
 * -------------------------------------------------------------------- */

typedef struct {
    int fd;
    const char *path;
    size_t dropped; /* bytes of a partial last line removed at open */
} table_out;

/* Open (or create, with its header) the output, take an exclusive lock, load
 * the rows already recorded into `existing` and cut a partial last line off
 * the file. A non-empty file whose first line is not the header is refused.
 * @return 0 or -1. */
int table_out_open(table_out *o, const char *path, table *existing, char *err, size_t errlen);

/* Append complete lines (text ends with a newline) with one write and fsync.
 * @return 0 or -1. */
int table_out_append(table_out *o, const char *text, size_t len, char *err, size_t errlen);

/* Close the output (releasing the lock). */
void table_out_close(table_out *o);

#endif

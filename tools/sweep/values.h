/* Parsing the value list of one grid axis: "v1, v2, ...", where an item is
 * a value or a range A:B (integers), A:B:STEP, A:B*FACTOR; teacher items are
 * "orthogonal" or "orthogonal:NORM". Syntax: docs/sweeps.md section 3. */
#ifndef SWEEP_VALUES_H
#define SWEEP_VALUES_H

#include "grid.h"

#include <stddef.h>

enum { VALUES_TEACHER, VALUES_INT, VALUES_REAL };

/* Replace a's values by the list `spec` for an axis of type VALUES_* named
 * `name` (in messages). Equal values are refused. @return 0, or -1 with a
 * message in err. */
int values_parse(grid_axis *a, const char *name, int type, const char *spec, char *err, size_t errlen);

/* Copy s[0..n) without surrounding blanks into buf (NUL-terminated).
 * @return 0, or -1 if it is empty or does not fit in len. */
int values_token(const char *s, size_t n, char *buf, size_t len);

/* @return non-zero if s[0..n) holds only blanks. */
int values_blank(const char *s, size_t n);

#endif

/* Parsing the value list of one grid axis: "v1, v2, ...", where an item is
 * a value or a range A:B (integers), A:B:STEP, A:B*FACTOR; teacher items are
 * "orthogonal" or "orthogonal:NORM". Syntax: docs/sweeps.md section 3.
 * Also the one place where the sweep reads a number from text (options and
 * the CSV too). */
#ifndef SWEEP_VALUES_H
#define SWEEP_VALUES_H

#include "grid.h"

#include <stddef.h>
#include <stdint.h>

enum { VALUES_TEACHER, VALUES_INT, VALUES_REAL };

/* Replace a's values by the list `spec` for an axis of type VALUES_* named
 * `name` (in messages). Equal values are refused. @return 0, or -1 with a
 * message in err. */
int values_parse(grid_axis *a, const char *name, int type, const char *spec, char *err, size_t errlen);

/* Copy s[0..n) without surrounding blanks into buf (NUL-terminated).
 * @return 0, or -1 if it is empty, holds a NUL byte or does not fit in len. */
int values_token(const char *s, size_t n, char *buf, size_t len);

/* Numbers in s[0..n), blanks around them ignored; decimal only (no hex, no
 * "inf" or "nan"), so that 0x10 is an error rather than 16. Each @return 0,
 * or -1 (nothing stored) if the text is not such a number. */

/* A finite real written in decimal (1, -0.5, 1e-6, .5e+3). */
int values_real(const char *s, size_t n, double *out);

/* A non-negative integer in decimal digits only (no sign); leading zeros
 * are harmless (010 is 10). Up to UINT64_MAX. */
int values_digits(const char *s, size_t n, uint64_t *out);

/* values_digits, or an integral real up to 2^53 (1e5): an integer axis. */
int values_uint(const char *s, size_t n, uint64_t *out);

/* @return non-zero if s[0..n) holds only blanks. */
int values_blank(const char *s, size_t n);

#endif

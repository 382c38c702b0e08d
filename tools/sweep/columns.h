/* What each column of the sweep CSV may hold: what table_prefix() and the
 * runner write there, so that a resume or a merge never trusts a row with
 * garbage in it, and every row the tool wrote is accepted. */
#ifndef SWEEP_COLUMNS_H
#define SWEEP_COLUMNS_H

#include <stddef.h>

/* Check every field of one row, line[0..len) without its newline. `name`
 * and `lineno` place it in the message. @return 0, or -1 with
 * "NAME:LINE: column COL: 'TEXT' is not ..." in err. */
int columns_check(const char *line, size_t len, const char *name, size_t lineno, char *err, size_t errlen);

#endif

/* Field-by-field check of a sweep CSV row (see columns.h). Numbers are read
 * by values.c, as on the command line; the column names are table_header's. */
#include "columns.h"

#include "say.h"
#include "table.h"
#include "values.h"

#include <tsrelu.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { COL_RUN, COL_TEACHER, COL_COUNT, COL_FINITE, COL_STATUS, COL_REAL, COL_TIME, COL_PHASE, COL_SIZES };

/* In the order of table_header. */
static const unsigned char col_type[TABLE_NCOLS] = {
    COL_RUN,    COL_TEACHER, COL_FINITE, COL_COUNT,  COL_COUNT,  COL_COUNT,  COL_FINITE,
    COL_FINITE, COL_FINITE,  COL_FINITE, COL_COUNT,  COL_COUNT,  /* run .. seed */
    COL_STATUS, COL_COUNT,   COL_REAL,   COL_REAL,   COL_TIME,   COL_TIME,   COL_PHASE,
    COL_COUNT,  COL_REAL,    COL_REAL,   COL_REAL,   COL_SIZES,  COL_SIZES,  COL_FINITE};
#define COL_K 3 /* the k column: the number of group sizes */

static const char *const col_what[] = {
    [COL_RUN] = "a run index",
    [COL_TEACHER] = "a teacher construction (orthogonal)",
    [COL_COUNT] = "a non-negative decimal integer",
    [COL_FINITE] = "a finite decimal number",
    [COL_STATUS] = "a tsrelu status name (TSRELU_OK, TSRELU_EDIVERGED, ...)",
    [COL_REAL] = "a decimal number, nan, inf or -inf",
    [COL_TIME] = "-1 or a non-negative decimal integer",
    [COL_PHASE] = "a phase (1, 2 or 3)",
    [COL_SIZES] = NULL, /* "k group sizes", with k: see columns_check() */
};

static int same(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Any name tsrelu_status_name() gives, TSRELU_UNKNOWN included (status
 * codes are small and append-only; 64 leaves room for new ones). */
static int is_status(const char *s, size_t n)
{
    for (int c = 0; c <= 64; c++)
        if (same(s, n, tsrelu_status_name(c)) || same(s, n, tsrelu_status_name(-c)))
            return 1;
    return 0;
}

/* A finite decimal number, or a non-finite value as table_fmt_double()
 * spells it. */
static int is_real(const char *s, size_t n)
{
    static const double nonfinite[] = {NAN, INFINITY, -INFINITY};
    char buf[16];
    double x;
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
        table_fmt_double(buf, sizeof buf, nonfinite[i]);
        if (same(s, n, buf))
            return 1;
    }
    return values_real(s, n, &x) == 0;
}

/* k counts separated by '/'. */
static int is_sizes(const char *s, size_t n, uint64_t k)
{
    const char *end = s + n;
    uint64_t count = 0, v;
    for (;;) {
        const char *slash = memchr(s, '/', (size_t)(end - s)), *stop = slash ? slash : end;
        if (values_digits(s, (size_t)(stop - s), &v) != 0)
            return 0;
        count++;
        if (!slash)
            return count == k;
        s = slash + 1;
    }
}

static int field_ok(int type, const char *s, size_t n, uint64_t k)
{
    uint64_t v;
    double x;
    switch (type) {
    case COL_TEACHER: return same(s, n, "orthogonal"); /* table_prefix() writes no other */
    case COL_COUNT:   return values_digits(s, n, &v) == 0;
    case COL_FINITE:  return values_real(s, n, &x) == 0;
    case COL_STATUS:  return is_status(s, n);
    case COL_REAL:    return is_real(s, n);
    case COL_TIME:    return same(s, n, "-1") || values_digits(s, n, &v) == 0;
    case COL_PHASE:   return values_digits(s, n, &v) == 0 && v >= 1 && v <= 3;
    case COL_SIZES:   return is_sizes(s, n, k);
    default:          return 1; /* COL_RUN: read by table_parse() */
    }
}

int columns_check(const char *line, size_t len, const char *name, size_t lineno, char *err, size_t errlen)
{
    const char *p = line, *end = line + len, *col = table_header;
    uint64_t k = 0;
    for (int c = 0; c < TABLE_NCOLS; c++) {
        const char *comma = memchr(p, ',', (size_t)(end - p)), *stop = comma ? comma : end;
        const char *col_end = strchr(col, ',');
        size_t n = (size_t)(stop - p), col_n = col_end ? (size_t)(col_end - col) : strlen(col);
        if (!field_ok(col_type[c], p, n, k)) {
            char sizes[64];
            snprintf(sizes, sizeof sizes, "%llu group sizes n/.../n (one per teacher)", (unsigned long long)k);
            return say_err(err, errlen, "%s:%zu: column %.*s: '%.*s%s' is not %s", name, lineno, (int)col_n, col,
                           (int)(n > 80 ? 80 : n), p, n > 80 ? "..." : "",
                           col_type[c] == COL_SIZES ? sizes : col_what[col_type[c]]);
        }
        if (c == COL_K)
            values_digits(p, n, &k);
        p = comma ? comma + 1 : end;
        col = col_end ? col_end + 1 : col + col_n;
    }
    return 0;
}

/* Value lists of one axis: numbers, ranges A:B, A:B:STEP, A:B*FACTOR and
 * teacher constructions (see values.h). Range values are computed with basic
 * IEEE arithmetic only (no libm), so that every machine of a cluster expands
 * a grid to bit-identical configurations. */
#include "values.h"
#include "say.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AXIS_VALUES 1000000u

/* ------------------------------------------------------------ numbers */

int values_token(const char *s, size_t n, char *buf, size_t len)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || n >= len || memchr(s, '\0', n)) /* a NUL (in a file) would end the text early */
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

/* strtod also reads hex ("0x1p4"), "inf", "nan(...)": only the characters
 * of a decimal number get that far. */
int values_real(const char *s, size_t n, double *out)
{
    char buf[128], *end;
    if (values_token(s, n, buf, sizeof buf) != 0 || buf[strspn(buf, "0123456789.eE+-")] != '\0')
        return -1;
    errno = 0;
    double x = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(x))
        return -1;
    *out = x;
    return 0;
}

int values_digits(const char *s, size_t n, uint64_t *out)
{
    char buf[128];
    if (values_token(s, n, buf, sizeof buf) != 0 || buf[strspn(buf, "0123456789")] != '\0')
        return -1;
    errno = 0;
    unsigned long long u = strtoull(buf, NULL, 10);
    if (errno != 0)
        return -1;
    *out = (uint64_t)u;
    return 0;
}

int values_uint(const char *s, size_t n, uint64_t *out)
{
    double x;
    if (values_digits(s, n, out) == 0)
        return 0;
    if (values_real(s, n, &x) != 0 || x < 0 || x > 9007199254740992.0 || x != floor(x))
        return -1;
    *out = (uint64_t)x;
    return 0;
}

/* ------------------------------------------------------------ axis values */

static int push(grid_axis *a, double v, uint64_t u, char *err, size_t errlen, const char *name)
{
    if (a->n >= MAX_AXIS_VALUES)
        return say_err(err, errlen, "axis %s: more than %u values", name, MAX_AXIS_VALUES);
    if ((a->n & (a->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = a->n ? 2 * a->n : 1;
        double *nv = realloc(a->v, cap * sizeof *nv);
        if (!nv)
            return say_err(err, errlen, "out of memory");
        a->v = nv;
        uint64_t *nu = realloc(a->u, cap * sizeof *nu);
        if (!nu)
            return say_err(err, errlen, "out of memory");
        a->u = nu;
    }
    a->v[a->n] = v;
    a->u[a->n] = u;
    a->n++;
    return 0;
}

/* "A", "A:B", "A:B:S" or "A:B*F" for an integer axis. */
static int item_int(grid_axis *a, const char *name, const char *s, size_t n, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    uint64_t lo, hi, step = 1;
    if (!colon) {
        if (values_uint(s, n, &lo) != 0)
            return say_err(err, errlen, "axis %s: '%.*s' is not a non-negative decimal integer", name, (int)n, s);
        return push(a, 0, lo, err, errlen, name);
    }
    const char *rest = colon + 1, *end = s + n;
    const char *c2 = memchr(rest, ':', (size_t)(end - rest)), *star = memchr(rest, '*', (size_t)(end - rest));
    const char *hi_end = c2 ? c2 : star ? star : end;
    if (values_uint(s, (size_t)(colon - s), &lo) != 0 || values_uint(rest, (size_t)(hi_end - rest), &hi) != 0 ||
        (c2 && star) || (c2 && values_uint(c2 + 1, (size_t)(end - c2 - 1), &step) != 0) ||
        (star && values_uint(star + 1, (size_t)(end - star - 1), &step) != 0))
        return say_err(err, errlen, "axis %s: bad range '%.*s' (A:B, A:B:STEP or A:B*FACTOR)", name, (int)n, s);
    if (lo > hi || step == 0 || (star && (step < 2 || lo == 0)))
        return say_err(err, errlen, "axis %s: empty or endless range '%.*s'", name, (int)n, s);
    for (uint64_t v = lo;;) {
        if (push(a, 0, v, err, errlen, name) != 0)
            return -1;
        if (star ? v > hi / step : hi - v < step) /* v <= hi: no wrap-around */
            break;
        v = star ? v * step : v + step;
    }
    return 0;
}

/* "X", "A:B:S" or "A:B*F" for a real axis. */
static int item_real(grid_axis *a, const char *name, const char *s, size_t n, char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', n);
    double lo, hi, step;
    if (!colon) {
        if (values_real(s, n, &lo) != 0)
            return say_err(err, errlen, "axis %s: '%.*s' is not a finite decimal number", name, (int)n, s);
        return push(a, lo, 0, err, errlen, name);
    }
    const char *rest = colon + 1, *end = s + n;
    const char *c2 = memchr(rest, ':', (size_t)(end - rest)), *star = memchr(rest, '*', (size_t)(end - rest));
    if ((c2 == NULL) == (star == NULL) || values_real(s, (size_t)(colon - s), &lo) != 0 ||
        values_real(rest, (size_t)((c2 ? c2 : star) - rest), &hi) != 0 ||
        values_real((c2 ? c2 : star) + 1, (size_t)(end - (c2 ? c2 : star) - 1), &step) != 0)
        return say_err(err, errlen, "axis %s: bad range '%.*s' (A:B:STEP or A:B*FACTOR)", name, (int)n, s);
    if (lo > hi || (c2 && !(step > 0)) || (star && (!(step > 1) || !(lo > 0))))
        return say_err(err, errlen, "axis %s: empty or endless range '%.*s'", name, (int)n, s);
    if (c2) {
        double count = floor((hi - lo) / step + 1e-9) + 1;
        if (!(count <= MAX_AXIS_VALUES))
            return say_err(err, errlen, "axis %s: range '%.*s' has too many values", name, (int)n, s);
        for (size_t i = 0; i < (size_t)count; i++)
            if (push(a, lo + (double)i * step, 0, err, errlen, name) != 0)
                return -1;
        return 0;
    }
    /* A * F^i with F^i formed by repeated multiplication: exact for an
     * integral F, so that each value is rounded once. */
    double p = 1.0;
    for (size_t i = 0; lo * p <= hi * (1 + 1e-9); i++, p *= step)
        if (push(a, lo * p, 0, err, errlen, name) != 0)
            return -1;
    return 0;
}

/* "orthogonal" or "orthogonal:NORM". */
static int item_teacher(grid_axis *a, const char *s, size_t n, char *err, size_t errlen)
{
    char buf[128];
    if (values_token(s, n, buf, sizeof buf) != 0)
        return say_err(err, errlen, "axis teacher: empty value");
    const char *colon = strchr(buf, ':');
    size_t kn = colon ? (size_t)(colon - buf) : strlen(buf);
    double norm = 1.0;
    if (kn != strlen("orthogonal") || strncmp(buf, "orthogonal", kn) != 0)
        return say_err(err, errlen, "axis teacher: unknown construction '%s' (known: orthogonal[:NORM])", buf);
    if (colon && (values_real(colon + 1, strlen(colon + 1), &norm) != 0 || !(norm > 0)))
        return say_err(err, errlen, "axis teacher: the norm in '%s' must be a finite number > 0", buf);
    return push(a, norm, TEACHER_ORTHOGONAL, err, errlen, "teacher");
}

static int cmp_pair(const void *x, const void *y)
{
    const double *p = x, *q = y;
    if (p[0] != q[0])
        return p[0] < q[0] ? -1 : 1;
    return p[1] < q[1] ? -1 : p[1] > q[1];
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;
    return p < q ? -1 : p > q;
}

/* Equal values would make two indices name the same run: reject them. */
static int check_distinct(const grid_axis *a, const char *name, int type, char *err, size_t errlen)
{
    int rc = 0;
    if (type == VALUES_INT) {
        uint64_t *u = malloc(a->n * sizeof *u);
        if (!u)
            return say_err(err, errlen, "out of memory");
        memcpy(u, a->u, a->n * sizeof *u);
        qsort(u, a->n, sizeof *u, cmp_u64);
        for (size_t i = 1; i < a->n && rc == 0; i++)
            if (u[i] == u[i - 1])
                rc = say_err(err, errlen, "axis %s: the value %llu appears twice", name, (unsigned long long)u[i]);
        free(u);
        return rc;
    }
    double *pairs = malloc(2 * a->n * sizeof *pairs);
    if (!pairs)
        return say_err(err, errlen, "out of memory");
    for (size_t i = 0; i < a->n; i++) {
        pairs[2 * i] = a->v[i];
        pairs[2 * i + 1] = (double)a->u[i]; /* teacher kind; 0 on real axes */
    }
    qsort(pairs, a->n, 2 * sizeof *pairs, cmp_pair);
    for (size_t i = 1; i < a->n && rc == 0; i++)
        if (pairs[2 * i] == pairs[2 * i - 2] && pairs[2 * i + 1] == pairs[2 * i - 1])
            rc = say_err(err, errlen, "axis %s: the value %.17g appears twice", name, pairs[2 * i]);
    free(pairs);
    return rc;
}

int values_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)p[i]))
            return 0;
    return 1;
}

int values_parse(grid_axis *a, const char *name, int type, const char *spec, char *err, size_t errlen)
{
    a->n = 0;
    const char *p = spec;
    for (;;) {
        const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
        size_t n = (size_t)(end - p);
        if (values_blank(p, n))
            return say_err(err, errlen, "axis %s: empty value in '%s'", name, spec);
        int rc = type == VALUES_TEACHER ? item_teacher(a, p, n, err, errlen)
                 : type == VALUES_INT   ? item_int(a, name, p, n, err, errlen)
                                        : item_real(a, name, p, n, err, errlen);
        if (rc != 0)
            return -1;
        if (!comma)
            break;
        p = comma + 1;
    }
    return check_distinct(a, name, type, err, errlen);
}

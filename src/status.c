/* Status strings, the thread-local detailed error message, argument checks
 * shared by every entry point, and the runtime version. */
#include "status.h"
#include "simd/simd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

TSRELU_API unsigned tsrelu_version_number(void)
{
    return TSRELU_VERSION_NUMBER;
}

TSRELU_API const char *tsrelu_version_string(void)
{
    return TSRELU_VERSION_STRING;
}

TSRELU_API const char *tsrelu_status_string(tsrelu_status s)
{
    switch (s) {
    case TSRELU_OK:         return "success";
    case TSRELU_STOPPED:    return "stopped by a callback";
    case TSRELU_CONVERGED:  return "converged: a stopping tolerance was met";
    case TSRELU_INTERRUPTED: return "interrupted: the run stopped at its last completed step";
    case TSRELU_EINVAL:     return "invalid argument";
    case TSRELU_ENOMEM:     return "out of memory or size overflow";
    case TSRELU_EDIM:       return "dimension mismatch between teacher and student";
    case TSRELU_ENONFINITE: return "non-finite (NaN or Inf) input";
    case TSRELU_EDIVERGED:  return "gradient descent diverged (non-finite iterate)";
    case TSRELU_ELENGTH:    return "buffer length does not match the required size";
    case TSRELU_EIO:        return "file input/output error";
    case TSRELU_EFORMAT:    return "not a valid checkpoint file (truncated, corrupted or unknown version)";
    case TSRELU_EBUSY:      return "the GD state is in a run or step (mutating call from its own callback or while its batch runs)";
    default:                return "unknown status";
    }
}

TSRELU_API const char *tsrelu_status_name(tsrelu_status s)
{
    switch (s) {
    case TSRELU_OK:         return "TSRELU_OK";
    case TSRELU_STOPPED:    return "TSRELU_STOPPED";
    case TSRELU_CONVERGED:  return "TSRELU_CONVERGED";
    case TSRELU_INTERRUPTED: return "TSRELU_INTERRUPTED";
    case TSRELU_EINVAL:     return "TSRELU_EINVAL";
    case TSRELU_ENOMEM:     return "TSRELU_ENOMEM";
    case TSRELU_EDIM:       return "TSRELU_EDIM";
    case TSRELU_ENONFINITE: return "TSRELU_ENONFINITE";
    case TSRELU_EDIVERGED:  return "TSRELU_EDIVERGED";
    case TSRELU_ELENGTH:    return "TSRELU_ELENGTH";
    case TSRELU_EIO:        return "TSRELU_EIO";
    case TSRELU_EFORMAT:    return "TSRELU_EFORMAT";
    case TSRELU_EBUSY:      return "TSRELU_EBUSY";
    default:                return "TSRELU_UNKNOWN";
    }
}

TSRELU_API const char *tsrelu_last_error(void)
{
    return last_error;
}

tsrelu_status tsrelu__fail(tsrelu_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

tsrelu_status tsrelu__context(tsrelu_status s, const char *fmt, ...)
{
    char prefix[192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix - 2, fmt, ap);
    va_end(ap);
    if (n < 0)
        return s;
    size_t p = strlen(prefix), old = strlen(last_error);
    memcpy(prefix + p, ": ", 2);
    p += 2;
    if (p + old >= sizeof last_error)
        old = sizeof last_error - 1 - p;
    memmove(last_error + p, last_error, old);
    memcpy(last_error, prefix, p);
    last_error[p + old] = '\0';
    return s;
}

tsrelu_status tsrelu__mul_size(size_t a, size_t b, const char *what, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: size %zu x %zu overflows size_t",
                            what, a, b);
    *out = a * b;
    return TSRELU_OK;
}

int tsrelu__all_finite(const double *x, size_t n)
{
    /* the dispatched kernel: a 0.8 MB Hessian's check took ~20 us in two
     * chains of x * 0 sums (docs/performance.md) */
    return tsrelu__simd()->finite(x, n);
}

tsrelu_status tsrelu__check_finite(const double *x, size_t n, const char *what)
{
    if (tsrelu__all_finite(x, n))
        return TSRELU_OK;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return tsrelu__fail(TSRELU_ENONFINITE, "%s[%zu] is %g (not finite)",
                                what, i, x[i]);
    return TSRELU_OK;
}

tsrelu_status tsrelu__check_len(size_t got, size_t want, const char *what)
{
    if (got != want)
        return tsrelu__fail(TSRELU_ELENGTH, "%s: length %zu given, %zu required",
                            what, got, want);
    return TSRELU_OK;
}

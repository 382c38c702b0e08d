/* Errors and argument checks shared by every entry point (status.c): the
 * thread-local message, size products, finiteness and buffer lengths. */
#ifndef TSRELU_STATUS_H
#define TSRELU_STATUS_H

#include "tsrelu.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Record a detailed message for the calling thread and return `s`. */
tsrelu_status tsrelu__fail(tsrelu_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefix the calling thread's message with "context: " and return `s`
 * unchanged: how a caller adds context to a failure below it (the status is
 * set once, where the failure happens). */
tsrelu_status tsrelu__context(tsrelu_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* a*b into *out, TSRELU_ENOMEM if it overflows size_t. */
tsrelu_status tsrelu__mul_size(size_t a, size_t b, const char *what, size_t *out);
/* 1 if no entry is NaN or Inf. */
int tsrelu__all_finite(const double *x, size_t n);
/* TSRELU_ENONFINITE naming `what` and the first bad index, else TSRELU_OK. */
tsrelu_status tsrelu__check_finite(const double *x, size_t n, const char *what);
tsrelu_status tsrelu__check_len(size_t got, size_t want, const char *what);

/* A double as its IEEE-754 bit pattern and back (checkpoints, sampler words). */
static inline uint64_t tsrelu__f64_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double tsrelu__bits_f64(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#endif

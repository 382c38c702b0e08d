/* The clock and the sort order shared by the bench programs (each built
 * from one .c file: static functions, no library). */
#ifndef TSRELU_BENCH_TIME_H
#define TSRELU_BENCH_TIME_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* qsort order of doubles (for medians). */
static inline int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif

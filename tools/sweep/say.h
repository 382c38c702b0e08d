/* Messages on stderr, prefixed "tsrelu-sweep: ". Under MPI every rank sees
 * the same options and grid, so only rank 0 reports what they all find. */
#ifndef SWEEP_SAY_H
#define SWEEP_SAY_H

#include <stddef.h>

/* Silence say() on this process (MPI ranks other than 0). */
void say_quiet(int quiet);

/* @return non-zero when say() prints on this process. */
int say_enabled(void);

void say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Format a message into err (errlen bytes) and return -1: the error
 * convention of the grid, table, value and runner functions. */
int say_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif

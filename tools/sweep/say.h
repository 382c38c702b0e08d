/* Messages on stderr, prefixed "tsrelu-sweep: ". Under MPI every rank sees
 * the same options and grid, so only rank 0 reports what they all find. */
#ifndef SWEEP_SAY_H
#define SWEEP_SAY_H

/* Silence say() on this process (MPI ranks other than 0). */
void say_quiet(int quiet);

/* @return non-zero when say() prints on this process. */
int say_enabled(void);

void say(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif

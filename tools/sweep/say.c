/* Messages on stderr (see say.h). */
#include "say.h"

#include <stdarg.h>
#include <stdio.h>

static int quiet_flag;

void say_quiet(int quiet)
{
    quiet_flag = quiet;
}

int say_enabled(void)
{
    return !quiet_flag;
}

void say(const char *fmt, ...)
{
    if (quiet_flag)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("tsrelu-sweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int say_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

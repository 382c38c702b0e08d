/* A growable, always NUL-terminated text buffer for building CSV rows and
 * messages without fixed-size limits. */
#ifndef SWEEP_STRBUF_H
#define SWEEP_STRBUF_H

#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

/* Append printf-formatted text. @return 0, or -1 when out of memory (the
 * buffer keeps its previous contents). */
int sb_printf(strbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Append n bytes. @return 0 or -1 (out of memory). */
int sb_append(strbuf *b, const char *p, size_t n);

void sb_clear(strbuf *b);
void sb_free(strbuf *b);

#endif

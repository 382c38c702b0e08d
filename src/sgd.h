/* Sampled training (sgd.c): the sampler a GD state holds when it steps on
 * an empirical gradient instead of the closed-form one. gd.c calls it in a
 * step and in its checkpoint hooks; the public tsrelu_gd_set_sampling()
 * family lives in sgd.c. */
#ifndef TSRELU_SGD_H
#define TSRELU_SGD_H

#include "tsrelu.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tsrelu__sgd tsrelu__sgd;

void tsrelu__sgd_free(tsrelu__sgd *s);

/* The empirical gradient at (W, a) on the next batch (drawn from a copy of
 * the stream: nothing is committed) into the sampler's own buffers; *gW
 * (m*d) and *ga (m, NULL when a is not trained) point to them. No
 * allocation; never fails (a non-finite gradient is the update's test). */
void tsrelu__sgd_gradient(tsrelu__sgd *s, const tsrelu_teacher *t, const double *W,
                          const double *a, int train_a, const double **gW, const double **ga);
/* The step on that gradient was taken: keep the stream's advance and the
 * batch loss. (A refused or non-finite step leaves the stream where it was,
 * so the retried step draws the same batch.) */
void tsrelu__sgd_commit(tsrelu__sgd *s);

/* Checkpoints: the sampler as TSRELU__SGD_WORDS words plus the caller's
 * training set (X_len = 0 unless the caller gave it; a generated set is
 * regenerated from its seed). */
#define TSRELU__SGD_WORDS 13
void tsrelu__sgd_export(const tsrelu__sgd *s, uint64_t *words, const double **X, size_t *X_len);
/* TSRELU_EFORMAT naming `what` for words no sampler can produce,
 * TSRELU_ENOMEM. t is the state's teacher (labels), m its width. */
tsrelu_status tsrelu__sgd_restore(const char *what, const tsrelu_teacher *t, size_t m,
                                  const uint64_t *words, const double *X, size_t X_len,
                                  tsrelu__sgd **out);

#endif

/* Symmetric eigen-decomposition through LAPACK (spectrum.c), for the
 * public spectrum and for Newton (newton.c). */
#ifndef TSRELU_SPECTRUM_H
#define TSRELU_SPECTRUM_H

#include "tsrelu.h"

#include <stddef.h>

/* Eigenvalues of the symmetric N x N matrix A (row-major; destroyed) into
 * w (N, ascending) and, if Z is non-NULL, the orthonormal eigenvectors
 * into Z (N*N: eigenvector j is Z[j*N .. j*N + N-1]). Allocates LAPACK's
 * workspace. TSRELU_ENOMEM (allocation, or N beyond the LAPACK int range),
 * TSRELU_ENONFINITE (dsyevr did not converge), messages prefixed with fn. */
tsrelu_status tsrelu__eigen(const char *fn, size_t N, double *A, double *w, double *Z);

/* counts[0..2] = eigenvalues below -tol, in [-tol, tol], above tol, with
 * tol = rel_tol * max |w| (w ascending, N entries). */
void tsrelu__eigen_counts(const double *w, size_t N, double rel_tol, size_t counts[3]);

#endif

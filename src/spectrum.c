/* The Hessian's spectrum: LAPACK's dsyevr (relatively robust
 * representations: all eigenvalues, optionally eigenvectors, of a symmetric
 * matrix), and the counts of negative, flat and positive eigenvalues.
 * LAPACK comes from the BLAS build (OpenBLAS ships it) or Debian's
 * reference LAPACK (Makefile: LAPACK_PC). */
#include "spectrum.h"
#include "hessian.h"
#include "model.h"
#include "status.h"

#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Fortran LAPACK; the trailing lengths are the hidden lengths of the three
 * character arguments (gfortran's convention, harmless elsewhere). */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n,
                    double *a, const int *lda, const double *vl, const double *vu,
                    const int *il, const int *iu, const double *abstol, int *m, double *w,
                    double *z, const int *ldz, int *isuppz, double *work, const int *lwork,
                    int *iwork, const int *liwork, int *info, size_t, size_t, size_t);

tsrelu_status tsrelu__eigen(const char *fn, size_t N, double *A, double *w, double *Z)
{
    if (N == 0)
        return TSRELU_OK;
    if (N > (size_t)INT_MAX / 10)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: N = %zu exceeds the LAPACK int range", fn, N);
    int n = (int)N, m = 0, info = 0, lwork = -1, liwork = -1, iwq = 0, il = 0, iu = 0;
    double vl = 0.0, vu = 0.0, abstol = 0.0, wq = 0.0, zdummy = 0.0;
    const char *jobz = Z ? "V" : "N";
    int ldz = Z ? n : 1;
    int *isuppz = malloc(2 * N * sizeof(int));
    if (!isuppz)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for N = %zu", fn, N);
    /* A is row-major and symmetric: its lower triangle is LAPACK's upper */
    dsyevr_(jobz, "A", "U", &n, A, &n, &vl, &vu, &il, &iu, &abstol, &m, w, Z ? Z : &zdummy,
            &ldz, isuppz, &wq, &lwork, &iwq, &liwork, &info, 1, 1, 1);
    lwork = (int)wq;
    liwork = iwq;
    double *work = malloc((size_t)(lwork > 1 ? lwork : 1) * sizeof(double));
    int *iwork = malloc((size_t)(liwork > 1 ? liwork : 1) * sizeof(int));
    if (info != 0 || !work || !iwork) {
        free(isuppz);
        free(work);
        free(iwork);
        return tsrelu__fail(TSRELU_ENOMEM, "%s: LAPACK workspace for N = %zu (info %d)", fn, N,
                            info);
    }
    dsyevr_(jobz, "A", "U", &n, A, &n, &vl, &vu, &il, &iu, &abstol, &m, w, Z ? Z : &zdummy,
            &ldz, isuppz, work, &lwork, iwork, &liwork, &info, 1, 1, 1);
    free(isuppz);
    free(work);
    free(iwork);
    if (info != 0 || m != n)
        return tsrelu__fail(TSRELU_ENONFINITE, "%s: dsyevr failed (info %d, %d of %d eigenvalues)",
                            fn, info, m, n);
    return TSRELU_OK;
}

void tsrelu__eigen_counts(const double *w, size_t N, double rel_tol, size_t counts[3])
{
    double big = N ? fmax(fabs(w[0]), fabs(w[N - 1])) : 0.0, tol = rel_tol * big;
    counts[0] = counts[1] = counts[2] = 0;
    for (size_t j = 0; j < N; j++)
        counts[w[j] < -tol ? 0 : w[j] > tol ? 2 : 1]++;
}

TSRELU_API tsrelu_status tsrelu_spectrum(const tsrelu_student *s, const tsrelu_teacher *t,
                                         unsigned flags, double rel_tol, double *eval,
                                         size_t eval_len, double *evec, size_t evec_len,
                                         size_t *counts, size_t counts_len)
{
    const char *fn = "tsrelu_spectrum";
    size_t N = 0, NN;
    tsrelu_status st = tsrelu__hess_check(fn, s, t, flags, &N);
    if (st != TSRELU_OK)
        return st;
    if (!(rel_tol >= 0.0) || !isfinite(rel_tol))
        return tsrelu__fail(TSRELU_EINVAL, "%s: rel_tol = %g (must be finite and >= 0)", fn,
                            rel_tol);
    if (!eval)
        return tsrelu__fail(TSRELU_EINVAL, "%s: eval is NULL", fn);
    if ((st = tsrelu__mul_size(N, N, "tsrelu_spectrum: N*N", &NN)) != TSRELU_OK)
        return st;
    if ((st = tsrelu__check_len(eval_len, N, "tsrelu_spectrum: eval")) != TSRELU_OK ||
        (evec && (st = tsrelu__check_len(evec_len, NN, "tsrelu_spectrum: evec")) != TSRELU_OK) ||
        (counts && (st = tsrelu__check_len(counts_len, 3, "tsrelu_spectrum: counts")) != TSRELU_OK))
        return st;
    if (NN > SIZE_MAX / sizeof(double))
        return tsrelu__fail(TSRELU_ENOMEM, "%s: N*N doubles overflow size_t", fn);
    double *H = malloc(NN * sizeof(double));
    if (!H)
        return tsrelu__fail(TSRELU_ENOMEM, "%s: out of memory for the %zu x %zu Hessian", fn, N, N);
    tsrelu__hess_ws ws;
    if ((st = tsrelu__hess_at(fn, &ws, s, t, 1)) != TSRELU_OK) {
        free(H);
        return st;
    }
    tsrelu__hess_dense(&ws, flags, H, N);
    tsrelu__hess_free(&ws);
    if ((st = tsrelu__check_finite(H, NN, "tsrelu_spectrum: Hessian")) == TSRELU_OK)
        st = tsrelu__eigen(fn, N, H, eval, evec);
    free(H);
    if (st == TSRELU_OK && counts)
        tsrelu__eigen_counts(eval, N, rel_tol, counts);
    return st;
}

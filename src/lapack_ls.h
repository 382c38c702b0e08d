/* The LAPACK dense linear solver of the gradient flow (lapack_ls.c). */
#ifndef TSRELU_LAPACK_LS_H
#define TSRELU_LAPACK_LS_H

#include <stddef.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>

/* A dense direct SUNLinearSolver for n x n SUNDenseMatrix systems (LU by
 * dgetrf, solves by dgetrs); NULL when out of memory or n exceeds int. */
SUNLinearSolver tsrelu__lapack_dense(size_t n, SUNContext ctx);

#endif

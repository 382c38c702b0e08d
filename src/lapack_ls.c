/* A dense direct SUNLinearSolver for CVODE on LAPACK's dgetrf/dgetrs.
 *
 * Why not SUNDIALS' own SUNLinSol_Dense: its unblocked LU took 84 % of a
 * gradient-flow run at m*d = 320 (perf, bench_flow); Debian's SUNDIALS is
 * built without its LAPACK solvers, and the BLAS we link (OpenBLAS, or the
 * reference BLAS with LAPACK) factors the same matrix in a fraction of the
 * time. Pivots are allocated with the solver; setup and solve allocate
 * nothing. */
#include "lapack_ls.h"

#include <sunmatrix/sunmatrix_dense.h>

#include <stdlib.h>

/* LAPACK's Fortran entry points (column-major, as SUNDenseMatrix stores);
 * the trailing length is the hidden length of the character argument. */
extern void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);
extern void dgetrs_(const char *trans, const int *n, const int *nrhs, const double *a, const int *lda,
                    const int *ipiv, double *b, const int *ldb, int *info, size_t trans_len);

typedef struct {
    int n;
    int *ipiv;
    int last;   /* the latest LAPACK info */
} lu_content;

static SUNLinearSolver_Type lu_type(SUNLinearSolver S)
{
    (void)S;
    return SUNLINEARSOLVER_DIRECT;
}

static SUNLinearSolver_ID lu_id(SUNLinearSolver S)
{
    (void)S;
    return SUNLINEARSOLVER_CUSTOM;
}

static int lu_init(SUNLinearSolver S)
{
    ((lu_content *)S->content)->last = 0;
    return SUNLS_SUCCESS;
}

static int lu_setup(SUNLinearSolver S, SUNMatrix A)
{
    lu_content *c = S->content;
    int info = 0;
    dgetrf_(&c->n, &c->n, SUNDenseMatrix_Data(A), &c->n, c->ipiv, &info);
    c->last = info;
    /* a singular factor is recoverable: CVODE retries with a smaller step */
    return info == 0 ? SUNLS_SUCCESS : info > 0 ? SUNLS_LUFACT_FAIL : SUNLS_PACKAGE_FAIL_UNREC;
}

static int lu_solve(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b, realtype tol)
{
    lu_content *c = S->content;
    int one = 1, info = 0;
    (void)tol;
    N_VScale(1.0, b, x);
    dgetrs_("N", &c->n, &one, SUNDenseMatrix_Data(A), &c->n, c->ipiv, N_VGetArrayPointer(x), &c->n, &info, 1);
    c->last = info;
    return info == 0 ? SUNLS_SUCCESS : SUNLS_PACKAGE_FAIL_UNREC;
}

static sunindextype lu_last(SUNLinearSolver S)
{
    return ((lu_content *)S->content)->last;
}

static int lu_free(SUNLinearSolver S)
{
    if (!S)
        return SUNLS_SUCCESS;
    if (S->content) {
        free(((lu_content *)S->content)->ipiv);
        free(S->content);
        S->content = NULL;
    }
    SUNLinSolFreeEmpty(S);
    return SUNLS_SUCCESS;
}

SUNLinearSolver tsrelu__lapack_dense(size_t n, SUNContext ctx)
{
    if (n == 0 || n > (size_t)0x7fffffff)
        return NULL;
    SUNLinearSolver S = SUNLinSolNewEmpty(ctx);
    if (!S)
        return NULL;
    lu_content *c = calloc(1, sizeof *c);
    if (c)
        c->ipiv = malloc(n * sizeof(int));
    if (!c || !c->ipiv) {
        if (c)
            free(c);
        SUNLinSolFreeEmpty(S);
        return NULL;
    }
    c->n = (int)n;
    S->content = c;
    S->ops->gettype = lu_type;
    S->ops->getid = lu_id;
    S->ops->initialize = lu_init;
    S->ops->setup = lu_setup;
    S->ops->solve = lu_solve;
    S->ops->lastflag = lu_last;
    S->ops->free = lu_free;
    return S;
}

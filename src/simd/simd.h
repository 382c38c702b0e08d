/* Dispatched kernels of the evaluation (DESIGN.md §3): the angle kernel of
 * the pair pass for every size and, below a size threshold, the cosines and
 * the P U product in place of the BLAS. One template (kernels_impl.h) is
 * compiled once per instruction set with the same operation order and
 * explicit fused multiply-adds where the target has FMA, so the paths with
 * FMA give bit-identical results, and the x86-64 portable path (two
 * roundings) differs from them in the last bits; the path is chosen once,
 * at the first use, from cpuid and the TSRELU_ISA environment variable
 * (dispatch.c). */
#ifndef TSRELU_SIMD_H
#define TSRELU_SIMD_H

#include <stddef.h>

/* Up to this many multiply-adds per product (m (m + k) d), the own kernels
 * replace the BLAS entirely (measured: docs/performance.md). */
#define TSRELU_SIMD_MAX_WORK ((size_t)1 << 17)

/* Up to this many students, pair_block does the pair pass's student
 * block (every row has at most 24 later students: three 8-lane windows in
 * registers). */
#define TSRELU_SIMD_BLOCK_MAX 25

/* Scratch of the cosines kernel: the transposed unit rows, padded. */
#define TSRELU_SIMD_SCRATCH(n, d) ((d) * ((n) + 20))

/* 1 if the own kernels replace the BLAS at this size. */
static inline int tsrelu__simd_small(size_t m, size_t k, size_t d)
{
    return d == 0 || m * (m + k) <= TSRELU_SIMD_MAX_WORK / d;
}

/* The pairs of an evaluation, packed row by row: for each student i the
 * students l > i (if students_too) and then the k teachers. */
static inline size_t tsrelu__pair_count(size_t m, size_t k, int students_too)
{
    return (students_too ? m * (m - 1) / 2 : 0) + m * k;
}

/* Index of student i's first pair. */
static inline size_t tsrelu__pair_row(size_t m, size_t k, int students_too, size_t i)
{
    return students_too ? i * (2 * (m + k) - i - 1) / 2 : i * k;
}

/* Per-pair arrays, of tsrelu__pair_count() entries each. */
typedef struct {
    double *c, *h2, *theta, *sn, *cs, *kappa;
} tsrelu__pairs;

typedef struct {
    const char *name;
    /* 1 if the path rounds a multiply-add once (FMA): the fused paths give
     * the same bits as each other, the unfused one (the x86-64 baseline)
     * differs from them in the last bits (kernels_impl.h) */
    int fused;
    /* p->c = the cosines u_i . u_l of the pairs (U m x d, T k x d unit
     * rows), each summed over its d terms in index order; scratch holds
     * TSRELU_SIMD_SCRATCH(m + k, d) doubles, zero when first given (the
     * kernel keeps the zero padding it reads and writes only the rest:
     * zero it once, as tsrelu__ws_place does). */
    void (*cosines)(size_t m, size_t k, size_t d, const double *U, const double *T,
                    int students_too, double *scratch, const tsrelu__pairs *p);
    /* p->h2 = |u_i -+ u_l|^2 (the small one) for the pairs with
     * |c| > TSRELU_EXACT_COS, else 0. */
    void (*distances)(size_t m, size_t k, size_t d, const double *U, const double *T,
                      int students_too, const tsrelu__pairs *p);
    /* theta, sn, cs and (if with_kappa; else kappa is not written) kappa
     * of n pairs from c and h2: one branch-free kernel for every pair
     * (kernels_impl.h). */
    void (*angles)(size_t n, int with_kappa, const tsrelu__pairs *p);
    /* G = P^T W + Q^T V with P m x m (Pt[l*m + i]) and Q k x m (after P):
     * G[i*d + c] = sum_l Pt[l*m + i] W[l*d + c] + sum_j Pt[(m+j)*m + i] V[j*d + c],
     * summed in the order l = 0..m-1, then j = 0..k-1. */
    void (*product)(size_t m, size_t k, size_t d, const double *Pt, const double *W,
                    const double *V, double *G);
    /* One student's row of the pair pass over its n later students l
     * (arrays from l = i + 1: angle, sine, kappa or NULL, output weight,
     * norm; a zero norm is skipped): P_row[t] = a_i a_l (pi - theta) / 2pi,
     * radial[t] += w_i sin, kap[t] += w_i kappa, and into sums the row's
     * sum of w_l sin, w_l kappa and w_i w_l kappa (w = a |u|), each in 8
     * lanes (l = i + 1 + q mod 8, in registers) combined in a fixed tree;
     * nothing past the n entries is read or written. */
    void (*pair_row)(size_t n, const double *theta, const double *sn, const double *kappa,
                     const double *a, const double *norm, double ai, double wi, double *P_row,
                     double *radial, double *kap, double sums[3]);
    /* out = x - eta g (n entries, out apart from x and g); 1 if every
     * entry of out is finite, by a class test on the exponent bits (no
     * dependency chain through the data). */
    int (*update)(const double *x, const double *g, double eta, double *out, size_t n);
    /* H[r*ld + c] = sum_l A[l*d + r] B[l*d + c] (r, c < d, l < n; A and B
     * n x d, n >= 1), or H[r*ld + c] + that sum with acc, each entry summed
     * in the order of l, then + diag on the diagonal (r = c): the rank-n
     * updates of the Hessian's d x d blocks.
     * The products are commutative, so swapping A and B gives the
     * transposed block bit for bit. */
    void (*outer)(size_t n, size_t d, const double *A, const double *B, double *H, size_t ld,
                  int acc, double diag);
    /* 1 if no entry of x (n entries) is Inf or NaN. */
    int (*finite)(const double *x, size_t n);
    /* norm[i] = |W_i| and U_i = W_i / |W_i| (0 for a zero row) for the m
     * rows of W (m x d), bit for bit tsrelu__norm and, in the fast range,
     * the multiply by 1 / norm (outside it tsrelu__unit's rescaling). */
    void (*normalise)(size_t m, size_t d, const double *W, double *norm, double *U);
    /* pair_row for every student row i (n = m - i - 1 pairs from the packed
     * row start tsrelu__pair_row(m, k, 1, i), P_row = P + i m + i + 1; a
     * zero student's row skipped, its P entries not written), for
     * m <= TSRELU_SIMD_BLOCK_MAX, with the running sums in registers; the
     * same bits as pair_row row after row: radial[i] and kap[i] = what rows
     * 0 .. i - 1 added to them, sums[3 i + r] = row i's sums. */
    void (*pair_block)(size_t m, size_t k, const double *theta, const double *sn,
                       const double *kappa, const double *a, const double *norm, double *P,
                       double *radial, double *kap, double *sums);
} tsrelu__simd_ops;

/* The kernels of the chosen path (thread-safe, chosen once). */
const tsrelu__simd_ops *tsrelu__simd(void);
/* The paths this CPU supports, best first, into out (room for 3); returns
 * their number (tests run every path in one process). */
size_t tsrelu__simd_supported(const tsrelu__simd_ops **out);

extern const tsrelu__simd_ops tsrelu__simd_portable;
#if defined(TSRELU_SIMD_X86)
extern const tsrelu__simd_ops tsrelu__simd_avx2;
extern const tsrelu__simd_ops tsrelu__simd_avx512;
#endif

#endif

/* The kernels of one dispatch path: included once per path by
 * kernels_PATH.c with TSRELU_SIMD_NAME defined, and compiled with that
 * path's flags (Makefile). Plain C written so that the compiler vectorises
 * it and so that every path performs the same operations in the same
 * order: every sum of products runs over its terms in index order from 0
 * (vectorised across outputs), or in eight partial sums combined in a
 * fixed tree (the distances, the pair-pass rows), and element-wise selects
 * in the angle kernel. With -ffp-contract=off (and no -ffast-math) a
 * vectoriser may neither reassociate nor fuse on its own; the multiply-adds
 * that are fused are written as such (fmad, fmav below: FUSED), so the
 * paths with FMA give bit-identical results, and the x86-64 portable path,
 * without FMA, those of the same operations rounded twice. */
#include "simd.h"
#include "kernel.h"
#include "asin_rational.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#if VW == 4 || VW == 8
#include <immintrin.h>
#endif

#define TSRELU_SIMD_CAT2(a, b) a##b
#define TSRELU_SIMD_CAT(a, b) TSRELU_SIMD_CAT2(a, b)
#define TSRELU_SIMD_FN(f) TSRELU_SIMD_CAT(f##_, TSRELU_SIMD_NAME)
#define TSRELU_SIMD_STR2(a) #a
#define TSRELU_SIMD_STR(a) TSRELU_SIMD_STR2(a)

#define ROWS 4  /* rows of a product block */
/* columns of a product block: two vectors of 8, or two of 4 with AVX2
 * (four rows of four ymm accumulators and their operands would exceed its
 * sixteen registers); the shape never changes a result */
#define COLS (VW == 4 ? 8 : 16)

/* A vector of VW doubles (VW set by the including file to the path's
 * register width): GCC's generic vectors, with the same IEEE operations on
 * every target, so the width changes the speed and never a result. */
typedef double vd __attribute__((vector_size(VW * sizeof(double))));
#define NV (COLS / VW) /* vectors per block row */
typedef double v4d __attribute__((vector_size(4 * sizeof(double)))); /* 4 lanes on every path */

/* __builtin_shufflevector: Clang, and GCC from 12; without it (older GCC,
 * or TSRELU_SIMD_NO_SHUFFLE to test that code) the lanes are moved one by
 * one, to the same bits. */
#if defined(__has_builtin) && !defined(TSRELU_SIMD_NO_SHUFFLE)
#if __has_builtin(__builtin_shufflevector)
#define SHUFFLE 1
#endif
#endif
#ifndef SHUFFLE
#define SHUFFLE 0
#endif

static inline vd loadv(const double *p)
{
    vd v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void storev(double *p, vd v)
{
    memcpy(p, &v, sizeof v);
}

#if VW == 8
/* the mask of the first cnt (<= VW) lanes */
static inline __mmask8 first_lanes(size_t cnt)
{
    return (__mmask8)((1u << cnt) - 1u);
}
#elif VW == 4
static inline __m256i first_lanes(size_t cnt)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)cnt), _mm256_set_epi64x(3, 2, 1, 0));
}
#endif

/* The first cnt (<= VW) doubles at p, +0 in the other lanes; nothing past
 * them is read (masked loads do not fault on the lanes they leave out). */
static inline vd loadv_n(const double *p, size_t cnt)
{
#if VW == 8
    return (vd)_mm512_maskz_loadu_pd(first_lanes(cnt), p);
#elif VW == 4
    return (vd)_mm256_maskload_pd(p, first_lanes(cnt));
#else
    /* whole vectors built (a lane inserted into a zero vector made GCC
     * move registers with VEX "vmovq xmm, xmm" in the 66 0F D6 form,
     * which valgrind 3.19 cannot decode: the test-only FMA build) */
    if (cnt >= 2)
        return loadv(p);
    return cnt == 1 ? (vd){p[0], 0.0} : (vd){0.0, 0.0};
#endif
}

/* The first cnt (<= VW) lanes of v to p; nothing past them is written. */
static inline void storev_n(double *p, vd v, size_t cnt)
{
#if VW == 8
    _mm512_mask_storeu_pd(p, first_lanes(cnt), (__m512d)v);
#elif VW == 4
    _mm256_maskstore_pd(p, first_lanes(cnt), (__m256d)v);
#else
    if (cnt > 0)
        p[0] = v[0];
    if (cnt > 1)
        p[1] = v[1];
#endif
}

/* n doubles from `from` to `to` in vectors, the last one masked: short
 * runs, where a memcpy call costs more than the copy. */
static inline void copy_run(double *to, const double *from, size_t n)
{
    size_t c = 0;
    for (; c + VW <= n; c += VW)
        storev(to + c, loadv(from + c));
    if (c < n)
        storev_n(to + c, loadv_n(from + c, n - c), n - c);
}

/* x in every lane */
static inline vd splat(double x)
{
#if VW == 8
    return (vd)_mm512_set1_pd(x); /* a broadcast (a lane loop becomes shuffles) */
#elif VW == 4
    return (vd)_mm256_set1_pd(x);
#else
    return (vd){x, x};
#endif
}

/* FUSED: the path multiplies and adds with one rounding (a b + c by the
 * FMA instruction) where the target has one (__FP_FAST_FMA: the AVX2 and
 * AVX-512 paths, and the portable path on aarch64, POWER, s390x and other
 * targets with FMA); the x86-64 baseline has none, and C's fma() there is
 * glibc's software routine (measured: the product kernel 860 times slower,
 * a step 270 times: docs/performance.md), so the portable path on x86-64
 * rounds the product and the sum separately.
 * The operations and their order are otherwise the same: the fused paths
 * give the same bits as each other, and the unfused path the bits of 1.2.0
 * (docs/performance.md has the measured difference between the two). */
#if defined(__FP_FAST_FMA)
#define FUSED 1
#else
#define FUSED 0
#endif

/* a b + c, once rounded on a fused path */
static inline double fmad(double a, double b, double c)
{
#if FUSED
    return fma(a, b, c);
#else
    return a * b + c;
#endif
}

/* fmad in every lane */
static inline vd fmav(vd a, vd b, vd c)
{
#if VW == 8
    return (vd)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif VW == 4
    return (vd)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#elif FUSED /* VW == 2 */
    return (vd){fma(a[0], b[0], c[0]), fma(a[1], b[1], c[1])};
#else
    return a * b + c;
#endif
}

/* acc[r][v] += sum_l A[l*lda + r] B[l*ldb + v*VW ..] over l < n, in the
 * order of l, for nr <= ROWS rows and nv vectors of columns (nv = NV or
 * NV / 2; both constants where it is inlined): B's vectors loaded once per
 * term for the rows, the accumulators in registers. */
static inline __attribute__((always_inline)) void block_acc(const double *A, const double *B,
                                                            size_t n, size_t lda, size_t ldb,
                                                            vd acc[ROWS][NV], int nr, int nv)
{
    for (size_t l = 0; l < n; l++) {
        vd b[NV];
        for (int v = 0; v < nv; v++)
            b[v] = loadv(B + l * ldb + v * VW);
        for (int r = 0; r < nr; r++) {
            vd x = splat(A[l * lda + r]);
            for (int v = 0; v < nv; v++)
                acc[r][v] = fmav(x, b[v], acc[r][v]);
        }
    }
}

/* block_acc from 0 (fresh) or from out, into out. */
static inline __attribute__((always_inline)) void block_rows(const double *A, const double *B, size_t n,
                                                             size_t lda, size_t ldb,
                                                             double out[ROWS][COLS], int fresh, int nv)
{
    vd acc[ROWS][NV];
    for (int r = 0; r < ROWS; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = fresh ? (vd){0.0} : loadv(out[r] + v * VW);
    block_acc(A, B, n, lda, ldb, acc, ROWS, nv);
    for (int r = 0; r < ROWS; r++)
        for (int v = 0; v < nv; v++)
            storev(out[r] + v * VW, acc[r][v]);
}

/* out[r][c] (+)= sum_l A[l*lda + r] B[l*ldb + c] over l < n for r < rows
 * <= ROWS and c < w <= COLS, from 0 if fresh (out is then not read), else
 * from out; every entry summed in the order of l, so blocking, the block
 * shape and the vector width never change a result. */
static inline void block(const double *A, const double *B, size_t n, size_t lda, size_t ldb,
                         size_t rows, size_t w, double out[ROWS][COLS], int fresh)
{
    if (rows == ROWS && w == COLS) {
        block_rows(A, B, n, lda, ldb, out, fresh, NV);
    } else if (rows == ROWS && w == COLS / 2) {
        block_rows(A, B, n, lda, ldb, out, fresh, NV / 2);
    } else if (w == COLS || w == COLS / 2) { /* fewer rows: one row at a time, in registers */
        size_t nv = w / VW;
        for (size_t r = 0; r < rows; r++) {
            vd acc[NV];
            for (size_t v = 0; v < nv; v++)
                acc[v] = fresh ? (vd){0.0} : loadv(out[r] + v * VW);
            for (size_t l = 0; l < n; l++) {
                vd x = splat(A[l * lda + r]);
                for (size_t v = 0; v < nv; v++)
                    acc[v] = fmav(x, loadv(B + l * ldb + v * VW), acc[v]);
            }
            for (size_t v = 0; v < nv; v++)
                storev(out[r] + v * VW, acc[v]);
        }
    } else { /* narrow: entry by entry, the sum in a register */
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < w; c++) {
                double acc = fresh ? 0.0 : out[r][c];
                for (size_t l = 0; l < n; l++)
                    acc = fmad(A[l * lda + r], B[l * ldb + c], acc);
                out[r][c] = acc;
            }
    }
}

/* The scratch row length of the cosines: the Gram blocks are always full
 * (ROWS x COLS), reading zero padding past the neurons (n + COLS + ROWS). */
static inline size_t padded(size_t n)
{
    return TSRELU_SIMD_SCRATCH(n, 1);
}

/* Row r of the neurons: the students U, then the teachers T. */
static inline const double *neuron_row(const double *U, const double *T, size_t m, size_t d,
                                       size_t r)
{
    return r < m ? U + r * d : T + (r - m) * d;
}

/* UT[c*ld + r] = entry c of neuron row r (r < n = m + k: the students,
 * then the teachers): 4 x 4 tiles of four rows (students and teachers in
 * the same tile where they meet) transposed in registers (the shuffles move
 * bits, compute nothing), the rest one by one. */
static inline void transpose(const double *U, const double *T, size_t m, size_t n, size_t d,
                             double *UT, size_t ld)
{
    size_t i = 0;
    for (; i + 4 <= n && SHUFFLE; i += 4) {
        const double *x[4];
        for (size_t q = 0; q < 4; q++)
            x[q] = neuron_row(U, T, m, d, i + q);
        size_t c = 0;
#if SHUFFLE
        for (; c + 4 <= d; c += 4) {
            v4d r[4];
            for (int q = 0; q < 4; q++)
                memcpy(&r[q], x[q] + c, sizeof r[q]);
            v4d t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 2, 6); /* x0c x1c x0c+2 x1c+2 */
            v4d t1 = __builtin_shufflevector(r[0], r[1], 1, 5, 3, 7);
            v4d t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 2, 6);
            v4d t3 = __builtin_shufflevector(r[2], r[3], 1, 5, 3, 7);
            v4d o[4] = {__builtin_shufflevector(t0, t2, 0, 1, 4, 5),
                        __builtin_shufflevector(t1, t3, 0, 1, 4, 5),
                        __builtin_shufflevector(t0, t2, 2, 3, 6, 7),
                        __builtin_shufflevector(t1, t3, 2, 3, 6, 7)};
            for (int q = 0; q < 4; q++)
                memcpy(UT + (c + (size_t)q) * ld + i, &o[q], sizeof o[q]);
        }
#endif
        for (; c < d; c++)
            for (size_t q = 0; q < 4; q++)
                UT[c * ld + i + q] = x[q][c];
    }
    for (; i < n; i++) {
        const double *x = neuron_row(U, T, m, d, i);
        for (size_t c = 0; c < d; c++)
            UT[c * ld + i] = x[c];
    }
}

/* The cosines from the transposed unit rows: the Gram block of ROWS
 * students against COLS neurons at a time (COLS / 2 for a last block that
 * narrow), only the pairs kept stored. */
static void TSRELU_SIMD_FN(cosines)(size_t m, size_t k, size_t d, const double *U,
                                     const double *T, int students_too, double *UT,
                                     const tsrelu__pairs *p)
{
    size_t n = m + k, ld = padded(n);
    transpose(U, T, m, n, d, UT, ld); /* the padding past n stays zero (simd.h) */
    for (size_t i0 = 0; i0 < m; i0 += ROWS) {
        size_t rows = m - i0 < ROWS ? m - i0 : ROWS;
        for (size_t j0 = students_too ? i0 + 1 : m; j0 < n; j0 += COLS) {
            size_t w = n - j0 < COLS ? n - j0 : COLS;
            double out[ROWS][COLS];
            block(UT + i0, UT + j0, d, ld, ld, ROWS, w <= COLS / 2 ? COLS / 2 : COLS, out, 1);
            for (size_t r = 0; r < rows; r++) { /* the row's kept columns: one run */
                size_t i = i0 + r, first = students_too ? i + 1 : m;
                size_t c0 = first > j0 ? first - j0 : 0;
                if (c0 < w)
                    copy_run(p->c + tsrelu__pair_row(m, k, students_too, i) + (j0 + c0 - first),
                             out[r] + c0, w - c0);
            }
        }
    }
}

static inline double combine8(const double *s)
{
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

typedef double v2d __attribute__((vector_size(2 * sizeof(double))));

/* combine8 of the 8 lanes held in 8 / VW vectors (lane q in vector q / VW),
 * the same tree, in registers: storing the vectors and reading the lanes
 * back one by one stalls (a narrow load from a wide store is not
 * forwarded), which measured as a sixth of the pair pass's row kernel. */
static inline double combine8v(const vd *acc)
{
#if !SHUFFLE
    double s[8]; /* lane by lane: the stores of the vectors this avoids elsewhere */
    for (int v = 0; v < 8 / VW; v++)
        for (int q = 0; q < VW; q++)
            s[v * VW + q] = acc[v][q];
    return combine8(s);
#else
#if VW == 8
    v4d x = __builtin_shufflevector(acc[0], acc[0], 0, 1, 2, 3) +
            __builtin_shufflevector(acc[0], acc[0], 4, 5, 6, 7); /* s_q + s_(q+4) */
    v2d y = __builtin_shufflevector(x, x, 0, 1) + __builtin_shufflevector(x, x, 2, 3);
#elif VW == 4
    vd x = acc[0] + acc[1];
    v2d y = __builtin_shufflevector(x, x, 0, 1) + __builtin_shufflevector(x, x, 2, 3);
#elif VW == 2
    v2d y = (acc[0] + acc[2]) + (acc[1] + acc[3]);
#else
#error "VW must be 2, 4 or 8"
#endif
    return y[0] + y[1];
#endif
}

/* h2[at[t]] = sum_c (u_c + sign[t] v[t]_c)^2 for np (<= 4, a constant where
 * inlined) pairs at once, each in 8 partial sums (lane q takes c = q mod 8,
 * in index order; the last d mod 8 entries in masked vectors, whose lanes
 * past d add +0) combined in combine8's tree: vectorised within the sum,
 * the same on every path. u's vectors are loaded once for the np pairs,
 * whose sums are independent chains. */
static inline __attribute__((always_inline)) void sumsq_pairs(const double *u,
                                                              const double *const *v,
                                                              const double *sign,
                                                              const size_t *at, size_t d,
                                                              double *h2, int np)
{
    vd acc[4][8 / VW];
    for (int t = 0; t < np; t++)
        for (int w = 0; w < 8 / VW; w++)
            acc[t][w] = (vd){0.0};
    size_t c = 0;
    for (; c + 8 <= d; c += 8)
        for (int w = 0; w < 8 / VW; w++) {
            vd x0 = loadv(u + c + (size_t)w * VW);
            for (int t = 0; t < np; t++) {
                vd x = x0 + sign[t] * loadv(v[t] + c + (size_t)w * VW);
                acc[t][w] = fmav(x, x, acc[t][w]);
            }
        }
    for (int w = 0; w < 8 / VW && c + (size_t)w * VW < d; w++) {
        size_t o = c + (size_t)w * VW, cnt = d - o < VW ? d - o : VW;
        vd x0 = loadv_n(u + o, cnt);
        for (int t = 0; t < np; t++) {
            vd x = x0 + sign[t] * loadv_n(v[t] + o, cnt);
            acc[t][w] = fmav(x, x, acc[t][w]);
        }
    }
    for (int t = 0; t < np; t++) /* from the registers (an array of the sums, stored
                                   * as a vector and read back a lane at a time, stalls) */
        h2[at[t]] = combine8v(acc[t]);
}

/* The near pairs of a row are gathered (their index, other row and sign)
 * and summed four at a time; the others get 0. */
static void TSRELU_SIMD_FN(distances)(size_t m, size_t k, size_t d, const double *U,
                                       const double *T, int students_too, const tsrelu__pairs *p)
{
    size_t q = 0;
    for (size_t i = 0; i < m; i++) {
        const double *ui = U + i * d, *v[4];
        double sign[4];
        size_t at[4];
        int cnt = 0;
        for (size_t l = students_too ? i + 1 : m; l < m + k; l++, q++) {
            double c = p->c[q];
            p->h2[q] = 0.0;
            if (!(c > TSRELU_EXACT_COS || c < -TSRELU_EXACT_COS))
                continue;
            v[cnt] = neuron_row(U, T, m, d, l);
            sign[cnt] = c > 0.0 ? -1.0 : 1.0;
            at[cnt++] = q;
            if (cnt == 4) {
                sumsq_pairs(ui, v, sign, at, d, p->h2, 4);
                cnt = 0;
            }
        }
        if (cnt == 3)
            sumsq_pairs(ui, v, sign, at, d, p->h2, 3);
        else if (cnt == 2)
            sumsq_pairs(ui, v, sign, at, d, p->h2, 2);
        else if (cnt == 1)
            sumsq_pairs(ui, v, sign, at, d, p->h2, 1);
    }
}

/* A block of the product (nr <= ROWS rows, nv = NV or NV / 2 vectors of
 * columns, constants where inlined): the terms of W, then those of V, in
 * the same accumulators, stored to G from the registers. */
static inline __attribute__((always_inline)) void product_block(size_t m, size_t k, size_t d,
                                                                const double *Pt, const double *W,
                                                                const double *V, double *G,
                                                                size_t i0, size_t c0, int nr, int nv)
{
    vd acc[ROWS][NV];
    for (int r = 0; r < nr; r++)
        for (int v = 0; v < nv; v++)
            acc[r][v] = (vd){0.0};
    block_acc(Pt + i0, W + c0, m, m, d, acc, nr, nv);
    block_acc(Pt + m * m + i0, V + c0, k, m, d, acc, nr, nv);
    for (int r = 0; r < nr; r++)
        for (int v = 0; v < nv; v++)
            storev(G + (i0 + (size_t)r) * d + c0 + (size_t)v * VW, acc[r][v]);
}

static void TSRELU_SIMD_FN(product)(size_t m, size_t k, size_t d, const double *Pt,
                                     const double *W, const double *V, double *G)
{
    for (size_t i0 = 0; i0 < m; i0 += ROWS) {
        size_t rows = m - i0 < ROWS ? m - i0 : ROWS;
        for (size_t c0 = 0; c0 < d;) {
            size_t w = d - c0 >= COLS ? COLS : d - c0 >= COLS / 2 ? COLS / 2 : d - c0;
            if (w == COLS || w == COLS / 2) { /* both sums in registers, stored once */
                int half = w == COLS / 2;
                _Static_assert(ROWS == 4, "one case for each row count 1..ROWS");
                switch (rows * 2 + (size_t)half) {
                case 8: product_block(m, k, d, Pt, W, V, G, i0, c0, 4, NV); break;
                case 9: product_block(m, k, d, Pt, W, V, G, i0, c0, 4, NV / 2); break;
                case 6: product_block(m, k, d, Pt, W, V, G, i0, c0, 3, NV); break;
                case 7: product_block(m, k, d, Pt, W, V, G, i0, c0, 3, NV / 2); break;
                case 4: product_block(m, k, d, Pt, W, V, G, i0, c0, 2, NV); break;
                case 5: product_block(m, k, d, Pt, W, V, G, i0, c0, 2, NV / 2); break;
                case 2: product_block(m, k, d, Pt, W, V, G, i0, c0, 1, NV); break;
                default: product_block(m, k, d, Pt, W, V, G, i0, c0, 1, NV / 2); break;
                }
                c0 += w;
                continue;
            }
            double out[ROWS][COLS];
            block(Pt + i0, W + c0, m, m, d, rows, w, out, 1);
            block(Pt + m * m + i0, V + c0, k, m, d, rows, w, out, 0);
            for (size_t r = 0; r < rows; r++)
                copy_run(G + (i0 + r) * d + c0, out[r], w);
            c0 += w;
        }
    }
}

#if VW == 8 || VW == 4
/* tsrelu__sumsq (kernel.h) of four rows at once, in the same order, lane r
 * for row r: four partial sums a row (the entries c mod 4, in one 4-lane
 * vector per row, each product rounded before its add), transposed so that
 * vector q holds every row's partial sum q, the last d mod 4 squares added
 * to the first, then (s0 + s1) + (s2 + s3). The rows are four independent
 * chains of adds (one row alone is a chain of d / 4 adds), and the sums
 * stay in registers (lanes stored and read back one by one stall). The
 * shuffles are transpose()'s, written out: a helper taking the sums'
 * address put them on ASan's fake stack (detect_stack_use_after_return),
 * misaligned for 32-byte vectors, and the sanitizer run died (SEGV). */
static inline v4d sumsq4(const double *X, size_t d)
{
    v4d acc[4] = {{0.0}};
    size_t c = 0;
    for (; c + 4 <= d; c += 4)
        for (int r = 0; r < 4; r++) {
            v4d x;
            memcpy(&x, X + (size_t)r * d + c, sizeof x);
            acc[r] += x * x;
        }
#if SHUFFLE
    v4d t0 = __builtin_shufflevector(acc[0], acc[1], 0, 4, 2, 6);
    v4d t1 = __builtin_shufflevector(acc[0], acc[1], 1, 5, 3, 7);
    v4d t2 = __builtin_shufflevector(acc[2], acc[3], 0, 4, 2, 6);
    v4d t3 = __builtin_shufflevector(acc[2], acc[3], 1, 5, 3, 7);
    v4d s[4] = {__builtin_shufflevector(t0, t2, 0, 1, 4, 5), __builtin_shufflevector(t1, t3, 0, 1, 4, 5),
                __builtin_shufflevector(t0, t2, 2, 3, 6, 7), __builtin_shufflevector(t1, t3, 2, 3, 6, 7)};
#else
    v4d s[4];
    for (int q = 0; q < 4; q++)
        for (int r = 0; r < 4; r++)
            s[q][r] = acc[r][q];
#endif
    for (size_t e = c; e < d; e++) { /* at most three */
        v4d x = {X[e], X[d + e], X[2 * d + e], X[3 * d + e]};
        s[0] += x * x;
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}
#endif

/* u = x inv (d entries) in vectors, the last one masked */
static inline void scale_row(const double *x, double inv, size_t d, double *u)
{
    vd iv = splat(inv);
    size_t c = 0;
    for (; c + VW <= d; c += VW)
        storev(u + c, loadv(x + c) * iv);
    if (c < d)
        storev_n(u + c, loadv_n(x + c, d - c) * iv, d - c);
}

/* One row from its sum of squares: tsrelu__norm's fast path (the same sum,
 * then sqrt) or the function itself, and then the multiply by the
 * reciprocal in the fast range (it vectorises; at most 1 ulp from the
 * division), else tsrelu__unit's rescaling. n and inv:
 * sqrt(ss) and 1 / that, used when ss is in tsrelu__norm's fast range. */
static inline void normalise_row(const double *x, size_t d, double ss, double n, double inv,
                                 double *norm, double *u)
{
    if (!(ss < 1e290 && ss > 1e-290)) {
        n = tsrelu__norm(x, d);
        inv = 1.0 / n;
    }
    *norm = n;
    if (tsrelu__norm_fast(n)) /* zero, subnormal or above 2^1022 are not */
        scale_row(x, inv, d, u);
    else
        tsrelu__unit(x, d, u);
}

/* norm[i] = tsrelu__norm(W_i) and U_i = W_i / |W_i| as a multiply by the
 * reciprocal, or tsrelu__unit's rescaled division outside the fast range
 * (kernel.h): the bits of those functions, four rows at a time, their
 * square roots and reciprocals in one vector each (a scalar sqrt and
 * division a row kept the divider busy at small sizes). */
static void TSRELU_SIMD_FN(normalise)(size_t m, size_t d, const double *W, double *norm,
                                       double *U)
{
    size_t i = 0;
#if VW == 8 || VW == 4 /* the x86-64 baseline has no 4-lane vectors: a row at a time */
    for (; i + 4 <= m; i += 4) {
        v4d s4 = sumsq4(W + i * d, d), n4 = (v4d)_mm256_sqrt_pd((__m256d)s4),
            inv4 = 1.0 / n4; /* IEEE: the bits of the scalar sqrt and division */
        for (int r = 0; r < 4; r++)
            normalise_row(W + (i + (size_t)r) * d, d, s4[r], n4[r], inv4[r], norm + i + r,
                          U + (i + (size_t)r) * d);
    }
#endif
    for (; i < m; i++) {
        double ss = tsrelu__sumsq(W + i * d, d), n = sqrt(ss);
        normalise_row(W + i * d, d, ss, n, 1.0 / n, norm + i, U + i * d);
    }
}

typedef long long vl __attribute__((vector_size(VW * sizeof(double))));

/* x in the lane numbered at, +0 in the others. */
static inline vd keep_lane(vd x, vl lane, long long at)
{
    return (vd)((vl)x & (lane == at));
}

/* One chunk of row r of outer(): columns c .. c + W - 1 (W = VW or 1). */
#define OUTER_CHUNK(T, LOAD, STORE)                                                               \
    do {                                                                                         \
        T acc0 = acc ? LOAD(row + c) : A[r] * LOAD(B + c);                                       \
        for (size_t l = acc ? 0 : 1; l < n; l++)                                                 \
            acc0 += A[l * d + r] * LOAD(B + l * d + c);                                          \
        STORE(row + c, acc0);                                                                    \
    } while (0)

static inline double load1(const double *p)
{
    return *p;
}

static inline void store1(double *p, double x)
{
    *p = x;
}

/* H[r*ld + c] = (H[r*ld + c] +) sum_l A[l*d + r] B[l*d + c] (+ diag for
 * r = c) for r, c < d, l < n (n >= 1 unless acc), every entry summed in the
 * order of l and diag added last, row by row with the columns in vectors. */
static void TSRELU_SIMD_FN(outer)(size_t n, size_t d, const double *A, const double *B,
                                   double *H, size_t ld, int acc, double diag)
{
    if (n == 2 && !acc) { /* the off-diagonal blocks: B's columns held in registers */
        size_t c = 0;
        vd dv;
        vl lane;
        for (int q = 0; q < VW; q++) {
            dv[q] = diag;
            lane[q] = q;
        }
        for (; c + VW <= d; c += VW) {
            vd b0 = loadv(B + c), b1 = loadv(B + d + c);
            for (size_t r = 0; r < d; r++) {
                /* diag added in the register, in its lane (a lane-wise
                 * select, so no spill and no store-load stall), + 0 to
                 * every other entry as in the scalar columns: the same
                 * operations on every path, also for the sign of a zero */
                vd v = A[r] * b0 + A[d + r] * b1;
                storev(H + r * ld + c, v + keep_lane(dv, lane, (long long)r - (long long)c));
            }
        }
        for (; c < d; c++)
            for (size_t r = 0; r < d; r++)
                H[r * ld + c] = A[r] * B[c] + A[d + r] * B[d + c] + (r == c ? diag : 0.0);
        return;
    }
    for (size_t r = 0; r < d; r++) {
        double *row = H + r * ld;
        size_t c = 0;
        for (; c + VW <= d; c += VW)
            OUTER_CHUNK(vd, loadv, storev);
        for (; c < d; c++)
            OUTER_CHUNK(double, load1, store1);
        row[r] += diag;
    }
}

/* asin(x) = x + x R(x^2) on [0, 0.5]: simd/asin_rational.h. */
/* Horner's steps fused (fma: one rounding each). */
static inline double asin_r(double t)
{
    double p = t * fmad(t, fmad(t, fmad(t, fmad(t, fmad(t, PS5, PS4), PS3), PS2), PS1), PS0);
    double q = fmad(t, fmad(t, fmad(t, fmad(t, QS4, QS3), QS2), QS1), 1.0);
    return p / q;
}

/* tsrelu__kappa_series (kernel.h: the same ten terms) with Horner's steps
 * fused, written out (a loop over the coefficients is not unrolled once it
 * holds fma calls, and then the angle loop does not vectorise). */
static inline double kappa_series(double theta)
{
    double t2 = theta * theta, p = TSRELU_KAPPA_C10;
    p = fmad(p, t2, TSRELU_KAPPA_C9);
    p = fmad(p, t2, TSRELU_KAPPA_C8);
    p = fmad(p, t2, TSRELU_KAPPA_C7);
    p = fmad(p, t2, TSRELU_KAPPA_C6);
    p = fmad(p, t2, TSRELU_KAPPA_C5);
    p = fmad(p, t2, TSRELU_KAPPA_C4);
    p = fmad(p, t2, TSRELU_KAPPA_C3);
    p = fmad(p, t2, TSRELU_KAPPA_C2);
    p = fmad(p, t2, TSRELU_KAPPA_C1);
    return p * t2 * theta;
}

/* x with the low 32 bits of its significand cleared: df * df is exact. */
static inline double high_half(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    b &= 0xffffffff00000000u;
    memcpy(&x, &b, sizeof x);
    return x;
}

#if VW != 2
/* a where cond, else b, selected by their bits: a plain ?: the vectoriser
 * pushed through the square root taken of it into both of its arms
 * (every lane then paid for both square roots). */
static inline double pick_bits(int cond, double a, double b)
{
    uint64_t ia, ib, mask = (uint64_t)0 - (uint64_t)(cond != 0);
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    ia = (ia & mask) | (ib & ~mask);
    memcpy(&a, &ia, sizeof a);
    return a;
}
#endif

/* The angle kernel's two square roots a pair. Written plainly, a pair
 * needs four: s = sqrt(z), sqrt(dm) and sqrt(dp) for a near pair's sine
 * 0.5 sqrt(dm) sqrt(dp), and sqrt((1 - c)(1 + c)) for a far pair's. Each
 * pair needs at most two of them, taken on selected arguments, the same
 * bits:
 *   near, small >= 2^-1020: x = sqrt(small), y = sqrt(large), s = x / 2
 *     (z = small / 4 is exact there, and so is halving a square root);
 *     {sqrt(dm), sqrt(dp)} = {x, y}, multiplied either way round;
 *   near, small < 2^-1020: z = small / 4 may have rounded, so
 *     x = sqrt(z) = s and y = sqrt(small); large = 4 exactly there, so
 *     {sqrt(dm), sqrt(dp)} = {y, 2};
 *   far: x = sqrt(z) = s, y = sqrt((1 - c)(1 + c)), the sine.
 * The square roots are the kernel's slowest operations (with the two
 * divisions): with four the AVX-512 path took 2.92 ns a pair against 2.38
 * (bench_kernels; docs/performance.md, "A fourth run"). The 2-lane
 * template keeps the plain formula: SSE2 has no 64-bit integer select on
 * a comparison, pick_bits kept its loop scalar, and with ?: it was slower
 * (12.8 ns a pair against 11.7 for the plain formula). The same bits
 * either way.
 * test_angles_plain_formula (check_simd.c) holds it to the plain formula
 * bit for bit. */
static inline __attribute__((always_inline)) void angle_loop(size_t n, const double *restrict c,
                                                             const double *restrict h2,
                                                             double *restrict theta,
                                                             double *restrict sine,
                                                             double *restrict cosine,
                                                             double *restrict kap, int with_kappa)
{
    for (size_t j = 0; j < n; j++) {
        double cj = c[j], ac = fabs(cj), small = h2[j];
        int near = ac > TSRELU_EXACT_COS, mid = ac > 0.5;
        double z = near ? 0.25 * small : 0.5 * (1.0 - ac);
        z = mid ? z : 0.0;
        double large = 4.0 - small;
#if VW == 2 /* the plain formula (see above) */
        double s = sqrt(z), sq_far = sqrt((1.0 - cj) * (1.0 + cj));
#else
        int whole = near && !(small < 0x1p-1020); /* z = small / 4 exactly */
        double x = sqrt(pick_bits(whole, small, z));
        double y = sqrt(pick_bits(near, pick_bits(whole, large, small), (1.0 - cj) * (1.0 + cj)));
        double s = whole ? 0.5 * x : x;
#endif
        double t = mid ? z : cj * cj, r = asin_r(t);
        double df = high_half(s), den = s + df;
        double quot = (z - df * df) / (den > 0.0 ? den : 1.0); /* computed in every lane */
        double corr = den > 0.0 ? quot : 0.0;
        double th_low = PIO2_HI - (cj - fmad(-cj, r, PIO2_LO));
        double th_pos = 2.0 * (df + fmad(r, s, corr));
        double th_neg = PI_HI - 2.0 * (s + fmad(r, s, -PIO2_LO));
        double th = !mid ? th_low : (cj > 0.0 ? th_pos : th_neg);
        double dm = cj > 0.0 ? small : large, dp = cj > 0.0 ? large : small;
#if VW == 2
        double sn_near = 0.5 * (sqrt(dm) * sqrt(dp)), sn_far = sq_far;
#else
        double sn_near = 0.5 * ((whole ? x : y) * (whole ? y : 2.0)), sn_far = y;
#endif
        double cs_near = 0.25 * (dp - dm);
        double sn = near ? sn_near : sn_far, cs = near ? cs_near : cj;
        theta[j] = th;
        sine[j] = sn;
        cosine[j] = cs;
        if (with_kappa) { /* a constant where inlined: two loops */
            double k_series = kappa_series(th), k_direct = fmad(-th, cs, sn);
            kap[j] = th < TSRELU_KAPPA_SERIES_MAX ? k_series : k_direct;
        }
    }
}

/* Every pair through one kernel, all ranges computed and selected (so the
 * loop vectorises):
 *   |c| <= 0.5:            theta = pi/2 - asin c
 *   0.5 < |c| <= 0.7:      theta = 2 asin z^(1/2),  z = (1 - |c|) / 2
 *   |c| > 0.7:             theta = 2 asin z^(1/2),  z = |u -+ v|^2 / 4
 * (pi minus that for c < 0), where the squared distance of the near
 * (anti)parallel pairs is summed from the vectors, exact where acos(c)
 * would lose half the digits. For c > 0.5 the rounding of sqrt(z) is
 * corrected as fdlibm's acos does. sin and cos as tsrelu__angle_unit:
 * from c where it is accurate, else from the half-angle distances. */
static void TSRELU_SIMD_FN(angles)(size_t n, int with_kappa, const tsrelu__pairs *p)
{
    if (with_kappa)
        angle_loop(n, p->c, p->h2, p->theta, p->sn, p->cs, p->kappa, 1);
    else
        angle_loop(n, p->c, p->h2, p->theta, p->sn, p->cs, p->kappa, 0);
}

typedef long long vi __attribute__((vector_size(VW * sizeof(double))));

/* x where mask is all ones, +0 where it is 0 */
static inline vd keep(vd x, vi mask)
{
    return (vd)((vi)x & mask);
}

/* Lane sums start at +0 and only ever add: a lane is never -0, so adding
 * +0 for a skipped (zero) student changes nothing, and neither does adding
 * +0 to radial and kap (never -0 either). The lanes stay in registers; the
 * row's last n mod 8 pairs go through the same vector code with masked
 * loads and stores (the lanes past the row read as zero students). */
static inline void pair_row_vec(vd live_norm, vd al, vd s, vd kp, vd th, double ai, double wi,
                                vd *P, vd *radial, vd *kap, vd acc[3])
{
    vi live = live_norm != 0.0;
    vd wl = al * live_norm, w = (TSRELU_PI - th) * TSRELU_INV_2PI;
    *P = keep(ai * al * w, live);
    *radial += keep(wi * s, live);
    *kap += keep(wi * kp, live);
    acc[0] += keep(wl * s, live);
    acc[1] += keep(wl * kp, live);
    acc[2] += keep(wi * wl * kp, live);
}

/* A pair-pass row's three sums from their 8 lanes (in 8 / VW vectors
 * each), combined in combine8's tree. */
static inline __attribute__((always_inline)) void row_sums(vd acc[8 / VW][3], double sums[3])
{
    for (int r = 0; r < 3; r++) {
        vd lane[8 / VW];
        for (int v = 0; v < 8 / VW; v++)
            lane[v] = acc[v][r];
        sums[r] = combine8v(lane);
    }
}

static void TSRELU_SIMD_FN(pair_row)(size_t n, const double *restrict theta,
                                      const double *restrict sn, const double *restrict kappa,
                                      const double *restrict a, const double *restrict norm,
                                      double ai, double wi, double *restrict P_row,
                                      double *restrict radial, double *restrict kap,
                                      double sums[3])
{
    vd acc[8 / VW][3];
    for (int v = 0; v < 8 / VW; v++)
        for (int r = 0; r < 3; r++)
            acc[v][r] = (vd){0.0};
    size_t t = 0;
    for (; t + 8 <= n; t += 8)
        for (int v = 0; v < 8 / VW; v++) {
            size_t o = t + (size_t)v * VW;
            vd P, rad = loadv(radial + o), kp_sum = loadv(kap + o);
            pair_row_vec(loadv(norm + o), loadv(a + o), loadv(sn + o),
                         kappa ? loadv(kappa + o) : (vd){0.0}, loadv(theta + o), ai, wi, &P, &rad,
                         &kp_sum, acc[v]);
            storev(P_row + o, P);
            storev(radial + o, rad);
            storev(kap + o, kp_sum);
        }
    for (int v = 0; v < 8 / VW && t + (size_t)v * VW < n; v++) {
        size_t o = t + (size_t)v * VW, cnt = n - o < VW ? n - o : VW;
        vd P, rad = loadv_n(radial + o, cnt), kp_sum = loadv_n(kap + o, cnt);
        pair_row_vec(loadv_n(norm + o, cnt), loadv_n(a + o, cnt), loadv_n(sn + o, cnt),
                     kappa ? loadv_n(kappa + o, cnt) : (vd){0.0}, loadv_n(theta + o, cnt), ai, wi,
                     &P, &rad, &kp_sum, acc[v]);
        storev_n(P_row + o, P, cnt);
        storev_n(radial + o, rad, cnt);
        storev_n(kap + o, kp_sum, cnt);
    }
    row_sums(acc, sums);
}

/* The lanes of v (nv vectors, a constant where inlined) moved down one:
 * lane t takes lane t + 1, the last lane takes +0 (shuffles move bits,
 * compute nothing). */
static inline __attribute__((always_inline)) void shift_down(vd *v, int nv)
{
#if SHUFFLE
    for (int w = 0; w < nv; w++) {
        vd next = w + 1 < nv ? v[w + 1] : (vd){0.0};
#if VW == 8
        v[w] = __builtin_shufflevector(v[w], next, 1, 2, 3, 4, 5, 6, 7, 8);
#elif VW == 4
        v[w] = __builtin_shufflevector(v[w], next, 1, 2, 3, 4);
#else
        v[w] = __builtin_shufflevector(v[w], next, 1, 2);
#endif
    }
#else
    for (int w = 0; w < nv; w++)
        for (int q = 0; q < VW; q++)
            v[w][q] = q + 1 < VW ? v[w][q + 1] : w + 1 < nv ? v[w + 1][0] : 0.0;
#endif
}

/* The rows of the student block with nb <= BLOCK_CHUNKS chunks of 8 later
 * students in registers (a constant where inlined; m <= 8 nb + 1). */
#define BLOCK_CHUNKS 3
static inline __attribute__((always_inline)) void
pair_block_nb(size_t m, size_t k, const double *restrict theta, const double *restrict sn,
              const double *restrict kappa, const double *restrict a,
              const double *restrict norm, double *restrict P, double *restrict radial,
              double *restrict kap, double *restrict sums, int nb)
{
    enum { NVB = 8 / VW * BLOCK_CHUNKS };
    int nvb = 8 / VW * nb; /* vectors of the window of later students */
    vd R[NVB], K[NVB];
    for (int w = 0; w < nvb; w++)
        R[w] = K[w] = (vd){0.0};
    for (size_t i = 0; i < m; i++) {
        size_t n = m - i - 1, q = tsrelu__pair_row(m, k, 1, i);
        radial[i] = R[0][0]; /* the sums of rows 0 .. i - 1 for l = i */
        kap[i] = K[0][0];
        shift_down(R, nvb); /* now lane t is l = i + 1 + t */
        shift_down(K, nvb);
        double ai = a[i], wi = ai * norm[i];
        vd acc[8 / VW][3]; /* lane t mod 8, over the chunks in order, as pair_row */
        for (int w = 0; w < 8 / VW; w++)
            for (int r = 0; r < 3; r++)
                acc[w][r] = (vd){0.0};
        if (norm[i] != 0.0)
            for (int w = 0; w < nvb && (size_t)w * VW < n; w++) {
                size_t o = (size_t)w * VW, cnt = n - o < VW ? n - o : VW;
                vd Pv;
                pair_row_vec(loadv_n(norm + i + 1 + o, cnt), loadv_n(a + i + 1 + o, cnt),
                             loadv_n(sn + q + o, cnt),
                             kappa ? loadv_n(kappa + q + o, cnt) : (vd){0.0},
                             loadv_n(theta + q + o, cnt), ai, wi, &Pv, &R[w], &K[w],
                             acc[w % (8 / VW)]);
                storev_n(P + i * m + i + 1 + o, Pv, cnt);
            }
        row_sums(acc, sums + 3 * i);
    }
}

/* The student block of the pair pass for m <= TSRELU_SIMD_BLOCK_MAX: every
 * row i of pair_row's (its n = m - i - 1 pairs from th + q_i, the packed
 * row start, and P_row = P + i m + i + 1), the rows of zero students
 * skipped, with the running radial and kap sums of the later students in
 * registers (a row's masked stores read back, shifted a lane, by the next
 * row's loads are not forwarded: a stall a row). The same operations in
 * the same order as pair_row row after row: radial[i] and kap[i] get what
 * the rows before i added (pair_row's in-place sums before row i), and
 * sums[3 i + r] row i's sums. */
static void TSRELU_SIMD_FN(pair_block)(size_t m, size_t k, const double *restrict theta,
                                        const double *restrict sn, const double *restrict kappa,
                                        const double *restrict a, const double *restrict norm,
                                        double *restrict P, double *restrict radial,
                                        double *restrict kap, double *restrict sums)
{
    _Static_assert(TSRELU_SIMD_BLOCK_MAX == 8 * BLOCK_CHUNKS + 1, "the window's chunks");
    if (m <= 9)
        pair_block_nb(m, k, theta, sn, kappa, a, norm, P, radial, kap, sums, 1);
    else if (m <= 17)
        pair_block_nb(m, k, theta, sn, kappa, a, norm, P, radial, kap, sums, 2);
    else
        pair_block_nb(m, k, theta, sn, kappa, a, norm, P, radial, kap, sums, 3);
}

static int TSRELU_SIMD_FN(update)(const double *restrict x, const double *restrict g,
                                   double eta, double *restrict out, size_t n)
{
    const uint64_t exponent = 0x7ff0000000000000u; /* all ones: Inf or NaN */
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double y = x[i] - eta * g[i];
        uint64_t b;
        memcpy(&b, &y, sizeof b);
        out[i] = y;
        bad |= (b & exponent) == exponent;
    }
    return bad == 0;
}

typedef unsigned long long vu __attribute__((vector_size(VW * sizeof(double))));

/* 1 if no entry of x is Inf or NaN: those have every exponent bit set, so
 * adding 1 at the exponent's lowest bit carries into bit 63 for them and
 * for no other value; integer and/add/or in vectors, no dependency chain
 * through floating-point adds. */
static int TSRELU_SIMD_FN(finite)(const double *x, size_t n)
{
    const uint64_t exponent = 0x7ff0000000000000u, one = 0x0010000000000000u;
    vu bad = {0};
    size_t i = 0;
    for (; i + VW <= n; i += VW) {
        vu b;
        memcpy(&b, x + i, sizeof b);
        bad |= (b & exponent) + one;
    }
    uint64_t all = 0;
    for (; i < n; i++) {
        uint64_t b;
        memcpy(&b, x + i, sizeof b);
        all |= (b & exponent) + one;
    }
    for (int v = 0; v < VW; v++)
        all |= bad[v];
    return (all >> 63) == 0;
}

const tsrelu__simd_ops TSRELU_SIMD_CAT(tsrelu__simd_, TSRELU_SIMD_NAME) = {
    TSRELU_SIMD_STR(TSRELU_SIMD_NAME),
    FUSED,
    TSRELU_SIMD_FN(cosines),
    TSRELU_SIMD_FN(distances),
    TSRELU_SIMD_FN(angles),
    TSRELU_SIMD_FN(product),
    TSRELU_SIMD_FN(pair_row),
    TSRELU_SIMD_FN(update),
    TSRELU_SIMD_FN(outer),
    TSRELU_SIMD_FN(finite),
    TSRELU_SIMD_FN(normalise),
    TSRELU_SIMD_FN(pair_block),
};

/*
 * libtsrelu — exact population gradient descent for two-layer ReLU
 * teacher-student networks with Gaussian input.
 *
 * Copyright (c) 2026 the libtsrelu authors. MIT licence (see LICENSE).
 *
 * This is the one public header. It is C99 and includes only <stddef.h> and
 * <stdint.h>. Everything declared here is part of the stable 1.x ABI.
 *
 * Model.  Student f(x) = sum_i a_i relu(w_i . x), i = 0..m-1, w_i in R^d.
 *         Teacher f*(x) = sum_j b_j relu(v_j . x), j = 0..k-1.
 *         x ~ N(0, I_d).  Loss L(W, a) = 1/2 E[(f(x) - f*(x))^2].
 * Every expectation is evaluated in closed form (arc-cosine kernel).
 *
 * Memory layout.  Matrices are row-major and neuron-major: the weight c of
 * student neuron i is W[i*d + c]; teacher neuron j is V[j*d + c]. (A Julia or
 * Fortran d x m column-major array has exactly this memory.)
 *
 * Conventions.
 *  - Every fallible function returns tsrelu_status: 0 = TSRELU_OK, positive =
 *    a non-error outcome (TSRELU_STOPPED, TSRELU_CONVERGED), negative = error.
 *    On error, tsrelu_last_error() gives a detailed message for this thread.
 *  - Inputs are copied; handles never alias caller memory.
 *  - Output buffers come with their length in elements (doubles, or ints
 *    for group arrays), which must equal the documented size exactly
 *    (TSRELU_ELENGTH otherwise).
 *  - _free(NULL) is a no-op. Handles may be freed in any order.
 *  - Functions taking const handles are safe to call concurrently.
 *  - The library never prints, aborts or exits.
 *  - A zero student neuron (w_i = 0) contributes nothing: relu'(0) = 0, so
 *    its gradient row and d L / d a_i are 0, and gradient descent leaves it
 *    at 0.  A zero teacher neuron is rejected (TSRELU_EINVAL).
 */
#ifndef TSRELU_H
#define TSRELU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * Version
 * ====================================================================== */

#define TSRELU_VERSION_MAJOR 1
#define TSRELU_VERSION_MINOR 2
#define TSRELU_VERSION_PATCH 0
#define TSRELU_VERSION_NUMBER \
    (TSRELU_VERSION_MAJOR * 10000 + TSRELU_VERSION_MINOR * 100 + TSRELU_VERSION_PATCH)
#define TSRELU_VERSION_STRING "1.2.0"

#if defined(__GNUC__) && __GNUC__ >= 4
#  define TSRELU_API __attribute__((visibility("default")))
#  define TSRELU_NODISCARD __attribute__((warn_unused_result))
#else
#  define TSRELU_API
#  define TSRELU_NODISCARD
#endif

/*! tsrelu_version_number() :
 *  @return : the runtime library version, MAJOR*10000 + MINOR*100 + PATCH. */
TSRELU_API unsigned tsrelu_version_number(void);

/*! tsrelu_version_string() :
 *  @return : the runtime library version as static text, e.g. "1.0.0". */
TSRELU_API const char *tsrelu_version_string(void);

/*! tsrelu_isa() :
 *  The instruction-set path of the library's own kernels, chosen once per
 *  process from the CPU: "avx512", "avx2" (with FMA) or "portable". The
 *  environment variable TSRELU_ISA, read at the first use, asks for one of
 *  these names; a request this CPU does not support, or an unknown name,
 *  falls back to the best supported path and the text says so, e.g.
 *  "avx2 (TSRELU_ISA=avx512 is not supported by this CPU)". The paths with
 *  FMA (avx512, avx2, and portable on targets that have the instruction,
 *  such as aarch64) give bit-identical results; "portable" on x86-64 rounds
 *  multiply-adds twice and differs from them in the last bits
 *  (docs/performance.md); the text is for bug reports and benchmarks.
 *  Thread-safe. (1.2)
 *  @return : static text, never NULL; do not free it. */
TSRELU_API const char *tsrelu_isa(void);

/* ======================================================================
 * Status codes (append-only; numbers are never reused)
 * ====================================================================== */

typedef int tsrelu_status;

#define TSRELU_OK          0   /* success */
#define TSRELU_STOPPED     1   /* a callback returned non-zero; run stopped */
#define TSRELU_CONVERGED   2   /* a stopping tolerance was met */
#define TSRELU_INTERRUPTED 3   /* tsrelu_gd_interrupt() or tsrelu_batch_interrupt()
                                  stopped the run at the last completed step (1.1) */
#define TSRELU_EINVAL     (-1) /* invalid argument: NULL, zero size, bad value */
#define TSRELU_ENOMEM     (-2) /* out of memory, or a size overflows size_t */
#define TSRELU_EDIM       (-3) /* teacher and student dimensions disagree */
#define TSRELU_ENONFINITE (-4) /* NaN or Inf in an input (or an overflowing result) */
#define TSRELU_EDIVERGED  (-5) /* a GD step produced a non-finite value */
#define TSRELU_ELENGTH    (-6) /* a buffer length does not match the size */
#define TSRELU_EIO        (-7) /* a file could not be opened, written or renamed */
#define TSRELU_EFORMAT    (-8) /* a checkpoint file is truncated, corrupted or of
                                  an unknown version */
#define TSRELU_EBUSY      (-9) /* the GD state is in a run or step: a mutating call
                                  from its own callback, or while its batch runs (1.1) */

/*! tsrelu_status_string() :
 *  @return : static English text describing status `s` (never NULL). */
TSRELU_API const char *tsrelu_status_string(tsrelu_status s);

/*! tsrelu_status_name() :
 *  @return : the macro name of status `s` as static text, e.g.
 *            "TSRELU_EINVAL"; "TSRELU_UNKNOWN" for an unknown code. */
TSRELU_API const char *tsrelu_status_name(tsrelu_status s);

/*! tsrelu_last_error() :
 *  @return : the detailed message of the latest failure on the calling
 *            thread (naming the offending argument, index or value), or ""
 *            if none. Thread-local; valid until the next failing call on
 *            this thread. Successful calls do not clear it. */
TSRELU_API const char *tsrelu_last_error(void);

/* ======================================================================
 * Teacher network (fixed target)
 * ====================================================================== */

typedef struct tsrelu_teacher tsrelu_teacher;

/*! tsrelu_teacher_create() :
 *  Build a teacher with k neurons in dimension d from V (k*d doubles,
 *  row-major) and output weights b (k doubles; NULL means all 1).
 *  Every v_j must be non-zero and finite.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL pointer, k or d zero, zero
 *            neuron), TSRELU_ENONFINITE, TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_teacher_create(size_t k, size_t d, const double *V, const double *b,
                      tsrelu_teacher **out);

/*! tsrelu_teacher_create_orthogonal() :
 *  k random orthonormal directions in R^d, each scaled to length `norm`,
 *  with b_j = 1 (the paper's setting). Directions come from the library's
 *  own seeded generator and are the same on every platform for one seed.
 *  @return : TSRELU_OK; TSRELU_EINVAL (k > d, k or d zero, norm <= 0, NULL
 *            out), TSRELU_ENONFINITE (norm NaN or Inf), TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_teacher_create_orthogonal(size_t k, size_t d, double norm, uint64_t seed,
                                 tsrelu_teacher **out);

/*! tsrelu_teacher_free() : release a teacher; NULL is a no-op. */
TSRELU_API void tsrelu_teacher_free(tsrelu_teacher *t);

/*! tsrelu_teacher_width() : @return k, or 0 if t is NULL. */
TSRELU_API size_t tsrelu_teacher_width(const tsrelu_teacher *t);

/*! tsrelu_teacher_dim() : @return d, or 0 if t is NULL. */
TSRELU_API size_t tsrelu_teacher_dim(const tsrelu_teacher *t);

/*! tsrelu_teacher_weights() : copy V into `V` (len must be k*d).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_teacher_weights(const tsrelu_teacher *t, double *V, size_t len);

/*! tsrelu_teacher_output_weights() : copy b into `b` (len must be k).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_teacher_output_weights(const tsrelu_teacher *t, double *b, size_t len);

/* ======================================================================
 * Student network (trained)
 * ====================================================================== */

typedef struct tsrelu_student tsrelu_student;

/*! tsrelu_student_create() :
 *  Build a student with m neurons in dimension d from W (m*d doubles,
 *  row-major) and output weights a (m doubles; NULL means all 1).
 *  Zero rows are allowed (see the header note on zero neurons).
 *  @return : TSRELU_OK; TSRELU_EINVAL, TSRELU_ENONFINITE, TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_create(size_t m, size_t d, const double *W, const double *a,
                      tsrelu_student **out);

/*! tsrelu_student_create_gaussian() :
 *  w_i ~ N(0, sigma^2 I_d) independently, a_i = 1, from the library's own
 *  seeded generator (xoshiro256** + polar Gaussian transform, no libm
 *  transcendental), bit-identical on every IEEE-754 platform for one seed.
 *  @return : TSRELU_OK; TSRELU_EINVAL (m or d zero, sigma < 0, NULL out),
 *            TSRELU_ENONFINITE (sigma NaN or Inf, or so large that a weight
 *            or the norm of a row overflows, as tsrelu_student_create()
 *            refuses), TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_create_gaussian(size_t m, size_t d, double sigma, uint64_t seed,
                               tsrelu_student **out);

/*! tsrelu_student_copy() : an independent deep copy of `s`.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_copy(const tsrelu_student *s, tsrelu_student **out);

/*! tsrelu_student_free() : release a student; NULL is a no-op. */
TSRELU_API void tsrelu_student_free(tsrelu_student *s);

/*! tsrelu_student_width() : @return m, or 0 if s is NULL. */
TSRELU_API size_t tsrelu_student_width(const tsrelu_student *s);

/*! tsrelu_student_dim() : @return d, or 0 if s is NULL. */
TSRELU_API size_t tsrelu_student_dim(const tsrelu_student *s);

/*! tsrelu_student_weights() : copy W into `W` (len must be m*d).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_weights(const tsrelu_student *s, double *W, size_t len);

/*! tsrelu_student_set_weights() : replace W from `W` (len must be m*d;
 *  finite values). On error the student is unchanged.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, or a view of a GD state);
 *            TSRELU_ELENGTH; TSRELU_ENONFINITE (a NaN or Inf entry, or a row
 *            whose norm overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_set_weights(tsrelu_student *s, const double *W, size_t len);

/*! tsrelu_student_output_weights() : copy a into `a` (len must be m).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_output_weights(const tsrelu_student *s, double *a, size_t len);

/*! tsrelu_student_set_output_weights() : replace a (len must be m; finite).
 *  On error the student is unchanged.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, or a view of a GD state);
 *            TSRELU_ELENGTH; TSRELU_ENONFINITE. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_set_output_weights(tsrelu_student *s, const double *a, size_t len);

/* ======================================================================
 * Initial conditions from the theory (1.1)
 *
 * Seeded generators for the paper's assumptions, bit-identical on every
 * IEEE-754 platform for one seed, like the ones above: students that start
 * in "weak recovery" around a given teacher, and teachers whose neurons have
 * a chosen Gram matrix (non-orthogonal, unequal norms and output weights).
 * ====================================================================== */

/*! tsrelu_student_create_weak_recovery() :
 *  m students for teacher t (dimension d = the teacher's, d >= 2), a_i = 1.
 *  Student i is assigned teacher tau_i: with counts (k entries summing to
 *  m), counts[0] consecutive students to teacher 0, then counts[1] to
 *  teacher 1, ... (a count may be 0); with counts NULL (counts_len
 *  ignored), round-robin: tau_i = i mod k (group sizes differ by at most 1).
 *  w_i = sigma (cos(zeta) v_tau/|v_tau| + sin(zeta) u_i): its norm is exactly
 *  sigma and its angle to its teacher exactly zeta (up to rounding, a few
 *  ulps), with u_i a unit vector drawn uniformly among those orthogonal to
 *  v_tau. 0 < zeta < pi/2. The assigned teacher is the nearest one when
 *  zeta is below half the smallest angle between teacher neurons. If tau is
 *  not NULL the assignment is copied into it (tau_len must be m; NULL:
 *  tau_len ignored).
 *  @return : TSRELU_OK; TSRELU_EINVAL (t or out NULL, m zero, d < 2, counts
 *            not summing to m, zeta outside (0, pi/2), sigma <= 0);
 *            TSRELU_ELENGTH (counts_len != k, tau_len != m);
 *            TSRELU_ENONFINITE (zeta or sigma NaN or Inf, or sigma so large
 *            that the norm of a row overflows); TSRELU_ENOMEM (allocation,
 *            m*d overflows, or m beyond the int range of tau). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_student_create_weak_recovery(const tsrelu_teacher *t, size_t m, const size_t *counts,
                                    size_t counts_len, double zeta, double sigma, uint64_t seed,
                                    int *tau, size_t tau_len, tsrelu_student **out);

/*! tsrelu_teacher_create_gram() :
 *  k neurons in R^d (k <= d) with V V^T = G up to rounding: G (k*k doubles,
 *  row-major) must be exactly symmetric and positive definite; V = L Q with
 *  L the Cholesky factor of G and Q k random orthonormal rows (the frame of
 *  tsrelu_teacher_create_orthogonal() for the same seed, so G = norm^2 I
 *  gives that teacher when sqrt(norm^2) = norm, e.g. norm = 1).
 *  |v_j| = sqrt(G[j*k+j]); the angle between v_i and v_j is
 *  acos(G[i*k+j] / (|v_i||v_j|)). All pairwise angles alpha and norms
 *  n_j: G[i*k+j] = n_i n_j cos(alpha) (i != j), positive definite iff
 *  cos(alpha) > -1/(k-1). b: k output weights (NULL: all 1, b_len ignored).
 *  @return : TSRELU_OK; TSRELU_EINVAL (G or out NULL, k or d zero, k > d, G
 *            not symmetric or not positive definite); TSRELU_ELENGTH
 *            (G_len != k*k, b_len != k); TSRELU_ENONFINITE (NaN or Inf in G
 *            or b); TSRELU_ENOMEM (allocation, or k*d or k*k overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_teacher_create_gram(size_t k, size_t d, const double *G, size_t G_len, const double *b,
                           size_t b_len, uint64_t seed, tsrelu_teacher **out);

/* ======================================================================
 * Population loss and gradient (closed form)
 * ====================================================================== */

/*! tsrelu_loss() :
 *  L = 1/2 E[(f(x) - f*(x))^2] in double precision, by the split form
 *  L = 1/4 |sum_n c_n u_n|^2 + 1/(4 pi) sum_{n,n'} c_n c_n' |u_n||u_n'| kappa.
 *  Absolute error about 1e-16 * (sum_n |c_n||u_n|)^2: below that the value is
 *  rounding noise; use tsrelu_loss_accurate() for tiny excess risk.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL), TSRELU_EDIM (d differs),
 *            TSRELU_ENOMEM, TSRELU_ENONFINITE (the result overflows: only
 *            for norms far beyond 1e150). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_loss(const tsrelu_student *s, const tsrelu_teacher *t, double *loss);

/*! tsrelu_loss_accurate() :
 *  The same loss evaluated in quadruple precision (113-bit significand) with
 *  compensated sums, so that it keeps about 8 significant digits down to
 *  L = 1e-24 * (sum_n |c_n||u_n|)^2. Several hundred times slower than
 *  tsrelu_loss(); meant for observation time, not every step.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_EDIM; TSRELU_ENOMEM
 *            (allocation, or a size overflow); TSRELU_ENONFINITE (the loss
 *            overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_loss_accurate(const tsrelu_student *s, const tsrelu_teacher *t, double *loss);

/*! tsrelu_gradient() :
 *  gW (gW_len = m*d) receives dL/dW, row-major; if ga is non-NULL it receives
 *  dL/da (ga_len = m; ignored when ga is NULL).
 *  @return : TSRELU_OK; TSRELU_EINVAL, TSRELU_EDIM, TSRELU_ELENGTH,
 *            TSRELU_ENOMEM, TSRELU_ENONFINITE (overflow, as tsrelu_loss). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gradient(const tsrelu_student *s, const tsrelu_teacher *t,
                double *gW, size_t gW_len, double *ga, size_t ga_len);

/* ======================================================================
 * Second order (1.2): Hessian, spectrum, Newton
 *
 * Variables, in this order: vec(W) row-major (entry i*d + c is W[i][c]),
 * then, with TSRELU_HESSIAN_OUTPUT, the output weights a (entry m*d + i is
 * a_i). N = m*d, or m*d + m with the flag; the Hessian is N x N, row-major.
 * The loss is not twice differentiable at a zero student row (the second
 * derivatives grow like 1/|w_i|); there, as the gradient takes
 * relu'(0) = 0, every second derivative involving w_i or a_i is 0.
 * ====================================================================== */

#define TSRELU_HESSIAN_OUTPUT 1u /* include the output weights a (after W) */

/*! tsrelu_hessian() :
 *  The Hessian of L in closed form into H (H_len = N*N), exactly symmetric
 *  (bit for bit), exact at aligned and opposite pairs. flags: 0 or
 *  TSRELU_HESSIAN_OUTPUT. Accuracy: docs/numerics.md, section 6. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, unknown flag); TSRELU_EDIM
 *            (d differs); TSRELU_ELENGTH (H_len not N*N); TSRELU_ENOMEM;
 *            TSRELU_ENONFINITE (an entry overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_hessian(const tsrelu_student *s, const tsrelu_teacher *t, unsigned flags, double *H,
               size_t H_len);

/*! tsrelu_hessian_vector() :
 *  y = H x (x_len = y_len = N) without forming H: O(m (m + k) d) work and
 *  O(m (m + k) d) memory. flags as tsrelu_hessian(). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, x == y, unknown flag);
 *            TSRELU_EDIM; TSRELU_ELENGTH; TSRELU_ENOMEM; TSRELU_ENONFINITE
 *            (x has a NaN or Inf, or an entry of y overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_hessian_vector(const tsrelu_student *s, const tsrelu_teacher *t, unsigned flags,
                      const double *x, size_t x_len, double *y, size_t y_len);

/*! tsrelu_spectrum() :
 *  Eigenvalues of the Hessian (flags as tsrelu_hessian()) into eval
 *  (eval_len = N, ascending), by LAPACK dsyevr. If evec is non-NULL it
 *  receives orthonormal eigenvectors (evec_len = N*N): eigenvector j, of
 *  eval[j], is evec[j*N .. j*N + N-1]. If counts is non-NULL (counts_len =
 *  3) it receives the numbers of negative, flat and positive eigenvalues,
 *  flat meaning |lambda| <= rel_tol * max_j |lambda_j| (rel_tol >= 0; e.g.
 *  1e-9). Allocates the N x N Hessian and LAPACK's workspace. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL s, t or eval, unknown flag,
 *            rel_tol negative or not finite); TSRELU_EDIM; TSRELU_ELENGTH;
 *            TSRELU_ENOMEM (allocation, or N beyond the LAPACK int range);
 *            TSRELU_ENONFINITE (a Hessian entry overflows, or dsyevr
 *            failed to converge). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_spectrum(const tsrelu_student *s, const tsrelu_teacher *t, unsigned flags,
                double rel_tol, double *eval, size_t eval_len, double *evec, size_t evec_len,
                size_t *counts, size_t counts_len);

#define TSRELU_NEWTON_DESCENT 2u /* step with |lambda| ("saddle-free"): heads for minima */

/* Fields of tsrelu_newton()'s info, in this order (new ones only appended). */
#define TSRELU_NEWTON_ITERATIONS   0 /* Newton steps taken */
#define TSRELU_NEWTON_GRAD_NORM    1 /* |grad L| (Euclidean, over the N variables) at the end */
#define TSRELU_NEWTON_GRAD_SCALE   2 /* S: max_i |a_i| sum_n |c_n||u_n| (docs/numerics.md);
                                        with TSRELU_HESSIAN_OUTPUT max(|a_i|, |w_i|) times it */
#define TSRELU_NEWTON_LOSS         3 /* L at the end */
#define TSRELU_NEWTON_NEGATIVE     4 /* eigenvalues < -tol: the Morse index */
#define TSRELU_NEWTON_FLAT         5 /* |lambda| <= tol = rel_tol max |lambda| */
#define TSRELU_NEWTON_POSITIVE     6 /* eigenvalues > tol */
#define TSRELU_NEWTON_MIN_POSITIVE 7 /* smallest eigenvalue > tol (NaN if none) */
#define TSRELU_NEWTON_MIN_EIG      8 /* smallest eigenvalue */
#define TSRELU_NEWTON_MAX_EIG      9 /* largest eigenvalue */
#define TSRELU_NEWTON_LEN         10

/*! tsrelu_newton() :
 *  Newton's method from the student s (updated in place) to a stationary
 *  point of L in W (and a, with TSRELU_HESSIAN_OUTPUT): each step is the
 *  pseudo-inverse Newton step on the eigenvalues outside the flat band
 *  |lambda| <= rel_tol max |lambda| (so singular Hessians, e.g. flat
 *  manifolds of minima, are handled), halved until |grad L| decreases; with
 *  TSRELU_NEWTON_DESCENT it uses |lambda| and requires L to decrease
 *  (minima only). Stops when |grad L| <= grad_tol * S (S as
 *  TSRELU_NEWTON_GRAD_SCALE; 1e-13 reaches the rounding floor), after
 *  max_iter steps, or when no halving of the step helps. If info is
 *  non-NULL it receives the first info_len (1 to TSRELU_NEWTON_LEN)
 *  TSRELU_NEWTON_* fields at the final point, including the Morse index
 *  and the flat count. Allocates two N x N matrices. (1.2)
 *  @return : TSRELU_CONVERGED (the gradient tolerance was met); TSRELU_OK
 *            (max_iter steps, or no step decreased the merit: s holds the
 *            best point); TSRELU_EINVAL (NULL, a view of a GD state, unknown
 *            flag, grad_tol negative or not finite, rel_tol outside
 *            [0, 1)); TSRELU_EDIM; TSRELU_ELENGTH (info_len); TSRELU_ENOMEM;
 *            TSRELU_ENONFINITE (a non-finite loss, gradient or Hessian, or
 *            dsyevr failed). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_newton(tsrelu_student *s, const tsrelu_teacher *t, unsigned flags, double grad_tol,
              double rel_tol, size_t max_iter, double *info, size_t info_len);

/* ======================================================================
 * Metrics of the dynamics (const handles, caller buffers)
 *
 * Groups. tau[i] in {-1, 0, ..., k-1} assigns student i to a teacher; -1
 * leaves it out (a zero student is always left out). Functions taking
 * `tau` use the nearest-teacher assignment when tau is NULL (tau_len is then
 * ignored); otherwise tau_len must be m.
 * ====================================================================== */

/*! tsrelu_angles() :
 *  theta[i*k + j] = angle between w_i and v_j in radians, in [0, pi], exact
 *  to a few ulps at every angle (2 atan2(|w^ - v^|, |w^ + v^|)). NaN for a
 *  zero student (the angle is undefined). len must be m*k.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_EDIM; TSRELU_ELENGTH
 *            (len not m*k). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_angles(const tsrelu_student *s, const tsrelu_teacher *t, double *theta, size_t len);

/*! tsrelu_nearest_teacher() :
 *  tau[i] = argmin_j theta_ij (ties: lowest j), -1 for a zero student.
 *  len must be m. The one nearest-teacher computation of the library: the
 *  metrics' default groups and tsrelu_gd_groups() agree with it exactly.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_EDIM; TSRELU_ELENGTH;
 *            TSRELU_ENOMEM (workspace, or sizes beyond the BLAS int range). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_nearest_teacher(const tsrelu_student *s, const tsrelu_teacher *t, int *tau, size_t len);

/*! tsrelu_components() :
 *  For each student i with teacher l = tau[i]: the radial part
 *  radial[i] = w_i . v_l / |v_l| (= |w_i| cos theta_il) and the tangential
 *  norm tangential[i] = |w_i - radial[i] v_l/|v_l|| (= |w_i| sin theta_il).
 *  Both 0 when tau[i] = -1. len (of radial and of tangential) must be m.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, tau[i] out of range);
 *            TSRELU_EDIM; TSRELU_ELENGTH; TSRELU_ENOMEM (a scratch array, or
 *            sizes beyond the BLAS int range for the default groups). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_components(const tsrelu_student *s, const tsrelu_teacher *t, const int *tau,
                  size_t tau_len, double *radial, double *tangential, size_t len);

/*! tsrelu_deficit() :
 *  Projection deficit per teacher l: H[l] = b_l |v_l| - sum_{i: tau_i = l}
 *  a_i radial_i. Zero when the group has grown to its teacher. len must be k.
 *  @return : as tsrelu_components(). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_deficit(const tsrelu_student *s, const tsrelu_teacher *t, const int *tau,
               size_t tau_len, double *H, size_t len);

/*! tsrelu_balance() :
 *  Per teacher group S_l of size m_l (size[l]): the min and max over S_l of
 *  m_l a_i |w_i| / (b_l |v_l|) (all 1 at the balanced split a_i w_i =
 *  b_l v_l / m_l; the paper proves [1/4, 4] in phase 3), and the l2 excess
 *  sum_{i in S_l} (a_i |w_i|)^2 / ((b_l |v_l|)^2 / m_l) - 1 (0 exactly at
 *  the balanced split; >= 0 whenever the group's radial parts sum to
 *  b_l |v_l|). For a = b = 1 these are m_l |w_i| / |v_l| and
 *  sum |w_i|^2 / (|v_l|^2 / m_l) - 1. An empty group gets size 0 and NaN
 *  ratios and excess. So does the group of a teacher with b_l = 0, whose
 *  balanced split b_l v_l / m_l is the zero vector (no ratio is defined);
 *  its size[l] still counts its students. Ratios are formed from rescaled
 *  norms, so they are accurate for tiny and subnormal rows too. Every
 *  buffer has length len = k.
 *  @return : as tsrelu_components(). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_balance(const tsrelu_student *s, const tsrelu_teacher *t, const int *tau,
               size_t tau_len, int *size, double *ratio_min, double *ratio_max,
               double *excess, size_t len);

/*! tsrelu_rate_fit() :
 *  Least-squares slope of log L against log t over the observations with
 *  t_lo <= t[i] <= t_hi, t[i] > 0 and L[i] > 0 (others are skipped): the
 *  exponent p of L ~ C t^p (-3 for the paper's over-parameterised regime).
 *  intercept (may be NULL) receives log C.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, fewer than 2 usable points or
 *            all usable t equal). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_rate_fit(const double *t, const double *L, size_t n, double t_lo, double t_hi,
                double *slope, double *intercept);

/* ======================================================================
 * Gradient descent state
 * ====================================================================== */

typedef struct tsrelu_gd tsrelu_gd;

/* Observer schedules. */
#define TSRELU_SCHEDULE_LINEAR 1 /* every `param` steps (0, N, 2N, ...) */
#define TSRELU_SCHEDULE_LOG    2 /* step 0 and ceil(10^(j/param)), j = 0,1,... */
#define TSRELU_LOG_MAX_PER_DECADE 1000000 /* largest param of the log schedule */

/* Re-entrancy (1.1). While tsrelu_gd_step() or tsrelu_gd_run() runs on a
 * state (and while tsrelu_batch_run() runs a batch holding it), the state is
 * busy. Its callbacks may call every read-only function on it (getters,
 * metrics, losses, tsrelu_gd_save()), which see the committed iterate; every
 * mutating call on it (step, run, the tsrelu_gd_set_* functions) returns
 * TSRELU_EBUSY; tsrelu_gd_free() is deferred to the end of the run. Views
 * returned by getters (tsrelu_gd_student(), tsrelu_gd_teacher(),
 * tsrelu_batch_state()) are never freed by the _free functions. One state
 * must not be used from two threads at once, except tsrelu_gd_interrupt(). */

/*! tsrelu_observer_fn :
 *  Called by tsrelu_gd_run() at scheduled iterations with the state at that
 *  iterate (read it through the tsrelu_gd_* getters), and at the final
 *  iterate of a run that ends with TSRELU_OK or TSRELU_CONVERGED. Never
 *  called twice on one iterate, nor with non-finite data. Return 0 to
 *  continue, non-zero to stop: the run then returns TSRELU_STOPPED and
 *  tsrelu_gd_stop_value() gives the value. */
typedef int (*tsrelu_observer_fn)(const tsrelu_gd *gd, void *user_data);

/*! tsrelu_step_fn :
 *  A custom update rule replacing W <- W - eta * gW. It receives the current
 *  iterate in W (m*d doubles, update in place) and the gradient gW; when the
 *  output weights are trained, also a and ga (m doubles each), else NULL.
 *  Sizes and eta come from the getters. Return 0 to accept the update,
 *  non-zero to stop: the update is then discarded (the state stays at the
 *  current iterate), and the run returns TSRELU_STOPPED. */
typedef int (*tsrelu_step_fn)(const tsrelu_gd *gd, double *W, const double *gW,
                              double *a, const double *ga, void *user_data);

/*! tsrelu_gd_create() :
 *  A GD state on teacher t starting from student s0 with step size eta > 0.
 *  Both handles are copied: they may be freed at once. All workspace is
 *  allocated here; steps never allocate.
 *  The gradient at iteration 0 is evaluated here (it fixes the initial
 *  groups of the phase tracker).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, eta <= 0), TSRELU_ENONFINITE
 *            (eta not finite, or the initial gradient overflows),
 *            TSRELU_EDIM, TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_create(const tsrelu_teacher *t, const tsrelu_student *s0, double eta,
                 tsrelu_gd **out);

/*! tsrelu_gd_free() : release a GD state; NULL is a no-op, and so is a
 *  state owned by a batch (tsrelu_batch_state()). Called from the state's
 *  own callback, the free is deferred: the run stops once the callback
 *  returns (TSRELU_STOPPED), frees the state and returns; do not touch gd
 *  after that. */
TSRELU_API void tsrelu_gd_free(tsrelu_gd *gd);

/*! tsrelu_gd_set_eta() : change the step size (eta > 0, finite).
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL, eta <= 0);
 *            TSRELU_ENONFINITE (eta NaN or Inf); TSRELU_EBUSY (from a callback
 *            of gd, or while its batch runs). On error eta is unchanged. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_set_eta(tsrelu_gd *gd, double eta);

/*! tsrelu_gd_eta() : @return the step size, or 0 if gd is NULL. */
TSRELU_API double tsrelu_gd_eta(const tsrelu_gd *gd);

/*! tsrelu_gd_set_train_output() :
 *  on != 0: also train the output weights, a <- a - eta * dL/da.
 *  Default off (the paper's setting: a fixed).
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL); TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_set_train_output(tsrelu_gd *gd, int on);

/*! tsrelu_gd_train_output() : @return 1 if the output weights are trained,
 *  0 if not or if gd is NULL. */
TSRELU_API int tsrelu_gd_train_output(const tsrelu_gd *gd);

/*! tsrelu_gd_set_tolerances() :
 *  tsrelu_gd_run() returns TSRELU_CONVERGED at the first iterate with
 *  L <= loss_tol or |grad|_2 <= grad_tol (|grad| over W, and a when trained).
 *  A tolerance of 0 disables that test (the default for both).
 *  +Inf is accepted (every iterate converged) and survives checkpoints.
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL, negative or NaN tolerance);
 *            TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_tolerances(tsrelu_gd *gd, double loss_tol, double grad_tol);

/*! tsrelu_gd_tolerances() : the current loss_tol and grad_tol (either
 *  pointer may be NULL). @return TSRELU_OK; TSRELU_EINVAL (gd NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_tolerances(const tsrelu_gd *gd, double *loss_tol, double *grad_tol);

/*! tsrelu_gd_set_observer() :
 *  Install (fn non-NULL) or remove (fn NULL) the observer. schedule is
 *  TSRELU_SCHEDULE_LINEAR with param = N >= 1 (iterations 0, N, 2N, ...) or
 *  TSRELU_SCHEDULE_LOG with 1 <= P <= TSRELU_LOG_MAX_PER_DECADE points per
 *  decade (iteration 0 and ceil(10^(j/P)) for j = 0, 1, ...). Iterations are absolute (counted since
 *  creation). The final iterate of every run is observed as well.
 *  @return : TSRELU_OK; TSRELU_EINVAL (unknown schedule, param 0, log param
 *            above TSRELU_LOG_MAX_PER_DECADE); TSRELU_EBUSY (from a callback
 *            of gd, or while its batch runs). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_observer(tsrelu_gd *gd, tsrelu_observer_fn fn, void *user_data,
                       int schedule, uint64_t param);

/*! tsrelu_gd_set_step() : install (fn non-NULL) or remove a custom update.
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL); TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_step(tsrelu_gd *gd, tsrelu_step_fn fn, void *user_data);

/*! tsrelu_gd_step() :
 *  One update from the current iterate (no observer, no tolerance test).
 *  @return : TSRELU_OK; TSRELU_STOPPED (step callback refused: state
 *            unchanged); TSRELU_EDIVERGED (the update was not finite: state
 *            unchanged); TSRELU_EINVAL (NULL); TSRELU_EBUSY (called on a
 *            busy state, e.g. from its own callback). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_step(tsrelu_gd *gd);

/*! tsrelu_gd_run() :
 *  Up to max_steps updates. At each iterate t (including the first and the
 *  last) the loss and gradient are evaluated, the observer is called if t is
 *  scheduled or final, and the tolerances are tested.
 *  @return : TSRELU_OK (max_steps done); TSRELU_CONVERGED; TSRELU_STOPPED
 *            (a callback returned non-zero: see tsrelu_gd_stop_value());
 *            TSRELU_INTERRUPTED (tsrelu_gd_interrupt()); TSRELU_EBUSY
 *            (called on a busy state, e.g. from its own callback);
 *            TSRELU_EDIVERGED (the state holds the last finite iterate and
 *            its iteration number); TSRELU_EINVAL (NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_run(tsrelu_gd *gd, uint64_t max_steps);

/*! tsrelu_gd_interrupt() :
 *  Ask the run in progress on gd to stop: tsrelu_gd_run() tests the request
 *  before every step and then returns TSRELU_INTERRUPTED, with the state at
 *  its last completed step (valid: it can continue, be saved or freed).
 *  Thread-safe and async-signal-safe (a lock-free atomic store), so it may
 *  be called from another thread or from a signal handler. Each run clears
 *  the request when it starts: a request made while no run is in progress
 *  has no effect on later runs (a caller racing with the start of a run
 *  repeats the request until the run has returned). tsrelu_gd_step() (one
 *  step) is not interruptible. (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL; no message is recorded, to
 *            stay async-signal-safe). */
TSRELU_API tsrelu_status tsrelu_gd_interrupt(tsrelu_gd *gd);

/*! tsrelu_gd_iteration() : @return the iteration number of the current
 *  iterate (0 at creation), or 0 if gd is NULL. */
TSRELU_API uint64_t tsrelu_gd_iteration(const tsrelu_gd *gd);

/*! tsrelu_gd_progress() : the iteration of the latest committed step, safe to
 *  read from any thread while a run is in progress (a relaxed atomic load;
 *  tsrelu_gd_iteration() may only be called by the thread running the state
 *  or its callbacks): for progress displays. (1.1)
 *  @return the iteration, 0 if gd is NULL. */
TSRELU_API uint64_t tsrelu_gd_progress(const tsrelu_gd *gd);

/*! tsrelu_gd_stop_value() : @return the non-zero value returned by the
 *  callback that stopped the latest run, else 0. */
TSRELU_API int tsrelu_gd_stop_value(const tsrelu_gd *gd);

/* Why the latest tsrelu_gd_run() or tsrelu_gd_step() on a state returned
 * (1.1); a call refused with TSRELU_EBUSY or TSRELU_EINVAL changes nothing. */
#define TSRELU_STOP_NONE      0 /* no run or step has returned yet */
#define TSRELU_STOP_STEPS     1 /* every step was taken (TSRELU_OK) */
#define TSRELU_STOP_LOSS_TOL  2 /* L <= loss_tol (TSRELU_CONVERGED) */
#define TSRELU_STOP_GRAD_TOL  3 /* |grad| <= grad_tol, L > loss_tol or off (TSRELU_CONVERGED) */
#define TSRELU_STOP_OBSERVER  4 /* the observer returned non-zero (TSRELU_STOPPED) */
#define TSRELU_STOP_STEP_RULE 5 /* the step rule returned non-zero (TSRELU_STOPPED) */
#define TSRELU_STOP_INTERRUPT 6 /* tsrelu_gd_interrupt() (TSRELU_INTERRUPTED) */
#define TSRELU_STOP_ERROR     7 /* an error status, e.g. TSRELU_EDIVERGED */
#define TSRELU_STOP_EVENT     8 /* the event callback returned non-zero (TSRELU_STOPPED, 1.2) */

/*! tsrelu_gd_stop_reason() : @return the TSRELU_STOP_* reason of the latest
 *  run or step (which tolerance ended a converged run, which callback
 *  stopped it), TSRELU_STOP_NONE if gd is NULL or has not run. (1.1) */
TSRELU_API int tsrelu_gd_stop_reason(const tsrelu_gd *gd);

/*! tsrelu_gd_student() : @return a read-only view of the current iterate,
 *  owned by gd and valid while gd lives (copy it to keep it); NULL if gd is
 *  NULL. tsrelu_student_free() on it does nothing; setters on it return
 *  TSRELU_EINVAL. */
TSRELU_API const tsrelu_student *tsrelu_gd_student(const tsrelu_gd *gd);

/*! tsrelu_gd_teacher() : @return a read-only view of gd's teacher copy. */
TSRELU_API const tsrelu_teacher *tsrelu_gd_teacher(const tsrelu_gd *gd);

/*! tsrelu_gd_loss() : the loss at the current iterate (double precision;
 *  cached when the run computed it for an observer or a tolerance, else
 *  computed on demand, which allocates a workspace). Identical either way.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); on demand also TSRELU_ENOMEM,
 *            TSRELU_ENONFINITE. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_loss(const tsrelu_gd *gd, double *loss);

/*! tsrelu_gd_gradient_norm() : |grad L|_2 at the current iterate (over W,
 *  and over a when the output weights are trained), from the cached
 *  gradient when the iterate has been evaluated, else computed on demand.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ENONFINITE (the
 *            gradient overflows); on demand also TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_gradient_norm(const tsrelu_gd *gd, double *norm);

/* ----------------------------------------------------------------------
 * Sampled training (1.2): the state steps on the gradient of the empirical
 * loss L_B = 1/(2B) sum_s (f(x_s) - f*(x_s))^2 of a batch of B inputs
 * (the labels are the teacher's outputs) instead of the closed-form
 * gradient, with the same step rule, observer, recorder, tolerances,
 * checkpoints and batch API. Everything those read is exact: the loss and
 * gradient norm they see (tsrelu_gd_loss, the tolerances, the phase
 * tracker) are the population quantities of the iterate, evaluated in
 * closed form only at the iterates where they are read (observed, recorded,
 * the final one; every iterate when a tolerance is set). The step rule gets
 * the sampled gradient. Streams are bit-identical on every platform and
 * thread count; a checkpoint saves their position. docs/sgd.md.
 * ---------------------------------------------------------------------- */

/*! tsrelu_gd_set_sampling() :
 *  batch = B >= 1 and n_train = 0: online SGD, each step on B fresh inputs
 *  x ~ N(0, I_d) from the stream of `seed`. n_train >= B: a training set of
 *  n_train inputs drawn from `seed`, each step on B of them drawn without
 *  replacement (B = n_train: full-batch GD on the training loss).
 *  batch = 0 and n_train = 0: back to exact GD. flags: 0 (reserved).
 *  Allocates every buffer a step needs (about n_train*d + B*(d+m+k)
 *  doubles; docs/api.md section 20).
 *  (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL, flags != 0, batch > n_train
 *            > 0, batch 0 with n_train > 0, batch beyond INT_MAX);
 *            TSRELU_ENOMEM (allocation, sizes beyond the BLAS int range);
 *            TSRELU_EBUSY (from a callback of gd, or while its batch runs).
 *            On error the sampling is unchanged. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_sampling(tsrelu_gd *gd, size_t batch, size_t n_train, uint64_t seed, unsigned flags);

/*! tsrelu_gd_set_training_set() :
 *  The caller's training set: X holds n = X_len/d inputs (row-major n x d,
 *  copied), labelled by the teacher. Each step uses `batch` of them drawn
 *  without replacement from the stream of `seed` (batch = n: full batch).
 *  Checkpoints save X. flags: 0 (reserved). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd or X NULL, flags != 0, batch 0 or
 *            > n); TSRELU_ELENGTH (X_len 0 or not a multiple of d);
 *            TSRELU_ENONFINITE (a NaN or Inf in X, index named);
 *            TSRELU_ENOMEM; TSRELU_EBUSY. On error the sampling is unchanged. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_training_set(tsrelu_gd *gd, const double *X, size_t X_len, size_t batch,
                           uint64_t seed, unsigned flags);

/*! tsrelu_gd_sampling() : the batch size B (0 for exact GD) and the
 *  training-set size n (0 for online SGD and exact GD); either pointer may
 *  be NULL. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_sampling(const tsrelu_gd *gd, size_t *batch, size_t *n_train);

/*! tsrelu_gd_sample_loss() : the empirical loss L_B of the batch of the
 *  latest sampled step, at the iterate the step started from (with B = n,
 *  the training loss of the previous iterate). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, the state is not sampling, or
 *            no sampled step since the sampling was set). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_sample_loss(const tsrelu_gd *gd, double *loss);

/*! tsrelu_gd_training_loss() : the empirical loss over the whole training
 *  set at the current iterate (allocates a scratch of up to 1024*m
 *  doubles). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, no training set: exact GD or
 *            online SGD); TSRELU_ENOMEM; TSRELU_ENONFINITE (overflow). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_training_loss(const tsrelu_gd *gd, double *loss);

/* ----------------------------------------------------------------------
 * Phase tracking (the paper's three phases), updated at every evaluated
 * iterate of tsrelu_gd_run() and tsrelu_gd_step().
 *  t1 = first iteration at which every non-zero student is within eps_align
 *       radians of its nearest teacher (end of alignment, phase 1);
 *  t2 = first iteration >= t1 at which every teacher l with a non-empty
 *       group has |H_l| <= eps_deficit * b_l |v_l| (end of tangential
 *       growth, phase 2); phase 3 (local convergence) follows.
 * Groups are the nearest-teacher assignment. Defaults: eps_align = 0.05 rad,
 * eps_deficit = 0.05 (see docs/theory.md for why).
 * ---------------------------------------------------------------------- */

/*! tsrelu_gd_set_phase_thresholds() : eps_align in (0, pi), eps_deficit > 0;
 *  resets t1 and t2 and re-tests the current iterate with the new
 *  thresholds (later iterates as they are evaluated).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, out of range);
 *            TSRELU_ENONFINITE (NaN or Inf); TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_phase_thresholds(tsrelu_gd *gd, double eps_align, double eps_deficit);

/*! tsrelu_gd_phase() : @return 1, 2 or 3 at the latest evaluated iterate
 *  (0 if gd is NULL). */
TSRELU_API int tsrelu_gd_phase(const tsrelu_gd *gd);

/*! tsrelu_gd_phase_times() : t1 and t2 as defined above, -1 if not reached
 *  yet. Either pointer may be NULL.
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_phase_times(const tsrelu_gd *gd, int64_t *t1, int64_t *t2);

/*! tsrelu_gd_groups() : the nearest-teacher assignment at iteration 0
 *  (initial != 0, the paper's tau_i) or at the latest evaluated iterate
 *  (initial == 0) into tau (len must be m; -1 for zero students).
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_groups(const tsrelu_gd *gd, int initial, int *tau, size_t len);

/*! tsrelu_gd_group_switches() : @return the number of students whose
 *  nearest teacher at the latest evaluated iterate differs from the one at
 *  iteration 0 (0 if gd is NULL). */
TSRELU_API size_t tsrelu_gd_group_switches(const tsrelu_gd *gd);


/* ----------------------------------------------------------------------
 * Trajectory recorder (1.1): per-student, per-teacher and global metrics
 * of a GD run stored at the iterates of a schedule, in memory allocated
 * when the recorder is created (a run never allocates for it).
 *
 * Attached to a state with tsrelu_gd_set_recorder(), a recorder takes a
 * row at exactly the iterates an observer with the same schedule would see
 * during tsrelu_gd_run(): the schedule's points and the final iterate of
 * every run (also one that stops converged), never one iterate twice in a
 * row; tsrelu_gd_step() records nothing. The row is taken before the
 * observer of that iterate is called, and is read from what the run's
 * evaluation computed (no second evaluation):
 *   global, per iterate: iteration, loss (double, as tsrelu_gd_loss()),
 *     |grad L| (as tsrelu_gd_gradient_norm()), and with
 *     TSRELU_RECORD_ACCURATE_LOSS the loss of tsrelu_loss_accurate();
 *   per student i (m values per iterate): |w_i|, a_i, the nearest teacher
 *     l_i (as tsrelu_nearest_teacher(); -1 for w_i = 0), the angle to it,
 *     the radial and tangential parts |w_i| cos, |w_i| sin of that angle
 *     (as tsrelu_components() with the nearest groups), the angle to the
 *     mean teacher direction sum_j v_j/|v_j| (normalised); angles are NaN
 *     and parts 0 for w_i = 0, and the mean-direction angle is NaN when
 *     the unit teacher rows sum to zero;
 *   per teacher l (k values per iterate): the deficit H_l (as
 *     tsrelu_deficit() with the nearest groups) and the group size m_l.
 * Memory per recorded iterate: one uint64 and 2 + 7m + 2k doubles (one
 * more double with TSRELU_RECORD_ACCURATE_LOSS), i.e. 8 (3 + 7m + 2k)
 * bytes, (8 (4 + 7m + 2k) with it); the accurate loss also costs
 * (m + k)(d + 1) quads of scratch, and O((m + k)^2 d) quad work per row.
 * When the capacity is reached the run goes on unrecorded and every
 * further recorded iterate is counted by tsrelu_record_missed().
 *
 * Lifetime: a recorder is attached to at most one state; freeing either
 * detaches it (a freed state leaves its recorder readable). A batch run
 * records too: attach to tsrelu_batch_state(b, i) before tsrelu_batch_run()
 * (the batch's split points are final iterates of runs and are recorded,
 * as an observer sees them); one recorder per state, read after the run.
 * Checkpoints do not save a recorder: a loaded state has none.
 * A recorder is not thread-safe: read it while its state is not running
 * (or from that state's own observer).
 * ---------------------------------------------------------------------- */

typedef struct tsrelu_record tsrelu_record;

/* Flags of tsrelu_record_create(). */
#define TSRELU_RECORD_ACCURATE_LOSS 1u /* also record tsrelu_loss_accurate() */

/* Fields of tsrelu_record_global() (per iterate). */
#define TSRELU_RECORD_LOSS          1  /* L (double precision) */
#define TSRELU_RECORD_GRAD_NORM     2  /* |grad L| */
#define TSRELU_RECORD_LOSS_ACCURATE 3  /* tsrelu_loss_accurate() (needs the flag) */
#define TSRELU_RECORD_TIME          4  /* time: eta * iteration for GD, t for a flow (1.2) */
/* Fields of tsrelu_record_student() (per iterate and student). */
#define TSRELU_RECORD_NORM          10 /* |w_i| */
#define TSRELU_RECORD_OUTPUT_WEIGHT 11 /* a_i */
#define TSRELU_RECORD_NEAREST       12 /* nearest teacher l_i (0-based; -1: w_i = 0) */
#define TSRELU_RECORD_ANGLE         13 /* angle to teacher l_i, radians */
#define TSRELU_RECORD_RADIAL        14 /* |w_i| cos(angle) */
#define TSRELU_RECORD_TANGENTIAL    15 /* |w_i| sin(angle) */
#define TSRELU_RECORD_ANGLE_MEAN    16 /* angle to the mean teacher direction */
/* Fields of tsrelu_record_teacher() (per iterate and teacher). */
#define TSRELU_RECORD_DEFICIT       20 /* H_l of the nearest groups */
#define TSRELU_RECORD_GROUP_SIZE    21 /* m_l, the size of group l */

/*! tsrelu_record_create() :
 *  A recorder for states shaped like gd (m students, k teachers, dimension
 *  d) with room for `capacity` recorded iterates (>= 1), all allocated now.
 *  flags: 0 or TSRELU_RECORD_ACCURATE_LOSS. Not attached: see
 *  tsrelu_gd_set_recorder(). (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, capacity 0, unknown flag);
 *            TSRELU_ENOMEM (out of memory, or the size overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_create(const tsrelu_gd *gd, size_t capacity, unsigned flags, tsrelu_record **out);

/*! tsrelu_record_free() : release a recorder, detaching it from its state
 *  (not while that state runs on another thread); NULL is a no-op. (1.1) */
TSRELU_API void tsrelu_record_free(tsrelu_record *r);

/*! tsrelu_gd_set_recorder() :
 *  Attach r to gd with its schedule (as tsrelu_gd_set_observer():
 *  TSRELU_SCHEDULE_LINEAR every param steps, or TSRELU_SCHEDULE_LOG with
 *  param points per decade), replacing (detaching) any recorder attached
 *  before; r NULL detaches (schedule and param are then ignored). Rows
 *  already stored are kept: new rows are appended. (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL, bad schedule or param, r
 *            attached to another state); TSRELU_EDIM (r made for another
 *            m, k or d); TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_recorder(tsrelu_gd *gd, tsrelu_record *r, int schedule, uint64_t param);

/*! tsrelu_record_size() : @return the number of iterates stored (0 if r
 *  is NULL). (1.1) */
TSRELU_API size_t tsrelu_record_size(const tsrelu_record *r);

/*! tsrelu_record_capacity() : @return the capacity given at creation (0 if
 *  r is NULL). (1.1) */
TSRELU_API size_t tsrelu_record_capacity(const tsrelu_record *r);

/*! tsrelu_record_missed() : @return the number of iterates that were due
 *  to be recorded after the recorder was full (0 if r is NULL): non-zero
 *  means the record is truncated. (1.1) */
TSRELU_API uint64_t tsrelu_record_missed(const tsrelu_record *r);

/*! tsrelu_record_iterations() : the iteration numbers of the stored rows
 *  into iter (len must be tsrelu_record_size(r); iter may be NULL when it
 *  is 0). (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_iterations(const tsrelu_record *r, uint64_t *iter, size_t len);

/*! tsrelu_record_global() : global field `field` (TSRELU_RECORD_LOSS,
 *  _GRAD_NORM, _LOSS_ACCURATE) of the stored rows into out (len must be
 *  tsrelu_record_size(r); out may be NULL when it is 0). (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, not a global field,
 *            TSRELU_RECORD_LOSS_ACCURATE without the flag); TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_global(const tsrelu_record *r, int field, double *out, size_t len);

/*! tsrelu_record_student() : per-student field `field` (TSRELU_RECORD_NORM
 *  ... _ANGLE_MEAN) of the stored rows into out, row-major: out[n*m + i]
 *  for row n and student i (len must be tsrelu_record_size(r) * m; out may
 *  be NULL when it is 0). (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, not a student field);
 *            TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_student(const tsrelu_record *r, int field, double *out, size_t len);

/*! tsrelu_record_teacher() : per-teacher field `field`
 *  (TSRELU_RECORD_DEFICIT, _GROUP_SIZE) of the stored rows into out,
 *  out[n*k + l] (len must be tsrelu_record_size(r) * k; out may be NULL
 *  when it is 0). (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, not a teacher field);
 *            TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_teacher(const tsrelu_record *r, int field, double *out, size_t len);

/*! tsrelu_record_write_csv() :
 *  Write the record to `path` as one tidy table with a header line and one
 *  line per (stored iterate, student), numbers in %.17g (nan for NaN):
 *    iteration,student,norm,output_weight,nearest,angle,radial,tangential,
 *    angle_mean,deficit,group_size,loss,grad_norm[,loss_accurate]
 *  where deficit and group_size are those of the student's nearest teacher
 *  (nan and 0 for a zero student), and loss, grad_norm (and loss_accurate,
 *  present with TSRELU_RECORD_ACCURATE_LOSS) repeat on the iterate's m
 *  lines. The file is replaced. (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_EIO (with the system
 *            error in tsrelu_last_error()). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_record_write_csv(const tsrelu_record *r, const char *path);

/* ----------------------------------------------------------------------
 * Events of a trajectory (1.2): the times at which each student, teacher
 * or the loss does something, each event defined on its own (no event is
 * gated on another, unlike the 1.0 tracker's t1 and t2: docs/events.md),
 * each with its threshold as an argument, computed from a recorder's rows.
 *
 * Post hoc: tsrelu_record_event_times(), tsrelu_record_switches() and
 * tsrelu_record_rate_onset() read a record after (or during, from a
 * callback of its state) a run; thresholds are chosen afterwards and may be
 * re-applied at will. On line: tsrelu_record_set_event_callback() reports
 * the transitions as each row is recorded, by the same code (the row is
 * compared with the previous row of the record), so the on-line answer is
 * the post-hoc one on the rows recorded so far.
 *
 * Times are the iteration numbers of the recorded rows, as doubles (exact
 * up to 2^53), NaN = never: an event is resolved to the recorded rows only
 * (a finer schedule, a finer time). The same functions will serve gradient
 * flow, whose times are continuous. Per row n and item x, each kind is a
 * set that x is in or not:
 *   TSRELU_EVENT_GROUP    student i is in group l (its nearest teacher
 *                         l_i, TSRELU_RECORD_NEAREST); no threshold;
 *   TSRELU_EVENT_ALIGN    student i is within eps (radians) of its nearest
 *                         teacher l_i: angle <= eps, the set being "aligned
 *                         with l_i"; post hoc the teacher is the FINAL one
 *                         (l_i of the last row): l_i = final and angle <=
 *                         eps, which is the angle to the final teacher being
 *                         <= eps whenever eps is below half the smallest
 *                         angle between two teachers;
 *   TSRELU_EVENT_MEAN     student i is within eps of the mean teacher
 *                         direction (condensation; TSRELU_RECORD_ANGLE_MEAN);
 *   TSRELU_EVENT_DEFICIT  teacher l: |H_l| <= eps |b_l| |v_l|;
 *   TSRELU_EVENT_NORM     (post hoc) |w_i| >= q |w_i(final)|;
 *   TSRELU_EVENT_NORM_SHARE (post hoc) |a_i| |w_i| >= q |b_l| |v_l| / m_l
 *                         for the final group l of i and its final size
 *                         m_l (the minimum-norm share; NaN for a student
 *                         that is zero at the end).
 * A zero student is in no GROUP, ALIGN or MEAN set. |b_l| |v_l| is that of
 * the teacher of the state the recorder was last attached to (or made for).
 * Modes of tsrelu_record_event_times():
 *   TSRELU_EVENT_FIRST   the first row in the set;
 *   TSRELU_EVENT_SETTLE  the first row of the final run of rows in the set
 *                        (enters for good; NaN if not in it at the end);
 *   TSRELU_EVENT_LEAVE   the first row of the final run of rows out of the
 *                        set after being in it (leaves for good: the split
 *                        time of MEAN; NaN if in it at the end or never).
 * ---------------------------------------------------------------------- */

/* Event kinds. */
#define TSRELU_EVENT_GROUP      1
#define TSRELU_EVENT_ALIGN      2
#define TSRELU_EVENT_MEAN       3
#define TSRELU_EVENT_DEFICIT    4
#define TSRELU_EVENT_NORM       5 /* post hoc only */
#define TSRELU_EVENT_NORM_SHARE 6 /* post hoc only */
/* The mask bit of an on-line kind (TSRELU_EVENT_GROUP ... _DEFICIT). */
#define TSRELU_EVENT_BIT(kind) (1u << (kind))
#define TSRELU_EVENT_ALL_ONLINE 0x1eu /* the bits of GROUP, ALIGN, MEAN, DEFICIT */
/* Modes of tsrelu_record_event_times(). */
#define TSRELU_EVENT_FIRST  1
#define TSRELU_EVENT_SETTLE 2
#define TSRELU_EVENT_LEAVE  3
/* Transitions reported on line. */
#define TSRELU_EVENT_ENTERED 1
#define TSRELU_EVENT_LEFT    2

/*! tsrelu_event_fn :
 *  An on-line event: at the recorded row of iteration `time`, item `index`
 *  (a student; a teacher for TSRELU_EVENT_DEFICIT) entered or left
 *  (`transition`) the set of `kind`; `teacher` is the set's teacher (the
 *  group or the aligned-with teacher; l itself for DEFICIT; -1 for MEAN).
 *  A group switch from l to l' is reported as "left l" then "entered l'"
 *  (a student that becomes zero only leaves, one that stops being zero only
 *  enters); ALIGN likewise when the nearest teacher of an aligned student
 *  changes. The first row of a record reports an entry into every set the
 *  items are in. Called from tsrelu_gd_run() (or tsrelu_flow_run()) after the row is stored,
 *  before the observer of that iterate; gd is the recording state (read-only
 *  calls only, as for an observer; NULL when the recorder is attached to a
 *  gradient flow: `time` is then the flow time, and the flow is read through
 *  the handle the caller holds). Return 0 to continue, non-zero to stop:
 *  the run returns TSRELU_STOPPED, tsrelu_gd_stop_reason() (or
 *  tsrelu_flow_stop_reason()) is TSRELU_STOP_EVENT, the rest of the row is not reported and the observer
 *  of that iterate is not called. (1.2) */
typedef int (*tsrelu_event_fn)(const tsrelu_gd *gd, int kind, int transition, size_t index, int teacher,
                               double time, void *user_data);

/*! tsrelu_record_set_event_callback() :
 *  Report the transitions of the kinds in `kinds` (an OR of
 *  TSRELU_EVENT_BIT() of GROUP, ALIGN, MEAN, DEFICIT) to fn as each row is
 *  recorded; fn NULL removes the callback (kinds and user_data are then
 *  ignored). The final on-line answer of an event: SETTLE is the time of
 *  the item's last "entered" with no "left" after it, LEAVE the time of the
 *  last "left" with no "entered" after it, FIRST the first "entered" (for
 *  ALIGN and GROUP, into the teacher that turns out to be the final one).
 *  NORM, NORM_SHARE, the post-hoc ALIGN's final teacher and the rate onset
 *  need the end of the run: post hoc only. A full recorder stores no row
 *  and reports nothing. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (r NULL, a kind bit outside the
 *            on-line kinds); TSRELU_EBUSY (its state is running). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_set_event_callback(tsrelu_record *r, unsigned kinds, tsrelu_event_fn fn, void *user_data);

/*! tsrelu_record_set_event_threshold() :
 *  The threshold of on-line kind `kind` (TSRELU_EVENT_ALIGN or _MEAN:
 *  radians; TSRELU_EVENT_DEFICIT: eps of |H_l| <= eps |b_l| |v_l|); each
 *  is 0.05 until set, as the 1.0 tracker's. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (r NULL, not one of these kinds,
 *            threshold <= 0); TSRELU_ENONFINITE (threshold NaN or Inf);
 *            TSRELU_EBUSY (its state is running). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_set_event_threshold(tsrelu_record *r, int kind, double threshold);

/*! tsrelu_record_event_times() :
 *  Per item, the time of event `kind` in `mode` (see above) with
 *  `threshold` (eps of ALIGN, MEAN, DEFICIT; q of NORM, NORM_SHARE;
 *  ignored for GROUP), over the rows of r, into times (len: m for student
 *  kinds, k for DEFICIT); NaN = never, every entry NaN for an empty
 *  record. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, unknown kind or mode,
 *            threshold <= 0); TSRELU_ENONFINITE (threshold NaN or Inf);
 *            TSRELU_ELENGTH. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_event_times(const tsrelu_record *r, int kind, int mode, double threshold, double *times,
                          size_t len);

/*! tsrelu_record_switches() :
 *  The group switches of the record, every change of a student's nearest
 *  teacher between consecutive rows, in row then student order, as rows of
 *  4 doubles (time, student, from, to) in out; from or to is -1 for a zero
 *  student. *count gets their number; with out NULL and len 0 only the
 *  count is computed, else len must be 4 * count. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (r or count NULL, out NULL with
 *            len > 0); TSRELU_ELENGTH (len not 0 or 4 * count; *count is
 *            set). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_switches(const tsrelu_record *r, double *out, size_t len, size_t *count);

/*! tsrelu_record_rate_onset() :
 *  The onset of the late rate: the final slope is tsrelu_rate_fit() of
 *  log L on log T over the rows with T in [T_last / 10, T_last] (the last
 *  decade; L is the accurate loss when recorded, else the double one); the
 *  local slope of rows n - 1, n is (log L_n - log L_{n-1}) / (log T_n -
 *  log T_{n-1}) (undefined, hence not within, unless both T and L are
 *  positive and finite and T_n > T_{n-1}); *onset is T_{n-1} of the first
 *  pair of the final run of pairs whose slope is within delta of the final
 *  one. Either output may be NULL; both are NaN when the last decade has
 *  fewer than 2 usable rows, *onset when the last pair is not within. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (r NULL, delta <= 0);
 *            TSRELU_ENONFINITE (delta NaN or Inf); TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_rate_onset(const tsrelu_record *r, double delta, double *onset, double *slope);

/*! tsrelu_event_quantile() :
 *  The p-quantile of n event times (NaN = never, counted as later than
 *  every time) into *out: the element of index floor(p (n - 1)) in sorted
 *  order (numpy's method="lower"): p = 1 is the max, p = 0.5 the (lower)
 *  median; NaN when that element is a never, or n = 0. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (out NULL, times NULL with n > 0, p
 *            outside [0, 1]); TSRELU_ENONFINITE (p NaN); TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_event_quantile(const double *times, size_t n, double p, double *out);

/* ----------------------------------------------------------------------
 * Checkpoints: save a GD state to a file and resume it bit-identically.
 * The file (format in docs/checkpoints.md, versioned, little-endian,
 * FNV-1a 64 checksum) holds the teacher, the current iterate, the
 * iteration number, eta, output training, tolerances, the observer schedule,
 * the phase tracker and the declared step state. Function pointers and
 * user data are not saved: install the callbacks again after loading.
 * ---------------------------------------------------------------------- */

/*! tsrelu_gd_set_step_state() :
 *  Declare `state` (len doubles, owned by the caller and kept alive while
 *  declared) as the state of the step rule, e.g. a momentum buffer: its
 *  contents are saved by tsrelu_gd_save(). If gd was loaded from a
 *  checkpoint holding a step state, that state is copied into `state` here
 *  (restoring it) and len must equal its length. NULL/0 clears.
 *  @return : TSRELU_OK; TSRELU_EINVAL (gd NULL, state NULL with len > 0);
 *            TSRELU_ELENGTH (len differs from the loaded state's length);
 *            TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_gd_set_step_state(tsrelu_gd *gd, double *state, size_t len);

/*! tsrelu_gd_save() :
 *  Write a checkpoint of gd to `path`, atomically: the data go to a
 *  temporary file in the same directory, which is flushed to disk and then
 *  renamed over `path`, so a crash at any moment leaves either the previous
 *  file or the new one. Safe to call from an observer.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_EIO (with the system
 *            error in tsrelu_last_error()); TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_save(const tsrelu_gd *gd, const char *path);

/*! tsrelu_gd_load() :
 *  A new GD state from a checkpoint written by tsrelu_gd_save(); running it
 *  continues bit for bit as the saved state would have (same library build
 *  and BLAS). No observer or step rule is installed.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_EIO (cannot open or
 *            read); TSRELU_EFORMAT (not a checkpoint, unknown version,
 *            truncated, checksum mismatch, inconsistent contents);
 *            TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_gd_load(const char *path, tsrelu_gd **out);

/* ======================================================================
 * Batches: many independent runs on all cores
 *
 * A batch holds GD states (one per run) and runs them on a pool of threads,
 * each run on one thread from start to end. Every run's result is
 * bit-identical to running its state alone with tsrelu_gd_run(), whatever
 * the thread count and the order in which threads pick runs. Keep the BLAS
 * single-threaded (OPENBLAS_NUM_THREADS=1) for large runs, so that its own
 * threads do not compete with the batch's.
 * ====================================================================== */

typedef struct tsrelu_batch tsrelu_batch;

/* Layout of the per-run summary (doubles), see tsrelu_batch_summary(). */
#define TSRELU_SUMMARY_STATUS     0  /* status of the run (tsrelu_status) */
#define TSRELU_SUMMARY_ITERATION  1  /* iteration of the final iterate */
#define TSRELU_SUMMARY_LOSS       2  /* final loss, tsrelu_loss_accurate() */
#define TSRELU_SUMMARY_GRAD_NORM  3  /* final |grad L| */
#define TSRELU_SUMMARY_T1         4  /* end of alignment, -1 if not reached */
#define TSRELU_SUMMARY_T2         5  /* end of tangential growth, -1 if not */
#define TSRELU_SUMMARY_PHASE      6  /* 1, 2 or 3 */
#define TSRELU_SUMMARY_SWITCHES   7  /* students that changed teacher */
#define TSRELU_SUMMARY_SLOPE      8  /* slope of log L on log t, last decade */
#define TSRELU_SUMMARY_RATIO_MIN  9  /* min of tsrelu_balance ratios over groups with defined ratios */
#define TSRELU_SUMMARY_RATIO_MAX 10  /* max of them (NaN if no group has one) */
#define TSRELU_SUMMARY_SECONDS   11  /* wall time of the run (not deterministic) */
#define TSRELU_SUMMARY_LEN       12

/*! tsrelu_batch_create() : an empty batch (threads: all online CPUs).
 *  @return : TSRELU_OK; TSRELU_EINVAL (out NULL); TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_batch_create(tsrelu_batch **out);

/*! tsrelu_batch_free() : release a batch and its states; NULL is a no-op. */
TSRELU_API void tsrelu_batch_free(tsrelu_batch *b);

/*! tsrelu_batch_add() :
 *  Add a run of `steps` GD steps on teacher t from student s0 with step
 *  size eta (both copied, as tsrelu_gd_create()). Its index (0, 1, ...)
 *  goes to *index when index is non-NULL.
 *  @return : as tsrelu_gd_create(); TSRELU_EINVAL also after the batch ran. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_batch_add(tsrelu_batch *b, const tsrelu_teacher *t, const tsrelu_student *s0, double eta,
                 uint64_t steps, size_t *index);

/*! tsrelu_batch_size() : @return the number of runs (0 if b is NULL). */
TSRELU_API size_t tsrelu_batch_size(const tsrelu_batch *b);

/*! tsrelu_batch_state() :
 *  The GD state of run i, to configure it before tsrelu_batch_run()
 *  (tolerances, output training, phase thresholds, a step rule) or to read
 *  it after. Callbacks installed on it are called from a worker thread.
 *  Owned by the batch. @return NULL if b is NULL or i out of range. */
TSRELU_API tsrelu_gd *tsrelu_batch_state(tsrelu_batch *b, size_t i);

/*! tsrelu_batch_set_threads() : threads >= 1, or 0 for all online CPUs.
 *  @return : TSRELU_OK; TSRELU_EINVAL (b NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_batch_set_threads(tsrelu_batch *b, unsigned threads);

/*! tsrelu_batch_run() :
 *  Run every run of the batch (once). The last decade of each run is
 *  sampled at 10 points per decade with tsrelu_loss_accurate() for the
 *  summary's slope; the runs are split there into consecutive
 *  tsrelu_gd_run() calls, which changes nothing in the trajectory (an
 *  observer sees the split points as final iterates).
 *  If threads cannot be started, the calling thread does every run.
 *  @return : TSRELU_OK when every run ended with TSRELU_OK or
 *            TSRELU_CONVERGED; else the status of the first run (by index)
 *            that did not (each run's own status is in its summary);
 *            TSRELU_INTERRUPTED (tsrelu_batch_interrupt(), no run failed);
 *            TSRELU_EINVAL (NULL, already run); TSRELU_EBUSY (one of its
 *            states is in a run or step; nothing is run). */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_batch_run(tsrelu_batch *b);

/*! tsrelu_batch_interrupt() :
 *  Ask a running tsrelu_batch_run() to stop: runs in progress stop at their
 *  next step, runs not yet started are not started; each gets the status
 *  TSRELU_INTERRUPTED in its summary, and tsrelu_batch_run() returns
 *  TSRELU_INTERRUPTED (unless a run failed with an error). Thread-safe and
 *  async-signal-safe; the request is cleared when tsrelu_batch_run() starts.
 *  (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (b NULL, no message recorded). */
TSRELU_API tsrelu_status tsrelu_batch_interrupt(tsrelu_batch *b);

/*! tsrelu_batch_progress() :
 *  Steps done so far over all runs of the batch (a run that ended early, by
 *  convergence, a callback or an error, counts as done) and the steps asked
 *  for in all, safe to call from another thread while tsrelu_batch_run()
 *  runs (for progress displays). (1.1)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL; no message recorded). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_batch_progress(const tsrelu_batch *b, uint64_t *done, uint64_t *total);

/*! tsrelu_batch_summary() :
 *  The summary of run i after tsrelu_batch_run(), laid out as the
 *  TSRELU_SUMMARY_* indices: the first len fields, 1 <= len <=
 *  TSRELU_SUMMARY_LEN (new fields are only ever appended, so a caller built
 *  against an older header keeps working). Every field but the wall time is
 *  deterministic.
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, i out of range, not run yet);
 *            TSRELU_ELENGTH (len 0 or above TSRELU_SUMMARY_LEN). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_batch_summary(const tsrelu_batch *b, size_t i, double *out, size_t len);

/*! tsrelu_summary_len() : @return TSRELU_SUMMARY_LEN (for FFI callers). */
TSRELU_API size_t tsrelu_summary_len(void);

/* ----------------------------------------------------------------------
 * Gradient flow (1.2): dW/dt = -grad_W L (and da/dt = -dL/da when the output
 * weights train) from time 0, integrated by SUNDIALS CVODE (variable-order,
 * variable-step BDF) to relative and absolute tolerances rtol, atol on every
 * weight. The right-hand side is the closed-form gradient of a GD step; the
 * Newton systems of the implicit steps are solved densely (small m*d) or by
 * matrix-free GMRES (large m*d), with the closed-form Hessian as Jacobian
 * (dense, or Hessian-vector products) (docs/flow.md). Observers, stopping tolerances, stop reasons, interrupt,
 * recorder and re-entrancy work as for a GD state, with the time t (a
 * double) in place of the iteration. A run never allocates.
 * ---------------------------------------------------------------------- */

typedef struct tsrelu_flow tsrelu_flow;

/*! tsrelu_flow_observer_fn :
 *  Called by tsrelu_flow_run() at the times of its schedule (the state
 *  there is CVODE's interpolant, as accurate as the integration) and at the
 *  final state of a run that ends with TSRELU_OK or TSRELU_CONVERGED, never
 *  twice at one time. Read the state through the tsrelu_flow_* getters.
 *  Return 0 to continue, non-zero to stop: the run returns TSRELU_STOPPED
 *  with the state at the observed time. (1.2) */
typedef int (*tsrelu_flow_observer_fn)(const tsrelu_flow *fl, void *user_data);

/* Flags of tsrelu_flow_set_flags(). Without a solver flag the solver is
 * chosen from the size of the system (docs/flow.md). */
#define TSRELU_FLOW_TRAIN_OUTPUT 1u /* also integrate the output weights a */
#define TSRELU_FLOW_DENSE        2u /* dense direct linear solver */
#define TSRELU_FLOW_KRYLOV       4u /* matrix-free GMRES (SPGMR), no preconditioner */
#define TSRELU_FLOW_DQ_JACOBIAN  8u /* Jacobians by difference quotients of the gradient
                                       instead of the closed-form Hessian */
#define TSRELU_FLOW_ACCURATE    16u /* the gradient in quadruple precision (about 30x the
                                       cost): follows the flow past t ~ 1e8 (docs/flow.md) */

/* Counters of tsrelu_flow_statistics(), over every run of the state. */
#define TSRELU_FLOW_STAT_STEPS      0 /* integrator steps */
#define TSRELU_FLOW_STAT_RHS        1 /* gradient evaluations by the integrator */
#define TSRELU_FLOW_STAT_LIN_RHS    2 /* ... of them for difference-quotient Jacobians or J v */
#define TSRELU_FLOW_STAT_JAC        3 /* dense Jacobian evaluations */
#define TSRELU_FLOW_STAT_JTIMES     4 /* Jacobian-vector products (Krylov) */
#define TSRELU_FLOW_STAT_LIN_ITERS  5 /* linear (GMRES) iterations */
#define TSRELU_FLOW_STAT_ERR_FAILS  6 /* local error test failures */
#define TSRELU_FLOW_STAT_CONV_FAILS 7 /* nonlinear (Newton) convergence failures */
#define TSRELU_FLOW_NSTATS          8

/*! tsrelu_flow_create() :
 *  A gradient flow from student s0 (copied) at time 0 for teacher t (copied),
 *  with CVODE's relative and absolute tolerances rtol, atol >= 0 (not both
 *  0); the output weights stay fixed (see tsrelu_flow_set_flags()). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, negative tolerance, both 0);
 *            TSRELU_ENONFINITE (rtol or atol NaN or Inf, or a gradient at s0
 *            that is not finite); TSRELU_EDIM; TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_create(const tsrelu_teacher *t, const tsrelu_student *s0, double rtol, double atol,
                   tsrelu_flow **out);

/*! tsrelu_flow_free() : release a flow; NULL is a no-op; from the flow's own
 *  observer the release happens when its run returns (TSRELU_STOPPED). (1.2) */
TSRELU_API void tsrelu_flow_free(tsrelu_flow *fl);

/*! tsrelu_flow_set_flags() :
 *  Any of TSRELU_FLOW_TRAIN_OUTPUT, TSRELU_FLOW_DQ_JACOBIAN,
 *  TSRELU_FLOW_ACCURATE, and at most one of TSRELU_FLOW_DENSE,
 *  TSRELU_FLOW_KRYLOV. A change rebuilds the integrator at the current
 *  state (this allocates; the statistics are kept). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL, unknown flag, both solver
 *            flags); TSRELU_EBUSY (from a callback of fl); TSRELU_ENOMEM.
 *            On error the flags are unchanged. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_flow_set_flags(tsrelu_flow *fl, unsigned flags);

/*! tsrelu_flow_flags() : @return the flags, 0 if fl is NULL. (1.2) */
TSRELU_API unsigned tsrelu_flow_flags(const tsrelu_flow *fl);

/*! tsrelu_flow_solver() : @return the linear solver in use,
 *  TSRELU_FLOW_DENSE or TSRELU_FLOW_KRYLOV; 0 if fl is NULL. (1.2) */
TSRELU_API int tsrelu_flow_solver(const tsrelu_flow *fl);

/*! tsrelu_flow_set_accuracy() : new integration tolerances rtol, atol (as
 *  in tsrelu_flow_create()), used from the next run on (the integrator
 *  restarts there). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL, negative, both 0);
 *            TSRELU_ENONFINITE (NaN or Inf); TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_flow_set_accuracy(tsrelu_flow *fl, double rtol, double atol);

/*! tsrelu_flow_accuracy() : the current rtol and atol (either pointer may
 *  be NULL). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_accuracy(const tsrelu_flow *fl, double *rtol, double *atol);

/*! tsrelu_flow_set_tolerances() : stopping tolerances, as
 *  tsrelu_gd_set_tolerances(): tsrelu_flow_run() returns TSRELU_CONVERGED
 *  at the end of the first integrator step where L <= loss_tol or
 *  |grad L| <= grad_tol (0 turns a test off; the loss is tested first).
 *  (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL, negative or NaN tolerance);
 *            TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_set_tolerances(tsrelu_flow *fl, double loss_tol, double grad_tol);

/*! tsrelu_flow_tolerances() : the current loss_tol and grad_tol (either
 *  pointer may be NULL). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_tolerances(const tsrelu_flow *fl, double *loss_tol, double *grad_tol);

/*! tsrelu_flow_set_observer() :
 *  Install (fn non-NULL) or remove (fn NULL) the observer. Its times:
 *  TSRELU_SCHEDULE_LINEAR with param = N >= 1: t = 0, N, 2N, ...;
 *  TSRELU_SCHEDULE_LOG with 1 <= P <= TSRELU_LOG_MAX_PER_DECADE: t = 0 and
 *  10^(j/P), j = 0, 1, ... Times before the current one are skipped. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL, unknown schedule, param 0,
 *            log param above TSRELU_LOG_MAX_PER_DECADE); TSRELU_EBUSY. */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_set_observer(tsrelu_flow *fl, tsrelu_flow_observer_fn fn, void *user_data, int schedule,
                         uint64_t param);

/*! tsrelu_flow_run() :
 *  Integrate from the current time to t_end, calling the observer at its
 *  times and at the end, testing the stopping tolerances and the interrupt
 *  flag after every integrator step. t_end equal to the current time
 *  evaluates and observes the state only. (1.2)
 *  @return : TSRELU_OK (t_end reached); TSRELU_CONVERGED; TSRELU_STOPPED
 *            (the observer returned non-zero: tsrelu_flow_stop_value());
 *            TSRELU_INTERRUPTED (tsrelu_flow_interrupt()); TSRELU_EINVAL (fl
 *            NULL, t_end before the current time); TSRELU_ENONFINITE (t_end
 *            NaN or Inf); TSRELU_EDIVERGED (a gradient that is not finite,
 *            or CVODE failed to meet its tolerances: the state keeps the
 *            last good time; the message gives CVODE's reason); TSRELU_EBUSY
 *            (called from a callback of fl); TSRELU_ENOMEM. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_flow_run(tsrelu_flow *fl, double t_end);

/*! tsrelu_flow_interrupt() : ask the run in progress to stop after its
 *  current integrator step (tsrelu_flow_run() then returns
 *  TSRELU_INTERRUPTED); thread-safe and async-signal-safe; cleared when a
 *  run starts. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL; no message is recorded). */
TSRELU_API tsrelu_status tsrelu_flow_interrupt(tsrelu_flow *fl);

/*! tsrelu_flow_time() : @return the time of the state, 0 if fl is NULL. (1.2) */
TSRELU_API double tsrelu_flow_time(const tsrelu_flow *fl);

/*! tsrelu_flow_student() : @return a read-only view of the state at
 *  tsrelu_flow_time(), owned by fl (as tsrelu_gd_student()); NULL if fl is
 *  NULL. (1.2) */
TSRELU_API const tsrelu_student *tsrelu_flow_student(const tsrelu_flow *fl);

/*! tsrelu_flow_teacher() : @return a read-only view of fl's teacher copy,
 *  NULL if fl is NULL. (1.2) */
TSRELU_API const tsrelu_teacher *tsrelu_flow_teacher(const tsrelu_flow *fl);

/*! tsrelu_flow_loss() : the loss at the state (double precision, cached).
 *  (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); if not cached also
 *            TSRELU_ENOMEM, TSRELU_ENONFINITE. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_flow_loss(const tsrelu_flow *fl, double *loss);

/*! tsrelu_flow_gradient_norm() : |grad L|_2 at the state (over W, and a
 *  when it trains). (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); if not cached also
 *            TSRELU_ENOMEM, TSRELU_ENONFINITE. */
TSRELU_API TSRELU_NODISCARD tsrelu_status tsrelu_flow_gradient_norm(const tsrelu_flow *fl, double *norm);

/*! tsrelu_flow_stop_value() : @return the non-zero value returned by the
 *  observer that stopped the latest run, else 0. (1.2) */
TSRELU_API int tsrelu_flow_stop_value(const tsrelu_flow *fl);

/*! tsrelu_flow_stop_reason() : @return the TSRELU_STOP_* reason of the
 *  latest run (TSRELU_STOP_STEPS: t_end reached), TSRELU_STOP_NONE if fl is
 *  NULL or has not run. (1.2) */
TSRELU_API int tsrelu_flow_stop_reason(const tsrelu_flow *fl);

/*! tsrelu_flow_statistics() : the first len counters TSRELU_FLOW_STAT_*
 *  (1 <= len <= TSRELU_FLOW_NSTATS; new counters are only appended), summed
 *  over every run since creation. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL); TSRELU_ELENGTH (len 0 or
 *            above TSRELU_FLOW_NSTATS). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_statistics(const tsrelu_flow *fl, uint64_t *stats, size_t len);

/*! tsrelu_record_create_flow() : a recorder shaped like fl, as
 *  tsrelu_record_create(). Its iteration column counts the recorded rows;
 *  TSRELU_RECORD_TIME holds the flow time. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (NULL, capacity 0, unknown flag);
 *            TSRELU_ENOMEM (out of memory, or the size overflows). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_record_create_flow(const tsrelu_flow *fl, size_t capacity, unsigned flags, tsrelu_record **out);

/*! tsrelu_flow_set_recorder() :
 *  Attach recorder r (NULL detaches) to fl with a schedule over time as
 *  tsrelu_flow_set_observer()'s: a row at each schedule time and at the end
 *  of every run, never twice at one time. (1.2)
 *  @return : TSRELU_OK; TSRELU_EINVAL (fl NULL, unknown schedule, bad
 *            param, r attached elsewhere); TSRELU_EDIM (r made for another
 *            shape); TSRELU_EBUSY (from a callback of fl). */
TSRELU_API TSRELU_NODISCARD tsrelu_status
tsrelu_flow_set_recorder(tsrelu_flow *fl, tsrelu_record *r, int schedule, uint64_t param);

#ifdef __cplusplus
}
#endif

#endif /* TSRELU_H */

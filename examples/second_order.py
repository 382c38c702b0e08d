#!/usr/bin/python3
"""second_order.py — the Hessian, its spectrum and Newton's method from Python
(numpy in, numpy out; docs/secondorder.md).

Part 1, a late GD state. GD (eta = 0.1) from a small initialisation to its
late phase, where the students have nearly aligned with their teachers:
  * the dense Hessian (tsrelu.hessian: N x N, N = m*d, vec(W) row-major),
    exactly symmetric;
  * H x from the matrix against tsrelu.hessian_vector (never forms H);
  * the spectrum (tsrelu.spectrum, LAPACK dsyevr) with its counts of
    negative / flat / positive eigenvalues. At an over-parameterised global
    minimum the flat count is m*d - k*d (norm and tangential transfer inside
    a teacher's group) and exactly k*d eigenvalues are of order one;
    late-phase iterates show the same split, the soft eigenvalues shrinking
    with the angles (docs/secondorder.md section 1).
Part 2, Safran & Shamir (ICML 2018): k = m = d = 6, orthonormal teachers,
output weights 1, students N(0, I/d). Newton (tsrelu.newton, pseudo-inverse
steps) lands on stationary points of both kinds and reports the Morse index:
  * from the raw random start of seed 1: a saddle (index 1);
  * from seed 237 after GD (eta = 0.05, stopped at |grad| <= 1e-7): a
    spurious local minimum, L = 0.0250806 (the value docs/secondorder.md
    section 3 lists for k = 6).

Run from the repository root after `make all`:
    /usr/bin/python3 examples/second_order.py          Figure-1 sizes (k=2, m=20, d=16), 1e5 GD steps,
                                                        and part 2 over 300 seeds as well (a few seconds)
    /usr/bin/python3 examples/second_order.py --quick  k=2, m=6, d=8, 2e4 GD steps (used by `make check`)
Exit status 1 if a check fails: H x and hessian_vector differ by more than
1e-12 relative; the counts are not (0, m*d - k*d, k*d); Newton misses the
gradient floor (|grad L| <= 1e-13 S) or lands on the wrong kind of point.
"""
import math
import os
import sys

# Prefer the binding of this source tree when run from a checkout.
_tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python")
if os.path.isfile(os.path.join(_tree, "tsrelu", "__init__.py")):
    sys.path.insert(0, os.path.abspath(_tree))

import numpy as np  # noqa: E402

import tsrelu  # noqa: E402

FAILURES = []


def check(ok, what):
    print("  [%s] %s" % ("ok" if ok else "FAIL", what))
    if not ok:
        FAILURES.append(what)


def late_state(quick):
    """Part 1: Hessian, H x and the spectrum at a late GD iterate."""
    k, m, d, sigma, steps = (2, 6, 8, 1e-3, 20000) if quick else (2, 20, 16, 1e-6, 100000)
    teacher = tsrelu.Teacher.orthogonal(k=k, d=d, norm=1.0, seed=1)
    gd = tsrelu.GD(teacher, tsrelu.Student.gaussian(m=m, d=d, sigma=sigma, seed=2), eta=0.1)
    gd.run(steps)
    s = gd.student  # a copy of the iterate: a tsrelu.Student
    theta = np.min(tsrelu.angles(s, teacher), axis=1)  # each student's angle to its nearest teacher
    print("Part 1: k=%d, m=%d, d=%d, sigma=%g; GD eta=0.1, %d steps: L = %.3e, largest angle %.2e"
          % (k, m, d, sigma, gd.iteration, s.loss_accurate(teacher), theta.max()))

    H = tsrelu.hessian(s, teacher)  # N x N numpy array, N = m*d (W row-major)
    N = m * d
    check(H.shape == (N, N) and np.array_equal(H, H.T), "dense Hessian %d x %d, exactly symmetric" % H.shape)

    x = np.random.default_rng(0).standard_normal(N)
    Hx = H @ x
    y = tsrelu.hessian_vector(s, teacher, x)  # also accepts an m x d direction
    rel = np.max(np.abs(y - Hx)) / np.max(np.abs(Hx))
    check(rel <= 1e-12, "hessian_vector = H @ x: max|diff| / max|H x| = %.1e (bound 1e-12)" % rel)

    # Flat means |lambda| <= rel_tol * max|lambda|; 1e-2 lies in the gap
    # between the soft eigenvalues (of order the angles) and the stiff ones.
    rel_tol = 1e-2
    sp = tsrelu.spectrum(s, teacher, rel_tol=rel_tol)
    ev = sp.values  # ascending
    order = np.sort(np.abs(ev))
    soft, stiff = order[N - k * d - 1], order[N - k * d]
    print("  spectrum: min %.2e, max %.4f; largest soft |lambda| %.2e, smallest stiff %.4f (gap x%.0f)"
          % (ev[0], ev[-1], soft, stiff, stiff / soft))
    print("  counts at rel_tol %g: %d negative, %d flat, %d positive; "
          "at a global minimum: 0, m*d - k*d = %d, k*d = %d"
          % (rel_tol, sp.negative, sp.flat, sp.positive, N - k * d, k * d))
    check((sp.negative, sp.flat, sp.positive) == (0, N - k * d, k * d),
          "counts (negative, flat, positive) = (0, m*d - k*d, k*d)")
    check(ev[0] >= -1e-14 * ev[-1], "no eigenvalue below -1e-14 max|lambda| (smallest %.1e)" % ev[0])


def newton_report(label, r, teacher):
    L = r.student.loss_accurate(teacher)
    print("  %s: %s after %d Newton steps, |grad L| = %.2e = %.1e S, Morse index %d, flat %d, "
          "smallest eigenvalue %.4g, L = %.10g"
          % (label, "converged" if r.converged else "NOT converged", r.iterations, r.grad_norm,
             r.grad_norm / r.grad_scale, r.negative, r.flat, r.min_eig, L))
    check(r.converged and r.grad_norm <= 1e-13 * r.grad_scale,
          "%s: gradient at the floor (<= 1e-13 S)" % label)
    return L


def gd_then_newton(teacher, k, seed):
    s0 = tsrelu.Student.gaussian(m=k, d=k, sigma=1 / math.sqrt(k), seed=seed)
    gd = tsrelu.GD(teacher, s0, eta=0.05, grad_tol=1e-7)
    gd.run(100000)
    return gd, tsrelu.newton(gd.student, teacher)


def safran_shamir(quick):
    """Part 2: Newton to a saddle and to a spurious minimum (k = m = d = 6)."""
    k = 6
    teacher = tsrelu.Teacher.orthogonal(k=k, d=k, norm=1.0, seed=1000 + k)  # output weights 1
    print("Part 2: Safran-Shamir, k = m = d = %d, orthonormal teachers, output weights 1" % k)

    s1 = tsrelu.Student.gaussian(m=k, d=k, sigma=1 / math.sqrt(k), seed=1)
    r = tsrelu.newton(s1, teacher)  # signed pseudo-inverse steps: saddles are fixed points too
    L = newton_report("seed 1, Newton from the random start", r, teacher)
    check(r.negative >= 1 and L > 1e-20, "seed 1: a saddle (Morse index >= 1, L > 0)")

    gd, r = gd_then_newton(teacher, k, 237)
    print("  seed 237: GD stopped after %d steps at |grad L| = %.1e" % (gd.iteration, gd.gradient_norm()))
    L = newton_report("seed 237, GD then Newton", r, teacher)
    check(r.negative == 0 and r.flat == 0 and r.min_eig > 0 and L > 1e-20,
          "seed 237: a certified spurious local minimum "
          "(index 0, no flat direction, min eigenvalue > 0, L > 0)")
    check(abs(L / 0.0250806 - 1) < 1e-6, "seed 237: L = 0.0250806 (docs/secondorder.md, k = 6)")
    Wv = r.student.W  # numpy out: the polished m x d weights
    print("  at the spurious minimum, |w_i| =", np.array2string(np.linalg.norm(Wv, axis=1), precision=4))

    if not quick:
        seeds = 300
        counts, losses = {"global": 0, "spurious": 0, "other": 0}, []
        for i in range(seeds):
            _, r = gd_then_newton(teacher, k, i)
            L = r.student.loss_accurate(teacher)
            if r.converged and L <= 1e-20:
                counts["global"] += 1
            elif r.converged and r.negative == 0 and r.flat == 0 and r.min_eig > 0:
                counts["spurious"] += 1
                losses.append((i, L))
            else:
                counts["other"] += 1
        print("  seeds 0..%d, GD then Newton: %d global minima, %d spurious minima %s, %d other"
              % (seeds - 1, counts["global"], counts["spurious"],
                 ["seed %d: L = %.7g" % x for x in losses], counts["other"]))


def main(argv):
    quick = "--quick" in argv
    print("libtsrelu %s (%s)" % (tsrelu.version(), tsrelu.library_path))
    late_state(quick)
    safran_shamir(quick)
    if FAILURES:
        print("second_order: %d check(s) failed" % len(FAILURES), file=sys.stderr)
        return 1
    print("second_order: all checks passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except tsrelu.Error as e:
        print("second_order: %s" % e, file=sys.stderr)
        sys.exit(1)

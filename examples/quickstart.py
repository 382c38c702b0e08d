#!/usr/bin/python3
"""quickstart.py — the smallest complete use of the Python binding `tsrelu`.

A student of m = 6 ReLU neurons, initialised tiny (sigma = 1e-3), learns a
teacher of k = 2 orthogonal unit-norm ReLU neurons in d = 8 by gradient
descent on the exact population loss (eta = 0.1). An observer on a log
schedule records the loss in double precision and in the accurate
(quad-precision) evaluation; at the end we report the paper's three phases,
the group balance and the fitted late-time rate (about -3: L ~ T^-3).

Run from the repository root after `make all`:
    /usr/bin/python3 examples/quickstart.py           200000 steps (under a second)
    /usr/bin/python3 examples/quickstart.py --quick   5000 steps (used by `make check`)
"""
import os
import sys

# Prefer the binding of this source tree when run from a checkout.
_tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python")
if os.path.isfile(os.path.join(_tree, "tsrelu", "__init__.py")):
    sys.path.insert(0, os.path.abspath(_tree))

import tsrelu  # noqa: E402


def main(argv):
    quick = "--quick" in argv
    steps = 5000 if quick else 200000

    teacher = tsrelu.Teacher.orthogonal(k=2, d=8, norm=1.0, seed=1)
    student = tsrelu.Student.gaussian(m=6, d=8, sigma=1e-3, seed=2)
    gd = tsrelu.GD(teacher, student, eta=0.1)  # copies both: they may be dropped now

    rows = []

    def observe(g):
        rows.append((g.iteration, g.loss(), g.loss_accurate()))
        # return a non-zero int here to stop the run early

    print("libtsrelu %s (%s)" % (tsrelu.version(), tsrelu.library_path))
    status = gd.run(steps, observer=observe, per_decade=4)
    print("%10s  %-24s  %-24s" % ("iteration", "loss (double)", "loss (quad)"))
    for it, L, La in rows:
        print("%10d  %-24.17g  %-24.17g" % (it, L, La))

    t1, t2 = gd.phase_times
    print("run: %s after %d steps; phase %d (alignment ended at %s, tangential growth at %s)"
          % (status.name, gd.iteration, gd.phase, t1, t2))
    b = gd.balance()
    for l in range(gd.k):
        print("teacher %d: %d students, m_l|w_i|/|v_l| in [%.3f, %.3f]"
              % (l, b.size[l], b.ratio_min[l], b.ratio_max[l]))
    iters = [r[0] for r in rows]
    losses = [r[2] for r in rows]
    late = max(1000, steps // 100)
    slope, _ = tsrelu.rate_fit(iters, losses, t_lo=late)
    print("late-time rate: L ~ T^%.2f over T >= %d (the paper: T^-3)" % (slope, late))
    if not (-4.0 < slope < -2.0):
        print("quickstart: unexpected rate %.3f" % slope, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except tsrelu.Error as e:  # e.name is the status name, e.message the library's detail
        print("quickstart: %s" % e, file=sys.stderr)
        sys.exit(1)

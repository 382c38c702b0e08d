#!/usr/bin/python3
"""Does L*T^3 keep drifting late in a run? (docs/theory.md section 7)

Run mode: one GD run recorded on a log schedule with the quadruple-precision
loss (tsrelu_loss_accurate), written as CSV (step, loss_accurate, LT3):

    /usr/bin/python3 tools/theory/lt3_drift.py run --k 2 --m 20 --steps 1e8 \
        --out /work/data/theory/lt3_k2_m20.csv

Table mode: the runs' rows with T >= 1e3, every other one (10 per decade),
in one small CSV (k, m, seed, step, loss_accurate, LT3) for docs/data:

    /usr/bin/python3 tools/theory/lt3_drift.py table /work/data/theory/lt3_k*.csv \
        --out docs/data/theory_lt3.csv

Fit mode (on run files or on that table, one fit per (k, m, seed)): fit L*T^3
over T >= TMIN (default 1e4) with
  (log)  L T^3 = a + b ln T                      (a log correction, unbounded)
  (sat)  L T^3 = A - B T^-p                       (a transient, saturating at A;
                                                   p chosen on a grid, A, B least squares)
and print the rms and max relative residuals of each, and the local slope
d(L T^3)/d(ln T) per decade:

    /usr/bin/python3 tools/theory/lt3_drift.py fit docs/data/theory_lt3.csv
"""
import argparse
import csv
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))


def run(a):
    import tsrelu
    steps = int(float(a.steps))
    t = tsrelu.Teacher.orthogonal(k=a.k, d=a.d, norm=1.0, seed=a.seed)
    s = tsrelu.Student.gaussian(m=a.m, d=a.d, sigma=a.sigma, seed=a.seed)
    gd = tsrelu.GD(t, s, eta=a.eta)
    cap = 20 * (int(math.log10(steps)) + 2) + 10
    rec = gd.record(cap, per_decade=a.per_decade, accurate_loss=True)
    gd.run(steps)
    it = rec.iterations
    L = rec.loss_accurate
    sizes = rec.teacher("group_size")[-1]
    with open(a.out, "w") as f:
        f.write("# k=%d m=%d d=%d sigma=%g eta=%g seed=%d steps=%d groups=%s\n" % (
            a.k, a.m, a.d, a.sigma, a.eta, a.seed, steps, "/".join(str(int(x)) for x in sizes)))
        f.write("step,loss_accurate,LT3\n")
        for n, l in zip(it, L):
            f.write("%d,%.17g,%.17g\n" % (n, l, l * float(n) ** 3))
    print("wrote", a.out)


def load(path):
    """[(label, k, m, T, L*T^3)] of a run file (one run) or of a table."""
    head = open(path).readline().strip("# \n")
    rows = [r for r in csv.DictReader(line for line in open(path) if not line.startswith("#"))]
    if "k" not in rows[0]:
        kv = dict(x.split("=") for x in head.split())
        for r in rows:
            r["k"], r["m"], r["seed"] = kv["k"], kv["m"], kv["seed"]
    out = []
    for kms in sorted({(int(r["k"]), int(r["m"]), int(r["seed"])) for r in rows}):
        mine = [r for r in rows if (int(r["k"]), int(r["m"]), int(r["seed"])) == kms]
        out.append(("k=%d m=%d seed=%d" % kms, kms[0], kms[1], np.array([float(r["step"]) for r in mine]),
                    np.array([float(r["LT3"]) for r in mine])))
    return out


def table(a):
    with open(a.out, "w") as f:
        f.write("k,m,seed,step,loss_accurate,LT3\n")
        for path in a.files:
            head = open(path).readline().strip("# \n")
            kv = dict(x.split("=") for x in head.split())
            rows = [r for r in csv.DictReader(line for line in open(path) if not line.startswith("#"))]
            rows = [r for r in rows if float(r["step"]) >= 1e3]
            for n, r in enumerate(rows):
                if n % 2 == 0 or n == len(rows) - 1:
                    f.write("%s,%s,%s,%s,%s,%s\n" % (kv["k"], kv["m"], kv["seed"], r["step"], r["loss_accurate"],
                                                     r["LT3"]))
    print("wrote", a.out)


def fits(T, Y):
    x = np.log(T)
    A = np.vstack([np.ones_like(x), x]).T
    (a, b), *_ = np.linalg.lstsq(A, Y, rcond=None)
    rlog = (Y - (a + b * x)) / Y
    best = None
    for p in np.exp(np.linspace(np.log(0.02), np.log(3.0), 400)):
        M = np.vstack([np.ones_like(x), -T ** -p]).T
        (AA, BB), *_ = np.linalg.lstsq(M, Y, rcond=None)
        r = (Y - (AA - BB * T ** -p)) / Y
        if best is None or np.sum(r ** 2) < np.sum(best[3] ** 2):
            best = (AA, BB, p, r)
    return (a, b, rlog), best


def fit(a):
    for path in a.files:
        for head, _, _, T, Y in load(path):
            fit_one(a, path, head, T, Y)


def fit_one(a, path, head, T, Y):
    if True:
        keep = T >= a.tmin
        T, Y = T[keep], Y[keep]
        print("==", os.path.basename(path), "|", head)
        dec = [10 ** e for e in range(int(np.log10(T[0])), int(np.log10(T[-1])) + 1)]
        vals = [Y[np.argmin(abs(T - t))] for t in dec]
        print("   L*T^3 at T = " + ", ".join("1e%d: %.4g" % (round(np.log10(t)), v) for t, v in zip(dec, vals)))
        print("   increase per decade: " + ", ".join("%.4g" % (v1 - v0) for v0, v1 in zip(vals, vals[1:])))
        half = [10 ** (e / 2) for e in range(int(2 * np.log10(T[0]) + 0.5), int(2 * np.log10(T[-1]) + 0.5) + 1)]
        hv = [Y[np.argmin(abs(np.log(T / t)))] for t in half]
        print("   increase per half decade: " + ", ".join("%.3g" % (v1 - v0) for v0, v1 in zip(hv, hv[1:])))
        (la, lb, rlog), (A, B, p, rsat) = fits(T, Y)
        print("   log fit: L T^3 = %.4g + %.4g ln T      rms rel. residual %.2e, max %.2e"
              % (la, lb, np.sqrt(np.mean(rlog ** 2)), np.max(abs(rlog))))
        print("   sat fit: L T^3 = %.4g - %.4g T^-%.3f   rms rel. residual %.2e, max %.2e"
              % (A, B, p, np.sqrt(np.mean(rsat ** 2)), np.max(abs(rsat))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--k", type=int, default=2)
    r.add_argument("--m", type=int, default=20)
    r.add_argument("--d", type=int, default=16)
    r.add_argument("--sigma", type=float, default=1e-6)
    r.add_argument("--eta", type=float, default=0.1)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--steps", default="1e8")
    r.add_argument("--per-decade", type=int, default=20)
    r.add_argument("--out", required=True)
    f = sub.add_parser("fit")
    f.add_argument("files", nargs="+")
    f.add_argument("--tmin", type=float, default=1e4)
    t = sub.add_parser("table")
    t.add_argument("files", nargs="+")
    t.add_argument("--out", required=True)
    a = ap.parse_args()
    {"run": run, "fit": fit, "table": table}[a.cmd](a)


if __name__ == "__main__":
    main()

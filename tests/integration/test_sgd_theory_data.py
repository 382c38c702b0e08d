#!/usr/bin/env python3
"""docs/theory.md section 10 (sampled training) against its data: every
<!-- sgd:NAME --> block of docs/theory.md must equal the block
tools/sgd/derive.py computes from the committed docs/data/sgd/runs.csv and
traj.csv; the committed runs must be the grid tools/sgd/measure.py
describes; and a few short runs made now must reproduce the committed rows
bit for bit (the sampling streams, the exact GD and the quad-precision
loss are deterministic for a given build and BLAS thread count:
docs/sgd.md section 3; OPENBLAS_NUM_THREADS=1 as in the measurement).
The data were measured with OpenBLAS; under another BLAS (Debian's
reference BLAS, LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas) the
sampled runs' dgemm sums in another order and the rows agree to 1.2e-12
relative (measured), so there they must agree to 1e-9 instead of bit for
bit. A few seconds.

    /usr/bin/python3 tests/integration/test_sgd_theory_data.py

Last line: "sgd_theory_data: N passed, M failed"."""
import math
import os
import sys

os.environ["OPENBLAS_NUM_THREADS"] = "1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "sgd"))

import numpy as np  # noqa: E402

import derive  # noqa: E402
import measure  # noqa: E402


def same(a, b, rel):
    """a equals b bit for bit (rel = 0), or to rel relative; NaN equals NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * abs(b)


def blas_measured():
    """1 if this process runs the BLAS the data were measured with (OpenBLAS)."""
    with open("/proc/self/maps") as f:
        return "openblas" in f.read()


def main():
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL", what)

    runs, traj = derive.load()
    # the grid the docs describe
    want = sorted(measure.tasks())
    got = sorted(zip(runs["kind"], runs["k"], runs["m"], runs["eta"], runs["batch"], runs["n_train"],
                     runs["seed"], runs["steps"]))
    check(len(runs) == len(want) == 102, "runs.csv has %d runs, the grid %d (expected 102)" % (len(runs), len(want)))
    check(got == want, "runs.csv: the runs differ from tools/sgd/measure.py's grid")
    check(np.allclose(runs["eta"] * runs["steps"], 1e4), "every run to eta*T = 1e4")
    ends = traj.groupby("run")["T"].max()
    fin = runs[runs["diverged_at"].isna()]
    check((ends[fin["run"]].to_numpy() == fin["steps"].to_numpy()).all(), "every run that did not diverge ends at its T")
    # the doc's blocks
    text = open(os.path.join(ROOT, "docs", "theory.md")).read()
    blocks = derive.docblocks.read(text, "sgd")
    fresh = derive.blocks(derive.per_run(runs, traj))
    check(len(blocks) >= 6, "docs/theory.md has %d sgd blocks (expected at least 6)" % len(blocks))
    check(set(fresh) <= set(blocks), "docs/theory.md lacks the sgd blocks %s" % sorted(set(fresh) - set(blocks)))
    for name, block in blocks.items():
        check(name in fresh, "docs/theory.md: unknown sgd block %s" % name)
        if name in fresh:
            check(block == fresh[name], "docs/theory.md: sgd block %s differs from the data:\n%s\n---\n%s"
                  % (name, block, fresh[name]))
    # short runs now against the committed rows
    for task in [("gd", 2, 20, 0.1, 0, 0, 0, 3000), ("online", 2, 20, 0.1, 32, 0, 1, 3000),
                 ("online", 4, 20, 0.025, 8, 0, 2, 3000), ("train", 2, 20, 0.1, 256, 256, 1, 1000),
                 ("train", 4, 20, 0.1, 128, 1024, 2, 1000), ("online", 4, 20, 0.1, 8, 0, 1, 3000)]:
        kind, k, m, eta, B, n, seed, steps = task
        sel = runs[(runs["kind"] == kind) & (runs["k"] == k) & (runs["eta"] == eta) & (runs["batch"] == B)
                   & (runs["n_train"] == n) & (runs["seed"] == seed)]
        check(len(sel) == 1, "one committed run for %s" % (task,))
        if len(sel) != 1:
            continue
        row = sel.iloc[0]
        summ, rows = measure.run_one(task)
        rel = 0.0 if blas_measured() else 1e-9
        committed = traj[traj["run"] == row["run"]]
        old = {int(T): (L, Lt) for T, L, Lt in zip(committed["T"], committed["L"], committed["L_train"])}
        if not math.isnan(row["diverged_at"]) and row["diverged_at"] <= steps:
            check(summ["diverged_at"] == row["diverged_at"], "%s diverges at %s now, %s committed"
                  % (task, summ["diverged_at"], row["diverged_at"]))
        # every row both hold, except the re-run's own final row (off the log schedule)
        common = [(T, L, Lt) for T, L, Lt in rows[:-1] if T in old]
        check(len(common) >= 40, "%s: %d rows in common with the committed run" % (task, len(common)))
        bad = [(T, L, old[T][0]) for T, L, Lt in common if not same(L, old[T][0], rel)]
        check(not bad, "%s: %d rows differ from the committed ones (%s), first %s"
              % (task, len(bad), "bit for bit" if rel == 0 else "relative %g: not OpenBLAS" % rel, bad[:1]))
        if kind == "train":
            badt = [T for T, L, Lt in common if not same(Lt, old[T][1], rel)]
            check(not badt, "%s: training loss differs at %d rows" % (task, len(badt)))
    print("sgd_theory_data: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

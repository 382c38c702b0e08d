#!/usr/bin/python3
"""The measurements behind docs/theory.md section 10 (sampled training):
exact GD beside online SGD and finite training sets, from one
initialisation, through the Python binding.

    OPENBLAS_NUM_THREADS=1 nice -n 10 /usr/bin/python3 tools/sgd/measure.py [--out docs/data/sgd] [--jobs 2]

Configurations: the Figure-1 sizes (k, m) = (2, 20) and (4, 20), d = 16,
orthogonal unit teachers (seed 1), students N(0, sigma^2 I), sigma = 1e-6
(seed 2): the setup of examples/sgd.c. Every run records the
quad-precision population loss of its iterate on the log schedule (20 rows
per decade, tsrelu.GD.record(accurate_loss=True)); all runs of one eta share
that schedule, so the rows of GD and SGD are at the same T.

  grid    exact GD, and online SGD with B in {8, 32, 128, 512} and sampler
          seeds {1, 2, 3}, at eta in {0.025, 0.05, 0.1}, each to
          eta*T = 1e4 (T = 4e5, 2e5, 1e5);
  finite  a training set of n in {256, 1024, 4096} Gaussian inputs
          (training-set seeds {1, 2}), full batch (B = n) or minibatch
          B = 128, eta = 0.1, T = 1e5; the training loss is read too.

Per run it writes the trajectory (T, L) and, from the library at the end:
the phase tracker's t1, t2, the events of docs/events.md at their default
thresholds, the rate onset, the balance ratios of the final groups
(tsrelu_balance), and for finite sets the training loss at each row.
A run that fails with TSRELU_EDIVERGED keeps its rows up to the failure
and the iteration of the failure.

Writes OUT/runs.csv (one row per run) and OUT/traj.csv (run, T, L,
L_train); tools/sgd/derive.py makes the tables of docs/theory.md from them.
13.3-13.7 CPU-minutes (10-16 minutes of wall time on two shared cores) on
the development machine.
"""
import argparse
import csv
import math
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))

import numpy as np  # noqa: E402

D, SIGMA, TEACHER_SEED, STUDENT_SEED = 16, 1e-6, 1, 2
CONFIGS = ((2, 20), (4, 20))
ETAS = (0.025, 0.05, 0.1)
BATCHES = (8, 32, 128, 512)
SEEDS = (1, 2, 3)
FLOW_TIME = 1e4
PER_DECADE = 20
TRAIN_N = (256, 1024, 4096)
TRAIN_SEEDS = (1, 2)
TRAIN_B = 128
TRAIN_ETA = 0.1

RUN_FIELDS = ["run", "kind", "k", "m", "d", "eta", "batch", "n_train", "seed", "steps", "diverged_at",
              "t1", "t2", "align_median", "align_max", "deficit_max", "switches", "rate_onset",
              "final_slope", "ratio_min", "ratio_max", "excess_max", "train_loss_end", "cpu_seconds"]


def steps_for(eta):
    return int(round(FLOW_TIME / eta))


def tasks():
    """Every run: (kind, k, m, eta, batch, n_train, seed, steps)."""
    out = []
    for k, m in CONFIGS:
        for eta in ETAS:
            out.append(("gd", k, m, eta, 0, 0, 0, steps_for(eta)))
            for B in BATCHES:
                for s in SEEDS:
                    out.append(("online", k, m, eta, B, 0, s, steps_for(eta)))
        for n in TRAIN_N:
            for B in (n, TRAIN_B):
                for s in TRAIN_SEEDS:
                    out.append(("train", k, m, TRAIN_ETA, B, n, s, steps_for(TRAIN_ETA)))
    return out


def run_one(task):
    """Run one task; returns (summary dict, rows [(T, L, L_train)])."""
    import tsrelu
    kind, k, m, eta, B, n, seed, steps = task
    t = tsrelu.Teacher.orthogonal(k, D, 1.0, seed=TEACHER_SEED)
    s = tsrelu.Student.gaussian(m, D, SIGMA, seed=STUDENT_SEED)
    gd = tsrelu.GD(t, s, eta)
    if kind == "online":
        gd.set_sampling(B, 0, seed)
    elif kind == "train":
        gd.set_sampling(B, n, seed)
    cap = int(PER_DECADE * (math.log10(steps) + 1)) + 10
    r = gd.record(cap, per_decade=PER_DECADE, accurate_loss=True)
    train = {}
    observer = None
    if kind == "train":
        def observer(g):
            train[g.iteration] = g.training_loss()
    c0 = time.process_time()
    diverged = float("nan")
    try:
        if observer is not None:
            gd.run(steps, observer, per_decade=PER_DECADE)
        else:
            gd.run(steps)
    except tsrelu.Error as e:
        if "DIVERGED" not in str(e):
            raise
        diverged = float(gd.iteration)
    cpu = time.process_time() - c0
    T = np.asarray(r.iterations, dtype=float)
    L = np.asarray(r.loss_accurate, dtype=float)
    rows = [(int(T[i]), float(L[i]), train.get(int(T[i]), float("nan"))) for i in range(len(T))]
    out = dict(kind=kind, k=k, m=m, d=D, eta=eta, batch=B, n_train=n, seed=seed, steps=steps,
               diverged_at=diverged, cpu_seconds=round(cpu, 2))
    nan = float("nan")
    if math.isnan(diverged):
        t1, t2 = gd.phase_times
        ev = r.events()
        onset, slope = r.rate_onset(0.1)
        bal = gd.balance()
        out.update(t1=nan if t1 is None else t1, t2=nan if t2 is None else t2,
                   align_median=float(np.median(ev.align)), align_max=float(np.max(ev.align)),
                   deficit_max=float(np.max(ev.deficit)), switches=len(ev.switches),
                   rate_onset=onset, final_slope=slope,
                   ratio_min=float(np.nanmin(bal.ratio_min)), ratio_max=float(np.nanmax(bal.ratio_max)),
                   excess_max=float(np.nanmax(bal.excess)),
                   train_loss_end=gd.training_loss() if kind == "train" else nan)
    else:
        for f in ("t1", "t2", "align_median", "align_max", "deficit_max", "switches", "rate_onset",
                  "final_slope", "ratio_min", "ratio_max", "excess_max", "train_loss_end"):
            out[f] = nan
    return out, rows


def main():
    global FLOW_TIME
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "docs", "data", "sgd"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--flow-time", type=float, default=FLOW_TIME,
                    help="eta*T of every run (default 1e4; smaller for a quick try, not the committed data)")
    a = ap.parse_args()
    FLOW_TIME = a.flow_time
    os.makedirs(a.out, exist_ok=True)
    todo = tasks()
    # longest first, so that two workers finish together
    order = sorted(range(len(todo)), key=lambda i: -(todo[i][7] * (todo[i][4] + 40)))
    if a.jobs > 1:
        import multiprocessing
        with multiprocessing.Pool(a.jobs) as pool:
            res = dict(zip(order, pool.map(run_one, [todo[i] for i in order], chunksize=1)))
    else:
        res = {i: run_one(todo[i]) for i in order}
    with open(os.path.join(a.out, "runs.csv"), "w", newline="") as fr, \
            open(os.path.join(a.out, "traj.csv"), "w", newline="") as ft:
        wr, wt = csv.writer(fr), csv.writer(ft)
        wr.writerow(RUN_FIELDS)
        wt.writerow(["run", "T", "L", "L_train"])
        for i in range(len(todo)):
            summ, rows = res[i]
            summ["run"] = i
            wr.writerow([repr(summ[f]) if isinstance(summ[f], float) else summ[f] for f in RUN_FIELDS])
            for T, L, Lt in rows:
                wt.writerow([i, T, repr(L), repr(Lt) if not math.isnan(Lt) else ""])
    print("measure: %d runs written to %s" % (len(todo), a.out))


if __name__ == "__main__":
    main()

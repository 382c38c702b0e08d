#!/usr/bin/python3
"""Derive the small tables of docs/theory.md from the sweep of run_sweep.sh.

    /usr/bin/python3 tools/theory/derive.py [DATADIR] [--out docs/data]

DATADIR (default /work/data/theory) holds sweep_k<K>_eta<E>.csv and
traj_k<K>_eta<E>/run_<i>.csv. Writes
  OUT/theory_runs.csv     one row per run: configuration, the tracker's
                          t1/t2 and switches, the events (tsrelu events API
                          on the run's record read back from its CSV), the
                          balance ratios and the balance excess over time;
  OUT/theory_summary.csv  per (k, m): medians (and min/max) over the
                          d x eta x seed runs.
All times are gradient-flow times eta*T. The thresholds are the constants
below; docs/theory.md quotes them.
"""
import argparse
import glob
import math
import os
import re
import sys

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))

EPS_ALIGN = 0.05      # rad: angle to the final teacher, below and staying below
EPS_DEFICIT = 0.05    # |H_l| <= EPS_DEFICIT |v_l|, and staying there
EPS_COND = 0.3        # rad: within this angle of the mean teacher direction = condensed
Q_NORM = 0.5          # norm reaching this fraction of its final value
DELTA_RATE = 0.1      # late-rate onset: local slope within this of the final fitted slope
EXCESS_TIMES = (3.0, 10.0, 30.0, 100.0)   # gradient-flow times at which the balance excess is read
BAND = (0.25, 4.0)
FREEZE_FROM = 100.0   # gradient-flow time from which the ratios' drift is measured


def sweep_runs(datadir):
    """(row of the sweep CSV, path of its trajectory) for every run."""
    out = []
    for path in sorted(glob.glob(os.path.join(datadir, "sweep_k*_eta*.csv"))):
        tag = re.match(r"sweep_(k\d+_eta[0-9.]+)\.csv", os.path.basename(path)).group(1)
        for _, r in pd.read_csv(path).iterrows():
            traj = os.path.join(datadir, "traj_" + tag, "run_%d.csv" % r["run"])
            out.append((r, traj))
    return out


def balance_over_time(tr, eta):
    """Per iterate: ratios m_l |w_i| / |v_l| with the groups of that iterate
    (|v_l| = a_i = b_l = 1 here: ratio = group_size * norm)."""
    tr = tr.assign(ratio=tr["group_size"] * tr["norm"] * tr["output_weight"].abs())
    by = tr.groupby("iteration")
    g = pd.DataFrame({"rmin": by["ratio"].min(), "rmax": by["ratio"].max(),
                      # balance excess: max over groups of mean(ratio^2) - 1
                      "excess": tr.assign(r2=tr["ratio"] ** 2).groupby(["iteration", "nearest"])["r2"].mean()
                      .groupby("iteration").max() - 1.0})
    g.index = g.index.astype(float) * eta
    return g


def at(series, t):
    """Value of a time-indexed series at the last recorded time <= t."""
    s = series[series.index <= t]
    return float(s.iloc[-1]) if len(s) else math.nan


def raw_row(r, tr):
    eta = float(r["eta"])
    tau = float(r["steps"]) * eta
    g = balance_over_time(tr, eta)
    late = g[g.index >= 100.0]
    row = {
        "k": int(r["k"]), "m": int(r["m"]), "d": int(r["d"]), "eta": eta, "seed": int(r["seed"]),
        "steps": int(r["steps"]), "flow_time": tau, "final_loss": float(r["final_loss"]),
        "late_slope": float(r["late_slope"]),
        "tracker_t1": float(r["t1"]) * eta if r["t1"] >= 0 else math.nan,
        "tracker_t2": float(r["t2"]) * eta if r["t2"] >= 0 else math.nan,
        "tracker_switches": int(r["switches"]),
        "groups_init": r["groups_init"], "groups": r["groups"],
        "ratio_min": float(r["ratio_min"]), "ratio_max": float(r["ratio_max"]),
        "ratio_min_late": float(late["rmin"].min()), "ratio_max_late": float(late["rmax"].max()),
    }
    for t in EXCESS_TIMES:
        row["excess_%g" % t] = at(g["excess"], t)
    row["excess_final"] = float(g["excess"].iloc[-1])
    # the largest change of one student's ratio from eta*T = 100 to the end
    tr = tr.assign(ratio=tr["group_size"] * tr["norm"] * tr["output_weight"].abs())
    it100 = tr.loc[tr["iteration"] * eta <= FREEZE_FROM, "iteration"].max()
    r100 = tr[tr["iteration"] == it100].set_index("student")["ratio"]
    rend = tr[tr["iteration"] == tr["iteration"].max()].set_index("student")["ratio"]
    row["ratio_drift_after_100"] = float((rend / r100 - 1.0).abs().max())
    # condensation onto the mean teacher direction: median angle over students
    med = tr.groupby("iteration")["angle_mean"].median()
    row["mean_dir_angle_min"] = float(med.min())
    row["mean_dir_angle_argmin"] = float(med.idxmin()) * eta
    return row


def event_row(r, traj):
    """The events of one run, by the library's events API (merged from the
    events branch). Filled in by events_columns()."""
    return events_columns(r, traj)


def events_columns(r, traj):  # replaced once the events API is merged
    return {}


def summary(runs):
    cols = [c for c in runs.columns if c not in ("k", "m", "d", "eta", "seed", "steps", "flow_time",
                                                   "groups_init", "groups")]
    rows = []
    for (k, m), g in runs.groupby(["k", "m"]):
        row = {"k": k, "m": m, "runs": len(g)}
        for c in cols:
            v = g[c].astype(float)
            row[c + "_median"] = float(v.median())
            row[c + "_min"] = float(v.min())
            row[c + "_max"] = float(v.max())
        rows.append(row)
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datadir", nargs="?", default="/work/data/theory")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "docs", "data"))
    a = ap.parse_args()
    rows = []
    for r, traj in sweep_runs(a.datadir):
        tr = pd.read_csv(traj)
        row = raw_row(r, tr)
        row.update(event_row(r, traj))
        rows.append(row)
    runs = pd.DataFrame(rows).sort_values(["k", "m", "d", "eta", "seed"], ascending=[True, True, True, False, True])
    os.makedirs(a.out, exist_ok=True)
    runs.to_csv(os.path.join(a.out, "theory_runs.csv"), index=False, float_format="%.6g")
    summary(runs).to_csv(os.path.join(a.out, "theory_summary.csv"), index=False, float_format="%.6g")
    print("%d runs -> %s/theory_runs.csv, theory_summary.csv" % (len(runs), a.out))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Derive the small tables of docs/theory.md from the sweep of run_sweep.sh.

    /usr/bin/python3 tools/theory/derive.py [DATADIR] [--out docs/data]

DATADIR (default /work/data/theory) holds sweep_k<K>_eta<E>.csv and
traj_k<K>_eta<E>/run_<i>.csv. Writes
  OUT/theory_runs.csv     one row per run: configuration, the tracker's
                          t1/t2 and switches, the events, the balance
                          ratios and the balance excess over time;
  OUT/theory_summary.csv  per (k, m): medians (and min/max) over the
                          d x eta x seed runs.
All times are gradient-flow times eta*T. The thresholds are the constants
below; docs/theory.md quotes them.

The events come from the library's events API (tsrelu.Record.event_times,
switches, rate_onset: docs/events.md), which reads a recorder in memory: each
run is therefore run again here through the Python binding, on the same
schedule (log, 20 per decade), and its record is checked against the sweep's
trajectory file (every iterate both hold: identical nearest teachers; norms and angles agree to 1e-9 relative) before its events are read. About 10 CPU-minutes.
"""
import argparse
import glob
import math
import os
import re
import sys
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
sys.path.insert(0, os.path.dirname(HERE))  # tools/: docblocks
import docblocks  # noqa: E402

EPS_ALIGN = 0.05      # rad: angle to the final teacher, below and staying below
EPS_DEFICIT = 0.05    # |H_l| <= EPS_DEFICIT |v_l|, and staying there
EPS_COND = (0.25, 0.5)  # rad: within this angle of the mean teacher direction = condensed
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


PER_DECADE = 20


def rerun(r):
    """The run of sweep row r again, with a recorder on the sweep's schedule."""
    import tsrelu
    k, m, d, seed = int(r["k"]), int(r["m"]), int(r["d"]), int(r["seed"])
    t = tsrelu.Teacher.orthogonal(k=k, d=d, norm=float(r["norm"]), seed=seed)
    s = tsrelu.Student.gaussian(m=m, d=d, sigma=float(r["sigma"]), seed=seed)
    gd = tsrelu.GD(t, s, eta=float(r["eta"]))
    steps = int(r["steps"])
    rec = gd.record(PER_DECADE * (len(str(steps)) + 1) + 2, per_decade=PER_DECADE)
    gd.run(steps)
    return rec


def same_as_file(rec, tr):
    """The record and the sweep's trajectory agree on every iterate both hold
    (nearest teachers exactly, norms and angles to 1e-9 relative: the batch
    API and a single GD round differently in the last bits)."""
    it = rec.iterations
    both = np.isin(it, tr["iteration"].unique())
    f = tr[tr["iteration"].isin(it)].sort_values(["iteration", "student"])
    for col, name in (("norm", "norm"), ("angle", "angle"), ("nearest", "nearest")):
        a = rec.student(name)[both].ravel()
        b = f[col].to_numpy(dtype=float)
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=1e-15, equal_nan=True):
            return False
    return both.sum() >= 0.9 * len(tr["iteration"].unique())


def event_row(r, tr):
    """The events of one run, by the library's events API, in eta*T."""
    import tsrelu
    rec = rerun(r)
    if not same_as_file(rec, tr):
        sys.exit("derive: run %d (k=%d m=%d d=%d eta=%g seed=%d): the rerun's record differs from its trajectory file"
                 % (r["run"], r["k"], r["m"], r["d"], r["eta"], r["seed"]))
    eta = float(r["eta"])
    q = tsrelu.event_quantile
    norm = rec.event_times("norm", Q_NORM, "first")
    share = rec.event_times("norm_share", Q_NORM, "first")
    align = rec.event_times("align", EPS_ALIGN, "settle")
    deficit = rec.event_times("deficit", EPS_DEFICIT, "settle")
    group = rec.event_times("group", None, "settle")
    sw = rec.switches()
    onset, slope = rec.rate_onset(DELTA_RATE)
    row = {
        "norm_half_median": q(norm, 0.5) * eta, "norm_half_max": q(norm, 1.0) * eta,
        "norm_share_median": q(share, 0.5) * eta,
        "deficit_median": q(deficit, 0.5) * eta, "deficit_max": q(deficit, 1.0) * eta,
        "align_median": q(align, 0.5) * eta, "align_max": q(align, 1.0) * eta,
        "group_settle_max": q(group, 1.0) * eta,
        "rate_onset": onset * eta, "final_slope": slope,
        "switches": len(sw), "switching_students": len(set(sw.student.tolist())),
        "last_switch": float(sw.time.max()) * eta if len(sw) else math.nan,
    }
    for eps in EPS_COND:
        cond = rec.event_times("mean", eps, "first")
        split = rec.event_times("mean", eps, "leave")
        tag = "%02d" % round(100 * eps)
        row["condensed_frac_%s" % tag] = float(np.mean(~np.isnan(cond)))
        row["condense_median_%s" % tag] = q(cond, 0.5) * eta
        row["split_median_%s" % tag] = q(split, 0.5) * eta
    return row


def summary(runs):
    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
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
            row[c + "_nan"] = int(v.isna().sum())
        rows.append(row)
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datadir", nargs="?", default="/work/data/theory")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "docs", "data"))
    ap.add_argument("--no-events", action="store_true", help="skip the reruns (no event columns)")
    ap.add_argument("--facts", action="store_true",
                    help="print the blocks docs/theory.md quotes, from OUT/theory_runs.csv (no runs)")
    ap.add_argument("--update-doc", metavar="MD",
                    help="rewrite the <!-- fact:NAME --> blocks of MD from OUT/theory_runs.csv (no runs)")
    a = ap.parse_args()
    if a.facts or a.update_doc:
        f = facts(load_runs(a.out))
        if a.update_doc:
            docblocks.update(a.update_doc, f, "fact")
        else:
            for name, text in f.items():
                print(docblocks.render("fact", name, text) + "\n")
        return
    rows = []
    todo = sweep_runs(a.datadir)
    for n, (r, traj) in enumerate(todo):
        tr = pd.read_csv(traj)
        row = raw_row(r, tr)
        if not a.no_events:
            row.update(event_row(r, tr))
        rows.append(row)
        print("\r%d/%d runs" % (n + 1, len(todo)), end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    runs = pd.DataFrame(rows).sort_values(["k", "m", "d", "eta", "seed"], ascending=[True, True, True, False, True])
    os.makedirs(a.out, exist_ok=True)
    runs.to_csv(os.path.join(a.out, "theory_runs.csv"), index=False, float_format="%.6g")
    summary(runs).to_csv(os.path.join(a.out, "theory_summary.csv"), index=False, float_format="%.6g")
    print("%d runs -> %s/theory_runs.csv, theory_summary.csv" % (len(runs), a.out))



# ---------------------------------------------------------------- facts
# The blocks of docs/theory.md sections 7 and 8 that quote the sweep, made
# from the committed tables: `derive.py --facts` prints them, and
# tests/integration/test_theory_data.py checks that docs/theory.md contains
# each one verbatim (so the docs cannot drift from the data).

def fmt(x):
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if x != x:
        return "never"
    return "%.3g" % x


def med_range(v):
    """median [min, max] of the runs that have the value; ", never in N"
    when N runs never had the event."""
    v = pd.Series(v, dtype=float)
    nn = int(v.isna().sum())
    if nn == len(v):
        return "never in %d" % nn
    return "%s [%s, %s]" % (fmt(v.median()), fmt(v.min()), fmt(v.max())) + (", never in %d" % nn if nn else "")


def facts(runs, lt3=None):
    """{name: markdown text} computed from theory_runs.csv (a DataFrame)."""
    warnings.simplefilter("ignore", RuntimeWarning)  # medians of all-NaN columns are NaN
    f = {}
    n = len(runs)
    # trends in m and k: medians over d x eta x seeds (27 runs each)
    cols = [("norm_half_median", "norm ½ (median student)"), ("deficit_max", "deficit ≤ 5 % (last teacher)"),
            ("align_median", "aligned (median student)"), ("align_max", "aligned (last student)"),
            ("rate_onset", "T⁻³ rate onset"), ("tracker_t1", "tracker t1 = t2")]
    lines = ["| k | m | runs | " + " | ".join(c[1] for c in cols) + " |",
             "|---|---|---|" + "---|" * len(cols)]
    for (k, m), g in runs.groupby(["k", "m"]):
        lines.append("| %d | %d | %d | " % (k, m, len(g)) + " | ".join(med_range(g[c]) for c, _ in cols) + " |")
    f["trend_table"] = "\n".join(lines)
    # the same per step size (the time axis is eta*T: these should agree if GD tracks gradient flow)
    lines = ["| k | m | η | " + " | ".join(c[1] for c in cols[:4]) + " |", "|---|---|---|" + "---|" * 4]
    for (k, m, eta), g in runs.groupby(["k", "m", "eta"]):
        lines.append("| %d | %d | %g | " % (k, m, eta) + " | ".join(fmt(g[c].median()) for c, _ in cols[:4]) + " |")
    f["eta_table"] = "\n".join(lines)
    # order of events, run by run
    order = (runs["norm_half_median"] < runs["deficit_max"]) & (runs["deficit_max"] < runs["align_max"])
    f["order"] = ("norm ½ (median) < deficit (last teacher) < aligned (last student) in %d of %d runs"
                  % (int(order.sum()), n))
    small = runs[runs["eta"] <= 0.01]
    chain = ((small["condense_median_50"] < small["norm_half_median"])
             & (small["norm_half_median"] < small["split_median_50"])
             & (small["split_median_50"] < small["deficit_max"]) & (small["deficit_max"] < small["align_max"]))
    f["order_small_eta"] = ("condense (0.5 rad, median) < norm ½ (median) < split (median) < deficit (last teacher) "
                            "< aligned (last student) in %d of the %d runs with η ≤ 0.01" % (int(chain.sum()),
                                                                                          len(small)))
    med_first = runs["align_median"] < runs["deficit_max"]
    f["align_vs_deficit"] = ("the median student is aligned before the last deficit settles in %d of %d runs "
                             "(%s)" % (int(med_first.sum()), n, ", ".join(
                                 "k=%d m=%d: %d of %d" % (k, m, int(g.sum()), len(g))
                                 for (k, m), g in med_first.groupby([runs["k"], runs["m"]]))))
    before = runs["deficit_max"] < runs["tracker_t1"]
    ratio = runs["tracker_t1"] / runs["deficit_max"]
    f["t1_t2"] = ("t1 = t2 in %d of %d runs; the deficit time is below t1 in %d of %d, t1 / deficit time %s "
                  "(median [min, max])" % (int((runs["tracker_t1"] == runs["tracker_t2"]).sum()), n,
                                           int(before.sum()), n, med_range(ratio)))
    # balance
    low, high = runs["ratio_min"] < 0.25, runs["ratio_max"] > 4.0
    f["band"] = ("at the end of the run the ratios m_l|w_i|/|v| span [%.3f, %.3f] over the %d runs; "
                 "%d runs have a ratio below 1/4 and %d above 4" % (runs["ratio_min"].min(),
                                                                  runs["ratio_max"].max(), n,
                                                                  int(low.sum()), int(high.sum())))
    lines = ["| k | m | d | η | seed | ratio min | ratio max | net switches (tracker) | aligned (last student) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for _, r in runs[low].sort_values("ratio_min").iterrows():
        lines.append("| %d | %d | %d | %g | %d | %.3f | %.3f | %d | %s |" % (
            r["k"], r["m"], r["d"], r["eta"], r["seed"], r["ratio_min"], r["ratio_max"], r["tracker_switches"],
            fmt(r["align_max"])))
    f["band_table"] = "\n".join(lines)
    # frozen imbalance
    lines = ["| k | m | excess at ηT = 3 | 10 | 30 | 100 | end (1000) | largest change of one ratio after ηT = 100 |",
             "|---|---|---|---|---|---|---|---|"]
    for (k, m), g in runs.groupby(["k", "m"]):
        lines.append("| %d | %d | %s |" % (k, m, " | ".join(
            fmt(g[c].median()) for c in ("excess_3", "excess_10", "excess_30", "excess_100", "excess_final")))
            + " %s |" % med_range(g["ratio_drift_after_100"]))
    f["frozen_table"] = "\n".join(lines)
    # condensation and split
    lines = ["| k | η | min angle to the mean direction (median run) | students within 0.25 rad | within 0.5 rad "
             "| condense (0.5, median student) | split (0.5, median student) |", "|---|---|---|---|---|---|---|"]
    for (k, eta), g in runs.groupby(["k", "eta"]):
        lines.append("| %d | %g | %s | %s | %s | %s | %s |" % (
            k, eta, fmt(g["mean_dir_angle_min"].median()), "%.0f %%" % (100 * g["condensed_frac_25"].mean()),
            "%.0f %%" % (100 * g["condensed_frac_50"].mean()), fmt(g["condense_median_50"].median()),
            fmt(g["split_median_50"].median())))
    f["condense_table"] = "\n".join(lines)
    # group switches
    f["switches"] = ("group switches per run (every change of a nearest teacher between recorded rows): "
                     "median %s, range %d–%d; runs with at least one: %d of %d; net switches (tracker): "
                     "median %s, range %d–%d" % (fmt(runs["switches"].median()), runs["switches"].min(),
                                                 runs["switches"].max(), int((runs["switches"] > 0).sum()), n,
                                                 fmt(runs["tracker_switches"].median()),
                                                 runs["tracker_switches"].min(), runs["tracker_switches"].max()))
    lines = ["| d | switches per run, median [min, max] | last switch ηT, median [min, max] |", "|---|---|---|"]
    for d, g in runs.groupby("d"):
        lines.append("| %d | %s | %s |" % (d, med_range(g["switches"]), med_range(g["last_switch"])))
    f["switch_table"] = "\n".join(lines)
    f["slopes"] = ("slope of log L over the last decade (ηT from 100 to 1000): %s for k = 2, %s for k = 4"
                   % (med_range(runs.loc[runs["k"] == 2, "final_slope"]),
                      med_range(runs.loc[runs["k"] == 4, "final_slope"])))
    return f


def load_runs(out):
    return pd.read_csv(os.path.join(out, "theory_runs.csv"))


if __name__ == "__main__":
    main()

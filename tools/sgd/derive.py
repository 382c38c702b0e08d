#!/usr/bin/python3
"""The tables of docs/theory.md section 10 (sampled training), from the
committed output of tools/sgd/measure.py (docs/data/sgd/runs.csv, traj.csv).

    /usr/bin/python3 tools/sgd/derive.py                       print every block
    /usr/bin/python3 tools/sgd/derive.py --update docs/theory.md   rewrite its blocks

A block of the doc is the text between <!-- sgd:NAME --> and <!-- /sgd -->;
tests/integration/test_sgd_theory_data.py checks that each equals what this
script computes. Numpy and pandas only (no library call).

Definitions (all on the exact population loss L of the iterates, at the rows
of the log schedule, 20 per decade; GD and SGD rows are at the same T):

  ratio R(T)    L_SGD(T) / L_GD(T), SGD and GD from the same initialisation
                with the same eta;
  departure     the first row T from which R stays above DEPART (= 2) to
                the end of the run; "never" if R <= 2 at the last row. This
                is "where the sampled loss stops following the exact T^-3
                curve";
  late slope    least-squares slope of log L on log T over the last decade
                of rows [T_end / 10, T_end] (eta*T from 1e3 to 1e4);
  late R        the largest R over the rows with eta*T >= LATE (= 100);
  samples to L  the first row T with L <= 1e-9 (1e-12), times B: the
                samples the run consumed to get there (resolution 12 %);
  times         events of docs/events.md (align 0.05 rad, deficit 0.05,
                for good; the tracker's t1) in gradient-flow units eta*T.
"""
import argparse
import os
import sys
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # tools/: docblocks
import docblocks  # noqa: E402

DATA = os.path.join(HERE, "..", "..", "docs", "data", "sgd")
DEPART = 2.0
LATE = 100.0
THRESHOLDS = (1e-9, 1e-12)


def load(datadir=DATA):
    runs = pd.read_csv(os.path.join(datadir, "runs.csv"), float_precision="round_trip")
    traj = pd.read_csv(os.path.join(datadir, "traj.csv"), float_precision="round_trip")
    return runs, traj


def slope(T, L, tmin, tmax):
    sel = (T >= tmin) & (T <= tmax) & (L > 0) & np.isfinite(L)
    if sel.sum() < 3:
        return np.nan
    return float(np.polyfit(np.log(T[sel]), np.log(L[sel]), 1)[0])


def first_below(T, L, thr):
    hit = np.nonzero(L <= thr)[0]
    return float(T[hit[0]]) if hit.size else np.nan


def departure(T, R):
    """First T from which R > DEPART to the end; NaN if R_end <= DEPART."""
    above = R > DEPART
    if not above[-1]:
        return np.nan
    below = np.nonzero(~above)[0]
    i = below[-1] + 1 if below.size else 0
    return float(T[i])


def per_run(runs, traj):
    """runs.csv plus the quantities derived from the trajectories."""
    tr = {r: (g["T"].to_numpy(float), g["L"].to_numpy(float)) for r, g in traj.groupby("run")}
    gd = {(r.k, r.m, r.eta): r.run for r in runs.itertuples() if r.kind == "gd"}
    out = runs.copy()
    cols = {c: [] for c in ("late_slope", "L_end", "R_end", "R_late_max", "R_max", "departure",
                            "T_1e-09", "T_1e-12", "GD_T_1e-09", "GD_T_1e-12")}
    div = []
    for r in runs.itertuples():
        T, L = tr[r.run]
        Tg, Lg = tr[gd[(r.k, r.m, r.eta)]]
        end = T[-1]
        # diverged: the library said so (TSRELU_EDIVERGED), or the run ended above its initial loss
        div.append(bool(not np.isnan(r.diverged_at) or not L[-1] <= L[0]))
        cols["L_end"].append(L[-1])
        cols["late_slope"].append(np.nan if div[-1] else slope(T, L, end / 10, end))
        for thr in THRESHOLDS:
            cols["T_%g" % thr].append(first_below(T, L, thr))
            cols["GD_T_%g" % thr].append(first_below(Tg, Lg, thr))
        if r.kind == "gd" or div[-1]:
            for c in ("R_end", "R_late_max", "R_max", "departure"):
                cols[c].append(np.nan)
            continue
        if not np.array_equal(T, Tg):
            raise SystemExit("derive: run %d has other rows than its GD run" % r.run)
        R = L / Lg
        ok = T >= 1
        cols["R_end"].append(float(R[-1]))
        cols["R_max"].append(float(R[ok].max()))
        late = R[r.eta * T >= LATE]
        cols["R_late_max"].append(float(late.max()) if late.size else np.nan)
        cols["departure"].append(departure(T[ok], R[ok]))
    out["diverged"] = div
    for c, v in cols.items():
        out[c] = v
    return out


def g3(x):
    """A number in 3 significant digits (NaN -> never)."""
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "never"
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e5:
        return ("%.3g" % x)
    return "%.2e" % x


def rng(s, f=g3):
    """min–max of a series (one value if equal; NaN -> never)."""
    s = pd.Series(s, dtype=float)
    if s.isna().all():
        return "never"
    lo, hi = s.min(), s.max()
    txt = f(lo) if f(lo) == f(hi) else ("%s to %s" if lo < 0 else "%s–%s") % (f(lo), f(hi))
    if s.isna().any():
        txt += " (%d never)" % int(s.isna().sum())
    return txt


def sl(x):
    return ("%.2f" % x).replace("-", "−")


def sci(x):
    if np.isnan(x):
        return "never"
    e = int(np.floor(np.log10(x)))
    return "%.1f·10^%d" % (x / 10 ** e, e)


def blocks(d):
    """{name: markdown} from per_run()."""
    warnings.simplefilter("ignore", RuntimeWarning)
    f = {}
    on = d[d.kind == "online"]
    gd = d[d.kind == "gd"].set_index(["k", "m", "eta"])
    # grid: the noise floor
    lines = ["| k | η | B | diverged | R at ηT = 10⁴ | largest R, ηT ≥ 100 | departure (R > 2 to the end) "
             "| late slope SGD | late slope GD |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (k, eta, B), g in on.groupby(["k", "eta", "batch"]):
        ok = g[~g.diverged]
        nd = len(g) - len(ok)
        div = "%d of %d" % (nd, len(g)) + (" (T = %s)" % rng(g.diverged_at) if g.diverged_at.notna().any() else "")
        dep = "never" if ok.empty or ok.departure.isna().all() else rng(ok.departure * eta)
        if ok.empty:
            lines.append("| %d | %g | %d | %s | – | – | – | – | %s |" % (k, eta, B, div, sl(gd.loc[(k, 20, eta)].late_slope)))
            continue
        lines.append("| %d | %g | %d | %s | %s | %s | %s | %s | %s |"
                     % (k, eta, B, div, rng(ok.R_end), rng(ok.R_late_max), dep,
                        rng(ok.late_slope, sl), sl(gd.loc[(k, 20, eta)].late_slope)))
    f["floor_table"] = "\n".join(lines)
    # samples to a loss
    lines = ["| k | η | B | samples to L ≤ 10⁻⁹ | steps SGD / GD | samples to L ≤ 10⁻¹² | steps SGD / GD |",
             "|---|---|---|---|---|---|---|"]
    for (k, eta, B), g in on.groupby(["k", "eta", "batch"]):
        ok = g[~g.diverged]
        if ok.empty:
            continue
        cells = []
        for thr in THRESHOLDS:
            c = "T_%g" % thr
            cells.append(rng(ok[c] * B, sci))
            cells.append(rng(ok[c] / ok["GD_" + c], lambda x: "%.2f" % x))
        lines.append("| %d | %g | %d | %s |" % (k, eta, B, " | ".join(cells)))
    f["samples_table"] = "\n".join(lines)
    # phases and balance, SGD beside GD (GD: the "exact" rows)
    cols = [("t1", "tracker t1 = t2"), ("align_median", "aligned (median student)"),
            ("align_max", "aligned (last student)"), ("deficit_max", "deficit ≤ 5 % (last teacher)"),
            ("switches", "switches"), ("ratio_min", "ratio min"), ("ratio_max", "ratio max"),
            ("excess_max", "excess max")]
    times = {"t1", "align_median", "align_max", "deficit_max"}
    lines = ["| k | η | B | " + " | ".join(c[1] for c in cols) + " |", "|---|---|---|" + "---|" * len(cols)]
    for (k, eta), gg in d[d.kind.isin(["gd", "online"])].groupby(["k", "eta"]):
        for B, g in gg.groupby("batch"):
            ok = g[~g.diverged]
            if ok.empty:
                continue
            cells = []
            for c, _ in cols:
                v = ok[c] * (eta if c in times else 1.0)
                if c == "switches":
                    cells.append(rng(v, lambda x: "%d" % x))
                elif c in times:
                    cells.append(rng(v))
                else:
                    cells.append(rng(v, lambda x: "%.3f" % x))
            lines.append("| %d | %g | %s | " % (k, eta, "exact" if B == 0 else "%d" % B) + " | ".join(cells) + " |")
    f["phase_table"] = "\n".join(lines)
    # finite training sets
    tr = d[d.kind == "train"]
    lines = ["| k | n | B | departure ηT (R > 2 to the end) | L at ηT = 10⁴ | exact GD there | late slope "
             "| training loss at the end |",
             "|---|---|---|---|---|---|---|---|"]
    for (k, n, B), g in tr.groupby(["k", "n_train", "batch"]):
        Lg = gd.loc[(k, 20, float(g.eta.iloc[0]))].L_end  # the exact run at the sets' eta
        lines.append("| %d | %d | %s | %s | %s | %s | %s | %s |"
                     % (k, n, "n (full)" if B == n else "%d" % B, rng(g.departure * g.eta.iloc[0]),
                        rng(g.L_end), g3(Lg), rng(g.late_slope, sl), rng(g.train_loss_end)))
    f["train_table"] = "\n".join(lines)
    # sentences
    nd = on.diverged
    f["diverged"] = ("%d of %d online runs diverged: %s"
                     % (int(nd.sum()), len(on), ", ".join("k = %d, η = %g, B = %d (%d of %d)"
                                                       % (k, eta, B, int(g.diverged.sum()), len(g))
                                                       for (k, eta, B), g in on.groupby(["k", "eta", "batch"])
                                                       if g.diverged.any())))
    ok = on[~nd]
    f["departed"] = ("of the %d online runs that did not diverge, %d depart (R > 2 from some row to the end); "
                     "R at ηT = 10⁴ spans %s, the late slope %s (exact GD: %s)"
                     % (len(ok), int(ok.departure.notna().sum()), rng(ok.R_end), rng(ok.late_slope, sl),
                        rng(d[d.kind == "gd"].late_slope, sl)))
    good = ok[ok.departure.isna()]
    f["tracking"] = ("the other %d online runs: R at ηT = 10⁴ %s, largest R over ηT ≥ 100 %s, late slope %s; "
                     "steps to L ≤ 10⁻⁹ over the exact run's %s"
                     % (len(good), rng(good.R_end), rng(good.R_late_max), rng(good.late_slope, sl),
                        rng(good["T_1e-09"] / good["GD_T_1e-09"], lambda x: "%.2f" % x)))
    lines = []
    ex = d[d.kind == "gd"]
    for k in sorted(d.k.unique()):
        e, g = ex[ex.k == k], good[good.k == k]
        lines.append("k = %d: tracker t1 %s exact, %s sampled; last deficit closes at %s exact, %s sampled; "
                     "switches %s exact, %s sampled; balance ratios [%s, %s] exact, [%s, %s] sampled, "
                     "%d of %d sampled runs below 1/4, %d above 4"
                     % (k, rng(e.t1 * e.eta), rng(g.t1 * g.eta), rng(e.deficit_max * e.eta),
                        rng(g.deficit_max * g.eta), rng(e.switches, lambda x: "%d" % x),
                        rng(g.switches, lambda x: "%d" % x), "%.3f" % e.ratio_min.min(), "%.3f" % e.ratio_max.max(),
                        "%.3f" % g.ratio_min.min(), "%.3f" % g.ratio_max.max(), int((g.ratio_min < 0.25).sum()),
                        len(g), int((g.ratio_max > 4).sum())))
    f["phase_summary"] = "\n".join(lines)
    order = lambda g: int(((g.deficit_max < g.align_median) & (g.align_median < g.align_max)).sum())  # noqa: E731
    f["order"] = ("last deficit closes < median student aligns < last student aligns: in %d of %d tracking "
                  "sampled runs and %d of %d exact runs; balance excess at the end %s sampled, %s exact"
                  % (order(good), len(good), order(ex), len(ex), rng(good.excess_max, lambda x: "%.3f" % x),
                     rng(ex.excess_max, lambda x: "%.3f" % x)))
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--update", metavar="DOC", help="rewrite the sgd blocks of this markdown file")
    a = ap.parse_args()
    f = blocks(per_run(*load(a.data)))
    if a.update:
        docblocks.update(a.update, f, "sgd")
        return
    for name, body in f.items():
        print(docblocks.render("sgd", name, body) + "\n")


if __name__ == "__main__":
    main()

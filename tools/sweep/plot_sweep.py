#!/usr/bin/python3
"""Figures from a tsrelu-sweep CSV (and its --trajectories directory).

    /usr/bin/python3 tools/sweep/plot_sweep.py SWEEP.csv [--trajectories DIR] [--out PREFIX]

Writes, each as PNG and PDF (PREFIX defaults to SWEEP.csv without .csv):
  PREFIX_events   t1 and t2 (the phase times in the CSV) against m, one line
                  per k (and per other varying configuration column): median
                  over the seeds that reached the phase, bars from min to max;
  PREFIX_balance  the balance ratios of each configuration against m: a bar
                  from the smallest ratio_min to the largest ratio_max over
                  its seeds, the median of each end marked, with the band
                  [1/4, 4] shaded;
  PREFIX_loss     (only with --trajectories DIR) the loss against T on
                  log-log axes for each configuration: a thin line per seed,
                  the median over seeds thick, and C T^-3 (dashed) with C
                  fitted to the median over the last decade of the run.
A configuration is a set of values of the grid axes other than seed. Needs
Debian's python3-matplotlib; draws with the Agg backend (no display).
"""
import argparse
import csv
import math
import os
import statistics
import sys

CONFIG = ["teacher", "norm", "k", "m", "d", "sigma", "eta", "eps_align", "eps_deficit", "steps"]
NEEDED = CONFIG + ["run", "seed", "status", "iterations", "t1", "t2", "ratio_min", "ratio_max"]
BAND = (0.25, 4.0)


class Error(Exception):
    pass


def load_sweep(path):
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in NEEDED if c not in header]
            if missing or header[:1] != ["run"]:
                raise Error(f"{path}: not a tsrelu-sweep CSV (missing columns: {', '.join(missing) or 'run first'})")
            rows = list(reader)
    except OSError as e:
        raise Error(f"{path}: {e.strerror}")
    except (csv.Error, UnicodeDecodeError) as e:
        raise Error(f"{path}: not a tsrelu-sweep CSV ({e})")
    if not rows:
        raise Error(f"{path}: no runs recorded")
    for n, r in enumerate(rows, 2):
        if None in r or any(v is None for v in r.values()):
            raise Error(f"{path}:{n}: wrong number of columns")
    return rows


def num(s):
    """A CSV number; nan for text that is not one (an unreached phase is -1)."""
    try:
        return float(s)
    except ValueError:
        return math.nan


def varying(rows, cols):
    return [c for c in cols if len({r[c] for r in rows}) > 1]


def sort_key(key):
    return [(0, num(v), "") if not math.isnan(num(v)) else (1, 0.0, v) for v in key]


def group(rows, cols):
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in cols), []).append(r)
    return {k: groups[k] for k in sorted(groups, key=sort_key)}


def label(cols, key):
    return ", ".join(f"{c}={v}" for c, v in zip(cols, key)) or "all runs"


def m_ticks(ax, rows):
    """The grid's m values as plain tick labels on a log m axis."""
    ms = sorted({num(r["m"]) for r in rows})
    ax.set_xticks(ms)
    ax.set_xticklabels([f"{m:g}" for m in ms])
    ax.minorticks_off()


def save(fig, prefix, name):
    out = []
    for ext in ("png", "pdf"):
        path = f"{prefix}_{name}.{ext}"
        fig.savefig(path, dpi=150 if ext == "png" else None)
        out.append(path)
    print("wrote " + " ".join(out))


def read_loss(path):
    """Iterations and losses of a trajectory file (the loss repeats on the
    m lines of an iterate: the first is taken)."""
    its, loss = [], []
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "iteration" not in reader.fieldnames or "loss" not in reader.fieldnames:
            raise Error(f"{path}: not a trajectory file (tsrelu_record_write_csv)")
        for r in reader:
            t = int(r["iteration"])
            if not its or its[-1] != t:
                its.append(t)
                loss.append(float(r["loss"]))
    return its, loss


def plot_loss(plt, rows, traj, prefix):
    cfg = varying(rows, CONFIG)
    fig, ax = plt.subplots(figsize=(7, 5))
    drawn = skipped = 0
    for n, (key, runs) in enumerate(group(rows, cfg).items()):
        color = f"C{n % 10}"
        curves = []
        for r in runs:
            path = os.path.join(traj, f"run_{r['run']}.csv")
            if not os.path.exists(path):
                skipped += 1
                continue
            its, loss = read_loss(path)
            pts = [(t, v) for t, v in zip(its, loss) if t > 0 and v > 0 and math.isfinite(v)]
            if pts:
                ax.plot(*zip(*pts), color=color, lw=0.5, alpha=0.35)
                curves.append(dict(pts))
        if not curves:
            continue
        drawn += 1
        ts = sorted(set().union(*curves))
        med = [(t, statistics.median(c[t] for c in curves if t in c)) for t in ts]
        ax.plot(*zip(*med), color=color, lw=2, label=label(cfg, key))
        end = ts[-1]
        late = [(t, v) for t, v in med if t >= end / 10]
        if len(late) >= 2:
            # least squares in log-log with the slope fixed at -3
            logc = statistics.mean(math.log(v) + 3 * math.log(t) for t, v in late)
            lo = max(ts[0], end / 100)
            ax.plot([lo, end], [math.exp(logc) * lo ** -3, math.exp(logc) * end ** -3], color=color, lw=1,
                    ls="--")
    if drawn == 0:
        raise Error(f"{traj}: no trajectory file of this sweep (run it with --trajectories {traj})")
    if skipped:
        print(f"plot_sweep: {skipped} runs without a trajectory file in {traj} (not drawn)", file=sys.stderr)
    ax.plot([], [], color="k", lw=1, ls="--", label=r"$C\,T^{-3}$ (fit to the last decade)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("iteration T")
    ax.set_ylabel("loss L(T)")
    ax.set_title("Loss: median over seeds (thick), each seed (thin)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, prefix, "loss")
    plt.close(fig)


def plot_events(plt, rows, prefix):
    lines = ["k"] + [c for c in varying(rows, CONFIG) if c not in ("k", "m")]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    any_point = False
    for ax, col, name in zip(axes, ("t1", "t2"), ("t1 (end of phase 1)", "t2 (end of phase 2)")):
        for n, (key, runs) in enumerate(group(rows, lines).items()):
            ms, med, lo, hi = [], [], [], []
            for m, rs in group(runs, ["m"]).items():
                reached = [num(r[col]) for r in rs if num(r[col]) >= 0]
                if reached:
                    ms.append(num(m[0]))
                    med.append(statistics.median(reached))
                    lo.append(med[-1] - min(reached))
                    hi.append(max(reached) - med[-1])
            if ms:
                any_point = True
                ax.errorbar(ms, med, yerr=[lo, hi], color=f"C{n % 10}", marker="o", ms=4, capsize=3,
                            label=label(lines, key))
        ax.set_xscale("log")
        m_ticks(ax, rows)
        ax.set_xlabel("m (students)")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    if any_point:
        axes[0].set_yscale("log")
        axes[0].legend(fontsize=7)
    else:
        for ax in axes:
            ax.text(0.5, 0.5, "no run reached a phase", ha="center", transform=ax.transAxes)
    axes[0].set_ylabel("iteration (median over seeds, bars min to max)")
    fig.tight_layout()
    save(fig, prefix, "events")
    plt.close(fig)


def plot_balance(plt, rows, prefix):
    lines = ["k"] + [c for c in varying(rows, CONFIG) if c not in ("k", "m")]
    groups = group(rows, lines)
    fig, ax = plt.subplots(figsize=(7, 5))
    ax.axhspan(*BAND, color="0.9", zorder=0, label="band [1/4, 4]")
    for y in BAND:
        ax.axhline(y, color="0.5", lw=0.8, ls="--", zorder=0)
    width = 0.15
    for n, (key, runs) in enumerate(groups.items()):
        shift = 10 ** (width * (n - (len(groups) - 1) / 2) / 4)  # side by side on the log m axis
        first = True
        for m, rs in group(runs, ["m"]).items():
            rmin = [num(r["ratio_min"]) for r in rs if math.isfinite(num(r["ratio_min"]))]
            rmax = [num(r["ratio_max"]) for r in rs if math.isfinite(num(r["ratio_max"]))]
            if not rmin or not rmax:
                continue
            x = num(m[0]) * shift
            ax.plot([x, x], [min(rmin), max(rmax)], color=f"C{n % 10}", lw=3, alpha=0.6,
                    label=label(lines, key) if first else None)
            ax.plot([x, x], [statistics.median(rmin), statistics.median(rmax)], ls="none", marker="_",
                    ms=10, color=f"C{n % 10}")
            first = False
    ax.set_xscale("log")
    ax.set_yscale("log")
    m_ticks(ax, rows)
    ax.set_xlabel("m (students)")
    ax.set_ylabel("balance ratio (range over seeds; ticks: medians)")
    ax.set_title("Balance ratios at the end of each run")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save(fig, prefix, "balance")
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="the CSV written by tsrelu-sweep --out")
    ap.add_argument("--trajectories", metavar="DIR", help="the directory given to tsrelu-sweep --trajectories")
    ap.add_argument("--out", metavar="PREFIX", help="output prefix (default: CSV without .csv)")
    a = ap.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_sweep: needs matplotlib (Debian: apt install python3-matplotlib; run /usr/bin/python3)")
    prefix = a.out or (a.csv[:-4] if a.csv.endswith(".csv") else a.csv)
    try:
        rows = load_sweep(a.csv)
        if a.trajectories and not os.path.isdir(a.trajectories):
            raise Error(f"--trajectories: '{a.trajectories}' is not a directory")
        if a.trajectories:  # first: a wrong DIR fails before any file is written
            plot_loss(plt, rows, a.trajectories, prefix)
        plot_events(plt, rows, prefix)
        plot_balance(plt, rows, prefix)
    except (Error, OSError) as e:
        sys.exit(f"plot_sweep: {e}")


if __name__ == "__main__":
    main()

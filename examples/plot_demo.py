#!/usr/bin/python3
"""Render the figure of `make demo` from the CSV files paper_demo wrote.

usage: /usr/bin/python3 examples/plot_demo.py DIR   (writes DIR/figure.png)

Panels: (a) loss against step on log-log axes with a c*T^-3 reference line,
(b) the largest student-teacher angle, (c) the balance ratios
m_l |w_i| / |v_l| (min and max over all groups; the paper's band [1/4, 4]
dashed), (d) the projection deficits |H_l|, (e) the events of each
configuration on one gradient-flow time axis (events.csv: median over the
seeds as in the demo's table, bars from min to max of the seeds that have it), (f) every student's angle to its nearest
teacher and its norm in one event run (record_events_k4_m20.csv, coloured
by final teacher), (g) the gradient flow of the Figure-1 configurations to
t = 1e10 with C t^-3 lines and (h) the Hessian spectrum where it ends
(flow_demo's flow_*.csv and spectrum_*.csv, drawn by plot_flow.py's
flow_panels), (i) exact GD and online SGD at B = 512 from the same start
and eta for the Figure-1 configurations (sgd_*.txt, outputs of
build/examples/sgd --out, drawn by plot_sgd.py's sgd_panel). (e)-(i) are
left out when their files are missing.
"""
import csv
import glob
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    cols = {k: [float(r[k]) for r in rows] for k in rows[0]}
    return cols


def label(path):
    name = os.path.basename(path)[4:-4]  # run_k4_m20[_contrast].csv
    parts = name.split("_")
    text = f"k={parts[0][1:]}, m={parts[1][1:]}"
    return text + (" (m = k)" if "contrast" in name else "")


# Events of events.csv, in the order they happen, with a marker each.
EVENT_STYLE = [
    ("norm_half", "o", "norm ½ of final (median student)"),
    ("condense", "v", "within 0.5 rad of mean teacher direction (median)"),
    ("split", "^", "leaves that cone for good (median)"),
    ("deficit", "s", "|H_l| ≤ 0.05|v| (last teacher)"),
    ("align_median", "D", "angle ≤ 0.05 to final teacher (median)"),
    ("align_max", "P", "angle ≤ 0.05 (last student)"),
    ("rate_onset", "*", "onset of the T⁻³ rate"),
]


def events_panel(ax, path):
    """(e): per configuration, the median over seeds of each event time
    (gradient-flow time), with a bar from the smallest to the largest seed."""
    if not os.path.exists(path):
        ax.set_visible(False)
        return
    rows = list(csv.DictReader(open(path)))
    configs = sorted({(int(r["k"]), int(r["m"])) for r in rows})
    for y, (k, m) in enumerate(configs):
        for n, (ev, marker, text) in enumerate(EVENT_STYLE):
            # as the demo's table (tsrelu_event_quantile): a never counts as
            # later than every time, the lower median; no marker if it is a never
            ts = sorted((float(r["time"]) for r in rows if (int(r["k"]), int(r["m"])) == (k, m)
                         and r["event"] == ev), key=lambda x: math.inf if math.isnan(x) else x)
            if not ts or math.isnan(ts[(len(ts) - 1) // 2]):
                continue
            med = ts[(len(ts) - 1) // 2]
            ts = [x for x in ts if not math.isnan(x)]
            off = y + 0.08 * (n - len(EVENT_STYLE) / 2)
            ax.plot([ts[0], ts[-1]], [off, off], color=f"C{n}", lw=1, alpha=0.6)
            ax.plot([med], [off], marker=marker, color=f"C{n}", ls="none", ms=7,
                    label=text if y == 0 else None)
    ax.set_xscale("log")
    ax.set_yticks(range(len(configs)))
    ax.set_yticklabels([f"k={k}, m={m}" for k, m in configs])
    ax.set(xlabel=r"gradient-flow time $\eta T$ (event runs: see the demo's event table)",
           title="(e) events: median over seeds (bar: min to max)")
    ax.grid(True, axis="x", which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", framealpha=0.9)
    ax.set_ylim(-0.5, len(configs) + 1.6)


def student_panel(fa, fn, out):
    """(f): angle to the nearest teacher and norm of every student of one
    event run (its step size from events.csv)."""
    path = os.path.join(out, "record_events_k4_m20.csv")
    if not os.path.exists(path):
        fa.set_visible(False)
        fn.set_visible(False)
        return
    rows = list(csv.DictReader(open(path)))
    eta = next(float(r["eta"]) for r in csv.DictReader(open(os.path.join(out, "events.csv")))
               if (r["k"], r["m"]) == ("4", "20"))
    last = max(int(r["iteration"]) for r in rows)
    final = {r["student"]: int(r["nearest"]) for r in rows if int(r["iteration"]) == last}
    for i, tch in sorted(final.items(), key=lambda x: int(x[0])):
        mine = [r for r in rows if r["student"] == i and int(r["iteration"]) > 0]
        t = [eta * int(r["iteration"]) for r in mine]
        fa.loglog(t, [max(float(r["angle"]), 1e-6) for r in mine], color=f"C{tch}", lw=0.7)
        fn.loglog(t, [float(r["norm"]) for r in mine], color=f"C{tch}", lw=0.7)
        fa.loglog(t, [float(r["angle_mean"]) for r in mine], color="grey", lw=0.4, alpha=0.5)
    fa.set_ylabel("angle [rad]")
    fa.set_title(f"(f) k=4, m=20, seed 1, eta={eta:g}, every student (colour: final teacher):\n"
                 "angle to nearest teacher (grey: to the mean teacher direction), norm", fontsize=10)
    fn.set(xlabel=r"gradient-flow time $\eta T$", ylabel=r"$|w_i|$")
    fa.tick_params(labelbottom=False)
    for x in (fa, fn):
        x.grid(True, which="major", alpha=0.3)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    runs = sorted(glob.glob(os.path.join(out, "run_*.csv")))
    if not runs:
        sys.exit(f"plot_demo: no run_*.csv in {out}")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import plot_flow  # noqa: E402  (the gradient-flow panels)
    import plot_sgd  # noqa: E402  (exact GD beside online SGD)
    flow = bool(plot_flow.runs(out))
    sgd = sorted(glob.glob(os.path.join(out, "sgd_*.txt")))
    rows = 3 + bool(flow) + bool(sgd)
    fig = plt.figure(figsize=(12, 4.5 * rows))
    gs = fig.add_gridspec(rows, 2)
    a, b = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])
    c, d = fig.add_subplot(gs[1, 0]), fig.add_subplot(gs[1, 1])
    e = fig.add_subplot(gs[2, 0])
    fa, fn = (fig.add_subplot(x) for x in gs[2, 1].subgridspec(2, 1, hspace=0.05))
    ref = None
    for path in runs:
        r = read(path)
        lab = label(path)
        pos = [i for i, t in enumerate(r["step"]) if t > 0]
        t = [r["step"][i] for i in pos]
        line, = a.loglog(t, [max(r["loss"][i], 1e-32) for i in pos], label=lab)
        col = line.get_color()
        b.loglog(t, [max(r["max_angle"][i], 1e-18) for i in pos], color=col, label=lab)
        c.semilogx(t, [r["ratio_min"][i] for i in pos], color=col, label=lab)
        c.semilogx(t, [r["ratio_max"][i] for i in pos], color=col, ls=":")
        hs = [k for k in r if k.startswith("H")]
        for j, h in enumerate(hs):
            d.loglog(t, [max(abs(r[h][i]), 1e-18) for i in pos], color=col,
                     label=lab if j == 0 else None, lw=0.8)
        if "contrast" not in path and ref is None:
            ref = (t, r["loss"][pos[-1]] * t[-1] ** 3)
    if ref:
        ts, cst = ref
        t0 = [x for x in ts if x >= ts[-1] / 1e3]
        a.loglog(t0, [cst * x ** -3 for x in t0], "k--", lw=1.5, label=r"$c\,T^{-3}$")
    a.set(xlabel="GD step T", ylabel="population loss (quad precision)",
          title="(a) excess risk")
    b.set(xlabel="GD step", ylabel="max_i angle(w_i, nearest teacher) [rad]",
          title="(b) alignment")
    c.axhline(0.25, color="grey", ls="--", lw=0.8)
    c.axhline(4.0, color="grey", ls="--", lw=0.8)
    c.axhline(1.0, color="grey", lw=0.5)
    c.set_yscale("log")
    c.set(xlabel="GD step", ylabel=r"$m_l\,|w_i| / |v_l|$ (solid min, dotted max)",
          title="(c) balance within groups")
    d.set(xlabel="GD step", ylabel=r"$|H_l|$", title="(d) projection deficit per teacher")
    for x in (a, b, c, d):
        x.grid(True, which="major", alpha=0.3)
        x.legend(fontsize=8)
    events_panel(e, os.path.join(out, "events.csv"))
    student_panel(fa, fn, out)
    if flow:
        plot_flow.flow_panels(fig.add_subplot(gs[3, 0]), fig.add_subplot(gs[3, 1]), out)
    if sgd:
        i = fig.add_subplot(gs[rows - 1, :])
        plot_sgd.sgd_panel(i, sgd)
        i.set_title("(i) " + i.get_title())
        i.grid(True, which="major", alpha=0.3)
    fig.suptitle("libtsrelu: exact population GD" + (" (and online SGD in (i))" if sgd else "")
                 + ", orthogonal unit teachers (Zhu, Liu, Cevher, ICLR 2025, Figure 1 setting)")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / (4.5 * rows)))
    path = os.path.join(out, "figure.png")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


if __name__ == "__main__":
    main()

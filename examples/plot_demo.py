#!/usr/bin/python3
"""Render the figure of `make demo` from the CSV files paper_demo wrote.

usage: /usr/bin/python3 examples/plot_demo.py DIR   (writes DIR/figure.png)

Panels: (a) loss against step on log-log axes with a c*T^-3 reference line,
(b) the largest student-teacher angle, (c) the balance ratios
m_l |w_i| / |v_l| (min and max over all groups; the paper's band [1/4, 4]
dashed), (d) the projection deficits |H_l|.
"""
import csv
import glob
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


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    runs = sorted(glob.glob(os.path.join(out, "run_*.csv")))
    if not runs:
        sys.exit(f"plot_demo: no run_*.csv in {out}")
    fig, ax = plt.subplots(2, 2, figsize=(12, 9))
    (a, b), (c, d) = ax
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
    fig.suptitle("libtsrelu: exact population GD, orthogonal unit teachers "
                 "(Zhu, Liu, Cevher, ICLR 2025, Figure 1 setting)")
    fig.tight_layout()
    path = os.path.join(out, "figure.png")
    fig.savefig(path, dpi=110)
    print(f"figure written to {path}")


if __name__ == "__main__":
    main()

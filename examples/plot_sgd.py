#!/usr/bin/python3
"""Draw exact GD and online SGD on one figure from outputs of examples/sgd.c.

usage: /usr/bin/python3 examples/plot_sgd.py OUT.png RUN.txt [RUN.txt ...]

Each RUN.txt is the standard output of build/examples/sgd (its first line
names the configuration). Solid: the population loss of the exact GD
iterate; dashed: the population loss of the SGD iterate (same start, same
eta); dotted grey: C T^-3 through the last exact point of each run.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        title = f.readline().lstrip("# ").strip()
        f.readline()
        rows = [list(map(float, line.split())) for line in f if line.strip()]
    return title, rows


def sgd_panel(ax, paths):
    """Draw the runs of `paths` (outputs of build/examples/sgd) on ax; also
    used by examples/plot_demo.py for its panel (i)."""
    title = ""
    for i, path in enumerate(paths):
        title, rows = read(path)
        T = [r[0] for r in rows]
        c = "C%d" % i
        label = title.split(" sigma")[0]
        ax.loglog(T, [r[1] for r in rows], "-", color=c, label=label + ", exact GD")
        ax.loglog(T, [r[2] for r in rows], "--", color=c, label=label + ", SGD")
        C = rows[-1][1] * rows[-1][0] ** 3
        tail = [t for t in T if t >= T[-1] / 100]
        ax.loglog(tail, [C / t ** 3 for t in tail], ":", color="grey")
    batch = title.split("batch ")[1].split()[0] if "batch " in title else "?"
    ax.set_xlabel("iteration T")
    ax.set_ylabel("population loss L (quad precision)")
    ax.set_title("exact GD (solid) and online SGD, B = %s (dashed); dotted: T^-3" % batch)
    ax.legend(fontsize=7)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    fig, ax = plt.subplots(figsize=(7, 5))
    sgd_panel(ax, sys.argv[2:])
    fig.tight_layout()
    fig.savefig(sys.argv[1], dpi=110)
    print("wrote", sys.argv[1])


if __name__ == "__main__":
    main()

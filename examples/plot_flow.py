#!/usr/bin/python3
"""Render the gradient-flow panels of `make demo` from what flow_demo wrote.

usage: /usr/bin/python3 examples/plot_flow.py DIR   (writes DIR/flow.png)

Panels: (a) L(t) of the gradient flow for the Figure-1 configurations on
log-log axes, out to t = 1e10, each with a C t^-3 line fitted to its last
decade and drawn over the whole late range; (b) the Hessian spectrum (in W)
where each run ends, sorted |eigenvalues| on a log scale, with k*d (the
number of non-flat directions at an over-parameterised global minimum,
docs/secondorder.md) marked.

plot_demo.py calls flow_panels() to add the same two panels, (g) and (h),
to figure.png.
"""
import csv
import glob
import math
import os
import sys


def _read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]} if rows else {}


def _km(path):
    name = os.path.basename(path).split(".")[0]  # flow_k4_m20
    k, m = name.split("_")[1:3]
    return int(k[1:]), int(m[1:])


def runs(out):
    """[(k, m, flow columns, eigenvalues or None)] for the flow_*.csv in out."""
    found = []
    for path in sorted(glob.glob(os.path.join(out, "flow_k*_m*.csv")), key=_km):
        k, m = _km(path)
        flow = _read(path)
        spec_path = os.path.join(out, "spectrum_k%d_m%d.csv" % (k, m))
        spec = _read(spec_path)["eigenvalue"] if os.path.exists(spec_path) else None
        if flow:
            found.append((k, m, flow, spec))
    return found


def flow_panels(ax_loss, ax_spec, out, d=16):
    """Draw panel (a) into ax_loss and (b) into ax_spec; False if out has no
    flow data."""
    data = runs(out)
    if not data:
        return False
    for k, m, flow, spec in data:
        t = [x for x in flow["t"] if x > 0]
        L = [y for x, y in zip(flow["t"], flow["loss"]) if x > 0]
        line, = ax_loss.loglog(t, L, label="k=%d, m=%d" % (k, m))
        # C t^-3 through the last decade: C = median of L t^3 over it
        late = sorted(y * x ** 3 for x, y in zip(t, L) if x >= t[-1] / 10)
        if late and t[-1] >= 1e4:
            C = late[len(late) // 2]
            tt = [x for x in t if x >= 100]
            ax_loss.loglog(tt, [C * x ** -3 for x in tt], ls=":", color=line.get_color(), lw=1)
        if spec:
            mags = sorted((abs(x) for x in spec), reverse=True)
            ax_spec.semilogy(range(1, len(mags) + 1), [max(x, 1e-300) for x in mags], ".", ms=3,
                             color=line.get_color(), label="k=%d, m=%d (k d = %d)" % (k, m, k * d))
            ax_spec.axvline(k * d + 0.5, color=line.get_color(), ls="--", lw=0.8)
    ax_loss.set_xlabel("flow time t (GD iteration T = t / eta)")
    ax_loss.set_ylabel("L(t)")
    ax_loss.set_title("(g) gradient flow (CVODE) to t = %g; dotted: C t^-3" % max(data[0][2]["t"]))
    ax_loss.legend(fontsize=8)
    ax_spec.set_xlabel("eigenvalue index (by |lambda|, descending)")
    ax_spec.set_ylabel("|lambda| of the Hessian in W")
    ax_spec.set_title("(h) Hessian spectrum where the flow ends; dashed: k d")
    ax_spec.legend(fontsize=8)
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = sys.argv[1]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    if not flow_panels(ax[0], ax[1], out):
        sys.exit("plot_flow: no flow_k*_m*.csv in %s (run build/examples/flow_demo --out %s)" % (out, out))
    fig.tight_layout()
    path = os.path.join(out, "flow.png")
    fig.savefig(path, dpi=110)
    print("plot_flow: wrote", path)
    if not all(math.isfinite(v) for _, _, f, _ in runs(out) for v in f["loss"]):
        sys.exit("plot_flow: non-finite loss in the data")


if __name__ == "__main__":
    main()

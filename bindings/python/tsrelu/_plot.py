"""tsrelu.plot(record): the paper's panels for one recorded run, drawn with
matplotlib (Debian: python3-matplotlib), which is imported only here."""
import numpy as np


def _late_line(t, L):
    """C t^-3 through the geometric middle of the last decade of (t, L), or
    None when there are too few positive points."""
    ok = (t > 0) & (L > 0) & np.isfinite(L)
    t, L = t[ok], L[ok]
    if t.size < 2:
        return None
    late = t >= t[-1] / 10.0
    if late.sum() < 2:
        return None
    logC = np.mean(np.log(L[late]) + 3.0 * np.log(t[late]))
    return np.exp(logC) * t[late].astype(float) ** -3.0, t[late]


def plot(record, path=None, *, title=None, eta=None):
    """Four panels of a recorded run: (a) the loss against the iteration T
    on log-log axes with a C T^-3 line fitted to the last decade (the
    quadruple-precision loss when it was recorded); (b) each student's angle
    to its nearest teacher; (c) each student's norm; (d) each teacher's
    projection deficit |H_l|. With eta, the x axes are gradient-flow time
    eta*T. Returns the matplotlib Figure; with `path` (.png, .pdf, ...) it is
    also saved there."""
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    t = np.asarray(record.iterations, dtype=float)
    if t.size == 0:
        raise ValueError("tsrelu.plot: the record is empty (run the GD first)")
    x = t * eta if eta else t
    xlabel = "gradient-flow time ηT" if eta else "iteration T"
    arrays = record.arrays()
    L = arrays.get("loss_accurate", arrays["loss"])
    fig, ax = plt.subplots(2, 2, figsize=(11, 8))
    pos = x > 0
    a = ax[0, 0]
    a.loglog(x[pos], L[pos], lw=1.5, label="loss" + (" (quad)" if "loss_accurate" in arrays else ""))
    line = _late_line(t, L)
    if line is not None:
        ref, tl = line
        a.loglog(tl * eta if eta else tl, ref, "k--", lw=1, label="C T⁻³")
    a.set_xlabel(xlabel)
    a.set_ylabel("L")
    a.set_title("(a) loss")
    a.legend()
    for panel, (name, ylabel, log) in zip((ax[0, 1], ax[1, 0]), (("angle", "angle to nearest teacher (rad)", True),
                                                                  ("norm", "|w_i|", False))):
        y = arrays[name]
        for i in range(y.shape[1]):
            panel.plot(x[pos], y[pos, i], lw=0.8)
        panel.set_xscale("log")
        if log:
            panel.set_yscale("log")
        panel.set_xlabel(xlabel)
        panel.set_ylabel(ylabel)
    ax[0, 1].set_title("(b) alignment, per student")
    ax[1, 0].set_title("(c) norms, per student")
    H = np.abs(arrays["deficit"])
    d = ax[1, 1]
    for l in range(H.shape[1]):
        d.plot(x[pos], H[pos, l], lw=1, label="|H_%d|" % l)
    d.set_xscale("log")
    d.set_yscale("log")
    d.set_xlabel(xlabel)
    d.set_title("(d) projection deficits, per teacher")
    d.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig

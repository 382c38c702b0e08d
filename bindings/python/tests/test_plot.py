"""tsrelu.plot(record): the four panels of a recorded run, saved as PNG/PDF."""
import pytest

import tsrelu

matplotlib = pytest.importorskip("matplotlib")  # Debian: python3-matplotlib (make check installs it)


def _record(accurate):
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    s = tsrelu.Student.gaussian(6, 8, 1e-3, seed=2)
    gd = tsrelu.GD(t, s, 0.1)
    r = gd.record(200, per_decade=10, accurate_loss=accurate)
    assert gd.run(20_000) == tsrelu.OK
    return r


def test_plot_writes_png_and_pdf(tmp_path):
    matplotlib.use("Agg")
    r = _record(accurate=True)
    fig = tsrelu.plot(r, tmp_path / "run.png", title="k=2, m=6", eta=0.1)
    assert len(fig.axes) == 4
    (a, b), (c, d) = fig.axes[:2], fig.axes[2:]
    assert a.get_xscale() == a.get_yscale() == "log"
    labels = [l.get_label() for l in a.get_lines()]
    assert labels[0] == "loss (quad)" and "C T⁻³" in labels
    assert len(b.get_lines()) == 6 and len(c.get_lines()) == 6 and len(d.get_lines()) == 2
    png = (tmp_path / "run.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    tsrelu.plot(r, tmp_path / "run.pdf")
    assert (tmp_path / "run.pdf").read_bytes()[:5] == b"%PDF-"


def test_plot_refuses_an_empty_record():
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    gd = tsrelu.GD(t, tsrelu.Student.gaussian(6, 8, 1e-3, seed=2), 0.1)
    r = gd.record(10)
    with pytest.raises(ValueError, match="empty"):
        tsrelu.plot(r)

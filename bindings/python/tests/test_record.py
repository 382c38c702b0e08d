"""The trajectory recorder from Python: GD.record() arrays against the
metric functions on a twin state, the observer's iterates, capacity
warnings, the CSV and to_pandas(), batches, lifetimes and bad input."""
import csv
import gc
import math
import sys
import warnings

import numpy as np
import pytest

import tsrelu


def make(problem, **kw):
    t, s = problem
    return tsrelu.GD(t, s, 0.05, train_output=True, **kw)


def test_values_match_metrics(problem):
    gd, twin = make(problem), make(problem)
    r = gd.record(100, per_decade=10, accurate_loss=True)
    assert gd.recorder is r and len(r) == 0 and r.capacity == 100
    gd.run(2000)
    it = r.iterations
    assert it.dtype == np.uint64 and it[0] == 0 and it[-1] == 2000
    a = r.arrays()
    n, m, k = len(it), gd.m, gd.k
    assert a["angle"].shape == (n, m) and a["deficit"].shape == (n, k) and a["loss"].shape == (n,)
    V = twin.teacher.V
    mean = tsrelu.Teacher((V / np.linalg.norm(V, axis=1)[:, None]).sum(axis=0)[None, :])
    for row, t in enumerate(it):
        twin.run(int(t) - twin.iteration)
        assert twin.iteration == t
        assert a["loss"][row] == twin.loss()
        assert a["loss_accurate"][row] == twin.loss_accurate()
        assert a["grad_norm"][row] == twin.gradient_norm()
        near = twin.nearest_teacher()
        np.testing.assert_array_equal(a["nearest"][row], near)
        th = twin.angles()
        np.testing.assert_allclose(a["angle"][row], th[np.arange(m), near], rtol=0, atol=1e-13)
        comp = twin.components()
        np.testing.assert_allclose(a["radial"][row], comp.radial, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(a["tangential"][row], comp.tangential, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(a["norm"][row], np.linalg.norm(twin.W, axis=1), rtol=1e-15)
        np.testing.assert_array_equal(a["output_weight"][row], twin.a)
        np.testing.assert_allclose(a["angle_mean"][row], tsrelu.angles(twin.student, mean)[:, 0],
                                   rtol=0, atol=1e-13)
        np.testing.assert_allclose(a["deficit"][row], twin.deficit(), rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(a["group_size"][row], np.bincount(near, minlength=k))
    assert r.missed == 0


def test_iterates_are_the_observers(problem):
    gd = make(problem)
    r = gd.record(200, every=25)
    seen = []
    gd.set_observer(lambda g: seen.append(g.iteration), every=25)
    for steps in (37, 1, 100, 0, 90):
        gd.run(steps)
    gd.step()
    np.testing.assert_array_equal(r.iterations, seen)


def test_full_recorder_warns_and_counts(problem):
    gd = make(problem)
    r = gd.record(3, every=1)
    with pytest.warns(RuntimeWarning, match="3 scheduled iterates were not recorded"):
        gd.run(5)
    assert gd.iteration == 5 and len(r) == 3 and r.missed == 3
    np.testing.assert_array_equal(r.iterations, [0, 1, 2])  # already warned: no new warning


def test_csv_reads_back(problem, tmp_path):
    gd = make(problem)
    r = gd.record(50, per_decade=5, accurate_loss=True)
    gd.run(300)
    path = tmp_path / "r.csv"
    r.write_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    a = r.arrays()
    n, m = a["norm"].shape
    assert len(rows) == n * m
    assert list(rows[0]) == ["iteration", "student", "norm", "output_weight", "nearest", "angle",
                             "radial", "tangential", "angle_mean", "deficit", "group_size", "loss",
                             "grad_norm", "loss_accurate"]
    for j, row in enumerate(rows):
        t, i = divmod(j, m)
        assert int(row["iteration"]) == a["iteration"][t] and int(row["student"]) == i
        for f in ("norm", "output_weight", "nearest", "angle", "radial", "tangential", "angle_mean"):
            assert float(row[f]) == a[f][t, i]
        near = int(a["nearest"][t, i])
        assert float(row["deficit"]) == a["deficit"][t, near]
        assert float(row["group_size"]) == a["group_size"][t, near]
        for f in ("loss", "grad_norm", "loss_accurate"):
            assert float(row[f]) == a[f][t]


def test_pandas_matches_csv(problem, tmp_path):
    pd = pytest.importorskip("pandas")
    gd = make(problem)
    r = gd.record(50, per_decade=5)
    gd.run(300)
    r.write_csv(tmp_path / "r.csv")
    back = pd.read_csv(tmp_path / "r.csv", float_precision="round_trip")
    df = r.to_pandas()
    assert list(df.columns) == list(back.columns)
    pd.testing.assert_frame_equal(df.astype(float), back.astype(float), check_exact=True)


def test_to_pandas_without_pandas(problem, monkeypatch):
    gd = make(problem)
    r = gd.record(5)
    gd.run(3)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas"):
        r.to_pandas()


def test_batch_state_records(problem):
    t, s = problem
    b = tsrelu.Batch(threads=2)
    b.add(t, s, 0.05, 1000)
    b.add(t, s, 0.05, 1000)
    r = b.state(1).record(100, per_decade=10)
    b.run()
    alone = tsrelu.GD(t, s, 0.05)
    ra = alone.record(100, per_decade=10)
    alone.run(1000)
    ib = list(r.iterations)
    for row, it in enumerate(ra.iterations):
        assert ra.loss[row] == r.loss[ib.index(it)]
    b.close()  # frees the state: the record stays readable
    assert len(r) == len(ib)


def test_lifetimes(problem):
    gd = make(problem)
    r = gd.record(10, every=1)
    gd.run(2)
    del gd
    gc.collect()
    assert len(r) == 3  # the Record keeps its GD alive while attached
    r2 = make(problem).record(10)
    r2.close()
    with pytest.raises(tsrelu.Error, match="closed"):
        len(r2)
    other = make(problem)
    r3 = other.record(10, every=1)
    other.set_recorder(None)
    assert other.recorder is None
    other.run(3)
    assert len(r3) == 0
    other.set_recorder(r3, every=1)
    other.run(1)
    np.testing.assert_array_equal(r3.iterations, [3, 4])


def test_bad_input(problem):
    gd = make(problem)
    with pytest.raises(tsrelu.Error) as e:
        gd.record(0)
    assert e.value.status == tsrelu.Status.EINVAL and "capacity" in e.value.message
    with pytest.raises(tsrelu.Error, match="not both"):
        gd.record(5, every=1, per_decade=1)
    with pytest.raises(tsrelu.Error) as e:
        gd.record(5, every=0)
    assert e.value.status == tsrelu.Status.EINVAL
    with pytest.raises(OverflowError):
        gd.record(-1)
    with pytest.raises(TypeError):
        gd.set_recorder("a record")
    r = gd.record(5)
    with pytest.raises(tsrelu.Error, match="unknown field"):
        r.student("loss")
    with pytest.raises(tsrelu.Error) as e:
        r.loss_accurate
    assert e.value.status == tsrelu.Status.EINVAL and "TSRELU_RECORD_ACCURATE_LOSS" in e.value.message
    with pytest.raises(tsrelu.Error) as e:
        r.write_csv("/nonexistent-tsrelu/r.csv")
    assert e.value.status == tsrelu.Status.EIO
    other = make(problem)
    with pytest.raises(tsrelu.Error, match="attached to another state"):
        other.set_recorder(r)
    t, _ = problem
    small = tsrelu.GD(t, tsrelu.Student.gaussian(3, 8, 0.1, seed=1), 0.1)
    gd.set_recorder(None)
    with pytest.raises(tsrelu.Error) as e:
        small.set_recorder(r)
    assert e.value.status == tsrelu.Status.EDIM


def test_busy_from_observer(problem):
    gd = make(problem)
    r = gd.record(10, every=1)
    got = []

    def obs(g):
        got.append(len(r))  # reading is allowed from the GD's own observer
        with pytest.raises(tsrelu.Error) as e:
            g.record(5)
        got.append(e.value.status)

    gd.run(2, observer=obs, every=1)
    assert got[0::2] == [1, 2, 3]  # the row of an iterate is there before its observer
    assert all(s == tsrelu.Status.EBUSY for s in got[1::2])
    assert math.isfinite(r.loss[-1])

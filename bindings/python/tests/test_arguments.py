"""Arguments that ctypes or numpy would coerce silently are refused: integers
outside the C type (which would wrap modulo 2^N), paths with a NUL byte
(which C would cut), complex, masked, string and object input."""
import fractions
import os
import pathlib
import pickle

import numpy as np
import pytest

import tsrelu


@pytest.fixture
def gd(problem):
    t, s = problem
    return tsrelu.GD(t, s, 0.05)


@pytest.fixture
def batch(problem):
    t, s = problem
    b = tsrelu.Batch(threads=1)
    b.add(t, s, 0.05, 3)
    return b


def out_of_range(fn, *args, **kw):
    """fn must raise OutOfRange: an OverflowError and a tsrelu.Error (EINVAL)."""
    with pytest.raises(OverflowError) as info:
        fn(*args, **kw)
    e = info.value
    assert isinstance(e, tsrelu.OutOfRange) and isinstance(e, tsrelu.Error)
    assert e.name == "TSRELU_EINVAL"
    assert "outside the range of the C" in e.message
    return e


# Each integer argument, with the C type it goes to.
INTEGER_ARGS = {
    "Teacher.orthogonal k": (lambda v, **f: tsrelu.Teacher.orthogonal(v, 4), "size_t"),
    "Teacher.orthogonal d": (lambda v, **f: tsrelu.Teacher.orthogonal(1, v), "size_t"),
    "Teacher.orthogonal seed": (lambda v, **f: tsrelu.Teacher.orthogonal(1, 4, seed=v), "uint64"),
    "Student.gaussian m": (lambda v, **f: tsrelu.Student.gaussian(v, 4, 1.0), "size_t"),
    "Student.gaussian d": (lambda v, **f: tsrelu.Student.gaussian(2, v, 1.0), "size_t"),
    "Student.gaussian seed": (lambda v, **f: tsrelu.Student.gaussian(2, 4, 1.0, seed=v), "uint64"),
    "Student.weak_recovery m": (lambda v, problem, **f: tsrelu.Student.weak_recovery(
        problem[0], v, 0.3, 1.0), "size_t"),
    "Student.weak_recovery seed": (lambda v, problem, **f: tsrelu.Student.weak_recovery(
        problem[0], 2, 0.3, 1.0, seed=v), "uint64"),
    "Student.weak_recovery counts": (lambda v, problem, **f: tsrelu.Student.weak_recovery(
        problem[0], 2, 0.3, 1.0, counts=[1, v]), "size_t"),
    "Teacher.from_gram d": (lambda v, **f: tsrelu.Teacher.from_gram(np.eye(2), d=v), "size_t"),
    "Teacher.from_gram seed": (lambda v, **f: tsrelu.Teacher.from_gram(np.eye(2), d=2, seed=v),
                               "uint64"),
    "GD.run steps": (lambda v, gd, **f: gd.run(v), "uint64"),
    "GD.run every": (lambda v, gd, **f: gd.run(1, observer=print, every=v), "uint64"),
    "GD.run per_decade": (lambda v, gd, **f: gd.run(1, observer=print, per_decade=v), "uint64"),
    "GD.set_observer every": (lambda v, gd, **f: gd.set_observer(print, every=v), "uint64"),
    "GD.set_observer per_decade": (lambda v, gd, **f: gd.set_observer(print, per_decade=v),
                                   "uint64"),
    "Batch.add steps": (lambda v, batch, problem, **f: batch.add(*problem, 0.1, v), "uint64"),
    "Batch.set_threads": (lambda v, batch, **f: batch.set_threads(v), "unsigned"),
    "Batch.state": (lambda v, batch, **f: batch.state(v), "size_t"),
    "Batch.summary": (lambda v, batch, **f: batch.summary(v), "size_t"),
    "components tau": (lambda v, problem, **f: tsrelu.components(*problem[::-1],
                                                                  tau=[0] * 5 + [v]), "int"),
    "observer return value": (lambda v, gd, **f: gd.run(1, observer=lambda g: v, every=1), "int"),
}
LIMITS = {"size_t": 2 ** 64, "uint64": 2 ** 64, "unsigned": 2 ** 32, "int": 2 ** 31}


@pytest.mark.parametrize("name", sorted(INTEGER_ARGS))
def test_integers_outside_the_c_type_are_refused(name, gd, batch, problem):
    fn, ctype = INTEGER_ARGS[name]
    fixtures = {"gd": gd, "batch": batch, "problem": problem}
    hi = LIMITS[ctype]
    lo = -hi if ctype == "int" else 0
    for bad in (hi, hi + 3, 2 ** 200, lo - 1, -(2 ** 200)):
        out_of_range(fn, bad, **fixtures)
    with pytest.raises(TypeError):
        fn(2.0, **fixtures)


def test_sizes_do_not_wrap():
    """The reported bug: m = 2^64 + 3 made a student of width 3."""
    e = out_of_range(tsrelu.Student.gaussian, 2 ** 64 + 3, 4, 1.0)
    assert "m=18446744073709551619" in e.message and "size_t" in e.message
    with pytest.raises(tsrelu.Error) as info:  # still catchable as before
        tsrelu.Teacher.orthogonal(-1, 4)
    assert info.value.name == "TSRELU_EINVAL"
    # the largest values of each type still pass
    t, s = tsrelu.Teacher.orthogonal(1, 4, seed=2 ** 64 - 1), tsrelu.Student.gaussian(2, 4, 0.1)
    gd = tsrelu.GD(t, s, 0.05)
    gd.set_observer(print, every=2 ** 64 - 1)
    assert gd.run(0) == tsrelu.OK
    gd.set_observer(None)
    assert gd.run(np.uint64(3)) == tsrelu.OK and gd.iteration == 3
    assert gd.run(1, observer=lambda g: 2 ** 31 - 1, every=1) == tsrelu.STOPPED
    assert gd.stop_value == 2 ** 31 - 1
    assert gd.run(1, observer=lambda g: -(2 ** 31), every=1) == tsrelu.STOPPED


def test_batch_index_does_not_wrap(batch):
    batch.run()
    assert batch.summary(0).iteration == 3
    out_of_range(batch.summary, 2 ** 64)   # was the summary of run 0
    out_of_range(batch.state, 2 ** 64)     # was the state of run 0
    out_of_range(batch.summary, -1)


def test_out_of_range_pickles():
    e = out_of_range(tsrelu.Student.gaussian, -1, 4, 1.0)
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is tsrelu.OutOfRange and e2.message == e.message and e2.status == e.status


# ---------------------------------------------------------------- paths

def test_path_with_nul_is_refused(gd, tmp_path):
    real = tmp_path / "real.ckpt"
    real.write_bytes(b"precious")
    for p in (str(real) + "\x00.bak", os.fsencode(real) + b"\x00.bak"):
        with pytest.raises(ValueError, match="embedded null byte"):
            gd.save(p)
        with pytest.raises(ValueError, match="embedded null byte"):
            tsrelu.GD.load(p)
    assert real.read_bytes() == b"precious"  # was overwritten by save()

    class Custom:
        def __fspath__(self):
            return str(tmp_path / "custom.ckpt")
    for p in (str(tmp_path / "s.ckpt"), os.fsencode(tmp_path / "b.ckpt"),
              pathlib.Path(tmp_path / "p.ckpt"), Custom()):
        gd.save(p)
        assert tsrelu.GD.load(p).iteration == 0
    for bad in (3, None, [str(tmp_path / "x")]):
        with pytest.raises(TypeError):
            gd.save(bad)


# ---------------------------------------------------------------- arrays

W6 = np.arange(6.0).reshape(2, 3) + 1.0


def array_entry_points(problem):
    """(name, callable taking one array) for every array argument."""
    t, s = problem
    st = tsrelu.Student.gaussian(2, 3, 1.0, seed=1)
    return [
        ("Teacher V", lambda x: tsrelu.Teacher(x)),
        ("Teacher b", lambda x: tsrelu.Teacher(W6, x[0][:2])),
        ("Student W", lambda x: tsrelu.Student(x)),
        ("Student a", lambda x: tsrelu.Student(W6, x[0][:2])),
        ("Student.W =", lambda x: setattr(st, "W", x)),
        ("Student.a =", lambda x: setattr(st, "a", x[0][:2])),
        ("rate_fit t", lambda x: tsrelu.rate_fit(x.ravel(), np.arange(1.0, 7.0))),
        ("rate_fit L", lambda x: tsrelu.rate_fit(np.arange(1.0, 7.0), x.ravel())),
    ]


def objects(x):
    a = W6.astype(object)
    a[0, 1] = x
    return a


@pytest.mark.parametrize("kind", ["complex", "strings", "bytes", "objects", "datetimes"])
def test_arrays_that_numpy_would_coerce_raise_typeerror(problem, kind):
    bad = {
        "complex": [W6 + 1j, W6 + 0j],  # an imaginary part of 0 is refused too
        "strings": [W6.astype(str)],
        "bytes": [W6.astype(bytes)],
        "objects": [objects("2"), objects(None), objects(2j), objects(np.complex64(2)),
                    objects([1.0])],
        "datetimes": [np.array([["2020-01-01"] * 3] * 2, dtype="datetime64[D]")],
    }[kind]
    for name, fn in array_entry_points(problem):
        for x in bad:
            with pytest.raises(TypeError):
                fn(x)


def test_masked_entries_raise_valueerror(problem):
    bad = np.ma.MaskedArray(W6, mask=[[False, True, False], [False, False, False]])
    good = [W6, W6.astype(np.float32), W6.astype(np.int64), objects(fractions.Fraction(2, 1)),
            np.ma.MaskedArray(W6), np.ma.MaskedArray(W6, mask=np.zeros((2, 3), bool)),
            np.asfortranarray(W6)]
    for name, fn in array_entry_points(problem):
        for x in good:
            fn(x)
        with pytest.raises(ValueError, match="masked"):
            fn(bad)
    with pytest.raises(ValueError, match=r"first at index \(0, 1\)"):
        tsrelu.Student(bad)


def test_masked_and_complex_group_assignments(problem):
    t, s = problem
    tau = np.zeros(6, dtype=int)
    np.testing.assert_array_equal(tsrelu.deficit(s, t, tau=np.ma.MaskedArray(tau)),
                                  tsrelu.deficit(s, t, tau=tau))
    with pytest.raises(ValueError, match="masked"):
        tsrelu.deficit(s, t, tau=np.ma.MaskedArray(tau, mask=[True] + [False] * 5))
    with pytest.raises(TypeError):
        tsrelu.deficit(s, t, tau=tau + 0j)
    with pytest.raises(TypeError):
        tsrelu.deficit(s, t, tau=np.array([0, 0, 0, 0, 0, 0.5], dtype=object))
    np.testing.assert_array_equal(tsrelu.deficit(s, t, tau=np.array([0] * 6, dtype=object)),
                                  tsrelu.deficit(s, t, tau=tau))
    np.testing.assert_array_equal(tsrelu.deficit(s, t, tau=tau.astype(bool)),
                                  tsrelu.deficit(s, t, tau=tau))


def test_masked_step_state_is_refused(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05)
    with pytest.raises(TypeError):
        gd.set_step_state(np.ma.MaskedArray(np.zeros(48), mask=[True] + [False] * 47))


# ---------------------------------------------------------------- scalars

def test_real_scalars(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05)
    calls = [
        lambda: tsrelu.GD(t, s, bad),
        lambda: setattr(gd, "eta", bad),
        lambda: gd.set_tolerances(bad, 0.0),
        lambda: gd.set_phase_thresholds(bad, 0.1),
        lambda: tsrelu.Teacher.orthogonal(1, 4, norm=bad),
        lambda: tsrelu.Student.gaussian(2, 4, bad),
        lambda: tsrelu.rate_fit([1.0, 2.0], [1.0, 2.0], t_lo=bad),
        lambda: tsrelu.Batch().add(t, s, bad, 10),
    ]
    for bad, error in [(np.complex128(0.1), TypeError), (0.1 + 0j, TypeError), ("0.1", TypeError),
                       (np.ma.masked, ValueError), (None, TypeError)]:
        for c in calls:
            with pytest.raises(error):
                c()
    assert gd.eta == 0.05
    for eta in (np.float32(0.05), fractions.Fraction(1, 20), 1, np.int8(1)):
        assert tsrelu.GD(t, s, eta).eta == float(eta)

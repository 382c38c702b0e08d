"""Bad input raises tsrelu.Error with the exact status name and the
library's detailed message; nothing crashes the interpreter."""
import math
import pickle

import numpy as np
import pytest

import tsrelu


def raises(name, fn, *args, match=None, **kw):
    with pytest.raises(tsrelu.Error) as info:
        fn(*args, **kw)
    e = info.value
    assert e.name == name, str(e)
    assert tsrelu.status_name(e.status) == name
    assert str(e).startswith(name + ": ")
    if match is not None:
        assert match in e.message, e.message
    return e


def test_error_object():
    e = raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, 3, 2)
    assert e.status == tsrelu.Status.EINVAL == -1
    assert e.message == tsrelu.last_error()  # the library's own text
    assert "k=3" in e.message and "d=2" in e.message
    e2 = pickle.loads(pickle.dumps(e))
    assert (e2.status, e2.name, e2.message) == (e.status, e.name, e.message)
    assert isinstance(e, Exception)


def test_status_names_and_strings():
    for st in tsrelu.Status:
        assert tsrelu.status_name(st) == "TSRELU_" + st.name
        assert tsrelu.status_string(st)
    assert tsrelu.status_name(-99) == "TSRELU_UNKNOWN"


def test_teacher_bad_input():
    raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, 0, 4)
    raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, 2, 4, norm=0.0)
    raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, 2, 4, norm=-1.0)
    raises("TSRELU_ENONFINITE", tsrelu.Teacher.orthogonal, 2, 4, norm=math.nan)
    raises("TSRELU_ENONFINITE", tsrelu.Teacher.orthogonal, 2, 4, norm=math.inf)
    raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, -1, 4)
    raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, 2, 4, seed=-1)
    raises("TSRELU_EINVAL", tsrelu.Teacher.orthogonal, 2, 4, seed=2 ** 64)
    raises("TSRELU_EINVAL", tsrelu.Teacher, [[1.0, 0.0], [0.0, 0.0]], match="neuron 1 is zero")
    raises("TSRELU_ENONFINITE", tsrelu.Teacher, [[1.0, 0.0], [0.0, np.nan]], match="[3]")
    raises("TSRELU_ENONFINITE", tsrelu.Teacher, [[1.0, 0.0]], b=[np.inf])
    raises("TSRELU_ELENGTH", tsrelu.Teacher, [[1.0, 0.0]], b=[1.0, 2.0])
    raises("TSRELU_EINVAL", tsrelu.Teacher, [1.0, 0.0], match="2-D")
    raises("TSRELU_EINVAL", tsrelu.Teacher, np.zeros((0, 3)))
    with pytest.raises(TypeError):
        tsrelu.Teacher.orthogonal(2.5, 4)


def test_student_bad_input():
    raises("TSRELU_EINVAL", tsrelu.Student.gaussian, 0, 3, 1.0)
    raises("TSRELU_EINVAL", tsrelu.Student.gaussian, 2, 3, -1.0)
    raises("TSRELU_ENONFINITE", tsrelu.Student.gaussian, 2, 3, math.inf)
    raises("TSRELU_ENONFINITE", tsrelu.Student, [[1.0, math.inf]], match="W[1]")
    raises("TSRELU_ENONFINITE", tsrelu.Student, [[1.0, 0.0]], a=[math.nan])
    raises("TSRELU_ELENGTH", tsrelu.Student, [[1.0, 0.0]], a=[1.0, 1.0])
    raises("TSRELU_EINVAL", tsrelu.Student, np.zeros((2, 0)))
    s = tsrelu.Student.gaussian(3, 4, 1.0, seed=1)
    W = s.W
    raises("TSRELU_ELENGTH", setattr, s, "W", np.zeros((4, 3)))
    bad = W.copy()
    bad[2, 1] = np.nan
    raises("TSRELU_ENONFINITE", setattr, s, "W", bad)
    np.testing.assert_array_equal(s.W, W)  # unchanged on error
    raises("TSRELU_ELENGTH", setattr, s, "a", np.ones(4))
    raises("TSRELU_ENONFINITE", setattr, s, "a", [1.0, np.inf, 1.0])


def test_dimension_mismatch(problem):
    t, _ = problem
    s = tsrelu.Student.gaussian(3, 5, 1.0, seed=1)
    raises("TSRELU_EDIM", tsrelu.loss, s, t, match="d=5")
    raises("TSRELU_EDIM", tsrelu.loss_accurate, s, t)
    raises("TSRELU_EDIM", tsrelu.gradient, s, t)
    raises("TSRELU_EDIM", tsrelu.angles, s, t)
    raises("TSRELU_EDIM", tsrelu.GD, t, s, 0.1)
    with pytest.raises(TypeError):
        tsrelu.loss(t, s)


def test_overflow_is_reported():
    t = tsrelu.Teacher([[1e300, 0.0]])
    s = tsrelu.Student([[1e300, 1e300]])
    raises("TSRELU_ENONFINITE", tsrelu.loss, s, t)


def test_metric_bad_input(problem):
    t, s = problem
    raises("TSRELU_ELENGTH", tsrelu.components, s, t, tau=[0, 1])
    raises("TSRELU_EINVAL", tsrelu.components, s, t, tau=[0, 1, 2, 0, 0, 0], match="tau[2]=2")
    raises("TSRELU_EINVAL", tsrelu.deficit, s, t, tau=[0, -2, 0, 0, 0, 0])
    raises("TSRELU_EINVAL", tsrelu.balance, s, t, tau=[0, 0, 0, 0, 0, 2 ** 40])
    with pytest.raises(TypeError):
        tsrelu.deficit(s, t, tau=[0.5] * 6)
    raises("TSRELU_EINVAL", tsrelu.rate_fit, [1.0], [1.0], match="usable")
    raises("TSRELU_EINVAL", tsrelu.rate_fit, [2.0, 2.0], [1.0, 3.0])
    raises("TSRELU_ELENGTH", tsrelu.rate_fit, [1.0, 2.0], [1.0])


def test_gd_bad_input(problem):
    t, s = problem
    raises("TSRELU_EINVAL", tsrelu.GD, t, s, 0.0)
    raises("TSRELU_EINVAL", tsrelu.GD, t, s, -0.1)
    raises("TSRELU_ENONFINITE", tsrelu.GD, t, s, math.nan)
    gd = tsrelu.GD(t, s, 0.1)
    raises("TSRELU_EINVAL", setattr, gd, "eta", 0.0)
    raises("TSRELU_ENONFINITE", setattr, gd, "eta", math.inf)
    assert gd.eta == 0.1
    raises("TSRELU_EINVAL", gd.set_tolerances, -1.0, 0.0)
    raises("TSRELU_EINVAL", gd.set_tolerances, 0.0, math.nan)
    raises("TSRELU_EINVAL", gd.set_observer, lambda g: None, every=0, match="param")
    raises("TSRELU_EINVAL", gd.set_observer, lambda g: None, per_decade=0)
    raises("TSRELU_EINVAL", gd.set_observer, lambda g: None, every=1, per_decade=1)
    raises("TSRELU_EINVAL", gd.set_observer, lambda g: None, every=-1)
    raises("TSRELU_EINVAL", gd.run, -1)
    raises("TSRELU_EINVAL", gd.run, 10, every=3)
    raises("TSRELU_EINVAL", gd.set_phase_thresholds, 0.0, 0.1)
    raises("TSRELU_EINVAL", gd.set_phase_thresholds, 4.0, 0.1)
    raises("TSRELU_ENONFINITE", gd.set_phase_thresholds, math.nan, 0.1)
    raises("TSRELU_EINVAL", gd.components, tau=[5] * 6)
    with pytest.raises(TypeError):
        gd.set_observer(42)
    with pytest.raises(TypeError):
        gd.step_rule = "not callable"
    with pytest.raises(TypeError):
        tsrelu.GD(s, t, 0.1)
    assert gd.run(3) == tsrelu.OK  # still usable


def test_divergence(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 1e12)
    e = raises("TSRELU_EDIVERGED", gd.run, 10000)
    assert "iteration" in e.message
    it = gd.iteration
    assert 0 < it < 10000
    assert np.all(np.isfinite(gd.W))  # the last finite iterate is kept
    assert gd.iteration == it


def test_closed_handles(problem):
    t, s = problem
    t.close()
    raises("TSRELU_EINVAL", getattr, t, "V", match="closed")
    raises("TSRELU_EINVAL", tsrelu.loss, s, t, match="Teacher is closed")
    raises("TSRELU_EINVAL", tsrelu.GD, t, s, 0.1)
    s.close()
    raises("TSRELU_EINVAL", s.copy)
    with pytest.raises(tsrelu.Error):
        with s:
            pass
    assert "closed" in repr(s) and "closed" in repr(t)

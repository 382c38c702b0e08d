"""Observers and step rules: schedules, stop values, exceptions re-raised
after tsrelu_gd_run returns, views, and re-entrancy."""
import gc
import math
import weakref

import numpy as np
import pytest

import tsrelu


@pytest.fixture
def gd(problem):
    t, s = problem
    return tsrelu.GD(t, s, 0.05)


def test_linear_schedule(gd):
    seen = []
    assert gd.run(25, observer=lambda g: seen.append(g.iteration), every=10) == tsrelu.OK
    assert seen == [0, 10, 20, 25]  # the final iterate too


def test_log_schedule(gd):
    seen = []
    gd.run(1000, observer=lambda g: seen.append(g.iteration), per_decade=2)
    want = sorted({0} | {math.ceil(10 ** (j / 2)) for j in range(7)})
    assert seen == want


def test_default_schedule_is_10_per_decade(gd):
    seen = []
    gd.run(100, observer=lambda g: seen.append(g.iteration))
    assert seen == sorted({0} | {math.ceil(10 ** (j / 10)) for j in range(21)})


def test_observer_sees_the_state(gd, problem):
    t, _ = problem
    rows = []

    def obs(g):
        s = g.student
        rows.append((g.iteration, g.loss(), s.loss(t), g.W.copy()))
    gd.run(20, observer=obs, every=5)
    for it, L, Ls, W in rows:
        assert L == Ls
    assert not np.array_equal(rows[0][3], rows[-1][3])


@pytest.mark.parametrize("value, stop", [(True, 1), (7, 7), (-3, -3), (np.int64(5), 5)])
def test_observer_stops(gd, value, stop):
    def obs(g):
        return value if g.iteration == 30 else None
    assert gd.run(100, observer=obs, every=10) == tsrelu.STOPPED
    assert gd.iteration == 30 and gd.stop_value == stop
    assert gd.run(10) == tsrelu.OK and gd.stop_value == 0


def test_observer_false_and_zero_continue(gd):
    assert gd.run(20, observer=lambda g: False, every=1) == tsrelu.OK
    assert gd.run(20, observer=lambda g: 0, every=1) == tsrelu.OK
    assert gd.iteration == 40


class Boom(Exception):
    pass


def test_observer_exception_reraised(gd):
    calls = []

    def obs(g):
        calls.append(g.iteration)
        if g.iteration == 20:
            raise Boom("at 20")
    with pytest.raises(Boom, match="at 20") as info:
        gd.run(100, observer=obs, every=10)
    assert calls == [0, 10, 20]  # stopped at once
    assert gd.iteration == 20
    assert gd.stop_value == tsrelu.CALLBACK_RAISED
    assert any(fr.name == "obs" for fr in info.traceback)  # the original traceback
    # the GD stays usable; the per-run observer is gone
    assert gd.run(5) == tsrelu.OK and gd.iteration == 25


def test_observer_bad_return_value_raises(gd):
    with pytest.raises(TypeError, match="observer returned"):
        gd.run(10, observer=lambda g: "stop", every=1)
    with pytest.raises(OverflowError, match="C int"):
        gd.run(10, observer=lambda g: 2 ** 40, every=1)


def test_keyboard_interrupt_in_observer(gd):
    def obs(g):
        if g.iteration == 3:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        gd.run(10, observer=obs, every=1)
    assert gd.iteration == 3


def test_persistent_observer_restored_after_run(gd):
    a, b = [], []
    gd.set_observer(lambda g: a.append(g.iteration), every=10)
    assert gd.observer is not None
    gd.run(20)
    gd.run(10, observer=lambda g: b.append(g.iteration), every=5)
    gd.run(10)
    assert a == [0, 10, 20, 30, 40]
    assert b == [20, 25, 30]  # a newly installed observer sees the current iterate
    gd.set_observer(None)
    assert gd.observer is None
    gd.run(10)
    assert a[-1] == 40


def test_step_rule_views(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05)
    seen = {}

    def rule(g, W, gW, a, ga):
        seen["shapes"] = (W.shape, gW.shape, a, ga)
        seen["writable"] = (W.flags.writeable, gW.flags.writeable)
        np.testing.assert_array_equal(gW, g.gradient())
        W *= 0.5
    gd.step_rule = rule
    W0 = gd.W
    assert gd.step() == tsrelu.OK
    assert seen["shapes"] == ((6, 8), (6, 8), None, None)
    assert seen["writable"] == (True, False)
    np.testing.assert_array_equal(gd.W, W0 * 0.5)
    gd.step_rule = None
    assert gd.step_rule is None
    gd.step()
    np.testing.assert_array_equal(gd.W, W0 * 0.5 - 0.05 * tsrelu.gradient(tsrelu.Student(W0 * 0.5), t))


def test_step_rule_with_output_weights(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05, train_output=True)
    ref = tsrelu.GD(t, s, 0.05, train_output=True)

    def rule(g, W, gW, a, ga):
        assert a.shape == (6,) and ga.shape == (6,) and not ga.flags.writeable
        W -= g.eta * gW
        a -= g.eta * ga
    gd.step_rule = rule
    gd.run(50)
    ref.run(50)
    np.testing.assert_array_equal(gd.W, ref.W)
    np.testing.assert_array_equal(gd.a, ref.a)


def test_step_rule_refuses(gd):
    W0 = gd.W
    gd.step_rule = lambda g, W, gW, a, ga: 9
    assert gd.step() == tsrelu.STOPPED
    assert gd.stop_value == 9 and gd.iteration == 0
    np.testing.assert_array_equal(gd.W, W0)
    assert gd.run(10) == tsrelu.STOPPED and gd.iteration == 0


def test_step_rule_exception(gd):
    def rule(g, W, gW, a, ga):
        W[:] = 1.0  # discarded: the update is refused
        if g.iteration == 4:
            raise Boom("step 4")
    gd.step_rule = rule
    with pytest.raises(Boom):
        gd.run(10)
    assert gd.iteration == 4
    with pytest.raises(Boom):
        gd.step()
    assert gd.iteration == 4
    np.testing.assert_array_equal(gd.W, np.ones((6, 8)))


def test_step_rule_diverges(gd):
    def rule(g, W, gW, a, ga):
        W[0, 0] = np.inf
    gd.step_rule = rule
    with pytest.raises(tsrelu.Error) as e:
        gd.run(5)
    assert e.value.name == "TSRELU_EDIVERGED"
    assert "not finite" in e.value.message
    assert gd.iteration == 0


def test_no_reentry_from_callbacks(gd, tmp_path):
    errors = []
    reads = []

    def obs(g):
        for f in (lambda: g.run(1), g.step, lambda: g.set_observer(None), g.close,
                  lambda: setattr(g, "step_rule", None), lambda: setattr(g, "eta", 0.04),
                  lambda: g.set_tolerances(1e-9), lambda: setattr(g, "train_output", True),
                  lambda: g.set_step_state(None), lambda: g.set_phase_thresholds(0.1, 0.1)):
            try:
                f()
            except tsrelu.Error as e:
                errors.append(e.name)
        # reading is allowed
        reads.append((g.iteration, g.eta, g.loss(), g.W.shape, g.phase))
        g.save(tmp_path / "inside.ckpt")
    gd.run(3, observer=obs, every=1)
    assert errors == ["TSRELU_EBUSY"] * 10 * 4
    assert [r[0] for r in reads] == [0, 1, 2, 3]
    assert gd.eta == 0.05 and not gd.closed and gd.tolerances == (0.0, 0.0)
    assert tsrelu.GD.load(tmp_path / "inside.ckpt").iteration == 3


def test_callbacks_do_not_keep_gd_alive(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05)
    gd.set_observer(lambda g: None, every=1)
    gd.step_rule = lambda g, W, gW, a, ga: None
    gd.run(3)
    ref = weakref.ref(gd)
    del gd
    gc.collect()
    assert ref() is None


def test_stop_reason(problem):
    t, s = problem
    R = tsrelu.StopReason
    gd = tsrelu.GD(t, s, 0.05)
    assert gd.stop_reason == R.NONE
    assert gd.run(3) == tsrelu.OK and gd.stop_reason == R.STEPS
    assert gd.run(10, observer=lambda g: 1, every=1) == tsrelu.STOPPED
    assert gd.stop_reason == R.OBSERVER
    with pytest.raises(Boom):
        gd.run(10, observer=lambda g: (_ for _ in ()).throw(Boom()), every=1)
    assert gd.stop_reason == R.OBSERVER
    assert gd.run(10 ** 6, observer=lambda g: g.interrupt(), every=1) == tsrelu.INTERRUPTED
    assert gd.stop_reason == R.INTERRUPT
    gd.step_rule = lambda g, W, gW, a, ga: 2
    assert gd.step() == tsrelu.STOPPED and gd.stop_reason == R.STEP_RULE
    gd.step_rule = None
    gd.set_tolerances(loss_tol=1e9)
    assert gd.run(10) == tsrelu.CONVERGED and gd.stop_reason == R.LOSS_TOL
    gd.set_tolerances(grad_tol=1e9)
    assert gd.run(10) == tsrelu.CONVERGED and gd.stop_reason == R.GRAD_TOL
    big = tsrelu.GD(t, s, 1e12)
    with pytest.raises(tsrelu.Error):
        big.run(10 ** 4)
    assert big.stop_reason == R.ERROR

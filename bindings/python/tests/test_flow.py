"""tsrelu.Flow: the gradient flow (CVODE) against GD and against itself,
observers, stops, recorder, statistics, and bad input."""
import math

import numpy as np
import pytest

import tsrelu


def test_flow_is_the_limit_of_gd(problem):
    """GD at step eta is the flow's Euler scheme: the gap at flow time 5
    halves when eta halves (order one)."""
    t, s = problem
    fl = tsrelu.Flow(t, s, rtol=1e-12, atol=1e-16)
    assert fl.run(5.0) == tsrelu.OK
    Lf = fl.loss()
    gaps = []
    for eta in (4e-3, 2e-3):
        gd = tsrelu.GD(t, s, eta)
        gd.run(round(5.0 / eta))
        gaps.append(abs(gd.loss() - Lf))
    assert 1.8 < gaps[0] / gaps[1] < 2.2


def test_observer_times_and_stop(problem):
    t, s = problem
    fl = tsrelu.Flow(t, s, rtol=1e-10, atol=1e-16)
    seen = []
    assert fl.run(1000.0, lambda f: seen.append((f.time, f.loss_accurate())), per_decade=1) == tsrelu.OK
    assert [x[0] for x in seen] == [0.0, 1.0, 10.0, 100.0, 1000.0]
    assert all(b[1] < a[1] for a, b in zip(seen, seen[1:]))
    assert fl.time == 1000.0 and fl.stop_reason == tsrelu.StopReason.STEPS
    # an observer stopping at t = 2000 (every=1000): the state is there
    assert fl.run(5000.0, lambda f: 3 if f.time >= 2000.0 else 0, every=1000) == tsrelu.STOPPED
    assert fl.time == 2000.0 and fl.stop_value == 3
    assert fl.stop_reason == tsrelu.StopReason.OBSERVER


def test_exception_in_observer_is_reraised(problem):
    t, s = problem
    fl = tsrelu.Flow(t, s)

    def boom(f):
        raise ValueError("from the observer")
    with pytest.raises(ValueError, match="from the observer"):
        fl.run(10.0, boom, every=1)
    assert fl.time == 0.0  # the first observation, at t = 0


def test_mutating_from_observer_is_refused(problem):
    t, s = problem
    fl = tsrelu.Flow(t, s)
    errors = []

    def obs(f):
        try:
            f.set_tolerances(1.0)
        except tsrelu.Error as e:
            errors.append(e.status)
    fl.run(1.0, obs, every=1)
    assert errors and all(e == tsrelu.Status.EBUSY for e in errors)


def test_recorder_statistics_and_output_training(problem):
    t, s = problem
    fl = tsrelu.Flow(t, s, rtol=1e-10, atol=1e-16, train_output=True)
    assert fl.train_output and fl.solver == "dense"
    r = fl.record(16, per_decade=1, accurate_loss=True)
    assert fl.run(100.0) == tsrelu.OK
    assert list(r.time) == [0.0, 1.0, 10.0, 100.0]
    assert r.loss_accurate[-1] == pytest.approx(fl.loss_accurate(), rel=1e-12)
    assert not np.allclose(fl.a, s.a)
    st = fl.statistics
    assert st["steps"] > 10 and st["rhs"] >= st["steps"] and st["jacobians"] >= 1
    kr = tsrelu.Flow(t, s, rtol=1e-10, atol=1e-16, train_output=True, solver="krylov")
    kr.run(100.0)
    assert kr.statistics["jtimes"] > 0
    assert kr.loss() == pytest.approx(fl.loss(), rel=1e-5)
    np.testing.assert_allclose(kr.a, fl.a, atol=1e-6)


def test_tolerance_converges(problem):
    t, s = problem
    fl = tsrelu.Flow(t, s, loss_tol=1e-6)
    assert fl.run(1e6) == tsrelu.CONVERGED
    assert fl.stop_reason == tsrelu.StopReason.LOSS_TOL and fl.loss() <= 1e-6
    assert fl.tolerances == (1e-6, 0.0)


def test_bad_input(problem):
    t, s = problem
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.Flow(t, s, rtol=-1.0)
    assert e.value.status == tsrelu.Status.EINVAL
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.Flow(t, s, atol=math.nan)
    assert e.value.status == tsrelu.Status.ENONFINITE
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.Flow(t, s, solver="lu")
    assert e.value.status == tsrelu.Status.EINVAL
    with pytest.raises(TypeError):
        tsrelu.Flow(s, t)
    fl = tsrelu.Flow(t, s)
    fl.run(2.0)
    with pytest.raises(tsrelu.Error) as e:
        fl.run(1.0)
    assert e.value.status == tsrelu.Status.EINVAL and "t_end=1" in str(e.value)
    with pytest.raises(tsrelu.Error) as e:
        fl.run(math.inf)
    assert e.value.status == tsrelu.Status.ENONFINITE
    fl.close()
    assert "closed" in repr(fl)


def test_accurate_flow_follows_t_minus_3(problem):
    """The quad gradient (accurate=True) follows L ~ C t^-3 to t = 1e10."""
    t, s = problem
    fl = tsrelu.Flow(t, s, rtol=1e-12, atol=1e-20, accurate=True)
    seen = {}
    fl.run(1e10, lambda f: seen.__setitem__(f.time, f.loss_accurate() * f.time ** 3), per_decade=1)
    assert seen[1e10] == pytest.approx(seen[1e6], rel=0.05)
    assert fl.statistics["lin_rhs"] == 0  # the Hessian, not difference quotients
    dq = tsrelu.Flow(t, s, dq_jacobian=True)
    dq.run(10.0)
    assert dq.statistics["lin_rhs"] > 0


def test_events_on_a_flow_are_in_flow_time(problem):
    """A flow's record times its events in flow time; the on-line callback
    (given the Flow) agrees with the post-hoc answer, and can stop the run."""
    t, s = problem
    fl = tsrelu.Flow(t, s)
    r = fl.record(64, per_decade=5)
    settle = {}

    def seen(owner, kind, transition, index, teacher, time):
        assert owner is fl
        settle[index] = time if transition == "entered" else math.nan

    r.on_event(seen, kinds="align", align=0.05)
    assert fl.run(1e3) == tsrelu.OK
    times = r.event_times("align", 0.05, "settle")
    assert np.all(np.isin(times[~np.isnan(times)], r.time))
    assert (~np.isnan(times)).sum() > 0
    for i, x in enumerate(times):
        assert (math.isnan(x) and math.isnan(settle.get(i, math.nan))) or x == settle[i]

    fl2 = tsrelu.Flow(t, s)
    r2 = fl2.record(64, per_decade=5)
    r2.on_event(lambda owner, kind, tr, i, l, time: 1 if time >= 10.0 else 0)
    assert fl2.run(1e3) == tsrelu.STOPPED
    assert fl2.stop_reason == tsrelu.StopReason.EVENT
    assert 10.0 <= fl2.time < 1e3

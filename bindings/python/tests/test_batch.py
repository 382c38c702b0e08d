"""Batches through the binding: bit-identical to lone runs, summaries,
callbacks from worker threads, lifetime of the borrowed states."""
import gc
import math
import threading

import numpy as np
import pytest

import tsrelu


def configs():
    for seed in range(5):
        t = tsrelu.Teacher.orthogonal(2, 6, 1.0, seed=100 + seed)
        s = tsrelu.Student.gaussian(4, 6, 0.01, seed=200 + seed)
        yield t, s


@pytest.mark.parametrize("threads", [1, 3])
def test_batch_equals_lone_runs(threads):
    b = tsrelu.Batch(threads=threads)
    lone = []
    for t, s in configs():
        assert b.add(t, s, 0.1, 2000) == len(lone)
        g = tsrelu.GD(t, s, 0.1)
        g.run(2000)
        lone.append(g)
    assert len(b) == 5
    assert b.run() == tsrelu.OK
    table = b.summaries()
    assert table.shape == (5, len(tsrelu.SUMMARY_FIELDS))
    for i, g in enumerate(lone):
        st = b.state(i)
        assert st is b.state(i)  # one Python object per run
        np.testing.assert_array_equal(st.W, g.W)
        assert st.iteration == 2000
        sm = b.summary(i)
        assert sm.status == tsrelu.OK and sm.iteration == 2000
        assert sm.loss == g.loss_accurate()
        assert sm.phase == g.phase and (sm.t1, sm.t2) == g.phase_times
        assert sm.switches == g.group_switches
        assert sm.grad_norm == g.gradient_norm()
        assert table[i, 2] == sm.loss
        assert math.isfinite(sm.slope) and sm.seconds >= 0


def test_batch_callbacks_from_worker_threads():
    b = tsrelu.Batch(threads=3)
    seen = {}
    lock = threading.Lock()
    for i, (t, s) in enumerate(configs()):
        b.add(t, s, 0.1, 100)

        def obs(g, i=i):
            with lock:
                seen.setdefault(i, []).append((g.iteration, threading.get_ident()))
        b.state(i).set_observer(obs, every=50)
    assert b.run() == tsrelu.OK
    assert sorted(seen) == list(range(5))
    for i, rows in seen.items():
        its = [r[0] for r in rows]
        assert its[0] == 0 and its[-1] == 100 and 50 in its
        assert len({r[1] for r in rows}) == 1  # one run, one thread


class Boom(Exception):
    pass


def test_batch_exception_reraised_after_all_runs():
    b = tsrelu.Batch(threads=2)
    for t, s in configs():
        b.add(t, s, 0.1, 300)

    def bad(g):
        if g.iteration >= 100:
            raise Boom("run 3")
    b.state(3).set_observer(bad, every=100)
    with pytest.raises(Boom):
        b.run()
    assert b.summary(3).status == tsrelu.STOPPED and b.summary(3).iteration == 100
    assert b.summary(4).status == tsrelu.OK and b.summary(4).iteration == 300
    with pytest.raises(tsrelu.Error) as e:
        b.run()  # a batch runs once
    assert e.value.name == "TSRELU_EINVAL"


def test_batch_stop_value():
    b = tsrelu.Batch(threads=1)
    for t, s in configs():
        b.add(t, s, 0.1, 100)
    b.state(1).set_observer(lambda g: 5 if g.iteration == 10 else None, every=10)
    assert b.run() == tsrelu.STOPPED
    assert b.state(1).stop_value == 5 and b.summary(1).iteration == 10


def test_batch_errors():
    b = tsrelu.Batch()
    t, s = next(configs())
    with pytest.raises(tsrelu.Error) as e:
        b.add(t, tsrelu.Student.gaussian(2, 5, 1.0), 0.1, 10)
    assert e.value.name == "TSRELU_EDIM"
    with pytest.raises(tsrelu.Error) as e:
        b.add(t, s, -1.0, 10)
    assert e.value.name == "TSRELU_EINVAL"
    with pytest.raises(tsrelu.Error) as e:
        b.state(0)
    assert e.value.name == "TSRELU_EINVAL"
    b.add(t, s, 0.1, 10)
    with pytest.raises(tsrelu.Error) as e:
        b.summary(0)  # not run yet
    assert e.value.name == "TSRELU_EINVAL"
    with pytest.raises(tsrelu.Error) as e:
        b.set_threads(-1)
    assert e.value.name == "TSRELU_EINVAL"


def test_batch_states_die_with_the_batch():
    b = tsrelu.Batch()
    t, s = next(configs())
    b.add(t, s, 0.1, 10)
    st = b.state(0)
    st.set_tolerances(loss_tol=1e-30)  # configure before run
    b.run()
    W = st.W
    b.close()
    with pytest.raises(tsrelu.Error, match="closed"):
        st.W
    assert W.shape == (4, 6)
    # a state wrapper keeps its batch alive
    b2 = tsrelu.Batch()
    b2.add(t, s, 0.1, 10)
    st2 = b2.state(0)
    fin = b2._finalizer
    del b2
    gc.collect()
    assert fin.alive and st2.iteration == 0
    del st2
    gc.collect()
    assert not fin.alive

"""While a run executes (GIL released), nothing else may use its state: other
threads get tsrelu.Error (TSRELU_EBUSY), never a spurious EDIVERGED or a
torn read. Arrays handed to a step rule stay valid after the GD is closed."""
import threading

import numpy as np
import pytest

import tsrelu

from conftest import run_python

LONG = 10 ** 8  # steps: minutes at (6, 2, 8); every test interrupts it


def problem(seed=0):
    return (tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=31 + seed),
            tsrelu.Student.gaussian(6, 8, 0.1, seed=41 + seed))


def busy(fn):
    with pytest.raises(tsrelu.Error) as info:
        fn()
    assert info.value.name == "TSRELU_EBUSY", info.value
    return info.value


class Background:
    """fn() in a thread, its result or exception kept; `started` is set by
    the first observer call after iteration 0 (pass self.observe as
    observer)."""

    def __init__(self, fn):
        self.started = threading.Event()
        self.result = self.error = None
        self.thread = threading.Thread(target=self._run, args=(fn,))
        self.thread.start()
        assert self.started.wait(10), "the run did not start"

    def observe(self, g):
        if g.iteration > 0:
            self.started.set()

    def _run(self, fn):
        try:
            self.result = fn(self)
        except BaseException as e:
            self.error = e
        finally:
            self.started.set()

    def join(self):
        self.thread.join(30)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        return self.result


def test_gd_is_busy_for_other_threads_while_it_runs(tmp_path):
    gd = tsrelu.GD(*problem(), 0.05)
    bg = Background(lambda bg: gd.run(LONG, observer=bg.observe, every=1000))
    e = busy(gd.step)
    assert "in progress" in e.message
    busy(lambda: gd.run(1))
    busy(lambda: setattr(gd, "eta", 0.01))
    busy(lambda: gd.set_tolerances(1e-9))
    busy(lambda: gd.set_observer(None))
    busy(lambda: setattr(gd, "step_rule", None))
    busy(gd.close)
    busy(lambda: gd.W)          # reads too: the run swaps the buffers meanwhile
    busy(lambda: gd.iteration)
    busy(gd.loss)
    busy(lambda: gd.save(tmp_path / "x.ckpt"))
    assert "running" in repr(gd)
    gd.interrupt()
    assert bg.join() == tsrelu.INTERRUPTED
    it = gd.iteration
    assert it > 0 and gd.eta == 0.05 and not gd.closed
    assert gd.run(5) == tsrelu.OK and gd.iteration == it + 5
    assert gd.observer is None


def test_batch_states_are_busy_while_the_batch_runs():
    b = tsrelu.Batch(threads=2)
    for i in range(3):
        b.add(*problem(i), 0.05, LONG)

    def run(bg):
        b.state(0).set_observer(bg.observe, every=1000)
        return b.run()
    bg = Background(run)
    st = b.state(1)
    e = busy(st.step)  # used to end run 1 with a spurious TSRELU_EDIVERGED
    assert "Batch runs" in e.message
    busy(lambda: st.run(10))
    busy(lambda: setattr(st, "eta", 0.2))
    busy(lambda: st.W)
    busy(b.close)
    busy(lambda: b.add(*problem(), 0.05, 10))
    busy(lambda: b.summary(0))
    busy(lambda: b.state(2).iteration)
    assert len(b) == 3  # the wrappers of the states are available
    assert "running" in repr(b) and "running" in repr(st)
    b.interrupt()
    assert bg.join() == tsrelu.INTERRUPTED
    for i in range(3):
        assert b.summary(i).status == tsrelu.INTERRUPTED
        assert b.state(i).eta == 0.05
    assert b.summary(0).iteration > 0
    assert b.summary(2).iteration == 0  # two threads busy with runs 0 and 1: never started


def test_a_state_running_alone_makes_its_batch_busy():
    b = tsrelu.Batch(threads=1)
    b.add(*problem(), 0.05, 10)
    b.add(*problem(1), 0.05, 10)
    st = b.state(0)
    bg = Background(lambda bg: st.run(LONG, observer=bg.observe, every=1000))
    busy(b.run)
    busy(b.close)
    assert b.state(1).run(3) == tsrelu.OK  # an independent sibling state is not busy
    st.interrupt()
    assert bg.join() == tsrelu.INTERRUPTED
    assert b.run() == tsrelu.OK


def test_two_threads_cannot_run_one_gd():
    gd = tsrelu.GD(*problem(), 0.05)
    bg = Background(lambda bg: gd.run(LONG, observer=bg.observe, every=1000))
    results = []

    def second():
        try:
            results.append(gd.run(10))
        except tsrelu.Error as e:
            results.append(e.name)
    t = threading.Thread(target=second)
    t.start()
    t.join(10)
    gd.interrupt()
    assert bg.join() == tsrelu.INTERRUPTED
    assert results == ["TSRELU_EBUSY"]


def test_callbacks_of_one_state_cannot_use_another_running_state():
    b = tsrelu.Batch(threads=2)
    b.add(*problem(), 0.05, 2000)
    b.add(*problem(1), 0.05, 2000)
    seen = []
    other = {0: b.state(1), 1: b.state(0)}

    def obs(g, i):
        if g.iteration == 1000:
            try:
                other[i].W
                seen.append("read")
            except tsrelu.Error as e:
                seen.append(e.name)
    b.state(0).set_observer(lambda g: obs(g, 0), every=1000)
    b.state(1).set_observer(lambda g: obs(g, 1), every=1000)
    assert b.run() == tsrelu.OK
    assert seen == ["TSRELU_EBUSY"] * 2


STEP_RULE_AFTER_CLOSE = r"""
import gc, numpy as np, tsrelu
# large enough for malloc to map the C buffers with mmap and unmap them on free
t = tsrelu.Teacher.orthogonal(2, 400, 1.0, seed=1)
s = tsrelu.Student.gaussian(100, 400, 0.1, seed=2)
gd = tsrelu.GD(t, s, 0.01, train_output=True)
kept = []
def rule(g, W, gW, a, ga):
    kept[:] = [W, gW, a, ga]
    W -= g.eta * gW
    a -= g.eta * ga
gd.step_rule = rule
gd.run(3)
W_after = gd.W
gd.close()
del gd
gc.collect()
for x in range(20):
    junk = [np.ones(10 ** 5) for _ in range(10)]  # reuse the freed memory
print(sum(float(np.abs(x).sum()) for x in kept))
kept[0][:] = 7.0  # writing does no harm either
np.testing.assert_array_equal(kept[0], 7.0)
print("ok", np.array_equal(W_after, W_after))
"""


def test_step_rule_arrays_outlive_the_gd():
    r = run_python(STEP_RULE_AFTER_CLOSE, {})
    assert r.returncode == 0, (r.returncode, r.stderr)  # was -11 (SIGSEGV)
    assert r.stdout.splitlines()[-1] == "ok True"


def test_step_rule_arrays_are_not_the_state():
    t, s = problem()
    gd = tsrelu.GD(t, s, 0.05)
    ref = tsrelu.GD(t, s, 0.05)
    kept = []

    def rule(g, W, gW, a, ga):
        assert not gW.flags.writeable and a is None and ga is None
        W -= g.eta * gW
        kept.append(W)
    gd.step_rule = rule
    gd.run(4)
    ref.run(4)
    np.testing.assert_array_equal(gd.W, ref.W)
    kept[-1][:] = 0.0  # after the step: changes nothing in the state
    np.testing.assert_array_equal(gd.W, ref.W)

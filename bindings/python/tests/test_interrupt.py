"""Stopping runs: interrupt() from another thread or a callback (run()
returns Status.INTERRUPTED), and Ctrl-C (a real SIGINT sent to a child
process: run() raises KeyboardInterrupt within 0.2 s, the state is valid)."""
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import tsrelu

from conftest import PYDIR, ROOT

LONG = 10 ** 8  # steps: about 80 s at (6, 2, 8); every test stops it


def problem(seed=0):
    return (tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1 + seed),
            tsrelu.Student.gaussian(6, 8, 0.1, seed=2 + seed))


def test_status_codes_of_1_1():
    assert tsrelu.Status.INTERRUPTED == tsrelu.INTERRUPTED == 3
    assert tsrelu.Status.EBUSY == -9
    assert tsrelu.status_name(tsrelu.Status.INTERRUPTED) == "TSRELU_INTERRUPTED"
    assert tsrelu.status_name(tsrelu.Status.EBUSY) == "TSRELU_EBUSY"
    assert tsrelu.API_MAJOR == 1 and tsrelu.API_MINOR >= 1  # the 1.1 statuses exist from 1.1 on


def test_interrupt_from_another_thread(tmp_path):
    gd = tsrelu.GD(*problem(), 0.05)
    started = threading.Event()

    def stopper():
        started.wait(10)
        time.sleep(0.05)
        gd.interrupt()
    threading.Thread(target=stopper).start()
    t0 = time.monotonic()
    assert gd.run(LONG, observer=lambda g: g.iteration and started.set(),
                  every=10 ** 4) == tsrelu.INTERRUPTED
    assert time.monotonic() - t0 < 5
    it = gd.iteration
    assert 0 < it < LONG
    gd.save(tmp_path / "i.ckpt")
    back = tsrelu.GD.load(tmp_path / "i.ckpt")
    assert back.iteration == it
    assert gd.run(10) == tsrelu.OK and back.run(10) == tsrelu.OK
    np.testing.assert_array_equal(gd.W, back.W)


def test_interrupt_from_the_observer():
    gd = tsrelu.GD(*problem(), 0.05)
    assert gd.run(LONG, observer=lambda g: g.iteration == 500 and g.interrupt(),
                  every=100) == tsrelu.INTERRUPTED
    assert 500 <= gd.iteration <= 501  # before the next step
    assert gd.stop_value == 0


def test_a_request_without_a_run_has_no_effect():
    gd = tsrelu.GD(*problem(), 0.05)
    gd.interrupt()
    assert gd.run(20) == tsrelu.OK and gd.iteration == 20
    b = tsrelu.Batch(threads=1)
    b.add(*problem(), 0.05, 20)
    b.interrupt()
    assert b.run() == tsrelu.OK


def test_batch_interrupt_from_a_state_callback():
    b = tsrelu.Batch(threads=1)
    for i in range(3):
        b.add(*problem(i), 0.05, LONG)
    b.state(0).set_observer(lambda g: g.iteration == 1000 and b.interrupt(), every=1000)
    assert b.run() == tsrelu.INTERRUPTED
    sm = [b.summary(i) for i in range(3)]
    assert [s.status for s in sm] == [tsrelu.INTERRUPTED] * 3
    assert 1000 <= sm[0].iteration <= 1001 and sm[1].iteration == sm[2].iteration == 0
    assert b.state(0).run(5) == tsrelu.OK  # the states stay usable


def test_interrupt_one_run_of_a_batch():
    b = tsrelu.Batch(threads=2)
    b.add(*problem(), 0.05, LONG)
    b.add(*problem(1), 0.05, 3000)
    b.state(0).set_observer(lambda g: g.iteration == 2000 and g.interrupt(), every=1000)
    assert b.run() == tsrelu.INTERRUPTED
    assert b.summary(0).status == tsrelu.INTERRUPTED
    assert b.summary(1).status == tsrelu.OK and b.summary(1).iteration == 3000


# ------------------------------------------------------------ Ctrl-C

CHILD = r"""
import signal, socket, sys, threading, time
import numpy as np
import tsrelu

mode, ckpt = sys.argv[1], sys.argv[2]
t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
s = tsrelu.Student.gaussian(6, 8, 0.1, seed=2)
if mode == "step rule":  # ~5 ms a step, nearly all in C: most signals land there
    t = tsrelu.Teacher.orthogonal(4, 400, 1.0, seed=1)
    s = tsrelu.Student.gaussian(400, 400, 0.1, seed=2)
if mode == "batch":
    b = tsrelu.Batch(threads=2)
    for i in range(3):
        b.add(t, s, 0.01, 10 ** 8)
    state = b.state(0)
    go = b.run
else:
    gd = state = tsrelu.GD(t, s, 0.01)
    kw = {}
    threads = set()
    if mode == "observer":
        kw = dict(observer=lambda g: threads.add(threading.current_thread().name), every=1000)
    elif mode == "sparse observer":
        kw = dict(observer=lambda g: None, per_decade=1)
    elif mode == "step rule":
        def rule(g, W, gW, a, ga):
            W -= g.eta * gW
        gd.step_rule = rule
    elif mode == "wakeup fd in use":  # as an asyncio loop does
        pair = socket.socketpair()
        mine = pair[1]
        mine.setblocking(False)
        signal.set_wakeup_fd(mine.fileno())
    go = lambda: gd.run(10 ** 8, **kw)
print("ready", flush=True)
try:
    go()
    print("completed", flush=True)
    sys.exit(0)
except KeyboardInterrupt:
    caught = time.monotonic()
it = state.iteration
time.sleep(0.2)  # no second KeyboardInterrupt
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
if mode == "wakeup fd in use":
    assert signal.set_wakeup_fd(-1) == mine.fileno()
else:
    assert signal.set_wakeup_fd(-1) == -1
if mode == "observer":
    assert threads == {"MainThread"}, threads
if mode != "batch":
    assert state.run(20) == tsrelu.OK  # no interrupt request left over
    assert state.iteration == it + 20
    it = state.iteration
state.save(ckpt)
back = tsrelu.GD.load(ckpt)
assert back.iteration == it and np.array_equal(back.W, state.W)
assert state.run(10) == tsrelu.OK and state.iteration == it + 10
if mode == "batch":
    sm = [b.summary(i) for i in range(3)]
    assert all(x.status == tsrelu.INTERRUPTED for x in sm), sm
    assert sm[0].iteration == it and sm[2].iteration == 0, sm
print("interrupted %r %d" % (caught, it), flush=True)
"""


def ctrl_c(mode, tmp_path, script=CHILD, wait=0.5):
    """Run the child, send SIGINT `wait` s after it is ready; return
    (seconds from the signal to the KeyboardInterrupt, iteration)."""
    env = dict(os.environ, PYTHONPATH=str(PYDIR))
    # SIGINT back to its default in the child before Python starts, so that
    # Python installs its KeyboardInterrupt handler as in an interactive
    # session even when this test runs with SIGINT ignored (a shell's
    # background job, nohup): an ignored disposition is inherited
    child = subprocess.Popen([sys.executable, "-c", script, mode, str(tmp_path / "c.ckpt")],
                             cwd=str(ROOT), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(wait)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        pytest.fail("the child did not stop within 10 s of SIGINT (%s)" % err[-500:])
    assert child.returncode == 0, err
    assert "Exception ignored" not in err, err
    words = out.split()
    assert words[0] == "interrupted", out + err
    return float(words[1]) - sent, int(words[2])


@pytest.mark.parametrize("mode", ["plain", "observer", "sparse observer", "step rule", "batch",
                                  "wakeup fd in use"])
def test_ctrl_c_stops_a_run(mode, tmp_path):
    delay, it = ctrl_c(mode, tmp_path)
    assert 0 <= delay < 0.2, delay
    assert it > 0


STEPS = r"""
import sys, time
import tsrelu

t = tsrelu.Teacher.orthogonal(4, 400, 1.0, seed=1)
gd = tsrelu.GD(t, tsrelu.Student.gaussian(400, 400, 0.1, seed=2), 0.01)  # ~5 ms a step
calls = []
gd.step_rule = lambda g, W, gW, a, ga: calls.append(1)
print("ready", flush=True)
end = time.monotonic() + 3
try:
    while time.monotonic() < end:
        gd.step()
    print("completed", flush=True)  # the interrupt was lost
except KeyboardInterrupt:
    caught = time.monotonic()
assert gd.iteration == len(calls)
print("interrupted %r %d" % (caught, gd.iteration), flush=True)
"""


def test_ctrl_c_during_step_with_a_step_rule(tmp_path):
    """A SIGINT that lands while the C step computes the gradient used to be
    raised at the entry of the ctypes callback and swallowed there."""
    delay, it = ctrl_c("", tmp_path, script=STEPS, wait=0.3)
    assert 0 <= delay < 0.2, delay
    assert it > 0


def test_callbacks_run_in_the_calling_thread(problem):
    gd = tsrelu.GD(*problem, 0.05)
    seen = set()
    gd.step_rule = lambda g, W, gW, a, ga: seen.add(threading.current_thread())
    gd.run(5, observer=lambda g: seen.add(threading.current_thread()), every=1)
    b = tsrelu.Batch(threads=1)
    b.add(*problem, 0.05, 5)
    assert b.run() == tsrelu.OK
    assert seen == {threading.main_thread()}

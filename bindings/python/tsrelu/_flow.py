"""Gradient flow (tsrelu_flow_*, 1.2): dW/dt = -grad L integrated by SUNDIALS
CVODE, with the observers, tolerances, recorder and interrupt of GD."""
import contextlib
import weakref
from ctypes import POINTER, byref, c_double, c_uint64

import numpy as np

from ._args import real
from ._gd import _StateView, _callback, _run_observed, _schedule, _stop_value
from ._guard import Guard, anytime, in_own_callback, mutates, reads
from ._lib import OBSERVER_FN, Status, StopReason, call, fail, lib
from ._network import Student, Teacher, _Handle, new_handle, student_shape
from ._progress import Progress
from ._record import Record

TRAIN_OUTPUT, DENSE, KRYLOV, DQ_JACOBIAN, ACCURATE = 1, 2, 4, 8, 16  # TSRELU_FLOW_* flags
STATISTICS = ("steps", "rhs", "lin_rhs", "jacobians", "jtimes", "lin_iters", "err_fails", "conv_fails")


def _trampoline(flow_ref, fn):
    def observe(flow):
        return _stop_value(fn(flow), "the observer")

    def tramp(_fl, _user_data):
        flow = flow_ref()
        if flow is None:
            return 1
        return _callback(flow, observe, flow)
    return OBSERVER_FN(tramp)


class Flow(_StateView, _Handle):
    """Gradient flow dW/dt = -grad L from `student` (time 0) for `teacher`,
    integrated by CVODE (BDF) to relative and absolute tolerances rtol, atol
    (docs/flow.md: rtol 1e-8 for plots, 1e-10..1e-11 to measure late rates).
    GD at step eta is its explicit Euler scheme: GD's iteration T is time
    eta*T.

    run(t_end, observer=f, per_decade=P | every=N) integrates to t_end and
    calls f(flow) at the times 0, 10^(j/P) (or 0, N, 2N, ...) and at the end;
    f returns None/0 to continue or a non-zero int to stop (Status.STOPPED).
    solver: "auto", "dense" or "krylov"; accurate=True evaluates the gradient
    in quadruple precision (needed past t ~ 1e8, with rtol ~ 1e-12);
    dq_jacobian=True uses difference quotients instead of the Hessian.
    Properties return copies.
    """

    _free = "tsrelu_flow_free"
    _kind = "Flow"

    def __init__(self, teacher, student, *, rtol=1e-8, atol=1e-14, train_output=False, solver="auto",
                 accurate=False, dq_jacobian=False, loss_tol=0.0, grad_tol=0.0):
        if not isinstance(teacher, Teacher):
            raise TypeError("Flow: teacher must be a tsrelu.Teacher, got %s" % type(teacher).__name__)
        if not isinstance(student, Student):
            raise TypeError("Flow: student must be a tsrelu.Student, got %s" % type(student).__name__)
        self._adopt(new_handle("tsrelu_flow_create", teacher._h(), student._h(), real(rtol, "rtol", "Flow"),
                               real(atol, "atol", "Flow")))
        self._guard = Guard()
        self._depth, self._cb_thread, self._pending = 0, None, None
        self._observer, self._recorder = None, None
        p = self._ptr
        self._m, self._d = student_shape(lib.tsrelu_flow_student(p))
        self._k = int(lib.tsrelu_teacher_width(lib.tsrelu_flow_teacher(p)))
        self._extra = (ACCURATE if accurate else 0) | (DQ_JACOBIAN if dq_jacobian else 0)
        self._set_flags(train_output, solver)
        if loss_tol or grad_tol:
            self.set_tolerances(loss_tol, grad_tol)

    def _set_flags(self, train_output, solver):
        kinds = {"auto": 0, "dense": DENSE, "krylov": KRYLOV}
        if solver not in kinds:
            fail(Status.EINVAL, "Flow: solver=%r; one of auto, dense, krylov" % (solver,))
        call("tsrelu_flow_set_flags", self._h(),
             (TRAIN_OUTPUT if train_output else 0) | kinds[solver] | self._extra)

    def _s(self):
        return lib.tsrelu_flow_student(self._h())

    def _t(self):
        return lib.tsrelu_flow_teacher(self._h())

    @property
    def m(self):
        return self._m

    @property
    def d(self):
        return self._d

    @property
    def k(self):
        return self._k

    # ---- settings

    @property
    @reads
    def train_output(self):
        return bool(lib.tsrelu_flow_flags(self._h()) & TRAIN_OUTPUT)

    @train_output.setter
    @mutates
    def train_output(self, on):
        flags = int(lib.tsrelu_flow_flags(self._h()))
        call("tsrelu_flow_set_flags", self._h(), (flags & ~TRAIN_OUTPUT) | (TRAIN_OUTPUT if on else 0))

    @property
    @reads
    def solver(self):
        """The linear solver in use: "dense" or "krylov"."""
        return "dense" if lib.tsrelu_flow_solver(self._h()) == DENSE else "krylov"

    @solver.setter
    @mutates
    def solver(self, kind):
        self._set_flags(self.train_output, kind)

    @property
    @reads
    def accuracy(self):
        """(rtol, atol) of the integrator; assign a pair to change them."""
        r, a = c_double(), c_double()
        call("tsrelu_flow_accuracy", self._h(), byref(r), byref(a))
        return r.value, a.value

    @accuracy.setter
    @mutates
    def accuracy(self, pair):
        rtol, atol = pair
        call("tsrelu_flow_set_accuracy", self._h(), real(rtol, "rtol", "Flow.accuracy"),
             real(atol, "atol", "Flow.accuracy"))

    @mutates
    def set_tolerances(self, loss_tol=0.0, grad_tol=0.0):
        """run() returns Status.CONVERGED once L <= loss_tol or |grad| <=
        grad_tol (tested after every integrator step); 0 disables a test."""
        fn = "Flow.set_tolerances"
        call("tsrelu_flow_set_tolerances", self._h(), real(loss_tol, "loss_tol", fn),
             real(grad_tol, "grad_tol", fn))

    @property
    @reads
    def tolerances(self):
        lt, gt = c_double(), c_double()
        call("tsrelu_flow_tolerances", self._h(), byref(lt), byref(gt))
        return lt.value, gt.value

    # ---- state

    @property
    @reads
    def time(self):
        """The flow time of the state."""
        return float(lib.tsrelu_flow_time(self._h()))

    @property
    @reads
    def stop_value(self):
        return int(lib.tsrelu_flow_stop_value(self._h()))

    @property
    @reads
    def stop_reason(self):
        r = int(lib.tsrelu_flow_stop_reason(self._h()))
        try:
            return StopReason(r)
        except ValueError:
            return r

    @reads
    def loss(self):
        """Loss at the state (double precision)."""
        L = c_double()
        call("tsrelu_flow_loss", self._h(), byref(L))
        return L.value

    @reads
    def gradient_norm(self):
        g = c_double()
        call("tsrelu_flow_gradient_norm", self._h(), byref(g))
        return g.value

    @property
    @reads
    def statistics(self):
        """The integrator's counters since creation, a dict: steps, rhs
        (gradients), lin_rhs (gradients for Jacobians / J v), jacobians,
        jtimes, lin_iters, err_fails, conv_fails."""
        out = np.zeros(len(STATISTICS), dtype=np.uint64)
        call("tsrelu_flow_statistics", self._h(), out.ctypes.data_as(POINTER(c_uint64)), out.size)
        return dict(zip(STATISTICS, (int(x) for x in out)))

    # ---- callbacks and recorder

    @mutates
    def set_observer(self, fn, *, every=None, per_decade=None):
        """Install fn(flow) for later runs (None removes it); schedule every=N
        (times 0, N, 2N, ...) or per_decade=P (0 and 10^(j/P)); default
        per_decade=10."""
        if fn is None:
            self._install_observer(None, 0, 0)
            return
        if not callable(fn):
            raise TypeError("Flow.set_observer: %r is not callable" % (fn,))
        self._install_observer(fn, *_schedule(every, per_decade, "Flow.set_observer"))

    def _install_observer(self, fn, kind, param):
        h = self._h()
        if fn is None:
            call("tsrelu_flow_set_observer", h, OBSERVER_FN(), None, 0, 0)
            self._observer = None
            return
        c_fn = _trampoline(weakref.ref(self), fn)
        call("tsrelu_flow_set_observer", h, c_fn, None, kind, param)
        self._observer = (fn, kind, param, c_fn)

    @mutates
    def record(self, capacity, *, every=None, per_decade=None, accurate_loss=False):
        """A new tsrelu.Record attached to this flow: rows at the schedule's
        times and at the end of each run; record.time holds the times."""
        kind, param = _schedule(every, per_decade, "Flow.record")
        r = Record(self, capacity, accurate_loss=accurate_loss, _create="tsrelu_record_create_flow",
                   _fn="Flow.record")
        call("tsrelu_flow_set_recorder", self._h(), r._h(), kind, param)
        if self._recorder is not None and self._recorder is not r:
            self._recorder._detach()
        self._recorder = r
        r._attach(self)
        return r

    @property
    def recorder(self):
        return self._recorder

    @anytime
    def interrupt(self):
        """Ask the run in progress to stop after its current integrator step
        (run() returns Status.INTERRUPTED)."""
        call("tsrelu_flow_interrupt", self._h())

    def run(self, t_end, observer=None, *, every=None, per_decade=None, progress=False):
        """Integrate to time t_end. With `observer`, fn(flow) is installed for
        this run only. Returns Status.OK, CONVERGED, STOPPED or INTERRUPTED;
        raises tsrelu.Error on failure (EDIVERGED: the state keeps the last
        good time) and re-raises an exception from a callback. Ctrl-C stops
        the run after the current step and raises KeyboardInterrupt.
        progress=True shows a bar over log10 of the time (updated at the
        observer's times; with no observer, 10 per decade)."""
        fn = "Flow.run"
        t_end = real(t_end, "t_end", fn)
        if observer is None:
            if every is not None or per_decade is not None:
                fail(Status.EINVAL, "Flow.run: a schedule was given without an observer")
        elif not callable(observer):
            raise TypeError("Flow.run: observer %r is not callable" % (observer,))
        else:
            schedule = _schedule(every, per_decade, fn)
        bar = contextlib.nullcontext()
        if progress:
            import math
            span = lambda t: math.log10(1.0 + t)
            start, seen = self.time, [self.time]
            # in hundredths of a decade of 1 + t
            bar = Progress("Flow.run", 100 * (span(t_end) - span(start)),
                           lambda: 100 * (span(seen[0]) - span(start)))
            user = observer

            def observer(f, _user=user, _bar=bar, _seen=seen):
                _seen[0] = f.time
                _bar.loss = f.loss()
                return _user(f) if _user is not None else None
            if user is None:
                schedule = (self._observer[1], self._observer[2]) if self._observer else _schedule(None, 10, fn)
                if self._observer:
                    inner = self._observer[0]
                    observer = lambda f, _o=observer, _i=inner: (_o(f), _i(f))[1]
        return _run_observed(self, "run", observer, schedule if observer is not None else None, bar,
                             lambda h: lib.tsrelu_flow_run(h, t_end), lib.tsrelu_flow_interrupt)

    @mutates
    def close(self):
        """Free the C flow now."""
        super().close()
        self._observer = None

    def __repr__(self):
        if self.closed:
            return "<tsrelu.Flow (closed)>"
        if self._guard.busy(self) and not in_own_callback(self):
            return "<tsrelu.Flow m=%d k=%d d=%d (running)>" % (self._m, self._k, self._d)
        return "<tsrelu.Flow m=%d k=%d d=%d t=%g>" % (self._m, self._k, self._d, self.time)

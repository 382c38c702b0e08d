"""The gradient-descent state and its Python callbacks."""
import contextlib
import threading
import weakref
from ctypes import byref, c_double, c_int64, c_size_t, memmove

import numpy as np

from . import _metrics
from ._args import c_integer, matrix, path_arg, ptr, real
from ._guard import Guard, anytime, in_own_callback, mutates, reads
from ._interrupt import call_holding_sigint, call_interruptibly, status_of
from ._progress import Progress
from ._lib import (CALLBACK_RAISED, OBSERVER_FN, SCHEDULE_LINEAR, SCHEDULE_LOG, STEP_FN, Status,
                   StopReason, call, fail, lib, outcome)
from ._record import Record
from ._network import (Student, Teacher, _Handle, gradient_raw, loss_raw, new_handle,
                       student_a, student_shape, student_W, teacher_b, teacher_V)


def _stop_value(rv, what):
    """A callback's return value as the C int it hands back: None/False -> 0
    (continue), True -> 1, an int in the C int range -> itself."""
    if rv is None or rv is False:
        return 0
    if rv is True:
        return 1
    try:
        return c_integer(rv, "int", "the return value", what)
    except TypeError:
        raise TypeError("%s returned %r: return None or 0 to continue, a non-zero int to stop"
                        % (what, rv)) from None


def _schedule(every, per_decade, fn):
    if every is not None and per_decade is not None:
        fail(Status.EINVAL, "%s: give every= or per_decade=, not both" % fn)
    if every is not None:
        return SCHEDULE_LINEAR, c_integer(every, "uint64_t", "every", fn)
    return SCHEDULE_LOG, c_integer(10 if per_decade is None else per_decade, "uint64_t",
                                   "per_decade", fn)


def _callback(gd, fn, *args):
    """One call of a Python callback of `gd`: marks this thread as inside
    gd's callback (for the guard) and turns an exception into
    CALLBACK_RAISED, kept in gd._pending for run()/step() to re-raise."""
    gd._depth += 1
    gd._cb_thread = threading.get_ident()
    try:
        return fn(*args)
    except BaseException as e:  # KeyboardInterrupt too: the run stops
        gd._pending = e
        return CALLBACK_RAISED
    finally:
        gd._depth -= 1


def _observer_trampoline(gd_ref, fn):
    def observe(gd):
        return _stop_value(fn(gd), "the observer")

    def tramp(_gd, _user_data):
        gd = gd_ref()
        if gd is None:  # cannot happen while a run holds the GD
            return 1
        return _callback(gd, observe, gd)
    return OBSERVER_FN(tramp)


def _step_trampoline(gd_ref, fn, m, d):
    """The step rule gets the binding's own arrays, not views of C memory: a
    reference kept past the call (or past gd.close()) stays valid. They are
    filled from the C buffers before the call and W, a copied back after it
    when the rule accepts the update; the same arrays are reused every step."""
    W, gW, a, ga = np.empty((m, d)), np.empty((m, d)), np.empty(m), np.empty(m)
    gW_ro, ga_ro = gW.view(), ga.view()
    gW_ro.flags.writeable = ga_ro.flags.writeable = False
    nW, na = 8 * m * d, 8 * m
    pW, pgW, pa, pga = (x.ctypes.data for x in (W, gW, a, ga))

    def rule(gd, cW, cgW, ca, cga):
        memmove(pW, cW, nW)
        memmove(pgW, cgW, nW)
        if ca:
            memmove(pa, ca, na)
            memmove(pga, cga, na)
        rv = _stop_value(fn(gd, W, gW_ro, a if ca else None, ga_ro if ca else None),
                         "the step rule")
        if rv == 0:
            memmove(cW, pW, nW)
            if ca:
                memmove(ca, pa, na)
        return rv

    def tramp(_gd, cW, cgW, ca, cga, _user_data):
        gd = gd_ref()
        if gd is None:
            return 1
        return _callback(gd, rule, gd, cW, cgW, ca, cga)
    return STEP_FN(tramp)


def _run_observed(obj, what, observer, schedule, bar, c_run, c_interrupt):
    """The run of a GD or Flow `obj`: hold its guard, install `observer`
    (with its (kind, param) schedule) for this run only, call c_run(handle)
    so that Ctrl-C can stop it (c_interrupt(handle)), restore the previous
    observer, re-raise what a callback raised, and return the status."""
    h = obj._guard.start(obj, what)
    try:
        previous = obj._observer
        if observer is not None:
            obj._install_observer(observer, *schedule)
        try:
            obj._pending = None
            with bar:
                st, message = call_interruptibly(lambda: c_run(h), lambda: c_interrupt(h))
        finally:
            if observer is not None:
                obj._install_observer(*(previous[:3] if previous else (None, 0, 0)))
    except BaseException:
        obj._pending = None
        raise
    finally:
        obj._guard.stop(obj)
    pending, obj._pending = obj._pending, None
    if pending is not None:
        raise pending
    status = outcome(st, message)
    if obj._recorder is not None:
        obj._recorder._check_missed()
    return status


class _StateView:
    """What a GD state and a Flow share: copies of the current student, its
    weights and the teacher, and the quad-precision loss, read through the
    subclass's _s() and _t() (the library's views of its student and
    teacher)."""

    @property
    @reads
    def student(self):
        """An independent Student copy of the current iterate."""
        return Student._from_ptr(new_handle("tsrelu_student_copy", self._s()))

    @property
    @reads
    def teacher(self):
        """An independent Teacher copy of the state's teacher."""
        t = self._t()
        return Teacher(teacher_V(t), teacher_b(t))

    @property
    @reads
    def W(self):
        """A copy of the current weights (m x d)."""
        return student_W(self._s())

    @property
    @reads
    def a(self):
        """A copy of the current output weights (m,)."""
        return student_a(self._s())

    @reads
    def loss_accurate(self):
        """Loss at the current iterate in quadruple precision (meaningful below 1e-16)."""
        return loss_raw(self._s(), self._t(), accurate=True)


class GD(_StateView, _Handle):
    """Gradient descent on teacher `teacher` from student `student` with step
    size `eta`. Both are copied: they may be closed or collected at once.

    run(steps, observer=f, every=N | per_decade=P) calls f(gd) at the
    scheduled and at the final iterate; f returns None/0 to continue or a
    non-zero int to stop (run() then returns Status.STOPPED and stop_value
    has the int). If f raises, the run stops and run() re-raises. Ctrl-C
    stops run() at the next step and raises KeyboardInterrupt; interrupt()
    (from another thread or a callback) makes it return Status.INTERRUPTED.
    A step rule (step_rule = g) replaces W <- W - eta gW: g(gd, W, gW, a, ga)
    updates the arrays W (m x d) and a (m,; None unless train_output) in
    place; gW and ga are read-only. They are the binding's own buffers,
    copied from and back to the state around the call and reused each step.
    While a run or step is in progress, its own callbacks may read the state;
    every other use raises tsrelu.Error (TSRELU_EBUSY).
    """

    _free = "tsrelu_gd_free"
    _kind = "GD"

    def __init__(self, teacher, student, eta, *, train_output=False, loss_tol=0.0,
                 grad_tol=0.0):
        if not isinstance(teacher, Teacher):
            raise TypeError("GD: teacher must be a tsrelu.Teacher, got %s" % type(teacher).__name__)
        if not isinstance(student, Student):
            raise TypeError("GD: student must be a tsrelu.Student, got %s" % type(student).__name__)
        self._setup(new_handle("tsrelu_gd_create", teacher._h(), student._h(),
                               real(eta, "eta", "GD")), Guard())
        if train_output:
            self.train_output = True
        if loss_tol or grad_tol:
            self.set_tolerances(loss_tol, grad_tol)

    def _setup(self, p, guard, owner=None):
        self._owner = owner      # the Batch owning this state, or None (then we own it)
        self._guard = guard      # shared with the batch and its other states, if any
        self._depth = 0          # > 0 while one of our callbacks runs ...
        self._cb_thread = None   # ... in this thread
        self._pending = None     # exception raised by a callback
        self._observer = None    # (callable, kind, param, CFUNCTYPE object) while installed
        self._step_rule = None   # (callable, CFUNCTYPE object) while installed
        self._step_state = None  # the numpy array declared as step state
        self._recorder = None    # the attached Record, or None
        if owner is None:
            self._adopt(p)
        else:
            self._ptr, self._finalizer = p, None  # never freed here
        self._m, self._d = student_shape(lib.tsrelu_gd_student(p))
        self._k = int(lib.tsrelu_teacher_width(lib.tsrelu_gd_teacher(p)))

    @classmethod
    def _borrow(cls, p, owner):
        """A GD wrapper of a state owned by `owner` (a Batch): never freed
        here, unusable once the owner is closed."""
        self = cls.__new__(cls)
        self._setup(p, owner._guard, owner)
        return self

    def _h(self):
        owner = getattr(self, "_owner", None)
        if owner is not None and owner.closed:
            fail(Status.EINVAL, "this GD belongs to a closed Batch")
        return super()._h()

    # ---- checkpoints

    @reads
    def save(self, path):
        """Write a checkpoint to `path` (str, bytes or os.PathLike)
        atomically (tsrelu_gd_save). Callbacks are not saved; the declared
        step state is. Allowed inside an observer."""
        call("tsrelu_gd_save", self._h(), path_arg(path, "GD.save"))

    @classmethod
    def load(cls, path, *, train_output=None):
        """A new GD state from a checkpoint; running it continues bit for bit.
        Install observers and step rules again; declare the step state again
        with set_step_state() to restore it."""
        self = cls.__new__(cls)
        self._setup(new_handle("tsrelu_gd_load", path_arg(path, "GD.load")), Guard())
        if train_output is not None:
            self.train_output = train_output
        return self

    @property
    def step_state(self):
        """The numpy array declared with set_step_state(), or None."""
        return self._step_state

    @mutates
    def set_step_state(self, state):
        """Declare `state` (a writable, C-contiguous float64 numpy array that
        the step rule updates, e.g. a momentum buffer) as saved by save(). On
        a loaded GD holding a step state, its saved contents are copied into
        `state` (which must then have that length). None clears it. The GD
        keeps a reference to the array while it is declared."""
        h = self._h()
        if state is None:
            call("tsrelu_gd_set_step_state", h, None, 0)
            self._step_state = None
            return None
        if not (type(state) is np.ndarray and state.dtype == np.float64
                and state.flags.c_contiguous and state.flags.writeable):
            raise TypeError("GD.set_step_state: need a writable C-contiguous float64 numpy array "
                            "(not a subclass such as a masked array; the library reads and "
                            "writes it in place)")
        call("tsrelu_gd_set_step_state", h, ptr(state), state.size)
        self._step_state = state
        return state

    @mutates
    def close(self):
        """Free the C state now (a Batch's state is only detached)."""
        if self._owner is not None:
            self._ptr = None
        else:
            super().close()
        self._observer = None
        self._step_rule = None

    # ---- views of the current iterate (owned by the C state)

    def _s(self):
        return lib.tsrelu_gd_student(self._h())

    def _t(self):
        return lib.tsrelu_gd_teacher(self._h())

    # ---- sizes and parameters

    @property
    def m(self):
        return self._m

    @property
    def d(self):
        return self._d

    @property
    def k(self):
        return self._k

    @property
    @reads
    def eta(self):
        """Step size (assignable: > 0 and finite)."""
        return float(lib.tsrelu_gd_eta(self._h()))

    @eta.setter
    @mutates
    def eta(self, value):
        call("tsrelu_gd_set_eta", self._h(), real(value, "eta", "GD.eta"))

    @property
    @reads
    def train_output(self):
        """Whether the output weights a are trained too (default False;
        restored by load())."""
        return bool(lib.tsrelu_gd_train_output(self._h()))

    @train_output.setter
    @mutates
    def train_output(self, on):
        call("tsrelu_gd_set_train_output", self._h(), 1 if on else 0)

    # ---- sampled training (1.2, docs/sgd.md)

    @mutates
    def set_sampling(self, batch, n_train=0, seed=0, *, X=None):
        """Step on the gradient of an empirical loss of `batch` inputs
        instead of the closed form: n_train=0 is online SGD (fresh Gaussian
        inputs each step), n_train >= batch a training set of n_train
        Gaussian inputs generated from `seed` (minibatches without
        replacement; batch=n_train is full batch). X (n x d array) gives
        the training set instead (n_train must then be 0 or n). batch=0
        returns to exact GD. Observers, the recorder, loss() and the
        tolerances still see the exact population loss."""
        fn = "GD.set_sampling"
        b = c_integer(batch, "size_t", "batch", fn)
        sd = c_integer(seed, "uint64_t", "seed", fn)
        if X is None:
            call("tsrelu_gd_set_sampling", self._h(), b, c_integer(n_train, "size_t", "n_train", fn),
                 sd, 0)
            return
        Xa = matrix(X, "X", fn)
        if n_train not in (0, Xa.shape[0]):
            fail(Status.EINVAL, "%s: n_train=%s disagrees with X's %d rows" % (fn, n_train, Xa.shape[0]))
        call("tsrelu_gd_set_training_set", self._h(), ptr(Xa), Xa.size, b, sd, 0)

    @property
    @reads
    def sampling(self):
        """(batch, n_train): (0, 0) for exact GD, (B, 0) for online SGD."""
        b, n = c_size_t(), c_size_t()
        call("tsrelu_gd_sampling", self._h(), byref(b), byref(n))
        return b.value, n.value

    @reads
    def sample_loss(self):
        """The empirical loss of the latest sampled step's batch, at the
        iterate that step started from."""
        L = c_double()
        call("tsrelu_gd_sample_loss", self._h(), byref(L))
        return L.value

    @reads
    def training_loss(self):
        """The empirical loss over the whole training set at the current
        iterate (not for online SGD)."""
        L = c_double()
        call("tsrelu_gd_training_loss", self._h(), byref(L))
        return L.value

    @mutates
    def set_tolerances(self, loss_tol=0.0, grad_tol=0.0):
        """run() returns Status.CONVERGED once L <= loss_tol or |grad| <=
        grad_tol; 0 disables a test."""
        fn = "GD.set_tolerances"
        call("tsrelu_gd_set_tolerances", self._h(), real(loss_tol, "loss_tol", fn),
             real(grad_tol, "grad_tol", fn))

    @property
    @reads
    def tolerances(self):
        """(loss_tol, grad_tol) as set with set_tolerances()."""
        lt, gt = c_double(), c_double()
        call("tsrelu_gd_tolerances", self._h(), byref(lt), byref(gt))
        return lt.value, gt.value

    # ---- state

    @property
    @reads
    def iteration(self):
        """Iteration number of the current iterate (0 at creation)."""
        return int(lib.tsrelu_gd_iteration(self._h()))

    @property
    def progress(self):
        """The iteration of the latest committed step. Unlike `iteration`, safe
        to read from any thread while run() executes (for progress bars):
        tsrelu_gd_progress, an atomic load."""
        return int(lib.tsrelu_gd_progress(self._h()))

    @property
    @reads
    def stop_value(self):
        """The non-zero value of the callback that stopped the latest run."""
        return int(lib.tsrelu_gd_stop_value(self._h()))

    @property
    @reads
    def stop_reason(self):
        """Why the latest run or step returned: a StopReason (STEPS,
        LOSS_TOL, GRAD_TOL, OBSERVER, STEP_RULE, INTERRUPT, ERROR; NONE
        before the first one)."""
        r = int(lib.tsrelu_gd_stop_reason(self._h()))
        try:
            return StopReason(r)
        except ValueError:  # a reason added after this binding
            return r

    @reads
    def loss(self):
        """Loss at the current iterate (double precision, cached by runs)."""
        L = c_double()
        call("tsrelu_gd_loss", self._h(), byref(L))
        return L.value

    @reads
    def gradient(self, output=False):
        """dL/dW at the current iterate; with output=True (dL/dW, dL/da)."""
        return gradient_raw(self._s(), self._t(), bool(output))

    @reads
    def gradient_norm(self):
        """|grad L|_2 at the current iterate (over a too when trained)."""
        g = c_double()
        call("tsrelu_gd_gradient_norm", self._h(), byref(g))
        return g.value

    # ---- metrics of the current iterate (no copies)

    @reads
    def angles(self):
        return _metrics.angles_raw(self._s(), self._t())

    @reads
    def nearest_teacher(self):
        return _metrics.nearest_raw(self._s(), self._t())

    @reads
    def components(self, tau=None):
        return _metrics.components_raw(self._s(), self._t(), tau)

    @reads
    def deficit(self, tau=None):
        return _metrics.deficit_raw(self._s(), self._t(), tau)

    @reads
    def balance(self, tau=None):
        return _metrics.balance_raw(self._s(), self._t(), tau)

    # ---- phases

    @property
    @reads
    def phase(self):
        """1, 2 or 3 at the latest evaluated iterate."""
        return int(lib.tsrelu_gd_phase(self._h()))

    @property
    @reads
    def phase_times(self):
        """(t1, t2): ends of alignment and of tangential growth, None if not
        reached yet."""
        t1, t2 = c_int64(), c_int64()
        call("tsrelu_gd_phase_times", self._h(), byref(t1), byref(t2))
        return (None if t1.value < 0 else t1.value, None if t2.value < 0 else t2.value)

    @reads
    def groups(self, initial=False):
        """Nearest-teacher assignment at iteration 0 (initial=True) or at the
        latest evaluated iterate; int array of length m, -1 for zero students."""
        tau = np.empty(self._m, dtype=np.intc)
        call("tsrelu_gd_groups", self._h(), 1 if initial else 0, ptr(tau), tau.size)
        return tau

    @property
    @reads
    def group_switches(self):
        """Students whose nearest teacher differs from the one at iteration 0."""
        return int(lib.tsrelu_gd_group_switches(self._h()))

    @mutates
    def set_phase_thresholds(self, eps_align, eps_deficit):
        """Thresholds of the phase tracker; resets t1 and t2."""
        fn = "GD.set_phase_thresholds"
        call("tsrelu_gd_set_phase_thresholds", self._h(), real(eps_align, "eps_align", fn),
             real(eps_deficit, "eps_deficit", fn))

    # ---- callbacks

    @property
    def observer(self):
        """The installed observer callable, or None."""
        return self._observer[0] if self._observer else None

    @mutates
    def set_observer(self, fn, *, every=None, per_decade=None):
        """Install fn(gd) for every later run (None removes it). Schedule:
        every=N (iterations 0, N, 2N, ...) or per_decade=P (0 and
        ceil(10^(j/P))); default per_decade=10. The final iterate of each run
        is observed as well."""
        if fn is None:
            self._install_observer(None, 0, 0)
            return
        if not callable(fn):
            raise TypeError("GD.set_observer: %r is not callable" % (fn,))
        self._install_observer(fn, *_schedule(every, per_decade, "GD.set_observer"))

    def _install_observer(self, fn, kind, param):
        """set_observer() without the guard, for run()'s own observer."""
        h = self._h()
        if fn is None:
            call("tsrelu_gd_set_observer", h, OBSERVER_FN(), None, 0, 0)  # NULL: remove
            self._observer = None
            return
        c_fn = _observer_trampoline(weakref.ref(self), fn)
        call("tsrelu_gd_set_observer", h, c_fn, None, kind, param)
        self._observer = (fn, kind, param, c_fn)  # keeps c_fn alive while installed

    # ---- trajectory recorder

    @mutates
    def record(self, capacity, *, every=None, per_decade=None, accurate_loss=False):
        """A new tsrelu.Record with room for `capacity` iterates, attached to
        this GD (replacing any recorder attached before): later runs record
        at its schedule (as set_observer: every=N or per_decade=P, default
        per_decade=10) and at the final iterate of each run. accurate_loss
        also records tsrelu_loss_accurate."""
        schedule = _schedule(every, per_decade, "GD.record")
        r = Record(self, capacity, accurate_loss=accurate_loss)
        self._attach_recorder(r, *schedule)
        return r

    @mutates
    def set_recorder(self, record, *, every=None, per_decade=None):
        """Attach an existing Record (new rows are appended), or detach the
        attached one with None."""
        if record is None:
            self._attach_recorder(None, 0, 0)
            return
        if not isinstance(record, Record):
            raise TypeError("GD.set_recorder: %r is not a tsrelu.Record" % (record,))
        self._attach_recorder(record, *_schedule(every, per_decade, "GD.set_recorder"))

    def _attach_recorder(self, r, kind, param):
        call("tsrelu_gd_set_recorder", self._h(), r._h() if r is not None else None, kind, param)
        if self._recorder is not None and self._recorder is not r:
            self._recorder._detach()
        self._recorder = r
        if r is not None:
            r._attach(self)

    @property
    def recorder(self):
        """The attached tsrelu.Record, or None."""
        return self._recorder

    @property
    def step_rule(self):
        """The custom update fn(gd, W, gW, a, ga), or None for plain GD.
        Assign a callable to install it, None to remove it."""
        return self._step_rule[0] if self._step_rule else None

    @step_rule.setter
    @mutates
    def step_rule(self, fn):
        h = self._h()
        if fn is None:
            call("tsrelu_gd_set_step", h, STEP_FN(), None)  # NULL: remove
            self._step_rule = None
            return
        if not callable(fn):
            raise TypeError("GD.step_rule: %r is not callable" % (fn,))
        c_fn = _step_trampoline(weakref.ref(self), fn, self._m, self._d)
        call("tsrelu_gd_set_step", h, c_fn, None)
        self._step_rule = (fn, c_fn)

    @anytime
    def interrupt(self):
        """Ask the run in progress on this GD to stop before its next step:
        run() then returns Status.INTERRUPTED with the state at its last
        completed step. Callable from any thread and from the GD's own
        callbacks. A request while no run is in progress has no effect (each
        run clears it when it starts); step() is not interruptible."""
        call("tsrelu_gd_interrupt", self._h())

    def _finish(self, st, message):
        """Status of a step/run; re-raise what a callback raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            raise pending
        return outcome(st, message)

    def step(self):
        """One update (no observer, no tolerance test). Returns Status.OK, or
        Status.STOPPED if the step rule refused (state unchanged)."""
        h = self._guard.start(self, "step")
        try:
            self._pending = None
            # a Python step rule: Ctrl-C is held until the step is done
            call = status_of if self._step_rule is None else call_holding_sigint
            st, message = call(lambda: lib.tsrelu_gd_step(h))
        finally:
            self._guard.stop(self)
        return self._finish(st, message)

    def run(self, steps, observer=None, *, every=None, per_decade=None, progress=False):
        """Up to `steps` updates. With `observer`, fn(gd) is installed for this
        run only (schedule as in set_observer) and the previous observer is
        restored afterwards. Returns Status.OK (all steps done),
        Status.CONVERGED, Status.STOPPED or Status.INTERRUPTED (interrupt());
        raises tsrelu.Error on failure (EDIVERGED: the state keeps the last
        finite iterate) and re-raises an exception from a callback. Ctrl-C
        stops the run at the next step and raises KeyboardInterrupt; the
        state is valid (it can continue or be saved).

        progress=True shows a bar on stderr (tqdm when installed, else a
        plain line) with the steps, steps/s, the loss and the time left; the
        steps are read from another thread (tsrelu_gd_progress), the loss at
        the observer's iterates (with no observer at all, one at 10 points
        per decade is installed for this run)."""
        fn = "GD.run"
        steps = c_integer(steps, "uint64_t", "steps", fn)
        if observer is None:
            if every is not None or per_decade is not None:
                fail(Status.EINVAL, "GD.run: a schedule was given without an observer")
        elif not callable(observer):
            raise TypeError("GD.run: observer %r is not callable" % (observer,))
        else:
            schedule = _schedule(every, per_decade, fn)
        bar = contextlib.nullcontext()
        if progress:
            start = self.progress
            bar = Progress("GD.run", steps, lambda: self.progress - start)
            if observer is not None:
                user = observer

                def observer(g, _user=user, _bar=bar):
                    _bar.loss = g.loss()
                    return _user(g)
            elif self._observer is None:
                def observer(g, _bar=bar):
                    _bar.loss = g.loss()
                schedule = _schedule(None, 10, fn)
        return _run_observed(self, "run", observer, schedule if observer is not None else None, bar,
                             lambda h: lib.tsrelu_gd_run(h, steps), lib.tsrelu_gd_interrupt)

    def __repr__(self):
        if self.closed:
            return "<tsrelu.GD (closed)>"
        if self._guard.busy(self) and not in_own_callback(self):
            return "<tsrelu.GD m=%d k=%d d=%d (running)>" % (self._m, self._k, self._d)
        return "<tsrelu.GD m=%d k=%d d=%d eta=%g iteration=%d>" % (
            self._m, self._k, self._d, self.eta, self.iteration)

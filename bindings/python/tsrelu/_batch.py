"""Batches: many independent GD runs on a pool of threads (tsrelu_batch_*)."""
import collections
import contextlib
from ctypes import byref, c_size_t, c_uint64

import numpy as np

from ._args import c_integer, ptr, real
from ._gd import GD
from ._guard import Guard, anytime, mutates, reads
from ._interrupt import call_interruptibly
from ._lib import Status, call, fail, lib, outcome, status_name
from ._progress import Progress
from ._network import Student, Teacher, _Handle, new_handle

# Field names of the per-run summary, in the order of the TSRELU_SUMMARY_*
# indices of tsrelu.h.
SUMMARY_FIELDS = ("status", "iteration", "loss", "grad_norm", "t1", "t2", "phase", "switches",
                  "slope", "ratio_min", "ratio_max", "seconds")
Summary = collections.namedtuple("Summary", SUMMARY_FIELDS)
_INT_FIELDS = {"status", "iteration", "phase", "switches"}


class Batch(_Handle):
    """Independent GD runs executed by run() on `threads` threads (None: all
    online CPUs), each bit-identical to running its state alone.

        b = Batch()
        i = b.add(teacher, student, eta=0.1, steps=10**5)
        b.state(i).set_tolerances(loss_tol=1e-20)     # configure before run()
        b.run()
        b.summary(i).slope

    Callbacks installed on b.state(i) are called from worker threads (each
    run on one thread); an exception in one stops that run and is re-raised
    by run() after every run has finished. Ctrl-C stops every run at its
    next step and raises KeyboardInterrupt. While the batch runs, only the
    callbacks of a state may use that state, and interrupt() the batch;
    everything else raises tsrelu.Error (TSRELU_EBUSY).
    """

    _free = "tsrelu_batch_free"
    _kind = "Batch"
    _holds_states = True  # for the guard: busy while any of its states runs

    def __init__(self, threads=None):
        self._states = {}
        self._configs = []  # per run: sizes, eta, steps and the caller's labels
        self._guard = Guard()  # shared with the states
        self._adopt(new_handle("tsrelu_batch_create"))
        if threads is not None:
            self.set_threads(threads)

    @mutates
    def close(self):
        for gd in self._states.values():
            gd._ptr = None  # the states die with the batch
        super().close()

    @mutates
    def set_threads(self, threads):
        """threads >= 1, or 0 for all online CPUs."""
        call("tsrelu_batch_set_threads", self._h(),
             c_integer(threads, "unsigned", "threads", "Batch.set_threads"))

    @mutates
    def add(self, teacher, student, eta, steps, *, config=None):
        """Add a run of `steps` GD steps (teacher and student are copied);
        returns its index 0, 1, ... `config` (a dict, e.g. {"seed": 3,
        "sigma": 1e-6}) labels the run: it is kept with the sizes m, k, d,
        eta and steps and comes back in config(i), table() and to_pandas()."""
        if not isinstance(teacher, Teacher) or not isinstance(student, Student):
            raise TypeError("Batch.add(teacher, student, eta, steps): got %s, %s"
                            % (type(teacher).__name__, type(student).__name__))
        fn = "Batch.add"
        index = c_size_t()
        call("tsrelu_batch_add", self._h(), teacher._h(), student._h(), real(eta, "eta", fn),
             c_integer(steps, "uint64_t", "steps", fn), byref(index))
        labels = dict(config or {})
        for key in labels:
            if not isinstance(key, str):
                raise TypeError("Batch.add: config keys must be str, got %r" % (key,))
        self._configs.append(dict(labels, m=student.m, k=teacher.k, d=teacher.d, eta=float(eta),
                                  steps=int(steps)))
        return index.value

    @anytime
    def config(self, i):
        """The configuration of run i: m, k, d, eta, steps and the labels
        given to add() (a new dict)."""
        i = c_integer(i, "size_t", "i", "Batch.config")
        if i >= len(self._configs):
            fail(Status.EINVAL, "Batch.config: run %d of %d does not exist" % (i, len(self._configs)))
        return dict(self._configs[i])

    @anytime
    def __len__(self):
        return int(lib.tsrelu_batch_size(self._h()))

    @anytime
    def state(self, i):
        """The GD state of run i (owned by the batch: valid until the batch is
        closed; the same Python object on every call). Available while the
        batch runs, e.g. to interrupt() one run."""
        i = c_integer(i, "size_t", "i", "Batch.state")
        gd = self._states.get(i)
        if gd is None:
            p = lib.tsrelu_batch_state(self._h(), i)
            if not p:
                fail(Status.EINVAL, "Batch.state: run %d of %d does not exist" % (i, len(self)))
            gd = GD._borrow(p, self)
            self._states[i] = gd
        return gd

    @anytime
    def progress(self):
        """(done, total): steps done so far over all runs and steps asked for,
        safe to call from any thread while run() executes (a run that ended
        early counts as done): tsrelu_batch_progress."""
        done, total = c_uint64(0), c_uint64(0)
        call("tsrelu_batch_progress", self._h(), byref(done), byref(total))
        return int(done.value), int(total.value)

    @anytime
    def interrupt(self):
        """Ask a running run() to stop: runs in progress stop before their
        next step, runs not started are not started; their summaries have
        status Status.INTERRUPTED, and run() returns Status.INTERRUPTED
        (unless a run failed). Callable from any thread, including the
        callbacks of the batch's states; no effect when the batch is not
        running."""
        call("tsrelu_batch_interrupt", self._h())

    def run(self, *, progress=False):
        """Run every run once. Returns Status.OK when all ended with OK or
        CONVERGED, Status.INTERRUPTED after interrupt(), else the status of the
        first run (by index) that did not (Status.STOPPED for a callback's
        stop); raises tsrelu.Error for an error (EDIVERGED, ...) and re-raises
        an exception from a callback. Ctrl-C stops every run at its next step
        and raises KeyboardInterrupt; the states and summaries are valid.
        progress=True shows a bar on stderr (tqdm when installed, else a
        plain line) of the steps done over all runs (tsrelu_batch_progress,
        read from another thread)."""
        bar = contextlib.nullcontext()
        if progress:
            bar = Progress("Batch.run", self.progress()[1], lambda: self.progress()[0])
        h = self._guard.start(self, "run")
        try:
            for gd in self._states.values():
                gd._pending = None
            with bar:
                st, message = call_interruptibly(lambda: lib.tsrelu_batch_run(h),
                                                 lambda: lib.tsrelu_batch_interrupt(h))
        finally:
            self._guard.stop(self)
            pending = [self._states[i]._pending for i in sorted(self._states)]
            for gd in self._states.values():
                gd._pending = None
        for e in pending:
            if e is not None:
                raise e
        return outcome(st, message)

    @reads
    def table(self):
        """One labelled column per configuration key and summary field, one
        entry per run, as a dict of numpy arrays (after run()): the labels
        given to add() (missing ones are None), m, k, d, eta, steps, then
        SUMMARY_FIELDS (status as its C name such as "TSRELU_OK", t1/t2 -1
        when not reached)."""
        n = len(self)
        keys = []
        for c in self._configs:
            keys += [k for k in c if k not in keys]
        cols = {k: np.array([c.get(k) for c in self._configs]) for k in keys}
        raw = self.summaries()
        for j, name in enumerate(SUMMARY_FIELDS):
            col = raw[:, j] if n else np.empty(0)
            if name == "status":
                col = np.array([status_name(int(x)) for x in col])
            elif name in _INT_FIELDS or name in ("t1", "t2"):
                col = col.astype(np.int64)
            cols[name] = col
        return cols

    @reads
    def to_pandas(self):
        """table() as a pandas DataFrame, one row per run (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Batch.to_pandas needs pandas (Debian: python3-pandas)") from e
        return pd.DataFrame(self.table())

    @reads
    def summaries(self):
        """All summaries as an (n x len) float array, columns as SUMMARY_FIELDS."""
        n, width = len(self), int(lib.tsrelu_summary_len())
        out = np.empty((n, width))
        for i in range(n):
            call("tsrelu_batch_summary", self._h(), i, ptr(out[i]), width)
        return out

    @reads
    def summary(self, i):
        """The summary of run i after run(): a Summary namedtuple (status,
        iteration, phase, switches as ints; t1/t2 None if not reached)."""
        width = int(lib.tsrelu_summary_len())
        raw = np.empty(width)
        call("tsrelu_batch_summary", self._h(), c_integer(i, "size_t", "i", "Batch.summary"),
             ptr(raw), width)
        vals = {}
        for name, x in zip(SUMMARY_FIELDS, raw.tolist()):
            if name in _INT_FIELDS:
                x = int(x)
            elif name in ("t1", "t2"):
                x = None if x < 0 else int(x)
            vals[name] = x
        if vals.get("status") is not None:
            try:
                vals["status"] = Status(vals["status"])
            except ValueError:
                pass
        return Summary(**vals)

    def __repr__(self):
        if self.closed:
            return "<tsrelu.Batch (closed)>"
        if self._guard.busy(self):
            return "<tsrelu.Batch (running)>"
        return "<tsrelu.Batch runs=%d>" % len(self)

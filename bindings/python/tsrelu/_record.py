"""The trajectory recorder (tsrelu_record_*, 1.1): per-student, per-teacher
and global metrics of a GD run at the iterates of a schedule, as numpy
arrays (and a pandas DataFrame when pandas is installed)."""
import warnings
from ctypes import POINTER, c_uint64

import numpy as np

from ._args import c_integer, path_arg, ptr
from ._events import RecordEvents
from ._guard import in_own_callback, refuse
from ._lib import Status, call, fail, lib
from ._network import _Handle, new_handle

ACCURATE_LOSS = 1  # TSRELU_RECORD_ACCURATE_LOSS

GLOBAL_FIELDS = {"loss": 1, "grad_norm": 2, "loss_accurate": 3, "time": 4}
STUDENT_FIELDS = {"norm": 10, "output_weight": 11, "nearest": 12, "angle": 13, "radial": 14,
                  "tangential": 15, "angle_mean": 16}
TEACHER_FIELDS = {"deficit": 20, "group_size": 21}


class Record(_Handle, RecordEvents):
    """A recorder attached to a GD (made by GD.record()). After (or during,
    from an observer) a run:

        r.iterations           uint64 array (n,)
        r.loss, r.grad_norm    float arrays (n,); r.loss_accurate with accurate_loss=True
        r.time                 float array (n,): eta * iteration (GD) or the time (Flow)
        r.student("angle")     (n, m): norm, output_weight, nearest (-1: none),
                               angle, radial, tangential, angle_mean
        r.teacher("deficit")   (n, k): deficit, group_size
        r.arrays()             every column in a dict
        r.to_pandas()          one row per (iteration, student) (needs pandas)
        r.write_csv(path)      the same table as a CSV file, written by the library
        r.events(...)          every event time at chosen thresholds (1.2), and
        r.event_times(kind, threshold, mode), r.switches(), r.rate_onset(delta),
        r.on_event(fn, ...)    the same events reported on line during runs

    When the capacity is reached the run goes on unrecorded: r.missed counts
    the iterates lost, and reading the record then warns (RuntimeWarning).
    """

    _free = "tsrelu_record_free"
    _kind = "Record"

    def __init__(self, gd, capacity, *, accurate_loss=False, _create="tsrelu_record_create", _fn="GD.record"):
        capacity = c_integer(capacity, "size_t", "capacity", _fn)
        flags = ACCURATE_LOSS if accurate_loss else 0
        self._adopt(new_handle(_create, gd._h(), capacity, flags))
        self._m, self._k = gd.m, gd.k
        self._accurate = bool(accurate_loss)
        self._gd = None        # the GD attached to (kept alive while attached)
        self._warned = 0       # missed count already warned about
        self._event = None     # (fn, C callback) of on_event()

    def _attach(self, gd):
        self._gd = gd

    def _detach(self):
        self._gd = None

    def _read(self, what, f):
        """f() while the attached GD (if any) is not running, except from
        that GD's own callbacks: the library does not lock a recorder."""
        gd = self._gd
        if gd is None or gd.closed or in_own_callback(gd):
            return f()
        with gd._guard.lock:
            if gd._guard.busy(gd):
                refuse(gd, "record: Record." + what)
            return f()

    def __len__(self):
        return int(self._read("__len__", lambda: lib.tsrelu_record_size(self._h())))

    @property
    def capacity(self):
        return int(lib.tsrelu_record_capacity(self._h()))

    @property
    def missed(self):
        """Iterates due to be recorded after the recorder was full."""
        return int(lib.tsrelu_record_missed(self._h()))

    def _check_missed(self):
        missed = self.missed
        if missed > self._warned:
            self._warned = missed
            warnings.warn("tsrelu.Record: the recorder is full (capacity %d); %d scheduled "
                          "iterates were not recorded" % (self.capacity, missed),
                          RuntimeWarning, stacklevel=3)

    @property
    def iterations(self):
        def get():
            out = np.empty(int(lib.tsrelu_record_size(self._h())), dtype=np.uint64)
            call("tsrelu_record_iterations", self._h(), out.ctypes.data_as(POINTER(c_uint64)), out.size)
            return out
        out = self._read("iterations", get)
        self._check_missed()
        return out

    def _column(self, c_fn, fields, field, width):
        if field not in fields:
            fail(Status.EINVAL, "Record: unknown field %r; one of %s" % (field, ", ".join(fields)))
        def get():
            n = int(lib.tsrelu_record_size(self._h()))
            out = np.empty((n, width) if width else n)
            call(c_fn, self._h(), fields[field], ptr(out), out.size)
            return out
        out = self._read(field, get)
        self._check_missed()
        return out

    def global_(self, field):
        """A global column (n,): 'loss', 'grad_norm' or 'loss_accurate'."""
        return self._column("tsrelu_record_global", GLOBAL_FIELDS, field, 0)

    @property
    def loss(self):
        return self.global_("loss")

    @property
    def time(self):
        """The time of each row: eta * iteration for a GD, t for a Flow."""
        return self.global_("time")

    @property
    def grad_norm(self):
        return self.global_("grad_norm")

    @property
    def loss_accurate(self):
        return self.global_("loss_accurate")

    def student(self, field):
        """A per-student column (n, m): row n is recorded iterate n."""
        return self._column("tsrelu_record_student", STUDENT_FIELDS, field, self._m)

    def teacher(self, field):
        """A per-teacher column (n, k)."""
        return self._column("tsrelu_record_teacher", TEACHER_FIELDS, field, self._k)

    def arrays(self):
        """Every column: 'iteration' (n,), the global ones (n,), the
        per-student ones (n, m), the per-teacher ones (n, k)."""
        out = {"iteration": self.iterations, "time": self.time, "loss": self.loss, "grad_norm": self.grad_norm}
        if self._accurate:
            out["loss_accurate"] = self.loss_accurate
        out.update((f, self.student(f)) for f in STUDENT_FIELDS)
        out.update((f, self.teacher(f)) for f in TEACHER_FIELDS)
        return out

    def to_pandas(self):
        """One row per (iteration, student), the columns of write_csv():
        iteration, student, the student fields, deficit and group_size of
        the student's nearest teacher (NaN and 0 for a zero student), and
        the global fields. ImportError if pandas is not installed."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Record.to_pandas needs pandas; Record.arrays() gives numpy arrays") from e
        a = self.arrays()
        n, m = a["norm"].shape
        cols = {"iteration": np.repeat(a["iteration"], m), "student": np.tile(np.arange(m), n)}
        cols.update((f, a[f].ravel()) for f in STUDENT_FIELDS)
        near = a["nearest"].astype(np.intp)
        rows = np.repeat(np.arange(n), m)
        has = near.ravel() >= 0
        pick = np.where(has, near.ravel(), 0)
        cols["deficit"] = np.where(has, a["deficit"][rows, pick], np.nan)
        cols["group_size"] = np.where(has, a["group_size"][rows, pick], 0.0)
        for f in ("loss", "grad_norm", "loss_accurate"):
            if f in a:
                cols[f] = np.repeat(a[f], m)
        return pd.DataFrame(cols)

    def write_csv(self, path):
        """The record as one tidy CSV table (tsrelu_record_write_csv)."""
        b = path_arg(path, "Record.write_csv")
        self._read("write_csv", lambda: call("tsrelu_record_write_csv", self._h(), b))
        self._check_missed()

    def close(self):
        self._gd = None
        super().close()

    def __repr__(self):
        if self.closed:
            return "<tsrelu.Record (closed)>"
        return "<tsrelu.Record m=%d k=%d size=%d capacity=%d missed=%d>" % (
            self._m, self._k, len(self), self.capacity, self.missed)

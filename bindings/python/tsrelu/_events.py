"""Events of a trajectory (tsrelu_record_event_times and friends, 1.2):
when each student, teacher or the loss does something, each event defined
on its own, with its threshold chosen after the run (docs/events.md).
Times are iteration numbers as floats; NaN = never."""
import dataclasses
import weakref
from ctypes import byref, c_double, c_size_t

import numpy as np

from ._args import float_array, ptr, real
from ._lib import EVENT_FN, Status, call, fail

KINDS = {"group": 1, "align": 2, "mean": 3, "deficit": 4, "norm": 5, "norm_share": 6}
KIND_NAMES = {v: k for k, v in KINDS.items()}
ONLINE_KINDS = ("group", "align", "mean", "deficit")
MODES = {"first": 1, "settle": 2, "leave": 3}
TRANSITIONS = {1: "entered", 2: "left"}


def _lookup(table, key, what, fn):
    try:
        return table[key]
    except (KeyError, TypeError):
        fail(Status.EINVAL, "%s: unknown %s %r; one of %s" % (fn, what, key, ", ".join(table)))


def event_quantile(times, p):
    """The p-quantile of event times (NaN = never, later than every time):
    the element of index floor(p (n-1)) in sorted order, numpy's
    method="lower"; NaN when that element is a never (p=1: the max, NaN if
    any item never has the event)."""
    t = float_array(times, "times", "event_quantile").ravel()
    out = c_double()
    call("tsrelu_event_quantile", ptr(t) if t.size else None, t.size, real(p, "p", "event_quantile"), byref(out))
    return out.value


@dataclasses.dataclass
class Switches:
    """Group switches, one per change of a student's nearest teacher
    between consecutive rows: time, student, from_ and to (-1: the student
    was or became zero)."""
    time: np.ndarray
    student: np.ndarray
    from_: np.ndarray
    to: np.ndarray

    def __len__(self):
        return self.time.size

    def to_pandas(self):
        """A DataFrame with columns time, student, from, to (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Switches.to_pandas needs pandas") from e
        return pd.DataFrame({"time": self.time, "student": self.student, "from": self.from_, "to": self.to})


@dataclasses.dataclass
class Events:
    """Record.events(): per student (m,) or teacher (k,) times, NaN = never.

    norm        |w_i| first reaches q of its final norm
    norm_share  |a_i||w_i| first reaches q |b_l||v_l|/m_l of its final group
    condense    first within `mean` rad of the mean teacher direction
    split       leaves that cone for good (after being in it)
    group       joins its final group for good (its last switch, or 0)
    align       within `align` rad of its final teacher for good
    deficit     (k,) |H_l| <= deficit |b_l||v_l| for good
    switches    Switches
    rate_onset  the first T after which the local slope of log L stays
                within `delta` of final_slope (fitted over the last decade)
    thresholds  the thresholds used
    """
    norm: np.ndarray
    norm_share: np.ndarray
    condense: np.ndarray
    split: np.ndarray
    group: np.ndarray
    align: np.ndarray
    deficit: np.ndarray
    switches: Switches
    rate_onset: float
    final_slope: float
    thresholds: dict

    PER_ITEM = ("norm", "norm_share", "condense", "split", "group", "align", "deficit")

    def summary(self):
        """{event: (median, max)} over students (teachers for deficit), by
        event_quantile (lower median; NaN when the quantile is a never)."""
        return {f: (event_quantile(getattr(self, f), 0.5), event_quantile(getattr(self, f), 1.0))
                for f in self.PER_ITEM}


class RecordEvents:
    """The event methods of tsrelu.Record (mixed into it)."""

    def event_times(self, kind, threshold=None, mode="first"):
        """Per item, the time of event `kind` ('group', 'align', 'mean',
        'deficit', 'norm', 'norm_share') in `mode` ('first': first row in
        the set; 'settle': enters for good; 'leave': leaves for good), with
        `threshold` (radians for align and mean, eps of |H_l| <= eps
        |b_l||v_l| for deficit, the fraction q for norm and norm_share;
        unused for group). An array (m,), or (k,) for 'deficit'."""
        fn = "Record.event_times"
        k = _lookup(KINDS, kind, "event kind", fn)
        md = _lookup(MODES, mode, "mode", fn)
        if threshold is None:
            if kind != "group":
                fail(Status.EINVAL, "%s: the %r event needs a threshold" % (fn, kind))
            threshold = 0.0
        thr = real(threshold, "threshold", fn)

        def get():
            out = np.empty(self._k if kind == "deficit" else self._m)
            call("tsrelu_record_event_times", self._h(), k, md, thr, ptr(out), out.size)
            return out
        out = self._read("event_times", get)
        self._check_missed()
        return out

    def switches(self):
        """The group switches (a Switches: time, student, from_, to)."""
        def get():
            n = c_size_t()
            call("tsrelu_record_switches", self._h(), None, 0, byref(n))
            out = np.empty((n.value, 4))
            if n.value:
                call("tsrelu_record_switches", self._h(), ptr(out), out.size, byref(n))
            return out
        rows = self._read("switches", get)
        self._check_missed()
        return Switches(rows[:, 0].copy(), rows[:, 1].astype(np.intp), rows[:, 2].astype(np.intp),
                        rows[:, 3].astype(np.intp))

    def rate_onset(self, delta=0.1):
        """(onset, final_slope): the slope of log L on log T fitted over the
        last decade of rows (the accurate loss when recorded), and the
        first T after which the slope between consecutive rows stays within
        delta of it; NaN when undefined or never."""
        d = real(delta, "delta", "Record.rate_onset")
        onset, slope = c_double(), c_double()
        self._read("rate_onset", lambda: call("tsrelu_record_rate_onset", self._h(), d, byref(onset),
                                              byref(slope)))
        return onset.value, slope.value

    def events(self, *, align=0.05, mean=0.25, deficit=0.05, norm=0.5, norm_share=0.5, delta=0.1):
        """Every event at the given thresholds (an Events). The defaults:
        0.05 (the 1.0 tracker's) for align and deficit; 0.25 rad for the
        condensation cone, which small steps reach but not 0.05 (k=4, m=20,
        sigma=1e-6, d=16 and 64: the median angle to the mean direction
        falls to 0.15-0.17 rad at eta=0.001, 0.38-0.40 at eta=0.01,
        0.75-0.78 at eta=0.1: docs/events.md); half the final norm or the
        minimum-norm share for the norms; delta 0.1 for the rate."""
        onset, slope = self.rate_onset(delta)
        return Events(
            norm=self.event_times("norm", norm, "first"),
            norm_share=self.event_times("norm_share", norm_share, "first"),
            condense=self.event_times("mean", mean, "first"),
            split=self.event_times("mean", mean, "leave"),
            group=self.event_times("group", None, "settle"),
            align=self.event_times("align", align, "settle"),
            deficit=self.event_times("deficit", deficit, "settle"),
            switches=self.switches(),
            rate_onset=onset, final_slope=slope,
            thresholds=dict(align=align, mean=mean, deficit=deficit, norm=norm, norm_share=norm_share,
                            delta=delta))

    def on_event(self, fn, kinds=ONLINE_KINDS, *, align=None, mean=None, deficit=None):
        """Call fn(gd, kind, transition, index, teacher, time) for every
        transition of the given on-line kinds as each row is recorded: kind
        one of 'group', 'align', 'mean', 'deficit'; transition 'entered' or
        'left'; index the student (the teacher for 'deficit'); teacher the
        set's teacher (-1 for 'mean'); time the iteration (float). Return
        None or 0 to continue, a non-zero int to stop the run
        (Status.STOPPED, StopReason.EVENT); an exception stops it too and
        is re-raised by GD.run. Thresholds given here are set for the
        on-line kinds (each 0.05 until set). fn=None removes the callback.
        The first row of a record reports entries into every set; a group
        switch is a 'left' then an 'entered'."""
        name = "Record.on_event"
        for kind, value in (("align", align), ("mean", mean), ("deficit", deficit)):
            if value is not None:
                call("tsrelu_record_set_event_threshold", self._h(), KINDS[kind], real(value, kind, name))
        if fn is None:
            call("tsrelu_record_set_event_callback", self._h(), 0, EVENT_FN(), None)
            self._event = None
            return
        if not callable(fn):
            raise TypeError("%s: %r is not callable" % (name, fn))
        if isinstance(kinds, str):
            kinds = (kinds,)
        mask = 0
        for kind in kinds:
            if kind not in ONLINE_KINDS:
                fail(Status.EINVAL, "%s: %r is not an on-line kind; one of %s" % (name, kind,
                                                                                   ", ".join(ONLINE_KINDS)))
            mask |= 1 << KINDS[kind]
        c_fn = EVENT_FN(_event_trampoline(weakref.ref(self), fn))
        call("tsrelu_record_set_event_callback", self._h(), mask, c_fn, None)
        self._event = (fn, c_fn)  # keeps c_fn alive while installed


def _event_trampoline(record_ref, fn):
    from ._gd import _callback, _stop_value  # the GD's callback machinery

    def report(gd, kind, transition, index, teacher, time):
        return _stop_value(fn(gd, KIND_NAMES[kind], TRANSITIONS[transition], index, teacher, time),
                           "the event callback")

    def tramp(_gd, kind, transition, index, teacher, time, _user_data):
        record = record_ref()
        gd = record._gd if record is not None else None
        if gd is None:  # rows are only taken while attached
            return 1
        return _callback(gd, report, gd, kind, transition, index, teacher, time)
    return tramp


__all__ = ["Events", "Switches", "RecordEvents", "event_quantile"]

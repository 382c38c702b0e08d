"""Loading libtsrelu, checking its version, and the ctypes prototypes.

The library is looked up, first match wins:
  1. the TSRELU_LIBRARY environment variable (a path; no fallback if it fails);
  2. next to this package: the source tree's lib/ (bindings/python/tsrelu ->
     lib/libtsrelu.so.1) or, for a package installed into
     PREFIX/lib/python3/dist-packages, PREFIX/lib/libtsrelu.so.1;
  3. pkg-config: $(pkg-config --variable=libdir libtsrelu)/libtsrelu.so.1;
  4. the system loader: libtsrelu.so.1 (LD_LIBRARY_PATH, ld.so.cache), then
     ctypes.util.find_library("tsrelu").
The library found must report version MAJOR.MINOR.x with MAJOR equal to the
binding's and MINOR at least the binding's; otherwise importing fails with
ImportError saying what was found where.
"""
import ctypes
import ctypes.util
import enum
import os
import subprocess
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint, c_uint64, c_void_p)
from pathlib import Path

# The C API this binding was written for (include/tsrelu.h, TSRELU_1.1:
# tsrelu_gd_interrupt, tsrelu_batch_interrupt, TSRELU_INTERRUPTED, TSRELU_EBUSY).
API_MAJOR = 1
API_MINOR = 2
__version__ = "1.2.0"

SONAME = "libtsrelu.so.%d" % API_MAJOR


class Status(enum.IntEnum):
    """tsrelu_status codes (append-only; numbers are never reused)."""
    OK = 0
    STOPPED = 1
    CONVERGED = 2
    INTERRUPTED = 3
    EINVAL = -1
    ENOMEM = -2
    EDIM = -3
    ENONFINITE = -4
    EDIVERGED = -5
    ELENGTH = -6
    EIO = -7
    EFORMAT = -8
    EBUSY = -9


class StopReason(enum.IntEnum):
    """Why the latest run or step of a GD returned (TSRELU_STOP_*, 1.1)."""
    NONE = 0       # no run or step has returned yet
    STEPS = 1      # every step was taken (Status.OK)
    LOSS_TOL = 2   # L <= loss_tol (Status.CONVERGED)
    GRAD_TOL = 3   # |grad| <= grad_tol (Status.CONVERGED)
    OBSERVER = 4   # the observer returned non-zero or raised (Status.STOPPED)
    STEP_RULE = 5  # the step rule returned non-zero or raised (Status.STOPPED)
    INTERRUPT = 6  # interrupt() or Ctrl-C (Status.INTERRUPTED)
    ERROR = 7      # an error, e.g. TSRELU_EDIVERGED
    EVENT = 8      # the record's event callback returned non-zero or raised (Status.STOPPED, 1.2)


SCHEDULE_LINEAR = 1
SCHEDULE_LOG = 2

# Stop value a callback returns when the Python callable raised: the run
# stops (TSRELU_STOPPED) and the exception is re-raised by GD.run/GD.step.
CALLBACK_RAISED = -(2 ** 31)


# Callback types, exactly as in tsrelu.h (user data last).
OBSERVER_FN = CFUNCTYPE(c_int, c_void_p, c_void_p)
# tsrelu_event_fn (1.2): gd, kind, transition, index, teacher, time, user data
EVENT_FN = CFUNCTYPE(c_int, c_void_p, c_int, c_int, c_size_t, c_int, c_double, c_void_p)
STEP_FN = CFUNCTYPE(c_int, c_void_p, POINTER(c_double), POINTER(c_double),
                    POINTER(c_double), POINTER(c_double), c_void_p)

_P = c_void_p
_S = c_size_t
_D = c_double
_PD = POINTER(c_double)
_PI = POINTER(c_int)
_PP = POINTER(c_void_p)
_ST = c_int  # tsrelu_status

# name: (restype, argtypes) for every exported function of tsrelu.h.
PROTOTYPES = {
    "tsrelu_version_number": (c_uint, ()),
    "tsrelu_version_string": (c_char_p, ()),
    "tsrelu_isa": (c_char_p, ()),
    "tsrelu_status_string": (c_char_p, (_ST,)),
    "tsrelu_status_name": (c_char_p, (_ST,)),
    "tsrelu_last_error": (c_char_p, ()),
    # teacher
    "tsrelu_teacher_create": (_ST, (_S, _S, _PD, _PD, _PP)),
    "tsrelu_teacher_create_orthogonal": (_ST, (_S, _S, _D, c_uint64, _PP)),
    "tsrelu_teacher_create_gram": (_ST, (_S, _S, _PD, _S, _PD, _S, c_uint64, _PP)),
    "tsrelu_teacher_free": (None, (_P,)),
    "tsrelu_teacher_width": (_S, (_P,)),
    "tsrelu_teacher_dim": (_S, (_P,)),
    "tsrelu_teacher_weights": (_ST, (_P, _PD, _S)),
    "tsrelu_teacher_output_weights": (_ST, (_P, _PD, _S)),
    # student
    "tsrelu_student_create": (_ST, (_S, _S, _PD, _PD, _PP)),
    "tsrelu_student_create_gaussian": (_ST, (_S, _S, _D, c_uint64, _PP)),
    "tsrelu_student_create_weak_recovery": (_ST, (_P, _S, POINTER(c_size_t), _S, _D, _D, c_uint64,
                                                  _PI, _S, _PP)),
    "tsrelu_student_copy": (_ST, (_P, _PP)),
    "tsrelu_student_free": (None, (_P,)),
    "tsrelu_student_width": (_S, (_P,)),
    "tsrelu_student_dim": (_S, (_P,)),
    "tsrelu_student_weights": (_ST, (_P, _PD, _S)),
    "tsrelu_student_set_weights": (_ST, (_P, _PD, _S)),
    "tsrelu_student_output_weights": (_ST, (_P, _PD, _S)),
    "tsrelu_student_set_output_weights": (_ST, (_P, _PD, _S)),
    # population loss and gradient
    "tsrelu_loss": (_ST, (_P, _P, _PD)),
    "tsrelu_loss_accurate": (_ST, (_P, _P, _PD)),
    "tsrelu_gradient": (_ST, (_P, _P, _PD, _S, _PD, _S)),
    # metrics
    "tsrelu_angles": (_ST, (_P, _P, _PD, _S)),
    "tsrelu_nearest_teacher": (_ST, (_P, _P, _PI, _S)),
    "tsrelu_components": (_ST, (_P, _P, _PI, _S, _PD, _PD, _S)),
    "tsrelu_deficit": (_ST, (_P, _P, _PI, _S, _PD, _S)),
    "tsrelu_balance": (_ST, (_P, _P, _PI, _S, _PI, _PD, _PD, _PD, _S)),
    "tsrelu_rate_fit": (_ST, (_PD, _PD, _S, _D, _D, _PD, _PD)),
    # gradient descent
    "tsrelu_gd_create": (_ST, (_P, _P, _D, _PP)),
    "tsrelu_gd_free": (None, (_P,)),
    "tsrelu_gd_set_eta": (_ST, (_P, _D)),
    "tsrelu_gd_eta": (c_double, (_P,)),
    "tsrelu_gd_set_train_output": (_ST, (_P, c_int)),
    "tsrelu_gd_train_output": (c_int, (_P,)),
    "tsrelu_gd_set_tolerances": (_ST, (_P, _D, _D)),
    "tsrelu_gd_tolerances": (_ST, (_P, _PD, _PD)),
    "tsrelu_gd_set_observer": (_ST, (_P, OBSERVER_FN, _P, c_int, c_uint64)),
    "tsrelu_gd_set_step": (_ST, (_P, STEP_FN, _P)),
    "tsrelu_gd_step": (_ST, (_P,)),
    "tsrelu_gd_run": (_ST, (_P, c_uint64)),
    "tsrelu_gd_interrupt": (_ST, (_P,)),
    "tsrelu_gd_iteration": (c_uint64, (_P,)),
    "tsrelu_gd_stop_value": (c_int, (_P,)),
    "tsrelu_gd_stop_reason": (c_int, (_P,)),
    "tsrelu_gd_progress": (c_uint64, (_P,)),
    "tsrelu_gd_student": (_P, (_P,)),
    "tsrelu_gd_teacher": (_P, (_P,)),
    "tsrelu_gd_loss": (_ST, (_P, _PD)),
    "tsrelu_gd_gradient_norm": (_ST, (_P, _PD)),
    # phase tracking
    "tsrelu_gd_set_phase_thresholds": (_ST, (_P, _D, _D)),
    "tsrelu_gd_phase": (c_int, (_P,)),
    "tsrelu_gd_phase_times": (_ST, (_P, POINTER(c_int64), POINTER(c_int64))),
    "tsrelu_gd_groups": (_ST, (_P, c_int, _PI, _S)),
    "tsrelu_gd_group_switches": (_S, (_P,)),
    # checkpoints
    "tsrelu_gd_set_step_state": (_ST, (_P, _PD, _S)),
    "tsrelu_gd_save": (_ST, (_P, c_char_p)),
    "tsrelu_gd_load": (_ST, (c_char_p, _PP)),
    # batches
    "tsrelu_batch_create": (_ST, (_PP,)),
    "tsrelu_batch_free": (None, (_P,)),
    "tsrelu_batch_add": (_ST, (_P, _P, _P, _D, c_uint64, POINTER(c_size_t))),
    "tsrelu_batch_size": (_S, (_P,)),
    "tsrelu_batch_state": (_P, (_P, _S)),
    "tsrelu_batch_set_threads": (_ST, (_P, c_uint)),
    "tsrelu_batch_run": (_ST, (_P,)),
    "tsrelu_batch_interrupt": (_ST, (_P,)),
    "tsrelu_batch_progress": (_ST, (_P, POINTER(c_uint64), POINTER(c_uint64))),
    "tsrelu_batch_summary": (_ST, (_P, _S, _PD, _S)),
    "tsrelu_summary_len": (_S, ()),
    # trajectory recorder (1.1)
    "tsrelu_record_create": (_ST, (_P, _S, c_uint, _PP)),
    "tsrelu_record_free": (None, (_P,)),
    "tsrelu_gd_set_recorder": (_ST, (_P, _P, c_int, c_uint64)),
    "tsrelu_record_size": (_S, (_P,)),
    "tsrelu_record_capacity": (_S, (_P,)),
    "tsrelu_record_missed": (c_uint64, (_P,)),
    "tsrelu_record_iterations": (_ST, (_P, POINTER(c_uint64), _S)),
    "tsrelu_record_global": (_ST, (_P, c_int, _PD, _S)),
    "tsrelu_record_student": (_ST, (_P, c_int, _PD, _S)),
    "tsrelu_record_teacher": (_ST, (_P, c_int, _PD, _S)),
    "tsrelu_record_write_csv": (_ST, (_P, c_char_p)),
    # gradient flow (1.2)
    "tsrelu_flow_create": (_ST, (_P, _P, _D, _D, _PP)),
    "tsrelu_flow_free": (None, (_P,)),
    "tsrelu_flow_set_flags": (_ST, (_P, c_uint)),
    "tsrelu_flow_flags": (c_uint, (_P,)),
    "tsrelu_flow_solver": (c_int, (_P,)),
    "tsrelu_flow_set_accuracy": (_ST, (_P, _D, _D)),
    "tsrelu_flow_accuracy": (_ST, (_P, _PD, _PD)),
    "tsrelu_flow_set_tolerances": (_ST, (_P, _D, _D)),
    "tsrelu_flow_tolerances": (_ST, (_P, _PD, _PD)),
    "tsrelu_flow_set_observer": (_ST, (_P, OBSERVER_FN, _P, c_int, c_uint64)),
    "tsrelu_flow_run": (_ST, (_P, _D)),
    "tsrelu_flow_interrupt": (_ST, (_P,)),
    "tsrelu_flow_time": (c_double, (_P,)),
    "tsrelu_flow_student": (_P, (_P,)),
    "tsrelu_flow_teacher": (_P, (_P,)),
    "tsrelu_flow_loss": (_ST, (_P, _PD)),
    "tsrelu_flow_gradient_norm": (_ST, (_P, _PD)),
    "tsrelu_flow_stop_value": (c_int, (_P,)),
    "tsrelu_flow_stop_reason": (c_int, (_P,)),
    "tsrelu_flow_statistics": (_ST, (_P, POINTER(c_uint64), _S)),
    "tsrelu_record_create_flow": (_ST, (_P, _S, c_uint, _PP)),
    "tsrelu_flow_set_recorder": (_ST, (_P, _P, c_int, c_uint64)),
    # second order (1.2)
    "tsrelu_hessian": (_ST, (_P, _P, c_uint, _PD, _S)),
    "tsrelu_hessian_vector": (_ST, (_P, _P, c_uint, _PD, _S, _PD, _S)),
    "tsrelu_spectrum": (_ST, (_P, _P, c_uint, _D, _PD, _S, _PD, _S, POINTER(c_size_t), _S)),
    "tsrelu_newton": (_ST, (_P, _P, c_uint, _D, _D, _S, _PD, _S)),
    # events (1.2)
    "tsrelu_record_set_event_callback": (_ST, (_P, c_uint, EVENT_FN, _P)),
    "tsrelu_record_set_event_threshold": (_ST, (_P, c_int, _D)),
    "tsrelu_record_event_times": (_ST, (_P, c_int, c_int, _D, _PD, _S)),
    "tsrelu_record_switches": (_ST, (_P, _PD, _S, POINTER(c_size_t))),
    "tsrelu_record_rate_onset": (_ST, (_P, _D, _PD, _PD)),
    "tsrelu_event_quantile": (_ST, (_PD, _S, _D, _PD)),
    # sampled training (1.2)
    "tsrelu_gd_set_sampling": (_ST, (_P, _S, _S, c_uint64, c_uint)),
    "tsrelu_gd_set_training_set": (_ST, (_P, _PD, _S, _S, c_uint64, c_uint)),
    "tsrelu_gd_sampling": (_ST, (_P, POINTER(c_size_t), POINTER(c_size_t))),
    "tsrelu_gd_sample_loss": (_ST, (_P, _PD)),
    "tsrelu_gd_training_loss": (_ST, (_P, _PD)),
}


class VersionError(ImportError):
    """The library found is not compatible with this binding."""


def check_version(number, where):
    """Raise VersionError unless `number` (MAJOR*10000 + MINOR*100 + PATCH)
    has MAJOR == API_MAJOR and MINOR >= API_MINOR."""
    major, minor, patch = number // 10000, number // 100 % 100, number % 100
    if major != API_MAJOR or minor < API_MINOR:
        raise VersionError(
            "tsrelu: %s is libtsrelu %d.%d.%d (tsrelu_version_number() = %d), but this "
            "binding (tsrelu %s) needs libtsrelu %d.x with x >= %d. Point TSRELU_LIBRARY "
            "at a compatible %s, or use a tsrelu package written for %d.%d."
            % (where, major, minor, patch, number, __version__, API_MAJOR, API_MINOR,
               SONAME, major, minor))
    return major, minor, patch


def _candidates():
    """(how, path or name) in search order."""
    env = os.environ.get("TSRELU_LIBRARY")
    if env:
        return [("TSRELU_LIBRARY", env)]
    found = []
    up = Path(__file__).resolve().parents[3]
    for how, p in (("the source tree's lib/", up / "lib" / SONAME),
                   ("the install prefix's lib/", up / SONAME)):
        if p.is_file():
            found.append((how, str(p)))
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "libtsrelu"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        libdir = ""
    if libdir and os.path.isfile(os.path.join(libdir, SONAME)):
        found.append(("pkg-config", os.path.join(libdir, SONAME)))
    found.append(("the system loader", SONAME))
    name = ctypes.util.find_library("tsrelu")
    if name and name != SONAME:
        found.append(("ctypes.util.find_library", name))
    return found


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", c_char_p), ("dli_fbase", c_void_p),
                ("dli_sname", c_char_p), ("dli_saddr", c_void_p)]


def _real_path(cdll, fallback):
    """The file the dynamic loader actually mapped (dladdr), else `fallback`."""
    try:
        libc = ctypes.CDLL(None)
        dladdr = libc.dladdr
        dladdr.argtypes = [c_void_p, POINTER(_DlInfo)]
        dladdr.restype = c_int
        info = _DlInfo()
        addr = ctypes.cast(cdll.tsrelu_version_number, c_void_p).value
        if dladdr(addr, ctypes.byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError):
        pass
    return fallback


def _load():
    tried = []
    for how, path in _candidates():
        try:
            cdll = ctypes.CDLL(path)
        except OSError as e:
            if how == "TSRELU_LIBRARY":
                raise ImportError("tsrelu: cannot load TSRELU_LIBRARY=%s: %s" % (path, e)) from None
            tried.append("%s (%s): %s" % (path, how, e))
            continue
        where = "%s (found via %s)" % (_real_path(cdll, path), how)
        try:
            fn = cdll.tsrelu_version_number
        except AttributeError:
            raise ImportError("tsrelu: %s does not export tsrelu_version_number: not libtsrelu"
                              % where) from None
        fn.argtypes = ()
        fn.restype = c_uint
        check_version(fn(), where)
        missing = []
        for name, (restype, argtypes) in PROTOTYPES.items():
            try:
                f = getattr(cdll, name)
            except AttributeError:
                missing.append(name)
                continue
            f.restype = restype
            f.argtypes = argtypes
        if missing:
            raise ImportError("tsrelu: %s lacks %s" % (where, ", ".join(missing)))
        return cdll, where
    raise ImportError("tsrelu: libtsrelu not found. Build it (make all) or install it, or set "
                      "TSRELU_LIBRARY to the path of %s. Tried:\n  %s"
                      % (SONAME, "\n  ".join(tried)))


lib, library_where = _load()
library_path = _real_path(lib, lib._name)


def _text(b):
    return b.decode("utf-8", "replace") if b is not None else ""


def status_name(status):
    """The macro name of a status code, e.g. 'TSRELU_EINVAL'."""
    return _text(lib.tsrelu_status_name(int(status)))


def status_string(status):
    """Static English text for a status code."""
    return _text(lib.tsrelu_status_string(int(status)))


def last_error():
    """The library's detailed message of the latest failure on this thread."""
    return _text(lib.tsrelu_last_error())


def version():
    """The runtime library version string, e.g. '1.0.0'."""
    return _text(lib.tsrelu_version_string())


def isa():
    """The instruction-set path of the library's kernels: 'avx512', 'avx2' or
    'portable', chosen once per process from the CPU or the TSRELU_ISA
    environment variable (a request the CPU cannot honour falls back, and the
    text says so). Every path gives bit-identical results."""
    return _text(lib.tsrelu_isa())


def version_number():
    """The runtime library version, MAJOR*10000 + MINOR*100 + PATCH."""
    return int(lib.tsrelu_version_number())


class Error(Exception):
    """A libtsrelu failure: `status` (int), `name` (e.g. 'TSRELU_EINVAL', from
    tsrelu_status_name) and `message` (tsrelu_last_error, or the binding's own
    message for arguments it rejects before calling the library)."""

    def __init__(self, status, message):
        self.status = int(status)
        self.name = status_name(self.status)
        self.message = message
        super().__init__("%s: %s" % (self.name, message))

    def __reduce__(self):
        return (type(self), (self.status, self.message))


class OutOfRange(Error, OverflowError):
    """An integer argument outside the range of the C type it goes to (a
    size_t, uint64_t, unsigned or int), negative values included: an
    OverflowError, as numpy raises for such conversions, and a tsrelu.Error
    with status TSRELU_EINVAL, as the binding has always reported them."""

    def __init__(self, message, status=Status.EINVAL):
        super().__init__(status, message)

    def __reduce__(self):
        return (type(self), (self.message, self.status))


def call(name, *args):
    """Call a status-returning function; raise Error on a negative status
    with the thread's detailed message; return the status otherwise."""
    st = getattr(lib, name)(*args)
    if st < 0:
        raise Error(st, last_error() or status_string(st))
    return st


def outcome(st, message=None):
    """A run's status: Error raised if negative (with `message`, the
    tsrelu_last_error() of the thread that made the call, by default this
    one), else a Status (or the bare int of a code this binding does not
    know yet)."""
    if st < 0:
        raise Error(st, (last_error() if message is None else message) or status_string(st))
    try:
        return Status(st)
    except ValueError:
        return st


def fail(status, message):
    """Raise Error for an argument the binding rejects itself."""
    raise Error(status, message)

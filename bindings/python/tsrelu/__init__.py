"""tsrelu: Python binding (ctypes) of libtsrelu, exact population gradient
descent for two-layer ReLU teacher-student networks with Gaussian input.

    import tsrelu
    t = tsrelu.Teacher.orthogonal(k=2, d=8, norm=1.0, seed=1)
    s = tsrelu.Student.gaussian(m=6, d=8, sigma=1e-3, seed=2)
    gd = tsrelu.GD(t, s, eta=0.1)
    gd.run(10000, observer=lambda g: print(g.iteration, g.loss_accurate()), per_decade=5)
    fl = tsrelu.Flow(t, s, rtol=1e-10)           # gradient flow (CVODE), time = eta * iteration
    fl.run(1e6, observer=lambda f: print(f.time, f.loss_accurate()), per_decade=2)

Arrays are numpy float64, neuron-major: W is m x d (row i is w_i), V is k x d.
Properties return copies. Failures raise tsrelu.Error with the status name
and the library's detailed message. See bindings/python/README.md.
"""
from ._lib import (API_MAJOR, API_MINOR, CALLBACK_RAISED, SCHEDULE_LINEAR, SCHEDULE_LOG, Error,
                   OutOfRange, Status, StopReason, VersionError, __version__, isa, last_error,
                   library_path, library_where, status_name, status_string, version,
                   version_number)
from ._metrics import (Balance, Components, angles, balance, components, deficit,
                       nearest_teacher, rate_fit)
from ._network import Student, Teacher, equiangular_gram, gradient, loss, loss_accurate
from ._gd import GD
from ._record import Record
from ._events import Events, Switches, event_quantile
from ._flow import Flow
from ._batch import SUMMARY_FIELDS, Batch, Summary
from ._plot import plot
from ._second import (NEWTON_FIELDS, NewtonResult, Spectrum, hessian, hessian_vector, newton,
                      spectrum)

OK = Status.OK
STOPPED = Status.STOPPED
CONVERGED = Status.CONVERGED
INTERRUPTED = Status.INTERRUPTED

__all__ = [
    "Teacher", "Student", "GD", "Flow", "Record", "Batch", "Summary", "SUMMARY_FIELDS", "plot", "Error", "OutOfRange",
    "VersionError", "Status", "StopReason", "OK", "STOPPED", "CONVERGED", "INTERRUPTED",
    "loss", "loss_accurate", "gradient", "equiangular_gram", "angles", "nearest_teacher", "components", "deficit",
    "balance", "rate_fit", "Balance", "Components", "version", "version_number", "isa", "status_name",
    "status_string", "last_error", "library_path", "library_where", "API_MAJOR", "API_MINOR",
    "CALLBACK_RAISED", "SCHEDULE_LINEAR", "SCHEDULE_LOG", "__version__",
    "hessian", "hessian_vector", "spectrum", "newton", "Spectrum", "NewtonResult", "NEWTON_FIELDS",
    "CALLBACK_RAISED", "SCHEDULE_LINEAR", "SCHEDULE_LOG", "__version__", "Events", "Switches",
    "event_quantile",
]

"""Second order (libtsrelu 1.2): the closed-form Hessian, Hessian-vector
products, the spectrum (LAPACK dsyevr) and Newton's method to stationary
points. Variables: vec(W) row-major (m*d), then a (m) with output=True."""
from collections import namedtuple
from ctypes import c_size_t

import numpy as np

from ._args import c_integer, float_array, ptr, real
from ._lib import Status, call, fail
from ._network import _pair, student_shape

HESSIAN_OUTPUT = 1
NEWTON_DESCENT = 2

Spectrum = namedtuple("Spectrum", "values vectors negative flat positive")
Spectrum.__doc__ = """Eigenvalues (ascending), eigenvectors as the columns of an N x N
array (None unless vectors=True), and the numbers of negative, flat
(|lambda| <= rel_tol max |lambda|) and positive eigenvalues."""

NEWTON_FIELDS = ("iterations", "grad_norm", "grad_scale", "loss", "negative", "flat", "positive",
                 "min_positive", "min_eig", "max_eig")
NewtonResult = namedtuple("NewtonResult", ("student", "converged") + NEWTON_FIELDS)
NewtonResult.__doc__ = """The polished student (a new Student), whether |grad L| <= grad_tol * S
was reached, and the TSRELU_NEWTON_* fields at the final point: the Morse
index is `negative`, the flat count `flat`."""


def _nvar(sp, output):
    m, d = student_shape(sp)
    return m * d + (m if output else 0)


def hessian(student, teacher, output=False):
    """The N x N Hessian of L (tsrelu_hessian): exactly symmetric, N = m*d
    (W row-major), plus m (a) with output=True."""
    sp, tp = _pair(student, teacher, "hessian")
    N = _nvar(sp, output)
    H = np.empty((N, N))
    call("tsrelu_hessian", sp, tp, HESSIAN_OUTPUT if output else 0, ptr(H), H.size)
    return H


def hessian_vector(student, teacher, x, output=False):
    """H x without forming H (tsrelu_hessian_vector); x has N entries (any
    shape with N entries, e.g. an m x d direction in W)."""
    sp, tp = _pair(student, teacher, "hessian_vector")
    N = _nvar(sp, output)
    xa = np.ascontiguousarray(float_array(x, "x", "hessian_vector"), dtype=np.float64)
    if xa.size != N:
        fail(Status.ELENGTH, "hessian_vector: x has %d entries, %d required" % (xa.size, N))
    xa = xa.reshape(N)
    y = np.empty(N)
    call("tsrelu_hessian_vector", sp, tp, HESSIAN_OUTPUT if output else 0, ptr(xa), N, ptr(y), N)
    return y


def spectrum(student, teacher, output=False, rel_tol=1e-9, vectors=False):
    """Eigen-decomposition of the Hessian (tsrelu_spectrum): a Spectrum with
    ascending eigenvalues, eigenvectors as columns (if vectors) and counts."""
    sp, tp = _pair(student, teacher, "spectrum")
    rel_tol = real(rel_tol, "rel_tol", "spectrum")
    N = _nvar(sp, output)
    ev = np.empty(N)
    Z = np.empty((N, N)) if vectors else None
    cnt = (c_size_t * 3)()
    call("tsrelu_spectrum", sp, tp, HESSIAN_OUTPUT if output else 0, rel_tol, ptr(ev), N,
         ptr(Z), N * N if vectors else 0, cnt, 3)
    # row j of the C buffer is eigenvector j: numpy's convention is columns
    return Spectrum(ev, Z.T.copy() if vectors else None, int(cnt[0]), int(cnt[1]), int(cnt[2]))


def newton(student, teacher, output=False, descent=False, grad_tol=1e-13, rel_tol=1e-9,
           max_iter=100):
    """Newton's method (tsrelu_newton) from a copy of `student` to a
    stationary point: a NewtonResult with the polished Student. `descent`
    uses |lambda| and heads for minima (saddle-free Newton)."""
    sp, tp = _pair(student, teacher, "newton")
    fn = "newton"
    grad_tol = real(grad_tol, "grad_tol", fn)
    rel_tol = real(rel_tol, "rel_tol", fn)
    max_iter = c_integer(max_iter, "size_t", "max_iter", fn)
    s = student.copy()
    info = np.empty(len(NEWTON_FIELDS))
    flags = (HESSIAN_OUTPUT if output else 0) | (NEWTON_DESCENT if descent else 0)
    st = call("tsrelu_newton", s._h(), tp, flags, grad_tol, rel_tol, max_iter, ptr(info), info.size)
    ints = {"iterations", "negative", "flat", "positive"}
    fields = {k: (int(v) if k in ints else float(v)) for k, v in zip(NEWTON_FIELDS, info)}
    return NewtonResult(s, st == Status.CONVERGED, **fields)

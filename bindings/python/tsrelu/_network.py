"""Teacher and Student handles, and the closed-form loss and gradient."""
import math
import weakref
from ctypes import byref, c_double, c_void_p

import numpy as np

from ._args import c_integer, float_array, matrix, ptr, real, size_array, vector
from ._lib import Status, call, fail, lib


class _Handle:
    """An owned (or closed) C handle. close() is idempotent; a finalizer
    frees the handle when the object is collected; the context manager
    closes it on exit."""

    _free = None  # name of the C release function
    _kind = "handle"

    def _adopt(self, p):
        self._ptr = p
        self._finalizer = weakref.finalize(self, getattr(lib, self._free), p)

    def _h(self):
        p = getattr(self, "_ptr", None)
        if p is None:
            fail(Status.EINVAL, "this %s is closed" % self._kind)
        return p

    @property
    def closed(self):
        return getattr(self, "_ptr", None) is None

    def close(self):
        """Release the C handle now (later uses raise tsrelu.Error)."""
        fin = getattr(self, "_finalizer", None)
        self._ptr = None
        if fin is not None:
            fin()

    def __enter__(self):
        self._h()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def new_handle(fn_name, *args):
    out = c_void_p()
    call(fn_name, *args, byref(out))
    return out.value


# ---------------------------------------------------------------- raw reads
# Shared by Teacher/Student and by the GD state's views of its iterate.

def teacher_shape(tp):
    return int(lib.tsrelu_teacher_width(tp)), int(lib.tsrelu_teacher_dim(tp))


def student_shape(sp):
    return int(lib.tsrelu_student_width(sp)), int(lib.tsrelu_student_dim(sp))


def teacher_V(tp):
    k, d = teacher_shape(tp)
    V = np.empty((k, d))
    call("tsrelu_teacher_weights", tp, ptr(V), V.size)
    return V


def teacher_b(tp):
    k, _ = teacher_shape(tp)
    b = np.empty(k)
    call("tsrelu_teacher_output_weights", tp, ptr(b), b.size)
    return b


def student_W(sp):
    m, d = student_shape(sp)
    W = np.empty((m, d))
    call("tsrelu_student_weights", sp, ptr(W), W.size)
    return W


def student_a(sp):
    m, _ = student_shape(sp)
    a = np.empty(m)
    call("tsrelu_student_output_weights", sp, ptr(a), a.size)
    return a


def loss_raw(sp, tp, accurate=False):
    L = c_double()
    call("tsrelu_loss_accurate" if accurate else "tsrelu_loss", sp, tp, byref(L))
    return L.value


def gradient_raw(sp, tp, output):
    m, d = student_shape(sp)
    gW = np.empty((m, d))
    ga = np.empty(m) if output else None
    call("tsrelu_gradient", sp, tp, ptr(gW), gW.size, ptr(ga), m if output else 0)
    return (gW, ga) if output else gW


# ---------------------------------------------------------------- classes

class Teacher(_Handle):
    """The fixed target network: k neurons v_j in R^d (rows of V, k x d) and
    output weights b (default all 1). Immutable; holds its own copy."""

    _free = "tsrelu_teacher_free"
    _kind = "Teacher"

    def __init__(self, V, b=None):
        V = matrix(V, "V", "Teacher")
        k, d = V.shape
        b = vector(b, k, "b", "Teacher")
        self._adopt(new_handle("tsrelu_teacher_create", k, d, ptr(V), ptr(b)))

    @classmethod
    def _from_ptr(cls, p):
        self = cls.__new__(cls)
        self._adopt(p)
        return self

    @classmethod
    def orthogonal(cls, k, d, norm=1.0, seed=0):
        """k random orthonormal directions in R^d scaled to `norm`, b = 1
        (the paper's setting); the same on every platform for one seed."""
        fn = "Teacher.orthogonal"
        return cls._from_ptr(new_handle("tsrelu_teacher_create_orthogonal",
                                        c_integer(k, "size_t", "k", fn),
                                        c_integer(d, "size_t", "d", fn), real(norm, "norm", fn),
                                        c_integer(seed, "uint64_t", "seed", fn)))

    @classmethod
    def from_gram(cls, G, b=None, *, d, seed=0):
        """k neurons in R^d (k <= d) with V V^T = G up to rounding
        (tsrelu_teacher_create_gram): G is k x k, exactly symmetric and
        positive definite; V = L Q with L the Cholesky factor of G and Q the
        random orthonormal frame of Teacher.orthogonal for the same seed.
        b: k output weights (default all 1). See equiangular_gram()."""
        fn = "Teacher.from_gram"
        G = matrix(G, "G", fn)
        k = G.shape[0]
        if G.shape[1] != k:
            fail(Status.ELENGTH, "%s: G has shape %s, a square k x k matrix required" % (fn, G.shape))
        b = vector(b, k, "b", fn)
        return cls._from_ptr(new_handle("tsrelu_teacher_create_gram", k,
                                        c_integer(d, "size_t", "d", fn), ptr(G), G.size, ptr(b),
                                        0 if b is None else k,
                                        c_integer(seed, "uint64_t", "seed", fn)))

    @property
    def k(self):
        """Number of teacher neurons."""
        return int(lib.tsrelu_teacher_width(self._h()))

    @property
    def d(self):
        """Input dimension."""
        return int(lib.tsrelu_teacher_dim(self._h()))

    @property
    def shape(self):
        """(k, d)."""
        return teacher_shape(self._h())

    @property
    def V(self):
        """A copy of the teacher weights, k x d (row j is v_j)."""
        return teacher_V(self._h())

    @property
    def b(self):
        """A copy of the output weights (k,)."""
        return teacher_b(self._h())

    def copy(self):
        """An independent Teacher with the same weights."""
        return Teacher(self.V, self.b)

    def __repr__(self):
        if self.closed:
            return "<tsrelu.Teacher (closed)>"
        return "<tsrelu.Teacher k=%d d=%d>" % self.shape


class Student(_Handle):
    """The trained network: m neurons w_i in R^d (rows of W, m x d) and output
    weights a (default all 1). Holds its own copy; W and a can be replaced."""

    _free = "tsrelu_student_free"
    _kind = "Student"

    def __init__(self, W, a=None):
        W = matrix(W, "W", "Student")
        m, d = W.shape
        a = vector(a, m, "a", "Student")
        self._adopt(new_handle("tsrelu_student_create", m, d, ptr(W), ptr(a)))

    @classmethod
    def _from_ptr(cls, p):
        self = cls.__new__(cls)
        self._adopt(p)
        return self

    @classmethod
    def gaussian(cls, m, d, sigma, seed=0):
        """w_i ~ N(0, sigma^2 I_d) from the library's seeded generator
        (bit-identical on every IEEE-754 platform), a = 1."""
        fn = "Student.gaussian"
        return cls._from_ptr(new_handle("tsrelu_student_create_gaussian",
                                        c_integer(m, "size_t", "m", fn),
                                        c_integer(d, "size_t", "d", fn), real(sigma, "sigma", fn),
                                        c_integer(seed, "uint64_t", "seed", fn)))

    @classmethod
    def weak_recovery(cls, teacher, m, zeta, sigma, counts=None, seed=0, return_tau=False):
        """m students in weak recovery for `teacher`
        (tsrelu_student_create_weak_recovery): student i at angle exactly
        zeta (0 < zeta < pi/2) from its assigned teacher tau[i] and of norm
        exactly sigma, the rest of its direction uniform orthogonal to that
        teacher; a = 1. counts (k integers adding up to m): counts[0]
        consecutive students for teacher 0, then counts[1] for teacher 1, ...;
        None: round-robin, tau[i] = i % k. With return_tau, returns
        (student, tau) with tau an int array of m entries."""
        fn = "Student.weak_recovery"
        if not isinstance(teacher, Teacher):
            raise TypeError("%s: teacher must be a tsrelu.Teacher, got %s"
                            % (fn, type(teacher).__name__))
        m = c_integer(m, "size_t", "m", fn)
        _, counts_p, counts_len = size_array(counts, "counts", fn)
        tau = np.empty(m, dtype=np.intc) if return_tau else None
        p = new_handle("tsrelu_student_create_weak_recovery", teacher._h(), m, counts_p, counts_len,
                       real(zeta, "zeta", fn), real(sigma, "sigma", fn),
                       c_integer(seed, "uint64_t", "seed", fn), ptr(tau), m if return_tau else 0)
        s = cls._from_ptr(p)
        return (s, tau.astype(int)) if return_tau else s

    def copy(self):
        """An independent deep copy (tsrelu_student_copy)."""
        return Student._from_ptr(new_handle("tsrelu_student_copy", self._h()))

    @property
    def m(self):
        """Number of student neurons."""
        return int(lib.tsrelu_student_width(self._h()))

    @property
    def d(self):
        """Input dimension."""
        return int(lib.tsrelu_student_dim(self._h()))

    @property
    def shape(self):
        """(m, d)."""
        return student_shape(self._h())

    @property
    def W(self):
        """A copy of the weights, m x d (row i is w_i). Assign an m x d array
        to replace them (finite values; on error the student is unchanged)."""
        return student_W(self._h())

    @W.setter
    def W(self, value):
        h = self._h()
        W = float_array(value, "W", "Student.W")
        m, d = student_shape(h)
        if W.shape not in ((m, d), (m * d,)):
            fail(Status.ELENGTH, "Student.W: shape %s given, (%d, %d) required" % (W.shape, m, d))
        call("tsrelu_student_set_weights", h, ptr(W), W.size)

    @property
    def a(self):
        """A copy of the output weights (m,). Assignable."""
        return student_a(self._h())

    @a.setter
    def a(self, value):
        h = self._h()
        a = float_array(value, "a", "Student.a")
        m, _ = student_shape(h)
        if a.shape != (m,):
            fail(Status.ELENGTH, "Student.a: shape %s given, (%d,) required" % (a.shape, m))
        call("tsrelu_student_set_output_weights", h, ptr(a), a.size)

    def loss(self, teacher):
        """Population loss against `teacher` (double precision)."""
        return loss(self, teacher)

    def loss_accurate(self, teacher):
        """Population loss in quadruple precision (for tiny excess risk)."""
        return loss_accurate(self, teacher)

    def gradient(self, teacher, output=False):
        """dL/dW (m x d); with output=True the pair (dL/dW, dL/da)."""
        return gradient(self, teacher, output)

    def __repr__(self):
        if self.closed:
            return "<tsrelu.Student (closed)>"
        return "<tsrelu.Student m=%d d=%d>" % self.shape


def _pair(student, teacher, fn):
    if not isinstance(student, Student):
        raise TypeError("%s: student must be a tsrelu.Student, got %s" % (fn, type(student).__name__))
    if not isinstance(teacher, Teacher):
        raise TypeError("%s: teacher must be a tsrelu.Teacher, got %s" % (fn, type(teacher).__name__))
    return student._h(), teacher._h()


def loss(student, teacher):
    """L = 1/2 E[(f(x) - f*(x))^2] in double precision (tsrelu_loss)."""
    return loss_raw(*_pair(student, teacher, "loss"))


def loss_accurate(student, teacher):
    """The same loss in quadruple precision (tsrelu_loss_accurate)."""
    return loss_raw(*_pair(student, teacher, "loss_accurate"), accurate=True)


def gradient(student, teacher, output=False):
    """dL/dW as an m x d array; with output=True the pair (dL/dW, dL/da)."""
    return gradient_raw(*_pair(student, teacher, "gradient"), bool(output))


def equiangular_gram(k, alpha, norms=1.0):
    """The k x k Gram matrix of neurons with all pairwise angles `alpha`
    (radians) and norms `norms` (a scalar or k values): G[i, j] =
    n_i n_j cos(alpha), G[i, i] = n_i^2. Positive definite (usable by
    Teacher.from_gram) iff cos(alpha) > -1/(k-1)."""
    fn = "equiangular_gram"
    k = c_integer(k, "size_t", "k", fn)
    alpha = real(alpha, "alpha", fn)
    if np.ndim(norms) == 0:
        n = np.full(k, real(norms, "norms", fn))
    else:
        n = vector(norms, k, "norms", fn)
    G = np.outer(n, n) * math.cos(alpha)  # exactly symmetric: n_i n_j = n_j n_i
    G[np.diag_indices(k)] = n * n
    return G

"""Metrics of the dynamics: angles, groups, radial/tangential parts,
projection deficits, balance, and the power-law rate fit.

`tau` arguments: None means the nearest-teacher assignment; otherwise an
integer array of length m with values in {-1, 0, ..., k-1}."""
import collections
import math
from ctypes import byref, c_double

import numpy as np

from ._args import float_array, ptr, real, tau_arg
from ._lib import Status, call, fail
from ._network import Student, Teacher, student_shape, teacher_shape

Components = collections.namedtuple("Components", "radial tangential")
Balance = collections.namedtuple("Balance", "size ratio_min ratio_max excess")


# Raw forms on C pointers (also used by GD for its current iterate).

def angles_raw(sp, tp):
    m, _ = student_shape(sp)
    k, _ = teacher_shape(tp)
    theta = np.empty((m, k))
    call("tsrelu_angles", sp, tp, ptr(theta), theta.size)
    return theta


def nearest_raw(sp, tp):
    m, _ = student_shape(sp)
    tau = np.empty(m, dtype=np.intc)
    call("tsrelu_nearest_teacher", sp, tp, ptr(tau), tau.size)
    return tau


def components_raw(sp, tp, tau):
    m, _ = student_shape(sp)
    t, n = tau_arg(tau, "components")
    radial, tangential = np.empty(m), np.empty(m)
    call("tsrelu_components", sp, tp, ptr(t), n, ptr(radial), ptr(tangential), m)
    return Components(radial, tangential)


def deficit_raw(sp, tp, tau):
    k, _ = teacher_shape(tp)
    t, n = tau_arg(tau, "deficit")
    H = np.empty(k)
    call("tsrelu_deficit", sp, tp, ptr(t), n, ptr(H), k)
    return H


def balance_raw(sp, tp, tau):
    k, _ = teacher_shape(tp)
    t, n = tau_arg(tau, "balance")
    size = np.empty(k, dtype=np.intc)
    rmin, rmax, excess = np.empty(k), np.empty(k), np.empty(k)
    call("tsrelu_balance", sp, tp, ptr(t), n, ptr(size), ptr(rmin), ptr(rmax), ptr(excess), k)
    return Balance(size, rmin, rmax, excess)


def _pair(student, teacher, fn):
    if not isinstance(student, Student) or not isinstance(teacher, Teacher):
        raise TypeError("%s(student, teacher): got %s, %s"
                        % (fn, type(student).__name__, type(teacher).__name__))
    return student._h(), teacher._h()


def angles(student, teacher):
    """theta[i, j] = angle between w_i and v_j in radians (m x k); NaN rows
    for zero students."""
    return angles_raw(*_pair(student, teacher, "angles"))


def nearest_teacher(student, teacher):
    """tau[i] = index of the teacher closest in angle to w_i (ties: lowest),
    -1 for a zero student; an int array of length m."""
    return nearest_raw(*_pair(student, teacher, "nearest_teacher"))


def components(student, teacher, tau=None):
    """(radial, tangential): |w_i| cos and |w_i| sin of the angle to the
    assigned teacher (0 for unassigned students), arrays of length m."""
    return components_raw(*_pair(student, teacher, "components"), tau)


def deficit(student, teacher, tau=None):
    """Projection deficits H[l] = b_l |v_l| - sum_{tau_i = l} a_i radial_i (k,)."""
    return deficit_raw(*_pair(student, teacher, "deficit"), tau)


def balance(student, teacher, tau=None):
    """Per teacher group: Balance(size, ratio_min, ratio_max, excess), each of
    length k (see tsrelu_balance; NaN ratios for an empty group)."""
    return balance_raw(*_pair(student, teacher, "balance"), tau)


def rate_fit(t, L, t_lo=0.0, t_hi=math.inf):
    """Least-squares fit of log L = p log t + log C over the points with
    t_lo <= t <= t_hi, t > 0 and L > 0. Returns (p, log C)."""
    t = float_array(t, "t", "rate_fit").ravel()
    L = float_array(L, "L", "rate_fit").ravel()
    if t.size != L.size:
        fail(Status.ELENGTH, "rate_fit: t has %d entries but L has %d" % (t.size, L.size))
    slope, intercept = c_double(), c_double()
    call("tsrelu_rate_fit", ptr(t), ptr(L), t.size, real(t_lo, "t_lo", "rate_fit"),
         real(t_hi, "t_hi", "rate_fit"),
         byref(slope), byref(intercept))
    return slope.value, intercept.value

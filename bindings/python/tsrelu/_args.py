"""Python arguments to C values: the one place that range-checks integers,
converts arrays and scalars to float64, and turns paths into C strings.

ctypes converts silently where the C call would then do the wrong thing: an
int outside the C type wraps modulo 2^N (m = 2**64 + 3 becomes 3), a path
is cut at its first NUL byte, and numpy drops an imaginary part or a mask.
Every public entry point converts its arguments here instead:

* integers: OutOfRange (an OverflowError that is also a tsrelu.Error with
  TSRELU_EINVAL) outside the C type, negative values included;
* reals (scalars and array entries): TypeError for complex numbers, strings
  and other non-numbers, ValueError for masked values;
* paths: str, bytes or os.PathLike; ValueError for an embedded NUL.
"""
import ctypes
import numbers
import operator
import os
from ctypes import POINTER, c_double, c_int

import numpy as np

from ._lib import OutOfRange, Status, fail

_PD = POINTER(c_double)
_PI = POINTER(c_int)

# [lo, hi] of the C integer types an argument may go to.
C_RANGES = {
    "size_t": (0, 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1),
    "uint64_t": (0, 2 ** 64 - 1),
    "unsigned": (0, 2 ** (8 * ctypes.sizeof(ctypes.c_uint)) - 1),
    "int": (-(2 ** (8 * ctypes.sizeof(c_int) - 1)), 2 ** (8 * ctypes.sizeof(c_int) - 1) - 1),
}


def c_integer(x, ctype, what, fn):
    """x (any object with __index__) as a Python int that fits the C type
    `ctype` (a key of C_RANGES); TypeError for non-integers, OutOfRange
    otherwise."""
    v = operator.index(x)
    lo, hi = C_RANGES[ctype]
    if not lo <= v <= hi:
        raise OutOfRange("%s: %s=%d is outside the range of the C %s, [%d, %d]"
                         % (fn, what, v, ctype, lo, hi))
    return v


def _refuse_non_real(x, what, fn):
    """TypeError/ValueError for a value that float() or numpy would coerce
    silently (or nonsensically): complex, str/bytes, masked."""
    if x is np.ma.masked:
        raise ValueError("%s: %s is masked (numpy.ma.masked has no value)" % (fn, what))
    if isinstance(x, (str, bytes, bytearray)):
        raise TypeError("%s: %s must be a real number, got %s %r"
                        % (fn, what, type(x).__name__, x))
    if isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real):
        raise TypeError("%s: %s must be a real number, got the complex %r" % (fn, what, x))


def real(x, what, fn):
    """x as a Python float (ints, floats, numpy reals, Fraction, Decimal, any
    object with __float__), refusing complex numbers, strings and masked
    values."""
    _refuse_non_real(x, what, fn)
    try:
        return float(x)
    except TypeError:
        raise TypeError("%s: %s must be a real number, got %s" % (fn, what, type(x).__name__)) from None


def _unmasked(x, what, fn):
    """The data of a masked array with nothing masked; ValueError if any
    entry is masked. Other inputs are returned unchanged."""
    if isinstance(x, np.ma.MaskedArray):
        if np.ma.getmask(x) is not np.ma.nomask and np.ma.getmask(x).any():
            bad = np.argwhere(np.ma.getmaskarray(x))[0]
            raise ValueError("%s: %s is a masked array with masked entries (first at index %s); "
                             "fill them (x.filled(value)) or pass x.data"
                             % (fn, what, tuple(int(i) for i in bad)))
        return np.ma.getdata(x)
    return x


def _object_entries(a, integral, what, fn):
    """An object array of numbers as float64 (or int64 if `integral`)."""
    out = np.empty(a.shape, dtype=np.int64 if integral else np.float64)
    flat = out.reshape(-1)
    for i, x in enumerate(a.reshape(-1)):
        where = "%s[%s]" % (what, ", ".join(str(int(j)) for j in np.unravel_index(i, a.shape)))
        if integral:
            try:
                flat[i] = c_integer(x, "int", where, fn)
            except TypeError:
                raise TypeError("%s: %s must be an integer, got %s"
                                % (fn, where, type(x).__name__)) from None
        else:
            flat[i] = real(x, where, fn)
    return out


def array(x, what, fn, integral=False):
    """x as a numpy array of real numbers (integers if `integral`), refusing
    what numpy would coerce silently: complex, string, bytes, datetime or
    structured dtypes (TypeError), masked entries (ValueError), object
    arrays holding anything but real numbers (TypeError). Not copied when it
    already is a numeric numpy array."""
    a = np.asarray(_unmasked(x, what, fn))
    kinds = "biu" if integral else "biuf"
    if a.dtype.kind == "O":
        a = _object_entries(a, integral, what, fn)
    elif a.dtype.kind not in kinds:
        raise TypeError("%s: %s must hold %s numbers, got dtype %s"
                        % (fn, what, "integer" if integral else "real", a.dtype))
    return a


def float_array(x, what, fn):
    """A C-contiguous float64 copy-or-view of x (see array())."""
    return np.ascontiguousarray(array(x, what, fn), dtype=np.float64)


def matrix(x, what, fn):
    """A C-contiguous float64 2-D array (see array())."""
    a = float_array(x, what, fn)
    if a.ndim != 2:
        fail(Status.EINVAL, "%s: %s must be a 2-D array (neurons x dimension), got shape %s"
             % (fn, what, a.shape))
    return a


def vector(x, n, what, fn):
    """A C-contiguous float64 vector of exactly n entries, or None for None."""
    if x is None:
        return None
    a = float_array(x, what, fn)
    if a.ndim != 1 or a.shape[0] != n:
        fail(Status.ELENGTH, "%s: %s has shape %s, %d entries required" % (fn, what, a.shape, n))
    return a


def tau_arg(tau, fn):
    """(array of C ints, length) for an optional group assignment; (None, 0)
    for None."""
    if tau is None:
        return None, 0
    t = array(tau, "tau", fn, integral=True).ravel()
    if t.size:
        c_integer(int(t.min()), "int", "min(tau)", fn)
        c_integer(int(t.max()), "int", "max(tau)", fn)
    t = np.ascontiguousarray(t, dtype=np.intc)
    return t, t.size


def size_array(x, what, fn):
    """(array of C size_t, pointer, length) for an optional array of counts;
    (None, None, 0) for None. Every entry must fit a size_t (OutOfRange)."""
    if x is None:
        return None, None, 0
    a = array(x, what, fn, integral=True).ravel()
    if a.size:
        c_integer(int(a.min()), "size_t", "min(%s)" % what, fn)
        c_integer(int(a.max()), "size_t", "max(%s)" % what, fn)
    a = np.ascontiguousarray(a, dtype=np.uintp)
    return a, a.ctypes.data_as(POINTER(ctypes.c_size_t)), a.size


def ptr(a):
    """A ctypes pointer to the data of a contiguous numpy array (or NULL)."""
    if a is None:
        return None
    return a.ctypes.data_as(_PI if a.dtype == np.intc else _PD)


def path_arg(p, fn):
    """A file path (str, bytes or os.PathLike) as bytes for a C string;
    ValueError for an embedded NUL, which C would read as the end."""
    b = os.fsencode(p)
    if b"\0" in b:
        raise ValueError("%s: embedded null byte in path %r" % (fn, p))
    return b


"""Initial conditions from the theory: Student.weak_recovery,
Teacher.from_gram and equiangular_gram against their stated angles, norms
and Gram matrices, the C library's known values, and bad input."""
import math

import numpy as np
import pytest

import tsrelu


def raises(name, fn, *args, match=None, **kw):
    with pytest.raises(tsrelu.Error) as info:
        fn(*args, **kw)
    assert info.value.name == name, str(info.value)
    if match is not None:
        assert match in info.value.message, info.value.message
    return info.value


@pytest.fixture
def teacher():
    return tsrelu.Teacher.orthogonal(3, 6, 1.0, seed=1)


@pytest.mark.parametrize("zeta", [1e-6, 0.3, 1.2])
@pytest.mark.parametrize("sigma", [1e-6, 1.0, 1e100])
def test_weak_recovery_angle_and_norm(teacher, zeta, sigma):
    s, tau = tsrelu.Student.weak_recovery(teacher, 8, zeta, sigma, seed=3, return_tau=True)
    assert s.shape == (8, 6)
    np.testing.assert_array_equal(tau, np.arange(8) % 3)  # round-robin
    theta = tsrelu.angles(s, teacher)
    np.testing.assert_allclose(theta[np.arange(8), tau], zeta, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(s.W, axis=1), sigma, rtol=1e-14)
    np.testing.assert_array_equal(s.a, 1.0)
    if zeta < math.pi / 4:
        np.testing.assert_array_equal(tsrelu.nearest_teacher(s, teacher), tau)


def test_weak_recovery_counts(teacher):
    s, tau = tsrelu.Student.weak_recovery(teacher, 5, 0.2, 1.0, counts=[2, 0, 3], seed=1,
                                          return_tau=True)
    np.testing.assert_array_equal(tau, [0, 0, 2, 2, 2])
    assert isinstance(s, tsrelu.Student)
    only = tsrelu.Student.weak_recovery(teacher, 5, 0.2, 1.0, counts=np.array([2, 0, 3]), seed=1)
    np.testing.assert_array_equal(only.W, s.W)


def test_weak_recovery_seeds_and_known_value():
    t = tsrelu.Teacher.orthogonal(3, 5, 1.0, seed=1)
    W1 = tsrelu.Student.weak_recovery(t, 6, 0.5, 1e-3, seed=2026).W
    W2 = tsrelu.Student.weak_recovery(t, 6, 0.5, 1e-3, seed=2026).W
    W3 = tsrelu.Student.weak_recovery(t, 6, 0.5, 1e-3, seed=2027).W
    assert W1.tobytes() == W2.tobytes()
    assert not np.any(W1 == W3)
    # the C suite's known values (tests/unit/check_init.c)
    assert W1[0, 0] == float.fromhex("0x1.993f42cdaeb9dp-12")
    assert W1[0, 1] == float.fromhex("-0x1.791871adfc904p-12")


def test_weak_recovery_bad_input(teacher):
    wr = tsrelu.Student.weak_recovery
    raises("TSRELU_EINVAL", wr, teacher, 3, 0.0, 1.0, match="zeta=0 must lie in (0, pi/2)")
    raises("TSRELU_EINVAL", wr, teacher, 3, math.pi / 2 + 1e-9, 1.0, match="zeta=")
    raises("TSRELU_ENONFINITE", wr, teacher, 3, math.nan, 1.0, match="zeta is nan")
    raises("TSRELU_EINVAL", wr, teacher, 3, 0.3, 0.0, match="sigma=0 must be > 0")
    raises("TSRELU_ENONFINITE", wr, teacher, 3, 0.3, math.inf, match="sigma is inf")
    raises("TSRELU_EINVAL", wr, teacher, 0, 0.3, 1.0, match="m=0")
    raises("TSRELU_ELENGTH", wr, teacher, 3, 0.3, 1.0, counts=[1, 2], match="counts: length 2")
    raises("TSRELU_EINVAL", wr, teacher, 3, 0.3, 1.0, counts=[1, 1, 0], match="counts add up to 2")
    with pytest.raises(tsrelu.OutOfRange):
        wr(teacher, 3, 0.3, 1.0, counts=[1, -1, 3])
    with pytest.raises(TypeError):
        wr(teacher, 3, 0.3, 1.0, counts=[1.0, 1.0, 1.0])
    with pytest.raises(TypeError):
        wr("teacher", 3, 0.3, 1.0)
    with pytest.raises(TypeError):
        wr(teacher, 3, 0.3 + 1j, 1.0)
    t1 = tsrelu.Teacher([[1.0]])
    raises("TSRELU_EINVAL", wr, t1, 3, 0.3, 1.0, match="d >= 2 required")
    teacher.close()
    raises("TSRELU_EINVAL", wr, teacher, 3, 0.3, 1.0, match="closed")


def test_from_gram_reproduces_g():
    A = np.array([[2.0, 0.3, -0.1], [0.5, 1.0, 0.2], [-0.7, 0.1, 0.25]])
    G = A @ A.T
    G = (G + G.T) / 2
    t = tsrelu.Teacher.from_gram(G, b=[1.0, -2.0, 0.5], d=7, seed=4)
    assert t.shape == (3, 7)
    V = t.V
    assert np.max(np.abs(V @ V.T - G)) <= 1e-14 * np.max(np.abs(G))
    np.testing.assert_array_equal(t.b, [1.0, -2.0, 0.5])
    t2 = tsrelu.Teacher.from_gram(G, b=[1.0, -2.0, 0.5], d=7, seed=4)
    assert t2.V.tobytes() == V.tobytes()
    assert not np.any(tsrelu.Teacher.from_gram(G, d=7, seed=5).V == V)


def test_from_gram_identity_is_orthogonal():
    a = tsrelu.Teacher.from_gram(np.eye(3), d=5, seed=9)
    b = tsrelu.Teacher.orthogonal(3, 5, 1.0, seed=9)
    assert a.V.tobytes() == b.V.tobytes()


def test_equiangular_gram():
    G = tsrelu.equiangular_gram(3, 1.0, [1.0, 2.0, 3.0])
    n = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.diag(G), n * n)
    assert G[0, 1] == 2.0 * math.cos(1.0) and G[1, 2] == G[2, 1] == 6.0 * math.cos(1.0)
    np.testing.assert_array_equal(tsrelu.equiangular_gram(2, 0.5), [[1.0, math.cos(0.5)],
                                                                     [math.cos(0.5), 1.0]])
    t = tsrelu.Teacher.from_gram(G, d=4, seed=1)
    s = tsrelu.Student(t.V)
    theta = tsrelu.angles(s, t)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(theta[off], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(t.V, axis=1), n, rtol=1e-14)
    with pytest.raises(tsrelu.Error):
        tsrelu.equiangular_gram(3, 1.0, [1.0, 2.0])


def test_from_gram_bad_input():
    fg = tsrelu.Teacher.from_gram
    raises("TSRELU_ELENGTH", fg, np.ones((2, 3)), d=3, match="square")
    raises("TSRELU_EINVAL", fg, [[1.0, 0.5], [0.25, 1.0]], d=3, match="not symmetric")
    raises("TSRELU_EINVAL", fg, [[1.0, 2.0], [2.0, 1.0]], d=3, match="not positive definite")
    raises("TSRELU_EINVAL", fg, tsrelu.equiangular_gram(3, 2.2), d=3,
           match="not positive definite")  # cos(2.2) < -1/2
    raises("TSRELU_EINVAL", fg, np.eye(3), d=2, match="do not fit in d=2")
    raises("TSRELU_ENONFINITE", fg, [[1.0, 0.0], [0.0, math.nan]], d=3, match="G[3]")
    raises("TSRELU_ELENGTH", fg, np.eye(2), b=[1.0], d=3, match="b has shape")
    raises("TSRELU_EINVAL", fg, [1.0, 2.0], d=3, match="2-D")
    with pytest.raises(TypeError):
        fg(np.eye(2))  # d is required
    with pytest.raises(TypeError):
        fg(np.eye(2), None, 3)  # d is keyword-only

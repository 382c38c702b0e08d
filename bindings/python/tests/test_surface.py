"""The Pythonic surface: constructors, properties (copies), setters,
module-level functions and GD methods agree with each other."""
import math

import numpy as np

import tsrelu


def test_library_found_in_source_tree():
    assert tsrelu.version() == "%d.%d.%d" % (tsrelu.version_number() // 10000,
                                             tsrelu.version_number() // 100 % 100,
                                             tsrelu.version_number() % 100)
    assert tsrelu.version_number() // 10000 == tsrelu.API_MAJOR
    assert "source tree" in tsrelu.library_where or "TSRELU_LIBRARY" in tsrelu.library_where
    assert tsrelu.library_path.endswith(".so.%s" % tsrelu.version())


def test_teacher_properties(problem):
    t, _ = problem
    assert (t.k, t.d, t.shape) == (2, 8, (2, 8))
    V = t.V
    assert V.shape == (2, 8) and V.dtype == np.float64 and V.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(V, axis=1), 1.0, rtol=1e-14)
    assert abs(V[0] @ V[1]) < 1e-14
    np.testing.assert_array_equal(t.b, [1.0, 1.0])
    V[:] = 0  # a copy: the teacher is unchanged
    assert np.all(np.linalg.norm(t.V, axis=1) > 0.5)


def test_teacher_from_arrays():
    V = [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    t = tsrelu.Teacher(V, b=[1.0, -0.5])
    np.testing.assert_array_equal(t.V, V)
    np.testing.assert_array_equal(t.b, [1.0, -0.5])
    Vf = np.asfortranarray(np.array(V))  # any layout: converted to row-major
    np.testing.assert_array_equal(tsrelu.Teacher(Vf).V, V)
    c = t.copy()
    np.testing.assert_array_equal(c.V, t.V)
    np.testing.assert_array_equal(c.b, t.b)


def test_student_properties_and_setters(problem):
    t, s = problem
    assert (s.m, s.d, s.shape) == (6, 8, (6, 8))
    W = s.W
    W2 = W * 2
    s.W = W2
    np.testing.assert_array_equal(s.W, W2)
    s.W = W2.ravel()  # a flat m*d vector is accepted too
    np.testing.assert_array_equal(s.W, W2)
    s.a = np.arange(6.0)
    np.testing.assert_array_equal(s.a, np.arange(6.0))
    c = s.copy()
    c.W = np.zeros((6, 8))
    np.testing.assert_array_equal(s.W, W2)  # the copy is independent


def test_student_from_arrays():
    W = np.arange(12.0).reshape(3, 4) / 10
    s = tsrelu.Student(W, a=[1.0, 2.0, 3.0])
    np.testing.assert_array_equal(s.W, W)
    np.testing.assert_array_equal(s.a, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tsrelu.Student(W).a, [1.0, 1.0, 1.0])
    # integer input is converted to float64
    np.testing.assert_array_equal(tsrelu.Student([[1, 2]]).W, [[1.0, 2.0]])


def test_seeds_are_deterministic():
    a = tsrelu.Student.gaussian(4, 5, 0.5, seed=2**64 - 1).W
    b = tsrelu.Student.gaussian(4, 5, 0.5, seed=2**64 - 1).W
    c = tsrelu.Student.gaussian(4, 5, 0.5, seed=0).W
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(tsrelu.Teacher.orthogonal(3, 5, 2.0, 7).V,
                                  tsrelu.Teacher.orthogonal(3, 5, 2.0, 7).V)


def test_loss_and_gradient_forms_agree(problem):
    t, s = problem
    L = tsrelu.loss(s, t)
    assert L == s.loss(t) and L > 0
    La = tsrelu.loss_accurate(s, t)
    assert La == s.loss_accurate(t)
    assert abs(La - L) <= 1e-14 * L
    gW = tsrelu.gradient(s, t)
    assert gW.shape == (6, 8)
    gW2, ga = tsrelu.gradient(s, t, output=True)
    np.testing.assert_array_equal(gW, gW2)
    assert ga.shape == (6,)
    np.testing.assert_array_equal(s.gradient(t), gW)


def test_gradient_matches_finite_differences(problem):
    t, s = problem
    gW, ga = s.gradient(t, output=True)
    W0, a0, h = s.W, s.a, 1e-6
    for (i, c) in [(0, 0), (3, 5), (5, 7)]:
        W = W0.copy()
        W[i, c] += h
        s.W = W
        Lp = s.loss_accurate(t)
        W[i, c] -= 2 * h
        s.W = W
        Lm = s.loss_accurate(t)
        assert abs((Lp - Lm) / (2 * h) - gW[i, c]) < 1e-7
    s.W = W0
    a = a0.copy()
    a[2] += h
    s.a = a
    Lp = s.loss_accurate(t)
    a[2] -= 2 * h
    s.a = a
    Lm = s.loss_accurate(t)
    assert abs((Lp - Lm) / (2 * h) - ga[2]) < 1e-7


def test_loss_zero_at_teacher():
    t = tsrelu.Teacher.orthogonal(2, 4, 1.0, seed=3)
    s = tsrelu.Student(t.V)
    assert abs(s.loss(t)) < 1e-15
    assert s.loss_accurate(t) == 0.0 or abs(s.loss_accurate(t)) < 1e-30


def test_metrics(problem):
    t, s = problem
    th = tsrelu.angles(s, t)
    assert th.shape == (6, 2)
    W, V = s.W, t.V
    cos = (W @ V.T) / np.outer(np.linalg.norm(W, axis=1), np.linalg.norm(V, axis=1))
    np.testing.assert_allclose(th, np.arccos(cos), atol=1e-12)
    tau = tsrelu.nearest_teacher(s, t)
    np.testing.assert_array_equal(tau, np.argmin(th, axis=1))
    rad, tan_ = tsrelu.components(s, t)
    r = np.linalg.norm(W, axis=1)
    sel = th[np.arange(6), tau]
    np.testing.assert_allclose(rad, r * np.cos(sel), atol=1e-15)
    np.testing.assert_allclose(tan_, r * np.sin(sel), atol=1e-15)
    H = tsrelu.deficit(s, t)
    for l in range(2):
        assert math.isclose(H[l], 1.0 - rad[tau == l].sum(), rel_tol=1e-13, abs_tol=1e-15)
    bal = tsrelu.balance(s, t)
    assert isinstance(bal, tsrelu.Balance)
    np.testing.assert_array_equal(bal.size, [np.sum(tau == 0), np.sum(tau == 1)])
    # an explicit tau: everyone to teacher 0 but student 0 left out
    tau2 = np.zeros(6, dtype=int)
    tau2[0] = -1
    rad2, _ = tsrelu.components(s, t, tau=tau2)
    assert rad2[0] == 0.0
    H2 = tsrelu.deficit(s, t, tau=tau2)
    assert math.isclose(H2[1], 1.0, rel_tol=1e-15)  # b |v| of an empty group
    bal2 = tsrelu.balance(s, t, tau=tau2)
    assert list(bal2.size) == [5, 0] and math.isnan(bal2.ratio_min[1])


def test_rate_fit():
    T = np.array([10.0, 100.0, 1000.0, 1e4])
    p, c = tsrelu.rate_fit(T, 5 * T ** -3.0)
    assert math.isclose(p, -3.0, rel_tol=1e-12) and math.isclose(c, math.log(5), rel_tol=1e-12)
    p2, _ = tsrelu.rate_fit(T, 5 * T ** -3.0, t_lo=50, t_hi=2000)
    assert math.isclose(p2, -3.0, rel_tol=1e-12)


def test_gd_basics(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, eta=0.05)
    assert (gd.m, gd.k, gd.d, gd.iteration, gd.eta) == (6, 2, 8, 0, 0.05)
    np.testing.assert_array_equal(gd.W, s.W)
    assert gd.loss() == s.loss(t)
    assert gd.run(100) == tsrelu.OK
    assert gd.iteration == 100
    st = gd.student
    assert isinstance(st, tsrelu.Student)
    np.testing.assert_array_equal(st.W, gd.W)
    assert gd.loss() == st.loss(t)
    assert gd.loss_accurate() == st.loss_accurate(t)
    np.testing.assert_array_equal(gd.gradient(), st.gradient(t))
    assert math.isclose(gd.gradient_norm(), np.linalg.norm(st.gradient(t)), rel_tol=1e-13)
    tt = gd.teacher
    np.testing.assert_array_equal(tt.V, t.V)
    np.testing.assert_array_equal(gd.angles(), tsrelu.angles(st, t))
    np.testing.assert_array_equal(gd.nearest_teacher(), tsrelu.nearest_teacher(st, t))
    np.testing.assert_array_equal(gd.components().radial, tsrelu.components(st, t).radial)
    np.testing.assert_array_equal(gd.deficit(), tsrelu.deficit(st, t))
    np.testing.assert_array_equal(gd.balance().excess, tsrelu.balance(st, t).excess)
    assert gd.step() == tsrelu.OK and gd.iteration == 101
    gd.eta = 0.02
    assert gd.eta == 0.02
    assert "GD m=6" in repr(gd)


def test_gd_train_output_and_tolerances(problem):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05, train_output=True)
    assert gd.train_output
    gd.run(50)
    assert not np.array_equal(gd.a, s.a)
    gd.train_output = False
    a = gd.a
    gd.run(50)
    np.testing.assert_array_equal(gd.a, a)
    gd2 = tsrelu.GD(t, s, 0.05, loss_tol=0.5 * s.loss(t))
    assert gd2.tolerances == (0.5 * s.loss(t), 0.0)
    assert gd2.run(100000) == tsrelu.CONVERGED
    assert gd2.loss() <= 0.5 * s.loss(t)
    assert 0 < gd2.iteration < 100000


def test_gd_phases():
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    s = tsrelu.Student.gaussian(6, 8, 1e-3, seed=2)
    gd = tsrelu.GD(t, s, 0.1)
    assert gd.phase == 1 and gd.phase_times == (None, None)
    g0 = gd.groups(initial=True)
    np.testing.assert_array_equal(g0, tsrelu.nearest_teacher(s, t))
    gd.run(5000)
    t1, t2 = gd.phase_times
    assert gd.phase == 3 and t1 is not None and t2 is not None and t1 <= t2
    np.testing.assert_array_equal(gd.groups(), gd.nearest_teacher())
    assert gd.group_switches == int(np.sum(gd.groups() != g0))
    now = gd.iteration
    gd.set_phase_thresholds(1.0, 0.5)  # loose: met as soon as they are tested again
    assert all(x in (None, now) for x in gd.phase_times)
    gd.run(1)
    t1, t2 = gd.phase_times
    assert t1 in (now, now + 1) and t2 in (now, now + 1)

"""Second order (1.2): tsrelu.hessian, hessian_vector, spectrum, newton
against finite differences of tsrelu.gradient, hand-solved spectra and
numpy's own eigen-decomposition."""
import math

import numpy as np
import pytest

import tsrelu


def fd_hessian(s, t, output, h=1e-6):
    W, a = s.W, s.a
    m, d = W.shape
    N = m * d + (m if output else 0)
    H = np.empty((N, N))
    for v in range(N):
        cols = []
        for sg in (1, -1):
            W2, a2 = W.copy(), a.copy()
            if v < m * d:
                W2.flat[v] += sg * h
            else:
                a2[v - m * d] += sg * h
            gW, ga = tsrelu.Student(W2, a2).gradient(t, output=True)
            g = np.concatenate([gW.ravel(), ga])
            cols.append(g[:N])
        H[:, v] = (cols[0] - cols[1]) / (2 * h)
    return H


@pytest.mark.parametrize("output", [False, True])
def test_hessian_against_finite_differences(problem, output):
    t, s = problem
    H = tsrelu.hessian(s, t, output=output)
    m, d = s.shape
    assert H.shape == (m * d + (m if output else 0),) * 2
    assert np.array_equal(H, H.T)  # exactly symmetric
    err = np.max(np.abs(H - fd_hessian(s, t, output))) / np.max(np.abs(H))
    assert err < 1e-7


@pytest.mark.parametrize("output", [False, True])
def test_hessian_vector_is_h_times_x(problem, output):
    t, s = problem
    H = tsrelu.hessian(s, t, output=output)
    x = np.random.default_rng(3).standard_normal(H.shape[0])
    y = tsrelu.hessian_vector(s, t, x, output=output)
    assert np.max(np.abs(y - H @ x)) <= 1e-14 * np.max(np.abs(H)) * np.max(np.abs(x)) * 10
    if not output:  # an m x d direction is accepted as it is
        assert np.array_equal(tsrelu.hessian_vector(s, t, x.reshape(s.shape)), y)


def test_spectrum_matches_numpy_and_hand_values(problem):
    t, s = problem
    sp = tsrelu.spectrum(s, t, vectors=True)
    H = tsrelu.hessian(s, t)
    assert np.allclose(sp.values, np.linalg.eigvalsh(H), rtol=0, atol=1e-13)
    # columns are eigenvectors
    Z = sp.vectors
    assert np.allclose(H @ Z, Z * sp.values, atol=1e-13)
    assert sp.negative + sp.flat + sp.positive == H.shape[0]
    # m = k = 1 at w = (1, 0), v = (0, 2): eigenvalues 1/2 - 2/pi and 1/2
    one = tsrelu.spectrum(tsrelu.Student([[1.0, 0.0]]), tsrelu.Teacher([[0.0, 2.0]]))
    assert one.values == pytest.approx([0.5 - 2 / math.pi, 0.5], abs=1e-15)
    assert (one.negative, one.flat, one.positive) == (1, 0, 1)


def test_flat_norm_transfer_at_overparameterised_minimum():
    v = np.array([0.6, -0.8, 0.0])
    t = tsrelu.Teacher([v])
    s = tsrelu.Student([0.3 * v, 0.7 * v])
    sp = tsrelu.spectrum(s, t, vectors=True)
    assert (sp.negative, sp.flat, sp.positive) == (0, 3, 3)
    x = np.concatenate([v, -v]) / math.sqrt(2)
    flat = sp.vectors[:, :3]
    assert np.linalg.norm(flat.T @ x) == pytest.approx(1.0, abs=1e-14)


def test_newton_converges_quadratically_and_certifies():
    V = np.eye(3)[:2]
    t = tsrelu.Teacher(V)
    E = np.array([[0.3, -0.5, 0.8], [-0.2, 0.4, 0.6]])
    s = tsrelu.Student(V + 3e-2 * E)
    g = [tsrelu.newton(s, t, max_iter=j).grad_norm for j in range(3)]
    order = math.log(g[2] / g[1]) / math.log(g[1] / g[0])
    assert 1.8 <= order <= 2.3
    r = tsrelu.newton(s, t)
    assert r.converged and r.grad_norm <= 1e-13 * r.grad_scale
    assert (r.negative, r.flat, r.positive) == (0, 0, 6)
    assert r.min_positive == pytest.approx(0.25 - 0.5 / math.pi, abs=1e-12)
    assert np.allclose(r.student.W, V, atol=1e-12)
    assert np.array_equal(s.W, V + 3e-2 * E)  # the input is not modified


def test_newton_saddle_and_descent():
    t = tsrelu.Teacher(np.eye(2))
    s = tsrelu.Student([[0.35, 0.36], [0.35, 0.36]])
    r = tsrelu.newton(s, t, max_iter=50)
    assert r.converged and r.negative == 1 and r.flat == 1


def test_second_order_bad_arguments(problem):
    t, s = problem
    with pytest.raises(TypeError):
        tsrelu.hessian(t, s)
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.hessian_vector(s, t, np.ones(5))
    assert e.value.status == tsrelu.Status.ELENGTH
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.hessian_vector(s, t, np.full(48, np.nan))
    assert e.value.status == tsrelu.Status.ENONFINITE
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.spectrum(s, t, rel_tol=-1.0)
    assert e.value.status == tsrelu.Status.EINVAL
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.newton(s, t, rel_tol=1.5)
    assert e.value.status == tsrelu.Status.EINVAL
    t3 = tsrelu.Teacher.orthogonal(1, 3, 1.0, seed=1)
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.hessian(s, t3)
    assert e.value.status == tsrelu.Status.EDIM

"""Sampled training (1.2): GD.set_sampling against a plain numpy computation
of the empirical loss and gradient of a finite training set, online SGD
checkpoints, and bad input."""
import numpy as np
import pytest

import tsrelu


def relu(x):
    return np.maximum(x, 0.0)


def numpy_loss_grad(W, a, V, b, X):
    """The empirical loss 1/(2n) sum (f - f*)^2 and its gradient, by hand."""
    Z = X @ W.T                        # n x m
    r = relu(Z) @ a - relu(X @ V.T) @ b
    n = X.shape[0]
    gW = ((r[:, None] * (Z > 0) * a[None, :]).T @ X) / n
    ga = relu(Z).T @ r / n
    return 0.5 * np.mean(r * r), gW, ga


def make(train_output=True):
    t = tsrelu.Teacher.orthogonal(2, 6, seed=3)
    s = tsrelu.Student.gaussian(5, 6, 0.5, seed=4)
    return tsrelu.GD(t, s, 0.1, train_output=train_output)


def test_finite_set_matches_numpy():
    gd = make()
    X = np.random.default_rng(7).standard_normal((41, 6))
    gd.set_sampling(41, X=X)
    assert gd.sampling == (41, 41)
    L, gW, ga = numpy_loss_grad(gd.W, gd.a, gd.teacher.V, gd.teacher.b, X)
    assert gd.training_loss() == pytest.approx(L, rel=1e-13)
    seen = {}

    def rule(g, W, gW_, a, ga_):
        seen["gW"], seen["ga"] = gW_.copy(), ga_.copy()
        W -= g.eta * gW_
        a -= g.eta * ga_

    gd.step_rule = rule
    gd.step()
    scale = max(np.abs(gW).max(), np.abs(ga).max())
    np.testing.assert_allclose(seen["gW"], gW, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(seen["ga"], ga, rtol=0, atol=1e-13 * scale)
    assert gd.sample_loss() == pytest.approx(L, rel=1e-13)
    # the population loss is still what loss() reports
    assert gd.loss() == gd.student.loss(gd.teacher)


def test_online_resume_is_bit_identical(tmp_path):
    full, half = make(), make()
    for g in (full, half):
        g.set_sampling(3, seed=5)
    full.run(200)
    half.run(77)
    half.save(tmp_path / "s.ckpt")
    back = tsrelu.GD.load(tmp_path / "s.ckpt")
    assert back.sampling == (3, 0)
    back.run(123)
    assert np.array_equal(full.W, back.W) and np.array_equal(full.a, back.a)


def test_bad_input():
    gd = make()
    with pytest.raises(tsrelu.Error) as e:
        gd.set_sampling(5, 4)
    assert e.value.status == tsrelu.Status.EINVAL
    with pytest.raises(tsrelu.Error) as e:
        gd.training_loss()
    assert e.value.status == tsrelu.Status.EINVAL
    with pytest.raises(tsrelu.Error) as e:
        gd.set_sampling(2, X=np.full((2, 6), np.nan))
    assert e.value.status == tsrelu.Status.ENONFINITE
    assert gd.sampling == (0, 0)

"""Checkpoints through the binding: save, load, continue bit for bit."""
import numpy as np
import pytest

import tsrelu


def test_save_load_continues_bit_for_bit(problem, tmp_path):
    t, s = problem
    ref = tsrelu.GD(t, s, 0.05)
    ref.run(300)
    gd = tsrelu.GD(t, s, 0.05)
    gd.run(120)
    path = tmp_path / "state.ckpt"
    gd.save(path)
    gd.close()
    back = tsrelu.GD.load(path)
    assert (back.m, back.d, back.k, back.iteration, back.eta) == (6, 8, 2, 120, 0.05)
    assert back.train_output is False
    assert back.tolerances == (0.0, 0.0)
    back.run(180)
    np.testing.assert_array_equal(back.W, ref.W)
    assert back.loss() == ref.loss()


def test_settings_survive_a_checkpoint(problem, tmp_path):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05, train_output=True, loss_tol=1e-30, grad_tol=1e-31)
    gd.run(10)
    gd.save(tmp_path / "c")
    back = tsrelu.GD.load(tmp_path / "c")
    assert back.train_output is True
    assert back.tolerances == (1e-30, 1e-31)


def test_save_from_observer(problem, tmp_path):
    t, s = problem
    gd = tsrelu.GD(t, s, 0.05)
    gd.run(50, observer=lambda g: g.save(tmp_path / ("at%d" % g.iteration)), every=25)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["at0", "at25", "at50"]
    np.testing.assert_array_equal(tsrelu.GD.load(tmp_path / "at50").W, gd.W)


def momentum(beta):
    def rule(g, W, gW, a, ga):
        v = g.step_state.reshape(W.shape)
        v *= beta
        v += gW
        W -= g.eta * v
    return rule


def test_step_state_is_saved(problem, tmp_path):
    t, s = problem
    ref = tsrelu.GD(t, s, 0.02)
    ref.set_step_state(np.zeros(6 * 8))
    ref.step_rule = momentum(0.9)
    ref.run(200)

    gd = tsrelu.GD(t, s, 0.02)
    v = gd.set_step_state(np.zeros(6 * 8))
    gd.step_rule = momentum(0.9)
    gd.run(80)
    gd.save(tmp_path / "m.ckpt")
    assert np.any(v != 0)

    back = tsrelu.GD.load(tmp_path / "m.ckpt")
    buf = back.set_step_state(np.zeros(6 * 8))
    np.testing.assert_array_equal(buf, v)  # restored into the new buffer
    back.step_rule = momentum(0.9)
    back.run(120)
    np.testing.assert_array_equal(back.W, ref.W)
    again = tsrelu.GD.load(tmp_path / "m.ckpt")
    with pytest.raises(tsrelu.Error) as e:
        again.set_step_state(np.zeros(5))  # the saved state has 48 entries
    assert e.value.name == "TSRELU_ELENGTH"
    with pytest.raises(TypeError):
        back.set_step_state(np.zeros(48, dtype=np.float32))
    back.set_step_state(None)
    assert back.step_state is None


def test_load_errors(tmp_path):
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.GD.load(tmp_path / "missing.ckpt")
    assert e.value.name == "TSRELU_EIO"
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"this is not a checkpoint" * 10)
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.GD.load(bad)
    assert e.value.name == "TSRELU_EFORMAT"
    with pytest.raises(tsrelu.Error) as e:
        tsrelu.GD(tsrelu.Teacher.orthogonal(1, 2), tsrelu.Student.gaussian(1, 2, 1.0), 0.1).save(
            tmp_path / "no-such-dir" / "x.ckpt")
    assert e.value.name == "TSRELU_EIO"

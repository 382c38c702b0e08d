"""The binding returns exactly what the C API computes: against a small C
program that prints every value with %a, and against direct ctypes calls."""
import subprocess
from ctypes import byref, c_double, c_void_p
from pathlib import Path

import numpy as np
import pytest

import tsrelu
from tsrelu._lib import lib

from conftest import ROOT

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def reference(cc, libdir, tmp_path_factory):
    exe = tmp_path_factory.mktemp("bitexact") / "bitexact"
    subprocess.run([cc, "-std=c11", "-O0", "-I", str(ROOT / "include"), "-o", str(exe),
                    str(HERE / "bitexact.c"), "-L", libdir, "-l:" + Path(tsrelu.library_path).name,
                    "-Wl,-rpath," + libdir, "-lm"], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    ref = {"obs": []}
    for line in out.splitlines():
        key, *vals = line.split()
        if key == "obs":
            ref["obs"].append((int(vals[0]), float.fromhex(vals[1]), float.fromhex(vals[2])))
        else:
            ref[key] = vals
    return ref


def same(py, hex_tokens):
    """Bit-for-bit equality of a float array with %a tokens."""
    got = [float(x).hex() for x in np.asarray(py, dtype=np.float64).ravel()]
    want = [float.fromhex(x).hex() for x in hex_tokens]
    return got == want


def ints(tokens):
    return [int(x) for x in tokens]


@pytest.fixture
def nets():
    t = tsrelu.Teacher.orthogonal(3, 7, 1.5, seed=5)
    s = tsrelu.Student.gaussian(9, 7, 0.3, seed=6)
    return t, s


def test_networks(reference, nets):
    t, s = nets
    assert same(t.V, reference["V"]) and same(t.b, reference["b"])
    assert same(s.W, reference["W"]) and same(s.a, reference["a"])


def test_loss_and_gradient(reference, nets):
    t, s = nets
    assert same([tsrelu.loss(s, t)], reference["loss"])
    assert same([tsrelu.loss_accurate(s, t)], reference["loss_accurate"])
    gW, ga = tsrelu.gradient(s, t, output=True)
    assert same(gW, reference["gW"]) and same(ga, reference["ga"])


def test_explicit_weights(reference, nets):
    t, s = nets
    t2 = tsrelu.Teacher(t.V, b=[1.0, -0.5, 2.0])
    s2 = tsrelu.Student(s.W * 0.5, a=1.0 + np.arange(9) / 8.0)
    assert same([s2.loss(t2)], reference["loss2"])
    assert same([s2.loss_accurate(t2)], reference["loss2_accurate"])


def test_metrics(reference, nets):
    t, s = nets
    assert same(tsrelu.angles(s, t), reference["angles"])
    assert list(tsrelu.nearest_teacher(s, t)) == ints(reference["nearest"])
    rad, tan_ = tsrelu.components(s, t)
    assert same(rad, reference["radial"]) and same(tan_, reference["tangential"])
    tau2 = [i % 3 - (i == 4) for i in range(9)]
    assert same(tsrelu.deficit(s, t, tau=tau2), reference["deficit_tau"])
    b = tsrelu.balance(s, t)
    assert list(b.size) == ints(reference["balance_size"])
    assert same(b.ratio_min, reference["balance_min"])
    assert same(b.ratio_max, reference["balance_max"])
    assert same(b.excess, reference["balance_excess"])
    tt = [1, 10, 100, 1000, 0, 5]
    LL = [1, 2e-3, 1.5e-6, 1e-9, 7, 0]
    assert same(tsrelu.rate_fit(tt, LL, 0.0, 1e300), reference["rate_fit"])


def test_gd(reference, nets):
    t, s = nets
    with tsrelu.GD(t, s, 0.05, train_output=True) as gd:
        gd.run(300)
        gd.train_output = False
        gd.run(200)
        assert same(gd.W, reference["gd_W"]) and same(gd.a, reference["gd_a"])
        assert same([gd.loss()], reference["gd_loss"])
        assert same([gd.gradient_norm()], reference["gd_gnorm"])
        assert same([gd.loss_accurate()], reference["gd_loss_accurate"])
        assert gd.iteration == int(reference["gd_iteration"][0])
        phase, t1, t2, switches = ints(reference["gd_phase"])
        assert gd.phase == phase
        assert gd.phase_times == (None if t1 < 0 else t1, None if t2 < 0 else t2)
        assert gd.group_switches == switches
        assert list(gd.groups(initial=True)) == ints(reference["gd_groups0"])
        assert list(gd.groups()) == ints(reference["gd_groups"])


def test_gd_observer(reference, nets):
    t, s = nets
    t2 = tsrelu.Teacher(t.V, b=[1.0, -0.5, 2.0])
    s2 = tsrelu.Student(s.W * 0.5, a=1.0 + np.arange(9) / 8.0)
    seen = []
    gd = tsrelu.GD(t2, s2, 0.02)
    gd.run(1000, observer=lambda g: seen.append((g.iteration, g.loss(), g.loss_accurate())),
           per_decade=3)
    want = reference["obs"]
    assert [x[0] for x in seen] == [x[0] for x in want]
    assert [(x[1].hex(), x[2].hex()) for x in seen] == [(x[1].hex(), x[2].hex()) for x in want]
    assert same(gd.W, reference["gd2_W"])


def test_step_rule_equals_default_update(nets):
    """W <- W - eta gW written in numpy gives the C update bit for bit."""
    t, s = nets
    plain = tsrelu.GD(t, s, 0.05)
    plain.run(200)
    custom = tsrelu.GD(t, s, 0.05)

    def rule(gd, W, gW, a, ga):
        W -= gd.eta * gW
    custom.step_rule = rule
    custom.run(200)
    np.testing.assert_array_equal(custom.W, plain.W)
    assert custom.loss() == plain.loss()


def test_direct_ctypes(nets):
    """The binding against raw calls of the same prototyped functions."""
    t, s = nets
    tp, sp = c_void_p(), c_void_p()
    assert lib.tsrelu_teacher_create_orthogonal(3, 7, 1.5, 5, byref(tp)) == 0
    assert lib.tsrelu_student_create_gaussian(9, 7, 0.3, 6, byref(sp)) == 0
    try:
        L = c_double()
        assert lib.tsrelu_loss(sp, tp, byref(L)) == 0
        assert L.value.hex() == tsrelu.loss(s, t).hex()
        assert lib.tsrelu_loss_accurate(sp, tp, byref(L)) == 0
        assert L.value.hex() == tsrelu.loss_accurate(s, t).hex()
        gW = (c_double * 63)()
        assert lib.tsrelu_gradient(sp, tp, gW, 63, None, 0) == 0
        assert np.array_equal(np.frombuffer(gW).reshape(9, 7), tsrelu.gradient(s, t))
        th = (c_double * 27)()
        assert lib.tsrelu_angles(sp, tp, th, 27) == 0
        assert np.array_equal(np.frombuffer(th).reshape(9, 3), tsrelu.angles(s, t))
        gd = c_void_p()
        assert lib.tsrelu_gd_create(tp, sp, 0.05, byref(gd)) == 0
        assert lib.tsrelu_gd_run(gd, 100) == 0
        W = (c_double * 63)()
        assert lib.tsrelu_student_weights(lib.tsrelu_gd_student(gd), W, 63) == 0
        lib.tsrelu_gd_free(gd)
        g = tsrelu.GD(t, s, 0.05)
        g.run(100)
        assert np.array_equal(np.frombuffer(W).reshape(9, 7), g.W)
    finally:
        lib.tsrelu_student_free(sp)
        lib.tsrelu_teacher_free(tp)

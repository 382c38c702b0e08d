"""tsrelu.isa(): the kernels' dispatch path, its TSRELU_ISA override, and
GD results bit-identical on every path of a family the CPU supports."""
import platform

import tsrelu

from conftest import run_python

PATHS = ("avx512", "avx2", "portable")

RUN = """
import tsrelu
t = tsrelu.Teacher.orthogonal(4, 16, 1.0, seed=3)
s = tsrelu.Student.gaussian(20, 16, 0.1, seed=4)
gd = tsrelu.GD(t, s, 0.1)
gd.run(200)
print(tsrelu.isa())
print(" ".join(float(x).hex() for x in gd.W.ravel()))
"""


def test_default_path_is_a_known_name():
    assert tsrelu.isa() in PATHS


def test_every_supported_path_gives_the_bits_of_its_family():
    """The paths with FMA (avx512, avx2; portable on targets with the
    instruction) give the same bits; portable on x86-64 has no FMA, rounds
    its multiply-adds twice, and stays within 1e-12 of them normwise
    (measured 5e-17 after 300 steps: tests/integration/test_isa.sh)."""
    best = run_python("import tsrelu; print(tsrelu.isa())", {"TSRELU_ISA": ""}).stdout.strip()
    assert best in PATHS
    fused_portable = platform.machine() not in ("x86_64", "AMD64")
    out = {}
    for isa in PATHS:
        r = run_python(RUN, {"TSRELU_ISA": isa})
        assert r.returncode == 0, r.stderr
        got, bits = r.stdout.splitlines()
        if PATHS.index(isa) < PATHS.index(best):  # wider than this CPU: falls back
            assert got == "%s (TSRELU_ISA=%s is not supported by this CPU)" % (best, isa)
        else:
            assert got == isa
            out[isa] = bits
    assert "portable" in out
    fused = [isa for isa in out if isa != "portable" or fused_portable]
    for isa in fused[1:]:
        assert out[isa] == out[fused[0]], isa
    if fused and not fused_portable:
        a = [float.fromhex(x) for x in out["portable"].split()]
        b = [float.fromhex(x) for x in out[fused[0]].split()]
        assert len(a) == len(b)
        worst = max(abs(x - y) for x, y in zip(a, b)) / max(abs(y) for y in b)
        assert worst <= 1e-12, worst


def test_unknown_request_falls_back_and_says_so():
    best = run_python("import tsrelu; print(tsrelu.isa())", {"TSRELU_ISA": ""}).stdout.strip()
    r = run_python("import tsrelu; print(tsrelu.isa())", {"TSRELU_ISA": "neon"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "%s (TSRELU_ISA=neon is unknown)" % best

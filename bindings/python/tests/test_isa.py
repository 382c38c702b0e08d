"""tsrelu.isa(): the kernels' dispatch path, its TSRELU_ISA override, and
bit-identical GD results on every path the CPU supports."""
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


def test_every_supported_path_gives_the_same_bits():
    best = run_python("import tsrelu; print(tsrelu.isa())", {"TSRELU_ISA": ""}).stdout.strip()
    assert best in PATHS
    ref = run_python(RUN, {"TSRELU_ISA": "portable"})
    assert ref.returncode == 0, ref.stderr
    assert ref.stdout.splitlines()[0] == "portable"
    tried = 0
    for isa in PATHS:
        r = run_python(RUN, {"TSRELU_ISA": isa})
        assert r.returncode == 0, r.stderr
        got, bits = r.stdout.splitlines()
        if PATHS.index(isa) < PATHS.index(best):  # wider than this CPU: falls back
            assert got == "%s (TSRELU_ISA=%s is not supported by this CPU)" % (best, isa)
        else:
            assert got == isa
            tried += 1
        assert bits == ref.stdout.splitlines()[1], isa
    assert tried >= 1


def test_unknown_request_falls_back_and_says_so():
    best = run_python("import tsrelu; print(tsrelu.isa())", {"TSRELU_ISA": ""}).stdout.strip()
    r = run_python("import tsrelu; print(tsrelu.isa())", {"TSRELU_ISA": "neon"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "%s (TSRELU_ISA=neon is unknown)" % best

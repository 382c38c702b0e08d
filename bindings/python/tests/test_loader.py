"""Library lookup and the version check at import."""
import os
import subprocess
from pathlib import Path

import pytest

from tsrelu._lib import API_MINOR, PROTOTYPES, VersionError, check_version

from conftest import ROOT, run_python

FAKE = r"""
unsigned tsrelu_version_number(void) { return %(num)d; }
const char *tsrelu_version_string(void) { return "%(str)s"; }
"""


def test_check_version_rule():
    # The binding needs the minor version it was written for, or a newer one
    # (it calls that version's functions); any other major is refused.
    now = 10000 + 100 * API_MINOR
    assert check_version(now, "x") == (1, API_MINOR, 0)
    assert check_version(now + 7, "x") == (1, API_MINOR, 7)
    assert check_version(now + 100, "x") == (1, API_MINOR + 1, 0)  # newer minor: compatible
    for bad in (20000, now - 100, now - 93, 9900, 0):  # an older minor lacks functions
        with pytest.raises(VersionError):
            check_version(bad, "x")
    with pytest.raises(ImportError, match=r"libtsrelu 2\.1\.3.*needs libtsrelu 1\.x with x >= %d" % API_MINOR):
        check_version(20103, "/some/libtsrelu.so.2")


def test_loaded_from_source_tree_without_env():
    r = run_python("import tsrelu; print(tsrelu.library_path); print(tsrelu.library_where)", {})
    assert r.returncode == 0, r.stderr
    path, where = r.stdout.splitlines()
    assert Path(path) == (ROOT / "lib" / Path(path).name).resolve()
    assert "source tree" in where


def test_env_variable_wins(libdir):
    lib = os.path.join(libdir, "libtsrelu.so.1")
    r = run_python("import tsrelu; print(tsrelu.library_where)", {"TSRELU_LIBRARY": lib})
    assert r.returncode == 0, r.stderr
    assert "TSRELU_LIBRARY" in r.stdout


def test_env_variable_bad_path_is_an_error():
    r = run_python("import tsrelu", {"TSRELU_LIBRARY": "/nonexistent/libtsrelu.so.1"})
    assert r.returncode != 0
    assert "cannot load TSRELU_LIBRARY=/nonexistent/libtsrelu.so.1" in r.stderr


@pytest.mark.parametrize("num, text", [(20000, "2.0.0"), (10000 + 100 * (API_MINOR - 1), "1.%d.0" % (API_MINOR - 1)),
                                       (10000, "1.0.0"), (900, "0.9.0")])
def test_incompatible_library_is_refused(cc, tmp_path, num, text):
    src = tmp_path / "fake.c"
    src.write_text(FAKE % {"num": num, "str": text})
    so = tmp_path / "libtsrelu.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    r = run_python("import tsrelu", {"TSRELU_LIBRARY": str(so)})
    assert r.returncode != 0
    assert "VersionError" in r.stderr
    assert str(so) in r.stderr
    assert "is libtsrelu %s (tsrelu_version_number() = %d)" % (text, num) in r.stderr
    assert "needs libtsrelu 1.x with x >= %d" % API_MINOR in r.stderr


def test_library_missing_functions_is_refused(cc, tmp_path):
    src = tmp_path / "fake.c"
    src.write_text(FAKE % {"num": 10200, "str": "1.2.0"})
    so = tmp_path / "libtsrelu.so.1"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    r = run_python("import tsrelu", {"TSRELU_LIBRARY": str(so)})
    assert r.returncode != 0 and "lacks tsrelu_" in r.stderr


def test_prototypes_cover_the_abi(libdir):
    """Every function the library exports has a prototype, and no prototype
    names a function it does not export; the ABI baseline (abi/symbols.txt,
    which may lag behind the additions of a new minor version) is covered."""
    out = subprocess.run(["nm", "-D", "--defined-only", os.path.join(libdir, "libtsrelu.so.1")],
                         capture_output=True, text=True, check=True).stdout
    exported = {f[2].split("@")[0] for f in map(str.split, out.splitlines())
                if len(f) >= 3 and f[1] == "T"}
    assert set(PROTOTYPES) == exported
    names = {line.split()[0] for line in (ROOT / "abi" / "symbols.txt").read_text().splitlines()
             if line.strip()}
    assert names <= set(PROTOTYPES)


def test_prototype_arities_match_the_header():
    import re
    text = (ROOT / "include" / "tsrelu.h").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    for name, (_, argtypes) in PROTOTYPES.items():
        m = re.search(r"\b%s\s*\(([^)]*)\)\s*;" % name, text)
        assert m, name
        params = m.group(1).strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        assert n == len(argtypes), name

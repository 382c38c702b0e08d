"""Make the in-tree package importable and share small fixtures."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PYDIR = Path(__file__).resolve().parents[1]          # bindings/python
ROOT = PYDIR.parents[1]                              # repository root
if str(PYDIR) not in sys.path:
    sys.path.insert(0, str(PYDIR))

import tsrelu  # noqa: E402


@pytest.fixture
def problem():
    """Orthogonal teacher k=2, d=8; Gaussian student m=6, sigma=0.1."""
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=11)
    s = tsrelu.Student.gaussian(6, 8, 0.1, seed=12)
    return t, s


@pytest.fixture(scope="session")
def cc():
    """A C compiler able to build against include/ and the loaded library."""
    for name in (os.environ.get("CC"), "cc", "gcc"):
        if name and shutil.which(name):
            return name
    pytest.skip("no C compiler")


@pytest.fixture(scope="session")
def libdir():
    """Directory of the library the binding loaded."""
    return os.path.dirname(tsrelu.library_path)


def run_python(code, env_update, cwd=None):
    """Run code in a fresh /usr/bin/python3 (or this interpreter) with the
    in-tree package on the path; return CompletedProcess."""
    env = dict(os.environ)
    env.pop("TSRELU_LIBRARY", None)
    env["PYTHONPATH"] = str(PYDIR)
    env.update(env_update)
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd or str(ROOT),
                          capture_output=True, text=True, timeout=120)

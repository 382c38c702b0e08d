#!/usr/bin/env python3
"""One version number: include/tsrelu.h is its source; the Python package,
the Julia project, the README and docs/api.md must repeat it exactly
(scripts/set-version.sh writes them all).

    /usr/bin/python3 tests/integration/test_version.py

Last line: "version: N passed, M failed"."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*path):
    with open(os.path.join(ROOT, *path)) as f:
        return f.read()


def one(pattern, text, what):
    found = re.findall(pattern, text, flags=re.M)
    return found[0] if len(found) == 1 else "(%d matches for %s)" % (len(found), what)


def main():
    hdr = read("include", "tsrelu.h")
    parts = [one(r"^#define TSRELU_VERSION_%s (\d+)" % p, hdr, p) for p in ("MAJOR", "MINOR", "PATCH")]
    v = ".".join(parts)
    py = read("bindings", "python", "tsrelu", "_lib.py")
    places = {
        "TSRELU_VERSION_STRING": one(r'^#define TSRELU_VERSION_STRING "([^"]*)"', hdr, "string"),
        "Python __version__": one(r'^__version__ = "([^"]*)"', py, "__version__"),
        "Python API_MAJOR.API_MINOR": "%s.%s" % (one(r"^API_MAJOR = (\d+)", py, "API_MAJOR"),
                                                 one(r"^API_MINOR = (\d+)", py, "API_MINOR")),
        "Julia Project.toml": one(r'^version = "([^"]*)"', read("bindings", "julia", "Project.toml"), "version"),
        "README": one(r"^What it offers \(version ([0-9.]+)\):", read("README.md"), "README"),
        "docs/api.md": one(r"^This is the reference for version ([0-9.]+) of", read("docs", "api.md"), "api.md"),
        "docs/api.md macro table": one(r"^\| `TSRELU_VERSION_STRING` \| `\"([0-9.]+)\"` \|", read("docs", "api.md"),
                                       "api.md table"),
        "Julia API_MINOR": "%s.%s" % (parts[0], one(r"^const API_MINOR = (\d+)", read("bindings", "julia", "src",
                                                                                     "TsRelu.jl"), "Julia")),
        "man page tsrelu-sweep.1": one(r'^\.TH .* "libtsrelu ([0-9.]+)"', read("tools", "sweep", "tsrelu-sweep.1"),
                                       "man"),
    }
    passed = failed = 0
    for where, got in places.items():
        two = ("Python API_MAJOR.API_MINOR", "Julia API_MINOR", "man page tsrelu-sweep.1")
        want = "%s.%s" % (parts[0], parts[1]) if where in two else v
        if got == want:
            passed += 1
        else:
            failed += 1
            print("FAIL %s is %s, the header says %s" % (where, got, want))
    print("version: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

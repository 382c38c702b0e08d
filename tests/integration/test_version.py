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
    }
    passed = failed = 0
    for where, got in places.items():
        want = v if where != "Python API_MAJOR.API_MINOR" else "%s.%s" % (parts[0], parts[1])
        if got == want:
            passed += 1
        else:
            failed += 1
            print("FAIL %s is %s, the header says %s" % (where, got, want))
    print("version: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

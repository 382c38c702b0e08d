#!/usr/bin/env python3
"""Docs that run: every fenced code block of README.md, docs/*.md and the
bindings' READMEs that is a complete program is extracted and run, so the
docs cannot drift from the library.

* ```c blocks that define main() are compiled with -Wall -Wextra -Wpedantic
  -Werror against include/ and lib/ (run `make` first) and run;
* ```python blocks are run with this interpreter (Debian's /usr/bin/python3,
  which has numpy) from the repository root;
* other blocks (fragments such as a signal-handler excerpt, shell sessions,
  job scripts for a cluster) are listed, not run: a fragment is marked by
  not being a complete program.

    /usr/bin/python3 tests/integration/test_docblocks.py

Last line: "docblocks: N passed, M failed"."""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    files += sorted(glob.glob(os.path.join(ROOT, "bindings", "*", "README.md")))
    for path in files:
        text = open(path).read()
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            yield os.path.relpath(path, ROOT), line, m.group(1).lower(), m.group(2)


def run_c(code, tmp):
    src, exe = os.path.join(tmp, "block.c"), os.path.join(tmp, "block")
    with open(src, "w") as f:
        f.write(code)
    cc = os.environ.get("CC", "cc")
    lib = os.path.join(ROOT, "lib")
    build = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                            "-I" + os.path.join(ROOT, "include"), src, "-o", exe, "-L" + lib,
                            "-ltsrelu", "-Wl,-rpath," + lib, "-lm"], capture_output=True, text=True)
    if build.returncode != 0:
        return "compile failed:\n" + build.stderr
    out = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    return None if out.returncode == 0 else "exit %d:\n%s" % (out.returncode, out.stderr[-2000:])


def run_python(code, tmp):
    src = os.path.join(tmp, "block.py")
    with open(src, "w") as f:
        f.write(code)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, src], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env=env)
    return None if out.returncode == 0 else "exit %d:\n%s" % (out.returncode, out.stderr[-2000:])


def main():
    passed = failed = listed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path, line, lang, code in blocks():
            where = "%s:%d (%s)" % (path, line, lang or "plain")
            if lang == "c" and re.search(r"\bint\s+main\s*\(", code):
                err = run_c(code, tmp)
            elif lang == "python":
                err = run_python(code, tmp)
            else:
                listed += 1
                print("frag %s: an excerpt, not a complete program" % where)
                continue
            if err is None:
                passed += 1
                print("ok   %s runs" % where)
            else:
                failed += 1
                print("FAIL %s: %s" % (where, err))
    print("(%d fragments listed, not run)" % listed)
    print("docblocks: %d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Docs that run: every fenced code block of README.md, docs/*.md and the
bindings' READMEs that is meant to run is extracted and run, so the docs
cannot drift from the library.

* ```c blocks that define main() are compiled with -Wall -Wextra -Wpedantic
  -Werror against include/ and lib/ (run `make` first) and run;
* ```python blocks are run with this interpreter (Debian's /usr/bin/python3,
  which has numpy) from the repository root;
* ```sh, ```bash, ```shell and ```console blocks must carry a marker, an
  HTML comment on the line(s) just before the fence (blank lines allowed):

      <!-- run -->                        run it
      <!-- run: above=quickstart.c -->    run it, with the nearest ```c or
                                          ```python block above it in the same
                                          file written to quickstart.c first
      <!-- not run: REASON -->            do not run it, because REASON
                                          (installs as root, needs a cluster,
                                          runs for minutes, ...)

  Keys of `run:` (space-separated): `above=NAME` as shown; `needs=PATH`
  (a built file the block uses, such as build/run_checks: the test fails
  with "build PATH first" when it is missing); `destdir` (DESTDIR is set to
  a scratch directory, so `make install` to a system PREFIX lands there);
  `timeout=SECONDS` (default 60). A shell block without a marker, or with
  an empty reason, fails the test; so does an indented (unfenced) block
  whose first command looks like a shell command (fence it and mark it).
  A `run` block runs with `sh -e` (```bash: `bash -e -o pipefail`; a
  ```console block runs its `$ ` lines) in a scratch copy of the tree (the
  files git knows, plus lib/, pkgconfig/libtsrelu.pc and build/'s release
  artefacts), with HOME set to a scratch directory, the copy's build/ first
  on PATH and its lib/ on LD_LIBRARY_PATH, so that it cannot touch the
  checkout or the user's files;
* other blocks (C fragments such as a signal-handler excerpt, output
  samples, Julia, which is not installable here) are listed, not run.

    /usr/bin/python3 tests/integration/test_docblocks.py

Last line: "docblocks: N passed, M failed"."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
SHELL = ("sh", "bash", "shell", "console")
MARKER = re.compile(r"<!--\s*(run|not run)\s*(?::\s*(.*?))?\s*-->\s*\Z", re.S)
# The first command of an indented block that should be a fenced shell block.
COMMAND = re.compile(r"(\$ |make\b|sudo |sh |bash |cc |gcc |\./|export |python3? |/usr/bin/python3|"
                     r"pip |mpirun |srun |sbatch |build/[\w.-]+ |[A-Z_]+=\S* )")
# build/'s subdirectories that are other variants (not copied into the scratch tree)
VARIANTS = ("asan", "tsan", "fuzz", "valgrind")


def doc_files():
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return files + sorted(glob.glob(os.path.join(ROOT, "bindings", "*", "README.md")))


def blocks():
    """(path, line, lang, code, marker, above): marker is the text of the
    HTML comment just before the fence (or None), above the nearest C or
    Python block before this one in the same file."""
    for path in doc_files():
        text = open(path).read()
        above = None
        for m in FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            before = text[:m.start()].rstrip()
            start = before.rfind("<!--")
            marker = MARKER.match(before[start:]) if start >= 0 else None
            lang = m.group(1).lower()
            yield os.path.relpath(path, ROOT), line, lang, m.group(2), marker, above
            if lang in ("c", "python"):
                above = m.group(2)


def indented_shell_blocks():
    """Indented code blocks whose first command looks like a shell command."""
    for path in doc_files():
        lines = open(path).read().split("\n")
        fenced, prev_blank, inside = False, True, False
        for i, l in enumerate(lines):
            if l.startswith("```"):
                fenced = not fenced
            elif not fenced and not inside and prev_blank and l.startswith("    ") and l.strip():
                inside = True
                cmd = next((x.strip() for x in lines[i:] if x.strip() and not x.strip().startswith("#")), "")
                if COMMAND.match(cmd):
                    yield os.path.relpath(path, ROOT), i + 1
            elif l.strip() and not l.startswith("    "):
                inside = False
            prev_blank = not l.strip()


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


def tree_files():
    """The files of the source tree (git's view when there is one) and the
    release build's artefacts."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True).stdout.decode()
        files = [f for f in out.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = [os.path.relpath(os.path.join(d, f), ROOT) for d, sub, fs in os.walk(ROOT)
                 for f in fs if not d.startswith(os.path.join(ROOT, "build"))
                 and "/.git" not in d + "/"]
    for d, sub, fs in os.walk(os.path.join(ROOT, "build")):
        if d == os.path.join(ROOT, "build"):
            sub[:] = [x for x in sub if x not in VARIANTS]
        files += [os.path.relpath(os.path.join(d, f), ROOT) for f in fs if f not in ("check.log", "check.rc")]
    files += [os.path.relpath(f, ROOT) for f in glob.glob(os.path.join(ROOT, "lib", "libtsrelu*"))]
    files.append("pkgconfig/libtsrelu.pc")
    return sorted(set(f for f in files if os.path.lexists(os.path.join(ROOT, f))))


def scratch_tree(tmp, files):
    """A fresh copy of the tree (timestamps kept, so that make sees the
    build up to date) and a HOME, under tmp."""
    work = tempfile.mkdtemp(dir=tmp)
    tree, home = os.path.join(work, "tree"), os.path.join(work, "home")
    os.makedirs(home)
    for f in files:
        dst = os.path.join(tree, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), dst, follow_symlinks=False)
    return work, tree, home


def parse_run(args):
    opts = {"timeout": "60"}
    for word in (args or "").split():
        key, _, value = word.partition("=")
        if key not in ("above", "needs", "destdir", "timeout"):
            raise ValueError("unknown run key %r (above=, needs=, destdir, timeout=)" % key)
        opts.setdefault(key + "s", []).append(value) if key == "needs" else opts.__setitem__(key, value)
    return opts


def run_shell(lang, code, args, above, tmp, files):
    try:
        opts = parse_run(args)
    except ValueError as e:
        return str(e)
    for need in opts.get("needss", []):
        if not os.path.exists(os.path.join(ROOT, need)):
            return "build %s first (the block needs it)" % need
    work, tree, home = scratch_tree(tmp, files)
    if "above" in opts:
        if above is None:
            return "above=%s: no ```c or ```python block above this one" % opts["above"]
        with open(os.path.join(tree, opts["above"]), "w") as f:
            f.write(above)
    if lang == "console":
        lines, cmds = code.split("\n"), []
        for i, l in enumerate(lines):
            if l.startswith("$ ") or (cmds and cmds[-1].endswith("\\")):
                cmds.append(l[2:] if l.startswith("$ ") else l)
        code, shell = "\n".join(cmds) + "\n", ["sh", "-e"]
    else:
        shell = ["bash", "-e", "-o", "pipefail"] if lang == "bash" else ["sh", "-e"]
    env = dict(os.environ, HOME=home, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
               PATH=os.path.join(tree, "build") + os.pathsep + os.environ.get("PATH", ""),
               LD_LIBRARY_PATH=os.path.join(tree, "lib"))
    env.pop("DESTDIR", None)
    if "destdir" in opts:
        env["DESTDIR"] = os.path.join(work, "destdir")
    try:
        out = subprocess.run(shell + ["-c", code], cwd=tree, capture_output=True, text=True,
                             timeout=float(opts["timeout"]), env=env)
    except subprocess.TimeoutExpired:
        return "timed out after %s s" % opts["timeout"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return None if out.returncode == 0 else "exit %d:\n%s%s" % (out.returncode, out.stdout[-1000:],
                                                             out.stderr[-2000:])


def main():
    passed = failed = listed = 0
    files = tree_files()
    with tempfile.TemporaryDirectory() as tmp:
        for path, line, lang, code, marker, above in blocks():
            where = "%s:%d (%s)" % (path, line, lang or "plain")
            t0 = time.monotonic()
            if lang == "c" and re.search(r"\bint\s+main\s*\(", code):
                err = run_c(code, tmp)
            elif lang == "python":
                err = run_python(code, tmp)
            elif lang in SHELL and marker is None:
                err = "a shell block needs <!-- run --> or <!-- not run: REASON --> before it"
            elif lang in SHELL and marker.group(1) == "not run":
                if not (marker.group(2) or "").strip():
                    err = "<!-- not run: REASON -->: the reason is missing"
                else:
                    listed += 1
                    print("skip %s: not run: %s" % (where, " ".join(marker.group(2).split())))
                    continue
            elif lang in SHELL:
                err = run_shell(lang, code, marker.group(2), above, tmp, files)
            else:
                listed += 1
                print("frag %s: an excerpt, not a complete program" % where)
                continue
            if err is None:
                passed += 1
                print("ok   %s runs (%.1f s)" % (where, time.monotonic() - t0))
            else:
                failed += 1
                print("FAIL %s: %s" % (where, err))
        for path, line in indented_shell_blocks():
            failed += 1
            print("FAIL %s:%d: an indented block of shell commands: fence it as ```sh with "
                  "<!-- run --> or <!-- not run: REASON --> before it" % (path, line))
    print("(%d blocks listed, not run)" % listed)
    print("docblocks: %d passed, %d failed" % (passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

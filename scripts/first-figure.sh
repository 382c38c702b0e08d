#!/bin/sh
# Time from a fresh clone to a first Python figure, following the docs as a
# new user would (Debian packages already installed: scripts/deps.sh):
#   1. git clone the repository into a temporary directory;
#   2. build it: `make` (with --check: `make check`, which docs/tutorial.md
#      section 0 says to run first; it builds too, and runs every test);
#   3. run docs/tutorial.md's first Python block (section 1: one run with a
#      recorder, `tsrelu.plot` writes build/tutorial_one_run.png) with
#      Debian's /usr/bin/python3, extracted from the page itself so that
#      this script times what the page says;
#   4. check that the PNG was written.
# Prints the wall time of each step and the total; removes the clone.
#
#   sh scripts/first-figure.sh [--check] [REPOSITORY]   (default: this checkout's HEAD)
#
# make check runs it (about 8 s here): it clones the checkout's HEAD, so it
# times the committed tree, not uncommitted edits; outside a git checkout
# it says so and counts nothing.
# Last line: "first-figure: 1 passed, 0 failed; total N.N s" (exit status 0
# iff a figure was made).
set -eu
full=0
[ "${1:-}" = "--check" ] && { full=1; shift; }
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
PY=${PYTHON:-/usr/bin/python3}
if ! git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
  echo "first-figure: $src is not a git checkout; nothing to clone"
  echo "first-figure: 0 passed, 0 failed"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
t_start=$(now)
step() { # step NAME command...: run it, print its wall time
  name=$1
  shift
  t0=$(now)
  if ! "$@" > "$tmp/step.log" 2>&1; then
    tail -n 30 "$tmp/step.log"
    echo "first-figure: step '$name' failed"
    echo "first-figure: 0 passed, 1 failed"
    exit 1
  fi
  printf '%-44s %7.1f s\n' "$name" "$(echo "$(now) - $t0" | bc)"
}

step "git clone" git clone -q "$src" "$tmp/libtsrelu"
cd "$tmp/libtsrelu"
if [ $full = 1 ]; then
  step "make check (tutorial section 0)" make check
else
  step "make (builds lib/)" make
fi
"$PY" - docs/tutorial.md > "$tmp/first.py" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
print(re.search(r"^```python\n(.*?)^```", text, re.M | re.S).group(1))
PYEOF
step "tutorial section 1 (Python, figure)" env MPLBACKEND=Agg "$PY" "$tmp/first.py"
step "the figure exists" test -s build/tutorial_one_run.png
printf 'first-figure: 1 passed, 0 failed; total %.1f s\n' "$(echo "$(now) - $t_start" | bc)"

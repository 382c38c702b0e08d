#!/bin/sh
# The Python binding: its pytest suite (bindings/python/tests) and the Python
# examples (quickstart, second_order, flow, sgd: --quick), against the library of
# this tree (or TSRELU_LIBRARY).
#   sh tests/integration/test_python.sh          (from anywhere; needs make all first)
# Last line: "test_python: N passed, M failed"; exit status 0 iff M = 0.
set -u
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$PY" -m pytest bindings/python/tests -q -p no:cacheprovider > "$tmp/pytest.out" 2>&1
rc=$?
cat "$tmp/pytest.out"
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)|(passed|failed|error|skipped)[ ,]' "$tmp/pytest.out" | tail -1)
count() { echo "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' || echo 0; }
passed=$(count passed)
failed=$(( $(count failed) + $(count error) ))
skipped=$(count skipped)
if [ $rc != 0 ] && [ $failed = 0 ]; then failed=1; echo "pytest exited with $rc"; fi

# The Python examples in quick mode; each exits non-zero when one of its own
# checks fails (quickstart: the late rate; second_order: H x, spectrum counts,
# Newton; flow: L t^3 and the GD comparison; sgd: finite losses, SGD/exact ratio).
for ex in quickstart second_order flow sgd; do
  echo "== examples/$ex.py --quick"
  if "$PY" "examples/$ex.py" --quick > "$tmp/$ex.out" 2>&1; then
    tail -3 "$tmp/$ex.out"
    passed=$((passed + 1))
  else
    cat "$tmp/$ex.out"
    echo "FAIL examples/$ex.py --quick"
    failed=$((failed + 1))
  fi
done
[ "$skipped" != 0 ] && echo "($skipped skipped)"
echo "test_python: $passed passed, $failed failed"
[ $failed = 0 ]

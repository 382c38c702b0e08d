#!/bin/sh
# ThreadSanitizer run of tests/integration/thread_test.c: the library sources compiled
# into the test with clang -fsanitize=thread (OpenBLAS itself is not
# instrumented, so it is pinned to one thread: its own worker threads would
# be invisible to TSan).
#
#   sh scripts/tsan.sh                 make BUILD=tsan variant, then run
#   TSAN_CC=clang-14 sh scripts/tsan.sh
#
# Fails on any ThreadSanitizer report or failed check of the test.
# Last line on success: "tsan: N passed, 0 failed".
# shellcheck disable=SC2086,SC2012 # flag lists are split on purpose
set -eu
cd "$(dirname "$0")/.."
OUT=build/tsan
RUNS=${TSAN_RUNS:-3}
MAKE=${MAKE:-make}

echo "tsan: make BUILD=tsan variant (clang -fsanitize=thread, into $OUT)"
$MAKE --no-print-directory -s BUILD=tsan variant ${TSAN_CC:+CLANG=$TSAN_CC}

export OPENBLAS_NUM_THREADS=1
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
passed=0
failed=0
i=0
while [ "$i" -lt "$RUNS" ]; do
  i=$((i + 1))
  log="$OUT/thread_test-$i.log"
  if "$OUT/thread_test" >"$log" 2>&1; then rc=0; else rc=$?; fi
  if grep -q 'unexpected memory mapping' "$log" && command -v setarch >/dev/null; then
    # clang 14's TSan cannot map its shadow with high ASLR entropy: rerun
    # with address randomisation off.
    if setarch "$(uname -m)" -R "$OUT/thread_test" >"$log" 2>&1; then rc=0; else rc=$?; fi
  fi
  if [ "$rc" = 0 ] && ! grep -q 'WARNING: ThreadSanitizer' "$log"; then
    passed=$((passed + $(sed -n 's/^thread_test: \([0-9]*\) passed.*/\1/p' "$log")))
  else
    failed=$((failed + 1))
    echo "tsan: run $i failed (exit $rc), $log:"
    grep -A25 'WARNING: ThreadSanitizer\|FAILED' "$log" | head -60
  fi
done

echo "tsan: $passed passed, $failed failed"
[ "$failed" = 0 ]

#!/bin/sh
# Valgrind memcheck run of the C test binaries, built without sanitizers:
# every Check suite (in one process: CK_FORK=no, so valgrind sees the
# tests), tests/integration/thread_test.c, the fuzz seed corpus replayed by the
# standalone build of tests/fuzz/fuzz_api.c, and the quickstart example.
# Any invalid access, use of uninitialised memory or definite/indirect leak
# is an error.
#
#   sh scripts/valgrind.sh             make BUILD=valgrind variant, then run
#
# TSRELU_TEST_QUICK=1 is exported: test files shorten their Monte Carlo and
# long-GD tests under it (about 40x slower under memcheck otherwise).
# Last line on success: "valgrind: N passed, 0 failed".
# shellcheck disable=SC2086,SC2012 # flag lists are split on purpose
set -eu
cd "$(dirname "$0")/.."
OUT=build/valgrind
MAKE=${MAKE:-make}
command -v valgrind >/dev/null || { echo "valgrind: valgrind is not installed (apt-get install valgrind)"; exit 1; }

echo "valgrind: make BUILD=valgrind variant (into $OUT)"
$MAKE --no-print-directory -s BUILD=valgrind variant
mkdir -p "$OUT/run/build"

export OPENBLAS_NUM_THREADS=1 TSRELU_TEST_QUICK=1 CK_FORK=no
# --fair-sched=yes: with valgrind's default lock, a thread that polls with
# nanosleep (the interrupt and progress checks of thread_test) waits for the
# running one's whole time slices: thread_test took 250 s instead of 5 s.
VG="valgrind -q --fair-sched=yes --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --num-callers=30"
passed=0
failed=0

# run NAME LOG CMD...: one valgrind run; memcheck errors or a failed exit count.
run() {
  name=$1; log=$2; shift 2
  if $VG "$@" >"$log" 2>&1; then rc=0; else rc=$?; fi
  if [ "$rc" = 0 ]; then return 0; fi
  failed=$((failed + 1))
  if [ "$rc" = 99 ]; then echo "valgrind: memcheck errors in $name ($log):"
  else echo "valgrind: $name exited $rc ($log):"; fi
  grep -E -A14 '== (Invalid|Conditional|Use of|Syscall|Mismatched|[0-9,]+ .*bytes in)|:[EF]:|FAILED' "$log" | head -60
  return 1
}

echo "valgrind: Check suites (CK_FORK=no TSRELU_TEST_QUICK=1)"
log="$OUT/run_checks.log"
# (no `env VAR=... prog`: valgrind would trace env, not the test binary)
if TSRELU_TEST_DATA=tests/data/reference run run_checks "$log" "$OUT/run_checks"; then :; fi
n=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log" | tail -1)
if [ -n "$n" ]; then
  set -- $n
  passed=$((passed + $1 - $2 - $3))
  [ $(($2 + $3)) = 0 ] || echo "valgrind: $(($2 + $3)) Check tests failed"
else
  echo "valgrind: the Check runner did not finish ($log)"
fi

echo "valgrind: thread test"
if run thread_test "$OUT/thread_test.log" "$OUT/thread_test"; then
  passed=$((passed + $(sed -n 's/^thread_test: \([0-9]*\) passed.*/\1/p' "$OUT/thread_test.log")))
fi

echo "valgrind: fuzz seed corpus"
if run fuzz_replay "$OUT/fuzz_replay.log" "$OUT/fuzz_replay" tests/fuzz/corpus/*; then
  passed=$((passed + $(ls tests/fuzz/corpus | wc -l)))
fi

echo "valgrind: examples/quickstart --quick"
if (cd "$OUT/run" && run quickstart ../quickstart.log ../examples/quickstart --quick); then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "valgrind: $passed passed, $failed failed"
[ "$failed" = 0 ]

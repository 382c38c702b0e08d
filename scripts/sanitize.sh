#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer run of everything written in
# C: the library (static and shared), every Check suite, the examples (linked
# against the sanitized shared library) and tests/integration/thread_test.c.
#
#   sh scripts/sanitize.sh            make BUILD=asan variant, then run
#
# The Makefile builds the variant into build/asan, never into build/obj or
# lib/, so sanitized objects never mix with the normal ones. Leaks are errors (LeakSanitizer);
# so is any UBSan report (-fno-sanitize-recover=all). Check forks each test
# and a child that ends with a sanitizer report fails that test.
# Last line on success: "sanitize: N passed, 0 failed".
# shellcheck disable=SC2086,SC2012 # flag lists are split on purpose
set -eu
cd "$(dirname "$0")/.."
OUT=build/asan
MAKE=${MAKE:-make}

echo "sanitize: make BUILD=asan variant (library, Check runner, examples, thread test in $OUT)"
$MAKE --no-print-directory -s BUILD=asan variant
mkdir -p "$OUT/run/build"
examples=$(for e in examples/*.c; do basename "$e" .c; done)

# allocator_may_return_null: the tests ask for 2^48-byte allocations on
# purpose and expect TSRELU_ENOMEM, not an ASan abort.
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

passed=0
failed=0
log="$OUT/run_checks.log"
echo "sanitize: running the Check suites"
if TSRELU_TEST_DATA=tests/data/reference CK_VERBOSITY=${CK_VERBOSITY:-normal} "$OUT/run_checks" >"$log" 2>&1; then
  rc=0
else
  rc=$?
fi
grep -E '^[0-9]+%: Checks:|:[EF]:' "$log" | sed 's/^/  /' || true  # indented: not counted twice by tests/summary.sh
n=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log" | tail -1)
if [ -z "$n" ]; then
  echo "sanitize: the Check runner did not finish (exit $rc); see $log"; tail -30 "$log"
  failed=$((failed + 1))
else
  set -- $n
  passed=$((passed + $1 - $2 - $3)); failed=$((failed + $2 + $3))
  [ "$rc" = 0 ] || [ $(($2 + $3)) -gt 0 ] || { echo "sanitize: run_checks exited $rc"; failed=$((failed + 1)); }
fi
if grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$log"; then
  echo "sanitize: sanitizer report in $log:"; grep -A12 'ERROR: \|runtime error:' "$log" | head -60
  failed=$((failed + 1))
fi

for n in $examples; do
  args=--quick
  if (cd "$OUT/run" && "../examples/$n" $args >"../example-$n.log" 2>&1); then
    passed=$((passed + 1))
  else
    echo "sanitize: example $n $args failed:"; tail -30 "$OUT/example-$n.log"
    failed=$((failed + 1))
  fi
done

if "$OUT/thread_test" >"$OUT/thread_test.log" 2>&1; then
  passed=$((passed + 1))
else
  echo "sanitize: thread_test failed:"; tail -30 "$OUT/thread_test.log"
  failed=$((failed + 1))
fi

echo "sanitize: $passed passed, $failed failed"
[ "$failed" = 0 ]

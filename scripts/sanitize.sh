#!/bin/sh
# AddressSanitizer + UndefinedBehaviorSanitizer run of everything written in
# C: the library (static and shared), every Check suite, the examples (linked
# against the sanitized shared library) and tests/thread_test.c.
#
#   sh scripts/sanitize.sh            build into build/sanitize and run
#   OUT=/tmp/san CC=clang sh scripts/sanitize.sh
#
# It builds into its own directory, never into build/ or lib/, so sanitized
# objects never mix with the normal ones. Leaks are errors (LeakSanitizer);
# so is any UBSan report (-fno-sanitize-recover=all). Check forks each test
# and a child that ends with a sanitizer report fails that test.
# Last line on success: "sanitize: N passed, 0 failed".
# shellcheck disable=SC2086,SC2012 # flag lists are split on purpose
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-build/sanitize}
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

. scripts/blas-flags.sh

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
WARN="-Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes"
BASE="-std=c11 -ffp-contract=off -O1 -g $SAN $WARN"
LIBS="$BLAS_LIBS -lquadmath -lm -pthread"
version=$(sed -n 's/^#define TSRELU_VERSION_MAJOR \([0-9]*\).*/\1/p' include/tsrelu.h)

rm -rf "$OUT"
mkdir -p "$OUT/obj" "$OUT/lib" "$OUT/examples" "$OUT/run/build"
echo "sanitize: building the library with $CC $SAN"
for f in src/*.c; do
  $CC $BASE -Wmissing-prototypes -fPIC -fvisibility=hidden -Iinclude $BLAS_CFLAGS \
    -c "$f" -o "$OUT/obj/$(basename "$f" .c).o"
done
ar rcs "$OUT/libtsrelu.a" "$OUT"/obj/*.o
$CC $BASE -shared -Wl,-soname,libtsrelu.so.$version -Wl,--version-script=src/libtsrelu.map \
  -Wl,--no-undefined -o "$OUT/lib/libtsrelu.so.$version" "$OUT"/obj/*.o $LIBS
ln -sf "libtsrelu.so.$version" "$OUT/lib/libtsrelu.so"

echo "sanitize: building the Check runner, the examples and the thread test"
$CC $BASE -Wno-missing-prototypes -Iinclude -Isrc $CHECK_CFLAGS -o "$OUT/run_checks" \
  tests/test_main.c tests/check_*.c "$OUT/libtsrelu.a" $CHECK_LIBS $LIBS
examples=""
for e in examples/*.c; do
  n=$(basename "$e" .c)
  $CC $BASE -Iinclude -o "$OUT/examples/$n" "$e" -L"$OUT/lib" -ltsrelu \
    -Wl,-rpath,"$(cd "$OUT/lib" && pwd)" -lm
  examples="$examples $n"
done
$CC $BASE -Iinclude -o "$OUT/thread_test" tests/thread_test.c -L"$OUT/lib" -ltsrelu \
  -Wl,-rpath,"$(cd "$OUT/lib" && pwd)" -pthread -lm

# allocator_may_return_null: the tests ask for 2^48-byte allocations on
# purpose and expect TSRELU_ENOMEM, not an ASan abort.
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

passed=0
failed=0
log="$OUT/run_checks.log"
echo "sanitize: running the Check suites"
if TSRELU_TEST_DATA=tests/reference CK_VERBOSITY=${CK_VERBOSITY:-normal} "$OUT/run_checks" >"$log" 2>&1; then
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

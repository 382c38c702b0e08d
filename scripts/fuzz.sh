#!/bin/sh
# Build the libFuzzer harness tests/fuzz/fuzz_api.c (clang, with
# AddressSanitizer and UndefinedBehaviorSanitizer, the library sources
# compiled in), replay every reproducer in tests/fuzz/regressions/ and every
# seed in tests/fuzz/corpus/, then fuzz for a bounded time.
#
#   sh scripts/fuzz.sh [SECONDS]            default 60 (CI: at most 120)
#   sh scripts/fuzz.sh --explore [SECONDS]  -DFUZZ_AVOID_KNOWN: steer around
#                                           bugs already in regressions/
#   (make BUILD=fuzz variant builds build/fuzz/fuzz_api)
#
# Needs clang and libFuzzer (Debian: clang, libclang-rt-14-dev or the
# libclang-rt-dev of your clang). New inputs go to $OUT/corpus, never to
# tests/fuzz/corpus. A crash, sanitizer report, contract violation, leak or
# timeout leaves its input in $OUT/artifacts/ (see docs/fuzzing.md for how to
# minimise it and add it to tests/fuzz/regressions/).
# Last line on success: "fuzz: N passed, 0 failed" (regressions + seeds +
# the timed run).
# shellcheck disable=SC2086,SC2012 # flag lists are split on purpose
set -eu
cd "$(dirname "$0")/.."
defs=""
if [ "${1:-}" = "--explore" ]; then
  defs=-DFUZZ_AVOID_KNOWN=0xff
  shift
fi
secs=${1:-60}
case "$secs" in ''|*[!0-9]*) echo "usage: sh scripts/fuzz.sh [--explore] [SECONDS]" >&2; exit 2 ;; esac
OUT=build/fuzz
MAKE=${MAKE:-make}

mkdir -p "$OUT/corpus" "$OUT/artifacts" "$OUT/logs"
echo "fuzz: make BUILD=fuzz variant (clang -fsanitize=fuzzer,address,undefined $defs, into $OUT)"
# the objects of an --explore build differ: never reuse them across modes
stamp="$OUT/.defs"
[ "$(cat "$stamp" 2>/dev/null)" = "$defs" ] || rm -rf "$OUT/obj" "$OUT/lib" "$OUT/fuzz_api"
$MAKE --no-print-directory -s BUILD=fuzz variant FUZZ_DEFS="$defs" ${FUZZ_CC:+CLANG=$FUZZ_CC}
echo "$defs" > "$stamp"

export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export OPENBLAS_NUM_THREADS=1
FLAGS="-timeout=10 -rss_limit_mb=2048 -max_len=2048"
passed=0
failed=0

# 1. Every reproducer of a bug found so far must now run clean.
for f in tests/fuzz/regressions/*.bin; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .bin)
  if "$OUT/fuzz_api" $FLAGS "$f" >"$OUT/logs/regression-$n.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "fuzz: FAILED regression $f (see tests/fuzz/regressions/README.md):"
    grep -E 'contract violated|ERROR: |runtime error|SUMMARY|ALARM|timeout' "$OUT/logs/regression-$n.log" | head -6
    grep -A2 'contract violated' "$OUT/logs/regression-$n.log" | sed -n 2p
  fi
done

# 2. The seed corpus, each input once.
nseed=$(ls tests/fuzz/corpus | wc -l)
if "$OUT/fuzz_api" $FLAGS -runs=0 tests/fuzz/corpus >"$OUT/logs/seeds.log" 2>&1; then
  passed=$((passed + nseed))
else
  failed=$((failed + 1))
  echo "fuzz: FAILED replaying the seed corpus:"
  grep -E -A3 'contract violated|ERROR: |runtime error|ALARM' "$OUT/logs/seeds.log" | head -20
fi

# 3. Fuzz for $secs seconds from the seeds and what earlier runs found.
if [ "$secs" -gt 0 ]; then
  echo "fuzz: fuzzing for $secs s"
  if "$OUT/fuzz_api" $FLAGS -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="$OUT/artifacts/" "$OUT/corpus" tests/fuzz/corpus >"$OUT/logs/fuzz.log" 2>&1; then
    passed=$((passed + 1))
    sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/fuzz: \1 inputs executed/p' "$OUT/logs/fuzz.log"
  else
    failed=$((failed + 1))
    echo "fuzz: FAILED: the fuzzer found a problem ($OUT/logs/fuzz.log):"
    grep -E -A3 'contract violated|ERROR: |runtime error|ALARM' "$OUT/logs/fuzz.log" | head -24
    grep -E 'Test unit written to' "$OUT/logs/fuzz.log" | tail -1
  fi
fi

echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]

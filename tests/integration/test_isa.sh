#!/bin/sh
# The dispatch paths (TSRELU_ISA): the kernel, population, reference, hessian and simd
# Check suites under every path this CPU supports; GD runs, Hessians and
# Hessian-vector products bit-identical on every path of a family (fused:
# AVX2, AVX-512; unfused: the x86-64 portable path; src/simd/kernels_impl.h)
# and, across families, within CLOSE of each other (normwise per block:
# every number within CLOSE times the largest magnitude of its W, a, loss
# or Hessian-vector block; measured 5e-17 after 300 steps, and the bound is
# 300 steps x eta 0.05 x twice the gradient's reference bound 1e-14 = 3e-13,
# rounded up); a checkpoint saved under the portable path resumes under
# every path, bit-identically to the straight run on a path of its family
# and within CLOSE on the other; unsupported and unknown requests fall back
# and say so.
set -u
trace=build/isa_trace
checks=build/run_checks
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "test_isa: FAIL: $*"; }

best=$("$trace" isa)
paths=""
for isa in portable avx2 avx512; do
  got=$(TSRELU_ISA=$isa "$trace" isa)
  if [ "$got" = "$isa" ]; then
    paths="$paths $isa"
    ok
  else
    case "$got" in
      "$best (TSRELU_ISA=$isa is not supported by this CPU)") ok; echo "test_isa: $isa not supported here: $got" ;;
      *) bad "TSRELU_ISA=$isa reports '$got'" ;;
    esac
  fi
done
case " $paths " in *" $best "*) ok ;; *) bad "default path '$best' is not among the supported:$paths" ;; esac
got=$(TSRELU_ISA=sse9 "$trace" isa)
[ "$got" = "$best (TSRELU_ISA=sse9 is unknown)" ] && ok || bad "TSRELU_ISA=sse9 reports '$got'"
echo "test_isa: paths:$paths (default $best)"

CLOSE=1e-12
TSRELU_ISA=portable "$trace" run 300 > "$tmp/run.portable" || bad "run under portable"
TSRELU_ISA=portable "$trace" hessian 200 > "$tmp/hess.portable" || bad "hessian under portable"
TSRELU_ISA=portable "$trace" save 150 "$tmp/portable.ckpt" || bad "save under portable"
TSRELU_ISA=portable "$trace" straight 300 > "$tmp/straight.portable" || bad "straight under portable"
base=$(TSRELU_ISA=portable "$trace" family)
# same FILE_A FILE_B WHAT ISA: bit for bit within the portable path's family, else within CLOSE
same() {
  if [ "$(TSRELU_ISA=$4 "$trace" family)" = "$base" ]; then
    cmp -s "$1" "$2" && ok || bad "$3 under $4 differs from portable ($base, same family)"
  else
    r=$("$trace" close "$1" "$2" "$CLOSE") && ok || bad "$3 under $4: $r from portable ($base)"
    echo "test_isa: $3 under $4 against portable: $r"
  fi
}
for isa in $paths; do
  for suite in kernel population reference hessian simd; do
    out=$(TSRELU_ISA=$isa CK_RUN_SUITE=$suite TSRELU_TEST_DATA=tests/data/reference "$checks" 2>&1)
    if echo "$out" | grep -q '^100%: Checks: [1-9]'; then ok; else bad "suite $suite under $isa"; echo "$out" | tail -5; fi
  done
  TSRELU_ISA=$isa "$trace" run 300 > "$tmp/run.$isa" || bad "run under $isa"
  same "$tmp/run.$isa" "$tmp/run.portable" GD "$isa"
  TSRELU_ISA=$isa "$trace" hessian 200 > "$tmp/hess.$isa" || bad "hessian under $isa"
  same "$tmp/hess.$isa" "$tmp/hess.portable" Hessian "$isa"
  TSRELU_ISA=$isa "$trace" resume "$tmp/portable.ckpt" 150 > "$tmp/resume.$isa" || bad "resume under $isa"
  same "$tmp/resume.$isa" "$tmp/straight.portable" "the checkpoint resumed" "$isa"
done
# the fused paths among themselves: bit for bit, and a checkpoint saved
# under the first resumes under each bit-identically to its straight run
first=""
for isa in $paths; do
  [ "$(TSRELU_ISA=$isa "$trace" family)" = fused ] || continue
  if [ -z "$first" ]; then
    first=$isa
    TSRELU_ISA=$isa "$trace" save 150 "$tmp/fused.ckpt" || bad "save under $isa"
  fi
  for f in run hess resume; do
    cmp -s "$tmp/$f.$first" "$tmp/$f.$isa" && ok || bad "$f under $isa differs from $first (both fused)"
  done
  TSRELU_ISA=$isa "$trace" resume "$tmp/fused.ckpt" 150 > "$tmp/fresume.$isa" &&
    TSRELU_ISA=$isa "$trace" straight 300 > "$tmp/fstraight.$isa" &&
    cmp -s "$tmp/fresume.$isa" "$tmp/fstraight.$isa" && ok ||
    bad "checkpoint saved under $first does not resume bit-identically under $isa"
done
echo "test_isa: $pass passed, $fail failed"
[ "$fail" = 0 ]

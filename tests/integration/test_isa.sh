#!/bin/sh
# The dispatch paths (TSRELU_ISA): the kernel, population and reference
# Check suites under every path this CPU supports; bit-identical GD runs on
# every path; a checkpoint saved under one path resumes bit-identically under
# another; unsupported and unknown requests fall back and say so.
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

TSRELU_ISA=portable "$trace" run 300 > "$tmp/run.portable" || bad "run under portable"
TSRELU_ISA=portable "$trace" save 150 "$tmp/portable.ckpt" || bad "save under portable"
for isa in $paths; do
  for suite in kernel population reference; do
    out=$(TSRELU_ISA=$isa CK_RUN_SUITE=$suite TSRELU_TEST_DATA=tests/data/reference "$checks" 2>&1)
    if echo "$out" | grep -q '^100%: Checks: [1-9]'; then ok; else bad "suite $suite under $isa"; echo "$out" | tail -5; fi
  done
  TSRELU_ISA=$isa "$trace" run 300 > "$tmp/run.$isa" &&
    cmp -s "$tmp/run.portable" "$tmp/run.$isa" && ok || bad "GD under $isa differs from portable"
  TSRELU_ISA=$isa "$trace" resume "$tmp/portable.ckpt" 150 > "$tmp/resume.$isa" &&
    TSRELU_ISA=$isa "$trace" straight 300 > "$tmp/straight.$isa" &&
    cmp -s "$tmp/resume.$isa" "$tmp/straight.$isa" && ok ||
    bad "checkpoint saved under portable does not resume bit-identically under $isa"
done
echo "test_isa: $pass passed, $fail failed"
[ "$fail" = 0 ]

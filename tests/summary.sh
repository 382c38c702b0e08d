#!/bin/sh
# Sum the closing lines of every runner in a `make check` log:
#   Check:  "100%: Checks: N, Failures: F, Errors: E"
#   others: "name: N passed, F failed" (lines indented or prefixed with "|"
#           are nested output of another test and are not counted)
# and print one line "check: P passed, F failed". Exit status: the make
# status given as $2 if non-zero, else 1 when anything failed.
set -eu
log=$1
rc=${2:-0}
counts=$(awk '
  /^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    gsub(/,/, ""); n = $3; f = $5 + $7; p += n - f; fl += f; next }
  /^[A-Za-z_][A-Za-z0-9_-]*: [0-9]+ passed, [0-9]+ failed/ {
    p += $2; fl += $4 }
  END { printf "%d %d", p, fl }' "$log")
passed=${counts% *}
failed=${counts#* }
[ "$rc" = 0 ] || [ "$failed" != 0 ] || failed=1
echo "check: $passed passed, $failed failed"
[ "$rc" = 0 ] || exit "$rc"
[ "$failed" = 0 ]

#!/bin/sh
# ABI guard for libtsrelu (policy in docs/abi.md).
#
#   sh scripts/abi-check.sh [--headers DIR] [LIBRARY]      check
#   sh scripts/abi-check.sh --update [--headers DIR] [LIBRARY]
#        rewrite the baseline for a new minor version: refused unless the
#        only changes are additions (new functions, new constants)
#   sh scripts/abi-check.sh --update --new-major [--headers DIR] [LIBRARY]
#        start the baseline of a new major version (new soname)
#
# LIBRARY defaults to lib/libtsrelu.so of this tree (or $TSRELU_ABI_LIB).
# DIR is the public header directory belonging to LIBRARY (default: the
# include/ beside the library's lib/ directory if there is one, else this
# tree's include/). The baseline lives in abi/ (or $TSRELU_ABI_DIR):
#   libtsrelu.so.MAJOR.abi  abidw of the library, public types only
#   symbols.txt             "name VERSION_NODE" of every exported function
#   constants.txt           "NAME VALUE" of every integer macro of the header
#                           (status codes, schedules, summary indices)
# Checks:
#   1. soname     is the baseline's (libtsrelu.so.MAJOR);
#   2. symbols    `nm -D --defined-only` lists exactly symbols.txt;
#   3. constants  every baseline constant keeps its value in the header;
#   4. abidiff    no change to any function of the baseline (additions aside).
# Exit status 0 only if every check passes; the last line is
# "abi-check: N passed, M failed".
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
abidir=${TSRELU_ABI_DIR:-$root/abi}
headers=
update=0
new_major=0
lib=${TSRELU_ABI_LIB:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --headers) headers=$2; shift 2 ;;
    --update) update=1; shift ;;
    --new-major) new_major=1; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "abi-check: unknown option $1" >&2; exit 2 ;;
    *) lib=$1; shift ;;
  esac
done
[ -n "$lib" ] || lib=$root/lib/libtsrelu.so
summary() { echo "abi-check: $pass passed, $fail failed"; [ $fail = 0 ]; exit $?; }
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

if [ ! -e "$lib" ]; then bad "no library at $lib (run make all first)"; summary; fi
if [ -z "$headers" ]; then
  libdir=$(cd "$(dirname "$lib")" && pwd)
  if [ -f "$libdir/../include/tsrelu.h" ]; then headers=$(cd "$libdir/../include" && pwd); else headers=$root/include; fi
fi
for tool in nm objdump abidw abidiff; do
  command -v $tool > /dev/null 2>&1 ||
    { bad "$tool not found (Debian packages binutils and abigail-tools)"; summary; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# "name NODE" for every defined dynamic symbol; the absolute symbols that
# define the version nodes themselves (nm type A) are left out.
exported() {
  nm -D --defined-only "$1" | awk '$2 != "A" {print $3}' |
    sed -e 's/@@*/ /' | awk 'NF == 1 {print $1, "(unversioned)"; next} {print}' | LC_ALL=C sort
}
# "NAME VALUE" for the integer macros of the header, version macros excepted.
header_constants() {
  sed -n 's/^#define \(TSRELU_[A-Z0-9_]*\)[ 	]*(\{0,1\}\(-\{0,1\}[0-9][0-9]*\))\{0,1\}\([ 	].*\)\{0,1\}$/\1 \2/p' "$1" |
    grep -v '^TSRELU_VERSION_' | LC_ALL=C sort
}

soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
set -- "$abidir"/libtsrelu.so.*.abi
if [ $# = 1 ] && [ -f "$1" ]; then baseline=$1; else baseline=; fi
baseline_soname=$([ -n "$baseline" ] && basename "$baseline" .abi)
exported "$lib" > "$tmp/symbols"
header_constants "$headers/tsrelu.h" > "$tmp/constants"

# ---- the four checks; $1 = exact (check) or additions (update)
checks() {
  mode=$1
  if [ -n "$baseline_soname" ] && [ "$soname" = "$baseline_soname" ]; then
    ok "soname $soname"
  else
    bad "soname is '$soname', the baseline is for '$baseline_soname' (a new soname is a new major version: docs/abi.md)"
  fi

  if [ ! -f "$abidir/symbols.txt" ]; then
    bad "no $abidir/symbols.txt"
  elif cmp -s "$abidir/symbols.txt" "$tmp/symbols"; then
    ok "symbols: $(wc -l < "$tmp/symbols") exported, as in abi/symbols.txt"
  else
    gone=$(LC_ALL=C comm -23 "$abidir/symbols.txt" "$tmp/symbols")
    if [ $mode = additions ] && [ -z "$gone" ]; then
      ok "symbols: only additions: $(LC_ALL=C comm -13 "$abidir/symbols.txt" "$tmp/symbols" | tr '\n' ' ')"
    else
      bad "exported symbols differ from abi/symbols.txt (< expected, > library):"
      diff "$abidir/symbols.txt" "$tmp/symbols" | grep '^[<>]' | sed 's/^/     /'
    fi
  fi

  if [ ! -f "$abidir/constants.txt" ]; then
    bad "no $abidir/constants.txt"
  else
    missing=$(LC_ALL=C comm -23 "$abidir/constants.txt" "$tmp/constants")
    if [ -z "$missing" ]; then
      ok "constants: the $(wc -l < "$abidir/constants.txt") constants of abi/constants.txt keep their values"
    else
      bad "constants changed or removed (baseline value; then the header's, if any):"
      echo "$missing" | sed 's/^/     /'
      for n in $(echo "$missing" | awk '{print $1}'); do
        grep "^$n " "$tmp/constants" | sed 's/^/     now: /' || true
      done
    fi
  fi

  if [ -z "$baseline" ]; then
    bad "no single baseline abi/libtsrelu.so.MAJOR.abi in $abidir"
    return
  fi
  abidiff --no-added-syms --fail-no-debug-info --drop-private-types --headers-dir2 "$headers" \
    "$baseline" "$lib" > "$tmp/abidiff.out" 2>&1
  rc=$?
  if [ $rc = 0 ]; then
    ok "abidiff: no change against $(basename "$baseline") (added functions aside)"
  else
    what="change"
    [ $((rc & 1)) != 0 ] && what="error (abidiff could not compare; debug info missing? build with -g)"
    [ $((rc & 2)) != 0 ] && what="usage error"
    [ $((rc & 8)) != 0 ] && what="INCOMPATIBLE change"
    bad "abidiff (exit $rc): ABI $what against $(basename "$baseline"):"
    sed 's/^/     /' "$tmp/abidiff.out"
  fi
}

echo "abi-check: $lib (soname $soname, headers $headers)"
if [ $update = 0 ]; then
  checks exact
  summary
fi

# ---- update: rewrite the baseline
if [ $new_major = 1 ]; then
  echo "abi-check: new major version: the baseline starts again from $soname"
else
  checks additions
  if [ $fail != 0 ]; then
    echo "abi-check: refusing to update: only additions are allowed within a major version"
    echo "abi-check: (for a new major version, with a new soname, use --update --new-major)"
    summary
  fi
fi
mkdir -p "$abidir"
abidw --no-corpus-path --no-comp-dir-path --no-show-locs --headers-dir "$headers" --drop-private-types \
  "$lib" > "$tmp/new.abi" || { bad "abidw failed"; summary; }
[ -n "$baseline" ] && rm -f "$baseline"
cp "$tmp/new.abi" "$abidir/$soname.abi"
cp "$tmp/symbols" "$abidir/symbols.txt"
cp "$tmp/constants" "$abidir/constants.txt"
ok "baseline rewritten from $lib: $abidir/$soname.abi, $(wc -l < "$tmp/symbols") symbols, $(wc -l < "$tmp/constants") constants"
summary

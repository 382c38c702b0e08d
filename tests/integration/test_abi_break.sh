#!/bin/sh
# scripts/abi-check.sh must pass on an unchanged build and fail on builds
# that break the 1.x ABI. Each case builds a copy of the library in a
# temporary directory with one deliberate change and runs the check on it.
#   sh tests/integration/test_abi_break.sh        (from the repository root; ~10 s)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
jobs=$(nproc 2>/dev/null || echo 2)

# fresh copy of the sources in $tmp/$1
copy() {
  mkdir -p "$tmp/$1/pkgconfig"
  cp -r "$root/Makefile" "$root/src" "$root/include" "$tmp/$1/"
  cp "$root/pkgconfig/libtsrelu.pc.in" "$tmp/$1/pkgconfig/"
  [ -d "$root/scripts" ] && cp -r "$root/scripts" "$tmp/$1/"
}
# apply sed expression $2 to file $3 of copy $1; fail if nothing changed
edit() {
  cp "$tmp/$1/$3" "$tmp/$1/$3.orig"
  sed -i "$2" "$tmp/$1/$3"
  if cmp -s "$tmp/$1/$3" "$tmp/$1/$3.orig"; then
    echo "cannot apply '$2' to $3 (the source changed?)"; return 1
  fi
  rm -f "$tmp/$1/$3.orig"
}
build() {
  make -C "$tmp/$1" -s -j"$jobs" all > "$tmp/$1.build" 2>&1 || {
    echo "build of case $1 failed:"; cat "$tmp/$1.build"; return 1; }
}
# run the check on copy $1; expect exit status zero ($2 = pass) or non-zero
# ($2 = fail) and, when failing, every FAIL line pattern given after $2.
expect() {
  name=$1 want=$2
  shift 2
  sh "$root/scripts/abi-check.sh" --headers "$tmp/$name/include" "$tmp/$name/lib/libtsrelu.so" \
    > "$tmp/$name.out" 2>&1
  rc=$?
  sed 's/^/    | /' "$tmp/$name.out"
  if [ $want = pass ]; then
    [ $rc = 0 ] && ok "$name: abi-check passes" || bad "$name: abi-check should pass (exit $rc)"
    return
  fi
  if [ $rc = 0 ]; then bad "$name: abi-check should fail but passed"; return; fi
  for pat in "$@"; do
    if ! grep -q "^FAIL $pat" "$tmp/$name.out"; then
      bad "$name: no 'FAIL $pat' line"; return
    fi
  done
  ok "$name: abi-check fails (exit $rc) on: $*"
}

# prepare() NAME: copy, the edits given as "SED-EXPR FILE" pairs, build
prepare() {
  name=$1
  shift
  copy "$name" || return 1
  while [ $# -ge 2 ]; do
    edit "$name" "$1" "$2" || return 1
    shift 2
  done
  build "$name"
}
# case NAME WANT PATTERN... ; the edits come from the variable EDITS (eval'd)
run_case() {
  name=$1
  shift
  if eval "prepare $name $EDITS"; then
    expect "$name" "$@"
  else
    bad "$name: could not prepare the case (see above)"
  fi
}

echo "== unchanged: an identical build passes"
EDITS="" run_case same pass

echo "== signature: tsrelu_gd_set_eta takes float instead of double"
s_eta='s/tsrelu_gd_set_eta(tsrelu_gd \*gd, double eta)/tsrelu_gd_set_eta(tsrelu_gd *gd, float eta)/'
EDITS='"$s_eta" include/tsrelu.h "$s_eta" src/gd.c' run_case sig fail "abidiff"

# (a function the library also calls itself may be inlined there, and then
# libabigail cannot tie its declaration to its symbol: docs/abi.md)
echo "== return type: tsrelu_gd_train_output returns long"
s_ret='s/^TSRELU_API int tsrelu_gd_train_output(/TSRELU_API long tsrelu_gd_train_output(/'
EDITS='"$s_ret" include/tsrelu.h "$s_ret" src/gd.c' run_case ret fail "abidiff"

echo "== removal: tsrelu_gd_eta no longer exported"
s_rm='/^ *tsrelu_gd_eta;/d'
EDITS='"$s_rm" src/libtsrelu.map' run_case removed fail "exported symbols" "abidiff"

echo "== status number changed: TSRELU_ELENGTH becomes -60"
s_st='s/^#define TSRELU_ELENGTH    (-6)/#define TSRELU_ELENGTH    (-60)/'
EDITS='"$s_st" include/tsrelu.h' run_case status fail "constants"

echo "== soname: a major version bump without a new baseline"
s_major='s/^#define TSRELU_VERSION_MAJOR 1/#define TSRELU_VERSION_MAJOR 2/'
EDITS='"$s_major" include/tsrelu.h' run_case major fail "soname"

echo "== addition in a new node TSRELU_1.99: fails until abi/symbols.txt lists it"
s_decl='s|^#endif /\* TSRELU_H \*/|TSRELU_API int tsrelu_added_for_test(void);\n&|'
if copy added && edit added "$s_decl" include/tsrelu.h &&
   printf '#include "tsrelu.h"\nTSRELU_API int tsrelu_added_for_test(void) { return 42; }\n' \
     > "$tmp/added/src/zz_added.c" &&
   printf 'TSRELU_1.99 {\n  global:\n    tsrelu_added_for_test;\n} TSRELU_1.1;\n' >> "$tmp/added/src/libtsrelu.map" &&
   build added; then
  expect added fail "exported symbols"
else
  bad "added: could not prepare the case (see above)"
fi

# update_case NAME OPTIONS...: run --update on a copy of abi/; print its exit status
update_case() {
  name=$1
  shift
  rm -rf "$tmp/abi-$name"
  mkdir -p "$tmp/abi-$name"
  cp "$root/abi/"* "$tmp/abi-$name/"
  TSRELU_ABI_DIR="$tmp/abi-$name" sh "$root/scripts/abi-check.sh" --update "$@" \
    --headers "$tmp/$name/include" "$tmp/$name/lib/libtsrelu.so" > "$tmp/update-$name.out" 2>&1
  echo $?
}
recheck() {
  TSRELU_ABI_DIR="$tmp/abi-$1" sh "$root/scripts/abi-check.sh" --headers "$tmp/$1/include" \
    "$tmp/$1/lib/libtsrelu.so" > "$tmp/recheck-$1.out" 2>&1
}

echo "== --update accepts the addition, and the check passes afterwards"
if [ -f "$tmp/added/lib/libtsrelu.so" ]; then
  rc=$(update_case added)
  if [ "$rc" = 0 ] && grep -qx "tsrelu_added_for_test TSRELU_1.99" "$tmp/abi-added/symbols.txt" && recheck added; then
    ok "added: --update records tsrelu_added_for_test under TSRELU_1.99; the check then passes"
  else
    sed 's/^/    | /' "$tmp/update-added.out"
    bad "added: --update should accept an addition"
  fi
fi

echo "== --update refuses an incompatible change"
if [ -f "$tmp/sig/lib/libtsrelu.so" ]; then
  rc=$(update_case sig)
  if [ "$rc" != 0 ] && grep -q "refusing to update" "$tmp/update-sig.out" &&
     cmp -s "$root/abi/libtsrelu.so.1.abi" "$tmp/abi-sig/libtsrelu.so.1.abi"; then
    ok "sig: --update refuses (exit $rc) and leaves the baseline as it was"
  else
    sed 's/^/    | /' "$tmp/update-sig.out"
    bad "sig: --update should refuse a changed signature"
  fi
fi

echo "== --update --new-major starts a new baseline for libtsrelu.so.2"
if [ -f "$tmp/major/lib/libtsrelu.so" ]; then
  rc=$(update_case major --new-major)
  if [ "$rc" = 0 ] && [ -f "$tmp/abi-major/libtsrelu.so.2.abi" ] &&
     [ ! -f "$tmp/abi-major/libtsrelu.so.1.abi" ] && recheck major; then
    ok "major: --new-major writes libtsrelu.so.2.abi; the check then passes"
  else
    sed 's/^/    | /' "$tmp/update-major.out" "$tmp/recheck-major.out" 2>/dev/null
    bad "major: --update --new-major"
  fi
fi

echo "test_abi_break: $pass passed, $fail failed"
[ $fail = 0 ]

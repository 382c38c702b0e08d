#!/bin/sh
# The shared library exports exactly the functions of the public header, all
# under a TSRELU_1.x version node (1.0 for the 1.0 functions: abi-check), with soname libtsrelu.so.1, and resolves
# every dependency by itself (so ctypes and Julia can dlopen it).
set -eu
so=lib/libtsrelu.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
grep -o 'tsrelu_[a-z0-9_]*(' include/tsrelu.h | tr -d '(' | grep -v '_fn$' | sort -u > "$tmp/want"
nm -D --defined-only "$so" | awk '$3 !~ /^TSRELU_1/ {print $3}' | sed 's/@.*//' | sort -u > "$tmp/got"
if ! cmp -s "$tmp/want" "$tmp/got"; then
  echo "exported symbols differ from the header (< header, > library):"
  diff "$tmp/want" "$tmp/got" || true
  fail=1
fi
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
[ "$soname" = "libtsrelu.so.1" ] || { echo "soname is '$soname', want libtsrelu.so.1"; fail=1; }
if ldd "$so" | grep -q 'not found'; then echo "unresolved dependencies:"; ldd "$so"; fail=1; fi
outside=$(objdump -T "$so" | awk '$4 == ".text" && $6 !~ /^TSRELU_1\.[0-9]+$/' | head -3)
[ -z "$outside" ] || { echo "symbols outside the version node: $outside"; fail=1; }
n=$(wc -l < "$tmp/want")
if [ $fail = 0 ]; then echo "symbols: $n exported, all in TSRELU_1.x nodes"; else echo "symbols: FAILED"; exit 1; fi

#!/bin/sh
# Set the library version in its one source, include/tsrelu.h, and copy it
# to every place that must repeat it (the Python package, the Julia project,
# the README and docs/api.md). tests/integration/test_version.py (make check) fails when
# any of them disagrees with the header.
#   sh scripts/set-version.sh 1.2.0
set -eu
cd "$(dirname "$0")/.."
v=${1:-}
case "$v" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "usage: sh scripts/set-version.sh MAJOR.MINOR.PATCH" >&2; exit 2 ;;
esac
major=${v%%.*}; rest=${v#*.}; minor=${rest%%.*}; patch=${rest#*.}
sed -i -e "s/^#define TSRELU_VERSION_MAJOR .*/#define TSRELU_VERSION_MAJOR $major/" \
       -e "s/^#define TSRELU_VERSION_MINOR .*/#define TSRELU_VERSION_MINOR $minor/" \
       -e "s/^#define TSRELU_VERSION_PATCH .*/#define TSRELU_VERSION_PATCH $patch/" \
       -e "s/^#define TSRELU_VERSION_STRING .*/#define TSRELU_VERSION_STRING \"$v\"/" include/tsrelu.h
sed -i -e "s/^API_MAJOR = .*/API_MAJOR = $major/" -e "s/^API_MINOR = .*/API_MINOR = $minor/" \
       -e "s/^__version__ = .*/__version__ = \"$v\"/" bindings/python/tsrelu/_lib.py
sed -i -e "s/^version = .*/version = \"$v\"/" bindings/julia/Project.toml
sed -i -e "s/^const API_MINOR = [0-9]*/const API_MINOR = $minor/" bindings/julia/src/TsRelu.jl
sed -i -e "s/^What it offers (version [0-9.]*):/What it offers (version $v):/" \
       -e "s/lib\/libtsrelu\.so\.[0-9]*\.[0-9]*\.[0-9]*/lib\/libtsrelu.so.$v/" README.md
num=$((major * 10000 + minor * 100 + patch))
sed -i -e "s/^This is the reference for version [0-9.]* of/This is the reference for version $v of/" \
       -e "s/^| macro | value in [0-9.]* |/| macro | value in $v |/" \
       -e "s/^| \`TSRELU_VERSION_MAJOR\` | \`[0-9]*\` |/| \`TSRELU_VERSION_MAJOR\` | \`$major\` |/" \
       -e "s/^| \`TSRELU_VERSION_MINOR\` | \`[0-9]*\` |/| \`TSRELU_VERSION_MINOR\` | \`$minor\` |/" \
       -e "s/^| \`TSRELU_VERSION_PATCH\` | \`[0-9]*\` |/| \`TSRELU_VERSION_PATCH\` | \`$patch\` |/" \
       -e "s/^| \`TSRELU_VERSION_NUMBER\` | \`[0-9]*\` |/| \`TSRELU_VERSION_NUMBER\` | \`$num\` |/" \
       -e "s/^| \`TSRELU_VERSION_STRING\` | \`\"[0-9.]*\"\` |/| \`TSRELU_VERSION_STRING\` | \`\"$v\"\` |/" docs/api.md
sed -i -e "1s/\"libtsrelu [0-9.]*\"/\"libtsrelu $major.$minor\"/" tools/sweep/tsrelu-sweep.1
echo "set-version: $v (check with /usr/bin/python3 tests/integration/test_version.py)"

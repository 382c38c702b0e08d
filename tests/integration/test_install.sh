#!/bin/sh
# Installation: `make install PREFIX=...` into a temporary prefix, a C program
# built with nothing but `pkg-config --cflags --libs libtsrelu` (shared and
# static), the Python package imported against the installed library (by
# TSRELU_LIBRARY, next to the package, through pkg-config and through the
# system loader), the sweep's installed tools (tsrelu-sweep, tsrelu-summarize,
# tsrelu-plot-sweep) on a tiny sweep, DESTDIR staging and `make uninstall`.
#   sh tests/integration/test_install.sh           (from the repository root)
# Last line: "test_install: N passed, M failed"; exit status 0 iff M = 0.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
PY=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
MAKE=${MAKE:-make}
export PYTHONDONTWRITEBYTECODE=1
unset TSRELU_LIBRARY
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { # check "what" command...
  what=$1
  shift
  if "$@" > "$tmp/out" 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' "$tmp/out"; fi
}
finish() {
  echo "test_install: $pass passed, $fail failed"
  [ $fail = 0 ]
  exit $?
}

# ---------------------------------------------------------------- C side
if ! $MAKE -s install PREFIX="$prefix" > "$tmp/install.out" 2>&1; then
  cat "$tmp/install.out"
  bad "make install PREFIX=$prefix"
  finish
fi
ok "make install PREFIX=$prefix"
version=$(sed -n 's/^#define TSRELU_VERSION_STRING "\(.*\)"/\1/p' include/tsrelu.h)
major=${version%%.*}
for f in include/tsrelu.h lib/libtsrelu.so.$version lib/libtsrelu.so.$major lib/libtsrelu.so \
         lib/libtsrelu.a lib/pkgconfig/libtsrelu.pc; do
  [ -e "$prefix/$f" ] || { bad "installed file $f missing"; finish; }
done
ok "installed header, libtsrelu.so.$version and its links, libtsrelu.a, libtsrelu.pc"
for f in bin/tsrelu-sweep share/man/man1/tsrelu-sweep.1 share/man/man1/tsrelu-sweep-mpi.1; do
  [ -e "$prefix/$f" ] || { bad "installed file $f missing"; finish; }
done
ok "installed tsrelu-sweep and its man page"
check "installed tsrelu-sweep -h prints the usage and exits 0" sh -c \
  "'$prefix/bin/tsrelu-sweep' -h | grep -q '^usage: tsrelu-sweep'"
check "installed tsrelu-sweep --version names the library version" sh -c \
  "'$prefix/bin/tsrelu-sweep' --version | grep -q 'libtsrelu $version'"
for t in tsrelu-plot-sweep tsrelu-summarize; do
  [ -x "$prefix/bin/$t" ] && [ -e "$prefix/share/man/man1/$t.1" ] ||
    { bad "installed $t (executable) and its man entry missing"; finish; }
  check "installed $t starts with #!/usr/bin/python3 and --help prints its usage" sh -c \
    "head -1 '$prefix/bin/$t' | grep -qx '#!/usr/bin/python3' && '$prefix/bin/$t' --help | grep -q '^usage: $t '"
done
# the installed tools on a tiny sweep made by the installed tsrelu-sweep
check "installed tsrelu-sweep, tsrelu-summarize and tsrelu-plot-sweep: CSV -> table -> PNG and PDF" sh -c \
  "cd '$tmp' && '$prefix/bin/tsrelu-sweep' --k 2 --m 4,8 --d 4 --seed 1:2 --steps 2000 --out s.csv \
     --trajectories s.traj > /dev/null 2>&1 &&
   '$prefix/bin/tsrelu-summarize' s.csv | grep -q '^|' &&
   MPLBACKEND=Agg '$prefix/bin/tsrelu-plot-sweep' s.csv --trajectories s.traj --out fig > /dev/null &&
   for f in loss events balance; do [ -s fig_\$f.png ] && [ -s fig_\$f.pdf ] || exit 1; done"
if command -v man >/dev/null 2>&1; then
  check "man -l renders tsrelu-sweep.1 (NAME, SYNOPSIS, --shard)" sh -c \
    "LC_ALL=C MANWIDTH=200 man -l '$prefix/share/man/man1/tsrelu-sweep.1' 2>/dev/null | grep -q 'dealt like cards'"
fi

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs libtsrelu 2>"$tmp/pc.err")
case "$flags" in
  *"-I$prefix/include"*"-L$prefix/lib"*"-ltsrelu"*) ok "pkg-config --cflags --libs libtsrelu: $flags" ;;
  *) bad "pkg-config --cflags --libs libtsrelu gave '$flags' (want -I$prefix/include -L$prefix/lib -ltsrelu)"
     cat "$tmp/pc.err" ;;
esac
[ "$(pkg-config --modversion libtsrelu)" = "$version" ] && ok "pkg-config --modversion = $version" ||
  bad "pkg-config --modversion is '$(pkg-config --modversion libtsrelu)', want $version"

cat > "$tmp/hello.c" <<'C'
#include <tsrelu.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    tsrelu_teacher *t;
    tsrelu_student *s;
    tsrelu_gd *gd;
    double L0, L1;
    if (tsrelu_version_number() != TSRELU_VERSION_NUMBER ||
        strcmp(tsrelu_version_string(), TSRELU_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", TSRELU_VERSION_STRING, tsrelu_version_string());
        return 1;
    }
    if (tsrelu_teacher_create_orthogonal(2, 6, 1.0, 1, &t) != TSRELU_OK ||
        tsrelu_student_create_gaussian(4, 6, 0.1, 2, &s) != TSRELU_OK ||
        tsrelu_gd_create(t, s, 0.1, &gd) != TSRELU_OK || tsrelu_gd_loss(gd, &L0) != TSRELU_OK ||
        tsrelu_gd_run(gd, 500) != TSRELU_OK || tsrelu_gd_loss(gd, &L1) != TSRELU_OK) {
        fprintf(stderr, "failed: %s\n", tsrelu_last_error());
        return 1;
    }
    printf("libtsrelu %s: loss %.3g -> %.3g\n", tsrelu_version_string(), L0, L1);
    tsrelu_gd_free(gd);
    tsrelu_student_free(s);
    tsrelu_teacher_free(t);
    return L1 < L0 ? 0 : 1;
}
C
# shared: only pkg-config's flags; the loader finds the prefix via LD_LIBRARY_PATH
check "C program built with pkg-config --cflags --libs (shared)" \
  $CC -std=c11 -o "$tmp/hello" "$tmp/hello.c" $flags -lm
check "it runs against the installed libtsrelu.so.$major" \
  env LD_LIBRARY_PATH="$prefix/lib" "$tmp/hello"
if env LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/hello" | grep -q "libtsrelu.so.$major => $prefix/lib/"; then
  ok "ldd: libtsrelu.so.$major resolves to the prefix"
else
  bad "ldd: libtsrelu.so.$major does not resolve to $prefix/lib"; env LD_LIBRARY_PATH="$prefix/lib" ldd "$tmp/hello"
fi
# static: the archive plus pkg-config --static (Requires.private, Libs.private)
static_libs=$(pkg-config --static --libs libtsrelu | sed 's/-ltsrelu//')
check "C program linked with libtsrelu.a and pkg-config --static --libs" \
  $CC -std=c11 -o "$tmp/hello_static" "$tmp/hello.c" $(pkg-config --cflags libtsrelu) \
      "$prefix/lib/libtsrelu.a" $static_libs -lm
if ldd "$tmp/hello_static" 2>/dev/null | grep -q libtsrelu; then
  bad "the static build still needs libtsrelu.so"
else
  check "the static build runs without libtsrelu.so" "$tmp/hello_static"
fi
if [ -f examples/quickstart.c ]; then
  check "examples/quickstart.c built with pkg-config only" \
    $CC -std=c11 -o "$tmp/quickstart" examples/quickstart.c $flags -lm
  check "examples/quickstart --quick runs" env LD_LIBRARY_PATH="$prefix/lib" "$tmp/quickstart" --quick
fi

# ---------------------------------------------------------------- Python side
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pydir=$prefix/lib/python$pyver/dist-packages
check "make install-python PREFIX=$prefix (pip, offline)" $MAKE -s install-python PREFIX="$prefix"
[ -f "$pydir/tsrelu/__init__.py" ] && ok "tsrelu package installed in $pydir" || bad "no $pydir/tsrelu/__init__.py"
check "pip show tsrelu knows the installed package (version $version)" sh -c \
  "PYTHONPATH='$pydir' '$PY' -m pip show tsrelu 2>/dev/null | grep -qx 'Version: $version'"
check "install-python leaves no build files in the source tree" \
  test ! -e bindings/python/build -a ! -e bindings/python/tsrelu.egg-info

# pip into a venv that sees Debian's numpy, offline: regular and editable
venv=$tmp/venv
if "$PY" -m venv --system-site-packages "$venv" > "$tmp/venv.out" 2>&1; then
  pipq() { "$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation --no-index "$@"; }
  run_venv='import tsrelu, sys
gd = tsrelu.GD(tsrelu.Teacher.orthogonal(2, 6, 1.0, seed=1), tsrelu.Student.gaussian(4, 6, 0.1, seed=2), 0.1)
assert gd.run(100) == tsrelu.OK
print(tsrelu.__file__)'
  check "pip install ./bindings/python in a venv (--no-build-isolation --no-index)" pipq ./bindings/python
  check "the venv's tsrelu runs a GD against the installed library" sh -c \
    "cd '$tmp' && TSRELU_LIBRARY='$prefix/lib/libtsrelu.so.$major' '$venv/bin/python' -c '$run_venv' | grep -q '$venv'"
  check "pip show tsrelu in the venv: version $version" sh -c \
    "'$venv/bin/pip' show tsrelu | grep -qx 'Version: $version'"
  check "editable install (pip install -e) in the venv" pipq -e ./bindings/python
  check "the editable package is the source tree's" sh -c \
    "cd '$tmp' && TSRELU_LIBRARY='$prefix/lib/libtsrelu.so.$major' '$venv/bin/python' -c '$run_venv' | grep -q '$root/bindings/python/tsrelu'"
  rm -rf bindings/python/build bindings/python/tsrelu.egg-info
else
  bad "python3 -m venv --system-site-packages (Debian package python3-venv)"
  cat "$tmp/venv.out"
fi

probe='
import sys, tsrelu
t = tsrelu.Teacher.orthogonal(2, 6, 1.0, seed=1)
s = tsrelu.Student.gaussian(4, 6, 0.1, seed=2)
gd = tsrelu.GD(t, s, 0.1)
assert gd.run(500) == tsrelu.OK and gd.loss() < s.loss(t)
assert tsrelu.__file__.startswith(sys.argv[1]), tsrelu.__file__
print(tsrelu.library_path)
print(tsrelu.library_where)
'
# py_import "what" EXPECTED-WHERE env-assignments...: import from outside the tree
py_import() {
  what=$1 where=$2 pkgroot=$3
  shift 3
  if (cd "$tmp" && env "$@" PYTHONPATH="$pkgroot" "$PY" -c "$probe" "$pkgroot") > "$tmp/py.out" 2>&1 &&
     head -1 "$tmp/py.out" | grep -q "^$prefix/lib/libtsrelu.so" &&
     sed -n 2p "$tmp/py.out" | grep -q "$where"; then
    ok "python: $what -> $(head -1 "$tmp/py.out") ($where)"
  else
    bad "python: $what"
    sed 's/^/     /' "$tmp/py.out"
  fi
}
empty=$tmp/empty-pc
mkdir -p "$empty" "$tmp/elsewhere"
cp -r "$pydir/tsrelu" "$tmp/elsewhere/"
py_import "TSRELU_LIBRARY=$prefix/lib/libtsrelu.so.$major" "TSRELU_LIBRARY" "$pydir" \
  TSRELU_LIBRARY="$prefix/lib/libtsrelu.so.$major"
py_import "package in the prefix, no variables" "install prefix" "$pydir" \
  PKG_CONFIG_LIBDIR="$empty" PKG_CONFIG_PATH=
py_import "package elsewhere, found by pkg-config" "pkg-config" "$tmp/elsewhere" \
  PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
py_import "package elsewhere, LD_LIBRARY_PATH=$prefix/lib" "system loader" "$tmp/elsewhere" \
  PKG_CONFIG_LIBDIR="$empty" PKG_CONFIG_PATH= LD_LIBRARY_PATH="$prefix/lib"

# ---------------------------------------------------------------- staging, uninstall
stage=$tmp/stage
if $MAKE -s install PREFIX=/opt/tsrelu-test DESTDIR="$stage" > "$tmp/stage.out" 2>&1 &&
   [ -f "$stage/opt/tsrelu-test/include/tsrelu.h" ] &&
   [ -e "$stage/opt/tsrelu-test/lib/libtsrelu.so.$major" ] &&
   grep -q '^prefix=/opt/tsrelu-test$' "$stage/opt/tsrelu-test/lib/pkgconfig/libtsrelu.pc" &&
   ! grep -rq "$stage" "$stage/opt/tsrelu-test/lib/pkgconfig/libtsrelu.pc"; then
  ok "make install DESTDIR=... stages under DESTDIR with prefix=/opt/tsrelu-test in the .pc"
else
  bad "make install PREFIX=/opt/tsrelu-test DESTDIR=$stage"
  cat "$tmp/stage.out"
fi
check "staged tsrelu-plot-sweep and tsrelu-summarize run (--help)" sh -c \
  "'$stage/opt/tsrelu-test/bin/tsrelu-plot-sweep' --help | grep -q '^usage: tsrelu-plot-sweep' &&
   '$stage/opt/tsrelu-test/bin/tsrelu-summarize' --help | grep -q '^usage: tsrelu-summarize'"
$MAKE -s uninstall PREFIX=/opt/tsrelu-test DESTDIR="$stage" > /dev/null 2>&1
left=$(cd "$stage" && find . \( -type f -o -type l \) | sort)
[ -z "$left" ] && ok "make uninstall DESTDIR=... removes every staged file" ||
  bad "make uninstall DESTDIR=... left: $left"
$MAKE -s uninstall PREFIX="$prefix" > /dev/null 2>&1
left=$(cd "$prefix" && find . \( -type f -o -type l \) ! -path './lib/python*' | sort)
[ -z "$left" ] && ok "make uninstall PREFIX=... removes every installed C file" ||
  bad "make uninstall left: $left"
if $MAKE -n uninstall-python PREFIX="$prefix" > /dev/null 2>&1; then
  $MAKE -s uninstall-python PREFIX="$prefix" > /dev/null 2>&1
  [ ! -e "$pydir/tsrelu" ] && [ -z "$(ls -d "$pydir"/tsrelu-*.dist-info 2>/dev/null)" ] &&
    ok "make uninstall-python removes the package and its metadata" ||
    bad "make uninstall-python left $pydir/tsrelu or its dist-info"
fi

finish

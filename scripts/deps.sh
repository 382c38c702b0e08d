#!/bin/sh
# Install the Debian packages libtsrelu needs for a purpose, idempotently.
#   sh scripts/deps.sh build|check|demo|bench|hostile|all
# As root it runs apt-get; otherwise it prints the one command to run.
set -eu
what=${1:-check}
build="gcc make pkg-config libopenblas-dev liblapack-dev libsundials-dev" # liblapack-dev: reference LAPACK for BLAS_PC=blas-netlib
check="$build check python3 python3-numpy python3-matplotlib python3-pytest python3-pip python3-setuptools python3-venv python3-wheel python3-tqdm python3-pandas abigail-tools libopenmpi-dev openmpi-bin"
demo="$build python3 python3-matplotlib"
optional=""
case "$what" in
  build) pkgs=$build ;;
  check) pkgs=$check ;;
  demo)  pkgs=$demo ;;
  bench) pkgs=$check; optional="python3-torch" ;; # torch peers are skipped without it
  hostile) pkgs="$check clang libclang-rt-dev valgrind" ;; # sanitizers, fuzzing, memcheck
  all)   pkgs="$check clang libclang-rt-dev valgrind python3-mpmath" ;;
  *) echo "usage: sh scripts/deps.sh build|check|demo|bench|hostile|all" >&2; exit 2 ;;
esac
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=""
for p in $pkgs; do installed "$p" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "scripts/deps.sh: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "scripts/deps.sh: missing packages:$missing" >&2
    echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
  fi
fi
for p in $optional; do
  installed "$p" && continue
  if [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1; }; } ||
      echo "scripts/deps.sh: optional $p could not be installed; its benchmarks are skipped" >&2
  else
    echo "scripts/deps.sh: optional: sudo apt-get install -y $p" >&2
  fi
done
exit 0

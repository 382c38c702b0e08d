#!/bin/sh
# Install the Debian packages libtsrelu needs for a purpose, idempotently.
#   sh scripts/deps.sh build|check|demo|bench|all
# As root it runs apt-get; otherwise it prints the one command to run.
set -eu
what=${1:-check}
build="gcc make pkg-config libopenblas-dev"
check="$build check python3 python3-numpy python3-matplotlib"
demo="$build python3 python3-matplotlib"
bench="$check python3-torch"
case "$what" in
  build) pkgs=$build ;;
  check) pkgs=$check ;;
  demo)  pkgs=$demo ;;
  bench) pkgs=$bench ;;
  all)   pkgs="$check $demo python3-mpmath" ;;
  *) echo "usage: sh scripts/deps.sh build|check|demo|bench|all" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
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

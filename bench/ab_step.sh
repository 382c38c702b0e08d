#!/bin/sh
# ab_step.sh REV [M K D]... — the GD step of git revision REV (A) against
# this tree's library (B), in one process, timed alternately
# (bench/ab_step.c): A/B > 1 means this tree is faster. REV is built in a
# temporary git worktree, removed afterwards. Sizes default to the paper's
# three. OpenBLAS's variables are unset and it runs one thread, as in the
# benchmark's comparisons (docs/performance.md).
#   sh bench/ab_step.sh HEAD~3
#   sh bench/ab_step.sh 1afe5c5 6 2 8 7 3 13
set -eu
[ $# -ge 1 ] || { echo "usage: ab_step.sh REV [M K D]..." >&2; exit 2; }
rev=$1; shift
[ $# -eq 0 ] && set -- 6 2 8 20 4 16 40 4 64
[ $(($# % 3)) -eq 0 ] || { echo "ab_step.sh: sizes come in threes (M K D)" >&2; exit 2; }
top=$(git rev-parse --show-toplevel)
wt=$(mktemp -d "${TMPDIR:-/tmp}/tsrelu-ab.XXXXXX")
trap 'git -C "$top" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"' EXIT
git -C "$top" worktree add --detach -q "$wt" "$rev"
make -C "$wt" -s all >/dev/null
make -C "$top" -s all build/ab_step >/dev/null
while [ $# -ge 3 ]; do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
    "$top/build/ab_step" "$wt/lib/libtsrelu.so" "$top/lib/libtsrelu.so" "$1" "$2" "$3"
  shift 3
done

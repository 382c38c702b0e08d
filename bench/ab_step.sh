#!/bin/sh
# ab_step.sh REV [M K D]... — the GD step of git revision REV (A) against
# this tree's library (B), in one process, timed alternately
# (bench/ab_step.c), in both load orders: a ratio above 1 means this tree
# is faster. REV is built in a
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
# Each size twice, the libraries loaded in both orders: which one loads
# (and allocates) first moved the ratio of two identical builds by up to 5 %
# (the placement of their workspaces), the same amount the other way round;
# the geometric mean of A/B and 1 / (B/A) cancels it.
run() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 "$top/build/ab_step" "$@"
}
while [ $# -ge 3 ]; do
  ab=$(run "$wt/lib/libtsrelu.so" "$top/lib/libtsrelu.so" "$1" "$2" "$3")
  ba=$(run "$top/lib/libtsrelu.so" "$wt/lib/libtsrelu.so" "$1" "$2" "$3")
  echo "$ab"
  echo "$ba"
  printf '%s\n%s\n' "$ab" "$ba" | awk -v rev="$rev" -v sz="($1, $2, $3)" '
    { for (i = 1; i < NF; i++) if ($i == "A/B" && $(i + 1) == "median") r[NR] = $(i + 2) }
    END { printf "%s %s against this tree: %.3f (A/B %.3f, B/A %.3f; above 1: this tree is faster)\n",
          sz, rev, sqrt(r[1] / r[2]), r[1], r[2] }'
  shift 3
done

#!/bin/sh
# The sweep behind docs/theory.md section 5: the Figure-1 configurations
# (k=2, m=20; k=4, m=12,20,40; orthogonal unit teachers, a = b = 1,
# sigma = 1e-6) x d in {16, 64, 256} x eta in {0.1, 0.01, 0.001} x seeds 1-3,
# each run to the same gradient-flow time eta*T = TAU (default 1000), with a
# trajectory (tsrelu_record_*, 20 points per decade) per run.
#   sh tools/theory/run_sweep.sh [OUTDIR] [TAU]    (default /work/data/theory)
# Writes OUTDIR/sweep_k<K>_eta<E>.csv and OUTDIR/traj_k<K>_eta<E>/run_<i>.csv
# (108 runs, about 12 CPU-minutes on the development machine at TAU = 1000).
# tools/theory/derive.py turns them into docs/data/theory_runs.csv.
set -eu
cd "$(dirname "$0")/../.."
OUT=${1:-/work/data/theory}
TAU=${2:-1000}
SWEEP=${TSRELU_SWEEP:-build/tsrelu-sweep}
mkdir -p "$OUT"
for eta in 0.1 0.01 0.001; do
  steps=$(awk -v t="$TAU" -v e="$eta" 'BEGIN { printf "%d", t / e + 0.5 }')
  for km in "2 20" "4 12,20,40"; do
    set -- $km
    tag="k$1_eta$eta"
    nice -n 10 "$SWEEP" --teacher orthogonal:1 --k "$1" --m "$2" --d 16,64,256 --sigma 1e-6 \
      --eta "$eta" --steps "$steps" --seed 1:3 --threads "${THREADS:-2}" --progress never \
      --out "$OUT/sweep_$tag.csv" --trajectories "$OUT/traj_$tag" --per-decade 20
    echo "done $tag ($steps steps)"
  done
done

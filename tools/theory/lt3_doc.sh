#!/bin/sh
# docs/data/theory_lt3.csv from the L*T^3 runs, and the fit output that
# docs/theory.md section 8 shows verbatim (between the ``` of its block).
#   sh tools/theory/lt3_doc.sh [DATADIR]     (default /work/data/theory)
set -eu
cd "$(dirname "$0")/../.."
D=${1:-/work/data/theory}
PY=${PYTHON:-/usr/bin/python3}
"$PY" tools/theory/lt3_drift.py table $(ls "$D"/lt3_k1_m*.csv "$D"/lt3_k2_m20*.csv) --out docs/data/theory_lt3.csv
echo '$ /usr/bin/python3 tools/theory/lt3_drift.py fit docs/data/theory_lt3.csv'
"$PY" tools/theory/lt3_drift.py fit docs/data/theory_lt3.csv
echo '$ /usr/bin/python3 tools/theory/lt3_drift.py fit docs/data/theory_lt3.csv --tmin 1e6'
"$PY" tools/theory/lt3_drift.py fit docs/data/theory_lt3.csv --tmin 1e6

#!/bin/sh
# tsrelu-sweep (tools/sweep, docs/sweeps.md):
#  - one grid run with threads, under `mpirun -np 2`, and as shards 0/2 + 1/2
#    merged gives the same CSV, row for row (the wall-time column aside);
#  - a sweep killed with SIGKILL mid-way, restarted with a partial last line
#    planted in its output, ends with the CSV of an uninterrupted sweep;
#  - resuming under MPI, gaps in a merge, a foreign grid, a second writer and
#    bad grids are handled;
#  - --trajectories writes one complete file per run on the log schedule,
#    leaves the rows unchanged, and survives a kill and a resume;
#  - plot_sweep.py turns a sweep (and its trajectories) into PNG and PDF figures.
# MPI is required: without mpirun or build/tsrelu-sweep-mpi the MPI checks fail.
set -u
cd "$(dirname "$0")/../.."
SWEEP=${TSRELU_SWEEP:-build/tsrelu-sweep}
SWEEP_MPI=${TSRELU_SWEEP_MPI:-build/tsrelu-sweep-mpi}
MPIRUN=${MPIRUN:-mpirun}
tmp=$(mktemp -d)
bgpid=
trap '[ -z "$bgpid" ] || kill -9 "$bgpid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "  ok   $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL $1"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "sweep: $pass passed, $fail failed"; [ "$fail" = 0 ]; exit $?; }
# every column but the last (wall_seconds), the one that is not deterministic
strip() { sed 's/,[^,]*$//' "$1"; }
same() { strip "$1" > "$tmp/same.1" && strip "$2" > "$tmp/same.2" && cmp -s "$tmp/same.1" "$tmp/same.2"; }
rows() { if [ -f "$1" ]; then echo $(($(wc -l < "$1") - 1)); else echo 0; fi; }
# Open MPI as root in CI containers, shared memory without ptrace-based copies
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { "$MPIRUN" --allow-run-as-root --oversubscribe -np 2 --mca btl self,vader \
          --mca btl_vader_single_copy_mechanism none "$@"; }

[ -x "$SWEEP" ] || { bad "$SWEEP is not built"; finish; }

# ------------------------------------------------------------ small grid, 8 runs
G="--m 4,6 --k 2,3 --d 8 --seed 1,2 --steps 2000"
"$SWEEP" $G --threads 2 --out "$tmp/threads.csv" 2> "$tmp/err" || cat "$tmp/err"
check "threaded sweep: 8 rows, all TSRELU_OK, in run order" \
  test "$(rows "$tmp/threads.csv")" = 8 -a "$(grep -c ',TSRELU_OK,' "$tmp/threads.csv")" = 8 \
       -a "$(cut -d, -f1 "$tmp/threads.csv" | tail -n +2 | tr '\n' ' ')" = "0 1 2 3 4 5 6 7 "
head -1 "$tmp/threads.csv" > "$tmp/hdr"
check "header: 26 columns, wall_seconds last" \
  test "$(tr ',' '\n' < "$tmp/hdr" | wc -l)" = 26 -a "$(tr ',' '\n' < "$tmp/hdr" | tail -1)" = wall_seconds
"$SWEEP" $G --threads 1 --out "$tmp/one.csv" 2> /dev/null
check "1 thread and 2 threads give the same rows" same "$tmp/threads.csv" "$tmp/one.csv"

cat > "$tmp/grid.txt" <<'GRID'
# the same grid as the flags
m = 4:6:2
k = 2:3      # a range
d = 8
seeds = 1, 2
steps = 2e3
GRID
"$SWEEP" $G --list > "$tmp/list.flags" 2> /dev/null
"$SWEEP" --grid "$tmp/grid.txt" --list > "$tmp/list.file" 2> /dev/null
check "grid file and flags expand to the same 8 runs" \
  test "$(wc -l < "$tmp/list.file")" = 9 -a -n "$(cmp "$tmp/list.flags" "$tmp/list.file" && echo same)"

# ------------------------------------------------------------ MPI
if ! command -v "$MPIRUN" > /dev/null 2>&1; then
  bad "mpirun not found (install openmpi-bin: sh scripts/deps.sh check)"
elif [ ! -x "$SWEEP_MPI" ]; then
  bad "$SWEEP_MPI is not built (needs mpicc: libopenmpi-dev)"
else
  mpi "$SWEEP_MPI" $G --threads 1 --out "$tmp/mpi.csv" > "$tmp/mpi.log" 2>&1 || cat "$tmp/mpi.log"
  check "mpirun -np 2 gives the threaded rows" same "$tmp/threads.csv" "$tmp/mpi.csv"
  # resume under MPI: 3 rows recorded, then a partial row cut by a kill
  head -4 "$tmp/threads.csv" > "$tmp/mpires.csv"
  printf '5,orthogonal,1,3,4,8,1e-06,0.1' >> "$tmp/mpires.csv"
  mpi "$SWEEP_MPI" $G --threads 1 --out "$tmp/mpires.csv" > "$tmp/mpires.log" 2>&1 || cat "$tmp/mpires.log"
  check "mpirun resumes a partial output (5 runs done, 3 kept)" \
    test -n "$(same "$tmp/threads.csv" "$tmp/mpires.csv" && grep '(5 now, 3 before)' "$tmp/mpires.log")"
  mpi "$SWEEP_MPI" --grid "$tmp/grid.txt" --threads 1 --out "$tmp/mpigrid.csv" > "$tmp/mpigrid.log" 2>&1 ||
    cat "$tmp/mpigrid.log"
  check "mpirun with a grid file read by rank 0" same "$tmp/threads.csv" "$tmp/mpigrid.csv"
fi

# ------------------------------------------------------------ shards + merge
"$SWEEP" $G --shard 0/2 --threads 1 --out "$tmp/shard0.csv" 2> /dev/null
"$SWEEP" $G --shard 1/2 --threads 1 --out "$tmp/shard1.csv" 2> /dev/null
cut -d, -f1 "$tmp/shard0.csv" "$tmp/shard1.csv" | grep -v run | sort -n | tr '\n' ' ' > "$tmp/union"
check "shards 0/2 and 1/2 split the 8 runs 4 + 4, without overlap" \
  test "$(rows "$tmp/shard0.csv") $(rows "$tmp/shard1.csv") $(cat "$tmp/union")" = "4 4 0 1 2 3 4 5 6 7 "
"$SWEEP" --merge "$tmp/merged.csv" "$tmp/shard1.csv" "$tmp/shard0.csv" 2> /dev/null
check "shards 0/2 + 1/2 merged give the threaded rows" same "$tmp/threads.csv" "$tmp/merged.csv"
"$SWEEP" --merge "$tmp/merged2.csv" "$tmp/shard0.csv" $G 2> /dev/null
check "merge refuses a missing shard (given the grid) and writes nothing" \
  test $? != 0 -a ! -e "$tmp/merged2.csv"
"$SWEEP" --merge "$tmp/merged3.csv" "$tmp/shard1.csv" 2> /dev/null
check "merge refuses gaps (no grid given)" test $? != 0 -a ! -e "$tmp/merged3.csv"
"$SWEEP" --merge "$tmp/merged4.csv" "$tmp/shard0.csv" "$tmp/shard1.csv" "$tmp/threads.csv" 2> /dev/null
check "merge accepts runs recorded twice with equal results" same "$tmp/threads.csv" "$tmp/merged4.csv"

# ------------------------------------------------------------ progress inside a long run
# on a terminal (script(1) gives the sweep a pty) the live line shows the
# steps done inside the run; in a pipe nothing but the summary; same rows
if command -v script > /dev/null 2>&1; then
  script -qec "$SWEEP --k 1 --m 2 --d 4 --steps 4e6 --threads 1 --out $tmp/tty.csv" /dev/null > "$tmp/tty.out" 2>&1
  check "on a terminal, progress inside a long run (runs in flight N% done, N < 100)" \
    test -n "$(tr '\r' '\n' < "$tmp/tty.out" | grep -E 'runs in flight [1-9][0-9]?% done')"
  "$SWEEP" --k 1 --m 2 --d 4 --steps 4e6 --threads 1 --out "$tmp/pipe.csv" 2> "$tmp/pipe.out"
  check "in a pipe, no live line (auto mode): only the summary" \
    test -z "$(grep 'in flight' "$tmp/pipe.out")" -a "$(wc -l < "$tmp/pipe.out")" = 1
  check "the rows are the same with and without the live line" same "$tmp/tty.csv" "$tmp/pipe.csv"
else
  bad "script(1) (util-linux) is missing: progress on a terminal not tested"
fi

# ------------------------------------------------------------ trajectories
# --trajectories DIR: one complete file per run, on the log schedule, the
# same rows; identical files from threads, shards and MPI ranks; a kill and
# a resume leave only complete files.
PY=${PYTHON:-/usr/bin/python3}
CHK=$tmp/check_traj.py
cat > "$CHK" <<'PYEOF'
# check_traj.py SWEEP.csv DIR P MODE: every run of SWEEP.csv has DIR/run_<i>.csv,
# complete (13 fields a line, m students per iterate, numbers); its iterates
# are 0, the points ceil(10^(j/P)) up to the final iterate, and the final one
# (MODE exact: nothing else, no other file in DIR; superset: extra iterates
# only in the last decade, the batch's summary samples; partial: files of
# runs without a row may exist, and a temporary, but every run_*.csv is whole)
import csv, math, os, sys
sweep, d, P, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def whole(path, m):
    with open(path) as f:
        text = f.read()
    assert text.endswith("\n"), path + ": no final newline"
    lines = text.splitlines()
    assert lines[0].startswith("iteration,student,norm,"), path + ": header"
    its = {}
    for ln in lines[1:]:
        f = ln.split(",")
        assert len(f) == 13, path + ": " + ln
        [float(x) for x in f]
        its.setdefault(int(f[0]), []).append(int(f[1]))
    if m is not None:
        for i, st in its.items():
            assert st == list(range(m)), "%s: iterate %d has students %s" % (path, i, st)
    return set(its)
rows = list(csv.DictReader(open(sweep)))
seen = set()
for r in rows:
    name = "run_%s.csv" % r["run"]
    seen.add(name)
    got = whole(os.path.join(d, name), int(r["m"]))
    end = int(r["iterations"])
    want, j = {0, end}, 0
    while math.ceil(10 ** (j / P)) <= end:
        want.add(math.ceil(10 ** (j / P)))
        j += 1
    if mode == "exact":
        assert got == want, "%s: %s != %s" % (name, sorted(got ^ want), "schedule")
    else:
        assert want <= got, "%s: missing %s" % (name, sorted(want - got))
        assert all(t >= end / 10 for t in got - want), "%s: extra %s" % (name, sorted(got - want))
for name in os.listdir(d):
    if name in seen:
        continue
    assert mode == "partial", "%s: unexpected file %s" % (d, name)
    if name.startswith("run_"):
        whole(os.path.join(d, name), None)
    else:
        assert name.startswith(".run_") and name.endswith(".csv.tmp"), name
PYEOF
"$SWEEP" $G --threads 2 --out "$tmp/tr.csv" --trajectories "$tmp/tr" 2> "$tmp/err" || cat "$tmp/err"
check "--trajectories: the rows are those of the sweep without it" same "$tmp/threads.csv" "$tmp/tr.csv"
check "--trajectories: one file per run, parsed, iterates = 0, ceil(10^(j/10)) <= steps, the end" \
  "$PY" "$CHK" "$tmp/tr.csv" "$tmp/tr" 10 exact
"$SWEEP" $G --threads 1 --out "$tmp/tr3.csv" --trajectories "$tmp/tr3" --per-decade 3 2> "$tmp/err" || cat "$tmp/err"
check "--per-decade 3: every point of the schedule, extra iterates only in the last decade" \
  "$PY" "$CHK" "$tmp/tr3.csv" "$tmp/tr3" 3 superset
"$SWEEP" $G --shard 0/2 --threads 1 --out "$tmp/trs0.csv" --trajectories "$tmp/trs" 2> /dev/null
"$SWEEP" $G --shard 1/2 --threads 1 --out "$tmp/trs1.csv" --trajectories "$tmp/trs" 2> /dev/null
check "two shards writing one DIR give the threaded files" diff -r "$tmp/tr" "$tmp/trs"
if command -v "$MPIRUN" > /dev/null 2>&1 && [ -x "$SWEEP_MPI" ]; then
  mpi "$SWEEP_MPI" $G --threads 1 --out "$tmp/trm.csv" --trajectories "$tmp/trm" > "$tmp/trm.log" 2>&1 ||
    cat "$tmp/trm.log"
  check "mpirun -np 2 --trajectories: the threaded rows and files" \
    test -n "$(same "$tmp/threads.csv" "$tmp/trm.csv" && diff -r "$tmp/tr" "$tmp/trm" && echo same)"
else
  bad "mpirun or $SWEEP_MPI missing: --trajectories under MPI not tested"
fi
: > "$tmp/notadir"
"$SWEEP" $G --out "$tmp/trx.csv" --trajectories "$tmp/notadir" 2> "$tmp/err"
check "--trajectories on a file is refused, naming it" \
  test $? = 1 -a -n "$(grep -F "'$tmp/notadir' is not a directory" "$tmp/err")"
"$SWEEP" $G --out "$tmp/trx.csv" --trajectories "$tmp/no/such" 2> "$tmp/err"
check "--trajectories in a missing parent is refused, naming it" \
  test $? = 1 -a -n "$(grep -F "cannot create directory '$tmp/no/such'" "$tmp/err")"
"$SWEEP" $G --out "$tmp/trx.csv" --per-decade 0 --trajectories "$tmp/trx" 2> "$tmp/err"
check "--per-decade 0 is refused" test $? = 2 -a -n "$(grep -F -- "--per-decade: '0'" "$tmp/err")"
"$SWEEP" $G --out "$tmp/trx.csv" --per-decade 5 2> "$tmp/err"
check "--per-decade without --trajectories is refused" \
  test $? = 2 -a -n "$(grep -F -- "--per-decade needs --trajectories" "$tmp/err")"

# ------------------------------------------------------------ figures
# plot_sweep.py on the trajectories above: six files, PNG and PDF signatures;
# the CSV alone gives the events and balance figures; clear errors.
PLOT=tools/sweep/plot_sweep.py
if "$PY" -c 'import matplotlib' 2> /dev/null; then
  "$PY" "$PLOT" "$tmp/tr.csv" --trajectories "$tmp/tr" --out "$tmp/fig" > "$tmp/plot.log" 2>&1 || cat "$tmp/plot.log"
  figs=ok
  for f in loss events balance; do
    [ -s "$tmp/fig_$f.png" ] && [ -s "$tmp/fig_$f.pdf" ] &&
      [ "$(head -c 8 "$tmp/fig_$f.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] &&
      [ "$(head -c 5 "$tmp/fig_$f.pdf")" = %PDF- ] || figs="fig_$f missing or not PNG/PDF"
  done
  check "plot_sweep.py: loss, events, balance as PNG and PDF ($figs)" test "$figs" = ok
  cp "$tmp/threads.csv" "$tmp/csvonly.csv"
  "$PY" "$PLOT" "$tmp/csvonly.csv" > /dev/null 2>&1
  check "plot_sweep.py without --trajectories: events and balance from the CSV, no loss figure" \
    test $? = 0 -a -s "$tmp/csvonly_events.png" -a -s "$tmp/csvonly_balance.pdf" -a ! -e "$tmp/csvonly_loss.png"
  "$PY" "$PLOT" "$tmp/nothere.csv" 2> "$tmp/err"
  check "plot_sweep.py on a missing CSV fails, naming it" \
    test $? = 1 -a -n "$(grep -F "$tmp/nothere.csv: No such file" "$tmp/err")"
  "$PY" "$PLOT" "$tmp/tr/run_0.csv" --out "$tmp/foreign" 2> "$tmp/err"
  check "plot_sweep.py on a foreign CSV fails, naming it, writing nothing" \
    test $? = 1 -a -n "$(grep -F "run_0.csv: not a tsrelu-sweep CSV" "$tmp/err")" -a ! -e "$tmp/foreign_events.png"
  mkdir "$tmp/emptydir"
  "$PY" "$PLOT" "$tmp/tr.csv" --trajectories "$tmp/emptydir" --out "$tmp/empty" 2> "$tmp/err"
  check "plot_sweep.py with a directory holding no trajectory of the sweep fails, writing nothing" \
    test $? = 1 -a -n "$(grep -F "no trajectory file" "$tmp/err")" -a ! -e "$tmp/empty_events.png"
else
  bad "$PY has no matplotlib (python3-matplotlib): plot_sweep.py not tested"
fi

# ------------------------------------------------------------ help
"$SWEEP" -h > "$tmp/help" 2>&1
check "-h prints the usage and exits 0" test $? = 0 -a -n "$(grep '^usage: tsrelu-sweep' "$tmp/help")"
check "the help says how shards are dealt (by cost, not index mod N)" \
  test -n "$(grep 'sorted by cost' "$tmp/help")" -a -z "$(grep 'index mod N' "$tmp/help")"

# ------------------------------------------------------------ refusals
cp "$tmp/threads.csv" "$tmp/foreign.csv"
"$SWEEP" $G --seed 1,3 --out "$tmp/foreign.csv" 2> "$tmp/err"
check "an output written for another grid is refused and left alone" \
  test $? = 1 -a -n "$(cmp "$tmp/threads.csv" "$tmp/foreign.csv" && grep 'does not match the grid' "$tmp/err")"
echo "not,a,sweep" > "$tmp/notours.csv"
"$SWEEP" $G --out "$tmp/notours.csv" 2> /dev/null
check "a CSV that is not a sweep's is not overwritten" test $? = 1 -a "$(cat "$tmp/notours.csv")" = "not,a,sweep"
"$SWEEP" --m 4 --k 9 --d 8 --out "$tmp/bad.csv" 2> /dev/null
check "k > d is a usage error" test $? = 2 -a ! -e "$tmp/bad.csv"
printf 'm = 4\nk = 2\nwidth = 3\n' > "$tmp/bad.txt"
"$SWEEP" --grid "$tmp/bad.txt" --list > /dev/null 2> "$tmp/err"
check "an unknown axis in a grid file names file and line" test $? = 2 -a -n "$(grep 'bad.txt:3' "$tmp/err")"

# ------------------------------------------------------------ integers are decimal
# usage_error NAME TEXT ARGS...: the sweep exits 2 and its message contains TEXT
usage_error() {
  name=$1 text=$2; shift 2
  "$SWEEP" "$@" > /dev/null 2> "$tmp/err"
  check "$name" test $? = 2 -a -n "$(grep -F -- "$text" "$tmp/err")"
}
for ax in k m d steps seed; do
  usage_error "--$ax 0x10 is refused (hex)" "axis $ax: '0x10' is not" --k 2 --m 4 --d 8 --$ax 0x10 --list
done
usage_error "--m 0X1p4 is refused (hex real)" "axis m: '0X1p4' is not" --k 2 --m 0X1p4 --list
usage_error "--seed 0x1:0x3 is refused (hex range)" "axis seed: bad range '0x1:0x3'" --k 2 --m 4 --seed 0x1:0x3 --list
usage_error "--eta 0x1p-3 is refused (hex real)" "axis eta: '0x1p-3' is not" --k 2 --m 4 --eta 0x1p-3 --list
usage_error "--m 4x is refused (trailing garbage)" "axis m: '4x' is not" --k 2 --m 4x --list
printf 'k = 2\nm = 0x10\n' > "$tmp/hex.txt"
usage_error "m = 0x10 in a grid file is refused with file and line" "hex.txt:2: axis m: ' 0x10' is not" --grid "$tmp/hex.txt" --list
"$SWEEP" --k 2 --m 010 --d 8 --steps 1e3 --list > "$tmp/list" 2> /dev/null
check "--m 010 is m = 10, --steps 1e3 is 1000 (decimal, integral real)" \
  test "$(tail -1 "$tmp/list")" = "0,orthogonal,1,2,10,8,1e-06,0.1,0.05,0.05,1000,1"
usage_error "--threads +2 is refused" "--threads: '+2' is not" --k 2 --m 4 --threads +2 --out "$tmp/opt.csv"
usage_error "--threads 0x2 is refused" "--threads: '0x2' is not" --k 2 --m 4 --threads 0x2 --out "$tmp/opt.csv"
usage_error "--chunk +3 is refused" "--chunk: '+3' is not" --k 2 --m 4 --chunk +3 --out "$tmp/opt.csv"
usage_error "--chunk 010x is refused" "--chunk: '010x' is not" --k 2 --m 4 --chunk 010x --out "$tmp/opt.csv"
usage_error "--shard '1/ -1' is refused" "--shard: '1/ -1' is not" --k 2 --m 4 --shard '1/ -1' --list
usage_error "--shard +0/2 is refused" "--shard: '+0/2' is not" --k 2 --m 4 --shard +0/2 --list
usage_error "--shard 0x1/2 is refused" "--shard: '0x1/2' is not" --k 2 --m 4 --shard 0x1/2 --list
z=0000000000000000000000000000000000000000
usage_error "--shard with a long I and garbage is refused" "--shard: '${z}x/2' is not" --k 2 --m 4 --shard "${z}x/2" --list
check "no output was created by a refused option" test ! -e "$tmp/opt.csv"

# ------------------------------------------------------------ garbage in a recorded row
# corrupt COL TEXT: the first 4 rows of the 8-run sweep, column COL of line 3 set to TEXT
corrupt() {
  head -5 "$tmp/threads.csv" | awk -F, -v OFS=, -v c="$1" -v t="$2" 'NR == 3 { $c = t } { print }' > "$tmp/corrupt.csv"
}
# resume_refused COL TEXT COLUMN: resuming refuses the file (exit 1, untouched), naming line 3, column and text
resume_refused() {
  corrupt "$1" "$2"
  cp "$tmp/corrupt.csv" "$tmp/corrupt.copy"
  "$SWEEP" $G --out "$tmp/corrupt.csv" > /dev/null 2> "$tmp/err"
  check "resume refuses $3 '$2' (file, line, column, text; file untouched)" \
    test $? = 1 -a -n "$(cmp -s "$tmp/corrupt.csv" "$tmp/corrupt.copy" && grep -F -- "corrupt.csv:3: column $3: '$2' is not" "$tmp/err")"
}
resume_refused 13 BANANA status
resume_refused 13 tsrelu_ok status
resume_refused 14 0x10 iterations
resume_refused 14 1e3 iterations
resume_refused 15 abc final_loss
resume_refused 16 infinity grad_norm
resume_refused 17 -2 t1
resume_refused 18 1.5 t2
resume_refused 19 4 phase
resume_refused 19 0 phase
resume_refused 20 +1 switches
resume_refused 21 '' late_slope
resume_refused 22 'nan(1)' ratio_min
resume_refused 23 0x1p3 ratio_max
resume_refused 24 2/2/0 groups_init
resume_refused 25 2/x groups
resume_refused 26 fast wall_seconds
resume_refused 5 four m
head -2 "$tmp/threads.csv" > "$tmp/nul.csv"
sed -n 3p "$tmp/threads.csv" | sed 's/,TSRELU_OK,2000,/,TSRELU_OK,2000@9,/' | tr @ '\000' >> "$tmp/nul.csv"
cp "$tmp/nul.csv" "$tmp/nul.copy"
"$SWEEP" $G --out "$tmp/nul.csv" > /dev/null 2> "$tmp/err"
check "resume refuses a NUL byte in a field" \
  test $? = 1 -a -n "$(cmp -s "$tmp/nul.csv" "$tmp/nul.copy" && grep -F 'nul.csv:3: column iterations' "$tmp/err")"
corrupt 21 -inf
"$SWEEP" $G --out "$tmp/corrupt.csv" > /dev/null 2> "$tmp/err"
check "resume accepts the writer's -inf in a real column" test $? = 0 -a "$(rows "$tmp/corrupt.csv")" = 8
"$SWEEP" --m 64 --k 2 --steps 1000 --out "$tmp/div.csv" 2> /dev/null
"$SWEEP" --m 64 --k 2 --steps 1000 --out "$tmp/div.csv" 2> "$tmp/err"
check "a diverged run's row (nan, inf, -1) resumes" \
  test $? = 0 -a -n "$(grep -F ',TSRELU_EDIVERGED,' "$tmp/div.csv" | grep -F ',nan,' | grep -F ',inf,' | grep -F ',-1,')" \
       -a -n "$(grep -F '(0 now, 1 before)' "$tmp/err")"
corrupt 13 BANANA
"$SWEEP" --merge "$tmp/merged5.csv" "$tmp/corrupt.csv" 2> "$tmp/err"
check "merge refuses an input with garbage, naming it" \
  test $? != 0 -a ! -e "$tmp/merged5.csv" -a -n "$(grep -F "corrupt.csv:3: column status: 'BANANA'" "$tmp/err")"

# ------------------------------------------------------------ kill -9 and resume
R="--m 8,16 --k 2 --seed 1:12 --steps 60000"
"$SWEEP" $R --threads 2 --out "$tmp/ref.csv" 2> /dev/null
"$SWEEP" $R --threads 1 --chunk 1 --out "$tmp/killed.csv" 2> /dev/null &
bgpid=$!
i=0
while [ "$(rows "$tmp/killed.csv")" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
"$SWEEP" $R --out "$tmp/killed.csv" > /dev/null 2> "$tmp/err"
check "a second sweep on a locked output is refused" test $? = 1 -a -n "$(grep -i 'another' "$tmp/err")"
kill -9 "$bgpid" 2> /dev/null
wait "$bgpid" 2> /dev/null
bgpid=
before=$(rows "$tmp/killed.csv")
check "the killed sweep left only whole rows ($before of 24)" \
  test "$before" -ge 3 -a "$before" -lt 24 -a -z "$(tail -n +2 "$tmp/killed.csv" | awk -F, 'NF != 26')" \
       -a "$(tail -c 1 "$tmp/killed.csv" | od -An -c | tr -d ' ')" = '\n'
printf '23,orthogonal,1,2,16,16,1e-06,0.1,0.05,0.05,60000,12,TSRELU_OK,600' >> "$tmp/killed.csv"
"$SWEEP" $R --threads 2 --out "$tmp/killed.csv" 2> "$tmp/resume.log"
check "restart skips the $before recorded runs and ignores the partial line" \
  test -n "$(grep "($((24 - before)) now, $before before)" "$tmp/resume.log" && grep 'partial last line' "$tmp/resume.log")"
check "resumed CSV = uninterrupted CSV" same "$tmp/ref.csv" "$tmp/killed.csv"
cp "$tmp/ref.csv" "$tmp/ref.copy"
"$SWEEP" $R --out "$tmp/ref.csv" 2> "$tmp/again.log"
check "a complete output is left as it is" \
  test -n "$(cmp "$tmp/ref.csv" "$tmp/ref.copy" && grep '(0 now, 24 before)' "$tmp/again.log")"

# trajectories through a kill -9 and a resume (a stale temporary planted)
"$SWEEP" $R --threads 1 --chunk 1 --out "$tmp/trk.csv" --trajectories "$tmp/trk" 2> /dev/null &
bgpid=$!
i=0
while [ "$(rows "$tmp/trk.csv")" -lt 3 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$bgpid" 2> /dev/null
wait "$bgpid" 2> /dev/null
bgpid=
check "the killed sweep left only complete trajectory files" "$PY" "$CHK" "$tmp/trk.csv" "$tmp/trk" 10 partial
printf 'iteration,student,norm\n0,0,' > "$tmp/trk/.run_23.csv.tmp"
"$SWEEP" $R --threads 2 --out "$tmp/trk.csv" --trajectories "$tmp/trk" 2> "$tmp/err" || cat "$tmp/err"
check "resumed with --trajectories: the rows of the uninterrupted sweep" same "$tmp/ref.csv" "$tmp/trk.csv"
check "resumed with --trajectories: 24 complete files on the schedule, no temporary left" \
  "$PY" "$CHK" "$tmp/trk.csv" "$tmp/trk" 10 exact

finish

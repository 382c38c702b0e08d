#!/bin/sh
# Kill-and-resume: a run killed with SIGKILL at random moments and restarted
# from its checkpoint ends bit-identical to an uninterrupted run; a run
# stopped by SIGINT saves its last completed step (exit 130) and resumes
# from exactly there.
set -eu
bin=build/examples/resume
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
steps=${TSRELU_KILL_STEPS:-1500000}
every=20000
"$bin" --checkpoint "$tmp/ref.ckpt" --steps "$steps" --every "$every" > "$tmp/ref.out" 2>/dev/null
kills=0
for delay in 0.3 0.4 0.5; do
  "$bin" --checkpoint "$tmp/run.ckpt" --steps "$steps" --every "$every" > "$tmp/run.out" 2>/dev/null &
  pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  # whatever moment the kill hit, the checkpoint on disk must load
  [ ! -f "$tmp/run.ckpt" ] || "$bin" --checkpoint "$tmp/run.ckpt" --steps 0 > /dev/null 2>&1 || {
    echo "kill-resume: checkpoint unreadable after kill"; exit 1; }
done
"$bin" --checkpoint "$tmp/run.ckpt" --steps "$steps" --every "$every" > "$tmp/run.out" 2>/dev/null
# SIGINT: the run stops at its last completed step, saves it and exits 130
"$bin" --checkpoint "$tmp/int.ckpt" --steps "$steps" --every 1000000000 > /dev/null 2> "$tmp/int.err" &
pid=$!
sleep 0.4
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" = 130 ] || { echo "kill-resume: SIGINT gave exit status $rc, not 130"; cat "$tmp/int.err"; exit 1; }
grep -q 'interrupted at iteration [1-9]' "$tmp/int.err" ||
  { echo "kill-resume: no interrupted iteration reported"; cat "$tmp/int.err"; exit 1; }
"$bin" --checkpoint "$tmp/int.ckpt" --steps "$steps" --every "$every" > "$tmp/int.out" 2>/dev/null
cmp -s "$tmp/ref.out" "$tmp/int.out" ||
  { echo "kill-resume: the run resumed after SIGINT differs"; diff "$tmp/ref.out" "$tmp/int.out" | head; exit 1; }
leftover=$(ls -A "$tmp" | grep -c '^\.tsrelu-.*\.tmp$' || true)
if ! cmp -s "$tmp/ref.out" "$tmp/run.out"; then
  echo "kill-resume: resumed run differs from the uninterrupted one"; diff "$tmp/ref.out" "$tmp/run.out" | head; exit 1
fi
[ "$kills" -ge 1 ] || { echo "kill-resume: the run finished before any kill; raise TSRELU_KILL_STEPS"; exit 1; }
echo "kill-resume: $kills kills and a SIGINT, temporary files left: $leftover (ok)"
echo "kill-resume: 1 passed, 0 failed"

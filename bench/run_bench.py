#!/usr/bin/python3
"""make bench: microseconds per GD step of libtsrelu against the peers a
researcher would use instead, measured in the same run from the same
starting point, plus the BLAS floor and the batch API's thread scaling.

usage: /usr/bin/python3 bench/run_bench.py [--quick] [--out FILE]

Peers (bench/peers/):
  numpy        closed form in float64, angles by arccos of the clipped cosine,
               fully vectorised (numpy_peer.py)
  torch-cf     the same closed form in PyTorch float64, gradient by autograd
  torch-mc     PyTorch float64, loss on 10^4 fresh Gaussian samples per step,
               gradient by autograd (what many papers do)
  BLAS floor   the two dense products a step needs (Gram matrix, P*U), alone

Each timing is the median over repeats after a warm-up; the starting point
is libtsrelu's state after --warm steps (late phase), dumped by bench_step.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(HERE, "peers"))
import numpy_peer  # noqa: E402

try:
    import torch_peer  # noqa: E402
except ImportError as exc:  # python3-torch missing
    torch_peer = None
    TORCH_WHY = str(exc)

# (m, k, d), eta, warm-up steps, timed steps per repeat, repeats, peer steps.
# GD is stable for eta below about 4/m; the warm-up puts every run in its
# late phase, where the exact angle path is busiest.
SIZES = [
    ((6, 2, 8), 0.1, 10000, 4000, 9, 400),
    ((20, 4, 16), 0.1, 10000, 2000, 9, 400),
    ((40, 4, 64), 0.05, 10000, 500, 9, 200),
    ((256, 64, 1024), 0.01, 1000, 10, 5, 5),
]
TARGETS = {(6, 2, 8): 40.0, (20, 4, 16): 40.0, (40, 4, 64): 10.0}


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return out


def c_step(m, k, d, eta, warm, steps, reps, dump=None, floor=False):
    cmd = [os.path.join(BUILD, "bench_step"), str(m), str(k), str(d), "--eta", repr(eta),
           "--warm", str(warm), "--steps", str(steps), "--repeats", str(reps)]
    if floor:
        cmd.append("--blas-floor")
    if dump:
        cmd += ["--dump", dump]
    return float(run(cmd).split()[1])


def load_dump(path):
    with open(path) as f:
        m, k, d, eta = f.readline().split()
        m, k, d, eta = int(m), int(k), int(d), float.fromhex(eta)
        rows = [[float.fromhex(x) for x in f.readline().split()] for _ in range(m + k)]
    A = np.array(rows)
    return A[:m].copy(), A[m:].copy(), eta


def time_peer(step, W, steps, reps):
    """Median seconds per step of W <- step(W), after one warm-up repeat."""
    per = []
    for r in range(reps + 1):
        X = W
        t0 = time.perf_counter()
        for _ in range(steps):
            X = step(X)
        dt = (time.perf_counter() - t0) / steps
        if r > 0:
            per.append(dt)
    return statistics.median(per) * 1e6


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = "?"
    try:
        ldd = run(["ldd", os.path.join(ROOT, "lib", "libtsrelu.so")])
        blas = ", ".join(sorted({l.split("=>")[1].split()[0] for l in ldd.splitlines()
                                 if "blas" in l and "=>" in l}))
    except (OSError, subprocess.CalledProcessError):
        pass
    env = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    return cpu, os.cpu_count(), blas, env


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.md"))
    args = ap.parse_args()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    cpu, ncpu, blas, env = machine()
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    say(f"machine: {cpu}, {ncpu} cores, {platform.system()} {platform.release()}")
    say(f"libtsrelu BLAS: {blas}; numpy {np.__version__}"
        + (f"; torch {torch_peer.torch.__version__} ({torch_peer.torch.get_num_threads()} threads)"
           if torch_peer else f"; torch: skipped ({TORCH_WHY})"))
    if env:
        say(f"environment: {env}")
    say("")
    say("| (m, k, d) | libtsrelu µs/step | numpy µs | numpy/lib | torch-cf µs | torch-cf/lib "
        "| torch-mc µs | torch-mc/lib | target (numpy/lib) |")
    say("|---|---|---|---|---|---|---|---|---|")
    results = {}
    dump = os.path.join(BUILD, "bench_dump.txt")
    for (m, k, d), eta, warm, steps, reps, psteps in SIZES:
        if args.quick:
            warm, steps, reps, psteps = min(warm, 500), max(1, steps // 20), 3, max(1, psteps // 20)
        lib = c_step(m, k, d, eta, warm, steps, reps, dump=dump)
        W, V, eta = load_dump(dump)
        a, b = np.ones(m), np.ones(k)
        npy = time_peer(lambda X: numpy_peer.step(X, V, a, b, eta), W, psteps, reps)
        row = {"lib": lib, "numpy": npy}
        if torch_peer:
            row["tcf"] = time_peer(torch_peer.closed_form_stepper(V, eta), torch_peer.to_tensor(W),
                                   psteps, reps)
            row["tmc"] = time_peer(torch_peer.monte_carlo_stepper(V, eta, 10000), torch_peer.to_tensor(W),
                                   max(1, psteps // 4), reps)
        results[(m, k, d)] = row
        tgt = TARGETS.get((m, k, d))
        fmt = lambda key: (f"{row[key]:.2f} | {row[key] / lib:.1f}x" if key in row else "— | —")
        say(f"| ({m}, {k}, {d}) | {lib:.3f} | {fmt('numpy')} | {fmt('tcf')} | {fmt('tmc')} | "
            + (f"≥ {tgt:.0f}x: {'met' if npy / lib >= tgt else 'NOT met'}" if tgt else "see floor") + " |")
    (m, k, d), eta, warm, steps, reps, _ = SIZES[-1]
    if args.quick:
        steps, reps = 2, 3
    floor = c_step(m, k, d, eta, 0, steps, reps, floor=True)
    lib = results[(m, k, d)]["lib"]
    say("")
    say(f"BLAS floor at ({m}, {k}, {d}): {floor:.1f} µs/step for the two dgemm products alone; "
        f"libtsrelu/floor = {lib / floor:.2f} (target ≤ 1.3: {'met' if lib / floor <= 1.3 else 'NOT met'})")
    # The batch's threads replace OpenBLAS's: with its own pool spinning too,
    # two sets of threads compete for the cores (docs/performance.md).
    runs, bsteps = (64, 300) if args.quick else (64, 3000)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    bb = lambda th: float(subprocess.run([os.path.join(BUILD, "bench_batch"), str(runs), "20", "4", "16",
                                          str(bsteps), str(th)], check=True, capture_output=True,
                                         text=True, env=env).stdout.split()[1])
    t1 = statistics.median(bb(1) for _ in range(3))
    t2 = statistics.median(bb(2) for _ in range(3))
    say(f"batch (OPENBLAS_NUM_THREADS=1): {runs} runs of {bsteps} steps at (20, 4, 16): 1 thread {t1:.3f} s, "
        f"2 threads {t2:.3f} s, scaling {t1 / t2:.2f}x (target ≥ 1.8: {'met' if t1 / t2 >= 1.8 else 'NOT met'})")
    # Second order: dense Hessian against the finite-difference Hessian from
    # our own gradient, and one Hessian-vector product against one gradient
    # (bench_hessian interleaves the four timings and reports medians).
    hreps = "5" if args.quick else "21"
    h = run([os.path.join(BUILD, "bench_hessian"), "20", "4", "16", "--repeats", hreps]).split()
    dense, fd, hratio, hvp, grad, vratio = map(float, h[1:7])
    say(f"hessian at (20, 4, 16), N = 320: dense {dense:.1f} µs, finite differences of the gradient "
        f"(640 gradients) {fd:.0f} µs: {hratio:.0f}x (target ≥ 50x: {'met' if hratio >= 50 else 'NOT met'}); "
        f"Hessian-vector product {hvp:.1f} µs, gradient {grad:.1f} µs: {vratio:.2f}x "
        f"(target ≤ 3x: {'met' if vratio <= 3 else 'NOT met'})")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\nresults written to {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()

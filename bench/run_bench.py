#!/usr/bin/python3
"""make bench: microseconds per GD step of libtsrelu against the numpy
closed-form peer, measured in the same process with interleaved
repetitions, on every dispatch path of the library's kernels (TSRELU_ISA),
plus an estimated limit, the BLAS floor at the large size and the batch
API's runs per second on 1 and 2 threads.

usage: /usr/bin/python3 bench/run_bench.py [--quick] [--torch] [--out FILE]

Each path runs in its own worker process (the path is chosen once per
process). The workers run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
removed from their environment (OpenBLAS then picks its kernels from the
CPU; the name of the kernel it chose is printed); when those variables are
set here, the best path is also measured with them, beside. Each repetition
times the library (tsrelu.GD.run through the Python binding: one C call)
and then numpy from the same late-phase starting point; the table gives
the medians and the ratio of the medians. The machine may be shared: only
ratios of interleaved medians are meaningful.

Peers (bench/peers/):
  numpy        closed form in float64, angles by arccos of the clipped cosine
  torch-cf     (--torch) the same closed form in PyTorch float64, autograd
Estimated limit of a step: (multiply-adds of the cosines and the product)
/ (the product kernel's measured rate) + pairs x (the angle kernel's
measured cost per pair, without kappa, as in the steps timed: the output
layer is fixed), both from build/bench_kernels on the same path.
"""
import argparse
import json
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
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))

# (m, k, d), eta, warm-up steps, library steps per repetition, numpy steps
# per repetition, repetitions. GD is stable for eta below about 4/m; the
# warm-up puts every run in its late phase (near-parallel pairs).
SIZES = [
    ((6, 2, 8), 0.1, 10000, 40000, 1000, 9),
    ((20, 4, 16), 0.1, 10000, 10000, 500, 9),
    ((40, 4, 64), 0.05, 10000, 2000, 200, 9),
    ((256, 64, 1024), 0.01, 200, 10, 5, 5),
]
TARGETS = {(6, 2, 8): 80.0, (20, 4, 16): 25.0, (40, 4, 64): 7.0}
PATHS = ("avx512", "avx2", "portable")
BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def openblas_core():
    """The kernel family OpenBLAS chose in this process, or '?'."""
    import ctypes
    for name in ("libopenblas.so.0", "libopenblas.so", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name)
            fn = lib.openblas_get_corename
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_char_p
        return fn().decode()
    return "?"


def worker(args):
    """One path: interleaved library/numpy repetitions at every size."""
    import tsrelu
    import numpy_peer
    torch_peer = None
    if args.torch:
        try:
            import torch_peer
        except ImportError:
            pass
    out = {"isa": tsrelu.isa(), "core": openblas_core(), "sizes": []}
    for (m, k, d), eta, warm, steps, psteps, reps in SIZES:
        if args.quick:
            warm, steps, psteps, reps = min(warm, 300), max(2, steps // 20), max(1, psteps // 10), 3
        t = tsrelu.Teacher.orthogonal(k, d, 1.0, seed=1)
        s = tsrelu.Student.gaussian(m, d, 1e-3, seed=2)
        gd = tsrelu.GD(t, s, eta)
        gd.run(warm)
        W, V = gd.W.copy(), t.V.copy()
        a, b = np.ones(m), np.ones(k)
        lib, npy, tcf = [], [], []
        gd.run(max(1, steps // 10))  # warm caches
        for _ in range(reps):
            t0 = time.perf_counter()
            gd.run(steps)
            lib.append((time.perf_counter() - t0) / steps * 1e6)
            X = W
            t0 = time.perf_counter()
            for _ in range(psteps):
                X = numpy_peer.step(X, V, a, b, eta)
            npy.append((time.perf_counter() - t0) / psteps * 1e6)
            if torch_peer:
                stepper, X = torch_peer.closed_form_stepper(V, eta), torch_peer.to_tensor(W)
                t0 = time.perf_counter()
                for _ in range(psteps):
                    X = stepper(X)
                tcf.append((time.perf_counter() - t0) / psteps * 1e6)
        row = {"size": [m, k, d], "lib": statistics.median(lib), "numpy": statistics.median(npy)}
        if tcf:
            row["torch"] = statistics.median(tcf)
        out["sizes"].append(row)
    print(json.dumps(out))


def spawn(isa, keep_blas_env, args):
    env = dict(os.environ, TSRELU_ISA=isa)
    if not keep_blas_env:
        for v in BLAS_VARS:
            env.pop(v, None)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker"] + (["--quick"] if args.quick else []) \
        + (["--torch"] if args.torch else [])
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    res = json.loads(r.stdout.strip().splitlines()[-1])
    k = subprocess.run([os.path.join(BUILD, "bench_kernels")], env=env, capture_output=True, text=True,
                       check=True).stdout.split()
    # the step timed here keeps the output layer fixed (tsrelu.GD's default):
    # no dL/da and no loss, so its angle kernel computes no kappa
    res["peak"], res["angle_kappa_ns"], res["fused"] = float(k[3]), float(k[5]), k[7] == "1"
    res["angle_ns"] = float(k[9])
    return res


SMALL = 1 << 17  # src/simd/simd.h: TSRELU_SIMD_MAX_WORK (no BLAS at or below)


def limit_us(m, k, d, peak_gmadd, angle_ns):
    """Estimated limit of one step on a path (see the module docstring);
    None above the BLAS-free threshold (the products are OpenBLAS's there:
    see the floor)."""
    if m * (m + k) * d > SMALL:
        return None
    madds = (m * (m - 1) // 2 + m * k) * d + m * (m + k) * d
    pairs = m * (m - 1) // 2 + m * k
    return madds / (peak_gmadd * 1e3) + pairs * angle_ns * 1e-3


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
    return cpu, os.cpu_count()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (smoke test)")
    ap.add_argument("--torch", action="store_true", help="also the PyTorch closed form")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "latest.md"))
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    missing = [b for b in ("bench_kernels", "bench_step", "bench_batch", "bench_flow")
               if not os.access(os.path.join(BUILD, b), os.X_OK)]
    if missing:  # before minutes of measurement, not after
        sys.exit("run_bench.py: build/%s missing: run `make bench` (it builds them first)"
                 % ", build/".join(missing))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    cpu, ncpu = machine()
    say(f"machine: {cpu}, {ncpu} cores, {platform.system()} {platform.release()}; numpy {np.__version__}")
    set_env = {v: os.environ[v] for v in BLAS_VARS if v in os.environ}
    say(f"environment here: {set_env or 'no OpenBLAS variables'}; workers run without them unless marked")
    say("ratios of medians of interleaved repetitions (the machine may be shared: noisy)")
    say("")
    runs = []
    for isa in PATHS:
        probe = subprocess.run([sys.executable, "-c", "import tsrelu; print(tsrelu.isa())"],
                               env=dict(os.environ, TSRELU_ISA=isa,
                                        PYTHONPATH=os.path.join(ROOT, "bindings", "python")),
                               capture_output=True, text=True, check=True).stdout.strip()
        if probe != isa:
            say(f"path {isa}: not supported here ({probe})")
            continue
        runs.append((isa, False, spawn(isa, False, args)))
        if set_env and len(runs) == 1:
            runs.append((isa, True, spawn(isa, True, args)))
    say("| path | OpenBLAS env | OpenBLAS kernel | (m, k, d) | libtsrelu µs/step | numpy µs | numpy/lib "
        "| target | est. limit µs | lib/limit |" + (" torch-cf/lib |" if args.torch else ""))
    say("|---|---|---|---|---|---|---|---|---|---|" + ("---|" if args.torch else ""))
    for isa, kept, res in runs:
        for row in res["sizes"]:
            m, k, d = row["size"]
            lib, npy = row["lib"], row["numpy"]
            tgt = TARGETS.get((m, k, d))
            lim = limit_us(m, k, d, res["peak"], res["angle_ns"])
            cell = f"≥ {tgt:.0f}x: {'met' if npy / lib >= tgt else 'NOT met'}" if tgt else "see floor"
            lim_cells = f"{lim:.3f} | {lib / lim:.2f}" if lim else "BLAS path | —"
            say(f"| {res['isa']} | {'as set' if kept else 'unset'} | {res['core']} | ({m}, {k}, {d}) | "
                f"{lib:.3f} | {npy:.2f} | {npy / lib:.1f}x | {cell} | {lim_cells} |"
                + (f" {row['torch'] / lib:.1f}x |" if "torch" in row else ""))
    say("")
    for isa, kept, res in runs:
        if not kept:
            say(f"kernels on {isa}: product {res['peak']:.1f} Gmul-add/s "
                f"({'FMA' if res['fused'] else 'no FMA: a multiply and an add'}), "
                f"angle kernel {res['angle_ns']:.2f} ns/pair without kappa (the steps timed here), "
                f"{res['angle_kappa_ns']:.2f} with")
    (m, k, d), eta, warm, steps, _, reps = SIZES[-1]
    if args.quick:
        steps, reps = 2, 3
    env = {k2: v for k2, v in os.environ.items() if k2 not in BLAS_VARS}
    best = next(res for _, kept, res in runs if not kept)
    # the library's steps and the floor's products alternately in one
    # process (bench_step --vs-floor), the same warmed-up state as the table's
    fl = subprocess.run([os.path.join(BUILD, "bench_step"), str(m), str(k), str(d), "--vs-floor",
                         "--eta", str(eta), "--warm", str(warm), "--steps", str(steps),
                         "--repeats", str(max(reps, 7))],
                        env=dict(env, TSRELU_ISA=best["isa"]), check=True, capture_output=True,
                        text=True).stdout.split()
    lib, floor, ratio, q1, q3 = float(fl[1]), float(fl[7]), float(fl[9]), float(fl[11]), float(fl[12])
    say(f"BLAS floor at ({m}, {k}, {d}), OpenBLAS env unset, interleaved with the library's steps: "
        f"{floor:.1f} µs/step for the two dgemm products alone, libtsrelu ({best['isa']}) {lib:.1f}; "
        f"libtsrelu/floor = {ratio:.2f} (quartiles {q1:.2f}..{q3:.2f}; target ≤ 1.15: "
        f"{'met' if ratio <= 1.15 else 'NOT met'})")
    nruns, bsteps = (64, 300) if args.quick else (64, 3000)
    benv = dict(env, OPENBLAS_NUM_THREADS="1")
    for (m, k, d) in ((6, 2, 8), (20, 4, 16)):
        def bb(th):
            return float(subprocess.run([os.path.join(BUILD, "bench_batch"), str(nruns), str(m), str(k), str(d),
                                         str(bsteps), str(th)], check=True, capture_output=True, text=True,
                                        env=benv).stdout.split()[1])
        t1 = statistics.median(bb(1) for _ in range(3))
        t2 = statistics.median(bb(2) for _ in range(3))
        say(f"batch ({best['isa']}): {nruns} runs of {bsteps} steps at ({m}, {k}, {d}): "
            f"1 thread {nruns / t1:.0f} runs/s, 2 threads {nruns / t2:.0f} runs/s (scaling {t1 / t2:.2f}x)")
    # Gradient flow (CVODE) against GD from the Figure-1 initialisation, one
    # core: flow time 1e6 = 1e7 GD steps at eta = 0.1, GD timed on fewer
    # steps and extrapolated linearly (bench/bench_flow.c).
    gsteps = 20000 if args.quick else 1000000
    out = subprocess.run([os.path.join(BUILD, "bench_flow"), "--gd-steps", str(gsteps),
                          "--t-end", "1e6" if args.quick else "1e10"],
                         check=True, capture_output=True, text=True, env=benv).stdout
    vals = {ln.split()[0]: float(ln.split()[1]) for ln in out.splitlines()
            if ln.split() and ln.split()[0] in ("flow_seconds_1e6", "gd_seconds_1e7", "speedup_1e6")}
    say(f"gradient flow (OPENBLAS_NUM_THREADS=1), Figure-1 init to t = 1e6: flow {vals['flow_seconds_1e6']:.3f} s, "
        f"GD 1e7 steps {vals['gd_seconds_1e7']:.1f} s (from {gsteps} steps), ratio {vals['speedup_1e6']:.0f}x "
        f"(target ≥ 100: {'met' if vals['speedup_1e6'] >= 100 else 'NOT met'})")
    for ln in out.splitlines():
        if ln.startswith(("t ", "to t=", "statistics", "flow_seconds_end")):
            say("    " + ln)
    end = next(float(ln.split()[1]) for ln in out.splitlines() if ln.startswith("flow_seconds_end"))
    if not args.quick:
        say(f"gradient flow to t = 1e10 (quad gradient): {end:.1f} s (target < 60 s: "
            f"{'met' if end < 60 else 'NOT met'})")
    # Second order: dense Hessian against the finite-difference Hessian from
    # our own gradient, and one Hessian-vector product against one gradient
    # (bench_hessian interleaves the four timings and reports medians).
    hreps = "5" if args.quick else "21"
    h = subprocess.run([os.path.join(BUILD, "bench_hessian"), "20", "4", "16", "--repeats", hreps],
                       check=True, capture_output=True, text=True).stdout.split()
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

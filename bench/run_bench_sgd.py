#!/usr/bin/python3
"""make bench (sampled training): microseconds per online SGD step at
B = 512 for the paper's Figure-1 sizes, libtsrelu against peers doing the
same step, and the memory a step uses.

usage: /usr/bin/python3 bench/run_bench_sgd.py [--quick] [--out FILE]

The step: B fresh Gaussian inputs, labels from the teacher, the empirical
loss 1/(2B) sum (f - f*)^2 and its gradient in W, W <- W - eta gW, float64.
Peers:
  numpy   the forward and backward by hand (two matmuls and a masked one)
  torch   PyTorch float64, gradient by autograd (torch_peer.monte_carlo_stepper
          with B samples; skipped when python3-torch is not installed)
OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 for all (set here).
Timings are interleaved (lib, numpy, torch, lib, ...) so that the load of a
shared machine falls on all of them alike; the ratios are of the medians.
"""
import argparse
import os

# One BLAS thread everywhere (libtsrelu, numpy, torch): these products are
# small, and on a shared 2-core machine a second BLAS thread only competes.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build")
sys.path.insert(0, os.path.join(HERE, "peers"))
try:
    import torch_peer  # noqa: E402
except ImportError as exc:
    torch_peer = None
    TORCH_WHY = str(exc)

# Figure 1 of the paper: k = 2 with m = 20, k = 4 with m in {12, 20, 40}; d = 16
SIZES = [(20, 2, 16), (12, 4, 16), (20, 4, 16), (40, 4, 16)]
B, ETA = 512, 0.1


def lib_step_us(m, k, d, steps, warm):
    out = subprocess.run([os.path.join(BUILD, "bench_sgd"), str(m), str(k), str(d), "--batch", str(B),
                          "--eta", repr(ETA), "--warm", str(warm), "--steps", str(steps), "--repeats", "1"],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[1]), int(out[7]), int(out[9])


def numpy_stepper(V, eta, rng):
    def step(W):
        X = rng.standard_normal((B, W.shape[1]))
        Z = X @ W.T
        r = np.maximum(Z, 0.0).sum(axis=1) - np.maximum(X @ V.T, 0.0).sum(axis=1)
        gW = ((Z > 0) * (r / B)[:, None]).T @ X
        return W - eta * gW
    return step


def per_step_us(step, W, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        W = step(W)
    return (time.perf_counter() - t0) / steps * 1e6, W


def numpy_bytes_per_step(step, W):
    tracemalloc.start()
    step(W)
    tracemalloc.reset_peak()
    step(W)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "sgd.md"))
    args = ap.parse_args()
    reps, steps, warm = (3, 50, 50) if args.quick else (11, 400, 200)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    lines = []

    def say(s=""):
        print(s, flush=True)
        lines.append(s)

    load = os.getloadavg()
    say(f"online SGD step at B = {B}, eta = {ETA}, float64; {reps} interleaved repeats of {steps} steps; "
        f"load average {load[0]:.2f} (a shared machine: medians, ratios of medians)")
    say("torch: " + (f"{torch_peer.torch.__version__}, {torch_peer.torch.get_num_threads()} threads"
                     if torch_peer else f"skipped ({TORCH_WHY})") + f"; numpy {np.__version__}")
    say("")
    say("| (m, k, d) | libtsrelu µs | numpy µs | numpy/lib | torch µs | torch/lib | lib sampler bytes "
        "| lib RSS growth KiB | numpy bytes/step |")
    say("|---|---|---|---|---|---|---|---|---|")
    for m, k, d in SIZES:
        rng = np.random.default_rng(1)
        V = np.linalg.qr(rng.standard_normal((d, k)))[0].T.copy()
        W0 = 1e-3 * rng.standard_normal((m, d))
        nstep = numpy_stepper(V, ETA, rng)
        tstep = torch_peer.monte_carlo_stepper(V, ETA, B) if torch_peer else None
        Wn, Wt = W0.copy(), (torch_peer.to_tensor(W0) if torch_peer else None)
        _, Wn = per_step_us(nstep, Wn, warm)
        if tstep:
            _, Wt = per_step_us(tstep, Wt, warm)
        lib, npy, tor = [], [], []
        for _ in range(reps):
            us, sbytes, rss = lib_step_us(m, k, d, steps, warm)
            lib.append(us)
            us, Wn = per_step_us(nstep, Wn, steps)
            npy.append(us)
            if tstep:
                us, Wt = per_step_us(tstep, Wt, steps)
                tor.append(us)
        L, N = statistics.median(lib), statistics.median(npy)
        T = statistics.median(tor) if tor else None
        nb = numpy_bytes_per_step(nstep, Wn)
        say(f"| ({m}, {k}, {d}) | {L:.1f} | {N:.1f} | {N / L:.2f}x | "
            + (f"{T:.1f} | {T / L:.2f}x" if T else "— | —")
            + f" | {sbytes} | {rss} | {nb} |")
    say("")
    say("lib sampler bytes: allocated once by tsrelu_gd_set_sampling; a step allocates nothing "
        "(tests/integration/test_noalloc.c). numpy bytes/step: peak of the temporaries of one step "
        "(tracemalloc), allocated and freed every step.")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\nresults written to {os.path.relpath(args.out, ROOT)}")


if __name__ == "__main__":
    main()

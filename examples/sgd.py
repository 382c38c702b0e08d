#!/usr/bin/python3
"""sgd.py — sampled training beside exact GD with the Python binding `tsrelu`
(the Python counterpart of examples/sgd.c; docs/sgd.md).

The paper's k = 2, m = 20, d = 16 configuration (orthogonal unit teachers,
seed 1; students N(0, sigma^2 I), sigma = 1e-6, seed 2), eta = 0.1, from one
initialisation:

  * exact GD on the closed-form population gradient;
  * online SGD, each step on B = 512 fresh Gaussian inputs (seed 3);
  * full-batch GD on a finite training set of n = 64 inputs generated from
    seed 4 (fewer inputs than the 320 weights);
  * minibatch SGD (B = 32, seed 6) on a training set of n = 1024 inputs the
    caller gives: here the rows of a Gaussian student (sigma = 1, seed 5),
    so that bindings/julia/examples/sgd.jl can give the same inputs; any
    n x d array will do.

At log-spaced T it prints the exact (quad-precision) population loss of
every iterate, and for the two finite sets also the training loss (the
empirical loss over the whole set). Everything the run reads is exact
(docs/sgd.md section 2); only the step uses samples.

Run from the repository root after `make all`:
    /usr/bin/python3 examples/sgd.py           30000 steps
    /usr/bin/python3 examples/sgd.py --quick   3000 steps (used by `make check`)
"""
import math
import os
import sys

# Prefer the binding of this source tree when run from a checkout.
_tree = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python")
if os.path.isfile(os.path.join(_tree, "tsrelu", "__init__.py")):
    sys.path.insert(0, os.path.abspath(_tree))

import tsrelu  # noqa: E402


def main(argv):
    quick = "--quick" in argv
    steps = 3000 if quick else 30000
    k, m, d, eta = 2, 20, 16, 0.1

    teacher = tsrelu.Teacher.orthogonal(k=k, d=d, norm=1.0, seed=1)
    student = tsrelu.Student.gaussian(m=m, d=d, sigma=1e-6, seed=2)
    exact = tsrelu.GD(teacher, student, eta=eta)  # each GD copies the start
    online = tsrelu.GD(teacher, student, eta=eta)
    online.set_sampling(512, seed=3)
    small = tsrelu.GD(teacher, student, eta=eta)
    small.set_sampling(64, n_train=64, seed=4)  # full batch on 64 generated inputs
    given = tsrelu.GD(teacher, student, eta=eta)
    X = tsrelu.Student.gaussian(m=1024, d=d, sigma=1.0, seed=5).W  # any (n, d) float array
    given.set_sampling(32, seed=6, X=X)  # minibatches of 32 from the caller's 1024 inputs
    runs = (exact, online, small, given)

    print("libtsrelu %s: k=%d m=%d d=%d sigma=1e-6 eta=%g" % (tsrelu.version(), k, m, d, eta))
    print("L: population loss (quad precision); L_train: loss over the training set")
    print("%7s %11s %11s %6s %11s | %11s %11s | %11s %11s"
          % ("T", "L exact", "L SGD B512", "ratio", "samples", "n=64 train", "n=64 L",
             "n=1024 tr.", "n=1024 L"))
    last = None
    for j in range(0, 4 * 10):
        T = math.ceil(10 ** (j / 4))
        if T > steps:
            break
        for g in runs:
            g.run(T - g.iteration)
        L = [g.loss_accurate() for g in runs]
        train = [small.training_loss(), given.training_loss()]
        print("%7d %11.4e %11.4e %6.2f %11.4e | %11.4e %11.4e | %11.4e %11.4e"
              % (T, L[0], L[1], L[1] / L[0], T * 512.0, train[0], L[2], train[1], L[3]))
        last = (L, train)
        if not all(math.isfinite(x) for x in L + train):
            print("sgd.py: a loss is not finite", file=sys.stderr)
            return 1
    L, train = last
    # What docs/sgd.md measured for this configuration: the B = 512 run
    # stays within 0.97-1.33 of the exact loss; allow a wide margin.
    if not 0.5 < L[1] / L[0] < 2.0:
        print("sgd.py: SGD/exact ratio %.3f at the end, outside [0.5, 2]" % (L[1] / L[0]),
              file=sys.stderr)
        return 1
    print("sampling: exact %s, online %s, n=64 %s, n=1024 %s (batch, n_train)"
          % tuple(g.sampling for g in runs))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except tsrelu.Error as e:
        print("sgd.py: %s" % e, file=sys.stderr)
        sys.exit(1)

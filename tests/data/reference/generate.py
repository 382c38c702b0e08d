#!/usr/bin/python3
"""High-precision reference data for libtsrelu (tests/unit/check_reference.c).

Run from the repository root, after `make all` (the late-phase part drives
lib/libtsrelu.so through ctypes):

    /usr/bin/python3 tests/data/reference/generate.py [--jobs N] [--lib PATH]

Needs: Python 3 with mpmath (Debian: python3-mpmath) and the built shared
library. numpy is not used. Takes a few minutes on two cores. Writes

    tests/data/reference/configs.txt   random and degenerate configurations
    tests/data/reference/subnormal.txt tiny and subnormal rows (own seed)
    tests/data/reference/late_gd.txt   late iterates of a GD run of the library
    tests/data/reference/hessian.txt   Hessians of a few small networks (own seed)

(--only configs|subnormal|late_gd|hessian rewrites just that file.)

`make check` only reads these files; it never needs mpmath. The format and
the classes are described in tests/data/reference/README.md.

The reference values come straight from the closed forms, evaluated in
mpmath at --dps digits (default 80) from the exact input doubles, and are
recomputed at dps + 40 digits: a value is written only if both agree far
below the test bounds. None of the library's own formulas (split form,
kappa series, angle switch) is used here:

    g(u, v)  = |u||v| / (2 pi) (sin t + (pi - t) cos t),  t = angle(u, v),
               t = 2 atan2(|u^ - v^|, |u^ + v^|);  g = 0 if u or v is 0
    L        = 1/2 sum_{n,n'} c_n c_n' g(u_n, u_n'),    U = [W; V], c = [a; -b]
    dL/dw_i  = a_i sum_n c_n [(pi - t_in)/(2 pi) u_n + |u_n| sin t_in/(2 pi) w_i^]
               (row 0 for a zero student)
    dL/da_i  = sum_n c_n g(w_i, u_n)
"""

import argparse
import ctypes
import math
import multiprocessing
import os
import random
import sys
import time

import mpmath
from mpmath import mp, mpf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SEED = 20261129

# ---------------------------------------------------------------- reference


def _reference_at(W, a, V, b, dps):
    """(L, gW rows, ga) at `dps` digits, as mpf."""
    with mp.workdps(dps):
        U = [[mpf(x) for x in row] for row in list(W) + list(V)]
        c = [mpf(x) for x in a] + [-mpf(x) for x in b]
        m, n = len(W), len(U)
        d = len(U[0])
        norm = [mp.sqrt(mpmath.fdot(u, u)) for u in U]
        unit = [[x / nu for x in u] if nu != 0 else None for u, nu in zip(U, norm)]
        pi = mp.pi
        inv2pi = 1 / (2 * pi)
        theta = [[None] * n for _ in range(n)]
        for p in range(n):
            if unit[p] is None:
                continue
            theta[p][p] = mpf(0)
            for q in range(p + 1, n):
                if unit[q] is None:
                    continue
                dm = mpmath.fsum((x - y) ** 2 for x, y in zip(unit[p], unit[q]))
                dp = mpmath.fsum((x + y) ** 2 for x, y in zip(unit[p], unit[q]))
                t = 2 * mp.atan2(mp.sqrt(dm), mp.sqrt(dp))
                theta[p][q] = theta[q][p] = t

        def g(p, q):
            t = theta[p][q]
            if t is None:
                return mpf(0)
            return norm[p] * norm[q] * inv2pi * (mp.sin(t) + (pi - t) * mp.cos(t))

        G = [[g(p, q) for q in range(n)] for p in range(n)]
        L = mpmath.fsum(c[p] * c[q] * G[p][q] for p in range(n) for q in range(n)) / 2
        ga = [mpmath.fsum(c[q] * G[i][q] for q in range(n)) for i in range(m)]
        gW = []
        for i in range(m):
            if unit[i] is None:
                gW.append([mpf(0)] * d)
                continue
            coef = [a_i_c * (pi - theta[i][q]) * inv2pi if theta[i][q] is not None else mpf(0)
                    for q, a_i_c in ((q, mpf(a[i]) * c[q]) for q in range(n))]
            rad = mpf(a[i]) * inv2pi * mpmath.fsum(
                c[q] * norm[q] * mp.sin(theta[i][q]) for q in range(n) if theta[i][q] is not None)
            row = []
            for col in range(d):
                row.append(mpmath.fdot(coef, [U[q][col] for q in range(n)]) + rad * unit[i][col])
            gW.append(row)
        return L, gW, ga


def scales(W, a, V, b):
    """S (gradient), S_a,i (per row, dL/da) and S_L (loss), as mpf."""
    with mp.workdps(40):
        U = list(W) + list(V)
        c = list(a) + [-x for x in b]
        norm = [mp.sqrt(mpmath.fdot([mpf(x) for x in u], [mpf(x) for x in u])) for u in U]
        tot = mpmath.fsum(abs(mpf(ci)) * nu for ci, nu in zip(c, norm))
        S = max(abs(mpf(x)) for x in a) * tot
        Sa = [norm[i] * tot for i in range(len(W))]
        return S, Sa, tot * tot


def reference(cfg, dps):
    """Reference values, checked against a recomputation at dps + 40."""
    W, a, V, b = cfg["W"], cfg["a"], cfg["V"], cfg["b"]
    L1, gW1, ga1 = _reference_at(W, a, V, b, dps)
    L2, gW2, ga2 = _reference_at(W, a, V, b, dps + 40)
    S, Sa, SL = scales(W, a, V, b)
    with mp.workdps(dps + 40):
        tol = mpf(10) ** (-(dps - 20))
        bad = []
        if abs(L1 - L2) > tol * SL or (L2 != 0 and abs(L1 - L2) > mpf(10) ** -30 * abs(L2)
                                         and abs(L2) > tol * SL):
            bad.append("loss")
        for i in range(len(W)):
            if abs(ga1[i] - ga2[i]) > tol * max(Sa[i], mpf(10) ** -300):
                bad.append("ga[%d]" % i)
            for x, y in zip(gW1[i], gW2[i]):
                if abs(x - y) > tol * S:
                    bad.append("gW[%d]" % i)
                    break
        if bad:
            raise RuntimeError("%s: reference unstable in %s" % (cfg["name"], ", ".join(bad)))

        # A loss at the level of the working precision is an exact zero.
        L = mpf(0) if abs(L2) <= tol * SL else L2
        gW, ga = gW2, ga2
        ratio = float(L / SL) if SL != 0 else 0.0
        return L, gW, ga, ratio


def fmt_ref(x):
    return mp.nstr(x, 20, min_fixed=0, max_fixed=0)


def fmt_in(x):
    return float.hex(float(x))


def render(cfg, ref):
    L, gW, ga, _ = ref
    m, k, d = len(cfg["W"]), len(cfg["V"]), len(cfg["V"][0])
    out = ["config %s %s %d %d %d" % (cfg["name"], cfg["cls"], m, k, d)]
    out.append("W")
    out.extend(" ".join(fmt_in(x) for x in row) for row in cfg["W"])
    out.append("a " + " ".join(fmt_in(x) for x in cfg["a"]))
    out.append("V")
    out.extend(" ".join(fmt_in(x) for x in row) for row in cfg["V"])
    out.append("b " + " ".join(fmt_in(x) for x in cfg["b"]))
    with mp.workdps(60):
        out.append("loss " + fmt_ref(L))
        out.append("gW")
        out.extend(" ".join(fmt_ref(x) for x in row) for row in gW)
        out.append("ga " + " ".join(fmt_ref(x) for x in ga))
    out.append("end")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- building blocks


def gvec(rng, d, scale=1.0):
    while True:
        v = [rng.gauss(0.0, 1.0) * scale for _ in range(d)]
        if any(x != 0.0 for x in v):
            return v


def nrm(v):
    return math.sqrt(math.fsum(x * x for x in v))


def with_norm(rng, d, norm):
    """A random direction with Euclidean norm `norm`, rounded to doubles."""
    with mp.workdps(50):
        v = [mpf(x) for x in gvec(rng, d)]
        s = mpf(norm) / mp.sqrt(mpmath.fdot(v, v))
        return [float(x * s) for x in v]


def rotate(rng, u, delta, norm=None, sign=1):
    """sign * (a vector at angle `delta` from u), of norm `norm` (|u| if None),
    computed at 50 digits and rounded to doubles. d >= 2."""
    d = len(u)
    with mp.workdps(50):
        uu = [mpf(x) for x in u]
        nu = mp.sqrt(mpmath.fdot(uu, uu))
        p = [x / nu for x in uu]
        while True:
            e = [mpf(x) for x in gvec(rng, d)]
            proj = mpmath.fdot(e, p)
            e = [x - proj * y for x, y in zip(e, p)]
            ne = mp.sqrt(mpmath.fdot(e, e))
            if ne > mpf(10) ** -3:
                break
        e = [x / ne for x in e]
        r = nu if norm is None else mpf(norm)
        dl = mpf(delta)
        return [float(sign * r * (mp.cos(dl) * x + mp.sin(dl) * y)) for x, y in zip(p, e)]


def out_weights(rng, n, kind):
    if kind == "ones":
        return [1.0] * n
    if kind == "pos":
        return [rng.uniform(0.25, 3.0) for _ in range(n)]
    return [rng.gauss(0.0, 1.5) or 0.5 for _ in range(n)]


def cfg(name, cls, W, a, V, b):
    return {"name": name, "cls": cls, "W": [list(map(float, r)) for r in W],
            "a": list(map(float, a)), "V": [list(map(float, r)) for r in V],
            "b": list(map(float, b))}


def random_net(rng, m, k, d, kind_a="ones", kind_b="ones", spread=1.0):
    """Gaussian rows with per-neuron scales 10^U(-spread, spread)."""
    W = [gvec(rng, d, 10 ** rng.uniform(-spread, spread)) for _ in range(m)]
    V = [gvec(rng, d, 10 ** rng.uniform(-spread, spread)) for _ in range(k)]
    return W, out_weights(rng, m, kind_a), V, out_weights(rng, k, kind_b)


# ---------------------------------------------------------------- classes


def class_random(rng):
    shapes = [(1, 1, 1), (1, 1, 2), (2, 1, 1), (1, 2, 1), (3, 2, 1), (1, 1, 5), (1, 3, 4),
              (2, 2, 2), (3, 1, 3), (4, 2, 8), (5, 3, 10), (8, 2, 16), (10, 4, 20),
              (13, 5, 30), (20, 4, 40), (6, 6, 6), (3, 5, 12), (16, 1, 4), (2, 8, 24),
              (25, 3, 3)]
    kinds = [("ones", "ones", 0.0), ("ones", "ones", 1.0), ("pos", "pos", 1.0),
             ("signed", "pos", 1.0), ("signed", "signed", 2.0)]
    out = []
    for (m, k, d) in shapes:
        for j, (ka, kb, spread) in enumerate(kinds):
            W, a, V, b = random_net(rng, m, k, d, ka, kb, spread)
            out.append(cfg("rand-m%d-k%d-d%d-%d" % (m, k, d, j), "random", W, a, V, b))
    return out


NEAR = [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14]


def class_near(rng):
    out = []
    for (m, k, d) in [(2, 1, 3), (3, 2, 8), (4, 3, 30)]:
        for delta in NEAR:
            for target in ("teacher", "student"):
                kind = "ones" if d != 8 else "signed"
                W, a, V, b = random_net(rng, m, k, d, kind, "pos" if d == 30 else "ones")
                if target == "teacher":
                    W[0] = rotate(rng, V[-1], delta, norm=nrm(V[-1]) * rng.uniform(0.2, 1.5))
                else:
                    W[0] = rotate(rng, W[1], delta, norm=nrm(W[1]) * rng.uniform(0.2, 1.5))
                out.append(cfg("near-%s-%.0e-m%d-k%d-d%d" % (target, delta, m, k, d),
                               "near-aligned", W, a, V, b))
    # Every student close to some teacher, several per teacher (GD-like, but
    # without the balanced vector sum of the late phase).
    for delta in [1e-4, 1e-8, 1e-12]:
        for (m, k, d) in [(4, 2, 6), (6, 3, 10)]:
            W, a, V, b = random_net(rng, m, k, d)
            W = [rotate(rng, V[i % k], delta * rng.uniform(0.5, 2.0),
                        norm=nrm(V[i % k]) * rng.uniform(0.1, 0.6)) for i in range(m)]
            out.append(cfg("near-all-%.0e-m%d-k%d-d%d" % (delta, m, k, d), "near-aligned",
                           W, a, V, b))
    return out


def dyadic(rng, d):
    """A vector of small dyadic rationals: integer multiples stay exact."""
    while True:
        v = [rng.randint(-64, 64) / 16.0 for _ in range(d)]
        if any(v):
            return v


def class_parallel(rng):
    out = []
    for e in [-3, -1, 0, 1, 4]:
        W, a, V, b = random_net(rng, 3, 2, 5, "pos", "ones")
        W[0] = [x * 2.0 ** e for x in V[0]]
        out.append(cfg("par-teacher-2e%d" % e, "parallel", W, a, V, b))
    for e in [-2, 0, 3]:
        W, a, V, b = random_net(rng, 4, 2, 7, "signed", "pos")
        W[2] = [x * 2.0 ** e for x in W[1]]
        out.append(cfg("par-student-2e%d" % e, "parallel", W, a, V, b))
    for mult in [3, 5, 7, 0.375]:
        d = 6
        V = [dyadic(rng, d), dyadic(rng, d)]
        W = [[x * mult for x in V[0]], dyadic(rng, d), [x * (mult + 1) for x in V[1]]]
        out.append(cfg("par-dyadic-x%g" % mult, "parallel", W, [1.0, 0.5, -1.0], V, [1.0, 2.0]))
    # Exact zero-loss points: each teacher split into exactly parallel parts.
    for (k, parts, d) in [(1, 1, 3), (1, 2, 4), (1, 4, 4), (2, 2, 5), (3, 2, 8)]:
        V = [gvec(rng, d) for _ in range(k)]
        W = []
        for v in V:
            W.extend([[x / parts for x in v] for _ in range(parts)])  # parts: powers of 2
        out.append(cfg("par-zero-loss-k%d-p%d" % (k, parts), "parallel", W, [1.0] * len(W),
                       V, [1.0] * k))
    # Unequal exact split v = 1/4 v + 3/4 v, and two parallel teachers.
    v = gvec(rng, 5)
    out.append(cfg("par-zero-loss-1-3", "parallel", [[x / 4 for x in v], [x * 0.75 for x in v]],
                   [1.0, 1.0], [v], [1.0]))
    V = [gvec(rng, 4)]
    V.append([x * 2.0 for x in V[0]])
    W, a, _, _ = random_net(rng, 3, 2, 4)
    out.append(cfg("par-teachers", "parallel", W, a, V, [1.0, -0.5]))
    return out


def class_anti(rng):
    out = []
    for e in [-2, 0, 2]:
        W, a, V, b = random_net(rng, 3, 2, 5)
        W[0] = [-x * 2.0 ** e for x in V[1]]
        out.append(cfg("anti-exact-teacher-2e%d" % e, "anti-aligned", W, a, V, b))
    for e in [0, 1]:
        W, a, V, b = random_net(rng, 3, 1, 4, "signed", "ones")
        W[2] = [-x * 2.0 ** e for x in W[0]]
        out.append(cfg("anti-exact-student-2e%d" % e, "anti-aligned", W, a, V, b))
    for delta in [1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14]:
        for target, (m, k, d) in (("teacher", (2, 2, 4)), ("student", (3, 1, 9))):
            W, a, V, b = random_net(rng, m, k, d, "pos" if target == "student" else "ones")
            ref = V[0] if target == "teacher" else W[1]
            W[0] = rotate(rng, ref, delta, norm=nrm(ref) * rng.uniform(0.3, 2.0), sign=-1)
            out.append(cfg("anti-%s-%.0e" % (target, delta), "anti-aligned", W, a, V, b))
    # Opposite teachers, and a student anti-aligned to all of a d = 1 network.
    V = [gvec(rng, 3)]
    V.append([-x for x in V[0]])
    W, a, _, _ = random_net(rng, 2, 2, 3)
    W[1] = rotate(rng, V[0], 1e-9)
    out.append(cfg("anti-teachers", "anti-aligned", W, a, V, [1.0, 1.0]))
    out.append(cfg("anti-d1", "anti-aligned", [[-1.5], [2.0], [-0.25]], [1.0, 1.0, 2.0],
                   [[1.0], [-3.0]], [1.0, 0.5]))
    return out


def class_zero(rng):
    out = []
    specs = [(3, 2, 4, [1]), (3, 1, 5, [0, 2]), (2, 2, 3, [0, 1]), (1, 1, 6, [0]),
             (4, 2, 1, [3]), (5, 3, 8, [0, 4]), (6, 2, 10, [1, 2, 3])]
    for j, (m, k, d, zeros) in enumerate(specs):
        for kind in ("ones", "signed"):
            W, a, V, b = random_net(rng, m, k, d, kind, "pos")
            for i in zeros:
                W[i] = [0.0] * d
            if j % 3 == 0:
                W[zeros[0]][0] = -0.0
            out.append(cfg("zero-m%d-k%d-d%d-%s" % (m, k, d, kind), "zero", W, a, V, b))
    # Zero students next to nearly aligned ones.
    W, a, V, b = random_net(rng, 3, 1, 4)
    W[0] = [0.0] * 4
    W[1] = rotate(rng, V[0], 1e-10)
    out.append(cfg("zero-near", "zero", W, a, V, b))
    return out


def class_duplicated(rng):
    out = []
    for j, (m, k, d, kind) in enumerate([(2, 1, 3, "ones"), (3, 2, 5, "signed"),
                                         (4, 2, 8, "pos"), (5, 1, 4, "ones"),
                                         (3, 3, 1, "signed")]):
        W, a, V, b = random_net(rng, m, k, d, kind, "ones")
        W[1] = list(W[0])
        if m >= 4:
            W[3] = list(W[0])
        out.append(cfg("dup-students-%d" % j, "duplicated", W, a, V, b))
        W2 = [list(r) for r in W]
        a2 = list(a)
        a2[1] = -a2[0]  # duplicates whose outputs cancel
        out.append(cfg("dup-cancel-%d" % j, "duplicated", W2, a2, V, b))
    for j, (m, k, d) in enumerate([(2, 1, 4), (3, 2, 6), (4, 2, 3)]):
        W, a, V, b = random_net(rng, m, k, d)
        W[0] = list(V[0])
        if m >= 3:
            W[2] = list(V[-1])
        out.append(cfg("dup-teacher-%d" % j, "duplicated", W, a, V, b))
    V = [gvec(rng, 5)]
    V.append(list(V[0]))
    W, a, _, _ = random_net(rng, 3, 2, 5)
    out.append(cfg("dup-teachers", "duplicated", W, a, V, [1.0, 1.0]))
    return out


def class_extreme(rng):
    out = []

    def net(m, k, d, wnorms, vnorms, kind="ones"):
        W = [with_norm(rng, d, s * rng.uniform(0.5, 2.0)) for s in wnorms]
        V = [with_norm(rng, d, s * rng.uniform(0.5, 2.0)) for s in vnorms]
        return W, out_weights(rng, m, kind), V, out_weights(rng, k, "pos" if kind != "ones" else "ones")

    for s in (1e-150, 1e150):
        for (m, k, d, kind) in [(3, 2, 5, "ones"), (2, 1, 3, "signed"), (4, 1, 1, "ones"),
                                (3, 2, 16, "pos")]:
            W, a, V, b = net(m, k, d, [s] * m, [s] * k, kind)
            out.append(cfg("ext-all-%.0e-m%d-k%d-d%d" % (s, m, k, d), "extreme", W, a, V, b))
        W, a, V, b = net(3, 1, 4, [s] * 3, [s])
        W[0] = rotate(rng, V[0], 1e-9)
        W[1] = rotate(rng, V[0], 1e-5, sign=-1)
        out.append(cfg("ext-near-%.0e" % s, "extreme", W, a, V, b))
        v = with_norm(rng, 4, s)
        out.append(cfg("ext-zero-loss-%.0e" % s, "extreme", [[x / 2 for x in v]] * 2,
                       [1.0, 1.0], [v], [1.0]))
    mixes = [("students-tiny", [1e-150] * 3, [1.0]),
             ("students-huge", [1e150] * 2, [1.0, 1.0]),
             ("teacher-huge", [1e-150, 1.0, 1e150], [1e150]),
             ("teacher-tiny", [1.0, 1e-150], [1e-150, 1.0]),
             ("mixed", [1e-150, 1e150, 1.0, 1e-150], [1e150, 1e-150]),
             ("mixed2", [1e150, 1e-150], [1e150, 1e150, 1e-150])]
    for name, wn, vn in mixes:
        for kind in ("ones", "signed"):
            W, a, V, b = net(len(wn), len(vn), 6, wn, vn, kind)
            out.append(cfg("ext-%s-%s" % (name, kind), "extreme", W, a, V, b))
    # Components of very different magnitudes inside one vector.
    W = [[1e150, 1e-150, -3.0], [1e-150, -2e-150, 5e-151], [-1.0, 1e150, 1e-150]]
    V = [[2e150, 1.0, 1e150], [1e-150, 3e-150, -1e-150]]
    out.append(cfg("ext-components", "extreme", W, [1.0, 1.0, -2.0], V, [1.0, 0.5]))
    return out


def class_large_d(rng):
    out = []
    d = 4096
    W, a, V, b = random_net(rng, 2, 1, d)
    W[0] = rotate(rng, V[0], 1e-8, norm=0.5 * nrm(V[0]))
    out.append(cfg("large-d4096-near", "large-d", W, a, V, b))
    W, a, V, b = random_net(rng, 3, 2, 2048, "signed", "pos")
    out.append(cfg("large-d2048-random", "large-d", W, a, V, b))
    d = 1024
    V = [with_norm(rng, d, 1.0), with_norm(rng, d, 2.0)]
    W = [rotate(rng, V[0], 3e-7, norm=0.5), rotate(rng, V[0], 1e-6, norm=0.5),
         rotate(rng, V[1], 2e-7, norm=1.0), rotate(rng, V[1], 5e-7, norm=1.0)]
    out.append(cfg("large-d1024-late", "large-d", W, [1.0] * 4, V, [1.0, 1.0]))
    W, a, V, b = random_net(rng, 2, 2, d)
    W[0] = [0.0] * d
    W[1] = rotate(rng, V[1], 1e-10, sign=-1)
    out.append(cfg("large-d1024-zero-anti", "large-d", W, a, V, b))
    return out


def late_net(rng, k, sizes, d, delta, vnorms, bs, resid=0.0):
    """Teachers with orthogonal directions; teacher l is split among sizes[l]
    students of uneven norms whose directions are within ~delta of it and whose
    tangential parts cancel, so that sum_{i in group} a_i w_i = b_l v_l (up to
    rounding): the quadratic part of the loss vanishes and what remains is the
    cubic kappa part, as in the late phase of GD. `resid` adds a relative
    residual along one student."""
    with mp.workdps(50):
        dirs = []
        while len(dirs) < k:
            e = [mpf(x) for x in gvec(rng, d)]
            for q in dirs:
                pr = mpmath.fdot(e, q)
                e = [x - pr * y for x, y in zip(e, q)]
            ne = mp.sqrt(mpmath.fdot(e, e))
            if ne > mpf(10) ** -3:
                dirs.append([x / ne for x in e])
        V = [[float(vn * x) for x in q] for vn, q in zip(vnorms, dirs)]
        W = []
        for l in range(k):
            vl = [mpf(x) for x in V[l]]
            nv = mp.sqrt(mpmath.fdot(vl, vl))
            vh = [x / nv for x in vl]
            ml = sizes[l]
            rho = [mpf(rng.uniform(0.5, 1.5)) for _ in range(ml)]
            srho = mpmath.fsum(rho)
            rho = [r * ml / srho for r in rho]           # sum rho = m_l
            tang = []
            for _ in range(ml):
                t = [mpf(x) for x in gvec(rng, d)]
                pr = mpmath.fdot(t, vh)
                t = [x - pr * y for x, y in zip(t, vh)]
                nt = mp.sqrt(mpmath.fdot(t, t))
                s = mpf(delta) * mpf(rng.uniform(0.3, 1.0))
                tang.append([x * s / nt for x in t])
            mean = [mpmath.fsum(r * t[c] for r, t in zip(rho, tang)) / ml for c in range(d)]
            for r, t in zip(rho, tang):
                w = [bs[l] * nv * r / ml * (vh[c] + t[c] - mean[c]) for c in range(d)]
                W.append(w)
        if resid:
            e = [mpf(x) for x in gvec(rng, d)]
            ne = mp.sqrt(mpmath.fdot(e, e))
            W[0] = [x + mpf(resid) * mpf(vnorms[0]) * y / ne for x, y in zip(W[0], e)]
        W = [[float(x) for x in w] for w in W]
    return W, [1.0] * len(W), V, list(bs)


def class_late(rng):
    out = []
    setups = [(1, [2], 4), (1, [3], 8), (1, [4], 16), (2, [2, 3], 6), (3, [2, 2, 3], 8),
              (2, [4, 2], 16)]
    # delta = 10^-x gives L/S_L from about 1e-10 (x = 2.3) to 1e-24 (x = 7);
    # x = 7.3 and 8 fall below 1e-24, where only an absolute bound applies.
    exps = [2.3, 3.0, 4.0, 5.0, 6.0, 6.5, 7.0, 7.3, 8.0]
    for j, (k, sizes, d) in enumerate(setups):
        for x in exps:
            vn = [1.0] * k if j % 2 == 0 else [rng.uniform(0.3, 3.0) for _ in range(k)]
            bs = [1.0] * k if j != 4 else [rng.uniform(0.5, 2.0) for _ in range(k)]
            W, a, V, b = late_net(rng, k, sizes, d, 10 ** -x, vn, bs)
            out.append(cfg("late-k%d-m%d-d%d-1e-%g" % (k, sum(sizes), d, x), "late-phase",
                           W, a, V, b))
    # Tiny residual on top of the cubic part (radial and tangential error).
    for (x, res) in [(6.0, 1e-9), (8.0, 1e-12), (8.0, 1e-11), (5.0, 1e-6)]:
        W, a, V, b = late_net(rng, 2, [3, 2], 8, 10 ** -x, [1.0, 1.0], [1.0, 1.0], res)
        out.append(cfg("late-resid-1e-%g-%.0e" % (x, res), "late-phase", W, a, V, b))
    return out


# Subnormal and tiny rows live in their own file with their own seed, so that
# adding them left configs.txt as it was.
SEED_SUBNORMAL = 20261130
TINIEST = 2.0 ** -1074   # the smallest subnormal, 4.9e-324


def smallest_row(rng, d, count):
    """`count` entries of +-2^-1074 (at random places), the rest 0."""
    row = [0.0] * d
    for c in rng.sample(range(d), min(count, d)):
        row[c] = rng.choice((-TINIEST, TINIEST))
    return row


def class_subnormal(rng):
    """Rows of norm 1e-300 (1/|w| = 1e300), 1e-309 and 1e-320 (subnormal, so
    1/|w| overflows and |w| keeps few bits) and rows of smallest subnormals
    (norm 4.9e-324 or sqrt(n) times it), mixed with normal rows; tiny
    teachers; everything tiny. Inputs are the rounded doubles."""
    out = []
    tiny = [1e-309, "smallest", 1e-300, 1e-320]
    for j, (m, k, d, ka, kb) in enumerate([(4, 2, 5, "ones", "ones"), (5, 1, 3, "signed", "ones"),
                                            (6, 3, 8, "pos", "pos"), (3, 2, 1, "ones", "ones"),
                                            (5, 2, 16, "signed", "signed")]):
        W, a, V, b = random_net(rng, m, k, d, ka, kb)
        for i, nm in enumerate(tiny[:m - 1]):
            W[i + 1] = (smallest_row(rng, d, 1 + j % 3) if nm == "smallest"
                        else with_norm(rng, d, nm))
        out.append(cfg("sub-students-m%d-k%d-d%d" % (m, k, d), "subnormal", W, a, V, b))
    # One entry of 2^-1074: a norm that is exactly the smallest subnormal.
    W, a, V, b = random_net(rng, 3, 2, 4)
    W[0] = [0.0, TINIEST, 0.0, 0.0]
    out.append(cfg("sub-single-4.9e-324", "subnormal", W, a, V, b))
    # Tiny students nearly aligned and nearly opposite to a teacher.
    for delta in [1e-4, 1e-8]:
        for sign in (1, -1):
            W, a, V, b = random_net(rng, 3, 2, 6)
            W[0] = rotate(rng, V[0], delta, norm=1e-309, sign=sign)
            W[1] = rotate(rng, V[1], delta, norm=1e-300, sign=sign)
            out.append(cfg("sub-%s-%.0e" % ("near" if sign > 0 else "anti", delta), "subnormal",
                           W, a, V, b))
    # Tiny teachers next to a normal one, with a student aligned to each.
    for vn in [1e-300, 1e-309, 1e-320]:
        W, a, V, b = random_net(rng, 3, 2, 5, "signed", "pos")
        V[1] = with_norm(rng, 5, vn)
        W[2] = rotate(rng, V[1], 1e-6, norm=2.5)
        out.append(cfg("sub-teacher-%.0e" % vn, "subnormal", W, a, V, b))
    V = [smallest_row(rng, 4, 2), with_norm(rng, 4, 1.0)]
    W, a, _, _ = random_net(rng, 3, 2, 4)
    out.append(cfg("sub-teacher-smallest", "subnormal", W, a, V, [1.0, 1.0]))
    # Everything tiny: the loss underflows to 0, the gradient is subnormal.
    for j, (lo, hi) in enumerate([(1e-310, 1e-308), (1e-301, 1e-299)]):
        for kind in ("ones", "signed"):
            W, a, V, b = random_net(rng, 4, 2, 6, kind, "pos" if kind != "ones" else "ones")
            W = [with_norm(rng, 6, rng.uniform(lo, hi)) for _ in W]
            V = [with_norm(rng, 6, rng.uniform(lo, hi)) for _ in V]
            if j == 0:
                W[3] = smallest_row(rng, 6, 3)
            out.append(cfg("sub-all-%.0e-%s" % (hi, kind), "subnormal", W, a, V, b))
    # Subnormal components in rows of normal norm, and of subnormal norm.
    W = [[1.0, 1e-320, -3e-310, 2.5e-315], [1e-310, -2e-316, 7e-320, TINIEST],
         [-2.0, 1e-300, 0.5, -1e-309]]
    V = [[1.0, 2.0, 1e-315, 0.0], [3e-320, 1e-309, -4e-312, 1e-308]]
    out.append(cfg("sub-components", "subnormal", W, [1.0, -1.5, 1.0], V, [1.0, 0.5]))
    # A late-phase group with one student decayed to a subnormal norm.
    W, a, V, b = late_net(rng, 2, [3, 2], 8, 1e-6, [1.0, 1.0], [1.0, 1.0])
    W.append(rotate(rng, V[0], 1e-3, norm=1e-312))
    out.append(cfg("sub-late-dead-student", "subnormal", W, a + [1.0], V, b))
    return out


# ---------------------------------------------------------------- late GD iterates

GD = {"k": 1, "m": 3, "d": 4, "vnorm": 1.0, "tseed": 1, "sigma": 1e-3, "sseed": 2, "eta": 0.5}
GD_THRESH = [10 ** (-x / 2) for x in range(4, 13)]   # 1e-2 ... 1e-6, half decades
GD_CHUNK = 1000
GD_MAX = 20_000_000


def angle(u, v):
    nu, nv = nrm(u), nrm(v)
    p = [x / nu for x in u]
    q = [x / nv for x in v]
    dm = math.fsum((x - y) ** 2 for x, y in zip(p, q))
    dp = math.fsum((x + y) ** 2 for x, y in zip(p, q))
    return 2 * math.atan2(math.sqrt(dm), math.sqrt(dp))


def gd_iterates(libpath):
    """Run the library's GD and record the iterates at which the largest
    student-teacher angle first falls below each of GD_THRESH."""
    lib = ctypes.CDLL(libpath)
    P, S, D, U64 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_double, ctypes.c_uint64
    sig = {
        "tsrelu_teacher_create_orthogonal": [S, S, D, U64, ctypes.POINTER(P)],
        "tsrelu_student_create_gaussian": [S, S, D, U64, ctypes.POINTER(P)],
        "tsrelu_gd_create": [P, P, D, ctypes.POINTER(P)],
        "tsrelu_gd_run": [P, U64],
        "tsrelu_gd_student": [P],
        "tsrelu_student_weights": [P, ctypes.POINTER(D), S],
        "tsrelu_student_output_weights": [P, ctypes.POINTER(D), S],
        "tsrelu_teacher_weights": [P, ctypes.POINTER(D), S],
        "tsrelu_teacher_output_weights": [P, ctypes.POINTER(D), S],
        "tsrelu_gd_iteration": [P],
        "tsrelu_gd_free": [P], "tsrelu_teacher_free": [P], "tsrelu_student_free": [P],
    }
    for name, args in sig.items():
        getattr(lib, name).argtypes = args
        getattr(lib, name).restype = ctypes.c_int
    lib.tsrelu_gd_student.restype = P
    lib.tsrelu_gd_iteration.restype = U64
    lib.tsrelu_gd_free.restype = None
    lib.tsrelu_teacher_free.restype = None
    lib.tsrelu_student_free.restype = None

    def ok(st, what):
        if st < 0:
            raise RuntimeError("%s failed with status %d" % (what, st))

    k, m, d = GD["k"], GD["m"], GD["d"]
    t, s, gd = P(), P(), P()
    ok(lib.tsrelu_teacher_create_orthogonal(k, d, GD["vnorm"], GD["tseed"], ctypes.byref(t)),
       "teacher")
    ok(lib.tsrelu_student_create_gaussian(m, d, GD["sigma"], GD["sseed"], ctypes.byref(s)),
       "student")
    ok(lib.tsrelu_gd_create(t, s, GD["eta"], ctypes.byref(gd)), "gd_create")
    Vb, bb = (D * (k * d))(), (D * k)()
    ok(lib.tsrelu_teacher_weights(t, Vb, k * d), "teacher_weights")
    ok(lib.tsrelu_teacher_output_weights(t, bb, k), "teacher_output_weights")
    V = [list(Vb[j * d:(j + 1) * d]) for j in range(k)]
    b = list(bb)
    Wb, ab = (D * (m * d))(), (D * m)()
    out, todo = [], list(GD_THRESH)
    while todo:
        ok(lib.tsrelu_gd_run(gd, GD_CHUNK), "gd_run")
        cur = lib.tsrelu_gd_student(gd)
        ok(lib.tsrelu_student_weights(cur, Wb, m * d), "student_weights")
        W = [list(Wb[i * d:(i + 1) * d]) for i in range(m)]
        worst = max(min(angle(w, v) for v in V) for w in W)
        it = lib.tsrelu_gd_iteration(gd)
        while todo and worst < todo[0]:
            todo.pop(0)
            if not out or out[-1]["iter"] != it:
                ok(lib.tsrelu_student_output_weights(cur, ab, m), "output_weights")
                c = cfg("late-gd-it%d" % it, "late-gd", W, list(ab), V, b)
                c["iter"], c["angle"] = it, worst
                out.append(c)
        if it >= GD_MAX:
            raise RuntimeError("GD did not reach angle %g in %d steps" % (todo[0], GD_MAX))
    lib.tsrelu_gd_free(gd)
    lib.tsrelu_student_free(s)
    lib.tsrelu_teacher_free(t)
    return out


# ---------------------------------------------------------------- driver


# ---------------------------------------------------------------- Hessian

SEED_HESSIAN = 20261130


def _hessian_at(W, a, V, b, dps):
    """The Hessian in (vec(W) row-major, a) as central differences of the
    mpmath gradient at `dps` digits with step 10^-(dps/3) (truncation error
    ~ 10^-(2 dps/3), or 10^-(dps/3) at exactly aligned pairs, where the
    Hessian is only Lipschitz). Independent of the library's closed form."""
    m, d = len(W), len(V[0])
    with mp.workdps(dps):
        h = mpf(10) ** (-(dps // 3))
        Wm = [[mpf(x) for x in row] for row in W]
        am = [mpf(x) for x in a]
        N = m * d + m
        cols = []
        for v in range(N):
            grads = []
            for sg in (1, -1):
                W2 = [row[:] for row in Wm]
                a2 = am[:]
                if v < m * d:
                    W2[v // d][v % d] += sg * h
                else:
                    a2[v - m * d] += sg * h
                _, gW, ga = _reference_at(W2, a2, V, b, dps)
                grads.append([x for row in gW for x in row] + list(ga))
            cols.append([(p - q) / (2 * h) for p, q in zip(*grads)])
        # H[r][v] = d grad_r / d x_v
        return [[cols[v][r] for v in range(N)] for r in range(N)]


def hessian_reference(c, dps):
    H1 = _hessian_at(c["W"], c["a"], c["V"], c["b"], dps)
    H2 = _hessian_at(c["W"], c["a"], c["V"], c["b"], dps + 40)
    with mp.workdps(dps + 40):
        scale = max(abs(x) for row in H2 for x in row)
        diff = max(abs(x - y) for r1, r2 in zip(H1, H2) for x, y in zip(r1, r2))
        if diff > mpf(10) ** -20 * scale:
            raise RuntimeError("%s: Hessian reference unstable (%s)" % (c["name"], mp.nstr(diff / scale, 3)))
    return H2


def render_hessian(c, H):
    m, k, d = len(c["W"]), len(c["V"]), len(c["V"][0])
    out = ["config %s %s %d %d %d" % (c["name"], c["cls"], m, k, d), "W"]
    out.extend(" ".join(fmt_in(x) for x in row) for row in c["W"])
    out.append("a " + " ".join(fmt_in(x) for x in c["a"]))
    out.append("V")
    out.extend(" ".join(fmt_in(x) for x in row) for row in c["V"])
    out.append("b " + " ".join(fmt_in(x) for x in c["b"]))
    out.append("H %d" % len(H))
    with mp.workdps(60):
        out.extend(" ".join(fmt_ref(x) for x in row) for row in H)
    out.append("end")
    return "\n".join(out) + "\n"


def class_hessian(rng):
    """A few small networks: random (unit and signed output weights), a
    student within 1e-6 and 1e-10 rad of a teacher and of another student,
    exactly aligned and exactly opposite students, and near-opposite ones."""
    out = []
    for j, (m, k, d, ka, kb) in enumerate([(1, 1, 2, "ones", "ones"), (2, 1, 3, "ones", "ones"),
                                           (3, 2, 3, "signed", "pos"), (2, 2, 4, "pos", "signed")]):
        W, a, V, b = random_net(rng, m, k, d, ka, kb, 0.5)
        out.append(cfg("hess-rand-%d" % j, "random", W, a, V, b))
    for delta in (1e-6, 1e-10):
        W, a, V, b = random_net(rng, 3, 2, 3, "ones", "ones", 0.3)
        W[0] = rotate(rng, V[0], delta, 0.6)
        W[2] = rotate(rng, W[1], delta, 0.8)
        out.append(cfg("hess-near-%g" % delta, "near-aligned", W, a, V, b))
    W, a, V, b = random_net(rng, 3, 2, 3, "pos", "ones", 0.3)
    W[0] = [0.5 * x for x in V[0]]
    W[1] = [0.25 * x for x in V[0]]
    W[2] = [-2.0 * x for x in V[1]]
    out.append(cfg("hess-parallel", "parallel", W, a, V, b))
    W, a, V, b = random_net(rng, 2, 2, 3, "ones", "ones", 0.3)
    W[0] = rotate(rng, V[0], 1e-8, 0.7, sign=-1)
    W[1] = rotate(rng, W[0], 1e-7, 1.3, sign=-1)
    out.append(cfg("hess-anti", "anti-aligned", W, a, V, b))
    return out


def _work_hessian(args):
    c, dps = args
    return render_hessian(c, hessian_reference(c, dps))


def write_hessian(args):
    rng = random.Random(SEED_HESSIAN)
    configs = class_hessian(rng)
    t0 = time.time()
    with multiprocessing.Pool(args.jobs) as pool:
        texts = pool.map(_work_hessian, [(c, args.dps) for c in configs], chunksize=1)
    path = os.path.join(args.out, "hessian.txt")
    with open(path, "w") as f:
        f.write(HEADER.format(what="Hessians in (W, a) by central differences of the mpmath "
                              "gradient", mpv=mpmath.__version__, dps=args.dps, dps2=args.dps + 40))
        for text in texts:
            f.write(text)
    print("%s: %d configs in %.0f s" % (path, len(configs), time.time() - t0))


def _work(args):
    c, dps = args
    t0 = time.time()
    ref = reference(c, dps)
    return render(c, ref), ref[3], time.time() - t0


HEADER = """# libtsrelu reference data ({what}); generated by tests/data/reference/generate.py
# (mpmath {mpv}, {dps} digits, checked at {dps2}). Format: tests/data/reference/README.md.
# Do not edit by hand: regenerate with /usr/bin/python3 tests/data/reference/generate.py
"""


def write(path, configs, dps, jobs, what, extra=""):
    t0 = time.time()
    with multiprocessing.Pool(jobs) as pool:
        results = pool.map(_work, [(c, dps) for c in configs], chunksize=1)
    with open(path, "w") as f:
        f.write(HEADER.format(what=what, mpv=mpmath.__version__, dps=dps, dps2=dps + 40))
        f.write(extra)
        for text, _, _ in results:
            f.write(text)
    stats = {}
    for c, (_, ratio, sec) in zip(configs, results):
        st = stats.setdefault(c["cls"], [0, math.inf, 0.0, 0.0])
        st[0] += 1
        if ratio > 0:
            st[1] = min(st[1], ratio)
            st[2] = max(st[2], ratio)
        st[3] += sec
    print("%s: %d configs, %.1f kB, %.0f s" % (path, len(configs), os.path.getsize(path) / 1e3,
                                               time.time() - t0))
    for cls, (n, lo, hi, sec) in stats.items():
        print("  %-13s %4d configs  L/S_L in [%.1e, %.1e]  (%.0f s of reference time)"
              % (cls, n, lo if lo != math.inf else 0.0, hi, sec))


def write_classes(args, name, seed, makers, what):
    """The configurations of `makers`, drawn in order from one generator
    seeded with `seed`, with their reference values, into file `name`."""
    rng = random.Random(seed)
    configs = [c for make in makers for c in make(rng)]
    names = [c["name"] for c in configs]
    if len(set(names)) != len(names):
        sys.exit("duplicate configuration names")
    write(os.path.join(args.out, name), configs, args.dps, args.jobs, what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=HERE, help="output folder (default: this script's)")
    ap.add_argument("--lib", default=os.path.join(ROOT, "lib", "libtsrelu.so"),
                    help="shared library driven for the late GD iterates")
    ap.add_argument("--dps", type=int, default=80, help="mpmath digits (checked at +40)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-gd", action="store_true", help="do not rewrite late_gd.txt")
    ap.add_argument("--only", choices=("configs", "subnormal", "late_gd", "hessian"),
                    action="append", help="rewrite only this file (repeatable; default: all four)")
    args = ap.parse_args()
    only = set(args.only or ("configs", "subnormal", "late_gd", "hessian"))
    if args.skip_gd:
        only.discard("late_gd")

    if "configs" in only:
        write_classes(args, "configs.txt", SEED,
                      (class_random, class_near, class_parallel, class_anti, class_zero,
                       class_duplicated, class_extreme, class_large_d, class_late),
                      "random and degenerate configurations")
    if "subnormal" in only:
        write_classes(args, "subnormal.txt", SEED_SUBNORMAL, (class_subnormal,),
                      "subnormal and tiny rows")

    if "hessian" in only:
        write_hessian(args)

    if "late_gd" in only:
        if not os.path.exists(args.lib):
            sys.exit("%s not found: run `make all` first (or pass --lib)" % args.lib)
        t0 = time.time()
        its = gd_iterates(args.lib)
        print("GD: %d iterates up to iteration %d in %.0f s"
              % (len(its), its[-1]["iter"], time.time() - t0))
        extra = ("# GD run: tsrelu_teacher_create_orthogonal(k, d, vnorm, tseed), "
                 "tsrelu_student_create_gaussian(m, d, sigma, sseed), eta; iterates\n"
                 "# recorded at the first multiple of %d steps with max angle below %s\n"
                 % (GD_CHUNK, ", ".join("%.0e" % x for x in GD_THRESH)) +
                 "gd %d %d %d %s %d %s %d %s %d\n" % (GD["k"], GD["m"], GD["d"],
                                                    fmt_in(GD["vnorm"]), GD["tseed"],
                                                    fmt_in(GD["sigma"]), GD["sseed"],
                                                    fmt_in(GD["eta"]), GD_MAX) +
                 "".join("# %s: max angle %.3e\n" % (c["name"], c["angle"]) for c in its))
        write(os.path.join(args.out, "late_gd.txt"), its, args.dps, args.jobs,
              "late iterates of a library GD run", extra)


if __name__ == "__main__":
    main()

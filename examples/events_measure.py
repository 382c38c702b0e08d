#!/usr/bin/python3
"""The measurements of docs/events.md: the 1.0 tracker's t1, t2 next to the
independent events, for the Figure-1 configurations (k, m) in (2, 20),
(4, 12), (4, 20), (4, 40), d in {16, 64}, 3 seeds, sigma = 1e-6,
eta = 0.01, 10^5 steps, 20 recorded rows per decade. Times in gradient-flow
units eta * T. Then the depth of condensation against eta. About a minute
on one core.

    /usr/bin/python3 examples/events_measure.py   (after make; from the repository root)
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))
import numpy as np  # noqa: E402
import tsrelu  # noqa: E402

ETA, STEPS = 0.01, 100000
print("k  m  d seed |   t1     t2 | deficit max | align med   max | align(0.025) max | switches | slope onset")
ratios, halving = [], []
for k, m in [(2, 20), (4, 12), (4, 20), (4, 40)]:
    for d in (16, 64):
        for seed in (1, 2, 3):
            t = tsrelu.Teacher.orthogonal(k, d, 1.0, seed=seed)
            s = tsrelu.Student.gaussian(m, d, 1e-6, seed=100 + seed)
            gd = tsrelu.GD(t, s, ETA)
            r = gd.record(400, per_decade=20, accurate_loss=True)
            gd.run(STEPS)
            t1, t2 = (ETA * x for x in gd.phase_times)
            ev = r.events()                                   # align, deficit 0.05 (the tracker's)
            tight = ETA * r.event_times("align", 0.025, "settle").max()
            onset, slope = r.rate_onset(0.1)
            dmax, amed, amax = ETA * ev.deficit.max(), ETA * np.median(ev.align), ETA * ev.align.max()
            ratios.append(t1 / dmax)
            halving.append(tight / amax)
            print("%d %2d %2d %4d | %6.1f %6.1f | %11.2f | %8.1f %5.1f | %16.1f | %8d | %5.2f %6.1f"
                  % (k, m, d, seed, t1, t2, dmax, amed, amax, tight, len(ev.switches), slope, ETA * onset))
print("t1 / (last deficit to settle): %.1f ... %.1f" % (min(ratios), max(ratios)))
print("slowest alignment, eps 0.025 over eps 0.05: %.2f ... %.2f" % (min(halving), max(halving)))

# Condensation depends on the step size: the smallest median (over students)
# angle to the mean teacher direction, k = 4, m = 20, up to time 50.
print("\nk=4 m=20: smallest median angle to the mean teacher direction (rad), at time eta*T")
for d in (16, 64):
    for eta in (0.1, 0.01, 0.001):
        t = tsrelu.Teacher.orthogonal(4, d, 1.0, seed=11)
        s = tsrelu.Student.gaussian(20, d, 1e-6, seed=12)
        gd = tsrelu.GD(t, s, eta)
        r = gd.record(2000, per_decade=20)
        gd.run(int(round(50 / eta)))
        med = np.nanmedian(r.student("angle_mean"), axis=1)
        n = int(np.argmin(med))
        print("d=%2d eta=%-5g  %.3f at %.3g" % (d, eta, med[n], eta * float(r.iterations[n])))

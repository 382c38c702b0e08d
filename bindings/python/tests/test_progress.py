"""Progress read from another thread while a run executes (tsrelu_gd_progress,
tsrelu_batch_progress): monotone, within the total, exact at the end."""
import threading
import time

import tsrelu


def _watch(read, stop, seen):
    while not stop.is_set():
        seen.append(read())
        time.sleep(0.002)


def test_gd_progress_from_another_thread():
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    s = tsrelu.Student.gaussian(6, 8, 1e-3, seed=2)
    gd = tsrelu.GD(t, s, 0.1)
    assert gd.progress == 0
    stop, seen = threading.Event(), []
    th = threading.Thread(target=_watch, args=(lambda: gd.progress, stop, seen))
    th.start()
    try:
        assert gd.run(300_000) == tsrelu.OK
    finally:
        stop.set()
        th.join()
    assert seen == sorted(seen)
    assert seen[-1] <= 300_000
    assert any(0 < v < 300_000 for v in seen), seen[:5]
    assert gd.progress == gd.iteration == 300_000


def test_batch_progress_counts_every_run():
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    b = tsrelu.Batch(threads=2)
    for seed in range(3):
        b.add(t, tsrelu.Student.gaussian(6, 8, 1e-3, seed=seed), 0.1, 100_000)
    assert b.progress() == (0, 300_000)
    stop, seen = threading.Event(), []
    th = threading.Thread(target=_watch, args=(lambda: b.progress()[0], stop, seen))
    th.start()
    try:
        assert b.run() == tsrelu.OK
    finally:
        stop.set()
        th.join()
    assert seen == sorted(seen) and seen[-1] <= 300_000
    assert b.progress() == (300_000, 300_000)

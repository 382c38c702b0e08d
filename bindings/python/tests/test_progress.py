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


def _pair():
    return (tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1), tsrelu.Student.gaussian(6, 8, 1e-3, seed=2))


def test_run_progress_plain_line(monkeypatch, capsys):
    import tsrelu._progress as progress
    monkeypatch.setattr(progress, "_tqdm", None)
    monkeypatch.setattr(progress, "_PERIOD", 0.01)
    t, s = _pair()
    gd, twin = tsrelu.GD(t, s, 0.1), tsrelu.GD(t, s, 0.1)
    assert gd.run(400_000, progress=True) == tsrelu.OK
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("GD.run: 100% 400000/400000 steps"), last
    assert "steps/s" in last and "loss " in last
    # the bar reads, it does not change the run
    assert twin.run(400_000) == tsrelu.OK
    assert (gd.W == twin.W).all() and gd.iteration == twin.iteration == 400_000
    assert gd.observer is None  # the progress observer was for that run only


def test_run_progress_keeps_the_users_observer(monkeypatch, capsys):
    import tsrelu._progress as progress
    monkeypatch.setattr(progress, "_tqdm", None)
    t, s = _pair()
    gd = tsrelu.GD(t, s, 0.1)
    seen = []
    assert gd.run(1000, observer=lambda g: seen.append(g.iteration), every=100, progress=True) == tsrelu.OK
    assert seen == list(range(0, 1001, 100))
    assert "GD.run: 100% 1000/1000 steps" in capsys.readouterr().err


def test_run_progress_with_tqdm(capsys):
    pytest = __import__("pytest")
    tqdm = pytest.importorskip("tqdm")  # Debian: python3-tqdm (installed by scripts/deps.sh)
    import tsrelu._progress as progress
    assert progress._tqdm is tqdm.tqdm
    t, s = _pair()
    gd = tsrelu.GD(t, s, 0.1)
    assert gd.run(100_000, progress=True) == tsrelu.OK
    err = capsys.readouterr().err
    assert "GD.run" in err and "100%" in err and "100k/100k" in err


def test_batch_progress_bar(monkeypatch, capsys):
    import tsrelu._progress as progress
    monkeypatch.setattr(progress, "_tqdm", None)
    t = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    b = tsrelu.Batch(threads=2)
    for seed in range(2):
        b.add(t, tsrelu.Student.gaussian(6, 8, 1e-3, seed=seed), 0.1, 50_000)
    assert b.run(progress=True) == tsrelu.OK
    assert "Batch.run: 100% 100000/100000 steps" in capsys.readouterr().err

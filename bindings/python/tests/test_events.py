"""Events from Python (Record.events and friends, 1.2): every event
against a numpy recomputation from the record's own arrays, on-line
transitions against the post-hoc times at several thresholds, stopping and
exceptions from the event callback, quantiles against numpy, and bad input
with the exact status."""
import numpy as np
import pytest

import tsrelu

K, M, D = 4, 20, 16


@pytest.fixture(scope="module")
def run():
    t = tsrelu.Teacher.orthogonal(K, D, 1.0, seed=11)
    s = tsrelu.Student.gaussian(M, D, 1e-3, seed=12)
    gd = tsrelu.GD(t, s, 0.05)
    r = gd.record(2000, per_decade=20, accurate_loss=True)
    gd.run(50000)
    return t, s, gd, r


def np_event(P, times, mode):
    """numpy reference: P (n, items) booleans per row, the time per item."""
    n, items = P.shape
    out = np.full(items, np.nan)
    for x in range(items):
        p = P[:, x]
        if mode == "first":
            idx = np.flatnonzero(p)
            if idx.size:
                out[x] = times[idx[0]]
        elif mode == "settle":
            if p[-1]:
                out_idx = np.flatnonzero(~p)
                out[x] = times[out_idx[-1] + 1 if out_idx.size else 0]
        else:
            if not p[-1] and p.any():
                out[x] = times[np.flatnonzero(p)[-1] + 1]
    return out


def predicates(r, kind, thr):
    a = r.arrays()
    near = a["nearest"]
    final = near[-1]
    if kind == "group":
        return (near == final) & (final >= 0)
    if kind == "align":
        with np.errstate(invalid="ignore"):
            return (near == final) & (final >= 0) & (a["angle"] <= thr)
    if kind == "mean":
        with np.errstate(invalid="ignore"):
            return a["angle_mean"] <= thr
    if kind == "deficit":
        return np.abs(a["deficit"]) <= thr * 1.0  # unit teachers, b = 1
    if kind == "norm":
        return a["norm"] >= thr * a["norm"][-1]
    share = 1.0 / a["group_size"][-1][np.maximum(final, 0).astype(int)]
    return (np.abs(a["output_weight"]) * a["norm"] >= thr * share) & (final >= 0)


@pytest.mark.parametrize("kind,thr", [("group", None), ("align", 0.05), ("align", 0.01), ("mean", 0.25),
                                      ("mean", 0.6), ("deficit", 0.05), ("deficit", 0.001), ("norm", 0.5),
                                      ("norm", 1.1), ("norm_share", 0.5)])
@pytest.mark.parametrize("mode", ["first", "settle", "leave"])
def test_posthoc_matches_numpy(run, kind, thr, mode):
    _, _, _, r = run
    got = r.event_times(kind, thr, mode)
    want = np_event(predicates(r, kind, thr), r.iterations.astype(float), mode)
    np.testing.assert_array_equal(got, want)


def test_events_bundle_and_switches(run):
    _, _, gd, r = run
    ev = r.events()
    assert ev.align.shape == (M,) and ev.deficit.shape == (K,)
    np.testing.assert_array_equal(ev.align, r.event_times("align", 0.05, "settle"))
    np.testing.assert_array_equal(ev.split, r.event_times("mean", 0.25, "leave"))
    assert not np.isnan(ev.align).all()  # the run aligns
    # deficits close before the slowest student aligns (why t1 = t2 in the 1.0 tracker)
    assert np.nanmax(ev.deficit) < np.nanmax(ev.align)
    summ = ev.summary()
    assert summ["align"][1] == np.max(ev.align)
    near = r.student("nearest")
    changed = np.argwhere(near[1:] != near[:-1])
    sw = r.switches()
    assert len(sw) == len(changed)
    it = r.iterations.astype(float)
    np.testing.assert_array_equal(sw.time, it[changed[:, 0] + 1])
    np.testing.assert_array_equal(sw.student, changed[:, 1])
    np.testing.assert_array_equal(sw.from_, near[changed[:, 0], changed[:, 1]])
    np.testing.assert_array_equal(sw.to, near[changed[:, 0] + 1, changed[:, 1]])
    df = sw.to_pandas()
    assert list(df.columns) == ["time", "student", "from", "to"] and len(df) == len(sw)
    onset, slope = r.rate_onset(0.2)
    assert -3.2 < slope < -2.7
    assert ev.final_slope == r.rate_onset(0.1)[1]


def online_answer(log, kind, mode, items, final):
    out = np.full(items, np.nan)
    for x in range(items):
        first = last_in = last_out = np.nan
        inside = False
        for (k, tr, i, teacher, t) in log:
            if k != kind or i != x:
                continue
            if tr == "entered":
                if np.isnan(first) and (kind in ("mean", "deficit") or teacher == final[x]):
                    first = t
                inside, last_in = True, t
            else:
                inside, last_out = False, t
        out[x] = {"first": first, "settle": last_in if inside else np.nan,
                  "leave": np.nan if inside else last_out}[mode]
    return out


@pytest.mark.parametrize("thr", [(0.05, 0.25, 0.05), (0.01, 0.6, 0.2)])
def test_online_equals_posthoc(run, thr):
    t, s, _, _ = run
    gd = tsrelu.GD(t, s, 0.05)
    r = gd.record(2000, per_decade=20)
    log = []
    r.on_event(lambda g, *ev: log.append(ev), align=thr[0], mean=thr[1], deficit=thr[2])
    gd.run(20000)
    final = r.student("nearest")[-1]
    eps = {"group": None, "align": thr[0], "mean": thr[1], "deficit": thr[2]}
    for kind in ("group", "align", "mean", "deficit"):
        items = K if kind == "deficit" else M
        for mode in ("first", "settle", "leave"):
            np.testing.assert_array_equal(online_answer(log, kind, mode, items, final),
                                          r.event_times(kind, eps[kind], mode), err_msg=kind + " " + mode)


def test_callback_stops_and_raises(run):
    t, s, _, _ = run
    gd = tsrelu.GD(t, s, 0.05)
    r = gd.record(500)
    seen = []

    def stop(g, kind, tr, i, teacher, time):
        seen.append((kind, tr, i, teacher, time))
        assert g.iteration == time  # a read from inside the callback
        return 5 if kind == "align" else 0
    r.on_event(stop, kinds=("group", "align"))
    assert gd.run(100000) == tsrelu.STOPPED
    assert gd.stop_reason == tsrelu.StopReason.EVENT and gd.stop_value == 5
    assert seen[-1][0] == "align" and seen[-1][1] == "entered"
    assert seen[:M] == [("group", "entered", i, seen[i][3], 0.0) for i in range(M)]

    def boom(*_):
        raise ValueError("from the event callback")
    r.on_event(boom, kinds="deficit")
    with pytest.raises(ValueError, match="event callback"):
        gd.run(100000)
    assert gd.stop_reason == tsrelu.StopReason.EVENT
    r.on_event(None)
    assert gd.run(10) == tsrelu.OK


def test_quantile_matches_numpy():
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 20):
        x = rng.uniform(0, 100, n)
        x[rng.uniform(size=n) < 0.2] = np.nan
        for p in (0.0, 0.25, 0.5, 0.9, 1.0):
            want = np.quantile(np.where(np.isnan(x), np.inf, x), p, method="lower")
            got = tsrelu.event_quantile(x, p)
            assert (np.isnan(got) and want == np.inf) or got == want
    assert np.isnan(tsrelu.event_quantile([], 0.5))


def test_bad_input(run):
    _, _, _, r = run
    cases = [
        (lambda: r.event_times("nope", 0.1), tsrelu.Status.EINVAL),
        (lambda: r.event_times("align", 0.1, "later"), tsrelu.Status.EINVAL),
        (lambda: r.event_times("align"), tsrelu.Status.EINVAL),
        (lambda: r.event_times("align", 0.0), tsrelu.Status.EINVAL),
        (lambda: r.event_times("mean", float("nan")), tsrelu.Status.ENONFINITE),
        (lambda: r.rate_onset(-1), tsrelu.Status.EINVAL),
        (lambda: r.rate_onset(float("inf")), tsrelu.Status.ENONFINITE),
        (lambda: r.on_event(print, kinds="norm"), tsrelu.Status.EINVAL),
        (lambda: r.on_event(print, align=-0.1), tsrelu.Status.EINVAL),
        (lambda: tsrelu.event_quantile([1.0], 2.0), tsrelu.Status.EINVAL),
        (lambda: tsrelu.event_quantile([1.0], float("nan")), tsrelu.Status.ENONFINITE),
    ]
    for f, status in cases:
        with pytest.raises(tsrelu.Error) as e:
            f()
        assert e.value.status == status
    with pytest.raises(TypeError):
        r.on_event(42)


def test_batch_worker_threads(run):
    """The event callback of a batch's states runs on the worker threads;
    the on-line answer is still the post-hoc one of each state's record."""
    t, s, _, _ = run
    b = tsrelu.Batch(threads=2)
    for eta in (0.05, 0.04):
        b.add(t, s, eta, 5000)
    logs, records = [[], []], []
    for i in range(2):
        r = b.state(i).record(1000, per_decade=20)
        r.on_event(lambda g, *ev, _log=logs[i]: _log.append(ev), kinds=("group", "align"), align=0.05)
        records.append(r)
    b.run()
    for log, r in zip(logs, records):
        final = r.student("nearest")[-1]
        for kind in ("group", "align"):
            got = online_answer(log, kind, "settle", M, final)
            np.testing.assert_array_equal(got, r.event_times(kind, 0.05, "settle"))
        assert not np.isnan(r.event_times("group", None, "settle")).any()
    b.close()

"""Handles can be closed or collected in any order; the GD state owns
copies, so its inputs may go first."""
import gc
import weakref

import numpy as np
import pytest

import tsrelu


def make():
    t = tsrelu.Teacher.orthogonal(2, 6, 1.0, seed=21)
    s = tsrelu.Student.gaussian(4, 6, 0.1, seed=22)
    return t, s


def test_gd_outlives_its_inputs():
    t, s = make()
    L0 = s.loss(t)
    gd = tsrelu.GD(t, s, 0.05)
    t.close()
    del s
    gc.collect()
    assert gd.loss() == L0
    gd.run(50)
    assert gd.teacher.k == 2 and gd.student.m == 4


@pytest.mark.parametrize("order", ["tsg", "tgs", "sgt", "gts", "gst", "stg"])
def test_close_in_any_order(order):
    t, s = make()
    gd = tsrelu.GD(t, s, 0.05)
    gd.run(5)
    objs = {"t": t, "s": s, "g": gd}
    for c in order:
        objs[c].close()
        objs[c].close()  # idempotent
    assert all(o.closed for o in objs.values())


@pytest.mark.parametrize("order", ["tsg", "gts", "sgt"])
def test_collect_in_any_order(order):
    t, s = make()
    gd = tsrelu.GD(t, s, 0.05)
    objs = {"t": t, "s": s, "g": gd}
    del t, s, gd
    for c in order:
        fin = objs[c]._finalizer
        assert fin.alive
        del objs[c]
        gc.collect()
        assert not fin.alive  # the C handle was freed


def test_context_managers():
    with tsrelu.Teacher.orthogonal(2, 6, 1.0, seed=1) as t, \
         tsrelu.Student.gaussian(4, 6, 0.1, seed=2) as s, \
         tsrelu.GD(t, s, 0.05) as gd:
        gd.run(5)
    assert t.closed and s.closed and gd.closed
    with pytest.raises(tsrelu.Error):
        gd.run(1)


def test_returned_objects_are_independent():
    t, s = make()
    gd = tsrelu.GD(t, s, 0.05)
    st, tt = gd.student, gd.teacher
    gd.close()
    assert st.m == 4 and tt.k == 2  # copies survive the GD state
    W = st.W
    st.W = W * 2
    c = st.copy()
    st.close()
    np.testing.assert_array_equal(c.W, W * 2)


def test_many_handles_are_released():
    refs = []
    for i in range(200):
        t, s = make()
        gd = tsrelu.GD(t, s, 0.05)
        gd.set_observer(lambda g: None, every=1)  # closure over nothing
        refs.append(gd._finalizer)
        del t, s, gd
    gc.collect()
    assert not any(f.alive for f in refs)


def test_observer_keeping_a_reference_cycle_is_collected():
    t, s = make()
    gd = tsrelu.GD(t, s, 0.05)
    box = [gd]
    gd.set_observer(lambda g, box=box: box[0].iteration and None, every=1)  # holds gd
    gd.run(2)
    fin = gd._finalizer
    r = weakref.ref(gd)
    del gd, box  # now only the cycle gd -> observer -> box -> gd holds it
    gc.collect()
    assert r() is None and not fin.alive

"""Labelled batch results: each run's configuration kept, named columns."""
import numpy as np
import pytest

import tsrelu


def _batch():
    t2 = tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1)
    t3 = tsrelu.Teacher.orthogonal(3, 8, 1.0, seed=1)
    b = tsrelu.Batch(threads=2)
    b.add(t2, tsrelu.Student.gaussian(6, 8, 1e-3, seed=1), 0.1, 2000, config={"seed": 1, "sigma": 1e-3})
    b.add(t3, tsrelu.Student.gaussian(9, 8, 1e-3, seed=2), 0.05, 3000, config={"seed": 2})
    return b


def test_config_is_kept():
    b = _batch()
    assert b.config(0) == {"seed": 1, "sigma": 1e-3, "m": 6, "k": 2, "d": 8, "eta": 0.1, "steps": 2000}
    assert b.config(1) == {"seed": 2, "m": 9, "k": 3, "d": 8, "eta": 0.05, "steps": 3000}
    c = b.config(0)
    c["seed"] = 99  # a copy
    assert b.config(0)["seed"] == 1
    with pytest.raises(tsrelu.Error):
        b.config(2)
    with pytest.raises(TypeError):
        b.add(tsrelu.Teacher.orthogonal(2, 8, 1.0, seed=1), tsrelu.Student.gaussian(6, 8, 1e-3, seed=1),
              0.1, 10, config={1: "x"})


def test_table_columns_match_summaries():
    b = _batch()
    assert b.run() == tsrelu.OK
    tab = b.table()
    assert list(tab)[:7] == ["seed", "sigma", "m", "k", "d", "eta", "steps"]
    assert tuple(tab)[7:] == tsrelu._batch.SUMMARY_FIELDS
    assert tab["sigma"][1] is None and tab["m"].tolist() == [6, 9]
    raw = b.summaries()
    for i in range(2):
        s = b.summary(i)
        assert tab["status"][i] == "TSRELU_OK"
        assert tab["iteration"][i] == s.iteration == raw[i, 1]
        assert tab["loss"][i] == s.loss
        assert tab["t1"][i] == (-1 if s.t1 is None else s.t1)
    assert tab["iteration"].dtype == np.int64


def test_to_pandas_one_row_per_run():
    pd = pytest.importorskip("pandas")  # Debian: python3-pandas (scripts/deps.sh installs it)
    b = _batch()
    b.run()
    df = b.to_pandas()
    assert df.shape[0] == 2 and df.loc[1, "k"] == 3 and df.loc[0, "status"] == "TSRELU_OK"
    assert pd.isna(df.loc[1, "sigma"])

#!/usr/bin/env python3
"""docs/theory.md against the data it quotes: every <!-- fact:NAME --> block
of docs/theory.md must equal the block tools/theory/derive.py computes from
the committed table docs/data/theory_runs.csv; docs/data/theory_summary.csv
must be that table's summary; the L*T^3 numbers of section 8 must be those
tools/theory/lt3_drift.py computes from docs/data/theory_lt3.csv; and the
committed runs table must be the sweep the docs describe (108 runs, every
configuration x d x eta x seed once, each run to eta*T = 1000).

    /usr/bin/python3 tests/integration/test_theory_data.py

Last line: "theory_data: N passed, M failed"."""
import contextlib
import io
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "theory"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import derive  # noqa: E402
import lt3_drift  # noqa: E402

DATA = os.path.join(ROOT, "docs", "data")


def main():
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL", what)

    runs = derive.load_runs(DATA)
    # the sweep the docs describe
    check(len(runs) == 108, "theory_runs.csv has %d runs, not 108" % len(runs))
    keys = set(zip(runs["k"], runs["m"], runs["d"], runs["eta"], runs["seed"]))
    want = {(k, m, d, eta, s) for k, m in ((2, 20), (4, 12), (4, 20), (4, 40)) for d in (16, 64, 256)
            for eta in (0.1, 0.01, 0.001) for s in (1, 2, 3)}
    check(keys == want, "theory_runs.csv: configurations differ from the Figure-1 grid (%d missing, %d extra)"
          % (len(want - keys), len(keys - want)))
    check(np.allclose(runs["flow_time"], 1000.0), "every run to eta*T = 1000")
    # the docs' blocks
    text = open(os.path.join(ROOT, "docs", "theory.md")).read()
    got = derive.docblocks.read(text, "fact")
    want_facts = derive.facts(runs)
    check(len(got) >= 8, "docs/theory.md has %d fact blocks (expected at least 8)" % len(got))
    for name, block in got.items():
        check(name in want_facts, "docs/theory.md: unknown fact block %s" % name)
        if name in want_facts:
            check(block == want_facts[name], "docs/theory.md: fact block %s differs from the data:\n%s\n---\n%s"
                  % (name, block, want_facts[name]))
    # the summary table is the runs table's summary
    summ = pd.read_csv(os.path.join(DATA, "theory_summary.csv"))
    fresh = derive.summary(runs)
    check(list(summ.columns) == list(fresh.columns) and len(summ) == len(fresh), "theory_summary.csv columns")
    if list(summ.columns) == list(fresh.columns) and len(summ) == len(fresh):
        check(np.allclose(summ.to_numpy(float), fresh.to_numpy(float), rtol=1e-5, equal_nan=True),
              "theory_summary.csv is the summary of theory_runs.csv")
    # section 8: the L*T^3 fits quoted are those of the committed table
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for tmin in (1e4, 1e6):
            lt3_drift.fit(type("A", (), {"files": [os.path.join(DATA, "theory_lt3.csv")], "tmin": tmin})())
    # (the doc shows the output of both fits verbatim in a code block)
    for ln in out.getvalue().splitlines():
        check(ln.strip() in text, "docs/theory.md lacks the L*T^3 output line '%s'" % ln.strip())
    print("theory_data: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Summarise a tsrelu-sweep CSV as a Markdown table: one row per
configuration, aggregated over seeds (or over every column not in --by).

    python3 tools/sweep/summarize.py out.csv [--by k,m,eps_align]

Columns: runs (and how many did not end with TSRELU_OK), t1 and t2 as
median [min, max] over the runs that reached them (with how many did not),
the median final loss and late slope, the mean number of students that
switched teacher, and the overall balance-ratio range. Standard library only.
"""
import argparse
import csv
import statistics

CONFIG = ["teacher", "norm", "k", "m", "d", "sigma", "eta", "eps_align", "eps_deficit", "steps"]
OK = ("TSRELU_OK", "TSRELU_CONVERGED")


def times(xs):
    reached = [x for x in xs if x >= 0]
    if not reached:
        return "not reached"
    text = f"{statistics.median(reached):g} [{min(reached):g}, {max(reached):g}]"
    return text + (f" ({len(xs) - len(reached)} not reached)" if len(reached) < len(xs) else "")


def sort_key(key):
    out = []
    for v in key:
        try:
            out.append((0, float(v), ""))
        except ValueError:
            out.append((1, 0.0, v))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--by", help="comma-separated grouping columns (default: the configuration "
                    "columns that vary, seed excluded)")
    a = ap.parse_args()
    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    keys = a.by.split(",") if a.by else [c for c in CONFIG if len({r[c] for r in rows}) > 1] or ["k", "m"]
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[c] for c in keys), []).append(r)
    print("| " + " | ".join(keys) + " | runs | t1 median [min, max] | t2 median [min, max] "
          "| final loss (median) | late slope (median) | switches (mean) | ratio range |")
    print("|" + "---|" * (len(keys) + 7))
    for key in sorted(groups, key=sort_key):
        g = groups[key]
        ok = [r for r in g if r["status"] in OK]
        runs = f"{len(g)}" + (f" ({len(g) - len(ok)} not OK)" if len(ok) < len(g) else "")
        if ok:
            loss = f"{statistics.median(float(r['final_loss']) for r in ok):.3g}"
            slope = f"{statistics.median(float(r['late_slope']) for r in ok):.3f}"
            rng = (f"[{min(float(r['ratio_min']) for r in ok):.2g}, "
                   f"{max(float(r['ratio_max']) for r in ok):.3g}]")
        else:
            loss = slope = rng = "–"
        sw = statistics.mean(int(r["switches"]) for r in g)
        print("| " + " | ".join(key) + f" | {runs} | {times([int(r['t1']) for r in g])} "
              f"| {times([int(r['t2']) for r in g])} | {loss} | {slope} | {sw:.1f} | {rng} |")


if __name__ == "__main__":
    main()

"""Reconciliation at national scale: N synthetic score rows per source (default 1,000,000), compared by the
project's vectorised reconciliation and by datacompy on the same data in the same run. Prints time and peak
memory of each (each in its own process) and checks that both find the same set of differing keys.

    .venv/bin/python benchmarks/reconcile.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from harness import in_fresh_process  # noqa: E402

TARGET_SPEEDUP = 3.0  # issue 5: at least 3x faster than datacompy at a million rows per source
CODES_PER_UNIT = 200
CODES = [f"{j % 8 + 1}.p{j // 8 + 1}.1" for j in range(CODES_PER_UNIT)]


def synthetic(rows: int, seed: int = 876):
    """Two sources of the same keys: 2 % of values changed, 0.5 % of keys only in one source or the other."""
    import numpy as np
    import pandas as pd
    from par_index.reconcile import FRAME_COLUMNS

    rng = np.random.default_rng(seed)
    units = np.repeat(np.array([f"U{i:05d}" for i in range(rows // CODES_PER_UNIT)]), CODES_PER_UNIT)
    codes = np.tile(np.array(CODES), rows // CODES_PER_UNIT)
    scores = rng.integers(0, 40, size=len(units)) * 0.25
    report = pd.DataFrame({"unit": units, "criterion": codes, "score": scores})
    portal = report.copy()
    changed = rng.random(len(portal)) < 0.02
    portal.loc[changed, "score"] = portal.loc[changed, "score"] + 0.25
    report = report[rng.random(len(report)) >= 0.005]
    portal = portal[rng.random(len(portal)) >= 0.005]
    for frame in (report, portal):
        frame["evidence"], frame["explanation"], frame["duplicates"] = True, False, 1
        frame["updated_at"] = pd.Timestamp("2024-01-12", tz="UTC")
    return report[FRAME_COLUMNS].reset_index(drop=True), portal[FRAME_COLUMNS].reset_index(drop=True)


def ours(report, portal) -> set:
    """The disagreeing (unit, criterion) keys found by the project's reconciliation."""
    from par_index.reconcile import DISAGREEMENTS, Rules, find_mismatches

    codes = CODES  # what Table 2 would say: known in advance, not read from the data
    rules = Rules(
        max_points=dict.fromkeys(codes, 10.0),
        method=dict.fromkeys(codes, "self"),
        leaves=frozenset(codes),
        ancestors={c: () for c in codes},
        assigned=None,
    )
    found = find_mismatches(report, portal, rules, tolerance=0.01)
    found = found[found["category"].isin(DISAGREEMENTS)]
    return set(zip(found["unit"].tolist(), found["criterion"].tolist(), strict=True))


def with_datacompy(report, portal) -> set:
    """The disagreeing (unit, criterion) keys found by datacompy, for comparison."""
    import datacompy

    compare = datacompy.PandasCompare(
        report[["unit", "criterion", "score"]],
        portal[["unit", "criterion", "score"]],
        join_columns=["unit", "criterion"],
        abs_tol=0.01,
    )
    keys = set()
    for frame in (compare.all_mismatch(), compare.df1_unq_rows, compare.df2_unq_rows):
        keys |= set(zip(frame["unit"].tolist(), frame["criterion"].tolist(), strict=True))
    return keys


def measure(name: str, rows: int):
    """Time and peak memory of one contender, on data generated in its own process."""
    report, portal = synthetic(rows)
    contender = {"ours": ours, "datacompy": with_datacompy}[name]
    contender(report.head(2000), portal.head(2000))  # warm-up: first-call imports and caches, for both alike
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    keys = contender(report, portal)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return elapsed, peak, peak - baseline, sorted(keys)


def main() -> int:
    """Parse the command line, run both methods in fresh processes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    results = {name: in_fresh_process(measure, name, args.rows) for name in ("ours", "datacompy")}
    same = results["ours"][3] == results["datacompy"][3]
    print(f"Reconciliation of {args.rows:,} score rows per source".replace(",", "."))
    print(f"{'method':<28}{'seconds':>10}{'peak RSS MB':>14}{'of which compare':>18}")
    for name, label in (("ours", "par_index (pandas)"), ("datacompy", "datacompy")):
        elapsed, peak, extra, _ = results[name]
        print(f"{label:<28}{elapsed:>10.2f}{peak:>14.0f}{extra:>18.0f}")
    speedup = results["datacompy"][0] / results["ours"][0]
    print(
        f"speed-up: {speedup:.1f}x (target {TARGET_SPEEDUP:g}x: {'met' if speedup >= TARGET_SPEEDUP else 'NOT met'}); "
        f"differing keys: {len(results['ours'][3]):,}; same set: {'yes' if same else 'NO'}".replace(",", ".")
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

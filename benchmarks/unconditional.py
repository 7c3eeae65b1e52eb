"""Speed of the unconditional exact tests (issue 9 §1), against scipy timed per table in the same run.

    python benchmarks/unconditional.py [--quick] [--threads 2]

Lines:
1. the whole rejection region (every table's p-value) of a 30 vs 30 design, two-sided, for
   Boschloo and z-pooled, once compiled; scipy ``boschloo_exact`` / ``barnard_exact(pooled=True)``
   (default n=32) timed on a sample of the same tables and scaled to all 961;
2. the exact power curve over n = 2..100 per group (1:1, 40% against 8.5%, two-sided at 0.05) on
   ``--threads`` threads (the kernels release the GIL), with the first n reaching 80% power; scipy's
   time for the same curve is its per-table time times the number of tables.

``--quick`` samples fewer scipy tables and runs the curve over 2..30 (a smoke test).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.analysis import fisher_exact_power  # noqa: E402
from sim.analysis.unconditional import unconditional_exact_power, unconditional_p_value_table  # noqa: E402

TESTS = ("boschloo", "z-pooled")


def _scipy_p_value(test: str, x1: int, n1: int, x2: int, n2: int) -> float:
    table = [[x1, x2], [n1 - x1, n2 - x2]]
    if test == "boschloo":
        return float(stats.boschloo_exact(table, alternative="two-sided").pvalue)
    return float(stats.barnard_exact(table, alternative="two-sided", pooled=True).pvalue)


def _median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rejection_region(n: int, scipy_tables: int, repeats: int) -> dict[str, float]:
    """Seconds for the whole p-value table, ours and scipy's (scaled from a sample)."""
    rng = np.random.default_rng(2009)
    cells = (n + 1) ** 2
    scipy_per_table = {}
    for test in TESTS:
        ours_seconds = _median_seconds(lambda: unconditional_p_value_table(n, n, test=test), repeats)
        table = unconditional_p_value_table(n, n, test=test)
        sample = [(int(rng.integers(0, n + 1)), int(rng.integers(0, n + 1))) for _ in range(scipy_tables)]
        start = time.perf_counter()
        reference = [_scipy_p_value(test, x1, n, x2, n) for x1, x2 in sample]
        per_table = (time.perf_counter() - start) / scipy_tables
        scipy_per_table[test] = per_table
        gap = max(abs(table[x1, x2] - p) for (x1, x2), p in zip(sample, reference))
        scipy_seconds = per_table * cells
        print(f"rejection region {n} vs {n}, {test:8s} two-sided: {1e3 * ours_seconds:7.1f} ms"
              f" | scipy {scipy_seconds:6.1f} s ({1e3 * per_table:.1f} ms/table x {cells})"
              f" | {scipy_seconds / ours_seconds:,.0f} x scipy | max |ours - scipy n=32| {gap:.1e}"
              f" on {scipy_tables} tables")
    return scipy_per_table


def power_curve(high: int, threads: int, scipy_per_table: dict[str, float]) -> None:
    sizes = range(2, high + 1)
    cells = sum((n + 1) ** 2 for n in sizes)
    print(f"power curve n = 2..{high} per group (1:1, 40% vs 8.5%, two-sided 0.05) on {threads} thread(s):")
    for test in ("fisher", *TESTS):
        def power(n: int, test: str = test) -> float:
            if test == "fisher":
                return fisher_exact_power(n, 0.40, n, 0.085)
            return unconditional_exact_power(n, 0.40, n, 0.085, test=test)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            powers = list(pool.map(power, sizes))
        seconds = time.perf_counter() - start
        first = next((n for n, p in zip(sizes, powers) if p >= 0.80), None)
        line = f"  {test:8s} {seconds:6.2f} s, first n with power >= 80%: {first}"
        if test in scipy_per_table:
            scipy_seconds = scipy_per_table[test] * cells
            line += f" | scipy {scipy_seconds / 60:,.0f} min ({cells:,} tables) | {scipy_seconds / seconds:,.0f} x scipy"
        print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke test: fewer scipy tables, curve to 30")
    parser.add_argument("--threads", type=int, default=2, help="threads for the power curve (default 2)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    for test in TESTS:  # compile (or load from numba's cache) before timing
        unconditional_p_value_table(3, 2, test=test)
        unconditional_exact_power(3, 0.4, 2, 0.1, test=test)
    print(f"warm-up (compile or load kernels): {time.perf_counter() - start:.1f} s")
    scipy_per_table = rejection_region(30, scipy_tables=4 if args.quick else 40, repeats=3 if args.quick else 15)
    power_curve(30 if args.quick else 100, args.threads, scipy_per_table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

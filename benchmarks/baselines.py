"""The obvious alternatives the kernel is measured against, written as a user would write them.

* :func:`scipy_loop_power`: numpy binomial draws for both groups, then a Python loop calling
  ``scipy.stats.fisher_exact`` on every trial's table.
* :func:`cached_loop_power`: the same loop with each distinct table's p-value cached
  (``functools.lru_cache``), the first thing one tries when the loop is too slow. The cache is
  new for each call, as it would be for each design point of a sweep.
* :func:`scipy_enumeration_power`: exact power by enumerating every outcome (x1, x2) and calling
  ``fisher_exact`` on each, optionally on a subset of the tables only, for timing.

All three return the same quantity as the simulator (share of trials, or probability, with
p <= alpha), so the benchmark can check them against it as well as time them.
"""

from __future__ import annotations

import functools
from typing import Optional

import numpy as np
from scipy import stats


def _fisher_p_value(x1: int, n1: int, x2: int, n2: int, alternative: str) -> float:
    # scipy's "greater" is odds ratio > 1 for the table [[x1, n1 - x1], [x2, n2 - x2]]: group 1's
    # rate higher, the same convention as simtrial's.
    return float(stats.fisher_exact(((x1, n1 - x1), (x2, n2 - x2)), alternative=alternative).pvalue)


def draw_counts(n1: int, p1: float, n2: int, p2: float, trials: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Event counts of both groups in ``trials`` trials: two int64 arrays."""
    rng = np.random.default_rng(seed)
    return rng.binomial(n1, p1, size=trials), rng.binomial(n2, p2, size=trials)


def scipy_loop_power(n1: int, p1: float, n2: int, p2: float, *, trials: int, seed: int,
                     alpha: float, alternative: str) -> float:
    """Monte Carlo power: binomial draws and ``fisher_exact`` called on every trial."""
    x1, x2 = draw_counts(n1, p1, n2, p2, trials, seed)
    rejections = 0
    for a, b in zip(x1.tolist(), x2.tolist()):
        rejections += _fisher_p_value(a, n1, b, n2, alternative) <= alpha
    return rejections / trials


def cached_loop_power(n1: int, p1: float, n2: int, p2: float, *, trials: int, seed: int,
                      alpha: float, alternative: str) -> tuple[float, int]:
    """As :func:`scipy_loop_power`, with p-values cached per distinct table.

    Returns the power and the number of distinct tables (scipy calls) it needed.
    """
    x1, x2 = draw_counts(n1, p1, n2, p2, trials, seed)

    @functools.lru_cache(maxsize=None)
    def p_value(a: int, b: int) -> float:
        return _fisher_p_value(a, n1, b, n2, alternative)

    rejections = 0
    for a, b in zip(x1.tolist(), x2.tolist()):
        rejections += p_value(a, b) <= alpha
    return rejections / trials, p_value.cache_info().currsize


def all_tables(n1: int, n2: int) -> np.ndarray:
    """Every outcome (x1, x2): int64[(n1 + 1) * (n2 + 1), 2]."""
    x1, x2 = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    return np.column_stack([x1.ravel(), x2.ravel()])


def scipy_enumeration_power(n1: int, p1: float, n2: int, p2: float, *, alpha: float, alternative: str,
                            tables: Optional[np.ndarray] = None) -> tuple[float, np.ndarray]:
    """Exact power summed over ``tables`` (default: all of them), one ``fisher_exact`` call each.

    Returns the (partial, where ``tables`` is a subset) power and the p-value of each table.
    """
    if tables is None:
        tables = all_tables(n1, n2)
    pmf1 = stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    pmf2 = stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    p_values = np.empty(len(tables))
    power = 0.0
    for index, (a, b) in enumerate(tables.tolist()):
        p_values[index] = _fisher_p_value(a, n1, b, n2, alternative)
        if p_values[index] <= alpha:
            power += pmf1[a] * pmf2[b]
    return power, p_values

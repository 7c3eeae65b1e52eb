"""p-values of every outcome of a 2x2 design, by test: what the runner looks each trial up in.

A count-based test between two groups depends only on (x1, x2) given the group sizes, so its p-value
is computed once per possible table and each virtual trial's outcome is looked up. Tables are cached
per (test, n1, n2, alternative): a run asks for the same few tables many times (monitoring makes a
handful of group sizes possible), a sizing curve for one per size.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..kernels import fisher as kfisher
from ..scenario.fields import TWO_BY_TWO_TESTS
from .fisher import ALTERNATIVES, fisher_p_value_table

# Above this many tables, p-values are computed only for the outcomes asked for (Fisher only).
FULL_TABLE_CELLS = 1 << 20


@lru_cache(maxsize=256)
def _cached_table(test: str, n1: int, n2: int, alternative: str) -> np.ndarray:
    if test == "fisher":
        table = fisher_p_value_table(n1, n2, alternative=alternative)
    else:
        from .unconditional import unconditional_p_value_table

        table = unconditional_p_value_table(n1, n2, test=test, alternative=alternative)
    table.setflags(write=False)
    return table


def p_value_table(test: str, n1: int, n2: int, *, alternative: str = "two-sided") -> np.ndarray:
    """float64[n1 + 1, n2 + 1]: the p-value of every outcome (x1, x2) (read-only, cached)."""
    if test not in TWO_BY_TWO_TESTS:
        raise ValueError(f"test must be one of {', '.join(TWO_BY_TWO_TESTS)}; got {test!r}")
    return _cached_table(test, int(n1), int(n2), alternative)


def p_values_at(test: str, x1: np.ndarray, n1: int, x2: np.ndarray, n2: int, *,
                alternative: str = "two-sided") -> np.ndarray:
    """p-values of the outcomes (x1[i], x2[i]) of an n1 vs n2 design, without building huge tables."""
    if test != "fisher" or (n1 + 1) * (n2 + 1) <= FULL_TABLE_CELLS:
        return p_value_table(test, n1, n2, alternative=alternative)[x1, x2]
    return kfisher.fisher_p_values(np.ascontiguousarray(x1, dtype=np.int64), int(n1),
                                   np.ascontiguousarray(x2, dtype=np.int64), int(n2), ALTERNATIVES[alternative])

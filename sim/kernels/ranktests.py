"""Wilcoxon rank-sum (Mann-Whitney U) test, as ``scipy.stats.mannwhitneyu`` computes it.

U1 = R1 - n1(n1 + 1)/2 from mid-ranks of the pooled sample. Asymptotic method: z =
(U - n1 n2 / 2 - 1/2) / s with s^2 = n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1)))
(tie correction; the 1/2 is the continuity correction), p = f * P(Z >= z), where U =
max(U1, U2), f = 2 for two-sided, U = U1 for ``greater`` (x tends to exceed y) and U =
U2 for ``less``, f = 1. Exact method: p = f * P(U_null >= U) from a null table computed
once per pair of sample sizes.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit
from .fisher import ALTERNATIVE_GREATER, ALTERNATIVE_LESS

_SQRT2 = math.sqrt(2.0)
# Samples up to this size are sorted by insertion (fewer moves than merging for a typical trial's groups).
INSERTION_SORT_MAX = 40


@jit
def sort_with_flags(values, flags, scratch_values, scratch_flags):
    """Sort ``values`` ascending in place, carrying ``flags`` along (bottom-up merge sort, O(n log n)).

    Written out rather than ``np.argsort``: numba's generic merge sort costs seconds of compilation per
    array layout, this costs a fraction of one, and the scratch arrays are reused across trials.
    """
    n = values.shape[0]
    if n <= INSERTION_SORT_MAX:
        for i in range(1, n):
            value = values[i]
            flag = flags[i]
            j = i - 1
            while j >= 0 and values[j] > value:
                values[j + 1] = values[j]
                flags[j + 1] = flags[j]
                j -= 1
            values[j + 1] = value
            flags[j + 1] = flag
        return
    source_values, source_flags = values, flags
    target_values, target_flags = scratch_values, scratch_flags
    in_scratch = False
    width = 1
    while width < n:
        for low in range(0, n, 2 * width):
            middle = min(low + width, n)
            high = min(low + 2 * width, n)
            i = low
            j = middle
            k = low
            while i < middle and j < high:
                if source_values[j] < source_values[i]:
                    target_values[k] = source_values[j]
                    target_flags[k] = source_flags[j]
                    j += 1
                else:
                    target_values[k] = source_values[i]
                    target_flags[k] = source_flags[i]
                    i += 1
                k += 1
            while i < middle:
                target_values[k] = source_values[i]
                target_flags[k] = source_flags[i]
                i += 1
                k += 1
            while j < high:
                target_values[k] = source_values[j]
                target_flags[k] = source_flags[j]
                j += 1
                k += 1
        source_values, target_values = target_values, source_values
        source_flags, target_flags = target_flags, source_flags
        in_scratch = not in_scratch
        width *= 2
    if in_scratch:
        for i in range(n):
            values[i] = scratch_values[i]
            flags[i] = scratch_flags[i]


@jit
def rank_sum_u_sorted(x, y, pooled, flags, scratch_values, scratch_flags):
    """(U1, tie_term) of x against y by sorting; the four scratch arrays hold at least len(x) + len(y)."""
    n1 = x.shape[0]
    n = n1 + y.shape[0]
    values = pooled[:n]
    is_x = flags[:n]
    for i in range(n1):
        values[i] = x[i]
        is_x[i] = 1
    for i in range(y.shape[0]):
        values[n1 + i] = y[i]
        is_x[n1 + i] = 0
    sort_with_flags(values, is_x, scratch_values[:n], scratch_flags[:n])
    return u_from_sorted(values, is_x, n, n1)


@jit
def u_from_sorted(values, is_x, n, n1):
    """(U1, tie_term) of the first ``n`` values, in ascending order; ``is_x[k]`` is 1 where values[k]
    belongs to the first sample (``n1`` of them)."""
    rank_sum_x = 0.0
    tie_term = 0.0
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[j + 1] == values[i]:
            j += 1
        mid_rank = 0.5 * (i + j) + 1.0
        t = j - i + 1
        if t > 1:
            tie_term += t * t * t - t
        for k in range(i, j + 1):
            if is_x[k]:
                rank_sum_x += mid_rank
        i = j + 1
    return rank_sum_x - n1 * (n1 + 1) / 2.0, tie_term


@jit
def rank_sum_u(x, y):
    """(U1, tie_term): Mann-Whitney U of x against y, and sum over tie groups of t^3 - t."""
    n = x.shape[0] + y.shape[0]
    return rank_sum_u_sorted(x, y, np.empty(n), np.empty(n, dtype=np.int8), np.empty(n),
                             np.empty(n, dtype=np.int8))


@jit
def rank_sum_u_counts(x, y, max_value, histogram):
    """(U1, tie_term) as :func:`rank_sum_u`, for integer values in 0..max_value, by counting.

    Mid-ranks of tied integers follow from cumulative counts, so no sort is needed: O(n + max_value).
    ``histogram`` is scratch of at least 2 * (max_value + 1) int64. The sums are of half-integers and
    integers far below 2**52, so the result equals the sorting version exactly.
    """
    width = max_value + 1
    for v in range(2 * width):
        histogram[v] = 0
    for i in range(x.shape[0]):
        histogram[int(x[i])] += 1
    for i in range(y.shape[0]):
        histogram[width + int(y[i])] += 1
    return u_from_histogram(histogram, width, x.shape[0])


@jit
def u_from_histogram(histogram, width, n1):
    """(U1, tie_term) from counts of integer values: the first sample's (``n1`` values) in
    ``histogram[:width]``, the second's in ``histogram[width:2 * width]``. Mid-ranks of tied integers
    follow from cumulative counts."""
    below = 0
    rank_sum_x = 0.0
    tie_term = 0.0
    for v in range(width):
        in_x = histogram[v]
        tied = in_x + histogram[width + v]
        if tied == 0:
            continue
        mid_rank = below + 0.5 * (tied + 1)
        rank_sum_x += in_x * mid_rank
        if tied > 1:
            tie_term += tied * tied * tied - tied
        below += tied
    return rank_sum_x - n1 * (n1 + 1) / 2.0, tie_term


@jit
def mann_whitney_p_from_u(u1, tie_term, n1, n2, alternative, exact_sf):
    """p-value of the rank-sum test from U1 and the tie term; NaN when a sample is empty.

    ``exact_sf`` is the null survival table P(U >= u) for u = 0..n1*n2 (exact method), or
    an empty array for the asymptotic method with tie and continuity corrections.
    """
    if n1 == 0 or n2 == 0:
        return np.nan
    u2 = n1 * n2 - u1
    if alternative == ALTERNATIVE_GREATER:
        u = u1
        factor = 1.0
    elif alternative == ALTERNATIVE_LESS:
        u = u2
        factor = 1.0
    else:
        u = max(u1, u2)
        factor = 2.0
    if exact_sf.shape[0] > 0:
        p = factor * exact_sf[int(round(u))]
    else:
        n = n1 + n2
        variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))
        if variance <= 0.0:
            return 1.0  # every value tied: no evidence either way
        z = (u - n1 * n2 / 2.0 - 0.5) / math.sqrt(variance)
        p = factor * 0.5 * math.erfc(z / _SQRT2)
    return min(max(p, 0.0), 1.0)

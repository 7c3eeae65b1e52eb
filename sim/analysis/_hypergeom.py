"""The hypergeometric distribution of a 2x2 table, for any group size up to 10^12, in O(1) memory.

Group 1 has x1 events out of n1, group 2 has x2 out of n2; given k = x1 + x2 events in all,
X1 is hypergeometric on [lo, hi] = [max(0, k - n2), min(k, n1)], R ``dhyper(x1, n1, n2, k)``.

scipy's ``hypergeom`` is no help at these sizes: its ``logpmf`` (a difference of ``betaln``
values near 10^13) is off by about 1e-2 at n1 = n2 = k = 10^12, and its ``cdf`` walks the
support (minutes). Instead:

- :func:`log_pmf` is R's ``dhyper(log = TRUE)``: Loader's saddle-point expansion (Loader 2000,
  "Fast and accurate computation of binomial probabilities"), whose terms are all O(1), so it is
  accurate to about 1e-14 absolute whatever the size.
- :func:`outward_sum` adds the densities from a table outward, relative to that table, by the
  ratio recurrence in chunks, stopping when the rest is provably below 1e-17 of the sum (the
  density is log-concave, so past the mode each term shrinks at least as fast as the last ratio).
  This is R's ``pdhyper``: the work is the number of tables that carry mass, about 20 standard
  deviations, at most a few million for groups of 10^12, and memory is one chunk.
"""

from __future__ import annotations

import math

import numpy as np

_LN_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_LN_2PI = math.log(2 * math.pi)
# Terms below this fraction of the running sum are dropped (R's pdhyper uses DBL_EPSILON).
_NEGLIGIBLE = 1e-17
_FIRST_CHUNK = 64
_MAX_CHUNK = 1 << 16


def support(n1: int, n2: int, k: int) -> tuple[int, int]:
    return max(0, k - n2), min(k, n1)


def mode(n1: int, n2: int, k: int) -> int:
    """The (lower) mode, as the numba kernel takes it."""
    lo, hi = support(n1, n2, k)
    return min(max(((k + 1) * (n1 + 1)) // (n1 + n2 + 2), lo), hi)


def _stirlerr(n: float) -> float:
    """log(n!) - log(sqrt(2 pi n) (n/e)^n), R's stirlerr (Loader 2000) for whole n >= 1."""
    if n <= 15.0:
        return math.lgamma(n + 1.0) - (n + 0.5) * math.log(n) + n - _LN_SQRT_2PI
    s0, s1, s2, s3, s4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
    nn = n * n
    if n > 500:
        return (s0 - s1 / nn) / n
    if n > 80:
        return (s0 - (s1 - s2 / nn) / nn) / n
    if n > 35:
        return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n
    return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n


def _bd0(x: float, np_: float) -> float:
    """x log(x / np) + np - x, without cancellation when x is near np (R's bd0)."""
    if abs(x - np_) < 0.1 * (x + np_):
        v = (x - np_) / (x + np_)
        s = (x - np_) * v
        ej = 2 * x * v
        v = v * v
        for j in range(1, 1000):
            ej *= v
            s1 = s + ej / (2 * j + 1)
            if s1 == s:
                return s1
            s = s1
    return x * math.log(x / np_) + np_ - x


def _log_dbinom_raw(x: float, n: float, p: float, q: float) -> float:
    """log Binomial(x; n, p) with q = 1 - p given separately (R's dbinom_raw, log scale)."""
    if p == 0.0:
        return 0.0 if x == 0 else -math.inf
    if q == 0.0:
        return 0.0 if x == n else -math.inf
    if x == 0:
        if n == 0:
            return 0.0
        return -_bd0(n, n * q) - n * p if p < 0.1 else n * math.log(q)
    if x == n:
        return -_bd0(n, n * p) - n * q if q < 0.1 else n * math.log(p)
    if x < 0 or x > n:
        return -math.inf
    lc = _stirlerr(n) - _stirlerr(x) - _stirlerr(n - x) - _bd0(x, n * p) - _bd0(n - x, n * q)
    lf = _LN_2PI + math.log(x) + math.log1p(-x / n)
    return lc - 0.5 * lf


def log_pmf(x1: int, n1: int, n2: int, k: int) -> float:
    """log P(X1 = x1), R ``dhyper(x1, n1, n2, k, log = TRUE)``; -inf off the support."""
    lo, hi = support(n1, n2, k)
    if not lo <= x1 <= hi:
        return -math.inf
    if k == 0:
        return 0.0
    total = n1 + n2
    p, q = k / total, (total - k) / total
    return (_log_dbinom_raw(float(x1), float(n1), p, q) + _log_dbinom_raw(float(k - x1), float(n2), p, q)
            - _log_dbinom_raw(float(k), float(total), p, q))


def _ratios(start: int, count: int, n1: int, n2: int, k: int, step: int) -> np.ndarray:
    """density(j + step) / density(j) for j = start, start + step, ... (count of them), in float64.

    Products are formed in float64, never in int64: at n = 10^12 they reach 10^24.
    """
    j = start + step * np.arange(count, dtype=np.float64)
    if step > 0:
        ratio = ((k - j) * (n1 - j)) / ((j + 1.0) * (n2 - k + j + 1.0))
    else:
        ratio = (j * (n2 - k + j)) / ((k - j + 1.0) * (n1 - j + 1.0))
    return ratio


def outward_sum(start: int, step: int, n1: int, n2: int, k: int) -> float:
    """sum over j = start, start + step, ... to the end of the support of f(j) / f(start).

    f is the hypergeometric density. Meant for ``start`` at or beyond the mode in the direction
    ``step`` (+1 or -1), where the terms only shrink; it stays correct elsewhere, just slower
    (the terms are then summed until they shrink).
    """
    lo, hi = support(n1, n2, k)
    remaining = (hi - start) if step > 0 else (start - lo)
    log_start = log_pmf(start, n1, n2, k)
    total, term, j, chunk = 1.0, 1.0, start, _FIRST_CHUNK
    while remaining > 0:
        count = min(chunk, remaining)
        if j != start:
            # Re-anchor each chunk on the accurate log density, so that rounding in the
            # recurrence does not accumulate over millions of terms.
            term = math.exp(log_pmf(j, n1, n2, k) - log_start)
        ratio = _ratios(j, count, n1, n2, k, step)
        terms = term * np.cumprod(ratio)
        total += float(terms.sum())
        term = float(terms[-1])
        j += step * count
        remaining -= count
        last_ratio = float(ratio[-1])
        # Log-concavity: later ratios are <= the last one, so the rest is at most a geometric tail.
        if last_ratio < 1.0 and term * last_ratio / (1.0 - last_ratio) < _NEGLIGIBLE * total:
            break
        if not math.isfinite(total):
            break
        chunk = min(2 * chunk, _MAX_CHUNK)
    return total


def tail_le(x1: int, n1: int, n2: int, k: int) -> float:
    """P(X1 <= x1), summed from the smaller tail (as R's phyper)."""
    lo, hi = support(n1, n2, k)
    if x1 < lo:
        return 0.0
    if x1 >= hi:
        return 1.0
    if x1 <= mode(n1, n2, k):
        return min(1.0, math.exp(log_pmf(x1, n1, n2, k)) * outward_sum(x1, -1, n1, n2, k))
    return max(0.0, 1.0 - tail_ge(x1 + 1, n1, n2, k))


def tail_ge(x1: int, n1: int, n2: int, k: int) -> float:
    """P(X1 >= x1), summed from the smaller tail."""
    lo, hi = support(n1, n2, k)
    if x1 > hi:
        return 0.0
    if x1 <= lo:
        return 1.0
    if x1 >= mode(n1, n2, k):
        return min(1.0, math.exp(log_pmf(x1, n1, n2, k)) * outward_sum(x1, +1, n1, n2, k))
    return max(0.0, 1.0 - tail_le(x1 - 1, n1, n2, k))

"""Fisher's exact test for two binomial groups, and its exact power.

The p-values are R's ``fisher.test`` definition (see :mod:`sim.kernels.fisher`). A test rejects
when p <= alpha, decided by :func:`rejects` with a relative tolerance: see there.

:func:`fisher_exact` (one table) needs no numba: on supports of up to ``SMALL_SUPPORT`` tables it
runs the kernel's arithmetic in numpy (the same p-values, bit for bit), and on larger ones it
works from the accurate log density and tail sums of :mod:`._hypergeom`, in memory that does not
grow with n (groups up to ``MAX_PATIENTS``). The tables over every outcome
(:func:`fisher_p_value_table`, :func:`fisher_exact_power`) use the numba kernel, imported when
first needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import _hypergeom

# The kernel's codes (sim.kernels.fisher.ALTERNATIVE_*), written out so that importing this module
# does not import numba; tests/test_analyze_large.py checks they agree.
ALTERNATIVES = {
    "two-sided": 0,
    "less": 1,
    "greater": 2,
}

# Largest group size the scalar functions accept: every count and product they form stays exact
# or correctly rounded in float64, and the work stays under a second.
MAX_PATIENTS = 10**12

# Supports up to this many tables take the kernel's own arithmetic; larger ones the tail sums.
SMALL_SUPPORT = 1 << 16


# The same relative tolerance as R's two-sided "as or less likely" rule: a p-value that equals alpha
# in exact arithmetic but is computed a few ulps above it (3/300 as 0.010000000000000002) rejects.
# Equal to sim.kernels.fisher.RELATIVE_TIE_TOLERANCE (checked by the tests).
REJECTION_TOLERANCE = 1.0 + 1e-7


def rejects(p_value, alpha: float):
    """p <= alpha, decided as p <= alpha * (1 + 1e-7) (elementwise for arrays).

    Exact p-values are rational; their floating-point evaluation can land a few ulps either
    side of an alpha they equal exactly. The tolerance is far above rounding error (about 1e-15
    relative) and far below the gap between distinct attainable p-values of any design simtrial
    accepts, so the decision is the exact-arithmetic one; the tests check this against
    ``fractions.Fraction`` over many small designs and alphas.
    """
    return p_value <= alpha * REJECTION_TOLERANCE


def _alternative_code(alternative: str) -> int:
    try:
        return ALTERNATIVES[alternative]
    except KeyError:
        raise ValueError(f"alternative must be one of {', '.join(ALTERNATIVES)}; got {alternative!r}") from None


def _check_counts(x: int, n: int, label: str, *, max_n: float = math.inf) -> None:
    if int(n) != n or n < 1:
        raise ValueError(f"{label}: n must be a whole number >= 1, got {n!r}")
    if n > max_n:
        raise ValueError(f"{label}: n must be at most 10^12, got {n!r}")
    if int(x) != x or not 0 <= x <= n:
        raise ValueError(f"{label}: x must be a whole number between 0 and {n}, got {x!r}")


@dataclass(frozen=True)
class FisherExactResult:
    """Fisher's exact test of x1/n1 against x2/n2."""

    x1: int
    n1: int
    x2: int
    n2: int
    alternative: str
    p_value: float

    @property
    def table(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The 2x2 table (events, non-events) by group, as R and scipy take it."""
        return ((self.x1, self.n1 - self.x1), (self.x2, self.n2 - self.x2))


def fisher_exact(x1: int, n1: int, x2: int, n2: int, *, alternative: str = "two-sided") -> FisherExactResult:
    """Fisher's exact test of two proportions.

    Parameters
    ----------
    x1, n1 : int
        Events and patients in group 1.
    x2, n2 : int
        Events and patients in group 2.
    alternative : {"two-sided", "greater", "less"}
        ``greater``: group 1's rate is higher (odds ratio > 1).

    Returns
    -------
    FisherExactResult

    Notes
    -----
    Two-sided p sums the probabilities of all tables with the observed margins that are
    no more likely than the observed one, with R's relative tolerance 1 + 1e-7.
    Groups of up to 10^12 patients (``MAX_PATIENTS``); no numba. Supports of up to
    ``SMALL_SUPPORT`` tables give the kernel's p-value bit for bit, larger ones the same
    p-value from tail sums to about 1e-12 relative, in memory that does not grow with n.

    Examples
    --------
    Cho et al. (2009), severe cardiac toxicity 6/15 after TKI against 0/8 after bevacizumab:

    >>> round(fisher_exact(6, 15, 0, 8).p_value, 3)
    0.058
    """
    _check_counts(x1, n1, "group 1", max_n=MAX_PATIENTS)
    _check_counts(x2, n2, "group 2", max_n=MAX_PATIENTS)
    code = _alternative_code(alternative)
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    lo, hi = _hypergeom.support(n1, n2, x1 + x2)
    if hi - lo + 1 <= SMALL_SUPPORT:
        p = _p_value_small(x1, n1, x2, n2, code)
    else:
        p = _p_value_large(x1, n1, x2, n2, code)
    return FisherExactResult(x1, n1, x2, n2, alternative, p)


def _p_value_small(x1: int, n1: int, x2: int, n2: int, code: int) -> float:
    """The kernel's ``fisher_p_value`` in numpy, operation for operation.

    The densities relative to the mode come from the same ratio recurrence (the same float64
    operations, in the same order: ``np.cumprod`` multiplies sequentially), and the sums are
    sequential (``np.cumsum``) in the kernel's order, so the p-value is bit for bit the kernel's.
    Products are formed in float64 (exact products correctly rounded once, as the kernel's int64
    products are when they do not overflow).
    """
    k = x1 + x2
    lo, hi = _hypergeom.support(n1, n2, k)
    if lo == hi:
        return 1.0
    mode = _hypergeom.mode(n1, n2, k)
    # _ratios forms the same products and quotients in the same order, on the same float64 j (whole
    # numbers, exact below 2^53): bit for bit the ratios of the walk described above.
    up = np.cumprod(_hypergeom._ratios(mode, hi - mode, n1, n2, k, +1))
    down = np.cumprod(_hypergeom._ratios(mode, mode - lo, n1, n2, k, -1))
    # Density of the observed table relative to the mode, as the kernel's own walk reaches it.
    if x1 > mode:
        d_obs = float(up[x1 - mode - 1])
    elif x1 < mode:
        d_obs = float(down[mode - x1 - 1])
    else:
        d_obs = 1.0
    tables = np.concatenate(([mode], np.arange(mode + 1, hi + 1), np.arange(mode - 1, lo - 1, -1)))
    densities = np.concatenate(([1.0], up, down))
    if code == ALTERNATIVES["two-sided"]:
        chosen = densities <= d_obs * REJECTION_TOLERANCE
    elif code == ALTERNATIVES["less"]:
        chosen = tables <= x1
    else:
        chosen = tables >= x1
    total = float(np.cumsum(densities)[-1])
    selected = float(np.cumsum(np.where(chosen, densities, 0.0))[-1])
    return min(selected / total, 1.0)


def _p_value_large(x1: int, n1: int, x2: int, n2: int, code: int) -> float:
    """The same p-value from the accurate log density and tail sums: memory O(1) in n.

    Two-sided: the tables no more likely than the observed one (density <= observed times
    1 + 1e-7) are the two tails {X1 <= a} and {X1 >= b} of a unimodal distribution; a and b are
    found by bisection on the log density, and p = P(X1 <= a) + P(X1 >= b).
    """
    k = x1 + x2
    if code == ALTERNATIVES["less"]:
        return _hypergeom.tail_le(x1, n1, n2, k)
    if code == ALTERNATIVES["greater"]:
        return _hypergeom.tail_ge(x1, n1, n2, k)
    lo, hi = _hypergeom.support(n1, n2, k)
    mode = _hypergeom.mode(n1, n2, k)
    threshold = _hypergeom.log_pmf(x1, n1, n2, k) + math.log(REJECTION_TOLERANCE)

    def unlikely(j: int) -> bool:
        return _hypergeom.log_pmf(j, n1, n2, k) <= threshold

    if unlikely(mode):
        return 1.0
    p = 0.0
    if unlikely(lo):  # the last table at or below the mode that is no more likely: a
        a, b_ = lo, mode  # unlikely(a), not unlikely(b_)
        while b_ - a > 1:
            middle = (a + b_) // 2
            a, b_ = (middle, b_) if unlikely(middle) else (a, middle)
        p += _hypergeom.tail_le(a, n1, n2, k)
    if unlikely(hi):  # the first table above the mode that is no more likely: b
        a_, b = mode, hi  # not unlikely(a_), unlikely(b)
        while b - a_ > 1:
            middle = (a_ + b) // 2
            a_, b = (a_, middle) if unlikely(middle) else (middle, b)
        p += _hypergeom.tail_ge(b, n1, n2, k)
    return min(p, 1.0)


def fisher_p_value_table(n1: int, n2: int, *, alternative: str = "two-sided") -> np.ndarray:
    """p-values of every possible outcome: float64[n1 + 1, n2 + 1], indexed by (x1, x2)."""
    from ..kernels import fisher as kfisher

    _check_counts(0, n1, "group 1")
    _check_counts(0, n2, "group 2")
    return kfisher.fisher_p_value_table(int(n1), int(n2), _alternative_code(alternative))


def fisher_exact_power(
    n1: int, p1: float, n2: int, p2: float, *, alpha: float = 0.05, alternative: str = "two-sided"
) -> float:
    """Exact power by enumerating all (n1 + 1)(n2 + 1) outcomes.

    power = sum over (x1, x2) of Binom(x1; n1, p1) Binom(x2; n2, p2) [p(x1, x2) <= alpha]
    (decided by :func:`rejects`).

    Examples
    --------
    40% against 8.5%, 32 patients per group, two-sided at 0.05:

    >>> round(fisher_exact_power(32, 0.40, 32, 0.085), 3)
    0.807
    """
    return _power_from_table(fisher_p_value_table(n1, n2, alternative=alternative), n1, p1, n2, p2, alpha)


def _power_from_table(table: np.ndarray, n1: int, p1: float, n2: int, p2: float, alpha: float) -> float:
    """sum of Binom(x1; n1, p1) Binom(x2; n2, p2) over the outcomes whose p-value in ``table`` rejects:
    the enumeration every exact test's power shares (also :func:`sim.analysis.unconditional_exact_power`)."""
    reject = rejects(table, alpha)
    pmf1 = stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    pmf2 = stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    return float(pmf1 @ reject @ pmf2)

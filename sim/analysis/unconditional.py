"""Unconditional exact tests of two proportions: Boschloo's test and the z-pooled (Barnard) test.

Definitions are scipy's ``boschloo_exact`` and ``barnard_exact(pooled=True)``; the supremum over
the nuisance rate is computed accurately (see :mod:`sim.kernels.unconditional`), where scipy
samples 32 points by default. Group 1 is x1 events of n1; ``greater`` means group 1's rate is
higher, as in :func:`sim.analysis.fisher_exact`. scipy takes the groups as the *columns* of its
table: ``scipy.stats.boschloo_exact([[x1, x2], [n1 - x1, n2 - x2]], alternative)`` is
``boschloo_exact(x1, n1, x2, n2, alternative=alternative)`` here.

A test rejects when p <= alpha, decided by :func:`sim.analysis.rejects`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import unconditional as kunc
from ..scenario.fields import MAX_UNCONDITIONAL_N, TWO_BY_TWO_TESTS
from .fisher import _alternative_code, _power_from_table, rejects

UNCONDITIONAL_TESTS = {"boschloo": kunc.TEST_BOSCHLOO, "z-pooled": kunc.TEST_Z_POOLED}
EXACT_TESTS = TWO_BY_TWO_TESTS

# The kernels decide ties of the z-pooled statistic in int64 arithmetic, which is exact while
# n1 n2 (n1 + n2) < 6e9; 1000 per group keeps well inside that (and inside float64's range for
# the hypergeometric tails that order Boschloo's test).
MAX_GROUP_SIZE = MAX_UNCONDITIONAL_N


def _check_design(n1: int, n2: int) -> None:
    for label, n in (("group 1", n1), ("group 2", n2)):
        if isinstance(n, bool) or int(n) != n or not 1 <= n <= MAX_GROUP_SIZE:
            raise ValueError(f"{label}: n must be a whole number from 1 to {MAX_GROUP_SIZE}, got {n!r}")


def _check_count(x: int, n: int, label: str) -> None:
    if isinstance(x, bool) or int(x) != x or not 0 <= x <= n:
        raise ValueError(f"{label}: x must be a whole number between 0 and {n}, got {x!r}")


def _check_alternative(alternative: str) -> None:
    """fisher_exact's check, so that every test refuses an unknown alternative with the same message."""
    _alternative_code(alternative)


def _check_test(test: str, allowed) -> None:
    if test not in allowed:
        raise ValueError(f"test must be one of {', '.join(allowed)}; got {test!r}")


@dataclass(frozen=True)
class BoschlooExactResult:
    """Boschloo's exact test of x1/n1 against x2/n2.

    ``statistic`` is Fisher's one-sided p-value in the direction tested (two-sided: the smaller of
    the two one-sided ones, scipy's choice); ``nuisance_rate`` is the common rate pi at which the
    tail probability reaches its supremum (for two-sided, that of the smaller one-sided p-value).
    """

    x1: int
    n1: int
    x2: int
    n2: int
    alternative: str
    statistic: float
    p_value: float
    nuisance_rate: float

    @property
    def table(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The 2x2 table as scipy's ``boschloo_exact`` takes it: groups are columns."""
        return ((self.x1, self.x2), (self.n1 - self.x1, self.n2 - self.x2))


@dataclass(frozen=True)
class ZPooledExactResult:
    """The z-pooled unconditional exact test (Barnard's test with the pooled Wald statistic).

    ``statistic`` is z = (x1/n1 - x2/n2) / sqrt(p (1 - p) (1/n1 + 1/n2)), p = (x1 + x2) / (n1 + n2),
    0 when x1/n1 = x2/n2 (as scipy); ``nuisance_rate`` is the common rate at the supremum.
    """

    x1: int
    n1: int
    x2: int
    n2: int
    alternative: str
    statistic: float
    p_value: float
    nuisance_rate: float

    @property
    def table(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The 2x2 table as scipy's ``barnard_exact`` takes it: groups are columns."""
        return ((self.x1, self.x2), (self.n1 - self.x1, self.n2 - self.x2))


def _less_p_value(x1: int, n1: int, x2: int, n2: int, test: int) -> tuple[float, float]:
    p, rate = kunc.single_p_value(x1, n1, x2, n2, test, False)
    return float(p), float(rate)


def _greater_p_value(x1: int, n1: int, x2: int, n2: int, test: int) -> tuple[float, float]:
    # "greater" is "less" for the complemented table (events <-> non-events), at rate 1 - pi.
    p, rate = kunc.single_p_value(n1 - x1, n1, n2 - x2, n2, test, False)
    return float(p), 1.0 - float(rate)


def _validated(x1, n1, x2, n2, alternative) -> tuple[int, int, int, int]:
    _check_design(n1, n2)
    _check_count(x1, n1, "group 1")
    _check_count(x2, n2, "group 2")
    _check_alternative(alternative)
    return int(x1), int(n1), int(x2), int(n2)


def boschloo_exact(x1: int, n1: int, x2: int, n2: int, *, alternative: str = "two-sided") -> BoschlooExactResult:
    """Boschloo's unconditional exact test of two proportions.

    Parameters
    ----------
    x1, n1 : int
        Events and patients in group 1 (1 <= n1 <= 1000).
    x2, n2 : int
        Events and patients in group 2 (1 <= n2 <= 1000).
    alternative : {"two-sided", "greater", "less"}
        ``greater``: group 1's rate is higher.

    Returns
    -------
    BoschlooExactResult
        statistic (Fisher's one-sided p-value), p_value, nuisance_rate.

    Notes
    -----
    The statistic is Fisher's one-sided p-value: P(X1 <= x1 | x1 + x2) for ``less``,
    P(X1 >= x1 | x1 + x2) for ``greater``. The p-value is the supremum over the common rate
    pi in [0, 1] of the probability, with both groups Binomial(n_i, pi), of the tables whose
    statistic is <= the observed one times 1 + 1e-13 (scipy's tie tolerance). Two-sided:
    min(1, 2 min(p_less, p_greater)), as scipy ``boschloo_exact`` (Boschloo 1970, Statistica
    Neerlandica 24:1-35).

    Examples
    --------
    Cho et al. (2009), 6/15 after TKI against 0/8 after bevacizumab:

    >>> round(boschloo_exact(6, 15, 0, 8).p_value, 4)
    0.0412
    """
    x1, n1, x2, n2 = _validated(x1, n1, x2, n2, alternative)
    _, fisher_less = kunc.hypergeometric_tables(n1, n2)
    less_stat = float(fisher_less[x1, x2])
    greater_stat = float(fisher_less[n1 - x1, n2 - x2])  # P(X1 >= x1 | S) = P(n1 - X1 <= n1 - x1 | N - S)
    if alternative == "less":
        p, rate = _less_p_value(x1, n1, x2, n2, kunc.TEST_BOSCHLOO)
        return BoschlooExactResult(x1, n1, x2, n2, alternative, less_stat, p, rate)
    if alternative == "greater":
        p, rate = _greater_p_value(x1, n1, x2, n2, kunc.TEST_BOSCHLOO)
        return BoschlooExactResult(x1, n1, x2, n2, alternative, greater_stat, p, rate)
    p_less, rate_less = _less_p_value(x1, n1, x2, n2, kunc.TEST_BOSCHLOO)
    p_greater, rate_greater = _greater_p_value(x1, n1, x2, n2, kunc.TEST_BOSCHLOO)
    # scipy: the "less" side only when its p-value is strictly smaller.
    if p_less < p_greater:
        return BoschlooExactResult(x1, n1, x2, n2, alternative, less_stat, min(1.0, 2.0 * p_less), rate_less)
    return BoschlooExactResult(x1, n1, x2, n2, alternative, greater_stat, min(1.0, 2.0 * p_greater), rate_greater)


def z_pooled_exact(x1: int, n1: int, x2: int, n2: int, *, alternative: str = "two-sided") -> ZPooledExactResult:
    """The z-pooled unconditional exact test (Barnard's test, pooled variance) of two proportions.

    Parameters
    ----------
    x1, n1 : int
        Events and patients in group 1 (1 <= n1 <= 1000).
    x2, n2 : int
        Events and patients in group 2 (1 <= n2 <= 1000).
    alternative : {"two-sided", "greater", "less"}
        ``greater``: group 1's rate is higher.

    Returns
    -------
    ZPooledExactResult
        statistic (the pooled z), p_value, nuisance_rate.

    Notes
    -----
    z = (x1/n1 - x2/n2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (x1 + x2) / (n1 + n2). The p-value
    is the supremum over the common rate pi in [0, 1] of P_pi(Z <= z) (``less``), P_pi(Z >= z)
    (``greater``) or P_pi(|Z| >= |z|) (two-sided), as scipy ``barnard_exact(pooled=True)``
    (Barnard 1947, Biometrika 34:123-138; Suissa and Shuster 1985, JRSS A 148:317-327). Ties in z
    are decided exactly (z^2 is a ratio of integers), where scipy compares rounded floats.

    Examples
    --------
    Cho et al. (2009), 6/15 after TKI against 0/8 after bevacizumab:

    >>> result = z_pooled_exact(6, 15, 0, 8)
    >>> round(result.statistic, 3), round(result.p_value, 4)
    (2.081, 0.0405)
    """
    x1, n1, x2, n2 = _validated(x1, n1, x2, n2, alternative)
    statistic = float(kunc.z_pooled_statistic(x1, n1, x2, n2))
    if alternative == "less":
        p, rate = _less_p_value(x1, n1, x2, n2, kunc.TEST_Z_POOLED)
    elif alternative == "greater":
        p, rate = _greater_p_value(x1, n1, x2, n2, kunc.TEST_Z_POOLED)
    else:
        p, rate = kunc.single_p_value(x1, n1, x2, n2, kunc.TEST_Z_POOLED, True)
    return ZPooledExactResult(x1, n1, x2, n2, alternative, statistic, float(p), float(rate))


def unconditional_p_value_table(n1: int, n2: int, *, test: str, alternative: str = "two-sided") -> np.ndarray:
    """p-values of every possible outcome: float64[n1 + 1, n2 + 1], indexed by (x1, x2).

    Parameters
    ----------
    n1, n2 : int
        Group sizes, 1 to 1000 each.
    test : {"boschloo", "z-pooled"}
        The unconditional exact test (definitions in :func:`boschloo_exact`, :func:`z_pooled_exact`).
    alternative : {"two-sided", "greater", "less"}
        ``greater``: group 1's rate is higher.

    Returns
    -------
    numpy.ndarray
        ``table[x1, x2]`` equals ``boschloo_exact(x1, n1, x2, n2, alternative=...).p_value``
        (or ``z_pooled_exact``'s), computed for all tables at once.

    Notes
    -----
    The tables are sorted once by the statistic; at every rate of a grid uniform in asin(sqrt(pi))
    a running sum in that order gives every set's tail probability; each set's supremum is its best
    grid value refined by Newton steps around every grid local maximum that could hold it
    (:mod:`sim.kernels.unconditional`). ``greater`` is ``less`` read backwards:
    p_greater(x1, x2) = p_less(n1 - x1, n2 - x2).

    Examples
    --------
    >>> table = unconditional_p_value_table(15, 8, test="boschloo")
    >>> round(float(table[6, 0]), 4)
    0.0412
    """
    _check_test(test, UNCONDITIONAL_TESTS)
    code = UNCONDITIONAL_TESTS[test]
    _check_design(n1, n2)
    _check_alternative(alternative)
    n1, n2 = int(n1), int(n2)
    if test == "z-pooled" and alternative == "two-sided":
        return kunc.p_value_table(n1, n2, code, True)
    less = kunc.p_value_table(n1, n2, code, False)
    if alternative == "less":
        return less
    greater = less[::-1, ::-1].copy()
    if alternative == "greater":
        return greater
    return np.minimum(1.0, 2.0 * np.minimum(less, greater))


def exact_p_value_table(n1: int, n2: int, *, test: str, alternative: str = "two-sided") -> np.ndarray:
    """p-value table of any exact two-group test: ``fisher`` (R ``fisher.test``), ``boschloo`` or ``z-pooled``.

    >>> exact_p_value_table(15, 8, test="fisher").shape
    (16, 9)
    """
    from .tables import p_value_table

    # p_value_table checks the test against the same tuple, with the same message.
    return p_value_table(test, n1, n2, alternative=alternative).copy()


def unconditional_exact_power(
    n1: int, p1: float, n2: int, p2: float, *, test: str, alpha: float = 0.05, alternative: str = "two-sided"
) -> float:
    """Exact power of an unconditional exact test by enumerating all (n1 + 1)(n2 + 1) outcomes.

    power = sum over (x1, x2) of Binom(x1; n1, p1) Binom(x2; n2, p2) [p(x1, x2) <= alpha], the
    rejection decided by :func:`sim.analysis.rejects` on :func:`unconditional_p_value_table`.

    Examples
    --------
    40% against 8.5%, 30 patients per group, two-sided at 0.05:

    >>> round(unconditional_exact_power(30, 0.40, 30, 0.085, test="boschloo"), 3)
    0.803
    """
    table = unconditional_p_value_table(n1, n2, test=test, alternative=alternative)
    return _power_from_table(table, n1, p1, n2, p2, alpha)


@dataclass(frozen=True)
class ExactSize:
    """The size of an exact test: its largest rejection probability under the null p1 = p2."""

    test: str
    n1: int
    n2: int
    alternative: str
    alpha: float
    size: float
    null_rate: float

    @property
    def conservatism(self) -> float:
        """size / alpha: 1 would use all of alpha."""
        return self.size / self.alpha


def exact_size(n1: int, n2: int, *, test: str, alpha: float = 0.05, alternative: str = "two-sided") -> ExactSize:
    """Size of ``fisher``, ``boschloo`` or ``z-pooled``: sup over the common rate pi of P(reject).

    Parameters
    ----------
    n1, n2 : int
        Group sizes (1 to 1000).
    test : {"fisher", "boschloo", "z-pooled"}
    alpha : float
        Nominal level; rejection is :func:`sim.analysis.rejects`.
    alternative : {"two-sided", "greater", "less"}

    Returns
    -------
    ExactSize
        ``size`` and the ``null_rate`` where it is reached.

    Notes
    -----
    The rejection region is fixed; its probability under p1 = p2 = pi is a polynomial in pi whose
    supremum is found as the p-values' (grid in asin(sqrt(pi)) and Newton refinement). The
    unconditional tests' size is at most alpha by construction (up to the 1e-7 relative tolerance
    of :func:`rejects`); Fisher's is usually well below.

    Examples
    --------
    >>> result = exact_size(30, 30, test="fisher")
    >>> result.size < 0.05
    True
    """
    _check_test(test, EXACT_TESTS)
    _check_design(n1, n2)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1; got {alpha!r}")
    from .tables import p_value_table

    # The cached table itself: it is only read here, so exact_p_value_table's copy is not needed.
    table = p_value_table(test, n1, n2, alternative=alternative)
    size, rate = kunc.region_supremum(rejects(table, alpha), int(n1), int(n2))
    return ExactSize(test, int(n1), int(n2), alternative, float(alpha), float(size), float(rate))

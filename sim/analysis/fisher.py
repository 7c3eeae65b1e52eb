"""Fisher's exact test for two binomial groups, and its exact power.

The p-values are R's ``fisher.test`` definition (see :mod:`sim.kernels.fisher`). A test rejects
when p <= alpha, decided by :func:`rejects` with a relative tolerance: see there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..kernels import fisher as kfisher

ALTERNATIVES = {
    "two-sided": kfisher.ALTERNATIVE_TWO_SIDED,
    "less": kfisher.ALTERNATIVE_LESS,
    "greater": kfisher.ALTERNATIVE_GREATER,
}


# The same relative tolerance as R's two-sided "as or less likely" rule: a p-value that equals alpha
# in exact arithmetic but is computed a few ulps above it (3/300 as 0.010000000000000002) rejects.
REJECTION_TOLERANCE = kfisher.RELATIVE_TIE_TOLERANCE


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


def _check_counts(x: int, n: int, label: str) -> None:
    if int(n) != n or n < 1:
        raise ValueError(f"{label}: n must be a whole number >= 1, got {n!r}")
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

    Notes
    -----
    Two-sided p sums the probabilities of all tables with the observed margins that are
    no more likely than the observed one, with R's relative tolerance 1 + 1e-7.

    Examples
    --------
    Cho et al. (2009), severe cardiac toxicity 6/15 after TKI against 0/8 after bevacizumab:

    >>> round(fisher_exact(6, 15, 0, 8).p_value, 3)
    0.058
    """
    _check_counts(x1, n1, "group 1")
    _check_counts(x2, n2, "group 2")
    code = _alternative_code(alternative)
    p = float(kfisher.fisher_p_value(int(x1), int(n1), int(x2), int(n2), code))
    return FisherExactResult(int(x1), int(n1), int(x2), int(n2), alternative, p)


def fisher_p_value_table(n1: int, n2: int, *, alternative: str = "two-sided") -> np.ndarray:
    """p-values of every possible outcome: float64[n1 + 1, n2 + 1], indexed by (x1, x2)."""
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
    reject = rejects(fisher_p_value_table(n1, n2, alternative=alternative), alpha)
    pmf1 = stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    pmf2 = stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    return float(pmf1 @ reject @ pmf2)

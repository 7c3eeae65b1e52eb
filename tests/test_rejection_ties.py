"""Rejection at p = alpha is decided as exact arithmetic decides it (issue 9, section 0).

Reference: ``fractions.Fraction`` arithmetic. Hypergeometric probabilities are ratios of binomial
coefficients (``math.comb``), so every exact p-value is a rational number and ``p <= alpha`` is
decided without rounding; alpha is read from its decimal text (``Fraction("0.01")`` is 1/100).
"""

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

from sim.analysis import fisher_exact_power, fisher_p_value_table, rejects
from sim.runner import run_scenario
from sim.scenario import validate_scenario


@lru_cache(maxsize=None)
def exact_p_values(n1: int, n2: int, alternative: str) -> dict:
    """{(x1, x2): p} as Fractions: Fisher's test as R defines it, in exact arithmetic."""
    out = {}
    for k in range(n1 + n2 + 1):
        low, high = max(0, k - n2), min(k, n1)
        density = {i: Fraction(math.comb(n1, i) * math.comb(n2, k - i), math.comb(n1 + n2, k))
                   for i in range(low, high + 1)}
        for x1 in range(low, high + 1):
            if alternative == "greater":
                p = sum(d for i, d in density.items() if i >= x1)
            elif alternative == "less":
                p = sum(d for i, d in density.items() if i <= x1)
            else:
                p = sum(d for d in density.values() if d <= density[x1])
            out[(x1, k - x1)] = p
    return out


def decimal_alphas(p_values) -> set:
    """Attainable p-values that a user could type as alpha (terminating decimals up to 6 places)."""
    chosen = set()
    for p in p_values:
        if 0 < p < 1 and (p * 10**6).denominator == 1:
            chosen.add(p)
    return chosen


DESIGNS = [(n1, n2) for n1 in range(1, 13) for n2 in range(1, 13)] + [(3, 22), (8, 7), (15, 8), (20, 25)]
STANDARD_ALPHAS = [Fraction(a) for a in ("0.001", "0.01", "0.025", "0.05", "0.1", "0.2")]


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_decisions_equal_exact_arithmetic_on_small_designs(alternative):
    ties_checked = 0
    for n1, n2 in DESIGNS:
        exact = exact_p_values(n1, n2, alternative)
        table = fisher_p_value_table(n1, n2, alternative=alternative)
        alphas = STANDARD_ALPHAS + sorted(decimal_alphas(exact.values()))
        for alpha in alphas:
            alpha_float = float(alpha)
            for (x1, x2), p in exact.items():
                expected = p <= alpha
                assert bool(rejects(table[x1, x2], alpha_float)) == expected, (n1, n2, x1, x2, alpha, p)
                ties_checked += p == alpha
    assert ties_checked > 100  # the test exercises exact ties, not only clear-cut decisions


def test_the_issue_example_p_equals_alpha():
    """`analyze --group a=2/3 --group b=0/22`: the one-sided p is 3/300 = 0.01 exactly."""
    assert exact_p_values(3, 22, "greater")[(2, 0)] == Fraction(1, 100)
    p = fisher_p_value_table(3, 22, alternative="greater")[2, 0]
    assert p != 0.01  # computed a few ulps off, which is why the tolerance exists
    assert rejects(p, 0.01)


def exact_power_rational(n1, p1, n2, p2, alpha, alternative) -> Fraction:
    p1, p2, alpha = Fraction(p1), Fraction(p2), Fraction(alpha)
    total = Fraction(0)
    for (x1, x2), p in exact_p_values(n1, n2, alternative).items():
        if p <= alpha:
            total += (math.comb(n1, x1) * p1**x1 * (1 - p1) ** (n1 - x1)
                      * math.comb(n2, x2) * p2**x2 * (1 - p2) ** (n2 - x2))
    return total


TIES_SCENARIO = {
    "name": "ties", "trials": 200000, "seed": 1,
    "groups": {"A": {"n": 3, "cardiac_event": {"p": 0.42}}, "B": {"n": 22, "cardiac_event": {"p": 0.13}},
               "C": {"n": 8, "cardiac_event": {"p": 0.37}}, "D": {"n": 7, "cardiac_event": {"p": 0.21}}},
    "analyses": [
        {"id": "AB", "compare": "cardiac_event", "groups": ["A", "B"], "alternative": "greater", "alpha": 0.01},
        {"id": "CD", "compare": "cardiac_event", "groups": ["C", "D"], "alternative": "two-sided", "alpha": 0.2},
    ],
}


def test_issue_scenario_exact_and_monte_carlo_power():
    """Whole-number arithmetic gives AB 0.06481 and CD 0.19315 (simtrial gave 0.05047 and 0.13909)."""
    ab = exact_power_rational(3, "0.42", 22, "0.13", "0.01", "greater")
    cd = exact_power_rational(8, "0.37", 7, "0.21", "0.2", "two-sided")
    assert round(float(ab), 5) == 0.06481 and round(float(cd), 5) == 0.19315
    assert fisher_exact_power(3, 0.42, 22, 0.13, alpha=0.01, alternative="greater") == pytest.approx(float(ab), abs=1e-12)
    assert fisher_exact_power(8, 0.37, 7, 0.21, alpha=0.2) == pytest.approx(float(cd), abs=1e-12)
    result = run_scenario(validate_scenario(TIES_SCENARIO))
    for summary, exact in zip(result.summaries, (ab, cd)):
        assert summary.exact_power == pytest.approx(float(exact), abs=1e-12)
        assert abs(summary.power_z) <= 4  # Monte Carlo within 4 SE of the exact power


def test_rejects_is_elementwise_and_strict_beyond_the_tolerance():
    p = np.array([0.05, 0.05 * (1 + 5e-8), 0.05 * (1 + 2e-7), 0.06])
    assert rejects(p, 0.05).tolist() == [True, True, False, False]

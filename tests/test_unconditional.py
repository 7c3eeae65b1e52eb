"""Boschloo's and the z-pooled unconditional exact tests against brute force, scipy and R.

References, each independent of the kernels:
- a brute-force twin (below): the statistic in exact rational arithmetic (``fractions``), the tail
  probability on a 10,001-point grid uniform in pi with scipy's binomial pmf, every grid local
  maximum near the best refined with ``scipy.optimize.minimize_scalar(method="bounded")``;
- scipy ``boschloo_exact`` and ``barnard_exact(pooled=True)`` with n=200 sampling points;
- R package Exact 3.3 (``exact.test``, ``power.exact.test``; numbers quoted with their calls).
"""

from __future__ import annotations

import functools
import itertools
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from sim.analysis import fisher_exact, fisher_p_value_table, rejects
from sim.analysis.unconditional import (
    MAX_GROUP_SIZE,
    boschloo_exact,
    exact_p_value_table,
    exact_size,
    unconditional_exact_power,
    unconditional_p_value_table,
    z_pooled_exact,
)
from sim.kernels import nuisance as knuisance
from sim.kernels import unconditional as kunc

ALTERNATIVES = ("two-sided", "less", "greater")
TESTS = ("boschloo", "z-pooled")
REPO = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- brute-force twin

def exact_statistics(n1: int, n2: int, test: str, alternative: str) -> dict[tuple[int, int], Fraction]:
    """Every table's statistic as an exact rational, oriented so that smaller is more extreme."""
    n_total = n1 + n2
    keys = {}
    for x1, x2 in itertools.product(range(n1 + 1), range(n2 + 1)):
        margin = x1 + x2
        if test == "boschloo":
            low, high = max(0, margin - n2), min(margin, n1)
            tail = range(low, x1 + 1) if alternative == "less" else range(x1, high + 1)
            count = sum(math.comb(n1, i) * math.comb(n2, margin - i) for i in tail)
            keys[x1, x2] = Fraction(count, math.comb(n_total, margin))  # Fisher's one-sided p
        else:
            d = x1 * n2 - x2 * n1
            z_squared = Fraction(0) if d == 0 else Fraction(d * d * n_total, n1 * n2 * margin * (n_total - margin))
            signed = z_squared if d >= 0 else -z_squared
            keys[x1, x2] = {"less": signed, "greater": -signed, "two-sided": -z_squared}[alternative]
    return keys


def brute_force_table(n1: int, n2: int, test: str, alternative: str, grid: int = 10_001) -> np.ndarray:
    """p-value of every table: sup over pi of P(as or more extreme), by grid and bounded refinement."""
    return _brute_force_table(n1, n2, test, alternative, grid).copy()


@functools.lru_cache(maxsize=None)
def _brute_force_table(n1: int, n2: int, test: str, alternative: str, grid: int) -> np.ndarray:
    if test == "boschloo" and alternative == "two-sided":
        less = _brute_force_table(n1, n2, test, "less", grid)
        greater = _brute_force_table(n1, n2, test, "greater", grid)
        return np.minimum(1.0, 2.0 * np.minimum(less, greater))
    keys = exact_statistics(n1, n2, test, alternative)
    tables = sorted(keys, key=keys.get)
    x1 = np.array([t[0] for t in tables])
    x2 = np.array([t[1] for t in tables])
    rates = np.linspace(0.0, 1.0, grid)
    probabilities = (stats.binom.pmf(x1[None, :], n1, rates[:, None])
                     * stats.binom.pmf(x2[None, :], n2, rates[:, None]))
    tails = np.cumsum(probabilities, axis=1)
    coefficients = np.array([math.comb(n1, a) * math.comb(n2, b) for a, b in tables], dtype=float)
    margins = x1 + x2
    out = np.empty((n1 + 1, n2 + 1))
    i = 0
    while i < len(tables):
        last = i
        while last + 1 < len(tables) and keys[tables[last + 1]] == keys[tables[i]]:
            last += 1
        members = slice(0, last + 1)

        def tail(rate, members=members):
            return float(np.sum(coefficients[members] * rate ** margins[members]
                                * (1.0 - rate) ** (n1 + n2 - margins[members])))

        values = tails[:, last]
        best = float(values.max())
        if best < 1.0 - 1e-12:
            inner = values[1:-1]
            peaks = 1 + np.flatnonzero((inner > values[:-2]) & (inner >= values[2:]) & (inner >= best - 1e-3))
            for g in peaks:
                found = optimize.minimize_scalar(lambda r: -tail(r), bounds=(rates[g - 1], rates[g + 1]),
                                                 method="bounded", options={"xatol": 1e-12})
                best = max(best, -found.fun)
        for t in tables[i:last + 1]:
            out[t] = min(best, 1.0)
        i = last + 1
    return out


def scipy_result(test: str, x1: int, n1: int, x2: int, n2: int, alternative: str):
    table = [[x1, x2], [n1 - x1, n2 - x2]]  # scipy: groups are columns
    if test == "boschloo":
        return stats.boschloo_exact(table, alternative=alternative, n=200)
    return stats.barnard_exact(table, alternative=alternative, pooled=True, n=200)


def ours(test: str, x1: int, n1: int, x2: int, n2: int, alternative: str):
    function = boschloo_exact if test == "boschloo" else z_pooled_exact
    return function(x1, n1, x2, n2, alternative=alternative)


# --------------------------------------------------------------------------- naive twins of kernel parts

@pytest.mark.parametrize("n1,n2", [(1, 1), (4, 9), (15, 8), (30, 30), (200, 3)])
def test_hypergeometric_tables_match_scipy(n1, n2):
    hyp, less = kunc.hypergeometric_tables(n1, n2)
    x1, x2 = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    margin = x1 + x2
    np.testing.assert_allclose(hyp, stats.hypergeom.pmf(x1, n1 + n2, n1, margin), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(less, stats.hypergeom.cdf(x1, n1 + n2, n1, margin), rtol=1e-12, atol=1e-300)
    top = np.minimum(margin, n1) == x1
    assert np.all(less[top] == 1.0)


@pytest.mark.parametrize("n", [1, 2, 7, 60, 400])
@pytest.mark.parametrize("rate", [0.0, 1e-9, 0.003, 0.085, 0.4, 0.5, 0.97, 1.0 - 1e-12, 1.0])
def test_binomial_pmf_matches_scipy(n, rate):
    out = np.empty(n + 1)
    knuisance.binomial_pmf_into(n, rate, out)
    np.testing.assert_allclose(out, stats.binom.pmf(np.arange(n + 1), n, rate), rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("n1,n2", [(1, 1), (3, 3), (5, 8), (10, 10), (12, 7)])
@pytest.mark.parametrize("two_sided", [False, True])
def test_z_pooled_keys_are_the_exact_ratios(n1, n2, two_sided):
    keys, num, den = kunc.z_pooled_keys(n1, n2, two_sided)
    exact = exact_statistics(n1, n2, "z-pooled", "two-sided" if two_sided else "less")
    for (x1, x2), value in exact.items():
        t = x1 * (n2 + 1) + x2
        # The kernel's ratio omits the positive factor N / (n1 n2) of z^2.
        assert Fraction(int(num[t]), int(den[t])) * Fraction(n1 + n2, n1 * n2) == value
        assert keys[t] == float(Fraction(int(num[t]), int(den[t])))


@pytest.mark.parametrize("x1,n1,x2,n2", [(6, 15, 0, 8), (0, 5, 5, 5), (3, 3, 0, 2), (7, 20, 7, 20), (0, 9, 0, 4)])
def test_z_statistic_matches_scipy(x1, n1, x2, n2):
    expected = scipy_result("z-pooled", x1, n1, x2, n2, "two-sided").statistic
    assert z_pooled_exact(x1, n1, x2, n2).statistic == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_exact_ties_split_from_equal_floats():
    """Distinct ratios that share a float key (possible above ~360 per group) are re-sorted exactly,
    and equal ratios tie whatever their representation."""
    keys = np.zeros(5)
    num = np.array([3, 1, 2, -1, 2], dtype=np.int64)
    den = np.array([9, 3, 5, 4, 6], dtype=np.int64)  # 1/3, 1/3, 2/5, -1/4, 1/3
    order, end = kunc.prefix_ends_exact(keys, num, den)
    assert list(order) == [3, 0, 1, 4, 2]
    assert list(end) == [0, 3, 3, 3, 4]


def _sorted_exact_values(n1, n2, test):
    order, end, _ = kunc.ordering(n1, n2, kunc.TEST_BOSCHLOO if test == "boschloo" else kunc.TEST_Z_POOLED, False)
    exact = exact_statistics(n1, n2, test, "less")
    return [exact[divmod(int(t), n2 + 1)] for t in order], end


@pytest.mark.parametrize("test", TESTS)
def test_tie_classes_equal_exact_arithmetic_on_small_designs(test):
    """Each table's set of tables "as or more extreme" is the exact one. For Boschloo this says that
    scipy's relative tolerance 1e-13 on Fisher's p-value merges exactly the rational ties and no
    distinct values, on every design up to 14 per group and on 20 vs 20 and 25 vs 18."""
    for n1, n2 in [*itertools.product(range(1, 15), repeat=2), (20, 20), (25, 18)]:
        values, end = _sorted_exact_values(n1, n2, test)
        assert values == sorted(values), (n1, n2)
        for i, last in enumerate(end):
            assert values[last] == values[i], (n1, n2, i)
            assert last + 1 == len(values) or values[last + 1] > values[i], (n1, n2, i)


@pytest.mark.parametrize("n1,n2", [(30, 30), (40, 40), (50, 20)])
def test_boschloo_sets_follow_scipys_tolerance_on_larger_designs(n1, n2):
    """From about 30 per group some distinct Fisher p-values differ by less than float64 resolution;
    they all lie above 1 - 1e-10 (as far as 100 per group). The sets are still exactly scipy's rule,
    {s : p_s <= p_t (1 + 1e-13)}, evaluated here in rational arithmetic, and z-pooled's are exact."""
    tolerance = Fraction(1) + Fraction(1, 10**13)
    values, end = _sorted_exact_values(n1, n2, "boschloo")
    for i, last in enumerate(end):
        assert values[last] <= values[i] * tolerance
        assert last + 1 == len(values) or values[last + 1] > values[i] * tolerance
    distinct = sorted(set(values))
    near_ties = [a for a, b in zip(distinct, distinct[1:]) if b - a <= b * Fraction(1, 10**13)]
    assert near_ties and min(near_ties) > 1 - Fraction(1, 10**10)
    values, end = _sorted_exact_values(n1, n2, "z-pooled")
    assert values == sorted(values)
    assert all(values[last] == values[i] and (last + 1 == len(values) or values[last + 1] > values[i])
               for i, last in enumerate(end))


# --------------------------------------------------------------------------- brute force

FAST_DESIGNS = [(1, 1), (1, 6), (2, 5), (4, 4), (6, 3), (7, 9), (10, 10)]
SLOW_DESIGNS = [(3, 14), (12, 12), (15, 8), (9, 16), (30, 30), (40, 25)]


@pytest.mark.parametrize("n1,n2", FAST_DESIGNS)
@pytest.mark.parametrize("test", TESTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_tables_match_brute_force(n1, n2, test, alternative):
    table = unconditional_p_value_table(n1, n2, test=test, alternative=alternative)
    np.testing.assert_allclose(table, brute_force_table(n1, n2, test, alternative), rtol=0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("n1,n2", SLOW_DESIGNS)
@pytest.mark.parametrize("test", TESTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_tables_match_brute_force_larger(n1, n2, test, alternative):
    table = unconditional_p_value_table(n1, n2, test=test, alternative=alternative)
    np.testing.assert_allclose(table, brute_force_table(n1, n2, test, alternative), rtol=0, atol=1e-6)


@pytest.mark.parametrize("n1,n2", [(4, 4), (7, 9), (15, 8)])
@pytest.mark.parametrize("test", TESTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_table_equals_single_table_functions(n1, n2, test, alternative):
    table = unconditional_p_value_table(n1, n2, test=test, alternative=alternative)
    singles = np.array([[ours(test, x1, n1, x2, n2, alternative).p_value for x2 in range(n2 + 1)]
                        for x1 in range(n1 + 1)])
    np.testing.assert_allclose(table, singles, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- scipy

def scipy_splits_a_tie(x1: int, n1: int, x2: int, n2: int, alternative: str) -> np.ndarray:
    """scipy barnard_exact's set of tables as or more extreme, from its own float statistic
    (scipy/stats/_hypotests.py), where it differs from the exact set; else None."""
    a = np.arange(n1 + 1).reshape(-1, 1)
    b = np.arange(n2 + 1).reshape(1, -1)
    p1, p2 = a / n1, b / n2
    pooled = (a + b) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        wald = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    wald[p1 == p2] = 0
    observed = wald[x1, x2]
    scipy_set = {"two-sided": np.abs(wald) >= abs(observed), "less": wald <= observed,
                 "greater": wald >= observed}[alternative]
    exact = exact_statistics(n1, n2, "z-pooled", alternative)
    exact_set = np.array([[exact[i, j] <= exact[x1, x2] for j in range(n2 + 1)] for i in range(n1 + 1)])
    return None if np.array_equal(scipy_set, exact_set) else scipy_set


def _check_against_scipy(test, x1, n1, x2, n2, alternative):
    reference = scipy_result(test, x1, n1, x2, n2, alternative)
    result = ours(test, x1, n1, x2, n2, alternative)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-12, abs=1e-15)
    split = scipy_splits_a_tie(x1, n1, x2, n2, alternative) if test == "z-pooled" else None
    if split is None:
        # scipy's shgo lands within about 1e-13 of the supremum with n=200; it cannot exceed it.
        assert result.p_value == pytest.approx(reference.pvalue, abs=1e-9)
        assert result.p_value >= reference.pvalue - 1e-12
    else:
        # scipy's rounding left out a table whose z is exactly tied with the observed one: our
        # p-value is larger, and the supremum over scipy's own set is scipy's p-value.
        assert result.p_value >= reference.pvalue - 1e-12
        assert kunc.region_supremum(split, n1, n2)[0] == pytest.approx(reference.pvalue, abs=1e-9)


SCIPY_FAST = [(15, 8, 6, 0), (15, 8, 3, 2), (30, 30, 7, 12), (12, 40, 1, 18), (30, 30, 12, 3)]


@pytest.mark.parametrize("x1,n1,x2,n2", [(x1, n1, x2, n2) for n1, n2, x1, x2 in SCIPY_FAST])
@pytest.mark.parametrize("test", TESTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_matches_scipy(x1, n1, x2, n2, test, alternative):
    _check_against_scipy(test, x1, n1, x2, n2, alternative)


@pytest.mark.slow
@pytest.mark.parametrize("n1,n2", [(15, 8), (10, 10), (30, 30), (7, 41), (50, 20)])
@pytest.mark.parametrize("test", TESTS)
def test_matches_scipy_on_random_tables(n1, n2, test):
    rng = np.random.default_rng(n1 * 1000 + n2)
    for _ in range(12):
        x1, x2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
        for alternative in ALTERNATIVES:
            _check_against_scipy(test, x1, n1, x2, n2, alternative)


def test_scipy_splits_ties_in_the_cho_table():
    """6/15 against 0/8: |z| of the complementary table 9/15 against 8/8 equals the observed
    |z| exactly, but scipy's floats differ in the last bit and leave it out."""
    split = scipy_splits_a_tie(6, 15, 0, 8, "two-sided")
    assert split is not None and not split[9, 8]
    assert z_pooled_exact(9, 15, 8, 8).statistic == pytest.approx(-z_pooled_exact(6, 15, 0, 8).statistic, rel=1e-15)


@pytest.mark.parametrize("sample,expected", [
    # scipy's test_hypotests.py, from R Exact: exact.test(data, method="Boschloo", alternative=...,
    # tsmethod="central", np.interval=TRUE, beta=1e-8); scipy table [[a, b], [c, d]] has groups
    # (a of a + c) and (b of b + d). (less, greater, two-sided) p-values.
    (((2, 7), (8, 2)), (0.009886142, 0.9918327, 0.01977228)),
    (((5, 1), (10, 10)), (0.9450994, 0.09008534, 0.1801707)),
    (((5, 16), (20, 25)), (0.05827348, 0.9524124, 0.116547)),
    (((7, 12), (8, 3)), (0.03410916, 0.9771215, 0.06821831)),
])
def test_boschloo_r_exact_values_quoted_by_scipy(sample, expected):
    (a, b), (c, d) = sample
    for alternative, value in zip(("less", "greater", "two-sided"), expected):
        assert boschloo_exact(a, a + c, b, b + d, alternative=alternative).p_value == pytest.approx(value, abs=1e-7)


# --------------------------------------------------------------------------- R Exact and the seed paper

def test_cho_2009_worked_example():
    """Cho et al. 2009: severe cardiac toxicity 6/15 after TKI against 0/8 after bevacizumab.

    R 4.2.2, Exact 3.3:
      d <- matrix(c(6, 9, 0, 8), 2, 2, byrow=TRUE)
      exact.test(d, method="boschloo", alternative=a, tsmethod="central", npNumbers=10000)
      exact.test(d, method="z-pooled", alternative="two.sided", tsmethod="square", npNumbers=10000)
    give Boschloo two-sided 0.0411605412654 (nuisance 0.390441235124), greater 0.0205802706327,
    z-pooled two-sided 0.0404634475011 (z = 2.08072385595), greater 0.0205802706327.
    scipy.stats.boschloo_exact([[6, 0], [9, 8]], n=200) gives 0.04116054126834176; barnard_exact
    gives 0.04008404396923 because it splits a tie (see test_scipy_splits_ties_in_the_cho_table).
    """
    fisher = fisher_exact(6, 15, 0, 8)
    boschloo = boschloo_exact(6, 15, 0, 8)
    z_pooled = z_pooled_exact(6, 15, 0, 8)
    assert round(fisher.p_value, 3) == 0.058
    assert boschloo.p_value == pytest.approx(0.0411605412654, abs=1e-10)
    assert boschloo.statistic == pytest.approx(0.0495804729214, abs=1e-12)  # Fisher's P(X1 >= 6)
    assert boschloo.statistic == pytest.approx(fisher_exact(6, 15, 0, 8, alternative="greater").p_value, rel=1e-13)
    assert boschloo.nuisance_rate == pytest.approx(0.390441235124, abs=1e-4)  # R's optimise() tolerance
    assert boschloo_exact(6, 15, 0, 8, alternative="greater").p_value == pytest.approx(0.0205802706327, abs=1e-10)
    assert boschloo_exact(6, 15, 0, 8, alternative="less").p_value == 1.0
    assert z_pooled.p_value == pytest.approx(0.0404634475011, abs=1e-10)
    assert z_pooled.statistic == pytest.approx(2.08072385595, abs=1e-10)
    assert z_pooled_exact(6, 15, 0, 8, alternative="greater").p_value == pytest.approx(0.0205802706327, abs=1e-10)
    assert boschloo.table == ((6, 0), (9, 8))
    # Both unconditional tests reject at 0.05 where Fisher's does not.
    assert rejects(boschloo.p_value, 0.05) and rejects(z_pooled.p_value, 0.05) and not rejects(fisher.p_value, 0.05)


# R 4.2.2, Exact 3.3: exact.test(matrix(c(x1, n1 - x1, x2, n2 - x2), 2, 2, byrow=TRUE), alternative=a,
# method="boschloo", tsmethod="central", npNumbers=10000) and method="z-pooled", tsmethod="square".
# R refines its best grid point with optimise() (tolerance about 1e-4 in pi), so it sits up to a few
# 1e-9 below the supremum; its nuisance grid stops at 1e-5 and 1 - 1e-5, so p-values of 1 are left out.
R_EXACT = [
    # x1, n1, x2, n2, alternative, Boschloo, z-pooled
    (14, 15, 6, 8, "two-sided", 0.314857842459, 0.292462074232),
    (14, 15, 7, 8, "greater", 0.407508184632, 0.377358280054),
    (5, 10, 7, 10, "less", 0.225137363932, 0.261737153587),
    (2, 7, 7, 12, "two-sided", 0.250612185849, 0.251163481221),
    (0, 7, 2, 12, "two-sided", 0.484841574761, 0.394704847926),
    (14, 30, 8, 30, "two-sided", 0.118660187178, 0.119406784598),
    (9, 30, 13, 30, "less", 0.157412190047, 0.157797464528),
    (1, 4, 17, 25, "two-sided", 0.1398804773, 0.125671496234),
]


@pytest.mark.parametrize("x1,n1,x2,n2,alternative,boschloo,z_pooled", R_EXACT)
def test_matches_r_exact(x1, n1, x2, n2, alternative, boschloo, z_pooled):
    for value, reference in ((boschloo_exact(x1, n1, x2, n2, alternative=alternative).p_value, boschloo),
                             (z_pooled_exact(x1, n1, x2, n2, alternative=alternative).p_value, z_pooled)):
        assert reference - 1e-11 <= value <= reference + 1e-8


def test_r_exact_convexity_shortcut_is_not_followed():
    """R Exact builds the region with a convexity shortcut; for 3/4 against 15/25, two-sided
    z-pooled, it adds the less extreme tables 2/4 vs 10/25 and 2/4 vs 15/25 and reports 0.776928287922.
    The exact set gives 0.77690228388 (scipy barnard_exact n=200: 0.7769022838790228)."""
    assert z_pooled_exact(3, 4, 15, 25).p_value == pytest.approx(0.7769022838790228, abs=1e-10)
    brute = brute_force_table(4, 25, "z-pooled", "two-sided", grid=2001)
    assert brute[3, 15] == pytest.approx(0.7769022838790228, abs=1e-9)


# --------------------------------------------------------------------------- power and size

def test_exact_power_matches_enumeration_with_scipy():
    """Power on a tiny design by enumerating scipy's p-values (n=200) of every table."""
    n1, n2, p1, p2 = 4, 5, 0.8, 0.1
    pmf1 = stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    pmf2 = stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    for test, alternative in (("boschloo", "two-sided"), ("boschloo", "greater"), ("z-pooled", "two-sided")):
        reference = np.array([[scipy_result(test, x1, n1, x2, n2, alternative).pvalue for x2 in range(n2 + 1)]
                              for x1 in range(n1 + 1)])
        for alpha in (0.05, 0.10):
            # No scipy p-value is within scipy's accuracy of alpha, so the decisions are certain.
            assert np.min(np.abs(reference - alpha)) > 1e-6
            expected = float(pmf1 @ (reference <= alpha) @ pmf2)
            power = unconditional_exact_power(n1, p1, n2, p2, test=test, alpha=alpha, alternative=alternative)
            assert power == pytest.approx(expected, abs=1e-14)


def test_power_at_30_vs_30_for_the_study():
    """40% against 8.5%, 30 per group, two-sided at 0.05. R Exact 3.3, power.exact.test(p1=0.40,
    p2=0.085, n1=30, n2=30, method=m, tsmethod=t, npNumbers=1000) (see the README for the figures)."""
    fisher = unconditional_exact_power_or_fisher("fisher")
    boschloo = unconditional_exact_power(30, 0.40, 30, 0.085, test="boschloo")
    z_pooled = unconditional_exact_power(30, 0.40, 30, 0.085, test="z-pooled")
    assert fisher < boschloo < z_pooled
    assert boschloo == pytest.approx(R_POWER_30["boschloo"], abs=1e-9)
    assert z_pooled == pytest.approx(R_POWER_30["z-pooled"], abs=1e-9)
    assert fisher == pytest.approx(R_POWER_30["fisher"], abs=1e-9)


def unconditional_exact_power_or_fisher(test: str) -> float:
    table = exact_p_value_table(30, 30, test=test)
    pmf1 = stats.binom.pmf(np.arange(31), 30, 0.40)
    pmf2 = stats.binom.pmf(np.arange(31), 30, 0.085)
    return float(pmf1 @ rejects(table, 0.05) @ pmf2)


# R 4.2.2, Exact 3.3: power.exact.test(p1=0.40, p2=0.085, n1=30, n2=30, alternative="two.sided",
# alpha=0.05, method=m, tsmethod=t, npNumbers=1000) with (m, t) = ("fisher", "square"),
# ("boschloo", "central"), ("z-pooled", "square").
R_POWER_30 = {"fisher": 0.767322211811, "boschloo": 0.802528407186, "z-pooled": 0.835636882031}


@pytest.mark.parametrize("n1,n2", [(10, 10), (15, 8), (30, 30), (7, 19)])
@pytest.mark.parametrize("test", TESTS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_size_never_exceeds_alpha(n1, n2, test, alternative):
    """sup over the common rate of P(reject) <= alpha, by enumeration on a 2001-point null grid and
    by :func:`exact_size`. (The bound holds exactly; rejects() admits p up to alpha (1 + 1e-7).)"""
    alpha = 0.05
    reject = rejects(unconditional_p_value_table(n1, n2, test=test, alternative=alternative), alpha)
    rates = np.linspace(0.0, 1.0, 2001)
    pmf1 = stats.binom.pmf(np.arange(n1 + 1)[None, :], n1, rates[:, None])
    pmf2 = stats.binom.pmf(np.arange(n2 + 1)[None, :], n2, rates[:, None])
    sizes = np.einsum("ga,ab,gb->g", pmf1, reject.astype(float), pmf2)
    bound = alpha * (1 + 1e-7)
    assert sizes.max() <= bound
    size = exact_size(n1, n2, test=test, alpha=alpha, alternative=alternative)
    assert sizes.max() - 1e-12 <= size.size <= bound
    assert size.size > 0.5 * alpha  # and they use most of it


def test_fisher_is_conservative_and_unconditional_tests_are_not():
    fisher = exact_size(30, 30, test="fisher")
    boschloo = exact_size(30, 30, test="boschloo")
    z_pooled = exact_size(30, 30, test="z-pooled")
    assert fisher.size < 0.03 < 0.045 < boschloo.size <= 0.05 and 0.045 < z_pooled.size <= 0.05
    assert fisher.conservatism == pytest.approx(fisher.size / 0.05)


# --------------------------------------------------------------------------- properties

@settings(max_examples=60, deadline=None)
@given(n1=st.integers(1, 25), n2=st.integers(1, 25), data=st.data())
def test_boschloo_is_at_most_fisher_one_sided(n1, n2, data):
    """Boschloo's one-sided p-value never exceeds Fisher's (Boschloo 1970: within every margin the
    tables at least as extreme have conditional probability <= Fisher's p), and all are in [0, 1]."""
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    for alternative in ("less", "greater"):
        boschloo = boschloo_exact(x1, n1, x2, n2, alternative=alternative).p_value
        fisher = fisher_exact(x1, n1, x2, n2, alternative=alternative).p_value
        assert 0.0 < boschloo <= fisher * (1 + 1e-12)
    for test in TESTS:
        for alternative in ALTERNATIVES:
            assert 0.0 < ours(test, x1, n1, x2, n2, alternative).p_value <= 1.0


@settings(max_examples=40, deadline=None)
@given(n1=st.integers(1, 30), n2=st.integers(1, 30), data=st.data())
def test_swapping_groups_swaps_less_and_greater(n1, n2, data):
    x1 = data.draw(st.integers(0, n1))
    x2 = data.draw(st.integers(0, n2))
    for test in TESTS:
        assert (ours(test, x1, n1, x2, n2, "less").p_value
                == pytest.approx(ours(test, x2, n2, x1, n1, "greater").p_value, abs=1e-12))
        assert (ours(test, x1, n1, x2, n2, "two-sided").p_value
                == pytest.approx(ours(test, x2, n2, x1, n1, "two-sided").p_value, abs=1e-12))


@pytest.mark.parametrize("test", TESTS)
def test_tables_are_monotone_in_each_count(test):
    """More events in group 1 is more evidence for "greater": p_greater falls as x1 rises."""
    table = unconditional_p_value_table(20, 17, test=test, alternative="greater")
    assert np.all(np.diff(table, axis=0) <= 1e-15) and np.all(np.diff(table, axis=1) >= -1e-15)


def test_docstring_examples():
    import doctest

    import sim.analysis.unconditional as module

    failures, tried = doctest.testmod(module)
    assert tried >= 6 and failures == 0


def test_fisher_dispatch_is_fisher():
    np.testing.assert_array_equal(exact_p_value_table(9, 4, test="fisher", alternative="less"),
                                  fisher_p_value_table(9, 4, alternative="less"))


# --------------------------------------------------------------------------- input checks

@pytest.mark.parametrize("call,message", [
    (lambda: boschloo_exact(6, 15, 9, 8), r"group 2: x must be a whole number between 0 and 8, got 9"),
    (lambda: z_pooled_exact(-1, 15, 0, 8), r"group 1: x must be .* got -1"),
    (lambda: boschloo_exact(1, 0, 0, 8), r"group 1: n must be a whole number from 1 to 1000, got 0"),
    (lambda: unconditional_p_value_table(5, MAX_GROUP_SIZE + 1, test="boschloo"), r"group 2: n .* got 1001"),
    (lambda: unconditional_p_value_table(5, 5, test="barnard"), r"test must be one of boschloo, z-pooled; got 'barnard'"),
    (lambda: z_pooled_exact(1, 5, 1, 5, alternative="two.sided"), r"alternative must be one of .*'two.sided'"),
    (lambda: exact_size(5, 5, test="fisher", alpha=1.5), r"alpha must be strictly between 0 and 1; got 1.5"),
])
def test_bad_input_names_the_value(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- benchmark script

def test_benchmark_script_runs_quick():
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "unconditional.py"), "--quick"],
                               capture_output=True, text=True, cwd=REPO, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "rejection region" in completed.stdout and "x scipy" in completed.stdout


# --------------------------------------------------------------------------- simtrial analyze

def test_analyze_adds_boschloo_and_z_pooled_rows(capsys):
    import json

    from cli_support import invoke

    code, out, _ = invoke(capsys, "analyze", "--group", "prior_tki=6/15", "--group", "prior_bev=0/8",
                          "--group", "later=1/16", "--json")
    assert code == 0
    rows = [c for c in json.loads(out)["comparisons"] if c["test"] in TESTS]
    assert [(r["groups"], r["test"]) for r in rows] == [
        (["prior_tki", "prior_bev"], "boschloo"), (["prior_tki", "prior_bev"], "z-pooled"),
        (["prior_tki", "later"], "boschloo"), (["prior_tki", "later"], "z-pooled"),
        (["prior_bev", "later"], "boschloo"), (["prior_bev", "later"], "z-pooled"),
    ]
    for row in rows:
        (a, b) = row["groups"]
        counts = {"prior_tki": (6, 15), "prior_bev": (0, 8), "later": (1, 16)}
        for alternative, p in row["p_values"].items():
            assert p == ours(row["test"], *counts[a], *counts[b], alternative).p_value
    assert rows[0]["p_values"]["two-sided"] == pytest.approx(0.0411605412654, abs=1e-10)  # R Exact, above
    assert rows[1]["p_values"]["two-sided"] == pytest.approx(0.0404634475011, abs=1e-10)

    code, out, _ = invoke(capsys, "analyze", "--group", "prior_tki=6/15", "--group", "prior_bev=0/8")
    assert code == 0 and "boschloo" in out and "0.04116" in out and "z-pooled" in out and "0.04046" in out


def test_analyze_leaves_out_unconditional_rows_above_the_size_limit(capsys):
    import json

    from cli_support import invoke

    code, out, _ = invoke(capsys, "analyze", "--group", "a=30/2000", "--group", "b=10/900", "--json")
    assert code == 0
    assert [c["test"] for c in json.loads(out)["comparisons"]] == ["fisher"]

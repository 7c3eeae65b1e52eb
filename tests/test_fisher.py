"""Fisher's exact test and its exact power against scipy, R and the seed paper."""

import itertools

import numpy as np
import pytest
from naive import fisher_p_scipy
from scipy import stats

from sim.analysis import fisher_exact, fisher_exact_power, fisher_p_value_table

ALTERNATIVES = ("two-sided", "less", "greater")


@pytest.mark.parametrize("n1,n2", [(1, 1), (3, 5), (8, 15), (15, 8), (10, 10), (12, 12), (20, 7), (25, 25)])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_full_grid_matches_scipy(n1, n2, alternative):
    table = fisher_p_value_table(n1, n2, alternative=alternative)
    reference = np.array([[fisher_p_scipy(x1, n1, x2, n2, alternative) for x2 in range(n2 + 1)]
                          for x1 in range(n1 + 1)])
    np.testing.assert_allclose(table, reference, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("n", [10, 20, 30, 32, 50])
def test_rejection_regions_match_scipy_exactly_including_ties(n):
    """Equal group sizes make many tables exactly as likely as the observed one (ties):
    the reject/accept decision at every alpha must equal scipy's (R's definition)."""
    ours = fisher_p_value_table(n, n, alternative="two-sided")
    for x1, x2 in itertools.product(range(n + 1), repeat=2):
        reference = fisher_p_scipy(x1, n, x2, n, "two-sided")
        for alpha in (0.01, 0.05, 0.10):
            assert (ours[x1, x2] <= alpha) == (reference <= alpha), (x1, x2, alpha)


def test_cho_2009_p_value():
    # Cho et al. 2009: 6/15 after TKI vs 0/8 after bevacizumab, "P = 0.058; 2-sided Fisher exact test".
    # R: fisher.test(matrix(c(6, 9, 0, 8), 2, byrow = TRUE))$p.value == 0.05817904
    result = fisher_exact(6, 15, 0, 8)
    assert result.p_value == pytest.approx(0.05817904, abs=5e-9)
    assert round(result.p_value, 3) == 0.058
    assert result.table == ((6, 9), (0, 8))


def test_one_sided_reference_values():
    # All 6 events in the TKI group is the most extreme table: P(X1 = 6) = C(15,6) C(8,0) / C(23,6)
    # = 5005 / 100947 (hypergeometric, exact rational).
    assert fisher_exact(6, 15, 0, 8, alternative="greater").p_value == pytest.approx(5005 / 100947, rel=1e-14)
    assert fisher_exact(6, 15, 0, 8, alternative="less").p_value == pytest.approx(1.0)


def test_large_design_matches_scipy_on_random_tables():
    rng = np.random.default_rng(20091)
    for _ in range(200):
        n1, n2 = rng.integers(50, 400, size=2)
        x1, x2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        for alternative in ALTERNATIVES:
            ours = fisher_exact(int(x1), int(n1), int(x2), int(n2), alternative=alternative).p_value
            assert ours == pytest.approx(fisher_p_scipy(x1, n1, x2, n2, alternative), rel=1e-9, abs=1e-300)


def _brute_force_power(n1, p1, n2, p2, alpha, alternative):
    """Enumeration with scipy.stats.fisher_exact for every table (independent of our kernel)."""
    total = 0.0
    for x1 in range(n1 + 1):
        for x2 in range(n2 + 1):
            if fisher_p_scipy(x1, n1, x2, n2, alternative) <= alpha:
                total += stats.binom.pmf(x1, n1, p1) * stats.binom.pmf(x2, n2, p2)
    return total


@pytest.mark.parametrize("n1,p1,n2,p2,alternative", [
    (15, 0.40, 8, 0.085, "two-sided"),
    (20, 0.30, 20, 0.10, "greater"),
    (12, 0.10, 18, 0.35, "less"),
    (10, 0.20, 10, 0.20, "two-sided"),
])
def test_exact_power_matches_scipy_enumeration(n1, p1, n2, p2, alternative):
    assert fisher_exact_power(n1, p1, n2, p2, alpha=0.05, alternative=alternative) == pytest.approx(
        _brute_force_power(n1, p1, n2, p2, 0.05, alternative), abs=1e-12)


def test_exact_power_reference_design():
    # 40% vs 8.5%, 1:1, two-sided Fisher at 0.05: 32 per group give 80.7% (issue 4's reference),
    # 31 per group fall short; Cho's 15 vs 8 design had about 12% power.
    assert fisher_exact_power(32, 0.40, 32, 0.085) == pytest.approx(0.807, abs=5e-4)
    assert fisher_exact_power(31, 0.40, 31, 0.085) < 0.80
    assert fisher_exact_power(15, 0.40, 8, 0.085) == pytest.approx(0.118, abs=5e-4)


def test_size_under_the_null_is_at_most_alpha():
    for n in (8, 15, 30):
        for p in (0.05, 0.2, 0.5):
            assert fisher_exact_power(n, p, n, p, alpha=0.05) <= 0.05


@pytest.mark.parametrize("bad", [dict(alternative="two.sided"), dict(alternative="bigger")])
def test_bad_alternative_is_rejected(bad):
    with pytest.raises(ValueError, match="alternative must be one of"):
        fisher_exact(1, 5, 2, 5, **bad)


def test_bad_counts_are_rejected():
    with pytest.raises(ValueError, match="x must be"):
        fisher_exact(6, 5, 0, 8)
    with pytest.raises(ValueError, match="n must be"):
        fisher_exact(0, 0, 0, 8)

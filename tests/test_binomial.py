"""Binomial confidence intervals against scipy, R and the seed paper."""

import numpy as np
import pytest
from scipy import stats

from sim.analysis import binomial_interval, binomial_interval_table


@pytest.mark.parametrize("x,n,low,high", [
    # Cho et al. 2009, exact (Clopper-Pearson) 95% intervals as printed in the paper.
    (6, 15, 0.163, 0.677),   # severe cardiac toxicity after TKI: 16.3-67.7%
    (0, 8, 0.0, 0.37),       # after bevacizumab only: 0-37%
    (6, 23, 0.102, 0.484),   # all patients: 10.2-48.4%
    (0, 23, 0.0, 0.148),     # no PR/CR: 0-14.8%
])
def test_cho_2009_exact_intervals(x, n, low, high):
    ci = binomial_interval(x, n, method="clopper-pearson")
    digits = 2 if high == 0.37 else 3
    assert round(ci.low, 3) == low
    assert round(ci.high, digits) == high


@pytest.mark.parametrize("n", list(range(1, 31)) + [47, 100])
@pytest.mark.parametrize("level", [0.90, 0.95, 0.99])
def test_clopper_pearson_and_wilson_match_scipy_binomtest(n, level):
    for method, scipy_method in (("clopper-pearson", "exact"), ("wilson", "wilson")):
        low, high = binomial_interval_table(n, level=level, method=method)
        for x in range(n + 1):
            ref = stats.binomtest(x, n).proportion_ci(confidence_level=level, method=scipy_method)
            assert low[x] == pytest.approx(ref.low, abs=1e-12), (method, x, n)
            assert high[x] == pytest.approx(ref.high, abs=1e-12), (method, x, n)


def test_jeffreys_definition():
    """Equal-tailed Beta(x + 1/2, n - x + 1/2) quantiles, with 0 at x = 0 and 1 at x = n.

    This is where peers differ: statsmodels' proportion_confint(method="jeffreys") keeps the plain
    quantile at x = 0 (a positive lower bound); we follow Brown, Cai & DasGupta (2001) and set it to 0.
    """
    n = 20
    low, high = binomial_interval_table(n, level=0.95, method="jeffreys")
    x = np.arange(n + 1)
    plain_low = stats.beta.ppf(0.025, x + 0.5, n - x + 0.5)
    plain_high = stats.beta.ppf(0.975, x + 0.5, n - x + 0.5)
    assert low[0] == 0.0 and plain_low[0] > 0.0
    assert high[n] == 1.0 and plain_high[n] < 1.0
    np.testing.assert_allclose(low[1:], plain_low[1:], rtol=1e-13)
    np.testing.assert_allclose(high[:-1], plain_high[:-1], rtol=1e-13)
    # Reference point computed independently: scipy.stats.beta.ppf([0.025, 0.975], 3.5, 17.5).
    ci = binomial_interval(3, 20, method="jeffreys")
    assert (round(ci.low, 5), round(ci.high, 5)) == (0.04413, 0.34858)


def test_interval_properties_and_nesting():
    for method in ("clopper-pearson", "wilson", "jeffreys"):
        low, high = binomial_interval_table(40, level=0.95, method=method)
        assert np.all((0 <= low) & (low <= high) & (high <= 1))
        assert np.all(np.diff(low) >= 0) and np.all(np.diff(high) >= 0)
        wide_low, wide_high = binomial_interval_table(40, level=0.99, method=method)
        assert np.all(wide_low <= low + 1e-15) and np.all(wide_high >= high - 1e-15)


def test_bad_arguments():
    with pytest.raises(ValueError, match="method must be one of"):
        binomial_interval(1, 10, method="agresti")
    with pytest.raises(ValueError, match="level"):
        binomial_interval(1, 10, level=95)
    with pytest.raises(ValueError, match="x must be"):
        binomial_interval(11, 10)

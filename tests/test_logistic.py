"""The per-trial logistic likelihood-ratio test against a slow reference fit."""

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from sim.analysis.logistic import logistic_lrt


def reference_lrt(washout, event):
    """Maximum likelihood by scipy.optimize (BFGS from several starts) on the raw log washout."""
    x = np.log(np.asarray(washout, float))
    y = np.asarray(event, float)

    def negative_ll(beta):
        eta = beta[0] + beta[1] * x
        return -np.sum(y * eta - np.logaddexp(0, eta))

    best = min((optimize.minimize(negative_ll, start, method="BFGS", options={"gtol": 1e-10})
                for start in ([0, 0], [1, -1], [-1, 1])), key=lambda r: r.fun)
    rate = y.mean()
    null_ll = np.sum(y * math.log(rate) + (1 - y) * math.log(1 - rate))
    return 2 * (-best.fun - null_ll), best.x[1]


@pytest.mark.parametrize("seed", range(25))
def test_matches_reference_fit(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 60))
    washout = rng.lognormal(np.log(2), 0.8, size=n)
    p = special.expit(-0.5 - 0.8 * np.log2(washout))
    event = (rng.random(n) < p).astype(int)
    if event.min() == event.max():
        event[0] = 1 - event[0]
    ours = logistic_lrt(washout, event)
    statistic, slope = reference_lrt(washout, event)
    if ours.status == "ok":
        assert ours.statistic == pytest.approx(statistic, rel=1e-6, abs=1e-8)
        assert ours.slope == pytest.approx(slope, rel=1e-5, abs=1e-6)
        assert ours.p_value == pytest.approx(stats.chi2.sf(statistic, 1), rel=1e-6, abs=1e-12)
    else:
        assert ours.status == "separated"


def test_complete_separation_is_reported_not_a_crash():
    # Every event at a shorter washout than every non-event: no finite MLE.
    washout = [0.1, 0.5, 1.1, 1.2, 1.8, 2.2, 3.3, 8.1]
    event = [1, 1, 1, 1, 0, 0, 0, 0]
    result = logistic_lrt(washout, event)
    null_deviance = 2 * 8 * math.log(2)  # the supremum of the LR statistic here
    assert result.status == "separated"
    assert math.isfinite(result.statistic) and 0.99 * null_deviance <= result.statistic <= null_deviance
    assert result.slope < 0


def test_quasi_complete_separation():
    washout = [0.5, 1.0, 1.0, 2.0, 3.0, 4.0]
    event = [1, 1, 0, 0, 0, 0]
    result = logistic_lrt(washout, event)
    assert result.status == "separated" and math.isfinite(result.p_value)


@pytest.mark.parametrize("event", [[0] * 6, [1] * 6])
def test_all_equal_outcomes_are_degenerate(event):
    result = logistic_lrt([0.5, 1, 2, 3, 4, 5], event)
    assert (result.status, result.statistic, result.p_value) == ("degenerate", 0.0, 1.0)


def test_constant_washout_is_degenerate():
    result = logistic_lrt([1.84] * 6, [1, 0, 1, 0, 0, 0])
    assert (result.status, result.p_value) == ("degenerate", 1.0)


def test_bad_input():
    with pytest.raises(ValueError, match="> 0"):
        logistic_lrt([0.0, 1.0], [1, 0])
    with pytest.raises(ValueError, match="0 or 1"):
        logistic_lrt([1.0, 2.0], [2, 0])

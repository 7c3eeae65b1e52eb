"""Monte Carlo against exact answers, within K_SE standard errors, seeds fixed.

With K_SE = 4 a correct simulator fails a single check with probability about 6e-5.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sim.analysis.summary import weighted_median
from sim.model import marginal_rate
from sim.runner import make_plan, run_scenario, simulate_chunk
from sim.scenario import validate_scenario

K_SE = 4.0


def _design(tki, bev, eligibility=None, trials=40_000, seed=1, analyses=None):
    return {
        "name": "mc", "trials": trials, "seed": seed,
        "groups": {"prior_tki": tki, "prior_bev": bev},
        "eligibility": eligibility or {"min_washout_months": 0},
        "analyses": analyses or [
            {"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"], "alpha": 0.05},
            {"estimate": "cardiac_event", "group": "prior_tki", "interval": "clopper-pearson",
             "reference_rate": 0.085, "target_width": 0.3},
            {"estimate": "cardiac_event", "group": "prior_tki", "interval": "wilson", "id": "w",
             "reference_rate": 0.085, "target_width": 0.3},
            {"estimate": "cardiac_event", "group": "prior_bev", "interval": "jeffreys", "id": "j"},
        ],
    }


LOGNORMAL = {"distribution": "lognormal", "median": 2.0, "sigma": 0.81}
DECAY = {"model": "washout_decay", "p_early": 0.8, "p_late": 0.085, "half_life_months": 1.7355}

DESIGNS = {
    "washout_dependent": _design({"n": 30, "washout_months": LOGNORMAL, "cardiac_event": DECAY},
                                 {"n": 30, "cardiac_event": {"p": 0.085}}),
    "null_equal": _design({"n": 25, "cardiac_event": {"p": 0.2}}, {"n": 25, "cardiac_event": {"p": 0.2}}),
    "null_unequal": _design({"n": 15, "cardiac_event": {"p": 0.085}}, {"n": 8, "cardiac_event": {"p": 0.085}}),
    "exclude_rule": _design(
        {"n": 20, "washout_months": {"distribution": "gamma", "mean": 2.5, "shape": 1.5}, "cardiac_event": DECAY},
        {"n": 20, "cardiac_event": {"p": 0.085}}, {"min_washout_months": 1.84, "policy": "exclude"}),
    "defer_rule": _design(
        {"n": 20, "washout_months": LOGNORMAL, "cardiac_event": {"model": "logistic", "intercept": -0.2,
                                                                  "slope": -0.8}},
        {"n": 12, "washout_months": {"distribution": "uniform", "low": 0.5, "high": 5},
         "cardiac_event": {"model": "logistic", "intercept": -1.5, "slope": -0.3}},
        {"min_washout_months": 1.84, "policy": "defer"}),
}


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_monte_carlo_agrees_with_exact(name):
    result = run_scenario(validate_scenario(DESIGNS[name]))
    for summary in result.summaries:
        if summary.kind == "compare":
            se = math.sqrt(summary.exact_power * (1 - summary.exact_power) / summary.trials)
            assert abs(summary.power - summary.exact_power) <= K_SE * se, summary
            if name.startswith("null"):
                assert summary.exact_power <= summary.alpha  # Fisher's test is conservative
                assert summary.power <= summary.alpha + K_SE * se
        else:
            assert abs(summary.mean_width - summary.exact_mean_width) <= K_SE * summary.mean_width_se
            cov_se = math.sqrt(summary.exact_coverage * (1 - summary.exact_coverage) / summary.trials)
            assert abs(summary.coverage - summary.exact_coverage) <= K_SE * max(cov_se, 1e-12)
            for mc, exact in ((summary.p_width_le_target, summary.exact_p_width_le_target),
                              (summary.p_lower_above_reference, summary.exact_p_lower_above_reference)):
                if mc is not None:
                    assert abs(mc - exact) <= K_SE * math.sqrt(exact * (1 - exact) / summary.trials) + 1e-12
    assert result.agrees


@pytest.mark.parametrize("washout,eligibility", [
    (LOGNORMAL, {"min_washout_months": 0}),
    (dict(LOGNORMAL, max=4.0), {"min_washout_months": 1.0, "policy": "exclude"}),
    ({"distribution": "gamma", "mean": 2.0, "shape": 0.7}, {"min_washout_months": 1.84, "policy": "defer"}),
    ({"distribution": "empirical", "values": [0.1, 1.1, 1.1, 1.8, 3.3, 8.1]}, {"min_washout_months": 1.0,
                                                                              "policy": "exclude"}),
])
def test_patient_level_event_rate_matches_quadrature(washout, eligibility):
    data = _design({"n": 50, "washout_months": washout, "cardiac_event": DECAY},
                   {"n": 1, "cardiac_event": {"p": 0.1}}, eligibility)
    scenario = validate_scenario(data)
    p_bar = marginal_rate(scenario.groups["prior_tki"], "cardiac_event", scenario.eligibility)
    counts = simulate_chunk(make_plan(scenario), 0, 20_000)[1]
    patients = 20_000 * 50
    rate = counts[:, 0, 0].sum() / patients
    assert abs(rate - p_bar) <= K_SE * math.sqrt(p_bar * (1 - p_bar) / patients)


def test_quadrature_against_independent_integration():
    """p-bar for the main scenario's TKI group, by scipy's expect() on the same model (no kernel code)."""
    data = _design({"n": 30, "washout_months": LOGNORMAL, "cardiac_event": DECAY},
                   {"n": 30, "cardiac_event": {"p": 0.085}})
    scenario = validate_scenario(data)
    ours = marginal_rate(scenario.groups["prior_tki"], "cardiac_event", scenario.eligibility)
    dist = stats.lognorm(s=0.81, scale=2.0)
    reference = dist.expect(lambda w: 0.085 + (0.8 - 0.085) * 2.0 ** (-w / 1.7355), epsabs=1e-13)
    assert ours == pytest.approx(reference, abs=1e-10)
    assert ours == pytest.approx(0.400, abs=5e-4)  # calibrated to Cho 2009's 6/15 = 40%
    # Deferral: mass below the minimum is treated at the minimum.
    deferred = validate_scenario(dict(data, eligibility={"min_washout_months": 1.84, "policy": "defer"}))
    p = lambda w: 0.085 + (0.8 - 0.085) * 2.0 ** (-max(w, 1.84) / 1.7355)  # noqa: E731
    reference = integrate.quad(lambda w: p(w) * dist.pdf(w), 0, 1.84)[0] + integrate.quad(
        lambda w: p(w) * dist.pdf(w), 1.84, np.inf)[0]
    assert marginal_rate(deferred.groups["prior_tki"], "cardiac_event", deferred.eligibility) == pytest.approx(
        reference, abs=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_weighted_median_equals_numpy_median(seed):
    rng = np.random.default_rng(seed)
    values = rng.random(7)
    counts = rng.integers(0, 5, size=7)
    counts[0] += 1
    assert weighted_median(values, counts) == np.median(np.repeat(values, counts))


def test_main_scenario_exact_power_is_reported_and_matched(root):
    from sim.scenario import load_scenario

    result = run_scenario(load_scenario(root / "scenarios" / "tki_vs_bev.yaml"))
    assert result.agrees
    primary = result.summaries[0]
    assert primary.true_rates[0] == pytest.approx(0.40, abs=5e-4)
    assert primary.true_rates[1] == 0.085

"""Per-trial tests (Wilcoxon, washout split, logistic LRT, dose endpoints): size under the null,
exact against Monte Carlo, reproducibility. Monte Carlo checks use K_SE = 4 standard errors."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from sim.runner import execute, make_plan, run_scenario
from sim.tally import tallies_equal
from sim.scenario import validate_scenario

K_SE = 4.0
LOGNORMAL = {"distribution": "lognormal", "median": 2.0, "sigma": 0.81}
DOSES = {"per_course": 14, "courses": 2, "p_dose": [0.86, 0.70]}


def _scenario(groups, analyses, trials=20_000, seed=17, eligibility=None):
    return validate_scenario({"name": "w", "trials": trials, "seed": seed, "groups": groups,
                              "eligibility": eligibility or {"min_washout_months": 0}, "analyses": analyses})


def _group(n, event, washout=LOGNORMAL, doses=DOSES):
    group = {"n": n, "washout_months": washout, "cardiac_event": event}
    if doses:
        group["doses"] = doses
    return group


NULL_ANALYSES = [
    {"id": "doses_between", "compare": "doses_total", "groups": ["a", "b"], "test": "wilcoxon"},
    {"id": "week2_between", "compare": "doses_week2", "groups": ["a", "b"], "test": "wilcoxon", "alternative": "less"},
    {"id": "washout_by_event", "compare": "washout_months", "groups": ["a"], "by": "cardiac_event",
     "test": "wilcoxon"},
    {"id": "split", "compare": "cardiac_event", "groups": ["a"], "split_washout_at": 2.0},
    {"id": "washout_exact", "compare": "washout_months", "groups": ["a", "b"], "test": "wilcoxon",
     "method": "exact"},
]


def test_size_under_the_null_is_at_most_alpha():
    """Same constant risks and dose probabilities in both groups, risk not depending on washout."""
    scenario = _scenario({"a": _group(30, {"p": 0.3}), "b": _group(30, {"p": 0.3})}, NULL_ANALYSES)
    result = run_scenario(scenario)
    for summary in result.summaries:
        se = math.sqrt(0.05 * 0.95 / summary.trials)
        assert summary.power <= 0.05 + K_SE * se, summary
        if summary.exact_power is not None:
            assert summary.exact_power <= 0.05


def test_logistic_lrt_size_under_the_null():
    """The chi-square approximation to the LR statistic is liberal in small samples: with 30 patients
    and a 30% event rate it rejects about 6.5% of null trials (6.6% +- 0.4% with fits by
    scipy.optimize in tests/test_logistic.py's reference, 3000 data sets). At 150 patients, pooled or
    not, the size is within 4 SE of alpha or below."""
    lrt = [{"id": "lrt", "compare": "cardiac_event", "groups": ["a"], "test": "logistic_lrt"},
           {"id": "lrt_pooled", "compare": "cardiac_event", "groups": ["a", "b"], "test": "logistic_lrt"}]
    large = run_scenario(_scenario({"a": _group(150, {"p": 0.3}, doses=None),
                                    "b": _group(150, {"p": 0.3}, doses=None)}, lrt, trials=10_000))
    for summary in large.summaries:
        assert summary.power <= 0.05 + K_SE * math.sqrt(0.05 * 0.95 / summary.trials), summary
    small = run_scenario(_scenario({"a": _group(30, {"p": 0.3}, doses=None),
                                    "b": _group(1, {"p": 0.3}, doses=None)}, lrt[:1], trials=20_000))
    reference, reference_se = 0.0663, math.sqrt(0.0663 * 0.9337 / 3000)
    summary = small.summaries[0]
    assert abs(summary.power - reference) <= K_SE * math.hypot(summary.power_se, reference_se)


REALISTIC = {"model": "washout_decay", "p_early": 0.8, "p_late": 0.085, "half_life_months": 1.7355}


@pytest.mark.parametrize("eligibility,alternative,split", [
    (None, "two-sided", 2.0),
    (None, "greater", 1.0),
    ({"min_washout_months": 1.0, "policy": "defer"}, "greater", 2.5),
    ({"min_washout_months": 1.0, "policy": "exclude"}, "two-sided", 2.0),
])
def test_split_fisher_exact_power_matches_monte_carlo(eligibility, alternative, split):
    scenario = _scenario({"a": _group(40, REALISTIC, doses=None)},
                         [{"compare": "cardiac_event", "groups": ["a"], "split_washout_at": split,
                           "alternative": alternative}], eligibility=eligibility)
    summary = run_scenario(scenario).summaries[0]
    se = math.sqrt(summary.exact_power * (1 - summary.exact_power) / summary.trials)
    assert abs(summary.power - summary.exact_power) <= K_SE * se
    assert summary.exact_power > 0.1  # a real washout effect, not a vacuous check


def test_split_below_deferral_minimum_never_rejects():
    scenario = _scenario({"a": _group(20, REALISTIC, doses=None)},
                         [{"compare": "cardiac_event", "groups": ["a"], "split_washout_at": 1.0}],
                         trials=500, eligibility={"min_washout_months": 1.5, "policy": "defer"})
    summary = run_scenario(scenario).summaries[0]
    assert summary.exact_power == 0.0 and summary.power == 0.0 and summary.undefined_trials == 500


def test_missed_week2_is_binomial_with_exact_answers():
    scenario = _scenario(
        {"a": _group(30, REALISTIC), "b": _group(30, {"p": 0.085}, doses={"p_dose": 0.6, "event_course": 2})},
        [{"compare": "missed_week2", "groups": ["a", "b"]},
         {"estimate": "missed_week2", "group": "a", "interval": "wilson"},
         {"estimate": "missed_week2", "group": "b", "interval": "jeffreys"}])
    result = run_scenario(scenario)
    compare, estimate_a, estimate_b = result.summaries
    # With events in week 1, missing week 2 is the event (plus a 0.30**14 chance without one).
    assert compare.true_rates[0] == pytest.approx(0.4000 + 0.6 * 0.30**14, abs=5e-4)
    # Group b: events in week 2 stop it at a uniform dose k, so P(missed | event) = mean(0.4**k).
    p_missed_b = 0.085 * np.mean([0.4**k for k in range(14)]) + 0.915 * 0.4**14
    assert compare.true_rates[1] == pytest.approx(p_missed_b, rel=1e-9)
    assert result.agrees
    for summary in (estimate_a, estimate_b):
        assert abs(summary.mean_width - summary.exact_mean_width) <= K_SE * summary.mean_width_se


def test_realistic_washout_effect_has_power_in_every_test():
    scenario = _scenario({"a": _group(60, REALISTIC, doses=None)}, [
        {"id": "wilcoxon", "compare": "washout_months", "groups": ["a"], "by": "cardiac_event",
         "test": "wilcoxon", "alternative": "less"},
        {"id": "split", "compare": "cardiac_event", "groups": ["a"], "split_washout_at": 2.0,
         "alternative": "greater"},
        {"id": "lrt", "compare": "cardiac_event", "groups": ["a"], "test": "logistic_lrt"},
    ], trials=4000)
    powers = {s.id: s.power for s in run_scenario(scenario).summaries}
    assert all(0.3 < power < 1.0 for power in powers.values()), powers


def test_trial_tests_identical_across_chunks():
    scenario = _scenario({"a": _group(30, REALISTIC), "b": _group(25, {"p": 0.085})}, NULL_ANALYSES, trials=3000)
    reference = execute(make_plan(scenario, chunk_trials=3000))
    for chunk in (1, 13, 1024):
        tallies = execute(make_plan(scenario, chunk_trials=chunk))
        assert tallies_equal(reference, tallies)


_CHILD = """
import json, sys
from sim.runner import execute, make_plan, threads
from sim.scenario import validate_scenario
from sim.tally import tallies_as_lists
tallies = execute(make_plan(validate_scenario(json.loads(sys.argv[1]))))
print(json.dumps({"threads": threads(), "t": tallies_as_lists(tallies)}))
"""


def test_trial_tests_identical_across_thread_counts():
    scenario = _scenario({"a": _group(30, REALISTIC), "b": _group(25, {"p": 0.085})}, NULL_ANALYSES, trials=4000)
    outputs = [json.loads(subprocess.run([sys.executable, "-c", _CHILD, json.dumps(scenario.to_dict())],
                                         env=dict(os.environ, NUMBA_NUM_THREADS=threads), capture_output=True,
                                         text=True, check=True).stdout) for threads in ("1", "2")]
    assert [o["threads"] for o in outputs] == [1, 2]
    assert outputs[0]["t"] == outputs[1]["t"]

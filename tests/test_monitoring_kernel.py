"""Interim monitoring in the trial kernel (issue 8 §2): the kernel against its naive twin, the exact
distributions against brute force, and Monte Carlo against exact within 4 standard errors."""

import copy
import itertools
import math

import naive
import numpy as np
import pytest
from scipy import stats

from sim.errors import ScenarioError
from sim.analysis.sequential import stopped_sample_distribution
from sim.exact import outcome_components
from sim.model import build_patient_model, marginal_rate
from sim.runner import make_plan, possible_sizes, run_scenario, simulate_chunk
from sim.scenario import validate_scenario

K_SE = 4.0
DECAY = {"model": "washout_decay", "p_early": 0.8, "p_late": 0.085, "half_life_months": 1.7355}
LOGNORMAL = {"distribution": "lognormal", "median": 2.0, "sigma": 0.81}


def _scenario(rules, *, trials=20_000, tki=None, bev=None, analyses=None, eligibility=None, seed=808):
    data = {
        "name": "monitored", "trials": trials, "seed": seed,
        "groups": {
            "tki": tki or {"n": 20, "washout_months": LOGNORMAL, "cardiac_event": DECAY, "response": {"p": 0.2}},
            "bev": bev or {"n": 16, "cardiac_event": {"p": 0.085}, "response": {"p": 0.3}},
        },
        "analyses": analyses or [
            {"id": "fisher", "compare": "cardiac_event", "groups": ["tki", "bev"]},
            {"id": "tki_ci", "estimate": "cardiac_event", "group": "tki", "reference_rate": 0.085,
             "target_width": 0.4},
            {"id": "bev_ci", "estimate": "cardiac_event", "group": "bev"},
            {"id": "response", "compare": "response", "groups": ["bev", "tki"], "alternative": "greater"},
        ],
        "monitoring": rules,
    }
    if eligibility is not None:
        data["eligibility"] = eligibility
    return data


POCOCK_LIKE = {"group": "tki", "looks": "4:20:4", "stop_at": [3, 4, 5, 6, 7]}
RULE_SETS = {
    "stop_group": [POCOCK_LIKE],
    "stop_trial": [dict(POCOCK_LIKE, action="stop_trial")],
    "every_patient": [{"group": "tki", "looks": "1:20", "stop_at": [3] * 5 + [5] * 5 + [7] * 5 + [9] * 5}],
    "two_groups": [POCOCK_LIKE, {"id": "bev_stop", "group": "bev", "looks": [8, 16], "stop_at": [2, 3],
                                 "action": "stop_trial"}],
    "response_rule": [{"group": "bev", "endpoint": "response", "looks": "4:16:4", "stop_at": [4, 5, 6, 7]}],
    "two_rules_one_group": [POCOCK_LIKE, {"id": "late", "group": "tki", "looks": [10, 20], "stop_at": [4, 6],
                                          "action": "stop_trial"}],
}


@pytest.mark.parametrize("name", sorted(RULE_SETS))
def test_kernel_matches_naive_twin(name):
    data = _scenario(copy.deepcopy(RULE_SETS[name]), trials=40)
    scenario = validate_scenario(data)
    plan = make_plan(scenario)
    n_real, counts, fired, _marks, _values = simulate_chunk(plan, 0, 40)
    twin_rules = [dict(rule, looks=list(rule_model.looks), stop_at=list(rule_model.boundary))
                  for rule, rule_model in zip(data["monitoring"], scenario.monitoring)]
    twin = dict(data, monitoring=twin_rules)
    stopped_somewhere = 0
    for t in range(40):
        enrolled, events, looks = naive.monitored_trial(twin, t)
        for g, group in enumerate(data["groups"]):
            assert n_real[t, g] == enrolled[group], (t, group)
            assert counts[t, g, 0] == events[group], (t, group)
        assert list(fired[t]) == looks, t
        stopped_somewhere += any(look >= 0 for look in looks)
    assert stopped_somewhere > 3  # the rules do act in these trials


def test_enrolled_sizes_are_among_the_possible_ones():
    scenario = validate_scenario(_scenario(RULE_SETS["two_groups"], trials=3000))
    n_real = simulate_chunk(make_plan(scenario), 0, 3000)[0]
    sizes = possible_sizes(scenario)
    for g, name in enumerate(scenario.groups):
        assert set(n_real[:, g].tolist()) <= set(sizes[name])


def _brute_force(looks, stop_at, rate, n):
    """Every event sequence of n patients: P(enrolled, events)."""
    out = {}
    for sequence in itertools.product((0, 1), repeat=n):
        probability = math.prod(rate if s else 1 - rate for s in sequence)
        enrolled = n
        for look, threshold in zip(looks, stop_at):
            if sum(sequence[:look]) >= threshold:
                enrolled = look
                break
        key = (enrolled, sum(sequence[:enrolled]))
        out[key] = out.get(key, 0.0) + probability
    return out


@pytest.mark.parametrize("looks,stop_at,rate,n", [
    ((1, 2, 3, 4, 5, 6, 7, 8, 9, 10), (2, 2, 2, 3, 3, 3, 4, 4, 4, 5), 0.3, 12),
    ((4, 8, 12), (3, 4, 5), 0.4, 12),
    ((5, 10), (6, 4), 0.2, 11),  # a boundary above the look: no stop possible there
    ((3,), (1,), 0.05, 9),
])
def test_stopped_sample_distribution_against_brute_force(looks, stop_at, rate, n):
    sizes, pmf = stopped_sample_distribution(looks, stop_at, rate, n)
    reference = _brute_force(looks, stop_at, rate, n)
    got = {}
    for i, size in enumerate(sizes):
        for x in range(n + 1):
            if pmf[i, x] > 0:
                got[(int(size), x)] = got.get((int(size), x), 0.0) + pmf[i, x]
    assert got.keys() == reference.keys()
    for key, value in reference.items():
        assert got[key] == pytest.approx(value, abs=1e-14)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-14)


def _assert_agrees(result):
    """Every Monte Carlo estimate of the run within 4 SE of its exact value, and the exact values present."""
    for summary in result.summaries:
        assert summary.agrees, summary
    for rule in result.monitoring:
        assert rule.exact_p_stop is not None
        assert abs(rule.p_stop_z) <= K_SE, rule
        assert abs(rule.expected_n_z) <= K_SE, rule
        assert rule.agrees
    for group in result.enrolment:
        assert group.agrees, group


@pytest.mark.parametrize("name", ["stop_group", "stop_trial", "every_patient", "response_rule"])
def test_monte_carlo_within_4_se_of_exact_under_monitoring(name):
    result = run_scenario(validate_scenario(_scenario(copy.deepcopy(RULE_SETS[name]))))
    assert all(summary.exact_power is not None for summary in result.summaries if summary.kind == "compare")
    _assert_agrees(result)
    assert 0.05 < result.monitoring[0].p_stop < 0.95


def test_monitoring_with_washout_rule_excluding_short_washouts():
    """Washout-dependent risks with an eligibility rule: the monitored group's p-bar is the screened one."""
    data = _scenario([dict(POCOCK_LIKE, action="stop_trial")], eligibility={"min_washout_months": 1.84,
                                                                             "policy": "exclude"})
    result = run_scenario(validate_scenario(data))
    _assert_agrees(result)


def test_exact_is_none_where_the_model_allows_none():
    scenario = validate_scenario(_scenario(RULE_SETS["two_rules_one_group"], trials=2000))
    result = run_scenario(scenario)
    assert result.monitoring[0].exact_p_stop is None
    assert result.summaries[0].exact_power is None  # the TKI group's sizes depend on two rules
    # Monte Carlo is still there.
    assert 0 < result.monitoring[0].p_stop < 1


def test_endpoint_correlated_with_the_monitored_one_has_no_exact_value():
    """A rule on events in a group whose response also depends on washout: response is not binomial."""
    tki = {"n": 20, "washout_months": LOGNORMAL, "cardiac_event": DECAY,
           "response": {"model": "washout_decay", "p_early": 0.05, "p_late": 0.3, "half_life_months": 2}}
    scenario = validate_scenario(_scenario([POCOCK_LIKE], tki=tki, trials=2000))
    components = outcome_components(scenario, ["bev", "tki"], "response")
    assert components is None
    independent = validate_scenario(_scenario([POCOCK_LIKE], trials=2000))
    assert outcome_components(independent, ["bev", "tki"], "response") is not None


def test_stop_probability_by_look_against_an_independent_recursion():
    """The run's exact P(stop at look k) against a hand recursion on the binomial increments."""
    scenario = validate_scenario(_scenario([POCOCK_LIKE], trials=1000))
    rate = marginal_rate(scenario.groups["tki"], "cardiac_event", scenario.eligibility)
    result = run_scenario(scenario)
    alive = np.zeros(21)
    alive[0] = 1.0
    position = 0
    expected = []
    for look, threshold in zip((4, 8, 12, 16, 20), (3, 4, 5, 6, 7)):
        step = stats.binom.pmf(np.arange(look - position + 1), look - position, rate)
        alive = np.convolve(alive, step)[:21]
        expected.append(alive[threshold:].sum())
        alive[threshold:] = 0.0
        position = look
    assert result.monitoring[0].exact_p_stop_by_look == pytest.approx(expected, abs=1e-13)


@pytest.mark.parametrize("rules,message", [
    ([{"group": "tki", "looks": "5:25:5", "stop_at": [3, 4, 5, 6, 7]}], r"monitoring\[0\]\.looks"),
    ([{"group": "tki", "looks": "4:20:4", "stop_at": [3, 4]}], r"monitoring\[0\]\.stop_at: .*one number per look"),
    ([{"group": "nobody", "looks": "4:20:4", "stop_at": [3, 4, 5, 6, 7]}], r"monitoring\[0\]\.group"),
    ([{"group": "tki", "endpoint": "missed_week2", "looks": "4:20:4", "stop_at": [3, 4, 5, 6, 7]}],
     r"monitoring\[0\]\.endpoint"),
    ([{"group": "tki", "looks": "8:4", "stop_at": [3]}], r"monitoring\[0\]\.looks"),
    ([{"group": "tki", "looks": [4, 4], "stop_at": [3, 3]}], r"monitoring\[0\]\.looks"),
    ([{"group": "tki", "looks": "4:20:4", "stop_at": [3, 4, 5, 6, 0]}], r"monitoring\[0\]\.stop_at"),
    ([{"group": "tki", "looks": "4:20:4", "stop_at": [3, 4, 5, 6, 7], "action": "halt"}], r"monitoring\[0\]\.action"),
    ([POCOCK_LIKE, POCOCK_LIKE], r"monitoring\[1\]\.id"),
])
def test_bad_monitoring_rules_name_the_field(rules, message):
    with pytest.raises(ScenarioError, match=message):
        validate_scenario(_scenario(copy.deepcopy(rules)), source="s.yaml")


def test_monitoring_does_not_change_unmonitored_patients():
    """Stopping draws nothing new: the unmonitored group's counts equal those of the plain scenario."""
    monitored = validate_scenario(_scenario([POCOCK_LIKE], trials=500))
    plain = validate_scenario(_scenario([], trials=500))
    a = simulate_chunk(make_plan(monitored), 0, 500)
    b = simulate_chunk(make_plan(plain), 0, 500)
    np.testing.assert_array_equal(a[1][:, 1], b[1][:, 1])
    model = build_patient_model(plain)
    assert np.all(b[0] == model.group_int[:, 0])

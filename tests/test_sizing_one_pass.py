"""Simulated sizing in one pass (issue 12 §4) gives the numbers of one run per size, bit for bit;
sizing under priors (assurance, issue 9 §3) and under monitoring (issue 8 §2)."""

import copy

import pytest

from sim.designs.prefix import one_pass_summaries, per_size_runs
from sim.designs.sizing import resized, scaled_sizes, size_study
from sim.scenario import validate_scenario

LOGNORMAL = {"distribution": "lognormal", "median": 2.0, "sigma": 0.81}
DECAY = {"model": "washout_decay", "p_early": 0.8, "p_late": 0.085, "half_life_months": 1.7355}
SCENARIO = {
    "name": "sizing", "trials": 3000, "seed": 31,
    "groups": {
        "tki": {"n": 30, "washout_months": LOGNORMAL, "cardiac_event": DECAY, "response": {"p": 0.1},
                "doses": {"per_course": 14, "courses": 2, "p_dose": [0.86, 0.7]}},
        "bev": {"n": 20, "washout_months": {"distribution": "lognormal", "median": 3.0, "sigma": 0.51},
                "cardiac_event": {"prior": {"beta": [1.7, 18.3]}}, "response": {"p": 0.3},
                "doses": {"per_course": 14, "courses": 2, "p_dose": [0.79, 0.64]}},
    },
    "analyses": [
        {"id": "fisher", "compare": "cardiac_event", "groups": ["tki", "bev"]},
        {"id": "ci", "estimate": "missed_week2", "group": "tki", "target_width": 0.3},
        {"id": "doses", "compare": "doses_total", "groups": ["tki", "bev"], "test": "wilcoxon"},
        {"id": "by_event", "compare": "washout_months", "groups": ["tki"], "by": "cardiac_event", "test": "wilcoxon",
         "alternative": "less"},
        {"id": "lrt", "compare": "cardiac_event", "groups": ["tki"], "test": "logistic_lrt"},
        {"id": "split", "compare": "cardiac_event", "groups": ["tki"], "split_washout_at": 2.0},
    ],
}


@pytest.mark.parametrize("analysis_id,vary", [
    ("fisher", ("tki", "bev")), ("ci", ("tki",)), ("doses", ("tki", "bev")), ("by_event", ("tki",)),
    ("lrt", ("tki",)), ("split", ("tki",)), ("fisher", ("bev",)),
])
def test_one_pass_equals_one_run_per_size(analysis_id, vary):
    data = copy.deepcopy(SCENARIO)
    data["analyses"] = [a for a in data["analyses"] if a["id"] == analysis_id]  # as size_study does
    scenario = validate_scenario(data)
    sizes = {n: scaled_sizes(scenario, vary, n) for n in (5, 12, 13, 30, 41)}
    sized = {n: resized(scenario, s) for n, s in sizes.items()}
    largest = resized(scenario, {name: max(s[name] for s in sizes.values()) for name in scenario.groups})
    fast = one_pass_summaries(largest, sized, analysis_id)
    slow = per_size_runs(sized, analysis_id)
    for n in sizes:
        assert fast[n].to_dict() == slow[n].to_dict(), n


def test_size_study_monte_carlo_curve_matches_exact_within_4_se():
    scenario = validate_scenario(copy.deepcopy(SCENARIO))
    result = size_study(scenario, "fisher", target_power=0.8, size_range=(10, 60), method="monte-carlo",
                        trials=4000)
    assert result.assurance  # the bev rate has a prior
    for point in result.curve:
        assert abs(point.power - point.exact_power) <= 4 * max(point.power_se, 1e-3), point.n


def test_assurance_sizing_needs_more_patients_than_power_at_the_prior_mean():
    data = copy.deepcopy(SCENARIO)
    data["groups"]["tki"]["cardiac_event"] = {"prior": {"beta": [7, 10]}}   # 6/15 with a uniform prior
    data["groups"]["bev"]["cardiac_event"] = {"prior": {"beta": [1.7, 18.3]}}
    with_priors = size_study(validate_scenario(data), "fisher", target_power=0.8, size_range=(10, 200))
    data["groups"]["tki"]["cardiac_event"] = {"p": 7 / 17}
    data["groups"]["bev"]["cardiac_event"] = {"p": 0.085}
    fixed = size_study(validate_scenario(data), "fisher", target_power=0.8, size_range=(10, 200))
    assert with_priors.assurance and not fixed.assurance
    assert fixed.n_stable is not None
    assert with_priors.n_stable is None or with_priors.n_stable > fixed.n_stable
    assert with_priors.point(fixed.n_stable).power < 0.8 <= fixed.point(fixed.n_stable).power


def test_monitored_groups_are_sized_exactly_with_looks_beyond_n_dropped():
    data = copy.deepcopy(SCENARIO)
    data["monitoring"] = [{"group": "tki", "looks": "5:30:5", "stop_at": [4, 6, 8, 10, 12, 14]}]
    scenario = validate_scenario(data)
    assert resized(scenario, {"tki": 12}).monitoring[0].looks == (5, 10)
    assert resized(scenario, {"tki": 4}).monitoring == []
    result = size_study(scenario, "fisher", target_power=0.5, size_range=(4, 40))
    assert result.method == "exact"
    simulated = size_study(scenario, "fisher", target_power=0.5, size_range=(8, 12), method="monte-carlo",
                           trials=3000)
    for point in simulated.curve:
        assert abs(point.power - result.point(point.n).power) <= 4 * point.power_se


def test_target_assurance_is_the_explicit_spelling_of_target_power(capsys, root, tmp_path):
    import json

    from cli_support import invoke

    priors = ["--set", "groups.prior_bev.cardiac_event={prior: {beta: [1.7, 18.3]}}",
              "--set", "groups.prior_tki.cardiac_event={prior: {beta: [7, 10]}}"]
    results = []
    for flag in ("--target-assurance", "--target-power"):
        code, out, _err = invoke(capsys, "size", root / "scenarios/tki_vs_bev.yaml", "--analysis", "0", flag, "0.8",
                                 *priors, "--json", "--out", tmp_path)
        assert code == 0
        results.append(json.loads(out))
    assert results[0] == results[1]
    assert results[0]["assurance"] is True and results[0]["target"] == {"power": 0.8}
    # 80% assurance under the pilot priors needs more than 80% power at the prior means (32 per group).
    assert results[0]["n_stable"] > 32
    code, _out, err = invoke(capsys, "size", root / "scenarios/tki_vs_bev.yaml", "--analysis", "0",
                             "--target-assurance", "0.8", "--target-power", "0.8", "--out", tmp_path)
    assert code == 2 and "--target-assurance" in err

"""The trial kernel against its slow twin (tests/naive.py), patient by patient."""

import copy

import naive
import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.kernels import trials
from sim.model import build_patient_model
from sim.scenario import validate_scenario

WASHOUTS = {
    "lognormal": {"distribution": "lognormal", "median": 2.0, "sigma": 0.8},
    "lognormal_max": {"distribution": "lognormal", "median": 2.0, "sigma": 0.8, "max": 6.0},
    "uniform": {"distribution": "uniform", "low": 0.5, "high": 6.0},
    "gamma": {"distribution": "gamma", "mean": 2.5, "shape": 2.0},
    "gamma_small_shape": {"distribution": "gamma", "mean": 2.0, "shape": 0.6, "max": 9.0},
    "fixed": {"distribution": "fixed", "value": 1.5},
    "empirical": {"distribution": "empirical", "values": [0.1, 1.1, 1.1, 1.8, 3.3, 8.1, 2.2, 2.0]},
}
RISKS = {
    "decay": {"model": "washout_decay", "p_early": 0.7, "p_late": 0.085, "half_life_months": 1.5},
    "logistic": {"model": "logistic", "intercept": -0.5, "slope": -0.9},
    "constant": {"p": 0.3},
}


def _scenario(washout, risk, eligibility, seed=7):
    return {
        "name": "twin", "trials": 1, "seed": seed,
        "groups": {
            "a": {"n": 23, "washout_months": washout, "cardiac_event": risk,
                  "response": {"model": "washout_decay", "p_early": 0.1, "p_late": 0.4, "half_life_months": 2}},
            "b": {"n": 9, "cardiac_event": {"p": 0.2}},
        },
        "eligibility": eligibility,
        "analyses": [{"compare": "cardiac_event", "groups": ["a", "b"]}],
    }


@pytest.mark.parametrize("washout", sorted(WASHOUTS))
@pytest.mark.parametrize("risk", sorted(RISKS))
@pytest.mark.parametrize("eligibility", [
    {"min_washout_months": 0},
    {"min_washout_months": 1.84, "policy": "defer"},
    {"min_washout_months": 1.84, "policy": "exclude"},
])
def test_kernel_matches_naive_twin(washout, risk, eligibility):
    data = _scenario(copy.deepcopy(WASHOUTS[washout]), RISKS[risk], eligibility)
    if washout == "fixed" and eligibility.get("policy") == "exclude":
        # Every patient (washout 1.5) would be screened out: the scenario must say so.
        with pytest.raises(ScenarioError, match=r"groups\.a\.washout_months: .*eligible range"):
            validate_scenario(data)
        return
    model = build_patient_model(validate_scenario(data))
    trial_start, n_trials, stream = 1000, 3, 0
    w, e, r, _doses = trials.simulate_patients(np.uint64(data["seed"]), np.uint64(stream), trial_start, n_trials,
                                       model.group_int, model.group_real, model.empirical, model.dose_table)
    for t in range(n_trials):
        for g, name in enumerate(data["groups"]):
            for i in range(data["groups"][name]["n"]):
                ref_w, ref_e, ref_r = naive.patient(data, trial_start + t, g, i, stream)
                assert w[t, g, i] == pytest.approx(ref_w, rel=1e-12, abs=1e-14), (t, g, i)
                assert bool(e[t, g, i]) == ref_e, (t, g, i)
                assert bool(r[t, g, i]) == ref_r, (t, g, i)
            assert np.all(e[t, g, data["groups"][name]["n"]:] == -1)


def _block(model, seed, stream, start, count, marks=None, values=0):
    marks = np.zeros((0, 3), dtype=np.int64) if marks is None else marks
    return trials.simulate_block(np.uint64(seed), np.uint64(stream), start, count, model.group_int, model.group_real,
                                 model.empirical, model.dose_table, model.rules_int, model.rules_looks, model.rules_stop,
                                 marks, values)


def test_counts_kernel_agrees_with_patient_kernel(example_scenario):
    model = build_patient_model(validate_scenario(example_scenario))
    n_real, counts, _fired, _marks, values = _block(model, 11, 5, 0, 200, values=1)
    _w, e, r, _d = trials.simulate_patients(np.uint64(11), np.uint64(5), 0, 200, model.group_int, model.group_real,
                                            model.empirical, model.dose_table)
    assert np.all(n_real == model.group_int[:, trials.GI_N])
    np.testing.assert_array_equal(counts[:, :, trials.ENDPOINT_CARDIAC_EVENT], (e == 1).sum(axis=2))
    np.testing.assert_array_equal(counts[:, :, trials.ENDPOINT_RESPONSE], (r == 1).sum(axis=2))
    for g in range(2):
        n = model.group_int[g, trials.GI_N]
        np.testing.assert_array_equal(values[:, g, :n, trials.VALUE_CARDIAC_EVENT], e[:, g, :n])


def test_eligibility_rules_hold_for_every_patient():
    data = _scenario(WASHOUTS["gamma"], RISKS["decay"], {"min_washout_months": 1.84, "policy": "exclude"})
    model = build_patient_model(validate_scenario(data))
    w, _e, _r, _d = trials.simulate_patients(np.uint64(3), np.uint64(0), 0, 500, model.group_int,
                                         model.group_real, model.empirical, model.dose_table)
    assert np.nanmin(w[:, 0, :]) >= 1.84
    data["eligibility"]["policy"] = "defer"
    model = build_patient_model(validate_scenario(data))
    w, _e, _r, _d = trials.simulate_patients(np.uint64(3), np.uint64(0), 0, 500, model.group_int,
                                         model.group_real, model.empirical, model.dose_table)
    assert np.nanmin(w[:, 0, :]) == 1.84  # deferred patients are treated exactly at the minimum


@pytest.mark.parametrize("dose_spec", [
    {"per_course": 14, "courses": 2, "p_dose": 0.85},
    {"per_course": 14, "courses": 2, "p_dose": [0.86, 0.3], "event_course": 2},
    {"per_course": 5, "courses": 6, "p_dose": [0.9, 0.6, 0.5, 0.99, 0.1, 0.7], "event_course": 3},
    {"per_course": 30, "courses": 1, "p_dose": 0.999},
])
def test_doses_match_naive_twin(dose_spec):
    data = _scenario(copy.deepcopy(WASHOUTS["lognormal"]), RISKS["decay"], {"min_washout_months": 0})
    data["groups"]["a"]["doses"] = dose_spec
    data["analyses"].append({"estimate": "cardiac_event", "group": "a"})
    data["analyses"].append({"compare": "doses_total", "groups": ["a", "b"], "test": "wilcoxon"})
    data["groups"]["b"]["doses"] = {"p_dose": 0.5, "courses": 1}
    model = build_patient_model(validate_scenario(data))
    w, e, r, doses = trials.simulate_patients(np.uint64(data["seed"]), np.uint64(0), 50, 4, model.group_int,
                                              model.group_real, model.empirical, model.dose_table)
    for t in range(4):
        for i in range(23):
            expected = naive.doses(data, 50 + t, 0, i, bool(e[t, 0, i]))
            assert tuple(doses[t, 0, i]) == expected, (t, i, bool(e[t, 0, i]))
            if e[t, 0, i] and dose_spec.get("event_course", 1) == 1 and dose_spec["courses"] > 1:
                assert doses[t, 0, i, 1] == 0  # an event in week 1 means no week 2
    assert np.all(doses[:, 0, :23, 2] <= dose_spec["per_course"] * dose_spec["courses"])


def test_doses_are_skipped_when_no_analysis_needs_them(example_scenario):
    data = copy.deepcopy(example_scenario)
    data["groups"]["prior_tki"]["doses"] = {"p_dose": 0.85}
    model = build_patient_model(validate_scenario(data))
    assert model.group_int[0, trials.GI_DOSE_MODE] == trials.DOSES_NONE
    data["analyses"].append({"estimate": "missed_week2", "group": "prior_tki"})
    model = build_patient_model(validate_scenario(data))
    assert model.group_int[0, trials.GI_DOSE_MODE] == trials.DOSES_MISSED_WEEK2
    data["analyses"].append({"compare": "doses_week1", "groups": ["prior_tki", "prior_bev"], "test": "wilcoxon"})
    data["groups"]["prior_bev"]["doses"] = {"p_dose": 0.85}
    model = build_patient_model(validate_scenario(data))
    assert model.group_int[0, trials.GI_DOSE_MODE] == trials.DOSES_ALL


@pytest.mark.parametrize("m,p", [(14, 0.85), (14, 0.2), (0, 0.5), (7, 0.0), (7, 1.0), (1000, 0.9999), (1000, 1e-4)])
def test_binomial_quantile_matches_scipy(m, p):
    from scipy import stats

    for u in np.linspace(1e-9, 1 - 1e-9, 501):
        assert trials.binomial_quantile(u, m, p) == int(stats.binom.ppf(u, m, p)), u

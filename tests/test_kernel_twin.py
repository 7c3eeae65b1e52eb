"""The cohort kernel against its slow twin (tests/naive.py), patient by patient."""

import copy

import numpy as np
import pytest

import naive
from sim.errors import ScenarioError
from sim.kernels import cohort
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
    w, e, r, _doses = cohort.simulate_patients(np.uint64(data["seed"]), np.uint64(stream), trial_start, n_trials,
                                       model.group_int, model.group_real, model.empirical)
    for t in range(n_trials):
        for g, name in enumerate(data["groups"]):
            for i in range(data["groups"][name]["n"]):
                ref_w, ref_e, ref_r = naive.patient(data, trial_start + t, g, i, stream)
                assert w[t, g, i] == pytest.approx(ref_w, rel=1e-12, abs=1e-14), (t, g, i)
                assert bool(e[t, g, i]) == ref_e, (t, g, i)
                assert bool(r[t, g, i]) == ref_r, (t, g, i)
            assert np.all(e[t, g, data["groups"][name]["n"]:] == -1)


def test_counts_kernel_agrees_with_patient_kernel(example_scenario):
    model = build_patient_model(validate_scenario(example_scenario))
    args = (np.uint64(11), np.uint64(5), 0, 200, model.group_int, model.group_real, model.empirical)
    counts = cohort.simulate_counts(*args)
    _w, e, r, _d = cohort.simulate_patients(*args)
    np.testing.assert_array_equal(counts[:, :, cohort.ENDPOINT_CARDIAC_EVENT], (e == 1).sum(axis=2))
    np.testing.assert_array_equal(counts[:, :, cohort.ENDPOINT_RESPONSE], (r == 1).sum(axis=2))


def test_eligibility_rules_hold_for_every_patient():
    data = _scenario(WASHOUTS["gamma"], RISKS["decay"], {"min_washout_months": 1.84, "policy": "exclude"})
    model = build_patient_model(validate_scenario(data))
    w, _e, _r, _d = cohort.simulate_patients(np.uint64(3), np.uint64(0), 0, 500, model.group_int,
                                         model.group_real, model.empirical)
    assert np.nanmin(w[:, 0, :]) >= 1.84
    data["eligibility"]["policy"] = "defer"
    model = build_patient_model(validate_scenario(data))
    w, _e, _r, _d = cohort.simulate_patients(np.uint64(3), np.uint64(0), 0, 500, model.group_int,
                                         model.group_real, model.empirical)
    assert np.nanmin(w[:, 0, :]) == 1.84  # deferred patients are treated exactly at the minimum

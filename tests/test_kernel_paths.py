"""Shortcuts of the trial kernel give the answers of the long way: the week-2 dose decision from one
word, counts at prefix positions, Simon designs simulated on prefixes, p-values of huge designs."""

import copy
import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis import tables
from sim.kernels import trials
from sim.model import build_patient_model
from sim.runner import make_plan, run_scenario, simulate_chunk
from sim.scenario import validate_scenario
from sim.designs.simon import simon_operating_characteristics

LOGNORMAL = {"distribution": "lognormal", "median": 2.0, "sigma": 0.81}
DECAY = {"model": "washout_decay", "p_early": 0.8, "p_late": 0.085, "half_life_months": 1.7355}


def _scenario(doses, analyses, *, trials_=3000, n=40):
    return {
        "name": "paths", "trials": trials_, "seed": 77,
        "groups": {
            "a": {"n": n, "washout_months": LOGNORMAL, "cardiac_event": DECAY, "response": {"p": 0.3},
                  "doses": doses},
            "b": {"n": 25, "cardiac_event": {"p": 0.2}, "response": {"p": 0.45}, "doses": doses},
        },
        "analyses": analyses,
    }


MISSED = [{"compare": "missed_week2", "groups": ["a", "b"]}]
WITH_DOSES = MISSED + [{"compare": "doses_total", "groups": ["a", "b"], "test": "wilcoxon"}]


@pytest.mark.parametrize("doses", [
    {"per_course": 14, "courses": 2, "p_dose": [0.86, 0.70]},   # p > 0.5: the walk from the top
    {"per_course": 14, "courses": 2, "p_dose": [0.86, 0.08]},   # p <= 0.5: one comparison
    {"per_course": 5, "courses": 3, "p_dose": [0.9, 0.3, 0.5], "event_course": 2},
    {"per_course": 3, "courses": 2, "p_dose": [0.5, 0.5], "event_course": 2},
])
def test_missed_week2_from_one_word_equals_the_full_dose_draw(doses):
    short = validate_scenario(_scenario(doses, MISSED))
    full = validate_scenario(_scenario(doses, WITH_DOSES))
    assert build_patient_model(short).group_int[0, trials.GI_DOSE_MODE] == trials.DOSES_MISSED_WEEK2
    assert build_patient_model(full).group_int[0, trials.GI_DOSE_MODE] == trials.DOSES_ALL
    counts_short = simulate_chunk(make_plan(short), 0, 3000)[1]
    counts_full = simulate_chunk(make_plan(full), 0, 3000)[1]
    np.testing.assert_array_equal(counts_short, counts_full)
    assert 0 < counts_full[:, :, trials.ENDPOINT_MISSED_WEEK2].sum() < 3000 * 65


def test_prefix_marks_equal_prefix_sums_of_patients():
    scenario = validate_scenario(_scenario({"p_dose": 0.8}, [{"compare": "cardiac_event", "groups": ["a", "b"]}]))
    requests = [("a", "cardiac_event", 1), ("a", "cardiac_event", 17), ("a", "response", 40),
                ("b", "cardiac_event", 25), ("b", "response", 3), ("a", "cardiac_event", 17)]
    plan = make_plan(scenario, extra_marks=requests)
    _n, _c, _f, mark_counts, _v = simulate_chunk(plan, 0, 200)
    model = plan.model
    _w, event, response, _d = trials.simulate_patients(np.uint64(scenario.seed), np.uint64(0), 0, 200,
                                                       model.group_int, model.group_real, model.empirical, model.dose_table)
    order = sorted(range(len(requests)), key=lambda i: (model.group_index(requests[i][0]), requests[i][2], i))
    for column, i in enumerate(order):
        name, endpoint, position = requests[i]
        values = (event if endpoint == "cardiac_event" else response)[:, model.group_index(name), :position]
        np.testing.assert_array_equal(mark_counts[:, column], values.sum(axis=1))


def _simon_scenario(rate_spec, *, design=(1, 10, 5, 29), trials_=40_000, monitoring=None, n=30):
    r1, n1, r, total = design
    data = {
        "name": "simon", "trials": trials_, "seed": 1989,
        "groups": {"tki": {"n": n, "washout_months": LOGNORMAL, "cardiac_event": DECAY, "response": rate_spec}},
        "analyses": [{"id": "simon", "compare": "response", "groups": ["tki"], "test": "simon",
                      "r1": r1, "n1": n1, "r": r, "n": total}],
    }
    if monitoring:
        data["monitoring"] = monitoring
    return data


def _brute_simon(r1, n1, r, n, p):
    reject = early = 0.0
    for x1 in range(n1 + 1):
        p1 = math.comb(n1, x1) * p**x1 * (1 - p) ** (n1 - x1)
        if x1 <= r1:
            early += p1
            continue
        for x2 in range(n - n1 + 1):
            if x1 + x2 > r:
                reject += p1 * math.comb(n - n1, x2) * p**x2 * (1 - p) ** (n - n1 - x2)
    return reject, early, n1 + (1 - early) * (n - n1)


@pytest.mark.parametrize("p", [0.05, 0.25, 0.6])
def test_simon_exact_against_brute_force(p):
    # Simon (1989), p0 = 0.05, p1 = 0.25, alpha = beta = 0.1 optimal design: r1/n1 = 0/9, r/n = 2/17.
    for design in ((0, 9, 2, 17), (1, 10, 5, 29), (3, 19, 15, 54)):
        oc = simon_operating_characteristics(*design, p)
        assert (oc.p_reject, oc.p_early_stop, oc.expected_n) == pytest.approx(_brute_simon(*design, p), abs=1e-13)


@pytest.mark.parametrize("rate_spec", [{"p": 0.1}, {"p": 0.3}, {"prior": {"beta": [3, 7]}}])
def test_simon_monte_carlo_within_4_se_of_exact(rate_spec):
    result = run_scenario(validate_scenario(_simon_scenario(rate_spec)))
    (summary,) = result.summaries
    assert summary.exact_power is not None and summary.cut_short_trials == 0
    assert abs(summary.power_z) <= 4
    assert summary.agrees


def test_simon_uses_the_first_n_patients_and_counts_trials_cut_short():
    monitoring = [{"group": "tki", "looks": [5, 15], "stop_at": [3, 6], "action": "stop_group"}]
    result = run_scenario(validate_scenario(_simon_scenario({"p": 0.3}, design=(1, 10, 5, 25), n=30,
                                                           monitoring=monitoring, trials_=5000)))
    (summary,) = result.summaries
    assert summary.cut_short_trials > 0 and summary.exact_power is None


def test_simon_design_resolved_from_rates():
    data = _simon_scenario({"p": 0.1}, n=40)
    data["analyses"][0] = {"id": "simon", "compare": "response", "groups": ["tki"], "test": "simon",
                           "design": {"type": "optimal", "p0": 0.05, "p1": 0.25, "alpha": 0.05, "power": 0.8}}
    scenario = validate_scenario(data)
    assert scenario.analyses[0].simon == (0, 9, 2, 17)  # Simon (1989), Table 1: optimal 0/9, 2/17
    data["analyses"][0]["design"].update(type="minimax", alpha=0.1, power=0.9)
    assert validate_scenario(data).analyses[0].simon == (0, 13, 2, 20)  # Simon (1989): minimax 0/13, 2/20


def test_huge_designs_look_up_p_values_without_full_tables(monkeypatch):
    x1 = np.array([0, 5, 17, 30, 12])
    x2 = np.array([3, 0, 9, 30, 12])
    full = tables.p_value_table("fisher", 30, 30)[x1, x2]
    monkeypatch.setattr(tables, "FULL_TABLE_CELLS", 10)
    np.testing.assert_array_equal(tables.p_values_at("fisher", x1, 30, x2, 30), full)


def test_fisher_tail_cutoff_keeps_p_values_of_large_designs():
    """Against scipy's hypergeometric (log-space, exact tails) at 2,000 per group."""
    from sim.kernels.fisher import ALTERNATIVE_GREATER, ALTERNATIVE_LESS, fisher_p_value

    n1 = n2 = 2000
    for x1, x2 in ((820, 170), (800, 760), (1200, 1100), (15, 3)):
        k = x1 + x2
        dist = stats.hypergeom(n1 + n2, n1, k)
        assert fisher_p_value(x1, n1, x2, n2, ALTERNATIVE_GREATER) == pytest.approx(dist.sf(x1 - 1), rel=1e-12)
        assert fisher_p_value(x1, n1, x2, n2, ALTERNATIVE_LESS) == pytest.approx(dist.cdf(x1), rel=1e-12)


def test_monitored_and_plain_runs_share_patients():
    data = _scenario({"p_dose": 0.8}, [{"compare": "cardiac_event", "groups": ["a", "b"]}], trials_=200)
    plain = simulate_chunk(make_plan(validate_scenario(copy.deepcopy(data))), 0, 200)
    data["monitoring"] = [{"group": "a", "looks": [40], "stop_at": [41]}]  # can never stop
    monitored = simulate_chunk(make_plan(validate_scenario(data)), 0, 200)
    for plain_part, monitored_part in zip(plain[:2], monitored[:2]):
        np.testing.assert_array_equal(plain_part, monitored_part)


@pytest.mark.parametrize("m", [1, 2, 5, 14, 60])
@pytest.mark.parametrize("p", [0.0, 0.05, 0.5, 0.5000001, 0.7, 0.86, 0.999, 1.0])
def test_zero_count_threshold_decides_binomial_quantile_zero(m, p):
    """One comparison gives the same 'no dose' decision as the inverse CDF, at every uniform tried."""
    threshold = trials.zero_count_threshold(m, p)
    uniforms = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 2001), [threshold, np.nextafter(threshold, 0),
                                                                      np.nextafter(threshold, 1),
                                                                      1 - threshold, np.nextafter(1 - threshold, 0),
                                                                      np.nextafter(1 - threshold, 1)]])
    for u in uniforms:
        if not 0 < u < 1:
            continue
        zero = trials.binomial_quantile(u, m, p) == 0
        assert zero == (u <= threshold if p <= 0.5 else threshold <= 1.0 - u), (u, m, p)


@pytest.mark.parametrize("per_course", [1, 3, 14, 64])
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.64, 0.86, 0.999, 1.0])
def test_dose_table_gives_the_inverse_cdf_bit_for_bit(per_course, p):
    table = trials.dose_threshold_table(per_course, p)
    rng = np.random.default_rng(per_course)
    for offered in range(per_course + 1):
        uniforms = np.concatenate([rng.random(300), table[offered, :offered], np.nextafter(table[offered, :offered], 2),
                                   1 - table[offered, :offered]])
        for u in uniforms[(uniforms > 0) & (uniforms < 1)]:
            assert trials.dose_count_scalar(u, offered, p, table) == trials.binomial_quantile(u, offered, p), (u, offered)


def test_doses_with_and_without_tables_agree():
    """Courses above the table limit walk the CDF; the two ways give the same doses."""
    doses = {"per_course": 14, "courses": 3, "p_dose": [0.86, 0.3, 0.7], "event_course": 2}
    scenario = validate_scenario(_scenario(doses, WITH_DOSES))
    model = build_patient_model(scenario)
    assert model.group_int[0, trials.GI_DOSE_TABLE] == 1
    walked = model.group_int.copy()
    walked[:, trials.GI_DOSE_TABLE] = 0
    args = (np.uint64(5), np.uint64(0), 0, 300)
    tabled = trials.simulate_patients(*args, model.group_int, model.group_real, model.empirical, model.dose_table)
    plain = trials.simulate_patients(*args, walked, model.group_real, model.empirical, model.dose_table)
    np.testing.assert_array_equal(tabled[3], plain[3])


def test_far_tables_of_huge_designs_are_decided_at_once():
    """Tables whose density is below 1e-40 of the mode's: the bound returned is tiny (or 1 on the far side of
    a one-sided test), in agreement with scipy's hypergeometric tails."""
    from sim.kernels.fisher import (
        ALTERNATIVE_GREATER,
        ALTERNATIVE_LESS,
        ALTERNATIVE_TWO_SIDED,
        fisher_p_value,
    )

    n1 = n2 = 100_000
    x1, x2 = 40_000, 8_500  # 40% against 8.5%
    dist = stats.hypergeom(n1 + n2, n1, x1 + x2)
    assert dist.sf(x1 - 1) < 1e-300
    assert 0 <= fisher_p_value(x1, n1, x2, n2, ALTERNATIVE_TWO_SIDED) < 1e-28
    assert 0 <= fisher_p_value(x1, n1, x2, n2, ALTERNATIVE_GREATER) < 1e-28
    assert fisher_p_value(x1, n1, x2, n2, ALTERNATIVE_LESS) == 1.0
    assert fisher_p_value(x2, n1, x1, n2, ALTERNATIVE_LESS) < 1e-28
    # Just inside the limit the walk still gives scipy's tail.
    x1 = 24_900
    x2 = 50_000 - x1
    near = stats.hypergeom(n1 + n2, n1, x1 + x2)
    assert fisher_p_value(x1, n1, x2, n2, ALTERNATIVE_LESS) == pytest.approx(near.cdf(x1), rel=1e-9)

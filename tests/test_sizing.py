"""`simtrial size` and sim.designs.sizing: exact curves against independent brute force, references, the CLI.

Reference values and their provenance
-------------------------------------
- 40% against 8.5%, 1:1, two-sided Fisher at alpha 0.05: 32 per group reach 80% power (exact power
  0.8071 by enumeration of all 33 x 33 outcomes; 31 per group give 0.7880). R's
  ``statmod::power.fisher.test`` is Monte Carlo, so the reference is exact enumeration; here it is
  recomputed independently by a brute force that calls ``scipy.stats.fisher_exact`` for every table.
- The normal approximation (R ``power.prop.test(p1 = 0.40, p2 = 0.085, power = 0.80)``, closed form
  n = (z_a sqrt(2 pbar qbar) + z_b sqrt(p1 q1 + p2 q2))^2 / (p1 - p2)^2 = 27.85) claims 28 per group.
- Cho et al. 2009, 15 after TKI against 8 after bevacizumab, at 40% and the historical 8.5%: exact
  power 0.118 (the issue's "about 12%").
"""

import json
import math
import re

import numpy as np
import pytest
from cli_support import invoke
from scipy import stats

from sim.designs.sizing import (
    first_and_stable,
    normal_approximation_power,
    scaled_sizes,
    size_study,
)
from sim.runner import run_scenario
from sim.scenario import load_scenario, validate_scenario

K_SE = 4.0  # Monte Carlo checks: |estimate - exact| <= 4 standard errors (fails w.p. ~6e-5 each)


def _design(p_tki, p_bev, n_tki=30, n_bev=30, analyses=None, trials=4000, seed=7):
    return validate_scenario({
        "name": "design", "trials": trials, "seed": seed,
        "groups": {"prior_tki": {"n": n_tki, "cardiac_event": {"p": p_tki}},
                   "prior_bev": {"n": n_bev, "cardiac_event": {"p": p_bev}}},
        "analyses": analyses or [{"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"]}],
    })


def brute_force_power(n1, p1, n2, p2, alpha=0.05, alternative="two-sided"):
    """Independent twin: scipy's fisher_exact on every table, weighted by binomial probabilities."""
    power = 0.0
    for x1 in range(n1 + 1):
        for x2 in range(n2 + 1):
            p_value = stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative=alternative).pvalue
            if p_value <= alpha:
                power += stats.binom.pmf(x1, n1, p1) * stats.binom.pmf(x2, n2, p2)
    return power


def brute_force_widths(n, p, width, level=0.95):
    """Expected Clopper-Pearson width and P(width <= target), from scipy's binomtest intervals."""
    widths = []
    for x in range(n + 1):
        ci = stats.binomtest(x, n).proportion_ci(confidence_level=level, method="exact")
        widths.append(ci.high - ci.low)
    pmf = stats.binom.pmf(np.arange(n + 1), n, p)
    widths = np.array(widths)
    return float(pmf @ widths), float(pmf @ (widths <= width))


def brute_force_first_and_stable(ns, meets):
    first = next((n for n, ok in zip(ns, meets) if ok), None)
    stable = None
    for n in reversed(ns):
        if not meets[ns.index(n)]:
            break
        stable = n
    return first, stable


# --------------------------------------------------------------------------- references


def test_reference_32_per_group_for_80_percent():
    result = size_study(_design(0.40, 0.085), "0", target_power=0.80, size_range=(20, 60))
    assert (result.n_first, result.n_stable) == (32, 32)
    assert result.sizes_first == result.sizes_stable == {"prior_tki": 32, "prior_bev": 32}
    assert round(result.value_at(32), 3) == 0.807 and round(result.value_at(31), 3) == 0.788
    # Independent check of the two sizes around the answer.
    assert result.value_at(32) == pytest.approx(brute_force_power(32, 0.40, 32, 0.085), rel=1e-9)
    assert result.value_at(31) == pytest.approx(brute_force_power(31, 0.40, 31, 0.085), rel=1e-9)
    assert result.recommended == "n_stable" and result.n_recommended == 32


def test_normal_approximation_claims_fewer_patients():
    result = size_study(_design(0.40, 0.085), "0", target_power=0.80, size_range=(20, 60))
    p1, p2 = 0.40, 0.085
    pbar = (p1 + p2) / 2
    z_alpha, z_beta = stats.norm.isf(0.025), stats.norm.isf(0.20)
    closed_form = ((z_alpha * math.sqrt(2 * pbar * (1 - pbar)) + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
                   / (p1 - p2)) ** 2
    assert closed_form == pytest.approx(27.85, abs=0.01)
    assert result.normal_n_first == math.ceil(closed_form) == 28 < result.n_first
    assert result.point(28).exact_power < 0.80 <= result.point(28).normal_power


def test_cho_2009_design_had_about_12_percent_power(root_dir):
    scenario = load_scenario(root_dir / "scenarios" / "cho2009_retrospective.yaml")
    result = size_study(scenario, "historical_rate", target_power=0.8, size_range=(15, 15))
    (point,) = result.curve
    assert point.sizes["prior_tki"] == 15 and point.sizes["prior_bev_historical"] == 8
    assert round(point.power, 3) == 0.118
    assert point.power == pytest.approx(brute_force_power(15, 0.40, 8, 0.085), rel=1e-9)


# --------------------------------------------------------------------------- other designs


def test_unequal_allocation_curve_matches_brute_force():
    """2:1 allocation, one-sided: every size's exact power equals the scipy brute force."""
    scenario = _design(0.50, 0.10, n_tki=20, n_bev=10,
                       analyses=[{"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"],
                                  "alternative": "greater", "alpha": 0.05}])
    result = size_study(scenario, "0", target_power=0.8, size_range=(6, 24))
    for point in result.curve:
        n1, n2 = point.sizes["prior_tki"], point.sizes["prior_bev"]
        assert n1 == point.n and n2 == math.ceil(point.n / 2)
        assert point.power == pytest.approx(brute_force_power(n1, 0.5, n2, 0.1, alternative="greater"), rel=1e-9)
    ns = [p.n for p in result.curve]
    assert (result.n_first, result.n_stable) == brute_force_first_and_stable(ns, [p.power >= 0.8 for p in result.curve])


def test_sawtooth_first_and_stable_differ():
    """30% against 0%, one-sided at 0.05, target 70%: power reaches 0.703 at 15 per group, drops to
    0.550 at 17 and holds from 19 (enumeration; brute force over scipy's fisher_exact)."""
    scenario = _design(0.30, 0.0, n_tki=10, n_bev=10,
                       analyses=[{"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"],
                                  "alternative": "greater"}])
    result = size_study(scenario, "0", target_power=0.7, size_range=(10, 30))
    assert (result.n_first, result.n_stable) == (15, 19)
    expected = {n: brute_force_power(n, 0.3, n, 0.0, alternative="greater") for n in (15, 16, 17, 18, 19)}
    for n, power in expected.items():
        assert result.value_at(n) == pytest.approx(power, rel=1e-9)
    assert expected[17] < 0.7 <= expected[15]


def test_estimate_width_and_assurance_match_brute_force(root_dir):
    scenario = load_scenario(root_dir / "scenarios" / "tki_vs_bev.yaml")
    analysis = "cardiac_event_prior_tki_clopper_pearson"
    mean = size_study(scenario, analysis, target_width=0.30, size_range=(36, 52))
    sure = size_study(scenario, analysis, target_width=0.30, assurance=0.90, size_range=(36, 52))
    rate = mean.true_rates[0]
    brute = {n: brute_force_widths(n, rate, 0.30) for n in range(36, 53)}
    for point in mean.curve:
        assert point.mean_width == pytest.approx(brute[point.n][0], rel=1e-9)
        assert point.p_width_le_target == pytest.approx(brute[point.n][1], rel=1e-9)
    ns = sorted(brute)
    assert (mean.n_first, mean.n_stable) == brute_force_first_and_stable(ns, [brute[n][0] <= 0.30 for n in ns])
    assert (sure.n_first, sure.n_stable) == brute_force_first_and_stable(ns, [brute[n][1] >= 0.90 for n in ns])
    assert (mean.n_first, sure.n_first) == (44, 47)
    assert mean.vary == ("prior_tki",) and mean.sizes_first == {"prior_tki": 44, "prior_bev": 30}


def test_scaled_sizes_keep_the_ratio_rounding_up():
    scenario = _design(0.4, 0.1, n_tki=15, n_bev=8)
    assert scaled_sizes(scenario, ["prior_tki", "prior_bev"], 15) == {"prior_tki": 15, "prior_bev": 8}
    assert scaled_sizes(scenario, ["prior_tki", "prior_bev"], 16) == {"prior_tki": 16, "prior_bev": 9}
    assert scaled_sizes(scenario, ["prior_bev", "prior_tki"], 16) == {"prior_tki": 30, "prior_bev": 16}
    assert scaled_sizes(scenario, ["prior_tki"], 40) == {"prior_tki": 40, "prior_bev": 8}


@pytest.mark.parametrize("meets,expected", [
    ([], (None, None)), ([False, False], (None, None)), ([True, True], (0, 0)),
    ([False, True, False, True, True], (1, 3)), ([True, False], (0, None)),
])
def test_first_and_stable(meets, expected):
    assert first_and_stable(meets) == expected


def test_normal_power_reduces_to_power_prop_test_for_equal_groups():
    # power.prop.test(n, p1, p2): pnorm((sqrt(n) |p1 - p2| - z sqrt((p1 + p2)(q1 + q2) / 2)) / sqrt(p1 q1 + p2 q2))
    n, p1, p2 = 28, 0.40, 0.085
    z = stats.norm.isf(0.025)
    expected = stats.norm.cdf((math.sqrt(n) * (p1 - p2) - z * math.sqrt((p1 + p2) * (2 - p1 - p2) / 2))
                              / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)))
    assert normal_approximation_power(n, p1, n, p2) == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------- Monte Carlo path


def test_monte_carlo_curve_agrees_with_exact_and_uses_common_random_numbers():
    scenario = _design(0.40, 0.085, trials=4000, seed=2009)
    result = size_study(scenario, "0", target_power=0.8, size_range=(28, 33), method="monte-carlo")
    assert result.method == "monte-carlo" and result.trials == 4000
    for point in result.curve:
        se = math.sqrt(point.exact_power * (1 - point.exact_power) / 4000)
        assert abs(point.power - point.exact_power) <= K_SE * se, point
        assert point.power_se == pytest.approx(math.sqrt(point.power * (1 - point.power) / 4000))
    # Stream 0 at every size: the scenario's own size reproduces `simtrial run` bit for bit.
    run = run_scenario(_design(0.40, 0.085, trials=4000, seed=2009))
    assert result.point(30).power == run.summaries[0].power


def test_monte_carlo_estimate_agrees_with_exact():
    scenario = _design(0.40, 0.085, trials=3000, seed=11, analyses=[
        {"estimate": "cardiac_event", "group": "prior_tki", "interval": "wilson"}])
    result = size_study(scenario, "0", target_width=0.3, assurance=0.5, size_range=(34, 38),
                        method="monte-carlo")
    for point in result.curve:
        p = point.exact_p_width_le_target
        assert abs(point.p_width_le_target - p) <= K_SE * math.sqrt(p * (1 - p) / 3000) + 1e-12, point
        assert abs(point.mean_width - point.exact_mean_width) <= K_SE * point.mean_width_se + 1e-12, point


def test_tests_without_enumeration_are_sized_by_simulation():
    """A test computed per trial on patient-level data (here Fisher of short against long washouts
    within one group) has no enumeration in sizing: ``auto`` simulates, ``exact`` is refused.
    The runner knows this test's exact power, so the simulated curve is checked against it."""
    from sim.errors import UsageError

    scenario = validate_scenario({
        "name": "split", "trials": 2000, "seed": 3,
        "groups": {"prior_tki": {"n": 30, "washout_months": {"distribution": "lognormal", "median": 2.0,
                                                             "sigma": 0.81},
                                 "cardiac_event": {"model": "washout_decay", "p_early": 0.8, "p_late": 0.085,
                                                   "half_life_months": 1.7355}}},
        "analyses": [{"id": "split", "compare": "cardiac_event", "groups": ["prior_tki"], "split_washout_at": 2.0,
                      "test": "fisher", "alternative": "greater"}],
    })
    result = size_study(scenario, "split", target_power=0.8, size_range=(40, 42))
    assert result.method == "monte-carlo" and result.true_rates is None
    for point in result.curve:
        assert point.power_se > 0 and point.normal_power is None
        if point.exact_power is not None:
            se = math.sqrt(point.exact_power * (1 - point.exact_power) / 2000)
            assert abs(point.power - point.exact_power) <= K_SE * se, point
    with pytest.raises(UsageError, match="no exact enumeration"):
        size_study(scenario, "split", target_power=0.8, size_range=(40, 42), method="exact")


# --------------------------------------------------------------------------- the command




@pytest.fixture
def root_dir(request):
    return request.config.rootpath


def test_size_json_and_files(capsys, tmp_path, root_dir):
    code, out, err = invoke(capsys, "size", str(root_dir / "scenarios" / "tki_vs_bev.yaml"), "--analysis",
                            "cardiac_event_prior_tki_vs_prior_bev", "--target-power", "0.8", "--json",
                            "--out", str(tmp_path))
    assert code == 0, err
    data = json.loads(out)  # stdout holds the JSON and nothing else
    assert set(data) == {"analysis", "target", "n_first", "n_stable", "sizes_first", "sizes_stable", "curve",
                         "assurance", "conservative", "dropout", "enrol_first", "enrol_stable", "enrol_sizes_first",
                         "enrol_sizes_stable"}
    assert data["assurance"] is False  # no priors: the target is a power
    assert data["dropout"] is None and data["enrol_first"] is None and data["conservative"] is False
    assert data["target"] == {"power": 0.8}
    assert (data["n_first"], data["n_stable"]) == (32, 32)
    assert data["sizes_first"] == data["sizes_stable"] == {"prior_tki": 32, "prior_bev": 32}
    row = next(point for point in data["curve"] if point["n"] == 32)
    assert round(row["power"], 3) == 0.807 and row["power_se"] is None and row["normal_power"] > row["power"]
    folder = tmp_path / "tki_vs_bev"
    stem = "size_cardiac_event_prior_tki_vs_prior_bev_power0.8"  # the target is in the name
    csv = (folder / f"{stem}.csv").read_text().splitlines()
    assert csv[0].startswith("n,n_prior_tki,n_prior_bev,total_patients,power,power_se,exact_power,normal_power")
    assert len(csv) == 1 + 199  # the default range 2:200
    assert (folder / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = json.loads((folder / f"{stem}.json").read_text())
    assert record["recommended"] == "n_stable" and record["normal_n_first"] == 28
    assert not list(folder.glob(".*tmp"))


def test_size_table_recommends(capsys, tmp_path, root_dir):
    code, out, err = invoke(capsys, "size", str(root_dir / "scenarios" / "tki_vs_bev.yaml"), "--analysis", "1",
                            "--target-width", "0.3", "--assurance", "0.9", "--range", "30:60", "--out", str(tmp_path))
    assert code == 0, err
    assert "recommended: n_stable = 47" in " ".join(out.split())
    assert "P(width ≤ 30 pp)" in out  # widths in percentage points


def test_size_monte_carlo_command(capsys, tmp_path, root_dir):
    code, out, err = invoke(capsys, "size", str(root_dir / "scenarios" / "tki_vs_bev.yaml"), "--analysis", "0",
                            "--target-power", "0.8", "--range", "30:33", "--method", "monte-carlo",
                            "--trials", "2000", "--json", "--out", str(tmp_path))
    assert code == 0, err
    curve = json.loads(out)["curve"]
    assert [row["n"] for row in curve] == [30, 31, 32, 33] and all(row["power_se"] > 0 for row in curve)


@pytest.mark.parametrize("args,pattern", [
    ([], r"--analysis: required"),
    (["--analysis", "0"], r"exactly one of --target-power"),
    (["--analysis", "0", "--target-power", "0.8", "--target-width", "0.3"], r"exactly one of"),
    (["--analysis", "0", "--target-power", "0.8", "--assurance", "0.9"], r"--assurance: only with --target-width"),
    (["--analysis", "0", "--target-power", "1.5"], r"target power: got 1\.5"),
    (["--analysis", "0", "--target-power", "abc"], r"--target-power: got 'abc'; expected a number"),
    (["--analysis", "0", "--target-power", "0.8", "--range", "50:20"], r"range: got 50:20"),
    (["--analysis", "0", "--target-power", "0.8", "--range", "a:b"], r"--range: got 'a:b'"),
    (["--analysis", "0", "--target-power", "0.8", "--range", "2:5000"], r"MAX <= 500"),
    (["--analysis", "0", "--target-power", "0.8", "--vary", "prior_ipi"], r"vary: got 'prior_ipi'"),
    (["--analysis", "0", "--target-width", "0.3"], r"is a comparison: give a target power"),
    (["--analysis", "1", "--target-power", "0.8"], r"is an estimate: give a target width"),
    (["--analysis", "nope", "--target-power", "0.8"], r"analysis 'nope' not found"),
    (["--analysis", "0", "--target-power", "0.8", "--method", "bootstrap"], r"method: got 'bootstrap'"),
    (["--analysis", "0", "--target-power", "0.8", "--trials", "many"], r"--trials: got 'many'"),
])
def test_size_bad_flags_one_line_nothing_written(capsys, tmp_path, root_dir, args, pattern):
    out_dir = tmp_path / "out"
    code, out, err = invoke(capsys, "size", str(root_dir / "scenarios" / "tki_vs_bev.yaml"), *args,
                            "--out", str(out_dir))
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(pattern, lines[0]), lines[0]
    assert not out_dir.exists()

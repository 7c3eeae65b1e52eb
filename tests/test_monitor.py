"""Monitoring boundaries (sim.designs.monitor, ``simtrial monitor``) and looks (sim.scenario.looks).

References:
- R 4.2.2 with clinfun 1.1.5 built from source (github cran/clinfun, ``R CMD INSTALL``):
  ``toxbdry(...)$hi.bdry`` (largest acceptable counts r_k; our stop_at = r_k + 1) and its
  ``bdry.oc`` columns ``pcross.hi``, ``pstop.hi``, ``ess.hi`` at toxbdry's 6-point rate grid;
- a naive twin of the boundary search: every breakpoint of the nominal level, scanned in
  order (no bisection, no Bonferroni floor), with a crossing probability computed by binomial
  convolution over looks (scipy), not by the project's recursion;
- the posterior probability from scipy.stats.beta for the Bayesian rule.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
import yaml
from cli_support import invoke
from scipy import special, stats

from sim.designs.monitor import (
    DesignInputError,
    bayes_boundary,
    resolve_rule,
    toxicity_boundary,
)
from sim.scenario.looks import format_looks, parse_looks

# --- looks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, looks", [
    ("1:30", tuple(range(1, 31))), ("5:30:5", (5, 10, 15, 20, 25, 30)), ("20,40,60,75", (20, 40, 60, 75)),
    ([20, 40, 60, 75], (20, 40, 60, 75)), (30, (30,)), ("30", (30,)), (" 2 : 6 ", (2, 3, 4, 5, 6)),
    ("20, 40", (20, 40)), ([np.int64(3), np.int64(9)], (3, 9)),
])
def test_parse_looks_forms(spec, looks):
    assert parse_looks(spec) == looks
    assert parse_looks(format_looks(looks)) == looks


@pytest.mark.parametrize("spec, match", [
    ("30:1", "end 1 is below the start 30"), ("5:32:5", "32 is not START"), ("0:10", "start 0 is below 1"),
    ("1:10:0", "step 0"), ("20,10", "not strictly increasing"), ("10,10", "not strictly increasing"),
    ("a:b", "'a' is not a whole number"), ("", "empty"), ([5, 2.5], "2.5 is not a whole number"),
    ([], "no looks"), (True, "not a number of patients"), ("1:5,8", "mixes a range and a list"), (0, "below 1"),
    ({"a": 1}, "dict"),
])
def test_parse_looks_errors_say_what_and_what_is_allowed(spec, match):
    with pytest.raises(ValueError, match=match) as info:
        parse_looks(spec)
    assert "allowed:" in str(info.value) and "\n" not in str(info.value)


def test_format_looks():
    assert format_looks(range(1, 31)) == "1:30"
    assert format_looks((5, 10, 15, 20, 25, 30)) == "5:30:5"
    assert format_looks((20, 40, 60, 75)) == "20,40,60,75"
    assert format_looks((10, 20)) == "10,20" and format_looks((7,)) == "7"


# --- repeated significance: clinfun::toxbdry ------------------------------------------------------

# R: library(clinfun); x <- toxbdry(...); x$hi.bdry; x$bdry.oc[, c("pcross.hi", "pstop.hi", "ess.hi")]
TOXBDRY_R = [
    ("toxbdry(0.085, 0.30, 1:30)", (0.085, 0.30, "1:30"), {},
     (1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5),
     (0.0993119993371378, 0.281252453525782, 0.51466533328618, 0.723328886500625, 0.866007027983116, 0.944558930472942),
     (0.0962922210814296, 0.27016043214644, 0.495930896678657, 0.703285136062726, 0.850422792139749, 0.935130579728041),
     (28.1421870865833, 25.2796733823733, 21.4867651886504, 17.517528894905, 13.9688440324581, 11.1061952367049)),
    ("toxbdry(0.085, 0.30, 1:30, delta=0.5)", (0.085, 0.30, "1:30"), {"shape": "obrien-fleming"},
     (1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5),
     (0.0936274516191515, 0.30137200225199, 0.553374878832629, 0.760533663795651, 0.890865359777959, 0.957360280685139),
     (0.0927726201552275, 0.298232099891393, 0.548071580207729, 0.754859727804832, 0.886453812302597, 0.954691326150343),
     (29.0792663397185, 26.8296595158076, 23.5383638024385, 19.996601889167, 16.8010505776342, 14.1955175014154)),
    ("toxbdry(0.085, 0.30, seq(5, 30, 5))", (0.085, 0.30, "5:30:5"), {}, (2, 2, 3, 4, 4, 5),
     (0.093351505807659, 0.283436504771183, 0.523361728747017, 0.732589199731638, 0.872413009329732, 0.947909226989577),
     (0.0873106043557022, 0.260139762728618, 0.481841530369447, 0.685444374491092, 0.833250717973465, 0.92239949161073),
     (28.6878153521202, 26.2313568518204, 22.8844034417652, 19.3583840187773, 16.1948525729541, 13.6320040421419)),
    # The examples of clinfun's documentation (?toxbdry):
    ("toxbdry(0.2, 0.35, c(20,40,60,75))", (0.2, 0.35, [20, 40, 60, 75]), {}, (7, 12, 17, 21),
     (0.0875064098060485, 0.214223049993666, 0.405614509203796, 0.618565043265013, 0.796897291412163, 0.911410581497646),
     (0.0791231738066507, 0.188218058563568, 0.354068888870518, 0.548005969332155, 0.726588595847568, 0.858524298451947),
     (71.9565768443962, 68.0845168337895, 62.1376835907098, 54.7203553864199, 46.963407526016, 39.9265977412181)),
    ("toxbdry(0.2, 0.3, c(20,40,60,75), cP0=0.15, cP1=0.8)", (0.2, 0.3, [20, 40, 60, 75]),
     {"cross_p0": 0.15, "cross_p1": 0.8}, (7, 12, 16, 20),
     (0.11696982822886, 0.213396512071357, 0.341396618426208, 0.487381428719507, 0.632006294339243, 0.757624875664985),
     (0.103297559196193, 0.186132610986343, 0.297124002089843, 0.427264819752323, 0.562354249097058, 0.687685901406228),
     (71.5939610635531, 68.9949360224133, 65.4328072269929, 61.0397446274827, 56.0994362337222, 50.966593970262)),
    ("toxbdry(0.1, 0.3, 2:30)", (0.1, 0.3, "2:30"), {},
     (1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6),
     (0.0974130234683631, 0.24453838361944, 0.44133036690567, 0.638204642297403, 0.795016398848858, 0.898296638054341),
     (0.0958766154194451, 0.238846061280048, 0.430275462356563, 0.623946482287361, 0.781336847745357, 0.887920576010921),
     (28.1459823445173, 25.7519081125767, 22.5358840496348, 18.9957453044933, 15.6187852901168, 12.7100313407685)),
    ("toxbdry(0.085, 0.30, 1:30, delta=0.25, cP0=0.05)", (0.085, 0.30, "1:30"), {"shape": 0.25, "cross_p0": 0.05},
     (1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5),
     (0.0488972778918948, 0.201811098000856, 0.436363430393515, 0.666979095100516, 0.834136425233685, 0.929844232064737),
     (0.0444167264134811, 0.185353474764493, 0.408566486203849, 0.637239475813, 0.811013544997046, 0.915855055611395),
     (29.514209739128, 27.9875350731579, 25.2855203933071, 21.9137359571958, 18.5163664849341, 15.5250632573898)),
    ("toxbdry(0.05, 0.20, seq(10, 60, 10), delta=0.1)", (0.05, 0.20, "10:60:10"), {"shape": "0.1"},
     (2, 3, 3, 4, 5, 6),
     (0.0909581411840191, 0.333947049103349, 0.622299684452172, 0.830768765156042, 0.93828218752215, 0.981231229666202),
     (0.0862244916715389, 0.308712462138775, 0.577927787851378, 0.787614991894943, 0.909679595434785, 0.966894738884302),
     (57.3708731793743, 50.6919847553438, 41.9191605656714, 33.7565149952341, 27.4002761380856, 22.8193874011824)),
    ("toxbdry(0.3, 0.5, 1:50, cP0=0.05, cP1=0.95)", (0.3, 0.5, "1:50"), {"cross_p0": 0.05, "cross_p1": 0.95},
     (1, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 10, 11, 11, 12, 12, 13, 13, 13, 14, 14, 15, 15, 15, 16,
      16, 17, 17, 17, 18, 18, 18, 19, 19, 20, 20, 20, 21, 21, 21, 22, 22, 23),
     (0.0496888079516756, 0.118570805411069, 0.244866464535325, 0.426789468754224, 0.629624721567825, 0.803480238145879),
     (0.0496888079516756, 0.118570805411069, 0.244866464535325, 0.426789468754224, 0.629624721567825, 0.803480238145879),
     (48.3817362076498, 46.5904535307361, 43.5132737592916, 39.0029991848533, 33.404791180076, 27.4801951175977)),
]


@pytest.mark.parametrize("call, args, options, hi_bdry, pcross, pstop, ess", TOXBDRY_R, ids=[c[0] for c in TOXBDRY_R])
def test_toxicity_boundary_matches_clinfun_toxbdry_hi_bdry(call, args, options, hi_bdry, pcross, pstop, ess):
    design = toxicity_boundary(*args, **options)
    assert design.max_acceptable == hi_bdry
    assert design.stop_at == tuple(r + 1 for r in hi_bdry)
    assert design.default_rates() == pytest.approx(np.linspace(args[0], args[1], 6))
    for oc, c, s, e in zip(design.operating_characteristics(), pcross, pstop, ess):
        assert oc.p_cross == pytest.approx(c, abs=1e-12)
        assert oc.p_stop_early == pytest.approx(s, abs=1e-12)
        assert oc.expected_n == pytest.approx(e, abs=1e-9)


def naive_crossing(looks, stop_at, rate):
    """P(cross) by convolving the binomial increments between looks (scipy), dictionary states."""
    state, previous, crossed = {0: 1.0}, 0, 0.0
    for n, s in zip(looks, stop_at):
        step = stats.binom.pmf(np.arange(n - previous + 1), n - previous, rate)
        grown = defaultdict(float)
        for x, p in state.items():
            for j, q in enumerate(step):
                grown[x + j] += p * q
        crossed += sum(p for x, p in grown.items() if x >= s)
        state = {x: p for x, p in grown.items() if x < s}
        previous = n
    return crossed


def naive_search(p0, looks, delta, cross_p0):
    """Every nominal-level breakpoint in order; the last boundary whose crossing at p0 is <= cross_p0."""
    fraction = np.asarray(looks) / looks[-1]
    cells = {}
    for k, n in enumerate(looks):
        for s in range(1, n + 1):
            tail = stats.binom.sf(s - 1, n, p0)
            cells[(k, s)] = float(special.ndtr(fraction[k] ** delta * special.ndtri(tail)))
    best = None
    for level in sorted(set(cells.values())):
        stop_at = tuple(min([s for s in range(1, n + 1) if cells[(k, s)] <= level], default=n + 1)
                        for k, n in enumerate(looks))
        if naive_crossing(looks, stop_at, p0) <= cross_p0:
            best = stop_at
    return best


def _random_designs(count, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n_looks = int(rng.integers(2, 7))
        looks = tuple(sorted(rng.choice(np.arange(1, 26), size=n_looks, replace=False).tolist()))
        p0 = float(np.round(rng.uniform(0.03, 0.4), 3))
        yield p0, looks, float(rng.choice([0.0, 0.1, 0.25, 0.5])), float(rng.choice([0.05, 0.1, 0.2]))


@pytest.mark.parametrize("p0, looks, delta, cross_p0", [
    (0.085, tuple(range(1, 21)), 0.0, 0.1), (0.085, tuple(range(1, 21)), 0.5, 0.1), (0.2, (4, 8, 12, 16), 0.3, 0.05),
    *_random_designs(12, seed=8),
])
def test_search_agrees_with_a_naive_scan_of_every_breakpoint(p0, looks, delta, cross_p0):
    design = toxicity_boundary(p0, min(0.99, p0 + 0.3), looks, shape=delta, cross_p0=cross_p0)
    assert design.stop_at == naive_search(p0, looks, delta, cross_p0)
    assert naive_crossing(looks, design.stop_at, p0) == pytest.approx(design.p_cross_p0, abs=1e-12)


def test_nominal_alpha_reproduces_the_boundary_with_r_qbinom_conventions():
    """R: r_k = qbinom(1 - pnorm(qnorm(alpha) / t_k^delta), n_k, p0); scipy's binom.ppf is qbinom."""
    for shape, delta in (("pocock", 0.0), ("obrien-fleming", 0.5), (0.2, 0.2)):
        design = toxicity_boundary(0.085, 0.30, "1:30", shape=shape)
        low, high = design.nominal_alpha_range
        assert design.nominal_alpha == low < high
        looks = np.arange(1, 31)
        for alpha in (low * (1 + 1e-9), (low + high) / 2, high * (1 - 1e-9)):
            level = special.ndtr(special.ndtri(alpha) / (looks / 30) ** delta)
            r = stats.binom.ppf(1 - level, looks, 0.085)
            assert tuple(int(v) + 1 for v in r) == design.stop_at
        for alpha in (low * (1 - 1e-6), high * (1 + 1e-6)):  # just outside: another boundary
            level = special.ndtr(special.ndtri(alpha) / (looks / 30) ** delta)
            assert tuple(int(v) + 1 for v in stats.binom.ppf(1 - level, looks, 0.085)) != design.stop_at
        assert design.nominal_levels()[-1] == pytest.approx(low)


def test_patients_needed_is_the_first_size_that_reaches_cross_p1():
    design = toxicity_boundary(0.1, 0.3, "2:30")  # toxbdry(0.1, 0.3, 2:30): P(cross | 0.3) = 0.8983 < 0.9
    assert not design.meets_cross_p1 and design.patients_needed == 31
    assert toxicity_boundary(0.1, 0.3, "2:31").p_cross_p1 >= 0.9
    design = toxicity_boundary(0.2, 0.3, [20, 40, 60, 75], cross_p0=0.15, cross_p1=0.8)
    assert design.patients_needed == 77  # same fractions 20/75, 40/75, 60/75 of the larger size
    for n in (76, 77):
        looks = [round(v * n / 75) for v in (20, 40, 60)] + [n]
        reached = toxicity_boundary(0.2, 0.3, looks, cross_p0=0.15, cross_p1=0.8).meets_cross_p1
        assert reached == (n == 77)
    # Every 5 patients: the larger sizes keep the step (75 reaches 0.9087; 70 only 0.8985).
    assert toxicity_boundary(0.085, 0.2, "5:30:5").patients_needed == 75
    assert toxicity_boundary(0.085, 0.2, "5:75:5").meets_cross_p1
    assert not toxicity_boundary(0.085, 0.2, "5:70:5").meets_cross_p1


def test_worked_example_of_the_readme():
    """Pocock-type rule, 8.5% vs 30%, looks 1:30 (README 'Multi-stage designs')."""
    design = toxicity_boundary(0.085, 0.30, "1:30")
    at = {rate: design.oc(rate) for rate in (0.085, 0.30, 0.40)}
    assert round(at[0.085].p_cross, 3) == 0.099 and round(at[0.085].expected_n, 1) == 28.1
    assert round(at[0.30].p_cross, 3) == 0.945 and round(at[0.30].expected_n, 1) == 11.1
    assert round(at[0.40].p_cross, 3) == 0.996 and round(at[0.40].expected_n, 1) == 6.9
    assert design.stop_at[:10] == (2, 2, 2, 2, 3, 3, 3, 3, 3, 4)
    assert round(design.nominal_alpha, 4) == 0.0409
    by_patient = {rate: np.cumsum(oc.p_stop_by_look) for rate, oc in at.items()}
    assert [round(by_patient[0.085][n - 1], 3) for n in (10, 15, 20)] == [0.058, 0.072, 0.078]
    assert [round(by_patient[0.30][n - 1], 3) for n in (10, 15, 20)] == [0.582, 0.753, 0.827]
    assert [round(by_patient[0.40][n - 1], 3) for n in (10, 15, 20)] == [0.795, 0.927, 0.965]
    assert int(np.searchsorted(by_patient[0.30], at[0.30].p_cross / 2)) + 1 == 8  # half the stops by patient 8
    assert design.stop_at[14] == 4 <= 6  # the pilot's 6 events in 15 patients cross the boundary
    late = toxicity_boundary(0.085, 0.30, "1:30", shape="obrien-fleming")
    assert min(n for n, s in zip(late.looks, late.stop_at) if s <= n) == 4
    assert (round(late.p_cross_p0, 3), round(late.p_cross_p1, 3), round(late.oc(0.3).expected_n, 1)) == \
        (0.094, 0.957, 14.2)
    bayes = bayes_boundary((0.17, 1.83), 0.085, "1:30", cross_p0=0.10, p1=0.30)
    assert bayes.posterior == 0.958
    assert (round(bayes.p_cross_p0, 3), round(bayes.p_cross_p1, 3)) == (0.093, 0.944)


# --- Bayesian rule ----------------------------------------------------------------------------------

def scipy_bayes_stop_at(prior, p0, looks, posterior):
    a, b = prior
    return tuple(min([x for x in range(n + 1) if stats.beta.sf(p0, a + x, b + n - x) >= posterior - 1e-12],
                     default=n + 1) for n in looks)


@pytest.mark.parametrize("prior, p0, looks, posterior", [
    ((0.17, 1.83), 0.085, tuple(range(1, 31)), 0.95), ((1, 1), 0.2, (5, 10, 15, 20), 0.9),
    ((0.5, 0.5), 0.3, (10, 20, 30, 40), 0.8), ((2, 20), 0.05, tuple(range(3, 40, 3)), 0.99),
])
def test_bayes_boundary_is_the_posterior_rule(prior, p0, looks, posterior):
    design = bayes_boundary(prior, p0, looks, posterior=posterior)
    assert design.stop_at == scipy_bayes_stop_at(prior, p0, looks, posterior)
    assert design.rule == "bayes" and design.nominal_alpha is None


@pytest.mark.parametrize("cross_p0", [0.05, 0.10, 0.20])
def test_calibrated_posterior_is_the_smallest_c_within_cross_p0(cross_p0):
    prior, looks = (0.17, 1.83), tuple(range(1, 31))
    design = bayes_boundary(prior, 0.085, looks, cross_p0=cross_p0, p1=0.3)
    low, high = design.posterior_range
    assert low < design.posterior <= high
    assert design.stop_at == scipy_bayes_stop_at(prior, 0.085, looks, design.posterior)
    assert naive_crossing(looks, design.stop_at, 0.085) <= cross_p0
    looser = scipy_bayes_stop_at(prior, 0.085, looks, low)  # any C <= low crosses too often
    assert naive_crossing(looks, looser, 0.085) > cross_p0
    assert len(repr(design.posterior)) <= len(repr(high))  # a short decimal where one fits


# --- scenario rules and snippet ---------------------------------------------------------------------

def test_resolve_rule_forms():
    looks = "1:30"
    assert resolve_rule({"shape": "pocock", "p0": 0.085, "p1": 0.30, "cross_p0": 0.10}, looks) == \
        toxicity_boundary(0.085, 0.30, looks).stop_at
    assert resolve_rule({"p0": 0.085}, looks) == toxicity_boundary(0.085, 0.30, looks).stop_at  # defaults
    assert resolve_rule({"shape": 0.5, "p0": 0.085, "cross_p0": 0.10}, looks) == \
        toxicity_boundary(0.085, 0.30, looks, shape="obrien-fleming").stop_at
    assert resolve_rule({"bayes": {"prior": [0.17, 1.83]}, "p0": 0.085, "posterior": 0.95}, looks) == \
        bayes_boundary((0.17, 1.83), 0.085, looks, posterior=0.95).stop_at
    assert resolve_rule({"bayes": {"prior": [0.17, 1.83]}, "p0": 0.085, "cross_p0": 0.1}, [10, 20]) == \
        bayes_boundary((0.17, 1.83), 0.085, [10, 20], cross_p0=0.1).stop_at
    assert resolve_rule({"stop_at": [3, 5]}, "10,20") == (3, 5)


@pytest.mark.parametrize("rule, looks, field", [
    ({"shape": "triangular", "p0": 0.1}, "1:30", "shape"), ({"shape": 0.7, "p0": 0.1}, "1:30", "shape"),
    ({"p0": 1.2}, "1:30", "p0"), ({"p0": 0.1, "p1": 0.05}, "1:30", "p1"), ({"p0": 0.1, "cross_p0": 0}, "1:30", "cross_p0"),
    ({"p0": 0.1, "alpha": 0.1}, "1:30", "alpha"), ({"shape": "pocock"}, "1:30", "p0"),
    ({"bayes": {"prior": [0.17]}, "p0": 0.1, "posterior": 0.9}, "1:30", "bayes.prior"),
    ({"bayes": {"prior": [0, 1]}, "p0": 0.1, "posterior": 0.9}, "1:30", "bayes.prior"),
    ({"bayes": {"prior": [1, 1]}, "p0": 0.1, "posterior": 1.0}, "1:30", "posterior"),
    ({"bayes": {"prior": [1, 1]}, "p0": 0.1}, "1:30", "posterior"),
    ({"bayes": {"prior": [1, 1]}, "p0": 0.1, "posterior": 0.9, "shape": "pocock"}, "1:30", "shape"),
    ({"stop_at": [2, 3, 4]}, "10,20", "stop_at"), ({"stop_at": [2, -3]}, "10,20", "stop_at"),
    ({"stop_at": [2, 3], "p0": 0.1}, "10,20", "rule"), ({"p0": 0.1}, "20,10", "looks"), ("pocock", "1:30", "rule"),
])
def test_resolve_rule_errors_name_the_key(rule, looks, field):
    with pytest.raises(DesignInputError) as info:
        resolve_rule(rule, looks)
    assert info.value.field == field and "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("design", [
    toxicity_boundary(0.085, 0.30, "1:30"), toxicity_boundary(0.2, 0.35, [20, 40, 60, 75], shape=0.25),
    bayes_boundary((0.17, 1.83), 0.085, "5:30:5", cross_p0=0.1, p1=0.3),
    bayes_boundary((1, 1), 0.2, "10,20", posterior=0.9),
])
def test_scenario_snippet_round_trips_through_resolve_rule(design):
    block = yaml.safe_load(design.scenario_snippet(group="prior_tki"))["monitoring"][0]
    assert block["group"] == "prior_tki" and block["endpoint"] == "cardiac_event" and block["action"] == "stop_group"
    assert parse_looks(block["looks"]) == design.looks
    assert resolve_rule(block["rule"], block["looks"]) == design.stop_at


def test_bad_design_inputs():
    with pytest.raises(DesignInputError, match="p1: got 0.05; expected a rate above p0"):
        toxicity_boundary(0.085, 0.05, "1:30")
    with pytest.raises(DesignInputError, match="cross_p1: .*expected more than cross_p0"):
        toxicity_boundary(0.085, 0.3, "1:30", cross_p0=0.2, cross_p1=0.1)
    with pytest.raises(DesignInputError, match="looks: got '1:30:0'"):
        toxicity_boundary(0.085, 0.3, "1:30:0")
    with pytest.raises(DesignInputError, match="posterior: give exactly one"):
        bayes_boundary((1, 1), 0.1, "1:10", posterior=0.9, cross_p0=0.1)
    with pytest.raises(DesignInputError, match="rates"):
        toxicity_boundary(0.085, 0.3, "1:30").operating_characteristics([0.1, 1.5])


# --- the command ------------------------------------------------------------------------------------

MONITOR_KEYS = {"rule", "looks", "stop_at", "nominal_alpha", "operating_characteristics"}
OC_KEYS = {"rate", "p_cross", "p_stop_early", "expected_n", "p_stop_by_look"}


def test_monitor_json_and_files(capsys, tmp_path):
    code, out, err = invoke(capsys, "monitor", "--p0", "0.085", "--p1", "0.30", "--looks", "1:30",
                            "--rates", "0.085,0.3,0.4", "--json", "--out", tmp_path)
    assert code == 0, err
    data = json.loads(out)
    assert MONITOR_KEYS <= data.keys() and data["rule"] == "repeated-significance"
    assert data["looks"] == list(range(1, 31)) and data["stop_at"][4] == 3
    assert [row["rate"] for row in data["operating_characteristics"]] == [0.085, 0.3, 0.4]
    for row in data["operating_characteristics"]:
        assert OC_KEYS <= row.keys() and len(row["p_stop_by_look"]) == 30
    folder = tmp_path / "monitor_pocock_p0-0.085_p1-0.3_looks-1-30_cross-0.1-0.9"
    names = {path.name for path in folder.iterdir()}
    assert names == {"boundary.csv", "operating_characteristics.csv", "monitor.json", "scenario_snippet.yaml",
                     "monitor.png"}
    assert (folder / "monitor.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len((folder / "boundary.csv").read_text().splitlines()) == 31
    snippet = yaml.safe_load((folder / "scenario_snippet.yaml").read_text())
    assert resolve_rule(snippet["monitoring"][0]["rule"], "1:30") == tuple(data["stop_at"])


def test_monitor_table_and_bayes(capsys, tmp_path):
    code, out, err = invoke(capsys, "monitor", "--p0", "0.085", "--p1", "0.30", "--looks", "5:30:5",
                            "--shape", "obrien-fleming", "--out", tmp_path)
    assert code == 0, err
    assert "operating characteristics" in out and "wrote" in out
    code, out, err = invoke(capsys, "monitor", "--rule", "bayes", "--prior", "0.17,1.83", "--p0", "0.085",
                            "--posterior", "0.95", "--looks", "1:30", "--json", "--out", tmp_path)
    assert code == 0, err
    data = json.loads(out)
    assert data["rule"] == "bayes" and data["posterior"] == 0.95 and "nominal_alpha" not in data
    assert data["stop_at"] == list(bayes_boundary((0.17, 1.83), 0.085, "1:30", posterior=0.95).stop_at)
    code, out, err = invoke(capsys, "monitor", "--rule", "bayes", "--prior", "0.17,1.83", "--p0", "0.085",
                            "--cross-p0", "0.1", "--looks", "1:30", "--json", "--out", tmp_path)
    assert code == 0, err
    assert json.loads(out)["posterior_range"] is not None


def test_monitor_reports_patients_needed(capsys, tmp_path):
    code, out, err = invoke(capsys, "monitor", "--p0", "0.1", "--p1", "0.3", "--looks", "2:30", "--out", tmp_path)
    assert code == 0, err
    assert "below 0.9" in out and "31 patients" in out


@pytest.mark.parametrize("args, flag", [
    (["--p0", "0.3", "--p1", "0.1", "--looks", "1:30"], "--p1"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "30:1"], "--looks"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "5,5,10"], "--looks"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "1:30", "--shape", "steep"], "--shape"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "1:30", "--cross-p0", "1.2"], "--cross-p0"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "1:30", "--rates", "0.1,x"], "--rates"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "1:30", "--rates", "0.1,2"], "--rates"),
    (["--p0", "abc", "--p1", "0.3", "--looks", "1:30"], "--p0"),
    (["--p1", "0.3", "--looks", "1:30"], "--p0"),
    (["--p0", "0.1", "--looks", "1:30"], "--p1"),
    (["--rule", "sprt", "--p0", "0.1", "--p1", "0.3", "--looks", "1:30"], "--rule"),
    (["--rule", "bayes", "--prior", "1,1", "--p0", "0.1", "--posterior", "1.5", "--looks", "1:30"], "--posterior"),
    (["--rule", "bayes", "--prior", "1,1", "--p0", "0.1", "--posterior", "0", "--looks", "1:30"], "--posterior"),
    (["--rule", "bayes", "--prior", "1", "--p0", "0.1", "--posterior", "0.9", "--looks", "1:30"], "--prior"),
    (["--rule", "bayes", "--prior", "-1,1", "--p0", "0.1", "--posterior", "0.9", "--looks", "1:30"], "--prior"),
    (["--rule", "bayes", "--p0", "0.1", "--posterior", "0.9", "--looks", "1:30"], "--prior"),
    (["--rule", "bayes", "--prior", "1,1", "--p0", "0.1", "--looks", "1:30"], "--posterior"),
    (["--rule", "bayes", "--prior", "1,1", "--p0", "0.1", "--posterior", "0.9", "--looks", "1:30",
      "--shape", "0.3"], "--shape"),
    (["--p0", "0.1", "--p1", "0.3", "--looks", "1:30", "--posterior", "0.9"], "--posterior"),
])
def test_monitor_bad_input_one_line_exit_2_nothing_written(capsys, tmp_path, args, flag):
    code, out, err = invoke(capsys, "monitor", *args, "--out", tmp_path / "out")
    assert code == 2, (out, err)
    assert err.startswith(f"error: {flag}:") and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_monitor_never_overwrites_a_different_design(capsys, tmp_path):
    args = ["monitor", "--p0", "0.085", "--p1", "0.30", "--looks", "5:30:5", "--out", tmp_path, "--json"]
    assert invoke(capsys, *args)[0] == 0
    folder = next(tmp_path.iterdir())
    record = json.loads((folder / "monitor.json").read_text())
    record["design_identity"]["stop_at"] = [9, 9, 9, 9, 9, 9]  # as if another design had written here
    (folder / "monitor.json").write_text(json.dumps(record))
    code, out, err = invoke(capsys, *args)
    assert code == 1 and "holds a different design" in err
    assert invoke(capsys, *args[:-1], "--rates", "0.1,0.2")[0] == 1
    # A different design goes to its own folder.
    assert invoke(capsys, "monitor", "--p0", "0.085", "--p1", "0.30", "--looks", "5:30:5", "--cross-p0", "0.05",
                  "--out", tmp_path, "--json")[0] == 0
    assert len(list(tmp_path.iterdir())) == 2


def test_looks_above_the_limit_are_refused():
    with pytest.raises(DesignInputError, match="looks: the last look 2001 is above 2000"):
        toxicity_boundary(0.085, 0.3, "1:2001")


def test_docstring_examples_run():
    import doctest

    import sim.analysis.sequential
    import sim.designs.monitor
    import sim.designs.simon
    import sim.scenario.looks

    for module in (sim.scenario.looks, sim.analysis.sequential, sim.designs.monitor, sim.designs.simon):
        failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert failures == 0 and tried > 0, module.__name__

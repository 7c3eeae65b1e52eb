"""Effect estimates (risk difference, odds ratio, relative risk) against independent references.

References, each with its provenance:
- R 4.2.2 ``fisher.test`` (stats), as shipped, and the same function with ``uniroot``'s tolerance
  tightened to 1e-15 (R's default tolerance, about 1.2e-4, shows in the fourth digit);
- R ``ratesci`` 1.0.0 ``scoreci(..., skew = FALSE)`` (Miettinen-Nurminen) and ``PropCIs`` 0.3-0
  ``diffscoreci``, installed from the CRAN sources (``R CMD INSTALL``);
- scipy ``stats.contingency.odds_ratio(kind="conditional")`` in a per-table loop;
- a brute-force score interval written here: restricted maximum likelihood by numerical
  optimisation (``scipy.optimize.minimize_scalar``) and the interval ends by bisection on the
  score statistic, with no closed form shared with the implementation.
"""

import itertools
import math
import warnings

import pytest
from scipy import optimize, stats

from sim.analysis import effects
from sim.analysis.effects import (
    EffectEstimate,
    effect_estimates,
    odds_ratio,
    relative_risk,
    risk_difference,
)

INF = math.inf

# R script (R 4.2.2, ratesci 1.0.0, PropCIs 0.3-0):
#   tight <- stats::fisher.test
#   environment(tight) <- list2env(list(uniroot = function(f, interval, ...)
#       stats::uniroot(f, interval, ..., tol = 1e-15)), parent = asNamespace("stats"))
#   m <- matrix(c(x1, n1 - x1, x2, n2 - x2), 2, byrow = TRUE)
#   fisher.test(m)[c("estimate", "conf.int")]; tight(m)[c("estimate", "conf.int")]
#   ratesci::scoreci(x1, n1, x2, n2, contrast = "RD", skew = FALSE, precis = 14)$estimates
#   ratesci::scoreci(x1, n1, x2, n2, contrast = "RR", skew = FALSE, precis = 14)$estimates
# Columns: table; fisher.test estimate and conf.int; the same, tight; RD (est, lower, upper);
# RR (est, lower, upper). None: R's estimate where we differ by convention (see below).
R_REFERENCE = [
    ((6, 15, 0, 8), (INF, 0.73755917270349425, INF), (INF, 0.73755936256355992, INF),
     (0.4, 0.020086618086715, 0.64724424512303602), (INF, 1.0653257967724685, INF)),
    ((0, 8, 6, 15), (0, 0, 1.3558234200173249), (0, 0, 1.3558230710057926),
     (-0.4, -0.64724424512670897, -0.020086618076537999), (0, 0, 0.93867998222246496)),
    ((3, 10, 1, 12), (4.3910279583488832, 0.28585783238304247, 268.9829456330317),
     (4.3910398285731658, 0.28586379237994763, 269.48099385898149),
     (0.21666666666666601, -0.128219575794733, 0.54957180540952999), (3.6, 0.58310977852344337, 24.055603295297853)),
    ((7, 20, 9, 21), (0.72380231923159966, 0.16821855572787903, 3.0099237857568544),
     (0.72379182820469223, 0.16823222813153554, 3.0099458092594378),
     (-0.078571428571429, -0.36141650630274702, 0.21859825606195701), (0.81666666666666621, 0.3688944584565893, 1.7582017226843771)),
    ((0, 10, 0, 10), (None, 0, INF), (None, 0, INF),
     (0, -0.28793394129257999, 0.287933941282013), (None, 0, INF)),
    ((10, 10, 10, 10), (None, 0, INF), (None, 0, INF),
     (0, -0.287933941282013, 0.28793394129257999), (1, 0.712066058717987, 1.404364086407726)),
    ((10, 10, 0, 10), (INF, 11.135913140024405, INF), (INF, 11.135840592560424, INF),
     (1, 0.66364155189476703, 1), (INF, 3.4730188304305414, INF)),
    ((0, 10, 10, 10), (0, 0, 0.089799551004562495), (0, 0, 0.089800136028174979),
     (-1, -1, -0.66364155189476703), (0, 0, 0.28793394128201283)),
    ((1, 1, 0, 1), (INF, 0.025640664062500023, INF), (INF, 0.025641025641025727, INF),
     (1, -0.58690137124552599, 1), (INF, 0.26031777162700459, INF)),
    ((5, 5, 3, 7), (INF, 0.5726992200684714, INF), (INF, 0.57269710468525203, INF),
     (0.57142857142857095, 0.0076134981991579998, 0.848694462735333), (2.3333333333333304, 1.0128335376013682, 6.6091434460016707)),
    ((0, 5, 2, 7), (0, 0, 7.4662855820611638), (0, 0, 7.4675105098936516),
     (-0.28571428571428598, -0.65382059638590495, 0.23488283701902299), (0, 0, 2.2736462000176862)),
    ((25, 50, 10, 50), (3.9418980985960026, 1.5234668062152401, 10.866864806711911),
     (3.9419238279977464, 1.5234666714844063, 10.86891719404948),
     (0.3, 0.11441260925828201, 0.46724982837026202), (2.5, 1.3817784493550376, 4.7074523518217246)),
    ((12, 30, 3, 30), (5.8215096500764769, 1.3182072693739566, 36.661381680359511),
     (5.8217105974486394, 1.318208745076249, 36.663406993596645),
     (0.3, 0.084170075375602005, 0.499096377485789), (4, 1.3761637785285248, 12.47551951667838)),
    ((2, 100, 9, 120), (0.2530627206574223, 0.025998104453855149, 1.2644429985410444),
     (0.25304816441369482, 0.026004134160168793, 1.2644430776967841),
     (-0.055, -0.119550648715677, 0.003690658580132), (0.26666666666666589, 0.065608997335770747, 1.06320746978506)),
    ((1, 2, 1, 2), (1, 0.0064129908998511141, 155.93348183656653), (1, 0.0064000163579110364, 156.24960063795831),
     (0, -0.74933105617947404, 0.74933105617947404), (1, 0.11966081576213936, 8.3569545608272708)),
]


def _close(value, reference, rel, abs_=0.0):
    if reference is None:
        return value is None
    if math.isinf(reference):
        return value == reference
    return value == pytest.approx(reference, rel=rel, abs=abs_)


@pytest.mark.parametrize("table,r_default,r_tight,r_rd,r_rr", R_REFERENCE, ids=[str(r[0]) for r in R_REFERENCE])
def test_against_r(table, r_default, r_tight, r_rd, r_rr):
    got = effect_estimates(*table)
    odds = got["odds_ratio"]
    # Tight R fisher.test: the same equations solved to full precision.
    for value, reference in zip((odds.estimate, odds.interval.low, odds.interval.high), r_tight):
        assert _close(value, reference, rel=1e-9, abs_=1e-300), (table, value, reference)
    # R as shipped: within uniroot's default tolerance (about 1.2e-4 on [0, 1] or its inverse).
    for value, reference in zip((odds.estimate, odds.interval.low, odds.interval.high), r_default):
        assert _close(value, reference, rel=3e-3), (table, value, reference)
    rd = got["risk_difference"]
    for value, reference in zip((rd.estimate, rd.interval.low, rd.interval.high), r_rd):
        assert _close(value, reference, rel=0, abs_=1e-9), (table, value, reference)
    rr = got["relative_risk"]
    for value, reference in zip((rr.estimate, rr.interval.low, rr.interval.high), r_rr):
        assert _close(value, reference, rel=1e-9), (table, value, reference)


def test_cho_2009():
    """6/15 after TKI against 0/8 after bevacizumab (Cho et al. 2009), R values in R_REFERENCE."""
    rd = risk_difference(6, 15, 0, 8)
    assert rd.estimate == pytest.approx(0.4)
    # ratesci::scoreci(6, 15, 0, 8, contrast = "RD", skew = FALSE); PropCIs::diffscoreci(6, 15, 0, 8, 0.95)
    # gives [0.020086598, 0.647244239] (its bisection stops at 1e-7).
    assert (rd.interval.low, rd.interval.high) == pytest.approx((0.020086618086715, 0.64724424512303602), abs=1e-9)
    assert (rd.interval.low, rd.interval.high) == pytest.approx((0.020086598396301315, 0.64724423885345461), abs=1e-7)
    odds = odds_ratio(6, 15, 0, 8)
    # fisher.test(matrix(c(6, 9, 0, 8), 2, byrow = TRUE)): estimate Inf, conf.int 0.7375592 Inf.
    assert odds.estimate == INF and odds.interval.high == INF
    assert round(odds.interval.low, 6) == 0.737559
    assert odds.as_dict()["interval"] == [pytest.approx(0.73755936256355992, rel=1e-12), None]
    assert odds.as_dict()["estimate"] is None
    rr = relative_risk(6, 15, 0, 8)
    assert rr.estimate == INF and rr.interval.high == INF
    assert rr.interval.low == pytest.approx(1.0653257967724685, rel=1e-9)


def _tables(max_n):
    for n1, n2 in itertools.product(range(1, max_n + 1), repeat=2):
        for x1, x2 in itertools.product(range(n1 + 1), range(n2 + 1)):
            yield x1, n1, x2, n2


def test_odds_ratio_matches_scipy_on_every_small_table():
    """scipy.stats.contingency.odds_ratio(kind="conditional"), a per-table loop, every table of
    group sizes 1..7 and a few larger designs, levels 0.90 and 0.95."""
    designs = list(_tables(7)) + [(x1, 15, x2, 8) for x1 in range(16) for x2 in range(9)]
    for x1, n1, x2, n2 in designs:
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = stats.contingency.odds_ratio(table, kind="conditional")
        for level in (0.90, 0.95):
            got = odds_ratio(x1, n1, x2, n2, level=level)
            ci = reference.confidence_interval(confidence_level=level)
            if math.isnan(reference.statistic):  # one table only: scipy NaN, we None (R says 0)
                assert got.estimate is None
            else:
                assert _close(got.estimate, reference.statistic, rel=1e-9, abs_=1e-300), (x1, n1, x2, n2)
            assert _close(got.interval.low, ci.low, rel=1e-8, abs_=1e-300), (x1, n1, x2, n2, level)
            assert _close(got.interval.high, ci.high, rel=1e-8), (x1, n1, x2, n2, level)


# --- brute-force score intervals ---------------------------------------------------------------


def _restricted_log_likelihood_max(x1, n1, x2, n2, constraint):
    """max over p2 of the binomial log likelihood with p1 = constraint(p2), by bounded search."""
    def negative(p2):
        p1 = constraint(p2)
        total = 0.0
        for x, n, p in ((x1, n1, p1), (x2, n2, p2)):
            total += (x * math.log(p) if x else 0.0) + ((n - x) * math.log1p(-p) if n - x else 0.0)
        return -total
    return negative


def _brute_score_statistic(x1, n1, x2, n2, value, contrast):
    """(observed - value)² / V at the rates restricted by numerical optimisation."""
    p1_hat, p2_hat = x1 / n1, x2 / n2
    if contrast == "RD":
        low, high = max(0.0, -value), min(1.0, 1.0 - value)
        constraint = lambda p2: p2 + value  # noqa: E731
    else:
        low, high = 0.0, min(1.0, 1.0 / value)
        constraint = lambda p2: value * p2  # noqa: E731
    eps = 1e-15
    objective = _restricted_log_likelihood_max(x1, n1, x2, n2, constraint)
    candidates = [low + eps, high - eps]
    result = optimize.minimize_scalar(objective, bounds=(low + eps, high - eps), method="bounded",
                                      options={"xatol": 1e-13})
    candidates.append(result.x)
    p2 = min(candidates, key=lambda p: objective(p) if low < p < high else math.inf)
    p1 = constraint(p2)
    n_total = n1 + n2
    if contrast == "RD":
        variance = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) * n_total / (n_total - 1)
        return (p1_hat - p2_hat - value) ** 2 / variance
    variance = (p1 * (1 - p1) / n1 + value**2 * p2 * (1 - p2) / n2) * n_total / (n_total - 1)
    return (p1_hat - value * p2_hat) ** 2 / variance


def _brute_bound(statistic, inside, outside, z_squared):
    """Bisection between a value inside the interval and one outside, 60 halvings."""
    for _ in range(60):
        middle = (inside + outside) / 2
        if statistic(middle) <= z_squared:
            inside = middle
        else:
            outside = middle
    return (inside + outside) / 2


@pytest.mark.parametrize("table", [(6, 15, 0, 8), (3, 10, 1, 12), (7, 20, 9, 21), (2, 100, 9, 120),
                                   (12, 30, 3, 30), (1, 2, 1, 2), (4, 9, 4, 9), (40, 60, 1, 50)])
def test_score_intervals_against_brute_force(table):
    x1, n1, x2, n2 = table
    z_squared = stats.norm.ppf(0.975) ** 2
    rd = risk_difference(*table)
    estimate = x1 / n1 - x2 / n2
    statistic = lambda d: _brute_score_statistic(x1, n1, x2, n2, d, "RD")  # noqa: E731
    assert rd.interval.low == pytest.approx(_brute_bound(statistic, estimate, -1 + 1e-12, z_squared), abs=2e-7)
    assert rd.interval.high == pytest.approx(_brute_bound(statistic, estimate, 1 - 1e-12, z_squared), abs=2e-7)
    rr = relative_risk(*table)
    log_statistic = lambda t: _brute_score_statistic(x1, n1, x2, n2, math.exp(t), "RR")  # noqa: E731
    inside = math.log(rr.estimate) if 0 < rr.estimate < INF else math.log(rr.interval.low) + 1.0
    assert math.log(rr.interval.low) == pytest.approx(_brute_bound(log_statistic, inside, -40, z_squared), abs=1e-6)
    if rr.interval.high < INF:
        assert math.log(rr.interval.high) == pytest.approx(_brute_bound(log_statistic, inside, 40, z_squared), abs=1e-6)


def test_every_small_table_is_defined_and_consistent():
    """No NaN and no error on any table up to 6 vs 6 (zero cells, all events, no events), bounds
    ordered, the estimate inside its interval, intervals nested in the level, and swapping the
    groups mirrors every estimate (difference negated, ratios inverted)."""
    for x1, n1, x2, n2 in _tables(6):
        narrow = effect_estimates(x1, n1, x2, n2, level=0.90)
        wide = effect_estimates(x1, n1, x2, n2, level=0.99)
        swapped = effect_estimates(x2, n2, x1, n1, level=0.90)
        for name, effect in narrow.items():
            low, high = effect.interval.low, effect.interval.high
            assert not any(math.isnan(v) for v in (low, high)), (name, x1, n1, x2, n2)
            assert low <= high
            if effect.estimate is not None:
                assert low <= effect.estimate <= high, (name, x1, n1, x2, n2)
            assert wide[name].interval.low <= low + 1e-12 and wide[name].interval.high >= high - 1e-12
            mirror = swapped[name]
            if name == "risk_difference":
                assert mirror.estimate == pytest.approx(-effect.estimate, abs=1e-15)
                assert (mirror.interval.low, mirror.interval.high) == pytest.approx((-high, -low), abs=1e-12)
            else:
                inverse = lambda v: INF if v == 0 else 1 / v  # noqa: E731
                if effect.estimate is None:
                    assert mirror.estimate is None
                else:
                    assert _close(mirror.estimate, inverse(effect.estimate), rel=1e-9)
                assert _close(mirror.interval.low, 0.0 if high == INF else 1 / high, rel=1e-9)
                assert _close(mirror.interval.high, inverse(low), rel=1e-9)


def test_conventions_for_degenerate_tables():
    # No events anywhere: the relative risk 0/0 and the odds ratio (one possible table) are
    # undefined (None), with interval [0, inf]; R fisher.test reports estimate 0, scipy NaN.
    none = effect_estimates(0, 10, 0, 12)
    assert none["relative_risk"].estimate is None and none["odds_ratio"].estimate is None
    for name in ("odds_ratio", "relative_risk"):
        assert (none[name].interval.low, none[name].interval.high) == (0.0, INF)
        assert none[name].as_dict()["interval"] == [0.0, None]
    assert none["risk_difference"].estimate == 0.0
    # Every patient with the event: the relative risk is 1, the odds ratio undefined.
    every = effect_estimates(10, 10, 12, 12)
    assert every["relative_risk"].estimate == 1.0 and every["odds_ratio"].estimate is None


def test_smooth_sums_equal_enumeration():
    """Above a standard deviation of 1,000 the odds ratio's sums become Euler-Maclaurin integrals;
    where enumeration is still cheap both must agree to rounding."""
    for table in [(2 * 10**6, 4 * 10**6, 10**6, 3 * 10**6), (5 * 10**6, 10**7, 5 * 10**6 + 3000, 10**7),
                  (10**6 + 7, 2 * 10**6, 10**6, 2 * 10**6), (3000 * 1000, 4 * 10**6, 10**5, 10**6)]:
        smooth = odds_ratio(*table, level=0.99)
        saved = effects._SMOOTH_SD
        effects._SMOOTH_SD = math.inf
        try:
            enumerated = odds_ratio(*table, level=0.99)
        finally:
            effects._SMOOTH_SD = saved
        for a, b in ((smooth.estimate, enumerated.estimate), (smooth.interval.low, enumerated.interval.low),
                     (smooth.interval.high, enumerated.interval.high)):
            assert a == pytest.approx(b, rel=1e-12), table


def test_huge_groups_answer_with_symmetries():
    """Groups of 10^12: a symmetric table gives a symmetric difference interval and reciprocal ratio
    bounds; swapping two huge groups inverts the odds ratio. Values against the moderate-size
    formula are in tests/test_analyze_large.py."""
    n = 10**12
    rd = risk_difference(6, n, 6, n)
    assert rd.interval.low == pytest.approx(-rd.interval.high, rel=1e-12)
    rr = relative_risk(6, n, 6, n)
    assert rr.interval.low * rr.interval.high == pytest.approx(1.0, rel=1e-9)
    half = n // 2
    a = odds_ratio(half, n, half - 10**6, n)
    b = odds_ratio(half - 10**6, n, half, n)
    assert a.estimate * b.estimate == pytest.approx(1.0, rel=1e-12)
    assert a.interval.low * b.interval.high == pytest.approx(1.0, rel=1e-12)
    # The log odds ratio's exact interval is close to the Wald one at these counts (skew ~ 1e-6).
    cells = (half, n - half, half - 10**6, n - half + 10**6)
    log_or = math.log(cells[0] * cells[3] / (cells[1] * cells[2]))
    se = math.sqrt(sum(1 / c for c in cells))
    assert math.log(a.estimate) == pytest.approx(log_or, rel=1e-6)
    assert math.log(a.interval.low) == pytest.approx(log_or - 1.959963984540054 * se, rel=1e-4)


def test_effect_estimate_dict_and_bad_input():
    effect = EffectEstimate(1.5, effects.ConfidenceInterval(0.5, INF), "m", 0.95)
    assert effect.as_dict() == {"estimate": 1.5, "interval": [0.5, None], "method": "m", "level": 0.95}
    with pytest.raises(ValueError, match="group 2: x must be"):
        odds_ratio(1, 5, 9, 8)
    with pytest.raises(ValueError, match="10\\^12"):
        risk_difference(1, 10**13, 0, 5)
    with pytest.raises(ValueError, match="level"):
        relative_risk(1, 5, 1, 5, level=1.0)

"""From a run's tallies to its results: Monte Carlo estimates beside exact values.

Each analysis' histogram is evaluated with the same per-outcome decision the exact value uses (the
test's p-value table, the interval's bounds), and the exact value sums that decision over the exact
outcome distribution of :mod:`sim.exact`. The Monte Carlo path never sees those distributions: it
simulates patients from the scenario, so agreement between the two checks both.
"""

from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

from .analysis.binomial import binomial_interval_table
from .analysis.fisher import rejects
from .analysis.summary import (
    CompareSummary,
    EnrolmentSummary,
    EstimateSummary,
    MonitoringSummary,
    SimonSummary,
    TrialTestSummary,
    clamp_probability,
    weighted_median,
)
from .analysis.tables import p_value_table, p_values_at
from .exact import (
    NEGLIGIBLE,
    binomial_pmf,
    expected_enrolment,
    outcome_components,
    rate_mixture,
    rule_characteristics,
    support,
)
from .model import marginal_rate, washout_share_below
from .runner import ENROLLED_PREFIX, RULE_PREFIX, RunPlan
from .scenario import Scenario
from .tally import CountTally, MarkTally, SparseCounts, Tallies


def has_priors(scenario: Scenario, analysis) -> bool:
    """Whether an analysis' rates are drawn from priors (its power is then an assurance)."""
    risk_endpoint = "cardiac_event" if analysis.endpoint in ("missed_week2", "washout_months") else analysis.endpoint
    for name in analysis.group_names:
        risk = scenario.groups[name].risk(risk_endpoint) if risk_endpoint in ("cardiac_event", "response") else None
        if risk is not None and risk.priors:
            return True
    return False


def true_rate(scenario: Scenario, group: str, endpoint: str) -> Optional[float]:
    """The marginal rate of a group's endpoint (the prior mean of p-bar under priors)."""
    return marginal_rate(scenario.groups[group], endpoint, scenario.eligibility)


# --------------------------------------------------------------------------- 2x2 tests


def _compare(scenario: Scenario, analysis, spec: CountTally, histogram: SparseCounts) -> CompareSummary:
    (n1, x1), (n2, x2) = spec.decode(histogram.keys)
    rejections = 0
    for size1, size2 in set(zip(n1.tolist(), n2.tolist())):
        mask = (n1 == size1) & (n2 == size2)
        p = p_values_at(analysis.test, x1[mask], size1, x2[mask], size2, alternative=analysis.alternative)
        rejections += int(histogram.counts[mask][rejects(p, analysis.alpha)].sum())
    exact = exact_compare_power(scenario, analysis)
    return CompareSummary(
        id=analysis.analysis_id, endpoint=analysis.endpoint, groups=tuple(analysis.groups), test=analysis.test,
        alternative=analysis.alternative, alpha=analysis.alpha,
        n=tuple(scenario.groups[name].n for name in analysis.groups),
        true_rates=tuple(true_rate(scenario, name, analysis.endpoint) for name in analysis.groups),
        trials=histogram.total, rejections=rejections, exact_power=exact,
        assurance=has_priors(scenario, analysis),
    )


def exact_compare_power(scenario: Scenario, analysis) -> Optional[float]:
    """Exact power (assurance under priors) of a 2x2 test between two groups, by enumerating every outcome
    of the exact outcome distribution (:func:`sim.exact.outcome_components`); None where there is none."""
    components = outcome_components(scenario, analysis.group_names, analysis.endpoint)
    if components is None:
        return None
    total = 0.0
    for component in components:
        for size1, pmf1 in component.parts[0]:
            for size2, pmf2 in component.parts[1]:
                part = _exact_rejection(analysis, size1, pmf1, size2, pmf2)
                if part is None:
                    return None
                total += part
    return clamp_probability(total)


_IntervalTable = Callable[[int], tuple[np.ndarray, np.ndarray]]


def _interval_tables(analysis) -> _IntervalTable:
    """The analysis' binomial_interval_table by size, each built once: a summary asks for the same
    sizes several times (histogram, exact width, each exact probability), and a table of a large n
    costs two beta quantiles per count. The tables are only read, never written."""
    tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def table(size: int) -> tuple[np.ndarray, np.ndarray]:
        if size not in tables:
            tables[size] = binomial_interval_table(size, level=analysis.level, method=analysis.interval)
        return tables[size]

    return table


def exact_interval_width(scenario: Scenario, analysis, target_width: Optional[float]
                         ) -> Optional[tuple[float, Optional[float]]]:
    """(expected width, P(width <= target_width)) of an estimate's interval, exactly; None where there is none."""
    components = outcome_components(scenario, [analysis.group], analysis.endpoint)
    if components is None:
        return None
    return _exact_interval_width(components, analysis, target_width, _interval_tables(analysis))


def _exact_interval_width(components, analysis, target_width: Optional[float], table: _IntervalTable
                          ) -> tuple[float, Optional[float]]:
    mean_width = 0.0
    within = 0.0
    for component in components:
        for size, pmf in component.parts[0]:
            lows, highs = table(size)
            mean_width += float(pmf @ (highs - lows))
            if target_width is not None:
                within += float(pmf @ (highs - lows <= target_width))
    return mean_width, (clamp_probability(within) if target_width is not None else None)


# Enumerations are done in blocks of at most this many outcomes (memory stays bounded whatever n), and
# not at all above EXACT_WORK_LIMIT steps of the hypergeometric recurrence (about a minute): designs of
# several hundred thousand patients per group are then reported by Monte Carlo alone (exact_power null).
EXACT_BLOCK = 1 << 18
EXACT_WORK_LIMIT = 4e10


def _exact_rejection(analysis, n1: int, pmf1: np.ndarray, n2: int, pmf2: np.ndarray) -> Optional[float]:
    """sum over (x1, x2) of pmf1[x1] pmf2[x2] [reject], over the outcomes that carry probability
    (None above the work limit)."""
    lo1, hi1 = support(pmf1)
    lo2, hi2 = support(pmf2)
    if hi1 <= lo1 or hi2 <= lo2:
        return 0.0
    # Each p-value walks about 32 standard deviations of the conditional hypergeometric (at most ~n/2).
    spread = 32.0 * math.sqrt(max(n1 * n2 / (n1 + n2), 1.0)) / 2.0
    if (hi1 - lo1) * (hi2 - lo2) * spread > EXACT_WORK_LIMIT:
        return None
    rows_per_block = max(1, EXACT_BLOCK // (hi2 - lo2))
    x2 = np.arange(lo2, hi2)
    total = 0.0
    for start in range(lo1, hi1, rows_per_block):
        stop = min(hi1, start + rows_per_block)
        rows, columns = np.meshgrid(np.arange(start, stop), x2, indexing="ij")
        p = p_values_at(analysis.test, rows.ravel(), n1, columns.ravel(), n2, alternative=analysis.alternative)
        reject = rejects(p, analysis.alpha).reshape(rows.shape)
        total += float(pmf1[start:stop] @ reject @ pmf2[lo2:hi2])
    return total


# --------------------------------------------------------------------------- intervals


def estimate_summary(scenario: Scenario, analysis, spec: CountTally, histogram: SparseCounts) -> EstimateSummary:
    """An interval's properties from its histogram of (enrolled, count), beside the exact ones."""
    ((n, x),) = spec.decode(histogram.keys)
    counts = histogram.counts.astype(float)
    trials = histogram.total
    rate = true_rate(scenario, analysis.group, analysis.endpoint)
    random_rate = has_priors(scenario, analysis)
    table = _interval_tables(analysis)
    low = np.empty(len(x))
    high = np.empty(len(x))
    for size in set(n.tolist()):
        mask = n == size
        lows, highs = table(size)
        low[mask], high[mask] = lows[x[mask]], highs[x[mask]]
    width = high - low
    share = counts / trials
    mean_width = float(share @ width)
    components = outcome_components(scenario, [analysis.group], analysis.endpoint)

    def monte_carlo_and_exact(indicator) -> tuple[float, Optional[float]]:
        estimate = clamp_probability(share @ indicator(low, high, width))
        if components is None:
            return estimate, None
        total = 0.0
        for component in components:
            for size, pmf in component.parts[0]:
                lows, highs = table(size)
                total += float(pmf @ indicator(lows, highs, highs - lows))
        return estimate, clamp_probability(total)

    exact_width = None if components is None else _exact_interval_width(components, analysis, None, table)[0]
    coverage = exact_coverage = None
    if not random_rate:
        coverage, exact_coverage = monte_carlo_and_exact(lambda lo, hi, w: ((lo <= rate) & (rate <= hi)).astype(float))
    p_width = exact_p_width = p_lower = exact_lower = p_upper = exact_upper = None
    if analysis.target_width is not None:
        p_width, exact_p_width = monte_carlo_and_exact(lambda lo, hi, w: (w <= analysis.target_width).astype(float))
    if analysis.reference_rate is not None:
        reference = analysis.reference_rate
        p_lower, exact_lower = monte_carlo_and_exact(lambda lo, hi, w: (lo > reference).astype(float))
        p_upper, exact_upper = monte_carlo_and_exact(lambda lo, hi, w: (hi < reference).astype(float))
    return EstimateSummary(
        id=analysis.analysis_id, endpoint=analysis.endpoint, groups=(analysis.group,), interval=analysis.interval,
        level=analysis.level, n=scenario.groups[analysis.group].n, true_rate=rate, trials=trials,
        mean_width=mean_width, mean_width_se=math.sqrt(float(share @ (width - mean_width) ** 2) / trials),
        median_width=weighted_median(width, histogram.counts), coverage=coverage,
        exact_mean_width=exact_width, exact_coverage=exact_coverage, target_width=analysis.target_width,
        reference_rate=analysis.reference_rate, p_width_le_target=p_width, exact_p_width_le_target=exact_p_width,
        p_lower_above_reference=p_lower, exact_p_lower_above_reference=exact_lower,
        p_upper_below_reference=p_upper, exact_p_upper_below_reference=exact_upper, assurance=random_rate,
    )


# --------------------------------------------------------------------------- per-trial tests


def split_fisher_exact_power(scenario: Scenario, analysis) -> Optional[float]:
    """Exact power of Fisher's test of short against long washouts within one group.

    The short-washout count M is Binomial(n, P(W' < split)); given M = m the two subgroups'
    event counts are independent binomials with the conditional rates on each side, so the
    power is sum over m of P(M = m) * exact Fisher power(m, n - m). Trials with an empty
    subgroup do not reject. Pooled groups with different rates, priors and monitoring: None.
    """
    if len(analysis.group_names) != 1 or has_priors(scenario, analysis) or \
            analysis.group_names[0] in scenario.monitored_groups():
        return None

    group = scenario.groups[analysis.group_names[0]]
    eligibility, split = scenario.eligibility, analysis.split_washout_at
    share = washout_share_below(group, eligibility, split)
    if share <= 0.0 or share >= 1.0:
        return 0.0
    short_rate = marginal_rate(group, analysis.endpoint, eligibility, high=split)
    long_rate = marginal_rate(group, analysis.endpoint, eligibility, low=split)
    n = group.n
    weights = binomial_pmf(n, share)
    total = 0.0
    for m in range(1, n):
        if weights[m] <= NEGLIGIBLE:  # sizes of the short subgroup that carry no probability (mass < n 1e-20)
            continue
        reject = rejects(p_value_table("fisher", m, n - m, alternative=analysis.alternative), analysis.alpha)
        short = binomial_pmf(m, short_rate)
        long = binomial_pmf(n - m, long_rate)
        total += weights[m] * float(short @ reject @ long)
    return total


def _trial_test(scenario: Scenario, analysis, tally: np.ndarray) -> TrialTestSummary:
    trials, rejections, undefined, separated, not_converged = (int(v) for v in tally)
    exact = split_fisher_exact_power(scenario, analysis) if analysis.split_washout_at is not None else None
    return TrialTestSummary(
        id=analysis.analysis_id, endpoint=analysis.endpoint, groups=tuple(analysis.group_names),
        test=analysis.test, alternative=analysis.alternative, alpha=analysis.alpha,
        method=analysis.method if analysis.test == "wilcoxon" else None, by=analysis.by,
        split_washout_at=analysis.split_washout_at,
        n=tuple(scenario.groups[name].n for name in analysis.group_names), trials=trials, rejections=rejections,
        undefined_trials=undefined, separated_trials=separated, not_converged_trials=not_converged,
        exact_power=exact, assurance=has_priors(scenario, analysis),
    )


# --------------------------------------------------------------------------- Simon designs


def _simon(scenario: Scenario, analysis, spec: MarkTally, histogram: SparseCounts) -> SimonSummary:
    r1, n1, r, n = analysis.simon
    first, final = spec.decode(histogram.keys)
    counts = histogram.counts
    cut_short = (first < 0) | ((first > r1) & (final < 0))
    early = (first >= 0) & (first <= r1)
    reject = (first > r1) & (final > r)
    used = np.where(early, n1, n)
    known = ~cut_short
    group = analysis.group_names[0]
    exact = (None, None, None)
    if group not in scenario.monitored_groups():
        mixture = rate_mixture(scenario.groups[group], analysis.endpoint, scenario.eligibility, degree=n)
        if mixture is not None:
            from .designs.simon import simon_operating_characteristics

            parts = [simon_operating_characteristics(r1, n1, r, n, float(rate)) for rate in mixture.rates]
            exact = tuple(float(mixture.weights @ np.array([getattr(p, name) for p in parts]))
                          for name in ("p_reject", "p_early_stop", "expected_n"))
    return SimonSummary(
        id=analysis.analysis_id, endpoint=analysis.endpoint, groups=(group,), r1=r1, n1=n1, r=r, n=n,
        true_rate=true_rate(scenario, group, analysis.endpoint), trials=histogram.total,
        rejections=int(counts[reject].sum()), early_stops=int(counts[early].sum()),
        cut_short_trials=int(counts[cut_short].sum()), patients_used=int((used * counts)[known].sum()),
        patients_used_squares=int((used.astype(np.int64) ** 2 * counts)[known].sum()),
        exact_power=exact[0], exact_p_early_stop=exact[1], exact_expected_n=exact[2],
        assurance=has_priors(scenario, analysis),
    )


# --------------------------------------------------------------------------- monitoring


def _monitoring(scenario: Scenario, tallies: Tallies) -> tuple[tuple, tuple]:
    rules = []
    for index, rule in enumerate(scenario.monitoring):
        stops = tallies[RULE_PREFIX + rule.rule_id]
        enrolled = tallies[ENROLLED_PREFIX + rule.group]
        exact = rule_characteristics(scenario, index)
        rules.append(MonitoringSummary(
            id=rule.rule_id, group=rule.group, endpoint=rule.endpoint, action=rule.action, looks=rule.looks,
            stop_at=rule.boundary, planned_n=scenario.groups[rule.group].n, trials=int(stops.sum()),
            stops_by_look=tuple(int(v) for v in stops[:-1]), enrolled=tuple(int(v) for v in enrolled),
            exact_p_stop=None if exact is None else exact.p_stop,
            exact_p_stop_by_look=None if exact is None else exact.p_stop_by_look,
            exact_expected_n=None if exact is None else exact.expected_n,
        ))
    enrolment = []
    if scenario.monitoring:
        for name, group in scenario.groups.items():
            histogram = tallies[ENROLLED_PREFIX + name]
            enrolment.append(EnrolmentSummary(
                group=name, planned_n=group.n, trials=int(histogram.sum()),
                enrolled=tuple(int(v) for v in histogram), exact_expected_n=expected_enrolment(scenario, name)))
    return tuple(rules), tuple(enrolment)


def summarise(scenario: Scenario, plan: RunPlan, tallies: Tallies) -> tuple[tuple, tuple, tuple]:
    """(analysis summaries, monitoring summaries, enrolment summaries) of a run's reduced tallies."""
    counts = {spec.analysis_id: spec for spec in plan.counts}
    marks = {spec.analysis_id: spec for spec in plan.mark_tallies}
    summaries = []
    for analysis in scenario.analyses:
        tally = tallies[analysis.analysis_id]
        if analysis.per_trial_test:
            summaries.append(_trial_test(scenario, analysis, tally))
        elif analysis.analysis_id in marks:
            summaries.append(_simon(scenario, analysis, marks[analysis.analysis_id], tally))
        elif analysis.kind == "compare":
            summaries.append(_compare(scenario, analysis, counts[analysis.analysis_id], tally))
        else:
            summaries.append(estimate_summary(scenario, analysis, counts[analysis.analysis_id], tally))
    monitoring, enrolment = _monitoring(scenario, tallies)
    return tuple(summaries), monitoring, enrolment

"""The alternatives the kernel is measured against, doing the same analyses, as a user would write them.

Both baselines simulate the scenario's model with numpy (:class:`trial_data.TrialDraws`: counts as
Binomial(n, p-bar), patient-level matrices only for per-trial tests) and run every analysis of the
scenario, so each does the same work as the kernel line it is compared with:

* :func:`loop_answers` ("scipy loop"): a Python loop over trials calling scipy once per trial and
  analysis: ``fisher_exact``, ``beta.ppf`` for Clopper-Pearson bounds, ``mannwhitneyu``, and the
  logistic fit of :func:`logistic_lrt_p` on that trial's row.
* :func:`vectorised_answers` ("vectorised numpy"): the strongest simple alternative. Counts for all
  trials at once; ``np.bincount`` / ``np.unique`` of table keys and ``fisher_exact`` once per
  distinct table, power = the weighted share of rejecting tables; Clopper-Pearson bounds by
  ``beta.ppf`` once per distinct count; ``mannwhitneyu(x, y, axis=1)`` on trials x patients
  matrices; the Wilcoxon of values by an outcome from ranks computed for all trials at once
  (:func:`wilcoxon_by_p`; ``mannwhitneyu`` cannot take ragged rows, and its ``nan_policy='omit'``
  falls back to a Python loop over trials); a logistic LRT fitted by Newton's method on all trials
  at once (:func:`logistic_lrt_p`).
* :func:`scipy_enumeration_power`: exact power by enumerating every outcome (x1, x2) and calling
  ``fisher_exact`` on each (the exact section's baseline).

Each answer is keyed by analysis id: ``{"trials", "rejections", "power"}`` for a test,
``{"trials", "coverage", "mean_width"`` and, where the analysis asks, ``"p_width_le_target",
"p_lower_above_reference", "p_upper_below_reference"}`` for an interval: the quantities
``simtrial run`` reports (:mod:`sim.analysis.summary`). A trial rejects when
``sim.analysis.rejects(p, alpha)`` (p <= alpha·(1 + 1e-7)); a test that cannot be formed (an empty
subgroup; every value tied) does not reject.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np
from scipy import special, stats

from sim.analysis import rejects
from sim.errors import ScenarioError
from sim.scenario import Scenario
from trial_data import TrialDraws

Answers = dict[str, dict[str, Any]]

# Logistic fit, as in the kernel (sim/kernels/logistic.py): Newton-Raphson with step halving on
# the standardised covariate; a slope beyond 30 per SD (or a singular information) is separation.
MAX_ITERATIONS = 60
MAX_HALVINGS = 30
SEPARATION_SLOPE = 30.0
TOLERANCE = 1e-10
STATUS_OK, STATUS_DEGENERATE, STATUS_SEPARATED, STATUS_NOT_CONVERGED = 0, 1, 2, 3


# --------------------------------------------------------------------------- single tests


def fisher_p_value(x1: int, n1: int, x2: int, n2: int, alternative: str) -> float:
    """scipy's p-value of [[x1, n1 - x1], [x2, n2 - x2]]; ``greater``: group 1's rate higher."""
    return float(stats.fisher_exact(((x1, n1 - x1), (x2, n2 - x2)), alternative=alternative).pvalue)


def clopper_pearson(x: np.ndarray, n: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson bounds for counts ``x`` of ``n`` (0 at x = 0, 1 at x = n), by ``beta.ppf``."""
    x = np.asarray(x, dtype=np.float64)
    tail = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        low = np.where(x > 0, stats.beta.ppf(tail, np.maximum(x, 1), n - x + 1), 0.0)
        high = np.where(x < n, stats.beta.ppf(1.0 - tail, x + 1, np.maximum(n - x, 1)), 1.0)
    return low, high


def _wilcoxon_p_from_u(u1, n1, n2, tie_term, alternative: str) -> np.ndarray:
    """scipy's asymptotic p-value (tie and continuity corrections) from U1 of x against y."""
    u2 = n1 * n2 - u1
    u = {"greater": u1, "less": u2}.get(alternative, np.maximum(u1, u2))
    n = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))
        z = (u - n1 * n2 / 2.0 - 0.5) / np.sqrt(variance)
    p = stats.norm.sf(z) * (2.0 if alternative == "two-sided" else 1.0)
    p = np.clip(p, 0.0, 1.0)
    # Every value tied: no evidence either way (scipy returns NaN, simtrial 1).
    return np.where(variance > 0, p, 1.0)


def wilcoxon_by_p(values: np.ndarray, outcome: np.ndarray, alternative: str) -> np.ndarray:
    """Rank-sum p-value of the values with the outcome against those without, for every trial.

    ``values`` float[T, n], ``outcome`` bool[T, n]. Mid-ranks within each trial (``argsort``,
    with ``scipy.stats.rankdata`` only for trials that have ties), U1 = rank sum of the patients
    with the outcome - n1(n1 + 1)/2, then scipy's asymptotic formula. NaN where one side is empty.
    """
    trials, n = values.shape
    order = np.argsort(values, axis=1)
    ranks = np.empty((trials, n))
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, n + 1.0), (trials, n)), axis=1)
    tie_term = np.zeros(trials)
    tied = np.flatnonzero((np.diff(np.take_along_axis(values, order, axis=1), axis=1) == 0).any(axis=1))
    if tied.size:
        ranks[tied] = stats.rankdata(values[tied], axis=1)
        # A tie group of size t gives each member t = max rank - min rank + 1: sum(t^2 - 1) = sum(t^3 - t).
        size = stats.rankdata(values[tied], method="max", axis=1) - stats.rankdata(values[tied], method="min",
                                                                                      axis=1) + 1
        tie_term[tied] = (size**2 - 1).sum(axis=1)
    n1 = outcome.sum(axis=1).astype(np.float64)
    n2 = n - n1
    u1 = (ranks * outcome).sum(axis=1) - n1 * (n1 + 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _wilcoxon_p_from_u(u1, n1, n2, tie_term, alternative)
    return np.where((n1 > 0) & (n2 > 0), p, np.nan)


def wilcoxon_between_p(x: np.ndarray, y: np.ndarray, alternative: str) -> np.ndarray:
    """``scipy.stats.mannwhitneyu(x, y, axis=1)`` (asymptotic, continuity-corrected); all tied: 1."""
    p = stats.mannwhitneyu(x, y, axis=1, alternative=alternative, method="asymptotic",
                           use_continuity=True).pvalue
    return np.where(np.isnan(p), 1.0, p)


def _log_likelihood(z, y, b0, b1):
    eta = b0[:, None] + b1[:, None] * z
    return (y * eta - np.logaddexp(0.0, eta)).sum(axis=1)


def logistic_lrt_p(washout: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p-value, status) of the LRT of logit P(event) = b0 + b1·log(washout), every trial at once.

    ``washout`` float[T, n] (> 0), ``event`` bool[T, n]. Newton-Raphson on the standardised log
    washout for all trials still iterating (a 2x2 solve per trial, in closed form), with step
    halving where a step lowers the likelihood; trials leave the iteration when converged or
    separated (|slope| > 30 per SD: the statistic is taken at the best fit reached). Degenerate
    trials (no event, all events, constant washout) get p = 1. Status codes as the kernel's.
    """
    trials, n = washout.shape
    y = event.astype(np.float64)
    x = np.log(washout)
    events = y.sum(axis=1)
    mean = x.mean(axis=1)
    spread = x.std(axis=1)
    status = np.full(trials, STATUS_NOT_CONVERGED, dtype=np.int8)
    degenerate = (events == 0) | (events == n) | (spread <= 1e-12 * np.maximum(1.0, np.abs(mean)))
    status[degenerate] = STATUS_DEGENERATE
    fit = np.flatnonzero(~degenerate)
    z = (x[fit] - mean[fit, None]) / spread[fit, None]
    y = y[fit]
    rate = events[fit] / n
    null_ll = events[fit] * np.log(rate) + (n - events[fit]) * np.log1p(-rate)
    b0, b1, ll = np.log(rate / (1.0 - rate)), np.zeros(len(fit)), null_ll.copy()
    fit_status = np.full(len(fit), STATUS_NOT_CONVERGED, dtype=np.int8)
    active = np.arange(len(fit))
    for _ in range(MAX_ITERATIONS):
        if active.size == 0:
            break
        za, ya = z[active], y[active]
        eta = b0[active, None] + b1[active, None] * za
        p = special.expit(eta)
        r, w = ya - p, p * (1.0 - p)
        g0, g1 = r.sum(axis=1), (r * za).sum(axis=1)
        h00, h01, h11 = w.sum(axis=1), (w * za).sum(axis=1), (w * za * za).sum(axis=1)
        det = h00 * h11 - h01 * h01
        singular = det <= 1e-300
        fit_status[active[singular]] = STATUS_SEPARATED
        keep = ~singular
        active, g0, g1, h00, h01, h11, det = (a[keep] for a in (active, g0, g1, h00, h01, h11, det))
        step0, step1 = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        scale = np.ones(active.size)
        candidate = _log_likelihood(z[active], y[active], b0[active] + step0, b1[active] + step1)
        worse = candidate < ll[active] - 1e-12
        for _halving in range(MAX_HALVINGS - 1):
            if not worse.any():
                break
            scale[worse] *= 0.5
            rows = active[worse]
            candidate[worse] = _log_likelihood(z[rows], y[rows], b0[rows] + scale[worse] * step0[worse],
                                               b1[rows] + scale[worse] * step1[worse])
            worse = candidate < ll[active] - 1e-12
        # No improvement even after halving: at the maximum (as the kernel decides).
        fit_status[active[worse]] = STATUS_OK
        moved = ~worse
        rows = active[moved]
        change = candidate[moved] - ll[rows]
        b0[rows] += scale[moved] * step0[moved]
        b1[rows] += scale[moved] * step1[moved]
        ll[rows] = candidate[moved]
        separated = np.abs(b1[rows]) > SEPARATION_SLOPE
        converged = ~separated & (change < TOLERANCE) & (
            np.maximum(np.abs(scale[moved] * step0[moved]), np.abs(scale[moved] * step1[moved])) < 1e-8)
        fit_status[rows[separated]] = STATUS_SEPARATED
        fit_status[rows[converged]] = STATUS_OK
        active = rows[~separated & ~converged]
    status[fit] = fit_status
    statistic = np.zeros(trials)
    statistic[fit] = np.maximum(2.0 * (ll - null_ll), 0.0)
    return stats.chi2.sf(statistic, 1), status


# --------------------------------------------------------------------------- answers per analysis


def _power(rejections: int, trials: int, **extra: Any) -> dict[str, Any]:
    return {"trials": trials, "rejections": int(rejections), "power": int(rejections) / trials, **extra}


def _interval_answer(analysis, counts: np.ndarray, n: int, true_rate: float, low: np.ndarray,
                     high: np.ndarray) -> dict[str, Any]:
    """Interval properties from per-outcome (or per-trial) bounds and how often each occurs."""
    share = counts / counts.sum()
    width = high - low
    answer = {"trials": int(counts.sum()), "coverage": float(share @ ((low <= true_rate) & (true_rate <= high))),
              "mean_width": float(share @ width)}
    if analysis.target_width is not None:
        answer["p_width_le_target"] = float(share @ (width <= analysis.target_width))
    if analysis.reference_rate is not None:
        answer["p_lower_above_reference"] = float(share @ (low > analysis.reference_rate))
        answer["p_upper_below_reference"] = float(share @ (high < analysis.reference_rate))
    return answer


def _check_supported(analysis) -> None:
    if analysis.kind == "estimate" and analysis.interval != "clopper-pearson":
        raise ScenarioError(f"analysis {analysis.analysis_id!r}: the baselines implement Clopper-Pearson "
                            f"intervals only, got {analysis.interval!r}")
    if getattr(analysis, "method", "asymptotic") == "exact":
        raise ScenarioError(f"analysis {analysis.analysis_id!r}: the baselines implement the asymptotic "
                            f"Wilcoxon only, got method 'exact'")


def _ordered(scenario: Scenario) -> list:
    """Per-trial tests first, so that count analyses reuse patient-level draws (row sums)."""
    for analysis in scenario.analyses:
        _check_supported(analysis)
    return sorted(scenario.analyses, key=lambda a: not a.per_trial_test)


def _per_trial_p_vectorised(draws: TrialDraws, analysis) -> np.ndarray:
    """p-values of a per-trial test for every trial (NaN: the test cannot be formed)."""
    groups = analysis.group_names
    if analysis.test == "wilcoxon" and analysis.by is None:
        return wilcoxon_between_p(draws.values(groups[0], analysis.endpoint).astype(np.float64),
                                  draws.values(groups[1], analysis.endpoint).astype(np.float64),
                                  analysis.alternative)
    if analysis.test == "wilcoxon":
        return wilcoxon_by_p(draws.pooled(groups, analysis.endpoint).astype(np.float64),
                             draws.pooled(groups, analysis.by), analysis.alternative)
    if analysis.test == "logistic_lrt":
        return logistic_lrt_p(draws.pooled(groups, "washout_months"), draws.pooled(groups, analysis.endpoint))[0]
    raise AssertionError(analysis)


def _split_tables(draws: TrialDraws, analysis) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Per trial: events among short washouts, short washouts, events among long; and n."""
    washout = draws.pooled(analysis.group_names, "washout_months")
    outcome = draws.pooled(analysis.group_names, analysis.endpoint)
    short = washout < analysis.split_washout_at
    return ((outcome & short).sum(axis=1), short.sum(axis=1), (outcome & ~short).sum(axis=1), washout.shape[1])


def vectorised_answers(scenario: Scenario, *, trials: int, seed: int,
                       rates: Optional[Mapping[tuple[str, str], float]] = None) -> Answers:
    """Every analysis of ``scenario`` on ``trials`` simulated trials, vectorised over trials.

    Parameters
    ----------
    scenario : Scenario
        Its groups, eligibility and analyses (Fisher, Clopper-Pearson, Wilcoxon, washout split,
        logistic LRT).
    trials : int
        Trials to simulate.
    seed : int
        Seed of ``numpy.random.default_rng``.
    rates : mapping, optional
        p-bar by (group, endpoint) where known (see :class:`trial_data.TrialDraws`).

    Returns
    -------
    dict
        Per analysis id, the answer (see the module docstring); tests add ``fisher_exact_calls``
        where Fisher's test is evaluated once per distinct table.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> answers = vectorised_answers(load_scenario("scenarios/tki_vs_bev.yaml"), trials=2000, seed=1)
    >>> round(answers["cardiac_event_prior_tki_vs_prior_bev"]["power"], 1)
    0.8
    """
    draws = TrialDraws(scenario, trials=trials, rng=np.random.default_rng(seed), rates=rates)
    answers: Answers = {}
    for analysis in _ordered(scenario):
        key = analysis.analysis_id
        if analysis.kind == "estimate":
            n = scenario.groups[analysis.group].n
            histogram = np.bincount(draws.count(analysis.group, analysis.endpoint), minlength=n + 1)
            seen = np.flatnonzero(histogram)
            low, high = clopper_pearson(seen, n, analysis.level)
            true_rate = draws.rate(analysis.group, analysis.endpoint)
            answers[key] = _interval_answer(analysis, histogram[seen], n, true_rate, low, high)
        elif analysis.split_washout_at is not None:
            a, m, b, n = _split_tables(draws, analysis)
            keys, counts = np.unique((m * (n + 1) + a) * (n + 1) + b, return_counts=True)
            m, rest = np.divmod(keys, (n + 1) ** 2)
            a, b = np.divmod(rest, n + 1)
            defined = (m > 0) & (m < n)
            p = np.array([fisher_p_value(int(ai), int(mi), int(bi), int(n - mi), analysis.alternative)
                          for ai, mi, bi in zip(a[defined], m[defined], b[defined])])
            answers[key] = _power(counts[defined][rejects(p, analysis.alpha)].sum(), trials,
                                  fisher_exact_calls=int(defined.sum()))
        elif analysis.per_trial_test:
            p = _per_trial_p_vectorised(draws, analysis)
            answers[key] = _power(np.count_nonzero(rejects(np.nan_to_num(p, nan=1.0), analysis.alpha)), trials)
        else:
            (g1, g2), (n1, n2) = analysis.group_names, (scenario.groups[g].n for g in analysis.group_names)
            table_keys = draws.count(g1, analysis.endpoint) * (n2 + 1) + draws.count(g2, analysis.endpoint)
            counts = np.bincount(table_keys, minlength=(n1 + 1) * (n2 + 1))
            seen = np.flatnonzero(counts)
            x1, x2 = np.divmod(seen, n2 + 1)
            p = np.array([fisher_p_value(int(a), n1, int(b), n2, analysis.alternative) for a, b in zip(x1, x2)])
            answers[key] = _power(counts[seen][rejects(p, analysis.alpha)].sum(), trials,
                                  fisher_exact_calls=len(seen))
    return answers


def loop_answers(scenario: Scenario, *, trials: int, seed: int,
                 rates: Optional[Mapping[tuple[str, str], float]] = None) -> Answers:
    """As :func:`vectorised_answers` (the same draws), with scipy called once per trial and analysis."""
    draws = TrialDraws(scenario, trials=trials, rng=np.random.default_rng(seed), rates=rates)
    answers: Answers = {}
    for analysis in _ordered(scenario):
        key = analysis.analysis_id
        groups = analysis.group_names
        if analysis.kind == "estimate":
            n = scenario.groups[analysis.group].n
            counts = draws.count(analysis.group, analysis.endpoint)
            tail = (1.0 - analysis.level) / 2.0
            low, high = np.empty(trials), np.empty(trials)
            for t, x in enumerate(counts.tolist()):
                low[t] = stats.beta.ppf(tail, x, n - x + 1) if x > 0 else 0.0
                high[t] = stats.beta.ppf(1.0 - tail, x + 1, n - x) if x < n else 1.0
            true_rate = draws.rate(analysis.group, analysis.endpoint)
            answers[key] = _interval_answer(analysis, np.ones(trials), n, true_rate, low, high)
            continue
        p = np.ones(trials)
        if analysis.split_washout_at is not None:
            a, m, b, n = _split_tables(draws, analysis)
            for t, (ai, mi, bi) in enumerate(zip(a.tolist(), m.tolist(), b.tolist())):
                if 0 < mi < n:
                    p[t] = fisher_p_value(ai, mi, bi, n - mi, analysis.alternative)
        elif analysis.test == "wilcoxon" and analysis.by is None:
            x, y = (draws.values(g, analysis.endpoint) for g in groups)
            for t in range(trials):
                p[t] = stats.mannwhitneyu(x[t], y[t], alternative=analysis.alternative, method="asymptotic").pvalue
        elif analysis.test == "wilcoxon":
            values, outcome = draws.pooled(groups, analysis.endpoint), draws.pooled(groups, analysis.by)
            for t in range(trials):
                with_outcome, without = values[t][outcome[t]], values[t][~outcome[t]]
                if with_outcome.size and without.size:
                    p[t] = stats.mannwhitneyu(with_outcome, without, alternative=analysis.alternative,
                                              method="asymptotic").pvalue
        elif analysis.test == "logistic_lrt":
            washout, event = draws.pooled(groups, "washout_months"), draws.pooled(groups, analysis.endpoint)
            for t in range(trials):
                p[t] = logistic_lrt_p(washout[t:t + 1], event[t:t + 1])[0][0]
        else:
            (n1, n2) = (scenario.groups[g].n for g in groups)
            x1, x2 = (draws.count(g, analysis.endpoint) for g in groups)
            for t, (a, b) in enumerate(zip(x1.tolist(), x2.tolist())):
                p[t] = fisher_p_value(a, n1, b, n2, analysis.alternative)
        answers[key] = _power(np.count_nonzero(rejects(np.nan_to_num(p, nan=1.0), analysis.alpha)), trials)
    return answers


# --------------------------------------------------------------------------- exact enumeration


def all_tables(n1: int, n2: int) -> np.ndarray:
    """Every outcome (x1, x2): int64[(n1 + 1) * (n2 + 1), 2]."""
    x1, x2 = np.meshgrid(np.arange(n1 + 1), np.arange(n2 + 1), indexing="ij")
    return np.column_stack([x1.ravel(), x2.ravel()])


def scipy_enumeration_power(n1: int, p1: float, n2: int, p2: float, *, alpha: float, alternative: str,
                            tables: Optional[np.ndarray] = None) -> tuple[float, np.ndarray]:
    """Exact power summed over ``tables`` (default: all of them), one ``fisher_exact`` call each.

    Returns the (partial, where ``tables`` is a subset) power and the p-value of each table.
    """
    if tables is None:
        tables = all_tables(n1, n2)
    pmf1 = stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    pmf2 = stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    p_values = np.empty(len(tables))
    power = 0.0
    for index, (a, b) in enumerate(tables.tolist()):
        p_values[index] = fisher_p_value(a, n1, b, n2, alternative)
        if rejects(p_values[index], alpha):
            power += pmf1[a] * pmf2[b]
    return power, p_values

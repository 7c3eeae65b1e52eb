"""Sizing a study: power or interval width over a range of group sizes, and the size to recruit.

The groups named by ``vary`` grow together, keeping the scenario's allocation ratio: at size
``n`` (the size of the first varied group, the *reference group*), a group that has ``m``
patients in the scenario gets ``ceil(n * m / m_ref)``, so ``n = m_ref`` is the scenario itself
and no group ever gets fewer patients than its share of the ratio.

Exact where the model allows it (``method="auto"``, the default). Patients are independent, so a
group's count of a binary endpoint is Binomial(n, p-bar) with p-bar = E[p(W)]
(:func:`sim.model.marginal_rate`): the power of Fisher's test between two groups and the
properties of an interval follow by enumerating every outcome, for every size in the range.
Otherwise (tests computed per trial on patient-level data), and with ``method="monte-carlo"``,
the patient-level kernel runs through the same runner as ``simtrial run``, with the same seed
and stream at every size: trial t at size n+1 shares its first n patients of each group with
trial t at size n (the counter is (trial, group << 32 | patient, draw)), so the curve uses
common random numbers and is as smooth as the Monte Carlo error allows.

The power of an exact test is a sawtooth in n: discreteness makes it drop at some sizes above
the first that reaches the target. :class:`SizingResult` therefore reports ``n_first`` (the
first size that reaches the target) and ``n_stable`` (the smallest size from which every larger
size in the range reaches it), and recommends ``n_stable``.
"""

from __future__ import annotations

import math
from typing import Callable, Literal, Mapping, Optional, Sequence

from scipy import stats

from ..errors import ScenarioError, UsageError
from .sizing_results import (  # noqa: F401 - re-exported: sizing's results are part of its interface
    CurvePoint,
    PowerPoint,
    SizingResult,
    SizingTarget,
    WidthPoint,
    checked_value,
    curve_frame,
    enrolment,
    write_size_outputs,
)
from ..model import marginal_rate
from ..scenario import CompareAnalysis, Scenario, validate_scenario, with_overrides

Method = Literal["auto", "exact", "monte-carlo"]
METHODS = ("auto", "exact", "monte-carlo")

# Exact Fisher enumeration costs about n^3 per size (every table, each p-value by recurrence):
# 0.05 s at 200 per group, 2.3 s at 800 on 2 cores. 500 keeps a full range near a minute.
MAX_SIZE = 500
DEFAULT_RANGE = (2, 200)


# --------------------------------------------------------------------------- normal approximations


def normal_approximation_power(n1: int, p1: float, n2: int, p2: float, *, alpha: float = 0.05,
                               alternative: str = "two-sided") -> float:
    """Power of the two-proportion z-test (pooled variance under H0), the usual sample-size formula.

    power = Phi((delta - z sqrt(p (1 - p) (1/n1 + 1/n2))) / sqrt(p1 q1 / n1 + p2 q2 / n2)), with
    p = (n1 p1 + n2 p2) / (n1 + n2), z the 1 - alpha/2 (two-sided) or 1 - alpha quantile and
    delta = |p1 - p2| (two-sided), p1 - p2 (greater) or p2 - p1 (less).

    Notes
    -----
    With n1 = n2 this is R's ``power.prop.test(n, p1, p2, sig.level = alpha)`` (``strict = FALSE``:
    the far tail of a two-sided test is ignored). It has no continuity correction, so it claims
    80% power at fewer patients than Fisher's exact test reaches it: 28 per group for 40% against
    8.5% (n = 27.85 from the closed form), where the exact test needs 32.

    Examples
    --------
    >>> round(normal_approximation_power(28, 0.40, 28, 0.085), 3)
    0.802
    """
    z = stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha)
    delta = {"two-sided": abs(p1 - p2), "greater": p1 - p2, "less": p2 - p1}[alternative]
    pooled = (n1 * p1 + n2 * p2) / (n1 + n2)
    se_null = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    se_alternative = math.sqrt(p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2)
    if se_alternative == 0.0:
        return 1.0 if delta > 0 else 0.0
    return float(stats.norm.cdf((delta - z * se_null) / se_alternative))


def wald_width(n: int, p: float, *, level: float = 0.95) -> float:
    """Width of the Wald interval p +/- z sqrt(p (1 - p) / n) at the true rate (clipped to [0, 1])."""
    z = stats.norm.isf((1.0 - level) / 2)
    half = z * math.sqrt(p * (1.0 - p) / n)
    return min(p + half, 1.0) - max(p - half, 0.0)


# --------------------------------------------------------------------------- the search


def scaled_sizes(scenario: Scenario, vary: Sequence[str], n: int) -> dict[str, int]:
    """Every group's size when the reference group ``vary[0]`` has ``n`` patients.

    Varied groups keep their ratio to the reference group, rounded up; the others keep their size.
    """
    reference = scenario.groups[vary[0]].n
    sizes = {name: group.n for name, group in scenario.groups.items()}
    for name in vary:
        # Integer ceiling of n * m / m_ref: no float rounding at exact ratios.
        sizes[name] = max(1, -(-n * scenario.groups[name].n // reference))
    return sizes


def _allocation(scenario: Scenario, vary: Sequence[str]) -> dict[str, int]:
    sizes = [scenario.groups[name].n for name in vary]
    divisor = math.gcd(*sizes)
    return {name: size // divisor for name, size in zip(vary, sizes)}


def first_and_stable(meets: Sequence[bool]) -> tuple[Optional[int], Optional[int]]:
    """Indices of the first True and of the start of the final run of True (None when absent)."""
    first = next((i for i, ok in enumerate(meets) if ok), None)
    if not meets or not meets[-1]:
        return first, None
    stable = len(meets) - 1
    while stable > 0 and meets[stable - 1]:
        stable -= 1
    return first, stable


def exact_available(scenario: Scenario, analysis) -> bool:
    """Whether enumeration gives this analysis exactly: intervals and 2x2 tests between groups, under the
    scenario's priors and monitoring (see :func:`sim.exact.outcome_components`).

    Tests computed per trial on patient-level data (``per_trial_test``: rank tests, washout-effect
    tests) have no enumeration here and are sized by simulation.
    """
    if analysis.per_trial_test or (analysis.kind == "compare" and analysis.test == "simon"):
        return False
    from ..exact import outcome_components

    return outcome_components(scenario, analysis.group_names, analysis.endpoint) is not None


def _fixed_rates(scenario: Scenario, analysis) -> bool:
    """No priors and no monitoring on the analysis' groups: the binomial rates are fixed numbers."""
    from ..summarise import has_priors

    return not has_priors(scenario, analysis) and not set(analysis.group_names) & scenario.monitored_groups()


def _normal_available(scenario: Scenario, analysis) -> bool:
    """The textbook normal approximation (for contrast) needs fixed rates and a 2x2 comparison or an interval."""
    if analysis.kind == "compare" and not analysis.two_by_two:
        return False
    return not analysis.per_trial_test and _fixed_rates(scenario, analysis)


def resized(scenario: Scenario, sizes: Mapping[str, int]) -> Scenario:
    """The scenario with these group sizes. Monitoring looks beyond a group's new size are dropped (the
    group ends before them), with their boundary values; a ``rule`` is derived again for the looks kept."""
    data = scenario.to_dict()
    for name, size in sizes.items():
        data["groups"][name]["n"] = size
    kept = []
    for rule in data.get("monitoring", []):
        limit = data["groups"][rule["group"]]["n"]
        keep = [i for i, look in enumerate(rule["looks"]) if look <= limit]
        if not keep:
            continue
        rule["looks"] = [rule["looks"][i] for i in keep]
        if "stop_at" in rule:
            rule["stop_at"] = [rule["stop_at"][i] for i in keep]
        kept.append(rule)
    data["monitoring"] = kept
    return validate_scenario(data, source=scenario.name)


def _check_request(scenario: Scenario, analysis, target: SizingTarget, vary: tuple[str, ...],
                   size_range: tuple[int, int], method: str, trials: Optional[int],
                   conservative: bool = False, dropout: Optional[float] = None) -> None:
    """One place for every check of a sizing request; one line per problem."""
    def probability(label: str, value: Optional[float]) -> None:
        if value is not None and not (isinstance(value, (int, float)) and 0.0 < value < 1.0):
            raise UsageError(f"{label}: got {value!r}; expected a number strictly between 0 and 1")

    if analysis.kind == "compare":
        if target.power is None or target.width is not None or target.assurance is not None:
            raise UsageError(f"analysis {analysis.analysis_id!r} is a comparison: give a target power "
                             f"(--target-power), not a target width")
    else:
        if target.width is None or target.power is not None:
            raise UsageError(f"analysis {analysis.analysis_id!r} is an estimate: give a target width "
                             f"(--target-width [--assurance Q]), not a target power")
        if not (isinstance(target.width, (int, float)) and 0.0 < target.width <= 1.0):
            raise UsageError(f"target width: got {target.width!r}; expected a number in (0, 1]")
    probability("target power", target.power)
    probability("assurance", target.assurance)
    if not vary:
        raise UsageError("vary: expected at least one group")
    for name in vary:
        if name not in scenario.groups:
            raise ScenarioError(f"vary: got {name!r}; expected a group of the scenario: "
                                f"{', '.join(scenario.groups)}")
    if not set(vary) & set(analysis.group_names):
        raise ScenarioError(f"vary: got {', '.join(vary)}; expected at least one group of analysis "
                            f"{analysis.analysis_id!r} ({', '.join(analysis.group_names)}), or its power "
                            f"would not change")
    low, high = size_range
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= MAX_SIZE):
        raise UsageError(f"range: got {low}:{high}; expected MIN:MAX, whole numbers with "
                         f"1 <= MIN <= MAX <= {MAX_SIZE}")
    if method not in METHODS:
        raise UsageError(f"method: got {method!r}; expected one of {', '.join(METHODS)}")
    if analysis.kind == "compare" and analysis.test == "simon":
        raise UsageError(f"analysis {analysis.analysis_id!r} is a Simon two-stage design: find its sizes with "
                         f"`simtrial simon`")
    if method == "exact" and not exact_available(scenario, analysis):
        raise UsageError(f"method: got 'exact'; analysis {analysis.analysis_id!r} has no exact enumeration here (a "
                         f"test computed per trial on patient-level data, or monitoring the exact path does not "
                         f"cover): use auto or monte-carlo")
    if trials is not None and not (isinstance(trials, int) and trials >= 1):
        raise UsageError(f"trials: got {trials!r}; expected a whole number >= 1")
    if dropout is not None and not (isinstance(dropout, (int, float)) and not isinstance(dropout, bool)
                                    and 0.0 <= dropout < 1.0):
        raise UsageError(f"dropout: got {dropout!r}; expected a share of patients with 0 <= D < 1")
    if conservative and (method == "exact" or (method == "auto" and exact_available(scenario, analysis))):
        raise UsageError(f"conservative: analysis {analysis.analysis_id!r} is sized by exact enumeration, "
                         f"which has no Monte Carlo error; use it with method monte-carlo (--method monte-carlo)")


def _single_analysis_scenario(scenario: Scenario, analysis, target: SizingTarget) -> Scenario:
    """The scenario with only the sized analysis (and the requested target width), for simulation."""
    data = scenario.to_dict()
    analysis_data = analysis.model_dump(mode="json", exclude_none=True)
    if analysis.kind == "estimate":
        analysis_data["target_width"] = target.width
    data["analyses"] = [analysis_data]
    return validate_scenario(data, source=scenario.name)


def size_study(
    scenario: Scenario,
    analysis_id: str,
    *,
    target_power: Optional[float] = None,
    target_width: Optional[float] = None,
    assurance: Optional[float] = None,
    vary: Optional[Sequence[str]] = None,
    size_range: tuple[int, int] = DEFAULT_RANGE,
    method: Method = "auto",
    trials: Optional[int] = None,
    conservative: bool = False,
    dropout: Optional[float] = None,
    executor=None,
    on_size: Optional[Callable[[int], None]] = None,
) -> SizingResult:
    """Power (or interval width) of one analysis at every size in a range, and the size to plan for.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    analysis_id : str
        The analysis to size (its id, or its index in the scenario).
    target_power : float, optional
        For a comparison: the power to reach, in (0, 1).
    target_width : float, optional
        For an estimate: the interval width to reach, in (0, 1]. Alone, the expected width must
        be <= ``target_width``; with ``assurance``, P(width <= target_width) must be >= assurance.
    assurance : float, optional
        Probability in (0, 1) that the interval is no wider than ``target_width``.
    vary : sequence of str, optional
        Groups whose sizes change together (default: the analysis' groups); the first one is the
        reference group whose size the range runs over.
    size_range : (int, int)
        Sizes of the reference group, inclusive; 1 <= MIN <= MAX <= 500.
    method : {"auto", "exact", "monte-carlo"}
        ``exact`` enumerates every outcome; ``monte-carlo`` simulates ``trials`` virtual trials
        per size with common random numbers and reports standard errors (exact values beside,
        where they exist); ``auto`` is ``exact`` where :func:`exact_available`, else ``monte-carlo``.
    trials : int, optional
        Virtual trials per size for ``monte-carlo`` (default: the scenario's).
    conservative : bool
        Monte Carlo only: a size reaches the target when the end of its 95% interval
        (value ± 1.96 SE) least favourable to the target does (the lower bound of the simulated
        power), so Monte Carlo error cannot make a size look sufficient.
    dropout : float, optional
        Share of enrolled patients expected not to be evaluable, 0 <= D < 1: the result also
        gives the number to enrol per group, ceil(n / (1 - D)) (``enrol_first``, ``enrol_stable``).
        The search itself is over evaluable patients.
    executor : concurrent.futures.Executor, optional
        Where Monte Carlo chunks run (see :func:`sim.runner.execute`); ``None`` runs them here.
    on_size : callable, optional
        Called with each size once it is done (progress display).

    Returns
    -------
    SizingResult

    Notes
    -----
    Reference: 40% against 8.5%, 1:1, two-sided Fisher at alpha = 0.05 needs 32 per group for
    80% power (exact power 0.8071 by enumeration; 31 per group gives 0.7880), while the normal
    approximation (:func:`normal_approximation_power`) claims 80% at 28 per group. Cho et al.'s
    15 against 8 design had exact power 0.118 at the same rates. R's ``statmod::power.fisher.test``
    is Monte Carlo, so exact enumeration is the reference; the tests check it against a brute force
    over scipy's ``fisher_exact``.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> result = size_study(load_scenario("scenarios/tki_vs_bev.yaml"), "0", target_power=0.8)  # doctest: +SKIP
    >>> result.n_first, result.n_stable, round(result.value_at(result.n_stable), 3)  # doctest: +SKIP
    (32, 32, 0.807)
    """
    analysis = scenario.analysis(str(analysis_id))
    target = SizingTarget(power=target_power, width=target_width, assurance=assurance)
    vary_groups = tuple(dict.fromkeys(vary)) if vary else tuple(analysis.group_names)
    size_range = tuple(size_range)
    _check_request(scenario, analysis, target, vary_groups, size_range, method, trials, conservative, dropout)
    if target.power is not None and _has_priors(scenario, analysis):
        target = SizingTarget(power=target.power, over_priors=True)
    if method == "auto":
        method = "exact" if exact_available(scenario, analysis) else "monte-carlo"
    # The rates behind the exact and normal answers (prior means under priors; None for per-trial tests).
    rates = None if analysis.per_trial_test else tuple(
        marginal_rate(scenario.groups[name], analysis.endpoint, scenario.eligibility) for name in analysis.group_names)
    sizes_by_n = {n: scaled_sizes(scenario, vary_groups, n) for n in range(size_range[0], size_range[1] + 1)}
    base = _single_analysis_scenario(scenario, analysis, target)
    if method == "monte-carlo" and trials is not None:
        base = with_overrides(base, {"trials": trials}, source=scenario.name)
    sized = {n: resized(base, sizes) for n, sizes in sizes_by_n.items()}
    normal = _normal_available(scenario, analysis)

    if method == "exact":
        curve = tuple(_exact_point(sized[n], analysis, target, rates if normal else None, n, sizes, on_size)
                      for n, sizes in sizes_by_n.items())
    else:
        curve = _monte_carlo_curve(base, sized, analysis, target, rates if normal else None, sizes_by_n,
                                   executor, on_size)

    ns = [point.n for point in curve]
    first, stable = first_and_stable([target.met_by(checked_value(target, point, conservative)) for point in curve])
    normal_metric = "normal_power" if analysis.kind == "compare" else "normal_width"
    normal_target = SizingTarget(power=target.power, width=target.width)
    normal_first, _ = first_and_stable([point.value(normal_metric) is not None
                                        and normal_target.met_by(point.value(normal_metric)) for point in curve])
    n_first = None if first is None else ns[first]
    n_stable = None if stable is None else ns[stable]
    return SizingResult(
        scenario=scenario.name,
        analysis=analysis.analysis_id,
        kind=analysis.kind,
        endpoint=analysis.endpoint,
        groups=tuple(analysis.group_names),
        true_rates=rates,
        target=target,
        method=method,
        trials=(trials or scenario.trials) if method == "monte-carlo" else None,
        vary=vary_groups,
        allocation=_allocation(scenario, vary_groups),
        size_range=size_range,
        curve=curve,
        n_first=n_first,
        n_stable=n_stable,
        sizes_first=None if n_first is None else sizes_by_n[n_first],
        sizes_stable=None if n_stable is None else sizes_by_n[n_stable],
        normal_n_first=None if normal_first is None else ns[normal_first],
        assurance=_has_priors(scenario, analysis),
        conservative=conservative,
        dropout=None if dropout is None else float(dropout),
    )


def _has_priors(scenario: Scenario, analysis) -> bool:
    from ..summarise import has_priors

    return has_priors(scenario, analysis)


def _exact_point(sized: Scenario, analysis, target: SizingTarget, rates: Optional[tuple[float, ...]], n: int,
                 sizes: dict[str, int], on_size: Optional[Callable[[int], None]]) -> CurvePoint:
    """One size by enumeration: exact power (assurance under priors) or the interval's exact width."""
    from ..summarise import exact_compare_power, exact_interval_width

    total = sum(sizes.values())
    if isinstance(analysis, CompareAnalysis):
        power = exact_compare_power(sized, analysis)
        normal = None
        if rates is not None:
            n1, n2 = (sizes[name] for name in analysis.groups)
            normal = normal_approximation_power(n1, rates[0], n2, rates[1], alpha=analysis.alpha,
                                                alternative=analysis.alternative)
        point: CurvePoint = PowerPoint(n, sizes, total, power, None, power, normal)
    else:
        mean_width, p_within = exact_interval_width(sized, analysis, target.width)
        normal_width = None if rates is None else wald_width(sizes[analysis.group], rates[0], level=analysis.level)
        point = WidthPoint(n, sizes, total, mean_width, None, p_within, None, mean_width, p_within, normal_width)
    if on_size:
        on_size(n)
    return point


def _monte_carlo_curve(base: Scenario, sized: dict[int, Scenario], analysis, target: SizingTarget,
                       rates: Optional[tuple[float, ...]], sizes_by_n: dict[int, dict[str, int]], executor,
                       on_size: Optional[Callable[[int], None]]) -> tuple[CurvePoint, ...]:
    """The simulated curve: one pass over the largest size on prefixes (see :mod:`sim.designs.prefix`), or
    one run per size where monitoring ties enrolment to the planned size. Stream 0 at every size, as
    ``simtrial run`` uses: common random numbers, and the scenario's own size reproduces ``simtrial run``."""
    from .prefix import one_pass_summaries, per_size_runs

    if set(analysis.group_names) & base.monitored_groups() or any(
            rule.action == "stop_trial" for rule in base.monitoring):
        summaries = per_size_runs(sized, analysis.analysis_id, executor=executor, on_size=on_size)
    else:
        # Every group's size grows with n (scaled_sizes), so the top of the range has the largest of each.
        summaries = one_pass_summaries(sized[max(sized)], sized, analysis.analysis_id, executor=executor,
                                       on_size=on_size)
    curve: list[CurvePoint] = []
    for n, sizes in sizes_by_n.items():
        summary = summaries[n]
        total = sum(sizes.values())
        if summary.kind == "compare":
            normal = None
            if rates is not None:
                n1, n2 = summary.n
                normal = normal_approximation_power(n1, rates[0], n2, rates[1], alpha=analysis.alpha,
                                                    alternative=analysis.alternative)
            curve.append(PowerPoint(n, sizes, total, summary.power, summary.power_se, summary.exact_power, normal))
        else:
            share = summary.p_width_le_target
            normal_width = None if rates is None else wald_width(summary.n, rates[0], level=analysis.level)
            curve.append(WidthPoint(
                n, sizes, total, summary.mean_width, summary.mean_width_se, share,
                math.sqrt(share * (1.0 - share) / summary.trials), summary.exact_mean_width,
                summary.exact_p_width_le_target, normal_width))
    return tuple(curve)

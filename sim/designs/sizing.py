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
from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping, Optional, Sequence, Union

from scipy import stats

from ..errors import ScenarioError, UsageError
from ..model import marginal_rate
from ..scenario import CompareAnalysis, Scenario, validate_scenario, with_overrides

Method = Literal["auto", "exact", "monte-carlo"]
METHODS = ("auto", "exact", "monte-carlo")

# Exact Fisher enumeration costs about n^3 per size (every table, each p-value by recurrence):
# 0.05 s at 200 per group, 2.3 s at 800 on 2 cores. 500 keeps a full range near a minute.
MAX_SIZE = 500
DEFAULT_RANGE = (2, 200)


@dataclass(frozen=True)
class SizingTarget:
    """What a size must reach: ``power``, or an interval ``width`` (optionally with ``assurance``).

    With ``width`` alone the expected width must be <= width; with ``assurance`` Q the
    probability that the width is <= width must be >= Q.
    """

    power: Optional[float] = None
    width: Optional[float] = None
    assurance: Optional[float] = None
    over_priors: bool = False  # the rates have priors: the power target is an assurance target

    @property
    def metric(self) -> str:
        """The curve column the target is checked on."""
        if self.power is not None:
            return "power"
        return "p_width_le_target" if self.assurance is not None else "mean_width"

    @property
    def threshold(self) -> float:
        if self.power is not None:
            return self.power
        return self.assurance if self.assurance is not None else self.width

    def met_by(self, value: float) -> bool:
        if self.metric == "mean_width":
            return value <= self.threshold
        return value >= self.threshold

    def describe(self) -> str:
        if self.power is not None:
            return f"{'assurance' if self.over_priors else 'power'} >= {self.power:g}"
        if self.assurance is not None:
            return f"P(width <= {self.width:g}) >= {self.assurance:g}"
        return f"expected width <= {self.width:g}"

    def to_dict(self) -> dict:
        if self.power is not None:
            return {"power": self.power}
        return {"width": self.width, "assurance": self.assurance}

    @property
    def tag(self) -> str:
        """The target in file names: ``power0.8``, ``width0.3`` or ``width0.3_assurance0.9``."""
        if self.power is not None:
            return f"power{self.power:g}"
        return f"width{self.width:g}" + (f"_assurance{self.assurance:g}" if self.assurance is not None else "")


@dataclass(frozen=True)
class PowerPoint:
    """One size on a power curve.

    ``power`` is the value the target is checked on: exact when enumerated, else the Monte
    Carlo estimate (with ``power_se``). ``exact_power`` is the enumeration (``None`` where the
    model allows none); ``normal_power`` is the normal-approximation formula of a two-group
    comparison of proportions, for contrast (``None`` for other tests).
    """

    n: int
    sizes: Mapping[str, int]
    total_patients: int
    power: float
    power_se: Optional[float]
    exact_power: Optional[float]
    normal_power: Optional[float]

    def value(self, metric: str) -> float:
        return getattr(self, metric)

    def to_dict(self) -> dict:
        return {"n": self.n, "sizes": dict(self.sizes), "total_patients": self.total_patients,
                "power": self.power, "power_se": self.power_se, "exact_power": self.exact_power,
                "normal_power": self.normal_power}


@dataclass(frozen=True)
class WidthPoint:
    """One size on an interval-width curve (one group's confidence interval).

    ``mean_width`` and ``p_width_le_target`` are exact when enumerated and Monte Carlo
    estimates (with standard errors) otherwise; the ``exact_`` fields are always enumerations.
    ``normal_width`` is the Wald width 2 z sqrt(p (1 - p) / n) at the true rate, for contrast.
    """

    n: int
    sizes: Mapping[str, int]
    total_patients: int
    mean_width: float
    mean_width_se: Optional[float]
    p_width_le_target: float
    p_width_le_target_se: Optional[float]
    exact_mean_width: float
    exact_p_width_le_target: float
    normal_width: float

    def value(self, metric: str) -> float:
        return getattr(self, metric)

    def to_dict(self) -> dict:
        return {"n": self.n, "sizes": dict(self.sizes), "total_patients": self.total_patients,
                "mean_width": self.mean_width, "mean_width_se": self.mean_width_se,
                "p_width_le_target": self.p_width_le_target, "p_width_le_target_se": self.p_width_le_target_se,
                "exact_mean_width": self.exact_mean_width, "exact_p_width_le_target": self.exact_p_width_le_target,
                "normal_width": self.normal_width}


CurvePoint = Union[PowerPoint, WidthPoint]


@dataclass(frozen=True)
class SizingResult:
    """A size search over a range: the whole curve and the sizes that reach the target.

    ``n_first`` and ``n_stable`` are sizes of the reference group (``vary[0]``), ``None`` when
    the range holds none; ``sizes_first`` and ``sizes_stable`` give every group's size there.
    ``allocation`` is the kept ratio of the varied groups (their scenario sizes over their gcd).
    """

    scenario: str
    analysis: str
    kind: str
    endpoint: str
    groups: tuple[str, ...]
    true_rates: Optional[tuple[float, ...]]
    target: SizingTarget
    method: str
    trials: Optional[int]
    vary: tuple[str, ...]
    allocation: Mapping[str, int]
    size_range: tuple[int, int]
    curve: tuple[CurvePoint, ...]
    n_first: Optional[int]
    n_stable: Optional[int]
    sizes_first: Optional[Mapping[str, int]]
    sizes_stable: Optional[Mapping[str, int]]
    normal_n_first: Optional[int] = field(default=None)
    assurance: bool = False  # the groups' rates have priors: "power" is the assurance
    conservative: bool = False
    dropout: Optional[float] = None

    @property
    def reference_group(self) -> str:
        return self.vary[0]

    @property
    def recommended(self) -> Optional[str]:
        """``"n_stable"``: the size a study should plan for (``None`` if not reached in the range)."""
        return "n_stable" if self.n_stable is not None else None

    @property
    def n_recommended(self) -> Optional[int]:
        return self.n_stable

    def point(self, n: int) -> CurvePoint:
        """The curve point at reference size ``n``."""
        for candidate in self.curve:
            if candidate.n == n:
                return candidate
        raise KeyError(f"size {n} is not in the range {self.size_range[0]}:{self.size_range[1]}")

    def value_at(self, n: Optional[int]) -> Optional[float]:
        """The target metric (power, mean width or P(width <= W)) at size ``n``."""
        return None if n is None else self.point(n).value(self.target.metric)

    def checked_value(self, point: CurvePoint) -> float:
        """The number the target is checked on: the metric, or with ``conservative`` its 95% bound.

        The bound is the end of the two-sided 95% interval value ± 1.96 SE that is least
        favourable to the target: the lower end for power and P(width <= W), the upper end for
        the expected width. Exact points (no SE) are checked on their value.
        """
        return checked_value(self.target, point, self.conservative)

    def meets_target(self, point: CurvePoint) -> bool:
        """Whether the size at ``point`` reaches the target (on :meth:`checked_value`)."""
        return self.target.met_by(self.checked_value(point))

    def enrol(self, sizes: Optional[Mapping[str, int]]) -> Optional[dict[str, int]]:
        """Patients to enrol per group so that ``sizes`` remain evaluable after ``dropout``:
        ceil(n / (1 - dropout)) for each group (None without a dropout, or without sizes)."""
        if sizes is None or self.dropout is None:
            return None
        return {name: enrolment(n, self.dropout) for name, n in sizes.items()}

    @property
    def enrol_first(self) -> Optional[int]:
        """ceil(n_first / (1 - dropout)): the reference group's enrolment at n_first (None without dropout)."""
        return None if self.n_first is None or self.dropout is None else enrolment(self.n_first, self.dropout)

    @property
    def enrol_stable(self) -> Optional[int]:
        """ceil(n_stable / (1 - dropout)): the reference group's enrolment at n_stable (None without dropout)."""
        return None if self.n_stable is None or self.dropout is None else enrolment(self.n_stable, self.dropout)

    @property
    def file_stem(self) -> str:
        """``size_<analysis>_<target>`` (plus ``_conservative``, ``_dropout<D>``): output names that
        a different request does not overwrite."""
        stem = f"size_{self.analysis}_{self.target.tag}"
        if self.conservative:
            stem += "_conservative"
        if self.dropout is not None:
            stem += f"_dropout{self.dropout:g}"
        return stem

    def to_frame(self):
        """The whole curve as a pandas DataFrame (the CSV's columns; see :func:`curve_frame`)."""
        return curve_frame(self)

    def to_dict(self) -> dict:
        """The ``--json`` payload: analysis, target, n_first, n_stable, sizes_first, sizes_stable,
        conservative, dropout, enrol_first, enrol_stable, enrol_sizes_first, enrol_sizes_stable, curve."""
        return {
            "analysis": self.analysis,
            "target": self.target.to_dict(),
            "n_first": self.n_first,
            "n_stable": self.n_stable,
            "sizes_first": None if self.sizes_first is None else dict(self.sizes_first),
            "sizes_stable": None if self.sizes_stable is None else dict(self.sizes_stable),
            "assurance": self.assurance,
            "conservative": self.conservative,
            "dropout": self.dropout,
            "enrol_first": self.enrol_first,
            "enrol_stable": self.enrol_stable,
            "enrol_sizes_first": self.enrol(self.sizes_first),
            "enrol_sizes_stable": self.enrol(self.sizes_stable),
            "curve": [point.to_dict() for point in self.curve],
        }


# Two-sided 95%: the bound --conservative checks (scipy.stats.norm.isf(0.025)).
Z_95 = 1.959963984540054


def checked_value(target: SizingTarget, point: CurvePoint, conservative: bool) -> float:
    """The metric at ``point``, or with ``conservative`` its 95% bound least favourable to ``target``."""
    value = point.value(target.metric)
    se = point.value({"power": "power_se", "mean_width": "mean_width_se",
                      "p_width_le_target": "p_width_le_target_se"}[target.metric])
    if not conservative or se is None:
        return value
    return value + Z_95 * se if target.metric == "mean_width" else value - Z_95 * se


def enrolment(evaluable: int, dropout: float) -> int:
    """Patients to enrol so that ``evaluable`` remain when a share ``dropout`` drops out: ceil(n / (1 - D)).

    Computed in exact rational arithmetic from the decimal the user gave, so 27 / (1 - 0.1) is 30,
    not 31 (27 / 0.9 is 30.000000000000004 in floating point).

    Examples
    --------
    >>> enrolment(32, 0.1), enrolment(27, 0.1), enrolment(32, 0.0)
    (36, 30, 32)
    """
    from fractions import Fraction

    share = 1 - Fraction(repr(float(dropout)))
    return math.ceil(Fraction(evaluable) / share)


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
        largest_sizes = {name: max(sizes[name] for sizes in sizes_by_n.values()) for name in base.groups}
        summaries = one_pass_summaries(resized(base, largest_sizes), sized, analysis.analysis_id, executor=executor,
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


# --------------------------------------------------------------------------- outputs


def curve_frame(result: SizingResult):
    """The whole curve as a table, one row per size.

    Columns: ``n``, ``n_<group>`` for every group, ``total_patients``; with a dropout,
    ``enrol_<group>`` (ceil(n / (1 - D))) for every group and ``enrol_total``; then the metrics
    (``power``, ``power_se`` (empty when exact), ``exact_power``, ``normal_power`` for a
    comparison; the width columns for an estimate); with ``conservative``, the bound the target
    is checked on (``power_lower_95``, ``mean_width_upper_95`` or ``p_width_le_target_lower_95``);
    then ``meets_target``. Counts are integers and floats carry 15 significant digits
    (:func:`sim.report.frames.records_frame`).
    """
    from ..report.frames import records_frame

    bound_name = f"{result.target.metric}_{'upper' if result.target.metric == 'mean_width' else 'lower'}_95"
    rows = []
    for point in result.curve:
        data = point.to_dict()
        sizes = data.pop("sizes")
        row = {"n": data.pop("n"), **{f"n_{name}": size for name, size in sizes.items()},
               "total_patients": data.pop("total_patients")}
        enrol = result.enrol(sizes)
        if enrol is not None:
            row.update({f"enrol_{name}": size for name, size in enrol.items()})
            row["enrol_total"] = sum(enrol.values())
        row.update(data)
        if result.conservative:
            row[bound_name] = result.checked_value(point)
        row["meets_target"] = result.meets_target(point)
        rows.append(row)
    return records_frame(rows)


def write_size_outputs(directory, result: SizingResult, *, scenario_file: Optional[str] = None) -> list:
    """``<stem>.csv`` (the curve) and ``<stem>.json`` (the result, the recommendation and what
    reproduces it) in ``directory``, each written atomically, with ``<stem>`` =
    :attr:`SizingResult.file_stem` (``size_<analysis>_<target>``). The plot is
    :func:`sim.report.figures.size_figure`."""
    from pathlib import Path

    from .. import io

    directory = Path(directory)
    stem = result.file_stem
    io.write_csv_atomic(directory / f"{stem}.csv", curve_frame(result))
    io.write_json_atomic(directory / f"{stem}.json", {
        **result.to_dict(),
        "recommended": result.recommended,
        "n_recommended": result.n_recommended,
        "normal_n_first": result.normal_n_first,
        "scenario": result.scenario,
        "scenario_file": scenario_file,
        "kind": result.kind,
        "groups": list(result.groups),
        "true_rates": None if result.true_rates is None else list(result.true_rates),
        "vary": list(result.vary),
        "range": list(result.size_range),
        "method": result.method,
        "trials": result.trials,
        "finished_at": io.utc_now(),
        "command": io.command_line(),
        "versions": io.versions(),
    })
    return [directory / f"{stem}.csv", directory / f"{stem}.json"]

"""Monte Carlo summaries of an analysis, from integer tallies, beside their exact values.

The runner reduces each analysis to a histogram of outcomes over trials (the joint counts
(x1, x2) for a comparison, the count x for an estimate). Power, widths and coverage follow
from the histogram and the per-outcome test or interval; sums of integer histograms are
exact, so results do not depend on how trials were split into chunks.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
from scipy import stats

from .binomial import binomial_interval_table
from .fisher import fisher_p_value_table, rejects

# A Monte Carlo estimate further than this many standard errors from its exact value is flagged.
AGREEMENT_SE = 4.0


def weighted_median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of the sample holding ``counts[i]`` copies of ``values[i]`` (as ``np.median``)."""
    total = int(counts.sum())
    if total == 0:
        return math.nan
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    cumulative = np.cumsum(counts[order])
    lower = sorted_values[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
    upper = sorted_values[np.searchsorted(cumulative, total // 2, side="right")]
    return float((lower + upper) / 2.0)


def clamp_probability(value: float) -> float:
    """A sum of probabilities, clamped: float rounding can leave it a few ulps outside [0, 1]."""
    return min(max(float(value), 0.0), 1.0)


def _z(estimate: float, exact: Optional[float], se: float) -> Optional[float]:
    if exact is None:
        return None
    if se > 0:
        return (estimate - exact) / se
    return 0.0 if math.isclose(estimate, exact, abs_tol=1e-12) else math.inf


class _Power:
    """Power from a rejection count, with its Monte Carlo error and the check against the exact power."""

    trials: int
    rejections: int
    exact_power: Optional[float]

    @property
    def power(self) -> float:
        return self.rejections / self.trials

    @property
    def power_se(self) -> float:
        return math.sqrt(self.power * (1.0 - self.power) / self.trials)

    @property
    def power_z(self) -> Optional[float]:
        """(power - exact_power) / SE computed at the exact power; |z| <= 4 expected (None: no exact value)."""
        if self.exact_power is None:
            return None
        se = math.sqrt(self.exact_power * (1.0 - self.exact_power) / self.trials)
        return _z(self.power, self.exact_power, se)

    @property
    def agrees(self) -> bool:
        """Within 4 SE of the exact power; vacuously true where no exact value exists."""
        z = self.power_z
        return z is None or abs(z) <= AGREEMENT_SE


@dataclass(frozen=True)
class CompareSummary(_Power):
    """Power of a two-group test: share of trials with p <= alpha."""

    id: str
    endpoint: str
    groups: tuple[str, str]
    test: str
    alternative: str
    alpha: float
    n: tuple[int, int]
    true_rates: tuple[float, float]
    trials: int
    rejections: int
    exact_power: float

    kind = "compare"

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(kind=self.kind, groups=list(self.groups), n=list(self.n), true_rates=list(self.true_rates),
                     power=self.power, power_se=self.power_se, power_z=self.power_z, agrees=self.agrees)
        return data


@dataclass(frozen=True)
class EstimateSummary:
    """Operating characteristics of a confidence interval for one group's rate."""

    id: str
    endpoint: str
    groups: tuple[str]
    interval: str
    level: float
    n: int
    true_rate: float
    trials: int
    mean_width: float
    mean_width_se: float
    median_width: float
    coverage: float
    exact_mean_width: float
    exact_coverage: float
    target_width: Optional[float]
    reference_rate: Optional[float]
    p_width_le_target: Optional[float]
    exact_p_width_le_target: Optional[float]
    p_lower_above_reference: Optional[float]
    exact_p_lower_above_reference: Optional[float]
    p_upper_below_reference: Optional[float]
    exact_p_upper_below_reference: Optional[float]

    kind = "estimate"

    @property
    def coverage_se(self) -> float:
        return math.sqrt(self.coverage * (1.0 - self.coverage) / self.trials)

    @property
    def mean_width_z(self) -> Optional[float]:
        return _z(self.mean_width, self.exact_mean_width, self.mean_width_se)

    @property
    def coverage_z(self) -> Optional[float]:
        se = math.sqrt(self.exact_coverage * (1.0 - self.exact_coverage) / self.trials)
        return _z(self.coverage, self.exact_coverage, se)

    @property
    def agrees(self) -> bool:
        return all(z is not None and abs(z) <= AGREEMENT_SE for z in (self.mean_width_z, self.coverage_z))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(kind=self.kind, groups=list(self.groups), coverage_se=self.coverage_se,
                    mean_width_z=self.mean_width_z, coverage_z=self.coverage_z, agrees=self.agrees)
        return data


@dataclass(frozen=True)
class TrialTestSummary(_Power):
    """Power of a test computed per trial on patient-level data (Wilcoxon, washout-effect tests).

    ``undefined_trials``: trials where the test could not be formed (an empty subgroup, all
    outcomes equal); they count as not rejecting. ``separated_trials`` and
    ``not_converged_trials`` describe logistic fits. ``exact_power`` is given where the
    model allows it (Fisher on a washout split within one group), else None.
    """

    id: str
    endpoint: str
    groups: tuple[str, ...]
    test: str
    alternative: str
    alpha: float
    method: Optional[str]
    by: Optional[str]
    split_washout_at: Optional[float]
    n: tuple[int, ...]
    trials: int
    rejections: int
    undefined_trials: int
    separated_trials: int
    not_converged_trials: int
    exact_power: Optional[float]

    kind = "compare"

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(kind=self.kind, groups=list(self.groups), n=list(self.n), power=self.power,
                    power_se=self.power_se, power_z=self.power_z, agrees=self.agrees)
        return data

    @property
    def description(self) -> str:
        who = " + ".join(f"{g} (n={n})" for g, n in zip(self.groups, self.n))
        if self.test == "logistic_lrt":
            return f"logistic LRT of {self.endpoint} on log washout, {who}"
        if self.by is not None:
            return f"Wilcoxon {self.alternative} of {self.endpoint} with vs without {self.by}, {who}"
        if self.split_washout_at is not None:
            return (f"Fisher {self.alternative} of {self.endpoint}, washout < {self.split_washout_at:g} vs >= "
                    f"{self.split_washout_at:g} months, {who}")
        return f"Wilcoxon {self.alternative} ({self.method}) of {self.endpoint}, " + " vs ".join(
            f"{g} (n={n})" for g, n in zip(self.groups, self.n))


def compare_from_histogram(analysis, n: tuple[int, int], true_rates: tuple[float, float],
                           histogram: np.ndarray) -> CompareSummary:
    """Power from the joint histogram of (x1, x2) over trials, and exact power by enumeration."""
    reject = rejects(fisher_p_value_table(n[0], n[1], alternative=analysis.alternative), analysis.alpha)
    pmf1 = stats.binom.pmf(np.arange(n[0] + 1), n[0], true_rates[0])
    pmf2 = stats.binom.pmf(np.arange(n[1] + 1), n[1], true_rates[1])
    return CompareSummary(
        id=analysis.analysis_id,
        endpoint=analysis.endpoint,
        groups=tuple(analysis.groups),
        test=analysis.test,
        alternative=analysis.alternative,
        alpha=analysis.alpha,
        n=tuple(n),
        true_rates=tuple(true_rates),
        trials=int(histogram.sum()),
        rejections=int(histogram[reject].sum()),
        exact_power=clamp_probability(pmf1 @ reject @ pmf2),
    )


def estimate_from_histogram(analysis, n: int, true_rate: float, histogram: np.ndarray) -> EstimateSummary:
    """Interval properties from the histogram of x over trials, and exactly under Binomial(n, p-bar)."""
    low, high = binomial_interval_table(n, level=analysis.level, method=analysis.interval)
    width = high - low
    pmf = stats.binom.pmf(np.arange(n + 1), n, true_rate)
    trials = int(histogram.sum())
    share = histogram / trials

    def both(indicator: np.ndarray) -> tuple[float, float]:
        return clamp_probability(share @ indicator), clamp_probability(pmf @ indicator)

    mean_width = float(share @ width)
    width_var = float(share @ (width - mean_width) ** 2)
    coverage, exact_coverage = both(((low <= true_rate) & (true_rate <= high)).astype(float))
    p_width = exact_width = p_lower = exact_lower = p_upper = exact_upper = None
    if analysis.target_width is not None:
        p_width, exact_width = both((width <= analysis.target_width).astype(float))
    if analysis.reference_rate is not None:
        p_lower, exact_lower = both((low > analysis.reference_rate).astype(float))
        p_upper, exact_upper = both((high < analysis.reference_rate).astype(float))
    return EstimateSummary(
        id=analysis.analysis_id,
        endpoint=analysis.endpoint,
        groups=(analysis.group,),
        interval=analysis.interval,
        level=analysis.level,
        n=n,
        true_rate=true_rate,
        trials=trials,
        mean_width=mean_width,
        mean_width_se=math.sqrt(width_var / trials),
        median_width=weighted_median(width, histogram),
        coverage=coverage,
        exact_mean_width=float(pmf @ width),
        exact_coverage=exact_coverage,
        target_width=analysis.target_width,
        reference_rate=analysis.reference_rate,
        p_width_le_target=p_width,
        exact_p_width_le_target=exact_width,
        p_lower_above_reference=p_lower,
        exact_p_lower_above_reference=exact_lower,
        p_upper_below_reference=p_upper,
        exact_p_upper_below_reference=exact_upper,
    )

"""Monte Carlo summaries of a run, beside their exact values: small frozen result objects.

Each summary holds the integer tallies' totals it was made from and the exact values computed by
enumeration (None where the model allows none); every derived number (power, standard errors, z
scores, the agreement check) is a property. :mod:`sim.summarise` builds them from a run's tallies.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Optional

import numpy as np

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


def z_score(estimate: Optional[float], exact: Optional[float], se: float) -> Optional[float]:
    """(estimate - exact) / se; None without an exact value (or estimate)."""
    if exact is None or estimate is None:
        return None
    if se > 0:
        return (estimate - exact) / se
    return 0.0 if math.isclose(estimate, exact, abs_tol=1e-12) else math.inf


def proportion_z(share: Optional[float], exact: Optional[float], trials: int) -> Optional[float]:
    """z of a Monte Carlo proportion against its exact value, with the SE taken at the exact value."""
    if exact is None or share is None:
        return None
    return z_score(share, exact, math.sqrt(exact * (1.0 - exact) / trials))


def within(*zs: Optional[float]) -> bool:
    """Every z (ignoring None: no exact value) within AGREEMENT_SE."""
    return all(z is None or abs(z) <= AGREEMENT_SE for z in zs)


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
        return proportion_z(self.power, self.exact_power, self.trials)

    @property
    def agrees(self) -> bool:
        """Within 4 SE of the exact power; vacuously true where no exact value exists."""
        return within(self.power_z)


@dataclass(frozen=True)
class CompareSummary(_Power):
    """Power of a test of a 2x2 table between two groups (Fisher, Boschloo, z-pooled): share of trials with
    p <= alpha. With priors on the groups' rates (``assurance``), the power is the assurance: the power
    averaged over the prior. ``n`` are the planned group sizes (monitoring may enrol fewer)."""

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
    exact_power: Optional[float]
    assurance: bool = False

    kind = "compare"

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(kind=self.kind, groups=list(self.groups), n=list(self.n), true_rates=list(self.true_rates),
                    power=self.power, power_se=self.power_se, power_z=self.power_z, agrees=self.agrees)
        return data


@dataclass(frozen=True)
class EstimateSummary:
    """Operating characteristics of a confidence interval for one group's rate.

    ``coverage`` is the share of trials whose interval contains the true rate (a bound equal to the rate
    covers it); it is None when the rate is drawn from a prior, because it then differs by trial.
    """

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
    coverage: Optional[float]
    exact_mean_width: Optional[float]
    exact_coverage: Optional[float]
    target_width: Optional[float]
    reference_rate: Optional[float]
    p_width_le_target: Optional[float]
    exact_p_width_le_target: Optional[float]
    p_lower_above_reference: Optional[float]
    exact_p_lower_above_reference: Optional[float]
    p_upper_below_reference: Optional[float]
    exact_p_upper_below_reference: Optional[float]
    assurance: bool = False

    kind = "estimate"

    @property
    def coverage_se(self) -> Optional[float]:
        if self.coverage is None:
            return None
        return math.sqrt(self.coverage * (1.0 - self.coverage) / self.trials)

    @property
    def mean_width_z(self) -> Optional[float]:
        return z_score(self.mean_width, self.exact_mean_width, self.mean_width_se)

    @property
    def coverage_z(self) -> Optional[float]:
        return proportion_z(self.coverage, self.exact_coverage, self.trials)

    @property
    def agrees(self) -> bool:
        return within(self.mean_width_z, self.coverage_z,
                      proportion_z(self.p_width_le_target, self.exact_p_width_le_target, self.trials),
                      proportion_z(self.p_lower_above_reference, self.exact_p_lower_above_reference, self.trials))

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
    assurance: bool = False

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


@dataclass(frozen=True)
class SimonSummary(_Power):
    """A Simon two-stage design simulated on one group: the first n1 patients, stop if responses <= r1,
    else n in all and reject H0 when responses > r. ``power`` is P(reject H0) (its size at the null
    rate); trials in which monitoring stopped the group before the design could finish do not reject
    (``cut_short_trials``)."""

    id: str
    endpoint: str
    groups: tuple[str]
    r1: int
    n1: int
    r: int
    n: int
    true_rate: float
    trials: int
    rejections: int
    early_stops: int
    cut_short_trials: int
    patients_used: int
    exact_power: Optional[float]
    exact_p_early_stop: Optional[float]
    exact_expected_n: Optional[float]
    patients_used_squares: int = 0
    assurance: bool = False

    kind = "compare"
    test = "simon"

    @property
    def p_early_stop(self) -> float:
        return self.early_stops / self.trials

    @property
    def expected_n(self) -> float:
        """Mean patients the design used (n1 after an early stop, else n)."""
        return self.patients_used / self.trials

    @property
    def expected_n_se(self) -> float:
        mean = self.expected_n
        variance = max(self.patients_used_squares / self.trials - mean * mean, 0.0)
        return math.sqrt(variance / self.trials)

    @property
    def agrees(self) -> bool:
        return within(self.power_z, proportion_z(self.p_early_stop, self.exact_p_early_stop, self.trials),
                      z_score(self.expected_n, self.exact_expected_n, self.expected_n_se))

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(kind=self.kind, test=self.test, groups=list(self.groups), power=self.power,
                    power_se=self.power_se, power_z=self.power_z, p_early_stop=self.p_early_stop,
                    expected_n=self.expected_n, expected_n_se=self.expected_n_se, agrees=self.agrees)
        return data


def _histogram_mean_se(values: np.ndarray, histogram: np.ndarray) -> tuple[float, float]:
    trials = histogram.sum()
    mean = float(values @ histogram) / trials
    variance = max(float((values.astype(float) ** 2) @ histogram) / trials - mean * mean, 0.0)
    return mean, math.sqrt(variance / trials)


class _Enrolled:
    """Mean patients enrolled, from the histogram ``enrolled`` (trials by patients enrolled), with its SE
    and its z against ``exact_expected_n``."""

    enrolled: tuple[int, ...]
    exact_expected_n: Optional[float]

    @cached_property
    def _enrolled_mean_se(self) -> tuple[float, float]:
        # expected_n, expected_n_se, the z, agrees and to_dict all read these moments: computed once.
        # Safe to keep: the summaries are frozen and ``enrolled`` is a tuple.
        return _histogram_mean_se(np.arange(len(self.enrolled)), np.asarray(self.enrolled))

    @property
    def expected_n(self) -> float:
        return self._enrolled_mean_se[0]

    @property
    def expected_n_se(self) -> float:
        return self._enrolled_mean_se[1]

    @property
    def expected_n_z(self) -> Optional[float]:
        return z_score(self.expected_n, self.exact_expected_n, self.expected_n_se)


@dataclass(frozen=True)
class MonitoringSummary(_Enrolled):
    """How often a monitoring rule stopped its group (or the trial), at which look, and the group's
    enrolment: Monte Carlo beside the exact values (None where the model allows none)."""

    id: str
    group: str
    endpoint: str
    action: str
    looks: tuple[int, ...]
    stop_at: tuple[int, ...]
    planned_n: int
    trials: int
    stops_by_look: tuple[int, ...]
    enrolled: tuple[int, ...]  # trials by patients enrolled in the rule's group, 0..planned_n
    exact_p_stop: Optional[float]
    exact_p_stop_by_look: Optional[tuple[float, ...]]
    exact_expected_n: Optional[float]

    kind = "monitoring"

    @property
    def p_stop(self) -> float:
        return sum(self.stops_by_look) / self.trials

    @property
    def p_stop_se(self) -> float:
        return math.sqrt(self.p_stop * (1.0 - self.p_stop) / self.trials)

    @property
    def p_stop_by_look(self) -> tuple[float, ...]:
        return tuple(count / self.trials for count in self.stops_by_look)

    @property
    def p_stop_z(self) -> Optional[float]:
        return proportion_z(self.p_stop, self.exact_p_stop, self.trials)

    @property
    def agrees(self) -> bool:
        by_look = ([] if self.exact_p_stop_by_look is None else
                   [proportion_z(p, q, self.trials) for p, q in zip(self.p_stop_by_look, self.exact_p_stop_by_look)])
        return within(self.p_stop_z, self.expected_n_z, *by_look)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "group": self.group, "endpoint": self.endpoint,
                "action": self.action,
                "looks": list(self.looks), "stop_at": list(self.stop_at), "planned_n": self.planned_n,
                "trials": self.trials, "p_stop": self.p_stop, "p_stop_se": self.p_stop_se,
                "p_stop_by_look": list(self.p_stop_by_look), "expected_n": self.expected_n,
                "expected_n_se": self.expected_n_se, "exact_p_stop": self.exact_p_stop,
                "exact_p_stop_by_look": None if self.exact_p_stop_by_look is None else list(self.exact_p_stop_by_look),
                "exact_expected_n": self.exact_expected_n, "p_stop_z": self.p_stop_z,
                "expected_n_z": self.expected_n_z, "agrees": self.agrees}


@dataclass(frozen=True)
class EnrolmentSummary(_Enrolled):
    """Patients a group enrolled under monitoring: mean (with SE) beside the exact expectation."""

    group: str
    planned_n: int
    trials: int
    enrolled: tuple[int, ...]
    exact_expected_n: Optional[float]

    kind = "enrolment"

    @property
    def agrees(self) -> bool:
        return within(self.expected_n_z)

    def to_dict(self) -> dict:
        return {"id": f"enrolled_{self.group}", "kind": self.kind, "group": self.group, "planned_n": self.planned_n,
                "trials": self.trials,
                "expected_n": self.expected_n, "expected_n_se": self.expected_n_se,
                "exact_expected_n": self.exact_expected_n, "agrees": self.agrees}

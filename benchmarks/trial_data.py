"""The scenario's model simulated by other means: numpy, vectorised over trials.

The baselines (``baselines.py``) analyse what :class:`TrialDraws` draws. Nothing here uses
simtrial's kernels or its random numbers; it uses the scenario's own definitions:

* **Counts** of a binary endpoint in a group are drawn as Binomial(n, p-bar), one draw per
  trial, with p-bar from :func:`sim.model.marginal_rate`. That is exact, not an
  approximation: patients are independent, so the count of n patients each with probability
  p(W_i), W_i i.i.d., is Binomial(n, E[p(W)]). Every count-based analysis (Fisher between
  groups, intervals for one group) depends on its counts only, so its answer is the same.
* **Patient-level values** (for per-trial tests) are matrices of trials x patients: washouts
  drawn from the group's distribution within its eligibility window (median·exp(sigma·Z) for
  an untruncated lognormal, the inverse CDF otherwise) and raised to the deferral minimum;
  events and responses as uniforms below p(washout) of the risk model; doses as in the kernel
  (each course's count Binomial(offered, p_dose); a cardiac event during ``event_course``
  stops dosing from a uniformly random dose position of that course on, and no later course
  is given). Where a group's patient-level events are drawn, its counts are their row sums.

Only what an analysis needs is drawn, as the kernel does.
"""

from __future__ import annotations

import math
from typing import Mapping, Optional

import numpy as np

from sim.errors import ScenarioError
from sim.model import marginal_rate, washout_window
from sim.scenario import EmpiricalWashout, FixedWashout, LognormalWashout, Scenario

_DOSE_VALUES = ("doses_week1", "doses_week2", "doses_total", "missed_week2")


def risk_probability(risk, washout: np.ndarray) -> np.ndarray:
    """p(w) of a risk model (``constant``, ``washout_decay``, ``logistic``) for an array of washouts.

    The README's definitions: p_late + (p_early - p_late)·2^(-w / half_life); logit p =
    intercept + slope·log2(w), with the limit taken at w = 0.
    """
    if risk.model == "constant":
        return np.full(washout.shape, risk.p)
    if risk.model == "washout_decay":
        return risk.p_late + (risk.p_early - risk.p_late) * np.exp2(-washout / risk.half_life_months)
    if risk.slope == 0.0:
        return np.full(washout.shape, 1.0 / (1.0 + math.exp(-risk.intercept)))
    with np.errstate(divide="ignore"):
        eta = risk.intercept + risk.slope * np.log2(washout)
    return 1.0 / (1.0 + np.exp(-eta))


class TrialDraws:
    """Counts and patient-level values of ``trials`` trials of a scenario, drawn on demand.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario (its groups and eligibility rule; its analyses are not read).
    trials : int
        Number of trials (the rows of every array).
    rng : numpy.random.Generator
        The source of every draw.
    rates : mapping, optional
        p-bar by (group, endpoint), where already known; others are computed by
        :func:`sim.model.marginal_rate` (quadrature) when first needed.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> draws = TrialDraws(load_scenario("scenarios/tki_vs_bev.yaml"), trials=4, rng=np.random.default_rng(1))
    >>> draws.values("prior_tki", "washout_months").shape
    (4, 30)
    """

    def __init__(self, scenario: Scenario, *, trials: int, rng: np.random.Generator,
                 rates: Optional[Mapping[tuple[str, str], float]] = None) -> None:
        self.scenario = scenario
        self.trials = trials
        self.rng = rng
        self._rates = dict(rates or {})
        self._values: dict[tuple[str, str], np.ndarray] = {}

    def group_size(self, group: str) -> int:
        return self.scenario.groups[group].n

    def count(self, group: str, endpoint: str) -> np.ndarray:
        """int64[trials]: the group's count of a binary endpoint in each trial."""
        drawn = self._values.get((group, endpoint))
        if drawn is not None:
            return drawn.sum(axis=1, dtype=np.int64)
        return self.rng.binomial(self.group_size(group), self.rate(group, endpoint), size=self.trials)

    def rate(self, group: str, endpoint: str) -> float:
        """p-bar of a binary endpoint in a group: the rate every count is Binomial(n, p-bar) with."""
        if (group, endpoint) not in self._rates:
            rate = marginal_rate(self.scenario.groups[group], endpoint, self.scenario.eligibility)
            if rate is None:
                raise ScenarioError(f"group {group!r} does not define {endpoint!r}")
            self._rates[(group, endpoint)] = float(rate)
        return self._rates[(group, endpoint)]

    def values(self, group: str, value: str) -> np.ndarray:
        """[trials, n] patient-level values: float washouts, bool binary endpoints, int doses."""
        key = (group, value)
        if key not in self._values:
            self._values[key] = self._draw(group, value)
        return self._values[key]

    def _draw(self, group_name: str, value: str) -> np.ndarray:
        group = self.scenario.groups[group_name]
        shape = (self.trials, group.n)
        if value == "washout_months":
            return self._washouts(group_name)
        if value in ("cardiac_event", "response"):
            risk = group.risk(value)
            if risk is None:
                raise ScenarioError(f"group {group_name!r} has no {value!r} model")
            if risk.uses_washout:
                p = risk_probability(risk, self.values(group_name, "washout_months"))
            else:
                p = risk_probability(risk, np.zeros(1))[0]
            return self.rng.random(shape) < p
        if value in _DOSE_VALUES:
            self._draw_doses(group_name)
            return self._values[(group_name, value)]
        raise ScenarioError(f"the baselines cannot draw {value!r}")

    def _washouts(self, group_name: str) -> np.ndarray:
        group = self.scenario.groups[group_name]
        washout = group.washout_months
        if washout is None:
            raise ScenarioError(f"group {group_name!r} has no washout_months distribution")
        window = washout_window(group, self.scenario.eligibility)
        shape = (self.trials, group.n)
        if isinstance(washout, FixedWashout):
            drawn = np.full(shape, washout.value)
        elif isinstance(washout, EmpiricalWashout):
            values = np.asarray(washout.values, dtype=np.float64)
            values = values[(values >= window.lower) & (values <= window.upper)]
            drawn = values[self.rng.integers(0, len(values), size=shape)]
        elif isinstance(washout, LognormalWashout) and window.lower <= 0.0 and math.isinf(window.upper):
            drawn = washout.median * np.exp(washout.sigma * self.rng.standard_normal(shape))
        else:
            dist = washout.scipy_distribution()
            low, high = dist.cdf(window.lower), dist.cdf(window.upper)
            drawn = dist.ppf(low + (high - low) * self.rng.random(shape))
        return np.maximum(drawn, window.defer_min) if window.defer_min > 0 else drawn

    def _draw_doses(self, group_name: str) -> None:
        doses = self.scenario.groups[group_name].doses
        if doses is None:
            raise ScenarioError(f"group {group_name!r} has no doses")
        event = self.values(group_name, "cardiac_event")
        shape = event.shape
        # The dose position at which an event stops dosing: uniform over 0 .. per_course - 1.
        stop = self.rng.integers(0, doses.per_course, size=shape)
        total = np.zeros(shape, dtype=np.int64)
        by_course = []
        for course, p_dose in enumerate(doses.p_dose_by_course(), start=1):
            if course < doses.event_course:
                offered = np.full(shape, doses.per_course)
            elif course == doses.event_course:
                offered = np.where(event, stop, doses.per_course)
            else:
                offered = np.where(event, 0, doses.per_course)
            given = self.rng.binomial(offered, p_dose)
            by_course.append(given)
            total += given
        self._values[(group_name, "doses_week1")] = by_course[0]
        week2: Optional[np.ndarray] = by_course[1] if len(by_course) > 1 else None
        if week2 is not None:
            self._values[(group_name, "doses_week2")] = week2
            self._values[(group_name, "missed_week2")] = week2 == 0
        self._values[(group_name, "doses_total")] = total

    def pooled(self, groups: tuple[str, ...], value: str) -> np.ndarray:
        """[trials, sum of n] values of every patient of the listed groups, side by side."""
        parts = [self.values(group, value) for group in groups]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

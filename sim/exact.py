"""Exact distributions of what the simulator counts: the basis of every exact value beside the Monte Carlo.

Patients of a group are independent given the trial's risk parameters, so the count of a binary
endpoint among n patients is Binomial(n, p-bar) with p-bar = E[p(W)] over the eligibility-adjusted
washout distribution (:func:`sim.model.marginal_rate`). Two things make the count's distribution
richer, and both stay exact:

* **Priors.** A risk parameter given as ``{prior: {beta: [a, b]}}`` is drawn once per virtual trial.
  p-bar is affine in the risk parameters (p(w) is affine in p, p_early and p_late; the expectation
  over washouts keeps it affine), so every count probability is a polynomial of degree <= n in the
  prior'd parameters. Gauss-Jacobi quadrature with m nodes integrates polynomials of degree
  <= 2m - 1 exactly against a Beta weight: with m = n // 2 + 1 nodes per parameter the mixture
  (beta-binomial for a constant risk) is exact up to rounding.
* **Monitoring.** A group monitored by a stopping rule enrols a random number of patients; the joint
  distribution of (enrolled, count) follows from the recursion over patients with the boundary
  applied at each look (:func:`sim.analysis.sequential.stopped_sample_distribution`).

An outcome of a group is a list of ``(n, pmf)`` parts: with probability ``pmf[x]`` the group enrolled
``n`` patients and ``x`` of them had the endpoint; the parts' masses add to 1. Where the model allows
no exact answer (two rules on one group, several rules with a trial stop, an analysed endpoint that is
correlated with the monitored one), the functions return None and the caller reports no exact value.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from scipy import special, stats

from .analysis.sequential import crossing_probabilities, stopped_sample_distribution
from .model import marginal_rate
from .scenario import Eligibility, Group, Scenario

# Probabilities below this fraction of a distribution's largest term are dropped from enumerations:
# the mass dropped is below n * 1e-20 (1e-14 at a million patients), far under any reported digit.
NEGLIGIBLE = 1e-20

Part = tuple[int, np.ndarray]  # (patients enrolled, pmf of the count over 0..n)


# --------------------------------------------------------------------------- priors


def _risk_endpoint(endpoint: str) -> str:
    """The risk model behind a binary endpoint (missed week 2 follows the cardiac event)."""
    return "cardiac_event" if endpoint == "missed_week2" else endpoint


def beta_nodes(a: float, b: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Jacobi nodes and weights for E[f(U)], U ~ Beta(a, b): exact for polynomials of degree < 2 count."""
    x, w = special.roots_jacobi(count, b - 1.0, a - 1.0)
    return (1.0 + x) / 2.0, w / w.sum()


def _group_with(group: Group, endpoint: str, values: dict[str, float]) -> Group:
    risk_endpoint = _risk_endpoint(endpoint)
    return group.model_copy(update={risk_endpoint: group.risk(risk_endpoint).at(values)})


@dataclass(frozen=True)
class RateMixture:
    """p-bar of a group's endpoint as a discrete mixture: P(p-bar = rates[k]) = weights[k].

    Exact for every quantity that is a polynomial in the rate of degree at most the ``degree``
    :func:`rate_mixture` was built for.
    """

    weights: np.ndarray
    rates: np.ndarray


def rate_mixture(group: Group, endpoint: str, eligibility: Eligibility, *, degree: int,
                 low: float = -math.inf, high: float = math.inf) -> Optional[RateMixture]:
    """The distribution of p-bar over a group's priors (a point mass without priors); None if undefined."""
    risk = group.risk(_risk_endpoint(endpoint))
    priors = {} if risk is None else risk.priors
    if not priors:
        rate = marginal_rate(group, endpoint, eligibility, low=low, high=high)
        return None if rate is None else RateMixture(np.ones(1), np.array([rate]))
    names = list(priors)
    zero = {name: 0.0 for name in names}
    base = marginal_rate(_group_with(group, endpoint, zero), endpoint, eligibility, low=low, high=high)
    if base is None:
        return None
    slopes = [marginal_rate(_group_with(group, endpoint, {**zero, name: 1.0}), endpoint, eligibility,
                            low=low, high=high) - base for name in names]
    count = degree // 2 + 1
    axes = [beta_nodes(priors[name].a, priors[name].b, count) for name in names]
    rates = []
    weights = []
    for combination in itertools.product(*(range(count) for _ in names)):
        value = base + sum(slope * axes[j][0][k] for j, (slope, k) in enumerate(zip(slopes, combination)))
        rates.append(min(max(value, 0.0), 1.0))
        weights.append(math.prod(axes[j][1][k] for j, k in enumerate(combination)))
    return RateMixture(np.asarray(weights), np.asarray(rates))


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(X = x), x = 0..n, for X ~ Binomial(n, p): scipy's binomial pmf on the whole vector at once."""
    return stats.binom.pmf(np.arange(n + 1, dtype=np.float64), float(n), float(p))


def binomial_mixture_pmf(n: int, mixture: RateMixture) -> np.ndarray:
    """P(count = x), x = 0..n, for Binomial(n, p-bar) with p-bar drawn from the mixture."""
    x = np.arange(n + 1)
    return mixture.weights @ stats.binom.pmf(x[None, :], n, mixture.rates[:, None])


# --------------------------------------------------------------------------- monitoring


def _mixed_stopped(rule, group: Group, eligibility: Eligibility) -> Optional[tuple[np.ndarray, np.ndarray]]:
    mixture = rate_mixture(group, rule.endpoint, eligibility, degree=group.n)
    if mixture is None:
        return None
    return _stopped_over(rule, group, mixture)


def _stopped_over(rule, group: Group, mixture: RateMixture) -> tuple[np.ndarray, np.ndarray]:
    """(sizes, joint) of the rule's stopped sample, averaged over the rate mixture."""
    total = None
    for weight, rate in zip(mixture.weights, mixture.rates):
        sizes, pmf = stopped_sample_distribution(rule.looks, rule.boundary, float(rate), group.n)
        total = weight * pmf if total is None else total + weight * pmf
    return sizes, total


def endpoints_independent(group: Group, endpoint: str, other: str) -> bool:
    """Whether two binary endpoints of a patient are independent (so monitoring one leaves the other binomial)."""
    if endpoint == other:
        return False
    if {endpoint, other} == {"missed_week2", "cardiac_event"}:
        return False  # an event stops dosing
    risks = {_risk_endpoint(endpoint), _risk_endpoint(other)}
    if len(risks) == 1:
        return False
    return not all(group.risk(name) is not None and group.risk(name).uses_washout for name in risks)


@dataclass(frozen=True)
class Component:
    """One way the trial can unfold: each analysed group's outcome parts, independent of each other."""

    parts: tuple[tuple[Part, ...], ...]


def _fixed_parts(group: Group, endpoint: str, eligibility: Eligibility, n: int) -> Optional[tuple[Part, ...]]:
    mixture = rate_mixture(group, endpoint, eligibility, degree=n)
    if mixture is None:
        return None
    return ((n, binomial_mixture_pmf(n, mixture)),)


def _monitored_parts(scenario: Scenario, rule, group_name: str, endpoint: str,
                     share: Optional[np.ndarray] = None) -> Optional[tuple[Part, ...]]:
    """A group under its own rule: (enrolled, count) parts; ``share`` restricts to stopping at each look."""
    group = scenario.groups[group_name]
    stopped = _mixed_stopped(rule, group, scenario.eligibility)
    if stopped is None:
        return None
    sizes, joint = stopped
    if rule.endpoint == endpoint:
        return tuple((int(n), joint[i, : n + 1].copy()) for i, n in enumerate(sizes) if joint[i].sum() > 0)
    if not endpoints_independent(group, endpoint, rule.endpoint):
        return None
    parts = []
    for i, n in enumerate(sizes):
        mass = joint[i].sum()
        if mass > 0:
            (count,) = _fixed_parts(group, endpoint, scenario.eligibility, int(n))
            parts.append((int(n), mass * count[1]))
    return tuple(parts)


def outcome_components(scenario: Scenario, groups: Sequence[str], endpoint: str) -> Optional[tuple[Component, ...]]:
    """The exact distribution of the analysed groups' (enrolled, count) outcomes, or None.

    Supported: no monitoring; stop_group rules, at most one per group; a single stop_trial rule
    (then the other groups enrol in proportion when it stops).
    """
    rules = scenario.monitoring
    if not rules:
        parts = [_fixed_parts(scenario.groups[g], endpoint, scenario.eligibility, scenario.groups[g].n)
                 for g in groups]
        return None if any(p is None for p in parts) else (Component(tuple(parts)),)
    by_group: dict[str, list] = {}
    for rule in rules:
        by_group.setdefault(rule.group, []).append(rule)
    if any(len(group_rules) > 1 for group_rules in by_group.values()):
        return None
    trial_stops = [rule for rule in rules if rule.action == "stop_trial"]
    if not trial_stops:
        parts = []
        for g in groups:
            rule = by_group.get(g, [None])[0]
            if rule is None:
                part = _fixed_parts(scenario.groups[g], endpoint, scenario.eligibility, scenario.groups[g].n)
            else:
                part = _monitored_parts(scenario, rule, g, endpoint)
            if part is None:
                return None
            parts.append(part)
        return (Component(tuple(parts)),)
    if len(rules) > 1:
        return None
    (rule,) = trial_stops
    stopping_group = scenario.groups[rule.group]
    stopped = _mixed_stopped(rule, stopping_group, scenario.eligibility)
    if stopped is None:
        return None
    sizes, joint = stopped
    components = []
    for i, n_stop in enumerate(sizes):
        mass = float(joint[i].sum())
        if mass <= 0:
            continue
        parts = []
        weight_placed = False
        for g in groups:
            group = scenario.groups[g]
            enrolled = (group.n * int(n_stop)) // stopping_group.n
            if g == rule.group:
                if endpoint == rule.endpoint:
                    part = ((int(n_stop), joint[i, : n_stop + 1].copy()),)
                elif endpoints_independent(group, endpoint, rule.endpoint):
                    (count,) = _fixed_parts(group, endpoint, scenario.eligibility, int(n_stop))
                    part = ((int(n_stop), mass * count[1]),)
                else:
                    return None
                weight_placed = True
            else:
                part = _fixed_parts(group, endpoint, scenario.eligibility, enrolled)
                if part is None:
                    return None
            parts.append(part)
        if not weight_placed:
            n0, pmf0 = parts[0][0]
            parts[0] = ((n0, mass * pmf0),)
        components.append(Component(tuple(parts)))
    return tuple(components)


def support(pmf: np.ndarray) -> tuple[int, int]:
    """[low, high) of the counts whose probability is not negligible (see NEGLIGIBLE)."""
    if pmf.size == 0:
        return 0, 0
    keep = np.flatnonzero(pmf > pmf.max() * NEGLIGIBLE)
    if keep.size == 0:
        return 0, 0
    return int(keep[0]), int(keep[-1]) + 1


# --------------------------------------------------------------------------- monitoring operating characteristics


@dataclass(frozen=True)
class RuleCharacteristics:
    """Exact operating characteristics of one monitoring rule in its scenario."""

    p_stop: float
    p_stop_by_look: tuple[float, ...]
    expected_n: float


def rule_characteristics(scenario: Scenario, rule_index: int) -> Optional[RuleCharacteristics]:
    """P(the rule stops), by look, and the expected enrolment of its group; None where not exact."""
    rules = scenario.monitoring
    rule = rules[rule_index]
    same_group = [r for r in rules if r.group == rule.group]
    if len(same_group) > 1 or (any(r.action == "stop_trial" for r in rules) and len(rules) > 1):
        return None
    group = scenario.groups[rule.group]
    mixture = rate_mixture(group, rule.endpoint, scenario.eligibility, degree=group.n)
    if mixture is None:
        return None
    stopped = _stopped_over(rule, group, mixture)
    by_look = np.zeros(len(rule.looks))
    for weight, rate in zip(mixture.weights, mixture.rates):
        by_look += weight * np.asarray(crossing_probabilities(rule.looks, rule.boundary, float(rate)).p_stop_by_look)
    sizes, joint = stopped
    return RuleCharacteristics(p_stop=float(by_look.sum()), p_stop_by_look=tuple(float(v) for v in by_look),
                               expected_n=float(joint.sum(axis=1) @ sizes))


def expected_enrolment(scenario: Scenario, group_name: str) -> Optional[float]:
    """E[patients enrolled] of a group under the scenario's monitoring; None where not exact."""
    components = outcome_components(scenario, [group_name], _any_endpoint(scenario, group_name))
    if components is None:
        return None
    return float(sum(n * pmf.sum() for component in components for n, pmf in component.parts[0]))


def _any_endpoint(scenario: Scenario, group_name: str) -> str:
    """An endpoint to carry the enrolment distribution: a monitored one if the group has a rule."""
    for rule in scenario.monitoring:
        if rule.group == group_name:
            return rule.endpoint
    return "cardiac_event"

"""The patient model as kernel parameters, and its exact marginal rates.

:func:`build_patient_model` packs a validated :class:`~sim.scenario.Scenario` into the small
arrays the trial kernel takes; :func:`marginal_rate` computes p-bar = E[p(W)] over the
eligibility-adjusted washout distribution by quadrature. Patients are independent, so a
group's count of an endpoint is exactly Binomial(n, p-bar): the basis of every exact
answer reported beside the Monte Carlo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from scipy import integrate

from .kernels import trials as kt
from .kernels import distributions as kd
from .scenario import (
    DOSE_COUNT_ENDPOINTS,
    Eligibility,
    EmpiricalWashout,
    FixedWashout,
    GammaWashout,
    Group,
    LognormalWashout,
    Scenario,
    UniformWashout,
)

_WASHOUT_CODES = {
    FixedWashout: kd.WASHOUT_FIXED,
    UniformWashout: kd.WASHOUT_UNIFORM,
    LognormalWashout: kd.WASHOUT_LOGNORMAL,
    GammaWashout: kd.WASHOUT_GAMMA,
    EmpiricalWashout: kd.WASHOUT_EMPIRICAL,
}
_RISK_CODES = {"constant": kd.RISK_CONSTANT, "washout_decay": kd.RISK_WASHOUT_DECAY, "logistic": kd.RISK_LOGISTIC}
# The kernel's slot for each counted (binary) endpoint: monitoring rules here, and the runner's count
# tallies and prefix marks, must agree on it.
ENDPOINT_INDEX = {"cardiac_event": kt.ENDPOINT_CARDIAC_EVENT, "response": kt.ENDPOINT_RESPONSE,
                  "missed_week2": kt.ENDPOINT_MISSED_WEEK2}


@dataclass(frozen=True)
class WashoutWindow:
    """Where a group's washouts can fall: drawn within [lower, upper], then raised to defer_min."""

    lower: float
    upper: float
    defer_min: float


def washout_window(group: Group, eligibility: Eligibility) -> WashoutWindow:
    washout = group.washout_months
    upper = washout.max if washout is not None and washout.max is not None else math.inf
    minimum = eligibility.min_washout_months
    if eligibility.policy == "exclude":
        return WashoutWindow(lower=minimum, upper=upper, defer_min=0.0)
    return WashoutWindow(lower=0.0, upper=upper, defer_min=minimum)


def _risk_parameters(risk) -> tuple[int, float, float, float]:
    if risk is None:
        return kd.RISK_NONE, 0.0, 0.0, 0.0
    risk = risk.at_prior_means()  # the kernel draws prior'd parameters per trial; this fills the layout
    if risk.model == "constant":
        return kd.RISK_CONSTANT, risk.p, 0.0, 0.0
    if risk.model == "washout_decay":
        return kd.RISK_WASHOUT_DECAY, risk.p_early, risk.p_late, risk.half_life_months
    return kd.RISK_LOGISTIC, risk.intercept, risk.slope, 0.0


def _eligible_empirical(washout: EmpiricalWashout, window: WashoutWindow) -> np.ndarray:
    values = np.sort(np.asarray(washout.values, dtype=np.float64))
    return values[(values >= window.lower) & (values <= window.upper)]


def _dose_modes(scenario: Scenario) -> dict[str, int]:
    """What each group must draw of its doses: all of them, only whether week 2 has none, or nothing."""
    modes = {name: kt.DOSES_NONE for name in scenario.groups}
    uses: list[tuple[set[str], tuple[str, ...]]] = []
    for analysis in scenario.analyses:
        endpoints = {analysis.endpoint}
        if analysis.kind == "compare" and analysis.by is not None:
            endpoints.add(analysis.by)
        uses.append((endpoints, analysis.group_names))
    for rule in scenario.monitoring:
        uses.append(({rule.endpoint}, (rule.group,)))
    for endpoints, groups in uses:
        if not endpoints.isdisjoint(DOSE_COUNT_ENDPOINTS):
            mode = kt.DOSES_ALL
        elif "missed_week2" in endpoints:
            mode = kt.DOSES_MISSED_WEEK2
        else:
            continue
        for name in groups:
            modes[name] = max(modes[name], mode)
    return modes


def _groups_needing_washout(scenario: Scenario) -> set[str]:
    """Groups whose washouts are used: by a washout-dependent risk, or by a per-trial test."""
    needed = {name for name, group in scenario.groups.items()
              if any(risk is not None and risk.uses_washout for risk in (group.cardiac_event, group.response))}
    for analysis in scenario.analyses:
        if analysis.kind == "compare" and (
                analysis.endpoint == "washout_months" or analysis.test == "logistic_lrt"
                or analysis.split_washout_at is not None):
            needed.update(analysis.group_names)
    return needed


@dataclass(frozen=True, eq=False)
class PatientModel:
    """Kernel inputs for one scenario (see :mod:`sim.kernels.trials` for the layout)."""

    group_names: tuple[str, ...]
    group_int: np.ndarray
    group_real: np.ndarray
    empirical: np.ndarray
    rules_int: np.ndarray
    rules_looks: np.ndarray
    rules_stop: np.ndarray
    rule_ids: tuple[str, ...] = ()
    dose_table: np.ndarray = field(default_factory=lambda: np.full((1, 1, 1, 1), 2.0))

    def group_index(self, name: str) -> int:
        return self.group_names.index(name)

    def group_size(self, name: str) -> int:
        return int(self.group_int[self.group_index(name), kt.GI_N])


def build_patient_model(scenario: Scenario) -> PatientModel:
    """Pack a scenario's groups into the trial kernel's parameter arrays."""
    names = tuple(scenario.groups)
    group_int = np.zeros((len(names), kt.GROUP_INT_FIELDS), dtype=np.int64)
    group_real = np.zeros((len(names), kt.GROUP_REAL_FIELDS), dtype=np.float64)
    empirical_parts: list[np.ndarray] = []
    offset = 0
    dose_modes = _dose_modes(scenario)
    with_washout = _groups_needing_washout(scenario)
    for g, name in enumerate(names):
        group = scenario.groups[name]
        gi, gr = group_int[g], group_real[g]
        gi[kt.GI_N] = group.n
        gi[kt.GI_DRAW_WASHOUT] = int(name in with_washout)
        window = washout_window(group, scenario.eligibility)
        gr[kt.GR_LOWER], gr[kt.GR_UPPER] = window.lower, window.upper
        gr[kt.GR_DEFER_MIN] = window.defer_min
        gr[kt.GR_U_LOW], gr[kt.GR_U_HIGH] = 0.0, 1.0
        washout = group.washout_months
        if washout is not None:
            gi[kt.GI_WASHOUT] = _WASHOUT_CODES[type(washout)]
            if isinstance(washout, FixedWashout):
                gr[kt.GR_WASHOUT_P0] = washout.value
            elif isinstance(washout, UniformWashout):
                gr[kt.GR_WASHOUT_P0], gr[kt.GR_WASHOUT_P1] = washout.low, washout.high
            elif isinstance(washout, LognormalWashout):
                gr[kt.GR_WASHOUT_P0], gr[kt.GR_WASHOUT_P1] = washout.median, washout.sigma
            elif isinstance(washout, GammaWashout):
                gr[kt.GR_WASHOUT_P0], gr[kt.GR_WASHOUT_P1] = washout.mean, washout.shape
            elif isinstance(washout, EmpiricalWashout):
                values = _eligible_empirical(washout, window)
                empirical_parts.append(values)
                gi[kt.GI_EMPIRICAL_START], gi[kt.GI_EMPIRICAL_STOP] = offset, offset + len(values)
                offset += len(values)
            if isinstance(washout, (UniformWashout, LognormalWashout)):
                dist = washout.scipy_distribution()
                # Only move off the exact (0, 1) when truncating, so untruncated draws stay
                # bit-identical to the plain inverse CDF.
                if window.lower > 0.0:
                    gr[kt.GR_U_LOW] = float(dist.cdf(window.lower))
                if math.isfinite(window.upper):
                    gr[kt.GR_U_HIGH] = float(dist.cdf(window.upper))
        (gi[kt.GI_EVENT_MODEL], gr[kt.GR_EVENT_A], gr[kt.GR_EVENT_B],
         gr[kt.GR_EVENT_C]) = _risk_parameters(group.cardiac_event)
        (gi[kt.GI_RESPONSE_MODEL], gr[kt.GR_RESPONSE_A], gr[kt.GR_RESPONSE_B],
         gr[kt.GR_RESPONSE_C]) = _risk_parameters(group.response)
        if group.doses is not None:
            gi[kt.GI_DOSE_COURSES] = group.doses.courses
            gi[kt.GI_DOSE_PER_COURSE] = group.doses.per_course
            gi[kt.GI_DOSE_EVENT_COURSE] = group.doses.event_course - 1
            gi[kt.GI_DOSE_MODE] = dose_modes[name]
            p_by_course = group.doses.p_dose_by_course()
            for course, p_dose in enumerate(p_by_course):
                gr[kt.GR_P_DOSE + course] = p_dose
            if group.doses.courses >= 2:
                gr[kt.GR_MISSED_WEEK2_IF_NO_EVENT] = kt.zero_count_threshold(group.doses.per_course,
                                                                               p_by_course[1])
        mask = 0
        for endpoint, slots in (("cardiac_event", (kt.PRIOR_EVENT_A, kt.PRIOR_EVENT_B)),
                                ("response", (kt.PRIOR_RESPONSE_A, kt.PRIOR_RESPONSE_B))):
            risk = group.risk(endpoint)
            if risk is None:
                continue
            for name_of_field, slot in zip(_PRIOR_FIELDS[risk.model], slots):
                prior = risk.priors.get(name_of_field)
                if prior is not None:
                    mask |= 1 << slot
                    gr[kt.GR_PRIOR + 2 * slot], gr[kt.GR_PRIOR + 2 * slot + 1] = prior.a, prior.b
        gi[kt.GI_PRIORS] = mask
    empirical = np.concatenate(empirical_parts) if empirical_parts else np.zeros(1)
    dose_table = _dose_tables(scenario, group_int)
    return PatientModel(names, group_int, group_real, empirical, *_monitoring_arrays(scenario, names),
                        rule_ids=tuple(rule.rule_id for rule in scenario.monitoring), dose_table=dose_table)


def _dose_tables(scenario: Scenario, group_int: np.ndarray) -> np.ndarray:
    """Per group and course, the inverse-CDF table of its dose counts (groups that draw every dose, with
    courses of at most DOSE_TABLE_MAX doses); GI_DOSE_TABLE marks the groups that have one."""
    tabled = [(g, group.doses) for g, group in enumerate(scenario.groups.values())
              if group.doses is not None and group_int[g, kt.GI_DOSE_MODE] != kt.DOSES_NONE
              and group.doses.per_course <= kt.DOSE_TABLE_MAX]
    if not tabled:
        return np.full((len(scenario.groups), 1, 1, 1), 2.0)
    width = max(doses.per_course for _, doses in tabled)
    courses = max(doses.courses for _, doses in tabled)
    table = np.full((len(scenario.groups), courses, width + 1, width), 2.0)
    for g, doses in tabled:
        group_int[g, kt.GI_DOSE_TABLE] = 1
        for course, p_dose in enumerate(doses.p_dose_by_course()):
            rows = kt.dose_threshold_table(doses.per_course, p_dose)
            table[g, course, : rows.shape[0], : rows.shape[1]] = rows
    return table


# Which kernel slot each prior'd field fills: (a, b) of the event or response risk.
_PRIOR_FIELDS = {"constant": ("p",), "washout_decay": ("p_early", "p_late"), "logistic": ()}


def _monitoring_arrays(scenario: Scenario, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rules = scenario.monitoring
    width = max((len(rule.looks) for rule in rules), default=1)
    rules_int = np.zeros((len(rules), kt.RULE_INT_FIELDS), dtype=np.int64)
    looks = np.zeros((len(rules), width), dtype=np.int64)
    stop = np.zeros((len(rules), width), dtype=np.int64)
    for r, rule in enumerate(rules):
        rules_int[r, kt.RI_GROUP] = names.index(rule.group)
        rules_int[r, kt.RI_ENDPOINT] = ENDPOINT_INDEX[rule.endpoint]
        rules_int[r, kt.RI_ACTION] = kt.ACTION_STOP_TRIAL if rule.action == "stop_trial" else kt.ACTION_STOP_GROUP
        rules_int[r, kt.RI_LOOKS] = len(rule.looks)
        looks[r, : len(rule.looks)] = rule.looks
        stop[r, : len(rule.looks)] = rule.boundary
    return rules_int, looks, stop


def risk_at(risk, washout: float) -> float:
    """p(w) of a risk model, evaluated by the kernel's own scalar function."""
    return _risk_function(risk)(washout)


def _risk_function(risk) -> Callable[[float], float]:
    """w -> p(w) as :func:`risk_at`, with the risk's parameters (a pydantic copy at the prior means)
    worked out once: quadrature calls the function hundreds of times."""
    code, a, b, c = _risk_parameters(risk)
    return lambda washout: float(kd.risk_probability(code, a, b, c, float(washout)))


def _missed_week2_terms(group: Group) -> tuple[float, float]:
    """P(no week-2 dose | event) and P(no week-2 dose | no event): P(missed) = A p + B (1 - p)."""
    doses = group.doses
    q2 = 1.0 - doses.p_dose_by_course()[1]
    full = q2 ** doses.per_course
    if doses.event_course == 1:
        with_event = 1.0
    elif doses.event_course == 2:
        # The event stops dosing at a uniform position k in 0..per_course-1 of week 2.
        with_event = float(np.mean([q2**k for k in range(doses.per_course)]))
    else:
        with_event = full
    return with_event, full


def endpoint_probability(group: Group, endpoint: str) -> Callable[[float], float]:
    """The per-patient probability of a binary endpoint as a function of (adjusted) washout."""
    if endpoint in ("cardiac_event", "response"):
        return _risk_function(group.risk(endpoint))
    with_event, without = _missed_week2_terms(group)
    event_risk = _risk_function(group.cardiac_event)

    def missed(w: float) -> float:
        p = event_risk(w)
        return with_event * p + without * (1.0 - p)

    return missed


def _depends_on_washout(group: Group, endpoint: str) -> bool:
    if endpoint == "missed_week2":
        return group.cardiac_event.uses_washout
    return group.risk(endpoint).uses_washout


def washout_expectation(group: Group, eligibility: Eligibility, function, low: float = -math.inf,
                        high: float = math.inf) -> tuple[float, float]:
    """(P(low <= W' < high), E[function(W'); low <= W' < high]) for the adjusted washout W'.

    W' = max(W, deferral minimum) with W drawn from the group's distribution truncated to
    the eligible window. Exact for fixed and empirical washouts; adaptive quadrature
    (``scipy.integrate.quad``, absolute error < 1e-12) for continuous ones, split at the
    deferral minimum where the adjusted washout has an atom.
    """
    washout = group.washout_months
    window = washout_window(group, eligibility)

    def inside(w: float) -> bool:
        return low <= w < high

    if isinstance(washout, (FixedWashout, EmpiricalWashout)):
        values = [washout.value] if isinstance(washout, FixedWashout) else _eligible_empirical(washout, window)
        adjusted = [max(v, window.defer_min) for v in values]
        selected = [w for w in adjusted if inside(w)]
        return len(selected) / len(adjusted), float(sum(function(w) for w in selected)) / len(adjusted)
    dist = washout.scipy_distribution()
    lower, upper = window.lower, window.upper
    mass = float(dist.cdf(upper) - dist.cdf(lower))
    probability = 0.0
    expectation = 0.0
    atom = min(max(window.defer_min, lower), upper)
    if atom > lower and inside(window.defer_min):  # everyone drawn below the minimum is treated at it
        share = float(dist.cdf(atom) - dist.cdf(lower))
        probability += share
        expectation += share * function(window.defer_min)
    start, stop = max(atom, low), min(upper, high)
    if start < stop:
        probability += float(dist.cdf(stop) - dist.cdf(start))
        value, _err = integrate.quad(lambda w: function(w) * dist.pdf(w), start, stop, epsabs=1e-13,
                                     epsrel=1e-12, limit=500)
        expectation += value
    return probability / mass, expectation / mass


def _patient_model_key(group: Group, eligibility: Eligibility) -> str:
    """What a patient's distribution depends on: the group without its size, and the eligibility rule."""
    return group.model_dump_json(exclude={"n"}) + eligibility.model_dump_json()


_CACHE: dict = {}
_CACHE_LIMIT = 4096


def _cached(key: tuple, compute):
    """Memoise a quadrature by the patient model it depends on (models are unhashable pydantic objects)."""
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = compute()
    return _CACHE[key]


def marginal_rate(group: Group, endpoint: str, eligibility: Eligibility, *, low: float = -math.inf,
                  high: float = math.inf) -> Optional[float]:
    """p-bar = E[p(W') | low <= W' < high] for a binary endpoint (default: over all patients).

    A group's count of the endpoint among its n patients is Binomial(n, p-bar) because
    patients are independent; None if the group does not define the endpoint. p-bar does not depend
    on n, so it is computed once per patient model (sizing curves ask for it at every size).
    """
    return _cached(("rate", _patient_model_key(group, eligibility), endpoint, low, high),
                   lambda: _marginal_rate(group, endpoint, eligibility, low, high))


def _marginal_rate(group: Group, endpoint: str, eligibility: Eligibility, low: float,
                   high: float) -> Optional[float]:
    if group.missing_for(endpoint) is not None:
        return None
    p_of = endpoint_probability(group, endpoint)
    if not _depends_on_washout(group, endpoint):
        return float(p_of(0.0))
    probability, expectation = washout_expectation(group, eligibility, p_of, low, high)
    if probability <= 0.0:
        return None
    return min(max(expectation / probability, 0.0), 1.0)


def washout_share_below(group: Group, eligibility: Eligibility, split: float) -> float:
    """P(W' < split): the chance that a patient falls in the short-washout subgroup."""
    return _cached(("share", _patient_model_key(group, eligibility), split),
                   lambda: washout_expectation(group, eligibility, lambda w: 1.0, -math.inf, split)[0])

"""The patient model as kernel parameters, and its exact marginal rates.

:func:`build_patient_model` packs a validated :class:`~sim.scenario.Scenario` into the small
arrays the cohort kernel takes; :func:`marginal_rate` computes p-bar = E[p(W)] over the
eligibility-adjusted washout distribution by quadrature. Patients are independent, so a
group's count of an endpoint is exactly Binomial(n, p-bar): the basis of every exact
answer reported beside the Monte Carlo.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import integrate

from .kernels import cohort
from .kernels import distributions as kd
from .scenario import (
    EmpiricalWashout,
    Eligibility,
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
    if risk.model == "constant":
        return kd.RISK_CONSTANT, risk.p, 0.0, 0.0
    if risk.model == "washout_decay":
        return kd.RISK_WASHOUT_DECAY, risk.p_early, risk.p_late, risk.half_life_months
    return kd.RISK_LOGISTIC, risk.intercept, risk.slope, 0.0


def _eligible_empirical(washout: EmpiricalWashout, window: WashoutWindow) -> np.ndarray:
    values = np.sort(np.asarray(washout.values, dtype=np.float64))
    return values[(values >= window.lower) & (values <= window.upper)]


@dataclass(frozen=True, eq=False)
class PatientModel:
    """Kernel inputs for one scenario (see :mod:`sim.kernels.cohort` for the layout)."""

    group_names: tuple[str, ...]
    group_int: np.ndarray
    group_real: np.ndarray
    empirical: np.ndarray

    def group_index(self, name: str) -> int:
        return self.group_names.index(name)

    def group_size(self, name: str) -> int:
        return int(self.group_int[self.group_index(name), cohort.GI_N])


def build_patient_model(scenario: Scenario) -> PatientModel:
    """Pack a scenario's groups into the cohort kernel's parameter arrays."""
    names = tuple(scenario.groups)
    group_int = np.zeros((len(names), cohort.GROUP_INT_FIELDS), dtype=np.int64)
    group_real = np.zeros((len(names), cohort.GROUP_REAL_FIELDS), dtype=np.float64)
    empirical_parts: list[np.ndarray] = []
    offset = 0
    for g, name in enumerate(names):
        group = scenario.groups[name]
        gi, gr = group_int[g], group_real[g]
        gi[cohort.GI_N] = group.n
        window = washout_window(group, scenario.eligibility)
        gr[cohort.GR_LOWER], gr[cohort.GR_UPPER] = window.lower, window.upper
        gr[cohort.GR_DEFER_MIN] = window.defer_min
        gr[cohort.GR_U_LOW], gr[cohort.GR_U_HIGH] = 0.0, 1.0
        washout = group.washout_months
        if washout is not None:
            gi[cohort.GI_WASHOUT] = _WASHOUT_CODES[type(washout)]
            if isinstance(washout, FixedWashout):
                gr[cohort.GR_WASHOUT_P0] = washout.value
            elif isinstance(washout, UniformWashout):
                gr[cohort.GR_WASHOUT_P0], gr[cohort.GR_WASHOUT_P1] = washout.low, washout.high
            elif isinstance(washout, LognormalWashout):
                gr[cohort.GR_WASHOUT_P0], gr[cohort.GR_WASHOUT_P1] = washout.median, washout.sigma
            elif isinstance(washout, GammaWashout):
                gr[cohort.GR_WASHOUT_P0], gr[cohort.GR_WASHOUT_P1] = washout.mean, washout.shape
            elif isinstance(washout, EmpiricalWashout):
                values = _eligible_empirical(washout, window)
                empirical_parts.append(values)
                gi[cohort.GI_EMPIRICAL_START], gi[cohort.GI_EMPIRICAL_STOP] = offset, offset + len(values)
                offset += len(values)
            if isinstance(washout, (UniformWashout, LognormalWashout)):
                dist = washout.scipy_distribution()
                # Only move off the exact (0, 1) when truncating, so untruncated draws stay
                # bit-identical to the plain inverse CDF.
                if window.lower > 0.0:
                    gr[cohort.GR_U_LOW] = float(dist.cdf(window.lower))
                if math.isfinite(window.upper):
                    gr[cohort.GR_U_HIGH] = float(dist.cdf(window.upper))
        (gi[cohort.GI_EVENT_MODEL], gr[cohort.GR_EVENT_A], gr[cohort.GR_EVENT_B],
         gr[cohort.GR_EVENT_C]) = _risk_parameters(group.cardiac_event)
        (gi[cohort.GI_RESPONSE_MODEL], gr[cohort.GR_RESPONSE_A], gr[cohort.GR_RESPONSE_B],
         gr[cohort.GR_RESPONSE_C]) = _risk_parameters(group.response)
    empirical = np.concatenate(empirical_parts) if empirical_parts else np.zeros(1)
    return PatientModel(names, group_int, group_real, empirical)


def risk_at(risk, washout: float) -> float:
    """p(w) of a risk model, evaluated by the kernel's own scalar function."""
    code, a, b, c = _risk_parameters(risk)
    return float(kd.risk_probability(code, a, b, c, float(washout)))


def marginal_rate(group: Group, endpoint: str, eligibility: Eligibility) -> Optional[float]:
    """p-bar = E[p(W)] for the group's endpoint, W the eligibility-adjusted washout.

    Exact for constant risks, fixed and empirical washouts; adaptive quadrature
    (``scipy.integrate.quad``, absolute error < 1e-12) for continuous washouts, split at
    the deferral minimum where p(max(w, minimum)) has a kink.
    """
    risk = group.risk(endpoint)
    if risk is None:
        return None
    if not risk.uses_washout:
        return float(risk.p)
    washout = group.washout_months
    window = washout_window(group, eligibility)

    def p_of(w: float) -> float:
        return risk_at(risk, max(w, window.defer_min))

    if isinstance(washout, FixedWashout):
        return p_of(washout.value)
    if isinstance(washout, EmpiricalWashout):
        values = _eligible_empirical(washout, window)
        return float(np.mean([p_of(v) for v in values]))
    dist = washout.scipy_distribution()
    low, high = window.lower, window.upper
    mass = float(dist.cdf(high) - dist.cdf(low))
    kink = min(max(window.defer_min, low), high)
    total = risk_at(risk, window.defer_min) * float(dist.cdf(kink) - dist.cdf(low))
    if kink < high:
        value, _err = integrate.quad(
            lambda w: risk_at(risk, w) * dist.pdf(w), kink, high, epsabs=1e-13, epsrel=1e-12, limit=500
        )
        total += value
    return min(max(total / mass, 0.0), 1.0)

"""Likelihood-ratio test of a logistic regression of an event on log washout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..kernels import logistic as klogistic

STATUS_NAMES = {
    klogistic.STATUS_OK: "ok",
    klogistic.STATUS_DEGENERATE: "degenerate",
    klogistic.STATUS_SEPARATED: "separated",
    klogistic.STATUS_NOT_CONVERGED: "not_converged",
}


@dataclass(frozen=True)
class LogisticLRTResult:
    """LR statistic (chi-square, 1 df), its p-value, the fitted slope and the fit's status.

    ``slope`` is the change in log-odds per unit of the covariate; ``status`` is "ok",
    "degenerate" (all outcomes equal or covariate constant: statistic 0, p 1), "separated"
    (no finite MLE: statistic at the best fit reached) or "not_converged".
    """

    statistic: float
    p_value: float
    slope: float
    status: str


def logistic_lrt(washout_months, event) -> LogisticLRTResult:
    """Test H0: P(event) does not depend on log washout (logit P = b0 + b1 log w; H0 b1 = 0).

    Examples
    --------
    >>> result = logistic_lrt([0.1, 1.1, 1.1, 1.8, 3.3, 8.1, 2.2, 2.5, 4.0, 6.0], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    >>> result.status, round(result.p_value, 3)
    ('ok', 0.164)
    """
    washout = np.asarray(washout_months, dtype=np.float64).ravel()
    outcome = np.asarray(event, dtype=np.float64).ravel()
    if washout.shape != outcome.shape:
        raise ValueError("washout_months and event need the same length")
    if np.any(washout <= 0) or not np.all(np.isfinite(washout)):
        raise ValueError("washouts must be finite and > 0 (the regression is on log washout)")
    if not np.all((outcome == 0) | (outcome == 1)):
        raise ValueError("event must be 0 or 1")
    statistic, status, slope = klogistic.logistic_lrt(np.log(washout), outcome)
    return LogisticLRTResult(float(statistic), float(klogistic.chi2_1_sf(statistic)), float(slope),
                             STATUS_NAMES[int(status)])

"""Likelihood-ratio test of a logistic regression of a binary outcome on one covariate.

Fitted per trial by Newton-Raphson with step halving on the centred, scaled covariate (the
likelihood ratio does not depend on that affine change). Outcomes that the model cannot
fit are reported, never turned into NaN:

* STATUS_DEGENERATE: all outcomes equal, or the covariate constant: LR = 0, p = 1.
* STATUS_SEPARATED: the covariate separates the outcomes (completely or quasi-completely);
  the MLE does not exist and the likelihood approaches its supremum as |slope| grows, so
  the statistic is taken at the best fit reached (a slight underestimate of the supremum).
* STATUS_NOT_CONVERGED: the iteration limit was reached without separation.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

STATUS_OK = 0
STATUS_DEGENERATE = 1
STATUS_SEPARATED = 2
STATUS_NOT_CONVERGED = 3

MAX_ITERATIONS = 60
SEPARATION_SLOPE = 30.0  # on the standardised covariate: fitted odds ratios of e^30 per SD
TOLERANCE = 1e-10


@jit
def _fit_pass(x, y, b0, b1):
    """Log-likelihood, score and information at (b0, b1), in one pass over the data."""
    ll = 0.0
    g0 = 0.0
    g1 = 0.0
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for i in range(x.shape[0]):
        eta = b0 + b1 * x[i]
        # One exponential for both: e = exp(-|eta|) gives log(1 + e^eta) and the fitted probability
        # without overflow, with the same floating-point results as evaluating each on its own branch.
        e = math.exp(-abs(eta))
        softplus = eta + math.log1p(e) if eta > 0 else math.log1p(e)
        ll += y[i] * eta - softplus
        p = 1.0 / (1.0 + e) if eta >= 0 else e / (1.0 + e)
        r = y[i] - p
        w = p * (1.0 - p)
        g0 += r
        g1 += r * x[i]
        h00 += w
        h01 += w * x[i]
        h11 += w * x[i] * x[i]
    return ll, g0, g1, h00, h01, h11


@jit
def logistic_lrt_scratch(covariate, outcome, x):
    """(LR statistic, status, slope per unit covariate) of logit P(y) = b0 + b1 x against b1 = 0.

    ``x`` is scratch of the covariate's length (the standardised covariate is written there).
    Newton-Raphson with step halving; each trial step evaluates the log-likelihood, score and
    information in one pass, so an accepted step costs one pass over the data.
    """
    n = covariate.shape[0]
    events = 0.0
    for i in range(n):
        events += outcome[i]
    if n == 0 or events == 0.0 or events == n:
        return 0.0, STATUS_DEGENERATE, 0.0
    mean = 0.0
    for i in range(n):
        mean += covariate[i]
    mean /= n
    spread = 0.0
    for i in range(n):
        spread += (covariate[i] - mean) ** 2
    spread = math.sqrt(spread / n)
    if spread <= 1e-12 * max(1.0, abs(mean)):
        return 0.0, STATUS_DEGENERATE, 0.0
    for i in range(n):
        x[i] = (covariate[i] - mean) / spread
    rate = events / n
    b0 = math.log(rate / (1.0 - rate))
    b1 = 0.0
    null_ll = events * math.log(rate) + (n - events) * math.log(1.0 - rate)
    ll = null_ll
    _ll0, g0, g1, h00, h01, h11 = _fit_pass(x, outcome, b0, b1)
    status = STATUS_NOT_CONVERGED
    for _ in range(MAX_ITERATIONS):
        det = h00 * h11 - h01 * h01
        if det <= 1e-300:
            status = STATUS_SEPARATED
            break
        step0 = (h11 * g0 - h01 * g1) / det
        step1 = (h00 * g1 - h01 * g0) / det
        scale = 1.0
        improved = False
        for _halving in range(30):
            c0 = b0 + scale * step0
            c1 = b1 + scale * step1
            candidate, n0, n1, m00, m01, m11 = _fit_pass(x, outcome, c0, c1)
            if candidate >= ll - 1e-12:
                improved = True
                break
            scale *= 0.5
        if not improved:
            status = STATUS_OK
            break
        change = candidate - ll
        b0, b1, ll = c0, c1, candidate
        g0, g1, h00, h01, h11 = n0, n1, m00, m01, m11
        if abs(b1) > SEPARATION_SLOPE:
            status = STATUS_SEPARATED
            break
        if change < TOLERANCE and max(abs(scale * step0), abs(scale * step1)) < 1e-8:
            status = STATUS_OK
            break
    statistic = max(2.0 * (ll - null_ll), 0.0)
    return statistic, status, b1 / spread


@jit
def logistic_lrt(covariate, outcome):
    """(LR statistic, status, slope per unit covariate) of logit P(y) = b0 + b1 x against b1 = 0."""
    return logistic_lrt_scratch(covariate, outcome.astype(np.float64), np.empty(covariate.shape[0]))


@jit
def chi2_1_sf(statistic):
    """P(chi-square with 1 df >= statistic) = erfc(sqrt(statistic / 2))."""
    return math.erfc(math.sqrt(max(statistic, 0.0) / 2.0))

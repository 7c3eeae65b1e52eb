"""Effect estimates for two binomial groups: risk difference, odds ratio, relative risk.

Group 1 has x1 events out of n1 patients, group 2 x2 out of n2, as in
:func:`sim.analysis.fisher_exact`; every estimate is group 1 against group 2. Intervals are
two-sided at ``level``.

``risk_difference``
    p1 - p2 with the Miettinen-Nurminen score interval (Miettinen & Nurminen 1985): every
    difference d not rejected by the score test (p̂1 - p̂2 - d)² <= z² V(d), where V(d) uses
    the maximum-likelihood rates restricted to p1 - p2 = d (closed form, Farrington & Manning
    1990) and the factor N / (N - 1), N = n1 + n2. R ``ratesci::scoreci(contrast = "RD",
    skew = FALSE)`` and ``PropCIs::diffscoreci``.
``odds_ratio``
    The conditional maximum-likelihood estimate and the exact conditional interval, by R
    ``fisher.test``'s definitions (the noncentral hypergeometric distribution of x1 given the
    margins: the estimate solves E[X1] = x1, the bounds P(X1 >= x1) = (1 - level)/2 and
    P(X1 <= x1) = (1 - level)/2), solved to full precision. R solves them with ``uniroot``'s
    default tolerance, so its printed values can differ from these in the fourth digit; scipy
    ``odds_ratio(kind="conditional")`` matches to about 1e-12.
``relative_risk``
    p1 / p2 with the Miettinen-Nurminen score interval for the ratio (restricted rates with
    p1 = θ p2, closed form; factor N / (N - 1)). R ``ratesci::scoreci(contrast = "RR",
    skew = FALSE)``. Koopman's interval (``PropCIs::riskscoreci``) is the same without the
    factor N / (N - 1), so slightly narrower.

Conventions where peers differ (ratios only; the difference is always defined):

- an estimate whose value is infinite (odds ratio with x2 = 0 or x1 = n1, relative risk with
  x2 = 0) is ``math.inf``, and a bound that is infinite is ``math.inf`` (JSON null);
- an estimate that does not exist is ``None`` (JSON null): the relative risk of 0/n1 against
  0/n2, and the odds ratio when the margins allow one table only (no events at all, or all
  patients with events). R ``fisher.test`` reports 0 there and scipy NaN; the interval is
  [0, ∞] in all three.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from scipy import optimize, special

from . import _hypergeom
from .binomial import ConfidenceInterval
from .fisher import MAX_PATIENTS  # the largest group accepted: the same as fisher_exact's

EFFECTS = ("risk_difference", "odds_ratio", "relative_risk")

RISK_DIFFERENCE_METHOD = "Miettinen-Nurminen score"
ODDS_RATIO_METHOD = "conditional maximum likelihood, exact conditional interval (R fisher.test)"
RELATIVE_RISK_METHOD = "Miettinen-Nurminen score"


@dataclass(frozen=True)
class EffectEstimate:
    """An estimate of group 1 against group 2 with its two-sided confidence interval.

    ``estimate`` is None where it does not exist; it and the bounds may be ``math.inf``.
    """

    estimate: Optional[float]
    interval: ConfidenceInterval
    method: str
    level: float

    @property
    def is_finite(self) -> bool:
        return self.estimate is not None and math.isfinite(self.estimate)

    def as_dict(self) -> dict:
        """``{"estimate", "interval": [low, high], "method", "level"}``; non-finite values as None."""
        def finite(value):
            return value if value is not None and math.isfinite(value) else None
        return {"estimate": finite(self.estimate),
                "interval": [finite(self.interval.low), finite(self.interval.high)],
                "method": self.method, "level": self.level}


def _check(x1: int, n1: int, x2: int, n2: int, level: float) -> tuple[int, int, int, int]:
    for label, x, n in (("group 1", x1, n1), ("group 2", x2, n2)):
        if int(n) != n or not 1 <= n <= MAX_PATIENTS:
            raise ValueError(f"{label}: n must be a whole number from 1 to 10^12, got {n!r}")
        if int(x) != x or not 0 <= x <= n:
            raise ValueError(f"{label}: x must be a whole number between 0 and {n}, got {x!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return int(x1), int(n1), int(x2), int(n2)


def _critical_value(level: float) -> float:
    return float(special.ndtri(0.5 + level / 2))


def _root(f: Callable[[float], float], a: float, b: float, *, xtol: float = 1e-15) -> float:
    return optimize.brentq(f, a, b, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=500)


def _score_bound(g: Callable[[float], float], inner: float, outer: float) -> float:
    """The end of the score interval between ``inner`` (inside) and ``outer``: g <= 0 inside.

    g(inner) may be 0 where the variance vanishes at the estimate (all-or-none tables); the
    statistic then grows from 0, so the bracket starts just inside.
    """
    if g(outer) <= 0.0:
        return outer
    start = inner
    for shrink in (1e-12, 1e-9, 1e-6, 1e-3):
        if g(start) < 0.0:
            break
        start = inner + (outer - inner) * shrink
    else:
        if g(start) >= 0.0:
            return inner
    # Relative tolerance only: a difference of two rates of 10^-12 needs digits below 1e-15.
    return _root(g, start, outer, xtol=1e-300)


# --- risk difference -------------------------------------------------------------------------


def _restricted_rates_difference(delta: float, x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Maximum-likelihood (p1, p2) under p1 - p2 = delta.

    The log likelihood is concave in p2 on [max(0, -delta), min(1, 1 - delta)]; its maximum is
    an end where the slope there points outward, else the root of the slope, found by Brent's
    method on the slope written with the counts. (Farrington & Manning's closed form solves the
    same cubic, but its coefficients are O(1) while rates can be 1e-12, and it keeps only a few
    digits of such rates: 6/10^9 against 6/10^9 would get an interval that is not symmetric.)
    """
    low, high = max(0.0, -delta), min(1.0, 1.0 - delta)
    if high <= low:
        return low + delta, low

    def slope(rate2: float) -> float:
        rate1 = rate2 + delta
        total = 0.0
        # A count over a zero rate is an infinite pull away from that end; a zero count, none.
        for count, value, sign in ((x1, rate1, 1.0), (x2, rate2, 1.0), (n1 - x1, 1.0 - rate1, -1.0),
                                   (n2 - x2, 1.0 - rate2, -1.0)):
            if count:
                total += sign * (count / value if value > 0.0 else 1e300)
        return max(-1e300, min(1e300, total))

    if slope(low) <= 0.0:
        rate2 = low
    elif slope(high) >= 0.0:
        rate2 = high
    else:
        rate2 = _root(slope, low, high, xtol=1e-300)
    return min(rate2 + delta, 1.0), rate2


def risk_difference(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> EffectEstimate:
    """Risk difference x1/n1 - x2/n2 with the Miettinen-Nurminen score interval.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and patients of group 1 and group 2 (n up to 10^12).
    level : float
        Two-sided confidence level.

    Returns
    -------
    EffectEstimate
        Always defined; bounds in [-1, 1].

    Notes
    -----
    Miettinen O, Nurminen M (1985), Comparative analysis of two rates, Stat Med 4:213-226;
    restricted estimates by Farrington CP, Manning G (1990), Stat Med 9:1447-1454. Equals R
    ``ratesci::scoreci(x1, n1, x2, n2, contrast = "RD", skew = FALSE)``.

    Examples
    --------
    Cho et al. (2009): 6/15 after TKI against 0/8 after bevacizumab.

    >>> rd = risk_difference(6, 15, 0, 8)
    >>> round(rd.estimate, 3), round(rd.interval.low, 4), round(rd.interval.high, 4)
    (0.4, 0.0201, 0.6472)
    """
    x1, n1, x2, n2 = _check(x1, n1, x2, n2, level)
    p1, p2 = x1 / n1, x2 / n2
    estimate = p1 - p2
    z_squared = _critical_value(level) ** 2
    n_total = n1 + n2
    # N / (N - 1); with one patient in each group N = 2 and the factor is 2.
    correction = n_total / (n_total - 1)

    def excess(delta: float) -> float:
        rate1, rate2 = _restricted_rates_difference(delta, x1, n1, x2, n2)
        variance = (rate1 * (1 - rate1) / n1 + rate2 * (1 - rate2) / n2) * correction
        return (estimate - delta) ** 2 - z_squared * variance

    low = _score_bound(excess, estimate, -1.0)
    high = _score_bound(excess, estimate, 1.0)
    return EffectEstimate(estimate, ConfidenceInterval(low, high), RISK_DIFFERENCE_METHOD, level)


# --- relative risk ---------------------------------------------------------------------------

# |log relative risk| searched for a bound; beyond it the bound is reported as 0 or infinity.
_MAX_LOG_RATIO = 300.0


def _restricted_rates_ratio(theta: float, x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Maximum-likelihood (p1, p2) under p1 = theta p2 (Miettinen & Nurminen 1985, closed form)."""
    a = (n1 + n2) * theta
    b = -(n1 * theta + x1 + n2 + x2 * theta)
    c = float(x1 + x2)
    # The smaller root of a p² + b p + c, written without cancellation (b < 0).
    rate2 = 2.0 * c / (-b + math.sqrt(max(b * b - 4.0 * a * c, 0.0)))
    rate2 = min(rate2, 1.0, 1.0 / theta)
    return min(theta * rate2, 1.0), rate2


def relative_risk(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> EffectEstimate:
    """Relative risk (x1/n1) / (x2/n2) with the Miettinen-Nurminen score interval.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and patients of group 1 and group 2 (n up to 10^12).
    level : float
        Two-sided confidence level.

    Returns
    -------
    EffectEstimate
        ``estimate`` is inf when x2 = 0 < x1, 0 when x1 = 0 < x2, None when x1 = x2 = 0
        (interval [0, inf]).

    Notes
    -----
    Miettinen O, Nurminen M (1985), Stat Med 4:213-226: the set of ratios θ with
    (p̂1 - θ p̂2)² <= z² V(θ), V(θ) = (p̃1 (1 - p̃1) / n1 + θ² p̃2 (1 - p̃2) / n2) N / (N - 1)
    at the rates restricted to p1 = θ p2. Equals R ``ratesci::scoreci(x1, n1, x2, n2,
    contrast = "RR", skew = FALSE)``.

    Examples
    --------
    >>> rr = relative_risk(6, 15, 0, 8)
    >>> rr.estimate, round(rr.interval.low, 4), rr.interval.high
    (inf, 1.0653, inf)
    """
    x1, n1, x2, n2 = _check(x1, n1, x2, n2, level)
    if x1 == 0 and x2 == 0:
        return EffectEstimate(None, ConfidenceInterval(0.0, math.inf), RELATIVE_RISK_METHOD, level)
    p1, p2 = x1 / n1, x2 / n2
    z_squared = _critical_value(level) ** 2
    n_total = n1 + n2
    correction = n_total / (n_total - 1)

    def excess(log_theta: float) -> float:
        theta = math.exp(log_theta)
        rate1, rate2 = _restricted_rates_ratio(theta, x1, n1, x2, n2)
        variance = (rate1 * (1 - rate1) / n1 + theta * theta * rate2 * (1 - rate2) / n2) * correction
        return (p1 - theta * p2) ** 2 - z_squared * variance

    if x1 > 0 and x2 > 0:
        estimate = p1 / p2
        inner = math.log(estimate)
    else:
        estimate = math.inf if x2 == 0 else 0.0
        # Inside the interval: far out towards the infinite (or zero) estimate.
        direction = 1.0 if x2 == 0 else -1.0
        inner = direction * math.log((n1 + n2) * 4.0)
        while excess(inner) > 0.0 and abs(inner) < _MAX_LOG_RATIO:
            inner *= 2.0
    low = 0.0 if x1 == 0 else math.exp(_score_bound(excess, inner, _outer(excess, inner, -1.0)))
    high = math.inf if x2 == 0 else math.exp(_score_bound(excess, inner, _outer(excess, inner, +1.0)))
    if low < math.exp(-_MAX_LOG_RATIO) * 1.000001:
        low = 0.0
    if high > math.exp(_MAX_LOG_RATIO) / 1.000001:
        high = math.inf
    return EffectEstimate(estimate, ConfidenceInterval(low, high), RELATIVE_RISK_METHOD, level)


def _outer(excess: Callable[[float], float], inner: float, direction: float) -> float:
    """A log ratio beyond the bound in ``direction`` (excess > 0 there), or the search limit."""
    step = 1.0
    point = inner + direction * step
    while excess(point) <= 0.0 and abs(point) < _MAX_LOG_RATIO:
        step *= 2.0
        point = max(-_MAX_LOG_RATIO, min(_MAX_LOG_RATIO, inner + direction * step))
    return point


# --- odds ratio ------------------------------------------------------------------------------

# Supports with up to this many tables are used whole, as R does.
_WHOLE_SUPPORT = 1 << 16
# A window edge inside the support must carry less than exp(-_EDGE_LOG) of the largest weight.
_EDGE_LOG = 45.0
# From this standard deviation of X1 on (every cell above a million), sums become integrals.
_SMOOTH_SD = 1000.0


class _ConditionalDistribution:
    """X1 given the margins under odds ratio psi (Fisher's noncentral hypergeometric), on a window
    of tables [low, high] around x1: the whole support when small, else wide enough that the
    distributions the solution needs carry no mass outside (checked by :meth:`confined`)."""

    def __init__(self, x1: int, n1: int, n2: int, k: int, half_width: int):
        self.x1, self.n1, self.n2, self.k = x1, n1, n2, k
        lo, hi = _hypergeom.support(n1, n2, k)
        self.support = (lo, hi)
        if hi - lo + 1 <= max(_WHOLE_SUPPORT, 2 * half_width + 1):
            self.low, self.high = lo, hi
        else:
            self.low, self.high = max(lo, x1 - half_width), min(hi, x1 + half_width)
        up = np.arange(x1, self.high, dtype=np.float64)
        down = np.arange(x1, self.low, -1, dtype=np.float64)
        # log density relative to x1, by cumulative log ratios outward from x1.
        log_up = np.cumsum(np.log((k - up) * (n1 - up)) - np.log((up + 1.0) * (n2 - k + up + 1.0)))
        log_down = np.cumsum(np.log(down * (n2 - k + down)) - np.log((k - down + 1.0) * (n1 - down + 1.0)))
        self.log_density = np.concatenate((log_down[::-1], [0.0], log_up))
        self.offsets = np.arange(self.low - x1, self.high - x1 + 1, dtype=np.float64)

    def _weights(self, log_psi: float) -> np.ndarray:
        log_weight = self.log_density + self.offsets * log_psi
        return np.exp(log_weight - log_weight.max())

    def mean_offset(self, log_psi: float) -> float:
        """E[X1] - x1."""
        weights = self._weights(log_psi)
        return float(weights @ self.offsets / weights.sum())

    def tail_ge(self, log_psi: float) -> float:
        weights = self._weights(log_psi)
        return float(weights[self.offsets >= 0].sum() / weights.sum())

    def tail_le(self, log_psi: float) -> float:
        weights = self._weights(log_psi)
        return float(weights[self.offsets <= 0].sum() / weights.sum())

    def confined(self, log_psi: float) -> bool:
        """Whether the mass outside the window is negligible under this odds ratio."""
        log_weight = self.log_density + self.offsets * log_psi
        top = log_weight.max()
        lo, hi = self.support
        for edge, value, outward in ((self.low, log_weight[0], -1), (self.high, log_weight[-1], +1)):
            if edge in (lo, hi):
                continue
            j = float(edge)
            if outward > 0:
                ratio = (self.k - j) * (self.n1 - j) / ((j + 1.0) * (self.n2 - self.k + j + 1.0))
            else:
                ratio = j * (self.n2 - self.k + j) / ((self.k - j + 1.0) * (self.n1 - j + 1.0))
            ratio *= math.exp(outward * log_psi)
            if ratio == 0.0:
                continue
            # Log-concave: beyond the edge the weights shrink at least geometrically by ratio, so
            # the mass outside is at most weight(edge) ratio / (1 - ratio).
            if ratio >= 1.0 or value - top + math.log(ratio) - math.log1p(-ratio) > -_EDGE_LOG:
                return False
        return True


class _SmoothConditional:
    """The same distribution when every cell is large (sd of X1 >= ``_SMOOTH_SD``), from integrals.

    With j = x1 + t, log f(j) - log f(x1) = -t log(a d / (b c)) - [a φ(t/a) + b φ(-t/b) +
    c φ(-t/c) + d φ(t/d)] - ½ [log1p(t/a) + log1p(-t/b) + log1p(-t/c) + log1p(t/d)] + Δstirlerr
    (cells a = x1, b = n1 - x1, c = x2, d = n2 - x2; φ(u) = (1 + u) log1p(u) - u; Stirling's
    series for the log-gamma differences): every term is O(t²/cell), so it stays accurate to
    about 1e-14 whatever n. The density is then smooth on the scale of its standard deviation s,
    and by the Euler-Maclaurin formula sums over tables equal integrals up to terms of relative
    size 1/(720 s⁴) (the one-sided sums keep the f/2 and f'/12 end terms) and exp(-2π² s²) (the
    full sums); the integrals are Gauss-Legendre over panels of s/2. About a thousand nodes,
    whatever n, instead of twenty standard deviations of tables.
    """

    def __init__(self, x1: int, n1: int, n2: int, k: int, half_width: int):
        a, b, c, d = float(x1), float(n1 - x1), float(k - x1), float(n2 - k + x1)
        self.cells = (a, b, c, d)
        self.log_sample_odds = math.log(a) + math.log(d) - math.log(b) - math.log(c)
        spread = 1.0 / math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        panels = max(1, math.ceil(half_width / (spread / 2)))
        nodes, weights = np.polynomial.legendre.leggauss(12)
        edges = np.linspace(0.0, float(half_width), panels + 1)
        centres, halves = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
        right = (centres[:, None] + halves[:, None] * nodes[None, :]).ravel()
        right_weights = (halves[:, None] * weights[None, :]).ravel()
        # Offsets t from x1: the left half mirrored, then the right half; the ends last for confined().
        self.offsets = np.concatenate((-right, right, [-float(half_width), float(half_width)]))
        self.weights = np.concatenate((right_weights, right_weights, [0.0, 0.0]))
        self.right = np.concatenate((np.zeros(right.size), np.ones(right.size), [0.0, 0.0])).astype(bool)
        self.log_density = self._log_density(self.offsets)
        # d/dt of log f at t = 0 (the φ terms have zero slope there).
        self.slope0 = -0.5 * (1 / a - 1 / b - 1 / c + 1 / d)

    def _log_density(self, t: np.ndarray) -> np.ndarray:
        a, b, c, d = self.cells
        total = -t * self.log_sample_odds
        for cell, sign in ((a, 1.0), (b, -1.0), (c, -1.0), (d, 1.0)):
            u = sign * t / cell
            total -= cell * _phi(u) + 0.5 * np.log1p(u) + _stirlerr_large(cell + sign * t) - _stirlerr_large(cell)
        return total

    def _integrals(self, log_psi: float) -> tuple[float, float, float, float, float]:
        """Left and right integrals of f, the first moment, f(0) and f'(0), all scaled alike."""
        nodes = slice(0, -2)  # the last two entries are the window's ends, for confined() only
        offsets = self.offsets[nodes]
        log_weight = self.log_density[nodes] + offsets * log_psi
        # Scaled by the largest node, or by f(0) = 1 when that is larger: nothing that matters
        # underflows, nothing overflows.
        shift = max(float(log_weight.max()), 0.0)
        f = np.exp(log_weight - shift) * self.weights[nodes]
        right_half = self.right[nodes]
        left, right = float(f[~right_half].sum()), float(f[right_half].sum())
        moment = float(f @ offsets)
        f0 = math.exp(-shift)
        return left, right, moment, f0, f0 * (self.slope0 + log_psi - self.log_sample_odds)

    def mean_offset(self, log_psi: float) -> float:
        left, right, moment, _, _ = self._integrals(log_psi)
        return moment / (left + right)

    def tail_ge(self, log_psi: float) -> float:
        """Euler-Maclaurin: sum over j >= x1 = integral + f(0)/2 - f'(0)/12 (next term 1/(720 s⁴))."""
        left, right, _, f0, f0_slope = self._integrals(log_psi)
        return (right + f0 / 2 - f0_slope / 12) / (left + right)

    def tail_le(self, log_psi: float) -> float:
        left, right, _, f0, f0_slope = self._integrals(log_psi)
        return (left + f0 / 2 + f0_slope / 12) / (left + right)

    def confined(self, log_psi: float) -> bool:
        """The weight at both ends of the window is below e^-45 of the largest and falls outward."""
        log_weight = self.log_density + self.offsets * log_psi
        top = float(log_weight.max())
        inner_left, inner_right = log_weight[self.right.size // 2 - 2], log_weight[-3]
        end_left, end_right = log_weight[-2], log_weight[-1]
        return bool(end_left - top < -_EDGE_LOG and end_right - top < -_EDGE_LOG
                    and end_left < inner_left and end_right < inner_right)


def _phi(u: np.ndarray) -> np.ndarray:
    """(1 + u) log1p(u) - u, accurate near 0 (series u²/2 - u³/6 + u⁴/12 - ...)."""
    u = np.asarray(u, dtype=np.float64)
    out = (1.0 + u) * np.log1p(u) - u
    small = np.abs(u) < 0.1
    if small.any():
        v = u[small]
        # sum over m >= 2 of (-1)^m u^m / (m (m - 1)); 30 terms reach 1e-32 at |u| < 0.1.
        series = np.zeros_like(v)
        power = v * v
        for m in range(2, 32):
            series += (1 if m % 2 == 0 else -1) * power / (m * (m - 1))
            power = power * v
        out[small] = series
    return out


def _stirlerr_large(n: np.ndarray) -> np.ndarray:
    """Stirling's series for log(n!) - log(sqrt(2 pi n)(n/e)^n), n > 500 (as R's stirlerr)."""
    nn = n * n
    return (1 / 12 - (1 / 360) / nn) / n


def _solve_log_psi(f: Callable[[float], float], guess: float) -> float:
    """Root of an increasing function of log psi, bracketed by doubling steps from ``guess``."""
    step, a, b = 1.0, guess - 1.0, guess + 1.0
    while f(a) > 0.0:
        step *= 2.0
        a = guess - step
    step = 1.0
    while f(b) < 0.0:
        step *= 2.0
        b = guess + step
    return _root(f, a, b)


def odds_ratio(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> EffectEstimate:
    """Conditional maximum-likelihood odds ratio with the exact conditional interval.

    Parameters
    ----------
    x1, n1, x2, n2 : int
        Events and patients of group 1 and group 2 (n up to 10^12).
    level : float
        Two-sided confidence level.

    Returns
    -------
    EffectEstimate
        ``estimate`` 0 when x1 is the smallest count the margins allow, inf when it is the
        largest, None when the margins allow one table only; interval [0, inf] then.

    Notes
    -----
    R ``fisher.test(matrix(c(x1, n1 - x1, x2, n2 - x2), 2, byrow = TRUE))``, ``estimate`` and
    ``conf.int``, solved to full precision rather than to ``uniroot``'s default tolerance
    (about 1e-4), so it equals scipy ``odds_ratio(table, kind="conditional")`` to about 1e-12.
    The sums run over the whole support as in R when it has at most 65,536 tables, otherwise
    over a window around x1 that is widened until the mass outside it is below e^-45 of the
    largest term for every solution; when the standard deviation of x1 exceeds 1,000 (every
    cell above a million) the sums are evaluated as integrals with Euler-Maclaurin end terms
    (see ``_SmoothConditional``; relative error below 1e-12), so groups of 10^12 need neither
    O(n) memory nor O(n) time.

    Examples
    --------
    Cho et al. (2009): no event after bevacizumab, so the estimate is infinite.

    >>> result = odds_ratio(6, 15, 0, 8)
    >>> result.estimate, round(result.interval.low, 4), result.interval.high
    (inf, 0.7376, inf)
    """
    x1, n1, x2, n2 = _check(x1, n1, x2, n2, level)
    k = x1 + x2
    lo, hi = _hypergeom.support(n1, n2, k)
    if lo == hi:
        return EffectEstimate(None, ConfidenceInterval(0.0, math.inf), ODDS_RATIO_METHOD, level)
    tail = (1.0 - level) / 2
    a, b, c, d = x1 + 0.5, n1 - x1 + 0.5, x2 + 0.5, n2 - x2 + 0.5
    guess = math.log(a * d / (b * c))
    spread = 1.0 / math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    half_width = 64 + math.ceil((_critical_value(level) + 12.0) * spread)
    while True:
        family = _SmoothConditional if spread >= _SMOOTH_SD else _ConditionalDistribution
        dist = family(x1, n1, n2, k, half_width)
        solutions = []
        if x1 in (lo, hi):
            estimate = 0.0 if x1 == lo else math.inf
        else:
            log_estimate = _solve_log_psi(dist.mean_offset, guess)
            solutions.append(log_estimate)
            estimate = math.exp(log_estimate)
        if x1 == lo:
            low = 0.0
        else:
            log_low = _solve_log_psi(lambda t: dist.tail_ge(t) - tail, guess)
            solutions.append(log_low)
            low = math.exp(log_low)
        if x1 == hi:
            high = math.inf
        else:
            log_high = _solve_log_psi(lambda t: tail - dist.tail_le(t), guess)
            solutions.append(log_high)
            high = math.exp(log_high)
        if all(dist.confined(t) for t in solutions):
            break
        half_width *= 4
    return EffectEstimate(estimate, ConfidenceInterval(low, high), ODDS_RATIO_METHOD, level)


def effect_estimates(x1: int, n1: int, x2: int, n2: int, *, level: float = 0.95) -> dict[str, EffectEstimate]:
    """All three estimates, keyed ``risk_difference``, ``odds_ratio``, ``relative_risk``."""
    return {"risk_difference": risk_difference(x1, n1, x2, n2, level=level),
            "odds_ratio": odds_ratio(x1, n1, x2, n2, level=level),
            "relative_risk": relative_risk(x1, n1, x2, n2, level=level)}

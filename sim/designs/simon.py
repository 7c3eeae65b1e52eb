"""Simon's two-stage design for a response rate (Simon 1989; R ``clinfun::ph2simon``).

Definitions. Stage 1 treats n1 patients and stops for futility when its responses X1 <= r1;
otherwise n - n1 more are treated and H0: p <= P0 is rejected when all responses X1 + X2 > r.
At a true rate p:

- P(early stop) = P(X1 <= r1);
- P(reject H0) = Σ_{x1 = r1+1}^{n1} P(X1 = x1) · P(X2 > r - x1);
- E[N] = n1 + (1 - P(early stop)) · (n - n1).

A design is feasible when P(reject | P0) <= alpha and P(reject | P1) >= power (ph2simon asks
for strict inequalities; we allow equality up to a relative 1e-12 of rounding, so the two agree
except at exact ties). *Minimax*: the smallest n with a feasible design, and among those the
smallest E[N | P0]. *Optimal*: the smallest E[N | P0] over all n <= nmax (the smaller n on a
tie). *Admissible* (Jung, Lee, Kim & George 2004): designs that minimise the expected loss
q·n + (1 - q)·E[N | P0] for some weight q in [0, 1], i.e. the lower-left convex hull of the best
design for each n, from the minimax (q = 1) to the optimal (q = 0) design, both included, each
with the range [q_low, q_high] of weights for which it is best (clinfun ``twostage.admissible``).

Search, bounded as Simon's algorithm: for each n and each n1 in 1..n-1, r1 in 0..n1-1, the best r
for (n, n1, r1) is the largest r meeting the power constraint (alpha only falls as r grows), so
only its alpha is checked; and for fixed (n, n1) E[N | P0] falls as r1 rises, so the search over
r1 (downwards) stops at the first feasible value. r runs over r1..r1 + n - n1 (a larger r
would let patients continue who cannot reach it; lowering r1 to r - (n - n1) stops them early at
the same rejection region, so such designs are never optimal, minimax or admissible). n runs
from the Neyman–Pearson bound to ``nmax``: no design with fewer patients than the smallest n at
which the randomised most powerful single-stage test of size alpha reaches the power can be
feasible (a two-stage design is one test of the n Bernoulli outcomes, and by the Neyman–Pearson
lemma none is more powerful at its size). Simon started near the single-stage sample size; this
bound is below it and exact. Pairs (n1, n2) with n1 >= the best E[N] found for n so far are
skipped (E[N] >= n1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import stats

from ..kernels._jit import jit
from .monitor import DesignInputError, _probability

MAX_NMAX = 1000  # as ph2simon
# Relative rounding allowance on the error constraints (see the module docstring).
_CONSTRAINT_SLACK = 1e-12


@jit
def _simon_search(pmf0, pmf1, tail0, tail1, cdf0, n_lower, nmax, alpha_limit, power_limit):
    """Best design (smallest E[N | P0]) for each total n.

    pmf*[m, x] = P(Bin(m, p) = x), tail*[m, j] = P(Bin(m, p) > j) (0 where j >= m),
    cdf0[m, j] = P(Bin(m, P0) <= j): float64[nmax + 1, nmax + 1]. Returns int64[nmax + 1, 3]
    (r1, n1, r; n1 = 0 where no design is feasible) and float64[nmax + 1, 4] (E[N | P0],
    P(early stop | P0), alpha, power).
    """
    designs = np.zeros((nmax + 1, 3), dtype=np.int64)
    values = np.zeros((nmax + 1, 4))
    best = np.full(nmax + 1, np.inf)
    reject0 = np.zeros(nmax + 1)
    reject1 = np.zeros(nmax + 1)
    for n1 in range(1, nmax):
        for n in range(max(n_lower, n1 + 1), nmax + 1):
            if n1 >= best[n]:
                continue
            n2 = n - n1
            # reject*[r] = P(X1 > r1, X1 + X2 > r), built up as r1 falls by adding x1 = r1 + 1.
            for r in range(n + 1):
                reject0[r] = 0.0
                reject1[r] = 0.0
            for r1 in range(n1 - 1, -1, -1):
                x1 = r1 + 1
                for r in range(n + 1):
                    j = r - x1
                    t0 = 1.0 if j < 0 else tail0[n2, j]
                    t1 = 1.0 if j < 0 else tail1[n2, j]
                    reject0[r] += pmf0[n1, x1] * t0
                    reject1[r] += pmf1[n1, x1] * t1
                r = r1 + n2
                while r >= r1 and reject1[r] < power_limit:
                    r -= 1
                if r < r1:
                    continue  # power falls short even at r = r1; a smaller r1 may reach it
                if reject0[r] > alpha_limit:
                    continue  # a smaller r1 raises power, so its largest r may be larger: keep looking
                early = cdf0[n1, r1]
                expected = n1 + (1.0 - early) * n2
                if expected < best[n]:
                    best[n] = expected
                    designs[n, 0] = r1
                    designs[n, 1] = n1
                    designs[n, 2] = r
                    values[n, 0] = expected
                    values[n, 1] = early
                    values[n, 2] = reject0[r]
                    values[n, 3] = reject1[r]
                break  # smaller r1: larger E[N] at this (n1, n)
    return designs, values


@dataclass(frozen=True)
class SimonDesign:
    """One two-stage design and its operating characteristics at P0 (alpha) and P1 (power)."""

    r1: int
    n1: int
    r: int
    n: int
    expected_n_p0: float
    p_early_stop_p0: float
    alpha: float
    power: float

    @property
    def n2(self) -> int:
        return self.n - self.n1

    def to_dict(self) -> dict:
        return {"r1": self.r1, "n1": self.n1, "r": self.r, "n": self.n, "expected_n_p0": self.expected_n_p0,
                "p_early_stop_p0": self.p_early_stop_p0, "alpha": self.alpha, "power": self.power}


@dataclass(frozen=True)
class SimonOC:
    """A two-stage design at a true response rate: P(early stop), P(reject H0), E[N]."""

    rate: float
    p_early_stop: float
    p_reject: float
    expected_n: float

    @property
    def p_accept(self) -> float:
        """P(not rejecting H0), early stop included."""
        return 1.0 - self.p_reject

    def to_dict(self) -> dict:
        return {"rate": self.rate, "p_early_stop": self.p_early_stop, "p_reject": self.p_reject,
                "expected_n": self.expected_n}


@dataclass(frozen=True)
class SimonResult:
    """Optimal, minimax and admissible designs, the best design for each n, and the search bounds."""

    p0: float
    p1: float
    alpha: float
    power: float
    nmax: int
    n_lower: int
    by_n: tuple[SimonDesign, ...]
    optimal: SimonDesign
    minimax: SimonDesign
    admissible: tuple[SimonDesign, ...]
    admissible_weights: tuple[tuple[float, float], ...]

    def to_dict(self) -> dict:
        admissible = [{**design.to_dict(), "q_low": low, "q_high": high}
                      for design, (low, high) in zip(self.admissible, self.admissible_weights)]
        return {"p0": self.p0, "p1": self.p1, "alpha": self.alpha, "power": self.power, "nmax": self.nmax,
                "search": {"n_from": self.n_lower, "n_to": self.nmax,
                           "n_from_rule": "Neyman-Pearson bound: the smallest n at which the randomised most "
                                          "powerful single-stage test of size alpha reaches the power"},
                "designs": {"optimal": self.optimal.to_dict(), "minimax": self.minimax.to_dict(),
                            "admissible": admissible}}


def _check_inputs(p0, p1, alpha, power, nmax) -> tuple[float, float, float, float, int]:
    p0 = _probability("p0", p0)
    p1 = _probability("p1", p1)
    if p1 <= p0:
        raise DesignInputError("p1", f"got {p1!r}; expected a response rate above p0 = {p0!r}")
    alpha = _probability("alpha", alpha)
    power = _probability("power", power)
    if power <= alpha:
        raise DesignInputError("power", f"got {power!r}; expected more than alpha = {alpha!r}")
    if isinstance(nmax, bool) or not hasattr(nmax, "__index__") or not 2 <= int(nmax) <= MAX_NMAX:
        raise DesignInputError("nmax", f"got {nmax!r}; expected a whole number from 2 to {MAX_NMAX}")
    return p0, p1, alpha, power, int(nmax)


def neyman_pearson_bound(p0: float, p1: float, *, alpha: float, power: float, n_limit: int) -> Optional[int]:
    """The smallest n at which the randomised most powerful test of size alpha has power >= ``power``.

    A lower bound on the total sample size of any feasible two-stage design (module docstring).
    None when no n up to ``n_limit`` reaches it.
    """
    for n in range(1, n_limit + 1):
        survival = stats.binom.sf(np.arange(-1, n + 1), n, p0)  # P(X > c) for c = -1..n
        critical = int(np.argmax(survival <= alpha)) - 1  # smallest c with P(X > c) <= alpha
        at_c = stats.binom.pmf(critical, n, p0)
        gamma = (alpha - survival[critical + 1]) / at_c if at_c > 0 else 0.0
        np_power = stats.binom.sf(critical, n, p1) + gamma * stats.binom.pmf(critical, n, p1)
        if np_power >= power * (1.0 - _CONSTRAINT_SLACK):
            return n
    return None


def _admissible(by_n: list[SimonDesign], optimal: SimonDesign):
    """Lower-left convex hull of (n, E[N | P0]) from the minimax to the optimal design (clinfun's walk)."""
    candidates = [design for design in by_n if design.n <= optimal.n]
    hull = [candidates[0]]
    index = 0
    while candidates[index].n < optimal.n:
        here = candidates[index]
        slopes = [(other.expected_n_p0 - here.expected_n_p0) / (other.n - here.n) for other in candidates[index + 1:]]
        step = int(np.argmin(slopes))  # the first of equal slopes: collinear designs are all admissible
        index += 1 + step
        hull.append(candidates[index])
    weights = []
    for i, design in enumerate(hull):
        # Loss q·n + (1 - q)·EN is equal for neighbours at q = ΔEN / (ΔEN - Δn).
        high = 1.0 if i == 0 else _weight(hull[i - 1], design)
        low = 0.0 if i == len(hull) - 1 else _weight(design, hull[i + 1])
        weights.append((low, high))
    return tuple(hull), tuple(weights)


def _weight(smaller_n: SimonDesign, larger_n: SimonDesign) -> float:
    d_expected = larger_n.expected_n_p0 - smaller_n.expected_n_p0
    d_n = larger_n.n - smaller_n.n
    return d_expected / (d_expected - d_n)


def simon_designs(p0: float, p1: float, *, alpha: float, power: float, nmax: int = 100) -> SimonResult:
    """Simon's optimal, minimax and admissible two-stage designs (R ``clinfun::ph2simon``).

    Parameters
    ----------
    p0 : float
        The unacceptable response rate (H0: p <= p0).
    p1 : float
        The desirable response rate (> p0).
    alpha : float
        The largest allowed P(reject H0 | p0) (one-sided).
    power : float
        The smallest allowed P(reject H0 | p1) (1 - beta).
    nmax : int
        The largest total sample size searched (2 to 1000).

    Returns
    -------
    SimonResult

    Raises
    ------
    DesignInputError
        A bad parameter, or (field ``nmax``) no feasible design up to ``nmax``.

    Notes
    -----
    Simon R (1989), Optimal two-stage designs for phase II clinical trials, Controlled Clinical
    Trials 10:1-10. Jung SH, Lee T, Kim K, George SL (2004), Admissible two-stage designs for
    phase II cancer clinical trials, Statistics in Medicine 23:561-569. Definitions and the
    search bounds are in the module docstring.

    Examples
    --------
    >>> result = simon_designs(0.10, 0.30, alpha=0.05, power=0.80)
    >>> d = result.optimal
    >>> (d.r1, d.n1, d.r, d.n), round(d.expected_n_p0, 1)
    ((1, 10, 5, 29), 15.0)
    """
    p0, p1, alpha, power, nmax = _check_inputs(p0, p1, alpha, power, nmax)
    n_lower = neyman_pearson_bound(p0, p1, alpha=alpha, power=power, n_limit=nmax)
    if n_lower is None:
        raise DesignInputError("nmax", f"got {nmax}; no design with at most {nmax} patients can reach "
                                       f"alpha <= {alpha:g} and power >= {power:g} (increase nmax)")
    sizes = np.arange(nmax + 1)
    outcomes = np.arange(nmax + 1)
    pmf0 = stats.binom.pmf(outcomes[None, :], sizes[:, None], p0)
    pmf1 = stats.binom.pmf(outcomes[None, :], sizes[:, None], p1)
    tail0 = stats.binom.sf(outcomes[None, :], sizes[:, None], p0)
    tail1 = stats.binom.sf(outcomes[None, :], sizes[:, None], p1)
    cdf0 = stats.binom.cdf(outcomes[None, :], sizes[:, None], p0)
    designs, values = _simon_search(pmf0, pmf1, tail0, tail1, cdf0, n_lower, nmax,
                                    alpha * (1.0 + _CONSTRAINT_SLACK), power * (1.0 - _CONSTRAINT_SLACK))
    by_n = [SimonDesign(r1=int(designs[n, 0]), n1=int(designs[n, 1]), r=int(designs[n, 2]), n=n,
                        expected_n_p0=float(values[n, 0]), p_early_stop_p0=float(values[n, 1]),
                        alpha=float(values[n, 2]), power=float(values[n, 3]))
            for n in range(nmax + 1) if designs[n, 1] > 0]
    if not by_n:
        raise DesignInputError("nmax", f"got {nmax}; no two-stage design with at most {nmax} patients "
                                       f"reaches alpha <= {alpha:g} and power >= {power:g} (increase nmax)")
    minimax = by_n[0]
    optimal = min(by_n, key=lambda design: design.expected_n_p0)  # min() keeps the first (smaller n) on ties
    admissible, weights = _admissible(by_n, optimal)
    return SimonResult(p0=p0, p1=p1, alpha=alpha, power=power, nmax=nmax, n_lower=n_lower, by_n=tuple(by_n),
                       optimal=optimal, minimax=minimax, admissible=admissible, admissible_weights=weights)


def simon_operating_characteristics(r1: int, n1: int, r: int, n: int, rate: float) -> SimonOC:
    """Exact P(early stop), P(reject H0) and E[N] of the design (r1, n1, r, n) at a true rate.

    Parameters
    ----------
    r1, n1, r, n : int
        Stop after n1 patients when responses <= r1; reject H0 after n when responses > r.
        0 <= r1 < n1 < n and r1 <= r < n.
    rate : float
        The true response probability, in [0, 1].

    Returns
    -------
    SimonOC

    Notes
    -----
    Equals R ``clinfun::oc.twostage.bdry(pu = rate, pa = rate, r1, n1, r, n)``.

    Examples
    --------
    >>> oc = simon_operating_characteristics(1, 10, 5, 29, 0.10)
    >>> round(oc.p_reject, 4), round(oc.p_early_stop, 4), round(oc.expected_n, 2)
    (0.0471, 0.7361, 15.01)
    """
    for name, value in (("r1", r1), ("n1", n1), ("r", r), ("n", n)):
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise DesignInputError(name, f"got {value!r}; expected a whole number")
    r1, n1, r, n = int(r1), int(n1), int(r), int(n)
    if not 1 <= n1 < n:
        raise DesignInputError("n1", f"got {n1}; expected 1 <= n1 < n = {n}")
    if not 0 <= r1 < n1:
        raise DesignInputError("r1", f"got {r1}; expected 0 <= r1 < n1 = {n1}")
    if not r1 <= r < n:
        raise DesignInputError("r", f"got {r}; expected r1 = {r1} <= r < n = {n}")
    rate = float(rate)
    if not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
        raise DesignInputError("rate", f"got {rate!r}; expected a probability in [0, 1]")
    n2 = n - n1
    stage1 = np.arange(r1 + 1, n1 + 1)
    p_early = float(stats.binom.cdf(r1, n1, rate))
    p_reject = float(np.sum(stats.binom.pmf(stage1, n1, rate) * stats.binom.sf(r - stage1, n2, rate)))
    return SimonOC(rate=rate, p_early_stop=p_early, p_reject=p_reject, expected_n=n1 + (1.0 - p_early) * n2)

"""Stopping boundaries that monitor one group for an event (e.g. severe cardiac toxicity).

Two rules, each turned into ``stop_at`` (per look, the smallest number of events that stops the
group; see :mod:`sim.analysis.sequential` for the definitions and the exact recursion):

Repeated significance testing (:func:`toxicity_boundary`)
    As R ``clinfun::toxbdry`` (Ivanova, Qaqish & Schell 2005). At look k with n_k patients,
    t_k = n_k / n_K, the group stops when a one-sided binomial test of H0: rate = P0 on the
    first n_k patients is significant at the nominal level a_k = Φ(Φ⁻¹(α) / t_k^Δ): stop_at[k]
    is the smallest s with P(X_k >= s | P0) <= a_k (X_k ~ Binomial(n_k, P0)). Δ = 0 is the
    Pocock shape (one level at every look), Δ = 0.5 the O'Brien–Fleming shape. The level α is
    chosen so that the probability of crossing at P0 is as large as possible without exceeding
    ``cross_p0``: toxbdry's ``hi.bdry`` (its ``lo.bdry`` is the next boundary, which exceeds it).
    The boundary depends on α only through finitely many breakpoints (the α at which a look's
    stop_at drops by one), and the crossing probability rises with α, so we search those
    breakpoints exactly (bisection over the sorted breakpoints) where toxbdry iterates on α;
    ``nominal_alpha`` is the smallest α giving the boundary (``nominal_alpha_range``: [low, high)).
    ``p1``/``cross_p1`` do not change the boundary: they check that it stops often enough at P1.
Bayesian (:func:`bayes_boundary`)
    With a Beta(a, b) prior on the event rate, the group stops at look k when the posterior
    probability P(rate > P0 | x events in n_k) = I_{1-P0}(b + n_k - x, a + x) is at least C
    (posterior probabilities within 1e-12 of C count as reaching it, so rounding does not decide
    ties). Given ``cross_p0`` instead of C, C is calibrated: the boundary is the one with the
    smallest C whose crossing probability at P0 does not exceed ``cross_p0``; every C in
    ``posterior_range`` = (low, high] gives it, and ``posterior`` is the shortest decimal there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
from typing import Mapping, Optional, Sequence, Union

import numpy as np
from scipy import special

from ..analysis.sequential import SequentialOC, _absorbed_mass, check_boundary, crossing_probabilities
from ..scenario.looks import format_looks, parse_looks

SHAPES = {"pocock": 0.0, "obrien-fleming": 0.5}
RULES = ("repeated-significance", "bayes")
MAX_DELTA = 0.5  # clinfun::toxbdry's range of the shape parameter
POSTERIOR_TOLERANCE = 1e-12
# Relative slack on "crossing <= cross_p0": rounding of an exact tie must not flip the choice.
_CROSS_SLACK = 1e-12
# The most patients a boundary is derived for (tables of binomial tails are n² in memory), and
# where the search for the patients a too-small design would need stops.
MAX_PATIENTS = 2000
DEFAULT_GRID_POINTS = 6  # toxbdry's ngrid


class DesignInputError(ValueError):
    """A bad design parameter; ``field`` names it (the CLI turns it into its flag)."""

    def __init__(self, field_name: str, detail: str):
        self.field = field_name
        self.detail = detail
        super().__init__(f"{field_name}: {detail}")


def _probability(name: str, value, *, open_low: bool = True, open_high: bool = True) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DesignInputError(name, f"got {value!r}; expected a number") from None
    low_ok = number > 0.0 if open_low else number >= 0.0
    high_ok = number < 1.0 if open_high else number <= 1.0
    if isinstance(value, bool) or not math.isfinite(number) or not (low_ok and high_ok):
        interval = ("(" if open_low else "[") + "0, 1" + (")" if open_high else "]")
        raise DesignInputError(name, f"got {value!r}; expected a probability in {interval}")
    return number


def parse_shape(shape: Union[str, float]) -> tuple[str, float]:
    """(name, Δ): ``pocock`` (0), ``obrien-fleming`` (0.5) or a number Δ in [0, 0.5]."""
    if isinstance(shape, str) and shape.strip().lower() in SHAPES:
        name = shape.strip().lower()
        return name, SHAPES[name]
    try:
        delta = float(shape)
    except (TypeError, ValueError):
        delta = math.nan
    if isinstance(shape, bool) or not (0.0 <= delta <= MAX_DELTA):
        raise DesignInputError("shape", f"got {shape!r}; expected pocock, obrien-fleming or a number "
                                        f"in [0, {MAX_DELTA}] (the power Δ of t_k in Φ(z / t_k^Δ))")
    for name, value in SHAPES.items():
        if delta == value:
            return name, delta
    return f"delta{delta!r}", delta


def _looks(looks) -> tuple[int, ...]:
    try:
        parsed = parse_looks(looks)
    except ValueError as exc:
        raise DesignInputError("looks", str(exc)) from None
    if parsed[-1] > MAX_PATIENTS:
        raise DesignInputError("looks", f"the last look {parsed[-1]} is above {MAX_PATIENTS} patients, "
                                        f"the most a boundary is derived for")
    return parsed


def upper_tail_table(n_max: int, rate: float) -> np.ndarray:
    """``T[n, s] = P(Binomial(n, rate) >= s)`` for n in 0..n_max, s in 0..n_max + 1.

    By the recursion T[n, s] = rate·T[n-1, s-1] + (1 - rate)·T[n-1, s]: convex combinations only,
    so tails far below 1e-16 keep their relative precision (1 - CDF would lose them).
    """
    table = np.zeros((n_max + 1, n_max + 2))
    table[:, 0] = 1.0
    for n in range(1, n_max + 1):
        table[n, 1:n + 1] = rate * table[n - 1, 0:n] + (1.0 - rate) * table[n - 1, 1:n + 1]
    return table


# --- repeated significance testing ---------------------------------------------------------------

def _rs_threshold(tail, fraction, delta):
    """The smallest α at which a cell with upper tail P(X_k >= s | P0) = ``tail`` stops the group."""
    if delta == 0.0:
        return tail  # Pocock: a_k = α, so the breakpoint is the tail itself
    with np.errstate(divide="ignore"):
        return special.ndtr(fraction ** delta * special.ndtri(tail))


def _p_cross(looks: np.ndarray, stop_at: np.ndarray, rate: float) -> float:
    return float(_absorbed_mass(looks, stop_at, rate, int(looks[-1]))[:-1].sum())


def _rs_search(looks: tuple[int, ...], p0: float, delta: float, cross_p0: float, tails: np.ndarray):
    """(stop_at, α_low, α_high) of the boundary with the largest crossing at P0 that is <= cross_p0.

    At level α, look k stops at the smallest s whose breakpoint thr_k(s) = Φ(t_k^Δ Φ⁻¹(P(X_k >= s)))
    is <= α. Only breakpoints above floor = cross_p0 / K matter: by Bonferroni the boundary at
    the floor crosses with probability <= Σ_k a_k(floor) <= K·floor = cross_p0, so the answer is at
    or above it, and cells whose breakpoint is below the floor stop at every α >= floor alike.
    """
    looks_array = np.asarray(looks, dtype=np.int64)
    n_looks, n_last = len(looks), looks[-1]
    fraction = looks_array / n_last
    floor = cross_p0 / n_looks
    level_floor = np.full(n_looks, floor) if delta == 0.0 else special.ndtr(special.ndtri(floor) / fraction ** delta)
    # Tails grow with n, so the last look bounds the columns that can reach a level above the floor.
    columns = max(1, int(np.count_nonzero(tails[n_last, 1:n_last + 1] >= level_floor.min())))
    tail = tails[looks_array, 1:columns + 1]
    counted = (tail >= level_floor[:, None]) & (np.arange(1, columns + 1)[None, :] <= looks_array[:, None])
    thresholds = np.full(tail.shape, -1.0)
    thresholds[counted] = _rs_threshold(tail, fraction[:, None], delta)[counted]
    breakpoints = np.unique(np.concatenate(([floor], thresholds[thresholds >= floor])))

    def boundary(index: int) -> np.ndarray:
        # Cells below the floor count as stopping already: s_k = 1 + #(cells that do not stop yet).
        return (1 + (thresholds > breakpoints[index]).sum(axis=1)).astype(np.int64)

    limit = cross_p0 * (1.0 + _CROSS_SLACK)
    if _p_cross(looks_array, boundary(0), p0) > limit:
        return None  # cannot happen by Bonferroni; kept as a guard against rounding
    low, high = 0, len(breakpoints) - 1  # crossing(low) <= limit; find the last index that keeps it
    if _p_cross(looks_array, boundary(high), p0) <= limit:
        low = high
    while high - low > 1:
        middle = (low + high) // 2
        if _p_cross(looks_array, boundary(middle), p0) <= limit:
            low = middle
        else:
            high = middle
    stop_at = boundary(low)
    # The α range of this boundary: from the last of its cells to switch on to the next cell.
    alpha_low, alpha_high = 0.0, 1.0
    for k, value in enumerate(stop_at):
        if value <= looks[k]:
            alpha_low = max(alpha_low, float(_rs_threshold(tails[looks[k], value], fraction[k], delta)))
        if value - 1 >= 1:
            alpha_high = min(alpha_high, float(_rs_threshold(tails[looks[k], value - 1], fraction[k], delta)))
    return tuple(int(v) for v in stop_at), alpha_low, alpha_high


def _rs_boundary(looks: tuple[int, ...], p0: float, delta: float,
                 cross_p0: float) -> tuple[tuple[int, ...], float, float]:
    """(stop_at, α_low, α_high) as :func:`_rs_search`; its None becomes the error on ``cross_p0``."""
    found = _rs_search(looks, p0, delta, cross_p0, upper_tail_table(looks[-1], p0))
    if found is None:
        raise DesignInputError("cross_p0", f"got {cross_p0!r}; even the mildest boundary over looks "
                                           f"{format_looks(looks)} crosses more often at p0 = {p0!r}")
    return found


def _extended_looks(looks: tuple[int, ...], n_last: int) -> Optional[tuple[int, ...]]:
    """The same monitoring pattern up to ``n_last`` patients, or None where it does not fit."""
    step = looks[1] - looks[0] if len(looks) >= 2 else None
    if step is not None and all(b - a == step for a, b in zip(looks, looks[1:])):
        if (n_last - looks[0]) % step:
            return None
        return tuple(range(looks[0], n_last + 1, step))
    # Irregular looks: the same information fractions n_k / n_K, rounded (spacing only grows).
    return tuple(max(1, round(value * n_last / looks[-1])) for value in looks[:-1]) + (n_last,)


def _patients_needed(looks, p0, p1, delta, cross_p0, cross_p1) -> tuple[Optional[int], int]:
    """The smallest maximum sample size, same look pattern, whose boundary reaches cross_p1 at P1."""
    cap = min(MAX_PATIENTS, max(10 * looks[-1], looks[-1] + 200))
    tails = upper_tail_table(cap, p0)
    searched = looks[-1]
    for n_last in range(looks[-1] + 1, cap + 1):
        extended = _extended_looks(looks, n_last)
        if extended is None:
            continue
        searched = n_last
        found = _rs_search(extended, p0, delta, cross_p0, tails)
        if found is not None and _p_cross(np.asarray(extended, dtype=np.int64),
                                          np.asarray(found[0], dtype=np.int64), p1) >= cross_p1:
            return n_last, searched
    return None, searched


# --- the design ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MonitorDesign:
    """A stopping boundary for one group and how it was derived.

    ``rule`` is ``repeated-significance`` (with ``shape``, ``delta``, ``cross_p0``, ``cross_p1``,
    ``nominal_alpha``) or ``bayes`` (with ``prior``, ``posterior`` and, when calibrated,
    ``cross_p0``). ``stop_at[k]`` is the smallest number of events among the first ``looks[k]``
    patients that stops the group (above looks[k]: no stop possible there).
    """

    rule: str
    looks: tuple[int, ...]
    stop_at: tuple[int, ...]
    p0: float
    p1: Optional[float] = None
    shape: Optional[str] = None
    delta: Optional[float] = None
    cross_p0: Optional[float] = None
    cross_p1: Optional[float] = None
    nominal_alpha: Optional[float] = None
    nominal_alpha_range: Optional[tuple[float, float]] = None
    prior: Optional[tuple[float, float]] = None
    posterior: Optional[float] = None
    posterior_range: Optional[tuple[float, float]] = None
    patients_needed: Optional[int] = None
    patients_searched_to: Optional[int] = None
    _oc_cache: dict = field(default_factory=dict, repr=False, compare=False)

    def oc(self, rate: float) -> SequentialOC:
        """The exact operating characteristics at one true rate."""
        key = float(rate)
        if key not in self._oc_cache:
            self._oc_cache[key] = crossing_probabilities(self.looks, self.stop_at, key)
        return self._oc_cache[key]

    def operating_characteristics(self, rates: Optional[Sequence[float]] = None) -> list[SequentialOC]:
        """Exact OCs at each rate (default :meth:`default_rates`)."""
        rates = self.default_rates() if rates is None else rates
        return [self.oc(_probability("rates", rate, open_low=False, open_high=False)) for rate in rates]

    def default_rates(self) -> tuple[float, ...]:
        """toxbdry's grid: 6 rates from P0 to P1 (P0 to P0 + 0.3 in steps of 0.05 without P1)."""
        if self.p1 is not None:
            grid = np.linspace(self.p0, self.p1, DEFAULT_GRID_POINTS)
        else:
            grid = np.minimum(self.p0 + 0.05 * np.arange(7), 1.0)
        return tuple(dict.fromkeys(round(float(v), 12) for v in grid))

    @property
    def p_cross_p0(self) -> float:
        return self.oc(self.p0).p_cross

    @property
    def p_cross_p1(self) -> Optional[float]:
        return None if self.p1 is None else self.oc(self.p1).p_cross

    @property
    def meets_cross_p1(self) -> Optional[bool]:
        if self.p1 is None or self.cross_p1 is None:
            return None
        return self.p_cross_p1 >= self.cross_p1

    @property
    def max_acceptable(self) -> tuple[int, ...]:
        """toxbdry's convention: the largest acceptable count r_k (stop when events > r_k)."""
        return tuple(value - 1 for value in self.stop_at)

    @property
    def looks_spec(self) -> str:
        return format_looks(self.looks)

    def nominal_levels(self) -> Optional[tuple[float, ...]]:
        """Repeated significance: the per-look levels Φ(Φ⁻¹(α) / t_k^Δ) at ``nominal_alpha``."""
        if self.nominal_alpha is None:
            return None
        fraction = np.asarray(self.looks, dtype=float) / self.looks[-1]
        if self.delta == 0.0:
            return tuple(self.nominal_alpha for _ in self.looks)
        return tuple(float(v) for v in special.ndtr(special.ndtri(self.nominal_alpha) / fraction ** self.delta))

    def rule_mapping(self) -> dict:
        """The scenario rule mapping that :func:`resolve_rule` turns back into ``stop_at``."""
        if self.rule == "bayes":
            mapping: dict = {"bayes": {"prior": list(self.prior)}, "p0": self.p0}
            if self.cross_p0 is not None:
                mapping["cross_p0"] = self.cross_p0
            else:
                mapping["posterior"] = self.posterior
            return mapping
        shape = self.shape if self.shape in SHAPES else self.delta
        mapping = {"shape": shape, "p0": self.p0}
        if self.p1 is not None:
            mapping["p1"] = self.p1
        mapping["cross_p0"] = self.cross_p0
        if self.cross_p1 is not None:
            mapping["cross_p1"] = self.cross_p1
        return mapping

    def to_dict(self, rates: Optional[Sequence[float]] = None) -> dict:
        """The JSON of ``simtrial monitor``."""
        data: dict = {"rule": self.rule, "looks": list(self.looks), "looks_spec": self.looks_spec,
                      "stop_at": list(self.stop_at), "p0": self.p0, "p1": self.p1}
        if self.rule == "bayes":
            data.update(prior=list(self.prior), posterior=self.posterior, cross_p0=self.cross_p0,
                        posterior_range=None if self.posterior_range is None else list(self.posterior_range))
        else:
            data.update(shape=self.shape, delta=self.delta, cross_p0=self.cross_p0, cross_p1=self.cross_p1,
                        nominal_alpha=self.nominal_alpha, nominal_alpha_range=list(self.nominal_alpha_range),
                        max_acceptable=list(self.max_acceptable))
        data.update(p_cross_p0=self.p_cross_p0, p_cross_p1=self.p_cross_p1, meets_cross_p1=self.meets_cross_p1)
        if self.rule != "bayes":
            data.update(patients_needed=self.patients_needed, patients_searched_to=self.patients_searched_to)
        data["operating_characteristics"] = [oc.to_dict() for oc in self.operating_characteristics(rates)]
        return data

    def describe(self) -> str:
        """One line: the rule and its parameters."""
        if self.rule == "bayes":
            a, b = self.prior
            how = f"calibrated to P(cross | {self.p0:g}) <= {self.cross_p0:g}" if self.cross_p0 is not None else "given"
            return (f"Bayesian rule: stop when P(rate > {self.p0:g} | data) >= {self.posterior:g} ({how}), "
                    f"Beta({a:g}, {b:g}) prior, looks {self.looks_spec}")
        shape = {"pocock": "Pocock shape", "obrien-fleming": "O'Brien-Fleming shape"}.get(self.shape, "shape")
        return (f"repeated significance ({shape}, Δ = {self.delta:g}), P0 = {self.p0:g}, P1 = {self.p1:g}, "
                f"looks {self.looks_spec}, crossing at P0 <= {self.cross_p0:g}")

    def scenario_snippet(self, group: str = "prior_tki", endpoint: str = "cardiac_event",
                         action: str = "stop_group") -> str:
        """YAML ready to paste into a scenario's ``monitoring:`` block (comments say what it does)."""
        import yaml

        from ..report.multistage import boundary_text

        looks = self.looks_spec
        looks_yaml = f"[{looks.replace(',', ', ')}]" if "," in looks else (f'"{looks}"' if ":" in looks else looks)
        rule_yaml = yaml.safe_dump(self.rule_mapping(), default_flow_style=True, sort_keys=False, width=1000).strip()
        lines = [f"# {self.describe()}",
                 f"# stops {group} when {endpoint} events reach: {boundary_text(self.looks, self.stop_at)}",
                 f"# P(stop) = {self.p_cross_p0:.4f} at rate {self.p0:g}"
                 + (f", {self.p_cross_p1:.4f} at rate {self.p1:g}" if self.p1 is not None else ""),
                 "monitoring:",
                 f"  - group: {group}",
                 f"    endpoint: {endpoint}",
                 f"    looks: {looks_yaml}",
                 f"    rule: {rule_yaml}",
                 f"    action: {action}"]
        return "\n".join(lines) + "\n"


def toxicity_boundary(p0: float, p1: float, looks, *, shape: Union[str, float] = "pocock",
                      cross_p0: float = 0.10, cross_p1: float = 0.90) -> MonitorDesign:
    """Repeated-significance stopping boundary for an event rate (R ``clinfun::toxbdry``'s ``hi.bdry``).

    Parameters
    ----------
    p0 : float
        The acceptable event rate.
    p1 : float
        The unacceptable event rate (> p0): the boundary should stop with probability >= ``cross_p1``.
    looks : str or sequence of int
        Numbers of evaluable patients at which events are counted (:func:`sim.scenario.looks.parse_looks`).
    shape : {"pocock", "obrien-fleming"} or float
        Δ in [0, 0.5]: the nominal level at look k is Φ(Φ⁻¹(α) / t_k^Δ), t_k = n_k / n_K.
    cross_p0 : float
        The largest allowed probability of crossing at ``p0``.
    cross_p1 : float
        The probability of crossing wanted at ``p1`` (reported, not enforced).

    Returns
    -------
    MonitorDesign
        ``stop_at``, ``nominal_alpha`` and, when ``cross_p1`` is not reached, ``patients_needed``:
        the smallest maximum sample size with the same look pattern (every STEP patients, or the
        same fractions n_k / n_K) whose boundary reaches it, searched up to ``patients_searched_to``.

    Notes
    -----
    See the module docstring. toxbdry returns the largest acceptable counts r_k = stop_at - 1.

    Examples
    --------
    >>> design = toxicity_boundary(0.085, 0.30, "5:30:5")
    >>> design.stop_at, round(design.p_cross_p0, 4)
    ((3, 3, 4, 5, 5, 6), 0.0934)
    """
    looks = _looks(looks)
    p0 = _probability("p0", p0)
    p1 = _probability("p1", p1, open_high=False)
    if p1 <= p0:
        raise DesignInputError("p1", f"got {p1!r}; expected a rate above p0 = {p0!r}")
    cross_p0 = _probability("cross_p0", cross_p0)
    cross_p1 = _probability("cross_p1", cross_p1)
    if cross_p1 <= cross_p0:
        raise DesignInputError("cross_p1", f"got {cross_p1!r}; expected more than cross_p0 = {cross_p0!r}")
    shape_name, delta = parse_shape(shape)
    stop_at, alpha_low, alpha_high = _rs_boundary(looks, p0, delta, cross_p0)
    design = MonitorDesign(rule="repeated-significance", looks=looks, stop_at=stop_at, p0=p0, p1=p1,
                           shape=shape_name, delta=delta, cross_p0=cross_p0, cross_p1=cross_p1,
                           nominal_alpha=alpha_low, nominal_alpha_range=(alpha_low, alpha_high))
    if not design.meets_cross_p1:
        needed, searched = _patients_needed(looks, p0, p1, delta, cross_p0, cross_p1)
        design = replace(design, patients_needed=needed, patients_searched_to=searched)
    return design


# --- Bayesian rule ------------------------------------------------------------------------------

def posterior_table(looks: Sequence[int], prior: tuple[float, float], p0: float) -> np.ndarray:
    """post[k, x] = P(rate > p0 | x events among looks[k]) under a Beta(a, b) prior; +inf past n_k."""
    a, b = prior
    n_last = looks[-1]
    events = np.arange(n_last + 1)[None, :]
    n = np.asarray(looks, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        # P(rate > p0) = 1 - I_p0(a + x, b + n - x) = I_{1-p0}(b + n - x, a + x), without cancellation.
        table = special.betainc(np.maximum(b + n - events, 1e-300), a + events, 1.0 - p0)
    table[events > n] = np.inf
    return table


def _bayes_stop_at(table: np.ndarray, posterior: float) -> tuple[int, ...]:
    # Posterior probabilities rise with x, so the stop count is the number of x below C.
    return tuple(int(v) for v in (table < posterior - POSTERIOR_TOLERANCE).sum(axis=1))


def _short_decimal(low: float, high: float) -> float:
    """The decimal with the fewest digits in (low, high] (low + a margin, so rounding cannot tie)."""
    floor = low + 1e-10
    if floor >= high:
        return high
    for digits in range(1, 18):
        quantum = Decimal(1).scaleb(-digits)
        candidate = float(Decimal(repr(floor)).quantize(quantum, rounding=ROUND_CEILING))
        if floor <= candidate <= high:
            return candidate
    return high


def bayes_boundary(prior: tuple[float, float], p0: float, looks, *, posterior: Optional[float] = None,
                   cross_p0: Optional[float] = None, p1: Optional[float] = None) -> MonitorDesign:
    """Bayesian stopping boundary: stop when P(rate > p0 | data) >= C under a Beta(a, b) prior.

    Parameters
    ----------
    prior : (float, float)
        Beta prior parameters (a, b), both > 0 (e.g. (0.17, 1.83): mean 0.085, two patients' worth).
    p0 : float
        The acceptable event rate.
    looks : str or sequence of int
        Numbers of evaluable patients at which events are counted.
    posterior : float, optional
        C in (0, 1). Give this or ``cross_p0``.
    cross_p0 : float, optional
        Calibrate C: the smallest C whose probability of crossing at ``p0`` is <= ``cross_p0``.
    p1 : float, optional
        An unacceptable rate, only to report the crossing probability there.

    Returns
    -------
    MonitorDesign

    Notes
    -----
    Thall, Simon & Estey (1995) monitor with the same posterior probability; here it is for one
    group against a fixed P0. See the module docstring for the tie rule and the calibration.

    Examples
    --------
    >>> design = bayes_boundary((1, 1), 0.2, "5:20:5", posterior=0.9)
    >>> design.stop_at
    (2, 4, 5, 7)
    """
    looks = _looks(looks)
    try:
        a, b = (float(v) for v in prior)
    except (TypeError, ValueError):
        raise DesignInputError("prior", f"got {prior!r}; expected two numbers A,B > 0") from None
    if not all(math.isfinite(v) and v > 0 for v in (a, b)):
        raise DesignInputError("prior", f"got {prior!r}; expected Beta parameters A,B > 0")
    p0 = _probability("p0", p0)
    if p1 is not None:
        p1 = _probability("p1", p1, open_high=False)
        if p1 <= p0:
            raise DesignInputError("p1", f"got {p1!r}; expected a rate above p0 = {p0!r}")
    if (posterior is None) == (cross_p0 is None):
        raise DesignInputError("posterior", "give exactly one of posterior C or cross_p0 (to calibrate C)")
    table = posterior_table(looks, (a, b), p0)
    looks_array = np.asarray(looks, dtype=np.int64)
    posterior_range = None
    if posterior is not None:
        posterior = _probability("posterior", posterior)
        stop_at = _bayes_stop_at(table, posterior)
    else:
        cross_p0 = _probability("cross_p0", cross_p0)
        values = np.unique(table[np.isfinite(table)])
        keep = np.concatenate(([True], np.diff(values) > POSTERIOR_TOLERANCE))  # rounding twins are one value
        values = values[keep]

        def crossing(index: int) -> float:
            return _p_cross(looks_array, np.asarray(_bayes_stop_at(table, values[index]), dtype=np.int64), p0)

        limit = cross_p0 * (1.0 + _CROSS_SLACK)
        if crossing(len(values) - 1) > limit:
            raise DesignInputError("cross_p0", f"got {cross_p0!r}; every Bayesian boundary that can stop over "
                                               f"looks {format_looks(looks)} crosses more often at p0 = {p0!r}")
        low, high = -1, len(values) - 1  # crossing(high) <= limit; crossing(low) > limit (low = -1: none)
        while high - low > 1:
            middle = (low + high) // 2
            if crossing(middle) <= limit:
                high = middle
            else:
                low = middle
        below = float(values[low]) if low >= 0 else 0.0
        posterior_range = (below, float(values[high]))
        posterior = _short_decimal(*posterior_range)
        stop_at = _bayes_stop_at(table, posterior)
        if stop_at != _bayes_stop_at(table, float(values[high])):  # the decimal must give the same boundary
            posterior = float(values[high])
            stop_at = _bayes_stop_at(table, posterior)
    return MonitorDesign(rule="bayes", looks=looks, stop_at=stop_at, p0=p0, p1=p1, prior=(a, b),
                         posterior=posterior, posterior_range=posterior_range, cross_p0=cross_p0)


# --- scenario rules ------------------------------------------------------------------------------

_RS_KEYS = {"shape", "p0", "p1", "cross_p0", "cross_p1"}
_BAYES_KEYS = {"bayes", "p0", "p1", "posterior", "cross_p0"}


def resolve_rule(rule: Mapping, looks) -> tuple[int, ...]:
    """A scenario's monitoring rule as ``stop_at`` (one value per look).

    Accepted mappings: ``{shape: pocock, p0: 0.085, p1: 0.30, cross_p0: 0.10}`` (repeated
    significance; shape defaults to pocock, cross_p0 to 0.10, p1 and cross_p1 are optional and
    do not change the boundary); ``{bayes: {prior: [0.17, 1.83]}, p0: 0.085, posterior: 0.95}``
    (or ``cross_p0`` instead of ``posterior``); ``{stop_at: [...]}`` (explicit, one per look).

    Raises ``ValueError`` (a :class:`DesignInputError`) naming the bad key and value.

    Examples
    --------
    >>> resolve_rule({"stop_at": [2, 3]}, "10,20")
    (2, 3)
    """
    looks = _looks(looks)
    if not isinstance(rule, Mapping):
        raise DesignInputError("rule", f"got {rule!r}; expected a mapping with shape/p0/cross_p0, "
                                       f"bayes/p0/posterior, or stop_at")
    keys = set(rule)
    if "stop_at" in keys:
        if keys != {"stop_at"}:
            raise DesignInputError("rule", f"stop_at is given with {sorted(keys - {'stop_at'})}; "
                                           f"an explicit boundary takes no other keys")
        values = rule["stop_at"]
        if not isinstance(values, (list, tuple)):
            raise DesignInputError("stop_at", f"got {values!r}; expected a list of whole numbers, one per look")
        try:
            _, stop_array = check_boundary(looks, values)
        except ValueError as exc:
            raise DesignInputError("stop_at", str(exc).split(": ", 1)[1]) from None
        return tuple(int(v) for v in stop_array)
    if "p0" not in keys:
        raise DesignInputError("p0", "missing; the acceptable event rate is required")
    if "bayes" in keys:
        unknown = keys - _BAYES_KEYS
        if unknown:
            raise DesignInputError(sorted(unknown)[0], f"not a key of a Bayesian rule; allowed: "
                                                      f"{', '.join(sorted(_BAYES_KEYS))}")
        spec = rule["bayes"]
        if not isinstance(spec, Mapping) or set(spec) != {"prior"}:
            raise DesignInputError("bayes", f"got {spec!r}; expected {{prior: [A, B]}}")
        prior = spec["prior"]
        if not isinstance(prior, (list, tuple)) or len(prior) != 2:
            raise DesignInputError("bayes.prior", f"got {prior!r}; expected [A, B] with A, B > 0")
        try:
            design = bayes_boundary(prior, rule["p0"], looks, posterior=rule.get("posterior"),
                                    cross_p0=rule.get("cross_p0"), p1=rule.get("p1"))
        except DesignInputError as exc:
            if exc.field == "prior":
                raise DesignInputError("bayes.prior", exc.detail) from None
            raise
        return design.stop_at
    unknown = keys - _RS_KEYS
    if unknown:
        raise DesignInputError(sorted(unknown)[0], f"not a key of a repeated-significance rule; allowed: "
                                                  f"{', '.join(sorted(_RS_KEYS))} (or bayes, or stop_at)")
    shape_name, delta = parse_shape(rule.get("shape", "pocock"))
    p0 = _probability("p0", rule["p0"])
    cross_p0 = _probability("cross_p0", rule.get("cross_p0", 0.10))
    if "p1" in rule:
        p1 = _probability("p1", rule["p1"], open_high=False)
        if p1 <= p0:
            raise DesignInputError("p1", f"got {rule['p1']!r}; expected a rate above p0 = {p0!r}")
    if "cross_p1" in rule:
        cross_p1 = _probability("cross_p1", rule["cross_p1"])
        if cross_p1 <= cross_p0:
            raise DesignInputError("cross_p1", f"got {cross_p1!r}; expected more than cross_p0 = {cross_p0!r}")
    return _rs_boundary(looks, p0, delta, cross_p0)[0]

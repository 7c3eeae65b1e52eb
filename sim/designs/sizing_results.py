"""What a sizing finds: the target, the curve's points, the result with n_first and n_stable, and its files.

:func:`sim.designs.sizing.size_study` fills these; the terminal tables and figures
(:mod:`sim.report.design`, :mod:`sim.report.figures`) and the HTML report read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union


@dataclass(frozen=True)
class SizingTarget:
    """What a size must reach: ``power``, or an interval ``width`` (optionally with ``assurance``).

    With ``width`` alone the expected width must be <= width; with ``assurance`` Q the
    probability that the width is <= width must be >= Q.
    """

    power: Optional[float] = None
    width: Optional[float] = None
    assurance: Optional[float] = None
    over_priors: bool = False  # the rates have priors: the power target is an assurance target

    @property
    def metric(self) -> str:
        """The curve column the target is checked on."""
        if self.power is not None:
            return "power"
        return "p_width_le_target" if self.assurance is not None else "mean_width"

    @property
    def threshold(self) -> float:
        if self.power is not None:
            return self.power
        return self.assurance if self.assurance is not None else self.width

    def met_by(self, value: float) -> bool:
        if self.metric == "mean_width":
            return value <= self.threshold
        return value >= self.threshold

    def describe(self) -> str:
        if self.power is not None:
            return f"{'assurance' if self.over_priors else 'power'} >= {self.power:g}"
        if self.assurance is not None:
            return f"P(width <= {self.width:g}) >= {self.assurance:g}"
        return f"expected width <= {self.width:g}"

    def to_dict(self) -> dict:
        if self.power is not None:
            return {"power": self.power}
        return {"width": self.width, "assurance": self.assurance}

    @property
    def tag(self) -> str:
        """The target in file names: ``power0.8``, ``width0.3`` or ``width0.3_assurance0.9``."""
        if self.power is not None:
            return f"power{self.power:g}"
        return f"width{self.width:g}" + (f"_assurance{self.assurance:g}" if self.assurance is not None else "")


@dataclass(frozen=True)
class PowerPoint:
    """One size on a power curve.

    ``power`` is the value the target is checked on: exact when enumerated, else the Monte
    Carlo estimate (with ``power_se``). ``exact_power`` is the enumeration (``None`` where the
    model allows none); ``normal_power`` is the normal-approximation formula of a two-group
    comparison of proportions, for contrast (``None`` for other tests).
    """

    n: int
    sizes: Mapping[str, int]
    total_patients: int
    power: float
    power_se: Optional[float]
    exact_power: Optional[float]
    normal_power: Optional[float]

    def value(self, metric: str) -> float:
        return getattr(self, metric)

    def to_dict(self) -> dict:
        return {"n": self.n, "sizes": dict(self.sizes), "total_patients": self.total_patients,
                "power": self.power, "power_se": self.power_se, "exact_power": self.exact_power,
                "normal_power": self.normal_power}


@dataclass(frozen=True)
class WidthPoint:
    """One size on an interval-width curve (one group's confidence interval).

    ``mean_width`` and ``p_width_le_target`` are exact when enumerated and Monte Carlo
    estimates (with standard errors) otherwise; the ``exact_`` fields are always enumerations.
    ``normal_width`` is the Wald width 2 z sqrt(p (1 - p) / n) at the true rate, for contrast.
    """

    n: int
    sizes: Mapping[str, int]
    total_patients: int
    mean_width: float
    mean_width_se: Optional[float]
    p_width_le_target: float
    p_width_le_target_se: Optional[float]
    exact_mean_width: float
    exact_p_width_le_target: float
    normal_width: float

    def value(self, metric: str) -> float:
        return getattr(self, metric)

    def to_dict(self) -> dict:
        return {"n": self.n, "sizes": dict(self.sizes), "total_patients": self.total_patients,
                "mean_width": self.mean_width, "mean_width_se": self.mean_width_se,
                "p_width_le_target": self.p_width_le_target, "p_width_le_target_se": self.p_width_le_target_se,
                "exact_mean_width": self.exact_mean_width, "exact_p_width_le_target": self.exact_p_width_le_target,
                "normal_width": self.normal_width}


CurvePoint = Union[PowerPoint, WidthPoint]


@dataclass(frozen=True)
class SizingResult:
    """A size search over a range: the whole curve and the sizes that reach the target.

    ``n_first`` and ``n_stable`` are sizes of the reference group (``vary[0]``), ``None`` when
    the range holds none; ``sizes_first`` and ``sizes_stable`` give every group's size there.
    ``allocation`` is the kept ratio of the varied groups (their scenario sizes over their gcd).
    """

    scenario: str
    analysis: str
    kind: str
    endpoint: str
    groups: tuple[str, ...]
    true_rates: Optional[tuple[float, ...]]
    target: SizingTarget
    method: str
    trials: Optional[int]
    vary: tuple[str, ...]
    allocation: Mapping[str, int]
    size_range: tuple[int, int]
    curve: tuple[CurvePoint, ...]
    n_first: Optional[int]
    n_stable: Optional[int]
    sizes_first: Optional[Mapping[str, int]]
    sizes_stable: Optional[Mapping[str, int]]
    normal_n_first: Optional[int] = field(default=None)
    assurance: bool = False  # the groups' rates have priors: "power" is the assurance
    conservative: bool = False
    dropout: Optional[float] = None

    @property
    def reference_group(self) -> str:
        return self.vary[0]

    @property
    def recommended(self) -> Optional[str]:
        """``"n_stable"``: the size a study should plan for (``None`` if not reached in the range)."""
        return "n_stable" if self.n_stable is not None else None

    @property
    def n_recommended(self) -> Optional[int]:
        return self.n_stable

    def point(self, n: int) -> CurvePoint:
        """The curve point at reference size ``n``."""
        for candidate in self.curve:
            if candidate.n == n:
                return candidate
        raise KeyError(f"size {n} is not in the range {self.size_range[0]}:{self.size_range[1]}")

    def value_at(self, n: Optional[int]) -> Optional[float]:
        """The target metric (power, mean width or P(width <= W)) at size ``n``."""
        return None if n is None else self.point(n).value(self.target.metric)

    def checked_value(self, point: CurvePoint) -> float:
        """The number the target is checked on: the metric, or with ``conservative`` its 95% bound.

        The bound is the end of the two-sided 95% interval value ± 1.96 SE that is least
        favourable to the target: the lower end for power and P(width <= W), the upper end for
        the expected width. Exact points (no SE) are checked on their value.
        """
        return checked_value(self.target, point, self.conservative)

    def meets_target(self, point: CurvePoint) -> bool:
        """Whether the size at ``point`` reaches the target (on :meth:`checked_value`)."""
        return self.target.met_by(self.checked_value(point))

    def enrol(self, sizes: Optional[Mapping[str, int]]) -> Optional[dict[str, int]]:
        """Patients to enrol per group so that ``sizes`` remain evaluable after ``dropout``:
        ceil(n / (1 - dropout)) for each group (None without a dropout, or without sizes)."""
        if sizes is None or self.dropout is None:
            return None
        return {name: enrolment(n, self.dropout) for name, n in sizes.items()}

    @property
    def enrol_first(self) -> Optional[int]:
        """ceil(n_first / (1 - dropout)): the reference group's enrolment at n_first (None without dropout)."""
        return None if self.n_first is None or self.dropout is None else enrolment(self.n_first, self.dropout)

    @property
    def enrol_stable(self) -> Optional[int]:
        """ceil(n_stable / (1 - dropout)): the reference group's enrolment at n_stable (None without dropout)."""
        return None if self.n_stable is None or self.dropout is None else enrolment(self.n_stable, self.dropout)

    @property
    def file_stem(self) -> str:
        """``size_<analysis>_<target>`` (plus ``_conservative``, ``_dropout<D>``): output names that
        a different request does not overwrite."""
        stem = f"size_{self.analysis}_{self.target.tag}"
        if self.conservative:
            stem += "_conservative"
        if self.dropout is not None:
            stem += f"_dropout{self.dropout:g}"
        return stem

    def to_frame(self):
        """The whole curve as a pandas DataFrame (the CSV's columns; see :func:`curve_frame`)."""
        return curve_frame(self)

    def to_dict(self) -> dict:
        """The ``--json`` payload: analysis, target, n_first, n_stable, sizes_first, sizes_stable,
        conservative, dropout, enrol_first, enrol_stable, enrol_sizes_first, enrol_sizes_stable, curve."""
        return {
            "analysis": self.analysis,
            "target": self.target.to_dict(),
            "n_first": self.n_first,
            "n_stable": self.n_stable,
            "sizes_first": None if self.sizes_first is None else dict(self.sizes_first),
            "sizes_stable": None if self.sizes_stable is None else dict(self.sizes_stable),
            "assurance": self.assurance,
            "conservative": self.conservative,
            "dropout": self.dropout,
            "enrol_first": self.enrol_first,
            "enrol_stable": self.enrol_stable,
            "enrol_sizes_first": self.enrol(self.sizes_first),
            "enrol_sizes_stable": self.enrol(self.sizes_stable),
            "curve": [point.to_dict() for point in self.curve],
        }


# Two-sided 95%: the bound --conservative checks (scipy.stats.norm.isf(0.025)).
Z_95 = 1.959963984540054


def checked_value(target: SizingTarget, point: CurvePoint, conservative: bool) -> float:
    """The metric at ``point``, or with ``conservative`` its 95% bound least favourable to ``target``."""
    value = point.value(target.metric)
    se = point.value({"power": "power_se", "mean_width": "mean_width_se",
                      "p_width_le_target": "p_width_le_target_se"}[target.metric])
    if not conservative or se is None:
        return value
    return value + Z_95 * se if target.metric == "mean_width" else value - Z_95 * se


def enrolment(evaluable: int, dropout: float) -> int:
    """Patients to enrol so that ``evaluable`` remain when a share ``dropout`` drops out: ceil(n / (1 - D)).

    Computed in exact rational arithmetic from the decimal the user gave, so 27 / (1 - 0.1) is 30,
    not 31 (27 / 0.9 is 30.000000000000004 in floating point).

    Examples
    --------
    >>> enrolment(32, 0.1), enrolment(27, 0.1), enrolment(32, 0.0)
    (36, 30, 32)
    """
    from fractions import Fraction

    share = 1 - Fraction(repr(float(dropout)))
    return math.ceil(Fraction(evaluable) / share)


# --------------------------------------------------------------------------- outputs


def curve_frame(result: SizingResult):
    """The whole curve as a table, one row per size.

    Columns: ``n``, ``n_<group>`` for every group, ``total_patients``; with a dropout,
    ``enrol_<group>`` (ceil(n / (1 - D))) for every group and ``enrol_total``; then the metrics
    (``power``, ``power_se`` (empty when exact), ``exact_power``, ``normal_power`` for a
    comparison; the width columns for an estimate); with ``conservative``, the bound the target
    is checked on (``power_lower_95``, ``mean_width_upper_95`` or ``p_width_le_target_lower_95``);
    then ``meets_target``. Counts are integers and floats carry 15 significant digits
    (:func:`sim.report.frames.records_frame`).
    """
    from ..report.frames import records_frame

    bound_name = f"{result.target.metric}_{'upper' if result.target.metric == 'mean_width' else 'lower'}_95"
    rows = []
    for point in result.curve:
        data = point.to_dict()
        sizes = data.pop("sizes")
        row = {"n": data.pop("n"), **{f"n_{name}": size for name, size in sizes.items()},
               "total_patients": data.pop("total_patients")}
        enrol = result.enrol(sizes)
        if enrol is not None:
            row.update({f"enrol_{name}": size for name, size in enrol.items()})
            row["enrol_total"] = sum(enrol.values())
        row.update(data)
        if result.conservative:
            row[bound_name] = result.checked_value(point)
        row["meets_target"] = result.meets_target(point)
        rows.append(row)
    return records_frame(rows)


def write_size_outputs(directory, result: SizingResult, *, scenario_file: Optional[str] = None,
                       extra_files: Optional[Mapping[str, Callable[[Any], Any]]] = None) -> list:
    """``<stem>.csv`` (the curve) and ``<stem>.json`` (the result, the recommendation and what
    reproduces it) in ``directory``, with ``<stem>`` = :attr:`SizingResult.file_stem`
    (``size_<analysis>_<target>``), written as one unit (:func:`sim.io.write_unit`) with
    ``<stem>.json`` as its manifest. ``extra_files`` (name: ``writer(path)``, e.g. the plot of
    :func:`sim.report.figures.size_figure`) join the unit."""
    from pathlib import Path

    from .. import io

    directory = Path(directory)
    stem = result.file_stem
    curve = curve_frame(result)
    files = {f"{stem}.csv": lambda path: curve.to_csv(path, index=False), **(extra_files or {})}
    io.write_unit(directory, files, manifest=f"{stem}.json", data={
        **result.to_dict(),
        "recommended": result.recommended,
        "n_recommended": result.n_recommended,
        "normal_n_first": result.normal_n_first,
        "scenario": result.scenario,
        "scenario_file": scenario_file,
        "kind": result.kind,
        "groups": list(result.groups),
        "true_rates": None if result.true_rates is None else list(result.true_rates),
        "vary": list(result.vary),
        "range": list(result.size_range),
        "method": result.method,
        "trials": result.trials,
        "finished_at": io.utc_now(),
        "command": io.command_line(),
        "versions": io.versions(),
    })
    return [directory / f"{stem}.csv", directory / f"{stem}.json"] + [directory / name for name in extra_files or {}]

"""One analysis at one given size (``simtrial size --n N``): the power or interval widths there.

The same computation as one point of :func:`sim.designs.sizing.size_study` (exact where the
model allows it, else simulated with the scenario's seed and stream), without a search: no target
is needed, and with one the result says whether the size reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from ..scenario import Scenario
from .sizing import CurvePoint, Method, SizingTarget, enrolment, size_study


@dataclass(frozen=True)
class SizeAtResult:
    """One analysis at one given size (``simtrial size --n N``): power or widths there.

    ``point`` is the curve point (:class:`PowerPoint` or :class:`WidthPoint`); ``target`` is the
    target asked for (``None``: none, the numbers are only shown); ``width`` is the W of
    P(width <= W) for an estimate (``--target-width``, else the analysis' ``target_width``; ``None``
    when neither is given, and then that probability is not reported).
    """

    scenario: str
    analysis: str
    kind: str
    endpoint: str
    groups: tuple[str, ...]
    true_rates: Optional[tuple[float, ...]]
    method: str
    trials: Optional[int]
    vary: tuple[str, ...]
    n: int
    point: CurvePoint
    target: Optional[SizingTarget]
    width: Optional[float]
    dropout: Optional[float] = None

    @property
    def sizes(self) -> Mapping[str, int]:
        return self.point.sizes

    @property
    def meets_target(self) -> Optional[bool]:
        return None if self.target is None else self.target.met_by(self.point.value(self.target.metric))

    @property
    def enrol_sizes(self) -> Optional[dict[str, int]]:
        """ceil(n / (1 - dropout)) per group (None without a dropout)."""
        if self.dropout is None:
            return None
        return {name: enrolment(n, self.dropout) for name, n in self.sizes.items()}

    def to_dict(self) -> dict:
        point = self.point.to_dict()
        if self.kind == "estimate" and self.width is None:
            point.update(p_width_le_target=None, p_width_le_target_se=None, exact_p_width_le_target=None)
        return {"analysis": self.analysis, "n": self.n, "sizes": dict(self.sizes), "method": self.method,
                "trials": self.trials, "true_rates": None if self.true_rates is None else list(self.true_rates),
                "target": None if self.target is None else self.target.to_dict(), "width": self.width,
                "meets_target": self.meets_target, "dropout": self.dropout, "enrol_sizes": self.enrol_sizes,
                "point": point}


def size_at(
    scenario: Scenario,
    analysis_id: str,
    n: int,
    *,
    target_power: Optional[float] = None,
    target_width: Optional[float] = None,
    assurance: Optional[float] = None,
    vary: Optional[Sequence[str]] = None,
    method: Method = "auto",
    trials: Optional[int] = None,
    dropout: Optional[float] = None,
    executor=None,
) -> SizeAtResult:
    """Power (or interval widths) of one analysis at one size ``n`` of the reference group.

    The same computation as one point of :func:`size_study` (exact where the model allows it,
    else simulated with the scenario's seed and stream), with the same ``vary`` rule for the
    other groups' sizes. A target is optional: given, the result says whether ``n`` reaches it.

    Parameters
    ----------
    scenario, analysis_id, vary, method, trials, dropout
        As for :func:`size_study`.
    n : int
        The reference group's size, 1 <= n <= 500.
    target_power, target_width, assurance : float, optional
        As for :func:`size_study`, but optional. For an estimate, ``target_width`` (else the
        analysis' ``target_width``) is the W of the reported P(width <= W).

    Returns
    -------
    SizeAtResult

    Notes
    -----
    Cho et al.'s 15 against 8 design had exact power 0.118 against the historical 8.5% (two-sided
    Fisher at 0.05): ``size_at(cho, "historical_rate", 15).point.power``.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> cho = load_scenario("scenarios/cho2009_retrospective.yaml")
    >>> round(size_at(cho, "historical_rate", 15).point.exact_power, 3)
    0.118
    """
    analysis = scenario.analysis(str(analysis_id))
    if analysis.kind == "estimate":
        width = target_width if target_width is not None else analysis.target_width
    else:
        width = None
    has_target = target_power is not None or target_width is not None
    # size_study needs a target to find n_first; at a single size only the curve point is read,
    # so a stand-in target that changes no number of the point is used when none is given
    # (for an estimate without any W, P(width <= 1) is computed and then dropped).
    result = size_study(
        scenario, analysis_id,
        target_power=(target_power if target_power is not None else 0.5) if analysis.kind == "compare" else None,
        target_width=(width if width is not None else 1.0) if analysis.kind == "estimate" else None,
        assurance=assurance if has_target else None, vary=vary, size_range=(n, n), method=method,
        trials=trials, dropout=dropout, executor=executor)
    return SizeAtResult(
        scenario=result.scenario, analysis=result.analysis, kind=result.kind, endpoint=result.endpoint,
        groups=result.groups, true_rates=result.true_rates, method=result.method, trials=result.trials,
        vary=result.vary, n=n, point=result.curve[0], target=result.target if has_target else None,
        width=width, dropout=result.dropout)

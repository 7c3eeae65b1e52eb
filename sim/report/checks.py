"""Whether a Monte Carlo estimate agrees with its exact value, and whether that can be told at all.

A run flags an estimate more than 4 standard errors from its exact value
(:data:`sim.analysis.summary.AGREEMENT_SE`). That check rests on the normal approximation of
a binomial share (and, for a mean width, on the SE estimated from the trials), which fails when
few trials fall on one side: with 10 trials and an exact power of 21%, 4 SE is ±52 points, so a
Monte Carlo power of 0% "agrees". Such a check can neither pass nor fail, and is reported as
``too few trials``, not ``ok``.

Rule: a share with exact value p is checkable when p is 0 or 1 (then the estimate must equal it)
or when trials × min(p, 1 − p) >= 10 (ten expected trials on each side); a mean width is
checkable with at least 100 trials (below that its SE, itself an estimate, is too rough).
"""

from __future__ import annotations

from typing import Any, Optional

from ..analysis.summary import AGREEMENT_SE

OK = "ok"
OFF = "off"
TOO_FEW = "too few trials"
NO_EXACT = "no exact value"

MIN_EXPECTED_EACH_SIDE = 10
MIN_TRIALS_FOR_MEAN = 100


def share_checkable(exact: float, trials: int) -> bool:
    """Whether a share with exact value ``exact`` can be checked from ``trials`` trials.

    Examples
    --------
    >>> share_checkable(0.21, 10), share_checkable(0.21, 20000), share_checkable(0.0, 10)
    (False, True, True)
    """
    if exact <= 1e-12 or exact >= 1 - 1e-12:
        return True
    return trials * min(exact, 1.0 - exact) >= MIN_EXPECTED_EACH_SIDE


def _verdict(checks: list[tuple[Optional[float], bool]]) -> str:
    """From (z, checkable) pairs: off if a checkable z is beyond 4 SE, too few if any is unchecked."""
    if not checks:
        return NO_EXACT
    if any(checkable and z is not None and abs(z) > AGREEMENT_SE for z, checkable in checks):
        return OFF
    if any(not checkable for _, checkable in checks):
        return TOO_FEW
    return OK


def check_state(summary: Any) -> str:
    """``ok``, ``off``, ``too few trials`` or ``no exact value`` for one analysis summary.

    Compare summaries check ``power`` against ``exact_power``; estimates check the coverage and
    the mean width; any other kind falls back on its own ``agrees`` (or reports no exact value).
    """
    kind = getattr(summary, "kind", None)
    trials = getattr(summary, "trials", 0)
    if kind == "compare":
        if getattr(summary, "exact_power", None) is None:
            return NO_EXACT
        return _verdict([(summary.power_z, share_checkable(summary.exact_power, trials))])
    if kind == "estimate":
        return _verdict([(summary.coverage_z, share_checkable(summary.exact_coverage, trials)),
                         (summary.mean_width_z, trials >= MIN_TRIALS_FOR_MEAN)])
    agrees = getattr(summary, "agrees", None)
    if agrees is None:
        return NO_EXACT
    return OK if agrees else OFF


def run_verdict(summaries) -> str:
    """``off`` if any analysis is off, else ``too few trials`` if any check could not be made,
    else ``ok`` (``no exact value`` when no analysis has one)."""
    states = [check_state(s) for s in summaries]
    for state in (OFF, TOO_FEW, OK):
        if state in states:
            return state
    return NO_EXACT

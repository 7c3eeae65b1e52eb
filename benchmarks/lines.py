"""Report lines, the timer, and the checks that what is timed computes the right answers."""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from baselines import Answers

# A Monte Carlo answer further than this many standard errors from its reference disagrees.
AGREEMENT_SE = 4.0
PROBABILITIES = ("power", "coverage", "p_width_le_target", "p_lower_above_reference", "p_upper_below_reference")


@dataclass
class Line:
    """One line of the report: a measurement, its baseline from the same run, and their ratio.

    ``ratio`` is oriented so that the target reads ``ratio >= target`` (speed-ups, shares) or,
    where ``at_most`` is set, ``ratio <= target`` (memory growth).
    """

    section: str
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float
    target: Optional[float] = None
    at_most: bool = False
    patients_per_second: Optional[float] = None
    trials_per_second: Optional[float] = None
    baseline_trials_per_second: Optional[float] = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Optional[str]:
        if self.target is None:
            return None
        met = self.ratio <= self.target if self.at_most else self.ratio >= self.target
        return "PASS" if met else "MISS"

    @property
    def target_text(self) -> Optional[str]:
        if self.target is None:
            return None
        return f"{'<=' if self.at_most else '>='} {self.target:g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "section": self.section,
            "patients_per_second": self.patients_per_second,
            "trials_per_second": self.trials_per_second,
            "baseline": self.baseline,
            "baseline_trials_per_second": self.baseline_trials_per_second,
            "ratio": self.ratio,
            "value": self.value,
            "unit": self.unit,
            "baseline_value": self.baseline_value,
            "target": self.target_text,
            "verdict": self.verdict,
            **self.details,
        }


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes (``perf_counter``, garbage collector off) and what it returned."""
    # As timeit does: a collection triggered inside the timed call would be charged to it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        result = fn()
        return time.perf_counter() - started, result
    finally:
        if enabled:
            gc.enable()


def best_of(repeats: int, fn: Callable[[], Any]) -> float:
    """The least of ``repeats`` timings of ``fn`` (:func:`timed`), in seconds."""
    # The least, not the mean: other work on the machine only ever adds time.
    return min(timed(fn)[0] for _ in range(repeats))


def thread_text(threads: int) -> str:
    return f"{threads} thread{'s' if threads > 1 else ''}"


# --------------------------------------------------------------------------- agreement


@dataclass(frozen=True)
class Reference:
    """What an answer is checked against: an exact value, or another Monte Carlo estimate.

    ``trials`` is None for an exact value; ``sd`` is the per-trial standard deviation of a mean
    (interval width); probabilities use the binomial standard error.
    """

    value: float
    trials: Optional[int] = None
    sd: Optional[float] = None


def references(summaries) -> dict[str, dict[str, Reference]]:
    """Per analysis and quantity, the value to check answers against, from ``sim.summarise.summarise``.

    Exact values where simtrial has them (Fisher power, interval properties, the washout split);
    for the other per-trial tests the kernel's own Monte Carlo estimate, with its trial count.
    """
    out: dict[str, dict[str, Reference]] = {}
    for summary in summaries:
        if summary.kind == "estimate":
            refs = {"coverage": Reference(summary.exact_coverage),
                    "mean_width": Reference(summary.exact_mean_width, sd=summary.mean_width_se * math.sqrt(
                        summary.trials))}
            for quantity in PROBABILITIES[2:]:
                exact = getattr(summary, f"exact_{quantity}")
                if exact is not None:
                    refs[quantity] = Reference(exact)
        elif summary.exact_power is not None:
            refs = {"power": Reference(summary.exact_power)}
        else:
            refs = {"power": Reference(summary.power, trials=summary.trials)}
        out[summary.id] = refs
    return out


def z_score(value: float, trials: int, reference: Reference) -> float:
    """(value - reference) / SE, the SE combining both estimates' errors where both are Monte Carlo."""
    difference = value - reference.value
    if reference.sd is not None:
        variance = reference.sd**2 * (1.0 / trials + (1.0 / reference.trials if reference.trials else 0.0))
    elif reference.trials is None:
        variance = reference.value * (1.0 - reference.value) / trials
    else:
        pooled = (value * trials + reference.value * reference.trials) / (trials + reference.trials)
        variance = pooled * (1.0 - pooled) * (1.0 / trials + 1.0 / reference.trials)
    if variance <= 0.0:
        return 0.0 if abs(difference) <= 1e-12 else math.inf
    return difference / math.sqrt(variance)


def agreement(answers: Answers, refs: dict[str, dict[str, Reference]]) -> dict[str, Any]:
    """The largest |z| over every analysis and quantity answered; agrees when <= 4."""
    worst, where = 0.0, None
    for analysis_id, answer in answers.items():
        for quantity, reference in refs[analysis_id].items():
            if quantity in answer:
                z = abs(z_score(answer[quantity], answer["trials"], reference))
                if z >= worst:
                    worst, where = z, f"{analysis_id}.{quantity}"
    return {"max_abs_z": worst, "max_abs_z_at": where, "agrees": bool(worst <= AGREEMENT_SE)}


def against_answers(refs: dict[str, dict[str, Reference]], answers: Answers) -> dict[str, dict[str, Reference]]:
    """``refs`` with every Monte Carlo reference replaced by another method's answer.

    Where simtrial has no exact value the references are the kernel's own estimates; the kernel
    itself is then checked against a baseline's estimate instead (both errors counted).
    """
    out: dict[str, dict[str, Reference]] = {}
    for analysis_id, by_quantity in refs.items():
        out[analysis_id] = {
            quantity: reference if reference.trials is None else Reference(
                answers[analysis_id][quantity], trials=answers[analysis_id]["trials"], sd=reference.sd)
            for quantity, reference in by_quantity.items()
        }
    return out

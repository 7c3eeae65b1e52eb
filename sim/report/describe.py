"""The design in words: washouts, risk models, eligibility, analyses and the rates they imply.

Plain text, shared by the terminal tables and the HTML report, so both state the assumptions the
same way. Functions take scenario parts or result summaries and read them by attribute, so
analysis kinds and tests added later get a sensible (if plainer) description.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from .formats import pct

# Binary endpoints whose marginal rate the model gives (sim.model.marginal_rate).
RATE_ENDPOINTS = ("cardiac_event", "response", "missed_week2")

TEST_NAMES = {
    "fisher": "Fisher's exact test",
    "wilcoxon": "Wilcoxon rank-sum test",
    "logistic_lrt": "likelihood-ratio test of a logistic regression on log washout",
    "boschloo": "Boschloo's exact test",
    "z_pooled": "pooled z-test",
}
INTERVAL_NAMES = {"clopper-pearson": "Clopper–Pearson", "wilson": "Wilson", "jeffreys": "Jeffreys"}


def number(value: float) -> str:
    """A scenario parameter as written (``2``, ``0.81``, ``1.7355``)."""
    return f"{value:g}"


def describe_washout(washout, *, short: bool = False) -> str:
    """``lognormal: median 2 months, sigma 0.81 (IQR 1.16–3.45)``; ``none`` when there is none.

    ``short``: the terminal's form, ``lognormal, median 2, sigma 0.81`` (months implied).
    """
    if washout is None:
        return "none" if short else "none (risks do not depend on it)"
    if short:
        fields = {"fixed": ("value",), "uniform": ("low", "high"), "lognormal": ("median", "sigma"),
                  "gamma": ("mean", "shape")}.get(washout.distribution)
        if fields is None:
            text = describe_washout(washout).split(" (")[0]
        else:
            text = ", ".join([washout.distribution, *(f"{f} {number(getattr(washout, f))}" for f in fields)])
        return text + (f", max {number(washout.max)}" if getattr(washout, "max", None) is not None else "")
    kind = washout.distribution
    if kind == "fixed":
        text = f"fixed at {number(washout.value)} months"
    elif kind == "uniform":
        text = f"uniform {number(washout.low)}–{number(washout.high)} months"
    elif kind == "lognormal":
        spread = math.exp(0.6745 * washout.sigma)
        text = (f"lognormal: median {number(washout.median)} months, sigma {number(washout.sigma)} "
                f"(IQR {washout.median / spread:.2f}–{washout.median * spread:.2f})")
    elif kind == "gamma":
        text = f"gamma: mean {number(washout.mean)} months, shape {number(washout.shape)}"
    elif kind == "empirical":
        values = sorted(washout.values)
        middle = len(values) // 2
        median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
        text = f"empirical: {len(values)} observed washouts resampled (median {median:g} months)"
    else:  # a distribution added later
        text = kind
    if getattr(washout, "max", None) is not None:
        text += f", truncated at {number(washout.max)}"
    return text


def describe_risk(risk) -> str:
    """A risk model in words, e.g. ``80.0% at washout 0, falling to 8.5% (half-life 1.74 months)``."""
    if risk is None:
        return "—"
    model = getattr(risk, "model", "constant")
    if model == "constant":
        return f"constant {pct(risk.p)}"
    if model == "washout_decay":
        return (f"{pct(risk.p_early)} at washout 0, falling to {pct(risk.p_late)} "
                f"(half-life {risk.half_life_months:.3g} months)")
    if model == "logistic":
        return f"logit p = {number(risk.intercept)} + {number(risk.slope)} · log2(washout)"
    return str(model)


def describe_eligibility(eligibility) -> str:
    """The eligibility rule in words: the minimum washout and what happens below it (defer or exclude)."""
    minimum = eligibility.min_washout_months
    if not minimum:
        return "no minimum washout"
    if eligibility.policy == "exclude":
        return (f"washout ≥ {number(minimum)} months: patients below it are screened out and replaced "
                f"(the washout follows the distribution truncated at {number(minimum)})")
    return (f"washout ≥ {number(minimum)} months: treatment of patients below it waits until "
            f"{number(minimum)} months (washout max(w, {number(minimum)}))")


def _alternative(alternative: str, groups) -> str:
    if alternative == "two-sided":
        return "two-sided"
    groups = list(groups)
    if len(groups) == 2:
        relation = "higher" if alternative == "greater" else "lower"
        return f"one-sided ({alternative}: {groups[0]} {relation})"
    return f"one-sided ({alternative})"


def describe_analysis(analysis: Any) -> str:
    """One line: the test (or interval) with its sidedness and alpha, and what it compares.

    Works on a scenario analysis or a run summary (both carry ``test``, ``alternative``,
    ``alpha``, or ``interval`` and ``level``).

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> describe_analysis(S(kind="compare", test="fisher", alternative="two-sided", alpha=0.05,
    ...                     endpoint="cardiac_event", groups=("prior_tki", "prior_bev")))
    "Fisher's exact test, two-sided, alpha 0.05: cardiac_event, prior_tki vs prior_bev"
    """
    kind = getattr(analysis, "kind", None)
    endpoint = getattr(analysis, "endpoint", "")
    groups = tuple(getattr(analysis, "group_names", None) or getattr(analysis, "groups", ()) or ())
    if kind == "estimate":
        interval = INTERVAL_NAMES.get(analysis.interval, analysis.interval)
        return f"{interval} {analysis.level:.0%} interval for the {endpoint} rate of {', '.join(groups)}"
    test = getattr(analysis, "test", None)
    name = TEST_NAMES.get(test, str(test).replace("_", " ") if test else kind or "analysis")
    method = getattr(analysis, "method", None)
    if test == "wilcoxon" and method:
        name += f" ({method})"
    parts = [name]
    if getattr(analysis, "alternative", None):
        parts.append(_alternative(analysis.alternative, groups))
    if getattr(analysis, "alpha", None) is not None:
        parts.append(f"alpha {analysis.alpha:g}")
    by = getattr(analysis, "by", None)
    split = getattr(analysis, "split_washout_at", None)
    if by is not None:
        subject = f"{endpoint} with vs without {by}, within {' + '.join(groups)}"
    elif split is not None:
        subject = f"{endpoint}, washout < {split:g} vs ≥ {split:g} months, within {' + '.join(groups)}"
    elif test == "logistic_lrt":
        subject = f"{endpoint} on log washout, within {' + '.join(groups)}"
    else:
        subject = f"{endpoint}, {' vs '.join(groups)}"
    return ", ".join(parts) + ": " + subject


SHORT_TEST_NAMES = {"fisher": "Fisher exact", "wilcoxon": "Wilcoxon rank-sum", "logistic_lrt": "logistic LRT",
                    "boschloo": "Boschloo exact", "z_pooled": "pooled z-test"}


def describe_test(analysis: Any) -> str:
    """The test in a few words, for a table cell: ``Fisher exact, two-sided, alpha 0.05``.

    What is compared is left to the table's other columns, except what they cannot show: the
    washout split, the ``by`` endpoint, a pooled logistic regression. Estimates give the interval.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> describe_test(S(kind="compare", test="fisher", alternative="greater", alpha=0.05,
    ...                 split_washout_at=2.0))
    'Fisher exact, greater, alpha 0.05; washout < 2 vs ≥ 2 months'
    """
    kind = getattr(analysis, "kind", None)
    if kind == "estimate":
        return f"{INTERVAL_NAMES.get(analysis.interval, analysis.interval)} {analysis.level:.0%} interval"
    test = getattr(analysis, "test", None)
    parts = [SHORT_TEST_NAMES.get(test, str(test).replace("_", " ") if test else str(kind))]
    if test == "wilcoxon" and getattr(analysis, "method", None):
        parts[0] += f" ({analysis.method})"
    if getattr(analysis, "alternative", None):
        parts.append(analysis.alternative)
    if getattr(analysis, "alpha", None) is not None:
        parts.append(f"alpha {analysis.alpha:g}")
    text = ", ".join(parts)
    split = getattr(analysis, "split_washout_at", None)
    by = getattr(analysis, "by", None)
    if split is not None:
        text += f"; washout < {split:g} vs ≥ {split:g} months"
    elif by is not None:
        text += f"; {analysis.endpoint} with vs without {by}"
    elif test == "logistic_lrt":
        text += f"; {analysis.endpoint} on log washout"
    return text


@dataclass(frozen=True)
class GroupFacts:
    """A group as the report states it: size, share of the study, washout, risks and marginal rates."""

    name: str
    n: int
    share: float
    washout: str
    washout_model: Any
    risks: dict  # endpoint -> description
    rates: dict  # endpoint -> marginal rate (None: not defined)
    doses: Optional[str]


def group_facts(scenario) -> list[GroupFacts]:
    """Every group of ``scenario`` with its marginal (true) rates, computed as the runner does."""
    from ..model import marginal_rate

    total = sum(group.n for group in scenario.groups.values())
    facts = []
    for name, group in scenario.groups.items():
        risks = {"cardiac_event": describe_risk(group.cardiac_event)}
        if group.response is not None:
            risks["response"] = describe_risk(group.response)
        rates = {endpoint: marginal_rate(group, endpoint, scenario.eligibility)
                 for endpoint in RATE_ENDPOINTS if group.missing_for(endpoint) is None}
        doses = None
        if group.doses is not None:
            d = group.doses
            doses = (f"{d.courses} courses of up to {d.per_course} doses, each given with probability "
                     f"{', '.join(pct(p, 0) for p in d.p_dose_by_course())}; a cardiac event in course "
                     f"{d.event_course} stops dosing")
        facts.append(GroupFacts(name, group.n, group.n / total, describe_washout(group.washout_months),
                                group.washout_months, risks,
                                rates, doses))
    return facts


def analysed_rate_endpoints(scenario) -> list[str]:
    """The binary endpoints the scenario's analyses use, in the order of RATE_ENDPOINTS."""
    used = {analysis.endpoint for analysis in scenario.analyses} | {
        getattr(analysis, "by", None) for analysis in scenario.analyses}
    return [endpoint for endpoint in RATE_ENDPOINTS if endpoint in used]

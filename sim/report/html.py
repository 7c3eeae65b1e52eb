"""``simtrial report``: the protocol's sample-size section as one self-contained HTML page.

The page is rendered by Jinja2 from ``templates/report.html.j2``; figures are matplotlib PNGs
embedded as ``data:`` URIs, styles are inline, and nothing is fetched from the network, so the
single file can be attached to a protocol and opened anywhere.

What it holds, in order: a generated narrative (the sentence a protocol quotes), the design
(groups, allocation, washouts, risk models and the marginal rates they imply, eligibility,
analyses with their tests, sidedness and alpha), the sources quoted in the scenario file's
comments, every analysis' results (Monte Carlo beside exact, with standard errors), a sizing
curve for every analysis that enumeration can size (n_first and n_stable), monitoring operating
characteristics when the result carries them, and how to reproduce it all.

Result summaries are rendered by kind (``compare``, ``estimate``); a kind this module does not
know is shown as a table of its ``to_dict()`` fields, and summaries of kind ``monitoring`` (or a
``monitoring`` attribute on the result) fill the monitoring section (see :func:`monitoring_rows`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

from . import checks
from .describe import (
    describe_analysis,
    describe_eligibility,
    describe_test,
    group_facts,
    RATE_ENDPOINTS,
)
from .formats import mc_and_exact, pct, pp, share_se

REPORT_FILE = "report.html"
DEFAULT_TARGET_POWER = 0.8


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class SizedAnalysis:
    """A sizing curve shown in the report, with the analysis it sizes."""

    analysis: Any
    result: Any  # SizingResult


@dataclass(frozen=True)
class ReportInputs:
    """Everything the page shows: the run, the sizings, and where they came from."""

    result: Any  # RunResult
    sizings: tuple[SizedAnalysis, ...] = ()
    scenario_text: Optional[str] = None
    scenario_file: Optional[str] = None
    command: Optional[str] = None
    versions: dict = field(default_factory=dict)
    generated_at: Optional[str] = None


def sizeable(scenario, analysis) -> bool:
    """Whether the report draws a sizing curve for ``analysis``: exact enumeration exists and, for an
    estimate, the scenario gives a ``target_width``."""
    from ..designs.sizing import exact_available

    if not exact_available(scenario, analysis):
        return False
    return analysis.kind == "compare" or getattr(analysis, "target_width", None) is not None


def chosen_for_sizing(scenario, analyses: Optional[Sequence[str]] = None) -> list:
    """The analyses to size (ids or indices; default every sizeable one), each checked to be sizeable."""
    from ..errors import UsageError

    if not analyses:
        return [a for a in scenario.analyses if sizeable(scenario, a)]
    chosen = [scenario.analysis(str(a)) for a in analyses]
    for analysis in chosen:
        if not sizeable(scenario, analysis):
            raise UsageError(f"--size: analysis {analysis.analysis_id!r} has no exact enumeration (or, for an "
                             f"estimate, no target_width); size it with simtrial size --method monte-carlo")
    return chosen


def size_for_report(scenario, analyses: Optional[Sequence[str]] = None, *,
                    target_power: float = DEFAULT_TARGET_POWER, dropout: Optional[float] = None,
                    on_size: Optional[Callable[[int], None]] = None) -> tuple[SizedAnalysis, ...]:
    """Sizing curves (default range, exact) for the chosen analyses, default every sizeable one:
    comparisons to ``target_power``, estimates to their own ``target_width``."""
    from ..designs.sizing import size_study

    sized = []
    for analysis in chosen_for_sizing(scenario, analyses):
        target = ({"target_power": target_power} if analysis.kind == "compare"
                  else {"target_width": analysis.target_width})
        sized.append(SizedAnalysis(analysis, size_study(scenario, analysis.analysis_id, dropout=dropout,
                                                        on_size=on_size, **target)))
    return tuple(sized)


# --------------------------------------------------------------------------- narrative


def _sizes_phrase(sizes: dict, groups: Sequence[str]) -> str:
    values = [sizes[g] for g in groups]
    if len(set(values)) == 1 and len(groups) > 1:
        return f"{values[0]} patients per group"
    return " and ".join(f"{sizes[g]} patients in {g}" for g in groups)


def sizing_sentence(sized: SizedAnalysis, result=None) -> str:
    """The protocol sentence for one sizing, e.g. "With 32 patients per group, a two-sided Fisher
    exact test at alpha 0.05 has 80.7% power to detect ..."."""
    r, analysis = sized.result, sized.analysis
    low, high = r.size_range
    if r.n_stable is None:
        return (f"{analysis.analysis_id}: the target ({r.target.describe()}) is not reached and kept within "
                f"{low}–{high} patients.")
    point = r.point(r.n_stable)
    groups = list(analysis.group_names)
    if r.kind == "compare":
        alternative = "two-sided" if analysis.alternative == "two-sided" else f"one-sided ({analysis.alternative})"
        test = {"fisher": "Fisher exact test"}.get(analysis.test, describe_test(analysis).split(",")[0])
        rates = " against ".join(f"{pct(rate)} in {g}" for g, rate in zip(groups, r.true_rates))
        text = (f"With {_sizes_phrase(point.sizes, groups)} ({point.total_patients} in total), a {alternative} "
                f"{test} at alpha {analysis.alpha:g} has {pct(point.power)} power to detect a "
                f"{analysis.endpoint.replace('_', ' ')} rate of {rates} (exact enumeration over every outcome; "
                f"rates marginal over the assumed washout distributions).")
    else:
        interval = describe_analysis(analysis).split(" for ")[0]
        text = (f"With {point.sizes[analysis.group]} patients in {analysis.group}, the {interval} for the "
                f"{analysis.endpoint.replace('_', ' ')} rate has an expected width of {pp(point.mean_width)} "
                f"at a true rate of {pct(r.true_rates[0])} (target: {pp(r.target.width, 0)} or less).")
    if r.n_first is not None and r.n_first != r.n_stable:
        text += (f" The first size to reach the target, {r.n_first}, is not recommended: the exact "
                 f"{'power' if r.kind == 'compare' else 'width'} is a sawtooth in n and falls back below the "
                 f"target at some larger sizes; from {r.n_stable} on every size up to {high} keeps it.")
    if r.normal_n_first is not None and r.normal_n_first < r.n_stable and r.kind == "compare":
        text += (f" The usual normal-approximation formula would suggest {r.normal_n_first}, where the exact "
                 f"power is only {pct(r.value_at(r.normal_n_first))}.")
    if r.dropout is not None:
        enrol = r.enrol(r.sizes_stable)
        text += (f" Allowing for {pct(r.dropout, 0)} of patients not evaluable, enrol "
                 f"{_sizes_phrase(enrol, groups)} ({sum(enrol.values())} in total).")
    if result is not None:
        planned = next((s for s in result.summaries if s.id == analysis.analysis_id), None)
        if planned is not None and r.kind == "compare" and planned.exact_power is not None:
            text += (f" The scenario's own design ({_sizes_phrase(dict(zip(planned.groups, planned.n)), groups)}) "
                     f"has {pct(planned.exact_power)} power (Monte Carlo "
                     f"{mc_and_exact(planned.power, planned.power_se, None, minimum=2)[0]} from "
                     f"{planned.trials:,} simulated trials).")
    return text


# --------------------------------------------------------------------------- sources


_REFERENCE = re.compile(r"^\s*#\s*(\[[^\]]+\])\s+(.+)$")
_KEY = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>[A-Za-z_][\w.-]*)\s*:")
_ITEM = re.compile(r"^(?P<indent>\s*)-\s")


def _inline_comment(line: str) -> Optional[str]:
    """The comment after YAML on a line (a ``#`` outside quotes, after whitespace), if any."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and index > 0 and line[index - 1] in " \t":
            return line[index + 1:].strip()
    return None


def scenario_comments(text: Optional[str]) -> dict:
    """What the scenario file's author wrote beside the numbers.

    Returns ``preamble`` (the leading comment block, as paragraphs), ``references`` (its lines of
    the form ``# [Tag] citation``) and ``fields``: every other comment with the dotted path of the
    field it annotates (the line it stands on, or the next field line below a comment block;
    list items as ``analyses.0``).
    """
    empty = {"preamble": [], "references": [], "fields": []}
    if not text:
        return empty
    lines = text.splitlines()
    preamble: list[str] = []
    references: list[tuple[str, str]] = []
    body_start = 0
    for body_start, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("#"):
            break
        match = _REFERENCE.match(line)
        after_hash = stripped[1:]
        if match:
            references.append((match.group(1), match.group(2).strip()))
        elif references and after_hash.startswith("   ") and after_hash.strip():
            tag, cited = references[-1]  # an indented continuation of the citation above
            references[-1] = (tag, f"{cited} {after_hash.strip()}")
        else:
            preamble.append(after_hash.strip())
    else:
        body_start = len(lines)
    paragraphs, current = [], []
    for line in preamble:
        if line:
            current.append(line)
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))

    fields: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []  # (indent, key or list index) of the enclosing fields
    counters: dict[tuple, int] = {}
    pending: list[str] = []
    for line in lines[body_start:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        if not stripped:
            continue
        item, key = _ITEM.match(line), _KEY.match(line)
        indent = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path: list[str] = [part for _, part in stack]
        if item:
            parent = tuple(path)
            index = counters.get(parent, 0)
            counters[parent] = index + 1
            stack.append((indent, str(index)))
            path.append(str(index))
            if key and key.group("dash"):
                stack.append((indent + len(key.group("dash")), key.group("key")))
                path.append(key.group("key"))
        elif key:
            stack.append((indent, key.group("key")))
            path.append(key.group("key"))
        dotted = ".".join(path)
        comment = _inline_comment(line)
        texts = pending + ([comment] if comment else [])
        if texts and dotted:
            fields.append((dotted, " ".join(t for t in texts if t)))
        pending = []
    return {"preamble": paragraphs, "references": references, "fields": fields}


# --------------------------------------------------------------------------- results


def compare_rows(summaries: Iterable) -> list[dict]:
    """The power table's rows: id, test, n and true rate per group, Monte Carlo ± SE, exact, check."""
    rows = []
    for s in summaries:
        power, exact = mc_and_exact(s.power, s.power_se, s.exact_power, minimum=2)
        rows.append({
            "id": s.id, "test": describe_test(s), "groups": list(s.groups), "n": list(s.n),
            "rates": [pct(r) for r in getattr(s, "true_rates", None) or ()],
            "power": power, "exact": exact, "check": checks.check_state(s), "trials": s.trials,
            "notes": ", ".join(f"{name.replace('_', ' ')} {getattr(s, name)}" for name in
                               ("undefined_trials", "separated_trials", "not_converged_trials")
                               if getattr(s, name, 0)),
        })
    return rows


def estimate_rows(summary) -> list[tuple[str, str, str]]:
    """(quantity, Monte Carlo ± SE, exact) rows of one interval; a share's SE is sqrt(p (1 − p) / trials)."""
    s = summary
    rows = [("true rate", "", pct(s.true_rate)),
            ("mean width", *mc_and_exact(s.mean_width, s.mean_width_se, s.exact_mean_width, unit="pp")),
            ("median width", pp(s.median_width), ""),
            ("coverage", *mc_and_exact(s.coverage, s.coverage_se, s.exact_coverage))]
    shares = []
    if s.target_width is not None:
        shares.append((f"P(width ≤ {pp(s.target_width, 0)})", s.p_width_le_target, s.exact_p_width_le_target))
    if s.reference_rate is not None:
        shares.append((f"P(lower bound > {pct(s.reference_rate)})", s.p_lower_above_reference,
                       s.exact_p_lower_above_reference))
        shares.append((f"P(upper bound < {pct(s.reference_rate)})", s.p_upper_below_reference,
                       s.exact_p_upper_below_reference))
    for label, share, exact in shares:
        rows.append((label, *mc_and_exact(share, share_se(share, s.trials), exact)))
    return rows


def monitoring_rows(result) -> list[dict]:
    """Per-rule monitoring summaries, as dicts with ``id``, ``group``, ``p_stop``, ``p_stop_se``,
    ``exact_p_stop``, ``p_stop_by_look`` (list) and ``expected_n`` (any other keys are kept).

    Taken from summaries of kind ``monitoring`` and from a ``monitoring`` attribute of the result
    (objects with ``to_dict()``, or dicts), whichever the runner provides.
    """
    items = [s for s in result.summaries if getattr(s, "kind", None) == "monitoring"]
    items += list(getattr(result, "monitoring", None) or ())
    rows = []
    for item in items:
        data = item.to_dict() if hasattr(item, "to_dict") else dict(item)
        p_stop, se = data.get("p_stop"), data.get("p_stop_se")
        stop_text, exact_text = mc_and_exact(p_stop, se, data.get("exact_p_stop"), minimum=1)
        rows.append({**data, "p_stop_text": stop_text, "exact_p_stop_text": exact_text,
                     "by_look_text": [pct(v) for v in data.get("p_stop_by_look") or ()],
                     "expected_n_text": "—" if data.get("expected_n") is None else f"{data['expected_n']:.1f}"})
    return rows


def other_summaries(result) -> list[dict]:
    """Summaries of kinds this page has no layout for: their fields, as given by ``to_dict()``."""
    known = {"compare", "estimate", "monitoring"}
    out = []
    for s in result.summaries:
        if getattr(s, "kind", None) in known:
            continue
        data = s.to_dict() if hasattr(s, "to_dict") else dict(vars(s))
        out.append({"id": data.get("id", "?"), "kind": data.get("kind", "?"),
                    "fields": [(k, v) for k, v in data.items() if k not in ("id", "kind")]})
    return out


# --------------------------------------------------------------------------- figures


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figures(inputs: ReportInputs) -> dict:
    from .figures import draw_risk_figure, draw_size_figure, png_bytes

    figures = {"sizing": {}, "risk": None}
    risk = draw_risk_figure(inputs.result.scenario)
    if risk is not None:
        figures["risk"] = _data_uri(png_bytes(risk))
    for sized in inputs.sizings:
        figures["sizing"][sized.analysis.analysis_id] = _data_uri(
            png_bytes(draw_size_figure(sized.result, analysis=sized.analysis)))
    return figures


def _sizing_view(sized: SizedAnalysis) -> dict:
    from .design import _digits, metric_label

    r = sized.result
    marks = [(label, n) for label, n in (("n_first", r.n_first), ("n_stable (recommended)", r.n_stable),
                                         ("normal approximation", r.normal_n_first)) if n is not None]
    digits = _digits(r, [r.value_at(n) for _, n in marks])
    fmt = (lambda v: pp(v, digits)) if r.target.metric == "mean_width" else (lambda v: pct(v, digits))
    rows = []
    for label, n in marks:
        point = r.point(n)
        value = point.value(r.target.metric)
        if label == "normal approximation":
            normal = point.normal_power if r.kind == "compare" else point.normal_width
            value_text = f"claims {fmt(normal)}; exact {fmt(value)}"
        else:
            value_text = fmt(value)
        rows.append({"label": label, "n": n, "sizes": ", ".join(f"{g} {point.sizes[g]}" for g in r.vary),
                     "total": point.total_patients, "value": value_text,
                     "enrol": None if r.dropout is None else ", ".join(
                         f"{g} {v}" for g, v in r.enrol(point.sizes).items() if g in r.vary)})
    return {"id": sized.analysis.analysis_id, "test": describe_analysis(sized.analysis),
            "target": r.target.describe(), "metric": metric_label(r), "rows": rows,
            "range": f"{r.size_range[0]}–{r.size_range[1]}", "sentence": sizing_sentence(sized),
            "fixed": [g for g in r.groups if g not in r.vary]}


# --------------------------------------------------------------------------- rendering


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("sim.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(pct=pct, pp=pp)
    return env


def render_report(inputs: ReportInputs) -> str:
    """The page as HTML text (see the module docstring for what it holds)."""
    from .. import __version__

    result = inputs.result
    scenario = result.scenario
    facts = group_facts(scenario)
    endpoints = [e for e in RATE_ENDPOINTS if any(e in f.rates for f in facts)]
    sizings = [_sizing_view(s) for s in inputs.sizings]
    narrative = [sizing_sentence(s, result) for s in inputs.sizings[:1]]  # the primary analysis
    context = {
        "title": f"Sample size: {scenario.name}",
        "scenario": scenario,
        "version": __version__,
        "generated_at": inputs.generated_at,
        "command": inputs.command,
        "scenario_file": inputs.scenario_file,
        "scenario_text": inputs.scenario_text,
        "versions": inputs.versions,
        "trials": result.trials,
        "seed": result.seed,
        "narrative": narrative,
        "groups": facts,
        "endpoints": endpoints,
        "eligibility": describe_eligibility(scenario.eligibility),
        "analyses": [{"id": a.analysis_id, "kind": a.kind, "what": describe_analysis(a),
                      "sized": any(s.analysis.analysis_id == a.analysis_id for s in inputs.sizings)}
                     for a in scenario.analyses],
        "comments": scenario_comments(inputs.scenario_text),
        "compare_rows": compare_rows(s for s in result.summaries if s.kind == "compare"),
        "estimates": [{"id": s.id, "what": describe_analysis(s), "n": s.n, "trials": s.trials,
                       "check": checks.check_state(s), "rows": estimate_rows(s)}
                      for s in result.summaries if s.kind == "estimate"],
        "monitoring": monitoring_rows(result),
        "others": other_summaries(result),
        "verdict": checks.run_verdict(result.summaries),
        "sizings": sizings,
        "figures": _figures(inputs),
        "min_expected": checks.MIN_EXPECTED_EACH_SIDE,
    }
    return _environment().get_template("report.html.j2").render(**context)


def write_report(
    scenario,
    *,
    out: Any = "results",
    scenario_file: Optional[str] = None,
    size: Optional[Sequence[str]] = None,
    target_power: float = DEFAULT_TARGET_POWER,
    dropout: Optional[float] = None,
    executor=None,
    on_chunk: Optional[Callable[[int], None]] = None,
    on_compile: Optional[Callable[[], None]] = None,
    on_size: Optional[Callable[[int], None]] = None,
) -> Path:
    """Run ``scenario``, size its analyses and write ``out/<name>/report.html`` atomically.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (its ``trials`` and ``seed`` are used as given).
    out : path
        The results folder; the page goes to ``out/<scenario name>/report.html``.
    scenario_file : str, optional
        The YAML file the scenario came from: its comments (sources) and text go into the page.
    size : sequence of str, optional
        Analyses (ids or indices) to draw sizing curves for; default every analysis that exact
        enumeration can size (comparisons to ``target_power``, estimates to their ``target_width``).
    target_power : float
        The power comparisons are sized to (default 0.8).
    dropout : float, optional
        Share of patients not evaluable: the page also gives the numbers to enrol.
    executor, on_chunk, on_size
        Where the run's chunks go, and progress callbacks (trials done, sizes done).

    Returns
    -------
    Path
        The written page.

    Examples
    --------
    >>> import sim
    >>> path = sim.write_report(sim.load_scenario("scenarios/cho2009_retrospective.yaml"),  # doctest: +SKIP
    ...                         scenario_file="scenarios/cho2009_retrospective.yaml")
    """
    from .. import io
    from ..runner import run_scenario

    chosen_for_sizing(scenario, size)  # a bad --size is refused before the run
    result = run_scenario(scenario, executor=executor, on_chunk=on_chunk, on_compile=on_compile)
    sizings = size_for_report(scenario, size, target_power=target_power, dropout=dropout, on_size=on_size)
    text = None
    if scenario_file is not None:
        try:
            text = Path(scenario_file).read_text(encoding="utf-8")
        except OSError:
            text = None
    inputs = ReportInputs(result=result, sizings=sizings, scenario_text=text, scenario_file=scenario_file,
                          command=io.command_line(), versions=io.versions(), generated_at=io.utc_now())
    path = Path(out) / scenario.name / REPORT_FILE
    io.write_text_atomic(path, render_report(inputs))
    return path

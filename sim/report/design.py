"""Rendering of sizing and sweeps for people: rich tables and progress.

A sizing prints, in order: what is sized (the analysis, its test, sidedness and alpha, the
target and method), the design (group sizes in the scenario, which grow and which stay fixed,
true rates), the answer (n_first, n_stable, the normal approximation) and a contiguous stretch of
the curve around them. Values beside a target carry enough digits not to round onto it.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional

from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..designs.single_size import SizeAtResult
from ..designs.sizing import SizingResult
from .describe import describe_analysis
from .formats import DASH, decimals_at_target, pct, pp, se_decimals
from .terminal import LOG_EVERY_SECONDS, LogProgress, design_table

# Rows of the curve shown on each side of the interesting sizes (the whole curve is in the CSV).
_CONTEXT_ROWS = 2
# A contiguous stretch longer than this is shown as windows around each size instead.
_MAX_CURVE_ROWS = 25


def metric_label(result) -> str:
    """The target metric in words: power, expected width, or P(width <= W)."""
    if result.target.metric == "power":
        return "assurance" if getattr(result, "assurance", False) else "power"
    if result.target.metric == "mean_width":
        return "expected width"
    return f"P(width ≤ {pp(result.target.width, 0)})"


def _metric_text(result, value: Optional[float], digits: int = 1) -> str:
    if value is None:
        return DASH
    return pp(value, digits) if result.target.metric == "mean_width" else pct(value, digits)


def normal_values(result: SizingResult) -> Optional[list]:
    """The normal approximation along the curve, or None where there is none to show."""
    if result.target.assurance is not None:
        return None  # it approximates the expected width, not P(width <= W)
    name = "normal_power" if result.kind == "compare" else "normal_width"
    values = [getattr(point, name) for point in result.curve]
    return None if all(value is None for value in values) else values


def exact_column(result: SizingResult) -> str:
    """The curve field holding the exact value of the target metric."""
    return {"power": "exact_power", "mean_width": "exact_mean_width",
            "p_width_le_target": "exact_p_width_le_target"}[result.target.metric]


def se_column(result: SizingResult) -> str:
    """The curve field holding the Monte Carlo SE of the target metric."""
    return {"power": "power_se", "mean_width": "mean_width_se",
            "p_width_le_target": "p_width_le_target_se"}[result.target.metric]


def _sizes_text(sizes, names) -> str:
    return ", ".join(str(sizes[name]) for name in names)


def ratio_text(result) -> str:
    """How the varied groups follow the reference group, e.g. ``prior_tki (prior_bev at 1:1, rounded up)``."""
    others = [name for name in result.vary if name != result.vary[0]]
    if not others:
        return f"{result.vary[0]} (other groups fixed)"
    ratio = ":".join(str(result.allocation[name]) for name in result.vary)
    return f"{result.vary[0]} ({', '.join(others)} at {ratio}, rounded up)"


def _method_text(result) -> str:
    return "exact enumeration" if result.method == "exact" else f"Monte Carlo, {result.trials:,} trials per size"


def size_heading(result, scenario) -> Text:
    """What is sized: analysis, test (sidedness, alpha), target, method and which groups grow."""
    analysis = scenario.analysis(result.analysis)
    text = Text(f"{result.scenario}: size for {result.analysis}", style="bold")
    text.append(f"\n{describe_analysis(analysis)}")
    target = result.target.describe() if getattr(result, "target", None) is not None else "none (power at one size)"
    text.append(f"\ntarget: {target}" + (" (lower 95% bound, --conservative)"
                                         if getattr(result, "conservative", False) else "")
                + f"; {_method_text(result)}")
    fixed = [name for name in scenario.groups if name not in result.vary]
    grows = " and ".join(result.vary)
    text.append(f"\n{grows} {'grow together' if len(result.vary) > 1 else 'grows'}"
                + (f" at {':'.join(str(result.allocation[name]) for name in result.vary)}"
                   if len(result.vary) > 1 and hasattr(result, "allocation") else "")
                + (f"; {', '.join(fixed)} fixed" if fixed else ""))
    return text


def _fixed_caption(result, sizes) -> str:
    fixed = [name for name in sizes if name not in result.vary]
    if not fixed:
        return "total: patients in all groups of the study"
    return ("total: patients in all groups, including " +
            ", ".join(f"{name} ({sizes[name]}, fixed)" for name in fixed) + ", not shown")


def _digits(result, values) -> int:
    digits = decimals_at_target([v for v in values if v is not None], result.target.threshold)
    if result.method == "monte-carlo":
        ses = [point.value(se_column(result)) for point in result.curve]
        digits = max(digits, min(se_decimals(100 * se, 1) for se in ses if se) if any(ses) else digits)
    return digits


def _shown_sizes(result: SizingResult) -> list[Optional[int]]:
    """A contiguous stretch from 2 below the smallest interesting size to 2 above the largest
    (None marks a gap when they lie too far apart: then a window around each)."""
    ns = [point.n for point in result.curve]
    marks = sorted({n for n in (result.n_first, result.n_stable, result.normal_n_first) if n is not None})
    if not marks:
        return ns[-2 * _CONTEXT_ROWS - 1:]
    low, high = marks[0] - _CONTEXT_ROWS, marks[-1] + _CONTEXT_ROWS
    if high - low + 1 <= _MAX_CURVE_ROWS:
        return [n for n in ns if low <= n <= high]
    shown: list[Optional[int]] = []
    for n in ns:
        if any(abs(n - mark) <= _CONTEXT_ROWS for mark in marks):
            if shown and shown[-1] is not None and n != shown[-1] + 1:
                shown.append(None)
            shown.append(n)
    return shown


def size_tables(result: SizingResult, scenario) -> list:
    """The heading and design of ``scenario``, the answer, and a contiguous stretch of the curve."""
    metric_name = metric_label(result)
    renderables: list = [
        size_heading(result, scenario),
        design_table(scenario, title="design (sizes as in the scenario)",
                     fixed=tuple(n for n in scenario.groups if n not in result.vary),
                     endpoints=[result.endpoint] if result.true_rates else []),
    ]
    normals = normal_values(result)
    shown = _shown_sizes(result)
    answer_ns = [n for n in (result.n_first, result.n_stable, result.normal_n_first) if n is not None]
    digits = _digits(result, [result.value_at(n) for n in answer_ns] +
                     [result.value_at(n) for n in shown if n is not None] +
                     ([normals[result.curve.index(result.point(n))] for n in shown if n is not None]
                      if normals else []))
    bound_label = "upper 95%" if result.target.metric == "mean_width" else "lower 95%"
    enrol_label = f"enrol ({pct(result.dropout, 0)} dropout)" if result.dropout is not None else None

    sample_sizes = result.point(answer_ns[0]).sizes if answer_ns else result.curve[0].sizes
    several = len(result.vary) > 1
    order = f"group sizes and enrolment in the order {', '.join(result.vary)}. " if several else ""
    answer = Table(title="the answer", title_justify="left", box=box.SIMPLE_HEAVY, caption_justify="left",
                   caption="n_first: the first size reaching the target; n_stable: every size from here to the "
                           f"end of the range reaches it. {order}{_fixed_caption(result, sample_sizes)}")
    columns = ["", "n", *(["group sizes"] if several else []), "total", metric_name]
    if result.conservative:
        columns.append(bound_label)
    if enrol_label:
        columns.append(enrol_label)
    for column in columns:
        answer.add_column(column, justify="left" if column in ("", "group sizes") else "right")
    for label, n in (("n_first", result.n_first), ("n_stable (recommended)", result.n_stable)):
        if n is None:
            low, high = result.size_range
            answer.add_row(label, f"not reached in {low}–{high}", *[DASH] * (len(columns) - 2))
            continue
        point = result.point(n)
        value = _metric_text(result, point.value(result.target.metric), digits)
        se = point.value(se_column(result))
        if se is not None:
            value += f"\n± {_metric_text(result, se, digits)}"
        cells = [label, str(n), *([_sizes_text(point.sizes, result.vary)] if several else []),
                 str(point.total_patients), value]
        if result.conservative:
            cells.append(_metric_text(result, result.checked_value(point), digits))
        if enrol_label:
            enrol = result.enrol(point.sizes)
            cells.append(_sizes_text(enrol, result.vary) + f"\n(total {sum(enrol.values())})")
        answer.add_row(*cells)
    if normals is not None:
        label = "normal approx. (z-test)" if result.kind == "compare" else "normal approx. (Wald)"
        n = result.normal_n_first
        if n is None:
            answer.add_row(label, "not reached in the range", *[DASH] * (len(columns) - 2))
        else:
            point = result.point(n)
            claimed = normals[result.curve.index(point)]
            cells = [label, str(n), *([_sizes_text(point.sizes, result.vary)] if several else []),
                     str(point.total_patients), f"claims {_metric_text(result, claimed, digits)};\n"
                     f"{'exact' if result.method == 'exact' else 'simulated'} "
                     f"{_metric_text(result, point.value(result.target.metric), digits)}"]
            cells += [""] * (len(columns) - len(cells))
            answer.add_row(*cells)
    renderables.append(answer)
    renderables.append(_curve_table(result, shown, digits, normals, bound_label))
    return renderables


def _curve_table(result: SizingResult, shown, digits: int, normals, bound_label: str) -> Table:
    metric_name = metric_label(result)
    has_se = result.method == "monte-carlo"
    others = [name for name in result.vary[1:]]
    curve = Table(title="curve, no gaps (all sizes in the CSV)",
                  title_justify="left", box=box.SIMPLE)
    columns = ["n", *others, metric_name] + (["± SE", "exact"] if has_se else []) + \
        ([bound_label] if result.conservative else []) + (["normal approx."] if normals is not None else []) + \
        (["enrol"] if result.dropout is not None else []) + ["target met"]
    for column in columns:
        curve.add_column(column, justify="right")
    for n in shown:
        if n is None:
            curve.add_row("⋮", *[""] * (len(columns) - 1))
            continue
        point = result.point(n)
        cells = [str(n), *[str(point.sizes[name]) for name in others],
                 _metric_text(result, point.value(result.target.metric), digits)]
        if has_se:
            cells += [_metric_text(result, point.value(se_column(result)), digits),
                      _metric_text(result, point.value(exact_column(result)), digits)]
        if result.conservative:
            cells.append(_metric_text(result, result.checked_value(point), digits))
        if normals is not None:
            cells.append(_metric_text(result, normals[result.curve.index(point)], digits))
        if result.dropout is not None:
            cells.append(", ".join(str(v) for v in result.enrol({k: point.sizes[k] for k in result.vary}).values()))
        cells.append("[green]yes[/green]" if result.meets_target(point) else "[red]no[/red]")
        curve.add_row(*cells)
    return curve


def recommendation(result: SizingResult) -> str:
    """One paragraph: the size to plan for, and why n_stable rather than n_first."""
    low, high = result.size_range
    if result.n_stable is None:
        if result.n_first is None:
            return (f"[red]the target ({result.target.describe()}) is not reached anywhere in {low}–{high}[/red]; "
                    f"widen --range")
        return (f"[yellow]the target is reached at {result.n_first} but not held up to {high}[/yellow]; "
                f"widen --range to find a stable size")
    sizes = ", ".join(f"{name} {n}" for name, n in result.sizes_stable.items() if name in result.vary)
    text = (f"[bold]recommended: n_stable = {result.n_stable}[/bold] ({sizes}; "
            f"{result.point(result.n_stable).total_patients} patients in the study). ")
    if result.dropout is not None:
        enrol = result.enrol(result.sizes_stable)
        text += (f"With {pct(result.dropout, 0)} dropout, enrol ceil(n / (1 − {result.dropout:g})): "
                 + ", ".join(f"{name} {enrol[name]}" for name in result.vary)
                 + f" ({sum(enrol.values())} in the study). ")
    if result.n_first == result.n_stable:
        text += f"Here n_first = n_stable: every size from {result.n_stable} to {high} reaches the target. "
    else:
        why = ("exact tests and intervals are discrete, so their power and widths are a sawtooth in n"
               if result.method == "exact" else "the simulated curve is not monotone in n")
        text += (f"n_first = {result.n_first} reaches the target, but some larger sizes fall below it again "
                 f"({why}): a study that ends a few patients above n_first could miss the target. ")
    text += "The table recommends n_stable because it keeps the target for every larger size in the range."
    if normal_values(result) is not None and result.normal_n_first is not None and \
            result.normal_n_first < result.n_stable:
        digits = _digits(result, [result.value_at(result.normal_n_first)])
        text += (f" The normal approximation would claim {result.normal_n_first}, which falls short "
                 f"({_metric_text(result, result.value_at(result.normal_n_first), digits)} "
                 f"{'exactly' if result.method == 'exact' else 'simulated'}).")
    return text


def size_at_tables(result: SizeAtResult, scenario) -> list:
    """``simtrial size --n N``: the design and the power (or widths) at that one size."""
    heading = Text(f"{result.scenario}: {result.analysis} at n = {result.n}", style="bold")
    heading.append(f"\n{describe_analysis(scenario.analysis(result.analysis))}")
    heading.append(f"\n{_method_text(result)}")
    fixed = tuple(name for name in scenario.groups if name not in result.vary)
    table = Table(box=box.SIMPLE_HEAVY, caption_justify="left",
                  caption=("Monte Carlo ± SE beside the exact value" if result.method == "monte-carlo"
                           else "exact: enumeration over every outcome") +
                          "; normal approximation for contrast")
    table.add_column("quantity")
    table.add_column("value")
    point = result.point
    sizes = ", ".join(f"{name} {n}" + (" (fixed)" if name in fixed else "") for name, n in point.sizes.items())
    table.add_row("group sizes", sizes)
    table.add_row("total", str(point.total_patients))
    if result.true_rates:
        table.add_row("true rates", ", ".join(f"{g} {pct(r)}" for g, r in zip(result.groups, result.true_rates)))

    def value(name: str, se_name: Optional[str], exact_name: Optional[str], percent: bool) -> str:
        fmt = pct if percent else pp
        v, se = getattr(point, name), getattr(point, se_name) if se_name else None
        digits = 2 if se is None else se_decimals(100 * se, 1)
        if result.target is not None and result.target.metric == name:
            digits = max(digits, decimals_at_target([v], result.target.threshold, minimum=digits))
        text = fmt(v, digits) + ("" if se is None else f" ± {fmt(se, digits)}")
        exact = getattr(point, exact_name) if exact_name else None
        if se is not None and exact is not None:
            text += f" (exact {fmt(exact, digits)})"
        return text

    if result.kind == "compare":
        table.add_row("power", value("power", "power_se", "exact_power", True))
        if point.normal_power is not None:
            table.add_row("normal approx. (z-test)", pct(point.normal_power, 2))
    else:
        table.add_row("expected width", value("mean_width", "mean_width_se", "exact_mean_width", False))
        if result.width is not None:
            table.add_row(f"P(width ≤ {pp(result.width, 0)})",
                          value("p_width_le_target", "p_width_le_target_se", "exact_p_width_le_target", True))
        table.add_row("normal approx. (Wald width)", pp(point.normal_width, 2))
    if result.enrol_sizes is not None:
        table.add_row(f"enrol ({pct(result.dropout, 0)} dropout)",
                      ", ".join(f"{name} {n}" for name, n in result.enrol_sizes.items()))
    if result.target is not None:
        table.add_row(f"target {result.target.describe()}",
                      "[green]met[/green]" if result.meets_target else "[red]not met[/red]")
    design = design_table(scenario, title="design (sizes as in the scenario)", fixed=fixed,
                          endpoints=[result.endpoint] if result.true_rates else [])
    return [heading, design, table]


# --------------------------------------------------------------------------- sweeps


@contextlib.contextmanager
def point_progress(console: Console, total: int, description: str, enabled: bool = True, *,
                   log_every: float = LOG_EVERY_SECONDS) -> Iterator[Callable[[str], None]]:
    """Points done (the callback takes the point's status): a bar on a terminal, a labelled line every
    ``log_every`` seconds in a batch log."""
    if not enabled:
        yield lambda status: None
        return
    if not console.is_terminal:
        log = LogProgress(console, total, description, unit="points", every=log_every)
        yield lambda status: log.advance(1, failed=int(status == "failed"))
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[failed]} failed"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total, failed=0)

        def advance(status: str) -> None:
            if status == "failed":
                progress.update(task, failed=progress.tasks[task].fields["failed"] + 1)
            progress.advance(task, 1)

        yield advance


def sweep_summary_table(result, backend_description: str) -> Table:
    """Counts of a finished sweep: points computed, reused, failed; time and throughput."""
    table = Table(title=f"sweep on {backend_description}", box=box.SIMPLE_HEAVY, title_justify="left")
    for column in ("points", "computed now", "reused (--resume)", "failed", "time", "points / minute"):
        table.add_column(column, justify="right")
    minutes = result.elapsed_seconds / 60.0
    rate = f"{len(result.computed) / minutes:.1f}" if result.computed and minutes > 0 else "—"
    failed = f"[red]{len(result.failures)}[/red]" if result.failures else "0"
    table.add_row(str(len(result.points)), str(len(result.computed)), str(len(result.skipped)), failed,
                  f"{result.elapsed_seconds:.1f} s", rate)
    return table

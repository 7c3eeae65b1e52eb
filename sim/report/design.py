"""Rendering of sizing and sweeps for people: rich tables, progress, and the sizing plot."""

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

from ..designs.sizing import SizingResult

# Rows of the curve shown around the interesting sizes (the whole curve is in the CSV).
_CONTEXT_ROWS = 2


def _pct(value: Optional[float], digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _metric_text(result: SizingResult, value: Optional[float]) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if result.target.metric == "mean_width" else _pct(value, 1)


def metric_label(result: SizingResult) -> str:
    """The target metric in words: power, expected width, or P(width <= W)."""
    if result.target.metric == "power":
        return "power"
    if result.target.metric == "mean_width":
        return "expected width"
    return f"P(width ≤ {result.target.width:g})"


def normal_values(result: SizingResult) -> Optional[list]:
    """The normal approximation along the curve, or None where there is none to show."""
    if result.target.assurance is not None:
        return None  # it approximates the expected width, not P(width <= W)
    name = "normal_power" if result.kind == "compare" else "normal_width"
    values = [getattr(point, name) for point in result.curve]
    return None if all(value is None for value in values) else values


def exact_column(result: SizingResult) -> str:
    return {"power": "exact_power", "mean_width": "exact_mean_width",
            "p_width_le_target": "exact_p_width_le_target"}[result.target.metric]


def se_column(result: SizingResult) -> str:
    return {"power": "power_se", "mean_width": "mean_width_se",
            "p_width_le_target": "p_width_le_target_se"}[result.target.metric]


def _se_text(result: SizingResult, se: float) -> str:
    return f"{se:.4f}" if result.target.metric == "mean_width" else _pct(se, 2)


def _sizes_text(sizes) -> str:
    return ", ".join(f"{name} {n}" for name, n in sizes.items())


def _varied_sizes(result: SizingResult, sizes) -> dict:
    return {name: sizes[name] for name in result.vary}


def ratio_text(result: SizingResult) -> str:
    """How the varied groups follow the reference group, e.g. ``prior_tki (prior_bev 1:1)``."""
    others = [name for name in result.vary if name != result.reference_group]
    if not others:
        return f"{result.reference_group} (other groups fixed)"
    ratio = ":".join(str(result.allocation[name]) for name in result.vary)
    return f"{result.reference_group} ({', '.join(others)} at {ratio}, rounded up)"


def size_tables(result: SizingResult) -> list[Table]:
    """The answer (first, stable, normal approximation) and the curve around it."""
    metric_name = metric_label(result)
    method = "exact enumeration" if result.method == "exact" else f"Monte Carlo, {result.trials:,} trials per size"
    answer = Table(title=f"{result.scenario}: size for {result.analysis} — {result.target.describe()} ({method})",
                   box=box.SIMPLE_HEAVY)
    for column in ("", "n", "group sizes", "total", metric_name):
        answer.add_column(column, justify="left" if column in ("", "group sizes") else "right")
    rows = [("n_first: first size reaching it", result.n_first),
            ("n_stable: reaching it from here on (recommended)", result.n_stable)]
    for label, n in rows:
        if n is None:
            low, high = result.size_range
            answer.add_row(label, "—", f"not reached in {low}–{high}", "—", "—")
            continue
        point = result.point(n)
        value = point.value(result.target.metric)
        se = point.value(se_column(result))
        extra = "" if se is None else f" ± {_se_text(result, se)}"
        answer.add_row(label, str(n), _sizes_text(_varied_sizes(result, point.sizes)), str(point.total_patients),
                       _metric_text(result, value) + extra)
    normals = normal_values(result)
    if normals is not None:
        label = "normal approximation (z-test)" if result.kind == "compare" else "normal approximation (Wald)"
        n = result.normal_n_first
        if n is None:
            answer.add_row(label, "—", "not reached in the range", "—", "—")
        else:
            point = result.point(n)
            normal_value = normals[result.curve.index(point)]
            answer.add_row(label, str(n), _sizes_text(_varied_sizes(result, point.sizes)), str(point.total_patients),
                           f"claims {_metric_text(result, normal_value)}; "
                           f"{'exact' if result.method == 'exact' else 'simulated'} "
                           f"{_metric_text(result, point.value(result.target.metric))}")

    curve = Table(title="the curve around those sizes (all sizes in the CSV)", box=box.SIMPLE)
    has_se = result.method == "monte-carlo"
    columns = ["n", "group sizes", metric_name] + (["± SE", "exact"] if has_se else []) + \
        (["normal approx."] if normals is not None else []) + ["target met"]
    for column in columns:
        curve.add_column(column, justify="left" if column == "group sizes" else "right")
    marks = {n for n in (result.n_first, result.n_stable, result.normal_n_first) if n is not None}
    shown = sorted({p.n for p in result.curve for m in marks if abs(p.n - m) <= _CONTEXT_ROWS}) or \
        [p.n for p in result.curve[-2 * _CONTEXT_ROWS - 1:]]
    for n in shown:
        point = result.point(n)
        value = point.value(result.target.metric)
        cells = [str(n), _sizes_text(_varied_sizes(result, point.sizes)), _metric_text(result, value)]
        if has_se:
            se = point.value(se_column(result))
            cells += [_se_text(result, se), _metric_text(result, point.value(exact_column(result)))]
        if normals is not None:
            cells.append(_metric_text(result, normals[result.curve.index(point)]))
        cells.append("[green]yes[/green]" if result.target.met_by(value) else "[red]no[/red]")
        curve.add_row(*cells)
    return [answer, curve]


def recommendation(result: SizingResult) -> str:
    """One paragraph: the size to plan for, and why n_stable rather than n_first."""
    low, high = result.size_range
    if result.n_stable is None:
        if result.n_first is None:
            return (f"[red]the target ({result.target.describe()}) is not reached anywhere in {low}–{high}[/red]; "
                    f"widen --range")
        return (f"[yellow]the target is reached at {result.n_first} but not held up to {high}[/yellow]; "
                f"widen --range to find a stable size")
    sizes = _sizes_text(_varied_sizes(result, result.sizes_stable))
    text = (f"[bold]recommended: n_stable = {result.n_stable}[/bold] ({sizes}; "
            f"{result.point(result.n_stable).total_patients} patients in the study). ")
    if result.n_first == result.n_stable:
        text += (f"Here n_first = n_stable: every size from {result.n_stable} to {high} reaches the target. ")
    else:
        why = ("exact tests and intervals are discrete, so their power and widths are a sawtooth in n"
               if result.method == "exact" else "the simulated curve is not monotone in n")
        text += (f"n_first = {result.n_first} reaches the target, but some larger sizes fall below it again "
                 f"({why}): a study that ends a few patients above n_first could miss the target. ")
    text += "The table recommends n_stable because it keeps the target for every larger size in the range."
    if normal_values(result) is not None and result.normal_n_first is not None and \
            result.normal_n_first < result.n_stable:
        text += (f" The normal approximation would claim {result.normal_n_first}, which falls short "
                 f"({_metric_text(result, result.value_at(result.normal_n_first))} "
                 f"{'exactly' if result.method == 'exact' else 'simulated'}).")
    return text


@contextlib.contextmanager
def point_progress(console: Console, total: int, description: str,
                   enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """A progress bar of points done; the callback takes the point's status."""
    if not enabled:
        yield lambda status: None
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
    table = Table(title=f"sweep on {backend_description}", box=box.SIMPLE_HEAVY)
    for column in ("points", "computed now", "reused (--resume)", "failed", "time", "points / minute"):
        table.add_column(column, justify="right")
    minutes = result.elapsed_seconds / 60.0
    rate = f"{len(result.computed) / minutes:.1f}" if result.computed and minutes > 0 else "—"
    failed = f"[red]{len(result.failures)}[/red]" if result.failures else "0"
    table.add_row(str(len(result.points)), str(len(result.computed)), str(len(result.skipped)), failed,
                  f"{result.elapsed_seconds:.1f} s", rate)
    return table

"""Rendering for people: rich tables and progress on the terminal."""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator, Optional

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .analysis.summary import AGREEMENT_SE


def _pct(value: Optional[float], digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _num(value: Optional[float], digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _check(agrees: bool) -> str:
    return "[green]ok[/green]" if agrees else f"[red]off by > {AGREEMENT_SE:g} SE[/red]"


def run_tables(result) -> list[Table]:
    """One table for comparisons, one for estimates, each with exact values beside Monte Carlo."""
    compares = [s for s in result.summaries if s.kind == "compare"]
    estimates = [s for s in result.summaries if s.kind == "estimate"]
    tables = []
    if compares:
        table = Table(title=f"{result.scenario.name}: power ({result.trials:,} trials, seed {result.seed})",
                      box=box.SIMPLE_HEAVY)
        for column in ("analysis", "test", "n", "true rates", "power", "± SE", "exact power", "MC vs exact"):
            table.add_column(column, justify="left" if column in ("analysis", "test") else "right")
        for s in compares:
            table.add_row(s.id, f"Fisher {s.alternative}, α={s.alpha:g}", " vs ".join(map(str, s.n)),
                          " vs ".join(_pct(r) for r in s.true_rates), _pct(s.power, 2), _pct(s.power_se, 2),
                          _pct(s.exact_power, 2), _check(s.agrees))
        tables.append(table)
    if estimates:
        table = Table(title=f"{result.scenario.name}: confidence intervals", box=box.SIMPLE_HEAVY)
        for column in ("analysis", "interval", "n", "true rate", "mean width", "exact", "median width",
                       "coverage", "exact", "P(width≤target)", "P(low>ref)", "P(high<ref)", "MC vs exact"):
            table.add_column(column, justify="left" if column in ("analysis", "interval") else "right")
        for s in estimates:
            table.add_row(s.id, f"{s.interval} {s.level:.0%}", str(s.n), _pct(s.true_rate), _num(s.mean_width),
                          _num(s.exact_mean_width), _num(s.median_width), _pct(s.coverage), _pct(s.exact_coverage),
                          _pct(s.p_width_le_target), _pct(s.p_lower_above_reference),
                          _pct(s.p_upper_below_reference), _check(s.agrees))
        tables.append(table)
    return tables


def analyze_tables(report: dict) -> list[Table]:
    level = report["level"]
    intervals = Table(title=f"Observed proportions, {level:.0%} confidence intervals", box=box.SIMPLE_HEAVY)
    methods = list(report["groups"][0]["intervals"]) if report["groups"] else []
    for column in ["group", "x/n", "rate", *methods]:
        intervals.add_column(column, justify="left" if column == "group" else "right")
    for group in report["groups"]:
        cells = [f"{100 * lo:.1f}–{100 * hi:.1f}%" for lo, hi in group["intervals"].values()]
        intervals.add_row(group["name"], f"{group['x']}/{group['n']}", _pct(group["x"] / group["n"]), *cells)
    tables = [intervals]
    if report["comparisons"]:
        tests = Table(title="Fisher's exact test (R fisher.test definition)", box=box.SIMPLE_HEAVY)
        for column in ("groups", "two-sided p", "less p", "greater p"):
            tests.add_column(column, justify="left" if column == "groups" else "right")
        for comparison in report["comparisons"]:
            p = comparison["p_values"]
            tests.add_row(" vs ".join(comparison["groups"]), f"{p['two-sided']:.4g}", f"{p['less']:.4g}",
                          f"{p['greater']:.4g}")
        tables.append(tests)
    return tables


@contextlib.contextmanager
def trial_progress(console: Console, total: int, description: str,
                   enabled: bool = True) -> Iterator[Callable[[int], None]]:
    """A progress bar on ``console`` (stderr) advanced by the callback it yields."""
    if not enabled:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)

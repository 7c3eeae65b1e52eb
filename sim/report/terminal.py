"""Rendering for people: rich tables and progress on the terminal."""

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

from ..analysis.summary import AGREEMENT_SE


def _pct(value: Optional[float], digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _num(value: Optional[float], digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _check(agrees: bool) -> str:
    return "[green]ok[/green]" if agrees else f"[red]off by > {AGREEMENT_SE:g} SE[/red]"


def _analysis_table(title: str, rows: list[tuple[str, str, str]], agrees: bool, has_exact: bool = True) -> Table:
    caption = f"Monte Carlo vs exact: {_check(agrees)}" if has_exact else "no exact value for this test"
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left", caption_justify="left",
                  caption=caption)
    table.add_column("quantity")
    table.add_column("Monte Carlo", justify="right")
    table.add_column("exact", justify="right")
    for row in rows:
        table.add_row(*row)
    return table


def run_tables(result) -> list[Table]:
    """A power table for every test, then one narrow table per confidence interval."""
    tables = []
    tests = [s for s in result.summaries if s.kind == "compare"]
    if tests:
        table = Table(title=f"{result.scenario.name}: power ({result.trials:,} trials, seed {result.seed})",
                      box=box.SIMPLE_HEAVY, title_justify="left", caption_justify="left",
                      caption="Monte Carlo ± its standard error; exact by enumeration where the model allows it")
        for column in ("analysis", "power", "exact", "check"):
            table.add_column(column, justify="left" if column == "analysis" else "right")
        for s in tests:
            exact = "—" if s.exact_power is None else _pct(s.exact_power, 2)
            check = "—" if s.exact_power is None else _check(s.agrees)
            table.add_row(s.id, f"{_pct(s.power, 2)} ± {_pct(s.power_se, 2)}", exact, check)
        tables.append(table)
    for s in result.summaries:
        if s.kind != "estimate":
            continue
        title = f"{s.id}: {s.interval} {s.level:.0%} interval, {s.groups[0]} (n={s.n})"
        rows = [
            ("true rate", "", _pct(s.true_rate)),
            ("mean width", f"{_num(s.mean_width)} ± {_num(s.mean_width_se, 4)}", _num(s.exact_mean_width)),
            ("median width", _num(s.median_width), ""),
            ("coverage", f"{_pct(s.coverage)} ± {_pct(s.coverage_se, 2)}", _pct(s.exact_coverage)),
        ]
        if s.target_width is not None:
            rows.append((f"P(width <= {s.target_width:g})", _pct(s.p_width_le_target),
                         _pct(s.exact_p_width_le_target)))
        if s.reference_rate is not None:
            rows.append((f"P(lower > {_pct(s.reference_rate)})", _pct(s.p_lower_above_reference),
                         _pct(s.exact_p_lower_above_reference)))
            rows.append((f"P(upper < {_pct(s.reference_rate)})", _pct(s.p_upper_below_reference),
                         _pct(s.exact_p_upper_below_reference)))
        tables.append(_analysis_table(title, rows, s.agrees))
    return tables


def analyze_tables(report: dict) -> list[Table]:
    level = report["level"]
    tables = []
    if report["groups"]:
        tables.append(_interval_table(report, level))
    if report.get("samples"):
        samples = Table(title="Observed values", box=box.SIMPLE_HEAVY)
        for column in ("sample", "n", "median"):
            samples.add_column(column, justify="left" if column == "sample" else "right")
        for sample in report["samples"]:
            samples.add_row(sample["name"], str(sample["n"]), f"{sample['median']:g}")
        tables.append(samples)
    if report["comparisons"]:
        tests = Table(title="Tests (Fisher: R fisher.test; Wilcoxon: scipy mannwhitneyu)", box=box.SIMPLE_HEAVY)
        for column in ("groups", "test", "two-sided p", "less p", "greater p"):
            tests.add_column(column, justify="left" if column in ("groups", "test") else "right")
        for comparison in report["comparisons"]:
            p = comparison["p_values"]
            label = comparison["test"] + (f" ({comparison['method']})" if "method" in comparison else "")
            tests.add_row(" vs ".join(comparison["groups"]), label, f"{p['two-sided']:.4g}", f"{p['less']:.4g}",
                          f"{p['greater']:.4g}")
        tables.append(tests)
    effects = [c for c in report["comparisons"] if c.get("effects")]
    if effects:
        tables.append(_effects_table(effects, level))
    return tables


_EFFECT_LABELS = {"risk_difference": "risk difference", "odds_ratio": "odds ratio",
                  "relative_risk": "relative risk"}


def _effect_value(value: Optional[float], name: str, infinite: bool = False) -> str:
    """A number of the effect's scale; None is ∞ where the value is a bound or an infinite ratio."""
    if value is None:
        return "∞" if infinite else "—"
    if name == "risk_difference":
        # Differences of rates of 10^-9 (groups of 10^12) would all print as 0.0%.
        return f"{100 * value:.1f}%" if value == 0 or abs(value) >= 5e-4 else f"{100 * value:.3g}%"
    return f"{value:.4g}"


def _effects_table(comparisons: list[dict], level: float) -> Table:
    table = Table(title=f"Effect estimates, group 1 vs group 2, {level:.0%} confidence intervals",
                  box=box.SIMPLE_HEAVY, caption_justify="left",
                  caption="∞: infinite (no events in group 2, or all events in group 1); —: undefined")
    for column in ("groups", "effect", "estimate", "interval", "method"):
        table.add_column(column, justify="right" if column in ("estimate", "interval") else "left")
    for comparison in comparisons:
        for name, effect in comparison["effects"].items():
            low, high = effect["interval"]
            # A ratio's estimate is null when infinite (its upper bound is then infinite too) or
            # undefined (0/0, or margins that allow one table: the interval is then [0, ∞]).
            infinite_estimate = high is None and (low or 0.0) > 0.0
            table.add_row(" vs ".join(comparison["groups"]), _EFFECT_LABELS.get(name, name),
                          _effect_value(effect["estimate"], name, infinite_estimate),
                          f"{_effect_value(low, name)} to {_effect_value(high, name, True)}", effect["method"])
    return table


def _interval_table(report: dict, level: float) -> Table:
    intervals = Table(title=f"Observed proportions, {level:.0%} confidence intervals", box=box.SIMPLE_HEAVY)
    methods = list(report["groups"][0]["intervals"]) if report["groups"] else []
    for column in ["group", "x/n", "rate", *methods]:
        intervals.add_column(column, justify="left" if column == "group" else "right")
    for group in report["groups"]:
        cells = [f"{100 * lo:.1f}–{100 * hi:.1f}%" for lo, hi in group["intervals"].values()]
        intervals.add_row(group["name"], f"{group['x']}/{group['n']}", _pct(group["x"] / group["n"]), *cells)
    return intervals


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

"""Rendering for people: rich tables and progress on the terminal.

Every results table is preceded by the design it was computed for (group sizes, true rates,
tests with their sidedness and alpha), and fits 80 columns without cutting an analysis id
(``--analysis`` needs them whole): ids are never truncated, other cells wrap.
"""

from __future__ import annotations

import contextlib
import math
import textwrap
import time
from typing import Callable, Iterator, Optional

from rich import box
from rich.console import Console, Group
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

from ..analysis.summary import AGREEMENT_SE
from . import checks
from .describe import (
    analysed_rate_endpoints,
    describe_analysis,
    describe_eligibility,
    describe_test,
    describe_washout,
    group_facts,
)
from .formats import DASH, mc_and_exact, p_value, pct, pp, share_se

# Batch logs (stderr not a terminal): a progress line at most this often.
LOG_EVERY_SECONDS = 10.0


def _check_cell(state: str) -> str:
    return {
        checks.OK: "[green]ok[/green]",
        checks.OFF: f"[red]off by\n> {AGREEMENT_SE:g} SE[/red]",
        checks.TOO_FEW: "[yellow]too few\ntrials[/yellow]",
        checks.NO_EXACT: DASH,
    }[state]


def _stacked(values) -> str:
    return "\n".join(values)


# --------------------------------------------------------------------------- design


def design_table(scenario, *, title: Optional[str] = None, fixed: tuple[str, ...] = (),
                 endpoints: Optional[list[str]] = None) -> Table:
    """The groups as simulated: n, washout, and the true (marginal) rate of each analysed endpoint.

    ``fixed`` names groups whose size a sizing keeps (marked in the table); ``endpoints`` limits
    the rates shown (default: every binary endpoint an analysis uses).
    """
    endpoints = analysed_rate_endpoints(scenario) if endpoints is None else endpoints
    table = Table(title=title or f"design: {scenario.name}", box=box.SIMPLE_HEAVY, title_justify="left",
                  caption_justify="left", pad_edge=False,
                  caption=f"true rate: marginal over the group's washouts, as the exact answers use it; "
                          f"eligibility: {describe_eligibility(scenario.eligibility)}")
    table.add_column("group", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("washout (months)")
    if endpoints:
        table.add_column("true rate" if len(endpoints) == 1 else "true rates", no_wrap=True)
    for facts in group_facts(scenario):
        name = facts.name + (" (fixed)" if facts.name in fixed else "")
        rates = [f"{pct(facts.rates.get(e)):>6} {e}" for e in endpoints if facts.rates.get(e) is not None]
        table.add_row(name, str(facts.n), describe_washout(facts.washout_model, short=True),
                      *(["\n".join(rates) or DASH] if endpoints else []))
    return table


# --------------------------------------------------------------------------- run


def _id_cell(summary, width: int) -> Text:
    """The id on its own line (never cut: ``--analysis`` needs it whole), the test wrapped below it."""
    text = Text(summary.id, style="bold")
    description = describe_test(summary)
    if getattr(summary, "assurance", False):
        description += "; assurance (power averaged over the rates' priors)"
    for line in textwrap.wrap(description, width=max(width, 30)):
        text.append("\n" + line, style="dim")
    return text


def power_table(result) -> Optional[Table]:
    """One row per test: id and test (sidedness, alpha), n and true rate per group, power ± SE, exact."""
    tests = [s for s in result.summaries if s.kind == "compare" and getattr(s, "test", None) != "simon"]
    if not tests:
        return None
    table = Table(title=f"{result.scenario.name}: power ({result.trials:,} trials, seed {result.seed})",
                  box=box.SIMPLE_HEAVY, title_justify="left", caption_justify="left", show_edge=False, padding=0,
                  caption="power: Monte Carlo ± its standard error; exact: enumeration where the model allows it; "
                          "n and true rate: per group, in the order compared")
    id_width = max(len(s.id) for s in tests)
    table.add_column("analysis", min_width=id_width, overflow="fold")
    # No cell padding (the box's column separator is one space) and one space of minimum width
    # on the number columns: the table fits 80 columns beside a 43-character id.
    table.add_column("n", justify="right", min_width=3)
    table.add_column("true\nrate", justify="right", min_width=6)
    table.add_column("power", justify="right", min_width=9)
    table.add_column("exact", justify="right", min_width=7)
    table.add_column("check", justify="right", min_width=7)
    for s in tests:
        rates = getattr(s, "true_rates", None)
        power, exact = mc_and_exact(s.power, s.power_se, s.exact_power, minimum=2)
        table.add_row(_id_cell(s, id_width), _stacked(str(n) for n in s.n),
                      _stacked(pct(r) for r in rates) if rates else DASH,
                      power.replace(" ± ", "\n± "), exact, _check_cell(checks.check_state(s)))
    return table


def _quantity_table(caption: str) -> Table:
    """The narrow quantity / Monte Carlo / exact layout that estimates, Simon designs and monitoring share."""
    table = Table(box=box.SIMPLE_HEAVY, caption_justify="left", pad_edge=False, caption=caption)
    table.add_column("quantity")
    table.add_column("Monte Carlo", justify="right")
    table.add_column("exact", justify="right")
    return table


def estimate_table(s) -> Group:
    """One confidence interval: widths in percentage points, probabilities in percent, with SEs."""
    table = _quantity_table(
        f"Monte Carlo ± SE ({s.trials:,} trials) vs exact: {_check_cell(checks.check_state(s))}")
    table.add_row("true rate" + (" (prior mean)" if getattr(s, "assurance", False) else ""), "", pct(s.true_rate))
    table.add_row("mean width", *mc_and_exact(s.mean_width, s.mean_width_se, s.exact_mean_width, unit="pp"))
    table.add_row("median width", pp(s.median_width), "")
    if s.coverage is not None:  # None when the rate is drawn from a prior: it differs by trial
        table.add_row("coverage", *mc_and_exact(s.coverage, s.coverage_se, s.exact_coverage))
    rows = []
    if s.target_width is not None:
        rows.append((f"P(width ≤ {pp(s.target_width, 0)})", s.p_width_le_target, s.exact_p_width_le_target))
    if s.reference_rate is not None:
        rows.append((f"P(lower > {pct(s.reference_rate)})", s.p_lower_above_reference,
                     s.exact_p_lower_above_reference))
        rows.append((f"P(upper < {pct(s.reference_rate)})", s.p_upper_below_reference,
                     s.exact_p_upper_below_reference))
    for label, share, exact in rows:
        table.add_row(label, *mc_and_exact(share, share_se(share, s.trials), exact))
    heading = Text(s.id, style="bold")
    heading.append(f"\n{describe_analysis(s)} (n = {s.n})")
    return Group(heading, table)


def simon_table(s) -> Group:
    """A Simon two-stage design simulated on its group: P(reject H0), P(early stop), expected patients."""
    table = _quantity_table(
        f"Monte Carlo ± SE ({s.trials:,} trials) vs exact: {_check_cell(checks.check_state(s))}")
    table.add_row("true rate" + (" (prior mean)" if s.assurance else ""), "", pct(s.true_rate))
    table.add_row("P(reject H0)", *mc_and_exact(s.power, s.power_se, s.exact_power))
    table.add_row("P(stop after stage 1)", *mc_and_exact(s.p_early_stop, share_se(s.p_early_stop, s.trials),
                                                         s.exact_p_early_stop))
    table.add_row("expected patients", f"{s.expected_n:.2f} ± {s.expected_n_se:.2f}",
                  DASH if s.exact_expected_n is None else f"{s.exact_expected_n:.2f}")
    if s.cut_short_trials:
        table.add_row("trials cut short by monitoring", f"{s.cut_short_trials:,}", "")
    heading = Text(s.id, style="bold")
    heading.append(f"\nSimon two-stage design on {s.endpoint} of {s.groups[0]}: stop if ≤ {s.r1} of the first "
                   f"{s.n1}, reject H0 if > {s.r} of {s.n}")
    return Group(heading, table)


def monitoring_tables(result) -> list:
    """Interim monitoring, one narrow table per stopping rule: P(stop) ± SE beside exact, then by look (the
    looks where stopping is at least 0.5%), and the expected patients in the rule's group."""
    from .html import monitoring_rows

    out = []
    for row in monitoring_rows(result):
        table = _quantity_table(f"Monte Carlo ± SE ({row.get('trials', 0):,} trials) vs exact")
        table.add_row("P(stop)", row["p_stop_text"], row["exact_p_stop_text"])
        exact_by_look = row.get("exact_p_stop_by_look") or [None] * len(row.get("p_stop_by_look") or ())
        shown = [(look, limit, p, q) for look, limit, p, q in
                 zip(row.get("looks") or (), row.get("stop_at") or (), row.get("p_stop_by_look") or (), exact_by_look)
                 if p >= 0.005 or (q is not None and q >= 0.005)]
        for look, limit, p, q in shown[:10]:
            table.add_row(f"  at look {look} (≥ {limit} events)", pct(p, 2), DASH if q is None else pct(q, 2))
        if len(shown) > 10:
            table.add_row(f"  … {len(shown) - 10} more looks (all in summary.json)", "", "")
        exact_n = row.get("exact_expected_n")
        table.add_row(f"expected patients in {row.get('group')}",
                      f"{row['expected_n']:.2f} ± {row.get('expected_n_se') or 0:.2f}",
                      DASH if exact_n is None else f"{exact_n:.2f}")
        heading = Text(str(row.get("id")), style="bold")
        heading.append(f"\n{str(row.get('action', 'stop_group')).replace('_', ' ')} when {row.get('endpoint')} in "
                       f"{row.get('group')} reaches the boundary ({len(row.get('looks') or ())} looks)")
        out.append(Group(heading, table))
    return out


def enrolment_table(result) -> Optional[Table]:
    """Patients each group enrolled under monitoring, beside the exact expectation."""
    if not getattr(result, "enrolment", None):
        return None
    table = Table(title="enrolment under monitoring", box=box.SIMPLE_HEAVY, title_justify="left", show_edge=False)
    for column in ("group", "planned", "expected (Monte Carlo)", "exact"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for group in result.enrolment:
        table.add_row(group.group, str(group.planned_n), f"{group.expected_n:.2f} ± {group.expected_n_se:.2f}",
                      DASH if group.exact_expected_n is None else f"{group.exact_expected_n:.2f}")
    return table


def other_table(summary) -> Table:
    """A summary of a kind without its own layout: its numeric and text fields, as ``to_dict()`` gives them."""
    data = summary.to_dict() if hasattr(summary, "to_dict") else dict(vars(summary))
    table = Table(title=f"{data.get('id', '?')} ({data.get('kind', '?')})", box=box.SIMPLE, title_justify="left")
    table.add_column("field")
    table.add_column("value", justify="right")
    for key, value in data.items():
        if key in ("id", "kind") or isinstance(value, (dict, list)):
            continue
        table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    return table


def run_tables(result) -> list:
    """The design, a power table for every test, one narrow table per confidence interval, then
    monitoring and any other kind of summary."""
    tables: list = [design_table(result.scenario, title=f"design: {result.scenario.name}")]
    power = power_table(result)
    if power is not None:
        tables.append(power)
    tables.extend(simon_table(s) for s in result.summaries if getattr(s, "test", None) == "simon")
    tables.extend(estimate_table(s) for s in result.summaries if s.kind == "estimate")
    tables.extend(monitoring_tables(result))
    enrolment = enrolment_table(result)
    if enrolment is not None:
        tables.append(enrolment)
    tables.extend(other_table(s) for s in result.summaries if s.kind not in ("compare", "estimate", "monitoring"))
    return tables


def run_verdict_line(result) -> str:
    """The line under a run's tables: agreement of every checkable estimate with its exact value."""
    state = checks.run_verdict(result.summaries)
    if state == checks.OFF:
        return "[red]some Monte Carlo estimates are more than 4 SE from their exact values[/red]"
    if state == checks.TOO_FEW:
        return ("[yellow]too few trials to check some estimates against their exact values (a check needs "
                f"trials × min(p, 1 − p) ≥ {checks.MIN_EXPECTED_EACH_SIDE}); raise --trials[/yellow]")
    if state == checks.OK:
        return "[green]every Monte Carlo estimate is within 4 SE of its exact value[/green]"
    return "no exact values to check against"


# --------------------------------------------------------------------------- analyze


def analyze_tables(report: dict) -> list[Table]:
    """``simtrial analyze``: intervals per group, observed values, and tests with p-values to 4 significant digits."""
    level = report["level"]
    tables = []
    if report["groups"]:
        tables.append(_interval_table(report, level))
    if report.get("samples"):
        samples = Table(title="Observed values", box=box.SIMPLE_HEAVY, title_justify="left")
        for column in ("sample", "n", "median"):
            samples.add_column(column, justify="left" if column == "sample" else "right")
        for sample in report["samples"]:
            samples.add_row(sample["name"], str(sample["n"]), f"{sample['median']:g}")
        tables.append(samples)
    if report["comparisons"]:
        tests = Table(title="Tests (Fisher: R fisher.test; Boschloo, z-pooled: unconditional exact; "
                            "Wilcoxon: scipy mannwhitneyu)", box=box.SIMPLE_HEAVY, title_justify="left")
        for column in ("groups", "test", "two-sided p", "less p", "greater p"):
            tests.add_column(column, justify="left" if column in ("groups", "test") else "right")
        for comparison in report["comparisons"]:
            p = comparison["p_values"]
            label = comparison["test"] + (f" ({comparison['method']})" if "method" in comparison else "")
            tests.add_row(" vs ".join(comparison["groups"]), label, p_value(p["two-sided"]), p_value(p["less"]),
                          p_value(p["greater"]))
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
    """One row per effect of each Fisher comparison; the methods (the same for every row) in the caption."""
    methods = {}
    for comparison in comparisons:
        for name, effect in comparison["effects"].items():
            methods.setdefault(_EFFECT_LABELS.get(name, name), effect["method"])
    caption = "; ".join(f"{label}: {method}" for label, method in methods.items())
    table = Table(title=f"Effect estimates, first group vs second, {level:.0%} confidence intervals",
                  box=box.SIMPLE_HEAVY, title_justify="left", caption_justify="left",
                  caption=caption + ". ∞: infinite (no events in the second group, or all events in the first); "
                                    "—: undefined")
    for column in ("groups", "effect", "estimate", "interval"):
        table.add_column(column, justify="right" if column in ("estimate", "interval") else "left")
    for comparison in comparisons:
        for name, effect in comparison["effects"].items():
            low, high = effect["interval"]
            # A ratio's estimate is null when infinite (its upper bound is then infinite too) or
            # undefined (0/0, or margins that allow one table: the interval is then [0, ∞]).
            infinite_estimate = high is None and (low or 0.0) > 0.0
            table.add_row(" vs ".join(comparison["groups"]), _EFFECT_LABELS.get(name, name),
                          _effect_value(effect["estimate"], name, infinite_estimate),
                          f"{_effect_value(low, name)} to {_effect_value(high, name, True)}")
    return table


def _interval_table(report: dict, level: float) -> Table:
    intervals = Table(title=f"Observed proportions, {level:.0%} confidence intervals", box=box.SIMPLE_HEAVY,
                      title_justify="left")
    methods = list(report["groups"][0]["intervals"]) if report["groups"] else []
    for column in ["group", "x/n", "rate", *methods]:
        intervals.add_column(column, justify="left" if column == "group" else "right")
    for group in report["groups"]:
        cells = [f"{100 * lo:.1f}–{100 * hi:.1f}%" for lo, hi in group["intervals"].values()]
        intervals.add_row(group["name"], f"{group['x']}/{group['n']}", pct(group["x"] / group["n"]), *cells)
    return intervals


# --------------------------------------------------------------------------- progress


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class LongRunNotice:
    """One line when a run will take more than a minute: its estimated time, from the rate measured over
    at least ``measure`` seconds after the first chunk (which may include compiling the kernels)."""

    def __init__(self, console: Console, total: int, *, unit: str = "trials", measure: float = 1.0,
                 threshold: float = 60.0) -> None:
        self.console = console
        self.total = total
        self.unit = unit
        self.measure = measure
        self.threshold = threshold
        self.done = 0
        self.start: Optional[tuple[float, int]] = None
        self.told = False

    def __call__(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if self.start is None:
            self.start = (now, self.done)
            return
        elapsed = now - self.start[0]
        if self.told or elapsed < self.measure:
            return
        self.told = True
        rate = (self.done - self.start[1]) / elapsed
        left = (self.total - self.done) / rate if rate > 0 else math.inf
        if left > self.threshold:
            self.console.print(f"estimated time: about {_duration(left)} more ({rate:,.0f} {self.unit}/s)")


class LogProgress:
    """Progress for batch logs (SLURM, CI, a file): a labelled line at most every ``every`` seconds.

    ``progress LABEL: 40,000/100,000 trials (40%), 8,000 trials/s, about 7 s left``. Nothing is
    printed for work that finishes within ``every`` seconds.
    """

    def __init__(self, console: Console, total: int, label: str, *, unit: str = "trials",
                 every: float = LOG_EVERY_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.console, self.total, self.label, self.unit, self.every, self.clock = (
            console, total, label, unit, every, clock)
        self.done = 0
        self.failed = 0
        self.started = self.last = clock()

    def advance(self, count: int = 1, *, failed: int = 0) -> None:
        self.done += count
        self.failed += failed
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            self.console.print(self.line(now), highlight=False, soft_wrap=True)

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        share = self.done / self.total if self.total else 1.0
        text = f"progress {self.label}: {self.done:,}/{self.total:,} {self.unit} ({share:.0%})"
        if self.failed:
            text += f", {self.failed} failed"
        per = f"{rate:,.0f} {self.unit}/s" if rate >= 1 else f"{60 * rate:,.1f} {self.unit}/min"
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        return text + f", {per}, about {_duration(left) if left != float('inf') else '?'} left"


@contextlib.contextmanager
def trial_progress(console: Console, total: int, description: str, enabled: bool = True, *,
                   bar: bool = True, unit: str = "trials",
                   log_every: float = LOG_EVERY_SECONDS) -> Iterator[Callable[[int], None]]:
    """Progress on ``console`` (stderr) advanced by the callback it yields.

    On a terminal a transient bar (when ``bar``); otherwise (batch and SLURM logs) a labelled
    line every ``log_every`` seconds with the count done, the rate and the time left.
    """
    if not enabled:
        yield lambda n: None
        return
    if not console.is_terminal:
        log = LogProgress(console, total, description, unit=unit, every=log_every)
        yield lambda n: log.advance(n)
        return
    if not bar:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)

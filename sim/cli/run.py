"""``simtrial run`` and ``simtrial analyze``: simulate a scenario, or analyse observed data."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Optional

import click

from ..errors import UsageError
from .common import (
    COMPILING_NOTE,
    DEFAULT_OUT,
    open_output,
    output_options,
    parse_int,
    parse_set_options,
    set_threads,
    stderr_console,
    stdout_console,
)

_GROUP_COUNT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<x>\d+)/(?P<n>\d+)$")


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--trials", metavar="N", help="Override the scenario's number of virtual trials.")
@click.option("--seed", metavar="S", help="Override the scenario's seed.")
@click.option("--set", "changes", multiple=True, metavar="PATH=VALUE",
              help="Change a scenario field by dotted path, e.g. groups.prior_tki.n=40 (repeatable; validated).")
@click.option("--threads", metavar="T", help="Threads (default: all cores).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Directory for DIR/<name>/summary.json and summary.csv.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary JSON on stdout and nothing else.")
@output_options
@click.option("--chunk-trials", type=click.IntRange(min=1), hidden=True,
              help="Trials per chunk (results do not depend on it).")
def run(scenario: Path, trials: Optional[str], seed: Optional[str], changes: tuple[str, ...], threads: Optional[str],
        out_dir: Path, as_json: bool, force: bool, wait: bool, chunk_trials: Optional[int]) -> None:
    """Simulate SCENARIO and report power and interval widths beside their exact values."""
    from ..scenario import load_scenario

    overrides = parse_set_options(changes)
    overrides.update({key: value for key, value in (("trials", parse_int("--trials", trials)),
                                                    ("seed", parse_int("--seed", seed))) if value is not None})
    spec = load_scenario(scenario, overrides=overrides, flags={"trials": "--trials", "seed": "--seed"})
    used_threads = set_threads(parse_int("--threads", threads))

    from .. import io
    from ..report import terminal as report
    from ..runner import run_scenario

    err = stderr_console()
    patients = spec.trials * sum(group.n for group in spec.groups.values())
    with open_output(out_dir / spec.name, spec, scenario, force=force, wait=wait) as folder:
        notice = report.LongRunNotice(err, spec.trials)
        with report.trial_progress(err, spec.trials, f"simulating {spec.name}",
                                   bar=patients > 20_000_000) as advance:
            result = run_scenario(spec, chunk_trials=chunk_trials, on_chunk=lambda n: (advance(n), notice(n)),
                                  on_compile=lambda: err.print(COMPILING_NOTE))
        summary = io.run_summary(result, scenario_file=str(scenario), threads=used_threads)
        folder.claim()
        written = io.write_run_outputs(folder.path, summary)
        if as_json:
            click.echo(written[0].read_text(encoding="utf-8"), nl=False)  # exactly summary.json
            return
    console = stdout_console()
    for table in report.run_tables(result):
        console.print(table)
    console.print(f"{report.run_verdict_line(result)}; {result.elapsed_seconds:.2f} s on {used_threads} thread(s)")
    console.print("wrote " + ", ".join(str(path) for path in written), soft_wrap=True)


def _parse_group(value: str) -> tuple[str, int, int]:
    from ..analysis.fisher import MAX_PATIENTS  # only analyze parses groups, and it has imported sim.analysis

    match = _GROUP_COUNT.match(value.strip())
    if not match:
        raise UsageError(f"--group: got {value!r}; expected NAME=X/N, e.g. prior_tki=6/15")
    name, x, n = match["name"], int(match["x"]), int(match["n"])
    if n > MAX_PATIENTS:
        raise UsageError(f"--group {name}: got {x}/{n}; expected N <= 10^12 (the largest group analyze supports)")
    if n < 1 or x > n:
        raise UsageError(f"--group {name}: got {x}/{n}; expected 0 <= X <= N and N >= 1")
    return name, x, n


def _parse_values(value: str) -> tuple[str, list[float]]:
    name, sep, numbers = value.partition("=")
    if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", name.strip()):
        raise UsageError(f"--values: got {value!r}; expected NAME=v1,v2,..., e.g. prior_tki=15,12,20")
    try:
        parsed = [float(v) for v in numbers.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--values {name}: got {numbers!r}; expected comma-separated numbers") from None
    if not parsed or not all(math.isfinite(v) for v in parsed):
        raise UsageError(f"--values {name}: got {numbers!r}; expected at least one finite number")
    return name.strip(), parsed


def _unconditional_rows(parsed: list[tuple[str, int, int]]) -> list[dict]:
    """Boschloo and z-pooled rows for each pair of groups of up to MAX_GROUP_SIZE patients."""
    from itertools import combinations

    from ..scenario.fields import MAX_UNCONDITIONAL_N

    pairs = [(a, b) for a, b in combinations(parsed, 2) if max(a[2], b[2]) <= MAX_UNCONDITIONAL_N]
    if not pairs:
        return []  # nothing to compute: the unconditional kernels (numba) are not even imported
    from ..analysis.unconditional import boschloo_exact, z_pooled_exact

    rows = []
    for a, b in pairs:
        for test, function in (("boschloo", boschloo_exact), ("z-pooled", z_pooled_exact)):
            rows.append({"groups": [a[0], b[0]], "test": test,
                         "p_values": {alt: function(a[1], a[2], b[1], b[2], alternative=alt).p_value
                                      for alt in ("two-sided", "less", "greater")}})
    return rows


@click.command()
@click.option("--group", "groups", multiple=True, metavar="NAME=X/N",
              help="Observed events X out of N patients; repeat for each group.")
@click.option("--values", "samples", multiple=True, metavar="NAME=v1,v2,...",
              help="Observed values (doses, washouts) of a group, for the Wilcoxon rank-sum test; repeat.")
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level.")
@click.option("--wilcoxon-method", type=click.Choice(["asymptotic", "exact"]), default="asymptotic",
              show_default=True, help="exact needs values without ties.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout and nothing else.")
def analyze(groups: tuple[str, ...], samples: tuple[str, ...], level: float, wilcoxon_method: str,
            as_json: bool) -> None:
    """Intervals, Fisher, Boschloo, z-pooled and Wilcoxon tests on observed data (the same functions a run uses)."""
    from itertools import combinations
    from statistics import median

    from .. import io
    from ..analysis import INTERVAL_METHODS, binomial_interval, fisher_exact
    from ..analysis.effects import effect_estimates
    from ..report import terminal as report

    if not groups and not samples:
        raise UsageError("analyze needs at least one --group NAME=X/N or --values NAME=v1,v2,...")
    if not 0.0 < level < 1.0:
        raise UsageError(f"--level: got {level}; expected a number strictly between 0 and 1")
    parsed = [_parse_group(value) for value in groups]
    values = [_parse_values(value) for value in samples]
    for option, names in (("--group", [n for n, _, _ in parsed]), ("--values", [n for n, _ in values])):
        if len(set(names)) != len(names):
            raise UsageError(f"{option}: names must be distinct; got {', '.join(names)}")
    result = {
        "level": level,
        "groups": [
            {"name": name, "x": x, "n": n,
             "intervals": {method: [(ci := binomial_interval(x, n, level=level, method=method)).low, ci.high]
                           for method in INTERVAL_METHODS}}
            for name, x, n in parsed
        ],
        "comparisons": [
            {"groups": [a[0], b[0]], "test": "fisher",
             "p_values": {alt: fisher_exact(a[1], a[2], b[1], b[2], alternative=alt).p_value
                          for alt in ("two-sided", "less", "greater")},
             "effects": {name: {key: value for key, value in effect.as_dict().items() if key != "level"}
                         for name, effect in effect_estimates(a[1], a[2], b[1], b[2], level=level).items()}}
            for a, b in combinations(parsed, 2)
        ],
    }
    result["comparisons"] += _unconditional_rows(parsed)
    if values:
        from ..analysis.wilcoxon import mann_whitney  # numba kernels: imported only when needed

        result["samples"] = [{"name": name, "n": len(v), "median": median(v), "values": v} for name, v in values]
        for (name_a, a), (name_b, b) in combinations(values, 2):
            try:
                tests = {alt: mann_whitney(a, b, alternative=alt, method=wilcoxon_method)
                         for alt in ("two-sided", "less", "greater")}
            except ValueError as exc:
                raise UsageError(f"--values {name_a} vs {name_b}: {exc}") from None
            result["comparisons"].append({
                "groups": [name_a, name_b], "test": "wilcoxon", "method": wilcoxon_method,
                "statistic": tests["two-sided"].statistic,
                "p_values": {alt: test.p_value for alt, test in tests.items()},
            })
    if as_json:
        click.echo(io.to_json(result), nl=False)
        return
    console = stdout_console()
    for table in report.analyze_tables(result):
        console.print(table)

"""``simtrial report``: the sample-size section of a protocol as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import UsageError
from .common import (
    COMPILING_NOTE,
    DEFAULT_OUT,
    parse_dropout,
    parse_float,
    parse_set_options,
    set_threads,
    stderr_console,
    stdout_console,
)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/<name>/report.html.")
@click.option("--trials", type=int, help="Override the scenario's number of virtual trials.")
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--set", "changes", multiple=True, metavar="PATH=VALUE",
              help="Change a scenario field by dotted path, e.g. groups.prior_tki.n=40 (repeatable; validated).")
@click.option("--size", "size_ids", multiple=True, metavar="ID",
              help="Draw the sizing curve of this analysis (repeat; default: every analysis exact enumeration "
                   "can size).")
@click.option("--target-power", default="0.8", show_default=True, metavar="P",
              help="The power comparisons are sized to.")
@click.option("--dropout", metavar="D", help="Share of patients not evaluable (0 <= D < 1): also give the "
                                             "numbers to enrol.")
@click.option("--threads", type=int, help="numba threads (default: all cores).")
def report(scenario: Path, out_dir: Path, trials: Optional[int], seed: Optional[int], changes: tuple[str, ...],
           size_ids: tuple[str, ...], target_power: str, dropout: Optional[str], threads: Optional[int]) -> None:
    """Write DIR/<name>/report.html: design, sources, results, sizing curves and a narrative for a protocol."""
    from ..report.html import write_report
    from ..report.terminal import trial_progress
    from ..scenario import load_scenario

    power = _probability("--target-power", target_power)
    loss = parse_dropout(dropout)
    overrides = parse_set_options(changes)
    overrides.update({key: value for key, value in (("trials", trials), ("seed", seed)) if value is not None})
    spec = load_scenario(scenario, overrides=overrides)
    set_threads(threads)
    err = stderr_console()
    with trial_progress(err, spec.trials, f"simulating {spec.name}", bar=True) as advance:
        path = write_report(spec, out=out_dir, scenario_file=str(scenario), size=list(size_ids) or None,
                            target_power=power, dropout=loss, on_chunk=advance,
                            on_compile=lambda: err.print(COMPILING_NOTE))
    stdout_console().print(f"wrote {path}", soft_wrap=True)


def _probability(flag: str, text: str) -> float:
    value = parse_float(flag, text)
    if not 0.0 < value < 1.0:
        raise UsageError(f"{flag}: got {text}; expected a number strictly between 0 and 1")
    return value

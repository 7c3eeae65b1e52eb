"""``simtrial monitor`` and ``simtrial simon``: thin commands over :mod:`sim.designs.monitor` and
:mod:`sim.designs.simon`. No numerics here.

Flag values are parsed from text here, and every problem with them becomes one line
``error: --flag: ...`` and exit status 2, before anything is computed or written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import UsageError
from .common import DEFAULT_OUT, parse_float, parse_int, stdout_console


def _flag(field: str) -> str:
    return "--" + field.replace("_", "-")


def _design_error(exc) -> UsageError:
    """A library DesignInputError as the CLI line that names the flag."""
    return UsageError(f"{_flag(exc.field)}: {exc.detail}")


def _float_list(flag: str, text: Optional[str], count: Optional[int] = None) -> Optional[list[float]]:
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise UsageError(f"{flag}: got {text!r}; expected comma-separated numbers") from None
    if count is not None and len(values) != count:
        raise UsageError(f"{flag}: got {text!r}; expected {count} comma-separated numbers")
    if not values:
        raise UsageError(f"{flag}: got {text!r}; expected at least one number")
    return values


@click.command()
@click.option("--rule", default="repeated-significance", show_default=True,
              metavar="repeated-significance|bayes", help="The stopping rule.")
@click.option("--p0", "p0_text", metavar="P0", help="The acceptable event rate.")
@click.option("--p1", "p1_text", metavar="P1", help="The unacceptable event rate (required for repeated significance).")
@click.option("--looks", "looks_text", metavar="SPEC",
              help="Evaluable patients at which events are counted: 1:30, 5:30:5 or 20,40,60,75.")
@click.option("--shape", default="pocock", show_default=True, metavar="pocock|obrien-fleming|DELTA",
              help="Repeated significance: level Φ(z / t_k^DELTA) at look k, DELTA in [0, 0.5].")
@click.option("--cross-p0", "cross_p0_text", metavar="C0",
              help="The largest allowed P(stop) at P0 [repeated significance default: 0.10]; with --rule bayes, "
                   "calibrates the posterior threshold instead of --posterior.")
@click.option("--cross-p1", "cross_p1_text", metavar="C1", help="The P(stop) wanted at P1 [default: 0.90].")
@click.option("--prior", "prior_text", metavar="A,B", help="Bayes: the Beta(A, B) prior of the event rate.")
@click.option("--posterior", "posterior_text", metavar="C",
              help="Bayes: stop when P(rate > P0 | data) >= C.")
@click.option("--rates", "rates_text", metavar="R1,R2,...",
              help="True rates for the operating characteristics [default: 6 from P0 to P1].")
@click.option("--group", default="prior_tki", show_default=True, help="The group named in the scenario snippet.")
@click.option("--endpoint", default="cardiac_event", show_default=True,
              help="The endpoint named in the scenario snippet.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout and nothing else.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/monitor_<shape>_p0-.._p1-.._looks-.._cross-../ (CSVs, JSON, PNG, YAML snippet).")
def monitor(rule: str, p0_text: Optional[str], p1_text: Optional[str], looks_text: Optional[str], shape: str,
            cross_p0_text: Optional[str], cross_p1_text: Optional[str], prior_text: Optional[str],
            posterior_text: Optional[str], rates_text: Optional[str], group: str, endpoint: str, as_json: bool,
            out_dir: Path) -> None:
    """Derive a stopping boundary that monitors one group for an event, with exact operating characteristics."""
    from .. import io
    from ..designs.monitor import RULES, DesignInputError, bayes_boundary, toxicity_boundary
    from ..report import multistage as report

    if rule not in RULES:
        raise UsageError(f"--rule: got {rule!r}; expected repeated-significance or bayes")
    for flag, value in (("--p0", p0_text), ("--looks", looks_text)):
        if value is None:
            raise UsageError(f"{flag}: required")
    p0, p1 = parse_float("--p0", p0_text), parse_float("--p1", p1_text)
    cross_p0, cross_p1 = parse_float("--cross-p0", cross_p0_text), parse_float("--cross-p1", cross_p1_text)
    rates = _float_list("--rates", rates_text)
    try:
        if rule == "bayes":
            for flag, value in (("--shape", shape != "pocock"), ("--cross-p1", cross_p1 is not None)):
                if value:
                    raise UsageError(f"{flag}: only with --rule repeated-significance")
            if prior_text is None:
                raise UsageError("--prior: required with --rule bayes (A,B of the Beta prior)")
            if (posterior_text is None) == (cross_p0 is None):
                raise UsageError("--posterior: give exactly one of --posterior C or --cross-p0 (to calibrate C)")
            design = bayes_boundary(_float_list("--prior", prior_text, 2), p0, looks_text,
                                    posterior=parse_float("--posterior", posterior_text), cross_p0=cross_p0, p1=p1)
        else:
            for flag, value in (("--prior", prior_text), ("--posterior", posterior_text)):
                if value is not None:
                    raise UsageError(f"{flag}: only with --rule bayes")
            if p1 is None:
                raise UsageError("--p1: required (the unacceptable event rate)")
            design = toxicity_boundary(p0, p1, looks_text, shape=shape,
                                       cross_p0=0.10 if cross_p0 is None else cross_p0,
                                       cross_p1=0.90 if cross_p1 is None else cross_p1)
        if rates is not None:
            design.operating_characteristics(rates)  # checks every rate before anything is written
    except DesignInputError as exc:
        raise _design_error(exc) from None
    destination = out_dir / report.monitor_directory_name(design)
    written = report.write_monitor_outputs(destination, design, rates=rates, group=group, endpoint=endpoint)
    if as_json:
        click.echo(io.to_json(design.to_dict(rates)), nl=False)
        return
    out = stdout_console()
    for table in report.monitor_tables(design, rates):
        out.print(table)
    out.print("wrote " + ", ".join(str(path) for path in written))


@click.command()
@click.option("--p0", "p0_text", metavar="P0", help="The unacceptable response rate (H0: p <= P0).")
@click.option("--p1", "p1_text", metavar="P1", help="The desirable response rate.")
@click.option("--alpha", "alpha_text", metavar="A", help="The largest allowed P(reject H0 | P0), one-sided.")
@click.option("--power", "power_text", metavar="1-B", help="The smallest allowed P(reject H0 | P1).")
@click.option("--nmax", "nmax_text", default="100", show_default=True, metavar="N",
              help="The largest total sample size searched (at most 1000).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout and nothing else.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/simon_p0-.._p1-.._alpha-.._power-.._nmax-../ (CSVs, JSON, PNG).")
def simon(p0_text: Optional[str], p1_text: Optional[str], alpha_text: Optional[str], power_text: Optional[str],
          nmax_text: str, as_json: bool, out_dir: Path) -> None:
    """Simon's optimal, minimax and admissible two-stage designs for a response rate."""
    from .. import io
    from ..designs.monitor import DesignInputError
    from ..designs.simon import simon_designs
    from ..report import multistage as report

    values = {}
    for flag, text in (("--p0", p0_text), ("--p1", p1_text), ("--alpha", alpha_text), ("--power", power_text)):
        if text is None:
            raise UsageError(f"{flag}: required")
        values[flag] = parse_float(flag, text)
    nmax = parse_int("--nmax", nmax_text)
    try:
        result = simon_designs(values["--p0"], values["--p1"], alpha=values["--alpha"], power=values["--power"],
                               nmax=nmax)
    except DesignInputError as exc:
        raise _design_error(exc) from None
    written = report.write_simon_outputs(out_dir / report.simon_directory_name(result), result)
    if as_json:
        click.echo(io.to_json(result.to_dict()), nl=False)
        return
    out = stdout_console()
    out.print(report.simon_table(result))
    out.print("wrote " + ", ".join(str(path) for path in written))

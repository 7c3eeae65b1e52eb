"""``simtrial size`` and ``simtrial sweep``: thin commands over :mod:`sim.sizing`, :mod:`sim.sweep`
and :mod:`sim.cluster`. No numerics here.

Flag values are parsed here from text, so that a bad value gets the same one-line ``error: ...``
and exit status 2 as a bad scenario (click's own messages span several lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import SimtrialError, UsageError
from .common import (
    DEFAULT_OUT,
    Interrupted,
    open_output,
    output_options,
    parse_dropout,
    parse_set_options,
    stderr_console,
    stdout_console,
)
from .common import parse_float as _float
from .common import parse_int as _int


def _size_range(text: Optional[str]) -> Optional[tuple[int, int]]:
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise UsageError(f"--range: got {text!r}; expected MIN:MAX, e.g. 10:80")
    return int(parts[0]), int(parts[1])


def _scenario_in(args: list[str]) -> Optional[str]:
    """The SCENARIO argument among raw command-line words (the first YAML file not after an option)."""
    for index, word in enumerate(args):
        after_option = index > 0 and args[index - 1].startswith("--") and "=" not in args[index - 1]
        if not word.startswith("-") and word.endswith((".yaml", ".yml")) and not after_option:
            return word
    return None


def analysis_listing(path: str) -> str:
    """The scenario's analyses, one a line: index, id (what --analysis takes), kind and test."""
    from ..report.describe import describe_test
    from ..scenario import load_scenario

    spec = load_scenario(path)
    width = max(len(a.analysis_id) for a in spec.analyses)
    return "\n".join(f"{index:>2}  {a.analysis_id:<{width}}  {a.kind}: {describe_test(a)}"
                     for index, a in enumerate(spec.analyses))


class ScenarioHelpCommand(click.Command):
    """A command whose ``--help`` after SCENARIO lists the scenario's analyses (the ids --analysis takes)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["simtrial.args"] = list(args)
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        path = _scenario_in(ctx.meta.get("simtrial.args", []))
        formatter.write_paragraph()
        if path is None:
            formatter.write_text("Put SCENARIO before --help (simtrial size SCENARIO --help) to list its "
                                 "analysis ids, which --analysis takes.")
            return
        try:
            listing = analysis_listing(path)
        except SimtrialError as exc:
            formatter.write_text(f"(cannot list the analyses of {path}: {str(exc).splitlines()[0]})")
            return
        with formatter.section(f"Analyses of {path} (--analysis takes the id or the index)"):
            for line in listing.splitlines():
                formatter.write(" " * formatter.current_indent + line + "\n")


@click.command(cls=ScenarioHelpCommand)
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--analysis", "analysis_id", metavar="ID", help="The analysis to size: its id, or its index "
                                                              "(SCENARIO --help lists them).")
@click.option("--target-power", metavar="P", help="For a comparison: the power to reach, e.g. 0.8 (the assurance "
                                                   "when the rates have priors).")
@click.option("--target-assurance", metavar="P", help="The same as --target-power, spelled for rates with priors: "
                                                       "the power averaged over the priors must reach P.")
@click.option("--target-width", metavar="W", help="For an estimate: the interval width to reach (expected width <= W).")
@click.option("--assurance", metavar="Q", help="With --target-width: P(width <= W) must be >= Q instead.")
@click.option("--vary", multiple=True, metavar="GROUP",
              help="A group whose size varies (repeat; default the analysis' groups). Ratios are kept; "
                   "the first one's size is n.")
@click.option("--range", "size_range", metavar="MIN:MAX", help="Sizes n of the first varied group [default: 2:200].")
@click.option("--n", "at_n", metavar="N", help="Only this size: print the power (or widths) there; no target "
                                               "needed, nothing written.")
@click.option("--method", default="auto", show_default=True, metavar="auto|exact|monte-carlo",
              help="Exact enumeration, or the simulator with common random numbers across sizes; auto: "
                   "exact where the model allows it.")
@click.option("--trials", metavar="N",
              help="Virtual trials per size when simulating (default: the scenario's).")
@click.option("--conservative", is_flag=True,
              help="Monte Carlo sizing: the lower 95% bound of the simulated power (upper for a width) must "
                   "reach the target.")
@click.option("--dropout", metavar="D", help="Share of enrolled patients not evaluable (0 <= D < 1): also give "
                                             "the number to enrol, ceil(n / (1 - D)) per group.")
@click.option("--set", "changes", multiple=True, metavar="PATH=VALUE",
              help="Change a scenario field by dotted path, e.g. groups.prior_bev.cardiac_event.p=0.1 "
                   "(repeatable; validated).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout and nothing else.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/<name>/size_<analysis>_<target>.csv, .png and .json.")
@output_options
def size(scenario: Path, analysis_id: Optional[str], target_power: Optional[str], target_assurance: Optional[str],
         target_width: Optional[str], assurance: Optional[str], vary: tuple[str, ...], size_range: Optional[str],
         at_n: Optional[str], method: str, trials: Optional[str], conservative: bool, dropout: Optional[str],
         changes: tuple[str, ...], as_json: bool, out_dir: Path, force: bool, wait: bool) -> None:
    """Find the group sizes SCENARIO needs for a target power or interval width; table, CSV and plot."""
    from .. import io
    from ..designs import sizing
    from ..report import design as report_design
    from ..report.figures import size_figure
    from ..report.terminal import trial_progress
    from ..scenario import load_scenario

    if analysis_id is None:
        raise UsageError("--analysis: required; give the id (or index) of one of the scenario's analyses "
                         "(simtrial size SCENARIO --help lists them)")
    n = _int("--n", at_n)
    if target_assurance is not None:
        if target_power is not None:
            raise UsageError("--target-assurance: the same target as --target-power; give one of them")
        target_power = target_assurance
    if n is None and (target_power is None) == (target_width is None):
        raise UsageError("give exactly one of --target-power P (comparisons) or --target-width W (estimates)")
    if target_power is not None and target_width is not None:
        raise UsageError("give at most one of --target-power P (comparisons) or --target-width W (estimates)")
    if assurance is not None and target_width is None:
        raise UsageError("--assurance: only with --target-width")
    if n is not None and size_range is not None:
        raise UsageError("--n: a single size; leave out --range (or use --range N:N for a one-size curve)")
    if n is not None and conservative:
        raise UsageError("--conservative: only when searching a range of sizes, not with --n")
    request = dict(
        target_power=_float("--target-power", target_power),
        target_width=_float("--target-width", target_width),
        assurance=_float("--assurance", assurance),
        vary=list(vary) or None,
        method=method,
        trials=_int("--trials", trials),
        dropout=parse_dropout(dropout),
    )
    spec = load_scenario(scenario, overrides=parse_set_options(changes))
    out, err = stdout_console(), stderr_console()
    if n is not None:
        if not 1 <= n <= sizing.MAX_SIZE:
            raise UsageError(f"--n: got {n}; expected a whole number from 1 to {sizing.MAX_SIZE}")
        from ..designs.single_size import size_at

        at = size_at(spec, analysis_id, n, **request)
        if as_json:
            click.echo(io.to_json(at.to_dict()), nl=False)
            return
        for renderable in report_design.size_at_tables(at, spec):
            out.print(renderable)
        return
    request.update(size_range=_size_range(size_range) or sizing.DEFAULT_RANGE, conservative=conservative)
    sizes = request["size_range"][1] - request["size_range"][0] + 1
    with open_output(out_dir / spec.name, spec, scenario, force=force, wait=wait) as folder:
        with trial_progress(err, sizes, f"sizing {spec.name}", enabled=method != "exact", unit="sizes") as advance:
            result = sizing.size_study(spec, analysis_id, on_size=lambda n: advance(1), **request)
        folder.claim()
        plot = {f"{result.file_stem}.png": lambda path: size_figure(
            result, path, analysis=spec.analysis(result.analysis), zoom=size_range is None)}
        written = sizing.write_size_outputs(folder.path, result, scenario_file=str(scenario), extra_files=plot)
    if as_json:
        click.echo(io.to_json(result.to_dict()), nl=False)
        return
    for renderable in report_design.size_tables(result, spec):
        out.print(renderable)
    out.print(report_design.recommendation(result))
    out.print("wrote " + ", ".join(str(path) for path in written), soft_wrap=True)


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--grid", "grid_path", type=click.Path(path_type=Path), metavar="GRID.yaml",
              help="Dotted scenario paths to vary, as 'product' and/or 'zip' of value lists.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/<name>/<grid>/sweep.parquet, sweep.csv, sweep.json, sweep.png and points/.")
@click.option("--resume", is_flag=True, help="Skip points whose result is already written.")
@click.option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler, e.g. tcp://127.0.0.1:8786.")
@click.option("--cluster", metavar="local|slurm", help="Start a Dask cluster: here (local) or through SLURM.")
@click.option("--cluster-config", type=click.Path(path_type=Path), metavar="FILE",
              help="SLURM settings (YAML) for --cluster slurm.")
@click.option("--workers", metavar="N", help="Cores here, worker processes of a started cluster, or workers to "
                                             "wait for with --scheduler.")
@click.option("--trials", metavar="N", help="Override the scenario's number of virtual trials per point.")
@output_options
def sweep(scenario: Path, grid_path: Optional[Path], out_dir: Path, resume: bool, scheduler: Optional[str],
          cluster: Optional[str], cluster_config: Optional[Path], workers: Optional[str],
          trials: Optional[str], force: bool, wait: bool) -> None:
    """Run SCENARIO at every point of a grid, here or on a Dask cluster, with identical results."""
    from .. import io
    from ..cluster import check_backend_options, open_backend
    from ..designs.sweep import (
        SweepFailed,
        completed_points,
        failure_message,
        grid_folder_name,
        load_grid,
        plan_sweep,
        run_sweep,
        write_sweep_outputs,
    )
    from ..report import design as report_design
    from ..report.describe import describe_test
    from ..report.figures import sweep_figure
    from ..report.sweeps import sweep_results_tables
    from ..scenario import load_scenario

    if grid_path is None:
        raise UsageError("--grid: required; a YAML file with 'product' and/or 'zip' of dotted scenario paths")
    backend_options = dict(scheduler=scheduler, cluster=cluster, cluster_config=cluster_config,
                           workers=_int("--workers", workers))
    check_backend_options(**backend_options)
    trial_count = _int("--trials", trials)
    spec = load_scenario(scenario, overrides={"trials": trial_count} if trial_count is not None else None,
                         flags={"trials": "--trials"})
    grid = load_grid(grid_path)
    grid_name = grid_folder_name(grid_path)
    points = plan_sweep(spec, grid)  # every point is valid before any work starts
    destination = out_dir / spec.name / grid_name
    out, err = stdout_console(), stderr_console()

    def stopped(what: str, separator: str) -> str:
        return (f"{what}{separator}{completed_points(points, destination)} of {len(points)} points are complete; "
                f"rerun with --resume to continue")

    with open_output(destination, spec, scenario, force=force, wait=wait) as folder:
        with open_backend(**backend_options) as backend:
            for note in backend.notes:
                err.print(f"note: {note}")
            folder.claim()
            try:
                with report_design.point_progress(err, len(points), f"{spec.name} × {grid_name}",
                                                  enabled=err.is_terminal) as advance:
                    result = run_sweep(points, destination, executor=backend.executor, resume=resume,
                                       on_point=lambda point, status: advance(status))
            except KeyboardInterrupt:
                raise Interrupted(stopped("interrupted", ": ")) from None
            except io.OutputError as exc:
                raise io.OutputError(stopped(str(exc), "; ")) from None
        if result.damaged:
            err.print(f"note: recomputed {len(result.damaged)} damaged point(s) (their files failed the digest, "
                      f"key or shape check)")
        manifest = {"scenario": spec.name, "scenario_file": str(scenario), "grid_file": str(grid_path),
                    "grid": grid.to_dict(), "seed": spec.seed, "trials": spec.trials,
                    "backend": backend.description, "workers": backend.workers}
        written = write_sweep_outputs(destination, result, manifest)
        frame = result.table()
        if not frame.empty:
            first = spec.analyses[0]
            written.append(sweep_figure(frame, grid, destination / "sweep.png", analysis_id=first.analysis_id,
                                        description=describe_test(first)))
    for renderable in sweep_results_tables(frame, list(grid.parameters), width=out.width):
        out.print(renderable)
    out.print(report_design.sweep_summary_table(result, backend.description))
    out.print("wrote " + ", ".join(str(path) for path in written), soft_wrap=True)
    if result.failures:
        raise SweepFailed(failure_message(result))

"""``simtrial size`` and ``simtrial sweep``: thin commands over :mod:`sim.sizing`, :mod:`sim.sweep`
and :mod:`sim.cluster`. No numerics here.

Flag values are parsed here from text, so that a bad value gets the same one-line ``error: ...``
and exit status 2 as a bad scenario (click's own messages span several lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import UsageError
from .common import (
    DEFAULT_OUT,
    Interrupted,
    open_output,
    output_options,
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


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--analysis", "analysis_id", metavar="ID", help="The analysis to size: its id, or its index.")
@click.option("--target-power", metavar="P", help="For a comparison: the power to reach, e.g. 0.8.")
@click.option("--target-width", metavar="W", help="For an estimate: the interval width to reach (expected width <= W).")
@click.option("--assurance", metavar="Q", help="With --target-width: P(width <= W) must be >= Q instead.")
@click.option("--vary", multiple=True, metavar="GROUP",
              help="A group whose size varies (repeat; default the analysis' groups). Ratios are kept; "
                   "the first one's size is n.")
@click.option("--range", "size_range", metavar="MIN:MAX", help="Sizes n of the first varied group [default: 2:200].")
@click.option("--method", default="auto", show_default=True, metavar="auto|exact|monte-carlo",
              help="Exact enumeration, or the simulator with common random numbers across sizes; auto: "
                   "exact where the model allows it.")
@click.option("--trials", metavar="N",
              help="Virtual trials per size when simulating (default: the scenario's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout and nothing else.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/<name>/size_<analysis>.csv, .png and .json.")
@output_options
def size(scenario: Path, analysis_id: Optional[str], target_power: Optional[str], target_width: Optional[str],
         assurance: Optional[str], vary: tuple[str, ...], size_range: Optional[str], method: str,
         trials: Optional[str], as_json: bool, out_dir: Path, force: bool, wait: bool) -> None:
    """Find the group sizes SCENARIO needs for a target power or interval width; table, CSV and plot."""
    from .. import io
    from ..designs import sizing
    from ..report import design as report_design
    from ..report.figures import size_figure
    from ..report.terminal import trial_progress
    from ..scenario import load_scenario

    if analysis_id is None:
        raise UsageError("--analysis: required; give the id (or index) of one of the scenario's analyses")
    if (target_power is None) == (target_width is None):
        raise UsageError("give exactly one of --target-power P (comparisons) or --target-width W (estimates)")
    if assurance is not None and target_width is None:
        raise UsageError("--assurance: only with --target-width")
    request = dict(
        target_power=_float("--target-power", target_power),
        target_width=_float("--target-width", target_width),
        assurance=_float("--assurance", assurance),
        vary=list(vary) or None,
        size_range=_size_range(size_range) or sizing.DEFAULT_RANGE,
        method=method,
        trials=_int("--trials", trials),
    )
    spec = load_scenario(scenario)
    out, err = stdout_console(), stderr_console()
    sizes = request["size_range"][1] - request["size_range"][0] + 1
    with open_output(out_dir / spec.name, spec, scenario, force=force, wait=wait) as folder:
        with trial_progress(err, sizes, f"sizing {spec.name}",
                            enabled=err.is_terminal and method != "exact") as advance:
            result = sizing.size_study(spec, analysis_id, on_size=lambda n: advance(1), **request)
        folder.claim()
        written = sizing.write_size_outputs(folder.path, result, scenario_file=str(scenario))
        written.append(size_figure(result, folder.path / f"size_{result.analysis}.png"))
    if as_json:
        click.echo(io.to_json(result.to_dict()), nl=False)
        return
    for table in report_design.size_tables(result):
        out.print(table)
    out.print(report_design.recommendation(result))
    out.print("wrote " + ", ".join(str(path) for path in written))


@click.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--grid", "grid_path", type=click.Path(path_type=Path), metavar="GRID.yaml",
              help="Dotted scenario paths to vary, as 'product' and/or 'zip' of value lists.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=DEFAULT_OUT, show_default=True,
              help="Writes DIR/<name>/<grid>/sweep.parquet, sweep.csv, sweep.json and points/.")
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
    out.print(report_design.sweep_summary_table(result, backend.description))
    out.print("wrote " + ", ".join(str(path) for path in written))
    if result.failures:
        raise SweepFailed(failure_message(result))

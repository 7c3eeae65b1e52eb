"""Sweeps: a grid of design points, each run by the same compute function on any executor.

A grid names scenario fields by dotted path, as a ``product`` of value lists and/or a ``zip``
of equally long lists (zip rows vary slowest, the last product field fastest)::

    product:
      groups.prior_tki.n: [20, 30, 40, 60]
      groups.prior_tki.cardiac_event.p_early: [0.6, 0.8]

:func:`plan_sweep` validates every point before any work starts. :func:`run_point` is the one
compute path: it runs a whole point through the runner (chunks of trials, integer tallies, exact
sums) wherever it lands, here or on a Dask worker. Each point's Philox stream is keyed by
the scenario seed and stream 0, as every run is (:mod:`sim.runner`): a point's numbers do not depend on the
backend, the worker count, the order of completion, nor on which grid produced it, and a point whose
scenario equals a scenario file gives the numbers ``simtrial run`` gives for that file.

:func:`run_sweep` writes each point's result atomically, named by a hash of the point's scenario
(seed and trials included) and the code version, with a SHA-256 ``digest`` of its content; with
``resume=True`` points whose file exists and checks out (digest, key, scenario, code version,
analyses) are not run again, and a damaged file is recomputed and counted. A point that raises,
or that keeps killing workers (Dask's ``KilledWorker`` after
``distributed.scheduler.allowed-failures`` worker deaths), is reported as failed while the others
finish; an interruption (Ctrl-C) is never a point failure: it stops the sweep.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, Optional, Sequence

import pandas as pd

from .. import folders, io
from ..digests import canonical_digest
from ..errors import ScenarioError, SimtrialError, UsageError, interruption
from ..runner import run_scenario
from ..scenario import Scenario, read_yaml, set_dotted, validate_scenario
from .points import load_record, seal_record

GRID_SECTIONS = ("product", "zip")
# A grid is expanded and validated in memory before any work: bound it.
MAX_POINTS = 100_000
POINTS_DIR = "points"
# Result columns shown first in sweep tables (then the rest of each analysis' fields).
LEADING_RESULT_COLUMNS = ("analysis", "kind", "endpoint", "groups", "trials", "power", "power_se",
                          "exact_power", "mean_width", "mean_width_se", "exact_mean_width", "coverage",
                          "exact_coverage")

# What on_point is told: "skipped" (done in an earlier run, --resume), "done" or "failed".
PointStatus = Literal["skipped", "done", "failed"]


class SweepFailed(SimtrialError):
    """Some points failed; the message lists each with its parameters. The others were written."""

    exit_code = 1


# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class Grid:
    """Dotted scenario paths and their values: ``product`` axes and one ``zip`` axis."""

    product: tuple[tuple[str, tuple[Any, ...]], ...]
    zip: tuple[tuple[str, tuple[Any, ...]], ...]
    source: str = "grid"

    @property
    def parameters(self) -> tuple[str, ...]:
        """The varied paths, zip fields first: the parameter columns of the sweep table."""
        return tuple(path for path, _ in self.zip) + tuple(path for path, _ in self.product)

    @property
    def size(self) -> int:
        rows = len(self.zip[0][1]) if self.zip else 1
        for _, values in self.product:
            rows *= len(values)
        return rows

    def points(self) -> Iterator[dict[str, Any]]:
        """Every point as {path: value}, zip rows outermost, the last product field fastest."""
        zip_rows = (list(zip(*(values for _, values in self.zip))) if self.zip else [()])
        product_rows = itertools.product(*(values for _, values in self.product))
        zip_paths = [path for path, _ in self.zip]
        product_paths = [path for path, _ in self.product]
        for zip_row, product_row in itertools.product(zip_rows, list(product_rows)):
            yield {**dict(zip(zip_paths, zip_row)), **dict(zip(product_paths, product_row))}

    def to_dict(self) -> dict:
        return {section: {path: list(values) for path, values in getattr(self, section)}
                for section in GRID_SECTIONS if getattr(self, section)}


def parse_grid(data: Any, *, source: str = "grid") -> Grid:
    """Check a grid's structure (sections, paths, value lists) and return it; ScenarioError otherwise."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping with 'product' and/or 'zip', got {type(data).__name__}")
    unknown = [key for key in data if key not in GRID_SECTIONS]
    if unknown:
        raise ScenarioError(f"{source}: {unknown[0]}: unknown section; expected 'product' and/or 'zip'")
    sections: dict[str, tuple[tuple[str, tuple[Any, ...]], ...]] = {}
    seen: dict[str, str] = {}
    for section in GRID_SECTIONS:
        body = data.get(section) or {}
        if not isinstance(body, dict):
            raise ScenarioError(f"{source}: {section}: expected a mapping of dotted scenario paths to lists of "
                                f"values, got {type(body).__name__}")
        axes = []
        for path, values in body.items():
            where = f"{source}: {section}.{path}"
            if not isinstance(path, str) or not path or any(part == "" for part in path.split(".")):
                raise ScenarioError(f"{source}: {section}: got path {path!r}; expected a dotted scenario path "
                                    f"such as groups.prior_tki.n")
            if path in seen:
                raise ScenarioError(f"{where}: path also given under {seen[path]}; each path may vary once")
            if not isinstance(values, list) or not values:
                raise ScenarioError(f"{where}: got {values!r}; expected a non-empty list of values")
            seen[path] = section
            axes.append((path, tuple(values)))
        sections[section] = tuple(axes)
    if not sections["product"] and not sections["zip"]:
        raise ScenarioError(f"{source}: no parameters; expected 'product' and/or 'zip' with at least one path")
    lengths = {path: len(values) for path, values in sections["zip"]}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{path} has {n}" for path, n in lengths.items())
        raise ScenarioError(f"{source}: zip: lists must have the same length; {listing}")
    grid = Grid(product=sections["product"], zip=sections["zip"], source=source)
    if grid.size > MAX_POINTS:
        raise ScenarioError(f"{source}: {grid.size:,} points; expected at most {MAX_POINTS:,} (split the grid)")
    return grid


def grid_folder_name(grid_path) -> str:
    """The sweep's folder under ``DIR/<name>/``: the grid file's name without ``.yaml``/``.yml``.

    ``a.b.yaml`` gives ``a.b``; a name that would give no folder of its own (``.yaml``, ``...yaml``:
    an empty name, ``..`` or a hidden folder) is refused with one line.

    Examples
    --------
    >>> grid_folder_name("scenarios/grids/tki_sensitivity.yaml"), grid_folder_name("a.b.yml")
    ('tki_sensitivity', 'a.b')
    """
    name = Path(grid_path).name
    for suffix in (".yaml", ".yml"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name = Path(name).stem
    if not name or name.startswith(".") or "/" in name:
        raise UsageError(f"--grid: the file name {Path(grid_path).name!r} gives no folder name for the outputs "
                         f"(DIR/<name>/<grid file name without .yaml>/); rename it, e.g. to grid.yaml")
    return name


def load_grid(path) -> Grid:
    """Read and check a grid YAML file (safe YAML, duplicate keys refused)."""
    return parse_grid(read_yaml(path), source=str(path))


# --------------------------------------------------------------------------- points


def code_version() -> dict[str, str]:
    """What, besides the scenario, determines a point's numbers: part of its result's name.

    The package version, the hash of the kernel sources, and a hash of the modules that turn
    counts into results (model, runner, analyses); numpy, scipy and numba versions as well.
    """
    import numba
    import numpy
    import scipy

    from .. import __version__
    from ..kernels._jit import KERNEL_SOURCE_HASH

    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in [package / "model.py", package / "runner.py", *sorted((package / "analysis").glob("*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return {"simtrial": __version__, "kernels": KERNEL_SOURCE_HASH, "numerics": digest.hexdigest()[:16],
            "numpy": numpy.__version__, "scipy": scipy.__version__, "numba": numba.__version__}


def _canonical_hash(data: Any, length: int = 24) -> str:
    return canonical_digest(data).hex()[:length]


def _format_value(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str) if isinstance(value, (dict, list)) else str(value)


def point_label(index: int, parameters: Sequence[tuple[str, Any]]) -> str:
    """``point 3 (groups.prior_tki.n=40, ...)``: how messages name a point."""
    return f"point {index} ({', '.join(f'{path}={_format_value(value)}' for path, value in parameters)})"


@dataclass(frozen=True, eq=False)
class SweepPoint:
    """One validated design point: what a worker needs to run it (small, picklable)."""

    index: int
    parameters: tuple[tuple[str, Any], ...]
    scenario: Scenario
    stream: int
    key: str

    @property
    def label(self) -> str:
        return point_label(self.index, self.parameters)


def point_stream(scenario: Scenario) -> int:
    """The Philox stream of a point: 0, as for every run (see :mod:`sim.runner`), so a point whose
    scenario equals a scenario file gives the numbers ``simtrial run`` gives for that file."""
    return 0


def point_key(scenario: Scenario, code: Mapping[str, str]) -> str:
    """The name of a point's result: a hash of its scenario, seed, trials and code version."""
    return _canonical_hash({"scenario": scenario.to_dict(), "seed": scenario.seed, "trials": scenario.trials,
                            "code": dict(code)})


def _missing_parent(data: Any, dotted: str) -> Optional[str]:
    """Why the path's parent is not in the scenario (None if it is): catches misspelt groups early.

    Only the parent must exist: the last part may be an optional field not set in the scenario
    (``washout_months.max``); pydantic rejects it if it is no field at all.
    """
    node = data
    parts = dotted.split(".")
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return f"{where}: not an index of the list (0 to {len(node) - 1})"
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                known = ", ".join(map(str, node)) or "none"
                return f"{where}: not in the scenario (fields there: {known})"
            node = node[part]
        if not isinstance(node, (dict, list)):
            return f"{where}: holds a value ({node!r}), not fields"
    return None


def plan_sweep(scenario: Scenario, grid: Grid) -> tuple[SweepPoint, ...]:
    """Validate every point of the grid against the scenario, before any work.

    Raises
    ------
    ScenarioError
        For the first invalid point: its index, parameters, and one line per bad field.
    """
    base = scenario.to_dict()
    code = code_version()
    points = []
    for index, parameters in enumerate(grid.points()):
        source = f"{grid.source}: {point_label(index, parameters.items())}"
        data = copy.deepcopy(base)
        for dotted, value in parameters.items():
            problem = _missing_parent(data, dotted)
            if problem:
                raise ScenarioError(f"{source}: {problem}")
            set_dotted(data, dotted, value)
        point_scenario = validate_scenario(data, source=source)
        points.append(SweepPoint(index, tuple(parameters.items()), point_scenario, point_stream(point_scenario),
                                 point_key(point_scenario, code)))
    return tuple(points)


def run_point(point: SweepPoint) -> dict:
    """Run one point and return its result record. The compute function on every backend.

    Pure: the same point gives the same record anywhere (its stream is part of the point; chunk
    tallies are integers and add exactly). Inside a Dask worker numba uses the worker's
    ``NUMBA_NUM_THREADS`` threads; here it uses all cores.
    """
    result = run_scenario(point.scenario, stream=point.stream)
    return {
        "key": point.key,
        "parameters": dict(point.parameters),
        "scenario": point.scenario.name,
        "seed": point.scenario.seed,
        "trials": point.scenario.trials,
        "stream": point.stream,
        "analyses": [summary.to_dict() for summary in result.summaries],
        "monitoring": [rule.to_dict() for rule in result.monitoring],
        "enrolment": [group.to_dict() for group in result.enrolment],
        "scenario_spec": point.scenario.to_dict(),
    }


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class PointFailure:
    """A point that did not finish, and why (exception type and first line)."""

    index: int
    parameters: tuple[tuple[str, Any], ...]
    error: str

    @property
    def label(self) -> str:
        return point_label(self.index, self.parameters)


@dataclass(frozen=True)
class SweepResult:
    """Every finished point's results (by key), the failures, and which points ran in this call.

    ``records[key]`` holds the point's ``stream`` and ``analyses``; its file ``points/<key>.json``
    also holds the parameters, the validated scenario, seed and trials.
    """

    points: tuple[SweepPoint, ...]
    records: Mapping[str, dict]
    failures: tuple[PointFailure, ...]
    computed: tuple[str, ...]
    skipped: tuple[str, ...]
    elapsed_seconds: float
    damaged: tuple[str, ...] = ()  # keys whose file was damaged (digest, key or shape) and was recomputed

    @property
    def complete(self) -> bool:
        return not self.failures

    def table(self) -> pd.DataFrame:
        """One row per point and analysis, in grid order: see :func:`sweep_table`."""
        return sweep_table(self.points, self.records)


def point_path(directory: Path, key: str) -> Path:
    return Path(directory) / POINTS_DIR / f"{key}.json"


def _table_fields(record: dict) -> dict:
    """The part of a point's record the sweep table uses (the full record stays in its file)."""
    return {"key": record["key"], "stream": record["stream"], "analyses": record["analyses"],
            "monitoring": record.get("monitoring", [])}


def _failure(point: SweepPoint, exc: BaseException) -> PointFailure:
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return PointFailure(point.index, point.parameters, text)


def run_sweep(
    points: Sequence[SweepPoint],
    directory,
    *,
    executor: Optional[Executor] = None,
    resume: bool = False,
    compute: Callable[[SweepPoint], dict] = run_point,
    on_point: Optional[Callable[[SweepPoint, PointStatus], None]] = None,
    max_in_flight: int = 64,
) -> SweepResult:
    """Run every point not already done and write each result atomically as it arrives.

    Parameters
    ----------
    points : sequence of SweepPoint
        From :func:`plan_sweep`.
    directory : path
        Where ``points/<key>.json`` go.
    executor : concurrent.futures.Executor, optional
        ``None`` runs points one after the other here, each on all cores (numba threads); a Dask
        ``client.get_executor()`` runs them on the cluster's workers. The results are the same.
    resume : bool
        Skip points whose result file exists and checks out (:func:`record_problem`: digest, key,
        scenario, code version, analyses); a file that does not is recomputed and listed in
        ``SweepResult.damaged``.
    compute : callable
        The function that runs a point; :func:`run_point` (tests wrap it to inject faults).
    on_point : callable, optional
        ``on_point(point, status)`` with status ``"skipped"``, ``"done"`` or ``"failed"``.
    max_in_flight : int
        Points submitted to the executor at once (memory and cancellation stay bounded).

    Returns
    -------
    SweepResult

    Notes
    -----
    Results are written by this process, not by workers, so workers need no shared file system.
    The folder's lock (:func:`sim.folders.folder_lock`) is held throughout: a second sweep on
    the same folder refuses. An interruption (KeyboardInterrupt, also when it reaches us as the
    cause of a point's error, or from a worker) cancels the points in flight and propagates; it
    is never recorded as a failed point. Every file already written is complete, and a later
    ``resume=True`` run skips those points.

    Examples
    --------
    >>> points = plan_sweep(load_scenario("scenarios/tki_vs_bev.yaml"),  # doctest: +SKIP
    ...                     load_grid("scenarios/grids/tki_sensitivity.yaml"))
    >>> result = run_sweep(points, "results/tki_vs_bev/tki_sensitivity")  # doctest: +SKIP
    >>> result.table()[["groups.prior_tki.n", "analysis", "power", "exact_power"]]  # doctest: +SKIP
    """
    directory = Path(directory)
    (directory / POINTS_DIR).mkdir(parents=True, exist_ok=True)
    with folders.folder_lock(directory):  # nests inside the command's own lock
        for folder in (directory, directory / POINTS_DIR):
            folders.remove_stale_temporaries(folder)
        return _run_points(points, directory, executor=executor, resume=resume, compute=compute,
                           notify=on_point or (lambda point, status: None), max_in_flight=max_in_flight)


def _run_points(points: Sequence[SweepPoint], directory: Path, *, executor: Optional[Executor], resume: bool,
                compute: Callable[[SweepPoint], dict], notify: Callable[[SweepPoint, PointStatus], None],
                max_in_flight: int) -> SweepResult:
    started = time.perf_counter()
    code = code_version()
    records: dict[str, dict] = {}
    skipped: list[str] = []
    damaged: list[str] = []
    todo: list[SweepPoint] = []
    queued: set[str] = set()
    for point in points:
        if point.key in queued or point.key in records:
            continue  # the same scenario twice in a grid: run once, reported under every index
        record, bad = load_record(point_path(directory, point.key), point, code) if resume else (None, False)
        if record is not None:
            records[point.key] = _table_fields(record)
            skipped.append(point.key)
            notify(point, "skipped")
        else:
            if bad:
                damaged.append(point.key)
            todo.append(point)
            queued.add(point.key)

    computed: list[str] = []
    failures: list[PointFailure] = []

    def finish(point: SweepPoint, record: dict) -> None:
        sealed = seal_record(record, code)
        io.write_json_atomic(point_path(directory, point.key), sealed)
        # Keep what the table needs, as written (JSON-clean), so a resumed table equals a fresh one.
        records[point.key] = _table_fields(sealed)
        computed.append(point.key)
        notify(point, "done")

    def fail(point: SweepPoint, exc: BaseException) -> None:
        stop = interruption(exc)
        if stop is not None:  # Ctrl-C (here or in a worker) stops the sweep; it is no point's failure
            raise stop
        failures.append(_failure(point, exc))
        notify(point, "failed")

    if executor is None:
        for point in todo:
            try:
                record = compute(point)
            except Exception as exc:  # noqa: BLE001 - a failing point is reported, the others go on
                fail(point, exc)
                continue
            finish(point, record)
    else:
        pending: dict[Future, SweepPoint] = {}
        remaining = iter(todo)
        try:
            while True:
                for point in itertools.islice(remaining, max(0, max_in_flight - len(pending))):
                    pending[executor.submit(compute, point)] = point
                if not pending:
                    break
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f].index):
                    point = pending.pop(future)
                    exc = future.exception()
                    if exc is not None:
                        fail(point, exc)
                    else:
                        finish(point, future.result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return SweepResult(
        points=tuple(points),
        records=records,
        failures=tuple(sorted(failures, key=lambda f: f.index)),
        computed=tuple(computed),
        skipped=tuple(skipped),
        elapsed_seconds=time.perf_counter() - started,
        damaged=tuple(damaged),
    )


def completed_points(points: Sequence[SweepPoint], directory) -> int:
    """How many of the points have a result file in ``directory`` (for the message of a stopped sweep)."""
    return sum(point_path(Path(directory), point.key).exists() for point in points)


# --------------------------------------------------------------------------- outputs


def _cell(value: Any) -> Any:
    """Parameter values as table cells: mappings and lists become canonical JSON text."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def _analysis_row(summary: Mapping[str, Any]) -> dict:
    """The analysis' results as columns: one per quantity, ``n_<group>`` and ``true_rate_<group>``
    per group (see :func:`sim.report.frames.analysis_record`)."""
    from ..report.frames import analysis_record

    return analysis_record(summary)


def sweep_table(points: Sequence[SweepPoint], records: Mapping[str, dict]) -> pd.DataFrame:
    """One row per finished point and analysis, in grid order.

    Columns: ``point`` (the index in the grid), the grid's parameters (dotted paths), then the
    analysis' results as ``simtrial run`` reports them (``analysis``, ``kind``, ``endpoint``,
    ``groups``, ``n_<group>`` and ``true_rate_<group>`` for each group, ``trials``, ``power``,
    ``power_se``, ``exact_power`` for comparisons; ``mean_width``, ``exact_mean_width``, coverage
    and the target and reference probabilities for estimates), then ``stream`` and ``key``.
    Counts are ``Int64`` and floats carry 15 significant digits (:mod:`sim.report.frames`).
    """
    from ..report.frames import records_frame

    rows = []
    parameter_names: list[str] = []
    group_columns: list[str] = []
    for point in sorted(points, key=lambda p: p.index):
        parameter_names.extend(p for p, _ in point.parameters if p not in parameter_names)
        record = records.get(point.key)
        if record is None:
            continue
        for summary in record["analyses"] + record.get("monitoring", []):
            row = _analysis_row(summary)
            group_columns.extend(c for c in row if c.startswith(("n_", "true_rate_")) and c not in group_columns)
            rows.append({"point": point.index, **{p: _cell(v) for p, v in point.parameters},
                         **row, "stream": str(record["stream"]), "key": point.key})
    for name in parameter_names:
        values = [row[name] for row in rows if name in row]
        if len({type(v) for v in values}) > 1 and any(isinstance(v, str) for v in values):
            for row in rows:  # mixed text and numbers: all text
                if name in row:
                    row[name] = _format_value(row[name])
    frame = records_frame(rows)
    if frame.empty:
        return frame
    group_columns.sort(key=lambda c: not c.startswith("n_"))  # every n_<group>, then every true_rate_<group>
    identification = ["analysis", "kind", "endpoint", "groups"]
    leading = ["point", *parameter_names, *[c for c in identification if c in frame], *group_columns,
               *[name for name in LEADING_RESULT_COLUMNS if name in frame and name not in identification]]
    trailing = ["stream", "key"]
    return frame[leading + [c for c in frame.columns if c not in leading and c not in trailing] + trailing]


def write_sweep_outputs(directory, result: SweepResult, manifest: Mapping[str, Any]) -> list[Path]:
    """``sweep.parquet`` and ``sweep.csv`` (the table) and ``sweep.json`` (the manifest: counts,
    failures, versions, and the SHA-256 of the other two files), written as one unit
    (:func:`sim.io.write_unit`): the folder never holds a table of one sweep beside the manifest of
    another."""
    directory = Path(directory)
    frame = result.table()
    with folders.folder_lock(directory):
        io.write_unit(directory, {
            "sweep.parquet": lambda path: frame.to_parquet(path, index=False, engine="pyarrow"),
            "sweep.csv": lambda path: frame.to_csv(path, index=False),
        }, manifest="sweep.json", data={
            **manifest,
            "points": len(result.points),
            "finished": len(result.points) - len(result.failures),
            "computed": len(result.computed),
            "skipped": len(result.skipped),
            "damaged_recomputed": len(result.damaged),
            "failures": [{"point": f.index, "parameters": dict(f.parameters), "error": f.error}
                         for f in result.failures],
            "run_time_seconds": round(result.elapsed_seconds, 3),
            "code_version": code_version(),
            "finished_at": io.utc_now(),
            "command": io.command_line(),
            "versions": io.versions(),
        })
    return [directory / "sweep.parquet", directory / "sweep.csv", directory / "sweep.json"]


def failure_message(result: SweepResult) -> str:
    """The lines a failed sweep exits with: a count, then each failed point and its error."""
    lines = [f"{len(result.failures)} of {len(result.points)} points failed (the others are written; "
             f"rerun with --resume to retry only these):"]
    lines += [f"{failure.label}: {failure.error}" for failure in result.failures]
    return "\n".join(lines)

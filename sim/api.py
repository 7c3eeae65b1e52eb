"""Conveniences for notebooks that the command line does not need (re-exported by :mod:`sim`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional, Union


def sweep_scenario(
    scenario,
    grid: Union[Mapping[str, Any], "os.PathLike[str]", str, Any],
    *,
    out: Optional[Union[str, os.PathLike]] = None,
    resume: bool = False,
    executor=None,
):
    """Run ``scenario`` at every point of ``grid`` and return the results (``.table()`` is a DataFrame).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`sim.load_scenario`, :meth:`sim.Scenario.with_changes`).
    grid : mapping, path or Grid
        ``{"product": {...}, "zip": {...}}`` of dotted scenario paths to value lists (as in a grid
        file), the path of a grid file, or a parsed :class:`sim.designs.sweep.Grid`. Every point
        is validated before any work starts.
    out : path, optional
        Folder for ``points/<key>.json`` (what ``resume`` reuses). ``None``: a temporary folder,
        removed afterwards; nothing is left on disk.
    resume : bool
        Reuse the points already in ``out``.
    executor : concurrent.futures.Executor, optional
        Where points run (a Dask ``client.get_executor()``); ``None`` runs them here, one after the
        other, each on every core. The numbers do not depend on it.

    Returns
    -------
    sim.designs.sweep.SweepResult
        ``.table()``: one row per point and analysis, the grid's parameters first, numeric dtypes
        (``Int64`` counts, float rates); ``.failures``: points that failed, with their error.

    Notes
    -----
    The same computation as ``simtrial sweep`` (:func:`sim.designs.sweep.run_sweep`): each point's
    random stream is keyed by the scenario's seed and the point's patient model, so a point's
    numbers are those of ``simtrial run`` on the changed scenario with that stream.

    Examples
    --------
    >>> import sim
    >>> base = sim.load_scenario("scenarios/cho2009_retrospective.yaml").with_changes({"trials": 500})
    >>> sweep = sim.sweep_scenario(base, {"product": {"groups.prior_tki.n": [15, 30]}})
    >>> table = sweep.table()
    >>> table[table.analysis == "historical_rate"][["groups.prior_tki.n", "exact_power"]].round(3)
       groups.prior_tki.n  exact_power
    1                  15        0.118
    5                  30        0.297
    """
    from .designs.sweep import Grid, load_grid, parse_grid, plan_sweep, run_sweep

    if isinstance(grid, Grid):
        parsed = grid
    elif isinstance(grid, Mapping):
        parsed = parse_grid(dict(grid), source="grid")
    else:
        parsed = load_grid(Path(grid))
    points = plan_sweep(scenario, parsed)
    if out is not None:
        return run_sweep(points, Path(out), executor=executor, resume=resume)
    with tempfile.TemporaryDirectory(prefix="simtrial-sweep-") as folder:
        return run_sweep(points, Path(folder), executor=executor)

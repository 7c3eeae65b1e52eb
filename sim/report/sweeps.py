"""A finished sweep for people: one row per point (the varied parameters, then each analysis'
key number), printed at the end of ``simtrial sweep``.

The key number of a comparison is its power (Monte Carlo), of an estimate its mean interval width
(percentage points). Analyses are numbered columns ``[1]``, ``[2]`` ... with a legend below, and
split over several tables when they would not fit the terminal; parameters are headed by the
shortest unambiguous end of their dotted path (the legend gives the full path).
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from .formats import DASH, pct, pp

_CELL_WIDTH = 8  # "100.0%" or "36.2 pp", plus the column gap


def short_names(paths: list[str]) -> dict[str, str]:
    """The shortest dotted suffix of each path that no other path ends with.

    Examples
    --------
    >>> short_names(["groups.prior_tki.n", "groups.prior_bev.n", "eligibility.min_washout_months"])
    {'groups.prior_tki.n': 'prior_tki.n', 'groups.prior_bev.n': 'prior_bev.n', 'eligibility.min_washout_months': 'min_washout_months'}
    """
    names = {}
    for path in paths:
        parts = path.split(".")
        for length in range(1, len(parts) + 1):
            candidate = ".".join(parts[-length:])
            if not any(other != path and (other == candidate or other.endswith("." + candidate)) for other in paths):
                names[path] = candidate
                break
        else:
            names[path] = path
    return names


def key_metric(kind: str) -> tuple[str, str]:
    """(column, label) of the number a sweep table shows for an analysis kind."""
    return ("power", "power") if kind == "compare" else ("mean_width", "mean width")


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return DASH
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sweep_results_tables(frame, parameters: list[str], *, width: int = 80) -> list:
    """Tables of a sweep's results (``SweepResult.table()``): one row per point, then a legend."""
    if frame is None or frame.empty:
        return [Text("no finished points to show")]
    analyses = list(dict.fromkeys(frame["analysis"]))
    kinds = {a: frame.loc[frame["analysis"] == a, "kind"].iloc[0] for a in analyses}
    names = short_names(parameters)
    points = list(dict.fromkeys(frame["point"]))
    by_point = {point: frame[frame["point"] == point] for point in points}
    parameter_width = sum(max(len(names[p]), *(len(_cell(v)) for v in frame[p])) + 1 for p in parameters) + 6
    per_table = max(1, (width - parameter_width) // _CELL_WIDTH)
    renderables: list = []
    for start in range(0, len(analyses), per_table):
        chunk = analyses[start:start + per_table]
        table = Table(box=box.SIMPLE_HEAVY, show_edge=False, padding=(0, 1, 0, 0),
                      title=f"sweep results ({', '.join(f'[{analyses.index(a) + 1}]' for a in chunk)})"
                      if len(analyses) > per_table else "sweep results", title_justify="left")
        table.add_column("point", justify="right")
        for path in parameters:
            table.add_column(names[path], justify="right")
        for analysis in chunk:
            table.add_column(f"[{analyses.index(analysis) + 1}]", justify="right")
        for point in points:
            rows = by_point[point]
            first = rows.iloc[0]
            cells = [str(point), *[_cell(first[p]) for p in parameters]]
            for analysis in chunk:
                match = rows[rows["analysis"] == analysis]
                column, _ = key_metric(kinds[analysis])
                value = None if match.empty or column not in match else match[column].iloc[0]
                value = None if value is None or value != value else float(value)
                cells.append(DASH if value is None else (pct(value) if column == "power" else pp(value)))
            table.add_row(*cells)
        renderables.append(table)
    legend = Text()
    for index, analysis in enumerate(analyses, start=1):
        _, label = key_metric(kinds[analysis])
        legend.append(f"[{index}] {analysis}: {label} (Monte Carlo)\n")
    for path in parameters:
        if names[path] != path:
            legend.append(f"{names[path]} = {path}\n")
    legend.append("standard errors, exact values and every other quantity: sweep.csv / sweep.parquet")
    renderables.append(legend)
    return renderables

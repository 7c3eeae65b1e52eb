"""Result tables for analysis: one row per analysis, one column per quantity, proper dtypes.

The same rows feed ``summary.csv``, ``RunResult.to_frame()`` and the sweep table, so a column
means the same everywhere:

- per-group numbers get one column per group: ``n_<group>`` and ``true_rate_<group>`` (never a
  ``"30;30"`` string); ``groups`` keeps the analysis' group names in order, ``;``-separated;
- counts (every column whose values are all whole numbers: ``trials``, ``rejections``,
  ``undefined_trials``, ``n_<group>``, ...) are nullable integers (``Int64``), so an analysis
  kind without the count leaves it empty instead of turning the column into floats;
- floats are rounded to 15 significant digits, the precision a double carries in decimal: the
  last-bit noise of sums (``0.005399999999999999`` for 108/20000) prints as ``0.0054``;
- any other list (a future per-look vector) becomes canonical JSON text in its cell.

Rows are built from each summary's ``to_dict()``, so summaries of kinds added later slot in.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable, Mapping, Optional

# Fields replaced by per-group columns.
_PER_GROUP = {"n": "n", "true_rates": "true_rate", "true_rate": "true_rate"}


def tidy_float(value: float) -> float:
    """``value`` rounded to 15 significant digits (NaN and infinities unchanged).

    Examples
    --------
    >>> tidy_float(0.005399999999999999)
    0.0054
    >>> tidy_float(0.1 + 0.2)
    0.3
    """
    if not math.isfinite(value):
        return value
    return float(f"{value:.15g}")


def analysis_record(summary: Mapping[str, Any]) -> dict:
    """One analysis as a flat row: ``analysis`` (its id) first, per-group columns for n and rates."""
    groups = [str(g) for g in summary.get("groups") or ()]
    row: dict[str, Any] = {"analysis": summary.get("id")}
    per_group: dict[str, Any] = {}
    for name, value in summary.items():
        if name == "id":
            continue
        if name == "groups":
            row["groups"] = ";".join(groups)
            continue
        if name in _PER_GROUP and groups:
            values = list(value) if isinstance(value, (list, tuple)) else [value] * (1 if len(groups) == 1 else 0)
            if len(values) == len(groups):
                for group, item in zip(groups, values):
                    per_group[f"{_PER_GROUP[name]}_{group}"] = item
                continue
        if isinstance(value, (list, tuple, dict)):
            value = json.dumps(value, sort_keys=True, default=str)
        row[name] = value
    # Per-group columns right after the identification columns.
    leading = {key: row.pop(key) for key in ("analysis", "kind", "endpoint", "groups") if key in row}
    ordered = {key: per_group[key] for prefix in ("n", "true_rate") for key in
               (f"{prefix}_{group}" for group in groups) if key in per_group}
    return {**leading, **ordered, **row}


def _integer_columns(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    kinds: dict[str, bool] = {}
    for row in rows:
        for key, value in row.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            is_int = isinstance(value, int) and not isinstance(value, bool)
            kinds[key] = kinds.get(key, True) and is_int
    return {key for key, is_int in kinds.items() if is_int}


def _boolean_columns(rows: Iterable[Mapping[str, Any]]) -> set[str]:
    kinds: dict[str, bool] = {}
    for row in rows:
        for key, value in row.items():
            if value is None:
                continue
            kinds[key] = kinds.get(key, True) and isinstance(value, bool)
    return {key for key, is_bool in kinds.items() if is_bool}


def records_frame(rows: list[Mapping[str, Any]], columns: Optional[list[str]] = None):
    """A DataFrame of ``rows`` with whole-number columns as ``Int64``, flags as ``boolean``, empty
    columns as float (NaN) and floats rounded to 15 significant digits."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns)
    for name in _integer_columns(rows):
        if name in frame:
            frame[name] = frame[name].astype("Int64")
    for name in _boolean_columns(rows):
        if name in frame and frame[name].isna().any():
            frame[name] = frame[name].astype("boolean")
    for name in frame.columns:
        if frame[name].dtype == object and frame[name].isna().all():
            frame[name] = frame[name].astype("float64")  # nothing to say here (an exact curve's SE)
        if frame[name].dtype == "float64":
            frame[name] = frame[name].map(tidy_float)
    return frame


def analyses_frame(summaries: Iterable[Mapping[str, Any]], **leading: Any):
    """One row per analysis (dicts as ``summary.to_dict()`` gives them), ``leading`` columns first."""
    from ..io import _clean

    rows = [{**leading, **analysis_record(_clean(dict(summary)))} for summary in summaries]
    return records_frame(rows)

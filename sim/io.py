"""Output files: atomic writes, summaries as JSON and CSV, run manifests.

Every file is written to a temporary file in the destination directory, flushed and
fsynced, then renamed over the target: a reader sees the old file or the new one, never a
half-written one, and an interrupted run leaves only finished files behind.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Union

import pandas as pd

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates owner-only files; give the result the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(path: PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _clean(value: Any) -> Any:
    """JSON-safe: tuples to lists, numpy scalars to Python, non-finite floats to null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(data: Any) -> str:
    return json.dumps(_clean(data), indent=2, allow_nan=False) + "\n"


def write_json_atomic(path: PathLike, data: Any) -> None:
    write_text_atomic(path, to_json(data))


def write_csv_atomic(path: PathLike, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def write_parquet_atomic(path: PathLike, frame: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False, engine="pyarrow")


def versions() -> dict[str, str]:
    """Versions that determine the numbers a run produces."""
    import numba
    import numpy
    import scipy

    from . import __version__

    return {
        "simtrial": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
    }


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])


def run_summary(result, *, scenario_file: str | None = None, threads: int | None = None) -> dict:
    """The summary.json payload of a run: results first, then what reproduces them.

    ``stream_version`` names the rule that maps (seed, trial, group, patient) to random numbers: the
    same scenario, seed and stream version give the same numbers.
    """
    from .runner import STREAM_VERSION

    return {
        "scenario": result.scenario.name,
        "seed": result.seed,
        "trials": result.trials,
        "analyses": [summary.to_dict() for summary in result.summaries],
        "monitoring": [rule.to_dict() for rule in result.monitoring],
        "enrolment": [group.to_dict() for group in result.enrolment],
        "agrees": result.agrees,
        "stream": result.stream,
        "stream_version": STREAM_VERSION,
        "scenario_file": scenario_file,
        "scenario_spec": result.scenario.to_dict(),
        "threads": threads,
        "run_time_seconds": round(result.elapsed_seconds, 3),
        "finished_at": utc_now(),
        "command": command_line(),
        "versions": versions(),
    }


def write_run_outputs(directory: PathLike, summary: dict) -> list[Path]:
    """summary.json and summary.csv (one row per analysis, the columns of
    :func:`sim.report.frames.analyses_frame`), each written atomically."""
    from .report.frames import analyses_frame

    directory = Path(directory)
    frame = analyses_frame(summary["analyses"], scenario=summary["scenario"], seed=summary["seed"])
    write_csv_atomic(directory / "summary.csv", frame)
    write_json_atomic(directory / "summary.json", summary)
    return [directory / "summary.json", directory / "summary.csv"]

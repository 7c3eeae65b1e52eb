"""Output files: atomic writes, a run's files written as one unit, summaries as JSON and CSV.

- **Atomic files.** Every file is written to a temporary file beside it (``.<name>.<pid>.<random>.tmp``),
  flushed and fsynced, then renamed over the target: a reader sees the old file or the new one,
  never a half-written one. The PID in the name lets :func:`sim.folders.remove_stale_temporaries`
  remove only the temporaries of processes that no longer exist.
- **Runs as one unit.** A command's files (``summary.csv`` and ``summary.json``; ``sweep.parquet``,
  ``sweep.csv`` and ``sweep.json``) are written by :func:`write_unit`: every file is first written
  in full as a temporary; only then are the old manifest and the old files removed, the new files
  renamed in, and the manifest (the JSON file, which lists every other file with its SHA-256)
  renamed in last. At no moment does the folder hold files of two different runs; a folder
  without its manifest holds an unfinished run, and :func:`read_unit` trusts the files only when
  the manifest is present and every digest matches. A write that fails (a full disk, say) fails
  while writing the temporaries, before anything is removed: the previous run stays whole.
- **Failed writes** are one :class:`OutputError` line naming the path and the OS error.

Output folders (checks before computing, locks, which scenario a folder belongs to) are in
:mod:`sim.folders`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import platform
import re
import signal
import sys
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Union

import pandas as pd

from .errors import SimtrialError

PathLike = Union[str, os.PathLike]

# .<target name>.<pid>.<mkstemp's random part>.tmp: the PID tells whether its writer still lives.
TEMPORARY_NAME = re.compile(r"^\..*\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


class OutputError(SimtrialError):
    """A file could not be written: the message names the path and the OS error."""

    exit_code = 1


def os_reason(exc: BaseException) -> str:
    """The OS's words for an error: ``No space left on device``, not a traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- atomic files


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    Any OSError while writing (a full disk, a folder that vanished) becomes one
    :class:`OutputError` naming ``path``; the temporary file is removed and ``path`` is unchanged.
    """
    path = Path(path)
    tmp_path = _temporary(path)
    try:
        yield tmp_path
        _fsync_file(tmp_path)
        os.replace(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {os_reason(exc)}") from exc
        raise


def _temporary(path: Path) -> Path:
    """A new empty temporary file beside ``path``, named with this process's PID."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {os_reason(exc)}") from exc
    os.close(fd)
    # mkstemp creates owner-only files; give the result the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(directory: Path) -> None:
    """Make renames and removals in ``directory`` durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text_atomic(path: PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- runs as one unit


def file_digest(path: PathLike) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold back Ctrl-C for the few renames of a commit; it takes effect right after them.

    Only the main thread can change signal handlers; elsewhere this does nothing (a kill in the
    middle still leaves no mix: see :func:`write_unit`).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                raise KeyboardInterrupt


def write_unit(directory: PathLike, files: Mapping[str, Callable[[Path], None]], *, manifest: str,
               data: Mapping[str, Any]) -> dict:
    """Write a run's files and its JSON manifest so that the folder never holds a mix of two runs.

    Parameters
    ----------
    directory : path
        The output folder (it must exist).
    files : mapping of file name to writer
        ``writer(path)`` writes the file's content to ``path`` (a temporary file).
    manifest : str
        The manifest's file name, e.g. ``summary.json``; written last.
    data : mapping
        The manifest's content; ``files`` (each file's name and SHA-256) is added at the end.

    Returns
    -------
    dict
        The manifest as written.

    Notes
    -----
    Steps: (1) every file and the manifest are written in full to temporaries and fsynced; a
    failure here (ENOSPC, EIO) removes the temporaries and leaves the previous run whole; (2) the
    old manifest, then the old files, are removed and the removals made durable; (3) the new files
    are renamed in; (4) the manifest is renamed in. A process killed between (2) and (4) leaves
    files of one run only and no manifest, which :func:`read_unit` reports as incomplete; Ctrl-C is
    held back during (2) to (4).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> manifest = write_unit(folder, {"a.txt": lambda p: p.write_text("a")}, manifest="m.json", data={"x": 1})
    >>> read_unit(folder, "m.json") == manifest
    True
    """
    directory = Path(directory)
    temporaries: dict[str, Path] = {}
    try:
        digests = {}
        for name, writer in files.items():
            temporaries[name] = tmp = _temporary(directory / name)
            try:
                writer(tmp)
                _fsync_file(tmp)
                digests[name] = file_digest(tmp)
            except OSError as exc:
                raise OutputError(f"cannot write {directory / name}: {os_reason(exc)}") from exc
        content = {key: value for key, value in data.items() if key != "files"}
        content["files"] = {name: {"sha256": digests[name]} for name in files}
        temporaries[manifest] = tmp = _temporary(directory / manifest)
        text = to_json(content)
        try:
            tmp.write_text(text, encoding="utf-8")
            _fsync_file(tmp)
        except OSError as exc:
            raise OutputError(f"cannot write {directory / manifest}: {os_reason(exc)}") from exc
        with _interrupts_deferred():
            try:
                for name in (manifest, *files):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(directory / name)
                _fsync_folder(directory)
                for name in files:
                    os.replace(temporaries.pop(name), directory / name)
                os.replace(temporaries.pop(manifest), directory / manifest)
            except OSError as exc:
                raise OutputError(f"cannot write {directory}: {os_reason(exc)}") from exc
            _fsync_folder(directory)
        return json.loads(text)
    finally:
        for tmp in temporaries.values():
            with contextlib.suppress(OSError):
                tmp.unlink()


def read_unit(directory: PathLike, manifest: str) -> Optional[dict]:
    """The manifest of a complete run in ``directory``, or None.

    None when the manifest is missing or unreadable, or when a file it lists is missing or its
    SHA-256 differs: the folder then holds an unfinished run and its files are not to be trusted.
    """
    directory = Path(directory)
    try:
        content = json.loads((directory / manifest).read_text(encoding="utf-8"))
        listed = content["files"]
        for name, entry in listed.items():
            if Path(name).name != name or file_digest(directory / name) != entry["sha256"]:
                return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return content


# --------------------------------------------------------------------------- formats


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
    """summary.csv (one row per analysis and monitoring rule, the columns of
    :func:`sim.report.frames.analyses_frame`) and summary.json, written as one unit (:func:`write_unit`).

    summary.json is the manifest: it gains ``files``, the SHA-256 of summary.csv.
    """
    from .report.frames import analyses_frame

    directory = Path(directory)
    frame = analyses_frame(summary["analyses"] + summary.get("monitoring", []), scenario=summary["scenario"],
                           seed=summary["seed"])
    write_unit(directory, {"summary.csv": lambda path: frame.to_csv(path, index=False)},
               manifest="summary.json", data=summary)
    return [directory / "summary.json", directory / "summary.csv"]

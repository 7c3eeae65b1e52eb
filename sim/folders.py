"""Output folders: checked before computing, held by one process, owned by one scenario.

- **Checked before computing.** :func:`prepare_folder` creates the folder and writes and removes
  a probe file in it; a file where a folder should be, or a folder that cannot be written, is
  one line naming ``--out`` before any work.
- **One process per output folder.** :func:`folder_lock` takes an advisory lock (``fcntl.flock``
  on ``.simtrial.lock`` in the folder; the OS releases it when the process ends, however it
  ends). A second process refuses at once, naming the folder and the holder's PID, or waits.
  Only the lock holder removes temporaries, and only those of processes that no longer exist.
- **Nothing overwritten silently.** A folder records which scenario its outputs belong to
  (``.simtrial-scenario.json``: the validated scenario without ``trials`` and ``seed``); a
  command with a different scenario of the same name refuses unless ``force=True``.

:func:`output_folder` does all three for a command.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

from .digests import canonical_digest
from .errors import SimtrialError, UsageError
from .io import TEMPORARY_NAME, OutputError, PathLike, os_reason, to_json, write_json_atomic

LOCK_NAME = ".simtrial.lock"
SCENARIO_MARK = ".simtrial-scenario.json"


class FolderBusy(SimtrialError):
    """Another process holds the output folder's lock."""

    exit_code = 1


class OutputConflict(SimtrialError):
    """The output folder holds the outputs of a different scenario of the same name."""

    exit_code = 2


def prepare_folder(directory: PathLike, *, flag: str = "--out") -> list[Path]:
    """Create ``directory`` (with parents) and check it can be written, before any work.

    Returns the folders created (outermost first), so that a command that stops before writing
    anything can remove them. A file in the way, or a folder that cannot be created or written,
    is one :class:`~sim.errors.UsageError` line naming ``flag``.
    """
    directory = Path(directory)
    created: list[Path] = []
    for folder in [*reversed(directory.parents), directory]:
        if folder.is_dir():
            continue
        if folder.exists() or folder.is_symlink():
            raise UsageError(f"{flag}: {folder} is a file, not a folder; expected a folder (or a path to create)")
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # another process made it meanwhile
        except OSError as exc:
            remove_created(created)
            raise UsageError(f"{flag}: cannot create {folder}: {os_reason(exc)}") from None
        created.append(folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".simtrial-probe.{os.getpid()}.", suffix=".tmp", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        remove_created(created)
        raise UsageError(f"{flag}: cannot write in {directory}: {os_reason(exc)}") from None
    return created


def remove_created(created: list[Path]) -> None:
    """Remove folders made by :func:`prepare_folder` if they are (still) empty, innermost first."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temporaries(directory: PathLike) -> list[Path]:
    """Remove temporary files left by processes that were killed mid-write; return them.

    Only temporaries whose writer (the PID in the name) no longer exists are removed, so a
    process never deletes another live process's file. Callers hold the folder's lock.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / f".a.json.{os.getpid()}.x.tmp").write_text("mine, being written")
    >>> _ = (folder / ".a.json.old.tmp").write_text("left by a process killed long ago")
    >>> [path.name for path in remove_stale_temporaries(folder)]
    ['.a.json.old.tmp']
    """
    removed = []
    for path in Path(directory).glob(".*.tmp"):
        match = TEMPORARY_NAME.match(path.name)
        if match and _pid_alive(int(match["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


# Locks held by this process, by folder: taking one again (a sweep's CLI, then run_sweep) nests.
_held: dict[str, list] = {}
_held_guard = threading.Lock()


def _lock_holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return f"PID {text}"
    return "PID unknown"


@contextlib.contextmanager
def folder_lock(directory: PathLike, *, wait: bool = False,
                on_wait: Optional[Callable[[str], None]] = None) -> Iterator[Path]:
    """Hold the advisory lock of an output folder (``fcntl.flock`` on ``.simtrial.lock``).

    Parameters
    ----------
    directory : path
        An existing folder.
    wait : bool
        Wait for the holder to finish instead of refusing.
    on_wait : callable, optional
        Called with the holder (``PID 1234``) before waiting.

    Raises
    ------
    FolderBusy
        Another process holds the lock (and ``wait`` is False): one line naming the folder and PID.

    Notes
    -----
    The OS releases the lock when the holding process ends, however it ends (SIGKILL included);
    the lock file stays, empty of meaning until someone locks it again. Within one process the
    lock nests. ``flock`` locks are honoured across NFS clients on Linux (NFSv4).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with folder_lock(folder) as lock:
    ...     int(lock.read_text()) == os.getpid()
    True
    """
    directory = Path(directory)
    key = os.path.realpath(directory)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield directory / LOCK_NAME
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise OutputError(f"cannot write {directory / LOCK_NAME}: {os_reason(exc)}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            if not wait:
                raise FolderBusy(f"{directory}: in use by another simtrial process ({holder}); wait for it to "
                                 f"finish (or pass --wait), or write elsewhere with --out") from None
            if on_wait:
                on_wait(holder)
            fcntl.flock(fd, fcntl.LOCK_EX)
        with contextlib.suppress(OSError):  # the PID only informs others' messages; a full disk may refuse it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        with _held_guard:
            _held[key] = [fd, 1]
        try:
            yield directory / LOCK_NAME
        finally:
            with _held_guard:
                del _held[key]
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def scenario_identity(spec: Mapping[str, Any]) -> dict:
    """What makes two scenarios "the same" for an output folder: the validated scenario without
    ``trials`` and ``seed`` (a rerun with more trials or another seed replaces its own outputs).

    Examples
    --------
    >>> scenario_identity({"name": "s", "trials": 100, "seed": 1, "groups": {}})
    {'name': 's', 'groups': {}}
    """
    return {key: value for key, value in spec.items() if key not in ("trials", "seed")}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat or {prefix: value}


def first_difference(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """``groups.a.n: 30 there, 40 here``: the first dotted path where two scenarios differ.

    Examples
    --------
    >>> first_difference({"groups": {"a": {"n": 30}}}, {"groups": {"a": {"n": 40}}})
    'groups.a.n: 30 there, 40 here'
    """
    flat_old, flat_new = _flatten(json.loads(to_json(old))), _flatten(json.loads(to_json(new)))
    for path in sorted(set(flat_old) | set(flat_new)):
        if flat_old.get(path, "(absent)") != flat_new.get(path, "(absent)"):
            return (f"{path}: {json.dumps(flat_old.get(path, '(absent)'))} there, "
                    f"{json.dumps(flat_new.get(path, '(absent)'))} here")
    return "(no field differs)"


@dataclass
class OutputFolder:
    """An output folder held by this process (see :func:`output_folder`)."""

    path: Path
    identity: Optional[dict]
    scenario_file: Optional[str] = None
    created: list[Path] = field(default_factory=list)
    claimed: bool = False
    notes: list[str] = field(default_factory=list)

    @cached_property
    def identity_digest(self) -> Optional[str]:
        """The digest recorded in the folder's mark; None when the folder records no scenario."""
        if self.identity is None:
            return None
        # Through to_json first, so the digest is of the JSON the mark holds (tuples as lists, NaN as null).
        return canonical_digest(json.loads(to_json(self.identity))).hex()

    def claim(self) -> None:
        """Record this command's scenario as the owner of the folder; call it before writing outputs."""
        if self.claimed:
            return
        if self.identity is not None:
            mark = self.path / SCENARIO_MARK
            # Read again rather than reuse _check_owner's read: the command computed in between, and
            # the mark may have been removed or changed meanwhile.
            if _read_mark(mark).get("digest") != self.identity_digest:
                write_json_atomic(mark, {"digest": self.identity_digest, "scenario_file": self.scenario_file,
                                         "scenario": self.identity})
        self.claimed = True


def _read_mark(path: Path) -> dict:
    try:
        mark = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {"digest": "unreadable"}
    return mark if isinstance(mark, dict) else {"digest": "unreadable"}


@contextlib.contextmanager
def output_folder(directory: PathLike, *, scenario: Optional[Mapping[str, Any]] = None,
                  scenario_file: Optional[str] = None, force: bool = False, wait: bool = False,
                  flag: str = "--out", on_wait: Optional[Callable[[str], None]] = None) -> Iterator[OutputFolder]:
    """Prepare, check and lock an output folder for one command, before it computes.

    Parameters
    ----------
    directory : path
        The command's output folder (``DIR/<name>`` or ``DIR/<name>/<grid>``).
    scenario : mapping, optional
        The validated scenario (``Scenario.to_dict()``); the folder must not hold outputs of a
        different scenario (see :func:`scenario_identity`) unless ``force``.
    scenario_file : str, optional
        Recorded with the scenario, for the message a later conflicting command prints.
    force : bool
        Replace the outputs of a different scenario.
    wait : bool
        Wait for another process holding the folder instead of refusing.
    flag : str
        The command-line flag that chose the folder, for messages.

    Yields
    ------
    OutputFolder
        Call :meth:`OutputFolder.claim` before writing the first output.

    Raises
    ------
    UsageError, FolderBusy, OutputConflict
        One line each, before any work.

    Notes
    -----
    If the command stops (an error, Ctrl-C) before claiming the folder, the folders this call
    created are removed again: a failed or interrupted command leaves nothing behind.
    """
    directory = Path(directory)
    created = prepare_folder(directory, flag=flag)
    identity = scenario_identity(scenario) if scenario is not None else None
    folder = OutputFolder(directory, identity, scenario_file, created)
    try:
        with folder_lock(directory, wait=wait, on_wait=on_wait) as lock_path:
            try:
                if identity is not None:
                    _check_owner(folder, force=force)
                remove_stale_temporaries(directory)
                yield folder
            except BaseException:
                if created and not folder.claimed:
                    with contextlib.suppress(OSError):
                        lock_path.unlink()
                raise
    except BaseException:
        if not folder.claimed:
            remove_created(created)
        raise


def _check_owner(folder: OutputFolder, *, force: bool) -> None:
    mark = _read_mark(folder.path / SCENARIO_MARK)
    if not mark or mark.get("digest") == folder.identity_digest:
        return
    if mark.get("digest") == "unreadable" or not isinstance(mark.get("scenario"), dict):
        difference = f"its {SCENARIO_MARK} is unreadable"
    else:
        difference = first_difference(mark["scenario"], folder.identity)
    source = f" (from {mark['scenario_file']})" if isinstance(mark.get("scenario_file"), str) else ""
    name = folder.identity.get("name", "?")
    if not force:
        raise OutputConflict(f"{folder.path}: holds the outputs of a different scenario named {name}{source}; "
                             f"{difference}; pass --force to replace them, or choose another --out")
    folder.notes.append(f"--force: replacing the outputs of a different scenario in {folder.path} "
                        f"({difference})")

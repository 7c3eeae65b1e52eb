"""What every command shares: consoles, the thread setting, flag parsing, and where outputs go."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import click
from rich.console import Console

from ..errors import UsageError

DEFAULT_OUT = "results"
# Told before numba compiles, so that a first run's pause is not mistaken for a hang.
COMPILING_NOTE = "compiling kernels (first run only, about 15 s; later runs load them from the cache)"


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what the user needs to know: how much is done and how to continue."""


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def parse_float(flag: str, text: Optional[str]) -> Optional[float]:
    """A flag's number, parsed here so that a bad one is one ``error: --flag: ...`` line, exit 2."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(f"{flag}: got {text!r}; expected a number") from None


def parse_int(flag: str, text: Optional[str]) -> Optional[int]:
    """A flag's whole number (click's own message spans several lines and names no value)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{flag}: got {text!r}; expected a whole number") from None


def parse_dropout(text: Optional[str]) -> Optional[float]:
    """``--dropout``: the share of patients not evaluable, 0 <= D < 1 (None when not given)."""
    loss = parse_float("--dropout", text)
    if loss is not None and not 0.0 <= loss < 1.0:
        raise UsageError(f"--dropout: got {text}; expected a share of patients with 0 <= D < 1")
    return loss


def set_threads(threads: Optional[int]) -> int:
    """Apply ``--threads`` (default: every available core) and return the count in use."""
    from .. import runner

    available = runner.available_threads()
    if threads is not None and not 1 <= threads <= available:
        raise UsageError(f"--threads: got {threads}; expected 1 to {available} "
                         f"(this machine's cores, or NUMBA_NUM_THREADS where set)")
    return runner.set_threads(threads)


def parse_set_options(values: tuple[str, ...]) -> dict[str, Any]:
    """``--set PATH=VALUE`` options as scenario overrides; each VALUE is read as YAML (``40`` is a
    number, ``[1, 2]`` a list, ``{p: 0.1}`` a mapping, ``abc`` text). The scenario validates them."""
    import yaml

    overrides: dict[str, Any] = {}
    for text in values:
        path, sep, value = text.partition("=")
        path = path.strip()
        if not sep or not path or any(not part for part in path.split(".")) or " " in path:
            raise UsageError(f"--set: got {text!r}; expected PATH=VALUE with a dotted scenario path, "
                             f"e.g. groups.prior_tki.n=40")
        try:
            overrides[path] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise UsageError(f"--set {path}: got {value!r}; expected a YAML value (a number, text, "
                             f"[a, list] or {{a: mapping}})") from None
    return overrides


def output_options(command: Callable) -> Callable:
    """``--force`` and ``--wait``: what a command does about an output folder that is not free."""
    command = click.option("--wait", is_flag=True,
                           help="If another simtrial process is writing to the output folder, wait for it "
                                "instead of refusing.")(command)
    return click.option("--force", is_flag=True,
                        help="Replace the outputs of a different scenario with the same name in the output "
                             "folder (refused otherwise).")(command)


@contextlib.contextmanager
def open_output(directory: Path, scenario: Any, scenario_file: Path, *, force: bool,
                wait: bool) -> Iterator[Any]:
    """The command's output folder, checked, locked and owned (:func:`sim.folders.output_folder`),
    with a note on stderr when it waits or replaces another scenario's outputs."""
    from ..folders import output_folder

    err = stderr_console()
    with output_folder(directory, scenario=scenario.to_dict(), scenario_file=str(scenario_file), force=force,
                       wait=wait, on_wait=lambda holder: err.print(
                           f"note: waiting for {holder}, which is writing to {directory}")) as folder:
        for note in folder.notes:
            err.print(f"note: {note}")
        yield folder

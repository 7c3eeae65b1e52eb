"""What every command shares: consoles, the thread setting, and where outputs go."""

from __future__ import annotations

from typing import Any, Optional

from rich.console import Console

from ..errors import UsageError

DEFAULT_OUT = "results"


def stdout_console() -> Console:
    return Console(highlight=False)


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


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

"""What every command shares: consoles, the thread setting, and where outputs go."""

from __future__ import annotations

from typing import Optional

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

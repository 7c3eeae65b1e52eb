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
    """Apply ``--threads`` (default: every core numba may use) and return the count in use."""
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if threads is not None:
        if not 1 <= threads <= available:
            raise UsageError(f"--threads: got {threads}; expected 1 to {available} "
                             f"(NUMBA_NUM_THREADS caps it)")
        numba.set_num_threads(threads)
    return numba.get_num_threads()

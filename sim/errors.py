"""Domain errors. The CLI turns each into one line on stderr and a non-zero exit status."""

from __future__ import annotations


class SimtrialError(Exception):
    """Base class of the errors simtrial reports to users without a traceback."""

    exit_code = 1


class ScenarioError(SimtrialError):
    """A scenario (file, override or grid point) is invalid: says the field, value and what is allowed."""

    exit_code = 2


class UsageError(SimtrialError):
    """A command-line value that click cannot check by itself is invalid."""

    exit_code = 2


def interruption(exc: BaseException) -> "BaseException | None":
    """The KeyboardInterrupt or SystemExit behind ``exc`` (itself, its cause or context), or None.

    A Ctrl-C that lands inside a numba kernel reaches Python as a ``SystemError`` whose cause is
    the KeyboardInterrupt; such an error is an interruption, never a failure to report.
    """
    seen: set[int] = set()
    current: "BaseException | None" = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, (KeyboardInterrupt, SystemExit)):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None

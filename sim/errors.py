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

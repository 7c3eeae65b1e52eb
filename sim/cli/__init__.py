"""The ``simtrial`` command: a thin layer over the library. No numerics here.

One module per family of commands: :mod:`.run` (run, analyze), :mod:`.design` (size, sweep),
:mod:`.report` (report).
"""

from __future__ import annotations

import sys
from typing import Optional

import click

from ..errors import SimtrialError, interruption
from .common import Interrupted
from .design import size, sweep
from .multistage import monitor, simon
from .report import report
from .run import analyze, run


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simtrial-il2", prog_name="simtrial")
def cli() -> None:
    """Monte Carlo simulator for sizing sequencing studies of high-dose IL-2 after VEGF-targeted therapy."""


for _command in (run, analyze, size, sweep, monitor, simon, report):
    cli.add_command(_command)


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point: domain errors become one line on stderr and a non-zero exit status."""
    try:
        cli.main(args=argv, prog_name="simtrial", standalone_mode=False)
    except SimtrialError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        # Ctrl-C (click turns it into Abort, keeping it as the cause). Nothing partial is written:
        # files are atomic and a run's files are written as one unit.
        cause = exc.__cause__ if isinstance(exc, click.exceptions.Abort) else exc
        click.echo(str(cause) if isinstance(cause, Interrupted) and str(cause) else "interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Exception as exc:
        if interruption(exc) is None:
            raise
        click.echo("interrupted", err=True)  # a Ctrl-C that surfaced as another error (numba's SystemError)
        sys.exit(130)

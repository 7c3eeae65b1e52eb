"""The ``simtrial`` command: a thin layer over the library. No numerics here.

One module per family of commands: :mod:`.run` (run, analyze), :mod:`.design` (size, sweep),
:mod:`.report` (report).
"""

from __future__ import annotations

import sys
from typing import Optional

import click

from ..errors import SimtrialError
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
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted; finished files are complete, nothing partial was written", err=True)
        sys.exit(130)

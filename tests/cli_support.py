"""Run the ``simtrial`` command in-process, as a user would, and capture what it prints."""

from sim.cli import main


def invoke(capsys, *args):
    """(exit status, stdout, stderr) of ``simtrial ARGS``; the entry point's own error handling applies."""
    try:
        main([str(arg) for arg in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err

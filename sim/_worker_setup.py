"""Dask worker preload for the clusters simtrial starts here (``--cluster local``): ignore Ctrl-C.

A Ctrl-C in the terminal reaches every process of the foreground process group, the workers
included. The ``simtrial`` process stops the sweep and shuts its cluster down; workers that
reacted themselves would only print tracebacks over its one-line message.
"""

from __future__ import annotations

import signal
import threading


def dask_setup(worker) -> None:
    """Called by Dask in each worker process as it starts (``preload``)."""
    if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)

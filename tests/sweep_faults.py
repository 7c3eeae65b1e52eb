"""Fault injection for sweep tests: compute functions that wrap the real run_point.

Importable by Dask workers started with this directory on PYTHONPATH (tasks pickle functions by
reference), so a fault happens inside a real worker process.
"""

import os

from sim.sweep import SweepPoint, run_point


class CrashOn:
    """Run the point, except the one whose ``path`` equals ``value``: that one ends the process,
    as a segfault or the out-of-memory killer would (no exception, no cleanup)."""

    def __init__(self, path: str, value):
        self.path = path
        self.value = value

    def __call__(self, point: SweepPoint) -> dict:
        if dict(point.parameters).get(self.path) == self.value:
            os._exit(17)
        return run_point(point)


class RaiseOn:
    """Run the point, except the one whose ``path`` equals ``value``: that one raises."""

    def __init__(self, path: str, value):
        self.path = path
        self.value = value

    def __call__(self, point: SweepPoint) -> dict:
        if dict(point.parameters).get(self.path) == self.value:
            raise RuntimeError(f"injected failure at {self.path}={self.value}")
        return run_point(point)


class Recording:
    """run_point, remembering the key of every point it computes (in this process)."""

    def __init__(self):
        self.keys: list[str] = []

    def __call__(self, point: SweepPoint) -> dict:
        self.keys.append(point.key)
        return run_point(point)

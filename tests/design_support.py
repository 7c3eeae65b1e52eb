"""Support for the sweep tests: a fixed scenario, and compute functions that inject faults.

The fault classes wrap the real run_point. Dask workers started with this directory on
PYTHONPATH can import them (tasks pickle functions by reference), so a fault happens inside a
real worker process.
"""

import os
from pathlib import Path

import yaml

from sim.designs.sweep import SweepPoint, run_point

# scenarios/tki_vs_bev.yaml with its four Fisher and interval analyses, fixed here so that the sweep
# tests do not change (nor slow down) when the shipped scenario gains analyses.
TKI_VS_BEV = {
    "name": "tki_vs_bev",
    "trials": 20000,
    "seed": 2009,
    "groups": {
        "prior_tki": {
            "n": 30,
            "washout_months": {"distribution": "lognormal", "median": 2.0, "sigma": 0.81},
            "cardiac_event": {"model": "washout_decay", "p_early": 0.80, "p_late": 0.085,
                              "half_life_months": 1.7355},
            "response": {"p": 0.05},
        },
        "prior_bev": {
            "n": 30,
            "washout_months": {"distribution": "lognormal", "median": 3.0, "sigma": 0.51},
            "cardiac_event": {"p": 0.085},
            "response": {"p": 0.15},
        },
    },
    "eligibility": {"min_washout_months": 0},
    "analyses": [
        {"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"], "alternative": "two-sided",
         "alpha": 0.05},
        {"estimate": "cardiac_event", "group": "prior_tki", "interval": "clopper-pearson", "level": 0.95,
         "reference_rate": 0.085, "target_width": 0.30},
        {"estimate": "cardiac_event", "group": "prior_bev", "interval": "clopper-pearson", "level": 0.95,
         "reference_rate": 0.085, "target_width": 0.30},
        {"compare": "response", "groups": ["prior_bev", "prior_tki"], "alternative": "greater", "alpha": 0.05},
    ],
}
ANALYSES = len(TKI_VS_BEV["analyses"])


def write_scenario(directory: Path) -> Path:
    path = Path(directory) / "tki_vs_bev.yaml"
    path.write_text(yaml.safe_dump(TKI_VS_BEV, sort_keys=False))
    return path


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

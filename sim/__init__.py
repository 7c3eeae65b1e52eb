"""simtrial: Monte Carlo trial-design simulator for sequencing studies of high-dose IL-2.

The public API, re-exported lazily (PEP 562): ``import sim`` (and ``simtrial --help``, which
imports :mod:`sim.cli`) loads no numba, scipy or pandas. Each name below is imported from its
module the first time it is used, so ``from sim import run_scenario`` works as always and costs
what importing :mod:`sim.runner` costs, once.

A notebook session, in brief (see the README, "Python API")::

    import sim
    scenario = sim.load_scenario("scenarios/tki_vs_bev.yaml").with_changes({"trials": 2000})
    result = sim.run_scenario(scenario)          # RunResult; result.to_frame() is a DataFrame
    sizing = sim.size_study(scenario, "0", target_power=0.8)   # SizingResult; .to_frame()
    sweep = sim.sweep_scenario(scenario, {"product": {"groups.prior_tki.n": [20, 40]}})
    sweep.table()                                # one row per point and analysis
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> the module that defines it (relative to this package).
_EXPORTS = {
    "ConfidenceInterval": ".analysis",
    "FisherExactResult": ".analysis",
    "binomial_interval": ".analysis",
    "binomial_interval_table": ".analysis",
    "fisher_exact": ".analysis",
    "fisher_exact_power": ".analysis",
    "fisher_p_value_table": ".analysis",
    "SizingResult": ".designs.sizing",
    "size_at": ".designs.single_size",
    "size_study": ".designs.sizing",
    "ScenarioError": ".errors",
    "SimtrialError": ".errors",
    "RunResult": ".runner",
    "run_scenario": ".runner",
    "Scenario": ".scenario",
    "load_scenario": ".scenario",
    "validate_scenario": ".scenario",
    "SweepResult": ".designs.sweep",
    "sweep_scenario": ".api",
    "write_report": ".report.html",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562) and cache it here."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

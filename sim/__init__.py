"""simtrial: Monte Carlo trial-design simulator for sequencing studies of high-dose IL-2.

The public API, re-exported; importing it compiles nothing.
"""

__version__ = "0.1.0"

from .analysis import (  # noqa: E402
    ConfidenceInterval,
    FisherExactResult,
    binomial_interval,
    binomial_interval_table,
    fisher_exact,
    fisher_exact_power,
    fisher_p_value_table,
)
from .designs.sizing import SizingResult, size_study  # noqa: E402
from .errors import ScenarioError, SimtrialError  # noqa: E402
from .runner import RunResult, run_scenario  # noqa: E402
from .scenario import Scenario, load_scenario, validate_scenario  # noqa: E402

# Sweeps (sim.designs.sweep, sim.cluster) import pandas and Dask: import them from their modules.

__all__ = [
    "ConfidenceInterval",
    "FisherExactResult",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SizingResult",
    "SimtrialError",
    "__version__",
    "binomial_interval",
    "binomial_interval_table",
    "fisher_exact",
    "fisher_exact_power",
    "fisher_p_value_table",
    "load_scenario",
    "run_scenario",
    "size_study",
    "validate_scenario",
]

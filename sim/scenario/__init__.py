"""The scenario file: one validated, frozen pydantic model and a safe loader.

Only this package reads user input. Everything downstream receives a :class:`Scenario`
that is known to be consistent: groups exist, endpoints are defined where analysed,
washout-dependent risks have a washout distribution, probabilities lie in [0, 1].

The schema is split by part: :mod:`.patients` (washouts, risks, doses, groups, eligibility),
:mod:`.analyses` (comparisons and estimates), :mod:`.spec` (the scenario and its cross-checks)
and :mod:`.loading` (YAML, overrides and error messages).
"""

from .analyses import Analysis, CompareAnalysis, EstimateAnalysis
from .fields import (
    BINARY_ENDPOINTS,
    DOSE_COUNT_ENDPOINTS,
    ENDPOINTS,
    MAX_COURSES,
    MAX_EXACT_WILCOXON,
    MAX_SEED,
    NUMERIC_ENDPOINTS,
    RISK_ENDPOINTS,
)
from .loading import (
    format_validation_error,
    load_scenario,
    read_yaml,
    set_dotted,
    validate_scenario,
    with_overrides,
)
from .patients import (
    ConstantRisk,
    Doses,
    Eligibility,
    EmpiricalWashout,
    FixedWashout,
    GammaWashout,
    Group,
    LogisticRisk,
    LognormalWashout,
    UniformWashout,
    WashoutDecayRisk,
)
from .monitoring import MonitoringRule
from .spec import Scenario

__all__ = [
    "Analysis", "BINARY_ENDPOINTS", "CompareAnalysis", "ConstantRisk", "DOSE_COUNT_ENDPOINTS", "Doses", "ENDPOINTS",
    "Eligibility", "EmpiricalWashout", "EstimateAnalysis", "FixedWashout", "GammaWashout", "Group", "LogisticRisk",
    "LognormalWashout", "MAX_COURSES", "MonitoringRule", "MAX_EXACT_WILCOXON", "MAX_SEED", "NUMERIC_ENDPOINTS", "RISK_ENDPOINTS",
    "Scenario", "UniformWashout", "WashoutDecayRisk", "format_validation_error", "load_scenario", "read_yaml",
    "set_dotted", "validate_scenario", "with_overrides",
]

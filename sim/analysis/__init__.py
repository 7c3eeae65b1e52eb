"""Analyses: counts in, small frozen result objects out."""

from .binomial import (
    INTERVAL_METHODS,
    ConfidenceInterval,
    binomial_interval,
    binomial_interval_table,
)
from .effects import (
    EFFECTS,
    EffectEstimate,
    effect_estimates,
    odds_ratio,
    relative_risk,
    risk_difference,
)
from .fisher import (
    ALTERNATIVES,
    FisherExactResult,
    fisher_exact,
    fisher_exact_power,
    fisher_p_value_table,
    rejects,
)

__all__ = [
    "ALTERNATIVES",
    "EFFECTS",
    "EffectEstimate",
    "INTERVAL_METHODS",
    "ConfidenceInterval",
    "FisherExactResult",
    "binomial_interval",
    "binomial_interval_table",
    "effect_estimates",
    "fisher_exact",
    "fisher_exact_power",
    "fisher_p_value_table",
    "odds_ratio",
    "rejects",
    "relative_risk",
    "risk_difference",
]

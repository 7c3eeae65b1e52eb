"""Analyses: counts in, small frozen result objects out."""

from .binomial import (
    INTERVAL_METHODS,
    ConfidenceInterval,
    binomial_interval,
    binomial_interval_table,
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
    "INTERVAL_METHODS",
    "ConfidenceInterval",
    "FisherExactResult",
    "binomial_interval",
    "binomial_interval_table",
    "fisher_exact",
    "fisher_exact_power",
    "fisher_p_value_table",
    "rejects",
]

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
from .unconditional import (
    EXACT_TESTS,
    UNCONDITIONAL_TESTS,
    BoschlooExactResult,
    ExactSize,
    ZPooledExactResult,
    boschloo_exact,
    exact_p_value_table,
    exact_size,
    unconditional_exact_power,
    unconditional_p_value_table,
    z_pooled_exact,
)

__all__ = [
    "ALTERNATIVES",
    "EXACT_TESTS",
    "INTERVAL_METHODS",
    "UNCONDITIONAL_TESTS",
    "BoschlooExactResult",
    "ConfidenceInterval",
    "ExactSize",
    "FisherExactResult",
    "ZPooledExactResult",
    "binomial_interval",
    "binomial_interval_table",
    "boschloo_exact",
    "exact_p_value_table",
    "exact_size",
    "fisher_exact",
    "fisher_exact_power",
    "fisher_p_value_table",
    "rejects",
    "unconditional_exact_power",
    "unconditional_p_value_table",
    "z_pooled_exact",
]

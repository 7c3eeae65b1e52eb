"""Analyses: counts in, small frozen result objects out.

The unconditional exact tests (:mod:`.unconditional`) are numba kernels: their names load on first use,
so importing the package (for Fisher's test, intervals and effect estimates) compiles and imports no
numba.
"""

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
    "EXACT_TESTS",
    "EFFECTS",
    "EffectEstimate",
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
    "effect_estimates",
    "fisher_exact",
    "fisher_exact_power",
    "fisher_p_value_table",
    "odds_ratio",
    "rejects",
    "unconditional_exact_power",
    "unconditional_p_value_table",
    "z_pooled_exact",
    "relative_risk",
    "risk_difference",
]

_UNCONDITIONAL = {
    "EXACT_TESTS", "UNCONDITIONAL_TESTS", "BoschlooExactResult", "ExactSize", "ZPooledExactResult",
    "boschloo_exact", "exact_p_value_table", "exact_size", "unconditional_exact_power",
    "unconditional_p_value_table", "z_pooled_exact"
}


def __getattr__(name: str):
    if name in _UNCONDITIONAL:
        from . import unconditional

        return getattr(unconditional, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

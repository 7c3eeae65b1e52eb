"""Shared field types, constants and the cross-field error of the scenario schema."""

from __future__ import annotations

import numbers
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

# Endpoints a scenario can analyse. Binary endpoints are counted (Fisher tests, intervals);
# numeric ones are compared by rank (Wilcoxon).
BINARY_ENDPOINTS = ("cardiac_event", "response", "missed_week2")
# Numeric endpoints that are whole numbers (dose counts): they need every dose drawn, and rank tests
# on them count values into a histogram instead of sorting.
DOSE_COUNT_ENDPOINTS = ("doses_week1", "doses_week2", "doses_total")
NUMERIC_ENDPOINTS = ("washout_months",) + DOSE_COUNT_ENDPOINTS
ENDPOINTS = BINARY_ENDPOINTS + NUMERIC_ENDPOINTS
RISK_ENDPOINTS = ("cardiac_event", "response")
BinaryEndpoint = Literal["cardiac_event", "response", "missed_week2"]
AnyEndpoint = Literal["cardiac_event", "response", "missed_week2", "washout_months", "doses_week1",
                      "doses_week2", "doses_total"]
# Tests of a 2x2 table of counts between two groups (decided from the counts alone): the schema,
# the runner's p-value tables and the exact-test API all take this one tuple.
TWO_BY_TWO_TESTS = ("fisher", "boschloo", "z-pooled")
MAX_COURSES = 8
MAX_EXACT_WILCOXON = 50
# The unconditional exact tests decide ties in 64-bit integers up to this group size (sim.analysis.unconditional).
MAX_UNCONDITIONAL_N = 1000

# Eligible mass under which a truncated washout distribution is almost surely a mistake
# (and rejection sampling of truncated gamma washouts would crawl).
MIN_ELIGIBLE_FRACTION = 0.01

MAX_SEED = 2**64 - 1

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
OpenUnit = Annotated[float, Field(gt=0.0, lt=1.0)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]


def _whole_number(value: Any) -> Any:
    """Counts are written as whole numbers: ``true``, ``"1000"`` and ``30.0`` are refused, each with
    its own reason (YAML ``30`` is already an int; a float here is a typo or a computed value)."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not true/false")
    if isinstance(value, str):
        raise ValueError("expected a whole number, not text in quotes")
    if isinstance(value, float):
        hint = f"; write {int(value)}, without a decimal point" if value.is_integer() else ""
        raise ValueError(f"expected a whole number{hint}")
    if isinstance(value, numbers.Integral):
        return int(value)  # numpy integers from code
    return value  # anything else: the strict int check below says what it is


# A count (trials, seed, patients, doses): an int, strictly. Bounds are added where it is used.
WholeNumber = Annotated[int, BeforeValidator(_whole_number), Strict()]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldError(ValueError):
    """A cross-field error that knows the path it belongs to."""

    def __init__(self, loc: tuple, value: Any, allowed: str):
        self.loc = loc
        self.value = value
        self.allowed = allowed
        super().__init__(f"{format_loc(loc)}: got {value!r}; expected {allowed}")


def format_loc(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def listing(names) -> str:
    return ", ".join(sorted(names))


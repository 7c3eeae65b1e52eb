"""Analyses a scenario asks for: comparisons (tests per virtual trial) and estimates (intervals)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .fields import (
    BINARY_ENDPOINTS,
    NUMERIC_ENDPOINTS,
    AnyEndpoint,
    BinaryEndpoint,
    FieldError,
    Identifier,
    OpenUnit,
    PositiveFloat,
    Probability,
    StrictModel,
)

# --------------------------------------------------------------------------- analyses


class CompareAnalysis(StrictModel):
    """A test per virtual trial; power is the share of trials with p <= alpha.

    * ``test: fisher`` on a binary endpoint between two groups, or with ``split_washout_at``
      short (washout < split) against long washouts within the pooled groups;
    * ``test: wilcoxon`` on a numeric endpoint between two groups, or with ``by`` the values
      of patients with the ``by`` outcome against those without, within the pooled groups;
    * ``test: logistic_lrt``: likelihood-ratio test of a logistic regression of a binary
      endpoint on log washout within the pooled groups.
    """

    id: Optional[Identifier] = None
    compare: AnyEndpoint
    groups: list[Identifier] = Field(min_length=1, max_length=64)
    test: Literal["fisher", "wilcoxon", "logistic_lrt"] = "fisher"
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    alpha: OpenUnit = 0.05
    method: Literal["asymptotic", "exact"] = "asymptotic"
    by: Optional[BinaryEndpoint] = None
    split_washout_at: Optional[PositiveFloat] = None

    @property
    def kind(self) -> str:
        return "compare"

    @property
    def endpoint(self) -> str:
        return self.compare

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(self.groups)

    @property
    def between_groups(self) -> bool:
        """A two-group comparison (rather than a within-group washout-effect test)."""
        return self.test != "logistic_lrt" and self.by is None and self.split_washout_at is None

    @property
    def per_trial_test(self) -> bool:
        """Needs patient-level data in the kernel (anything but Fisher between two groups)."""
        return not (self.test == "fisher" and self.between_groups)

    @property
    def analysis_id(self) -> str:
        if self.id:
            return self.id
        pooled = "_".join(self.groups)
        if self.test == "logistic_lrt":
            return f"{self.compare}_{pooled}_logistic_lrt"
        if self.by is not None:
            return f"{self.compare}_by_{self.by}_{pooled}"
        if self.split_washout_at is not None:
            return f"{self.compare}_{pooled}_split_{self.split_washout_at:g}"
        suffix = "" if self.test == "fisher" else f"_{self.test}"
        return f"{self.compare}_{self.groups[0]}_vs_{self.groups[-1]}{suffix}"

    @model_validator(mode="after")
    def _shape(self) -> "CompareAnalysis":
        def fail(field: str, value: Any, allowed: str):
            raise FieldError((field,), value, allowed)

        binary = self.compare in BINARY_ENDPOINTS
        if self.method == "exact" and not (self.test == "wilcoxon" and self.by is None):
            fail("method", self.method, "'asymptotic' (method: exact is for Wilcoxon between two groups)")
        if self.test == "fisher":
            if not binary:
                fail("compare", self.compare, f"a binary endpoint for test: fisher ({', '.join(BINARY_ENDPOINTS)}); "
                     "use test: wilcoxon for numeric endpoints")
            if self.by is not None:
                fail("by", self.by, "no 'by' with test: fisher (use split_washout_at, or test: wilcoxon)")
        elif self.test == "wilcoxon":
            if binary:
                fail("compare", self.compare, f"a numeric endpoint for test: wilcoxon ({', '.join(NUMERIC_ENDPOINTS)})")
            if self.split_washout_at is not None:
                fail("split_washout_at", self.split_washout_at, "no split with test: wilcoxon (use by:)")
        else:
            if self.compare not in BINARY_ENDPOINTS:
                fail("compare", self.compare, "a binary endpoint for test: logistic_lrt")
            if self.by is not None or self.split_washout_at is not None:
                fail("test", self.test, "no 'by' or 'split_washout_at' with logistic_lrt (it regresses on log washout)")
            if self.alternative != "two-sided":
                fail("alternative", self.alternative, "'two-sided' for the likelihood-ratio test")
        if self.between_groups and len(self.groups) != 2:
            fail("groups", list(self.groups), "exactly two groups for a between-group comparison")
        if len(set(self.groups)) != len(self.groups):
            fail("groups", list(self.groups), "distinct groups")
        return self


class EstimateAnalysis(StrictModel):
    id: Optional[Identifier] = None
    estimate: BinaryEndpoint
    group: Identifier
    interval: Literal["clopper-pearson", "wilson", "jeffreys"] = "clopper-pearson"
    level: OpenUnit = 0.95
    reference_rate: Optional[Probability] = None
    target_width: Optional[Annotated[float, Field(gt=0.0, le=1.0)]] = None

    @property
    def kind(self) -> str:
        return "estimate"

    @property
    def per_trial_test(self) -> bool:
        """Intervals are tallied from counts, never computed per trial on patient-level data."""
        return False

    @property
    def endpoint(self) -> str:
        return self.estimate

    @property
    def group_names(self) -> tuple[str, ...]:
        return (self.group,)

    @property
    def analysis_id(self) -> str:
        return self.id or f"{self.estimate}_{self.group}_{self.interval.replace('-', '_')}"


def _analysis_tag(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        kinds = [key for key in ("compare", "estimate") if key in value]
        return kinds[0] if len(kinds) == 1 else None
    return getattr(value, "kind", None)


Analysis = Annotated[
    Union[Annotated[CompareAnalysis, Tag("compare")], Annotated[EstimateAnalysis, Tag("estimate")]],
    Discriminator(
        _analysis_tag,
        custom_error_type="invalid_analysis",
        custom_error_message="each analysis needs exactly one of the keys 'compare' or 'estimate'",
    ),
]



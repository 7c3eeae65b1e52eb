"""Analyses a scenario asks for: comparisons (tests per virtual trial) and estimates (intervals)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Discriminator, Field, PrivateAttr, Tag, model_validator

from .fields import (
    BINARY_ENDPOINTS,
    NUMERIC_ENDPOINTS,
    TWO_BY_TWO_TESTS,
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

NonNegativeInt = Annotated[int, Field(ge=0, strict=True)]
PositiveInt = Annotated[int, Field(ge=1, strict=True)]


class SimonDesignSpec(StrictModel):
    """Find the design instead of giving it: Simon's optimal or minimax design for these rates."""

    type: Literal["optimal", "minimax"] = "optimal"
    p0: OpenUnit
    p1: OpenUnit
    alpha: OpenUnit = 0.05
    power: OpenUnit = 0.8
    nmax: int = Field(default=100, ge=2, le=500)

    @model_validator(mode="after")
    def _ordered(self) -> "SimonDesignSpec":
        if self.p1 <= self.p0:
            raise FieldError(("p1",), self.p1, f"a rate above p0={self.p0}")
        return self



class CompareAnalysis(StrictModel):
    """A test per virtual trial; power is the share of trials with p <= alpha.

    * ``test: fisher`` on a binary endpoint between two groups, or with ``split_washout_at``
      short (washout < split) against long washouts within the pooled groups;
    * ``test: wilcoxon`` on a numeric endpoint between two groups, or with ``by`` the values
      of patients with the ``by`` outcome against those without, within the pooled groups;
    * ``test: logistic_lrt``: likelihood-ratio test of a logistic regression of a binary
      endpoint on log washout within the pooled groups;
    * ``test: boschloo`` / ``test: z-pooled``: unconditional exact tests of a binary endpoint
      between two groups (as scipy ``boschloo_exact`` and ``barnard_exact(pooled=True)``);
    * ``test: simon``: Simon's two-stage design on a binary endpoint of one group: the first ``n1``
      patients, stop if responses <= ``r1``, else ``n`` patients in all, reject H0 when responses > ``r``
      (given as numbers, or as ``design: {type: optimal|minimax, p0, p1, alpha, power}``).
    """

    id: Optional[Identifier] = None
    compare: AnyEndpoint
    groups: list[Identifier] = Field(min_length=1, max_length=64)
    test: Literal["fisher", "wilcoxon", "logistic_lrt", "boschloo", "z-pooled", "simon"] = "fisher"
    alternative: Literal["two-sided", "greater", "less"] = "two-sided"
    alpha: OpenUnit = 0.05
    method: Literal["asymptotic", "exact"] = "asymptotic"
    by: Optional[BinaryEndpoint] = None
    split_washout_at: Optional[PositiveFloat] = None
    r1: Optional[NonNegativeInt] = None
    n1: Optional[PositiveInt] = None
    r: Optional[NonNegativeInt] = None
    n: Optional[PositiveInt] = None
    design: Optional[SimonDesignSpec] = None

    _simon: Optional[tuple[int, int, int, int]] = PrivateAttr(default=None)

    @property
    def kind(self) -> str:
        return "compare"

    @property
    def simon(self) -> Optional[tuple[int, int, int, int]]:
        """(r1, n1, r, n) of a Simon two-stage analysis, given or derived from ``design``; else None."""
        return self._simon

    @property
    def endpoint(self) -> str:
        return self.compare

    @property
    def group_names(self) -> tuple[str, ...]:
        return tuple(self.groups)

    @property
    def between_groups(self) -> bool:
        """A two-group comparison (rather than a within-group washout-effect test)."""
        return (self.test not in ("logistic_lrt", "simon") and self.by is None
                and self.split_washout_at is None)

    @property
    def two_by_two(self) -> bool:
        """A test of a 2x2 table of counts between two groups: decided from the counts alone."""
        return self.test in TWO_BY_TWO_TESTS and self.between_groups

    @property
    def per_trial_test(self) -> bool:
        """Needs patient-level data in the kernel (rank tests, washout-effect tests)."""
        return not (self.two_by_two or self.test == "simon")

    @property
    def analysis_id(self) -> str:
        if self.id:
            return self.id
        pooled = "_".join(self.groups)
        if self.test == "logistic_lrt":
            return f"{self.compare}_{pooled}_logistic_lrt"
        if self.test == "simon":
            return f"{self.compare}_{pooled}_simon"
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
        simon_fields = {name: getattr(self, name) for name in ("r1", "n1", "r", "n", "design")
                        if getattr(self, name) is not None}
        if self.test != "simon" and simon_fields:
            name = next(iter(simon_fields))
            fail(name, simon_fields[name], "no Simon design fields unless test: simon")
        if self.method == "exact" and not (self.test == "wilcoxon" and self.by is None):
            fail("method", self.method, "'asymptotic' (method: exact is for Wilcoxon between two groups)")
        if self.test == "fisher":
            if not binary:
                fail("compare", self.compare, f"a binary endpoint for test: fisher ({', '.join(BINARY_ENDPOINTS)}); "
                     "use test: wilcoxon for numeric endpoints")
            if self.by is not None:
                fail("by", self.by, "no 'by' with test: fisher (use split_washout_at, or test: wilcoxon)")
        elif self.test in TWO_BY_TWO_TESTS:
            if not binary:
                fail("compare", self.compare, f"a binary endpoint for test: {self.test} ({', '.join(BINARY_ENDPOINTS)})")
            if self.by is not None or self.split_washout_at is not None:
                fail("test", self.test, "a comparison between two groups (no 'by' or 'split_washout_at')")
        elif self.test == "simon":
            self._check_simon(binary, fail)
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

    def _check_simon(self, binary: bool, fail) -> None:
        if not binary:
            fail("compare", self.compare, f"a binary endpoint for test: simon ({', '.join(BINARY_ENDPOINTS)})")
        if len(self.groups) != 1:
            fail("groups", list(self.groups), "exactly one group for a Simon two-stage design")
        if self.by is not None or self.split_washout_at is not None:
            fail("test", self.test, "no 'by' or 'split_washout_at' with a Simon design")
        if "alternative" in self.model_fields_set and self.alternative != "greater":
            fail("alternative", self.alternative, "'greater' (Simon's design tests H0: p <= p0, one-sided)")
        numbers = [self.r1, self.n1, self.r, self.n]
        if self.design is not None:
            if any(v is not None for v in numbers):
                fail("design", self.design.model_dump(), "either design: {...} or r1, n1, r, n, not both")
            from ..designs.simon import simon_designs

            spec = self.design
            try:
                found = simon_designs(spec.p0, spec.p1, alpha=spec.alpha, power=spec.power, nmax=spec.nmax)
            except ValueError as exc:
                fail("design", spec.model_dump(), str(exc))
            chosen = getattr(found, spec.type)
            if chosen is None:
                fail("design", spec.model_dump(), f"a design that exists with n <= nmax={spec.nmax} (none found)")
            self._simon = (chosen.r1, chosen.n1, chosen.r, chosen.n)
            return
        if any(v is None for v in numbers):
            missing = [name for name, v in zip(("r1", "n1", "r", "n"), numbers) if v is None]
            fail(missing[0], None, "r1, n1, r and n of the design (or design: {type: optimal, p0, p1, alpha, power})")
        r1, n1, r, n = numbers
        if not n1 < n:
            fail("n1", n1, f"a first stage smaller than n={n}")
        if not r1 < n1:
            fail("r1", r1, f"fewer than n1={n1} (stop after stage 1 when responses <= r1)")
        if not r1 <= r < n:
            fail("r", r, f"between r1={r1} and n - 1={n - 1} (reject H0 when responses > r)")
        self._simon = (r1, n1, r, n)


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



"""The patient model of a scenario: washout distributions, risk models, doses, groups, eligibility."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Discriminator, Field, Tag, model_validator

from .fields import (
    DOSE_COUNT_ENDPOINTS,
    MAX_COURSES,
    MIN_ELIGIBLE_FRACTION,
    RISK_ENDPOINTS,
    FieldError,
    FiniteFloat,
    NonNegativeFloat,
    PositiveFloat,
    Probability,
    StrictModel,
    WholeNumber,
)

# --------------------------------------------------------------------------- washout


class BoundDistribution:
    """A continuous washout distribution's scipy functions with its parameters bound: ``cdf``, ``pdf``,
    ``ppf``, ``sf``, ``expect``. Not scipy's frozen distribution, whose construction builds a docstring
    (half a millisecond; a sizing curve validates and builds hundreds of scenarios)."""

    def __init__(self, name: str, *shapes: float, **where: float) -> None:
        self.name = name
        self.shapes = shapes
        self.where = where

    def __getattr__(self, method: str):
        if method not in ("cdf", "pdf", "ppf", "sf", "expect", "mean", "median"):
            raise AttributeError(method)
        from scipy import stats

        function = getattr(getattr(stats, self.name), method)
        if method == "expect":
            return lambda func, **options: function(func, args=self.shapes, **self.where, **options)
        return lambda *values: function(*values, *self.shapes, **self.where)


class _Washout(StrictModel):
    max: Optional[PositiveFloat] = Field(
        default=None, description="Truncate the distribution at this washout (months)."
    )

    def scipy_distribution(self):  # pragma: no cover - overridden
        raise NotImplementedError


class FixedWashout(_Washout):
    distribution: Literal["fixed"]
    value: NonNegativeFloat


class UniformWashout(_Washout):
    distribution: Literal["uniform"]
    low: NonNegativeFloat
    high: PositiveFloat

    @model_validator(mode="after")
    def _ordered(self) -> "UniformWashout":
        if self.high <= self.low:
            raise ValueError(f"high must be greater than low (got low={self.low}, high={self.high})")
        return self

    def scipy_distribution(self):
        return BoundDistribution("uniform", loc=self.low, scale=self.high - self.low)


class LognormalWashout(_Washout):
    distribution: Literal["lognormal"]
    median: PositiveFloat
    sigma: PositiveFloat

    def scipy_distribution(self):
        return BoundDistribution("lognorm", self.sigma, scale=self.median)


class GammaWashout(_Washout):
    distribution: Literal["gamma"]
    mean: PositiveFloat
    shape: PositiveFloat

    def scipy_distribution(self):
        return BoundDistribution("gamma", self.shape, scale=self.mean / self.shape)


class EmpiricalWashout(_Washout):
    distribution: Literal["empirical"]
    values: list[NonNegativeFloat] = Field(min_length=1, max_length=100_000)


WashoutDistribution = Annotated[
    Union[FixedWashout, UniformWashout, LognormalWashout, GammaWashout, EmpiricalWashout],
    Field(discriminator="distribution"),
]


# --------------------------------------------------------------------------- risk models


class BetaDistribution(StrictModel):
    """Beta(a, b) on a probability: ``beta: [a, b]``, both > 0 (e.g. [7, 10]: 6/15 observed, uniform prior)."""

    beta: tuple[PositiveFloat, PositiveFloat]

    @property
    def a(self) -> float:
        return self.beta[0]

    @property
    def b(self) -> float:
        return self.beta[1]

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)


class PriorSpec(StrictModel):
    """A probability that is uncertain: each virtual trial draws it from ``prior``."""

    prior: BetaDistribution


def _number_or_prior(value: Any) -> str:
    return "prior" if isinstance(value, (dict, PriorSpec)) else "number"


# A probability given as a number, or as ``{prior: {beta: [a, b]}}`` drawn once per virtual trial.
UncertainProbability = Annotated[
    Union[Annotated[Probability, Tag("number")], Annotated[PriorSpec, Tag("prior")]],
    Discriminator(_number_or_prior),
]


class _RiskWithPriors(StrictModel):
    """What every risk model tells the simulator and the exact computations about its priors."""

    @property
    def priors(self) -> dict[str, BetaDistribution]:
        """The parameters given as priors, by field name (empty: a fixed risk)."""
        return {name: value.prior for name in self.prior_fields
                if isinstance(value := getattr(self, name), PriorSpec)}

    @property
    def prior_fields(self) -> tuple[str, ...]:
        return ()

    def at(self, values: dict[str, float]):
        """This model with its prior parameters replaced by the given numbers (a fixed risk)."""
        return self.model_copy(update=dict(values))

    def at_prior_means(self):
        return self.at({name: prior.mean for name, prior in self.priors.items()})


class ConstantRisk(_RiskWithPriors):
    """p, or a Beta ``prior`` on p (then each virtual trial draws p once for the group)."""

    model: Literal["constant"] = "constant"
    p: Optional[Probability] = None
    prior: Optional[BetaDistribution] = None

    @model_validator(mode="after")
    def _one_of_p_or_prior(self) -> "ConstantRisk":
        if (self.p is None) == (self.prior is None):
            raise FieldError(("p",), self.p if self.prior is None else {"p": self.p, "prior": "..."},
                             "exactly one of p (a probability) or prior ({beta: [a, b]})")
        return self

    @property
    def uses_washout(self) -> bool:
        return False

    @property
    def priors(self) -> dict[str, BetaDistribution]:
        return {} if self.prior is None else {"p": self.prior}

    def at(self, values: dict[str, float]):
        if "p" in values:
            return ConstantRisk(p=values["p"])
        return self


class WashoutDecayRisk(_RiskWithPriors):
    """p(w) = p_late + (p_early - p_late) * 2**(-w / half_life_months); either probability may be a prior."""

    model: Literal["washout_decay"]
    p_early: UncertainProbability
    p_late: UncertainProbability
    half_life_months: PositiveFloat

    @property
    def prior_fields(self) -> tuple[str, ...]:
        return ("p_early", "p_late")

    @property
    def uses_washout(self) -> bool:
        return True


class LogisticRisk(_RiskWithPriors):
    """logit p(w) = intercept + slope * log2(w): ``slope`` is per doubling of the washout (no priors:
    intercept and slope are not probabilities)."""

    model: Literal["logistic"]
    intercept: FiniteFloat
    slope: FiniteFloat

    @property
    def uses_washout(self) -> bool:
        return True


def _risk_tag(value: Any) -> Optional[str]:
    if isinstance(value, dict):
        model = value.get("model", "constant")
        return model if isinstance(model, str) else None
    return getattr(value, "model", None)


RiskModel = Annotated[
    Union[
        Annotated[ConstantRisk, Tag("constant")],
        Annotated[WashoutDecayRisk, Tag("washout_decay")],
        Annotated[LogisticRisk, Tag("logistic")],
    ],
    Discriminator(
        _risk_tag,
        custom_error_type="invalid_risk_model",
        custom_error_message="model must be one of 'constant' (default), 'washout_decay', 'logistic'",
    ),
]


# --------------------------------------------------------------------------- doses


class Doses(StrictModel):
    """IL-2 dose delivery: ``courses`` courses (week 1, week 2 of cycle 1, ...) of up to
    ``per_course`` doses, each given with probability ``p_dose`` (one value, or one per course).
    A cardiac event during course ``event_course`` stops dosing from a random dose of that
    course on: the patient misses the rest, including any later course."""

    per_course: WholeNumber = Field(default=14, ge=1, le=1000)
    courses: WholeNumber = Field(default=2, ge=1, le=MAX_COURSES)
    p_dose: Union[Probability, list[Probability]]
    event_course: WholeNumber = Field(default=1, ge=1, le=MAX_COURSES)

    @model_validator(mode="after")
    def _consistent(self) -> "Doses":
        if isinstance(self.p_dose, list) and len(self.p_dose) != self.courses:
            raise ValueError(f"p_dose lists one probability per course: got {len(self.p_dose)} values for "
                             f"courses={self.courses}")
        if self.event_course > self.courses:
            raise ValueError(f"event_course must be between 1 and courses={self.courses} "
                             f"(got {self.event_course})")
        return self

    def p_dose_by_course(self) -> list[float]:
        return list(self.p_dose) if isinstance(self.p_dose, list) else [self.p_dose] * self.courses


# --------------------------------------------------------------------------- groups


class Group(StrictModel):
    n: WholeNumber = Field(ge=1, le=1_000_000)
    washout_months: Optional[WashoutDistribution] = None
    cardiac_event: RiskModel
    response: Optional[RiskModel] = None
    doses: Optional[Doses] = None

    def risk(self, endpoint: str):
        """The risk model of a risk endpoint (cardiac_event, response), or None."""
        return getattr(self, endpoint) if endpoint in RISK_ENDPOINTS else None

    def missing_for(self, endpoint: str) -> Optional[str]:
        """Why this group cannot produce ``endpoint`` (the field to add), or None if it can."""
        if endpoint == "response" and self.response is None:
            return "response"
        if endpoint == "washout_months" and self.washout_months is None:
            return "washout_months"
        if endpoint == "missed_week2" or endpoint in DOSE_COUNT_ENDPOINTS:
            if self.doses is None:
                return "doses"
            if endpoint in ("missed_week2", "doses_week2") and self.doses.courses < 2:
                return "doses with courses >= 2"
        return None


class Eligibility(StrictModel):
    min_washout_months: NonNegativeFloat = 0.0
    policy: Literal["defer", "exclude"] = Field(
        default="defer",
        description=(
            "defer: treatment waits until the minimum, so the washout becomes max(w, minimum); "
            "exclude: patients below the minimum are screened out and replaced."
        ),
    )



def washout_can_be_zero(group: Group, eligibility: Eligibility) -> bool:
    washout = group.washout_months
    if eligibility.min_washout_months > 0:
        return False
    if isinstance(washout, FixedWashout):
        return washout.value == 0
    if isinstance(washout, EmpiricalWashout):
        return min(washout.values) == 0
    return False


def washout_can_tie(group: Group, eligibility: Eligibility) -> bool:
    washout = group.washout_months
    if washout is None or isinstance(washout, (FixedWashout, EmpiricalWashout)):
        return True
    return eligibility.policy == "defer" and eligibility.min_washout_months > 0



def check_eligible_mass(name: str, group: Group, eligibility: Eligibility) -> None:
    washout = group.washout_months
    if washout is None:
        return
    lower = eligibility.min_washout_months if eligibility.policy == "exclude" else 0.0
    upper = washout.max if washout.max is not None else math.inf
    if upper <= lower:
        raise FieldError(
            ("groups", name, "washout_months", "max"),
            washout.max,
            f"a maximum above eligibility.min_washout_months ({lower}) under policy 'exclude'",
        )
    if isinstance(washout, FixedWashout):
        fraction = 1.0 if lower <= washout.value <= upper else 0.0
    elif isinstance(washout, EmpiricalWashout):
        fraction = sum(lower <= v <= upper for v in washout.values) / len(washout.values)
    else:
        dist = washout.scipy_distribution()
        fraction = float(dist.cdf(upper) - dist.cdf(lower))
    if fraction < MIN_ELIGIBLE_FRACTION:
        raise FieldError(
            ("groups", name, "washout_months"),
            washout.model_dump(exclude_none=True),
            f"a distribution with at least {MIN_ELIGIBLE_FRACTION:.0%} of its mass in the eligible range "
            f"[{lower}, {upper}] (it has {fraction:.3g})",
        )


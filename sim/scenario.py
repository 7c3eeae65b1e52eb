"""The scenario file: one validated, frozen pydantic model and a safe loader.

Only this module reads user input. Everything downstream receives a :class:`Scenario`
that is known to be consistent: groups exist, endpoints are defined where analysed,
washout-dependent risks have a washout distribution, probabilities lie in [0, 1].
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional, Union

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ScenarioError

# Endpoints a scenario can analyse. Binary endpoints are counted (Fisher tests, intervals);
# numeric ones are compared by rank (Wilcoxon).
BINARY_ENDPOINTS = ("cardiac_event", "response", "missed_week2")
NUMERIC_ENDPOINTS = ("washout_months", "doses_week1", "doses_week2", "doses_total")
ENDPOINTS = BINARY_ENDPOINTS + NUMERIC_ENDPOINTS
RISK_ENDPOINTS = ("cardiac_event", "response")
BinaryEndpoint = Literal["cardiac_event", "response", "missed_week2"]
AnyEndpoint = Literal["cardiac_event", "response", "missed_week2", "washout_months", "doses_week1",
                      "doses_week2", "doses_total"]
MAX_COURSES = 8
MAX_EXACT_WILCOXON = 50

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- washout


class _Washout(_Strict):
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
        from scipy import stats

        return stats.uniform(loc=self.low, scale=self.high - self.low)


class LognormalWashout(_Washout):
    distribution: Literal["lognormal"]
    median: PositiveFloat
    sigma: PositiveFloat

    def scipy_distribution(self):
        from scipy import stats

        return stats.lognorm(s=self.sigma, scale=self.median)


class GammaWashout(_Washout):
    distribution: Literal["gamma"]
    mean: PositiveFloat
    shape: PositiveFloat

    def scipy_distribution(self):
        from scipy import stats

        return stats.gamma(a=self.shape, scale=self.mean / self.shape)


class EmpiricalWashout(_Washout):
    distribution: Literal["empirical"]
    values: list[NonNegativeFloat] = Field(min_length=1, max_length=100_000)


WashoutDistribution = Annotated[
    Union[FixedWashout, UniformWashout, LognormalWashout, GammaWashout, EmpiricalWashout],
    Field(discriminator="distribution"),
]


# --------------------------------------------------------------------------- risk models


class ConstantRisk(_Strict):
    model: Literal["constant"] = "constant"
    p: Probability

    @property
    def uses_washout(self) -> bool:
        return False


class WashoutDecayRisk(_Strict):
    """p(w) = p_late + (p_early - p_late) * 2**(-w / half_life_months)."""

    model: Literal["washout_decay"]
    p_early: Probability
    p_late: Probability
    half_life_months: PositiveFloat

    @property
    def uses_washout(self) -> bool:
        return True


class LogisticRisk(_Strict):
    """logit p(w) = intercept + slope * log2(w): ``slope`` is per doubling of the washout."""

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


class Doses(_Strict):
    """IL-2 dose delivery: ``courses`` courses (week 1, week 2 of cycle 1, ...) of up to
    ``per_course`` doses, each given with probability ``p_dose`` (one value, or one per course).
    A cardiac event during course ``event_course`` stops dosing from a random dose of that
    course on: the patient misses the rest, including any later course."""

    per_course: int = Field(default=14, ge=1, le=1000)
    courses: int = Field(default=2, ge=1, le=MAX_COURSES)
    p_dose: Union[Probability, list[Probability]]
    event_course: int = Field(default=1, ge=1, le=MAX_COURSES)

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


class Group(_Strict):
    n: int = Field(ge=1, le=1_000_000, strict=False)
    washout_months: Optional[WashoutDistribution] = None
    cardiac_event: RiskModel
    response: Optional[RiskModel] = None
    doses: Optional[Doses] = None

    @field_validator("n", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError("n must be a whole number of patients")
        return value

    def risk(self, endpoint: str):
        """The risk model of a risk endpoint (cardiac_event, response), or None."""
        return getattr(self, endpoint) if endpoint in RISK_ENDPOINTS else None

    def missing_for(self, endpoint: str) -> Optional[str]:
        """Why this group cannot produce ``endpoint`` (the field to add), or None if it can."""
        if endpoint == "response" and self.response is None:
            return "response"
        if endpoint == "washout_months" and self.washout_months is None:
            return "washout_months"
        if endpoint in ("missed_week2", "doses_week1", "doses_week2", "doses_total"):
            if self.doses is None:
                return "doses"
            if endpoint in ("missed_week2", "doses_week2") and self.doses.courses < 2:
                return "doses with courses >= 2"
        return None


class Eligibility(_Strict):
    min_washout_months: NonNegativeFloat = 0.0
    policy: Literal["defer", "exclude"] = Field(
        default="defer",
        description=(
            "defer: treatment waits until the minimum, so the washout becomes max(w, minimum); "
            "exclude: patients below the minimum are screened out and replaced."
        ),
    )


# --------------------------------------------------------------------------- analyses


class CompareAnalysis(_Strict):
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
            raise _FieldError((field,), value, allowed)

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


class EstimateAnalysis(_Strict):
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


# --------------------------------------------------------------------------- scenario


class Scenario(_Strict):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
    trials: int = Field(ge=1, le=10**12)
    seed: int = Field(ge=0, le=MAX_SEED)
    groups: dict[Identifier, Group] = Field(min_length=1, max_length=64)
    eligibility: Eligibility = Eligibility()
    analyses: list[Analysis] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        for name, group in self.groups.items():
            for endpoint in RISK_ENDPOINTS:
                risk = group.risk(endpoint)
                if risk is not None and risk.uses_washout and group.washout_months is None:
                    raise _FieldError(
                        ("groups", name, endpoint, "model"),
                        risk.model,
                        f"'constant' here, or a washout distribution: this model depends on "
                        f"groups.{name}.washout_months, which is not given",
                    )
            _check_eligible_mass(name, group, self.eligibility)
        seen: dict[str, int] = {}
        for index, analysis in enumerate(self.analyses):
            self._check_analysis(index, analysis)
            if analysis.analysis_id in seen:
                raise _FieldError(
                    ("analyses", index, "id"),
                    analysis.analysis_id,
                    f"an id not used by analyses[{seen[analysis.analysis_id]}] (set a distinct id:)",
                )
            seen[analysis.analysis_id] = index
        return self

    def _check_analysis(self, index: int, analysis) -> None:
        for position, group_name in enumerate(analysis.group_names):
            if group_name not in self.groups:
                loc = ("analyses", index, "groups", position) if analysis.kind == "compare" else (
                    "analyses", index, "group")
                raise _FieldError(loc, group_name, f"a group defined under groups: {_listing(self.groups)}")
        required = [(analysis.kind, analysis.endpoint)]
        if analysis.kind == "compare":
            if analysis.by is not None:
                required.append(("by", analysis.by))
            if analysis.test == "logistic_lrt" or analysis.split_washout_at is not None:
                required.append(("test", "washout_months"))
        for field, endpoint in required:
            for group_name in analysis.group_names:
                missing = self.groups[group_name].missing_for(endpoint)
                if missing is not None:
                    value = analysis.test if field == "test" else endpoint
                    raise _FieldError(
                        ("analyses", index, field), value,
                        f"a group that defines {endpoint} (add groups.{group_name}.{missing})",
                    )
        if analysis.kind == "compare" and analysis.test == "logistic_lrt":
            for group_name in analysis.group_names:
                if _washout_can_be_zero(self.groups[group_name], self.eligibility):
                    raise _FieldError(("analyses", index, "test"), analysis.test,
                                      f"washouts > 0 in group {group_name!r} (the regression is on log washout)")
        if analysis.kind == "compare" and analysis.method == "exact":
            sizes = [self.groups[g].n for g in analysis.group_names]
            if analysis.compare != "washout_months" or any(
                    _washout_can_tie(self.groups[g], self.eligibility) for g in analysis.group_names):
                raise _FieldError(("analyses", index, "method"), "exact",
                                  "'asymptotic': the exact Wilcoxon test needs tie-free data, i.e. continuous "
                                  "washouts (lognormal, gamma, uniform) with no deferral minimum")
            if max(sizes) > MAX_EXACT_WILCOXON:
                raise _FieldError(("analyses", index, "method"), "exact",
                                  f"'asymptotic' for groups over {MAX_EXACT_WILCOXON} patients (got {sizes})")

    def analysis(self, analysis_id: str):
        """The analysis with this id (or index); ScenarioError listing the ids otherwise."""
        for analysis in self.analyses:
            if analysis.analysis_id == analysis_id:
                return analysis
        if analysis_id.isdigit() and int(analysis_id) < len(self.analyses):
            return self.analyses[int(analysis_id)]
        ids = ", ".join(a.analysis_id for a in self.analyses)
        raise ScenarioError(f"analysis {analysis_id!r} not found; the scenario's analyses are: {ids}")

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data that validates back to an equal scenario."""
        return self.model_dump(mode="json", exclude_none=True)


class _FieldError(ValueError):
    """A cross-field error that knows the path it belongs to."""

    def __init__(self, loc: tuple, value: Any, allowed: str):
        self.loc = loc
        self.value = value
        self.allowed = allowed
        super().__init__(f"{_format_loc(loc)}: got {value!r}; expected {allowed}")


def _washout_can_be_zero(group: Group, eligibility: Eligibility) -> bool:
    washout = group.washout_months
    if eligibility.min_washout_months > 0:
        return False
    if isinstance(washout, FixedWashout):
        return washout.value == 0
    if isinstance(washout, EmpiricalWashout):
        return min(washout.values) == 0
    return False


def _washout_can_tie(group: Group, eligibility: Eligibility) -> bool:
    washout = group.washout_months
    if washout is None or isinstance(washout, (FixedWashout, EmpiricalWashout)):
        return True
    return eligibility.policy == "defer" and eligibility.min_washout_months > 0


def _listing(names) -> str:
    return ", ".join(sorted(names))


def _check_eligible_mass(name: str, group: Group, eligibility: Eligibility) -> None:
    washout = group.washout_months
    if washout is None:
        return
    lower = eligibility.min_washout_months if eligibility.policy == "exclude" else 0.0
    upper = washout.max if washout.max is not None else math.inf
    if upper <= lower:
        raise _FieldError(
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
        raise _FieldError(
            ("groups", name, "washout_months"),
            washout.model_dump(exclude_none=True),
            f"a distribution with at least {MIN_ELIGIBLE_FRACTION:.0%} of its mass in the eligible range "
            f"[{lower}, {upper}] (it has {fraction:.3g})",
        )


# --------------------------------------------------------------------------- loading

_TAGS_AFTER = {
    "washout_months": {"fixed", "uniform", "lognormal", "gamma", "empirical"},
    "cardiac_event": {"constant", "washout_decay", "logistic"},
    "response": {"constant", "washout_decay", "logistic"},
}


def _clean_loc(loc: tuple) -> tuple:
    """Drop the union tags pydantic inserts into error paths (``washout_months.lognormal.median``)."""
    cleaned: list = []
    previous: Any = None
    for part in loc:
        is_tag = isinstance(part, str) and (
            (previous in _TAGS_AFTER and part in _TAGS_AFTER[previous])
            or (part in ("compare", "estimate") and isinstance(previous, int)
                and len(cleaned) >= 2 and cleaned[-2] == "analyses")
        )
        previous = part
        if not is_tag:
            cleaned.append(part)
    return tuple(cleaned)


def _format_loc(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line per problem: ``source: field.path: message (got value)``."""
    lines = []
    for item in error.errors(include_url=False):
        ctx_error = (item.get("ctx") or {}).get("error")
        loc = _clean_loc(tuple(item["loc"]))
        if isinstance(ctx_error, _FieldError):
            # Raised by a model validator: its path is relative to the model that raised it.
            lines.append(f"{source}: {_format_loc(loc + tuple(ctx_error.loc))}: got {_short(ctx_error.value)}; "
                         f"expected {ctx_error.allowed}")
            continue
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if item["type"] == "extra_forbidden":
            message = "unknown field (not allowed here; check the spelling)"
        elif item["type"] == "missing":
            message = "required field is missing"
        got = "" if item["type"] == "missing" else f" (got {_short(item.get('input'))})"
        lines.append(f"{source}: {_format_loc(loc)}: {message}{got}")
    return "\n".join(lines)


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML (no tags that build objects) that also refuses duplicated keys."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
    keys = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` merges; explicit keys override it
            continue
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file safely; any problem becomes a one-line ScenarioError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, expected a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: not valid safe YAML{where}: {problem}") from None


def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in nested dicts (and ``analyses.0.alpha`` in lists), creating dicts as needed."""
    parts = dotted.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{dotted}: {'.'.join(parts[:depth + 1])} is not an index of the list")
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise ScenarioError(f"{dotted}: {'.'.join(parts[:depth])} is not a mapping")
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ScenarioError(f"{dotted}: {last!r} is not an index of the list")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ScenarioError(f"{dotted}: {'.'.join(parts[:-1])} is not a mapping")


def validate_scenario(data: Any, *, source: str = "scenario") -> Scenario:
    """Validate plain data (as parsed from YAML) into a Scenario, or raise one ScenarioError."""
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of scenario fields at the top level, "
                            f"got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source)) from None


def load_scenario(
    path: str | os.PathLike, *, overrides: Optional[Mapping[str, Any]] = None
) -> Scenario:
    """Read, override (dotted paths such as ``groups.prior_tki.n``) and validate a scenario file."""
    data = read_yaml(path)
    if overrides:
        if not isinstance(data, dict):
            validate_scenario(data, source=str(path))
        data = copy.deepcopy(data)
        for dotted, value in overrides.items():
            set_dotted(data, dotted, value)
    return validate_scenario(data, source=str(path))


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
    """A new, re-validated scenario with dotted-path fields replaced."""
    data = scenario.to_dict()
    for dotted, value in overrides.items():
        set_dotted(data, dotted, value)
    return validate_scenario(data, source=source)


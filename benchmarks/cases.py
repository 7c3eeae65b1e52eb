"""The benchmark cases (``cases.yaml``) as a validated, frozen model, and the designs they build.

Only this module reads the cases file. ``--quick`` gives each design its ``quick_trials`` and
merges the file's ``quick:`` section over the rest (mappings key by key, lists replaced whole)
before validation, so both modes are checked by the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import ScenarioError
from sim.model import marginal_rate
from sim.runner import RunPlan, make_plan
from sim.scenario import (
    Scenario,
    format_validation_error,
    load_scenario,
    read_yaml,
    validate_scenario,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
CASES_FILE = BENCH_DIR / "cases.yaml"

Count = Annotated[int, Field(ge=1)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupSpec(_Strict):
    n: Count
    p: Probability


class DesignTargets(_Strict):
    """Targets of a design's all-threads lines; a target left out is reported without a verdict."""

    vs_scipy_loop: Optional[float] = Field(default=None, gt=0)
    vs_vectorised: Optional[float] = Field(default=None, gt=0)
    rng_floor_share: Optional[float] = Field(default=None, gt=0, le=1)
    thread_speedup: Optional[float] = Field(default=None, gt=0)


class DesignSpec(_Strict):
    name: str = Field(min_length=1)
    trials: Count
    quick_trials: Count = 1000
    groups: Optional[dict[str, GroupSpec]] = None
    scenario: Optional[str] = None
    # A scenario's count-based analyses only (Fisher between groups, intervals).
    counts_only: bool = False
    # Only these analyses of the scenario (ids).
    analyses: Optional[list[str]] = Field(default=None, min_length=1)
    targets: DesignTargets = DesignTargets()

    @model_validator(mode="after")
    def _one_source(self) -> "DesignSpec":
        if (self.groups is None) == (self.scenario is None):
            raise ValueError(f"design {self.name!r}: give exactly one of 'groups' (two constant-rate groups) "
                             f"or 'scenario' (a scenario file)")
        if self.groups is not None and len(self.groups) != 2:
            raise ValueError(f"design {self.name!r}: 'groups' needs exactly two groups, got {len(self.groups)}")
        if self.scenario is None and (self.counts_only or self.analyses):
            raise ValueError(f"design {self.name!r}: 'counts_only' and 'analyses' select a scenario's analyses")
        if self.counts_only and self.analyses:
            raise ValueError(f"design {self.name!r}: give at most one of 'counts_only' and 'analyses'")
        return self


class KernelSettings(_Strict):
    repeats: Count


class BaselineSettings(_Strict):
    scipy_loop_trials: Count
    repeats: Count


class RSettings(_Strict):
    statmod_trials: Count
    repeats: Count


class EndToEndSettings(_Strict):
    scenario: str
    repeats: Count


class TimeToAnswerSettings(_Strict):
    standard_error: float = Field(gt=0, lt=0.5)
    designs: list[str] = Field(min_length=1)


class ExactSettings(_Strict):
    repeats: Count
    full_tables_max: Count
    subset_tables: Count


class ScalingSettings(_Strict):
    scenario: str
    # Keep only the analyses tallied from counts (Fisher between groups, intervals): the per-trial
    # tests (Wilcoxon, washout split, logistic LRT) allocate per trial, which tracemalloc slows
    # by orders of magnitude; their cost is in the kernel lines and the closing notes.
    counts_only: bool = True
    trials: list[Count] = Field(min_length=1)
    repeats: Count
    repeat_below_trials: Count
    patients_per_group: list[Count] = Field(min_length=1)
    patients_trials: Count
    memory_trials: list[Count] = Field(min_length=1)
    memory_reference_trials: Count

    @model_validator(mode="after")
    def _reference_measured(self) -> "ScalingSettings":
        if self.memory_reference_trials not in self.memory_trials:
            raise ValueError(f"memory_reference_trials ({self.memory_reference_trials}) must be one of "
                             f"memory_trials {self.memory_trials}")
        return self


class MonitoringFeature(_Strict):
    scenario: str
    group: str
    trials: Count
    repeats: Count
    target: float = Field(gt=0)


class SizingFeature(_Strict):
    scenario: str
    analyses: list[str] = Field(min_length=1)
    targeted: list[str] = []
    range: tuple[Count, Count]
    trials: Count
    repeats: Count
    target: float = Field(gt=0)


class LargeNFeature(_Strict):
    small_n: Count
    small_trials: Count
    large_n: Count
    large_trials: Count
    repeats: Count
    speed_target: float = Field(gt=0)


class ColdStartFeature(_Strict):
    scenario: str
    trials: Count
    repeats: Count
    goal_seconds: float = Field(gt=0)


class FeatureSettings(_Strict):
    monitoring: MonitoringFeature
    sizing: SizingFeature
    large_n: LargeNFeature
    cold_start: ColdStartFeature


class Targets(_Strict):
    exact_vs_scipy: float = Field(gt=0)
    memory_growth: float = Field(gt=0)


class BenchmarkCases(_Strict):
    seed: int = Field(ge=0, lt=2**64)
    designs: list[DesignSpec] = Field(min_length=1)
    alternative: Literal["two-sided", "greater", "less"]
    alpha: float = Field(gt=0, lt=1)
    kernel: KernelSettings
    baselines: BaselineSettings
    r: RSettings
    exact: ExactSettings
    time_to_answer: TimeToAnswerSettings
    end_to_end: EndToEndSettings
    scaling: ScalingSettings
    features: FeatureSettings
    targets: Targets

    @model_validator(mode="after")
    def _distinct_names(self) -> "BenchmarkCases":
        names = [design.name for design in self.designs]
        if len(set(names)) != len(names):
            raise ValueError(f"design names must be distinct, got {names}")
        unknown = [name for name in self.time_to_answer.designs if name not in names]
        if unknown:
            raise ValueError(f"time_to_answer.designs names no design: {unknown} (designs: {names})")
        return self


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base.get(key), value)
        return merged
    return override


def load_cases(path: Path = CASES_FILE, *, quick: bool = False) -> BenchmarkCases:
    """Read and validate the cases file; with ``quick`` its ``quick:`` section applies."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top level")
    overrides = data.pop("quick", None) or {}
    if quick:
        data = _merge(data, overrides)
        for design in data.get("designs") or []:
            if isinstance(design, dict):
                design["trials"] = design.get("quick_trials", DesignSpec.model_fields["quick_trials"].default)
    try:
        return BenchmarkCases.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(path))) from None


@dataclass(frozen=True)
class FisherPair:
    """A design's only analysis when it is one Fisher comparison of two groups' counts."""

    sizes: tuple[int, int]
    rates: tuple[float, float]
    alternative: str
    alpha: float


@dataclass(frozen=True, eq=False)
class Design:
    """A design ready to time: the scenario, its run plan, its exact marginal rates and targets.

    ``rates`` maps (group, endpoint) to p-bar for every count an analysis tallies, computed
    once here (by quadrature) so that neither the kernel line nor the baselines time it.
    """

    name: str
    scenario: Scenario
    plan: RunPlan
    rates: dict[tuple[str, str], float]
    targets: DesignTargets
    fisher: Optional[FisherPair]

    @property
    def trials(self) -> int:
        return self.plan.trials

    @property
    def patients_per_trial(self) -> int:
        return sum(group.n for group in self.scenario.groups.values())

    @property
    def per_trial_tests(self) -> int:
        return sum(analysis.per_trial_test for analysis in self.scenario.analyses)


def constant_rate_scenario(name: str, groups: dict[str, tuple[int, float]], *, trials: int, seed: int,
                           alternative: str, alpha: float) -> Scenario:
    """Two constant-risk groups and one Fisher comparison of the first against the second."""
    names = list(groups)
    return validate_scenario({
        "name": name,
        "trials": trials,
        "seed": seed,
        "groups": {group: {"n": n, "cardiac_event": {"p": p}} for group, (n, p) in groups.items()},
        "analyses": [{"compare": "cardiac_event", "groups": names, "alternative": alternative, "alpha": alpha}],
    }, source=f"benchmark design {name!r}")


def count_rates(scenario: Scenario) -> dict[tuple[str, str], float]:
    """p-bar of every (group, binary endpoint) that a count-based analysis of the scenario uses."""
    rates: dict[tuple[str, str], float] = {}
    for analysis in scenario.analyses:
        if analysis.per_trial_test:
            continue
        for group in analysis.group_names:
            if (group, analysis.endpoint) not in rates:
                rates[(group, analysis.endpoint)] = float(
                    marginal_rate(scenario.groups[group], analysis.endpoint, scenario.eligibility))
    return rates


def kept_analyses(scenario: Scenario, keep: Callable[[Any], bool]) -> list[dict[str, Any]]:
    """The scenario data (``analyses:`` entries) of the analyses ``keep`` accepts, in order."""
    return [data for data, analysis in zip(scenario.to_dict()["analyses"], scenario.analyses) if keep(analysis)]


def count_analyses(scenario: Scenario) -> list[dict[str, Any]]:
    """The scenario data of its analyses tallied from counts alone (no per-trial test): ``counts_only``."""
    return kept_analyses(scenario, lambda analysis: not analysis.per_trial_test)


def select_analyses(path: Path, spec: DesignSpec) -> Scenario:
    """The design's scenario file with its trial count and the analyses it keeps."""
    scenario = load_scenario(path, overrides={"trials": spec.trials})
    if not (spec.counts_only or spec.analyses):
        return scenario
    ids = [analysis.analysis_id for analysis in scenario.analyses]
    if spec.analyses:
        unknown = [name for name in spec.analyses if name not in ids]
        if unknown:
            raise ScenarioError(f"design {spec.name!r}: analyses {unknown} are not in {spec.scenario} "
                                f"(its analyses: {ids})")
        kept = kept_analyses(scenario, lambda analysis: analysis.analysis_id in spec.analyses)
    else:
        kept = count_analyses(scenario)
    # Errors name the file, as loading it with these overrides would.
    return scenario.with_changes({"analyses": kept}, source=str(path))


def build_design(spec: DesignSpec, cases: BenchmarkCases) -> Design:
    """The scenario of a design, with the design's trial count and analyses."""
    if spec.scenario is not None:
        scenario = select_analyses(REPO_ROOT / spec.scenario, spec)
    else:
        # Scenario names are file-name safe: "15 vs 8" becomes "15_vs_8".
        name = "_".join(spec.name.split()) or "design"
        scenario = constant_rate_scenario(
            name, {group: (g.n, g.p) for group, g in spec.groups.items()}, trials=spec.trials,
            seed=cases.seed, alternative=cases.alternative, alpha=cases.alpha,
        )
    rates = count_rates(scenario)
    fisher = None
    only = scenario.analyses[0]
    if len(scenario.analyses) == 1 and only.kind == "compare" and not only.per_trial_test:
        groups = only.group_names
        fisher = FisherPair(sizes=tuple(scenario.groups[g].n for g in groups),
                            rates=tuple(rates[(g, only.endpoint)] for g in groups),
                            alternative=only.alternative, alpha=only.alpha)
    return Design(name=spec.name, scenario=scenario, plan=make_plan(scenario), rates=rates, targets=spec.targets,
                  fisher=fisher)

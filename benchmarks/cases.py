"""The benchmark cases (``cases.yaml``) as a validated, frozen model, and the designs they build.

Only this module reads the cases file. ``--quick`` merges the file's ``quick:`` section over the
rest (mappings key by key, lists replaced whole) before validation, so both modes are checked
by the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import ScenarioError
from sim.model import marginal_rate
from sim.runner import RunPlan, make_plan
from sim.scenario import (
    CompareAnalysis,
    Scenario,
    format_validation_error,
    load_scenario,
    read_yaml,
    validate_scenario,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CASES_FILE = Path(__file__).resolve().parent / "cases.yaml"

Count = Annotated[int, Field(ge=1)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupSpec(_Strict):
    n: Count
    p: Probability


class DesignSpec(_Strict):
    name: str = Field(min_length=1)
    trials: Count
    groups: Optional[dict[str, GroupSpec]] = None
    scenario: Optional[str] = None
    # A scenario's count-based analyses only (Fisher between groups, intervals), i.e. the work the
    # baselines do; false times every analysis, per-trial tests included.
    counts_only: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> "DesignSpec":
        if (self.groups is None) == (self.scenario is None):
            raise ValueError(f"design {self.name!r}: give exactly one of 'groups' (two constant-rate groups) "
                             f"or 'scenario' (a scenario file)")
        if self.groups is not None and len(self.groups) != 2:
            raise ValueError(f"design {self.name!r}: 'groups' needs exactly two groups, got {len(self.groups)}")
        return self


class KernelSettings(_Strict):
    repeats: Count


class BaselineSettings(_Strict):
    scipy_loop_trials: Count
    repeats: Count


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


class Targets(_Strict):
    kernel_vs_scipy_loop: float = Field(gt=0)
    kernel_vs_cached_loop: float = Field(gt=0)
    exact_vs_scipy: float = Field(gt=0)
    thread_speedup: float = Field(gt=0)
    rng_floor_share: float = Field(gt=0, le=1)
    memory_growth: float = Field(gt=0)


class BenchmarkCases(_Strict):
    seed: int = Field(ge=0, lt=2**64)
    designs: list[DesignSpec] = Field(min_length=1)
    alternative: Literal["two-sided", "greater", "less"]
    alpha: float = Field(gt=0, lt=1)
    kernel: KernelSettings
    baselines: BaselineSettings
    exact: ExactSettings
    scaling: ScalingSettings
    targets: Targets

    @model_validator(mode="after")
    def _distinct_names(self) -> "BenchmarkCases":
        names = [design.name for design in self.designs]
        if len(set(names)) != len(names):
            raise ValueError(f"design names must be distinct, got {names}")
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
    try:
        return BenchmarkCases.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, str(path))) from None


@dataclass(frozen=True, eq=False)
class Design:
    """A design ready to time: the scenario, its run plan and the comparison the baselines make."""

    name: str
    scenario: Scenario
    plan: RunPlan
    compare: CompareAnalysis
    sizes: tuple[int, int]
    rates: tuple[float, float]

    @property
    def trials(self) -> int:
        return self.plan.trials

    @property
    def patients_per_trial(self) -> int:
        return sum(group.n for group in self.scenario.groups.values())


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


def build_design(spec: DesignSpec, cases: BenchmarkCases) -> Design:
    """The scenario of a design, with the design's trial count."""
    if spec.scenario is not None:
        scenario = load_scenario(REPO_ROOT / spec.scenario, overrides={"trials": spec.trials})
        if spec.counts_only:
            kept = [data for data, analysis in zip(scenario.to_dict()["analyses"], scenario.analyses)
                    if not analysis.per_trial_test]
            scenario = load_scenario(REPO_ROOT / spec.scenario, overrides={"trials": spec.trials, "analyses": kept})
    else:
        # Scenario names are file-name safe: "15 vs 8" becomes "15_vs_8".
        name = "_".join(spec.name.split()) or "design"
        scenario = constant_rate_scenario(
            name, {group: (g.n, g.p) for group, g in spec.groups.items()}, trials=spec.trials,
            seed=cases.seed, alternative=cases.alternative, alpha=cases.alpha,
        )
    compares = [analysis for analysis in scenario.analyses if analysis.kind == "compare"]
    if not compares:
        raise ScenarioError(f"design {spec.name!r}: the baselines need a 'compare' analysis")
    compare = compares[0]
    if compare.test != "fisher":
        raise ScenarioError(f"design {spec.name!r}: the baselines time Fisher's test, got {compare.test!r}")
    groups = [scenario.groups[name] for name in compare.group_names]
    rates = tuple(marginal_rate(group, compare.endpoint, scenario.eligibility) for group in groups)
    return Design(
        name=spec.name,
        scenario=scenario,
        plan=make_plan(scenario),
        compare=compare,
        sizes=(groups[0].n, groups[1].n),
        rates=(float(rates[0]), float(rates[1])),
    )

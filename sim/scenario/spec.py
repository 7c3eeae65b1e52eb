"""The scenario: groups, eligibility and analyses, checked against each other."""

from __future__ import annotations

from typing import Annotated, Any, Mapping, Optional

from pydantic import Field, model_validator

from ..errors import ScenarioError
from .analyses import Analysis
from .fields import (
    MAX_EXACT_WILCOXON,
    MAX_SEED,
    MAX_UNCONDITIONAL_N,
    RISK_ENDPOINTS,
    FieldError,
    Identifier,
    StrictModel,
    WholeNumber,
    listing,
)
from .monitoring import MonitoringRule
from .patients import (
    Eligibility,
    Group,
    check_eligible_mass,
    washout_can_be_zero,
    washout_can_tie,
)

# --------------------------------------------------------------------------- scenario


class Scenario(StrictModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]
    trials: WholeNumber = Field(ge=1, le=10**12)
    seed: WholeNumber = Field(ge=0, le=MAX_SEED)
    groups: dict[Identifier, Group] = Field(min_length=1, max_length=64)
    eligibility: Eligibility = Eligibility()
    analyses: list[Analysis] = Field(min_length=1)
    monitoring: list[MonitoringRule] = Field(default_factory=list, max_length=16)

    @model_validator(mode="after")
    def _consistent(self) -> "Scenario":
        for name, group in self.groups.items():
            for endpoint in RISK_ENDPOINTS:
                risk = group.risk(endpoint)
                if risk is not None and risk.uses_washout and group.washout_months is None:
                    raise FieldError(
                        ("groups", name, endpoint, "model"),
                        risk.model,
                        f"'constant' here, or a washout distribution: this model depends on "
                        f"groups.{name}.washout_months, which is not given",
                    )
            check_eligible_mass(name, group, self.eligibility)
        seen: dict[str, int] = {}
        for index, analysis in enumerate(self.analyses):
            self._check_analysis(index, analysis)
            if analysis.analysis_id in seen:
                raise FieldError(
                    ("analyses", index, "id"),
                    analysis.analysis_id,
                    f"an id not used by analyses[{seen[analysis.analysis_id]}] (set a distinct id:)",
                )
            seen[analysis.analysis_id] = index
        rule_ids: dict[str, int] = {}
        for index, rule in enumerate(self.monitoring):
            self._check_rule(index, rule)
            if rule.rule_id in rule_ids:
                raise FieldError(("monitoring", index, "id"), rule.rule_id,
                                 f"an id not used by monitoring[{rule_ids[rule.rule_id]}] (set a distinct id:)")
            rule_ids[rule.rule_id] = index
        return self

    def _check_rule(self, index: int, rule) -> None:
        if rule.group not in self.groups:
            raise FieldError(("monitoring", index, "group"), rule.group,
                             f"a group defined under groups: {listing(self.groups)}")
        group = self.groups[rule.group]
        missing = group.missing_for(rule.endpoint)
        if missing is not None:
            raise FieldError(("monitoring", index, "endpoint"), rule.endpoint,
                             f"an endpoint group {rule.group!r} defines (add groups.{rule.group}.{missing})")
        if rule.looks[-1] > group.n:
            raise FieldError(("monitoring", index, "looks"), list(rule.looks),
                             f"looks within the group's {group.n} patients (groups.{rule.group}.n)")
        for a_index, analysis in enumerate(self.analyses):
            if analysis.kind == "compare" and analysis.method == "exact" and (
                    rule.action == "stop_trial" or rule.group in analysis.group_names):
                raise FieldError(("analyses", a_index, "method"), "exact",
                                 f"'asymptotic': group sizes vary under monitoring[{index}], and the exact "
                                 f"Wilcoxon null table is computed for fixed sizes")

    def monitored_groups(self) -> set[str]:
        """Groups whose enrolment a monitoring rule can cut short (every group under a stop_trial rule)."""
        if any(rule.action == "stop_trial" for rule in self.monitoring):
            return set(self.groups)
        return {rule.group for rule in self.monitoring}

    def _check_analysis(self, index: int, analysis) -> None:
        for position, group_name in enumerate(analysis.group_names):
            if group_name not in self.groups:
                loc = ("analyses", index, "groups", position) if analysis.kind == "compare" else (
                    "analyses", index, "group")
                raise FieldError(loc, group_name, f"a group defined under groups: {listing(self.groups)}")
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
                    raise FieldError(
                        ("analyses", index, field), value,
                        f"a group that defines {endpoint} (add groups.{group_name}.{missing})",
                    )
        if analysis.kind == "compare" and analysis.test == "logistic_lrt":
            for group_name in analysis.group_names:
                if washout_can_be_zero(self.groups[group_name], self.eligibility):
                    raise FieldError(("analyses", index, "test"), analysis.test,
                                      f"washouts > 0 in group {group_name!r} (the regression is on log washout)")
        if analysis.kind == "compare" and analysis.test in ("boschloo", "z-pooled"):
            sizes = [self.groups[g].n for g in analysis.group_names]
            if max(sizes) > MAX_UNCONDITIONAL_N:
                raise FieldError(("analyses", index, "test"), analysis.test,
                                 f"groups of at most {MAX_UNCONDITIONAL_N} patients for an unconditional exact test "
                                 f"(got {sizes}; its p-values need every table of the design); use test: fisher")
        if analysis.kind == "compare" and analysis.simon is not None:
            n = analysis.simon[3]
            group_name = analysis.group_names[0]
            if n > self.groups[group_name].n:
                raise FieldError(("analyses", index, "n"), n,
                                 f"at most the group's {self.groups[group_name].n} patients "
                                 f"(groups.{group_name}.n): the design uses the first n patients")
        if analysis.kind == "compare" and analysis.method == "exact":
            sizes = [self.groups[g].n for g in analysis.group_names]
            if analysis.compare != "washout_months" or any(
                    washout_can_tie(self.groups[g], self.eligibility) for g in analysis.group_names):
                raise FieldError(("analyses", index, "method"), "exact",
                                  "'asymptotic': the exact Wilcoxon test needs tie-free data, i.e. continuous "
                                  "washouts (lognormal, gamma, uniform) with no deferral minimum")
            if max(sizes) > MAX_EXACT_WILCOXON:
                raise FieldError(("analyses", index, "method"), "exact",
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

    def with_changes(self, changes: Mapping[str, Any], *, source: Optional[str] = None) -> "Scenario":
        """A new, validated scenario with fields replaced by dotted path, as grids and ``--set`` name them.

        Parameters
        ----------
        changes : mapping of str to value
            Dotted paths (``groups.prior_tki.n``, list items by index: ``analyses.0.alpha``) to
            new values; a value may be a mapping (``{"p": 0.1}``) that replaces the whole field.
        source : str, optional
            How error messages name the scenario (default: its name).

        Returns
        -------
        Scenario
            This scenario is unchanged (scenarios are frozen).

        Raises
        ------
        ScenarioError
            One line naming the field, the value and what is allowed, as for a scenario file.

        Notes
        -----
        The semantics are those of :func:`sim.scenario.with_overrides` (and ``load_scenario(...,
        overrides=...)``): the whole scenario is validated again, so a change that breaks a
        cross-check (a washout-dependent risk without a washout) is refused.

        Examples
        --------
        >>> from sim.scenario import load_scenario
        >>> base = load_scenario("scenarios/tki_vs_bev.yaml")
        >>> bigger = base.with_changes({"groups.prior_tki.n": 40, "groups.prior_bev.n": 40})
        >>> base.groups["prior_tki"].n, bigger.groups["prior_tki"].n
        (30, 40)
        """
        from .loading import with_overrides  # loading imports this module

        return with_overrides(self, changes, source=source or self.name)


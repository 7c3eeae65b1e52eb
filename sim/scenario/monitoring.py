"""Interim monitoring rules: count a binary endpoint at looks, stop a group (or the trial) at a boundary."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import Field, PrivateAttr, field_validator, model_validator

from .fields import BinaryEndpoint, FieldError, Identifier, StrictModel
from .looks import format_looks, parse_looks


class MonitoringRule(StrictModel):
    """Stop when the count of ``endpoint`` among a group's first n_k patients reaches ``stop_at[k]``.

    Patients of the group are evaluated in enrolment order. At look k (after ``looks[k]`` evaluable
    patients) the rule fires when the events so far are at least ``stop_at[k]`` (a value above
    ``looks[k]`` means no stop is possible there). ``action: stop_group`` stops enrolment to the group
    at that look; ``stop_trial`` stops every group: each keeps the patients enrolled by then, in
    proportion to its share of the planned enrolment (``floor(looks[k] * n_g / n_monitored)``).
    The boundary is given as ``stop_at`` or derived from ``rule`` (see :func:`sim.designs.monitor.resolve_rule`).
    """

    id: Optional[Identifier] = None
    group: Identifier
    endpoint: BinaryEndpoint = "cardiac_event"
    looks: tuple[int, ...]
    stop_at: Optional[tuple[Annotated[int, Field(ge=1)], ...]] = None
    rule: Optional[dict[str, Any]] = None
    action: Literal["stop_group", "stop_trial"] = "stop_group"

    _boundary: tuple[int, ...] = PrivateAttr(default=())

    @field_validator("looks", mode="before")
    @classmethod
    def _parse_looks(cls, value: Any) -> tuple[int, ...]:
        return parse_looks(value)

    @model_validator(mode="after")
    def _boundary_from_rule(self) -> "MonitoringRule":
        if (self.stop_at is None) == (self.rule is None):
            raise FieldError(("stop_at",), self.stop_at, "exactly one of stop_at (a list, one number per look) "
                             "or rule (e.g. {shape: pocock, p0: 0.085, p1: 0.30, cross_p0: 0.10})")
        if self.stop_at is not None:
            boundary = tuple(self.stop_at)
            if len(boundary) != len(self.looks):
                raise FieldError(("stop_at",), list(boundary),
                                 f"one number per look: {len(self.looks)} looks ({format_looks(self.looks)}), "
                                 f"got {len(boundary)} numbers")
        else:
            from ..designs.monitor import resolve_rule

            try:
                boundary = tuple(int(v) for v in resolve_rule(self.rule, self.looks))
            except ValueError as exc:
                raise FieldError(("rule",), self.rule, str(exc)) from None
        self._boundary = boundary
        return self

    @property
    def boundary(self) -> tuple[int, ...]:
        """stop_at, given or derived from the rule: the smallest count that stops at each look."""
        return self._boundary

    @property
    def rule_id(self) -> str:
        return self.id or f"{self.endpoint}_{self.group}_monitor"


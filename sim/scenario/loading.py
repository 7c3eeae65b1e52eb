"""Reading scenarios: safe YAML, dotted-path overrides, and one-line validation errors."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml
from pydantic import ValidationError

from ..errors import ScenarioError
from .fields import FieldError, format_loc
from .spec import Scenario

# --------------------------------------------------------------------------- loading

_TAGS_AFTER = {
    "washout_months": {"fixed", "uniform", "lognormal", "gamma", "empirical"},
    "cardiac_event": {"constant", "washout_decay", "logistic"},
    "response": {"constant", "washout_decay", "logistic"},
    "p_early": {"number", "prior"},
    "p_late": {"number", "prior"},
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



def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(error: ValidationError, source: str) -> str:
    """One line per problem: ``source: field.path: message (got value)``."""
    lines = []
    for item in error.errors(include_url=False):
        ctx_error = (item.get("ctx") or {}).get("error")
        loc = _clean_loc(tuple(item["loc"]))
        if isinstance(ctx_error, FieldError):
            # Raised by a model validator: its path is relative to the model that raised it.
            lines.append(f"{source}: {format_loc(loc + tuple(ctx_error.loc))}: got {_short(ctx_error.value)}; "
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
        lines.append(f"{source}: {format_loc(loc)}: {message}{got}")
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


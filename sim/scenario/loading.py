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


def format_validation_error(error: ValidationError, source: str,
                            flags: Optional[Mapping[str, str]] = None) -> str:
    """One line per problem: ``source: field.path: message (got value)``.

    ``flags`` maps dotted paths set on the command line to their flag (``{"trials": "--trials"}``):
    a problem there reads ``--trials: message (got value)``, naming the flag, not the file.
    """
    lines = []
    for item in error.errors(include_url=False):
        ctx_error = (item.get("ctx") or {}).get("error")
        loc = _clean_loc(tuple(item["loc"]))
        flag = (flags or {}).get(".".join(map(str, loc)))
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
        lines.append(f"{flag}: {message}{got}" if flag else f"{source}: {format_loc(loc)}: {message}{got}")
    return "\n".join(lines)


# Limits of a YAML input (scenarios, grids, cluster settings): far above any real file, far below
# what exhausts memory or the stack. Checked on the event stream, before any object is built.
MAX_YAML_BYTES = 10 * 2**20
MAX_YAML_DEPTH = 50
MAX_ALIAS_NODES = 10_000


class _FlowTooDeep(Exception):
    """Raised by the scanner at the first ``[`` or ``{`` nested deeper than MAX_YAML_DEPTH."""

    def __init__(self, mark):
        super().__init__()
        self.start_mark = mark


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML (no tags that build objects) that also refuses duplicated keys."""

    def fetch_flow_collection_start(self, TokenClass):
        # Stop at once: PyYAML's scanner keeps a possible simple key per open flow level and
        # re-checks them all at every token, so "[[[[..." costs time quadratic in its depth.
        if self.flow_level >= MAX_YAML_DEPTH:
            raise _FlowTooDeep(self.get_mark())
        super().fetch_flow_collection_start(TokenClass)


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


def _where(event) -> str:
    mark = event.start_mark
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""


def check_yaml_shape(text: str, *, source: str = "YAML") -> None:
    r"""Refuse alias bombs, recursive aliases and deep nesting, in one pass over the parser's events.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str
        How messages name the file.

    Raises
    ------
    ScenarioError
        One line: aliases that expand to more than :data:`MAX_ALIAS_NODES` nodes in all (a
        "billion laughs" of 500 bytes would expand to 10**9), an alias inside the node it refers
        to, or nesting deeper than :data:`MAX_YAML_DEPTH` (counting what aliases bring in).

    Notes
    -----
    The parser is a state machine (no recursion) and only event counts are kept (the size and
    height of each anchored node), so the check takes time linear in the text and constant
    memory beyond it; the composer and constructor, which recurse and expand aliases, run only
    afterwards. An anchor with a merge key (``<<: *tki``, used by ``scenarios/washout_effect.yaml``)
    costs the size of the node it names.

    Examples
    --------
    >>> check_yaml_shape("a: &x {n: 1}\nb: {<<: *x, m: 2}\n")
    >>> check_yaml_shape("[" * 60 + "]" * 60)
    Traceback (most recent call last):
    ...
    sim.errors.ScenarioError: YAML: nested more than 50 levels deep (line 1, column 51); expected a scenario, grid or settings file
    """
    loader = _UniqueKeyLoader(text)
    # Per open collection: [nodes inside, height of the tallest child, anchor].
    stack: list[list] = []
    anchored: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height)
    through_aliases = 0

    def add(nodes: int, height: int) -> None:
        if stack:
            stack[-1][0] += nodes
            stack[-1][1] = max(stack[-1][1], height)

    def too_deep(event) -> ScenarioError:
        return ScenarioError(f"{source}: nested more than {MAX_YAML_DEPTH} levels deep{_where(event)}; "
                             f"expected a scenario, grid or settings file")

    try:
        while True:
            try:
                if not loader.check_event():
                    break
            except _FlowTooDeep as deep:
                raise too_deep(deep) from None
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                stack.append([1, 0, event.anchor])
                if len(stack) > MAX_YAML_DEPTH:
                    raise too_deep(event)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                nodes, height, anchor = stack.pop()
                if anchor is not None:
                    anchored[anchor] = (nodes, height + 1)
                add(nodes, height + 1)
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    anchored[event.anchor] = (1, 0)
                add(1, 0)
            elif isinstance(event, yaml.AliasEvent):
                if any(frame[2] == event.anchor for frame in stack):
                    raise ScenarioError(f"{source}: alias *{event.anchor}{_where(event)} is inside the node it "
                                        f"refers to; recursive YAML is not allowed")
                if event.anchor not in anchored:
                    continue  # the composer reports the undefined alias
                nodes, height = anchored[event.anchor]
                through_aliases += nodes
                if through_aliases > MAX_ALIAS_NODES:
                    raise ScenarioError(f"{source}: YAML aliases expand to more than {MAX_ALIAS_NODES:,} values"
                                        f"{_where(event)}; refusing it (an alias bomb?); an anchor for a shared "
                                        f"group needs far fewer")
                if len(stack) + height > MAX_YAML_DEPTH:
                    raise too_deep(event)
                add(nodes, height)
    finally:
        loader.dispose()


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:  # refused before reading
            raise ScenarioError(f"{path}: {size:,} bytes; expected a YAML file of at most "
                                f"{MAX_YAML_BYTES // 2**20} MB")
        with open(path, "rb") as handle:  # in blocks: a pipe or a growing file has no size up front
            blocks, total = [], 0
            while total <= MAX_YAML_BYTES and (block := handle.read(1 << 16)):
                blocks.append(block)
                total += len(block)
        data = b"".join(blocks)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, expected a YAML file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_YAML_BYTES:
        raise ScenarioError(f"{path}: more than {MAX_YAML_BYTES:,} bytes; expected a YAML file of at most "
                            f"{MAX_YAML_BYTES // 2**20} MB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None


def read_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file safely; any problem becomes a one-line ScenarioError.

    Safe YAML (no tags that build objects), duplicate keys refused, and the limits of
    :func:`check_yaml_shape` and :data:`MAX_YAML_BYTES` checked before anything is built.
    """
    path = Path(path)
    text = _read_text(path)
    try:
        check_yaml_shape(text, source=str(path))
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


def validate_scenario(data: Any, *, source: str = "scenario", flags: Optional[Mapping[str, str]] = None) -> Scenario:
    """Validate plain data (as parsed from YAML) into a Scenario, or raise one ScenarioError.

    ``flags`` names the command-line flag of paths set on the command line, as for
    :func:`format_validation_error`.
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping of scenario fields at the top level, "
                            f"got {type(data).__name__}")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, flags)) from None


def load_scenario(
    path: str | os.PathLike, *, overrides: Optional[Mapping[str, Any]] = None,
    flags: Optional[Mapping[str, str]] = None,
) -> Scenario:
    """Read, override (dotted paths such as ``groups.prior_tki.n``) and validate a scenario file.

    The file must be valid by itself: an override does not excuse an invalid value under it
    (``trials: -5`` in the file is refused even with ``--trials 100``). ``flags`` names the
    command-line flag of each overridden path, so that a bad override is reported against the
    flag (``--trials: ...``) rather than the file.
    """
    data = read_yaml(path)
    scenario = validate_scenario(data, source=str(path))
    if not overrides:
        return scenario
    data = copy.deepcopy(data)
    for dotted, value in overrides.items():
        set_dotted(data, dotted, value)
    return validate_scenario(data, source=str(path), flags=flags)


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any], *, source: str = "scenario") -> Scenario:
    """A new, re-validated scenario with dotted-path fields replaced."""
    data = scenario.to_dict()
    for dotted, value in overrides.items():
        set_dotted(data, dotted, value)
    return validate_scenario(data, source=source)


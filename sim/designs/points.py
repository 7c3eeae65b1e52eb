"""A sweep point's result file: sealed with a digest when written, checked before it is reused.

A point's file ``points/<key>.json`` holds its results, parameters, validated scenario, seed,
trials, stream, key and the code version, and ``digest``: the SHA-256 of the canonical JSON of
everything else. ``simtrial sweep --resume`` reuses a file only when the digest matches and the
file is the point's (key, parameters, scenario, code version) with one result per analysis; any
other file (a changed number, a missing key, truncated JSON) is recomputed and counted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional

from .. import io
from ..digests import canonical_digest

if TYPE_CHECKING:
    from .sweep import SweepPoint


def seal_record(record: Mapping[str, Any], code: Mapping[str, str]) -> dict:
    """A point's record as written: JSON-clean, with the code version and a ``digest`` of the rest.

    ``digest`` is the SHA-256 (hex) of the canonical JSON of the record without ``digest``
    (:func:`sim.digests.canonical_digest`): the results, the parameters, the validated scenario,
    the key and the code version, so that a changed number or a missing field is detected.

    Examples
    --------
    >>> sealed = seal_record({"key": "k", "analyses": [{"id": "a", "power": 0.5}]}, {"simtrial": "0.1.0"})
    >>> sealed["digest"] == canonical_digest({k: v for k, v in sealed.items() if k != "digest"}).hex()
    True
    """
    sealed = json.loads(io.to_json({**record, "code_version": dict(code)}))
    sealed.pop("digest", None)
    sealed["digest"] = canonical_digest(sealed).hex()
    return sealed


def record_problem(record: Any, point: SweepPoint, code: Mapping[str, str]) -> Optional[str]:
    """Why a point file cannot be reused for ``point`` (None: it can).

    Checked: the digest over the content, then that the record is this point's (key, parameters,
    validated scenario, code version) and has the shape the sweep table needs (one result per
    analysis of the scenario, in order, each with its id).
    """
    if not isinstance(record, dict):
        return "not a JSON object"
    content = {key: value for key, value in record.items() if key != "digest"}
    if record.get("digest") != canonical_digest(content).hex():
        return "digest does not match the content"
    expected = {"key": point.key, "code_version": dict(code), "stream": point.stream,
                "parameters": json.loads(io.to_json(dict(point.parameters))),
                "scenario_spec": point.scenario.to_dict(), "trials": point.scenario.trials,
                "seed": point.scenario.seed}
    for name, value in expected.items():
        if record.get(name) != value:
            return f"{name} is not this point's"
    analyses = record.get("analyses")
    ids = [analysis.analysis_id for analysis in point.scenario.analyses]
    if not (isinstance(analyses, list) and all(isinstance(a, dict) for a in analyses)
            and [a.get("id") for a in analyses] == ids):
        return "analyses do not match the scenario's"
    return None


def load_record(path: Path, point: SweepPoint, code: Mapping[str, str]) -> tuple[Optional[dict], bool]:
    """(record, damaged): the point's file if it can be reused; damaged when a file exists but cannot."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, False
    except (OSError, UnicodeDecodeError):
        return None, True
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return None, True
    return (record, False) if record_problem(record, point, code) is None else (None, True)

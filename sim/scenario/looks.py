"""Interim looks of a monitored group: the numbers of evaluable patients at which events are counted.

Pure Python, no project imports: the scenario schema and the ``simtrial monitor`` command both
parse looks here and wrap the ``ValueError`` into their own one-line errors.

Accepted forms (whole numbers, strictly increasing, all >= 1):

``"1:30"``
    every patient from 1 to 30 (continuous monitoring);
``"5:30:5"``
    from 5 to 30 in steps of 5 (5, 10, ..., 30); the end must be one of the looks;
``"20,40,60,75"``
    a list;
``[20, 40, 60, 75]``
    the same list as YAML gives it;
``30`` or ``"30"``
    a single look.
"""

from __future__ import annotations

from typing import Any, Sequence

ALLOWED = ("'START:END' (every patient, e.g. '1:30'), 'START:END:STEP' (e.g. '5:30:5'), "
           "a list '20,40,60,75' or [20, 40, 60, 75], or one whole number; "
           "whole numbers >= 1, strictly increasing")


def _whole(text: str, spec: str) -> int:
    text = text.strip()
    if not text or not (text.isdigit() or (text[0] in "+-" and text[1:].isdigit())):
        raise ValueError(f"got {spec!r}: {text!r} is not a whole number; allowed: {ALLOWED}")
    return int(text)


def _check(looks: Sequence[int], spec: Any) -> tuple[int, ...]:
    if not looks:
        raise ValueError(f"got {spec!r}: no looks; allowed: {ALLOWED}")
    for value in looks:
        if value < 1:
            raise ValueError(f"got {spec!r}: look {value} is below 1; allowed: {ALLOWED}")
    for before, after in zip(looks, looks[1:]):
        if after <= before:
            raise ValueError(f"got {spec!r}: looks are not strictly increasing ({before} then {after}); "
                             f"allowed: {ALLOWED}")
    return tuple(int(value) for value in looks)


def _parse_range(spec: str) -> tuple[int, ...]:
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise ValueError(f"got {spec!r}: a range has 2 or 3 parts; allowed: {ALLOWED}")
    start, end = _whole(parts[0], spec), _whole(parts[1], spec)
    step = _whole(parts[2], spec) if len(parts) == 3 else 1
    if step < 1:
        raise ValueError(f"got {spec!r}: the step {step} is below 1; allowed: {ALLOWED}")
    if start < 1:
        raise ValueError(f"got {spec!r}: the start {start} is below 1; allowed: {ALLOWED}")
    if end < start:
        raise ValueError(f"got {spec!r}: the end {end} is below the start {start}; allowed: {ALLOWED}")
    if (end - start) % step:
        last = start + (end - start) // step * step
        raise ValueError(f"got {spec!r}: the end {end} is not START + a multiple of STEP "
                         f"(the looks would stop at {last}: write '{start}:{last}:{step}'); allowed: {ALLOWED}")
    return tuple(range(start, end + 1, step))


def parse_looks(spec: Any) -> tuple[int, ...]:
    """The looks as a strictly increasing tuple of whole numbers >= 1.

    Parameters
    ----------
    spec : str, int or sequence of int
        ``"1:30"``, ``"5:30:5"``, ``"20,40,60,75"``, ``[20, 40, 60, 75]`` or ``30``.

    Returns
    -------
    tuple of int
        The numbers of evaluable patients at which events are counted.

    Raises
    ------
    ValueError
        One line saying what is wrong and what is allowed (no field name: callers add theirs).

    Examples
    --------
    >>> parse_looks("5:30:5")
    (5, 10, 15, 20, 25, 30)
    >>> parse_looks([20, 40, 60, 75])
    (20, 40, 60, 75)
    """
    if isinstance(spec, bool):
        raise ValueError(f"got {spec!r}: not a number of patients; allowed: {ALLOWED}")
    if isinstance(spec, int):
        return _check([spec], spec)
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise ValueError(f"got {spec!r}: empty; allowed: {ALLOWED}")
        if ":" in text:
            if "," in text:
                raise ValueError(f"got {spec!r}: mixes a range and a list; allowed: {ALLOWED}")
            return _check(_parse_range(text), spec)
        return _check([_whole(part, spec) for part in text.split(",")], spec)
    if isinstance(spec, (list, tuple)):
        values = []
        for item in spec:
            # Accept numpy integers too, but never bools or floats (30.0 patients is a typo somewhere).
            if isinstance(item, bool) or not hasattr(item, "__index__"):
                raise ValueError(f"got {list(spec)!r}: {item!r} is not a whole number; allowed: {ALLOWED}")
            values.append(int(item))
        return _check(values, list(spec))
    raise ValueError(f"got {spec!r} ({type(spec).__name__}); allowed: {ALLOWED}")


def format_looks(looks: Sequence[int]) -> str:
    """The compact text form of ``looks``: ``"1:30"``, ``"5:30:5"``, ``"20,40,60,75"`` or ``"30"``.

    Arithmetic progressions of three or more looks become a range (step 1 is left out);
    anything else a comma-separated list. ``parse_looks(format_looks(looks)) == tuple(looks)``.

    Examples
    --------
    >>> format_looks(range(1, 31))
    '1:30'
    >>> format_looks((20, 40, 60, 75))
    '20,40,60,75'
    """
    looks = _check([int(value) for value in looks], list(looks))
    if len(looks) >= 3:
        step = looks[1] - looks[0]
        if all(after - before == step for before, after in zip(looks, looks[1:])):
            return f"{looks[0]}:{looks[-1]}" if step == 1 else f"{looks[0]}:{looks[-1]}:{step}"
    return ",".join(str(value) for value in looks)

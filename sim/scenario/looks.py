"""Look specifications: the numbers of evaluable patients at which a rule counts events."""

from __future__ import annotations

from typing import Any


def parse_looks(spec: Any) -> tuple[int, ...]:
    """``"1:30"``, ``"5:30:5"``, ``"20,40,60"``, a list of ints or one int -> strictly increasing looks >= 1."""
    if isinstance(spec, bool):
        raise ValueError(f"got {spec!r}; expected looks such as 1:30, 5:30:5, 20,40,60 or a list of numbers")
    if isinstance(spec, int):
        looks = [spec]
    elif isinstance(spec, (list, tuple)):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in spec):
            raise ValueError(f"got {list(spec)!r}; expected a list of whole numbers of patients")
        looks = list(spec)
    elif isinstance(spec, str) and ":" in spec:
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts):
            raise ValueError(f"got {spec!r}; expected FIRST:LAST or FIRST:LAST:STEP, e.g. 1:30 or 5:30:5")
        first, last = int(parts[0]), int(parts[1])
        step = int(parts[2]) if len(parts) == 3 else 1
        if step < 1:
            raise ValueError(f"got {spec!r}; expected a step >= 1")
        looks = list(range(first, last + 1, step))
    elif isinstance(spec, str):
        items = [p.strip() for p in spec.split(",")]
        if not items or not all(p.isdigit() for p in items):
            raise ValueError(f"got {spec!r}; expected a comma-separated list of patient counts, e.g. 20,40,60")
        looks = [int(p) for p in items]
    else:
        raise ValueError(f"got {spec!r}; expected looks such as 1:30, 5:30:5, 20,40,60 or a list of numbers")
    if not looks:
        raise ValueError(f"got {spec!r}; expected at least one look")
    if looks[0] < 1:
        raise ValueError(f"got {spec!r}; expected looks of at least 1 patient")
    if any(b <= a for a, b in zip(looks, looks[1:])):
        raise ValueError(f"got {spec!r}; expected strictly increasing looks")
    return tuple(looks)


def format_looks(looks: tuple[int, ...]) -> str:
    """The compact form of a look list: ``1:30``, ``5:30:5`` or ``20,40,60``."""
    if len(looks) >= 3:
        step = looks[1] - looks[0]
        if all(b - a == step for a, b in zip(looks, looks[1:])):
            return f"{looks[0]}:{looks[-1]}" if step == 1 else f"{looks[0]}:{looks[-1]}:{step}"
    return ",".join(str(v) for v in looks)

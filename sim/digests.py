"""Canonical digests of JSON-like data, shared by random streams, sweep points and output folders.

Kept apart from :mod:`sim.runner` (numba) and :mod:`sim.io` (pandas) so that every user can import
it without loading either.
"""

from __future__ import annotations

import hashlib
import json


def canonical_digest(description: object) -> bytes:
    """SHA-256 of a description as canonical JSON (sorted keys, no spaces): equal data, equal digest."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).digest()

"""Tallies: what a chunk of virtual trials is reduced to before it leaves the worker.

Every tally is made of integers that add exactly, so the total over any split of the trials into
chunks, in any order, on any executor, is the same bit for bit.

* A count-based analysis (a 2x2 test between groups, an interval) is a histogram of its groups'
  outcomes: per group the patients enrolled (an index into the sizes monitoring makes possible) and the
  count of the endpoint among them, as one mixed-radix integer key. Histograms are kept sparse
  (:class:`SparseCounts`: the distinct keys and how often each occurred), so memory depends on the
  outcomes seen, never on (n1 + 1)(n2 + 1).
* A per-trial test is ``[trials, rejections, undefined, separated, not converged]``.
* A Simon design is a histogram of (responses among the first n1, responses among the first n).
* A monitoring rule is a histogram of the look at which it stopped (the last bin: it did not), and
  every group's enrolment is a histogram of the patients enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np

# A histogram is counted into bins when the possible keys are few (at most DENSE_KEYS, and not many more
# than the trials counted); otherwise it is built by sorting the keys, so neither memory nor time
# grows with (n1 + 1)(n2 + 1).
DENSE_KEYS = 1 << 22
DENSE_KEYS_PER_TRIAL = 4


@dataclass(frozen=True, eq=False)
class SparseCounts:
    """A histogram over integer keys: ``counts[i]`` trials had outcome ``keys[i]`` (keys sorted, unique)."""

    keys: np.ndarray
    counts: np.ndarray

    @classmethod
    def from_keys(cls, keys: np.ndarray, key_space: int) -> "SparseCounts":
        if key_space <= min(DENSE_KEYS, max(1 << 16, DENSE_KEYS_PER_TRIAL * len(keys))):
            dense = np.bincount(keys, minlength=key_space)
            present = np.flatnonzero(dense)
            return cls(present.astype(np.int64), dense[present].astype(np.int64))
        unique, counts = np.unique(keys, return_counts=True)
        return cls(unique.astype(np.int64), counts.astype(np.int64))

    def __add__(self, other: "SparseCounts") -> "SparseCounts":
        keys = np.concatenate([self.keys, other.keys])
        counts = np.concatenate([self.counts, other.counts])
        unique, inverse = np.unique(keys, return_inverse=True)
        return SparseCounts(unique, _sum_by(inverse, counts, len(unique)))

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def equals(self, other: "SparseCounts") -> bool:
        return np.array_equal(self.keys, other.keys) and np.array_equal(self.counts, other.counts)


def _sum_by(inverse: np.ndarray, counts: np.ndarray, size: int) -> np.ndarray:
    total = np.zeros(size, dtype=np.int64)
    np.add.at(total, inverse, counts)
    return total


Tally = Union[np.ndarray, SparseCounts]
Tallies = dict[str, Tally]


def add_tallies(total: "Tallies | None", part: Tallies) -> Tallies:
    """total + part, key by key (integer sums: exact and independent of order)."""
    if total is None:
        return {key: (value.copy() if isinstance(value, np.ndarray) else value) for key, value in part.items()}
    for key, value in part.items():
        total[key] = total[key] + value
    return total


@dataclass(frozen=True)
class GroupOutcomeCode:
    """How one group's (enrolled, count) is packed into a key: size index * (planned + 1) + count.

    ``sizes`` are the group sizes monitoring makes possible (just the planned size without monitoring),
    sorted and unique (as :func:`sim.runner.possible_sizes` gives them).
    """

    group: int
    planned: int
    sizes: tuple[int, ...]

    @property
    def radix(self) -> int:
        return len(self.sizes) * (self.planned + 1)

    def encode(self, n_real: np.ndarray, count: np.ndarray) -> np.ndarray:
        # A binary search of the few possible sizes, not a lookup table of planned + 1 entries: this runs
        # per chunk, analysis and group, and planned can be 10**6.
        sizes = np.asarray(self.sizes, dtype=np.int64)
        index = np.searchsorted(sizes, n_real)
        unforeseen = sizes[np.minimum(index, len(sizes) - 1)] != n_real
        if np.any(unforeseen):  # pragma: no cover - a size the plan did not foresee is a bug, not bad input
            raise AssertionError(f"group {self.group}: enrolled sizes {set(n_real.tolist()) - set(self.sizes)} "
                                 f"not among the possible sizes {self.sizes}")
        return index * (self.planned + 1) + count.astype(np.int64)

    def decode(self, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(enrolled, count) arrays from codes."""
        sizes = np.asarray(self.sizes, dtype=np.int64)
        return sizes[code // (self.planned + 1)], code % (self.planned + 1)


@dataclass(frozen=True)
class CountTally:
    """A count-based analysis' histogram: the joint outcome of its groups for one endpoint."""

    analysis_id: str
    endpoint: int
    codes: tuple[GroupOutcomeCode, ...]

    @property
    def key_space(self) -> int:
        space = 1
        for code in self.codes:
            space *= code.radix
        return space

    def tally(self, n_real: np.ndarray, counts: np.ndarray) -> SparseCounts:
        keys = np.zeros(len(n_real), dtype=np.int64)
        for code in self.codes:
            keys = keys * code.radix + code.encode(n_real[:, code.group], counts[:, code.group, self.endpoint])
        return SparseCounts.from_keys(keys, self.key_space)

    def decode(self, keys: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per group, (enrolled, count) arrays for each key."""
        out = []
        for code in reversed(self.codes):
            out.append(code.decode(keys % code.radix))
            keys = keys // code.radix
        return out[::-1]


@dataclass(frozen=True)
class MarkTally:
    """A histogram of counts at prefix positions (mark columns of the kernel), -1 meaning not reached.

    ``marks`` are indices into the kernel's mark list, ``limits`` the largest possible count of each.
    """

    analysis_id: str
    marks: tuple[int, ...]
    limits: tuple[int, ...]

    @property
    def key_space(self) -> int:
        space = 1
        for limit in self.limits:
            space *= limit + 2
        return space

    def tally(self, mark_counts: np.ndarray) -> SparseCounts:
        keys = np.zeros(len(mark_counts), dtype=np.int64)
        for mark, limit in zip(self.marks, self.limits):
            keys = keys * (limit + 2) + (mark_counts[:, mark].astype(np.int64) + 1)
        return SparseCounts.from_keys(keys, self.key_space)

    def decode(self, keys: np.ndarray) -> list[np.ndarray]:
        """Per mark, the counts (-1: not reached) for each key."""
        out = []
        for limit in reversed(self.limits):
            out.append(keys % (limit + 2) - 1)
            keys = keys // (limit + 2)
        return out[::-1]


def tallies_equal(a: Tallies, b: Tallies) -> bool:
    """Whether two sets of tallies are identical, key by key and count by count."""
    if a.keys() != b.keys():
        return False
    for key, value in a.items():
        other = b[key]
        if isinstance(value, SparseCounts) != isinstance(other, SparseCounts):
            return False
        same = value.equals(other) if isinstance(value, SparseCounts) else np.array_equal(value, other)
        if not same:
            return False
    return True


def tallies_as_lists(tallies: Tallies) -> dict:
    """Tallies as plain lists (JSON), e.g. to compare runs made in other processes."""
    return {key: ({"keys": value.keys.tolist(), "counts": value.counts.tolist()} if isinstance(value, SparseCounts)
                  else value.ravel().tolist()) for key, value in tallies.items()}

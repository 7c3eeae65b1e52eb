"""Exact operating characteristics of a stopping boundary for one group, by the recursion over looks.

Definitions (one group, patients evaluated one after another, each with the event independently
with probability ``rate``):

``looks``
    strictly increasing numbers of evaluable patients n_1 < ... < n_K at which events are counted;
``stop_at``
    one whole number per look: the group stops at look k when its events among the first n_k
    patients reach ``stop_at[k]`` (events >= stop_at[k]) and it has not stopped before. A value
    above n_k means the group cannot stop at that look. This is clinfun's boundary plus one:
    ``toxbdry`` reports the largest acceptable count r_k and stops when events > r_k.
crossing
    reaching the boundary at any look, the last one included (clinfun ``bdrycross.prob``'s
    ``pcross``); stopping early is crossing before the last look (its ``pstop``).
``expected_n``
    E[patients evaluated]: n_k if the group stops at look k, n_K if it never stops (clinfun's
    ``ess``).

The recursion adds one patient at a time to the distribution of the event count among groups
that have not stopped, and moves the mass at or above the boundary out at each look (Jennison &
Turnbull 2000, ch. 12; Ivanova, Qaqish & Schell 2005). Every step is a convex combination, so
the probabilities are exact to rounding (about 1e-15), with O(n_K × max stop_at) work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..kernels._jit import jit


@jit
def _absorbed_mass(looks, stop_at, rate, n_planned):
    """Where the probability ends: rows 0..K-1 = stopped at look k with x events; row K = never stopped.

    looks, stop_at: int64[K]; rate: float in [0, 1]; n_planned >= looks[-1].
    Returns float64[K + 1, n_planned + 1]; entry [k, x] is P(stop at look k, x events among the
    n_k patients) for k < K and P(no stop, x events among all n_planned patients) for k = K.
    """
    n_looks = looks.shape[0]
    out = np.zeros((n_looks + 1, n_planned + 1))
    state = np.zeros(n_planned + 1)
    state[0] = 1.0
    no_event = 1.0 - rate
    top = 0  # the largest event count that can carry mass
    enrolled = 0
    for k in range(n_looks + 1):
        target = looks[k] if k < n_looks else n_planned
        while enrolled < target:
            if top < n_planned:
                top += 1
            for x in range(top, 0, -1):
                state[x] = no_event * state[x] + rate * state[x - 1]
            state[0] = no_event * state[0]
            enrolled += 1
        if k == n_looks:
            for x in range(top + 1):
                out[k, x] = state[x]
            break
        first = max(stop_at[k], 0)
        for x in range(first, top + 1):
            out[k, x] = state[x]
            state[x] = 0.0
        if first <= top:
            top = max(first - 1, 0)
    return out


@dataclass(frozen=True)
class SequentialOC:
    """Operating characteristics of a stopping boundary at one true event rate (all exact).

    ``p_cross``: P(stop at any look, the last included); ``p_stop_early``: P(stop before the last
    look); ``expected_n``: E[patients evaluated up to the stopping look, or n_K]; ``p_stop_by_look``:
    P(stop at look k) for each look.
    """

    rate: float
    p_cross: float
    p_stop_early: float
    expected_n: float
    p_stop_by_look: tuple[float, ...]

    @property
    def p_continue(self) -> float:
        """P(the group is never stopped)."""
        return 1.0 - self.p_cross

    def to_dict(self) -> dict:
        return {"rate": self.rate, "p_cross": self.p_cross, "p_stop_early": self.p_stop_early,
                "expected_n": self.expected_n, "p_stop_by_look": list(self.p_stop_by_look)}


def check_boundary(looks: Sequence[int], stop_at: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Validate a boundary; returns (looks, stop_at) as int64 arrays.

    Raises ``ValueError`` naming ``looks`` or ``stop_at``: looks must be strictly increasing
    whole numbers >= 1; stop_at one whole number >= 0 per look.
    """
    looks_list, stop_list = list(looks), list(stop_at)
    for name, values in (("looks", looks_list), ("stop_at", stop_list)):
        for value in values:
            if isinstance(value, bool) or not hasattr(value, "__index__"):
                raise ValueError(f"{name}: got {value!r}; expected whole numbers")
    if not looks_list:
        raise ValueError("looks: got none; expected at least one look")
    if looks_list[0] < 1 or any(b <= a for a, b in zip(looks_list, looks_list[1:])):
        raise ValueError(f"looks: got {looks_list}; expected strictly increasing whole numbers >= 1")
    if len(stop_list) != len(looks_list):
        raise ValueError(f"stop_at: got {len(stop_list)} values for {len(looks_list)} looks; "
                         f"expected one per look")
    if any(value < 0 for value in stop_list):
        raise ValueError(f"stop_at: got {stop_list}; expected whole numbers >= 0 "
                         f"(a value above the look's n means no stop there)")
    return np.asarray(looks_list, dtype=np.int64), np.asarray(stop_list, dtype=np.int64)


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
        raise ValueError(f"rate: got {rate!r}; expected a probability in [0, 1]")
    return rate


def crossing_probabilities(looks: Sequence[int], stop_at: Sequence[int], rate: float) -> SequentialOC:
    """Exact probabilities of crossing a stopping boundary, by look, at a true event rate.

    Parameters
    ----------
    looks : sequence of int
        Strictly increasing numbers of evaluable patients n_1 < ... < n_K.
    stop_at : sequence of int
        Per look, the smallest number of events that stops the group (values above n_k: no stop).
    rate : float
        The true probability of the event per patient, in [0, 1].

    Returns
    -------
    SequentialOC
        ``p_cross``, ``p_stop_early``, ``expected_n`` and ``p_stop_by_look``.

    Notes
    -----
    Equals R ``clinfun::bdrycross.prob(n = looks, r = stop_at - 1, ptox = rate)`` (columns
    ``pcross``, ``pstop``, ``ess``) for the non-decreasing boundaries clinfun handles; this
    recursion also handles any other boundary. See the module docstring for the definitions.

    Examples
    --------
    >>> oc = crossing_probabilities([10, 20], [3, 5], 0.1)
    >>> round(oc.p_cross, 6), round(oc.expected_n, 4)
    (0.089315, 19.2981)
    """
    looks_array, stop_array = check_boundary(looks, stop_at)
    rate = _check_rate(rate)
    mass = _absorbed_mass(looks_array, stop_array, rate, int(looks_array[-1]))
    by_look = mass[:-1].sum(axis=1)
    p_cross = float(by_look.sum())
    p_stop_early = float(by_look[:-1].sum())
    expected_n = float(np.dot(by_look, looks_array) + looks_array[-1] * mass[-1].sum())
    return SequentialOC(rate=rate, p_cross=p_cross, p_stop_early=p_stop_early, expected_n=expected_n,
                        p_stop_by_look=tuple(float(value) for value in by_look))


def stopped_sample_distribution(looks: Sequence[int], stop_at: Sequence[int], rate: float,
                                n_planned: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact joint distribution of (patients enrolled, events among them) for one monitored group.

    Each patient has the event independently with probability ``rate``; the group stops
    enrolling at the first look k where its events among the first n_k patients reach
    ``stop_at[k]``; if it never stops, all ``n_planned`` patients are enrolled (events among
    the patients after the last look are binomial and included).

    Parameters
    ----------
    looks, stop_at : sequence of int
        The boundary, as in :func:`crossing_probabilities`; ``looks[-1] <= n_planned``.
    rate : float
        The true event probability per patient.
    n_planned : int
        Patients enrolled when the group is never stopped.

    Returns
    -------
    sizes : numpy.ndarray of int64
        The distinct possible enrolled counts: each look's n_k where the boundary allows a stop
        (stop_at[k] <= n_k), increasing, then ``n_planned`` (merged with the last look's row
        when equal). A row may be all zero where earlier looks make the stop unreachable.
    pmf : numpy.ndarray of float64, shape (len(sizes), n_planned + 1)
        ``pmf[i, x] = P(enrolled = sizes[i], events = x)``; the whole array sums to 1.

    Examples
    --------
    >>> sizes, pmf = stopped_sample_distribution([1, 2], [1, 2], 0.5, 3)
    >>> sizes.tolist(), float(pmf[0, 1]), float(pmf[1].sum())
    ([1, 2, 3], 0.5, 0.0)
    """
    looks_array, stop_array = check_boundary(looks, stop_at)
    rate = _check_rate(rate)
    if isinstance(n_planned, bool) or not hasattr(n_planned, "__index__"):
        raise ValueError(f"n_planned: got {n_planned!r}; expected a whole number")
    n_planned = int(n_planned)
    if n_planned < looks_array[-1]:
        raise ValueError(f"looks: the last look {int(looks_array[-1])} is beyond n_planned = {n_planned}; "
                         f"expected looks <= n_planned")
    mass = _absorbed_mass(looks_array, stop_array, rate, n_planned)
    stoppable = [k for k in range(len(looks_array)) if stop_array[k] <= looks_array[k]]
    sizes = [int(looks_array[k]) for k in stoppable]
    rows = [mass[k] for k in stoppable]
    if sizes and sizes[-1] == n_planned:
        rows[-1] = rows[-1] + mass[-1]
    else:
        sizes.append(n_planned)
        rows.append(mass[-1])
    return np.asarray(sizes, dtype=np.int64), np.vstack(rows)

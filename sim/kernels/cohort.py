"""Patient-level cohort kernel.

A virtual trial is a set of groups (prior therapy arms); each patient gets a washout
since the last VEGF-targeted dose, the eligibility rule, a cardiac event with
probability p(washout) and a response with probability q(washout). Trials are
independent and run in parallel (``prange``); every draw comes from Philox keyed by
(seed, stream) with counter (trial, group << 32 | patient, draw, 0), so a trial's
outcome is the same whatever thread or chunk computes it.

Array layout
------------
group_int : int64[G, GROUP_INT_FIELDS]
    Columns ``GI_*``: patients, washout distribution code, event and response risk model
    codes, and the slice of ``empirical`` holding the group's observed washouts.
group_real : float64[G, GROUP_REAL_FIELDS]
    Columns ``GR_*``: distribution parameters, truncation in uniform space, truncation
    bounds, the deferral minimum, and three parameters each for event and response risk.
empirical : float64[E]
    Concatenated empirical washout samples (already restricted to the eligible range).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit, jit_parallel
from .distributions import WASHOUT_NONE, draw_washout, risk_probability
from .rng import open_uniform, philox4x64

GI_N = 0
GI_WASHOUT = 1
GI_EVENT_MODEL = 2
GI_RESPONSE_MODEL = 3
GI_EMPIRICAL_START = 4
GI_EMPIRICAL_STOP = 5
GROUP_INT_FIELDS = 6

GR_WASHOUT_P0 = 0
GR_WASHOUT_P1 = 1
GR_U_LOW = 2
GR_U_HIGH = 3
GR_LOWER = 4
GR_UPPER = 5
GR_DEFER_MIN = 6
GR_EVENT_A = 7
GR_EVENT_B = 8
GR_EVENT_C = 9
GR_RESPONSE_A = 10
GR_RESPONSE_B = 11
GR_RESPONSE_C = 12
GROUP_REAL_FIELDS = 13

ENDPOINT_CARDIAC_EVENT = 0
ENDPOINT_RESPONSE = 1
N_COUNT_ENDPOINTS = 2

_LANE_SHIFT = np.uint64(32)


@jit
def simulate_patient(key0, key1, trial, group, patient, group_int, group_real, empirical):
    """(washout_months, cardiac_event, response) of one patient; the model in one place."""
    gi = group_int[group]
    gr = group_real[group]
    lane = (np.uint64(group) << _LANE_SHIFT) | np.uint64(patient)
    w0, _w1, w2, w3 = philox4x64(trial, lane, 0, 0, key0, key1)
    washout = 0.0
    if gi[GI_WASHOUT] != WASHOUT_NONE:
        washout = draw_washout(
            gi[GI_WASHOUT], gr[GR_WASHOUT_P0], gr[GR_WASHOUT_P1], gr[GR_U_LOW], gr[GR_U_HIGH],
            gr[GR_LOWER], gr[GR_UPPER], empirical[gi[GI_EMPIRICAL_START]:gi[GI_EMPIRICAL_STOP]],
            w0, key0, key1, trial, lane,
        )
        if washout < gr[GR_DEFER_MIN]:
            washout = gr[GR_DEFER_MIN]
    p_event = risk_probability(gi[GI_EVENT_MODEL], gr[GR_EVENT_A], gr[GR_EVENT_B], gr[GR_EVENT_C], washout)
    event = open_uniform(w2) < p_event
    response = False
    if gi[GI_RESPONSE_MODEL] != 0:
        p_response = risk_probability(
            gi[GI_RESPONSE_MODEL], gr[GR_RESPONSE_A], gr[GR_RESPONSE_B], gr[GR_RESPONSE_C], washout
        )
        response = open_uniform(w3) < p_response
    return washout, event, response


@jit_parallel
def simulate_counts(key0, key1, trial_start, n_trials, group_int, group_real, empirical):
    """Event and response counts per trial and group: int32[n_trials, G, N_COUNT_ENDPOINTS]."""
    n_groups = group_int.shape[0]
    counts = np.zeros((n_trials, n_groups, N_COUNT_ENDPOINTS), dtype=np.int32)
    for t in prange(n_trials):
        trial = np.uint64(trial_start + t)
        for g in range(n_groups):
            events = 0
            responses = 0
            for i in range(group_int[g, GI_N]):
                _w, event, response = simulate_patient(
                    key0, key1, trial, g, i, group_int, group_real, empirical
                )
                events += event
                responses += response
            counts[t, g, ENDPOINT_CARDIAC_EVENT] = events
            counts[t, g, ENDPOINT_RESPONSE] = responses
    return counts


@jit_parallel
def simulate_patients(key0, key1, trial_start, n_trials, group_int, group_real, empirical):
    """Patient-level outcomes for inspection and testing.

    Returns washout float64[T, G, n_max] (NaN past a group's size), event and response
    int8[T, G, n_max] (-1 past a group's size).
    """
    n_groups = group_int.shape[0]
    n_max = 0
    for g in range(n_groups):
        n_max = max(n_max, group_int[g, GI_N])
    washout = np.full((n_trials, n_groups, n_max), np.nan)
    event = np.full((n_trials, n_groups, n_max), -1, dtype=np.int8)
    response = np.full((n_trials, n_groups, n_max), -1, dtype=np.int8)
    for t in prange(n_trials):
        trial = np.uint64(trial_start + t)
        for g in range(n_groups):
            for i in range(group_int[g, GI_N]):
                w, e, r = simulate_patient(key0, key1, trial, g, i, group_int, group_real, empirical)
                washout[t, g, i] = w
                event[t, g, i] = e
                response[t, g, i] = r
    return washout, event, response

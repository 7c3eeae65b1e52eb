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

Doses (when ``GI_DOSE_COURSES`` > 0 and ``GI_SIMULATE_DOSES`` is set): each course offers
``per_course`` doses, each given with the course's probability, so a course's dose count is
Binomial(offered, p_dose) and is drawn by inverse CDF from one uniform. A cardiac event
happens during course ``event_course`` at a uniformly random dose position: the doses
before it may be given, none from it on, and no later course is given.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import jit, jit_inline, jit_parallel
from .distributions import WASHOUT_NONE, draw_washout, risk_probability
from .fisher import fisher_p_value
from .logistic import STATUS_DEGENERATE, STATUS_OK, chi2_1_sf, logistic_lrt
from .ranktests import mann_whitney_p
from .rng import open_uniform, philox4x64

GI_N = 0
GI_WASHOUT = 1
GI_EVENT_MODEL = 2
GI_RESPONSE_MODEL = 3
GI_EMPIRICAL_START = 4
GI_EMPIRICAL_STOP = 5
GI_DOSE_COURSES = 6
GI_DOSE_PER_COURSE = 7
GI_DOSE_EVENT_COURSE = 8  # 0-based course during which a cardiac event stops dosing
GI_SIMULATE_DOSES = 9  # 0 skips the dose draws when no analysis needs them
GI_DRAW_WASHOUT = 10  # 0 skips the washout draw when neither a risk nor an analysis uses it
GROUP_INT_FIELDS = 11

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
GR_P_DOSE = 13  # GR_P_DOSE + c: probability that each dose of course c is given
MAX_COURSES = 8
GROUP_REAL_FIELDS = GR_P_DOSE + MAX_COURSES

# Binary endpoints counted per trial and group.
ENDPOINT_CARDIAC_EVENT = 0
ENDPOINT_RESPONSE = 1
ENDPOINT_MISSED_WEEK2 = 2
N_COUNT_ENDPOINTS = 3

# Patient-level values available to per-trial tests.
VALUE_WASHOUT = 0
VALUE_CARDIAC_EVENT = 1
VALUE_RESPONSE = 2
VALUE_DOSES_WEEK1 = 3
VALUE_DOSES_WEEK2 = 4
VALUE_DOSES_TOTAL = 5
VALUE_MISSED_WEEK2 = 6
N_VALUES = 7

# Per-trial tests (rows of ``tests_int`` / ``tests_real``).
TEST_WILCOXON_BETWEEN = 0  # values of endpoint in group A against group B
TEST_WILCOXON_BY = 1  # endpoint of patients with the ``by`` outcome against those without (pooled groups)
TEST_SPLIT_FISHER = 2  # binary endpoint, washout < split against >= split (pooled groups)
TEST_LOGISTIC_LRT = 3  # binary endpoint on log washout (pooled groups)
TI_KIND = 0
TI_ENDPOINT = 1
TI_BY = 2
TI_ALTERNATIVE = 3
TI_GROUP_A = 4
TI_GROUP_B = 5
TI_POOL_MASK = 6
TI_EXACT_ROW = 7
TEST_INT_FIELDS = 8
TR_SPLIT_AT = 0
TEST_REAL_FIELDS = 1

TRIALS_PER_BLOCK = 64

# Draw index of the first dose block: far above any gamma rejection draw.
DOSE_DRAW = np.uint64(1) << np.uint64(40)

_LANE_SHIFT = np.uint64(32)


@jit
def binomial_quantile(u, m, p):
    """Smallest x with P(Binomial(m, p) <= x) >= u (as scipy.stats.binom.ppf), summing from the
    nearer tail so that the starting probability cannot underflow."""
    if m <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return m
    q = 1.0 - p
    if p <= 0.5:
        pmf = q**m
        cdf = pmf
        x = 0
        while cdf < u and x < m:
            pmf *= (m - x) / (x + 1.0) * (p / q)
            x += 1
            cdf += pmf
        return x
    # From the top: the smallest x with P(X > x) <= 1 - u.
    pmf = p**m
    x = m
    sf = 0.0
    while x > 0 and sf + pmf <= 1.0 - u:
        sf += pmf
        pmf *= x / (m - x + 1.0) * (q / p)
        x -= 1
    return x


@jit
def simulate_doses(key0, key1, trial, lane, gi, gr, event):
    """(doses in course 1, doses in course 2, total doses) of one patient."""
    courses = gi[GI_DOSE_COURSES]
    per_course = gi[GI_DOSE_PER_COURSE]
    event_course = gi[GI_DOSE_EVENT_COURSE]
    block = philox4x64(trial, lane, DOSE_DRAW, 0, key0, key1)
    stop_position = int(open_uniform(block[0]) * per_course)
    week1 = 0
    week2 = 0
    total = 0
    for c in range(courses):
        word = c + 1
        if word % 4 == 0:
            block = philox4x64(trial, lane, DOSE_DRAW + np.uint64(word // 4), 0, key0, key1)
        if event and c > event_course:
            offered = 0
        elif event and c == event_course:
            offered = stop_position
        else:
            offered = per_course
        given = binomial_quantile(open_uniform(block[word % 4]), offered, gr[GR_P_DOSE + c])
        total += given
        if c == 0:
            week1 = given
        elif c == 1:
            week2 = given
    return week1, week2, total


@jit_inline
def simulate_patient(key0, key1, trial, group, patient, group_int, group_real, empirical, every_draw):
    """(washout_months, cardiac_event, response, doses_week1, doses_week2, doses_total) of one
    patient; the model in one place. Doses are 0 unless the group simulates them; the washout
    is 0 unless the group has a distribution and something uses it (or ``every_draw``).
    Skipping a draw changes no other draw: each has its own counter."""
    gi = group_int[group]
    gr = group_real[group]
    lane = (np.uint64(group) << _LANE_SHIFT) | np.uint64(patient)
    w0, _w1, w2, w3 = philox4x64(trial, lane, 0, 0, key0, key1)
    washout = 0.0
    if gi[GI_WASHOUT] != WASHOUT_NONE and (every_draw or gi[GI_DRAW_WASHOUT] != 0):
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
    week1 = 0
    week2 = 0
    total = 0
    if gi[GI_SIMULATE_DOSES] != 0 and gi[GI_DOSE_COURSES] > 0:
        week1, week2, total = simulate_doses(key0, key1, trial, lane, gi, gr, event)
    return washout, event, response, week1, week2, total


@jit_parallel
def simulate_counts(key0, key1, trial_start, n_trials, group_int, group_real, empirical):
    """Binary endpoint counts per trial and group: int32[n_trials, G, N_COUNT_ENDPOINTS]."""
    n_groups = group_int.shape[0]
    counts = np.zeros((n_trials, n_groups, N_COUNT_ENDPOINTS), dtype=np.int32)
    for t in prange(n_trials):
        trial = np.uint64(trial_start + t)
        for g in range(n_groups):
            events = 0
            responses = 0
            missed = 0
            for i in range(group_int[g, GI_N]):
                _w, event, response, _d1, week2, _dt = simulate_patient(
                    key0, key1, trial, g, i, group_int, group_real, empirical, False
                )
                events += event
                responses += response
                missed += week2 == 0
            counts[t, g, ENDPOINT_CARDIAC_EVENT] = events
            counts[t, g, ENDPOINT_RESPONSE] = responses
            counts[t, g, ENDPOINT_MISSED_WEEK2] = missed
    return counts


@jit
def _pooled(values, group_int, mask, column):
    """One value column of every patient in the groups of ``mask``, concatenated."""
    total = 0
    for g in range(group_int.shape[0]):
        if (mask >> g) & 1:
            total += group_int[g, GI_N]
    out = np.empty(total)
    k = 0
    for g in range(group_int.shape[0]):
        if (mask >> g) & 1:
            for i in range(group_int[g, GI_N]):
                out[k] = values[g, i, column]
                k += 1
    return out


@jit
def run_trial_test(values, group_int, spec, split_at, exact_sf):
    """(p-value, status) of one per-trial test on one simulated trial (see TEST_*)."""
    kind = spec[TI_KIND]
    endpoint = spec[TI_ENDPOINT]
    alternative = spec[TI_ALTERNATIVE]
    if kind == TEST_WILCOXON_BETWEEN:
        a = spec[TI_GROUP_A]
        b = spec[TI_GROUP_B]
        x = values[a, : group_int[a, GI_N], endpoint].copy()
        y = values[b, : group_int[b, GI_N], endpoint].copy()
        return mann_whitney_p(x, y, alternative, exact_sf), STATUS_OK
    pooled = _pooled(values, group_int, spec[TI_POOL_MASK], endpoint)
    if kind == TEST_WILCOXON_BY:
        outcome = _pooled(values, group_int, spec[TI_POOL_MASK], spec[TI_BY])
        n_with = 0
        for i in range(outcome.shape[0]):
            n_with += outcome[i] != 0.0
        x = np.empty(n_with)
        y = np.empty(outcome.shape[0] - n_with)
        kx = 0
        ky = 0
        for i in range(outcome.shape[0]):
            if outcome[i] != 0.0:
                x[kx] = pooled[i]
                kx += 1
            else:
                y[ky] = pooled[i]
                ky += 1
        if kx == 0 or ky == 0:
            return 1.0, STATUS_DEGENERATE
        return mann_whitney_p(x, y, alternative, exact_sf), STATUS_OK
    washout = _pooled(values, group_int, spec[TI_POOL_MASK], VALUE_WASHOUT)
    if kind == TEST_SPLIT_FISHER:
        short = 0
        short_events = 0
        long_events = 0
        for i in range(washout.shape[0]):
            if washout[i] < split_at:
                short += 1
                short_events += pooled[i] != 0.0
            else:
                long_events += pooled[i] != 0.0
        n_long = washout.shape[0] - short
        if short == 0 or n_long == 0:
            return 1.0, STATUS_DEGENERATE
        return fisher_p_value(short_events, short, long_events, n_long, alternative), STATUS_OK
    statistic, status, _slope = logistic_lrt(np.log(washout), pooled)
    return chi2_1_sf(statistic), status


@jit_parallel
def simulate_trials(key0, key1, trial_start, n_trials, group_int, group_real, empirical,
                    tests_int, tests_real, exact_sf):
    """Counts as :func:`simulate_counts`, plus per-trial tests on patient-level data.

    Returns counts int32[T, G, N_COUNT_ENDPOINTS], p_values float64[T, A] and status
    int8[T, A] for the A rows of ``tests_int``; ``exact_sf`` float64[K, L] holds the exact
    Wilcoxon null tables referenced by ``TI_EXACT_ROW`` (-1: asymptotic).
    """
    n_groups = group_int.shape[0]
    n_tests = tests_int.shape[0]
    n_max = 0
    for g in range(n_groups):
        n_max = max(n_max, group_int[g, GI_N])
    counts = np.zeros((n_trials, n_groups, N_COUNT_ENDPOINTS), dtype=np.int32)
    p_values = np.empty((n_trials, n_tests))
    status = np.zeros((n_trials, n_tests), dtype=np.int8)
    no_table = np.empty(0)
    # Scratch for patient-level values, allocated once per block of trials rather than per trial.
    n_blocks = (n_trials + TRIALS_PER_BLOCK - 1) // TRIALS_PER_BLOCK
    for block in prange(n_blocks):
        values = np.empty((n_groups, n_max, N_VALUES))
        for t in range(block * TRIALS_PER_BLOCK, min(n_trials, (block + 1) * TRIALS_PER_BLOCK)):
            _simulate_one_trial(key0, key1, np.uint64(trial_start + t), group_int, group_real, empirical,
                                tests_int, tests_real, exact_sf, no_table, values, counts[t], p_values[t],
                                status[t])
    return counts, p_values, status


@jit_inline
def _simulate_one_trial(key0, key1, trial, group_int, group_real, empirical, tests_int, tests_real, exact_sf,
                        no_table, values, counts, p_values, status):
    """One trial of :func:`simulate_trials`: fills its rows of counts, p-values and status."""
    n_groups = group_int.shape[0]
    n_tests = tests_int.shape[0]
    for g in range(n_groups):
        events = 0
        responses = 0
        missed = 0
        for i in range(group_int[g, GI_N]):
            w, event, response, week1, week2, total = simulate_patient(
                key0, key1, trial, g, i, group_int, group_real, empirical, False
            )
            values[g, i, VALUE_WASHOUT] = w
            values[g, i, VALUE_CARDIAC_EVENT] = event
            values[g, i, VALUE_RESPONSE] = response
            values[g, i, VALUE_DOSES_WEEK1] = week1
            values[g, i, VALUE_DOSES_WEEK2] = week2
            values[g, i, VALUE_DOSES_TOTAL] = total
            values[g, i, VALUE_MISSED_WEEK2] = week2 == 0
            events += event
            responses += response
            missed += week2 == 0
        counts[g, ENDPOINT_CARDIAC_EVENT] = events
        counts[g, ENDPOINT_RESPONSE] = responses
        counts[g, ENDPOINT_MISSED_WEEK2] = missed
    for a in range(n_tests):
        row = tests_int[a, TI_EXACT_ROW]
        table = exact_sf[row] if row >= 0 else no_table
        p, code = run_trial_test(values, group_int, tests_int[a], tests_real[a, TR_SPLIT_AT], table)
        p_values[a] = p
        status[a] = code


@jit_parallel
def simulate_patients(key0, key1, trial_start, n_trials, group_int, group_real, empirical):
    """Patient-level outcomes for inspection and testing.

    Returns washout float64[T, G, n_max] (NaN past a group's size), event and response
    int8[T, G, n_max] (-1 past a group's size), and doses int32[T, G, n_max, 3] (week 1,
    week 2, total; -1 past a group's size).
    """
    n_groups = group_int.shape[0]
    n_max = 0
    for g in range(n_groups):
        n_max = max(n_max, group_int[g, GI_N])
    washout = np.full((n_trials, n_groups, n_max), np.nan)
    event = np.full((n_trials, n_groups, n_max), -1, dtype=np.int8)
    response = np.full((n_trials, n_groups, n_max), -1, dtype=np.int8)
    doses = np.full((n_trials, n_groups, n_max, 3), -1, dtype=np.int32)
    for t in prange(n_trials):
        trial = np.uint64(trial_start + t)
        for g in range(n_groups):
            for i in range(group_int[g, GI_N]):
                w, e, r, week1, week2, total = simulate_patient(
                    key0, key1, trial, g, i, group_int, group_real, empirical, True
                )
                washout[t, g, i] = w
                event[t, g, i] = e
                response[t, g, i] = r
                doses[t, g, i, 0] = week1
                doses[t, g, i, 1] = week2
                doses[t, g, i, 2] = total
    return washout, event, response, doses

"""The patient-level trial kernel: virtual trials simulated patient by patient, in enrolment order.

A virtual trial is a set of groups (prior-therapy arms). Each trial first draws the group-level
quantities that vary between trials (risk parameters given as Beta priors), then simulates the
patients of each group in enrolment order: a washout since the last VEGF-targeted dose, the
eligibility rule, a cardiac event with probability p(washout), a response with probability
q(washout), and the IL-2 doses. Interim monitoring rules count a binary endpoint at looks and stop a
group (or the whole trial) when a boundary is reached; every count and per-trial test is then taken
on the patients actually enrolled.

Randomness is Philox4x64-10 keyed by (seed, stream). A patient's draws use counter (trial,
group << 32 | patient, draw, 0): draw 0 is the patient's main block (washout, -, event, response),
draws from GAMMA_DRAW_BASE the rejection steps of gamma washouts, draws from DOSE_DRAW the dose
blocks. Group-level draws of a trial use the reserved patient index 2**32 - 1 and draws from
PRIOR_DRAW. So a patient's outcome depends only on (seed, stream, trial, group, patient) and the
trial's group-level draws: never on threads, chunks, workers, the order in which groups are
simulated, or on whether monitoring stopped an earlier patient's group (stream version 1: the
patient draws of earlier versions are unchanged).

The kernel is serial and releases the GIL (``nogil``); callers run chunks of trials on a thread
pool or a cluster. Array layout
-------------------------------
group_int : int64[G, GROUP_INT_FIELDS]      columns ``GI_*`` (sizes, codes, flags)
group_real : float64[G, GROUP_REAL_FIELDS]  columns ``GR_*`` (distribution and risk parameters)
empirical : float64[E]                      concatenated empirical washouts
dose_table : float64[G, C, M + 1, M]        per group and course, the dose_threshold_table (where GI_DOSE_TABLE)
rules_int : int64[R, RULE_INT_FIELDS]       monitoring rules: group, endpoint, action, looks
rules_looks, rules_stop : int64[R, K]       looks (patients) and boundaries (events that stop)
marks : int64[M, 3]                         (group, endpoint, position): counts at prefix positions,
                                            sorted by group, then position
values_wanted : int64                       1: keep patient-level values (per-trial tests)
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_inline, jit_no_refcounts
from .distributions import WASHOUT_NONE, draw_washout, risk_probability, standard_gamma
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
GI_DOSE_MODE = 9  # DOSES_*: what of the doses the analyses need
GI_DRAW_WASHOUT = 10  # 0 skips the washout draw when neither a risk nor an analysis uses it
GI_PRIORS = 11  # bit mask of the PRIOR_* slots drawn per trial
GI_DOSE_TABLE = 12  # 1: dose counts come from the per-run table of inverse CDFs (see dose_threshold_table)
GROUP_INT_FIELDS = 13

# Courses of at most this many doses get per-run inverse-CDF tables ((per_course + 1) x per_course each).
DOSE_TABLE_MAX = 64

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
GR_MISSED_WEEK2_IF_NO_EVENT = 13  # decides 'no week-2 dose' without an event: see zero_count_threshold
GR_PRIOR = 14  # GR_PRIOR + 2 * slot, + 1: the Beta(a, b) of each PRIOR_* slot
N_PRIOR_SLOTS = 4
GR_P_DOSE = GR_PRIOR + 2 * N_PRIOR_SLOTS  # GR_P_DOSE + c: probability that each dose of course c is given
MAX_COURSES = 8
GROUP_REAL_FIELDS = GR_P_DOSE + MAX_COURSES

# Risk parameters that may be drawn per trial from a Beta prior, and where they go.
PRIOR_EVENT_A = 0  # cardiac_event p (constant) or p_early (washout_decay)
PRIOR_EVENT_B = 1  # cardiac_event p_late
PRIOR_RESPONSE_A = 2
PRIOR_RESPONSE_B = 3

DOSES_NONE = 0
DOSES_MISSED_WEEK2 = 1  # only whether week 2 has no dose
DOSES_ALL = 2

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

# Monitoring rules.
RI_GROUP = 0
RI_ENDPOINT = 1
RI_ACTION = 2
RI_LOOKS = 3  # number of looks
RULE_INT_FIELDS = 4
ACTION_STOP_GROUP = 0
ACTION_STOP_TRIAL = 1

MARK_GROUP = 0
MARK_ENDPOINT = 1
MARK_POSITION = 2

# Draw index of the first dose block: far above any gamma rejection draw.
DOSE_DRAW = np.uint64(1) << np.uint64(40)
# Group-level draws (priors): their own lane and draw range.
PRIOR_DRAW = np.uint64(1) << np.uint64(41)
PRIOR_SLOT_SHIFT = np.uint64(24)
PRIOR_SECOND_GAMMA = np.uint64(1) << np.uint64(23)
GROUP_LANE_PATIENT = np.uint64(0xFFFFFFFF)

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
def zero_count_threshold(m, p):
    """What decides :func:`binomial_quantile` (u, m, p) == 0 with one comparison, bit for bit.

    For p <= 0.5 it is 0 iff u <= (1 - p)**m, the first cumulative probability it computes. For p > 0.5
    it walks down from x = m while sf + pmf <= 1 - u; those sums only grow as x falls, so it reaches 0 iff
    the last one it would compare (at x = 1) is <= 1 - u. Both are computed here exactly as there.
    """
    if m <= 0:  # no dose offered: always 0 (threshold met by every u in either comparison)
        return 2.0 if p <= 0.5 else -1.0
    if p >= 1.0:  # every dose given: never 0
        return 2.0
    q = 1.0 - p
    if p <= 0.5:
        return q**m
    pmf = p**m
    x = m
    sf = 0.0
    while x > 1:
        sf += pmf
        pmf *= x / (m - x + 1.0) * (q / p)
        x -= 1
    return sf + pmf


@jit
def beta_draw(a, b, key0, key1, trial, lane, draw):
    """Beta(a, b) as G_a / (G_a + G_b) from two gamma draws with their own counter ranges."""
    ga, _next = standard_gamma(a, key0, key1, trial, lane, draw)
    gb, _next = standard_gamma(b, key0, key1, trial, lane, draw + PRIOR_SECOND_GAMMA)
    total = ga + gb
    if total <= 0.0:  # both underflowed (shapes far below 1): the draw is at an end of (0, 1)
        return 0.5 if ga == gb else (1.0 if ga > gb else 0.0)
    return ga / total


@jit
def trial_risks(key0, key1, trial, group_int, group_real, risks):
    """Fill risks[G, 6] = (event a, b, c, response a, b, c) for one trial, drawing prior'd slots."""
    for g in range(group_int.shape[0]):
        gr = group_real[g]
        risks[g, 0] = gr[GR_EVENT_A]
        risks[g, 1] = gr[GR_EVENT_B]
        risks[g, 2] = gr[GR_EVENT_C]
        risks[g, 3] = gr[GR_RESPONSE_A]
        risks[g, 4] = gr[GR_RESPONSE_B]
        risks[g, 5] = gr[GR_RESPONSE_C]
        mask = group_int[g, GI_PRIORS]
        if mask == 0:
            continue
        lane = (np.uint64(g) << _LANE_SHIFT) | GROUP_LANE_PATIENT
        for slot in range(N_PRIOR_SLOTS):
            if (mask >> slot) & 1:
                draw = PRIOR_DRAW + (np.uint64(slot) << PRIOR_SLOT_SHIFT)
                value = beta_draw(gr[GR_PRIOR + 2 * slot], gr[GR_PRIOR + 2 * slot + 1], key0, key1, trial, lane,
                                  draw)
                column = slot if slot < 2 else slot + 1  # event a, b -> 0, 1; response a, b -> 3, 4
                risks[g, column] = value


@jit
def dose_threshold_table(per_course, p):
    """The comparisons :func:`binomial_quantile` (u, m, p) makes, for every m = 0..per_course: float64[m + 1, m].

    For p <= 0.5 row m holds the cumulative probabilities it compares u with (x = how many are < u); for
    p > 0.5 the sums it compares 1 - u with, walking down from m (x = m - how many are <= 1 - u). Both
    sequences only grow, so counting equals stopping at the first failed comparison, and the numbers are
    computed by the same recurrence: the counts equal the loop's answer bit for bit, without its divisions.
    """
    table = np.full((per_course + 1, max(per_course, 1)), 2.0)
    for m in range(1, per_course + 1):
        if p <= 0.0 or p >= 1.0:
            continue  # 2.0 everywhere: never counted (p <= 0 gives 0 doses, p >= 1 gives m)
        q = 1.0 - p
        if p <= 0.5:
            pmf = q**m
            cdf = pmf
            table[m, 0] = cdf
            for x in range(m - 1):
                pmf *= (m - x) / (x + 1.0) * (p / q)
                cdf += pmf
                table[m, x + 1] = cdf
        else:
            pmf = p**m
            sf = 0.0
            x = m
            for k in range(m):
                table[m, k] = sf + pmf
                sf += pmf
                pmf *= x / (m - x + 1.0) * (q / p)
                x -= 1
    return table


@jit_inline
def dose_count(u, offered, p, table):
    """binomial_quantile(u, offered, p) from a row of :func:`dose_threshold_table`."""
    if offered <= 0:
        return 0
    below = 0
    if p <= 0.5:
        for j in range(offered):
            below += table[offered, j] < u
        return below
    limit = 1.0 - u
    for j in range(offered):
        below += table[offered, j] <= limit
    return offered - below


@jit
def dose_count_scalar(u, offered, p, table):
    """:func:`dose_count` as a callable kernel, for tests."""
    return dose_count(u, offered, p, table)


@jit_inline
def simulate_doses(key0, key1, trial, lane, gi, gr, event, dose_table):
    """(doses in course 1, doses in course 2, total doses) of one patient.

    ``dose_table[c]`` is the course's :func:`dose_threshold_table` when the group has tables
    (GI_DOSE_TABLE), else unused: the counts are then walked by :func:`binomial_quantile`.
    """
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
        u = open_uniform(block[word % 4])
        if gi[GI_DOSE_TABLE] != 0:
            given = dose_count(u, offered, gr[GR_P_DOSE + c], dose_table[c])
        else:
            given = binomial_quantile(u, offered, gr[GR_P_DOSE + c])
        total += given
        if c == 0:
            week1 = given
        elif c == 1:
            week2 = given
    return week1, week2, total


@jit_inline
def missed_week2(key0, key1, trial, lane, gi, gr, event, dose_table):
    """Whether week 2 (course 2) has no dose: the same decision as the full dose draw, from one word.

    Course 2's count is the inverse binomial CDF of its uniform, so it is 0 exactly when the uniform
    is <= P(0 doses) = (1 - p_dose)**offered. Without an event the decision is one comparison with the
    precomputed GR_MISSED_WEEK2_IF_NO_EVENT; the other cases are drawn in full (an event in a later course).
    """
    event_course = gi[GI_DOSE_EVENT_COURSE]
    if event and event_course == 0:
        return True  # the event stopped dosing in week 1: no week 2
    if event:
        return simulate_doses(key0, key1, trial, lane, gi, gr, event, dose_table)[1] == 0
    block = philox4x64(trial, lane, DOSE_DRAW, 0, key0, key1)
    # Course 2 is word 2 of the first dose block; see zero_count_threshold for the one comparison.
    u = open_uniform(block[2])
    if gr[GR_P_DOSE + 1] <= 0.5:
        return u <= gr[GR_MISSED_WEEK2_IF_NO_EVENT]
    return gr[GR_MISSED_WEEK2_IF_NO_EVENT] <= 1.0 - u


@jit_inline
def simulate_patient(key0, key1, trial, group, patient, gi, gr, empirical, dose_table, event_a, event_b, event_c,
                     response_a, response_b, response_c, every_draw):
    """(washout_months, event, response, doses_week1, doses_week2, doses_total, missed_week2) of one
    patient: the model in one place. ``event_*`` and ``response_*`` are the trial's risk parameters of
    the group (scalars: an array row per patient would cost a view each time).
    Doses are 0 unless the group's dose mode asks for them; the washout is 0 unless the group has a
    distribution and something uses it (or ``every_draw``). Skipping a draw changes no other draw."""
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
    p_event = risk_probability(gi[GI_EVENT_MODEL], event_a, event_b, event_c, washout)
    event = open_uniform(w2) < p_event
    response = False
    if gi[GI_RESPONSE_MODEL] != 0:
        p_response = risk_probability(gi[GI_RESPONSE_MODEL], response_a, response_b, response_c, washout)
        response = open_uniform(w3) < p_response
    week1 = 0
    week2 = 0
    total = 0
    missed = False
    mode = gi[GI_DOSE_MODE]
    if every_draw and gi[GI_DOSE_COURSES] > 0:
        mode = DOSES_ALL
    if mode == DOSES_ALL:
        week1, week2, total = simulate_doses(key0, key1, trial, lane, gi, gr, event, dose_table[group])
        missed = week2 == 0
    elif mode == DOSES_MISSED_WEEK2:
        missed = missed_week2(key0, key1, trial, lane, gi, gr, event, dose_table[group])
    return washout, event, response, week1, week2, total, missed


@jit_inline
def _record(values, g, i, washout, event, response, week1, week2, total, missed):
    values[g, i, VALUE_WASHOUT] = washout
    values[g, i, VALUE_CARDIAC_EVENT] = event
    values[g, i, VALUE_RESPONSE] = response
    values[g, i, VALUE_DOSES_WEEK1] = week1
    values[g, i, VALUE_DOSES_WEEK2] = week2
    values[g, i, VALUE_DOSES_TOTAL] = total
    values[g, i, VALUE_MISSED_WEEK2] = missed


@jit_inline
def _count_of(endpoint, events, responses, missed_count):
    """events, responses or missed_count, by ENDPOINT_* code. Scalars only: the hot loop keeps its counts
    in registers, and is compiled without reference counting."""
    return events if endpoint == ENDPOINT_CARDIAC_EVENT else (
        responses if endpoint == ENDPOINT_RESPONSE else missed_count)


@jit_inline
def _first_later(a_num, a_den, b_num, b_den):
    """a_num / a_den > b_num / b_den, in exact integer arithmetic."""
    return a_num * b_den > b_num * a_den


@jit
def simulate_block(key0, key1, trial_start, n_trials, group_int, group_real, empirical, dose_table, rules_int,
                   rules_looks, rules_stop, marks, values_wanted):
    """Simulate trials [trial_start, trial_start + n_trials).

    Returns
    -------
    n_real : int32[T, G]            patients enrolled per group (below the plan when monitoring stopped it)
    counts : int32[T, G, 3]         cardiac events, responses, patients without a week-2 dose, among them
    rule_fired : int16[T, R]        the look at which each monitoring rule stopped (-1: it did not)
    mark_counts : int32[T, M]       the count of each mark's endpoint among the group's first
                                    ``position`` patients (-1 when fewer were enrolled)
    values : float64[T, G, n_max, 7] patient-level values (VALUE_*), or an empty array unless wanted
    """
    n_groups = group_int.shape[0]
    n_rules = rules_int.shape[0]
    n_marks = marks.shape[0]
    n_max = 0
    for g in range(n_groups):
        n_max = max(n_max, group_int[g, GI_N])
    n_real = np.zeros((n_trials, n_groups), dtype=np.int32)
    counts = np.zeros((n_trials, n_groups, N_COUNT_ENDPOINTS), dtype=np.int32)
    rule_fired = np.full((n_trials, n_rules), -1, dtype=np.int16)
    mark_counts = np.full((n_trials, n_marks), -1, dtype=np.int32)
    if values_wanted:
        values = np.zeros((n_trials, n_groups, n_max, N_VALUES))
    else:
        values = np.zeros((0, n_groups, 1, N_VALUES))
    risks = np.empty((n_groups, 6))
    monitored = np.zeros(n_groups, dtype=np.bool_)
    for r in range(n_rules):
        monitored[rules_int[r, RI_GROUP]] = True
    any_monitored = n_rules > 0
    # Outcome bits of monitored groups' patients, so counts can be cut at any enrolled size.
    bits = np.zeros((n_groups if any_monitored else 0, n_max, N_COUNT_ENDPOINTS), dtype=np.int8)
    mark_start = np.zeros(n_groups + 1, dtype=np.int64)
    for m in range(n_marks):
        mark_start[marks[m, MARK_GROUP] + 1] += 1
    for g in range(n_groups):
        mark_start[g + 1] += mark_start[g]
    look_pointer = np.zeros(n_rules, dtype=np.int64)
    fire_position = np.zeros(n_rules, dtype=np.int64)
    own_stop = np.zeros(n_groups, dtype=np.int64)
    running = np.zeros(N_COUNT_ENDPOINTS, dtype=np.int64)

    # Monitored groups first: their rules fix when the trial stops, which bounds every other group.
    order = np.empty(n_groups, dtype=np.int64)
    k = 0
    for first_pass in (True, False):
        for g in range(n_groups):
            if monitored[g] == first_pass:
                order[k] = g
                k += 1
    _simulate_block_into(key0, key1, trial_start, n_trials, group_int, group_real, empirical, dose_table, rules_int,
                         rules_looks, rules_stop, marks, values_wanted, n_real, counts, rule_fired, mark_counts, values, risks,
                         monitored, bits, mark_start, look_pointer, fire_position, own_stop, running, order)
    return n_real, counts, rule_fired, mark_counts, values


@jit_no_refcounts
def _simulate_block_into(key0, key1, trial_start, n_trials, group_int, group_real, empirical, dose_table, rules_int,
                         rules_looks, rules_stop, marks, values_wanted, n_real, counts, rule_fired, mark_counts, values, risks,
                         monitored, bits, mark_start, look_pointer, fire_position, own_stop, running, order):
    """The loops of :func:`simulate_block`, into arrays it allocated. Compiled without reference counting:
    with it, every array handed to the inlined patient model costs atomic increments and decrements per
    patient, which tripled the time per patient (13 -> 40 ns on a constant-rate design)."""
    n_groups = group_int.shape[0]
    n_rules = rules_int.shape[0]
    any_monitored = n_rules > 0

    for t in range(n_trials):
        trial = np.uint64(trial_start + t)
        trial_risks(key0, key1, trial, group_int, group_real, risks)
        # The trial's stop time as a fraction of planned enrolment (1/1: no stop).
        stop_num = 1
        stop_den = 1
        for r in range(n_rules):
            look_pointer[r] = 0
            fire_position[r] = 0
        for position_in_order in range(n_groups):
            g = order[position_in_order]
            gi = group_int[g]
            gr = group_real[g]
            planned = gi[GI_N]
            is_monitored = monitored[g]
            limit = planned if is_monitored else (planned * stop_num) // stop_den
            # Counts in local scalars (registers), not an array: this loop is the kernel's hot path.
            events = 0
            responses = 0
            missed_count = 0
            event_a, event_b, event_c = risks[g, 0], risks[g, 1], risks[g, 2]
            response_a, response_b, response_c = risks[g, 3], risks[g, 4], risks[g, 5]
            next_mark = mark_start[g]
            last_mark = mark_start[g + 1]
            enrolled = limit
            for i in range(limit):
                w, event, response, week1, week2, total, missed = simulate_patient(
                    key0, key1, trial, g, i, gi, gr, empirical, dose_table, event_a, event_b, event_c, response_a,
                    response_b, response_c, False)
                events += event
                responses += response
                missed_count += missed
                if values_wanted:
                    _record(values[t], g, i, w, event, response, week1, week2, total, missed)
                position = i + 1
                if not is_monitored:
                    while next_mark < last_mark and marks[next_mark, MARK_POSITION] == position:
                        mark_counts[t, next_mark] = _count_of(marks[next_mark, MARK_ENDPOINT], events, responses,
                                                              missed_count)
                        next_mark += 1
                    continue
                bits[g, i, ENDPOINT_CARDIAC_EVENT] = event
                bits[g, i, ENDPOINT_RESPONSE] = response
                bits[g, i, ENDPOINT_MISSED_WEEK2] = missed
                stopped = False
                for r in range(n_rules):
                    if rules_int[r, RI_GROUP] != g:
                        continue
                    look = look_pointer[r]
                    if look < rules_int[r, RI_LOOKS] and rules_looks[r, look] == position:
                        look_pointer[r] = look + 1
                        so_far = _count_of(rules_int[r, RI_ENDPOINT], events, responses, missed_count)
                        if so_far >= rules_stop[r, look]:
                            rule_fired[t, r] = look
                            fire_position[r] = position
                            stopped = True
                            if rules_int[r, RI_ACTION] == ACTION_STOP_TRIAL and \
                                    _first_later(stop_num, stop_den, position, planned):
                                stop_num = position
                                stop_den = planned
                if stopped:
                    enrolled = position
                    break
            if is_monitored:
                own_stop[g] = enrolled
            else:
                n_real[t, g] = enrolled
                counts[t, g, ENDPOINT_CARDIAC_EVENT] = events
                counts[t, g, ENDPOINT_RESPONSE] = responses
                counts[t, g, ENDPOINT_MISSED_WEEK2] = missed_count
        if not any_monitored:
            continue
        # A rule fires only if the trial was still running at its look.
        for r in range(n_rules):
            if rule_fired[t, r] >= 0 and _first_later(fire_position[r], group_int[rules_int[r, RI_GROUP], GI_N],
                                                      stop_num, stop_den):
                rule_fired[t, r] = -1
        # Monitored groups keep the patients enrolled before they (or the trial) stopped.
        for g in range(n_groups):
            if not monitored[g]:
                continue
            enrolled = min(own_stop[g], (group_int[g, GI_N] * stop_num) // stop_den)
            n_real[t, g] = enrolled
            for e in range(N_COUNT_ENDPOINTS):
                running[e] = 0
            next_mark = mark_start[g]
            for i in range(enrolled):
                for e in range(N_COUNT_ENDPOINTS):
                    running[e] += bits[g, i, e]
                while next_mark < mark_start[g + 1] and marks[next_mark, MARK_POSITION] == i + 1:
                    mark_counts[t, next_mark] = running[marks[next_mark, MARK_ENDPOINT]]
                    next_mark += 1
            for e in range(N_COUNT_ENDPOINTS):
                counts[t, g, e] = running[e]



@jit
def simulate_patients(key0, key1, trial_start, n_trials, group_int, group_real, empirical, dose_table):
    """Every draw of every planned patient, for inspection and testing (no monitoring).

    Returns washout float64[T, G, n_max] (NaN past a group's size), event and response int8[T, G, n_max]
    (-1 past a group's size), and doses int32[T, G, n_max, 3] (week 1, week 2, total; -1 past a group's
    size). Risk parameters with priors are drawn per trial as in :func:`simulate_block`.
    """
    n_groups = group_int.shape[0]
    n_max = 0
    for g in range(n_groups):
        n_max = max(n_max, group_int[g, GI_N])
    washout = np.full((n_trials, n_groups, n_max), np.nan)
    event = np.full((n_trials, n_groups, n_max), -1, dtype=np.int8)
    response = np.full((n_trials, n_groups, n_max), -1, dtype=np.int8)
    doses = np.full((n_trials, n_groups, n_max, 3), -1, dtype=np.int32)
    risks = np.empty((n_groups, 6))
    for t in range(n_trials):
        trial = np.uint64(trial_start + t)
        trial_risks(key0, key1, trial, group_int, group_real, risks)
        for g in range(n_groups):
            for i in range(group_int[g, GI_N]):
                w, e, r, week1, week2, total, _missed = simulate_patient(
                    key0, key1, trial, g, i, group_int[g], group_real[g], empirical, dose_table, risks[g, 0], risks[g, 1],
                    risks[g, 2], risks[g, 3], risks[g, 4], risks[g, 5], True)
                washout[t, g, i] = w
                event[t, g, i] = e
                response[t, g, i] = r
                doses[t, g, i, 0] = week1
                doses[t, g, i, 1] = week2
                doses[t, g, i, 2] = total
    return washout, event, response, doses


@jit
def trial_rates(key0, key1, trial_start, n_trials, group_int, group_real):
    """The risk parameters each trial draws: float64[T, G, 6] (event a, b, c, response a, b, c)."""
    n_groups = group_int.shape[0]
    out = np.empty((n_trials, n_groups, 6))
    risks = np.empty((n_groups, 6))
    for t in range(n_trials):
        trial_risks(key0, key1, np.uint64(trial_start + t), group_int, group_real, risks)
        out[t] = risks
    return out

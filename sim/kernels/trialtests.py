"""Tests computed per virtual trial on patient-level data, one kernel per kind of test.

Each kernel takes the patient-level values of a chunk of trials (``values`` float64[T, G, n_max, 7],
see :mod:`sim.kernels.trials`) and the patients enrolled per trial and group (``n_real`` int32[T, G]),
and returns p-values float64[T] and statuses int8[T] (``sim.kernels.logistic.STATUS_*``). Keeping the
kinds apart means a scenario compiles only the tests it uses. Scratch is allocated once per call.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from .fisher import fisher_p_value
from .logistic import STATUS_DEGENERATE, STATUS_OK, chi2_1_sf, logistic_lrt_scratch
from .ranktests import (mann_whitney_p_from_u, rank_sum_u_counts, rank_sum_u_sorted, sort_with_flags, u_from_histogram,
                        u_from_sorted)
from .trials import VALUE_WASHOUT


@jit
def wilcoxon_between(values, n_real, group_a, group_b, column, alternative, exact_sf):
    """Rank-sum test of ``column`` in group a against group b, per trial (ranks by sorting)."""
    n_trials, _n_groups, n_max, _ = values.shape
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    pooled = np.empty(2 * n_max)
    flags = np.empty(2 * n_max, dtype=np.int8)
    scratch = np.empty(2 * n_max)
    scratch_flags = np.empty(2 * n_max, dtype=np.int8)
    for t in range(n_trials):
        na = n_real[t, group_a]
        nb = n_real[t, group_b]
        if na == 0 or nb == 0:
            p_values[t] = 1.0
            status[t] = STATUS_DEGENERATE
            continue
        u1, tie_term = rank_sum_u_sorted(values[t, group_a, :na, column], values[t, group_b, :nb, column], pooled,
                                         flags, scratch, scratch_flags)
        p_values[t] = mann_whitney_p_from_u(u1, tie_term, na, nb, alternative, exact_sf)
    return p_values, status


@jit
def wilcoxon_between_counts(values, n_real, group_a, group_b, column, alternative, integer_max):
    """As :func:`wilcoxon_between` for whole-number values in 0..integer_max (doses): ranks by counting."""
    n_trials = values.shape[0]
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    histogram = np.zeros(2 * (integer_max + 1), dtype=np.int64)
    no_table = np.empty(0)
    for t in range(n_trials):
        na = n_real[t, group_a]
        nb = n_real[t, group_b]
        if na == 0 or nb == 0:
            p_values[t] = 1.0
            status[t] = STATUS_DEGENERATE
            continue
        u1, tie_term = rank_sum_u_counts(values[t, group_a, :na, column], values[t, group_b, :nb, column],
                                         integer_max, histogram)
        p_values[t] = mann_whitney_p_from_u(u1, tie_term, na, nb, alternative, no_table)
    return p_values, status


@jit
def wilcoxon_by(values, n_real, pool_mask, column, by_column, alternative):
    """Rank-sum test of ``column`` for patients with the ``by`` outcome against those without, pooled."""
    n_trials, n_groups, n_max, _ = values.shape
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    size = n_groups * n_max
    x = np.empty(size)
    y = np.empty(size)
    pooled = np.empty(size)
    flags = np.empty(size, dtype=np.int8)
    scratch = np.empty(size)
    scratch_flags = np.empty(size, dtype=np.int8)
    no_table = np.empty(0)
    for t in range(n_trials):
        kx = 0
        ky = 0
        for g in range(n_groups):
            if not (pool_mask >> g) & 1:
                continue
            for i in range(n_real[t, g]):
                if values[t, g, i, by_column] != 0.0:
                    x[kx] = values[t, g, i, column]
                    kx += 1
                else:
                    y[ky] = values[t, g, i, column]
                    ky += 1
        if kx == 0 or ky == 0:
            p_values[t] = 1.0
            status[t] = STATUS_DEGENERATE
            continue
        u1, tie_term = rank_sum_u_sorted(x[:kx], y[:ky], pooled, flags, scratch, scratch_flags)
        p_values[t] = mann_whitney_p_from_u(u1, tie_term, kx, ky, alternative, no_table)
        status[t] = STATUS_OK
    return p_values, status


@jit
def split_fisher(values, n_real, pool_mask, column, split_at, alternative):
    """Fisher's test of ``column`` for washouts < split against >= split, pooled; per trial."""
    n_trials, n_groups = values.shape[0], values.shape[1]
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    for t in range(n_trials):
        short = 0
        n_long = 0
        short_events = 0
        long_events = 0
        for g in range(n_groups):
            if not (pool_mask >> g) & 1:
                continue
            for i in range(n_real[t, g]):
                outcome = values[t, g, i, column] != 0.0
                if values[t, g, i, VALUE_WASHOUT] < split_at:
                    short += 1
                    short_events += outcome
                else:
                    n_long += 1
                    long_events += outcome
        if short == 0 or n_long == 0:
            p_values[t] = 1.0
            status[t] = STATUS_DEGENERATE
            continue
        p_values[t] = fisher_p_value(short_events, short, long_events, n_long, alternative)
    return p_values, status


@jit
def logistic_lrt_trials(values, n_real, pool_mask, column):
    """Likelihood-ratio test of a logistic regression of ``column`` on log washout, pooled; per trial."""
    n_trials, n_groups, n_max, _ = values.shape
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    covariate = np.empty(n_groups * n_max)
    outcome = np.empty(n_groups * n_max)
    standardised = np.empty(n_groups * n_max)
    for t in range(n_trials):
        k = 0
        for g in range(n_groups):
            if not (pool_mask >> g) & 1:
                continue
            for i in range(n_real[t, g]):
                covariate[k] = np.log(values[t, g, i, VALUE_WASHOUT])
                outcome[k] = values[t, g, i, column]
                k += 1
        statistic, code, _slope = logistic_lrt_scratch(covariate[:k], outcome[:k], standardised[:k])
        p_values[t] = chi2_1_sf(statistic)
        status[t] = code
    return p_values, status


# --------------------------------------------------------------------------- all sizes of a sizing curve
#
# A simulated sizing curve evaluates each test on prefixes of one cohort: at size index j, group g has
# its first sizes[j, g] patients (sizes non-decreasing in j). These kernels walk each trial once across
# the sizes instead of starting over at each, with the same arithmetic as the kernels above, so the
# p-values are those of a separate run per size, bit for bit. They return p-values float64[T, J] and
# statuses int8[T, J].


@jit
def wilcoxon_between_counts_prefix(values, sizes, group_a, group_b, column, alternative, integer_max):
    """:func:`wilcoxon_between_counts` at every size: the count histograms grow patient by patient."""
    n_trials = values.shape[0]
    n_sizes = sizes.shape[0]
    width = integer_max + 1
    p_values = np.empty((n_trials, n_sizes))
    status = np.zeros((n_trials, n_sizes), dtype=np.int8)
    histogram = np.zeros(2 * width, dtype=np.int64)
    no_table = np.empty(0)
    for t in range(n_trials):
        for v in range(2 * width):
            histogram[v] = 0
        added_a = 0
        added_b = 0
        for j in range(n_sizes):
            na = sizes[j, group_a]
            nb = sizes[j, group_b]
            while added_a < na:
                histogram[int(values[t, group_a, added_a, column])] += 1
                added_a += 1
            while added_b < nb:
                histogram[width + int(values[t, group_b, added_b, column])] += 1
                added_b += 1
            if na == 0 or nb == 0:
                p_values[t, j] = 1.0
                status[t, j] = STATUS_DEGENERATE
                continue
            u1, tie_term = u_from_histogram(histogram, width, na)
            p_values[t, j] = mann_whitney_p_from_u(u1, tie_term, na, nb, alternative, no_table)
    return p_values, status


@jit
def wilcoxon_by_prefix(values, sizes, pool_mask, column, by_column, alternative):
    """:func:`wilcoxon_by` at every size: each trial's pooled values are sorted once, at the largest size,
    and each size walks that order keeping its own patients (mid-ranks among them, as a sort of them
    alone would give)."""
    n_trials, n_groups, n_max, _ = values.shape
    n_sizes = sizes.shape[0]
    size = n_groups * n_max
    p_values = np.empty((n_trials, n_sizes))
    status = np.zeros((n_trials, n_sizes), dtype=np.int8)
    pooled = np.empty(size)
    order = np.empty(size, dtype=np.int64)  # group * n_max + patient, sorted with the values
    scratch = np.empty(size)
    scratch_order = np.empty(size, dtype=np.int64)
    kept_values = np.empty(size)
    kept_flags = np.empty(size, dtype=np.int8)
    no_table = np.empty(0)
    last = n_sizes - 1
    for t in range(n_trials):
        k = 0
        for g in range(n_groups):
            if (pool_mask >> g) & 1:
                for i in range(sizes[last, g]):
                    pooled[k] = values[t, g, i, column]
                    order[k] = g * n_max + i
                    k += 1
        sort_with_flags(pooled[:k], order[:k], scratch[:k], scratch_order[:k])
        for j in range(n_sizes):
            kept = 0
            kx = 0
            for position in range(k):
                g = order[position] // n_max
                i = order[position] - g * n_max
                if i < sizes[j, g]:
                    kept_values[kept] = pooled[position]
                    with_outcome = values[t, g, i, by_column] != 0.0
                    kept_flags[kept] = with_outcome
                    kx += with_outcome
                    kept += 1
            ky = kept - kx
            if kx == 0 or ky == 0:
                p_values[t, j] = 1.0
                status[t, j] = STATUS_DEGENERATE
                continue
            u1, tie_term = u_from_sorted(kept_values, kept_flags, kept, kx)
            p_values[t, j] = mann_whitney_p_from_u(u1, tie_term, kx, ky, alternative, no_table)
    return p_values, status


@jit
def split_fisher_prefix(values, sizes, pool_mask, column, split_at, alternative):
    """:func:`split_fisher` at every size: the four counts grow patient by patient."""
    n_trials, n_groups = values.shape[0], values.shape[1]
    n_sizes = sizes.shape[0]
    p_values = np.empty((n_trials, n_sizes))
    status = np.zeros((n_trials, n_sizes), dtype=np.int8)
    added = np.zeros(n_groups, dtype=np.int64)
    for t in range(n_trials):
        for g in range(n_groups):
            added[g] = 0
        short = 0
        n_long = 0
        short_events = 0
        long_events = 0
        for j in range(n_sizes):
            for g in range(n_groups):
                if not (pool_mask >> g) & 1:
                    continue
                while added[g] < sizes[j, g]:
                    i = added[g]
                    outcome = values[t, g, i, column] != 0.0
                    if values[t, g, i, VALUE_WASHOUT] < split_at:
                        short += 1
                        short_events += outcome
                    else:
                        n_long += 1
                        long_events += outcome
                    added[g] += 1
            if short == 0 or n_long == 0:
                p_values[t, j] = 1.0
                status[t, j] = STATUS_DEGENERATE
            else:
                p_values[t, j] = fisher_p_value(short_events, short, long_events, n_long, alternative)
    return p_values, status

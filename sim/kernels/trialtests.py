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
from .ranktests import mann_whitney_p_from_u, rank_sum_u, rank_sum_u_counts
from .trials import VALUE_WASHOUT


@jit
def _u_statistic(x, y, integer_max, histogram):
    if integer_max >= 0:
        return rank_sum_u_counts(x, y, integer_max, histogram)
    return rank_sum_u(x, y)


@jit
def wilcoxon_between(values, n_real, group_a, group_b, column, alternative, exact_sf, integer_max):
    """Rank-sum test of ``column`` in group a against group b, per trial.

    ``integer_max`` >= 0 declares the values whole numbers in 0..integer_max (doses): ranks by counting.
    """
    n_trials = values.shape[0]
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    histogram = np.zeros(2 * (max(integer_max, 0) + 1), dtype=np.int64)
    for t in range(n_trials):
        na = n_real[t, group_a]
        nb = n_real[t, group_b]
        if na == 0 or nb == 0:
            p_values[t] = 1.0
            status[t] = STATUS_DEGENERATE
            continue
        x = values[t, group_a, :na, column]
        y = values[t, group_b, :nb, column]
        u1, tie_term = _u_statistic(x, y, integer_max, histogram)
        p_values[t] = mann_whitney_p_from_u(u1, tie_term, na, nb, alternative, exact_sf)
    return p_values, status


@jit
def wilcoxon_by(values, n_real, pool_mask, column, by_column, alternative, integer_max):
    """Rank-sum test of ``column`` for patients with the ``by`` outcome against those without, pooled."""
    n_trials, n_groups, n_max, _ = values.shape
    p_values = np.empty(n_trials)
    status = np.zeros(n_trials, dtype=np.int8)
    x = np.empty(n_groups * n_max)
    y = np.empty(n_groups * n_max)
    histogram = np.zeros(2 * (max(integer_max, 0) + 1), dtype=np.int64)
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
        u1, tie_term = _u_statistic(x[:kx], y[:ky], integer_max, histogram)
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

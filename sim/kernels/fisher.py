"""Fisher's exact test on 2x2 tables, as R's ``fisher.test`` computes it.

Group 1 has x1 events out of n1, group 2 has x2 out of n2. Given the margins, x1 is
hypergeometric on [max(0, k - n2), min(k, n1)] with k = x1 + x2. Densities relative to
the mode come from the ratio recurrence d(i+1)/d(i) = (k - i)(n1 - i) / ((i + 1)(n2 - k + i + 1)),
which is exact to a few ulps per step, so exactly tied tables (symmetric designs) stay
tied; a log-gamma evaluation can misclassify such ties.

Far tails are cut off: once a density falls below 2**-60 times the observed table's, with the
ratio to the next below 1/2 (the hypergeometric is log-concave, so later ratios are smaller), the
rest of that tail is smaller than the density just added, so the p-value's relative error is below
2**-60 while a table costs O(standard deviation) steps instead of O(n).

Tables more than 64 steps from the mode whose density is below 1e-40 of the mode's (only in designs
of hundreds of patients and more) return an upper bound on their p-value (below 1e-28), or 1 for
the far side of a one-sided test, without walking the support: see ``fisher_p_value``.

Alternatives: two-sided sums the tables whose density is <= the observed one times
1 + 1e-7 (R ``fisher.test`` and scipy ``fisher_exact``); ``greater`` is P(X1 >= x1)
(odds ratio > 1: group 1's rate higher); ``less`` is P(X1 <= x1).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

ALTERNATIVE_TWO_SIDED = 0
ALTERNATIVE_LESS = 1
ALTERNATIVE_GREATER = 2

RELATIVE_TIE_TOLERANCE = 1.0 + 1e-7
TAIL_CUTOFF = 2.0**-60
# Tables whose density is below exp(LOG_FAR) of the most likely one's (1e-40) are decided without walking
# their tails: see fisher_p_value. Checked only this far from the mode (nearer tables are cheap anyway).
LOG_FAR = -92.1
FAR_FROM_MODE = 64


@jit
def _log_choose(n, k):
    return math.lgamma(n + 1.0) - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0)


@jit
def fisher_p_value(x1, n1, x2, n2, alternative):
    """p-value of Fisher's exact test for one table; see the module docstring."""
    k = x1 + x2
    n_total = n1 + n2
    low = max(0, k - n2)
    high = min(k, n1)
    if low == high:
        return 1.0
    mode = ((k + 1) * (n1 + 1)) // (n_total + 2)
    mode = min(max(mode, low), high)

    if abs(x1 - mode) > FAR_FROM_MODE:
        # A table far in a tail of a large design: its density relative to the mode, in logs. Below
        # 1e-40 the two-sided p-value is at most (support size) x that, under 1e-28, and one-sided ones
        # are that small or 1 to within it: answered at once instead of walking about |x1 - mode| steps
        # and then both tails. (Decisions at any alpha above 1e-28 are those of the exact p-value.)
        log_density = (_log_choose(n1, x1) + _log_choose(n2, x2) - _log_choose(n1, mode)
                       - _log_choose(n2, k - mode))
        if log_density < LOG_FAR:
            bound = min((high - low + 1.0) * math.exp(log_density), 1.0)
            if alternative == ALTERNATIVE_TWO_SIDED:
                return bound
            toward = (x1 > mode) == (alternative == ALTERNATIVE_GREATER)
            return bound if toward else 1.0

    # Density of the observed table relative to the mode.
    d_obs = 1.0
    if x1 > mode:
        for i in range(mode, x1):
            d_obs *= (k - i) * (n1 - i) / ((i + 1.0) * (n2 - k + i + 1.0))
    else:
        for i in range(mode, x1, -1):
            d_obs *= i * (n2 - k + i) / ((k - i + 1.0) * (n1 - i + 1.0))
    threshold = d_obs * RELATIVE_TIE_TOLERANCE
    cutoff = d_obs * TAIL_CUTOFF

    total = 1.0
    selected = 0.0
    if alternative == ALTERNATIVE_TWO_SIDED:
        selected = 1.0 if 1.0 <= threshold else 0.0
    elif alternative == ALTERNATIVE_LESS:
        selected = 1.0 if mode <= x1 else 0.0
    else:
        selected = 1.0 if mode >= x1 else 0.0

    d = 1.0
    for i in range(mode, high):
        ratio = (k - i) * (n1 - i) / ((i + 1.0) * (n2 - k + i + 1.0))
        d *= ratio
        total += d
        j = i + 1
        if alternative == ALTERNATIVE_TWO_SIDED:
            if d <= threshold:
                selected += d
        elif alternative == ALTERNATIVE_LESS:
            if j <= x1:
                selected += d
        elif j >= x1:
            selected += d
        if d < cutoff and ratio < 0.5:
            break
    d = 1.0
    for i in range(mode, low, -1):
        ratio = i * (n2 - k + i) / ((k - i + 1.0) * (n1 - i + 1.0))
        d *= ratio
        total += d
        j = i - 1
        if alternative == ALTERNATIVE_TWO_SIDED:
            if d <= threshold:
                selected += d
        elif alternative == ALTERNATIVE_LESS:
            if j <= x1:
                selected += d
        elif j >= x1:
            selected += d
        if d < cutoff and ratio < 0.5:
            break
    p = selected / total
    return min(p, 1.0)


@jit
def fisher_p_value_table(n1, n2, alternative):
    """p-values of every table with these group sizes: float64[n1 + 1, n2 + 1]."""
    table = np.empty((n1 + 1, n2 + 1))
    for x1 in range(n1 + 1):
        for x2 in range(n2 + 1):
            table[x1, x2] = fisher_p_value(x1, n1, x2, n2, alternative)
    return table


@jit
def fisher_p_values(x1, n1, x2, n2, alternative):
    """p-values of the tables (x1[i], x2[i]) of an n1 vs n2 design: float64[len(x1)]."""
    out = np.empty(x1.shape[0])
    for i in range(x1.shape[0]):
        out[i] = fisher_p_value(x1[i], n1, x2[i], n2, alternative)
    return out

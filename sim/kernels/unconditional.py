"""Unconditional exact tests of two binomials: Boschloo's and the z-pooled (Barnard) test.

Group 1 has x1 events out of n1, group 2 has x2 out of n2; N = n1 + n2 and S = x1 + x2. Every
outcome (x1, x2) is a *table*, numbered t = x1 (n2 + 1) + x2. Under the null both groups share a
rate pi, and a table's probability is Binom(x1; n1, pi) Binom(x2; n2, pi) =
Binom(S; N, pi) Hyp(x1 | S), Hyp being the hypergeometric probability of x1 given the margin S.

A test orders the tables by a statistic that does not depend on pi; a table's p-value is
sup over pi in [0, 1] of P_pi(the tables at least as extreme as it) (scipy ``boschloo_exact`` and
``barnard_exact(pooled=True)``). The kernels here order the tables in the "less" direction (small
x1 / n1 against x2 / n2 is extreme): ``greater`` is the same table read backwards (complementing
events and non-events reverses the statistic and maps pi to 1 - pi), and the two-sided z-pooled
test orders by |z|.

* Boschloo: the statistic is Fisher's one-sided p-value P(X1 <= x1 | S); tables whose statistic
  is <= the observed one times 1 + 1e-13 are as extreme (scipy's tolerance, gh-14178).
* z-pooled: z = (x1/n1 - x2/n2) / sqrt(p (1 - p) (1/n1 + 1/n2)), p = S / N (0 when x1/n1 = x2/n2).
  z has the sign of D = x1 n2 - x2 n1 and z^2 = N D^2 / (n1 n2 S (N - S)); tables are ordered by
  sign(D) D^2 / (S (N - S)), a ratio of integers, and ties are decided exactly in integer
  arithmetic (scipy compares rounded floats and splits some exact ties).

The supremum over pi is :mod:`sim.kernels.nuisance`'s.

Array shapes: p-value tables are float64[n1 + 1, n2 + 1] indexed by (x1, x2). Exact integer
comparisons need n1 n2 (n1 + n2) < 6e9; the public wrappers allow groups of up to 1000.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit
from .nuisance import prefix_suprema, set_supremum

TEST_BOSCHLOO = 0
TEST_Z_POOLED = 1

# scipy boschloo_exact: "fisher_stat * (1+1e-13) guards us from small numerical error".
FISHER_STATISTIC_TOLERANCE = 1.0 + 1e-13


@jit
def hypergeometric_tables(n1, n2):
    """Hyp(x1 | S) and Fisher's P(X1 <= x1 | S) of every table: two float64[n1 + 1, n2 + 1].

    Densities relative to the mode by the ratio recurrence of :mod:`sim.kernels.fisher`; the
    cumulative sum runs from the lowest x1 of each margin, so small tails keep their relative
    accuracy, and the top of each margin is exactly 1. With n1 = n2 the tables (x1, x2) and
    (n - x2, n - x1), whose statistics are equal, get bitwise equal values.
    """
    n_total = n1 + n2
    hyp = np.zeros((n1 + 1, n2 + 1))
    less = np.zeros((n1 + 1, n2 + 1))
    d = np.empty(n1 + 1)
    for k in range(n_total + 1):
        low = max(0, k - n2)
        high = min(k, n1)
        mode = ((k + 1) * (n1 + 1)) // (n_total + 2)
        mode = min(max(mode, low), high)
        d[mode] = 1.0
        for i in range(mode, high):
            d[i + 1] = d[i] * ((k - i) * (n1 - i)) / ((i + 1.0) * (n2 - k + i + 1.0))
        for i in range(mode, low, -1):
            d[i - 1] = d[i] * (i * (n2 - k + i)) / ((k - i + 1.0) * (n1 - i + 1.0))
        total = 0.0
        for i in range(low, high + 1):
            total += d[i]
        running = 0.0
        for i in range(low, high + 1):
            running += d[i]
            hyp[i, k - i] = d[i] / total
            less[i, k - i] = running / total
    return hyp, less


@jit
def z_pooled_keys(n1, n2, two_sided):
    """Ordering of the z-pooled test as exact ratios num / den (smaller is more extreme).

    One-sided ("less"): sign(D) D^2 / (S (N - S)); two-sided: -D^2 / (S (N - S)); D = x1 n2 - x2 n1.
    Returns float64 keys (the correctly rounded ratios: equal ratios give equal floats) and the
    int64 numerators and denominators for exact comparison of equal floats.
    """
    n_total = n1 + n2
    size = (n1 + 1) * (n2 + 1)
    keys = np.empty(size)
    num = np.empty(size, dtype=np.int64)
    den = np.empty(size, dtype=np.int64)
    for x1 in range(n1 + 1):
        for x2 in range(n2 + 1):
            t = x1 * (n2 + 1) + x2
            d = np.int64(x1) * n2 - np.int64(x2) * n1
            s = x1 + x2
            if d == 0:
                num[t] = 0
                den[t] = 1
            else:
                square = d * d
                num[t] = -square if (two_sided or d < 0) else square
                den[t] = np.int64(s) * (n_total - s)
            keys[t] = num[t] / den[t]
    return keys, num, den


@jit
def z_pooled_statistic(x1, n1, x2, n2):
    """The pooled Wald statistic of one table (0 when x1/n1 = x2/n2)."""
    d = x1 * n2 - x2 * n1
    if d == 0:
        return 0.0
    s = x1 + x2
    n_total = n1 + n2
    return d * math.sqrt(n_total) / math.sqrt(float(n1) * n2 * s * (n_total - s))


@jit
def _exact_less(num_a, den_a, num_b, den_b):
    return num_a * den_b < num_b * den_a


@jit
def prefix_ends_exact(keys, num, den):
    """Sort the tables; every sorted position's p-value set ends at the last exact tie.

    Returns the order (int64[K], most extreme first) and end[i], the last sorted position whose
    ratio equals that of position i. Equal ratios have equal float keys, so only runs of equal
    floats need the exact integer comparison (a run holding distinct ratios is re-sorted).
    """
    size = keys.size
    order = np.argsort(keys, kind="mergesort")
    start = 0
    while start < size:
        stop = start + 1
        while stop < size and keys[order[stop]] == keys[order[start]]:
            stop += 1
        # Insertion sort of the run by the exact ratio (runs are a handful of tables).
        for i in range(start + 1, stop):
            t = order[i]
            j = i - 1
            while j >= start and _exact_less(num[t], den[t], num[order[j]], den[order[j]]):
                order[j + 1] = order[j]
                j -= 1
            order[j + 1] = t
        start = stop
    end = np.empty(size, dtype=np.int64)
    i = size - 1
    while i >= 0:
        j = i
        t = order[i]
        while j >= 0 and num[order[j]] * den[t] == num[t] * den[order[j]]:
            end[j] = i
            j -= 1
        i = j
    return order, end


@jit
def prefix_ends_tolerance(keys, tolerance):
    """As :func:`prefix_ends_exact` for nonnegative keys compared with a relative tolerance:
    end[i] is the last sorted position j with key[j] <= key[i] * tolerance (scipy's rule)."""
    size = keys.size
    order = np.argsort(keys, kind="mergesort")
    end = np.empty(size, dtype=np.int64)
    j = 0
    for i in range(size):
        threshold = keys[order[i]] * tolerance
        if j < i:
            j = i
        while j + 1 < size and keys[order[j + 1]] <= threshold:
            j += 1
        end[i] = j
    return order, end


@jit
def _classes(end):
    """Distinct ends (increasing) and, per sorted position, the index of its end among them."""
    size = end.size
    class_of = np.empty(size, dtype=np.int64)
    ends = np.empty(size, dtype=np.int64)
    n_sets = 0
    for i in range(size):
        if n_sets == 0 or end[i] != ends[n_sets - 1]:
            ends[n_sets] = end[i]
            n_sets += 1
        class_of[i] = n_sets - 1
    return ends[:n_sets].copy(), class_of


@jit
def ordering(n1, n2, test, two_sided):
    """(order, end, hyp) of a test: see :func:`prefix_ends_exact`. ``two_sided`` is z-pooled only."""
    hyp, less = hypergeometric_tables(n1, n2)
    if test == TEST_BOSCHLOO:
        order, end = prefix_ends_tolerance(less.ravel(), FISHER_STATISTIC_TOLERANCE)
    else:
        keys, num, den = z_pooled_keys(n1, n2, two_sided)
        order, end = prefix_ends_exact(keys, num, den)
    return order, end, hyp


@jit
def p_value_table(n1, n2, test, two_sided):
    """p-values of every table: float64[n1 + 1, n2 + 1], "less" direction (or two-sided z-pooled)."""
    order, end, hyp = ordering(n1, n2, test, two_sided)
    ends, class_of = _classes(end)
    values, _ = prefix_suprema(n1, n2, order, ends, hyp)
    table = np.empty((n1 + 1, n2 + 1))
    for i in range(order.size):
        t = order[i]
        table[t // (n2 + 1), t % (n2 + 1)] = values[class_of[i]]
    return table


@jit
def single_p_value(x1, n1, x2, n2, test, two_sided):
    """(p-value, rate at the supremum) of one table, "less" direction (or two-sided z-pooled)."""
    order, end, hyp = ordering(n1, n2, test, two_sided)
    observed = x1 * (n2 + 1) + x2
    position = 0
    for i in range(order.size):
        if order[i] == observed:
            position = i
            break
    w = np.zeros(n1 + n2 + 1)
    for i in range(end[position] + 1):
        t = order[i]
        a = t // (n2 + 1)
        b = t % (n2 + 1)
        w[a + b] += hyp[a, b]
    return set_supremum(w, n1 + n2)


@jit
def region_supremum(reject, n1, n2):
    """sup over the common rate pi of P_pi(the outcome is in ``reject``), bool[n1 + 1, n2 + 1]."""
    hyp, _ = hypergeometric_tables(n1, n2)
    w = np.zeros(n1 + n2 + 1)
    for a in range(n1 + 1):
        for b in range(n2 + 1):
            if reject[a, b]:
                w[a + b] += hyp[a, b]
    return set_supremum(w, n1 + n2)

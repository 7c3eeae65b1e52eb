"""The supremum over the nuisance rate of an unconditional exact test's tail probability.

Under the null both groups share a rate pi, and the probability of a set of tables is
f(pi) = sum_S w_S Binom(S; N, pi), N = n1 + n2, with w_S in [0, 1] the hypergeometric weight of the
set's tables at margin S (x1 + x2 = S). A p-value (or a test's size) is sup over pi in [0, 1] of f.

On theta = asin(sqrt(pi)) the binomial's Fisher information is the constant 4N, so
|f''(theta)| <= E[l'^2] + E|l''| = 8N for every set of tables: f between two grid points spaced h
apart exceeds the larger of them by at most N h^2. We evaluate f on a grid uniform in theta, keep
the grid local maxima that could hold the supremum (:func:`_is_candidate`: within N h^2 of the best
grid value, and within a relative 4 N h^2 of it), and refine each by safeguarded Newton steps on
f'(pi) (bisection when a step leaves the bracket).

Arrays: w is float64[N + 1]; the tables of a design are numbered t = x1 (n2 + 1) + x2.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit

# Points of the theta grid; sizes grow with sqrt(N) beyond this so that the grid step stays under
# a tenth of the width of a binomial bump in theta, 1 / (2 sqrt(N)).
MIN_GRID_POINTS = 1024
# Grid maxima refined per set of tables: the highest ones. A lower one can beat them only by its
# own rise above the grid, f''(theta) h^2 / 8, which is tiny where many maxima crowd together.
MAX_CANDIDATES = 8
# A set whose best grid value is this close to 1 lies on a plateau where the rounding noise of the
# sums (about 1e-12) makes spurious grid maxima: only its best grid point is refined (the
# supremum, at most 1, is then known to 1e-9; such p-values decide nothing).
PLATEAU = 1.0 - 1e-9
# Binomial terms below this fraction of the mode's are left out of f, f' and f'' (they cannot move
# a sum of probabilities by more than N times it).
NEGLIGIBLE_TERM = 1e-18


@jit
def grid_points(total):
    """Number of theta grid points for N = total patients."""
    return max(MIN_GRID_POINTS, int(math.ceil(32.0 * math.sqrt(total))) + 1)


@jit
def binomial_pmf_into(n, rate, out):
    """Binom(k; n, rate) for k = 0..n into out[:n + 1], by the ratio recurrence from the mode."""
    for k in range(n + 1):
        out[k] = 0.0
    if rate <= 0.0:
        out[0] = 1.0
        return
    if rate >= 1.0:
        out[n] = 1.0
        return
    mode = min(int((n + 1) * rate), n)
    odds = rate / (1.0 - rate)
    out[mode] = 1.0
    for k in range(mode, n):
        out[k + 1] = out[k] * ((n - k) / (k + 1.0)) * odds
    for k in range(mode, 0, -1):
        out[k - 1] = out[k] * (k / (n - k + 1.0)) / odds
    total = 0.0
    for k in range(n + 1):
        total += out[k]
    for k in range(n + 1):
        out[k] /= total


@jit
def binomial_ratios(n):
    """Ratios of neighbouring binomial coefficients: up[k] = (n - k) / (k + 1), down[k] = k / (n - k + 1)."""
    up = np.empty(n + 1)
    down = np.empty(n + 1)
    for k in range(n + 1):
        up[k] = (n - k) / (k + 1.0)
        down[k] = k / (n - k + 1.0)
    return up, down


@jit
def _value_and_slopes(w, n_total, rate, up, down):
    """f(pi) = sum_S w_S Binom(S; N, pi), f'(pi) and f''(pi), for 0 < pi < 1.

    One pass outwards from the mode of Binom(N, pi) with unnormalised terms (ratio recurrence),
    stopping where terms fall below NEGLIGIBLE_TERM of the mode's; normalised at the end.
    """
    one_minus = 1.0 - rate
    odds = rate / one_minus
    inverse_odds = one_minus / rate
    inverse_scale = 1.0 / (rate * one_minus)
    inverse_rate2 = 1.0 / (rate * rate)
    inverse_minus2 = 1.0 / (one_minus * one_minus)
    mean = n_total * rate
    mode = min(int((n_total + 1) * rate), n_total)
    total = 0.0
    f = 0.0
    d1 = 0.0
    d2 = 0.0
    term = 1.0
    s = mode
    while True:
        total += term
        weight = w[s] * term
        if weight != 0.0:
            score = (s - mean) * inverse_scale
            f += weight
            d1 += weight * score
            d2 += weight * (score * score - s * inverse_rate2 - (n_total - s) * inverse_minus2)
        if s == n_total:
            break
        term *= up[s] * odds
        s += 1
        if term < NEGLIGIBLE_TERM:
            break
    term = 1.0
    s = mode
    while s > 0:
        term *= down[s] * inverse_odds
        s -= 1
        if term < NEGLIGIBLE_TERM:
            break
        total += term
        weight = w[s] * term
        if weight != 0.0:
            score = (s - mean) * inverse_scale
            f += weight
            d1 += weight * score
            d2 += weight * (score * score - s * inverse_rate2 - (n_total - s) * inverse_minus2)
    return f / total, d1 / total, d2 / total


@jit
def _value(w, n_total, rate, up, down):
    """f(pi) as :func:`_value_and_slopes`, including the ends pi = 0 (w_0) and pi = 1 (w_N)."""
    if rate <= 0.0:
        return w[0]
    if rate >= 1.0:
        return w[n_total]
    one_minus = 1.0 - rate
    odds = rate / one_minus
    inverse_odds = one_minus / rate
    mode = min(int((n_total + 1) * rate), n_total)
    total = 0.0
    f = 0.0
    term = 1.0
    s = mode
    while True:
        total += term
        f += w[s] * term
        if s == n_total:
            break
        term *= up[s] * odds
        s += 1
        if term < NEGLIGIBLE_TERM:
            break
    term = 1.0
    s = mode
    while s > 0:
        term *= down[s] * inverse_odds
        s -= 1
        if term < NEGLIGIBLE_TERM:
            break
        total += term
        f += w[s] * term
    return f / total


@jit
def refine_maximum(w, n_total, low, high, start, up, down):
    """Maximise f on [low, high] (rates) from ``start``; returns (value, rate).

    Safeguarded Newton on f' inside a bracket where f' goes from + to - (at the ends of [0, 1]
    the sign is known: f(0) = w_0 = 0 and f(1) = w_N = 0 whenever this is called); golden-section
    search when the bracket does not show that sign change.
    """
    best_value = _value(w, n_total, start, up, down)
    best_rate = start
    slope_low = 1.0
    if low > 0.0:
        _, slope_low, _ = _value_and_slopes(w, n_total, low, up, down)
    slope_high = -1.0
    if high < 1.0:
        _, slope_high, _ = _value_and_slopes(w, n_total, high, up, down)
    if slope_low > 0.0 and slope_high < 0.0:
        a = low
        b = high
        x = start if low < start < high else 0.5 * (low + high)
        for _ in range(100):
            f, d1, d2 = _value_and_slopes(w, n_total, x, up, down)
            if f > best_value:
                best_value = f
                best_rate = x
            if d1 > 0.0:
                a = x
            elif d1 < 0.0:
                b = x
            else:
                break
            step_ok = False
            nxt = x
            if d2 < 0.0:
                nxt = x - d1 / d2
                step_ok = a < nxt < b
            if not step_ok:
                nxt = 0.5 * (a + b)
            # A step of 1e-10 sqrt(pi (1 - pi)) is 5e-11 in theta: f moves by under N 1e-20 there.
            tolerance = 1e-10 * math.sqrt(x * (1.0 - x))
            if abs(nxt - x) <= tolerance or b - a <= tolerance:
                x = nxt
                break
            x = nxt
        f = _value(w, n_total, x, up, down)
        if f > best_value:
            best_value = f
            best_rate = x
        return best_value, best_rate
    # Golden-section search (unimodality not guaranteed here; the result only ever raises the max).
    ratio = 0.5 * (math.sqrt(5.0) - 1.0)
    a = low
    b = high
    c = b - ratio * (b - a)
    d = a + ratio * (b - a)
    fc = _value(w, n_total, c, up, down)
    fd = _value(w, n_total, d, up, down)
    for _ in range(200):
        if b - a <= 1e-15:
            break
        if fc >= fd:
            b = d
            d = c
            fd = fc
            c = b - ratio * (b - a)
            fc = _value(w, n_total, c, up, down)
        else:
            a = c
            c = d
            fc = fd
            d = a + ratio * (b - a)
            fd = _value(w, n_total, d, up, down)
    for value, rate in ((fc, c), (fd, d)):
        if value > best_value:
            best_value = value
            best_rate = rate
    return best_value, best_rate


@jit
def _grid_rates(grid):
    rates = np.empty(grid)
    for g in range(grid):
        theta = 0.5 * math.pi * g / (grid - 1)
        rates[g] = math.sin(theta) ** 2
    rates[0] = 0.0
    rates[grid - 1] = 1.0
    return rates


@jit
def _grid_margin(n_total, grid):
    step = 0.5 * math.pi / (grid - 1)
    return n_total * step * step * (1.0 + 1e-9) + 1e-12


@jit
def _is_candidate(value, left, right, best, margin):
    """A grid local maximum whose peak could reach the best grid value.

    Absolute: |f''(theta)| <= 8N, so a peak exceeds its nearest grid value by at most N h^2.
    Relative: at a local maximum of f the weighted mean margin equals N pi, so there
    (log f)'' >= -4N and the peak exceeds its nearest grid value by a factor of about
    exp(N h^2 / 2); we allow exp(4 N h^2) ~ 1 + 4 N h^2. Without it the p-value of a tiny tail
    (f far below N h^2 everywhere) would have every one of its many local maxima refined.
    """
    return (value > left and value >= right and value >= best - margin
            and value >= best * (1.0 - 4.0 * margin) and best < PLATEAU)


@jit
def set_supremum(w, n_total):
    """sup over pi in [0, 1] of f(pi) = sum_S w_S Binom(S; N, pi); returns (value, rate).

    ``w`` is float64[N + 1], w_S in [0, 1] (the share of margin S, hypergeometrically weighted,
    in the set). f(0) = w_0 and f(1) = w_N are each 0 or 1; either at 1 makes the supremum 1.
    """
    if w[0] >= 1.0:
        return 1.0, 0.0
    if w[n_total] >= 1.0:
        return 1.0, 1.0
    grid = grid_points(n_total)
    rates = _grid_rates(grid)
    up, down = binomial_ratios(n_total)
    values = np.empty(grid)
    for g in range(grid):
        values[g] = _value(w, n_total, rates[g], up, down)
    best = 0
    for g in range(grid):
        if values[g] > values[best]:
            best = g
    best_value = values[best]
    best_rate = rates[best]
    margin = _grid_margin(n_total, grid)
    if values[best] >= PLATEAU:
        if 0 < best < grid - 1:
            value, rate = refine_maximum(w, n_total, rates[best - 1], rates[best + 1], rates[best], up, down)
            if value > best_value:
                best_value = value
                best_rate = rate
        return min(best_value, 1.0), best_rate
    for g in range(1, grid - 1):
        if _is_candidate(values[g], values[g - 1], values[g + 1], values[best], margin):
            value, rate = refine_maximum(w, n_total, rates[g - 1], rates[g + 1], rates[g], up, down)
            if value > best_value:
                best_value = value
                best_rate = rate
    return min(best_value, 1.0), best_rate


@jit
def prefix_suprema(n1, n2, order, class_end, hyp):
    """sup over pi of P_pi(sorted tables 0..class_end[m]) for every m: (values[M], rates[M]).

    ``class_end`` is increasing. Three passes: the best grid value of every set (a running sum in
    sorted order at each grid rate), the grid local maxima within the margin of it, then each
    set's weights w_S (added table by table) and a Newton refinement of its candidates.
    """
    n_total = n1 + n2
    size = order.size
    n_sets = class_end.size
    grid = grid_points(n_total)
    rates = _grid_rates(grid)
    pmf1 = np.empty((grid, n1 + 1))
    pmf2 = np.empty((grid, n2 + 1))
    for g in range(grid):
        binomial_pmf_into(n1, rates[g], pmf1[g])
        binomial_pmf_into(n2, rates[g], pmf2[g])
    sorted_x1 = np.empty(size, dtype=np.int64)
    sorted_x2 = np.empty(size, dtype=np.int64)
    for i in range(size):
        sorted_x1[i] = order[i] // (n2 + 1)
        sorted_x2[i] = order[i] % (n2 + 1)
    last = class_end[n_sets - 1]

    # Pass 1: best grid value of each set.
    best = np.full(n_sets, -1.0)
    best_g = np.zeros(n_sets, dtype=np.int64)
    current = np.empty(n_sets)
    for g in range(grid):
        _set_values_at(pmf1[g], pmf2[g], sorted_x1, sorted_x2, class_end, last, current)
        for m in range(n_sets):
            if current[m] > best[m]:
                best[m] = current[m]
                best_g[m] = g

    # Pass 2: every interior grid local maximum within the margin of the best.
    margin = _grid_margin(n_total, grid)
    candidates = np.empty((n_sets, MAX_CANDIDATES), dtype=np.int64)
    candidate_values = np.empty((n_sets, MAX_CANDIDATES))
    n_candidates = np.zeros(n_sets, dtype=np.int64)
    before = np.empty(n_sets)
    middle = np.empty(n_sets)
    _set_values_at(pmf1[0], pmf2[0], sorted_x1, sorted_x2, class_end, last, before)
    _set_values_at(pmf1[1], pmf2[1], sorted_x1, sorted_x2, class_end, last, middle)
    for g in range(2, grid):
        _set_values_at(pmf1[g], pmf2[g], sorted_x1, sorted_x2, class_end, last, current)
        for m in range(n_sets):
            v = middle[m]
            if _is_candidate(v, before[m], current[m], best[m], margin):
                if n_candidates[m] < MAX_CANDIDATES:
                    candidates[m, n_candidates[m]] = g - 1
                    candidate_values[m, n_candidates[m]] = v
                    n_candidates[m] += 1
                else:
                    lowest = 0
                    for c in range(1, MAX_CANDIDATES):
                        if candidate_values[m, c] < candidate_values[m, lowest]:
                            lowest = c
                    if v > candidate_values[m, lowest]:
                        candidates[m, lowest] = g - 1
                        candidate_values[m, lowest] = v
        before, middle, current = middle, current, before

    # Pass 3: weights of each set and refinement.
    values = np.empty(n_sets)
    at_rate = np.empty(n_sets)
    w = np.zeros(n_total + 1)
    up, down = binomial_ratios(n_total)
    i = 0
    for m in range(n_sets):
        while i <= class_end[m]:
            w[sorted_x1[i] + sorted_x2[i]] += hyp[sorted_x1[i], sorted_x2[i]]
            i += 1
        if w[0] >= 1.0:
            value, rate = 1.0, 0.0
        elif w[n_total] >= 1.0:
            value, rate = 1.0, 1.0
        else:
            value = best[m]
            rate = rates[best_g[m]]
            if best[m] >= PLATEAU and 0 < best_g[m] < grid - 1:
                g = best_g[m]
                value, rate = refine_maximum(w, n_total, rates[g - 1], rates[g + 1], rates[g], up, down)
            for c in range(n_candidates[m]):
                g = candidates[m, c]
                v, r = refine_maximum(w, n_total, rates[g - 1], rates[g + 1], rates[g], up, down)
                if v > value:
                    value = v
                    rate = r
        # The sets are nested, so the suprema cannot decrease; rounding must not make them.
        if m > 0 and values[m - 1] > value:
            value = values[m - 1]
            rate = at_rate[m - 1]
        values[m] = min(value, 1.0)
        at_rate[m] = rate
    return values, at_rate


@jit
def _set_values_at(pmf1_row, pmf2_row, sorted_x1, sorted_x2, class_end, last, out):
    running = 0.0
    m = 0
    for i in range(last + 1):
        running += pmf1_row[sorted_x1[i]] * pmf2_row[sorted_x2[i]]
        if i == class_end[m]:
            out[m] = running
            m += 1

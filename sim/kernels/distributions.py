"""Scalar building blocks of the patient model: the normal quantile, washout draws, risk curves.

All functions are nopython scalars; codes and parameter layouts are plain integers so that
the trial kernel can take a handful of small arrays instead of twenty positional ones.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit, jit_inline
from .rng import open_uniform, philox4x64

# Washout distributions (``washout_months.distribution``).
WASHOUT_NONE = 0
WASHOUT_FIXED = 1  # params: value
WASHOUT_UNIFORM = 2  # params: low, high
WASHOUT_LOGNORMAL = 3  # params: median, sigma
WASHOUT_GAMMA = 4  # params: mean, shape
WASHOUT_EMPIRICAL = 5  # values in a side array

# Risk models (``cardiac_event.model`` and ``response.model``).
RISK_NONE = 0
RISK_CONSTANT = 1  # params: p
RISK_WASHOUT_DECAY = 2  # params: p_early, p_late, half_life_months
RISK_LOGISTIC = 3  # params: intercept, slope per doubling of washout

# Gamma draws by rejection use draw indices from here on, so they never collide with a
# patient's main block (draw 0).
GAMMA_DRAW_BASE = 1
MAX_GAMMA_ATTEMPTS = 100_000


@jit
def ndtri(p):
    """Standard normal quantile, Wichura (1988) AS 241 (PPND16), relative error ~1e-16.

    The same rational approximation as CPython's ``statistics.NormalDist.inv_cdf``;
    scipy's ``ndtri`` cannot be called from cached nopython code. Tested against
    ``scipy.special.ndtri``.
    """
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2.50908_09287_30122_6727e+3 * r +
                     3.34305_75583_58812_8105e+4) * r +
                     6.72657_70927_00870_0853e+4) * r +
                     4.59219_53931_54987_1457e+4) * r +
                     1.37316_93765_50946_1125e+4) * r +
                     1.97159_09503_06551_4427e+3) * r +
                     1.33141_66789_17843_7745e+2) * r +
                     3.38713_28727_96366_6080e+0) * q
        den = (((((((5.22649_52788_52854_5610e+3 * r +
                     2.87290_85735_72194_2674e+4) * r +
                     3.93078_95800_09271_0610e+4) * r +
                     2.12137_94301_58659_5867e+4) * r +
                     5.39419_60214_24751_1077e+3) * r +
                     6.87187_00749_20579_0830e+2) * r +
                     4.23133_30701_60091_1252e+1) * r +
                     1.0)
        x = num / den
        return x
    r = p if q <= 0.0 else 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r = r - 1.6
        num = (((((((7.74545_01427_83414_07640e-4 * r +
                     2.27238_44989_26918_45833e-2) * r +
                     2.41780_72517_74506_11770e-1) * r +
                     1.27045_82524_52368_38258e+0) * r +
                     3.64784_83247_63204_60504e+0) * r +
                     5.76949_72214_60691_40550e+0) * r +
                     4.63033_78461_56545_29590e+0) * r +
                     1.42343_71107_49683_57734e+0)
        den = (((((((1.05075_00716_44416_84324e-9 * r +
                     5.47593_80849_95344_94600e-4) * r +
                     1.51986_66563_61645_71966e-2) * r +
                     1.48103_97642_74800_74590e-1) * r +
                     6.89767_33498_51000_04550e-1) * r +
                     1.67638_48301_83803_84940e+0) * r +
                     2.05319_16266_37758_82187e+0) * r +
                     1.0)
    else:
        r = r - 5.0
        num = (((((((2.01033_43992_92288_13265e-7 * r +
                     2.71155_55687_43487_57815e-5) * r +
                     1.24266_09473_88078_43860e-3) * r +
                     2.65321_89526_57612_30930e-2) * r +
                     2.96560_57182_85048_91230e-1) * r +
                     1.78482_65399_17291_33580e+0) * r +
                     5.46378_49111_64114_36990e+0) * r +
                     6.65790_46435_01103_77720e+0)
        den = (((((((2.04426_31033_89939_78564e-15 * r +
                     1.42151_17583_16445_88870e-7) * r +
                     1.84631_83175_10054_68180e-5) * r +
                     7.86869_13114_56132_59100e-4) * r +
                     1.48753_61290_85061_48525e-2) * r +
                     1.36929_88092_27358_05310e-1) * r +
                     5.99832_20655_58879_37690e-1) * r +
                     1.0)
    x = num / den
    if q < 0.0:
        x = -x
    return x


@jit_inline
def risk_probability(model, a, b, c, washout):
    """Probability of the endpoint for one patient.

    ``washout_decay``: p(w) = p_late + (p_early - p_late) * 2**(-w / half_life) with
    (a, b, c) = (p_early, p_late, half_life). ``logistic``: logit p = intercept + slope *
    log2(w) with (a, b) = (intercept, slope), so ``slope`` is the change in log-odds per
    doubling of the washout; at w = 0 the limit is taken.
    """
    if model == RISK_CONSTANT:
        return a
    if model == RISK_WASHOUT_DECAY:
        return b + (a - b) * math.pow(2.0, -washout / c)
    if model == RISK_LOGISTIC:
        if b == 0.0:
            eta = a
        elif washout <= 0.0:
            return 0.0 if b > 0.0 else 1.0
        else:
            eta = a + b * math.log2(washout)
        if eta >= 0.0:
            return 1.0 / (1.0 + math.exp(-eta))
        z = math.exp(eta)
        return z / (1.0 + z)
    return 0.0


@jit
def standard_gamma(shape, key0, key1, trial, lane, draw):
    """Marsaglia & Tsang (2000) gamma(shape, 1) by rejection.

    Each attempt uses its own counter block, starting at ``draw``; returns the variate
    and the next unused draw index.
    """
    boost = shape < 1.0
    d = (shape + 1.0 if boost else shape) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for _ in range(MAX_GAMMA_ATTEMPTS):
        w0, w1, w2, _w3 = philox4x64(trial, lane, draw, 0, key0, key1)
        draw += 1
        x = ndtri(open_uniform(w0))
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        if math.log(open_uniform(w1)) < 0.5 * x * x + d - d * v + d * math.log(v):
            g = d * v
            if boost:
                g *= math.pow(open_uniform(w2), 1.0 / shape)
            return g, draw
    return np.nan, draw


@jit_inline
def draw_washout(kind, p0, p1, u_low, u_high, lower, upper, empirical, u_word, key0, key1, trial, lane):
    """One washout in months from its (possibly truncated) distribution.

    Truncation to [lower, upper] is by inverse CDF where the quantile is available: the
    uniform is mapped into [u_low, u_high] = [F(lower), F(upper)], one draw per patient.
    Gamma has no quantile here, so it is drawn by rejection, restarting Marsaglia-Tsang
    with fresh counter blocks until the value falls in [lower, upper]; scenario validation
    guarantees the acceptance probability is not tiny.
    """
    u = u_low + (u_high - u_low) * open_uniform(u_word)
    if kind == WASHOUT_FIXED:
        return p0
    if kind == WASHOUT_UNIFORM:
        return p0 + (p1 - p0) * u
    if kind == WASHOUT_LOGNORMAL:
        return p0 * math.exp(p1 * ndtri(u))
    if kind == WASHOUT_EMPIRICAL:
        k = empirical.shape[0]
        index = int(open_uniform(u_word) * k)
        if index >= k:
            index = k - 1
        return empirical[index]
    if kind == WASHOUT_GAMMA:
        scale = p0 / p1
        draw = GAMMA_DRAW_BASE
        for _ in range(MAX_GAMMA_ATTEMPTS):
            g, draw = standard_gamma(p1, key0, key1, trial, lane, draw)
            w = g * scale
            if lower <= w <= upper:
                return w
        return np.nan
    return 0.0

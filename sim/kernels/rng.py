"""Counter-based random numbers: Philox4x64-10 (Salmon et al., SC'11, Random123).

Every random number is a pure function of (key, counter), so a patient's draws depend
only on (seed, stream, trial, group, patient, draw) and never on threads, chunks or
workers. ``numpy.random.Philox`` implements the same generator; the tests check this
one against it bit for bit (numpy increments its counter before each block, so
``Philox(counter=c, key=k).random_raw(4)`` equals ``philox4x64(c + 1, k)``).
"""

from __future__ import annotations

import numpy as np

from ._jit import jit

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_LO32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)
_S12 = np.uint64(12)
_TWO_M52 = 1.0 / 4503599627370496.0


@jit
def mulhilo64(a: np.uint64, b: np.uint64):
    """High and low 64-bit halves of the 128-bit product a*b."""
    a_lo = a & _LO32
    a_hi = a >> _S32
    b_lo = b & _LO32
    b_hi = b >> _S32
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    hi_hi = a_hi * b_hi
    cross = (lo_lo >> _S32) + (hi_lo & _LO32) + lo_hi
    hi = hi_hi + (hi_lo >> _S32) + (cross >> _S32)
    return hi, a * b


@jit
def philox4x64(c0, c1, c2, c3, k0, k1):
    """One Philox4x64-10 block: four uint64 outputs for counter (c0..c3), key (k0, k1)."""
    c0 = np.uint64(c0)
    c1 = np.uint64(c1)
    c2 = np.uint64(c2)
    c3 = np.uint64(c3)
    k0 = np.uint64(k0)
    k1 = np.uint64(k1)
    for r in range(10):
        if r > 0:
            k0 = k0 + _W0
            k1 = k1 + _W1
        hi0, lo0 = mulhilo64(_M0, c0)
        hi1, lo1 = mulhilo64(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


@jit
def open_uniform(bits):
    """Map 64 random bits to a double strictly inside (0, 1): the top 52 bits, offset by half a step.

    With 53 bits the largest value, 1 - 2**-54, would round to 1.0 and send quantiles to infinity.
    """
    return (np.float64(bits >> _S12) + 0.5) * _TWO_M52

"""Counter-based random numbers: Philox4x64-10 (Salmon et al., SC'11, Random123).

Every random number is a pure function of (key, counter), so a patient's draws depend
only on (seed, stream, trial, group, patient, draw) and never on threads, chunks or
workers. ``numpy.random.Philox`` implements the same generator; the tests check this
one against it bit for bit (numpy increments its counter before each block, so
``Philox(counter=c, key=k).random_raw(4)`` equals ``philox4x64(c + 1, k)``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from ._jit import jit

_M0 = np.uint64(0xD2E7470EE14C6C93)
_M1 = np.uint64(0xCA5A826395121157)
_W0 = np.uint64(0x9E3779B97F4A7C15)
_W1 = np.uint64(0xBB67AE8584CAA73B)
_S12 = np.uint64(12)
_TWO_M52 = 1.0 / 4503599627370496.0


@intrinsic
def _wide_multiply_u64(typingctx, a, b):
    """(high, low) 64-bit halves of the exact 128-bit product of two uint64.

    LLVM lowers a 128-bit multiply of zero-extended 64-bit operands to the CPU's widening
    multiply (one ``mul``/``mulx`` on x86-64, ``umulh`` + ``mul`` on AArch64). numba has no
    128-bit integer type, so this is the only way to reach it from nopython code. The portable
    version it replaces (four 32-bit products and their carries) made a Philox block about a
    third slower (16 against 12 ns on one core of the benchmark machine).
    """
    if a != types.uint64 or b != types.uint64:
        return None
    signature = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, sig, args):
        u128 = ir.IntType(128)
        u64 = ir.IntType(64)
        product = builder.mul(builder.zext(args[0], u128), builder.zext(args[1], u128))
        low = builder.trunc(product, u64)
        high = builder.trunc(builder.lshr(product, ir.Constant(u128, 64)), u64)
        return context.make_tuple(builder, sig.return_type, (high, low))

    return signature, codegen


@jit
def mulhilo64(a: np.uint64, b: np.uint64):
    """High and low 64-bit halves of the 128-bit product a*b."""
    return _wide_multiply_u64(np.uint64(a), np.uint64(b))


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

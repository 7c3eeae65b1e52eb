"""Philox4x64-10 and its widening multiply, bit for bit against independent twins.

``mulhilo64`` against Python's exact integers; ``philox4x64`` against ``numpy.random.Philox``
(numpy increments the 256-bit counter before each block, so its counter c gives our block c + 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.kernels.rng import mulhilo64, open_uniform, philox4x64

MASK64 = (1 << 64) - 1
EDGES = [0, 1, 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, (1 << 63) - 1, 1 << 63, MASK64 - 1, MASK64,
         0xD2E7470EE14C6C93, 0xCA5A826395121157]


def _random_words(count: int, seed: int) -> list[int]:
    return [int(v) for v in np.random.default_rng(seed).integers(0, MASK64, size=count, dtype=np.uint64,
                                                                  endpoint=True)]


@pytest.mark.parametrize("a", EDGES + _random_words(20, 1))
def test_mulhilo64_is_the_exact_128_bit_product(a):
    for b in EDGES + _random_words(20, 2):
        high, low = mulhilo64(np.uint64(a), np.uint64(b))
        assert (int(high) << 64) | int(low) == a * b


def _numpy_block(counter: int, key: tuple[int, int]) -> list[int]:
    """Our block at 256-bit ``counter`` from numpy's Philox started one before it."""
    previous = (counter - 1) % (1 << 256)
    words = np.array([(previous >> (64 * i)) & MASK64 for i in range(4)], dtype=np.uint64)
    generator = np.random.Philox(counter=words, key=np.array(key, dtype=np.uint64))
    return [int(v) for v in generator.random_raw(4)]


def test_philox4x64_at_the_kernels_counters():
    """Counters as the cohort kernel forms them: (trial, group << 32 | patient, draw, 0)."""
    key = (2009, 0)
    for trial, group, patient, draw in [(0, 0, 0, 0), (1, 0, 5, 0), (12345, 1, 29, 0), (7, 3, 0, 2)]:
        lane = (group << 32) | patient
        got = philox4x64(np.uint64(trial), np.uint64(lane), draw, 0, np.uint64(key[0]), np.uint64(key[1]))
        counter = trial | (lane << 64) | (draw << 128)
        assert [int(v) for v in got] == _numpy_block(counter, key)


def test_open_uniform_ends():
    assert open_uniform(np.uint64(0)) == 0.5 / 2**52
    assert open_uniform(np.uint64(MASK64)) == 1.0 - 2**-53  # the largest double below 1

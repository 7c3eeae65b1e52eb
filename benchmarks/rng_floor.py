"""The random-number floor: what the trial kernel's random numbers alone cost.

:func:`philox_floor` walks the same trials, groups and patients as
``sim.kernels.trials.simulate_block`` and draws the same Philox4x64-10 block per patient (counter
(trial, group << 32 | patient, 0, 0), key (seed, stream)), with the same ``sim.kernels.rng``
function, but does nothing else with it: no washout, no risk, no outcome. Its patients per second
bound the kernel's from above, so the kernel's share of it says how much of the kernel's time is
random-number generation.

One block per patient is exact for every washout distribution except gamma, whose rejection
sampler draws a variable number of extra blocks; :func:`blocks_per_patient` refuses such designs
rather than understate the floor (the benchmark exits with one line).
"""

from __future__ import annotations

import numpy as np

from sim.errors import ScenarioError
from sim.kernels import distributions as kd
from sim.kernels import trials as kt
from sim.kernels._jit import jit
from sim.kernels.rng import philox4x64
from sim.runner import execute

_LANE_SHIFT = np.uint64(32)
_TOP_BIT = np.uint64(63)


@jit
def philox_floor(key0, key1, trial_start, n_trials, group_sizes):
    """One Philox block per patient, as the kernel draws them: int32[n_trials, G].

    ``group_sizes`` is int64[G]. Each entry counts the patients whose block has its top bit set
    after xor-ing the four words: a result that depends on all four words, so the compiler can
    drop none of the generator's work, at the cost of one xor chain per block.
    """
    n_groups = group_sizes.shape[0]
    out = np.zeros((n_trials, n_groups), dtype=np.int32)
    for t in range(n_trials):
        trial = np.uint64(trial_start + t)
        for g in range(n_groups):
            hits = np.uint64(0)
            for i in range(group_sizes[g]):
                lane = (np.uint64(g) << _LANE_SHIFT) | np.uint64(i)
                w0, w1, w2, w3 = philox4x64(trial, lane, 0, 0, key0, key1)
                hits += (w0 ^ w1 ^ w2 ^ w3) >> _TOP_BIT
            out[t, g] = hits
    return out


def blocks_per_patient(group_int: np.ndarray) -> int:
    """Philox blocks the trial kernel draws per patient for this model (1), or ScenarioError."""
    washouts = group_int[:, kt.GI_WASHOUT]
    if np.any(washouts == kd.WASHOUT_GAMMA):
        raise ScenarioError("the RNG floor counts one Philox block per patient; gamma washouts draw a "
                         "variable number (rejection sampling), so a design with one has no fixed floor")
    return 1


def run_floor(plan, trial_start: int, n_trials: int) -> np.ndarray:
    """The floor for trials [trial_start, trial_start + n_trials) of a ``sim.runner.RunPlan``."""
    blocks_per_patient(plan.model.group_int)
    sizes = np.ascontiguousarray(plan.model.group_int[:, kt.GI_N])
    return philox_floor(np.uint64(plan.seed), np.uint64(plan.stream), np.int64(trial_start),
                        np.int64(n_trials), sizes)


def floor_chunk(plan, trial_start: int, n_trials: int) -> dict:
    """The floor as a chunk function of ``sim.runner.execute``: the same chunks on the same threads as the
    kernel; it returns no tallies."""
    run_floor(plan, trial_start, n_trials)
    return {}


def run_floor_plan(plan) -> None:
    """The floor over all of a plan's trials, chunked and threaded as the runner runs the kernel."""
    execute(plan, chunk_function=floor_chunk)

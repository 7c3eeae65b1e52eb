"""Chunk plan -> run_chunk (pure) -> reduce. The one compute path for every backend.

A run is split into chunks of consecutive trials. :func:`run_chunk` simulates one chunk
and returns integer tallies (histograms of the counts each analysis needs); tallies add
exactly, so any split, order or executor gives the same totals bit for bit. Memory is
bounded by the chunk size and the number of chunks in flight, never by the trial count.

``executor`` may be any :class:`concurrent.futures.Executor` (a Dask ``Client`` exposes
one as ``client.get_executor()``); ``None`` runs the chunks here, each one parallel over
trials on numba's threads.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import deque
from concurrent.futures import Executor, FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Union

import numpy as np

from .analysis.summary import CompareSummary, EstimateSummary, compare_from_histogram, estimate_from_histogram
from .kernels import cohort
from .model import PatientModel, build_patient_model, marginal_rate
from .scenario import Scenario

Summary = Union[CompareSummary, EstimateSummary]
Tallies = dict[str, np.ndarray]

# About this many simulated patients per chunk: large enough to amortise the parallel
# launch, small enough that a chunk's counts stay in cache and progress moves.
CHUNK_PATIENTS = 1 << 21
MAX_CHUNK_TRIALS = 1 << 16
_ENDPOINT_INDEX = {"cardiac_event": cohort.ENDPOINT_CARDIAC_EVENT, "response": cohort.ENDPOINT_RESPONSE}


@dataclass(frozen=True)
class TallySpec:
    """One analysis' histogram: counts of ``endpoint`` in ``groups`` (one or two)."""

    analysis_id: str
    endpoint: int
    groups: tuple[int, ...]
    sizes: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(n + 1 for n in self.sizes)


@dataclass(frozen=True, eq=False)
class RunPlan:
    """Everything a worker needs to run any chunk of a scenario (small and picklable)."""

    model: PatientModel
    seed: int
    stream: int
    trials: int
    tallies: tuple[TallySpec, ...]
    chunk_trials: int

    def chunks(self) -> Iterator[tuple[int, int]]:
        for start in range(0, self.trials, self.chunk_trials):
            yield start, min(self.chunk_trials, self.trials - start)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.trials / self.chunk_trials)


def stream_id(description: object) -> int:
    """A 64-bit Philox key word from a canonical description (JSON, sorted keys)."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def default_chunk_trials(model: PatientModel) -> int:
    patients = max(1, int(model.group_int[:, cohort.GI_N].sum()))
    return int(max(1, min(MAX_CHUNK_TRIALS, CHUNK_PATIENTS // patients)))


def make_plan(scenario: Scenario, *, stream: int = 0, chunk_trials: Optional[int] = None) -> RunPlan:
    """Compile a validated scenario into a run plan."""
    model = build_patient_model(scenario)
    specs = []
    for analysis in scenario.analyses:
        groups = tuple(model.group_index(name) for name in analysis.group_names)
        sizes = tuple(model.group_size(name) for name in analysis.group_names)
        specs.append(TallySpec(analysis.analysis_id, _ENDPOINT_INDEX[analysis.endpoint], groups, sizes))
    if chunk_trials is not None and chunk_trials < 1:
        raise ValueError(f"chunk_trials must be >= 1, got {chunk_trials}")
    return RunPlan(
        model=model,
        seed=scenario.seed,
        stream=stream,
        trials=scenario.trials,
        tallies=tuple(specs),
        chunk_trials=chunk_trials or default_chunk_trials(model),
    )


def simulate_chunk_counts(plan: RunPlan, trial_start: int, n_trials: int) -> np.ndarray:
    """Counts per trial, group and endpoint for trials [trial_start, trial_start + n_trials)."""
    model = plan.model
    return cohort.simulate_counts(
        np.uint64(plan.seed), np.uint64(plan.stream), np.int64(trial_start), np.int64(n_trials),
        model.group_int, model.group_real, model.empirical,
    )


def tally_counts(plan: RunPlan, counts: np.ndarray) -> Tallies:
    """Histograms of each analysis' counts (int64)."""
    tallies: Tallies = {}
    for spec in plan.tallies:
        x = counts[:, spec.groups[0], spec.endpoint].astype(np.int64)
        for group, size in zip(spec.groups[1:], spec.sizes[1:]):
            x = x * (size + 1) + counts[:, group, spec.endpoint]
        size = int(np.prod(spec.shape))
        tallies[spec.analysis_id] = np.bincount(x, minlength=size).astype(np.int64).reshape(spec.shape)
    return tallies


def run_chunk(plan: RunPlan, trial_start: int, n_trials: int) -> Tallies:
    """Simulate and tally one chunk. Pure: the same arguments give the same tallies anywhere."""
    return tally_counts(plan, simulate_chunk_counts(plan, trial_start, n_trials))


def add_tallies(total: Optional[Tallies], part: Tallies) -> Tallies:
    if total is None:
        return {key: value.copy() for key, value in part.items()}
    for key, value in part.items():
        total[key] += value
    return total


def execute(
    plan: RunPlan,
    *,
    executor: Optional[Executor] = None,
    chunks: Optional[Iterable[tuple[int, int]]] = None,
    max_in_flight: int = 16,
    on_chunk: Optional[Callable[[int], None]] = None,
) -> Tallies:
    """Run the plan's chunks (or the given ones) and return the summed tallies.

    ``on_chunk(n_trials)`` is called after each finished chunk, for progress display.
    At most ``max_in_flight`` chunks are submitted at once, so memory stays bounded.
    """
    chunk_iter = iter(chunks if chunks is not None else plan.chunks())
    total: Optional[Tallies] = None
    if executor is None:
        for start, count in chunk_iter:
            total = add_tallies(total, run_chunk(plan, start, count))
            if on_chunk:
                on_chunk(count)
    else:
        pending: dict = {}
        exhausted = False
        while True:
            while not exhausted and len(pending) < max_in_flight:
                try:
                    start, count = next(chunk_iter)
                except StopIteration:
                    exhausted = True
                    break
                pending[executor.submit(run_chunk, plan, start, count)] = count
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                count = pending.pop(future)
                total = add_tallies(total, future.result())
                if on_chunk:
                    on_chunk(count)
    if total is None:
        raise ValueError("no trials to run")
    return total


@dataclass(frozen=True)
class RunResult:
    """Summaries of a run, with what is needed to reproduce it."""

    scenario: Scenario
    trials: int
    seed: int
    stream: int
    summaries: tuple[Summary, ...]
    elapsed_seconds: float
    tallies: Tallies = field(repr=False, compare=False)

    @property
    def agrees(self) -> bool:
        """Every Monte Carlo estimate lies within 4 standard errors of its exact value."""
        return all(summary.agrees for summary in self.summaries)


def summarise(scenario: Scenario, plan: RunPlan, tallies: Tallies) -> tuple[Summary, ...]:
    """Turn reduced tallies into result objects with exact values beside them."""
    summaries: list[Summary] = []
    for analysis, spec in zip(scenario.analyses, plan.tallies):
        rates = tuple(
            marginal_rate(scenario.groups[name], analysis.endpoint, scenario.eligibility)
            for name in analysis.group_names
        )
        histogram = tallies[spec.analysis_id]
        if analysis.kind == "compare":
            summaries.append(compare_from_histogram(analysis, spec.sizes, rates, histogram))
        else:
            summaries.append(estimate_from_histogram(analysis, spec.sizes[0], rates[0], histogram))
    return tuple(summaries)


def run_scenario(
    scenario: Scenario,
    *,
    executor: Optional[Executor] = None,
    stream: int = 0,
    chunk_trials: Optional[int] = None,
    on_chunk: Optional[Callable[[int], None]] = None,
) -> RunResult:
    """Simulate ``scenario.trials`` virtual trials and summarise every analysis.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`sim.scenario.load_scenario`).
    executor : concurrent.futures.Executor, optional
        Where chunks run; ``None`` runs them in this process on numba's threads.
    stream : int
        Second Philox key word; 0 for a plain run, a hash of the design point in sweeps.
    chunk_trials : int, optional
        Trials per chunk; results do not depend on it.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> result = run_scenario(load_scenario("scenarios/tki_vs_bev.yaml"))  # doctest: +SKIP
    >>> result.summaries[0].power, result.summaries[0].exact_power  # doctest: +SKIP
    """
    started = time.perf_counter()
    plan = make_plan(scenario, stream=stream, chunk_trials=chunk_trials)
    tallies = execute(plan, executor=executor, on_chunk=on_chunk)
    summaries = summarise(scenario, plan, tallies)
    return RunResult(
        scenario=scenario,
        trials=scenario.trials,
        seed=scenario.seed,
        stream=stream,
        summaries=summaries,
        elapsed_seconds=time.perf_counter() - started,
        tallies=tallies,
    )

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
from concurrent.futures import FIRST_COMPLETED, Executor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional, Union

import numpy as np
from scipy import stats

from .analysis.fisher import ALTERNATIVES, fisher_exact_power, rejects
from .analysis.summary import (
    CompareSummary,
    EstimateSummary,
    TrialTestSummary,
    compare_from_histogram,
    estimate_from_histogram,
)
from .analysis.wilcoxon import mann_whitney_null_sf
from .kernels import cohort
from .kernels import logistic as klogistic
from .model import PatientModel, build_patient_model, marginal_rate, washout_share_below
from .scenario import Scenario

Summary = Union[CompareSummary, EstimateSummary, TrialTestSummary]
Tallies = dict[str, np.ndarray]

# About this many simulated patients per chunk: large enough to amortise the parallel
# launch, small enough that a chunk's counts stay in cache and progress moves.
CHUNK_PATIENTS = 1 << 21
MAX_CHUNK_TRIALS = 1 << 16
_ENDPOINT_INDEX = {"cardiac_event": cohort.ENDPOINT_CARDIAC_EVENT, "response": cohort.ENDPOINT_RESPONSE,
                   "missed_week2": cohort.ENDPOINT_MISSED_WEEK2}
_VALUE_INDEX = {
    "washout_months": cohort.VALUE_WASHOUT,
    "cardiac_event": cohort.VALUE_CARDIAC_EVENT,
    "response": cohort.VALUE_RESPONSE,
    "doses_week1": cohort.VALUE_DOSES_WEEK1,
    "doses_week2": cohort.VALUE_DOSES_WEEK2,
    "doses_total": cohort.VALUE_DOSES_TOTAL,
    "missed_week2": cohort.VALUE_MISSED_WEEK2,
}


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
class TrialTests:
    """Per-trial tests in the kernel's layout (see :mod:`sim.kernels.cohort`)."""

    ids: tuple[str, ...]
    alphas: tuple[float, ...]
    tests_int: np.ndarray
    tests_real: np.ndarray
    exact_sf: np.ndarray


@dataclass(frozen=True, eq=False)
class RunPlan:
    """Everything a worker needs to run any chunk of a scenario (small and picklable)."""

    model: PatientModel
    seed: int
    stream: int
    trials: int
    tallies: tuple[TallySpec, ...]
    chunk_trials: int
    tests: Optional[TrialTests] = None

    def chunks(self) -> Iterator[tuple[int, int]]:
        for start in range(0, self.trials, self.chunk_trials):
            yield start, min(self.chunk_trials, self.trials - start)

    @property
    def n_chunks(self) -> int:
        return math.ceil(self.trials / self.chunk_trials)


def canonical_digest(description: object) -> bytes:
    """SHA-256 of a description as canonical JSON (sorted keys, no spaces): equal data, equal digest."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).digest()


def stream_id(description: object) -> int:
    """A 64-bit Philox key word from a canonical description."""
    return int.from_bytes(canonical_digest(description)[:8], "little")


def default_chunk_trials(model: PatientModel) -> int:
    patients = max(1, int(model.group_int[:, cohort.GI_N].sum()))
    return int(max(1, min(MAX_CHUNK_TRIALS, CHUNK_PATIENTS // patients)))


def _trial_tests(scenario: Scenario, model: PatientModel) -> Optional[TrialTests]:
    analyses = [a for a in scenario.analyses if a.per_trial_test]
    if not analyses:
        return None
    tests_int = np.full((len(analyses), cohort.TEST_INT_FIELDS), -1, dtype=np.int64)
    tests_real = np.zeros((len(analyses), cohort.TEST_REAL_FIELDS))
    tables: list[np.ndarray] = []
    for index, (row, analysis) in enumerate(zip(tests_int, analyses)):
        tests_real[index, cohort.TR_SPLIT_AT] = analysis.split_washout_at or 0.0
        indices = [model.group_index(name) for name in analysis.group_names]
        if analysis.test == "wilcoxon":
            row[cohort.TI_KIND] = cohort.TEST_WILCOXON_BETWEEN if analysis.by is None else cohort.TEST_WILCOXON_BY
        elif analysis.test == "logistic_lrt":
            row[cohort.TI_KIND] = cohort.TEST_LOGISTIC_LRT
        else:
            row[cohort.TI_KIND] = cohort.TEST_SPLIT_FISHER
        row[cohort.TI_ENDPOINT] = _VALUE_INDEX[analysis.endpoint]
        if analysis.by is not None:
            row[cohort.TI_BY] = _VALUE_INDEX[analysis.by]
        row[cohort.TI_ALTERNATIVE] = ALTERNATIVES[analysis.alternative]
        row[cohort.TI_GROUP_A] = indices[0]
        row[cohort.TI_GROUP_B] = indices[-1]
        row[cohort.TI_POOL_MASK] = sum(1 << g for g in indices)
        if analysis.method == "exact":
            row[cohort.TI_EXACT_ROW] = len(tables)
            tables.append(mann_whitney_null_sf(*(model.group_size(n) for n in analysis.group_names)))
    width = max((len(t) for t in tables), default=1)
    exact_sf = np.zeros((max(len(tables), 1), width))
    for index, table in enumerate(tables):
        exact_sf[index, : len(table)] = table
    return TrialTests(tuple(a.analysis_id for a in analyses), tuple(a.alpha for a in analyses),
                      tests_int, tests_real, exact_sf)


def make_plan(scenario: Scenario, *, stream: int = 0, chunk_trials: Optional[int] = None) -> RunPlan:
    """Compile a validated scenario into a run plan."""
    model = build_patient_model(scenario)
    specs = []
    for analysis in scenario.analyses:
        if analysis.per_trial_test:
            continue
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
        tests=_trial_tests(scenario, model),
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


def tally_tests(tests: TrialTests, p_values: np.ndarray, status: np.ndarray) -> Tallies:
    """Per test: int64 [trials, rejections, undefined, separated, not converged]."""
    tallies: Tallies = {}
    for a, (analysis_id, alpha) in enumerate(zip(tests.ids, tests.alphas)):
        codes = status[:, a]
        tallies[analysis_id] = np.array([
            len(codes),
            int(np.count_nonzero(rejects(p_values[:, a], alpha))),
            int(np.count_nonzero(codes == klogistic.STATUS_DEGENERATE)),
            int(np.count_nonzero(codes == klogistic.STATUS_SEPARATED)),
            int(np.count_nonzero(codes == klogistic.STATUS_NOT_CONVERGED)),
        ], dtype=np.int64)
    return tallies


def run_chunk(plan: RunPlan, trial_start: int, n_trials: int) -> Tallies:
    """Simulate and tally one chunk. Pure: the same arguments give the same tallies anywhere."""
    if plan.tests is None:
        return tally_counts(plan, simulate_chunk_counts(plan, trial_start, n_trials))
    model, tests = plan.model, plan.tests
    counts, p_values, status = cohort.simulate_trials(
        np.uint64(plan.seed), np.uint64(plan.stream), np.int64(trial_start), np.int64(n_trials),
        model.group_int, model.group_real, model.empirical, tests.tests_int, tests.tests_real, tests.exact_sf,
    )
    return {**tally_counts(plan, counts), **tally_tests(tests, p_values, status)}


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

    def to_frame(self):
        """The results as a pandas DataFrame: one row per analysis, as ``summary.csv`` holds them.

        Returns
        -------
        pandas.DataFrame
            ``scenario``, ``seed``, then ``analysis`` (the id), ``kind``, ``endpoint``, ``groups``,
            one ``n_<group>`` (``Int64``) and ``true_rate_<group>`` column per group, then every
            field of the analysis' summary (``power``, ``power_se``, ``exact_power``, ...; empty
            where an analysis kind has no such field). See :mod:`sim.report.frames`.

        Examples
        --------
        >>> from sim.scenario import load_scenario
        >>> result = run_scenario(load_scenario("scenarios/cho2009_retrospective.yaml"))  # doctest: +SKIP
        >>> result.to_frame()[["analysis", "n_prior_tki", "power", "exact_power"]]  # doctest: +SKIP
        """
        from .report.frames import analyses_frame

        return analyses_frame([summary.to_dict() for summary in self.summaries],
                              scenario=self.scenario.name, seed=self.seed)


def split_fisher_exact_power(scenario: Scenario, analysis) -> Optional[float]:
    """Exact power of Fisher's test of short against long washouts within one group.

    The short-washout count M is Binomial(n, P(W' < split)); given M = m the two subgroups'
    event counts are independent binomials with the conditional rates on each side, so the
    power is sum over m of P(M = m) * exact Fisher power(m, n - m). Trials with an empty
    subgroup do not reject. Pooled groups with different rates are not binomial: None.
    """
    if len(analysis.group_names) != 1:
        return None
    group = scenario.groups[analysis.group_names[0]]
    eligibility, split = scenario.eligibility, analysis.split_washout_at
    share = washout_share_below(group, eligibility, split)
    if share <= 0.0 or share >= 1.0:
        return 0.0
    short_rate = marginal_rate(group, analysis.endpoint, eligibility, high=split)
    long_rate = marginal_rate(group, analysis.endpoint, eligibility, low=split)
    n = group.n
    weights = stats.binom.pmf(np.arange(n + 1), n, share)
    return float(sum(
        weights[m] * fisher_exact_power(m, short_rate, n - m, long_rate, alpha=analysis.alpha,
                                        alternative=analysis.alternative)
        for m in range(1, n)
    ))


def summarise(scenario: Scenario, plan: RunPlan, tallies: Tallies) -> tuple[Summary, ...]:
    """Turn reduced tallies into result objects with exact values beside them."""
    summaries: list[Summary] = []
    specs = iter(plan.tallies)
    for analysis in scenario.analyses:
        if analysis.per_trial_test:
            trials, rejections, undefined, separated, not_converged = (int(v) for v in tallies[analysis.analysis_id])
            exact = split_fisher_exact_power(scenario, analysis) if analysis.split_washout_at is not None else None
            summaries.append(TrialTestSummary(
                id=analysis.analysis_id, endpoint=analysis.endpoint, groups=tuple(analysis.group_names),
                test=analysis.test, alternative=analysis.alternative, alpha=analysis.alpha,
                method=analysis.method if analysis.test == "wilcoxon" else None, by=analysis.by,
                split_washout_at=analysis.split_washout_at,
                n=tuple(scenario.groups[name].n for name in analysis.group_names), trials=trials,
                rejections=rejections,
                undefined_trials=undefined, separated_trials=separated, not_converged_trials=not_converged,
                exact_power=exact,
            ))
            continue
        spec = next(specs)
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

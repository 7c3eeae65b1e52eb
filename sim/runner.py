"""Chunk plan -> run_chunk (pure) -> reduce. The one compute path for every backend.

A run is split into chunks of consecutive trials, sized by simulated patients. :func:`run_chunk`
simulates one chunk with the serial trial kernel (:mod:`sim.kernels.trials`), runs the per-trial
tests, and returns integer tallies (:mod:`sim.tally`); tallies add exactly, so any split, order or
executor gives the same totals bit for bit. Memory is bounded by the chunk size and the number of
chunks in flight, never by the trial count or by (n1 + 1)(n2 + 1).

Chunks run on an executor: by default a thread pool of :func:`threads` threads here (the kernels
release the GIL), or any :class:`concurrent.futures.Executor` (a Dask ``Client`` exposes one as
``client.get_executor()``). The main thread only waits for chunks, in short waits, so Ctrl-C
interrupts a run within a fraction of a second and never inside a kernel.

Streams: every run (``simtrial run``, ``size``, each point of ``sweep``) uses stream 0 with the
scenario's seed, so a patient's draws depend only on (seed, trial, group, patient): the same scenario
gives the same numbers whichever command runs it, and runs that differ in a parameter (sizes of a
sizing curve, points of a sweep) share their random numbers (common random numbers).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

from .analysis.fisher import ALTERNATIVES, rejects
from .analysis.wilcoxon import mann_whitney_null_sf
from .kernels import logistic as klogistic
from .kernels import trials as kt
from .model import ENDPOINT_INDEX, PatientModel, build_patient_model
from .scenario import DOSE_COUNT_ENDPOINTS, Scenario
from .tally import CountTally, GroupOutcomeCode, MarkTally, SparseCounts, Tallies, add_tallies

# About this many simulated patients per chunk: a few tens of milliseconds of work, so chunks balance
# over threads and an interrupt is seen quickly; fewer when patient-level values are kept for tests.
CHUNK_PATIENTS = 1 << 20
TEST_CHUNK_PATIENTS = 1 << 17
MAX_CHUNK_TRIALS = 1 << 16
# Seconds between checks for an interrupt while chunks run.
WAIT_SECONDS = 0.2
# The version of the random stream: which draws a patient's counters feed. Recorded in outputs.
STREAM_VERSION = 1

VALUE_INDEX = {
    "washout_months": kt.VALUE_WASHOUT,
    "cardiac_event": kt.VALUE_CARDIAC_EVENT,
    "response": kt.VALUE_RESPONSE,
    "doses_week1": kt.VALUE_DOSES_WEEK1,
    "doses_week2": kt.VALUE_DOSES_WEEK2,
    "doses_total": kt.VALUE_DOSES_TOTAL,
    "missed_week2": kt.VALUE_MISSED_WEEK2,
}
# Each TrialTest kind's kernel in sim.kernels.trialtests (compiled on first use: see needs_compiling).
TEST_KERNELS = {
    "wilcoxon_between": "wilcoxon_between",
    "wilcoxon_between_counts": "wilcoxon_between_counts",
    "wilcoxon_by": "wilcoxon_by",
    "split_fisher": "split_fisher",
    "logistic_lrt": "logistic_lrt_trials",
}
RULE_PREFIX = "rule:"
ENROLLED_PREFIX = "enrolled:"

_threads: Optional[int] = None


def available_threads() -> int:
    """Cores this process may use: NUMBA_NUM_THREADS if set (as Dask workers and the SLURM jobs set it)."""
    configured = os.environ.get("NUMBA_NUM_THREADS")
    if configured and configured.isdigit() and int(configured) >= 1:
        return int(configured)
    return os.cpu_count() or 1


def set_threads(count: Optional[int]) -> int:
    """Threads for local runs (None: every available core); returns the number in use."""
    global _threads
    if count is not None and not 1 <= count <= available_threads():
        raise ValueError(f"threads must be between 1 and {available_threads()}, got {count}")
    _threads = count
    return threads()


def threads() -> int:
    return _threads or available_threads()


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True, eq=False)
class TrialTest:
    """A test computed per trial on patient-level data, in kernel terms."""

    analysis_id: str
    alpha: float
    kind: str  # a key of TEST_KERNELS
    groups: tuple[int, ...]
    column: int
    by_column: int
    alternative: int
    split_at: float
    integer_max: int
    exact_sf: np.ndarray

    @property
    def pool_mask(self) -> int:
        return sum(1 << g for g in self.groups)

    def p_values(self, values: np.ndarray, n_real: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from .kernels import trialtests

        if self.kind == "wilcoxon_between_counts":
            return trialtests.wilcoxon_between_counts(values, n_real, self.groups[0], self.groups[-1], self.column,
                                                      self.alternative, self.integer_max)
        if self.kind == "wilcoxon_between":
            return trialtests.wilcoxon_between(values, n_real, self.groups[0], self.groups[-1], self.column,
                                               self.alternative, self.exact_sf)
        if self.kind == "wilcoxon_by":
            return trialtests.wilcoxon_by(values, n_real, self.pool_mask, self.column, self.by_column,
                                          self.alternative)
        if self.kind == "split_fisher":
            return trialtests.split_fisher(values, n_real, self.pool_mask, self.column, self.split_at,
                                           self.alternative)
        return trialtests.logistic_lrt_trials(values, n_real, self.pool_mask, self.column)

    def prefix_tallies(self, values: np.ndarray, sizes: np.ndarray) -> Optional[list[np.ndarray]]:
        """The tally at each size j of a sizing curve, groups cut to their first sizes[j, g] patients
        (one walk per trial: see the prefix kernels of :mod:`sim.kernels.trialtests`); None for tests
        without such a kernel (the logistic LRT, exact Wilcoxon), which are run size by size."""
        from .kernels import trialtests

        if self.kind == "wilcoxon_between_counts":
            p, status = trialtests.wilcoxon_between_counts_prefix(values, sizes, self.groups[0], self.groups[-1],
                                                                  self.column, self.alternative, self.integer_max)
        elif self.kind == "wilcoxon_by":
            p, status = trialtests.wilcoxon_by_prefix(values, sizes, self.pool_mask, self.column, self.by_column,
                                                      self.alternative)
        elif self.kind == "split_fisher":
            p, status = trialtests.split_fisher_prefix(values, sizes, self.pool_mask, self.column, self.split_at,
                                                       self.alternative)
        else:
            return None
        return [self._counted(p[:, j], status[:, j]) for j in range(sizes.shape[0])]

    def tally(self, values: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """int64 [trials, rejections, undefined, separated, not converged]."""
        p, status = self.p_values(values, n_real)
        return self._counted(p, status)

    def _counted(self, p: np.ndarray, status: np.ndarray) -> np.ndarray:
        return np.array([
            len(p),
            int(np.count_nonzero(rejects(p, self.alpha))),
            int(np.count_nonzero(status == klogistic.STATUS_DEGENERATE)),
            int(np.count_nonzero(status == klogistic.STATUS_SEPARATED)),
            int(np.count_nonzero(status == klogistic.STATUS_NOT_CONVERGED)),
        ], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class RunPlan:
    """Everything a worker needs to run any chunk of a scenario (small and picklable)."""

    model: PatientModel
    seed: int
    stream: int
    trials: int
    chunk_trials: int
    counts: tuple[CountTally, ...] = ()
    tests: tuple[TrialTest, ...] = ()
    marks: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))
    mark_tallies: tuple[MarkTally, ...] = ()
    enrolment: tuple[GroupOutcomeCode, ...] = ()
    extra_mark_columns: tuple[int, ...] = ()  # where each of make_plan's ``extra_marks`` landed in ``marks``

    def chunks(self) -> Iterator[tuple[int, int]]:
        for start in range(0, self.trials, self.chunk_trials):
            yield start, min(self.chunk_trials, self.trials - start)

    @property
    def n_chunks(self) -> int:
        return -(-self.trials // self.chunk_trials)

    @property
    def wants_values(self) -> bool:
        return bool(self.tests)


def possible_sizes(scenario: Scenario) -> dict[str, tuple[int, ...]]:
    """The numbers of patients each group can end up enrolling under the scenario's monitoring."""
    sizes = {name: {group.n} for name, group in scenario.groups.items()}
    for rule in scenario.monitoring:
        planned = scenario.groups[rule.group].n
        sizes[rule.group].update(rule.looks)
        if rule.action == "stop_trial":
            for name, group in scenario.groups.items():
                sizes[name].update((group.n * look) // planned for look in rule.looks)
    return {name: tuple(sorted(values)) for name, values in sizes.items()}


def default_chunk_trials(model: PatientModel, *, with_values: bool = False) -> int:
    patients = max(1, int(model.group_int[:, kt.GI_N].sum()))
    budget = TEST_CHUNK_PATIENTS if with_values else CHUNK_PATIENTS
    return int(max(1, min(MAX_CHUNK_TRIALS, budget // patients)))


def _integer_max(scenario: Scenario, analysis) -> int:
    """Largest value of a whole-number endpoint (doses) over the analysis' groups, or -1 (real values)."""
    if analysis.endpoint not in DOSE_COUNT_ENDPOINTS:
        return -1
    largest = 0
    for name in analysis.group_names:
        doses = scenario.groups[name].doses
        per_course = doses.per_course
        largest = max(largest, per_course * (doses.courses if analysis.endpoint == "doses_total" else 1))
    return largest


def _trial_test(scenario: Scenario, model: PatientModel, analysis) -> TrialTest:
    exact_sf = np.empty(0)
    if analysis.method == "exact":
        exact_sf = mann_whitney_null_sf(*(model.group_size(n) for n in analysis.group_names))
    integer_max = _integer_max(scenario, analysis)
    if analysis.test == "wilcoxon":
        if analysis.by is not None:
            kind = "wilcoxon_by"
        elif integer_max >= 0 and exact_sf.size == 0:
            # Whole-number values with the asymptotic p-value: ranks come from counting, not sorting.
            kind = "wilcoxon_between_counts"
        else:
            kind = "wilcoxon_between"
    elif analysis.test == "logistic_lrt":
        kind = "logistic_lrt"
    else:
        kind = "split_fisher"
    return TrialTest(
        analysis_id=analysis.analysis_id, alpha=analysis.alpha, kind=kind,
        groups=tuple(model.group_index(name) for name in analysis.group_names),
        column=VALUE_INDEX[analysis.endpoint],
        by_column=VALUE_INDEX[analysis.by] if analysis.by is not None else -1,
        alternative=ALTERNATIVES[analysis.alternative], split_at=float(analysis.split_washout_at or 0.0),
        integer_max=integer_max, exact_sf=exact_sf,
    )


def make_plan(scenario: Scenario, *, stream: int = 0, chunk_trials: Optional[int] = None,
              extra_marks: Iterable[tuple[str, str, int]] = ()) -> RunPlan:
    """Compile a validated scenario into a run plan.

    ``extra_marks`` asks for the count of an endpoint among a group's first ``position`` patients in
    every trial (group name, endpoint, position): sizing evaluates smaller studies on prefixes of one
    simulated cohort this way.
    """
    model = build_patient_model(scenario)
    sizes = possible_sizes(scenario)

    def code(name: str) -> GroupOutcomeCode:
        return GroupOutcomeCode(model.group_index(name), scenario.groups[name].n, sizes[name])

    counts, tests, mark_requests, mark_tallies = [], [], [], []
    for analysis in scenario.analyses:
        if analysis.per_trial_test:
            tests.append(_trial_test(scenario, model, analysis))
        elif analysis.kind == "compare" and analysis.test == "simon":
            r1, n1, r, n = analysis.simon
            name = analysis.group_names[0]
            first = len(mark_requests)
            mark_requests += [(name, analysis.endpoint, n1), (name, analysis.endpoint, n)]
            mark_tallies.append(MarkTally(analysis.analysis_id, (first, first + 1), (n1, n)))
        else:
            counts.append(CountTally(analysis.analysis_id, ENDPOINT_INDEX[analysis.endpoint],
                                     tuple(code(name) for name in analysis.group_names)))
    analysis_marks = len(mark_requests)
    mark_requests += list(extra_marks)
    marks, order = _mark_array(model, mark_requests)
    mark_tallies = [MarkTally(t.analysis_id, tuple(order[m] for m in t.marks), t.limits) for t in mark_tallies]
    if chunk_trials is not None and chunk_trials < 1:
        raise ValueError(f"chunk_trials must be >= 1, got {chunk_trials}")
    enrolment = tuple(code(name) for name in scenario.groups) if scenario.monitoring else ()
    return RunPlan(
        model=model, seed=scenario.seed, stream=stream, trials=scenario.trials,
        chunk_trials=chunk_trials or default_chunk_trials(model, with_values=bool(tests)),
        counts=tuple(counts), tests=tuple(tests), marks=marks, mark_tallies=tuple(mark_tallies),
        enrolment=enrolment, extra_mark_columns=tuple(order[analysis_marks:]),
    )


def _mark_array(model: PatientModel, requests: list[tuple[str, str, int]]) -> tuple[np.ndarray, list[int]]:
    """Marks in the kernel's order (by group, then position) and where each request landed."""
    rows = [(model.group_index(name), ENDPOINT_INDEX[endpoint], position) for name, endpoint, position in requests]
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][2], i))
    marks = np.array([rows[i] for i in order], dtype=np.int64).reshape(len(rows), 3)
    landed = [0] * len(rows)
    for position, i in enumerate(order):
        landed[i] = position
    return marks, landed


# --------------------------------------------------------------------------- running chunks


def needs_compiling(plan: RunPlan) -> bool:
    """Whether running this plan will compile kernels first (tens of seconds, once per install)."""
    from .kernels import trialtests
    from .kernels._jit import is_compiled

    kernels = [kt.simulate_block, kt._simulate_block_into]
    for test in plan.tests:
        kernels.append(getattr(trialtests, TEST_KERNELS[test.kind]))
    return not all(is_compiled(kernel) for kernel in kernels)


def simulate_chunk(plan: RunPlan, trial_start: int, n_trials: int):
    """The trial kernel on trials [trial_start, trial_start + n_trials): see :func:`sim.kernels.trials.simulate_block`."""
    model = plan.model
    return kt.simulate_block(
        np.uint64(plan.seed), np.uint64(plan.stream), np.int64(trial_start), np.int64(n_trials),
        model.group_int, model.group_real, model.empirical, model.dose_table, model.rules_int, model.rules_looks,
        model.rules_stop, plan.marks, np.int64(plan.wants_values),
    )


def run_chunk(plan: RunPlan, trial_start: int, n_trials: int) -> Tallies:
    """Simulate and tally one chunk. Pure: the same arguments give the same tallies anywhere."""
    n_real, counts, rule_fired, mark_counts, values = simulate_chunk(plan, trial_start, n_trials)
    tallies: Tallies = {}
    for spec in plan.counts:
        tallies[spec.analysis_id] = spec.tally(n_real, counts)
    for test in plan.tests:
        tallies[test.analysis_id] = test.tally(values, n_real)
    for spec in plan.mark_tallies:
        tallies[spec.analysis_id] = spec.tally(mark_counts)
    model = plan.model
    for r, rule_id in enumerate(model.rule_ids):
        n_looks = int(model.rules_int[r, kt.RI_LOOKS])
        fired = rule_fired[:, r].astype(np.int64)
        tallies[RULE_PREFIX + rule_id] = np.bincount(np.where(fired < 0, n_looks, fired), minlength=n_looks + 1)
    for code in plan.enrolment:
        tallies[ENROLLED_PREFIX + model.group_names[code.group]] = np.bincount(
            n_real[:, code.group], minlength=code.planned + 1).astype(np.int64)
    return tallies


def execute(
    plan: RunPlan,
    *,
    executor: Optional[Executor] = None,
    chunks: Optional[Iterable[tuple[int, int]]] = None,
    max_in_flight: Optional[int] = None,
    on_chunk: Optional[Callable[[int], None]] = None,
    chunk_function: Callable[[RunPlan, int, int], Tallies] = run_chunk,
) -> Tallies:
    """Run the plan's chunks (or the given ones) and return the summed tallies.

    ``executor=None`` runs chunks on a pool of :func:`threads` threads here (inline with one thread).
    ``on_chunk(n_trials)`` is called after each finished chunk, for progress display. At most
    ``max_in_flight`` chunks are submitted at once, so memory stays bounded. An interrupt cancels the
    chunks not started and propagates; chunks already running finish (they are short).
    """
    chunk_iter = iter(chunks if chunks is not None else plan.chunks())
    if executor is None and threads() == 1:
        total: Optional[Tallies] = None
        for start, count in chunk_iter:
            total = add_tallies(total, chunk_function(plan, start, count))
            if on_chunk:
                on_chunk(count)
        if total is None:
            raise ValueError("no trials to run")
        return total
    if executor is None:
        with ThreadPoolExecutor(max_workers=threads(), thread_name_prefix="simtrial") as pool:
            return _drain(plan, pool, chunk_iter, max_in_flight or 4 * threads(), on_chunk, chunk_function)
    return _drain(plan, executor, chunk_iter, max_in_flight or 16, on_chunk, chunk_function)


def _drain(plan: RunPlan, executor: Executor, chunk_iter: Iterator[tuple[int, int]], max_in_flight: int,
           on_chunk: Optional[Callable[[int], None]], chunk_function) -> Tallies:
    total: Optional[Tallies] = None
    pending: dict = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < max_in_flight:
                try:
                    start, count = next(chunk_iter)
                except StopIteration:
                    exhausted = True
                    break
                pending[executor.submit(chunk_function, plan, start, count)] = count
            if not pending:
                break
            done, _ = wait(list(pending), timeout=WAIT_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                count = pending.pop(future)
                total = add_tallies(total, future.result())
                if on_chunk:
                    on_chunk(count)
    except BaseException:
        for future in pending:
            future.cancel()
        raise
    if total is None:
        raise ValueError("no trials to run")
    return total


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RunResult:
    """Summaries of a run, with what is needed to reproduce it."""

    scenario: Scenario
    trials: int
    seed: int
    stream: int
    summaries: tuple
    elapsed_seconds: float
    tallies: Tallies = field(repr=False, compare=False)
    monitoring: tuple = ()
    enrolment: tuple = ()

    @property
    def agrees(self) -> bool:
        """Every Monte Carlo estimate lies within 4 standard errors of its exact value."""
        return all(item.agrees for item in (*self.summaries, *self.monitoring, *self.enrolment))

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


def run_scenario(
    scenario: Scenario,
    *,
    executor: Optional[Executor] = None,
    stream: int = 0,
    chunk_trials: Optional[int] = None,
    on_chunk: Optional[Callable[[int], None]] = None,
    on_compile: Optional[Callable[[], None]] = None,
) -> RunResult:
    """Simulate ``scenario.trials`` virtual trials and summarise every analysis.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see :func:`sim.scenario.load_scenario`).
    executor : concurrent.futures.Executor, optional
        Where chunks run; ``None`` runs them here on :func:`threads` threads.
    stream : int
        Second Philox key word; 0 everywhere simtrial runs a scenario (see the module docstring).
    chunk_trials : int, optional
        Trials per chunk; results do not depend on it.
    on_chunk, on_compile : callable, optional
        Progress: called with each finished chunk's trials, and once before a run that must first
        compile its kernels.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> result = run_scenario(load_scenario("scenarios/tki_vs_bev.yaml"))  # doctest: +SKIP
    >>> result.summaries[0].power, result.summaries[0].exact_power  # doctest: +SKIP
    """
    from .summarise import summarise

    started = time.perf_counter()
    plan = make_plan(scenario, stream=stream, chunk_trials=chunk_trials)
    if on_compile is not None and needs_compiling(plan):
        on_compile()
    tallies = execute(plan, executor=executor, on_chunk=on_chunk)
    summaries, monitoring, enrolment = summarise(scenario, plan, tallies)
    return RunResult(
        scenario=scenario, trials=scenario.trials, seed=scenario.seed, stream=stream, summaries=summaries,
        elapsed_seconds=time.perf_counter() - started, tallies=tallies, monitoring=monitoring,
        enrolment=enrolment,
    )


__all__ = ["RunPlan", "RunResult", "SparseCounts", "execute", "make_plan", "run_chunk", "run_scenario"]

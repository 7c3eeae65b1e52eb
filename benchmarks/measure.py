"""Timing the designs: the kernel, the random-number floor and the baselines, side by side.

:func:`measure_designs` interleaves every repeat of every method design by design, so that load
from other processes falls on all of them alike; the ``*_lines`` functions turn the best times
into report lines (sections kernel, baselines, floor, threads, answer); :func:`end_to_end_lines`
times ``simtrial run`` on a scenario as shipped.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

import baselines
import r_baselines
from cases import REPO_ROOT, BenchmarkCases, Design, count_rates
from lines import Line, against_answers, agreement, best_of, references, thread_text, timed
from rng_floor import run_floor, run_floor_plan
from sim import runner
from sim.analysis import fisher_exact_power
from sim.errors import ScenarioError
from sim.model import marginal_rate
from sim.runner import execute, make_plan, run_chunk, run_scenario
from sim.scenario import load_scenario
from sim.summarise import summarise

SCIPY_LOOP = "scipy loop"
VECTORISED = "vectorised numpy"
R_NAMES = {"statmod": "statmod (R)", "lookup": "R lookup"}
RNG_FLOOR = "RNG floor"


def answers_from_tallies(design: Design, tallies) -> baselines.Answers:
    """Every analysis' answer from the run's tallies, as ``simtrial run`` summarises them
    (:func:`sim.summarise.summarise`: the per-outcome p-value and interval tables over the histograms)."""
    answers: baselines.Answers = {}
    summaries, _monitoring, _enrolment = summarise(design.scenario, design.plan, tallies)
    for summary in summaries:
        if summary.kind == "compare":
            answers[summary.id] = {"trials": summary.trials, "rejections": summary.rejections,
                                   "power": summary.power}
            continue
        answers[summary.id] = {"trials": summary.trials, "coverage": summary.coverage,
                               "mean_width": summary.mean_width}
        for quantity in ("p_width_le_target", "p_lower_above_reference", "p_upper_below_reference"):
            if getattr(summary, quantity) is not None:
                answers[summary.id][quantity] = getattr(summary, quantity)
    return answers


def kernel_answers(design: Design) -> tuple[baselines.Answers, Any]:
    """What the kernel line times: the runner's chunks and tallies, then every analysis' answer."""
    tallies = execute(design.plan)
    return answers_from_tallies(design, tallies), tallies


def rng_floor(design: Design) -> None:
    """The floor over the same chunks and threads as the runner, so both pay the same dispatch."""
    run_floor_plan(design.plan)


def thread_counts() -> list[int]:
    """1, 2 (the issue's speed-up) and all of numba's threads, as far as they exist."""
    available = runner.available_threads()
    return sorted({1, min(2, available), available})


def warm_up(designs: list[Design]) -> None:
    """Compile (or load from numba's cache) every kernel the run times, and start numba's threads."""
    for design in designs:
        run_chunk(design.plan, 0, 2)
        run_floor(design.plan, 0, 2)
        answers_from_tallies(design, execute(design.plan, chunks=[(0, 2)]))
        baselines.vectorised_answers(design.scenario, trials=4, seed=0, rates=design.rates)


@dataclass
class DesignTimings:
    """Seconds of every repeat, and the answers of the last one (checked against the references)."""

    kernel: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    floor: list[float] = field(default_factory=list)
    loop: list[float] = field(default_factory=list)
    vectorised: list[float] = field(default_factory=list)
    r: dict[str, list[r_baselines.RResult]] = field(default_factory=lambda: defaultdict(list))
    kernel_answers: baselines.Answers = field(default_factory=dict)
    loop_answers: baselines.Answers = field(default_factory=dict)
    vectorised_answers: baselines.Answers = field(default_factory=dict)
    tallies: Any = None

    def rate(self, method: str, trials: int) -> float:
        seconds = {"loop": self.loop, "vectorised": self.vectorised}[method]
        return trials / min(seconds)

    def r_best(self, method: str) -> Optional[r_baselines.RResult]:
        results = self.r.get(method)
        return min(results, key=lambda result: result.seconds) if results else None


def r_methods_for(design: Design) -> list[str]:
    """The R lines that apply (one Fisher comparison between two groups) and can run here."""
    if design.fisher is None:
        return []
    return [method for method in r_baselines.METHODS if r_baselines.unavailable(method) is None]


def skipped_r_lines(designs: list[Design]) -> list[dict[str, str]]:
    """The R lines that apply to a design but cannot run here, each with the reason."""
    skipped = []
    for design in designs:
        if design.fisher is None:
            continue
        for method in r_baselines.METHODS:
            reason = r_baselines.unavailable(method)
            if reason is not None:
                skipped.append({"name": f"{R_NAMES[method]} · {design.name}", "reason": reason})
    return skipped


def measure_designs(designs: list[Design], cases: BenchmarkCases, threads: list[int],
                    progress: Callable[[str], None]) -> dict[str, DesignTimings]:
    """Kernel at each thread count, floor, both baselines and the R lines, interleaved repeat by repeat."""
    timings = {design.name: DesignTimings() for design in designs}
    all_threads = max(threads)
    repeats = max(cases.kernel.repeats, cases.baselines.repeats, cases.r.repeats)
    for repeat in range(repeats):
        progress(f"kernel, RNG floor and baselines: repeat {repeat + 1} of {repeats}")
        for design in designs:
            record = timings[design.name]
            if repeat < cases.kernel.repeats:
                # The floor is timed on either side of the kernel: on a shared machine a burst of
                # other work can spoil one timing, and the floor is cheap.
                record.floor.append(timed(lambda: rng_floor(design))[0])
                for k in threads:
                    runner.set_threads(k)
                    seconds, (record.kernel_answers, record.tallies) = timed(lambda: kernel_answers(design))
                    record.kernel[k].append(seconds)
                runner.set_threads(all_threads)
                record.floor.append(timed(lambda: rng_floor(design))[0])
            seed = cases.seed + repeat
            if repeat < cases.baselines.repeats:
                seconds, record.loop_answers = timed(lambda: baselines.loop_answers(
                    design.scenario, trials=cases.baselines.scipy_loop_trials, seed=seed, rates=design.rates))
                record.loop.append(seconds)
                seconds, record.vectorised_answers = timed(lambda: baselines.vectorised_answers(
                    design.scenario, trials=design.trials, seed=seed, rates=design.rates))
                record.vectorised.append(seconds)
            if repeat < cases.r.repeats:
                for method in r_methods_for(design):
                    trials = cases.r.statmod_trials if method == "statmod" else design.trials
                    record.r[method].append(r_baselines.fisher_power_in_r(
                        method, sizes=design.fisher.sizes, rates=design.fisher.rates, alpha=design.fisher.alpha,
                        alternative=design.fisher.alternative, trials=trials, seed=seed))
    runner.set_threads(all_threads)
    return timings


# --------------------------------------------------------------------------- lines


def _analysis_count(design: Design) -> dict[str, Any]:
    return {"design": design.name, "analyses": len(design.scenario.analyses),
            "per_trial_tests": design.per_trial_tests, "patients_per_trial": design.patients_per_trial}


def _r_answers(design: Design, result: r_baselines.RResult) -> baselines.Answers:
    analysis_id = design.scenario.analyses[0].analysis_id
    return {analysis_id: {"trials": result.trials, "power": result.power}}


def kernel_and_baseline_lines(designs: list[Design], timings: dict[str, DesignTimings], cases: BenchmarkCases,
                              threads: list[int]) -> list[Line]:
    """The kernel against every baseline doing the same analyses; each baseline against the scipy loop."""
    kernel: list[Line] = []
    baseline_lines: list[Line] = []
    all_threads = max(threads)
    loop_trials = cases.baselines.scipy_loop_trials
    for design in designs:
        record = timings[design.name]
        refs = references(summarise(design.scenario, design.plan, record.tallies)[0])
        work = _analysis_count(design)
        patients = design.patients_per_trial
        loop_rate = record.rate("loop", loop_trials)
        vectorised_rate = record.rate("vectorised", design.trials)
        compared = [(SCIPY_LOOP, loop_rate, design.targets.vs_scipy_loop),
                    (VECTORISED, vectorised_rate, design.targets.vs_vectorised)]
        r_rates = {}
        for method in r_baselines.METHODS:
            best = record.r_best(method)
            if best is not None:
                r_rates[method] = best
        kernel_check = agreement(record.kernel_answers, against_answers(refs, record.vectorised_answers))
        for k in threads:
            rate = design.trials / min(record.kernel[k])
            against = compared + ([(R_NAMES[m], best.trials_per_second, None) for m, best in r_rates.items()]
                                  if k == all_threads else [])
            for baseline, baseline_rate, target in against:
                kernel.append(Line(
                    section="kernel", name=f"kernel · {design.name} · {thread_text(k)} vs {baseline}",
                    value=rate, unit="trials/s", baseline=baseline, baseline_value=baseline_rate,
                    ratio=rate / baseline_rate, target=target if k == all_threads else None,
                    patients_per_second=rate * patients, trials_per_second=rate,
                    baseline_trials_per_second=baseline_rate,
                    details={**work, "threads": k, "trials": design.trials, "seconds": min(record.kernel[k]),
                             **kernel_check},
                ))
        loop_check = agreement(record.loop_answers, refs)
        baseline_common = {"baseline_trials": loop_trials, "baseline_seconds": min(record.loop),
                           "baseline_max_abs_z": loop_check["max_abs_z"], "baseline_agrees": loop_check["agrees"]}
        calls = sum(answer.get("fisher_exact_calls", 0) for answer in record.vectorised_answers.values())
        baseline_lines.append(Line(
            section="baselines", name=f"{VECTORISED} · {design.name} vs {SCIPY_LOOP}", value=vectorised_rate,
            unit="trials/s", baseline=SCIPY_LOOP, baseline_value=loop_rate, ratio=vectorised_rate / loop_rate,
            patients_per_second=vectorised_rate * patients, trials_per_second=vectorised_rate,
            baseline_trials_per_second=loop_rate,
            details={**work, "trials": design.trials, "seconds": min(record.vectorised),
                     "fisher_exact_calls": calls, **agreement(record.vectorised_answers, refs), **baseline_common},
        ))
        for method, best in r_rates.items():
            baseline_lines.append(Line(
                section="baselines", name=f"{R_NAMES[method]} · {design.name} vs {SCIPY_LOOP}",
                value=best.trials_per_second, unit="trials/s", baseline=SCIPY_LOOP, baseline_value=loop_rate,
                ratio=best.trials_per_second / loop_rate, patients_per_second=best.trials_per_second * patients,
                trials_per_second=best.trials_per_second, baseline_trials_per_second=loop_rate,
                details={**work, "trials": best.trials, "seconds": best.seconds, "fisher_test_calls": best.tables,
                         "r_version": best.r_version, "package_version": best.package_version,
                         **agreement(_r_answers(design, best), refs), **baseline_common},
            ))
    return kernel + baseline_lines


def floor_lines(designs: list[Design], timings: dict[str, DesignTimings], threads: list[int]) -> list[Line]:
    """The kernel's patients per second as a share of the RNG floor's, all threads."""
    lines = []
    all_threads = max(threads)
    for design in designs:
        record = timings[design.name]
        patients = design.trials * design.patients_per_trial
        kernel_rate = patients / min(record.kernel[all_threads])
        floor_rate = patients / min(record.floor)
        lines.append(Line(
            section="floor", name=f"kernel share of {RNG_FLOOR} · {design.name} · {thread_text(all_threads)}",
            value=kernel_rate, unit="patients/s", baseline=RNG_FLOOR, baseline_value=floor_rate,
            ratio=kernel_rate / floor_rate, target=design.targets.rng_floor_share,
            patients_per_second=kernel_rate, trials_per_second=kernel_rate / design.patients_per_trial,
            baseline_trials_per_second=floor_rate / design.patients_per_trial,
            details={**_analysis_count(design), "threads": all_threads, "trials": design.trials,
                     "philox_blocks_per_patient": 1, "floor_seconds": min(record.floor)},
        ))
    return lines


def thread_lines(designs: list[Design], timings: dict[str, DesignTimings], threads: list[int]) -> list[Line]:
    """Speed-up from 1 to 2 threads (the target) and, on bigger machines, to all."""
    lines = []
    for design in designs:
        record = timings[design.name]
        one = design.trials / min(record.kernel[1])
        for k in threads[1:]:
            rate = design.trials / min(record.kernel[k])
            lines.append(Line(
                section="threads", name=f"threads · {design.name} · 1 → {k}", value=rate, unit="trials/s",
                baseline="1 thread", baseline_value=one, ratio=rate / one,
                target=design.targets.thread_speedup if k == 2 else None,
                patients_per_second=rate * design.patients_per_trial, trials_per_second=rate,
                baseline_trials_per_second=one, details={"design": design.name, "threads": k},
            ))
    return lines


# --------------------------------------------------------------------------- time to an answer


def exact_answer(design: Design) -> float:
    """simtrial's exact power from the scenario: the marginal rates by quadrature, then enumeration."""
    analysis = design.scenario.analyses[0]
    rates = [marginal_rate(design.scenario.groups[g], analysis.endpoint, design.scenario.eligibility)
             for g in analysis.group_names]
    sizes = [design.scenario.groups[g].n for g in analysis.group_names]
    return fisher_exact_power(sizes[0], rates[0], sizes[1], rates[1], alpha=analysis.alpha,
                              alternative=analysis.alternative)


def answer_lines(designs: list[Design], timings: dict[str, DesignTimings], cases: BenchmarkCases,
                 threads: list[int], progress: Callable[[str], None]) -> list[Line]:
    """Time to a power answer with standard error <= ``standard_error`` for each listed design.

    Monte Carlo needs power (1 - power) / SE^2 trials; each method's time is that many trials at
    the rate measured above (the kernel on all threads). Where simtrial has an exact answer (a
    Fisher comparison between groups) its time is that of the computation itself, SE 0.
    Ratios are the vectorised baseline's time over each method's (> 1: faster than it).
    """
    settings = cases.time_to_answer
    by_name = {design.name: design for design in designs}
    all_threads = max(threads)
    lines: list[Line] = []
    for name in settings.designs:
        design = by_name[name]
        record = timings[name]
        if len(design.scenario.analyses) != 1:
            raise ScenarioError(f"time_to_answer.designs: {name!r} has {len(design.scenario.analyses)} analyses; "
                                f"a time to an answer needs a design with exactly one")
        analysis = design.scenario.analyses[0]
        exact: Optional[float] = None
        exact_seconds: Optional[float] = None
        if design.fisher is not None:
            progress(f"time to an answer: {name}, exact")
            runs = [timed(lambda: exact_answer(design)) for _ in range(cases.exact.repeats)]
            exact_seconds, exact = min(s for s, _ in runs), runs[0][1]
            pair = design.fisher
            enumeration_seconds = best_of(cases.exact.repeats, lambda: fisher_exact_power(
                pair.sizes[0], pair.rates[0], pair.sizes[1], pair.rates[1], alpha=pair.alpha,
                alternative=pair.alternative))
        power = exact if exact is not None else record.kernel_answers[analysis.analysis_id]["power"]
        needed = math.ceil(power * (1.0 - power) / settings.standard_error**2)
        methods = [(f"simtrial kernel · {thread_text(all_threads)}", design.trials / min(record.kernel[all_threads])),
                   (VECTORISED, record.rate("vectorised", design.trials)),
                   (SCIPY_LOOP, record.rate("loop", cases.baselines.scipy_loop_trials))]
        methods += [(R_NAMES[m], record.r_best(m).trials_per_second) for m in r_baselines.METHODS
                    if record.r_best(m) is not None]
        vectorised_seconds = needed / methods[1][1]
        common = {"design": name, "analysis": analysis.analysis_id, "standard_error": settings.standard_error,
                  "power": power, "power_source": "exact" if exact is not None else "kernel estimate"}
        if exact_seconds is not None:
            lines.append(Line(
                section="answer", name=f"time to answer · {name} · simtrial exact", value=exact_seconds, unit="s",
                baseline=VECTORISED, baseline_value=vectorised_seconds, ratio=vectorised_seconds / exact_seconds,
                details={**common, "method": "simtrial exact", "trials_needed": 0, "answer_standard_error": 0.0,
                         "enumeration_seconds": enumeration_seconds,
                         "marginal_rates_seconds": exact_seconds - enumeration_seconds},
            ))
        for method, rate in methods:
            seconds = needed / rate
            lines.append(Line(
                section="answer", name=f"time to answer · {name} · {method}", value=seconds, unit="s",
                baseline=VECTORISED, baseline_value=vectorised_seconds, ratio=vectorised_seconds / seconds,
                trials_per_second=rate, baseline_trials_per_second=methods[1][1],
                details={**common, "method": method, "trials_needed": needed,
                         "answer_standard_error": float(np.sqrt(power * (1 - power) / needed))},
            ))
    return lines


# --------------------------------------------------------------------------- simtrial run, end to end


def end_to_end_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    """``simtrial run`` on the scenario as shipped: run_scenario against the vectorised baseline."""
    settings = cases.end_to_end
    scenario = load_scenario(REPO_ROOT / settings.scenario)
    progress(f"simtrial run: {scenario.name}, {scenario.trials:,} trials as shipped")
    rates = count_rates(scenario)
    run_scenario(scenario)  # loads the kernels this scenario uses
    runs, split, vectorised = [], [], []
    for repeat in range(settings.repeats):
        runs.append(timed(lambda: run_scenario(scenario))[0])
        plan = make_plan(scenario)
        execute_seconds, tallies = timed(lambda: execute(plan))
        split.append((execute_seconds, timed(lambda: summarise(scenario, plan, tallies))[0]))
        vectorised.append(timed(lambda: baselines.vectorised_answers(
            scenario, trials=scenario.trials, seed=cases.seed + repeat, rates=rates))[0])
    seconds, baseline_seconds = min(runs), min(vectorised)
    execute_seconds, summarise_seconds = min(split)
    patients = sum(group.n for group in scenario.groups.values())
    return [Line(
        section="run", name=f"simtrial run · {scenario.name} · {scenario.trials:,} trials, every analysis",
        value=seconds, unit="s", baseline=VECTORISED, baseline_value=baseline_seconds,
        ratio=baseline_seconds / seconds, patients_per_second=scenario.trials * patients / seconds,
        trials_per_second=scenario.trials / seconds, baseline_trials_per_second=scenario.trials / baseline_seconds,
        details={"scenario": settings.scenario, "trials": scenario.trials, "analyses": len(scenario.analyses),
                 "execute_seconds": execute_seconds, "summarise_seconds": summarise_seconds,
                 "threads": runner.threads()},
    )]

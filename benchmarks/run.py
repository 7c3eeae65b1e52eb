"""Kernel throughput against the alternatives, measured side by side in one run.

    python benchmarks/run.py [--quick] [--json] [--out DIR]

Times, in one process, the patient-level kernel (through the runner, as ``simtrial run`` uses it)
on the designs of ``benchmarks/cases.yaml`` with one thread and with all threads; the baselines on
the same designs (numpy binomial draws and a Python loop over ``scipy.stats.fisher_exact``, and the
same loop with p-values cached per distinct table); exact power by enumeration against an
enumeration calling ``fisher_exact`` on every table; the random-number floor (the kernel's Philox
blocks and nothing else); and scaling with trials, patients per trial, threads and, in a fresh
process per trial count, peak memory. Every line is a ratio to a baseline timed in the same run,
and every target of issue 5 is marked PASS or MISS. The same report goes to ``DIR/bench/``
(``benchmark.json`` and ``benchmark.png``, written atomically); ``--json`` prints the JSON only.

Timing: every kernel is compiled (or loaded from numba's cache) before anything is timed;
each figure is the best of its repeats, timed with ``time.perf_counter`` with the garbage
collector off; repeats of the kernel, the floor and the baselines are interleaved design by
design, so that load from other processes falls on all of them alike.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import click
import numba
import numpy as np
from rich.console import Console

from sim import __version__
from sim.analysis import fisher_exact_power, fisher_p_value_table
from sim.errors import SimtrialError
from sim.io import to_json, utc_now, versions, write_json_atomic
from sim.runner import execute, make_plan, run_chunk
from sim.scenario import load_scenario

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:  # sibling modules, also when imported rather than run
    sys.path.insert(0, str(BENCH_DIR))

import baselines  # noqa: E402
import render  # noqa: E402
from cases import (  # noqa: E402
    REPO_ROOT,
    BenchmarkCases,
    Design,
    build_design,
    constant_rate_scenario,
    load_cases,
)
from rng_floor import run_floor  # noqa: E402

SCIPY_LOOP = "scipy loop"
CACHED_LOOP = "cached loop"
RNG_FLOOR = "RNG floor"
SCIPY_ENUMERATION = "scipy enumeration"
MB = 1e6


# --------------------------------------------------------------------------- report lines


@dataclass
class Line:
    """One line of the report: a measurement, its baseline from the same run, and their ratio.

    ``ratio`` is oriented so that the target reads ``ratio >= target`` (speed-ups, shares) or,
    where ``at_most`` is set, ``ratio <= target`` (memory growth).
    """

    section: str
    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float
    target: Optional[float] = None
    at_most: bool = False
    patients_per_second: Optional[float] = None
    trials_per_second: Optional[float] = None
    baseline_trials_per_second: Optional[float] = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Optional[str]:
        if self.target is None:
            return None
        met = self.ratio <= self.target if self.at_most else self.ratio >= self.target
        return "PASS" if met else "MISS"

    @property
    def target_text(self) -> Optional[str]:
        if self.target is None:
            return None
        return f"{'<=' if self.at_most else '>='} {self.target:g}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "section": self.section,
            "patients_per_second": self.patients_per_second,
            "trials_per_second": self.trials_per_second,
            "baseline": self.baseline,
            "baseline_trials_per_second": self.baseline_trials_per_second,
            "ratio": self.ratio,
            "value": self.value,
            "unit": self.unit,
            "baseline_value": self.baseline_value,
            "target": self.target_text,
            "verdict": self.verdict,
            **self.details,
        }


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes (``perf_counter``, garbage collector off) and what it returned."""
    # As timeit does: a collection triggered inside the timed call would be charged to it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        result = fn()
        return time.perf_counter() - started, result
    finally:
        if enabled:
            gc.enable()


def thread_counts() -> list[int]:
    """1, 2 (the issue's speed-up) and all of numba's threads, as far as they exist."""
    available = numba.config.NUMBA_NUM_THREADS
    return sorted({1, min(2, available), available})


def simulate_power(design: Design) -> float:
    """What the simulator computes and the baselines compute: the primary comparison's power.

    The kernel through the runner (chunks, tallies) and the per-outcome p-values, as a run does.
    """
    tallies = execute(design.plan)
    spec = next(spec for spec in design.plan.tallies if spec.analysis_id == design.compare.analysis_id)
    reject = fisher_p_value_table(*spec.sizes, alternative=design.compare.alternative) <= design.compare.alpha
    histogram = tallies[spec.analysis_id]
    return float(histogram[reject].sum() / histogram.sum())


def rng_floor(design: Design) -> None:
    """The floor over the same chunks as the runner, so both pay the same parallel launches."""
    for start, count in design.plan.chunks():
        run_floor(design.plan, start, count)


def exact_power(design: Design) -> float:
    return fisher_exact_power(design.sizes[0], design.rates[0], design.sizes[1], design.rates[1],
                              alpha=design.compare.alpha, alternative=design.compare.alternative)


def warm_up(designs: list[Design]) -> None:
    """Compile (or load from numba's cache) every kernel the run times, and start numba's threads."""
    for design in designs:
        run_chunk(design.plan, 0, 2)
        run_floor(design.plan, 0, 2)
        fisher_p_value_table(*design.sizes, alternative=design.compare.alternative)
    baselines.scipy_loop_power(3, 0.5, 3, 0.5, trials=2, seed=0, alpha=0.05, alternative="two-sided")


def _power_se(power: float, trials: int) -> float:
    return float(np.sqrt(max(power * (1 - power), 1e-300) / trials))


def _power_check(power: float, trials: int, exact: float) -> dict[str, Any]:
    """A Monte Carlo power beside the exact one: z = (power - exact) / SE at the exact power."""
    se = _power_se(exact, trials)
    z = (power - exact) / se
    return {"power": power, "power_trials": trials, "exact_power": exact, "power_z": z,
            "power_agrees": bool(abs(z) <= 4.0)}


# --------------------------------------------------------------------------- sections


@dataclass
class DesignTimings:
    kernel: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    floor: list[float] = field(default_factory=list)
    scipy_loop: list[float] = field(default_factory=list)
    cached_loop: list[float] = field(default_factory=list)
    kernel_power: float = float("nan")
    scipy_power: float = float("nan")
    cached_power: float = float("nan")
    distinct_tables: int = 0


def measure_designs(designs: list[Design], cases: BenchmarkCases, threads: list[int],
                    progress: Callable[[str], None]) -> dict[str, DesignTimings]:
    """Kernel at each thread count, RNG floor and both baseline loops, interleaved repeat by repeat."""
    timings = {design.name: DesignTimings() for design in designs}
    all_threads = max(threads)
    repeats = max(cases.kernel.repeats, cases.baselines.repeats)
    for repeat in range(repeats):
        progress(f"kernel, RNG floor and baseline loops: repeat {repeat + 1} of {repeats}")
        for design in designs:
            record = timings[design.name]
            if repeat < cases.kernel.repeats:
                for k in threads:
                    numba.set_num_threads(k)
                    seconds, record.kernel_power = timed(lambda: simulate_power(design))
                    record.kernel[k].append(seconds)
                numba.set_num_threads(all_threads)
                record.floor.append(timed(lambda: rng_floor(design))[0])
            if repeat < cases.baselines.repeats:
                (n1, n2), (p1, p2) = design.sizes, design.rates
                common = dict(seed=cases.seed + repeat, alpha=design.compare.alpha,
                              alternative=design.compare.alternative)
                seconds, record.scipy_power = timed(lambda: baselines.scipy_loop_power(
                    n1, p1, n2, p2, trials=cases.baselines.scipy_loop_trials, **common))
                record.scipy_loop.append(seconds)
                seconds, (record.cached_power, record.distinct_tables) = timed(lambda: baselines.cached_loop_power(
                    n1, p1, n2, p2, trials=design.trials, **common))
                record.cached_loop.append(seconds)
    numba.set_num_threads(all_threads)
    return timings


def kernel_lines(designs: list[Design], timings: dict[str, DesignTimings], cases: BenchmarkCases,
                 threads: list[int]) -> list[Line]:
    """Sections 1 and 2: the kernel against both loops, and the cached loop against the plain one."""
    lines: list[Line] = []
    cached_lines: list[Line] = []
    all_threads = max(threads)
    for design in designs:
        record = timings[design.name]
        patients = design.patients_per_trial
        exact = exact_power(design)
        scipy_rate = cases.baselines.scipy_loop_trials / min(record.scipy_loop)
        cached_rate = design.trials / min(record.cached_loop)
        for k in threads:
            rate = design.trials / min(record.kernel[k])
            thread_text = f"{k} thread{'s' if k > 1 else ''}"
            common = dict(
                section="kernel", value=rate, unit="trials/s", patients_per_second=rate * patients,
                trials_per_second=rate,
                details={"design": design.name, "threads": k, "patients_per_trial": patients,
                         "trials": design.trials, "seconds": min(record.kernel[k]),
                         **_power_check(record.kernel_power, design.trials, exact)},
            )
            lines.append(Line(
                name=f"kernel · {design.name} · {thread_text} vs {SCIPY_LOOP}", baseline=SCIPY_LOOP,
                baseline_value=scipy_rate, baseline_trials_per_second=scipy_rate, ratio=rate / scipy_rate,
                target=cases.targets.kernel_vs_scipy_loop if k == all_threads else None, **common,
            ))
            lines.append(Line(
                name=f"kernel · {design.name} · {thread_text} vs {CACHED_LOOP}", baseline=CACHED_LOOP,
                baseline_value=cached_rate, baseline_trials_per_second=cached_rate, ratio=rate / cached_rate,
                target=cases.targets.kernel_vs_cached_loop if k == all_threads else None, **common,
            ))
        cached_lines.append(Line(
            section="baselines", name=f"{CACHED_LOOP} · {design.name} vs {SCIPY_LOOP}", value=cached_rate,
            unit="trials/s", baseline=SCIPY_LOOP, baseline_value=scipy_rate, ratio=cached_rate / scipy_rate,
            patients_per_second=cached_rate * patients, trials_per_second=cached_rate,
            baseline_trials_per_second=scipy_rate,
            details={"design": design.name, "trials": design.trials, "seconds": min(record.cached_loop),
                     "distinct_tables": record.distinct_tables,
                     "baseline_trials": cases.baselines.scipy_loop_trials,
                     "baseline_seconds": min(record.scipy_loop),
                     **_power_check(record.cached_power, design.trials, exact),
                     "baseline_power": record.scipy_power},
        ))
    return lines + cached_lines


def floor_lines(designs: list[Design], timings: dict[str, DesignTimings], cases: BenchmarkCases,
                threads: list[int]) -> list[Line]:
    """Section 4: the kernel's patients per second as a share of the RNG floor's, all threads."""
    lines = []
    all_threads = max(threads)
    for design in designs:
        record = timings[design.name]
        patients = design.trials * design.patients_per_trial
        kernel_rate = patients / min(record.kernel[all_threads])
        floor_rate = patients / min(record.floor)
        lines.append(Line(
            section="floor", name=f"kernel share of {RNG_FLOOR} · {design.name} · {all_threads} threads",
            value=kernel_rate, unit="patients/s", baseline=RNG_FLOOR, baseline_value=floor_rate,
            ratio=kernel_rate / floor_rate, target=cases.targets.rng_floor_share,
            patients_per_second=kernel_rate, trials_per_second=kernel_rate / design.patients_per_trial,
            baseline_trials_per_second=floor_rate / design.patients_per_trial,
            details={"design": design.name, "threads": all_threads, "trials": design.trials,
                     "philox_blocks_per_patient": 1, "floor_seconds": min(record.floor)},
        ))
    return lines


def thread_lines(designs: list[Design], timings: dict[str, DesignTimings], cases: BenchmarkCases,
                 threads: list[int]) -> list[Line]:
    """Section 5: speed-up from 1 to 2 threads (the target) and, on bigger machines, to all."""
    lines = []
    for design in designs:
        record = timings[design.name]
        one = design.trials / min(record.kernel[1])
        for k in threads[1:]:
            rate = design.trials / min(record.kernel[k])
            lines.append(Line(
                section="threads", name=f"threads · {design.name} · 1 → {k}", value=rate, unit="trials/s",
                baseline="1 thread", baseline_value=one, ratio=rate / one,
                target=cases.targets.thread_speedup if k == 2 else None,
                patients_per_second=rate * design.patients_per_trial, trials_per_second=rate,
                baseline_trials_per_second=one, details={"design": design.name, "threads": k},
            ))
    return lines


def exact_lines(designs: list[Design], cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    """Section 3: exact power by enumeration, this project's against scipy's ``fisher_exact`` per table."""
    lines = []
    rng = np.random.default_rng(cases.seed)
    for design in designs:
        progress(f"exact power: {design.name}")
        (n1, n2), (p1, p2) = design.sizes, design.rates
        alpha, alternative = design.compare.alpha, design.compare.alternative
        ours = [timed(lambda: exact_power(design)) for _ in range(cases.exact.repeats)]
        seconds = min(s for s, _ in ours)
        power = ours[0][1]
        tables = baselines.all_tables(n1, n2)
        n_tables = len(tables)
        full = n_tables <= cases.exact.full_tables_max
        subset = tables if full else tables[np.sort(rng.choice(n_tables, cases.exact.subset_tables, replace=False))]
        baseline_seconds, (scipy_power, scipy_p) = timed(lambda: baselines.scipy_enumeration_power(
            n1, p1, n2, p2, alpha=alpha, alternative=alternative, tables=subset))
        # Each table costs scipy about the same, so the time of a uniform random subset scales to all.
        baseline_seconds *= n_tables / len(subset)
        our_p = fisher_p_value_table(n1, n2, alternative=alternative)[subset[:, 0], subset[:, 1]]
        check = {
            "tables": n_tables,
            "scipy_tables_timed": len(subset),
            "extrapolated": not full,
            "max_abs_p_value_difference": float(np.max(np.abs(our_p - scipy_p))),
            "same_decisions": bool(np.array_equal(our_p <= alpha, scipy_p <= alpha)),
            "power": power,
        }
        if full:
            check["scipy_power"] = scipy_power
        lines.append(Line(
            section="exact", name=f"exact power · {design.name}" + (
                "" if design.name == f"{n1} vs {n2}" else f" ({n1} vs {n2})"), value=seconds, unit="s",
            baseline=SCIPY_ENUMERATION + (" (extrapolated)" if not full else ""), baseline_value=baseline_seconds,
            ratio=baseline_seconds / seconds, target=cases.targets.exact_vs_scipy,
            details={"design": design.name, **check},
        ))
    return lines


def scaling_overrides(settings) -> dict:
    """Scenario overrides of the scaling and memory lines (see ``counts_only`` in cases.yaml)."""
    if not settings.counts_only:
        return {}
    scenario = load_scenario(REPO_ROOT / settings.scenario)
    kept = [a for a, spec in zip(scenario.to_dict()["analyses"], scenario.analyses)
            if not spec.per_trial_test]
    return {"analyses": kept}


def scaling_lines(cases: BenchmarkCases, threads: list[int], progress: Callable[[str], None]) -> list[Line]:
    """Section 5: run time against trials and against patients per trial (all threads)."""
    lines: list[Line] = []
    settings = cases.scaling
    overrides = scaling_overrides(settings)
    scenario = load_scenario(REPO_ROOT / settings.scenario, overrides=overrides)
    reference: Optional[float] = None
    for trials in settings.trials:
        progress(f"scaling: {scenario.name}, {trials:,} trials")
        plan = make_plan(load_scenario(REPO_ROOT / settings.scenario, overrides={**overrides, "trials": trials}))
        run_chunk(plan, 0, 2)
        repeats = settings.repeats if trials < settings.repeat_below_trials else 1
        seconds = min(timed(lambda: execute(plan))[0] for _ in range(repeats))
        rate = trials / seconds
        reference = reference or rate
        patients = sum(group.n for group in scenario.groups.values())
        lines.append(Line(
            section="scaling", name=f"run time · {scenario.name} · {trials:,} trials", value=seconds, unit="s",
            baseline=f"{settings.trials[0]:,} trials", baseline_value=settings.trials[0] / reference,
            ratio=rate / reference, patients_per_second=rate * patients, trials_per_second=rate,
            baseline_trials_per_second=reference,
            details={"scenario": scenario.name, "trials": trials, "threads": max(threads), "repeats": repeats},
        ))
    reference = None
    first = settings.patients_per_group[0]
    for n in settings.patients_per_group:
        progress(f"scaling: {n} vs {n} patients")
        design = constant_rate_scenario(f"n{n}", {"prior_tki": (n, 0.40), "prior_bev": (n, 0.085)},
                                        trials=settings.patients_trials, seed=cases.seed,
                                        alternative=cases.alternative, alpha=cases.alpha)
        plan = make_plan(design)
        run_chunk(plan, 0, 2)
        seconds = min(timed(lambda: execute(plan))[0] for _ in range(settings.repeats))
        patients_rate = settings.patients_trials * 2 * n / seconds
        reference = reference or patients_rate
        lines.append(Line(
            section="scaling", name=f"run time · {n} vs {n} patients · {settings.patients_trials:,} trials",
            value=seconds, unit="s", baseline=f"{first} vs {first} patients",
            baseline_value=settings.patients_trials * 2 * first / reference, ratio=patients_rate / reference,
            patients_per_second=patients_rate, trials_per_second=patients_rate / (2 * n),
            baseline_trials_per_second=reference / (2 * first),
            details={"patients_per_trial": 2 * n, "trials": settings.patients_trials, "threads": max(threads)},
        ))
    return lines


def memory_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    """Section 5: peak memory against trials, one fresh process per trial count (memory_probe.py)."""
    settings = cases.scaling
    overrides = json.dumps(scaling_overrides(settings))
    probes = {}
    for trials in settings.memory_trials:
        progress(f"peak memory: {trials:,} trials in a fresh process")
        completed = subprocess.run(
            [sys.executable, str(BENCH_DIR / "memory_probe.py"), str(REPO_ROOT / settings.scenario), str(trials),
             overrides],
            capture_output=True, text=True, check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"memory probe for {trials} trials failed:\n{completed.stderr}")
        probes[trials] = json.loads(completed.stdout.strip().splitlines()[-1])
    reference = probes[settings.memory_reference_trials]
    largest = max(settings.memory_trials)
    lines = []
    for metric, label in (("peak_rss_bytes", "peak RSS of the process"),
                          ("run_traced_peak_bytes", "peak of the run's allocations (tracemalloc)")):
        for trials, probe in probes.items():
            lines.append(Line(
                section="memory", name=f"{label} · {trials:,} trials", value=probe[metric] / MB, unit="MB",
                baseline=f"{settings.memory_reference_trials:,} trials",
                baseline_value=reference[metric] / MB, ratio=probe[metric] / reference[metric],
                target=cases.targets.memory_growth if trials == largest else None, at_most=True,
                details={"metric": metric, **probe},
            ))
    return lines


# --------------------------------------------------------------------------- the run


def machine() -> dict[str, Any]:
    """What produced the figures: cores, CPU model, numba threads, load, versions."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model or platform.processor() or None,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions(),
    }


def run_benchmarks(cases: BenchmarkCases, *, quick: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    """Every section of the report, in one process; returns the report as plain data."""
    started = time.perf_counter()
    info = machine()
    threads = thread_counts()
    progress("building designs and compiling kernels")
    designs = [build_design(spec, cases) for spec in cases.designs]
    warm_up(designs)
    timings = measure_designs(designs, cases, threads, progress)
    lines = kernel_lines(designs, timings, cases, threads)
    lines += exact_lines(designs, cases, progress)
    lines += floor_lines(designs, timings, cases, threads)
    lines += thread_lines(designs, timings, cases, threads)
    lines += scaling_lines(cases, threads, progress)
    lines += memory_lines(cases, progress)
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    targeted = [line for line in lines if line.verdict is not None]
    return {
        "benchmark": "simtrial kernel throughput (issue 5)",
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "quick": quick,
        "simtrial": __version__,
        "finished_at": utc_now(),
        "elapsed_seconds": time.perf_counter() - started,
        "machine": info,
        "threads": threads,
        "settings": cases.model_dump(mode="json"),
        "targets": {"pass": sum(line.verdict == "PASS" for line in targeted),
                    "miss": sum(line.verdict == "MISS" for line in targeted),
                    "lines": [{"name": line.name, "target": line.target_text, "ratio": line.ratio,
                               "verdict": line.verdict} for line in targeted]},
        "cases": [line.to_dict() for line in lines],
    }


def write_outputs(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """DIR/bench/benchmark.json and benchmark.png, each written atomically."""
    directory = out_dir / "bench"
    json_path, chart_path = directory / "benchmark.json", directory / "benchmark.png"
    write_json_atomic(json_path, report)
    render.write_chart(report, chart_path)
    return [json_path, chart_path]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="Small counts: proves the harness works (CI); figures mean nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout and nothing else.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              metavar="DIR",
              help="Write DIR/bench/benchmark.json and benchmark.png.")
def main(quick: bool, as_json: bool, out_dir: Path) -> None:
    """Time the kernel against the alternatives and report every figure as a ratio to its baseline."""
    err = Console(stderr=True, highlight=False)
    started = time.perf_counter()

    def progress(text: str) -> None:
        err.print(f"[dim]{time.perf_counter() - started:6.1f} s  {text}[/dim]")

    cases = load_cases(quick=quick)
    report = run_benchmarks(cases, quick=quick, progress=progress)
    written = write_outputs(report, out_dir)
    if as_json:
        click.echo(to_json(report), nl=False)
        return
    # The tables are wide; when stdout is a file or a pipe, do not wrap them at 80 columns.
    console = Console(highlight=False) if sys.stdout.isatty() else Console(highlight=False, width=180)
    render.print_report(report, console)
    console.print("wrote " + ", ".join(str(path) for path in written))


if __name__ == "__main__":
    try:
        main(standalone_mode=False)
    except SimtrialError as exc:
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)

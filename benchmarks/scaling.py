"""Exact power against scipy's enumeration; run time against trials and patients; peak memory."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Callable, Optional

import numpy as np

import baselines
from cases import BENCH_DIR, REPO_ROOT, BenchmarkCases, Design, constant_rate_scenario, count_analyses
from lines import Line, best_of, timed
from sim.analysis import fisher_exact_power, fisher_p_value_table, rejects
from sim.runner import execute, make_plan, run_chunk
from sim.scenario import load_scenario

SCIPY_ENUMERATION = "scipy enumeration"
MB = 1e6


def exact_lines(designs: list[Design], cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    """Exact power by enumeration, this project's against scipy's ``fisher_exact`` on every table.

    For the designs whose only analysis is one Fisher comparison between groups.
    """
    lines = []
    rng = np.random.default_rng(cases.seed)
    for design in designs:
        if design.fisher is None:
            continue
        progress(f"exact power: {design.name}")
        (n1, n2), (p1, p2) = design.fisher.sizes, design.fisher.rates
        alpha, alternative = design.fisher.alpha, design.fisher.alternative
        ours = [timed(lambda: fisher_exact_power(n1, p1, n2, p2, alpha=alpha, alternative=alternative))
                for _ in range(cases.exact.repeats)]
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
            "same_decisions": bool(np.array_equal(rejects(our_p, alpha), rejects(scipy_p, alpha))),
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
    return {"analyses": count_analyses(load_scenario(REPO_ROOT / settings.scenario))}


def scaling_lines(cases: BenchmarkCases, threads: list[int], progress: Callable[[str], None]) -> list[Line]:
    """Run time against trials and against patients per trial (all threads)."""
    lines: list[Line] = []
    settings = cases.scaling
    overrides = scaling_overrides(settings)
    scenario = load_scenario(REPO_ROOT / settings.scenario, overrides=overrides)
    reference: Optional[float] = None
    for trials in settings.trials:
        progress(f"scaling: {scenario.name}, {trials:,} trials")
        plan = make_plan(scenario.with_changes({"trials": trials}, source=str(REPO_ROOT / settings.scenario)))
        run_chunk(plan, 0, 2)
        repeats = settings.repeats if trials < settings.repeat_below_trials else 1
        seconds = best_of(repeats, lambda: execute(plan))
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
        seconds = best_of(settings.repeats, lambda: execute(plan))
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
    """Peak memory against trials, one fresh process per trial count (memory_probe.py)."""
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

"""What the design features cost, each against the plain run it extends (issues 8 and 12).

* ``monitoring``: the kernel with a stopping rule checked after every patient of a group, against the
  same scenario without it, per simulated patient (the rule never fires, so both simulate the same
  patients: the line measures the checking, not the saving). Issue 8's goal: within 1.5x.
* ``one-pass sizing``: a simulated sizing curve over a range of sizes, against one run at the largest
  size with the same trials (issue 12 §4's goal: at most 3x for 20:120).
* ``large n``: patients per second of an n vs n design of 10,000 per group against 200 per group, and
  the peak of the run's allocations, each in a fresh process (issue 12 §5).
* ``cold start``: ``simtrial run`` of a scenario with an empty kernel cache (everything compiled),
  against the same command with the cache filled (issue 12 §3's goal: under 15 s in absolute terms).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable

from cases import BENCH_DIR, REPO_ROOT, BenchmarkCases
from lines import Line, best_of

from sim.designs.sizing import size_study
from sim.runner import execute, make_plan
from sim.scenario import load_scenario, validate_scenario

def _patients(scenario) -> int:
    return scenario.trials * sum(group.n for group in scenario.groups.values())


def monitoring_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    settings = cases.features.monitoring
    base = load_scenario(REPO_ROOT / settings.scenario, overrides={"trials": settings.trials})
    data = base.to_dict()
    group = data["groups"][settings.group]
    # A boundary above every look: checked after every patient, never reached.
    data["monitoring"] = [{"group": settings.group, "endpoint": "cardiac_event", "looks": f"1:{group['n']}",
                           "stop_at": [group["n"] + 1] * group["n"]}]
    monitored = validate_scenario(data)
    progress(f"monitoring: {settings.scenario}, a rule checked at every patient of {settings.group}")
    plans = {"plain": make_plan(base), "monitored": make_plan(monitored)}
    for plan in plans.values():
        execute(plan, chunks=[(0, 2)])
    seconds = {name: best_of(settings.repeats, lambda plan=plan: execute(plan)) for name, plan in plans.items()}
    patients = _patients(base)
    return [Line(
        section="features", name=f"monitored kernel · {base.name} · rule at every patient of {settings.group}",
        value=seconds["monitored"] / patients * 1e9, unit="ns/patient", baseline="same scenario unmonitored",
        baseline_value=seconds["plain"] / patients * 1e9, ratio=seconds["monitored"] / seconds["plain"],
        target=settings.target, at_most=True, patients_per_second=patients / seconds["monitored"],
        details={"trials": base.trials, "seconds": seconds},
    )]


def sizing_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    settings = cases.features.sizing
    scenario = load_scenario(REPO_ROOT / settings.scenario)
    low, high = settings.range
    lines = []
    for analysis_id in settings.analyses:
        analysis = scenario.analysis(analysis_id)
        data = scenario.to_dict()
        data["analyses"] = [analysis.model_dump(mode="json", exclude_none=True)]
        data["trials"] = settings.trials
        for name in analysis.group_names:
            data["groups"][name]["n"] = high
        largest = validate_scenario(data)
        progress(f"one-pass sizing: {analysis_id}, {low}:{high} against one run at {high}")

        def curve():
            size_study(scenario, analysis_id, target_power=0.8, size_range=(low, high), method="monte-carlo",
                       trials=settings.trials)

        size_study(scenario, analysis_id, target_power=0.8, size_range=(low, low + 1), method="monte-carlo",
                   trials=200)  # compiles what the curve uses
        one_run = best_of(settings.repeats, lambda: execute(make_plan(largest)))
        curve_seconds = best_of(settings.repeats, curve)
        lines.append(Line(
            section="features", name=f"one-pass sizing · {analysis_id} · {low}:{high}",
            value=curve_seconds, unit="s", baseline=f"one run at {high}", baseline_value=one_run,
            ratio=curve_seconds / one_run, target=settings.target if analysis_id in settings.targeted else None,
            at_most=True, details={"trials": settings.trials, "sizes": high - low + 1},
        ))
    return lines


def large_n_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    settings = cases.features.large_n
    probes = {}
    for n, trials in ((settings.small_n, settings.small_trials), (settings.large_n, settings.large_trials)):
        progress(f"large n: {n:,} vs {n:,}, {trials:,} trials in a fresh process")
        done = subprocess.run([sys.executable, str(BENCH_DIR / "features.py"), "large-n", str(n), str(trials),
                               str(settings.repeats)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"large-n probe failed:\n{done.stderr}")
        probes[n] = json.loads(done.stdout.strip().splitlines()[-1])
    small, large = probes[settings.small_n], probes[settings.large_n]
    return [
        Line(section="features", name=f"large n · {settings.large_n:,} vs {settings.large_n:,} patients/s",
             value=large["patients_per_second"] / 1e6, unit="M patients/s",
             baseline=f"{settings.small_n} vs {settings.small_n}", baseline_value=small["patients_per_second"] / 1e6,
             ratio=large["patients_per_second"] / small["patients_per_second"], target=settings.speed_target,
             patients_per_second=large["patients_per_second"], details=large),
        Line(section="features", name=f"large n · {settings.large_n:,} vs {settings.large_n:,} peak allocations",
             value=large["traced_peak_bytes"] / 1e6, unit="MB", baseline=f"{settings.small_n} vs {settings.small_n}",
             baseline_value=small["traced_peak_bytes"] / 1e6,
             ratio=large["traced_peak_bytes"] / small["traced_peak_bytes"], details=large),
    ]


def cold_start_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    settings = cases.features.cold_start
    progress(f"cold start: simtrial run {settings.scenario} with an empty kernel cache")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env.pop("SIMTRIAL_CACHE_DIR", None)
        command = [sys.executable, "-m", "sim", "run", str(REPO_ROOT / settings.scenario), "--trials",
                   str(settings.trials), "--json", "--out", out, "--force"]

        def once() -> float:
            started = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=True, cwd=REPO_ROOT)
            return time.perf_counter() - started

        cold = once()
        warm = min(once() for _ in range(settings.repeats))
    return [Line(section="features", name=f"cold start · simtrial run {settings.scenario}", value=cold, unit="s",
                 baseline="the same command, kernels cached", baseline_value=warm, ratio=cold / warm,
                 details={"goal_seconds": settings.goal_seconds, "trials": settings.trials})]


def feature_lines(cases: BenchmarkCases, progress: Callable[[str], None]) -> list[Line]:
    """Every line of this section, in order."""
    return (monitoring_lines(cases, progress) + sizing_lines(cases, progress) + large_n_lines(cases, progress)
            + cold_start_lines(cases, progress))


def _large_n_probe(n: int, trials: int, repeats: int) -> dict:
    """Run in a fresh process: patients/s of an n vs n constant-rate design and the run's allocation peak."""
    import tracemalloc

    scenario = validate_scenario({
        "name": f"n{n}", "trials": trials, "seed": 5,
        "groups": {"a": {"n": n, "cardiac_event": {"p": 0.40}}, "b": {"n": n, "cardiac_event": {"p": 0.085}}},
        "analyses": [{"compare": "cardiac_event", "groups": ["a", "b"]}, {"estimate": "cardiac_event", "group": "a"}],
    })
    plan = make_plan(scenario)
    execute(plan, chunks=[(0, 1)])
    seconds = best_of(repeats, lambda: execute(plan))
    tracemalloc.start()
    execute(plan)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"n": n, "trials": trials, "seconds": seconds, "patients_per_second": _patients(scenario) / seconds,
            "traced_peak_bytes": peak, "chunk_trials": plan.chunk_trials}


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "large-n":
        print(json.dumps(_large_n_probe(*(int(v) for v in sys.argv[2:]))))
    else:
        raise SystemExit("usage: features.py large-n N TRIALS REPEATS")


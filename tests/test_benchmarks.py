"""The benchmark harness works: ``benchmarks/run.py --quick`` reports every case and writes its files.

No timing threshold here (figures on CI machines mean nothing); the checks are that every line of
issue 5 is present with its ratio, that the JSON on stdout is the file written, and that what the
harness times computes the right thing (the same power and p-values as the simulator).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
sys.path.insert(0, str(BENCH))

import cases as bench_cases  # noqa: E402
from rng_floor import philox_floor  # noqa: E402

REQUIRED_KEYS = {"name", "patients_per_second", "trials_per_second", "baseline", "baseline_trials_per_second",
                 "ratio"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    completed = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--json", "--out", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout), out


def test_stdout_is_the_json_written(quick_run):
    report, out = quick_run
    written = out / "bench" / "benchmark.json"
    assert json.loads(written.read_text()) == report
    assert report["quick"] is True
    assert report["command"].startswith("python benchmarks/run.py --quick")
    assert report["machine"]["nproc"] >= 1


def test_chart_written_atomically(quick_run):
    _report, out = quick_run
    chart = out / "bench" / "benchmark.png"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(path.name for path in (out / "bench").iterdir()) == ["benchmark.json", "benchmark.png"]


def test_every_case_has_the_issue_keys(quick_run):
    report, _out = quick_run
    assert report["cases"]
    for case in report["cases"]:
        assert REQUIRED_KEYS <= case.keys(), case["name"]
        assert math.isfinite(case["ratio"]) and case["ratio"] > 0, case["name"]
        assert case["verdict"] in (None, "PASS", "MISS")
        assert (case["verdict"] is None) == (case["target"] is None)


def test_every_line_of_the_issue_is_present(quick_run):
    report, _out = quick_run
    settings = bench_cases.load_cases(quick=True)
    threads = report["threads"]
    names = {case["name"] for case in report["cases"]}
    sections = {case["section"] for case in report["cases"]}
    assert sections == {"kernel", "baselines", "exact", "floor", "threads", "scaling", "memory"}
    for design in settings.designs:
        for k in threads:
            thread_text = f"{k} thread{'s' if k > 1 else ''}"
            assert f"kernel · {design.name} · {thread_text} vs scipy loop" in names
            assert f"kernel · {design.name} · {thread_text} vs cached loop" in names
        assert f"cached loop · {design.name} vs scipy loop" in names
        assert any(name.startswith(f"exact power · {design.name}") for name in names)
        assert any(name.startswith(f"kernel share of RNG floor · {design.name} ·") for name in names)
        if max(threads) > 1:
            assert f"threads · {design.name} · 1 → 2" in names
    scaling = [case for case in report["cases"] if case["section"] == "scaling"]
    assert [case["trials"] for case in scaling if "patients_per_trial" not in case] == settings.scaling.trials
    assert [case["patients_per_trial"] for case in scaling if "patients_per_trial" in case] == [
        2 * n for n in settings.scaling.patients_per_group]
    memory = [case for case in report["cases"] if case["section"] == "memory"]
    assert sorted((case["metric"], case["trials"]) for case in memory) == sorted(
        (metric, trials) for metric in ("peak_rss_bytes", "run_traced_peak_bytes")
        for trials in settings.scaling.memory_trials)


def test_each_target_is_judged_once_per_design(quick_run):
    report, _out = quick_run
    targeted = [case for case in report["cases"] if case["target"] is not None]
    designs = len(bench_cases.load_cases(quick=True).designs)
    per_section = {section: sum(case["section"] == section for case in targeted)
                   for section in ("kernel", "exact", "floor", "threads", "memory")}
    expected_threads = designs if max(report["threads"]) > 1 else 0
    assert per_section == {"kernel": 2 * designs, "exact": designs, "floor": designs,
                           "threads": expected_threads, "memory": 2}
    assert report["targets"]["pass"] + report["targets"]["miss"] == len(targeted)


def test_what_is_timed_computes_the_right_answer(quick_run):
    """The kernel's power agrees with exact power; scipy's p-values and decisions match ours."""
    report, _out = quick_run
    for case in report["cases"]:
        if case["section"] in ("kernel", "baselines"):
            assert case["power_agrees"], case
        if case["section"] == "exact":
            assert case["same_decisions"], case
            assert case["max_abs_p_value_difference"] < 1e-9, case
            if not case["extrapolated"]:
                assert case["scipy_power"] == pytest.approx(case["power"], abs=1e-12)


def test_floor_draws_the_kernels_philox_blocks():
    """Naive twin: the floor's per-group tallies from numpy's Philox, block by block."""
    key0, key1, trial_start, n_trials = 2009, 7, 1, 3
    sizes = np.array([4, 2], dtype=np.int64)
    got = philox_floor(np.uint64(key0), np.uint64(key1), np.int64(trial_start), np.int64(n_trials), sizes)
    expected = np.zeros((n_trials, len(sizes)), dtype=np.int64)
    for t in range(n_trials):
        for g, size in enumerate(sizes):
            for i in range(size):
                # numpy increments the counter before each block: counter c gives our block c + 1.
                counter = np.array([trial_start + t - 1, (g << 32) | i, 0, 0], dtype=np.uint64)
                words = np.random.Philox(counter=counter, key=np.array([key0, key1], dtype=np.uint64)).random_raw(4)
                expected[t, g] += int(np.bitwise_xor.reduce(words)) >> 63
    np.testing.assert_array_equal(got, expected)


def test_quick_cases_are_a_subset_of_the_full_ones():
    full, quick = bench_cases.load_cases(), bench_cases.load_cases(quick=True)
    assert [d.name for d in quick.designs] == [d.name for d in full.designs]
    assert max(full.scaling.trials) == 10**7 and min(full.scaling.trials) == 10**4
    assert max(full.scaling.memory_trials) == 10**7 and full.scaling.memory_reference_trials == 10**5


def test_floor_refuses_gamma_washouts():
    """Gamma washouts draw a variable number of blocks, so they have no fixed floor to compare with."""
    from rng_floor import run_floor

    from sim.errors import ScenarioError
    from sim.runner import make_plan
    from sim.scenario import validate_scenario

    scenario = validate_scenario({
        "name": "gamma", "trials": 10, "seed": 1,
        "groups": {"a": {"n": 3, "washout_months": {"distribution": "gamma", "mean": 2.0, "shape": 1.5},
                         "cardiac_event": {"p": 0.2}},
                   "b": {"n": 3, "cardiac_event": {"p": 0.1}}},
        "analyses": [{"compare": "cardiac_event", "groups": ["a", "b"]}],
    })
    with pytest.raises(ScenarioError, match="gamma"):
        run_floor(make_plan(scenario), 0, 10)

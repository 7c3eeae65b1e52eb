"""Sweeps on this machine: grids, validation before any work, results, resume after interruption."""

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_support import invoke
from design_support import ANALYSES, RaiseOn, Recording, write_scenario

import sim.designs.sweep
from sim.designs.sweep import (
    load_grid,
    parse_grid,
    plan_sweep,
    point_stream,
    run_point,
    run_sweep,
    sweep_table,
)
from sim.errors import ScenarioError
from sim.io import to_json
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

SMALL_GRID = {
    "zip": {"groups.prior_tki.n": [12, 20], "groups.prior_bev.n": [12, 20]},
    "product": {"groups.prior_tki.cardiac_event.p_early": [0.6, 0.8]},
}


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    return write_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture
def scenario(scenario_file):
    return load_scenario(scenario_file, overrides={"trials": 1500})


def _grid_file(tmp_path, grid, name="grid.yaml"):
    path = tmp_path / name
    path.write_text(grid if isinstance(grid, str) else yaml.safe_dump(grid, sort_keys=False))
    return path




def _files(directory):
    return {path.relative_to(directory): path.read_bytes() for path in sorted(Path(directory).rglob("*"))
            if path.is_file()}


# --------------------------------------------------------------------------- grids and points


def test_grid_points_zip_outer_product_inner():
    grid = parse_grid({"product": {"a.x": [1, 2], "a.y": ["u", "v"]}, "zip": {"b": [10, 20], "c": [0.1, 0.2]}})
    points = list(grid.points())
    assert grid.size == len(points) == 8
    assert grid.parameters == ("b", "c", "a.x", "a.y")
    assert points[0] == {"b": 10, "c": 0.1, "a.x": 1, "a.y": "u"}
    assert points[1] == {"b": 10, "c": 0.1, "a.x": 1, "a.y": "v"}
    assert points[4] == {"b": 20, "c": 0.2, "a.x": 1, "a.y": "u"}


def test_every_point_uses_the_run_stream_and_keys_the_whole_point(scenario, scenario_file):
    """Issue 11 §9: one stream rule for run, size and sweep (stream 0, common random numbers)."""
    points = plan_sweep(scenario, parse_grid({"product": {"analyses.0.alpha": [0.05, 0.1],
                                                          "groups.prior_tki.n": [20, 21]}}))
    assert {p.stream for p in points} == {0}
    assert all(p.stream == point_stream(p.scenario) for p in points)
    # Every field, the seed and the trials name the result.
    assert len({p.key for p in points}) == 4
    longer = plan_sweep(load_scenario(scenario_file, overrides={"trials": 3000}),
                        parse_grid({"product": {"analyses.0.alpha": [0.05]}}))[0]
    assert longer.key != plan_sweep(scenario, parse_grid({"product": {"analyses.0.alpha": [0.05]}}))[0].key


def test_a_point_equal_to_the_scenario_gives_the_numbers_of_simtrial_run(scenario, scenario_file, tmp_path, capsys):
    """The sweep point whose parameters leave the scenario unchanged equals `simtrial run` of the file."""
    (point,) = plan_sweep(scenario, parse_grid({"product": {"groups.prior_tki.n": [scenario.groups["prior_tki"].n]}}))
    assert point.scenario == scenario
    code, out, _err = invoke(capsys, "run", scenario_file, "--trials", 1500, "--json", "--out", tmp_path)
    assert code == 0
    assert json.loads(to_json(run_point(point)["analyses"])) == json.loads(out)["analyses"]


def test_run_point_is_run_scenario_on_the_point_stream(scenario):
    (point,) = plan_sweep(scenario, parse_grid({"product": {"groups.prior_tki.n": [15]}}))
    record = run_point(point)
    reference = run_scenario(point.scenario, stream=point.stream)
    assert record["analyses"] == [summary.to_dict() for summary in reference.summaries]
    assert record["parameters"] == {"groups.prior_tki.n": 15} and record["trials"] == 1500


# --------------------------------------------------------------------------- bad grids


BAD_GRIDS = {
    "unknown section": ({"prodcut": {"groups.prior_tki.n": [20]}}, r"prodcut: unknown section"),
    "misspelt group": ({"product": {"groups.prior_tkk.n": [20, 30]}},
                       r"point 0 \(groups\.prior_tkk\.n=20\): groups\.prior_tkk: not in the scenario"),
    "unknown field": ({"product": {"groups.prior_tki.cardiac_event.p_erly": [0.5]}},
                      r"point 0 .*groups\.prior_tki\.cardiac_event\.p_erly: unknown field"),
    "bad value in a later point": ({"product": {"groups.prior_tki.n": [20, 0, 30]}},
                                   r"point 1 \(groups\.prior_tki\.n=0\): groups\.prior_tki\.n: .*0"),
    "bad choice": ({"product": {"eligibility.policy": ["defer", "later"]}},
                   r"point 1 \(eligibility\.policy=later\): eligibility\.policy: .*'later'"),
    "probability above one": ({"zip": {"groups.prior_bev.cardiac_event.p": [0.1, 1.5]}},
                              r"point 1 .*groups\.prior_bev\.cardiac_event\.p: .*1\.5"),
    "zip lengths differ": ({"zip": {"groups.prior_tki.n": [20, 30], "groups.prior_bev.n": [20]}},
                           r"zip: lists must have the same length"),
    "empty list": ({"product": {"groups.prior_tki.n": []}}, r"product\.groups\.prior_tki\.n: got \[\]"),
    "path varied twice": ({"product": {"trials": [100]}, "zip": {"trials": [200]}}, r"trials: path also given"),
    "no parameters": ({"product": {}}, r"no parameters"),
    "value where fields are": ({"product": {"groups.prior_tki.n.value": [1]}},
                               r"point 0 .*: groups\.prior_tki\.n: holds a value \(30\), not fields"),
    "not yaml": ("product: [unclosed\n", r"not valid safe YAML"),
    "a list": ("- groups.prior_tki.n\n", r"expected a mapping with 'product' and/or 'zip'"),
}


@pytest.mark.parametrize("case", sorted(BAD_GRIDS))
def test_bad_grid_rejected_before_any_work(capsys, tmp_path, scenario_file, case):
    grid, pattern = BAD_GRIDS[case]
    out_dir = tmp_path / "out"
    code, out, err = invoke(capsys, "sweep", scenario_file, "--grid", _grid_file(tmp_path, grid), "--out", out_dir)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(pattern, lines[0]), lines[0]
    assert not out_dir.exists()


@pytest.mark.parametrize("args,pattern", [
    (["--cluster", "cloud"], r"--cluster: got 'cloud'"),
    (["--cluster", "local", "--scheduler", "tcp://127.0.0.1:1"], r"give one"),
    (["--cluster-config", "x.yaml"], r"--cluster-config: only used with --cluster slurm"),
    (["--cluster", "slurm"], r"--cluster slurm needs --cluster-config"),
    (["--workers", "0"], r"--workers: got 0"),
    (["--workers", "two"], r"--workers: got 'two'"),
    (["--trials", "0"], r"trials: .*0"),
])
def test_bad_sweep_flags(capsys, tmp_path, scenario_file, args, pattern):
    code, out, err = invoke(capsys, "sweep", scenario_file, "--grid", _grid_file(tmp_path, SMALL_GRID),
                            "--out", tmp_path / "out", *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and re.search(pattern, lines[0]), err
    assert not (tmp_path / "out").exists()


def test_missing_grid_flag(capsys, tmp_path, scenario_file):
    code, _, err = invoke(capsys, "sweep", scenario_file, "--out", tmp_path)
    assert code == 2 and err.startswith("error: --grid: required")


# --------------------------------------------------------------------------- running here


def test_sweep_command_writes_table_and_points(capsys, tmp_path, scenario_file):
    grid_path = _grid_file(tmp_path, SMALL_GRID, "small.yaml")
    code, out, err = invoke(capsys, "sweep", scenario_file, "--grid", grid_path, "--out", tmp_path, "--trials", 1500)
    assert code == 0, err
    folder = tmp_path / "tki_vs_bev" / "small"
    frame = pd.read_parquet(folder / "sweep.parquet")
    assert len(frame) == 4 * ANALYSES  # points x analyses
    assert list(frame.columns[:5]) == ["point", "groups.prior_tki.n", "groups.prior_bev.n",
                                       "groups.prior_tki.cardiac_event.p_early", "analysis"]
    assert {"power", "power_se", "exact_power", "mean_width", "exact_mean_width"} <= set(frame.columns)
    compare = frame[frame.analysis == "cardiac_event_prior_tki_vs_prior_bev"]
    assert list(compare["groups.prior_tki.n"]) == [12, 12, 20, 20]
    assert list(compare["groups.prior_tki.cardiac_event.p_early"]) == [0.6, 0.8, 0.6, 0.8]
    assert compare["agrees"].all()
    pd.testing.assert_frame_equal(pd.read_csv(folder / "sweep.csv", dtype={"stream": str, "n": str}),
                                  frame.astype({"rejections": "float64"}), check_dtype=False)
    manifest = json.loads((folder / "sweep.json").read_text())
    assert (manifest["points"], manifest["computed"], manifest["failures"]) == (4, 4, [])
    assert len(list((folder / "points").glob("*.json"))) == 4
    assert not list(folder.rglob(".*tmp"))
    assert "points / minute" in out


def test_results_do_not_depend_on_order(tmp_path, scenario):
    points = plan_sweep(scenario, parse_grid(SMALL_GRID))
    forward = run_sweep(points, tmp_path / "forward")
    backward = run_sweep(list(points)[::-1], tmp_path / "backward")
    assert _files(tmp_path / "forward") == _files(tmp_path / "backward")
    pd.testing.assert_frame_equal(forward.table(), backward.table())


def test_failed_point_reported_while_others_finish(tmp_path, scenario):
    points = plan_sweep(scenario, parse_grid(SMALL_GRID))
    result = run_sweep(points, tmp_path, compute=RaiseOn("groups.prior_tki.n", 20))
    assert [failure.index for failure in result.failures] == [2, 3]
    assert "RuntimeError: injected failure" in result.failures[0].error
    assert sorted(result.table()["point"].unique()) == [0, 1]
    resumed = run_sweep(points, tmp_path, resume=True)  # only the failed points run again
    assert resumed.complete and len(resumed.computed) == 2 and len(resumed.skipped) == 2


def test_sweep_command_lists_failures_and_exits_non_zero(capsys, tmp_path, scenario_file, monkeypatch):
    monkeypatch.setattr(sim.designs.sweep, "run_sweep",
                        functools.partial(sim.designs.sweep.run_sweep, compute=RaiseOn("groups.prior_tki.n", 12)))
    code, out, err = invoke(capsys, "sweep", scenario_file, "--grid", _grid_file(tmp_path, SMALL_GRID, "small.yaml"),
                            "--out", tmp_path, "--trials", 500)
    lines = err.strip().splitlines()
    assert code == 1
    assert lines[0] == "error: 2 of 4 points failed (the others are written; rerun with --resume to retry only these):"
    assert lines[1].startswith("error: point 0 (groups.prior_tki.n=12, groups.prior_bev.n=12, "
                               "groups.prior_tki.cardiac_event.p_early=0.6): RuntimeError")
    folder = tmp_path / "tki_vs_bev" / "small"
    assert sorted(pd.read_parquet(folder / "sweep.parquet")["point"].unique()) == [2, 3]
    assert len(json.loads((folder / "sweep.json").read_text())["failures"]) == 2


def test_interrupted_sweep_resumes_without_recomputing(tmp_path, scenario_file):
    """KeyboardInterrupt after 3 points: those 3 files are complete, nothing partial remains, and
    the resumed run computes exactly the other points, once each."""
    points = plan_sweep(load_scenario(scenario_file, overrides={"trials": 800}),
                        parse_grid({"product": {"groups.prior_tki.n": [10, 11, 12, 13, 14, 15]}}))
    first = Recording()
    finished = []

    def interrupt_after_three(point, status):
        finished.append(point.key)
        if len(finished) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(points, tmp_path, compute=first, on_point=interrupt_after_three)
    written = sorted(p.name for p in (tmp_path / "points").iterdir())
    assert written == sorted(f"{key}.json" for key in first.keys) and len(written) == 3
    # A process killed mid-write (SIGKILL) would leave a temporary file: the next run removes it.
    (tmp_path / "points" / f".{points[4].key}.json.abc123.tmp").write_text('{"key": "trunc')
    before = {name: (tmp_path / "points" / name).stat().st_mtime_ns for name in written}

    second = Recording()
    result = run_sweep(points, tmp_path, compute=second, resume=True)
    assert result.complete and sorted(result.skipped) == sorted(first.keys)
    assert sorted(first.keys + second.keys) == sorted(p.key for p in points)  # each point computed once
    assert {name: (tmp_path / "points" / name).stat().st_mtime_ns for name in written} == before
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    fresh = run_sweep(points, tmp_path / "fresh")
    pd.testing.assert_frame_equal(result.table(), fresh.table())
    assert _files(tmp_path / "points") == _files(tmp_path / "fresh" / "points")


def test_ctrl_c_on_the_command_then_resume(capsys, tmp_path, scenario_file):
    """The real command, interrupted by SIGINT once two points are written, then resumed."""
    grid_path = _grid_file(tmp_path, {"product": {"groups.prior_tki.n": [30, 31, 32, 33, 34, 35]}}, "g.yaml")
    folder = tmp_path / "tki_vs_bev" / "g" / "points"
    command = [sys.executable, "-m", "sim", "sweep", str(scenario_file), "--grid", str(grid_path),
               "--out", str(tmp_path), "--trials", "20000"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len(list(folder.glob("*.json"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    done = sorted(path.name for path in folder.glob("*.json"))
    if proc.returncode == 0:
        pytest.skip("the sweep finished before the interrupt arrived")
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    assert 2 <= len(done) < 6
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert not (folder.parent / "sweep.parquet").exists()
    code, _, err = invoke(capsys, "sweep", scenario_file, "--grid", grid_path, "--out", tmp_path, "--trials", 20000,
                          "--resume")
    assert code == 0, err
    manifest = json.loads((folder.parent / "sweep.json").read_text())
    assert (manifest["skipped"], manifest["computed"]) == (len(done), 6 - len(done))
    assert len(pd.read_parquet(folder.parent / "sweep.parquet")) == 6 * ANALYSES


def test_grid_file_of_the_example_is_valid():
    grid = load_grid(ROOT / "scenarios" / "grids" / "tki_sensitivity.yaml")
    points = plan_sweep(load_scenario(ROOT / "scenarios" / "tki_vs_bev.yaml"), grid)
    assert len(points) == 16 and len({p.key for p in points}) == 16
    assert grid.parameters[:2] == ("groups.prior_tki.n", "groups.prior_bev.n")


def test_sweep_table_parameter_columns_hold_one_type(scenario):
    points = plan_sweep(scenario, parse_grid({"product": {"groups.prior_tki.washout_months": [
        {"distribution": "fixed", "value": 1.0}, {"distribution": "lognormal", "median": 2.0, "sigma": 0.8}]}}))
    result_records = {p.key: run_point(p) for p in points}
    frame = sweep_table(points, json.loads(json.dumps(result_records)))
    assert frame["groups.prior_tki.washout_months"].map(type).eq(str).all()
    frame.to_parquet(Path(os.devnull), engine="pyarrow")  # one type per column: Parquet accepts it


def test_scenario_error_type(scenario):
    with pytest.raises(ScenarioError):
        plan_sweep(scenario, parse_grid({"product": {"groups.prior_tki.n": [-1]}}))

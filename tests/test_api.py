"""The Python API (issue 10 §3), lazy imports (issue 12 §3), and every README example run as written.

The README's ``pycon`` blocks are run as doctests, its ``console`` blocks as commands whose
shown lines must appear in the real output (``...`` stands for lines left out), and its
scenario and grid ``yaml`` blocks must validate.
"""

import doctest
import importlib
import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_support import invoke

import sim

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numba", "scipy", "pandas")


# --------------------------------------------------------------------------- lazy imports


def _heavy_modules_after(code: str) -> list[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


HELP = "from sim.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass"


@pytest.mark.parametrize("code,loaded", [
    ("import sim", []),
    ("import sim.cli", []),
    (HELP.format(args=["--help"]), []),
    (HELP.format(args=["report", "--help"]), []),
    (HELP.format(args=["size", "--help"]), []),
    ("import sim\nsim.Scenario\nsim.ScenarioError\nsim.load_scenario('scenarios/cho2009_retrospective.yaml')", []),
    # Validating washout distributions (the eligible mass of each) uses scipy.stats; still no numba.
    (HELP.format(args=["size", "scenarios/tki_vs_bev.yaml", "--help"]), ["scipy"]),
], ids=["import sim", "import sim.cli", "simtrial --help", "report --help", "size --help", "load a scenario",
        "size SCENARIO --help"])
def test_startup_loads_no_numba_scipy_or_pandas(code, loaded):
    assert _heavy_modules_after(code) == loaded


def test_public_names_resolve_on_first_use():
    for name in sim.__all__:
        assert getattr(sim, name) is not None, name
        assert name in dir(sim)
    from sim import run_scenario, size_study  # noqa: F401 - the classic import still works

    assert sim.run_scenario is importlib.import_module("sim.runner").run_scenario
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sim.nope  # noqa: B018


def test_using_a_name_loads_its_module(tmp_path):
    assert "numba" in _heavy_modules_after("import sim\nsim.run_scenario")


# --------------------------------------------------------------------------- API


def test_with_changes_validates_and_leaves_the_original():
    base = sim.load_scenario(ROOT / "scenarios" / "tki_vs_bev.yaml")
    changed = base.with_changes({"groups.prior_tki.n": 40, "analyses.0.alpha": 0.025,
                                 "groups.prior_bev.cardiac_event": {"p": 0.1}})
    assert (changed.groups["prior_tki"].n, changed.analyses[0].alpha) == (40, 0.025)
    assert changed.groups["prior_bev"].cardiac_event.p == 0.1
    assert base.groups["prior_tki"].n == 30 and base.analyses[0].alpha == 0.05
    with pytest.raises(sim.ScenarioError, match=r"^tki_vs_bev: groups\.prior_tki\.n: .*\(got 0\)$"):
        base.with_changes({"groups.prior_tki.n": 0})
    with pytest.raises(sim.ScenarioError, match=r"washout_months"):  # a cross-check, as for a file
        base.with_changes({"groups.prior_tki.washout_months": None})
    assert sim.validate_scenario(base.to_dict()) == base  # a dict works as well as a file


def test_run_frame_holds_the_summaries_with_numeric_dtypes():
    import pandas as pd

    scenario = sim.load_scenario(ROOT / "scenarios" / "cho2009_retrospective.yaml").with_changes({"trials": 3000})
    result = sim.run_scenario(scenario)
    frame = result.to_frame()
    assert list(frame["analysis"]) == [s.id for s in result.summaries]
    assert {str(frame[c].dtype) for c in ("n_prior_tki", "n_prior_bev_observed", "trials", "rejections")} == {"Int64"}
    assert {str(frame[c].dtype) for c in ("true_rate_prior_tki", "power", "exact_power", "mean_width")} == {"float64"}
    for row, summary in zip(frame.to_dict("records"), result.summaries):
        data = summary.to_dict()
        for group, n in zip(data["groups"], data["n"] if isinstance(data["n"], list) else [data["n"]]):
            assert row[f"n_{group}"] == n
        for name in ("power", "exact_power", "mean_width", "coverage"):
            if data.get(name) is not None:
                assert math.isclose(row[name], data[name], rel_tol=1e-14), name
    historical = frame.set_index("analysis").loc["historical_rate"]
    assert round(historical.exact_power, 3) == 0.118 and historical.n_prior_bev_observed is pd.NA


def test_sizing_frame_is_the_csv(tmp_path):
    import pandas as pd

    from sim.designs.sizing import write_size_outputs

    scenario = sim.load_scenario(ROOT / "scenarios" / "tki_vs_bev.yaml")
    sizing = sim.size_study(scenario, "0", target_power=0.8, size_range=(20, 40))
    frame = sizing.to_frame()
    assert str(frame["n"].dtype) == "Int64" and frame["power"].dtype == "float64"
    write_size_outputs(tmp_path, sizing)
    from_csv = pd.read_csv(tmp_path / f"{sizing.file_stem}.csv")
    assert list(from_csv.columns) == list(frame.columns)
    assert from_csv["exact_power"].tolist() == frame["exact_power"].tolist()


def test_sweep_scenario_takes_a_dict_and_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = sim.load_scenario(ROOT / "scenarios" / "cho2009_retrospective.yaml").with_changes({"trials": 300})
    sweep = sim.sweep_scenario(scenario, {"product": {"groups.prior_tki.n": [15, 30]}})
    assert sweep.complete and list(tmp_path.iterdir()) == []
    table = sweep.table()
    assert list(table["groups.prior_tki.n"].unique()) == [15, 30] and str(table["n_prior_tki"].dtype) == "Int64"
    kept = sim.sweep_scenario(scenario, {"product": {"groups.prior_tki.n": [15, 30]}}, out=tmp_path / "keep")
    assert len(list((tmp_path / "keep" / "points").glob("*.json"))) == 2
    assert kept.table().equals(table)


@pytest.mark.parametrize("module", ["sim.api", "sim.designs.sizing", "sim.designs.single_size", "sim.report.checks", "sim.report.describe",
                                    "sim.report.formats", "sim.report.frames", "sim.report.sweeps",
                                    "sim.scenario.spec"])
def test_docstring_examples_run(module, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# --------------------------------------------------------------------------- README


def _blocks(language: str) -> list[tuple[int, str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(rf"^```{language}\n(.*?)^```", text, re.S | re.M)]


def test_readme_python_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = _blocks("pycon")
    assert blocks, "the README shows the Python API"
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    # One doctest for all the blocks: later blocks use the names earlier ones defined.
    text = "\n".join(block for _, block in blocks)
    runner.run(parser.get_doctest(text, {}, "README.md (pycon blocks)", "README.md", blocks[0][0]))
    assert runner.failures == 0 and runner.tries >= 15


def _matches(expected: list[str], actual: list[str]) -> bool:
    """Each run of expected lines between ``...`` lines appears, contiguous and in order, in ``actual``."""
    segments, current = [], []
    for line in expected:
        if line.strip() == "...":
            segments.append(current)
            current = []
        else:
            current.append(line)
    segments.append(current)
    position = 0
    for segment in segments:
        if not segment:
            continue
        for start in range(position, len(actual) - len(segment) + 1):
            if actual[start: start + len(segment)] == segment:
                position = start + len(segment)
                break
        else:
            return False
    return True


def test_readme_console_examples(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    (tmp_path / "bad.yaml").write_text("product:\n  groups.prior_tki.n: [20, 0]\n")  # the sweep example's grid
    examples = 0
    for line, block in _blocks("console"):
        commands: list[tuple[str, list[str]]] = []
        for text in block.splitlines():
            if text.startswith("$ "):
                commands.append((text[2:], []))
            elif commands:
                commands[-1][1].append(text.rstrip())
        for command, expected in commands:
            words = shlex.split(command)
            assert words[0] == "simtrial", command
            code, out, err = invoke(capsys, *words[1:])
            actual = [text.rstrip() for text in (out + err).splitlines()]
            assert _matches(expected, actual), f"README.md:{line}: {command}\n" + "\n".join(actual)
            examples += 1
    assert examples >= 4


def test_readme_scenario_and_grid_examples_validate():
    from sim.designs.sweep import parse_grid

    checked = 0
    for line, block in _blocks("yaml"):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and "groups" in data and "analyses" in data:
            scenario = sim.validate_scenario(data, source=f"README.md:{line}")
            assert scenario.name != "tki_vs_bev"  # its results would overwrite the shipped scenario's
            checked += 1
        elif isinstance(data, dict) and set(data) <= {"product", "zip"}:
            parse_grid(data)
            checked += 1
    assert checked >= 2

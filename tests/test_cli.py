"""The command line: outputs, JSON keys, and one clean line for every kind of bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_support import invoke


def _write(tmp_path, data, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


COMPARE_KEYS = {"id", "kind", "endpoint", "groups", "test", "alternative", "alpha", "power", "power_se",
                "exact_power"}
ESTIMATE_KEYS = {"id", "kind", "endpoint", "groups", "interval", "level", "true_rate", "mean_width",
                 "median_width", "coverage", "exact_mean_width", "exact_coverage", "p_width_le_target",
                 "p_lower_above_reference", "p_upper_below_reference"}


def test_run_json_and_files(capsys, tmp_path, example_scenario):
    path = _write(tmp_path, dict(example_scenario, trials=2000))
    code, out, err = invoke(capsys, "run", str(path), "--out", str(tmp_path / "out"), "--json", "--seed", "5")
    assert code == 0, err
    summary = json.loads(out)  # stdout holds the JSON and nothing else
    assert summary["scenario"] == "tki_vs_bev" and summary["seed"] == 5 and summary["trials"] == 2000
    compare, estimate = summary["analyses"]
    assert COMPARE_KEYS <= compare.keys() and compare["kind"] == "compare"
    assert ESTIMATE_KEYS <= estimate.keys() and estimate["kind"] == "estimate"
    assert compare["groups"] == ["prior_tki", "prior_bev"]
    written = json.loads((tmp_path / "out" / "tki_vs_bev" / "summary.json").read_text())
    assert written["analyses"] == summary["analyses"]
    assert {"numpy", "numba", "scipy", "simtrial"} <= written["versions"].keys()
    assert written["run_time_seconds"] >= 0
    csv = (tmp_path / "out" / "tki_vs_bev" / "summary.csv").read_text().splitlines()
    assert len(csv) == 3 and "power" in csv[0]
    assert not list((tmp_path / "out" / "tki_vs_bev").glob(".*tmp"))


def test_run_null_fields_when_not_asked(capsys, tmp_path, example_scenario):
    data = dict(example_scenario, trials=500)
    data["analyses"] = [{"estimate": "response", "group": "prior_bev", "interval": "wilson"}]
    code, out, err = invoke(capsys, "run", str(_write(tmp_path, data)), "--out", str(tmp_path), "--json")
    assert code == 0, err
    analysis = json.loads(out)["analyses"][0]
    assert analysis["p_width_le_target"] is None and analysis["p_lower_above_reference"] is None


def test_run_table(capsys, tmp_path, example_scenario):
    path = _write(tmp_path, dict(example_scenario, trials=1000))
    code, out, err = invoke(capsys, "run", str(path), "--out", str(tmp_path), "--threads", "1")
    assert code == 0, err
    assert "power" in out and "exact" in out and "wrote" in out


def test_analyze_reproduces_cho_2009(capsys):
    code, out, _ = invoke(capsys, "analyze", "--group", "prior_tki=6/15", "--group", "prior_bev=0/8", "--json")
    assert code == 0
    report = json.loads(out)
    tki, bev = report["groups"]
    assert (tki["name"], tki["x"], tki["n"]) == ("prior_tki", 6, 15)
    assert [round(v, 3) for v in tki["intervals"]["clopper-pearson"]] == [0.163, 0.677]
    assert [round(v, 2) for v in bev["intervals"]["clopper-pearson"]] == [0.0, 0.37]
    assert set(tki["intervals"]) == {"clopper-pearson", "wilson", "jeffreys"}
    comparison = report["comparisons"][0]
    assert comparison["groups"] == ["prior_tki", "prior_bev"] and comparison["test"] == "fisher"
    assert round(comparison["p_values"]["two-sided"], 3) == 0.058
    assert set(comparison["p_values"]) == {"two-sided", "less", "greater"}

    code, out, _ = invoke(capsys, "analyze", "--group", "all=6/23", "--group", "none=0/23", "--json")
    groups = json.loads(out)["groups"]
    assert [round(v, 3) for v in groups[0]["intervals"]["clopper-pearson"]] == [0.102, 0.484]
    assert [round(v, 3) for v in groups[1]["intervals"]["clopper-pearson"]] == [0.0, 0.148]


def test_analyze_table(capsys):
    code, out, _ = invoke(capsys, "analyze", "--group", "prior_tki=6/15", "--group", "prior_bev=0/8")
    assert code == 0 and "16.3–67.7%" in out and "0.05818" in out


def _set(data, dotted, value):
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(parts[-1])] = value
    elif value is None:
        node.pop(parts[-1])
    else:
        node[parts[-1]] = value


BAD_SCENARIOS = {
    "probability above one": ("groups.prior_bev.cardiac_event.p", 1.2, r"groups\.prior_bev\.cardiac_event\.p: .*1\.2"),
    "negative probability": ("groups.prior_tki.cardiac_event.p_late", -0.1, r"p_late: .*-0\.1"),
    "n below one": ("groups.prior_tki.n", 0, r"groups\.prior_tki\.n: .*0"),
    "fractional n": ("groups.prior_tki.n", 2.5, r"groups\.prior_tki\.n: .*2\.5"),
    "unknown group": ("analyses.0.groups", ["prior_tki", "prior_ipi"], r"analyses\[0\]\.groups\[1\]: got 'prior_ipi'"),
    "unknown endpoint": ("analyses.1.estimate", "death", r"analyses\[1\]\.estimate: .*'death'"),
    "unknown key": ("groups.prior_tki.colour", "red", r"groups\.prior_tki\.colour: unknown field"),
    "bad alternative": ("analyses.0.alternative", "two.sided", r"analyses\[0\]\.alternative: .*'two\.sided'"),
    "bad interval": ("analyses.1.interval", "wald", r"analyses\[1\]\.interval: .*'wald'"),
    "washout model without washout": ("groups.prior_tki.washout_months", None,
                                      r"groups\.prior_tki\.cardiac_event\.model: got 'washout_decay'"),
    "unknown distribution": ("groups.prior_tki.washout_months.distribution", "weibull", r"washout_months: .*'weibull'"),
    "alpha out of range": ("analyses.0.alpha", 1.5, r"analyses\[0\]\.alpha: .*1\.5"),
    "trials zero": ("trials", 0, r"trials: .*0"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_gets_one_line_and_writes_nothing(capsys, tmp_path, example_scenario, case):
    import copy

    dotted, value, pattern = BAD_SCENARIOS[case]
    data = copy.deepcopy(example_scenario)
    _set(data, dotted, value)
    out_dir = tmp_path / "out"
    code, out, err = invoke(capsys, "run", str(_write(tmp_path, data)), "--out", str(out_dir))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    import re
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err
    assert not out_dir.exists()


@pytest.mark.parametrize("content,pattern", [
    ("name: [unclosed\n", r"not valid safe YAML \(line"),
    ("!!python/object/apply:os.system ['echo pwned']\n", r"not valid safe YAML.*python/object"),
    ("- just\n- a list\n", r"expected a mapping"),
    ("name: a\nname: b\n", r"duplicate key 'name'"),
    ("", r"expected a mapping"),
])
def test_unreadable_scenarios(capsys, tmp_path, content, pattern):
    import re
    code, out, err = invoke(capsys, "run", str(_write(tmp_path, content)), "--out", str(tmp_path / "out"))
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and re.search(pattern, err), err
    assert not (tmp_path / "out").exists()


def test_missing_file(capsys, tmp_path):
    code, _, err = invoke(capsys, "run", str(tmp_path / "nope.yaml"))
    assert code == 2 and err.strip() == f"error: {tmp_path / 'nope.yaml'}: file not found"


@pytest.mark.parametrize("args,pattern", [
    (["--trials", "0"], r"trials: .*0"),
    (["--seed", "-1"], r"seed: .*-1"),
    (["--threads", "99"], r"--threads: got 99"),
])
def test_bad_overrides(capsys, tmp_path, example_scenario, args, pattern):
    import re
    path = _write(tmp_path, example_scenario)
    code, _, err = invoke(capsys, "run", str(path), "--out", str(tmp_path / "out"), *args)
    assert code == 2 and re.search(pattern, err) and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("group", ["prior_tki=7/5", "prior_tki:6/15", "prior_tki=6/0"])
def test_analyze_bad_group(capsys, group):
    code, _, err = invoke(capsys, "analyze", "--group", group)
    assert code == 2 and err.startswith("error: --group") and "Traceback" not in err


def test_console_script_and_module_entry_points(tmp_path, example_scenario, root):
    path = _write(tmp_path, dict(example_scenario, trials=300))
    bindir = Path(sys.executable).parent
    script = bindir / "simtrial"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "sim"]
    proc = subprocess.run([*command, "run", str(path), "--json", "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["trials"] == 300
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True, cwd=root)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["tki_vs_bev", "cho2009_retrospective", "selected_after_washout", "washout_effect"])
def test_shipped_scenarios_run_and_agree(capsys, tmp_path, root, name):
    code, out, err = invoke(capsys, "run", str(root / "scenarios" / f"{name}.yaml"), "--json",
                            "--out", str(tmp_path), "--trials", "4000")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["agrees"] is True and summary["scenario"] == name


def test_analyze_values_wilcoxon_matches_scipy(capsys):
    from scipy import stats

    tki, bev = [15, 12, 20, 9, 14, 16, 22, 1], [20, 25, 17, 22, 19]
    code, out, err = invoke(capsys, "analyze", "--values", "prior_tki=" + ",".join(map(str, tki)),
                            "--values", "prior_bev=" + ",".join(map(str, bev)), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["groups"] == [] and [s["name"] for s in report["samples"]] == ["prior_tki", "prior_bev"]
    comparison = report["comparisons"][0]
    assert comparison["test"] == "wilcoxon" and comparison["groups"] == ["prior_tki", "prior_bev"]
    for alternative, p in comparison["p_values"].items():
        ref = stats.mannwhitneyu(tki, bev, alternative=alternative, method="asymptotic").pvalue
        assert p == pytest.approx(ref, abs=1e-12)
    assert comparison["statistic"] == stats.mannwhitneyu(tki, bev).statistic


@pytest.mark.parametrize("args,pattern", [
    (["--values", "a=1,x"], r"--values a: got '1,x'"),
    (["--values", "a"], r"--values: got 'a'"),
    (["--values", "a=1,2", "--values", "b=2,3", "--wilcoxon-method", "exact"], r"without ties"),
    ([], r"at least one --group"),
])
def test_analyze_bad_values(capsys, args, pattern):
    import re
    code, _, err = invoke(capsys, "analyze", *args)
    assert code == 2 and re.search(pattern, err) and "Traceback" not in err


WASHOUT_TEST_ERRORS = {
    "wilcoxon on a binary endpoint": ({"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"],
                                       "test": "wilcoxon"}, r"analyses\[2\]\.compare: got 'cardiac_event'"),
    "fisher on doses": ({"compare": "doses_total", "groups": ["prior_tki", "prior_bev"]},
                        r"analyses\[2\]\.compare: got 'doses_total'; expected a binary endpoint"),
    "doses without a dose model": ({"compare": "doses_total", "groups": ["prior_tki", "prior_bev"],
                                    "test": "wilcoxon"}, r"add groups\.prior_tki\.doses"),
    "one-sided logistic": ({"compare": "cardiac_event", "groups": ["prior_tki"], "test": "logistic_lrt",
                            "alternative": "less"}, r"analyses\[2\]\.alternative: got 'less'"),
    "three groups between": ({"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev", "x"]},
                             r"analyses\[2\]\.groups: .*exactly two groups"),
    "exact on doses": ({"compare": "washout_months", "groups": ["prior_tki", "prior_bev"], "test": "wilcoxon",
                        "method": "exact", "by": "cardiac_event"}, r"analyses\[2\]\.method: got 'exact'"),
}


@pytest.mark.parametrize("case", sorted(WASHOUT_TEST_ERRORS))
def test_bad_washout_analyses(capsys, tmp_path, example_scenario, case):
    import copy
    import re

    analysis, pattern = WASHOUT_TEST_ERRORS[case]
    data = copy.deepcopy(example_scenario)
    data["analyses"].append(analysis)
    code, out, err = invoke(capsys, "run", str(_write(tmp_path, data)), "--out", str(tmp_path / "out"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert re.search(pattern, err), err
    assert not (tmp_path / "out").exists()


def test_yaml_merge_keys_are_supported(capsys, tmp_path, root):
    code, out, err = invoke(capsys, "run", str(root / "scenarios" / "washout_effect.yaml"), "--trials", "200",
                            "--json", "--out", str(tmp_path))
    assert code == 0, err
    assert json.loads(out)["scenario_spec"]["groups"]["tki_120"]["n"] == 120

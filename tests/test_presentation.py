"""What the commands show people (issue 10 §2, §4, §5; issue 9 §4): the design before the results,
tables that fit 80 columns, numbers with the digits they need, sizing flags, CSV columns, progress.

Reference values: 40% against 8.5%, two-sided Fisher at 0.05, needs 32 per group for 80% power
(exact 0.8071) and 41 for 90% (n = 40 gives 0.89987); brute-forced over scipy's fisher_exact in
test_sizing.py. Cho et al.'s 15 against 8 design had exact power 0.118 against 8.5% and 0.2131
against 0% (observed).
"""

import json
import math
import re
from fractions import Fraction
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml
from cli_support import invoke

from sim.analysis.summary import CompareSummary
from sim.report import checks
from sim.report.formats import decimals_at_target, mc_and_exact, p_value, pct, pp, with_se
from sim.report.terminal import LogProgress

CONSTANT = {
    "name": "constant_rates",
    "trials": 2000,
    "seed": 11,
    "groups": {
        "prior_tki": {"n": 30, "cardiac_event": {"p": 0.40}},
        "prior_bev": {"n": 30, "cardiac_event": {"p": 0.085}},
    },
    "analyses": [
        {"compare": "cardiac_event", "groups": ["prior_tki", "prior_bev"], "alternative": "two-sided",
         "alpha": 0.05},
        {"estimate": "cardiac_event", "group": "prior_tki", "interval": "clopper-pearson", "level": 0.95,
         "reference_rate": 0.085, "target_width": 0.30},
    ],
}
COMPARE_ID = "cardiac_event_prior_tki_vs_prior_bev"
ESTIMATE_ID = "cardiac_event_prior_tki_clopper_pearson"


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def constant_file(tmp_path):
    path = tmp_path / "constant_rates.yaml"
    path.write_text(yaml.safe_dump(CONSTANT, sort_keys=False))
    return path


@pytest.fixture
def root_dir(request):
    return request.config.rootpath


# --------------------------------------------------------------------------- formats


def test_rates_in_percent_widths_in_points_and_ses_never_zero():
    assert pct(0.4) == "40.0%" and pp(0.362) == "36.2 pp"
    # An SE of 0.0001 (0.01 points) gets two significant digits, and the estimate as many decimals.
    assert with_se(0.36225, 0.000123, unit="pp") == "36.225 ± 0.012 pp"
    assert with_se(0.7671, 0.0029887) == "76.71% ± 0.30%"
    assert with_se(0.0054, 0.000519) == "0.540% ± 0.052%"
    assert mc_and_exact(0.96515, 0.0029, 0.96238) == ("96.52% ± 0.29%", "96.24%")


def test_digits_at_the_target_never_round_onto_it():
    assert decimals_at_target([0.89987], 0.9) == 2 and pct(0.89987, 2) == "89.99%"
    assert decimals_at_target([0.899999], 0.9) == 4
    assert decimals_at_target([0.807, 0.788], 0.8) == 1  # 80.7% and 78.8% already differ from 80.0%


def test_p_values_have_four_significant_digits():
    assert [p_value(p) for p in (0.0581818, 1.0, 0.5, 0.049577, 2.3e-7)] == [
        "0.05818", "1.000", "0.5000", "0.04958", "2.300e-07"]


# --------------------------------------------------------------------------- checks


def _compare(trials, rejections, exact):
    return CompareSummary(id="a", endpoint="cardiac_event", groups=("a", "b"), test="fisher",
                          alternative="two-sided", alpha=0.05, n=(15, 8), true_rates=(0.4, 0.0), trials=trials,
                          rejections=rejections, exact_power=exact)


def test_a_check_with_too_few_trials_neither_passes_nor_fails():
    # The case: 10 trials, none rejecting, exact power 21%: 4 SE is ±52 points.
    assert checks.check_state(_compare(10, 0, 0.2131)) == checks.TOO_FEW
    assert checks.check_state(_compare(20000, 4262, 0.2131)) == checks.OK
    assert checks.check_state(_compare(20000, 5000, 0.2131)) == checks.OFF  # 25% is 13 SE away
    assert checks.check_state(_compare(10, 0, 0.0)) == checks.OK  # exact 0: the estimate must be 0
    assert checks.check_state(_compare(10, 1, 0.0)) == checks.OFF
    # trials x min(p, 1 - p) >= 10 is the line: 48 trials at 21% fall short, 48 at 25% do not.
    assert not checks.share_checkable(0.2083, 48) and checks.share_checkable(0.25, 48)
    no_exact = SimpleNamespace(kind="compare", exact_power=None, trials=10)
    assert checks.check_state(no_exact) == checks.NO_EXACT


def test_run_with_ten_trials_says_too_few(capsys, tmp_path, root_dir):
    code, out, err = invoke(capsys, "run", root_dir / "scenarios" / "cho2009_retrospective.yaml", "--trials", 10,
                            "--out", tmp_path)
    assert code == 0, err
    row = next(i for i, line in enumerate(out.splitlines()) if line.startswith("observed_rates"))
    assert "too few" in out.splitlines()[row] and "21.31%" in out.splitlines()[row]
    assert "too few trials to check" in " ".join(out.split())
    assert "every Monte Carlo estimate is within 4 SE" not in out


# --------------------------------------------------------------------------- run


def test_run_prints_the_design_before_the_results(capsys, tmp_path, constant_file):
    code, out, err = invoke(capsys, "run", constant_file, "--out", tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    design = next(i for i, line in enumerate(lines) if line.startswith("design: constant_rates"))
    power = next(i for i, line in enumerate(lines) if "power (2,000 trials, seed 11)" in line)
    assert design < power
    assert re.search(r"prior_tki\s+30\s+none\s+40\.0% cardiac_event", out)
    assert re.search(r"prior_bev\s+30\s+none\s+8\.5% cardiac_event", out)
    # The power table: id, then the test with sidedness and alpha; n and true rate per group.
    row = next(i for i, line in enumerate(lines) if line.startswith(COMPARE_ID))
    assert re.search(r"\b30\s+40\.0%\s+\d+\.\d\d%\s+76\.73%", lines[row])
    assert lines[row + 1].startswith("Fisher exact, two-sided, alpha 0.05") and re.search(r"30\s+8\.5%", lines[row + 1])
    assert "true" in out and "rate" in out


def test_run_tables_fit_80_columns_without_cutting_ids(capsys, tmp_path, root_dir):
    code, out, err = invoke(capsys, "run", root_dir / "scenarios" / "tki_vs_bev.yaml", "--trials", 200,
                            "--out", tmp_path)
    assert code == 0, err
    from sim.scenario import load_scenario

    ids = [a.analysis_id for a in load_scenario(root_dir / "scenarios" / "tki_vs_bev.yaml").analyses]
    lines = out.splitlines()
    # Every table and message fits; only the list of written files runs on (paths are not broken).
    assert all(len(line.rstrip()) <= 80 for line in lines if not line.startswith("wrote "))
    assert "…" not in out
    for analysis_id in ids:  # each on a line of its own (the power table row or the interval heading)
        assert any(line.split() and line.split()[0] == analysis_id for line in lines), analysis_id
    assert "check" in out  # the last column of the power table is not cropped
    # Interval tables: the id, then the interval in words, each on one line.
    heading = lines.index(ESTIMATE_ID)
    assert lines[heading + 1].startswith("Clopper–Pearson 95% interval for the cardiac_event rate of prior_tki")
    assert re.search(r"mean width\s+\d+\.\d+ ± \d+\.\d+ pp\s+36\.\d+ pp", out)


def test_set_changes_a_field_and_is_validated(capsys, tmp_path, constant_file):
    code, out, err = invoke(capsys, "run", constant_file, "--set", "groups.prior_tki.n=40",
                            "--set", "analyses.0.alpha=0.1", "--json", "--out", tmp_path)
    assert code == 0, err
    compare = json.loads(out)["analyses"][0]
    assert compare["n"] == [40, 30] and compare["alpha"] == 0.1
    for args, pattern in ((["--set", "groups.prior_tki.n=0"], r"groups\.prior_tki\.n: .*0"),
                          (["--set", "groups.prior_tki.colour=red"], r"groups\.prior_tki\.colour: unknown field"),
                          (["--set", "groups.prior_tki.n"], r"--set: got 'groups\.prior_tki\.n'; expected PATH=VALUE"),
                          (["--set", "groups.prior_tki.n=[1"], r"--set groups\.prior_tki\.n: got '\[1'")):
        out_dir = tmp_path / "bad"
        code, out, err = invoke(capsys, "run", constant_file, *args, "--out", out_dir)
        lines = err.strip().splitlines()
        assert code == 2 and out == "" and len(lines) == 1 and re.search(pattern, lines[0]), err
        assert not out_dir.exists()


def test_summary_csv_has_a_column_per_group_and_clean_numbers(capsys, tmp_path, constant_file):
    code, _, err = invoke(capsys, "run", constant_file, "--out", tmp_path, "--json")
    assert code == 0, err
    path = tmp_path / "constant_rates" / "summary.csv"
    text = path.read_text()
    header = text.splitlines()[0].split(",")
    assert {"n_prior_tki", "n_prior_bev", "true_rate_prior_tki", "true_rate_prior_bev"} <= set(header)
    assert "true_rates" not in header and "n" not in header
    assert ";" not in text.replace("prior_tki;prior_bev", "")  # only the groups' names are joined
    assert not re.search(r"\d\.\d*(9{6,}|0{6,})\d", text), "float noise in summary.csv"
    frame = pd.read_csv(path)
    compare, estimate = frame.iloc[0], frame.iloc[1]
    assert (compare["n_prior_tki"], compare["n_prior_bev"]) == (30, 30) and estimate["n_prior_tki"] == 30
    assert math.isnan(estimate["n_prior_bev"])
    assert compare["true_rate_prior_tki"] == 0.4 and compare["true_rate_prior_bev"] == 0.085
    rows = [line.split(",") for line in text.splitlines()[1:]]
    for name in ("n_prior_tki", "trials", "rejections", "seed"):
        cells = [row[header.index(name)] for row in rows if row[header.index(name)]]
        assert cells and all(re.fullmatch(r"\d+", cell) for cell in cells), (name, cells)


def test_analyze_p_values_share_their_significant_digits(capsys):
    code, out, _ = invoke(capsys, "analyze", "--group", "prior_tki=6/15", "--group", "prior_bev=0/8")
    assert code == 0 and re.search(r"fisher\s+0\.05818\s+1\.000\s+0\.04958", out)


# --------------------------------------------------------------------------- progress


def test_batch_logs_get_a_labelled_line_every_ten_seconds():
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    console = Console(file=buffer, width=200)
    now = [0.0]
    log = LogProgress(console, 100_000, "simulating tki_vs_bev", every=10.0, clock=lambda: now[0])
    for _ in range(4):
        now[0] += 4.0
        log.advance(10_000)
    lines = buffer.getvalue().splitlines()
    assert lines == ["progress simulating tki_vs_bev: 30,000/100,000 trials (30%), 2,500 trials/s, about 28 s left"]
    now[0] += 100.0
    log.advance(1, failed=0)
    assert len(buffer.getvalue().splitlines()) == 2


def test_progress_on_a_non_terminal_is_logged_not_drawn():
    from io import StringIO

    from rich.console import Console

    from sim.report.terminal import trial_progress

    buffer = StringIO()
    console = Console(file=buffer, width=120)
    assert not console.is_terminal
    with trial_progress(console, 10, "sizing x", log_every=0.0, unit="sizes") as advance:
        advance(5)
    assert buffer.getvalue().startswith("progress sizing x: 5/10 sizes (50%)")


# --------------------------------------------------------------------------- size


def test_size_help_lists_the_scenarios_analysis_ids(capsys, root_dir):
    path = root_dir / "scenarios" / "cho2009_retrospective.yaml"
    code, out, _ = invoke(capsys, "size", path, "--help")
    assert code == 0
    for index, analysis_id in enumerate(["observed_rates", "historical_rate", "tki_rate_ci", "bev_rate_ci"]):
        assert re.search(rf"^\s*{index}\s+{analysis_id}\s+(compare|estimate): ", out, re.M), analysis_id
    code, out, _ = invoke(capsys, "size", "--help")
    assert code == 0 and "Put SCENARIO before --help" in " ".join(out.split())
    code, out, err = invoke(capsys, "size", path, "--analysis", "nope", "--target-power", "0.8")
    assert code == 2 and "observed_rates, historical_rate, tki_rate_ci, bev_rate_ci" in err


def test_size_shows_digits_at_the_target(capsys, tmp_path, constant_file):
    code, out, err = invoke(capsys, "size", constant_file, "--analysis", "0", "--target-power", "0.9",
                            "--out", tmp_path)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.strip().startswith("40 "))
    assert "89.99%" in row and row.rstrip().endswith("no")
    assert not re.search(r"90\.0%?\s.*\bno\b", out)


def test_size_curve_is_contiguous_and_total_names_fixed_groups(capsys, tmp_path, root_dir):
    code, out, err = invoke(capsys, "size", root_dir / "scenarios" / "tki_vs_bev.yaml", "--analysis", "1",
                            "--target-width", "0.3", "--assurance", "0.9", "--out", tmp_path)
    assert code == 0, err
    shown = [int(line.split()[0]) for line in out.splitlines()
             if re.match(r"^\s+\d+\s+\d+\.\d%\s+(yes|no)\s*$", line)]
    assert shown == list(range(shown[0], shown[-1] + 1)) and 44 in shown and 47 in shown
    assert "including prior_bev (30, fixed), not shown" in " ".join(out.split())


def test_size_at_one_n(capsys, tmp_path, root_dir):
    out_dir = tmp_path / "out"
    path = root_dir / "scenarios" / "cho2009_retrospective.yaml"
    code, out, err = invoke(capsys, "size", path, "--analysis", "historical_rate", "--n", "15", "--json",
                            "--out", out_dir)
    assert code == 0, err
    data = json.loads(out)
    assert data["sizes"] == {"prior_tki": 15, "prior_bev_observed": 8, "prior_bev_historical": 8}
    assert round(data["point"]["power"], 3) == 0.118 and data["target"] is None and data["meets_target"] is None
    code, out, err = invoke(capsys, "size", path, "--analysis", "historical_rate", "--n", "15",
                            "--target-power", "0.8", "--out", out_dir)
    assert code == 0 and re.search(r"power\s+11\.8\d%", out) and "not met" in out
    code, out, err = invoke(capsys, "size", path, "--analysis", "tki_rate_ci", "--n", "30", "--target-width", "0.3",
                            "--json", "--out", out_dir)
    point = json.loads(out)["point"]
    assert point["exact_mean_width"] == point["mean_width"] and point["p_width_le_target"] is not None
    assert not out_dir.exists()  # --n prints, and writes nothing


def test_dropout_gives_the_number_to_enrol(capsys, tmp_path, constant_file):
    code, out, err = invoke(capsys, "size", constant_file, "--analysis", "0", "--target-power", "0.8",
                            "--dropout", "0.1", "--json", "--out", tmp_path)
    assert code == 0, err
    data = json.loads(out)
    assert (data["n_first"], data["n_stable"], data["dropout"]) == (32, 32, 0.1)
    assert data["enrol_first"] == data["enrol_stable"] == math.ceil(Fraction(32) / (1 - Fraction(1, 10))) == 36
    assert data["enrol_sizes_stable"] == {"prior_tki": 36, "prior_bev": 36}
    frame = pd.read_csv(tmp_path / "constant_rates" / "size_cardiac_event_prior_tki_vs_prior_bev_power0.8_dropout0.1.csv")
    row = frame[frame.n == 27].iloc[0]
    assert (row.enrol_prior_tki, row.enrol_total) == (30, 60)  # 27 / 0.9 = 30 exactly, not 31
    code, out, err = invoke(capsys, "size", constant_file, "--analysis", "0", "--target-power", "0.8",
                            "--dropout", "0.1", "--out", tmp_path)
    assert "enrol" in out and "36, 36" in out and "enrol ceil(n / (1 − 0.1)): prior_tki 36, prior_bev 36" in " ".join(
        out.split())


@pytest.mark.parametrize("value", ["1", "-0.1", "1.5", "x"])
def test_bad_dropout_one_line_nothing_written(capsys, tmp_path, constant_file, value):
    out_dir = tmp_path / "out"
    code, out, err = invoke(capsys, "size", constant_file, "--analysis", "0", "--target-power", "0.8",
                            "--dropout", value, "--out", out_dir)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: --dropout: got"), err
    assert not out_dir.exists()


def test_conservative_checks_the_lower_95_bound(capsys, tmp_path, constant_file):
    args = ["size", constant_file, "--analysis", "0", "--target-power", "0.8", "--method", "monte-carlo",
            "--trials", "1500", "--range", "28:40", "--json", "--out", tmp_path]
    code, out, err = invoke(capsys, *args, "--conservative")
    assert code == 0, err
    sure = json.loads(out)
    code, out, err = invoke(capsys, *args)
    plain = json.loads(out)
    assert sure["conservative"] is True and sure["n_stable"] >= plain["n_stable"]
    frame = pd.read_csv(tmp_path / "constant_rates" /
                        "size_cardiac_event_prior_tki_vs_prior_bev_power0.8_conservative.csv")
    assert ((frame.power - 1.959963984540054 * frame.power_se - frame.power_lower_95).abs() < 1e-12).all()
    assert (frame.meets_target == (frame.power_lower_95 >= 0.8)).all()
    out_dir = tmp_path / "exact"
    code, out, err = invoke(capsys, "size", constant_file, "--analysis", "0", "--target-power", "0.8",
                            "--conservative", "--out", out_dir)
    assert code == 2 and "conservative" in err and len(err.strip().splitlines()) == 1 and not out_dir.exists()


def test_size_files_carry_the_target(capsys, tmp_path, constant_file):
    for power in ("0.8", "0.9"):
        code, _, err = invoke(capsys, "size", constant_file, "--analysis", "0", "--target-power", power,
                              "--out", tmp_path)
        assert code == 0, err
    names = {p.name for p in (tmp_path / "constant_rates").iterdir()}
    for power in ("0.8", "0.9"):
        stem = f"size_{COMPARE_ID}_power{power}"
        assert {f"{stem}.csv", f"{stem}.json", f"{stem}.png"} <= names


# --------------------------------------------------------------------------- figures


def test_size_figure_states_the_assumptions_and_marks_both_sizes(root_dir):
    from matplotlib import pyplot as plt

    from sim.designs.sizing import size_study
    from sim.report.figures import draw_size_figure, size_title, zoom_window
    from sim.scenario import validate_scenario

    scenario = validate_scenario(CONSTANT)
    result = size_study(scenario, "0", target_power=0.8)
    title = size_title(result, scenario.analysis("0"))
    assert "Fisher exact, two-sided, alpha 0.05" in title and "prior_tki 40.0% vs prior_bev 8.5%" in title
    assert zoom_window(result) == (13.5, 48.5)  # from 28 - 14 (the normal approximation's n) to 32 + 16
    fig = draw_size_figure(result, analysis=scenario.analysis("0"))
    ax = fig.axes[0]
    markers = {line.get_marker() for line in ax.lines if list(line.get_xdata()) == [32]}
    assert {"*", "o"} <= markers  # n_stable's star and n_first's ring, both at 32
    assert ax.get_xlim() == (13.5, 48.5)
    plt.close(fig)
    single = size_study(scenario, "0", target_power=0.8, size_range=(15, 15))
    fig = draw_size_figure(single)
    ax = fig.axes[0]
    assert any(list(line.get_xdata()) == [15] and line.get_marker() == "o" for line in ax.lines)
    assert ax.get_xlim()[0] < 15 < ax.get_xlim()[1] and ax.texts  # the value is written beside the point
    plt.close(fig)


def test_sweep_prints_a_table_and_draws_sweep_png(capsys, tmp_path, constant_file):
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"product": {"groups.prior_tki.n": [20, 40],
                                                "groups.prior_tki.cardiac_event.p": [0.3, 0.4]}}, sort_keys=False))
    code, out, err = invoke(capsys, "sweep", constant_file, "--grid", grid, "--trials", 400, "--out", tmp_path)
    assert code == 0, err
    folder = tmp_path / "constant_rates" / "grid"
    assert (folder / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_parquet(folder / "sweep.parquet")
    assert str(table["n_prior_tki"].dtype) == "Int64" and str(table["trials"].dtype) == "Int64"
    assert table["true_rate_prior_tki"].dtype == "float64"
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["point", "n", "p"])
    rows = [line.split() for line in lines[header + 2: header + 6]]
    assert [row[:3] for row in rows] == [["0", "20", "0.3"], ["1", "20", "0.4"], ["2", "40", "0.3"],
                                         ["3", "40", "0.4"]]
    compare = table[table.analysis == COMPARE_ID]
    assert [row[3] for row in rows] == [pct(v) for v in compare["power"]]  # the key number: power
    assert [row[4] for row in rows[:1]] == [f"{100 * table[table.analysis == ESTIMATE_ID]['mean_width'].iloc[0]:.1f}"]
    assert "[1] cardiac_event_prior_tki_vs_prior_bev: power" in out
    assert "p = groups.prior_tki.cardiac_event.p" in out and "n = groups.prior_tki.n" in out


def test_sweep_figure_draws_a_line_per_combination_of_the_others(tmp_path):
    from matplotlib import pyplot as plt

    from sim.designs.sweep import parse_grid
    from sim.report.figures import draw_sweep_figure, sweep_axes

    grid = parse_grid({"zip": {"groups.prior_tki.n": [20, 30, 40], "groups.prior_bev.n": [20, 30, 40]},
                       "product": {"groups.prior_tki.cardiac_event.p": [0.3, 0.4],
                                   "analyses.0.alpha": [0.05, 0.1]}})
    assert sweep_axes(grid) == ("groups.prior_tki.n", ["groups.prior_tki.cardiac_event.p", "analyses.0.alpha"])
    rows = [{"point": i, "groups.prior_tki.n": n, "groups.prior_bev.n": n,
             "groups.prior_tki.cardiac_event.p": p, "analyses.0.alpha": a, "analysis": "x", "kind": "compare",
             "power": 0.5, "power_se": 0.01, "trials": 100}
            for i, (n, p, a) in enumerate((n, p, a) for n in (20, 30, 40) for p in (0.3, 0.4) for a in (0.05, 0.1))]
    fig = draw_sweep_figure(pd.DataFrame(rows), grid)
    ax = fig.axes[0]
    assert len(ax.containers) == 4  # one error-bar line per (p, alpha)
    assert all(list(c.lines[0].get_xdata()) == [20, 30, 40] for c in ax.containers)
    plt.close(fig)


def test_run_tables_show_monitoring_and_unknown_kinds(tmp_path):
    import dataclasses
    from io import StringIO

    from rich.console import Console

    import sim
    from sim.report.formats import mc_and_exact
    from sim.report.terminal import run_tables

    monitored = dict(CONSTANT, trials=3000, monitoring=[
        {"id": "stop_for_toxicity", "group": "prior_tki", "looks": "5:30:5", "stop_at": [3, 4, 5, 6, 7, 8]}])
    result = sim.run_scenario(sim.validate_scenario(monitored))
    (rule,) = result.monitoring
    novel = SimpleNamespace(kind="novelty", id="new_kind", agrees=True,
                            to_dict=lambda: {"id": "new_kind", "kind": "novelty", "assurance": 0.61234})
    result = dataclasses.replace(result, summaries=result.summaries + (novel,))
    buffer = StringIO()
    console = Console(file=buffer, width=80)
    for table in run_tables(result):
        console.print(table)
    text = buffer.getvalue()
    p_stop, exact = mc_and_exact(rule.p_stop, rule.p_stop_se, rule.exact_p_stop)
    assert "stop_for_toxicity" in text
    assert re.search(rf"P\(stop\)\s+{re.escape(p_stop)}\s+{re.escape(exact)}", text)
    assert re.search(r"at look 5 \(≥ 3 events\)\s+[0-9.]+%\s+[0-9.]+%", text)  # stopping at the first look
    assert "enrolment under monitoring" in text
    assert all(len(line.rstrip()) <= 80 for line in text.splitlines())
    assert "new_kind (novelty)" in text and re.search(r"assurance\s+0\.61234", text)

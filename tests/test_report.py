"""``simtrial report`` (issue 10 §1): one self-contained HTML page, checked in a real browser.

The browser test starts headless Chromium (Debian package ``chromium``) on the written file,
reads the rendered DOM (``--dump-dom``), and checks that the page rendered, that every image
decoded (the page's own script marks ``data-images-loaded="k/n"`` on <body> after load), and
that its key numbers are there. Reference numbers: 40% against 8.5%, two-sided Fisher at 0.05,
needs 32 per group for 80% power (exact 0.8071; brute-forced in test_sizing.py); the normal
approximation claims 28, where the exact power is 0.723; the 95% Clopper–Pearson interval at
40% needs 44 patients for an expected width <= 0.30.
"""

import base64
import dataclasses
import html
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from cli_support import invoke

import sim
from sim.report.html import ReportInputs, render_report, scenario_comments, size_for_report, sizing_sentence

ROOT = Path(__file__).resolve().parent.parent

SCENARIO_TEXT = """\
# A two-arm toxicity comparison at the rates of the primary analysis. Sources:
#   [Cho09] Cho DC et al., J Immunother 2009;32(2):181-5
#           (15 after a TKI, 8 after bevacizumab)
#   [CWG]   McDermott DF et al., J Clin Oncol 2005;23(1):133-41
name: report_check
trials: 4000
seed: 5
groups:
  prior_tki:
    n: 30                       # planned per arm
    cardiac_event: {p: 0.40}    # [Cho09] 6/15
  prior_bev:
    n: 30
    # [CWG] historical rate
    cardiac_event: {p: 0.085}
analyses:
  - {compare: cardiac_event, groups: [prior_tki, prior_bev], alternative: two-sided, alpha: 0.05}
  - {estimate: cardiac_event, group: prior_tki, interval: clopper-pearson, level: 0.95, target_width: 0.30}
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium here: install the Debian package `chromium` (apt-get install -y "
                "--no-install-recommends chromium; .ci/run does) to open the report in a browser")


def _browser(page: Path, profile: Path, *options: str) -> subprocess.CompletedProcess:
    command = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", f"--user-data-dir={profile}", *options, page.resolve().as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def written_report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    scenario_file = folder / "report_check.yaml"
    scenario_file.write_text(SCENARIO_TEXT)
    from sim.cli import main

    try:
        main(["report", str(scenario_file), "--out", str(folder / "out"), "--dropout", "0.1"])
    except SystemExit as exc:
        assert exc.code == 0
    return folder / "out" / "report_check" / "report.html"


def test_report_is_one_self_contained_file(written_report):
    text = written_report.read_text(encoding="utf-8")
    assert list(written_report.parent.iterdir()) == [written_report]
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", text)  # nothing fetched
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 2  # the sizing curves of both analyses (constant risks: no risk figure)
    assert all(base64.b64decode(image)[:8] == b"\x89PNG\r\n\x1a\n" for image in images)


def test_report_renders_in_chromium_with_its_images_and_numbers(written_report, tmp_path):
    done = _browser(written_report, tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    images = len(re.findall(r"<img\b", written_report.read_text(encoding="utf-8")))
    assert f'data-images-loaded="{images}/{images}"' in dom, re.findall(r"data-images-loaded=\"[^\"]*\"", dom)
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    text = " ".join(text.split())
    assert ("With 32 patients per group (64 in total), a two-sided Fisher exact test at alpha 0.05 has 80.7% "
            "power to detect a cardiac event rate of 40.0% in prior_tki against 8.5% in prior_bev") in text
    assert "The usual normal-approximation formula would suggest 28, where the exact power is only 72.3%" in text
    assert "enrol 36 patients per group (72 in total)" in text
    assert "With 44 patients in prior_tki, the Clopper–Pearson 95% interval" in text
    assert "76.73%" in text  # the exact power of the planned 30 per group, beside its Monte Carlo estimate
    assert "[Cho09] Cho DC et al., J Immunother 2009;32(2):181-5 (15 after a TKI, 8 after bevacizumab)" in text
    assert "groups.prior_bev.cardiac_event [CWG] historical rate" in text
    shot = tmp_path / "page.png"
    done = _browser(written_report, tmp_path / "profile2", "--hide-scrollbars", "--window-size=1000,1400",
                    f"--screenshot={shot}")
    assert done.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_numbers_come_from_the_run_and_the_sizing():
    scenario = sim.validate_scenario(yaml.safe_load(SCENARIO_TEXT))
    result = sim.run_scenario(scenario)
    sizings = size_for_report(scenario)
    assert [s.analysis.analysis_id for s in sizings] == [a.analysis_id for a in scenario.analyses]
    primary = sizings[0].result
    assert (primary.n_first, primary.n_stable, round(primary.value_at(32), 4)) == (32, 32, 0.8071)
    assert sizings[1].result.n_stable == 44
    page = render_report(ReportInputs(result=result, sizings=sizings, scenario_text=SCENARIO_TEXT))
    compare = result.summaries[0]
    power = f"{100 * compare.power:.2f}% ± {100 * compare.power_se:.2f}%"
    assert power in page and f"{100 * compare.exact_power:.2f}%" in page
    assert "Interim monitoring" not in page  # no monitoring summaries, no section


def test_monitoring_section_renders_the_rules_it_is_given():
    scenario = sim.validate_scenario(yaml.safe_load(SCENARIO_TEXT)).with_changes({"trials": 500})
    result = sim.run_scenario(scenario)
    rule = SimpleNamespace(kind="monitoring", id="stop_for_toxicity", agrees=True, to_dict=lambda: {
        "id": "stop_for_toxicity", "kind": "monitoring", "group": "prior_tki", "p_stop": 0.3125,
        "p_stop_se": 0.0207, "exact_p_stop": 0.3101, "p_stop_by_look": [0.1, 0.25, 0.3125], "expected_n": 24.56})
    page = render_report(ReportInputs(result=dataclasses.replace(result, summaries=result.summaries + (rule,))))
    section = page[page.index('<section id="monitoring">'):]
    section = section[: section.index("</section>")]
    for value in ("stop_for_toxicity", "prior_tki", "31.2% ± 2.1%", "31.0%", "10.0%, 25.0%, 31.2%", "24.6"):
        assert value in section, value


def test_the_sentence_a_protocol_quotes():
    scenario = sim.validate_scenario(yaml.safe_load(SCENARIO_TEXT))
    (sized, _) = size_for_report(scenario, dropout=0.1)
    assert sizing_sentence(sized) == (
        "With 32 patients per group (64 in total), a two-sided Fisher exact test at alpha 0.05 has 80.7% power "
        "to detect a cardiac event rate of 40.0% in prior_tki against 8.5% in prior_bev (exact enumeration over "
        "every outcome; rates marginal over the assumed washout distributions). The usual normal-approximation "
        "formula would suggest 28, where the exact power is only 72.3%. Allowing for 10% of patients not "
        "evaluable, enrol 36 patients per group (72 in total).")


def test_scenario_comments_are_quoted_by_field():
    comments = scenario_comments(SCENARIO_TEXT)
    assert comments["preamble"] == ["A two-arm toxicity comparison at the rates of the primary analysis. Sources:"]
    assert comments["references"] == [
        ("[Cho09]", "Cho DC et al., J Immunother 2009;32(2):181-5 (15 after a TKI, 8 after bevacizumab)"),
        ("[CWG]", "McDermott DF et al., J Clin Oncol 2005;23(1):133-41")]
    assert comments["fields"] == [("groups.prior_tki.n", "planned per arm"),
                                  ("groups.prior_tki.cardiac_event", "[Cho09] 6/15"),
                                  ("groups.prior_bev.cardiac_event", "[CWG] historical rate")]
    shipped = scenario_comments((ROOT / "scenarios" / "tki_vs_bev.yaml").read_text())
    assert [tag for tag, _ in shipped["references"]] == ["[Cho09]", "[Sel]", "[CWG]"]
    assert ("analyses.0", "Primary: is severe cardiac toxicity more frequent after TKI? [Cho09] used two-sided "
                          "Fisher.") in shipped["fields"]


def test_shipped_scenarios_cite_papers_not_files():
    for path in (ROOT / "scenarios").rglob("*.yaml"):
        text = path.read_text()
        assert not re.search(r"seeds/|\.txt\b", text), path


def test_report_refuses_bad_flags_in_one_line(capsys, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO_TEXT)
    for args, pattern in ((["--dropout", "1"], r"--dropout: got 1"), (["--target-power", "2"], r"--target-power"),
                          (["--size", "nope"], r"analysis 'nope' not found")):
        code, out, err = invoke(capsys, "report", path, "--out", tmp_path / "out", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and re.search(pattern, err), err
        assert not (tmp_path / "out").exists()

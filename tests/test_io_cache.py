"""Atomic output files, and a numba cache that never serves a stale kernel."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from sim.io import atomic_path, write_json_atomic


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "a" / "summary.json"
    write_json_atomic(target, {"x": 1})
    write_json_atomic(target, {"x": 2})
    assert target.read_text().strip().endswith("}") and '"x": 2' in target.read_text()
    assert [p.name for p in target.parent.iterdir()] == ["summary.json"]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.json"
    write_json_atomic(target, {"x": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert '"x": 1' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_non_finite_numbers_become_null(tmp_path):
    target = tmp_path / "s.json"
    write_json_atomic(target, {"a": float("nan"), "b": (1, 2)})
    assert target.read_text().replace(" ", "").replace("\n", "") == '{"a":null,"b":[1,2]}'


_PROBE = """
import numpy as np
from sim.kernels import trials
from sim.model import build_patient_model
from sim.scenario import validate_scenario
s = validate_scenario({"name": "c", "trials": 1, "seed": 1,
    "groups": {"a": {"n": 50, "cardiac_event": {"p": 0.2}}, "b": {"n": 5, "cardiac_event": {"p": 0.2}}},
    "analyses": [{"compare": "cardiac_event", "groups": ["a", "b"]}]})
m = build_patient_model(s)
counts = trials.simulate_block(np.uint64(1), np.uint64(0), 0, 100, m.group_int, m.group_real, m.empirical,
                               m.dose_table, m.rules_int, m.rules_looks, m.rules_stop,
                               np.zeros((0, 3), dtype=np.int64), 0)[1]
print(int(counts[:, 0, 0].sum()))
"""


@pytest.mark.slow
def test_edit_to_a_helper_in_another_file_is_not_served_stale(tmp_path, root):
    """numba's own cache checks only the defining file; editing distributions.py must still recompile
    the trial kernel (defined in trials.py) that inlines it."""
    package = tmp_path / "pkg"
    shutil.copytree(root / "sim", package / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(package), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("SIMTRIAL_CACHE_DIR", None)

    def probe() -> int:
        proc = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True,
                              cwd=tmp_path, check=True)
        return int(proc.stdout.strip())

    before = probe()
    assert 500 < before < 1500  # about 100 trials x 50 patients x 0.2
    assert probe() == before  # served from the cache, same answer
    helpers = package / "sim" / "kernels" / "distributions.py"
    source = helpers.read_text()
    edited = source.replace("    if model == RISK_CONSTANT:\n        return a\n",
                            "    if model == RISK_CONSTANT:\n        return 1.0\n")
    assert edited != source
    helpers.write_text(edited)
    assert probe() == 100 * 50  # every patient has the event: the edit took effect


def test_atomic_files_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "s.json", {"x": 1})
    finally:
        os.umask(umask)
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o644


def test_unwritable_kernel_cache_compiles_without_caching(tmp_path):
    """A shared install with a read-only cache folder: kernels compile uncached, with one warning line
    (numba alone would refuse to define them: "cannot cache function ...: no locator available")."""
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")  # a file: no folder can be made under it, even by root
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(
        "name: tiny\ntrials: 50\nseed: 1\n"
        "groups: {a: {n: 5, cardiac_event: {p: 0.3}}, b: {n: 5, cardiac_event: {p: 0.1}}}\n"
        "analyses: [{compare: cardiac_event, groups: [a, b]}]\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(blocker / "cache"))
    env.pop("SIMTRIAL_CACHE_DIR", None)
    for args in (["--help"], ["run", str(scenario), "--json", "--out", str(tmp_path / "out")]):
        proc = subprocess.run([sys.executable, "-m", "sim", *args], env=env, capture_output=True, text=True,
                              cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        warnings = [line for line in proc.stderr.splitlines() if "cannot write the kernel cache" in line]
        assert len(warnings) <= 1 and "Traceback" not in proc.stderr
    assert len(warnings) == 1 and "Not a directory" in warnings[0]
    assert json.loads(proc.stdout)["analyses"][0]["trials"] == 50

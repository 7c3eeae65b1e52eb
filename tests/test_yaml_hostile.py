"""Hostile YAML (issue 11, item 5): alias bombs, recursion, deep nesting and huge files are refused
with one line, before any object is built, in bounded memory. Scenarios, grids and cluster
settings share the reader (sim.scenario.loading.read_yaml), so each is checked through it.

No test here asserts a wall-clock time: the bounds are on memory (tracemalloc in this process,
and an address-space limit in a child process), which an expanding parser would blow through.
"""

import json
import re
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
import yaml
from cli_support import invoke
from design_support import write_scenario

from sim.cluster import read_cluster_config
from sim.designs.sweep import load_grid
from sim.errors import ScenarioError
from sim.scenario import load_scenario, read_yaml
from sim.scenario.loading import MAX_ALIAS_NODES, MAX_YAML_BYTES, MAX_YAML_DEPTH

ROOT = Path(__file__).resolve().parent.parent


def billion_laughs(levels: int) -> str:
    """The classic: each level is a list of nine aliases of the level before (9**levels strings)."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ",".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def deep_list(depth: int) -> str:
    return "[" * depth + "]" * depth + "\n"


def deep_mapping(depth: int) -> str:
    return "{a: " * depth + "1" + "}" * depth + "\n"


HOSTILE = {
    "billion laughs, 9 levels": (billion_laughs(9), r"aliases expand to more than 10,000 values"),
    "billion laughs, 10 levels": (billion_laughs(10), r"aliases expand to more than 10,000 values"),
    "list nested 2,000 deep": (deep_list(2000), r"nested more than 50 levels deep \(line 1, column 51\)"),
    "mapping nested 2,000 deep": (deep_mapping(2000), r"nested more than 50 levels deep"),
    "block mapping nested 2,000 deep": ("".join(" " * i + "a:\n" for i in range(2000)) + " " * 2000 + "1\n",
                                        r"nested more than 50 levels deep \(line 51, column 51\)"),
    "recursive alias": ("a: &a [1, *a]\n", r"alias \*a \(line 1, column 11\) is inside the node it refers to"),
    "recursive merge": ("a: &a {b: 1, c: {<<: *a}}\n", r"alias \*a .* is inside the node it refers to"),
    # Depth reached only through aliases: each anchor nests the one before five levels down.
    "deep through aliases": ("".join(f"a{i}: &a{i} [[[[[{'*a' + str(i - 1) if i else 1}]]]]]\n" for i in range(12)),
                             r"nested more than 50 levels deep"),
}


def test_the_bomb_is_the_size_the_issue_names():
    assert 300 <= len(billion_laughs(9).encode()) <= 520
    assert len(billion_laughs(10).encode()) <= 600


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_yaml_refused_in_bounded_memory(tmp_path, case):
    text, pattern = HOSTILE[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as raised:
            read_yaml(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(raised.value)
    assert len(message.splitlines()) == 1 and message.startswith(f"{path}: "), message
    assert re.search(pattern, message), message
    # Expanding even the 9-level bomb would build 387 million strings; the check keeps a few
    # counters per anchor and the parser's state: well under 2 MB beyond the text itself.
    assert peak < 2 * 2**20 + 3 * len(text), peak


_CHILD = textwrap.dedent("""
    import resource, sys
    from sim.scenario.loading import read_yaml
    from sim.errors import ScenarioError
    # Cap the address space at what is mapped now plus 256 MB: an expanding parser dies at once
    # (MemoryError) instead of taking the machine's memory (the unguarded 514-byte bomb reached 3.3 GB).
    size = int(next(line for line in open("/proc/self/status") if line.startswith("VmSize")).split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + 256 * 2**20, resource.RLIM_INFINITY))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        read_yaml(sys.argv[1])
    except ScenarioError as exc:
        print("refused:", exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("grew_kb:", after - before)
""")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to size the address-space limit")
@pytest.mark.parametrize("case", ["billion laughs, 10 levels", "list nested 2,000 deep"])
def test_hostile_yaml_in_a_process_with_capped_memory(tmp_path, case):
    text, pattern = HOSTILE[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    refused, grew = proc.stdout.strip().splitlines()
    assert refused.startswith("refused:") and re.search(pattern, refused), proc.stdout
    assert int(grew.split()[1]) < 16 * 1024  # resident memory grew by less than 16 MB


def test_file_over_the_size_limit_refused_before_reading(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:  # sparse: no 10 MB written to disk
        handle.truncate(MAX_YAML_BYTES + 1)
    with pytest.raises(ScenarioError, match=r"10,485,761 bytes; expected a YAML file of at most 10 MB"):
        read_yaml(path)


def test_limits_leave_room_for_real_files(tmp_path):
    """An anchor shared by a few groups (washout_effect.yaml's `<<: *tki`), a long empirical washout
    list and 50 levels of nesting are all fine."""
    scenario = load_scenario(ROOT / "scenarios" / "washout_effect.yaml")
    assert scenario.groups["tki_120"].n == 120
    assert scenario.groups["tki_120"].washout_months == scenario.groups["tki_30"].washout_months
    shared = "base: &base {" + ", ".join(f"k{i}: {i}" for i in range(100)) + "}\n"
    uses = "".join(f"u{i}: *base\n" for i in range(MAX_ALIAS_NODES // 201))  # 201 nodes: the map, 100 keys, 100 values
    path = tmp_path / "ok.yaml"
    path.write_text(shared + uses + "values: [" + ", ".join(["1.5"] * 100_000) + "]\n"
                    + "deep: " + deep_list(MAX_YAML_DEPTH - 1))
    data = read_yaml(path)
    assert len(data["values"]) == 100_000 and data[f"u{MAX_ALIAS_NODES // 201 - 1}"]["k99"] == 99


@pytest.mark.parametrize("case", ["billion laughs, 9 levels", "list nested 2,000 deep", "recursive alias"])
def test_every_yaml_input_is_guarded(capsys, tmp_path, case):
    """The scenario, the grid and the SLURM settings: one line, exit 2, nothing written."""
    text, pattern = HOSTILE[case]
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(text)
    scenario = write_scenario(tmp_path)
    out_dir = tmp_path / "out"
    for args in (["run", hostile], ["sweep", scenario, "--grid", hostile],
                 ["sweep", scenario, "--grid", hostile, "--cluster", "slurm", "--cluster-config", hostile]):
        code, out, err = invoke(capsys, *args, "--out", out_dir)
        lines = err.strip().splitlines()
        assert code == 2 and out == "" and len(lines) == 1 and "Traceback" not in err, (args, err)
        assert re.search(pattern, lines[0]) and str(hostile) in lines[0], lines[0]
        assert not out_dir.exists()
    with pytest.raises(ScenarioError, match=pattern):
        load_grid(hostile)
    with pytest.raises(ScenarioError, match=pattern):
        read_cluster_config(hostile)


def test_an_alias_bomb_inside_a_valid_scenario(capsys, tmp_path):
    """The bomb hidden in a field of an otherwise valid scenario is refused for what it is, not
    as a type error found after building it."""
    data = yaml.safe_load(write_scenario(tmp_path).read_text())
    text = billion_laughs(9).replace("a0:", "x-a0:")
    for level in range(1, 9):
        text = text.replace(f"\na{level}:", f"\nx-a{level}:")
    path = tmp_path / "bomb_in_scenario.yaml"
    path.write_text(text + yaml.safe_dump(data, sort_keys=False).replace("name: tki_vs_bev", "name: *a8"))
    code, _, err = invoke(capsys, "run", path, "--out", tmp_path / "out")
    assert code == 2 and re.search(r"aliases expand to more than", err) and len(err.strip().splitlines()) == 1


def test_undefined_alias_and_plain_errors_still_read_as_yaml_errors(tmp_path):
    path = tmp_path / "undefined.yaml"
    path.write_text("a: *nowhere\n")
    with pytest.raises(ScenarioError, match=r"not valid safe YAML \(line 1, column 4\): found undefined alias"):
        read_yaml(path)
    assert json.loads(json.dumps(read_yaml(ROOT / "scenarios" / "grids" / "tki_sensitivity.yaml")))

"""Failure behaviour (issue 11): interrupts, concurrent use, failed writes, damaged point files,
strict types, bad flags, grid folder names, and outputs never overwritten silently (issue 10 §4).

Interrupts are real SIGINTs sent to a real ``simtrial`` process; races use two processes, one of
them paused (SIGSTOP) while it holds its folder; full and read-only disks are tmpfs mounts where
this machine allows them (skipped, with the reason, where it does not). No test asserts a
wall-clock time.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from cli_support import invoke
from design_support import write_scenario

import sim.runner
from sim import io
from sim.designs.points import record_problem, seal_record
from sim.designs.sweep import (
    code_version,
    grid_folder_name,
    load_grid,
    parse_grid,
    plan_sweep,
    point_path,
    run_point,
    run_sweep,
)
from sim.errors import UsageError
from sim.folders import LOCK_NAME, SCENARIO_MARK, folder_lock, remove_stale_temporaries
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

SMALL = {
    "name": "small",
    "trials": 2000,
    "seed": 11,
    "groups": {"a": {"n": 10, "cardiac_event": {"p": 0.2}}, "b": {"n": 10, "cardiac_event": {"p": 0.5}}},
    "analyses": [{"compare": "cardiac_event", "groups": ["a", "b"]},
                 {"estimate": "cardiac_event", "group": "a", "interval": "wilson"}],
}
GRID = {"product": {"groups.a.n": [8, 9], "groups.b.n": [10, 11]}}


def _write_yaml(path: Path, data) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def small(tmp_path):
    return _write_yaml(tmp_path / "small.yaml", SMALL)


@pytest.fixture
def grid(tmp_path):
    return _write_yaml(tmp_path / "g.yaml", GRID)


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _temporaries(folder: Path) -> list:
    return [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp")]


def _wait_for(condition, proc, timeout=180.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _simtrial(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim", *map(str, args)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout=120) -> tuple:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- 1. Ctrl-C


def test_ctrl_c_during_a_run_exits_130_and_writes_nothing(tmp_path, small):
    """SIGINT while the kernels run: exit 130, the one line "interrupted", no traceback, and no
    output folder left behind (it was created by this run, which finished nothing)."""
    out_dir = tmp_path / "out"
    # Kernels cached first, whatever ran before: the signal must land in the kernels, not in a first
    # compile (which prints its own line and holds the interrupt until it ends).
    subprocess.run([sys.executable, "-m", "sim", "run", str(small), "--trials", "10", "--out", str(tmp_path / "warm")],
                   cwd=ROOT, check=True, capture_output=True)
    proc = _simtrial("run", small, "--trials", 10**9, "--out", out_dir)
    try:
        # The lock file appears once the folder is checked and held, right before computing.
        assert _wait_for(lambda: (out_dir / "small" / LOCK_NAME).exists(), proc), proc.stderr.read()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
    finally:
        _, err = _finish(proc)
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted"
    assert not out_dir.exists()


def test_ctrl_c_during_a_sweep_stops_it_and_says_how_to_continue(capsys, tmp_path):
    """SIGINT while a point's kernel runs: the sweep stops (the point is not recorded as failed,
    no other point starts, no sweep table is written), says how many points are complete, and
    --resume finishes the rest."""
    scenario = write_scenario(tmp_path)
    grid_path = _write_yaml(tmp_path / "g.yaml", {"product": {"groups.prior_tki.n": [30, 31, 32, 33, 34, 35]}})
    folder = tmp_path / "out" / "tki_vs_bev" / "g"
    proc = _simtrial("sweep", scenario, "--grid", grid_path, "--out", tmp_path / "out", "--trials", 400_000)
    try:
        assert _wait_for(lambda: len(list((folder / "points").glob("*.json"))) >= 1, proc), proc.stderr.read()
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
    finally:
        _, err = _finish(proc)
    done = len(list((folder / "points").glob("*.json")))
    if proc.returncode == 0:
        pytest.skip("the sweep finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert _one_line(err) == f"interrupted: {done} of 6 points are complete; rerun with --resume to continue"
    assert 1 <= done < 6
    assert not (folder / "sweep.json").exists() and not _temporaries(tmp_path)
    code, _, err = invoke(capsys, "sweep", scenario, "--grid", grid_path, "--out", tmp_path / "out",
                          "--trials", 400_000, "--resume")
    assert code == 0, err
    manifest = io.read_unit(folder, "sweep.json")
    assert (manifest["skipped"], manifest["computed"], manifest["failures"]) == (done, 6 - done, [])


def test_ctrl_c_in_the_terminal_of_a_local_cluster_sweep(tmp_path, small):
    """Ctrl-C in a terminal reaches the whole process group, Dask's worker processes included: the
    workers ignore it (they would print tracebacks), the command prints its one line."""
    grid_path = _write_yaml(tmp_path / "g.yaml", {"product": {"groups.a.n": [5, 6, 7, 8, 9, 10]}})
    folder = tmp_path / "out" / "small" / "g"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(small), "--grid", str(grid_path), "--out",
                             str(tmp_path / "out"), "--trials", "3000000", "--cluster", "local", "--workers", "2"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's job
    try:
        assert _wait_for(lambda: len(list((folder / "points").glob("*.json"))) >= 1, proc), proc.stderr.read()
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        _, err = _finish(proc)
    done = len(list((folder / "points").glob("*.json")))
    if proc.returncode == 0:
        pytest.skip("the sweep finished before the interrupt arrived")
    assert proc.returncode == 130, err
    assert _one_line(err) == f"interrupted: {done} of 6 points are complete; rerun with --resume to continue"


def _interrupt_in_kernel(point):
    """What numba's parallel kernels raise when Ctrl-C lands inside them."""
    if dict(point.parameters)["groups.a.n"] == 9:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(<function simulate_trials>) returned a result with an "
                              "exception set") from exc
    return run_point(point)


def _interrupt_in_thread(point):
    if dict(point.parameters)["groups.a.n"] == 9:
        raise KeyboardInterrupt  # a worker thread's future holds it
    return run_point(point)


@pytest.mark.parametrize("compute", [_interrupt_in_kernel, _interrupt_in_thread])
@pytest.mark.parametrize("threads", [None, 2])
def test_an_interrupt_is_never_a_point_failure(tmp_path, small, compute, threads):
    points = plan_sweep(load_scenario(small, overrides={"trials": 300}), parse_grid(GRID))
    executor = ThreadPoolExecutor(threads) if threads else None
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sweep(points, tmp_path, executor=executor, compute=compute, max_in_flight=1)
    finally:
        if executor:
            executor.shutdown(cancel_futures=True)
    # Points 0 and 1 (groups.a.n = 8) finished and are complete; nothing after the interrupt ran.
    assert sorted(p.name for p in (tmp_path / "points").iterdir()) == sorted(f"{p.key}.json" for p in points[:2])


def test_a_numba_interrupt_error_reads_interrupted(capsys, monkeypatch, tmp_path, small):
    """However the interrupt surfaces (here as numba's SystemError), the command says "interrupted"."""
    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("CPUDispatcher(...) returned a result with an exception set") from exc

    monkeypatch.setattr(sim.runner, "run_scenario", interrupted)
    code, out, err = invoke(capsys, "run", small, "--out", tmp_path / "out")
    assert (code, out, err.strip()) == (130, "", "interrupted")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- 2. concurrent use


_HOLD_LOCK = textwrap.dedent("""
    import sys
    from sim.folders import folder_lock
    with folder_lock(sys.argv[1]):
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes stdin (or kills this process)
""")


def _lock_holder(folder: Path) -> subprocess.Popen:
    folder.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(folder)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_sweep_on_a_folder_refuses_while_the_first_is_paused(capsys, tmp_path, small, grid):
    """Sweep A is stopped (SIGSTOP) halfway; sweep B on the same folder refuses at once, naming the
    folder and A's PID, and touches nothing; A, continued, finishes whole."""
    out_dir, folder = tmp_path / "out", tmp_path / "out" / "small" / "g"
    first = _simtrial("sweep", small, "--grid", grid, "--out", out_dir, "--trials", 2_000_000)
    try:
        assert _wait_for(lambda: len(list((folder / "points").glob("*.json"))) >= 1, first), first.stderr.read()
        first.send_signal(signal.SIGSTOP)
        before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
        code, out, err = invoke(capsys, "sweep", small, "--grid", grid, "--out", out_dir, "--trials", 2_000_000)
        assert code == 1 and out == ""
        assert _one_line(err) == (f"error: {folder}: in use by another simtrial process (PID {first.pid}); wait for "
                                  f"it to finish (or pass --wait), or write elsewhere with --out")
        assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGCONT)
        _, first_err = _finish(first, timeout=300)
    assert first.returncode == 0, first_err
    manifest = io.read_unit(folder, "sweep.json")
    assert manifest is not None and (manifest["computed"], manifest["failures"]) == (4, [])
    assert not _temporaries(folder)


def test_run_refuses_a_held_folder_and_waits_with_wait(capsys, tmp_path, small):
    folder = tmp_path / "out" / "small"
    holder = _lock_holder(folder)
    try:
        code, _, err = invoke(capsys, "run", small, "--out", tmp_path / "out")
        assert code == 1 and f"in use by another simtrial process (PID {holder.pid})" in _one_line(err)
        assert not (folder / "summary.json").exists()
        # --wait: released by the holder a moment later, then the run goes ahead.
        threading.Timer(1.0, holder.stdin.close).start()
        code, _, err = invoke(capsys, "run", small, "--out", tmp_path / "out", "--wait")
        assert code == 0, err
        assert f"note: waiting for PID {holder.pid}" in err
        assert io.read_unit(folder, "summary.json")["trials"] == 2000
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_dies_with_its_process(capsys, tmp_path, small):
    holder = _lock_holder(tmp_path / "out" / "small")
    holder.kill()  # SIGKILL: no cleanup of any kind; the OS drops the lock
    holder.wait()
    code, _, err = invoke(capsys, "run", small, "--out", tmp_path / "out")
    assert code == 0, err


def test_only_temporaries_of_dead_processes_are_removed(tmp_path):
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        names = {"live": f".summary.csv.{alive.pid}.abc_123.tmp", "mine": f".summary.csv.{os.getpid()}.x1.tmp",
                 "dead": f".summary.csv.{dead.pid}.q9z.tmp", "legacy": ".summary.csv.k2j4.tmp"}
        for name in names.values():
            (tmp_path / name).write_text("partial")
        removed = remove_stale_temporaries(tmp_path)
        assert sorted(p.name for p in removed) == sorted([names["dead"], names["legacy"]])
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names["live"], names["mine"]])
    finally:
        alive.kill()
        alive.wait()


def test_temporaries_carry_the_writers_pid(tmp_path):
    with io.atomic_path(tmp_path / "x.json") as tmp:
        assert re.fullmatch(rf"\.x\.json\.{os.getpid()}\.[A-Za-z0-9_]+\.tmp", tmp.name)
        assert io.TEMPORARY_NAME.match(tmp.name)["pid"] == str(os.getpid())


def test_the_lock_nests_within_a_process_and_records_the_holder(tmp_path):
    with folder_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
        with folder_lock(tmp_path):  # run_sweep inside the sweep command
            pass
        assert (tmp_path / LOCK_NAME).read_text().strip() == str(os.getpid())
    assert (tmp_path / LOCK_NAME).read_text() == ""


# --------------------------------------------------------------------------- 3. writes


_KILLED_COMMITS = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    from sim import io

    def files(run):
        return {name: (lambda path, name=name: path.write_text(f"{run} {name}\\n")) for name in ("a.csv", "b.csv")}

    for kill_at in range(int(sys.argv[2])):
        folder = Path(sys.argv[1]) / str(kill_at)
        folder.mkdir()
        io.write_unit(folder, files("old"), manifest="m.json", data={"run": "old"})
        child = os.fork()
        if child == 0:  # dies at its kill_at-th removal or rename while committing run "new"
            calls = [0]
            def dying(real):
                def call(*args, **kwargs):
                    if calls[0] == kill_at:
                        os._exit(9)
                    calls[0] += 1
                    return real(*args, **kwargs)
                return call
            os.unlink, os.replace = dying(os.unlink), dying(os.replace)
            io.write_unit(folder, files("new"), manifest="m.json", data={"run": "new"})
            os._exit(0)
        os.waitpid(child, 0)
""")


def test_a_run_killed_while_committing_never_leaves_a_mix(tmp_path):
    """write_unit removes and renames 6 times for two files and a manifest; a process killed before
    each of them (and one not killed) leaves files of one run only, and a manifest only when whole."""
    steps = 7
    subprocess.run([sys.executable, "-c", _KILLED_COMMITS, str(tmp_path), str(steps)], cwd=ROOT, check=True,
                   timeout=300)
    seen = []
    for kill_at in range(steps):
        folder = tmp_path / str(kill_at)
        remove_stale_temporaries(folder)  # the next command's clean-up: the killed writer is dead
        names = sorted(p.name for p in folder.iterdir())
        runs = {(folder / name).read_text().split()[0] for name in ("a.csv", "b.csv") if (folder / name).exists()}
        manifest = io.read_unit(folder, "m.json")
        assert len(runs) <= 1, (kill_at, names, runs)
        if (folder / "m.json").exists():
            assert manifest is not None and names == ["a.csv", "b.csv", "m.json"] and runs == {manifest["run"]}
        else:
            assert manifest is None
        seen.append((manifest or {}).get("run"))
    assert seen[0] == "old" and seen[-1] == "new" and None in seen  # both ends and the gap were hit


def test_run_outputs_are_one_unit(capsys, tmp_path, small):
    code, out, err = invoke(capsys, "run", small, "--out", tmp_path, "--json")
    folder = tmp_path / "small"
    assert code == 0, err
    assert out == (folder / "summary.json").read_text()  # --json prints summary.json itself
    manifest = io.read_unit(folder, "summary.json")
    assert manifest["files"]["summary.csv"]["sha256"] == io.file_digest(folder / "summary.csv")
    (folder / "summary.csv").write_text((folder / "summary.csv").read_text().replace("small", "smalL"))
    assert io.read_unit(folder, "summary.json") is None  # a csv that is not the manifest's


def test_size_outputs_are_one_unit(capsys, tmp_path, small):
    code, _, err = invoke(capsys, "size", small, "--analysis", "0", "--target-power", "0.8", "--range", "10:12",
                          "--out", tmp_path)
    assert code == 0, err
    folder = tmp_path / "small"
    manifests = sorted(folder.glob("size_*.json"))
    assert len(manifests) == 1
    stem = manifests[0].stem
    manifest = io.read_unit(folder, manifests[0].name)
    assert set(manifest["files"]) == {f"{stem}.csv", f"{stem}.png"}
    assert manifest["files"][f"{stem}.png"]["sha256"] == io.file_digest(folder / f"{stem}.png")
    (folder / f"{stem}.png").write_bytes(b"not the plot")
    assert io.read_unit(folder, manifests[0].name) is None


def test_out_pointing_at_a_file(capsys, tmp_path, small, grid):
    target = tmp_path / "a_file"
    target.write_text("keep me")
    for args in (["run", small], ["sweep", small, "--grid", grid],
                 ["size", small, "--analysis", "0", "--target-power", "0.8"]):
        code, out, err = invoke(capsys, *args, "--out", target)
        assert code == 2 and out == ""
        assert _one_line(err) == (f"error: --out: {target} is a file, not a folder; expected a folder (or a path "
                                  f"to create)")
    assert target.read_text() == "keep me"


def _mount_tmpfs(folder: Path, options: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command here to make a small tmpfs")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {proc.stderr.strip()}")


@pytest.fixture
def tmpfs(tmp_path):
    """A 1 MB tmpfs (ENOSPC is easy to reach), unmounted afterwards."""
    mounted = []

    def mount(name="disk", options="size=1m"):
        folder = tmp_path / name
        _mount_tmpfs(folder, options)
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _fill(disk: Path, leave: int = 0) -> None:
    """Fill a tmpfs to the last byte, then free ``leave`` bytes."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    if leave:
        os.truncate(disk / "filler", max(0, (disk / "filler").stat().st_size - leave))


@pytest.fixture
def read_only(tmp_path, tmpfs):
    """A folder this process cannot write in: a read-only tmpfs (root ignores permissions), or mode 0555."""
    if os.geteuid() == 0:
        yield tmpfs("read_only", "size=1m,ro")
        return
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


def test_read_only_output_folder_refused_before_computing(capsys, monkeypatch, small, read_only):
    def must_not_run(*args, **kwargs):
        raise AssertionError("computed before checking the output folder")

    monkeypatch.setattr(sim.runner, "run_scenario", must_not_run)
    code, out, err = invoke(capsys, "run", small, "--out", read_only)
    assert code == 2 and out == ""
    assert re.fullmatch(rf"error: --out: cannot create {re.escape(str(read_only / 'small'))}: "
                        rf"(Read-only file system|Permission denied)", _one_line(err))


def test_full_disk_after_computing_keeps_the_previous_run_whole(capsys, small, tmpfs):
    disk = tmpfs()
    assert invoke(capsys, "run", small, "--out", disk)[0] == 0
    before = io.read_unit(disk / "small", "summary.json")
    _fill(disk)
    code, out, err = invoke(capsys, "run", small, "--out", disk, "--trials", 3000)
    assert code == 1 and out == ""
    assert _one_line(err) == f"error: cannot write {disk / 'small' / 'summary.csv'}: No space left on device"
    assert io.read_unit(disk / "small", "summary.json") == before  # the earlier run, whole
    assert not _temporaries(disk)


def test_full_disk_during_a_sweep(capsys, small, grid, tmpfs):
    disk = tmpfs()
    _fill(disk, leave=16 * 1024)
    code, out, err = invoke(capsys, "sweep", small, "--grid", grid, "--out", disk, "--trials", 300)
    assert code == 1
    line = _one_line(err)
    assert re.fullmatch(rf"error: cannot write {re.escape(str(disk / 'small' / 'g'))}/\S+: No space left on "
                        rf"device; [0-3] of 4 points are complete; rerun with --resume to continue", line), line
    assert not (disk / "small" / "g" / "sweep.json").exists() and not _temporaries(disk)
    os.unlink(disk / "filler")
    code, _, err = invoke(capsys, "sweep", small, "--grid", grid, "--out", disk, "--trials", 300, "--resume")
    assert code == 0, err
    assert io.read_unit(disk / "small" / "g", "sweep.json")["finished"] == 4


# --------------------------------------------------------------------------- 4. damaged point files


def test_damaged_point_files_are_recomputed_and_counted(capsys, tmp_path, small, grid):
    args = ["sweep", small, "--grid", grid, "--out", tmp_path / "out", "--trials", 300]
    assert invoke(capsys, *args)[0] == 0
    folder = tmp_path / "out" / "small" / "g"
    points = plan_sweep(load_scenario(small, overrides={"trials": 300}), load_grid(grid))
    fresh = {p.name: p.read_bytes() for p in (folder / "points").iterdir()}
    files = [point_path(folder, point.key) for point in points]
    changed = json.loads(files[0].read_text())
    changed["analyses"][0]["power"] = round(changed["analyses"][0]["power"] + 0.01, 6)  # valid JSON, one number
    files[0].write_text(json.dumps(changed))
    missing = json.loads(files[1].read_text())
    del missing["analyses"]  # a key missing (with a recomputed digest: the shape check catches it)
    missing["digest"] = seal_record({k: v for k, v in missing.items() if k != "digest"},
                                    missing["code_version"])["digest"]
    files[1].write_text(json.dumps(missing))
    files[2].write_text(files[2].read_text()[:100])  # truncated
    code, _, err = invoke(capsys, *args, "--resume")
    assert code == 0, err
    assert "note: recomputed 3 damaged point(s)" in err and "Traceback" not in err
    manifest = io.read_unit(folder, "sweep.json")
    assert (manifest["damaged_recomputed"], manifest["skipped"], manifest["computed"]) == (3, 1, 3)
    assert {p.name: p.read_bytes() for p in (folder / "points").iterdir()} == fresh  # the same numbers again


def test_record_checks(tmp_path, small):
    (point,) = plan_sweep(load_scenario(small, overrides={"trials": 200}), parse_grid({"product": {"seed": [3]}}))
    code = code_version()
    record = seal_record(run_point(point), code)
    assert record_problem(record, point, code) is None
    assert record_problem({**record, "trials": 201}, point, code) == "digest does not match the content"
    other = seal_record({**record, "key": "0" * 24}, code)
    assert record_problem(other, point, code) == "key is not this point's"
    older = seal_record(record, {**code, "numerics": "0" * 16})
    assert record_problem(older, point, code) == "code_version is not this point's"
    assert record_problem([record], point, code) == "not a JSON object"


# --------------------------------------------------------------------------- 8. --scheduler


@pytest.mark.parametrize("address", ["notanaddress", "tcp://127.0.0.1", "tcp://host:0", "tcp://host:70000",
                                     "http://127.0.0.1:8786", "tcp://:8786", ""])
def test_scheduler_address_checked_before_connecting(capsys, tmp_path, small, grid, address):
    code, _, err = invoke(capsys, "sweep", small, "--grid", grid, "--out", tmp_path / "out", "--scheduler", address)
    assert code == 2
    assert _one_line(err) == (f"error: --scheduler: got {address!r}; expected a Dask scheduler address such as "
                              f"tcp://127.0.0.1:8786 (tcp://, tls:// or ucx://HOST:PORT, or inproc://...)")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- 10. types


STRICT = {
    "trials: true": ("trials", True, r"trials: expected a whole number, not true/false \(got True\)"),
    "seed: true": ("seed", True, r"seed: expected a whole number, not true/false \(got True\)"),
    "trials as text": ("trials", "1000", r"trials: expected a whole number, not text in quotes \(got '1000'\)"),
    "n as text": ("groups.a.n", "30", r"groups\.a\.n: expected a whole number, not text in quotes \(got '30'\)"),
    "n as a whole float": ("groups.a.n", 30.0, r"groups\.a\.n: expected a whole number; write 30, without a "
                                               r"decimal point \(got 30\.0\)"),
    "n false": ("groups.a.n", False, r"groups\.a\.n: expected a whole number, not true/false \(got False\)"),
    "doses per course true": ("groups.a.doses", {"per_course": True, "p_dose": 0.9},
                              r"groups\.a\.doses\.per_course: expected a whole number, not true/false "
                              r"\(got True\)"),
}


@pytest.mark.parametrize("case", sorted(STRICT))
def test_counts_are_strict_whole_numbers(capsys, tmp_path, case):
    dotted, value, pattern = STRICT[case]
    data = json.loads(json.dumps(SMALL))
    node = data
    *parents, last = dotted.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    code, out, err = invoke(capsys, "run", _write_yaml(tmp_path / "s.yaml", data), "--out", tmp_path / "out")
    assert code == 2 and out == ""
    assert re.fullmatch(rf"error: {re.escape(str(tmp_path / 's.yaml'))}: {pattern}", _one_line(err)), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,line", [
    (["--trials", "-5"], "error: --trials: Input should be greater than or equal to 1 (got -5)"),
    (["--trials", "abc"], "error: --trials: got 'abc'; expected a whole number"),
    (["--trials", "1e3"], "error: --trials: got '1e3'; expected a whole number"),
    (["--seed", "-1"], "error: --seed: Input should be greater than or equal to 0 (got -1)"),
    (["--threads", "x"], "error: --threads: got 'x'; expected a whole number"),
])
def test_bad_override_flags_name_the_flag(capsys, tmp_path, small, args, line):
    code, out, err = invoke(capsys, "run", small, "--out", tmp_path / "out", *args)
    assert (code, out, _one_line(err)) == (2, "", line)
    assert not (tmp_path / "out").exists()


def test_an_invalid_file_is_refused_even_when_a_flag_overrides_the_field(capsys, tmp_path, small, grid):
    path = _write_yaml(tmp_path / "neg.yaml", {**SMALL, "trials": -5})
    for args in (["run", path], ["sweep", path, "--grid", grid]):
        code, _, err = invoke(capsys, *args, "--trials", "100", "--out", tmp_path / "out")
        assert code == 2
        assert _one_line(err) == f"error: {path}: trials: Input should be greater than or equal to 1 (got -5)"


# --------------------------------------------------------------------------- 11. grid folder names


@pytest.mark.parametrize("name,folder", [("x.yaml", "x"), ("x.yml", "x"), ("a.b.yaml", "a.b"), ("X.YAML", "X"),
                                         ("grid", "grid"), ("grid.txt", "grid")])
def test_grid_folder_names(name, folder):
    assert grid_folder_name(Path("somewhere") / name) == folder


@pytest.mark.parametrize("name", ["...yaml", ".yaml", "..yml", ".hidden.yaml"])
def test_grid_names_without_a_folder_of_their_own_are_refused(capsys, tmp_path, small, name):
    path = _write_yaml(tmp_path / name, GRID)
    with pytest.raises(UsageError, match=r"gives no folder name"):
        grid_folder_name(path)
    code, _, err = invoke(capsys, "sweep", small, "--grid", path, "--out", tmp_path / "out")
    assert code == 2 and _one_line(err).startswith(f"error: --grid: the file name {name!r} gives no folder name")
    assert not (tmp_path / "out").exists()


def test_a_dotted_grid_name_gets_its_own_folder(capsys, tmp_path, small):
    path = _write_yaml(tmp_path / "a.b.yaml", GRID)
    code, _, err = invoke(capsys, "sweep", small, "--grid", path, "--out", tmp_path / "out", "--trials", 200)
    assert code == 0, err
    assert io.read_unit(tmp_path / "out" / "small" / "a.b", "sweep.json") is not None
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["small"]


# --------------------------------------------------------------------------- issue 10 §4: --force


def test_a_different_scenario_of_the_same_name_needs_force(capsys, tmp_path, small):
    out_dir, folder = tmp_path / "out", tmp_path / "out" / "small"
    assert invoke(capsys, "run", small, "--out", out_dir)[0] == 0
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    # The same scenario with another seed or more trials replaces its own outputs.
    assert invoke(capsys, "run", small, "--out", out_dir, "--seed", 12, "--trials", 2500)[0] == 0
    other = _write_yaml(tmp_path / "other.yaml", {**SMALL, "groups": {**SMALL["groups"], "a": {
        "n": 12, "cardiac_event": {"p": 0.2}}}})
    code, out, err = invoke(capsys, "run", other, "--out", out_dir)
    assert code == 2 and out == ""
    assert _one_line(err) == (f"error: {folder}: holds the outputs of a different scenario named small (from {small}); "
                              f"groups.a.n: 10 there, 12 here; pass --force to replace them, or choose another --out")
    assert io.read_unit(folder, "summary.json")["seed"] == 12 and (folder / SCENARIO_MARK).read_bytes() == before[
        SCENARIO_MARK]
    code, _, err = invoke(capsys, "run", other, "--out", out_dir, "--force")
    assert code == 0 and "note: --force: replacing the outputs of a different scenario" in err
    assert io.read_unit(folder, "summary.json")["scenario_spec"]["groups"]["a"]["n"] == 12
    # Now the folder is the other scenario's: the first one needs --force to come back.
    assert invoke(capsys, "run", small, "--out", out_dir)[0] == 2
    code, _, err = invoke(capsys, "size", small, "--analysis", "0", "--target-power", "0.8", "--range", "10:12",
                          "--out", out_dir)
    assert code == 2 and "holds the outputs of a different scenario" in err


def test_a_sweep_into_a_folder_of_a_different_scenario_needs_force(capsys, tmp_path, small, grid):
    args = ["--grid", grid, "--out", tmp_path / "out", "--trials", 200]
    assert invoke(capsys, "sweep", small, *args)[0] == 0
    other = _write_yaml(tmp_path / "other.yaml", {**SMALL, "analyses": SMALL["analyses"][:1]})
    code, _, err = invoke(capsys, "sweep", other, *args)
    assert code == 2 and "analyses.1.estimate: \"cardiac_event\" there, \"(absent)\" here" in _one_line(err)
    assert invoke(capsys, "sweep", other, *args, "--force")[0] == 0
    assert len(io.read_unit(tmp_path / "out" / "small" / "g", "sweep.json")["grid"]["product"]) == 2


def test_a_failed_command_leaves_no_folder_it_created(capsys, tmp_path, small):
    """A bad sizing request is found after the folder was checked: the folder goes again."""
    code, _, err = invoke(capsys, "size", small, "--analysis", "nope", "--target-power", "0.8", "--out",
                          tmp_path / "out")
    assert code == 2 and "analysis 'nope' not found" in err
    assert not (tmp_path / "out").exists()

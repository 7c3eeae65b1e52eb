"""Sweeps on a real Dask cluster started by hand on 127.0.0.1, as the README describes.

One ``dask scheduler`` and two ``dask worker`` processes (one thread each, NUMBA_NUM_THREADS=1,
random free ports) for the whole module, always torn down by the fixture. The sweep must give the
same files bit for bit as on this machine; a worker killed mid-sweep is replaced and its point
re-run; a point that keeps killing workers is reported failed while the others finish.
"""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cli_support import invoke
from design_support import CrashOn, write_scenario

from sim.cluster import WORKER_ENVIRONMENT, slurm_options
from sim.designs.sweep import parse_grid, plan_sweep, run_sweep
from sim.errors import ScenarioError
from sim.scenario import load_scenario

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parent.parent
# The scheduler gives up on a task after this many worker deaths (Dask's default is 3); 1 keeps
# the test short: a single kill is survived, a point that kills twice fails.
ALLOWED_FAILURES = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    """End a process we started and its children (its own session: the nanny's worker too)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory):
    return write_scenario(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory):
    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, **WORKER_ENVIRONMENT,
               PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]),
               DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=str(ALLOWED_FAILURES),
               DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")
    dask = [sys.executable, "-m", "dask"]
    commands = [[*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]]
    commands += [[*dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--host", "127.0.0.1",
                  "--no-dashboard", "--local-directory", str(logs / f"worker{i}"), "--name", f"w{i}"]
                 for i in range(2)]
    processes = []
    try:
        for i, command in enumerate(commands):
            log = open(logs / f"process{i}.log", "w")
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True, cwd=ROOT))
            log.close()
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


def _grid(tmp_path, grid):
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid, sort_keys=False))
    return path




def _point_files(directory):
    return {path.name: path.read_bytes() for path in sorted((Path(directory) / "points").glob("*.json"))}


GRID = {"zip": {"groups.prior_tki.n": [14, 22], "groups.prior_bev.n": [14, 22]},
        "product": {"groups.prior_tki.cardiac_event.p_early": [0.6, 0.8], "eligibility.min_washout_months": [0, 1.84]}}


def test_sweep_on_dask_is_bit_identical_to_this_machine(capsys, tmp_path, scenario_file, scheduler_address):
    grid = _grid(tmp_path, GRID)
    code, _, err = invoke(capsys, "sweep", scenario_file, "--grid", grid, "--out", tmp_path / "here", "--trials", 3000)
    assert code == 0, err
    code, out, err = invoke(capsys, "sweep", scenario_file, "--grid", grid, "--out", tmp_path / "dask",
                             "--trials", 3000,
                             "--scheduler", scheduler_address, "--workers", 2)
    assert code == 0, err
    assert "Dask scheduler" in out and "2 worker(s)" in out
    here, dask = (tmp_path / where / "tki_vs_bev" / "grid" for where in ("here", "dask"))
    assert len(_point_files(here)) == 8 and _point_files(here) == _point_files(dask)
    assert (here / "sweep.csv").read_bytes() == (dask / "sweep.csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(here / "sweep.parquet"), pd.read_parquet(dask / "sweep.parquet"))
    assert json.loads((dask / "sweep.json").read_text())["backend"].startswith("Dask scheduler")


def _points(scenario_file, trials, sizes):
    scenario = load_scenario(scenario_file, overrides={"trials": trials})
    return plan_sweep(scenario, parse_grid({"product": {"groups.prior_tki.n": sizes}}))


def test_killed_worker_is_replaced_and_its_point_rerun(tmp_path, scenario_file, scheduler_address):
    points = _points(scenario_file, 20000, [30, 31, 32, 33, 34, 35])
    reference = run_sweep(points, tmp_path / "here")
    with distributed.Client(scheduler_address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
        pids = client.run(os.getpid)
        killed = {}

        def kill_a_busy_worker(point, status):
            if killed:
                return
            busy = [address for address, keys in client.processing().items() if keys and address in pids]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)  # the worker process; its nanny starts a new one
                killed[busy[0]] = pids[busy[0]]

        result = run_sweep(points, tmp_path / "dask", executor=client.get_executor(pure=False),
                           on_point=kill_a_busy_worker)
        assert killed, "no worker was busy when the first point finished"
        assert result.complete and len(result.computed) == 6
        assert _point_files(tmp_path / "dask") == _point_files(tmp_path / "here")
        pd.testing.assert_frame_equal(result.table(), reference.table())
        client.wait_for_workers(2, timeout=60)
        assert set(client.run(os.getpid).values()) != set(pids.values())  # a new worker process


def test_point_that_keeps_killing_workers_fails_alone(tmp_path, scenario_file, scheduler_address):
    points = _points(scenario_file, 2000, [10, 11, 12, 13])
    with distributed.Client(scheduler_address, timeout=30) as client:
        client.wait_for_workers(2, timeout=60)
        result = run_sweep(points, tmp_path, executor=client.get_executor(pure=False),
                           compute=CrashOn("groups.prior_tki.n", 11))
        assert [failure.index for failure in result.failures] == [1]
        assert result.failures[0].error.startswith("KilledWorker")
        assert sorted(result.table()["point"].unique()) == [0, 2, 3]
        assert len(list((tmp_path / "points").glob("*.json"))) == 3
        client.wait_for_workers(2, timeout=120)  # the nannies restarted the workers


def test_multi_threaded_worker_runs_points_side_by_side_with_the_same_results(capsys, tmp_path, scenario_file):
    """Two points at once in one worker process, each on its own thread pool, give the same files."""
    grid = _grid(tmp_path, GRID)
    code, _, err = invoke(capsys, "sweep", scenario_file, "--grid", grid, "--out", tmp_path / "here", "--trials", 2000)
    assert code == 0, err
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster:
        code, out, err = invoke(capsys, "sweep", scenario_file, "--grid", grid, "--out", tmp_path / "dask",
                                 "--trials", 2000, "--scheduler", cluster.scheduler_address)
    assert code == 0, err
    assert "run several Dask threads" in out + err and "--nthreads 1" in out + err
    here, dask = (tmp_path / where / "tki_vs_bev" / "grid" for where in ("here", "dask"))
    assert len(_point_files(here)) == 8 and _point_files(here) == _point_files(dask)


def test_unreachable_scheduler(capsys, tmp_path, scenario_file):
    import dask

    grid = _grid(tmp_path, {"product": {"trials": [100]}})
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code, _, err = invoke(capsys, "sweep", scenario_file, "--grid", grid, "--out", tmp_path / "out",
                               "--scheduler", f"tcp://127.0.0.1:{_free_port()}")
    assert code == 2 and err.startswith("error: --scheduler: cannot connect") and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- SLURM settings


def test_slurm_options_one_single_threaded_worker_per_core():
    options, jobs = slurm_options({"jobs": 3, "cores": 16, "memory": "32GB", "queue": "short",
                                   "job_script_prologue": ["module load python/3.11"]})
    assert jobs == 3 and options["cores"] == options["processes"] == 16
    assert options["job_script_prologue"] == ["module load python/3.11", "export NUMBA_NUM_THREADS=1"]
    assert "jobs" not in options
    assert slurm_options({"cores": 8, "memory": "8GB"}, workers=20)[1] == 3  # ceil(20 / 8) jobs


@pytest.mark.parametrize("config,pattern", [
    ({"cores": 4, "memory": "8GB", "processes": 2}, r"processes: unknown setting \(processes is always cores\)"),
    ({"cores": 0, "memory": "8GB"}, r"cores: got 0"),
    ({"cores": 4}, r"memory: required"),
    ({"cores": 4, "memory": "8GB", "job_extra_directives": "--exclusive"}, r"job_extra_directives: .*list of strings"),
])
def test_bad_slurm_settings(config, pattern):
    with pytest.raises(ScenarioError, match=pattern):
        slurm_options(config)


def test_slurm_job_script():
    jobqueue = pytest.importorskip("dask_jobqueue")  # the optional extra: pip install -e ".[slurm]"
    options, _ = slurm_options({"cores": 4, "memory": "8GB", "walltime": "00:30:00", "queue": "short"})
    with jobqueue.SLURMCluster(**options, scheduler_options={"dashboard_address": ":0"}) as cluster:
        script = cluster.job_script()
    assert "export NUMBA_NUM_THREADS=1" in script
    assert "--nworkers 4" in script and "--nthreads 1" in script and "#SBATCH -p short" in script

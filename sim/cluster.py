"""Where a sweep runs: this process (default), or a Dask cluster's workers.

:func:`open_backend` yields an :class:`Backend` whose ``executor`` is handed to
:func:`sim.designs.sweep.run_sweep`: ``None`` for this machine, a Dask ``client.get_executor()``
otherwise. Nothing else in the package knows about Dask.

Facts that shape the set-up:

- Dask's nanny does not set ``NUMBA_NUM_THREADS`` (it sets ``OMP_NUM_THREADS`` and friends
  only), so workers we start get ``NUMBA_NUM_THREADS=1`` and there is one single-threaded worker
  process per core; otherwise every worker would run numba on every core.
- Each point runs the serial kernels on a thread pool of ``NUMBA_NUM_THREADS`` threads
  (:mod:`sim.runner`), so a worker with several Dask threads runs several points at once, each
  with its own pool: results are the same, but threads then outnumber cores. We note such
  workers rather than refuse them (the kernels hold no shared state and release the GIL).
- The scheduler unpickles tasks, so ``sim`` must be importable where the scheduler runs.
- The scheduler hands each single-threaded worker one task at a time (``worker-saturation``
  1.0), so a worker that dies takes only the point it was running with it; Dask re-runs that
  point elsewhere and gives up on it (``KilledWorker``) after ``allowed-failures`` deaths.
- A Ctrl-C in the terminal reaches the workers of a ``--cluster local`` too (one process group):
  they ignore it (:mod:`sim._worker_setup`, a Dask preload) and the ``simtrial`` process stops
  the sweep and shuts the cluster down.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional

from .errors import ScenarioError, UsageError

WORKER_ENVIRONMENT = {"NUMBA_NUM_THREADS": "1"}
SCHEDULER_CONFIG = {"distributed.scheduler.worker-saturation": 1.0}
CLUSTER_KINDS = ("local", "slurm")
# Dask scheduler addresses: [tcp|tls|ucx://]HOST:PORT (HOST a name, an IPv4 or a bracketed IPv6
# address; no scheme means tcp, as in Dask), or inproc://... (a scheduler inside this process).
_NETWORK_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*):"
                              r"(?P<port>[0-9]{1,5})$")
_INPROC_ADDRESS = re.compile(r"^inproc://\S+$")

# Keys of a --cluster-config file, passed to dask_jobqueue.SLURMCluster (``jobs`` is ours: how many
# SLURM jobs to keep running). ``processes`` is not among them: it is always ``cores``.
SLURM_KEYS = {
    "jobs": "SLURM jobs to keep running (default 1); lost jobs are resubmitted",
    "cores": "cores per job; one single-threaded worker process per core",
    "memory": "memory per job, e.g. 32GB",
    "walltime": "time limit per job, e.g. '02:00:00'",
    "queue": "partition (sbatch -p)",
    "account": "account to charge (sbatch -A)",
    "job_cpu": "sbatch --cpus-per-task, if it must differ from cores",
    "job_mem": "sbatch --mem, if it must differ from memory",
    "job_extra_directives": "extra #SBATCH lines, e.g. ['--exclusive']",
    "job_script_prologue": "shell lines run before the workers start (module load, venv activation)",
    "python": "the Python of the environment where simtrial is installed",
    "local_directory": "scratch directory on the compute nodes",
    "log_directory": "where SLURM writes the job logs",
    "interface": "network interface of the nodes, e.g. ib0",
    "death_timeout": "seconds a worker waits for the scheduler before exiting",
    "worker_extra_args": "extra arguments of the dask worker command",
    "scheduler_options": "options of the scheduler (in this process), e.g. {host: 10.0.0.1}",
}


@dataclass
class Backend:
    """An executor for :func:`sim.designs.sweep.run_sweep` (None: this process) and what it is, in words."""

    executor: Optional[Executor]
    description: str
    workers: int
    notes: list[str] = field(default_factory=list)


def _dask():
    try:
        import dask
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise UsageError(f"Dask is not installed ({exc}); pip install 'dask[distributed]'") from None
    return dask, Client


def _check_workers(client, notes: list[str]) -> int:
    """Note workers that would run more threads than they have cores; return the number of workers."""
    try:
        workers = client.scheduler_info(n_workers=-1)["workers"]  # all of them, not the first five
    except TypeError:  # distributed before 2025 lists every worker and takes no n_workers
        workers = client.scheduler_info()["workers"]
    threaded = {address: info["nthreads"] for address, info in workers.items() if info["nthreads"] != 1}
    if threaded:
        address, nthreads = next(iter(threaded.items()))
        notes.append(f"{len(threaded)} worker(s) run several Dask threads (e.g. {address}: {nthreads}); each "
                     f"point also runs on NUMBA_NUM_THREADS threads, so results are the same but threads "
                     f"outnumber cores: start workers with --nthreads 1 (one process per core)")
    numba_threads = client.run(_numba_threads)
    wide = sorted(address for address, count in numba_threads.items() if count != 1)
    if wide:
        notes.append(f"{len(wide)} worker(s) run numba on more than one thread (NUMBA_NUM_THREADS is not 1); "
                     f"results are the same, but workers sharing a node compete for its cores")
    return len(workers)


def _numba_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def read_cluster_config(path) -> dict[str, Any]:
    """A --cluster-config YAML file: a mapping of the keys in :data:`SLURM_KEYS`."""
    from .scenario import read_yaml

    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of SLURM settings ({', '.join(SLURM_KEYS)})")
    return data


def slurm_options(config: Mapping[str, Any], *, workers: Optional[int] = None,
                  source: str = "cluster config") -> tuple[dict[str, Any], int]:
    """Keyword arguments of ``dask_jobqueue.SLURMCluster`` and the number of jobs, from a config.

    One single-threaded worker process per core (``processes = cores``) and ``NUMBA_NUM_THREADS=1``
    exported before the workers start. ``workers`` (total worker processes) overrides ``jobs``:
    jobs = ceil(workers / cores).
    """
    unknown = [key for key in config if key not in SLURM_KEYS]
    if unknown:
        hint = " (processes is always cores)" if unknown[0] == "processes" else ""
        raise ScenarioError(f"{source}: {unknown[0]}: unknown setting{hint}; expected one of "
                            f"{', '.join(SLURM_KEYS)}")
    for key in ("jobs", "cores"):
        value = config.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ScenarioError(f"{source}: {key}: got {value!r}; expected a whole number >= 1")
    if "memory" not in config:
        raise ScenarioError(f"{source}: memory: required field is missing (memory per job, e.g. 32GB)")
    for key in ("job_extra_directives", "job_script_prologue", "worker_extra_args"):
        if key in config and not (isinstance(config[key], list) and all(isinstance(v, str) for v in config[key])):
            raise ScenarioError(f"{source}: {key}: got {config[key]!r}; expected a list of strings")
    options = {key: value for key, value in config.items() if key != "jobs"}
    cores = int(config.get("cores", 1))
    options["cores"] = cores
    options["processes"] = cores
    exports = [f"export {name}={value}" for name, value in WORKER_ENVIRONMENT.items()]
    options["job_script_prologue"] = [*config.get("job_script_prologue", []), *exports]
    jobs = math.ceil(workers / cores) if workers else int(config.get("jobs", 1))
    return options, jobs


def check_scheduler_address(address: str) -> None:
    """Refuse what cannot be a Dask scheduler address, before connecting (UsageError, one line).

    Examples
    --------
    >>> check_scheduler_address("tcp://127.0.0.1:8786")
    >>> check_scheduler_address("notanaddress")
    Traceback (most recent call last):
    ...
    sim.errors.UsageError: --scheduler: got 'notanaddress'; expected a Dask scheduler address such as tcp://127.0.0.1:8786 (tcp://, tls:// or ucx://HOST:PORT, or inproc://...)
    """
    match = _NETWORK_ADDRESS.match(address)
    if _INPROC_ADDRESS.match(address) or (match and 1 <= int(match["port"]) <= 65535):
        return
    raise UsageError(f"--scheduler: got {address!r}; expected a Dask scheduler address such as "
                     f"tcp://127.0.0.1:8786 (tcp://, tls:// or ucx://HOST:PORT, or inproc://...)")


def check_backend_options(*, scheduler: Optional[str] = None, cluster: Optional[str] = None,
                          cluster_config: Optional[os.PathLike] = None, workers: Optional[int] = None) -> None:
    """Check the backend flags together, before any work (UsageError, one line)."""
    if scheduler is not None:
        check_scheduler_address(scheduler)
    if scheduler and cluster:
        raise UsageError("--scheduler and --cluster: give one (a running cluster, or one to start)")
    if cluster is not None and cluster not in CLUSTER_KINDS:
        raise UsageError(f"--cluster: got {cluster!r}; expected one of {', '.join(CLUSTER_KINDS)}")
    if cluster_config is not None and cluster != "slurm":
        raise UsageError("--cluster-config: only used with --cluster slurm")
    if cluster == "slurm" and cluster_config is None:
        raise UsageError("--cluster slurm needs --cluster-config FILE (cores, memory, walltime, queue, ...)")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers: got {workers}; expected a whole number >= 1")
    if cluster == "slurm":
        slurm_options(read_cluster_config(cluster_config), workers=workers, source=str(cluster_config))


@contextlib.contextmanager
def open_backend(
    *,
    scheduler: Optional[str] = None,
    cluster: Optional[str] = None,
    cluster_config: Optional[os.PathLike] = None,
    workers: Optional[int] = None,
    connect_timeout: float = 60.0,
) -> Iterator[Backend]:
    """Yield the backend a sweep runs on, and shut down what was started when done.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://HOST:PORT``). Workers with one thread each (``--nthreads 1``) suit it best.
    cluster : {"local", "slurm"}, optional
        Start a Dask ``LocalCluster`` here, or SLURM jobs through dask-jobqueue (needs
        ``cluster_config``, see :data:`SLURM_KEYS`).
    cluster_config : path, optional
        YAML settings of the SLURM cluster.
    workers : int, optional
        This machine: numba threads (default all cores). ``local``: worker processes (default one
        per core). ``slurm``: worker processes in all (jobs = ceil(workers / cores)). ``scheduler``:
        wait until this many workers are connected (default 1).
    connect_timeout : float
        Seconds to wait for the workers of a scheduler or a started cluster to connect.
    """
    check_backend_options(scheduler=scheduler, cluster=cluster, cluster_config=cluster_config, workers=workers)

    if not scheduler and not cluster:
        from . import runner

        available = runner.available_threads()
        if workers is not None and workers > available:
            raise UsageError(f"--workers: got {workers}; expected 1 to {available} on this machine "
                             f"(NUMBA_NUM_THREADS caps it)")
        threads = runner.set_threads(workers)
        yield Backend(None, f"this machine, {threads} thread(s)", threads)
        return

    dask, Client = _dask()
    with contextlib.ExitStack() as stack:
        notes: list[str] = []
        if scheduler:
            try:
                # Dask's own connect timeout (distributed.comm.timeouts.connect, 30 s by default).
                client = stack.enter_context(Client(scheduler))
            except (OSError, ValueError, TypeError) as exc:  # unreachable, refused, a name that does not resolve
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise UsageError(f"--scheduler: cannot connect to {scheduler} ({reason})") from None
            try:
                client.wait_for_workers(workers or 1, timeout=connect_timeout)
            except TimeoutError:
                raise UsageError(f"--scheduler: fewer than {workers or 1} worker(s) connected to {scheduler} "
                                 f"within {connect_timeout:g} s") from None
            count = _check_workers(client, notes)
            description = f"Dask scheduler {scheduler}, {count} worker(s)"
        elif cluster == "local":
            from distributed import LocalCluster

            count = workers or os.cpu_count() or 1
            with dask.config.set(SCHEDULER_CONFIG):
                local = stack.enter_context(LocalCluster(
                    n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
                    env=dict(WORKER_ENVIRONMENT), preload=["sim._worker_setup"],  # workers ignore Ctrl-C
                    silence_logs=logging.ERROR))  # not the warnings of tasks cancelled by a Ctrl-C
            client = stack.enter_context(Client(local))
            client.wait_for_workers(count, timeout=connect_timeout)
            description = f"Dask LocalCluster, {count} worker process(es) of 1 thread"
        else:
            try:
                from dask_jobqueue import SLURMCluster
            except ImportError:
                raise UsageError('--cluster slurm needs dask-jobqueue: pip install -e ".[slurm]"') from None
            options, jobs = slurm_options(read_cluster_config(cluster_config), workers=workers,
                                          source=str(cluster_config))
            with dask.config.set(SCHEDULER_CONFIG):
                slurm = stack.enter_context(SLURMCluster(**options))
            # Adaptive with minimum = maximum keeps the jobs running: a job that ends or dies
            # (walltime, node failure) is replaced.
            slurm.adapt(minimum_jobs=jobs, maximum_jobs=jobs)
            client = stack.enter_context(Client(slurm))
            count = jobs * options["cores"]
            description = f"SLURM through dask-jobqueue, {jobs} job(s) of {options['cores']} worker(s)"
        yield Backend(client.get_executor(pure=False), description, count, notes)

"""Kernel throughput against the alternatives doing the same work, measured side by side in one run.

    python benchmarks/run.py [--quick] [--json] [--out DIR]

Times, in one process, the patient-level kernel (through the runner, as ``simtrial run`` uses it:
chunks, tallies, then every analysis' answer) on the designs of ``benchmarks/cases.yaml`` with
one thread and with all threads, against baselines doing the same analyses per trial
(``baselines.py``): a Python loop calling scipy once per trial and analysis, the vectorised numpy
alternative, and, where R is installed, ``statmod::power.fisher.test`` and R with one
``fisher.test`` per distinct table; the time each method needs for a power answer with a given
standard error; exact power by enumeration against scipy's ``fisher_exact`` on every table; the
random-number floor (the kernel's Philox blocks and nothing else); and scaling with trials,
patients per trial, threads and, in a fresh process per trial count, peak memory. Every line is a
ratio to a baseline timed in the same run, every target in the cases file is marked PASS or MISS,
and every answer timed is checked against exact values (or, for tests without one, against the
kernel's estimate) within 4 standard errors. The report goes to ``DIR/bench/``
(``benchmark.json`` and ``benchmark.png``, written atomically); ``--json`` prints the JSON only.

Timing: every kernel is compiled (or loaded from numba's cache) before anything is timed; each
figure is the best of its repeats, timed with ``time.perf_counter`` with the garbage collector
off; repeats of the kernel, the floor and the baselines are interleaved design by design, so
that load from other processes falls on all of them alike.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:  # sibling modules, also when imported rather than run
    sys.path.insert(0, str(BENCH_DIR))

import render  # noqa: E402
from cases import BenchmarkCases, build_design, load_cases  # noqa: E402
from features import feature_lines  # noqa: E402
from measure import (  # noqa: E402
    answer_lines,
    end_to_end_lines,
    floor_lines,
    kernel_and_baseline_lines,
    measure_designs,
    skipped_r_lines,
    thread_counts,
    thread_lines,
    warm_up,
)
from scaling import exact_lines, memory_lines, scaling_lines  # noqa: E402

from sim import __version__, runner  # noqa: E402
from sim.errors import SimtrialError  # noqa: E402
from sim.io import to_json, utc_now, versions, write_json_atomic  # noqa: E402


def machine() -> dict[str, Any]:
    """What produced the figures: cores, CPU model, threads, load, versions."""
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model or platform.processor() or None,
        "threads": runner.available_threads(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": versions(),
    }


def run_benchmarks(cases: BenchmarkCases, *, quick: bool, progress: Callable[[str], None]) -> dict[str, Any]:
    """Every section of the report, in one process; returns the report as plain data."""
    started = time.perf_counter()
    info = machine()
    threads = thread_counts()
    progress("building designs and compiling kernels")
    designs = [build_design(spec, cases) for spec in cases.designs]
    warm_up(designs)
    timings = measure_designs(designs, cases, threads, progress)
    lines = kernel_and_baseline_lines(designs, timings, cases, threads)
    lines += answer_lines(designs, timings, cases, threads, progress)
    lines += end_to_end_lines(cases, progress)
    lines += exact_lines(designs, cases, progress)
    lines += floor_lines(designs, timings, threads)
    lines += thread_lines(designs, timings, threads)
    lines += scaling_lines(cases, threads, progress)
    lines += memory_lines(cases, progress)
    lines += feature_lines(cases, progress)
    info["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    targeted = [line for line in lines if line.verdict is not None]
    return {
        "benchmark": "simtrial kernel throughput against equal-work baselines (issues 5 and 12)",
        "command": " ".join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "quick": quick,
        "simtrial": __version__,
        "finished_at": utc_now(),
        "elapsed_seconds": time.perf_counter() - started,
        "machine": info,
        "threads": threads,
        "settings": cases.model_dump(mode="json"),
        "targets": {"pass": sum(line.verdict == "PASS" for line in targeted),
                    "miss": sum(line.verdict == "MISS" for line in targeted),
                    "lines": [{"name": line.name, "target": line.target_text, "ratio": line.ratio,
                               "verdict": line.verdict} for line in targeted]},
        "skipped": skipped_r_lines(designs),
        "cases": [line.to_dict() for line in lines],
    }


def write_outputs(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """DIR/bench/benchmark.json and benchmark.png, each written atomically."""
    directory = out_dir / "bench"
    json_path, chart_path = directory / "benchmark.json", directory / "benchmark.png"
    write_json_atomic(json_path, report)
    render.write_chart(report, chart_path)
    return [json_path, chart_path]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quick", is_flag=True, help="Small counts: proves the harness works (CI); figures mean nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout and nothing else.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              metavar="DIR",
              help="Write DIR/bench/benchmark.json and benchmark.png.")
def main(quick: bool, as_json: bool, out_dir: Path) -> None:
    """Time the kernel against the alternatives and report every figure as a ratio to its baseline."""
    err = Console(stderr=True, highlight=False)
    started = time.perf_counter()

    def progress(text: str) -> None:
        err.print(f"[dim]{time.perf_counter() - started:6.1f} s  {text}[/dim]")

    cases = load_cases(quick=quick)
    report = run_benchmarks(cases, quick=quick, progress=progress)
    written = write_outputs(report, out_dir)
    if as_json:
        click.echo(to_json(report), nl=False)
        return
    # The tables are wide; when stdout is a file or a pipe, do not wrap them at 80 columns.
    console = Console(highlight=False) if sys.stdout.isatty() else Console(highlight=False, width=200)
    render.print_report(report, console)
    console.print("wrote " + ", ".join(str(path) for path in written))


if __name__ == "__main__":
    try:
        main(standalone_mode=False)
    except SimtrialError as exc:
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)

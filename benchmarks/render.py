"""The benchmark report for people: rich tables on the terminal and one PNG chart."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

from rich import box
from rich.console import Console
from rich.table import Table

from sim.io import atomic_path

SECTIONS = {
    "kernel": "1. Patient-level kernel (runner: simulate, tally, power) against the baseline loops, trials/s",
    "baselines": "2. Baselines: the loop with p-values cached per distinct table against the plain loop",
    "exact": "3. Exact power by enumeration: this project's against scipy's fisher_exact on every table",
    "floor": "4. The random-number floor: kernel patients/s as a share of Philox blocks alone",
    "threads": "5a. Speed-up with threads",
    "scaling": "5b. Run time against trials and against patients per trial (ratio: rate over the first line's)",
    "memory": "5c. Peak memory against trials, a fresh process per count (ratio: over the reference count)",
}


def _si(value: Optional[float], unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix} {unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} µs"


def format_value(value: float, unit: str, case: Optional[dict[str, Any]] = None) -> str:
    """A measurement in its unit; trial rates also show patients per second."""
    if unit == "s":
        return _seconds(value)
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "trials/s" and case is not None and case.get("patients_per_second") and case.get("section") != "baselines":
        return f"{_si(case['patients_per_second'])} patients/s · {_si(value)} trials/s"
    return _si(value, unit)


def format_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    return f"{ratio:.3g}×"


def _verdict(verdict: Optional[str]) -> str:
    if verdict is None:
        return ""
    return "[green]PASS[/green]" if verdict == "PASS" else "[red]MISS[/red]"


def section_table(section: str, cases: list[dict[str, Any]]) -> Table:
    table = Table(title=SECTIONS.get(section, section), title_justify="left", box=box.SIMPLE_HEAVY)
    for column in ("line", "measured", "baseline", "baseline measured", "ratio", "target", ""):
        table.add_column(column, justify="left" if column in ("line", "baseline") else "right")
    for case in cases:
        unit = case["unit"]
        table.add_row(case["name"], format_value(case["value"], unit, case), case["baseline"],
                      format_value(case["baseline_value"], unit), format_ratio(case["ratio"]),
                      case["target"] or "", _verdict(case["verdict"]))
    return table


def print_report(report: dict[str, Any], console: Console) -> None:
    """Every section as a table, then the targets' tally and the machine."""
    by_section: dict[str, list[dict[str, Any]]] = {}
    for case in report["cases"]:
        by_section.setdefault(case["section"], []).append(case)
    for section in SECTIONS:
        if section in by_section:
            console.print(section_table(section, by_section[section]))
    machine = report["machine"]
    targets = report["targets"]
    console.print(f"targets: [green]{targets['pass']} PASS[/green], "
                  f"{'[red]' if targets['miss'] else ''}{targets['miss']} MISS{'[/red]' if targets['miss'] else ''}"
                  f"{'  (--quick: figures mean nothing)' if report['quick'] else ''}")
    load = machine.get("load_average_at_start")
    console.print(f"{report['command']} · {machine['nproc']} cores ({machine['cpu_model']}) · "
                  f"numba threads {machine['numba_threads']} · load average at start "
                  f"{load[0]:.2f} · {report['elapsed_seconds']:.0f} s" if load else report["command"])


def write_chart(report: dict[str, Any], path: Path) -> None:
    """Ratios against their targets, run time against trials and patients, memory against trials."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = report["cases"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    fig.suptitle(f"simtrial benchmarks: {report['command']} · {report['machine']['nproc']} cores, "
                 f"{report['machine']['cpu_model']}", fontsize=10)

    ax = axes[0, 0]
    targeted = [case for case in cases if case["target"] and case["section"] != "memory"]
    labels = [case["name"] for case in targeted]
    ratios = [case["ratio"] for case in targeted]
    colours = ["tab:green" if case["verdict"] == "PASS" else "tab:red" for case in targeted]
    y = range(len(targeted))
    ax.barh(list(y), ratios, color=colours)
    ax.scatter([float(case["target"].split()[-1]) for case in targeted], list(y), marker="|", s=200,
               color="black", label="target", zorder=3)
    ax.set_yticks(list(y), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ratio to baseline (log)")
    ax.set_title("Targets (green PASS, red MISS)", fontsize=9)
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    trials_cases = [case for case in cases if case["section"] == "scaling" and "trials" in case
                    and "patients_per_trial" not in case]
    if trials_cases:
        trials = [case["trials"] for case in trials_cases]
        seconds = [case["value"] for case in trials_cases]
        ax.loglog(trials, seconds, "o-", label="measured")
        ax.loglog(trials, [seconds[0] * t / trials[0] for t in trials], "k:", label="linear from the first")
        ax.set_xlabel("trials")
        ax.set_ylabel("run time (s)")
        ax.set_title(f"Run time against trials ({trials_cases[0].get('scenario', '')}, all threads)", fontsize=9)
        ax.legend(fontsize=7)

    ax = axes[1, 0]
    patient_cases = [case for case in cases if case["section"] == "scaling" and "patients_per_trial" in case]
    if patient_cases:
        ax.semilogx([case["patients_per_trial"] for case in patient_cases],
                    [case["patients_per_second"] / 1e6 for case in patient_cases], "o-")
        ax.set_xlabel("patients per trial (two equal groups)")
        ax.set_ylabel("million patients/s")
        ax.set_ylim(bottom=0)
        ax.set_title("Throughput against patients per trial (all threads)", fontsize=9)

    ax = axes[1, 1]
    # The process's peak RSS is hundreds of MB (interpreter, numpy, scipy, numba, loaded kernels);
    # the run's own arrays are about a megabyte, so each gets its own axis.
    memory = [case for case in cases if case["section"] == "memory"]
    rss = [case for case in memory if case.get("metric") == "peak_rss_bytes"]
    traced = [case for case in memory if case.get("metric") == "run_traced_peak_bytes"]
    if rss:
        ax.semilogx([case["trials"] for case in rss], [case["value"] for case in rss], "o-", color="tab:blue",
                    label="peak RSS of the process (left)")
        ax.set_ylim(bottom=0, top=1.3 * max(case["value"] for case in rss))
    ax.set_xlabel("trials")
    ax.set_ylabel("peak RSS (MB)")
    if traced:
        right = ax.twinx()
        right.semilogx([case["trials"] for case in traced], [case["value"] for case in traced], "s--",
                       color="tab:orange", label="peak of the run's allocations, tracemalloc (right)")
        right.set_ylim(bottom=0, top=1.3 * max(case["value"] for case in traced))
        right.set_ylabel("run's allocations (MB)")
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="lower right")
    ax.set_title("Peak memory against trials (fresh process per count)", fontsize=9)

    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def markdown_table(report: dict[str, Any]) -> str:
    """Every line as a Markdown table (the README's figures are pasted from this)."""
    rows = ["| line | measured | baseline | baseline measured | ratio | target | |",
            "|---|---:|---|---:|---:|---:|---|"]
    for case in report["cases"]:
        unit = case["unit"]
        rows.append(f"| {case['name']} | {format_value(case['value'], unit, case)} | {case['baseline']} | "
                    f"{format_value(case['baseline_value'], unit)} | {format_ratio(case['ratio'])} | "
                    f"{(case['target'] or '').replace('>=', '≥').replace('<=', '≤')} | {case['verdict'] or ''} |")
    return "\n".join(rows)

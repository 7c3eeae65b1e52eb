"""The benchmark report for people: rich tables on the terminal and one PNG chart."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Optional

from rich import box
from rich.console import Console
from rich.table import Table

from sim.io import atomic_path

SECTIONS = {
    "kernel": "1. Patient-level kernel (runner: simulate, tally, every analysis' answer) against baselines doing "
              "the same analyses, trials/s",
    "baselines": "2. Baselines against the scipy loop (same analyses; every answer checked against exact values)",
    "answer": "3. Time to a power answer with standard error <= {se:g} (ratio: vectorised numpy's time over each "
              "method's; > 1 is faster)",
    "run": "4. simtrial run on the scenario as shipped (ratio: vectorised numpy's time over simtrial's)",
    "exact": "5. Exact power by enumeration: this project's against scipy's fisher_exact on every table",
    "floor": "6. The random-number floor: kernel patients/s as a share of Philox blocks alone",
    "threads": "7a. Speed-up with threads",
    "scaling": "7b. Run time against trials and against patients per trial (ratio: rate over the first line's)",
    "memory": "7c. Peak memory against trials, a fresh process per count (ratio: over the reference count)",
    "features": "8. Design features against the plain run they extend (monitoring, one-pass sizing, large n, "
                "cold start)",
}


def section_title(section: str, report: dict[str, Any]) -> str:
    title = SECTIONS.get(section, section)
    if section == "answer":
        title = title.format(se=report["settings"]["time_to_answer"]["standard_error"])
    return title


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
    if (unit == "trials/s" and case is not None and case.get("patients_per_second")
            and case.get("section") not in ("baselines", "run")):
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


def section_table(section: str, cases: list[dict[str, Any]], report: dict[str, Any]) -> Table:
    table = Table(title=section_title(section, report), title_justify="left", box=box.SIMPLE_HEAVY)
    for column in ("line", "measured", "baseline", "baseline measured", "ratio", "target", ""):
        table.add_column(column, justify="left" if column in ("line", "baseline") else "right")
    for case in cases:
        unit = case["unit"]
        table.add_row(case["name"], format_value(case["value"], unit, case), case["baseline"],
                      format_value(case["baseline_value"], unit), format_ratio(case["ratio"]),
                      case["target"] or "", _verdict(case["verdict"]))
    return table


def _answer_rows(cases: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for case in cases:
        exact = case["method"] == "simtrial exact"
        rows.append([case["design"], case["method"], f"{case['power']:.4f} ({case['power_source']})",
                     "exact (SE 0)" if exact else f"{case['trials_needed']:,}",
                     "—" if exact else _si(case["trials_per_second"], "trials/s"),
                     _seconds(case["value"]), format_ratio(case["ratio"])])
    return rows


ANSWER_COLUMNS = ("design", "method", "power", "trials needed", "rate", "time to answer", "vs vectorised numpy")


def answer_table(cases: list[dict[str, Any]], report: dict[str, Any]) -> Table:
    table = Table(title=section_title("answer", report), title_justify="left", box=box.SIMPLE_HEAVY)
    for column in ANSWER_COLUMNS:
        table.add_column(column, justify="left" if column in ("design", "method", "power") else "right")
    for row in _answer_rows(cases):
        table.add_row(*row)
    return table


def print_report(report: dict[str, Any], console: Console) -> None:
    """Every section as a table, the skipped lines, then the targets' tally and the machine."""
    by_section: dict[str, list[dict[str, Any]]] = {}
    for case in report["cases"]:
        by_section.setdefault(case["section"], []).append(case)
    for section in SECTIONS:
        if section == "answer" and section in by_section:
            console.print(answer_table(by_section[section], report))
        elif section in by_section:
            console.print(section_table(section, by_section[section], report))
    for skipped in report.get("skipped", []):
        console.print(f"skipped: {skipped['name']}: {skipped['reason']}")
    machine = report["machine"]
    targets = report["targets"]
    console.print(f"targets: [green]{targets['pass']} PASS[/green], "
                  f"{'[red]' if targets['miss'] else ''}{targets['miss']} MISS{'[/red]' if targets['miss'] else ''}"
                  f"{'  (--quick: figures mean nothing)' if report['quick'] else ''}")
    load = machine.get("load_average_at_start")
    console.print(f"{report['command']} · {machine['nproc']} cores ({machine['cpu_model']}) · "
                  f"threads {machine['threads']} · load average at start "
                  f"{load[0]:.2f} · {report['elapsed_seconds']:.0f} s" if load else report["command"])


# --------------------------------------------------------------------------- the chart

METHOD_COLOURS = {"kernel": "tab:blue", "vectorised numpy": "tab:orange", "scipy loop": "tab:gray",
                  "statmod (R)": "tab:purple", "R lookup": "tab:brown"}


def throughput_by_design(cases: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per design, trials/s of the kernel (all threads) and of every baseline, from the kernel lines."""
    all_threads = max((case["threads"] for case in cases if case["section"] == "kernel"), default=1)
    out: dict[str, dict[str, float]] = {}
    for case in cases:
        if case["section"] == "kernel" and case["threads"] == all_threads:
            rates = out.setdefault(case["design"], {"kernel": case["trials_per_second"]})
            rates[case["baseline"]] = case["baseline_trials_per_second"]
    return out


def _plain_log_ticks(axis, values: list[float], label) -> None:
    """Ticks at the measured values only, labelled plainly: no crowded minor labels on a log axis."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter, NullLocator

    axis.set_major_locator(FixedLocator(values))
    axis.set_major_formatter(FixedFormatter([label(v) for v in values]))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def _count_label(value: float) -> str:
    exponent = math.log10(value)
    return f"$10^{{{exponent:.0f}}}$" if value >= 1e3 and exponent.is_integer() else f"{value:,.0f}"


def write_chart(report: dict[str, Any], path: Path) -> None:
    """The report's chart (:func:`chart_figure`) as a PNG, written atomically."""
    fig = chart_figure(report)  # selects the Agg backend before pyplot is imported here
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=CHART_DPI)
    plt.close(fig)


CHART_DPI = 110


def chart_figure(report: dict[str, Any]):
    """Targets, throughput of every method by design, run time, throughput by size, and memory.

    Each row is a subfigure laid out by matplotlib's constrained layout, which makes room for
    every tick label, title and legend (the long line names included) instead of clipping them,
    without the long labels of one row narrowing the panels of another; row heights follow the
    number of bars. Log axes are labelled at the measured values only.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = report["cases"]
    targeted = [case for case in cases if case["target"] and case["section"] != "memory"]
    by_design = throughput_by_design(cases)
    methods = [m for m in METHOD_COLOURS if any(m in rates for rates in by_design.values())]
    target_height = 0.22 * max(len(targeted), 1) + 1.2
    throughput_height = 0.11 * max(len(by_design) * len(methods), 1) + 1.4
    fig = plt.figure(figsize=(13, target_height + throughput_height + 4.0), layout="constrained")
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[target_height, throughput_height, 4.0])
    fig.suptitle(f"simtrial benchmarks: {report['command']} · {report['machine']['nproc']} cores, "
                 f"{report['machine']['cpu_model']}" + (" · --quick: figures mean nothing" if report["quick"] else ""),
                 fontsize=10)

    ax = top.subplots()
    y = list(range(len(targeted)))
    ax.barh(y, [case["ratio"] for case in targeted],
            color=["tab:green" if case["verdict"] == "PASS" else "tab:red" for case in targeted])
    ax.scatter([float(case["target"].split()[-1]) for case in targeted], y, marker="|", s=160, color="black",
               zorder=3)
    for row, case in zip(y, targeted):
        # Right of both the bar and the target mark, so the text never sits under the mark.
        ax.annotate(format_ratio(case["ratio"]), (max(case["ratio"], float(case["target"].split()[-1])), row),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize=6)
    ax.set_yticks(y, [case["name"] for case in targeted], fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    if targeted:
        # Room on the right for the ratio written beside the longest bar.
        ax.set_xlim(right=4 * max(max(case["ratio"], float(case["target"].split()[-1])) for case in targeted))
    ax.set_xlabel("ratio to baseline (log); black bar: target")
    ax.set_title("Targets (green PASS, red MISS)", fontsize=9)

    ax = middle.subplots()
    height = 0.8 / max(len(methods), 1)
    designs = list(by_design)
    for index, method in enumerate(methods):
        rows = [d for d in designs if method in by_design[d]]
        ax.barh([designs.index(d) + (index - (len(methods) - 1) / 2) * height for d in rows],
                [by_design[d][method] for d in rows], height=height, color=METHOD_COLOURS[method],
                label=method if method != "kernel" else "simtrial kernel (all threads)")
    ax.set_yticks(range(len(designs)), designs, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("trials/s (log), the same analyses per trial for every method")
    ax.set_title("Throughput by design and method", fontsize=9)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))

    axes = bottom.subplots(1, 3)
    ax = axes[0]
    trials_cases = [case for case in cases if case["section"] == "scaling" and "patients_per_trial" not in case]
    if trials_cases:
        trials = [case["trials"] for case in trials_cases]
        seconds = [case["value"] for case in trials_cases]
        ax.loglog(trials, seconds, "o-", label="measured")
        ax.loglog(trials, [seconds[0] * t / trials[0] for t in trials], "k:", label="linear from the first")
        _plain_log_ticks(ax.xaxis, trials, _count_label)
        ax.set_xlabel("trials")
        ax.set_ylabel("run time (s)")
        ax.set_title(f"Run time against trials\n({trials_cases[0].get('scenario', '')}, all threads)", fontsize=9)
        ax.legend(fontsize=7)

    ax = axes[1]
    patient_cases = [case for case in cases if case["section"] == "scaling" and "patients_per_trial" in case]
    if patient_cases:
        sizes = [case["patients_per_trial"] for case in patient_cases]
        ax.semilogx(sizes, [case["patients_per_second"] / 1e6 for case in patient_cases], "o-")
        _plain_log_ticks(ax.xaxis, sizes, lambda v: f"{v:,.0f}")
        ax.set_xlabel("patients per trial (two equal groups)")
        ax.set_ylabel("million patients/s")
        ax.set_ylim(bottom=0)
        ax.set_title("Throughput against patients per trial\n(all threads)", fontsize=9)

    ax = axes[2]
    # The process's peak RSS is hundreds of MB (interpreter, numpy, scipy, numba, loaded kernels);
    # the run's own arrays are about a megabyte, so each gets its own axis.
    memory = [case for case in cases if case["section"] == "memory"]
    rss = [case for case in memory if case.get("metric") == "peak_rss_bytes"]
    traced = [case for case in memory if case.get("metric") == "run_traced_peak_bytes"]
    if rss:
        ax.semilogx([case["trials"] for case in rss], [case["value"] for case in rss], "o-", color="tab:blue",
                    label="peak RSS of the process (left)")
        ax.set_ylim(bottom=0, top=1.7 * max(case["value"] for case in rss))
        _plain_log_ticks(ax.xaxis, [case["trials"] for case in rss], _count_label)
    ax.set_xlabel("trials")
    ax.set_ylabel("peak RSS (MB)")
    if traced:
        right = ax.twinx()
        right.semilogx([case["trials"] for case in traced], [case["value"] for case in traced], "s--",
                       color="tab:orange", label="run's allocations, tracemalloc (right)")
        right.set_ylim(bottom=0, top=1.7 * max(case["value"] for case in traced))
        right.set_ylabel("run's allocations (MB)")
        _plain_log_ticks(right.xaxis, [case["trials"] for case in traced], _count_label)
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="upper center")
    ax.set_title("Peak memory against trials\n(fresh process per count)", fontsize=9)
    return fig


# --------------------------------------------------------------------------- Markdown for the README


def _markdown(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if i in right else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_throughput(report: dict[str, Any]) -> str:
    """One row per design: trials/s of the kernel (1 thread, all threads) and of every baseline."""
    cases = report["cases"]
    kernel = [case for case in cases if case["section"] == "kernel"]
    threads = sorted({case["threads"] for case in kernel})
    by_design = throughput_by_design(cases)
    baselines = [m for m in METHOD_COLOURS if m != "kernel" and any(m in r for r in by_design.values())]
    header = (["design", "analyses (per-trial tests)"] + [f"kernel, {t} thr." for t in threads] + baselines
              + [f"kernel ÷ {m}" for m in ("vectorised numpy", "scipy loop")])
    rows = []
    for design, rates in by_design.items():
        first = next(case for case in kernel if case["design"] == design)
        by_threads = {case["threads"]: case["trials_per_second"] for case in kernel if case["design"] == design}
        rows.append([design, f"{first['analyses']} ({first['per_trial_tests']})"]
                    + [_si(by_threads[t]) for t in threads] + [_si(rates.get(m)) for m in baselines]
                    + [format_ratio(rates["kernel"] / rates[m]) for m in ("vectorised numpy", "scipy loop")])
    return _markdown(header, rows, set(range(1, len(header))))


def markdown_answer(report: dict[str, Any]) -> str:
    cases = [case for case in report["cases"] if case["section"] == "answer"]
    return _markdown(list(ANSWER_COLUMNS), _answer_rows(cases), {3, 4, 5, 6})


def markdown_table(report: dict[str, Any], sections: Optional[set[str]] = None) -> str:
    """Lines as a Markdown table (all, or those of ``sections``)."""
    rows = []
    for case in report["cases"]:
        if sections is not None and case["section"] not in sections:
            continue
        unit = case["unit"]
        rows.append([case["name"], format_value(case["value"], unit, case), case["baseline"],
                     format_value(case["baseline_value"], unit), format_ratio(case["ratio"]),
                     (case["target"] or "").replace(">=", "≥").replace("<=", "≤"), case["verdict"] or ""])
    return _markdown(["line", "measured", "baseline", "baseline measured", "ratio", "target", ""], rows, {1, 3, 4, 5})


def markdown_before_after(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Every line of ``after`` beside the same line of ``before`` (matched by name; "—" where a report
    lacks it): the measured figure and its ratio to the line's baseline in each run."""
    earlier = {case["name"]: case for case in before["cases"]}
    rows = []
    for case in after["cases"]:
        old = earlier.get(case["name"])
        measured = lambda c: format_value(c["value"], c["unit"], c) if c else "—"  # noqa: E731
        rows.append([case["name"], measured(old), format_ratio(old["ratio"]) if old else "—",
                     measured(case), format_ratio(case["ratio"])])
    return _markdown(["line", "before", "before: ratio", "after", "after: ratio"], rows, {1, 2, 3, 4})


def main(argv: list[str]) -> int:
    """``python benchmarks/render.py REPORT.json [--before EARLIER.json]``: the README's tables, as
    Markdown, from a report; with ``--before``, every line of the report beside an earlier run's."""
    import json

    if len(argv) == 3 and argv[1] == "--before":
        before, after = (json.loads(Path(path).read_text()) for path in (argv[2], argv[0]))
        print(markdown_before_after(before, after))
        return 0
    if len(argv) != 1:
        print("usage: render.py REPORT.json [--before EARLIER.json]", file=sys.stderr)
        return 2
    report = json.loads(Path(argv[0]).read_text())
    print(markdown_throughput(report), end="\n\n")
    print(markdown_answer(report), end="\n\n")
    print(markdown_table(report, {"run", "exact", "floor", "threads", "scaling", "memory"}), end="\n\n")
    print(markdown_table(report, {"features"}))
    targets = [case for case in report["cases"] if case["target"] is not None
               and case["section"] in ("kernel", "floor", "threads", "memory", "features")]
    print()
    print(markdown_table({"cases": targets}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

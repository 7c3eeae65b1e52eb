"""Multi-stage designs for people: terminal tables, figures and the output files of ``simtrial monitor``
and ``simtrial simon``. Every file is written atomically; folders are named by the design's
parameters, and a folder that holds a different design is never overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Sequence

from rich import box
from rich.table import Table

from ..errors import SimtrialError
from ..io import to_json
from .figures import _pyplot, save_png
from .formats import pct

# Longer look specifications are named by a digest in folder names.
_MAX_LOOKS_SLUG = 40


class OutputConflict(SimtrialError):
    """The output folder holds a different design's files."""

    exit_code = 1


# --- boundaries as text ----------------------------------------------------------------------------

def boundary_runs(looks: Sequence[int], stop_at: Sequence[int]) -> list[tuple[int, int, int]]:
    """Runs of consecutive looks with the same ``stop_at``: (first n, last n, stop_at)."""
    runs: list[list[int]] = []
    for n, value in zip(looks, stop_at):
        if runs and runs[-1][2] == value:
            runs[-1][1] = n
        else:
            runs.append([n, n, value])
    return [tuple(run) for run in runs]


def boundary_text(looks: Sequence[int], stop_at: Sequence[int]) -> str:
    """``2 among the first 5-9; 3 among the first 10-15; ...`` (looks where a stop is possible)."""
    parts = []
    for first, last, value in boundary_runs(looks, stop_at):
        if value > last:
            continue
        possible_from = first if value <= first else min(n for n in looks if first <= n <= last and value <= n)
        span = str(possible_from) if possible_from == last else f"{possible_from}-{last}"
        parts.append(f"{value} among the first {span}")
    return "; ".join(parts) if parts else "never (no look can stop)"


# --- monitor --------------------------------------------------------------------------------------

def monitor_tables(design, rates: Optional[Sequence[float]] = None) -> list:
    """The boundary (runs of looks), the check against cross_p0/cross_p1, and the OC table."""
    boundary = Table(title=design.describe(), box=box.SIMPLE_HEAVY)
    for column in ("patients evaluated", "stop when events reach", "max acceptable (stop if >)"):
        boundary.add_column(column, justify="right")
    for first, last, value in boundary_runs(design.looks, design.stop_at):
        span = str(first) if first == last else f"{first}–{last}"
        if value > last:
            reach = f"{value} (no stop possible)"
        elif value > first:
            reach = f"{value} (possible from patient {value})"
        else:
            reach = str(value)
        boundary.add_row(span, reach, str(value - 1))

    check = Table(box=box.SIMPLE, show_header=False)
    check.add_column("", justify="left")
    check.add_column("", justify="left")
    if design.rule == "bayes":
        label = f"{design.posterior:g}"
        if design.posterior_range is not None:
            low, high = design.posterior_range
            label += f" (calibrated: any C in ({low:.6f}, {high:.6f}] gives this boundary)"
        check.add_row("posterior threshold C", label)
    else:
        low, high = design.nominal_alpha_range
        check.add_row("nominal level α", f"{design.nominal_alpha:.6f} (any α in [{low:.6f}, {high:.6f}) "
                                         f"gives this boundary)")
    limit = f" (limit {design.cross_p0:g})" if design.cross_p0 is not None else ""
    check.add_row(f"P(stop) at P0 = {design.p0:g}", f"{design.p_cross_p0:.4f}{limit}")
    if design.p1 is not None:
        text = f"{design.p_cross_p1:.4f}"
        if design.cross_p1 is not None:
            if design.meets_cross_p1:
                text += f" [green]reaches {design.cross_p1:g}[/green]"
            else:
                text += f" [red]below {design.cross_p1:g}[/red]: "
                text += (f"{design.patients_needed} patients (same look pattern) would reach it"
                         if design.patients_needed is not None
                         else f"not reached up to {design.patients_searched_to} patients")
        check.add_row(f"P(stop) at P1 = {design.p1:g}", text)

    oc_table = Table(title="operating characteristics (exact)", box=box.SIMPLE)
    for column in ("true rate", "P(stop at any look)", "P(stop before the last look)", "expected patients"):
        oc_table.add_column(column, justify="right")
    for oc in design.operating_characteristics(rates):
        oc_table.add_row(f"{oc.rate:g}", pct(oc.p_cross), pct(oc.p_stop_early), f"{oc.expected_n:.1f}")
    return [boundary, check, oc_table]


def _looks_slug(design) -> str:
    import hashlib

    slug = design.looks_spec.replace(":", "-").replace(",", "_")
    if len(slug) > _MAX_LOOKS_SLUG:
        slug = "h" + hashlib.sha256(design.looks_spec.encode()).hexdigest()[:12]
    return slug


def monitor_directory_name(design) -> str:
    """``monitor_<shape>_p0-<P0>_p1-<P1>_looks-<looks>_cross-<c0>-<c1>`` (``monitor_bayes_...`` for Bayes).

    Every parameter that changes the boundary or its check is in the name (floats as Python's
    shortest round-trip text), so two designs never share a folder.
    """
    looks = _looks_slug(design)
    if design.rule == "bayes":
        a, b = design.prior
        name = f"monitor_bayes_prior-{a!r}-{b!r}_p0-{design.p0!r}"
        if design.p1 is not None:
            name += f"_p1-{design.p1!r}"
        name += f"_looks-{looks}"
        return name + (f"_cross-{design.cross_p0!r}" if design.cross_p0 is not None else f"_post-{design.posterior!r}")
    return (f"monitor_{design.shape}_p0-{design.p0!r}_p1-{design.p1!r}_looks-{looks}"
            f"_cross-{design.cross_p0!r}-{design.cross_p1!r}")


def _claim_directory(directory: Path, identity: dict, marker: str) -> None:
    """Refuse a folder whose ``marker`` file records a different design."""
    existing = directory / marker
    if existing.exists():
        try:
            recorded = json.loads(existing.read_text()).get("design_identity")
        except (OSError, ValueError):
            recorded = None
        if recorded != json.loads(to_json(identity)):
            raise OutputConflict(f"{directory} holds a different design ({marker} differs); "
                                 f"remove it or choose another --out")


def _monitor_identity(design) -> dict:
    data = design.to_dict(rates=[])
    data.pop("operating_characteristics")
    return data


def write_monitor_outputs(directory: Path, design, *, rates: Optional[Sequence[float]] = None,
                          group: str = "prior_tki", endpoint: str = "cardiac_event") -> list[Path]:
    """boundary.csv, operating_characteristics.csv, monitor.json, scenario_snippet.yaml and monitor.png."""
    import pandas as pd

    from .. import io

    directory = Path(directory)
    identity = _monitor_identity(design)
    _claim_directory(directory, identity, "monitor.json")
    levels = design.nominal_levels()
    p0_by_look = design.oc(design.p0).p_stop_by_look
    p1_by_look = design.oc(design.p1).p_stop_by_look if design.p1 is not None else None
    rows = []
    for k, (n, value) in enumerate(zip(design.looks, design.stop_at)):
        row = {"look": k + 1, "n": n, "stop_at": value, "max_acceptable": value - 1, "can_stop": value <= n}
        if levels is not None:
            row["nominal_level"] = levels[k]
        row["p_stop_here_at_p0"] = p0_by_look[k]
        if p1_by_look is not None:
            row["p_stop_here_at_p1"] = p1_by_look[k]
        rows.append(row)
    written = [directory / "boundary.csv", directory / "operating_characteristics.csv",
               directory / "monitor.json", directory / "scenario_snippet.yaml", directory / "monitor.png"]
    io.write_csv_atomic(written[0], pd.DataFrame(rows))
    ocs = [{**oc.to_dict(), "p_stop_by_look": ";".join(f"{v:.12g}" for v in oc.p_stop_by_look)}
           for oc in design.operating_characteristics(rates)]
    io.write_csv_atomic(written[1], pd.DataFrame(ocs))
    io.write_json_atomic(written[2], {**design.to_dict(rates), "design_identity": identity,
                                      "command": io.command_line(), "finished_at": io.utc_now(),
                                      "versions": io.versions()})
    io.write_text_atomic(written[3], design.scenario_snippet(group=group, endpoint=endpoint))
    monitor_figure(design, written[4])
    return written


def monitor_figure(design, path: Path) -> Path:
    """Two panels: the boundary as a step line over patients; P(stop) and E[patients] against the true rate."""
    import numpy as np

    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110)
    n_last = design.looks[-1]
    stoppable = [(n, s) for n, s in zip(design.looks, design.stop_at) if s <= n]
    if stoppable:
        xs = [n for n, _ in stoppable] + [n_last]
        ys = [s for _, s in stoppable] + [stoppable[-1][1]]
        left.step(xs, ys, where="post", color="tab:red", lw=1.8, label="stop when events reach this")
        left.fill_between(xs, ys, [max(ys) + 2] * len(xs), step="post", color="tab:red", alpha=0.08)
        left.plot([n for n, _ in stoppable], [s for _, s in stoppable], "o", color="tab:red", ms=3)
    patients = np.arange(0, n_last + 1)
    left.plot(patients, design.p0 * patients, color="tab:green", ls="--", lw=1, label=f"expected at P0 = {design.p0:g}")
    if design.p1 is not None:
        left.plot(patients, design.p1 * patients, color="tab:orange", ls="--", lw=1,
                  label=f"expected at P1 = {design.p1:g}")
    left.set_xlim(0, n_last)
    left.set_ylim(0, (max(s for _, s in stoppable) + 2) if stoppable else 3)
    left.set_xlabel("patients evaluated")
    left.set_ylabel("events")
    left.set_title("stopping boundary", fontsize=10)
    left.grid(alpha=0.3)
    left.legend(fontsize=8, loc="upper left")

    top = min(1.0, max(2.0 * (design.p1 if design.p1 is not None else design.p0 + 0.3), 3.0 * design.p0))
    rates = np.linspace(0.0, top, 121)
    ocs = design.operating_characteristics(rates)
    right.plot(rates, [oc.p_cross for oc in ocs], color="tab:red", label="P(stop at any look)")
    right.plot(rates, [oc.p_stop_early for oc in ocs], color="tab:purple", ls=":", label="P(stop before the last look)")
    marks = [(design.p0, design.cross_p0, "tab:green")]
    if design.p1 is not None:
        marks.append((design.p1, design.cross_p1, "tab:orange"))
    for rate, limit, colour in marks:
        right.axvline(rate, color=colour, lw=0.8)
        right.plot([rate], [design.oc(rate).p_cross], "o", color=colour)
        if limit is not None:
            right.axhline(limit, color=colour, lw=0.6, ls="--")
    right.set_xlabel("true event rate")
    right.set_ylabel("probability")
    right.set_ylim(0, 1.02)
    right.grid(alpha=0.3)
    twin = right.twinx()
    twin.plot(rates, [oc.expected_n for oc in ocs], color="tab:gray", ls="--", lw=1, label="expected patients")
    twin.set_ylabel("expected patients evaluated", color="tab:gray")
    twin.set_ylim(0, n_last * 1.05)
    lines = right.get_legend_handles_labels()
    extra = twin.get_legend_handles_labels()
    right.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8, loc="center right")
    right.set_title("probability of stopping against the true rate", fontsize=10)
    fig.suptitle(design.describe(), fontsize=9)
    fig.tight_layout()
    return save_png(fig, path)


# --- simon ------------------------------------------------------------------------------------------

def simon_directory_name(result) -> str:
    return (f"simon_p0-{result.p0!r}_p1-{result.p1!r}_alpha-{result.alpha!r}_power-{result.power!r}"
            f"_nmax-{result.nmax}")


def _simon_rows(result) -> list[dict]:
    rows = [{"design": "minimax", **result.minimax.to_dict(), "q_low": None, "q_high": None},
            {"design": "optimal", **result.optimal.to_dict(), "q_low": None, "q_high": None}]
    for design, (low, high) in zip(result.admissible, result.admissible_weights):
        rows.append({"design": "admissible", **design.to_dict(), "q_low": low, "q_high": high})
    return rows


def simon_table(result) -> Table:
    """Minimax, admissible and optimal designs, one row each."""
    table = Table(title=(f"Simon two-stage: P0 = {result.p0:g}, P1 = {result.p1:g}, alpha <= {result.alpha:g}, "
                         f"power >= {result.power:g}"),
                  caption=(f"stop after n1 patients if responses <= r1; reject H0 after n if responses > r. "
                           f"q: weights for which a design minimises q·n + (1 - q)·E[N | P0]. "
                           f"n searched {result.n_lower}-{result.nmax}."), box=box.SIMPLE_HEAVY)
    for column in ("design", "r1/n1", "r/n", "E[N|P0]", "PET(P0)", "alpha", "power", "q"):
        table.add_column(column, justify="left" if column == "design" else "right")
    for row in _simon_rows(result)[2:]:
        label = ("minimax" if row["n"] == result.minimax.n else
                 "optimal" if row["n"] == result.optimal.n else "admissible")
        table.add_row(label, f"{row['r1']}/{row['n1']}", f"{row['r']}/{row['n']}", f"{row['expected_n_p0']:.2f}",
                      f"{row['p_early_stop_p0']:.3f}", f"{row['alpha']:.4f}", f"{row['power']:.4f}",
                      f"{row['q_low']:.2f}-{row['q_high']:.2f}")
    return table


def write_simon_outputs(directory: Path, result) -> list[Path]:
    """designs.csv (minimax, optimal, admissible), by_n.csv (the best design for each n), simon.json, simon.png."""
    import pandas as pd

    from .. import io

    directory = Path(directory)
    identity = {key: value for key, value in result.to_dict().items()}
    _claim_directory(directory, identity, "simon.json")
    written = [directory / "designs.csv", directory / "by_n.csv", directory / "simon.json", directory / "simon.png"]
    io.write_csv_atomic(written[0], pd.DataFrame(_simon_rows(result)))
    io.write_csv_atomic(written[1], pd.DataFrame([design.to_dict() for design in result.by_n]))
    io.write_json_atomic(written[2], {**result.to_dict(), "design_identity": identity,
                                      "command": io.command_line(), "finished_at": io.utc_now(),
                                      "versions": io.versions()})
    simon_figure(result, written[3])
    return written


def simon_figure(result, path: Path) -> Path:
    """E[N | P0] of the best design for each n, with the minimax, admissible and optimal designs (Jung et al. 2001)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=110)
    ns = [design.n for design in result.by_n]
    expected = [design.expected_n_p0 for design in result.by_n]
    ax.plot(ns, expected, "-o", color="tab:blue", ms=3, lw=1, label="best design for each n")
    hull_n = [design.n for design in result.admissible]
    hull_e = [design.expected_n_p0 for design in result.admissible]
    ax.plot(hull_n, hull_e, "-", color="tab:green", lw=1.5, label="admissible (convex hull)")
    for design, label, colour in ((result.minimax, "minimax", "tab:orange"), (result.optimal, "optimal", "tab:red")):
        ax.plot([design.n], [design.expected_n_p0], "s", color=colour, ms=8,
                label=f"{label}: {design.r1}/{design.n1}, {design.r}/{design.n}")
    ax.set_xlabel("maximum number of patients n")
    ax.set_ylabel("expected number of patients at P0")
    ax.set_title(f"Simon two-stage: P0 = {result.p0:g}, P1 = {result.p1:g}, alpha {result.alpha:g}, "
                 f"power {result.power:g}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_png(fig, path)

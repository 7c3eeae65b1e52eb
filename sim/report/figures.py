"""Figures (matplotlib, Agg backend): each drawn by a ``draw_*`` function that returns the figure
(the HTML report embeds it) and written atomically as PNG by its ``*_figure`` twin.

Every title states what the numbers assume: the test, its sidedness and alpha, and the true rates.
"""

from __future__ import annotations

import io as _io
import math
import numbers
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ..io import atomic_path
from .describe import describe_test
from .formats import pct

if TYPE_CHECKING:  # annotations only: designs.sizing imports scipy
    from ..designs.sizing import SizingResult

_FIGSIZE = (8, 4.8)
_DPI = 120


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def save_png(fig, path: Path) -> Path:
    """Write ``fig`` atomically as PNG and close it."""
    plt = _pyplot()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def png_bytes(fig) -> bytes:
    """``fig`` as PNG bytes (for embedding), then closed."""
    plt = _pyplot()
    buffer = _io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


# --------------------------------------------------------------------------- sizing


def _percent_axis(ax, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda v, _: f"{100 * v:.0f}%")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _pp_axis(ax) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} pp"))


def size_title(result: SizingResult, analysis: Any = None) -> str:
    """Two lines: scenario and analysis; test (sidedness, alpha) or interval, and the true rates."""
    rates = ""
    if result.true_rates:
        rates = "true rate " + " vs ".join(f"{g} {pct(r)}" for g, r in zip(result.groups, result.true_rates))
    test = describe_test(analysis) if analysis is not None else result.kind
    method = "exact" if result.method == "exact" else f"Monte Carlo, {result.trials:,} trials per size"
    return f"{result.scenario}: {result.analysis}\n{test}; {rates + '; ' if rates else ''}{method}"


def zoom_window(result: SizingResult) -> Optional[tuple[float, float]]:
    """The x-range around where the curve crosses the target (None: show the whole range).

    From half of the smallest interesting size below it to half of the largest above it (at least
    10 sizes each side), within the computed range.
    """
    marks = [n for n in (result.n_first, result.n_stable, result.normal_n_first) if n is not None]
    if not marks:
        return None
    low, high = result.size_range
    left = max(low, min(marks) - max(10, min(marks) // 2))
    right = min(high, max(marks) + max(10, max(marks) // 2))
    if right <= left:
        return None
    return left - 0.5, right + 0.5


def draw_size_figure(result: SizingResult, *, analysis: Any = None, zoom: bool = True):
    """The curve: metric against size, the target, n_first and n_stable (both marked even when equal),
    and the normal approximation; ±2 SE band for Monte Carlo curves."""
    from .design import exact_column, metric_label, normal_values, ratio_text, se_column

    plt = _pyplot()
    metric = result.target.metric
    ns = [point.n for point in result.curve]
    values = [point.value(metric) for point in result.curve]
    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI)
    label = "exact" if result.method == "exact" else "Monte Carlo"
    marker = "o" if len(ns) <= 40 else None
    ax.step(ns, values, where="mid", color="tab:blue", label=f"{metric_label(result)} ({label})")
    if marker:
        ax.plot(ns, values, ls="none", marker=marker, ms=3, color="tab:blue")
    if result.method == "monte-carlo":
        se = [point.value(se_column(result)) for point in result.curve]
        ax.fill_between(ns, [v - 2 * s for v, s in zip(values, se)], [v + 2 * s for v, s in zip(values, se)],
                        step="mid", color="tab:blue", alpha=0.2, label="± 2 SE")
        exact = [point.value(exact_column(result)) for point in result.curve]
        if all(value is not None for value in exact):
            ax.plot(ns, exact, color="black", lw=0.8, label="exact")
    normals = normal_values(result)
    if normals is not None:
        ax.plot(ns, normals, ls="--", color="tab:gray", marker="x" if len(ns) <= 3 else None,
                label="normal approximation")
    if len(ns) <= 3:  # a range of one to three sizes: say the numbers
        from .design import _metric_text

        for n, value in zip(ns, values):
            ax.annotate(_metric_text(result, value, 1), (n, value), textcoords="offset points", xytext=(8, 4),
                        fontsize=9, color="tab:blue")
    ax.axhline(result.target.threshold, color="tab:red", lw=0.8, label=f"target: {result.target.describe()}")
    same = result.n_first is not None and result.n_first == result.n_stable
    if result.n_stable is not None:
        value = result.value_at(result.n_stable)
        ax.axvline(result.n_stable, color="tab:green", lw=1.2,
                   label=(f"n_first = n_stable = {result.n_stable} (recommended)" if same
                          else f"n_stable = {result.n_stable} (recommended)"))
        ax.plot([result.n_stable], [value], marker="*", ms=13, color="tab:green", ls="none", zorder=5)
    if result.n_first is not None:
        value = result.value_at(result.n_first)
        if not same:
            ax.axvline(result.n_first, color="tab:orange", ls=":", lw=1.5, label=f"n_first = {result.n_first}")
        # A hollow ring around the point: visible on top of n_stable's star when they coincide.
        ax.plot([result.n_first], [value], marker="o", ms=16, mfc="none", mec="tab:orange", mew=1.8, ls="none",
                zorder=6)
    window = zoom_window(result) if zoom else None
    if window is not None:
        ax.set_xlim(*window)
    elif len(ns) == 1:
        ax.set_xlim(ns[0] - 5, ns[0] + 5)
    if metric == "mean_width":
        _pp_axis(ax)
        if window is not None:  # fit the widths seen in the window, not those of the whole range
            seen = [v for n, v in zip(ns, values) if window[0] <= n <= window[1]]
            seen += [v for n, v in zip(ns, normals or []) if window[0] <= n <= window[1] and v is not None]
            seen.append(result.target.threshold)
            pad = 0.1 * (max(seen) - min(seen) or 0.01)
            ax.set_ylim(min(seen) - pad, max(seen) + pad)
    else:
        _percent_axis(ax)
        ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(f"patients in {ratio_text(result)}")
    ax.set_ylabel(metric_label(result))
    ax.set_title(size_title(result, analysis), fontsize=9, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right" if metric != "mean_width" else "upper right")
    fig.tight_layout()
    return fig


def size_figure(result: SizingResult, path: Path, *, analysis: Any = None, zoom: bool = True) -> Path:
    """The curve as a PNG (see :func:`draw_size_figure`)."""
    return save_png(draw_size_figure(result, analysis=analysis, zoom=zoom), path)


# --------------------------------------------------------------------------- sweeps


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def sweep_axes(grid) -> tuple[str, list[str]]:
    """The x parameter (the grid's first) and the parameters that separate lines (all the others,
    except those zipped with the x parameter, which move with it)."""
    parameters = list(grid.parameters)
    first = parameters[0]
    zipped = {path for path, _ in grid.zip}
    together = zipped if first in zipped else {first}
    return first, [p for p in parameters if p not in together]


def draw_sweep_figure(frame, grid, *, analysis_id: Optional[str] = None, description: Optional[str] = None):
    """The key metric (power, or mean width for an estimate) of one analysis (default: the first)
    against the grid's first parameter, one line per combination of the other parameters, ±2 SE bars."""
    plt = _pyplot()
    analysis_id = analysis_id or frame["analysis"].iloc[0]
    rows = frame[frame["analysis"] == analysis_id]
    kind = rows["kind"].iloc[0]
    metric, se_name = ("power", "power_se") if kind == "compare" else ("mean_width", "mean_width_se")
    x_name, line_names = sweep_axes(grid)
    x_values = list(dict.fromkeys(rows[x_name]))
    numeric = all(_is_number(v) for v in x_values)
    position = {v: (v if numeric else i) for i, v in enumerate(x_values)}
    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI)
    combos = rows.groupby(line_names, sort=False, dropna=False) if line_names else [((), rows)]
    for key, part in combos:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{name.split('.')[-1]} = {value}" for name, value in zip(line_names, key)) or metric
        xs = [position[v] for v in part[x_name]]
        ys = part[metric].astype(float).to_numpy()
        se = part[se_name].astype(float).fillna(0.0).to_numpy() if se_name in part else None
        ax.errorbar(xs, ys, yerr=None if se is None else 2 * se, marker="o", ms=4, capsize=3, label=label)
    if not numeric:
        ax.set_xticks(range(len(x_values)), [str(v) for v in x_values], rotation=20, ha="right", fontsize=8)
    if metric == "power":
        _percent_axis(ax)
        ax.set_ylim(-0.02, 1.02)
    else:
        _pp_axis(ax)
    together = [p for p in grid.parameters if p != x_name and p not in line_names]
    ax.set_xlabel(x_name + (f" (with {', '.join(together)}: zipped)" if together else ""))
    ax.set_ylabel(f"{metric.replace('_', ' ')} (Monte Carlo ± 2 SE)")
    trials = rows["trials"].iloc[0] if "trials" in rows else None
    title = f"{analysis_id}" + (f"\n{description}" if description else "")
    if trials is not None:
        title += f"; {int(trials):,} trials per point"
    ax.set_title(title, fontsize=9, loc="left")
    ax.grid(alpha=0.3)
    if line_names:
        ax.legend(fontsize=8, title=None, loc="best")
    fig.tight_layout()
    return fig


def sweep_figure(frame, grid, path: Path, *, analysis_id: Optional[str] = None,
                 description: Optional[str] = None) -> Path:
    """``sweep.png``: see :func:`draw_sweep_figure`."""
    return save_png(draw_sweep_figure(frame, grid, analysis_id=analysis_id, description=description), path)


# --------------------------------------------------------------------------- design


def draw_risk_figure(scenario, endpoint: str = "cardiac_event"):
    """Risk against washout for each group (p(w) of its risk model), with each group's washout
    density shaded and its marginal (true) rate dashed: the assumptions behind the true rates.
    Returns None when no group has a washout distribution."""
    import numpy as np

    from ..model import marginal_rate, risk_at

    groups = [(name, g) for name, g in scenario.groups.items() if g.washout_months is not None]
    if not groups:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=_FIGSIZE, dpi=_DPI)
    density_ax = ax.twinx()
    upper = 0.0
    for name, group in groups:
        washout = group.washout_months
        if hasattr(washout, "scipy_distribution") and washout.distribution != "fixed":
            upper = max(upper, float(washout.scipy_distribution().ppf(0.98)))
        else:
            values = getattr(washout, "values", None) or [getattr(washout, "value", 1.0)]
            upper = max(upper, float(max(values)))
    upper = max(upper, scenario.eligibility.min_washout_months * 1.5, 1.0)
    grid = np.linspace(0.01, upper, 300)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, (name, group) in enumerate(groups):
        color = colors[index % len(colors)]
        risk = group.risk(endpoint)
        if risk is None:
            continue
        ax.plot(grid, [risk_at(risk, w) for w in grid], color=color, lw=2, label=f"{name}: p(washout)")
        rate = marginal_rate(group, endpoint, scenario.eligibility)
        if rate is not None:
            ax.axhline(rate, color=color, ls="--", lw=1, label=f"{name}: true rate {pct(rate)}")
        washout = group.washout_months
        if hasattr(washout, "scipy_distribution") and washout.distribution != "fixed":
            density_ax.fill_between(grid, washout.scipy_distribution().pdf(grid), color=color, alpha=0.12)
    if scenario.eligibility.min_washout_months:
        ax.axvline(scenario.eligibility.min_washout_months, color="black", ls=":", lw=1,
                   label=f"minimum washout {scenario.eligibility.min_washout_months:g} months "
                         f"({scenario.eligibility.policy})")
    _percent_axis(ax)
    ax.set_ylim(0, 1)
    density_ax.set_ylim(bottom=0)
    density_ax.set_yticks([])
    density_ax.set_ylabel("washout density (shaded)", fontsize=8)
    ax.set_xlabel("washout (months from the last dose of prior therapy)")
    ax.set_ylabel(f"P({endpoint})")
    ax.set_title(f"{scenario.name}: {endpoint} risk by washout, and the marginal rates it implies",
                 fontsize=9, loc="left")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


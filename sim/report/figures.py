"""Figures (matplotlib, Agg backend), each written atomically as PNG."""

from __future__ import annotations

from pathlib import Path

from ..designs.sizing import SizingResult
from ..io import atomic_path
from .design import exact_column, normal_values, se_column, metric_label, ratio_text


def size_figure(result: SizingResult, path: Path) -> Path:
    """The curve as a PNG: metric against size, target, n_first, n_stable and the normal approximation."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    metric = result.target.metric
    ns = [point.n for point in result.curve]
    values = [point.value(metric) for point in result.curve]
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=120)
    label = "exact" if result.method == "exact" else "Monte Carlo"
    ax.step(ns, values, where="mid", color="tab:blue", label=f"{metric_label(result)} ({label})")
    if result.method == "monte-carlo":
        se = [point.value(se_column(result)) for point in result.curve]
        ax.fill_between(ns, [v - 2 * s for v, s in zip(values, se)], [v + 2 * s for v, s in zip(values, se)],
                        step="mid", color="tab:blue", alpha=0.2, label="± 2 SE")
        exact = [point.value(exact_column(result)) for point in result.curve]
        if all(value is not None for value in exact):
            ax.plot(ns, exact, color="black", lw=0.8, label="exact")
    normals = normal_values(result)
    if normals is not None:
        ax.plot(ns, normals, ls="--", color="tab:gray", label="normal approximation")
    ax.axhline(result.target.threshold, color="tab:red", lw=0.8, label=f"target {result.target.describe()}")
    if result.n_first is not None:
        ax.axvline(result.n_first, color="tab:orange", ls=":", label=f"n_first = {result.n_first}")
    if result.n_stable is not None:
        ax.axvline(result.n_stable, color="tab:green", label=f"n_stable = {result.n_stable} (recommended)")
    ax.set_xlabel(f"patients in {ratio_text(result)}")
    ax.set_ylabel(metric_label(result))
    ax.set_title(f"{result.scenario}: {result.analysis}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path

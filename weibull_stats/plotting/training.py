"""Training figures: what a scan or monitor folder with several steps shows across training.

From a results table with a ``step`` column (a scan of a folder of ``step-N`` checkpoints, a
training monitor's folder): k per layer and step as a heatmap, per-kind median k and λ against
step, the depth profile at the first and last step
(:mod:`~weibull_stats.plotting.training_panels`), λ against step with a fitted growth law
(:mod:`~weibull_stats.plotting.training_growth`). :func:`plot_training` draws all four;
:func:`training_figures` draws them one at a time (the report's hook).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from weibull_stats.core.constants import DEFAULT_ANCHOR
from weibull_stats.plotting._base import DEFAULT_DPI, DEFAULT_FORMATS, save_figure
from weibull_stats.plotting.training_base import training_rows
from weibull_stats.plotting.training_growth import plot_training_growth
from weibull_stats.plotting.training_panels import (
    plot_training_depth,
    plot_training_heatmap,
    plot_training_medians,
)
from weibull_stats.scanning.growth import DEFAULT_GROWTH_CURVE

#: The training figures, by the file name the report and :func:`plot_training` give them.
TRAINING_FIGURES: tuple[tuple[str, str], ...] = (
    ("training_heatmap", "k by layer and step"),
    ("training_medians", "per-kind median k and λ against step"),
    ("training_depth", "k by layer at the first and last step"),
    ("training_growth", "λ against step with a fitted growth law"),
)


def training_figures(results: Any, *, estimator: str | None = None, anchor: str | None = DEFAULT_ANCHOR,
                     curve: str = DEFAULT_GROWTH_CURVE) -> Iterator[tuple[str, str, Any]]:
    """Draw the training figures one at a time: ``(name, description, figure)`` of each of
    :data:`TRAINING_FIGURES` (the depth profile only where a matrix has a layer).

    A generator, so a caller saves and closes each figure before the next is drawn. The
    table is checked first (:func:`training_rows`), before any figure.
    """
    data, estimator = training_rows(results, estimator)
    draw = {"training_heatmap": lambda: plot_training_heatmap(data, estimator=estimator, anchor=anchor),
            "training_medians": lambda: plot_training_medians(data, estimator=estimator, anchor=anchor),
            "training_depth": lambda: plot_training_depth(data, estimator=estimator, anchor=anchor),
            "training_growth": lambda: plot_training_growth(data, estimator=estimator, curve=curve)}
    layered = bool(data["layer"].notna().any())
    for name, description in TRAINING_FIGURES:
        if name != "training_depth" or layered:
            yield name, description, draw[name]()


def plot_training(results: Any, out: str | Path | None = None, *, estimator: str | None = None,
                  anchor: str | None = DEFAULT_ANCHOR, curve: str = DEFAULT_GROWTH_CURVE,
                  formats: Sequence[str] = DEFAULT_FORMATS, dpi: float = DEFAULT_DPI) -> dict[str, Any]:
    """Draw the four training figures of a scan or monitor folder (or results table) with steps.

    Parameters
    ----------
    results : pandas.DataFrame or path
        A results table with two or more steps, or the folder a scan or monitor wrote.
    out : path, optional
        Also save each figure there as ``training_heatmap.png`` ... (one file per format),
        releasing it from pyplot afterwards.
    estimator : str, optional
        Default ``"probability_plot"`` where present, else the table's first estimator.
    anchor : {"halfnormal", "uniform"} or None, default "halfnormal"
    curve : {"saturating", "power"}, default "saturating"
        The growth law of λ (:data:`~weibull_stats.scanning.growth.GROWTH_CURVES`).
    formats : sequence of {"png", "pdf", "svg"}, default ("png", "pdf")
    dpi : float, default 200

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Keyed by the names of :data:`TRAINING_FIGURES` (no ``"training_depth"`` where no
        matrix has a layer).

    Raises
    ------
    ValueError
        One step only, or columns missing (:func:`training_rows`).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"step": [0, 10, 20, 30], "estimator": "mle", "kind": "q", "layer": 0,
    ...                      "tensor": "q.weight", "part": "",
    ...                      "numel": 64, "shape": [1.2, 1.3, 1.35, 1.4],
    ...                      "scale": [0.02, 0.025, 0.028, 0.029]})
    >>> sorted(plot_training(rows))
    ['training_depth', 'training_growth', 'training_heatmap', 'training_medians']
    """
    figures = {}
    for name, _, fig in training_figures(results, estimator=estimator, anchor=anchor, curve=curve):
        if out is not None:
            save_figure(fig, Path(out) / name, formats=formats, dpi=dpi)
        figures[name] = fig
    return figures


__all__ = ["TRAINING_FIGURES", "plot_training", "training_figures"]

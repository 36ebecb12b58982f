"""The scan figure of a mixture of experts: ``k`` of every expert matrix by expert and layer."""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.plotting._base import kind_order
from weibull_stats.plotting.scan_shape import panel_grid


def plot_scan_shape_by_expert(frame: Any, *, estimator: str = DEFAULT_ESTIMATOR) -> Any:
    """Weibull shape ``k`` by expert (x) and layer (y), one panel per kind, for the last
    checkpoint of a scan of a mixture of experts.

    Each cell is one routed expert's matrix (rows with an ``expert``); the panels share one
    colour scale, so an expert or a layer whose ``k`` departs from the rest stands out. A
    layer without experts (DeepSeek's dense first layers) is a blank row; shared experts,
    having no index, are in the by-layer figure.

    Parameters
    ----------
    frame : pandas.DataFrame
        A scan table (:func:`weibull_stats.scan`).
    estimator : str, default "probability_plot"

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No row of ``estimator`` in the last checkpoint has an expert and a layer.
    """
    data = frame[(frame["estimator"] == estimator) & frame["expert"].notna() & frame["layer"].notna()]
    if len(data):
        data = data[data["checkpoint"] == data["checkpoint"].iloc[-1]]
    if not len(data):
        raise ValueError(f"no {estimator} row of `frame` has an expert and a layer "
                         "(not a mixture of experts)")
    kinds = kind_order(data["kind"].unique())
    layers = int(data["layer"].max()) + 1
    experts = int(data["expert"].max()) + 1
    shape = data["shape"].to_numpy(dtype=float)
    low, high = float(np.nanmin(shape)), float(np.nanmax(shape))
    from matplotlib.ticker import MaxNLocator  # matplotlib only when a plot is drawn

    fig, axes = panel_grid(len(kinds), width=max(3.0, 0.22 * experts + 1.6),
                           height=max(2.4, 0.2 * layers + 1.2))
    image = None
    for ax, kind in zip(axes, kinds, strict=True):
        part = data[data["kind"] == kind]
        grid = np.full((layers, experts), np.nan)
        # several matrices of one (layer, expert, kind) (none in the families named): their median
        medians = part.groupby(["layer", "expert"])["shape"].median()
        for (layer, expert), value in medians.items():
            grid[int(layer), int(expert)] = float(value)
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis", vmin=low, vmax=high,
                          interpolation="nearest")
        ax.set_title(kind, fontsize="medium")
        ax.set_xlabel("expert")
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes[:: min(4, len(axes))]:
        ax.set_ylabel("layer")
    last = data["checkpoint"].iloc[-1]
    fig.suptitle(f"Weibull shape by expert and layer ({estimator}), checkpoint {last}", fontsize="medium")
    fig.tight_layout(rect=(0, 0, 0.9, 0.95))
    if image is not None:
        fig.colorbar(image, cax=fig.add_axes((0.92, 0.15, 0.015, 0.7)), label="shape k")
    return fig


__all__ = ["plot_scan_shape_by_expert"]

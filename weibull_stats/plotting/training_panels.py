"""The training figures of k: k per layer and step as a heatmap (:func:`plot_training_heatmap`),
per-kind median k and λ against step (:func:`plot_training_medians`), the depth profile at the
first and last step (:func:`plot_training_depth`). Every legend is computed from the columns
drawn; the anchor and the published bands are drawn for fits on the published protocol only."""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.core.constants import DEFAULT_ANCHOR
from weibull_stats.inference.published import FIGURE_ATTRIBUTION, resolve_band
from weibull_stats.plotting._base import kind_order, pyplot
from weibull_stats.plotting.scan_shape import (
    INTERVAL_COLUMNS,
    figure_footer,
    fit_label,
    interval_label,
    interval_source,
    panel_grid,
)
from weibull_stats.plotting.training_base import (
    bars_text,
    protocol_notes,
    row_label,
    step_axis,
    step_medians,
    training_rows,
)

#: Most step labels on a heatmap's x axis (thinned beyond it).
MOST_STEP_LABELS = 12

def plot_training_heatmap(results: Any, *, estimator: str | None = None, anchor: str | None = DEFAULT_ANCHOR,
                          values: bool | None = None) -> Any:
    """k of every matrix against step as a heatmap: one panel per kind, one row per layer.

    Parameters
    ----------
    results : pandas.DataFrame or path
        A results table with steps, or a scan or monitor folder (:func:`training_rows`).
    estimator : str, optional
    anchor : {"halfnormal", "uniform"} or None, default "halfnormal"
        For fits on the published protocol the colour scale is centred (white) on the
        anchor's ``k0``: red above it, blue below. Otherwise, or with None, a sequential
        scale.
    values : bool, optional
        Write k in each cell; default when a panel has at most 60 cells.

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled by kind, x ticks labelled with the steps; rows without a layer
        (embeddings, heads) are labelled with their tensor's short name. A cell holds the
        median when several matrices share it (the caption says so).

    Raises
    ------
    ValueError
        As :func:`~weibull_stats.plotting.training_base.training_rows`, or no finite k.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"step": [0, 0, 10, 10], "estimator": "mle", "kind": "q", "layer": [0, 1, 0, 1],
    ...                      "tensor": "q.weight", "part": "",
    ...                      "numel": 64, "shape": [1.2, 1.25, 1.3, 1.4], "scale": 0.02})
    >>> fig = plot_training_heatmap(rows)
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['0', '10']
    """
    from matplotlib.colors import Normalize

    data, estimator = training_rows(results, estimator)
    layout, line, _, caption = protocol_notes(data, estimator, anchor, False)
    steps = sorted(set(data["step"]))
    kinds = kind_order(data["kind"].unique())
    data = data.assign(row=[row_label(*where) for where in zip(data["layer"], data["tensor"], data["part"],
                                                                strict=True)])
    grids = {}
    shared = False
    for kind in kinds:
        part = data[data["kind"] == kind]
        shared = shared or bool(part.groupby(["row", "step"]).size().max() > 1)
        grid = part.pivot_table(index="row", columns="step", values="shape", aggfunc="median")
        order = sorted(grid.index, key=lambda r: (0, int(r), "") if r.isdigit() else (1, 0, r))
        grids[kind] = grid.reindex(index=order, columns=steps)
    finite = np.concatenate([g.to_numpy(dtype=float).ravel() for g in grids.values()])
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        raise ValueError("`results`: no finite k to draw")
    low, high = float(finite.min()), float(finite.max())
    if line is not None:  # a diverging scale, symmetric about the anchor
        reach = max(high - line.shape, line.shape - low, 1e-3)
        norm, cmap = Normalize(line.shape - reach, line.shape + reach), "RdBu_r"
    else:
        norm, cmap = Normalize(low, high if high > low else low + 1e-3), "viridis"
    rows = max(len(g) for g in grids.values())
    fig, axes = panel_grid(len(kinds), width=3.0, height=1.3 + 0.22 * rows)
    image = None
    thin = -(-len(steps) // MOST_STEP_LABELS)
    for ax, kind in zip(axes, kinds, strict=True):
        grid = grids[kind]
        cells = grid.to_numpy(dtype=float)
        image = ax.imshow(np.ma.masked_invalid(cells), aspect="auto", origin="lower", cmap=cmap, norm=norm,
                          interpolation="nearest")
        ax.set_xticks(range(0, len(steps), thin), [str(s) for s in steps[::thin]], fontsize=7,
                      rotation=45 if len(steps) > 6 else 0)
        ax.set_yticks(range(len(grid)), list(grid.index), fontsize=7)
        ax.set_title(kind, fontsize="medium")
        ax.set_xlabel("step", fontsize="small")
        ax.set_facecolor("0.85")  # a missing cell: grey
        if values if values is not None else cells.size <= 60:
            for (i, j), value in np.ndenumerate(cells):
                if np.isfinite(value):
                    ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize=5.5,
                            color="white" if abs(norm(value) - 0.5) > 0.35 else "black")
    for ax, kind in list(zip(axes, kinds, strict=True))[:: min(4, len(axes))]:
        if any(str(r).isdigit() for r in grids[kind].index):
            ax.set_ylabel("layer", fontsize="small")
    label = fit_label(data, estimator)
    what = (f"cell: k of the matrix ({label})" + (", the median where several share a cell" if shared else "")
            + (f"; white: {line.label}" if line is not None else ""))
    fig.suptitle(f"Weibull shape k by layer and step ({label}), layout {layout}", fontsize="medium")
    figure_footer(fig, [], [], "; ".join(t for t in (what, caption) if t))
    fig.subplots_adjust(right=0.9)
    bar = fig.colorbar(image, cax=fig.add_axes((0.925, 0.25, 0.012, 0.6)))
    bar.set_label("shape k", fontsize="small")
    bar.ax.tick_params(labelsize=7)
    if line is not None:
        bar.ax.axhline(line.shape, color="0.2", lw=0.8, ls="--")
    return fig


def plot_training_medians(results: Any, *, estimator: str | None = None, anchor: str | None = DEFAULT_ANCHOR,
                          published: bool = True, interval: str = "auto") -> Any:
    """Per-kind median k and λ against step, with intervals, the anchor and the published band.

    Each kind has two panels: k (top) and λ (bottom), the medians over the kind's matrices
    at each step. Their bars are the medians of the matrices' interval ends, from the
    interval columns the legend names (:func:`~weibull_stats.plotting.scan.interval_label`).
    The anchor line and the published band of the kind (for the scanned model's attention
    layout) are drawn for fits on the published protocol; otherwise the caption says they
    are not comparable.

    Parameters
    ----------
    results : pandas.DataFrame or path
        A results table with steps, or a scan or monitor folder (:func:`training_rows`).
    estimator : str, optional
    anchor : {"halfnormal", "uniform"} or None, default "halfnormal"
    published : bool, default True
    interval : {"auto", "asymptotic", "bootstrap", "none"}, default "auto"
        As :func:`~weibull_stats.plotting.scan.interval_source`: the bootstrap interval where
        every row has one, else the asymptotic one.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"step": [0, 10], "estimator": "mle", "kind": "q", "layer": 0,
    ...                      "tensor": "q.weight", "part": "",
    ...                      "numel": 64, "shape": [1.2, 1.3], "scale": [0.02, 0.03]})
    >>> [ax.get_ylabel() for ax in plot_training_medians(rows).axes]
    ['median k', 'median λ']
    """
    data, estimator = training_rows(results, estimator)
    layout, line, banded, caption = protocol_notes(data, estimator, anchor, published)
    source = interval_source(data, interval)
    steps = sorted(set(data["step"]))
    kinds = kind_order(data["kind"].unique())
    columns = min(4, len(kinds))
    pairs = -(-len(kinds) // columns)
    # rows: k, λ, a spacer, k, λ, ... (a kind's two panels close together, kinds apart)
    ratios = [1.0, 1.0, 0.28] * pairs
    fig, axes = pyplot().subplots(len(ratios) - 1, columns, figsize=(3.3 * columns, 4.4 * pairs + 1.4),
                                  squeeze=False, gridspec_kw={"height_ratios": ratios[:-1]})
    for spacer in axes[2::3].ravel():
        spacer.set_visible(False)
    grid = np.delete(axes, np.s_[2::3], axis=0)
    label = fit_label(data, estimator)
    entries: dict[str, Any] = {}
    bands = False
    for index in range(pairs * columns):
        row, column = 2 * (index // columns), index % columns
        ax_k, ax_l = grid[row, column], grid[row + 1, column]
        if index >= len(kinds):
            ax_k.set_visible(False)
            ax_l.set_visible(False)
            continue
        kind = kinds[index]
        table = step_medians(data, kind, source)
        where = table.index.to_numpy(dtype=float)
        for ax, name, of, color in ((ax_k, "shape", "k", "C0"), (ax_l, "scale", "λ", "C1")):
            middle = table[name].to_numpy(dtype=float)
            if source:
                bars = [middle - table[f"{name}_low"].to_numpy(dtype=float),
                        table[f"{name}_high"].to_numpy(dtype=float) - middle]
                drawn = ax.errorbar(where, middle, yerr=bars, fmt="o-", ms=3, lw=1, capsize=2, color=color)
            else:
                (drawn,) = ax.plot(where, middle, "o-", ms=3, lw=1, color=color)
            entries.setdefault(f"median {of} over the kind's matrices ({label})\n"
                               + (bars_text(data, source, of) if source else "no interval drawn"), drawn)
            ax.grid(True, color="0.92", lw=0.6)
        title = str(kind)
        if banded:
            band = resolve_band(layout, str(kind))
            if band.found:
                bands = True
                shade = ax_k.axhspan(band.low, band.high, color="C2", alpha=0.18, lw=0, zorder=0)
                entries.setdefault(f"published range of per-model median k, {layout}", shade)
            else:
                title += " (no published band)"
        if line is not None:
            entries.setdefault(line.label, ax_k.axhline(line.shape, color="0.35", lw=0.9, ls="--", zorder=1))
        ax_k.set_title(title, fontsize="medium")
        step_axis(ax_l, steps)
        step_axis(ax_k, steps)
        ax_k.set_xlim(ax_l.get_xlim())
        ax_k.tick_params(labelbottom=False)
        ax_k.set_xlabel("")
        ax_k.set_ylabel("median k", fontsize="small")
        ax_l.set_ylabel("median λ", fontsize="small")
    fig.suptitle(f"Per-kind median k and λ against step ({label}), layout {layout}", fontsize="medium")
    caption = caption or (FIGURE_ATTRIBUTION if bands else "")
    figure_footer(fig, list(entries.values()), list(entries), caption, columns=2)
    return fig


def plot_training_depth(results: Any, *, estimator: str | None = None, anchor: str | None = DEFAULT_ANCHOR,
                        published: bool = True, interval: str = "auto") -> Any:
    """k by layer at the first and the last step: one panel per kind with a layer.

    Each matrix's k with its interval (the columns the legend names), the first step in
    grey, the last in colour; the anchor and the kind's published band for fits on the
    published protocol (as :func:`plot_training_medians`).

    Parameters
    ----------
    results : pandas.DataFrame or path
    estimator : str, optional
    anchor : {"halfnormal", "uniform"} or None, default "halfnormal"
    published : bool, default True
    interval : {"auto", "asymptotic", "bootstrap", "none"}, default "auto"

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No row has a layer (no depth to draw).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"step": [0, 0, 10, 10], "estimator": "mle", "kind": "q", "layer": [0, 1, 0, 1],
    ...                      "tensor": "q.weight", "part": "",
    ...                      "numel": 64, "shape": [1.2, 1.25, 1.3, 1.4], "scale": 0.02})
    >>> fig = plot_training_depth(rows)
    >>> sorted(text.get_text() for text in fig.legends[0].get_texts())[-2:]
    ['k at step 0 (first)', 'k at step 10 (last)']
    """
    data, estimator = training_rows(results, estimator)
    data = data[data["layer"].notna()]
    if not len(data):
        raise ValueError("`results`: no matrix has a layer, so there is no depth profile to draw")
    layout, line, banded, caption = protocol_notes(data, estimator, anchor, published)
    first, last = min(data["step"]), max(data["step"])
    ends = data[data["step"].isin([first, last])]
    source = interval_source(ends, interval)
    kinds = kind_order(ends["kind"].unique())
    fig, axes = panel_grid(len(kinds), sharey=True)
    label = fit_label(data, estimator)
    entries: dict[str, Any] = {}
    bands = False
    for ax, kind in zip(axes, kinds, strict=True):
        for step, color, mark in ((first, "0.55", "s--"), (last, "C0", "o-")):
            part = ends[(ends["kind"] == kind) & (ends["step"] == step)].sort_values("layer")
            where, shape = part["layer"].to_numpy(dtype=float), part["shape"].to_numpy(dtype=float)
            name = f"k at step {step} ({'first' if step == first else 'last'})"
            if source:
                low, high = (part[c].to_numpy(dtype=float) for c in INTERVAL_COLUMNS[source])
                drawn = ax.errorbar(where, shape, yerr=[shape - low, high - shape], fmt=mark, ms=3, lw=1,
                                    capsize=2, color=color)
            else:
                (drawn,) = ax.plot(where, shape, mark, ms=3, lw=1, color=color)
            entries.setdefault(name, drawn)
        if source:
            entries.setdefault(interval_label(ends, source), drawn)
        if banded:
            band = resolve_band(layout, str(kind))
            if band.found:
                bands = True
                shade = ax.axhspan(band.low, band.high, color="C2", alpha=0.18, lw=0, zorder=0)
                entries.setdefault(f"published range of per-model median k, {layout}", shade)
        if line is not None:
            entries.setdefault(line.label, ax.axhline(line.shape, color="0.35", lw=0.9, ls="--", zorder=1))
        missing = banded and not resolve_band(layout, str(kind)).found
        ax.set_title(f"{kind} (no published band)" if missing else kind, fontsize="medium")
        ax.set_xlabel("layer", fontsize="small")
        ax.tick_params(labelsize=7)
        layers = sorted({int(v) for v in ends.loc[ends["kind"] == kind, "layer"]})
        if len(layers) <= 12:
            ax.set_xticks(layers)
        ax.grid(True, axis="y", color="0.92", lw=0.6)
    for ax in axes[:: min(4, len(axes))]:
        ax.set_ylabel("shape k", fontsize="small")
    fig.suptitle(f"Depth profile of k, step {first} and step {last} ({label}), layout {layout}",
                 fontsize="medium")
    caption = caption or (FIGURE_ATTRIBUTION if bands else "")
    figure_footer(fig, list(entries.values()), list(entries), caption)
    return fig



__all__ = ["MOST_STEP_LABELS", "plot_training_depth", "plot_training_heatmap", "plot_training_medians"]

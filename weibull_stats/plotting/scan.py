"""Scan figures: the shape ``k`` by layer or by matrix (:mod:`~weibull_stats.plotting.scan_shape`),
probability plots per kind, trajectories. Panels that show the same quantity share their y-range."""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.core.constants import DEFAULT_ANCHOR
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.plotting._base import kind_order, percent_ticks, pyplot
from weibull_stats.plotting.probability import draw_probability
from weibull_stats.plotting.scan_shape import (
    INTERVAL_COLUMNS,
    interval_label,
    interval_source,
    layout_and_protocol,
    panel_grid,
    plot_scan_shape_by_layer,
    plot_scan_shape_by_matrix,
    scan_anchor,
)
from weibull_stats.sample.checked import Sample


def plot_scan_probability(samples: Any, *, trim: tuple[float, float] = (0.1, 0.9), points: int = 800,
                          band_level: float | None = 0.95, margin: float | None = None,
                          window_note: str | None = None) -> Any:
    """Weibull probability plots on a probability-scaled axis, one panel per kind.

    Each panel is :func:`~weibull_stats.plotting.plot_probability`'s drawing: ``|w|`` on a
    log axis over the whole sample (both tails), percent ticks, the pointwise order-statistic
    band; all panels share the probability range.

    Parameters
    ----------
    samples : sequence of (title, magnitudes, shape, scale)
        Positive magnitudes of one matrix per kind (an array of any float dtype,
        ``ml_dtypes.bfloat16`` included, or a :class:`~weibull_stats.Sample`) and the
        fitted law.
    trim : (float, float)
        Plotting-position window of the fit, shaded.
    points : int
        Order statistics drawn per panel (evenly spaced in rank; the fit used all).
    band_level : float or None, default 0.95
    margin : float, optional
        Focus each x-range on the window widened by ``margin`` window log-widths each side
        (the points outside are counted on the panel); default the whole sample.
    window_note : str, optional
        What the shaded window is, for a fit that has no trim of its own (default: "fitted
        window F in [low, high]").

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples)
    fig, axes = panel_grid(max(1, len(samples)), width=3.6, height=3.1)
    limits = []
    for ax, (title, x, shape, scale) in zip(axes, samples, strict=False):
        if isinstance(x, Sample):
            data = x.sorted_magnitudes()
        else:
            data = np.sort(np.asarray(x).astype(np.float64).reshape(-1))
        drawn = draw_probability(ax, data, shape, scale, window=trim, margin=margin, band_level=band_level,
                                 max_points=points, line_label=f"k = {shape:.4f}", marker_size=2)
        limits.append(drawn["ylim"])
        head, _, tail = str(title).partition(": ")
        ax.set_title(f"{head} (n = {data.size:,})" + (f"\n{tail}" if tail else ""), fontsize=7.5)
        ax.set_ylabel("F (Weibull scale)", fontsize="small")
        handles, labels = ax.get_legend_handles_labels()
        keep = [i for i, text in enumerate(labels) if text.startswith("k =")]
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], fontsize=7, loc="upper left",
                  framealpha=0.9)
        if drawn["below"] or drawn["above"]:
            ax.text(0.97, 0.04, f"outside x-range:\n{drawn['below']:,} below, {drawn['above']:,} above",
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=6.5, color="0.3")
    if limits:
        shared = (min(lo for lo, _ in limits), max(hi for _, hi in limits))
        for ax in axes[: len(samples)]:
            ax.set_ylim(*shared)
            percent_ticks(ax)
            ax.tick_params(labelsize=7)
    caption = (f"Shaded: {window_note or f'fitted window F in [{trim[0]:g}, {trim[1]:g}]'}"
               + (f"; blue band: {band_level:.0%} pointwise band of the order statistics "
                  "under the fitted law "
                  "(Beta(i, n−i+1) quantiles)" if band_level is not None else "")
               + ("; at large n the band is narrower than the line (fit.plot() adds a panel of "
                  "order-statistic scores where it shows)" if band_level is not None else "")
               + ("; x-range: the whole sample." if margin is None else
                  f"; x-range: the window widened by {margin:g} of its log-width each side."))
    fig.text(0.5, 0.01, caption, ha="center", va="bottom", fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    return fig


def plot_scan_trajectory(frame: Any, *, estimator: str = DEFAULT_ESTIMATOR,
                         anchor: str | None = DEFAULT_ANCHOR) -> Any:
    """Median shape ``k`` and scale ``λ`` over layers against training step, one line per kind.

    The ``anchor`` line (``"halfnormal"`` or ``"uniform"``, as in
    :func:`plot_scan_shape_by_layer`, labelled with its law) is drawn for fits on the
    published protocol only (estimator and options, as :func:`plot_scan_shape_by_layer`
    decides).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = frame[(frame["estimator"] == estimator) & frame["step"].notna()]
    line = scan_anchor(anchor) if layout_and_protocol(data, estimator)[1] else None
    medians = data.groupby(["kind", "step"])[["shape", "scale"]].median().reset_index()
    fig, (ax_shape, ax_scale) = pyplot().subplots(1, 2, figsize=(10.5, 4.2))
    for kind in kind_order(medians["kind"].unique()):
        part = medians[medians["kind"] == kind].sort_values("step")
        step = part["step"].astype(float).to_numpy()
        ax_shape.plot(step, part["shape"].to_numpy(dtype=float), "o-", ms=3, label=kind)
        ax_scale.plot(step, part["scale"].to_numpy(dtype=float), "o-", ms=3, label=kind)
    if line is not None:
        ax_shape.axhline(line.shape, color="0.35", lw=0.9, ls="--", label=line.label)
        bottom, top = ax_shape.get_ylim()
        pad = 0.06 * (top - bottom)
        ax_shape.set_ylim(min(bottom, line.shape - pad), max(top, line.shape + pad))
    ax_shape.set_xlabel("step")
    ax_shape.set_ylabel("median shape k over layers")
    ax_scale.set_xlabel("step")
    ax_scale.set_ylabel("median scale λ over layers")
    for ax in (ax_shape, ax_scale):
        ax.grid(True, color="0.92", lw=0.6)
    ax_shape.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Weibull fits against training step ({estimator})", fontsize="medium")
    fig.tight_layout()
    return fig


__all__ = ["INTERVAL_COLUMNS", "interval_label", "interval_source", "plot_scan_probability",
           "plot_scan_shape_by_layer", "plot_scan_shape_by_matrix", "plot_scan_trajectory", "scan_anchor"]

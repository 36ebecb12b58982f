"""Scan figures: shape by layer (anchor, published bands, intervals), probability plots per
kind, trajectories. Panels that show the same quantity share their y-range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.plotting._base import kind_order, percent_ticks, pyplot
from weibull_stats.plotting.probability import draw_probability
from weibull_stats.sample.checked import Sample


def _panels(count: int, width: float = 3.3, height: float = 2.7, **share: Any) -> tuple[Any, list[Any]]:
    columns = min(4, max(1, count))
    rows = -(-count // columns)
    fig, axes = pyplot().subplots(rows, columns, figsize=(width * columns, height * rows + 0.8),
                                  squeeze=False, **share)
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def _footer(fig: Any, handles: Sequence[Any], labels: Sequence[str], caption: str) -> None:
    """A figure legend under the panels and a caption line beneath it (sizes in inches)."""
    height = fig.get_figheight()
    columns = min(3, max(1, len(labels)))
    legend_rows = -(-len(labels) // columns)
    caption_height = 0.22 if caption else 0.0
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize="small", frameon=False,
                   bbox_to_anchor=(0.5, (0.02 + caption_height) / height), borderaxespad=0.0)
    if caption:
        fig.text(0.5, 0.04 / height, caption, ha="center", va="bottom", fontsize=6.5, color="0.35")
    bottom = 0.06 + caption_height + 0.24 * legend_rows
    fig.tight_layout(rect=(0, bottom / height, 1, 1 - 0.1 / height))


def interval_label(frame: Any) -> str:
    """What the scan's error bars are: level, method and resamples, from the table's columns."""
    empty = pd.Series(dtype=float)
    level = frame["confidence_level"].dropna() if "confidence_level" in frame else empty
    resamples = frame["n_resamples"].dropna() if "n_resamples" in frame else empty
    method = "percentile"
    for column in ("interval_method", "ci_method", "bootstrap_method"):
        if column in frame and frame[column].notna().any():
            method = str(frame[column].dropna().iloc[0])
    text = f"{float(level.iloc[0]):.0%} " if len(level) else ""
    if method == "asymptotic":
        return f"error bars: {text}asymptotic (Wald) interval of k, from the estimator's standard error"
    count = f", {int(resamples.iloc[0])} resamples" if len(resamples) and int(resamples.iloc[0]) else ""
    return f"error bars: {text}{method} bootstrap interval of k{count}"


def plot_scan_shape_by_layer(
    frame: Any,
    *,
    estimator: str = "probability_plot",
    anchor: float | None = HALFNORMAL_ANCHOR_SHAPE,
    bands: Mapping[str, tuple[float, float]] | None = None,
    band_label: str = "published range of per-model median k",
    caption: str = "",
) -> Any:
    """Weibull shape ``k`` against layer, one panel per kind, for the last checkpoint of a scan.

    All panels share one y-range (the same quantity), wide enough for the points, their
    intervals, the anchor and the bands, so the anchor and the bands sit inside the axes.

    Parameters
    ----------
    frame : pandas.DataFrame
        A scan table (:func:`weibull_stats.scan`); bootstrap intervals are drawn as error bars
        where present, and named in the legend (level, method, resamples).
    estimator : str, default "probability_plot"
    anchor : float or None, default 1.2054343190
        Horizontal reference line: the middle-80% probability-plot limit under HalfNormal
        initialisation (i.i.d. Gaussian weights).
    bands : mapping kind -> (low, high), optional
        Published ranges drawn as shaded bands in the panels of those kinds (e.g. from
        :func:`weibull_stats.report.markdown.published_bands`).
    band_label : str
        Legend entry of the bands.
    caption : str
        Footnote under the legend (the bands' source and license belong here).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = frame[(frame["estimator"] == estimator) & frame["layer"].notna()]
    data = data[data["checkpoint"] == data["checkpoint"].iloc[-1]] if len(data) else data
    from weibull_stats.estimators.registry import (
        get_estimator,  # the registry imports results, which plot lazily
    )

    label = get_estimator(estimator).label
    kinds = kind_order(data["kind"].unique())
    fig, axes = _panels(max(1, len(kinds)), sharey=True)
    values: list[float] = [] if anchor is None else [anchor]
    entries: dict[str, Any] = {}
    for ax, kind in zip(axes, kinds, strict=False):
        part = data[data["kind"] == kind].sort_values("layer")
        layer = part["layer"].astype(float).to_numpy()
        shape = part["shape"].to_numpy(dtype=float)
        missing = np.full_like(shape, np.nan)
        low = part["shape_low"].to_numpy(dtype=float) if "shape_low" in part else missing
        high = part["shape_high"].to_numpy(dtype=float) if "shape_high" in part else missing
        values += [*shape]
        if len(low) and np.isfinite(low).all() and np.isfinite(high).all():
            line = ax.errorbar(layer, shape, yerr=[shape - low, high - shape], fmt="o-", ms=3, lw=1,
                               capsize=2, color="C0")
            entries.setdefault(f"{label} k per matrix; {interval_label(part)}", line)
            values += [*low, *high]
        else:
            (line,) = ax.plot(layer, shape, "o-", ms=3, lw=1, color="C0")
            entries.setdefault(f"{estimator} k per matrix (no interval computed)", line)
        if bands and kind in bands:
            band = ax.axhspan(*bands[kind], color="C2", alpha=0.18, lw=0, zorder=0)
            entries.setdefault(band_label, band)
            values += list(bands[kind])
        if anchor is not None:
            ref = ax.axhline(anchor, color="0.35", lw=0.9, ls="--", zorder=1)
            entries.setdefault(f"HalfNormal init anchor k0 = {anchor:.4f}", ref)
            ax.annotate("k0", xy=(1.0, anchor), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                        textcoords="offset points", ha="right", va="bottom", fontsize=7, color="0.35")
        ax.set_title(kind, fontsize="medium")
        ax.set_xlabel("layer")
        ax.grid(True, axis="y", color="0.92", lw=0.6)
    finite = [v for v in values if np.isfinite(v)]
    if finite:
        bottom, top = min(finite), max(finite)
        pad = 0.08 * (top - bottom or 0.1)
        axes[0].set_ylim(bottom - pad, top + pad)
    for ax in axes[:: min(4, len(axes))]:
        ax.set_ylabel("shape k")
        ax.tick_params(labelleft=True)
    last = data["checkpoint"].iloc[-1] if len(data) else ""
    fig.suptitle(f"Weibull shape by layer ({label}), checkpoint {last}",
                 fontsize="medium")
    _footer(fig, list(entries.values()), list(entries), caption)
    return fig


def plot_scan_probability(samples: Any, *, trim: tuple[float, float] = (0.1, 0.9), points: int = 800,
                          band_level: float | None = 0.95, margin: float = 0.5,
                          window_note: str | None = None) -> Any:
    """Weibull probability plots on a probability-scaled axis, one panel per kind.

    Each panel is :func:`~weibull_stats.plotting.plot_probability`'s drawing: ``|w|`` on a
    log axis focused on the fitted window, percent ticks, the pointwise order-statistic
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
    margin : float, default 0.5
        Widening of each x-range beyond the window, in window log-widths.
    window_note : str, optional
        What the shaded window is, for a fit that has no trim of its own (default: "fitted
        window F in [low, high]").

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples)
    fig, axes = _panels(max(1, len(samples)), width=3.6, height=3.1)
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
               + "; x-range: the window widened by half its log-width each side.")
    fig.text(0.5, 0.01, caption, ha="center", va="bottom", fontsize=7, color="0.3")
    fig.tight_layout(rect=(0, 0.3 / fig.get_figheight(), 1, 1))
    return fig


def plot_scan_trajectory(frame: Any, *, estimator: str = "probability_plot",
                         anchor: float | None = HALFNORMAL_ANCHOR_SHAPE) -> Any:
    """Median shape ``k`` and scale ``λ`` over layers against training step, one line per kind.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = frame[(frame["estimator"] == estimator) & frame["step"].notna()]
    medians = data.groupby(["kind", "step"])[["shape", "scale"]].median().reset_index()
    fig, (ax_shape, ax_scale) = pyplot().subplots(1, 2, figsize=(10.5, 4.2))
    for kind in kind_order(medians["kind"].unique()):
        part = medians[medians["kind"] == kind].sort_values("step")
        step = part["step"].astype(float).to_numpy()
        ax_shape.plot(step, part["shape"].to_numpy(dtype=float), "o-", ms=3, label=kind)
        ax_scale.plot(step, part["scale"].to_numpy(dtype=float), "o-", ms=3, label=kind)
    if anchor is not None:
        ax_shape.axhline(anchor, color="0.35", lw=0.9, ls="--", label=f"HalfNormal init anchor {anchor:.4f}")
        bottom, top = ax_shape.get_ylim()
        pad = 0.06 * (top - bottom)
        ax_shape.set_ylim(min(bottom, anchor - pad), max(top, anchor + pad))
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

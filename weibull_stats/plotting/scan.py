"""Scan figures: shape by layer (anchor, published bands, intervals), probability plots per
kind, trajectories. Panels that show the same quantity share their y-range."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.core.formatting import option_text
from weibull_stats.estimators.registry import get_estimator
from weibull_stats.inference.published import (
    FIGURE_ATTRIBUTION,
    NOT_COMPARABLE,
    PublishedBand,
    follows_protocol,
    resolve_band,
)
from weibull_stats.plotting._base import kind_order, percent_ticks, pyplot
from weibull_stats.plotting.probability import draw_probability
from weibull_stats.sample.checked import Sample
from weibull_stats.scanning.decisions import attention_layout


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


#: The interval columns a scan writes: source -> (low, high) of k.
INTERVAL_COLUMNS: Mapping[str, tuple[str, str]] = {
    "asymptotic": ("shape_low", "shape_high"),
    "bootstrap": ("bootstrap_shape_low", "bootstrap_shape_high"),
}


def _computed(frame: Any, source: str) -> bool:
    """Whether the rows hold a finite interval of k from ``source`` in every row."""
    low, high = INTERVAL_COLUMNS[source]
    if low not in frame or high not in frame or not len(frame):
        return False
    finite = np.isfinite(frame[low].to_numpy(dtype=float)) & np.isfinite(frame[high].to_numpy(dtype=float))
    return bool(finite.all())


def _column(frame: Any, column: str) -> list[Any]:
    """The values of ``column`` that are not missing (none when there is no such column)."""
    return list(frame[column].dropna()) if column in frame else []


def _recorded(frame: Any, column: str) -> list[str]:
    return [str(v) for v in dict.fromkeys(_column(frame, column)) if str(v)]


def interval_source(frame: Any, interval: str = "auto") -> str:
    """Which interval of k a figure draws: ``"bootstrap"`` (columns ``bootstrap_shape_low``,
    ``bootstrap_shape_high``), ``"asymptotic"`` (``shape_low``, ``shape_high``) or ``""``.

    ``interval="auto"`` takes the bootstrap interval where the scan computed one in every
    row, else the asymptotic one; a named source is drawn only where it was computed.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"shape_low": [1.0], "shape_high": [1.2], "interval_method": ["asymptotic"],
    ...                      "bootstrap_shape_low": [np.nan], "bootstrap_shape_high": [np.nan]})
    >>> interval_source(rows), interval_source(rows, "bootstrap")
    ('asymptotic', '')
    """
    if interval not in ("auto", "asymptotic", "bootstrap", "none"):
        raise ValueError(f"`interval` must be 'auto', 'asymptotic', 'bootstrap' or 'none'; got {interval!r}")
    order = ("bootstrap", "asymptotic") if interval == "auto" else () if interval == "none" else (interval,)
    return next((source for source in order if _computed(frame, source)), "")


def interval_label(frame: Any, source: str) -> str:
    """What the error bars drawn from ``source`` are, read from the columns that hold them:
    the level (``confidence_level``), and ``interval_method`` for the ``shape_low`` /
    ``shape_high`` columns, or ``bootstrap_method`` and ``n_resamples`` for the bootstrap's.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"confidence_level": [0.95], "interval_method": ["asymptotic"],
    ...                      "bootstrap_method": ["bca"], "n_resamples": [199]})
    >>> print(interval_label(rows, "asymptotic"))
    error bars: 95% asymptotic (Wald) interval of k, from the estimator's standard error
    >>> interval_label(rows, "bootstrap")
    'error bars: 95% bca bootstrap interval of k, 199 resamples'
    """
    levels = sorted({float(v) for v in _column(frame, "confidence_level")})
    level = "/".join(f"{v:.0%}" for v in levels) + " " if levels else ""
    if source == "bootstrap":
        boot = " / ".join(_recorded(frame, "bootstrap_method")) or "(method not recorded)"
        counts = sorted({int(v) for v in _column(frame, "n_resamples") if int(v)})
        resamples = f", {'/'.join(map(str, counts))} resamples" if counts else ""
        return f"error bars: {level}{boot} bootstrap interval of k{resamples}"
    methods = _recorded(frame, "interval_method")
    if methods == ["asymptotic"]:
        return f"error bars: {level}asymptotic (Wald) interval of k, from the estimator's standard error"
    return f"error bars: {level}{' / '.join(methods) or '(method not recorded)'} interval of k"


def _published(data: Any, estimator: str) -> tuple[str, bool]:
    """The scanned model's attention layout and whether its fits are on the published protocol."""
    if not len(data):
        return "all", False
    options = list(dict.fromkeys(data["options"].astype(str))) if "options" in data else [None]
    return attention_layout(data), all(follows_protocol(estimator, o) for o in options)


def _fit_label(data: Any, estimator: str) -> str:
    """The estimator's label, or, for rows off its published protocol, its name and the
    options that depart (its label describes the protocol's options)."""
    entry = get_estimator(estimator)
    if entry.published_protocol is None or not len(data) or "options" not in data:
        return entry.label
    recorded = json.loads(str(data["options"].iloc[0]))
    departed = entry.protocol_departures(recorded)
    if not departed:
        return entry.label
    return f"{entry.name} ({', '.join(f'{k}={option_text(recorded.get(k))}' for k in departed)})"


def _band_legend(layout: str, drawn: Mapping[str, PublishedBand]) -> str:
    counts = {band.count for band in drawn.values()}
    models = (f"{counts.pop()} models" if len(counts) == 1 else
              "models: " + ", ".join(f"{kind} {band.count}" for kind, band in drawn.items()))
    return f"published range of per-model median k, {layout} ({models})"


def plot_scan_shape_by_layer(
    frame: Any,
    *,
    estimator: str = "probability_plot",
    anchor: float | None = HALFNORMAL_ANCHOR_SHAPE,
    published: bool = True,
    interval: str = "auto",
    caption: str | None = None,
) -> Any:
    """Weibull shape ``k`` against layer, one panel per kind, for the last checkpoint of a scan.

    All panels share one y-range (the same quantity), wide enough for the points, their
    intervals, the anchor and the bands, so the anchor and the bands sit inside the axes.

    Parameters
    ----------
    frame : pandas.DataFrame
        A scan table (:func:`weibull_stats.scan`).
    estimator : str, default "probability_plot"
    anchor : float or None, default 1.2054343190
        Horizontal reference line: the middle-80% probability-plot limit under HalfNormal
        initialisation (i.i.d. Gaussian weights); drawn for fits on the published protocol.
    published : bool, default True
        Shade the published band of each kind for the model's attention layout
        (:func:`~weibull_stats.inference.published.resolve_band`; a panel whose kind has no
        band there says so). Bands and anchor are drawn only when the rows' estimator and
        options (column ``options``) are the published protocol; otherwise the figure says
        they are not comparable.
    interval : {"auto", "asymptotic", "bootstrap", "none"}, default "auto"
        The error bars (:func:`interval_source`): the bootstrap interval where computed, else
        the asymptotic one. The legend describes the columns drawn (:func:`interval_label`).
    caption : str, optional
        Footnote under the legend (default: the bands' source and license when bands are
        drawn, or why they are not).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = frame[(frame["estimator"] == estimator) & frame["layer"].notna()]
    data = data[data["checkpoint"] == data["checkpoint"].iloc[-1]] if len(data) else data
    label = _fit_label(data, estimator)
    layout, comparable = _published(data, estimator)
    show_anchor = anchor is not None and comparable
    kinds = kind_order(data["kind"].unique())
    fig, axes = _panels(max(1, len(kinds)), sharey=True)
    values: list[float] = [anchor] if show_anchor and anchor is not None else []
    entries: dict[str, Any] = {}
    drawn: dict[str, PublishedBand] = {}
    shading = None
    source = interval_source(data, interval)
    for ax, kind in zip(axes, kinds, strict=False):
        part = data[data["kind"] == kind].sort_values("layer")
        layer = part["layer"].astype(float).to_numpy()
        shape = part["shape"].to_numpy(dtype=float)
        values += [*shape]
        if source:
            low, high = (part[c].to_numpy(dtype=float) for c in INTERVAL_COLUMNS[source])
            line = ax.errorbar(layer, shape, yerr=[shape - low, high - shape], fmt="o-", ms=3, lw=1,
                               capsize=2, color="C0")
            entries.setdefault(f"{label} k per matrix; {interval_label(data, source)}", line)
            values += [*low, *high]
        else:
            (line,) = ax.plot(layer, shape, "o-", ms=3, lw=1, color="C0")
            entries.setdefault(f"{label} k per matrix (no interval drawn)", line)
        if published and comparable:
            band = resolve_band(layout, str(kind))
            if band.found:
                drawn[str(kind)] = band
                shading = ax.axhspan(band.low, band.high, color="C2", alpha=0.18, lw=0, zorder=0)
                values += list(band.bounds)
            else:
                ax.text(0.03, 0.04, band.text, transform=ax.transAxes, ha="left", va="bottom", fontsize=6.5,
                        color="0.3", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        if show_anchor:
            ref = ax.axhline(anchor, color="0.35", lw=0.9, ls="--", zorder=1)
            entries.setdefault(f"HalfNormal init anchor k0 = {anchor:.4f}", ref)
            ax.annotate("k0", xy=(1.0, anchor), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                        textcoords="offset points", ha="right", va="bottom", fontsize=7, color="0.35")
        ax.set_title(kind, fontsize="medium")
        ax.set_xlabel("layer")
        ax.grid(True, axis="y", color="0.92", lw=0.6)
    if drawn:
        entries[_band_legend(layout, drawn)] = shading
    finite = [v for v in values if np.isfinite(v)]
    if finite:
        bottom, top = min(finite), max(finite)
        pad = 0.08 * (top - bottom or 0.1)
        axes[0].set_ylim(bottom - pad, top + pad)
    for ax in axes[:: min(4, len(axes))]:
        ax.set_ylabel("shape k")
        ax.tick_params(labelleft=True)
    last = data["checkpoint"].iloc[-1] if len(data) else ""
    fig.suptitle(f"Weibull shape by layer ({label}), checkpoint {last}, layout {layout}", fontsize="medium")
    if caption is None:
        caption = FIGURE_ATTRIBUTION if drawn else (
            "" if comparable or not (published or anchor is not None)
            else f"Anchor and published bands: {NOT_COMPARABLE}")
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

    The HalfNormal ``anchor`` is drawn for fits on the published protocol only (estimator and
    options, as :func:`plot_scan_shape_by_layer` decides).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = frame[(frame["estimator"] == estimator) & frame["step"].notna()]
    if not _published(data, estimator)[1]:
        anchor = None
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

"""Scan figures of the shape ``k``: by layer, or by matrix where no matrix has a layer, with the
anchor (:data:`~weibull_stats.core.constants.ANCHORS`), the published bands and the intervals
whose columns the legend names. Panels share one y-range."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from weibull_stats.core.constants import ANCHORS, DEFAULT_ANCHOR, InitAnchor
from weibull_stats.core.formatting import option_text
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR, get_estimator
from weibull_stats.inference.published import (
    FIGURE_ATTRIBUTION,
    NOT_COMPARABLE,
    PublishedBand,
    follows_protocol,
    resolve_band,
)
from weibull_stats.plotting._base import kind_order, pyplot
from weibull_stats.scanning.decisions import attention_layout


def panel_grid(count: int, width: float = 3.3, height: float = 2.7, **share: Any) -> tuple[Any, list[Any]]:
    columns = min(4, max(1, count))
    rows = -(-count // columns)
    fig, axes = pyplot().subplots(rows, columns, figsize=(width * columns, height * rows + 0.8),
                                  squeeze=False, **share)
    flat = list(axes.ravel())
    for ax in flat[count:]:
        ax.set_visible(False)
    return fig, flat[:count]


def figure_footer(fig: Any, handles: Sequence[Any], labels: Sequence[str], caption: str,
                  columns: int = 3) -> None:
    """A figure legend under the panels (at most ``columns`` wide; a label may hold several
    lines) and a caption line beneath it (sizes in inches)."""
    height = fig.get_figheight()
    columns = min(columns, max(1, len(labels)))
    legend_rows = -(-len(labels) // columns)
    caption_height = 0.22 if caption else 0.0
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize="small", frameon=False,
                   bbox_to_anchor=(0.5, (0.02 + caption_height) / height), borderaxespad=0.0)
    if caption:
        fig.text(0.5, 0.04 / height, caption, ha="center", va="bottom", fontsize=6.5, color="0.35")
    # entries fill the legend column by column: row r holds entries r, r + legend_rows, ...
    lines = [max(labels[i].count("\n") + 1 for i in range(row, len(labels), legend_rows))
             for row in range(legend_rows)]
    bottom = 0.06 + caption_height + sum(0.24 + 0.16 * (n - 1) for n in lines)
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


def interval_label(frame: Any, source: str, of: str = "k") -> str:
    """What the error bars drawn from ``source`` are, read from the columns that hold them:
    the level (``confidence_level``), and ``interval_method`` for the ``shape_low`` /
    ``shape_high`` columns, or ``bootstrap_method`` and ``n_resamples`` for the bootstrap's.
    ``of`` names the parameter the bars are on (``"λ"`` for the ``scale`` columns of the
    same interval).

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
        return f"error bars: {level}{boot} bootstrap interval of {of}{resamples}"
    methods = _recorded(frame, "interval_method")
    if methods == ["asymptotic"]:
        return f"error bars: {level}asymptotic (Wald) interval of {of}, from the estimator's standard error"
    return f"error bars: {level}{' / '.join(methods) or '(method not recorded)'} interval of {of}"


def layout_and_protocol(data: Any, estimator: str) -> tuple[str, bool]:
    """The scanned model's attention layout and whether its fits are on the published protocol."""
    if not len(data):
        return "all", False
    options = list(dict.fromkeys(data["options"].astype(str))) if "options" in data else [None]
    return attention_layout(data), all(follows_protocol(estimator, o) for o in options)


def fit_label(data: Any, estimator: str) -> str:
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


def scan_anchor(anchor: str | None) -> InitAnchor | None:
    """The anchor named ``anchor`` (a key of :data:`~weibull_stats.core.constants.ANCHORS`), or None.

    Examples
    --------
    >>> scan_anchor("uniform").label
    '|Uniform| init anchor k0 = 1.3751'
    """
    if anchor is None:
        return None
    if not isinstance(anchor, str) or anchor not in ANCHORS:
        raise ValueError(f"`anchor` must be one of {', '.join(map(repr, ANCHORS))} or None; got {anchor!r}")
    return ANCHORS[anchor]


def _last_rows(frame: Any, estimator: str, layered: bool) -> Any:
    """The rows of ``estimator`` (with a layer, when ``layered``) of the last checkpoint they cover."""
    data = frame[(frame["estimator"] == estimator) & (frame["layer"].notna() if layered else True)]
    return data[data["checkpoint"] == data["checkpoint"].iloc[-1]] if len(data) else data


#: Most tick labels of a by-matrix panel (names are thinned beyond it).
MOST_NAMES = 24


def plot_scan_shape_by_layer(
    frame: Any,
    *,
    estimator: str = DEFAULT_ESTIMATOR,
    anchor: str | None = DEFAULT_ANCHOR,
    published: bool = True,
    interval: str = "auto",
    caption: str | None = None,
) -> Any:
    """Weibull shape ``k`` against layer, one panel per kind, for the last checkpoint of a scan.

    All panels share one y-range (the same quantity), wide enough for the points, their
    intervals, the anchor and the bands, so the anchor and the bands sit inside the axes.
    Rows without a layer (embeddings, heads) are not drawn; a scan none of whose matrices
    has a layer is drawn by :func:`plot_scan_shape_by_matrix`.

    Parameters
    ----------
    frame : pandas.DataFrame
        A scan table (:func:`weibull_stats.scan`).
    estimator : str, default "probability_plot"
    anchor : {"halfnormal", "uniform"} or None, default "halfnormal"
        Horizontal reference line: the middle-80% probability-plot limit ``k0`` under that
        initialisation (:data:`~weibull_stats.core.constants.ANCHORS`: i.i.d. Gaussian
        weights, 1.2054; ``|Uniform|``, kaiming-uniform, 1.3751), labelled with its law;
        drawn for fits on the published protocol. None: no line.
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

    Raises
    ------
    ValueError
        No row of ``estimator`` has a layer (nothing to draw against layer).
    """
    data = _last_rows(frame, estimator, layered=True)
    if not len(data):
        raise ValueError(f"no {estimator} row of `frame` has a layer; plot_scan_shape_by_matrix draws k "
                         "by matrix")
    return _shape_figure(data, estimator, "layer", anchor, published, interval, caption)


def plot_scan_shape_by_matrix(frame: Any, **options: Any) -> Any:
    """Weibull shape ``k`` of every matrix, named by tensor, one panel per kind, for the last
    checkpoint of a scan: the figure of a model whose matrices have no layer (a plain
    ``torch.nn.Module``, a file without layer names).

    Matrices are in the scan's order, each labelled with its tensor name (and part); the
    keywords (``estimator``, ``anchor``, ``published``, ``interval``, ``caption``), their
    defaults and the drawing (intervals, anchor, bands, shared y-range) are those of
    :func:`plot_scan_shape_by_layer`, and so are the errors it raises, but one: this figure
    needs no layer, only a row of ``estimator`` (else :class:`ValueError`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    # one signature, plot_scan_shape_by_layer's: its keywords and defaults, checked by Python there
    chosen = inspect.signature(plot_scan_shape_by_layer).bind(frame, **options)
    chosen.apply_defaults()
    keywords = chosen.arguments
    estimator = keywords["estimator"]
    data = _last_rows(frame, estimator, layered=False)
    if not len(data):
        raise ValueError(f"`frame` has no {estimator} row")
    return _shape_figure(data, estimator, "matrix", keywords["anchor"], keywords["published"],
                         keywords["interval"], keywords["caption"])


def _matrix_axis(ax: Any, names: Sequence[str]) -> None:
    """Tensor names as the x ticks of a by-matrix panel (every one up to :data:`MOST_NAMES`)."""
    step = -(-len(names) // MOST_NAMES)
    shown = range(0, len(names), step)
    ax.set_xticks(list(shown), [names[i] for i in shown], rotation=60, ha="right", fontsize=6.5)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xlabel("matrix" + (f" (1 in {step} named)" if step > 1 else ""))


def _shape_figure(data: Any, estimator: str, against: str, anchor_name: str | None, published: bool,
                  interval: str, caption: str | None) -> Any:
    """``k`` of the rows ``data`` against ``"layer"`` or ``"matrix"`` (their order), one panel per kind."""
    anchor = scan_anchor(anchor_name)
    label = fit_label(data, estimator)
    layout, comparable = layout_and_protocol(data, estimator)
    show_anchor = anchor is not None and comparable
    kinds = kind_order(data["kind"].unique())
    fig, axes = panel_grid(max(1, len(kinds)), width=3.3 if against == "layer" else 3.8,
                        sharey=True)
    values: list[float] = [anchor.shape] if show_anchor and anchor is not None else []
    entries: dict[str, Any] = {}
    drawn: dict[str, PublishedBand] = {}
    shading = None
    source = interval_source(data, interval)
    for ax, kind in zip(axes, kinds, strict=False):
        part = data[data["kind"] == kind]
        if against == "layer":
            part = part.sort_values("layer")
            where = part["layer"].astype(float).to_numpy()
        else:
            where = np.arange(len(part), dtype=float)
        shape = part["shape"].to_numpy(dtype=float)
        values += [*shape]
        # several matrices in a layer: experts, or an encoder's and a decoder's
        several = against == "layer" and bool(part["layer"].duplicated().any())
        style = "o-" if against == "layer" and not several else "o"
        if several:  # the matrices of a layer as points, their median joined across layers
            medians = part.groupby("layer")["shape"].median()
            (middle,) = ax.plot(medians.index.astype(float), medians.to_numpy(dtype=float), "-", lw=1.4,
                                color="C1", zorder=3)
            entries.setdefault("median k of each layer's matrices (experts, encoder and decoder)", middle)
        if source:
            low, high = (part[c].to_numpy(dtype=float) for c in INTERVAL_COLUMNS[source])
            line = ax.errorbar(where, shape, yerr=[shape - low, high - shape], fmt=style, ms=3, lw=1,
                               capsize=2, color="C0")
            entries.setdefault(f"{label} k per matrix; {interval_label(data, source)}", line)
            values += [*low, *high]
        else:
            (line,) = ax.plot(where, shape, style, ms=3, lw=1, color="C0")
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
        if show_anchor and anchor is not None:
            ref = ax.axhline(anchor.shape, color="0.35", lw=0.9, ls="--", zorder=1)
            entries.setdefault(anchor.label, ref)
            ax.annotate("k0", xy=(1.0, anchor.shape), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                        textcoords="offset points", ha="right", va="bottom", fontsize=7, color="0.35")
        ax.set_title(kind, fontsize="medium")
        if against == "layer":
            ax.set_xlabel("layer")
        else:
            _matrix_axis(ax, [f"{t} [{p}]" if p else str(t) for t, p in zip(part["tensor"], part["part"],
                                                                              strict=True)])
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
    last = data["checkpoint"].iloc[-1]
    fig.suptitle(f"Weibull shape by {against} ({label}), checkpoint {last}, layout {layout}"
                 + ("" if against == "layer" else "; no matrix is named by layer"), fontsize="medium")
    if caption is None:
        caption = FIGURE_ATTRIBUTION if drawn else (
            "" if comparable or not (published or anchor is not None)
            else f"Anchor and published bands: {NOT_COMPARABLE}")
    figure_footer(fig, list(entries.values()), list(entries), caption)
    return fig


__all__ = ["INTERVAL_COLUMNS", "MOST_NAMES", "figure_footer", "fit_label", "interval_label",
           "interval_source", "layout_and_protocol", "panel_grid", "plot_scan_shape_by_layer",
           "plot_scan_shape_by_matrix", "scan_anchor"]

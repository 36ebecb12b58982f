"""What every figure shares: the lazy pyplot import, saving in several formats, the
probability-scaled (Weibull) axis, the fitted window, and the order-statistic band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from weibull_stats.checkpoints import KINDS
from weibull_stats.weibull.law import cdf, plot_ordinates, quantile

#: Formats written by :func:`save_figure` unless told otherwise: a raster for screens and
#: a vector file for papers.
DEFAULT_FORMATS: tuple[str, ...] = ("png", "pdf")
#: Resolution of raster output (PNG) unless told otherwise.
DEFAULT_DPI = 200
#: Formats :func:`save_figure` writes.
FORMATS: tuple[str, ...] = ("png", "pdf", "svg")
#: Points drawn at most per probability plot or diagnostic panel (evenly spaced in rank).
MAX_POINTS = 4000
#: Default window that a plot of a fit without a trim (MLE, quantile, ...) is focused on.
DEFAULT_WINDOW = (0.1, 0.9)
#: Candidate percent ticks of the probability axis.
PERCENT_TICKS = (1e-5, 1e-4, 0.001, 0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 30, 50, 63.2, 80, 90, 95, 99, 99.9,
                 99.99)
#: The order in which :func:`percent_ticks` keeps candidate ticks while they do not crowd.
TICK_PRIORITY = (50, 10, 90, 1, 99, 0.1, 99.9, 0.01, 99.99, 0.001, 1e-4, 1e-5, 63.2, 5, 95, 20, 30, 80, 2,
                 0.5)


def pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def new_axes(ax: Any, size: tuple[float, float] = (5.6, 5.2)) -> Any:
    """``ax``, or the single axes of a new figure."""
    return axes_for(ax, size)[0]


def axes_for(ax: Any, size: tuple[float, float] = (5.6, 5.2)) -> tuple[Any, bool]:
    """``(ax, False)``, or the single axes of a new figure and True: the plot made the figure,
    so :func:`finish_axes` lays it out (``created``)."""
    if ax is not None:
        return ax, False
    _, new_ax = pyplot().subplots(figsize=size)
    return new_ax, True


def save_figure(
    fig: Any,
    path: str | Path,
    *,
    formats: Sequence[str] = DEFAULT_FORMATS,
    dpi: float = DEFAULT_DPI,
    description: str = "",
    close: bool = True,
) -> list[Path]:
    """Write ``fig`` once per format beside ``path`` (its suffix is replaced); return the paths.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path
        File name without a suffix (``out/shape_by_layer``) or with one (replaced).
    formats : sequence of {"png", "pdf", "svg"}, default ("png", "pdf")
        Raster PNG at ``dpi``; PDF and SVG are vector files (text kept as text in SVG).
    dpi : float, default 200
        Resolution of the PNG (and of any raster element of the vector files).
    description : str
        Stored in the file's metadata (PNG ``Description``, PDF ``Subject``, SVG
        ``Description``), e.g. the seed and version of a validation run.
    close : bool, default True
        Release the figure afterwards (pyplot keeps figures registered until closed).

    Returns
    -------
    list of pathlib.Path
        In the order of ``formats``. Vector files carry no creation date, so the same figure
        gives the same bytes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile, pathlib
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in save_figure(fig, folder / "line", formats=("png", "svg"))]
    ['line.png', 'line.svg']
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"`formats` must be a non-empty selection of {FORMATS}, got {tuple(formats)}")
    import matplotlib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stem = path.with_suffix("") if path.suffix.lstrip(".") in FORMATS else path
    metadata: Mapping[str, Mapping[str, Any]] = {
        "png": {"Software": "weibull-stats", **({"Description": description} if description else {})},
        "pdf": {"Creator": "weibull-stats", "CreationDate": None,
                **({"Subject": description} if description else {})},
        "svg": {"Creator": "weibull-stats", "Date": None,
                **({"Description": description} if description else {})},
    }
    written = []
    with matplotlib.rc_context({"svg.hashsalt": "weibull-stats", "svg.fonttype": "none",
                                "pdf.fonttype": 42}):
        for fmt in formats:
            target = stem.with_name(f"{stem.name}.{fmt}")
            fig.savefig(target, format=fmt, dpi=dpi, metadata=dict(metadata[fmt]), bbox_inches="tight")
            written.append(target)
    if close:
        pyplot().close(fig)
    return written


# ---------------------------------------------------------------------- the probability axis
def window_of(options: Mapping[str, Any],
              window: tuple[float, float] | None = None) -> tuple[tuple[float, float], bool]:
    """The probability window to focus on, and whether it is the fit's own trim."""
    if window is not None:
        return (float(window[0]), float(window[1])), False
    trim = options.get("trim")
    if isinstance(trim, Sequence) and not isinstance(trim, str) and len(trim) == 2:
        return (float(trim[0]), float(trim[1])), True
    return DEFAULT_WINDOW, False


def focus_range(data: np.ndarray, window: tuple[float, float], margin: float | None) -> tuple[float, float]:
    """x-limits (real units) around the empirical window quantiles of sorted positive ``data``.

    ``margin`` None: the whole sample, ``(data[0], data[-1])``. Otherwise the window's
    log-width ``w = ln(x_b / x_a)`` is widened by ``margin * w`` on each side, and never
    beyond the data.
    """
    n = data.size
    if margin is None:
        return float(data[0]), float(data[-1])
    low = data[int(np.clip(round(window[0] * (n - 1)), 0, n - 1))]
    high = data[int(np.clip(round(window[1] * (n - 1)), 0, n - 1))]
    width = max(float(np.log(high / low)), 1e-12)
    return (max(float(low) * np.exp(-margin * width), float(data[0])),
            min(float(high) * np.exp(margin * width), float(data[-1])))


def visible_ranks(data: np.ndarray, xlim: tuple[float, float], max_points: int) -> np.ndarray:
    """1-based ranks of at most ``max_points`` order statistics inside ``xlim``, both ends kept.

    Half of them are evenly spaced in rank, half evenly spaced on the Weibull ordinate
    ``ln(-ln(1 - p))`` of their Hazen positions, so the tails (few ranks, long on a
    probability axis) are drawn as densely as the middle.
    """
    n = data.size
    first = int(np.searchsorted(data, xlim[0], side="left")) + 1
    last = int(np.searchsorted(data, xlim[1], side="right"))
    if last < first:
        return np.arange(1, 1, dtype=np.intp)
    count = min(last - first + 1, max(2, max_points))
    by_rank = np.linspace(first, last, max(2, count - count // 2))
    ends = plot_ordinates((np.array([first, last]) - 0.5) / n)
    p = -np.expm1(-np.exp(np.linspace(ends[0], ends[1], max(2, count // 2))))
    by_ordinate = np.clip(p * n + 0.5, first, last)
    return np.unique(np.r_[by_rank, by_ordinate].round().astype(np.intp))


def focus_points(data: np.ndarray, window: tuple[float, float], margin: float | None,
                 max_points: int) -> tuple[tuple[float, float], np.ndarray, int, int]:
    """The x-range of :func:`focus_range`, the ranks of :func:`visible_ranks` inside it, and
    the counts of sorted ``data`` hidden below and above it."""
    n = data.size
    xlim = focus_range(data, window, margin)
    ranks = visible_ranks(data, xlim, max_points)
    below = int(np.searchsorted(data, xlim[0], side="left"))
    above = int(n - np.searchsorted(data, xlim[1], side="right"))
    return xlim, ranks, below, above


def order_statistic_band(ranks: np.ndarray, n: int, shape: float, scale: float,
                         level: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise ``level`` limits of the order statistics ``X_(i)`` under the fitted law.

    ``F(X_(i)) ~ Beta(i, n - i + 1)`` for a continuous ``F``, so ``[Q(b_lo), Q(b_hi)]`` with
    ``b`` the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of that beta law and
    ``Q(u) = scale (-ln(1 - u))^(1/shape)`` holds ``X_(i)`` with probability ``level``.
    """
    low, high = beta_band(ranks, n, level)
    return quantile(low, shape, scale), quantile(high, shape, scale)


def beta_band(ranks: np.ndarray, n: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise ``level`` limits of ``F(X_(i)) ~ Beta(i, n - i + 1)``, ``i`` the ``ranks``."""
    alpha = 1.0 - level
    beta = stats.beta(ranks, n - ranks + 1)
    return beta.ppf(alpha / 2), beta.ppf(1 - alpha / 2)


def order_statistic_z(values: np.ndarray, ranks: np.ndarray, n: int, shape: float,
                      scale: float) -> np.ndarray:
    """Where each order statistic lies in its own law under the fit, as a normal score.

    ``z_i = Phi^-1(P(X_(i) <= x_(i)))`` with ``F(X_(i)) ~ Beta(i, n - i + 1)`` under the
    fitted law ``F``: exactly standard normal for each ``i`` when the data follow the fit, so
    the pointwise ``level`` band is ``|z| <= Phi^-1((1 + level) / 2)`` at every ``n`` and
    ``x_(i)`` leaves :func:`order_statistic_band` exactly when ``|z_i|`` leaves that band.
    Computed from whichever tail is smaller, so far-out points keep a finite score.
    """
    u = cdf(np.asarray(values, dtype=np.float64), shape, scale)
    beta = stats.beta(ranks, n - ranks + 1)
    lower, upper = beta.cdf(u), beta.sf(u)
    with np.errstate(divide="ignore"):
        return np.where(lower < upper, stats.norm.ppf(lower), stats.norm.isf(upper))


def percent_positions(bottom: float, top: float, height: float, label: float) -> list[float]:
    """Percent ticks for a Weibull ordinate spanning ``[bottom, top]`` over ``height`` points.

    Candidates (:data:`PERCENT_TICKS`) inside the range are kept in :data:`TICK_PRIORITY`
    order while each lies at least 1.3 ``label`` heights (points) from those kept, so a tall
    range (a large sample's tails) does not pile its upper labels on one another.

    Examples
    --------
    >>> short, tall = percent_positions(-9.0, 2.0, 80.0, 10.0), percent_positions(-9.0, 2.0, 600.0, 10.0)
    >>> set(short) < set(tall), 50 in short, max(tall) <= 99.9  # ln(-ln(1 - 0.9999)) > 2
    (True, True, True)
    """
    gap = 1.3 * label * (top - bottom) / max(height, 1.0)
    where = {p: float(plot_ordinates(np.array([p / 100]))[0]) for p in TICK_PRIORITY}
    kept: list[float] = []
    for p in TICK_PRIORITY:
        if bottom <= where[p] <= top and all(abs(where[p] - where[q]) >= gap for q in kept):
            kept.append(p)
    return sorted(kept)


def percent_ticks(ax: Any) -> None:
    """Label the Weibull ordinate ``ln(-ln(1 - F))`` of ``ax`` in percent of ``F``.

    The ticks are chosen when the axes is drawn, from its final height and y-range
    (:func:`percent_positions`): a layout that shrinks the axes, or panels that share the
    range, still get labels that do not overlap.
    """
    from matplotlib.ticker import FixedLocator, FuncFormatter, Locator, NullFormatter

    class PercentLocator(Locator):
        def __call__(self) -> list[float]:
            axis: Any = self.axis
            bottom, top = sorted(axis.get_view_interval())
            height = axis.axes.get_window_extent().height * 72.0 / axis.axes.figure.dpi
            size = axis.majorTicks[0].label1.get_fontsize()  # the lazy first tick: no locator call
            percents = percent_positions(float(bottom), float(top), float(height), float(size))
            return list(plot_ordinates(np.array(percents) / 100))

    def label(y: float, _: Any) -> str:
        percent = 100 * float(-np.expm1(-np.exp(y)))
        nearest = min(PERCENT_TICKS, key=lambda p: abs(np.log(p / percent)) if percent > 0 else np.inf)
        return f"{np.format_float_positional(nearest, trim='-')}%"

    ax.yaxis.set_major_locator(PercentLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(label))
    minor = np.r_[np.arange(1, 10), np.arange(10, 100, 10), 99.5, PERCENT_TICKS]
    ax.yaxis.set_minor_locator(FixedLocator(list(plot_ordinates(np.unique(minor) / 100))))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(True, which="major", color="0.9", lw=0.6)
    ax.set_axisbelow(True)


def log_axis(ax: Any, which: str = "x") -> None:
    """Log scale with real-unit labels (``0.002``, ``0.005``, ``0.01``) at 1-2-5 steps, no minor labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    low, high = (ax.get_xlim() if which == "x" else ax.get_ylim())
    decades = np.log10(high / low) if low > 0 and high > low else 3.0
    subs = (1.0, 2.0, 5.0) if decades < 2.5 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.3g}"))
    axis.set_minor_formatter(NullFormatter())


def log_range(ax: Any, lim: tuple[float, float], which: str = "x") -> None:
    """:func:`log_axis` on ``which`` over ``lim`` widened by 5% (in ratio) at each end."""
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    (ax.set_xlim if which == "x" else ax.set_ylim)(lim[0] / 1.05, lim[1] * 1.05)
    log_axis(ax, which)


def hidden_note(below: int, above: int, n: int) -> str:
    """``"12 of 3,000 points outside the x-range (below)"``, or ``""``."""
    if not below and not above:
        return ""
    where = "below" if not above else ("above" if not below else f"{below:,} below, {above:,} above")
    return f"{below + above:,} of {n:,} points outside the x-range ({where})"


def legend_below(ax: Any, ncol: int = 1, fontsize: str | float = "small", *, under: Any = None) -> Any:
    """The axes' legend under its x-label, outside the data (saved with ``bbox_inches="tight"``).

    With ``under`` (another axes hanging below ``ax``, e.g. a residual panel) the legend holds
    the entries of both and hangs 32 points under that axes' bottom edge instead (a legend of
    ``under``, so the layout keeps ``ax`` at its height).
    """
    if under is None:
        return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=fontsize,
                         frameon=False, borderaxespad=0.0)
    from matplotlib.transforms import offset_copy

    handles, labels = ax.get_legend_handles_labels()
    more, names = under.get_legend_handles_labels()
    anchor = offset_copy(under.transAxes, fig=under.figure, y=-32, units="points")
    return under.legend(handles + more, labels + names, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                        bbox_transform=anchor, ncol=ncol, fontsize=fontsize, frameon=False, borderaxespad=0.0)


def finish_axes(ax: Any, title: str, *, note: str = "", created: bool = False, under: Any = None) -> Any:
    """Legend below (with ``note`` as a last, unmarked entry; below the axes ``under`` when a
    panel hangs under ``ax``, see :func:`legend_below`), title; tighten the figure when the plot
    ``created`` it; return the figure."""
    if note:
        ax.plot([], [], " ", label=note)
    legend_below(ax, under=under)
    ax.set_title(title, fontsize="medium")
    if created:
        ax.figure.tight_layout()
    return ax.figure


def kind_order(kinds: Any) -> list[str]:
    """Matrix kinds in the checkpoint naming order, unknown ones after, sorted."""
    present = [str(k) for k in kinds]
    return [k for k in KINDS if k in present] + sorted(k for k in present if k not in KINDS)

"""What every figure shares: the lazy pyplot import, saving in several formats, the
probability-scaled (Weibull) axis, the fitted window, and the order-statistic band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from weibull_stats.checkpoints import KINDS
from weibull_stats.weibull.law import plot_ordinates, quantile

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
PERCENT_TICKS = (0.01, 0.1, 0.5, 1, 2, 5, 10, 20, 30, 50, 63.2, 80, 90, 95, 99, 99.9, 99.99)


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


def focus_range(data: np.ndarray, window: tuple[float, float], margin: float) -> tuple[float, float]:
    """x-limits (real units) around the empirical window quantiles of sorted positive ``data``.

    The window's log-width ``w = ln(x_b / x_a)`` is widened by ``margin * w`` on each side,
    and never beyond the data.
    """
    n = data.size
    low = data[int(np.clip(round(window[0] * (n - 1)), 0, n - 1))]
    high = data[int(np.clip(round(window[1] * (n - 1)), 0, n - 1))]
    width = max(float(np.log(high / low)), 1e-12)
    return (max(float(low) * np.exp(-margin * width), float(data[0])),
            min(float(high) * np.exp(margin * width), float(data[-1])))


def visible_ranks(data: np.ndarray, xlim: tuple[float, float], max_points: int) -> np.ndarray:
    """1-based ranks of at most ``max_points`` order statistics inside ``xlim``, both ends kept."""
    first = int(np.searchsorted(data, xlim[0], side="left")) + 1
    last = int(np.searchsorted(data, xlim[1], side="right"))
    if last < first:
        return np.arange(1, 1, dtype=np.intp)
    count = min(last - first + 1, max(2, max_points))
    return np.unique(np.linspace(first, last, count).round().astype(np.intp))


def focus_points(data: np.ndarray, window: tuple[float, float], margin: float,
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


def percent_ticks(ax: Any) -> None:
    """Label the Weibull ordinate ``ln(-ln(1 - F))`` of ``ax`` in percent of ``F``."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    bottom, top = ax.get_ylim()
    percents = [p for p in PERCENT_TICKS if bottom <= plot_ordinates(np.array([p / 100]))[0] <= top]
    ticks = plot_ordinates(np.array(percents) / 100)
    ax.yaxis.set_major_locator(FixedLocator(list(ticks)))
    ax.set_yticklabels([f"{p:g}%" for p in percents])
    minor = [p for p in np.r_[np.arange(1, 10), np.arange(10, 100, 10), 99.5] if p not in percents]
    ax.yaxis.set_minor_locator(FixedLocator(list(plot_ordinates(np.array(minor) / 100))))
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


def legend_below(ax: Any, ncol: int = 1, fontsize: str | float = "small") -> Any:
    """The axes' legend under its x-label, outside the data (saved with ``bbox_inches="tight"``)."""
    return ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=fontsize,
                     frameon=False, borderaxespad=0.0)


def finish_axes(ax: Any, title: str, *, note: str = "", created: bool = False) -> Any:
    """Legend below (with ``note`` as a last, unmarked entry), title; tighten the figure when
    the plot ``created`` it; return the figure."""
    if note:
        ax.plot([], [], " ", label=note)
    legend_below(ax)
    ax.set_title(title, fontsize="medium")
    if created:
        ax.figure.tight_layout()
    return ax.figure


def kind_order(kinds: Any) -> list[str]:
    """Matrix kinds in the checkpoint naming order, unknown ones after, sorted."""
    present = [str(k) for k in kinds]
    return [k for k in KINDS if k in present] + sorted(k for k in present if k not in KINDS)

"""Diagnostics of a fit against its data: Q-Q, P-P, CDF and histogram with the fitted pdf.

Like :meth:`scipy.stats._result_classes.FitResult.plot`; each plot needs the sample (a
:class:`~weibull_stats.WeibullFit` does not keep it) and returns the figure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats.estimators.probability_plot import plotting_positions
from weibull_stats.plotting._base import (
    MAX_POINTS,
    axes_for,
    beta_band,
    finish_axes,
    focus_points,
    hidden_note,
    log_range,
    order_statistic_band,
    pyplot,
    window_of,
)
from weibull_stats.plotting.probability import fitted_sample, plot_probability
from weibull_stats.weibull import law

if TYPE_CHECKING:  # pragma: no cover
    from weibull_stats.estimators.results import WeibullFit

#: Kinds accepted by :func:`plot_fit` (and ``WeibullFit.plot(x, kind=...)``).
PLOT_KINDS: tuple[str, ...] = ("probability", "qq", "pp", "cdf", "hist", "diagnostics")


def _points(x: Any, fit: WeibullFit, window: tuple[float, float] | None, margin: float,
            max_points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, tuple[float, float]]:
    """Sorted data, drawn ranks, their plotting positions, the hidden-points note, the x-range."""
    data = fitted_sample(x, fit)
    n = data.size
    xlim, ranks, below, above = focus_points(data, window_of(fit.options, window)[0], margin, max_points)
    position = str(fit.options.get("plotting_position", "hazen"))
    return data, ranks, plotting_positions(ranks, n, position), hidden_note(below, above, n), xlim


def plot_qq(x: Any, fit: WeibullFit, ax: Any = None, *, band_level: float | None = 0.95,
            window: tuple[float, float] | None = None, margin: float = 0.5,
            max_points: int = MAX_POINTS) -> Any:
    """Q-Q plot: empirical order statistics against fitted quantiles, log-log, with the 1:1 line.

    The band is the pointwise order-statistic band of :func:`plot_probability` (``Q`` of the
    ``Beta(i, n - i + 1)`` quantiles). Same focus rules as the probability plot.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax, created = axes_for(ax)
    data, ranks, p, note, xlim = _points(x, fit, window, margin, max_points)
    theory = law.quantile(p, fit.shape, fit.scale)
    if band_level is not None and ranks.size:
        low, high = order_statistic_band(ranks, data.size, fit.shape, fit.scale, band_level)
        ax.fill_between(theory, low, high, color="C0", alpha=0.18, lw=0,
                        label=f"{band_level:.0%} pointwise band (order statistics)")
    ax.plot(theory, data[ranks - 1], ".", ms=2.5, color="0.25", label=f"|w| (n = {data.size:,})")
    ax.plot(xlim, xlim, color="C0", lw=1.2, label="1:1 (fitted law)")
    log_range(ax, xlim, "x")
    log_range(ax, xlim, "y")
    ax.set_xlabel("fitted quantile Q(p_i)")
    ax.set_ylabel("empirical quantile |w|_(i)")
    return finish_axes(ax, f"Q-Q ({fit.estimator}, k = {fit.shape:.4f})", note=note, created=created)


def plot_pp(x: Any, fit: WeibullFit, ax: Any = None, *, band_level: float | None = 0.95,
            max_points: int = MAX_POINTS) -> Any:
    """P-P plot: fitted ``F(x_(i))`` against the plotting position ``p_i``, every point drawn.

    The band is ``[b_lo, b_hi]``, the pointwise quantiles of ``Beta(i, n - i + 1)``, the law
    of ``F(X_(i))`` when the fitted law is true.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax, created = axes_for(ax)
    data, ranks, p, note, _ = _points(x, fit, (0.0, 1.0), 0.0, max_points)
    if band_level is not None and ranks.size:
        ax.fill_between(p, *beta_band(ranks, data.size, band_level), color="C0", alpha=0.18, lw=0,
                        label=f"{band_level:.0%} pointwise band (Beta(i, n−i+1))")
    ax.plot(p, law.cdf(data[ranks - 1], fit.shape, fit.scale), ".", ms=2.5, color="0.25",
            label=f"|w| (n = {data.size:,})")
    ax.plot([0, 1], [0, 1], color="C0", lw=1.2, label="1:1 (fitted law)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("plotting position p_i")
    ax.set_ylabel("fitted F(|w|_(i))")
    return finish_axes(ax, f"P-P ({fit.estimator})", note=note, created=created)


def plot_cdf(x: Any, fit: WeibullFit, ax: Any = None, *, window: tuple[float, float] | None = None,
             margin: float = 0.5, max_points: int = MAX_POINTS) -> Any:
    """Empirical CDF (at the plotting positions) and the fitted CDF, ``|w|`` on a log axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax, created = axes_for(ax)
    data, ranks, p, note, xlim = _points(x, fit, window, margin, max_points)
    ax.step(data[ranks - 1], p, where="post", color="0.25", lw=1, label=f"empirical (n = {data.size:,})")
    grid = np.geomspace(xlim[0], xlim[1], 300)
    ax.plot(grid, law.cdf(grid, fit.shape, fit.scale), color="C0", lw=1.3,
            label=f"fitted: k = {fit.shape:.4f}")
    focus, own = window_of(fit.options, window)
    if own:
        ax.axhspan(*focus, color="C1", alpha=0.08, lw=0, label=f"fitted window [{focus[0]:g}, {focus[1]:g}]")
    log_range(ax, xlim, "x")
    ax.set_ylim(0, 1)
    ax.set_xlabel("|w|")
    ax.set_ylabel("F(|w|)")
    return finish_axes(ax, f"CDF ({fit.estimator})", note=note, created=created)


def plot_hist(x: Any, fit: WeibullFit, ax: Any = None, *, bins: int = 80, upper: float = 0.995) -> Any:
    """Histogram of ``|w|`` as a density over ``[0, x_upper]`` with the fitted pdf.

    The density is normalised by the whole sample (bar areas are fractions of ``n``), so it
    is comparable with the pdf although points above the ``upper`` quantile are not drawn.

    Returns
    -------
    matplotlib.figure.Figure
    """
    ax, created = axes_for(ax)
    data = fitted_sample(x, fit)
    n = data.size
    top = float(data[int(np.clip(round(upper * (n - 1)), 0, n - 1))])
    counts, edges = np.histogram(data, bins=bins, range=(0.0, top))
    density = counts / (n * np.diff(edges))
    ax.stairs(density, edges, fill=True, color="0.8", label=f"|w| (n = {n:,})")
    grid = np.linspace(top / 2000, top, 400)
    pdf = law.density(grid, fit.shape, fit.scale)
    ax.plot(grid, pdf, color="C0", lw=1.3, label=f"fitted pdf: k = {fit.shape:.4f}, λ = {fit.scale:.4g}")
    ax.set_xlim(0, top)
    ax.set_ylim(0, max(float(density.max()), float(np.nanmax(pdf[grid > edges[1]], initial=0))) * 1.15)
    ax.set_xlabel("|w|")
    ax.set_ylabel("density")
    hidden = int(n - np.searchsorted(data, top, side="right"))
    note = f"{hidden:,} of {n:,} points above the x-range" if hidden else ""
    return finish_axes(ax, f"histogram ({fit.estimator})", note=note, created=created)


def plot_diagnostics(x: Any, fit: WeibullFit, **options: Any) -> Any:
    """Four panels: histogram with the fitted pdf, Q-Q, P-P and CDF (as scipy's ``FitResult.plot``).

    ``options`` go to the panels that take them (``band_level``, ``window``, ``margin``,
    ``max_points``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = pyplot().subplots(2, 2, figsize=(10.5, 11.0))
    plot_hist(x, fit, axes[0, 0])
    def pick(*names: str) -> dict[str, Any]:
        return {k: v for k, v in options.items() if k in names}

    plot_qq(x, fit, axes[0, 1], **pick("band_level", "window", "margin", "max_points"))
    plot_pp(x, fit, axes[1, 0], **pick("band_level", "max_points"))
    plot_cdf(x, fit, axes[1, 1], **pick("window", "margin", "max_points"))
    fig.suptitle(f"{fit.estimator} fit: k = {fit.shape:.4f}, λ = {fit.scale:.4g} (n = {fit.n:,})")
    fig.tight_layout()
    return fig


def plot_fit(x: Any, fit: WeibullFit, kind: str = "probability", ax: Any = None, **options: Any) -> Any:
    """One diagnostic of ``fit`` on ``x``: ``kind`` is one of :data:`PLOT_KINDS`.

    ``"probability"`` is :func:`~weibull_stats.plotting.plot_probability`; ``"diagnostics"``
    is the four-panel :func:`plot_diagnostics` (it takes no ``ax``).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.3, 1000)
    >>> fit = ws.fit_mle(x)
    >>> [type(fit.plot(x, kind=k)).__name__ for k in ("qq", "pp", "cdf", "hist")]
    ['Figure', 'Figure', 'Figure', 'Figure']
    """
    if kind == "diagnostics":
        if ax is not None:
            raise ValueError("`kind='diagnostics'` draws its own four-panel figure; pass no `ax`")
        return plot_diagnostics(x, fit, **options)
    drawers: dict[str, Callable[..., Any]] = {
        "probability": plot_probability, "qq": plot_qq, "pp": plot_pp, "cdf": plot_cdf, "hist": plot_hist,
    }
    if kind not in drawers:
        raise ValueError(f"`kind` must be one of {PLOT_KINDS}, got {kind!r}")
    return drawers[kind](x, fit, ax, **options)

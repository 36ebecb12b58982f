"""The Weibull probability plot on a probability-scaled axis, focused on the fitted window."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats.estimators.probability_plot import plotting_positions, weibull_plot_y
from weibull_stats.estimators.results import check_fitted_data
from weibull_stats.plotting._base import (
    MAX_POINTS,
    finish_axes,
    focus_points,
    hidden_note,
    log_range,
    new_axes,
    order_statistic_band,
    percent_ticks,
    window_of,
)
from weibull_stats.sample.checked import Sample, as_sample

if TYPE_CHECKING:  # pragma: no cover
    from weibull_stats.estimators.results import WeibullFit
    from weibull_stats.inference.bootstrap import BootstrapResult


def fitted_sample(x: Any, fit: WeibullFit) -> np.ndarray:
    """Sorted positive magnitudes of ``x`` under the fit's own input policy; a
    :class:`ValueError` when ``x`` is not the fitted data (:func:`check_fitted_data`)."""
    if not isinstance(x, Sample):
        policy = {k: fit.options[k] for k in ("values", "nonfinite", "zeros") if k in fit.options}
        x = as_sample(x, **policy)
    check_fitted_data(fit, x)
    return x.sorted_magnitudes()


def draw_probability(
    ax: Any,
    data: np.ndarray,
    shape: float,
    scale: float,
    *,
    window: tuple[float, float] = (0.1, 0.9),
    shade_window: bool = True,
    margin: float = 0.5,
    plotting_position: str = "hazen",
    band_level: float | None = 0.95,
    max_points: int = MAX_POINTS,
    line_label: str | None = None,
    marker_size: float = 2.5,
) -> dict[str, Any]:
    """Draw the probability plot of sorted positive ``data`` and the law ``(shape, scale)`` on ``ax``.

    The caller labels the ordinate (:func:`~weibull_stats.plotting._base.percent_ticks`) once
    the final y-limits are known (panels may share them). Returns the counts of hidden
    points and the limits used.
    """
    n = data.size
    xlim, ranks, below, above = focus_points(data, window, margin, max_points)
    x = data[ranks - 1]
    y = weibull_plot_y(plotting_positions(ranks, n, plotting_position))
    if band_level is not None and ranks.size:
        low, high = order_statistic_band(ranks, n, shape, scale, band_level)
        ax.fill_betweenx(y, low, high, color="C0", alpha=0.18, lw=0,
                         label=f"{band_level:.0%} pointwise band (order statistics)")
    ax.plot(x, y, ".", ms=marker_size, color="0.25", label=f"|w| (n = {n:,})", zorder=3)
    grid = np.geomspace(xlim[0], xlim[1], 200)
    ax.plot(grid, shape * np.log(grid / scale), color="C0", lw=1.3, zorder=4,
            label=line_label or f"fit: k = {shape:.4f}, λ = {scale:.4g}")
    if shade_window:
        bottom, top = weibull_plot_y(np.clip(np.array(window), 1e-12, 1 - 1e-12))
        ax.axhspan(bottom, top, color="C1", alpha=0.08, lw=0, zorder=0,
                   label=f"fitted window F in [{window[0]:g}, {window[1]:g}]")
    log_range(ax, xlim, "x")
    ylim = (float(y.min()) - 0.3, float(y.max()) + 0.3) if y.size else (-3.0, 2.0)
    ax.set_ylim(*ylim)
    ax.set_xlabel("|w|")
    ax.set_ylabel("cumulative probability F (Weibull scale)")
    note = hidden_note(below, above, n)
    if note:
        ax.plot([], [], " ", label=note)
    return {"below": below, "above": above, "xlim": xlim, "ylim": ylim}


def plot_probability(
    x: Any,
    fit: WeibullFit,
    ax: Any = None,
    *,
    bootstrap: BootstrapResult | None = None,
    band_level: float | None = 0.95,
    window: tuple[float, float] | None = None,
    margin: float = 0.5,
    max_points: int = MAX_POINTS,
    plotting_position: str | None = None,
) -> Any:
    r"""Weibull probability plot: percent-scaled ordinate, ``|w|`` on a log axis, a pointwise band.

    Each drawn order statistic ``x_(i)`` sits at ``(x_(i), ln(-ln(1 - p_i)))``, ``p_i`` the
    fit's plotting position (Hazen ``(i - 0.5)/n`` by default); on these axes the fitted law
    ``F(x) = 1 - exp(-(x/scale)^shape)`` is the straight line ``y = shape (ln x - ln scale)``
    and the ordinate is labelled in percent of ``F``. The x-range is the fitted window
    (the fit's trim, else ``window``, default the middle 80%) widened on each side by
    ``margin`` times its log-width and never beyond the data, so a few tiny weights cannot
    squeeze the window into a corner; the number of points outside is written in the legend.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        The fitted data (values, or weights when the fit used ``values="weights"``), or the
        checked :class:`~weibull_stats.Sample` the fit used.
    fit : WeibullFit
    ax : matplotlib Axes, optional
        Default: a new figure.
    bootstrap : BootstrapResult, optional
        Adds the pointwise band of the bootstrap lines at its confidence level (parameter
        uncertainty of the fit, beside the sampling band of the points).
    band_level : float or None, default 0.95
        Level of the pointwise order-statistic band; None draws none.
    window : (float, float), optional
        Probability window to focus on; default the fit's trim, else ``(0.1, 0.9)``.
    margin : float, default 0.5
        Widening of the x-range on each side, in units of the window's log-width.
    max_points : int, default 4000
        Order statistics drawn at most (evenly spaced in rank inside the x-range).
    plotting_position : str, optional
        Default: the fit's own, else Hazen.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The band is the order-statistic band. For ``n`` i.i.d. draws from a continuous law
    ``F``, ``U_(i) = F(X_(i))`` is the ``i``-th order statistic of ``n`` uniforms, so
    ``U_(i) ~ Beta(i, n - i + 1)``. With ``b_lo`` and ``b_hi`` its ``(1 - level)/2`` and
    ``(1 + level)/2`` quantiles, and ``Q(u) = scale (-ln(1 - u))^{1/shape}`` the fitted
    quantile function (increasing),

    .. math:: P\{Q(b_{lo}) \le X_{(i)} \le Q(b_{hi})\} = P\{b_{lo} \le U_{(i)} \le b_{hi}\} = level .

    At the point's ordinate the band runs horizontally from ``Q(b_lo)`` to ``Q(b_hi)``: where
    the points leave it, the data depart from the fitted law by more than sampling spread.
    The band is pointwise (not simultaneous over ``i``) and treats the fitted parameters as
    known; the ``bootstrap`` band adds their uncertainty.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> w = np.random.default_rng(0).normal(0.0, 0.02, 2000)
    >>> fit = ws.fit_probability_plot(w, values="weights")
    >>> fig = fit.plot(w)
    >>> type(fig).__name__
    'Figure'
    """
    created = ax is None
    ax = new_axes(ax)
    data = fitted_sample(x, fit)
    focus, own = window_of(fit.options, window)
    position = plotting_position or str(fit.options.get("plotting_position", "hazen"))
    drawn = draw_probability(ax, data, fit.shape, fit.scale, window=focus, shade_window=own, margin=margin,
                             plotting_position=position, band_level=band_level, max_points=max_points,
                             line_label=f"{fit.estimator}: k = {fit.shape:.4f}, λ = {fit.scale:.4g}")
    if bootstrap is not None:
        grid = np.geomspace(float(drawn["xlim"][0]), float(drawn["xlim"][1]), 200)
        dist = bootstrap.bootstrap_distribution
        lines = dist[:, :1] * (np.log(grid)[None, :] - np.log(dist[:, 1:2]))
        alpha = 1.0 - bootstrap.confidence_level
        low, high = np.quantile(lines, [alpha / 2, 1 - alpha / 2], axis=0)
        ax.fill_between(grid, low, high, color="C3", alpha=0.25, lw=0,
                        label=f"{bootstrap.confidence_level:.0%} {bootstrap.method} "
                              "bootstrap band of the line")
    percent_ticks(ax)
    return finish_axes(ax, f"Weibull probability plot ({fit.estimator})", created=created)


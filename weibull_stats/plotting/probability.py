"""The Weibull probability plot on a probability-scaled axis over the whole sample, with the
order-statistic band, and under it each point's place in its own law (visible at any ``n``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from weibull_stats.estimators.probability_plot import plotting_positions
from weibull_stats.estimators.results import check_fitted_data
from weibull_stats.plotting._base import (
    MAX_POINTS,
    finish_axes,
    focus_points,
    hidden_note,
    log_range,
    new_axes,
    order_statistic_band,
    order_statistic_z,
    percent_ticks,
    pyplot,
    window_of,
)
from weibull_stats.sample.checked import Sample, as_sample
from weibull_stats.weibull.law import log_hazard, plot_ordinates

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
    margin: float | None = None,
    plotting_position: str = "hazen",
    band_level: float | None = 0.95,
    max_points: int = MAX_POINTS,
    line_label: str | None = None,
    marker_size: float = 2.5,
) -> dict[str, Any]:
    """Draw the probability plot of sorted positive ``data`` and the law ``(shape, scale)`` on ``ax``.

    The caller labels the ordinate (:func:`~weibull_stats.plotting._base.percent_ticks`) once
    the final y-limits are known (panels may share them). ``margin`` None draws the whole
    sample (the y-range holds the smallest and largest plotting positions); a number focuses
    on the window (:func:`~weibull_stats.plotting._base.focus_range`). Returns the counts of
    hidden points, the limits used, and the drawn ranks with their order statistics.
    """
    n = data.size
    xlim, ranks, below, above = focus_points(data, window, margin, max_points)
    x = data[ranks - 1]
    y = plot_ordinates(plotting_positions(ranks, n, plotting_position))
    if band_level is not None and ranks.size:
        low, high = order_statistic_band(ranks, n, shape, scale, band_level)
        ax.fill_betweenx(y, low, high, color="C0", alpha=0.18, lw=0,
                         label=f"{band_level:.0%} pointwise band (order statistics)")
    ax.plot(x, y, ".", ms=marker_size, color="0.25", label=f"|w| (n = {n:,})", zorder=3)
    grid = np.geomspace(xlim[0], xlim[1], 200)
    ax.plot(grid, log_hazard(np.log(grid), shape, np.log(scale)), color="C0", lw=1.3, zorder=4,
            label=line_label or f"fit: k = {shape:.4f}, λ = {scale:.4g}")
    if shade_window:
        bottom, top = plot_ordinates(np.clip(np.array(window), 1e-12, 1 - 1e-12))
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
    return {"below": below, "above": above, "xlim": xlim, "ylim": ylim, "ranks": ranks, "x": x}


#: Largest |z| drawn to scale in the panel under the probability plot; beyond it a point is a
#: triangle on the edge (the panel's range is at least ±3 so the band always shows).
Z_CLIP = 6.0


def draw_order_statistic_z(ax: Any, x: np.ndarray, ranks: np.ndarray, n: int, shape: float, scale: float,
                           *, band_level: float | None = 0.95, marker_size: float = 2.5) -> np.ndarray:
    """Each drawn order statistic's normal score in its own law under the fit, against ``x``.

    The band of the probability plot holds ``x_(i)`` with probability ``level``; here it is
    the horizontal strip ``|z| <= Phi^-1((1 + level) / 2)``, as wide at ``n = 10^6`` as at
    ``n = 100`` (:func:`~weibull_stats.plotting._base.order_statistic_z`). Returns the scores.
    """
    z = order_statistic_z(x, ranks, n, shape, scale)
    if band_level is not None:
        half = float(stats.norm.ppf((1 + band_level) / 2))
        ax.axhspan(-half, half, color="C0", alpha=0.18, lw=0,
                   label=f"below: z of x₍ᵢ₎ in its law under the fit; the band is |z| ≤ {half:.2f}")
    ax.axhline(0.0, color="C0", lw=1.0)
    inside = np.abs(z) <= Z_CLIP
    ax.plot(x[inside], z[inside], ".", ms=marker_size, color="0.25", zorder=3)
    for sign, marker in ((1, "^"), (-1, "v")):
        out = sign * z > Z_CLIP
        if out.any():
            ax.plot(x[out], np.full(int(out.sum()), sign * Z_CLIP), marker, ms=3.5, color="C3", zorder=3,
                    label=f"{int(out.sum()):,} with |z| > {Z_CLIP:g} (drawn on the edge)")
    reach = max(3.0, min(Z_CLIP, float(np.abs(z[np.isfinite(z)]).max(initial=0.0))))
    ax.set_ylim(-reach - 0.4, reach + 0.4)
    ax.set_ylabel("z of x₍ᵢ₎", fontsize="small")
    return z


def plot_probability(
    x: Any,
    fit: WeibullFit,
    ax: Any = None,
    *,
    bootstrap: BootstrapResult | None = None,
    band_level: float | None = 0.95,
    window: tuple[float, float] | None = None,
    margin: float | None = None,
    max_points: int = MAX_POINTS,
    plotting_position: str | None = None,
    scores: bool = True,
) -> Any:
    r"""Weibull probability plot: percent-scaled ordinate, ``|w|`` on a log axis, a pointwise band.

    Each drawn order statistic ``x_(i)`` sits at ``(x_(i), ln(-ln(1 - p_i)))``, ``p_i`` the
    fit's plotting position (Hazen ``(i - 0.5)/n`` by default); on these axes the fitted law
    ``F(x) = 1 - exp(-(x/scale)^shape)`` is the straight line ``y = shape (ln x - ln scale)``
    and the ordinate is labelled in percent of ``F``. The whole sample is drawn, both tails
    included (at most ``max_points`` order statistics, spread evenly in rank and on the
    ordinate); ``margin`` focuses on a window instead. The fit's trim is shaded.

    Under the plot, a panel sharing its x-axis shows where each drawn ``x_(i)`` lies in its
    own law under the fit (the normal score ``z``, see Notes) with the band as the strip
    ``|z| <= 1.96``: the band around the line narrows like ``1/sqrt(n)`` and is hairline-thin
    at ``n = 10^6``, the strip is not.

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
        Probability window that ``margin`` focuses on; default the fit's trim, else
        ``(0.1, 0.9)``.
    margin : float, optional
        None (default): the whole sample. A number: the x-range is the window widened on each
        side by ``margin`` times its log-width (never beyond the data), and the legend says
        how many points fall outside.
    max_points : int, default 4000
        Order statistics drawn at most (half evenly spaced in rank, half on the ordinate).
    plotting_position : str, optional
        Default: the fit's own, else Hazen.
    scores : bool, default True
        Draw the panel of order-statistic normal scores under the plot.

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
    known; the ``bootstrap`` band adds their uncertainty. The lower panel's score is
    ``z_i = Phi^{-1}(P\{U_{(i)} \le \hat F(x_{(i)})\})``, standard normal for each ``i`` under
    the fitted law, so ``x_(i)`` is outside the band exactly when ``|z_i| > Phi^{-1}((1 + level)/2)``.

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
    below = None
    if created and scores:
        _, (ax, below) = pyplot().subplots(2, 1, figsize=(5.6, 8.2), sharex=True, height_ratios=(3.0, 1.0))
    else:
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
        lines = log_hazard(np.log(grid)[None, :], dist[:, :1], np.log(dist[:, 1:2]))
        alpha = 1.0 - bootstrap.confidence_level
        low, high = np.quantile(lines, [alpha / 2, 1 - alpha / 2], axis=0)
        ax.fill_between(grid, low, high, color="C3", alpha=0.25, lw=0,
                        label=f"{bootstrap.confidence_level:.0%} {bootstrap.method} "
                              "bootstrap band of the line")
    percent_ticks(ax)
    if scores and drawn["ranks"].size:
        if below is None:  # the caller's axes: hang the panel under it
            below = ax.inset_axes((0.0, -0.5, 1.0, 0.32), sharex=ax)
        draw_order_statistic_z(below, drawn["x"], drawn["ranks"], data.size, fit.shape, fit.scale,
                               band_level=band_level)
        below.set_xlabel(ax.get_xlabel())
        ax.set_xlabel("")
        ax.tick_params(labelbottom=False)
        below.grid(True, color="0.9", lw=0.6)
    elif below is not None:
        below.set_visible(False)
        below = None
    return finish_axes(ax, f"Weibull probability plot ({fit.estimator})", created=created, under=below)

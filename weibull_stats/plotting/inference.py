"""Plots of inference results: bootstrap distributions and goodness-of-fit null distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats.core.formatting import pvalue_text
from weibull_stats.plotting._base import new_axes, pyplot

if TYPE_CHECKING:  # pragma: no cover
    from weibull_stats.inference.bootstrap import BootstrapResult
    from weibull_stats.inference.gof import GoodnessOfFitResult

#: Display names of the statistics.
STATISTIC_NAMES = {"ad": "Anderson–Darling A²", "cvm": "Cramér–von Mises W²", "ks": "Kolmogorov–Smirnov D"}
#: The observed statistic is drawn on a log axis when it is this many times beyond the null.
FAR_FACTOR = 5.0


def plot_bootstrap_distribution(result: BootstrapResult, ax: Any = None, *, bins: int = 40) -> Any:
    """Histograms of the bootstrap shapes and scales, with the estimate and the interval.

    Parameters
    ----------
    result : BootstrapResult
    ax : sequence of two matplotlib Axes, optional
        Axes for shape and scale; default a new figure with two panels.
    bins : int, default 40

    Returns
    -------
    matplotlib.figure.Figure
        The legend names the interval (method, level, resampling kind and count).

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.3, 500)
    >>> fig = ws.bootstrap(x, "mle", n_resamples=50, rng=0, workers=1).plot()
    >>> len(fig.axes)
    2
    """
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        fig, axes = pyplot().subplots(1, 2, figsize=(9.5, 3.8))
    else:
        axes = list(ax)
        fig = axes[0].figure
    estimates = (result.estimate.shape, result.estimate.scale)
    intervals = (result.confidence_interval.shape, result.confidence_interval.scale)
    interval_name = f"{result.confidence_level:.0%} {result.method} interval"
    for i, (name, symbol) in enumerate((("shape", "k"), ("scale", "λ"))):
        panel = axes[i]
        panel.hist(result.bootstrap_distribution[:, i], bins=bins, color="0.75",
                   label=f"{result.n_resamples} {result.kind} resamples")
        panel.axvline(estimates[i], color="C0", lw=1.5, label=f"estimate {estimates[i]:.4g}")
        low, high = intervals[i]
        panel.axvspan(low, high, color="C3", alpha=0.08, lw=0)
        for bound in (low, high):
            panel.axvline(bound, color="C3", ls="--", lw=1.2)
        panel.plot([], [], color="C3", ls="--", label=f"{interval_name} [{low:.4g}, {high:.4g}]")
        panel.xaxis.set_major_locator(MaxNLocator(5))
        panel.ticklabel_format(axis="x", style="sci", scilimits=(-3, 4), useOffset=False)
        panel.set_xlabel(f"{name} {symbol}")
        panel.set_ylabel("resamples")
        panel.legend(fontsize="x-small", loc="upper left", framealpha=0.9)
        top = panel.get_ylim()[1]
        panel.set_ylim(0, top * 1.35)  # room for the legend above the histogram
    fig.suptitle(f"Bootstrap of {result.estimate.estimator} (n = {result.estimate.n:,})", fontsize="medium")
    fig.tight_layout()
    return fig


def plot_null_distribution(result: GoodnessOfFitResult, ax: Any = None, *, bins: int = 40,
                           log: bool | None = None) -> Any:
    """Monte Carlo null distribution of the statistic with the observed value, both in view.

    When the observed statistic lies more than :data:`FAR_FACTOR` times beyond the null's
    range (a clear rejection at large ``n``) the statistic axis is logarithmic (log-spaced
    bins) and an arrow points at the observed value; the p-value, with its Monte Carlo floor
    written as ``≤ 1/(M+1)`` (:func:`weibull_stats.core.formatting.pvalue_text`), is in the title.

    Parameters
    ----------
    result : GoodnessOfFitResult
    ax : matplotlib Axes, optional
    bins : int, default 40
    log : bool, optional
        Force the statistic axis to be logarithmic or linear; default: by the rule above.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> x = np.abs(np.random.default_rng(0).normal(size=2000))
    >>> fig = ws.goodness_of_fit(x, n_mc_samples=19, rng=0, workers=1).plot()
    >>> "p ≤ 1/20" in fig.axes[0].get_title()
    True
    """
    ax = new_axes(ax, (6.4, 3.8))
    null = np.asarray(result.null_distribution, dtype=float)
    null = null[np.isfinite(null)]
    observed = float(result.statistic)
    name = STATISTIC_NAMES.get(result.statistic_name, result.statistic_name)
    if null.size:
        low, high = float(null.min()), float(null.max())
        positive = low > 0 and observed > 0
        far = positive and (observed > FAR_FACTOR * high or observed < low / FAR_FACTOR)
        use_log = far if log is None else (log and positive)
        edges: Any
        if use_log:
            edges = np.geomspace(low, high, bins + 1)
            ax.set_xscale("log")
        else:
            edges = np.linspace(low, high, bins + 1) if high > low else bins
        ax.hist(null, bins=edges, color="0.7",
                label=f"null: {result.n_mc_samples} parametric-bootstrap samples, "
                      f"refitted by {result.fit.estimator}")
        ends = (min(low, observed), max(high, observed))
        if use_log:
            ax.set_xlim(ends[0] / 1.6, ends[1] * 1.6)
        else:
            pad = 0.05 * (ends[1] - ends[0] or 1.0)
            ax.set_xlim(ends[0] - pad, ends[1] + pad)
    ax.axvline(observed, color="C3", lw=1.5, label=f"observed {name} = {observed:.4g}")
    top = ax.get_ylim()[1]
    ax.set_ylim(0, top * 1.4)
    if null.size and (observed > high or observed < low):
        ax.annotate(f"observed\n{observed:.3g}", xy=(observed, top * 0.55), xytext=(0.5, 0.62),
                    textcoords="axes fraction", ha="center", fontsize="small", color="C3",
                    arrowprops={"arrowstyle": "->", "color": "C3"})
    ax.set_xlabel(f"{name} statistic" + (" (log scale)" if ax.get_xscale() == "log" else ""))
    ax.set_ylabel("Monte Carlo samples")
    p = pvalue_text(result.pvalue, result.n_mc_samples, prefix=True, missing="p n/a (no Monte Carlo samples)")
    ax.set_title(f"{name} = {observed:.4g}, {p} (M = {result.n_mc_samples})",
                 fontsize="medium")
    ax.legend(fontsize="x-small", loc="upper left", framealpha=0.9)
    return ax.figure

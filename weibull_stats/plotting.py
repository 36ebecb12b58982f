"""Every plot of the package, in one module; matplotlib is imported inside each function.

Sections: fits (the Weibull probability plot), uncertainty (bootstrap distributions),
goodness of fit (null distributions), scan plots (shape by layer, probability plots per
kind, trajectories). Functions take an optional ``ax`` (or ``axes``),
draw on it, and return what they drew on, so they compose in notebooks and reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats.checkpoints import KINDS
from weibull_stats.estimators.probability_plot import plotting_positions, weibull_plot_y
from weibull_stats.sample import Sample, as_sample

if TYPE_CHECKING:  # pragma: no cover
    from weibull_stats.bootstrapping import BootstrapResult
    from weibull_stats.gof import GoodnessOfFitResult
    from weibull_stats.results import WeibullFit

#: Points drawn at most on a probability plot (evenly spaced in rank, tails kept).
MAX_POINTS = 4000


def _pyplot() -> Any:
    """``matplotlib.pyplot``, imported on first use."""
    import matplotlib.pyplot as plt

    return plt


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    _, new_ax = _pyplot().subplots()
    return new_ax


# ---------------------------------------------------------------------- fits
def plot_probability(
    x: Any,
    fit: WeibullFit,
    ax: Any = None,
    *,
    bootstrap: BootstrapResult | None = None,
    max_points: int = MAX_POINTS,
    plotting_position: str | None = None,
) -> Any:
    """Weibull probability plot of ``x`` with the fitted line and the trim window.

    Points are ``(ln x_(i), ln(-ln(1 - p_i)))`` (at most ``max_points`` of them, evenly
    spaced in rank, with both extremes); the line is ``y = shape (ln x - ln scale)``. When
    the fit has a trim window (probability plot, histogram) it is shaded; a ``bootstrap``
    result adds the pointwise band of its lines at its confidence level.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        The fitted data (values, or weights when the fit used ``values="weights"``), in any
        float dtype (``ml_dtypes.bfloat16`` checkpoint tensors included), or the checked
        :class:`~weibull_stats.Sample` the fit used.
    fit : WeibullFit
    ax : matplotlib Axes, optional
    bootstrap : BootstrapResult, optional
    max_points : int, default 4000
    plotting_position : str, optional
        Default: the fit's own, else Hazen.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    policy = {k: fit.options[k] for k in ("values", "nonfinite", "zeros") if k in fit.options}
    data = as_sample(x, **policy).sorted_magnitudes()
    n = data.size
    position = plotting_position or str(fit.options.get("plotting_position", "hazen"))
    ranks = np.unique(np.linspace(1, n, min(n, max(2, max_points))).round().astype(np.intp))
    u = np.log(data[ranks - 1])
    y = weibull_plot_y(plotting_positions(ranks, n, position))
    ax.plot(u, y, ".", markersize=2, color="0.3", label=f"data (n={n})")
    grid = np.linspace(u.min(), u.max(), 200)
    if bootstrap is not None:
        dist = bootstrap.bootstrap_distribution
        lines = dist[:, :1] * (grid[None, :] - np.log(dist[:, 1:2]))
        alpha = 1.0 - bootstrap.confidence_level
        low, high = np.quantile(lines, [alpha / 2, 1 - alpha / 2], axis=0)
        ax.fill_between(grid, low, high, color="C0", alpha=0.25,
                        label=f"{bootstrap.confidence_level:.0%} bootstrap band ({bootstrap.method})")
    ax.plot(grid, fit.shape * (grid - np.log(fit.scale)), color="C0",
            label=f"{fit.estimator}: shape {fit.shape:.4g}, scale {fit.scale:.4g}")
    trim = fit.options.get("trim")
    if trim is not None:
        low_p, high_p = float(trim[0]), float(trim[1])
        bottom = float(weibull_plot_y(np.array([max(low_p, 1e-12)]))[0])
        top = float(weibull_plot_y(np.array([min(high_p, 1 - 1e-12)]))[0])
        ax.axhspan(bottom, top, color="C1", alpha=0.1, label=f"trim window [{low_p:g}, {high_p:g}]")
    ax.set_xlabel("ln x")
    ax.set_ylabel("ln(-ln(1 - p))")
    ax.legend(loc="upper left", fontsize="small")
    return ax


# ---------------------------------------------------------------------- uncertainty
def plot_bootstrap_distribution(result: BootstrapResult, ax: Any = None, *, bins: int = 40) -> Any:
    """Histograms of the bootstrap shapes and scales, with the interval and the estimate.

    Parameters
    ----------
    result : BootstrapResult
    ax : sequence of two matplotlib Axes, optional
        Axes for shape and scale; default a new figure with two panels.
    bins : int, default 40

    Returns
    -------
    numpy.ndarray of two matplotlib Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    else:
        axes = ax
    estimates = (result.estimate.shape, result.estimate.scale)
    intervals = (result.confidence_interval.shape, result.confidence_interval.scale)
    for i, name in enumerate(("shape", "scale")):
        panel = axes[i]
        panel.hist(result.bootstrap_distribution[:, i], bins=bins, color="0.7")
        panel.axvline(estimates[i], color="C0", label="estimate")
        for bound in intervals[i]:
            panel.axvline(bound, color="C3", linestyle="--")
        panel.set_xlabel(name)
        panel.set_title(
            f"{result.confidence_level:.0%} {result.method}: "
            f"[{intervals[i].low:.4g}, {intervals[i].high:.4g}]",
            fontsize="small",
        )
    axes[0].set_ylabel(f"{result.n_resamples} {result.kind} resamples")
    return np.asarray(axes)


# ---------------------------------------------------------------------- goodness of fit
def plot_null_distribution(result: GoodnessOfFitResult, ax: Any = None, *, bins: int = 40) -> Any:
    """Histogram of the Monte Carlo null distribution with the observed statistic.

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax)
    if result.n_mc_samples:
        ax.hist(result.null_distribution, bins=bins, color="0.7",
                label=f"null ({result.n_mc_samples} samples, refitted by {result.fit.estimator})")
    p = "n/a" if result.pvalue is None else f"{result.pvalue:.3g}"
    ax.axvline(result.statistic, color="C3", label=f"observed {result.statistic:.4g} (p = {p})")
    ax.set_xlabel(f"{result.statistic_name} statistic")
    ax.legend(fontsize="small")
    return ax


# ---------------------------------------------------------------------- scan plots
def _scan_figure(panels: int, width: float = 3.2, height: float = 2.6) -> tuple[Any, list[Any]]:
    plt = _pyplot()
    columns = min(4, max(1, panels))
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[panels:]:
        ax.set_visible(False)
    return fig, flat[:panels]


def plot_scan_shape_by_layer(frame: Any, *, estimator: str = "probability_plot",
                             anchor: float | None = 1.2054343190) -> Any:
    """Weibull shape ``k`` against layer, one panel per kind, for the last checkpoint of a scan.

    Parameters
    ----------
    frame : pandas.DataFrame
        A scan table (:func:`weibull_stats.scan`); bootstrap intervals are drawn as error bars
        where present.
    estimator : str, default "probability_plot"
    anchor : float or None
        Horizontal reference line (the HalfNormal anchor of the middle-80% fit).

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = frame[(frame["estimator"] == estimator) & frame["layer"].notna()]
    data = data[data["checkpoint"] == data["checkpoint"].iloc[-1]] if len(data) else data
    kinds = [k for k in _kind_order(data["kind"].unique())]
    fig, axes = _scan_figure(max(1, len(kinds)))
    for ax, kind in zip(axes, kinds, strict=False):
        part = data[data["kind"] == kind].sort_values("layer")
        layer = part["layer"].astype(float).to_numpy()
        shape = part["shape"].to_numpy(dtype=float)
        low = part["shape_low"].to_numpy(dtype=float)
        high = part["shape_high"].to_numpy(dtype=float)
        if np.isfinite(low).all() and np.isfinite(high).all() and len(low):
            ax.errorbar(layer, shape, yerr=[shape - low, high - shape], fmt="o-", ms=3, capsize=2)
        else:
            ax.plot(layer, shape, "o-", ms=3)
        if anchor is not None:
            ax.axhline(anchor, color="0.5", lw=0.8, ls="--", label=f"HalfNormal anchor {anchor:.4f}")
            bottom, top = ax.get_ylim()
            margin = 0.05 * (top - bottom)
            ax.set_ylim(min(bottom, anchor - margin), max(top, anchor + margin))
        ax.set_title(kind)
        ax.set_xlabel("layer")
        ax.set_ylabel("shape k")
    if anchor is not None and kinds:
        axes[0].legend(loc="best", fontsize="small")
    fig.suptitle(f"Weibull shape by layer ({estimator})")
    fig.tight_layout()
    return fig


def plot_scan_probability(samples: Any, *, trim: tuple[float, float] = (0.1, 0.9), points: int = 800) -> Any:
    """Weibull probability plots, one panel per kind.

    Parameters
    ----------
    samples : sequence of (title, magnitudes, shape, scale)
        Positive magnitudes of one matrix per kind (an array of any float dtype,
        ``ml_dtypes.bfloat16`` included, or a :class:`~weibull_stats.Sample`) and the
        fitted law.
    trim : (float, float)
        Plotting-position window of the fit, drawn as dotted horizontal lines.
    points : int
        Order statistics drawn per panel (evenly spaced in rank; the fit used all).

    Returns
    -------
    matplotlib.figure.Figure
    """
    samples = list(samples)
    fig, axes = _scan_figure(max(1, len(samples)))
    for ax, (title, x, shape, scale) in zip(axes, samples, strict=False):
        if isinstance(x, Sample):
            data = x.sorted_magnitudes()
        else:
            data = np.sort(np.asarray(x).astype(np.float64).reshape(-1))
        n = data.size
        index = np.unique(np.linspace(0, n - 1, min(points, n)).astype(np.int64))
        p = (index + 0.5) / n
        ax.plot(np.log(data[index]), np.log(-np.log1p(-p)), ".", ms=2, label="|w|")
        u = np.log(data[index[[0, -1]]])
        ax.plot(u, shape * (u - np.log(scale)), "-", lw=1, label=f"k={shape:.3f}")
        for q in trim:
            ax.axhline(np.log(-np.log1p(-q)), color="0.5", lw=0.6, ls=":")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("ln |w|")
        ax.set_ylabel("ln(-ln(1-p))")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_scan_trajectory(frame: Any, *, estimator: str = "probability_plot",
                         anchor: float | None = 1.2054343190) -> Any:
    """Median shape ``k`` and scale ``λ`` over layers against training step, one line per kind.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    data = frame[(frame["estimator"] == estimator) & frame["step"].notna()]
    medians = data.groupby(["kind", "step"])[["shape", "scale"]].median().reset_index()
    fig, (ax_shape, ax_scale) = plt.subplots(1, 2, figsize=(10, 3.6))
    for kind in _kind_order(medians["kind"].unique()):
        part = medians[medians["kind"] == kind].sort_values("step")
        step = part["step"].astype(float).to_numpy()
        ax_shape.plot(step, part["shape"].to_numpy(dtype=float), "o-", ms=3, label=kind)
        ax_scale.plot(step, part["scale"].to_numpy(dtype=float), "o-", ms=3, label=kind)
    if anchor is not None:
        ax_shape.axhline(anchor, color="0.5", lw=0.8, ls="--")
    ax_shape.set_xlabel("step")
    ax_shape.set_ylabel("median shape k")
    ax_scale.set_xlabel("step")
    ax_scale.set_ylabel("median scale λ")
    ax_scale.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Weibull fits against training step ({estimator})")
    fig.tight_layout()
    return fig


def _kind_order(kinds: Any) -> list[str]:
    present = [str(k) for k in kinds]
    return [k for k in KINDS if k in present] + sorted(k for k in present if k not in KINDS)

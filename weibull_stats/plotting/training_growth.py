"""λ against training step on a log axis, one panel per kind, with a fitted growth law
(:func:`~weibull_stats.scanning.growth.fit_growth`) whose formula and parameters the legend states."""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.plotting._base import kind_order, log_axis
from weibull_stats.plotting.scan_shape import figure_footer, fit_label, interval_source, panel_grid
from weibull_stats.plotting.training_base import bars_text, step_axis, step_medians, training_rows
from weibull_stats.scanning.growth import (
    DEFAULT_GROWTH_CURVE,
    GROWTH_CURVES,
    MIN_GROWTH_STEPS,
    GrowthFit,
    fit_growth,
)


def plot_training_growth(results: Any, *, estimator: str | None = None, curve: str = DEFAULT_GROWTH_CURVE,
                         interval: str = "auto") -> Any:
    """Median λ of each kind against step on a log axis, with a fitted growth law.

    One panel per kind (all on one λ range): the median λ over the kind's matrices at each
    step, with bars from the interval columns the legend names (the medians of the matrices'
    interval ends), and the law ``curve`` fitted to the medians by least squares on ``ln λ``
    (:func:`~weibull_stats.scanning.growth.fit_growth`); each panel's legend gives the fitted
    parameters and the caption the formula. A kind with fewer than four steps is drawn
    without a curve, and says so.

    Parameters
    ----------
    results : pandas.DataFrame or path
        A results table with steps, or a scan or monitor folder
        (:func:`~weibull_stats.plotting.training_base.training_rows`).
    estimator : str, optional
    curve : {"saturating", "power"}, default "saturating"
        ``λ0 + λ∞·(1 − exp(−t/τ))`` or ``λ0 + a·t^b``
        (:data:`~weibull_stats.scanning.growth.GROWTH_CURVES`).
    interval : {"auto", "asymptotic", "bootstrap", "none"}, default "auto"

    Returns
    -------
    matplotlib.figure.Figure
        The fits are in ``fig.growth_fits`` (kind -> :class:`~weibull_stats.scanning.growth.GrowthFit`).

    Examples
    --------
    >>> import pandas as pd
    >>> t = np.array([0, 100, 200, 400, 800])
    >>> rows = pd.DataFrame({"step": t, "estimator": "mle", "kind": "q", "layer": 0, "tensor": "q.weight",
    ...                      "part": "",
    ...                      "numel": 64, "shape": 1.2, "scale": 0.02 + 0.03 * (1 - np.exp(-t / 300))})
    >>> fig = plot_training_growth(rows)
    >>> round(fig.growth_fits["q"].parameters["τ"])
    300
    """
    from matplotlib.ticker import LogLocator

    if curve not in GROWTH_CURVES:
        raise ValueError(f"`curve` must be one of {', '.join(map(repr, GROWTH_CURVES))}; got {curve!r}")
    data, estimator = training_rows(results, estimator)
    law = GROWTH_CURVES[curve]
    source = interval_source(data, interval)
    steps = sorted(set(data["step"]))
    kinds = kind_order(data["kind"].unique())
    fig, axes = panel_grid(len(kinds), height=2.9, sharey=True)
    label = fit_label(data, estimator)
    fits: dict[str, GrowthFit] = {}
    entries: dict[str, Any] = {}
    drawn_values: list[float] = []
    for ax, kind in zip(axes, kinds, strict=True):
        table = step_medians(data, kind, source)
        where, middle = table.index.to_numpy(dtype=float), table["scale"].to_numpy(dtype=float)
        if source:
            bars = [middle - table["scale_low"].to_numpy(dtype=float),
                    table["scale_high"].to_numpy(dtype=float) - middle]
            drawn = ax.errorbar(where, middle, yerr=bars, fmt="o", ms=3.5, capsize=2, color="C1", zorder=3)
        else:
            (drawn,) = ax.plot(where, middle, "o", ms=3.5, color="C1", zorder=3)
        entries.setdefault(f"median λ over the kind's matrices ({label})\n"
                           + (bars_text(data, source, "λ") if source else "no interval drawn"), drawn)
        drawn_values += [*middle, *(np.r_[middle - bars[0], middle + bars[1]] if source else [])]
        try:
            fit = fit_growth(where, middle, curve)
        except ValueError:  # too few steps, or a median λ that is not positive: the points alone
            few = np.unique(where).size < MIN_GROWTH_STEPS
            why = f"fewer than {MIN_GROWTH_STEPS} steps" if few else "a median λ is not positive"
            ax.text(0.03, 0.96, f"no curve: {why}", transform=ax.transAxes, fontsize=6.5, va="top",
                    color="0.35")
        else:
            fits[str(kind)] = fit
            dense = np.linspace(where.min(), where.max(), 200)
            ax.plot(dense, fit(dense), "-", lw=1.1, color="0.2", zorder=2,
                    label=f"{fit.text}\nrms ln-error {fit.rms_log_error:.3f}"
                    + (f"; {', '.join(fit.at_bound)} at its bound" if fit.at_bound else ""))
            ax.legend(fontsize=6, loc="lower right", handlelength=1.2, framealpha=0.85)
            entries.setdefault(f"fitted {law.formula}", ax.get_lines()[-1])
        ax.set_title(kind, fontsize="medium")
        step_axis(ax, steps)
        ax.grid(True, which="both", color="0.92", lw=0.6)
    positive = np.array([v for v in drawn_values if np.isfinite(v) and v > 0])
    for ax in axes:
        ax.set_yscale("log")
    if positive.size:
        axes[0].set_ylim(positive.min() / 1.15, positive.max() * 1.15)
    for ax in axes:
        log_axis(ax, "y")
        if positive.size and positive.max() < 10 * positive.min():  # under a decade: label 1..9 x 10^n
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
        ax.tick_params(labelsize=7)
    for ax in axes[:: min(4, len(axes))]:
        ax.set_ylabel("median λ (log axis)", fontsize="small")
    title = "Scale λ against step" + (" with a fitted growth law" if fits else "")
    fig.suptitle(f"{title} ({label})", fontsize="medium")
    caption = (f"Curve: {law.formula}, fitted per kind to the medians by least squares on ln λ "
               f"(scipy.optimize.least_squares); its {len(law.parameters)} parameters need "
               f"{MIN_GROWTH_STEPS} or more steps" + ("" if fits else f", and this table has {len(steps)}"))
    figure_footer(fig, list(entries.values()), list(entries), caption, columns=2)
    fig.growth_fits = fits
    return fig


__all__ = ["plot_training_growth"]

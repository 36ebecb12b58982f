"""Plots of the validation studies (matplotlib on the Agg backend, imported lazily).

Each figure is written as PNG (200 dpi) and PDF beside its table; panels that show the same
quantity share their y-range; error bars are named in the titles or legends; every title
says how many replications each point rests on, read from the table drawn; legends sit
outside the panels; series drawn at one abscissa are dodged so their bars do not overlap.
:func:`redraw_figures` redraws them from the committed CSV tables (no simulation)::

    python -m weibull_stats.validation.figures validation/results
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.validation.coverage_table import coverage_figure
from weibull_stats.validation.report import figure_legend, new_figure, replications_note, save_figure

#: Horizontal spread, in decades of ``n``, between neighbouring series drawn at one ``n``.
DODGE_DECADES = 0.035


def dodge(x: Any, index: int, count: int, step: float = DODGE_DECADES, *, log: bool = True) -> np.ndarray:
    """``x`` moved sideways for series ``index`` of ``count``: by ``step`` decades on a log axis,
    by ``step`` itself on a linear one, the series centred on ``x``.

    Examples
    --------
    >>> dodge([1000.0], 0, 3, 0.5).round(1).tolist(), dodge([1.0], 2, 3, 0.1, log=False).tolist()
    ([316.2], [1.1])

    (the first of three series, half a decade apart: 1000 / sqrt(10))
    """
    offset = (index - (count - 1) / 2) * step
    x = np.asarray(x, dtype=float)
    return x * 10.0**offset if log else x + offset


def confirmation_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any],
                        **save: Any) -> Path:
    """Mean minus limit (with 3 MC SE bars) against n, half-normal, per estimator (dodged)."""
    fig, axes = new_figure(2, 1, (6.0, 4.2))
    data = frame[frame["population"] == "halfnormal"]
    names = list(dict.fromkeys(data["estimator"]))
    for i, (name, group) in enumerate(data.groupby("estimator", sort=False)):
        for ax, part in zip(axes[0], ("shape", "scale"), strict=True):
            ax.errorbar(dodge(group["n"], i, len(names)), group[f"mean_{part}"] - group[f"anchor_{part}"],
                        yerr=3 * group[f"se_{part}"], marker="o", ms=4, capsize=2, label=str(name))
    for ax, part in zip(axes[0], ("shape", "scale"), strict=True):
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("n (estimators side by side at each n)")
        ax.set_ylabel(f"mean {part} - exact limit" + (" (scale/sigma)" if part == "scale" else ""))
        ax.set_title(f"HalfNormal: {part}, bars = 3 MC SE", fontsize=10)
    fig.suptitle(f"Simulation confirmation: mean of seeded fits against the exact limit\n"
                 f"{replications_note(data.drop_duplicates('n'))}", fontsize=9)
    figure_legend(fig, ncol=len(names))
    return save_figure(fig, out_dir, "confirmation", stamp=stamp, **save)


def finite_n_bias_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """``n * bias`` of the shape against n: estimators, and their option variants such as the
    plotting positions (rows whose ``fit`` is not the estimator's name; shared y)."""
    fig, axes = new_figure(2, 1, (6.0, 4.2), sharey=True)
    fits = list(dict.fromkeys(frame["fit"]))
    # an option variant of an estimator (plotting positions, ...) is a row whose ``fit`` is not
    # its estimator's name: the estimators on the left, their variants on the right
    variant = {fit: fit != group["estimator"].iloc[0] for fit, group in frame.groupby("fit", sort=False)}
    panels = [[f for f in fits if not variant[f]], [f for f in fits if variant[f]]]
    for ax, members in zip(axes[0], panels, strict=True):
        for i, fit in enumerate(members):
            group = frame[frame["fit"] == fit]
            x = dodge(group["n"], i, len(members))
            line = ax.errorbar(x, group["n_bias_shape"], yerr=3 * group["n"] * group["bias_mc_se_shape"],
                               marker="o", ms=4, capsize=2, label=str(fit))
            predicted = group["predicted_n_bias_shape"]
            if predicted.notna().any():
                ax.plot(x, predicted, ls="--", color=line[0].get_color(), lw=1)
    for ax, title in zip(
        axes[0], ("estimators (dashed: O(1/n) theory)", "probability plot by plotting position"), strict=True
    ):
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("n (fits side by side at each n)")
        ax.set_ylabel("n x (mean shape - exact limit)")
        ax.set_title(f"HalfNormal finite-n bias: {title}\nbars = 3 MC SE", fontsize=9)
        ax.tick_params(labelleft=True)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    note = replications_note(frame.drop_duplicates("n"))
    fig.suptitle(f"Finite-n bias of the shape under HalfNormal; {note}", fontsize=9)
    return save_figure(fig, out_dir, "finite_n_bias", stamp=stamp, **save)


def weibull_errors_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """Relative RMSE of the shape against n, one panel per true shape (shared y)."""
    shapes = sorted(frame["true_shape"].unique())
    fig, axes = new_figure(len(shapes), 1, (3.2, 3.4), sharey=True)
    for ax, shape in zip(axes[0], shapes, strict=True):
        for name, group in frame[frame["true_shape"] == shape].groupby("estimator", sort=False):
            ax.plot(group["n"], group["rmse_shape"] / shape, marker="o", label=str(name))
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"Weibull k = {shape:g}", fontsize=9)
        ax.set_xlabel("n")
    axes[0][0].set_ylabel("RMSE(shape) / shape")
    fig.suptitle(f"Shape error under true Weibull data; "
                 f"{replications_note(frame.drop_duplicates('n'))}", fontsize=9)
    figure_legend(fig, ncol=frame["estimator"].nunique())
    return save_figure(fig, out_dir, "weibull_errors", stamp=stamp, **save)


def efficiency_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """Relative efficiency of the shape against MLE, by true shape, at each n (shared y), with
    bars of 2 Monte Carlo SE (``efficiency_mc_se_shape``, paired delta method)."""
    sizes = sorted(frame["n"].unique())
    fig, axes = new_figure(len(sizes), 1, (3.2, 3.6), sharey=True)
    others = frame[frame["estimator"] != declared_estimator("maximum_likelihood").name]
    names = list(dict.fromkeys(others["estimator"]))
    has_se = "efficiency_mc_se_shape" in frame
    step = 0.12 * float(np.diff(sorted(frame["true_shape"].unique())).min(initial=1.0))
    for ax, n in zip(axes[0], sizes, strict=True):
        for i, name in enumerate(names):
            group = others[(others["n"] == n) & (others["estimator"] == name)]
            ax.errorbar(dodge(group["true_shape"], i, len(names), step, log=False), group["efficiency_shape"],
                        yerr=2 * group["efficiency_mc_se_shape"] if has_se else None,
                        marker="o", ms=4, capsize=2, label=str(name))
        ax.axhline(1.0, color="k", lw=0.8, label="as efficient as MLE")
        ax.set_title(f"n = {n:,}", fontsize=9)
        ax.set_xlabel("true shape")
        ax.tick_params(labelleft=True)
    axes[0][0].set_ylabel("MSE(MLE) / MSE(estimator), shape")
    bars = "bars = 2 MC SE (paired delta method)" if has_se else "no Monte Carlo SE in the table"
    fig.suptitle(f"Relative efficiency under true Weibull data, same samples for all estimators; {bars}\n"
                 f"{replications_note(frame.drop_duplicates('n'))}", fontsize=9)
    figure_legend(fig, ncol=len(names) + 1)
    return save_figure(fig, out_dir, "efficiency", stamp=stamp, **save)


def trim_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """Exact half-normal limit of the probability-plot shape against the kept fraction."""
    fig, axes = new_figure(1, 1, (6.4, 4.2))
    ax = axes[0][0]
    ax.plot(frame["kept_fraction"], frame["shape_y_on_x"], marker="o", label="exact, y on x")
    ax.plot(frame["kept_fraction"], frame["shape_x_on_y"], marker="s", label="exact, x on y")
    sizes = ", ".join(f"{int(n):,}" for n in sorted(frame["n"].unique()))
    _simulated_means(ax, frame, "kept_fraction", 3, f"simulated mean (y on x) at n = {sizes}, 3 MC SE")
    ax.axvline(0.8, color="0.5", lw=0.8, ls=":", label="default trim (0.1, 0.9)")
    ax.axhline(HALFNORMAL_ANCHOR_SHAPE, color="0.35", lw=0.8, ls="--",
               label=f"HalfNormal anchor k0 = {HALFNORMAL_ANCHOR_SHAPE:.4f}")
    ax.set_xlabel("kept fraction 1 - 2a of trim (a, 1 - a)")
    ax.set_ylabel("probability-plot shape under HalfNormal")
    fig.suptitle(f"Probability-plot limit against the trim; simulated: {replications_note(frame)}",
                 fontsize=9)
    figure_legend(fig, ncol=2)
    return save_figure(fig, out_dir, "trim", stamp=stamp, **save)


def _simulated_means(ax: Any, frame: pd.DataFrame, x: str, errors: float, label: str) -> None:
    """The simulated mean shapes of ``frame`` against column ``x``, with bars of ``errors``
    Monte Carlo standard errors (columns ``simulated_mean_shape``, ``simulated_mc_se_shape``)."""
    ax.errorbar(frame[x], frame["simulated_mean_shape"], yerr=errors * frame["simulated_mc_se_shape"],
                ls="none", marker="x", capsize=3, label=label)


def histogram_sigma_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """Exact histogram-mode shape as sigma slides across one bin width."""
    fig, axes = new_figure(1, 1, (6.4, 4.2))
    ax = axes[0][0]
    ax.plot(
        frame["bin_fraction"],
        frame["shape"],
        marker=".",
        label="exact limit, histogram mode (1024 log10 bins)",
    )
    n = int(np.asarray(frame["n"])[0])
    ax.plot(
        frame["bin_fraction"],
        frame["predicted_mean_shape"],
        ls="--",
        lw=1,
        label=f"predicted mean at n = {n:.0e} (boundary bins)",
    )
    simulated = frame[frame["reps"] > 0]
    if len(simulated):
        _simulated_means(ax, simulated, "bin_fraction", 2, f"simulated mean at n = {n:.0e} (2 MC SE)")
    ax.axhline(
        float(np.asarray(frame["exact_pp_shape"])[0]), color="k", lw=0.8, label="exact probability plot"
    )
    ax.set_xlabel("log10(sigma / 0.02) in bin widths (14/1024 decades)")
    ax.set_ylabel("population shape under HalfNormal(sigma)")
    note = (f"simulated: {replications_note(simulated)}" if len(simulated)
            else "exact limits only, no simulation")
    fig.suptitle(f"Histogram-mode limit as sigma crosses one bin; {note}", fontsize=9)
    figure_legend(fig, ncol=2)
    return save_figure(fig, out_dir, "histogram_sigma", stamp=stamp, **save)


def step0_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """z-scores of every step-0 matrix against its init scheme's anchor."""
    fig, axes = new_figure(1, 1, (7.0, 4.2))
    ax = axes[0][0]
    x = np.arange(len(frame))
    ax.scatter(x, frame["z_shape"], marker="o", label="shape")
    ax.scatter(x, frame["z_scale"], marker="x", label="ln scale")
    for bound in (-3, 3):
        ax.axhline(bound, color="r", lw=0.8, ls="--", label="|z| = 3" if bound > 0 else None)
    ax.set_xlabel("matrix (GPT-NeoX, Llama, Linear stacks)")
    ax.set_ylabel("(fit - exact anchor) / asymptotic SE")
    fig.suptitle(f"Step 0: {len(frame):,} freshly initialised matrices, one fit each (no replications); "
                 f"z against the init law's exact anchor", fontsize=9)
    figure_legend(fig, ncol=3)
    return save_figure(fig, out_dir, "step0", stamp=stamp, **save)


def gof_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any], **save: Any) -> Path:
    """Rejection rate against n, one panel per law (size under the Weibull null, power against
    the others), one colour per statistic (dodged), bars of 2 MC SE."""
    laws = list(dict.fromkeys(frame["law"]))
    statistics = list(dict.fromkeys(frame["statistic"]))
    fig, axes = new_figure(len(laws), 1, (3.0, 3.3))
    for ax, law in zip(axes[0], laws, strict=True):
        part = frame[frame["law"] == law]
        for i, statistic in enumerate(statistics):
            group = part[part["statistic"] == statistic]
            ax.errorbar(dodge(group["n"], i, len(statistics)), group["rejection_rate"],
                        yerr=2 * group["mc_se"], marker="o", ms=4, capsize=2, color=f"C{i}",
                        label=str(statistic))
        for alpha in dict.fromkeys(part["alpha"]):
            ax.axhline(float(alpha), color="k", lw=0.8, ls="--", label=f"alpha = {float(alpha):g}")
        role = str(part["role"].iloc[0])
        ax.set_title(f"{role}: {law}", fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("n")
        if role == "power":
            ax.set_ylim(0.0, 1.03)
    axes[0][0].set_ylabel("rejection rate")
    samples = ", ".join(f"{int(m):,}" for m in dict.fromkeys(frame["n_mc_samples"]))
    estimators = ", ".join(dict.fromkeys(frame["estimator"].astype(str)))
    fig.suptitle(f"Goodness of fit ({estimators} fits, {samples} null samples per test): rejection rate, "
                 f"bars = 2 MC SE; {replications_note(frame)}", fontsize=9)
    figure_legend(fig, ncol=len(statistics) + 1, title="statistic")
    return save_figure(fig, out_dir, "gof", stamp=stamp, **save)


#: Figures :func:`redraw_figures` can redraw, by the name of the CSV table they are drawn from
#: (the coverage figures, ``coverage.png`` and ``coverage_bootstrap.png``, from the table of every
#: coverage, ``coverage_by_n``).
REDRAWABLE: dict[str, Callable[..., Path | list[Path]]] = {
    "confirmation": confirmation_figure,
    "finite_n_bias": finite_n_bias_figure,
    "weibull_errors": weibull_errors_figure,
    "efficiency": efficiency_figure,
    "trim": trim_figure,
    "histogram_sigma": histogram_sigma_figure,
    "step0": step0_figure,
    "gof": gof_figure,
    "coverage_by_n": coverage_figure,
}


def read_stamp(path: Path) -> dict[str, str]:
    """The ``seed=..., package_version=..., date=...`` comment line of a results CSV."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        fields = dict(part.strip().split("=", 1) for part in line[1:].split(",") if "=" in part)
        if {"seed", "package_version", "date"} <= fields.keys():
            return {k: fields[k] for k in ("seed", "package_version", "date")}
    raise ValueError(f"{path}: no stamp line (seed=..., package_version=..., date=...)")


def redraw_figures(results: str | Path, out: str | Path | None = None, *,
                   formats: Sequence[str] | None = None, dpi: float | None = None) -> list[Path]:
    """Redraw the study figures from the CSV tables in ``results``, keeping their stamps.

    Only the drawing is redone (seconds, no simulation): every figure of
    :data:`REDRAWABLE` whose table is present, GoF and coverage included.

    Parameters
    ----------
    results : path
        Folder of the study tables (``validation/results``).
    out : path, optional
        Where the figures go; default ``results`` itself.
    formats, dpi
        As in :func:`~weibull_stats.validation.report.save_figure` (default PNG at 200 dpi and PDF).

    Returns
    -------
    list of pathlib.Path
        The first file of each figure (the PNG by default).

    Examples
    --------
    ``python -m weibull_stats.validation.figures validation/results``
    """
    results = Path(results)
    target = results if out is None else Path(out)
    written = []
    for name, draw in REDRAWABLE.items():
        path = results / f"{name}.csv"
        if path.is_file():
            frame = pd.read_csv(path, comment="#")
            drawn = draw(frame, target, read_stamp(path), formats=formats, dpi=dpi)
            written += drawn if isinstance(drawn, list) else [drawn]
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m weibull_stats.validation.figures RESULTS [--out DIR]``: redraw the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m weibull_stats.validation.figures",
        description="Redraw the validation figures (PNG and PDF) from the CSV tables in RESULTS, "
        "keeping each table's stamp; no simulation is run.")
    parser.add_argument("results", type=Path, help="folder of the study tables, e.g. validation/results")
    parser.add_argument("--out", type=Path, default=None, help="folder for the figures (default: RESULTS)")
    args = parser.parse_args(argv)
    if not args.results.is_dir():
        parser.error(f"RESULTS: {args.results} is not a folder")
    written = redraw_figures(args.results, args.out)
    if not written:
        parser.error(f"RESULTS: no study table (*.csv of {', '.join(REDRAWABLE)}) in {args.results}")
    for path in written:
        sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Plots of the validation studies (matplotlib on the Agg backend, imported lazily).

Each figure is written as PNG (200 dpi) and PDF beside its table; panels that show the same
quantity share their y-range; error bars are named in the titles or legends.
:func:`redraw_figures` redraws them from the committed CSV tables (no simulation).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.estimators.registry import maximum_likelihood_estimator
from weibull_stats.validation.report import new_figure, save_figure


def confirmation_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
    """Mean minus limit (with 3 MC SE bars) against n, half-normal, per estimator."""
    fig, axes = new_figure(2, 1, (6.0, 4.2))
    data = frame[frame["population"] == "halfnormal"]
    for name, group in data.groupby("estimator", sort=False):
        for ax, part in zip(axes[0], ("shape", "scale"), strict=True):
            ax.errorbar(
                group["n"],
                group[f"mean_{part}"] - group[f"anchor_{part}"],
                yerr=3 * group[f"se_{part}"],
                marker="o",
                capsize=3,
                label=str(name),
            )
    for ax, part in zip(axes[0], ("shape", "scale"), strict=True):
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("n")
        ax.set_ylabel(f"mean {part} - exact limit" + (" (scale/sigma)" if part == "scale" else ""))
        ax.set_title(f"HalfNormal: {part}, bars = 3 MC SE")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, out_dir, "confirmation", stamp=stamp)


def finite_n_bias_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
    """``n * bias`` of the shape against n: estimators, and their option variants such as the
    plotting positions (rows whose ``fit`` is not the estimator's name; shared y)."""
    fig, axes = new_figure(2, 1, (6.0, 4.2), sharey=True)
    for fit, group in frame.groupby("fit", sort=False):
        ax = axes[0][1] if fit != group["estimator"].iloc[0] else axes[0][0]
        line = ax.errorbar(
            group["n"],
            group["n_bias_shape"],
            yerr=3 * group["n"] * group["bias_mc_se_shape"],
            marker="o",
            capsize=3,
            label=str(fit),
        )
        predicted = group["predicted_n_bias_shape"]
        if predicted.notna().any():
            ax.plot(group["n"], predicted, ls="--", color=line[0].get_color(), lw=1)
    for ax, title in zip(
        axes[0], ("estimators (dashed: O(1/n) theory)", "probability plot by plotting position"), strict=True
    ):
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("n")
        ax.set_ylabel("n x (mean shape - exact limit)")
        ax.set_title(f"HalfNormal finite-n bias: {title}\nbars = 3 MC SE", fontsize=9)
        ax.tick_params(labelleft=True)
        ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, out_dir, "finite_n_bias", stamp=stamp)


def weibull_errors_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
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
    axes[0][0].legend(fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save_figure(fig, out_dir, "weibull_errors", stamp=stamp)


def efficiency_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
    """Relative efficiency of the shape against MLE, by true shape, at each n (shared y)."""
    sizes = sorted(frame["n"].unique())
    reference = maximum_likelihood_estimator().name
    fig, axes = new_figure(len(sizes), 1, (3.2, 3.4), sharey=True)
    for ax, n in zip(axes[0], sizes, strict=True):
        for name, group in frame[(frame["n"] == n) & (frame["estimator"] != reference)].groupby(
            "estimator", sort=False
        ):
            ax.plot(group["true_shape"], group["efficiency_shape"], marker="o", label=str(name))
        ax.axhline(1.0, color="k", lw=0.8, label="as efficient as MLE")
        ax.set_title(f"n = {n}", fontsize=9)
        ax.set_xlabel("true shape")
    axes[0][0].set_ylabel("MSE(MLE) / MSE(estimator), shape")
    axes[0][0].legend(fontsize=6)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save_figure(fig, out_dir, "efficiency", stamp=stamp)


def trim_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
    """Exact half-normal limit of the probability-plot shape against the kept fraction."""
    fig, axes = new_figure(1, 1, (6.4, 4.2))
    ax = axes[0][0]
    ax.plot(frame["kept_fraction"], frame["shape_y_on_x"], marker="o", label="exact, y on x")
    ax.plot(frame["kept_fraction"], frame["shape_x_on_y"], marker="s", label="exact, x on y")
    ax.errorbar(
        frame["kept_fraction"],
        frame["simulated_mean_shape"],
        yerr=3 * frame["simulated_mc_se_shape"],
        ls="none",
        marker="x",
        capsize=3,
        label="simulated mean (y on x), 3 MC SE",
    )
    ax.axvline(0.8, color="0.5", lw=0.8, ls=":", label="default trim (0.1, 0.9)")
    ax.axhline(HALFNORMAL_ANCHOR_SHAPE, color="0.35", lw=0.8, ls="--",
               label=f"HalfNormal anchor k0 = {HALFNORMAL_ANCHOR_SHAPE:.4f}")
    ax.set_xlabel("kept fraction 1 - 2a of trim (a, 1 - a)")
    ax.set_ylabel("probability-plot shape under HalfNormal")
    ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, out_dir, "trim", stamp=stamp)


def histogram_sigma_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
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
        ax.errorbar(
            simulated["bin_fraction"],
            simulated["simulated_mean_shape"],
            yerr=2 * simulated["simulated_mc_se_shape"],
            ls="none",
            marker="x",
            capsize=3,
            label=f"simulated mean at n = {n:.0e} (2 MC SE)",
        )
    ax.axhline(
        float(np.asarray(frame["exact_pp_shape"])[0]), color="k", lw=0.8, label="exact probability plot"
    )
    ax.set_xlabel("log10(sigma / 0.02) in bin widths (14/1024 decades)")
    ax.set_ylabel("population shape under HalfNormal(sigma)")
    ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, out_dir, "histogram_sigma", stamp=stamp)


def step0_figure(frame: pd.DataFrame, out_dir: Path, stamp: Mapping[str, Any]) -> Path:
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
    ax.legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, out_dir, "step0", stamp=stamp)


#: Figures :func:`redraw_figures` can redraw, by the name of their CSV table.
REDRAWABLE = {
    "confirmation": confirmation_figure,
    "finite_n_bias": finite_n_bias_figure,
    "weibull_errors": weibull_errors_figure,
    "efficiency": efficiency_figure,
    "trim": trim_figure,
    "histogram_sigma": histogram_sigma_figure,
    "step0": step0_figure,
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


def redraw_figures(results: str | Path) -> list[Path]:
    """Redraw the study figures from the CSV tables in ``results``, keeping their stamps.

    Only the drawing is redone (seconds, no simulation): the figures of
    :data:`REDRAWABLE` whose table is present. The coverage and GoF figures are drawn by
    their studies (:mod:`weibull_stats.validation.coverage`,
    :mod:`weibull_stats.validation.uncertainty`).

    Examples
    --------
    ``python -c "from weibull_stats.validation.figures import redraw_figures;
    redraw_figures('validation/results')"``
    """
    results = Path(results)
    written = []
    for name, draw in REDRAWABLE.items():
        path = results / f"{name}.csv"
        if path.is_file():
            frame = pd.read_csv(path, comment="#")
            written.append(draw(frame, results, read_stamp(path)))
    return written

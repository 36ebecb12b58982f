"""Interval coverage and goodness-of-fit size and power (``validate --full``).

Coverage: for each replicate a seeded sample is drawn, :func:`weibull_stats.bootstrap` is run
once with ``method="bca"`` and the percentile and basic intervals come from the same
bootstrap distribution (:meth:`BootstrapResult.with_method`), so the three methods are
compared on identical resamples. The target is the true parameter under Weibull data and
the estimator's exact anchor under the half-normal. Coverage is the fraction of intervals
that contain the target; its Monte Carlo standard error is ``sqrt(c (1 - c) / reps)``.

Goodness of fit: the rejection rate at level ``alpha`` of
:func:`weibull_stats.goodness_of_fit` (parametric bootstrap with refitting, p-value
``(b + 1) / (m + 1)``) under a Weibull null (size) and under half-normal, lognormal and gamma
alternatives (power), with binomial Monte Carlo standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.bootstrapping import bootstrap
from weibull_stats.gof import goodness_of_fit
from weibull_stats.validation._common import Check, child_rng, family_z
from weibull_stats.validation.anchors import HISTOGRAM_SIGMA, default_anchor
from weibull_stats.validation.populations import HALFNORMAL
from weibull_stats.validation.report import new_figure, save_figure, write_table

METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
KINDS: tuple[str, ...] = ("nonparametric", "parametric")
COVERAGE_SHAPE = 1.5


def _draw_alternative(name: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """One sample of the named law (all positive, scale about 1)."""
    if name == "weibull(k=1.5)":
        return rng.weibull(COVERAGE_SHAPE, n)
    if name == "halfnormal":
        return np.abs(rng.standard_normal(n))
    if name == "lognormal(s=0.5)":
        return rng.lognormal(0.0, 0.5, n)
    if name == "gamma(a=2)":
        return rng.gamma(2.0, 1.0, n)
    raise ValueError(f"unknown law {name!r}")


def coverage_study(
    estimators: Sequence[str],
    *,
    seed: int,
    n: int = 1000,
    reps: int = 400,
    n_resamples: int = 499,
    confidence_level: float = 0.95,
    halfnormal_sizes: Sequence[int] = (1000, 10_000),
) -> pd.DataFrame:
    """Coverage of percentile, basic and BCa intervals (both bootstrap kinds) per estimator."""
    cases: list[tuple[str, str, str, int, float, float]] = []
    for name in estimators:
        for kind in KINDS:
            cases.append(("weibull(k=1.5)", name, kind, n, COVERAGE_SHAPE, 1.0))
    if "probability_plot" in estimators:
        shape, scale = default_anchor("probability_plot", HALFNORMAL)
        for size in halfnormal_sizes:
            cases.append(
                ("halfnormal", "probability_plot", "nonparametric", size, shape, scale * HISTOGRAM_SIGMA)
            )
    records = []
    for law, name, kind, size, true_shape, true_scale in cases:
        rng = child_rng(seed, "coverage", law, name, kind, size)
        hits = {m: np.zeros((reps, 2), dtype=bool) for m in METHODS}
        widths = {m: np.zeros(reps) for m in METHODS}
        for r in range(reps):
            x = _draw_alternative(law, rng, size) * (HISTOGRAM_SIGMA if law == "halfnormal" else 1.0)
            result = bootstrap(
                x,
                name,
                n_resamples=n_resamples,
                method="bca",
                kind=kind,
                rng=rng,
                confidence_level=confidence_level,
                workers=1,
            )
            for method in METHODS:
                ci = result if method == "bca" else result.with_method(method)
                shape_ci, scale_ci = ci.confidence_interval.shape, ci.confidence_interval.scale
                hits[method][r] = (
                    shape_ci.low <= true_shape <= shape_ci.high,
                    scale_ci.low <= true_scale <= scale_ci.high,
                )
                widths[method][r] = shape_ci.high - shape_ci.low
        for method in METHODS:
            cover = hits[method].mean(axis=0)
            records.append(
                {
                    "law": law,
                    "estimator": name,
                    "kind": kind,
                    "method": method,
                    "n": size,
                    "reps": reps,
                    "n_resamples": n_resamples,
                    "confidence_level": confidence_level,
                    "target_shape": true_shape,
                    "target_scale": true_scale,
                    "coverage_shape": float(cover[0]),
                    "mc_se_shape": math.sqrt(max(cover[0] * (1 - cover[0]), 1e-12) / reps),
                    "coverage_scale": float(cover[1]),
                    "mc_se_scale": math.sqrt(max(cover[1] * (1 - cover[1]), 1e-12) / reps),
                    "mean_width_shape": float(widths[method].mean()),
                }
            )
    return pd.DataFrame.from_records(records)


GOF_LAWS: tuple[str, ...] = ("weibull(k=1.5)", "halfnormal", "lognormal(s=0.5)", "gamma(a=2)")
STATISTICS: tuple[str, ...] = ("ad", "cvm", "ks")


def gof_study(
    *,
    seed: int,
    sizes: Sequence[int] = (100, 1000),
    reps: int = 400,
    n_mc_samples: int = 199,
    alpha: float = 0.05,
    estimator: str = "mle",
) -> pd.DataFrame:
    """Rejection rates of the goodness-of-fit tests: size (Weibull) and power (others)."""
    records = []
    for law in GOF_LAWS:
        for size in sizes:
            for statistic in STATISTICS:
                rng = child_rng(seed, "gof", law, size, statistic)
                pvalues = np.empty(reps)
                for r in range(reps):
                    x = _draw_alternative(law, rng, size)
                    result = goodness_of_fit(
                        x, estimator, statistic=statistic, n_mc_samples=n_mc_samples, rng=rng, workers=1
                    )
                    pvalues[r] = result.pvalue
                rate = float(np.mean(pvalues <= alpha))
                records.append(
                    {
                        "law": law,
                        "role": "size" if law.startswith("weibull") else "power",
                        "n": size,
                        "statistic": statistic,
                        "estimator": estimator,
                        "reps": reps,
                        "n_mc_samples": n_mc_samples,
                        "alpha": alpha,
                        "rejection_rate": rate,
                        "mc_se": math.sqrt(max(rate * (1 - rate), 1e-12) / reps),
                    }
                )
    return pd.DataFrame.from_records(records)


def _coverage_outputs(
    names: Sequence[str],
    seed: int,
    out: Path,
    info: Mapping[str, Any],
    tell: Callable[[str], None],
    checks: list[Check],
) -> list[Path]:
    tell("interval coverage")
    frame = coverage_study(names, seed=seed)
    files = write_table(
        frame,
        out,
        "coverage",
        stamp=info,
        title="Bootstrap interval coverage (nominal 0.95) with Monte Carlo SE",
        notes=[
            "one bootstrap (n_resamples, BCa) per replicate; percentile and basic from the same distribution"
        ],
    )
    fig, axes = new_figure(2, 1, (6.4, 4.4))
    for ax, part in zip(axes[0], ("shape", "scale"), strict=True):
        labels = [
            f"{r['estimator']}/{str(r['kind'])[:4]}/{str(r['law'])[:4]}/n={r['n']}"
            for r in frame.to_dict("records")
        ]
        positions = np.arange(len(frame))
        ax.errorbar(
            positions, frame[f"coverage_{part}"], yerr=2 * frame[f"mc_se_{part}"], ls="none", marker="o"
        )
        ax.axhline(0.95, color="k", lw=0.8)
        ax.set_xticks(positions[::3] + 1, labels[::3], rotation=90, fontsize=6)
        ax.set_ylabel(f"coverage of {part} (bars 2 MC SE)")
        ax.set_title("percentile, basic, bca per group", fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    files.append(save_figure(fig, out, "coverage", stamp=info))
    return files


def _gof_outputs(
    names: Sequence[str],
    seed: int,
    out: Path,
    info: Mapping[str, Any],
    tell: Callable[[str], None],
    checks: list[Check],
) -> list[Path]:
    tell("goodness-of-fit size and power")
    frame = gof_study(seed=seed)
    files = write_table(
        frame,
        out,
        "gof",
        stamp=info,
        title="Goodness of fit: size under Weibull, power against other laws (alpha 0.05)",
    )
    size_rows = frame[frame["role"] == "size"]
    z_limit = family_z(len(size_rows))
    for row in size_rows.to_dict("records"):
        # a correct test rejects a true null at rate alpha: binomial band of z_limit sigma
        alpha, rate = float(row["alpha"]), float(row["rejection_rate"])
        band = z_limit * math.sqrt(alpha * (1 - alpha) / int(row["reps"]))
        checks.append(
            Check(
                f"gof.size.{row['statistic']}.n={row['n']}",
                abs(rate - alpha) <= band,
                rate,
                alpha,
                band,
                "rejection rate under a true Weibull null",
            )
        )
    fig, axes = new_figure(1, 1, (6.4, 4.2))
    ax = axes[0][0]
    for (law, statistic), group in frame.groupby(["law", "statistic"], sort=False):
        ax.errorbar(
            group["n"],
            group["rejection_rate"],
            yerr=2 * group["mc_se"],
            marker="o",
            capsize=2,
            label=f"{law} {statistic}",
        )
    ax.axhline(0.05, color="k", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("rejection rate at alpha = 0.05")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    files.append(save_figure(fig, out, "gof", stamp=info))
    return files


def available_studies() -> list[Callable[..., list[Path]]]:
    """The uncertainty studies of the full run: bootstrap coverage, then GoF size and power."""
    return [_coverage_outputs, _gof_outputs]

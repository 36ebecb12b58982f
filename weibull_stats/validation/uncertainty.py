"""Goodness-of-fit size and power (``validate --full``); the uncertainty studies of the run.

Interval coverage (asymptotic and bootstrap intervals) is its own module,
:mod:`weibull_stats.validation.coverage`; :func:`available_studies` lists it first.

Goodness of fit: the rejection rate at level ``alpha`` of
:func:`weibull_stats.goodness_of_fit` (parametric bootstrap with refitting, p-value
``(b + 1) / (m + 1)``) under a Weibull null (size) and under half-normal, lognormal and gamma
alternatives (power), with binomial Monte Carlo standard errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.inference.gof import goodness_of_fit
from weibull_stats.validation._common import Check, child_rng, family_z
from weibull_stats.validation.coverage import coverage_outputs
from weibull_stats.validation.figures import gof_figure
from weibull_stats.validation.report import StudyRun

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


GOF_LAWS: tuple[str, ...] = ("weibull(k=1.5)", "halfnormal", "lognormal(s=0.5)", "gamma(a=2)")
STATISTICS: tuple[str, ...] = ("ad", "cvm", "ks")


def gof_study(
    *,
    seed: int,
    sizes: Sequence[int] = (100, 1000),
    reps: int = 400,
    n_mc_samples: int = 199,
    alpha: float = 0.05,
    estimator: str | None = None,
) -> pd.DataFrame:
    """Rejection rates of the goodness-of-fit tests: size (Weibull) and power (others).

    ``estimator`` defaults to the maximum-likelihood one (the classic procedure).
    """
    estimator = declared_estimator("maximum_likelihood").name if estimator is None else estimator
    records = []
    for law in GOF_LAWS:
        for size in sizes:
            for statistic in STATISTICS:
                rng = child_rng(seed, "gof", law, size, statistic)
                pvalues = np.empty(reps)
                for r in range(reps):
                    x = _draw_alternative(law, rng, size)
                    result = goodness_of_fit(  # the per-sample refitting procedure, as committed
                        x, estimator, statistic=statistic, n_mc_samples=n_mc_samples, rng=rng, workers=1,
                        null="per-sample",
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


def _gof_outputs(run: StudyRun) -> list[Path]:
    run.tell("goodness-of-fit size and power")
    frame = gof_study(seed=run.seed)
    files = run.table(frame, "gof",
                      title="Goodness of fit: size under Weibull, power against other laws (alpha 0.05)")
    size_rows = frame[frame["role"] == "size"]
    z_limit = family_z(len(size_rows))
    for row in size_rows.to_dict("records"):
        # a correct test rejects a true null at rate alpha: binomial band of z_limit sigma
        alpha, rate = float(row["alpha"]), float(row["rejection_rate"])
        band = z_limit * math.sqrt(alpha * (1 - alpha) / int(row["reps"]))
        run.checks.append(
            Check(
                f"gof.size.{row['statistic']}.n={row['n']}",
                abs(rate - alpha) <= band,
                rate,
                alpha,
                band,
                "rejection rate under a true Weibull null",
            )
        )
    files.append(gof_figure(frame, run.out, run.info))
    return files


def available_studies() -> list[Callable[[StudyRun], list[Path]]]:
    """The uncertainty studies of the full run: interval coverage (asymptotic and bootstrap,
    :mod:`weibull_stats.validation.coverage`), then GoF size and power."""
    return [coverage_outputs, _gof_outputs]

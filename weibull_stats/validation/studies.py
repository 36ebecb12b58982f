"""The simulation studies behind the committed tables and plots (``validate --full``).

Every study draws from streams keyed by stable names (:func:`child_rng`), so a row's
numbers depend only on the seed and the row's own key. Estimators compared within a study
see the same samples (common random numbers), which sharpens efficiency ratios.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.validation._common import child_rng
from weibull_stats.validation.anchors import (
    HISTOGRAM_SIGMA,
    default_anchor,
    exact_limit,
    finite_n_bias,
    histogram_sigma_sweep,
    population_hook,
    probability_plot_limit,
)
from weibull_stats.validation.asymptotic import histogram_bias, probability_plot_sd
from weibull_stats.validation.populations import HALFNORMAL, weibull
from weibull_stats.validation.simulation import replicate_many

TRUE_SHAPES: tuple[float, ...] = (0.7, 1.0, 1.2, 1.5, 2.0)
ERROR_SIZES: Mapping[int, int] = {100: 2000, 1_000: 1000, 10_000: 300, 100_000: 60}


def _summary(values: np.ndarray, truth: float) -> dict[str, float]:
    reps = values.size
    mean = float(values.mean())
    sd = float(values.std(ddof=1))
    rmse = math.sqrt(float(np.mean((values - truth) ** 2)))
    return {
        "mean": mean,
        "bias": mean - truth,
        "bias_mc_se": sd / math.sqrt(reps),
        "sd": sd,
        "sd_mc_se": sd / math.sqrt(2 * (reps - 1)),
        "rmse": rmse,
    }


def efficiency_mc_se(reference: np.ndarray, values: np.ndarray, truth: float) -> float:
    """Monte Carlo SE of ``MSE(reference) / MSE(values)`` from paired replicates (same samples).

    Delta method on the ratio of means ``R = mean(a) / mean(b)`` of the squared errors
    ``a = (reference - truth)^2`` and ``b = (values - truth)^2``:
    ``SE = sd(a - R b) / (sqrt(reps) mean(b))``, which keeps the correlation of the pairs
    (0 for the reference against itself).

    Examples
    --------
    >>> x = np.array([1.0, -1.0, 2.0, -2.0])
    >>> efficiency_mc_se(x, x, 0.0)  # the reference against itself: exactly 1, no error
    0.0
    """
    a, b = (reference - truth) ** 2, (values - truth) ** 2
    ratio = float(a.mean() / b.mean())
    return float(np.std(a - ratio * b, ddof=1) / (math.sqrt(a.size) * b.mean()))


def weibull_error_study(
    estimators: Sequence[str],
    *,
    seed: int,
    shapes: Sequence[float] = TRUE_SHAPES,
    sizes: Mapping[int, int] = ERROR_SIZES,
) -> pd.DataFrame:
    """Bias, sd and RMSE of every estimator under true Weibull(shape, scale=1) data, and the
    Monte Carlo SE of its efficiency against the maximum-likelihood estimator (declared on its
    record, the efficiency reference) on the same samples
    (``efficiency_mc_se_shape`` and ``_scale``, :func:`efficiency_mc_se`; NaN when the
    reference is not among ``estimators``)."""
    records = []
    reference = declared_estimator("maximum_likelihood").name
    specs = {name: {"estimator": name} for name in estimators}
    for shape in shapes:
        for n, reps in sizes.items():
            rng = child_rng(seed, "weibull-errors", shape, n)
            fits = replicate_many(specs, weibull(shape), n, reps, rng=rng)
            for name, values in fits.items():
                record: dict[str, Any] = {"estimator": name, "true_shape": shape, "n": n, "reps": reps}
                for part, column, truth in (("shape", 0, shape), ("scale", 1, 1.0)):
                    for key, value in _summary(values[:, column], truth).items():
                        record[f"{key}_{part}"] = value
                    ref = fits.get(reference)
                    record[f"efficiency_mc_se_{part}"] = (
                        math.nan if ref is None
                        else efficiency_mc_se(ref[:, column], values[:, column], truth))
                records.append(record)
    return pd.DataFrame.from_records(records)


def efficiency_table(errors: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Relative efficiency ``MSE(reference) / MSE(estimator)`` for shape and scale.

    ``reference`` defaults to the estimator that declares ``maximum_likelihood`` (the MLE,
    asymptotically efficient under true Weibull data); values below 1 mean the estimator is
    less efficient than the reference. The Monte Carlo SE columns of ``errors``
    (``efficiency_mc_se_*``) come along when present.
    """
    reference = declared_estimator("maximum_likelihood").name if reference is None else reference
    keys = ["true_shape", "n"]
    ref = errors[errors["estimator"] == reference].set_index(keys)
    records = []
    base_rows: dict[tuple[float, int], dict[Any, Any]] = {
        (float(r["true_shape"]), int(r["n"])): r for r in ref.reset_index().to_dict("records")
    }
    for row in errors.to_dict("records"):
        base = base_rows[(float(row["true_shape"]), int(row["n"]))]
        records.append(
            {
                "estimator": row["estimator"],
                "true_shape": row["true_shape"],
                "n": row["n"],
                "reps": row["reps"],
                "efficiency_shape": float(base["rmse_shape"] ** 2 / row["rmse_shape"] ** 2),
                "efficiency_scale": float(base["rmse_scale"] ** 2 / row["rmse_scale"] ** 2),
                "variance_ratio_shape": float(base["sd_shape"] ** 2 / row["sd_shape"] ** 2),
                **{str(k): row[k] for k in ("efficiency_mc_se_shape", "efficiency_mc_se_scale") if k in row},
            }
        )
    return pd.DataFrame.from_records(records)


SYMMETRIC_TRIMS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4)


def trim_study(
    *, seed: int, n: int = 100_000, reps: int = 40, lows: Sequence[float] = SYMMETRIC_TRIMS
) -> pd.DataFrame:
    """How the package's half-normal anchor moves with a symmetric trim ``(a, 1 - a)``.

    The anchor is the default limit of the estimator that declares ``package_anchor`` (the
    probability plot, whose least-squares line over the window ``probability_plot_sd``
    describes). Exact limits for both directions, the asymptotic sd of the shape at ``n``,
    and the mean of ``reps`` seeded fits at ``n`` (y on x, Hazen) as a check.
    """
    name = declared_estimator("package_anchor").name
    records = []
    for low in lows:
        trim = (low, 1.0 - low)
        shape, scale, error = exact_limit(name, HALFNORMAL, trim=trim, direction="y_on_x")
        shape_xy, scale_xy, _ = exact_limit(name, HALFNORMAL, trim=trim, direction="x_on_y")
        sd = probability_plot_sd(HALFNORMAL, trim)
        rng = child_rng(seed, "trim", low)
        fits = replicate_many(
            {"pp": {"estimator": name, "trim": trim}},
            HALFNORMAL,
            n,
            reps,
            rng=rng,
            sigma=HISTOGRAM_SIGMA,
        )["pp"]
        records.append(
            {
                "trim_low": low,
                "trim_high": 1.0 - low,
                "kept_fraction": 1.0 - 2 * low,
                "shape_y_on_x": shape,
                "scale_y_on_x": scale,
                "shape_x_on_y": shape_xy,
                "scale_x_on_y": scale_xy,
                "quadrature_error": error,
                "asymptotic_sd_shape": sd.shape_sd / math.sqrt(n),
                "n": n,
                "reps": reps,
                "simulated_mean_shape": float(fits[:, 0].mean()),
                "simulated_mc_se_shape": float(fits[:, 0].std(ddof=1) / math.sqrt(reps)),
            }
        )
    return pd.DataFrame.from_records(records)


BIAS_SIZES: Mapping[int, int] = {100: 20000, 300: 8000, 1_000: 4000, 3_000: 1500}


def finite_n_bias_study(
    estimators: Sequence[str], *, seed: int, sizes: Mapping[int, int] = BIAS_SIZES
) -> pd.DataFrame:
    """Finite-n bias under the half-normal of every estimator, and of the option sets its hook
    lists in ``bias_options`` (the probability plot's plotting positions), labelled
    ``name[value,...]``.

    ``n * bias`` tends to a constant when the bias is ``O(1/n)``; predicted values are given
    where derived (:func:`weibull_stats.validation.anchors.finite_n_bias`).
    """
    specs: dict[str, dict[str, Any]] = {name: {"estimator": name} for name in estimators}
    for name in estimators:
        for options in population_hook(name).bias_options:
            label = f"{name}[{','.join(str(v) for v in options.values())}]"
            specs[label] = {"estimator": name, **options}
    records = []
    for n, reps in sizes.items():
        rng = child_rng(seed, "finite-n-bias", n)
        fits = replicate_many(specs, HALFNORMAL, n, reps, rng=rng, sigma=HISTOGRAM_SIGMA)
        for label, values in fits.items():
            name = specs[label]["estimator"]
            limit = default_anchor(name, HALFNORMAL)
            predicted = finite_n_bias(name, HALFNORMAL, n) if label == name else None
            record: dict[str, Any] = {"fit": label, "estimator": name, "n": n, "reps": reps}
            for part, column in (("shape", 0), ("scale", 1)):
                s = _summary(values[:, column], limit[column])
                record[f"limit_{part}"] = limit[column]
                record[f"bias_{part}"] = s["bias"]
                record[f"bias_mc_se_{part}"] = s["bias_mc_se"]
                record[f"n_bias_{part}"] = n * s["bias"]
                record[f"predicted_n_bias_{part}"] = n * predicted[column] if predicted else float("nan")
            records.append(record)
    return pd.DataFrame.from_records(records)


def histogram_sigma_table(
    points: int = 65, *, seed: int | None = None, n: int = 1_000_000, reps: int = 20, simulate_every: int = 4
) -> pd.DataFrame:
    """Histogram-mode limit as sigma crosses one bin width, and its finite-n mean.

    Columns: the exact limit (:func:`histogram_sigma_sweep`); the predicted mean at ``n``
    (limit plus :func:`~weibull_stats.validation.asymptotic.histogram_bias`, the
    boundary-bin effect); and, when ``seed`` is given, at every ``simulate_every``-th sigma
    the mean of ``reps`` seeded fits at ``n`` with its Monte Carlo SE.
    """
    sweep = histogram_sigma_sweep(HALFNORMAL, HISTOGRAM_SIGMA, points)
    width = 14.0 / 1024.0
    records = []
    for j, (s, k, c) in enumerate(sweep):
        bias = histogram_bias(HALFNORMAL, s, n)
        record: dict[str, Any] = {
            "sigma": s,
            "bin_fraction": j / (points - 1),
            "shape": k,
            "scale_over_sigma": c,
            "exact_pp_shape": probability_plot_limit(HALFNORMAL)[0],
            "bin_width_decades": width,
            "n": n,
            "predicted_mean_shape": k + bias[0],
            "reps": 0,
            "simulated_mean_shape": float("nan"),
            "simulated_mc_se_shape": float("nan"),
        }
        if seed is not None and j % simulate_every == 0:
            fits = replicate_many(
                {"h": {"estimator": "histogram"}},
                HALFNORMAL,
                n,
                reps,
                rng=child_rng(seed, "histogram-sigma", j),
                sigma=s,
            )["h"]
            record["reps"] = reps
            record["simulated_mean_shape"] = float(fits[:, 0].mean())
            record["simulated_mc_se_shape"] = float(fits[:, 0].std(ddof=1) / math.sqrt(reps))
        records.append(record)
    return pd.DataFrame.from_records(records)

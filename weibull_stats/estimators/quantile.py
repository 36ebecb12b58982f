"""Quantile matching: the Weibull quantile function through sample quantiles."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from weibull_stats._input import check_choice, check_sample
from weibull_stats.results import WeibullFit

#: numpy quantile methods that keep an order-statistic (or interpolated) estimate.
QUANTILE_METHODS: tuple[str, ...] = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)


def check_probabilities(probabilities: Any) -> tuple[float, ...]:
    """At least two distinct increasing probabilities strictly inside (0, 1).

    Examples
    --------
    >>> check_probabilities([0.1, 0.5, 0.9])
    (0.1, 0.5, 0.9)
    """
    try:
        probs = tuple(float(p) for p in probabilities)
    except (TypeError, ValueError):
        raise ValueError(f"`probabilities` must be a sequence of floats; got {probabilities!r}") from None
    if len(probs) < 2:
        raise ValueError(f"`probabilities` needs at least 2 values; got {len(probs)}")
    if not all(0.0 < p < 1.0 for p in probs):
        raise ValueError(f"`probabilities` must lie strictly between 0 and 1; got {probs}")
    if any(b <= a for a, b in itertools.pairwise(probs)):
        raise ValueError(f"`probabilities` must be strictly increasing; got {probs}")
    return probs


def line_through_quantiles(probs: tuple[float, ...], quantiles: np.ndarray) -> tuple[float, float]:
    """``(shape, scale)`` from ``ln Q(p) = ln scale + ln(-ln(1 - p)) / shape``.

    Two probabilities give the exact solution; more give least squares of ``ln Q`` on
    ``y = ln(-ln(1 - p))`` (slope ``1 / shape``, intercept ``ln scale``).

    Examples
    --------
    >>> import numpy as np
    >>> p = (0.1, 0.5, 0.9)
    >>> q = 2.0 * (-np.log1p(-np.array(p))) ** (1 / 1.5)  # exact Weibull(1.5, 2) quantiles
    >>> [round(v, 12) for v in line_through_quantiles(p, q)]
    [1.5, 2.0]
    """
    y = np.log(-np.log1p(-np.asarray(probs)))
    log_q = np.log(np.asarray(quantiles, dtype=np.float64))
    y_mean, q_mean = y.mean(), log_q.mean()
    sxy = float(np.dot(y - y_mean, log_q - q_mean))
    if not sxy > 0:
        raise ValueError(
            f"sample quantiles at {probs} are not increasing ({np.exp(log_q).tolist()}); "
            "the data have too few distinct values for quantile matching"
        )
    slope = sxy / float(np.dot(y - y_mean, y - y_mean))
    return 1.0 / slope, math.exp(q_mean - slope * y_mean)


def fit_quantile(
    x: Any,
    /,
    *,
    probabilities: tuple[float, ...] = (0.1, 0.9),
    method: str = "linear",
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
) -> WeibullFit:
    """Weibull fit by matching sample quantiles to the Weibull quantile function.

    The Weibull quantile function is ``Q(p) = scale * (-ln(1 - p)) ** (1 / shape)``.

    Parameters
    ----------
    x : array_like or torch.Tensor
        Positive sample (any shape, flattened).
    probabilities : sequence of float, default (0.1, 0.9)
        Probabilities at which sample and model quantiles are matched: two give the closed
        form ``shape = (y2 - y1) / ln(q2 / q1)``, ``y = ln(-ln(1 - p))``; more give least
        squares of ``ln q`` on ``y``.
    method : str, default "linear"
        Sample-quantile definition, passed to :func:`numpy.quantile` (its default).
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.fit_probability_plot`.

    Returns
    -------
    WeibullFit

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(2).weibull(2.0, size=200_000)
    >>> round(ws.fit_quantile(x).shape, 1)
    2.0
    """
    probs = check_probabilities(probabilities)
    check_choice(method, "method", QUANTILE_METHODS)
    sample = check_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    quantiles = np.quantile(
        sample.data.astype(np.float64, copy=False), np.asarray(probs), method=method  # type: ignore[call-overload]
    )
    shape, scale = line_through_quantiles(probs, quantiles)
    return WeibullFit(
        shape=shape,
        scale=scale,
        estimator="quantile",
        n=sample.n,
        n_used=int(sample.data.size),
        options={
            "probabilities": probs,
            "method": method,
            "values": values,
            "nonfinite": nonfinite,
            "zeros": zeros,
        },
        n_omitted=sample.n_omitted,
        details={"quantiles": tuple(float(q) for q in quantiles)},
    )

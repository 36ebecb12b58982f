"""Quantile matching: the Weibull quantile function through sample quantiles.

One kernel, :func:`quantile_kernel`, fits every row of a batch. It needs only the order
statistics that :func:`numpy.quantile` interpolates between, so raw rows select them
(partition, or plain indexing of ordered rows) and count rows find them from cumulative
counts in O(distinct). The interpolation is numpy's own, for every method in
:data:`QUANTILE_METHODS`, so both forms give :func:`numpy.quantile`'s quantiles bit for bit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import numpy as np

from weibull_stats.core.options import DEFAULT_POLICY, check_choice
from weibull_stats.estimators._asymptotic import AsymptoticFit, distinct_values
from weibull_stats.estimators._core import Estimator, one_fit
from weibull_stats.estimators._influence import quantile_equivariant, quantile_influence
from weibull_stats.estimators._population_hook import PopulationHook
from weibull_stats.estimators.quantile._asymptotic import (
    BF16_COVERAGE_CAVEAT,
    GRID_METHOD,
    METHOD,
    cell_masses,
    grid_log_quantile_mse,
    matching_bias,
    quantile_matching_se,
    sparsity_estimate,
    sparsity_probabilities,
    storage_step_reason,
)
from weibull_stats.estimators.quantile._positions import QUANTILE_METHODS, _lerp, order_positions
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.batch import Batch, CountRows, Lines, RawRows
from weibull_stats.sample.checked import Sample, as_sample
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.lines import plot_line, weighted_moments
from weibull_stats.weibull.spacings import spacing_gaps, uniforms_from_gaps


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


def check_options(probabilities: Any = (0.1, 0.9), method: str = "linear") -> dict[str, Any]:
    """``probabilities`` (see :func:`check_probabilities`) and ``method`` (one of
    :data:`QUANTILE_METHODS`), checked."""
    probs = check_probabilities(probabilities)
    return {"probabilities": probs, "method": check_choice(method, "method", QUANTILE_METHODS)}


def line_through_quantiles(probs: tuple[float, ...], quantiles: np.ndarray) -> tuple[float, float]:
    """``(shape, scale)`` from ``ln Q(p) = ln scale + ln(-ln(1 - p)) / shape``.

    Two probabilities give the exact solution; more give least squares of ``ln Q`` on
    ``y = ln(-ln(1 - p))`` (slope ``1 / shape``, intercept ``ln scale``).

    Examples
    --------
    >>> p = (0.1, 0.5, 0.9)
    >>> from scipy import stats
    >>> q = stats.weibull_min.ppf(p, 1.5, scale=2.0)  # exact Weibull(1.5, 2) quantiles
    >>> [round(v, 12) for v in line_through_quantiles(p, q)]
    [1.5, 2.0]
    """
    log_q = np.log(np.asarray(quantiles, dtype=np.float64))
    m = weighted_moments(log_q, plot_ordinates(probs))
    if not m.suv > 0:
        raise ValueError(_not_increasing(probs, np.exp(log_q)))
    shape, log_scale = plot_line(m.mean_u, m.mean_v, m.suu, m.svv, m.suv, "x_on_y")
    return float(shape), math.exp(log_scale)


def _not_increasing(probs: tuple[float, ...], quantiles: np.ndarray) -> str:
    return (f"sample quantiles at {probs} are not increasing ({np.asarray(quantiles).tolist()}); "
            "the data have too few distinct values for quantile matching")


def line_through_quantile_rows(probabilities: tuple[float, ...], quantiles: np.ndarray) -> np.ndarray:
    """Vectorised :func:`line_through_quantiles`: ``(b, 2)`` shapes and scales, one row per
    row of ``quantiles`` (one column per probability); ``nan`` where the quantiles do not
    increase. Row sums, not matrix products, so a row's result does not depend on the batch."""
    out = np.full((quantiles.shape[0], 2), np.nan)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = weighted_moments(np.log(quantiles), plot_ordinates(probabilities))
        ok = m.suv > 0
        shape, log_scale = plot_line(m.mean_u[ok], m.mean_v, m.suu[ok], m.svv, m.suv[ok], "x_on_y")
        out[ok, 0] = shape
        out[ok, 1] = np.exp(log_scale)
    out[~(np.isfinite(out).all(axis=1) & (out > 0).all(axis=1))] = np.nan
    return out


def _needed(
    n: int, probs: tuple[float, ...], method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique needed positions and, per probability, the columns of previous/following."""
    previous, following, fraction = order_positions(n, probs, method)
    needed = np.unique(np.concatenate([previous, following]))
    return needed, np.searchsorted(needed, previous), np.searchsorted(needed, following), fraction


def _raw_quantiles(values: np.ndarray, ordered: bool, owned: bool, probs: tuple[float, ...],
                   method: str) -> np.ndarray:
    needed, before, after, fraction = _needed(values.shape[1], probs, method)
    if not ordered:
        values = values if owned else values.copy()
        values.partition(needed, axis=1)
    chosen = values[:, needed].astype(np.float64)
    return _lerp(chosen[:, before], chosen[:, after], fraction)


def _count_quantiles(
    grid: np.ndarray, counts: np.ndarray, probs: tuple[float, ...], method: str
) -> np.ndarray:
    b, d = counts.shape
    cumulative = np.cumsum(counts, axis=1)
    sizes = cumulative[:, -1]
    stride = int(sizes.max()) + 1
    # rows laid end to end, each offset by `stride`, so one searchsorted serves every row
    flat = (cumulative + (np.arange(b, dtype=np.int64) * stride)[:, None]).ravel()
    quantiles = np.empty((b, len(probs)))
    for size in np.unique(sizes).tolist():
        rows = np.flatnonzero(sizes == size)
        needed, before, after, fraction = _needed(int(size), probs, method)
        queries = needed[None, :] + (rows.astype(np.int64) * stride)[:, None]
        cells = np.searchsorted(flat, queries.ravel(), side="right").reshape(queries.shape)
        cells -= rows[:, None] * d
        chosen = grid[cells]
        quantiles[rows] = _lerp(chosen[:, before], chosen[:, after], fraction)
    return quantiles


def quantile_kernel(
    batch: Batch, /, *, probabilities: tuple[float, ...] = (0.1, 0.9), method: str = "linear"
) -> Lines:
    """Quantile-matching shape and scale of every row.

    Raw rows select the needed order statistics (no full sort; none at all for ordered
    rows); count rows find them from cumulative counts. Rows whose quantiles do not
    increase are undefined (``nan`` and the reason). Diagnostics ``quantile_0``,
    ``quantile_1``, ...: the sample quantiles.
    """
    probs = tuple(float(p) for p in probabilities)
    if isinstance(batch, CountRows):
        quantiles = _count_quantiles(batch.values, batch.counts, probs, method)
        n_used = batch.counts.sum(axis=1)
    else:
        quantiles = _raw_quantiles(batch.values, batch.ordered, batch.owned, probs, method)
        n_used = batch.sizes
    pairs = line_through_quantile_rows(probs, quantiles)
    reasons = {int(i): _not_increasing(probs, quantiles[i]) for i in np.flatnonzero(np.isnan(pairs[:, 0]))}
    return Lines(shape=pairs[:, 0], scale=pairs[:, 1], n_used=n_used.astype(np.int64),
                 converged=np.ones(pairs.shape[0], dtype=bool),
                 diagnostics={f"quantile_{j}": quantiles[:, j].copy() for j in range(len(probs))},
                 reasons=reasons)


class QuantilePlan:
    """Nonparametric bootstrap of a raw sample by quantile matching: per resample only the
    needed order statistics, from gamma-distributed gaps of exponential spacings.

    A resample's ``r``-th order statistic is ``x_(1 + floor(n U_(r)))`` with ``U_(r)`` the
    ``r``-th of ``n`` sorted uniforms; only the needed ranks are drawn, from the gamma gaps of
    their exponential spacings (:mod:`weibull_stats.weibull.spacings`).
    """

    #: Faster than index resampling at every sample size.
    min_n = 0

    def __init__(
        self,
        sorted_magnitudes: np.ndarray,
        *,
        probabilities: tuple[float, ...] = (0.1, 0.9),
        method: str = "linear",
    ) -> None:
        n = sorted_magnitudes.size
        self.n = n
        self.data = sorted_magnitudes.astype(np.float64, copy=False)
        self.probabilities = tuple(float(p) for p in probabilities)
        needed, self.previous_column, self.following_column, self.fraction = _needed(
            n, self.probabilities, method)
        #: 0-based sorted positions of the order statistics drawn per resample
        self.positions = needed
        self.gaps = spacing_gaps(needed + 1, n)

    def uniforms(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, q)`` sorted uniforms ``U_(r)`` at the needed ranks, from gamma gaps."""
        return uniforms_from_gaps(generator.standard_gamma(self.gaps, size=(size, self.gaps.size)))

    def order_indices(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, q)`` 0-based sorted-data indices of the needed order statistics."""
        return np.minimum((self.uniforms(generator, size) * self.n).astype(np.intp), self.n - 1)

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, 2)`` shapes and scales of ``size`` nonparametric resamples."""
        values = self.data[self.order_indices(generator, size)]
        quantiles = _lerp(values[:, self.previous_column], values[:, self.following_column], self.fraction)
        return line_through_quantile_rows(self.probabilities, quantiles)


def quantile_plan(sorted_magnitudes: np.ndarray, **options: Any) -> QuantilePlan:
    """The resampling fast path of a raw sample (``options`` as :func:`check_options` gives)."""
    return QuantilePlan(sorted_magnitudes, **options)


def fit_quantile(
    x: Any,
    /,
    *,
    probabilities: tuple[float, ...] = (0.1, 0.9),
    method: str = "linear",
    values: str = DEFAULT_POLICY["values"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    zeros: str = DEFAULT_POLICY["zeros"],
) -> WeibullFit:
    """Weibull fit by matching sample quantiles to the Weibull quantile function.

    The Weibull quantile function is ``Q(p) = scale * (-ln(1 - p)) ** (1 / shape)``.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape, flattened).
    probabilities : sequence of float, default (0.1, 0.9)
        Probabilities at which sample and model quantiles are matched: two give the closed
        form ``shape = (y2 - y1) / ln(q2 / q1)``, ``y = ln(-ln(1 - p))``; more give least
        squares of ``ln q`` on ``y``.
    method : str, default "linear"
        Sample-quantile definition, as in :func:`numpy.quantile` (its default); the
        quantiles are numpy's, bit for bit, on raw and on counts samples.
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.as_sample`.

    Returns
    -------
    WeibullFit
        ``details["quantiles"]`` holds the sample quantiles.

    Examples
    --------
    >>> x = np.random.default_rng(2).weibull(2.0, size=200_000)
    >>> round(ws.fit_quantile(x).shape, 1)
    2.0
    """
    options = check_options(probabilities, method)
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    fit = one_fit("quantile", quantile_kernel, sample, options)
    return _with_quantiles(fit, len(options["probabilities"]))


def _with_quantiles(fit: WeibullFit, count: int) -> WeibullFit:
    details = dict(fit.details)
    quantiles = tuple(float(details.pop(f"quantile_{j}")) for j in range(count))
    return replace(fit, details={"quantiles": quantiles, **details})


def quantile_asymptotic(sample: Sample, /, *, bandwidth: str = "hall_sheather",
                        **options: Any) -> AsymptoticFit:
    """The fit with its sparsity-function errors (derivation in :mod:`._asymptotic`).

    ``bandwidth`` is the sparsity estimate's (:func:`~._asymptotic.sparsity_probabilities`),
    the other ``options`` as :func:`check_options` takes them.

    A raw sample is partitioned once at the order statistics of the fit and of the sparsity
    estimate together, and both read it; a counts sample reads its cumulative counts.

    Examples
    --------
    The bandwidth of the sparsity estimate, named in ``method``, moves the error:

    >>> x = np.random.default_rng(0).weibull(2.0, 10_000)
    >>> for bandwidth in ("hall_sheather", "bofinger"):
    ...     res = quantile_asymptotic(ws.as_sample(x), bandwidth=bandwidth)
    ...     print(f"{res.method}: {res.shape_se:.3f}")
    sparsity function (difference quotient, hall-sheather bandwidth): 0.020
    sparsity function (difference quotient, bofinger bandwidth): 0.016
    """
    options = check_options(**options)
    probabilities, method = options["probabilities"], options["method"]
    n = sample.size
    grid_variance = None
    if sample.magnitudes is not None:
        outer = sparsity_probabilities(n, probabilities, bandwidth)
        block = sample.magnitudes[None, :]
        block = block if sample.owned else block.copy()
        positions = np.unique(np.concatenate([_needed(n, probabilities, method)[0],
                                              _needed(n, outer, method)[0]]))
        block.partition(positions, axis=1)
        ordered = RawRows(block, ordered=True)

        def kernel(_: Batch, /, **kernel_options: Any) -> Lines:
            return quantile_kernel(ordered, **kernel_options)

        fit = one_fit("quantile", kernel, sample, options)
        quantiles = np.array([fit.details[f"quantile_{j}"] for j in range(len(probabilities))])
        outer_quantiles = _raw_quantiles(block, True, True, outer, method)[0]
    else:  # on the storage grid (see "On a storage grid" in ._asymptotic)
        assert sample.distinct is not None and sample.counts is not None
        fit = one_fit("quantile", quantile_kernel, sample, options)
        quantiles = np.array([fit.details[f"quantile_{j}"] for j in range(len(probabilities))])
        floor = cell_masses(sample.distinct, sample.counts, quantiles)
        outer = sparsity_probabilities(n, probabilities, bandwidth, floor)
        outer_quantiles = _count_quantiles(sample.distinct, sample.counts[None, :], outer, method)[0]
        grid_variance = grid_log_quantile_mse(sample.distinct, sample.counts, probabilities, quantiles)
    shape_se, log_scale_se = quantile_matching_se(n, probabilities, quantiles, outer, outer_quantiles,
                                                  fit.shape, grid_variance)
    reason = storage_step_reason(n, probabilities, quantiles,
                                 sparsity_estimate(probabilities, outer, outer_quantiles), sample.storage)
    return AsymptoticFit(_with_quantiles(fit, len(probabilities)), shape_se, log_scale_se,
                         METHOD.format(bandwidth=bandwidth.replace("_", "-"))
                         + ("" if grid_variance is None else GRID_METHOD),
                         distinct_values(sample.magnitudes, sample.distinct), warning=reason)



# ---------------------------------------------------------------------- validation hook
QUANTILE_PROBABILITIES: tuple[tuple[float, ...], ...] = (
    (0.1, 0.9),
    (0.05, 0.95),
    (0.01, 0.99),
    (0.25, 0.75),
    (0.1, 0.5, 0.9),
)


def quantile_population(
    population: Any, /, *, probabilities: tuple[float, ...] = (0.1, 0.9)
) -> tuple[float, float]:
    """Limit of quantile matching: its closed form on the exact quantiles (float64)."""
    ctx = population.context
    quantiles = np.array([float(population.quantile_mp(ctx.mpf(p))) for p in probabilities])
    return line_through_quantiles(tuple(float(p) for p in probabilities), quantiles)


def _quantile_error(shape: float, scale: float) -> float:
    # the float64 closed form: relative rounding about 1e-15, stated 1e-14
    return 1e-14 * max(1.0, shape, scale)


def _quantile_rows(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [{"probabilities": options["probabilities"], "method": "linear"}]


def quantile_bias(population: Any, n: int, /, probabilities: tuple[float, ...] = (0.1, 0.9)
                  ) -> tuple[float, float]:
    """Leading ``O(1/n)`` biases of ``(shape, scale)`` (:func:`._asymptotic.matching_bias`)."""
    shape, scale = quantile_population(population, probabilities=probabilities)
    return matching_bias(population, n, probabilities, shape, scale)


QUANTILE_POPULATION = PopulationHook(
    quantile_population,
    tuple(MappingProxyType({"probabilities": p}) for p in QUANTILE_PROBABILITIES),
    method="closed form on exact quantiles (mpmath.erfinv)",
    table_options=_quantile_rows,
    float64_error=_quantile_error,
    reads=frozenset({"context", "quantile_mp"}),
    bias=quantile_bias,
)


ESTIMATOR = Estimator(
    "quantile",
    fit_quantile,
    quantile_kernel,
    check_options,
    "quantile matching at probabilities 0.1 and 0.9",
    order_statistics=True,
    plan=quantile_plan,
    population=QUANTILE_POPULATION,
    asymptotic=quantile_asymptotic,
    equivariant=quantile_equivariant,
    influence=quantile_influence,
    caveats=(BF16_COVERAGE_CAVEAT,),
)

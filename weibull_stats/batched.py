"""Batched forms of the estimators: one call fits every row of a ``(batch, m)`` array.

The bootstrap and goodness-of-fit engines evaluate an estimator on hundreds of samples at
once. Each registered estimator has here a form that does that without a Python loop per
sample (its registry entry points to it through
:class:`~weibull_stats.resampling.BatchForm`): the arithmetic runs along ``axis=1`` and
returns a ``(batch, 2)`` array of ``(shape, scale)``. A row whose fit is undefined (too
few distinct values in the trim window, a Newton iteration that did not converge) gives
``nan`` in both columns and the caller decides what to do with it; nothing is repaired
silently.

Rows are taken to be already checked (finite, positive): the bad-input policy is applied
once to the data before resampling. The options are the estimator's own options without
the policy options ``values``, ``nonfinite`` and ``zeros``.

Each batched form is tested against the one-sample estimator row by row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from weibull_stats.estimators.histogram import MIN_BINS, check_edges, paper_edges
from weibull_stats.estimators.log_moment import EULER_GAMMA
from weibull_stats.estimators.mle import MAX_ITERATIONS, RELATIVE_TOLERANCE
from weibull_stats.estimators.probability_plot import (
    MIN_POINTS,
    plotting_positions,
    trim_window,
    weibull_plot_y,
)

#: Options that describe the bad-input policy; they act once, before any resampling.
POLICY_OPTIONS: tuple[str, ...] = ("values", "nonfinite", "zeros")

def _pair(shape: np.ndarray, scale: np.ndarray) -> np.ndarray:
    out = np.empty((np.shape(shape)[0], 2))
    out[:, 0] = shape
    out[:, 1] = scale
    bad = ~(np.isfinite(out).all(axis=1) & (out[:, 0] > 0) & (out[:, 1] > 0))
    out[bad] = np.nan
    return out


def line_from_centred_sums(
    mean_u: np.ndarray,
    mean_v: np.ndarray,
    suu: np.ndarray,
    svv: np.ndarray,
    suv: np.ndarray,
    direction: str,
) -> np.ndarray:
    """``(batch, 2)`` shapes and scales of Weibull-plot lines, vectorised
    :func:`~weibull_stats.estimators.probability_plot.line_from_sums` (``u = ln x``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = suu > 0
        if direction == "y_on_x":
            slope = suv / suu
            shape = slope
            log_scale = mean_u - mean_v / slope
        else:
            slope = suv / svv
            shape = 1.0 / slope
            log_scale = mean_u - slope * mean_v
        shape = np.where(ok, shape, np.nan)
        return _pair(shape, np.exp(log_scale))


def probability_plot_rows(
    rows: np.ndarray,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    plotting_position: str = "hazen",
    direction: str = "y_on_x",
) -> np.ndarray:
    """Batched :func:`~weibull_stats.fit_probability_plot`: sort each row, fit its window."""
    m = rows.shape[1]
    lo, hi = trim_window(m, (float(trim[0]), float(trim[1])), plotting_position)
    if hi - lo + 1 < MIN_POINTS:
        return np.full((rows.shape[0], 2), np.nan)
    window = np.log(np.sort(rows, axis=1)[:, lo - 1 : hi], dtype=np.float64)
    v = weibull_plot_y(plotting_positions(np.arange(lo, hi + 1), m, plotting_position))
    shift = window[:, (hi - lo) // 2 : (hi - lo) // 2 + 1].copy()
    window -= shift
    mean_u = window.mean(axis=1)
    du = window - mean_u[:, None]
    dv = v - v.mean()
    suu = np.einsum("ij,ij->i", du, du)
    suv = du @ dv
    svv = np.full_like(suu, float(dv @ dv))
    return line_from_centred_sums(mean_u + shift[:, 0], np.full_like(suu, v.mean()), suu, svv, suv, direction)


def mle_rows(rows: np.ndarray) -> np.ndarray:
    """Batched :func:`~weibull_stats.fit_mle`: the same safeguarded profile Newton, per row.

    Every row keeps its own bracket ``(low, high)`` on the shape; a Newton step that
    leaves it is replaced by doubling, halving or bisection in ``log k`` exactly as in the
    one-sample solver. Rows that do not converge in ``MAX_ITERATIONS`` give ``nan``.
    """
    b, m = rows.shape
    t = np.log(rows, dtype=np.float64)
    top = t.max(axis=1)
    t -= top[:, None]
    mean_t = t.mean(axis=1)
    var_t = ((t - mean_t[:, None]) ** 2).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = math.pi / np.sqrt(6.0 * var_t)
    low = np.zeros(b)
    high = np.full(b, np.inf)
    active = np.isfinite(k)
    converged = np.zeros(b, dtype=bool)
    buffer = np.empty_like(t)
    for _ in range(MAX_ITERATIONS + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        tt = t[idx]
        e = buffer[: idx.size]
        np.multiply(tt, k[idx, None], out=e)
        np.exp(e, out=e)
        s0 = e.sum(axis=1)
        e *= tt
        s1 = e.sum(axis=1)
        s2 = np.einsum("ij,ij->i", e, tt)
        mean_w = s1 / s0
        kk = k[idx]
        g = mean_w - 1.0 / kk - mean_t[idx]
        exact = g == 0.0
        low[idx] = np.where(g < 0, kk, low[idx])
        high[idx] = np.where(g > 0, kk, high[idx])
        derivative = np.maximum(s2 / s0 - mean_w * mean_w, 0.0) + 1.0 / (kk * kk)
        candidate = kk - g / derivative
        lo_i, hi_i = low[idx], high[idx]
        outside = ~((lo_i < candidate) & (candidate < hi_i) & np.isfinite(candidate))
        fallback = np.where(np.isinf(hi_i), 2.0 * kk, np.where(lo_i == 0.0, 0.5 * kk, np.sqrt(lo_i * hi_i)))
        candidate = np.where(outside, fallback, candidate)
        step = np.abs(candidate - kk)
        new_k = np.where(exact, kk, candidate)
        done = exact | (step <= RELATIVE_TOLERANCE * new_k)
        k[idx] = new_k
        converged[idx[done]] = True
        active[idx[done]] = False
    k = np.where(converged, k, np.nan)
    with np.errstate(invalid="ignore"):
        s0 = np.exp(t * np.where(np.isfinite(k), k, 1.0)[:, None]).sum(axis=1)
        scale = np.exp(top + np.log(s0 / m) / k)
    return _pair(k, scale)


def log_moment_rows(rows: np.ndarray) -> np.ndarray:
    """Batched :func:`~weibull_stats.fit_log_moment`."""
    log_x = np.log(rows, dtype=np.float64)
    mean = log_x.mean(axis=1)
    sd = log_x.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = math.pi / (sd * math.sqrt(6.0))
        return _pair(shape, np.exp(mean + EULER_GAMMA / shape))


def line_through_quantile_rows(probabilities: tuple[float, ...], quantiles: np.ndarray) -> np.ndarray:
    """Vectorised :func:`~weibull_stats.estimators.quantile.line_through_quantiles`;
    ``quantiles`` has one row per sample and one column per probability."""
    y = np.log(-np.log1p(-np.asarray(probabilities, dtype=np.float64)))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_q = np.log(quantiles)
        dy = y - y.mean()
        q_mean = log_q.mean(axis=1)
        sxy = (log_q - q_mean[:, None]) @ dy
        slope = np.where(sxy > 0, sxy / float(dy @ dy), np.nan)
        return _pair(1.0 / slope, np.exp(q_mean - slope * y.mean()))


def quantile_rows(
    rows: np.ndarray, *, probabilities: tuple[float, ...] = (0.1, 0.9), method: str = "linear"
) -> np.ndarray:
    """Batched :func:`~weibull_stats.fit_quantile` (``numpy.quantile`` along rows)."""
    probs = tuple(float(p) for p in probabilities)
    quantiles = np.quantile(rows, probs, axis=1, method=method).T  # type: ignore[call-overload]
    return line_through_quantile_rows(probs, quantiles)


def histogram_count_rows(
    counts: np.ndarray,
    edges: np.ndarray,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
) -> np.ndarray:
    """Batched :func:`~weibull_stats.fit_histogram_counts`: one histogram per row of ``counts``."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_mid = (np.cumsum(counts, axis=1) - 0.5 * counts) / total
    keep = (f_mid >= trim[0]) & (f_mid <= trim[1]) & (counts > 0)
    weights = np.where(keep, counts, 0.0)
    v = weibull_plot_y(np.where(keep, f_mid, 0.5))
    u = math.log(10.0) * 0.5 * (edges[:-1] + edges[1:])
    w_sum = weights.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_u = (weights @ u) / w_sum
        mean_v = np.einsum("ij,ij->i", weights, v) / w_sum
        du = u[None, :] - mean_u[:, None]
        dv = v - mean_v[:, None]
        wdu = weights * du
        suu = np.einsum("ij,ij->i", wdu, du)
        suv = np.einsum("ij,ij->i", wdu, dv)
        svv = np.einsum("ij,ij->i", weights * dv, dv)
    suu = np.where(keep.sum(axis=1) >= MIN_BINS, suu, 0.0)
    return line_from_centred_sums(mean_u, mean_v, suu, svv, suv, direction)


def bin_rows(rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``log10`` of each row over ``edges`` (as ``numpy.histogram``); values
    outside the edges are left out of the counts."""
    b = rows.shape[0]
    bins = edges.size - 1
    log_values = np.log10(rows, dtype=np.float64)
    idx = np.searchsorted(edges, log_values, side="right") - 1
    idx[log_values == edges[-1]] = bins - 1
    inside = (log_values >= edges[0]) & (log_values <= edges[-1])
    flat = (idx + np.arange(b)[:, None] * bins)[inside]
    return np.bincount(flat, minlength=b * bins).reshape(b, bins)


def histogram_rows(
    rows: np.ndarray,
    *,
    edges: Any = None,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
    outside: str = "error",
) -> np.ndarray:
    """Batched :func:`~weibull_stats.fit_histogram`: bin every row, fit every histogram.

    Values outside the edges are left out of each row's total (what ``outside="omit"``
    does); ``outside`` is accepted for the signature only, because resampled data keep the
    data's range and simulated values beyond the edges are artefacts of the model's tails.
    """
    edge_array = paper_edges() if edges is None else check_edges(edges)
    return histogram_count_rows(bin_rows(rows, edge_array), edge_array, trim=trim, direction=direction)


def fit_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The estimator options without the bad-input policy options."""
    return {k: v for k, v in options.items() if k not in POLICY_OPTIONS}

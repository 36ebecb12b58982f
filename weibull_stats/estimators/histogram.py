"""Histogram mode: the probability-plot fit on counts over log10 bin edges.

This is the protocol of the paper's companion library (``npm_weibull.weibull_fit`` with
``trim="mid_80"`` on a 1024-bin log10|w| histogram over [-12, 2]), written from its
published definition and checked against it to 1e-10 on identical histograms.

Where it departs from the exact order-statistic fit
---------------------------------------------------
* Bin-width error: every value in a bin is placed at the bin's log-midpoint and every bin
  at its mid-bin CDF, so the estimate moves with where the data fall relative to the bin
  grid (with noise-free counts, k slides between about 1.2040 and 1.2070 as sigma moves
  across one bin width). :func:`fit_probability_plot` has no such error.
* Values outside the edges: the paper's library silently leaves values below 1e-12
  (zeros included, clipped to 1e-13) or above 100 out of its total. Here zeros follow the
  ``zeros`` policy and other out-of-range values the ``outside`` policy, both "error" by
  default; with "omit" they leave the total and their counts are recorded.
* The paper's library computes ``ln(-ln(1 - F + 1e-12))``; this module uses the exact
  ``ln(-ln(1 - F))``. The difference in the fitted shape is below 1e-11 relative.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats._input import POLICY_CHOICES, check_choice, check_sample, check_trim, to_numpy
from weibull_stats.estimators._streaming import CHUNK, RegressionSums, chunks
from weibull_stats.estimators.probability_plot import DIRECTIONS, line_from_sums, weibull_plot_y
from weibull_stats.results import WeibullFit

#: The paper's binning: 1024 bins of log10|w| over [-12, 2].
PAPER_BINS = 1024
PAPER_LOG10_RANGE = (-12.0, 2.0)
MIN_BINS = 3


def paper_edges() -> np.ndarray:
    """The paper's 1025 log10 bin edges, ``numpy.linspace(-12, 2, 1025)``.

    Every edge is a multiple of the bin width 14/1024 = 7/512 decade, exact in float64.

    Examples
    --------
    >>> edges = paper_edges()
    >>> edges.size, float(edges[0]), float(edges[-1]), float(edges[1] - edges[0])
    (1025, -12.0, 2.0, 0.013671875)
    """
    return np.linspace(PAPER_LOG10_RANGE[0], PAPER_LOG10_RANGE[1], PAPER_BINS + 1)


@dataclass(frozen=True, slots=True)
class Log10Histogram:
    """Counts of ``log10 x`` over bin ``edges`` (bins ``[e_i, e_{i+1})``, the last closed).

    Attributes
    ----------
    edges : numpy.ndarray
        Increasing log10 bin edges, length ``bins + 1``.
    counts : numpy.ndarray
        int64 counts per bin.
    n : int
        Values given, including the omitted ones.
    n_below, n_above : int
        Positive values below the first or above the last edge.
    n_omitted : dict
        Zeros and non-finite values dropped by an explicit option.
    """

    edges: np.ndarray
    counts: np.ndarray
    n: int
    n_below: int
    n_above: int
    n_omitted: dict[str, int]


def check_edges(edges: Any) -> np.ndarray:
    """At least two finite, strictly increasing log10 edges, as a float64 array.

    Examples
    --------
    >>> check_edges([-3, -2, -1]).tolist()
    [-3.0, -2.0, -1.0]
    """
    array = np.asarray(edges, dtype=np.float64)
    if array.ndim != 1 or array.size < 2:
        raise ValueError(
            f"`edges` must be a 1-D array of at least 2 log10 bin edges; got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)) or not np.all(np.diff(array) > 0):
        raise ValueError("`edges` must be finite and strictly increasing")
    return array


def _bin_indices(log_values: np.ndarray, edges: np.ndarray, uniform: bool) -> np.ndarray:
    """Bin index of each value, ``-1`` below and ``bins`` above, as :func:`numpy.histogram`."""
    bins = edges.size - 1
    if uniform:
        index = np.floor((log_values - edges[0]) * (bins / (edges[-1] - edges[0])))
        np.clip(index, 0, bins - 1, out=index)
        idx = index.astype(np.intp)
        # repair rounding at the edges so that the result is exactly numpy.histogram's
        idx -= log_values < edges[idx]
        idx += (log_values >= edges[np.minimum(idx + 1, bins)]) & (idx < bins - 1)
    else:
        idx = np.searchsorted(edges, log_values, side="right") - 1
        idx[log_values == edges[-1]] = bins - 1
    idx[log_values < edges[0]] = -1
    idx[log_values > edges[-1]] = bins
    return idx


def log10_histogram(
    x: Any,
    /,
    *,
    edges: Any = None,
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
) -> Log10Histogram:
    """Histogram of ``log10 x`` over ``edges`` (default: the paper's 1024 bins on [-12, 2]).

    Parameters
    ----------
    x : array_like or torch.Tensor
        Positive sample (any shape); with ``values="weights"`` the magnitudes ``|x|``.
    edges : array_like, optional
        Increasing log10 bin edges; default :func:`paper_edges`.
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.fit_probability_plot`. A zero has no
        logarithm: it is an error unless ``zeros="omit"``.

    Returns
    -------
    Log10Histogram

    Examples
    --------
    >>> import numpy as np
    >>> from weibull_stats import log10_histogram
    >>> h = log10_histogram(np.abs(np.random.default_rng(0).normal(0, 0.02, 1000)))
    >>> h.counts.size, int(h.counts.sum())
    (1024, 1000)
    """
    edge_array = paper_edges() if edges is None else check_edges(edges)
    sample = check_sample(x, values=values, nonfinite=nonfinite, zeros=zeros, min_size=1)
    data = sample.data
    bins = edge_array.size - 1
    widths = np.diff(edge_array)
    uniform = bool(np.allclose(widths, widths[0], rtol=1e-9, atol=0.0))
    counts = np.zeros(bins + 2, dtype=np.int64)
    buffer = np.empty(min(data.size, CHUNK))
    for a, b in chunks(0, data.size):
        part = buffer[: b - a]
        np.log10(data[a:b], out=part, dtype=np.float64)
        counts += np.bincount(_bin_indices(part, edge_array, uniform) + 1, minlength=bins + 2)
    return Log10Histogram(
        edges=edge_array,
        counts=counts[1:-1].copy(),
        n=sample.n,
        n_below=int(counts[0]),
        n_above=int(counts[-1]),
        n_omitted=sample.n_omitted,
    )


def _histogram_line(
    counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float], direction: str
) -> tuple[float, float, float, int, int]:
    """``(shape, scale, r2, bins_used, points_used)`` of the count-weighted Weibull-plot fit."""
    total = float(counts.sum())
    if total <= 0:
        raise ValueError("the histogram is empty: all bin counts are zero")
    cum = np.cumsum(counts, dtype=np.float64)
    f_mid = (cum - 0.5 * counts) / total
    keep = (f_mid >= trim[0]) & (f_mid <= trim[1]) & (counts > 0)
    bins_used = int(np.count_nonzero(keep))
    if bins_used < MIN_BINS:
        raise ValueError(
            f"too few bins after trimming: {bins_used} non-empty bins have mid-bin CDF in "
            f"[{trim[0]}, {trim[1]}]; at least {MIN_BINS} are needed (use finer edges)"
        )
    weights = counts[keep].astype(np.float64)
    u = math.log(10.0) * 0.5 * (edges[:-1] + edges[1:])[keep]
    v = weibull_plot_y(f_mid[keep])
    w_sum = float(weights.sum())
    mean_u = float(np.dot(weights, u)) / w_sum
    mean_v = float(np.dot(weights, v)) / w_sum
    du, dv = u - mean_u, v - mean_v
    sums = RegressionSums(
        count=bins_used,
        shift=0.0,
        mean_u=mean_u,
        mean_v=mean_v,
        suu=float(np.dot(weights * du, du)),
        svv=float(np.dot(weights * dv, dv)),
        suv=float(np.dot(weights * du, dv)),
    )
    shape, scale, r2 = line_from_sums(sums, direction)
    return shape, scale, r2, bins_used, int(weights.sum())


def fit_histogram_counts(
    counts: Any,
    edges: Any,
    /,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
) -> WeibullFit:
    """Count-weighted Weibull-plot fit of a given log10 histogram.

    Each non-empty bin whose mid-bin CDF ``F_mid = (C_{i-1} + C_i) / (2 N)`` lies in the
    inclusive ``trim`` window contributes the point ``(ln 10 * c_i, ln(-ln(1 - F_mid)))``
    with weight equal to its count, ``c_i`` the bin's log10 midpoint. This reproduces
    ``npm_weibull.weibull_fit((edges, counts), trim="mid_80")``.

    Parameters
    ----------
    counts : array_like
        Non-negative counts per bin.
    edges : array_like
        log10 bin edges, one more than ``counts``.
    trim : (float, float), default (0.1, 0.9)
        Inclusive window on the mid-bin CDF.
    direction : {"y_on_x", "x_on_y"}, default "y_on_x"

    Returns
    -------
    WeibullFit
        ``n`` and ``n_used`` count values (not bins); ``details["bins_used"]`` counts bins.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> h = ws.log10_histogram(np.random.default_rng(0).weibull(1.3, 100_000))
    >>> round(ws.fit_histogram_counts(h.counts, h.edges).shape, 1)
    1.3
    """
    edge_array = check_edges(edges)
    count_array = to_numpy(counts, "counts").reshape(-1)
    if count_array.size != edge_array.size - 1:
        raise ValueError(
            f"`counts` has {count_array.size} bins but `edges` describes {edge_array.size - 1}"
        )
    if not np.all(np.isfinite(count_array)) or np.any(count_array < 0):
        raise ValueError("`counts` must be finite and non-negative")
    check_choice(direction, "direction", DIRECTIONS)
    trim_window = check_trim(trim)
    shape, scale, r2, bins_used, used = _histogram_line(count_array, edge_array, trim_window, direction)
    return WeibullFit(
        shape=shape,
        scale=scale,
        estimator="histogram",
        n=int(count_array.sum()),
        n_used=used,
        options={
            "trim": trim_window,
            "direction": direction,
            "bins": edge_array.size - 1,
            "edges_range": (float(edge_array[0]), float(edge_array[-1])),
        },
        r2=r2,
        details={"bins_used": bins_used},
    )


def fit_histogram(
    x: Any,
    /,
    *,
    edges: Any = None,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
    outside: str = "error",
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
) -> WeibullFit:
    """Histogram-mode probability-plot fit of raw data, binned as the paper's library does.

    Bins ``log10 x`` over ``edges`` (default the paper's 1024 bins on [-12, 2]) with
    :func:`log10_histogram` and fits the histogram with :func:`fit_histogram_counts`.

    Parameters
    ----------
    x : array_like or torch.Tensor
        Positive sample (any shape, flattened).
    edges : array_like, optional
        log10 bin edges; default :func:`paper_edges`.
    trim : (float, float), default (0.1, 0.9)
        Inclusive window on the mid-bin CDF.
    direction : {"y_on_x", "x_on_y"}, default "y_on_x"
    outside : {"error", "omit"}, default "error"
        Positive values outside the edges: an error, or left out of the total (the paper's
        library does this silently) with their counts recorded in ``details``.
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.fit_probability_plot`.

    Returns
    -------
    WeibullFit

    Notes
    -----
    See the module documentation for where this departs from the exact fit.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> w = np.random.default_rng(0).normal(0.0, 0.02, 1_000_000)
    >>> round(ws.fit_histogram(w, values="weights").shape, 2)
    1.21
    """
    check_choice(outside, "outside", POLICY_CHOICES)
    histogram = log10_histogram(x, edges=edges, values=values, nonfinite=nonfinite, zeros=zeros)
    n_outside = histogram.n_below + histogram.n_above
    if n_outside and outside == "error":
        raise ValueError(
            f"`x` has {n_outside} values out of {histogram.n} outside the histogram edges "
            f"[1e{histogram.edges[0]:g}, 1e{histogram.edges[-1]:g}] ({histogram.n_below} below, "
            f"{histogram.n_above} above); pass outside='omit' to leave them out of the total"
        )
    fit = fit_histogram_counts(histogram.counts, histogram.edges, trim=trim, direction=direction)
    return WeibullFit(
        shape=fit.shape,
        scale=fit.scale,
        estimator="histogram",
        n=histogram.n,
        n_used=fit.n_used,
        options={
            **fit.options,
            # None is the paper's grid; other edges are recorded in full, so that the
            # result alone reproduces the fit
            "edges": None if edges is None else tuple(float(e) for e in histogram.edges),
            "outside": outside,
            "values": values,
            "nonfinite": nonfinite,
            "zeros": zeros,
        },
        n_omitted=histogram.n_omitted,
        r2=fit.r2,
        details={**fit.details, "n_below": histogram.n_below, "n_above": histogram.n_above},
    )

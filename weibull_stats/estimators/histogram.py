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

One kernel, both forms
----------------------
:func:`histogram_kernel` bins every row and fits its histogram. Raw rows are binned value
by value (chunked ``log10``, exactly :func:`numpy.histogram`'s bins); count rows bin their
shared grid once and add the counts per bin, O(distinct values) per row. Both give the same
integer bin counts, hence the same fit, and a one-sample fit is the kernel on a batch of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from weibull_stats.batch import Batch, CountRows, Lines, RawRows
from weibull_stats.estimators._core import Estimator, one_fit, sample_batch
from weibull_stats.estimators._streaming import CHUNK, chunks, row_groups
from weibull_stats.estimators.probability_plot import DIRECTIONS, weibull_plot_y
from weibull_stats.results import WeibullFit
from weibull_stats.sample import POLICY_CHOICES, as_sample, check_choice, check_trim, to_array

#: The paper's binning: 1024 bins of log10|w| over [-12, 2].
PAPER_BINS = 1024
PAPER_LOG10_RANGE = (-12.0, 2.0)
MIN_BINS = 3
LN10 = math.log(10.0)


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


def _uniform(edges: np.ndarray) -> bool:
    widths = np.diff(edges)
    return bool(np.allclose(widths, widths[0], rtol=1e-9, atol=0.0))


def bin_counts(batch: Batch, edges: np.ndarray) -> np.ndarray:
    """``(b, bins + 2)`` int64 counts of ``log10`` of every row: column 0 counts the values
    below the first edge, the last column those above the last edge.

    Raw rows take one chunked float64 ``log10`` pass; count rows bin the shared grid once
    and add each row's counts per bin (:func:`numpy.add.reduceat`), O(distinct) per row.
    """
    bins = edges.size - 1
    uniform = _uniform(edges)
    if isinstance(batch, CountRows):
        idx = _bin_indices(np.log10(batch.values), edges, uniform) + 1
        counts = batch.counts
        if np.any(idx[1:] < idx[:-1]):  # log10 of an ascending grid is ascending; be sure
            order = np.argsort(idx, kind="stable")
            idx, counts = idx[order], counts[:, order]
        starts = np.flatnonzero(np.r_[True, idx[1:] != idx[:-1]])
        out = np.zeros((counts.shape[0], bins + 2), dtype=np.int64)
        out[:, idx[starts]] = np.add.reduceat(counts, starts, axis=1)
        return out
    values = batch.values
    b, m = values.shape
    out = np.zeros((b, bins + 2), dtype=np.int64)
    for r0, r1 in row_groups(b, max(m, bins + 2)):
        rows = r1 - r0
        buffer = np.empty((rows, min(CHUNK, m)))
        offsets = (np.arange(rows) * (bins + 2) + 1)[:, None]
        for a, c in chunks(0, m):
            part = buffer[:, : c - a]
            np.log10(values[r0:r1, a:c], out=part, dtype=np.float64)
            idx = _bin_indices(part, edges, uniform) + offsets
            out[r0:r1] += np.bincount(idx.ravel(), minlength=rows * (bins + 2)).reshape(rows, bins + 2)
    return out


def _too_few_bins(bins_used: int, trim: tuple[float, float]) -> str:
    return (
        f"too few bins after trimming: {bins_used} non-empty bins have mid-bin CDF in "
        f"[{trim[0]}, {trim[1]}]; at least {MIN_BINS} are needed (use finer edges)"
    )


def _outside_message(n_below: int, n_above: int, n: int, edges: np.ndarray) -> str:
    return (
        f"`x` has {n_below + n_above} values out of {n} outside the histogram edges "
        f"[1e{edges[0]:g}, 1e{edges[-1]:g}] ({n_below} below, {n_above} above); "
        "pass outside='omit' to leave them out of the total"
    )


def histogram_lines(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float], direction: str) -> Lines:
    """Count-weighted Weibull-plot fits of the histograms in the rows of ``counts`` (``(b, bins)``).

    A bin enters its row's fit when it is non-empty and its mid-bin CDF lies in the
    inclusive ``trim`` window; its point is ``(ln 10 * midpoint, ln(-ln(1 - F_mid)))`` with
    weight its count. Every sum runs along a C-contiguous row, so a row's numbers do not
    depend on the batch. Diagnostics: ``r2`` and ``bins_used``.
    """
    counts = np.ascontiguousarray(counts, dtype=np.float64)
    b, bins = counts.shape
    u = LN10 * 0.5 * (edges[:-1] + edges[1:])
    shape, scale, r2 = np.empty(b), np.empty(b), np.empty(b)
    bins_used, n_used = np.empty(b, dtype=np.int64), np.empty(b, dtype=np.int64)
    total = counts.sum(axis=1)
    for r0, r1 in row_groups(b, bins):
        c = counts[r0:r1]
        with np.errstate(divide="ignore", invalid="ignore"):
            f_mid = (np.cumsum(c, axis=1) - 0.5 * c) / total[r0:r1, None]
            keep = (f_mid >= trim[0]) & (f_mid <= trim[1]) & (c > 0)
            weights = np.where(keep, c, 0.0)
            v = weibull_plot_y(np.where(keep, f_mid, 0.5))
            w_sum = weights.sum(axis=1)
            mean_u = (weights * u).sum(axis=1) / w_sum
            mean_v = (weights * v).sum(axis=1) / w_sum
            du = u - mean_u[:, None]
            dv = v - mean_v[:, None]
            wdu = weights * du
            suu = (wdu * du).sum(axis=1)
            suv = (wdu * dv).sum(axis=1)
            svv = ((weights * dv) * dv).sum(axis=1)
            r2[r0:r1] = suv * suv / (suu * svv)
            if direction == "y_on_x":
                slope = suv / suu
                shape[r0:r1] = slope
                log_scale = mean_u - mean_v / slope
            else:
                slope = suv / svv
                shape[r0:r1] = 1.0 / slope
                log_scale = mean_u - slope * mean_v
            scale[r0:r1] = np.exp(log_scale)
        bins_used[r0:r1] = keep.sum(axis=1)
        n_used[r0:r1] = w_sum.astype(np.int64)
    reasons: dict[int, str] = {}
    for row in np.flatnonzero(~(total > 0) | (bins_used < MIN_BINS)).tolist():
        reasons[row] = ("the histogram is empty: all bin counts are zero" if not total[row] > 0
                        else _too_few_bins(int(bins_used[row]), trim))
    undefined = np.zeros(b, dtype=bool)
    undefined[list(reasons)] = True
    shape[undefined] = np.nan
    scale[undefined] = np.nan
    return Lines(shape=shape, scale=scale, n_used=n_used, converged=~undefined,
                 diagnostics={"r2": r2, "bins_used": bins_used}, reasons=reasons)


def check_options(
    *,
    edges: Any = None,
    trim: Any = (0.1, 0.9),
    direction: Any = "y_on_x",
    outside: Any = "error",
) -> dict[str, Any]:
    """The histogram options checked: ``edges`` a float64 array (``None``: the paper's grid),
    ``trim`` a pair of floats, ``direction`` and ``outside`` valid choices.

    Examples
    --------
    >>> options = check_options(edges=[-3, -2, -1], trim=[0.2, 0.8])
    >>> options["edges"].tolist(), options["trim"], options["outside"]
    ([-3.0, -2.0, -1.0], (0.2, 0.8), 'error')
    """
    return {
        "edges": None if edges is None else check_edges(edges),
        "trim": check_trim(trim),
        "direction": check_choice(direction, "direction", DIRECTIONS),
        "outside": check_choice(outside, "outside", POLICY_CHOICES),
    }


def record_options(options: dict[str, Any]) -> dict[str, Any]:
    """What a histogram fit records of its checked options: everything needed to
    reproduce it (``edges`` is ``None`` for the paper's grid, else the edges in full)."""
    edges = options["edges"]
    array = paper_edges() if edges is None else edges
    return {
        "trim": options["trim"],
        "direction": options["direction"],
        "bins": array.size - 1,
        "edges_range": (float(array[0]), float(array[-1])),
        "edges": None if edges is None else tuple(float(e) for e in array),
        "outside": options["outside"],
    }


def histogram_kernel(
    batch: Batch,
    /,
    *,
    edges: np.ndarray | None = None,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
    outside: str = "error",
) -> Lines:
    """Bin every row over ``edges`` (default :func:`paper_edges`) and fit its histogram.

    Values outside the edges give the row an error reason with ``outside="error"``; with
    ``outside="omit"`` they leave the row's total. Diagnostics: ``r2``, ``bins_used``,
    ``n_below``, ``n_above``.
    """
    edge_array = paper_edges() if edges is None else edges
    full = bin_counts(batch, edge_array)
    n_below, n_above = full[:, 0].copy(), full[:, -1].copy()
    lines = histogram_lines(full[:, 1:-1], edge_array, trim, direction)
    reasons = dict(lines.reasons)
    if outside == "error":
        bad = np.flatnonzero(n_below + n_above)
        sizes = full.sum(axis=1)
        for row in bad.tolist():
            reasons[row] = _outside_message(int(n_below[row]), int(n_above[row]), int(sizes[row]), edge_array)
    else:
        bad = np.empty(0, dtype=np.intp)
    shape, scale, converged = lines.shape, lines.scale, lines.converged
    if bad.size:
        shape, scale, converged = shape.copy(), scale.copy(), converged.copy()
        shape[bad] = scale[bad] = np.nan
        converged[bad] = False
    return Lines(shape=shape, scale=scale, n_used=lines.n_used, converged=converged,
                 diagnostics={**lines.diagnostics, "n_below": n_below, "n_above": n_above}, reasons=reasons)


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
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape); with ``values="weights"`` the magnitudes ``|x|``.
    edges : array_like, optional
        Increasing log10 bin edges; default :func:`paper_edges`.
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.as_sample`. A zero has no logarithm:
        it is an error unless ``zeros="omit"``.

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
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros, min_size=1)
    full = bin_counts(sample_batch(sample), edge_array)[0]
    return Log10Histogram(
        edges=edge_array,
        counts=full[1:-1].copy(),
        n=sample.n,
        n_below=int(full[0]),
        n_above=int(full[-1]),
        n_omitted=dict(sample.n_omitted),
    )


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
        Non-negative counts per bin (whole or not: expected counts are accepted).
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
    count_array = np.asarray(to_array(counts, "counts"), dtype=np.float64).reshape(-1)
    if count_array.size != edge_array.size - 1:
        raise ValueError(
            f"`counts` has {count_array.size} bins but `edges` describes {edge_array.size - 1}"
        )
    if not np.all(np.isfinite(count_array)) or np.any(count_array < 0):
        raise ValueError("`counts` must be finite and non-negative")
    check_choice(direction, "direction", DIRECTIONS)
    trim_window = check_trim(trim)
    lines = histogram_lines(count_array[None, :], edge_array, trim_window, direction)
    if not bool(lines.defined[0]):
        raise ValueError(lines.reasons[0])
    return WeibullFit(
        shape=float(lines.shape[0]),
        scale=float(lines.scale[0]),
        estimator="histogram",
        n=int(count_array.sum()),
        n_used=int(lines.n_used[0]),
        options={
            "trim": trim_window,
            "direction": direction,
            "bins": edge_array.size - 1,
            "edges_range": (float(edge_array[0]), float(edge_array[-1])),
        },
        r2=float(lines.diagnostics["r2"][0]),
        details={"bins_used": int(lines.diagnostics["bins_used"][0])},
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

    Bins ``log10 x`` over ``edges`` (default the paper's 1024 bins on [-12, 2]) as
    :func:`log10_histogram` does and fits the histogram as :func:`fit_histogram_counts` does.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
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
        Bad-input policy, as in :func:`weibull_stats.as_sample`.

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
    options = check_options(edges=edges, trim=trim, direction=direction, outside=outside)
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros, min_size=1)
    return one_fit("histogram", histogram_kernel, sample, options, record=record_options(options))


@dataclass(frozen=True, slots=True)
class HistogramPlan:
    """Nonparametric bootstrap of a raw sample in histogram mode, no resample formed.

    A resample's bin counts are ``Multinomial(n, frequencies)`` over the data's bins and one
    cell for the values outside the edges, which is left out of the resample's total (the
    data's fit raised if ``outside="error"``). Build one with :func:`histogram_plan`.
    """

    edges: np.ndarray
    trim: tuple[float, float]
    direction: str
    n: int
    frequencies: np.ndarray

    #: A multinomial draw over ~1025 cells costs about what binning 500 values does.
    min_n: ClassVar[int] = 500

    def counts(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, bins)`` resample counts (values outside the edges left out)."""
        return generator.multinomial(self.n, self.frequencies, size=size)[:, :-1]

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, 2)`` shapes and scales of ``size`` resamples (``nan`` where undefined)."""
        return histogram_lines(self.counts(generator, size), self.edges, self.trim, self.direction).pairs


def histogram_plan(
    sorted_magnitudes: np.ndarray,
    /,
    *,
    edges: np.ndarray | None = None,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
    outside: str = "error",
) -> HistogramPlan:
    """The :class:`HistogramPlan` of a raw sample (1-D magnitudes, in any order).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).weibull(1.5, 10_000)
    >>> plan = histogram_plan(x)
    >>> plan.nonparametric(np.random.default_rng(1), 3).shape
    (3, 2)
    """
    edge_array = paper_edges() if edges is None else check_edges(edges)
    data = np.asarray(sorted_magnitudes).reshape(1, -1)
    full = bin_counts(RawRows(data), edge_array)[0]
    n_out = int(full[0] + full[-1])
    if n_out and outside == "error":
        raise ValueError(_outside_message(int(full[0]), int(full[-1]), data.size, edge_array))
    cells = np.append(full[1:-1], n_out).astype(np.float64)
    return HistogramPlan(edge_array, (float(trim[0]), float(trim[1])), direction, int(data.size),
                         cells / cells.sum())


ESTIMATOR = Estimator(
    "histogram",
    fit_histogram,
    histogram_kernel,
    check_options,
    "the probability-plot fit on a 1024-bin log10 histogram (the paper's library)",
    order_statistics=True,
    plan=histogram_plan,
)

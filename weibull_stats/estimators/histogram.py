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

from weibull_stats.batch import Batch, Lines, RawRows
from weibull_stats.estimators._core import Estimator, one_fit
from weibull_stats.estimators._log10_bins import (
    PAPER_BINS,
    PAPER_LOG10_RANGE,
    Log10Histogram,
    bin_counts,
    check_edges,
    log10_histogram,
    paper_edges,
)
from weibull_stats.estimators._streaming import row_groups
from weibull_stats.estimators.probability_plot import DIRECTIONS, weibull_plot_y
from weibull_stats.results import WeibullFit
from weibull_stats.sample import POLICY_CHOICES, as_sample, check_choice, check_trim, to_array

__all__ = [
    "ESTIMATOR", "MIN_BINS", "PAPER_BINS", "PAPER_LOG10_RANGE", "HistogramPlan", "Log10Histogram",
    "bin_counts", "check_edges", "check_options", "fit_histogram", "fit_histogram_counts",
    "histogram_kernel", "histogram_lines", "histogram_plan", "log10_histogram", "paper_edges",
    "record_options",
]

MIN_BINS = 3
LN10 = math.log(10.0)


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


def histogram_lines(
    counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float], direction: str
) -> Lines:
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


@dataclass(frozen=True, slots=True, eq=False)
class HistogramPlan:
    """Nonparametric bootstrap of a raw sample in histogram mode, no resample formed.

    A resample's bin counts are ``Multinomial(n, frequencies)`` over the data's bins and one
    cell for the values outside the edges, which is left out of the resample's total
    (``outside="omit"``; with ``"error"``, :func:`histogram_plan` refuses such data with the
    fit's message). Build one with :func:`histogram_plan`.
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

"""The count-weighted Weibull-plot line of histogram mode, on given bin counts."""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.core.options import check_choice, check_trim
from weibull_stats.estimators._streaming import row_groups
from weibull_stats.estimators.histogram._bins import bin_log_midpoints, check_edges, kept_bins, mid_bin_cdf
from weibull_stats.estimators.probability_plot import DIRECTIONS
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.batch import Lines
from weibull_stats.sample.storage import to_array
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.lines import plot_line, squared_correlation, weighted_moments

MIN_BINS = 3


def _too_few_bins(bins_used: int, trim: tuple[float, float]) -> str:
    return (
        f"too few bins after trimming: {bins_used} non-empty bins have mid-bin CDF in "
        f"[{trim[0]}, {trim[1]}]; at least {MIN_BINS} are needed (use finer edges)"
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
    u = bin_log_midpoints(edges)
    shape, scale, r2 = np.empty(b), np.empty(b), np.empty(b)
    bins_used, n_used = np.empty(b, dtype=np.int64), np.empty(b, dtype=np.int64)
    total = counts.sum(axis=1)
    for r0, r1 in row_groups(b, bins):
        c = counts[r0:r1]
        with np.errstate(divide="ignore", invalid="ignore"):
            f_mid = mid_bin_cdf(c, total[r0:r1])
            keep = kept_bins(c, f_mid, trim)
            m = weighted_moments(u, plot_ordinates(np.where(keep, f_mid, 0.5)), np.where(keep, c, 0.0))
            r2[r0:r1] = squared_correlation(m.suu, m.svv, m.suv)
            shape[r0:r1], log_scale = plot_line(m.mean_u, m.mean_v, m.suu, m.svv, m.suv, direction)
            scale[r0:r1] = np.exp(log_scale)
        bins_used[r0:r1] = keep.sum(axis=1)
        n_used[r0:r1] = m.total.astype(np.int64)
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

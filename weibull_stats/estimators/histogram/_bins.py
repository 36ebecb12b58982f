"""log10 bin edges, and the binning of samples and of raw and count rows (histogram mode).

How a value becomes a bin (the ``binning`` option, :data:`BINNINGS`):

* ``"paper"`` (default): as the paper's library does it. The reference is
  ``npm_weibull.extract_to_histogram`` (npm-weibull-py 0.4.0, ``utils/histogram.py``): it
  casts the weights to float32, takes ``|w|``, clips at 1e-13 and computes ``log10`` in
  float32, then counts with :func:`numpy.histogram` over float64 ``linspace`` edges, which
  compares each float32 logarithm, widened exactly to float64, with the float64 edges
  (bins ``[e_i, e_{i+1})``, the last closed). Here: each magnitude is rounded to float32 and
  its logarithm computed by numpy's float32 ``log10`` (the same ufunc loop the library
  calls), then widened to float64 and compared with the edges. ``|float32(w)| ==
  float32(|w|)``, and the clip only moves values that lie below every edge of its grid, so
  the bin counts are the library's bit for bit on the same machine. A positive value that
  rounds to float32 zero is below the edges; one beyond float32's range above them. Raw
  values are binned without a logarithm each: the bin is a monotone function of the float32
  bit pattern, so the first pattern of each bin is found once with that same numpy
  ``log10`` and the values are binned by a compiled table lookup
  (:class:`weibull_stats.core.kernels.PatternBins`), the same counts.
* ``"float64"``: float64 ``log10`` of the float64 magnitude (this module's binning before
  issue 10): a value moves to the neighbouring bin only where float32 rounding put it
  across an edge (a few values in 10^6 on the paper's grid; the fit moves by ~1e-7).

Either way the comparison with the edges is exactly :func:`numpy.histogram`'s: on
equal-width edges an index is one multiply and floor, repaired where rounding put a value
next to its bin; on other edges a binary search. A count row bins each distinct value with
the same arithmetic as a raw row bins it, so the two forms give the same counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from weibull_stats.core.kernels import PatternBins, bin_patterns32
from weibull_stats.core.options import DEFAULT_POLICY, check_choice
from weibull_stats.estimators._core import sample_batch
from weibull_stats.estimators._streaming import CHUNK, chunks, row_groups
from weibull_stats.sample.batch import Batch, CountRows
from weibull_stats.sample.checked import as_sample

#: The paper's binning: 1024 bins of log10|w| over [-12, 2].
PAPER_BINS = 1024
PAPER_LOG10_RANGE = (-12.0, 2.0)

#: How values are binned: float32 ``log10`` of float32 values (the paper's library), or
#: float64 ``log10`` of the float64 magnitudes.
BINNINGS = ("paper", "float64")


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


def bin_log_midpoints(edges: np.ndarray) -> np.ndarray:
    """``ln x`` at each bin's log10 midpoint, ``ln(10) (e_i + e_{i+1}) / 2``: a bin's abscissa on
    the Weibull plot.

    Examples
    --------
    >>> bool(np.allclose(np.exp(bin_log_midpoints(np.array([-1.0, 1.0]))), [1.0]))
    True
    """
    return math.log(10.0) * 0.5 * (edges[:-1] + edges[1:])


def mid_bin_cdf(counts: np.ndarray, total: Any = None) -> np.ndarray:
    """The mid-bin CDF ``F_mid = (C_{i-1} + C_i) / (2 N)`` of each bin along the last axis (``C``
    the cumulative counts, ``N`` = ``total``, by default the counts' sum): a bin's plotting
    position on the Weibull plot.

    Examples
    --------
    >>> mid_bin_cdf(np.array([1.0, 2.0, 1.0])).tolist()
    [0.125, 0.5, 0.875]
    """
    total = counts.sum(axis=-1) if total is None else total
    return (np.cumsum(counts, axis=-1) - 0.5 * counts) / np.expand_dims(total, -1)


def kept_bins(counts: np.ndarray, f_mid: np.ndarray, trim: tuple[float, float]) -> np.ndarray:
    """The bins a fit keeps: non-empty, with the mid-bin CDF in the inclusive ``trim`` window.

    Examples
    --------
    >>> c = np.array([1.0, 0.0, 2.0, 1.0])
    >>> kept_bins(c, mid_bin_cdf(c), (0.1, 0.9)).tolist()
    [True, False, True, True]
    """
    return (f_mid >= trim[0]) & (f_mid <= trim[1]) & (counts > 0)


def log10_into(out: np.ndarray, values: np.ndarray, binning: str) -> np.ndarray:
    """``log10`` of ``values`` into the float64 array ``out``, computed as ``binning`` says.

    ``"paper"``: the values cast to float32 (round to nearest) and numpy's float32 ``log10``,
    the result widened exactly; ``-inf`` for values that round to zero, ``inf`` beyond
    float32's range. ``"float64"``: float64 ``log10``.
    """
    if binning == "paper":
        with np.errstate(over="ignore", divide="ignore"):
            np.log10(values, out=out, dtype=np.float32)
    else:
        np.log10(values, out=out, dtype=np.float64)
    return out


def bin_indices(log_values: np.ndarray, edges: np.ndarray, uniform: bool) -> np.ndarray:
    """Bin index of each value, ``-1`` below and ``bins`` above, as :func:`numpy.histogram`
    (bins ``[e_i, e_{i+1})``, the last closed)."""
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


@lru_cache(maxsize=8)
def pattern_bins(edges: bytes) -> PatternBins | None:
    """The bin table of float64 ``edges`` (given as bytes, for the cache) for the paper's
    binning (float32 ``log10`` of float32 values), or ``None`` (then the numpy pass bins) if
    numpy's float32 ``log10`` on this machine is not monotone next to a threshold."""
    table = PatternBins(np.frombuffer(edges, dtype=np.float64))
    return table if table.verify() else None


def is_uniform(edges: np.ndarray) -> bool:
    """Equal bin widths (to 1e-9 relative): then a bin index is one multiply and a repair."""
    widths = np.diff(edges)
    return bool(np.allclose(widths, widths[0], rtol=1e-9, atol=0.0))


def bin_counts(batch: Batch, edges: np.ndarray, binning: str = "paper") -> np.ndarray:
    """``(b, bins + 2)`` int64 counts of ``log10`` of every row: column 0 counts the values
    below the first edge, the last column those above the last edge.

    Raw rows binned as the paper bins them take one compiled pass with no logarithm
    (:func:`weibull_stats.core.kernels.bin_patterns32` over the table of
    :func:`pattern_bins`); with ``binning="float64"`` one chunked ``log10`` pass
    (:func:`log10_into`). Count rows bin the shared grid once, with the arithmetic of
    :func:`log10_into`, and add each row's counts per bin (:func:`numpy.add.reduceat`),
    O(distinct) per row.
    """
    bins = edges.size - 1
    uniform = is_uniform(edges)
    if isinstance(batch, CountRows):
        grid = np.ascontiguousarray(batch.values)
        idx = bin_indices(log10_into(np.empty(grid.shape), grid, binning), edges, uniform) + 1
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
    table = pattern_bins(edges.tobytes()) if binning == "paper" else None
    if table is not None:
        for r in range(b):
            bin_patterns32(values[r], table, out[r])
        return out
    for r0, r1 in row_groups(b, max(m, bins + 2)):
        rows = r1 - r0
        buffer = np.empty((rows, min(CHUNK, m)))
        offsets = (np.arange(rows) * (bins + 2) + 1)[:, None]
        for a, c in chunks(0, m):
            part = buffer[:, : c - a]
            log10_into(part, values[r0:r1, a:c], binning)
            idx = bin_indices(part, edges, uniform) + offsets
            out[r0:r1] += np.bincount(idx.ravel(), minlength=rows * (bins + 2)).reshape(rows, bins + 2)
    return out


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
    binning : str
        How values were binned (:data:`BINNINGS`).
    """

    edges: np.ndarray
    counts: np.ndarray
    n: int
    n_below: int
    n_above: int
    n_omitted: dict[str, int]
    binning: str = "paper"


def log10_histogram(
    x: Any,
    /,
    *,
    edges: Any = None,
    binning: str = "paper",
    values: str = DEFAULT_POLICY["values"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    zeros: str = DEFAULT_POLICY["zeros"],
) -> Log10Histogram:
    """Histogram of ``log10 x`` over ``edges`` (default: the paper's 1024 bins on [-12, 2]).

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape); with ``values="weights"`` the magnitudes ``|x|``.
    edges : array_like, optional
        Increasing log10 bin edges; default :func:`paper_edges`.
    binning : {"paper", "float64"}, default "paper"
        ``"paper"``: float32 ``log10`` of the values rounded to float32, exactly as
        ``npm_weibull.extract_to_histogram`` bins them (its counts bit for bit);
        ``"float64"``: float64 ``log10`` of the float64 magnitudes.
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.as_sample`. A zero has no logarithm:
        it is left out and counted unless ``zeros="error"``.

    Returns
    -------
    Log10Histogram

    Examples
    --------
    >>> from weibull_stats import log10_histogram
    >>> h = log10_histogram(np.abs(np.random.default_rng(0).normal(0, 0.02, 1000)))
    >>> h.counts.size, int(h.counts.sum())
    (1024, 1000)
    """
    edge_array = paper_edges() if edges is None else check_edges(edges)
    binning = check_choice(binning, "binning", BINNINGS)
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros, min_size=1)
    full = bin_counts(sample_batch(sample), edge_array, binning)[0]
    return Log10Histogram(
        edges=edge_array,
        counts=full[1:-1].copy(),
        n=sample.n,
        n_below=int(full[0]),
        n_above=int(full[-1]),
        n_omitted=dict(sample.n_omitted),
        binning=binning,
    )

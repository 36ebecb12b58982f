"""LEGACY order-statistic fast paths for raw samples (issue 9: to be deleted).

The probability-plot, quantile and histogram plans below are what the temporary adapters
of :mod:`weibull_stats.registry` hand to the engine (:mod:`weibull_stats.engine`) as
``plan``; once those estimators export their own ``ESTIMATOR`` with a ``plan``, this module
goes. The engine itself (blocks, seeds, count resampling, nulls) lives in
:mod:`weibull_stats.engine` and :mod:`weibull_stats.nulls`.

The fast path of the probability plot
-------------------------------------
A nonparametric resample of the sorted sample ``x_(1) <= ... <= x_(n)`` has, as its
``k``-th order statistic, ``x_(1 + floor(n U_(k)))`` with ``U_(1) <= ... <= U_(n)`` the
order statistics of ``n`` independent uniforms (the empirical quantile function applied to
sorted uniforms). Sorted uniforms are normalised partial sums of exponential spacings,
``U_(k) = S_k / S_{n+1}``, ``S_k = E_1 + ... + E_k``, ``E_i = -ln U_i`` by inversion
(uniforms from numpy's SFC64 generator). The regression only uses the ranks
``lo..hi`` of the trim window, so a resample needs ``S_{lo-1} ~ Gamma(lo - 1)`` (one draw),
the exponentials of the window ranks and ``S_{n+1} - S_hi ~ Gamma(n + 1 - hi)`` (one draw):
``O(hi - lo)`` work, streaming through the sorted log-data in rank order. To stream without
storing the whole window, the window is cut into chunks; the sum of each chunk's spacings is
drawn first as ``Gamma(chunk size)`` (so that ``S_{n+1}`` is known before any index is
formed) and the chunk's exponentials are then rescaled to that sum, which leaves their
joint law unchanged (given their sum, i.i.d. exponentials are the sum times a flat
Dirichlet vector, independent of the sum). The window's ``y_k = ln(-ln(1 - p_k))`` are the
same for every resample and are computed once. Per window rank the work is one uniform, one
logarithm, a few vector passes in cache and one gather from the sorted ``ln x``.

The parametric bootstrap uses the same sorted uniforms: the window order statistics of a
``Weibull(shape, scale)`` sample are ``scale (-ln(1 - U_(k)))^(1/shape)``, so a simulated
sample is never formed or sorted either.

The quantile fast path needs only the two order statistics around each probability:
``O(1)`` gamma draws per resample (parametric: the quantile function at those uniforms).
The histogram fast path draws the resample's bin counts as ``Multinomial(n, bin
frequencies)`` (parametric: the fitted law's bin probabilities).

Tests prove each fast path equal to the estimator applied to the explicit resample built
from the same draws, and equal in distribution to plain index resampling (or, parametric,
to refitting explicitly simulated samples).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from weibull_stats.batched import (
    histogram_count_rows,
    line_from_centred_sums,
    line_through_quantile_rows,
)
from weibull_stats.estimators.histogram import check_edges, log10_histogram, paper_edges
from weibull_stats.estimators.probability_plot import (
    MIN_POINTS,
    plotting_positions,
    trim_window,
    weibull_plot_y,
)

#: Window ranks handled per chunk by the probability-plot fast path.
CHUNK = 1 << 17
#: Rows of the in-chunk layout that turns the prefix sum into vector additions.
LAYOUT_ROWS = 16


def _positions_in_layout(block: np.ndarray, scale: float, base: float) -> bool:
    """In place: ``block`` becomes ``base + scale * (inclusive prefix sums of block) / total``,
    ``total`` the sum of ``block``; False (block undefined) when ``total`` is 0 or not finite.

    A chunk of ``w = LAYOUT_ROWS * c`` values is viewed as ``(LAYOUT_ROWS, c)`` with rank
    offset ``j * LAYOUT_ROWS + i`` at ``[i, j]`` (see :func:`chunk_layout`). The column sums
    give the total and each column's starting offset; the offsets (and ``base``, divided by
    the final factor) go into the first row, ``LAYOUT_ROWS - 1`` vector additions make the
    prefix sums down the columns, and one multiplication applies the factor: much faster
    than a sequential cumulative sum. Other sizes use a plain cumulative sum.
    """
    w = block.size
    if w % LAYOUT_ROWS:
        np.cumsum(block, out=block)
        total = float(block[-1])
        if total == 0.0 or not math.isfinite(total):
            return False
        factor = scale / total
        block += base / factor
        block *= factor
        return True
    grid = block.reshape(LAYOUT_ROWS, w // LAYOUT_ROWS)
    columns = grid.sum(axis=0)
    offsets = np.cumsum(columns)
    total = float(offsets[-1])
    if total == 0.0 or not math.isfinite(total):
        return False
    factor = scale / total
    offsets -= columns
    offsets += base / factor
    grid[0] += offsets
    for i in range(1, LAYOUT_ROWS):
        grid[i] += grid[i - 1]
    grid *= factor
    return True


def chunk_layout(values: np.ndarray) -> np.ndarray:
    """Rearrange per-rank ``values`` of one chunk into the layout of :func:`_positions_in_layout`."""
    w = values.size
    if w % LAYOUT_ROWS:
        return np.ascontiguousarray(values)
    return np.ascontiguousarray(values.reshape(w // LAYOUT_ROWS, LAYOUT_ROWS).T).reshape(-1)


def natural_order(chunk: np.ndarray) -> np.ndarray:
    """Inverse of :func:`chunk_layout`."""
    w = chunk.size
    if w % LAYOUT_ROWS:
        return chunk.copy()
    return chunk.reshape(LAYOUT_ROWS, w // LAYOUT_ROWS).T.reshape(-1)


#: Longest vector handed to one BLAS dot: OpenBLAS computes dots of at most 10000 values on
#: the calling thread, so the sums stay single-threaded, fast and the same on every run.
DOT_PIECE = 8192


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` as single-threaded BLAS dots of at most :data:`DOT_PIECE` values."""
    size = a.size
    rows = size // DOT_PIECE
    head = rows * DOT_PIECE
    total = 0.0
    if rows:
        total = float(np.vecdot(a[:head].reshape(rows, DOT_PIECE), b[:head].reshape(rows, DOT_PIECE)).sum())
    if head < size:
        total += float(np.dot(a[head:], b[head:]))
    return total


class ProbabilityPlotPlan:
    """Probability-plot fast path by exponential spacings (see the module documentation)."""

    #: Below this sample size a resample costs less by sorting ``(batch, n)`` index
    #: resamples than by the per-resample streaming loop (measured: 60 us against 7 us per
    #: resample at n = 100, 124 us against 481 us at n = 10^4), so the engine uses rows.
    min_n = 4096

    def __init__(
        self,
        sorted_data: np.ndarray,
        *,
        trim: tuple[float, float] = (0.1, 0.9),
        plotting_position: str = "hazen",
        direction: str = "y_on_x",
    ) -> None:
        n = sorted_data.size
        window = (float(trim[0]), float(trim[1]))
        lo, hi = trim_window(n, window, plotting_position)
        if hi - lo + 1 < MIN_POINTS:
            raise ValueError(
                f"too few points after trimming: {max(0, hi - lo + 1)} of {n} values are in the "
                f"trim window; at least {MIN_POINTS} are needed"
            )
        self.n, self.lo, self.hi = n, lo, hi
        self.direction = direction
        self.shift = float(np.log(np.float64(sorted_data[(lo + hi) // 2 - 1])))
        self.log_x = np.log(sorted_data, dtype=np.float64)
        self.log_x -= self.shift
        self.starts = list(range(lo - 1, hi, CHUNK))
        self.sizes = np.array([min(CHUNK, hi - s) for s in self.starts], dtype=np.float64)
        v_chunks = []
        total_v = 0.0
        total_vv = 0.0
        for start, size in zip(self.starts, self.sizes.astype(int), strict=True):
            ranks = np.arange(start + 1, start + size + 1)
            v = weibull_plot_y(plotting_positions(ranks, n, plotting_position))
            total_v += float(v.sum())
            total_vv += float(v @ v)
            v_chunks.append(chunk_layout(v))
        self.v_chunks = v_chunks
        self.count = hi - lo + 1
        self.mean_v = total_v / self.count
        self.svv = total_vv - self.count * self.mean_v**2

    def window_positions(self, generator: np.random.Generator) -> Iterator[np.ndarray]:
        """``n U_(k)`` for the window ranks of one resample, chunk by chunk, each chunk in the
        layout of :func:`chunk_layout` (one buffer, reused)."""
        n, lo, hi = self.n, self.lo, self.hi
        left = float(generator.standard_gamma(lo - 1)) if lo > 1 else 0.0
        right = float(generator.standard_gamma(n + 1 - hi))
        chunk_sums = generator.standard_gamma(self.sizes)
        factor = n / (left + float(chunk_sums.sum()) + right)
        buffer = np.empty(CHUNK)
        base = left
        for size, chunk_sum in zip(self.sizes.astype(int), chunk_sums, strict=True):
            logs = buffer[:size]
            # ln U = -E with E ~ Exp(1) (inversion); the chunk's spacings are rescaled to sum
            # to chunk_sum, so the sign folds into the factor. A chunk with some U = 0 (ln U
            # = -inf, probability 2**-53 per value) is drawn again, which leaves each U
            # uniform on the positive doubles of [0, 1).
            while True:
                generator.random(out=logs)
                with np.errstate(divide="ignore"):
                    np.log(logs, out=logs)
                if _positions_in_layout(logs, float(chunk_sum) * factor, base * factor):
                    break
            base += float(chunk_sum)
            yield logs

    def window_indices(self, generator: np.random.Generator) -> Iterator[np.ndarray]:
        """0-based sorted-data indices ``floor(n U_(k))`` of one resample's window order
        statistics, chunk by chunk, in the layout of :func:`chunk_layout`.

        An index can equal ``n`` only if ``U_(k)`` rounds to 1; :meth:`nonparametric` reads
        it as ``n - 1`` (``numpy.take`` with ``mode="clip"``).
        """
        indices = np.empty(CHUNK, dtype=np.intp)
        for positions in self.window_positions(generator):
            out = indices[: positions.size]
            out[...] = positions  # truncation is floor: the values are non-negative
            yield out

    def sorted_window_indices(self, generator: np.random.Generator) -> np.ndarray:
        """:meth:`window_indices` of one resample in rank order (for tests and plots)."""
        window = np.concatenate([natural_order(c) for c in self.window_indices(generator)])
        return np.minimum(window, self.n - 1)

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        sums = np.empty((size, 3))
        values = np.empty(CHUNK)
        for r in range(size):
            su = suu = suv = 0.0
            for idx, v in zip(self.window_indices(generator), self.v_chunks, strict=True):
                u = values[: idx.size]
                np.take(self.log_x, idx, out=u, mode="clip")
                su += float(u.sum())
                suu += _dot(u, u)
                suv += _dot(u, v)
            sums[r] = su, suu, suv
        return self._lines(sums)

    def parametric(self, generator: np.random.Generator, size: int, shape: float, scale: float) -> np.ndarray:
        """``(size, 2)`` fits of samples of ``Weibull(shape, scale)``: the window order
        statistics are the quantile function at the same sorted uniforms,
        ``ln x_(k) = ln scale + ln(-ln(1 - U_(k))) / shape``."""
        sums = np.empty((size, 3))
        offset = math.log(scale) - self.shift
        below_one = np.nextafter(float(self.n), 0.0)
        for r in range(size):
            su = suu = suv = 0.0
            for u, v in zip(self.window_positions(generator), self.v_chunks, strict=True):
                np.minimum(u, below_one, out=u)
                u *= -1.0 / self.n
                np.log1p(u, out=u)
                np.negative(u, out=u)
                np.log(u, out=u)
                u *= 1.0 / shape
                u += offset
                su += float(u.sum())
                suu += _dot(u, u)
                suv += _dot(u, v)
            sums[r] = su, suu, suv
        return self._lines(sums)

    def _lines(self, sums: np.ndarray) -> np.ndarray:
        """Lines from raw ``(sum u, sum u^2, sum u v)`` per resample (``u`` shifted)."""
        size = sums.shape[0]
        count = self.count
        mean_u = sums[:, 0] / count
        suu_c = sums[:, 1] - count * mean_u * mean_u
        suv_c = sums[:, 2] - count * mean_u * self.mean_v
        return line_from_centred_sums(
            mean_u + self.shift,
            np.full(size, self.mean_v),
            suu_c,
            np.full(size, self.svv),
            suv_c,
            self.direction,
        )


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``a + t (b - a)`` computed as :func:`numpy.quantile` does (from ``b`` when t >= 0.5)."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)


class QuantilePlan:
    """Quantile-matching fast path: per resample, only the order statistics that the
    sample quantiles interpolate, from gamma-distributed gaps of exponential spacings."""

    #: Faster than index resampling at every sample size.
    min_n = 0

    def __init__(
        self,
        sorted_data: np.ndarray,
        *,
        probabilities: tuple[float, ...] = (0.1, 0.9),
        method: str = "linear",
    ) -> None:
        n = sorted_data.size
        self.n = n
        self.data = sorted_data.astype(np.float64, copy=False)
        self.probabilities = tuple(float(p) for p in probabilities)
        # virtual indices of numpy.quantile, exact on arange data
        position = np.quantile(np.arange(n, dtype=np.float64), self.probabilities,
                               method=method)  # type: ignore[call-overload]
        previous = np.floor(position).astype(np.intp)
        self.fraction = position - previous
        following = np.minimum(previous + 1, n - 1)
        needed = np.unique(np.concatenate([previous, following]))
        #: 0-based sorted positions of the order statistics drawn per resample
        self.positions = needed
        self.previous_column = np.searchsorted(needed, previous)
        self.following_column = np.searchsorted(needed, following)
        ranks = needed + 1
        self.gaps = np.diff(np.concatenate([[0], ranks, [n + 1]])).astype(np.float64)

    def order_indices(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, q)`` 0-based sorted-data indices of the needed order statistics."""
        return np.minimum((self.uniforms(generator, size) * self.n).astype(np.intp), self.n - 1)

    def uniforms(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, q)`` sorted uniforms ``U_(r)`` at the needed ranks, from gamma gaps."""
        spacings = generator.standard_gamma(self.gaps, size=(size, self.gaps.size))
        partial = np.cumsum(spacings, axis=1)
        return partial[:, :-1] / partial[:, -1:]

    def parametric(self, generator: np.random.Generator, size: int, shape: float, scale: float) -> np.ndarray:
        """Fits of samples of ``Weibull(shape, scale)``: the needed order statistics are the
        quantile function at the sorted uniforms."""
        values = scale * (-np.log1p(-self.uniforms(generator, size))) ** (1.0 / shape)
        quantiles = _lerp(values[:, self.previous_column], values[:, self.following_column], self.fraction)
        return line_through_quantile_rows(self.probabilities, quantiles)

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        values = self.data[self.order_indices(generator, size)]
        quantiles = _lerp(values[:, self.previous_column], values[:, self.following_column], self.fraction)
        return line_through_quantile_rows(self.probabilities, quantiles)


class HistogramPlan:
    """Histogram fast path: a resample's bin counts are ``Multinomial(n, frequencies)``."""

    #: A multinomial draw over ~1025 cells costs about what binning 500 values does.
    min_n = 500

    def __init__(
        self,
        sorted_data: np.ndarray,
        *,
        edges: Any = None,
        trim: tuple[float, float] = (0.1, 0.9),
        direction: str = "y_on_x",
        outside: str = "error",
    ) -> None:
        self.edges = paper_edges() if edges is None else check_edges(edges)
        histogram = log10_histogram(sorted_data, edges=self.edges)
        self.n = sorted_data.size
        cells = np.append(histogram.counts, histogram.n_below + histogram.n_above).astype(np.float64)
        self.frequencies = cells / cells.sum()
        self.trim = (float(trim[0]), float(trim[1]))
        self.direction = direction

    def parametric(self, generator: np.random.Generator, size: int, shape: float, scale: float) -> np.ndarray:
        """Fits of samples of ``Weibull(shape, scale)`` binned: the bin counts are
        ``Multinomial(n, bin probabilities)``, with the mass below and above the edges left
        out of the total as :func:`weibull_stats.batched.histogram_rows` leaves it."""
        cdf = -np.expm1(-np.exp(shape * (np.log(10.0) * self.edges - math.log(scale))))
        cells = np.concatenate([np.diff(cdf), [cdf[0] + (1.0 - cdf[-1])]])
        counts = generator.multinomial(self.n, cells / cells.sum(), size=size)[:, :-1]
        return histogram_count_rows(counts, self.edges, trim=self.trim, direction=self.direction)

    def counts(self, generator: np.random.Generator, size: int) -> np.ndarray:
        """``(size, bins)`` resample counts (values outside the edges left out)."""
        return generator.multinomial(self.n, self.frequencies, size=size)[:, :-1]

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        return histogram_count_rows(self.counts(generator, size), self.edges, trim=self.trim,
                                    direction=self.direction)

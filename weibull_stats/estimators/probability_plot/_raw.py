"""Raw rows: the window's order statistics without a full sort, and their regression sums.

Only the ranks ``lo..hi`` of the trim window enter the fit, so a row is never fully
sorted. Three single-``kth`` selections (numpy's vectorised introselect; several ``kth`` at
once fall back to a much slower path) cut the row at its middle window rank and then cut
off each tail; only the two halves of the window are sorted. For rows of at least
:data:`PARALLEL_MIN` values the two halves are selected and sorted on two threads, and the
window's chunk sums are split between two threads the same way (numpy releases the GIL in
sorting, and the compiled sums run without it). Sums are taken per fixed chunk of ranks and the chunk partial
sums are added pairwise, so neither threading nor how rows are grouped changes a bit of a
row's result.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np

from weibull_stats.core.kernels import ordered_log_sums
from weibull_stats.estimators._streaming import CHUNK, RegressionSums, chunks
from weibull_stats.estimators.probability_plot._lines import PLOTTING_POSITIONS
from weibull_stats.weibull.law import plot_ordinates, rank_ordinates

#: Rows of at least this many values are selected, sorted and summed on two threads.
PARALLEL_MIN = 1 << 20
#: Elements of one row group (its working copy and chunk buffers stay this small).
ROW_GROUP = 1 << 20

#: ``(shift, (su, sv, suu, svv, suv))`` per row: the raw sums with ``u = ln x - shift``.
RowSums = tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


def both(first: Callable[[], None], second: Callable[[], None], threads: bool) -> None:
    """Run ``first`` and ``second``, on two threads when ``threads``."""
    if not threads:
        first()
        second()
        return
    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(first), pool.submit(second)]:
            future.result()


def order_window(block: np.ndarray, lo: int, hi: int, *, threads: bool = False) -> None:
    """In place: columns ``lo-1 .. hi-1`` of every row of ``block`` become its order
    statistics of ranks ``lo..hi``, ascending (the other columns are left in any order).

    The row is cut at the middle window rank ``(lo + hi) // 2`` (which then holds its
    order statistic), each side is cut at its end of the window, and the two halves of
    the window are sorted: about two passes of selection and the sort of the window,
    instead of the sort of the whole row.

    Examples
    --------
    >>> x = np.random.default_rng(1).random((2, 50))
    >>> y = x.copy()
    >>> order_window(y, 6, 45)
    >>> bool(np.array_equal(y[:, 5:45], np.sort(x, axis=1)[:, 5:45]))
    True
    """
    m = block.shape[1]
    mid = (lo + hi) // 2 - 1
    block.partition(mid, axis=1)
    left = block[:, :mid]
    right = block[:, mid + 1 :]
    top = hi - mid - 1  # window columns at the start of `right`

    def left_half() -> None:
        if lo - 1 < mid:
            if lo > 1:
                left.partition(lo - 1, axis=1)
            left[:, lo - 1 :].sort(axis=1)

    def right_half() -> None:
        if top > 0:
            if hi < m:
                right.partition(top - 1, axis=1)
            right[:, :top].sort(axis=1)

    both(left_half, right_half, threads)


_LAST_WINDOW: list[tuple[int, int, float, np.ndarray]] = []


def last_window_ordinates(n: int, a: float) -> tuple[int, np.ndarray] | None:
    """``(first, v)``: the plot ordinates :func:`window_ordinates` holds (the last window computed,
    by the last probability-plot fit of a raw sample) if they are of ``n`` values with plotting
    position ``a``, ``first`` their 0-based first rank; else None. Others who need the plot
    ordinates of that sample (the effect sizes of its goodness of fit) compute only the rest."""
    if not _LAST_WINDOW:
        return None
    size, lo, position, v = _LAST_WINDOW[0]
    return (lo - 1, v) if size == n and position == a else None


def hazen_block_ordinates(n: int, window: tuple[int, np.ndarray] | None = None
                          ) -> Callable[[int, int], np.ndarray]:
    """A function of ``(start, stop)`` giving the plot ordinates :func:`plot_ordinates` of the
    Hazen positions of the 0-based ranks ``start .. stop - 1`` of ``n`` values: those of
    ``window`` (``(first, v)``, :func:`last_window_ordinates`) where it has them, the others
    computed (what :func:`weibull_stats.core.fused.edf_plot_sums` asks for, block by block).

    Examples
    --------
    >>> block = hazen_block_ordinates(4)
    >>> bool(np.allclose(block(1, 3), plot_ordinates(np.array([0.375, 0.625])), rtol=1e-15, atol=0))
    True
    """
    first, v = window if window is not None else (0, np.empty(0))

    def block(start: int, stop: int) -> np.ndarray:
        lo, hi = max(start, first), min(stop, first + v.size)
        if lo == start and hi == stop:
            return v[start - first : stop - first]
        y = plot_ordinates((np.arange(start, stop, dtype=np.float64) + 0.5) / n)
        if lo < hi:
            y[lo - start : hi - start] = v[lo - first : hi - first]
        return y

    return block


@lru_cache(maxsize=1)
def window_ordinates(n: int, lo: int, hi: int, a: float) -> tuple[np.ndarray, np.ndarray]:
    """The plot ordinates ``ln(-ln(1 - p_i))`` of ranks ``lo..hi`` of ``n`` (read-only), and their
    sums and sums of squares per chunk of :data:`CHUNK` ranks (``(2, chunks)``).

    The same for every sample of ``n`` values with that window and plotting position, so the
    last one is kept (8 bytes a window rank): a bootstrap's resamples and refits of one size
    compute them once.
    """
    negative_denom = -(n + 1 - 2 * a)
    v = np.empty(hi - lo + 1)
    ranks = np.arange(min(CHUNK, v.size), dtype=np.float64)
    sums = np.empty((2, -(-v.size // CHUNK)))
    for c, (start, stop) in enumerate(chunks(lo - 1, hi, CHUNK)):
        part = v[start - lo + 1 : stop - lo + 1]
        rank_ordinates(ranks[: stop - start], float(start + 1), a, negative_denom, part)
        sums[0, c] = part.sum()
        sums[1, c] = np.multiply(part, part).sum()
    v.flags.writeable = False
    _LAST_WINDOW[:] = [(n, lo, a, v)]
    return v, sums


def ordered_window_sums(block: np.ndarray, lo: int, hi: int, a: float, *, threads: bool = False) -> RowSums:
    """Raw regression sums of ``(ln x_(i) - shift, ln(-ln(1 - p_i)))`` over ranks ``lo..hi``
    of every row of ``block``, whose window columns are in order (see :func:`order_window`).

    ``shift`` is the log of each row's middle window order statistic ``x_((lo+hi)//2)``.
    Sums are taken chunk by chunk (:data:`~weibull_stats.estimators._streaming.CHUNK` ranks
    from rank ``lo``) in float64 by the compiled kernel
    (:func:`weibull_stats.core.kernels.ordered_log_sums`, one fused pass), and the chunk sums
    are added pairwise per row.
    """
    rows, n = block.shape
    mid = (lo + hi) // 2 - 1
    shift = np.log(block[:, mid], dtype=np.float64)
    v, rank_sums = window_ordinates(n, lo, hi, a)
    count = rank_sums.shape[1]
    per_row = np.empty((3, rows, count))  # su, suu, suv of every chunk
    data = block if block.dtype in (np.float32, np.float64) else block.astype(np.float64)

    def work(c0: int, c1: int) -> None:
        ordered_log_sums(data, lo - 1, v, shift, CHUNK, (c0, c1), per_row)

    half = count // 2
    if threads and half:
        both(lambda: work(0, half), lambda: work(half, count), True)
    else:
        work(0, count)
    sv, svv = rank_sums.sum(axis=1)
    su, suu, suv = per_row.sum(axis=2)
    return shift, (su, np.full(rows, sv), suu, np.full(rows, svv), suv)


def raw_window_sums(
    values: np.ndarray, lo: int, hi: int, a: float, *, ordered: bool = False, owned: bool = False
) -> RowSums:
    """:func:`ordered_window_sums` of every row of a ``(b, m)`` array, by row groups.

    Rows that are not ``ordered`` have their window put in order by :func:`order_window`
    on a copy of the row group, or in ``values`` itself when ``owned``.
    """
    b, m = values.shape
    step = max(1, ROW_GROUP // max(m, 1))
    threads = m >= PARALLEL_MIN
    shift = np.empty(b)
    sums = tuple(np.empty(b) for _ in range(5))
    for r0, r1 in chunks(0, b, step):
        block = values[r0:r1]
        if not ordered:
            block = block if owned else block.copy()
            order_window(block, lo, hi, threads=threads)
        group_shift, group_sums = ordered_window_sums(block, lo, hi, a, threads=threads)
        shift[r0:r1] = group_shift
        for total, part in zip(sums, group_sums, strict=True):
            total[r0:r1] = part
    su, sv, suu, svv, suv = sums
    return shift, (su, sv, suu, svv, suv)


def window_sums(
    sorted_data: np.ndarray, lo: int, hi: int, n: int, plotting_position: str
) -> RegressionSums:
    """Regression sums of ``(ln x_(i), ln(-ln(1 - p_i)))`` for ranks ``lo..hi``, one chunked pass.

    ``sorted_data`` is the whole sorted sample (any float dtype, ``n`` values); logarithms
    and sums are taken in float64, chunk by chunk, with ``ln x`` shifted by the log of the
    window's middle order statistic so that the centred sums keep full precision (the
    kernel's arithmetic on one ordered row).

    Examples
    --------
    >>> from weibull_stats.estimators.probability_plot import line_from_sums, trim_window
    >>> x = np.sort(np.random.default_rng(0).weibull(2.0, 1000))  # noisy sample: shape near 2
    >>> lo, hi = trim_window(1000, (0.1, 0.9))
    >>> sums = window_sums(x, lo, hi, 1000, "hazen")
    >>> sums.count, round(line_from_sums(sums, "y_on_x")[0], 1)
    (800, 2.1)
    """
    data = np.asarray(sorted_data).reshape(1, n)
    shift, (su, sv, suu, svv, suv) = ordered_window_sums(data, lo, hi, PLOTTING_POSITIONS[plotting_position])
    return RegressionSums.from_raw(
        hi - lo + 1, float(shift[0]), float(su[0]), float(sv[0]), float(suu[0]), float(svv[0]), float(suv[0])
    )

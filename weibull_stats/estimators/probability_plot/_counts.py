"""Count rows: the probability plot of a sample given as distinct values and counts.

Tied values are still separate order statistics with their own ranks and plotting
positions; only ``ln x`` is taken once per distinct value. A run of ``c`` equal values
that meets the window in ranks ``t0 + 1 .. t1`` (window offsets) contributes
``(t1 - t0) ln x`` to ``sum u``, ``(t1 - t0) (ln x)^2`` to ``sum u^2`` and ``ln x (Q[t1] -
Q[t0])`` to ``sum u v``, where ``Q[t]`` is the sum of the plot ordinates ``v = ln(-ln(1 -
p))`` of the first ``t`` window ranks. ``sum v``, ``sum v^2`` and ``Q`` depend only on
the sample size and the window, not on the row. Windows of at least
:data:`~weibull_stats.weibull.rank_sums.CLOSED_FORM_MIN` ranks take
``Q`` at each run boundary in O(1) from the Euler–Maclaurin closed form of
:mod:`~weibull_stats.weibull.rank_sums`, so each row costs
O(distinct values) whatever ``n``; shorter windows are summed rank by rank as follows.

``Q`` is accurate to a few units in the last place of its size: within each chunk of
:data:`~weibull_stats.estimators._streaming.CHUNK` ranks a cumulative sum, on top of the
chunk's base, the sum of the earlier chunks' pairwise sums kept with Neumaier's
compensated summation. A batch with one row of a size gathers ``Q`` at the row's run
boundaries while streaming through the chunks (no table); several rows of a size gather
from one table of the window (8 bytes per window rank). Both hold the same numbers, bit
for bit, so a one-sample fit is a row of a batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from weibull_stats.estimators._streaming import CHUNK, RegressionSums, chunks
from weibull_stats.estimators.probability_plot._lines import PLOTTING_POSITIONS
from weibull_stats.estimators.probability_plot._raw import PARALLEL_MIN, ROW_GROUP, RowSums, both
from weibull_stats.weibull.law import rank_ordinates
from weibull_stats.weibull.rank_sums import CLOSED_FORM_MIN, window_prefix

#: ``visit(chunk, offset, local)``: the cumulative sums ``local`` of one chunk's ordinates
#: (``Q[offset + 1 + j] = bases[chunk] + local[j]``); chunks may be visited on two threads.
Visitor = Callable[[int, int, np.ndarray], None]


def prefix_pass(n: int, lo: int, hi: int, a: float, visit: Visitor) -> tuple[np.ndarray, float, float]:
    """Stream the chunk-local prefix sums of the plot ordinates over the window ranks
    ``lo..hi`` of a sample of ``n`` into ``visit``; return ``(bases, sum v, sum v^2)``.

    ``bases[c]`` is the sum of the ordinates before chunk ``c`` (Neumaier's compensated sum
    of the chunks' pairwise sums, in chunk order), so ``Q`` at window offset ``t`` in chunk
    ``c`` is ``bases[c] + local[t - offset - 1]``. Windows of at least
    :data:`~weibull_stats.estimators.probability_plot._raw.PARALLEL_MIN` ranks are visited
    on two threads; the numbers do not depend on it. The chunk sums are those of
    :func:`~weibull_stats.estimators.probability_plot._raw.ordered_window_sums` (same
    chunks, same arithmetic), added pairwise.

    Examples
    --------
    >>> table = np.zeros(9)
    >>> def keep(chunk, offset, local):
    ...     table[offset + 1 : offset + 1 + local.size] = local
    >>> bases, sv, svv = prefix_pass(10, 2, 9, 0.5, keep)
    >>> bool(np.isclose(table[-1] + bases[-1], sv, rtol=1e-15, atol=0))
    True
    """
    size = hi - lo + 1
    negative_denom = -(n + 1 - 2 * a)
    width = min(size, CHUNK)
    offsets = [s for s, _ in chunks(0, size, CHUNK)]
    count = len(offsets)
    per_rank = np.empty((2, count))

    def work(c0: int, c1: int) -> None:
        ranks = np.arange(width, dtype=np.float64)
        v = np.empty(width)
        w = np.empty(width)
        local = np.empty(width)
        for c in range(c0, c1):
            offset = offsets[c]
            k = min(CHUNK, size - offset)
            vv = v[:k]
            rank_ordinates(ranks[:k], float(lo + offset), a, negative_denom, vv)
            per_rank[0, c] = vv.sum()
            per_rank[1, c] = np.multiply(vv, vv, out=w[:k]).sum()
            np.cumsum(vv, out=local[:k])
            visit(c, offset, local[:k])

    half = count // 2
    if size >= PARALLEL_MIN and half:
        both(lambda: work(0, half), lambda: work(half, count), True)
    else:
        work(0, count)
    bases = np.empty(count)
    total = compensation = 0.0
    for c, chunk_sum in enumerate(per_rank[0].tolist()):
        bases[c] = total + compensation
        updated = total + chunk_sum  # Neumaier's compensated running sum
        if abs(total) >= abs(chunk_sum):
            compensation += (total - updated) + chunk_sum
        else:
            compensation += (chunk_sum - updated) + total
        total = updated
    sv, svv = per_rank.sum(axis=1)
    return bases, float(sv), float(svv)


def prefix_table(n: int, lo: int, hi: int, a: float) -> tuple[np.ndarray, float, float]:
    """``(Q[0..W], sum v, sum v^2)`` for the ``W = hi - lo + 1`` window ranks."""
    table = np.empty(hi - lo + 2)
    table[0] = 0.0

    def keep(chunk: int, offset: int, local: np.ndarray) -> None:
        table[offset + 1 : offset + 1 + local.size] = local

    bases, sv, svv = prefix_pass(n, lo, hi, a, keep)
    for offset, base in zip(range(0, hi - lo + 1, CHUNK), bases.tolist(), strict=True):
        table[offset + 1 : offset + 1 + CHUNK] += base
    return table, sv, svv


def prefix_at(n: int, lo: int, hi: int, a: float, positions: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(Q[positions], sum v, sum v^2)`` for ascending ``positions`` in ``0..W``, streamed
    (no table); bitwise the entries of :func:`prefix_table`."""
    out = np.zeros(positions.size)
    bounds: dict[int, tuple[int, int]] = {}

    def gather(chunk: int, offset: int, local: np.ndarray) -> None:
        first, last = np.searchsorted(positions, [offset, offset + local.size], side="right").tolist()
        bounds[chunk] = first, last
        out[first:last] = local[positions[first:last] - offset - 1]

    bases, sv, svv = prefix_pass(n, lo, hi, a, gather)
    for chunk, (first, last) in bounds.items():
        out[first:last] += bases[chunk]
    return out, sv, svv


def count_window_sums(grid: np.ndarray, counts: np.ndarray, lo: int, hi: int, a: float) -> RowSums:
    """Raw regression sums (as :func:`~weibull_stats.estimators.probability_plot._raw.
    raw_window_sums`) of count rows over ``grid`` that all hold ``n`` values, ranks ``lo..hi``.
    """
    b, d = counts.shape
    n = int(counts[0].sum())
    size = hi - lo + 1
    mid_rank = (lo + hi) // 2
    log_grid = np.log(np.asarray(grid, dtype=np.float64))
    table = None
    sv = svv = 0.0
    closed_form = size >= CLOSED_FORM_MIN
    if b > 1 and not closed_form:
        table, sv, svv = prefix_table(n, lo, hi, a)
    shift = np.empty(b)
    su, suu, suv = np.empty(b), np.empty(b), np.empty(b)
    step = max(1, ROW_GROUP // max(d, 1))
    for r0, r1 in chunks(0, b, step):
        ends = np.cumsum(counts[r0:r1], axis=1)  # 1-based rank of each value's last copy
        positions = np.clip(ends - (lo - 1), 0, size)  # window ranks up to each value's end
        multiplicity = np.diff(positions, axis=1, prepend=0).astype(np.float64)
        if closed_form:
            q, sv, svv = window_prefix(n, lo, hi, a, positions)
        elif table is None:
            q, sv, svv = prefix_at(n, lo, hi, a, positions[0])
            q = q[None, :]
        else:
            q = table[positions]
        run_v = np.diff(q, axis=1, prepend=0.0)
        row_shift = log_grid[(ends < mid_rank).sum(axis=1)]
        log_values = log_grid[None, :] - row_shift[:, None]
        weighted = multiplicity * log_values
        shift[r0:r1] = row_shift
        su[r0:r1] = weighted.sum(axis=1)
        suu[r0:r1] = (weighted * log_values).sum(axis=1)
        suv[r0:r1] = (log_values * run_v).sum(axis=1)
    return shift, (su, np.full(b, sv), suu, np.full(b, svv), suv)


def distinct_window_sums(
    values: np.ndarray, counts: np.ndarray, lo: int, hi: int, n: int, plotting_position: str
) -> RegressionSums:
    """The window sums of a sorted sample given as distinct ``values`` and their ``counts``
    (the kernel's arithmetic on one count row).

    Tied values are still separate order statistics with their own ranks and plotting
    positions; only ``ln x`` is taken once per distinct value. The result equals
    :func:`~weibull_stats.estimators.probability_plot.window_sums` on the expanded sample
    up to rounding.

    Examples
    --------
    >>> from weibull_stats.estimators.probability_plot import window_sums
    >>> values, counts = np.array([1.0, 2.0, 4.0]), np.array([3, 4, 3])
    >>> full = np.repeat(values, counts)
    >>> a = distinct_window_sums(values, counts, 2, 9, 10, "hazen")
    >>> b = window_sums(full, 2, 9, 10, "hazen")
    >>> bool(np.isclose(a.suv, b.suv, rtol=1e-13, atol=0)), a.count
    (True, 8)
    """
    row = np.asarray(counts, dtype=np.int64).reshape(1, -1)
    a = PLOTTING_POSITIONS[plotting_position]
    shift, (su, sv, suu, svv, suv) = count_window_sums(values, row, lo, hi, a)
    return RegressionSums.from_raw(
        hi - lo + 1, float(shift[0]), float(su[0]), float(sv[0]), float(suu[0]), float(svv[0]), float(suv[0])
    )

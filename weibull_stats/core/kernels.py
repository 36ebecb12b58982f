"""Compiled CPU kernels (numba), all in one place, each compiled on its first use.

numba is the package's one compiled dependency (a wheel, no build step). Every kernel here
replaces a numpy pass that the tests keep as its oracle (``tests/test_kernels.py``): counts
and bins bit for bit, sums to rounding. The torch path (device tensors) does not use them.

* :func:`count_patterns16`: counts of the 2^16 patterns of a uint16 array, in one pass with
  no widening copy (``numpy.bincount`` widens to ``intp`` first); the non-finite, negative
  and zero counts are read off the pattern counts.
* :func:`float_census` and :func:`compact_magnitudes`: the bad-input counts of a float array
  (non-finite, NaN, negative, zero) in one pass, and ``|x|`` with the omitted values left out
  in a second, where numpy needs a mask per test and a copy per step.
* :class:`PatternBins` and :func:`bin_patterns32`: the bin of a float32 value over log10
  edges, as ``numpy.histogram`` of numpy's own float32 ``log10`` bins it, without a logarithm
  per value. The bin is a monotone function of the bit pattern of a positive float32, so the
  first pattern of every bin (a threshold) is found once by bisection with numpy's float32
  ``log10`` on this machine; a value is binned by a table on its 15 high magnitude bits (the
  column of the prefix's first pattern) and, where a threshold falls inside the prefix, one
  branch-free comparison with it.
* :func:`ordered_log_sums`: the probability plot's regression sums over the ordered window,
  one fused pass (logarithm, shift, three products) per chunk of ranks.
* the raw-data bootstrap's kernel (multinomial resample counts by a binary splitting tree, and
  the probability plot's window sums read off them) lives in :mod:`weibull_stats.core.resample_tree`;
  :func:`warm_up` compiles it with these.

The kernels are plain Python functions, compiled lazily, each on its first call in a process,
by :mod:`weibull_stats.core.jit` (which imports numba only then and says where the compiled
code is cached).
"""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.core import resample_tree
from weibull_stats.core.jit import call

#: 64-bit reads (four patterns each) of :func:`count_patterns16` between flushes of its 32-bit counters.
COUNT_BLOCK = 1 << 30
#: Values rounded to float32 per pass of :func:`bin_patterns32` on float64 input.
ROUNDING_CHUNK = 1 << 16
#: ln 2 in float64, and the mantissa cells of the float32 logarithm (:func:`ordered_log_sums`).
LN2 = math.log(2.0)
SUBNORMAL = 2.0**-149
_CELLS = (np.arange(1024) + 0.5) / 1024.0 + 1.0
#: ``ln`` of each cell's centre and ``1 / (2^23 centre)``: ``t`` from the integer mantissa offset.
LOG_HEAD = np.log(_CELLS)
LOG_INVERSE = 1.0 / (_CELLS * float(1 << 23))
# ---------------------------------------------------------------------- the kernels (plain Python)
def _count16(bits: np.ndarray, body: np.ndarray, head: int, counts: np.ndarray,
             block: int) -> None:  # pragma: no cover - compiled
    # the aligned middle read as 64-bit words, four patterns each, into four tables of 32-bit
    # counters (repeated patterns do not wait on one another's increment), added into the int64
    # counts every `block` words, before a counter could overflow; the ends one pattern at a time
    tables = np.zeros((4, 1 << 16), dtype=np.uint32)
    for start in range(0, body.size, block):
        for i in range(start, min(start + block, body.size)):
            q = body[i]
            tables[0, q & 0xFFFF] += 1
            tables[1, (q >> 16) & 0xFFFF] += 1
            tables[2, (q >> 32) & 0xFFFF] += 1
            tables[3, q >> 48] += 1
        for p in range(1 << 16):
            counts[p] += (np.int64(tables[0, p]) + np.int64(tables[1, p])
                          + np.int64(tables[2, p]) + np.int64(tables[3, p]))
            tables[0, p] = tables[1, p] = tables[2, p] = tables[3, p] = 0
    for i in range(head):
        counts[bits[i]] += 1
    for i in range(head + 4 * body.size, bits.size):
        counts[bits[i]] += 1


def _census(values: np.ndarray) -> tuple[int, int, int, int]:  # pragma: no cover - compiled
    # branch-free counts (a loop the compiler can vectorise)
    nonfinite = nan = negative = zeros = 0
    for i in range(values.size):
        v = values[i]
        finite = abs(v) < np.inf
        nonfinite += 0 if finite else 1
        nan += 1 if v != v else 0
        zeros += 1 if v == 0 else 0
        negative += 1 if finite and v < 0 else 0
    return nonfinite, nan, negative, zeros


def _compact(values: np.ndarray, out: np.ndarray, drop_nonfinite: bool, take_abs: bool,
             drop_zeros: bool) -> int:  # pragma: no cover - compiled
    # branch-free: every value is written at the next place, which only a kept value takes
    # (`out` holds one place more than the kept values)
    k = 0
    for i in range(values.size):
        v = values[i]
        out[k] = abs(v) if take_abs else v
        k += 1 if (not drop_nonfinite or math.isfinite(v)) and (not drop_zeros or v != 0) else 0
        if k == out.size:  # more kept values than the caller counted: stop before writing past `out`
            return k
    return k


def _bin32(words: np.ndarray, first: np.ndarray, limit: np.ndarray,
           counts: np.ndarray) -> None:  # pragma: no cover - compiled
    # at most one threshold per prefix: the prefix's first column, plus one past its threshold
    for i in range(words.size):
        w = words[i] & np.uint32(0x7FFFFFFF)
        prefix = w >> np.uint32(16)
        counts[first[prefix] + np.int32(w >= limit[prefix])] += 1


def _bin32_search(words: np.ndarray, first: np.ndarray, last: np.ndarray, thresholds: np.ndarray,
                  counts: np.ndarray) -> None:  # pragma: no cover - compiled
    # edges closer than a prefix's span: step over every threshold inside the prefix
    for i in range(words.size):
        w = words[i] & np.uint32(0x7FFFFFFF)
        prefix = w >> np.uint32(16)
        c = first[prefix]
        while c < last[prefix] and w >= thresholds[c]:
            c += 1
        counts[c] += 1


def _log_sums(block: np.ndarray, first: int, v: np.ndarray, shifts: np.ndarray, chunk: int, c0: int,
              c1: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    for r in range(block.shape[0]):
        shift = shifts[r]
        for c in range(c0, c1):
            su = suu = suv = 0.0
            for i in range(c * chunk, min((c + 1) * chunk, v.size)):
                u = math.log(block[r, first + i]) - shift
                su += u
                suu += u * u
                suv += u * v[i]
            out[0, r, c] = su
            out[1, r, c] = suu
            out[2, r, c] = suv


def _log_sums32(words: np.ndarray, first: int, v: np.ndarray, shifts: np.ndarray, chunk: int, c0: int,
                c1: int, head: np.ndarray, inverse: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    # ln x of a positive float32 x = 2^e (1 + f): e ln 2 + ln(m_h) + ln(1 + t), m_h the centre of
    # the mantissa's 1/1024 cell (table), t = (m - m_h) / m_h with |t| < 2^-11 and ln(1 + t) by
    # its series to t^5 (the next term is below 3e-21); a subnormal by math.log
    for r in range(words.shape[0]):
        shift = shifts[r]
        for c in range(c0, c1):
            su = suu = suv = 0.0
            for i in range(c * chunk, min((c + 1) * chunk, v.size)):
                w = np.int64(words[r, first + i])
                e = w >> 23
                if e == 0:  # subnormal: mantissa * 2^-149, exact in float64
                    u = math.log(np.float64(w) * SUBNORMAL) - shift
                else:
                    mantissa = w & 0x7FFFFF
                    h = mantissa >> 13
                    t = np.float64(mantissa - (h << 13) - 4096) * inverse[h]
                    series = t * (1.0 - t * (0.5 - t * (1.0 / 3.0 - t * (0.25 - t * 0.2))))
                    u = (np.float64(e - 127) * LN2 - shift) + (head[h] + series)
                su += u
                suu += u * u
                suv += u * v[i]
            out[0, r, c] = su
            out[1, r, c] = suu
            out[2, r, c] = suv


# ---------------------------------------------------------------------- the public wrappers
def count_patterns16(bits: np.ndarray, *, block: int = COUNT_BLOCK) -> np.ndarray:
    """int64 counts of each of the 2^16 patterns of a uint16 array, in one pass (four patterns
    per 64-bit read; 32-bit counters added into the int64 counts every ``block`` reads).

    Examples
    --------
    >>> counts = count_patterns16(np.array([3, 3, 65535], dtype=np.uint16))
    >>> counts.size, int(counts[3]), int(counts[65535])
    (65536, 2, 1)
    """
    counts = np.zeros(1 << 16, dtype=np.int64)
    flat = np.ascontiguousarray(bits).reshape(-1)
    if flat.size:
        head = min(flat.size, (-flat.ctypes.data % 8) // 2)  # patterns before the first 8-byte boundary
        words = (flat.size - head) // 4
        body = flat[head : head + 4 * words].view(np.uint64)
        call(_count16, flat, body, head, counts, int(block))
    return counts


def float_census(values: np.ndarray) -> tuple[int, int, int, int]:
    """``(non-finite, NaN, negative, zero)`` counts of a float32 or float64 array, in one pass
    (a NaN is non-finite; a negative count leaves out ``-0.0`` and ``-inf``).

    Examples
    --------
    >>> float_census(np.array([np.nan, -np.inf, -1.0, 0.0, -0.0, 2.0]))
    (2, 1, 1, 2)
    """
    flat = np.ascontiguousarray(values).reshape(-1)
    return tuple(int(c) for c in call(_census, flat))  # type: ignore[return-value]


def compact_magnitudes(values: np.ndarray, *, drop_nonfinite: bool, take_abs: bool, drop_zeros: bool,
                       kept: int) -> np.ndarray:
    """A new array of the ``kept`` values of ``values`` (in order) left after dropping the
    non-finite ones and the zeros as asked, ``|x|`` if ``take_abs``; the same dtype.

    Examples
    --------
    >>> compact_magnitudes(np.array([-1.0, 0.0, np.inf, 2.0]), drop_nonfinite=True, take_abs=True,
    ...                    drop_zeros=True, kept=2).tolist()
    [1.0, 2.0]
    """
    flat = np.ascontiguousarray(values).reshape(-1)
    out = np.empty(kept + 1, dtype=flat.dtype)
    written = call(_compact, flat, out, drop_nonfinite, take_abs, drop_zeros)
    if written != kept:
        raise AssertionError(f"compact_magnitudes kept {written} values, not {kept}")
    return out[:kept]


def ordered_log_sums(block: np.ndarray, first: int, v: np.ndarray, shifts: np.ndarray, chunk: int,
                     chunk_range: tuple[int, int], out: np.ndarray) -> None:
    """The probability plot's window sums, fused: for every row ``r`` of ``block`` (float32 or
    float64) and every chunk ``c`` in ``chunk_range`` of ``chunk`` ranks of the window (the
    columns from ``first``, ``v.size`` of them, in order), ``out[:, r, c]`` becomes the sums of
    ``u``, ``u^2`` and ``u v`` with ``u = ln x - shifts[r]`` in float64 and ``v`` the window's plot
    ordinates. float32 logarithms come from a table and a short series (within 2 ulp).

    Examples
    --------
    >>> out = np.empty((3, 1, 2))
    >>> ordered_log_sums(np.array([[1.0, np.e]]), 0, np.array([2.0, 3.0]), np.zeros(1), 1, (0, 2), out)
    >>> out[:, 0].round(12).tolist()
    [[0.0, 1.0], [0.0, 1.0], [0.0, 3.0]]
    """
    c0, c1 = chunk_range
    v = np.ascontiguousarray(v, dtype=np.float64)
    shifts = np.ascontiguousarray(shifts, dtype=np.float64)
    if block.dtype == np.float32:
        call(_log_sums32, block.view(np.uint32), int(first), v, shifts, int(chunk), int(c0), int(c1),
             LOG_HEAD, LOG_INVERSE, out)
    else:
        call(_log_sums, block.astype(np.float64, copy=False), int(first), v, shifts, int(chunk), int(c0),
             int(c1), out)


class PatternBins:
    """The column of every positive float32 pattern in ``numpy.histogram`` counts of its
    float32 ``log10`` over float64 ``edges`` (column 0 below the first edge, ``bins + 1`` above
    the last; bins ``[e_i, e_{i+1})``, the last closed), as thresholds and a prefix table.

    ``thresholds[j]`` is the first pattern whose column exceeds ``j``: the first pattern whose
    logarithm (numpy's float32 ``log10``, widened) is ``>= edges[j]`` for ``j < bins``, ``> edges[-1]``
    for ``j = bins``. ``first[p]`` and ``last[p]`` are the columns of the first and last pattern of
    the 16-bit prefix ``p``. Built by bisection on the patterns, with the logarithm computed
    by numpy on this machine, so the bins are numpy's own; :meth:`verify` checks the columns of
    every pattern near every threshold against numpy.

    Examples
    --------
    >>> table = PatternBins(np.linspace(-12.0, 2.0, 1025))
    >>> x = np.array([1e-3, 0.02, 5.0], dtype=np.float32)
    >>> bool(np.array_equal(table.columns(x), np.digitize(np.log10(x), table.edges)))
    True
    """

    #: The positive finite patterns and +inf: ``[0, INF]``.
    INF = 0x7F800000

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = np.asarray(edges, dtype=np.float64)
        bins = self.edges.size - 1
        low = np.zeros(bins + 1, dtype=np.int64)
        high = np.full(bins + 1, self.INF + 1, dtype=np.int64)  # the threshold lies in [low, high]
        closed = np.arange(bins + 1) == bins
        while np.any(low < high):
            mid = (low + high) // 2
            beyond = self._beyond(mid, self.edges, closed)
            high = np.where(beyond, mid, high)
            low = np.where(beyond, low, mid + 1)
        self.thresholds = low.astype(np.uint32)  # INF + 1 where even +inf is not beyond
        prefixes = np.arange(1 << 15, dtype=np.int64) << 16
        self.first = np.searchsorted(low, prefixes, side="right").astype(np.int32)
        self.last = np.searchsorted(low, prefixes + 0xFFFF, side="right").astype(np.int32)
        #: at most one threshold inside any prefix: one comparison with ``limit`` bins a value
        self.single = bool(np.all(self.last - self.first <= 1))
        inside = self.thresholds[np.minimum(self.first, bins)]
        self.limit = np.where(self.last > self.first, inside, np.uint32(0xFFFFFFFF)).astype(np.uint32)

    @staticmethod
    def log10(patterns: np.ndarray) -> np.ndarray:
        """numpy's float32 ``log10`` of the patterns, widened to float64 (``-inf`` at zero)."""
        values = np.asarray(patterns, dtype=np.uint32).view(np.float32)
        with np.errstate(divide="ignore"):
            return np.log10(values).astype(np.float64)

    def _beyond(self, patterns: np.ndarray, edges: np.ndarray, closed: np.ndarray) -> np.ndarray:
        """Whether each pattern's column exceeds its threshold's index (see the class)."""
        logs = self.log10(np.minimum(patterns, self.INF))
        return np.where(closed, logs > edges, logs >= edges)

    def columns(self, values: np.ndarray) -> np.ndarray:
        """The column of each float32 value by the thresholds (a slow reference: a binary search)."""
        words = np.asarray(values, dtype=np.float32).view(np.uint32) & np.uint32(0x7FFFFFFF)
        return np.searchsorted(self.thresholds, words, side="right")

    def verify(self, width: int = 256) -> bool:
        """Whether numpy's bins of the ``width`` patterns on either side of every threshold are
        the thresholds' (the logarithm is monotone there)."""
        near = (self.thresholds.astype(np.int64)[:, None] + np.arange(-width, width)[None, :]).reshape(-1)
        near = near[(near >= 0) & (near <= self.INF)]
        logs = self.log10(near)
        bins = self.edges.size - 1
        expected = np.searchsorted(self.edges, logs, side="right")
        expected[logs == self.edges[-1]] = bins
        expected[logs > self.edges[-1]] = bins + 1
        return bool(np.array_equal(self.columns(near.astype(np.uint32).view(np.float32)), expected))


def bin_patterns32(values: np.ndarray, table: PatternBins, counts: np.ndarray) -> None:
    """Add the column counts of float32 ``values`` (or float64 values, rounded to float32 as
    numpy's float32 ``log10`` rounds them) to ``counts`` (int64, ``bins + 2``)."""
    flat = np.ascontiguousarray(values).reshape(-1)
    if flat.dtype == np.float32:
        _bin_words(flat.view(np.uint32), table, counts)
        return
    buffer = np.empty(min(flat.size, ROUNDING_CHUNK), dtype=np.float32)
    for start in range(0, flat.size, ROUNDING_CHUNK):
        part = buffer[: min(ROUNDING_CHUNK, flat.size - start)]
        with np.errstate(over="ignore"):  # beyond float32's range: +inf, above every edge
            np.copyto(part, flat[start : start + part.size], casting="unsafe")
        _bin_words(part.view(np.uint32), table, counts)


def _bin_words(words: np.ndarray, table: PatternBins, counts: np.ndarray) -> None:
    if table.single:
        call(_bin32, words, table.first, table.limit, counts)
    else:
        call(_bin32_search, words, table.first, table.last, table.thresholds, counts)


def warm_up() -> None:
    """Call every kernel once on tiny inputs (compiles them, or loads them from the cache)."""
    resample_tree.warm_up()
    count_patterns16(np.zeros(3, dtype=np.uint16))
    for dtype in (np.float32, np.float64):
        tiny = np.array([-1.0, 0.0, 2.0], dtype=dtype)
        census = float_census(tiny)
        compact_magnitudes(tiny, drop_nonfinite=True, take_abs=True, drop_zeros=True, kept=3 - census[3])
        ordered_log_sums(np.array([[1.0, 2.0]], dtype=dtype), 0, np.array([0.5, 1.0]), np.zeros(1), 2, (0, 1),
                         np.empty((3, 1, 1)))
        for edges in ([-1.0, 0.0], [-1.0, -0.9999, 0.0]):  # one threshold per prefix, and more
            table = PatternBins(np.array(edges))
            bin_patterns32(tiny, table, np.zeros(table.edges.size + 1, dtype=np.int64))


__all__ = [
    "PatternBins",
    "bin_patterns32",
    "compact_magnitudes",
    "count_patterns16",
    "float_census",
    "ordered_log_sums",
    "warm_up",
]

"""Compiled one-pass sums over a positive sample for goodness of fit and the model comparison.

Each pass replaces several numpy passes (and their float64 temporaries) by one compiled loop
(:mod:`weibull_stats.core.jit`); ``tests/test_fused.py`` keeps the numpy formulas as oracles.

* :func:`edf_plot_sums`: over a sorted sample, the Anderson-Darling, Cramér-von Mises and
  Kolmogorov-Smirnov statistics against a fitted Weibull law and the power sums of the full
  Weibull plot (``u = ln x - ln scale`` against ``y = ln(-ln(1 - p_i))``, Hazen positions).
* :func:`power_moments`: the maximum-likelihood Newton iteration's ``sum e``, ``sum e t``,
  ``sum e t^2`` with ``t = ln x - top`` and ``e = exp(shape t)``, per row.
* :func:`log_sums`: ``sum (ln x - shift)``, its square, ``sum f x`` and ``sum (f x)^2``.

Normal float32 values go through the vectorised kernels of :mod:`weibull_stats.core.fused32`
(logarithms and powers from tables and short series, within a few ulp of libm); float64
values, float32 samples with subnormals, and shapes beyond :data:`TABLE_SHAPE_MAX` (the power
tables of :func:`power_moments`) through the plain kernels here (``math.log``, ``math.exp``).
Sums are taken per block and the block sums added pairwise, so the result does not depend
on the two threads that split the blocks of a long sample.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from weibull_stats.core import fused32
from weibull_stats.core.jit import call
from weibull_stats.core.kernels import LN2, LOG_HEAD, LOG_INVERSE

#: Values per block of partial sums.
BLOCK = 1 << 14
#: Samples of at least this many values are summed on two threads (the blocks split in halves).
THREADS_FROM = 1 << 20
#: The table powers hold for ``shape * 2^-11`` up to this (the series of ``exp`` to degree 8).
TABLE_SHAPE_MAX = 64.0
#: Sums of :func:`edf_plot_sums`, in the order of its result.
EDF_PLOT_SUMS = ("ad", "cvm", "ks", "su", "suu", "su3", "su4", "sy", "syy", "suy", "suuy")


# ---------------------------------------------------------------------- the kernels (plain Python)
def _edf_plot(values: np.ndarray, k: float, log_scale: float, y: np.ndarray, plot: bool, start: int,
              stop: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The sums of one block, ranks ``start .. stop - 1``; ``y``: their plot ordinates."""
    n = values.size
    inv_n = 1.0 / n
    ad = cvm = su = suu = su3 = su4 = sy = syy = suy = suuy = 0.0
    ks = -np.inf
    for i in range(start, stop):
        u = math.log(np.float64(values[i])) - log_scale
        h = math.exp(k * u)
        if h < LN2:  # F = 1 - exp(-h), exact for small h; ln F as accurate as F
            f = -math.expm1(-h)
        else:  # 1 - exp(-h) >= 1/2: exact to its last bit, and ln of it within 1 ulp
            f = 1.0 - math.exp(-h)
        j = i + 1.0
        ad += (2.0 * j - 1.0) * math.log(f) - (2.0 * n + 1.0 - 2.0 * j) * h
        d = f - (j - 0.5) * inv_n
        cvm += d * d
        ks = max(ks, j * inv_n - f, f - i * inv_n)
        if plot:
            yi = y[i - start]
            uu = u * u
            su += u
            suu += uu
            su3 += uu * u
            su4 += uu * uu
            sy += yi
            syy += yi * yi
            suy += u * yi
            suuy += uu * yi
    out[0] = ad
    out[1] = cvm
    out[2] = ks
    out[3] = su
    out[4] = suu
    out[5] = su3
    out[6] = su4
    out[7] = sy
    out[8] = syy
    out[9] = suy
    out[10] = suuy


def _moments(values: np.ndarray, rows: np.ndarray, ks: np.ndarray, tops: np.ndarray, block: int, b0: int,
             b1: int, out: np.ndarray) -> None:  # pragma: no cover - compiled
    width = values.shape[1]
    for q in range(rows.size):
        r = rows[q]
        for b in range(b0, b1):
            s0 = s1 = s2 = 0.0
            for i in range(b * block, min((b + 1) * block, width)):
                lt = math.log(np.float64(values[r, i])) - tops[q]
                p = math.exp(ks[q] * lt)
                s0 += p
                pt = p * lt
                s1 += pt
                s2 += pt * lt
            out[0, q, b] = s0
            out[1, q, b] = s1
            out[2, q, b] = s2


def _log_sums(values: np.ndarray, shift: float, factor: float, block: int, b0: int, b1: int,
              out: np.ndarray) -> None:  # pragma: no cover - compiled
    n = values.size
    for b in range(b0, b1):
        s1 = s2 = sx = sxx = 0.0
        for i in range(b * block, min((b + 1) * block, n)):
            x = np.float64(values[i])
            u = math.log(x) - shift
            s1 += u
            s2 += u * u
            fx = factor * x
            sx += fx
            sxx += fx * fx
        out[0, b] = s1
        out[1, b] = s2
        out[2, b] = sx
        out[3, b] = sxx


# ---------------------------------------------------------------------- the public wrappers
_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Two threads kept for the passes (made on first use: starting threads on a busy machine
    can cost more than a pass of a million values)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(2, thread_name_prefix="weibull-stats-fused"))
        return _POOL[0]


def _split(blocks: int, size: int, work: Any) -> None:
    """``work(b0, b1)`` over ``[0, blocks)``: on two threads (halves) from :data:`THREADS_FROM` values."""
    half = blocks // 2
    if size < THREADS_FROM or half == 0:
        work(0, blocks)
        return
    second = _pool().submit(work, half, blocks)
    try:
        work(0, half)
    finally:
        second.result()


def _normal32(values: np.ndarray, low: float | None = None) -> bool:
    """Whether ``values`` are float32 and (their least ``low``) normal: the vectorised path."""
    if values.dtype != np.float32 or values.size == 0:
        return False
    least = float(values.min()) if low is None else low
    return least >= float(np.finfo(np.float32).tiny)


def power_tables(shape: float, log_scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``(pe, pm)``: ``pe[e] = exp(shape ((e - 127) ln 2 - log_scale))`` for the 256 float32
    exponents and ``pm[c] = exp(shape ln m_c)`` for the 1024 mantissa cells' centres ``m_c``, so
    that ``(x / scale)^shape = pe[e] pm[c] exp(shape ln(1 + t))`` for ``x = 2^(e - 127) m_c (1 + t)``."""
    with np.errstate(over="ignore", under="ignore"):
        pe = np.exp(shape * ((np.arange(256) - 127.0) * LN2 - log_scale))
        pm = np.exp(shape * LOG_HEAD)
    return pe, pm


def edf_plot_sums(sorted_x: np.ndarray, shape: float, scale: float, *,
                  ordinates: Callable[[int, int], np.ndarray] | None = None) -> dict[str, float]:
    """One pass over a sorted positive sample (float32 or float64): the EDF statistics against
    ``Weibull(shape, scale)`` and, given ``ordinates``, the Weibull plot's power sums.

    Returns ``ad`` (``A^2``), ``cvm`` (``W^2``), ``ks`` (``D``), and the sums over ``i`` of
    ``u``, ``u^2``, ``u^3``, ``u^4``, ``y``, ``y^2``, ``u y`` and ``u^2 y`` (``su`` ... ``suuy``)
    with ``u = ln x_(i) - ln scale`` and ``y = ln(-ln(1 - p_i))``, ``p_i = (i - 0.5) / n``.
    ``ordinates(start, stop)``: the ``y`` of the 0-based ranks ``start .. stop - 1``, asked block
    by block (the probability plot's,
    :func:`~weibull_stats.estimators.probability_plot.hazen_block_ordinates`); without it the
    plot's sums are 0.

    Examples
    --------
    >>> from weibull_stats.estimators.probability_plot import hazen_block_ordinates
    >>> x = np.sort(np.random.default_rng(0).weibull(1.5, 100))
    >>> sums = edf_plot_sums(x, 1.5, 1.0, ordinates=hazen_block_ordinates(100))
    >>> bool(0 < sums["ks"] < 0.2), bool(abs(sums["su"] - float(np.log(x).sum())) < 1e-10)
    (True, True)
    """
    x = np.ascontiguousarray(sorted_x).reshape(-1)
    n = x.size
    log_scale = math.log(scale)
    plot = ordinates is not None

    def plot_y(start: int, stop: int, blank: np.ndarray) -> np.ndarray:
        if ordinates is None:
            return blank
        return np.ascontiguousarray(ordinates(start, stop), dtype=np.float64)

    if _normal32(x, float(x[0]) if n else None) and 0.0 < shape < math.inf and math.isfinite(log_scale):
        blocks = -(-n // fused32.BLOCK)
        out = np.empty((len(EDF_PLOT_SUMS), blocks))
        words = x.view(np.uint32)
        zeros = np.zeros(fused32.BLOCK)

        def work32(b0: int, b1: int) -> None:
            values = np.empty((4, fused32.BLOCK))
            for b in range(b0, b1):
                start, stop = b * fused32.BLOCK, min(n, (b + 1) * fused32.BLOCK)
                y = plot_y(start, stop, zeros)
                call(fused32.edf_values32, words, float(shape), log_scale, start, stop, values)
                call(fused32.edf_sums32, n, start, stop, values, y, out[:, b])
                out[2, b] = call(fused32.edf_distance32, n, start, stop, values)

        _split(blocks, n, work32)
    else:
        blocks = -(-n // BLOCK)
        out = np.empty((len(EDF_PLOT_SUMS), blocks))
        blank = np.zeros(BLOCK)

        def work(b0: int, b1: int) -> None:
            for b in range(b0, b1):
                start, stop = b * BLOCK, min(n, (b + 1) * BLOCK)
                call(_edf_plot, x, float(shape), log_scale, plot_y(start, stop, blank), plot, start, stop,
                     out[:, b])

        _split(blocks, n, work)
    totals = out.sum(axis=1)
    result = dict(zip(EDF_PLOT_SUMS, (float(s) for s in totals), strict=True))
    result["ad"] = -n - result["ad"] / n
    result["cvm"] = 1.0 / (12 * n) + result["cvm"]
    result["ks"] = float(out[2].max())
    return result


def power_moments(values: np.ndarray, rows: np.ndarray, shapes: np.ndarray, tops: np.ndarray,
                  least: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(sum e, sum e t, sum e t^2)`` of the ``rows`` of ``values`` (2-D, float32 or float64),
    ``t = ln x - tops[q]`` and ``e = exp(shapes[q] t)`` for the ``q``-th row asked for;
    ``least``: every row's least value, when the caller has them (an iteration's passes).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 4.0]])
    >>> s0, s1, s2 = power_moments(x, np.array([0]), np.array([1.0]), np.array([math.log(4.0)]))
    >>> round(float(s0[0]), 12), round(float(s1[0]), 12)  # 1/4 + 1/2 + 1; -ln 4 / 4 - ln 2 / 2
    (1.75, -0.69314718056)
    """
    values = np.ascontiguousarray(values)
    width = values.shape[1]
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    shapes = np.ascontiguousarray(shapes, dtype=np.float64)
    tops = np.ascontiguousarray(tops, dtype=np.float64)
    tabled = [_normal32(values[r], None if least is None else float(least[r])) and 0.0 < k <= TABLE_SHAPE_MAX
              for r, k in zip(rows, shapes, strict=True)]
    block = fused32.BLOCK if any(tabled) else BLOCK
    blocks = -(-width // block)
    out = np.empty((3, rows.size, blocks))
    tables = [power_tables(float(k), float(top)) if table else None
              for k, top, table in zip(shapes, tops, tabled, strict=True)]

    def work(b0: int, b1: int) -> None:
        for q, r in enumerate(rows):
            pair = tables[q]
            if pair is None:
                call(_moments, values, rows[q : q + 1], shapes[q : q + 1], tops[q : q + 1], block, b0, b1,
                     out[:, q : q + 1])
                continue
            words = values[r].view(np.uint32)
            for b in range(b0, b1):
                call(fused32.moments32, words, float(shapes[q]), float(tops[q]), pair[0], pair[1], b * block,
                     min(width, (b + 1) * block), LOG_HEAD, LOG_INVERSE, out[:, q, b])

    _split(blocks, width, work)
    s0, s1, s2 = out.sum(axis=2)
    return s0, s1, s2


def log_sums(values: np.ndarray, shift: float, factor: float = 1.0) -> tuple[float, float, float, float]:
    """``(sum u, sum u^2, sum f x, sum (f x)^2)`` of a positive sample (float32 or float64),
    ``u = ln x - shift`` and ``f = factor`` (a power of two keeps ``f x`` exact).

    Examples
    --------
    >>> [round(s, 12) for s in log_sums(np.array([1.0, np.e]), 0.0, 0.5)]
    [1.0, 1.0, 1.85914091423, 2.097264024733]
    """
    x = np.ascontiguousarray(values).reshape(-1)
    if _normal32(x):
        blocks = -(-x.size // fused32.BLOCK)
        out = np.empty((4, blocks))
        words = x.view(np.uint32)

        def work32(b0: int, b1: int) -> None:
            for b in range(b0, b1):
                call(fused32.log_sums32, x, words, float(shift), float(factor), b * fused32.BLOCK,
                     min(x.size, (b + 1) * fused32.BLOCK), LOG_HEAD, LOG_INVERSE, out[:, b])

        _split(blocks, x.size, work32)
    else:
        blocks = -(-x.size // BLOCK)
        out = np.empty((4, blocks))

        def work(b0: int, b1: int) -> None:
            call(_log_sums, x, float(shift), float(factor), BLOCK, b0, b1, out)

        _split(blocks, x.size, work)
    s1, s2, sx, sxx = (float(s) for s in out.sum(axis=1))
    return s1, s2, sx, sxx


def warm_up() -> None:
    """Compile every kernel here and in :mod:`~weibull_stats.core.fused32` on tiny inputs (or
    load them from the cache)."""
    for dtype in (np.float32, np.float64):
        tiny = np.array([0.5, 1.0, 2.0], dtype=dtype)
        edf_plot_sums(tiny, 1.5, 1.0, ordinates=lambda start, stop: np.zeros(stop - start))
        power_moments(tiny.reshape(1, -1), np.array([0]), np.array([1.5]), np.array([0.7]))
        log_sums(tiny, 0.0)


__all__ = ["BLOCK", "EDF_PLOT_SUMS", "THREADS_FROM", "edf_plot_sums", "log_sums", "power_moments",
           "power_tables", "warm_up"]

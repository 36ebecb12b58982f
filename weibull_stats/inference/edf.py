"""EDF statistics (Anderson-Darling, Cramér-von Mises, Kolmogorov-Smirnov) on raw rows and on
count rows.

With ``z_i = F(x_(i))`` the definitions are those of ``scipy.stats.goodness_of_fit``:

* ``ad``: ``A^2 = -n - sum_i (2i - 1)/n [ln z_i + ln(1 - z_(n+1-i))]``;
* ``cvm``: ``W^2 = 1/(12 n) + sum_i (z_i - (2i - 1)/(2n))^2``;
* ``ks``: ``D = max_i max(i/n - z_i, z_i - (i - 1)/n)``.

On a count row, ties are separate order statistics: a run of ``c`` equal values ``v`` after
``r`` smaller ones holds the ranks ``r + 1 .. r + c``, all with the same ``z = F(v)``, so the
sums over a run have closed forms and a row costs O(distinct values) whatever its size:

* ``ad``: reindexing the second sum, ``A^2 = -n - (1/n) sum_j [(2j - 1) ln z_j + (2n + 1 - 2j)
  ln(1 - z_j)]``; over a run ``sum (2j - 1) = c (2r + c)`` and ``sum (2n + 1 - 2j) = c (2n - 2r
  - c)``;
* ``cvm``: the run's targets ``(2j - 1)/(2n)`` are equally spaced by ``1/n`` with mean ``m =
  (2r + c)/(2n)``, so the run adds ``c (z - m)^2 + c (c^2 - 1)/(12 n^2)`` (no cancellation);
* ``ks``: the run's largest ``j/n - z`` is at ``j = r + c`` and its largest ``z - (j - 1)/n``
  at ``j = r + 1``.

``ln z`` and ``ln(1 - z)`` come from ``t = (x / scale)^shape`` as ``ln(-expm1(-t))`` and
``-t``, exact in both tails.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.sample.batch import Batch, CountRows
from weibull_stats.weibull.law import cdf_of_hazard, cumulative_hazard

STATISTICS: tuple[str, ...] = ("ad", "cvm", "ks")
#: From this sample size the Anderson-Darling statistic of raw rows is accumulated in chunks
#: (the same sum reindexed; below it the numbers are those of the plain formula, bit for bit).
LARGE = 1 << 16
#: Columns per chunk of the chunked Anderson-Darling sum.
CHUNK = 1 << 14
_RAMP = 2.0 * np.arange(CHUNK, dtype=np.float64)


def _t(log_x: np.ndarray, shape: Any, scale: Any) -> np.ndarray:
    k = np.reshape(np.asarray(shape, dtype=np.float64), (-1, 1))
    lam = np.reshape(np.asarray(scale, dtype=np.float64), (-1, 1))
    return cumulative_hazard(log_x, k, np.log(lam))


def edf_statistic(sorted_x: np.ndarray, shape: Any, scale: Any, statistic: str) -> np.ndarray:
    """EDF statistic of each row of ``sorted_x`` against ``Weibull(shape, scale)``.

    ``sorted_x`` is ``(n,)`` or ``(batch, n)``, sorted along the last axis; ``shape`` and
    ``scale`` broadcast against the batch. See the module documentation for the formulas.

    Examples
    --------
    >>> x = np.sort(np.random.default_rng(0).weibull(1.5, 100))
    >>> float(edf_statistic(x, 1.5, 1.0, "ks")[0]) < 0.2
    True
    """
    x = np.atleast_2d(sorted_x)
    n = x.shape[1]
    if statistic == "ad" and n >= LARGE:
        value = _chunked_ad(x, shape, scale)
        return value if np.ndim(sorted_x) > 1 else value[:1]
    if statistic == "ks" and n >= LARGE:
        value = _chunked_ks(x, shape, scale)
        return value if np.ndim(sorted_x) > 1 else value[:1]
    t = _t(np.log(x, dtype=np.float64), shape, scale)
    i = np.arange(1, n + 1, dtype=np.float64)
    if statistic == "ad":
        with np.errstate(divide="ignore"):
            log_cdf = np.log(cdf_of_hazard(t))
        value = -n - np.sum((2 * i - 1) / n * (log_cdf - t[:, ::-1]), axis=1)
    else:
        cdf = cdf_of_hazard(t)
        if statistic == "cvm":
            value = 1.0 / (12 * n) + np.sum((cdf - (2 * i - 1) / (2 * n)) ** 2, axis=1)
        else:
            value = np.maximum((i / n - cdf).max(axis=1), (cdf - (i - 1) / n).max(axis=1))
    return value if np.ndim(sorted_x) > 1 else value[:1]


def _chunked_ad(x: np.ndarray, shape: Any, scale: Any) -> np.ndarray:
    """``A^2`` of each sorted row in the reindexed form ``-n - (1/n) sum_j [(2j - 1) ln z_j -
    (2n + 1 - 2j) t_j]``, in chunks of :data:`CHUNK` columns with reused buffers."""
    b, n = x.shape
    k = np.broadcast_to(np.asarray(shape, dtype=np.float64).reshape(-1), (b,))
    log_lam = np.log(np.broadcast_to(np.asarray(scale, dtype=np.float64).reshape(-1), (b,)))
    t = np.empty(CHUNK)
    log_cdf = np.empty(CHUNK)
    work = np.empty(CHUNK)
    out = np.empty(b)
    for r in range(b):
        acc = 0.0
        for a in range(0, n, CHUNK):
            e = min(n, a + CHUNK)
            w = e - a
            tt, lc, wk = t[:w], log_cdf[:w], work[:w]
            np.log(x[r, a:e], out=tt, dtype=np.float64)
            tt -= log_lam[r]
            tt *= k[r]
            np.exp(tt, out=tt)
            np.negative(tt, out=lc)
            np.expm1(lc, out=lc)
            np.negative(lc, out=lc)
            with np.errstate(divide="ignore"):
                np.log(lc, out=lc)
            wk[...] = _RAMP[:w]
            wk += 2 * a + 1  # 2j - 1
            acc += float(np.multiply(wk, lc, out=lc).sum())
            np.subtract(2 * n, wk, out=wk)  # 2n + 1 - 2j
            acc -= float(np.multiply(wk, tt, out=tt).sum())
        out[r] = -n - acc / n
    return out


def _chunked_ks(x: np.ndarray, shape: Any, scale: Any) -> np.ndarray:
    """``D`` of each sorted row in chunks of :data:`CHUNK` columns: the same elementwise
    values as the plain formula (so the same maximum, bit for bit), in bounded memory."""
    b, n = x.shape
    k = np.broadcast_to(np.asarray(shape, dtype=np.float64).reshape(-1), (b,))
    lam = np.broadcast_to(np.asarray(scale, dtype=np.float64).reshape(-1), (b,))
    out = np.empty(b)
    for r in range(b):
        best = -np.inf
        for a in range(0, n, CHUNK):
            e = min(n, a + CHUNK)
            cdf = cdf_of_hazard(_t(np.log(x[r, a:e], dtype=np.float64)[None, :], k[r], lam[r]))[0]
            i = np.arange(a + 1, e + 1, dtype=np.float64)
            best = max(best, float((i / n - cdf).max()), float((cdf - (i - 1) / n).max()))
        out[r] = best
    return out


def count_edf_statistic(
    values: np.ndarray, counts: np.ndarray, shape: Any, scale: Any, statistic: str
) -> np.ndarray:
    """EDF statistic of each count row over the ascending grid ``values``, in O(d) per row.

    ``counts`` is ``(d,)`` or ``(batch, d)``; equal to :func:`edf_statistic` on the expanded
    sorted rows (see the module documentation for the run sums).

    Examples
    --------
    >>> v, c = np.array([0.5, 1.0, 2.0]), np.array([3, 4, 2])
    >>> a = count_edf_statistic(v, c, 1.2, 1.0, "ad")[0]
    >>> b = edf_statistic(np.repeat(v, c), 1.2, 1.0, "ad")[0]
    >>> bool(abs(a - b) < 1e-12)
    True
    """
    c = np.atleast_2d(counts).astype(np.float64)
    n = c.sum(axis=1, keepdims=True)
    r = np.cumsum(c, axis=1) - c
    t = _t(np.log(np.asarray(values, dtype=np.float64))[None, :], shape, scale)
    present = c > 0
    if statistic == "ad":
        with np.errstate(divide="ignore", invalid="ignore"):
            log_cdf = np.log(cdf_of_hazard(t))
            terms = c * (2 * r + c) * log_cdf - c * (2 * n - 2 * r - c) * t
        value = -n[:, 0] - np.where(present, terms, 0.0).sum(axis=1) / n[:, 0]
    elif statistic == "cvm":
        cdf = cdf_of_hazard(t)
        mid = (2 * r + c) / (2 * n)
        terms = c * (cdf - mid) ** 2 + c * (c * c - 1.0) / (12.0 * n * n)
        value = 1.0 / (12 * n[:, 0]) + np.where(present, terms, 0.0).sum(axis=1)
    else:
        cdf = cdf_of_hazard(t)
        above = np.where(present, (r + c) / n - cdf, -np.inf).max(axis=1)
        below = np.where(present, cdf - r / n, -np.inf).max(axis=1)
        value = np.maximum(above, below)
    return np.asarray(value, dtype=np.float64)


def batch_statistic(batch: Batch, shape: np.ndarray, scale: np.ndarray, statistic: str) -> np.ndarray:
    """The statistic of every row of ``batch`` against its own ``(shape, scale)``.

    Raw rows are sorted first unless they are marked ``ordered``.
    """
    if isinstance(batch, CountRows):
        return count_edf_statistic(batch.values, batch.counts, shape, scale, statistic)
    rows = batch.values if batch.ordered else np.sort(batch.values, axis=1)
    return edf_statistic(rows, shape, scale, statistic)

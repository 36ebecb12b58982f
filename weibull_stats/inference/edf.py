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

from weibull_stats.core.fused import edf_plot_sums
from weibull_stats.sample.batch import Batch, CountRows
from weibull_stats.weibull.law import cdf_of_hazard, cumulative_hazard

STATISTICS: tuple[str, ...] = ("ad", "cvm", "ks")
#: From this sample size a raw row's statistic is taken in one compiled pass, ``A^2`` in the
#: reindexed form ``-n - (1/n) sum_j [(2j - 1) ln z_j - (2n + 1 - 2j) t_j]`` (the same sums to
#: rounding, summed per block and the blocks pairwise; below it the plain formulas).
LARGE = 1 << 16


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
    if n >= LARGE:
        value = _fused(x, shape, scale, statistic)
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


def _fused(x: np.ndarray, shape: Any, scale: Any, statistic: str) -> np.ndarray:
    """The statistic of each long sorted row in one compiled pass
    (:func:`weibull_stats.core.fused.edf_plot_sums`, the formulas above to rounding)."""
    b = x.shape[0]
    k = np.broadcast_to(np.asarray(shape, dtype=np.float64).reshape(-1), (b,))
    lam = np.broadcast_to(np.asarray(scale, dtype=np.float64).reshape(-1), (b,))
    rows = x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)
    return np.array([edf_plot_sums(rows[r], float(k[r]), float(lam[r]))[statistic]
                     for r in range(b)])


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

r"""Large-sample standard errors of quantile matching, through the sparsity function.

Derivation
----------
The sample quantiles ``q_j`` at probabilities ``p_1 < ... < p_J`` are jointly normal to first
order with ``Cov(q_i, q_j) = p_i (1 - p_j) s_i s_j / n`` (``i <= j``), where
``s(p) = dQ/dp = 1 / f(Q(p))`` is the sparsity (quantile-density) function (Bahadur's
representation; Koenker, *Quantile Regression*, 2005, sec. 3.4). On the log scale
``Cov(ln q_i, ln q_j) = p_i (1 - p_j) s_i s_j / (n q_i q_j)``. The fit is linear in
``ln q``: ``1 / shape = c . ln q`` and ``ln scale = d . ln q`` with
``c = (y - y_bar) / sum (y - y_bar)^2``, ``d = 1/J - y_bar c``, ``y = ln(-ln(1 - p))``, so

* ``Var shape = shape^4 c' S c`` and ``Var ln scale = d' S d``, ``S = Cov(ln q)``.

The sparsity is estimated by the difference quotient of the sample quantile function,
``s_j = (Q_n(p_j + h_j) - Q_n(p_j - h_j)) / (2 h_j)`` (the same sample-quantile ``method``
as the fit), with the bandwidth ``h_j`` of Hall and Sheather (1988) or Bofinger (1975), as
statsmodels computes them for quantile regression
(``statsmodels.regression.quantile_regression.hall_sheather`` and ``bofinger``; Hall–Sheather
at ``alpha = 0.05`` is statsmodels' default). ``p_j +- h_j`` is kept inside
``[1/n, 1 - 1/n]``. The estimate is consistent; its relative error shrinks like ``n^{-1/3}``
(Hall–Sheather), slower than the other estimators' errors, which the coverage study shows
at small ``n``.

On a storage grid
-----------------
Data stored in 16 bits (a counts sample) take only the grid's values: the sample quantile is
a step function of the uniform order statistic ``U`` at ``p``, and once ``sd(U) =
sqrt(p (1 - p) / n)`` is comparable to the probability of one cell the quantile moves in whole
cells (HalfNormal ``sigma = 0.02`` in bf16 at ``n = 10^6``: the cell at the 0.1 quantile holds
probability 6e-4, ``sd(U) = 3e-4``). Two changes follow the grid there. The sparsity's
bandwidth is at least the probability of the cell holding the quantile, so the difference
quotient spans whole cells. And ``Var ln q_j`` is at least the mean squared step of the
sample's own staircase, ``E (ln Q_n(p + xi) - ln q_j)^2`` with ``xi ~ N(0, p (1 - p) / n)``
(:func:`grid_log_quantile_mse`, O(distinct values)): when cells are fine it is the
continuous variance again, when they are coarse it is the chance of landing in a
neighbouring cell times that cell's squared log step. The correlations between quantiles
are the continuous ones. The coverage check is in ``tests/test_sandwich.py``.

Where it breaks down: data stored in 16 bits once a quantile's spread is well below one cell
(:func:`storage_step_reason`, recorded as the interval's warning: the law is then a
two- or three-point one and a Wald interval is only roughly right); heavy ties,
where the difference quotient is zero or a single jump (a zero sparsity is an error here,
never a zero standard error); and probabilities within a bandwidth of 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from weibull_stats.estimators._asymptotic import CoverageCaveat
from weibull_stats.weibull.law import plot_ordinates

#: Where the coverage study finds the default interval off nominal
#: (validation/results/coverage_misses.md: every law from 10^6, 0.78 to 1.00).
BF16_COVERAGE_CAVEAT = CoverageCaveat(
    "on bfloat16 data from n = 10^6 the coverage study finds this interval off nominal either "
    "way (mostly conservative, as low as 0.78 on a Gaussian scale mixture; "
    "validation/results/coverage_misses.md); probability_plot, mle and log_moment cover there",
    from_n=10**6, storages=("bfloat16",))

#: Bandwidth rules for the sparsity estimate (statsmodels' implementations).
BANDWIDTHS: tuple[str, ...] = ("hall_sheather", "bofinger")

METHOD = "sparsity function (difference quotient, {bandwidth} bandwidth)"
#: Added to :data:`METHOD` for data on a storage grid.
GRID_METHOD = "; storage grid: bandwidth at least one cell, variance at least the staircase's"


def bandwidths(n: int, probabilities: tuple[float, ...], bandwidth: str = "hall_sheather") -> np.ndarray:
    """Bandwidths ``h_j`` (probability units) of the sparsity estimate at each probability.

    Examples
    --------
    >>> [round(float(h), 4) for h in bandwidths(1000, (0.1, 0.9))]
    [0.0346, 0.0346]
    """
    # statsmodels is imported when first used: it adds about 0.7 s to `import weibull_stats`
    from statsmodels.regression import quantile_regression

    rules: dict[str, Callable[..., np.ndarray]] = {
        "hall_sheather": lambda size, q: quantile_regression.hall_sheather(size, q, alpha=0.05),
        "bofinger": quantile_regression.bofinger,
    }
    if bandwidth not in rules:
        raise ValueError(f"`bandwidth` must be one of {', '.join(map(repr, BANDWIDTHS))}; got {bandwidth!r}")
    return np.asarray(rules[bandwidth](n, np.asarray(probabilities, dtype=np.float64)), dtype=np.float64)


def sparsity_probabilities(n: int, probabilities: tuple[float, ...], bandwidth: str = "hall_sheather",
                           floor: np.ndarray | None = None) -> tuple[float, ...]:
    """``(p_1 - h_1, ..., p_J - h_J, p_1 + h_1, ..., p_J + h_J)``, kept inside ``[1/n, 1 - 1/n]``;
    ``floor`` (per probability) is the least bandwidth: on a storage grid, the probability
    of the cell holding the quantile (:func:`cell_masses`), so the difference quotient spans
    whole cells."""
    p = np.asarray(probabilities, dtype=np.float64)
    h = bandwidths(n, probabilities, bandwidth)
    if floor is not None:
        h = np.maximum(h, np.asarray(floor, dtype=np.float64))
    low = np.clip(p - h, 1.0 / n, 1.0 - 1.0 / n)
    high = np.clip(p + h, 1.0 / n, 1.0 - 1.0 / n)
    return tuple(float(v) for v in np.concatenate([low, high]))


#: Mantissa bits of the 16-bit storage formats: a stored value ``q`` has neighbours ``2^(e - m)``
#: apart, ``e = floor(log2 q)``.
MANTISSA_BITS = {"bfloat16": 7, "float16": 10}


def storage_step_reason(n: int, probabilities: tuple[float, ...], quantiles: np.ndarray,
                        sparsity: np.ndarray, storage: str) -> str | None:
    """Why first-order errors fail for data stored in 16 bits, or None.

    The sample quantile at ``p`` has standard deviation ``s(p) sqrt(p (1 - p) / n)``; once
    that is smaller than the spacing of the storage format at ``Q(p)`` the quantile moves in
    whole cells and its sampling law is discrete, not normal (the coverage study shows bf16
    quantile intervals well below nominal from ``n = 10^5`` for ``sigma = 0.02`` weights).

    Examples
    --------
    >>> storage_step_reason(10**6, (0.9,), np.array([0.033]), np.array([0.097]), "bfloat16")[:40]
    'the sample quantile at p=0.9 moves by le'
    >>> storage_step_reason(10**3, (0.9,), np.array([0.033]), np.array([0.097]), "bfloat16") is None
    True
    """
    bits = MANTISSA_BITS.get(storage)
    if bits is None:
        return None
    p = np.asarray(probabilities, dtype=np.float64)
    spread = np.asarray(sparsity) * np.sqrt(p * (1.0 - p) / n)
    q = np.asarray(quantiles, dtype=np.float64)
    cells = np.exp2(np.floor(np.log2(q)) - bits)
    narrow = np.flatnonzero(spread < cells)
    if not narrow.size:
        return None
    j = int(narrow[0])
    return (f"the sample quantile at p={probabilities[j]:g} moves by less than one {storage} cell "
            f"(sd {spread[j]:.2g} < cell {cells[j]:.2g}): its sampling law is discrete; use the bootstrap")


def cell_masses(distinct: np.ndarray, counts: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """The sample probability of the storage cell (distinct value) nearest each quantile."""
    index = np.clip(np.searchsorted(distinct, quantiles), 0, distinct.size - 1)
    below = np.clip(index - 1, 0, distinct.size - 1)
    nearer = np.where(np.abs(distinct[below] - quantiles) < np.abs(distinct[index] - quantiles), below, index)
    return counts[nearer] / float(counts.sum())


def grid_log_quantile_mse(distinct: np.ndarray, counts: np.ndarray, probabilities: tuple[float, ...],
                          quantiles: np.ndarray) -> np.ndarray:
    """``E (ln Q_n(p + xi) - ln q)^2`` per probability, ``xi ~ N(0, p (1 - p) / n)``, ``Q_n`` the
    sample's own quantile staircase on its storage grid (module docstring, "On a storage grid")."""
    from scipy.special import ndtr  # here: the command line's --help loads no scipy

    n = float(counts.sum())
    ends = np.cumsum(counts) / n
    starts = ends - counts / n
    logs = np.log(distinct.astype(np.float64))
    out = []
    for p, q in zip(probabilities, np.asarray(quantiles, dtype=np.float64), strict=True):
        sd = math.sqrt(p * (1.0 - p) / n)
        chance = ndtr((ends - p) / sd) - ndtr((starts - p) / sd)
        out.append(float(chance @ (logs - math.log(q)) ** 2))
    return np.array(out)


def sparsity_estimate(probabilities: tuple[float, ...], outer: tuple[float, ...],
                      outer_quantiles: np.ndarray) -> np.ndarray:
    """The difference quotients ``s_j`` of the sample quantile function (module docstring)."""
    j = len(probabilities)
    widths = np.asarray(outer[j:]) - np.asarray(outer[:j])
    return (np.asarray(outer_quantiles[j:]) - np.asarray(outer_quantiles[:j])) / widths


def quantile_matching_se(
    n: int,
    probabilities: tuple[float, ...],
    quantiles: np.ndarray,
    outer: tuple[float, ...],
    outer_quantiles: np.ndarray,
    shape: float,
    grid_variance: np.ndarray | None = None,
) -> tuple[float, float]:
    """``(se shape, se ln scale)`` from the sample ``quantiles`` at ``probabilities`` and the
    quantiles ``outer_quantiles`` at the ``outer`` probabilities of
    :func:`sparsity_probabilities` (see the module docstring). ``grid_variance`` (data on a
    storage grid, :func:`grid_log_quantile_mse`) is a floor on each ``Var ln q_j``, the
    correlations kept.

    Examples
    --------
    >>> p, n = (0.1, 0.9), 10_000
    >>> from scipy import stats
    >>> q = stats.weibull_min.ppf(p, 2.0)  # exact Weibull(2, 1) quantiles and sparsity
    >>> outer = sparsity_probabilities(n, p)
    >>> qo = stats.weibull_min.ppf(outer, 2.0)
    >>> se = quantile_matching_se(n, p, q, outer, qo, 2.0)
    >>> round(se[0] * n ** 0.5, 2)  # exact sparsity: 4 sqrt(0.28353) = 2.13
    2.14
    """
    j = len(probabilities)
    p = np.asarray(probabilities, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    sparsity = sparsity_estimate(probabilities, outer, outer_quantiles)
    if not np.all(sparsity > 0):
        zero = [probabilities[i] for i in np.flatnonzero(~(sparsity > 0)).tolist()]
        raise ValueError(f"the sparsity estimate at probabilities {zero} is zero: the sample quantile "
                         "function is flat there (heavy ties); use the bootstrap")
    lo, hi = np.minimum.outer(p, p), np.maximum.outer(p, p)
    relative = sparsity / q
    cov = lo * (1.0 - hi) * np.outer(relative, relative) / n
    if grid_variance is not None:
        sd = np.sqrt(np.diag(cov))
        wider = np.sqrt(np.maximum(np.asarray(grid_variance, dtype=np.float64), sd * sd))
        cov = cov / np.outer(sd, sd) * np.outer(wider, wider)
    y = plot_ordinates(p)
    dy = y - y.mean()
    c = dy / float(dy @ dy)
    d = 1.0 / j - y.mean() * c
    return float(shape * shape * np.sqrt(c @ cov @ c)), float(np.sqrt(d @ cov @ d))


def matching_bias(population: Any, n: int, probabilities: tuple[float, ...], shape: float,
                  scale: float) -> tuple[float, float]:
    """Leading ``O(1/n)`` biases of the quantile-matching ``(shape, scale)`` (numpy "linear")
    under ``population``, whose limit is ``(shape, scale)``.

    numpy's "linear" sample quantile interpolates the order statistics at rank
    ``h = (n - 1) p + 1``; with ``E X_(r) = Q(r/(n+1)) + p(1-p) Q''/(2n) + O(n^-2)``
    (David & Nagaraja, *Order Statistics*, 4.6) this gives
    ``E q_j - Q(p_j) = Q'_j (1 - 2 p_j) / n + p_j (1 - p_j) Q''_j / (2 n)`` and
    ``Cov(q_i, q_j) = p_i (1 - p_j) Q'_i Q'_j / n`` (``i <= j``). The fit is
    ``1 / shape = c . ln q`` and ``ln scale = d . ln q`` for fixed vectors ``c``, ``d``, so
    with ``m_j = E d ln q_j`` and ``S = Cov(d ln q)`` (second order in ``dq``):
    ``E shape = shape (1 - shape c.m + shape^2 c'Sc)`` and
    ``E scale = scale (1 + d.m + d'Sd / 2)``. ``population.quantile`` (float64) gives ``Q``;
    its derivatives are central differences.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    y = plot_ordinates(p)
    q = population.quantile(p)
    step = 1e-5
    dq = (population.quantile(p + step) - population.quantile(p - step)) / (2 * step)
    d2q = (population.quantile(p + step) - 2 * q + population.quantile(p - step)) / step**2
    mean_q = dq * (1 - 2 * p) / n + p * (1 - p) * d2q / (2 * n)
    lo, hi = np.minimum.outer(p, p), np.maximum.outer(p, p)
    cov_q = lo * (1 - hi) * np.outer(dq, dq) / n
    cov_log = cov_q / np.outer(q, q)
    m = mean_q / q - np.diag(cov_log) / 2
    dy = y - y.mean()
    c = dy / float(dy @ dy)
    d = 1.0 / p.size - c * y.mean()
    bias_k = shape * (-shape * float(c @ m) + shape**2 * float(c @ cov_log @ c))
    bias_s = scale * (float(d @ m) + 0.5 * float(d @ cov_log @ d))
    return bias_k, bias_s

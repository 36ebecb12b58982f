"""Where numpy's quantile methods interpolate: the order statistics and weights of every method.

:func:`order_positions` repeats numpy's formulas for each method in
:data:`QUANTILE_METHODS` operation by operation, so that interpolating the selected order
statistics with :func:`_lerp` gives :func:`numpy.quantile`'s value bit for bit, in O(number
of probabilities) whatever ``n``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: numpy quantile methods that keep an order-statistic (or interpolated) estimate.
QUANTILE_METHODS: tuple[str, ...] = (
    "inverted_cdf",
    "averaged_inverted_cdf",
    "closest_observation",
    "interpolated_inverted_cdf",
    "hazen",
    "weibull",
    "linear",
    "median_unbiased",
    "normal_unbiased",
    "lower",
    "higher",
    "midpoint",
    "nearest",
)

#: ``(alpha, beta)`` of numpy's continuous methods (Hyndman and Fan 1996).
_ALPHA_BETA: dict[str, tuple[float, float]] = {
    "interpolated_inverted_cdf": (0.0, 1.0),
    "hazen": (0.5, 0.5),
    "weibull": (0.0, 0.0),
    "median_unbiased": (1 / 3.0, 1 / 3.0),
    "normal_unbiased": (3 / 8.0, 3 / 8.0),
}


Condition = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _to_boundary(index: np.ndarray, take_previous: Condition) -> np.ndarray:
    previous = np.floor(index)
    gamma = index - previous
    chosen = np.where(take_previous(gamma, index), previous, previous + 1).astype(np.intp)
    chosen[chosen < 0] = 0
    return chosen


def _virtual_index(n: int, q: np.ndarray, method: str) -> np.ndarray:
    """numpy's virtual index of each probability for a sample of size ``n`` (its formulas,
    operation for operation; integer for the methods that take one order statistic)."""
    if method == "linear":
        return (n - 1) * q
    if method in _ALPHA_BETA:
        alpha, beta = _ALPHA_BETA[method]
        return n * q + (alpha + q * (1 - alpha - beta)) - 1
    if method == "averaged_inverted_cdf":
        return (n * q) - 1
    if method == "midpoint":
        return 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    if method == "lower":
        return np.floor((n - 1) * q).astype(np.intp)
    if method == "higher":
        return np.ceil((n - 1) * q).astype(np.intp)
    if method == "nearest":
        return np.around((n - 1) * q).astype(np.intp)
    if method == "inverted_cdf":
        return _to_boundary((n * q) - 1, lambda gamma, _: gamma == 0)
    if method == "closest_observation":
        return _to_boundary((n * q) - 1 - 0.5, lambda gamma, index: (gamma == 0) & (np.floor(index) % 2 == 1))
    raise ValueError(f"`method` must be one of {', '.join(map(repr, QUANTILE_METHODS))}; got {method!r}")


def order_positions(
    n: int, probabilities: tuple[float, ...], method: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(previous, following, fraction)``: the 0-based order statistics and weights with
    which :func:`numpy.quantile` forms each quantile of a sample of size ``n``.

    The quantile is ``_lerp(x[previous], x[following], fraction)``; O(number of
    probabilities), whatever ``n``.

    Examples
    --------
    >>> previous, following, fraction = order_positions(11, (0.1, 0.95), "linear")
    >>> previous.tolist(), following.tolist(), fraction.round(12).tolist()
    ([1, 9], [2, 10], [0.0, 0.5])
    """
    q = np.asarray(probabilities, dtype=np.float64)
    index = _virtual_index(n, q, method)
    if np.issubdtype(index.dtype, np.integer):
        return index.astype(np.intp), index.astype(np.intp), np.zeros(q.size)
    floor = np.floor(index)
    gamma = index - floor
    if method == "averaged_inverted_cdf":
        gamma = np.where(gamma == 0, 0.5, 1.0)
    elif method == "midpoint":
        gamma = np.where(index % 1 == 0, 0.0, 0.5)
    previous = floor.astype(np.intp)
    following = previous + 1
    clipped = (index >= n - 1) | (index < 0)
    previous[index >= n - 1] = n - 1
    previous[index < 0] = 0
    following[clipped] = previous[clipped]
    return previous, following, np.where(clipped, 0.0, gamma)


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``a + t (b - a)`` computed as :func:`numpy.quantile` does (from ``b`` when t >= 0.5)."""
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)

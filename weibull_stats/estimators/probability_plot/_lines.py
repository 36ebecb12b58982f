"""The probability plot's own choices: plotting positions, the trim window, and its line from
the window's sums (the plot's ordinates and its least-squares line are the law's, in
:mod:`weibull_stats.weibull`)."""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.estimators._streaming import RegressionSums
from weibull_stats.weibull.lines import centred_sums, plot_line, squared_correlation

#: Plotting positions ``p_i = (i - a) / (n + 1 - 2a)``, ``i = 1..n``, by their ``a``.
PLOTTING_POSITIONS: dict[str, float] = {"hazen": 0.5, "weibull": 0.0, "bernard": 0.3, "blom": 0.375}
MIN_POINTS = 3


def plotting_positions(ranks: np.ndarray, n: int, plotting_position: str = "hazen") -> np.ndarray:
    """Plotting positions ``(i - a) / (n + 1 - 2a)`` of 1-based ``ranks`` in a sample of ``n``.

    ``a`` is 0.5 (Hazen), 0 (Weibull, ``i / (n + 1)``), 0.3 (Bernard,
    ``(i - 0.3) / (n + 0.4)``) or 0.375 (Blom, ``(i - 0.375) / (n + 0.25)``).

    Examples
    --------
    >>> plotting_positions(np.arange(1, 5), 4).tolist()
    [0.125, 0.375, 0.625, 0.875]
    >>> plotting_positions(np.arange(1, 4), 3, "weibull").tolist()
    [0.25, 0.5, 0.75]
    """
    a = PLOTTING_POSITIONS[plotting_position]
    return (np.asarray(ranks, dtype=np.float64) - a) / (n + 1 - 2 * a)


def trim_window(n: int, trim: tuple[float, float], plotting_position: str = "hazen") -> tuple[int, int]:
    """1-based inclusive rank range ``[lo, hi]`` of the ranks with ``trim[0] <= p_i <= trim[1]``.

    The comparison is made on ``p_i`` exactly as :func:`plotting_positions` computes it, so
    the window equals the boolean mask of the plain definition. ``lo > hi`` means empty.

    Examples
    --------
    >>> trim_window(10, (0.1, 0.9))  # Hazen p_i = (i - 0.5) / 10: 0.15 .. 0.85
    (2, 9)
    >>> trim_window(10, (0.0, 1.0), "weibull")
    (1, 10)
    """
    a = PLOTTING_POSITIONS[plotting_position]
    low, high = trim
    denom = n + 1 - 2 * a

    def p(i: int) -> float:
        return (i - a) / denom

    lo = max(1, min(n, math.ceil(low * denom + a)))
    while lo > 1 and p(lo - 1) >= low:
        lo -= 1
    while lo <= n and p(lo) < low:
        lo += 1
    hi = max(1, min(n, math.floor(high * denom + a)))
    while hi < n and p(hi + 1) <= high:
        hi += 1
    while hi >= 1 and p(hi) > high:
        hi -= 1
    return lo, hi


def line_from_sums(sums: RegressionSums, direction: str) -> tuple[float, float, float]:
    """``(shape, scale, r2)`` of the least-squares line through the Weibull plot.

    ``y_on_x`` regresses ``y = ln(-ln(1-p))`` on ``u = ln x``: shape is the slope, scale
    ``exp(-intercept / slope)``. ``x_on_y`` regresses ``u`` on ``y``: shape is the
    reciprocal slope, scale ``exp(intercept)``.

    Raises
    ------
    ValueError
        When the window holds a single distinct value (no slope).

    Examples
    --------
    >>> x = np.sort(np.random.default_rng(0).weibull(2.0, 101))
    >>> from weibull_stats.weibull.law import plot_ordinates
    >>> u, v = np.log(x), plot_ordinates(plotting_positions(np.arange(1, 102), 101))
    >>> sums = RegressionSums.from_raw(101, 0.0, u.sum(), v.sum(), u @ u, v @ v, u @ v)
    >>> a, b = line_from_sums(sums, "y_on_x"), line_from_sums(sums, "x_on_y")
    >>> bool(a[2] == b[2]), bool(a[0] < b[0])  # same r2; x-on-y slope is steeper in k
    (True, True)
    """
    if sums.suu <= 0.0:
        raise ValueError(single_value_message(sums.count))
    mean_u = sums.shift + sums.mean_u  # on the unshifted scale: ln scale comes out as such
    shape, log_scale = plot_line(mean_u, sums.mean_v, sums.suu, sums.svv, sums.suv, direction)
    return shape, math.exp(log_scale), squared_correlation(sums.suu, sums.svv, sums.suv)


def check_window(n: int, lo: int, hi: int, trim: tuple[float, float], plotting_position: str) -> None:
    """Raise when fewer than ``MIN_POINTS`` order statistics fall inside the trim window.

    Examples
    --------
    >>> check_window(10, 2, 9, (0.1, 0.9), "hazen")  # 8 points: fine
    >>> check_window(10, 5, 6, (0.4, 0.6), "hazen")
    Traceback (most recent call last):
    ...
    ValueError: too few points after trimming: 2 of 10 values have hazen plotting positions
    in [0.4, 0.6]; at least 3 are needed
    """
    used = max(0, hi - lo + 1)
    if used < MIN_POINTS:
        raise ValueError(too_few_message(n, used, trim, plotting_position))


def too_few_message(n: int, used: int, trim: tuple[float, float], plotting_position: str) -> str:
    """The message of :func:`check_window` (also the reason of a too-small row in a batch)."""
    return (
        f"too few points after trimming: {used} of {n} values have {plotting_position} "
        f"plotting positions in [{trim[0]}, {trim[1]}]; at least {MIN_POINTS} are needed"
    )


def single_value_message(count: int) -> str:
    """The reason of a window that holds a single distinct value (no slope)."""
    return (
        f"the trim window holds {count} points with a single distinct value; "
        "widen `trim` or check the data"
    )


def lines_from_sums(
    count: np.ndarray,
    shift: np.ndarray,
    sums: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    direction: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(shape, scale, r2)`` arrays from per-row raw sums ``(su, sv, suu, svv, suv)``.

    The vectorised :meth:`RegressionSums.from_raw` followed by :func:`line_from_sums`, element
    by element (so a row's numbers do not depend on the batch); ``u`` is ``ln x - shift``.
    Rows whose window holds one distinct value (``suu <= 0``) get ``nan``.

    Examples
    --------
    >>> u, v = np.log([1.0, 2.0, 4.0]), np.array([-1.0, 0.0, 1.0])
    >>> raw = tuple(np.array([s]) for s in (u.sum(), v.sum(), u @ u, v @ v, u @ v))
    >>> shape, scale, r2 = lines_from_sums(np.array([3.0]), np.array([0.0]), raw, "y_on_x")
    >>> round(float(shape[0]), 6), round(float(r2[0]), 6)  # slope 1 / ln 2
    (1.442695, 1.0)
    """
    mean_u, mean_v, cuu, cvv, cuv = centred_sums(count, *sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = cuu > 0.0
        r2 = squared_correlation(cuu, cvv, cuv)
        shape, log_scale = plot_line(shift + mean_u, mean_v, cuu, cvv, cuv, direction)
        scale = np.exp(log_scale)
    nan = np.float64(np.nan)
    return np.where(ok, shape, nan), np.where(ok, scale, nan), np.where(ok, r2, nan)

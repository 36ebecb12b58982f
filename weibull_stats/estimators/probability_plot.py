"""Probability-plot (Weibull-plot) regression on order statistics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats._input import check_choice, check_sample, check_trim
from weibull_stats.estimators._streaming import RegressionSums, chunks
from weibull_stats.results import WeibullFit

#: Plotting positions ``p_i = (i - a) / (n + 1 - 2a)``, ``i = 1..n``, by their ``a``.
PLOTTING_POSITIONS: dict[str, float] = {"hazen": 0.5, "weibull": 0.0, "bernard": 0.3, "blom": 0.375}
DIRECTIONS: tuple[str, ...] = ("y_on_x", "x_on_y")
MIN_POINTS = 3


def plotting_positions(ranks: np.ndarray, n: int, plotting_position: str = "hazen") -> np.ndarray:
    """Plotting positions ``(i - a) / (n + 1 - 2a)`` of 1-based ``ranks`` in a sample of ``n``.

    ``a`` is 0.5 (Hazen), 0 (Weibull, ``i / (n + 1)``), 0.3 (Bernard,
    ``(i - 0.3) / (n + 0.4)``) or 0.375 (Blom, ``(i - 0.375) / (n + 0.25)``).
    """
    a = PLOTTING_POSITIONS[plotting_position]
    return (np.asarray(ranks, dtype=np.float64) - a) / (n + 1 - 2 * a)


def weibull_plot_y(p: np.ndarray) -> np.ndarray:
    """The Weibull-plot ordinate ``ln(-ln(1 - p))``."""
    return np.log(-np.log1p(-np.asarray(p, dtype=np.float64)))


def trim_window(n: int, trim: tuple[float, float], plotting_position: str = "hazen") -> tuple[int, int]:
    """1-based inclusive rank range ``[lo, hi]`` of the ranks with ``trim[0] <= p_i <= trim[1]``.

    The comparison is made on ``p_i`` exactly as :func:`plotting_positions` computes it, so
    the window equals the boolean mask of the plain definition. ``lo > hi`` means empty.
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


def window_sums(
    sorted_data: np.ndarray, lo: int, hi: int, n: int, plotting_position: str
) -> RegressionSums:
    """Regression sums of ``(ln x_(i), ln(-ln(1 - p_i)))`` for ranks ``lo..hi``, one chunked pass."""
    shift = float(np.log(np.float64(sorted_data[(lo + hi) // 2 - 1])))
    a = PLOTTING_POSITIONS[plotting_position]
    denom = n + 1 - 2 * a
    size = hi - lo + 1
    u = np.empty(min(size, 1 << 17))
    v = np.empty_like(u)
    su = sv = suu = svv = suv = 0.0
    for start, stop in chunks(lo - 1, hi):
        m = stop - start
        uu, vv = u[:m], v[:m]
        np.log(sorted_data[start:stop], out=uu, dtype=np.float64)
        uu -= shift
        # ranks start+1 .. stop
        vv[:] = np.arange(start + 1, stop + 1, dtype=np.float64)
        vv -= a
        vv /= denom
        np.negative(vv, out=vv)
        np.log1p(vv, out=vv)
        np.negative(vv, out=vv)
        np.log(vv, out=vv)
        su += float(uu.sum())
        sv += float(vv.sum())
        suu += float(np.dot(uu, uu))
        svv += float(np.dot(vv, vv))
        suv += float(np.dot(uu, vv))
    return RegressionSums.from_raw(size, shift, su, sv, suu, svv, suv)


def line_from_sums(sums: RegressionSums, direction: str) -> tuple[float, float, float]:
    """``(shape, scale, r2)`` of the least-squares line through the Weibull plot.

    ``y_on_x`` regresses ``y = ln(-ln(1-p))`` on ``u = ln x``: shape is the slope, scale
    ``exp(-intercept / slope)``. ``x_on_y`` regresses ``u`` on ``y``: shape is the
    reciprocal slope, scale ``exp(intercept)``.
    """
    if sums.suu <= 0.0:
        raise ValueError(
            f"the trim window holds {sums.count} points with a single distinct value; "
            "widen `trim` or check the data"
        )
    r2 = sums.suv * sums.suv / (sums.suu * sums.svv)
    if direction == "y_on_x":
        slope = sums.suv / sums.suu
        shape = slope
        log_scale = sums.shift + sums.mean_u - sums.mean_v / slope
    else:
        slope = sums.suv / sums.svv
        shape = 1.0 / slope
        log_scale = sums.shift + sums.mean_u - slope * sums.mean_v
    return shape, math.exp(log_scale), r2


def check_options(trim: Any, plotting_position: Any, direction: Any) -> tuple[float, float]:
    """Validate the probability-plot options; return the trim as floats."""
    check_choice(plotting_position, "plotting_position", tuple(PLOTTING_POSITIONS))
    check_choice(direction, "direction", DIRECTIONS)
    return check_trim(trim)


def check_window(n: int, lo: int, hi: int, trim: tuple[float, float], plotting_position: str) -> None:
    """Raise when fewer than ``MIN_POINTS`` order statistics fall inside the trim window."""
    used = max(0, hi - lo + 1)
    if used < MIN_POINTS:
        raise ValueError(
            f"too few points after trimming: {used} of {n} values have {plotting_position} "
            f"plotting positions in [{trim[0]}, {trim[1]}]; at least {MIN_POINTS} are needed"
        )


def fit_probability_plot(
    x: Any,
    /,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    plotting_position: str = "hazen",
    direction: str = "y_on_x",
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
) -> WeibullFit:
    """Weibull probability-plot regression on the order statistics of ``x``.

    Fits ``F(x) = 1 - exp(-(x / scale) ** shape)`` by ordinary least squares on the
    Weibull plot: ``y_i = ln(-ln(1 - p_i))`` against ``ln x_(i)``, keeping only the
    order statistics whose plotting position lies in the trim window.

    Parameters
    ----------
    x : array_like or torch.Tensor
        Positive sample (any shape, flattened; any float dtype, bfloat16 tensors included).
    trim : (float, float), default (0.1, 0.9)
        Inclusive window ``trim[0] <= p_i <= trim[1]`` on plotting positions: the default is
        the paper's middle 80%.
    plotting_position : {"hazen", "weibull", "bernard", "blom"}, default "hazen"
        ``p_i = (i - a) / (n + 1 - 2a)`` with ``a`` = 0.5, 0, 0.3, 0.375.
    direction : {"y_on_x", "x_on_y"}, default "y_on_x"
        Regress ``y`` on ``ln x`` (the paper's direction) or ``ln x`` on ``y``.
    values : {"magnitudes", "weights"}, default "magnitudes"
        ``"weights"`` fits ``|x|``; with ``"magnitudes"`` a negative value is an error.
    nonfinite, zeros : {"error", "omit"}, default "error"
        What to do with NaN/inf values and with zeros; omissions are counted in the result.

    Returns
    -------
    WeibullFit
        ``shape``, ``scale``, ``r2`` (squared correlation of the plotted points), ``n_used``
        (points in the window) and every option.

    Notes
    -----
    Ties are ordinary order statistics: tied values keep distinct ranks and so distinct
    plotting positions. The window is found from ranks alone, so the sample is sorted once
    in its own dtype (sorting is exact for magnitudes), and the logarithms and regression
    sums are accumulated in float64, chunk by chunk, with the log values shifted by the
    log of the window's middle order statistic so the centred sums keep full precision.

    For HalfNormal data the default fit converges to ``shape = 1.2054343190...`` and
    ``scale = 0.8874870398 * sigma`` (see ``weibull_stats.validation``); other trims,
    plotting positions and directions converge to other values.

    References
    ----------
    T. Ding, "A Two-Parameter Weibull Framework for Diagnosing Transformer Weight
    Distributions", arXiv:2605.18898 (middle-80% protocol).

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> rng = np.random.default_rng(0)
    >>> x = rng.weibull(1.5, size=100_000) * 2.0
    >>> fit = ws.fit_probability_plot(x)
    >>> round(fit.shape, 2), round(fit.scale, 2)
    (1.5, 2.0)
    """
    trim_window_ = check_options(trim, plotting_position, direction)
    sample = check_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    data = np.sort(sample.data)
    n = data.size
    lo, hi = trim_window(n, trim_window_, plotting_position)
    check_window(n, lo, hi, trim_window_, plotting_position)
    sums = window_sums(data, lo, hi, n, plotting_position)
    shape, scale, r2 = line_from_sums(sums, direction)
    return WeibullFit(
        shape=shape,
        scale=scale,
        estimator="probability_plot",
        n=sample.n,
        n_used=sums.count,
        options={
            "trim": trim_window_,
            "plotting_position": plotting_position,
            "direction": direction,
            "values": values,
            "nonfinite": nonfinite,
            "zeros": zeros,
        },
        n_omitted=sample.n_omitted,
        r2=r2,
        details={"rank_low": lo, "rank_high": hi},
    )

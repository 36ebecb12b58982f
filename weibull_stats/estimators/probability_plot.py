"""Probability-plot (Weibull-plot) regression on order statistics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats._input import (
    bfloat16_magnitude_counts,
    check_choice,
    check_policy,
    check_sample,
    check_trim,
    count_patterns16,
)
from weibull_stats.estimators._streaming import CHUNK, RegressionSums, chunks
from weibull_stats.results import WeibullFit

#: Plotting positions ``p_i = (i - a) / (n + 1 - 2a)``, ``i = 1..n``, by their ``a``.
PLOTTING_POSITIONS: dict[str, float] = {"hazen": 0.5, "weibull": 0.0, "bernard": 0.3, "blom": 0.375}
DIRECTIONS: tuple[str, ...] = ("y_on_x", "x_on_y")
MIN_POINTS = 3


def plotting_positions(ranks: np.ndarray, n: int, plotting_position: str = "hazen") -> np.ndarray:
    """Plotting positions ``(i - a) / (n + 1 - 2a)`` of 1-based ``ranks`` in a sample of ``n``.

    ``a`` is 0.5 (Hazen), 0 (Weibull, ``i / (n + 1)``), 0.3 (Bernard,
    ``(i - 0.3) / (n + 0.4)``) or 0.375 (Blom, ``(i - 0.375) / (n + 0.25)``).

    Examples
    --------
    >>> import numpy as np
    >>> plotting_positions(np.arange(1, 5), 4).tolist()
    [0.125, 0.375, 0.625, 0.875]
    >>> plotting_positions(np.arange(1, 4), 3, "weibull").tolist()
    [0.25, 0.5, 0.75]
    """
    a = PLOTTING_POSITIONS[plotting_position]
    return (np.asarray(ranks, dtype=np.float64) - a) / (n + 1 - 2 * a)


def weibull_plot_y(p: np.ndarray) -> np.ndarray:
    """The Weibull-plot ordinate ``ln(-ln(1 - p))``, with ``ln(1 - p)`` as ``log1p(-p)``.

    Examples
    --------
    >>> import numpy as np
    >>> weibull_plot_y(np.array([1 - np.exp(-1.0)])).tolist()  # -ln(1 - p) = 1
    [0.0]
    """
    return np.log(-np.log1p(-np.asarray(p, dtype=np.float64)))


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


def window_sums(
    sorted_data: np.ndarray, lo: int, hi: int, n: int, plotting_position: str
) -> RegressionSums:
    """Regression sums of ``(ln x_(i), ln(-ln(1 - p_i)))`` for ranks ``lo..hi``, one chunked pass.

    ``sorted_data`` is the whole sorted sample (any float dtype); logarithms and sums are
    taken in float64, chunk by chunk in two reused buffers, with ``ln x`` shifted by the
    log of the window's middle order statistic so that the centred sums keep full precision.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.sort(np.random.default_rng(0).weibull(2.0, 1000))  # noisy sample: shape near 2
    >>> lo, hi = trim_window(1000, (0.1, 0.9))
    >>> sums = window_sums(x, lo, hi, 1000, "hazen")
    >>> sums.count, round(line_from_sums(sums, "y_on_x")[0], 1)
    (800, 2.1)
    """
    shift = float(np.log(np.float64(sorted_data[(lo + hi) // 2 - 1])))
    a = PLOTTING_POSITIONS[plotting_position]
    negative_denom = -(n + 1 - 2 * a)
    size = hi - lo + 1
    m = min(size, CHUNK)
    ranks = np.arange(m, dtype=np.float64)
    u = np.empty(m)
    v = np.empty(m)
    w = np.empty(m)
    su = sv = suu = svv = suv = 0.0
    for start, stop in chunks(lo - 1, hi, CHUNK):
        k = stop - start
        uu, vv, ww = u[:k], v[:k], w[:k]
        np.log(sorted_data[start:stop], out=uu, dtype=np.float64)
        uu -= shift
        _plot_y(ranks[:k], float(start + 1), a, negative_denom, vv)
        # products into a buffer and pairwise sums, not numpy.dot: BLAS dot threads above
        # 10^4 elements, which is slower on a busy machine and rounds differently
        su += float(uu.sum())
        sv += float(vv.sum())
        suu += float(np.multiply(uu, uu, out=ww).sum())
        svv += float(np.multiply(vv, vv, out=ww).sum())
        suv += float(np.multiply(uu, vv, out=ww).sum())
    return RegressionSums.from_raw(size, shift, su, sv, suu, svv, suv)


def _plot_y(ranks: np.ndarray, first: float, a: float, negative_denom: float, out: np.ndarray) -> None:
    """Write ``ln(-ln(1 - p_i))`` for the 1-based ranks ``first + ranks`` into ``out``.

    ``p_i = (i - a) / denom`` is formed exactly as :func:`plotting_positions` forms it
    (the integer rank, minus ``a``, divided by ``denom``), then ``ln(1 - p) = log1p(-p)``.
    """
    np.add(ranks, first, out=out)
    out -= a
    out /= negative_denom
    np.log1p(out, out=out)
    np.negative(out, out=out)
    np.log(out, out=out)


def distinct_window_sums(
    values: np.ndarray, counts: np.ndarray, lo: int, hi: int, n: int, plotting_position: str
) -> RegressionSums:
    """:func:`window_sums` for a sorted sample given as distinct ``values`` and their ``counts``.

    Tied values are still separate order statistics with their own ranks and plotting
    positions; only ``ln x`` is taken once per distinct value. The plot ordinates are
    summed per run of equal values, so the result equals :func:`window_sums` on the
    expanded sample up to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> values, counts = np.array([1.0, 2.0, 4.0]), np.array([3, 4, 3])
    >>> full = np.repeat(values, counts)
    >>> a = distinct_window_sums(values, counts, 2, 9, 10, "hazen")
    >>> b = window_sums(full, 2, 9, 10, "hazen")
    >>> bool(np.isclose(a.suv, b.suv, rtol=1e-13, atol=0)), a.count
    (True, 8)
    """
    ends = np.cumsum(counts, dtype=np.int64)  # 1-based rank of the last copy of each value
    first = int(np.searchsorted(ends, lo, side="left"))
    last = int(np.searchsorted(ends, hi, side="left"))
    run_end = ends[first : last + 1].copy()
    run_start = run_end - counts[first : last + 1]  # 0-based rank of the first copy
    run_start[0] = max(int(run_start[0]), lo - 1)
    run_end[-1] = hi
    run_values = np.asarray(values[first : last + 1], dtype=np.float64)
    shift = float(np.log(np.float64(values[int(np.searchsorted(ends, (lo + hi) // 2, side="left"))])))
    log_values = np.log(run_values) - shift
    multiplicity = (run_end - run_start).astype(np.float64)

    a = PLOTTING_POSITIONS[plotting_position]
    negative_denom = -(n + 1 - 2 * a)
    size = hi - lo + 1
    m = min(size, CHUNK)
    ranks = np.arange(m, dtype=np.float64)
    v = np.empty(m)
    w = np.empty(m)
    run_sv = np.zeros(run_values.size)
    sv = svv = 0.0
    for start, stop in chunks(lo - 1, hi, CHUNK):
        k = stop - start
        vv = v[:k]
        _plot_y(ranks[:k], float(start + 1), a, negative_denom, vv)
        sv += float(vv.sum())
        svv += float(np.multiply(vv, vv, out=w[:k]).sum())
        # runs that meet [start, stop): from the one holding `start` to the one holding stop-1
        r0 = int(np.searchsorted(run_end, start, side="right"))
        r1 = int(np.searchsorted(run_end, stop - 1, side="right"))
        offsets = np.maximum(run_start[r0 : r1 + 1] - start, 0)
        run_sv[r0 : r1 + 1] += np.add.reduceat(vv, offsets)
    weighted = multiplicity * log_values
    su = float(weighted.sum())
    suu = float((weighted * log_values).sum())
    suv = float((log_values * run_sv).sum())
    return RegressionSums.from_raw(size, shift, su, sv, suu, svv, suv)


def sorted_distinct16(data: np.ndarray, from_bfloat16: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct values and counts of positive 16-bit floats, in order, by counting bit patterns.

    For positive floats the order of the bit patterns is the order of the values, so one
    :func:`numpy.bincount` over the 16-bit patterns sorts the sample in O(n). ``data`` is
    float16, or float32 widened from bfloat16 (``from_bfloat16``: the upper 16 bits are the
    bfloat16 pattern). Returns None for other dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> values, counts = sorted_distinct16(np.array([2.0, 0.5, 2.0], dtype=np.float16), False)
    >>> values.tolist(), counts.tolist()
    ([0.5, 2.0], [1, 2])
    """
    if data.dtype == np.float16:
        patterns = count_patterns16(data.view(np.uint16))
        present = np.flatnonzero(patterns)
        return present.astype(np.uint16).view(np.float16), patterns[present]
    if from_bfloat16 and data.dtype == np.float32:
        patterns = count_patterns16(data.view(np.uint32), shift=16)
        present = np.flatnonzero(patterns)
        return (present.astype(np.uint32) << np.uint32(16)).view(np.float32), patterns[present]
    return None


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
    >>> import numpy as np
    >>> x = np.sort(np.random.default_rng(0).weibull(2.0, 101))
    >>> sums = window_sums(x, 1, 101, 101, "hazen")
    >>> a, b = line_from_sums(sums, "y_on_x"), line_from_sums(sums, "x_on_y")
    >>> bool(a[2] == b[2]), bool(a[0] < b[0])  # same r2; x-on-y slope is steeper in k
    (True, True)
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
    """Validate the probability-plot options; return the trim as floats.

    Examples
    --------
    >>> check_options([0, 1], "blom", "x_on_y")
    (0.0, 1.0)
    """
    check_choice(plotting_position, "plotting_position", tuple(PLOTTING_POSITIONS))
    check_choice(direction, "direction", DIRECTIONS)
    return check_trim(trim)


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
    float16 arrays and bfloat16 tensors are not sorted at all: one count over their 65536
    bit patterns gives the sorted sample as distinct values and multiplicities in O(n)
    (see :func:`distinct_window_sums`); the result is the same up to rounding.

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
    check_policy(values, nonfinite, zeros)
    counted = bfloat16_magnitude_counts(x, values)
    if counted is not None:
        # a clean bfloat16 tensor: its bit patterns were counted, nothing to omit
        distinct: tuple[np.ndarray, np.ndarray] | None = (counted.values, counted.counts)
        n_given = n = counted.n
        n_omitted = {"nonfinite": 0, "zeros": 0}
    else:
        sample = check_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
        n_given, n, n_omitted = sample.n, sample.data.size, sample.n_omitted
        distinct = sorted_distinct16(sample.data, sample.from_bfloat16)
    lo, hi = trim_window(n, trim_window_, plotting_position)
    check_window(n, lo, hi, trim_window_, plotting_position)
    if distinct is not None:
        sums = distinct_window_sums(distinct[0], distinct[1], lo, hi, n, plotting_position)
    else:
        data = sample.data if sample.owned else sample.data.copy()
        data.sort()
        sums = window_sums(data, lo, hi, n, plotting_position)
    shape, scale, r2 = line_from_sums(sums, direction)
    return WeibullFit(
        shape=shape,
        scale=scale,
        estimator="probability_plot",
        n=n_given,
        n_used=sums.count,
        options={
            "trim": trim_window_,
            "plotting_position": plotting_position,
            "direction": direction,
            "values": values,
            "nonfinite": nonfinite,
            "zeros": zeros,
        },
        n_omitted=n_omitted,
        r2=r2,
        details={"rank_low": lo, "rank_high": hi},
    )

"""The two-parameter Weibull law ``F(x) = 1 - exp(-(x / scale) ** shape)`` and its plot.

One definition each of the distribution function, the survival function, the density and
the quantile function (``scipy.stats.weibull_min(c=shape, scale=scale)``), all through the
cumulative hazard ``t = (x / scale) ** shape``, and of the Weibull-plot ordinate
``y = ln(-ln(1 - p))``, the line ``y = shape (ln x - ln scale)`` on which a Weibull sample's
points lie.

Numerics: ``t`` is formed from logarithms (``exp(shape (ln x - ln scale))``), so it neither
overflows nor underflows before it must; ``F = -expm1(-t)`` and ``1 - F = exp(-t)`` are exact
in both tails; ``-ln(1 - p)`` is ``-log1p(-p)``, exact for small ``p``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def log_hazard(log_x: Any, shape: Any, log_scale: Any) -> Any:
    """``ln t = shape (ln x - ln scale)``: the law's straight line on the Weibull plot.

    Broadcasts (a batch of laws against a grid of ``ln x``).

    Examples
    --------
    >>> log_hazard(1.0, 2.0, 0.25)
    1.5
    """
    return shape * (log_x - log_scale)


def cumulative_hazard(log_x: Any, shape: Any, log_scale: Any) -> Any:
    """``t = (x / scale) ** shape`` from ``ln x`` and ``ln scale``: ``exp(shape (ln x - ln scale))``.

    Broadcasts; float64.

    Examples
    --------
    >>> import math
    >>> float(cumulative_hazard(math.log(2.0), 3.0, 0.0))
    8.0
    """
    return np.exp(log_hazard(log_x, shape, log_scale))


def cdf_of_hazard(t: Any) -> Any:
    """``F = 1 - exp(-t)`` as ``-expm1(-t)``, exact for small ``t``.

    >>> float(cdf_of_hazard(1e-20))
    1e-20
    """
    return -np.expm1(-t)


def _hazard(x: Any, shape: float, scale: float) -> np.ndarray:
    with np.errstate(divide="ignore"):  # x = 0: t = 0
        return cumulative_hazard(np.log(np.asarray(x, dtype=np.float64)), shape, math.log(scale))


def cdf(x: Any, shape: float, scale: float) -> np.ndarray:
    """Distribution function ``F(x) = 1 - exp(-(x / scale) ** shape)``, ``x >= 0``.

    Examples
    --------
    >>> cdf(np.array([0.0, 2.0]), 1.0, 2.0).round(6).tolist()  # 1 - e^-1 at the scale
    [0.0, 0.632121]
    """
    return cdf_of_hazard(_hazard(x, shape, scale))


def survival(x: Any, shape: float, scale: float) -> np.ndarray:
    """Survival function ``1 - F(x) = exp(-(x / scale) ** shape)``, exact in the upper tail.

    >>> float(survival(4.0, 1.0, 2.0)) == float(np.exp(-2.0))
    True
    """
    return np.exp(-_hazard(x, shape, scale))


def density(x: Any, shape: float, scale: float) -> np.ndarray:
    """Density ``f(x) = (shape / scale) (x / scale) ** (shape - 1) exp(-(x / scale) ** shape)``, ``x > 0``.

    Examples
    --------
    >>> float(density(np.array([1.0]), 1.0, 1.0)[0]) == float(np.exp(-1.0))
    True
    """
    z = np.asarray(x, dtype=np.float64) / scale
    return shape / scale * z ** (shape - 1) * np.exp(-(z**shape))


#: ``ln`` of float64's smallest normal number and of (just below) its largest finite one.
LOG_NORMAL = (-1022 * math.log(2.0), 1024 * math.log(2.0) - 2.0**-52)


def quantile_of_hazard(t: Any, shape: float, scale: float, out: np.ndarray | None = None, *,
                       ascending: bool = False) -> np.ndarray:
    """The ``x`` with cumulative hazard ``t``: ``scale * t ** (1 / shape)`` (in ``out`` when given).

    Where ``t ** (1 / shape)`` alone would leave float64's normal range (a small shape over
    data spanning hundreds of orders of magnitude) although the quantiles lie inside it, they
    are computed as ``exp(log(t) / shape + log(scale))`` instead, so no representable value
    becomes 0 or inf; otherwise the direct power (the same numbers as always).
    ``ascending=True`` says ``t`` is sorted, so only its ends are looked at.

    Examples
    --------
    >>> quantile_of_hazard(np.array([1.0, 4.0]), 2.0, 3.0).tolist()
    [3.0, 6.0]
    >>> x = quantile_of_hazard(np.array([0.4, 1.0, 1.2]), 0.001, 1e200)  # 0.4 ** 1000 underflows
    >>> bool(np.all(x > 0) and np.all(np.isfinite(x))), float(x[1])
    (True, 1e+200)
    """
    t = np.asarray(t, dtype=np.float64)
    inverse = 1.0 / shape
    if t.size:
        low, high = (float(t.flat[0]), float(t.flat[-1])) if ascending else (float(t.min()), float(t.max()))
        if ((low > 0.0 and math.log(low) * inverse < LOG_NORMAL[0])
                or (high > 0.0 and math.isfinite(high) and math.log(high) * inverse > LOG_NORMAL[1])):
            with np.errstate(divide="ignore"):
                logged = np.log(t, out=out)
            logged *= inverse
            logged += math.log(scale)
            return np.exp(logged, out=logged)
    powered = np.power(t, inverse, out=out)
    powered *= scale
    return powered


def quantile(p: Any, shape: float, scale: float) -> np.ndarray:
    """Quantile function ``Q(p) = scale * (-ln(1 - p)) ** (1 / shape)``.

    Examples
    --------
    >>> p = cdf(np.array([0.5, 1.0, 4.0]), 1.7, 2.0)
    >>> bool(np.allclose(quantile(p, 1.7, 2.0), [0.5, 1.0, 4.0], rtol=1e-14))
    True
    """
    return quantile_of_hazard(-np.log1p(-np.asarray(p, dtype=np.float64)), shape, scale)


def plot_ordinates(p: Any, ctx: Any = None) -> Any:
    """The Weibull-plot ordinate ``y = ln(-ln(1 - p))`` (``ln(1 - p)`` as ``log1p(-p)``).

    A Weibull law's quantiles lie on ``y = shape (ln x - ln scale)``. ``ctx``: an
    :mod:`mpmath` context, to evaluate one ``p`` at its working precision instead of in
    float64.

    Examples
    --------
    >>> plot_ordinates(np.array([1 - np.exp(-1.0)])).tolist()  # -ln(1 - p) = 1
    [0.0]
    """
    if ctx is not None:
        return ctx.log(-ctx.log1p(-p))
    return np.log(-np.log1p(-np.asarray(p, dtype=np.float64)))


def plot_ordinate_slope(p: Any) -> np.ndarray:
    """``dy / dp = 1 / ((1 - p) (-ln(1 - p)))``, the derivative of :func:`plot_ordinates`.

    Examples
    --------
    >>> float(plot_ordinate_slope(np.array([1 - np.exp(-1.0)]))[0]) == float(np.exp(1.0))
    True
    """
    p = np.asarray(p, dtype=np.float64)
    return 1.0 / ((1.0 - p) * -np.log1p(-p))


def rank_ordinates(ranks: np.ndarray, first: float, a: float, negative_denom: float, out: np.ndarray) -> None:
    """Write :func:`plot_ordinates` of the plotting positions of the 1-based ranks
    ``first + ranks`` into ``out``: the hot loop of the probability plot.

    ``p_i = (i - a) / denom`` is formed as a plotting position is (the integer rank, minus
    ``a``, divided by ``denom = -negative_denom``), then ``ln(1 - p)`` as ``log1p(-p)`` below
    ``p = 1/2`` and as ``log(1 - p)`` from there, where ``1 - p`` is exact (Sterbenz) and the
    logarithm is as accurate and about twice as fast. ``ranks`` are ascending.

    Examples
    --------
    >>> out = np.empty(4)
    >>> rank_ordinates(np.arange(4.0), 1.0, 0.5, -4.0, out)
    >>> bool(np.allclose(out, plot_ordinates((np.arange(1, 5) - 0.5) / 4), rtol=1e-15, atol=0))
    True
    """
    np.add(ranks, first, out=out)
    out -= a
    out /= negative_denom
    # ranks with p < 1/2 come first; an index off by one either way keeps full accuracy
    split = min(out.size, max(0, math.ceil(-0.5 * negative_denom + a - first - float(ranks[0]))))
    low, high = out[:split], out[split:]
    np.log1p(low, out=low)
    high += 1.0
    np.log(high, out=high)
    np.negative(out, out=out)
    np.log(out, out=out)

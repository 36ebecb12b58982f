r"""Large-sample spread of the probability-plot fit, and histogram mode's boundary-bin bias.

Asymptotic standard deviation of the probability-plot fit
---------------------------------------------------------
Write the fit as a functional of the empirical quantile function ``Q_n``: with
``u(p) = ln Q_n(p)``, ``y(p) = ln(-ln(1 - p))`` and ``E f = (b - a)^{-1} \int_a^b f dp``,
the ``y_on_x`` shape is ``k = C / V`` (``C = Cov(u, y)``, ``V = Var u``) and
``ln scale = E u - E y / k``. The empirical quantile process satisfies
``sqrt(n) (Q_n(p) - Q(p)) -> -Q'(p) B(p)`` with ``B`` a Brownian bridge, so
``sqrt(n) du(p) -> -g(p) B(p)``, ``g = d ln Q / dp = 1 / (Q f(Q))``. Linearising,

* ``dk = E[du * w_k]`` with ``w_k = ((y - E y) - 2 k (u - E u)) / V`` (``y_on_x``) or
  ``w_k = -k (y - E y) / C`` (``x_on_y``, where ``k = V_y / C``);
* ``d ln scale = E[du * w_s]`` with ``w_s = 1 + E y w_k / k^2`` (``y_on_x``) or
  ``w_s = 1 - E y (y - E y) / V_y`` (``x_on_y``).

Each is ``int_0^1 h(p) B(p) dp / sqrt(n)`` with ``h = -g w / (b - a)`` on ``[a, b]`` and 0
outside. Writing ``B(p) = int_0^1 (1{s <= p} - p) dW(s)`` gives
``Var(int h B) = Var_{s ~ U(0,1)} G(s)``, ``G(s) = int_s^1 h(p) dp``: a one-dimensional
integral, evaluated here on a fine grid (trapezoid rule, 20001 points, relative error
below 1e-6 — ample for a standard error). The result is the ``sd`` in
``sd(shape) ~ sd_shape / sqrt(n)``; ``tests/test_anchors.py`` checks it against a seeded
simulation.

The ``O(1/n)`` biases of the other estimators, where derived, are declared in their own
modules (``PopulationHook.bias``) and evaluated by
:func:`weibull_stats.validation.anchors.finite_n_bias`.

Independence
------------
The standard deviations and biases here are what the estimators' own standard errors and the
simulations are checked against, so they are derived independently of the package's
mathematics: the plot ordinates come from :data:`scipy.stats.expon`
(:func:`independent_ordinates`), the linearisations are this module's own. Only
:func:`histogram_bias`, a model of the estimator's mean over its random choice of bins, uses
the estimator's own line and ordinates (:mod:`weibull_stats.weibull`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats
from scipy.special import ndtr

from weibull_stats.estimators.histogram import bin_log_midpoints, mid_bin_cdf, paper_edges
from weibull_stats.validation.anchors import bin_probabilities, histogram_limit
from weibull_stats.validation.populations import Population
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.lines import plot_line, weighted_moments

GRID = 20001


def independent_ordinates(p: np.ndarray) -> np.ndarray:
    """``ln(-ln(1 - p))`` as the logarithm of the unit exponential quantile, from
    :data:`scipy.stats.expon`: the derivations here check the estimators' standard errors
    and biases, so they do not use the package's own :func:`~weibull_stats.weibull.law.plot_ordinates`.

    Examples
    --------
    >>> independent_ordinates(np.array([1 - np.exp(-1.0)])).tolist()
    [0.0]
    """
    return np.log(stats.expon.ppf(np.asarray(p, dtype=np.float64)))


@dataclass(frozen=True, slots=True)
class AsymptoticSD:
    """``sd(shape) ~ shape_sd / sqrt(n)``, ``sd(ln scale) ~ log_scale_sd / sqrt(n)``."""

    shape_sd: float
    log_scale_sd: float


def _trapezoid(values: np.ndarray, p: np.ndarray) -> float:
    return float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(p)))


def _spread(h: np.ndarray, p: np.ndarray, low: float) -> float:
    """``sd`` over ``s ~ U(0, 1)`` of ``G(s) = int_s^1 h``, ``h`` given on ``p`` in [low, high]."""
    pieces = 0.5 * (h[1:] + h[:-1]) * np.diff(p)
    tail = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])  # G(p_j)
    total = tail[0]
    mean = low * total + _trapezoid(tail, p)
    second = low * total**2 + _trapezoid(tail * tail, p)
    return math.sqrt(max(second - mean * mean, 0.0))


@lru_cache(maxsize=128)
def probability_plot_sd(
    population: Population, trim: tuple[float, float] = (0.1, 0.9), direction: str = "y_on_x"
) -> AsymptoticSD:
    """Asymptotic standard deviations of the probability-plot shape and ln scale.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> sd = probability_plot_sd(HALFNORMAL)
    >>> 1.0 < sd.shape_sd < 3.0
    True
    """
    low, high = float(trim[0]), float(trim[1])
    p = np.linspace(low, high, GRID)
    u = np.log(population.quantile(p))
    y = independent_ordinates(p)  # an independent path: this sd checks the estimator's own errors
    width = high - low

    def mean(f: np.ndarray) -> float:
        return _trapezoid(f, p) / width

    eu, ey = mean(u), mean(y)
    du, dy = u - eu, y - ey
    var_u, var_y, cov = mean(du * du), mean(dy * dy), mean(du * dy)
    if direction == "y_on_x":
        k = cov / var_u
        w_shape = (dy - 2.0 * k * du) / var_u
        w_scale = 1.0 + ey * w_shape / k**2
    else:
        k = var_y / cov
        w_shape = -k * dy / cov
        w_scale = 1.0 - ey * dy / var_y
    g = population.dlog_quantile(p)
    shape_sd = _spread(-g * w_shape / width, p, low)
    scale_sd = _spread(-g * w_scale / width, p, low)
    return AsymptoticSD(shape_sd=shape_sd, log_scale_sd=scale_sd)


def _binned_line(
    u: np.ndarray, y: np.ndarray, w: np.ndarray, low: int, high: int, direction: str
) -> tuple[float, float]:
    """``(shape, ln scale)`` of the weighted Weibull-plot line through bins ``low..high``: the
    estimator's own line (:mod:`weibull_stats.weibull.lines`), as this predicts its mean."""
    m = weighted_moments(u[low : high + 1], y[low : high + 1], w[low : high + 1])
    shape, log_scale = plot_line(m.mean_u, m.mean_v, m.suu, m.svv, m.suv, direction)
    return float(shape), float(log_scale)


def histogram_bias(
    population: Population,
    sigma: float,
    n: int,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
    reach: float = 6.0,
) -> tuple[float, float]:
    """Finite-n bias of histogram mode from the random choice of the boundary bins.

    A bin is kept when its *empirical* mid-bin CDF lies in the trim window. When the exact
    mid-bin CDF ``m_i`` of a bin lies within a few standard errors
    ``s_i = sqrt(m_i (1 - m_i) / n)`` of a trim edge, sampling noise decides whether it is
    kept, and the expected fit is a mixture of the fits with and without it; the limit is
    only reached once ``sqrt(n) |m_i - edge|`` is large. This is an ``O(1/sqrt n)`` effect where
    an edge falls near a bin's mid-CDF (as it does at ``sigma = 0.02``: bin 687 has
    ``m = 0.1 - 1.75e-4``, kept with probability 0.28 at ``n = 10^6``).

    The first kept bin ``L`` satisfies ``P(L <= i) = Phi((m_i - a) / s_i)`` (the empirical
    mid-CDF is increasing in ``i``), the last ``U`` satisfies ``P(U >= j) = Phi((b - m_j) / s_j)``;
    the two edges are treated as independent, and each candidate fit uses the exact bin
    probabilities. Returns ``(E shape - limit shape, E scale - limit scale)``, scale relative
    to ``sigma``. The smooth ``O(1/n)`` bias of the counts is not included.
    """

    probs = np.asarray(bin_probabilities(population, float(sigma)), dtype=np.float64)
    weights = probs / probs.sum()
    mid = mid_bin_cdf(probs)
    u = bin_log_midpoints(paper_edges()) - math.log(sigma)
    inside = (weights > 0) & (mid > 0) & (mid < 1)
    y = np.full_like(mid, np.nan)
    y[inside] = plot_ordinates(mid[inside])
    se = np.sqrt(np.clip(mid * (1 - mid), 1e-300, None) / n)
    low_edge, high_edge = trim
    lows = np.flatnonzero(inside & (np.abs(mid - low_edge) <= reach * se))
    highs = np.flatnonzero(inside & (np.abs(mid - high_edge) <= reach * se))
    limit_low = int(np.flatnonzero(inside & (mid >= low_edge))[0])
    limit_high = int(np.flatnonzero(inside & (mid <= high_edge))[-1])
    # candidates: a contiguous run of bins through the one the limit keeps at each edge, plus
    # one more bin inward (kept when every candidate is dropped); mass beyond the reach is
    # given to the outermost candidate (its probability is below Phi(-reach))
    lows = np.arange(
        min(lows.min(initial=limit_low), limit_low), max(lows.max(initial=limit_low), limit_low) + 2
    )
    highs = np.arange(
        min(highs.min(initial=limit_high), limit_high) - 1, max(highs.max(initial=limit_high), limit_high) + 1
    )
    cdf_low = ndtr((mid[lows] - low_edge) / se[lows])
    cdf_low[-1] = 1.0
    p_low = np.diff(np.concatenate([[0.0], cdf_low]))
    keep_high = ndtr((high_edge - mid[highs]) / se[highs])
    keep_high[0] = 1.0
    p_high = keep_high - np.concatenate([keep_high[1:], [0.0]])
    mean_shape = mean_scale = 0.0
    for i, pl in zip(lows, p_low, strict=True):
        for j, ph in zip(highs, p_high, strict=True):
            if pl * ph == 0.0:
                continue
            shape, log_scale = _binned_line(u, y, weights, int(i), int(j), direction)
            mean_shape += pl * ph * shape
            mean_scale += pl * ph * math.exp(log_scale)
    limit_shape, limit_scale, _ = histogram_limit(population, sigma, trim, direction)
    return mean_shape - limit_shape, mean_scale - limit_scale


r"""Large-sample standard errors of the probability-plot fit, from the sample's own quantiles.

Derivation
----------
Inside the trim window the fit is a smooth function of the log order statistics
``u_r = ln x_(r)``, ``r = lo..hi`` (``m`` ranks), with fixed plot ordinates
``v_r = ln(-ln(1 - p_r))``. To first order ``d theta = sum_r c_r du_r`` with the exact
derivatives ``c_r = d theta / d u_r`` of the least-squares line (``S`` the centred sums over
the window, bars the window means):

* ``y_on_x`` (``k = S_uv / S_uu``): ``c_r = ((v_r - v_bar) - 2 k (u_r - u_bar)) / S_uu`` for the
  shape and ``1/m + v_bar c_r^shape / k^2`` for ``ln scale = u_bar - v_bar / k``;
* ``x_on_y`` (``k = S_vv / S_uv``): ``c_r = -k^2 (v_r - v_bar) / S_vv`` for the shape and
  ``1/m - v_bar (v_r - v_bar) / S_vv`` for ``ln scale = u_bar - v_bar / k``.

The quantile process gives ``u_r - ln Q(p_r) ~ g(p_r) (U_(r) - p_r)``, ``g = d ln Q / dp``,
with uniform order statistics of covariance ``p_r (1 - p_t) / n`` (``r <= t``), i.e. a
Brownian bridge ``B(p) = int (1{s <= p} - p) dW(s)``. Hence (as in
:mod:`weibull_stats.validation.asymptotic`, there on the population quantile function)

    ``Var(d theta) = Var_{s ~ U(0,1)} A(s) / n``,   ``A(s) = sum_{r: p_r >= s} c_r g(p_r)``.

Here ``g`` is not known: the population derivative is replaced by the sample's own
quantile function, ``g(p_r) dp ~ du`` between neighbouring ranks (``dp = 1 / D``,
``D = n + 1 - 2a``), so ``A`` is a Stieltjes sum against the empirical ``ln Q_n``:

    ``A(s) = D sum_{j: p_j >= s} c_bar_j (u_{j+1} - u_j)``,

summed over consecutive points of a grid of window ranks (``c_bar_j`` the mean of ``c`` at the
two ends), ``A`` linear in ``s`` between grid points, constant ``A(p_lo)`` below the window
and 0 above it. Var over ``s`` is then a sum of closed-form pieces. No density estimate is
needed: the integral of a smooth weight against the empirical quantile function converges
at rate ``1/sqrt(n)``, so the standard error is consistent with relative error
``O(n^{-1/2})``.

The grid is every window rank when the window has at most :data:`GRID` ranks, and
:data:`GRID` evenly spaced ranks otherwise (the sums are Riemann sums of smooth functions
of ``p``; the relative error of the variance from the grid is below ``1e-6`` at this size).
That makes the errors O(``GRID``) after the fit's own selection of the window (raw samples:
the window that :func:`~.order_window` sorted, read at the grid ranks; counts samples:
cumulative counts, O(distinct values)). Ties are handled by the same sum: within a run of
equal values ``du = 0`` and the whole jump sits at the run boundary.

Where it breaks down: small windows (the linearisation and the normal approximation; see
:mod:`weibull_stats.estimators._asymptotic`); heavy ties, where ``ln Q_n`` is a staircase
of a few steps and the fit moves in jumps as counts cross the trim edges; and untrimmed
ends (``trim[0] = 0`` or ``trim[1] = 1``), where the extreme order statistics, which are
not asymptotically normal, keep a share of the variance that shrinks only slowly with
``n`` (HalfNormal, ``n = 5000``, ``trim=(0, 1)``: the error is about 8% too large, against
1-2% for the middle 80%).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats.estimators._asymptotic import AsymptoticFit, distinct_in_ranks, distinct_sorted
from weibull_stats.estimators._core import Kernel, one_fit
from weibull_stats.estimators.probability_plot._lines import PLOTTING_POSITIONS, check_window, trim_window
from weibull_stats.estimators.probability_plot._raw import PARALLEL_MIN, order_window
from weibull_stats.sample.batch import Batch, RawRows
from weibull_stats.sample.checked import Sample
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.lines import plot_line, weighted_moments

#: Window ranks at which the quantile function is read (all of them in smaller windows).
GRID = 1 << 14

METHOD = "influence function on the sample quantile function (Brownian-bridge variance)"


def grid_ranks(lo: int, hi: int, size: int = GRID) -> np.ndarray:
    """Ascending 1-based ranks from ``lo`` to ``hi``: all of them, or ``size`` evenly spaced.

    Examples
    --------
    >>> grid_ranks(3, 7).tolist()
    [3, 4, 5, 6, 7]
    >>> grid_ranks(1, 1001, 5).tolist()
    [1, 251, 501, 751, 1001]
    """
    if hi - lo + 1 <= size:
        return np.arange(lo, hi + 1, dtype=np.int64)
    return np.unique(np.rint(np.linspace(lo, hi, size)).astype(np.int64))


def _spans(ranks: np.ndarray) -> np.ndarray:
    """Ranks each grid point stands for (1 each on the full grid; the weights sum to the window)."""
    if ranks.size < 2:
        return np.ones(ranks.size)
    gaps = np.diff(ranks).astype(np.float64)
    spans = np.empty(ranks.size)
    spans[0] = 0.5 * gaps[0] + 0.5
    spans[-1] = 0.5 * gaps[-1] + 0.5
    spans[1:-1] = 0.5 * (gaps[:-1] + gaps[1:])
    return spans


def bridge_variance(p: np.ndarray, jumps: np.ndarray) -> np.ndarray:
    """``Var_{s ~ U(0,1)} A(s)`` for ``A`` falling by ``jumps[..., j]`` linearly across
    ``[p_j, p_{j+1}]``, constant below ``p_0`` and 0 above the last point.

    Examples
    --------
    >>> # A = 1 on [0, 0.5], then 0: variance 1/4
    >>> float(bridge_variance(np.array([0.5, 0.5 + 1e-12]), np.array([1.0]))[()])
    0.25
    """
    tail = np.concatenate([np.cumsum(jumps[..., ::-1], axis=-1)[..., ::-1],
                           np.zeros((*jumps.shape[:-1], 1))], axis=-1)
    width = np.diff(p)
    left, right = tail[..., :-1], tail[..., 1:]
    first = p[0] * tail[..., 0] + (width * (left + right)).sum(axis=-1) / 2.0
    squares = left * left + left * right + right * right
    second = p[0] * tail[..., 0] ** 2 + (width * squares).sum(axis=-1) / 3.0
    return np.maximum(second - first * first, 0.0)


def quantile_process_se(
    n: int, ranks: np.ndarray, log_values: np.ndarray, plotting_position: str, direction: str
) -> tuple[float, float]:
    """``(se shape, se ln scale)`` of the probability-plot fit of a sample of ``n`` from the log
    order statistics ``log_values`` at the window grid ``ranks`` (see the module docstring).

    Examples
    --------
    >>> x = np.sort(np.random.default_rng(0).weibull(2.0, 4000))
    >>> ranks = np.arange(401, 3601)
    >>> se_shape, se_log_scale = quantile_process_se(4000, ranks, np.log(x[ranks - 1]), "hazen", "y_on_x")
    >>> 0.02 < se_shape < 0.05, 0.005 < se_log_scale < 0.02
    (True, True)
    """
    a = PLOTTING_POSITIONS[plotting_position]
    denom = n + 1 - 2 * a
    p = (ranks.astype(np.float64) - a) / denom
    u = np.asarray(log_values, dtype=np.float64)
    weights = _spans(ranks)
    m = float(weights.sum())
    # the weighted line's sums are pairwise sums of products, never `@`: BLAS threads dot
    # products above 10^4 elements, which is much slower on a busy machine (see _streaming)
    moments = weighted_moments(u, plot_ordinates(p), weights)
    du, dv = moments.du, moments.dv
    suu, svv, suv, mean_v = float(moments.suu), float(moments.svv), float(moments.suv), float(moments.mean_v)
    if not (suu > 0.0 and suv > 0.0):
        return math.nan, math.nan
    k = plot_line(moments.mean_u, mean_v, suu, svv, suv, direction)[0]
    if direction == "y_on_x":
        shape_weight = (dv - 2.0 * k * du) / suu
        scale_weight = 1.0 / m + mean_v * shape_weight / k**2
    else:
        shape_weight = -k * k * dv / svv
        scale_weight = 1.0 / m - mean_v * dv / svv
    c = np.stack([shape_weight, scale_weight])
    jumps = 0.5 * (c[:, :-1] + c[:, 1:]) * (denom * np.diff(u))
    variance = bridge_variance(p, jumps) / n
    return float(math.sqrt(variance[0])), float(math.sqrt(variance[1]))


def asymptotic_fit(
    kernel_function: Kernel,
    sample: Sample,
    /,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    plotting_position: str = "hazen",
    direction: str = "y_on_x",
) -> AsymptoticFit:
    """The probability-plot fit of ``sample`` by ``kernel_function`` (the package's kernel)
    with its large-sample standard errors.

    A raw sample's window is selected and sorted once (:func:`~.order_window`), the fit runs
    on that ordered window (the same numbers as :func:`~weibull_stats.fit_probability_plot`,
    bit for bit) and the errors read the same window at the grid ranks; a counts sample
    reads its cumulative counts. Options as :func:`~.check_options` gives them.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, 10_000)
    >>> from weibull_stats.estimators.probability_plot import probability_plot_kernel
    >>> res = asymptotic_fit(probability_plot_kernel, ws.as_sample(x))
    >>> res.fit == ws.fit_probability_plot(x), round(res.shape_se * 100, 1)
    (True, 1.5)
    """
    options: dict[str, Any] = {"trim": trim, "plotting_position": plotting_position, "direction": direction}
    n = sample.size
    lo, hi = trim_window(n, trim, plotting_position)
    check_window(n, lo, hi, trim, plotting_position)
    ranks = grid_ranks(lo, hi)
    if sample.magnitudes is not None:
        block = sample.magnitudes[None, :]
        block = block if sample.owned else block.copy()
        order_window(block, lo, hi, threads=n >= PARALLEL_MIN)
        ordered = RawRows(block, ordered=True)

        def kernel(_: Batch, /, **kernel_options: Any) -> Any:
            return kernel_function(ordered, **kernel_options)

        fit = one_fit("probability_plot", kernel, sample, options)
        log_values = np.log(block[0, ranks - 1], dtype=np.float64)
        distinct = distinct_sorted(block[0, lo - 1 : hi])
    else:
        assert sample.distinct is not None and sample.counts is not None
        fit = one_fit("probability_plot", kernel_function, sample, options)
        ends = np.cumsum(sample.counts)
        log_values = np.log(sample.distinct[np.searchsorted(ends, ranks, side="left")])
        distinct = distinct_in_ranks(ends, lo, hi)
    shape_se, log_scale_se = quantile_process_se(n, ranks, log_values, plotting_position, direction)
    return AsymptoticFit(fit, shape_se, log_scale_se, METHOD, distinct)

r"""Large-sample standard errors of histogram mode: the delta method on the bin counts.

Derivation
----------
The fit is a smooth function of the bin proportions ``pi_a = c_a / N``: each kept bin ``b``
enters with weight ``pi_b`` at ``(u_b, v_b)``, ``u_b`` its fixed log-midpoint and
``v_b = psi(F_b)``, ``psi(F) = ln(-ln(1 - F))``, ``F_b = sum_{a < b} pi_a + pi_b / 2`` its
mid-bin CDF. The counts are multinomial, so for any statistic ``theta(pi)``

    ``Var theta = (sum_a pi_a g_a^2 - (sum_a pi_a g_a)^2) / N``,   ``g_a = d theta / d pi_a``

(the multinomial covariance ``diag(pi) - pi pi'`` annihilates the direction in which the
extension of ``theta`` off the simplex is arbitrary). ``g_a`` has two channels, the weight
of bin ``a`` itself and its share in the ordinates of the bins above it:

    ``g_a = w_a + sum_{b > a} H_b + H_a / 2``,   ``H_b = (d theta / d v_b) psi'(F_b)``,

with, for the weighted least-squares line (``S`` the weighted centred sums, ``W`` the kept
mass, bars the weighted means, ``du = u - u_bar``, ``dv = v - v_bar``):

* ``y_on_x`` (``k = S_uv / S_uu``): ``w^k = (du dv - k du^2) / S_uu``,
  ``dk / dv_b = pi_b du_b / S_uu``; ``ln scale = u_bar - v_bar / k`` gives
  ``w^s = du / W - dv / (W k) + v_bar w^k / k^2`` and
  ``d ln scale / dv_b = -pi_b / (W k) + v_bar (dk / dv_b) / k^2``;
* ``x_on_y`` (slope ``b = S_uv / S_vv = 1 / k``): ``w^b = (du dv - b dv^2) / S_vv``,
  ``db / dv_b = pi_b (du_b - 2 b dv_b) / S_vv``, ``dk = -k^2 db``; ``ln scale = u_bar - b v_bar``
  gives ``w^s = du / W - v_bar w^b - b dv / W`` and ``d ln scale / dv_b = -v_bar (db / dv_b) - b pi_b / W``.

The set of kept bins is held fixed: O(bins) after the binning, whatever ``n``.

Where it breaks down: besides small samples, when a trim edge falls within a few standard
errors ``sqrt(F (1 - F) / N)`` of a bin's mid-CDF, the bin is kept or dropped at random and
the estimate jumps (see :func:`weibull_stats.validation.asymptotic.histogram_bias`); the
first-order error ignores that jump. Few bins in the window (coarse edges) make the fit a
function of a handful of counts.
"""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.estimators.histogram._bins import bin_log_midpoints, kept_bins, mid_bin_cdf
from weibull_stats.weibull.law import plot_ordinate_slope, plot_ordinates
from weibull_stats.weibull.lines import plot_line, weighted_moments

METHOD = "delta method on the multinomial bin counts (kept bins fixed)"


def histogram_se(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float],
                 direction: str) -> tuple[float, float]:
    """``(se shape, se ln scale)`` of the histogram fit of ``counts`` over log10 ``edges``.

    Examples
    --------
    >>> from weibull_stats.estimators.histogram import log10_histogram
    >>> h = log10_histogram(np.random.default_rng(0).weibull(1.5, 100_000))
    >>> se_shape, se_log_scale = histogram_se(h.counts, h.edges, (0.1, 0.9), "y_on_x")
    >>> round(se_shape * 100_000 ** 0.5, 1)  # the exact middle-80% fit: 1.5 (validation.asymptotic)
    1.5
    """
    c = np.asarray(counts, dtype=np.float64)
    total = float(c.sum())
    pi = c / total
    u = bin_log_midpoints(edges)
    f_mid = mid_bin_cdf(c, total)
    keep = kept_bins(c, f_mid, trim)
    f = np.where(keep, f_mid, 0.5)
    w = np.where(keep, pi, 0.0)
    moments = weighted_moments(u, plot_ordinates(f), w)
    mass, mean_v = float(moments.total), float(moments.mean_v)
    du, dv = np.where(keep, moments.du, 0.0), np.where(keep, moments.dv, 0.0)
    suu, svv, suv = float(moments.suu), float(moments.svv), float(moments.suv)
    k = plot_line(moments.mean_u, mean_v, suu, svv, suv, direction)[0]
    if direction == "y_on_x":
        weight_k = (du * dv - k * du * du) / suu
        ordinate_k = w * du / suu
        weight_s = du / mass - dv / (mass * k) + mean_v * weight_k / k**2
        ordinate_s = -w / (mass * k) + mean_v * ordinate_k / k**2
    else:
        slope = suv / svv
        weight_b = (du * dv - slope * dv * dv) / svv
        ordinate_b = w * (du - 2.0 * slope * dv) / svv
        weight_k, ordinate_k = -k * k * weight_b, -k * k * ordinate_b
        weight_s = du / mass - mean_v * weight_b - slope * dv / mass
        ordinate_s = -mean_v * ordinate_b - slope * w / mass
    dpsi = np.where(keep, plot_ordinate_slope(f), 0.0)
    out = []
    for weight, ordinate in ((weight_k, ordinate_k), (weight_s, ordinate_s)):
        h = ordinate * dpsi
        above = np.concatenate([np.cumsum(h[::-1])[::-1][1:], [0.0]])
        g = np.where(keep, weight, 0.0) + above + 0.5 * h
        mean = float(pi @ g)
        out.append(math.sqrt(max(float(pi @ (g * g)) - mean * mean, 0.0) / total))
    return out[0], out[1]
